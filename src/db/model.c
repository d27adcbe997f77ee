/*
 * sluice: models (DDL and CRUD by primary key) and the query builder. SQL
 * is written per driver where the dialects differ (types, auto ids, the
 * props merge, conversions), from the driver's dialect table (conn.h);
 * values are always parameters, identifiers always quoted.
 */
#include "sluice/model.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"

/** Longest SQL text a model operation or query writes. */
#define SQL_MAX ((size_t)64 << 20)
/** Most bytes of values a statement or query builder copies. */
#define ARENA_MAX ((size_t)1 << 30)

/* {{{ models */

/** Number of primary key columns of `m`. */
static size_t
pk_count(const struct sl_model *m)
{
	size_t n = 0;
	while (m->pk != NULL && m->pk[n] != NULL)
		n++;
	return n;
}

/** The column of `m` named s[0..n), or NULL. */
static const struct sl_column *
column_n(const struct sl_model *m, const char *s, size_t n)
{
	for (size_t i = 0; i < m->ncols; i++) {
		const char *name = m->columns[i].name;
		if (strncmp(name, s, n) == 0 && name[n] == '\0')
			return &m->columns[i];
	}
	return NULL;
}

const struct sl_column *
sl_model_column(const struct sl_model *m, const char *name)
{
	return column_n(m, name, strlen(name));
}

/** Raise "model "t": no column "name"". */
static int
no_column(const struct sl_model *m, const char *s, size_t n)
{
	sl_diag_set(SL_EINVAL, "model \"%s\": no column \"%.*s\"", m->table,
	            (int)(n > 200 ? 200 : n), s);
	return -1;
}

int
sl_model_check(const struct sl_model *m)
{
	assert(m != NULL);
	if (m->table == NULL || m->table[0] == '\0') {
		sl_diag_set(SL_EINVAL, "a model has no table name");
		return -1;
	}
	if (m->ncols == 0 || m->columns == NULL ||
	    m->ncols > SL_MODEL_COLS_MAX) {
		sl_diag_set(SL_EINVAL, "model \"%s\": %zu columns (1..%d)",
		            m->table, m->ncols, SL_MODEL_COLS_MAX);
		return -1;
	}
	size_t props = 0;
	for (size_t i = 0; i < m->ncols; i++) {
		const struct sl_column *col = &m->columns[i];
		if (col->name == NULL || col->name[0] == '\0') {
			sl_diag_set(SL_EINVAL,
			            "model \"%s\": column %zu has no name",
			            m->table, i);
			return -1;
		}
		if (col->type < SL_COL_INT || col->type > SL_COL_TIMESTAMP) {
			sl_diag_set(SL_EINVAL,
			            "model \"%s\": column \"%s\" has unknown "
			            "type %d",
			            m->table, col->name, (int)col->type);
			return -1;
		}
		if (sl_model_column(m, col->name) != col) {
			sl_diag_set(SL_EINVAL,
			            "model \"%s\": column \"%s\" appears twice",
			            m->table, col->name);
			return -1;
		}
		if ((col->flags & SL_COL_PROPS) != 0) {
			if (col->type != SL_COL_JSON || ++props > 1) {
				sl_diag_set(SL_EINVAL,
				            "model \"%s\": the props column "
				            "\"%s\" must be the only one and "
				            "of type json",
				            m->table, col->name);
				return -1;
			}
		}
		if ((col->flags & SL_COL_AUTO) != 0 &&
		    (pk_count(m) != 1 || strcmp(m->pk[0], col->name) != 0 ||
		     (col->type != SL_COL_INT && col->type != SL_COL_BIGINT))) {
			sl_diag_set(SL_EINVAL,
			            "model \"%s\": auto-increment column "
			            "\"%s\" must be an int or bigint and the "
			            "whole primary key",
			            m->table, col->name);
			return -1;
		}
	}
	for (size_t k = 0; k < pk_count(m); k++)
		if (sl_model_column(m, m->pk[k]) == NULL) {
			sl_diag_set(SL_EINVAL,
			            "model \"%s\": primary key column \"%s\" "
			            "does not exist",
			            m->table, m->pk[k]);
			return -1;
		}
	for (size_t i = 0; i < m->nindexes; i++) {
		const struct sl_index *ix = &m->indexes[i];
		if (ix->columns == NULL || ix->columns[0] == NULL) {
			sl_diag_set(SL_EINVAL,
			            "model \"%s\": index %zu has no columns",
			            m->table, i);
			return -1;
		}
		for (size_t k = 0; ix->columns[k] != NULL; k++)
			if (sl_model_column(m, ix->columns[k]) == NULL) {
				sl_diag_set(SL_EINVAL,
				            "model \"%s\": index column \"%s\" "
				            "does not exist",
				            m->table, ix->columns[k]);
				return -1;
			}
	}
	return 0;
}

/** Append a comma-separated list of quoted names (NULL-terminated). */
static int
ident_list(struct sl_buf *b, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if ((i > 0 && sl_buf_puts(b, ", ") != 0) ||
		    sl_db_ident(b, names[i]) != 0)
			return -1;
	return 0;
}

/** Append CREATE TABLE and CREATE INDEX statements for `m` in dialect `d`. */
static int
create_sql(struct sl_buf *b, const struct sl_db_dialect *d,
           const struct sl_model *m)
{
	bool auto_pk = false;
	if (sl_buf_puts(b, "CREATE TABLE IF NOT EXISTS ") != 0 ||
	    sl_db_ident(b, m->table) != 0 || sl_buf_puts(b, " (") != 0)
		return -1;
	for (size_t i = 0; i < m->ncols; i++) {
		const struct sl_column *col = &m->columns[i];
		const char *def = col->default_sql;
		if (d->use_default_sqlite && col->default_sqlite != NULL)
			def = col->default_sqlite;
		if ((col->flags & SL_COL_AUTO) != 0)
			auto_pk = d->auto_is_pk;
		if ((i > 0 && sl_buf_puts(b, ", ") != 0) ||
		    sl_db_ident(b, col->name) != 0 ||
		    sl_buf_printf(b, " %s", d->col_type(col)) != 0)
			return -1;
		if ((col->flags & SL_COL_NOT_NULL) != 0 &&
		    sl_buf_puts(b, " NOT NULL") != 0)
			return -1;
		if (def != NULL && sl_buf_printf(b, " DEFAULT (%s)", def) != 0)
			return -1;
	}
	if (pk_count(m) > 0 && !auto_pk &&
	    (sl_buf_puts(b, ", PRIMARY KEY (") != 0 ||
	     ident_list(b, m->pk) != 0 || sl_buf_putc(b, ')') != 0))
		return -1;
	if (sl_buf_puts(b, ");\n") != 0)
		return -1;
	for (size_t i = 0; i < m->nindexes; i++) {
		const struct sl_index *ix = &m->indexes[i];
		if (sl_buf_printf(b, "CREATE %sINDEX IF NOT EXISTS ",
		                  ix->unique ? "UNIQUE " : "") != 0)
			return -1;
		if (ix->name != NULL) {
			if (sl_db_ident(b, ix->name) != 0)
				return -1;
		} else {
			struct sl_buf name;
			sl_buf_create(&name, 4096);
			int rc = sl_buf_puts(&name, m->table);
			for (size_t k = 0; rc == 0 && ix->columns[k] != NULL;
			     k++)
				rc = sl_buf_printf(&name, "_%s",
				                   ix->columns[k]);
			if (rc == 0)
				rc = sl_buf_puts(&name,
				                 ix->unique ? "_key" : "_idx");
			if (rc == 0)
				rc = sl_db_ident(b, name.data);
			sl_buf_destroy(&name);
			if (rc != 0)
				return -1;
		}
		if (sl_buf_puts(b, " ON ") != 0 ||
		    sl_db_ident(b, m->table) != 0 ||
		    sl_buf_puts(b, " (") != 0 ||
		    ident_list(b, ix->columns) != 0 ||
		    sl_buf_puts(b, ");\n") != 0)
			return -1;
	}
	return 0;
}

/** Run a DDL script in a transaction; "what" names it in errors. */
static int
run_ddl(struct sl_db_conn *c, const char *sql, const char *what)
{
	struct sl_db_tx tx;
	if (sl_db_tx_begin(c, &tx, NULL) != 0)
		return -1;
	if (sl_db_exec_script(c, sql) != 0) {
		sl_diag_wrap(sl_diag_code(), "%s", what);
		sl_db_tx_abandon(&tx);
		return -1;
	}
	if (sl_db_tx_commit(&tx) != 0)
		return -1;
	/* Cached statements on the old tables would return stale shapes
	 * inside a later transaction, where they cannot be re-prepared. */
	if (sl_db_conn_dialect(c)->ddl_stales && sl_db_conn_tx_depth(c) == 0)
		return sl_db_conn_forget_statements(c);
	return 0;
}

int
sl_model_create_all(struct sl_db_conn *c, const struct sl_model *const *models,
                    size_t n)
{
	struct sl_buf b;
	sl_buf_create(&b, SQL_MAX);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = sl_model_check(models[i]);
		if (rc == 0)
			rc = create_sql(&b, sl_db_conn_dialect(c), models[i]);
	}
	if (rc == 0 && n > 0)
		rc = run_ddl(c, b.data, "create_all");
	sl_buf_destroy(&b);
	return rc;
}

int
sl_model_drop_all(struct sl_db_conn *c, const struct sl_model *const *models,
                  size_t n)
{
	struct sl_buf b;
	sl_buf_create(&b, SQL_MAX);
	int rc = 0;
	for (size_t i = n; rc == 0 && i-- > 0;) {
		rc = sl_model_check(models[i]);
		if (rc == 0)
			rc = sl_buf_puts(&b, "DROP TABLE IF EXISTS ");
		if (rc == 0)
			rc = sl_db_ident(&b, models[i]->table);
		if (rc == 0)
			rc = sl_buf_puts(&b, ";\n");
	}
	if (rc == 0 && n > 0)
		rc = run_ddl(c, b.data, "drop_all");
	sl_buf_destroy(&b);
	return rc;
}

/* }}} */
/* {{{ statements: SQL, parameters and their conversions per driver */

/** A statement being written. */
struct stmt {
	/** The connection (for its dialect). */
	struct sl_db_conn *c;
	/** SQL text. */
	struct sl_buf sql;
	/** Parameters $1..$n. */
	struct sl_value *params;
	/** Parameters in use. */
	size_t n;
	/** Parameters allocated. */
	size_t cap;
	/** Converted values (JSON text for SQLite). */
	struct sl_arena scratch;
};

/** Start a statement for `c`. */
static void
stmt_init(struct stmt *st, struct sl_db_conn *c)
{
	memset(st, 0, sizeof(*st));
	st->c = c;
	sl_buf_create(&st->sql, SQL_MAX);
	sl_arena_create(&st->scratch, 0, ARENA_MAX);
}

/** Free a statement's memory. */
static void
stmt_free(struct stmt *st)
{
	sl_buf_destroy(&st->sql);
	sl_free(st->params);
	sl_arena_destroy(&st->scratch);
}

/**
 * Convert `v` bound to column `col` (NULL: unknown) as dialect `d` binds
 * it (SQLite keeps JSON as text and bools as 0/1). 0, or -1.
 */
static int
bind_value(const struct sl_db_dialect *d, const struct sl_column *col,
           const struct sl_value *v, struct sl_arena *a, struct sl_value *out)
{
	*out = *v;
	if (d->bind == NULL || col == NULL)
		return 0;
	return d->bind(col, v, a, out);
}

/** Add parameter `v` for column `col`; *k is its number. 0, or -1. */
static int
stmt_add(struct stmt *st, const struct sl_column *col, const struct sl_value *v,
         size_t *k)
{
	if (st->n >= SL_DB_PARAMS_MAX) {
		sl_diag_set(SL_ELIMIT, "more than %d parameters",
		            SL_DB_PARAMS_MAX);
		return -1;
	}
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		struct sl_value *p =
		        sl_realloc(st->params, cap * sizeof(*st->params));
		if (p == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for parameters");
			return -1;
		}
		st->params = p;
		st->cap = cap;
	}
	if (bind_value(sl_db_conn_dialect(st->c), col, v, &st->scratch,
	               &st->params[st->n]) != 0)
		return -1;
	*k = ++st->n;
	return 0;
}

/** Append parameter `v` for column `col` as "$k". 0, or -1. */
static int
stmt_param(struct stmt *st, const struct sl_column *col,
           const struct sl_value *v)
{
	size_t k;
	if (stmt_add(st, col, v, &k) != 0)
		return -1;
	return sl_buf_printf(&st->sql, "$%zu", k);
}

/**
 * Decode row object `row` (in `a`) whose columns belong to models found
 * by `lookup`, as dialect `d` needs (SQLite: json text is parsed and 0/1
 * of bool columns become bools). 0, or -1.
 */
static int
decode_row(const struct sl_db_dialect *d,
           const struct sl_column *(*lookup)(const void *ctx, const char *s,
                                             size_t n),
           const void *ctx, struct sl_value *row, struct sl_arena *a)
{
	if (d->decode == NULL)
		return 0;
	for (uint32_t i = 0; i < row->len; i++) {
		struct sl_member *mb = &row->u.members[i];
		const struct sl_column *col = lookup(ctx, mb->key, mb->key_len);
		if (col != NULL && d->decode(col, &mb->val, a) != 0)
			return -1;
	}
	return 0;
}

/** decode_row()'s lookup for one model. */
static const struct sl_column *
model_lookup(const void *ctx, const char *s, size_t n)
{
	return column_n(ctx, s, n);
}

/**
 * Run `st` for model `m` expecting at most one row: 1 with it in *out
 * (when out != NULL), 0 with no row, -1 with the error wrapped as "what".
 */
static int
stmt_row(struct stmt *st, const struct sl_model *m, const char *what,
         struct sl_arena *a, struct sl_value *out)
{
	struct sl_db_result *r =
	        sl_db_query(st->c, st->sql.data, st->n, st->params);
	if (r == NULL) {
		sl_diag_wrap(sl_diag_code(), "model \"%s\": %s", m->table,
		             what);
		return -1;
	}
	int rc = sl_db_result_rows(r) > 0 ? 1 : 0;
	if (rc == 1 && out != NULL) {
		assert(a != NULL);
		if (sl_db_result_row_object(r, 0, a, out) != 0 ||
		    decode_row(sl_db_conn_dialect(st->c), model_lookup, m, out,
		               a) != 0)
			rc = -1;
	}
	sl_db_result_free(r);
	return rc;
}

/** Check that `row` is an object of columns of `m`. 0, or -1. */
static int
check_row(const struct sl_model *m, const struct sl_value *row,
          const char *what)
{
	if (row == NULL || row->type != SL_VOBJECT) {
		sl_diag_set(SL_EINVAL, "model \"%s\": %s takes an object",
		            m->table, what);
		return -1;
	}
	for (uint32_t i = 0; i < row->len; i++) {
		const struct sl_member *mb = &row->u.members[i];
		if (column_n(m, mb->key, mb->key_len) == NULL)
			return no_column(m, mb->key, mb->key_len);
	}
	return 0;
}

/**
 * Append " WHERE "k1" = $i AND ..." for key `key` of `m` (an object, an
 * array in pk order or a bare value). 0, or -1.
 */
static int
where_key(struct stmt *st, const struct sl_model *m, const struct sl_value *key)
{
	size_t npk = pk_count(m);
	if (npk == 0) {
		sl_diag_set(SL_EINVAL, "model \"%s\" has no primary key",
		            m->table);
		return -1;
	}
	if (key->type == SL_VARRAY && key->len != npk) {
		sl_diag_set(SL_EINVAL,
		            "model \"%s\": a key of %u values for a primary "
		            "key of %zu columns",
		            m->table, key->len, npk);
		return -1;
	}
	if (key->type != SL_VOBJECT && key->type != SL_VARRAY && npk != 1) {
		sl_diag_set(SL_EINVAL,
		            "model \"%s\": a key of %zu columns takes an "
		            "object or an array",
		            m->table, npk);
		return -1;
	}
	if (key->type == SL_VOBJECT && check_row(m, key, "a key") != 0)
		return -1;
	if (sl_buf_puts(&st->sql, " WHERE ") != 0)
		return -1;
	for (size_t k = 0; k < npk; k++) {
		const struct sl_value *v = key;
		if (key->type == SL_VARRAY)
			v = &key->u.items[k];
		else if (key->type == SL_VOBJECT)
			v = sl_object_get_cstr(key, m->pk[k]);
		if (v == NULL) {
			sl_diag_set(SL_EINVAL,
			            "model \"%s\": the key has no column "
			            "\"%s\"",
			            m->table, m->pk[k]);
			return -1;
		}
		if ((k > 0 && sl_buf_puts(&st->sql, " AND ") != 0) ||
		    sl_db_ident(&st->sql, m->pk[k]) != 0 ||
		    sl_buf_puts(&st->sql, " = ") != 0 ||
		    stmt_param(st, sl_model_column(m, m->pk[k]), v) != 0)
			return -1;
	}
	return 0;
}

/** Append the props merge of column `col` with `patch` (SQL text). */
static int
props_merge(struct stmt *st, const struct sl_model *m,
            const struct sl_column *col, bool qualify, const char *patch)
{
	struct sl_buf *b = &st->sql;
	const struct sl_db_dialect *d = sl_db_conn_dialect(st->c);
	if (sl_buf_puts(b, d->merge_open) != 0 ||
	    (qualify &&
	     (sl_db_ident(b, m->table) != 0 || sl_buf_putc(b, '.') != 0)) ||
	    sl_db_ident(b, col->name) != 0 ||
	    sl_buf_puts(b, d->merge_mid) != 0 || sl_buf_puts(b, patch) != 0)
		return -1;
	return sl_buf_puts(b, d->merge_close);
}

/* }}} */
/* {{{ CRUD */

/** Append `INSERT INTO "t" (cols) VALUES (...)` for `row`. */
static int
insert_sql(struct stmt *st, const struct sl_model *m,
           const struct sl_value *row)
{
	struct sl_buf *b = &st->sql;
	if (sl_buf_puts(b, "INSERT INTO ") != 0 ||
	    sl_db_ident(b, m->table) != 0)
		return -1;
	if (row->len == 0)
		return sl_buf_puts(b, " DEFAULT VALUES");
	if (sl_buf_puts(b, " (") != 0)
		return -1;
	for (uint32_t i = 0; i < row->len; i++) {
		const struct sl_column *col = column_n(
		        m, row->u.members[i].key, row->u.members[i].key_len);
		if ((i > 0 && sl_buf_puts(b, ", ") != 0) ||
		    sl_db_ident(b, col->name) != 0)
			return -1;
	}
	if (sl_buf_puts(b, ") VALUES (") != 0)
		return -1;
	for (uint32_t i = 0; i < row->len; i++) {
		const struct sl_member *mb = &row->u.members[i];
		if ((i > 0 && sl_buf_puts(b, ", ") != 0) ||
		    stmt_param(st, column_n(m, mb->key, mb->key_len),
		               &mb->val) != 0)
			return -1;
	}
	return sl_buf_putc(b, ')');
}

int
sl_model_insert(struct sl_db_conn *c, const struct sl_model *m,
                const struct sl_value *row, struct sl_arena *a,
                struct sl_value *out)
{
	if (sl_model_check(m) != 0 || check_row(m, row, "insert") != 0)
		return -1;
	struct stmt st;
	stmt_init(&st, c);
	int rc = insert_sql(&st, m, row);
	if (rc == 0)
		rc = sl_buf_puts(&st.sql, " RETURNING *");
	if (rc == 0)
		rc = stmt_row(&st, m, "insert", a, out) < 0 ? -1 : 0;
	stmt_free(&st);
	return rc;
}

int
sl_model_get(struct sl_db_conn *c, const struct sl_model *m,
             const struct sl_value *key, struct sl_arena *a,
             struct sl_value *out)
{
	if (sl_model_check(m) != 0)
		return -1;
	struct stmt st;
	stmt_init(&st, c);
	int rc = sl_buf_puts(&st.sql, "SELECT * FROM ");
	if (rc == 0)
		rc = sl_db_ident(&st.sql, m->table);
	if (rc == 0)
		rc = where_key(&st, m, key);
	if (rc == 0)
		rc = stmt_row(&st, m, "get", a, out);
	stmt_free(&st);
	return rc;
}

int
sl_model_update(struct sl_db_conn *c, const struct sl_model *m,
                const struct sl_value *key, const struct sl_value *changes,
                struct sl_arena *a, struct sl_value *out)
{
	if (sl_model_check(m) != 0 || check_row(m, changes, "update") != 0)
		return -1;
	if (changes->len == 0)
		return sl_model_get(c, m, key, a, out);
	struct stmt st;
	stmt_init(&st, c);
	struct sl_buf *b = &st.sql;
	int rc = sl_buf_puts(b, "UPDATE ");
	if (rc == 0)
		rc = sl_db_ident(b, m->table);
	if (rc == 0)
		rc = sl_buf_puts(b, " SET ");
	for (uint32_t i = 0; rc == 0 && i < changes->len; i++) {
		const struct sl_member *mb = &changes->u.members[i];
		const struct sl_column *col = column_n(m, mb->key, mb->key_len);
		if (i > 0)
			rc = sl_buf_puts(b, ", ");
		if (rc == 0)
			rc = sl_db_ident(b, col->name);
		if (rc == 0)
			rc = sl_buf_puts(b, " = ");
		if (rc != 0)
			break;
		if ((col->flags & SL_COL_PROPS) == 0 ||
		    mb->val.type == SL_VNULL) {
			rc = stmt_param(&st, col, &mb->val);
			continue;
		}
		size_t k = 0;
		rc = stmt_add(&st, col, &mb->val, &k);
		char patch[40];
		snprintf(patch, sizeof(patch), "$%zu%s", k,
		         sl_db_conn_dialect(c)->json_cast);
		if (rc == 0)
			rc = props_merge(&st, m, col, false, patch);
	}
	if (rc == 0)
		rc = where_key(&st, m, key);
	if (rc == 0)
		rc = sl_buf_puts(b, " RETURNING *");
	if (rc == 0)
		rc = stmt_row(&st, m, "update", a, out);
	stmt_free(&st);
	return rc;
}

int64_t
sl_model_delete(struct sl_db_conn *c, const struct sl_model *m,
                const struct sl_value *key)
{
	if (sl_model_check(m) != 0)
		return -1;
	struct stmt st;
	stmt_init(&st, c);
	int64_t affected = -1;
	int rc = sl_buf_puts(&st.sql, "DELETE FROM ");
	if (rc == 0)
		rc = sl_db_ident(&st.sql, m->table);
	if (rc == 0)
		rc = where_key(&st, m, key);
	if (rc == 0 &&
	    (rc = sl_db_exec(c, st.sql.data, st.n, st.params, &affected)) != 0)
		sl_diag_wrap(sl_diag_code(), "model \"%s\": delete", m->table);
	stmt_free(&st);
	return rc == 0 ? affected : -1;
}

int
sl_model_upsert(struct sl_db_conn *c, const struct sl_model *m,
                const struct sl_value *row, struct sl_arena *a,
                struct sl_value *out)
{
	if (sl_model_check(m) != 0 || check_row(m, row, "upsert") != 0)
		return -1;
	size_t npk = pk_count(m);
	if (npk == 0) {
		sl_diag_set(SL_EINVAL, "model \"%s\" has no primary key",
		            m->table);
		return -1;
	}
	for (size_t k = 0; k < npk; k++)
		if (sl_object_get_cstr(row, m->pk[k]) == NULL &&
		    (sl_model_column(m, m->pk[k])->flags & SL_COL_AUTO) == 0) {
			sl_diag_set(SL_EINVAL,
			            "model \"%s\": upsert of a row without "
			            "key column \"%s\"",
			            m->table, m->pk[k]);
			return -1;
		}
	struct stmt st;
	stmt_init(&st, c);
	struct sl_buf *b = &st.sql;
	int rc = insert_sql(&st, m, row);
	if (rc == 0)
		rc = sl_buf_puts(b, " ON CONFLICT (");
	if (rc == 0)
		rc = ident_list(b, m->pk);
	if (rc == 0)
		rc = sl_buf_puts(b, ") DO UPDATE SET ");
	size_t set = 0;
	for (uint32_t i = 0; rc == 0 && i < row->len; i++) {
		const struct sl_member *mb = &row->u.members[i];
		const struct sl_column *col = column_n(m, mb->key, mb->key_len);
		bool is_pk = false;
		for (size_t k = 0; k < npk; k++)
			is_pk |= strcmp(m->pk[k], col->name) == 0;
		if (is_pk)
			continue;
		if (set++ > 0)
			rc = sl_buf_puts(b, ", ");
		if (rc == 0)
			rc = sl_db_ident(b, col->name);
		if (rc == 0)
			rc = sl_buf_puts(b, " = ");
		struct sl_buf ex;
		sl_buf_create(&ex, 4096);
		if (rc == 0)
			rc = sl_buf_puts(&ex, "EXCLUDED.");
		if (rc == 0)
			rc = sl_db_ident(&ex, col->name);
		if (rc == 0) {
			if ((col->flags & SL_COL_PROPS) != 0 &&
			    mb->val.type != SL_VNULL)
				rc = props_merge(&st, m, col, true, ex.data);
			else
				rc = sl_buf_puts(b, ex.data);
		}
		sl_buf_destroy(&ex);
	}
	/* Only key columns: a no-op update, so RETURNING has the row. */
	if (rc == 0 && set == 0)
		rc = sl_db_ident(b, m->pk[0]) != 0 ||
		                     sl_buf_puts(b, " = EXCLUDED.") != 0 ||
		                     sl_db_ident(b, m->pk[0]) != 0
		             ? -1
		             : 0;
	if (rc == 0)
		rc = sl_buf_puts(b, " RETURNING *");
	if (rc == 0)
		rc = stmt_row(&st, m, "upsert", a, out) < 0 ? -1 : 0;
	stmt_free(&st);
	return rc;
}

/* }}} */
/* {{{ query builder */

/** A column of one of the query's models. */
struct qb_ref {
	/** Index of the model in sl_qb.models. */
	size_t mi;
	/** The column. */
	const struct sl_column *col;
};

/** Condition kinds. */
enum qb_kind {
	QB_CMP = 1, /**< ref op value */
	QB_NULL,    /**< ref IS [NOT] NULL */
	QB_IN,      /**< ref IN (values) */
	QB_AND,     /**< children ANDed */
	QB_OR,      /**< children ORed */
	QB_NOT,     /**< NOT child */
};

/** One condition. */
struct qb_node {
	/** enum qb_kind. */
	uint8_t kind;
	/** enum sl_op (QB_CMP); IS NOT NULL (QB_NULL, 1). */
	uint8_t op;
	/** Whether another condition or the WHERE clause took it. */
	bool used;
	/** Nesting depth (1 for a leaf). */
	uint8_t depth;
	/** The column of a leaf. */
	struct qb_ref ref;
	/** First value (leaves) or child (in sl_qb.kids). */
	size_t first;
	/** Number of values or children. */
	size_t count;
};

/** An ORDER BY key. */
struct qb_order {
	/** The column. */
	struct qb_ref ref;
	/** DESC. */
	bool desc;
};

/** A join: models[i + 1] joined ON left = right. */
struct qb_join {
	/** INNER or LEFT. */
	enum sl_join kind;
	/** Column of an earlier model. */
	struct qb_ref left;
	/** Column of the joined model. */
	struct qb_ref right;
};

/** A growable array of `elem`-byte items. */
struct qb_vec {
	/** The items. */
	void *p;
	/** Items in use. */
	size_t n;
	/** Items allocated. */
	size_t cap;
};

struct sl_qb {
	/** The base model, then the joined ones. */
	const struct sl_model *models[SL_QB_MODELS_MAX];
	/** Models in use. */
	size_t nmodels;
	/** Joins (nmodels - 1). */
	struct qb_join joins[SL_QB_MODELS_MAX];
	/** Selected columns (struct qb_ref; none: all). */
	struct qb_vec sel;
	/** ORDER BY keys (struct qb_order). */
	struct qb_vec order;
	/** Conditions (struct qb_node). */
	struct qb_vec nodes;
	/** Children of and/or/not (int ids). */
	struct qb_vec kids;
	/** Values of leaves (struct sl_value, copied into `arena`). */
	struct qb_vec vals;
	/** Conditions of the WHERE clause (int ids), ANDed. */
	struct qb_vec where;
	/** LIMIT, or < 0. */
	int64_t limit;
	/** OFFSET, or <= 0. */
	int64_t offset;
	/** Where copied values live. */
	struct sl_arena arena;
	/** The rendered SQL. */
	struct sl_buf sql;
	/** The rendered parameters (struct sl_value). */
	struct qb_vec params;
	/** Column each rendered parameter is compared with (const struct
	 * sl_column *; NULL for LIMIT and OFFSET). */
	struct qb_vec pcols;
	/** Whether a call failed. */
	bool failed;
	/** That call's error code. */
	enum sl_errcode code;
	/** That call's error message. */
	char msg[SL_ERROR_MSG_MAX];
};

/** Make room for one more item of `elem` bytes in `v`. 0, or -1. */
static int
vec_grow(struct qb_vec *v, size_t elem)
{
	if (v->n >= SL_DB_PARAMS_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "query builder: more than %d conditions, values "
		            "or columns",
		            SL_DB_PARAMS_MAX);
		return -1;
	}
	if (v->n < v->cap)
		return 0;
	size_t cap = v->cap ? v->cap * 2 : 8;
	void *p = sl_realloc(v->p, cap * elem);
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "query builder: out of memory");
		return -1;
	}
	v->p = p;
	v->cap = cap;
	return 0;
}

/** Append one `elem`-byte item to `v`. 0, or -1. */
static int
vec_push(struct qb_vec *v, const void *item, size_t elem)
{
	if (vec_grow(v, elem) != 0)
		return -1;
	memcpy((char *)v->p + v->n * elem, item, elem);
	v->n++;
	return 0;
}

/** Record the current error in `q` and return -1. */
static int
qb_fail(struct sl_qb *q)
{
	if (!q->failed) {
		struct sl_error *e = sl_diag_last();
		q->failed = true;
		q->code = e != NULL ? e->code : SL_EINVAL;
		snprintf(q->msg, sizeof(q->msg), "%s",
		         e != NULL ? e->msg : "query builder error");
	}
	return -1;
}

/** Raise the builder's recorded error again if there is one. */
static int
qb_check(struct sl_qb *q)
{
	if (!q->failed)
		return 0;
	sl_diag_set(q->code, "%s", q->msg);
	return -1;
}

struct sl_qb *
sl_qb_new(const struct sl_model *m)
{
	if (sl_model_check(m) != 0)
		return NULL;
	struct sl_qb *q = sl_calloc(1, sizeof(*q));
	if (q == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a query builder");
		return NULL;
	}
	q->models[0] = m;
	q->nmodels = 1;
	q->limit = -1;
	sl_arena_create(&q->arena, 0, ARENA_MAX);
	sl_buf_create(&q->sql, SQL_MAX);
	return q;
}

void
sl_qb_delete(struct sl_qb *q)
{
	if (q == NULL)
		return;
	struct qb_vec *vecs[] = {&q->sel,  &q->order, &q->nodes,  &q->kids,
	                         &q->vals, &q->where, &q->params, &q->pcols};
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		sl_free(vecs[i]->p);
	sl_arena_destroy(&q->arena);
	sl_buf_destroy(&q->sql);
	sl_free(q);
}

/** Resolve `name` among the first `n` models of `ms`. */
static const struct sl_column *
resolve(const struct sl_model *const *ms, size_t n, const char *s, size_t len,
        size_t *mi)
{
	const struct sl_column *col = column_n(ms[0], s, len);
	if (col != NULL) {
		*mi = 0;
		return col;
	}
	for (size_t i = 0; i < n; i++) {
		size_t tl = strlen(ms[i]->table);
		if (len > tl && memcmp(s, ms[i]->table, tl) == 0 &&
		    s[tl] == '.' &&
		    (col = column_n(ms[i], s + tl + 1, len - tl - 1)) != NULL) {
			*mi = i;
			return col;
		}
	}
	for (size_t i = 1; i < n; i++)
		if ((col = column_n(ms[i], s, len)) != NULL) {
			*mi = i;
			return col;
		}
	return NULL;
}

/** Resolve column `name` of the query into *ref. 0, or -1 (recorded). */
static int
qb_ref(struct sl_qb *q, const char *name, struct qb_ref *ref)
{
	assert(name != NULL);
	ref->col = resolve(q->models, q->nmodels, name, strlen(name), &ref->mi);
	if (ref->col == NULL) {
		sl_diag_set(SL_EINVAL,
		            "query on model \"%s\": no column \"%s\"",
		            q->models[0]->table, name);
		return qb_fail(q);
	}
	return 0;
}

int
sl_qb_select(struct sl_qb *q, size_t n, const char *const *cols)
{
	if (qb_check(q) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct qb_ref ref;
		if (qb_ref(q, cols[i], &ref) != 0 ||
		    vec_push(&q->sel, &ref, sizeof(ref)) != 0)
			return qb_fail(q);
	}
	return 0;
}

int
sl_qb_join(struct sl_qb *q, enum sl_join kind, const struct sl_model *other,
           const char *left, const char *right)
{
	if (qb_check(q) != 0)
		return -1;
	if (sl_model_check(other) != 0)
		return qb_fail(q);
	if (kind != SL_JOIN_INNER && kind != SL_JOIN_LEFT) {
		sl_diag_set(SL_EINVAL, "query builder: unknown join kind %d",
		            (int)kind);
		return qb_fail(q);
	}
	if (q->nmodels >= SL_QB_MODELS_MAX) {
		sl_diag_set(SL_ELIMIT, "query builder: more than %d models",
		            SL_QB_MODELS_MAX);
		return qb_fail(q);
	}
	for (size_t i = 0; i < q->nmodels; i++)
		if (strcmp(q->models[i]->table, other->table) == 0) {
			sl_diag_set(SL_EINVAL,
			            "query builder: table \"%s\" is already "
			            "in the query",
			            other->table);
			return qb_fail(q);
		}
	struct qb_join *j = &q->joins[q->nmodels - 1];
	j->kind = kind;
	if (qb_ref(q, left, &j->left) != 0)
		return -1;
	j->right.mi = q->nmodels;
	size_t mi;
	j->right.col = resolve(&other, 1, right, strlen(right), &mi);
	if (j->right.col == NULL) {
		no_column(other, right, strlen(right));
		return qb_fail(q);
	}
	q->models[q->nmodels++] = other;
	return 0;
}

/** Add a node; its id, or -1 (recorded). */
static int
qb_node(struct sl_qb *q, const struct qb_node *nd)
{
	if (vec_push(&q->nodes, nd, sizeof(*nd)) != 0)
		return qb_fail(q);
	return (int)(q->nodes.n - 1);
}

/** Copy `v` into the builder's values. 0, or -1 (recorded). */
static int
qb_value(struct sl_qb *q, const struct sl_value *v)
{
	struct sl_value copy;
	if (sl_value_copy(&q->arena, v, &copy) != 0 ||
	    vec_push(&q->vals, &copy, sizeof(copy)) != 0)
		return qb_fail(q);
	return 0;
}

int
sl_qb_cmp(struct sl_qb *q, const char *col, enum sl_op op,
          struct sl_value value)
{
	if (qb_check(q) != 0)
		return -1;
	if (op < SL_OP_EQ || op > SL_OP_LIKE) {
		sl_diag_set(SL_EINVAL, "query builder: unknown operator %d",
		            (int)op);
		return qb_fail(q);
	}
	struct qb_node nd = {.kind = QB_CMP, .op = (uint8_t)op, .depth = 1};
	if (qb_ref(q, col, &nd.ref) != 0)
		return -1;
	nd.first = q->vals.n;
	nd.count = 1;
	if (qb_value(q, &value) != 0)
		return -1;
	return qb_node(q, &nd);
}

int
sl_qb_is_null(struct sl_qb *q, const char *col, bool not )
{
	if (qb_check(q) != 0)
		return -1;
	struct qb_node nd = {.kind = QB_NULL, .op = not, .depth = 1};
	if (qb_ref(q, col, &nd.ref) != 0)
		return -1;
	return qb_node(q, &nd);
}

int
sl_qb_in(struct sl_qb *q, const char *col, size_t n,
         const struct sl_value *values)
{
	if (qb_check(q) != 0)
		return -1;
	struct qb_node nd = {.kind = QB_IN, .depth = 1};
	if (qb_ref(q, col, &nd.ref) != 0)
		return -1;
	nd.first = q->vals.n;
	nd.count = n;
	for (size_t i = 0; i < n; i++)
		if (qb_value(q, &values[i]) != 0)
			return -1;
	return qb_node(q, &nd);
}

/** A node over `n` children `conds`. */
static int
qb_group(struct sl_qb *q, enum qb_kind kind, size_t n, const int *conds)
{
	if (qb_check(q) != 0)
		return -1;
	struct qb_node nd = {.kind = (uint8_t)kind, .depth = 1};
	nd.first = q->kids.n;
	nd.count = n;
	for (size_t i = 0; i < n; i++) {
		int id = conds[i];
		if (id < 0 || (size_t)id >= q->nodes.n) {
			sl_diag_set(SL_EINVAL, "query builder: no condition %d",
			            id);
			return qb_fail(q);
		}
		struct qb_node *kid = (struct qb_node *)q->nodes.p + id;
		if (kid->used) {
			sl_diag_set(SL_EINVAL,
			            "query builder: condition %d is used "
			            "twice",
			            id);
			return qb_fail(q);
		}
		if (kid->depth >= SL_QB_DEPTH_MAX) {
			sl_diag_set(SL_ELIMIT,
			            "query builder: conditions nested deeper "
			            "than %d",
			            SL_QB_DEPTH_MAX);
			return qb_fail(q);
		}
		if (kid->depth + 1 > nd.depth)
			nd.depth = (uint8_t)(kid->depth + 1);
	}
	for (size_t i = 0; i < n; i++) {
		((struct qb_node *)q->nodes.p)[conds[i]].used = true;
		if (vec_push(&q->kids, &conds[i], sizeof(int)) != 0)
			return qb_fail(q);
	}
	return qb_node(q, &nd);
}

int
sl_qb_and(struct sl_qb *q, size_t n, const int *conds)
{
	return qb_group(q, QB_AND, n, conds);
}

int
sl_qb_or(struct sl_qb *q, size_t n, const int *conds)
{
	return qb_group(q, QB_OR, n, conds);
}

int
sl_qb_not(struct sl_qb *q, int cond)
{
	return qb_group(q, QB_NOT, 1, &cond);
}

int
sl_qb_where(struct sl_qb *q, int cond)
{
	int id = qb_group(q, QB_AND, 1, &cond);
	if (id < 0)
		return -1;
	if (vec_push(&q->where, &id, sizeof(id)) != 0)
		return qb_fail(q);
	return 0;
}

int
sl_qb_order(struct sl_qb *q, const char *col, bool desc)
{
	if (qb_check(q) != 0)
		return -1;
	struct qb_order o = {.desc = desc};
	if (qb_ref(q, col, &o.ref) != 0)
		return -1;
	if (vec_push(&q->order, &o, sizeof(o)) != 0)
		return qb_fail(q);
	return 0;
}

void
sl_qb_limit(struct sl_qb *q, int64_t n)
{
	q->limit = n;
}

void
sl_qb_offset(struct sl_qb *q, int64_t n)
{
	q->offset = n;
}

/** Append the column `ref` ("table"."col" once the query has joins). */
static int
qb_put_ref(struct sl_qb *q, const struct qb_ref *ref)
{
	if (q->nmodels > 1 &&
	    (sl_db_ident(&q->sql, q->models[ref->mi]->table) != 0 ||
	     sl_buf_putc(&q->sql, '.') != 0))
		return -1;
	return sl_db_ident(&q->sql, ref->col->name);
}

/** Append a selected column, aliased "table.col" for joined models. */
static int
qb_put_sel(struct sl_qb *q, const struct qb_ref *ref)
{
	if (qb_put_ref(q, ref) != 0)
		return -1;
	if (ref->mi == 0)
		return 0;
	struct sl_buf alias;
	sl_buf_create(&alias, 4096);
	int rc = sl_buf_printf(&alias, "%s.%s", q->models[ref->mi]->table,
	                       ref->col->name);
	if (rc == 0)
		rc = sl_buf_puts(&q->sql, " AS ");
	if (rc == 0)
		rc = sl_db_ident(&q->sql, alias.data);
	sl_buf_destroy(&alias);
	return rc;
}

/** Append "$k" binding `v` (compared with `col`, may be NULL). */
static int
qb_put_param(struct sl_qb *q, const struct sl_column *col,
             const struct sl_value *v)
{
	if (q->params.n >= SL_DB_PARAMS_MAX) {
		sl_diag_set(SL_ELIMIT, "query builder: more than %d parameters",
		            SL_DB_PARAMS_MAX);
		return -1;
	}
	if (vec_push(&q->params, v, sizeof(*v)) != 0 ||
	    vec_push(&q->pcols, &col, sizeof(col)) != 0)
		return -1;
	return sl_buf_printf(&q->sql, "$%zu", q->params.n);
}

/** Append condition `id`. */
static int
qb_put_cond(struct sl_qb *q, int id)
{
	static const char *const ops[] = {
	        [SL_OP_EQ] = " = ",      [SL_OP_NE] = " != ",
	        [SL_OP_LT] = " < ",      [SL_OP_LE] = " <= ",
	        [SL_OP_GT] = " > ",      [SL_OP_GE] = " >= ",
	        [SL_OP_LIKE] = " LIKE ",
	};
	const struct qb_node *nd = (const struct qb_node *)q->nodes.p + id;
	const struct sl_value *vals = q->vals.p;
	const int *kids = q->kids.p;
	struct sl_buf *b = &q->sql;
	switch ((enum qb_kind)nd->kind) {
	case QB_CMP:
		if (qb_put_ref(q, &nd->ref) != 0 ||
		    sl_buf_puts(b, ops[nd->op]) != 0)
			return -1;
		return qb_put_param(q, nd->ref.col, &vals[nd->first]);
	case QB_NULL:
		if (qb_put_ref(q, &nd->ref) != 0)
			return -1;
		return sl_buf_puts(b, nd->op ? " IS NOT NULL" : " IS NULL");
	case QB_IN:
		if (nd->count == 0)
			return sl_buf_puts(b, "FALSE");
		if (qb_put_ref(q, &nd->ref) != 0 ||
		    sl_buf_puts(b, " IN (") != 0)
			return -1;
		for (size_t i = 0; i < nd->count; i++)
			if ((i > 0 && sl_buf_puts(b, ", ") != 0) ||
			    qb_put_param(q, nd->ref.col,
			                 &vals[nd->first + i]) != 0)
				return -1;
		return sl_buf_putc(b, ')');
	case QB_NOT:
		if (sl_buf_puts(b, "NOT (") != 0 ||
		    qb_put_cond(q, kids[nd->first]) != 0)
			return -1;
		return sl_buf_putc(b, ')');
	case QB_AND:
	case QB_OR:
		break;
	}
	bool and = nd->kind == QB_AND;
	if (nd->count == 0)
		return sl_buf_puts(b, and? "TRUE" : "FALSE");
	if (nd->count == 1)
		return qb_put_cond(q, kids[nd->first]);
	if (sl_buf_putc(b, '(') != 0)
		return -1;
	for (size_t i = 0; i < nd->count; i++)
		if ((i > 0 && sl_buf_puts(b, and? " AND " : " OR ") != 0) ||
		    qb_put_cond(q, kids[nd->first + i]) != 0)
			return -1;
	return sl_buf_putc(b, ')');
}

/** Render the query into q->sql and q->params. 0, or -1. */
static int
qb_render(struct sl_qb *q)
{
	struct sl_buf *b = &q->sql;
	sl_buf_reset(b);
	q->params.n = 0;
	q->pcols.n = 0;
	if (sl_buf_puts(b, "SELECT ") != 0)
		return -1;
	const struct qb_ref *sel = q->sel.p;
	if (q->sel.n > 0) {
		for (size_t i = 0; i < q->sel.n; i++)
			if ((i > 0 && sl_buf_puts(b, ", ") != 0) ||
			    qb_put_sel(q, &sel[i]) != 0)
				return -1;
	} else if (q->nmodels == 1) {
		if (sl_buf_putc(b, '*') != 0)
			return -1;
	} else {
		bool first = true;
		for (size_t mi = 0; mi < q->nmodels; mi++)
			for (size_t i = 0; i < q->models[mi]->ncols; i++) {
				struct qb_ref ref = {
				        mi, &q->models[mi]->columns[i]};
				if ((!first && sl_buf_puts(b, ", ") != 0) ||
				    qb_put_sel(q, &ref) != 0)
					return -1;
				first = false;
			}
	}
	if (sl_buf_puts(b, " FROM ") != 0 ||
	    sl_db_ident(b, q->models[0]->table) != 0)
		return -1;
	for (size_t i = 1; i < q->nmodels; i++) {
		const struct qb_join *j = &q->joins[i - 1];
		if (sl_buf_puts(b, j->kind == SL_JOIN_LEFT
		                           ? " LEFT JOIN "
		                           : " INNER JOIN ") != 0 ||
		    sl_db_ident(b, q->models[i]->table) != 0 ||
		    sl_buf_puts(b, " ON ") != 0 ||
		    qb_put_ref(q, &j->left) != 0 ||
		    sl_buf_puts(b, " = ") != 0 || qb_put_ref(q, &j->right) != 0)
			return -1;
	}
	const int *where = q->where.p;
	for (size_t i = 0; i < q->where.n; i++)
		if (sl_buf_puts(b, i == 0 ? " WHERE " : " AND ") != 0 ||
		    qb_put_cond(q, where[i]) != 0)
			return -1;
	const struct qb_order *order = q->order.p;
	for (size_t i = 0; i < q->order.n; i++)
		if (sl_buf_puts(b, i == 0 ? " ORDER BY " : ", ") != 0 ||
		    qb_put_ref(q, &order[i].ref) != 0 ||
		    (order[i].desc && sl_buf_puts(b, " DESC") != 0))
			return -1;
	/* SQLite takes OFFSET only after a LIMIT: "no limit" is the
	 * largest one. */
	if (q->limit >= 0 || q->offset > 0) {
		struct sl_value lim =
		        sl_int(q->limit >= 0 ? q->limit : INT64_MAX);
		if (sl_buf_puts(b, " LIMIT ") != 0 ||
		    qb_put_param(q, NULL, &lim) != 0)
			return -1;
	}
	if (q->offset > 0) {
		struct sl_value off = sl_int(q->offset);
		if (sl_buf_puts(b, " OFFSET ") != 0 ||
		    qb_put_param(q, NULL, &off) != 0)
			return -1;
	}
	return 0;
}

int
sl_qb_sql(struct sl_qb *q, const char **sql, size_t *nparams,
          const struct sl_value **params)
{
	if (qb_check(q) != 0)
		return -1;
	if (qb_render(q) != 0)
		return -1;
	*sql = q->sql.data;
	*nparams = q->params.n;
	*params = q->params.p;
	return 0;
}

struct sl_db_result *
sl_qb_run(struct sl_db_conn *c, struct sl_qb *q)
{
	const char *sql;
	size_t n;
	const struct sl_value *params;
	if (sl_qb_sql(q, &sql, &n, &params) != 0)
		return NULL;
	struct sl_value *bound = NULL;
	struct sl_arena scratch;
	sl_arena_create(&scratch, 0, ARENA_MAX);
	const struct sl_db_dialect *d = sl_db_conn_dialect(c);
	if (d->bind != NULL && n > 0) {
		bound = sl_malloc(n * sizeof(*bound));
		if (bound == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for parameters");
			sl_arena_destroy(&scratch);
			return NULL;
		}
		const struct sl_column *const *cols = q->pcols.p;
		for (size_t i = 0; i < n; i++)
			if (bind_value(d, cols[i], &params[i], &scratch,
			               &bound[i]) != 0) {
				sl_free(bound);
				sl_arena_destroy(&scratch);
				return NULL;
			}
		params = bound;
	}
	struct sl_db_result *r = sl_db_query(c, sql, n, params);
	if (r == NULL)
		sl_diag_wrap(sl_diag_code(), "query on model \"%s\"",
		             q->models[0]->table);
	sl_free(bound);
	sl_arena_destroy(&scratch);
	return r;
}

/** decode_row()'s lookup for a query: names as the query writes them. */
static const struct sl_column *
qb_lookup(const void *ctx, const char *s, size_t n)
{
	const struct sl_qb *q = ctx;
	size_t mi;
	return resolve(q->models, q->nmodels, s, n, &mi);
}

int
sl_qb_all(struct sl_db_conn *c, struct sl_qb *q, struct sl_arena *a,
          struct sl_value *rows)
{
	struct sl_db_result *r = sl_qb_run(c, q);
	if (r == NULL)
		return -1;
	size_t n = sl_db_result_rows(r);
	int rc = 0;
	if (n > SL_VALUE_LEN_MAX) {
		sl_diag_set(SL_ELIMIT, "%zu rows in one array", n);
		rc = -1;
	}
	struct sl_value *items = NULL;
	if (rc == 0 && n > 0) {
		items = sl_arena_alloc(a, n * sizeof(*items));
		if (items == NULL)
			rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = sl_db_result_row_object(r, i, a, &items[i]);
		if (rc == 0)
			rc = decode_row(sl_db_conn_dialect(c), qb_lookup, q,
			                &items[i], a);
	}
	if (rc == 0)
		*rows = sl_array_ref(items, (uint32_t)n);
	sl_db_result_free(r);
	return rc;
}

/* }}} */
