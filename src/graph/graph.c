/*
 * sluice: batching desired ingestions into node and relationship writes,
 * merging writes of the same identity (see graph.h).
 */
#include "graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/hash.h"
#include "sluice/json.h"

/** Arena chunk of a batch. */
#define BATCH_CHUNK ((size_t)256 << 10)

/** Longest identity text (type, keys) of one write. */
#define IDENT_MAX ((size_t)1 << 20)

/** One slot of the identity index. */
struct slot {
	/** Hash of the identity text; 0 for an empty slot. */
	uint64_t hash;
	/** The identity text (in the batch arena). */
	const char *ident;
	/** Its length. */
	uint32_t len;
	/** Index of the write in `nodes` or `rels`. */
	uint32_t idx;
};

/** The identity index of a batch. */
struct sl_graph_dedup {
	/** Open-addressing table (a power of two). */
	struct slot *slots;
	/** Number of slots. */
	uint32_t cap;
	/** Slots in use. */
	uint32_t used;
	/** Where identity texts are built. */
	struct sl_buf ident;
};

struct sl_graph_batch *
sl_graph_batch_new(void)
{
	struct sl_graph_batch *b = sl_calloc(1, sizeof(*b));
	if (b != NULL)
		b->dedup = sl_calloc(1, sizeof(*b->dedup));
	if (b == NULL || b->dedup == NULL) {
		sl_free(b);
		sl_diag_set(SL_EOOM, "out of memory for a write batch");
		return NULL;
	}
	sl_arena_create(&b->arena, BATCH_CHUNK, SL_GRAPH_BATCH_MEM_MAX);
	sl_buf_create(&b->dedup->ident, IDENT_MAX);
	return b;
}

void
sl_graph_batch_delete(struct sl_graph_batch *b)
{
	if (b == NULL)
		return;
	sl_free(b->nodes);
	sl_free(b->rels);
	sl_free(b->dedup->slots);
	sl_buf_destroy(&b->dedup->ident);
	sl_free(b->dedup);
	sl_arena_destroy(&b->arena);
	sl_free(b);
}

void
sl_graph_batch_reset(struct sl_graph_batch *b)
{
	b->n_nodes = b->n_rels = b->n_ingestions = 0;
	sl_arena_reset(&b->arena);
	if (b->dedup->slots != NULL)
		memset(b->dedup->slots, 0,
		       b->dedup->cap * sizeof(*b->dedup->slots));
	b->dedup->used = 0;
}

/* --- reading an ingestion ----------------------------------------------- */

/** Fail: `ing` is not a desired ingestion. */
static int
not_ingestion(const char *what)
{
	sl_diag_set(SL_EINVAL,
	            "expected a desired ingestion from an Interpreter: %s",
	            what);
	return -1;
}

/** Member `key` of object `o` of type `type`, or NULL. */
static const struct sl_value *
member(const struct sl_value *o, const char *key, enum sl_vtype type)
{
	const struct sl_value *v = sl_object_get_cstr(o, key);
	return v != NULL && v->type == type ? v : NULL;
}

/** Index of `s` (n bytes) in the NULL-terminated `names`, or -1. */
static int
name_index(const char *const *names, const struct sl_value *s)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == s->len &&
		    memcmp(names[i], s->u.s, s->len) == 0)
			return i;
	return -1;
}

/** qsort comparator of members by key bytes. */
static int
member_cmp(const void *x, const void *y)
{
	const struct sl_member *a = x, *b = y;
	uint32_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, n);
	return c != 0 ? c
	              : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/** Copy object `o` into the batch with its members sorted by key. */
static int
copy_sorted(struct sl_graph_batch *b, const struct sl_value *o,
            struct sl_value *out)
{
	if (sl_value_copy(&b->arena, o, out) != 0)
		return -1;
	if (out->len > 1)
		qsort(out->u.members, out->len, sizeof(struct sl_member),
		      member_cmp);
	return 0;
}

/* --- the identity index ------------------------------------------------- */

/** Grow the index to twice its size. */
static int
index_grow(struct sl_graph_dedup *d)
{
	uint32_t cap = d->cap ? d->cap * 2 : 1024;
	struct slot *s = sl_calloc(cap, sizeof(*s));
	if (s == NULL) {
		sl_diag_set(SL_EOOM, "out of memory indexing writes");
		return -1;
	}
	for (uint32_t i = 0; i < d->cap; i++) {
		if (d->slots[i].hash == 0)
			continue;
		uint32_t j = (uint32_t)d->slots[i].hash & (cap - 1);
		while (s[j].hash != 0)
			j = (j + 1) & (cap - 1);
		s[j] = d->slots[i];
	}
	sl_free(d->slots);
	d->slots = s;
	d->cap = cap;
	return 0;
}

/**
 * Find the identity in the ident buffer; when absent, add it for write
 * `idx`. *found says which. Returns 0, or -1.
 */
static int
index_find(struct sl_graph_batch *b, uint32_t idx, uint32_t *out, bool *found)
{
	struct sl_graph_dedup *d = b->dedup;
	if ((d->used + 1) * 2 > d->cap && index_grow(d) != 0)
		return -1;
	const char *text = d->ident.data;
	uint32_t len = (uint32_t)d->ident.len;
	uint64_t h = sl_hash64(text, len) | 1;
	uint32_t j = (uint32_t)h & (d->cap - 1);
	for (; d->slots[j].hash != 0; j = (j + 1) & (d->cap - 1)) {
		const struct slot *s = &d->slots[j];
		if (s->hash == h && s->len == len &&
		    memcmp(s->ident, text, len) == 0) {
			*out = s->idx;
			*found = true;
			return 0;
		}
	}
	char *copy = sl_arena_strndup(&b->arena, text, len);
	if (copy == NULL)
		return -1;
	d->slots[j] = (struct slot){h, copy, len, idx};
	d->used++;
	*out = idx;
	*found = false;
	return 0;
}

/** Start an identity text with kind `k`, rule `rule` and type `t`. */
static int
ident_start(struct sl_graph_batch *b, char k, int rule,
            const struct sl_value *t)
{
	struct sl_buf *id = &b->dedup->ident;
	sl_buf_reset(id);
	char head[2] = {k, (char)('0' + rule)};
	if (sl_buf_append(id, head, 2) != 0 ||
	    sl_buf_append(id, t->u.s, t->len) != 0 || sl_buf_putc(id, 0) != 0)
		return -1;
	return 0;
}

/** Append the canonical JSON of `v` to the identity text. */
static int
ident_json(struct sl_graph_batch *b, const struct sl_value *v)
{
	struct sl_buf *id = &b->dedup->ident;
	return sl_json_write(id, v, SL_JSON_CANONICAL | SL_JSON_INF_OVERFLOW) !=
	                               0 ||
	                       sl_buf_putc(id, 0) != 0
	               ? -1
	               : 0;
}

/* --- merging ------------------------------------------------------------ */

/** `a` updated with `b`'s members (b wins), built in the arena. */
static int
merge_objects(struct sl_arena *arena, const struct sl_value *a,
              const struct sl_value *b, struct sl_value *out)
{
	struct sl_member *m = sl_arena_alloc_aligned(
	        arena, (a->len + b->len + 1) * sizeof(*m),
	        _Alignof(struct sl_member));
	if (m == NULL)
		return -1;
	uint32_t n = 0;
	for (uint32_t i = 0; i < a->len; i++) {
		const struct sl_member *am = &a->u.members[i];
		if (sl_object_get(b, am->key, am->key_len) == NULL)
			m[n++] = *am;
	}
	for (uint32_t i = 0; i < b->len; i++)
		m[n++] = b->u.members[i];
	*out = sl_object_ref(m, n);
	return 0;
}

/** The union of string arrays `a` and `b`, built in the arena. */
static int
merge_labels(struct sl_arena *arena, const struct sl_value *a,
             const struct sl_value *b, struct sl_value *out)
{
	if (b->len == 0) {
		*out = *a;
		return 0;
	}
	struct sl_value *it = sl_arena_alloc_aligned(
	        arena, (a->len + b->len + 1) * sizeof(*it),
	        _Alignof(struct sl_value));
	if (it == NULL)
		return -1;
	uint32_t n = 0;
	for (uint32_t i = 0; i < a->len; i++)
		it[n++] = a->u.items[i];
	for (uint32_t i = 0; i < b->len; i++) {
		bool seen = false;
		for (uint32_t j = 0; j < n && !seen; j++)
			seen = sl_value_equal(&it[j], &b->u.items[i]);
		if (!seen)
			it[n++] = b->u.items[i];
	}
	*out = sl_array_ref(it, n);
	return 0;
}

/* --- adding writes ------------------------------------------------------ */

/** Room for one more write in `*v` (capacity `*cap`, `n` used). */
static int
reserve(void **v, uint32_t *cap, uint32_t n, size_t size)
{
	if (n < *cap)
		return 0;
	uint32_t c = *cap ? *cap * 2 : 256;
	void *p = sl_realloc(*v, (size_t)c * size);
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory batching writes");
		return -1;
	}
	*v = p;
	*cap = c;
	return 0;
}

/** A node of an ingestion, checked. */
struct node_in {
	/** Type. */
	const struct sl_value *type;
	/** Key (sorted, in the batch). */
	struct sl_value key;
	/** Its canonical JSON text (in the batch). */
	struct sl_value key_text;
	/** Labels (may be NULL). */
	const struct sl_value *labels;
	/** Properties (may be NULL). */
	const struct sl_value *props;
	/** Creation rule. */
	enum sl_node_rule rule;
};

/** Read and check node `n` of an ingestion. */
static int
node_read(struct sl_graph_batch *b, const struct sl_value *n,
          struct node_in *out)
{
	static const char *const rules[] = {"EAGER", "MATCH_ONLY", "FUZZY",
	                                    NULL};
	const struct sl_value *key = member(n, "key", SL_VOBJECT);
	const struct sl_value *rule = member(n, "rule", SL_VSTR);
	out->type = member(n, "type", SL_VSTR);
	out->labels = member(n, "labels", SL_VARRAY);
	out->props = member(n, "props", SL_VOBJECT);
	if (n->type != SL_VOBJECT || out->type == NULL || key == NULL ||
	    key->len == 0)
		return not_ingestion("a node needs a type and a key");
	int r = rule != NULL ? name_index(rules, rule) : 0;
	if (r < 0)
		return not_ingestion("unknown node creation rule");
	out->rule = (enum sl_node_rule)r;
	for (uint32_t i = 0; out->labels != NULL && i < out->labels->len; i++)
		if (out->labels->u.items[i].type != SL_VSTR)
			return not_ingestion("labels must be strings");
	if (copy_sorted(b, key, &out->key) != 0)
		return -1;
	/* The key's text, made once: identities and targets use it. The
	 * infinities are 1e999 and -1e999 in it, strict JSON that SQL
	 * stores' JSON functions read back (sl_graph_check() keeps them out
	 * of stores that cannot hold them). */
	struct sl_buf *t = &b->dedup->ident;
	sl_buf_reset(t);
	if (sl_json_write(t, &out->key,
	                  SL_JSON_CANONICAL | SL_JSON_INF_OVERFLOW) != 0)
		return -1;
	return sl_str_copy(&b->arena, t->data, t->len, &out->key_text);
}

/** Append node text `t` (a key's canonical JSON) to the identity text. */
static int
ident_text(struct sl_graph_batch *b, const struct sl_value *t)
{
	struct sl_buf *id = &b->dedup->ident;
	return sl_buf_append(id, t->u.s, t->len) != 0 || sl_buf_putc(id, 0) != 0
	               ? -1
	               : 0;
}

/** Add (or merge) the node write of `in`. */
static int
add_node(struct sl_graph_batch *b, const struct node_in *in)
{
	uint32_t idx;
	bool found;
	if (ident_start(b, 'N', (int)in->rule, in->type) != 0 ||
	    ident_text(b, &in->key_text) != 0 ||
	    index_find(b, b->n_nodes, &idx, &found) != 0)
		return -1;
	struct sl_value props = sl_object_ref(NULL, 0);
	struct sl_value labels = sl_array_ref(NULL, 0);
	if ((in->props != NULL &&
	     sl_value_copy(&b->arena, in->props, &props) != 0) ||
	    (in->labels != NULL &&
	     sl_value_copy(&b->arena, in->labels, &labels) != 0))
		return -1;
	if (found) {
		struct sl_node_op *op = &b->nodes[idx];
		return merge_objects(&b->arena, &op->props, &props,
		                     &op->props) != 0 ||
		                       merge_labels(&b->arena, &op->labels,
		                                    &labels, &op->labels) != 0
		               ? -1
		               : 0;
	}
	if (reserve((void **)&b->nodes, &b->cap_nodes, b->n_nodes,
	            sizeof(*b->nodes)) != 0)
		return -1;
	struct sl_node_op *op = &b->nodes[b->n_nodes++];
	op->key = in->key;
	op->key_text = in->key_text;
	op->props = props;
	op->labels = labels;
	op->rule = in->rule;
	return sl_value_copy(&b->arena, in->type, &op->type);
}

/** Add (or merge) relationship `r` of an ingestion whose source is `src`. */
static int
add_rel(struct sl_graph_batch *b, const struct node_in *src,
        const struct sl_value *r)
{
	static const char *const rules[] = {"EAGER", "MERGE_KEY", "CREATE",
	                                    NULL};
	const struct sl_value *type = member(r, "type", SL_VSTR);
	const struct sl_value *key = member(r, "key", SL_VOBJECT);
	const struct sl_value *props = member(r, "props", SL_VOBJECT);
	const struct sl_value *rule = member(r, "rule", SL_VSTR);
	const struct sl_value *outbound = member(r, "outbound", SL_VBOOL);
	const struct sl_value *node = sl_object_get_cstr(r, "node");
	if (r->type != SL_VOBJECT || type == NULL || node == NULL)
		return not_ingestion("a relationship needs a type and a node");
	int rr = rule != NULL ? name_index(rules, rule) : 0;
	if (rr < 0)
		return not_ingestion("unknown relationship creation rule");
	struct node_in rel;
	if (node_read(b, node, &rel) != 0 || add_node(b, &rel) != 0)
		return -1;
	bool out = outbound == NULL || outbound->u.b;
	const struct node_in *from = out ? src : &rel;
	const struct node_in *to = out ? &rel : src;
	struct sl_value k = sl_object_ref(NULL, 0);
	if (key != NULL && copy_sorted(b, key, &k) != 0)
		return -1;
	uint32_t idx = b->n_rels;
	bool found = false;
	/* CREATE ones too: Nodestream merges a flush's duplicates whatever
	 * the rule (its debouncer), so one CREATE is written per batch. */
	if (ident_start(b, 'R', rr, type) != 0 ||
	    ident_json(b, from->type) != 0 ||
	    ident_text(b, &from->key_text) != 0 ||
	    sl_buf_putc(&b->dedup->ident, from->rule == SL_NODE_FUZZY) != 0 ||
	    ident_json(b, to->type) != 0 || ident_text(b, &to->key_text) != 0 ||
	    sl_buf_putc(&b->dedup->ident, to->rule == SL_NODE_FUZZY) != 0 ||
	    ident_json(b, &k) != 0 ||
	    index_find(b, b->n_rels, &idx, &found) != 0)
		return -1;
	struct sl_value p = sl_object_ref(NULL, 0);
	if (props != NULL && sl_value_copy(&b->arena, props, &p) != 0)
		return -1;
	if (found) {
		struct sl_rel_op *op = &b->rels[idx];
		return merge_objects(&b->arena, &op->props, &p, &op->props);
	}
	if (reserve((void **)&b->rels, &b->cap_rels, b->n_rels,
	            sizeof(*b->rels)) != 0)
		return -1;
	struct sl_rel_op *op = &b->rels[b->n_rels++];
	memset(op, 0, sizeof(*op));
	op->key = k;
	op->props = p;
	op->rule = (enum sl_rel_rule)rr;
	op->from.key = from->key;
	op->from.key_text = from->key_text;
	op->from.fuzzy = from->rule == SL_NODE_FUZZY;
	op->to.key = to->key;
	op->to.key_text = to->key_text;
	op->to.fuzzy = to->rule == SL_NODE_FUZZY;
	if (sl_value_copy(&b->arena, type, &op->type) != 0 ||
	    sl_value_copy(&b->arena, from->type, &op->from.type) != 0 ||
	    sl_value_copy(&b->arena, to->type, &op->to.type) != 0)
		return -1;
	return 0;
}

int
sl_graph_batch_add(struct sl_graph_batch *b, const struct sl_value *ing)
{
	if (ing->type != SL_VOBJECT)
		return not_ingestion("the record is not an object");
	const struct sl_value *src = sl_object_get_cstr(ing, "source");
	const struct sl_value *rels = sl_object_get_cstr(ing, "rels");
	if (src == NULL || (rels != NULL && rels->type != SL_VARRAY))
		return not_ingestion("it has no source node");
	struct node_in s;
	if (node_read(b, src, &s) != 0 || add_node(b, &s) != 0)
		return -1;
	for (uint32_t i = 0; rels != NULL && i < rels->len; i++)
		if (add_rel(b, &s, &rels->u.items[i]) != 0)
			return -1;
	b->n_ingestions++;
	return 0;
}

/* --- what a store cannot hold ------------------------------------------ */

/** Longest place text (`source.props.name`) in a check's message. */
#define PLACE_MAX 200

/** Where sl_graph_check() is in the ingestion. */
struct place {
	/** The place text, NUL-terminated. */
	char text[PLACE_MAX];
	/** Its length. */
	size_t len;
};

/**
 * Append to `p` the name `s` (`n` bytes) after `sep` (".", or "" at the
 * start), control characters as \uXXXX, cut short with "..." when long.
 * Returns the previous length, to restore with `p->len = mark`.
 */
static size_t
place_push(struct place *p, const char *sep, const char *s, size_t n)
{
	size_t mark = p->len;
	size_t room = sizeof(p->text) - 1;
	size_t len = p->len;
	for (const char *c = sep; *c != '\0' && len < room; c++)
		p->text[len++] = *c;
	for (size_t i = 0; i < n && len < room; i++) {
		unsigned char c = (unsigned char)s[i];
		if (len + 10 >= room) {
			memcpy(p->text + len, "...", 3);
			len += 3;
			break;
		}
		if (c < 0x20) {
			len += (size_t)snprintf(p->text + len, room + 1 - len,
			                        "\\u%04x", c);
			continue;
		}
		p->text[len++] = (char)c;
	}
	p->text[len] = '\0';
	p->len = len;
	return mark;
}

/** Append "[i]" to `p`; returns the previous length. */
static size_t
place_index(struct place *p, uint32_t i)
{
	char idx[16];
	int n = snprintf(idx, sizeof(idx), "[%u]", i);
	return place_push(p, "", idx, (size_t)n);
}

/** Restore `p` to length `mark`. */
static void
place_pop(struct place *p, size_t mark)
{
	p->len = mark;
	p->text[mark] = '\0';
}

/** Fail: `store` cannot hold what `what` says is at `p`. */
static int
refuse(const char *store, const struct place *p, const char *what)
{
	sl_diag_set(SL_EINVAL, "%s cannot store %s (at %s)", store, what,
	            p->text);
	return -1;
}

/** Whether `n` bytes at `s` hold a NUL. */
static bool
has_nul(const char *s, size_t n)
{
	return n > 0 && memchr(s, '\0', n) != NULL;
}

/** Check a type, label or key name (a string value) at `p`. */
static int
check_name(const struct sl_value *v, unsigned cannot, const char *store,
           const struct place *p)
{
	if (v->type == SL_VSTR &&
	    (cannot & (SL_GRAPH_NO_NUL | SL_GRAPH_NO_NUL_NAME)) &&
	    has_nul(v->u.s, v->len))
		return refuse(store, p, "a name holding U+0000 (NUL)");
	return 0;
}

/**
 * Check value `v` at `p`, nested values too; `key`: it is (in) a key, so
 * its member names are key names.
 */
static int
check_value(const struct sl_value *v, unsigned cannot, bool key,
            const char *store, struct place *p)
{
	struct sl_value num;
	double d;
	switch ((enum sl_vtype)v->type) {
	case SL_VSTR:
		if ((cannot & SL_GRAPH_NO_NUL) && has_nul(v->u.s, v->len))
			return refuse(store, p,
			              "a string holding U+0000 (NUL)");
		return 0;
	case SL_VNUMBER:
		/* Integer text is written as it is, so it is finite; other
		 * number text is infinite only with an exponent or with more
		 * digits than a double's range. */
		if (!(cannot & SL_GRAPH_NO_INF) ||
		    ((v->len < 300 || memchr(v->u.s, '.', v->len) == NULL) &&
		     memchr(v->u.s, 'e', v->len) == NULL &&
		     memchr(v->u.s, 'E', v->len) == NULL))
			return 0;
		num = sl_value_number(*v);
		if (num.type != SL_VDOUBLE)
			return 0;
		d = num.u.d;
		break;
	case SL_VDOUBLE:
		d = v->u.d;
		break;
	case SL_VARRAY:
		for (uint32_t i = 0; i < v->len; i++) {
			size_t mark = place_index(p, i);
			if (check_value(&v->u.items[i], cannot, key, store,
			                p) != 0)
				return -1;
			place_pop(p, mark);
		}
		return 0;
	case SL_VOBJECT:
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_member *m = &v->u.members[i];
			size_t mark = place_push(p, ".", m->key, m->key_len);
			if (has_nul(m->key, m->key_len) &&
			    ((cannot & SL_GRAPH_NO_NUL) ||
			     (key && (cannot & SL_GRAPH_NO_NUL_NAME))))
				return refuse(store, p,
				              "a name holding U+0000 (NUL)");
			if (check_value(&m->val, cannot, key, store, p) != 0)
				return -1;
			place_pop(p, mark);
		}
		return 0;
	default:
		return 0;
	}
	if (isnan(d) && ((cannot & SL_GRAPH_NO_NAN) ||
	                 (key && (cannot & SL_GRAPH_NO_NAN_KEY))))
		return refuse(store, p,
		              key ? "NaN in a key" : "the number NaN");
	if (isinf(d) && (cannot & SL_GRAPH_NO_INF))
		return refuse(store, p,
		              d > 0 ? "the number Infinity"
		                    : "the number -Infinity");
	return 0;
}

/** Check node `n` (an ingestion's source or related node) at `p`. */
static int
check_node(const struct sl_value *n, unsigned cannot, const char *store,
           struct place *p)
{
	static const char *const parts[] = {"type", "key", "labels", "props"};
	for (size_t i = 0; i < 4; i++) {
		const struct sl_value *v = sl_object_get_cstr(n, parts[i]);
		if (v == NULL)
			continue;
		size_t mark = place_push(p, ".", parts[i], strlen(parts[i]));
		int rc = 0;
		if (i == 0) {
			rc = check_name(v, cannot, store, p);
		} else if (i == 2 && v->type == SL_VARRAY) {
			for (uint32_t j = 0; j < v->len && rc == 0; j++) {
				size_t m2 = place_index(p, j);
				rc = check_name(&v->u.items[j], cannot, store,
				                p);
				if (rc == 0)
					place_pop(p, m2);
			}
		} else {
			rc = check_value(v, cannot, i == 1, store, p);
		}
		if (rc != 0)
			return -1;
		place_pop(p, mark);
	}
	return 0;
}

int
sl_graph_check(const struct sl_value *ing, unsigned cannot, const char *store)
{
	if (cannot == 0 || ing->type != SL_VOBJECT)
		return 0;
	struct place p = {.len = 0};
	p.text[0] = '\0';
	const struct sl_value *src = sl_object_get_cstr(ing, "source");
	size_t mark = place_push(&p, "", "source", 6);
	if (src != NULL && check_node(src, cannot, store, &p) != 0)
		return -1;
	place_pop(&p, mark);
	const struct sl_value *rels = sl_object_get_cstr(ing, "rels");
	for (uint32_t i = 0;
	     rels != NULL && rels->type == SL_VARRAY && i < rels->len; i++) {
		const struct sl_value *r = &rels->u.items[i];
		(void)place_push(&p, "", "rels", 4);
		(void)place_index(&p, i);
		static const char *const parts[] = {"type", "key", "props"};
		for (size_t j = 0; j < 3; j++) {
			const struct sl_value *v =
			        sl_object_get_cstr(r, parts[j]);
			if (v == NULL)
				continue;
			size_t m2 =
			        place_push(&p, ".", parts[j], strlen(parts[j]));
			if (j == 0 ? check_name(v, cannot, store, &p) != 0
			           : check_value(v, cannot, j == 1, store,
			                         &p) != 0)
				return -1;
			place_pop(&p, m2);
		}
		const struct sl_value *node = sl_object_get_cstr(r, "node");
		size_t m3 = place_push(&p, ".", "node", 4);
		if (node != NULL && check_node(node, cannot, store, &p) != 0)
			return -1;
		place_pop(&p, m3);
		place_pop(&p, 0);
	}
	return 0;
}

/** Build a member of an object. */
static struct sl_member
line_member(const char *key, struct sl_value v)
{
	struct sl_member m = {
	        .key = key, .key_len = (uint32_t)strlen(key), .val = v};
	return m;
}

void
sl_graph_counts_add(struct sl_graph_counts *to, const struct sl_graph_counts *a)
{
	to->nodes_created += a->nodes_created;
	to->nodes_updated += a->nodes_updated;
	to->nodes_unmatched += a->nodes_unmatched;
	to->rels_created += a->rels_created;
	to->rels_updated += a->rels_updated;
	to->rels_skipped += a->rels_skipped;
}

void
sl_write_tally_commit(struct sl_write_tally *t)
{
	sl_graph_counts_add(&t->committed, &t->pending);
	t->pending = (struct sl_graph_counts){0};
}

void
sl_write_tally_rollback(struct sl_write_tally *t)
{
	t->pending = (struct sl_graph_counts){0};
}

void
sl_write_tally_report(struct sl_write_tally *t, struct sl_graph_counts *st)
{
	if (st != NULL)
		sl_graph_counts_add(st, &t->committed);
	t->committed = (struct sl_graph_counts){0};
}

int
sl_graph_line_node(struct sl_buf *line, struct sl_value type,
                   struct sl_value key, struct sl_value labels,
                   struct sl_value props)
{
	struct sl_member m[4] = {
	        line_member("key", key),
	        line_member("labels", labels),
	        line_member("node", type),
	        line_member("props", props),
	};
	struct sl_value obj = sl_object_ref(m, 4);
	sl_buf_reset(line);
	return sl_json_write(line, &obj, SL_JSON_CANONICAL);
}

int
sl_graph_line_rel(struct sl_buf *line, struct sl_value type,
                  struct sl_value from_type, struct sl_value from_key,
                  struct sl_value to_type, struct sl_value to_key,
                  struct sl_value key, struct sl_value props)
{
	struct sl_member from[2] = {line_member("key", from_key),
	                            line_member("node", from_type)};
	struct sl_member to[2] = {line_member("key", to_key),
	                          line_member("node", to_type)};
	struct sl_member m[5] = {
	        line_member("from", sl_object_ref(from, 2)),
	        line_member("key", key),
	        line_member("props", props),
	        line_member("rel", type),
	        line_member("to", sl_object_ref(to, 2)),
	};
	struct sl_value obj = sl_object_ref(m, 5);
	sl_buf_reset(line);
	return sl_json_write(line, &obj, SL_JSON_CANONICAL);
}
