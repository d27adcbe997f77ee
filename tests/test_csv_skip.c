/*
 * Tests of going on after a CSV error (sl_csv_can_continue()): a bad row
 * is dropped and the next row comes; errors that end the input refuse
 * further use.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/csv.h"
#include "memsource.h"
#include "text.h"
#include "unit.h"

/** A transcript of reading an input to its end or a fatal error. */
struct transcript {
	/** Records "{k=v|...}", errors "ERR@line CODE msg", then END/DEAD. */
	char text[16384];
	/** Records read. */
	int records;
	/** Errors the reader went on after. */
	int skipped;
};

/** Append `n` bytes of `s` to the transcript. */
static void
tr_add(struct transcript *t, const char *s, size_t n)
{
	fixed_add(t->text, sizeof(t->text), s, n);
}

/**
 * Read `input` (`len` bytes) `step` bytes per source read with `opts`
 * into `t`, going on after every error the reader can continue after.
 * `arena_cap` bounds the arena. After a fatal error, checks that the next
 * call fails with SL_EINVAL.
 */
static void
read_skipping(const char *input, size_t len, size_t step, size_t fail_at,
              const struct sl_csv_opts *opts, size_t arena_cap,
              struct transcript *t)
{
	memset(t, 0, sizeof(*t));
	struct memsource m;
	memsource_init(&m, input, len, step);
	if (fail_at != 0)
		m.fail_at = fail_at;
	m.fail_code = SL_ESYSTEM;
	struct sl_source src = memsource_source(&m, "s.csv");
	struct sl_csv_reader *r = sl_csv_reader_new(&src, opts);
	if (r == NULL) {
		tr_add(t, "NEW FAILED", 10);
		return;
	}
	struct sl_arena arena;
	sl_arena_create(&arena, 256, arena_cap);
	struct sl_value v;
	char buf[700];
	for (int guard = 0; guard < 1000; guard++) {
		int rc = sl_csv_next(r, &arena, &v);
		if (rc == 0) {
			tr_add(t, "END", 3);
			break;
		}
		if (rc == 1) {
			t->records++;
			fixed_add_record(t->text, sizeof(t->text), &v);
			sl_arena_reset(&arena);
			continue;
		}
		snprintf(buf, sizeof(buf), "ERR@%llu %s %s\n",
		         (unsigned long long)sl_csv_line(r),
		         sl_errcode_name(sl_diag_code()), unit_errmsg());
		tr_add(t, buf, strlen(buf));
		if (sl_csv_can_continue(r)) {
			t->skipped++;
			continue;
		}
		tr_add(t, "DEAD", 4);
		if (sl_csv_next(r, &arena, &v) != -1 ||
		    sl_diag_code() != SL_EINVAL)
			tr_add(t, " BUT-USABLE", 11);
		break;
	}
	sl_csv_reader_delete(r);
	sl_arena_destroy(&arena);
}

/**
 * Read `input` 1 byte, 7 bytes and all at a time, with buffers of 1, 7
 * and the default chunk size; all must agree with `want`.
 */
static void
check_skip(const char *name, const char *input, size_t record_max,
           const char *want)
{
	static struct transcript t;
	size_t steps[] = {0, 1, 7};
	size_t chunks[] = {(size_t)1 << 20, 1, 7};
	int bad = 0;
	for (size_t i = 0; i < 3; i++) {
		for (size_t j = 0; j < 3; j++) {
			struct sl_csv_opts o;
			sl_csv_opts_init(&o);
			o.chunk_size = chunks[j];
			if (record_max != 0)
				o.record_max = record_max;
			read_skipping(input, strlen(input), steps[i], 0, &o,
			              (size_t)1 << 20, &t);
			if (strcmp(t.text, want) != 0 && bad++ == 0)
				note("step %zu chunk %zu:\n%s", steps[i],
				     chunks[j], t.text);
		}
	}
	if (!ok(bad == 0, "%s: all ways agree with the expected transcript",
	        name))
		note("expected:\n%s", want);
}

/** The record errors checks. */
TAP_CASE(record_errors)
{
	check_skip("too few fields: null (no error)", "a,b\n1,2\n3\n4,5\n", 0,
	           "{a=1|b=2}\n"
	           "{a=3|b=~}\n"
	           "{a=4|b=5}\n"
	           "END");
	check_skip("too many fields, then the last line without LF",
	           "a,b\r\n1,2,3\r\n4,5", 0,
	           "{a=1|b=2|null=[3]}\n"
	           "{a=4|b=5}\n"
	           "END");
	check_skip("invalid UTF-8", "a\nx\xff\n\"y\n\xc3\"\nz\n", 0,
	           "ERR@2 EPARSE s.csv:2:2: invalid UTF-8 (sequence "
	           "starting with byte 0xff)\n"
	           "ERR@3 EPARSE s.csv:4:1: invalid UTF-8 (sequence "
	           "starting with byte 0xc3)\n"
	           "{a=z}\n"
	           "END");
	check_skip("record just over the cap (dropped whole)",
	           "a\n12345\n1234\n", 4,
	           "ERR@2 ELIMIT record at s.csv:2 exceeds the size cap of "
	           "4 bytes\n"
	           "{a=1234}\n"
	           "END");
	check_skip("long record streamed past (quoted line feeds counted)",
	           "a,b\n\"1\n2\n\"\"3\n4,5\",xxxxxxxxxxxxxxxxxxxxxxxx\n"
	           "c,d\ne\n",
	           6,
	           "ERR@2 ELIMIT record at s.csv:2 exceeds the size cap of "
	           "6 bytes\n"
	           "{a=c|b=d}\n"
	           "{a=e|b=~}\n"
	           "END");
	check_skip("long last record without a line end", "a\nb\n12345678", 4,
	           "{a=b}\n"
	           "ERR@3 ELIMIT record at s.csv:3 exceeds the size cap of "
	           "4 bytes\n"
	           "END");
	check_skip("stray quote in an unquoted field", "a,b\nx\"y,1\n2,3\n", 0,
	           "ERR@2 EPARSE s.csv:2:2: unexpected '\"' in an unquoted "
	           "field (expected the delimiter ',' or the end of the "
	           "line; quote the whole field and double the quotes "
	           "inside it)\n"
	           "{a=2|b=3}\n"
	           "END");
	check_skip("text after a closing quote, quoted LF after it",
	           "a,b\n\"x\"y,\"1\n2\"\n2,3\n", 0,
	           "ERR@2 EPARSE s.csv:2:4: unexpected 'y' after the closing "
	           "quote of a field (expected the delimiter ',' or the end "
	           "of the line)\n"
	           "{a=2|b=3}\n"
	           "END");
	check_skip("lone CR", "a,b\nx\ry,1\n2,3\n", 0,
	           "ERR@2 EPARSE s.csv:2:2: carriage return not followed by "
	           "a line feed outside quotes (expected the delimiter ',' "
	           "or the end of the line)\n"
	           "{a=2|b=3}\n"
	           "END");
	check_skip("several bad rows in a row", "a\n\xfe\n\xfd\n\"x\"y\n5\n", 0,
	           "ERR@2 EPARSE s.csv:2:1: invalid UTF-8 (sequence "
	           "starting with byte 0xfe)\n"
	           "ERR@3 EPARSE s.csv:3:1: invalid UTF-8 (sequence "
	           "starting with byte 0xfd)\n"
	           "ERR@4 EPARSE s.csv:4:4: unexpected 'y' after the closing "
	           "quote of a field (expected the delimiter ',' or the end "
	           "of the line)\n"
	           "{a=5}\n"
	           "END");
}

/** The fatal errors checks. */
TAP_CASE(fatal_errors)
{
	check_skip("unterminated quote at the end", "a\n1\n\"x\n", 0,
	           "{a=1}\n"
	           "ERR@3 EPARSE s.csv:3:1: unterminated quoted field: the "
	           "input ends before its closing quote\n"
	           "DEAD");
	check_skip("long record then the end inside its quotes",
	           "a\n\"xxxxxxxxxxxx\nyy", 4,
	           "ERR@2 ELIMIT record at s.csv:2 exceeds the size cap of "
	           "4 bytes\n"
	           "ERR@2 EPARSE s.csv:2:1: unterminated quoted field: the "
	           "input ends before its closing quote\n"
	           "DEAD");
	check_skip("bad header", "a,\"b\"x\n1,2\n", 0,
	           "ERR@1 EPARSE s.csv:1:6: unexpected 'x' after the closing "
	           "quote of a field (expected the delimiter ',' or the end "
	           "of the line)\n"
	           "DEAD");
	check_skip("header over the cap", "abcdefgh\n1\n", 4,
	           "ERR@1 ELIMIT record at s.csv:1 exceeds the size cap of "
	           "4 bytes\n"
	           "DEAD");
	check_skip("header with invalid UTF-8", "a\xff\n1\n", 0,
	           "ERR@1 EPARSE s.csv:1:2: invalid UTF-8 (sequence "
	           "starting with byte 0xff)\n"
	           "DEAD");

	/* A source error, also one met while skipping a long record. */
	static struct transcript t;
	const char *in = "a\n1\n2\n3\n";
	read_skipping(in, strlen(in), 1, 5, NULL, (size_t)1 << 20, &t);
	is_str(t.text,
	       "{a=1}\n"
	       "ERR@3 EIO reading s.csv\n"
	       "DEAD",
	       "source error ends the input");
	struct sl_csv_opts o;
	sl_csv_opts_init(&o);
	o.record_max = 4;
	o.chunk_size = 2;
	in = "a\n123456789\n2\n";
	read_skipping(in, strlen(in), 1, 9, &o, (size_t)1 << 20, &t);
	is_str(t.text,
	       "ERR@2 ELIMIT record at s.csv:2 exceeds the size cap of 4 "
	       "bytes\n"
	       "ERR@2 EIO reading s.csv\n"
	       "DEAD",
	       "source error while skipping ends the input");
}

/** A record too big for the arena is dropped; the next one comes. */
TAP_CASE(arena_full)
{
	static char in[4096];
	static struct transcript t;
	strcpy(in, "a\n");
	memset(in + 2, 'x', 3000);
	strcpy(in + 3002, "\nok\n");
	read_skipping(in, strlen(in), 0, 0, NULL, 1024, &t);
	const char *want = "ERR@2 ELIMIT record at s.csv:2\n";
	ok(strncmp(t.text, want, strlen(want)) == 0,
	   "arena full: ELIMIT naming the record");
	ok(strstr(t.text, "{a=ok}\nEND") != NULL, "... then the next record");
	is_int(t.skipped, 1, "... one error skipped");
}

/**
 * A row of 8 MB over a 1 KiB cap streams past in 4 KiB reads (the buffer
 * never grows past the cap), and the row after it comes.
 */
TAP_CASE(huge_row)
{
	size_t big = (size_t)8 << 20;
	char *in = sl_malloc(big + 64);
	strcpy(in, "a,b\n");
	memset(in + 4, 'y', big);
	strcpy(in + 4 + big, ",z\n1,2\n");
	struct sl_csv_opts o;
	sl_csv_opts_init(&o);
	o.record_max = 1024;
	o.chunk_size = 4096;
	struct memsource m;
	memsource_init(&m, in, strlen(in), 0);
	struct sl_source src = memsource_source(&m, "big.csv");
	struct sl_csv_reader *r = sl_csv_reader_new(&src, &o);
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, 1 << 20);
	struct sl_value v;
	is_int(sl_csv_next(r, &arena, &v), -1, "8 MB row: -1");
	is_err(SL_ELIMIT, "... ELIMIT");
	ok(sl_csv_can_continue(r), "... can continue");
	is_int(sl_csv_next(r, &arena, &v), 1, "... next row read");
	ok(v.len == 2 && v.u.members[0].val.len == 1 &&
	           v.u.members[0].val.u.s[0] == '1',
	   "... it is the row after the long one");
	is_int(sl_csv_line(r), 3, "... on line 3");
	is_int(sl_csv_record(r), 2, "... record 2");
	is_int(sl_csv_next(r, &arena, &v), 0, "... then the end");
	sl_csv_reader_delete(r);
	sl_arena_destroy(&arena);
	sl_free(in);
}

/**
 * Extra fields are kept up to SL_CSV_EXTRA_MAX; a row with one more is an
 * SL_ELIMIT error for that row alone, and the reader goes on.
 */
TAP_CASE(extra_fields_cap)
{
	size_t n = SL_CSV_EXTRA_MAX;
	char *in = sl_malloc(2 * n + 64);
	char *p = in;
	p += sprintf(p, "a\n");
	for (size_t i = 0; i <= n; i++)
		*p++ = i == 0 ? '0' : ',';
	*p++ = '\n';
	for (size_t i = 0; i <= n + 1; i++)
		*p++ = i == 0 ? '1' : ',';
	strcpy(p, "\n2\n");
	struct memsource m;
	memsource_init(&m, in, strlen(in), 0);
	struct sl_source src = memsource_source(&m, "wide.csv");
	struct sl_csv_reader *r = sl_csv_reader_new(&src, NULL);
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, (size_t)256 << 20);
	struct sl_value v;
	is_int(sl_csv_next(r, &arena, &v), 1, "SL_CSV_EXTRA_MAX extras: read");
	ok(v.len == 2 && v.u.members[1].val.type == SL_VARRAY &&
	           v.u.members[1].val.len == n,
	   "... all of them under \"null\"");
	is_int(sl_csv_next(r, &arena, &v), -1, "one more: -1");
	is_err(SL_ELIMIT, "... ELIMIT");
	ok(strstr(unit_errmsg(), "wide.csv:3: 1048578 fields, more than "
	                         "1048576 beyond the header's 1") != NULL,
	   "... saying so (%s)", unit_errmsg());
	ok(sl_csv_can_continue(r), "... can continue");
	is_int(sl_csv_next(r, &arena, &v), 1, "... the next row");
	ok(v.len == 1 && v.u.members[0].val.u.s[0] == '2', "... is 2");
	sl_csv_reader_delete(r);
	sl_arena_destroy(&arena);
	sl_free(in);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
