/*
 * PackStream (src/db/bolt/packstream.c): every type and the smallest form
 * at each width boundary, record values, decoding errors, and the mapping
 * of Bolt's structures to record values.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/bolt/packstream.h"
#include "sluice/json.h"
#include "unit.h"

/** Cap of the test buffers and arenas. */
#define CAP ((size_t)64 << 20)

/** Hex of p[0, n) in upper case, at most 256 bytes, in a static buffer. */
static const char *
hex(const void *p, size_t n)
{
	static char out[2 * 256 + 4];
	const unsigned char *u = p;
	size_t k = 0;
	for (size_t i = 0; i < n && i < 256; i++)
		k += (size_t)snprintf(out + k, sizeof(out) - k, "%02X", u[i]);
	if (n > 256)
		snprintf(out + k, sizeof(out) - k, "...");
	out[k + (n > 256 ? 3 : 0)] = '\0';
	return out;
}

/** Bytes of hex text `h` into `b` (reset first). */
static void
unhex(struct sl_buf *b, const char *h)
{
	sl_buf_reset(b);
	for (; h[0] != '\0' && h[1] != '\0'; h += 2) {
		char pair[3] = {h[0], h[1], '\0'};
		sl_buf_putc(b, (char)strtoul(pair, NULL, 16));
	}
}

/**
 * Append a message described by `fmt` to `b`: S: a structure header
 * (arguments: unsigned fields, int tag); L<n>, M<n>: a list or map header
 * of n (digits in `fmt`); i: an int64_t; f: a double; s: a string; x: a
 * byte array (const char *hex); n: null; t, F: true, false. Spaces are
 * ignored.
 */
static void
vbuild(struct sl_buf *b, const char *fmt, va_list ap)
{
	int rc = 0;
	for (const char *c = fmt; *c != '\0' && rc == 0; c++) {
		switch (*c) {
		case 'S': {
			unsigned n = va_arg(ap, unsigned);
			rc = sl_ps_put_struct(b, n, (uint8_t)va_arg(ap, int));
			break;
		}
		case 'L':
		case 'M': {
			char *end;
			unsigned long n = strtoul(c + 1, &end, 10);
			rc = *c == 'L' ? sl_ps_put_list(b, n)
			               : sl_ps_put_map(b, n);
			c = end - 1;
			break;
		}
		case 'i':
			rc = sl_ps_put_int(b, va_arg(ap, int64_t));
			break;
		case 'f':
			rc = sl_ps_put_float(b, va_arg(ap, double));
			break;
		case 's':
			rc = sl_ps_put_cstr(b, va_arg(ap, const char *));
			break;
		case 'x': {
			struct sl_buf tmp;
			sl_buf_create(&tmp, CAP);
			unhex(&tmp, va_arg(ap, const char *));
			rc = sl_ps_put_bytes(b, tmp.data, tmp.len);
			sl_buf_destroy(&tmp);
			break;
		}
		case 'n':
			rc = sl_ps_put_null(b);
			break;
		case 't':
		case 'F':
			rc = sl_ps_put_bool(b, *c == 't');
			break;
		case ' ':
			break;
		default:
			bail_out("bad build format '%c'", *c);
		}
	}
	if (rc != 0)
		bail_out("building \"%s\" failed: %s", fmt, unit_errmsg());
}

/** vbuild() with its arguments. */
static void
build(struct sl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vbuild(b, fmt, ap);
	va_end(ap);
}

/** An int64_t argument for vbuild()'s 'i'. */
#define I(x) ((int64_t)(x))

/**
 * Build a message (vbuild()), decode it, map it with sl_ps_to_value() and
 * check its JSON against `want`; `want` "!text": the mapping fails with
 * SL_EPARSE and a message containing "text".
 */
static void
check_value(const char *want, const char *fmt, ...)
{
	struct sl_buf b, json;
	sl_buf_create(&b, CAP);
	sl_buf_create(&json, CAP);
	va_list ap;
	va_start(ap, fmt);
	vbuild(&b, fmt, ap);
	va_end(ap);
	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_ps ps;
	size_t used = 0;
	if (!ok(sl_ps_get_canonical(b.data, b.len, &used, &a, &ps) == 0 &&
	                used == b.len,
	        "decode %s", fmt))
		note("%s", unit_errmsg());
	struct sl_value v;
	int rc = sl_ps_to_value(&ps, &a, &v);
	if (want[0] == '!') {
		ok(rc == -1 && sl_diag_code() == SL_EPARSE &&
		           strstr(unit_errmsg(), want + 1) != NULL,
		   "%s fails with \"%s\"", fmt, want + 1);
		if (rc == 0 || strstr(unit_errmsg(), want + 1) == NULL)
			note("got %s", rc == 0 ? "success" : unit_errmsg());
	} else if (ok(rc == 0, "map %s", fmt)) {
		sl_json_write(&json, &v, 0);
		is_str(json.data, want, "%s as a record value", fmt);
	} else {
		note("%s", unit_errmsg());
	}
	sl_arena_destroy(&a);
	sl_buf_destroy(&json);
	sl_buf_destroy(&b);
}

/** Check that `rc` is -1 with error `code`; the message is shown. */
static void
is_fail(int rc, enum sl_errcode code, const char *what)
{
	ok(rc == -1 && sl_diag_code() == code, "%s: %s", what, unit_errmsg());
}

/** Check that `b` holds exactly hex `want`; then that it decodes back. */
static void
is_hex(const struct sl_buf *b, const char *want, const char *what)
{
	/* Not NULL: gcc -O3 cannot tell, and -Wformat-overflow fails. */
	const char *w = want != NULL ? want : "(null)";
	is_str(hex(b->data, b->len), w, "%s is %s", what, w);
}

/**
 * Decode hex `in` expecting failure with SL_EPARSE and a message holding
 * "at byte" and `part`.
 */
static void
bad_input(const char *in, const char *part)
{
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	unhex(&b, in);
	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_ps ps;
	int rc = sl_ps_get_canonical(b.data, b.len, NULL, &a, &ps);
	const char *msg = unit_errmsg();
	ok(rc == -1 && sl_diag_code() == SL_EPARSE &&
	           strstr(msg, "at byte") != NULL && strstr(msg, part) != NULL,
	   "%.40s fails: %s", in, msg);
	ok(sl_arena_used(&a) <= 64 * b.len + 64,
	   "decoding %zu bytes allocated %zu", b.len, sl_arena_used(&a));
	sl_arena_destroy(&a);
	sl_buf_destroy(&b);
}

/**
 * Decode b[0, len) and encode it again with sl_ps_put(): it must take
 * every byte and give them back.
 */
static void
roundtrip(const struct sl_buf *b, const char *what)
{
	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_ps ps;
	size_t used = 0;
	struct sl_buf out;
	sl_buf_create(&out, CAP);
	int rc = sl_ps_get_canonical(b->data, b->len, &used, &a, &ps);
	if (!ok(rc == 0 && used == b->len, "%s decodes (%zu of %zu bytes)",
	        what, used, b->len))
		note("%s", unit_errmsg());
	ok(rc == 0 && sl_ps_put(&out, &ps) == 0 && out.len == b->len &&
	           memcmp(out.data, b->data, b->len) == 0,
	   "%s encodes back to its bytes", what);
	sl_buf_destroy(&out);
	sl_arena_destroy(&a);
}

TAP_CASE(scalars)
{
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	sl_ps_put_null(&b);
	sl_ps_put_bool(&b, true);
	sl_ps_put_bool(&b, false);
	sl_ps_put_float(&b, 1.5);
	sl_ps_put_float(&b, -0.0);
	is_hex(&b, "C0C3C2C13FF8000000000000C18000000000000000", "scalars");
	ok(b.data[b.len] == '\0', "the buffer stays NUL-terminated");

	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_ps ps;
	size_t used, at = 0;
	const uint8_t types[] = {SL_PS_NULL, SL_PS_BOOL, SL_PS_BOOL,
	                         SL_PS_FLOAT, SL_PS_FLOAT};
	for (size_t i = 0; i < sizeof(types); i++) {
		ok(sl_ps_get_canonical(b.data + at, b.len - at, &used, &a,
		                       &ps) == 0 &&
		           ps.type == types[i],
		   "scalar %zu decodes as type %u", i, types[i]);
		if (i == 1 || i == 2)
			ok(ps.u.b == (i == 1), "boolean %zu", i);
		if (i == 3)
			ok(ps.u.d == 1.5, "1.5");
		if (i == 4)
			ok(ps.u.d == 0 && signbit(ps.u.d),
			   "-0.0 keeps its sign");
		at += used;
	}
	ok(at == b.len, "every byte read");

	/* NaN payloads and infinities survive a round trip bit for bit. */
	unhex(&b, "C17FF8000000000001");
	roundtrip(&b, "a NaN with a payload");
	unhex(&b, "C1FFF0000000000000");
	roundtrip(&b, "-infinity");
	sl_arena_destroy(&a);
	sl_buf_destroy(&b);
}

TAP_CASE(integers)
{
	static const struct {
		int64_t v;
		const char *hex;
	} cases[] = {
	        {0, "00"},
	        {1, "01"},
	        {-1, "FF"},
	        {-16, "F0"},
	        {-17, "C8EF"},
	        {127, "7F"},
	        {128, "C90080"},
	        {-128, "C880"},
	        {-129, "C9FF7F"},
	        {32767, "C97FFF"},
	        {32768, "CA00008000"},
	        {-32768, "C98000"},
	        {-32769, "CAFFFF7FFF"},
	        {INT32_MAX, "CA7FFFFFFF"},
	        {(int64_t)INT32_MAX + 1, "CB0000000080000000"},
	        {INT32_MIN, "CA80000000"},
	        {(int64_t)INT32_MIN - 1, "CBFFFFFFFF7FFFFFFF"},
	        {INT64_MAX, "CB7FFFFFFFFFFFFFFF"},
	        {INT64_MIN, "CB8000000000000000"},
	};
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sl_buf_reset(&b);
		ok(sl_ps_put_int(&b, cases[i].v) == 0, "put %" PRId64,
		   cases[i].v);
		is_hex(&b, cases[i].hex, "an integer");
		struct sl_ps ps;
		size_t used = 0;
		ok(sl_ps_get_canonical(b.data, b.len, &used, &a, &ps) == 0 &&
		           ps.type == SL_PS_INT && ps.u.i == cases[i].v &&
		           used == b.len,
		   "%s decodes to %" PRId64, cases[i].hex, cases[i].v);
	}
	sl_arena_destroy(&a);
	sl_buf_destroy(&b);
}

/**
 * Encode a `kind` ('s' string, 'x' bytes, 'l' list, 'm' map) of `n`
 * bytes, items or entries; check its first bytes against `head` and that
 * it decodes to the same size and re-encodes to the same bytes.
 */
static void
check_size(char kind, uint32_t n, const char *head)
{
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	char *bytes = malloc(n + 1);
	memset(bytes, 'a', n);
	int rc = 0;
	switch (kind) {
	case 's':
		rc = sl_ps_put_string(&b, bytes, n);
		break;
	case 'x':
		rc = sl_ps_put_bytes(&b, bytes, n);
		break;
	case 'l':
		rc = sl_ps_put_list(&b, n);
		for (uint32_t i = 0; i < n && rc == 0; i++)
			rc = sl_ps_put_int(&b, i % 100);
		break;
	default:
		rc = sl_ps_put_map(&b, n);
		for (uint32_t i = 0; i < n && rc == 0; i++) {
			char key[16];
			snprintf(key, sizeof(key), "k%u", i);
			rc = sl_ps_put_cstr(&b, key);
			if (rc == 0)
				rc = sl_ps_put_null(&b);
		}
		break;
	}
	free(bytes);
	ok(rc == 0, "put a %c of %u", kind, n);
	size_t hl = strlen(head) / 2;
	is_str(hex(b.data, hl), head, "a %c of %u starts with %s", kind, n,
	       head);
	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_ps ps;
	size_t used = 0;
	static const uint8_t type_of[] = {['s'] = SL_PS_STRING,
	                                  ['x'] = SL_PS_BYTES,
	                                  ['l'] = SL_PS_LIST,
	                                  ['m'] = SL_PS_MAP};
	ok(sl_ps_get_canonical(b.data, b.len, &used, &a, &ps) == 0 &&
	           ps.type == type_of[(unsigned char)kind] && ps.len == n &&
	           used == b.len,
	   "a %c of %u decodes", kind, n);
	if (kind == 'm' && n > 0)
		ok(sl_ps_map_get(&ps, "k0") == &ps.u.entries[0].val &&
		           sl_ps_map_get(&ps, "nope") == NULL,
		   "map lookup");
	sl_arena_destroy(&a);
	roundtrip(&b, "the value");
	sl_buf_destroy(&b);
}

/** Size boundaries: kind (see check_size()), size, first bytes. */
static const struct {
	char kind;
	uint32_t n;
	const char *head;
} size_cases[] = {
        {'s', 0, "80"},
        {'s', 15, "8F61"},
        {'s', 16, "D01061"},
        {'s', 255, "D0FF61"},
        {'s', 256, "D1010061"},
        {'s', 65535, "D1FFFF61"},
        {'s', 65536, "D20001000061"},
        {'x', 0, "CC00"},
        {'x', 15, "CC0F61"},
        {'x', 16, "CC1061"},
        {'x', 255, "CCFF61"},
        {'x', 256, "CD010061"},
        {'x', 65535, "CDFFFF61"},
        {'x', 65536, "CE0001000061"},
        {'l', 0, "90"},
        {'l', 15, "9F00"},
        {'l', 16, "D41000"},
        {'l', 255, "D4FF00"},
        {'l', 256, "D5010000"},
        {'l', 65535, "D5FFFF00"},
        {'l', 65536, "D60001000000"},
        {'m', 0, "A0"},
        {'m', 15, "AF826B30"},
        {'m', 16, "D810826B30"},
        {'m', 255, "D8FF826B30"},
        {'m', 256, "D90100826B30"},
        {'m', 65535, "D9FFFF826B30"},
        {'m', 65536, "DA00010000826B30"},
};

/** Run check_size() on every size boundary of `kind`. */
static void
check_sizes(char kind)
{
	for (size_t i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++)
		if (size_cases[i].kind == kind)
			check_size(kind, size_cases[i].n, size_cases[i].head);
}

TAP_CASE(string_sizes)
{
	check_sizes('s');
}

TAP_CASE(bytes_sizes)
{
	check_sizes('x');
}

TAP_CASE(list_sizes)
{
	check_sizes('l');
}

TAP_CASE(map_sizes)
{
	check_sizes('m');
}

TAP_CASE(structures)
{
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	ok(sl_ps_put_struct(&b, 3, SL_PS_TAG_NODE) == 0 &&
	           sl_ps_put_int(&b, 1) == 0 && sl_ps_put_list(&b, 0) == 0 &&
	           sl_ps_put_map(&b, 0) == 0,
	   "put a Node");
	is_hex(&b, "B34E0190A0", "a Node");
	is_fail(sl_ps_put_struct(&b, 16, 0x10), SL_EINVAL, "16 fields");
	is_hex(&b, "B34E0190A0", "the buffer after a refused structure");

	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_ps ps;
	ok(sl_ps_get_canonical(b.data, b.len, NULL, &a, &ps) == 0 &&
	           ps.type == SL_PS_STRUCT && ps.tag == SL_PS_TAG_NODE &&
	           ps.len == 3 && ps.u.items[0].u.i == 1 &&
	           ps.u.items[1].type == SL_PS_LIST &&
	           ps.u.items[2].type == SL_PS_MAP,
	   "a Node decodes");

	sl_buf_reset(&b);
	sl_ps_put_struct(&b, 15, 0x7F);
	for (int i = 0; i < 15; i++)
		sl_ps_put_int(&b, i);
	is_hex(&b, "BF7F000102030405060708090A0B0C0D0E", "15 fields");
	roundtrip(&b, "a structure of 15 fields");

	sl_buf_reset(&b);
	sl_ps_put_struct(&b, 0, 0x0F);
	is_hex(&b, "B00F", "RESET");
	roundtrip(&b, "a structure of no fields");

	sl_buf_reset(&b);
	ok(sl_ps_put_datetime(&b, 1706692530, 500000000, -1800) == 0,
	   "put a DateTime");
	is_hex(&b, "B349CA65BA0FB2CA1DCD6500C9F8F8", "a DateTime");
	sl_arena_destroy(&a);
	sl_buf_destroy(&b);
}

TAP_CASE(put_value)
{
	struct sl_value items[3] = {sl_int(1), sl_str_ref("ab", 2),
	                            sl_double(0.5)};
	struct sl_member members[4] = {
	        {"n", 1, sl_null()},
	        {"b", 1, sl_bool(true)},
	        {"l", 1, sl_array_ref(items, 3)},
	        {"i", 1, sl_int(-129)},
	};
	struct sl_value obj = sl_object_ref(members, 4);
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	ok(sl_ps_put_value(&b, &obj) == 0, "put an object");
	is_hex(&b, "A4816EC08162C3816C9301826162C13FE00000000000008169C9FF7F",
	       "the object");
	roundtrip(&b, "the object");

	static const struct {
		const char *text;
		const char *hex;
	} numbers[] = {
	        {"42", "2A"},
	        {"-17", "C8EF"},
	        {"0", "00"},
	        {"-0", "00"},
	        {"9223372036854775807", "CB7FFFFFFFFFFFFFFF"},
	        {"-9223372036854775808", "CB8000000000000000"},
	        {"9223372036854775808", "C143E0000000000000"},
	        {"-9223372036854775809", "C1C3E0000000000000"},
	        {"1.5", "C13FF8000000000000"},
	        {"1e2", "C14059000000000000"},
	        {"-2.5E-1", "C1BFD0000000000000"},
	};
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		sl_buf_reset(&b);
		struct sl_value v = sl_number_ref(
		        numbers[i].text, (uint32_t)strlen(numbers[i].text));
		ok(sl_ps_put_value(&b, &v) == 0, "put number text %s",
		   numbers[i].text);
		is_hex(&b, numbers[i].hex, numbers[i].text);
	}
	static const char *const invalid[] = {"",    "-",    "abc", "1.",
	                                      "01",  "+1",   ".5",  "1e",
	                                      "1e+", "0x10", "1 ",  "--1"};
	sl_buf_reset(&b);
	sl_ps_put_int(&b, 7);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		struct sl_value v =
		        sl_number_ref(invalid[i], (uint32_t)strlen(invalid[i]));
		struct sl_value in_list = sl_array_ref(&v, 1);
		note("number text \"%s\"", invalid[i]);
		is_fail(sl_ps_put_value(&b, &in_list), SL_EINVAL,
		        "it is refused");
	}
	is_hex(&b, "07", "the buffer after refused numbers");
	sl_buf_destroy(&b);
}

TAP_CASE(put_errors)
{
	struct sl_buf b;
	sl_buf_create(&b, 8);
	ok(sl_ps_put_int(&b, 1) == 0, "put into a small buffer");
	is_fail(sl_ps_put_cstr(&b, "too long to fit"), SL_ELIMIT,
	        "a string past the cap");
	is_hex(&b, "01", "the buffer after it");
	struct sl_value items[4] = {sl_int(1), sl_int(2), sl_int(3),
	                            sl_str_ref("abcdefgh", 8)};
	struct sl_value arr = sl_array_ref(items, 4);
	is_fail(sl_ps_put_value(&b, &arr), SL_ELIMIT,
	        "a list that fits in part");
	is_hex(&b, "01", "the buffer after it");
	sl_buf_destroy(&b);

	/* Nesting deeper than the cap is refused; at the cap it is fine. */
	struct sl_value nest[SL_PS_DEPTH_MAX + 1];
	nest[SL_PS_DEPTH_MAX] = sl_null();
	for (int i = SL_PS_DEPTH_MAX; i-- > 0;)
		nest[i] = sl_array_ref(&nest[i + 1], 1);
	sl_buf_create(&b, CAP);
	ok(sl_ps_put_value(&b, &nest[0]) == 0, "%d nested lists",
	   SL_PS_DEPTH_MAX);
	roundtrip(&b, "the deepest nesting");
	sl_buf_reset(&b);
	struct sl_value deeper = sl_array_ref(&nest[0], 1);
	is_fail(sl_ps_put_value(&b, &deeper), SL_EINVAL, "129 nested lists");
	is_int(b.len, 0, "the buffer after them");
	sl_buf_destroy(&b);
}

TAP_CASE(roundtrip_every_type)
{
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	sl_ps_put_map(&b, 8);
	const char *keys[] = {"null",  "t",     "f", "int",
	                      "float", "bytes", "l", "s"};
	sl_ps_put_cstr(&b, keys[0]);
	sl_ps_put_null(&b);
	sl_ps_put_cstr(&b, keys[1]);
	sl_ps_put_bool(&b, true);
	sl_ps_put_cstr(&b, keys[2]);
	sl_ps_put_bool(&b, false);
	sl_ps_put_cstr(&b, keys[3]);
	sl_ps_put_int(&b, -40000);
	sl_ps_put_cstr(&b, keys[4]);
	sl_ps_put_float(&b, 2.25);
	sl_ps_put_cstr(&b, keys[5]);
	sl_ps_put_bytes(&b, "\x00\xff", 2);
	sl_ps_put_cstr(&b, keys[6]);
	sl_ps_put_list(&b, 2);
	sl_ps_put_struct(&b, 1, SL_PS_TAG_DATE);
	sl_ps_put_int(&b, 19753);
	sl_ps_put_map(&b, 0);
	sl_ps_put_cstr(&b, keys[7]);
	sl_ps_put_cstr(&b, "h\xc3\xa9");
	roundtrip(&b, "a map of every type");

	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_ps ps;
	sl_ps_get_canonical(b.data, b.len, NULL, &a, &ps);
	const struct sl_ps *s = sl_ps_map_get(&ps, "s");
	ok(s != NULL && s->type == SL_PS_STRING && s->len == 3 &&
	           memcmp(s->u.s, "h\xc3\xa9", 3) == 0 && s->u.s >= b.data &&
	           s->u.s < b.data + b.len,
	   "a string points into the input");
	const struct sl_ps *x = sl_ps_map_get(&ps, "bytes");
	ok(x != NULL && x->type == SL_PS_BYTES && x->len == 2, "bytes");
	ok(sl_ps_map_get(&ps, "nope") == NULL &&
	           sl_ps_map_get(x, "bytes") == NULL,
	   "lookups that find nothing");

	/* Two values in a row: `used` says where the first ends. */
	size_t first = b.len;
	sl_ps_put_int(&b, 5);
	size_t used = 0;
	ok(sl_ps_get_canonical(b.data, b.len, &used, &a, &ps) == 0 &&
	           used == first,
	   "used stops at the end of the first value");
	sl_arena_destroy(&a);
	sl_buf_destroy(&b);
}

TAP_CASE(truncated)
{
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	build(&b, "M8 s n s t s F s i s f s x s L3 i i s s S i i s", "n", "t",
	      "f", "i", I(-40000), "fl", 1.25, "by", "00FF", "l", I(1), I(300),
	      "three", "st", 3u, 0x44, I(1), I(70000), "z");
	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_ps ps;
	size_t used = 0;
	ok(sl_ps_get_canonical(b.data, b.len, &used, &a, &ps) == 0 &&
	           used == b.len,
	   "the whole message decodes");
	int failures = 0;
	for (size_t n = 0; n < b.len; n++) {
		sl_arena_reset(&a);
		int rc = sl_ps_get_canonical(b.data, n, &used, &a, &ps);
		if (rc == 0 || sl_diag_code() != SL_EPARSE ||
		    strstr(unit_errmsg(), "truncated input") == NULL ||
		    strstr(unit_errmsg(), "at byte") == NULL) {
			failures++;
			note("prefix of %zu bytes: %s", n,
			     rc == 0 ? "decoded" : unit_errmsg());
		}
	}
	is_int(failures, 0, "every one of %zu prefixes fails as truncated",
	       b.len);
	sl_arena_destroy(&a);
	sl_buf_destroy(&b);
}

TAP_CASE(unknown_markers)
{
	static const char *const markers[] = {"C4", "C5", "C6", "C7", "CF",
	                                      "D3", "D7", "DB", "DC", "DD",
	                                      "DE", "DF", "E0", "E5", "EF"};
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		bad_input(markers[i], "unknown marker");
	/* Inside a container, the offset is the marker's. */
	bad_input("9201E7", "unknown marker 0xE7 at byte 2");
}

TAP_CASE(map_keys)
{
	bad_input("A10102", "a map key is not a string (marker 0x01)");
	bad_input("A1C0C0", "not a string (marker 0xC0)");
	bad_input("A28161018262", "truncated input");
	bad_input("A2816101CC0161", "not a string (marker 0xCC) at byte 4");
}

TAP_CASE(depth)
{
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	for (int i = 0; i < SL_PS_DEPTH_MAX - 1; i++)
		sl_buf_putc(&b, (char)0x91);
	sl_buf_putc(&b, (char)0x90);
	roundtrip(&b, "lists nested as deep as allowed");
	/* Lists and structures (marker, tag) of one field, 129 deep. */
	char *deep = malloc(4 * (SL_PS_DEPTH_MAX + 1) + 1), *at = deep;
	for (int i = 0; i < SL_PS_DEPTH_MAX; i++)
		at += sprintf(at, "%s", i % 2 == 0 ? "91" : "B17F");
	sprintf(at, "90");
	bad_input(deep, "nesting deeper than 128");
	free(deep);
	/* Maps of one entry, 129 deep. */
	char *maps = malloc(6 * (SL_PS_DEPTH_MAX + 1) + 3);
	for (int i = 0; i <= SL_PS_DEPTH_MAX; i++)
		memcpy(maps + 6 * i, "A1816B", 6);
	memcpy(maps + 6 * (SL_PS_DEPTH_MAX + 1), "C0", 3);
	bad_input(maps, "nesting deeper than 128");
	free(maps);
	sl_buf_destroy(&b);
}

TAP_CASE(huge_sizes)
{
	/* Declared sizes past the input fail before any allocation. */
	bad_input("D6FFFFFFFF00000000", "4294967295 items declared");
	bad_input("DAFFFFFFFF816100", "4294967295 map entries declared");
	bad_input("D2FFFFFFFF6161", "truncated input");
	bad_input("CEFFFFFFFF6161", "truncated input");
	bad_input("D5FFFF00", "65535 items declared");
	bad_input("BF4E00", "15 items declared");
	bad_input("A3816101", "3 map entries declared");
	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	unhex(&b, "D6FFFFFFFF00000000");
	struct sl_ps ps;
	ok(sl_ps_get_canonical(b.data, b.len, NULL, &a, &ps) == -1 &&
	           sl_arena_used(&a) == 0,
	   "nothing allocated for a list of 2^32 - 1 items");
	sl_arena_destroy(&a);
	sl_buf_destroy(&b);
}

TAP_CASE(smallest_form)
{
	bad_input("C805", "integer 5 is not in its smallest form");
	bad_input("C8F0", "integer -16 is not in its smallest form");
	bad_input("C90040", "integer 64 is not");
	bad_input("C9FF80", "integer -128 is not");
	bad_input("CA00007FFF", "integer 32767 is not");
	bad_input("CB000000007FFFFFFF", "integer 2147483647 is not");
	bad_input("D003616263", "size 3 after marker 0xD0");
	bad_input("D100FF", "size 255 after marker 0xD1");
	bad_input("D20000FFFF", "size 65535 after marker 0xD2");
	bad_input("D401C0", "size 1 after marker 0xD4");
	bad_input("D801816101", "size 1 after marker 0xD8");
	bad_input("CD000161", "size 1 after marker 0xCD");
	bad_input("A1D0016101", "size 1 after marker 0xD0 is not in its "
	                        "smallest form at byte 1");
	/* What a server sends is read in any form. */
	static const char *const wide[][2] = {
	        {"C805", "5"},
	        {"CB000000007FFFFFFF", "2147483647"},
	        {"D003616263", "abc"},
	        {"D20000000161", "a"}};
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		struct sl_buf w;
		sl_buf_create(&w, CAP);
		unhex(&w, wide[i][0]);
		struct sl_arena wa;
		sl_arena_create(&wa, 4096, CAP);
		struct sl_ps v;
		size_t used = 0;
		int rc = sl_ps_get(w.data, w.len, &used, &wa, &v);
		char got[32] = "";
		if (rc == 0 && v.type == SL_PS_INT)
			snprintf(got, sizeof(got), "%lld", (long long)v.u.i);
		else if (rc == 0 && v.type == SL_PS_STRING)
			snprintf(got, sizeof(got), "%.*s", (int)v.len, v.u.s);
		ok(rc == 0 && used == w.len && strcmp(got, wide[i][1]) == 0,
		   "sl_ps_get() reads %s as %s", wide[i][0], wide[i][1]);
		sl_arena_destroy(&wa);
		sl_buf_destroy(&w);
	}
	/* Byte arrays have no tiny form: CC takes any size. */
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	unhex(&b, "CC0161");
	roundtrip(&b, "one byte");
	sl_buf_destroy(&b);
}

TAP_CASE(nodes)
{
	check_value("{\"element_id\":\"1\",\"id\":1,\"labels\":[\"Person\"],"
	            "\"properties\":{\"name\":\"Ann\",\"age\":33}}",
	            "S i L1 s M2 s s s i", 3u, 0x4E, I(1), "Person", "name",
	            "Ann", "age", I(33));
	check_value("{\"element_id\":\"4:abc:7\",\"id\":7,\"labels\":[],"
	            "\"properties\":{}}",
	            "S i L0 M0 s", 4u, 0x4E, I(7), "4:abc:7");
	check_value("!field 1 (labels) of a Node is a map, not a list",
	            "S i M0 M0", 3u, 0x4E, I(7));
	check_value("!a Node has 3 or 4 fields, not 2", "S i L0", 2u, 0x4E,
	            I(7));
	check_value("!label 0 of a Node is an integer", "S i L1 i M0", 3u, 0x4E,
	            I(7), I(1));
}

TAP_CASE(relationships)
{
	check_value("{\"element_id\":\"9\",\"id\":9,\"type\":\"KNOWS\","
	            "\"start\":1,\"end\":2,\"start_element_id\":\"1\","
	            "\"end_element_id\":\"2\",\"properties\":{\"since\":2001}}",
	            "S i i i s M1 s i", 5u, 0x52, I(9), I(1), I(2), "KNOWS",
	            "since", I(2001));
	check_value("{\"element_id\":\"5:r9\",\"id\":9,\"type\":\"KNOWS\","
	            "\"start\":1,\"end\":2,\"start_element_id\":\"5:n1\","
	            "\"end_element_id\":\"5:n2\",\"properties\":{}}",
	            "S i i i s M0 s s s", 8u, 0x52, I(9), I(1), I(2), "KNOWS",
	            "5:r9", "5:n1", "5:n2");
	check_value("!a Relationship has 5 or 8 fields, not 6",
	            "S i i i s M0 s", 6u, 0x52, I(9), I(1), I(2), "KNOWS",
	            "5:r9");
	check_value("{\"element_id\":\"3\",\"id\":3,\"type\":\"LIKES\","
	            "\"properties\":{\"w\":0.5}}",
	            "S i s M1 s f", 3u, 0x72, I(3), "LIKES", "w", 0.5);
	check_value("{\"element_id\":\"5:r3\",\"id\":3,\"type\":\"LIKES\","
	            "\"properties\":{}}",
	            "S i s M0 s", 4u, 0x72, I(3), "LIKES", "5:r3");
	check_value("!field 1 (type) of a UnboundRelationship is an integer",
	            "S i i M0", 3u, 0x72, I(3), I(4));
}

/** The JSON of a Bolt 4.4 node with id `id` and no labels or props. */
#define NODE44(id)                                                       \
	"{\"element_id\":\"" #id "\",\"id\":" #id ",\"labels\":[\"N\"]," \
	"\"properties\":{}}"

TAP_CASE(paths)
{
	/* (1)-[10:A]->(2)<-[11:B]-(3): the second relationship is
	 * traversed against its direction (index -2). */
	check_value("{\"nodes\":[" NODE44(1) "," NODE44(2) "," NODE44(
	                    3) "],"
	                       "\"relationships\":[{\"element_id\":\"10\","
	                       "\"id\":10,"
	                       "\"type\":\"A\",\"start\":1,\"end\":2,"
	                       "\"start_element_id\":\"1\",\"end_element_id\":"
	                       "\"2\","
	                       "\"properties\":{}},{\"element_id\":\"11\","
	                       "\"id\":11,"
	                       "\"type\":\"B\",\"start\":3,\"end\":2,"
	                       "\"start_element_id\":\"3\",\"end_element_id\":"
	                       "\"2\","
	                       "\"properties\":{}}]}",
	            "S L3 S i L1 s M0 S i L1 s M0 S i L1 s M0"
	            " L2 S i s M0 S i s M0 L4 i i i i",
	            3u, 0x50, 3u, 0x4E, I(1), "N", 3u, 0x4E, I(2), "N", 3u,
	            0x4E, I(3), "N", 3u, 0x72, I(10), "A", 3u, 0x72, I(11), "B",
	            I(1), I(1), I(-2), I(2));
	/* Bolt 5: element ids come from the nodes; a node seen twice. */
	check_value("{\"nodes\":[{\"element_id\":\"e1\",\"id\":1,\"labels\":[],"
	            "\"properties\":{}},{\"element_id\":\"e2\",\"id\":2,"
	            "\"labels\":[],\"properties\":{}},{\"element_id\":\"e1\","
	            "\"id\":1,\"labels\":[],\"properties\":{}}],"
	            "\"relationships\":[{\"element_id\":\"r7\",\"id\":7,"
	            "\"type\":\"T\",\"start\":2,\"end\":1,"
	            "\"start_element_id\":\"e2\",\"end_element_id\":\"e1\","
	            "\"properties\":{}},{\"element_id\":\"r7\",\"id\":7,"
	            "\"type\":\"T\",\"start\":2,\"end\":1,"
	            "\"start_element_id\":\"e2\",\"end_element_id\":\"e1\","
	            "\"properties\":{}}]}",
	            "S L2 S i L0 M0 s S i L0 M0 s L1 S i s M0 s L4 i i i i", 3u,
	            0x50, 4u, 0x4E, I(1), "e1", 4u, 0x4E, I(2), "e2", 4u, 0x72,
	            I(7), "T", "r7", I(-1), I(1), I(1), I(0));
	check_value("{\"nodes\":[" NODE44(5) "],\"relationships\":[]}",
	            "S L1 S i L1 s M0 L0 L0", 3u, 0x50, 3u, 0x4E, I(5), "N");
	check_value("!index 0 of a Path is not a relationship index",
	            "S L1 S i L0 M0 L0 L2 i i", 3u, 0x50, 3u, 0x4E, I(5), I(1),
	            I(0));
	check_value("!index 1 of a Path is not a node index",
	            "S L1 S i L0 M0 L1 S i s M0 L2 i i", 3u, 0x50, 3u, 0x4E,
	            I(5), 3u, 0x72, I(1), "T", I(1), I(1));
	check_value("!item 0 of a Path's list of Nodes is an integer",
	            "S L1 i L0 L0", 3u, 0x50, I(5));
	check_value("!a Path has 1 nodes and 1 indices",
	            "S L1 S i L0 M0 L0 L1 i", 3u, 0x50, 3u, 0x4E, I(5), I(1));
}

TAP_CASE(dates)
{
	check_value("\"2024-01-31\"", "S i", 1u, 0x44, I(19753));
	check_value("\"1970-01-01\"", "S i", 1u, 0x44, I(0));
	check_value("\"1969-12-31\"", "S i", 1u, 0x44, I(-1));
	check_value("\"2000-02-29\"", "S i", 1u, 0x44, I(11016));
	check_value("\"1900-03-01\"", "S i", 1u, 0x44, I(-25508));
	check_value("\"1600-02-29\"", "S i", 1u, 0x44, I(-135081));
	check_value("\"0001-01-01\"", "S i", 1u, 0x44, I(-719162));
	check_value("\"0000-01-01\"", "S i", 1u, 0x44, I(-719528));
	check_value("\"-0001-12-31\"", "S i", 1u, 0x44, I(-719529));
	check_value("\"9999-12-31\"", "S i", 1u, 0x44, I(2932896));
	check_value("\"+10000-01-01\"", "S i", 1u, 0x44, I(2932897));
	check_value("!field 0 (days) of a Date is out of range", "S i", 1u,
	            0x44, I(INT64_MAX));
	check_value("!a Date has 1 fields, not 2", "S i i", 2u, 0x44, I(1),
	            I(2));
}

TAP_CASE(times)
{
	int64_t t = (int64_t)(10 * 3600 + 15 * 60 + 30) * 1000000000;
	check_value("\"10:15:30.5+01:00\"", "S i i", 2u, 0x54, I(t + 500000000),
	            I(3600));
	check_value("\"10:15:30+05:30\"", "S i i", 2u, 0x54, I(t), I(19800));
	check_value("\"10:15:30-00:30\"", "S i i", 2u, 0x54, I(t), I(-1800));
	check_value("\"10:15:30Z\"", "S i i", 2u, 0x54, I(t), I(0));
	check_value("\"10:15:30.000000001+01:01:01\"", "S i i", 2u, 0x54,
	            I(t + 1), I(3661));
	check_value("!field 1 (offset_seconds) of a Time is out of range",
	            "S i i", 2u, 0x54, I(t), I(18 * 3600 + 1));
	check_value("\"00:00:00\"", "S i", 1u, 0x74, I(0));
	check_value("\"23:59:59.999999999\"", "S i", 1u, 0x74,
	            I(86400000000000 - 1));
	check_value("\"10:15:30.25\"", "S i", 1u, 0x74, I(t + 250000000));
	check_value("!field 0 (nanoseconds) of a LocalTime is out of range",
	            "S i", 1u, 0x74, I(86400000000000));
	check_value("!field 0 (nanoseconds) of a LocalTime is out of range",
	            "S i", 1u, 0x74, I(-1));
}

TAP_CASE(datetimes)
{
	check_value("\"2024-01-31T09:15:30\"", "S i i", 2u, 0x64, I(1706692530),
	            I(0));
	check_value("\"1969-12-31T23:59:59.5\"", "S i i", 2u, 0x64, I(-1),
	            I(500000000));
	check_value("\"1969-12-31T00:00:00\"", "S i i", 2u, 0x64, I(-86400),
	            I(0));
	check_value("!field 1 (nanoseconds) of a LocalDateTime is out of range",
	            "S i i", 2u, 0x64, I(0), I(1000000000));
	/* DateTime: UTC seconds, shown as the wall clock at its offset. */
	check_value("\"2024-01-31T10:15:30+01:00\"", "S i i i", 3u, 0x49,
	            I(1706692530), I(0), I(3600));
	check_value("\"2024-01-31T14:45:30.123+05:30\"", "S i i i", 3u, 0x49,
	            I(1706692530), I(123000000), I(19800));
	check_value("\"2024-01-31T08:45:30-00:30\"", "S i i i", 3u, 0x49,
	            I(1706692530), I(0), I(-1800));
	check_value("\"1969-12-31T23:59:59.999999999Z\"", "S i i i", 3u, 0x49,
	            I(-1), I(999999999), I(0));
	check_value("\"1969-12-31T23:00:00-01:00\"", "S i i i", 3u, 0x49, I(0),
	            I(0), I(-3600));
	check_value("!field 0 (seconds) of a DateTime is out of range",
	            "S i i i", 3u, 0x49, I(INT64_MAX), I(0), I(60));
	check_value("\"2024-01-31T09:15:30Z[Europe/Paris]\"", "S i i s", 3u,
	            0x69, I(1706692530), I(0), "Europe/Paris");
	/* Legacy forms (Bolt 4.4 unpatched) count wall-clock seconds. */
	check_value("\"2024-01-31T10:15:30+01:00\"", "S i i i", 3u, 0x46,
	            I(1706696130), I(0), I(3600));
	check_value("\"2024-01-31T10:15:30.5[Europe/Paris]\"", "S i i s", 3u,
	            0x66, I(1706696130), I(500000000), "Europe/Paris");
	check_value("!field 2 (zone_id) of a DateTimeZoneId is an integer",
	            "S i i i", 3u, 0x69, I(0), I(0), I(0));
}

TAP_CASE(durations)
{
	check_value("\"P1Y2M3DT4H5M6.5S\"", "S i i i i", 4u, 0x45, I(14), I(3),
	            I(14706), I(500000000));
	check_value("\"P-1Y-2M-3DT-4H-5M-6.5S\"", "S i i i i", 4u, 0x45, I(-14),
	            I(-3), I(-14707), I(500000000));
	check_value("\"PT0S\"", "S i i i i", 4u, 0x45, I(0), I(0), I(0), I(0));
	check_value("\"P2M\"", "S i i i i", 4u, 0x45, I(2), I(0), I(0), I(0));
	check_value("\"P1Y\"", "S i i i i", 4u, 0x45, I(12), I(0), I(0), I(0));
	check_value("\"PT-0.5S\"", "S i i i i", 4u, 0x45, I(0), I(0), I(-1),
	            I(500000000));
	check_value("\"PT0.000000005S\"", "S i i i i", 4u, 0x45, I(0), I(0),
	            I(0), I(5));
	check_value("\"PT1H\"", "S i i i i", 4u, 0x45, I(0), I(0), I(3600),
	            I(0));
	check_value("\"P1DT-1M\"", "S i i i i", 4u, 0x45, I(0), I(1), I(-60),
	            I(0));
	check_value("\"PT-2562047788015215H-30M-8S\"", "S i i i i", 4u, 0x45,
	            I(0), I(0), I(INT64_MIN), I(0));
	check_value("!field 3 (nanoseconds) of a Duration is out of range",
	            "S i i i i", 4u, 0x45, I(0), I(0), I(0), I(1000000000));
}

TAP_CASE(points_and_others)
{
	check_value("{\"srid\":7203,\"x\":1.5,\"y\":-2.0}", "S i f f", 3u, 0x58,
	            I(7203), 1.5, -2.0);
	check_value("{\"srid\":4979,\"x\":1.0,\"y\":2.0,\"z\":3.25}",
	            "S i f f f", 4u, 0x59, I(4979), 1.0, 2.0, 3.25);
	check_value("!field 1 (x) of a Point2D is an integer, not a float",
	            "S i i f", 3u, 0x58, I(7203), I(1), 2.0);
	check_value("{\"tag\":1,\"fields\":[{\"user_agent\":\"x\"}]}",
	            "S M1 s s", 1u, 0x01, "user_agent", "x");
	check_value("{\"tag\":127,\"fields\":[]}", "S", 0u, 0x7F);
	check_value("[1,255,0]", "x", "01FF00");
	check_value("[]", "x", "");
	check_value("[null,true,false,-1,0.25,\"h\xc3\xa9\",{\"k\":[]}]",
	            "L7 n t F i f s M1 s L0", I(-1), 0.25, "h\xc3\xa9", "k");
}

TAP_CASE(to_value_copies)
{
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	build(&b, "M1 s s", "key", "value");
	struct sl_arena a;
	sl_arena_create(&a, 4096, CAP);
	struct sl_ps ps;
	struct sl_value v;
	ok(sl_ps_get_canonical(b.data, b.len, NULL, &a, &ps) == 0 &&
	           sl_ps_to_value(&ps, &a, &v) == 0,
	   "map a map");
	memset(b.data, 'X', b.len);
	ok(v.type == SL_VOBJECT && v.len == 1 &&
	           memcmp(v.u.members[0].key, "key", 3) == 0 &&
	           memcmp(v.u.members[0].val.u.s, "value", 5) == 0,
	   "the record value outlives the input");
	sl_arena_destroy(&a);
	sl_buf_destroy(&b);
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
