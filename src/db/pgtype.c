/*
 * sluice: PostgreSQL values on the wire: parameter encoding by the type the
 * server gave, result decoding into values, COPY rows.
 */
#include "pgtype.h"

#include "conn.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"

/** Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
#define PG_EPOCH_DAYS 10957
/** Seconds from 1970-01-01 to 2000-01-01. */
#define PG_EPOCH_SECS ((int64_t)PG_EPOCH_DAYS * 86400)

/* {{{ byte order */

/** Append a big-endian 64-bit integer. */
static int
put64(struct sl_buf *b, uint64_t v)
{
	if (sl_pg_put32(b, (uint32_t)(v >> 32)) != 0)
		return -1;
	return sl_pg_put32(b, (uint32_t)v);
}

/** Read a big-endian 64-bit integer. */
static uint64_t
get64(const char *p)
{
	return ((uint64_t)sl_pg_get32(p) << 32) | sl_pg_get32(p + 4);
}

/* }}} */
/* {{{ type classes */

/** Whether `oid` is a textual type sent and received as its bytes. */
static bool
is_texty(uint32_t oid)
{
	switch (oid) {
	case PG_TEXT:
	case PG_VARCHAR:
	case PG_BPCHAR:
	case PG_NAME:
	case PG_UNKNOWN:
	case PG_XML:
	case PG_CHAR:
		return true;
	default:
		return false;
	}
}

/** The element type of a known array type, or 0. */
static uint32_t
array_elem(uint32_t oid)
{
	switch (oid) {
	case PG_BOOL_ARRAY:
		return PG_BOOL;
	case PG_BYTEA_ARRAY:
		return PG_BYTEA;
	case PG_CHAR_ARRAY:
		return PG_CHAR;
	case PG_NAME_ARRAY:
		return PG_NAME;
	case PG_INT2_ARRAY:
		return PG_INT2;
	case PG_INT4_ARRAY:
		return PG_INT4;
	case PG_TEXT_ARRAY:
		return PG_TEXT;
	case PG_BPCHAR_ARRAY:
		return PG_BPCHAR;
	case PG_VARCHAR_ARRAY:
		return PG_VARCHAR;
	case PG_INT8_ARRAY:
		return PG_INT8;
	case PG_FLOAT4_ARRAY:
		return PG_FLOAT4;
	case PG_FLOAT8_ARRAY:
		return PG_FLOAT8;
	case PG_OID_ARRAY:
		return PG_OID;
	case PG_TIMESTAMP_ARRAY:
		return PG_TIMESTAMP;
	case PG_DATE_ARRAY:
		return PG_DATE;
	case PG_TIMESTAMPTZ_ARRAY:
		return PG_TIMESTAMPTZ;
	case PG_NUMERIC_ARRAY:
		return PG_NUMERIC;
	case PG_UUID_ARRAY:
		return PG_UUID;
	case PG_JSON_ARRAY:
		return PG_JSON;
	case PG_JSONB_ARRAY:
		return PG_JSONB;
	default:
		return 0;
	}
}

bool
sl_pgtype_binary_param(uint32_t oid)
{
	switch (oid) {
	case PG_BOOL:
	case PG_BYTEA:
	case PG_INT8:
	case PG_INT2:
	case PG_INT4:
	case PG_OID:
	case PG_JSON:
	case PG_JSONB:
	case PG_FLOAT4:
	case PG_FLOAT8:
		return true;
	default:
		return false;
	}
}

bool
sl_pgtype_by_value(uint32_t oid)
{
	uint32_t elem = array_elem(oid);
	switch (elem != 0 ? elem : oid) {
	case PG_BOOL:
	case PG_INT2:
	case PG_INT4:
	case PG_INT8:
	case PG_OID:
	case PG_FLOAT4:
	case PG_FLOAT8:
		return true;
	default:
		return false;
	}
}

bool
sl_pgtype_binary_decodable(uint32_t oid)
{
	switch (oid) {
	case PG_DATE:
	case PG_TIMESTAMP:
	case PG_TIMESTAMPTZ:
	case PG_NUMERIC:
	case PG_UUID:
		return true;
	default:
		return sl_pgtype_binary_param(oid) || is_texty(oid) ||
		       array_elem(oid) != 0;
	}
}

/* }}} */
/* {{{ encoding */

/** A value as a signed integer, if it is one. */
static bool
as_int(const struct sl_value *v, int64_t *out)
{
	if (v->type == SL_VINT) { /* the common case, without a copy */
		*out = v->u.i;
		return true;
	}
	struct sl_value n = sl_value_number(*v);
	if (n.type == SL_VINT) {
		*out = n.u.i;
		return true;
	}
	if (n.type == SL_VDOUBLE && n.u.d == floor(n.u.d) &&
	    n.u.d >= -9223372036854775808.0 && n.u.d < 9223372036854775808.0) {
		*out = (int64_t)n.u.d;
		return true;
	}
	return false;
}

/** A value as a double, if it is a number. */
static bool
as_double(const struct sl_value *v, double *out)
{
	if (v->type == SL_VDOUBLE) {
		*out = v->u.d;
		return true;
	}
	struct sl_value n = sl_value_number(*v);
	if (n.type == SL_VINT) {
		*out = (double)n.u.i;
		return true;
	}
	if (n.type == SL_VDOUBLE) {
		*out = n.u.d;
		return true;
	}
	return false;
}

/** Name of a value's type for messages. */
static const char *
vname(const struct sl_value *v)
{
	switch (v->type) {
	case SL_VBOOL:
		return "a bool";
	case SL_VINT:
	case SL_VDOUBLE:
	case SL_VNUMBER:
		return "a number";
	case SL_VSTR:
		return "a string";
	case SL_VARRAY:
		return "an array";
	case SL_VOBJECT:
		return "an object";
	default:
		return "null";
	}
}

/** Append a PostgreSQL array literal ({a,"b c",NULL}) for `v`. */
static int text_value(struct sl_buf *out, uint32_t oid,
                      const struct sl_value *v, bool in_array);

/** Append `s` as a quoted array element. */
static int
array_quoted(struct sl_buf *out, const char *s, size_t n)
{
	if (sl_buf_putc(out, '"') != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((s[i] == '"' || s[i] == '\\') &&
		    sl_buf_putc(out, '\\') != 0)
			return -1;
		if (sl_buf_putc(out, s[i]) != 0)
			return -1;
	}
	return sl_buf_putc(out, '"');
}

/** The text form of `v` for type `oid` (arrays as array literals). */
static int
text_value(struct sl_buf *out, uint32_t oid, const struct sl_value *v,
           bool in_array)
{
	char tmp[40];
	int n;
	switch (v->type) {
	case SL_VNULL:
		return sl_buf_puts(out, "NULL");
	case SL_VBOOL:
		return sl_buf_puts(out, v->u.b ? "true" : "false");
	case SL_VINT:
		n = snprintf(tmp, sizeof(tmp), "%" PRId64, v->u.i);
		return sl_buf_append(out, tmp, (size_t)n);
	case SL_VDOUBLE:
		if (isnan(v->u.d))
			return sl_buf_puts(out, "NaN");
		if (isinf(v->u.d))
			return sl_buf_puts(out, v->u.d > 0 ? "Infinity"
			                                   : "-Infinity");
		n = snprintf(tmp, sizeof(tmp), "%.17g", v->u.d);
		return sl_buf_append(out, tmp, (size_t)n);
	case SL_VNUMBER:
		return sl_buf_append(out, v->u.s, v->len);
	case SL_VSTR:
		if (in_array)
			return array_quoted(out, v->u.s, v->len);
		return sl_buf_append(out, v->u.s, v->len);
	case SL_VARRAY:
		if (array_elem(oid) != 0 || in_array) {
			uint32_t elem = array_elem(oid);
			if (sl_buf_putc(out, '{') != 0)
				return -1;
			for (uint32_t i = 0; i < v->len; i++) {
				if (i > 0 && sl_buf_putc(out, ',') != 0)
					return -1;
				if (text_value(out, elem != 0 ? elem : oid,
				               &v->u.items[i], true) != 0)
					return -1;
			}
			return sl_buf_putc(out, '}');
		}
		/* Otherwise JSON text, as objects. */
		__attribute__((fallthrough));
	case SL_VOBJECT: {
		if (!in_array)
			return sl_json_write(out, v, 0);
		struct sl_buf j;
		sl_buf_create(&j, SL_DB_BUF_MAX);
		int rc = sl_json_write(&j, v, 0);
		if (rc == 0)
			rc = array_quoted(out, j.data, j.len);
		sl_buf_destroy(&j);
		return rc;
	}
	}
	return 0;
}

/** Raise "expected X for type, got Y". */
static int
mismatch(const char *want, const struct sl_value *v)
{
	sl_diag_set(SL_EINVAL, "expected %s, got %s", want, vname(v));
	return -1;
}

/** Append `v` as JSON text for a json or jsonb value (strings as is). */
static int
json_text(struct sl_buf *out, const struct sl_value *v)
{
	if (v->type == SL_VSTR)
		return sl_buf_append(out, v->u.s, v->len);
	return sl_json_write(out, v, 0);
}

/** Append the binary encoding of `v` for `oid` (sl_pgtype_binary_param). */
static int
encode_binary(struct sl_buf *out, uint32_t oid, const struct sl_value *v)
{
	int64_t i;
	double d;
	switch (oid) {
	case PG_BOOL:
		if (v->type != SL_VBOOL)
			return mismatch("a bool", v);
		return sl_buf_putc(out, v->u.b ? 1 : 0);
	case PG_INT2:
		if (!as_int(v, &i))
			return mismatch("an integer (smallint)", v);
		if (i < INT16_MIN || i > INT16_MAX) {
			sl_diag_set(SL_EINVAL,
			            "%" PRId64 " is out of range for smallint",
			            i);
			return -1;
		}
		return sl_pg_put16(out, (uint16_t)(int16_t)i);
	case PG_INT4:
		if (!as_int(v, &i))
			return mismatch("an integer", v);
		if (i < INT32_MIN || i > INT32_MAX) {
			sl_diag_set(SL_EINVAL,
			            "%" PRId64 " is out of range for integer",
			            i);
			return -1;
		}
		return sl_pg_put32(out, (uint32_t)(int32_t)i);
	case PG_OID:
		if (!as_int(v, &i) || i < 0 || i > UINT32_MAX)
			return mismatch("an oid (0..4294967295)", v);
		return sl_pg_put32(out, (uint32_t)i);
	case PG_INT8:
		if (!as_int(v, &i))
			return mismatch("an integer (bigint)", v);
		return put64(out, (uint64_t)i);
	case PG_FLOAT4: {
		if (!as_double(v, &d))
			return mismatch("a number (real)", v);
		float f = (float)d;
		uint32_t u;
		memcpy(&u, &f, 4);
		return sl_pg_put32(out, u);
	}
	case PG_FLOAT8: {
		if (!as_double(v, &d))
			return mismatch("a number (double precision)", v);
		uint64_t u;
		memcpy(&u, &d, 8);
		return put64(out, u);
	}
	case PG_BYTEA:
		if (v->type != SL_VSTR)
			return mismatch("a string of bytes (bytea)", v);
		return sl_buf_append(out, v->u.s, v->len);
	case PG_JSON:
		return json_text(out, v);
	case PG_JSONB:
		if (sl_buf_putc(out, 1) != 0)
			return -1;
		return json_text(out, v);
	case PG_TEXT:
	case PG_VARCHAR:
	case PG_BPCHAR:
	case PG_NAME:
	case PG_UNKNOWN:
	case PG_XML:
		return text_value(out, oid, v, false);
	default:
		sl_diag_set(SL_EINVAL, "type %u has no binary encoder", oid);
		return -1;
	}
}

int
sl_pgtype_encode(struct sl_buf *out, uint32_t oid, const struct sl_value *v,
                 bool *is_null)
{
	*is_null = v->type == SL_VNULL;
	if (*is_null)
		return 0;
	size_t mark = out->len;
	int rc;
	if (sl_pgtype_binary_param(oid)) {
		rc = encode_binary(out, oid, v);
	} else {
		rc = text_value(out, oid, v, false);
		if (rc == 0 &&
		    memchr(out->data + mark, '\0', out->len - mark)) {
			sl_diag_set(SL_EINVAL,
			            "text holds a NUL byte (bind it to a bytea "
			            "parameter)");
			rc = -1;
		}
		if (rc == 0)
			rc = sl_buf_putc(out, '\0');
	}
	if (rc != 0)
		out->len = mark;
	return rc;
}

/* }}} */
/* {{{ decoding */

/** Raise a malformed-data error for `what`. */
static int
bad(const char *what)
{
	sl_diag_set(SL_EPARSE, "malformed %s value from the server", what);
	return -1;
}

/** Raise a malformed-data error for `what`, saying why. */
static int
bad_why(const char *what, const char *why)
{
	sl_diag_set(SL_EPARSE, "malformed %s value from the server: %s", what,
	            why);
	return -1;
}

/** Format days since 1970 as YYYY-MM-DD into `out`. */
static size_t
fmt_date(int64_t days, char *out, size_t size)
{
	time_t secs = (time_t)(days * 86400);
	struct tm tm;
	gmtime_r(&secs, &tm);
	return (size_t)snprintf(out, size, "%04d-%02d-%02d", tm.tm_year + 1900,
	                        tm.tm_mon + 1, tm.tm_mday);
}

/** Decode a binary timestamp (microseconds since 2000) into text. */
static int
decode_timestamp(const char *p, size_t len, bool tz, struct sl_arena *a,
                 struct sl_value *out)
{
	if (len != 8)
		return bad("timestamp");
	int64_t us = (int64_t)get64(p);
	if (us == INT64_MAX || us == INT64_MIN) {
		*out = sl_str_ref(us > 0 ? "infinity" : "-infinity",
		                  us > 0 ? 8 : 9);
		return 0;
	}
	int64_t secs = us / 1000000, frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	time_t t = (time_t)(secs + PG_EPOCH_SECS);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[48];
	int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	                 tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (frac != 0)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%06" PRId64,
		              frac);
	if (tz)
		buf[n++] = 'Z';
	return sl_str_copy(a, buf, (size_t)n, out);
}

/** Decode a binary numeric into number text (NaN and infinities as text). */
static int
decode_numeric(const char *p, size_t len, struct sl_arena *a,
               struct sl_value *out)
{
	if (len < 8)
		return bad("numeric");
	int ndigits = (int16_t)sl_pg_get16(p);
	int weight = (int16_t)sl_pg_get16(p + 2);
	uint16_t sign = sl_pg_get16(p + 4);
	int dscale = (int16_t)sl_pg_get16(p + 6);
	if (ndigits < 0 || len != 8 + (size_t)ndigits * 2)
		return bad_why("numeric", "digit count does not match length");
	/* As PostgreSQL's numeric_recv() checks (NUMERIC_DSCALE_MASK). */
	if (dscale < 0 || dscale > 0x3FFF)
		return bad_why("numeric", "display scale out of range");
	if (sign == 0xC000)
		return sl_str_copy(a, "NaN", 3, out);
	if (sign == 0xD000)
		return sl_str_copy(a, "Infinity", 8, out);
	if (sign == 0xF000)
		return sl_str_copy(a, "-Infinity", 9, out);
	if (sign != 0 && sign != 0x4000)
		return bad_why("numeric", "unknown sign");
	/* Base-10000 digits: a larger one would not fit its 4 places. */
	for (int g = 0; g < ndigits; g++)
		if (sl_pg_get16(p + 8 + g * 2) > 9999)
			return bad_why("numeric", "digit over 9999");
	/* Integer part: digit groups 0..weight; fraction: dscale digits. */
	size_t cap =
	        (size_t)(weight > 0 ? weight + 1 : 1) * 4 + (size_t)dscale + 3;
	char *s = sl_arena_alloc(a, cap);
	if (s == NULL)
		return -1;
	size_t n = 0;
	if (sign == 0x4000)
		s[n++] = '-';
	if (weight < 0) {
		s[n++] = '0';
	} else {
		/* Leading zero groups are skipped (PostgreSQL strips them, but
		 * "0000123" would not be a JSON number). */
		bool started = false;
		for (int g = 0; g <= weight; g++) {
			int d = g < ndigits ? (int)sl_pg_get16(p + 8 + g * 2)
			                    : 0;
			if (!started && d == 0 && g < weight)
				continue;
			char grp[8];
			int gl = snprintf(grp, sizeof(grp),
			                  started ? "%04d" : "%d", d);
			started = true;
			memcpy(s + n, grp, (size_t)gl);
			n += (size_t)gl;
		}
	}
	if (dscale > 0) {
		s[n++] = '.';
		for (int k = 0; k < dscale; k++) {
			/* Fraction digit k lives in group weight + 1 + k / 4.
			 */
			int g = weight + 1 + k / 4;
			int d = g >= 0 && g < ndigits
			                ? (int)sl_pg_get16(p + 8 + g * 2)
			                : 0;
			static const int div[4] = {1000, 100, 10, 1};
			s[n++] = (char)('0' + (d / div[k % 4]) % 10);
		}
	}
	*out = sl_number_ref(s, (uint32_t)n);
	return 0;
}

/** Decode `count` elements for dimensions dims[0..ndim). */
static int
decode_dims(const char **pp, const char *end, uint32_t elem, int ndim,
            const int32_t *dims, struct sl_arena *a, struct sl_value *out)
{
	int32_t count = dims[0];
	struct sl_value *items = NULL;
	if (count > 0) {
		items = sl_arena_alloc(a, (size_t)count * sizeof(*items));
		if (items == NULL)
			return -1;
	}
	/* A local cursor: stores to items cannot alias it. */
	const char *q = *pp;
	for (int32_t i = 0; i < count; i++) {
		if (ndim > 1) {
			if (decode_dims(&q, end, elem, ndim - 1, dims + 1, a,
			                &items[i]) != 0)
				return -1;
			continue;
		}
		if (end - q < 4)
			return bad("array");
		int32_t l = (int32_t)sl_pg_get32(q);
		q += 4;
		if (elem == PG_INT4 && l == 4 && end - q >= 4) {
			/* int[]: the common case, inline. */
			items[i] = sl_int((int32_t)sl_pg_get32(q));
			q += 4;
			continue;
		}
		if (l == -1) {
			items[i] = sl_null();
			continue;
		}
		/* Only -1 is NULL (as in PostgreSQL's array_recv()). */
		if (l < 0)
			return bad_why("array", "negative element length");
		if (end - q < l)
			return bad("array");
		if (sl_pgtype_decode(elem, 1, q, (size_t)l, a, &items[i]) != 0)
			return -1;
		q += l;
	}
	*pp = q;
	*out = sl_array_ref(items, (uint32_t)(count > 0 ? count : 0));
	return 0;
}

/**
 * Decode a binary array of element type `elem` (nested arrays for several
 * dimensions).
 */
static int
decode_array(uint32_t elem, const char *p, size_t len, struct sl_arena *a,
             struct sl_value *out)
{
	if (len < 12)
		return bad("array");
	int32_t ndim = (int32_t)sl_pg_get32(p);
	/* The element type must be the array type's: decoding by the type the
	 * data names would let an int4[] hold int4[] elements nested as deep
	 * as the bytes go, recursing without bound. */
	if (sl_pg_get32(p + 8) != elem) {
		sl_diag_set(SL_EPARSE,
		            "malformed array value from the server: elements "
		            "of type %u in an array of type %u",
		            sl_pg_get32(p + 8), elem);
		return -1;
	}
	if (ndim == 0) {
		*out = sl_array_ref(NULL, 0);
		return 0;
	}
	if (ndim < 0 || ndim > 6 || len < 12 + (size_t)ndim * 8)
		return bad_why("array", "bad dimension count");
	int32_t dims[6];
	/* Every element takes at least its 4-byte length, so the product of
	 * the dimensions is bounded by the bytes left (checked as it is built,
	 * so it cannot overflow). */
	size_t room = (len - 12 - (size_t)ndim * 8) / 4, total = 1;
	for (int i = 0; i < ndim; i++) {
		dims[i] = (int32_t)sl_pg_get32(p + 12 + i * 8);
		if (dims[i] < 0)
			return bad_why("array", "negative dimension");
		if (dims[i] == 0) {
			/* No elements: PostgreSQL's empty array (the other
			 * dimensions would only build empty nests). */
			total = 0;
			break;
		}
		if ((size_t)dims[i] > room / total)
			return bad_why("array", "more elements than bytes");
		total *= (size_t)dims[i];
	}
	if (total == 0) {
		if (len != 12 + (size_t)ndim * 8)
			return bad_why("array", "bytes after an empty array");
		*out = sl_array_ref(NULL, 0);
		return 0;
	}
	const char *q = p + 12 + ndim * 8;
	if (decode_dims(&q, p + len, elem, ndim, dims, a, out) != 0)
		return -1;
	return q == p + len ? 0 : bad("array");
}

/** Parse JSON text into a value. */
static int
decode_json(const char *p, size_t len, struct sl_arena *a, struct sl_value *out)
{
	if (sl_json_parse(p, len, a, NULL, NULL, out) != 0) {
		sl_diag_wrap(SL_EPARSE, "malformed json value from the server");
		return -1;
	}
	return 0;
}

/** The value of hex digit `ch`, or -1. */
static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/** Decode a text-format cell. */
static int
decode_text(uint32_t oid, const char *p, size_t len, struct sl_arena *a,
            struct sl_value *out)
{
	switch (oid) {
	case PG_BOOL:
		*out = sl_bool(len > 0 && p[0] == 't');
		return 0;
	case PG_INT2:
	case PG_INT4:
	case PG_INT8:
	case PG_OID: {
		/* The cell is data[0, len), not a C string: parse a copy. */
		char num[24], *e;
		if (len == 0 || len >= sizeof(num) ||
		    !(p[0] == '-' || (p[0] >= '0' && p[0] <= '9')))
			return bad("integer");
		memcpy(num, p, len);
		num[len] = '\0';
		errno = 0;
		long long x = strtoll(num, &e, 10);
		if (e != num + len)
			return bad("integer");
		if (errno == ERANGE)
			return bad_why("integer", "out of range");
		*out = sl_int(x);
		return 0;
	}
	case PG_FLOAT4:
	case PG_FLOAT8: {
		/* PostgreSQL writes at most about 25 bytes
		 * ("-1.7976931348623157e+308"). */
		char num[64], *e;
		if (len == 0 || len >= sizeof(num) || p[0] == ' ' ||
		    (p[0] >= '\t' && p[0] <= '\r'))
			return bad("float");
		memcpy(num, p, len);
		num[len] = '\0';
		double x = strtod(num, &e);
		if (e != num + len)
			return bad("float");
		*out = sl_double(x);
		return 0;
	}
	case PG_NUMERIC:
		/* NaN, Infinity and -Infinity (and anything that is not number
		 * text) stay strings, as in binary. */
		if (sl_number_text_valid(p, len))
			*out = sl_number_ref(p, (uint32_t)len);
		else
			*out = sl_str_ref(p, (uint32_t)len);
		return 0;
	case PG_JSON:
	case PG_JSONB:
		return decode_json(p, len, a, out);
	case PG_BYTEA: {
		if (len < 2 || p[0] != '\\' || p[1] != 'x' || len % 2 != 0)
			return bad("bytea");
		size_t n = (len - 2) / 2;
		char *b = sl_arena_alloc(a, n + 1);
		if (b == NULL)
			return -1;
		for (size_t i = 0; i < n; i++) {
			int hi = hexval(p[2 + i * 2]),
			    lo = hexval(p[3 + i * 2]);
			if (hi < 0 || lo < 0)
				return bad("bytea");
			b[i] = (char)(hi << 4 | lo);
		}
		*out = sl_str_ref(b, (uint32_t)n);
		return 0;
	}
	default:
		*out = sl_str_ref(p, (uint32_t)len);
		return 0;
	}
}

int
sl_pgtype_decode(uint32_t oid, int format, const char *p, size_t len,
                 struct sl_arena *a, struct sl_value *out)
{
	if (len > SL_VALUE_LEN_MAX) {
		sl_diag_set(SL_ELIMIT, "value of %zu bytes", len);
		return -1;
	}
	if (format == 0)
		return decode_text(oid, p, len, a, out);
	if (sl_pgtype_decode_quick(oid, p, len, out))
		return 0;
	switch (oid) { /* the quick path refused these sizes */
	case PG_BOOL:
		return bad("bool");
	case PG_INT2:
		return bad("smallint");
	case PG_INT4:
		return bad("integer");
	case PG_OID:
		return bad("oid");
	case PG_INT8:
		return bad("bigint");
	case PG_FLOAT8:
		return bad("double precision");
	case PG_FLOAT4: {
		if (len != 4)
			return bad("real");
		uint32_t u = sl_pg_get32(p);
		float f;
		memcpy(&f, &u, 4);
		*out = sl_double(f);
		return 0;
	}
	case PG_JSON:
		return decode_json(p, len, a, out);
	case PG_JSONB:
		if (len < 1 || p[0] != 1)
			return bad("jsonb");
		return decode_json(p + 1, len - 1, a, out);
	case PG_DATE: {
		if (len != 4)
			return bad("date");
		int32_t d = (int32_t)sl_pg_get32(p);
		if (d == INT32_MAX || d == INT32_MIN) {
			*out = sl_str_ref(d > 0 ? "infinity" : "-infinity",
			                  d > 0 ? 8 : 9);
			return 0;
		}
		char buf[32];
		size_t n =
		        fmt_date((int64_t)d + PG_EPOCH_DAYS, buf, sizeof(buf));
		return sl_str_copy(a, buf, n, out);
	}
	case PG_TIMESTAMP:
		return decode_timestamp(p, len, false, a, out);
	case PG_TIMESTAMPTZ:
		return decode_timestamp(p, len, true, a, out);
	case PG_NUMERIC:
		return decode_numeric(p, len, a, out);
	case PG_UUID: {
		if (len != 16)
			return bad("uuid");
		char buf[40];
		size_t n = 0;
		for (int i = 0; i < 16; i++) {
			if (i == 4 || i == 6 || i == 8 || i == 10)
				buf[n++] = '-';
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%02x",
			                      (unsigned char)p[i]);
		}
		return sl_str_copy(a, buf, n, out);
	}
	default:
		if (array_elem(oid) != 0)
			return decode_array(array_elem(oid), p, len, a, out);
		*out = sl_str_ref(p, (uint32_t)len);
		return 0;
	}
}

/* }}} */
/* {{{ COPY */

int
sl_pgtype_copy_header(struct sl_buf *out)
{
	static const char sig[11] = "PGCOPY\n\377\r\n";
	if (sl_buf_append(out, sig, 11) != 0)
		return -1;
	if (sl_pg_put32(out, 0) != 0)
		return -1;
	return sl_pg_put32(out, 0);
}

int
sl_pgtype_copy_tuple(struct sl_buf *out, const uint32_t *oids, size_t n,
                     const struct sl_value *values, size_t *bad_col)
{
	size_t mark = out->len;
	if (sl_pg_put16(out, (uint16_t)n) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (values[i].type == SL_VNULL) {
			if (sl_pg_put32(out, UINT32_MAX) != 0)
				goto fail;
			continue;
		}
		size_t len_at = out->len;
		if (sl_pg_put32(out, 0) != 0)
			goto fail;
		int rc = is_texty(oids[i])
		                 ? text_value(out, oids[i], &values[i], false)
		                 : encode_binary(out, oids[i], &values[i]);
		if (rc != 0) {
			*bad_col = i;
			goto fail;
		}
		size_t l = out->len - len_at - 4;
		unsigned char *q = (unsigned char *)out->data + len_at;
		q[0] = (unsigned char)(l >> 24);
		q[1] = (unsigned char)(l >> 16);
		q[2] = (unsigned char)(l >> 8);
		q[3] = (unsigned char)l;
	}
	return 0;
fail:
	out->len = mark;
	return -1;
}

int
sl_pgtype_copy_line(struct sl_buf *out, const uint32_t *oids, size_t n,
                    const struct sl_value *values, size_t *bad_col)
{
	size_t mark = out->len;
	struct sl_buf t;
	sl_buf_create(&t, SL_DB_BUF_MAX);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && sl_buf_putc(out, '\t') != 0)
			goto fail;
		if (values[i].type == SL_VNULL) {
			if (sl_buf_puts(out, "\\N") != 0)
				goto fail;
			continue;
		}
		sl_buf_reset(&t);
		int rc;
		if (oids[i] == PG_BYTEA) {
			if (values[i].type != SL_VSTR) {
				mismatch("a string of bytes (bytea)",
				         &values[i]);
				rc = -1;
			} else {
				rc = sl_buf_puts(&t, "\\x");
				for (uint32_t k = 0;
				     rc == 0 && k < values[i].len; k++)
					rc = sl_buf_printf(
					        &t, "%02x",
					        (unsigned char)values[i]
					                .u.s[k]);
			}
		} else if (oids[i] == PG_JSON || oids[i] == PG_JSONB) {
			rc = json_text(&t, &values[i]);
		} else {
			rc = text_value(&t, oids[i], &values[i], false);
		}
		if (rc != 0) {
			*bad_col = i;
			goto fail;
		}
		for (size_t k = 0; k < t.len; k++) {
			char ch = t.data[k];
			const char *esc = ch == '\\'   ? "\\\\"
			                  : ch == '\t' ? "\\t"
			                  : ch == '\n' ? "\\n"
			                  : ch == '\r' ? "\\r"
			                               : NULL;
			if (ch == '\0') {
				sl_diag_set(SL_EINVAL, "text holds a NUL byte");
				*bad_col = i;
				goto fail;
			}
			if ((esc != NULL ? sl_buf_puts(out, esc)
			                 : sl_buf_putc(out, ch)) != 0)
				goto fail;
		}
	}
	if (sl_buf_putc(out, '\n') != 0)
		goto fail;
	sl_buf_destroy(&t);
	return 0;
fail:
	sl_buf_destroy(&t);
	out->len = mark;
	return -1;
}

/* }}} */
