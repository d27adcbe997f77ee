/*
 * sluice: the migrations a schema asks for, in a store's dialect (see
 * migrate.h).
 */
#include "migrate.h"

#include <stdio.h>
#include <string.h>

#include "sluice/db.h"
#include "sluice/log.h"

int
sl_mig_literal(struct sl_buf *b, const char *s)
{
	if (sl_buf_putc(b, '\'') != 0)
		return -1;
	for (; *s != '\0'; s++)
		if ((*s == '\'' && sl_buf_putc(b, '\'') != 0) ||
		    sl_buf_putc(b, *s) != 0)
			return -1;
	return sl_buf_putc(b, '\'');
}

/** Start a migration: empty its name, SQL and drop texts. */
static void
start(struct sl_mig *m)
{
	sl_buf_reset(&m->name);
	sl_buf_reset(&m->sql);
	sl_buf_reset(&m->drop);
}

/** The index on member `prop` of JSON column `col` for node type `type`. */
static int
index_one(const struct sl_mig_dialect *d, struct sl_mig *m, const char *what,
          const char *type, const char *col, const char *prop)
{
	if (!d->usable("index", prop))
		return 0;
	start(m);
	struct sl_buf ident;
	sl_buf_create(&ident, 4096);
	int rc = sl_buf_printf(&ident, "sluice_%s(%s.%s)", what, type, prop);
	rc = rc ||
	     (d->fit_index_name != NULL && d->fit_index_name(&ident) != 0);
	rc = rc || sl_buf_printf(&m->name, "%s index %s.%s", what, type, prop);
	rc = rc || sl_buf_puts(&m->sql, d->create_index) != 0 ||
	     sl_db_ident(&m->sql, ident.data) != 0 ||
	     sl_buf_puts(&m->sql, d->index_open) != 0 ||
	     d->member(&m->sql, col, prop) != 0 ||
	     sl_buf_puts(&m->sql, d->index_close) != 0 ||
	     sl_buf_puts(&m->sql, " WHERE type = ") != 0 ||
	     sl_mig_literal(&m->sql, type) != 0;
	rc = rc || sl_buf_puts(&m->drop, "DROP INDEX IF EXISTS ") != 0 ||
	     sl_db_ident(&m->drop, ident.data) != 0;
	sl_buf_destroy(&ident);
	if (rc != 0)
		return -1;
	return d->apply(d->ctx, m);
}

/**
 * Whether `name` may name a column in every dialect: not empty, as SQL
 * has no zero-length identifier (PostgreSQL refuses `""`; SQLite takes
 * it, but one store's views do not get a column the other's lack). Warns
 * if not.
 */
static bool
column_name(const char *name)
{
	if (name[0] != '\0')
		return true;
	sl_log_warn("migrations: a property named '' cannot name a view "
	            "column; it is left out");
	return false;
}

/**
 * Append ", MEMBER AS "name"" for each name not yet used as a column
 * (`used` collects them).
 */
static int
columns(const struct sl_mig_dialect *d, struct sl_buf *b, const char *col,
        const struct sl_names *names, struct sl_names *used)
{
	for (uint32_t i = 0; i < names->n; i++) {
		const char *n = names->v[i];
		bool taken = false;
		for (uint32_t k = 0; k < used->n && !taken; k++)
			taken = strcmp(used->v[k], n) == 0;
		if (taken || !column_name(n) || !d->usable("column", n))
			continue;
		if (sl_names_add(used, n) != 0 || sl_buf_puts(b, ", ") != 0 ||
		    d->member(b, col, n) != 0 || sl_buf_puts(b, " AS ") != 0 ||
		    sl_db_ident(b, n) != 0)
			return -1;
	}
	return 0;
}

/**
 * The view `prefix` + `type`: its own columns `fixed` (NULL-terminated,
 * selected by `select`), a column per key of `keycol` and property of
 * `propcol`, and `from` up to the type literal.
 */
static int
view(const struct sl_mig_dialect *d, struct sl_mig *m, const char *prefix,
     const char *type, const char *const *fixed, const char *select,
     const char *keycol, const struct sl_names *keys, const char *propcol,
     const struct sl_names *props, const char *from)
{
	struct sl_buf name;
	sl_buf_create(&name, 4096);
	if (sl_buf_printf(&name, "%s%s", prefix, type) != 0) {
		sl_buf_destroy(&name);
		return -1;
	}
	if (!d->usable("view", name.data)) {
		sl_buf_destroy(&name);
		return 0;
	}
	start(m);
	struct sl_names used = {0};
	int rc = sl_buf_printf(&m->name, "view %s", name.data);
	for (int i = 0; fixed[i] != NULL && rc == 0; i++)
		rc = sl_names_add(&used, fixed[i]);
	rc = rc || sl_buf_puts(&m->sql, d->create_view) != 0 ||
	     sl_db_ident(&m->sql, name.data) != 0 ||
	     sl_buf_puts(&m->sql, select) != 0 ||
	     columns(d, &m->sql, keycol, keys, &used) != 0 ||
	     columns(d, &m->sql, propcol, props, &used) != 0 ||
	     sl_buf_puts(&m->sql, from) != 0 ||
	     sl_mig_literal(&m->sql, type) != 0;
	rc = rc || sl_buf_puts(&m->drop, "DROP VIEW IF EXISTS ") != 0 ||
	     sl_db_ident(&m->drop, name.data) != 0;
	sl_buf_destroy(&name);
	sl_names_destroy(&used);
	return rc != 0 ? -1 : d->apply(d->ctx, m);
}

/** The view of a node type. */
static int
node_view(const struct sl_mig_dialect *d, struct sl_mig *m,
          const struct sl_schema_node *n)
{
	static const char *const fixed[] = {"_id", "_labels", NULL};
	return view(d, m, "node_", n->type, fixed,
	            " AS SELECT id AS _id, labels AS _labels", d->node_key,
	            &n->keys, "props", &n->props, " FROM node WHERE type = ");
}

/** The view of a relationship type. */
static int
rel_view(const struct sl_mig_dialect *d, struct sl_mig *m,
         const struct sl_schema_rel *r)
{
	/* The view's own columns: a property of one of these names gets no
	 * column of its own. */
	static const char *const fixed[] = {
	        "_id",       "_from_id", "_to_id",  "_from_type",
	        "_from_key", "_to_type", "_to_key", NULL};
	char select[256];
	snprintf(select, sizeof(select),
	         " AS SELECT r.id AS _id, r.from_id AS _from_id, r.to_id AS "
	         "_to_id, f.type AS _from_type, %s AS _from_key, t.type AS "
	         "_to_type, %s AS _to_key",
	         d->from_key, d->to_key);
	return view(d, m, "rel_", r->type, fixed, select, d->rel_key, &r->keys,
	            "r.props", &r->props,
	            " FROM rel AS r JOIN node AS f ON f.id = r.from_id JOIN "
	            "node AS t ON t.id = r.to_id WHERE r.type = ");
}

int
sl_mig_write_all(const struct sl_mig_dialect *d, const struct sl_schema *schema)
{
	struct sl_mig m;
	sl_buf_create(&m.name, 4096);
	sl_buf_create(&m.sql, SL_MIG_SQL_MAX);
	sl_buf_create(&m.drop, 4096);
	int rc = 0;
	for (uint32_t i = 0; i < schema->n_nodes && rc == 0; i++) {
		const struct sl_schema_node *n = &schema->nodes[i];
		for (uint32_t k = 0; k < n->keys.n && rc == 0; k++)
			rc = index_one(d, &m, "key", n->type, d->node_key,
			               n->keys.v[k]);
		for (uint32_t k = 0; k < n->indexes.n && rc == 0; k++)
			rc = index_one(d, &m, "prop", n->type, "props",
			               n->indexes.v[k]);
		if (rc == 0)
			rc = node_view(d, &m, n);
	}
	for (uint32_t i = 0; i < schema->n_rels && rc == 0; i++)
		rc = rel_view(d, &m, &schema->rels[i]);
	sl_buf_destroy(&m.name);
	sl_buf_destroy(&m.sql);
	sl_buf_destroy(&m.drop);
	return rc;
}
