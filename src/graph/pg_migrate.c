/*
 * sluice: migrations of the PostgreSQL store from a schema (see
 * sl_pg_store_migrate() in pg_store.h): the SQLite store's migrations
 * (graph/migrate.c) with the same names and columns, in JSONB.
 *
 * DDL cannot take parameters, so the type names and property names that
 * appear in index and view definitions are written into the SQL: as
 * identifiers in double quotes and literals in single quotes, each with
 * its quote character doubled (standard_conforming_strings is set on for
 * the transaction, so a backslash is an ordinary character). Unlike
 * SQLite's JSON paths, `->>` takes any member name, a double quote
 * included. The migrations table is read and written with parameters.
 */
#include <stdio.h>
#include <string.h>

#include "pg_store.h"
#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/diag.h"
#include "sluice/hash.h"
#include "sluice/log.h"
#include "sluice/schema.h"

/** Longest SQL text of one migration. */
#define MIGRATION_SQL_MAX ((size_t)1 << 20)

/** Longest identifier PostgreSQL keeps (NAMEDATALEN - 1). */
#define IDENT_MAX 63

/** Bytes of a long index name kept before its hash. */
#define IDENT_PREFIX 46

/** Key of the advisory lock that serialises migrations. */
#define MIGRATE_LOCK "7362843215"

/** Migration state. */
struct mig {
	/** The store's connection. */
	struct sl_conn *c;
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

/** Append `s` as an SQL literal ('a''b'). */
static int
literal(struct sl_buf *b, const char *s)
{
	if (sl_buf_putc(b, '\'') != 0)
		return -1;
	for (; *s != '\0'; s++)
		if ((*s == '\'' && sl_buf_putc(b, '\'') != 0) ||
		    sl_buf_putc(b, *s) != 0)
			return -1;
	return sl_buf_putc(b, '\'');
}

/** Append `EXPR ->> 'name'`: the member `name` of jsonb `expr` as text. */
static int
member(struct sl_buf *b, const char *expr, const char *name)
{
	return sl_buf_printf(b, "%s ->> ", expr) != 0 ? -1 : literal(b, name);
}

/**
 * Whether `name` fits in a PostgreSQL identifier (longer ones would be
 * cut short by the server, and could meet another); warns if not.
 */
static bool
fits(const char *what, const char *name)
{
	if (strlen(name) <= IDENT_MAX)
		return true;
	sl_log_warn("migrations: %s name '%s' is longer than PostgreSQL's %d "
	            "bytes; it is left out",
	            what, name, IDENT_MAX);
	return false;
}

/**
 * Make `ident` fit in an identifier: a name longer than IDENT_MAX bytes
 * becomes its first IDENT_PREFIX bytes (cut at a character boundary), '_'
 * and 16 hex digits of the whole name's hash.
 */
static int
shorten(struct sl_buf *ident)
{
	if (ident->len <= IDENT_MAX)
		return 0;
	uint64_t h = sl_hash64(ident->data, ident->len);
	size_t cut = IDENT_PREFIX;
	while (cut > 0 && ((unsigned char)ident->data[cut] & 0xC0) == 0x80)
		cut--;
	ident->len = cut;
	ident->data[cut] = '\0';
	return sl_buf_printf(ident, "_%016llx", (unsigned long long)h);
}

/** Run `sql` as a script for the current migration. */
static int
script(struct mig *m, const char *sql)
{
	if (sl_exec_script(m->c, sql) == 0)
		return 0;
	sl_diag_wrap(sl_diag_code(), "migration '%s'", m->name.data);
	return -1;
}

/** Apply the migration in m->name / m->sql unless it is there already. */
static int
apply(struct mig *m)
{
	struct sl_value name = sl_str_ref(m->name.data, (uint32_t)m->name.len);
	struct sl_result *r = sl_query(
	        m->c, "SELECT sql FROM sluice_migrations WHERE name = $1", 1,
	        &name);
	if (r == NULL)
		return -1;
	bool found = sl_result_rows(r) == 1;
	const struct sl_value *v = found ? sl_result_get(r, 0, 0) : NULL;
	bool same = v != NULL && v->type == SL_VSTR && v->len == m->sql.len &&
	            memcmp(v->u.s, m->sql.data, m->sql.len) == 0;
	sl_result_free(r);
	if (same) {
		m->kept++;
		return 0;
	}
	if ((found && script(m, m->drop.data) != 0) ||
	    script(m, m->sql.data) != 0)
		return -1;
	struct sl_value args[2] = {
	        name, sl_str_ref(m->sql.data, (uint32_t)m->sql.len)};
	if (sl_exec(m->c,
	            "INSERT INTO sluice_migrations(name, sql, applied_at) "
	            "VALUES ($1, $2, now()) ON CONFLICT (name) DO UPDATE SET "
	            "sql = excluded.sql, applied_at = excluded.applied_at",
	            2, args, NULL) != 0)
		return -1;
	m->applied++;
	sl_log_info("migrations: %s: applied %s", sl_conn_url(m->c),
	            m->name.data);
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

/** The index on member `prop` of jsonb `expr` for node type `type`. */
static int
index_one(struct mig *m, const char *what, const char *type, const char *expr,
          const char *prop)
{
	start(m);
	struct sl_buf ident;
	sl_buf_create(&ident, 4096);
	int rc = sl_buf_printf(&ident, "sluice_%s(%s.%s)", what, type, prop);
	rc = rc || shorten(&ident) != 0;
	rc = rc || sl_buf_printf(&m->name, "%s index %s.%s", what, type, prop);
	rc = rc || sl_buf_puts(&m->sql, "CREATE INDEX IF NOT EXISTS ") != 0 ||
	     sl_sql_ident(&m->sql, ident.data) != 0 ||
	     sl_buf_puts(&m->sql, " ON node ((") != 0 ||
	     member(&m->sql, expr, prop) != 0 ||
	     sl_buf_puts(&m->sql, ")) WHERE type = ") != 0 ||
	     literal(&m->sql, type) != 0;
	rc = rc || sl_buf_puts(&m->drop, "DROP INDEX IF EXISTS ") != 0 ||
	     sl_sql_ident(&m->drop, ident.data) != 0;
	sl_buf_destroy(&ident);
	if (rc != 0)
		return -1;
	return apply(m);
}

/** Append ", EXPR ->> 'name' AS "name"" for each name not yet used as a
 * column (`used` collects them). */
static int
columns(struct sl_buf *b, const char *expr, const struct sl_names *names,
        struct sl_names *used)
{
	for (uint32_t i = 0; i < names->n; i++) {
		const char *n = names->v[i];
		bool taken = false;
		for (uint32_t k = 0; k < used->n && !taken; k++)
			taken = strcmp(used->v[k], n) == 0;
		if (taken || !fits("column", n))
			continue;
		if (sl_names_add(used, n) != 0 || sl_buf_puts(b, ", ") != 0 ||
		    member(b, expr, n) != 0 || sl_buf_puts(b, " AS ") != 0 ||
		    sl_sql_ident(b, n) != 0)
			return -1;
	}
	return 0;
}

/** Fill m->name and m->drop for view `view`. */
static int
view_start(struct mig *m, const char *view)
{
	start(m);
	if (sl_buf_printf(&m->name, "view %s", view) != 0 ||
	    sl_buf_puts(&m->drop, "DROP VIEW IF EXISTS ") != 0 ||
	    sl_sql_ident(&m->drop, view) != 0 ||
	    sl_buf_puts(&m->sql, "CREATE OR REPLACE VIEW ") != 0 ||
	    sl_sql_ident(&m->sql, view) != 0)
		return -1;
	return 0;
}

/** The view of a node type. */
static int
node_view(struct mig *m, const struct sl_schema_node *n)
{
	struct sl_buf view;
	sl_buf_create(&view, 4096);
	struct sl_names used = {0};
	int rc = sl_buf_printf(&view, "node_%s", n->type);
	if (rc == 0 && !fits("view", view.data)) {
		sl_buf_destroy(&view);
		return 0;
	}
	rc = rc || view_start(m, view.data) != 0;
	rc = rc || sl_names_add(&used, "_id") != 0 ||
	     sl_names_add(&used, "_labels") != 0;
	rc = rc ||
	     sl_buf_puts(&m->sql, " AS SELECT id AS _id, labels AS _labels") !=
	             0 ||
	     columns(&m->sql, "(key::jsonb)", &n->keys, &used) != 0 ||
	     columns(&m->sql, "props", &n->props, &used) != 0 ||
	     sl_buf_puts(&m->sql, " FROM node WHERE type = ") != 0 ||
	     literal(&m->sql, n->type) != 0;
	sl_buf_destroy(&view);
	sl_names_destroy(&used);
	return rc != 0 ? -1 : apply(m);
}

/** The view of a relationship type. */
static int
rel_view(struct mig *m, const struct sl_schema_rel *r)
{
	struct sl_buf view;
	sl_buf_create(&view, 4096);
	struct sl_names used = {0};
	int rc = sl_buf_printf(&view, "rel_%s", r->type);
	if (rc == 0 && !fits("view", view.data)) {
		sl_buf_destroy(&view);
		return 0;
	}
	rc = rc || view_start(m, view.data) != 0;
	static const char *const fixed[] = {
	        "_id",       "_from_id", "_to_id",  "_from_type",
	        "_from_key", "_to_type", "_to_key", NULL};
	for (int i = 0; fixed[i] != NULL && rc == 0; i++)
		rc = sl_names_add(&used, fixed[i]);
	rc = rc ||
	     sl_buf_puts(&m->sql,
	                 " AS SELECT r.id AS _id, r.from_id AS _from_id, "
	                 "r.to_id AS _to_id, f.type AS _from_type, "
	                 "f.key::jsonb AS _from_key, t.type AS _to_type, "
	                 "t.key::jsonb AS _to_key") != 0 ||
	     columns(&m->sql, "(r.key::jsonb)", &r->keys, &used) != 0 ||
	     columns(&m->sql, "r.props", &r->props, &used) != 0 ||
	     sl_buf_puts(&m->sql, " FROM rel AS r JOIN node AS f ON f.id = "
	                          "r.from_id JOIN node AS t ON t.id = "
	                          "r.to_id WHERE r.type = ") != 0 ||
	     literal(&m->sql, r->type) != 0;
	sl_buf_destroy(&view);
	sl_names_destroy(&used);
	return rc != 0 ? -1 : apply(m);
}

/** Every migration of `schema`, in the open transaction. */
static int
migrate_all(struct mig *m, const struct sl_schema *schema)
{
	int rc = sl_exec_script(
	        m->c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
	              "SET LOCAL standard_conforming_strings = on;"
	              "CREATE TABLE IF NOT EXISTS sluice_migrations("
	              " name text PRIMARY KEY, sql text NOT NULL,"
	              " applied_at timestamptz NOT NULL DEFAULT now())");
	if (rc != 0)
		sl_diag_wrap(sl_diag_code(), "starting the migrations");
	for (uint32_t i = 0; i < schema->n_nodes && rc == 0; i++) {
		const struct sl_schema_node *n = &schema->nodes[i];
		for (uint32_t k = 0; k < n->keys.n && rc == 0; k++)
			rc = index_one(m, "key", n->type, "(key::jsonb)",
			               n->keys.v[k]);
		for (uint32_t k = 0; k < n->indexes.n && rc == 0; k++)
			rc = index_one(m, "prop", n->type, "props",
			               n->indexes.v[k]);
		if (rc == 0)
			rc = node_view(m, n);
	}
	for (uint32_t i = 0; i < schema->n_rels && rc == 0; i++)
		rc = rel_view(m, &schema->rels[i]);
	return rc;
}

int
sl_pg_store_migrate(struct sl_pg_store *s, const struct sl_schema *schema,
                    uint32_t *applied, uint32_t *kept)
{
	*applied = *kept = 0;
	struct mig m = {.c = sl_pg_store_conn(s)};
	if (m.c == NULL)
		return -1;
	sl_buf_create(&m.name, 4096);
	sl_buf_create(&m.sql, MIGRATION_SQL_MAX);
	sl_buf_create(&m.drop, 4096);
	struct sl_tx tx;
	int rc = sl_tx_begin(m.c, &tx, NULL);
	if (rc == 0) {
		rc = migrate_all(&m, schema);
		if (rc == 0)
			rc = sl_tx_commit(&tx);
		else
			sl_tx_abandon(&tx);
	}
	if (rc != 0 && sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "out of memory writing migrations");
	if (rc == 0) {
		*applied = m.applied;
		*kept = m.kept;
	}
	sl_buf_destroy(&m.name);
	sl_buf_destroy(&m.sql);
	sl_buf_destroy(&m.drop);
	return rc;
}
