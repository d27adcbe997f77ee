/*
 * Record values.
 */
#include "sluice/value.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

/** sl_str_copy(), inline for sl_value_copy(). */
static inline int
str_copy(struct sl_arena *a, const char *s, size_t n, struct sl_value *out)
{
	if (n > SL_VALUE_LEN_MAX) {
		sl_diag_set(SL_ELIMIT, "string of %zu bytes is too long", n);
		return -1;
	}
	char *p = sl_arena_alloc_aligned(a, n > 0 ? n : 1, 1);
	if (p == NULL)
		return -1;
	sl_copy_bytes(p, s, n);
	*out = sl_str_ref(p, (uint32_t)n);
	return 0;
}

int
sl_str_copy(struct sl_arena *a, const char *s, size_t n, struct sl_value *out)
{
	return str_copy(a, s, n, out);
}

const char *
sl_vtype_name(enum sl_vtype t)
{
	switch (t) {
	case SL_VNULL:
		return "null";
	case SL_VBOOL:
		return "boolean";
	case SL_VINT:
	case SL_VDOUBLE:
	case SL_VNUMBER:
		return "number";
	case SL_VSTR:
		return "string";
	case SL_VARRAY:
		return "array";
	case SL_VOBJECT:
		return "object";
	}
	return "unknown";
}

bool
sl_number_text_valid(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return false;
	if (i < n && s[i] == '.') {
		size_t from = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == from)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t from = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == from)
			return false;
	}
	return i == n;
}

/** Whether `s` is an optional '-' followed by digits only. */
static bool
is_integer_text(const char *s, size_t n)
{
	size_t i = n > 0 && s[0] == '-' ? 1 : 0;
	if (i == n)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

struct sl_value
sl_value_number(struct sl_value v)
{
	if (v.type != SL_VNUMBER)
		return v;
	const char *s = v.u.s;
	size_t n = v.len;
	if (is_integer_text(s, n) && n <= 20) {
		bool neg = s[0] == '-';
		uint64_t acc = 0;
		bool overflow = false;
		for (size_t i = neg ? 1 : 0; i < n; i++) {
			unsigned d = (unsigned)(s[i] - '0');
			if (acc > (UINT64_MAX - d) / 10) {
				overflow = true;
				break;
			}
			acc = acc * 10 + d;
		}
		if (!overflow && !neg && acc <= (uint64_t)INT64_MAX)
			return sl_int((int64_t)acc);
		if (!overflow && neg && acc <= (uint64_t)INT64_MAX + 1)
			return sl_int(acc == (uint64_t)INT64_MAX + 1
			                      ? INT64_MIN
			                      : -(int64_t)acc);
	}
	char local[128];
	char *tmp = n < sizeof(local) ? local : sl_malloc(n + 1);
	if (tmp == NULL)
		return sl_double(NAN);
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	double d = strtod(tmp, NULL);
	if (tmp != local)
		sl_free(tmp);
	return sl_double(d);
}

/** Whether `v` is a number of any representation. */
static bool
is_number(const struct sl_value *v)
{
	return v->type == SL_VINT || v->type == SL_VDOUBLE ||
	       v->type == SL_VNUMBER;
}

/** Numeric equality across representations. */
static bool
number_equal(struct sl_value a, struct sl_value b)
{
	a = sl_value_number(a);
	b = sl_value_number(b);
	if (a.type == SL_VINT && b.type == SL_VINT)
		return a.u.i == b.u.i;
	double x = a.type == SL_VINT ? (double)a.u.i : a.u.d;
	double y = b.type == SL_VINT ? (double)b.u.i : b.u.d;
	return x == y;
}

bool
sl_value_equal(const struct sl_value *a, const struct sl_value *b)
{
	if (is_number(a) && is_number(b))
		return number_equal(*a, *b);
	if (a->type != b->type)
		return false;
	switch ((enum sl_vtype)a->type) {
	case SL_VNULL:
		return true;
	case SL_VBOOL:
		return a->u.b == b->u.b;
	case SL_VSTR:
		return a->len == b->len &&
		       (a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0);
	case SL_VARRAY:
		if (a->len != b->len)
			return false;
		for (uint32_t i = 0; i < a->len; i++) {
			if (!sl_value_equal(&a->u.items[i], &b->u.items[i]))
				return false;
		}
		return true;
	case SL_VOBJECT:
		/* As maps: every effective key of each side matches. */
		for (int side = 0; side < 2; side++) {
			const struct sl_value *x = side == 0 ? a : b;
			const struct sl_value *y = side == 0 ? b : a;
			for (uint32_t i = 0; i < x->len; i++) {
				const struct sl_member *m = &x->u.members[i];
				const struct sl_value *own =
				        sl_object_get(x, m->key, m->key_len);
				if (own != &m->val)
					continue; /* shadowed duplicate */
				const struct sl_value *other =
				        sl_object_get(y, m->key, m->key_len);
				if (other == NULL ||
				    !sl_value_equal(own, other))
					return false;
			}
		}
		return true;
	default:
		return false;
	}
}

int
sl_value_copy(struct sl_arena *a, const struct sl_value *v,
              struct sl_value *out)
{
	switch ((enum sl_vtype)v->type) {
	case SL_VSTR:
	case SL_VNUMBER: {
		uint8_t type = v->type;
		if (str_copy(a, v->u.s, v->len, out) != 0)
			return -1;
		out->type = type;
		return 0;
	}
	case SL_VARRAY: {
		struct sl_value *items = NULL;
		if (v->len > 0) {
			items = sl_arena_alloc(a,
			                       (size_t)v->len * sizeof(*items));
			if (items == NULL)
				return -1;
		}
		for (uint32_t i = 0; i < v->len; i++) {
			if (sl_value_copy(a, &v->u.items[i], &items[i]) != 0)
				return -1;
		}
		*out = sl_array_ref(items, v->len);
		return 0;
	}
	case SL_VOBJECT: {
		struct sl_member *ms = NULL;
		if (v->len > 0) {
			ms = sl_arena_alloc(a, (size_t)v->len * sizeof(*ms));
			if (ms == NULL)
				return -1;
		}
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_member *m = &v->u.members[i];
			struct sl_value key;
			if (str_copy(a, m->key, m->key_len, &key) != 0 ||
			    sl_value_copy(a, &m->val, &ms[i].val) != 0)
				return -1;
			ms[i].key = key.u.s;
			ms[i].key_len = m->key_len;
		}
		*out = sl_object_ref(ms, v->len);
		return 0;
	}
	default:
		*out = *v;
		return 0;
	}
}
