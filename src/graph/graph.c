/*
 * sluice: batching desired ingestions into node and relationship writes,
 * merging writes of the same identity (see graph.h).
 */
#include "graph.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "value/ingest_names.h"

/** Arena chunk of a batch. */
#define BATCH_CHUNK ((size_t)256 << 10)

/** Bytes of arena chunks a reset batch keeps. */
#define BATCH_KEEP ((size_t)32 << 20)

/** Longest identity text (type, keys) of one write. */
#define IDENT_MAX ((size_t)1 << 20)

/** Arena chunk of an ingestion read on the loop (the index's scratch). */
#define SCRATCH_CHUNK ((size_t)64 << 10)

/**
 * Most identities, and most writes of each kind, a batch's first
 * ingestion makes room for (expect_room()): an index of 2^17 buckets
 * (1.5 MiB); beyond it the batch grows as it fills.
 */
#define EXPECT_ROOM_MAX ((uint64_t)1 << 16)

/** No write (in struct slot). */
#define NO_WRITE UINT32_MAX

/**
 * One identity of the index: a node (type and key, whatever the rule) or
 * a relationship identity. Identities sit in an array in the order they
 * were added; the hash table holds only small buckets that point into it,
 * so that the table stays in the cache.
 */
struct slot {
	/** Hash of the identity text. */
	uint64_t hash;
	/**
	 * The identity text: in the batch arena, or where sl_graph_prepare()
	 * made it when that lives as long as the batch (a borrowing batch).
	 */
	const char *ident;
	/** Its length. */
	uint32_t len;
	/**
	 * A node's write in `nodes` per rule (enum sl_node_rule), NO_WRITE
	 * for none. A relationship's write in `rels` (idx[0]), then the
	 * node numbers of its two ends (idx[1], idx[2]), which are part of
	 * its identity but not of its text.
	 */
	uint32_t idx[3];
	/** A node's number in the batch, which relationship identities use. */
	uint32_t serial;
};

/** A bucket of the identity index's hash table. */
struct bucket {
	/** The index's generation when the bucket was filled (else empty). */
	uint32_t gen;
	/** The identity's hash, high half. */
	uint32_t tag;
	/** Its place in the identities (`slots`). */
	uint32_t at;
};

/** The identity index of a batch. */
struct sl_graph_dedup {
	/** Open-addressing table (a power of two), 12 bytes a bucket. */
	struct bucket *buckets;
	/** Number of buckets. */
	uint32_t cap;
	/** The identities, in the order they were added (cap / 2 room). */
	struct slot *slots;
	/** Identities in use. */
	uint32_t used;
	/** Node identities in the index. */
	uint32_t nodes;
	/**
	 * Generation of the buckets in use (never 0): a reset empties every
	 * bucket by moving on to the next.
	 */
	uint32_t gen;
	/** Where sl_graph_batch_add() builds identity texts. */
	struct sl_graph_prep_ctx ctx;
	/**
	 * Where sl_graph_batch_add() reads an ingestion (reset when half a
	 * chunk is used).
	 */
	struct sl_arena scratch;
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
	/* A reset keeps its chunks for the next batch: fresh memory from
	 * malloc costs a page fault a page. */
	sl_arena_set_keep(&b->arena, BATCH_KEEP);
	sl_graph_prep_ctx_create(&b->dedup->ctx);
	sl_arena_create(&b->dedup->scratch, SCRATCH_CHUNK,
	                SL_GRAPH_BATCH_MEM_MAX);
	b->dedup->gen = 1;
	return b;
}

void
sl_graph_batch_delete(struct sl_graph_batch *b)
{
	if (b == NULL)
		return;
	sl_big_free(b->nodes, (size_t)b->cap_nodes * sizeof(*b->nodes));
	sl_big_free(b->rels, (size_t)b->cap_rels * sizeof(*b->rels));
	sl_big_free(b->dedup->slots,
	            (size_t)(b->dedup->cap / 2) * sizeof(*b->dedup->slots));
	sl_big_free(b->dedup->buckets,
	            (size_t)b->dedup->cap * sizeof(*b->dedup->buckets));
	sl_graph_prep_ctx_destroy(&b->dedup->ctx);
	sl_arena_destroy(&b->dedup->scratch);
	sl_free(b->dedup);
	sl_arena_destroy(&b->arena);
	sl_free(b);
}

void
sl_graph_batch_reset(struct sl_graph_batch *b)
{
	b->n_nodes = b->n_rels = b->n_ingestions = 0;
	b->serial++;
	sl_arena_reset(&b->arena);
	if (++b->dedup->gen == 0) {
		if (b->dedup->buckets != NULL)
			memset(b->dedup->buckets, 0,
			       b->dedup->cap * sizeof(*b->dedup->buckets));
		b->dedup->gen = 1;
	}
	b->dedup->used = 0;
	b->dedup->nodes = 0;
	/* Its identity texts were in the batch's arena. */
	sl_graph_prep_ctx_forget(&b->dedup->ctx);
}

void
sl_graph_batch_pass_index(struct sl_graph_batch *from,
                          struct sl_graph_batch *to)
{
	struct sl_graph_dedup *f = from->dedup, *t = to->dedup;
	assert(t->used == 0);
	struct sl_graph_dedup keep = *t;
	t->buckets = f->buckets;
	t->cap = f->cap;
	t->slots = f->slots;
	t->gen = f->gen;
	f->buckets = keep.buckets;
	f->cap = keep.cap;
	f->slots = keep.slots;
	f->gen = keep.gen;
	f->used = f->nodes = 0;
	/* Empty for `to`: the buckets of `from` are of the generation
	 * before. */
	if (++t->gen == 0) {
		if (t->buckets != NULL)
			memset(t->buckets, 0, t->cap * sizeof(*t->buckets));
		t->gen = 1;
	}
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

/**
 * Whether member `m` is named by the `n` bytes at `key`: by address first
 * (a shared name of value/ingest_names.h), else by bytes.
 */
static inline bool
named(const struct sl_member *m, const char *key, uint32_t n)
{
	return m->key_len == n && (m->key == key || sl_key_eq(m->key, key, n));
}

/**
 * Member `key` (a string array: a shared name or a literal) of object
 * `o`, or NULL: the last of equal keys, as sl_object_get() finds it,
 * without measuring the name.
 */
#define MEMBER(o, key) member_n((o), (key), sizeof(key) - 1)

/**
 * Whether member `m` is the shared name `name` (value/ingest_names.h) by
 * address, holding a value of type `type`: the Interpreter's members,
 * told without reading a name's bytes or length (a key at a shared
 * name's address is that whole name: the header's rule). False says
 * nothing: the name may still be equal by its bytes (named()).
 */
static inline bool
shared_name(const struct sl_member *m, const char *name, enum sl_vtype type)
{
	return m->key == name && m->val.type == type;
}

/** shared_name() of a name array. */
#define SHARED(m, name, type) shared_name((m), (name), (type))

/** named() of a name array. */
#define NAMED(m, name) named((m), (name), sizeof(name) - 1)

/** Member `key` (`n` bytes) of object `o`, or NULL (see MEMBER). */
static inline const struct sl_value *
member_n(const struct sl_value *o, const char *key, uint32_t n)
{
	if (o->type != SL_VOBJECT)
		return NULL;
	for (uint32_t i = o->len; i-- > 0;)
		if (named(&o->u.members[i], key, n))
			return &o->u.members[i].val;
	return NULL;
}

/** `v` if it is of type `type`, else NULL. */
static inline const struct sl_value *
typed(const struct sl_value *v, enum sl_vtype type)
{
	return v != NULL && v->type == type ? v : NULL;
}

/**
 * Whether string `s` is the shared rule name `lit` (`n` bytes): by
 * address first (the Interpreter's rules), else by bytes.
 */
static inline bool
is_name(const struct sl_value *s, const char *lit, uint32_t n)
{
	return s->len == n && (s->u.s == lit || sl_key_eq(s->u.s, lit, n));
}

/** is_name() of a name array. */
#define IS_NAME(s, lit) is_name((s), (lit), sizeof(lit) - 1)

/** Order of members by key bytes (negative, zero or positive). */
static int
member_order(const struct sl_member *a, const struct sl_member *b)
{
	uint32_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = n > 0 ? memcmp(a->key, b->key, n) : 0;
	return c != 0 ? c
	              : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/** A member and its position, for a stable sort. */
struct member_pos {
	/** The member. */
	struct sl_member m;
	/** Its position in the object. */
	uint32_t pos;
};

/** qsort comparator of struct member_pos: by key, then by position. */
static int
member_pos_cmp(const void *x, const void *y)
{
	const struct member_pos *a = x, *b = y;
	int c = member_order(&a->m, &b->m);
	return c != 0 ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

/**
 * Sort the `n` members at `m` by key in place, stably, and keep only the
 * last of equal keys (the one that counts). Returns the members kept, or
 * -1 with SL_EOOM.
 */
static int64_t
sort_members(struct sl_member *m, uint32_t n)
{
	if (n <= 16) {
		for (uint32_t i = 1; i < n; i++) {
			struct sl_member t = m[i];
			uint32_t j = i;
			for (; j > 0 && member_order(&m[j - 1], &t) > 0; j--)
				m[j] = m[j - 1];
			m[j] = t;
		}
	} else {
		struct member_pos *r = sl_malloc((size_t)n * sizeof(*r));
		if (r == NULL) {
			sl_diag_set(SL_EOOM, "out of memory sorting %u keys",
			            n);
			return -1;
		}
		for (uint32_t i = 0; i < n; i++)
			r[i] = (struct member_pos){m[i], i};
		qsort(r, n, sizeof(*r), member_pos_cmp);
		for (uint32_t i = 0; i < n; i++)
			m[i] = r[i].m;
		sl_free(r);
	}
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (i + 1 < n && member_order(&m[i], &m[i + 1]) == 0)
			continue;
		m[k++] = m[i];
	}
	return k;
}

/**
 * Key object `o` with its members sorted by key and without repeated
 * keys, in *out: `o` itself when it is so already, else its members
 * sorted in arena `a` (the values are still `o`'s).
 */
static inline int
key_sorted(struct sl_arena *a, const struct sl_value *o, struct sl_value *out)
{
	bool sorted = true;
	for (uint32_t i = 1; i < o->len && sorted; i++)
		sorted = member_order(&o->u.members[i - 1], &o->u.members[i]) <
		         0;
	if (sorted) {
		*out = *o;
		return 0;
	}
	struct sl_member *m = sl_arena_alloc_aligned(
	        a, (size_t)o->len * sizeof(*m), _Alignof(struct sl_member));
	if (m == NULL)
		return -1;
	memcpy(m, o->u.members, (size_t)o->len * sizeof(*m));
	*out = sl_object_ref(m, o->len);
	int64_t n = sort_members(out->u.members, out->len);
	if (n < 0)
		return -1;
	out->len = (uint32_t)n;
	return 0;
}

/** `v` in the batch: itself when the batch borrows, else a copy. */
static int
keep(struct sl_graph_batch *b, const struct sl_value *v, struct sl_value *out)
{
	if (b->borrow) {
		*out = *v;
		return 0;
	}
	return sl_value_copy(&b->arena, v, out);
}

/* --- the identity index ------------------------------------------------- */

/**
 * Grow the index to the first of 1024, or its size doubled, then doubled
 * again as needed, that holds `need` identities at most half full: one
 * new table however many doublings.
 */
static int
index_grow(struct sl_graph_dedup *d, uint64_t need)
{
	uint64_t c = d->cap ? (uint64_t)d->cap * 2 : 1024;
	while (need * 2 > c)
		c *= 2;
	if (c > (uint64_t)1 << 31) {
		sl_diag_set(SL_ELIMIT, "too many writes in one batch");
		return -1;
	}
	uint32_t cap = (uint32_t)c;
	/* Zeroed without a clear where the memory is fresh, its pages made
	 * present for writing (sl_big_zalloc()). */
	struct bucket *t = sl_big_zalloc((size_t)cap * sizeof(*t));
	struct slot *s =
	        t != NULL ? sl_big_realloc(d->slots, (d->cap / 2) * sizeof(*s),
	                                   (cap / 2) * sizeof(*s))
	                  : NULL;
	if (s == NULL) {
		sl_big_free(t, (size_t)cap * sizeof(*t));
		sl_diag_set(SL_EOOM, "out of memory indexing writes");
		return -1;
	}
	d->slots = s;
	/* A fresh table: generation 1 marks its buckets in use. */
	for (uint32_t i = 0; i < d->used; i++) {
		uint32_t j = (uint32_t)s[i].hash & (cap - 1);
		while (t[j].gen == 1)
			j = (j + 1) & (cap - 1);
		t[j] = (struct bucket){1, (uint32_t)(s[i].hash >> 32), i};
	}
	sl_big_free(d->buckets, (size_t)d->cap * sizeof(*t));
	d->buckets = t;
	d->cap = cap;
	d->gen = 1;
	return 0;
}

/**
 * Make room in the index for `n` more identities (growing it as needed),
 * so that the look-ups that follow need not check. 0, or -1 with SL_EOOM.
 */
static inline int
index_room(struct sl_graph_dedup *d, uint64_t n)
{
	if ((d->used + n) * 2 > d->cap)
		return index_grow(d, d->used + n);
	return 0;
}

/**
 * Whether the `n` bytes at `a` and `b` are equal, for identity texts
 * whose hashes and lengths are: inline (one call of memcmp costs more
 * than comparing a short text), 16 bytes at a time, the last 16 read
 * overlapping the block before.
 */
static inline bool
text_eq(const char *a, const char *b, uint32_t n)
{
	if (n <= 16)
		return sl_key_eq(a, b, n);
	uint64_t x, y, p, q, d = 0;
	for (uint32_t i = 0; n - i > 16; i += 16) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		memcpy(&p, a + i + 8, 8);
		memcpy(&q, b + i + 8, 8);
		d |= (x ^ y) | (p ^ q);
	}
	memcpy(&x, a + n - 16, 8);
	memcpy(&y, b + n - 16, 8);
	memcpy(&p, a + n - 8, 8);
	memcpy(&q, b + n - 8, 8);
	return (d | (x ^ y) | (p ^ q)) == 0;
}

/**
 * Look identity `text` up (`len` bytes, hash `h`; `rel`: a relationship
 * whose ends are `from` and `to`): its slot, or NULL with *at the empty
 * bucket it would go in. Inline in each caller (two per write kind), as
 * it runs once a write; the index has room (index_room()).
 */
static inline __attribute__((always_inline)) struct slot *
index_probe(const struct sl_graph_dedup *d, const char *text, uint32_t len,
            uint64_t h, bool rel, uint32_t from, uint32_t to, uint32_t *at)
{
	uint32_t tag = (uint32_t)(h >> 32);
	uint32_t mask = d->cap - 1;
	const struct bucket *bk = d->buckets;
	uint32_t j = (uint32_t)h & mask;
	for (; bk[j].gen == d->gen; j = (j + 1) & mask) {
		if (bk[j].tag != tag)
			continue;
		struct slot *s = &d->slots[bk[j].at];
		if (s->hash == h && s->len == len &&
		    (!rel || (s->idx[1] == from && s->idx[2] == to)) &&
		    text_eq(s->ident, text, len))
			return s;
	}
	*at = j;
	return NULL;
}

/**
 * A new slot for identity `text` (as index_probe() was given it) in
 * empty bucket `j`: its text copied into the batch unless `kept` (it
 * lives as long as the batch); no write yet; a node gets the next node
 * number. NULL on failure.
 */
static inline struct slot *
index_insert(struct sl_graph_batch *b, uint32_t j, const char *text,
             uint32_t len, uint64_t h, bool rel, uint32_t from, uint32_t to,
             bool kept)
{
	struct sl_graph_dedup *d = b->dedup;
	const char *copy = kept ? text : sl_arena_strndup(&b->arena, text, len);
	if (copy == NULL)
		return NULL;
	struct slot *s = &d->slots[d->used];
	s->hash = h;
	s->ident = copy;
	s->len = len;
	s->idx[0] = NO_WRITE;
	if (rel) {
		s->idx[1] = from;
		s->idx[2] = to;
		s->serial = 0;
	} else {
		s->idx[1] = s->idx[2] = NO_WRITE;
		s->serial = d->nodes++;
	}
	d->buckets[j] = (struct bucket){d->gen, (uint32_t)(h >> 32), d->used};
	d->used++;
	return s;
}

/*
 * An identity text: its kind, 'N' for a node (whatever its rule), 'R' and
 * the rule for a relationship; then its parts, each a length (4 bytes)
 * and its bytes, so that no two identities share a text whatever bytes
 * their names hold; the last part runs to the end. A node's parts are its
 * type and its key's canonical JSON, which its writes keep (key_text) as
 * a slice of the index's copy. A relationship's are its type, whether
 * its ends' keys hold patterns (two bytes) and its key's canonical JSON;
 * its ends themselves (node numbers in the batch, known only when its
 * nodes are added) are mixed into its hash and kept beside its text in
 * the index (struct slot).
 */

void
sl_graph_prep_ctx_create(struct sl_graph_prep_ctx *c)
{
	sl_buf_create(&c->ident, IDENT_MAX);
	sl_graph_prep_ctx_forget(c);
}

void
sl_graph_prep_ctx_forget(struct sl_graph_prep_ctx *c)
{
	memset(c->rel_memo, 0, sizeof(c->rel_memo));
	c->rel_memo_next = 0;
	c->rel_memo_last = 0;
}

void
sl_graph_prep_ctx_destroy(struct sl_graph_prep_ctx *c)
{
	sl_buf_destroy(&c->ident);
}

/** Start an identity text with the `n` bytes at `head`. */
static int
ident_start(struct sl_graph_prep_ctx *c, const char *head, uint32_t n)
{
	sl_buf_reset(&c->ident);
	return sl_buf_append(&c->ident, head, n);
}

/** Append the `n` bytes at `s` as one part of the identity text. */
static int
ident_part(struct sl_graph_prep_ctx *c, const char *s, uint32_t n)
{
	struct sl_buf *id = &c->ident;
	if (sl_buf_reserve(id, sizeof(n) + (size_t)n + 1) != 0)
		return -1;
	char *p = id->data + id->len;
	memcpy(p, &n, sizeof(n));
	if (n > 0)
		memcpy(p + sizeof(n), s, n);
	id->len += sizeof(n) + n;
	id->data[id->len] = '\0';
	return 0;
}

/** Bytes of eight that are 1 (SWAR constants of plain_text()). */
#define ONES ((uint64_t)0x0101010101010101u)

/** Eight bytes at `s` as a word. */
static inline uint64_t
word_at(const char *s)
{
	uint64_t x;
	memcpy(&x, s, 8);
	return x;
}

#if defined(__SSE2__)
/** Bytes that need an escape in the 16 of `v` (one bit each), SSE2. */
static inline uint32_t
bad_bytes(__m128i v)
{
	/* Below 0x20: the byte is its minimum with 0x1f. */
	__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
	__m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
	__m128i bsl = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
	return (uint32_t)_mm_movemask_epi8(
	        _mm_or_si128(ctl, _mm_or_si128(quote, bsl)));
}

/** plain_text() of more than 16 bytes, sixteen at a time. */
static bool
plain_text_long(const char *s, uint32_t n)
{
	uint32_t i = 0;
	for (; i + 16 <= n; i += 16)
		if (bad_bytes(_mm_loadu_si128((const __m128i *)(s + i))) != 0)
			return false;
	/* The last sixteen bytes, overlapping some checked. */
	return bad_bytes(_mm_loadu_si128((const __m128i *)(s + n - 16))) == 0;
}

/**
 * Whether the `n` bytes at `s` need no escape in JSON (none is below
 * 0x20, '"' or '\\'): up to 16 bytes (most names and key values) as one
 * vector of two overlapping words (8 to 16 bytes), two overlapping
 * halves of a word (4 to 7) or three bytes of it (1 to 3), the rest of
 * the vector plain bytes; no loop, no read outside the text.
 */
static inline __attribute__((always_inline)) bool
plain_text(const char *s, uint32_t n)
{
	uint64_t x, y = ONES * 'a';
	if (n >= 8) {
		if (n > 16)
			return plain_text_long(s, n);
		x = word_at(s);
		y = word_at(s + n - 8);
	} else if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		x = (uint64_t)hi << 32 | lo;
	} else if (n > 0) {
		x = (ONES * 'a' & ~(uint64_t)0xffffff) |
		    (uint64_t)(unsigned char)s[0] |
		    (uint64_t)(unsigned char)s[n / 2] << 8 |
		    (uint64_t)(unsigned char)s[n - 1] << 16;
	} else {
		return true;
	}
	return bad_bytes(_mm_set_epi64x((long long)y, (long long)x)) == 0;
}
#else
/**
 * The high bit of each byte of word `x` that needs an escape in JSON
 * (below 0x20, '"' or '\\'), and maybe of bytes after one that does (a
 * borrow): nonzero exactly when some byte does.
 */
static inline uint64_t
word_bad(uint64_t x)
{
	return ((x - ONES * 0x20) | ((x ^ (ONES * '"')) - ONES) |
	        ((x ^ (ONES * '\\')) - ONES)) &
	       ~x & (ONES << 7);
}

/** plain_text() of more than 16 bytes, eight at a time. */
static bool
plain_text_long(const char *s, uint32_t n)
{
	uint64_t x;
	uint32_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		if (word_bad(x) != 0)
			return false;
	}
	/* The last eight bytes, overlapping some checked. */
	memcpy(&x, s + n - 8, 8);
	return word_bad(x) == 0;
}

/**
 * Whether the `n` bytes at `s` need no escape in JSON (none is below
 * 0x20, '"' or '\\'): up to 16 bytes (most names and key values) in one
 * or two words without a loop, read as overlapping words (8 to 16 bytes
 * or 4 to 7), or spread over a word of plain bytes (1 to 3).
 */
static inline __attribute__((always_inline)) bool
plain_text(const char *s, uint32_t n)
{
	uint64_t x, y;
	if (n >= 8) {
		if (n > 16)
			return plain_text_long(s, n);
		x = word_at(s);
		y = word_at(s + n - 8);
		return (word_bad(x) | word_bad(y)) == 0;
	}
	if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		return word_bad((uint64_t)hi << 32 | lo) == 0;
	}
	if (n == 0)
		return true;
	x = (ONES * 'a' & ~(uint64_t)0xffffff) | (uint64_t)(unsigned char)s[0] |
	    (uint64_t)(unsigned char)s[n / 2] << 8 |
	    (uint64_t)(unsigned char)s[n - 1] << 16;
	return word_bad(x) == 0;
}
#endif /* __SSE2__ */

/** `a` times `b` as 128 bits, the halves folded by exclusive or. */
static inline uint64_t
fold_mul(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/**
 * Hash of the identity text of `n` bytes at `s`, for the index only (it
 * is never stored or compared across runs): 16 bytes at a time, each
 * block's two words mixed with the hash so far by one 128-bit multiply,
 * the last block read as the text's last 16 bytes (overlapping the one
 * before); inline, as identity texts are short (30 to 60 bytes here).
 */
static inline uint64_t
ident_hash(const char *s, size_t n)
{
	const uint64_t k0 = 0x9e3779b97f4a7c15u, k1 = 0xbf58476d1ce4e5b9u,
	               k2 = 0x94d049bb133111ebu;
	uint64_t h = (uint64_t)n * k0;
	uint64_t a, b;
	if (n > 16) {
		size_t i = 0;
		for (; n - i > 16; i += 16)
			h = fold_mul(word_at(s + i) ^ h ^ k1,
			             word_at(s + i + 8) ^ k2);
		a = word_at(s + n - 16);
		b = word_at(s + n - 8);
	} else if (n >= 8) {
		a = word_at(s);
		b = word_at(s + n - 8);
	} else if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		a = lo;
		b = hi;
	} else {
		a = n > 0 ? (uint64_t)(unsigned char)s[0] << 16 |
		                    (uint64_t)(unsigned char)s[n / 2] << 8 |
		                    (unsigned char)s[n - 1]
		          : 0;
		b = 0;
	}
	h = fold_mul(a ^ h ^ k1, b ^ k2);
	return fold_mul(h ^ k0, k1);
}

/**
 * Append the JSON string of the `n` bytes at `s` to `out`, as
 * sl_json_write() writes it: at once when no byte needs escaping.
 */
static int
put_string(struct sl_buf *out, const char *s, uint32_t n)
{
	if (!plain_text(s, n)) {
		struct sl_value v = sl_str_ref(s, n);
		return sl_json_write(out, &v, SL_JSON_CANONICAL);
	}
	if (sl_buf_reserve(out, (size_t)n + 3) != 0)
		return -1;
	char *p = out->data + out->len;
	p[0] = '"';
	if (n > 0)
		memcpy(p + 1, s, n);
	p[n + 1] = '"';
	out->len += (size_t)n + 2;
	out->data[out->len] = '\0';
	return 0;
}

/**
 * The decimal digits of integer `v` at the end of `t` (24 bytes), as
 * sl_json_write() writes them; returns where they start.
 */
static inline char *
int_digits(char t[24], int64_t v)
{
	char *p = t + 24;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	return p;
}

/** Append integer `v` in decimal to `out`, as sl_json_write() does. */
static int
put_int(struct sl_buf *out, int64_t v)
{
	char t[24];
	char *p = int_digits(t, v);
	return sl_buf_append(out, p, (size_t)(t + sizeof(t) - p));
}

/**
 * Append the canonical JSON of key `k` (sorted, without repeated keys:
 * key_sorted()) to the identity text. The infinities are 1e999 and
 * -1e999 in it, strict JSON that SQL stores' JSON functions read back
 * (sl_graph_check() keeps them out of stores that cannot hold them).
 */
static int
ident_key(struct sl_graph_prep_ctx *c, const struct sl_value *k)
{
	struct sl_buf *id = &c->ident;
	const unsigned flags = SL_JSON_CANONICAL | SL_JSON_INF_OVERFLOW;
	if (sl_buf_putc(id, '{') != 0)
		return -1;
	for (uint32_t i = 0; i < k->len; i++) {
		const struct sl_member *m = &k->u.members[i];
		int rc = (i > 0 && sl_buf_putc(id, ',') != 0) ||
		                         put_string(id, m->key, m->key_len) !=
		                                 0 ||
		                         sl_buf_putc(id, ':') != 0
		                 ? -1
		                 : 0;
		if (rc == 0)
			rc = m->val.type == SL_VSTR
			             ? put_string(id, m->val.u.s, m->val.len)
			     : m->val.type == SL_VINT
			             ? put_int(id, m->val.u.i)
			             : sl_json_write(id, &m->val, flags);
		if (rc != 0)
			return -1;
	}
	return sl_buf_putc(id, '}');
}

/**
 * Bytes of the canonical JSON of key `k` (as ident_key() writes it) when
 * every name and value is a string that needs no escape or an integer;
 * else -1 (ident_key() then writes it).
 */
static int64_t
key_size_plain(const struct sl_value *k)
{
	int64_t size = 2 + (k->len > 0 ? k->len - 1 : 0);
	for (uint32_t i = 0; i < k->len; i++) {
		const struct sl_member *m = &k->u.members[i];
		if (!plain_text(m->key, m->key_len))
			return -1;
		size += (int64_t)m->key_len + 3;
		if (m->val.type == SL_VSTR) {
			if (!plain_text(m->val.u.s, m->val.len))
				return -1;
			size += (int64_t)m->val.len + 2;
		} else if (m->val.type == SL_VINT) {
			char t[24];
			size += t + sizeof(t) - int_digits(t, m->val.u.i);
		} else {
			return -1;
		}
	}
	return size;
}

/** Write `n` bytes at `s` as a JSON string at `p` (no escapes needed). */
static inline char *
write_plain(char *p, const char *s, uint32_t n)
{
	*p++ = '"';
	sl_copy_bytes(p, s, n);
	p += n;
	*p++ = '"';
	return p;
}

/** Write the key that key_size_plain() measured at `p`; returns its end. */
static char *
key_write_plain(char *p, const struct sl_value *k)
{
	*p++ = '{';
	for (uint32_t i = 0; i < k->len; i++) {
		const struct sl_member *m = &k->u.members[i];
		if (i > 0)
			*p++ = ',';
		p = write_plain(p, m->key, m->key_len);
		*p++ = ':';
		if (m->val.type == SL_VSTR) {
			p = write_plain(p, m->val.u.s, m->val.len);
		} else {
			char t[24];
			char *d = int_digits(t, m->val.u.i);
			size_t dn = (size_t)(t + sizeof(t) - d);
			sl_copy_bytes(p, d, dn);
			p += dn;
		}
	}
	*p++ = '}';
	return p;
}

/* --- merging ------------------------------------------------------------ */

/**
 * merge_objects() when `a` and `b` are not empty and their keys differ:
 * the merge built in the arena.
 */
static int
merge_objects_new(struct sl_arena *arena, const struct sl_value *a,
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

/**
 * `a` updated with `b`'s members (b wins), built in the arena when it is
 * neither of them (inline: the usual cases, where it is one, cost no
 * call).
 */
static inline int
merge_objects(struct sl_arena *arena, const struct sl_value *a,
              const struct sl_value *b, struct sl_value *out)
{
	if (b->len == 0 || a->len == 0) {
		*out = b->len == 0 ? *a : *b;
		return 0;
	}
	/* The same keys in the same order (writes of one interpretation):
	 * `b` is the merge. */
	bool same = a->len == b->len;
	for (uint32_t i = 0; same && i < a->len; i++)
		same = named(&a->u.members[i], b->u.members[i].key,
		             b->u.members[i].key_len);
	if (same) {
		*out = *b;
		return 0;
	}
	return merge_objects_new(arena, a, b, out);
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

/* --- reading an ingestion ahead (sl_graph_prepare()) --------------------- */

/** An identity text and its hash, made ahead of its look-up. */
struct ident {
	/** The text (see "An identity text"), in an arena. */
	const char *text;
	/** Its length. */
	uint32_t len;
	/** Where a node's key text starts in it. */
	uint32_t key_at;
	/** Its hash (a relationship's without its ends). */
	uint64_t hash;
};

/** A node of an ingestion, read and checked. */
struct node_in {
	/** Type (the batch's, once the node is added). */
	struct sl_value type;
	/**
	 * Key (sorted, without repeated keys; see key_sorted()); the
	 * batch's, once the node is added.
	 */
	struct sl_value key;
	/** Its canonical JSON text (in the batch), once the node is added. */
	struct sl_value key_text;
	/** The node's number in the batch, once it is added. */
	uint32_t serial;
	/**
	 * Labels (an empty array for none). Held by value, like the other
	 * members the writer's merge reads, so that the merge reads only
	 * the reading's own array, not the ingestion's tree (made on
	 * another core when the reading was done ahead).
	 */
	struct sl_value labels;
	/** Properties (an empty object for none). */
	struct sl_value props;
	/** Creation rule. */
	enum sl_node_rule rule;
	/** Its identity. */
	struct ident id;
};

/** A relationship of an ingestion, read and checked. */
struct rel_in {
	/** Its type. */
	struct sl_value type;
	/** Its properties (an empty object for none). */
	struct sl_value props;
	/** Its key, sorted (see key_sorted()); empty for none. */
	struct sl_value key;
	/** Its creation rule. */
	enum sl_rel_rule rule;
	/** Whether it points from the source to the related node. */
	bool out;
	/** The related node. */
	struct node_in node;
	/** Its identity, without its ends. */
	struct ident id;
	/** Its identity's hash with its ends' (ends_hash()). */
	uint64_t hash;
};

struct sl_graph_prep {
	/** The source node. */
	struct node_in src;
	/** The relationships (in an arena). */
	struct rel_in *rels;
	/** How many (that read, when reading failed). */
	uint32_t n_rels;
	/**
	 * Whether the identity texts are in the batch's arena, so that the
	 * index keeps them without a copy (as it does when the batch
	 * borrows: they are in the memory of the ingestion).
	 */
	bool texts_in_batch;
};

/**
 * Where an ingestion is read: `keep` takes what its writes may refer to
 * (sorted keys), `texts` the identity texts, `tmp` the rest (the
 * relationships).
 */
struct reading {
	/** Where identity texts that need escapes are built. */
	struct sl_graph_prep_ctx *c;
	/** Memory that lives as long as the ingestion's writes. */
	struct sl_arena *keep;
	/** Where identity texts go. */
	struct sl_arena *texts;
	/** Memory that lives until the ingestion is added. */
	struct sl_arena *tmp;
};

/** Keep the identity text in the ctx's buffer as `id`. */
static int
ident_done(struct reading *rd, size_t key_at, struct ident *id)
{
	const struct sl_buf *t = &rd->c->ident;
	id->text = sl_arena_strndup(rd->texts, t->data, t->len);
	if (id->text == NULL)
		return -1;
	id->len = (uint32_t)t->len;
	id->key_at = (uint32_t)key_at;
	id->hash = ident_hash(t->data, t->len);
	return 0;
}

/**
 * Make identity `id` (see "An identity text"): `head` (`hn` bytes), type
 * `type` as a part, `mid` (`mn` bytes), then key `key`'s canonical JSON
 * (NULL: "{}"); `key_at` tells whether to note where the key starts (a
 * node's). Written straight into the texts arena when the key needs no
 * escapes, else through the ctx's buffer.
 */
static int
ident_make(struct reading *rd, const char *head, uint32_t hn,
           const struct sl_value *type, const char *mid, uint32_t mn,
           const struct sl_value *key, bool key_at, struct ident *id)
{
	int64_t ks = key != NULL ? key_size_plain(key) : 2;
	size_t at = hn + sizeof(uint32_t) + (size_t)type->len + mn;
	if (ks >= 0 && at + (size_t)ks <= IDENT_MAX) {
		size_t len = at + (size_t)ks;
		char *t = sl_arena_alloc_aligned(rd->texts, len + 1, 1);
		if (t == NULL)
			return -1;
		char *p = t;
		sl_copy_bytes(p, head, hn);
		p += hn;
		memcpy(p, &type->len, sizeof(uint32_t));
		p += sizeof(uint32_t);
		sl_copy_bytes(p, type->u.s, type->len);
		p += type->len;
		sl_copy_bytes(p, mid, mn);
		p += mn;
		if (key != NULL) {
			p = key_write_plain(p, key);
		} else {
			*p++ = '{';
			*p++ = '}';
		}
		*p = '\0';
		id->text = t;
		id->len = (uint32_t)len;
		id->key_at = key_at ? (uint32_t)at : 0;
		id->hash = ident_hash(t, len);
		return 0;
	}
	if (ident_start(rd->c, head, hn) != 0 ||
	    ident_part(rd->c, type->u.s, type->len) != 0 ||
	    sl_buf_append(&rd->c->ident, mid, mn) != 0 ||
	    (key != NULL ? ident_key(rd->c, key)
	                 : sl_buf_append(&rd->c->ident, "{}", 2)) != 0)
		return -1;
	return ident_done(rd, key_at ? at : 0, id);
}

/**
 * rel_ident_keyless() when the memo has no identity of tag `tag`: make it
 * and remember it in place of the oldest.
 */
static __attribute__((noinline)) int
rel_ident_remember(struct reading *rd, uint64_t tag, enum sl_rel_rule rule,
                   bool from_fuzzy, bool to_fuzzy, const struct sl_value *type,
                   struct ident *id)
{
	struct sl_graph_prep_ctx *c = rd->c;
	char head[2] = {'R', (char)('0' + rule)};
	char fuzzy[2] = {from_fuzzy, to_fuzzy};
	if (ident_make(rd, head, 2, type, fuzzy, 2, NULL, false, id) != 0)
		return -1;
	struct sl_graph_rel_memo *m = &c->rel_memo[c->rel_memo_next];
	c->rel_memo_next = (c->rel_memo_next + 1) % SL_GRAPH_REL_MEMO;
	*m = (struct sl_graph_rel_memo){tag, id->text, id->len, id->hash};
	return 0;
}

/**
 * Make identity `id` of a relationship of type `type` and rule `rule`
 * without a key, whose ends' keys hold patterns or not (`from_fuzzy`,
 * `to_fuzzy`), or take it from the ctx's memo: the same type, rule and
 * fuzziness make the same text, which the index may share (it is only
 * read).
 */
static inline int
rel_ident_keyless(struct reading *rd, enum sl_rel_rule rule, bool from_fuzzy,
                  bool to_fuzzy, const struct sl_value *type, struct ident *id)
{
	struct sl_graph_prep_ctx *c = rd->c;
	/* The type's length, the head's rule digit, the fuzziness. */
	uint64_t tag = (uint64_t)type->len |
	               (uint64_t)(unsigned char)('0' + rule) << 32 |
	               (uint64_t)from_fuzzy << 40 | (uint64_t)to_fuzzy << 48;
	/* From the last one found: an ingestion's relationships come in the
	 * order of the interpretations, a type's repeats together. An
	 * unused entry's tag is 0, which no identity's is (the rule's
	 * digit is not 0). */
	uint32_t i = c->rel_memo_last;
	for (uint32_t k = 0; k < SL_GRAPH_REL_MEMO;
	     k++, i = (i + 1) % SL_GRAPH_REL_MEMO) {
		const struct sl_graph_rel_memo *m = &c->rel_memo[i];
		/* The text: head, the type's length and bytes, fuzzy, "{}". */
		if (m->tag == tag && sl_key_eq(m->text + 2 + sizeof(uint32_t),
		                               type->u.s, type->len)) {
			c->rel_memo_last = i;
			*id = (struct ident){m->text, m->len, 0, m->hash};
			return 0;
		}
	}
	return rel_ident_remember(rd, tag, rule, from_fuzzy, to_fuzzy, type,
	                          id);
}

/**
 * Make node identity `id` of type `type` and sorted key `key` (see "An
 * identity text") in one pass over the key, straight into the texts
 * arena, when every key name and value is a string that needs no escape
 * or an integer: room for the longest text such a key makes (integers of
 * 20 digits and a sign) is taken first, and the text is written checking
 * each string as it goes. Else, or when a string needs an escape (the
 * room taken is then left unused), ident_make() makes it. `n` is the
 * key's length, a constant where it is inlined.
 */
static inline __attribute__((always_inline)) int
node_ident_n(struct reading *rd, const struct sl_value *type,
             const struct sl_value *key, uint32_t n, struct ident *id)
{
	const struct sl_member *m = key->u.members;
	size_t at = 1 + sizeof(uint32_t) + (size_t)type->len;
	size_t max = at + 2;
	for (uint32_t i = 0; i < n; i++) {
		if (m[i].val.type == SL_VSTR)
			max += (size_t)m[i].key_len + m[i].val.len + 6;
		else if (m[i].val.type == SL_VINT)
			max += (size_t)m[i].key_len + 21 + 4;
		else
			goto general;
	}
	if (max > IDENT_MAX)
		goto general;
	char *t = sl_arena_alloc_aligned(rd->texts, max + 1, 1);
	if (t == NULL)
		return -1;
	char *p = t;
	*p++ = 'N';
	memcpy(p, &type->len, sizeof(uint32_t));
	p += sizeof(uint32_t);
	sl_copy_bytes(p, type->u.s, type->len);
	p += type->len;
	*p++ = '{';
	for (uint32_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		if (!plain_text(m[i].key, m[i].key_len))
			goto general;
		p = write_plain(p, m[i].key, m[i].key_len);
		*p++ = ':';
		if (m[i].val.type == SL_VSTR) {
			if (!plain_text(m[i].val.u.s, m[i].val.len))
				goto general;
			p = write_plain(p, m[i].val.u.s, m[i].val.len);
		} else {
			char d[24];
			char *q = int_digits(d, m[i].val.u.i);
			size_t dn = (size_t)(d + sizeof(d) - q);
			sl_copy_bytes(p, q, dn);
			p += dn;
		}
	}
	*p++ = '}';
	*p = '\0';
	id->text = t;
	id->len = (uint32_t)(p - t);
	id->key_at = (uint32_t)at;
	id->hash = ident_hash(t, id->len);
	return 0;
general:
	return ident_make(rd, "N", 1, type, "", 0, key, true, id);
}

/** node_ident_n() of a key of any length, out of line. */
static __attribute__((noinline)) int
node_ident_any(struct reading *rd, const struct sl_value *type,
               const struct sl_value *key, struct ident *id)
{
	return node_ident_n(rd, type, key, key->len, id);
}

/**
 * node_ident_n(): a key of one name (most keys) inline and without
 * loops, others in general.
 */
static inline __attribute__((always_inline)) int
node_ident(struct reading *rd, const struct sl_value *type,
           const struct sl_value *key, struct ident *id)
{
	if (key->len == 1)
		return node_ident_n(rd, type, key, 1, id);
	return node_ident_any(rd, type, key, id);
}

/** A member name an ingestion object's reader looks for. */
struct member_name {
	/** The name (a shared name of value/ingest_names.h). */
	const char *name;
	/** Its length. */
	uint32_t len;
};

/** A member_name of a name array. */
#define MEMBER_NAME(name)                \
	{                                \
		(name), sizeof(name) - 1 \
	}

/**
 * Members `names` (`n` of them) of object `o` by their names' bytes, in
 * `out` (NULL where missing): the last of equal names counts. An object
 * whose members are those names in that order (the Interpreter's) is
 * read without a scan.
 */
static void
members_read(const struct sl_value *o, const struct member_name *names,
             uint32_t n, const struct sl_value **out)
{
	const struct sl_member *m = o->u.members;
	bool in_order = o->len == n;
	for (uint32_t k = 0; k < n; k++) {
		out[k] = NULL;
		in_order =
		        in_order && named(&m[k], names[k].name, names[k].len);
	}
	if (in_order) {
		for (uint32_t k = 0; k < n; k++)
			out[k] = &m[k].val;
		return;
	}
	/* One pass, from the end. */
	for (uint32_t i = o->len; i-- > 0;)
		for (uint32_t k = 0; k < n; k++)
			if (out[k] == NULL &&
			    named(&m[i], names[k].name, names[k].len)) {
				out[k] = &m[i].val;
				break;
			}
}

/** The members of a node object that node_read() reads, by type. */
struct node_members {
	/** "type", a string, or NULL. */
	const struct sl_value *type;
	/** "key", an object, or NULL. */
	const struct sl_value *key;
	/** "rule", a string, or NULL. */
	const struct sl_value *rule;
	/** "labels", an array, or NULL. */
	const struct sl_value *labels;
	/** "props", an object, or NULL. */
	const struct sl_value *props;
};

/**
 * The members of node object `n` (not the Interpreter's by address) by
 * their names' bytes: the last of equal names counts, and a member of
 * another type than its own is taken as missing.
 */
static void
node_members_read(const struct sl_value *n, struct node_members *f)
{
	static const struct member_name names[] = {
	        MEMBER_NAME(sl_ing_type), MEMBER_NAME(sl_ing_labels),
	        MEMBER_NAME(sl_ing_key), MEMBER_NAME(sl_ing_props),
	        MEMBER_NAME(sl_ing_rule)};
	const struct sl_value *v[5];
	members_read(n, names, 5, v);
	f->type = typed(v[0], SL_VSTR);
	f->labels = typed(v[1], SL_VARRAY);
	f->key = typed(v[2], SL_VOBJECT);
	f->props = typed(v[3], SL_VOBJECT);
	f->rule = typed(v[4], SL_VSTR);
}

/** Node rule `rule` (a string) by its name, or -1 when none. */
static int
node_rule_named(const struct sl_value *rule)
{
	return IS_NAME(rule, sl_rule_eager)        ? SL_NODE_EAGER
	       : IS_NAME(rule, sl_rule_match_only) ? SL_NODE_MATCH_ONLY
	       : IS_NAME(rule, sl_rule_fuzzy)      ? SL_NODE_FUZZY
	                                           : -1;
}

/** Read and check node `n` of an ingestion, and make its identity. */
static inline __attribute__((always_inline)) int
node_read(struct reading *rd, const struct sl_value *n, struct node_in *out)
{
	if (n->type != SL_VOBJECT)
		return not_ingestion("a node needs a type and a key");
	const struct sl_value *key, *rule;
	const struct sl_member *nm = n->u.members;
	if (n->len == 5 && SHARED(&nm[0], sl_ing_type, SL_VSTR) &&
	    SHARED(&nm[1], sl_ing_labels, SL_VARRAY) &&
	    SHARED(&nm[2], sl_ing_key, SL_VOBJECT) &&
	    SHARED(&nm[3], sl_ing_props, SL_VOBJECT) &&
	    SHARED(&nm[4], sl_ing_rule, SL_VSTR)) {
		/* The Interpreter's node (interp/interpret.c): its names
		 * by address, each value of its type. */
		out->type = nm[0].val;
		out->labels = nm[1].val;
		key = &nm[2].val;
		out->props = nm[3].val;
		rule = &nm[4].val;
	} else {
		struct node_members f;
		node_members_read(n, &f);
		if (f.type == NULL)
			return not_ingestion("a node needs a type and a key");
		out->type = *f.type;
		out->labels =
		        f.labels != NULL ? *f.labels : sl_array_ref(NULL, 0);
		out->props =
		        f.props != NULL ? *f.props : sl_object_ref(NULL, 0);
		key = f.key;
		rule = f.rule;
		if (key == NULL)
			return not_ingestion("a node needs a type and a key");
	}
	if (key->len == 0)
		return not_ingestion("a node needs a type and a key");
	/* The Interpreter's usual rule by address, else by its bytes. */
	int rn = rule == NULL ? SL_NODE_EAGER
	         : rule->u.s == sl_rule_eager &&
	                         rule->len == sizeof(sl_rule_eager) - 1
	                 ? SL_NODE_EAGER
	                 : node_rule_named(rule);
	if (rn < 0)
		return not_ingestion("unknown node creation rule");
	out->rule = (enum sl_node_rule)rn;
	for (uint32_t i = 0; i < out->labels.len; i++)
		if (out->labels.u.items[i].type != SL_VSTR)
			return not_ingestion("labels must be strings");
	if (key_sorted(rd->keep, key, &out->key) != 0)
		return -1;
	return node_ident(rd, &out->type, &out->key, &out->id);
}

/** The members of a relationship object that rel_read() reads. */
struct rel_members {
	/** "type", a string, or NULL. */
	const struct sl_value *type;
	/** "key", an object, or NULL. */
	const struct sl_value *key;
	/** "props", an object, or NULL. */
	const struct sl_value *props;
	/** "rule", a string, or NULL. */
	const struct sl_value *rule;
	/** "outbound", a boolean, or NULL. */
	const struct sl_value *outbound;
	/** "node", of any type, or NULL. */
	const struct sl_value *node;
};

/**
 * The members of relationship object `r` (not the Interpreter's by
 * address) by their names' bytes, as node_members_read() reads a node's.
 */
static void
rel_members_read(const struct sl_value *r, struct rel_members *f)
{
	static const struct member_name names[] = {
	        MEMBER_NAME(sl_ing_type),     MEMBER_NAME(sl_ing_key),
	        MEMBER_NAME(sl_ing_props),    MEMBER_NAME(sl_ing_rule),
	        MEMBER_NAME(sl_ing_outbound), MEMBER_NAME(sl_ing_node)};
	const struct sl_value *v[6];
	members_read(r, names, 6, v);
	f->type = typed(v[0], SL_VSTR);
	f->key = typed(v[1], SL_VOBJECT);
	f->props = typed(v[2], SL_VOBJECT);
	f->rule = typed(v[3], SL_VSTR);
	f->outbound = typed(v[4], SL_VBOOL);
	f->node = v[5];
}

/**
 * Identity hash `h` of a relationship text with the identity hashes of
 * its ends, `from` and `to`, mixed in. Equal relationships have equal
 * ends, so equal hashes; it is known once the ingestion is read, so the
 * writer asks for the bucket ahead, as for a node's.
 */
static inline uint64_t
ends_hash(uint64_t h, uint64_t from, uint64_t to)
{
	/* One multiply: both halves of the product mix all three into the
	 * low bits (the bucket) and the high ones (the tag); the rotation
	 * keeps a relationship apart from its reverse. */
	return fold_mul(h ^ from,
	                ((to << 29) | (to >> 35)) ^ 0x9e3779b97f4a7c15u);
}

/** Relationship rule `rule` (a string) by its name, or -1 when none. */
static int
rel_rule_named(const struct sl_value *rule)
{
	return IS_NAME(rule, sl_rule_eager)       ? SL_REL_EAGER
	       : IS_NAME(rule, sl_rule_merge_key) ? SL_REL_MERGE_KEY
	       : IS_NAME(rule, sl_rule_create)    ? SL_REL_CREATE
	                                          : -1;
}

/**
 * Read and check relationship `r` of an ingestion whose source is `src`
 * into `out`, and make its identity.
 */
static inline __attribute__((always_inline)) int
rel_read(struct reading *rd, const struct node_in *src,
         const struct sl_value *r, struct rel_in *out)
{
	if (r->type != SL_VOBJECT)
		return not_ingestion("a relationship needs a type and a node");
	const struct sl_value *key, *rule, *node;
	const struct sl_member *rm = r->u.members;
	if (r->len == 6 && SHARED(&rm[0], sl_ing_type, SL_VSTR) &&
	    SHARED(&rm[1], sl_ing_key, SL_VOBJECT) &&
	    SHARED(&rm[2], sl_ing_props, SL_VOBJECT) &&
	    SHARED(&rm[3], sl_ing_rule, SL_VSTR) &&
	    SHARED(&rm[4], sl_ing_outbound, SL_VBOOL) &&
	    rm[5].key == sl_ing_node) {
		/* The Interpreter's relationship (interp/interpret.c). */
		out->type = rm[0].val;
		key = &rm[1].val;
		out->props = rm[2].val;
		rule = &rm[3].val;
		out->out = rm[4].val.u.b;
		node = &rm[5].val;
	} else {
		struct rel_members f;
		rel_members_read(r, &f);
		if (f.type == NULL || f.node == NULL)
			return not_ingestion(
			        "a relationship needs a type and a node");
		out->type = *f.type;
		out->props =
		        f.props != NULL ? *f.props : sl_object_ref(NULL, 0);
		out->out = f.outbound == NULL || f.outbound->u.b;
		key = f.key;
		rule = f.rule;
		node = f.node;
	}
	/* The Interpreter's usual rule by address, else by its bytes. */
	int rn = rule == NULL ? SL_REL_EAGER
	         : rule->u.s == sl_rule_eager &&
	                         rule->len == sizeof(sl_rule_eager) - 1
	                 ? SL_REL_EAGER
	                 : rel_rule_named(rule);
	if (rn < 0)
		return not_ingestion("unknown relationship creation rule");
	out->rule = (enum sl_rel_rule)rn;
	out->key = sl_object_ref(NULL, 0);
	if (node_read(rd, node, &out->node) != 0 ||
	    (key != NULL && key->len > 0 &&
	     key_sorted(rd->keep, key, &out->key) != 0))
		return -1;
	const struct node_in *from = out->out ? src : &out->node;
	const struct node_in *to = out->out ? &out->node : src;
	/* CREATE ones too: Nodestream merges a flush's duplicates whatever
	 * the rule (its debouncer), so one CREATE is written per batch. */
	bool from_fuzzy = from->rule == SL_NODE_FUZZY;
	bool to_fuzzy = to->rule == SL_NODE_FUZZY;
	int rc;
	if (out->key.len > 0) {
		char head[2] = {'R', (char)('0' + out->rule)};
		char fuzzy[2] = {from_fuzzy, to_fuzzy};
		rc = ident_make(rd, head, 2, &out->type, fuzzy, sizeof(fuzzy),
		                &out->key, false, &out->id);
	} else {
		rc = rel_ident_keyless(rd, out->rule, from_fuzzy, to_fuzzy,
		                       &out->type, &out->id);
	}
	if (rc != 0)
		return -1;
	out->hash = ends_hash(out->id.hash, from->id.hash, to->id.hash);
	return 0;
}

/**
 * Read ingestion `ing` into `p`. Returns 0; or -1 with the error, and
 * `p->n_rels` relationships read after the source (none when the source
 * did not read: then `*src_ok` is false).
 */
static int
ingestion_read(struct reading *rd, const struct sl_value *ing,
               struct sl_graph_prep *p, bool *src_ok)
{
	*src_ok = false;
	p->n_rels = 0;
	p->rels = NULL;
	if (ing->type != SL_VOBJECT)
		return not_ingestion("the record is not an object");
	const struct sl_value *src, *rels;
	const struct sl_member *im = ing->u.members;
	if (ing->len == 2 && im[0].key == sl_ing_source &&
	    im[0].key_len == sizeof(sl_ing_source) - 1 &&
	    im[1].key == sl_ing_rels &&
	    im[1].key_len == sizeof(sl_ing_rels) - 1) {
		/* The Interpreter's (interp/interpret.c), by address. */
		src = &im[0].val;
		rels = &im[1].val;
	} else {
		src = MEMBER(ing, sl_ing_source);
		rels = MEMBER(ing, sl_ing_rels);
	}
	if (src == NULL || (rels != NULL && rels->type != SL_VARRAY))
		return not_ingestion("it has no source node");
	if (node_read(rd, src, &p->src) != 0)
		return -1;
	*src_ok = true;
	uint32_t n = rels != NULL ? rels->len : 0;
	if (n == 0)
		return 0;
	p->rels = sl_arena_alloc_aligned(rd->tmp, (size_t)n * sizeof(*p->rels),
	                                 _Alignof(struct rel_in));
	if (p->rels == NULL)
		return -1;
	for (; p->n_rels < n; p->n_rels++)
		if (rel_read(rd, &p->src, &rels->u.items[p->n_rels],
		             &p->rels[p->n_rels]) != 0)
			return -1;
	return 0;
}

struct sl_graph_prep *
sl_graph_prepare(struct sl_graph_prep_ctx *c, struct sl_arena *a,
                 struct sl_arena *shape, const struct sl_value *ing)
{
	/* A borrowing batch's index keeps the identity texts as they are. */
	struct reading rd = {c, a, a, shape};
	struct sl_graph_prep *p = sl_arena_alloc_aligned(
	        shape, sizeof(*p), _Alignof(struct sl_graph_prep));
	bool src_ok;
	if (p == NULL || ingestion_read(&rd, ing, p, &src_ok) != 0)
		return NULL;
	p->texts_in_batch = false;
	return p;
}

/* --- adding writes ------------------------------------------------------ */

/**
 * Grow `*v` (capacity `*cap`) to hold `n` + 1 writes: the first of 256,
 * or the capacity doubled, then doubled again as needed, that holds
 * them. Out of line: reserve() is inline in every write.
 */
static __attribute__((noinline)) int
reserve_grow(void **v, uint32_t *cap, uint32_t n, size_t size)
{
	uint64_t c = *cap ? (uint64_t)*cap * 2 : 256;
	while (c <= n)
		c *= 2;
	if (c > (uint64_t)1 << 31) {
		sl_diag_set(SL_ELIMIT, "too many writes in one batch");
		return -1;
	}
	void *p = sl_big_realloc(*v, (size_t)*cap * size, (size_t)c * size);
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory batching writes");
		return -1;
	}
	*v = p;
	*cap = (uint32_t)c;
	return 0;
}

/** Room for write `n` (and those before it) in `*v` (capacity `*cap`). */
static inline int
reserve(void **v, uint32_t *cap, uint32_t n, size_t size)
{
	if (__builtin_expect(n < *cap, 1))
		return 0;
	return reserve_grow(v, cap, n, size);
}

/** Start loading the bucket of hash `h` into the cache. */
static inline void
bucket_prefetch(const struct sl_graph_dedup *d, uint64_t h)
{
	if (d->cap > 0)
		__builtin_prefetch(&d->buckets[(uint32_t)h & (d->cap - 1)]);
}

/**
 * Add (or merge) the node write of `in`, and set in's type, key, key_text
 * and serial to the batch's. `kept`: its identity text lives as long as
 * the batch (no copy).
 */
static inline __attribute__((always_inline)) int
add_node(struct sl_graph_batch *b, struct node_in *in, bool kept)
{
	uint32_t at;
	struct slot *slot = index_probe(b->dedup, in->id.text, in->id.len,
	                                in->id.hash, false, 0, 0, &at);
	if (slot == NULL &&
	    (slot = index_insert(b, at, in->id.text, in->id.len, in->id.hash,
	                         false, 0, 0, kept)) == NULL)
		return -1;
	in->serial = slot->serial;
	in->key_text = sl_str_ref(slot->ident + in->id.key_at,
	                          (uint32_t)(slot->len - in->id.key_at));
	struct sl_value props = sl_object_ref(NULL, 0);
	struct sl_value labels = sl_array_ref(NULL, 0);
	if ((in->props.len > 0 && keep(b, &in->props, &props) != 0) ||
	    (in->labels.len > 0 && keep(b, &in->labels, &labels) != 0))
		return -1;
	uint32_t idx = slot->idx[in->rule];
	if (idx != NO_WRITE) {
		struct sl_node_op *op = &b->nodes[idx];
		in->type = op->type;
		in->key = op->key;
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
	struct sl_node_op *op = &b->nodes[b->n_nodes];
	op->key_text = in->key_text;
	op->props = props;
	op->labels = labels;
	op->rule = in->rule;
	if (keep(b, &in->type, &op->type) != 0 ||
	    keep(b, &in->key, &op->key) != 0)
		return -1;
	slot->idx[in->rule] = b->n_nodes++;
	in->type = op->type;
	in->key = op->key;
	return 0;
}

/**
 * Add (or merge) relationship `r` (its hash with its ends made) of an
 * ingestion whose source is `src`; `kept` as for add_node().
 */
static int
add_rel(struct sl_graph_batch *b, const struct node_in *src,
        const struct rel_in *r, bool kept)
{
	const struct node_in *from = r->out ? src : &r->node;
	const struct node_in *to = r->out ? &r->node : src;
	uint32_t at;
	struct slot *slot =
	        index_probe(b->dedup, r->id.text, r->id.len, r->hash, true,
	                    from->serial, to->serial, &at);
	bool found = slot != NULL;
	if (!found &&
	    (slot = index_insert(b, at, r->id.text, r->id.len, r->hash, true,
	                         from->serial, to->serial, kept)) == NULL)
		return -1;
	struct sl_value p = sl_object_ref(NULL, 0);
	if (r->props.len > 0 && keep(b, &r->props, &p) != 0)
		return -1;
	if (found) {
		struct sl_rel_op *op = &b->rels[slot->idx[0]];
		return merge_objects(&b->arena, &op->props, &p, &op->props);
	}
	if (reserve((void **)&b->rels, &b->cap_rels, b->n_rels,
	            sizeof(*b->rels)) != 0)
		return -1;
	slot->idx[0] = b->n_rels;
	struct sl_rel_op *op = &b->rels[b->n_rels++];
	/* Every member set once, without zeroing the write first. */
	op->type = r->type;
	op->from.type = from->type;
	op->from.key = from->key;
	op->from.key_text = from->key_text;
	op->from.fuzzy = from->rule == SL_NODE_FUZZY;
	op->to.type = to->type;
	op->to.key = to->key;
	op->to.key_text = to->key_text;
	op->to.fuzzy = to->rule == SL_NODE_FUZZY;
	op->key = r->key;
	op->props = p;
	op->rule = r->rule;
	if (b->borrow)
		return 0;
	return sl_value_copy(&b->arena, &r->type, &op->type) != 0 ||
	                       sl_value_copy(&b->arena, &r->key, &op->key) != 0
	               ? -1
	               : 0;
}

/**
 * The first ingestion `p` of batch `b`, which expects b->expect like it:
 * room for as many identities and writes as that many would make, before
 * merges, up to EXPECT_ROOM_MAX of each, at once rather than by
 * doublings (each a new index, its identities hashed again, and the
 * writes copied). 0, or -1 with the diagnostic set.
 */
static __attribute__((noinline, cold)) int
expect_room(struct sl_graph_batch *b, const struct sl_graph_prep *p)
{
	uint64_t e = b->expect;
	uint64_t ids = (1 + 2 * (uint64_t)p->n_rels) * e;
	uint64_t nodes = (1 + (uint64_t)p->n_rels) * e;
	uint64_t rels = (uint64_t)p->n_rels * e;
	/* The index may have served a batch before (it is passed on). */
	if (index_room(b->dedup,
	               ids < EXPECT_ROOM_MAX ? ids : EXPECT_ROOM_MAX) != 0)
		return -1;
	nodes = nodes < EXPECT_ROOM_MAX ? nodes : EXPECT_ROOM_MAX;
	rels = rels < EXPECT_ROOM_MAX ? rels : EXPECT_ROOM_MAX;
	return reserve((void **)&b->nodes, &b->cap_nodes, (uint32_t)nodes - 1,
	               sizeof(*b->nodes)) != 0 ||
	                       (rels > 0 &&
	                        reserve((void **)&b->rels, &b->cap_rels,
	                                (uint32_t)rels - 1,
	                                sizeof(*b->rels)) != 0)
	               ? -1
	               : 0;
}

/**
 * Add the writes of ingestion `p`: its source, its related nodes, then
 * its relationships. Every bucket of a group is asked for before its
 * look-ups, so that their cache misses overlap.
 */
static int
add_writes(struct sl_graph_batch *b, struct sl_graph_prep *p)
{
	struct sl_graph_dedup *d = b->dedup;
	bool kept = p->texts_in_batch || b->borrow;
	if (__builtin_expect(b->cap_nodes == 0, 0) && b->expect > 1 &&
	    expect_room(b, p) != 0)
		return -1;
	/* Room for every identity of the ingestion at once: its source, a
	 * node and a relationship per relationship. */
	if (index_room(d, 1 + 2 * (uint64_t)p->n_rels) != 0)
		return -1;
	bucket_prefetch(d, p->src.id.hash);
	for (uint32_t i = 0; i < p->n_rels; i++) {
		bucket_prefetch(d, p->rels[i].node.id.hash);
		bucket_prefetch(d, p->rels[i].hash);
	}
	/* The source, then each related node: one call site, inline. */
	for (uint32_t i = 0; i <= p->n_rels; i++)
		if (add_node(b, i == 0 ? &p->src : &p->rels[i - 1].node,
		             kept) != 0)
			return -1;
	for (uint32_t i = 0; i < p->n_rels; i++)
		if (add_rel(b, &p->src, &p->rels[i], kept) != 0)
			return -1;
	return 0;
}

/** Ask for the `n` bytes at `p` (n > 0), a cache line at a time. */
static inline void
prefetch_span(const void *p, size_t n)
{
	const char *c = p;
	for (size_t i = 0; i < n; i += 64)
		__builtin_prefetch(c + i);
	__builtin_prefetch(c + n - 1);
}

/** Ask for what merging node `n` reads beyond `n` itself. */
static inline void
node_in_prefetch(const struct node_in *n)
{
	__builtin_prefetch(n->id.text);
	if (n->props.len > 0)
		__builtin_prefetch(n->props.u.members);
}

void
sl_graph_batch_prefetch(const struct sl_graph_batch *b,
                        const struct sl_graph_prep *p, int step)
{
	if (step == 0) {
		prefetch_span(p, sizeof(*p));
		return;
	}
	if (step == 1) {
		if (p->n_rels > 0)
			prefetch_span(p->rels, p->n_rels * sizeof(*p->rels));
		return;
	}
	node_in_prefetch(&p->src);
	bucket_prefetch(b->dedup, p->src.id.hash);
	for (uint32_t i = 0; i < p->n_rels; i++) {
		node_in_prefetch(&p->rels[i].node);
		bucket_prefetch(b->dedup, p->rels[i].node.id.hash);
		bucket_prefetch(b->dedup, p->rels[i].hash);
		if (p->rels[i].props.len > 0)
			__builtin_prefetch(p->rels[i].props.u.members);
	}
}

int
sl_graph_batch_add_prep(struct sl_graph_batch *b, struct sl_graph_prep *p)
{
	if (add_writes(b, p) != 0)
		return -1;
	b->n_ingestions++;
	return 0;
}

int
sl_graph_batch_add(struct sl_graph_batch *b, const struct sl_value *ing)
{
	struct sl_graph_dedup *d = b->dedup;
	/* The scratch holds only the readings of ingestions added: emptied
	 * once a chunk's half is used, not for each ingestion. */
	if (sl_arena_used(&d->scratch) > SCRATCH_CHUNK / 2)
		sl_arena_reset(&d->scratch);
	/* Sorted keys go where the writes keep them. */
	struct reading rd = {&d->ctx, &b->arena, &b->arena, &d->scratch};
	struct sl_graph_prep p;
	p.texts_in_batch = true;
	bool src_ok;
	if (ingestion_read(&rd, ing, &p, &src_ok) == 0)
		return sl_graph_batch_add_prep(b, &p);
	if (!src_ok)
		return -1;
	/* A relationship that does not read fails the ingestion after the
	 * writes before it, as when each was added in turn. */
	struct sl_diag err;
	sl_diag_stash(&err);
	if (add_writes(b, &p) == 0)
		sl_diag_restore(&err);
	else
		sl_diag_destroy(&err);
	return -1;
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
 * Returns the previous length, to restore with place_pop(). A NULL `p`
 * (the checks' quick pass, see sl_graph_check()) keeps no place.
 */
static size_t
place_push(struct place *p, const char *sep, const char *s, size_t n)
{
	if (p == NULL)
		return 0;
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
	if (p == NULL)
		return 0;
	char idx[16];
	int n = snprintf(idx, sizeof(idx), "[%u]", i);
	return place_push(p, "", idx, (size_t)n);
}

/** Restore `p` to length `mark`. */
static void
place_pop(struct place *p, size_t mark)
{
	if (p == NULL)
		return;
	p->len = mark;
	p->text[mark] = '\0';
}

/**
 * Fail: `store` cannot hold what `what` says is at `p` (NULL: the quick
 * pass, which sets no error).
 */
static int
refuse(const char *store, const struct place *p, const char *what)
{
	if (p == NULL)
		return -1;
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
 * Whether number text `v` is finite as it stands: integer text is written
 * as it is; other number text is infinite only with an exponent or with
 * more digits than a double's range.
 */
static inline bool
number_text_finite(const struct sl_value *v)
{
	bool dot = false;
	for (uint32_t i = 0; i < v->len; i++) {
		char c = v->u.s[i];
		if (c == 'e' || c == 'E')
			return false;
		dot = dot || c == '.';
	}
	return v->len < 300 || !dot;
}

/**
 * Whether `v` is a scalar that no store's check refuses under `cannot`
 * (so that its place need not be kept nor check_value() called). False
 * also where it may be refused: check_value() then decides.
 */
static inline bool
plainly_fine(const struct sl_value *v, unsigned cannot)
{
	switch ((enum sl_vtype)v->type) {
	case SL_VNULL:
	case SL_VBOOL:
	case SL_VINT:
		return true;
	case SL_VSTR:
		return !(cannot & SL_GRAPH_NO_NUL) || !has_nul(v->u.s, v->len);
	case SL_VNUMBER:
		return !(cannot & SL_GRAPH_NO_INF) || number_text_finite(v);
	case SL_VDOUBLE:
		return isfinite(v->u.d);
	default:
		return false;
	}
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
		if (!(cannot & SL_GRAPH_NO_INF) || number_text_finite(v))
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
			if (plainly_fine(&v->u.items[i], cannot))
				continue;
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
			bool name_nul =
			        ((cannot & SL_GRAPH_NO_NUL) ||
			         (key && (cannot & SL_GRAPH_NO_NUL_NAME))) &&
			        has_nul(m->key, m->key_len);
			if (!name_nul && plainly_fine(&m->val, cannot))
				continue;
			size_t mark = place_push(p, ".", m->key, m->key_len);
			if (name_nul)
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
	static const uint32_t lens[] = {4, 3, 6, 5};
	const struct sl_value *vs[4];
	const struct sl_member *nm = n->u.members;
	if (n->type == SL_VOBJECT && n->len == 5 && nm[0].key == sl_ing_type &&
	    nm[1].key == sl_ing_labels && nm[2].key == sl_ing_key &&
	    nm[3].key == sl_ing_props && nm[4].key == sl_ing_rule) {
		/* The Interpreter's node (interp/interpret.c): its members by
		 * their names' addresses, each once. */
		vs[0] = &nm[0].val;
		vs[1] = &nm[2].val;
		vs[2] = &nm[1].val;
		vs[3] = &nm[3].val;
	} else {
		vs[0] = MEMBER(n, sl_ing_type);
		vs[1] = MEMBER(n, sl_ing_key);
		vs[2] = MEMBER(n, sl_ing_labels);
		vs[3] = MEMBER(n, sl_ing_props);
	}
	for (size_t i = 0; i < 4; i++) {
		const struct sl_value *v = vs[i];
		if (v == NULL)
			continue;
		size_t mark = place_push(p, ".", parts[i], lens[i]);
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

/**
 * sl_graph_check() with the places of what it meets kept in `p`, or none
 * (NULL: a quick pass that sets no error).
 */
static int
check_ingestion(const struct sl_value *ing, unsigned cannot, const char *store,
                struct place *p)
{
	const struct sl_value *src = MEMBER(ing, sl_ing_source);
	size_t mark = place_push(p, "", "source", 6);
	if (src != NULL && check_node(src, cannot, store, p) != 0)
		return -1;
	place_pop(p, mark);
	const struct sl_value *rels = MEMBER(ing, sl_ing_rels);
	for (uint32_t i = 0;
	     rels != NULL && rels->type == SL_VARRAY && i < rels->len; i++) {
		const struct sl_value *r = &rels->u.items[i];
		(void)place_push(p, "", "rels", 4);
		(void)place_index(p, i);
		static const char *const parts[] = {"type", "key", "props"};
		static const uint32_t lens[] = {4, 3, 5};
		const struct sl_value *vs[4];
		const struct sl_member *rm = r->u.members;
		if (r->type == SL_VOBJECT && r->len == 6 &&
		    rm[0].key == sl_ing_type && rm[1].key == sl_ing_key &&
		    rm[2].key == sl_ing_props && rm[3].key == sl_ing_rule &&
		    rm[4].key == sl_ing_outbound && rm[5].key == sl_ing_node) {
			/* The Interpreter's relationship, as check_node()
			 * takes its node. */
			vs[0] = &rm[0].val;
			vs[1] = &rm[1].val;
			vs[2] = &rm[2].val;
			vs[3] = &rm[5].val;
		} else {
			vs[0] = MEMBER(r, sl_ing_type);
			vs[1] = MEMBER(r, sl_ing_key);
			vs[2] = MEMBER(r, sl_ing_props);
			vs[3] = MEMBER(r, sl_ing_node);
		}
		for (size_t j = 0; j < 3; j++) {
			const struct sl_value *v = vs[j];
			if (v == NULL)
				continue;
			size_t m2 = place_push(p, ".", parts[j], lens[j]);
			if (j == 0 ? check_name(v, cannot, store, p) != 0
			           : check_value(v, cannot, j == 1, store, p) !=
			                     0)
				return -1;
			place_pop(p, m2);
		}
		const struct sl_value *node = vs[3];
		size_t m3 = place_push(p, ".", "node", 4);
		if (node != NULL && check_node(node, cannot, store, p) != 0)
			return -1;
		place_pop(p, m3);
		place_pop(p, 0);
	}
	return 0;
}

int
sl_graph_check(const struct sl_value *ing, unsigned cannot, const char *store)
{
	if (cannot == 0 || ing->type != SL_VOBJECT ||
	    check_ingestion(ing, cannot, store, NULL) == 0)
		return 0;
	/* Again, keeping the places, for the message. */
	struct place p = {.len = 0};
	p.text[0] = '\0';
	return check_ingestion(ing, cannot, store, &p);
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
