/*
 * PackStream against Neo4j's own codec: tests/bolt/ps_check.js runs the
 * official one of the JavaScript driver (npm neo4j-driver-bolt-connection,
 * installed by scripts/setup), in both directions.
 *
 *  - js_to_c: the JS corpus (every type, size and integer width boundary,
 *    nested values, Bolt's structures) packed by the official Packer is
 *    decoded here and must give the description the JS side printed, take
 *    every byte, encode back with sl_ps_put() to the same bytes, and map
 *    with sl_ps_to_value().
 *  - c_to_js: a corpus written here with sl_ps_put_value() and the
 *    structure, bytes and DateTime writers is unpacked by the official
 *    Unpacker and packed again: the bytes must be the same, and the JS
 *    description of what it read must equal the description of what was
 *    meant here. A control entry with one byte changed after writing must
 *    be caught, which shows the comparison can fail.
 *
 * A description is compact JSON (the opening comment of ps_check.js).
 * SLUICE_NODE and SLUICE_PS_CHECK (CMake) name node and the script.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/bolt/packstream.h"
#include "unit.h"

/** Cap of every buffer and arena here. */
#define CAP ((size_t)256 << 20)

/** Most entries of the C corpus. */
#define ENTRIES_MAX 256

/** Append hex of p[0, n) in lower case to `out`. */
static void
put_hex(struct sl_buf *out, const void *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *u = p;
	sl_buf_reserve(out, 2 * n);
	for (size_t i = 0; i < n; i++) {
		sl_buf_putc(out, digits[u[i] >> 4]);
		sl_buf_putc(out, digits[u[i] & 15]);
	}
}

/** Bytes of hex text s[0, n) into `out` (reset first); false if bad. */
static bool
get_hex(struct sl_buf *out, const char *s, size_t n)
{
	sl_buf_reset(out);
	if (n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i += 2) {
		char pair[3] = {s[i], s[i + 1], '\0'}, *end;
		long v = strtol(pair, &end, 16);
		if (*end != '\0')
			return false;
		sl_buf_putc(out, (char)v);
	}
	return true;
}

/**
 * Append string s[0, n) as JSON.stringify() writes it: quote, backslash
 * and control characters escaped (\b \f \n \r \t, else \u00xx), all
 * other bytes as they are.
 */
static void
desc_str(struct sl_buf *out, const char *s, size_t n)
{
	sl_buf_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = c == '"'    ? "\\\""
		                  : c == '\\' ? "\\\\"
		                  : c == '\b' ? "\\b"
		                  : c == '\f' ? "\\f"
		                  : c == '\n' ? "\\n"
		                  : c == '\r' ? "\\r"
		                  : c == '\t' ? "\\t"
		                              : NULL;
		if (esc != NULL)
			sl_buf_puts(out, esc);
		else if (c < 0x20)
			sl_buf_printf(out, "\\u%04x", c);
		else
			sl_buf_putc(out, (char)c);
	}
	sl_buf_putc(out, '"');
}

/** Append the description of an integer. */
static void
desc_int(struct sl_buf *out, int64_t i)
{
	sl_buf_printf(out, "{\"int\":\"%" PRId64 "\"}", i);
}

/** Append the description of a float: its IEEE bits. */
static void
desc_float(struct sl_buf *out, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof(bits));
	sl_buf_printf(out, "{\"float\":\"%016" PRIx64 "\"}", bits);
}

/** Append the description of decoded value `v`. */
static void
desc_ps(struct sl_buf *out, const struct sl_ps *v)
{
	switch (v->type) {
	case SL_PS_NULL:
		sl_buf_puts(out, "null");
		break;
	case SL_PS_BOOL:
		sl_buf_puts(out, v->u.b ? "true" : "false");
		break;
	case SL_PS_INT:
		desc_int(out, v->u.i);
		break;
	case SL_PS_FLOAT:
		desc_float(out, v->u.d);
		break;
	case SL_PS_STRING:
		desc_str(out, v->u.s, v->len);
		break;
	case SL_PS_BYTES:
		sl_buf_puts(out, "{\"bytes\":\"");
		put_hex(out, v->u.s, v->len);
		sl_buf_puts(out, "\"}");
		break;
	case SL_PS_MAP:
		sl_buf_puts(out, "{\"map\":[");
		for (uint32_t i = 0; i < v->len; i++) {
			sl_buf_puts(out, i > 0 ? ",[" : "[");
			desc_str(out, v->u.entries[i].key,
			         v->u.entries[i].key_len);
			sl_buf_putc(out, ',');
			desc_ps(out, &v->u.entries[i].val);
			sl_buf_putc(out, ']');
		}
		sl_buf_puts(out, "]}");
		break;
	default:
		if (v->type == SL_PS_STRUCT)
			sl_buf_printf(out,
			              "{\"struct\":%u,\"fields\":", v->tag);
		sl_buf_putc(out, '[');
		for (uint32_t i = 0; i < v->len; i++) {
			if (i > 0)
				sl_buf_putc(out, ',');
			desc_ps(out, &v->u.items[i]);
		}
		sl_buf_puts(out, v->type == SL_PS_STRUCT ? "]}" : "]");
		break;
	}
}

/** Append the description of record value `v` as PackStream carries it. */
static void
desc_value(struct sl_buf *out, const struct sl_value *v)
{
	struct sl_value num;
	switch (v->type) {
	case SL_VNULL:
		sl_buf_puts(out, "null");
		break;
	case SL_VBOOL:
		sl_buf_puts(out, v->u.b ? "true" : "false");
		break;
	case SL_VINT:
		desc_int(out, v->u.i);
		break;
	case SL_VDOUBLE:
		desc_float(out, v->u.d);
		break;
	case SL_VNUMBER:
		num = sl_value_number(*v);
		desc_value(out, &num);
		break;
	case SL_VSTR:
		desc_str(out, v->u.s, v->len);
		break;
	case SL_VARRAY:
		sl_buf_putc(out, '[');
		for (uint32_t i = 0; i < v->len; i++) {
			if (i > 0)
				sl_buf_putc(out, ',');
			desc_value(out, &v->u.items[i]);
		}
		sl_buf_putc(out, ']');
		break;
	default:
		sl_buf_puts(out, "{\"map\":[");
		for (uint32_t i = 0; i < v->len; i++) {
			sl_buf_puts(out, i > 0 ? ",[" : "[");
			desc_str(out, v->u.members[i].key,
			         v->u.members[i].key_len);
			sl_buf_putc(out, ',');
			desc_value(out, &v->u.members[i].val);
			sl_buf_putc(out, ']');
		}
		sl_buf_puts(out, "]}");
		break;
	}
}

/**
 * Check that `got` equals `want` (long texts: the first difference is
 * shown). Returns whether they are equal.
 */
static bool
same_text(const char *got, size_t got_n, const char *want, size_t want_n,
          const char *what, const char *name)
{
	size_t i = 0;
	while (i < got_n && i < want_n && got[i] == want[i])
		i++;
	bool same = got_n == want_n && i == got_n;
	if (!ok(same, "%s: %s", name, what)) {
		size_t from = i > 20 ? i - 20 : 0;
		note("they differ at offset %zu (lengths %zu and %zu)", i,
		     got_n, want_n);
		note("got  ...%.60s", got + (from < got_n ? from : got_n));
		note("want ...%.60s", want + (from < want_n ? from : want_n));
	}
	return same;
}

/** One line of ps_check.js's output: NAME, HEX, DESCRIPTION. */
struct line {
	/** The entry's name. */
	char *name;
	/** Its hex bytes. */
	char *hex;
	/** Bytes of `hex`. */
	size_t hex_len;
	/** Its description, or NULL when the line says ERROR. */
	char *desc;
	/** Bytes of `desc`. */
	size_t desc_len;
};

/** Split line `s` (its newline removed) into *l; false if malformed. */
static bool
split_line(char *s, struct line *l)
{
	char *tab1 = strchr(s, '\t');
	if (tab1 == NULL)
		return false;
	*tab1 = '\0';
	l->name = s;
	l->hex = tab1 + 1;
	char *tab2 = strchr(l->hex, '\t');
	if (tab2 == NULL) {
		l->desc = NULL;
		l->hex_len = strlen(l->hex);
		return true;
	}
	*tab2 = '\0';
	l->hex_len = (size_t)(tab2 - l->hex);
	l->desc = tab2 + 1;
	l->desc_len = strlen(l->desc);
	return true;
}

/** Run `node ps_check.js ARGS` for reading, or NULL. */
static FILE *
run_check(const char *args)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "'%s' '%s' %s", SLUICE_NODE, SLUICE_PS_CHECK,
	         args);
	FILE *f = popen(cmd, "r");
	if (f == NULL)
		bail_out("cannot run %s", cmd);
	return f;
}

/** Check that the script behind `f` exited with status 0. */
static void
end_check(FILE *f)
{
	int status = pclose(f);
	ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "ps_check.js exits with 0 (status %d)", status);
}

TAP_CASE(js_to_c)
{
	FILE *f = run_check("pack");
	char *s = NULL;
	size_t cap = 0;
	ssize_t got;
	int lines = 0, mapped = 0;
	struct sl_buf bytes, desc, again, hex;
	sl_buf_create(&bytes, CAP);
	sl_buf_create(&desc, CAP);
	sl_buf_create(&again, CAP);
	sl_buf_create(&hex, CAP);
	struct sl_arena a;
	sl_arena_create(&a, 1 << 20, CAP);
	while ((got = getline(&s, &cap, f)) > 0) {
		if (s[got - 1] == '\n')
			s[--got] = '\0';
		struct line l = {0};
		lines++;
		if (!ok(split_line(s, &l) && l.desc != NULL &&
		                get_hex(&bytes, l.hex, l.hex_len),
		        "line %d is NAME, HEX, DESCRIPTION", lines))
			continue;
		sl_arena_reset(&a);
		struct sl_ps v;
		size_t used = 0;
		int rc = sl_ps_get_canonical(bytes.data, bytes.len, &used, &a,
		                             &v);
		if (!ok(rc == 0 && used == bytes.len,
		        "%s: decodes, %zu of %zu bytes", l.name, used,
		        bytes.len)) {
			note("%s", unit_errmsg());
			continue;
		}
		sl_buf_reset(&desc);
		desc_ps(&desc, &v);
		same_text(desc.data, desc.len, l.desc, l.desc_len,
		          "decodes to what JS packed", l.name);
		sl_buf_reset(&again);
		sl_buf_reset(&hex);
		ok(sl_ps_put(&again, &v) == 0, "%s: encodes", l.name);
		put_hex(&hex, again.data, again.len);
		same_text(hex.data, hex.len, l.hex, l.hex_len,
		          "encodes back to the bytes JS packed", l.name);
		struct sl_value rv;
		if (sl_ps_to_value(&v, &a, &rv) == 0)
			mapped++;
		else
			note("%s: sl_ps_to_value: %s", l.name, unit_errmsg());
	}
	free(s);
	end_check(f);
	ok(lines >= 90, "the JS corpus has %d values", lines);
	is_int(mapped, lines, "every value maps to a record value");
	sl_arena_destroy(&a);
	sl_buf_destroy(&hex);
	sl_buf_destroy(&again);
	sl_buf_destroy(&desc);
	sl_buf_destroy(&bytes);
}

/** One value of the C corpus. */
struct entry {
	/** Its name. */
	char name[64];
	/** The bytes written. */
	struct sl_buf bytes;
	/** The description of the value meant. */
	struct sl_buf desc;
	/** The control: JS must see something else than was meant. */
	bool control;
};

/** The C corpus. */
struct corpus {
	/** Its entries. */
	struct entry e[ENTRIES_MAX];
	/** How many there are. */
	int n;
	/** Where its record values live. */
	struct sl_arena arena;
};

/** A new entry named `name`. */
static struct entry *
entry_new(struct corpus *c, const char *name)
{
	if (c->n == ENTRIES_MAX)
		bail_out("more than %d entries", ENTRIES_MAX);
	struct entry *e = &c->e[c->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	sl_buf_create(&e->bytes, CAP);
	sl_buf_create(&e->desc, CAP);
	e->control = false;
	return e;
}

/** Add record value `v`, written with sl_ps_put_value(). */
static void
add_value(struct corpus *c, const char *name, struct sl_value v)
{
	struct entry *e = entry_new(c, name);
	if (sl_ps_put_value(&e->bytes, &v) != 0)
		bail_out("%s: %s", name, unit_errmsg());
	desc_value(&e->desc, &v);
}

/** Add structure `tag` with fields `f[0, n)` (record values). */
static void
add_struct(struct corpus *c, const char *name, uint8_t tag,
           const struct sl_value *f, unsigned n)
{
	struct entry *e = entry_new(c, name);
	int rc = sl_ps_put_struct(&e->bytes, n, tag);
	sl_buf_printf(&e->desc, "{\"struct\":%u,\"fields\":[", tag);
	for (unsigned i = 0; i < n && rc == 0; i++) {
		rc = sl_ps_put_value(&e->bytes, &f[i]);
		if (i > 0)
			sl_buf_putc(&e->desc, ',');
		desc_value(&e->desc, &f[i]);
	}
	sl_buf_puts(&e->desc, "]}");
	if (rc != 0)
		bail_out("%s: %s", name, unit_errmsg());
}

/** A string value of `n` bytes cycling through the alphabet, in `a`. */
static struct sl_value
letters(struct sl_arena *a, size_t n)
{
	char *s = sl_arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	return sl_str_ref(s, (uint32_t)n);
}

/** A copy of string constant `s` as a value (not copied). */
static struct sl_value
str(const char *s)
{
	return sl_str_ref(s, (uint32_t)strlen(s));
}

/** An array value of `n` items copied from `items`, in `a`. */
static struct sl_value
array(struct sl_arena *a, const struct sl_value *items, uint32_t n)
{
	struct sl_value *v = sl_arena_alloc(a, n * sizeof(*v) + 1);
	memcpy(v, items, n * sizeof(*v));
	return sl_array_ref(v, n);
}

/** An object of `n` members with keys `keys` and values `vals`, in `a`. */
static struct sl_value
object(struct sl_arena *a, const char *const *keys, const struct sl_value *vals,
       uint32_t n)
{
	struct sl_member *m = sl_arena_alloc(a, n * sizeof(*m) + 1);
	for (uint32_t i = 0; i < n; i++) {
		m[i].key = keys[i];
		m[i].key_len = (uint32_t)strlen(keys[i]);
		m[i].val = vals[i];
	}
	return sl_object_ref(m, n);
}

/** The same integer boundaries as the JS corpus. */
static const int64_t int_cases[] = {0,
                                    1,
                                    -1,
                                    -16,
                                    -17,
                                    127,
                                    128,
                                    -128,
                                    -129,
                                    32767,
                                    32768,
                                    -32768,
                                    -32769,
                                    INT32_MAX,
                                    (int64_t)INT32_MAX + 1,
                                    INT32_MIN,
                                    (int64_t)INT32_MIN - 1,
                                    INT64_MAX,
                                    INT64_MIN};

/** Add the scalars, number texts and sized values to the corpus. */
static void
add_plain(struct corpus *c)
{
	struct sl_arena *a = &c->arena;
	char name[64];
	add_value(c, "null", sl_null());
	add_value(c, "true", sl_bool(true));
	add_value(c, "false", sl_bool(false));
	for (size_t i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
		snprintf(name, sizeof(name), "int %" PRId64, int_cases[i]);
		add_value(c, name, sl_int(int_cases[i]));
	}
	const double doubles[] = {0.0,    -0.0, 1.5,      -1.5e300,  1.0 / 3,
	                          5e-324, 1e21, INFINITY, -INFINITY, NAN};
	for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++) {
		snprintf(name, sizeof(name), "double %g", doubles[i]);
		add_value(c, name, sl_double(doubles[i]));
	}
	const char *numbers[] = {"42",
	                         "-17",
	                         "70000",
	                         "9223372036854775807",
	                         "9223372036854775808",
	                         "-0.0",
	                         "1.5e3",
	                         "123456789012345678901234567890"};
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		snprintf(name, sizeof(name), "number text %s", numbers[i]);
		add_value(c, name,
		          sl_number_ref(numbers[i],
		                        (uint32_t)strlen(numbers[i])));
	}
	const uint32_t sizes[] = {0, 1, 15, 16, 255, 256, 65535, 65536};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t n = sizes[k];
		snprintf(name, sizeof(name), "string of %u", n);
		add_value(c, name, letters(a, n));
		snprintf(name, sizeof(name), "bytes of %u", n);
		struct entry *e = entry_new(c, name);
		unsigned char *p = sl_arena_alloc(a, n + 1);
		for (uint32_t i = 0; i < n; i++)
			p[i] = (unsigned char)(i * 7);
		sl_ps_put_bytes(&e->bytes, p, n);
		sl_buf_puts(&e->desc, "{\"bytes\":\"");
		put_hex(&e->desc, p, n);
		sl_buf_puts(&e->desc, "\"}");
		struct sl_value *items = sl_arena_alloc(a, n * 16 + 1);
		struct sl_member *m = sl_arena_alloc(a, n * sizeof(*m) + 1);
		for (uint32_t i = 0; i < n; i++) {
			items[i] = sl_int(i % 200);
			char key[16];
			int kn = snprintf(key, sizeof(key), "k%u", i);
			m[i].key = sl_arena_strndup(a, key, (size_t)kn);
			m[i].key_len = (uint32_t)kn;
			m[i].val = i % 3 ? sl_int(i) : sl_null();
		}
		snprintf(name, sizeof(name), "list of %u", n);
		add_value(c, name, sl_array_ref(items, n));
		snprintf(name, sizeof(name), "map of %u", n);
		add_value(c, name, sl_object_ref(m, n));
	}
	add_value(c, "utf-8 of 15 bytes",
	          str("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	              "\xa9"
	              "a"));
	add_value(c, "utf-8 of 16 bytes",
	          str("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	              "\xa9\xc3\xa9"));
	add_value(c, "utf-8",
	          str("h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac "
	              "\xf0\x9f\x98\x80"));
	add_value(c, "escapes",
	          str("quote \" backslash \\ nl \n tab \t cr \r ctl \x01 "
	              "\x1f del \x7f sep \xe2\x80\xa8"));
}

/** Add nested values and Bolt's structures to the corpus. */
static void
add_nested(struct corpus *c)
{
	struct sl_arena *a = &c->arena;
	struct sl_value deep_items[3] = {sl_null(), sl_bool(true),
	                                 sl_int(-129)};
	const char *deep_key[] = {"deep"};
	struct sl_value deep = array(a, deep_items, 3);
	struct sl_value c_obj = object(a, deep_key, &deep, 1);
	struct sl_value l3[2] = {str("c"), c_obj};
	struct sl_value l2[2] = {str("b"), array(a, l3, 2)};
	struct sl_value l1[2] = {str("a"), array(a, l2, 2)};
	const char *inner_keys[] = {"empty", "none", "f"};
	struct sl_value inner_vals[3] = {
	        sl_object_ref(NULL, 0), sl_array_ref(NULL, 0), sl_double(0.25)};
	const char *keys[] = {"name", "tags",
	                      "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87"};
	struct sl_value vals[3] = {str("Ann"), array(a, l1, 2),
	                           object(a, inner_keys, inner_vals, 3)};
	add_value(c, "nested", object(a, keys, vals, 3));

	/* Bolt's structures, their fields written with sl_ps_put_value(). */
	const char *props_keys[] = {"name", "age"};
	struct sl_value props_vals[2] = {str("Ann"), sl_int(33)};
	struct sl_value person = str("Person");
	struct sl_value node44[3] = {sl_int(1), array(a, &person, 1),
	                             object(a, props_keys, props_vals, 2)};
	add_struct(c, "Node 4.4", SL_PS_TAG_NODE, node44, 3);
	struct sl_value labels[2] = {str("A"), str("B")};
	struct sl_value node5[4] = {sl_int(2), array(a, labels, 2),
	                            sl_object_ref(NULL, 0), str("4:db:2")};
	add_struct(c, "Node 5", SL_PS_TAG_NODE, node5, 4);
	const char *since_key[] = {"since"};
	struct sl_value since = sl_int(2001);
	struct sl_value rel[8] = {sl_int(9),
	                          sl_int(1),
	                          sl_int(2),
	                          str("KNOWS"),
	                          object(a, since_key, &since, 1),
	                          str("5:r9"),
	                          str("5:n1"),
	                          str("5:n2")};
	add_struct(c, "Relationship 4.4", SL_PS_TAG_REL, rel, 5);
	add_struct(c, "Relationship 5", SL_PS_TAG_REL, rel, 8);
	struct sl_value unbound[4] = {sl_int(10), str("A"),
	                              sl_object_ref(NULL, 0), str("5:r10")};
	add_struct(c, "UnboundRelationship", SL_PS_TAG_UNBOUND_REL, unbound, 4);
	struct sl_value idx[4] = {sl_int(1), sl_int(1), sl_int(-1), sl_int(0)};
	struct sl_value path[3] = {sl_array_ref(NULL, 0), sl_array_ref(NULL, 0),
	                           array(a, idx, 4)};
	add_struct(c, "Path of plain fields", SL_PS_TAG_PATH, path, 3);
	struct sl_value date = sl_int(-719529);
	add_struct(c, "Date", SL_PS_TAG_DATE, &date, 1);
	struct sl_value time[2] = {sl_int(36930500000000), sl_int(-1800)};
	add_struct(c, "Time", SL_PS_TAG_TIME, time, 2);
	add_struct(c, "LocalTime", SL_PS_TAG_LOCAL_TIME, time, 1);
	struct sl_value ldt[2] = {sl_int(-1), sl_int(500000000)};
	add_struct(c, "LocalDateTime", SL_PS_TAG_LOCAL_DATETIME, ldt, 2);
	struct sl_value zoned[3] = {sl_int(1706692530), sl_int(0),
	                            str("Europe/Paris")};
	add_struct(c, "DateTimeZoneId", SL_PS_TAG_DATETIME_ZONE, zoned, 3);
	add_struct(c, "legacy DateTimeZoneId", SL_PS_TAG_LEGACY_DATETIME_ZONE,
	           zoned, 3);
	struct sl_value legacy[3] = {sl_int(1706696130), sl_int(0),
	                             sl_int(3600)};
	add_struct(c, "legacy DateTime", SL_PS_TAG_LEGACY_DATETIME, legacy, 3);
	struct sl_value dur[4] = {sl_int(-14), sl_int(3), sl_int(INT64_MIN),
	                          sl_int(999999999)};
	add_struct(c, "Duration", SL_PS_TAG_DURATION, dur, 4);
	struct sl_value point[4] = {sl_int(4979), sl_double(1.5),
	                            sl_double(-2.0), sl_double(3.25)};
	add_struct(c, "Point2D", SL_PS_TAG_POINT2D, point, 3);
	add_struct(c, "Point3D", SL_PS_TAG_POINT3D, point, 4);
	add_struct(c, "unknown structure", 0x7F, NULL, 0);
	struct sl_value many[15];
	for (int i = 0; i < 15; i++)
		many[i] = sl_int(i * 1000);
	add_struct(c, "structure of 15 fields", 0x01, many, 15);

	struct entry *e = entry_new(c, "DateTime writer");
	sl_ps_put_datetime(&e->bytes, -1, 999999999, 19800);
	sl_buf_puts(&e->desc, "{\"struct\":73,\"fields\":[");
	desc_int(&e->desc, -1);
	sl_buf_putc(&e->desc, ',');
	desc_int(&e->desc, 999999999);
	sl_buf_putc(&e->desc, ',');
	desc_int(&e->desc, 19800);
	sl_buf_puts(&e->desc, "]}");

	/* The control: one byte of "control" changed after writing. */
	add_value(c, "control", str("control"));
	c->e[c->n - 1].bytes.data[3] ^= 0x20;
	c->e[c->n - 1].control = true;
}

TAP_CASE(c_to_js)
{
	static struct corpus c;
	c.n = 0;
	sl_arena_create(&c.arena, 1 << 20, CAP);
	add_plain(&c);
	add_nested(&c);

	char path[] = "/tmp/sluice-ps-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		bail_out("mkstemp: %s", strerror(errno));
	FILE *tmp = fdopen(fd, "w");
	struct sl_buf hex;
	sl_buf_create(&hex, CAP);
	for (int i = 0; i < c.n; i++) {
		sl_buf_reset(&hex);
		put_hex(&hex, c.e[i].bytes.data, c.e[i].bytes.len);
		fprintf(tmp, "%s\t%s\n", c.e[i].name, hex.data);
	}
	fclose(tmp);

	char args[64];
	snprintf(args, sizeof(args), "repack '%s'", path);
	FILE *f = run_check(args);
	char *s = NULL;
	size_t cap = 0;
	ssize_t got;
	int n = 0;
	while ((got = getline(&s, &cap, f)) > 0 && n < c.n) {
		if (s[got - 1] == '\n')
			s[--got] = '\0';
		struct entry *e = &c.e[n++];
		struct line l = {0};
		if (!ok(split_line(s, &l) && strcmp(l.name, e->name) == 0,
		        "line %d is about %s", n, e->name))
			continue;
		if (!ok(l.desc != NULL, "%s: JS reads it", e->name)) {
			note("%s", l.hex);
			continue;
		}
		sl_buf_reset(&hex);
		put_hex(&hex, e->bytes.data, e->bytes.len);
		bool same_bytes = hex.len == l.hex_len &&
		                  memcmp(hex.data, l.hex, hex.len) == 0;
		bool same_desc = e->desc.len == l.desc_len &&
		                 memcmp(e->desc.data, l.desc, l.desc_len) == 0;
		if (e->control) {
			ok(same_bytes && !same_desc,
			   "control: JS reads the changed byte (%s), not what "
			   "was meant (%s)",
			   l.desc, e->desc.data);
			continue;
		}
		same_text(l.hex, l.hex_len, hex.data, hex.len,
		          "JS packs it again to the same bytes", e->name);
		same_text(l.desc, l.desc_len, e->desc.data, e->desc.len,
		          "JS reads what was meant", e->name);
	}
	free(s);
	end_check(f);
	is_int(n, c.n, "JS answered every one of %d entries", c.n);
	unlink(path);
	sl_buf_destroy(&hex);
	for (int i = 0; i < c.n; i++) {
		sl_buf_destroy(&c.e[i].bytes);
		sl_buf_destroy(&c.e[i].desc);
	}
	sl_arena_destroy(&c.arena);
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
