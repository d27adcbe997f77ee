/*
 * Shared by the libFuzzer targets: the invariant check.
 */
#ifndef SLUICE_FUZZ_H
#define SLUICE_FUZZ_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "sluice/value.h"

/**
 * Abort with a message naming the target (FUZZ_NAME, defined by the
 * target before including this header), the place and the condition when
 * `cond` is false.
 */
#define CHECK(cond, ...)                                              \
	do {                                                          \
		if (!(cond)) {                                        \
			fprintf(stderr, "%s: %s:%d: %s: ", FUZZ_NAME, \
			        __FILE__, __LINE__, #cond);           \
			fprintf(stderr, __VA_ARGS__);                 \
			fprintf(stderr, "\n");                        \
			abort();                                      \
		}                                                     \
	} while (0)

/** Whether s[0, n) is well-formed UTF-8 (no overlongs, no surrogates). */
static inline bool
utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned min, cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2, min = 0x80, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3, min = 0x800, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4, min = 0x10000, cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/** Whether every string and key in `v` is valid UTF-8. */
static inline bool
value_utf8(const struct sl_value *v)
{
	switch (v->type) {
	case SL_VSTR:
		return utf8_valid(v->u.s, v->len);
	case SL_VARRAY:
		for (uint32_t i = 0; i < v->len; i++)
			if (!value_utf8(&v->u.items[i]))
				return false;
		return true;
	case SL_VOBJECT:
		for (uint32_t i = 0; i < v->len; i++)
			if (!utf8_valid(v->u.members[i].key,
			                v->u.members[i].key_len) ||
			    !value_utf8(&v->u.members[i].val))
				return false;
		return true;
	default:
		return true;
	}
}

/**
 * Touch every byte value `v` refers to (strings, number texts, keys), so
 * that ASan sees each one; a sum of them, for a sink.
 */
static inline size_t
value_touch(const struct sl_value *v)
{
	size_t h = v->type;
	switch (v->type) {
	case SL_VSTR:
	case SL_VNUMBER:
		for (uint32_t i = 0; i < v->len; i++)
			h += (unsigned char)v->u.s[i];
		break;
	case SL_VARRAY:
		for (uint32_t i = 0; i < v->len; i++)
			h += value_touch(&v->u.items[i]);
		break;
	case SL_VOBJECT:
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_member *m = &v->u.members[i];
			for (uint32_t k = 0; k < m->key_len; k++)
				h += (unsigned char)m->key[k];
			h += value_touch(&m->val);
		}
		break;
	default:
		break;
	}
	return h;
}

#endif /* SLUICE_FUZZ_H */
