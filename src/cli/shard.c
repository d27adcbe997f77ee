/*
 * sluice: the record shard filter (see shard.h).
 */
#include "shard.h"

#include <string.h>

#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/batch.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/hash.h"
#include "sluice/jmespath.h"
#include "sluice/json.h"
#include "sluice/log.h"

/** Bytes of one key's canonical JSON text at most. */
#define KEY_TEXT_MAX ((size_t)64 << 20)

/** The shard step. */
struct shard_step {
	/** Common part. */
	struct sl_step base;
	/** The key expression. */
	struct sl_jmes *key;
	/** This process's shard, 1 to n. */
	uint32_t k;
	/** Number of shards. */
	uint32_t n;
	/** Whether a key that cannot be evaluated fails the run. */
	bool strict;
	/** Scratch memory of one key's evaluation (reset per record). */
	struct sl_arena scratch;
	/** The canonical JSON text of one key. */
	struct sl_buf text;
	/** Records kept (this shard's). */
	uint64_t kept;
	/** Records left to other shards. */
	uint64_t other;
	/** Records whose key was null. */
	uint64_t null_keys;
};

/**
 * The shard (1-based) of record `rec` from `o` into *shard; 0, or -1
 * with an error naming the record.
 */
static int
shard_of_record(struct shard_step *st, const struct sl_value *rec,
                const struct sl_origin *o, uint32_t *shard)
{
	char where[300];
	struct sl_value v;
	sl_arena_reset(&st->scratch);
	sl_buf_reset(&st->text);
	if (sl_jmes_eval(st->key, rec, &st->scratch, &v) != 0 ||
	    sl_json_write(&st->text, &v, SL_JSON_CANONICAL) != 0) {
		sl_diag_wrap(sl_diag_code(), "%s: shard key `%s`",
		             sl_origin_format(o, where, sizeof(where)),
		             sl_jmes_text(st->key));
		return -1;
	}
	if (v.type == SL_VNULL && st->null_keys++ == 0)
		sl_log_warn("step %s: %s: the shard key `%s` is null; every "
		            "record without a key goes to one shard",
		            st->base.name,
		            sl_origin_format(o, where, sizeof(where)),
		            sl_jmes_text(st->key));
	*shard = sl_shard_of(st->text.data, st->text.len, st->n) + 1;
	return 0;
}

/** Keep this shard's records of a batch and pass them on. */
static int
shard_process_batch(struct sl_step *s, struct sl_batch *in, struct sl_emit *out)
{
	struct shard_step *st = (struct shard_step *)s;
	if (in->kind != SL_BATCH_DATA)
		return sl_emit_batch(out, in);
	uint32_t kept = 0;
	for (uint32_t i = 0; i < in->count; i++) {
		uint32_t shard;
		if (shard_of_record(st, &in->records[i], &in->origins[i],
		                    &shard) != 0) {
			if (st->strict || sl_diag_code() == SL_EOOM) {
				sl_batch_put(in);
				return -1;
			}
			sl_step_skip_error(s);
			continue;
		}
		if (shard != st->k) {
			st->other++;
			continue;
		}
		in->records[kept] = in->records[i];
		in->origins[kept] = in->origins[i];
		kept++;
	}
	st->kept += kept;
	in->count = kept;
	if (kept == 0) {
		sl_batch_put(in);
		return 0;
	}
	return sl_emit_batch(out, in);
}

/** Free the step. */
static void
shard_destroy(struct sl_step *s)
{
	struct shard_step *st = (struct shard_step *)s;
	sl_jmes_delete(st->key);
	sl_arena_destroy(&st->scratch);
	sl_buf_destroy(&st->text);
	sl_free(st);
}

/** The shard step's callbacks. */
static const struct sl_step_ops shard_ops = {
        .type = "ShardFilter",
        .process_batch = shard_process_batch,
        .destroy = shard_destroy,
};

struct sl_step *
sl_shard_step_new(const char *expr, uint32_t k, uint32_t n, bool strict)
{
	struct shard_step *st = sl_calloc(1, sizeof(*st));
	if (st == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&st->base, &shard_ops);
	sl_arena_create(&st->scratch, 4096, SL_RECORD_MEM_MAX);
	sl_buf_create(&st->text, KEY_TEXT_MAX);
	st->k = k;
	st->n = n;
	st->strict = strict;
	st->key = sl_jmes_compile(expr, strlen(expr));
	if (st->key == NULL) {
		sl_diag_wrap(sl_diag_code(),
		             "--shard-key '%.200s': expected a JMESPath "
		             "expression",
		             expr);
		shard_destroy(&st->base);
		return NULL;
	}
	return &st->base;
}

bool
sl_shard_step_counts(const struct sl_step *s, uint64_t *kept, uint64_t *other,
                     uint64_t *null_keys)
{
	if (s == NULL || s->ops != &shard_ops)
		return false;
	const struct shard_step *st = (const struct shard_step *)s;
	*kept = st->kept;
	*other = st->other;
	*null_keys = st->null_keys;
	return true;
}
