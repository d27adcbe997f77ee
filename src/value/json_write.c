/*
 * JSON writer: compact and canonical forms.
 */
#include "sluice/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/diag.h"

/** Bytes that need escaping in a JSON string: '"', '\\' and controls. */
static inline bool
needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/**
 * Whether any of the 8 bytes of `w` needs escaping: a control (below
 * 0x20), '"' or '\\'. Each term is the classic test for a byte below n,
 * exact on whether there is one; a byte equal to '"' (or '\\') is 0, so
 * below 1, once XORed with it.
 */
static inline bool
word_needs_escape(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u;
	uint64_t q = w ^ (ones * '"');
	uint64_t b = w ^ (ones * '\\');
	uint64_t t = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
	             ((b - ones) & ~b);
	return (t & (ones * 0x80)) != 0;
}

/**
 * Append the escape of byte `c` (below 0x80) to `out`: its short form
 * where JSON has one, else \u00XX. 0, or -1.
 */
static int
write_escape(struct sl_buf *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7] = {'\\', 0};
	size_t len = 2;
	switch (c) {
	case '"':
		esc[1] = '"';
		break;
	case '\\':
		esc[1] = '\\';
		break;
	case '\n':
		esc[1] = 'n';
		break;
	case '\r':
		esc[1] = 'r';
		break;
	case '\t':
		esc[1] = 't';
		break;
	case '\b':
		esc[1] = 'b';
		break;
	case '\f':
		esc[1] = 'f';
		break;
	default:
		memcpy(esc + 1, "u00", 3);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		len = 6;
	}
	return sl_buf_append(out, esc, len);
}

/** Sixteen bytes, compared at once (GCC's and clang's vector types). */
typedef unsigned char bytes16 __attribute__((vector_size(16)));

/** Whether any of the 16 bytes at `s` needs escaping (needs_escape()). */
static inline bool
block_needs_escape(const char *s)
{
	static const bytes16 ctl = {0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
	                            0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
	                            0x20, 0x20, 0x20, 0x20};
	static const bytes16 quote = {'"', '"', '"', '"', '"', '"', '"', '"',
	                              '"', '"', '"', '"', '"', '"', '"', '"'};
	static const bytes16 bs = {'\\', '\\', '\\', '\\', '\\', '\\',
	                           '\\', '\\', '\\', '\\', '\\', '\\',
	                           '\\', '\\', '\\', '\\'};
	bytes16 v;
	memcpy(&v, s, sizeof(v));
	bytes16 m = (bytes16)((v < ctl) | (v == quote) | (v == bs));
	uint64_t a, b;
	memcpy(&a, &m, 8);
	memcpy(&b, (const char *)&m + 8, 8);
	return (a | b) != 0;
}

/**
 * write_string() from byte `i` on, all before it needing no escape: the
 * bytes one word at a time, a word with a byte to escape byte by byte.
 */
static int
write_string_escaped(struct sl_buf *out, const char *s, size_t n, size_t i)
{
	if (sl_buf_putc(out, '"') != 0)
		return -1;
	size_t run = 0;
	while (i < n) {
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!word_needs_escape(w)) {
				i += 8;
				continue;
			}
		}
		/* A word with a byte to escape, or the last bytes: one at a
		 * time up to the next word. */
		size_t stop = n - i >= 8 ? i + 8 : n;
		for (; i < stop; i++) {
			unsigned char c = (unsigned char)s[i];
			if (!needs_escape(c))
				continue;
			if (sl_buf_append(out, s + run, i - run) != 0 ||
			    write_escape(out, c) != 0)
				return -1;
			run = i + 1;
		}
	}
	if (sl_buf_append(out, s + run, n - run) != 0)
		return -1;
	return sl_buf_putc(out, '"');
}

/**
 * Append a JSON string literal. Bytes are looked at eight at a time: a
 * word with nothing to escape (nearly every one) is passed over whole,
 * and a string with nothing to escape (most) goes in at once with its
 * quotes.
 */
static int
write_string(struct sl_buf *out, const char *s, size_t n)
{
	size_t i = 0;
	for (; n - i >= 16; i += 16)
		if (block_needs_escape(s + i))
			return write_string_escaped(out, s, n, i);
	for (; n - i >= 8; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (word_needs_escape(w))
			return write_string_escaped(out, s, n, i);
	}
	for (; i < n; i++)
		if (needs_escape((unsigned char)s[i]))
			return write_string_escaped(out, s, n, i);
	if (n + 2 >= out->alloc - out->len && sl_buf_reserve(out, n + 2) != 0)
		return -1;
	char *d = out->data + out->len;
	d[0] = '"';
	sl_copy_bytes(d + 1, s, n);
	d[n + 1] = '"';
	d[n + 2] = '\0';
	out->len += n + 2;
	return 0;
}

/**
 * Append a double as the shortest text that reads back the same value,
 * keeping it a float (".0" or an exponent). Non-finite values are written
 * as Python's json.dumps() writes them (Infinity, -Infinity, NaN), or with
 * SL_JSON_INF_OVERFLOW the infinities as 1e999 and -1e999.
 */
static int
write_double(struct sl_buf *out, double d, unsigned flags)
{
	if (isnan(d))
		return sl_buf_puts(out, "NaN");
	if (isinf(d) && (flags & SL_JSON_INF_OVERFLOW))
		return sl_buf_puts(out, d < 0 ? "-1e999" : "1e999");
	if (isinf(d))
		return sl_buf_puts(out, d < 0 ? "-Infinity" : "Infinity");
	char tmp[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (strpbrk(tmp, ".eE") == NULL)
		strcat(tmp, ".0");
	return sl_buf_puts(out, tmp);
}

/** Append integer `i` in decimal. */
static int
write_int(struct sl_buf *out, int64_t i)
{
	char d[24];
	char *p = d + sizeof(d);
	uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (i < 0)
		*--p = '-';
	return sl_buf_append(out, p, (size_t)(d + sizeof(d) - p));
}

/** Append a number value in canonical form. */
static int
write_number(struct sl_buf *out, struct sl_value v, unsigned flags)
{
	struct sl_value n = sl_value_number(v);
	if (n.type == SL_VINT)
		return write_int(out, n.u.i);
	if (v.type == SL_VNUMBER && memchr(v.u.s, '.', v.len) == NULL &&
	    memchr(v.u.s, 'e', v.len) == NULL &&
	    memchr(v.u.s, 'E', v.len) == NULL) {
		/* An integer past int64 keeps every digit. */
		return sl_buf_append(out, v.u.s, v.len);
	}
	return write_double(out, n.u.d, flags);
}

/** Context for sorting members by key. */
struct member_ref {
	/** The member. */
	const struct sl_member *m;
	/** Its position, to keep duplicates in order. */
	uint32_t pos;
};

/** qsort comparator: by key bytes, then by position. */
static int
member_cmp(const void *x, const void *y)
{
	const struct member_ref *a = x, *b = y;
	size_t n =
	        a->m->key_len < b->m->key_len ? a->m->key_len : b->m->key_len;
	int c = n > 0 ? memcmp(a->m->key, b->m->key, n) : 0;
	if (c != 0)
		return c;
	if (a->m->key_len != b->m->key_len)
		return a->m->key_len < b->m->key_len ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int write_value(struct sl_buf *out, const struct sl_value *v,
                       unsigned flags);

/** Append an object, sorted and deduplicated when canonical. */
static int
write_object(struct sl_buf *out, const struct sl_value *v, unsigned flags)
{
	if (sl_buf_putc(out, '{') != 0)
		return -1;
	if (!(flags & SL_JSON_CANONICAL)) {
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_member *m = &v->u.members[i];
			if ((i > 0 && sl_buf_putc(out, ',') != 0) ||
			    write_string(out, m->key, m->key_len) != 0 ||
			    sl_buf_putc(out, ':') != 0 ||
			    write_value(out, &m->val, flags) != 0)
				return -1;
		}
		return sl_buf_putc(out, '}');
	}
	struct member_ref local[16];
	struct member_ref *refs = local;
	if (v->len > 16) {
		refs = sl_malloc((size_t)v->len * sizeof(*refs));
		if (refs == NULL) {
			sl_diag_set(SL_EOOM, "out of memory sorting %u keys",
			            v->len);
			return -1;
		}
	}
	for (uint32_t i = 0; i < v->len; i++)
		refs[i] = (struct member_ref){&v->u.members[i], i};
	if (v->len > 16) {
		qsort(refs, v->len, sizeof(*refs), member_cmp);
	} else {
		/* Most objects are small and many already sorted: an
		 * insertion sort, inline, without qsort's calls and its
		 * buffer. */
		for (uint32_t i = 1; i < v->len; i++) {
			struct member_ref x = refs[i];
			uint32_t j = i;
			for (; j > 0 && member_cmp(&refs[j - 1], &x) > 0; j--)
				refs[j] = refs[j - 1];
			refs[j] = x;
		}
	}
	int rc = 0;
	bool first = true;
	for (uint32_t i = 0; i < v->len && rc == 0; i++) {
		const struct sl_member *m = refs[i].m;
		/* Of equal keys only the last (the one that counts) is kept. */
		if (i + 1 < v->len && refs[i + 1].m->key_len == m->key_len &&
		    memcmp(refs[i + 1].m->key, m->key, m->key_len) == 0)
			continue;
		if ((!first && sl_buf_putc(out, ',') != 0) ||
		    write_string(out, m->key, m->key_len) != 0 ||
		    sl_buf_putc(out, ':') != 0 ||
		    write_value(out, &m->val, flags) != 0)
			rc = -1;
		first = false;
	}
	if (refs != local)
		sl_free(refs);
	return rc != 0 ? -1 : sl_buf_putc(out, '}');
}

/** Append any value. */
static int
write_value(struct sl_buf *out, const struct sl_value *v, unsigned flags)
{
	switch ((enum sl_vtype)v->type) {
	case SL_VNULL:
		return sl_buf_puts(out, "null");
	case SL_VBOOL:
		return sl_buf_puts(out, v->u.b ? "true" : "false");
	case SL_VINT:
		return write_int(out, v->u.i);
	case SL_VDOUBLE:
		return write_double(out, v->u.d, flags);
	case SL_VNUMBER:
		if (flags & SL_JSON_CANONICAL)
			return write_number(out, *v, flags);
		return sl_buf_append(out, v->u.s, v->len);
	case SL_VSTR:
		return write_string(out, v->u.s, v->len);
	case SL_VARRAY:
		if (sl_buf_putc(out, '[') != 0)
			return -1;
		for (uint32_t i = 0; i < v->len; i++) {
			if ((i > 0 && sl_buf_putc(out, ',') != 0) ||
			    write_value(out, &v->u.items[i], flags) != 0)
				return -1;
		}
		return sl_buf_putc(out, ']');
	case SL_VOBJECT:
		return write_object(out, v, flags);
	}
	sl_diag_set(SL_EINVAL, "cannot write a value of type %u as JSON",
	            v->type);
	return -1;
}

int
sl_json_write(struct sl_buf *out, const struct sl_value *v, unsigned flags)
{
	size_t mark = out->len;
	if (write_value(out, v, flags) == 0)
		return 0;
	out->len = mark;
	if (out->data != NULL)
		out->data[mark] = '\0';
	return -1;
}

/** Append \uXXXX for UTF-16 unit `u`. */
static int
put_u16(struct sl_buf *b, unsigned u)
{
	return sl_buf_printf(b, "\\u%04x", u);
}

int
sl_json_write_ascii(struct sl_buf *b, const char *s, size_t n)
{
	if (sl_buf_putc(b, '"') != 0)
		return -1;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		int rc;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			size_t j = i + 1;
			while (j < n && (unsigned char)s[j] >= 0x20 &&
			       (unsigned char)s[j] < 0x7f && s[j] != '"' &&
			       s[j] != '\\')
				j++;
			rc = sl_buf_append(b, s + i, j - i);
			i = j;
		} else if (c < 0x80) {
			/* A control, a quote, a backslash or DEL: as JSON
			 * text escapes it (DEL as \u007f). */
			rc = write_escape(b, c);
			i++;
		} else {
			/* Decode one UTF-8 sequence; bad bytes are U+FFFD. */
			unsigned need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
			unsigned cp = c & (0x3F >> need);
			size_t j = i + 1;
			bool bad = c < 0xC2 || c > 0xF4;
			for (unsigned k = 0; k < need && !bad; k++, j++) {
				if (j >= n ||
				    ((unsigned char)s[j] & 0xC0) != 0x80)
					bad = true;
				else
					cp = (cp << 6) |
					     ((unsigned char)s[j] & 0x3F);
			}
			if (!bad &&
			    ((need == 2 && cp < 0x800) ||
			     (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			     (cp >= 0xD800 && cp <= 0xDFFF)))
				bad = true;
			if (bad) {
				cp = 0xFFFD;
				j = i + 1;
			}
			if (cp >= 0x10000)
				rc = put_u16(b,
				             0xD800 + ((cp - 0x10000) >> 10)) ||
				     put_u16(b,
				             0xDC00 + ((cp - 0x10000) & 0x3FF));
			else
				rc = put_u16(b, cp);
			i = j;
		}
		if (rc != 0)
			return -1;
	}
	return sl_buf_putc(b, '"');
}
