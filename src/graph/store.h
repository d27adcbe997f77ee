/*
 * sluice: the graph-store seam (internal to graph): what a kind of graph
 * store implements so that targets (target.h) can write to it. Each store
 * is one file that defines an ops table, plus one line in target.c's
 * list of stores (or a call to sl_graph_store_register()).
 *
 * Every operation is called from a task and may wait, letting other tasks
 * run. An operation a store lacks is NULL, with its capability flag
 * clear; target.c then fails it with an error naming the operation and
 * the store.
 *
 * The stores: null_store.c ("null:", sl_store_null_ops), sqlite_store.c
 * ("sqlite:PATH", sl_store_sqlite_ops), pg_store.c ("postgresql://",
 * "postgres://", sl_store_pg_ops) and neo4j_store.c ("bolt://",
 * "neo4j://" and their +s, +ssc forms; sl_store_neo4j_ops). Each says
 * its default write batch size (batch_default), which the writer uses
 * when none was asked for.
 *
 * Counts: what a store reports (struct sl_graph_counts) is what is
 * durably in the database, counted on commit, not on send. A store keeps
 * the counts of each open transaction apart (struct sl_write_tally, one
 * per transaction it may have open at once: the SQLite store's one, a
 * lane's) and adds them to its totals only when the COMMIT succeeds; on a
 * rollback, a failed COMMIT or a connection lost before its reply (unless
 * the store can tell that the COMMIT took effect, by its commit token),
 * they are dropped. A write that fails still reports the transactions it
 * committed before it failed (another lane's, an earlier phase's), so a
 * failed run reports what the database holds when it ends.
 */
#ifndef SLUICE_GRAPH_STORE_H
#define SLUICE_GRAPH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "sluice/buf.h"

struct sl_schema;

/** Called per exported object with its canonical JSON (no newline). */
typedef int (*sl_export_fn)(void *arg, const char *json, size_t len);

/** Called per migration a schema asks for: its name and whether the
 * store has it applied (same SQL). Non-zero stops. */
typedef int (*sl_mig_status_fn)(void *arg, const char *name, bool applied);

/** Operations a store may lack (bits of sl_graph_store_ops.caps). */
enum sl_graph_store_cap {
	SL_STORE_TTL = 1u << 0,     /**< deletes expired nodes and rels */
	SL_STORE_MIGRATE = 1u << 1, /**< applies schema migrations */
	SL_STORE_EXPORT = 1u << 2,  /**< streams the graph back */
};

/** A kind of graph store. */
struct sl_graph_store_ops {
	/** Name in messages ("sqlite"). */
	const char *name;
	/** URI prefixes it opens ("sqlite:"), ending with NULL. */
	const char *const *schemes;
	/** How its URIs are written, for messages ("sqlite:PATH"). */
	const char *usage;
	/** What it can do beyond writing (enum sl_graph_store_cap bits). */
	unsigned caps;
	/** Desired ingestions per write batch when none was asked for. */
	uint32_t batch_default;
	/**
	 * What the store cannot hold (enum sl_graph_cannot bits, graph.h):
	 * the writer refuses a desired ingestion holding such a value, as a
	 * bad record, before it reaches a batch (sl_target_check_args()).
	 */
	unsigned cannot;
	/**
	 * Open the store `uri` (one of `schemes`). The store, or NULL with
	 * an error (target.c adds the URI).
	 */
	void *(*open)(const char *uri);
	/**
	 * Open the store `uri` only to read it (export): create, set up and
	 * write nothing. NULL when the kind has none (`open` is used).
	 */
	void *(*open_ro)(const char *uri);
	/**
	 * Apply a batch (see graph.h). Adds to *st the counts of the writes
	 * that are committed when it returns, whether it succeeds or fails:
	 * this batch's and, for a store that keeps a transaction open across
	 * batches, those of earlier batches that this call committed (see
	 * "Counts" above). 0, or -1.
	 */
	int (*write)(void *store, const struct sl_graph_batch *b,
	             struct sl_graph_counts *st);
	/**
	 * Make ahead, on the calling thread, what writing batch `b` will
	 * need, while the store may still be writing the batch before; `b`
	 * does not change until it is written. Best effort: `write` does
	 * without it. NULL when the store has nothing to make ahead.
	 */
	void (*prepare)(void *store, const struct sl_graph_batch *b);
	/**
	 * Commit what the store holds uncommitted and add to *st the counts
	 * of writes committed since the last `write` or `commit` reported
	 * (a TTL deletion, for one, commits the open transaction). NULL when
	 * the store commits every batch within `write`. 0, or -1 (what was
	 * uncommitted is rolled back and not counted).
	 */
	int (*commit)(void *store, struct sl_graph_counts *st);
	/**
	 * Delete the nodes (with their relationships) when `nodes`, else
	 * the relationships, of type `type` whose last_ingested_at is before
	 * `cutoff` (ISO 8601 UTC text); *deleted counts them. NULL unless
	 * SL_STORE_TTL. 0, or -1.
	 */
	int (*ttl)(void *store, bool nodes, const char *type,
	           const char *cutoff, uint64_t *deleted);
	/**
	 * Apply the migrations `schema` asks for; *applied and *kept count
	 * them. NULL unless SL_STORE_MIGRATE. 0, or -1.
	 */
	int (*migrate)(void *store, const struct sl_schema *schema,
	               uint32_t *applied, uint32_t *kept);
	/**
	 * Report each migration `schema` asks for to `fn`, applied or
	 * pending, changing nothing. NULL when the store cannot tell. 0,
	 * or -1.
	 */
	int (*migrations)(void *store, const struct sl_schema *schema,
	                  sl_mig_status_fn fn, void *arg);
	/**
	 * Stream the graph in canonical JSON, nodes first (see
	 * sqlite_store.h for the form); stops at the first non-zero return
	 * of `fn` (-1). NULL unless SL_STORE_EXPORT. 0, or -1.
	 */
	int (*export_graph)(void *store, sl_export_fn fn, void *arg);
	/**
	 * Start keeping checkpoint positions under `key` (a text of at
	 * most 511 bytes): put the position last committed under it in *out
	 * (reset first) and return 1, or 0 if there is none. From then on
	 * the store commits only on `commit` (never on its own between
	 * batches), so that what it committed is always what the last
	 * position put says. NULL when the store cannot keep positions
	 * (with `progress_put`). -1 with an error.
	 */
	int (*progress_get)(void *store, const char *key, struct sl_buf *out);
	/**
	 * Put position text `pos` under `key`, in the transaction that the
	 * next `commit` commits with the writes before it. 0, or -1.
	 */
	int (*progress_put)(void *store, const char *key, const char *pos);
	/**
	 * Roll back what is not committed (a store keeping positions, when
	 * a run stops or fails: the writes after the last position are done
	 * again when it resumes). 0, or -1.
	 */
	int (*rollback)(void *store);
	/**
	 * Close and free the store, committing pending writes first (their
	 * counts are not reported: the writer calls `commit` before). 0, or
	 * -1.
	 */
	int (*close)(void *store);
};

/** The null store: "null:" discards every write. */
extern const struct sl_graph_store_ops sl_store_null_ops;
/** The SQLite store (sqlite_store.h). */
extern const struct sl_graph_store_ops sl_store_sqlite_ops;
/** The PostgreSQL store (pg_store.h). */
extern const struct sl_graph_store_ops sl_store_pg_ops;
/** The Neo4j store over Bolt (neo4j_store.h). */
extern const struct sl_graph_store_ops sl_store_neo4j_ops;

/**
 * Add a kind of store after the built-in ones (a plugin's, a test's): it
 * is tried for URIs no earlier store takes. Not thread-safe: call before
 * targets are opened. 0, or -1 with SL_ELIMIT when the list is full.
 */
int sl_graph_store_register(const struct sl_graph_store_ops *ops);

/**
 * Register a store for each plugin graph target (sluice/plugin.h) not
 * registered yet (plugin_store.c); call after loading plugins. 0, or -1
 * with an error (SL_ELIMIT past sl_graph_store_register()'s list).
 */
int sl_graph_plugin_stores_register(void);

#endif /* SLUICE_GRAPH_STORE_H */
