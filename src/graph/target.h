/*
 * sluice: graph targets (internal to graph): where the writer's batches
 * go, named by a URI:
 *
 *   sqlite:PATH     the embedded SQLite store (graph/sqlite_store.h), on
 *                   a database-layer connection and its worker thread
 *   postgresql://   the PostgreSQL store (graph/pg_store.h)
 *   null:           discards every write (dry runs, benchmarks)
 *
 * The URI picks a kind of store (graph/store.h); every call is forwarded
 * to it. An operation the store lacks fails with SL_EINVAL naming the
 * operation and the store. Every call is made from a task and waits for
 * the target, letting other tasks run. Export (`sluice export TARGET`,
 * sl_graph_export()) streams the store as canonical JSON lines, nodes then
 * relationships joined to their endpoints' types and keys, to stdout.
 */
#ifndef SLUICE_GRAPH_TARGET_H
#define SLUICE_GRAPH_TARGET_H

#include "graph.h"
#include "store.h"

/** An open target (opaque). */
struct sl_target;

/**
 * Open the target `uri`. NULL with an error naming the URI (without any
 * password) and what is wrong: an unknown scheme lists the known ones.
 */
struct sl_target *sl_target_open(const char *uri);

/**
 * Open the target `uri` as sl_target_open() does, only to read it
 * (sl_target_export()): a store that can opens it read-only, creating
 * and changing nothing. NULL with an error.
 */
struct sl_target *sl_target_open_ro(const char *uri);

/** The target's URI as it may be shown (no password). */
const char *sl_target_name(const struct sl_target *t);

/** Desired ingestions per write batch when none was asked for. */
uint32_t sl_target_batch_default(const struct sl_target *t);

/**
 * What a desired ingestion is checked against before it is batched
 * (sl_graph_check()), which outlives `t` (for checks on other threads):
 * the bits the store cannot hold and the store's name.
 */
void sl_target_check_args(const struct sl_target *t, unsigned *cannot,
                          const char **store);

/**
 * Apply a batch (see graph.h). The counts of what is committed when it
 * returns are added to *st, also when it fails (store.h, "Counts"). 0,
 * or -1.
 */
int sl_target_write(struct sl_target *t, const struct sl_graph_batch *b,
                    struct sl_graph_counts *st);

/**
 * Let the target make ahead what writing `b` needs (the store's
 * `prepare`, if it has one), while it may still write the batch before.
 * `b` must not change until it is written.
 */
void sl_target_prepare(struct sl_target *t, const struct sl_graph_batch *b);

/**
 * Commit what the target holds uncommitted (a store that groups batches
 * into one transaction) and add the counts of what is newly committed to
 * *st. 0 at once for a store that commits every batch. 0, or -1 (the
 * uncommitted writes are rolled back and not counted).
 */
int sl_target_commit(struct sl_target *t, struct sl_graph_counts *st);

/**
 * Delete the nodes (with their relationships) when `nodes`, else the
 * relationships, of type `type` whose last_ingested_at is before `cutoff`
 * (ISO 8601 UTC text, as the Interpreter writes it). *deleted counts them.
 * 0, or -1.
 */
int sl_target_ttl(struct sl_target *t, bool nodes, const char *type,
                  const char *cutoff, uint64_t *deleted);

/**
 * Report the migrations `schema` asks for, applied or pending (store.h's
 * `migrations`); fails naming the target when its store cannot tell.
 */
int sl_target_migrations(struct sl_target *t, const struct sl_schema *schema,
                         sl_mig_status_fn fn, void *arg);

/**
 * Apply the migrations `schema` asks for (see sqlite_store.h); *applied
 * and *kept count them. A null target has none. 0, or -1.
 */
int sl_target_migrate(struct sl_target *t, const struct sl_schema *schema,
                      uint32_t *applied, uint32_t *kept);

/**
 * Stream the graph in canonical JSON (see sqlite_store.h). `fn` may run on
 * another thread (one call at a time). 0, or -1.
 */
int sl_target_export(struct sl_target *t, sl_export_fn fn, void *arg);

/**
 * Start keeping checkpoint positions under `key` (store.h's
 * `progress_get`): 1 with the last committed one in *out, 0 if none, or
 * 2 when the target cannot keep positions. -1 with an error.
 */
int sl_target_progress_get(struct sl_target *t, const char *key,
                           struct sl_buf *out);

/**
 * Put position `pos` under `key`, committed with the writes before it by
 * the next sl_target_commit(). 0, or -1.
 */
int sl_target_progress_put(struct sl_target *t, const char *key,
                           const char *pos);

/**
 * Roll back what the target holds uncommitted (store.h's `rollback`; 0 at
 * once for a store without one). 0, or -1.
 */
int sl_target_rollback(struct sl_target *t);

/** Close and free the target (NULL is a no-op). 0, or -1 with an error. */
int sl_target_close(struct sl_target *t);

#endif /* SLUICE_GRAPH_TARGET_H */
