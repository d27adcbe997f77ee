/*
 * sluice: the PostgreSQL driver's tables: its operations, its URIs
 * and its SQL dialect.
 */
#include <stdio.h>
#include <string.h>

#include "pg.h"
#include "sluice/model.h"

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
pg_begin(const struct sl_db_conn *c, const struct sl_db_tx_opts *opts,
         char *sql, size_t size)
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

/** The PostgreSQL driver (registered in ../drivers.c). */
const struct sl_db_driver sl_pg_driver = {
        .name = "postgresql",
        .kind = SL_DB_POSTGRES,
        .schemes = pg_schemes,
        .claims = pg_claims,
        .forms = "postgresql://..., postgres://..., key=value pairs",
        .dialect = &pg_dialect,
        .open = sl_pg_open,
        .close = sl_pg_close,
        .query = sl_pg_query,
        .script = sl_pg_script,
        .forget = sl_pg_forget,
        .pipeline_begin = sl_pg_pipeline_begin,
        .pipeline_push = sl_pg_pipeline_push,
        .pipeline_sync = sl_pg_pipeline_sync,
        .pipeline_next = sl_pg_pipeline_next,
        .pipeline_ready = sl_pg_pipeline_ready,
        .pipeline_end = sl_pg_pipeline_end,
        .copy_begin = sl_pg_copy_begin,
        .copy_row = sl_pg_copy_row,
        .copy_end = sl_pg_copy_end,
        .cursor_open = sl_pg_cursor_open,
        .cursor_fetch = sl_pg_cursor_fetch,
        .cursor_close = sl_pg_cursor_close,
};

/* }}} */
