/*
 * libFuzzer target for the PostgreSQL value codecs (src/db/pgtype.c).
 *
 * Byte 0 picks the mode (bit 7: a COPY row, else one cell) and the format
 * (bit 0: binary, else text). In cell mode byte 1 picks a type OID from
 * the ones pgtype.c knows (arrays included) or an unknown one, and the
 * rest is decoded with sl_pgtype_decode() into a capped arena; a decoded value
 * is walked, written as JSON, encoded back as a parameter of the same type
 * and put in a one-column COPY row. In COPY mode byte 1 is the column
 * count (1..4), then each column has a type byte, a value byte and a
 * length byte, and the rest is cut into the columns' cells in order; a
 * cell that does not decode is replaced by a constant the value byte
 * picks. The row goes through sl_pgtype_copy_tuple() and sl_pgtype_copy_line().
 *
 * Invariants: a failure leaves an error in the diag; a decoded number is
 * JSON number text; a decoded value written as JSON reads back when its
 * strings are UTF-8; the fixed-size binary types encode back to the bytes
 * they were decoded from; a COPY tuple is a field count and exactly that
 * many length-prefixed fields; a COPY line has one tab between columns, no
 * raw line end but the last, and no NUL; a failed COPY call names a column
 * in range and leaves the buffer as it was.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "db/pgtype.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"

#define FUZZ_NAME "fuzz_pgtype"
#include "fuzz.h"

/** Cap on the arena and the buffers: hostile lengths must hit it. */
#define FUZZ_CAP ((size_t)1 << 20)

/** The type OIDs pgtype.c knows, then two it does not (point, money). */
static const uint32_t oids[] = {
        PG_BOOL,
        PG_BYTEA,
        PG_CHAR,
        PG_NAME,
        PG_INT8,
        PG_INT2,
        PG_INT4,
        PG_TEXT,
        PG_OID,
        PG_JSON,
        PG_XML,
        PG_JSON_ARRAY,
        PG_FLOAT4,
        PG_FLOAT8,
        PG_UNKNOWN,
        PG_BOOL_ARRAY,
        PG_BYTEA_ARRAY,
        PG_CHAR_ARRAY,
        PG_NAME_ARRAY,
        PG_INT2_ARRAY,
        PG_INT4_ARRAY,
        PG_TEXT_ARRAY,
        PG_BPCHAR_ARRAY,
        PG_VARCHAR_ARRAY,
        PG_INT8_ARRAY,
        PG_FLOAT4_ARRAY,
        PG_FLOAT8_ARRAY,
        PG_OID_ARRAY,
        PG_BPCHAR,
        PG_VARCHAR,
        PG_DATE,
        PG_TIMESTAMP,
        PG_TIMESTAMP_ARRAY,
        PG_DATE_ARRAY,
        PG_TIMESTAMPTZ,
        PG_TIMESTAMPTZ_ARRAY,
        PG_NUMERIC_ARRAY,
        PG_NUMERIC,
        PG_UUID,
        PG_UUID_ARRAY,
        PG_JSONB,
        PG_JSONB_ARRAY,
        600,
        790,
};

/** Number of entries in oids[]. */
#define NOIDS (sizeof(oids) / sizeof(oids[0]))

/** Where walk() results go, so the walk is not optimised away. */
volatile size_t fuzz_sink;

/** Whether s[0, n) is a JSON number (RFC 8259 grammar). */
static bool
json_number(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
	} else if (i < n && s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return false;
	}
	if (i < n && s[i] == '.') {
		size_t d = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return false;
	}
	return i == n;
}

/** Touch every byte a value refers to and check its number texts. */
static size_t
walk(const struct sl_value *v)
{
	size_t h = v->type;
	switch (v->type) {
	case SL_VNUMBER:
		CHECK(json_number(v->u.s, v->len), "number text \"%.*s\"",
		      (int)(v->len > 64 ? 64 : v->len), v->u.s);
		__attribute__((fallthrough));
	case SL_VSTR:
		for (uint32_t i = 0; i < v->len; i++)
			h += (unsigned char)v->u.s[i];
		break;
	case SL_VARRAY:
		for (uint32_t i = 0; i < v->len; i++)
			h += walk(&v->u.items[i]);
		break;
	case SL_VOBJECT:
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_member *m = &v->u.members[i];
			for (uint32_t k = 0; k < m->key_len; k++)
				h += (unsigned char)m->key[k];
			h += walk(&m->val);
		}
		break;
	default:
		break;
	}
	return h;
}

/** Decode one cell, checking that a failure says why. */
static int
decode(uint32_t oid, int format, const uint8_t *p, size_t n, struct sl_arena *a,
       struct sl_value *out)
{
	sl_diag_clear(sl_diag_get());
	int rc = sl_pgtype_decode(oid, format, (const char *)p, n, a, out);
	CHECK(rc == 0 || sl_diag_code() != SL_EOK,
	      "decoding type %u failed without an error", oid);
	if (rc == 0)
		fuzz_sink += walk(out);
	return rc;
}

/**
 * Write `v` as JSON; when it is UTF-8 throughout the text must read back
 * (and write back to the same text).
 */
static void
json_roundtrip(const struct sl_value *v, struct sl_arena *a)
{
	struct sl_buf b;
	sl_buf_create(&b, FUZZ_CAP);
	int rc = sl_json_write(&b, v, 0);
	CHECK(rc == 0 || sl_diag_code() == SL_ELIMIT ||
	              sl_diag_code() == SL_EOOM,
	      "writing a decoded value failed: %s",
	      sl_errcode_name(sl_diag_code()));
	if (rc == 0 && value_utf8(v)) {
		struct sl_value back;
		rc = sl_json_parse(b.data, b.len, a, NULL, "fuzz", &back);
		CHECK(rc == 0 || sl_diag_code() == SL_ELIMIT,
		      "the JSON written for a decoded value does not read "
		      "back: %s",
		      sl_diag_last() ? sl_diag_last()->msg : "?");
		if (rc == 0) {
			struct sl_buf b2;
			sl_buf_create(&b2, FUZZ_CAP);
			if (sl_json_write(&b2, &back, 0) == 0)
				CHECK(b2.len == b.len && memcmp(b.data, b2.data,
				                                b.len) == 0,
				      "JSON of a decoded value changes when "
				      "read back");
			sl_buf_destroy(&b2);
		}
	}
	sl_buf_destroy(&b);
}

/** Whether binary cells of `oid` encode back to the same bytes. */
static bool
exact_binary(uint32_t oid)
{
	switch (oid) {
	case PG_INT2:
	case PG_INT4:
	case PG_INT8:
	case PG_OID:
	case PG_FLOAT8:
	case PG_BYTEA:
		return true;
	default:
		return false;
	}
}

/** Encode `v` back as a parameter of type `oid`. */
static void
encode_back(uint32_t oid, int format, const uint8_t *p, size_t n,
            const struct sl_value *v)
{
	struct sl_buf b;
	sl_buf_create(&b, FUZZ_CAP);
	bool is_null = false;
	sl_diag_clear(sl_diag_get());
	int rc = sl_pgtype_encode(&b, oid, v, &is_null);
	CHECK(rc == 0 || sl_diag_code() != SL_EOK,
	      "encoding type %u failed without an error", oid);
	CHECK(rc == 0 || b.len == 0, "a failed encode left %zu bytes", b.len);
	CHECK(!is_null || b.len == 0, "a NULL parameter has bytes");
	if (format == 1 && exact_binary(oid))
		CHECK(rc == 0 && b.len == n && memcmp(b.data, p, n) == 0,
		      "type %u does not encode back to its %zu bytes", oid, n);
	sl_buf_destroy(&b);
}

/**
 * Check that t[0, n) is one binary COPY tuple of `ncols` fields: a 16-bit
 * count, then each field's 32-bit length (-1 for NULL) and bytes.
 */
static void
check_tuple(const char *t, size_t n, size_t ncols)
{
	const unsigned char *u = (const unsigned char *)t;
	CHECK(n >= 2 && (size_t)(u[0] << 8 | u[1]) == ncols,
	      "tuple field count");
	size_t at = 2;
	for (size_t i = 0; i < ncols; i++) {
		CHECK(n - at >= 4, "tuple field %zu has no length", i);
		uint32_t l = (uint32_t)u[at] << 24 | (uint32_t)u[at + 1] << 16 |
		             (uint32_t)u[at + 2] << 8 | u[at + 3];
		at += 4;
		if (l == UINT32_MAX)
			continue;
		CHECK(l <= n - at, "tuple field %zu runs past the end", i);
		at += l;
	}
	CHECK(at == n, "tuple has %zu bytes after its fields", n - at);
}

/**
 * Check that t[0, n) is one text COPY line of `ncols` columns: ncols - 1
 * tabs, no NUL, a newline at the end and nowhere else, no carriage
 * return, and every backslash starting an escape.
 */
static void
check_line(const char *t, size_t n, size_t ncols)
{
	CHECK(n >= 1 && t[n - 1] == '\n', "line without its newline");
	size_t tabs = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		CHECK(t[i] != '\n' && t[i] != '\r' && t[i] != '\0',
		      "raw byte %d in a COPY line", t[i]);
		if (t[i] == '\t')
			tabs++;
		if (t[i] == '\\') {
			CHECK(i + 2 < n && strchr("\\tnrN", t[i + 1]) != NULL,
			      "dangling backslash in a COPY line");
			i++;
		}
	}
	CHECK(tabs + 1 == ncols, "%zu tabs for %zu columns", tabs, ncols);
}

/** Put a row through both COPY encoders and check what they produce. */
static void
copy_row(const uint32_t *types, const struct sl_value *vals, size_t ncols)
{
	struct sl_buf b;
	sl_buf_create(&b, FUZZ_CAP);
	CHECK(sl_pgtype_copy_header(&b) == 0, "copy header");
	size_t mark = b.len;
	size_t bad_col = SIZE_MAX;
	sl_diag_clear(sl_diag_get());
	if (sl_pgtype_copy_tuple(&b, types, ncols, vals, &bad_col) == 0) {
		check_tuple(b.data + mark, b.len - mark, ncols);
	} else {
		CHECK(b.len == mark, "a failed tuple left bytes");
		CHECK(sl_diag_code() != SL_EOK, "a tuple failed without error");
		CHECK(bad_col < ncols || sl_diag_code() == SL_ELIMIT,
		      "bad column %zu of %zu", bad_col, ncols);
	}
	sl_buf_reset(&b);
	bad_col = SIZE_MAX;
	sl_diag_clear(sl_diag_get());
	if (sl_pgtype_copy_line(&b, types, ncols, vals, &bad_col) == 0) {
		check_line(b.data, b.len, ncols);
	} else {
		CHECK(b.len == 0, "a failed line left bytes");
		CHECK(sl_diag_code() != SL_EOK, "a line failed without error");
		CHECK(bad_col < ncols || sl_diag_code() == SL_ELIMIT,
		      "bad column %zu of %zu", bad_col, ncols);
	}
	sl_buf_destroy(&b);
}

/** Items of the nested constant array. */
static struct sl_value inner[2];
/** Items of the constant array [1, [2, null], "x\"y"]. */
static struct sl_value outer[3];
/** The member of the constant object. */
static struct sl_member member;

/** A constant value for a cell that did not decode, picked by `k`. */
static struct sl_value
constant(unsigned k)
{
	inner[0] = sl_int(2);
	inner[1] = sl_null();
	outer[0] = sl_int(1);
	outer[1] = sl_array_ref(inner, 2);
	outer[2] = sl_str_ref("x\"y", 3);
	member.key = "k\t";
	member.key_len = 2;
	member.val = sl_str_ref("v\n", 2);
	switch (k % 16) {
	case 0:
		return sl_null();
	case 1:
		return sl_bool(k & 16);
	case 2:
		return sl_int(k & 16 ? INT64_MIN : 70000);
	case 3:
		return sl_double(k & 16 ? 1.5 : -0.0);
	case 4:
		return sl_double(k & 16 ? NAN : -INFINITY);
	case 5:
		return sl_number_ref("12.50", 5);
	case 6:
		return sl_number_ref("1e400", 5);
	case 7:
		return sl_str_ref("a\tb\\c\r\nd", 8);
	case 8:
		return sl_str_ref("nul\0byte", 8);
	case 9:
		return sl_str_ref("\xff\xfe", 2);
	case 10:
		return sl_array_ref(outer, 3);
	case 11:
		return sl_array_ref(NULL, 0);
	case 12:
		return sl_object_ref(&member, 1);
	case 13:
		return sl_str_ref("", 0);
	case 14:
		return sl_int(k & 16 ? 4294967296 : -1);
	default:
		return sl_number_ref("-9223372036854775809", 20);
	}
}

/** COPY mode: a row of up to 4 columns. */
static void
copy_mode(int format, const uint8_t *data, size_t size, struct sl_arena *a)
{
	if (size < 1)
		return;
	size_t ncols = 1 + data[0] % 4;
	data++, size--;
	if (size < ncols * 3)
		return;
	uint32_t types[4];
	unsigned picks[4];
	size_t lens[4];
	for (size_t i = 0; i < ncols; i++) {
		types[i] = oids[data[i * 3] % NOIDS];
		picks[i] = data[i * 3 + 1];
		lens[i] = data[i * 3 + 2];
	}
	data += ncols * 3, size -= ncols * 3;
	struct sl_value vals[4];
	for (size_t i = 0; i < ncols; i++) {
		/* The last column takes the rest. */
		size_t n = i + 1 == ncols || lens[i] > size ? size : lens[i];
		if (decode(types[i], format, data, n, a, &vals[i]) != 0)
			vals[i] = constant(picks[i]);
		data += n, size -= n;
	}
	copy_row(types, vals, ncols);
}

/** The entry point libFuzzer (or replay.c) calls with each input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int format = data[0] & 1;
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, FUZZ_CAP);
	if (data[0] & 0x80) {
		copy_mode(format, data + 1, size - 1, &arena);
	} else {
		uint32_t oid = oids[data[1] % NOIDS];
		const uint8_t *p = data + 2;
		size_t n = size - 2;
		struct sl_value v;
		if (decode(oid, format, p, n, &arena, &v) == 0) {
			json_roundtrip(&v, &arena);
			encode_back(oid, format, p, n, &v);
			copy_row(&oid, &v, 1);
		}
	}
	sl_arena_destroy(&arena);
	sl_diag_clear(sl_diag_get());
	return 0;
}
