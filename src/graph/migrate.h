/*
 * sluice: the migrations a schema asks for (internal to graph), written
 * for a store's SQL dialect: per node type an index on each key property
 * and each additional index, and a view per node type (`node_<Type>`)
 * and per relationship type (`rel_<TYPE>`) with a column per key and
 * property. The SQLite store (sqlite_migrate.c) and the PostgreSQL store
 * (pg_migrate.c) apply them; the names, columns and order are the same.
 *
 * One generator (migrate.c, sl_mig_write_all()) works from the schema
 * (sluice/schema.h, filled by sl_schema_expand() from the compiled
 * interpretations) and writes each migration through a store's dialect,
 * struct sl_mig_dialect: the fragments that differ (how a JSON member is
 * read, which names are usable, the CREATE forms, the key columns) and an
 * apply() that records the migration in `sluice_migrations`, so running
 * again with the same schema changes nothing. sqlite_migrate.c reads members
 * with json_extract() paths; pg_migrate.c with `->>` on `key::jsonb` and
 * `props`, shared by the views and the partial indexes.
 *
 * DDL cannot take parameters, so type and property names are written into
 * the SQL: identifiers in double quotes (sl_db_ident()) and literals in
 * single quotes, each with its quote character doubled. A key or property
 * named "" gets no view column in any dialect (no identifier is empty;
 * PostgreSQL refuses `""`), with a warning.
 */
#ifndef SLUICE_GRAPH_MIGRATE_H
#define SLUICE_GRAPH_MIGRATE_H

#include <stdbool.h>

#include "sluice/buf.h"
#include "sluice/schema.h"

/** Longest SQL text of one migration. */
#define SL_MIG_SQL_MAX ((size_t)1 << 20)

/** One migration, as its dialect wrote it. */
struct sl_mig {
	/** Its name in sluice_migrations ("key index T.p", "view node_T"). */
	struct sl_buf name;
	/** The SQL that makes it. */
	struct sl_buf sql;
	/** The SQL that undoes an older version of it ("DROP VIEW ..."). */
	struct sl_buf drop;
};

/** How a store's SQL dialect writes migrations, and applies them. */
struct sl_mig_dialect {
	/** Append the text value of member `name` of JSON column `col`. */
	int (*member)(struct sl_buf *b, const char *col, const char *name);
	/**
	 * Whether `name` may name an index member, a column or a view
	 * (`what`: "index", "column", "view"); warns when not.
	 */
	bool (*usable)(const char *what, const char *name);
	/** Make an index name fit the dialect (NULL: any name fits). */
	int (*fit_index_name)(struct sl_buf *ident);
	/** "CREATE INDEX " and the like, up to the index name. */
	const char *create_index;
	/** What follows the index name, up to the member ("ON node("). */
	const char *index_open;
	/** What closes the indexed expression (")"). */
	const char *index_close;
	/** "CREATE VIEW " and the like, up to the view name. */
	const char *create_view;
	/** The node key column as JSON ("key"). */
	const char *node_key;
	/** A relationship's key column as JSON ("r.key"). */
	const char *rel_key;
	/** The source node's key in a relationship view ("f.key"). */
	const char *from_key;
	/** The target node's key in a relationship view ("t.key"). */
	const char *to_key;
	/** Apply `m` unless it is there already (counts it). 0, or -1. */
	int (*apply)(void *ctx, const struct sl_mig *m);
	/** apply()'s context. */
	void *ctx;
};

/**
 * Write every migration `schema` asks for in dialect `d` and apply each
 * (in a transaction the caller holds). 0, or -1 with an error.
 */
int sl_mig_write_all(const struct sl_mig_dialect *d,
                     const struct sl_schema *schema);

/** Append `s` as an SQL literal ('a''b'). 0, or -1. */
int sl_mig_literal(struct sl_buf *b, const char *s);

#endif /* SLUICE_GRAPH_MIGRATE_H */
