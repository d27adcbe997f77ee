/*
 * sluice: migrations of the SQLite store from a schema (see
 * sl_sqlite_store_migrate() in sqlite_store.h).
 *
 * DDL cannot take parameters, so the type names and property names that
 * appear in index and view definitions are written into the SQL: as
 * identifiers in double quotes and literals in single quotes, each with
 * its quote character doubled. A property name with a double quote cannot
 * be a JSON path and is left out (with a warning).
 */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/log.h"
#include "sluice/schema.h"
#include "sqlite_store.h"

/** Longest SQL text of one migration. */
#define MIGRATION_SQL_MAX ((size_t)1 << 20)

/** Append `s` quoted with `q` (its own occurrences doubled). */
static int
quoted(struct sl_buf *b, const char *s, char q)
{
	if (sl_buf_putc(b, q) != 0)
		return -1;
	for (; *s != '\0'; s++)
		if ((*s == q && sl_buf_putc(b, q) != 0) ||
		    sl_buf_putc(b, *s) != 0)
			return -1;
	return sl_buf_putc(b, q);
}

/** Append `json_extract(COL, '$."name"')`. */
static int
extract(struct sl_buf *b, const char *col, const char *name)
{
	if (sl_buf_printf(b, "json_extract(%s, '$.\"", col) != 0)
		return -1;
	for (const char *p = name; *p != '\0'; p++)
		if ((*p == '\'' && sl_buf_putc(b, '\'') != 0) ||
		    sl_buf_putc(b, *p) != 0)
			return -1;
	return sl_buf_puts(b, "\"')");
}

/** Whether `name` can be a JSON path member (no double quote). */
static bool
pathable(const char *name)
{
	if (strchr(name, '"') == NULL)
		return true;
	sl_log_warn("migrations: property name '%s' has a double quote; it "
	            "gets no index or view column",
	            name);
	return false;
}

/** Migration state. */
struct mig {
	/** The store's connection. */
	sqlite3 *db;
	/** The store's path. */
	const char *path;
	/** Name of the current migration. */
	struct sl_buf name;
	/** Its SQL. */
	struct sl_buf sql;
	/** How to undo an older version of it ("DROP VIEW ..."). */
	struct sl_buf drop;
	/** Migrations applied. */
	uint32_t applied;
	/** Migrations already there. */
	uint32_t kept;
};

/** Run SQL text `sql` (no rows). */
static int
exec(struct mig *m, const char *sql, const char *what)
{
	char *err = NULL;
	if (sqlite3_exec(m->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		sl_diag_set(SL_EDB, "%s: %s: %s", m->path, what,
		            err != NULL ? err : sqlite3_errmsg(m->db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/** Apply the migration in m->name / m->sql unless it is there already. */
static int
apply(struct mig *m)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(
	            m->db, "SELECT sql FROM sluice_migrations WHERE name = ?",
	            -1, &q, NULL) != SQLITE_OK) {
		sl_diag_set(SL_EDB, "%s: reading migrations: %s", m->path,
		            sqlite3_errmsg(m->db));
		return -1;
	}
	sqlite3_bind_text(q, 1, m->name.data, (int)m->name.len, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	bool same = rc == SQLITE_ROW &&
	            strcmp((const char *)sqlite3_column_text(q, 0),
	                   m->sql.data) == 0;
	bool older = rc == SQLITE_ROW && !same;
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sl_diag_set(SL_EDB, "%s: reading migrations: %s", m->path,
		            sqlite3_errmsg(m->db));
		return -1;
	}
	if (same) {
		m->kept++;
		return 0;
	}
	if ((older && exec(m, m->drop.data, m->name.data) != 0) ||
	    exec(m, m->sql.data, m->name.data) != 0)
		return -1;
	if (sqlite3_prepare_v2(
	            m->db,
	            "INSERT INTO sluice_migrations(name, sql, "
	            "applied_at) VALUES (?, ?, strftime("
	            "'%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT(name) "
	            "DO UPDATE SET sql = excluded.sql, applied_at = "
	            "excluded.applied_at",
	            -1, &q, NULL) != SQLITE_OK) {
		sl_diag_set(SL_EDB, "%s: recording a migration: %s", m->path,
		            sqlite3_errmsg(m->db));
		return -1;
	}
	sqlite3_bind_text(q, 1, m->name.data, (int)m->name.len, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, m->sql.data, (int)m->sql.len, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		sl_diag_set(SL_EDB, "%s: recording a migration: %s", m->path,
		            sqlite3_errmsg(m->db));
		return -1;
	}
	m->applied++;
	sl_log_info("migrations: %s: applied %s", m->path, m->name.data);
	return 0;
}

/** Start a migration: reset the name, SQL and drop texts. */
static void
start(struct mig *m)
{
	sl_buf_reset(&m->name);
	sl_buf_reset(&m->sql);
	sl_buf_reset(&m->drop);
}

/** The index on property `prop` of `col` for node type `type`. */
static int
index_one(struct mig *m, const char *what, const char *type, const char *col,
          const char *prop)
{
	if (!pathable(prop))
		return 0;
	start(m);
	struct sl_buf ident;
	sl_buf_create(&ident, 4096);
	int rc = sl_buf_printf(&ident, "sluice_%s(%s.%s)", what, type, prop);
	rc = rc || sl_buf_printf(&m->name, "%s index %s.%s", what, type, prop);
	rc = rc || sl_buf_puts(&m->sql, "CREATE INDEX ") != 0 ||
	     quoted(&m->sql, ident.data, '"') != 0 ||
	     sl_buf_puts(&m->sql, " ON node(") != 0 ||
	     extract(&m->sql, col, prop) != 0 ||
	     sl_buf_puts(&m->sql, ") WHERE type = ") != 0 ||
	     quoted(&m->sql, type, '\'') != 0;
	rc = rc || sl_buf_puts(&m->drop, "DROP INDEX IF EXISTS ") != 0 ||
	     quoted(&m->drop, ident.data, '"') != 0;
	sl_buf_destroy(&ident);
	if (rc != 0)
		return -1;
	return apply(m);
}

/** Append ", json_extract(COL, path) AS "name"" for each name not yet
 * used as a column (`used` collects them). */
static int
columns(struct sl_buf *b, const char *col, const struct sl_names *names,
        struct sl_names *used)
{
	for (uint32_t i = 0; i < names->n; i++) {
		const char *n = names->v[i];
		bool taken = false;
		for (uint32_t k = 0; k < used->n && !taken; k++)
			taken = strcmp(used->v[k], n) == 0;
		if (taken || !pathable(n))
			continue;
		if (sl_names_add(used, n) != 0 || sl_buf_puts(b, ", ") != 0 ||
		    extract(b, col, n) != 0 || sl_buf_puts(b, " AS ") != 0 ||
		    quoted(b, n, '"') != 0)
			return -1;
	}
	return 0;
}

/** The view of a node type. */
static int
node_view(struct mig *m, const struct sl_schema_node *n)
{
	start(m);
	struct sl_buf view;
	sl_buf_create(&view, 4096);
	struct sl_names used = {0};
	int rc = sl_buf_printf(&view, "node_%s", n->type);
	rc = rc || sl_buf_printf(&m->name, "view %s", view.data) != 0;
	rc = rc || sl_names_add(&used, "_id") != 0 ||
	     sl_names_add(&used, "_labels") != 0;
	rc = rc || sl_buf_puts(&m->sql, "CREATE VIEW ") != 0 ||
	     quoted(&m->sql, view.data, '"') != 0 ||
	     sl_buf_puts(&m->sql, " AS SELECT id AS _id, labels AS _labels") !=
	             0 ||
	     columns(&m->sql, "key", &n->keys, &used) != 0 ||
	     columns(&m->sql, "props", &n->props, &used) != 0 ||
	     sl_buf_puts(&m->sql, " FROM node WHERE type = ") != 0 ||
	     quoted(&m->sql, n->type, '\'') != 0;
	rc = rc || sl_buf_puts(&m->drop, "DROP VIEW IF EXISTS ") != 0 ||
	     quoted(&m->drop, view.data, '"') != 0;
	sl_buf_destroy(&view);
	sl_names_destroy(&used);
	return rc != 0 ? -1 : apply(m);
}

/** The view of a relationship type. */
static int
rel_view(struct mig *m, const struct sl_schema_rel *r)
{
	start(m);
	struct sl_buf view;
	sl_buf_create(&view, 4096);
	struct sl_names used = {0};
	int rc = sl_buf_printf(&view, "rel_%s", r->type);
	rc = rc || sl_buf_printf(&m->name, "view %s", view.data) != 0;
	/* The view's own columns: a property of one of these names gets no
	 * column of its own. */
	static const char *const fixed[] = {
	        "_id",       "_from_id", "_to_id",  "_from_type",
	        "_from_key", "_to_type", "_to_key", NULL};
	for (int i = 0; fixed[i] != NULL && rc == 0; i++)
		rc = sl_names_add(&used, fixed[i]);
	rc = rc || sl_buf_puts(&m->sql, "CREATE VIEW ") != 0 ||
	     quoted(&m->sql, view.data, '"') != 0 ||
	     sl_buf_puts(&m->sql,
	                 " AS SELECT r.id AS _id, r.from_id AS _from_id, "
	                 "r.to_id AS _to_id, f.type AS _from_type, f.key AS "
	                 "_from_key, t.type AS _to_type, t.key AS _to_key") !=
	             0 ||
	     columns(&m->sql, "r.key", &r->keys, &used) != 0 ||
	     columns(&m->sql, "r.props", &r->props, &used) != 0 ||
	     sl_buf_puts(&m->sql, " FROM rel AS r JOIN node AS f ON f.id = "
	                          "r.from_id JOIN node AS t ON t.id = "
	                          "r.to_id WHERE r.type = ") != 0 ||
	     quoted(&m->sql, r->type, '\'') != 0;
	rc = rc || sl_buf_puts(&m->drop, "DROP VIEW IF EXISTS ") != 0 ||
	     quoted(&m->drop, view.data, '"') != 0;
	sl_buf_destroy(&view);
	sl_names_destroy(&used);
	return rc != 0 ? -1 : apply(m);
}

int
sl_sqlite_store_migrate(struct sl_sqlite_store *s,
                        const struct sl_schema *schema, uint32_t *applied,
                        uint32_t *kept)
{
	struct mig m = {.db = sl_sqlite_store_db(s),
	                .path = sl_sqlite_store_path(s)};
	sl_buf_create(&m.name, 4096);
	sl_buf_create(&m.sql, MIGRATION_SQL_MAX);
	sl_buf_create(&m.drop, 4096);
	int rc = sl_sqlite_store_commit(s);
	if (rc == 0)
		rc = exec(&m, "BEGIN IMMEDIATE", "starting the migrations");
	if (rc == 0)
		rc = exec(&m,
		          "CREATE TABLE IF NOT EXISTS sluice_migrations("
		          "name TEXT PRIMARY KEY, sql TEXT NOT NULL, "
		          "applied_at TEXT NOT NULL)",
		          "creating sluice_migrations");
	for (uint32_t i = 0; i < schema->n_nodes && rc == 0; i++) {
		const struct sl_schema_node *n = &schema->nodes[i];
		for (uint32_t k = 0; k < n->keys.n && rc == 0; k++)
			rc = index_one(&m, "key", n->type, "key", n->keys.v[k]);
		for (uint32_t k = 0; k < n->indexes.n && rc == 0; k++)
			rc = index_one(&m, "prop", n->type, "props",
			               n->indexes.v[k]);
		if (rc == 0)
			rc = node_view(&m, n);
	}
	for (uint32_t i = 0; i < schema->n_rels && rc == 0; i++)
		rc = rel_view(&m, &schema->rels[i]);
	if (rc == 0)
		rc = exec(&m, "COMMIT", "committing the migrations");
	if (rc != 0) {
		if (sl_diag_code() == SL_EOK)
			sl_diag_set(SL_EOOM,
			            "out of memory writing migrations");
		(void)sqlite3_exec(m.db, "ROLLBACK", NULL, NULL, NULL);
		m.applied = m.kept = 0;
	}
	*applied = m.applied;
	*kept = m.kept;
	sl_buf_destroy(&m.name);
	sl_buf_destroy(&m.sql);
	sl_buf_destroy(&m.drop);
	return rc;
}
