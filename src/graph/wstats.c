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

/** Entries of the per-batch cache of types by bytes (a power of two). */
#define TYPE_CACHE 16

/** Entries of the per-batch cache of types by address, as a power of 2. */
#define ADDR_BITS 6

/** Entries of the per-batch cache of types by address. */
#define ADDR_CACHE (1 << ADDR_BITS)

/**
 * A type text met in the batch being counted and its entry, found by the
 * text's bytes: copies of a type's bytes (the Interpreter's output holds
 * some) land in the same slots, chosen by length and three bytes, and
 * match by their bytes; a type may be in either slot of a pair. Node and
 * relationship types have a cache each.
 */
struct type_seen {
	/** The type's bytes (NULL: unused). */
	const char *s;
	/** Their length. */
	uint32_t len;
	/** Its entry in the counts. */
	struct sl_graph_type_count *e;
};

/**
 * A type's address met in the batch being counted, its entry and the
 * writes of it counted here since. Writes of one interpretation share
 * their type's bytes (a pipeline file's name), so an equal address and
 * length is a hit without reading the text; a miss finds the entry by
 * the bytes (struct type_seen). Node and relationship types have a cache
 * each.
 */
struct addr_seen {
	/** The type's address (NULL: unused). */
	const char *s;
	/** Its length. */
	uint32_t len;
	/** Writes of it not added to its entry yet. */
	uint32_t n;
	/** Its entry in the counts. */
	struct sl_graph_type_count *e;
};

/** The caches of one kind of write (nodes or relationships). */
struct kind_seen {
	/** Types by address, with the writes counted. */
	struct addr_seen addr[ADDR_CACHE];
	/** Types by bytes. */
	struct type_seen bytes[TYPE_CACHE];
};

/** Add the writes counted in cache entry `t` to its entry. */
static void
seen_flush(struct addr_seen *t)
{
	if (t->e != NULL)
		t->e->upserted += t->n;
	t->n = 0;
}

/**
 * The entry of string `type` (not empty) through the cache by bytes of
 * `k` (entry() on a miss), or NULL without memory.
 */
static struct sl_graph_type_count *
by_bytes(struct sl_wstats *ws, struct kind_seen *k, const struct sl_value *type,
         bool rel, uint32_t *hint)
{
	const unsigned char *s = (const unsigned char *)type->u.s;
	uint32_t len = type->len;
	uint32_t h = (len * 7 ^ s[0] ^ (uint32_t)s[len / 2] * 3 ^
	              (uint32_t)s[len - 1] * 5) &
	             (TYPE_CACHE - 1);
	/* Two ways: a type and the one it collides with both stay. */
	for (uint32_t i = 0; i < 2; i++) {
		struct type_seen *t = &k->bytes[h ^ i];
		if (t->len == len && t->s != NULL &&
		    memcmp(t->s, type->u.s, len) == 0)
			return t->e;
	}
	struct sl_graph_type_count *e = entry(ws, type, rel, hint);
	if (e == NULL)
		return NULL;
	struct type_seen *t = &k->bytes[h];
	if (t->s != NULL && k->bytes[h ^ 1].s == NULL)
		t = &k->bytes[h ^ 1];
	*t = (struct type_seen){type->u.s, len, e};
	return e;
}

/**
 * count() when `type` is not in the cache by address: the writes counted
 * in its slot go to their entry, and the slot counts `type` from now on
 * when it is a string. False without memory.
 */
static bool
count_miss(struct sl_wstats *ws, struct kind_seen *k, struct addr_seen *t,
           const struct sl_value *type, bool rel, uint32_t *hint)
{
	if (type->type != SL_VSTR || type->len == 0) {
		struct sl_graph_type_count *e = entry(ws, type, rel, hint);
		if (e == NULL)
			return false;
		e->upserted++;
		return true;
	}
	struct sl_graph_type_count *e = by_bytes(ws, k, type, rel, hint);
	if (e == NULL)
		return false;
	seen_flush(t);
	*t = (struct addr_seen){type->u.s, type->len, 1, e};
	return true;
}

/**
 * Count a write of type `type` (`rel`: a relationship's) through the
 * caches `k` of its kind (inline: once per write). False without memory.
 */
static inline bool
count(struct sl_wstats *ws, struct kind_seen *k, const struct sl_value *type,
      bool rel, uint32_t *hint)
{
	/* The slot from the high bits of a product: type texts made one to
	 * an arena chunk share their low address bits, and two of them
	 * (PLAYS_FOR, HAS_SKILL: 32 KiB apart) took turns in one slot of
	 * the shifts and xors this replaced, twice a record. */
	uint64_t a = (uint64_t)(uintptr_t)type->u.s ^ type->len;
	struct addr_seen *t = &k->addr[(a * UINT64_C(0x9e3779b97f4a7c15)) >>
	                               (64 - ADDR_BITS)];
	if (t->s == type->u.s && t->len == type->len && type->type == SL_VSTR) {
		t->n++;
		return true;
	}
	return count_miss(ws, k, t, type, rel, hint);
}

void
sl_wstats_batch(struct sl_wstats *ws, const struct sl_graph_batch *b,
                double seconds)
{
	sl_hist_observe(&ws->batch, seconds);
	ws->nodes += b->n_nodes;
	ws->rels += b->n_rels;
	uint32_t hint = 0;
	struct kind_seen seen[2];
	memset(seen, 0, sizeof(seen));
	/* The writes through local pointers: a count stored is not taken
	 * to change the batch (an empty array may be NULL: no end made). */
	bool ok = true;
	if (b->n_nodes > 0) {
		const struct sl_node_op *n = b->nodes, *end = n + b->n_nodes;
		for (; ok && n < end; n++)
			ok = count(ws, &seen[0], &n->type, false, &hint);
	}
	if (b->n_rels > 0) {
		const struct sl_rel_op *r = b->rels, *end = r + b->n_rels;
		for (; ok && r < end; r++)
			ok = count(ws, &seen[1], &r->type, true, &hint);
	}
	for (uint32_t k = 0; k < 2; k++)
		for (uint32_t i = 0; i < ADDR_CACHE; i++)
			seen_flush(&seen[k].addr[i]);
}

void
sl_wstats_destroy(struct sl_wstats *ws)
{
	sl_free(ws->types);
	ws->types = NULL;
	ws->n_types = 0;
}
