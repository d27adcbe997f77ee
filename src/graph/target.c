/*
 * sluice: graph targets by URI (see target.h).
 */
#include "target.h"

#include <stdio.h>
#include <string.h>

#include "pg_store.h"
#include "sluice/alloc.h"
#include "sluice/db.h"
#include "sluice/graph.h"
#include "sluice/diag.h"

/** Writes per SQLite transaction at most (see sl_sqlite_store_group). */
#define GROUP_OPS 250000

/** Seconds a SQLite transaction stays open at most. */
#define GROUP_SECS 2.0

/** Target kinds. */
enum target_kind {
	T_NULL,   /**< null: */
	T_SQLITE, /**< sqlite:PATH */
	T_PG,     /**< postgresql://... */
};

/** An open target. */
struct sl_target {
	/** What it is. */
	enum target_kind kind;
	/** The URI to show. */
	char name[512];
	/** T_SQLITE: the store (on a connection of the database layer). */
	struct sl_sqlite_store *store;
	/** T_PG: the store (used from tasks). */
	struct sl_pg_store *pg;
};

struct sl_target *
sl_target_open(const char *uri)
{
	struct sl_target *t = sl_calloc(1, sizeof(*t));
	if (t == NULL) {
		sl_diag_set(SL_EOOM, "out of memory opening a target");
		return NULL;
	}
	sl_uri_redact(uri, t->name, sizeof(t->name));
	if (strcmp(uri, "null:") == 0 || strcmp(uri, "null") == 0) {
		t->kind = T_NULL;
		return t;
	}
	if (strncmp(uri, "postgresql://", 13) == 0 ||
	    strncmp(uri, "postgres://", 11) == 0) {
		t->kind = T_PG;
		t->pg = sl_pg_store_open(uri);
		if (t->pg == NULL) {
			sl_diag_wrap(sl_diag_code(), "target %s", t->name);
			sl_free(t);
			return NULL;
		}
		return t;
	}
	if (strncmp(uri, "sqlite:", 7) != 0) {
		sl_diag_set(SL_EINVAL,
		            "target '%.200s': unknown kind of target (expected "
		            "sqlite:PATH, postgresql://... or null:)",
		            t->name);
		sl_free(t);
		return NULL;
	}
	t->kind = T_SQLITE;
	const char *path = uri + 7;
	/* sqlite:///abs/path and sqlite://rel are accepted too. */
	if (strncmp(path, "//", 2) == 0)
		path += 2;
	if (*path == '\0') {
		sl_diag_set(SL_EINVAL, "target '%.200s': no database path",
		            uri);
		sl_free(t);
		return NULL;
	}
	t->store = sl_sqlite_store_open(path);
	if (t->store == NULL) {
		sl_diag_wrap(sl_diag_code(), "target %s", t->name);
		sl_free(t);
		return NULL;
	}
	/* Commits of at most ~2 s of writes: far fewer pages rewritten. */
	sl_sqlite_store_group(t->store, GROUP_OPS, GROUP_SECS);
	return t;
}

const char *
sl_target_name(const struct sl_target *t)
{
	return t->name;
}

uint32_t
sl_target_batch_default(const struct sl_target *t)
{
	return t->kind == T_PG ? SL_GRAPH_BATCH_DEFAULT_PG
	                       : SL_GRAPH_BATCH_DEFAULT;
}

int
sl_target_write(struct sl_target *t, const struct sl_graph_batch *b,
                struct sl_write_stats *st)
{
	if (t->kind == T_NULL)
		return 0;
	if (t->kind == T_PG) {
		if (sl_pg_store_write(t->pg, b, st) != 0) {
			sl_diag_wrap(sl_diag_code(), "target %s", t->name);
			return -1;
		}
		return 0;
	}
	if (sl_sqlite_store_write(t->store, b, st) != 0) {
		sl_diag_wrap(sl_diag_code(), "target %s", t->name);
		return -1;
	}
	return 0;
}

int
sl_target_ttl(struct sl_target *t, bool nodes, const char *type,
              const char *cutoff, uint64_t *deleted)
{
	*deleted = 0;
	if (t->kind == T_NULL)
		return 0;
	if (t->kind == T_PG) {
		if (sl_pg_store_ttl(t->pg, nodes, type, cutoff, deleted) != 0) {
			sl_diag_wrap(sl_diag_code(), "target %s", t->name);
			return -1;
		}
		return 0;
	}
	if (sl_sqlite_store_ttl(t->store, nodes, type, cutoff, deleted) != 0) {
		sl_diag_wrap(sl_diag_code(), "target %s", t->name);
		return -1;
	}
	return 0;
}

int
sl_target_migrate(struct sl_target *t, const struct sl_schema *schema,
                  uint32_t *applied, uint32_t *kept)
{
	*applied = *kept = 0;
	if (t->kind == T_NULL)
		return 0;
	if (t->kind == T_PG) {
		if (sl_pg_store_migrate(t->pg, schema, applied, kept) != 0) {
			sl_diag_wrap(sl_diag_code(), "target %s", t->name);
			return -1;
		}
		return 0;
	}
	if (sl_sqlite_store_migrate(t->store, schema, applied, kept) != 0) {
		sl_diag_wrap(sl_diag_code(), "target %s", t->name);
		return -1;
	}
	return 0;
}

int
sl_target_export(struct sl_target *t, sl_export_fn fn, void *arg)
{
	if (t->kind == T_NULL)
		return 0;
	if (t->kind == T_PG) {
		if (sl_pg_store_export(t->pg, fn, arg) != 0) {
			sl_diag_wrap(sl_diag_code(), "target %s", t->name);
			return -1;
		}
		return 0;
	}
	if (sl_sqlite_store_export(t->store, fn, arg) != 0) {
		sl_diag_wrap(sl_diag_code(), "target %s", t->name);
		return -1;
	}
	return 0;
}

int
sl_target_close(struct sl_target *t)
{
	if (t == NULL)
		return 0;
	int rc = 0;
	if (t->kind == T_SQLITE) {
		rc = sl_sqlite_store_commit(t->store);
		if (rc != 0)
			sl_diag_wrap(sl_diag_code(), "target %s", t->name);
		sl_sqlite_store_close(t->store);
	}
	sl_pg_store_close(t->pg);
	sl_free(t);
	return rc;
}
