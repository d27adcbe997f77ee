/*
 * sluice: the TimeToLiveConfigurationExtractor. It emits one record per
 * enabled configuration,
 *
 *   {"ttl": {"graph_object_type": "NODE", "object_type": "Airport",
 *            "expiry_in_hours": 24}}
 *
 * which a graph writer turns into a deletion of the nodes (with their
 * relationships) or relationships of that type whose last_ingested_at is
 * older than the expiry. Nodestream's `custom_query` is Cypher, which no
 * sluice target runs: it is refused at load.
 */
#include <string.h>

#include "args.h"
#include "builtins.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"

/** A TTL extractor. */
struct ttl_step {
	/** Common part. */
	struct sl_step base;
	/** The records (an array in `arena`). */
	struct sl_value records;
	/** Memory of the records. */
	struct sl_arena arena;
};

/** Emit the records. */
static int
ttl_drain(struct sl_step *s, struct sl_emit *out)
{
	struct ttl_step *t = (struct ttl_step *)s;
	for (uint32_t i = 0; i < t->records.len; i++) {
		sl_emit_set_origin(out, "ttl", (uint64_t)i + 1);
		if (sl_emit_copy(out, &t->records.u.items[i]) != 0)
			return -1;
	}
	return 0;
}

/** Free the step. */
static void
ttl_destroy(struct sl_step *s)
{
	struct ttl_step *t = (struct ttl_step *)s;
	sl_arena_destroy(&t->arena);
	sl_free(t);
}

/** The extractor's callbacks. */
static const struct sl_step_ops ttl_ops = {
        .type = "TimeToLiveConfigurationExtractor",
        .drain = ttl_drain,
        .destroy = ttl_destroy,
};

/** A number of hours from node `n` (a positive number). */
static int
hours(const struct sl_conf *n, const char *what, double *out)
{
	return sl_args_amount(n, what, "hours", out);
}

/** One record {"ttl": {...}} built in `a`. */
static int
ttl_record(struct sl_arena *a, const char *kind, const char *type,
           double expiry, struct sl_value *out)
{
	struct sl_member *m = sl_arena_alloc(a, 4 * sizeof(*m));
	if (m == NULL)
		return -1;
	struct sl_value t, k;
	if (sl_str_copy(a, type, strlen(type), &t) != 0 ||
	    sl_str_copy(a, kind, strlen(kind), &k) != 0)
		return -1;
	m[0] = (struct sl_member){"graph_object_type", 17, k};
	m[1] = (struct sl_member){"object_type", 11, t};
	m[2] = (struct sl_member){"expiry_in_hours", 15, sl_double(expiry)};
	m[3] = (struct sl_member){"ttl", 3, sl_object_ref(m, 3)};
	*out = sl_object_ref(&m[3], 1);
	return 0;
}

/** Build a TTL extractor. */
static struct sl_step *
ttl_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"graph_object_type",
	                                   "configurations",
	                                   "override_expiry_in_hours", NULL};
	static const char *const conf_keys[] = {
	        "object_type", "expiry_in_hours", "enabled",
	        "batch_size",  "custom_query",    NULL};
	const char *kind;
	const struct sl_conf *confs = sl_args_get(def, "configurations");
	if (sl_args_check(def, keys) != 0 ||
	    sl_args_str(def, "graph_object_type", NULL, &kind) != 0)
		return NULL;
	if (kind == NULL ||
	    (strcmp(kind, "NODE") != 0 && strcmp(kind, "RELATIONSHIP") != 0)) {
		sl_conf_error(
		        def->arguments != NULL ? def->arguments : def->node,
		        "graph_object_type", "expected NODE or RELATIONSHIP");
		return NULL;
	}
	if (confs == NULL || confs->kind != SL_CONF_SEQ) {
		sl_conf_error(confs != NULL ? confs : def->node,
		              "configurations",
		              "expected a list of {object_type, "
		              "expiry_in_hours}");
		return NULL;
	}
	double override = -1;
	const struct sl_conf *ov = sl_args_get(def, "override_expiry_in_hours");
	if (ov != NULL && hours(ov, "override_expiry_in_hours", &override) != 0)
		return NULL;
	struct ttl_step *t = sl_calloc(1, sizeof(*t));
	if (t == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&t->base, &ttl_ops);
	sl_arena_create(&t->arena, 4096, (size_t)16 << 20);
	struct sl_value *recs = sl_arena_alloc(
	        &t->arena, (confs->n + 1) * sizeof(struct sl_value));
	if (recs == NULL)
		goto fail;
	uint32_t n = 0;
	for (uint32_t i = 0; i < confs->n; i++) {
		const struct sl_conf *c = confs->items[i];
		if (c->kind != SL_CONF_MAP) {
			sl_conf_error(c, "configurations",
			              "expected a mapping with an object_type");
			goto fail;
		}
		if (sl_conf_check_keys(c, conf_keys, "configurations",
		                       "a TTL configuration") != 0)
			goto fail;
		const struct sl_conf *q = sl_conf_get(c, "custom_query");
		if (q != NULL && !sl_conf_is_null(q)) {
			sl_conf_error(
			        q, "custom_query",
			        "a custom query is Cypher, which sluice's "
			        "targets do not run; give object_type and "
			        "expiry_in_hours instead");
			goto fail;
		}
		const struct sl_conf *ot = sl_conf_get(c, "object_type");
		const struct sl_conf *ex = sl_conf_get(c, "expiry_in_hours");
		const struct sl_conf *en = sl_conf_get(c, "enabled");
		const char *type;
		double expiry = 24;
		bool enabled = true;
		if (ot == NULL) {
			sl_conf_error(
			        c, "configurations",
			        "a TTL configuration needs an object_type");
			goto fail;
		}
		if (sl_conf_str(ot, "object_type", &type) != 0 ||
		    (ex != NULL &&
		     hours(ex, "expiry_in_hours", &expiry) != 0) ||
		    (en != NULL && sl_conf_bool(en, "enabled", &enabled) != 0))
			goto fail;
		if (!enabled)
			continue;
		if (override >= 0)
			expiry = override;
		if (ttl_record(&t->arena, kind, type, expiry, &recs[n]) != 0)
			goto fail;
		n++;
	}
	t->records = sl_array_ref(recs, n);
	return &t->base;
fail:
	if (sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "out of memory for a step");
	ttl_destroy(&t->base);
	return NULL;
}

/** Implementation names. */
static const char *const ttl_names[] = {
        "ttl",
        "nodestream.pipeline.extractors:TimeToLiveConfigurationExtractor",
        "nodestream.pipeline.extractors.ttls:"
        "TimeToLiveConfigurationExtractor",
        NULL};

/** Factories. */
static const char *const ttl_factories[] = {"from_file_data", NULL};

const struct sl_step_type sl_builtin_ttl = {
        .names = ttl_names,
        .factories = ttl_factories,
        .factory_optional = true,
        .create = ttl_create,
        .summary = "emits time-to-live configurations; a graph writer "
                   "deletes what is older",
};
