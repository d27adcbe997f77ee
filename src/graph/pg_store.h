/*
 * sluice: the PostgreSQL graph store (internal to graph): the schema of
 * the SQLite store with JSONB, written through the database layer.
 *
 * A batch is written in two phases, nodes then relationships, each
 * committed before the next starts. Each phase is split into lanes by the
 * hash of what it writes (a node's type and key, a relationship's
 * identity); every lane has a connection of its own and writes its part in
 * one transaction: COPY into a staging table, then set-based UPDATE and
 * INSERT ... ON CONFLICT. No two lanes touch the same row. Other
 * processes may write the same rows at once (sluice run --shard): a lane
 * stages its writes in identity order, so that concurrent writers lock
 * shared rows in one order, and a deadlock or serialization failure that
 * happens anyway is rolled back and written again, counted. A lane whose
 * connection is lost reconnects with backoff and writes its part again
 * (upserts are idempotent). There are 4 lanes by default (the URI
 * parameter lanes=N sets them; a project target's flush_concurrency
 * becomes it); when a lane's
 * writes allow it (no null property, no FUZZY match, among others) the
 * merge is one upsert statement. A lane that creates CREATE relationships
 * also inserts a commit token, so a retry after a lost COMMIT reply
 * writes them exactly once. Schema, tables and write path:
 * docs/storage.md.
 *
 * Migrations (pg_migrate.c) run on the store's own connection
 * (sl_store_pg_conn()) under an advisory lock. It is registered as
 * sl_store_pg_ops (store.h). Every call is made from a task and yields
 * while the server works.
 */
#ifndef SLUICE_GRAPH_PG_STORE_H
#define SLUICE_GRAPH_PG_STORE_H

#include "graph.h"
#include "store.h"

struct sl_db_conn;
struct sl_schema;

/** An open PostgreSQL store (opaque). */
struct sl_store_pg;

/** Most lanes a store uses. */
#define SL_PG_LANES_MAX 16

/**
 * Split `uri` into the URI for the database layer (out[0..size)) and the
 * store's own query parameter lanes=N (1..SL_PG_LANES_MAX), which libpq
 * would refuse: *lanes is N, or 0 when absent. The other parameters stay,
 * in order; a query left empty loses its '?'. 0, or -1 with SL_EINVAL (a
 * bad value, named) or SL_ELIMIT (too long).
 */
int sl_store_pg_uri_split(const char *uri, char *out, size_t size,
                          unsigned *lanes);

/**
 * Connect to `uri` (postgresql://..., with lanes=N to set the lanes, see
 * sl_store_pg_uri_split()), create the schema if missing and check its
 * version. NULL with an error that shows the URI without its password.
 */
struct sl_store_pg *sl_store_pg_open(const char *uri);

/** Set the lanes (1..SL_PG_LANES_MAX; default 4). */
void sl_store_pg_set_lanes(struct sl_store_pg *s, unsigned lanes);

/**
 * Set how many writes of a phase (a batch's nodes, or its relationships)
 * each lane takes before the next lane is used (default 512; 1: every
 * lane whatever the batch): a small batch goes through fewer lanes, and
 * opens fewer connections.
 */
void sl_store_pg_set_lane_min(struct sl_store_pg *s, uint32_t writes);

/** How many of the store's lanes hold a connection. */
unsigned sl_store_pg_connected(const struct sl_store_pg *s);

/**
 * Set how long a lane keeps retrying after its connection was lost
 * before the write fails (seconds; default 120).
 */
void sl_store_pg_set_retry(struct sl_store_pg *s, double seconds);

/**
 * Lane transactions written again so far after a deadlock (SQLSTATE
 * 40P01) or serialization failure (40001): another writer of the same
 * rows (reported in an info line when the store closes).
 */
uint64_t sl_store_pg_contention_retries(const struct sl_store_pg *s);

/**
 * Test hook: the `n`th lane commit from now (1: the next) succeeds on the
 * server, but the lane is told its connection was lost before the reply,
 * as when the network fails at that moment. 0 turns it off.
 */
void sl_store_pg_fault_lose_commit(struct sl_store_pg *s, uint64_t n);

/**
 * Apply a batch (see graph.h). Counts are made on commit (store.h): *st
 * gets those of every lane transaction that committed, also when another
 * lane or the relationship phase fails; a lane whose COMMIT failed, or
 * whose reply was lost and whose commit token does not show it, counts
 * nothing. 0, or -1.
 */
int sl_store_pg_write(struct sl_store_pg *s, const struct sl_graph_batch *b,
                      struct sl_graph_counts *st);

/** TTL deletion as sl_store_sqlite_ttl(). 0, or -1. */
int sl_store_pg_ttl(struct sl_store_pg *s, bool nodes, const char *type,
                    const char *cutoff, uint64_t *deleted);

/**
 * Stream the graph in canonical JSON lines, from one snapshot (a
 * repeatable-read transaction and cursors). 0, or -1.
 */
int sl_store_pg_export(struct sl_store_pg *s, sl_export_fn fn, void *arg);

/**
 * The store's own connection (lane 0's), connected first if it is not:
 * for statements outside the write lanes (graph/pg_migrate.c). NULL with
 * an error. Owned by the store; not to be used while a write runs.
 */
struct sl_db_conn *sl_store_pg_conn(struct sl_store_pg *s);

/**
 * Migrate the store to what `schema` describes (graph/pg_migrate.c), as
 * sl_store_sqlite_migrate() does the SQLite store, with the same names
 * and columns: per node type, an index on each key property and each
 * additional index, partial expression indexes on the text of the JSON
 * member (`((key::jsonb) ->> 'k') WHERE type = 'T'`, `(props ->> 'p')`);
 * a view per node type (`node_<Type>`: `_id`, `_labels` and a text column
 * per key and property, the same `->>` expressions, so a comparison on a
 * view's key column uses the index) and per relationship type
 * (`rel_<TYPE>`: `_id`, `_from_id`, `_to_id`, `_from_type`, `_from_key`,
 * `_to_type`, `_to_key` (jsonb) and a column per key and property). Each
 * is recorded by name, with its SQL, in `sluice_migrations`: one already
 * applied with the same SQL is kept; a view or index whose SQL changed is
 * dropped and made again. Runs in one transaction under an advisory lock.
 * Index names longer than PostgreSQL's 63 bytes are shortened with a hash;
 * a view or column whose name would be longer is left out (with a
 * warning). *applied and *kept count them. 0, or -1 with an error
 * (rolled back).
 */
int sl_store_pg_migrate(struct sl_store_pg *s, const struct sl_schema *schema,
                        uint32_t *applied, uint32_t *kept);

/**
 * Report each migration `schema` asks for to `fn`, applied (recorded in
 * sluice_migrations with the same SQL) or pending; changes nothing. 0,
 * or -1.
 */
int sl_store_pg_migrations(struct sl_store_pg *s,
                           const struct sl_schema *schema, sl_mig_status_fn fn,
                           void *arg);

/** Close (NULL is a no-op). */
void sl_store_pg_close(struct sl_store_pg *s);

#endif /* SLUICE_GRAPH_PG_STORE_H */
