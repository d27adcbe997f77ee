/*
 * sluice: PackStream (packstream.h).
 *
 * Writers make room once per value (a marker, its size and a string's
 * bytes) and store straight into the buffer; a failed call puts the
 * buffer's length back. The reader is one recursive pass over the input:
 * it allocates only the arrays of lists, maps and structures, after
 * checking their sizes against the bytes left. sl_ps_get() takes any
 * form of a size or integer, as a server may write them; the canonical
 * reader takes only the smallest, which is what makes a decoded message
 * re-encode to the same bytes.
 */
#include "packstream.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sluice/diag.h"

/** Marker bytes. */
enum ps_marker {
	PS_TINY_STRING = 0x80, /**< 80..8F: string of 0..15 bytes */
	PS_TINY_LIST = 0x90,   /**< 90..9F: list of 0..15 items */
	PS_TINY_MAP = 0xA0,    /**< A0..AF: map of 0..15 entries */
	PS_TINY_STRUCT = 0xB0, /**< B0..BF: structure of 0..15 fields */
	PS_NULL = 0xC0,        /**< null */
	PS_FLOAT = 0xC1,       /**< float64 follows */
	PS_FALSE = 0xC2,       /**< false */
	PS_TRUE = 0xC3,        /**< true */
	PS_INT8 = 0xC8,        /**< C8..CB: 1, 2, 4, 8-byte integer follows */
	PS_INT64 = 0xCB,       /**< the widest integer */
	PS_BYTES8 = 0xCC,      /**< CC..CE: byte array, 1, 2, 4-byte size */
	PS_STRING8 = 0xD0,     /**< D0..D2: string, 1, 2, 4-byte size */
	PS_LIST8 = 0xD4,       /**< D4..D6: list, 1, 2, 4-byte size */
	PS_MAP8 = 0xD8,        /**< D8..DA: map, 1, 2, 4-byte size */
	PS_TINY_INT_MIN = 0xF0 /**< F0..FF: integers -16..-1 */
};

/** Bytes of a float64 with its marker. */
#define PS_FLOAT_SIZE 9

/** Nanoseconds in a second. */
#define NS_PER_S 1000000000
/** Seconds in a day. */
#define S_PER_DAY 86400
/** Largest UTC offset a temporal value may have: 18 hours, as in Java. */
#define OFFSET_MAX (18 * 3600)
/** Largest day count (either sign) a Date may have: about 3e12 years. */
#define DAYS_MAX ((int64_t)1 << 50)
/** Room for any formatted temporal value without its zone id. */
#define TEMPORAL_TEXT_MAX 128

/* {{{ writing */

/** Store big-endian `v` at `o`; the byte after it. */
static inline unsigned char *
be16(unsigned char *o, uint16_t v)
{
	o[0] = (unsigned char)(v >> 8);
	o[1] = (unsigned char)v;
	return o + 2;
}

/** Store big-endian `v` at `o`; the byte after it. */
static inline unsigned char *
be32(unsigned char *o, uint32_t v)
{
	o[0] = (unsigned char)(v >> 24);
	o[1] = (unsigned char)(v >> 16);
	o[2] = (unsigned char)(v >> 8);
	o[3] = (unsigned char)v;
	return o + 4;
}

/** Store big-endian `v` at `o`; the byte after it. */
static inline unsigned char *
be64(unsigned char *o, uint64_t v)
{
	be32(o, (uint32_t)(v >> 32));
	return be32(o + 4, (uint32_t)v);
}

/**
 * The write position of `b` with room for `n` more bytes and the
 * terminator, or NULL with SL_EOOM or SL_ELIMIT.
 */
static inline unsigned char *
room(struct sl_buf *b, size_t n)
{
	if (b->alloc - b->len <= n && sl_buf_reserve(b, n) != 0)
		return NULL;
	return (unsigned char *)b->data + b->len;
}

/** End a write that stopped at `o`: the new length and terminator. */
static inline void
commit(struct sl_buf *b, unsigned char *o)
{
	b->len = (size_t)((char *)o - b->data);
	*o = '\0';
}

/** Put the length of `b` back to `len` after a failed write. */
static void
rollback(struct sl_buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

/**
 * Store the header of `n` items or bytes: `tiny` | n below 16 (unless
 * `tiny` is 0: byte arrays have no tiny form), else `m8`, `m8` + 1 or
 * `m8` + 2 followed by an 8-, 16- or 32-bit size.
 */
static inline unsigned char *
w_head(unsigned char *o, unsigned tiny, unsigned m8, uint32_t n)
{
	if (n < 16 && tiny != 0) {
		*o = (unsigned char)(tiny | n);
		return o + 1;
	}
	if (n < 0x100) {
		o[0] = (unsigned char)m8;
		o[1] = (unsigned char)n;
		return o + 2;
	}
	if (n < 0x10000) {
		o[0] = (unsigned char)(m8 + 1);
		return be16(o + 1, (uint16_t)n);
	}
	o[0] = (unsigned char)(m8 + 2);
	return be32(o + 1, n);
}

/** Bytes of the smallest form of integer `v`. */
static inline size_t
int_size(int64_t v)
{
	if (v >= -16 && v <= 127)
		return 1;
	if (v >= INT8_MIN && v <= INT8_MAX)
		return 2;
	if (v >= INT16_MIN && v <= INT16_MAX)
		return 3;
	return v >= INT32_MIN && v <= INT32_MAX ? 5 : 9;
}

/** Bytes of a string of `n` bytes with its header. */
static inline size_t
str_size(uint32_t n)
{
	return (n < 16 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + (size_t)n;
}

/** Store integer `v` in its smallest form. */
static inline unsigned char *
w_int(unsigned char *o, int64_t v)
{
	if (v >= -16 && v <= 127) {
		*o = (unsigned char)v;
		return o + 1;
	}
	if (v >= INT8_MIN && v <= INT8_MAX) {
		o[0] = PS_INT8;
		o[1] = (unsigned char)v;
		return o + 2;
	}
	if (v >= INT16_MIN && v <= INT16_MAX) {
		o[0] = PS_INT8 + 1;
		return be16(o + 1, (uint16_t)v);
	}
	if (v >= INT32_MIN && v <= INT32_MAX) {
		o[0] = PS_INT8 + 2;
		return be32(o + 1, (uint32_t)v);
	}
	o[0] = PS_INT64;
	return be64(o + 1, (uint64_t)v);
}

/** Store float64 `d`. */
static inline unsigned char *
w_float(unsigned char *o, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof(bits));
	o[0] = PS_FLOAT;
	return be64(o + 1, bits);
}

/**
 * Copy `n` bytes to `o`: up to 16 with two overlapping fixed-size moves
 * (keys and short values are most of a row, and a call to memcpy() costs
 * more than the copy).
 */
static inline void
copy_bytes(unsigned char *o, const char *s, uint32_t n)
{
	if (n > 16) {
		memcpy(o, s, n);
	} else if (n >= 8) {
		memcpy(o, s, 8);
		memcpy(o + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(o, s, 4);
		memcpy(o + n - 4, s + n - 4, 4);
	} else if (n > 0) {
		o[0] = (unsigned char)s[0];
		o[n / 2] = (unsigned char)s[n / 2];
		o[n - 1] = (unsigned char)s[n - 1];
	}
}

/** Store a string of `n` bytes. */
static inline unsigned char *
w_str(unsigned char *o, const char *s, uint32_t n)
{
	o = w_head(o, PS_TINY_STRING, PS_STRING8, n);
	copy_bytes(o, s, n);
	return o + n;
}

/** Fail with SL_ELIMIT: a `what` of `n` is past PackStream's sizes. */
static int
too_long(const char *what, size_t n)
{
	sl_diag_set(SL_ELIMIT,
	            "PackStream: a %s of %zu is larger than 4294967295", what,
	            n);
	return -1;
}

/** Append one marker byte. */
static int
put_marker(struct sl_buf *b, unsigned m)
{
	unsigned char *o = room(b, 1);
	if (o == NULL)
		return -1;
	*o = (unsigned char)m;
	commit(b, o + 1);
	return 0;
}

/** Append a header of `n` items (see w_head()); `what` for messages. */
static int
put_head(struct sl_buf *b, unsigned tiny, unsigned m8, size_t n,
         const char *what)
{
	if (n > UINT32_MAX)
		return too_long(what, n);
	unsigned char *o = room(b, str_size((uint32_t)n) - n);
	if (o == NULL)
		return -1;
	commit(b, w_head(o, tiny, m8, (uint32_t)n));
	return 0;
}

int
sl_ps_put_null(struct sl_buf *b)
{
	return put_marker(b, PS_NULL);
}

int
sl_ps_put_bool(struct sl_buf *b, bool v)
{
	return put_marker(b, v ? PS_TRUE : PS_FALSE);
}

int
sl_ps_put_int(struct sl_buf *b, int64_t v)
{
	unsigned char *o = room(b, int_size(v));
	if (o == NULL)
		return -1;
	commit(b, w_int(o, v));
	return 0;
}

int
sl_ps_put_float(struct sl_buf *b, double v)
{
	unsigned char *o = room(b, PS_FLOAT_SIZE);
	if (o == NULL)
		return -1;
	commit(b, w_float(o, v));
	return 0;
}

int
sl_ps_put_string(struct sl_buf *b, const char *s, size_t n)
{
	assert(s != NULL || n == 0);
	if (n > UINT32_MAX)
		return too_long("string", n);
	unsigned char *o = room(b, str_size((uint32_t)n));
	if (o == NULL)
		return -1;
	commit(b, w_str(o, s, (uint32_t)n));
	return 0;
}

int
sl_ps_put_cstr(struct sl_buf *b, const char *s)
{
	return sl_ps_put_string(b, s, strlen(s));
}

int
sl_ps_put_bytes(struct sl_buf *b, const void *p, size_t n)
{
	assert(p != NULL || n == 0);
	if (n > UINT32_MAX)
		return too_long("byte array", n);
	unsigned char *o = room(b, (n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + n);
	if (o == NULL)
		return -1;
	o = w_head(o, 0, PS_BYTES8, (uint32_t)n);
	if (n > 0)
		memcpy(o, p, n);
	commit(b, o + n);
	return 0;
}

int
sl_ps_put_list(struct sl_buf *b, size_t n)
{
	return put_head(b, PS_TINY_LIST, PS_LIST8, n, "list");
}

int
sl_ps_put_map(struct sl_buf *b, size_t n)
{
	return put_head(b, PS_TINY_MAP, PS_MAP8, n, "map");
}

int
sl_ps_put_struct(struct sl_buf *b, unsigned nfields, uint8_t tag)
{
	if (nfields > SL_PS_STRUCT_FIELDS_MAX) {
		sl_diag_set(SL_EINVAL,
		            "PackStream: a structure has at most %d fields, "
		            "not %u",
		            SL_PS_STRUCT_FIELDS_MAX, nfields);
		return -1;
	}
	unsigned char *o = room(b, 2);
	if (o == NULL)
		return -1;
	o[0] = (unsigned char)(PS_TINY_STRUCT | nfields);
	o[1] = tag;
	commit(b, o + 2);
	return 0;
}

int
sl_ps_put_datetime(struct sl_buf *b, int64_t epoch_s, int64_t nanos,
                   int32_t offset_s)
{
	unsigned char *o = room(b, 2 + int_size(epoch_s) + int_size(nanos) +
	                                   int_size(offset_s));
	if (o == NULL)
		return -1;
	o[0] = PS_TINY_STRUCT | 3;
	o[1] = SL_PS_TAG_DATETIME;
	o = w_int(o + 2, epoch_s);
	o = w_int(o, nanos);
	commit(b, w_int(o, offset_s));
	return 0;
}

/** Fail with SL_EINVAL: nesting past SL_PS_DEPTH_MAX while writing. */
static int
too_deep_to_write(void)
{
	sl_diag_set(SL_EINVAL,
	            "PackStream: a value nested deeper than %d cannot be "
	            "written",
	            SL_PS_DEPTH_MAX);
	return -1;
}

/** Append decoded value `v`, nested in `depth` containers. */
static int
put_ps(struct sl_buf *b, const struct sl_ps *v, unsigned depth)
{
	unsigned char *o;
	switch ((enum sl_ps_type)v->type) {
	case SL_PS_NULL:
		return put_marker(b, PS_NULL);
	case SL_PS_BOOL:
		return put_marker(b, v->u.b ? PS_TRUE : PS_FALSE);
	case SL_PS_INT:
		return sl_ps_put_int(b, v->u.i);
	case SL_PS_FLOAT:
		return sl_ps_put_float(b, v->u.d);
	case SL_PS_STRING:
		if ((o = room(b, str_size(v->len))) == NULL)
			return -1;
		commit(b, w_str(o, v->u.s, v->len));
		return 0;
	case SL_PS_BYTES:
		return sl_ps_put_bytes(b, v->u.s, v->len);
	case SL_PS_LIST:
	case SL_PS_STRUCT:
		if (depth >= SL_PS_DEPTH_MAX)
			return too_deep_to_write();
		if (v->type == SL_PS_LIST) {
			if (sl_ps_put_list(b, v->len) != 0)
				return -1;
		} else if (sl_ps_put_struct(b, v->len, v->tag) != 0) {
			return -1;
		}
		for (uint32_t i = 0; i < v->len; i++)
			if (put_ps(b, &v->u.items[i], depth + 1) != 0)
				return -1;
		return 0;
	case SL_PS_MAP:
		if (depth >= SL_PS_DEPTH_MAX)
			return too_deep_to_write();
		if (sl_ps_put_map(b, v->len) != 0)
			return -1;
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_ps_entry *e = &v->u.entries[i];
			if ((o = room(b, str_size(e->key_len))) == NULL)
				return -1;
			commit(b, w_str(o, e->key, e->key_len));
			if (put_ps(b, &e->val, depth + 1) != 0)
				return -1;
		}
		return 0;
	}
	sl_diag_set(SL_EINVAL, "PackStream: no value type %u", v->type);
	return -1;
}

int
sl_ps_put(struct sl_buf *b, const struct sl_ps *v)
{
	size_t start = b->len;
	if (put_ps(b, v, 0) != 0) {
		rollback(b, start);
		return -1;
	}
	return 0;
}

/** Append record value `v`, nested in `depth` containers. */
static int
put_value(struct sl_buf *b, const struct sl_value *v, unsigned depth)
{
	unsigned char *o;
	switch ((enum sl_vtype)v->type) {
	case SL_VNULL:
		return put_marker(b, PS_NULL);
	case SL_VBOOL:
		return put_marker(b, v->u.b ? PS_TRUE : PS_FALSE);
	case SL_VINT:
		return sl_ps_put_int(b, v->u.i);
	case SL_VDOUBLE:
		return sl_ps_put_float(b, v->u.d);
	case SL_VNUMBER: {
		if (!sl_number_text_valid(v->u.s, v->len)) {
			sl_diag_set(SL_EINVAL,
			            "PackStream: \"%.*s\" is not a number",
			            (int)(v->len > 64 ? 64 : v->len), v->u.s);
			return -1;
		}
		struct sl_value num = sl_value_number(*v);
		return put_value(b, &num, depth);
	}
	case SL_VSTR:
		if ((o = room(b, str_size(v->len))) == NULL)
			return -1;
		commit(b, w_str(o, v->u.s, v->len));
		return 0;
	case SL_VARRAY:
		if (depth >= SL_PS_DEPTH_MAX)
			return too_deep_to_write();
		if (sl_ps_put_list(b, v->len) != 0)
			return -1;
		for (uint32_t i = 0; i < v->len; i++)
			if (put_value(b, &v->u.items[i], depth + 1) != 0)
				return -1;
		return 0;
	case SL_VOBJECT:
		if (depth >= SL_PS_DEPTH_MAX)
			return too_deep_to_write();
		if (sl_ps_put_map(b, v->len) != 0)
			return -1;
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_member *m = &v->u.members[i];
			const struct sl_value *x = &m->val;
			/* Rows are mostly short strings and integers: one
			 * reservation for the key and such a value. */
			size_t need = str_size(m->key_len) +
			              (x->type == SL_VSTR   ? str_size(x->len)
			               : x->type == SL_VINT ? int_size(x->u.i)
			                                    : 0);
			if ((o = room(b, need)) == NULL)
				return -1;
			o = w_str(o, m->key, m->key_len);
			if (x->type == SL_VSTR) {
				commit(b, w_str(o, x->u.s, x->len));
			} else if (x->type == SL_VINT) {
				commit(b, w_int(o, x->u.i));
			} else {
				commit(b, o);
				if (put_value(b, x, depth + 1) != 0)
					return -1;
			}
		}
		return 0;
	}
	sl_diag_set(SL_EINVAL, "PackStream: no record value type %u", v->type);
	return -1;
}

int
sl_ps_put_value(struct sl_buf *b, const struct sl_value *v)
{
	size_t start = b->len;
	if (put_value(b, v, 0) != 0) {
		rollback(b, start);
		return -1;
	}
	return 0;
}

/* }}} */
/* {{{ reading */

/** The state of one sl_ps_get() call. */
struct reader {
	/** The first byte of the input: offsets in messages count from it. */
	const unsigned char *base;
	/** One past the last byte of the input. */
	const unsigned char *end;
	/** Where lists, maps and structures are allocated. */
	struct sl_arena *arena;
	/** Refuse sizes and integers not in their smallest form. */
	bool canonical;
};

/** Read a big-endian 16-bit integer. */
static inline uint16_t
rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/** Read a big-endian 32-bit integer. */
static inline uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/** Read a big-endian 64-bit integer. */
static inline uint64_t
rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

/**
 * Fail with SL_EPARSE: "PackStream: <what> at byte <offset of `at`>".
 * Returns NULL.
 */
static const unsigned char *__attribute__((format(printf, 3, 4)))
bad(const struct reader *r, const unsigned char *at, const char *fmt, ...)
{
	char what[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sl_diag_set(SL_EPARSE, "PackStream: %s at byte %zu", what,
	            (size_t)(at - r->base));
	return NULL;
}

/** Fail: the value whose marker is at `at` needs `need` bytes from `p`. */
static const unsigned char *
truncated(const struct reader *r, const unsigned char *at,
          const unsigned char *p, size_t need)
{
	return bad(r, at,
	           "truncated input: marker 0x%02X needs %zu more bytes, "
	           "%zu left",
	           *at, need, (size_t)(r->end - p));
}

/**
 * Read the `width`-byte size after the marker at `at` (`p` is just past
 * the marker) into *n. Sizes below `floor` fit a smaller form and are
 * refused. The position after the size, or NULL.
 */
static inline const unsigned char *
get_size(const struct reader *r, const unsigned char *at,
         const unsigned char *p, unsigned width, uint32_t floor, uint32_t *n)
{
	if ((size_t)(r->end - p) < width)
		return truncated(r, at, p, width);
	uint32_t v = width == 1 ? p[0] : width == 2 ? rd16(p) : rd32(p);
	if (r->canonical && v < floor)
		return bad(r, at,
		           "size %" PRIu32 " after marker 0x%02X is not in its "
		           "smallest form",
		           v, *at);
	*n = v;
	return p + width;
}

/** The least size each width of a sized marker is for, by m & 3. */
static const uint32_t size_floor[3] = {16, 0x100, 0x10000};

static const unsigned char *get_val(const struct reader *r,
                                    const unsigned char *p, unsigned depth,
                                    struct sl_ps *out);

/**
 * Read `n` items (list items or structure fields) from `p` into a new
 * array at *items. `at` is the container's marker, at nesting `depth`.
 */
static const unsigned char *
get_items(const struct reader *r, const unsigned char *at,
          const unsigned char *p, uint32_t n, unsigned depth,
          struct sl_ps **items)
{
	if (n > (size_t)(r->end - p))
		return bad(r, at,
		           "truncated input: %" PRIu32 " items declared, %zu "
		           "bytes left",
		           n, (size_t)(r->end - p));
	*items = NULL;
	if (n == 0)
		return p;
	struct sl_ps *it = sl_arena_alloc_aligned(
	        r->arena, (size_t)n * sizeof(*it), _Alignof(struct sl_ps));
	if (it == NULL)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		if ((p = get_val(r, p, depth + 1, &it[i])) == NULL)
			return NULL;
	*items = it;
	return p;
}

/** Read `n` map entries from `p` into *entries (see get_items()). */
static const unsigned char *
get_entries(const struct reader *r, const unsigned char *at,
            const unsigned char *p, uint32_t n, unsigned depth,
            struct sl_ps_entry **entries)
{
	if (n > (size_t)(r->end - p) / 2)
		return bad(r, at,
		           "truncated input: %" PRIu32 " map entries declared, "
		           "%zu bytes left",
		           n, (size_t)(r->end - p));
	*entries = NULL;
	if (n == 0)
		return p;
	struct sl_ps_entry *e = sl_arena_alloc_aligned(
	        r->arena, (size_t)n * sizeof(*e), _Alignof(struct sl_ps_entry));
	if (e == NULL)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *key = p;
		if (p == r->end)
			return bad(r, p, "truncated input: a map key expected");
		unsigned m = *p++;
		uint32_t len = 0;
		if ((m & 0xF0) == PS_TINY_STRING) {
			len = m & 0x0F;
		} else if (m >= PS_STRING8 && m <= PS_STRING8 + 2) {
			p = get_size(r, key, p, 1u << (m & 3),
			             size_floor[m & 3], &len);
			if (p == NULL)
				return NULL;
		} else {
			return bad(r, key,
			           "a map key is not a string (marker 0x%02X)",
			           m);
		}
		if (len > (size_t)(r->end - p))
			return truncated(r, key, p, len);
		e[i].key = (const char *)p;
		e[i].key_len = len;
		if ((p = get_val(r, p + len, depth + 1, &e[i].val)) == NULL)
			return NULL;
	}
	*entries = e;
	return p;
}

/** Read a sized value (string, bytes, list, map) of `n` after marker at. */
static const unsigned char *
get_sized(const struct reader *r, const unsigned char *at,
          const unsigned char *p, enum sl_ps_type type, uint32_t n,
          unsigned depth, struct sl_ps *out)
{
	out->type = (uint8_t)type;
	out->len = n;
	switch (type) {
	case SL_PS_STRING:
	case SL_PS_BYTES:
		if (n > (size_t)(r->end - p))
			return truncated(r, at, p, n);
		out->u.s = (const char *)p;
		return p + n;
	case SL_PS_LIST:
		if (depth >= SL_PS_DEPTH_MAX)
			break;
		return get_items(r, at, p, n, depth, &out->u.items);
	case SL_PS_MAP:
		if (depth >= SL_PS_DEPTH_MAX)
			break;
		return get_entries(r, at, p, n, depth, &out->u.entries);
	default:
		assert(!"not a sized type");
		return NULL;
	}
	return bad(r, at, "nesting deeper than %d", SL_PS_DEPTH_MAX);
}

/** Read an integer of 1 << (m - PS_INT8) bytes after marker `at`. */
static const unsigned char *
get_int(const struct reader *r, const unsigned char *at, const unsigned char *p,
        struct sl_ps *out)
{
	unsigned width = 1u << (*at - PS_INT8);
	if ((size_t)(r->end - p) < width)
		return truncated(r, at, p, width);
	/* [lo, hi]: what the next smaller form holds. */
	int64_t v, lo, hi;
	switch (width) {
	case 1:
		v = (int8_t)p[0];
		lo = -16, hi = 127;
		break;
	case 2:
		v = (int16_t)rd16(p);
		lo = INT8_MIN, hi = INT8_MAX;
		break;
	case 4:
		v = (int32_t)rd32(p);
		lo = INT16_MIN, hi = INT16_MAX;
		break;
	default:
		v = (int64_t)rd64(p);
		lo = INT32_MIN, hi = INT32_MAX;
		break;
	}
	if (r->canonical && v >= lo && v <= hi)
		return bad(r, at,
		           "integer %" PRId64 " is not in its smallest form "
		           "(marker 0x%02X)",
		           v, *at);
	out->type = SL_PS_INT;
	out->u.i = v;
	return p + width;
}

/** Read one value at `p`, nested in `depth` containers, into *out. */
static const unsigned char *
get_val(const struct reader *r, const unsigned char *p, unsigned depth,
        struct sl_ps *out)
{
	const unsigned char *at = p;
	if (p == r->end)
		return bad(r, p, "truncated input: a value expected");
	unsigned m = *p++;
	out->tag = 0;
	out->len = 0;
	if (m < PS_TINY_STRING || m >= PS_TINY_INT_MIN) {
		out->type = SL_PS_INT;
		out->u.i = (int8_t)m;
		return p;
	}
	uint32_t n = 0;
	switch (m >> 4) {
	case PS_TINY_STRING >> 4:
		return get_sized(r, at, p, SL_PS_STRING, m & 0x0F, depth, out);
	case PS_TINY_LIST >> 4:
		return get_sized(r, at, p, SL_PS_LIST, m & 0x0F, depth, out);
	case PS_TINY_MAP >> 4:
		return get_sized(r, at, p, SL_PS_MAP, m & 0x0F, depth, out);
	case PS_TINY_STRUCT >> 4:
		if (depth >= SL_PS_DEPTH_MAX)
			return bad(r, at, "nesting deeper than %d",
			           SL_PS_DEPTH_MAX);
		if (p == r->end)
			return truncated(r, at, p, 1);
		out->type = SL_PS_STRUCT;
		out->tag = *p;
		out->len = m & 0x0F;
		return get_items(r, at, p + 1, m & 0x0F, depth, &out->u.items);
	case 0xC:
		switch (m) {
		case PS_NULL:
			out->type = SL_PS_NULL;
			out->u.i = 0;
			return p;
		case PS_FALSE:
		case PS_TRUE:
			out->type = SL_PS_BOOL;
			out->u.i = 0;
			out->u.b = m == PS_TRUE;
			return p;
		case PS_FLOAT: {
			if (r->end - p < 8)
				return truncated(r, at, p, 8);
			uint64_t bits = rd64(p);
			out->type = SL_PS_FLOAT;
			memcpy(&out->u.d, &bits, sizeof(bits));
			return p + 8;
		}
		case PS_INT8:
		case PS_INT8 + 1:
		case PS_INT8 + 2:
		case PS_INT64:
			return get_int(r, at, p, out);
		case PS_BYTES8:
		case PS_BYTES8 + 1:
		case PS_BYTES8 + 2:
			/* Byte arrays have no tiny form: 8 bits take 0..255. */
			p = get_size(r, at, p, 1u << (m & 3),
			             m == PS_BYTES8 ? 0 : size_floor[m & 3],
			             &n);
			if (p == NULL)
				return NULL;
			return get_sized(r, at, p, SL_PS_BYTES, n, depth, out);
		default:
			break;
		}
		break;
	case 0xD: {
		static const uint8_t types[3] = {SL_PS_STRING, SL_PS_LIST,
		                                 SL_PS_MAP};
		unsigned kind = (m >> 2) & 3, width = m & 3;
		if (kind > 2 || width > 2)
			break;
		p = get_size(r, at, p, 1u << width, size_floor[width], &n);
		if (p == NULL)
			return NULL;
		return get_sized(r, at, p, types[kind], n, depth, out);
	}
	default:
		break;
	}
	return bad(r, at, "unknown marker 0x%02X", m);
}

/** sl_ps_get() and sl_ps_get_canonical(). */
static int
get(const void *p, size_t n, size_t *used, struct sl_arena *a,
    struct sl_ps *out, bool canonical)
{
	assert(a != NULL && out != NULL);
	assert(p != NULL || n == 0);
	if (n == 0) {
		sl_diag_set(SL_EPARSE,
		            "PackStream: truncated input: a value expected at "
		            "byte 0");
		return -1;
	}
	struct reader r = {p, (const unsigned char *)p + n, a, canonical};
	const unsigned char *end = get_val(&r, p, 0, out);
	if (end == NULL)
		return -1;
	if (used != NULL)
		*used = (size_t)(end - r.base);
	return 0;
}

int
sl_ps_get(const void *p, size_t n, size_t *used, struct sl_arena *a,
          struct sl_ps *out)
{
	return get(p, n, used, a, out, false);
}

int
sl_ps_get_canonical(const void *p, size_t n, size_t *used, struct sl_arena *a,
                    struct sl_ps *out)
{
	return get(p, n, used, a, out, true);
}

const struct sl_ps *
sl_ps_map_get(const struct sl_ps *m, const char *key)
{
	if (m == NULL || m->type != SL_PS_MAP)
		return NULL;
	size_t n = strlen(key);
	for (uint32_t i = m->len; i-- > 0;) {
		const struct sl_ps_entry *e = &m->u.entries[i];
		if (e->key_len == n && memcmp(e->key, key, n) == 0)
			return &e->val;
	}
	return NULL;
}

/* }}} */
/* {{{ record values */

/** A structure Bolt defines, as sl_ps_to_value() checks it. */
struct shape {
	/** Its tag. */
	uint8_t tag;
	/** Fields of the older form (Bolt 4.4). */
	uint8_t min;
	/** Fields of the newer form (Bolt 5), or `min`. */
	uint8_t max;
	/** Its name, for messages. */
	const char *name;
	/** Each field's type: i integer, f float, s string, l list, m map. */
	const char *types;
	/** The fields' names, comma-separated, for messages. */
	const char *fields;
};

/** The structures sl_ps_to_value() knows. */
static const struct shape shapes[] = {
        {SL_PS_TAG_NODE, 3, 4, "Node", "ilms",
         "id,labels,properties,element_id"},
        {SL_PS_TAG_REL, 5, 8, "Relationship", "iiismsss",
         "id,start,end,type,properties,element_id,start_element_id,"
         "end_element_id"},
        {SL_PS_TAG_UNBOUND_REL, 3, 4, "UnboundRelationship", "isms",
         "id,type,properties,element_id"},
        {SL_PS_TAG_PATH, 3, 3, "Path", "lll", "nodes,relationships,indices"},
        {SL_PS_TAG_DATE, 1, 1, "Date", "i", "days"},
        {SL_PS_TAG_TIME, 2, 2, "Time", "ii", "nanoseconds,offset_seconds"},
        {SL_PS_TAG_LOCAL_TIME, 1, 1, "LocalTime", "i", "nanoseconds"},
        {SL_PS_TAG_LOCAL_DATETIME, 2, 2, "LocalDateTime", "ii",
         "seconds,nanoseconds"},
        {SL_PS_TAG_DATETIME, 3, 3, "DateTime", "iii",
         "seconds,nanoseconds,offset_seconds"},
        {SL_PS_TAG_DATETIME_ZONE, 3, 3, "DateTimeZoneId", "iis",
         "seconds,nanoseconds,zone_id"},
        {SL_PS_TAG_LEGACY_DATETIME, 3, 3, "legacy DateTime", "iii",
         "seconds,nanoseconds,offset_seconds"},
        {SL_PS_TAG_LEGACY_DATETIME_ZONE, 3, 3, "legacy DateTimeZoneId", "iis",
         "seconds,nanoseconds,zone_id"},
        {SL_PS_TAG_DURATION, 4, 4, "Duration", "iiii",
         "months,days,seconds,nanoseconds"},
        {SL_PS_TAG_POINT2D, 3, 3, "Point2D", "iff", "srid,x,y"},
        {SL_PS_TAG_POINT3D, 4, 4, "Point3D", "ifff", "srid,x,y,z"},
};

/** The shape of structures tagged `tag`, or NULL. */
static const struct shape *
shape_of(uint8_t tag)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (shapes[i].tag == tag)
			return &shapes[i];
	return NULL;
}

/** The name of PackStream type `t`, for messages. */
static const char *
ps_type_name(unsigned t)
{
	static const char *const names[] = {
	        "null",     "a boolean", "an integer", "a float",    "bytes",
	        "a string", "a list",    "a map",      "a structure"};
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

/** The type a shape's letter stands for. */
static enum sl_ps_type
letter_type(char c)
{
	switch (c) {
	case 'i':
		return SL_PS_INT;
	case 'f':
		return SL_PS_FLOAT;
	case 's':
		return SL_PS_STRING;
	case 'l':
		return SL_PS_LIST;
	default:
		assert(c == 'm');
		return SL_PS_MAP;
	}
}

/** Field `i` of shape `sh`: its name's length, *name its start. */
static int
field_name(const struct shape *sh, unsigned i, const char **name)
{
	const char *s = sh->fields;
	for (; i > 0; i--)
		s = strchr(s, ',') + 1;
	const char *comma = strchr(s, ',');
	*name = s;
	return comma != NULL ? (int)(comma - s) : (int)strlen(s);
}

/** Check that structure `v` has the fields of `sh`; -1 with SL_EPARSE. */
static int
check_shape(const struct shape *sh, const struct sl_ps *v)
{
	assert(v->type == SL_PS_STRUCT && v->tag == sh->tag);
	if (v->len != sh->min && v->len != sh->max) {
		if (sh->min == sh->max)
			sl_diag_set(SL_EPARSE,
			            "PackStream: a %s has %u fields, not %u",
			            sh->name, sh->min, v->len);
		else
			sl_diag_set(SL_EPARSE,
			            "PackStream: a %s has %u or %u fields, not "
			            "%u",
			            sh->name, sh->min, sh->max, v->len);
		return -1;
	}
	for (unsigned i = 0; i < v->len; i++) {
		enum sl_ps_type want = letter_type(sh->types[i]);
		if (v->u.items[i].type == want)
			continue;
		const char *name;
		int n = field_name(sh, i, &name);
		sl_diag_set(SL_EPARSE,
		            "PackStream: field %u (%.*s) of a %s is %s, not %s",
		            i, n, name, sh->name,
		            ps_type_name(v->u.items[i].type),
		            ps_type_name(want));
		return -1;
	}
	return 0;
}

/** Fail with SL_EPARSE: field `i` of a `sh` holds a value out of range. */
static int
out_of_range(const struct shape *sh, unsigned i, int64_t v)
{
	const char *name;
	int n = field_name(sh, i, &name);
	sl_diag_set(
	        SL_EPARSE,
	        "PackStream: field %u (%.*s) of a %s is out of range (%" PRId64
	        ")",
	        i, n, name, sh->name, v);
	return -1;
}

/** An object of `n` members in `a` as *out; its members, or NULL. */
static struct sl_member *
new_object(struct sl_arena *a, uint32_t n, struct sl_value *out)
{
	struct sl_member *m = sl_arena_alloc_aligned(
	        a, (size_t)n * sizeof(*m), _Alignof(struct sl_member));
	if (m != NULL)
		*out = sl_object_ref(m, n);
	return m;
}

/** An array of `n` items in `a` as *out; its items, or NULL. */
static struct sl_value *
new_array(struct sl_arena *a, uint32_t n, struct sl_value *out)
{
	if (n == 0) {
		*out = sl_array_ref(NULL, 0);
		return out;
	}
	struct sl_value *v = sl_arena_alloc_aligned(a, (size_t)n * sizeof(*v),
	                                            _Alignof(struct sl_value));
	if (v != NULL)
		*out = sl_array_ref(v, n);
	return v;
}

/** Set member `m` to `key` (a string constant) and `v`. */
static void
set_member(struct sl_member *m, const char *key, struct sl_value v)
{
	m->key = key;
	m->key_len = (uint32_t)strlen(key);
	m->val = v;
}

/** A copy of string `s` in `a`. */
static int
copy_str(struct sl_arena *a, const struct sl_ps *s, struct sl_value *out)
{
	assert(s->type == SL_PS_STRING);
	return sl_str_copy(a, s->u.s, s->len, out);
}

/**
 * The element id of a node or relationship: string field `f` when there
 * is one (Bolt 5), else `id` as text (Bolt 4.4).
 */
static int
element_id(struct sl_arena *a, const struct sl_ps *f, int64_t id,
           struct sl_value *out)
{
	if (f != NULL)
		return copy_str(a, f, out);
	char text[24];
	int n = snprintf(text, sizeof(text), "%" PRId64, id);
	return sl_str_copy(a, text, (size_t)n, out);
}

static int to_value(const struct sl_ps *v, struct sl_arena *a, unsigned depth,
                    struct sl_value *out);

/** Node `v` (checked) as {"element_id", "id", "labels", "properties"}. */
static int
node_value(const struct sl_ps *v, struct sl_arena *a, unsigned depth,
           struct sl_value *out)
{
	const struct sl_ps *f = v->u.items;
	for (uint32_t i = 0; i < f[1].len; i++)
		if (f[1].u.items[i].type != SL_PS_STRING) {
			sl_diag_set(
			        SL_EPARSE,
			        "PackStream: label %u of a Node is %s, not a "
			        "string",
			        i, ps_type_name(f[1].u.items[i].type));
			return -1;
		}
	struct sl_member *m = new_object(a, 4, out);
	if (m == NULL)
		return -1;
	struct sl_value eid, labels, props;
	if (element_id(a, v->len > 3 ? &f[3] : NULL, f[0].u.i, &eid) != 0 ||
	    to_value(&f[1], a, depth + 1, &labels) != 0 ||
	    to_value(&f[2], a, depth + 1, &props) != 0)
		return -1;
	set_member(&m[0], "element_id", eid);
	set_member(&m[1], "id", sl_int(f[0].u.i));
	set_member(&m[2], "labels", labels);
	set_member(&m[3], "properties", props);
	return 0;
}

/** One end of a relationship: a node's id and element id (or NULL). */
struct rel_end {
	/** The node's id. */
	int64_t id;
	/** The node's element id, or NULL (Bolt 4.4). */
	const struct sl_ps *eid;
};

/**
 * A relationship as {"element_id", "id", "type", "start", "end",
 * "start_element_id", "end_element_id", "properties"} from its id, element
 * id (or NULL), type string, ends and properties map.
 */
static int
rel_object(struct sl_arena *a, unsigned depth, int64_t id,
           const struct sl_ps *eid, const struct sl_ps *type,
           struct rel_end start, struct rel_end end, const struct sl_ps *props,
           struct sl_value *out)
{
	struct sl_member *m = new_object(a, 8, out);
	if (m == NULL)
		return -1;
	struct sl_value id_text, type_text, start_text, end_text, pv;
	if (element_id(a, eid, id, &id_text) != 0 ||
	    copy_str(a, type, &type_text) != 0 ||
	    element_id(a, start.eid, start.id, &start_text) != 0 ||
	    element_id(a, end.eid, end.id, &end_text) != 0 ||
	    to_value(props, a, depth + 1, &pv) != 0)
		return -1;
	set_member(&m[0], "element_id", id_text);
	set_member(&m[1], "id", sl_int(id));
	set_member(&m[2], "type", type_text);
	set_member(&m[3], "start", sl_int(start.id));
	set_member(&m[4], "end", sl_int(end.id));
	set_member(&m[5], "start_element_id", start_text);
	set_member(&m[6], "end_element_id", end_text);
	set_member(&m[7], "properties", pv);
	return 0;
}

/** Relationship `v` (checked) as rel_object() says. */
static int
rel_value(const struct sl_ps *v, struct sl_arena *a, unsigned depth,
          struct sl_value *out)
{
	const struct sl_ps *f = v->u.items;
	bool v5 = v->len > 5;
	struct rel_end start = {f[1].u.i, v5 ? &f[6] : NULL};
	struct rel_end end = {f[2].u.i, v5 ? &f[7] : NULL};
	return rel_object(a, depth, f[0].u.i, v5 ? &f[5] : NULL, &f[3], start,
	                  end, &f[4], out);
}

/**
 * UnboundRelationship `v` (checked) alone, outside a path, as
 * {"element_id", "id", "type", "properties"}.
 */
static int
unbound_value(const struct sl_ps *v, struct sl_arena *a, unsigned depth,
              struct sl_value *out)
{
	const struct sl_ps *f = v->u.items;
	struct sl_member *m = new_object(a, 4, out);
	if (m == NULL)
		return -1;
	struct sl_value eid, type, props;
	if (element_id(a, v->len > 3 ? &f[3] : NULL, f[0].u.i, &eid) != 0 ||
	    copy_str(a, &f[1], &type) != 0 ||
	    to_value(&f[2], a, depth + 1, &props) != 0)
		return -1;
	set_member(&m[0], "element_id", eid);
	set_member(&m[1], "id", sl_int(f[0].u.i));
	set_member(&m[2], "type", type);
	set_member(&m[3], "properties", props);
	return 0;
}

/** Check that every item of list `l` is a `tag` structure of its shape. */
static int
check_list_of(const struct sl_ps *l, uint8_t tag)
{
	const struct shape *sh = shape_of(tag);
	for (uint32_t i = 0; i < l->len; i++) {
		const struct sl_ps *x = &l->u.items[i];
		if (x->type != SL_PS_STRUCT || x->tag != tag) {
			sl_diag_set(SL_EPARSE,
			            "PackStream: item %u of a Path's list of "
			            "%ss is %s",
			            i, sh->name, ps_type_name(x->type));
			return -1;
		}
		if (check_shape(sh, x) != 0)
			return -1;
	}
	return 0;
}

/** The end of a path that node `n` (a checked Node) is. */
static struct rel_end
node_end(const struct sl_ps *n)
{
	struct rel_end e = {n->u.items[0].u.i,
	                    n->len > 3 ? &n->u.items[3] : NULL};
	return e;
}

/**
 * Path `v` (checked) as {"nodes": [...], "relationships": [...]}: its
 * nodes in path order, and its relationships bound to them. The indices
 * alternate a relationship (1-based; negative: traversed against its
 * direction) and the next node (0-based).
 */
static int
path_value(const struct sl_ps *v, struct sl_arena *a, unsigned depth,
           struct sl_value *out)
{
	const struct sl_ps *nodes = &v->u.items[0], *rels = &v->u.items[1],
	                   *idx = &v->u.items[2];
	if (check_list_of(nodes, SL_PS_TAG_NODE) != 0 ||
	    check_list_of(rels, SL_PS_TAG_UNBOUND_REL) != 0)
		return -1;
	if (nodes->len == 0 || idx->len % 2 != 0) {
		sl_diag_set(
		        SL_EPARSE,
		        "PackStream: a Path has %u nodes and %u indices; it "
		        "needs a node and pairs of indices",
		        nodes->len, idx->len);
		return -1;
	}
	for (uint32_t i = 0; i < idx->len; i++) {
		const struct sl_ps *x = &idx->u.items[i];
		int64_t lo = i % 2 == 0 ? -(int64_t)rels->len : 0;
		int64_t hi = i % 2 == 0 ? rels->len : (int64_t)nodes->len - 1;
		if (x->type != SL_PS_INT || x->u.i < lo || x->u.i > hi ||
		    (i % 2 == 0 && x->u.i == 0)) {
			sl_diag_set(
			        SL_EPARSE,
			        "PackStream: index %u of a Path is not a %s "
			        "index",
			        i, i % 2 == 0 ? "relationship" : "node");
			return -1;
		}
	}
	uint32_t steps = idx->len / 2;
	struct sl_member *m = new_object(a, 2, out);
	struct sl_value *nv = NULL, *rv = NULL, *all = NULL, list;
	if (m == NULL || (all = new_array(a, nodes->len, &list)) == NULL ||
	    (nv = new_array(a, steps + 1, &m[0].val)) == NULL ||
	    (rv = new_array(a, steps, &m[1].val)) == NULL)
		return -1;
	m[0].key = "nodes", m[0].key_len = 5;
	m[1].key = "relationships", m[1].key_len = 13;
	for (uint32_t i = 0; i < nodes->len; i++)
		if (node_value(&nodes->u.items[i], a, depth + 1, &all[i]) != 0)
			return -1;
	const struct sl_ps *prev = &nodes->u.items[0];
	nv[0] = all[0];
	for (uint32_t k = 0; k < steps; k++) {
		int64_t ri = idx->u.items[2 * k].u.i;
		int64_t ni = idx->u.items[2 * k + 1].u.i;
		const struct sl_ps *next = &nodes->u.items[ni];
		const struct sl_ps *r = &rels->u.items[(ri > 0 ? ri : -ri) - 1];
		const struct sl_ps *f = r->u.items;
		struct rel_end from = node_end(ri > 0 ? prev : next);
		struct rel_end to = node_end(ri > 0 ? next : prev);
		if (rel_object(a, depth + 1, f[0].u.i,
		               r->len > 3 ? &f[3] : NULL, &f[1], from, to,
		               &f[2], &rv[k]) != 0)
			return -1;
		nv[k + 1] = all[ni];
		prev = next;
	}
	return 0;
}

/**
 * Proleptic Gregorian date of `days` since 1970-01-01 (|days| < 2^60):
 * counted from 0000-03-01 in eras of 400 years (146097 days), so that a
 * leap day is the last day of its year.
 */
static void
civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
	int64_t z = days + 719468; /* days since 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097); /* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
	unsigned mp = (5 * doy + 2) / 153;                      /* March is 0 */
	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = era * 400 + (int64_t)yoe + (*month <= 2);
}

/** Text being formatted: at most TEMPORAL_TEXT_MAX bytes. */
struct text {
	/** The bytes. */
	char s[TEMPORAL_TEXT_MAX];
	/** How many are used. */
	size_t n;
};

/** Append formatted text to `t` (which is always large enough). */
static void __attribute__((format(printf, 2, 3)))
addf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->s + t->n, sizeof(t->s) - t->n, fmt, ap);
	va_end(ap);
	assert(n >= 0 && (size_t)n < sizeof(t->s) - t->n);
	t->n += (size_t)n;
}

/**
 * Append the date `days` after 1970-01-01 as ISO 8601: YYYY-MM-DD, years
 * past 9999 with a plus sign and years before 0 with a minus (expanded
 * years, as Java prints them).
 */
static void
add_date(struct text *t, int64_t days)
{
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0)
		addf(t, "-%04" PRId64 "-%02u-%02u", -y, m, d);
	else if (y > 9999)
		addf(t, "+%" PRId64 "-%02u-%02u", y, m, d);
	else
		addf(t, "%04" PRId64 "-%02u-%02u", y, m, d);
}

/** Append ".fraction" of `nanos` (< 1e9) without trailing zeros, if any. */
static void
add_fraction(struct text *t, uint32_t nanos)
{
	if (nanos == 0)
		return;
	int digits = 9;
	for (; nanos % 10 == 0; nanos /= 10)
		digits--;
	addf(t, ".%0*" PRIu32, digits, nanos);
}

/** Append the time of day `ns` (< 86400e9 nanoseconds): HH:MM:SS[.f]. */
static void
add_time(struct text *t, uint64_t ns)
{
	uint64_t s = ns / NS_PER_S;
	addf(t, "%02u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
	     (unsigned)(s % 60));
	add_fraction(t, (uint32_t)(ns % NS_PER_S));
}

/** Append UTC offset `off` (|off| <= OFFSET_MAX): Z, or ±HH:MM[:SS]. */
static void
add_offset(struct text *t, int64_t off)
{
	if (off == 0) {
		addf(t, "Z");
		return;
	}
	unsigned u = (unsigned)(off < 0 ? -off : off);
	addf(t, "%c%02u:%02u", off < 0 ? '-' : '+', u / 3600, u / 60 % 60);
	if (u % 60 != 0)
		addf(t, ":%02u", u % 60);
}

/** Floor of a / b (b > 0). */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/**
 * Append local date and time `secs` since the epoch plus `nanos` of
 * structure `sh` (field 1 holds the nanos): YYYY-MM-DDTHH:MM:SS[.f].
 */
static int
add_datetime(struct text *t, const struct shape *sh, int64_t secs,
             int64_t nanos)
{
	if (nanos < 0 || nanos >= NS_PER_S)
		return out_of_range(sh, 1, nanos);
	int64_t days = floor_div(secs, S_PER_DAY);
	/* Not secs - days * S_PER_DAY: that overflows near INT64_MIN. */
	int64_t rem = secs % S_PER_DAY;
	if (rem < 0)
		rem += S_PER_DAY;
	add_date(t, days);
	addf(t, "T");
	add_time(t, (uint64_t)rem * NS_PER_S + (uint64_t)nanos);
	return 0;
}

/**
 * Append Duration fields (months, days, seconds, nanoseconds with
 * |nanoseconds| < 1e9) as ISO 8601: P[nY][nM][nD][T[nH][nM][n[.f]S]],
 * every part with the sign of its field (the time parts that of seconds
 * and nanoseconds together), PT0S when all are zero.
 */
static int
add_duration(struct text *t, const struct shape *sh, const struct sl_ps *f)
{
	int64_t months = f[0].u.i, days = f[1].u.i, s = f[2].u.i, ns = f[3].u.i;
	if (ns <= -NS_PER_S || ns >= NS_PER_S)
		return out_of_range(sh, 3, ns);
	/* Give seconds and nanoseconds one sign. */
	if (s > 0 && ns < 0)
		s--, ns += NS_PER_S;
	else if (s < 0 && ns > 0)
		s++, ns -= NS_PER_S;
	addf(t, "P");
	if (months / 12 != 0)
		addf(t, "%" PRId64 "Y", months / 12);
	if (months % 12 != 0)
		addf(t, "%" PRId64 "M", months % 12);
	if (days != 0)
		addf(t, "%" PRId64 "D", days);
	if (s == 0 && ns == 0) {
		if (months == 0 && days == 0)
			addf(t, "T0S");
		return 0;
	}
	const char *sign = s < 0 || ns < 0 ? "-" : "";
	uint64_t us = s < 0 ? 0 - (uint64_t)s : (uint64_t)s;
	addf(t, "T");
	if (us / 3600 != 0)
		addf(t, "%s%" PRIu64 "H", sign, us / 3600);
	if (us / 60 % 60 != 0)
		addf(t, "%s%" PRIu64 "M", sign, us / 60 % 60);
	if (us % 60 != 0 || ns != 0) {
		addf(t, "%s%" PRIu64, sign, us % 60);
		add_fraction(t, (uint32_t)(ns < 0 ? -ns : ns));
		addf(t, "S");
	}
	return 0;
}

/**
 * The text of temporal structure `v` (checked, shape `sh`) as a string in
 * `a`; a zone id follows in brackets.
 */
static int
temporal_value(const struct shape *sh, const struct sl_ps *v,
               struct sl_arena *a, struct sl_value *out)
{
	const struct sl_ps *f = v->u.items;
	const struct sl_ps *zone = NULL;
	struct text t = {.n = 0};
	int64_t secs;
	switch (v->tag) {
	case SL_PS_TAG_DATE:
		if (f[0].u.i < -DAYS_MAX || f[0].u.i > DAYS_MAX)
			return out_of_range(sh, 0, f[0].u.i);
		add_date(&t, f[0].u.i);
		break;
	case SL_PS_TAG_TIME:
	case SL_PS_TAG_LOCAL_TIME:
		if (f[0].u.i < 0 || f[0].u.i >= (int64_t)S_PER_DAY * NS_PER_S)
			return out_of_range(sh, 0, f[0].u.i);
		add_time(&t, (uint64_t)f[0].u.i);
		if (v->tag == SL_PS_TAG_LOCAL_TIME)
			break;
		if (f[1].u.i < -OFFSET_MAX || f[1].u.i > OFFSET_MAX)
			return out_of_range(sh, 1, f[1].u.i);
		add_offset(&t, f[1].u.i);
		break;
	case SL_PS_TAG_LOCAL_DATETIME:
		if (add_datetime(&t, sh, f[0].u.i, f[1].u.i) != 0)
			return -1;
		break;
	case SL_PS_TAG_DATETIME:
	case SL_PS_TAG_LEGACY_DATETIME:
		if (f[2].u.i < -OFFSET_MAX || f[2].u.i > OFFSET_MAX)
			return out_of_range(sh, 2, f[2].u.i);
		/* DateTime counts UTC seconds: show the wall clock. */
		secs = f[0].u.i;
		if (v->tag == SL_PS_TAG_DATETIME &&
		    __builtin_add_overflow(secs, f[2].u.i, &secs))
			return out_of_range(sh, 0, f[0].u.i);
		if (add_datetime(&t, sh, secs, f[1].u.i) != 0)
			return -1;
		add_offset(&t, f[2].u.i);
		break;
	case SL_PS_TAG_DATETIME_ZONE:
	case SL_PS_TAG_LEGACY_DATETIME_ZONE:
		if (add_datetime(&t, sh, f[0].u.i, f[1].u.i) != 0)
			return -1;
		if (v->tag == SL_PS_TAG_DATETIME_ZONE)
			addf(&t, "Z");
		zone = &f[2];
		break;
	default:
		assert(v->tag == SL_PS_TAG_DURATION);
		if (add_duration(&t, sh, f) != 0)
			return -1;
		break;
	}
	if (zone == NULL)
		return sl_str_copy(a, t.s, t.n, out);
	size_t n = t.n + zone->len + 2;
	char *s = sl_arena_alloc_aligned(a, n, 1);
	if (s == NULL)
		return -1;
	memcpy(s, t.s, t.n);
	s[t.n] = '[';
	if (zone->len > 0)
		memcpy(s + t.n + 1, zone->u.s, zone->len);
	s[n - 1] = ']';
	if (n > SL_VALUE_LEN_MAX) {
		sl_diag_set(SL_ELIMIT, "PackStream: a zone id of %u bytes",
		            zone->len);
		return -1;
	}
	*out = sl_str_ref(s, (uint32_t)n);
	return 0;
}

/** Point `v` (checked) as {"srid", "x", "y"[, "z"]}. */
static int
point_value(const struct sl_ps *v, struct sl_arena *a, struct sl_value *out)
{
	static const char *const keys[] = {"srid", "x", "y", "z"};
	struct sl_member *m = new_object(a, v->len, out);
	if (m == NULL)
		return -1;
	set_member(&m[0], keys[0], sl_int(v->u.items[0].u.i));
	for (uint32_t i = 1; i < v->len; i++)
		set_member(&m[i], keys[i], sl_double(v->u.items[i].u.d));
	return 0;
}

/** Structure `v` as sl_ps_to_value() says. */
static int
struct_value(const struct sl_ps *v, struct sl_arena *a, unsigned depth,
             struct sl_value *out)
{
	const struct shape *sh = shape_of(v->tag);
	if (sh == NULL) {
		struct sl_member *m = new_object(a, 2, out);
		if (m == NULL)
			return -1;
		struct sl_ps fields = {.type = SL_PS_LIST,
		                       .len = v->len,
		                       .u = {.items = v->u.items}};
		set_member(&m[0], "tag", sl_int(v->tag));
		set_member(&m[1], "fields", sl_null());
		return to_value(&fields, a, depth, &m[1].val);
	}
	if (check_shape(sh, v) != 0)
		return -1;
	switch (v->tag) {
	case SL_PS_TAG_NODE:
		return node_value(v, a, depth, out);
	case SL_PS_TAG_REL:
		return rel_value(v, a, depth, out);
	case SL_PS_TAG_UNBOUND_REL:
		return unbound_value(v, a, depth, out);
	case SL_PS_TAG_PATH:
		return path_value(v, a, depth, out);
	case SL_PS_TAG_POINT2D:
	case SL_PS_TAG_POINT3D:
		return point_value(v, a, out);
	default:
		return temporal_value(sh, v, a, out);
	}
}

/** Value `v` nested in `depth` containers as a record value. */
static int
to_value(const struct sl_ps *v, struct sl_arena *a, unsigned depth,
         struct sl_value *out)
{
	if (depth > 2 * SL_PS_DEPTH_MAX) {
		sl_diag_set(SL_EPARSE, "PackStream: nesting deeper than %d",
		            SL_PS_DEPTH_MAX);
		return -1;
	}
	switch ((enum sl_ps_type)v->type) {
	case SL_PS_NULL:
		*out = sl_null();
		return 0;
	case SL_PS_BOOL:
		*out = sl_bool(v->u.b);
		return 0;
	case SL_PS_INT:
		*out = sl_int(v->u.i);
		return 0;
	case SL_PS_FLOAT:
		*out = sl_double(v->u.d);
		return 0;
	case SL_PS_STRING:
		return copy_str(a, v, out);
	case SL_PS_BYTES: {
		struct sl_value *items = new_array(a, v->len, out);
		if (items == NULL)
			return -1;
		for (uint32_t i = 0; i < v->len; i++)
			items[i] = sl_int((unsigned char)v->u.s[i]);
		return 0;
	}
	case SL_PS_LIST: {
		struct sl_value *items = new_array(a, v->len, out);
		if (items == NULL)
			return -1;
		for (uint32_t i = 0; i < v->len; i++)
			if (to_value(&v->u.items[i], a, depth + 1, &items[i]) !=
			    0)
				return -1;
		return 0;
	}
	case SL_PS_MAP: {
		if (v->len == 0) {
			*out = sl_object_ref(NULL, 0);
			return 0;
		}
		struct sl_member *m = new_object(a, v->len, out);
		if (m == NULL)
			return -1;
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_ps_entry *e = &v->u.entries[i];
			m[i].key = sl_arena_strndup(a, e->key, e->key_len);
			m[i].key_len = e->key_len;
			if (m[i].key == NULL ||
			    to_value(&e->val, a, depth + 1, &m[i].val) != 0)
				return -1;
		}
		return 0;
	}
	case SL_PS_STRUCT:
		return struct_value(v, a, depth, out);
	}
	sl_diag_set(SL_EPARSE, "PackStream: no value type %u", v->type);
	return -1;
}

int
sl_ps_to_value(const struct sl_ps *v, struct sl_arena *a, struct sl_value *out)
{
	assert(v != NULL && a != NULL && out != NULL);
	return to_value(v, a, 0, out);
}

/* }}} */
