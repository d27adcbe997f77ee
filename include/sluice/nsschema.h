/*
 * sluice: the schema as Nodestream 0.16.1 models it, for `sluice print
 * schema` (src/cli/nscmd.c): what its `print schema` prints, byte for
 * byte, in its three formats.
 *
 * The model: an ordered list of graph object types, node and
 * relationship types interleaved in the order they were first named;
 * each with an ordered list of properties, each property with a type
 * (STRING unless said otherwise), whether it is a key and whether it is
 * indexed; and an ordered list of adjacencies (from node type,
 * relationship type, to node type) with the cardinality of each side.
 * Inference is Nodestream's: every property is STRING except
 * `last_ingested_at`, which every node and relationship type gets as an
 * indexed DATETIME; only an overrides file (sl_ns_schema_overrides())
 * gives other types.
 *
 * The expansion coordinator (struct sl_ns_coord) replays Nodestream's
 * SchemaExpansionCoordinator: the source node is bound through the alias
 * "source_node"; `properties` interpretations collect names on that
 * alias before it is bound; relationships are connected to the alias
 * and bound to a node type when a pass that itself assigns source nodes
 * ends (sl_ns_clear_aliases()); and every piece of that state is layered
 * (sl_ns_push() / sl_ns_pop()), so a pipeline, an Interpreter, a
 * multi-pass or a switch that assigns source nodes sees its own. The
 * walk over an Interpreter's interpretations is sl_ns_expand() in
 * sluice/interp.h.
 *
 * This container is separate from sluice/schema.h, which the graph
 * stores read for migrations and `sluice schema` prints; this one keeps
 * what Nodestream's printers need (the interleaved order, types,
 * cardinalities) and follows Nodestream's expansion to the letter,
 * including its quirks.
 */
#ifndef SLUICE_NSSCHEMA_H
#define SLUICE_NSSCHEMA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The alias Nodestream binds the source node type to. */
#define SL_NS_SOURCE_ALIAS "source_node"

/** Nodestream's PropertyType, in its order. */
enum sl_ns_ptype {
	SL_NS_STRING = 0,        /**< STRING */
	SL_NS_BOOLEAN,           /**< BOOLEAN */
	SL_NS_DATETIME,          /**< DATETIME */
	SL_NS_INTEGER,           /**< INTEGER */
	SL_NS_FLOAT,             /**< FLOAT */
	SL_NS_LIST_OF_STRINGS,   /**< LIST_OF_STRINGS */
	SL_NS_LIST_OF_BOOLEANS,  /**< LIST_OF_BOOLEANS */
	SL_NS_LIST_OF_DATETIMES, /**< LIST_OF_DATETIMES */
	SL_NS_LIST_OF_INTEGERS,  /**< LIST_OF_INTEGERS */
	SL_NS_LIST_OF_FLOATS,    /**< LIST_OF_FLOATS */
	SL_NS_PTYPE_COUNT,       /**< how many */
};

/** A property of a type. */
struct sl_ns_prop {
	/** Its name. */
	char *name;
	/** Its type. */
	enum sl_ns_ptype type;
	/** Whether it is part of the key. */
	bool is_key;
	/** Whether it is indexed. */
	bool is_indexed;
};

/** A node or relationship type (Nodestream's GraphObjectSchema). */
struct sl_ns_type {
	/** Whether it is a relationship type. */
	bool rel;
	/** Its name. */
	char *name;
	/** Its properties, in the order first added. */
	struct sl_ns_prop *props;
	/** Number of `props`. */
	uint32_t n_props;
};

/** That relationships of a type connect two node types. */
struct sl_ns_adj {
	/** The node type they start from. */
	char *from;
	/** The node type they point to. */
	char *to;
	/** The relationship type. */
	char *rel;
	/** Whether the cardinality is known (an overrides file may omit). */
	bool has_card;
	/** Whether the from side is MANY (else SINGLE). */
	bool from_many;
	/** Whether the to side is MANY (else SINGLE). */
	bool to_many;
};

/** A schema. */
struct sl_ns_schema {
	/** Node and relationship types, in the order first named. */
	struct sl_ns_type **types;
	/** Number of `types`. */
	uint32_t n_types;
	/** Adjacencies, in the order first added. */
	struct sl_ns_adj *adjs;
	/** Number of `adjs`. */
	uint32_t n_adjs;
};

/** The printers of `print schema --format`. */
enum sl_ns_format {
	SL_NS_PLAIN = 0,   /**< "plain": str(Schema) */
	SL_NS_GRAPHQL,     /**< "graphql": Neo4j GraphQL type definitions */
	SL_NS_CYPHERESQUE, /**< "cypheresque": one line per type */
};

/** Free what `s` holds; it is then empty. */
void sl_ns_schema_destroy(struct sl_ns_schema *s);

/** The type `name` (a relationship type if `rel`), added if new. NULL
 * with SL_EOOM. */
struct sl_ns_type *sl_ns_type_get(struct sl_ns_schema *s, bool rel,
                                  const char *name);

/**
 * Nodestream's add_property: a new property is appended; an existing one
 * takes `type` and keeps its flags or'ed with the given ones. 0, or -1
 * with SL_EOOM.
 */
int sl_ns_add_prop(struct sl_ns_type *t, const char *name,
                   enum sl_ns_ptype type, bool is_key, bool is_indexed);

/**
 * Nodestream's add_keys: fails (SL_EINVAL, as Nodestream raises) when `t`
 * has keys that are not the set `names`; otherwise adds each as a STRING
 * key. 0, or -1.
 */
int sl_ns_add_keys(struct sl_ns_type *t, const char *const *names, uint32_t n);

/** Nodestream's add_index: the property (added if absent) is indexed. */
int sl_ns_add_index(struct sl_ns_type *t, const char *name);

/** Nodestream's add_indexed_timestamp: last_ingested_at, an indexed
 * DATETIME. 0, or -1 with SL_EOOM. */
int sl_ns_add_timestamp(struct sl_ns_type *t);

/**
 * Add an adjacency, or set the cardinality of an existing one (its place
 * is kept). 0, or -1 with SL_EOOM.
 */
int sl_ns_add_adj(struct sl_ns_schema *s, const char *from, const char *to,
                  const char *rel, bool has_card, bool from_many, bool to_many);

/**
 * Merge the type overrides file at `path` into `s` as Nodestream's
 * `print schema --overrides` does: the file is a mapping with optional
 * `nodes` and `relationships` (lists of {name, properties: {NAME: {type,
 * is_key, is_indexed}}}) and `cardinalities` (a list of {adjacency:
 * {from_node_type, to_node_type, relationship_type}, cardinality:
 * {from_side_cardinality, to_side_cardinality}}). A property's type
 * replaces the inferred one and its flags are or'ed; new properties,
 * types and adjacencies are appended (types in file order, where
 * Nodestream's order for two or more new types depends on Python's
 * string hashing). 0, or -1 with an error naming file:line:column.
 */
int sl_ns_schema_overrides(struct sl_ns_schema *s, const char *path);

/** Append `s` printed in `format` to `out`, exactly the text Nodestream
 * writes. 0, or -1 with SL_EOOM or SL_ELIMIT (out's cap). */
int sl_ns_schema_print(const struct sl_ns_schema *s, enum sl_ns_format format,
                       struct sl_buf *out);

/** The format named `name` ("plain", "graphql", "cypheresque"), or -1. */
int sl_ns_format_parse(const char *name);

struct sl_ns_layer;

/** Nodestream's SchemaExpansionCoordinator (see the file comment). */
struct sl_ns_coord {
	/** The schema being expanded (not owned). */
	struct sl_ns_schema *schema;
	/** The project's include_additional_types. */
	bool include_additional_types;
	/** The layers, innermost last. */
	struct sl_ns_layer *layers;
	/** Number of `layers` (at least 1). */
	uint32_t n_layers;
	/** Every alias schema made (owned; layers point into it). */
	struct sl_ns_type **made;
	/** Number of `made`. */
	uint32_t n_made;
};

/** Start a coordinator on `schema` with one layer. 0, or -1 (SL_EOOM). */
int sl_ns_coord_create(struct sl_ns_coord *c, struct sl_ns_schema *schema,
                       bool include_additional_types);

/** Free what a coordinator holds (not the schema). */
void sl_ns_coord_destroy(struct sl_ns_coord *c);

/** Open a layer. 0, or -1 with SL_EOOM. */
int sl_ns_push(struct sl_ns_coord *c);

/** Close the innermost layer (never the first). */
void sl_ns_pop(struct sl_ns_coord *c);

/**
 * on_node_schema with a node type and the source alias: the node type
 * (made if new) gets the properties collected on the alias, and the
 * alias is bound to it in the innermost layer. The caller then applies
 * the source node's keys and properties to the returned type. NULL with
 * SL_EOOM.
 */
struct sl_ns_type *sl_ns_bind_source(struct sl_ns_coord *c,
                                     const char *node_type);

/**
 * on_node_schema with a property list and the source alias (a
 * `properties` interpretation); nothing for an empty list. 0, or -1.
 */
int sl_ns_alias_props(struct sl_ns_coord *c, const char *const *names,
                      uint32_t n);

/** Remember an adjacency to bind when aliases clear. 0, or -1. */
int sl_ns_connect(struct sl_ns_coord *c, const char *from_or_alias,
                  const char *to_or_alias, const char *rel, bool from_many,
                  bool to_many);

/**
 * register_additional_types: when additional types are included, relate
 * `types` to `main` in the innermost layer. 0, or -1 with SL_EOOM.
 */
int sl_ns_register_additional(struct sl_ns_coord *c, const char *main,
                              const char *const *types, uint32_t n);

/** clear_aliases: bind every remembered adjacency (and, with additional
 * types, copy them and the alias's properties). 0, or -1 with SL_EOOM. */
int sl_ns_clear_aliases(struct sl_ns_coord *c);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_NSSCHEMA_H */
