/*
 * sluice: the PostgreSQL graph store (internal to graph): the schema of
 * the SQLite store with JSONB, written through the database layer.
 *
 * A batch is written in two phases, nodes then relationships, each
 * committed before the next starts. Each phase is split into lanes by the
 * hash of what it writes (a node's type and key, a relationship's
 * identity); every lane has a connection of its own and writes its part in
 * one transaction: COPY into a staging table, then set-based UPDATE and
 * INSERT ... ON CONFLICT. No two lanes touch the same row. A lane whose
 * connection is lost reconnects with backoff and writes its part again
 * (upserts are idempotent).
 *
 * Every call is made from a task and yields while the server works.
 */
#ifndef SLUICE_GRAPH_PG_STORE_H
#define SLUICE_GRAPH_PG_STORE_H

#include "graph.h"
#include "sqlite_store.h"

/** An open PostgreSQL store (opaque). */
struct sl_pg_store;

/** Most lanes a store uses. */
#define SL_PG_LANES_MAX 16

/**
 * Connect to `uri` (postgresql://...), create the schema if missing and
 * check its version. NULL with an error that shows the URI without its
 * password.
 */
struct sl_pg_store *sl_pg_store_open(const char *uri);

/** Set the lanes (1..SL_PG_LANES_MAX; default 4). */
void sl_pg_store_set_lanes(struct sl_pg_store *s, unsigned lanes);

/**
 * Set how long a lane keeps retrying after its connection was lost
 * before the write fails (seconds; default 120).
 */
void sl_pg_store_set_retry(struct sl_pg_store *s, double seconds);

/**
 * Test hook: the `n`th lane commit from now (1: the next) succeeds on the
 * server, but the lane is told its connection was lost before the reply,
 * as when the network fails at that moment. 0 turns it off.
 */
void sl_pg_store_fault_lose_commit(struct sl_pg_store *s, uint64_t n);

/** Apply a batch (see graph.h); counts are added to *st. 0, or -1. */
int sl_pg_store_write(struct sl_pg_store *s, const struct sl_graph_batch *b,
                      struct sl_write_stats *st);

/** TTL deletion as sl_sqlite_store_ttl(). 0, or -1. */
int sl_pg_store_ttl(struct sl_pg_store *s, bool nodes, const char *type,
                    const char *cutoff, uint64_t *deleted);

/**
 * Stream the graph in canonical JSON lines, from one snapshot (a
 * repeatable-read transaction and cursors). 0, or -1.
 */
int sl_pg_store_export(struct sl_pg_store *s, sl_export_fn fn, void *arg);

/** Close (NULL is a no-op). */
void sl_pg_store_close(struct sl_pg_store *s);

#endif /* SLUICE_GRAPH_PG_STORE_H */
