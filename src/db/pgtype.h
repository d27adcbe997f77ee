/*
 * sluice: PostgreSQL values on the wire (internal to db): parameters
 * encoded for the type the server gave them, results decoded into values,
 * and COPY's binary row format.
 *
 * Server bytes are not trusted: an array's element type must be the one
 * its type has, the product of its dimensions is bounded by its bytes (a
 * zero dimension is the empty array), a numeric's digits must be base-10000
 * digits, and a numeric becomes a number only when its text is JSON number
 * text (NaN and the infinities stay strings). fuzz/fuzz_pgtype.c decodes
 * cells of every known type in both formats, encodes them back and builds
 * COPY rows from them; its corpus, fuzz/corpus/pgtype/, is written by
 * fuzz/gen_pgtype_corpus.py, plus reproducers added by hand.
 */
#ifndef SLUICE_DB_PGTYPE_H
#define SLUICE_DB_PGTYPE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/value.h"

/** Type OIDs sluice knows (pg_type.oid of the built-in types). */
enum {
	PG_BOOL = 16,
	PG_BYTEA = 17,
	PG_CHAR = 18,
	PG_NAME = 19,
	PG_INT8 = 20,
	PG_INT2 = 21,
	PG_INT4 = 23,
	PG_TEXT = 25,
	PG_OID = 26,
	PG_JSON = 114,
	PG_XML = 142,
	PG_JSON_ARRAY = 199,
	PG_FLOAT4 = 700,
	PG_FLOAT8 = 701,
	PG_UNKNOWN = 705,
	PG_BOOL_ARRAY = 1000,
	PG_BYTEA_ARRAY = 1001,
	PG_CHAR_ARRAY = 1002,
	PG_NAME_ARRAY = 1003,
	PG_INT2_ARRAY = 1005,
	PG_INT4_ARRAY = 1007,
	PG_TEXT_ARRAY = 1009,
	PG_BPCHAR_ARRAY = 1014,
	PG_VARCHAR_ARRAY = 1015,
	PG_INT8_ARRAY = 1016,
	PG_FLOAT4_ARRAY = 1021,
	PG_FLOAT8_ARRAY = 1022,
	PG_OID_ARRAY = 1028,
	PG_BPCHAR = 1042,
	PG_VARCHAR = 1043,
	PG_DATE = 1082,
	PG_TIMESTAMP = 1114,
	PG_TIMESTAMP_ARRAY = 1115,
	PG_DATE_ARRAY = 1182,
	PG_TIMESTAMPTZ = 1184,
	PG_TIMESTAMPTZ_ARRAY = 1185,
	PG_NUMERIC_ARRAY = 1231,
	PG_NUMERIC = 1700,
	PG_UUID = 2950,
	PG_UUID_ARRAY = 2951,
	PG_JSONB = 3802,
	PG_JSONB_ARRAY = 3807,
};

/** Whether results of type `oid` can be asked for in binary. */
bool sl_pgtype_binary_decodable(uint32_t oid);

/**
 * Whether a binary value of type `oid` decodes to values that do not
 * point into its bytes (integers, floats, bools, and arrays of them): the
 * bytes may go once it is decoded.
 */
bool sl_pgtype_by_value(uint32_t oid);

/** Append big-endian 16-bit integer `v` to `b`. 0, or -1. */
static inline int
sl_pg_put16(struct sl_buf *b, uint16_t v)
{
	unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	return sl_buf_append(b, x, 2);
}

/** Append big-endian 32-bit integer `v` to `b`. 0, or -1. */
static inline int
sl_pg_put32(struct sl_buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24),
	                      (unsigned char)(v >> 16), (unsigned char)(v >> 8),
	                      (unsigned char)v};
	return sl_buf_append(b, x, 4);
}

/** The big-endian 16-bit integer at `p`. */
static inline uint16_t
sl_pg_get16(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint16_t)((u[0] << 8) | u[1]);
}

/** The big-endian 32-bit integer at `p`. */
static inline uint32_t
sl_pg_get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return ((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) |
	       ((uint32_t)u[2] << 8) | u[3];
}

/**
 * Whether a parameter of type `oid` is sent in binary (integers, floats,
 * bool, bytea, json, jsonb); others go as text.
 */
bool sl_pgtype_binary_param(uint32_t oid);

/**
 * Append `v` encoded for a parameter of type `oid` to `out` (binary when
 * sl_pgtype_binary_param(oid), else text without a terminator); *is_null is
 * set for SQL NULL (nothing appended). 0, or -1 with SL_EINVAL saying what
 * was expected (the caller adds which parameter), or a buffer error.
 */
int sl_pgtype_encode(struct sl_buf *out, uint32_t oid, const struct sl_value *v,
                     bool *is_null);

/**
 * Decode one result cell of type `oid` (format 1 binary, 0 text) from
 * data[0..len) into `out`; strings may point into `data`, which must
 * outlive the value; anything built goes to `a`. 0, or -1 with an error
 * (SL_EPARSE for malformed data).
 */
int sl_pgtype_decode(uint32_t oid, int format, const char *data, size_t len,
                     struct sl_arena *a, struct sl_value *out);

/**
 * sl_pgtype_decode() of a binary cell inline, for the types most results
 * hold: integers, oid, bool and float8 of their exact size, text-like
 * types and bytea (pointing into `data`). true with the value in *out;
 * false for any other type or size, which sl_pgtype_decode() then decodes
 * or refuses. No call per cell on the hot path of a result.
 */
static inline bool
sl_pgtype_decode_quick(uint32_t oid, const char *data, size_t len,
                       struct sl_value *out)
{
	switch (oid) {
	case PG_INT4:
		if (len != 4)
			return false;
		*out = sl_int((int32_t)sl_pg_get32(data));
		return true;
	case PG_INT2:
		if (len != 2)
			return false;
		*out = sl_int((int16_t)sl_pg_get16(data));
		return true;
	case PG_OID:
		if (len != 4)
			return false;
		*out = sl_int(sl_pg_get32(data));
		return true;
	case PG_INT8:
	case PG_FLOAT8: {
		if (len != 8)
			return false;
		uint64_t u = ((uint64_t)sl_pg_get32(data) << 32) |
		             sl_pg_get32(data + 4);
		if (oid == PG_INT8) {
			*out = sl_int((int64_t)u);
		} else {
			double d;
			memcpy(&d, &u, 8);
			*out = sl_double(d);
		}
		return true;
	}
	case PG_BOOL:
		if (len != 1)
			return false;
		*out = sl_bool(data[0] != 0);
		return true;
	case PG_TEXT:
	case PG_VARCHAR:
	case PG_BPCHAR:
	case PG_NAME:
	case PG_CHAR:
	case PG_BYTEA:
		if (len > SL_VALUE_LEN_MAX)
			return false;
		*out = sl_str_ref(data, (uint32_t)len);
		return true;
	default:
		return false;
	}
}

/** The binary COPY header (signature, flags, extension length). */
int sl_pgtype_copy_header(struct sl_buf *out);

/**
 * Append one binary COPY tuple of `n` values typed `oids`. On a value that
 * does not fit its column, returns -1 with *bad_col set and `out`
 * unchanged.
 */
int sl_pgtype_copy_tuple(struct sl_buf *out, const uint32_t *oids, size_t n,
                         const struct sl_value *values, size_t *bad_col);

/**
 * Append one text COPY line of `n` values (tab-separated, \N for NULL,
 * backslash escapes). Same contract as sl_pgtype_copy_tuple().
 */
int sl_pgtype_copy_line(struct sl_buf *out, const uint32_t *oids, size_t n,
                        const struct sl_value *values, size_t *bad_col);

#endif /* SLUICE_DB_PGTYPE_H */
