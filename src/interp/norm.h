/*
 * sluice: normalizers (internal to interp), as Nodestream's.
 *
 * A normalization is an ordered list of normalizers, read from a mapping
 * of flags `{do_lowercase_strings: true, do_trim_whitespace: true}`. Each
 * applies to strings only; every other value, null included, passes
 * through. Unicode case mapping is the simple (one to one) mapping of the
 * C library's UTF-8 locale (C.UTF-8; ASCII has a fast path), so it
 * differs from Python's full mapping for a few characters (Python
 * upper-cases ß to SS, this keeps ß); trimming strips what Python's
 * str.strip() strips. The flag list keeps Nodestream's dict order:
 * overriding the default do_lowercase_strings keeps its place.
 *
 * A plugin's normalizers (sluice/plugin.h) are found by the same names
 * (`do_NAME`, `!normalize {using: NAME}`) after the built-in ones, and
 * applied through the plugin host; their errors name the plugin.
 */
#ifndef SLUICE_INTERP_NORM_H
#define SLUICE_INTERP_NORM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sluice/arena.h"
#include "sluice/conf.h"
#include "sluice/value.h"

/** One normalizer. */
enum sl_norm_op {
	SL_NORM_LOWER = 1,     /**< lowercase_strings */
	SL_NORM_UPPER,         /**< uppercase_strings */
	SL_NORM_TRIM,          /**< trim_whitespace */
	SL_NORM_TRAILING_DOTS, /**< remove_trailing_dots */
	/**
	 * A plugin's normalizer: SL_NORM_PLUGIN + its index in the plugin
	 * host (src/pipeline/plugin_host.h), up to SL_NORM_PLUGIN_MAX of them.
	 */
	SL_NORM_PLUGIN = 32,
};

/** Most plugin normalizers a normalization can name. */
#define SL_NORM_PLUGIN_MAX 200

/** Most flags a normalization holds. */
#define SL_NORM_MAX 8

/** A normalization: flags in the order they were written. */
struct sl_norm {
	/** enum sl_norm_op, or 0 for a flag turned off. */
	uint8_t ops[SL_NORM_MAX];
	/** Flags in use. */
	uint8_t n;
};

/** The normalizer named `alias` ("lowercase_strings"), or 0. */
enum sl_norm_op sl_norm_by_alias(const char *alias, size_t n);

/**
 * Read the flags mapping `n` on top of `base` (copied first; NULL for
 * none) into `out`: a flag already in `base` keeps its place and takes the
 * new setting. NULL or null `n` leaves `base`. An unknown flag is an error
 * naming it and the valid ones.
 */
int sl_norm_parse(const struct sl_conf *n, const struct sl_norm *base,
                  const char *what, struct sl_norm *out);

/** Whether the normalization changes anything. */
bool sl_norm_active(const struct sl_norm *nm);

/**
 * Apply one normalizer to `v` (strings only). New strings go in `a`.
 * 0, or -1 (arena full).
 */
int sl_norm_apply_op(enum sl_norm_op op, struct sl_value *v,
                     struct sl_arena *a);

/** Apply every flag of `nm` in order. 0, or -1. */
int sl_norm_apply(const struct sl_norm *nm, struct sl_value *v,
                  struct sl_arena *a);

/** The high bit of every byte of a word. */
#define SL_NORM_HIGH_BITS 0x8080808080808080ULL

/** A word of eight bytes `b`. */
#define SL_NORM_BYTES(b) (0x0101010101010101ULL * (uint8_t)(b))

/**
 * The high bit of each byte of `x` that is an ASCII letter of the case
 * that `up` maps (lower case when `up`), for a word of ASCII bytes only (a
 * byte with its high bit set may mark its neighbours wrongly).
 */
static inline uint64_t
sl_norm_case_bits(uint64_t x, bool up)
{
	/* b + (0x80 - lo) has its high bit set when b >= lo, and no carry
	 * leaves a byte below 0x80. */
	uint64_t from = x + SL_NORM_BYTES(0x80 - (up ? 'a' : 'A'));
	uint64_t past = x + SL_NORM_BYTES(0x80 - (up ? 'z' : 'Z') - 1);
	return from & ~past & SL_NORM_HIGH_BITS;
}

/**
 * Every byte of s[0, n), n < 8, in one word: s[0, 4) and s[n - 4, n)
 * (overlapping) when n >= 4, else s[0], s[n / 2] and s[n - 1]; the other
 * bytes are 0.
 */
static inline uint64_t
sl_norm_short_load(const unsigned char *s, size_t n)
{
	if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		return lo | (uint64_t)hi << 32;
	}
	if (n == 0)
		return 0;
	return s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16;
}

/**
 * Store at d[0, n) a word laid out as sl_norm_short_load() makes it
 * (bytes that overlap hold the same value, being made from the same
 * source byte).
 */
static inline void
sl_norm_short_store(unsigned char *d, size_t n, uint64_t y)
{
	if (n >= 4) {
		uint32_t lo = (uint32_t)y, hi = (uint32_t)(y >> 32);
		memcpy(d, &lo, 4);
		memcpy(d + n - 4, &hi, 4);
	} else if (n > 0) {
		d[0] = (unsigned char)y;
		d[n / 2] = (unsigned char)(y >> 8);
		d[n - 1] = (unsigned char)(y >> 16);
	}
}

/** Whether ASCII byte `c` is whitespace to Python's str.isspace(). */
static inline bool
sl_norm_ascii_space(unsigned char c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
}

/**
 * Trimming alone of string `v`: ASCII whitespace stepped over inline; a
 * non-ASCII byte at either end of what is left takes sl_norm_apply()
 * (which decodes it) on the whole string.
 */
static inline int
sl_norm_trim_inline(const struct sl_norm *nm, struct sl_value *v,
                    struct sl_arena *a)
{
	const unsigned char *s = (const unsigned char *)v->u.s;
	uint32_t start = 0, end = v->len;
	while (start < end && sl_norm_ascii_space(s[start]))
		start++;
	while (end > start && sl_norm_ascii_space(s[end - 1]))
		end--;
	if (start < end && (s[start] >= 0x80 || s[end - 1] >= 0x80))
		return sl_norm_apply(nm, v, a);
	v->u.s += start;
	v->len = end - start;
	return 0;
}

/**
 * The case of ASCII string `v` of up to 16 bytes mapped (upper when `up`)
 * into `a`: two words (overlapping), copied only when a letter changes.
 * 1 when `v` is not ASCII (nothing done), 0 when done, -1 when the arena
 * is full.
 */
static inline int
sl_norm_case_short(struct sl_value *v, bool up, struct sl_arena *a)
{
	const unsigned char *s = (const unsigned char *)v->u.s;
	uint32_t n = v->len;
	uint64_t x, y = 0;
	if (n >= 8) {
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
	} else {
		x = sl_norm_short_load(s, n);
	}
	if (((x | y) & SL_NORM_HIGH_BITS) != 0)
		return 1;
	uint64_t bx = sl_norm_case_bits(x, up);
	uint64_t by = sl_norm_case_bits(y, up);
	if ((bx | by) == 0)
		return 0;
	unsigned char *o = (unsigned char *)sl_arena_alloc(a, n);
	if (o == NULL)
		return -1;
	/* A letter's case is its 0x20 bit. */
	if (n >= 8) {
		x ^= bx >> 2;
		y ^= by >> 2;
		memcpy(o, &x, 8);
		memcpy(o + n - 8, &y, 8);
	} else {
		sl_norm_short_store(o, n, x ^ (bx >> 2));
	}
	v->u.s = (const char *)o;
	return 0;
}

/** Whether `nm` is lowercasing alone (the keys' default). */
static inline bool
sl_norm_lower_only(const struct sl_norm *nm)
{
	return nm != NULL && nm->n == 1 && nm->ops[0] == SL_NORM_LOWER;
}

/** Whether s[0, n), n <= 16, is ASCII only. */
static inline bool
sl_norm_short_ascii(const char *s, uint32_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint64_t x, y = 0;
	if (n >= 8) {
		memcpy(&x, u, 8);
		memcpy(&y, u + n - 8, 8);
	} else {
		x = sl_norm_short_load(u, n);
	}
	return ((x | y) & SL_NORM_HIGH_BITS) == 0;
}

/**
 * Copy s[0, n), n <= 16, to d: lowercased when ASCII only (as
 * sl_norm_case_short() maps it), else as it is.
 */
static inline void
sl_norm_lower_copy(char *d, const char *s, uint32_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char *o = (unsigned char *)d;
	if (n >= 8) {
		uint64_t x, y;
		memcpy(&x, u, 8);
		memcpy(&y, u + n - 8, 8);
		if (((x | y) & SL_NORM_HIGH_BITS) == 0) {
			x ^= sl_norm_case_bits(x, false) >> 2;
			y ^= sl_norm_case_bits(y, false) >> 2;
		}
		memcpy(o, &x, 8);
		memcpy(o + n - 8, &y, 8);
		return;
	}
	uint64_t x = sl_norm_short_load(u, n);
	if ((x & SL_NORM_HIGH_BITS) == 0)
		x ^= sl_norm_case_bits(x, false) >> 2;
	sl_norm_short_store(o, n, x);
}

/**
 * sl_norm_apply(), inline for the keys' default (lowercasing alone) of
 * an ASCII string of up to 16 bytes (sl_norm_case_short()), and for
 * trimming alone (sl_norm_trim_inline()). Other cases call
 * sl_norm_apply().
 */
static inline int
sl_norm_apply_inline(const struct sl_norm *nm, struct sl_value *v,
                     struct sl_arena *a)
{
	if (v->type == SL_VSTR && nm->n == 1 && nm->ops[0] == SL_NORM_TRIM)
		return sl_norm_trim_inline(nm, v, a);
	if (v->type != SL_VSTR || nm->n != 1 || nm->ops[0] != SL_NORM_LOWER ||
	    v->len > 16)
		return sl_norm_apply(nm, v, a);
	int rc = sl_norm_case_short(v, false, a);
	return rc == 1 ? sl_norm_apply(nm, v, a) : rc;
}

#endif /* SLUICE_INTERP_NORM_H */
