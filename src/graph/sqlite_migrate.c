/*
 * sluice: the SQLite store's migrations (see sl_store_sqlite_migrate() in
 * sqlite_store.h), written by migrate.h in SQLite's dialect: JSON members
 * through json_extract() paths.
 *
 * A path label in double quotes ($."label") is not unescaped by SQLite
 * 3.40: it runs up to the next double quote and is compared byte for byte
 * with the member name as the stored JSON text spells it, escapes and all.
 * So the label is the name written as sl_json_write() writes the stored
 * keys and properties (a backslash as \\, a tab as \t); newer SQLite
 * versions unescape both sides and match it too. A name with a double
 * quote cannot be a label (its \" ends it) and is left out, with a
 * warning.
 */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#include "db/sqlite_conn.h"
#include "db/sqlite_dl.h"
#include "migrate.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/schema.h"
#include "sluice/value.h"
#include "sqlite_store.h"

/**
 * Append `json_extract(COL, '$."label"')`, the label being `name` as the
 * stored JSON text spells it, each single quote doubled for the literal.
 */
static int
extract(struct sl_buf *b, const char *col, const char *name)
{
	struct sl_buf label;
	sl_buf_create(&label, SL_MIG_SQL_MAX);
	struct sl_value v = sl_str_ref(name, (uint32_t)strlen(name));
	int rc = sl_json_write(&label, &v, 0) != 0 || label.len < 2 ||
	         sl_buf_printf(b, "json_extract(%s, '$.", col) != 0;
	/* The JSON string keeps its double quotes: they quote the label. */
	for (size_t i = 0; i < label.len && rc == 0; i++)
		rc = (label.data[i] == '\'' && sl_buf_putc(b, '\'') != 0) ||
		     sl_buf_putc(b, label.data[i]) != 0;
	sl_buf_destroy(&label);
	return rc != 0 ? -1 : sl_buf_puts(b, "')");
}

/**
 * Whether `name` can be a JSON path label (no double quote): index
 * members and columns need that; any view name will do.
 */
static bool
usable(const char *what, const char *name)
{
	if (strcmp(what, "view") == 0 || strchr(name, '"') == NULL)
		return true;
	sl_log_warn("migrations: property name '%s' has a double quote, which "
	            "SQLite's JSON paths cannot hold; it gets no index or view "
	            "column",
	            name);
	return false;
}

/** Migration state. */
struct mig {
	/** The store's connection. */
	struct sl_db_conn *c;
	/** What to migrate to. */
	const struct sl_schema *schema;
	/** The store's path. */
	const char *path;
	/** Migrations applied. */
	uint32_t applied;
	/** Migrations already there. */
	uint32_t kept;
	/** Listing only: where each migration's status goes, or NULL. */
	int (*status)(void *arg, const char *name, bool applied);
	/** status()'s argument. */
	void *status_arg;
	/** Listing only: whether sluice_migrations exists. */
	bool have_table;
};

/** Run SQL text `sql` (no rows), saying `what` failed. */
static int
exec(struct mig *m, const char *sql, const char *what)
{
	if (sl_sqlite_exec(m->c, sql) == 0)
		return 0;
	sl_diag_wrap(sl_diag_code(), "%s: %s", m->path, what);
	return -1;
}

/** Migrations already recorded, by name. */
static const char find_sql[] = "SELECT sql FROM sluice_migrations WHERE "
                               "name = ?";

/** Record a migration. */
static const char record_sql[] =
        "INSERT INTO sluice_migrations(name, sql, applied_at) VALUES (?, ?, "
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT(name) DO "
        "UPDATE SET sql = excluded.sql, applied_at = excluded.applied_at";

/** Raise the connection's error for `sql`, saying `what` failed. -1. */
static int
failed(struct mig *m, const char *sql, const char *what)
{
	sl_sqlite_error(m->c, sql);
	sl_diag_wrap(sl_diag_code(), "%s: %s", m->path, what);
	return -1;
}

/** Apply migration `mg` unless it is there already (ctx: struct mig). */
static int
apply(void *ctx, const struct sl_mig *mg)
{
	struct mig *m = ctx;
	sqlite3_stmt *q = sl_sqlite_stmt(m->c, find_sql);
	if (q == NULL)
		return -1;
	sqlite3_bind_text(q, 1, mg->name.data, (int)mg->name.len,
	                  SQLITE_STATIC);
	int rc = sqlite3_step(q);
	bool same = rc == SQLITE_ROW &&
	            strcmp((const char *)sqlite3_column_text(q, 0),
	                   mg->sql.data) == 0;
	bool older = rc == SQLITE_ROW && !same;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		failed(m, find_sql, "reading migrations");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (same) {
		m->kept++;
		return 0;
	}
	if ((older && exec(m, mg->drop.data, mg->name.data) != 0) ||
	    exec(m, mg->sql.data, mg->name.data) != 0)
		return -1;
	if ((q = sl_sqlite_stmt(m->c, record_sql)) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, mg->name.data, (int)mg->name.len,
	                  SQLITE_STATIC);
	sqlite3_bind_text(q, 2, mg->sql.data, (int)mg->sql.len, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc != SQLITE_DONE)
		failed(m, record_sql, "recording a migration");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE)
		return -1;
	m->applied++;
	sl_log_info("migrations: %s: applied %s", m->path, mg->name.data);
	return 0;
}

/** SQLite's migration dialect, applying with `fn`. */
static struct sl_mig_dialect
dialect(int (*fn)(void *ctx, const struct sl_mig *m), struct mig *m)
{
	const struct sl_mig_dialect d = {
	        .member = extract,
	        .usable = usable,
	        .create_index = "CREATE INDEX ",
	        .index_open = " ON node(",
	        .index_close = ")",
	        .create_view = "CREATE VIEW ",
	        .node_key = "key",
	        .rel_key = "r.key",
	        .from_key = "f.key",
	        .to_key = "t.key",
	        .apply = fn,
	        .ctx = m,
	};
	return d;
}

/** Job: apply the migrations of m->schema in one transaction. */
static int
migrate_job(struct sl_store_sqlite *s, void *arg)
{
	struct mig *m = arg;
	const struct sl_mig_dialect d = dialect(apply, m);
	int rc = sl_store_sqlite_end_tx(s);
	if (rc == 0)
		rc = exec(m, "BEGIN IMMEDIATE", "starting the migrations");
	if (rc == 0)
		rc = exec(m,
		          "CREATE TABLE IF NOT EXISTS sluice_migrations("
		          "name TEXT PRIMARY KEY, sql TEXT NOT NULL, "
		          "applied_at TEXT NOT NULL)",
		          "creating sluice_migrations");
	if (rc == 0)
		rc = sl_mig_write_all(&d, m->schema);
	if (rc == 0)
		rc = exec(m, "COMMIT", "committing the migrations");
	if (rc != 0) {
		if (sl_diag_code() == SL_EOK)
			sl_diag_set(SL_EOOM,
			            "out of memory writing migrations");
		if (!sqlite3_get_autocommit(sl_store_sqlite_db(s)))
			(void)sqlite3_exec(sl_store_sqlite_db(s), "ROLLBACK",
			                   NULL, NULL, NULL);
		m->applied = m->kept = 0;
	}
	return rc;
}

int
sl_store_sqlite_migrate(struct sl_store_sqlite *s,
                        const struct sl_schema *schema, uint32_t *applied,
                        uint32_t *kept)
{
	struct mig m = {.c = sl_store_sqlite_conn(s),
	                .path = sl_store_sqlite_path(s),
	                .schema = schema};
	int rc = sl_store_sqlite_run(s, migrate_job, &m);
	*applied = rc == 0 ? m.applied : 0;
	*kept = rc == 0 ? m.kept : 0;
	return rc;
}

/** Report migration `mg`'s status without applying it (ctx: struct
 * mig). */
static int
report(void *ctx, const struct sl_mig *mg)
{
	struct mig *m = ctx;
	bool same = false;
	if (m->have_table) {
		sqlite3_stmt *q = sl_sqlite_stmt(m->c, find_sql);
		if (q == NULL)
			return -1;
		sqlite3_bind_text(q, 1, mg->name.data, (int)mg->name.len,
		                  SQLITE_STATIC);
		int rc = sqlite3_step(q);
		same = rc == SQLITE_ROW &&
		       strcmp((const char *)sqlite3_column_text(q, 0),
		              mg->sql.data) == 0;
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			failed(m, find_sql, "reading migrations");
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return -1;
	}
	return m->status(m->status_arg, mg->name.data, same) != 0 ? -1 : 0;
}

/** Job: report the migrations of m->schema. */
static int
list_job(struct sl_store_sqlite *s, void *arg)
{
	struct mig *m = arg;
	static const char table_sql[] =
	        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
	        "'sluice_migrations'";
	const struct sl_mig_dialect d = dialect(report, m);
	if (sl_store_sqlite_end_tx(s) != 0)
		return -1;
	sqlite3_stmt *q = sl_sqlite_stmt(m->c, table_sql);
	if (q == NULL)
		return -1;
	int rc = sqlite3_step(q);
	m->have_table = rc == SQLITE_ROW;
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return failed(m, table_sql, "reading migrations");
	rc = sl_mig_write_all(&d, m->schema);
	if (rc != 0 && sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "out of memory listing migrations");
	return rc;
}

int
sl_store_sqlite_migrations(struct sl_store_sqlite *s,
                           const struct sl_schema *schema,
                           int (*fn)(void *arg, const char *name, bool applied),
                           void *arg)
{
	struct mig m = {.c = sl_store_sqlite_conn(s),
	                .path = sl_store_sqlite_path(s),
	                .schema = schema,
	                .status = fn,
	                .status_arg = arg};
	return sl_store_sqlite_run(s, list_job, &m);
}
