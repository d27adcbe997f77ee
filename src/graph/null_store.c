/*
 * sluice: the null graph store ("null:"): every write is discarded (dry
 * runs, benchmarks). It deletes nothing, has no migrations and exports an
 * empty graph.
 */
#include <string.h>

#include "sluice/diag.h"
#include "sluice/graph.h"
#include "store.h"

/** What an open null store points to (it has no state). */
static char null_store;

/** Open "null:" (or "null"). */
static void *
null_open(const char *uri)
{
	if (strcmp(uri, "null:") != 0 && strcmp(uri, "null") != 0) {
		sl_diag_set(SL_EINVAL, "null: takes nothing after the colon");
		return NULL;
	}
	return &null_store;
}

/** Discard a batch. */
static int
null_write(void *store, const struct sl_graph_batch *b,
           struct sl_graph_counts *st)
{
	(void)store;
	(void)b;
	(void)st;
	return 0;
}

/** Delete nothing. */
static int
null_ttl(void *store, bool nodes, const char *type, const char *cutoff,
         uint64_t *deleted)
{
	(void)store;
	(void)nodes;
	(void)type;
	(void)cutoff;
	*deleted = 0;
	return 0;
}

/** Apply no migrations. */
static int
null_migrate(void *store, const struct sl_schema *schema, uint32_t *applied,
             uint32_t *kept)
{
	(void)store;
	(void)schema;
	*applied = *kept = 0;
	return 0;
}

/** Export an empty graph. */
static int
null_export(void *store, sl_export_fn fn, void *arg)
{
	(void)store;
	(void)fn;
	(void)arg;
	return 0;
}

/** Close (nothing to free). */
static int
null_close(void *store)
{
	(void)store;
	return 0;
}

/** URI schemes of the null store. */
static const char *const null_schemes[] = {"null:", "null", NULL};

const struct sl_graph_store_ops sl_store_null_ops = {
        .name = "null",
        .schemes = null_schemes,
        .usage = "null:",
        .caps = SL_STORE_TTL | SL_STORE_MIGRATE | SL_STORE_EXPORT,
        .batch_default = SL_GRAPH_BATCH_DEFAULT,
        .open = null_open,
        .write = null_write,
        .ttl = null_ttl,
        .migrate = null_migrate,
        .export_graph = null_export,
        .close = null_close,
};
