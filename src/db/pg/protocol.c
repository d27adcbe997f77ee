/*
 * sluice: the PostgreSQL driver's protocol engine: errors, waits on
 * the socket, the FIFO of expected replies and the results it pumps.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"
#include "sluice/alloc.h"
#include "sluice/log.h"
#include "sluice/task.h"

/* {{{ errors */

void
sl_pg_msgf(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

void
sl_pg_one_line(const char *msg, char *out, size_t size)
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

int
sl_pg_lost(struct sl_db_conn *c, const char *when)
{
	char msg[300];
	sl_pg_one_line(PQerrorMessage(PG(c)->pg), msg, sizeof(msg));
	c->broken = true;
	sl_diag_set(SL_EIO, "%s: connection lost while %s: %s", c->shown, when,
	            msg[0] != '\0' ? msg : "no reason given");
	return -1;
}

void
sl_pg_format_error(struct sl_db_conn *c, const char *sev, const char *sev_c,
                   const char *primary, const char *detail, const char *hint,
                   const char *state, const char *sql, char *out, size_t size,
                   char sqlstate[6])
{
	snprintf(sqlstate, 6, "%s", state != NULL ? state : "");
	/* FATAL and PANIC end the session (an administrator's terminate,
	 * 57P01, is one): the connection is lost now, not at its next use. */
	if (sev_c != NULL &&
	    (strcmp(sev_c, "FATAL") == 0 || strcmp(sev_c, "PANIC") == 0))
		c->broken = true;
	char shown[SQL_SHOWN + 4];
	sl_pg_one_line(sql, shown, SQL_SHOWN);
	if (sql != NULL && strlen(sql) >= SQL_SHOWN)
		strcat(shown, "...");
	sl_pg_msgf(out, size, "%s: %s: %s (SQLSTATE %s)%s%s%s%s%s%s", c->shown,
	           sev != NULL ? sev : "ERROR",
	           primary != NULL ? primary : "no message", sqlstate,
	           detail != NULL ? "; " : "", detail != NULL ? detail : "",
	           hint != NULL ? "; hint: " : "", hint != NULL ? hint : "",
	           sql != NULL ? " in: " : "", sql != NULL ? shown : "");
}

void
sl_pg_server_error(struct sl_db_conn *c, const PGresult *res, const char *sql,
                   char *out, size_t size, char sqlstate[6])
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (PQstatus(PG(c)->pg) == CONNECTION_BAD)
		c->broken = true;
	if (primary == NULL) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		snprintf(sqlstate, 6, "%s", state != NULL ? state : "");
		char msg[300], shown[SQL_SHOWN + 4];
		sl_pg_one_line(sql, shown, SQL_SHOWN);
		if (sql != NULL && strlen(sql) >= SQL_SHOWN)
			strcat(shown, "...");
		sl_pg_one_line(PQresultErrorMessage(res), msg, sizeof(msg));
		sl_pg_msgf(out, size, "%s: %s%s%s", c->shown, msg,
		           sql != NULL ? " in: " : "",
		           sql != NULL ? shown : "");
		return;
	}
	sl_pg_format_error(
	        c, PQresultErrorField(res, PG_DIAG_SEVERITY),
	        PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED), primary,
	        PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
	        PQresultErrorField(res, PG_DIAG_MESSAGE_HINT),
	        PQresultErrorField(res, PG_DIAG_SQLSTATE), sql, out, size,
	        sqlstate);
}

/* }}} */
/* {{{ waiting and flushing */

int
sl_pg_wait_io(struct sl_db_conn *c, int events)
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
		if (sl_pg_start_cancel(c, code) != 0)
			return -1;
	}
}

int
sl_pg_flush_all(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	for (;;) {
		int rc = PQflush(p->pg);
		if (rc == 0)
			return 0;
		if (rc < 0)
			return sl_pg_lost(c, "sending");
		if (sl_pg_wait_io(c, SL_IO_READ | SL_IO_WRITE) != 0)
			return -1;
		if (!PQconsumeInput(p->pg))
			return sl_pg_lost(c, "reading");
	}
}

int
sl_pg_next_result(struct sl_db_conn *c, PGresult **out)
{
	struct pg_conn *p = PG(c);
	for (;;) {
		if (!PQisBusy(p->pg)) {
			*out = PQgetResult(p->pg);
			return 0;
		}
		int rc = PQflush(p->pg);
		if (rc < 0)
			return sl_pg_lost(c, "sending");
		if (sl_pg_wait_io(c, SL_IO_READ |
		                             (rc == 1 ? SL_IO_WRITE : 0)) != 0)
			return -1;
		if (!PQconsumeInput(p->pg))
			return sl_pg_lost(c, "reading");
	}
}

void
sl_pg_op_start(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	p->deadline = c->opts.query_timeout < 0
	                      ? INFINITY
	                      : sl_clock() + c->opts.query_timeout;
	p->cancelled = 0;
	p->recancel = false;
}

int
sl_pg_op_finish(struct sl_db_conn *c, int rc)
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
/* {{{ the engine: expected replies and finished statements */

int
sl_pg_exp_push(struct pg_pipe *pl, enum exp_kind kind, struct pg_stmt *s,
               long idx)
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
	if (s != NULL)
		s->queued++;
	if (kind == EXP_USER)
		pl->exp_user++;
	return 0;
}

int
sl_pg_done_push(struct pg_pipe *pl, const struct pg_done *d)
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

void
sl_pg_done_clear(struct pg_done *d)
{
	sl_db_result_free(d->r);
	sl_free(d->msg);
	d->r = NULL;
	d->msg = NULL;
}

int
sl_pg_done_fail(struct pg_pipe *pl, long idx, enum sl_errcode code,
                const char *msg, const char *sqlstate)
{
	struct pg_done d = {.idx = idx, .code = code};
	d.msg = sl_strndup(msg, strlen(msg));
	snprintf(d.sqlstate, sizeof(d.sqlstate), "%s",
	         sqlstate != NULL ? sqlstate : "");
	if (sl_pg_done_push(pl, &d) != 0) {
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
static struct sl_db_result *
make_result(struct sl_db_conn *c, PGresult *res)
{
	size_t nrows = (size_t)PQntuples(res);
	size_t ncols = (size_t)PQnfields(res);
	struct sl_db_result *r = sl_db_result_new(nrows, ncols);
	if (r == NULL) {
		PQclear(res);
		return NULL;
	}
	r->keep = res;
	r->keep_free = keep_clear;
	sl_db_result_set_tag(r, PQcmdStatus(res));
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
			if (sl_pgtype_decode(oid, fmt, v, len, &r->arena,
			                     &r->cells[i * ncols + j]) != 0) {
				sl_diag_wrap(
				        SL_EPARSE, "%s: row %zu, column \"%s\"",
				        c->shown, i + 1, PQfname(res, (int)j));
				sl_db_result_free(r);
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
	/* The column names, for results read on the direct path. */
	size_t bytes = (size_t)nc * sizeof(char *);
	for (int i = 0; i < nc; i++)
		bytes += strlen(PQfname(res, i)) + 1;
	char **names = nc > 0 ? sl_malloc(bytes) : NULL;
	if (nc > 0 && names == NULL) {
		sl_free(pt);
		sl_free(ct);
		sl_diag_set(SL_EOOM, "out of memory describing a statement");
		return -1;
	}
	char *at = nc > 0 ? (char *)(names + nc) : NULL;
	for (int i = 0; i < nc; i++) {
		size_t n = strlen(PQfname(res, i)) + 1;
		memcpy(at, PQfname(res, i), n);
		names[i] = at;
		at += n;
	}
	sl_free(s->cnames);
	s->cnames = names;
	s->rfmt = 1;
	s->byval = true;
	for (int i = 0; i < np; i++)
		pt[i] = PQparamtype(res, i);
	for (int i = 0; i < nc; i++) {
		ct[i] = PQftype(res, i);
		if (!sl_pgtype_binary_decodable(ct[i]))
			s->rfmt = 0;
		if (!sl_pgtype_by_value(ct[i]))
			s->byval = false;
	}
	s->byval = s->byval && s->rfmt == 1;
	sl_free(s->ptypes);
	sl_free(s->ctypes);
	s->ptypes = pt;
	s->ctypes = ct;
	s->nparams = np;
	s->ncols = nc;
	s->ready = true;
	return 0;
}

struct pg_exp
sl_pg_exp_pop(struct pg_pipe *pl)
{
	assert(pl->exp_len > 0);
	struct pg_exp e = pl->exp[pl->exp_head];
	pl->exp_head = (pl->exp_head + 1) % pl->exp_cap;
	pl->exp_len--;
	if (e.kind == EXP_USER)
		pl->exp_user--;
	if (e.stmt != NULL)
		e.stmt->queued--;
	return e;
}

int
sl_pg_pump_one(struct pg_pipe *pl)
{
	if (pl->direct)
		return sl_pg_direct_pump(pl);
	struct sl_db_conn *c = pl->base.c;
	struct pg_conn *p = PG(c);
	struct pg_exp e = sl_pg_exp_pop(pl);
	PGresult *res;
	if (sl_pg_next_result(c, &res) != 0)
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
			            "sl_db_copy_begin()); connection dropped",
			            c->shown);
			return -1;
		}
		if (sl_pg_next_result(c, &res) != 0) {
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
			sl_pg_msgf(msg, sizeof(msg),
			           "%s: statement %ld skipped: statement %ld "
			           "failed "
			           "before the sync point",
			           c->shown, e.idx, pl->seg_failed);
			rc = sl_pg_done_fail(pl, e.idx, SL_EABORTED, msg, "");
		} else if (e.stmt != NULL && e.kind == EXP_DESCRIBE) {
			/* Not prepared after all: forget it. */
			sl_pg_stmt_drop(p, e.stmt);
		}
	} else if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR ||
	           st == PGRES_BAD_RESPONSE || last == NULL) {
		char msg[SL_ERROR_MSG_MAX], state[6] = "";
		if (last != NULL)
			sl_pg_server_error(c, last, sql, msg, sizeof(msg),
			                   state);
		else
			sl_pg_msgf(msg, sizeof(msg), "%s: no reply", c->shown);
		if (e.kind == EXP_USER) {
			pl->seg_failed = e.idx;
			if (pl->user) {
				char m2[SL_ERROR_MSG_MAX + 32];
				sl_pg_msgf(m2, sizeof(m2), "statement %ld: %s",
				           e.idx, msg);
				rc = sl_pg_done_fail(pl, e.idx, SL_EDB, m2,
				                     state);
			} else {
				rc = sl_pg_done_fail(pl, e.idx, SL_EDB, msg,
				                     state);
			}
		} else if (e.kind == EXP_PREPARE || e.kind == EXP_DESCRIBE) {
			/* The statement cannot be prepared: the user
			 * statement waiting for it gets this error. */
			pl->seg_failed = pl->next_idx;
			if (e.kind == EXP_DESCRIBE) {
				sl_pg_stmt_drop(p, e.stmt);
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
			rc = sl_pg_done_fail(pl, e.idx, sl_diag_code(), msg,
			                     "");
		} else if (sl_pg_done_push(pl, &d) != 0) {
			sl_db_result_free(d.r);
			rc = -1;
		}
	}
	PQclear(last);
	return rc;
}

int
sl_pg_send_sync(struct pg_pipe *pl)
{
	if (!pl->need_sync)
		return 0;
	if (pl->direct)
		return sl_pg_direct_sync(pl);
	if (!PQpipelineSync(PG(pl->base.c)->pg))
		return sl_pg_lost(pl->base.c, "sending a sync point");
	pl->need_sync = false;
	return sl_pg_exp_push(pl, EXP_SYNC, NULL, 0);
}

int
sl_pg_drain(struct pg_pipe *pl)
{
	if (sl_pg_send_sync(pl) != 0)
		return -1;
	if ((pl->direct ? sl_pg_direct_flush(pl->base.c)
	                : sl_pg_flush_all(pl->base.c)) != 0)
		return -1;
	while (pl->exp_len > 0) {
		int rc = sl_pg_pump_one(pl);
		if (rc == -1)
			return -1;
		if (rc == -2)
			sl_diag_clear(sl_diag_get());
	}
	return 0;
}

void
sl_pg_pipeline_reset(struct pg_pipe *pl)
{
	for (size_t i = 0; i < pl->exp_len; i++) {
		struct pg_exp *e = &pl->exp[(pl->exp_head + i) % pl->exp_cap];
		if (e->stmt != NULL)
			e->stmt->queued--;
	}
	pl->exp_len = 0;
	pl->exp_head = 0;
	pl->exp_user = 0;
	while (pl->done_len > 0) {
		sl_pg_done_clear(&pl->done[pl->done_head]);
		pl->done_head = (pl->done_head + 1) % pl->done_cap;
		pl->done_len--;
	}
	pl->done_head = 0;
	pl->need_sync = false;
	pl->seg_failed = -1;
	pl->seg_aborted = false;
	pl->unread = 0;
}

struct sl_db_result *
sl_pg_done_pop(struct pg_pipe *pl, char sqlstate[6])
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
