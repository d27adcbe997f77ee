/*
 * Tests of the streaming CSV reader (sluice/csv.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/csv.h"
#include "memsource.h"
#include "text.h"
#include "unit.h"

/** Result of reading a whole input. */
struct outcome {
	/** Records as "{k=v|k=v}" lines, then "END" or "ERR <code> <msg>". */
	char text[8192];
	/** Records read. */
	int records;
	/** -1 on error, else 0. */
	int rc;
	/** sl_csv_line() at the end. */
	uint64_t line;
	/** sl_csv_record() at the end. */
	uint64_t record;
};

/** Append `n` bytes of `s` to `o->text`. */
static void
out_add(struct outcome *o, const char *s, size_t n)
{
	fixed_add(o->text, sizeof(o->text), s, n);
}

/**
 * Read `input` (`len` bytes, -1: strlen) through a source of `step` bytes
 * per read with options `opts` (NULL: defaults) into `o`.
 */
static void
read_all(const char *input, long len, size_t step,
         const struct sl_csv_opts *opts, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	struct memsource m;
	memsource_init(&m, input, len < 0 ? strlen(input) : (size_t)len, step);
	struct sl_source src = memsource_source(&m, "t.csv");
	struct sl_csv_reader *r = sl_csv_reader_new(&src, opts);
	if (r == NULL) {
		o->rc = -2;
		return;
	}
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, (size_t)1 << 30);
	struct sl_value v;
	int rc;
	while ((rc = sl_csv_next(r, &arena, &v)) == 1) {
		o->records++;
		fixed_add_record(o->text, sizeof(o->text), &v);
	}
	if (rc == 0) {
		out_add(o, "END", 3);
	} else {
		o->rc = -1;
		char buf[600];
		snprintf(buf, sizeof(buf), "ERR %s %s",
		         sl_errcode_name(sl_diag_code()), unit_errmsg());
		out_add(o, buf, strlen(buf));
	}
	o->line = sl_csv_line(r);
	o->record = sl_csv_record(r);
	sl_csv_reader_delete(r);
	sl_arena_destroy(&arena);
}

/**
 * Read `input` whole, 1 byte and 7 bytes at a time, and with a 1-byte and
 * a 5-byte buffer; check that all agree and return the whole-input result.
 */
static void
read_every_way(const char *name, const char *input, long len,
               const struct sl_csv_opts *opts, struct outcome *o)
{
	static struct outcome alt;
	struct sl_csv_opts base;
	if (opts != NULL)
		base = *opts;
	else
		sl_csv_opts_init(&base);
	read_all(input, len, 0, &base, o);
	size_t steps[] = {1, 7};
	for (size_t i = 0; i < 2; i++) {
		read_all(input, len, steps[i], &base, &alt);
		if (!ok(strcmp(alt.text, o->text) == 0 && alt.line == o->line &&
		                alt.record == o->record,
		        "%s: %zu byte(s) per read gives the same result", name,
		        steps[i]))
			note("got:\n%s\nexpected:\n%s", alt.text, o->text);
	}
	size_t chunks[] = {1, 5};
	for (size_t i = 0; i < 2; i++) {
		struct sl_csv_opts small = base;
		small.chunk_size = chunks[i];
		read_all(input, len, 0, &small, &alt);
		if (!ok(strcmp(alt.text, o->text) == 0 && alt.line == o->line &&
		                alt.record == o->record,
		        "%s: a %zu-byte buffer gives the same result", name,
		        chunks[i]))
			note("got:\n%s\nexpected:\n%s", alt.text, o->text);
	}
}

/** Check the outcome of reading `input` every way. */
#define check_csv(name, input, opts, want_text)                  \
	do {                                                     \
		static struct outcome o_;                        \
		read_every_way(name, input, -1, opts, &o_);      \
		is_str(o_.text, want_text, "%s: records", name); \
	} while (0)

/** The basic checks. */
TAP_CASE(basic)
{
	check_csv("basic", "a,b,c\n1,2,3\n4,5,6\n", NULL,
	          "{a=1|b=2|c=3}\n{a=4|b=5|c=6}\nEND");
	check_csv("no final newline", "a,b\n1,2\n3,4", NULL,
	          "{a=1|b=2}\n{a=3|b=4}\nEND");
	check_csv("CRLF", "a,b\r\n1,2\r\n3,4\r\n", NULL,
	          "{a=1|b=2}\n{a=3|b=4}\nEND");
	check_csv("mixed LF and CRLF", "a,b\n1,2\r\n3,4\n", NULL,
	          "{a=1|b=2}\n{a=3|b=4}\nEND");
	check_csv("empty fields", "a,b,c\n,,\nx,,\n,,z\n", NULL,
	          "{a=|b=|c=}\n{a=x|b=|c=}\n{a=|b=|c=z}\nEND");
	check_csv("trailing delimiter, no newline", "a,b\n1,", NULL,
	          "{a=1|b=}\nEND");
	check_csv("quoted empty", "a,b\n\"\",\"\"\n", NULL, "{a=|b=}\nEND");
	check_csv("single column with quoted empty", "a\n\"\"\nx\n", NULL,
	          "{a=}\n{a=x}\nEND");
	check_csv("spaces kept", "a,b\n 1 , 2 \n", NULL, "{a= 1 |b= 2 }\nEND");
	check_csv("long unquoted fields",
	          "a,b\n0123456789abcdefghijklmnopqrstuvwxyz,"
	          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n",
	          NULL,
	          "{a=0123456789abcdefghijklmnopqrstuvwxyz|"
	          "b=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789}\nEND");
}

/** The quoted checks. */
TAP_CASE(quoted)
{
	check_csv("quoted delimiter", "a,b\n\"x,y\",z\n", NULL,
	          "{a=x,y|b=z}\nEND");
	check_csv("doubled quotes", "a,b\n\"say \"\"hi\"\"\",\"\"\"\"\n", NULL,
	          "{a=say \"hi\"|b=\"}\nEND");
	check_csv("quoted newlines", "a,b\n\"l1\nl2\",\"c\r\nd\"\n", NULL,
	          "{a=l1\nl2|b=c\r\nd}\nEND");
	check_csv("lone CR inside quotes is data", "a\n\"x\ry\"\n", NULL,
	          "{a=x\ry}\nEND");
	check_csv("quoted header", "\"a,1\",\"b\"\"2\"\nx,y\n", NULL,
	          "{a,1=x|b\"2=y}\nEND");
	check_csv("quoted last field without newline", "a,b\n1,\"2\"", NULL,
	          "{a=1|b=2}\nEND");
	check_csv("quoted field then CRLF", "a,b\r\n\"1\",\"2\"\r\n", NULL,
	          "{a=1|b=2}\nEND");
	check_csv("long quoted field",
	          "a\n\"0123456789abcdef0123456789abcdef\"\"0123456789abcdef"
	          "0123456789\nabcdef\"\n",
	          NULL,
	          "{a=0123456789abcdef0123456789abcdef\"0123456789abcdef"
	          "0123456789\nabcdef}\nEND");
}

/** The lines checks. */
TAP_CASE(lines)
{
	check_csv("empty lines skipped", "\n\r\na,b\n\n1,2\r\n\r\n\n3,4\n\n",
	          NULL, "{a=1|b=2}\n{a=3|b=4}\nEND");
	check_csv("BOM",
	          "\xef\xbb\xbf"
	          "a,b\n1,2\n",
	          NULL, "{a=1|b=2}\nEND");
	check_csv("BOM then quoted header", "\xef\xbb\xbf\"a\",b\n1,2\n", NULL,
	          "{a=1|b=2}\nEND");
	check_csv("header only", "a,b,c\n", NULL, "END");
	check_csv("header only without newline", "a,b,c", NULL, "END");
	check_csv("empty input", "", NULL, "END");
	check_csv("only BOM", "\xef\xbb\xbf", NULL, "END");
	check_csv("only empty lines", "\n\r\n\n", NULL, "END");

	/* Line numbers: records after multi-line fields and empty lines. */
	const char *in = "a,b\n1,\"x\ny\"\n\n2,\"\r\n\"\n3,4\n";
	struct sl_csv_opts o;
	sl_csv_opts_init(&o);
	struct memsource m;
	memsource_init(&m, in, strlen(in), 0);
	struct sl_source src = memsource_source(&m, "t.csv");
	struct sl_csv_reader *r = sl_csv_reader_new(&src, &o);
	struct sl_arena a;
	sl_arena_create(&a, 1024, 1 << 20);
	struct sl_value v;
	is_int(sl_csv_line(r), 0, "line 0 before the first call");
	is_int(sl_csv_field_count(r), 0, "no fields before the header");
	is_int(sl_csv_next(r, &a, &v), 1, "record 1");
	is_int(sl_csv_field_count(r), 2, "2 header fields");
	is_int(sl_csv_line(r), 2, "record 1 on line 2");
	is_int(sl_csv_record(r), 1, "record number 1");
	is_int(sl_csv_next(r, &a, &v), 1, "record 2");
	is_int(sl_csv_line(r), 5, "record 2 on line 5");
	is_int(sl_csv_record(r), 2, "record number 2");
	is_int(sl_csv_next(r, &a, &v), 1, "record 3");
	is_int(sl_csv_line(r), 7, "record 3 on line 7");
	is_int(sl_csv_next(r, &a, &v), 0, "end");
	is_int(sl_csv_next(r, &a, &v), 0, "end again");
	sl_csv_reader_delete(r);
	sl_arena_destroy(&a);
}

/** The delimiters checks. */
TAP_CASE(delimiters)
{
	struct sl_csv_opts o;
	sl_csv_opts_init(&o);
	o.delimiter = ';';
	check_csv("semicolon", "a;b\n1,5;\"x;y\"\n", &o, "{a=1,5|b=x;y}\nEND");
	o.delimiter = '\t';
	check_csv("tab", "a\tb\n1 2\t\"x\ty\"\n\t\n", &o,
	          "{a=1 2|b=x\ty}\n{a=|b=}\nEND");
	o.delimiter = '|';
	check_csv("pipe", "a|b\n1|2\n", &o, "{a=1|b=2}\nEND");

	struct sl_source src = {memsource_read, NULL, "t.csv"};
	const char bad[] = {'"', '\n', '\r', (char)0xc3};
	for (size_t i = 0; i < sizeof(bad); i++) {
		o.delimiter = bad[i];
		ok(sl_csv_reader_new(&src, &o) == NULL,
		   "delimiter 0x%02x is refused", (unsigned char)bad[i]);
		is_err(SL_EINVAL, "... with EINVAL");
	}
	sl_csv_opts_init(&o);
	o.chunk_size = 0;
	ok(sl_csv_reader_new(&src, &o) == NULL, "chunk_size 0 is refused");
	sl_csv_opts_init(&o);
	o.record_max = (size_t)UINT32_MAX;
	ok(sl_csv_reader_new(&src, &o) == NULL, "a 4 GiB record_max is "
	                                        "refused");
	struct sl_csv_opts d;
	sl_csv_opts_init(&d);
	ok(d.delimiter == ',' && d.chunk_size == (size_t)1 << 20 &&
	           d.record_max == (size_t)64 << 20,
	   "defaults");
}

/** The duplicates checks. */
TAP_CASE(duplicates)
{
	check_csv("duplicate header names", "a,b,a\n1,2,3\n", NULL,
	          "{a=1|b=2|a=3}\nEND");
}

/** The utf8 checks. */
TAP_CASE(utf8)
{
	check_csv("valid UTF-8",
	          "n\xc3\xa9,\xe2\x82\xac\n\xf0\x9f\x98\x80,\"\xc3\xa9\"\"\"\n",
	          NULL,
	          "{n\xc3\xa9=\xf0\x9f\x98\x80|\xe2\x82\xac=\xc3\xa9\"}\nEND");
	check_csv("invalid byte", "a,b\n1,x\xff\n", NULL,
	          "ERR EPARSE t.csv:2:4: invalid UTF-8 (sequence starting "
	          "with byte 0xff)");
	check_csv("truncated sequence before delimiter", "a,b\n\xc3,1\n", NULL,
	          "ERR EPARSE t.csv:2:1: invalid UTF-8 (sequence starting "
	          "with byte 0xc3)");
	check_csv("truncated sequence at end", "a,b\n1,\xe2\x82", NULL,
	          "ERR EPARSE t.csv:2:3: invalid UTF-8 (sequence starting "
	          "with byte 0xe2)");
	check_csv("overlong", "a\n\xc0\xaf\n", NULL,
	          "ERR EPARSE t.csv:2:1: invalid UTF-8 (sequence starting "
	          "with byte 0xc0)");
	check_csv("overlong 3-byte", "a\n\xe0\x80\xaf\n", NULL,
	          "ERR EPARSE t.csv:2:1: invalid UTF-8 (sequence starting "
	          "with byte 0xe0)");
	check_csv("surrogate", "a\n\"x\n\xed\xa0\x80\"\n", NULL,
	          "ERR EPARSE t.csv:3:1: invalid UTF-8 (sequence starting "
	          "with byte 0xed)");
	check_csv("beyond U+10FFFF", "a\nxx\xf4\x90\x80\x80\n", NULL,
	          "ERR EPARSE t.csv:2:3: invalid UTF-8 (sequence starting "
	          "with byte 0xf4)");
	check_csv("invalid UTF-8 in the header", "a,\x80\n1,2\n", NULL,
	          "ERR EPARSE t.csv:1:3: invalid UTF-8 (sequence starting "
	          "with byte 0x80)");
	check_csv("invalid UTF-8 after an ASCII run",
	          "a\n0123456789abcdef0123456789\xfe\n", NULL,
	          "ERR EPARSE t.csv:2:27: invalid UTF-8 (sequence starting "
	          "with byte 0xfe)");
}

/** The errors checks. */
TAP_CASE(errors)
{
	static struct outcome o;
	read_every_way("too few fields", "a,b,c\n1,2,3\n\n4,5\n", -1, NULL, &o);
	is_str(o.text, "{a=1|b=2|c=3}\n{a=4|b=5|c=~}\nEND",
	       "too few fields: the missing one is null (csv.DictReader)");
	is_int(o.line, 4, "... line of the short record");
	is_int(o.record, 2, "... its record number");
	check_csv("too many fields", "a,b\n1,2,3,4\n", NULL,
	          "{a=1|b=2|null=[3,4]}\nEND");
	check_csv("too many fields after a multi-line field",
	          "a\n\"x\ny\"\n1,\"2\"\"\n\"\n", NULL,
	          "{a=x\ny}\n{a=1|null=[2\"\n]}\nEND");
	check_csv("one field for three", "a,b,c\nx\n", NULL,
	          "{a=x|b=~|c=~}\nEND");

	check_csv("unterminated quote", "a,b\n1,2\n3,\"abc\ndef\n", NULL,
	          "{a=1|b=2}\nERR EPARSE t.csv:3:3: unterminated quoted "
	          "field: the input ends before its closing quote");
	check_csv("unterminated quote on a later line", "a,b\n1,\"x\ny\",\"z\n",
	          NULL,
	          "ERR EPARSE t.csv:3:4: unterminated quoted field: the "
	          "input ends before its closing quote");
	check_csv("quote in an unquoted field", "a,b\n1,ab\"c\"\n", NULL,
	          "ERR EPARSE t.csv:2:5: unexpected '\"' in an unquoted field "
	          "(expected the delimiter ',' or the end of the line; quote "
	          "the whole field and double the quotes inside it)");
	check_csv("text after a closing quote", "a,b\n1,\"ab\"c\n", NULL,
	          "ERR EPARSE t.csv:2:7: unexpected 'c' after the closing "
	          "quote of a field (expected the delimiter ',' or the end "
	          "of the line)");
	check_csv("space after a closing quote, later line",
	          "a,b\n\"x\ny\" ,1\n", NULL,
	          "ERR EPARSE t.csv:3:3: unexpected ' ' after the closing "
	          "quote of a field (expected the delimiter ',' or the end "
	          "of the line)");
	struct sl_csv_opts t;
	sl_csv_opts_init(&t);
	t.delimiter = '\t';
	check_csv("tab named in messages", "a\tb\n\"1\"x\t2\n", &t,
	          "ERR EPARSE t.csv:2:4: unexpected 'x' after the closing "
	          "quote of a field (expected the delimiter tab or the end "
	          "of the line)");
	check_csv("lone CR outside quotes", "a,b\n1,2\r3,4\n", NULL,
	          "ERR EPARSE t.csv:2:4: carriage return not followed by a "
	          "line feed outside quotes (expected the delimiter ',' or "
	          "the end of the line)");
	check_csv("lone CR at the end", "a,b\n1,2\r", NULL,
	          "ERR EPARSE t.csv:2:4: carriage return not followed by a "
	          "line feed outside quotes (expected the delimiter ',' or "
	          "the end of the line)");
	check_csv("lone CR after a closing quote", "a,b\n1,\"2\"\rx\n", NULL,
	          "ERR EPARSE t.csv:2:6: carriage return not followed by a "
	          "line feed outside quotes (expected the delimiter ',' or "
	          "the end of the line)");
	check_csv("error after BOM counts columns from the first field",
	          "\xef\xbb\xbf"
	          "a\"\n",
	          NULL,
	          "ERR EPARSE t.csv:1:2: unexpected '\"' in an unquoted field "
	          "(expected the delimiter ',' or the end of the line; quote "
	          "the whole field and double the quotes inside it)");
	check_csv("error in the header after empty lines", "\n\na,\"b\"x\n",
	          NULL,
	          "ERR EPARSE t.csv:3:6: unexpected 'x' after the closing "
	          "quote of a field (expected the delimiter ',' or the end "
	          "of the line)");

	/* The reader refuses further use after an error. */
	const char *in = "a\n\"x\n";
	struct memsource m;
	memsource_init(&m, in, strlen(in), 0);
	struct sl_source src = memsource_source(&m, "t.csv");
	struct sl_csv_reader *r = sl_csv_reader_new(&src, NULL);
	struct sl_arena a;
	sl_arena_create(&a, 1024, 1 << 20);
	struct sl_value v;
	is_int(sl_csv_next(r, &a, &v), -1, "unterminated: -1");
	is_err(SL_EPARSE, "... EPARSE");
	is_int(sl_csv_line(r), 2, "... sl_csv_line is the record's line");
	is_int(sl_csv_next(r, &a, &v), -1, "used again: -1");
	is_err(SL_EINVAL, "... EINVAL");
	sl_csv_reader_delete(r);
	sl_arena_destroy(&a);
}

/** The io error checks. */
TAP_CASE(io_error)
{
	const char *in = "a,b\n1,2\n3,4\n5,6\n";
	struct memsource m;
	memsource_init(&m, in, strlen(in), 4);
	m.fail_at = 8;
	m.fail_code = SL_ESYSTEM;
	struct sl_source src = memsource_source(&m, "io.csv");
	struct sl_csv_reader *r = sl_csv_reader_new(&src, NULL);
	struct sl_arena a;
	sl_arena_create(&a, 1024, 1 << 20);
	struct sl_value v;
	is_int(sl_csv_next(r, &a, &v), 1, "record before the I/O error");
	is_int(sl_csv_next(r, &a, &v), -1, "I/O error: -1");
	is_err(SL_EIO, "... EIO");
	struct sl_error *e = sl_diag_last();
	char buf[256];
	sl_error_format(e, buf, sizeof(buf));
	is_str(buf, "reading io.csv: disk on fire", "... message with cause");
	sl_csv_reader_delete(r);
	sl_arena_destroy(&a);
}

/** The limits checks. */
TAP_CASE(limits)
{
	struct sl_csv_opts o;
	sl_csv_opts_init(&o);
	o.record_max = 10;
	check_csv("record of exactly record_max bytes", "a,b\n0123,56789\n", &o,
	          "{a=0123|b=56789}\nEND");
	check_csv("with CRLF too", "a,b\r\n0123,56789\r\n", &o,
	          "{a=0123|b=56789}\nEND");
	check_csv("record over record_max", "a,b\n1,2\n0123,567890\n", &o,
	          "{a=1|b=2}\nERR ELIMIT record at t.csv:3 exceeds the size "
	          "cap of 10 bytes");
	check_csv("unterminated quote over record_max",
	          "a\n\"0123456789012345678901234567890123456789", &o,
	          "ERR ELIMIT record at t.csv:2 exceeds the size cap of 10 "
	          "bytes");

	/* A long record grows the buffer; the input is still one pass. */
	static char big[200016];
	static char want[200100];
	memcpy(big, "h\n\"", 3);
	size_t n = 3;
	for (int i = 0; i < 20000; i++) {
		memcpy(big + n, i % 7 == 0 ? "\"\"x\ny,z123" : "abcdefghij",
		       10);
		n += 10;
	}
	memcpy(big + n, "\"\nend\n", 6);
	n += 6;
	big[n] = '\0';
	size_t w = 0;
	memcpy(want, "{h=", 3);
	w = 3;
	for (int i = 0; i < 20000; i++) {
		const char *s = i % 7 == 0 ? "\"x\ny,z123" : "abcdefghij";
		memcpy(want + w, s, strlen(s));
		w += strlen(s);
	}
	memcpy(want + w, "}\n{h=end}\nEND", 14);
	static struct outcome out;
	struct sl_csv_opts small;
	sl_csv_opts_init(&small);
	small.chunk_size = 64;
	read_all(big, (long)n, 0, &small, &out);
	ok(strncmp(out.text, want, sizeof(out.text) - 1) == 0,
	   "200 KB quoted field through a 64-byte buffer");
	read_all(big, (long)n, 3, NULL, &out);
	ok(strncmp(out.text, want, sizeof(out.text) - 1) == 0,
	   "... and 3 bytes per read");
	is_int(out.records, 2, "... 2 records");
	is_int(out.line, 2 + 20000 / 7 + 1 + 1, "... line of the last record");

	/* A full arena is an ELIMIT error. */
	const char *in = "a,b\n1,2\n3,4\n";
	struct memsource m;
	memsource_init(&m, in, strlen(in), 0);
	struct sl_source src = memsource_source(&m, "t.csv");
	struct sl_csv_reader *r = sl_csv_reader_new(&src, NULL);
	struct sl_arena a;
	sl_arena_create(&a, 256, 16);
	struct sl_value v;
	is_int(sl_csv_next(r, &a, &v), -1, "arena cap: -1");
	is_err(SL_ELIMIT, "... ELIMIT");
	char msg[256];
	sl_error_format(sl_diag_last(), msg, sizeof(msg));
	ok(strncmp(msg, "record at t.csv:2: arena cap", 28) == 0,
	   "... naming the record: %s", msg);
	sl_csv_reader_delete(r);
	sl_arena_destroy(&a);
}

/** The lifetime checks. */
TAP_CASE(lifetime)
{
	const char *in = "k,k2\n\"v\"\"1\",w\n";
	struct memsource m;
	memsource_init(&m, in, strlen(in), 0);
	struct sl_source src = memsource_source(&m, "t.csv");
	struct sl_csv_reader *r = sl_csv_reader_new(&src, NULL);
	struct sl_arena a;
	sl_arena_create(&a, 1024, 1 << 20);
	struct sl_value v;
	is_int(sl_csv_next(r, &a, &v), 1, "record");
	sl_csv_reader_delete(r);
	ok(v.type == SL_VOBJECT && v.len == 2, "an object of 2 members");
	ok(v.u.members[0].key_len == 1 &&
	           memcmp(v.u.members[0].key, "k", 1) == 0 &&
	           v.u.members[0].val.type == SL_VSTR &&
	           v.u.members[0].val.len == 3 &&
	           memcmp(v.u.members[0].val.u.s, "v\"1", 3) == 0,
	   "first member intact after the reader is deleted");
	ok(v.u.members[1].key_len == 2 &&
	           memcmp(v.u.members[1].key, "k2", 2) == 0 &&
	           v.u.members[1].val.len == 1 &&
	           memcmp(v.u.members[1].val.u.s, "w", 1) == 0,
	   "second member intact");
	sl_arena_destroy(&a);
	sl_csv_reader_delete(NULL);
}

/** The torture checks. */
TAP_CASE(torture)
{
	/* Every rule at once, cut at every possible boundary. */
	const char *in = "\xef\xbb\xbf\"id\",name,\"no\"\"te\"\r\n"
	                 "1,\xc3\xa9t\xc3\xa9,\"a,b\r\nc\"\"d\"\r\n"
	                 "\r\n"
	                 "2,\"\",\"\xf0\x9f\x98\x80\rx\"\n"
	                 "3,,\"\"\"\"\"\"\n"
	                 "4,\"\xe2\x82\xac\",last";
	check_csv("torture", in, NULL,
	          "{id=1|name=\xc3\xa9t\xc3\xa9|no\"te=a,b\r\nc\"d}\n"
	          "{id=2|name=|no\"te=\xf0\x9f\x98\x80\rx}\n"
	          "{id=3|name=|no\"te=\"\"}\n"
	          "{id=4|name=\xe2\x82\xac|no\"te=last}\nEND");
	static struct outcome o;
	for (size_t cut = 1; cut < strlen(in); cut++) {
		/* A prefix is either valid or fails; it never crashes. */
		read_all(in, (long)cut, 1, NULL, &o);
	}
	ok(1, "every prefix of the torture input read 1 byte at a time");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
