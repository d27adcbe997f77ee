/*
 * sluice: the asynchronous database layer (the GINO half of sluice).
 *
 * Calls read like blocking code but yield the calling task: other tasks run
 * while a query is on the wire. Every call is made from a task. The layer is
 * a library of its own: examples/db_example.c uses it with no pipeline.
 *
 *   struct sl_db_pool *pool = sl_db_pool_open("postgresql://u@h/db", NULL);
 *   struct sl_db_conn *c = sl_db_pool_acquire(pool, 5.0);
 *   struct sl_db_result *r =
 *           sl_db_query(c, "SELECT $1::int + 1", SL_ARGS(sl_int(41)));
 *   sl_db_result_get(r, 0, 0)->u.i == 42
 *   sl_db_result_free(r); sl_db_pool_release(c); sl_db_pool_close(pool);
 *
 * Drivers (src/db/conn.h): PostgreSQL (src/db/pg/, libpq in non-blocking
 * mode: "postgresql://" or "postgres://" URIs, or "key=value" strings) and
 * SQLite (src/db/sqlite.c: "sqlite:PATH", on a worker thread of its own).
 * Pipelines, COPY and cursors are PostgreSQL's; on SQLite they fail with
 * SL_EINVAL naming the driver and the operation.
 *
 * Parameters are written $1, $2... on both. On PostgreSQL the server says
 * each parameter's type when the statement is prepared; values are then
 * bound in binary for integer, float, bool, bytea, json and jsonb
 * parameters and as text otherwise. A string bound to a json or jsonb
 * parameter is taken as JSON text; other values are written as JSON.
 *
 * Results decode into values: integers (int2/4/8, oid), floats, bool, text
 * (every textual type), json and jsonb (parsed), bytea (the raw bytes as a
 * string), timestamps and dates (ISO 8601 text, "2024-05-01T12:00:00Z"
 * for timestamptz, in UTC), arrays of those, and NULL. Other types come as
 * their text.
 *
 * One task at a time may use a connection: a second task gets SL_EBUSY
 * naming the first, and the protocol is never touched.
 *
 * Errors: SL_EDB for the server's errors (message, SQLSTATE, the statement
 * and the URI without its password), SL_EIO for a lost connection
 * (sl_db_conn_ok() then says false), SL_ETIMEDOUT, SL_ECANCELLED, SL_EBUSY,
 * SL_EINVAL for misuse (a value that does not fit its parameter names the
 * parameter).
 *
 * The pool (src/db/pool.c) reuses idle connections newest first, keeps
 * between min_size and max_size, pings one idle longer than idle_check
 * before handing it out, closes those older than max_lifetime and idle ones
 * above min_size after max_idle, and reconnects with backoff after connect
 * failures. Waiters are served in FIFO order by direct hand-off; an acquire
 * that runs out of time fails with SL_ETIMEDOUT. A task that ends holding a
 * connection releases it through a task exit hook (sl_task_on_exit()), and a
 * release rolls back an open transaction and ends an open pipeline or COPY.
 */
#ifndef SLUICE_DB_H
#define SLUICE_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/uri.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which driver a connection uses. */
enum sl_db_kind {
	SL_DB_POSTGRES = 1, /**< PostgreSQL through libpq */
	SL_DB_SQLITE,       /**< SQLite on a worker thread */
	SL_DB_NEO4J,        /**< Neo4j (or any Bolt server) over Bolt */
};

/** Most parameters one statement takes (the protocol's limit). */
#define SL_DB_PARAMS_MAX 65535
/** Longest URI kept, including the terminator. */
#define SL_DB_URL_MAX 1024

/** Connection options; fill with sl_db_conn_opts_init() and override. */
struct sl_db_conn_opts {
	/** Seconds a connect may take (SL_FOREVER: no limit). Default 10. */
	double connect_timeout;
	/**
	 * Seconds a statement may run before it is cancelled on the server
	 * and fails with SL_ETIMEDOUT (SL_FOREVER: no limit, the default).
	 */
	double query_timeout;
	/** Prepared statements kept per connection (LRU). Default 256. */
	size_t stmt_cache;
	/** application_name reported to the server, or NULL ("sluice"). */
	const char *app_name;
};

/** Fill `o` with the defaults. */
void sl_db_conn_opts_init(struct sl_db_conn_opts *o);

/** A database connection (opaque). */
struct sl_db_conn;

/**
 * Connect to `url` (`opts` may be NULL). NULL with an error that shows the
 * URI without its password: SL_EDB for a refused login or an unknown
 * database, SL_EIO when the server cannot be reached, SL_ETIMEDOUT.
 */
struct sl_db_conn *sl_db_conn_open(const char *url,
                                   const struct sl_db_conn_opts *opts);

/** Close and free (NULL is a no-op). An open transaction rolls back. */
void sl_db_conn_close(struct sl_db_conn *c);

/** The driver. */
enum sl_db_kind sl_db_conn_kind(const struct sl_db_conn *c);

/** The URI without its password. */
const char *sl_db_conn_url(const struct sl_db_conn *c);

/** False once the connection was lost (only sl_db_conn_reset() helps). */
bool sl_db_conn_ok(const struct sl_db_conn *c);

/**
 * Reconnect with the same URI and options, dropping prepared statements
 * and any transaction. 0, or -1 with an error as sl_db_conn_open()'s.
 */
int sl_db_conn_reset(struct sl_db_conn *c);

/** Round trip to the server ("SELECT 1"). 0, or -1 with an error. */
int sl_db_conn_ping(struct sl_db_conn *c, double timeout);

/** Set the statement timeout in seconds (SL_FOREVER: none). */
void sl_db_conn_set_timeout(struct sl_db_conn *c, double seconds);

/** Transactions open on the connection (0: none; 2: one savepoint). */
int sl_db_conn_tx_depth(const struct sl_db_conn *c);

/** The server's version number (150004 for 15.4), or 0 if unknown. */
int sl_db_conn_server_version(const struct sl_db_conn *c);

/**
 * Drop every prepared statement of the connection (after DDL that
 * changes what cached statements return, in a transaction, where
 * sluice cannot re-prepare on its own). 0, or -1.
 */
int sl_db_conn_forget_statements(struct sl_db_conn *c);

/** A query's result (opaque): rows of values, and the command tag. */
struct sl_db_result;

/** Parameter list for sl_db_query() and friends from a list of values. */
#define SL_ARGS(...)                                                          \
	(sizeof((struct sl_value[]){__VA_ARGS__}) / sizeof(struct sl_value)), \
	        ((const struct sl_value[]){__VA_ARGS__})
/** No parameters. */
#define SL_NOARGS 0, NULL

/**
 * Run one statement with `n` parameters; the statement is prepared once
 * per connection and cached. A statement that went stale after DDL
 * ("cached plan must not change result type") is re-prepared and re-run
 * outside transactions. Returns the result, or NULL with an error.
 */
struct sl_db_result *sl_db_query(struct sl_db_conn *c, const char *sql,
                                 size_t n, const struct sl_value *params);

/**
 * sl_db_query() that keeps only the count of rows affected (*affected, may
 * be NULL; -1 when the command reports none). 0, or -1 with an error.
 */
int sl_db_exec(struct sl_db_conn *c, const char *sql, size_t n,
               const struct sl_value *params, int64_t *affected);

/**
 * Run `sql` as a simple query: several statements separated by `;`, no
 * parameters, no statement cache (scripts, DDL). 0, or -1 with an error.
 */
int sl_db_exec_script(struct sl_db_conn *c, const char *sql);

/** Rows in the result. */
size_t sl_db_result_rows(const struct sl_db_result *r);

/** Columns in the result. */
size_t sl_db_result_cols(const struct sl_db_result *r);

/** Name of column `col` (NUL-terminated). */
const char *sl_db_result_name(const struct sl_db_result *r, size_t col);

/** Index of the column named `name`, or -1. */
int sl_db_result_col(const struct sl_db_result *r, const char *name);

/**
 * The value at `row`, `col` (both in range). It lives as long as the
 * result; sl_value_copy() keeps it longer.
 */
const struct sl_value *sl_db_result_get(const struct sl_db_result *r,
                                        size_t row, size_t col);

/**
 * Row `row` as an object {column: value} built in `a`. 0, or -1 with an
 * error (the arena's cap).
 */
int sl_db_result_row_object(const struct sl_db_result *r, size_t row,
                            struct sl_arena *a, struct sl_value *out);

/** Rows affected as the command tag says, or -1. */
int64_t sl_db_result_affected(const struct sl_db_result *r);

/** The command tag ("INSERT 0 1", "SELECT 3"; "" if none). */
const char *sl_db_result_tag(const struct sl_db_result *r);

/**
 * A counter of the statement's summary by name, or -1 when the result has
 * none of that name. Bolt results carry the server's statistics under
 * their names ("nodes-created", "relationships-created", "properties-set",
 * "labels-added", "constraints-added", "indexes-added", ...; a counter the
 * server left out because it is zero reads 0 once any was sent).
 */
int64_t sl_db_result_stat(const struct sl_db_result *r, const char *name);

/** Free the result (NULL is a no-op). */
void sl_db_result_free(struct sl_db_result *r);

struct sl_error;

/**
 * Whether error `e` (from a statement or a commit) says that running the
 * transaction again may succeed: a deadlock or serialization failure
 * (PostgreSQL's 40P01, 40001), Neo4j's transient errors (but not a
 * terminated transaction) and a cluster's change of leader. A lost
 * connection is not among them: whether its transaction committed is
 * unknown.
 */
bool sl_db_error_retryable(const struct sl_error *e);

/* ------------------------------------------------------------------ */
/* Transactions                                                        */

/** Isolation levels. */
enum sl_db_isolation {
	SL_ISO_DEFAULT = 0,     /**< the server's default */
	SL_ISO_READ_COMMITTED,  /**< READ COMMITTED */
	SL_ISO_REPEATABLE_READ, /**< REPEATABLE READ */
	SL_ISO_SERIALIZABLE,    /**< SERIALIZABLE */
};

/** Transaction options (zeroed: the defaults). */
struct sl_db_tx_opts {
	/** Isolation level (outermost transaction only). */
	enum sl_db_isolation isolation;
	/** READ ONLY (outermost transaction only). */
	bool read_only;
	/** DEFERRABLE (with SERIALIZABLE READ ONLY). */
	bool deferrable;
};

/** A transaction or savepoint (caller-owned; fields are the layer's). */
struct sl_db_tx {
	/** The connection. */
	struct sl_db_conn *conn;
	/** Depth: 1 for the outermost transaction, more for savepoints. */
	int depth;
	/** Whether it is still open. */
	bool open;
};

/**
 * Begin a transaction on `c`, or a savepoint inside the open one (options
 * then must be zero). 0, or -1 with an error.
 *
 * Both drivers treat a failed statement alike: the transaction is then
 * aborted, every further statement fails (SL_EABORTED on SQLite, the
 * server's "current transaction is aborted" on PostgreSQL) until it is
 * rolled back, or rolled back to a savepoint taken before the failure;
 * and committing it (or releasing that savepoint) rolls it back and
 * fails saying so. Outside a transaction a failure costs only its
 * statement.
 *
 * If the task that began the outermost transaction ends (returns or
 * fails) while it is still open, it is rolled back then, with a warning;
 * a transaction committed or rolled back by another task meanwhile is
 * left alone.
 */
int sl_db_tx_begin(struct sl_db_conn *c, struct sl_db_tx *tx,
                   const struct sl_db_tx_opts *opts);

/**
 * Commit (release the savepoint). Inner savepoints still open are
 * released with it. A failed commit rolls back. 0, or -1 with an error.
 */
int sl_db_tx_commit(struct sl_db_tx *tx);

/**
 * Roll back (to the savepoint, and release it). Works on a transaction
 * that a failed statement aborted. 0, or -1 with an error (the
 * connection is then lost; the server rolls back).
 */
int sl_db_tx_rollback(struct sl_db_tx *tx);

/**
 * On a failure path: roll `tx` back if it is still open, keeping the
 * error being propagated (a failed rollback adds nothing: on a lost
 * connection the server has rolled back already). NULL or a closed `tx`
 * is a no-op.
 */
void sl_db_tx_abandon(struct sl_db_tx *tx);

/* ------------------------------------------------------------------ */
/* Pipelines (PostgreSQL)                                               */

/** A pipeline on a connection (opaque). */
struct sl_db_pipeline;

/** Most statements queued on a pipeline without reading their results. */
#define SL_PIPELINE_MAX 100000

/**
 * Enter pipeline mode: statements are sent without waiting for results,
 * and results are read back in order. Nothing else may use `c` until
 * sl_db_pipeline_end(). NULL with an error (SQLite: SL_EINVAL).
 */
struct sl_db_pipeline *sl_db_pipeline_begin(struct sl_db_conn *c);

/**
 * Queue a statement. Returns its index in the pipeline (0, 1, ...), or -1
 * with an error (SL_ELIMIT past SL_PIPELINE_MAX unread results).
 */
long sl_db_pipeline_push(struct sl_db_pipeline *p, const char *sql, size_t n,
                         const struct sl_value *params);

/**
 * Set a sync point: the statements since the last one form one implicit
 * transaction (unless one is open). A failure rolls back its segment,
 * statements before it that reported success included, and skips the rest
 * of the segment; later segments run. 0, or -1 with an error.
 */
int sl_db_pipeline_sync(struct sl_db_pipeline *p);

/**
 * The result of the next statement in push order (a sync point is set
 * first if the statement has none after it). NULL with an error when it
 * failed (SL_EDB naming the statement's index) or was skipped because an
 * earlier statement of its segment failed (SL_EABORTED naming that one);
 * NULL with no error (SL_EOK) once every result was read.
 */
struct sl_db_result *sl_db_pipeline_next(struct sl_db_pipeline *p);

/**
 * Read and drop what is left, leave pipeline mode and free `p`. Returns
 * 0, or -1 with the first failure among the results not read.
 */
int sl_db_pipeline_end(struct sl_db_pipeline *p);

/* ------------------------------------------------------------------ */
/* COPY FROM STDIN (PostgreSQL)                                          */

/** A COPY in progress (opaque). */
struct sl_db_copy;

/**
 * Start `COPY "table" ("col", ...) FROM STDIN` in binary format (text
 * format when a column's type has no binary encoder). `table` may be
 * "schema.table"; identifiers are quoted. NULL with an error.
 */
struct sl_db_copy *sl_db_copy_begin(struct sl_db_conn *c, const char *table,
                                    const char *const *columns, size_t ncols);

/**
 * Add one row of `ncols` values. Rows are sent in 64 KiB chunks; a full
 * socket suspends the task (backpressure). 0, or -1 with an error naming
 * the row and column.
 */
int sl_db_copy_row(struct sl_db_copy *cp, const struct sl_value *values);

/**
 * Finish the COPY and free `cp`: 0 with the rows the server took in
 * *rows (may be NULL), or -1 with an error.
 */
int sl_db_copy_end(struct sl_db_copy *cp, int64_t *rows);

/** Abandon the COPY (the server discards it) and free `cp`. */
void sl_db_copy_abort(struct sl_db_copy *cp);

/* ------------------------------------------------------------------ */
/* Cursors (PostgreSQL)                                                  */

/** A server-side cursor (opaque). */
struct sl_db_cursor;

/**
 * Declare a cursor for a query inside the open transaction of `c` (none
 * open: SL_EINVAL). Each fetch returns up to `batch` rows (0: 1000).
 */
struct sl_db_cursor *sl_db_cursor_open(struct sl_db_conn *c, const char *sql,
                                       size_t n, const struct sl_value *params,
                                       size_t batch);

/**
 * The next rows: a result with 1..batch rows, or one with 0 rows at the
 * end. NULL with an error.
 */
struct sl_db_result *sl_db_cursor_fetch(struct sl_db_cursor *cur);

/** Close the cursor and free it (NULL is a no-op). 0, or -1. */
int sl_db_cursor_close(struct sl_db_cursor *cur);

/* ------------------------------------------------------------------ */
/* Pool                                                                  */

/** Pool options; fill with sl_db_pool_opts_init() and override. */
struct sl_db_pool_opts {
	/** Connections opened at once and kept. Default 1. */
	size_t min_size;
	/** Most connections at once. Default 10. */
	size_t max_size;
	/** Default wait for sl_db_pool_acquire(timeout < 0). Default 30 s. */
	double acquire_timeout;
	/** A connection idle longer than this is pinged before it is handed
	 * out (0: always; SL_FOREVER: never). Default 5 s. */
	double idle_check;
	/** Connections older than this are closed on release (SL_FOREVER:
	 * never). Default 3600 s. */
	double max_lifetime;
	/** Idle connections above min_size are closed after this many
	 * seconds (SL_FOREVER: never). Default 300 s. */
	double max_idle;
	/** First pause before reconnecting after a failure. Default 0.1 s. */
	double backoff_initial;
	/** Longest pause between reconnect attempts. Default 5 s. */
	double backoff_max;
	/** Options of each connection. */
	struct sl_db_conn_opts conn;
};

/** Fill `o` with the defaults. */
void sl_db_pool_opts_init(struct sl_db_pool_opts *o);

/** A pool of connections to one database (opaque). */
struct sl_db_pool;

/**
 * Open a pool and connect min_size connections (`opts` may be NULL).
 * NULL with the first connection's error.
 */
struct sl_db_pool *sl_db_pool_open(const char *url,
                                   const struct sl_db_pool_opts *opts);

/**
 * Close the pool: idle connections close now; connections still out are
 * closed when released. Frees the pool once none is out.
 */
void sl_db_pool_close(struct sl_db_pool *p);

/**
 * Take a connection: the most recently released idle one (pinged first
 * if it idled longer than idle_check; a dead one is replaced), else a new
 * one below max_size, else wait for a release. `timeout` < 0 means the
 * pool's acquire_timeout. NULL with SL_ETIMEDOUT ("no connection free in
 * pool ... : 10 of 10 in use, waited 2.0 s"), SL_ECANCELLED, or a connect
 * error. The connection returns to the pool when the task ends, if the
 * task does not release it.
 */
struct sl_db_conn *sl_db_pool_acquire(struct sl_db_pool *p, double timeout);

/**
 * Give a connection back. An open transaction is rolled back, an open
 * pipeline, COPY or cursor is ended; a lost connection is closed.
 */
void sl_db_pool_release(struct sl_db_conn *c);

/** Counters of a pool. */
struct sl_db_pool_stats {
	/** Connections open (idle and in use). */
	size_t size;
	/** Connections idle in the pool. */
	size_t idle;
	/** Tasks waiting in sl_db_pool_acquire(). */
	size_t waiting;
	/** Connections opened over the pool's life. */
	uint64_t connects;
	/** Connects that failed. */
	uint64_t connect_failures;
	/** Connections closed because they were lost or failed a ping. */
	uint64_t discarded;
};

/** Read the pool's counters. */
void sl_db_pool_stats(const struct sl_db_pool *p, struct sl_db_pool_stats *st);

/* ------------------------------------------------------------------ */
/* Helpers                                                               */

/**
 * Append `ident` to `out` quoted as an SQL identifier ("a""b"). A dotted
 * name is not split. 0, or -1 with SL_EOOM/SL_ELIMIT.
 */
struct sl_buf;
int sl_db_ident(struct sl_buf *out, const char *ident);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_DB_H */
