/*
 * sluice: plugin graph targets behind the graph-store seam (store.h).
 *
 * A plugin registers a target (struct sl_plugin_target, sluice/plugin.h)
 * with the plugin host (src/pipeline/plugin_host.h);
 * sl_graph_plugin_stores_register() gives each one an ops table of its
 * own here and registers it with sl_graph_store_register(), so target.c
 * resolves its URIs as it resolves the built-in stores'. A write batch
 * reaches the plugin as two arrays of values (node writes, relationship
 * writes; their form is in sluice/plugin.h), made in the store's scratch
 * arena and released after the call: the plugin never sees struct
 * sl_graph_batch. The plugin makes each batch durable in `write`, so the
 * ops have no `commit`, and the counts it reports are what it committed.
 * TTL, migrations, export and checkpoint positions are not offered (the
 * capability flags say so, and target.c names the store in the error).
 */
#include <stdio.h>
#include <string.h>

#include "pipeline/plugin_host.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "store.h"

/** A plugin target's kind of store. */
struct pkind {
	/** Its ops table (registered with target.c). */
	struct sl_graph_store_ops ops;
	/** Its schemes: the plugin's, NULL. */
	const char *schemes[2];
	/** The plugin's target. */
	const struct sl_plugin_target_kind *k;
};

/** The kinds made, one per plugin target. */
static struct pkind *kinds[SL_PLUGIN_TARGETS_MAX];
/** Number of `kinds`. */
static size_t n_kinds;

/** An open plugin store. */
struct pstore {
	/** The plugin's target. */
	const struct sl_plugin_target_kind *k;
	/** The plugin's store. */
	void *store;
	/** The values of one write batch. */
	struct sl_arena a;
};

/** Memory cap of one batch's values (as a write batch's own). */
#define PSTORE_MEM_MAX SL_GRAPH_BATCH_MEM_MAX

/** ops.open of every plugin store. */
static void *
pstore_open(const char *uri)
{
	const struct sl_plugin_target_kind *k = sl_plugin_target_find(uri);
	if (k == NULL) {
		sl_diag_set(SL_EINVAL, "no plugin target for this URI");
		return NULL;
	}
	struct pstore *ps = sl_calloc(1, sizeof(*ps));
	if (ps == NULL) {
		sl_diag_set(SL_EOOM, "out of memory opening a plugin target");
		return NULL;
	}
	ps->k = k;
	sl_arena_create(&ps->a, 65536, PSTORE_MEM_MAX);
	if (sl_plugin_target_open(k, uri, &ps->store) != 0) {
		sl_arena_destroy(&ps->a);
		sl_free(ps);
		return NULL;
	}
	return ps;
}

/** An object of `n` members named `keys` with values `vals`, in `a`. */
static int
object(struct sl_arena *a, const char *const *keys, const struct sl_value *vals,
       uint32_t n, struct sl_value *out)
{
	struct sl_member *m = sl_arena_alloc_aligned(
	        a, n * sizeof(*m), _Alignof(struct sl_member));
	if (m == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		m[i].key = keys[i];
		m[i].key_len = (uint32_t)strlen(keys[i]);
		m[i].val = vals[i];
	}
	*out = sl_object_ref(m, n);
	return 0;
}

/** {"type", "key"} of a relationship's end. */
static int
node_ref(struct sl_arena *a, const struct sl_node_ref *r, struct sl_value *out)
{
	static const char *const keys[] = {"type", "key"};
	struct sl_value v[2] = {r->type, r->key};
	return object(a, keys, v, 2, out);
}

/** A rule's name as plugin.h writes it. */
static struct sl_value
rule_text(const char *s)
{
	return sl_str_ref(s, (uint32_t)strlen(s));
}

/** ops.write of every plugin store. */
static int
pstore_write(void *store, const struct sl_graph_batch *b,
             struct sl_graph_counts *st)
{
	struct pstore *ps = store;
	sl_arena_reset(&ps->a);
	struct sl_value *nodes = sl_arena_alloc_aligned(
	        &ps->a, (b->n_nodes + 1) * sizeof(*nodes),
	        _Alignof(struct sl_value));
	struct sl_value *rels =
	        sl_arena_alloc_aligned(&ps->a, (b->n_rels + 1) * sizeof(*rels),
	                               _Alignof(struct sl_value));
	if (nodes == NULL || rels == NULL)
		return -1;
	static const char *const nkeys[] = {"type", "key", "labels", "props",
	                                    "rule"};
	static const char *const nrules[] = {"EAGER", "MATCH_ONLY", "FUZZY"};
	for (uint32_t i = 0; i < b->n_nodes; i++) {
		const struct sl_node_op *o = &b->nodes[i];
		struct sl_value v[5] = {o->type, o->key, o->labels, o->props,
		                        rule_text(nrules[o->rule])};
		if (v[2].type == SL_VNULL)
			v[2] = sl_array_ref(NULL, 0);
		if (object(&ps->a, nkeys, v, 5, &nodes[i]) != 0)
			return -1;
	}
	static const char *const rkeys[] = {"type", "from",  "to",
	                                    "key",  "props", "rule"};
	static const char *const rrules[] = {"EAGER", "MERGE_KEY", "CREATE"};
	for (uint32_t i = 0; i < b->n_rels; i++) {
		const struct sl_rel_op *o = &b->rels[i];
		struct sl_value v[6] = {o->type,   sl_null(),
		                        sl_null(), o->key,
		                        o->props,  rule_text(rrules[o->rule])};
		if (node_ref(&ps->a, &o->from, &v[1]) != 0 ||
		    node_ref(&ps->a, &o->to, &v[2]) != 0 ||
		    object(&ps->a, rkeys, v, 6, &rels[i]) != 0)
			return -1;
	}
	struct sl_value nv = sl_array_ref(nodes, b->n_nodes);
	struct sl_value rv = sl_array_ref(rels, b->n_rels);
	struct sl_plugin_write_counts c;
	int rc = sl_plugin_target_write(ps->k, ps->store, &nv, &rv, &ps->a, &c);
	sl_arena_reset(&ps->a);
	if (rc != 0)
		return -1;
	st->nodes_created += c.nodes_created;
	st->nodes_updated += c.nodes_updated;
	st->nodes_unmatched += c.nodes_unmatched;
	st->rels_created += c.rels_created;
	st->rels_updated += c.rels_updated;
	st->rels_skipped += c.rels_skipped;
	return 0;
}

/** ops.close of every plugin store. */
static int
pstore_close(void *store)
{
	struct pstore *ps = store;
	int rc = sl_plugin_target_close(ps->k, ps->store);
	sl_arena_destroy(&ps->a);
	sl_free(ps);
	return rc;
}

int
sl_graph_plugin_stores_register(void)
{
	for (size_t i = 0; i < sl_plugin_target_count(); i++) {
		const struct sl_plugin_target_kind *k = sl_plugin_target_at(i);
		bool known = false;
		for (size_t j = 0; j < n_kinds; j++)
			known |= kinds[j]->k == k;
		if (known)
			continue;
		struct pkind *pk = sl_calloc(1, sizeof(*pk));
		if (pk == NULL) {
			sl_diag_set(SL_EOOM, "out of memory");
			return -1;
		}
		pk->k = k;
		pk->schemes[0] = sl_plugin_target_scheme(k);
		pk->ops.name = sl_plugin_target_name(k);
		pk->ops.schemes = pk->schemes;
		pk->ops.usage = sl_plugin_target_usage(k);
		pk->ops.batch_default = 1000;
		pk->ops.open = pstore_open;
		pk->ops.write = pstore_write;
		pk->ops.close = pstore_close;
		if (sl_graph_store_register(&pk->ops) != 0) {
			sl_free(pk);
			return -1;
		}
		kinds[n_kinds++] = pk;
	}
	return 0;
}
