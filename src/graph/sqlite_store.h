/*
 * sluice: the SQLite graph store (internal to graph). It runs on a
 * connection of the database layer (db/sqlite_conn.h): every call is made
 * from a task and is one job on that connection's worker thread, while
 * the task waits and other tasks run.
 *
 * The schema (docs/storage.md), version 2:
 *
 *   sluice_meta(name TEXT PRIMARY KEY, value TEXT)   -- schema_version = 2
 *   node(id INTEGER PRIMARY KEY, type TEXT, key TEXT, labels TEXT,
 *        props TEXT)                   -- UNIQUE(type, key)
 *   rel(id INTEGER PRIMARY KEY, type TEXT, from_id INTEGER, to_id INTEGER,
 *       key TEXT, props TEXT, multi INTEGER)
 *        -- UNIQUE(from_id, type, to_id, key, multi)
 *
 * `key` is the canonical JSON of the key values (sorted keys, compact),
 * `labels` a JSON array of the additional types (sorted, no duplicates),
 * `props` a JSON object. `multi` is 0 for a relationship identified by its
 * ends, type and key, and 1, 2, ... for the rows of one written with the
 * CREATE rule, which are never merged. The identity index serves
 * out-edges by type, another in-edges. A version 1 database (`multi` 1
 * for every CREATE row, a partial identity index and an index of its own
 * for out-edges) is brought to version 2 when opened for writing. The
 * semantics of writes are those of graph/graph.h.
 *
 * A batch is applied in one transaction (or several in one, see
 * sl_store_sqlite_group()): every node write, then every
 * relationship write, with statements from the connection's cache
 * (sl_sqlite_stmt()), json_patch() merges, and a PCRE2 SQL function,
 * sluice_regexp(), for FUZZY matching. A database with another schema
 * version, or with node or rel tables that are not sluice's, is refused.
 * It is registered as sl_store_sqlite_ops (store.h).
 */
#ifndef SLUICE_GRAPH_SQLITE_STORE_H
#define SLUICE_GRAPH_SQLITE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "store.h"

/** The schema version this code writes and reads. */
#define SL_SQLITE_SCHEMA_VERSION 2

/** An open store (opaque). */
struct sl_store_sqlite;

/**
 * Open the graph database at `path`, creating it (and the schema) if it
 * does not exist; an existing sluice graph is continued. WAL journal. A
 * database with another schema version, or with tables named node or rel
 * that are not sluice's, is refused: SL_EINVAL naming the path and what
 * was found. NULL with an error (SL_EDB for SQLite's own errors).
 */
struct sl_store_sqlite *sl_store_sqlite_open(const char *path);

/**
 * Open the existing graph database at `path` read-only, for export: no
 * pragmas, no schema created, nothing written, so a read-only file or
 * directory can be read (sl_sqlite_open_ro()). A file that is no sluice
 * graph (no sluice_meta) is refused with SL_EINVAL. NULL with an error.
 */
struct sl_store_sqlite *sl_store_sqlite_open_ro(const char *path);

/**
 * Apply batch `b`: every node write, then every relationship write, with
 * prepared statements. The batch is committed at once, unless
 * sl_store_sqlite_group() asked for larger transactions. Counts are made
 * on commit (store.h): `*st` gets those of every batch committed since
 * the last report (NULL: none wanted), this one's only once it is
 * committed; a transaction rolled back is never counted. Bad input fails
 * the batch before it writes anything; a statement failing on a FUZZY
 * pattern undoes the batch alone (it is written under a savepoint); in
 * both cases the batches before it in the open transaction stay. Any
 * other failure of SQLite rolls the open transaction back, whose counts
 * are dropped too. -1 is returned with the error (SL_EINVAL for bad input,
 * SL_EDB with SQLite's message).
 */
int sl_store_sqlite_write(struct sl_store_sqlite *s,
                          const struct sl_graph_batch *b,
                          struct sl_graph_counts *st);

/**
 * Set how long a write waits for another connection's write lock before
 * failing with SL_EDB ("database is locked"); 5000 ms by default. 0, or
 * -1.
 */
int sl_store_sqlite_set_busy_timeout(struct sl_store_sqlite *s, int ms);

/**
 * Delete, in one transaction, the nodes (with every relationship that
 * touches them) when `nodes`, else the relationships, of type `type` whose
 * last_ingested_at is before `cutoff` (ISO 8601 UTC text, compared as
 * text). Objects without last_ingested_at are kept. *deleted counts the
 * nodes or relationships deleted. 0, or -1 with an error (rolled back).
 */
int sl_store_sqlite_ttl(struct sl_store_sqlite *s, bool nodes, const char *type,
                        const char *cutoff, uint64_t *deleted);

struct sl_db_conn;
struct sl_schema;
struct sqlite3;

/** A job of the store (for the modules of graph/ that add to it). */
typedef int (*sl_store_sqlite_job_fn)(struct sl_store_sqlite *s, void *arg);

/**
 * Run `fn(s, arg)` as one job on the worker of the store's connection
 * (sl_sqlite_run()). fn's result, its error in the caller's diag.
 */
int sl_store_sqlite_run(struct sl_store_sqlite *s, sl_store_sqlite_job_fn fn,
                        void *arg);

/** In a job: the connection's handle (NULL outside jobs). */
struct sqlite3 *sl_store_sqlite_db(struct sl_store_sqlite *s);

/** The database layer's connection the store runs on. */
struct sl_db_conn *sl_store_sqlite_conn(struct sl_store_sqlite *s);

/**
 * In a job: commit the transaction sl_store_sqlite_group() keeps open,
 * if any. 0, or -1 with an error (rolled back).
 */
int sl_store_sqlite_end_tx(struct sl_store_sqlite *s);

/** The store's path, for messages. */
const char *sl_store_sqlite_path(const struct sl_store_sqlite *s);

/**
 * Report each migration `schema` asks for to `fn`: applied when
 * sluice_migrations records it with the same SQL, else pending. Changes
 * nothing. 0, or -1.
 */
int sl_store_sqlite_migrations(
        struct sl_store_sqlite *s, const struct sl_schema *schema,
        int (*fn)(void *arg, const char *name, bool applied), void *arg);

/**
 * Migrate the store to what `schema` describes (graph/sqlite_migrate.c,
 * written by graph/migrate.h): per node type, an index on each key
 * property and each additional index (partial expression indexes on the
 * JSON columns), and a view per node type
 * (`node_<Type>`) and per relationship type (`rel_<TYPE>`) with a column
 * per key and property. Each is recorded by name, with its SQL, in
 * `sluice_migrations`: one already applied with the same SQL is kept; a
 * view or index whose SQL changed is replaced. Runs in one transaction.
 * *applied and *kept count them. 0, or -1 with an error (rolled back).
 */
int sl_store_sqlite_migrate(struct sl_store_sqlite *s,
                            const struct sl_schema *schema, uint32_t *applied,
                            uint32_t *kept);

/**
 * Let one transaction hold several batches: commit when it holds `ops`
 * writes or is `secs` old (0, 0: every batch, the default). Fewer, larger
 * commits write far less (each commit rewrites the index pages it
 * touched). What is not committed yet is committed by
 * sl_store_sqlite_commit(), by any other call, and by close.
 */
void sl_store_sqlite_group(struct sl_store_sqlite *s, uint64_t ops,
                           double secs);

/**
 * When the WAL is checkpointed (before the first write; the defaults
 * suit loads): once a commit leaves `frames` frames in it, a second
 * connection to the database checkpoints them in a task of its own while
 * the store goes on writing (1,000: SQLite's automatic checkpoint, which
 * the store's own connection would run inside its commit); once a commit
 * leaves `most` (128 MiB of frames of the database's pages), the store's
 * connection checkpoints what is left itself, so that the WAL starts over.
 * Without a second connection (it cannot open), the store's connection
 * checkpoints from `frames` on, as SQLite does.
 */
void sl_store_sqlite_wal(struct sl_store_sqlite *s, int frames, int most);

/** Commit the open transaction, if any. 0, or -1 with an error. */
int sl_store_sqlite_commit(struct sl_store_sqlite *s);

/**
 * Commit the open transaction, if any, and add to *st the counts of every
 * write committed since the last report (this commit's, and those of
 * commits made by other calls such as TTL). 0, or -1 with an error (the
 * transaction rolled back, its counts dropped).
 */
int sl_store_sqlite_commit_counted(struct sl_store_sqlite *s,
                                   struct sl_graph_counts *st);

/**
 * Stream the graph as canonical JSON objects, nodes first (ordered by
 * type and key) then relationships, in bounded memory:
 *
 *   {"key":{...},"labels":[...],"node":"T","props":{...}}
 *   {"from":{"key":{...},"node":"T"},"key":{...},"props":{...},
 *    "rel":"R","to":{"key":{...},"node":"U"}}
 *
 * Stops at the first non-zero return of `fn` (returned as -1). `fn`
 * runs on the connection's worker thread.
 */
int sl_store_sqlite_export(struct sl_store_sqlite *s, sl_export_fn fn,
                           void *arg);

/** Close the store, committing what is pending (NULL is a no-op). */
void sl_store_sqlite_close(struct sl_store_sqlite *s);

#endif /* SLUICE_GRAPH_SQLITE_STORE_H */
