/*
 * Text building for tests: a growable NUL-terminated byte string, appends
 * to fixed-size buffers, and CSV records written as "{k=v|k=v}\n".
 * Header-only.
 */
#ifndef SLUICE_TESTS_TEXT_H
#define SLUICE_TESTS_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/value.h"

/** A growable byte string; start from {0}, free `s` when done. */
struct text {
	/** Bytes (malloc'd, NUL-terminated once anything was added). */
	char *s;
	/** Length. */
	size_t n;
	/** Capacity. */
	size_t cap;
};

/** Append `n` bytes of `s` to `t`; aborts when out of memory. */
static inline void
text_put(struct text *t, const void *s, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		t->cap = (t->n + n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		if (t->s == NULL)
			abort();
	}
	if (n > 0)
		memcpy(t->s + t->n, s, n);
	t->n += n;
	t->s[t->n] = '\0';
}

/** Append the NUL-terminated string `s` to `t`. */
static inline void
text_puts(struct text *t, const char *s)
{
	text_put(t, s, strlen(s));
}

/** Append the byte `c` to `t`. */
static inline void
text_putc(struct text *t, char c)
{
	text_put(t, &c, 1);
}

/**
 * Append `n` bytes of `s` to the NUL-terminated string in `buf` (`cap`
 * bytes), cutting off what does not fit.
 */
static inline void
fixed_add(char *buf, size_t cap, const char *s, size_t n)
{
	size_t have = strlen(buf);
	if (have + n + 1 > cap)
		n = cap - have - 1;
	if (n > 0)
		memcpy(buf + have, s, n);
	buf[have + n] = '\0';
}

/**
 * Append the CSV record `v` (an object of strings) to `buf` (`cap` bytes)
 * as "{k=v|k=v}\n"; a null value (a missing field) shows as "~", an array
 * (the extra fields) as "[x,y]", and any other value that is no string as
 * "<notstr>" before its bytes.
 */
static inline void
fixed_add_record(char *buf, size_t cap, const struct sl_value *v)
{
	fixed_add(buf, cap, "{", 1);
	for (uint32_t i = 0; i < v->len; i++) {
		const struct sl_member *mb = &v->u.members[i];
		if (i > 0)
			fixed_add(buf, cap, "|", 1);
		fixed_add(buf, cap, mb->key, mb->key_len);
		fixed_add(buf, cap, "=", 1);
		if (mb->val.type == SL_VNULL) {
			fixed_add(buf, cap, "~", 1);
			continue;
		}
		if (mb->val.type == SL_VARRAY) {
			fixed_add(buf, cap, "[", 1);
			for (uint32_t k = 0; k < mb->val.len; k++) {
				const struct sl_value *x = &mb->val.u.items[k];
				if (k > 0)
					fixed_add(buf, cap, ",", 1);
				fixed_add(buf, cap, x->u.s, x->len);
			}
			fixed_add(buf, cap, "]", 1);
			continue;
		}
		if (mb->val.type != SL_VSTR)
			fixed_add(buf, cap, "<notstr>", 8);
		fixed_add(buf, cap, mb->val.u.s, mb->val.len);
	}
	fixed_add(buf, cap, "}\n", 2);
}

#endif /* SLUICE_TESTS_TEXT_H */
