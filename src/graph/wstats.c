/*
 * sluice: a writer step's metrics (see wstats.h).
 */
#include "wstats.h"

#include <stdbool.h>
#include <stdint.h>
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

/** Slots of the per-batch cache of types seen (a power of two). */
#define SEEN_SLOTS 16

/** A type text seen in a batch, by address, and its entry. */
struct seen {
	/** The text's address (the values of one type often share it). */
	const char *s;
	/** Its length. */
	uint32_t len;
	/** Whether it is a relationship type. */
	bool rel;
	/** Its entry in `types`. */
	struct sl_graph_type_count *e;
};

/**
 * The entry of `type`, looked up by the address of its text first: the
 * interpreter refers to one text for every write of a static type, so
 * most writes skip the comparisons of entry() (a batch's writes come in
 * the order of its ingestions, their types mixed).
 */
static struct sl_graph_type_count *
entry_seen(struct sl_wstats *ws, struct seen *cache,
           const struct sl_value *type, bool rel, uint32_t *hint)
{
	if (type->type != SL_VSTR)
		return entry(ws, type, rel, hint);
	uintptr_t a = (uintptr_t)type->u.s;
	struct seen *c =
	        &cache[((a >> 4) ^ (a >> 12) ^ rel) & (SEEN_SLOTS - 1)];
	if (c->e != NULL && c->s == type->u.s && c->len == type->len &&
	    c->rel == rel)
		return c->e;
	struct sl_graph_type_count *e = entry(ws, type, rel, hint);
	if (e != NULL)
		*c = (struct seen){type->u.s, type->len, rel, e};
	return e;
}

void
sl_wstats_batch(struct sl_wstats *ws, const struct sl_graph_batch *b,
                double seconds)
{
	sl_hist_observe(&ws->batch, seconds);
	ws->nodes += b->n_nodes;
	ws->rels += b->n_rels;
	uint32_t hint = 0;
	struct seen cache[SEEN_SLOTS] = {0};
	for (uint32_t i = 0; i < b->n_nodes; i++) {
		struct sl_graph_type_count *e =
		        entry_seen(ws, cache, &b->nodes[i].type, false, &hint);
		if (e == NULL)
			return;
		e->upserted++;
	}
	for (uint32_t i = 0; i < b->n_rels; i++) {
		struct sl_graph_type_count *e =
		        entry_seen(ws, cache, &b->rels[i].type, true, &hint);
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
