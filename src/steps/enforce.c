/*
 * sluice: Nodestream's SchemaEnforcer filter.
 *
 * Arguments, as Nodestream's from_file_data: `enforcement_policy`
 * ("enforce", the default, or "warn"), `inference_sample_size` (default
 * 1000) and `key`. A `key` names a schema kept in Nodestream's object
 * store; sluice has none, so a non-empty `key` fails the load.
 *
 * The first `inference_sample_size` records pass while the schema is
 * inferred from them (jschema.h). Each later record is validated: in
 * enforce mode one that fails is dropped and counted as skipped (its
 * origin and what failed are logged, the first 100 in full); in warn
 * mode it passes and the first 100 are logged as warnings, then one line
 * says the rest are only counted. As in Nodestream, the switch happens
 * when the record after the samples arrives, so record
 * inference_sample_size + 1 is the first one validated (with a size of 0
 * or less, the first, against an empty schema that accepts anything).
 *
 * Nodestream also keeps the inferred schema in its object store and, on
 * a later run, starts from it instead of inferring again; sluice infers
 * on every run. An unknown policy fails the load (Nodestream fails when
 * it switches modes).
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "builtins.h"
#include "jschema.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/log.h"

/** Invalid records whose warnings are logged in warn mode. */
#define WARNINGS_LOGGED 100

/** Longest validation message kept, in bytes. */
#define MESSAGE_MAX ((size_t)4 << 10)

/** A SchemaEnforcer. */
struct enforcer {
	/** Common part. */
	struct sl_step base;
	/** The schema, inferred from the first `sample_size` records. */
	struct sl_jschema *schema;
	/** Records to infer the schema from. */
	int64_t sample_size;
	/** Records inferred from so far. */
	int64_t collected;
	/** Whether invalid records pass (warn) instead of being dropped. */
	bool warn;
	/** Invalid records that passed in warn mode. */
	uint64_t warned;
	/** Scratch for validation messages. */
	struct sl_buf msgs;
};

/**
 * Validate record `i` of `b`: 1 to keep it, 0 to drop it (counted as
 * skipped), -1 on a fatal error.
 */
static int
enforce_one(struct enforcer *e, struct sl_batch *b, uint32_t i)
{
	sl_buf_reset(&e->msgs);
	int64_t n = sl_jschema_validate(e->schema, &b->records[i], &e->msgs);
	if (n < 0) {
		/* A message too long to hold is cut, not fatal. */
		if (sl_diag_code() != SL_ELIMIT)
			return -1;
		sl_diag_clear(sl_diag_get());
		n = 1;
	}
	if (n == 0)
		return 1;
	char where[256];
	sl_origin_format(&b->origins[i], where, sizeof(where));
	const char *what = e->msgs.data != NULL ? e->msgs.data : "";
	if (!e->warn) {
		sl_diag_set(SL_EINVAL,
		            "%s: schema validation failed, record dropped "
		            "(enforce): %s",
		            where, what);
		sl_step_skip(&e->base);
		return 0;
	}
	e->warned++;
	if (e->warned <= WARNINGS_LOGGED)
		sl_log_warn("step %s: %s: schema validation failed, record "
		            "kept (warn): %s",
		            e->base.name, where, what);
	if (e->warned == WARNINGS_LOGGED)
		sl_log_warn("step %s: further records that fail validation "
		            "are only counted",
		            e->base.name);
	return 1;
}

/** Infer from, or check, each record of a batch; pass the kept ones on. */
static int
enforcer_batch(struct sl_step *s, struct sl_batch *in, struct sl_emit *out)
{
	struct enforcer *e = (struct enforcer *)s;
	if (in->kind == SL_BATCH_FLUSH)
		return sl_emit_batch(out, in);
	uint32_t kept = 0;
	for (uint32_t i = 0; i < in->count; i++) {
		int keep = 1;
		if (e->collected < e->sample_size) {
			if (sl_jschema_add(e->schema, &in->records[i]) != 0) {
				sl_batch_put(in);
				return -1;
			}
			if (++e->collected == e->sample_size)
				sl_log_info(
				        "step %s: schema inferred from %lld "
				        "records; now %s",
				        s->name, (long long)e->collected,
				        e->warn ? "warning" : "enforcing");
		} else if ((keep = enforce_one(e, in, i)) < 0) {
			sl_batch_put(in);
			return -1;
		}
		if (keep) {
			in->records[kept] = in->records[i];
			in->origins[kept] = in->origins[i];
			kept++;
		}
	}
	in->count = kept;
	if (kept == 0) {
		sl_batch_put(in);
		return 0;
	}
	return sl_emit_batch(out, in);
}

/** Say how many records passed with a warning. */
static int
enforcer_finish(struct sl_step *s)
{
	struct enforcer *e = (struct enforcer *)s;
	if (e->warned > WARNINGS_LOGGED)
		sl_log_warn("step %s: %llu records failed validation and were "
		            "kept (warn)",
		            s->name, (unsigned long long)e->warned);
	return 0;
}

/** Free a SchemaEnforcer. */
static void
enforcer_destroy(struct sl_step *s)
{
	struct enforcer *e = (struct enforcer *)s;
	sl_jschema_delete(e->schema);
	sl_buf_destroy(&e->msgs);
	sl_free(e);
}

/** SchemaEnforcer's callbacks. */
static const struct sl_step_ops enforcer_ops = {
        .type = "SchemaEnforcer",
        .process_batch = enforcer_batch,
        .finish = enforcer_finish,
        .destroy = enforcer_destroy,
};

/** Build a SchemaEnforcer. */
static struct sl_step *
enforcer_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"enforcement_policy", "key",
	                                   "inference_sample_size", NULL};
	if (sl_args_check(def, keys) != 0)
		return NULL;
	const char *policy, *key;
	int64_t size;
	if (sl_args_str(def, "enforcement_policy", "enforce", &policy) != 0 ||
	    sl_args_str(def, "key", "", &key) != 0 ||
	    sl_args_int(def, "inference_sample_size", 1000, &size) != 0)
		return NULL;
	if (strcmp(policy, "enforce") != 0 && strcmp(policy, "warn") != 0) {
		sl_conf_error(sl_args_get(def, "enforcement_policy"),
		              "arguments.enforcement_policy",
		              "expected 'enforce' or 'warn', not '%s'", policy);
		return NULL;
	}
	if (key[0] != '\0') {
		sl_conf_error(sl_args_get(def, "key"), "arguments.key",
		              "a schema kept in Nodestream's object store "
		              "('%s') cannot be fetched: sluice has no object "
		              "store; only schema inference is available "
		              "(leave out `key`)",
		              key);
		return NULL;
	}
	struct enforcer *e = sl_calloc(1, sizeof(*e));
	if (e == NULL || (e->schema = sl_jschema_new()) == NULL) {
		sl_free(e);
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&e->base, &enforcer_ops);
	sl_buf_create(&e->msgs, MESSAGE_MAX);
	e->sample_size = size;
	e->warn = strcmp(policy, "warn") == 0;
	return &e->base;
}

/** Names of SchemaEnforcer. */
static const char *const enforcer_names[] = {
        "schema_enforcer", "nodestream.pipeline.filters:SchemaEnforcer", NULL};

/** The factory SchemaEnforcer takes (or none). */
static const char *const enforcer_factories[] = {"from_file_data", NULL};

const struct sl_step_type sl_builtin_schema_enforcer = {
        .names = enforcer_names,
        .factories = enforcer_factories,
        .factory_optional = true,
        .create = enforcer_create,
        .summary = "infer a JSON schema from the first "
                   "`inference_sample_size` records, then drop (or, with "
                   "`enforcement_policy: warn`, warn about) records that "
                   "do not match it (Nodestream's SchemaEnforcer)",
};
