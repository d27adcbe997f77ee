/*
 * sluice: the Bolt driver of the database layer (Neo4j).
 *
 * A statement is Cypher with named parameters: sl_db_query() takes one
 * object value as the parameter map (or none). It goes out as RUN and
 * PULL in one write (with a queued BEGIN in front of them, when it is the
 * first statement of a transaction), and records are pulled BOLT_FETCH
 * at a time while the server says has_more. Results hold the RUN's field
 * names as columns and the records as rows, values mapped by
 * sl_ps_to_value(); the summary's statistics are the result's stats
 * (sl_db_result_stat()), its type ("r", "w", "rw", "s") its tag.
 *
 * Transactions are Bolt's BEGIN, COMMIT and ROLLBACK (no savepoints).
 * After a FAILURE the driver reads the IGNORED replies of what was sent
 * with it, sends RESET and reports the server's code and message; inside
 * a transaction RESET discards it, so the layer refuses further
 * statements until it is rolled back (nothing is sent for that).
 *
 * Outside a transaction, a statement that fails with a transient error
 * (Neo.TransientError.*, a deadlock among them, but not Terminated or
 * LockClientStopped) is run again after a backoff, RETRY_MAX times at
 * most; on a routed connection a NotALeader or ForbiddenOnReadOnlyDatabase
 * reply drops the cached routing table, and the connection moves to the
 * new writer before the retry. Client errors are never retried. Inside a
 * transaction only the caller can retry (the whole transaction):
 * sl_db_error_retryable() tells it when.
 *
 * A wait cancelled (or past the query timeout) sends RESET, which
 * interrupts the statement on the server, and reads up to its answer
 * within CANCEL_GRACE seconds; the connection stays usable. A lost
 * connection fails the statement with SL_EIO and marks the connection
 * broken, so a pool replaces it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bolt.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/log.h"
#include "sluice/task.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0"
#endif

/** The user agent sent in HELLO. */
#define AGENT "sluice/" SLUICE_VERSION

/** Seconds to wait for RESET's answer after a cancel or timeout. */
#define CANCEL_GRACE 5.0
/** Runs of a statement that fails with a transient error, at most. */
#define RETRY_MAX 5
/** First backoff before a retry (seconds; doubled each time). */
#define RETRY_BASE 0.05
/** Longest backoff. */
#define RETRY_CAP 2.0

/* {{{ connecting */

/** Parse "Neo4j/5.26.1" into 50261, or 0. */
static int
server_version(const char *agent)
{
	const char *slash = strchr(agent, '/');
	if (slash == NULL)
		return 0;
	int a = 0, b = 0, c = 0;
	if (sscanf(slash + 1, "%d.%d.%d", &a, &b, &c) < 1)
		return 0;
	return a * 10000 + b * 100 + c;
}

/** Connect `b` (URI parsed) to the server, or to the writer of a cluster. */
static int
connect_bolt(struct sl_db_conn *c, struct bolt *b)
{
	double ct = c->opts.connect_timeout;
	double deadline = ct > 0 ? sl_clock() + ct : 0;
	char host[BOLT_HOST_MAX];
	int port = b->uri.port;
	snprintf(host, sizeof(host), "%s", b->uri.host);
	if (b->uri.routing &&
	    bolt_route_writer(&b->uri, c->shown, deadline, AGENT, host,
	                      sizeof(host), &port) != 0)
		return -1;
	if (bolt_open(b, host, port, deadline, AGENT) != 0) {
		if (b->uri.routing)
			bolt_route_forget(&b->uri);
		return -1;
	}
	c->server_version = server_version(b->server);
	return 0;
}

/** The driver's open. */
static int
drv_open(struct sl_db_conn *c)
{
	struct bolt *b = sl_calloc(1, sizeof(*b));
	if (b == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory", c->shown);
		return -1;
	}
	bolt_create(b, c->shown);
	c->impl = b;
	if (bolt_uri_parse(c->url, c->shown, &b->uri) != 0)
		return -1;
	return connect_bolt(c, b);
}

/** The driver's close. */
static void
drv_close(struct sl_db_conn *c)
{
	struct bolt *b = BOLT(c);
	if (b == NULL)
		return;
	if (!c->broken)
		bolt_close(b);
	bolt_destroy(b);
	sl_free(b);
	c->impl = NULL;
}

/* }}} */
/* {{{ failures */

/** Whether FAILURE code `code` is worth running the statement again. */
static bool
transient_code(const char *code)
{
	if (strncmp(code, "Neo.TransientError.", 19) == 0)
		return strstr(code, "Terminated") == NULL &&
		       strstr(code, "LockClientStopped") == NULL;
	return strcmp(code, "Neo.ClientError.Cluster.NotALeader") == 0 ||
	       strcmp(code,
	              "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase") ==
	               0 ||
	       strcmp(code,
	              "Neo.ClientError.Security.AuthenticationRateLimit") == 0;
}

/** Whether `code` says the connection is not to the cluster's leader. */
static bool
leader_code(const char *code)
{
	return strstr(code, "NotALeader") != NULL ||
	       strstr(code, "ForbiddenOnReadOnlyDatabase") != NULL;
}

/**
 * A wait failed: when it was cancelled or timed out, interrupt the
 * statement with RESET (within CANCEL_GRACE) and say so; when the
 * connection was lost, mark it broken. Always -1.
 */
static int
wait_failed(struct sl_db_conn *c, struct bolt *b)
{
	enum sl_errcode code = sl_diag_code();
	if (code != SL_ECANCELLED && code != SL_ETIMEDOUT) {
		c->broken = true;
		return -1;
	}
	bool recancel = false;
	if (code == SL_ECANCELLED && sl_task_is_cancelled()) {
		sl_task_uncancel();
		recancel = true;
	}
	b->deadline = sl_clock() + CANCEL_GRACE;
	if (bolt_reset(b) != 0) {
		c->broken = true;
		sl_log_debug("%s: RESET after a cancel: %s", c->shown,
		             sl_diag_last() != NULL ? sl_diag_last()->msg : "");
	}
	if (b->in_tx || c->tx_depth > 0)
		b->tx_lost = true;
	if (code == SL_ECANCELLED)
		sl_diag_set(SL_ECANCELLED,
		            "%s: cancelled; the statement was interrupted "
		            "with RESET",
		            c->shown);
	else
		sl_diag_set(SL_ETIMEDOUT,
		            "%s: the statement ran longer than %g s; it was "
		            "interrupted with RESET",
		            c->shown, c->opts.query_timeout);
	if (recancel)
		sl_task_cancel(sl_task_current());
	return -1;
}

/* }}} */
/* {{{ statements */

/** Queue PULL (or DISCARD) of `n` more records (-1: all) of query `qid`. */
static int
put_pull(struct bolt *b, bool discard, int64_t n, int64_t qid)
{
	int rc = bolt_begin_msg(b, 1, discard ? BOLT_DISCARD : BOLT_PULL);
	rc |= sl_ps_put_map(&b->msg, qid >= 0 ? 2 : 1);
	rc |= sl_ps_put_cstr(&b->msg, "n");
	rc |= sl_ps_put_int(&b->msg, n);
	if (qid >= 0) {
		rc |= sl_ps_put_cstr(&b->msg, "qid");
		rc |= sl_ps_put_int(&b->msg, qid);
	}
	return rc | bolt_end_msg(b);
}

/** Append the extra map of BEGIN or an auto-commit RUN. */
static int
put_tx_extra(struct bolt *b, bool read_only, double timeout)
{
	const char *bm = bolt_bookmark_get(&b->uri);
	size_t n = (b->uri.db[0] != '\0') + (bm[0] != '\0') + read_only +
	           (timeout > 0);
	struct sl_buf *o = &b->msg;
	int rc = sl_ps_put_map(o, n);
	if (b->uri.db[0] != '\0') {
		rc |= sl_ps_put_cstr(o, "db");
		rc |= sl_ps_put_cstr(o, b->uri.db);
	}
	if (bm[0] != '\0') {
		rc |= sl_ps_put_cstr(o, "bookmarks");
		rc |= sl_ps_put_list(o, 1);
		rc |= sl_ps_put_cstr(o, bm);
	}
	if (read_only) {
		rc |= sl_ps_put_cstr(o, "mode");
		rc |= sl_ps_put_cstr(o, "r");
	}
	if (timeout > 0) {
		rc |= sl_ps_put_cstr(o, "tx_timeout");
		rc |= sl_ps_put_int(o, (int64_t)ceil(timeout * 1000));
	}
	return rc;
}

/** Grow the result's cells to hold row `row`. 0, or -1. */
static int
grow_rows(struct sl_db_result *r, size_t *cap, size_t row)
{
	if (row < *cap)
		return 0;
	size_t ncap = *cap == 0 ? 64 : *cap * 2;
	if (r->ncols > 0 &&
	    ncap > SIZE_MAX / sizeof(struct sl_value) / r->ncols)
		goto oom;
	struct sl_value *cells = sl_arena_alloc_aligned(
	        &r->arena, ncap * r->ncols * sizeof(struct sl_value),
	        _Alignof(struct sl_value));
	if (cells == NULL)
		goto oom;
	if (r->nrows > 0)
		memcpy(cells, r->cells,
		       r->nrows * r->ncols * sizeof(struct sl_value));
	r->cells = cells;
	*cap = ncap;
	return 0;
oom:
	sl_diag_set(SL_ELIMIT, "a result grew past %zu rows", *cap);
	return -1;
}

/** Keep a bookmark the server sent in map `meta`, if any. */
static void
keep_bookmark(struct bolt *b, const struct sl_ps *meta)
{
	const struct sl_ps *bm = sl_ps_map_get(meta, "bookmark");
	if (bm != NULL && bm->type == SL_PS_STRING && bm->len > 0 &&
	    bm->len < BOLT_BOOKMARK_MAX) {
		char s[BOLT_BOOKMARK_MAX];
		memcpy(s, bm->u.s, bm->len);
		s[bm->len] = '\0';
		bolt_bookmark_set(&b->uri, s);
	}
}

/** Keep the summary of a finished PULL: stats, bookmark, type. */
static int
summary(struct bolt *b, struct sl_db_result *r, const struct sl_ps *meta)
{
	const struct sl_ps *t = sl_ps_map_get(meta, "type");
	if (t != NULL && t->type == SL_PS_STRING)
		snprintf(r->tag, sizeof(r->tag), "%.*s", (int)t->len, t->u.s);
	keep_bookmark(b, meta);
	const struct sl_ps *st = sl_ps_map_get(meta, "stats");
	if (st == NULL || st->type != SL_PS_MAP)
		st = NULL;
	struct sl_ps empty = {.type = SL_PS_MAP, .len = 0};
	return sl_ps_to_value(st != NULL ? st : &empty, &r->arena, &r->stats);
}

/**
 * Read one reply into *m. -1 after a connection error (wait_failed()
 * already ran).
 */
static int
recv_reply(struct sl_db_conn *c, struct bolt *b, struct sl_ps *m)
{
	if (bolt_recv(b, m) != 0)
		return wait_failed(c, b);
	return 0;
}

/** The state of one statement's replies. */
struct stmt {
	/** The server's failure code, or "". */
	char code[128];
	/** A FAILURE was read (its error is set; the rest is IGNORED). */
	bool failed;
	/** The result being filled, or NULL. */
	struct sl_db_result *r;
	/** Rows `r` has room for. */
	size_t cap;
	/** The query's id in its transaction, or -1. */
	int64_t qid;
	/** The last PULL said there are more records. */
	bool has_more;
};

/** Note FAILURE `m` in `st` (the first one's error is kept). */
static void
stmt_failure(struct bolt *b, struct stmt *st, const struct sl_ps *m,
             const char *what)
{
	if (st->failed)
		return;
	bolt_failure_code(m, st->code, sizeof(st->code));
	bolt_failure(b, m, what);
	st->failed = true;
}

/**
 * Queue RUN of `sql` (after a queued BEGIN), then PULL or DISCARD of
 * `n` records, and send them. 0, or -1.
 */
static int
send_run(struct sl_db_conn *c, const char *sql, size_t np,
         const struct sl_value *params, bool discard, int64_t n)
{
	struct bolt *b = BOLT(c);
	b->deadline = c->opts.query_timeout > 0
	                      ? sl_clock() + c->opts.query_timeout
	                      : 0;
	struct sl_buf *o = &b->msg;
	int rc = bolt_begin_msg(b, 3, BOLT_RUN);
	rc |= sl_ps_put_string(o, sql, strlen(sql));
	if (rc == 0 && np == 1)
		rc = sl_ps_put_value(o, &params[0]);
	else
		rc |= sl_ps_put_map(o, 0);
	if (rc == 0)
		rc = b->in_tx ? sl_ps_put_map(o, 0)
		              : put_tx_extra(b, false, c->opts.query_timeout);
	if (rc != 0) {
		sl_diag_wrap(sl_diag_code(),
		             "%s: the parameters of a statement", c->shown);
		return -1;
	}
	if (bolt_end_msg(b) != 0 || put_pull(b, discard, n, -1) != 0)
		return -1;
	if (bolt_net_flush(b) != 0)
		return wait_failed(c, b);
	return 0;
}

/**
 * Read the replies of a queued BEGIN and of RUN: the result with the
 * field names in st->r (unless a FAILURE came). 0, or -1 (connection).
 */
static int
read_header(struct sl_db_conn *c, struct stmt *st)
{
	struct bolt *b = BOLT(c);
	struct sl_ps m;
	if (b->begin_pending) {
		b->begin_pending = false;
		if (recv_reply(c, b, &m) != 0)
			return -1;
		if (m.tag == BOLT_FAILURE)
			stmt_failure(b, st, &m, "BEGIN");
	}
	if (recv_reply(c, b, &m) != 0)
		return -1;
	if (m.tag == BOLT_FAILURE) {
		stmt_failure(b, st, &m, "");
		return 0;
	}
	if (m.tag != BOLT_SUCCESS || st->failed) {
		if (!st->failed) {
			sl_diag_set(SL_EPARSE,
			            "%s: unexpected reply 0x%02X to RUN",
			            c->shown, m.tag);
			c->broken = true;
			return -1;
		}
		return 0;
	}
	const struct sl_ps *meta = m.len >= 1 ? &m.u.items[0] : NULL;
	const struct sl_ps *f = meta ? sl_ps_map_get(meta, "fields") : NULL;
	const struct sl_ps *qid = meta ? sl_ps_map_get(meta, "qid") : NULL;
	st->qid = qid != NULL && qid->type == SL_PS_INT ? qid->u.i : -1;
	size_t nf = f != NULL && f->type == SL_PS_LIST ? f->len : 0;
	st->r = sl_db_result_new(0, nf);
	if (st->r == NULL)
		return -1;
	for (size_t i = 0; i < nf; i++) {
		const struct sl_ps *fi = &f->u.items[i];
		bool str = fi->type == SL_PS_STRING;
		st->r->names[i] = sl_arena_strndup(
		        &st->r->arena, str ? fi->u.s : "?", str ? fi->len : 1);
		if (st->r->names[i] == NULL)
			return -1;
	}
	return 0;
}

/**
 * Read the replies of one PULL (or DISCARD): records into st->r, then
 * its summary, setting st->has_more. 0 (also after a FAILURE, noted in
 * `st`), or -1 (connection, memory; the stream is then unread).
 */
static int
read_pull(struct sl_db_conn *c, struct stmt *st)
{
	struct bolt *b = BOLT(c);
	struct sl_db_result *r = st->r;
	struct sl_ps m;
	st->has_more = false;
	for (;;) {
		if (recv_reply(c, b, &m) != 0)
			return -1;
		if (m.tag != BOLT_RECORD)
			break;
		if (r == NULL)
			continue;
		const struct sl_ps *row = m.len >= 1 ? &m.u.items[0] : NULL;
		if (row == NULL || row->type != SL_PS_LIST ||
		    row->len != r->ncols) {
			sl_diag_set(
			        SL_EPARSE,
			        "%s: a record has the wrong number of fields",
			        c->shown);
			c->broken = true;
			return -1;
		}
		if (grow_rows(r, &st->cap, r->nrows) != 0)
			return -1;
		struct sl_value *cells = r->cells + r->nrows * r->ncols;
		for (size_t i = 0; i < r->ncols; i++)
			if (sl_ps_to_value(&row->u.items[i], &r->arena,
			                   &cells[i]) != 0)
				return -1;
		r->nrows++;
	}
	if (m.tag == BOLT_FAILURE) {
		stmt_failure(b, st, &m, "");
		return 0;
	}
	if (m.tag != BOLT_SUCCESS || st->failed)
		return 0; /* IGNORED after a failure */
	const struct sl_ps *meta = m.len >= 1 ? &m.u.items[0] : NULL;
	if (meta == NULL)
		return 0;
	const struct sl_ps *more = sl_ps_map_get(meta, "has_more");
	st->has_more = more != NULL && more->type == SL_PS_BOOL && more->u.b;
	return st->has_more || r == NULL ? 0 : summary(b, r, meta);
}

/**
 * End a statement that failed (the server's error is set) or broke off
 * (-1 from read_pull(): our error is set, the rest of its replies
 * unread): RESET, keeping the error. The transaction, if any, is gone.
 */
static void
stmt_abandon(struct sl_db_conn *c, struct stmt *st)
{
	struct bolt *b = BOLT(c);
	sl_db_result_free(st->r);
	st->r = NULL;
	if (c->broken || b->fd < 0 || (!b->failed && b->pending == 0))
		return; /* lost, or a cancel already sent RESET */
	struct sl_diag keep;
	sl_diag_stash(&keep);
	if (b->in_tx || c->tx_depth > 0)
		b->tx_lost = true;
	b->deadline = sl_clock() + CANCEL_GRACE;
	if (bolt_reset(b) != 0) {
		c->broken = true;
		sl_log_debug("%s: RESET after a failure: %s", c->shown,
		             sl_diag_last() != NULL ? sl_diag_last()->msg : "");
	}
	b->in_tx = c->tx_depth > 0;
	sl_diag_restore(&keep);
}

/**
 * Run `sql` once: RUN and PULL (DISCARD when `discard`) of every record,
 * BOLT_FETCH at a time. The result, or NULL with the error; *code gets
 * the server's failure code, if any.
 */
static struct sl_db_result *
run_once(struct sl_db_conn *c, const char *sql, size_t n,
         const struct sl_value *params, bool discard, char *code,
         size_t code_size)
{
	struct stmt st = {.qid = -1};
	code[0] = '\0';
	if (send_run(c, sql, n, params, discard, discard ? -1 : BOLT_FETCH) !=
	    0)
		return NULL;
	if (read_header(c, &st) != 0)
		goto fail;
	for (;;) {
		if (read_pull(c, &st) != 0)
			goto fail;
		if (!st.has_more || st.failed)
			break;
		if (put_pull(BOLT(c), false, BOLT_FETCH, -1) != 0 ||
		    bolt_net_flush(BOLT(c)) != 0) {
			wait_failed(c, BOLT(c));
			goto fail;
		}
	}
	if (!st.failed)
		return st.r;
fail:
	snprintf(code, code_size, "%s", st.code);
	stmt_abandon(c, &st);
	return NULL;
}

/** Move a routed connection to the cluster's (new) writer. 0, or -1. */
static int
reroute(struct sl_db_conn *c, struct bolt *b)
{
	bolt_route_forget(&b->uri);
	bolt_close(b);
	b->in_len = b->in_pos = 0;
	sl_buf_reset(&b->out);
	return connect_bolt(c, b);
}

/**
 * A statement: run_once(), retrying transient failures outside a
 * transaction. `discard`: the records are not wanted (DISCARD, not PULL).
 */
static struct sl_db_result *
statement(struct sl_db_conn *c, const char *sql, size_t n,
          const struct sl_value *params, bool discard)
{
	struct bolt *b = BOLT(c);
	if (n > 1 || (n == 1 && params[0].type != SL_VOBJECT)) {
		sl_diag_set(SL_EINVAL,
		            "%s: Cypher takes its parameters as one map (an "
		            "object value), not %zu positional value%s",
		            c->shown, n, n == 1 ? "" : "s");
		return NULL;
	}
	if (b->tx_lost) {
		sl_diag_set(SL_EABORTED,
		            "%s: the transaction is aborted: a statement in it "
		            "failed; roll it back first",
		            c->shown);
		return NULL;
	}
	double backoff = RETRY_BASE;
	for (int attempt = 1;; attempt++) {
		char code[128];
		struct sl_db_result *r = run_once(c, sql, n, params, discard,
		                                  code, sizeof(code));
		if (r != NULL || c->broken || b->in_tx || c->tx_depth > 0 ||
		    attempt >= RETRY_MAX || !transient_code(code))
			return r;
		sl_log_info("%s: %s; running the statement again (%d of %d)",
		            c->shown, code, attempt + 1, RETRY_MAX);
		double jitter = (double)(rand() % 1000) / 1000.0;
		if (sl_sleep(backoff * (0.5 + jitter)) != 0)
			return NULL;
		backoff = backoff * 2 > RETRY_CAP ? RETRY_CAP : backoff * 2;
		if (leader_code(code) && b->uri.routing && reroute(c, b) != 0) {
			c->broken = true;
			return NULL;
		}
	}
}

/** The driver's query. */
static struct sl_db_result *
drv_query(struct sl_db_conn *c, const char *sql, size_t n,
          const struct sl_value *params)
{
	return statement(c, sql, n, params, false);
}

/**
 * The driver's script: one Cypher statement without parameters, its
 * records discarded on the server.
 */
static int
drv_script(struct sl_db_conn *c, const char *sql)
{
	struct sl_db_result *r = statement(c, sql, 0, NULL, true);
	if (r == NULL)
		return -1;
	sl_db_result_free(r);
	return 0;
}

/** The driver's forget: Bolt has no prepared statements. */
static int
drv_forget(struct sl_db_conn *c)
{
	(void)c;
	return 0;
}

/* }}} */
/* {{{ cursors */

/** A cursor: a query of the open transaction pulled `batch` at a time. */
struct bolt_cursor {
	/** What the layer fills in. */
	struct sl_db_cursor base;
	/** The query's replies (st.r: its field names, kept). */
	struct stmt st;
	/** Records per PULL. */
	int64_t batch;
	/** A PULL was sent whose replies are unread. */
	bool awaiting;
	/** Every record was read. */
	bool done;
};

/** An empty result with the columns of `like`. NULL with an error. */
static struct sl_db_result *
result_like(const struct sl_db_result *like)
{
	struct sl_db_result *r = sl_db_result_new(0, like->ncols);
	for (size_t i = 0; r != NULL && i < like->ncols; i++) {
		r->names[i] = sl_arena_strndup(&r->arena, like->names[i],
		                               strlen(like->names[i]));
		if (r->names[i] == NULL) {
			sl_db_result_free(r);
			sl_diag_set(SL_EOOM, "out of memory for a result");
			return NULL;
		}
	}
	return r;
}

/** The driver's cursor_open: RUN and the first PULL. */
static struct sl_db_cursor *
drv_cursor_open(struct sl_db_conn *c, const char *sql, size_t n,
                const struct sl_value *params, size_t batch)
{
	if (n > 1 || (n == 1 && params[0].type != SL_VOBJECT)) {
		sl_diag_set(SL_EINVAL,
		            "%s: Cypher takes its parameters as one map",
		            c->shown);
		return NULL;
	}
	struct bolt_cursor *cur = sl_calloc(1, sizeof(*cur));
	if (cur == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory", c->shown);
		return NULL;
	}
	cur->st.qid = -1;
	cur->batch = batch > INT32_MAX ? INT32_MAX : (int64_t)batch;
	if (send_run(c, sql, n, params, false, cur->batch) != 0)
		goto fail;
	cur->awaiting = true;
	if (read_header(c, &cur->st) != 0 || cur->st.failed) {
		/* Read the PULL's IGNORED before the RESET. */
		if (!c->broken && cur->st.failed)
			read_pull(c, &cur->st);
		stmt_abandon(c, &cur->st);
		goto fail;
	}
	return &cur->base;
fail:
	sl_db_result_free(cur->st.r);
	sl_free(cur);
	return NULL;
}

/** The driver's cursor_fetch: the next `batch` records (none at the end). */
static struct sl_db_result *
drv_cursor_fetch(struct sl_db_cursor *base)
{
	struct bolt_cursor *cur = (struct bolt_cursor *)base;
	struct sl_db_conn *c = base->c;
	struct bolt *b = BOLT(c);
	struct sl_db_result *r = result_like(cur->st.r);
	if (r == NULL || cur->done)
		return r;
	if (!cur->awaiting) {
		b->deadline = c->opts.query_timeout > 0
		                      ? sl_clock() + c->opts.query_timeout
		                      : 0;
		if (put_pull(b, false, cur->batch, cur->st.qid) != 0 ||
		    bolt_net_flush(b) != 0) {
			wait_failed(c, b);
			sl_db_result_free(r);
			return NULL;
		}
		cur->awaiting = true;
	}
	struct stmt st = cur->st;
	st.r = r;
	st.cap = 0;
	int rc = read_pull(c, &st);
	cur->awaiting = false;
	if (rc != 0 || st.failed) {
		stmt_abandon(c, &st);
		cur->done = true;
		return NULL;
	}
	cur->done = !st.has_more;
	return r;
}

/** The driver's cursor_close: DISCARD what is left. */
static int
drv_cursor_close(struct sl_db_cursor *base, bool live)
{
	struct bolt_cursor *cur = (struct bolt_cursor *)base;
	struct sl_db_conn *c = base->c;
	int rc = 0;
	if (live && !cur->done) {
		struct stmt st = cur->st;
		st.r = NULL;
		st.has_more = true; /* unless the PULL in flight says not */
		if (cur->awaiting && read_pull(c, &st) != 0)
			rc = -1;
		if (rc == 0 && !st.failed && st.has_more) {
			struct bolt *b = BOLT(c);
			if (put_pull(b, true, -1, st.qid) != 0 ||
			    bolt_net_flush(b) != 0) {
				wait_failed(c, b);
				rc = -1;
			} else if (read_pull(c, &st) != 0) {
				rc = -1;
			}
		}
		if (rc != 0 || st.failed) {
			stmt_abandon(c, &st);
			rc = -1;
		}
	}
	sl_db_result_free(cur->st.r);
	sl_free(cur);
	return rc;
}

/* }}} */
/* {{{ transactions */

/** Read the reply to a COMMIT or ROLLBACK (after a queued BEGIN's). */
static int
end_reply(struct sl_db_conn *c, struct bolt *b, const char *what)
{
	struct sl_ps m;
	bool failed = false;
	struct sl_diag keep;
	if (b->begin_pending) {
		b->begin_pending = false;
		if (recv_reply(c, b, &m) != 0)
			return -1;
		if (m.tag == BOLT_FAILURE) {
			bolt_failure(b, &m, "BEGIN");
			failed = true;
		}
	}
	if (bolt_recv(b, &m) != 0) {
		if (strcmp(what, "COMMIT") == 0 && sl_diag_code() == SL_EIO) {
			c->broken = true;
			sl_diag_wrap(SL_EIO,
			             "%s: the connection was lost before the "
			             "COMMIT's reply: the transaction may or "
			             "may not have committed",
			             c->shown);
			return -1;
		}
		return wait_failed(c, b);
	}
	if (!failed && m.tag == BOLT_FAILURE) {
		bolt_failure(b, &m, what);
		failed = true;
	}
	if (!failed && m.tag == BOLT_SUCCESS) {
		if (m.len >= 1)
			keep_bookmark(b, &m.u.items[0]);
		return 0;
	}
	if (!failed)
		sl_diag_set(SL_EPARSE, "%s: unexpected reply 0x%02X to %s",
		            c->shown, m.tag, what);
	sl_diag_stash(&keep);
	b->deadline = sl_clock() + CANCEL_GRACE;
	if (bolt_reset(b) != 0)
		c->broken = true;
	sl_diag_restore(&keep);
	return -1;
}

/** The driver's transaction control. */
static int
drv_tx(struct sl_db_conn *c, enum sl_db_txop op,
       const struct sl_db_tx_opts *opts)
{
	struct bolt *b = BOLT(c);
	switch (op) {
	case SL_DB_TX_BEGIN:
		if (opts != NULL &&
		    (opts->isolation != SL_ISO_DEFAULT || opts->deferrable)) {
			sl_diag_set(SL_EINVAL,
			            "%s: Neo4j has no isolation levels or "
			            "deferrable transactions",
			            c->shown);
			return -1;
		}
		if (bolt_begin_msg(b, 1, BOLT_BEGIN) != 0 ||
		    put_tx_extra(b, opts != NULL && opts->read_only,
		                 c->opts.query_timeout) != 0 ||
		    bolt_end_msg(b) != 0)
			return -1;
		b->in_tx = true;
		b->begin_pending = true;
		b->tx_lost = false;
		return 0;
	case SL_DB_TX_COMMIT:
	case SL_DB_TX_ROLLBACK:
		break;
	}
	bool commit = op == SL_DB_TX_COMMIT;
	if (b->tx_lost) {
		b->in_tx = b->tx_lost = false;
		if (!commit)
			return 0;
		sl_diag_set(SL_EDB,
		            "%s: the transaction was rolled back: a statement "
		            "in it failed",
		            c->shown);
		return -1;
	}
	if (!commit && b->begin_pending) {
		/* Nothing was sent: drop the queued BEGIN. */
		sl_buf_reset(&b->out);
		b->pending = 0;
		b->begin_pending = false;
		b->in_tx = false;
		return 0;
	}
	b->deadline = c->opts.query_timeout > 0
	                      ? sl_clock() + c->opts.query_timeout
	                      : 0;
	if (bolt_begin_msg(b, 0, commit ? BOLT_COMMIT : BOLT_ROLLBACK) != 0 ||
	    bolt_end_msg(b) != 0)
		return -1;
	if (bolt_net_flush(b) != 0)
		return wait_failed(c, b);
	int rc = end_reply(c, b, commit ? "COMMIT" : "ROLLBACK");
	b->in_tx = false;
	b->tx_lost = false;
	return rc;
}

/* }}} */
/* {{{ the driver */

/** A model column's type: models are SQL, which Neo4j does not speak. */
static const char *
col_type(const struct sl_column *col)
{
	(void)col;
	return "ANY";
}

/** BEGIN as text (unused: drv_tx sends Bolt's BEGIN). */
static int
begin_sql(const struct sl_db_conn *c, const struct sl_db_tx_opts *opts,
          char *sql, size_t size)
{
	(void)c;
	(void)opts;
	snprintf(sql, size, "BEGIN");
	return 0;
}

/** Bolt's dialect: Cypher. */
static const struct sl_db_dialect dialect = {
        .col_type = col_type,
        .auto_is_pk = false,
        .use_default_sqlite = false,
        .bind = NULL,
        .decode = NULL,
        .json_cast = "",
        .merge_open = "",
        .merge_mid = " + ",
        .merge_close = "",
        .ddl_stales = false,
        .aborts_tx = false,
        .begin = begin_sql,
        .savepoint = NULL,
        .release = NULL,
        .rollback_to = NULL,
        .ping = "RETURN 1",
};

/** The schemes it takes. */
static const char *const schemes[] = {"bolt://",  "bolt+s://",  "bolt+ssc://",
                                      "neo4j://", "neo4j+s://", "neo4j+ssc://",
                                      NULL};

/** The Bolt driver. */
const struct sl_db_driver sl_bolt_driver = {
        .name = "neo4j",
        .kind = SL_DB_NEO4J,
        .schemes = schemes,
        .claims = NULL,
        .forms = "bolt://HOST[:PORT][/DB] (neo4j:// to route; +s, +ssc "
                 "for TLS)",
        .dialect = &dialect,
        .open = drv_open,
        .close = drv_close,
        .query = drv_query,
        .script = drv_script,
        .forget = drv_forget,
        .cursor_open = drv_cursor_open,
        .cursor_fetch = drv_cursor_fetch,
        .cursor_close = drv_cursor_close,
        .tx = drv_tx,
};

/* }}} */
