/*
 * sluice: the graph schema a pipeline's interpreters describe: node types
 * with their keys, properties, indexes and additional types, relationship
 * types with their keys and properties, and which node types each
 * relationship type connects. Types given by a provider (not written in
 * the file) are not known before a run and do not appear, as in
 * Nodestream.
 *
 * The container lives with the pipeline layer so that both the
 * interpreter, which fills it (sl_schema_expand() in sluice/interp.h), and
 * the graph stores, which read it for migrations, may use it.
 */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A list of names (owned), in the order first seen, without repeats. */
struct sl_names {
	/** The names (NUL-terminated). */
	char **v;
	/** How many. */
	uint32_t n;
};

/** A node type. */
struct sl_schema_node {
	/** The type. */
	char *type;
	/** Key property names. */
	struct sl_names keys;
	/** Other property names (the automatic ones included). */
	struct sl_names props;
	/** Properties to index besides the key (additional_indexes). */
	struct sl_names indexes;
	/** Additional types nodes of this type get. */
	struct sl_names labels;
};

/** A relationship type. */
struct sl_schema_rel {
	/** The type. */
	char *type;
	/** Key property names. */
	struct sl_names keys;
	/** Other property names. */
	struct sl_names props;
};

/** That relationships of a type go from one node type to another. */
struct sl_schema_adj {
	/** The node type they start from. */
	char *from;
	/** The relationship type. */
	char *rel;
	/** The node type they point to. */
	char *to;
};

/** A schema. */
struct sl_schema {
	/** Node types, in the order first seen. */
	struct sl_schema_node *nodes;
	/** Number of node types. */
	uint32_t n_nodes;
	/** Relationship types. */
	struct sl_schema_rel *rels;
	/** Number of relationship types. */
	uint32_t n_rels;
	/** Adjacencies. */
	struct sl_schema_adj *adjs;
	/** Number of adjacencies. */
	uint32_t n_adjs;
};

/** Output formats of sl_schema_print(). */
enum sl_schema_format {
	SL_SCHEMA_PLAIN = 0, /**< indented text */
	SL_SCHEMA_JSON,      /**< one JSON object */
	SL_SCHEMA_DOT,       /**< Graphviz: node types as records */
};

/** Free what a schema holds (it may then be reused empty). */
void sl_schema_destroy(struct sl_schema *s);

/** The node type `type`, added if new; NULL with SL_EOOM. */
struct sl_schema_node *sl_schema_node(struct sl_schema *s, const char *type);

/** The relationship type `type`, added if new; NULL with SL_EOOM. */
struct sl_schema_rel *sl_schema_rel(struct sl_schema *s, const char *type);

/** Add an adjacency if new. 0, or -1 with SL_EOOM. */
int sl_schema_adj(struct sl_schema *s, const char *from, const char *rel,
                  const char *to);

/** Free the names of `l` (it is then empty). */
void sl_names_destroy(struct sl_names *l);

/** Add `name` to `l` if new. 0, or -1 with SL_EOOM. */
int sl_names_add(struct sl_names *l, const char *name);

/** Print `s` in `format` to `out`. 0, or -1 when writing fails. */
int sl_schema_print(const struct sl_schema *s, enum sl_schema_format format,
                    FILE *out);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_SCHEMA_H */
