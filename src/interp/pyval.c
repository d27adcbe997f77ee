/*
 * sluice: values as Python sees them (see pyval.h).
 */
#include "pyval.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/diag.h"

/** Longest text a number is cast from. */
#define NUM_TEXT_MAX 400

/** Whether `v` is a number to Python (bool counts: True == 1). */
static bool
is_num(const struct sl_value *v)
{
	return v->type == SL_VINT || v->type == SL_VDOUBLE ||
	       v->type == SL_VNUMBER || v->type == SL_VBOOL;
}

/** A Python number's value as int or double (bools become 0/1). */
static struct sl_value
num_of(const struct sl_value *v)
{
	if (v->type == SL_VBOOL)
		return sl_int(v->u.b ? 1 : 0);
	return sl_value_number(*v);
}

/** Compare two numbers (ints exactly, else as doubles). */
static int
num_cmp(const struct sl_value *a, const struct sl_value *b)
{
	struct sl_value x = num_of(a), y = num_of(b);
	if (x.type == SL_VINT && y.type == SL_VINT)
		return x.u.i < y.u.i ? -1 : x.u.i > y.u.i;
	double dx = x.type == SL_VINT ? (double)x.u.i : x.u.d;
	double dy = y.type == SL_VINT ? (double)y.u.i : y.u.d;
	return dx < dy ? -1 : dx > dy;
}

const char *
sl_py_type(const struct sl_value *v)
{
	switch ((enum sl_vtype)v->type) {
	case SL_VNULL:
		return "NoneType";
	case SL_VBOOL:
		return "bool";
	case SL_VINT:
		return "int";
	case SL_VDOUBLE:
		return "float";
	case SL_VNUMBER:
		return sl_value_number(*v).type == SL_VINT ? "int" : "float";
	case SL_VSTR:
		return "str";
	case SL_VARRAY:
		return "list";
	case SL_VOBJECT:
		return "dict";
	}
	return "object";
}

/* --- str() and repr() --------------------------------------------------- */

/** Python's repr() of a float. */
static int
float_repr(double d, struct sl_buf *out)
{
	if (isnan(d))
		return sl_buf_puts(out, "nan");
	if (isinf(d))
		return sl_buf_puts(out, d < 0 ? "-inf" : "inf");
	if (d == 0)
		return sl_buf_puts(out, signbit(d) ? "-0.0" : "0.0");
	/* The shortest digits that read back as d. */
	char e[40];
	for (int prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, d);
		if (strtod(e, NULL) == d)
			break;
	}
	/* e is "[-]D[.DDD]e[+-]XX": split digits and exponent. */
	char digits[40];
	size_t nd = 0;
	const char *p = e;
	bool neg = *p == '-';
	if (neg)
		p++;
	for (; *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	int exp10 = atoi(p + 1);
	int decpt = exp10 + 1;
	char buf[64];
	size_t w = 0;
	if (neg)
		buf[w++] = '-';
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			buf[w++] = '0';
			buf[w++] = '.';
			for (int i = decpt; i < 0; i++)
				buf[w++] = '0';
			memcpy(buf + w, digits, nd);
			w += nd;
		} else {
			for (int i = 0; i < decpt; i++)
				buf[w++] = (size_t)i < nd ? digits[i] : '0';
			buf[w++] = '.';
			if ((size_t)decpt < nd) {
				memcpy(buf + w, digits + decpt, nd - decpt);
				w += nd - decpt;
			} else {
				buf[w++] = '0';
			}
		}
	} else {
		buf[w++] = digits[0];
		if (nd > 1) {
			buf[w++] = '.';
			memcpy(buf + w, digits + 1, nd - 1);
			w += nd - 1;
		}
		w += (size_t)snprintf(buf + w, sizeof(buf) - w, "e%c%02d",
		                      exp10 < 0 ? '-' : '+', abs(exp10));
	}
	return sl_buf_append(out, buf, w);
}

/** Python's repr() of a string. */
static int
str_repr(const char *s, size_t n, struct sl_buf *out)
{
	char q = memchr(s, '\'', n) != NULL && memchr(s, '"', n) == NULL ? '"'
	                                                                 : '\'';
	if (sl_buf_putc(out, q) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc;
		if (c == '\\' || c == (unsigned char)q)
			rc = sl_buf_printf(out, "\\%c", c);
		else if (c == '\n')
			rc = sl_buf_puts(out, "\\n");
		else if (c == '\r')
			rc = sl_buf_puts(out, "\\r");
		else if (c == '\t')
			rc = sl_buf_puts(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			rc = sl_buf_printf(out, "\\x%02x", c);
		else
			rc = sl_buf_putc(out, (char)c);
		if (rc != 0)
			return -1;
	}
	return sl_buf_putc(out, q);
}

/** str() (repr = false) or repr() (repr = true) of `v`. */
static int
py_text(const struct sl_value *v, bool repr, struct sl_buf *out)
{
	switch ((enum sl_vtype)v->type) {
	case SL_VNULL:
		return sl_buf_puts(out, "None");
	case SL_VBOOL:
		return sl_buf_puts(out, v->u.b ? "True" : "False");
	case SL_VINT:
		return sl_buf_printf(out, "%" PRId64, v->u.i);
	case SL_VDOUBLE:
		return float_repr(v->u.d, out);
	case SL_VNUMBER: {
		struct sl_value n = sl_value_number(*v);
		if (n.type == SL_VDOUBLE &&
		    memchr(v->u.s, '.', v->len) == NULL &&
		    memchr(v->u.s, 'e', v->len) == NULL &&
		    memchr(v->u.s, 'E', v->len) == NULL)
			/* An integer past int64: Python keeps every digit. */
			return sl_buf_append(out, v->u.s, v->len);
		return py_text(&n, repr, out);
	}
	case SL_VSTR:
		if (repr)
			return str_repr(v->u.s, v->len, out);
		return sl_buf_append(out, v->u.s, v->len);
	case SL_VARRAY:
		if (sl_buf_putc(out, '[') != 0)
			return -1;
		for (uint32_t i = 0; i < v->len; i++)
			if ((i > 0 && sl_buf_puts(out, ", ") != 0) ||
			    py_text(&v->u.items[i], true, out) != 0)
				return -1;
		return sl_buf_putc(out, ']');
	case SL_VOBJECT:
		if (sl_buf_putc(out, '{') != 0)
			return -1;
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_member *m = &v->u.members[i];
			if ((i > 0 && sl_buf_puts(out, ", ") != 0) ||
			    str_repr(m->key, m->key_len, out) != 0 ||
			    sl_buf_puts(out, ": ") != 0 ||
			    py_text(&m->val, true, out) != 0)
				return -1;
		}
		return sl_buf_putc(out, '}');
	}
	return 0;
}

int
sl_py_str(const struct sl_value *v, struct sl_buf *out)
{
	return py_text(v, false, out);
}

int
sl_py_repr(const struct sl_value *v, struct sl_buf *out)
{
	return py_text(v, true, out);
}

/* --- operators ---------------------------------------------------------- */

bool
sl_py_equal(const struct sl_value *a, const struct sl_value *b)
{
	if (is_num(a) && is_num(b))
		return num_cmp(a, b) == 0;
	if (a->type != b->type)
		return false;
	switch ((enum sl_vtype)a->type) {
	case SL_VNULL:
		return true;
	case SL_VSTR:
		return a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
	case SL_VARRAY:
		if (a->len != b->len)
			return false;
		for (uint32_t i = 0; i < a->len; i++)
			if (!sl_py_equal(&a->u.items[i], &b->u.items[i]))
				return false;
		return true;
	case SL_VOBJECT:
		if (a->len != b->len)
			return false;
		for (uint32_t i = 0; i < a->len; i++) {
			const struct sl_member *m = &a->u.members[i];
			const struct sl_value *o =
			        sl_object_get(b, m->key, m->key_len);
			if (o == NULL || !sl_py_equal(&m->val, o))
				return false;
		}
		return true;
	default:
		return false;
	}
}

int
sl_py_compare(const struct sl_value *a, const struct sl_value *b,
              const char *op, int *cmp)
{
	if (is_num(a) && is_num(b)) {
		*cmp = num_cmp(a, b);
		return 0;
	}
	if (a->type == SL_VSTR && b->type == SL_VSTR) {
		size_t n = a->len < b->len ? a->len : b->len;
		int c = memcmp(a->u.s, b->u.s, n);
		*cmp = c != 0 ? c : (a->len > b->len) - (a->len < b->len);
		return 0;
	}
	if (a->type == SL_VARRAY && b->type == SL_VARRAY) {
		uint32_t n = a->len < b->len ? a->len : b->len;
		for (uint32_t i = 0; i < n; i++) {
			if (sl_py_equal(&a->u.items[i], &b->u.items[i]))
				continue;
			return sl_py_compare(&a->u.items[i], &b->u.items[i], op,
			                     cmp);
		}
		*cmp = (a->len > b->len) - (a->len < b->len);
		return 0;
	}
	sl_diag_set(SL_EINVAL,
	            "'%s' not supported between instances of '%s' and '%s'", op,
	            sl_py_type(a), sl_py_type(b));
	return -1;
}

int
sl_py_contains(const struct sl_value *container, const struct sl_value *item,
               bool *out)
{
	switch ((enum sl_vtype)container->type) {
	case SL_VSTR:
		if (item->type != SL_VSTR) {
			sl_diag_set(SL_EINVAL,
			            "'in <string>' requires string as left "
			            "operand, not %s",
			            sl_py_type(item));
			return -1;
		}
		*out = item->len == 0 || memmem(container->u.s, container->len,
		                                item->u.s, item->len) != NULL;
		return 0;
	case SL_VARRAY:
		*out = false;
		for (uint32_t i = 0; i < container->len && !*out; i++)
			*out = sl_py_equal(&container->u.items[i], item);
		return 0;
	case SL_VOBJECT:
		if (item->type == SL_VARRAY || item->type == SL_VOBJECT) {
			sl_diag_set(SL_EINVAL, "unhashable type: '%s'",
			            sl_py_type(item));
			return -1;
		}
		*out = item->type == SL_VSTR &&
		       sl_object_get(container, item->u.s, item->len) != NULL;
		return 0;
	default:
		sl_diag_set(SL_EINVAL, "argument of type '%s' is not iterable",
		            sl_py_type(container));
		return -1;
	}
}

bool
sl_py_truthy(const struct sl_value *v)
{
	switch ((enum sl_vtype)v->type) {
	case SL_VNULL:
		return false;
	case SL_VBOOL:
		return v->u.b;
	case SL_VINT:
		return v->u.i != 0;
	case SL_VDOUBLE:
		return v->u.d != 0;
	case SL_VNUMBER: {
		struct sl_value n = sl_value_number(*v);
		return n.type == SL_VINT ? n.u.i != 0 : n.u.d != 0;
	}
	default:
		return v->len != 0;
	}
}

/* --- casts -------------------------------------------------------------- */

enum sl_py_cast
sl_py_cast_by_name(const char *name)
{
	static const char *const names[] = {NULL,  "int",  "float", "decimal",
	                                    "str", "bool", "bytes"};
	for (int i = 1; i <= SL_PY_BYTES; i++)
		if (strcmp(name, names[i]) == 0)
			return (enum sl_py_cast)i;
	return 0;
}

/** Whether `cp`-free ASCII byte `c` is whitespace to Python's strip(). */
static bool
ascii_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/**
 * Copy the numeric literal in s[0, n) into `buf` without surrounding
 * whitespace and with Python's digit-separating underscores removed.
 * Returns its length, or -1 if an underscore is misplaced or it is too
 * long.
 */
static int
literal_text(const char *s, size_t n, char *buf, size_t size)
{
	while (n > 0 && ascii_space(*s)) {
		s++;
		n--;
	}
	while (n > 0 && ascii_space(s[n - 1]))
		n--;
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_') {
			bool digit_before =
			        i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9';
			bool digit_after =
			        i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9';
			if (!digit_before || !digit_after)
				return -1;
			continue;
		}
		if (w + 1 >= size)
			return -1;
		buf[w++] = s[i];
	}
	buf[w] = '\0';
	return (int)w;
}

void
sl_py_buf_create(struct sl_buf *b, const struct sl_arena *a)
{
	size_t room = sl_arena_room(a);
	sl_buf_create(b, room < SL_VALUE_LEN_MAX ? room : SL_VALUE_LEN_MAX);
}

/** sl_py_text_min(): add `v`'s lower bound to `*n`; false past `limit`. */
static bool
text_min(const struct sl_value *v, size_t limit, size_t *n)
{
	switch (v->type) {
	case SL_VSTR:
		*n += v->len;
		break;
	case SL_VARRAY:
		*n += 2 + (v->len > 0 ? v->len - 1 : 0);
		for (uint32_t i = 0; i < v->len && *n <= limit; i++)
			if (!text_min(&v->u.items[i], limit, n))
				return false;
		break;
	case SL_VOBJECT:
		*n += 2 + (v->len > 0 ? v->len - 1 : 0);
		for (uint32_t i = 0; i < v->len && *n <= limit; i++) {
			*n += v->u.members[i].key_len + 1;
			if (!text_min(&v->u.members[i].val, limit, n))
				return false;
		}
		break;
	case SL_VBOOL:
	case SL_VNULL:
		*n += 4;
		break;
	default:
		*n += 1;
		break;
	}
	return *n <= limit;
}

size_t
sl_py_text_min(const struct sl_value *v, size_t limit)
{
	size_t n = 0;
	return text_min(v, limit, &n) ? n : limit + 1;
}

int
sl_py_buf_fail(const struct sl_arena *a, const char *what)
{
	if (sl_diag_code() != SL_ELIMIT)
		return -1;
	bool mib =
	        a->cap >= ((size_t)1 << 20) && a->cap % ((size_t)1 << 20) == 0;
	sl_diag_set(SL_ELIMIT,
	            "%s: the result passes the %zu %s a record may use (%zu "
	            "bytes were left)",
	            what, mib ? a->cap >> 20 : a->cap, mib ? "MiB" : "bytes",
	            sl_arena_room(a));
	return -1;
}

/** Python's "invalid literal" error of a cast. */
static int
invalid_literal(const char *what, const struct sl_value *v)
{
	struct sl_buf b;
	sl_buf_create(&b, 200);
	sl_py_repr(v, &b);
	sl_diag_set(SL_EINVAL, "%s: %s", what, b.data != NULL ? b.data : "?");
	sl_buf_destroy(&b);
	return -1;
}

/** int(v). */
static int
cast_int(const struct sl_value *v, struct sl_arena *a, struct sl_value *out)
{
	if (is_num(v)) {
		struct sl_value n = num_of(v);
		if (n.type == SL_VINT) {
			*out = n;
			return 0;
		}
		if (v->type == SL_VNUMBER &&
		    memchr(v->u.s, '.', v->len) == NULL &&
		    memchr(v->u.s, 'e', v->len) == NULL &&
		    memchr(v->u.s, 'E', v->len) == NULL) {
			*out = *v; /* an integer past int64 */
			return 0;
		}
		double d = n.u.d;
		if (isnan(d)) {
			sl_diag_set(SL_EINVAL,
			            "cannot convert float NaN to integer");
			return -1;
		}
		if (isinf(d)) {
			sl_diag_set(SL_EINVAL,
			            "cannot convert float infinity to integer");
			return -1;
		}
		double t = trunc(d);
		if (t >= -9223372036854775808.0 && t < 9223372036854775808.0) {
			*out = sl_int((int64_t)t);
			return 0;
		}
		char buf[400];
		int k = snprintf(buf, sizeof(buf), "%.0f", t);
		return sl_str_copy(a, buf, (size_t)k, out) != 0
		               ? -1
		               : (out->type = SL_VNUMBER, 0);
	}
	if (v->type != SL_VSTR) {
		sl_diag_set(SL_EINVAL,
		            "int() argument must be a string, a bytes-like "
		            "object or a real number, not '%s'",
		            sl_py_type(v));
		return -1;
	}
	char buf[NUM_TEXT_MAX];
	int k = literal_text(v->u.s, v->len, buf, sizeof(buf));
	const char *p = buf;
	if (k > 0 && (*p == '+' || *p == '-'))
		p++;
	bool ok = k > 0 && *p != '\0';
	for (const char *q = p; ok && *q != '\0'; q++)
		ok = *q >= '0' && *q <= '9';
	if (!ok)
		return invalid_literal("invalid literal for int() with base 10",
		                       v);
	errno = 0;
	long long x = strtoll(buf, NULL, 10);
	if (errno == 0) {
		*out = sl_int(x);
		return 0;
	}
	/* Past int64: keep the digits as number text ("+" dropped). */
	const char *t = buf[0] == '+' ? buf + 1 : buf;
	while (t[0] == '0' && t[1] != '\0')
		t++;
	if (sl_str_copy(a, t, strlen(t), out) != 0)
		return -1;
	out->type = SL_VNUMBER;
	return 0;
}

/** float(v). */
static int
cast_float(const struct sl_value *v, struct sl_value *out)
{
	if (is_num(v)) {
		struct sl_value n = num_of(v);
		*out = sl_double(n.type == SL_VINT ? (double)n.u.i : n.u.d);
		return 0;
	}
	if (v->type != SL_VSTR) {
		sl_diag_set(SL_EINVAL,
		            "float() argument must be a string or a real "
		            "number, not '%s'",
		            sl_py_type(v));
		return -1;
	}
	char buf[NUM_TEXT_MAX];
	int k = literal_text(v->u.s, v->len, buf, sizeof(buf));
	bool ok = k > 0 && strpbrk(buf, "xXpP") == NULL;
	char *end = NULL;
	double d = 0;
	if (ok) {
		d = strtod(buf, &end);
		ok = end == buf + k;
	}
	if (ok && isinf(d)) {
		/* strtod takes "infinity" and "inf"; Python too, but an
		 * overflowing literal like "1e999" is inf in both. */
		ok = true;
	}
	if (!ok)
		return invalid_literal("could not convert string to float", v);
	*out = sl_double(d);
	return 0;
}

/** Decimal(v), as exact number text. */
static int
cast_decimal(const struct sl_value *v, struct sl_arena *a, struct sl_value *out)
{
	if (v->type == SL_VINT || v->type == SL_VNUMBER ||
	    v->type == SL_VBOOL) {
		*out = v->type == SL_VBOOL ? num_of(v) : *v;
		return 0;
	}
	if (v->type == SL_VDOUBLE) {
		*out = *v;
		return 0;
	}
	if (v->type != SL_VSTR) {
		sl_diag_set(SL_EINVAL,
		            "conversion from %s to Decimal is not supported",
		            sl_py_type(v));
		return -1;
	}
	char buf[NUM_TEXT_MAX];
	int k = literal_text(v->u.s, v->len, buf, sizeof(buf));
	/* [sign] digits [. digits] [e [sign] digits], one side of the point
	 * not empty: rewritten as JSON number text. */
	char json[NUM_TEXT_MAX + 4];
	size_t w = 0;
	const char *p = buf;
	bool ok = k > 0;
	if (ok && (*p == '+' || *p == '-')) {
		if (*p == '-')
			json[w++] = '-';
		p++;
	}
	const char *int_start = p;
	while (*p >= '0' && *p <= '9')
		p++;
	size_t n_int = (size_t)(p - int_start);
	const char *frac_start = NULL;
	size_t n_frac = 0;
	if (*p == '.') {
		frac_start = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		n_frac = (size_t)(p - frac_start);
	}
	ok = ok && n_int + n_frac > 0;
	if (ok) {
		/* Leading zeros are not JSON: keep one. */
		while (n_int > 1 && *int_start == '0') {
			int_start++;
			n_int--;
		}
		if (n_int == 0)
			json[w++] = '0';
		memcpy(json + w, int_start, n_int);
		w += n_int;
		if (n_frac > 0) {
			json[w++] = '.';
			memcpy(json + w, frac_start, n_frac);
			w += n_frac;
		}
		if (*p == 'e' || *p == 'E') {
			json[w++] = 'e';
			p++;
			if (*p == '+' || *p == '-')
				json[w++] = *p++;
			const char *e = p;
			while (*p >= '0' && *p <= '9')
				json[w++] = *p++;
			ok = p > e;
		}
		ok = ok && *p == '\0';
	}
	if (!ok)
		return invalid_literal("invalid literal for Decimal", v);
	if (sl_str_copy(a, json, w, out) != 0)
		return -1;
	out->type = SL_VNUMBER;
	return 0;
}

/**
 * bytes(v): a count of zero bytes for an integer, the items of a list of
 * integers 0..255; Python's TypeError or ValueError message otherwise.
 * Bytes are an array of integers (record values have no byte strings).
 */
static int
cast_bytes(const struct sl_value *v, struct sl_arena *a, struct sl_value *out)
{
	struct sl_value n = is_num(v) ? num_of(v) : sl_null();
	if (v->type == SL_VSTR) {
		sl_diag_set(SL_EINVAL, "string argument without an encoding");
		return -1;
	}
	if (n.type == SL_VINT) {
		if (n.u.i < 0) {
			sl_diag_set(SL_EINVAL, "negative count");
			return -1;
		}
		if (n.u.i > SL_PY_BYTES_MAX) {
			sl_diag_set(SL_ELIMIT,
			            "bytes(%lld): at most %u bytes can be made",
			            (long long)n.u.i, SL_PY_BYTES_MAX);
			return -1;
		}
		uint32_t count = (uint32_t)n.u.i;
		struct sl_value *items =
		        sl_arena_alloc(a, (count + 1) * sizeof(*items));
		if (items == NULL)
			return -1;
		for (uint32_t i = 0; i < count; i++)
			items[i] = sl_int(0);
		*out = sl_array_ref(items, count);
		return 0;
	}
	if (v->type == SL_VOBJECT) {
		/* A dict iterates over its (string) keys. */
		if (v->len > 0) {
			sl_diag_set(SL_EINVAL, "'str' object cannot be "
			                       "interpreted as an integer");
			return -1;
		}
		*out = sl_array_ref(NULL, 0);
		return 0;
	}
	if (v->type != SL_VARRAY) {
		sl_diag_set(SL_EINVAL, "cannot convert '%s' object to bytes",
		            sl_py_type(v));
		return -1;
	}
	struct sl_value *items =
	        sl_arena_alloc(a, (v->len + 1) * sizeof(*items));
	if (items == NULL)
		return -1;
	for (uint32_t i = 0; i < v->len; i++) {
		const struct sl_value *it = &v->u.items[i];
		struct sl_value x = is_num(it) ? num_of(it) : sl_null();
		if (x.type != SL_VINT) {
			sl_diag_set(SL_EINVAL,
			            "'%s' object cannot be interpreted as an "
			            "integer",
			            sl_py_type(it));
			return -1;
		}
		if (x.u.i < 0 || x.u.i > 255) {
			sl_diag_set(SL_EINVAL,
			            "bytes must be in range(0, 256)");
			return -1;
		}
		items[i] = x;
	}
	*out = sl_array_ref(items, v->len);
	return 0;
}

int
sl_py_cast(enum sl_py_cast to, const struct sl_value *v, struct sl_arena *a,
           struct sl_value *out)
{
	switch (to) {
	case SL_PY_INT:
		return cast_int(v, a, out);
	case SL_PY_FLOAT:
		return cast_float(v, out);
	case SL_PY_DECIMAL:
		return cast_decimal(v, a, out);
	case SL_PY_BOOL:
		*out = sl_bool(sl_py_truthy(v));
		return 0;
	case SL_PY_BYTES:
		return cast_bytes(v, a, out);
	case SL_PY_STR: {
		if (v->type == SL_VSTR) {
			*out = *v;
			return 0;
		}
		struct sl_buf b;
		sl_py_buf_create(&b, a);
		if (sl_py_text_min(v, b.max) > b.max) {
			sl_diag_set(SL_ELIMIT, "text too long");
			return sl_py_buf_fail(a, "str()");
		}
		int rc = sl_py_str(v, &b);
		if (rc == 0)
			rc = sl_str_copy(a, b.data != NULL ? b.data : "", b.len,
			                 out);
		sl_buf_destroy(&b);
		return rc == 0 ? 0 : sl_py_buf_fail(a, "str()");
	}
	}
	sl_diag_set(SL_EINVAL, "unknown cast");
	return -1;
}
