/*
 * sluice: normalizers, as Nodestream's (see norm.h).
 */
#include "norm.h"

#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

#include "pipeline/plugin_host.h"
#include "sluice/diag.h"

/** A normalizer's alias, as flags name it after "do_". */
static const struct {
	/** The alias. */
	const char *alias;
	/** The normalizer. */
	enum sl_norm_op op;
} aliases[] = {
        {"lowercase_strings", SL_NORM_LOWER},
        {"uppercase_strings", SL_NORM_UPPER},
        {"trim_whitespace", SL_NORM_TRIM},
        {"remove_trailing_dots", SL_NORM_TRAILING_DOTS},
};

/** Number of aliases. */
#define N_ALIASES (sizeof(aliases) / sizeof(aliases[0]))

enum sl_norm_op
sl_norm_by_alias(const char *alias, size_t n)
{
	for (size_t i = 0; i < N_ALIASES; i++)
		if (strlen(aliases[i].alias) == n &&
		    memcmp(aliases[i].alias, alias, n) == 0)
			return aliases[i].op;
	int k = sl_plugin_norm_find(alias, n);
	if (k >= 0 && k < SL_NORM_PLUGIN_MAX)
		return (enum sl_norm_op)(SL_NORM_PLUGIN + k);
	return 0;
}

int
sl_norm_parse(const struct sl_conf *n, const struct sl_norm *base,
              const char *what, struct sl_norm *out)
{
	/* Flags in order, each on or off, as a Python dict of flags. */
	uint8_t ops[SL_NORM_MAX];
	bool on[SL_NORM_MAX];
	uint8_t cnt = 0;
	if (base != NULL)
		for (uint8_t i = 0; i < base->n; i++) {
			ops[cnt] = base->ops[i];
			on[cnt++] = true;
		}
	if (n != NULL && !sl_conf_is_null(n) && n->kind != SL_CONF_MAP)
		return sl_conf_error(n, what,
		                     "expected a mapping of flags such as "
		                     "do_lowercase_strings: true, got a %s",
		                     sl_conf_kind_name(n->kind));
	for (uint32_t i = 0; n != NULL && n->kind == SL_CONF_MAP && i < n->n;
	     i++) {
		const struct sl_conf *k = n->items[2 * i];
		const struct sl_conf *v = n->items[2 * i + 1];
		enum sl_norm_op op = 0;
		if (k->kind == SL_CONF_SCALAR && k->len > 3 &&
		    memcmp(k->text, "do_", 3) == 0)
			op = sl_norm_by_alias(k->text + 3, k->len - 3);
		if (op == 0)
			return sl_conf_error(
			        k, what,
			        "unknown normalization flag '%s' (expected "
			        "do_lowercase_strings, do_uppercase_strings, "
			        "do_trim_whitespace or "
			        "do_remove_trailing_dots%s)",
			        k->kind == SL_CONF_SCALAR ? k->text : "?",
			        sl_plugin_norm_count() > 0
			                ? ", or do_ and a plugin normalizer's "
			                  "name"
			                : "");
		bool set;
		if (sl_conf_bool(v, what, &set) != 0)
			return -1;
		uint8_t j = 0;
		while (j < cnt && ops[j] != op)
			j++;
		if (j == cnt) {
			if (cnt >= SL_NORM_MAX)
				return sl_conf_error(k, what, "too many flags");
			ops[cnt++] = (uint8_t)op;
		}
		on[j] = set;
	}
	out->n = 0;
	for (uint8_t j = 0; j < cnt; j++)
		if (on[j])
			out->ops[out->n++] = ops[j];
	return 0;
}

bool
sl_norm_active(const struct sl_norm *nm)
{
	return nm != NULL && nm->n > 0;
}

/* --- Unicode ------------------------------------------------------------ */

/** The C.UTF-8 locale for case mapping, or 0 if it is missing. */
static locale_t utf8_locale;

/** Guards the creation of utf8_locale. */
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

/** Create utf8_locale. */
static void
utf8_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/**
 * Decode the code point at s[*i] (valid UTF-8 is assumed; a bad byte is
 * taken as itself) and advance *i.
 */
static uint32_t
utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned c = s[*i];
	size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (c < 0xc2 || c > 0xf4 || *i + len > n) {
		(*i)++;
		return c;
	}
	uint32_t cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
	for (size_t k = 1; k < len; k++)
		cp = cp << 6 | (s[*i + k] & 0x3f);
	*i += len;
	return cp;
}

/** Encode `cp` at `out`; returns the bytes written (1-4). */
static size_t
utf8_put(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/** Whether `cp` is whitespace to Python's str.isspace(). */
static inline bool
py_space(uint32_t cp)
{
	if (cp < 0x80)
		return sl_norm_ascii_space((unsigned char)cp);
	return cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/**
 * map_case() of an ASCII string, a word of 8 bytes at a time (the last
 * word overlapping the one before; up to 16 bytes, sl_norm_case_short()).
 * 1 when `v` is not ASCII (nothing done), 0 when done, -1 when the arena
 * is full.
 */
static inline int
map_case_ascii(struct sl_value *v, bool up, struct sl_arena *a)
{
	const unsigned char *s = (const unsigned char *)v->u.s;
	size_t n = v->len, i = 0;
	if (n <= 16)
		return sl_norm_case_short(v, up, a);
	uint64_t high = 0, hit = 0, x;
	for (; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		high |= x;
		hit |= sl_norm_case_bits(x, up);
	}
	if (i < n) {
		memcpy(&x, s + n - 8, 8);
		high |= x;
		hit |= sl_norm_case_bits(x, up);
	}
	if ((high & SL_NORM_HIGH_BITS) != 0)
		return 1;
	if (hit == 0)
		return 0;
	unsigned char *out = sl_arena_alloc(a, n);
	if (out == NULL)
		return -1;
	/* A letter's case is its 0x20 bit: flip it where
	 * sl_norm_case_bits() is set. */
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&x, s + i, 8);
		x ^= sl_norm_case_bits(x, up) >> 2;
		memcpy(out + i, &x, 8);
	}
	if (i < n) {
		memcpy(&x, s + n - 8, 8);
		x ^= sl_norm_case_bits(x, up) >> 2;
		memcpy(out + n - 8, &x, 8);
	}
	v->u.s = (const char *)out;
	return 0;
}

/** Map the case of `v`'s string (upper when `up`) into `a`. */
static int
map_case(struct sl_value *v, bool up, struct sl_arena *a)
{
	int rc = map_case_ascii(v, up, a);
	if (rc <= 0)
		return rc;
	const unsigned char *s = (const unsigned char *)v->u.s;
	size_t n = v->len, i = 0;
	/* Most strings need no change: find the first byte that does. */
	for (; i < n; i++) {
		unsigned c = s[i];
		if (c >= 0x80 ||
		    (up ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')))
			break;
	}
	if (i == n)
		return 0;
	bool ascii = true;
	for (size_t k = i; k < n && ascii; k++)
		ascii = s[k] < 0x80;
	/* Simple case mapping keeps each code point within 4 bytes. */
	size_t cap = ascii ? n : n * 2 + 4;
	unsigned char *out = sl_arena_alloc(a, cap > 0 ? cap : 1);
	if (out == NULL)
		return -1;
	memcpy(out, s, i);
	size_t w = i;
	if (ascii) {
		for (; i < n; i++) {
			unsigned c = s[i];
			if (up && c >= 'a' && c <= 'z')
				c -= 32;
			else if (!up && c >= 'A' && c <= 'Z')
				c += 32;
			out[w++] = (unsigned char)c;
		}
	} else {
		pthread_once(&utf8_once, utf8_init);
		while (i < n) {
			uint32_t cp = utf8_next(s, n, &i);
			uint32_t m = cp;
			if (cp < 0x80)
				m = up ? (cp >= 'a' && cp <= 'z' ? cp - 32 : cp)
				       : (cp >= 'A' && cp <= 'Z' ? cp + 32
				                                 : cp);
			else if (utf8_locale != (locale_t)0)
				m = (uint32_t)(up ? towupper_l((wint_t)cp,
				                               utf8_locale)
				                  : towlower_l((wint_t)cp,
				                               utf8_locale));
			if (m > 0x10ffff || (m >= 0xd800 && m <= 0xdfff))
				m = cp;
			if (w + 4 > cap)
				break; /* cannot happen: see cap */
			w += utf8_put(m, out + w);
		}
	}
	v->u.s = (const char *)out;
	v->len = (uint32_t)w;
	return 0;
}

/** Strip Python whitespace from both ends of `v`'s string. */
static void
trim(struct sl_value *v)
{
	const unsigned char *s = (const unsigned char *)v->u.s;
	size_t n = v->len, start = 0;
	while (start < n) {
		if (s[start] < 0x80) { /* ASCII: one byte, no decoding */
			if (!py_space(s[start]))
				break;
			start++;
			continue;
		}
		size_t j = start;
		if (!py_space(utf8_next(s, n, &j)))
			break;
		start = j;
	}
	size_t end = n;
	while (end > start) {
		if (s[end - 1] < 0x80) {
			if (!py_space(s[end - 1]))
				break;
			end--;
			continue;
		}
		/* Step back to the start of the last code point. */
		size_t b = end - 1;
		while (b > start && (s[b] & 0xc0) == 0x80)
			b--;
		size_t j = b;
		if (!py_space(utf8_next(s, end, &j)))
			break;
		end = b;
	}
	v->u.s += start;
	v->len = (uint32_t)(end - start);
}

/** sl_norm_apply_op() of a string, inline for sl_norm_apply(). */
static inline int
apply_op(enum sl_norm_op op, struct sl_value *v, struct sl_arena *a)
{
	switch (op) {
	case SL_NORM_LOWER:
		return map_case(v, false, a);
	case SL_NORM_UPPER:
		return map_case(v, true, a);
	case SL_NORM_TRIM:
		trim(v);
		return 0;
	case SL_NORM_TRAILING_DOTS:
		while (v->len > 0 && v->u.s[v->len - 1] == '.')
			v->len--;
		return 0;
	case SL_NORM_PLUGIN:
		break;
	}
	if ((int)op >= SL_NORM_PLUGIN)
		return sl_plugin_norm_apply((int)op - SL_NORM_PLUGIN, v, a);
	return 0;
}

int
sl_norm_apply_op(enum sl_norm_op op, struct sl_value *v, struct sl_arena *a)
{
	if (v->type != SL_VSTR)
		return 0;
	return apply_op(op, v, a);
}

int
sl_norm_apply(const struct sl_norm *nm, struct sl_value *v, struct sl_arena *a)
{
	if (nm == NULL || v->type != SL_VSTR)
		return 0;
	/* Keys' default: lowercasing alone, ASCII without a further call. */
	if (nm->n == 1 && nm->ops[0] == SL_NORM_LOWER) {
		int rc = map_case_ascii(v, false, a);
		return rc <= 0 ? rc : map_case(v, false, a);
	}
	for (uint8_t i = 0; i < nm->n; i++)
		if (apply_op(nm->ops[i], v, a) != 0)
			return -1;
	return 0;
}
