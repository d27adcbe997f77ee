/*
 * sluice: the SQLite driver's internal API for modules that run their own
 * sqlite3 code on a driver connection (the graph layer's SQLite store).
 *
 * The driver (sqlite.c, struct sl_db_driver sl_sqlite_driver): each
 * connection owns a worker thread (sluice/worker.h) and every call is one
 * job on it while the calling task waits. Parameters are $N, ?N or plain
 * ?; statements are kept prepared in an LRU cache (opts.stmt_cache
 * entries); JSON/JSONB and BOOL/BOOLEAN columns decode by their declared
 * type; results carry command tags like PostgreSQL's ("INSERT 0 1"). A
 * progress handler stops a statement at its deadline or when the waiting
 * task is cancelled (sl_worker_run_cancel() calls the driver, which sets a
 * flag the handler reads). It has no pipelines, COPY or cursors.
 *
 * The code runs as jobs on the connection's worker thread, with the
 * connection's statement cache, busy timeout, statement deadline and
 * cancellation, and its errors are raised as sl_db_query()'s are:
 *
 *   struct sl_db_conn *c = sl_sqlite_open(path, NULL);       (in a task)
 *   rc = sl_sqlite_run(c, write_batch, batch);            (one job)
 *
 *   static int write_batch(void *arg, sqlite3 *db)        (on the worker)
 *   {
 *           sqlite3_stmt *st = sl_sqlite_stmt(c, "INSERT ...");
 *           ... sqlite3_bind_*(st), sqlite3_step(st), sqlite3_reset(st)
 *   }
 */
#ifndef SLUICE_DB_SQLITE_CONN_H
#define SLUICE_DB_SQLITE_CONN_H

#include <stddef.h>

struct sl_db_conn;
struct sl_db_conn_opts;
struct sqlite3;
struct sqlite3_stmt;
struct sqlite3_context;
struct sqlite3_value;

/**
 * Bytes of SQLite's page-sized blocks carved so far from the driver's
 * huge-page reservation (sqlite.c, "SQLite's memory"), freed ones
 * included: 0 while SQLite allocates with malloc() alone (before the
 * driver's first connection, in sanitizer builds and under valgrind, or
 * when the application had initialised SQLite first).
 */
size_t sl_sqlite_page_memory(void);

/** A job on a SQLite connection's worker: 0, or -1 with an error. */
typedef int (*sl_sqlite_job_fn)(void *arg, struct sqlite3 *db);

/** An SQL function's implementation (sqlite3_create_function()'s xFunc). */
typedef void (*sl_sqlite_func_fn)(struct sqlite3_context *ctx, int argc,
                                  struct sqlite3_value **argv);

/**
 * Open the SQLite database file `path` as the connection "sqlite:PATH"
 * without the driver's setup statements (journal mode and foreign keys
 * stay as the file has them), for a caller that looks at the database
 * before it changes anything (sl_db_conn_reset() reopens it with the setup).
 * Call from a task; close with sl_db_conn_close(). NULL with an error.
 */
struct sl_db_conn *sl_sqlite_open(const char *path,
                                  const struct sl_db_conn_opts *o);

/**
 * Open the SQLite database file `path` as sl_sqlite_open() does, but
 * read-only (SQLITE_OPEN_READONLY): nothing is created or written, so a
 * read-only file or directory can be read. A database in WAL mode whose
 * -wal and -shm files are missing in a directory we cannot write is read
 * immutable=1 (no connection has it open then). Call from a task; close
 * with sl_db_conn_close(). NULL with an error (a missing file is one).
 */
struct sl_db_conn *sl_sqlite_open_ro(const char *path,
                                     const struct sl_db_conn_opts *o);

/**
 * Run `fn(arg, db)` as one job on the worker of SQLite connection `c`
 * while the calling task waits: statements `fn` steps are interrupted
 * once the connection's statement timeout passed or the task was
 * cancelled. Call from a task. fn's result, its error in the caller's
 * diag.
 */
int sl_sqlite_run(struct sl_db_conn *c, sl_sqlite_job_fn fn, void *arg);

/**
 * Inside a job of sl_sqlite_run(): the prepared statement for `sql` (one
 * statement, parameters written ?N or $N) from the connection's cache,
 * prepared now if it is not there. It stays valid until the job ends as
 * long as the job uses fewer statements than the cache holds; reset it
 * after use. NULL with an error (SL_EINVAL when the cache is off).
 */
struct sqlite3_stmt *sl_sqlite_stmt(struct sl_db_conn *c, const char *sql);

/**
 * Inside a job: run the statements of `sql` (no rows wanted). 0, or -1
 * with the error sl_sqlite_error() raises.
 */
int sl_sqlite_exec(struct sl_db_conn *c, const char *sql);

/**
 * Inside a job: raise the error of statement `sql` that just failed on
 * `c` as sl_db_query() does (SL_ECANCELLED, SL_ETIMEDOUT, SL_EOOM, else
 * SL_EDB with SQLite's message). Returns -1.
 */
int sl_sqlite_error(struct sl_db_conn *c, const char *sql);

/**
 * Inside a job: register the deterministic SQL function `name` of `nargs`
 * arguments on `c`; `fn` gets `user` from sqlite3_user_data(). 0, or -1.
 */
int sl_sqlite_function(struct sl_db_conn *c, const char *name, int nargs,
                       sl_sqlite_func_fn fn, void *user);

/**
 * Set how long a statement on `c` waits for another connection's lock
 * before it fails with "database is locked" (ms; 5000 by default). Call
 * from a task. 0, or -1.
 */
int sl_sqlite_busy_timeout(struct sl_db_conn *c, int ms);

#endif /* SLUICE_DB_SQLITE_CONN_H */
