/*
 * sluice: the PostgreSQL driver's COPY FROM STDIN (sl_db_copy_*), binary
 * or text.
 */
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "sluice/alloc.h"
#include "sluice/hash.h"

/* {{{ COPY */

/** Bytes of COPY data gathered before they are sent. */
#define COPY_CHUNK (64 * 1024)

/** A COPY in progress. */
struct pg_copy {
	/** The layer's part (its connection). */
	struct sl_db_copy base;
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
COPY(struct sl_db_copy *cp)
{
	return (struct pg_copy *)cp;
}

/** Hand the buffered data to libpq, waiting while the socket is full. */
static int
copy_put(struct pg_copy *cp)
{
	struct sl_db_conn *c = cp->base.c;
	struct pg_conn *p = PG(c);
	while (cp->buf.len > 0) {
		int rc = PQputCopyData(p->pg, cp->buf.data, (int)cp->buf.len);
		if (rc < 0)
			return sl_pg_lost(c, "sending COPY data");
		if (rc == 1) {
			sl_buf_reset(&cp->buf);
			break;
		}
		if (sl_pg_wait_io(c, SL_IO_WRITE) != 0)
			return -1;
	}
	int rc;
	while ((rc = PQflush(p->pg)) == 1)
		if (sl_pg_wait_io(c, SL_IO_READ | SL_IO_WRITE) != 0 ||
		    !PQconsumeInput(p->pg))
			return c->broken ? -1
			                 : sl_pg_lost(c, "sending COPY data");
	return rc < 0 ? sl_pg_lost(c, "sending COPY data") : 0;
}

struct sl_db_copy *
sl_pg_copy_begin(struct sl_db_conn *c, const char *table,
                 const char *const *columns, size_t ncols)
{
	struct sl_buf cols, sql;
	sl_buf_create(&cols, SL_DB_BUF_MAX);
	sl_buf_create(&sql, SL_DB_BUF_MAX);
	int rc = 0;
	for (size_t i = 0; i < ncols && rc == 0; i++) {
		if (i > 0)
			rc = sl_buf_puts(&cols, ", ");
		if (rc == 0)
			rc = sl_db_ident(&cols, columns[i]);
	}
	/* The table as "schema"."name" when dotted. */
	struct sl_buf tbl;
	sl_buf_create(&tbl, SL_DB_BUF_MAX);
	const char *dot = strchr(table, '.');
	if (rc == 0 && dot != NULL) {
		char *schema = sl_strndup(table, (size_t)(dot - table));
		rc = schema != NULL ? sl_db_ident(&tbl, schema) : -1;
		sl_free(schema);
		if (rc == 0)
			rc = sl_buf_putc(&tbl, '.');
		if (rc == 0)
			rc = sl_db_ident(&tbl, dot + 1);
	} else if (rc == 0) {
		rc = sl_db_ident(&tbl, table);
	}
	if (rc == 0)
		rc = sl_buf_printf(&sql, "SELECT %s FROM %s LIMIT 0", cols.data,
		                   tbl.data);
	struct pg_copy *cp = NULL;
	if (rc != 0)
		goto out;
	/* The columns' types, from a describe (cached per connection). */
	struct sl_db_result *r = sl_db_conn_query_in(c, sql.data, SL_NOARGS);
	if (r == NULL) {
		sl_diag_wrap(SL_EDB, "%s: COPY into %s", c->shown, table);
		goto out;
	}
	sl_db_result_free(r);
	struct pg_conn *p = PG(c);
	size_t len = strlen(sql.data);
	struct pg_stmt *s =
	        sl_pg_stmt_find(p, sql.data, len, sl_hash64(sql.data, len));
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
		if (!sl_pgtype_binary_param(cp->oids[i]) &&
		    cp->oids[i] != PG_TEXT && cp->oids[i] != PG_VARCHAR &&
		    cp->oids[i] != PG_BPCHAR && cp->oids[i] != PG_NAME)
			cp->binary = false;
	sl_buf_create(&cp->buf, SL_DB_BUF_MAX);
	sl_buf_reset(&sql);
	if (sl_buf_printf(&sql, "COPY %s (%s) FROM STDIN%s", tbl.data,
	                  cols.data, cp->binary ? " (FORMAT binary)" : "") != 0)
		goto fail;
	sl_pg_op_start(c);
	if (sl_pg_unpipe(c) != 0)
		goto fail_op;
	if (!PQsendQueryParams(p->pg, sql.data, 0, NULL, NULL, NULL, NULL, 0)) {
		sl_pg_lost(c, "sending");
		goto fail_op;
	}
	if (sl_pg_flush_all(c) != 0)
		goto fail_op;
	PGresult *res;
	if (sl_pg_next_result(c, &res) != 0)
		goto fail_op;
	if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
		char msg[SL_ERROR_MSG_MAX], state[6];
		if (res != NULL)
			sl_pg_server_error(c, res, sql.data, msg, sizeof(msg),
			                   state);
		else
			sl_pg_msgf(msg, sizeof(msg), "%s: COPY did not start",
			           c->shown);
		PQclear(res);
		/* Read to the end of the command's results. */
		while (sl_pg_next_result(c, &res) == 0 && res != NULL)
			PQclear(res);
		sl_diag_set(SL_EDB, "%s", msg);
		goto fail_op;
	}
	PQclear(res);
	if (cp->binary && sl_pgtype_copy_header(&cp->buf) != 0)
		goto fail_op;
	sl_pg_op_finish(c, 0);
	goto out;
fail_op:
	sl_pg_op_finish(c, -1);
	sl_pg_repipe(c);
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

int
sl_pg_copy_row(struct sl_db_copy *base, const struct sl_value *values)
{
	struct pg_copy *cp = COPY(base);
	struct sl_db_conn *c = base->c;
	if (cp->failed) {
		sl_diag_set(SL_EINVAL, "%s: COPY row after a failure",
		            c->shown);
		return -1;
	}
	size_t bad_col = 0;
	int rc = cp->binary ? sl_pgtype_copy_tuple(&cp->buf, cp->oids,
	                                           cp->ncols, values, &bad_col)
	                    : sl_pgtype_copy_line(&cp->buf, cp->oids, cp->ncols,
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
	if (sl_db_conn_enter(c, "COPY") != 0)
		return -1;
	sl_pg_op_start(c);
	rc = sl_pg_op_finish(c, copy_put(cp));
	if (rc != 0)
		cp->failed = true;
	sl_db_conn_leave(c);
	return rc;
}

int
sl_pg_copy_end(struct sl_db_copy *base, bool live, const char *errmsg,
               int64_t *rows)
{
	struct pg_copy *cp = COPY(base);
	struct sl_db_conn *c = base->c;
	struct pg_conn *p = PG(c);
	bool earlier = errmsg == NULL && cp->failed;
	int rc = 0;
	if (earlier)
		errmsg = "sluice abandoned the COPY";
	if (!live) {
		rc = -1;
		goto out;
	}
	sl_pg_op_start(c);
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
			if (sl_pg_wait_io(c, SL_IO_WRITE) != 0)
				break;
		if (er < 0)
			sl_pg_lost(c, "ending COPY");
		PGresult *last = NULL;
		struct sl_diag keep;
		sl_diag_create(&keep);
		if (rc != 0)
			sl_diag_move(sl_diag_get(), &keep);
		if (!c->broken && sl_pg_flush_all(c) == 0 &&
		    sl_pg_read_plain(c, "COPY", &last) == 0 && rc == 0 &&
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
	sl_pg_repipe(c);
	rc = sl_pg_op_finish(c, rc);
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
