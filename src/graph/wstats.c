/*
 * sluice: a writer step's metrics (see wstats.h).
 */
#include "wstats.h"

#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

/** The entry counting `type` (a string value), or NULL without memory. */
static struct sl_graph_type_count *
entry(struct sl_wstats *ws, const struct sl_value *type, bool rel,
      uint32_t *hint)
{
	const char *s = type->type == SL_VSTR ? type->u.s : "";
	uint32_t len = type->type == SL_VSTR ? type->len : 0;
	if (len >= SL_GRAPH_TYPE_NAME_MAX)
		len = SL_GRAPH_TYPE_NAME_MAX - 1;
	if (ws->types == NULL) {
		ws->types = sl_calloc(SL_GRAPH_TYPES_COUNTED + 1,
		                      sizeof(*ws->types));
		if (ws->types == NULL) {
			sl_diag_clear(sl_diag_get());
			return NULL;
		}
	}
	/* Writes of one batch come grouped by type: try the last first. */
	struct sl_graph_type_count *e = &ws->types[*hint];
	if (*hint < ws->n_types && e->rel == rel && e->len == len &&
	    memcmp(e->type, s, len) == 0)
		return e;
	for (uint32_t i = 0; i < ws->n_types; i++) {
		e = &ws->types[i];
		if (e->rel == rel && e->len == len &&
		    memcmp(e->type, s, len) == 0) {
			*hint = i;
			return e;
		}
	}
	if (ws->n_types == SL_GRAPH_TYPES_COUNTED) {
		e = &ws->types[SL_GRAPH_TYPES_COUNTED];
		if (e->len == 0) {
			memcpy(e->type, "other", 6);
			e->len = 5;
		}
		return e;
	}
	*hint = ws->n_types;
	e = &ws->types[ws->n_types++];
	memcpy(e->type, s, len);
	e->type[len] = '\0';
	e->len = len;
	e->rel = rel;
	return e;
}

/** Entries of the per-batch cache of sl_wstats_batch() (a power of two). */
#define TYPE_CACHE 16

/**
 * A type text met in the batch being counted, its entry and the writes
 * of it counted here since. Writes of one interpretation often share
 * their type's bytes (a pipeline file's name), so an equal address and
 * length is a hit without a compare; copies (the Interpreter's output
 * holds some) land in the same slots, chosen by length and three bytes,
 * and match by their bytes; a type may be in either slot of a pair.
 * Node and relationship types have a cache each.
 */
struct type_seen {
	/** The type's bytes (NULL: unused). */
	const char *s;
	/** Their length. */
	uint32_t len;
	/** Writes of it not added to its entry yet. */
	uint32_t n;
	/** Its entry in the counts. */
	struct sl_graph_type_count *e;
};

/** Add the writes counted in cache entry `t` to its entry. */
static void
seen_flush(struct type_seen *t)
{
	if (t->e != NULL)
		t->e->upserted += t->n;
	t->n = 0;
}

/**
 * count() when `type` is not in the cache: the writes counted in cache
 * slot `t` go to their entry, and `type`'s entry is counted and kept in
 * `t` when it is a string. False without memory.
 */
static bool
count_miss(struct sl_wstats *ws, struct type_seen *t,
           const struct sl_value *type, bool rel, uint32_t *hint)
{
	struct sl_graph_type_count *e = entry(ws, type, rel, hint);
	if (e == NULL)
		return false;
	if (type->type != SL_VSTR) {
		e->upserted++;
		return true;
	}
	seen_flush(t);
	*t = (struct type_seen){type->u.s, type->len, 1, e};
	return true;
}

/**
 * Count a write of type `type` (`rel`: a relationship's) through cache
 * `seen` of its kind (inline: once per write). False without memory.
 */
static inline bool
count(struct sl_wstats *ws, struct type_seen *seen, const struct sl_value *type,
      bool rel, uint32_t *hint)
{
	if (type->type != SL_VSTR || type->len == 0)
		return count_miss(ws, &seen[0], type, rel, hint);
	const unsigned char *s = (const unsigned char *)type->u.s;
	uint32_t len = type->len;
	uint32_t h = (len * 7 ^ s[0] ^ (uint32_t)s[len / 2] * 3 ^
	              (uint32_t)s[len - 1] * 5) &
	             (TYPE_CACHE - 1);
	/* Two ways: a type and the one it collides with both stay. */
	for (uint32_t k = 0; k < 2; k++) {
		struct type_seen *t = &seen[h ^ k];
		if (t->len == len &&
		    (t->s == type->u.s ||
		     (t->s != NULL && memcmp(t->s, type->u.s, len) == 0))) {
			t->n++;
			return true;
		}
	}
	struct type_seen *t = &seen[h];
	if (t->s != NULL && seen[h ^ 1].s == NULL)
		t = &seen[h ^ 1];
	return count_miss(ws, t, type, rel, hint);
}

void
sl_wstats_batch(struct sl_wstats *ws, const struct sl_graph_batch *b,
                double seconds)
{
	sl_hist_observe(&ws->batch, seconds);
	ws->nodes += b->n_nodes;
	ws->rels += b->n_rels;
	uint32_t hint = 0;
	struct type_seen seen[2][TYPE_CACHE];
	memset(seen, 0, sizeof(seen));
	bool ok = true;
	for (uint32_t i = 0; ok && i < b->n_nodes; i++)
		ok = count(ws, seen[0], &b->nodes[i].type, false, &hint);
	for (uint32_t i = 0; ok && i < b->n_rels; i++)
		ok = count(ws, seen[1], &b->rels[i].type, true, &hint);
	for (uint32_t k = 0; k < 2; k++)
		for (uint32_t i = 0; i < TYPE_CACHE; i++)
			seen_flush(&seen[k][i]);
}

void
sl_wstats_destroy(struct sl_wstats *ws)
{
	sl_free(ws->types);
	ws->types = NULL;
	ws->n_types = 0;
}
