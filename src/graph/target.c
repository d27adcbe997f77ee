/*
 * sluice: graph targets by URI (see target.h): the URI picks a kind of
 * store (store.h) from the list below, and every call is forwarded to it.
 */
#include "target.h"

#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/db.h"
#include "sluice/diag.h"

/** Most kinds of store registered at run time. */
#define EXTRA_MAX 8

/** The built-in kinds of store, in the order URIs are tried. */
static const struct sl_graph_store_ops *const builtin[] = {
        &sl_store_sqlite_ops,
        &sl_store_pg_ops,
        &sl_store_neo4j_ops,
        &sl_store_null_ops,
};

/** Kinds of store registered with sl_graph_store_register(). */
static const struct sl_graph_store_ops *extra[EXTRA_MAX];

/** Number of `extra` in use. */
static size_t n_extra;

/** An open target. */
struct sl_target {
	/** Its kind of store. */
	const struct sl_graph_store_ops *ops;
	/** The store. */
	void *store;
	/** The URI to show. */
	char name[512];
};

int
sl_graph_store_register(const struct sl_graph_store_ops *ops)
{
	if (n_extra == EXTRA_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "graph store '%s': at most %d stores can be "
		            "registered",
		            ops->name, EXTRA_MAX);
		return -1;
	}
	extra[n_extra++] = ops;
	return 0;
}

/** Number of kinds of store. */
static size_t
store_count(void)
{
	return sizeof(builtin) / sizeof(builtin[0]) + n_extra;
}

/** Kind of store `i` (0 <= i < store_count()). */
static const struct sl_graph_store_ops *
store_at(size_t i)
{
	size_t nb = sizeof(builtin) / sizeof(builtin[0]);
	return i < nb ? builtin[i] : extra[i - nb];
}

/**
 * Whether `uri` has scheme `scheme`: it starts with it, and a scheme that
 * does not end in ':' or '/' ("null") is the whole URI.
 */
static bool
scheme_is(const char *uri, const char *scheme)
{
	size_t n = strlen(scheme);
	if (n == 0 || strncmp(uri, scheme, n) != 0)
		return false;
	return scheme[n - 1] == ':' || scheme[n - 1] == '/' || uri[n] == '\0';
}

/** The kind of store that takes `uri`, or NULL. */
static const struct sl_graph_store_ops *
store_find(const char *uri)
{
	for (size_t i = 0; i < store_count(); i++) {
		const struct sl_graph_store_ops *ops = store_at(i);
		for (const char *const *s = ops->schemes; *s != NULL; s++)
			if (scheme_is(uri, *s))
				return ops;
	}
	return NULL;
}

/** Raise the error for a URI no store takes, listing the known ones. */
static void
unknown_scheme(const char *name)
{
	char known[256] = "";
	size_t n = store_count();
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(known);
		snprintf(known + len, sizeof(known) - len, "%s%s",
		         i == 0       ? ""
		         : i + 1 == n ? " or "
		                      : ", ",
		         store_at(i)->usage);
	}
	sl_diag_set(SL_EINVAL,
	            "target '%.200s': unknown kind of target (expected %s)",
	            name, known);
}

/** Raise the error for operation `op` the store of `t` lacks. -1. */
static int
lacking(const struct sl_target *t, const char *op)
{
	sl_diag_set(SL_EINVAL, "target %s: the %s store does not support %s",
	            t->name, t->ops->name, op);
	return -1;
}

/** Add the target's name to the current error when `rc` is not 0. */
static int
named(const struct sl_target *t, int rc)
{
	if (rc != 0)
		sl_diag_wrap(sl_diag_code(), "target %s", t->name);
	return rc;
}

/** Open `uri` for sl_target_open() or, when `readonly`, sl_target_open_ro(). */
static struct sl_target *
target_open(const char *uri, bool readonly)
{
	struct sl_target *t = sl_calloc(1, sizeof(*t));
	if (t == NULL) {
		sl_diag_set(SL_EOOM, "out of memory opening a target");
		return NULL;
	}
	sl_uri_redact(uri, t->name, sizeof(t->name));
	t->ops = store_find(uri);
	if (t->ops == NULL) {
		unknown_scheme(t->name);
		sl_free(t);
		return NULL;
	}
	t->store = readonly && t->ops->open_ro != NULL ? t->ops->open_ro(uri)
	                                               : t->ops->open(uri);
	if (t->store == NULL) {
		named(t, -1);
		sl_free(t);
		return NULL;
	}
	return t;
}

struct sl_target *
sl_target_open(const char *uri)
{
	return target_open(uri, false);
}

struct sl_target *
sl_target_open_ro(const char *uri)
{
	return target_open(uri, true);
}

const char *
sl_target_name(const struct sl_target *t)
{
	return t->name;
}

uint32_t
sl_target_batch_default(const struct sl_target *t)
{
	return t->ops->batch_default;
}

void
sl_target_check_args(const struct sl_target *t, unsigned *cannot,
                     const char **store)
{
	*cannot = t->ops->cannot;
	*store = t->ops->name;
}

int
sl_target_write(struct sl_target *t, const struct sl_graph_batch *b,
                struct sl_graph_counts *st)
{
	return named(t, t->ops->write(t->store, b, st));
}

void
sl_target_prepare(struct sl_target *t, const struct sl_graph_batch *b)
{
	if (t->ops->prepare != NULL)
		t->ops->prepare(t->store, b);
}

int
sl_target_commit(struct sl_target *t, struct sl_graph_counts *st)
{
	if (t->ops->commit == NULL)
		return 0;
	return named(t, t->ops->commit(t->store, st));
}

int
sl_target_ttl(struct sl_target *t, bool nodes, const char *type,
              const char *cutoff, uint64_t *deleted)
{
	*deleted = 0;
	if (!(t->ops->caps & SL_STORE_TTL) || t->ops->ttl == NULL)
		return lacking(t, "TTL deletion");
	return named(t, t->ops->ttl(t->store, nodes, type, cutoff, deleted));
}

int
sl_target_migrate(struct sl_target *t, const struct sl_schema *schema,
                  uint32_t *applied, uint32_t *kept)
{
	*applied = *kept = 0;
	if (!(t->ops->caps & SL_STORE_MIGRATE) || t->ops->migrate == NULL)
		return lacking(t, "migrate");
	return named(t, t->ops->migrate(t->store, schema, applied, kept));
}

int
sl_target_migrations(struct sl_target *t, const struct sl_schema *schema,
                     sl_mig_status_fn fn, void *arg)
{
	if (t->ops->migrations == NULL)
		return lacking(t, "listing migrations");
	return named(t, t->ops->migrations(t->store, schema, fn, arg));
}

int
sl_target_export(struct sl_target *t, sl_export_fn fn, void *arg)
{
	if (!(t->ops->caps & SL_STORE_EXPORT) || t->ops->export_graph == NULL)
		return lacking(t, "export");
	return named(t, t->ops->export_graph(t->store, fn, arg));
}

int
sl_target_progress_get(struct sl_target *t, const char *key, struct sl_buf *out)
{
	if (t->ops->progress_get == NULL || t->ops->progress_put == NULL)
		return 2;
	int rc = t->ops->progress_get(t->store, key, out);
	return rc < 0 ? named(t, rc) : rc;
}

int
sl_target_progress_put(struct sl_target *t, const char *key, const char *pos)
{
	return named(t, t->ops->progress_put(t->store, key, pos));
}

int
sl_target_rollback(struct sl_target *t)
{
	if (t->ops->rollback == NULL)
		return 0;
	return named(t, t->ops->rollback(t->store));
}

int
sl_target_close(struct sl_target *t)
{
	if (t == NULL)
		return 0;
	int rc = named(t, t->ops->close(t->store));
	sl_free(t);
	return rc;
}
