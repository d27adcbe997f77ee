/*
 * sluice: record values.
 *
 * A value is a 16-byte tagged union: null, bool, int64, double, string,
 * array, object, or a number kept as its source text until it is used
 * (parsers emit those so that numbers nobody reads cost nothing). Strings,
 * arrays and objects point into memory the value does not own: normally
 * the arena of the batch that carries the record, so nothing is malloc'd
 * per record and a whole batch is freed at once.
 *
 * A number kept as text becomes an int64 when read as a number
 * (sl_value_number()) if it is an integer that fits, else a double.
 *
 * Objects keep their keys in insertion order, duplicates included. Lookup
 * is a linear scan from the end that compares lengths first (the last
 * duplicate wins, as with Python's json.loads): fast for the small objects
 * records are made of.
 */
#ifndef SLUICE_VALUE_H
#define SLUICE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/arena.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Value types. */
enum sl_vtype {
	SL_VNULL = 0, /**< null (also the zeroed value) */
	SL_VBOOL,     /**< true or false */
	SL_VINT,      /**< 64-bit signed integer */
	SL_VDOUBLE,   /**< double */
	SL_VNUMBER,   /**< a JSON number still as text (see sl_value_number) */
	SL_VSTR,      /**< UTF-8 string (not NUL-terminated) */
	SL_VARRAY,    /**< array of values */
	SL_VOBJECT,   /**< object: ordered key/value members */
};

struct sl_member;

/** A value (16 bytes). */
struct sl_value {
	/** enum sl_vtype. */
	uint8_t type;
	/** Bytes of a string or number text; items of an array or object. */
	uint32_t len;
	/** The payload, by type. */
	union {
		/** SL_VBOOL. */
		bool b;
		/** SL_VINT. */
		int64_t i;
		/** SL_VDOUBLE. */
		double d;
		/** SL_VSTR and SL_VNUMBER: the bytes. */
		const char *s;
		/** SL_VARRAY: `len` items. */
		struct sl_value *items;
		/** SL_VOBJECT: `len` members. */
		struct sl_member *members;
	} u;
};

/** One key/value pair of an object. */
struct sl_member {
	/** Key bytes (UTF-8, not NUL-terminated). */
	const char *key;
	/** Key length. */
	uint32_t key_len;
	/** The value. */
	struct sl_value val;
};

/** Longest string, array or object a value can hold. */
#define SL_VALUE_LEN_MAX UINT32_MAX

/** The null value. */
static inline struct sl_value
sl_null(void)
{
	struct sl_value v = {.type = SL_VNULL, .len = 0, .u = {.i = 0}};
	return v;
}

/** A bool value. */
static inline struct sl_value
sl_bool(bool b)
{
	struct sl_value v = {.type = SL_VBOOL, .len = 0, .u = {.b = b}};
	return v;
}

/** An integer value. */
static inline struct sl_value
sl_int(int64_t i)
{
	struct sl_value v = {.type = SL_VINT, .len = 0, .u = {.i = i}};
	return v;
}

/** A double value. */
static inline struct sl_value
sl_double(double d)
{
	struct sl_value v = {.type = SL_VDOUBLE, .len = 0, .u = {.d = d}};
	return v;
}

/** A string value referring to `n` bytes at `s` (not copied). */
static inline struct sl_value
sl_str_ref(const char *s, uint32_t n)
{
	struct sl_value v = {.type = SL_VSTR, .len = n, .u = {.s = s}};
	return v;
}

/** A number value referring to its JSON text (not copied, not checked). */
static inline struct sl_value
sl_number_ref(const char *s, uint32_t n)
{
	struct sl_value v = {.type = SL_VNUMBER, .len = n, .u = {.s = s}};
	return v;
}

/** An array value over `n` items (not copied). */
static inline struct sl_value
sl_array_ref(struct sl_value *items, uint32_t n)
{
	struct sl_value v = {
	        .type = SL_VARRAY, .len = n, .u = {.items = items}};
	return v;
}

/** An object value over `n` members (not copied). */
static inline struct sl_value
sl_object_ref(struct sl_member *members, uint32_t n)
{
	struct sl_value v = {
	        .type = SL_VOBJECT, .len = n, .u = {.members = members}};
	return v;
}

/**
 * A string value holding a copy of `n` bytes in `a`. Returns 0, or -1 with
 * an error (arena cap or OOM; SL_ELIMIT if n > SL_VALUE_LEN_MAX).
 */
int sl_str_copy(struct sl_arena *a, const char *s, size_t n,
                struct sl_value *out);

/** Name of a type, as JMESPath's type() says it ("number" for numbers). */
const char *sl_vtype_name(enum sl_vtype t);

/**
 * Whether s[0, n) is JSON number text (RFC 8259: an optional minus, an
 * integer part without leading zeros, an optional fraction and exponent;
 * no "+1", "07", ".5", "1.").
 */
bool sl_number_text_valid(const char *s, size_t n);

/**
 * The numeric value of an SL_VNUMBER: SL_VINT when the text is an integer
 * that fits in int64, else SL_VDOUBLE. Other types are returned as they are.
 */
struct sl_value sl_value_number(struct sl_value v);

/**
 * Whether the `n` bytes at `a` and `b` are equal: memcmp() == 0, with keys
 * of up to 16 bytes compared inline by two (possibly overlapping) loads
 * per side instead of a call.
 */
static inline bool
sl_key_eq(const char *a, const char *b, size_t n)
{
	if (n >= 8) {
		if (n > 16)
			return memcmp(a, b, n) == 0;
		uint64_t x, y, p, q;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&p, a + n - 8, 8);
		memcpy(&q, b + n - 8, 8);
		return ((x ^ y) | (p ^ q)) == 0;
	}
	if (n >= 4) {
		uint32_t x, y, p, q;
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		memcpy(&p, a + n - 4, 4);
		memcpy(&q, b + n - 4, 4);
		return ((x ^ y) | (p ^ q)) == 0;
	}
	if (n >= 2) {
		uint16_t x, y, p, q;
		memcpy(&x, a, 2);
		memcpy(&y, b, 2);
		memcpy(&p, a + n - 2, 2);
		memcpy(&q, b + n - 2, 2);
		return ((x ^ y) | (p ^ q)) == 0;
	}
	return n == 0 || a[0] == b[0];
}

/**
 * The member value for `key` (`n` bytes), or NULL when `obj` is not an
 * object or has no such key. With duplicate keys the last one wins: the
 * scan runs from the end and compares lengths first.
 */
static inline const struct sl_value *
sl_object_get(const struct sl_value *obj, const char *key, size_t n)
{
	if (obj == NULL || obj->type != SL_VOBJECT)
		return NULL;
	const struct sl_member *ms = obj->u.members;
	for (uint32_t i = obj->len; i-- > 0;) {
		if (ms[i].key_len == n && sl_key_eq(ms[i].key, key, n))
			return &ms[i].val;
	}
	return NULL;
}

/**
 * sl_object_get() with a NUL-terminated key (inline, so that the length
 * of a literal key is known at compile time).
 */
static inline const struct sl_value *
sl_object_get_cstr(const struct sl_value *obj, const char *key)
{
	return sl_object_get(obj, key, strlen(key));
}

/**
 * Deep equality (numbers compare by numeric value across int, double and
 * number text; objects compare as unordered maps).
 */
bool sl_value_equal(const struct sl_value *a, const struct sl_value *b);

/**
 * Copy `v` with everything it refers to into `a`. Returns 0, or -1 with
 * an error.
 */
int sl_value_copy(struct sl_arena *a, const struct sl_value *v,
                  struct sl_value *out);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_VALUE_H */
