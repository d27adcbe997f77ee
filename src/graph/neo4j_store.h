/*
 * sluice: the Neo4j graph store (internal to graph): batches written as
 * Cypher over Bolt through the database layer (sluice/db.h), APOC-free.
 *
 * URIs: bolt://, bolt+s://, bolt+ssc://, neo4j://, neo4j+s://,
 * neo4j+ssc:// as the database layer takes them
 * ("bolt://user:pass@host:7687/dbname"), plus the store's own query
 * parameters, removed before the URI reaches the driver:
 *   chunk_size=N    rows per transaction (default 1000);
 *   enterprise=B    key constraints as IS NODE KEY (true/false, 1/0);
 *   connections=N   most connections at once (default 4, at most 16).
 *
 * A batch is split into buckets of one shape (sl_neo4j_plan_make()):
 * nodes by (rule, type, key names, extra labels), relationships by (rule,
 * type, key names, each end's type, key names and fuzziness). Each bucket
 * is one statement (cypher.h) sent with its rows in transactions of
 * chunk_size rows. Node buckets run first, then relationship buckets;
 * within a phase the buckets run concurrently on up to `connections`
 * connections of a pool. A chunk whose connection is lost, or that fails
 * with Neo.TransientError.* (deadlocks), is written again with backoff
 * (0.1 s doubling to 5 s, for up to 120 s); Neo.ClientError.* fails the
 * batch. A chunk of CREATE relationships records a commit token in its
 * transaction so a retry after a lost COMMIT reply writes nothing twice.
 * Key names per type are kept in registry nodes for the export. Details:
 * docs/storage.md, "Neo4j".
 */
#ifndef SLUICE_GRAPH_NEO4J_STORE_H
#define SLUICE_GRAPH_NEO4J_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cypher.h"
#include "graph.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "store.h"

/** Most connections a store uses. */
#define SL_NEO4J_CONNS_MAX 16

/** The store's own options, read from its URI. */
struct sl_neo4j_opts {
	/** Rows per transaction (chunk_size=; default 1000). */
	uint32_t chunk;
	/** Key constraints as IS NODE KEY (enterprise=). */
	bool enterprise;
	/** Most connections at once (connections=; default 4). */
	unsigned conns;
};

/**
 * Split `uri` into the URI for the driver (written to out[0..size), the
 * store's parameters removed) and the store's options. 0, or -1 with
 * SL_EINVAL (a bad value, named) or SL_ELIMIT (too long).
 */
int sl_neo4j_uri_split(const char *uri, char *out, size_t size,
                       struct sl_neo4j_opts *o);

/** A bucket: writes of one shape, sent as one statement. */
struct sl_neo4j_bucket {
	/** Whether it holds relationship writes (else node writes). */
	bool rel;
	/** The shape of a node bucket. */
	struct sl_cy_node node;
	/** The shape of a relationship bucket. */
	struct sl_cy_rel shape;
	/** Indexes of its writes in the batch, in batch order. */
	uint32_t *ops;
	/** Number of `ops`. */
	uint32_t n;
};

/** A batch split into buckets. */
struct sl_neo4j_plan {
	/** The buckets: node buckets first. */
	struct sl_neo4j_bucket *buckets;
	/** Number of buckets. */
	uint32_t n;
	/** Number of node buckets (the first ones). */
	uint32_t n_node;
	/** Memory of the shapes and indexes (reset per plan). */
	struct sl_arena arena;
};

/** Initialise an empty plan. */
void sl_neo4j_plan_create(struct sl_neo4j_plan *p);

/** Free what a plan holds. */
void sl_neo4j_plan_destroy(struct sl_neo4j_plan *p);

/**
 * Split batch `b` into buckets (the plan is emptied first). The shapes
 * refer to names in the batch's arena. 0, or -1 with SL_EINVAL (a write
 * whose type or key is malformed, named by position) or SL_EOOM/SL_ELIMIT.
 */
int sl_neo4j_plan_make(struct sl_neo4j_plan *p, const struct sl_graph_batch *b);

/**
 * A value as Neo4j can store it as a property, built in `a` when it has
 * to change: numbers kept as text become numbers; an object becomes its
 * canonical JSON text; a list of integers and floats becomes floats; a
 * list holding null, lists, objects, or values of different kinds becomes
 * its canonical JSON text. 0, or -1 with an error.
 */
int sl_neo4j_prop(struct sl_arena *a, const struct sl_value *in,
                  struct sl_value *out);

/**
 * An object of properties with each value made storable
 * (sl_neo4j_prop()); a null object becomes empty. 0, or -1.
 */
int sl_neo4j_props(struct sl_arena *a, const struct sl_value *in,
                   struct sl_value *out);

/** An open Neo4j store (opaque). */
struct sl_store_neo4j;

/** Connect (see the URI forms above). NULL with an error. */
struct sl_store_neo4j *sl_store_neo4j_open(const char *uri);

/** Set how long a chunk keeps retrying (seconds; default 120). */
void sl_store_neo4j_set_retry(struct sl_store_neo4j *s, double seconds);

/**
 * Test hook: the `n`th commit from now (1: the next) succeeds on the
 * server, but the store is told its connection was lost before the reply.
 * 0 turns it off.
 */
void sl_store_neo4j_fault_lose_commit(struct sl_store_neo4j *s, uint64_t n);

/**
 * Write a batch (store.h). Counts are made on commit: *st gets those of
 * every chunk transaction that committed, also when the write fails; a
 * chunk whose COMMIT failed, or whose reply was lost and whose commit
 * token does not show it, counts nothing. 0, or -1.
 */
int sl_store_neo4j_write(struct sl_store_neo4j *s,
                         const struct sl_graph_batch *b,
                         struct sl_graph_counts *st);

/** Close: delete this store's commit tokens, close the connections. */
void sl_store_neo4j_close(struct sl_store_neo4j *s);

#endif /* SLUICE_GRAPH_NEO4J_STORE_H */
