/*
 * sluice: the PostgreSQL driver's server-side cursors (sl_db_cursor_*).
 */
#include <stdio.h>

#include "pg.h"
#include "sluice/alloc.h"

/* {{{ cursors */

/** A server-side cursor. */
struct pg_cursor {
	/** The layer's part (its connection). */
	struct sl_db_cursor base;
	/** FETCH statement for it. */
	char fetch[80];
	/** Its name. */
	char name[32];
	/** Whether the server has no more rows. */
	bool done;
};

/** The driver's cursor behind the layer's `cur`. */
static inline struct pg_cursor *
CURSOR(struct sl_db_cursor *cur)
{
	return (struct pg_cursor *)cur;
}

struct sl_db_cursor *
sl_pg_cursor_open(struct sl_db_conn *c, const char *sql, size_t n,
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
	struct sl_db_result *r = sl_pg_query(c, decl.data, n, params);
	if (r == NULL) {
		sl_free(cur);
		sl_buf_destroy(&decl);
		return NULL;
	}
	sl_db_result_free(r);
	struct pg_pipe *pl = &PG(c)->op;
	sl_pg_stmt_forget_sql(c, decl.data);
	if (pl->need_sync) {
		sl_pg_op_start(c);
		if (sl_pg_drain(pl) != 0)
			sl_pg_pipeline_reset(pl);
		sl_pg_op_finish(c, 0);
	}
	sl_buf_destroy(&decl);
	return &cur->base;
}

struct sl_db_result *
sl_pg_cursor_fetch(struct sl_db_cursor *base)
{
	struct pg_cursor *cur = CURSOR(base);
	if (cur->done)
		return sl_db_result_new(0, 0);
	struct sl_db_result *r = sl_pg_query(base->c, cur->fetch, SL_NOARGS);
	if (r != NULL && r->nrows == 0)
		cur->done = true;
	return r;
}

int
sl_pg_cursor_close(struct sl_db_cursor *base, bool live)
{
	struct pg_cursor *cur = CURSOR(base);
	int rc = 0;
	if (live) {
		char sql[48];
		snprintf(sql, sizeof(sql), "CLOSE %s", cur->name);
		rc = sl_pg_script(base->c, sql);
	}
	sl_free(cur);
	return rc;
}

/* }}} */
