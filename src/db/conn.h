/*
 * sluice: the database layer's internals shared by its modules: the
 * connection every driver fills in, the driver interface, and results.
 *
 * conn.c holds what does not depend on a driver: the one-task-at-a-time
 * guard, transactions (as SQL), URI helpers; bulk.c the entry points of
 * pipelines, COPY and cursors. drivers.c lists the drivers (pg/ and
 * sqlite.c); each reaches the layer only through struct sl_db_driver.
 * pool.c hands connections out.
 *
 * sl_db_conn_open() picks the driver by URI (sl_db_driver_for(): a
 * driver's schemes first, "postgresql://", "postgres://", "sqlite:", then
 * whichever claims the rest, as PostgreSQL does key=value strings). Every
 * entry point first claims the connection for the calling task
 * (sl_db_conn_enter()); a second task gets SL_EBUSY naming the first, and
 * the driver is never reached. Messages show the URI without its password
 * (sl_uri_redact(), kept in `shown`).
 *
 * Transactions are SQL that conn.c issues from the dialect: the driver's
 * BEGIN with isolation and read-only, SAVEPOINT sl_sp_N for nested ones.
 * A failed statement aborts the transaction until it, or a savepoint, is
 * rolled back, on every driver: PostgreSQL refuses further statements
 * itself (dialect aborts_tx); for SQLite conn.c refuses them with
 * SL_EABORTED. Committing an aborted transaction rolls it back and fails
 * with SL_EDB on both. The outermost sl_db_tx_begin() registers an exit hook
 * on its task (tx_hook): a task that ends inside its transaction has it
 * rolled back with a warning, pooled connection or not.
 */
#ifndef SLUICE_DB_CONN_H
#define SLUICE_DB_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/db.h"
#include "sluice/dbstats.h"
#include "sluice/list.h"
#include "sluice/task.h"

struct sl_db_pool;

/** Cap on a buffer or result arena of the layer (PostgreSQL's 1 GiB). */
#define SL_DB_BUF_MAX ((size_t)1 << 30)
/** Chunk size of a result's arena. */
#define SL_DB_ARENA_CHUNK ((size_t)16 << 10)

struct sl_column;

/**
 * How a driver's SQL differs from the others': what models write and
 * bind, how results decode, and how transactions behave. The layer's
 * generic code (conn.c, model.c) reads these instead of asking which
 * driver it has.
 */
struct sl_db_dialect {
	/** The SQL type of model column `col` in CREATE TABLE. */
	const char *(*col_type)(const struct sl_column *col);
	/** Whether an auto column's type declares the primary key itself. */
	bool auto_is_pk;
	/** Whether a column's default_sqlite, when set, is the default. */
	bool use_default_sqlite;
	/**
	 * Convert `v` bound to column `col` into `out` (anything built in
	 * `a`), or NULL: values bind as they are. 0, or -1.
	 */
	int (*bind)(const struct sl_column *col, const struct sl_value *v,
	            struct sl_arena *a, struct sl_value *out);
	/**
	 * Decode `v` read back from column `col` in place (anything built in
	 * `a`), or NULL: values come back decoded. 0, or -1.
	 */
	int (*decode)(const struct sl_column *col, struct sl_value *v,
	              struct sl_arena *a);
	/** What follows a parameter to make it JSON ("::jsonb", or ""). */
	const char *json_cast;
	/** Merging a JSON column with a patch: the SQL before the column. */
	const char *merge_open;
	/** The SQL between the column and the patch. */
	const char *merge_mid;
	/** The SQL after the patch. */
	const char *merge_close;
	/** Whether DDL leaves cached prepared statements stale. */
	bool ddl_stales;
	/**
	 * Whether the database refuses statements in a transaction after one
	 * failed, and answers the COMMIT of such a transaction with a
	 * rollback and no error; when not, the layer does both.
	 */
	bool aborts_tx;
	/**
	 * Write the BEGIN of an outermost transaction with `opts` (NULL: the
	 * defaults) to sql[0..size). 0, or -1 with SL_EINVAL for options the
	 * database lacks (naming `c`).
	 */
	int (*begin)(const struct sl_db_conn *c,
	             const struct sl_db_tx_opts *opts, char *sql, size_t size);
	/** The statement that sets a savepoint, up to its name. */
	const char *savepoint;
	/** The statement that releases a savepoint, up to its name. */
	const char *release;
	/** The statement that rolls back to a savepoint, up to its name. */
	const char *rollback_to;
	/** The statement sl_db_conn_ping() runs (NULL: "SELECT 1"). */
	const char *ping;
};

/** Transaction control a driver does itself (sl_db_driver.tx). */
enum sl_db_txop {
	SL_DB_TX_BEGIN,    /**< start the outermost transaction */
	SL_DB_TX_COMMIT,   /**< commit it */
	SL_DB_TX_ROLLBACK, /**< roll it back */
};

/**
 * What a driver implements. Every call is made from a task. The
 * operations that take an open connection (query, script, forget, and
 * the begin/push/sync/next/fetch of pipelines, COPY and cursors) run
 * between sl_db_conn_enter() and sl_db_conn_leave(), which the caller did; the
 * others say what they expect. A driver leaves an operation it lacks NULL
 * (all of a group: pipelines, COPY or cursors), and the layer then fails
 * naming it.
 */
struct sl_db_driver {
	/** Name in messages ("postgresql", "sqlite"). */
	const char *name;
	/** What sl_db_conn_kind() answers. */
	enum sl_db_kind kind;
	/** URI prefixes it takes ("sqlite:"), NULL-terminated. */
	const char *const *schemes;
	/** Whether it takes `url`, which has none of the schemes, or NULL. */
	bool (*claims)(const char *url);
	/** The URI forms it takes, for messages ("sqlite:PATH"). */
	const char *forms;
	/** Its SQL dialect. */
	const struct sl_db_dialect *dialect;
	/** Connect `c` (url, opts filled in); set c->impl. 0, or -1. */
	int (*open)(struct sl_db_conn *c);
	/** Disconnect and free c->impl (c->impl may be NULL). */
	void (*close)(struct sl_db_conn *c);
	/** One statement with parameters (see sl_db_query()). */
	struct sl_db_result *(*query)(struct sl_db_conn *c, const char *sql,
	                              size_t n, const struct sl_value *params);
	/** A script of statements without parameters. 0, or -1. */
	int (*script)(struct sl_db_conn *c, const char *sql);
	/** Drop cached prepared statements. 0, or -1. */
	int (*forget)(struct sl_db_conn *c);
	/** A new pipeline on `c` (see sl_db_pipeline_begin()), or NULL. */
	struct sl_db_pipeline *(*pipeline_begin)(struct sl_db_conn *c);
	/** Queue a statement (see sl_db_pipeline_push()). */
	long (*pipeline_push)(struct sl_db_pipeline *pl, const char *sql,
	                      size_t n, const struct sl_value *params);
	/** Set a sync point (see sl_db_pipeline_sync()). */
	int (*pipeline_sync)(struct sl_db_pipeline *pl);
	/** The next result (see sl_db_pipeline_next()). */
	struct sl_db_result *(*pipeline_next)(struct sl_db_pipeline *pl);
	/**
	 * Whether the next result was already read from the server, or its
	 * replies are (so sl_db_pipeline_next() will hardly wait, and is not
	 * timed as an operation), or NULL: every read is timed.
	 */
	bool (*pipeline_ready)(const struct sl_db_pipeline *pl);
	/**
	 * Read what is left when `live` (the connection entered; else an
	 * error says why not), free `pl`. 0, or -1 with the first failure.
	 */
	int (*pipeline_end)(struct sl_db_pipeline *pl, bool live);
	/** Start a COPY of `ncols` > 0 columns (see sl_db_copy_begin()). */
	struct sl_db_copy *(*copy_begin)(struct sl_db_conn *c,
	                                 const char *table,
	                                 const char *const *columns,
	                                 size_t ncols);
	/**
	 * Add a row (see sl_db_copy_row()); called without entering the
	 * connection, which the driver enters when it has to send.
	 */
	int (*copy_row)(struct sl_db_copy *cp, const struct sl_value *values);
	/**
	 * Finish the COPY (`why` NULL) or abandon it saying `why`, when
	 * `live` (entered; else an error says why not); free `cp`. 0 with the
	 * rows copied in *rows (may be NULL), or -1.
	 */
	int (*copy_end)(struct sl_db_copy *cp, bool live, const char *why,
	                int64_t *rows);
	/** Declare a cursor fetching `batch` > 0 rows at a time. */
	struct sl_db_cursor *(*cursor_open)(struct sl_db_conn *c,
	                                    const char *sql, size_t n,
	                                    const struct sl_value *params,
	                                    size_t batch);
	/** The next rows (see sl_db_cursor_fetch()). */
	struct sl_db_result *(*cursor_fetch)(struct sl_db_cursor *cur);
	/** Close the cursor on the server when `live` (entered), free it. */
	int (*cursor_close)(struct sl_db_cursor *cur, bool live);
	/**
	 * Transaction control outside the language (Bolt's BEGIN, COMMIT
	 * and ROLLBACK messages), or NULL: conn.c runs the dialect's SQL.
	 * With it there are no nested transactions (savepoints). `opts` is
	 * given to BEGIN only (NULL: defaults). Entered like script. 0, or
	 * -1.
	 */
	int (*tx)(struct sl_db_conn *c, enum sl_db_txop op,
	          const struct sl_db_tx_opts *opts);
};

/** What every driver's pipeline starts with (the layer fills it in). */
struct sl_db_pipeline {
	/** The connection, or NULL once it closed. */
	struct sl_db_conn *c;
	/** The driver. */
	const struct sl_db_driver *drv;
};

/** What every driver's COPY starts with (the layer fills it in). */
struct sl_db_copy {
	/** The connection. */
	struct sl_db_conn *c;
	/** The driver. */
	const struct sl_db_driver *drv;
};

/** What every driver's cursor starts with (the layer fills it in). */
struct sl_db_cursor {
	/** The connection. */
	struct sl_db_conn *c;
	/** The driver. */
	const struct sl_db_driver *drv;
};

/** A connection: the driver-independent part. */
struct sl_db_conn {
	/** The driver. */
	const struct sl_db_driver *drv;
	/** The driver's state. */
	void *impl;
	/** The URI as given (with its password; never shown). */
	char *url;
	/** The URI without its password, for messages. */
	char shown[SL_DB_URL_MAX];
	/** Options. */
	struct sl_db_conn_opts opts;
	/** Task inside an operation on the connection now, or NULL. */
	struct sl_task *owner;
	/** Open transactions (savepoints count). */
	int tx_depth;
	/** Whether the outermost transaction failed and needs a rollback. */
	bool tx_failed;
	/** Set once the connection was lost. */
	bool broken;
	/** Open pipeline, COPY or cursors (for release and misuse checks). */
	struct sl_db_pipeline *pipeline;
	/** Open COPY, or NULL. */
	struct sl_db_copy *copy;
	/** Cursors opened and not closed. */
	unsigned cursors;
	/** Counter for cursor and savepoint names. */
	uint64_t name_seq;
	/** Server version, or 0. */
	int server_version;
	/** sl_clock() when connected. */
	double born;
	/** sl_clock() when last released to a pool. */
	double idle_since;
	/** The pool it belongs to, or NULL. */
	struct sl_db_pool *pool;
	/** Link in the pool's idle list. */
	struct sl_list link;
	/** Task that acquired it from the pool, or NULL. */
	struct sl_task *holder;
	/** Runs sl_db_pool_release() if the holder ends without releasing. */
	struct sl_task_hook hook;
	/**
	 * Rolls the transaction back if the task that began it ends inside
	 * it (registered on that task while a transaction is open).
	 */
	struct sl_task_hook tx_hook;
	/** Whether `tx_hook` is registered. */
	bool tx_hooked;
	/** The counters of its database (sluice/dbstats.h). */
	struct sl_db_stats *stats;
	/** sl_clock() when the operation under way began. */
	double op_start;
};

/**
 * The counters of the database shown as `shown` (made on first use; the
 * shared "other" entry past SL_DB_STATS_MAX). Never NULL.
 */
struct sl_db_stats *sl_db_stats_for(const char *shown);

/**
 * Start an operation: fail with SL_EBUSY naming the task that is using
 * `c`, with SL_EIO if the connection was lost, or SL_EINVAL when a
 * pipeline or COPY is open and `what` is not part of it. Called first by
 * every public entry point; pair with sl_db_conn_leave().
 */
int sl_db_conn_enter(struct sl_db_conn *c, const char *what);

/** End the operation sl_db_conn_enter() started. */
void sl_db_conn_leave(struct sl_db_conn *c);

/**
 * sl_db_conn_enter() for a step that only queues (a pipeline push): the
 * same checks, but no clock is started and sl_db_conn_leave_untimed()
 * observes nothing in the latency histogram.
 */
int sl_db_conn_enter_untimed(struct sl_db_conn *c, const char *what);

/** End the step sl_db_conn_enter_untimed() started. */
void sl_db_conn_leave_untimed(struct sl_db_conn *c);

/**
 * End what was left open on `c`: a pipeline, a COPY, a transaction with
 * its cursors. Whether the connection can be used again.
 */
bool sl_db_conn_settle(struct sl_db_conn *c);

/**
 * Refuse a statement `what` while a pipeline or COPY holds `c`, or, unless
 * `control` (transaction control), inside a transaction a failed statement
 * aborted where the driver's database would go on. 0, or -1 with
 * SL_EINVAL or SL_EABORTED.
 */
int sl_db_conn_check(struct sl_db_conn *c, const char *what, bool control);

/**
 * Run a statement inside an operation already entered on `c` (a driver's
 * COPY or cursor uses it): the driver's query, and a failure inside a
 * transaction marks it failed. The result, or NULL with an error.
 */
struct sl_db_result *sl_db_conn_query_in(struct sl_db_conn *c, const char *sql,
                                         size_t n,
                                         const struct sl_value *params);

/** The SQL dialect of `c`'s driver. */
static inline const struct sl_db_dialect *
sl_db_conn_dialect(const struct sl_db_conn *c)
{
	return c->drv->dialect;
}

/** Forget the open transaction (it ended, or the session did). */
void sl_db_conn_tx_ended(struct sl_db_conn *c);

/** Allocate a connection for `url` and pick its driver. NULL, or -1. */
struct sl_db_conn *sl_db_conn_alloc(const char *url,
                                    const struct sl_db_conn_opts *o);

/** Free what sl_db_conn_alloc() made (the driver already closed). */
void sl_db_conn_free(struct sl_db_conn *c);

/**
 * The registered driver that takes `url`: the first whose scheme starts
 * it, else the first that claims it. NULL if none does (no error set).
 */
const struct sl_db_driver *sl_db_driver_for(const char *url);

/** Write the URI forms of every driver ("a, b or c") to out[0..size). */
void sl_db_driver_forms(char *out, size_t size);

/**
 * A result. Values live in `arena`, or in `keep` (the driver's own result
 * buffer, freed with `keep_free`).
 */
struct sl_db_result {
	/** Where decoded values and names live. */
	struct sl_arena arena;
	/** Rows. */
	size_t nrows;
	/** Columns. */
	size_t ncols;
	/** Column names (NUL-terminated). */
	const char **names;
	/** nrows * ncols values, row by row. */
	struct sl_value *cells;
	/** Rows affected, or -1. */
	int64_t affected;
	/** Command tag. */
	char tag[64];
	/**
	 * Named counters of the statement's summary (an object of integers
	 * in `arena`), or null: see sl_db_result_stat().
	 */
	struct sl_value stats;
	/** Driver memory values may point into, or NULL. */
	void *keep;
	/** Frees `keep`. */
	void (*keep_free)(void *keep);
	/**
	 * Cell storage the result owns (sl_db_result_room()), or NULL; a
	 * recycled result keeps it for the next.
	 */
	struct sl_value *own;
	/** Values `own` has room for. */
	size_t own_cap;
};

/**
 * A new result with room for `nrows` x `ncols` cells (nulls) and names.
 * NULL with SL_EOOM. Results freed on the same thread are recycled (their
 * arena's chunks and own cell storage kept, up to RESULT_KEEP bytes each
 * for a few of them) so that a query loop does not make the C library
 * return memory to the kernel and fault it in again per result.
 */
struct sl_db_result *sl_db_result_new(size_t nrows, size_t ncols);

/**
 * Room for `n` values in the result's own cell storage, keeping the
 * values already there (for a driver that learns the row count as rows
 * arrive: it points `cells` at the storage when done). NULL with SL_EOOM
 * or SL_ELIMIT.
 */
struct sl_value *sl_db_result_room(struct sl_db_result *r, size_t n);

/** Set the tag and parse the affected count from it. */
void sl_db_result_set_tag(struct sl_db_result *r, const char *tag);

#endif /* SLUICE_DB_CONN_H */
