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
 * A type text met in the batch being counted and its entry: writes of one
 * interpretation share their type's bytes (a pipeline file's name), so
 * the address and length identify it while the batch lives.
 */
struct type_seen {
	/** The type's bytes (NULL: unused). */
	const char *s;
	/** Their length. */
	uint32_t len;
	/** Whether it is a relationship type. */
	bool rel;
	/** Its entry in the counts. */
	struct sl_graph_type_count *e;
};

/**
 * cached() when `type` is not in the cache: its entry, kept in cache slot
 * `t` when it is a string; or NULL without memory.
 */
static struct sl_graph_type_count *
cached_miss(struct sl_wstats *ws, struct type_seen *t,
            const struct sl_value *type, bool rel, uint32_t *hint)
{
	struct sl_graph_type_count *e = entry(ws, type, rel, hint);
	if (e != NULL && type->type == SL_VSTR)
		*t = (struct type_seen){type->u.s, type->len, rel, e};
	return e;
}

/**
 * The entry of write type `type` (`rel`: a relationship's), through the
 * batch's cache `seen` (inline: once per write), or NULL without memory.
 */
static inline struct sl_graph_type_count *
cached(struct sl_wstats *ws, struct type_seen *seen,
       const struct sl_value *type, bool rel, uint32_t *hint)
{
	uintptr_t h = (uintptr_t)type->u.s;
	struct type_seen *t =
	        &seen[(h ^ (h >> 7) ^ type->len) & (TYPE_CACHE - 1)];
	if (type->type == SL_VSTR && t->s == type->u.s && t->len == type->len &&
	    t->rel == rel)
		return t->e;
	return cached_miss(ws, t, type, rel, hint);
}

void
sl_wstats_batch(struct sl_wstats *ws, const struct sl_graph_batch *b,
                double seconds)
{
	sl_hist_observe(&ws->batch, seconds);
	ws->nodes += b->n_nodes;
	ws->rels += b->n_rels;
	uint32_t hint = 0;
	struct type_seen seen[TYPE_CACHE];
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < b->n_nodes; i++) {
		struct sl_graph_type_count *e =
		        cached(ws, seen, &b->nodes[i].type, false, &hint);
		if (e == NULL)
			return;
		e->upserted++;
	}
	for (uint32_t i = 0; i < b->n_rels; i++) {
		struct sl_graph_type_count *e =
		        cached(ws, seen, &b->rels[i].type, true, &hint);
		if (e == NULL)
			return;
		e->upserted++;
	}
}

void
sl_wstats_destroy(struct sl_wstats *ws)
{
	sl_free(ws->types);
	ws->types = NULL;
	ws->n_types = 0;
}
