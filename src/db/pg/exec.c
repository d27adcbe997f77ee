/*
 * sluice: the PostgreSQL driver: the statement cache, parameters,
 * single statements and scripts.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"
#include "sluice/alloc.h"
#include "sluice/hash.h"
#include "sluice/log.h"

/* {{{ statement cache */

/** Free a statement (out of the cache). */
static void
stmt_free(struct pg_stmt *s)
{
	if (s == NULL)
		return;
	sl_free(s->sql);
	sl_free(s->ptypes);
	sl_free(s->ctypes);
	sl_free(s->cnames);
	sl_free(s);
}

void
sl_pg_stmt_drop(struct pg_conn *p, struct pg_stmt *s)
{
	struct pg_stmt **pp = &p->buckets[s->hash & (p->nbuckets - 1)];
	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	sl_list_del(&s->lru);
	p->nstmts--;
	stmt_free(s);
}

struct pg_stmt *
sl_pg_stmt_new(struct pg_conn *p, const char *sql, size_t len, uint64_t h)
{
	struct pg_stmt *s = sl_calloc(1, sizeof(*s));
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
	return s;
}

void
sl_pg_stmt_clear(struct pg_conn *p)
{
	while (!sl_list_empty(&p->lru)) {
		struct pg_stmt *s =
		        sl_list_entry(p->lru.next, struct pg_stmt, lru);
		sl_pg_stmt_drop(p, s);
	}
}

struct pg_stmt *
sl_pg_stmt_evictable(struct sl_db_conn *c, struct sl_list **it)
{
	struct pg_conn *p = PG(c);
	size_t cap = c->opts.stmt_cache > 0 ? c->opts.stmt_cache : 1;
	while (p->nstmts >= cap && *it != &p->lru) {
		struct pg_stmt *s = sl_list_entry(*it, struct pg_stmt, lru);
		*it = (*it)->next;
		if (s->queued == 0)
			return s;
	}
	return NULL;
}

struct pg_stmt *
sl_pg_stmt_find(struct pg_conn *p, const char *sql, size_t len, uint64_t h)
{
	for (struct pg_stmt *s = p->buckets[h & (p->nbuckets - 1)]; s != NULL;
	     s = s->next)
		if (s->hash == h && strncmp(s->sql, sql, len) == 0 &&
		    s->sql[len] == '\0')
			return s;
	return NULL;
}

/* }}} */
/* {{{ preparing and sending */

/**
 * Make sure `sql` is prepared and described; prepares it now if needed
 * (one round trip, reading earlier replies meanwhile). Returns the
 * statement, or NULL with an error: SL_EDB when the server refused it
 * (the pipeline's segment is then aborted), -1 others.
 */
static struct pg_stmt *
prepare(struct pg_pipe *pl, const char *sql)
{
	struct sl_db_conn *c = pl->base.c;
	struct pg_conn *p = PG(c);
	size_t len = strlen(sql);
	uint64_t h = sl_hash64(sql, len);
	struct pg_stmt *s = sl_pg_stmt_find(p, sql, len, h);
	if (s != NULL && s->ready) {
		sl_pg_stmt_touch(p, s);
		return s;
	}
	assert(s == NULL);
	/* Evict least recently used statements while the cache is full
	 * (DEALLOCATE through libpq; its reply is read in order). */
	struct sl_list *it = p->lru.next;
	struct pg_stmt *old;
	while ((old = sl_pg_stmt_evictable(c, &it)) != NULL) {
		char dealloc[48];
		snprintf(dealloc, sizeof(dealloc), "DEALLOCATE %s", old->name);
		sl_pg_stmt_drop(p, old);
		if (!PQsendQueryParams(p->pg, dealloc, 0, NULL, NULL, NULL,
		                       NULL, 0))
			return sl_pg_lost(c, "sending"), NULL;
		if (sl_pg_exp_push(pl, EXP_INTERNAL, NULL, 0) != 0)
			return NULL;
		pl->need_sync = true;
	}
	s = sl_pg_stmt_new(p, sql, len, h);
	if (s == NULL)
		return NULL;
	if (!PQsendPrepare(p->pg, s->name, sql, 0, NULL) ||
	    !PQsendDescribePrepared(p->pg, s->name)) {
		sl_pg_stmt_drop(p, s);
		return sl_pg_lost(c, "sending"), NULL;
	}
	if (sl_pg_exp_push(pl, EXP_PREPARE, s, 0) != 0 ||
	    sl_pg_exp_push(pl, EXP_DESCRIBE, s, 0) != 0)
		return NULL;
	pl->need_sync = true;
	/* Get the describe back: a user pipeline asks the server to flush,
	 * a single statement sets its sync point. */
	if (pl->user) {
		if (!PQsendFlushRequest(p->pg))
			return sl_pg_lost(c, "sending"), NULL;
	} else if (sl_pg_send_sync(pl) != 0) {
		return NULL;
	}
	if (sl_pg_flush_all(c) != 0)
		return NULL;
	bool failed = false;
	char msg[SL_ERROR_MSG_MAX];
	msg[0] = '\0';
	for (;;) {
		assert(pl->exp_len > 0);
		struct pg_exp head = pl->exp[pl->exp_head];
		int rc = sl_pg_pump_one(pl);
		if (rc == -1)
			return NULL;
		if (rc == -2 && !failed) {
			failed = true;
			sl_pg_msgf(msg, sizeof(msg), "%s", sl_diag_last()->msg);
			sl_diag_clear(sl_diag_get());
		}
		if (head.kind == EXP_DESCRIBE && head.stmt == s)
			break;
	}
	if (failed || sl_pg_stmt_find(p, sql, len, h) != s) {
		if (!failed)
			sl_pg_msgf(
			        msg, sizeof(msg),
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

int
sl_pg_check_nparams(struct sl_db_conn *c, int ntypes, size_t n, const char *sql)
{
	if ((size_t)ntypes == n)
		return 0;
	char shown[SQL_SHOWN];
	sl_pg_one_line(sql, shown, sizeof(shown));
	sl_diag_set(SL_EINVAL,
	            "%s: the statement takes %d parameter%s, %zu given: %s",
	            c->shown, ntypes, ntypes == 1 ? "" : "s", n, shown);
	return -1;
}

int
sl_pg_encode_params(struct sl_db_conn *c, const uint32_t *types, int ntypes,
                    size_t n, const struct sl_value *params, const char *sql)
{
	struct pg_conn *p = PG(c);
	if (sl_pg_check_nparams(c, ntypes, n, sql) != 0)
		return -1;
	if (params_reserve(p, n) != 0)
		return -1;
	sl_buf_reset(&p->pbuf);
	for (size_t i = 0; i < n; i++) {
		bool null;
		size_t at = p->pbuf.len;
		if (sl_pgtype_encode(&p->pbuf, types[i], &params[i], &null) !=
		    0) {
			sl_diag_wrap(SL_EINVAL, "%s: parameter $%zu (type %u)",
			             c->shown, i + 1, types[i]);
			return -1;
		}
		bool bin = sl_pgtype_binary_param(types[i]);
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

int
sl_pg_push(struct pg_pipe *pl, const char *sql, size_t n,
           const struct sl_value *params, long idx)
{
	struct sl_db_conn *c = pl->base.c;
	struct pg_conn *p = PG(c);
	if (pl->user && !pl->chosen) {
		/* A user pipeline on an idle connection takes the direct
		 * path from its first statement to its end. */
		pl->chosen = true;
		pl->direct = sl_pg_fast_usable(c);
		if (pl->direct)
			sl_buf_reset(&p->wbuf); /* nothing queued before it */
	}
	struct pg_stmt *s =
	        pl->direct ? sl_pg_direct_prepare(pl, sql) : prepare(pl, sql);
	if (s == NULL) {
		enum sl_errcode code = sl_diag_code();
		if (code != SL_EDB && code != SL_EABORTED)
			return -1;
		/* The server refused it: this statement fails in order. */
		char msg[SL_ERROR_MSG_MAX + 32];
		if (pl->user)
			sl_pg_msgf(msg, sizeof(msg), "statement %ld: %s", idx,
			           sl_diag_last()->msg);
		else
			sl_pg_msgf(msg, sizeof(msg), "%s", sl_diag_last()->msg);
		sl_diag_clear(sl_diag_get());
		if (sl_pg_done_fail(pl, idx, code, msg, "") != 0)
			return -1;
		return 1;
	}
	if (pl->direct)
		return sl_pg_direct_execute(pl, s, n, params, idx);
	if (sl_pg_encode_params(c, s->ptypes, s->nparams, n, params, sql) != 0)
		return -1;
	if (!PQsendQueryPrepared(p->pg, s->name, (int)n, p->pvals, p->plens,
	                         p->pfmts, s->rfmt))
		return sl_pg_lost(c, "sending");
	if (sl_pg_exp_push(pl, EXP_USER, s, idx) != 0)
		return -1;
	pl->need_sync = true;
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

void
sl_pg_stmt_forget_sql(struct sl_db_conn *c, const char *sql)
{
	struct pg_conn *p = PG(c);
	size_t len = strlen(sql);
	struct pg_stmt *s = sl_pg_stmt_find(p, sql, len, sl_hash64(sql, len));
	if (s == NULL)
		return;
	char dealloc[48];
	snprintf(dealloc, sizeof(dealloc), "DEALLOCATE %s", s->name);
	sl_pg_stmt_drop(p, s);
	if (PQsendQueryParams(p->pg, dealloc, 0, NULL, NULL, NULL, NULL, 0) &&
	    sl_pg_exp_push(&p->op, EXP_INTERNAL, NULL, 0) == 0)
		p->op.need_sync = true;
}

/** Run one statement once. Sets sqlstate on a server error. */
static struct sl_db_result *
query_once(struct sl_db_conn *c, const char *sql, size_t n,
           const struct sl_value *params, char sqlstate[6])
{
	struct pg_conn *p = PG(c);
	struct pg_pipe *pl = &p->op;
	sqlstate[0] = '\0';
	/* A statement prepared before goes the direct path when it can. */
	struct pg_stmt *s = sl_pg_fast_stmt(c, sql);
	if (s != NULL)
		return sl_pg_fast_query(c, s, n, params, sqlstate);
	int rc = sl_pg_push(pl, sql, n, params, 0);
	if (rc < 0) {
		/* Nothing of this statement was sent; finish what was. */
		struct sl_diag keep;
		sl_diag_stash(&keep);
		sl_pg_drain(pl);
		sl_pg_pipeline_reset(pl);
		sl_diag_restore(&keep);
		return NULL;
	}
	if (sl_pg_drain(pl) != 0) {
		sl_pg_pipeline_reset(pl);
		return NULL;
	}
	assert(pl->done_len == 1);
	return sl_pg_done_pop(pl, sqlstate);
}

struct sl_db_result *
sl_pg_query(struct sl_db_conn *c, const char *sql, size_t n,
            const struct sl_value *params)
{
	sl_pg_op_start(c);
	char state[6];
	struct sl_db_result *r = query_once(c, sql, n, params, state);
	if (r == NULL && PG(c)->cancelled == 0 && c->tx_depth == 0 &&
	    !c->broken && stale(state, sl_diag_last()->msg)) {
		/* Re-prepare a statement that DDL made stale, once. */
		sl_log_debug("%s: re-preparing a stale statement", c->shown);
		sl_pg_stmt_forget_sql(c, sql);
		sl_diag_clear(sl_diag_get());
		r = query_once(c, sql, n, params, state);
	} else if (r == NULL && stale(state, sl_diag_last()->msg)) {
		sl_pg_stmt_forget_sql(c, sql);
		sl_diag_wrap(SL_EDB,
		             "%s: a cached statement went stale after a schema "
		             "change inside a transaction; roll back and retry",
		             c->shown);
	}
	if (sl_pg_op_finish(c, r != NULL ? 0 : -1) != 0) {
		sl_db_result_free(r);
		return NULL;
	}
	return r;
}

int
sl_pg_unpipe(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	if (sl_pg_drain(&p->op) != 0)
		return -1;
	if (!PQexitPipelineMode(p->pg)) {
		char msg[300];
		sl_pg_one_line(PQerrorMessage(p->pg), msg, sizeof(msg));
		c->broken = true;
		sl_diag_set(SL_EIO, "%s: cannot leave pipeline mode: %s",
		            c->shown, msg);
		return -1;
	}
	p->piped = false;
	return 0;
}

int
sl_pg_repipe(struct sl_db_conn *c)
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

int
sl_pg_read_plain(struct sl_db_conn *c, const char *sql, PGresult **keep_last)
{
	int rc = 0;
	char msg[SL_ERROR_MSG_MAX], state[6];
	msg[0] = '\0';
	PGresult *res;
	if (keep_last != NULL)
		*keep_last = NULL;
	for (;;) {
		if (sl_pg_next_result(c, &res) != 0)
			return -1;
		if (res == NULL)
			break;
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) {
			PQclear(res);
			c->broken = true;
			sl_diag_set(SL_EINVAL,
			            "%s: COPY cannot run in a script (use "
			            "sl_db_copy_begin()); connection dropped",
			            c->shown);
			return -1;
		}
		if ((st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) &&
		    rc == 0) {
			sl_pg_server_error(c, res, sql, msg, sizeof(msg),
			                   state);
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

int
sl_pg_script(struct sl_db_conn *c, const char *sql)
{
	struct pg_conn *p = PG(c);
	sl_pg_op_start(c);
	int rc = sl_pg_unpipe(c);
	if (rc == 0 && !PQsendQuery(p->pg, sql))
		rc = sl_pg_lost(c, "sending");
	if (rc == 0)
		rc = sl_pg_flush_all(c);
	if (rc == 0)
		rc = sl_pg_read_plain(c, sql, NULL);
	if (sl_pg_repipe(c) != 0 && rc == 0)
		rc = -1;
	return sl_pg_op_finish(c, rc);
}

int
sl_pg_forget(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	sl_pg_stmt_clear(p);
	return sl_pg_script(c, "DEALLOCATE ALL");
}

/* }}} */
