/*
 * sluice: the Cypher statements of the Neo4j store (internal to graph),
 * APOC-free: the text is fixed per bucket of writes of one shape, and
 * every value travels as a parameter.
 *
 * A write statement runs over a list of rows, `UNWIND $rows AS params`;
 * the row layout (built by neo4j_store.c) is
 *
 *   node:         {"i": N, "k": {key...}, "p": {props...}}
 *   relationship: {"i": N, "f": {from key...}, "t": {to key...},
 *                  "k": {rel key...}, "p": {props...}}
 *
 * where `i` is the row's position (read only by statements that may match
 * several nodes per row, to count the rows that matched any). Examples
 * (names always backtick-quoted, a backtick in a name doubled):
 *
 *   EAGER node, keys a and b, extra label X:
 *     UNWIND $rows AS params MERGE (node:`T` {`a`: params.k.`a`, `b`:
 *     params.k.`b`}) SET node:`X` SET node += params.p
 *     RETURN count(*) AS matches
 *   MATCH_ONLY: MATCH (node:`T`) WHERE node.`a` = params.k.`a` AND ...
 *   FUZZY: the same with =~ (nothing is created), and RETURN
 *     count(DISTINCT params.i) AS writes, count(*) AS matches
 *   relationship (EAGER, MERGE_KEY; CREATE writes CREATE):
 *     UNWIND $rows AS params MATCH (from_node:`A`) WHERE from_node.`k`
 *     = params.f.`k` MATCH (to_node:`B`) WHERE to_node.`k` = params.t.`k`
 *     MERGE (from_node)-[rel:`R` {`x`: params.k.`x`}]->(to_node)
 *     SET rel += params.p RETURN count(*) AS matches
 *
 * `SET += map` merges, and a null value in the map removes the property
 * (Nodestream's semantics, graph.h). "matches" counts the nodes or
 * relationships touched; "writes" (fuzzy statements only) the rows that
 * matched at least one. The store reads creations from the summary
 * counters (nodes-created, relationships-created).
 *
 * TTL, migrations (Nodestream's constraint and index names) and the
 * export queries are below. Every function appends to `out` (reset
 * first) and returns 0, or -1 with SL_EINVAL (an empty name, or a name
 * holding a NUL byte) or the buffer's error (SL_ELIMIT, SL_EOOM).
 */
#ifndef SLUICE_GRAPH_CYPHER_H
#define SLUICE_GRAPH_CYPHER_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "sluice/buf.h"
#include "sluice/value.h"

/** Label of the commit-token nodes (see neo4j_store.c). */
#define SL_CY_COMMIT_LABEL "__SluiceCommit__"
/** Label of the key-name registry nodes (see neo4j_store.c). */
#define SL_CY_TYPE_LABEL "__SluiceType__"

/** The shape of a bucket of node writes: what its statement depends on. */
struct sl_cy_node {
	/** The node type (a string value). */
	struct sl_value type;
	/** Key names (string values), sorted. */
	const struct sl_value *keys;
	/** Number of `keys`. */
	uint32_t n_keys;
	/** Extra labels (string values). */
	const struct sl_value *labels;
	/** Number of `labels`. */
	uint32_t n_labels;
	/** Creation rule. */
	enum sl_node_rule rule;
};

/** One end of a relationship bucket: how its node is matched. */
struct sl_cy_end {
	/** The node type (a string value). */
	struct sl_value type;
	/** Key names (string values), sorted. */
	const struct sl_value *keys;
	/** Number of `keys`. */
	uint32_t n_keys;
	/** Whether key values are regular expressions (=~). */
	bool fuzzy;
};

/** The shape of a bucket of relationship writes. */
struct sl_cy_rel {
	/** The relationship type (a string value). */
	struct sl_value type;
	/** Key names (string values), sorted. */
	const struct sl_value *keys;
	/** Number of `keys`. */
	uint32_t n_keys;
	/** Creation rule. */
	enum sl_rel_rule rule;
	/** The node it starts from. */
	struct sl_cy_end from;
	/** The node it points to. */
	struct sl_cy_end to;
};

/** Append `name` (`n` bytes) as a backtick-quoted Cypher name. */
int sl_cy_name(struct sl_buf *out, const char *name, size_t n);

/** Whether a node statement of `shape` returns the "writes" column. */
bool sl_cy_node_counts_writes(const struct sl_cy_node *shape);

/** Whether a relationship statement of `shape` returns "writes". */
bool sl_cy_rel_counts_writes(const struct sl_cy_rel *shape);

/** The write statement of a bucket of node writes. */
int sl_cy_node_stmt(struct sl_buf *out, const struct sl_cy_node *shape);

/** The write statement of a bucket of relationship writes. */
int sl_cy_rel_stmt(struct sl_buf *out, const struct sl_cy_rel *shape);

/**
 * The TTL statement for node type (`nodes`) or relationship type `type`:
 * delete those whose last_ingested_at is before $cutoff, $n per inner
 * transaction (send it as an auto-commit query):
 *   MATCH (x:`T`) WHERE x.last_ingested_at < $cutoff
 *   CALL { WITH x DETACH DELETE x } IN TRANSACTIONS OF $n ROWS
 * (relationships: MATCH ()-[x:`T`]->() ... DELETE x).
 */
int sl_cy_ttl(struct sl_buf *out, bool nodes, const char *type);

/**
 * The name of node type `type`'s key constraint, `<type>_node_key`
 * (unquoted, as SHOW CONSTRAINTS lists it).
 */
int sl_cy_constraint_name(struct sl_buf *out, const char *type);

/**
 * The key constraint of node type `type` with key names `keys` (n > 0,
 * sorted here):
 *   CREATE CONSTRAINT `T_node_key` IF NOT EXISTS FOR (n:`T`)
 *   REQUIRE (n.`a`, n.`b`) IS UNIQUE
 * (IS NODE KEY when `enterprise`).
 */
int sl_cy_constraint(struct sl_buf *out, const char *type,
                     const char *const *keys, uint32_t n, bool enterprise);

/**
 * The name of the index on property `prop` of type `type`,
 * `<type>_<prop>_additional_index` (unquoted).
 */
int sl_cy_index_name(struct sl_buf *out, const char *type, const char *prop);

/**
 * The index on property `prop` of node type (`rel` false) or
 * relationship type `type`:
 *   CREATE INDEX `T_p_additional_index` IF NOT EXISTS FOR (n:`T`)
 *   ON (n.`p`)
 * (relationships: FOR ()-[r:`T`]-() ON (r.`p`)).
 */
int sl_cy_index(struct sl_buf *out, bool rel, const char *type,
                const char *prop);

/**
 * Write the registry entries of the types a batch uses, from $types, a
 * list of {"kind": "node"|"rel", "type", "from", "to", "keys": [...]}
 * (from and to are "" for nodes): one registry node per (kind, type,
 * from, to), whose `keys` become the union of the stored and given ones.
 */
extern const char sl_cy_registry_write[];

/** Read the registry: kind, type, from, to, keys per row. */
extern const char sl_cy_registry_read[];

/** Record commit token $token (inside the transaction it marks). */
extern const char sl_cy_token_put[];

/** Count the commit tokens equal to $token (column "n"). */
extern const char sl_cy_token_get[];

/** Delete the commit token $token. */
extern const char sl_cy_token_del[];

/** Delete every commit token starting with $prefix. */
extern const char sl_cy_token_del_prefix[];

/** Export the nodes of type `type`: labels, props per row. */
int sl_cy_export_nodes(struct sl_buf *out, const char *type);

/**
 * Export the relationships of type `type` from nodes of type `from` to
 * nodes of type `to`: from_props, to_props, props per row.
 */
int sl_cy_export_rels(struct sl_buf *out, const char *type, const char *from,
                      const char *to);

#endif /* SLUICE_GRAPH_CYPHER_H */
