/*
 * sluice: the PostgreSQL driver: connecting (the non-blocking
 * dance), closing, server notices and cancel requests.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "sluice/alloc.h"
#include "sluice/log.h"
#include "sluice/task.h"

/* {{{ cancelling */

/** Seconds to wait for a cancelled statement's reply before giving up. */
#define CANCEL_GRACE 5.0

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

int
sl_pg_start_cancel(struct sl_db_conn *c, enum sl_errcode why)
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

/* }}} */
/* {{{ connect */

/** Print server notices at debug level, not on stderr. */
static void
notice(void *arg, const char *msg)
{
	struct sl_db_conn *c = arg;
	char line[400];
	sl_pg_one_line(msg, line, sizeof(line));
	sl_log_debug("%s: %s", c->shown, line);
}

void
sl_pg_close(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	if (p == NULL)
		return;
	if (p->io_ok)
		sl_io_destroy(&p->io);
	if (p->pg != NULL)
		PQfinish(p->pg);
	sl_pg_stmt_clear(p);
	sl_free(p->buckets);
	sl_buf_destroy(&p->pbuf);
	sl_buf_destroy(&p->wbuf);
	sl_free(p->rbuf);
	sl_free(p->poff);
	sl_free(p->pvals);
	sl_free(p->plens);
	sl_free(p->pfmts);
	sl_pg_pipeline_reset(&p->op);
	sl_free(p->op.exp);
	sl_free(p->op.done);
	sl_free(p);
	c->impl = NULL;
}

/**
 * Whether the first host (up to a ',') of libpq's `host` stands in the
 * URI `shown` (sl_uri_redact()'s reading) as a host: after "://" or "@",
 * perhaps in '[', and followed by ':', '/', '?', ',', ']' or the end.
 * When they disagree, libpq took part of the password for the host. A
 * key=value string, no host, or a percent-encoded authority (a socket
 * directory, "%2Ftmp") or a host in the query is not checked.
 */
static bool
host_shown(const char *shown, const char *host)
{
	size_t hl = strcspn(host, ",");
	const char *auth = strstr(shown, "://");
	if (hl == 0 || auth == NULL)
		return true;
	auth += 3;
	size_t alen = strcspn(auth, "/?");
	if (memchr(auth, '%', alen) != NULL)
		return true;
	/* A host in the query ("?host=...") is not in the authority. */
	for (const char *q = strstr(auth, "host="); q != NULL;
	     q = strstr(q + 5, "host="))
		if (q[-1] == '?' || q[-1] == '&')
			return true;
	for (size_t i = 0; i + hl <= alen; i++) {
		if (memcmp(auth + i, host, hl) != 0 ||
		    strchr(":/?,]", auth[i + hl]) == NULL)
			continue;
		size_t b = i > 0 && auth[i - 1] == '[' ? i - 1 : i;
		if (b == 0 || auth[b - 1] == '@')
			return true;
	}
	return false;
}

/**
 * Read c->url with libpq's own parser (PQconninfoParse()) before
 * connecting, so that no message of libpq's quotes part of a password.
 * sl_uri_redact() (in c->shown) reads the user information up to its last
 * '@'; libpq stops at the first '@' or '/', so an unencoded '@' or '/' in
 * the password puts its tail in libpq's host or port (an '@' in a query
 * value of a URI with no path puts the query in its user), which libpq's
 * messages quote ("could not translate host name ..."). Such a URI is
 * refused, as is one libpq cannot parse (its message may quote a value,
 * e.g. an invalid percent-encoding in the password), with a message that
 * shows only c->shown. Returns 0, or -1 with the diagnostic set.
 */
static int
pg_check_conninfo(struct sl_db_conn *c)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(c->url, &err);
	if (opts == NULL) {
		if (err == NULL) {
			sl_diag_set(SL_EOOM, "out of memory connecting to %s",
			            c->shown);
			return -1;
		}
		PQfreemem(err);
		sl_diag_set(SL_EINVAL,
		            "%s: libpq cannot parse this URI or connection "
		            "string (its message is not shown, as it may quote "
		            "the password): check its quoting and "
		            "percent-encoding",
		            c->shown);
		return -1;
	}
	bool bad = false;
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "host") == 0 &&
		    (strchr(o->val, '@') != NULL ||
		     !host_shown(c->shown, o->val)))
			bad = true;
		/* "postgresql://h?password=a@b": libpq's user is
		 * "h?password=a", its host "b". */
		if (strcmp(o->keyword, "user") == 0 &&
		    strchr(o->val, '?') != NULL && strchr(o->val, '=') != NULL)
			bad = true;
		if (strcmp(o->keyword, "port") == 0 &&
		    o->val[strspn(o->val, "0123456789,")] != '\0')
			bad = true;
	}
	PQconninfoFree(opts);
	if (bad) {
		sl_diag_set(
		        SL_EINVAL,
		        "%s: libpq would read part of the password as the "
		        "host, the port or the user: write '@' as %%40, '/' "
		        "as %%2F and '?' as %%3F in the password",
		        c->shown);
		return -1;
	}
	return 0;
}

int
sl_pg_open(struct sl_db_conn *c)
{
	if (sl_pq_load() < 0)
		return -1;
	struct pg_conn *p = sl_calloc(1, sizeof(*p));
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory connecting to %s",
		            c->shown);
		return -1;
	}
	c->impl = p;
	sl_list_init(&p->lru);
	sl_buf_create(&p->pbuf, SL_DB_BUF_MAX);
	sl_buf_create(&p->wbuf, SL_DB_BUF_MAX);
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
	if (pg_check_conninfo(c) < 0)
		return -1;
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
		sl_pg_one_line(PQerrorMessage(p->pg), msg, sizeof(msg));
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
		sl_pg_one_line(PQerrorMessage(p->pg), msg, sizeof(msg));
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
	/* The direct path reads and writes the socket itself: not through
	 * TLS or GSS encryption, which libpq does. SLUICE_PG_DIRECT=0 turns
	 * it off (the tests run libpq's path that way too). */
	const char *direct = getenv("SLUICE_PG_DIRECT");
	p->fast = !PQsslInUse(p->pg) && !PQgssEncInUse(p->pg) &&
	          (direct == NULL || strcmp(direct, "0") != 0);
	c->server_version = PQserverVersion(p->pg);
	c->born = sl_clock();
	return 0;
}

/* }}} */
