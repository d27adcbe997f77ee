#!/usr/bin/env python3
"""Write the seed corpus of fuzz/fuzz_pgtype.c into fuzz/corpus/pgtype/.

Input layout (see fuzz_pgtype.c): byte 0 is the mode (bit 7: a COPY row)
and the format (bit 0: binary); a cell is byte 1 = index into OIDS, then
the cell's bytes; a COPY row is byte 1 = column count - 1, then per column
(type index, constant pick, length), then the cells' bytes.

Run from anywhere: python3 fuzz/gen_pgtype_corpus.py. Files it does not
write (reproducers added by hand) are left alone.
"""
import os
import struct
import sys

# Same order as oids[] in fuzz_pgtype.c.
OIDS = [
    16, 17, 18, 19, 20, 21, 23, 25, 26, 114, 142, 199, 700, 701, 705,
    1000, 1001, 1002, 1003, 1005, 1007, 1009, 1014, 1015, 1016, 1021, 1022,
    1028, 1042, 1043, 1082, 1114, 1115, 1182, 1184, 1185, 1231, 1700, 2950,
    2951, 3802, 3807, 600, 790,
]
NAMES = {
    "bool": 16, "bytea": 17, "char": 18, "name": 19, "int8": 20, "int2": 21,
    "int4": 23, "text": 25, "oid": 26, "json": 114, "xml": 142,
    "json[]": 199, "float4": 700, "float8": 701, "unknown": 705,
    "bool[]": 1000, "bytea[]": 1001, "char[]": 1002, "name[]": 1003,
    "int2[]": 1005, "int4[]": 1007, "text[]": 1009, "bpchar[]": 1014,
    "varchar[]": 1015, "int8[]": 1016, "float4[]": 1021, "float8[]": 1022,
    "oid[]": 1028, "bpchar": 1042, "varchar": 1043, "date": 1082,
    "timestamp": 1114, "timestamp[]": 1115, "date[]": 1182,
    "timestamptz": 1184, "timestamptz[]": 1185, "numeric[]": 1231,
    "numeric": 1700, "uuid": 2950, "uuid[]": 2951, "jsonb": 3802,
    "jsonb[]": 3807, "point": 600, "money": 790,
}
ELEM = {
    "json[]": "json", "bool[]": "bool", "bytea[]": "bytea", "char[]": "char",
    "name[]": "name", "int2[]": "int2", "int4[]": "int4", "text[]": "text",
    "bpchar[]": "bpchar", "varchar[]": "varchar", "int8[]": "int8",
    "float4[]": "float4", "float8[]": "float8", "oid[]": "oid",
    "timestamp[]": "timestamp", "date[]": "date",
    "timestamptz[]": "timestamptz", "numeric[]": "numeric", "uuid[]": "uuid",
    "jsonb[]": "jsonb",
}

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "pgtype")
written = []


def idx(t):
    """The index of type name `t` in OIDS."""
    return OIDS.index(NAMES[t])


def put(name, data):
    """Write one corpus file."""
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    written.append(name)


def cell(name, t, fmt, payload):
    """A cell-mode input: type `t`, format `fmt` (0 text, 1 binary)."""
    if isinstance(payload, str):
        payload = payload.encode()
    put(name, bytes([fmt, idx(t)]) + payload)


def row(name, fmt, cols):
    """A COPY-mode input; cols are (type, constant pick, cell bytes)."""
    head = bytes([0x80 | fmt, len(cols) - 1])
    cells = b""
    for t, pick, b in cols:
        if isinstance(b, str):
            b = b.encode()
        head += bytes([idx(t), pick, len(b)])
        cells += b
    put(name, head + cells)


# Binary encodings.
def i16(v): return struct.pack(">h", v)
def u16(v): return struct.pack(">H", v)
def i32(v): return struct.pack(">i", v)
def u32(v): return struct.pack(">I", v)
def i64(v): return struct.pack(">q", v)
def f32(v): return struct.pack(">f", v)
def f64(v): return struct.pack(">d", v)


def numeric(digits, weight, sign, dscale, ndigits=None):
    """A binary numeric; ndigits defaults to len(digits)."""
    n = len(digits) if ndigits is None else ndigits
    return (i16(n) + i16(weight) + u16(sign) + i16(dscale) +
            b"".join(u16(d) for d in digits))


def array(elem_oid, dims, elems, ndim=None, flags=0, lbound=1):
    """A binary array; elems are bytes or None for NULL."""
    nd = len(dims) if ndim is None else ndim
    b = i32(nd) + i32(flags) + u32(elem_oid)
    for d in dims:
        b += i32(d) + i32(lbound)
    for e in elems:
        b += i32(-1) if e is None else i32(len(e)) + e
    return b


def arr(t, dims, elems, **kw):
    """A binary array of array type `t`."""
    return array(NAMES[ELEM[t]], dims, elems, **kw)


US = 1000000


def main():
    os.makedirs(OUT, exist_ok=True)
    # {{{ binary scalars
    cell("b_bool_true", "bool", 1, b"\x01")
    cell("b_bool_len2", "bool", 1, b"\x01\x00")
    cell("b_bytea", "bytea", 1, b"\x00\xff\\x\t\n")
    cell("b_char", "char", 1, b"c")
    cell("b_name", "name", 1, "pg_catalog")
    cell("b_text_utf8", "text", 1, "h\u00e9llo \u2603\t\"q\"\\")
    cell("b_text_bad_utf8", "text", 1, b"a\xc3\x28\xff")
    cell("b_varchar", "varchar", 1, "v")
    cell("b_bpchar", "bpchar", 1, "pad   ")
    cell("b_xml", "xml", 1, "<a>1</a>")
    cell("b_unknown", "unknown", 1, "?")
    cell("b_int2", "int2", 1, i16(-5))
    cell("b_int2_len3", "int2", 1, b"\x00\x01\x02")
    cell("b_int4_42", "int4", 1, i32(42))
    cell("b_int4_short", "int4", 1, b"\x00\x2a")
    cell("b_int8_min", "int8", 1, i64(-2**63))
    cell("b_oid_max", "oid", 1, u32(2**32 - 1))
    cell("b_float4", "float4", 1, f32(1.5))
    cell("b_float4_nan", "float4", 1, b"\x7f\xc0\x00\x01")
    cell("b_float8_inf", "float8", 1, f64(float("-inf")))
    cell("b_float8_negzero", "float8", 1, f64(-0.0))
    cell("b_json", "json", 1, '{"a":[1,2.5,"x"],"b":null}')
    cell("b_json_bad", "json", 1, '{"a":')
    cell("b_json_deep", "json", 1, "[" * 600 + "]" * 600)
    cell("b_jsonb_v1", "jsonb", 1, b"\x01" + b'[true,{"k":-0.5e3}]')
    cell("b_jsonb_v2", "jsonb", 1, b"\x02{}")
    cell("b_jsonb_empty", "jsonb", 1, b"")
    cell("b_date_epoch", "date", 1, i32(0))
    cell("b_date_neg", "date", 1, i32(-800000))
    cell("b_date_inf", "date", 1, i32(2**31 - 1))
    cell("b_date_ninf", "date", 1, i32(-2**31))
    cell("b_date_huge", "date", 1, i32(2**31 - 2))
    cell("b_date_len5", "date", 1, b"\x00" * 5)
    cell("b_ts_frac", "timestamp", 1, i64(765432101 * US + 123456))
    cell("b_ts_negfrac", "timestamp", 1, i64(-1))
    cell("b_ts_inf", "timestamp", 1, i64(2**63 - 1))
    cell("b_ts_ninf", "timestamp", 1, i64(-2**63))
    cell("b_ts_extreme", "timestamp", 1, i64(2**63 - 2))
    cell("b_tstz", "timestamptz", 1, i64(86400 * US))
    cell("b_tstz_len7", "timestamptz", 1, b"\x00" * 7)
    cell("b_uuid", "uuid", 1, bytes(range(0xa0, 0xb0)))
    cell("b_uuid_len15", "uuid", 1, bytes(15))
    cell("b_point_unknown_oid", "point", 1, f64(1) + f64(2))
    cell("b_money_unknown_oid", "money", 1, i64(12345))
    # }}}
    # {{{ binary numeric
    cell("n_12345_678", "numeric", 1, numeric([1, 2345, 6780], 1, 0, 3))
    cell("n_neg_0_001", "numeric", 1, numeric([10], -1, 0x4000, 3))
    cell("n_zero", "numeric", 1, numeric([], 0, 0, 0))
    cell("n_zero_scale", "numeric", 1, numeric([], 0, 0, 5))
    cell("n_big", "numeric", 1, numeric([9999, 9999, 1], 5, 0, 0))
    cell("n_nan", "numeric", 1, numeric([], 0, 0xC000, 0))
    cell("n_inf", "numeric", 1, numeric([], 0, 0xD000, 0))
    cell("n_ninf", "numeric", 1, numeric([], 0, 0xF000, 0))
    cell("n_short", "numeric", 1, numeric([1], 0, 0, 0)[:6])
    cell("n_ndigits_past_end", "numeric", 1, numeric([1], 0, 0, 0, 3))
    cell("n_ndigits_neg", "numeric", 1, numeric([], 0, 0, 0, -1))
    cell("n_dscale_neg", "numeric", 1, numeric([1], 0, 0, -2))
    cell("n_digit_65535", "numeric", 1,
         numeric([65535, 65535, 65535], 2, 0x4000, 0))
    cell("n_leading_zero_group", "numeric", 1, numeric([0, 123], 1, 0, 0))
    cell("n_bad_sign", "numeric", 1, numeric([7], 0, 0x1234, 0))
    cell("n_weight_max", "numeric", 1, numeric([1], 32767, 0, 0))
    cell("n_weight_min", "numeric", 1, numeric([1], -32768, 0, 40))
    cell("n_dscale_max", "numeric", 1, numeric([5], -1, 0, 32767))
    # }}}
    # {{{ binary arrays
    cell("a_int4_1d", "int4[]", 1, arr("int4[]", [3], [i32(1), i32(2), i32(-3)]))
    cell("a_int4_2d_null", "int4[]", 1,
         arr("int4[]", [2, 3], [i32(1), None, i32(3), None, i32(5), i32(6)],
             flags=1))
    cell("a_int4_3d", "int4[]", 1,
         arr("int4[]", [2, 1, 2], [i32(i) for i in range(4)]))
    cell("a_text", "text[]", 1,
         arr("text[]", [3], [b"a", b"b c", b'q"\\'], lbound=0))
    cell("a_empty", "int4[]", 1, arr("int4[]", [], []))
    cell("a_empty_text", "text[]", 1, arr("text[]", [], []))
    for t, e in [("bool[]", b"\x00"), ("bytea[]", b"\x01\x02"),
                 ("char[]", b"x"), ("name[]", b"n"), ("int2[]", i16(7)),
                 ("int8[]", i64(2**40)), ("float4[]", f32(0.25)),
                 ("float8[]", f64(1e300)), ("oid[]", u32(3)),
                 ("bpchar[]", b"ab "), ("varchar[]", b"vc"),
                 ("timestamp[]", i64(0)), ("date[]", i32(1)),
                 ("timestamptz[]", i64(2**63 - 1)),
                 ("numeric[]", numeric([3, 1416], 0, 0, 4)),
                 ("uuid[]", bytes(16)), ("json[]", b'{"a":1}'),
                 ("jsonb[]", b"\x01[1]")]:
        name = "a_" + t[:-2]
        cell(name, t, 1, arr(t, [2], [e, None]))
    cell("a_jsonb_bad_elem", "jsonb[]", 1, arr("jsonb[]", [1], [b"\x02[]"]))
    cell("a_truncated_header", "int4[]", 1, arr("int4[]", [3], [])[:10])
    cell("a_truncated_dims", "int4[]", 1, arr("int4[]", [3, 3], [])[:24])
    cell("a_truncated_elems", "int4[]", 1,
         arr("int4[]", [3], [i32(1), i32(2), i32(3)])[:-2])
    cell("a_ndim_neg", "int4[]", 1, arr("int4[]", [1], [i32(1)], ndim=-1))
    cell("a_ndim_7", "int4[]", 1, arr("int4[]", [1] * 7, [i32(1)]))
    cell("a_dim_neg", "int4[]", 1, arr("int4[]", [-1], []))
    cell("a_dims_overflow", "int4[]", 1,
         arr("int4[]", [0x10000, 0x10000, 0x10000, 0x10000, 0x10000, 0x10000],
             [i32(1)] * 2))
    cell("a_dims_huge", "int4[]", 1,
         arr("int4[]", [0x7fffffff], [i32(1)]))
    # Inner dimension 0: no element bytes, but each outer level still
    # allocates and loops (25^5 iterations before the fix).
    cell("a_dims_zero_inner", "int4[]", 1,
         arr("int4[]", [25, 25, 25, 25, 25, 0], []) + bytes(52))
    cell("a_elem_len_past_end", "text[]", 1,
         arr("text[]", [1], []) + i32(100) + b"abc")
    cell("a_elem_len_neg2", "text[]", 1, arr("text[]", [1], []) + i32(-2))
    cell("a_elem_len_min", "text[]", 1,
         arr("text[]", [1], []) + i32(-2**31))
    cell("a_trailing_bytes", "int4[]", 1,
         arr("int4[]", [1], [i32(1)]) + b"xx")
    cell("a_int4_elem_len8", "int4[]", 1, arr("int4[]", [1], [i64(1)]))
    # The element type the data names is not the array's: an int4[] that
    # says it holds int4[] (nested without bound before the fix).
    inner = arr("int4[]", [1], [i32(1)])
    nested = array(NAMES["int4[]"], [1], [array(NAMES["int4[]"], [1],
                                                 [inner])])
    cell("a_elem_oid_nested", "int4[]", 1, nested)
    cell("a_elem_oid_other", "int4[]", 1,
         array(NAMES["text"], [2], [b"ab", b"cd"]))
    # }}}
    # {{{ text format
    cell("t_bool_t", "bool", 0, "t")
    cell("t_bool_f", "bool", 0, "f")
    cell("t_bool_empty", "bool", 0, "")
    cell("t_int4", "int4", 0, "42")
    cell("t_int8_min", "int8", 0, "-9223372036854775808")
    cell("t_int8_overflow", "int8", 0, "99999999999999999999")
    cell("t_int2_space", "int2", 0, " 7")
    cell("t_int4_plus", "int4", 0, "+7")
    cell("t_int4_empty", "int4", 0, "")
    cell("t_int4_junk", "int4", 0, "12abc")
    cell("t_oid", "oid", 0, "4294967295")
    cell("t_float8", "float8", 0, "1.5e3")
    cell("t_float8_nan", "float8", 0, "NaN")
    cell("t_float4_ninf", "float4", 0, "-Infinity")
    cell("t_float8_range", "float8", 0, "1e999")
    cell("t_float8_hex", "float8", 0, "0x1p3")
    cell("t_float8_empty", "float8", 0, "")
    cell("t_numeric", "numeric", 0, "-123.4500")
    cell("t_numeric_nan", "numeric", 0, "NaN")
    cell("t_numeric_inf", "numeric", 0, "Infinity")
    cell("t_numeric_ninf", "numeric", 0, "-Infinity")
    cell("t_numeric_junk", "numeric", 0, "1abc")
    cell("t_numeric_exp", "numeric", 0, "1.5e10")
    cell("t_numeric_leading_zero", "numeric", 0, "007")
    cell("t_json", "json", 0, '  {"k": ["v", 1e5, true]}  ')
    cell("t_jsonb_bad", "jsonb", 0, "{,}")
    cell("t_bytea_hex", "bytea", 0, "\\x00ff7F")
    cell("t_bytea_empty", "bytea", 0, "\\x")
    cell("t_bytea_odd", "bytea", 0, "\\x0")
    cell("t_bytea_badhex", "bytea", 0, "\\xzz")
    cell("t_bytea_escape", "bytea", 0, "abc\\000")
    cell("t_date", "date", 0, "2024-02-29")
    cell("t_ts", "timestamptz", 0, "2024-02-29 12:00:00+00")
    cell("t_uuid", "uuid", 0, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    cell("t_int4_array", "int4[]", 0, "{1,2,NULL}")
    cell("t_text", "text", 0, "tab\there")
    cell("t_point", "point", 0, "(1,2)")
    # }}}
    # {{{ COPY rows
    row("c_int_text", 1, [("int4", 0, i32(1)), ("text", 0, "a\tb\\c\n")])
    row("c_all_constants_jsonb", 1,
        [("jsonb", 7, ""), ("jsonb", 9, ""), ("jsonb", 12, ""),
         ("jsonb", 10, "")])
    row("c_nul_in_text", 1, [("text", 0, b"a\0b"), ("int4", 2, "")])
    row("c_nul_constant", 1, [("jsonb", 8, ""), ("int4", 0, i32(9))])
    row("c_bytea_copy", 1, [("bytea", 0, b"\x00\t\\"), ("jsonb", 0,
                                                        b"\x01{}")])
    row("c_mismatch", 1, [("int2", 2, "")])
    row("c_nulls", 1, [("int4", 0, ""), ("text", 0, ""), ("uuid", 0, ""),
                       ("numeric", 16 + 0, "")])
    row("c_numbers", 1, [("float4", 3, ""), ("float8", 4 + 16, ""),
                         ("int8", 15, ""), ("oid", 14 + 16, "")])
    row("c_arrays", 1, [("text[]", 10, ""), ("int4[]", 10, ""),
                        ("jsonb[]", 12, ""), ("numeric[]", 5, "")])
    row("c_decoded_array", 1,
        [("int4[]", 0, arr("int4[]", [2, 2], [i32(1), None, i32(3),
                                              i32(4)])),
         ("numeric", 0, numeric([1, 5000], 0, 0x4000, 4))])
    row("c_text_format", 0, [("int8", 0, "12"), ("bytea", 0, "\\x41"),
                             ("json", 0, '{"a":"\\t"}'),
                             ("timestamp", 0, "2020-01-01")])
    row("c_bool_date", 1, [("bool", 1 + 16, ""), ("date", 0, i32(5)),
                           ("uuid", 0, bytes(16)), ("money", 5, "")])
    # }}}
    print("%d files in %s" % (len(written), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
