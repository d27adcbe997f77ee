/*
 * sluice: the PostgreSQL driver's internals, shared by its files: libpq in
 * non-blocking pipeline mode on the task runtime.
 *
 * connect.c connects (PQconnectStartParams/PQconnectPoll), closes and
 * cancels; protocol.c holds the engine (errors, waits, the expected
 * replies and their results); exec.c the statement cache, parameters,
 * single statements and scripts; fast.c the direct path of single
 * statements; pipeline.c, copy.c and cursor.c the
 * operations of those names; driver.c the ops and dialect tables
 * (sl_pg_driver). ../pgtype.c encodes and decodes values (sl_pgtype_*).
 *
 * A connection stays in libpq's pipeline mode from connect to close. Every
 * operation, a single sl_db_query() as much as a user's sl_db_pipeline,
 * goes through one engine: what was sent is recorded in a FIFO of
 * expected replies (prepare, describe, statement, deallocate, sync) and
 * replies are read back in that order. COPY and multi-statement scripts
 * need libpq's normal mode and leave pipeline mode while they run.
 *
 * A statement is prepared once per connection (named sl_N) with a
 * describe, which gives its parameter types (values are encoded for the
 * server's types: binary for integers, floats, bool, bytea, json and
 * jsonb, text otherwise, arrays as array literals so `= ANY($1)` takes a
 * list) and its result types (binary results when every column has a
 * binary decoder, else text). The cache is LRU, opts.stmt_cache entries
 * (256 by default); an eviction sends DEALLOCATE. A statement made stale
 * by DDL ("cached plan must not change result type", or a name that is
 * gone) is prepared and run again outside a transaction; inside one the
 * error says to roll back and retry.
 *
 * Waits go through an sl_io watcher on a duplicate of PQsocket(), which is
 * re-read after every connect step, with the statement's deadline. A
 * server error of severity FATAL or PANIC (an administrator's terminate,
 * 57P01) marks the connection lost at once; libpq's messages are folded
 * into one line. A wait that runs out of time, or a cancelled task, sends
 * PQcancel from a thread (sl_offload(); it blocks) and reads the replies
 * up to the sync point, giving them 5 s before the
 * connection is dropped; the task's cancellation is restored afterwards.
 *
 * Results decode row by row into one arena per result. A single
 * statement already prepared and described, on an idle connection without
 * TLS or GSS encryption, takes the direct path of fast.c: Bind, Execute
 * and Sync written to the socket and the replies parsed there, without
 * libpq's PGresult (see fast.c for why libpq's state stays right). A user
 * pipeline
 * (sl_db_pipeline_* in sluice/db.h) queues statements without waiting; a
 * statement not yet prepared is prepared with a flush request in the
 * middle of the pipeline. A user pipeline begun on such an idle
 * connection takes the direct path from its first statement to its end:
 * fast.c writes Parse, Describe, Flush, Close, Bind, Execute and Sync and
 * parses the replies, with this engine's queues and failure rules (the
 * statements, sent or cached, are the same on both paths).
 * SLUICE_PG_DIRECT=0 in the environment turns the direct path off (the
 * tests run libpq's path that way). Each failure is reported on its own
 * statement, the rest of its segment as SL_EABORTED. COPY is binary, or text
 * when a column's type has no binary encoder; it learns the column types from
 * the cached describe of `SELECT cols FROM table LIMIT 0`. A cursor is
 * `DECLARE ... NO SCROLL CURSOR` inside the open transaction, fetched
 * `batch` rows at a time (FETCH FORWARD).
 */
#ifndef SLUICE_DB_PG_PG_H
#define SLUICE_DB_PG_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../conn.h"
#include "../pgtype.h"
#include "pq_dl.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/io.h"
#include "sluice/list.h"

/** Longest statement text quoted in an error. */
#define SQL_SHOWN 160

/** A prepared statement in a connection's cache. */
struct pg_stmt {
	/** Statement text (owned). */
	char *sql;
	/** Its hash. */
	uint64_t hash;
	/** Server-side name ("sl_<n>"). */
	char name[24];
	/** Parameter types from the describe. */
	uint32_t *ptypes;
	/** Number of parameters. */
	int nparams;
	/** Result format to ask for: 1 when every column decodes binary. */
	int rfmt;
	/**
	 * Whether every column decodes binary to values that do not point
	 * into the row (sl_pgtype_by_value()): the direct path decodes its
	 * rows without copying them.
	 */
	bool byval;
	/** Result column types. */
	uint32_t *ctypes;
	/** Number of result columns. */
	int ncols;
	/**
	 * Result column names from the describe (one allocation: the
	 * pointers, then the strings), or NULL.
	 */
	char **cnames;
	/** Whether the describe came back (else the prepare is in flight). */
	bool ready;
	/**
	 * Expected replies queued that refer to it (it is not evicted from
	 * the cache while any is).
	 */
	unsigned queued;
	/** Link in the LRU list (most recent at the tail). */
	struct sl_list lru;
	/** Next statement in the same hash bucket. */
	struct pg_stmt *next;
};

/** Kinds of expected replies. */
enum exp_kind {
	EXP_PREPARE,  /**< reply to Parse of `stmt` */
	EXP_DESCRIBE, /**< reply to Describe of `stmt` */
	EXP_USER,     /**< a statement whose result someone reads */
	EXP_INTERNAL, /**< a statement whose result is dropped */
	EXP_SYNC,     /**< a sync point */
};

/** One expected reply. */
struct pg_exp {
	/** What it is. */
	enum exp_kind kind;
	/** The statement (prepare/describe), or NULL. */
	struct pg_stmt *stmt;
	/** User statement index (EXP_USER). */
	long idx;
};

/** A finished user statement, waiting to be read. */
struct pg_done {
	/** Its index. */
	long idx;
	/** The result, or NULL on failure. */
	struct sl_db_result *r;
	/** Failure code. */
	enum sl_errcode code;
	/** Failure message (owned), or NULL. */
	char *msg;
	/** SQLSTATE of a server error, or "". */
	char sqlstate[6];
};

/** A pipeline: the engine's state for one operation or a user pipeline. */
struct pg_pipe {
	/** The layer's part (its connection). */
	struct sl_db_pipeline base;
	/** Expected replies (a ring). */
	struct pg_exp *exp;
	/** Index of the first expected reply. */
	size_t exp_head;
	/** Expected replies queued. */
	size_t exp_len;
	/** Room in `exp`. */
	size_t exp_cap;
	/** Expected replies of kind EXP_USER queued. */
	size_t exp_user;
	/** Finished statements (a ring). */
	struct pg_done *done;
	/** Index of the first finished statement. */
	size_t done_head;
	/** Finished statements queued. */
	size_t done_len;
	/** Room in `done`. */
	size_t done_cap;
	/** Index of the next user statement. */
	long next_idx;
	/** User statements pushed and not yet read. */
	long unread;
	/** Index of the statement that failed in the current segment, or -1. */
	long seg_failed;
	/** Whether statements were queued since the last sync point. */
	bool need_sync;
	/** Whether this is a user pipeline (sl_db_pipeline_begin()). */
	bool user;
	/** Whether the path (libpq or direct) was chosen (at the first push).
	 */
	bool chosen;
	/**
	 * Whether this user pipeline takes the direct path (fast.c): its
	 * messages are written and its replies parsed without libpq.
	 */
	bool direct;
	/**
	 * Direct path: a reply of this segment was an error, so the server
	 * skips everything up to the sync point (nothing more comes for it).
	 */
	bool seg_aborted;
	/** Statement texts by index, for messages (user pipelines: none). */
	const char *sql;
};

/** The driver's per-connection state. */
struct pg_conn {
	/** libpq's connection. */
	PGconn *pg;
	/** Watcher on the socket. */
	struct sl_io io;
	/** Whether `io` is set up. */
	bool io_ok;
	/** Statement cache buckets. */
	struct pg_stmt **buckets;
	/** Number of buckets (a power of two). */
	size_t nbuckets;
	/** Statements cached. */
	size_t nstmts;
	/** LRU list of statements. */
	struct sl_list lru;
	/** Counter for statement names. */
	uint64_t stmt_seq;
	/** Parameter bytes being built. */
	struct sl_buf pbuf;
	/** Offsets of parameters in pbuf (or SIZE_MAX for NULL). */
	size_t *poff;
	/** Parameter value pointers for libpq. */
	const char **pvals;
	/** Parameter lengths. */
	int *plens;
	/** Parameter formats. */
	int *pfmts;
	/** Room in the parameter arrays. */
	size_t pcap;
	/** The engine state for single operations. */
	struct pg_pipe op;
	/** Deadline of the current wait (sl_clock), or INFINITY. */
	double deadline;
	/** Why the current operation was cancelled on the server, or 0. */
	enum sl_errcode cancelled;
	/** Whether the task's own cancellation must be restored. */
	bool recancel;
	/** Whether pipeline mode is on. */
	bool piped;
	/**
	 * Whether single statements may take the direct path (fast.c): the
	 * socket carries the protocol as it is (no TLS, no GSS encryption).
	 */
	bool fast;
	/** The direct path's read buffer. */
	char *rbuf;
	/** Bytes in `rbuf`. */
	size_t rlen;
	/** Bytes of `rbuf` already parsed. */
	size_t rpos;
	/** Room in `rbuf`. */
	size_t rcap;
	/** The direct path's outgoing messages. */
	struct sl_buf wbuf;
};

/** The driver state of `c`. */
static inline struct pg_conn *
PG(struct sl_db_conn *c)
{
	return c->impl;
}

/* protocol.c: errors, waits, the engine */

/** snprintf() for messages, where truncation is expected and fine. */
__attribute__((format(printf, 3, 4))) void sl_pg_msgf(char *out, size_t size,
                                                      const char *fmt, ...);

/**
 * Copy `msg` into `out` as one line: line breaks and tabs (libpq indents
 * its second lines with one) become single spaces, and trailing blanks go.
 */
void sl_pg_one_line(const char *msg, char *out, size_t size);

/** Mark the connection lost and raise SL_EIO. */
int sl_pg_lost(struct sl_db_conn *c, const char *when);

/** Format a server error of `res` for statement `sql` into `out`. */
void sl_pg_server_error(struct sl_db_conn *c, const PGresult *res,
                        const char *sql, char *out, size_t size,
                        char sqlstate[6]);

/**
 * Format a server error from its fields (severity localized and not,
 * primary message, detail, hint, SQLSTATE; any may be NULL) for statement
 * `sql` into `out`, its SQLSTATE into `sqlstate`. FATAL and PANIC mark the
 * connection broken.
 */
void sl_pg_format_error(struct sl_db_conn *c, const char *sev,
                        const char *sev_c, const char *primary,
                        const char *detail, const char *hint, const char *state,
                        const char *sql, char *out, size_t size,
                        char sqlstate[6]);

/**
 * Wait until the socket is ready for `events`, honouring the deadline
 * and cancellation (which start a server-side cancel and go on waiting).
 * 0, or -1 with an error.
 */
int sl_pg_wait_io(struct sl_db_conn *c, int events);

/** Send what libpq holds, reading replies meanwhile. 0, or -1. */
int sl_pg_flush_all(struct sl_db_conn *c);

/**
 * The next reply from libpq (NULL ends one statement's replies), waiting
 * as needed. Returns 0 with *out set, or -1 (connection lost, or the
 * cancel grace ran out).
 */
int sl_pg_next_result(struct sl_db_conn *c, PGresult **out);

/** Start an operation's clock. */
void sl_pg_op_start(struct sl_db_conn *c);

/**
 * End an operation: turn a server "canceling statement" error into the
 * reason sluice cancelled (timeout or task cancellation) and restore the
 * task's cancellation. Returns rc, or -1.
 */
int sl_pg_op_finish(struct sl_db_conn *c, int rc);

/** Queue an expected reply. 0, or -1 with SL_EOOM. */
int sl_pg_exp_push(struct pg_pipe *pl, enum exp_kind kind, struct pg_stmt *s,
                   long idx);

/**
 * Take the next expected reply off the queue (there is one), with the
 * counts that follow it (user replies, its statement's queued replies).
 */
struct pg_exp sl_pg_exp_pop(struct pg_pipe *pl);

/** Queue a finished statement. 0, or -1 with SL_EOOM. */
int sl_pg_done_push(struct pg_pipe *pl, const struct pg_done *d);

/** Free what a finished statement holds. */
void sl_pg_done_clear(struct pg_done *d);

/** Record a failed user statement `idx`. */
int sl_pg_done_fail(struct pg_pipe *pl, long idx, enum sl_errcode code,
                    const char *msg, const char *sqlstate);

/**
 * Read the replies of the first expected entry. Finished user statements
 * go to the done queue. 0, or -1 when the connection failed (an error is
 * set; what was queued is dropped by the caller).
 */
int sl_pg_pump_one(struct pg_pipe *pl);

/** Queue a sync point if statements are waiting for one. 0, or -1. */
int sl_pg_send_sync(struct pg_pipe *pl);

/** Read every expected reply. 0, or -1 if the connection failed. */
int sl_pg_drain(struct pg_pipe *pl);

/** Drop everything queued on a pipeline (after the connection failed). */
void sl_pg_pipeline_reset(struct pg_pipe *pl);

/** Pop the first finished statement into a result or an error. */
struct sl_db_result *sl_pg_done_pop(struct pg_pipe *pl, char sqlstate[6]);

/* connect.c: connecting, closing, cancelling */

/**
 * A wait ran out of time or the task was cancelled (`why`): ask the
 * server to cancel, and give the replies CANCEL_GRACE more seconds.
 * Returns 0 to keep reading, -1 when the connection has to go.
 */
int sl_pg_start_cancel(struct sl_db_conn *c, enum sl_errcode why);

/** Connect (the non-blocking dance) and enter pipeline mode. */
int sl_pg_open(struct sl_db_conn *c);

/** Free the driver state. */
void sl_pg_close(struct sl_db_conn *c);

/* exec.c: the statement cache, single statements, scripts */

/**
 * A new statement for `sql` (`len` bytes, hash `h`) under a fresh name,
 * added to the cache; the caller sends its Parse. NULL (out of memory).
 */
struct pg_stmt *sl_pg_stmt_new(struct pg_conn *p, const char *sql, size_t len,
                               uint64_t h);

/** Take `s` out of the cache and free it (client side only). */
void sl_pg_stmt_drop(struct pg_conn *p, struct pg_stmt *s);

/** Mark cached statement `s` the most recently used. */
static inline void
sl_pg_stmt_touch(struct pg_conn *p, struct pg_stmt *s)
{
	sl_list_del(&s->lru);
	sl_list_add_tail(&p->lru, &s->lru);
}

/** Drop every cached statement (client side only). */
void sl_pg_stmt_clear(struct pg_conn *p);

/**
 * The next statement to evict from the full cache of `c`: walking the LRU
 * list from `*it` (start at the list's first entry, `&p->lru` ends it),
 * the first statement no queued reply refers to. `*it` moves past it, so
 * the caller may drop it and call again. NULL when the cache has room or
 * no statement further on may go.
 */
struct pg_stmt *sl_pg_stmt_evictable(struct sl_db_conn *c, struct sl_list **it);

/** The cached statement for `sql`, or NULL. */
struct pg_stmt *sl_pg_stmt_find(struct pg_conn *p, const char *sql, size_t len,
                                uint64_t h);

/**
 * Queue one statement: prepare it if needed, encode, send. Returns 0, 1
 * when it failed before it was sent (its failure is queued as done when
 * `record`), or -1 with an error.
 */
int sl_pg_push(struct pg_pipe *pl, const char *sql, size_t n,
               const struct sl_value *params, long idx);

/**
 * Encode `n` parameters for `types` (`ntypes` of them) into the
 * connection's parameter arrays (pvals, plens, pfmts). 0, or -1 with an
 * error naming the parameter.
 */
int sl_pg_encode_params(struct sl_db_conn *c, const uint32_t *types, int ntypes,
                        size_t n, const struct sl_value *params,
                        const char *sql);

/**
 * Fail with SL_EINVAL unless `n` parameters are given for a statement
 * (`sql`) that takes `ntypes`. 0, or -1.
 */
int sl_pg_check_nparams(struct sl_db_conn *c, int ntypes, size_t n,
                        const char *sql);

/** Forget the cached statement for `sql` and deallocate it. */
void sl_pg_stmt_forget_sql(struct sl_db_conn *c, const char *sql);

/** Leave pipeline mode (for COPY and scripts). 0, or -1. */
int sl_pg_unpipe(struct sl_db_conn *c);

/** Enter pipeline mode again. 0, or -1. */
int sl_pg_repipe(struct sl_db_conn *c);

/** Read a normal-mode command's results to the end; keep the first error. */
int sl_pg_read_plain(struct sl_db_conn *c, const char *sql,
                     PGresult **keep_last);

/** sl_db_query() on PostgreSQL. */
struct sl_db_result *sl_pg_query(struct sl_db_conn *c, const char *sql,
                                 size_t n, const struct sl_value *params);

/** A script of statements (simple query protocol). */
int sl_pg_script(struct sl_db_conn *c, const char *sql);

/** Deallocate every prepared statement. */
int sl_pg_forget(struct sl_db_conn *c);

/* fast.c: the direct path for single statements */

/** Whether the direct path may run now (libpq idle, nothing queued). */
bool sl_pg_fast_usable(struct sl_db_conn *c);

/**
 * The prepared and described statement for `sql` when the direct path may
 * run it now (moved to the LRU tail), else NULL.
 */
struct pg_stmt *sl_pg_fast_stmt(struct sl_db_conn *c, const char *sql);

/**
 * Run statement `s` once on the direct path: Bind, Execute, Sync, read
 * to ReadyForQuery. The result, or NULL with an error (a server error's
 * SQLSTATE in `sqlstate`).
 */
struct sl_db_result *sl_pg_fast_query(struct sl_db_conn *c, struct pg_stmt *s,
                                      size_t n, const struct sl_value *params,
                                      char sqlstate[6]);

/**
 * Direct path for a user pipeline: the cached, described statement for
 * `sql`, or prepared now (Parse, Describe and Flush written by fast.c,
 * earlier replies read meanwhile). NULL with an error as prepare() in
 * exec.c: SL_EDB when the server refused it, SL_EABORTED when an earlier
 * statement of the segment failed, others.
 */
struct pg_stmt *sl_pg_direct_prepare(struct pg_pipe *pl, const char *sql);

/**
 * Direct path: queue Bind (`n` parameters `params`, encoded into the
 * message) and Execute of `s` as statement `idx`, sending when enough is
 * queued. 0, or -1 (nothing queued when the parameters did not encode).
 */
int sl_pg_direct_execute(struct pg_pipe *pl, struct pg_stmt *s, size_t n,
                         const struct sl_value *params, long idx);

/** Direct path: queue a Sync and its expected reply. 0, or -1. */
int sl_pg_direct_sync(struct pg_pipe *pl);

/**
 * Direct path: send everything queued, reading replies meanwhile (so a
 * server blocked on its own sends cannot stall both sides). 0, or -1.
 */
int sl_pg_direct_flush(struct sl_db_conn *c);

/** Direct path: sl_pg_pump_one(). */
int sl_pg_direct_pump(struct pg_pipe *pl);

/* pipeline.c, copy.c, cursor.c: the driver operations */

/** A new user pipeline (the layer fills in its connection). */
struct sl_db_pipeline *sl_pg_pipeline_begin(struct sl_db_conn *c);

/** Queue a statement on a user pipeline. */
long sl_pg_pipeline_push(struct sl_db_pipeline *base, const char *sql, size_t n,
                         const struct sl_value *params);

/** Set a sync point on a user pipeline. */
int sl_pg_pipeline_sync(struct sl_db_pipeline *base);

/** The next result of a user pipeline. */
struct sl_db_result *sl_pg_pipeline_next(struct sl_db_pipeline *base);

/**
 * Whether a user pipeline's next result was already read, or (direct
 * path) a whole reply message is buffered: reading it will hardly wait.
 */
bool sl_pg_pipeline_ready(const struct sl_db_pipeline *base);

/** Read what is left of a user pipeline (when `live`) and free it. */
int sl_pg_pipeline_end(struct sl_db_pipeline *base, bool live);

/** Start a COPY (the layer fills in its connection). */
struct sl_db_copy *sl_pg_copy_begin(struct sl_db_conn *c, const char *table,
                                    const char *const *columns, size_t ncols);

/** Add a row to a COPY, sending a full chunk. */
int sl_pg_copy_row(struct sl_db_copy *base, const struct sl_value *values);

/** End the COPY with `errmsg` (abort) or NULL (finish), and free it. */
int sl_pg_copy_end(struct sl_db_copy *base, bool live, const char *errmsg,
                   int64_t *rows);

/** Declare a cursor (the layer fills in its connection). */
struct sl_db_cursor *sl_pg_cursor_open(struct sl_db_conn *c, const char *sql,
                                       size_t n, const struct sl_value *params,
                                       size_t batch);

/** The next rows of a cursor. */
struct sl_db_result *sl_pg_cursor_fetch(struct sl_db_cursor *base);

/** Close a cursor on the server when `live`, and free it. */
int sl_pg_cursor_close(struct sl_db_cursor *base, bool live);

#endif /* SLUICE_DB_PG_PG_H */
