/*
 * sluice: Python's str.format() with named fields (see pyfmt.h).
 */
#include "pyfmt.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyval.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"

/**
 * Longest formatted string; less when the record's arena has less room
 * left (sl_arena_room()). A field's text is built in a buffer capped at
 * what the output can still take.
 */
#define PYFMT_OUT_MAX ((size_t)16 << 20)

/** Widest field width or precision accepted. */
#define PYFMT_WIDTH_MAX 10000

/** A format spec. */
struct spec {
	/** Fill character (ASCII), ' ' by default. */
	char fill;
	/** '<', '>', '^', '=' or 0 for the type's default. */
	char align;
	/** '+', '-', ' ' or 0. */
	char sign;
	/** '#': alternate form. */
	bool alt;
	/** ',' or '_' grouping, or 0. */
	char group;
	/** Minimum width, 0 for none. */
	int width;
	/** Precision, -1 for none. */
	int prec;
	/** Type character, or 0. */
	char type;
};

/** One piece of a format: literal text or a field. */
struct piece {
	/** Literal text (unescaped, owned by the format), or NULL. */
	const char *text;
	/** Length of `text`, or of the field's name. */
	size_t len;
	/** The field's name (points into the format's copy). */
	const char *name;
	/** Conversion: 's', 'r' or 0. */
	char conv;
	/** The spec. */
	struct spec spec;
};

/** A parsed format. */
struct sl_pyfmt {
	/** Pieces in order. */
	struct piece *pieces;
	/** Number of pieces. */
	uint32_t n;
	/** Indexes in `pieces` of the fields. */
	uint32_t *fields;
	/** Number of fields. */
	uint32_t n_fields;
	/** Copy of the format text (unescaped literals live here). */
	char *text;
};

void
sl_pyfmt_delete(struct sl_pyfmt *f)
{
	if (f == NULL)
		return;
	sl_free(f->pieces);
	sl_free(f->fields);
	sl_free(f->text);
	sl_free(f);
}

/** Parse a decimal number at *p (at most PYFMT_WIDTH_MAX). */
static int
parse_num(const char **p, const char *end, int *out)
{
	int v = 0;
	bool any = false;
	while (*p < end && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		if (v > PYFMT_WIDTH_MAX) {
			sl_diag_set(SL_EINVAL, "too many decimal digits in "
			                       "format string");
			return -1;
		}
		(*p)++;
		any = true;
	}
	*out = any ? v : -1;
	return 0;
}

/** Parse a spec from s[0, n). */
static int
parse_spec(const char *s, size_t n, struct spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->fill = ' ';
	sp->prec = -1;
	const char *p = s, *end = s + n;
	static const char aligns[] = "<>^=";
	if (end - p >= 2 && strchr(aligns, p[1]) != NULL && p[1] != '\0') {
		if ((unsigned char)p[0] >= 0x80) {
			sl_diag_set(SL_EINVAL, "non-ASCII fill characters are "
			                       "not supported");
			return -1;
		}
		sp->fill = p[0];
		sp->align = p[1];
		p += 2;
	} else if (p < end && strchr(aligns, *p) != NULL && *p != '\0') {
		sp->align = *p++;
	}
	if (p < end && (*p == '+' || *p == '-' || *p == ' '))
		sp->sign = *p++;
	if (p < end && *p == '#') {
		sp->alt = true;
		p++;
	}
	if (p < end && *p == '0') {
		if (sp->align == 0) {
			sp->fill = '0';
			sp->align = '=';
		}
		p++;
	}
	int w;
	if (parse_num(&p, end, &w) != 0)
		return -1;
	sp->width = w < 0 ? 0 : w;
	if (p < end && (*p == ',' || *p == '_'))
		sp->group = *p++;
	if (p < end && *p == '.') {
		p++;
		if (parse_num(&p, end, &sp->prec) != 0)
			return -1;
		if (sp->prec < 0) {
			sl_diag_set(SL_EINVAL, "format specifier missing "
			                       "precision");
			return -1;
		}
	}
	if (p < end && strchr("sdnxXobeEfFgG%c", *p) != NULL && *p != '\0')
		sp->type = *p++;
	if (p != end) {
		sl_diag_set(SL_EINVAL, "invalid format specifier '%.*s'",
		            (int)n, s);
		return -1;
	}
	return 0;
}

/** Parse the field `{...}` whose inside is s[0, n) into `pc`. */
static int
parse_field(char *s, size_t n, struct piece *pc)
{
	size_t i = 0;
	while (i < n && s[i] != '!' && s[i] != ':')
		i++;
	if (i == 0 || (s[0] >= '0' && s[0] <= '9')) {
		sl_diag_set(SL_EINVAL,
		            "positional field '{%.*s}' in a format: !format "
		            "needs named fields such as {name}",
		            (int)n, s);
		return -1;
	}
	for (size_t k = 0; k < i; k++)
		if (s[k] == '.' || s[k] == '[' || s[k] == ']') {
			sl_diag_set(
			        SL_EINVAL,
			        "field '{%.*s}': attribute and index lookups "
			        "are not supported",
			        (int)n, s);
			return -1;
		}
	pc->name = s;
	pc->len = i;
	if (i < n && s[i] == '!') {
		if (i + 1 >= n || (s[i + 1] != 's' && s[i + 1] != 'r') ||
		    (i + 2 < n && s[i + 2] != ':') || i + 2 > n) {
			sl_diag_set(SL_EINVAL,
			            "field '{%.*s}': expected the conversion "
			            "!s or !r",
			            (int)n, s);
			return -1;
		}
		pc->conv = s[i + 1];
		i += 2;
	}
	if (i < n && s[i] == ':')
		return parse_spec(s + i + 1, n - i - 1, &pc->spec);
	return parse_spec("", 0, &pc->spec);
}

struct sl_pyfmt *
sl_pyfmt_parse(const char *s, size_t n)
{
	struct sl_pyfmt *f = sl_calloc(1, sizeof(*f));
	if (f != NULL) {
		f->text = sl_malloc(n + 1);
		/* Pieces alternate at most: n + 1 is enough. */
		f->pieces = sl_calloc(n + 1, sizeof(*f->pieces));
		f->fields = sl_calloc(n + 1, sizeof(*f->fields));
	}
	if (f == NULL || f->text == NULL || f->pieces == NULL ||
	    f->fields == NULL) {
		sl_pyfmt_delete(f);
		sl_diag_set(SL_EOOM, "out of memory parsing a format");
		return NULL;
	}
	memcpy(f->text, s, n);
	f->text[n] = '\0';
	char *t = f->text;
	size_t i = 0;
	/* Literal text is unescaped in place: w trails i. */
	size_t w = 0, lit_start = 0;
	while (i < n) {
		char c = t[i];
		if ((c == '{' || c == '}') && i + 1 < n && t[i + 1] == c) {
			t[w++] = c;
			i += 2;
			continue;
		}
		if (c == '}') {
			sl_diag_set(SL_EINVAL,
			            "single '}' encountered in format string");
			goto fail;
		}
		if (c != '{') {
			t[w++] = t[i++];
			continue;
		}
		size_t close = i + 1;
		while (close < n && t[close] != '}' && t[close] != '{')
			close++;
		if (close >= n || t[close] != '}') {
			sl_diag_set(SL_EINVAL,
			            close >= n ? "expected '}' before end "
			                         "of string"
			                       : "nested fields are not "
			                         "supported");
			goto fail;
		}
		if (w > lit_start) {
			f->pieces[f->n].text = t + lit_start;
			f->pieces[f->n].len = w - lit_start;
			f->n++;
		}
		struct piece *pc = &f->pieces[f->n];
		if (parse_field(t + i + 1, close - i - 1, pc) != 0)
			goto fail;
		f->fields[f->n_fields++] = f->n++;
		i = close + 1;
		/* Literals after the field start past it: the field's text
		 * must stay intact, so w jumps forward. */
		w = lit_start = i;
	}
	if (w > lit_start) {
		f->pieces[f->n].text = t + lit_start;
		f->pieces[f->n].len = w - lit_start;
		f->n++;
	}
	return f;
fail:
	sl_pyfmt_delete(f);
	return NULL;
}

uint32_t
sl_pyfmt_nfields(const struct sl_pyfmt *f)
{
	return f->n_fields;
}

void
sl_pyfmt_field(const struct sl_pyfmt *f, uint32_t i, const char **name,
               size_t *len)
{
	const struct piece *pc = &f->pieces[f->fields[i]];
	*name = pc->name;
	*len = pc->len;
}

/** Code points in s[0, n). */
static size_t
n_chars(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/** Byte length of the first `chars` code points of s[0, n). */
static size_t
prefix_bytes(const char *s, size_t n, size_t chars)
{
	size_t i = 0, c = 0;
	for (; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (c == chars)
				break;
			c++;
		}
	}
	return i;
}

/**
 * Append `body` (with `sign_len` leading sign/prefix bytes) padded to the
 * spec's width. '=' puts the padding after the sign.
 */
static int
pad(struct sl_buf *out, const struct spec *sp, char dflt_align,
    const char *body, size_t len, size_t sign_len)
{
	size_t chars = n_chars(body, len);
	size_t padn = (size_t)sp->width > chars ? (size_t)sp->width - chars : 0;
	char align = sp->align != 0 ? sp->align : dflt_align;
	size_t left = 0, right = 0;
	if (align == '<')
		right = padn;
	else if (align == '^') {
		left = padn / 2;
		right = padn - left;
	} else {
		left = padn;
	}
	if (align == '=' && sl_buf_append(out, body, sign_len) != 0)
		return -1;
	for (size_t k = 0; k < left; k++)
		if (sl_buf_putc(out, sp->fill) != 0)
			return -1;
	size_t skip = align == '=' ? sign_len : 0;
	if (sl_buf_append(out, body + skip, len - skip) != 0)
		return -1;
	for (size_t k = 0; k < right; k++)
		if (sl_buf_putc(out, sp->fill) != 0)
			return -1;
	return 0;
}

/** Insert grouping separators every 3 digits in the integer digits. */
static void
group_digits(char *digits, size_t *len, size_t cap, char sep)
{
	size_t n = *len;
	size_t end = 0;
	while (end < n && digits[end] >= '0' && digits[end] <= '9')
		end++;
	size_t seps = end > 3 ? (end - 1) / 3 : 0;
	if (seps == 0 || n + seps >= cap)
		return;
	memmove(digits + end + seps, digits + end, n - end);
	size_t src = end, dst = end + seps, k = 0;
	while (src > 0) {
		digits[--dst] = digits[--src];
		if (++k % 3 == 0 && src > 0)
			digits[--dst] = sep;
	}
	*len = n + seps;
}

/** Format an integer. */
static int
fmt_int(struct sl_buf *out, const struct spec *sp, int64_t v)
{
	char type = sp->type != 0 ? sp->type : 'd';
	if (type == 's') {
		sl_diag_set(SL_EINVAL,
		            "Unknown format code 's' for object of type 'int'");
		return -1;
	}
	if (sp->prec >= 0 && strchr("dnxXobc", type) != NULL) {
		sl_diag_set(
		        SL_EINVAL,
		        "Precision not allowed in integer format specifier");
		return -1;
	}
	char body[200];
	size_t w = 0;
	bool neg = v < 0;
	uint64_t mag = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	if (neg)
		body[w++] = '-';
	else if (sp->sign == '+' || sp->sign == ' ')
		body[w++] = sp->sign;
	if (sp->alt && strchr("xXob", type) != NULL) {
		body[w++] = '0';
		body[w++] = type == 'X' ? 'X' : type;
	}
	size_t sign_len = w;
	char digits[160];
	size_t nd = 0;
	if (type == 'c') {
		sl_diag_set(SL_EINVAL, "format code 'c' is not supported");
		return -1;
	}
	if (type == 'b') {
		do {
			digits[nd++] = (char)('0' + (mag & 1));
			mag >>= 1;
		} while (mag != 0);
		for (size_t a = 0, b = nd - 1; a < b; a++, b--) {
			char t = digits[a];
			digits[a] = digits[b];
			digits[b] = t;
		}
	} else {
		const char *f = type == 'x'   ? "%" PRIx64
		                : type == 'X' ? "%" PRIX64
		                : type == 'o' ? "%" PRIo64
		                              : "%" PRIu64;
		nd = (size_t)snprintf(digits, sizeof(digits), f, mag);
	}
	if (sp->group != 0)
		group_digits(digits, &nd, sizeof(digits), sp->group);
	memcpy(body + w, digits, nd);
	w += nd;
	return pad(out, sp, '>', body, w, sign_len);
}

/**
 * Format a float. The digits go in a heap buffer sized for them: a
 * precision of up to PYFMT_WIDTH_MAX digits after the point of a number
 * up to 1.8e308, with room for the grouping separators.
 */
static int
fmt_float(struct sl_buf *out, const struct spec *sp, double d)
{
	char type = sp->type;
	if (type == 's' || strchr("xXobc", type ? type : 'f') != NULL) {
		sl_diag_set(SL_EINVAL,
		            "Unknown format code '%c' for object of type "
		            "'float'",
		            type);
		return -1;
	}
	char sign[2];
	size_t w = 0;
	bool neg = signbit(d) && !isnan(d);
	if (neg)
		sign[w++] = '-';
	else if (sp->sign == '+' || sp->sign == ' ')
		sign[w++] = sp->sign;
	double mag = fabs(d);
	struct sl_buf num;
	sl_buf_create(&num, out->max - out->len);
	int rc;
	if (type == 0 && sp->prec < 0) {
		struct sl_value v = sl_double(mag);
		rc = sl_py_str(&v, &num);
	} else {
		int prec = sp->prec >= 0 ? sp->prec : 6;
		char t = type == 0 ? 'g' : type == 'n' ? 'g' : type;
		bool pct = t == '%';
		char f[16];
		snprintf(f, sizeof(f), "%%%s.%d%c", sp->alt ? "#" : "", prec,
		         pct ? 'f' : t);
		rc = sl_buf_printf(&num, f, pct ? mag * 100 : mag);
		if (rc == 0 && pct)
			rc = sl_buf_putc(&num, '%');
	}
	/* Room for the sign and a separator per 3 integer digits. */
	size_t cap = w + num.len + num.len / 3 + 2;
	char *body = rc == 0 ? sl_malloc(cap) : NULL;
	if (body == NULL) {
		sl_buf_destroy(&num);
		if (sl_diag_code() == SL_EOK)
			sl_diag_set(SL_EOOM,
			            "out of memory formatting a float");
		return -1;
	}
	memcpy(body, sign, w);
	size_t nn = num.len;
	if (nn > 0)
		memcpy(body + w, num.data, nn);
	sl_buf_destroy(&num);
	if (sp->group != 0)
		group_digits(body + w, &nn, cap - w, sp->group);
	rc = pad(out, sp, '>', body, w + nn, w);
	sl_free(body);
	return rc;
}

/** Format one value with its piece's conversion and spec. */
static int
fmt_value(struct sl_buf *out, const struct piece *pc, const struct sl_value *v)
{
	const struct spec *sp = &pc->spec;
	struct sl_value n = *v;
	if (n.type == SL_VNUMBER)
		n = sl_value_number(n);
	bool as_text = pc->conv != 0 || n.type == SL_VSTR ||
	               n.type == SL_VNULL || n.type == SL_VARRAY ||
	               n.type == SL_VOBJECT ||
	               (n.type == SL_VBOOL && sp->type == 0);
	if (!as_text) {
		if (n.type == SL_VBOOL)
			n = sl_int(n.u.b ? 1 : 0);
		if (n.type == SL_VINT && sp->type != 0 &&
		    strchr("eEfFgG%", sp->type) != NULL)
			n = sl_double((double)n.u.i);
		return n.type == SL_VINT ? fmt_int(out, sp, n.u.i)
		                         : fmt_float(out, sp, n.u.d);
	}
	bool has_spec = sp->width > 0 || sp->prec >= 0 || sp->type != 0 ||
	                sp->sign != 0 || sp->alt || sp->group != 0 ||
	                sp->align != 0;
	if (pc->conv == 0 &&
	    (n.type == SL_VARRAY || n.type == SL_VOBJECT ||
	     n.type == SL_VNULL) &&
	    has_spec) {
		sl_diag_set(SL_EINVAL,
		            "unsupported format string passed to "
		            "%s.__format__",
		            sl_py_type(&n));
		return -1;
	}
	if ((sp->type != 0 && sp->type != 's') || sp->sign != 0 || sp->alt ||
	    sp->group != 0 || sp->align == '=') {
		sl_diag_set(
		        SL_EINVAL,
		        "invalid format specifier for object of type 'str'");
		return -1;
	}
	struct sl_buf t;
	sl_buf_create(&t, out->max - out->len);
	int rc = pc->conv == 'r' ? sl_py_repr(v, &t) : sl_py_str(v, &t);
	if (rc == 0) {
		const char *s = t.data != NULL ? t.data : "";
		size_t len = t.len;
		if (sp->prec >= 0)
			len = prefix_bytes(s, len, (size_t)sp->prec);
		rc = pad(out, sp, '<', s, len, 0);
	}
	sl_buf_destroy(&t);
	return rc;
}

int
sl_pyfmt_format(const struct sl_pyfmt *f, const char *const *names,
                const uint32_t *lens, const struct sl_value *vals, uint32_t n,
                struct sl_arena *a, struct sl_value *out)
{
	struct sl_buf b;
	size_t room = sl_arena_room(a);
	sl_buf_create(&b, room < PYFMT_OUT_MAX ? room : PYFMT_OUT_MAX);
	int rc = 0;
	for (uint32_t i = 0; i < f->n && rc == 0; i++) {
		const struct piece *pc = &f->pieces[i];
		if (pc->text != NULL) {
			rc = sl_buf_append(&b, pc->text, pc->len);
			continue;
		}
		uint32_t j = 0;
		while (j < n && !(lens[j] == pc->len &&
		                  memcmp(names[j], pc->name, pc->len) == 0))
			j++;
		if (j == n) {
			sl_diag_set(SL_EINVAL, "KeyError: '%.*s'", (int)pc->len,
			            pc->name);
			rc = -1;
			break;
		}
		rc = fmt_value(&b, pc, &vals[j]);
	}
	if (rc == 0)
		rc = sl_str_copy(a, b.data != NULL ? b.data : "", b.len, out);
	sl_buf_destroy(&b);
	if (rc != 0 && room < PYFMT_OUT_MAX)
		return sl_py_buf_fail(a, "!format");
	return rc;
}
