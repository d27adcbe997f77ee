/*
 * The member names of a desired ingestion and the names of its creation
 * rules (internal; the Interpreter writes them, the graph writer reads
 * them): one string each, shared by address.
 *
 * A producer that names members with these strings (the Interpreter's
 * templates, interp/interpret.c) lets a reader that compares against the
 * same strings (graph/graph.c) tell a name by its address alone. A reader
 * still compares bytes when the address differs: a name read from JSON
 * or made by another step is equal by its bytes only.
 *
 * The rule: a member key at one of these addresses is that whole name
 * (its key_len is the name's length), so that the writer need not read
 * the length of a member named at a shared address; only code that
 * includes this header can break it. A rule value at a shared address is
 * still read with its length. The arrays' sizes count the terminating
 * NUL, so `sizeof(name) - 1` is a name's length.
 */
#ifndef SLUICE_VALUE_INGEST_NAMES_H
#define SLUICE_VALUE_INGEST_NAMES_H

/** "type": a node's or a relationship's type. */
extern const char sl_ing_type[5];
/** "labels": a node's additional types. */
extern const char sl_ing_labels[7];
/** "key": a node's or a relationship's key values. */
extern const char sl_ing_key[4];
/** "props": properties. */
extern const char sl_ing_props[6];
/** "rule": a creation rule. */
extern const char sl_ing_rule[5];
/** "outbound": a relationship's direction. */
extern const char sl_ing_outbound[9];
/** "node": a relationship's related node. */
extern const char sl_ing_node[5];
/** "source": the ingestion's source node. */
extern const char sl_ing_source[7];
/** "rels": the ingestion's relationships. */
extern const char sl_ing_rels[5];

/** "EAGER": the node and the relationship rule. */
extern const char sl_rule_eager[6];
/** "MATCH_ONLY": a node rule. */
extern const char sl_rule_match_only[11];
/** "FUZZY": a node rule. */
extern const char sl_rule_fuzzy[6];
/** "MERGE_KEY": a relationship rule. */
extern const char sl_rule_merge_key[10];
/** "CREATE": a relationship rule. */
extern const char sl_rule_create[7];

#endif /* SLUICE_VALUE_INGEST_NAMES_H */
