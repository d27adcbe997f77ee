/*
 * sluice: the PostgreSQL driver: libpq in non-blocking pipeline mode on the
 * task runtime.
 *
 * A connection stays in libpq's pipeline mode from connect to close. Every
 * operation, a single sl_query() as much as a user's sl_pipeline, goes
 * through one engine: what was sent is recorded in a FIFO of expected
 * replies (prepare, describe, statement, deallocate, sync) and replies are
 * read back in that order. A statement is prepared once per connection
 * with a describe, which gives its parameter types (so values are encoded
 * for the server's types) and its result types (binary results when every
 * column has a binary decoder). COPY and multi-statement scripts need
 * libpq's normal mode and leave pipeline mode while they run.
 *
 * Waits go through an sl_io watcher on a duplicate of PQsocket(), which is
 * re-read after every connect step. A wait that runs out of time, or a
 * cancelled task, cancels the statement on the server (PQcancel blocks, so
 * it runs on a thread) and reads the replies up to the sync point, so the
 * connection stays usable.
 */
#include <assert.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "pgtype.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/hash.h"
#include "sluice/io.h"
#include "sluice/log.h"
#include "sluice/model.h"

/** Seconds to wait for a cancelled statement's reply before giving up. */
#define CANCEL_GRACE 5.0
/** Longest statement text quoted in an error. */
#define SQL_SHOWN 160
/** Bytes of COPY data gathered before they are sent. */
#define COPY_CHUNK (64 * 1024)

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
	/** Result column types. */
	uint32_t *ctypes;
	/** Number of result columns. */
	int ncols;
	/** Whether the describe came back (else the prepare is in flight). */
	bool ready;
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
	struct sl_result *r;
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
	struct sl_pipeline base;
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
	/** Whether this is a user pipeline (sl_pipeline_begin()). */
	bool user;
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
};

/** The driver state of `c`. */
static inline struct pg_conn *
PG(struct sl_conn *c)
{
	return c->impl;
}

/* {{{ errors */

/** snprintf() for messages, where truncation is expected and fine. */
__attribute__((format(printf, 3, 4))) static void
msgf(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

/**
 * Copy `msg` into `out` as one line: line breaks and tabs (libpq indents
 * its second lines with one) become single spaces, and trailing blanks go.
 */
static void
one_line(const char *msg, char *out, size_t size)
{
	if (size == 0)
		return;
	size_t n = 0;
	bool blank = false;
	for (const char *p = msg != NULL ? msg : ""; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
			blank = n > 0;
			continue;
		}
		if (blank && n + 1 < size)
			out[n++] = ' ';
		blank = false;
		if (n + 1 >= size)
			break;
		out[n++] = *p;
	}
	out[n] = '\0';
}

/** Mark the connection lost and raise SL_EIO. */
static int
lost(struct sl_conn *c, const char *when)
{
	char msg[300];
	one_line(PQerrorMessage(PG(c)->pg), msg, sizeof(msg));
	c->broken = true;
	sl_diag_set(SL_EIO, "%s: connection lost while %s: %s", c->shown, when,
	            msg[0] != '\0' ? msg : "no reason given");
	return -1;
}

/** Format a server error of `res` for statement `sql` into `out`. */
static void
server_error(struct sl_conn *c, const PGresult *res, const char *sql, char *out,
             size_t size, char sqlstate[6])
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *sev_c =
	        PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	snprintf(sqlstate, 6, "%s", state != NULL ? state : "");
	/* FATAL and PANIC end the session (an administrator's terminate,
	 * 57P01, is one): the connection is lost now, not at its next use. */
	if ((sev_c != NULL &&
	     (strcmp(sev_c, "FATAL") == 0 || strcmp(sev_c, "PANIC") == 0)) ||
	    PQstatus(PG(c)->pg) == CONNECTION_BAD)
		c->broken = true;
	char shown[SQL_SHOWN + 4];
	one_line(sql, shown, SQL_SHOWN);
	if (sql != NULL && strlen(sql) >= SQL_SHOWN)
		strcat(shown, "...");
	if (primary == NULL) {
		char msg[300];
		one_line(PQresultErrorMessage(res), msg, sizeof(msg));
		msgf(out, size, "%s: %s%s%s", c->shown, msg,
		     sql != NULL ? " in: " : "", sql != NULL ? shown : "");
		return;
	}
	msgf(out, size, "%s: %s: %s (SQLSTATE %s)%s%s%s%s%s%s", c->shown,
	     sev != NULL ? sev : "ERROR", primary, sqlstate,
	     detail != NULL ? "; " : "", detail != NULL ? detail : "",
	     hint != NULL ? "; hint: " : "", hint != NULL ? hint : "",
	     sql != NULL ? " in: " : "", sql != NULL ? shown : "");
}

/* }}} */
/* {{{ waiting, flushing, cancelling */

/** What runs PQcancel() on a thread. */
struct cancel_job {
	/** libpq's cancel object. */
	PGcancel *cn;
	/** Error text from PQcancel. */
	char err[256];
};

/** Send the cancel request (blocking; on a thread). */
static int
cancel_run(void *arg)
{
	struct cancel_job *j = arg;
	if (!PQcancel(j->cn, j->err, sizeof(j->err))) {
		sl_diag_set(SL_EIO, "cancel request failed: %s", j->err);
		return -1;
	}
	return 0;
}

/** Free a cancel job (after it ran, or if it was abandoned). */
static void
cancel_free(void *arg)
{
	struct cancel_job *j = arg;
	PQfreeCancel(j->cn);
	sl_free(j);
}

/**
 * A wait ran out of time or the task was cancelled (`why`): ask the
 * server to cancel, and give the replies CANCEL_GRACE more seconds.
 * Returns 0 to keep reading, -1 when the connection has to go.
 */
static int
start_cancel(struct sl_conn *c, enum sl_errcode why)
{
	struct pg_conn *p = PG(c);
	if (p->cancelled != 0) {
		/* Already cancelled and the grace ran out: give up. */
		c->broken = true;
		sl_diag_set(why == SL_ECANCELLED ? SL_ECANCELLED : SL_ETIMEDOUT,
		            "%s: the server did not answer a cancel request "
		            "within %.0f s; connection dropped",
		            c->shown, CANCEL_GRACE);
		return -1;
	}
	p->cancelled = why;
	if (why == SL_ECANCELLED && sl_task_is_cancelled()) {
		sl_task_uncancel();
		p->recancel = true;
	}
	struct cancel_job *j = sl_calloc(1, sizeof(*j));
	if (j != NULL)
		j->cn = PQgetCancel(p->pg);
	if (j == NULL || j->cn == NULL) {
		sl_free(j);
		c->broken = true;
		sl_diag_set(SL_EOOM, "%s: cannot make a cancel request",
		            c->shown);
		return -1;
	}
	p->deadline = sl_clock() + CANCEL_GRACE;
	if (sl_offload(cancel_run, j, cancel_free, CANCEL_GRACE) == 0)
		cancel_free(j);
	else
		sl_log_debug("%s: cancel request: %s", c->shown,
		             sl_diag_last() != NULL ? sl_diag_last()->msg : "");
	sl_diag_clear(sl_diag_get());
	return 0;
}

/**
 * Wait until the socket is ready for `events`, honouring the deadline
 * and cancellation (which start a server-side cancel and go on waiting).
 * 0, or -1 with an error.
 */
static int
wait_io(struct sl_conn *c, int events)
{
	struct pg_conn *p = PG(c);
	for (;;) {
		double left = isinf(p->deadline) ? SL_FOREVER
		                                 : p->deadline - sl_clock();
		if (left != SL_FOREVER && left < 0)
			left = 0;
		int rc = sl_io_wait(&p->io, events, left);
		if (rc > 0)
			return 0;
		enum sl_errcode code = sl_diag_code();
		if (code != SL_ETIMEDOUT && code != SL_ECANCELLED)
			return -1;
		if (start_cancel(c, code) != 0)
			return -1;
	}
}

/** Send what libpq holds, reading replies meanwhile. 0, or -1. */
static int
flush_all(struct sl_conn *c)
{
	struct pg_conn *p = PG(c);
	for (;;) {
		int rc = PQflush(p->pg);
		if (rc == 0)
			return 0;
		if (rc < 0)
			return lost(c, "sending");
		if (wait_io(c, SL_IO_READ | SL_IO_WRITE) != 0)
			return -1;
		if (!PQconsumeInput(p->pg))
			return lost(c, "reading");
	}
}

/**
 * The next reply from libpq (NULL ends one statement's replies), waiting
 * as needed. Returns 0 with *out set, or -1 (connection lost, or the
 * cancel grace ran out).
 */
static int
next_result(struct sl_conn *c, PGresult **out)
{
	struct pg_conn *p = PG(c);
	for (;;) {
		if (!PQisBusy(p->pg)) {
			*out = PQgetResult(p->pg);
			return 0;
		}
		int rc = PQflush(p->pg);
		if (rc < 0)
			return lost(c, "sending");
		if (wait_io(c, SL_IO_READ | (rc == 1 ? SL_IO_WRITE : 0)) != 0)
			return -1;
		if (!PQconsumeInput(p->pg))
			return lost(c, "reading");
	}
}

/** Start an operation's clock. */
static void
op_start(struct sl_conn *c)
{
	struct pg_conn *p = PG(c);
	p->deadline = c->opts.query_timeout < 0
	                      ? INFINITY
	                      : sl_clock() + c->opts.query_timeout;
	p->cancelled = 0;
	p->recancel = false;
}

/**
 * End an operation: turn a server "canceling statement" error into the
 * reason sluice cancelled (timeout or task cancellation) and restore the
 * task's cancellation. Returns rc, or -1.
 */
static int
op_finish(struct sl_conn *c, int rc)
{
	struct pg_conn *p = PG(c);
	if (p->cancelled != 0) {
		double t = c->opts.query_timeout;
		if (p->cancelled == SL_ETIMEDOUT)
			sl_diag_set(SL_ETIMEDOUT,
			            "%s: statement timed out after %.3g s and "
			            "was cancelled on the server",
			            c->shown, t);
		else
			sl_diag_set(SL_ECANCELLED,
			            "%s: the task was cancelled; its statement "
			            "was cancelled on the server",
			            c->shown);
		rc = -1;
	}
	if (p->recancel)
		sl_task_cancel(sl_task_current());
	p->cancelled = 0;
	p->recancel = false;
	p->deadline = INFINITY;
	return rc;
}

/* }}} */
/* {{{ statement cache */

/** Free a statement. */
static void
stmt_free(struct pg_stmt *s)
{
	if (s == NULL)
		return;
	sl_free(s->sql);
	sl_free(s->ptypes);
	sl_free(s->ctypes);
	sl_free(s);
}

/** Unlink `s` from the cache (it is freed by the caller). */
static void
stmt_unlink(struct pg_conn *p, struct pg_stmt *s)
{
	struct pg_stmt **pp = &p->buckets[s->hash & (p->nbuckets - 1)];
	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	sl_list_del(&s->lru);
	p->nstmts--;
}

/** Drop every cached statement (client side only). */
static void
stmt_clear(struct pg_conn *p)
{
	while (!sl_list_empty(&p->lru)) {
		struct pg_stmt *s =
		        sl_list_entry(p->lru.next, struct pg_stmt, lru);
		stmt_unlink(p, s);
		stmt_free(s);
	}
}

/** The cached statement for `sql`, or NULL. */
static struct pg_stmt *
stmt_find(struct pg_conn *p, const char *sql, size_t len, uint64_t h)
{
	for (struct pg_stmt *s = p->buckets[h & (p->nbuckets - 1)]; s != NULL;
	     s = s->next)
		if (s->hash == h && strncmp(s->sql, sql, len) == 0 &&
		    s->sql[len] == '\0')
			return s;
	return NULL;
}

/* }}} */
/* {{{ the engine: expected replies and finished statements */

/** Queue an expected reply. 0, or -1 with SL_EOOM. */
static int
exp_push(struct pg_pipe *pl, enum exp_kind kind, struct pg_stmt *s, long idx)
{
	if (pl->exp_len == pl->exp_cap) {
		size_t cap = pl->exp_cap != 0 ? pl->exp_cap * 2 : 16;
		struct pg_exp *e = sl_malloc(cap * sizeof(*e));
		if (e == NULL) {
			sl_diag_set(SL_EOOM, "out of memory queueing a "
			                     "statement");
			return -1;
		}
		for (size_t i = 0; i < pl->exp_len; i++)
			e[i] = pl->exp[(pl->exp_head + i) % pl->exp_cap];
		sl_free(pl->exp);
		pl->exp = e;
		pl->exp_cap = cap;
		pl->exp_head = 0;
	}
	struct pg_exp *e =
	        &pl->exp[(pl->exp_head + pl->exp_len++) % pl->exp_cap];
	e->kind = kind;
	e->stmt = s;
	e->idx = idx;
	if (kind == EXP_USER)
		pl->exp_user++;
	return 0;
}

/** Queue a finished statement. 0, or -1 with SL_EOOM. */
static int
done_push(struct pg_pipe *pl, const struct pg_done *d)
{
	if (pl->done_len == pl->done_cap) {
		size_t cap = pl->done_cap != 0 ? pl->done_cap * 2 : 16;
		struct pg_done *n = sl_malloc(cap * sizeof(*n));
		if (n == NULL) {
			sl_diag_set(SL_EOOM, "out of memory keeping a result");
			return -1;
		}
		for (size_t i = 0; i < pl->done_len; i++)
			n[i] = pl->done[(pl->done_head + i) % pl->done_cap];
		sl_free(pl->done);
		pl->done = n;
		pl->done_cap = cap;
		pl->done_head = 0;
	}
	pl->done[(pl->done_head + pl->done_len++) % pl->done_cap] = *d;
	return 0;
}

/** Free what a finished statement holds. */
static void
done_clear(struct pg_done *d)
{
	sl_result_free(d->r);
	sl_free(d->msg);
	d->r = NULL;
	d->msg = NULL;
}

/** Record a failed user statement `idx`. */
static int
done_fail(struct pg_pipe *pl, long idx, enum sl_errcode code, const char *msg,
          const char *sqlstate)
{
	struct pg_done d = {.idx = idx, .code = code};
	d.msg = sl_strndup(msg, strlen(msg));
	snprintf(d.sqlstate, sizeof(d.sqlstate), "%s",
	         sqlstate != NULL ? sqlstate : "");
	if (done_push(pl, &d) != 0) {
		sl_free(d.msg);
		return -1;
	}
	return 0;
}

/** Free the PGresult a result keeps. */
static void
keep_clear(void *res)
{
	PQclear(res);
}

/** Turn a PGresult with rows (or a command tag) into a result. */
static struct sl_result *
make_result(struct sl_conn *c, PGresult *res)
{
	size_t nrows = (size_t)PQntuples(res);
	size_t ncols = (size_t)PQnfields(res);
	struct sl_result *r = sl_result_new(nrows, ncols);
	if (r == NULL) {
		PQclear(res);
		return NULL;
	}
	r->keep = res;
	r->keep_free = keep_clear;
	sl_result_set_tag(r, PQcmdStatus(res));
	for (size_t j = 0; j < ncols; j++)
		r->names[j] = PQfname(res, (int)j);
	/* Column types and formats, looked up once (most results are narrow;
	 * wider ones look them up per cell). */
	enum { COLS_CACHED = 32 };
	uint32_t oids[COLS_CACHED];
	int fmts[COLS_CACHED];
	for (size_t j = 0; j < ncols && j < COLS_CACHED; j++) {
		oids[j] = PQftype(res, (int)j);
		fmts[j] = PQfformat(res, (int)j);
	}
	/* Row by row, the order libpq and the cells are laid out in. */
	for (size_t i = 0; i < nrows; i++) {
		for (size_t j = 0; j < ncols; j++) {
			/* A NULL has length 0: only then ask whether it is. */
			size_t len = (size_t)PQgetlength(res, (int)i, (int)j);
			if (len == 0 && PQgetisnull(res, (int)i, (int)j))
				continue;
			uint32_t oid = j < COLS_CACHED ? oids[j]
			                               : PQftype(res, (int)j);
			int fmt = j < COLS_CACHED ? fmts[j]
			                          : PQfformat(res, (int)j);
			const char *v = PQgetvalue(res, (int)i, (int)j);
			if (sl_pg_decode(oid, fmt, v, len, &r->arena,
			                 &r->cells[i * ncols + j]) != 0) {
				sl_diag_wrap(
				        SL_EPARSE, "%s: row %zu, column \"%s\"",
				        c->shown, i + 1, PQfname(res, (int)j));
				sl_result_free(r);
				return NULL;
			}
		}
	}
	return r;
}

/** Store the describe's types in `s`. 0, or -1 with SL_EOOM. */
static int
stmt_describe(struct pg_stmt *s, const PGresult *res)
{
	int np = PQnparams(res), nc = PQnfields(res);
	uint32_t *pt = np > 0 ? sl_malloc((size_t)np * sizeof(*pt)) : NULL;
	uint32_t *ct = nc > 0 ? sl_malloc((size_t)nc * sizeof(*ct)) : NULL;
	if ((np > 0 && pt == NULL) || (nc > 0 && ct == NULL)) {
		sl_free(pt);
		sl_free(ct);
		sl_diag_set(SL_EOOM, "out of memory describing a statement");
		return -1;
	}
	s->rfmt = 1;
	for (int i = 0; i < np; i++)
		pt[i] = PQparamtype(res, i);
	for (int i = 0; i < nc; i++) {
		ct[i] = PQftype(res, i);
		if (!sl_pg_binary_decodable(ct[i]))
			s->rfmt = 0;
	}
	sl_free(s->ptypes);
	sl_free(s->ctypes);
	s->ptypes = pt;
	s->ctypes = ct;
	s->nparams = np;
	s->ncols = nc;
	s->ready = true;
	return 0;
}

/**
 * Read the replies of the first expected entry. Finished user statements
 * go to the done queue. 0, or -1 when the connection failed (an error is
 * set; what was queued is dropped by the caller).
 */
static int
pump_one(struct pg_pipe *pl)
{
	struct sl_conn *c = pl->base.c;
	struct pg_conn *p = PG(c);
	assert(pl->exp_len > 0);
	struct pg_exp e = pl->exp[pl->exp_head];
	pl->exp_head = (pl->exp_head + 1) % pl->exp_cap;
	pl->exp_len--;
	if (e.kind == EXP_USER)
		pl->exp_user--;
	PGresult *res;
	if (next_result(c, &res) != 0)
		return -1;
	if (e.kind == EXP_SYNC) {
		ExecStatusType st =
		        res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		PQclear(res);
		if (st != PGRES_PIPELINE_SYNC) {
			c->broken = true;
			sl_diag_set(SL_EIO,
			            "%s: protocol out of step: expected a sync "
			            "point, got %s",
			            c->shown, PQresStatus(st));
			return -1;
		}
		pl->seg_failed = -1;
		return 0;
	}
	/* Every other reply is results then NULL. */
	PGresult *last = NULL;
	while (res != NULL) {
		if (last != NULL)
			PQclear(last);
		last = res;
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT ||
		    st == PGRES_COPY_BOTH) {
			PQclear(res);
			c->broken = true;
			sl_diag_set(SL_EINVAL,
			            "%s: COPY cannot run as a statement (use "
			            "sl_copy_begin()); connection dropped",
			            c->shown);
			return -1;
		}
		if (next_result(c, &res) != 0) {
			PQclear(last);
			return -1;
		}
	}
	ExecStatusType st =
	        last != NULL ? PQresultStatus(last) : PGRES_FATAL_ERROR;
	const char *sql = e.stmt != NULL ? e.stmt->sql : NULL;
	int rc = 0;
	if (st == PGRES_PIPELINE_ABORTED) {
		if (e.kind == EXP_USER) {
			char msg[SL_ERROR_MSG_MAX];
			msgf(msg, sizeof(msg),
			     "%s: statement %ld skipped: statement %ld failed "
			     "before the sync point",
			     c->shown, e.idx, pl->seg_failed);
			rc = done_fail(pl, e.idx, SL_EABORTED, msg, "");
		} else if (e.stmt != NULL && e.kind == EXP_DESCRIBE) {
			/* Not prepared after all: forget it. */
			stmt_unlink(p, e.stmt);
			stmt_free(e.stmt);
		}
	} else if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR ||
	           st == PGRES_BAD_RESPONSE || last == NULL) {
		char msg[SL_ERROR_MSG_MAX], state[6] = "";
		if (last != NULL)
			server_error(c, last, sql, msg, sizeof(msg), state);
		else
			msgf(msg, sizeof(msg), "%s: no reply", c->shown);
		if (e.kind == EXP_USER) {
			pl->seg_failed = e.idx;
			if (pl->user) {
				char m2[SL_ERROR_MSG_MAX + 32];
				msgf(m2, sizeof(m2), "statement %ld: %s", e.idx,
				     msg);
				rc = done_fail(pl, e.idx, SL_EDB, m2, state);
			} else {
				rc = done_fail(pl, e.idx, SL_EDB, msg, state);
			}
		} else if (e.kind == EXP_PREPARE || e.kind == EXP_DESCRIBE) {
			/* The statement cannot be prepared: the user
			 * statement waiting for it gets this error. */
			pl->seg_failed = pl->next_idx;
			if (e.kind == EXP_DESCRIBE) {
				stmt_unlink(p, e.stmt);
				stmt_free(e.stmt);
			} else {
				/* Keep the error for the describe that follows.
				 */
				e.stmt->ready = false;
			}
			sl_diag_set(SL_EDB, "%s", msg);
			rc = -2;
		} else {
			sl_log_debug("%s", msg);
		}
	} else if (e.kind == EXP_DESCRIBE) {
		rc = stmt_describe(e.stmt, last);
	} else if (e.kind == EXP_USER) {
		struct pg_done d = {.idx = e.idx};
		d.r = make_result(c, last);
		last = NULL;
		if (d.r == NULL) {
			char msg[SL_ERROR_MSG_MAX];
			sl_error_format(sl_diag_last(), msg, sizeof(msg));
			rc = done_fail(pl, e.idx, sl_diag_code(), msg, "");
		} else if (done_push(pl, &d) != 0) {
			sl_result_free(d.r);
			rc = -1;
		}
	}
	PQclear(last);
	return rc;
}

/** Queue a sync point if statements are waiting for one. 0, or -1. */
static int
send_sync(struct pg_pipe *pl)
{
	if (!pl->need_sync)
		return 0;
	if (!PQpipelineSync(PG(pl->base.c)->pg))
		return lost(pl->base.c, "sending a sync point");
	pl->need_sync = false;
	return exp_push(pl, EXP_SYNC, NULL, 0);
}

/** Read every expected reply. 0, or -1 if the connection failed. */
static int
drain(struct pg_pipe *pl)
{
	if (send_sync(pl) != 0)
		return -1;
	if (flush_all(pl->base.c) != 0)
		return -1;
	while (pl->exp_len > 0) {
		int rc = pump_one(pl);
		if (rc == -1)
			return -1;
		if (rc == -2)
			sl_diag_clear(sl_diag_get());
	}
	return 0;
}

/** Drop everything queued on a pipeline (after the connection failed). */
static void
pipeline_reset(struct pg_pipe *pl)
{
	pl->exp_len = 0;
	pl->exp_head = 0;
	pl->exp_user = 0;
	while (pl->done_len > 0) {
		done_clear(&pl->done[pl->done_head]);
		pl->done_head = (pl->done_head + 1) % pl->done_cap;
		pl->done_len--;
	}
	pl->done_head = 0;
	pl->need_sync = false;
	pl->seg_failed = -1;
	pl->unread = 0;
}

/**
 * Make sure `sql` is prepared and described; prepares it now if needed
 * (one round trip, reading earlier replies meanwhile). Returns the
 * statement, or NULL with an error: SL_EDB when the server refused it
 * (the pipeline's segment is then aborted), -1 others.
 */
static struct pg_stmt *
prepare(struct pg_pipe *pl, const char *sql)
{
	struct sl_conn *c = pl->base.c;
	struct pg_conn *p = PG(c);
	size_t len = strlen(sql);
	uint64_t h = sl_hash64(sql, len);
	struct pg_stmt *s = stmt_find(p, sql, len, h);
	if (s != NULL && s->ready) {
		sl_list_del(&s->lru);
		sl_list_add_tail(&p->lru, &s->lru);
		return s;
	}
	assert(s == NULL);
	/* Evict the least recently used statement if the cache is full. */
	size_t cap = c->opts.stmt_cache > 0 ? c->opts.stmt_cache : 1;
	while (p->nstmts >= cap && !sl_list_empty(&p->lru)) {
		struct pg_stmt *old =
		        sl_list_entry(p->lru.next, struct pg_stmt, lru);
		char dealloc[48];
		snprintf(dealloc, sizeof(dealloc), "DEALLOCATE %s", old->name);
		stmt_unlink(p, old);
		stmt_free(old);
		if (!PQsendQueryParams(p->pg, dealloc, 0, NULL, NULL, NULL,
		                       NULL, 0))
			return lost(c, "sending"), NULL;
		if (exp_push(pl, EXP_INTERNAL, NULL, 0) != 0)
			return NULL;
		pl->need_sync = true;
	}
	s = sl_calloc(1, sizeof(*s));
	if (s == NULL || (s->sql = sl_strndup(sql, len)) == NULL) {
		sl_free(s);
		sl_diag_set(SL_EOOM, "out of memory preparing a statement");
		return NULL;
	}
	s->hash = h;
	snprintf(s->name, sizeof(s->name), "sl_%llu",
	         (unsigned long long)++p->stmt_seq);
	size_t b = h & (p->nbuckets - 1);
	s->next = p->buckets[b];
	p->buckets[b] = s;
	sl_list_add_tail(&p->lru, &s->lru);
	p->nstmts++;
	if (!PQsendPrepare(p->pg, s->name, sql, 0, NULL) ||
	    !PQsendDescribePrepared(p->pg, s->name)) {
		stmt_unlink(p, s);
		stmt_free(s);
		return lost(c, "sending"), NULL;
	}
	if (exp_push(pl, EXP_PREPARE, s, 0) != 0 ||
	    exp_push(pl, EXP_DESCRIBE, s, 0) != 0)
		return NULL;
	pl->need_sync = true;
	/* Get the describe back: a user pipeline asks the server to flush,
	 * a single statement sets its sync point. */
	if (pl->user) {
		if (!PQsendFlushRequest(p->pg))
			return lost(c, "sending"), NULL;
	} else if (send_sync(pl) != 0) {
		return NULL;
	}
	if (flush_all(c) != 0)
		return NULL;
	bool failed = false;
	char msg[SL_ERROR_MSG_MAX] = "";
	for (;;) {
		assert(pl->exp_len > 0);
		struct pg_exp head = pl->exp[pl->exp_head];
		int rc = pump_one(pl);
		if (rc == -1)
			return NULL;
		if (rc == -2 && !failed) {
			failed = true;
			msgf(msg, sizeof(msg), "%s", sl_diag_last()->msg);
			sl_diag_clear(sl_diag_get());
		}
		if (head.kind == EXP_DESCRIBE && head.stmt == s)
			break;
	}
	if (failed || stmt_find(p, sql, len, h) != s) {
		if (!failed)
			msgf(msg, sizeof(msg),
			     "%s: statement skipped: an earlier statement "
			     "failed before the sync point",
			     c->shown);
		sl_diag_set(failed ? SL_EDB : SL_EABORTED, "%s", msg);
		return NULL;
	}
	return s;
}

/** Make room for `n` parameters. 0, or -1 with SL_EOOM. */
static int
params_reserve(struct pg_conn *p, size_t n)
{
	if (n <= p->pcap)
		return 0;
	size_t cap = n < 16 ? 16 : n;
	size_t *off = sl_realloc(p->poff, cap * sizeof(*off));
	if (off != NULL)
		p->poff = off;
	const char **v = sl_realloc(p->pvals, cap * sizeof(*v));
	if (v != NULL)
		p->pvals = v;
	int *l = sl_realloc(p->plens, cap * sizeof(*l));
	if (l != NULL)
		p->plens = l;
	int *f = sl_realloc(p->pfmts, cap * sizeof(*f));
	if (f != NULL)
		p->pfmts = f;
	if (off == NULL || v == NULL || l == NULL || f == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for %zu parameters", n);
		return -1;
	}
	p->pcap = cap;
	return 0;
}

/**
 * Encode `n` parameters for `types` into the connection's parameter
 * arrays. 0, or -1 with an error naming the parameter.
 */
static int
encode_params(struct sl_conn *c, const uint32_t *types, int ntypes, size_t n,
              const struct sl_value *params, const char *sql)
{
	struct pg_conn *p = PG(c);
	if ((size_t)ntypes != n) {
		char shown[SQL_SHOWN];
		one_line(sql, shown, sizeof(shown));
		sl_diag_set(
		        SL_EINVAL,
		        "%s: the statement takes %d parameter%s, %zu given: "
		        "%s",
		        c->shown, ntypes, ntypes == 1 ? "" : "s", n, shown);
		return -1;
	}
	if (params_reserve(p, n) != 0)
		return -1;
	sl_buf_reset(&p->pbuf);
	for (size_t i = 0; i < n; i++) {
		bool null;
		size_t at = p->pbuf.len;
		if (sl_pg_encode(&p->pbuf, types[i], &params[i], &null) != 0) {
			sl_diag_wrap(SL_EINVAL, "%s: parameter $%zu (type %u)",
			             c->shown, i + 1, types[i]);
			return -1;
		}
		bool bin = sl_pg_binary_param(types[i]);
		p->poff[i] = null ? SIZE_MAX : at;
		p->plens[i] = (int)(p->pbuf.len - at);
		p->pfmts[i] = bin ? 1 : 0;
	}
	for (size_t i = 0; i < n; i++)
		p->pvals[i] = p->poff[i] == SIZE_MAX
		                      ? NULL
		                      : p->pbuf.data + p->poff[i];
	return 0;
}

/**
 * Queue one statement: prepare it if needed, encode, send. Returns 0, 1
 * when it failed before it was sent (its failure is queued as done when
 * `record`), or -1 with an error.
 */
static int
push(struct pg_pipe *pl, const char *sql, size_t n,
     const struct sl_value *params, long idx)
{
	struct sl_conn *c = pl->base.c;
	struct pg_conn *p = PG(c);
	struct pg_stmt *s = prepare(pl, sql);
	if (s == NULL) {
		enum sl_errcode code = sl_diag_code();
		if (code != SL_EDB && code != SL_EABORTED)
			return -1;
		/* The server refused it: this statement fails in order. */
		char msg[SL_ERROR_MSG_MAX + 32];
		if (pl->user)
			msgf(msg, sizeof(msg), "statement %ld: %s", idx,
			     sl_diag_last()->msg);
		else
			msgf(msg, sizeof(msg), "%s", sl_diag_last()->msg);
		sl_diag_clear(sl_diag_get());
		if (done_fail(pl, idx, code, msg, "") != 0)
			return -1;
		return 1;
	}
	if (encode_params(c, s->ptypes, s->nparams, n, params, sql) != 0)
		return -1;
	if (!PQsendQueryPrepared(p->pg, s->name, (int)n, p->pvals, p->plens,
	                         p->pfmts, s->rfmt))
		return lost(c, "sending");
	if (exp_push(pl, EXP_USER, s, idx) != 0)
		return -1;
	pl->need_sync = true;
	return 0;
}

/** Pop the first finished statement into a result or an error. */
static struct sl_result *
done_pop(struct pg_pipe *pl, char sqlstate[6])
{
	assert(pl->done_len > 0);
	struct pg_done d = pl->done[pl->done_head];
	pl->done_head = (pl->done_head + 1) % pl->done_cap;
	pl->done_len--;
	if (sqlstate != NULL)
		memcpy(sqlstate, d.sqlstate, 6);
	if (d.r != NULL)
		return d.r;
	sl_diag_raise(__FILE__, __LINE__, d.code, 0, "%s", d.msg);
	sl_free(d.msg);
	return NULL;
}

/* }}} */
/* {{{ connect */

/** Print server notices at debug level, not on stderr. */
static void
notice(void *arg, const char *msg)
{
	struct sl_conn *c = arg;
	char line[400];
	one_line(msg, line, sizeof(line));
	sl_log_debug("%s: %s", c->shown, line);
}

/** Free the driver state. */
static void
pg_close(struct sl_conn *c)
{
	struct pg_conn *p = PG(c);
	if (p == NULL)
		return;
	if (p->io_ok)
		sl_io_destroy(&p->io);
	if (p->pg != NULL)
		PQfinish(p->pg);
	stmt_clear(p);
	sl_free(p->buckets);
	sl_buf_destroy(&p->pbuf);
	sl_free(p->poff);
	sl_free(p->pvals);
	sl_free(p->plens);
	sl_free(p->pfmts);
	pipeline_reset(&p->op);
	sl_free(p->op.exp);
	sl_free(p->op.done);
	sl_free(p);
	c->impl = NULL;
}

/** Connect (the non-blocking dance) and enter pipeline mode. */
static int
pg_open(struct sl_conn *c)
{
	struct pg_conn *p = sl_calloc(1, sizeof(*p));
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory connecting to %s",
		            c->shown);
		return -1;
	}
	c->impl = p;
	sl_list_init(&p->lru);
	sl_buf_create(&p->pbuf, SL_DB_BUF_MAX);
	p->nbuckets = 64;
	while (p->nbuckets < c->opts.stmt_cache * 2 && p->nbuckets < 65536)
		p->nbuckets *= 2;
	p->buckets = sl_calloc(p->nbuckets, sizeof(*p->buckets));
	p->op.base.c = c;
	p->op.seg_failed = -1;
	p->deadline = INFINITY;
	if (p->buckets == NULL) {
		sl_diag_set(SL_EOOM, "out of memory connecting to %s",
		            c->shown);
		return -1;
	}
	const char *keys[] = {"dbname", "application_name", "client_encoding",
	                      NULL};
	const char *vals[] = {
	        c->url, c->opts.app_name != NULL ? c->opts.app_name : "sluice",
	        "UTF8", NULL};
	p->pg = PQconnectStartParams(keys, vals, 1);
	if (p->pg == NULL) {
		sl_diag_set(SL_EOOM, "out of memory connecting to %s",
		            c->shown);
		return -1;
	}
	double deadline = c->opts.connect_timeout < 0
	                          ? INFINITY
	                          : sl_clock() + c->opts.connect_timeout;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	if (PQstatus(p->pg) == CONNECTION_BAD)
		st = PGRES_POLLING_FAILED;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		int fd = PQsocket(p->pg);
		double left =
		        isinf(deadline) ? SL_FOREVER : deadline - sl_clock();
		if (fd < 0) {
			st = PGRES_POLLING_FAILED;
			break;
		}
		if (left != SL_FOREVER && left <= 0) {
			sl_diag_set(
			        SL_ETIMEDOUT,
			        "%s: cannot connect: no answer within %.3g s",
			        c->shown, c->opts.connect_timeout);
			return -1;
		}
		int ev = st == PGRES_POLLING_READING ? SL_IO_READ : SL_IO_WRITE;
		if (sl_wait_fd(fd, ev, left) < 0) {
			if (sl_diag_code() == SL_ETIMEDOUT)
				sl_diag_set(
				        SL_ETIMEDOUT,
				        "%s: cannot connect: no answer within "
				        "%.3g s",
				        c->shown, c->opts.connect_timeout);
			else
				sl_diag_wrap(sl_diag_code(), "%s: connecting",
				             c->shown);
			return -1;
		}
		st = PQconnectPoll(p->pg);
	}
	if (st == PGRES_POLLING_FAILED || PQstatus(p->pg) != CONNECTION_OK) {
		char msg[400];
		one_line(PQerrorMessage(p->pg), msg, sizeof(msg));
		/* A server that answered and refused is a database error;
		 * one that never answered is an I/O error. */
		bool refused = strstr(msg, "FATAL") != NULL ||
		               strstr(msg, "password") != NULL;
		sl_diag_set(refused ? SL_EDB : SL_EIO, "%s: cannot connect: %s",
		            c->shown, msg);
		return -1;
	}
	PQsetNoticeProcessor(p->pg, notice, c);
	if (PQsetnonblocking(p->pg, 1) != 0 || !PQenterPipelineMode(p->pg)) {
		char msg[300];
		one_line(PQerrorMessage(p->pg), msg, sizeof(msg));
		sl_diag_set(SL_EIO, "%s: cannot set up the connection: %s",
		            c->shown, msg);
		return -1;
	}
	p->piped = true;
	if (sl_io_create(&p->io, PQsocket(p->pg)) != 0) {
		sl_diag_wrap(SL_ESYSTEM, "%s: watching the socket", c->shown);
		return -1;
	}
	p->io_ok = true;
	c->server_version = PQserverVersion(p->pg);
	c->born = sl_clock();
	return 0;
}

/* }}} */
/* {{{ single statements */

/** Whether `state` says a cached statement went stale. */
static bool
stale(const char *state, const char *msg)
{
	return (strcmp(state, "0A000") == 0 && msg != NULL &&
	        strstr(msg, "cached plan must not change result type") !=
	                NULL) ||
	       strcmp(state, "26000") == 0;
}

/** Forget the cached statement for `sql` and deallocate it. */
static void
stmt_forget_sql(struct sl_conn *c, const char *sql)
{
	struct pg_conn *p = PG(c);
	size_t len = strlen(sql);
	struct pg_stmt *s = stmt_find(p, sql, len, sl_hash64(sql, len));
	if (s == NULL)
		return;
	char dealloc[48];
	snprintf(dealloc, sizeof(dealloc), "DEALLOCATE %s", s->name);
	stmt_unlink(p, s);
	stmt_free(s);
	if (PQsendQueryParams(p->pg, dealloc, 0, NULL, NULL, NULL, NULL, 0) &&
	    exp_push(&p->op, EXP_INTERNAL, NULL, 0) == 0)
		p->op.need_sync = true;
}

/** Run one statement once. Sets sqlstate on a server error. */
static struct sl_result *
query_once(struct sl_conn *c, const char *sql, size_t n,
           const struct sl_value *params, char sqlstate[6])
{
	struct pg_conn *p = PG(c);
	struct pg_pipe *pl = &p->op;
	sqlstate[0] = '\0';
	int rc = push(pl, sql, n, params, 0);
	if (rc < 0) {
		/* Nothing of this statement was sent; finish what was. */
		struct sl_diag keep;
		sl_diag_stash(&keep);
		drain(pl);
		pipeline_reset(pl);
		sl_diag_restore(&keep);
		return NULL;
	}
	if (drain(pl) != 0) {
		pipeline_reset(pl);
		return NULL;
	}
	assert(pl->done_len == 1);
	return done_pop(pl, sqlstate);
}

/** sl_query() on PostgreSQL. */
static struct sl_result *
pg_query(struct sl_conn *c, const char *sql, size_t n,
         const struct sl_value *params)
{
	op_start(c);
	char state[6];
	struct sl_result *r = query_once(c, sql, n, params, state);
	if (r == NULL && PG(c)->cancelled == 0 && c->tx_depth == 0 &&
	    !c->broken && stale(state, sl_diag_last()->msg)) {
		/* Re-prepare a statement that DDL made stale, once. */
		sl_log_debug("%s: re-preparing a stale statement", c->shown);
		stmt_forget_sql(c, sql);
		sl_diag_clear(sl_diag_get());
		r = query_once(c, sql, n, params, state);
	} else if (r == NULL && stale(state, sl_diag_last()->msg)) {
		stmt_forget_sql(c, sql);
		sl_diag_wrap(SL_EDB,
		             "%s: a cached statement went stale after a schema "
		             "change inside a transaction; roll back and retry",
		             c->shown);
	}
	if (op_finish(c, r != NULL ? 0 : -1) != 0) {
		sl_result_free(r);
		return NULL;
	}
	return r;
}

/** Leave pipeline mode (for COPY and scripts). 0, or -1. */
static int
unpipe(struct sl_conn *c)
{
	struct pg_conn *p = PG(c);
	if (drain(&p->op) != 0)
		return -1;
	if (!PQexitPipelineMode(p->pg)) {
		char msg[300];
		one_line(PQerrorMessage(p->pg), msg, sizeof(msg));
		c->broken = true;
		sl_diag_set(SL_EIO, "%s: cannot leave pipeline mode: %s",
		            c->shown, msg);
		return -1;
	}
	p->piped = false;
	return 0;
}

/** Enter pipeline mode again. 0, or -1. */
static int
repipe(struct sl_conn *c)
{
	struct pg_conn *p = PG(c);
	if (p->piped || c->broken)
		return c->broken ? -1 : 0;
	if (!PQenterPipelineMode(p->pg)) {
		c->broken = true;
		sl_diag_set(SL_EIO, "%s: cannot enter pipeline mode", c->shown);
		return -1;
	}
	p->piped = true;
	return 0;
}

/** Read a normal-mode command's results to the end; keep the first error. */
static int
read_plain(struct sl_conn *c, const char *sql, PGresult **keep_last)
{
	int rc = 0;
	char msg[SL_ERROR_MSG_MAX] = "", state[6];
	PGresult *res;
	if (keep_last != NULL)
		*keep_last = NULL;
	for (;;) {
		if (next_result(c, &res) != 0)
			return -1;
		if (res == NULL)
			break;
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) {
			PQclear(res);
			c->broken = true;
			sl_diag_set(SL_EINVAL,
			            "%s: COPY cannot run in a script (use "
			            "sl_copy_begin()); connection dropped",
			            c->shown);
			return -1;
		}
		if ((st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) &&
		    rc == 0) {
			server_error(c, res, sql, msg, sizeof(msg), state);
			rc = -1;
		}
		if (keep_last != NULL) {
			PQclear(*keep_last);
			*keep_last = res;
		} else {
			PQclear(res);
		}
	}
	if (rc != 0)
		sl_diag_set(SL_EDB, "%s", msg);
	return rc;
}

/** A script of statements (simple query protocol). */
static int
pg_script(struct sl_conn *c, const char *sql)
{
	struct pg_conn *p = PG(c);
	op_start(c);
	int rc = unpipe(c);
	if (rc == 0 && !PQsendQuery(p->pg, sql))
		rc = lost(c, "sending");
	if (rc == 0)
		rc = flush_all(c);
	if (rc == 0)
		rc = read_plain(c, sql, NULL);
	if (repipe(c) != 0 && rc == 0)
		rc = -1;
	return op_finish(c, rc);
}

/** Deallocate every prepared statement. */
static int
pg_forget(struct sl_conn *c)
{
	struct pg_conn *p = PG(c);
	stmt_clear(p);
	return pg_script(c, "DEALLOCATE ALL");
}

/* }}} */
/* {{{ user pipelines */

/** The driver's pipeline behind the layer's `pl`. */
static inline struct pg_pipe *
PIPE(struct sl_pipeline *pl)
{
	return (struct pg_pipe *)pl;
}

/** A new user pipeline (the layer fills in its connection). */
static struct sl_pipeline *
pg_pipeline_begin(struct sl_conn *c)
{
	struct pg_pipe *pl = sl_calloc(1, sizeof(*pl));
	if (pl == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory for a pipeline",
		            c->shown);
		return NULL;
	}
	pl->user = true;
	pl->seg_failed = -1;
	return &pl->base;
}

/** Leave an operation on a user pipeline. */
static int
pl_leave(struct pg_pipe *pl, int rc)
{
	struct sl_conn *c = pl->base.c;
	if (c->broken)
		pipeline_reset(pl);
	return op_finish(c, rc);
}

/** Queue a statement on a user pipeline. */
static long
pg_pipeline_push(struct sl_pipeline *base, const char *sql, size_t n,
                 const struct sl_value *params)
{
	struct pg_pipe *pl = PIPE(base);
	op_start(base->c);
	if (pl->unread >= SL_PIPELINE_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "%s: %ld statements in the pipeline without their "
		            "results read (at most %d)",
		            base->c->shown, pl->unread, SL_PIPELINE_MAX);
		return pl_leave(pl, -1);
	}
	long idx = pl->next_idx;
	int rc = push(pl, sql, n, params, idx);
	if (rc < 0)
		return pl_leave(pl, -1);
	pl->next_idx++;
	pl->unread++;
	if (pl_leave(pl, 0) != 0)
		return -1;
	return idx;
}

/** Set a sync point on a user pipeline. */
static int
pg_pipeline_sync(struct sl_pipeline *base)
{
	struct pg_pipe *pl = PIPE(base);
	op_start(base->c);
	int rc = send_sync(pl);
	if (rc == 0 && PQflush(PG(base->c)->pg) < 0)
		rc = lost(base->c, "sending");
	return pl_leave(pl, rc);
}

/** The next result of a user pipeline. */
static struct sl_result *
pg_pipeline_next(struct sl_pipeline *base)
{
	struct pg_pipe *pl = PIPE(base);
	op_start(base->c);
	int rc = 0;
	while (pl->done_len == 0 && rc == 0) {
		if (pl->exp_user == 0)
			break;
		/* The statement's replies come only after a sync point. */
		rc = send_sync(pl);
		if (rc == 0)
			rc = flush_all(base->c);
		while (rc == 0 && pl->done_len == 0 && pl->exp_len > 0) {
			rc = pump_one(pl);
			if (rc == -2) {
				sl_diag_clear(sl_diag_get());
				rc = 0;
			}
		}
	}
	if (rc != 0) {
		pl_leave(pl, -1);
		return NULL;
	}
	if (pl->done_len == 0) {
		pl_leave(pl, 0);
		sl_diag_clear(sl_diag_get());
		return NULL;
	}
	pl->unread--;
	struct sl_result *r = done_pop(pl, NULL);
	if (pl_leave(pl, r != NULL ? 0 : -1) != 0 && r != NULL) {
		sl_result_free(r);
		return NULL;
	}
	return r;
}

/** Read what is left of a user pipeline (when `live`) and free it. */
static int
pg_pipeline_end(struct sl_pipeline *base, bool live)
{
	struct pg_pipe *pl = PIPE(base);
	struct sl_conn *c = base->c;
	int rc = 0;
	struct sl_diag first;
	sl_diag_create(&first);
	if (live) {
		op_start(c);
		if (!c->broken && drain(pl) != 0)
			rc = -1;
		rc = op_finish(c, rc);
		if (rc != 0)
			sl_diag_move(sl_diag_get(), &first);
	} else {
		rc = -1;
		sl_diag_move(sl_diag_get(), &first);
	}
	while (pl->done_len > 0) {
		struct pg_done *d = &pl->done[pl->done_head];
		if (d->r == NULL && first.last == NULL) {
			sl_diag_raise(__FILE__, __LINE__, d->code, 0, "%s",
			              d->msg);
			sl_diag_move(sl_diag_get(), &first);
			rc = -1;
		}
		done_clear(d);
		pl->done_head = (pl->done_head + 1) % pl->done_cap;
		pl->done_len--;
	}
	sl_free(pl->exp);
	sl_free(pl->done);
	sl_free(pl);
	if (first.last != NULL)
		sl_diag_move(&first, sl_diag_get());
	sl_diag_destroy(&first);
	return rc;
}

/* }}} */
/* {{{ COPY */

/** A COPY in progress. */
struct pg_copy {
	/** The layer's part (its connection). */
	struct sl_copy base;
	/** Column types. */
	uint32_t *oids;
	/** Number of columns. */
	size_t ncols;
	/** Whether rows go in binary format. */
	bool binary;
	/** Data not yet handed to libpq. */
	struct sl_buf buf;
	/** Rows added. */
	int64_t rows;
	/** Set once an error made the COPY unusable. */
	bool failed;
};

/** The driver's COPY behind the layer's `cp`. */
static inline struct pg_copy *
COPY(struct sl_copy *cp)
{
	return (struct pg_copy *)cp;
}

/** Hand the buffered data to libpq, waiting while the socket is full. */
static int
copy_put(struct pg_copy *cp)
{
	struct sl_conn *c = cp->base.c;
	struct pg_conn *p = PG(c);
	while (cp->buf.len > 0) {
		int rc = PQputCopyData(p->pg, cp->buf.data, (int)cp->buf.len);
		if (rc < 0)
			return lost(c, "sending COPY data");
		if (rc == 1) {
			sl_buf_reset(&cp->buf);
			break;
		}
		if (wait_io(c, SL_IO_WRITE) != 0)
			return -1;
	}
	int rc;
	while ((rc = PQflush(p->pg)) == 1)
		if (wait_io(c, SL_IO_READ | SL_IO_WRITE) != 0 ||
		    !PQconsumeInput(p->pg))
			return c->broken ? -1 : lost(c, "sending COPY data");
	return rc < 0 ? lost(c, "sending COPY data") : 0;
}

/** Start a COPY (the layer fills in its connection). */
static struct sl_copy *
pg_copy_begin(struct sl_conn *c, const char *table, const char *const *columns,
              size_t ncols)
{
	struct sl_buf cols, sql;
	sl_buf_create(&cols, SL_DB_BUF_MAX);
	sl_buf_create(&sql, SL_DB_BUF_MAX);
	int rc = 0;
	for (size_t i = 0; i < ncols && rc == 0; i++) {
		if (i > 0)
			rc = sl_buf_puts(&cols, ", ");
		if (rc == 0)
			rc = sl_sql_ident(&cols, columns[i]);
	}
	/* The table as "schema"."name" when dotted. */
	struct sl_buf tbl;
	sl_buf_create(&tbl, SL_DB_BUF_MAX);
	const char *dot = strchr(table, '.');
	if (rc == 0 && dot != NULL) {
		char *schema = sl_strndup(table, (size_t)(dot - table));
		rc = schema != NULL ? sl_sql_ident(&tbl, schema) : -1;
		sl_free(schema);
		if (rc == 0)
			rc = sl_buf_putc(&tbl, '.');
		if (rc == 0)
			rc = sl_sql_ident(&tbl, dot + 1);
	} else if (rc == 0) {
		rc = sl_sql_ident(&tbl, table);
	}
	if (rc == 0)
		rc = sl_buf_printf(&sql, "SELECT %s FROM %s LIMIT 0", cols.data,
		                   tbl.data);
	struct pg_copy *cp = NULL;
	if (rc != 0)
		goto out;
	/* The columns' types, from a describe (cached per connection). */
	struct sl_result *r = sl_conn_query_in(c, sql.data, SL_NOARGS);
	if (r == NULL) {
		sl_diag_wrap(SL_EDB, "%s: COPY into %s", c->shown, table);
		goto out;
	}
	sl_result_free(r);
	struct pg_conn *p = PG(c);
	size_t len = strlen(sql.data);
	struct pg_stmt *s =
	        stmt_find(p, sql.data, len, sl_hash64(sql.data, len));
	cp = sl_calloc(1, sizeof(*cp));
	if (cp == NULL || s == NULL || (size_t)s->ncols != ncols ||
	    (cp->oids = sl_malloc(ncols * sizeof(uint32_t))) == NULL) {
		sl_diag_set(SL_EOOM, "%s: cannot start a COPY", c->shown);
		goto fail;
	}
	memcpy(cp->oids, s->ctypes, ncols * sizeof(uint32_t));
	cp->base.c = c;
	cp->ncols = ncols;
	cp->binary = true;
	for (size_t i = 0; i < ncols; i++)
		if (!sl_pg_binary_param(cp->oids[i]) &&
		    cp->oids[i] != PG_TEXT && cp->oids[i] != PG_VARCHAR &&
		    cp->oids[i] != PG_BPCHAR && cp->oids[i] != PG_NAME)
			cp->binary = false;
	sl_buf_create(&cp->buf, SL_DB_BUF_MAX);
	sl_buf_reset(&sql);
	if (sl_buf_printf(&sql, "COPY %s (%s) FROM STDIN%s", tbl.data,
	                  cols.data, cp->binary ? " (FORMAT binary)" : "") != 0)
		goto fail;
	op_start(c);
	if (unpipe(c) != 0)
		goto fail_op;
	if (!PQsendQueryParams(p->pg, sql.data, 0, NULL, NULL, NULL, NULL, 0)) {
		lost(c, "sending");
		goto fail_op;
	}
	if (flush_all(c) != 0)
		goto fail_op;
	PGresult *res;
	if (next_result(c, &res) != 0)
		goto fail_op;
	if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
		char msg[SL_ERROR_MSG_MAX], state[6];
		if (res != NULL)
			server_error(c, res, sql.data, msg, sizeof(msg), state);
		else
			msgf(msg, sizeof(msg), "%s: COPY did not start",
			     c->shown);
		PQclear(res);
		/* Read to the end of the command's results. */
		while (next_result(c, &res) == 0 && res != NULL)
			PQclear(res);
		sl_diag_set(SL_EDB, "%s", msg);
		goto fail_op;
	}
	PQclear(res);
	if (cp->binary && sl_pg_copy_header(&cp->buf) != 0)
		goto fail_op;
	op_finish(c, 0);
	goto out;
fail_op:
	op_finish(c, -1);
	repipe(c);
fail:
	if (cp != NULL) {
		sl_free(cp->oids);
		sl_buf_destroy(&cp->buf);
		sl_free(cp);
	}
	cp = NULL;
out:
	sl_buf_destroy(&cols);
	sl_buf_destroy(&sql);
	sl_buf_destroy(&tbl);
	return cp != NULL ? &cp->base : NULL;
}

/** Add a row to a COPY, sending a full chunk. */
static int
pg_copy_row(struct sl_copy *base, const struct sl_value *values)
{
	struct pg_copy *cp = COPY(base);
	struct sl_conn *c = base->c;
	if (cp->failed) {
		sl_diag_set(SL_EINVAL, "%s: COPY row after a failure",
		            c->shown);
		return -1;
	}
	size_t bad_col = 0;
	int rc = cp->binary ? sl_pg_copy_tuple(&cp->buf, cp->oids, cp->ncols,
	                                       values, &bad_col)
	                    : sl_pg_copy_line(&cp->buf, cp->oids, cp->ncols,
	                                      values, &bad_col);
	if (rc != 0) {
		if (sl_diag_code() == SL_EINVAL)
			sl_diag_wrap(SL_EINVAL, "%s: COPY row %lld, column %zu",
			             c->shown, (long long)cp->rows + 1,
			             bad_col + 1);
		return -1;
	}
	cp->rows++;
	if (cp->buf.len < COPY_CHUNK)
		return 0;
	if (sl_conn_enter(c, "COPY") != 0)
		return -1;
	op_start(c);
	rc = op_finish(c, copy_put(cp));
	if (rc != 0)
		cp->failed = true;
	sl_conn_leave(c);
	return rc;
}

/** End the COPY with `errmsg` (abort) or NULL (finish), and free it. */
static int
pg_copy_end(struct sl_copy *base, bool live, const char *errmsg, int64_t *rows)
{
	struct pg_copy *cp = COPY(base);
	struct sl_conn *c = base->c;
	struct pg_conn *p = PG(c);
	bool earlier = errmsg == NULL && cp->failed;
	int rc = 0;
	if (earlier)
		errmsg = "sluice abandoned the COPY";
	if (!live) {
		rc = -1;
		goto out;
	}
	op_start(c);
	if (errmsg == NULL && cp->binary && !cp->failed) {
		unsigned char trailer[2] = {0xff, 0xff};
		rc = sl_buf_append(&cp->buf, trailer, 2);
	}
	if (rc == 0 && errmsg == NULL && !cp->failed)
		rc = copy_put(cp);
	if (!c->broken) {
		const char *why = errmsg != NULL ? errmsg
		                  : rc != 0 || cp->failed
		                          ? "sluice abandoned the COPY"
		                          : NULL;
		int er;
		while ((er = PQputCopyEnd(p->pg, why)) == 0)
			if (wait_io(c, SL_IO_WRITE) != 0)
				break;
		if (er < 0)
			lost(c, "ending COPY");
		PGresult *last = NULL;
		struct sl_diag keep;
		sl_diag_create(&keep);
		if (rc != 0)
			sl_diag_move(sl_diag_get(), &keep);
		if (!c->broken && flush_all(c) == 0 &&
		    read_plain(c, "COPY", &last) == 0 && rc == 0 &&
		    errmsg == NULL && !cp->failed) {
			if (rows != NULL)
				*rows = last != NULL && PQcmdTuples(last)[0]
				                ? strtoll(PQcmdTuples(last),
				                          NULL, 10)
				                : cp->rows;
		} else if (rc == 0 && sl_diag_last() != NULL) {
			rc = -1;
		}
		PQclear(last);
		if (keep.last != NULL)
			sl_diag_move(&keep, sl_diag_get());
		sl_diag_destroy(&keep);
		if (errmsg != NULL || cp->failed)
			rc = -1;
	} else {
		rc = -1;
	}
	repipe(c);
	rc = op_finish(c, rc);
out:
	sl_free(cp->oids);
	sl_buf_destroy(&cp->buf);
	sl_free(cp);
	if (earlier) {
		sl_diag_set(SL_EIO, "COPY failed earlier; nothing was copied");
		rc = -1;
	}
	return rc;
}

/* }}} */
/* {{{ cursors */

/** A server-side cursor. */
struct pg_cursor {
	/** The layer's part (its connection). */
	struct sl_cursor base;
	/** FETCH statement for it. */
	char fetch[80];
	/** Its name. */
	char name[32];
	/** Whether the server has no more rows. */
	bool done;
};

/** The driver's cursor behind the layer's `cur`. */
static inline struct pg_cursor *
CURSOR(struct sl_cursor *cur)
{
	return (struct pg_cursor *)cur;
}

/** Declare a cursor (the layer fills in its connection). */
static struct sl_cursor *
pg_cursor_open(struct sl_conn *c, const char *sql, size_t n,
               const struct sl_value *params, size_t batch)
{
	struct pg_cursor *cur = sl_calloc(1, sizeof(*cur));
	struct sl_buf decl;
	sl_buf_create(&decl, SL_DB_BUF_MAX);
	if (cur == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a cursor");
		return NULL;
	}
	snprintf(cur->name, sizeof(cur->name), "sl_cur_%llu",
	         (unsigned long long)++c->name_seq);
	snprintf(cur->fetch, sizeof(cur->fetch), "FETCH FORWARD %zu FROM %s",
	         batch, cur->name);
	if (sl_buf_printf(&decl, "DECLARE %s NO SCROLL CURSOR FOR %s",
	                  cur->name, sql) != 0) {
		sl_free(cur);
		sl_buf_destroy(&decl);
		return NULL;
	}
	/* The DECLARE runs as a prepared statement used once: forget it. */
	struct sl_result *r = pg_query(c, decl.data, n, params);
	if (r == NULL) {
		sl_free(cur);
		sl_buf_destroy(&decl);
		return NULL;
	}
	sl_result_free(r);
	struct pg_pipe *pl = &PG(c)->op;
	stmt_forget_sql(c, decl.data);
	if (pl->need_sync) {
		op_start(c);
		if (drain(pl) != 0)
			pipeline_reset(pl);
		op_finish(c, 0);
	}
	sl_buf_destroy(&decl);
	return &cur->base;
}

/** The next rows of a cursor. */
static struct sl_result *
pg_cursor_fetch(struct sl_cursor *base)
{
	struct pg_cursor *cur = CURSOR(base);
	if (cur->done)
		return sl_result_new(0, 0);
	struct sl_result *r = pg_query(base->c, cur->fetch, SL_NOARGS);
	if (r != NULL && r->nrows == 0)
		cur->done = true;
	return r;
}

/** Close a cursor on the server when `live`, and free it. */
static int
pg_cursor_close(struct sl_cursor *base, bool live)
{
	struct pg_cursor *cur = CURSOR(base);
	int rc = 0;
	if (live) {
		char sql[48];
		snprintf(sql, sizeof(sql), "CLOSE %s", cur->name);
		rc = pg_script(base->c, sql);
	}
	sl_free(cur);
	return rc;
}

/* }}} */
/* {{{ the driver */

/** The SQL type of a model column on PostgreSQL. */
static const char *
pg_col_type(const struct sl_column *col)
{
	static const char *const types[] = {
	        [SL_COL_INT] = "INTEGER",
	        [SL_COL_BIGINT] = "BIGINT",
	        [SL_COL_FLOAT] = "DOUBLE PRECISION",
	        [SL_COL_BOOL] = "BOOLEAN",
	        [SL_COL_TEXT] = "TEXT",
	        [SL_COL_BYTES] = "BYTEA",
	        [SL_COL_JSON] = "JSONB",
	        [SL_COL_TIMESTAMP] = "TIMESTAMPTZ",
	};
	if ((col->flags & SL_COL_AUTO) != 0)
		return col->type == SL_COL_INT ? "SERIAL" : "BIGSERIAL";
	return types[col->type];
}

/** BEGIN with isolation, READ ONLY and DEFERRABLE as asked. */
static int
pg_begin(const struct sl_conn *c, const struct sl_tx_opts *opts, char *sql,
         size_t size)
{
	static const char *const iso[] = {
	        [SL_ISO_DEFAULT] = "",
	        [SL_ISO_READ_COMMITTED] = " ISOLATION LEVEL READ COMMITTED",
	        [SL_ISO_REPEATABLE_READ] = " ISOLATION LEVEL REPEATABLE READ",
	        [SL_ISO_SERIALIZABLE] = " ISOLATION LEVEL SERIALIZABLE",
	};
	if (opts != NULL &&
	    (unsigned)opts->isolation > (unsigned)SL_ISO_SERIALIZABLE) {
		sl_diag_set(SL_EINVAL, "%s: unknown isolation level %d",
		            c->shown, (int)opts->isolation);
		return -1;
	}
	snprintf(sql, size, "BEGIN%s%s%s",
	         opts != NULL ? iso[opts->isolation] : "",
	         opts != NULL && opts->read_only ? " READ ONLY" : "",
	         opts != NULL && opts->deferrable ? " DEFERRABLE" : "");
	return 0;
}

/** PostgreSQL's SQL: JSONB, binary values typed by the server. */
static const struct sl_db_dialect pg_dialect = {
        .col_type = pg_col_type,
        .json_cast = "::jsonb",
        .merge_open = "COALESCE(",
        .merge_mid = ", '{}'::jsonb) || ",
        .merge_close = "",
        .ddl_stales = true,
        .aborts_tx = true,
        .begin = pg_begin,
        .savepoint = "SAVEPOINT",
        .release = "RELEASE SAVEPOINT",
        .rollback_to = "ROLLBACK TO SAVEPOINT",
};

/** Whether libpq takes `url` as a string of key=value pairs. */
static bool
pg_claims(const char *url)
{
	return strstr(url, "://") == NULL && strchr(url, '=') != NULL;
}

/** The URI prefixes of PostgreSQL. */
static const char *const pg_schemes[] = {"postgresql://", "postgres://", NULL};

const struct sl_db_driver sl_pg_driver = {
        .name = "postgresql",
        .kind = SL_DB_POSTGRES,
        .schemes = pg_schemes,
        .claims = pg_claims,
        .forms = "postgresql://..., postgres://..., key=value pairs",
        .dialect = &pg_dialect,
        .open = pg_open,
        .close = pg_close,
        .query = pg_query,
        .script = pg_script,
        .forget = pg_forget,
        .pipeline_begin = pg_pipeline_begin,
        .pipeline_push = pg_pipeline_push,
        .pipeline_sync = pg_pipeline_sync,
        .pipeline_next = pg_pipeline_next,
        .pipeline_end = pg_pipeline_end,
        .copy_begin = pg_copy_begin,
        .copy_row = pg_copy_row,
        .copy_end = pg_copy_end,
        .cursor_open = pg_cursor_open,
        .cursor_fetch = pg_cursor_fetch,
        .cursor_close = pg_cursor_close,
};

/* }}} */
