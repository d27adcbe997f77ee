/*
 * sluice: the PostgreSQL store's migrations (see sl_store_pg_migrate() in
 * pg_store.h), written by migrate.h in PostgreSQL's dialect: JSON members
 * through `->>` on jsonb, so the views' columns and the partial indexes
 * share one expression. standard_conforming_strings is set on for the
 * transaction, so a backslash in a literal is an ordinary character.
 * Unlike SQLite's JSON paths, `->>` takes any member name, a double quote
 * included; names longer than PostgreSQL keeps are shortened (indexes)
 * or left out. The migrations table is read and written with parameters.
 */
#include <string.h>

#include "migrate.h"
#include "pg_store.h"
#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/diag.h"
#include "sluice/hash.h"
#include "sluice/log.h"
#include "sluice/schema.h"

/** Longest identifier PostgreSQL keeps (NAMEDATALEN - 1). */
#define IDENT_MAX 63

/** Bytes of a long index name kept before its hash. */
#define IDENT_PREFIX 46

/** Key of the advisory lock that serialises migrations. */
#define MIGRATE_LOCK "7362843215"

/** Migration state. */
struct mig {
	/** The store's connection. */
	struct sl_db_conn *c;
	/** The migration being applied (for messages). */
	const struct sl_mig *cur;
	/** Migrations applied. */
	uint32_t applied;
	/** Migrations already there. */
	uint32_t kept;
	/** Listing only: where each migration's state goes. */
	sl_mig_status_fn status;
	/** Its argument. */
	void *status_arg;
	/** Listing only: whether sluice_migrations exists. */
	bool have_table;
};

/** Append `EXPR ->> 'name'`: the member `name` of jsonb `expr` as text. */
static int
member(struct sl_buf *b, const char *expr, const char *name)
{
	return sl_buf_printf(b, "%s ->> ", expr) != 0 ? -1
	                                              : sl_mig_literal(b, name);
}

/**
 * Whether `name` fits in a PostgreSQL identifier (longer ones would be
 * cut short by the server, and could meet another); warns if not. Index
 * members are no identifiers, and index names are shortened instead.
 */
static bool
fits(const char *what, const char *name)
{
	if (strcmp(what, "index") == 0 || strlen(name) <= IDENT_MAX)
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
	if (sl_db_exec_script(m->c, sql) == 0)
		return 0;
	sl_diag_wrap(sl_diag_code(), "migration '%s'", m->cur->name.data);
	return -1;
}

/**
 * Whether migration `mg` is recorded (*found) and with its SQL (*same).
 * 0, or -1.
 */
static int
recorded(struct mig *m, const struct sl_mig *mg, bool *found, bool *same)
{
	struct sl_value name =
	        sl_str_ref(mg->name.data, (uint32_t)mg->name.len);
	struct sl_db_result *r = sl_db_query(
	        m->c, "SELECT sql FROM sluice_migrations WHERE name = $1", 1,
	        &name);
	if (r == NULL)
		return -1;
	*found = sl_db_result_rows(r) == 1;
	const struct sl_value *v = *found ? sl_db_result_get(r, 0, 0) : NULL;
	*same = v != NULL && v->type == SL_VSTR && v->len == mg->sql.len &&
	        memcmp(v->u.s, mg->sql.data, mg->sql.len) == 0;
	sl_db_result_free(r);
	return 0;
}

/** Apply migration `mg` unless it is there already (ctx: struct mig). */
static int
apply(void *ctx, const struct sl_mig *mg)
{
	struct mig *m = ctx;
	m->cur = mg;
	struct sl_value name =
	        sl_str_ref(mg->name.data, (uint32_t)mg->name.len);
	bool found, same;
	if (recorded(m, mg, &found, &same) != 0)
		return -1;
	if (same) {
		m->kept++;
		return 0;
	}
	if ((found && script(m, mg->drop.data) != 0) ||
	    script(m, mg->sql.data) != 0)
		return -1;
	struct sl_value args[2] = {
	        name, sl_str_ref(mg->sql.data, (uint32_t)mg->sql.len)};
	if (sl_db_exec(
	            m->c,
	            "INSERT INTO sluice_migrations(name, sql, applied_at) "
	            "VALUES ($1, $2, now()) ON CONFLICT (name) DO UPDATE SET "
	            "sql = excluded.sql, applied_at = excluded.applied_at",
	            2, args, NULL) != 0)
		return -1;
	m->applied++;
	sl_log_info("migrations: %s: applied %s", sl_db_conn_url(m->c),
	            mg->name.data);
	return 0;
}

/** Report migration `mg`'s state without applying it (ctx: struct mig). */
static int
report(void *ctx, const struct sl_mig *mg)
{
	struct mig *m = ctx;
	bool found = false, same = false;
	if (m->have_table && recorded(m, mg, &found, &same) != 0)
		return -1;
	return m->status(m->status_arg, mg->name.data, same) != 0 ? -1 : 0;
}

/** PostgreSQL's dialect of migrations, each handed to `each`. */
static struct sl_mig_dialect
dialect(int (*each)(void *ctx, const struct sl_mig *mg), struct mig *m)
{
	const struct sl_mig_dialect d = {
	        .member = member,
	        .usable = fits,
	        .fit_index_name = shorten,
	        .create_index = "CREATE INDEX IF NOT EXISTS ",
	        .index_open = " ON node ((",
	        .index_close = "))",
	        .create_view = "CREATE OR REPLACE VIEW ",
	        .node_key = "(key::jsonb)",
	        .rel_key = "(r.key::jsonb)",
	        .from_key = "f.key::jsonb",
	        .to_key = "t.key::jsonb",
	        .apply = each,
	        .ctx = m,
	};
	return d;
}

/** Every migration of `schema`, in the open transaction. */
static int
migrate_all(struct mig *m, const struct sl_schema *schema)
{
	const struct sl_mig_dialect d = dialect(apply, m);
	int rc = sl_db_exec_script(
	        m->c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
	              "SET LOCAL standard_conforming_strings = on;"
	              "CREATE TABLE IF NOT EXISTS sluice_migrations("
	              " name text PRIMARY KEY, sql text NOT NULL,"
	              " applied_at timestamptz NOT NULL DEFAULT now())");
	if (rc != 0) {
		sl_diag_wrap(sl_diag_code(), "starting the migrations");
		return -1;
	}
	return sl_mig_write_all(&d, schema);
}

int
sl_store_pg_migrate(struct sl_store_pg *s, const struct sl_schema *schema,
                    uint32_t *applied, uint32_t *kept)
{
	*applied = *kept = 0;
	struct mig m = {.c = sl_store_pg_conn(s)};
	if (m.c == NULL)
		return -1;
	struct sl_db_tx tx;
	int rc = sl_db_tx_begin(m.c, &tx, NULL);
	if (rc == 0) {
		rc = migrate_all(&m, schema);
		if (rc == 0)
			rc = sl_db_tx_commit(&tx);
		else
			sl_db_tx_abandon(&tx);
	}
	if (rc != 0 && sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "out of memory writing migrations");
	if (rc == 0) {
		*applied = m.applied;
		*kept = m.kept;
	}
	return rc;
}

int
sl_store_pg_migrations(struct sl_store_pg *s, const struct sl_schema *schema,
                       sl_mig_status_fn fn, void *arg)
{
	struct mig m = {
	        .c = sl_store_pg_conn(s), .status = fn, .status_arg = arg};
	if (m.c == NULL)
		return -1;
	struct sl_db_result *r = sl_db_query(
	        m.c, "SELECT to_regclass('sluice_migrations') IS NOT NULL", 0,
	        NULL);
	if (r == NULL)
		return -1;
	const struct sl_value *v =
	        sl_db_result_rows(r) == 1 ? sl_db_result_get(r, 0, 0) : NULL;
	m.have_table = v != NULL && v->type == SL_VBOOL && v->u.b;
	sl_db_result_free(r);
	const struct sl_mig_dialect d = dialect(report, &m);
	int rc = sl_mig_write_all(&d, schema);
	if (rc != 0 && sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "out of memory listing migrations");
	return rc;
}
