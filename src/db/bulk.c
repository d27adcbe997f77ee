/*
 * sluice: pipelines, COPY and cursors in front of the drivers. Each entry
 * point checks what does not depend on a driver (the one-task guard, an
 * open pipeline or COPY, limits, an open transaction) and calls the
 * driver's operation once; a driver without the operation fails naming it.
 */
#include <stdio.h>

#include "conn.h"
#include "sluice/diag.h"

/** Fail with SL_EINVAL naming `what` unless `c`'s driver `has` it. */
static int
supported(struct sl_db_conn *c, bool has, const char *what)
{
	if (has)
		return 0;
	sl_diag_set(SL_EINVAL, "%s: the %s driver does not support %s",
	            c->shown, c->drv->name, what);
	return -1;
}

/** Refuse more than SL_DB_PARAMS_MAX parameters. */
static int
params_fit(struct sl_db_conn *c, size_t n)
{
	if (n <= SL_DB_PARAMS_MAX)
		return 0;
	sl_diag_set(SL_ELIMIT, "%s: %zu parameters (at most %d)", c->shown, n,
	            SL_DB_PARAMS_MAX);
	return -1;
}

/* {{{ pipelines */

struct sl_db_pipeline *
sl_db_pipeline_begin(struct sl_db_conn *c)
{
	if (supported(c, c->drv->pipeline_begin != NULL, "pipelines") != 0 ||
	    sl_db_conn_enter(c, "pipeline") != 0)
		return NULL;
	struct sl_db_pipeline *pl = NULL;
	if (c->pipeline != NULL || c->copy != NULL)
		sl_diag_set(
		        SL_EINVAL, "%s: a %s is already open on the connection",
		        c->shown, c->pipeline != NULL ? "pipeline" : "COPY");
	else
		pl = c->drv->pipeline_begin(c);
	if (pl != NULL) {
		pl->c = c;
		pl->drv = c->drv;
		c->pipeline = pl;
	}
	sl_db_conn_leave(c);
	return pl;
}

/** Enter operation `what` on `pl`'s connection. 0, or -1. */
static int
pl_enter(struct sl_db_pipeline *pl, const char *what)
{
	if (pl->c == NULL) {
		sl_diag_set(SL_EIO, "%s on a pipeline whose connection closed",
		            what);
		return -1;
	}
	return sl_db_conn_enter(pl->c, what);
}

long
sl_db_pipeline_push(struct sl_db_pipeline *pl, const char *sql, size_t n,
                    const struct sl_value *params)
{
	/* A push queues (it waits only when a statement is prepared or the
	 * socket is full): not an operation of its own in the latency
	 * histogram, whose clock reads would cost more than the push. */
	if (pl->c == NULL) {
		sl_diag_set(SL_EIO, "pipeline push on a pipeline whose "
		                    "connection closed");
		return -1;
	}
	if (sl_db_conn_enter_untimed(pl->c, "pipeline push") != 0)
		return -1;
	struct sl_db_conn *c = pl->c;
	long idx = -1;
	if (params_fit(c, n) == 0)
		idx = pl->drv->pipeline_push(pl, sql, n, params);
	sl_db_conn_leave_untimed(c);
	return idx;
}

int
sl_db_pipeline_sync(struct sl_db_pipeline *pl)
{
	if (pl_enter(pl, "pipeline sync") != 0)
		return -1;
	struct sl_db_conn *c = pl->c;
	int rc = pl->drv->pipeline_sync(pl);
	sl_db_conn_leave(c);
	return rc;
}

struct sl_db_result *
sl_db_pipeline_next(struct sl_db_pipeline *pl)
{
	/* A result already read is handed over without the clock: only a
	 * read that waits for the server is an operation in the histogram. */
	if (pl->c != NULL && pl->drv->pipeline_ready != NULL &&
	    pl->drv->pipeline_ready(pl)) {
		if (sl_db_conn_enter_untimed(pl->c, "pipeline read") != 0)
			return NULL;
		struct sl_db_conn *c = pl->c;
		struct sl_db_result *r = pl->drv->pipeline_next(pl);
		sl_db_conn_leave_untimed(c);
		return r;
	}
	if (pl_enter(pl, "pipeline read") != 0)
		return NULL;
	struct sl_db_conn *c = pl->c;
	struct sl_db_result *r = pl->drv->pipeline_next(pl);
	sl_db_conn_leave(c);
	return r;
}

int
sl_db_pipeline_end(struct sl_db_pipeline *pl)
{
	if (pl == NULL)
		return 0;
	struct sl_db_conn *c = pl->c;
	bool live = false;
	if (c == NULL)
		sl_diag_set(SL_EIO, "pipeline end: the connection closed");
	else
		live = sl_db_conn_enter(c, "pipeline end") == 0;
	/* pl is freed by the driver: the connection must not point to it. */
	if (c != NULL && c->pipeline == pl)
		c->pipeline = NULL;
	int rc = pl->drv->pipeline_end(pl, live);
	if (live)
		sl_db_conn_leave(c);
	return rc;
}

/* }}} */
/* {{{ COPY */

struct sl_db_copy *
sl_db_copy_begin(struct sl_db_conn *c, const char *table,
                 const char *const *columns, size_t ncols)
{
	if (supported(c, c->drv->copy_begin != NULL, "COPY") != 0)
		return NULL;
	if (ncols == 0) {
		sl_diag_set(SL_EINVAL, "%s: COPY into %s names no column",
		            c->shown, table);
		return NULL;
	}
	if (sl_db_conn_enter(c, "COPY") != 0)
		return NULL;
	struct sl_db_copy *cp = NULL;
	if (sl_db_conn_check(c, "COPY", false) == 0)
		cp = c->drv->copy_begin(c, table, columns, ncols);
	if (cp != NULL) {
		cp->c = c;
		cp->drv = c->drv;
		c->copy = cp;
	}
	sl_db_conn_leave(c);
	return cp;
}

int
sl_db_copy_row(struct sl_db_copy *cp, const struct sl_value *values)
{
	return cp->drv->copy_row(cp, values);
}

/** End `cp`: finish it (`why` NULL) or abandon it saying `why`. */
static int
copy_end(struct sl_db_copy *cp, const char *why, int64_t *rows)
{
	struct sl_db_conn *c = cp->c;
	bool live = sl_db_conn_enter(c, "COPY end") == 0;
	/* cp is freed by the driver: the connection must not point to it. */
	if (c->copy == cp)
		c->copy = NULL;
	int rc = cp->drv->copy_end(cp, live, why, rows);
	/* A COPY that failed or was abandoned fails the transaction it is in,
	 * as a failed statement does: the server rolls it back. */
	if ((rc != 0 || why != NULL) && c->tx_depth > 0)
		c->tx_failed = true;
	if (live)
		sl_db_conn_leave(c);
	return rc;
}

int
sl_db_copy_end(struct sl_db_copy *cp, int64_t *rows)
{
	return copy_end(cp, NULL, rows);
}

void
sl_db_copy_abort(struct sl_db_copy *cp)
{
	if (cp == NULL)
		return;
	struct sl_diag keep;
	sl_diag_stash(&keep);
	copy_end(cp, "aborted by the client", NULL);
	sl_diag_restore(&keep);
}

/* }}} */
/* {{{ cursors */

struct sl_db_cursor *
sl_db_cursor_open(struct sl_db_conn *c, const char *sql, size_t n,
                  const struct sl_value *params, size_t batch)
{
	if (supported(c, c->drv->cursor_open != NULL, "cursors") != 0)
		return NULL;
	if (c->tx_depth == 0) {
		sl_diag_set(SL_EINVAL,
		            "%s: a cursor needs an open transaction "
		            "(sl_db_tx_begin() first)",
		            c->shown);
		return NULL;
	}
	if (params_fit(c, n) != 0 || sl_db_conn_enter(c, "cursor") != 0)
		return NULL;
	struct sl_db_cursor *cur = NULL;
	if (sl_db_conn_check(c, "cursor", false) == 0) {
		cur = c->drv->cursor_open(c, sql, n, params,
		                          batch != 0 ? batch : 1000);
		if (cur == NULL && c->tx_depth > 0)
			c->tx_failed = true;
	}
	if (cur != NULL) {
		cur->c = c;
		cur->drv = c->drv;
		c->cursors++;
	}
	sl_db_conn_leave(c);
	return cur;
}

struct sl_db_result *
sl_db_cursor_fetch(struct sl_db_cursor *cur)
{
	struct sl_db_conn *c = cur->c;
	if (sl_db_conn_enter(c, "cursor fetch") != 0)
		return NULL;
	struct sl_db_result *r = NULL;
	if (sl_db_conn_check(c, "cursor fetch", false) == 0) {
		r = cur->drv->cursor_fetch(cur);
		if (r == NULL && c->tx_depth > 0)
			c->tx_failed = true;
	}
	sl_db_conn_leave(c);
	return r;
}

int
sl_db_cursor_close(struct sl_db_cursor *cur)
{
	if (cur == NULL)
		return 0;
	struct sl_db_conn *c = cur->c;
	/* Outside its transaction the cursor is gone on the server. */
	bool live = c->tx_depth > 0 && !c->broken;
	bool entered = live && sl_db_conn_enter(c, "cursor close") == 0;
	int rc = live && !entered ? -1 : 0;
	if (entered && sl_db_conn_check(c, "cursor close", false) != 0) {
		rc = -1;
		entered = false;
		sl_db_conn_leave(c);
	}
	if (cur->drv->cursor_close(cur, entered) != 0)
		rc = -1;
	if (entered) {
		if (rc != 0 && c->tx_depth > 0)
			c->tx_failed = true;
		sl_db_conn_leave(c);
	}
	if (c->cursors > 0)
		c->cursors--;
	return rc;
}

/* }}} */
