/*
 * sluice: the Neo4j graph store (see neo4j_store.h): buckets of writes
 * sent as UNWIND statements (cypher.h) over Bolt, in chunks, on lanes
 * that share a pool of connections.
 */
#include "neo4j_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/db.h"
#include "sluice/graph.h"
#include "sluice/diag.h"
#include "sluice/hash.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/schema.h"
#include "sluice/task.h"

/** Default rows per transaction. */
#define CHUNK_DEFAULT 1000
/** Largest chunk_size accepted. */
#define CHUNK_MAX 1000000
/** Default connections. */
#define CONNS_DEFAULT 4

/**
 * Rows of a phase per lane it takes before it takes another: a lane is a
 * connection (TLS, HELLO and its authentication), worth it for a share
 * this large, not for a small batch's few rows.
 */
#define LANE_MIN_ROWS 512
/** Cap of the memory of one plan or one chunk's rows. */
#define MEM_MAX ((size_t)1 << 30)
/** Most registry entries a store remembers having written. */
#define REGISTRY_MAX 4096

/* {{{ URI options */

/** Parse a boolean option value. 0, or -1. */
static int
parse_bool(const char *v, size_t n, bool *out)
{
	if ((n == 4 && memcmp(v, "true", 4) == 0) || (n == 1 && v[0] == '1')) {
		*out = true;
		return 0;
	}
	if ((n == 5 && memcmp(v, "false", 5) == 0) || (n == 1 && v[0] == '0')) {
		*out = false;
		return 0;
	}
	return -1;
}

/** Parse a positive integer option value up to `max`. 0, or -1. */
static int
parse_count(const char *v, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long x = 0;
	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (unsigned long)(v[i] - '0');
	}
	if (x == 0 || x > max)
		return -1;
	*out = x;
	return 0;
}

/**
 * Take parameter `p` (`n` bytes, "name=value") if it is one of the
 * store's: 1 when taken, 0 when not, -1 on a bad value.
 */
static int
take_param(const char *p, size_t n, struct sl_neo4j_opts *o)
{
	const char *eq = memchr(p, '=', n);
	if (eq == NULL)
		return 0;
	size_t kn = (size_t)(eq - p), vn = n - kn - 1;
	const char *v = eq + 1;
	unsigned long x = 0;
	int rc;
	if (kn == 10 && memcmp(p, "chunk_size", 10) == 0) {
		rc = parse_count(v, vn, CHUNK_MAX, &x);
		o->chunk = (uint32_t)x;
	} else if (kn == 11 && memcmp(p, "connections", 11) == 0) {
		rc = parse_count(v, vn, SL_NEO4J_CONNS_MAX, &x);
		o->conns = (unsigned)x;
	} else if (kn == 10 && memcmp(p, "enterprise", 10) == 0) {
		rc = parse_bool(v, vn, &o->enterprise);
	} else {
		return 0;
	}
	if (rc != 0) {
		sl_diag_set(
		        SL_EINVAL,
		        "bad value '%.*s' of URI parameter %.*s (chunk_size: "
		        "1..%d, connections: 1..%d, enterprise: true or "
		        "false)",
		        (int)(vn > 40 ? 40 : vn), v, (int)kn, p, CHUNK_MAX,
		        SL_NEO4J_CONNS_MAX);
		return -1;
	}
	return 1;
}

int
sl_neo4j_uri_split(const char *uri, char *out, size_t size,
                   struct sl_neo4j_opts *o)
{
	o->chunk = CHUNK_DEFAULT;
	o->enterprise = false;
	o->conns = CONNS_DEFAULT;
	size_t len = strlen(uri);
	const char *q = strchr(uri, '?');
	const char *frag = strchr(uri, '#');
	if (frag != NULL && q != NULL && frag < q)
		q = NULL;
	size_t base = q != NULL ? (size_t)(q - uri) : len;
	if (base >= size)
		goto long_uri;
	memcpy(out, uri, base);
	size_t w = base;
	out[w] = '\0';
	if (q == NULL)
		return 0;
	const char *end = frag != NULL ? frag : uri + len;
	bool first = true;
	for (const char *p = q + 1; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t n = amp != NULL ? (size_t)(amp - p) : (size_t)(end - p);
		int t = take_param(p, n, o);
		if (t < 0)
			return -1;
		if (t == 0 && n > 0) {
			if (w + n + 2 >= size)
				goto long_uri;
			out[w++] = first ? '?' : '&';
			memcpy(out + w, p, n);
			w += n;
			first = false;
		}
		p += n + (amp != NULL ? 1 : 0);
	}
	if (frag != NULL) {
		size_t n = strlen(frag);
		if (w + n >= size)
			goto long_uri;
		memcpy(out + w, frag, n);
		w += n;
	}
	out[w] = '\0';
	return 0;
long_uri:
	sl_diag_set(SL_ELIMIT, "the URI is longer than %zu bytes", size - 1);
	return -1;
}

/* }}} */
/* {{{ property values */

/** Kinds of list items Neo4j can store together. */
enum item_kind {
	K_NONE = 0, /**< no item yet */
	K_BOOL,     /**< booleans */
	K_STR,      /**< strings */
	K_INT,      /**< integers */
	K_FLOAT,    /**< floats (and integers among them) */
	K_BAD,      /**< not storable as a list property */
};

/** The kind of one list item (numbers read). */
static enum item_kind
kind_of(const struct sl_value *v)
{
	switch (v->type) {
	case SL_VBOOL:
		return K_BOOL;
	case SL_VSTR:
		return K_STR;
	case SL_VINT:
		return K_INT;
	case SL_VDOUBLE:
		return K_FLOAT;
	case SL_VNUMBER:
		return sl_value_number(*v).type == SL_VINT ? K_INT : K_FLOAT;
	default:
		return K_BAD;
	}
}

/** The canonical JSON text of `v` as a string in `a`. */
static int
as_json_text(struct sl_arena *a, const struct sl_value *v, struct sl_value *out)
{
	struct sl_buf b;
	sl_buf_create(&b, MEM_MAX);
	int rc = sl_json_write(&b, v, SL_JSON_CANONICAL);
	if (rc == 0)
		rc = sl_str_copy(a, b.data, b.len, out);
	sl_buf_destroy(&b);
	return rc;
}

int
sl_neo4j_prop(struct sl_arena *a, const struct sl_value *in,
              struct sl_value *out)
{
	switch (in->type) {
	case SL_VNUMBER:
		*out = sl_value_number(*in);
		return 0;
	case SL_VOBJECT:
		return as_json_text(a, in, out);
	case SL_VARRAY:
		break;
	default:
		*out = *in;
		return 0;
	}
	enum item_kind k = K_NONE;
	bool texts = false;
	for (uint32_t i = 0; i < in->len && k != K_BAD; i++) {
		enum item_kind ik = kind_of(&in->u.items[i]);
		texts = texts || in->u.items[i].type == SL_VNUMBER;
		if (k == K_NONE || k == ik)
			k = ik;
		else if ((k == K_INT || k == K_FLOAT) &&
		         (ik == K_INT || ik == K_FLOAT))
			k = K_FLOAT;
		else
			k = K_BAD;
	}
	if (k == K_BAD)
		return as_json_text(a, in, out);
	bool widen = false;
	for (uint32_t i = 0; i < in->len && k == K_FLOAT && !widen; i++)
		widen = kind_of(&in->u.items[i]) == K_INT;
	if (!texts && !widen) {
		*out = *in;
		return 0;
	}
	struct sl_value *items = sl_arena_alloc(a, in->len * sizeof(*items));
	if (items == NULL)
		return -1;
	for (uint32_t i = 0; i < in->len; i++) {
		struct sl_value v = sl_value_number(in->u.items[i]);
		items[i] = k == K_FLOAT && v.type == SL_VINT
		                   ? sl_double((double)v.u.i)
		                   : v;
	}
	*out = sl_array_ref(items, in->len);
	return 0;
}

/** Whether sl_neo4j_prop() keeps `v` as it is. */
static bool
prop_as_is(const struct sl_value *v)
{
	if (v->type == SL_VNUMBER || v->type == SL_VOBJECT)
		return false;
	if (v->type != SL_VARRAY)
		return true;
	enum item_kind k = K_NONE;
	for (uint32_t i = 0; i < v->len; i++) {
		if (v->u.items[i].type == SL_VNUMBER)
			return false;
		enum item_kind ik = kind_of(&v->u.items[i]);
		if (ik == K_BAD || (k != K_NONE && ik != k))
			return false;
		k = ik;
	}
	return true;
}

int
sl_neo4j_props(struct sl_arena *a, const struct sl_value *in,
               struct sl_value *out)
{
	if (in->type != SL_VOBJECT) {
		*out = sl_object_ref(NULL, 0);
		return 0;
	}
	uint32_t i = 0;
	while (i < in->len && prop_as_is(&in->u.members[i].val))
		i++;
	if (i == in->len) {
		*out = *in;
		return 0;
	}
	struct sl_member *m = sl_arena_alloc(a, in->len * sizeof(*m));
	if (m == NULL)
		return -1;
	memcpy(m, in->u.members, in->len * sizeof(*m));
	for (; i < in->len; i++)
		if (sl_neo4j_prop(a, &in->u.members[i].val, &m[i].val) != 0)
			return -1;
	*out = sl_object_ref(m, in->len);
	return 0;
}

/* }}} */
/* {{{ buckets */

/** A distinct write identity met while grouping, and its bucket. */
struct shape_slot {
	/** Hash of the identity text (never 0 in a used slot). */
	uint64_t hash;
	/** The identity text (in the plan's arena). */
	const char *id;
	/** Bytes of `id`. */
	uint32_t len;
	/** Its bucket's index in the plan. */
	uint32_t bucket;
};

/** An open-addressing table of the identities met, by hash. */
struct shape_table {
	/** The slots (a power of two of them). */
	struct shape_slot *slots;
	/** Number of slots. */
	uint32_t cap;
	/** Slots in use. */
	uint32_t used;
};

/** Double the table (from 64 slots). 0, or -1 with SL_EOOM. */
static int
shape_grow(struct shape_table *t)
{
	uint32_t cap = t->cap ? t->cap * 2 : 64;
	struct shape_slot *s = sl_calloc(cap, sizeof(*s));
	if (s == NULL) {
		sl_diag_set(SL_EOOM, "out of memory splitting a batch");
		return -1;
	}
	for (uint32_t i = 0; i < t->cap; i++) {
		if (t->slots[i].hash == 0)
			continue;
		uint32_t j = (uint32_t)t->slots[i].hash & (cap - 1);
		while (s[j].hash != 0)
			j = (j + 1) & (cap - 1);
		s[j] = t->slots[i];
	}
	sl_free(t->slots);
	t->slots = s;
	t->cap = cap;
	return 0;
}

/**
 * The slot of identity `id` (hash `h`): the one holding it, or the free
 * one where it goes (hash 0).
 */
static struct shape_slot *
shape_find(struct shape_table *t, const struct sl_buf *id, uint64_t h)
{
	uint32_t j = (uint32_t)h & (t->cap - 1);
	for (;; j = (j + 1) & (t->cap - 1)) {
		struct shape_slot *s = &t->slots[j];
		if (s->hash == 0 || (s->hash == h && s->len == id->len &&
		                     memcmp(s->id, id->data, id->len) == 0))
			return s;
	}
}

/** qsort() order of string values, bytewise. */
static int
str_cmp(const void *pa, const void *pb)
{
	const struct sl_value *a = pa, *b = pb;
	uint32_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->u.s, b->u.s, n);
	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

void
sl_neo4j_plan_create(struct sl_neo4j_plan *p)
{
	memset(p, 0, sizeof(*p));
	sl_arena_create(&p->arena, 0, MEM_MAX);
}

void
sl_neo4j_plan_destroy(struct sl_neo4j_plan *p)
{
	sl_arena_destroy(&p->arena);
	memset(p, 0, sizeof(*p));
}

/** Append `n` bytes at `s` to an identity, length first. */
static int
id_put(struct sl_buf *id, const char *s, uint32_t n)
{
	return sl_buf_append(id, &n, sizeof(n)) != 0 ||
	       sl_buf_append(id, s, n) != 0;
}

/** Append the member names of key object `key` to an identity. */
static int
id_keys(struct sl_buf *id, const struct sl_value *key)
{
	uint32_t n = key->type == SL_VOBJECT ? key->len : 0;
	if (sl_buf_append(id, &n, sizeof(n)) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (id_put(id, key->u.members[i].key,
		           key->u.members[i].key_len) != 0)
			return -1;
	return 0;
}

/**
 * The sorted labels of `labels` without repeats, in `a` (*n of them).
 * 0, or -1.
 */
static int
sorted_labels(struct sl_arena *a, const struct sl_value *labels,
              struct sl_value **out, uint32_t *n)
{
	*out = NULL;
	*n = 0;
	if (labels->type != SL_VARRAY || labels->len == 0)
		return 0;
	struct sl_value *v = sl_arena_alloc(a, labels->len * sizeof(*v));
	if (v == NULL)
		return -1;
	uint32_t k = 0;
	for (uint32_t i = 0; i < labels->len; i++)
		if (labels->u.items[i].type == SL_VSTR)
			v[k++] = labels->u.items[i];
	qsort(v, k, sizeof(*v), str_cmp);
	uint32_t w = 0;
	for (uint32_t i = 0; i < k; i++)
		if (w == 0 || str_cmp(&v[w - 1], &v[i]) != 0)
			v[w++] = v[i];
	*out = v;
	*n = w;
	return 0;
}

/** The key names of key object `key` as string values in `a`. */
static int
key_names(struct sl_arena *a, const struct sl_value *key,
          const struct sl_value **out, uint32_t *n)
{
	*out = NULL;
	*n = key->type == SL_VOBJECT ? key->len : 0;
	if (*n == 0)
		return 0;
	struct sl_value *v = sl_arena_alloc(a, *n * sizeof(*v));
	if (v == NULL)
		return -1;
	for (uint32_t i = 0; i < *n; i++)
		v[i] = sl_str_ref(key->u.members[i].key,
		                  key->u.members[i].key_len);
	*out = v;
	return 0;
}

/** Check one write's type and keys; -1 with SL_EINVAL naming it. */
static int
check_op(const char *what, uint32_t i, const struct sl_value *type,
         const struct sl_value *key, bool key_may_be_null)
{
	if (type->type == SL_VSTR && type->len > 0 &&
	    (key->type == SL_VOBJECT ||
	     (key_may_be_null && key->type == SL_VNULL)))
		return 0;
	sl_diag_set(SL_EINVAL,
	            "%s write %u: needs a non-empty string type and an object "
	            "key",
	            what, i);
	return -1;
}

/** The identity of node write `op`: rule, type, key names, labels. */
static int
node_id(struct sl_buf *id, struct sl_arena *a, const struct sl_node_op *op)
{
	struct sl_value *labels;
	uint32_t n;
	if (sorted_labels(a, &op->labels, &labels, &n) != 0)
		return -1;
	char rule = (char)('0' + op->rule);
	if (sl_buf_append(id, "N", 1) != 0 || sl_buf_append(id, &rule, 1) ||
	    id_put(id, op->type.u.s, op->type.len) != 0 ||
	    id_keys(id, &op->key) != 0 || sl_buf_append(id, &n, sizeof(n)))
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (id_put(id, labels[i].u.s, labels[i].len) != 0)
			return -1;
	return 0;
}

/** Append one end of a relationship to an identity. */
static int
end_id(struct sl_buf *id, const struct sl_node_ref *e)
{
	char fz = e->fuzzy ? 'F' : 'E';
	return id_put(id, e->type.u.s, e->type.len) != 0 ||
	       sl_buf_append(id, &fz, 1) != 0 || id_keys(id, &e->key) != 0;
}

/** The identity of relationship write `op`. */
static int
rel_id(struct sl_buf *id, const struct sl_rel_op *op)
{
	char rule = (char)('0' + op->rule);
	return sl_buf_append(id, "R", 1) != 0 ||
	       sl_buf_append(id, &rule, 1) != 0 ||
	       id_put(id, op->type.u.s, op->type.len) != 0 ||
	       id_keys(id, &op->key) != 0 || end_id(id, &op->from) != 0 ||
	       end_id(id, &op->to) != 0;
}

/** Fill bucket `bk` of node write `op`. */
static int
node_bucket(struct sl_arena *a, struct sl_neo4j_bucket *bk,
            const struct sl_node_op *op)
{
	struct sl_value *labels;
	bk->rel = false;
	bk->node.type = op->type;
	bk->node.rule = op->rule;
	if (key_names(a, &op->key, &bk->node.keys, &bk->node.n_keys) != 0 ||
	    sorted_labels(a, &op->labels, &labels, &bk->node.n_labels) != 0)
		return -1;
	bk->node.labels = labels;
	return 0;
}

/** Fill end `e` of a relationship bucket from `ref`. */
static int
end_bucket(struct sl_arena *a, struct sl_cy_end *e,
           const struct sl_node_ref *ref)
{
	e->type = ref->type;
	e->fuzzy = ref->fuzzy;
	return key_names(a, &ref->key, &e->keys, &e->n_keys);
}

/** Fill bucket `bk` of relationship write `op`. */
static int
rel_bucket(struct sl_arena *a, struct sl_neo4j_bucket *bk,
           const struct sl_rel_op *op)
{
	bk->rel = true;
	bk->shape.type = op->type;
	bk->shape.rule = op->rule;
	return key_names(a, &op->key, &bk->shape.keys, &bk->shape.n_keys) !=
	               0 ||
	       end_bucket(a, &bk->shape.from, &op->from) != 0 ||
	       end_bucket(a, &bk->shape.to, &op->to) != 0;
}

/**
 * Group `n` writes of one kind (`rels`) into buckets appended to `p`, in
 * the order their shapes first appear; each bucket keeps batch order.
 * 0, or -1.
 */
static int
group(struct sl_neo4j_plan *p, const struct sl_graph_batch *b, bool rels,
      uint32_t n, uint32_t cap)
{
	if (n == 0)
		return 0;
	uint32_t first = p->n;
	uint32_t *bucket_of = sl_malloc(n * sizeof(*bucket_of));
	uint32_t *ops = sl_arena_alloc(&p->arena, n * sizeof(*ops));
	struct shape_table t = {0};
	struct sl_buf id;
	sl_buf_create(&id, MEM_MAX);
	int rc = bucket_of == NULL || ops == NULL || shape_grow(&t) != 0 ? -1
	                                                                 : 0;
	if (bucket_of == NULL)
		sl_diag_set(SL_EOOM, "out of memory splitting a batch");
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		sl_buf_reset(&id);
		if (rels) {
			const struct sl_rel_op *op = &b->rels[i];
			rc = check_op("relationship", i, &op->type, &op->key,
			              true) ||
			     check_op("relationship start", i, &op->from.type,
			              &op->from.key, false) ||
			     check_op("relationship end", i, &op->to.type,
			              &op->to.key, false) ||
			     rel_id(&id, op);
		} else {
			const struct sl_node_op *op = &b->nodes[i];
			rc = check_op("node", i, &op->type, &op->key, false) ||
			     node_id(&id, &p->arena, op);
		}
		if (rc != 0)
			break;
		uint64_t h = sl_hash64(id.data, id.len) | 1;
		struct shape_slot *slot = shape_find(&t, &id, h);
		uint32_t bucket = slot->bucket;
		if (slot->hash == 0) {
			if (p->n == cap) {
				sl_diag_set(SL_ELIMIT, "too many buckets");
				rc = -1;
				break;
			}
			char *copy = sl_arena_alloc(&p->arena, id.len + 1);
			if (copy == NULL) {
				rc = -1;
				break;
			}
			memcpy(copy, id.data, id.len);
			bucket = p->n;
			*slot = (struct shape_slot){h, copy, (uint32_t)id.len,
			                            bucket};
			struct sl_neo4j_bucket *bk = &p->buckets[p->n++];
			memset(bk, 0, sizeof(*bk));
			rc = rels ? rel_bucket(&p->arena, bk, &b->rels[i])
			          : node_bucket(&p->arena, bk, &b->nodes[i]);
			/* The slot moves when the table grows. */
			if (rc == 0 && ++t.used * 2 > t.cap)
				rc = shape_grow(&t);
		}
		if (rc == 0) {
			bucket_of[i] = bucket;
			p->buckets[bucket].n++;
		}
	}
	sl_buf_destroy(&id);
	sl_free(t.slots);
	if (rc == 0) {
		/* Lay the buckets' ops out one after another, in batch order.
		 */
		uint32_t at = 0;
		for (uint32_t k = first; k < p->n; k++) {
			p->buckets[k].ops = &ops[at];
			at += p->buckets[k].n;
			p->buckets[k].n = 0;
		}
		for (uint32_t i = 0; i < n; i++) {
			struct sl_neo4j_bucket *bk = &p->buckets[bucket_of[i]];
			bk->ops[bk->n++] = i;
		}
	}
	sl_free(bucket_of);
	return rc;
}

int
sl_neo4j_plan_make(struct sl_neo4j_plan *p, const struct sl_graph_batch *b)
{
	sl_arena_reset(&p->arena);
	p->buckets = NULL;
	p->n = p->n_node = 0;
	uint32_t cap = b->n_nodes + b->n_rels;
	if (cap == 0)
		return 0;
	p->buckets = sl_arena_alloc(&p->arena, cap * sizeof(*p->buckets));
	if (p->buckets == NULL)
		return -1;
	if (group(p, b, false, b->n_nodes, cap) != 0)
		return -1;
	p->n_node = p->n;
	return group(p, b, true, b->n_rels, cap);
}

/* }}} */
/* {{{ the store */

/** One lane: a task's connection and scratch while writing buckets. */
struct lane {
	/** The store. */
	struct sl_store_neo4j *s;
	/** Lane number (for messages). */
	unsigned no;
	/** Its connection from the pool, or NULL. */
	struct sl_db_conn *c;
	/** Memory of the current chunk's rows. */
	struct sl_arena rows;
	/** The current bucket's statement. */
	struct sl_buf stmt;
	/**
	 * Counts of this lane: of its open transaction (pending), and of the
	 * chunks it committed this phase (reported by phase_run(), also when
	 * the phase fails).
	 */
	struct sl_write_tally tally;
	/** Commit token of its last transaction that recorded one, or "". */
	char token[48];
	/** Whether that transaction may have committed unseen. */
	bool token_pending;
	/** The counts of that transaction, if it did. */
	struct sl_graph_counts token_st;
};

/** The store. */
struct sl_store_neo4j {
	/** The URI for the driver (with its password; wiped at close). */
	char *uri;
	/** The URI to show. */
	char shown[512];
	/** Its options. */
	struct sl_neo4j_opts o;
	/** Seconds a chunk keeps retrying. */
	double retry;
	/** The connections. */
	struct sl_db_pool *pool;
	/** Random prefix of this store's commit tokens. */
	char token_prefix[24];
	/** Commit tokens made. */
	uint64_t tokens;
	/** Commits made (for the fault hook). */
	uint64_t commits;
	/** The commit whose reply is lost (test hook), or 0. */
	uint64_t fault_lose_commit;
	/** The current batch split into buckets. */
	struct sl_neo4j_plan plan;
	/** Registry entries written (identity texts, owned). */
	char **registered;
	/** Number of `registered`. */
	uint32_t n_registered;
	/** The lanes. */
	struct lane lanes[SL_NEO4J_CONNS_MAX];
};

/** One phase's shared state: the buckets left and the first failure. */
struct phase {
	/** The store. */
	struct sl_store_neo4j *s;
	/** The batch. */
	const struct sl_graph_batch *b;
	/** Next bucket to take. */
	uint32_t next;
	/** One past the phase's last bucket. */
	uint32_t end;
	/** Whether a lane failed (the others stop taking buckets). */
	bool failed;
};

/** A lane and its phase, as a task's argument. */
struct lane_arg {
	/** The lane. */
	struct lane *l;
	/** The phase. */
	struct phase *ph;
};

/** Give the lane's connection back to the pool. */
static void
lane_release(struct lane *l)
{
	if (l->c != NULL)
		sl_db_pool_release(l->c);
	l->c = NULL;
}

/** Whether the current error is a Neo4j error of class `code`. */
static bool
error_has(const char *code)
{
	for (const struct sl_error *e = sl_diag_last(); e != NULL; e = e->cause)
		if (strstr(e->msg, code) != NULL)
			return true;
	return false;
}

/**
 * Whether a failed attempt is worth another: the connection is lost or
 * was never had, or the server said Neo.TransientError (a deadlock, a
 * leader switch), but not when the transaction was terminated.
 */
static bool
retryable(struct lane *l)
{
	if (l->c == NULL || !sl_db_conn_ok(l->c))
		return sl_diag_code() == SL_EIO ||
		       sl_diag_code() == SL_ETIMEDOUT || l->c != NULL;
	if (error_has("Neo.ClientError."))
		return false;
	return error_has("Neo.TransientError.") &&
	       !error_has("Neo.TransientError.Transaction.Terminated") &&
	       !error_has("Neo.TransientError.Transaction.LockClientStopped");
}

/**
 * Run `once(l, arg)` until it succeeds, retrying with backoff while
 * retryable() says so, for up to the store's retry time. `what` names the
 * work in messages. 0, or -1.
 */
static int
with_retry(struct lane *l, int (*once)(struct lane *l, void *arg), void *arg,
           const char *what)
{
	struct sl_store_neo4j *s = l->s;
	double until = sl_clock() + s->retry, pause = 0.1;
	for (int attempt = 1;; attempt++) {
		if (l->c == NULL)
			l->c = sl_db_pool_acquire(s->pool, -1);
		if (l->c != NULL && once(l, arg) == 0)
			return 0;
		if (!retryable(l))
			return -1;
		if (sl_task_is_cancelled() || sl_clock() + pause > until) {
			sl_diag_wrap(sl_diag_code(),
			             "%s: %s gave up after %d attempts",
			             s->shown, what, attempt);
			return -1;
		}
		char msg[600];
		sl_error_format(sl_diag_last(), msg, sizeof(msg));
		sl_log_warn("%s: lane %u: %s: %s; again in %.1f s", s->shown,
		            l->no, what, msg, pause);
		sl_diag_clear(sl_diag_get());
		if (l->c != NULL && !sl_db_conn_ok(l->c))
			lane_release(l);
		if (sl_sleep(pause) != 0)
			return -1;
		pause = pause * 2 > 5 ? 5 : pause * 2;
	}
}

/** A string member for an object under construction. */
static struct sl_member
member(const char *key, struct sl_value v)
{
	return (struct sl_member){
	        .key = key, .key_len = (uint32_t)strlen(key), .val = v};
}

/** A value of a C string (not copied). */
static struct sl_value
cstr(const char *s)
{
	return sl_str_ref(s, (uint32_t)strlen(s));
}

/**
 * The parameter of a chunk: {"rows": [...]} with rows ops[0..n) of
 * bucket `bk` laid out as cypher.h says, built in the lane's arena.
 */
static int
chunk_rows(struct lane *l, const struct sl_graph_batch *b,
           const struct sl_neo4j_bucket *bk, const uint32_t *ops, uint32_t n,
           struct sl_value *param)
{
	struct sl_arena *a = &l->rows;
	sl_arena_reset(a);
	struct sl_value *rows = sl_arena_alloc(a, n * sizeof(*rows));
	struct sl_member *top = sl_arena_alloc(a, sizeof(*top));
	if (rows == NULL || top == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nm = bk->rel ? 5 : 3;
		struct sl_member *m = sl_arena_alloc(a, nm * sizeof(*m));
		if (m == NULL)
			return -1;
		struct sl_value k, p, f, t;
		if (bk->rel) {
			const struct sl_rel_op *op = &b->rels[ops[i]];
			if (sl_neo4j_props(a, &op->key, &k) != 0 ||
			    sl_neo4j_props(a, &op->props, &p) != 0 ||
			    sl_neo4j_props(a, &op->from.key, &f) != 0 ||
			    sl_neo4j_props(a, &op->to.key, &t) != 0)
				return -1;
			m[3] = member("f", f);
			m[4] = member("t", t);
		} else {
			const struct sl_node_op *op = &b->nodes[ops[i]];
			if (sl_neo4j_props(a, &op->key, &k) != 0 ||
			    sl_neo4j_props(a, &op->props, &p) != 0)
				return -1;
		}
		m[0] = member("i", sl_int(i));
		m[1] = member("k", k);
		m[2] = member("p", p);
		rows[i] = sl_object_ref(m, nm);
	}
	top[0] = member("rows", sl_array_ref(rows, n));
	*param = sl_object_ref(top, 1);
	return 0;
}

/** An integer column of row 0 by name, or `dflt`. */
static uint64_t
col_count(const struct sl_db_result *r, const char *name, uint64_t dflt)
{
	int c = sl_db_result_col(r, name);
	if (c < 0 || sl_db_result_rows(r) == 0)
		return dflt;
	const struct sl_value *v = sl_db_result_get(r, 0, (size_t)c);
	return v->type == SL_VINT && v->u.i > 0 ? (uint64_t)v->u.i : 0;
}

/** A summary counter, 0 when absent. */
static uint64_t
stat_of(const struct sl_db_result *r, const char *name)
{
	int64_t v = sl_db_result_stat(r, name);
	return v > 0 ? (uint64_t)v : 0;
}

/** Counts of one chunk of `n` rows of `bk` from its result. */
static void
chunk_counts(const struct sl_neo4j_bucket *bk, const struct sl_db_result *r,
             uint32_t n, struct sl_graph_counts *st)
{
	memset(st, 0, sizeof(*st));
	uint64_t matches = col_count(r, "matches", 0);
	uint64_t writes = col_count(r, "writes", matches);
	if (writes > n)
		writes = n;
	if (!bk->rel) {
		uint64_t created = stat_of(r, "nodes-created");
		st->nodes_created = created;
		st->nodes_updated = matches > created ? matches - created : 0;
		st->nodes_unmatched = n - writes;
		return;
	}
	uint64_t created = stat_of(r, "relationships-created");
	st->rels_created = created;
	st->rels_updated = matches > created ? matches - created : 0;
	st->rels_skipped = n - writes;
}

/** Run `cypher` with a {"token": token} parameter; the result or NULL. */
static struct sl_db_result *
token_query(struct lane *l, const char *cypher, const char *token)
{
	struct sl_member m = member("token", cstr(token));
	struct sl_value param = sl_object_ref(&m, 1);
	return sl_db_query(l->c, cypher, 1, &param);
}

/** One chunk: the bucket, its rows and its size. */
struct chunk {
	/** The bucket. */
	const struct sl_neo4j_bucket *bk;
	/** The rows parameter. */
	struct sl_value param;
	/** Number of rows. */
	uint32_t n;
};

/**
 * Write a chunk once, in one transaction; a chunk of CREATE
 * relationships records a commit token in it. 0, or -1.
 */
static int
chunk_once(struct lane *l, void *arg)
{
	struct chunk *ch = arg;
	struct sl_store_neo4j *s = l->s;
	if (l->token_pending) {
		struct sl_db_result *r =
		        token_query(l, sl_cy_token_get, l->token);
		if (r == NULL)
			return -1;
		bool done = col_count(r, "n", 0) > 0;
		sl_db_result_free(r);
		l->token_pending = false;
		if (done) {
			sl_graph_counts_add(&l->tally.committed, &l->token_st);
			sl_log_info("%s: lane %u: its last transaction had "
			            "committed before the connection was lost",
			            s->shown, l->no);
			return 0;
		}
	}
	bool token = ch->bk->rel && ch->bk->shape.rule == SL_REL_CREATE;
	struct sl_db_tx tx;
	if (sl_db_tx_begin(l->c, &tx, NULL) != 0)
		return -1;
	struct sl_db_result *r = sl_db_query(l->c, l->stmt.data, 1, &ch->param);
	if (r == NULL) {
		sl_db_tx_abandon(&tx);
		return -1;
	}
	chunk_counts(ch->bk, r, ch->n, &l->tally.pending);
	sl_db_result_free(r);
	if (token) {
		int rc = 0;
		if (l->token[0] != '\0') {
			r = token_query(l, sl_cy_token_del, l->token);
			rc = r == NULL ? -1 : 0;
			sl_db_result_free(r);
		}
		snprintf(l->token, sizeof(l->token), "%s%llu", s->token_prefix,
		         (unsigned long long)++s->tokens);
		if (rc == 0) {
			r = token_query(l, sl_cy_token_put, l->token);
			rc = r == NULL ? -1 : 0;
			sl_db_result_free(r);
		}
		if (rc != 0) {
			sl_db_tx_abandon(&tx);
			sl_write_tally_rollback(&l->tally);
			return -1;
		}
	}
	l->token_st = l->tally.pending;
	if (sl_db_tx_commit(&tx) != 0) {
		/* Lost during COMMIT: the outcome is unknown (the commit
		 * token tells, if there is one); else rolled back. Nothing is
		 * counted now. */
		l->token_pending = token && !sl_db_conn_ok(l->c);
		sl_write_tally_rollback(&l->tally);
		return -1;
	}
	if (++s->commits == s->fault_lose_commit) {
		/* Committed, but the store is not told so: counted only if
		 * the commit token shows it. */
		lane_release(l);
		l->token_pending = token;
		sl_write_tally_rollback(&l->tally);
		sl_diag_set(SL_EIO,
		            "%s: the reply to COMMIT was lost (injected fault)",
		            s->shown);
		return -1;
	}
	sl_write_tally_commit(&l->tally);
	return 0;
}

/** Write bucket `bk` of batch `b` in chunks. 0, or -1. */
static int
bucket_run(struct lane *l, const struct sl_graph_batch *b,
           const struct sl_neo4j_bucket *bk)
{
	struct sl_store_neo4j *s = l->s;
	if ((bk->rel ? sl_cy_rel_stmt(&l->stmt, &bk->shape)
	             : sl_cy_node_stmt(&l->stmt, &bk->node)) != 0)
		return -1;
	char what[160];
	const struct sl_value *type =
	        bk->rel ? &bk->shape.type : &bk->node.type;
	for (uint32_t at = 0; at < bk->n; at += s->o.chunk) {
		struct chunk ch = {.bk = bk};
		ch.n = bk->n - at < s->o.chunk ? bk->n - at : s->o.chunk;
		if (chunk_rows(l, b, bk, bk->ops + at, ch.n, &ch.param) != 0)
			return -1;
		snprintf(what, sizeof(what), "%s %.*s rows %u..%u",
		         bk->rel ? "relationships" : "nodes",
		         (int)(type->len > 64 ? 64 : type->len), type->u.s,
		         at + 1, at + ch.n);
		l->token_pending = false;
		if (with_retry(l, chunk_once, &ch, what) != 0)
			return -1;
	}
	return 0;
}

/** A lane's task: take buckets of the phase until none is left. */
static int
lane_run(void *arg)
{
	struct lane_arg *la = arg;
	struct phase *ph = la->ph;
	while (!ph->failed && ph->next < ph->end) {
		const struct sl_neo4j_bucket *bk =
		        &ph->s->plan.buckets[ph->next++];
		if (bucket_run(la->l, ph->b, bk) != 0) {
			ph->failed = true;
			lane_release(la->l);
			return -1;
		}
	}
	lane_release(la->l);
	return 0;
}

/** Write buckets [from, to) of the plan on up to o.conns lanes. */
static int
phase_run(struct sl_store_neo4j *s, const struct sl_graph_batch *b,
          uint32_t from, uint32_t to, struct sl_graph_counts *st)
{
	if (from == to)
		return 0;
	struct phase ph = {.s = s, .b = b, .next = from, .end = to};
	unsigned n = s->o.conns < to - from ? s->o.conns : to - from;
	uint64_t rows = 0;
	for (uint32_t i = from; i < to; i++)
		rows += s->plan.buckets[i].n;
	if (rows / LANE_MIN_ROWS + 1 < n)
		n = (unsigned)(rows / LANE_MIN_ROWS + 1);
	struct lane_arg args[SL_NEO4J_CONNS_MAX];
	struct sl_task *tasks[SL_NEO4J_CONNS_MAX] = {0};
	int rc = 0;
	for (unsigned i = 0; i < n; i++)
		args[i] = (struct lane_arg){&s->lanes[i], &ph};
	for (unsigned i = 1; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "neo4j-lane-%u", i);
		tasks[i] = sl_task_spawn(sl_loop_current(), name, lane_run,
		                         &args[i]);
		if (tasks[i] == NULL) {
			ph.failed = true;
			rc = -1;
			break;
		}
	}
	if (rc == 0 && lane_run(&args[0]) != 0)
		rc = -1;
	struct sl_diag first;
	sl_diag_create(&first);
	if (rc != 0)
		sl_diag_move(sl_diag_get(), &first);
	for (unsigned i = 1; i < n; i++) {
		if (tasks[i] == NULL)
			continue;
		int lrc = sl_task_join(tasks[i]);
		if (lrc != 0 && sl_task_is_cancelled())
			lrc = sl_task_reap(tasks[i]);
		if (lrc != 0) {
			if (first.last == NULL)
				sl_diag_move(sl_diag_get(), &first);
			rc = -1;
		}
	}
	if (first.last != NULL)
		sl_diag_move(&first, sl_diag_get());
	sl_diag_destroy(&first);
	/* What the lanes committed is in the database, whether or not
	 * another lane failed: count it. */
	for (unsigned i = 0; i < n; i++)
		sl_write_tally_report(&s->lanes[i].tally, st);
	return rc != 0 ? -1 : 0;
}

/* }}} */
/* {{{ the key-name registry */

/** The registry identity of a bucket's type (kind, type, ends, keys). */
static int
registry_id(struct sl_buf *id, const struct sl_neo4j_bucket *bk)
{
	sl_buf_reset(id);
	if (!bk->rel) {
		const struct sl_cy_node *n = &bk->node;
		if (sl_buf_append(id, "N", 1) != 0 ||
		    id_put(id, n->type.u.s, n->type.len) != 0)
			return -1;
		for (uint32_t i = 0; i < n->n_keys; i++)
			if (id_put(id, n->keys[i].u.s, n->keys[i].len) != 0)
				return -1;
		return 0;
	}
	const struct sl_cy_rel *r = &bk->shape;
	if (sl_buf_append(id, "R", 1) != 0 ||
	    id_put(id, r->type.u.s, r->type.len) != 0 ||
	    id_put(id, r->from.type.u.s, r->from.type.len) != 0 ||
	    id_put(id, r->to.type.u.s, r->to.type.len) != 0)
		return -1;
	for (uint32_t i = 0; i < r->n_keys; i++)
		if (id_put(id, r->keys[i].u.s, r->keys[i].len) != 0)
			return -1;
	return 0;
}

/** Whether registry identity `id` was written by this store. */
static bool
registered(const struct sl_store_neo4j *s, const struct sl_buf *id)
{
	for (uint32_t i = 0; i < s->n_registered; i++) {
		uint32_t len;
		memcpy(&len, s->registered[i], sizeof(len));
		if (len == id->len &&
		    memcmp(s->registered[i] + sizeof(len), id->data, len) == 0)
			return true;
	}
	return false;
}

/** Remember registry identity `id` (when there is room). */
static void
remember(struct sl_store_neo4j *s, const struct sl_buf *id)
{
	if (s->n_registered == REGISTRY_MAX)
		return;
	if (s->n_registered % 64 == 0) {
		char **v = sl_realloc(s->registered,
		                      (s->n_registered + 64) * sizeof(*v));
		if (v == NULL)
			return;
		s->registered = v;
	}
	char *copy = sl_malloc(sizeof(uint32_t) + id->len);
	if (copy == NULL)
		return;
	uint32_t len = (uint32_t)id->len;
	memcpy(copy, &len, sizeof(len));
	memcpy(copy + sizeof(len), id->data, id->len);
	s->registered[s->n_registered++] = copy;
}

/** The registry entry of bucket `bk` as a value in `a`. */
static int
registry_entry(struct sl_arena *a, const struct sl_neo4j_bucket *bk,
               struct sl_value *out)
{
	struct sl_member *m = sl_arena_alloc(a, 5 * sizeof(*m));
	if (m == NULL)
		return -1;
	const struct sl_value *keys = bk->rel ? bk->shape.keys : bk->node.keys;
	uint32_t n = bk->rel ? bk->shape.n_keys : bk->node.n_keys;
	struct sl_value *k = sl_arena_alloc(a, (n + 1) * sizeof(*k));
	if (k == NULL)
		return -1;
	if (n > 0) /* keys is NULL without key names */
		memcpy(k, keys, n * sizeof(*k));
	m[0] = member("kind", cstr(bk->rel ? "rel" : "node"));
	m[1] = member("type", bk->rel ? bk->shape.type : bk->node.type);
	m[2] = member("from", bk->rel ? bk->shape.from.type : cstr(""));
	m[3] = member("to", bk->rel ? bk->shape.to.type : cstr(""));
	m[4] = member("keys", sl_array_ref(k, n));
	*out = sl_object_ref(m, 5);
	return 0;
}

/** Registry write: the {"types": [...]} parameter. */
struct reg_write {
	/** The parameter. */
	struct sl_value param;
};

/** Write the registry entries once (auto-commit). */
static int
registry_once(struct lane *l, void *arg)
{
	struct reg_write *w = arg;
	struct sl_db_result *r =
	        sl_db_query(l->c, sl_cy_registry_write, 1, &w->param);
	sl_db_result_free(r);
	return r == NULL ? -1 : 0;
}

/** Forget the registry identities remembered after the first `n`. */
static void
forget_after(struct sl_store_neo4j *s, uint32_t n)
{
	while (s->n_registered > n)
		sl_free(s->registered[--s->n_registered]);
}

/** Register the types of the plan this store has not registered yet. */
static int
registry_update(struct sl_store_neo4j *s)
{
	struct lane *l = &s->lanes[0];
	struct sl_arena *a = &l->rows;
	sl_arena_reset(a);
	struct sl_buf id;
	sl_buf_create(&id, MEM_MAX);
	struct sl_value *v = sl_arena_alloc(a, (s->plan.n + 1) * sizeof(*v));
	uint32_t n = 0, before = s->n_registered;
	int rc = v == NULL ? -1 : 0;
	for (uint32_t i = 0; i < s->plan.n && rc == 0; i++) {
		const struct sl_neo4j_bucket *bk = &s->plan.buckets[i];
		rc = registry_id(&id, bk);
		if (rc != 0 || registered(s, &id))
			continue;
		remember(s, &id);
		rc = registry_entry(a, bk, &v[n++]);
	}
	sl_buf_destroy(&id);
	if (rc == 0 && n > 0) {
		struct sl_member *m = sl_arena_alloc(a, sizeof(*m));
		rc = m == NULL ? -1 : 0;
		if (rc == 0) {
			m[0] = member("types", sl_array_ref(v, n));
			struct reg_write w = {.param = sl_object_ref(m, 1)};
			rc = with_retry(l, registry_once, &w,
			                "the key-name registry");
			lane_release(l);
		}
	}
	if (rc != 0)
		forget_after(s, before);
	return rc;
}

/* }}} */

int
sl_store_neo4j_write(struct sl_store_neo4j *s, const struct sl_graph_batch *b,
                     struct sl_graph_counts *st)
{
	if (sl_neo4j_plan_make(&s->plan, b) != 0 || registry_update(s) != 0)
		return -1;
	/* Nodes are committed before relationships look them up. */
	if (phase_run(s, b, 0, s->plan.n_node, st) != 0 ||
	    phase_run(s, b, s->plan.n_node, s->plan.n, st) != 0)
		return -1;
	return 0;
}

/* {{{ open and close */

struct sl_store_neo4j *
sl_store_neo4j_open(const char *uri)
{
	struct sl_store_neo4j *s = sl_calloc(1, sizeof(*s));
	size_t cap = strlen(uri) + 1;
	if (s == NULL || (s->uri = sl_malloc(cap)) == NULL) {
		sl_free(s);
		sl_diag_set(SL_EOOM, "out of memory opening a target");
		return NULL;
	}
	sl_uri_redact(uri, s->shown, sizeof(s->shown));
	s->retry = 120;
	sl_neo4j_plan_create(&s->plan);
	for (unsigned i = 0; i < SL_NEO4J_CONNS_MAX; i++) {
		s->lanes[i].s = s;
		s->lanes[i].no = i;
		sl_arena_create(&s->lanes[i].rows, 0, MEM_MAX);
		sl_buf_create(&s->lanes[i].stmt, MEM_MAX);
	}
	if (sl_neo4j_uri_split(uri, s->uri, cap, &s->o) != 0) {
		sl_diag_wrap(SL_EINVAL, "%s", s->shown);
		goto fail;
	}
	uint64_t rnd;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
		      (uint64_t)(uintptr_t)s;
	snprintf(s->token_prefix, sizeof(s->token_prefix), "%016llx-",
	         (unsigned long long)rnd);
	struct sl_db_pool_opts po;
	sl_db_pool_opts_init(&po);
	po.min_size = 1;
	po.max_size = s->o.conns;
	po.conn.app_name = "sluice-graph";
	s->pool = sl_db_pool_open(s->uri, &po);
	if (s->pool == NULL)
		goto fail;
	return s;
fail:
	sl_store_neo4j_close(s);
	return NULL;
}

void
sl_store_neo4j_set_retry(struct sl_store_neo4j *s, double seconds)
{
	s->retry = seconds;
}

void
sl_store_neo4j_fault_lose_commit(struct sl_store_neo4j *s, uint64_t n)
{
	s->fault_lose_commit = n > 0 ? s->commits + n : 0;
}

/** Delete this store's commit tokens (no retry can ask for them now). */
static void
drop_tokens(struct sl_store_neo4j *s)
{
	if (s->tokens == 0 || s->pool == NULL)
		return;
	struct sl_diag keep;
	sl_diag_stash(&keep);
	struct sl_db_conn *c = sl_db_pool_acquire(s->pool, -1);
	struct sl_member m = member("prefix", cstr(s->token_prefix));
	struct sl_value param = sl_object_ref(&m, 1);
	struct sl_db_result *r =
	        c != NULL ? sl_db_query(c, sl_cy_token_del_prefix, 1, &param)
	                  : NULL;
	if (r == NULL)
		sl_log_debug("%s: commit tokens left behind", s->shown);
	sl_db_result_free(r);
	if (c != NULL)
		sl_db_pool_release(c);
	sl_diag_restore(&keep);
}

void
sl_store_neo4j_close(struct sl_store_neo4j *s)
{
	if (s == NULL)
		return;
	drop_tokens(s);
	for (unsigned i = 0; i < SL_NEO4J_CONNS_MAX; i++) {
		lane_release(&s->lanes[i]);
		sl_arena_destroy(&s->lanes[i].rows);
		sl_buf_destroy(&s->lanes[i].stmt);
	}
	sl_db_pool_close(s->pool);
	sl_neo4j_plan_destroy(&s->plan);
	for (uint32_t i = 0; i < s->n_registered; i++)
		sl_free(s->registered[i]);
	sl_free(s->registered);
	if (s->uri != NULL) {
		memset(s->uri, 0, strlen(s->uri));
		sl_free(s->uri);
	}
	sl_free(s);
}

/* }}} */
/* {{{ TTL */

/** A TTL deletion: the statement, its parameter and what it deleted. */
struct ttl {
	/** The statement. */
	const char *cypher;
	/** {"cutoff", "n"}. */
	struct sl_value param;
	/** Whether it deletes nodes (else relationships). */
	bool nodes;
	/** What it deleted. */
	uint64_t deleted;
};

/** Run the TTL statement once (auto-commit: it commits per $n rows). */
static int
ttl_once(struct lane *l, void *arg)
{
	struct ttl *t = arg;
	struct sl_db_result *r = sl_db_query(l->c, t->cypher, 1, &t->param);
	if (r == NULL)
		return -1;
	t->deleted += stat_of(r, t->nodes ? "nodes-deleted"
	                                  : "relationships-deleted");
	sl_db_result_free(r);
	return 0;
}

/** Delete what expired (store.h). */
static int
neo4j_ttl(void *store, bool nodes, const char *type, const char *cutoff,
          uint64_t *deleted)
{
	struct sl_store_neo4j *s = store;
	struct lane *l = &s->lanes[0];
	*deleted = 0;
	if (sl_cy_ttl(&l->stmt, nodes, type) != 0)
		return -1;
	struct sl_member m[2] = {member("cutoff", cstr(cutoff)),
	                         member("n", sl_int(s->o.chunk))};
	struct ttl t = {.cypher = l->stmt.data,
	                .param = sl_object_ref(m, 2),
	                .nodes = nodes};
	/* Deleting again after a lost connection deletes what is left. */
	int rc = with_retry(l, ttl_once, &t, "TTL deletion");
	lane_release(l);
	*deleted = t.deleted;
	return rc;
}

/* }}} */
/* {{{ migrations */

/** Migration state. */
struct mig {
	/** Names of the constraints and indexes there already. */
	struct sl_names have;
	/** The DDL being run. */
	struct sl_buf ddl;
	/** The name of what it makes. */
	struct sl_buf name;
	/** Applied. */
	uint32_t applied;
	/** Kept. */
	uint32_t kept;
	/** Listing only (nothing is applied): where each state goes. */
	sl_mig_status_fn status;
	/** Its argument. */
	void *status_arg;
};

/** Read the names of constraints and indexes into m->have. */
static int
mig_read(struct lane *l, void *arg)
{
	struct mig *m = arg;
	static const char *const show[] = {
	        "SHOW CONSTRAINTS YIELD name RETURN name",
	        "SHOW INDEXES YIELD name RETURN name"};
	sl_names_destroy(&m->have);
	for (int q = 0; q < 2; q++) {
		struct sl_db_result *r = sl_db_query(l->c, show[q], 0, NULL);
		if (r == NULL)
			return -1;
		int rc = 0;
		char buf[1024];
		for (size_t i = 0; i < sl_db_result_rows(r) && rc == 0; i++) {
			const struct sl_value *v = sl_db_result_get(r, i, 0);
			if (v->type != SL_VSTR || v->len >= sizeof(buf))
				continue;
			memcpy(buf, v->u.s, v->len);
			buf[v->len] = '\0';
			rc = sl_names_add(&m->have, buf);
		}
		sl_db_result_free(r);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/** Run m->ddl once. */
static int
mig_ddl(struct lane *l, void *arg)
{
	struct mig *m = arg;
	struct sl_db_result *r = sl_db_query(l->c, m->ddl.data, 0, NULL);
	sl_db_result_free(r);
	return r == NULL ? -1 : 0;
}

/**
 * Apply m->ddl unless m->name is there; when listing, report whether it
 * is instead.
 */
static int
mig_apply(struct lane *l, struct mig *m)
{
	bool there = false;
	for (uint32_t i = 0; i < m->have.n && !there; i++)
		there = strcmp(m->have.v[i], m->name.data) == 0;
	if (m->status != NULL)
		return m->status(m->status_arg, m->name.data, there) != 0 ? -1
		                                                          : 0;
	if (there) {
		m->kept++;
		return 0;
	}
	if (with_retry(l, mig_ddl, m, "a migration") != 0) {
		sl_diag_wrap(sl_diag_code(), "migration %s", m->name.data);
		return -1;
	}
	m->applied++;
	sl_log_info("migrations: %s: applied %s", l->s->shown, m->name.data);
	return sl_names_add(&m->have, m->name.data);
}

/**
 * Each migration of `schema` through mig_apply(): applied, or (with
 * `fn`) listed.
 */
static int
mig_each(struct sl_store_neo4j *s, const struct sl_schema *schema,
         uint32_t *applied, uint32_t *kept, sl_mig_status_fn fn, void *arg)
{
	struct lane *l = &s->lanes[0];
	struct mig m = {.status = fn, .status_arg = arg};
	sl_buf_create(&m.ddl, MEM_MAX);
	sl_buf_create(&m.name, 4096);
	int rc = with_retry(l, mig_read, &m, "reading the schema");
	for (uint32_t i = 0; i < schema->n_nodes && rc == 0; i++) {
		const struct sl_schema_node *n = &schema->nodes[i];
		if (n->keys.n > 0)
			rc = sl_cy_constraint_name(&m.name, n->type) != 0 ||
			     sl_cy_constraint(&m.ddl, n->type,
			                      (const char *const *)n->keys.v,
			                      n->keys.n,
			                      s->o.enterprise) != 0 ||
			     mig_apply(l, &m) != 0;
		for (uint32_t k = 0; k < n->indexes.n && rc == 0; k++)
			rc = sl_cy_index_name(&m.name, n->type,
			                      n->indexes.v[k]) != 0 ||
			     sl_cy_index(&m.ddl, false, n->type,
			                 n->indexes.v[k]) != 0 ||
			     mig_apply(l, &m) != 0;
	}
	lane_release(l);
	*applied = m.applied;
	*kept = m.kept;
	sl_names_destroy(&m.have);
	sl_buf_destroy(&m.ddl);
	sl_buf_destroy(&m.name);
	return rc ? -1 : 0;
}

/** Migrate (store.h): key constraints and additional indexes. */
static int
neo4j_migrate(void *store, const struct sl_schema *schema, uint32_t *applied,
              uint32_t *kept)
{
	return mig_each(store, schema, applied, kept, NULL, NULL);
}

/**
 * List migrations (store.h): a constraint or index is applied when one of
 * its name is there (SHOW CONSTRAINTS, SHOW INDEXES).
 */
static int
neo4j_migrations(void *store, const struct sl_schema *schema,
                 sl_mig_status_fn fn, void *arg)
{
	uint32_t applied, kept;
	return mig_each(store, schema, &applied, &kept, fn, arg);
}

/* }}} */
/* {{{ export */

/** Export state. */
struct export
{
	/** The registry: node types with key names, relationship types with
	 * key names and their (from, to) pairs as adjacencies. */
	struct sl_schema reg;
	/** The query being run. */
	struct sl_buf q;
	/** Memory of one line's values. */
	struct sl_arena arena;
	/** The line. */
	struct sl_buf line;
	/** The caller's callback. */
	sl_export_fn fn;
	/** Its argument. */
	void *arg;
	/** Writes the line of row i of a fetched result (export_stream()). */
	int (*row)(struct export * x, const struct sl_db_result *r, size_t i,
	           const void *ctx);
	/** What `row` needs. */
	const void *ctx;
	/** A line of the query being streamed was written. */
	bool emitted;
};

/** Rows fetched at a time by an export query. */
#define EXPORT_FETCH 1000

/** A C string of a string value in `a`, or NULL (not a string). */
static char *
c_of(struct sl_arena *a, const struct sl_value *v)
{
	if (v->type != SL_VSTR)
		return NULL;
	char *s = sl_arena_alloc(a, v->len + 1);
	if (s != NULL) {
		memcpy(s, v->u.s, v->len);
		s[v->len] = '\0';
	}
	return s;
}

/** Read the registry into x->reg. */
static int
export_registry(struct lane *l, void *arg)
{
	struct export *x = arg;
	sl_schema_destroy(&x->reg);
	struct sl_db_result *r =
	        sl_db_query(l->c, sl_cy_registry_read, 0, NULL);
	if (r == NULL)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < sl_db_result_rows(r) && rc == 0; i++) {
		sl_arena_reset(&x->arena);
		char *kind = c_of(&x->arena, sl_db_result_get(r, i, 0));
		char *type = c_of(&x->arena, sl_db_result_get(r, i, 1));
		char *from = c_of(&x->arena, sl_db_result_get(r, i, 2));
		char *to = c_of(&x->arena, sl_db_result_get(r, i, 3));
		const struct sl_value *keys = sl_db_result_get(r, i, 4);
		if (kind == NULL || type == NULL || from == NULL || to == NULL)
			continue;
		struct sl_names *kn = NULL;
		if (strcmp(kind, "node") == 0) {
			struct sl_schema_node *n =
			        sl_schema_node(&x->reg, type);
			kn = n != NULL ? &n->keys : NULL;
		} else if (strcmp(kind, "rel") == 0) {
			struct sl_schema_rel *n = sl_schema_rel(&x->reg, type);
			kn = n != NULL ? &n->keys : NULL;
			rc = n == NULL ||
			     sl_schema_adj(&x->reg, from, type, to) != 0;
		} else {
			continue;
		}
		rc = rc || kn == NULL;
		for (uint32_t k = 0;
		     rc == 0 && keys->type == SL_VARRAY && k < keys->len; k++) {
			char *name = c_of(&x->arena, &keys->u.items[k]);
			rc = name != NULL && sl_names_add(kn, name) != 0;
		}
	}
	sl_db_result_free(r);
	return rc ? -1 : 0;
}

/**
 * Stream x->q: a read-only transaction and a cursor fetching EXPORT_FETCH
 * rows at a time, each row written by x->row. A retry after a line was
 * written would write it twice: it fails instead.
 */
static int
export_stream(struct lane *l, void *arg)
{
	struct export *x = arg;
	if (x->emitted) {
		sl_diag_set(SL_EINVAL,
		            "the export broke off after writing part of a "
		            "type; run it again");
		return -1;
	}
	struct sl_db_tx tx;
	struct sl_db_tx_opts ro = {.read_only = true};
	if (sl_db_tx_begin(l->c, &tx, &ro) != 0)
		return -1;
	struct sl_db_cursor *cur =
	        sl_db_cursor_open(l->c, x->q.data, 0, NULL, EXPORT_FETCH);
	int rc = cur == NULL ? -1 : 0;
	while (rc == 0) {
		struct sl_db_result *r = sl_db_cursor_fetch(cur);
		if (r == NULL) {
			rc = -1;
			break;
		}
		size_t n = sl_db_result_rows(r);
		for (size_t i = 0; i < n && rc == 0; i++) {
			x->emitted = true;
			rc = x->row(x, r, i, x->ctx);
		}
		sl_db_result_free(r);
		if (n == 0)
			break;
	}
	if (cur != NULL && sl_db_cursor_close(cur) != 0)
		rc = -1;
	if (rc == 0)
		return sl_db_tx_commit(&tx);
	sl_db_tx_abandon(&tx);
	return -1;
}

/** Run x->q through export_stream(), writing rows with `row`. */
static int
export_query(struct lane *l, struct export *x,
             int (*row)(struct export *x, const struct sl_db_result *r,
                        size_t i, const void *ctx),
             const void *ctx)
{
	x->row = row;
	x->ctx = ctx;
	x->emitted = false;
	return with_retry(l, export_stream, x, "export");
}

/** Whether `names` holds the `n` bytes at `s`. */
static bool
names_has(const struct sl_names *names, const char *s, uint32_t n)
{
	for (uint32_t i = 0; i < names->n; i++)
		if (strlen(names->v[i]) == n && memcmp(names->v[i], s, n) == 0)
			return true;
	return false;
}

/** Split object `props` into its key members (`keys`) and the rest. */
static int
split_props(struct sl_arena *a, const struct sl_value *props,
            const struct sl_names *keys, struct sl_value *key,
            struct sl_value *rest)
{
	uint32_t n = props->type == SL_VOBJECT ? props->len : 0;
	struct sl_member *k = sl_arena_alloc(a, (n + 1) * sizeof(*k));
	struct sl_member *o = sl_arena_alloc(a, (n + 1) * sizeof(*o));
	if (k == NULL || o == NULL)
		return -1;
	uint32_t nk = 0, no = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct sl_member *m = &props->u.members[i];
		if (names_has(keys, m->key, m->key_len))
			k[nk++] = *m;
		else
			o[no++] = *m;
	}
	*key = sl_object_ref(k, nk);
	*rest = sl_object_ref(o, no);
	return 0;
}

/** qsort() order of C strings (through pointers), bytewise. */
static int
cstr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/** Write the line of node row `i` of `r`; `ctx` is its type. */
static int
node_row(struct export *x, const struct sl_db_result *r, size_t i,
         const void *ctx)
{
	const struct sl_schema_node *n = ctx;
	struct sl_value type = cstr(n->type);
	sl_arena_reset(&x->arena);
	const struct sl_value *labels = sl_db_result_get(r, i, 0);
	struct sl_value key, props, lv;
	if (split_props(&x->arena, sl_db_result_get(r, i, 1), &n->keys, &key,
	                &props) != 0)
		return -1;
	/* Extra labels: all but the type and sluice's own. */
	struct sl_value *own =
	        sl_arena_alloc(&x->arena, (labels->len + 1) * sizeof(*own));
	if (own == NULL)
		return -1;
	uint32_t k = 0;
	for (uint32_t j = 0; labels->type == SL_VARRAY && j < labels->len;
	     j++) {
		const struct sl_value *v = &labels->u.items[j];
		if (v->type == SL_VSTR && str_cmp(v, &type) != 0)
			own[k++] = *v;
	}
	qsort(own, k, sizeof(*own), str_cmp);
	lv = sl_array_ref(own, k);
	if (sl_graph_line_node(&x->line, type, key, lv, props) != 0)
		return -1;
	return x->fn(x->arg, x->line.data, x->line.len);
}

/** Export the nodes of registered type `n`. */
static int
export_type(struct lane *l, struct export *x, const struct sl_schema_node *n)
{
	if (sl_cy_export_nodes(&x->q, n->type) != 0)
		return -1;
	return export_query(l, x, node_row, n);
}

/** The keys of registered node type `type` (none when not registered). */
static const struct sl_names *
node_keys(const struct export *x, const char *type)
{
	static const struct sl_names none = {0};
	for (uint32_t i = 0; i < x->reg.n_nodes; i++)
		if (strcmp(x->reg.nodes[i].type, type) == 0)
			return &x->reg.nodes[i].keys;
	return &none;
}

/** The key names of a relationship export (export_adj()). */
struct rel_keys {
	/** The relationship's adjacency. */
	const struct sl_schema_adj *adj;
	/** Key names of its start node's type. */
	const struct sl_names *fk;
	/** Key names of its end node's type. */
	const struct sl_names *tk;
	/** Key names of the relationship. */
	const struct sl_names *rk;
};

/** Write the line of relationship row `i` of `r`. */
static int
rel_row(struct export *x, const struct sl_db_result *r, size_t i,
        const void *ctx)
{
	const struct rel_keys *rk = ctx;
	const struct sl_schema_adj *adj = rk->adj;
	sl_arena_reset(&x->arena);
	struct sl_value f, t, k, p, unused;
	if (split_props(&x->arena, sl_db_result_get(r, i, 0), rk->fk, &f,
	                &unused) != 0 ||
	    split_props(&x->arena, sl_db_result_get(r, i, 1), rk->tk, &t,
	                &unused) != 0 ||
	    split_props(&x->arena, sl_db_result_get(r, i, 2), rk->rk, &k, &p) !=
	            0 ||
	    sl_graph_line_rel(&x->line, cstr(adj->rel), cstr(adj->from), f,
	                      cstr(adj->to), t, k, p) != 0)
		return -1;
	return x->fn(x->arg, x->line.data, x->line.len);
}

/** Export the relationships of adjacency `adj`. */
static int
export_adj(struct lane *l, struct export *x, const struct sl_schema_adj *adj)
{
	struct rel_keys keys = {.adj = adj,
	                        .fk = node_keys(x, adj->from),
	                        .tk = node_keys(x, adj->to)};
	for (uint32_t i = 0; i < x->reg.n_rels && keys.rk == NULL; i++)
		if (strcmp(x->reg.rels[i].type, adj->rel) == 0)
			keys.rk = &x->reg.rels[i].keys;
	if (keys.rk == NULL)
		return 0;
	if (sl_cy_export_rels(&x->q, adj->rel, adj->from, adj->to) != 0)
		return -1;
	return export_query(l, x, rel_row, &keys);
}

/** qsort() order of adjacencies: relationship, from, to. */
static int
adj_cmp(const void *pa, const void *pb)
{
	const struct sl_schema_adj *a = pa, *b = pb;
	int c = strcmp(a->rel, b->rel);
	if (c == 0)
		c = strcmp(a->from, b->from);
	return c != 0 ? c : strcmp(a->to, b->to);
}

/** qsort() order of node types. */
static int
node_cmp(const void *pa, const void *pb)
{
	const struct sl_schema_node *a = pa, *b = pb;
	return strcmp(a->type, b->type);
}

/** Export (store.h): every registered type, nodes first. */
static int
neo4j_export(void *store, sl_export_fn fn, void *arg)
{
	struct sl_store_neo4j *s = store;
	struct lane *l = &s->lanes[0];
	struct export x = {.fn = fn, .arg = arg};
	sl_buf_create(&x.q, MEM_MAX);
	sl_buf_create(&x.line, MEM_MAX);
	sl_arena_create(&x.arena, 0, MEM_MAX);
	int rc = with_retry(l, export_registry, &x, "reading the registry");
	if (rc == 0) {
		/* Key names are sorted so lookups and output are stable. */
		for (uint32_t i = 0; i < x.reg.n_nodes; i++)
			qsort(x.reg.nodes[i].keys.v, x.reg.nodes[i].keys.n,
			      sizeof(char *), cstr_cmp);
		qsort(x.reg.nodes, x.reg.n_nodes, sizeof(*x.reg.nodes),
		      node_cmp);
		qsort(x.reg.adjs, x.reg.n_adjs, sizeof(*x.reg.adjs), adj_cmp);
	}
	for (uint32_t i = 0; i < x.reg.n_nodes && rc == 0; i++)
		rc = export_type(l, &x, &x.reg.nodes[i]);
	for (uint32_t i = 0; i < x.reg.n_adjs && rc == 0; i++)
		rc = export_adj(l, &x, &x.reg.adjs[i]);
	lane_release(l);
	sl_schema_destroy(&x.reg);
	sl_buf_destroy(&x.q);
	sl_buf_destroy(&x.line);
	sl_arena_destroy(&x.arena);
	return rc;
}

/* }}} */
/* {{{ the store's ops (store.h) */

/** Open (store.h). */
static void *
neo4j_open(const char *uri)
{
	return sl_store_neo4j_open(uri);
}

/** Write a batch (store.h). */
static int
neo4j_write(void *store, const struct sl_graph_batch *b,
            struct sl_graph_counts *st)
{
	return sl_store_neo4j_write(store, b, st);
}

/** Close (store.h). */
static int
neo4j_close(void *store)
{
	sl_store_neo4j_close(store);
	return 0;
}

/** URI schemes of the Neo4j store. */
static const char *const neo4j_schemes[] = {
        "neo4j://",    "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://",
        "bolt+ssc://", NULL};

const struct sl_graph_store_ops sl_store_neo4j_ops = {
        .name = "neo4j",
        .schemes = neo4j_schemes,
        .usage = "bolt:// or neo4j://...",
        .caps = SL_STORE_TTL | SL_STORE_MIGRATE | SL_STORE_EXPORT,
        .batch_default = SL_GRAPH_BATCH_DEFAULT,
        /* Names are in the Cypher text; a NaN key would MERGE a new node each
         * time. Floats (±Infinity, NaN) and NUL in strings travel as values. */
        .cannot = SL_GRAPH_NO_NUL_NAME | SL_GRAPH_NO_NAN_KEY,
        .open = neo4j_open,
        .write = neo4j_write,
        .ttl = neo4j_ttl,
        .migrate = neo4j_migrate,
        .migrations = neo4j_migrations,
        .export_graph = neo4j_export,
        .close = neo4j_close,
};

/* }}} */
