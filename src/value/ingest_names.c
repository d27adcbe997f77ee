/*
 * The member and rule names of a desired ingestion, one string each
 * (value/ingest_names.h).
 */
#include "value/ingest_names.h"

const char sl_ing_type[5] = "type";
const char sl_ing_labels[7] = "labels";
const char sl_ing_key[4] = "key";
const char sl_ing_props[6] = "props";
const char sl_ing_rule[5] = "rule";
const char sl_ing_outbound[9] = "outbound";
const char sl_ing_node[5] = "node";
const char sl_ing_source[7] = "source";
const char sl_ing_rels[5] = "rels";

const char sl_rule_eager[6] = "EAGER";
const char sl_rule_match_only[11] = "MATCH_ONLY";
const char sl_rule_fuzzy[6] = "FUZZY";
const char sl_rule_merge_key[10] = "MERGE_KEY";
const char sl_rule_create[7] = "CREATE";
