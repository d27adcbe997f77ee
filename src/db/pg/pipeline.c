/*
 * sluice: the PostgreSQL driver's user pipelines (sl_db_pipeline_*).
 */

#include "pg.h"
#include "sluice/alloc.h"

/* {{{ user pipelines */

/** The driver's pipeline behind the layer's `pl`. */
static inline struct pg_pipe *
PIPE(struct sl_db_pipeline *pl)
{
	return (struct pg_pipe *)pl;
}

struct sl_db_pipeline *
sl_pg_pipeline_begin(struct sl_db_conn *c)
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

/**
 * End an operation on a user pipeline, dropping its queue if the
 * connection was lost. Returns rc, or -1.
 */
static int
pl_leave(struct pg_pipe *pl, int rc)
{
	struct sl_db_conn *c = pl->base.c;
	if (c->broken)
		sl_pg_pipeline_reset(pl);
	return sl_pg_op_finish(c, rc);
}

long
sl_pg_pipeline_push(struct sl_db_pipeline *base, const char *sql, size_t n,
                    const struct sl_value *params)
{
	struct pg_pipe *pl = PIPE(base);
	sl_pg_op_start(base->c);
	if (pl->unread >= SL_PIPELINE_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "%s: %ld statements in the pipeline without their "
		            "results read (at most %d)",
		            base->c->shown, pl->unread, SL_PIPELINE_MAX);
		return pl_leave(pl, -1);
	}
	long idx = pl->next_idx;
	int rc = sl_pg_push(pl, sql, n, params, idx);
	if (rc < 0)
		return pl_leave(pl, -1);
	pl->next_idx++;
	pl->unread++;
	if (pl_leave(pl, 0) != 0)
		return -1;
	return idx;
}

int
sl_pg_pipeline_sync(struct sl_db_pipeline *base)
{
	struct pg_pipe *pl = PIPE(base);
	sl_pg_op_start(base->c);
	int rc = sl_pg_send_sync(pl);
	if (rc == 0 && pl->direct)
		rc = sl_pg_direct_flush(base->c);
	else if (rc == 0 && PQflush(PG(base->c)->pg) < 0)
		rc = sl_pg_lost(base->c, "sending");
	return pl_leave(pl, rc);
}

struct sl_db_result *
sl_pg_pipeline_next(struct sl_db_pipeline *base)
{
	struct pg_pipe *pl = PIPE(base);
	sl_pg_op_start(base->c);
	int rc = 0;
	while (pl->done_len == 0 && rc == 0) {
		if (pl->exp_user == 0)
			break;
		/* The statement's replies come only after a sync point. */
		rc = sl_pg_send_sync(pl);
		if (rc == 0)
			rc = pl->direct ? sl_pg_direct_flush(base->c)
			                : sl_pg_flush_all(base->c);
		while (rc == 0 && pl->done_len == 0 && pl->exp_len > 0) {
			rc = sl_pg_pump_one(pl);
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
	struct sl_db_result *r = sl_pg_done_pop(pl, NULL);
	if (pl_leave(pl, r != NULL ? 0 : -1) != 0 && r != NULL) {
		sl_db_result_free(r);
		return NULL;
	}
	return r;
}

bool
sl_pg_pipeline_ready(const struct sl_db_pipeline *base)
{
	const struct pg_pipe *pl = (const struct pg_pipe *)base;
	if (pl->done_len > 0)
		return true;
	/* The direct path reads replies in large chunks: when a whole
	 * message is buffered, the next statement's replies are arriving. */
	const struct pg_conn *p = PG(base->c);
	return pl->direct && p->rlen - p->rpos >= 5 &&
	       p->rlen - p->rpos >=
	               1 + (size_t)sl_pg_get32(p->rbuf + p->rpos + 1);
}

int
sl_pg_pipeline_end(struct sl_db_pipeline *base, bool live)
{
	struct pg_pipe *pl = PIPE(base);
	struct sl_db_conn *c = base->c;
	int rc = 0;
	struct sl_diag first;
	sl_diag_create(&first);
	if (live) {
		sl_pg_op_start(c);
		if (!c->broken && sl_pg_drain(pl) != 0)
			rc = -1;
		rc = sl_pg_op_finish(c, rc);
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
		sl_pg_done_clear(d);
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
