/*
 * Tests of line blocks (sl_reader_next_block(), sl_line_block_parse() in
 * sluice/records.h): reading an input in blocks of every size and parsing
 * each line gives the records, errors and line numbers of the serial
 * reader (sl_reader_next()), the same final error, and two threads parsing
 * one block at once get the same results.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compress_fixtures.h"
#include "memsource.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/json.h"
#include "sluice/records.h"
#include "unit.h"

/** One input of the differential test. */
struct input {
	/** Its name in test names. */
	const char *name;
	/** The (uncompressed) bytes. */
	const char *data;
	/** Bytes of `data`. */
	size_t len;
	/** Record size cap (0: the default). */
	size_t record_max;
	/** Compression applied before reading. */
	enum sl_compression comp;
	/** Keep only this share of the compressed bytes, in percent (0: all).
	 */
	int keep_pct;
	/** The plain source fails once this many bytes are read (0: never). */
	size_t fail_at;
	/** Text the serial log must contain: the input tests what it claims. */
	const char *expect;
};

/** A reader over `in`, its bytes prepared in `bytes`, reading `m`. */
static struct sl_reader *
open_input(const struct input *in, struct sl_buf *bytes, struct memsource *m,
           struct sl_source *src)
{
	sl_buf_create(bytes, (size_t)64 << 20);
	if (fx_compress(in->comp, in->data, in->len, bytes) != 0)
		bail_out("cannot compress %s", in->name);
	size_t len = bytes->len;
	if (in->keep_pct > 0)
		len = len * (size_t)in->keep_pct / 100;
	memsource_init(m, len > 0 ? bytes->data : NULL, len, 7);
	if (in->fail_at > 0)
		m->fail_at = in->fail_at;
	*src = memsource_source(m, "in.jsonl");
	struct sl_reader_opts o;
	sl_reader_opts_init(&o);
	o.chunk_size = 16;
	if (in->record_max > 0)
		o.record_max = in->record_max;
	struct sl_reader *r = sl_reader_new(src, SL_FORMAT_JSONL, in->comp, &o);
	if (r == NULL)
		bail_out("cannot open %s: %s", in->name, unit_errmsg());
	return r;
}

/** Append the current error (code, message and causes) to `log`. */
static void
log_error(struct sl_buf *log)
{
	char msg[2048];
	struct sl_error *e = sl_diag_last();
	if (e == NULL) {
		sl_buf_puts(log, "(no error)");
		return;
	}
	sl_error_format(e, msg, sizeof(msg));
	sl_buf_printf(log, "%s %s", sl_errcode_name(e->code), msg);
}

/** Append line `no`'s outcome, rc of a parse, to `log`. */
static void
log_record(struct sl_buf *log, int rc, uint64_t no, const struct sl_value *v)
{
	sl_buf_printf(log, "%" PRIu64 " ", no);
	if (rc == 1) {
		if (sl_json_write(log, v, SL_JSON_CANONICAL) != 0)
			sl_buf_puts(log, "(unwritable)");
	} else {
		log_error(log);
	}
	sl_buf_puts(log, "\n");
}

/** Read `in` with sl_reader_next(), skipping what can be skipped. */
static void
serial_log(const struct input *in, struct sl_buf *log)
{
	struct sl_buf bytes;
	struct memsource m;
	struct sl_source src;
	struct sl_reader *r = open_input(in, &bytes, &m, &src);
	struct sl_arena a;
	sl_arena_create(&a, 4096, (size_t)64 << 20);
	sl_buf_create(log, (size_t)64 << 20);
	for (;;) {
		struct sl_value v;
		sl_arena_reset(&a);
		int rc = sl_reader_next(r, &a, &v);
		if (rc == 0) {
			sl_buf_puts(log, "end\n");
			break;
		}
		if (rc < 0 && !sl_reader_can_skip(r)) {
			sl_buf_printf(log, "fail after %" PRIu64 ": ",
			              sl_reader_line(r));
			log_error(log);
			sl_buf_puts(log, "\n");
			break;
		}
		log_record(log, rc, sl_reader_line(r), &v);
	}
	sl_diag_clear(sl_diag_get());
	sl_arena_destroy(&a);
	sl_reader_delete(r);
	sl_buf_destroy(&bytes);
}

/** Blocks that break the size rules, counted by block_log(). */
static unsigned bad_blocks;

/**
 * Read `in` in blocks of at most `max_lines` lines and about `max_bytes`
 * bytes, parsing each line; checks the blocks' shape (bad_blocks) and that
 * a reader that failed stays dead.
 */
static void
block_log(const struct input *in, uint32_t max_lines, size_t max_bytes,
          struct sl_buf *log)
{
	struct sl_buf bytes;
	struct memsource m;
	struct sl_source src;
	struct sl_reader *r = open_input(in, &bytes, &m, &src);
	struct sl_line_parser *p = sl_line_parser_new();
	struct sl_line_block b;
	memset(&b, 0, sizeof(b));
	struct sl_arena a;
	sl_arena_create(&a, 4096, (size_t)64 << 20);
	sl_buf_create(log, (size_t)64 << 20);
	if (!sl_reader_blocks(r) || p == NULL)
		bad_blocks++;
	for (;;) {
		int rc = sl_reader_next_block(r, &b, max_lines, max_bytes);
		if (rc == 0) {
			sl_buf_puts(log, "end\n");
			if (b.n != 0)
				bad_blocks++;
			break;
		}
		if (rc < 0) {
			sl_buf_printf(log, "fail after %" PRIu64 ": ",
			              sl_reader_line(r));
			log_error(log);
			sl_buf_puts(log, "\n");
			/* Dead: no skipping, and later calls fail. */
			if (sl_reader_can_skip(r) || b.n != 0 ||
			    sl_reader_next_block(r, &b, 1, 1) != -1 ||
			    sl_diag_code() != SL_EINVAL)
				bad_blocks++;
			break;
		}
		if (b.n == 0 || b.n > max_lines ||
		    (b.n > 1 && b.len - b.lines[b.n - 1].len >= max_bytes) ||
		    sl_reader_line(r) != b.lines[b.n - 1].no ||
		    strcmp(b.name, "in.jsonl") != 0)
			bad_blocks++;
		for (uint32_t i = 0; i < b.n; i++) {
			struct sl_value v;
			sl_arena_reset(&a);
			rc = sl_line_block_parse(p, &b, i, &a, &v);
			log_record(log, rc, b.lines[i].no, &v);
		}
	}
	sl_diag_clear(sl_diag_get());
	sl_line_block_destroy(&b);
	if (b.data != NULL || b.lines != NULL || b.n != 0)
		bad_blocks++;
	sl_line_parser_delete(p);
	sl_arena_destroy(&a);
	sl_reader_delete(r);
	sl_buf_destroy(&bytes);
}

/** A NUL-terminated copy of a log's text. */
static const char *
log_text(struct sl_buf *log)
{
	sl_buf_append(log, "", 1);
	log->len--;
	return log->data;
}

/** Lines: good and bad JSON, blanks, CRLF, no final newline. */
static const char mixed[] = "{\"a\":1}\n"
                            "[1,2,3]\r\n"
                            "\n"
                            "   \t \r\n"
                            "{\"b\":\n"
                            "\"str\"\n"
                            "{\"c\":[true,false,null],\"a\":0}\r\n"
                            "  {\"d\": 2.5e3 }  \n"
                            "\r\n"
                            "{bad}\n"
                            "[1,2\n"
                            "nul\n"
                            "{\"z\":{\"y\":[{},[]]}}\n"
                            "42";

/** Strings and numbers that need care. */
static const char strings[] = "\"a\\u0000b\"\n"
                              "{\"k\\u0000\":1}\n"
                              "\"\xff\"\n"
                              "\"ok \xc3\xa9\"\n"
                              "\"cut \xc3\"\n"
                              "\"\xed\xa0\x80\"\n"
                              "1e400\n"
                              "[-1e400,1e-400]\n"
                              "\"\\ud83d\\ude00\"\n"
                              "\"\\udc00\"\n"
                              "\"tab\there\"\n"
                              "NaN\n"
                              "\"\\u12\"\n"
                              "01\n";

/** Line 2 is 51 bytes, 4 is 200, 5 is 51 spaces, the last 80 bytes. */
static char toolong[1024];

/** 512 deep (fits), then 513 deep (does not). */
static char deep[4096];

/** 300 records with a bad one every 37 lines. */
static char many[32768];

/** Fill the generated inputs. */
static void
make_inputs(void)
{
	char *o = toolong;
	o += sprintf(o, "{\"x\":1}\n\"%049d\"\n", 0);
	o += sprintf(o, "{\"s\":\"%050d\"}\n", 0);
	o += sprintf(o, "[\"%0196d\"]\r\n", 0);
	o += sprintf(o, "%51s\n", "");
	o += sprintf(o, "\"%048d\"\r\n", 7);
	o += sprintf(o, "{\"y\":2}\n[\"%076d\"]", 0);

	o = deep;
	for (int d = 512; d <= 513; d++) {
		for (int i = 0; i < d; i++)
			*o++ = '[';
		for (int i = 0; i < d; i++)
			*o++ = ']';
		*o++ = '\n';
	}
	o += sprintf(o, "{\"after\":true}\n");

	o = many;
	for (int i = 1; i <= 300; i++) {
		if (i % 37 == 0)
			o += sprintf(o, "{\"i\":%d,}\n", i);
		else
			o += sprintf(o, "{\"i\":%d,\"s\":\"line %d\"}\n", i,
			             i * 7);
	}
}

/** The differential test's inputs. */
static struct input inputs[16];
/** Entries of `inputs`. */
static int n_inputs;

/** Set up `inputs`. */
static void
add_inputs(void)
{
	make_inputs();
	struct input all[] = {
	        {"mixed", mixed, sizeof(mixed) - 1, 0, SL_COMPRESSION_NONE, 0,
	         0, "in.jsonl:11:"},
	        {"empty", "", 0, 0, SL_COMPRESSION_NONE, 0, 0, "end"},
	        {"blank", "\n  \r\n\t\n \n", 8, 0, SL_COMPRESSION_NONE, 0, 0,
	         "end"},
	        {"toolong", toolong, 0, 50, SL_COMPRESSION_NONE, 0, 0,
	         "record at in.jsonl:4 exceeds the size cap of 50 bytes"},
	        {"deep", deep, 0, 0, SL_COMPRESSION_NONE, 0, 0,
	         "nesting is deeper than the limit of 512"},
	        {"strings", strings, sizeof(strings) - 1, 0,
	         SL_COMPRESSION_NONE, 0, 0, "invalid UTF-8"},
	        {"many", many, 0, 0, SL_COMPRESSION_NONE, 0, 0, "300 {"},
	        {"many.gz", many, 0, 0, SL_COMPRESSION_GZIP, 0, 0, "300 {"},
	        {"truncated.gz", many, 0, 0, SL_COMPRESSION_GZIP, 50, 0,
	         "truncated gzip data"},
	        {"mixed.gz", mixed, sizeof(mixed) - 1, 0, SL_COMPRESSION_GZIP,
	         0, 0, "14 42"},
	        {"failing", many, 0, 0, SL_COMPRESSION_NONE, 0, 5000,
	         "disk on fire"},
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++) {
		if (all[i].len == 0)
			all[i].len = strlen(all[i].data);
		inputs[n_inputs++] = all[i];
	}
}

/** Blocks of every size give what the serial reader gives. */
TAP_CASE(differential)
{
	static const uint32_t lines[] = {1, 2, 3, 7, 1000};
	static const size_t sizes[] = {1, 10, 100, (size_t)1 << 20};
	add_inputs();
	for (int k = 0; k < n_inputs; k++) {
		const struct input *in = &inputs[k];
		struct sl_buf want;
		serial_log(in, &want);
		const char *w = log_text(&want);
		if (!ok(strstr(w, in->expect) != NULL,
		        "%s: the serial reader gives \"%s\"", in->name,
		        in->expect))
			note("serial log:\n%s", w);
		int same = 0, total = 0;
		for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
			for (size_t j = 0; j < sizeof(sizes) / sizeof(*sizes);
			     j++) {
				struct sl_buf got;
				block_log(in, lines[i], sizes[j], &got);
				total++;
				if (strcmp(log_text(&got), w) == 0)
					same++;
				else
					is_str(log_text(&got), w,
					       "%s: lines %u bytes %zu",
					       in->name, (unsigned)lines[i],
					       sizes[j]);
				sl_buf_destroy(&got);
			}
		}
		is_int(same, total,
		       "%s: every block size gives the serial "
		       "records, errors and lines",
		       in->name);
		sl_buf_destroy(&want);
	}
	is_int(bad_blocks, 0, "blocks keep their size limits and line count");
}

/** Blocks of 3 lines at most hold the right lines. */
TAP_CASE(block_shape)
{
	const char *text = "1\n\n2\r\n  \n3\n4\n[5]";
	struct memsource m;
	memsource_init(&m, text, strlen(text), 0);
	struct sl_source src = memsource_source(&m, NULL);
	struct sl_reader *r =
	        sl_reader_new(&src, SL_FORMAT_JSONL, SL_COMPRESSION_NONE, NULL);
	struct sl_line_block b = {0};
	is_int(sl_reader_next_block(r, &b, 3, 1 << 20), 1, "first block");
	is_int(b.n, 3, "three lines");
	ok(b.n == 3 && b.lines[0].no == 1 && b.lines[1].no == 3 &&
	           b.lines[2].no == 5,
	   "lines 1, 3 and 5 (blank lines left out)");
	ok(b.n == 3 && b.lines[1].len == 1 && b.data[b.lines[1].off] == '2',
	   "line 3 without its CRLF");
	is_str(b.name, "(input)", "an unnamed source's name");
	is_int(sl_reader_line(r), 5, "reader at line 5");
	is_int(sl_reader_next_block(r, &b, 3, 2), 1, "second block");
	is_int(b.n, 2, "stops once 2 bytes are in");
	ok(b.n == 2 && b.len == 4 && b.lines[1].len == 3 &&
	           memcmp(b.data + b.lines[1].off, "[5]", 3) == 0,
	   "last line without a newline");
	is_int(sl_reader_next_block(r, &b, 3, 2), 0, "then the end");
	is_int(b.n, 0, "an empty block at the end");
	sl_line_block_destroy(&b);
	sl_reader_delete(r);

	memsource_init(&m, "a,b\n1,2\n", 8, 0);
	r = sl_reader_new(&src, SL_FORMAT_CSV, SL_COMPRESSION_NONE, NULL);
	ok(!sl_reader_blocks(r), "CSV does not come in blocks");
	is_int(sl_reader_next_block(r, &b, 3, 2), -1, "blocks of CSV fail");
	is_err(SL_EINVAL, "with SL_EINVAL");
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value v;
	is_int(sl_reader_next(r, &a, &v), 1, "the CSV reader still works");
	sl_arena_destroy(&a);
	sl_line_block_destroy(&b);
	sl_reader_delete(r);
	sl_diag_clear(sl_diag_get());
}

/**
 * The error that ends the input comes after the lines read before it, also
 * to sl_reader_next(), and a reader deleted before it came frees it.
 */
TAP_CASE(error_after_lines)
{
	const char *text = "1\n2\n3\n4\n";
	struct memsource m;
	struct sl_source src = memsource_source(&m, "f.jsonl");
	struct sl_line_block b = {0};
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value v;
	for (int use_next = 0; use_next < 3; use_next++) {
		memsource_init(&m, text, strlen(text), 3);
		m.fail_at = 6;
		struct sl_reader *r = sl_reader_new(&src, SL_FORMAT_JSONL,
		                                    SL_COMPRESSION_NONE, NULL);
		is_int(sl_reader_next_block(r, &b, 100, 1 << 20), 1,
		       "the lines before the failure come first");
		ok(b.n == 3 && b.lines[2].no == 3, "lines 1 to 3");
		is_int(sl_reader_line(r), 3, "reader at line 3");
		if (use_next == 2) {
			/* Deleted with the error held back. */
			sl_reader_delete(r);
			continue;
		}
		int rc = use_next ? sl_reader_next(r, &a, &v)
		                  : sl_reader_next_block(r, &b, 100, 1 << 20);
		is_int(rc, -1, "then the error (%s)",
		       use_next ? "sl_reader_next" : "sl_reader_next_block");
		ok(strstr(unit_errmsg(), "f.jsonl") != NULL &&
		           sl_diag_last()->cause != NULL &&
		           strcmp(sl_diag_last()->cause->msg, "disk on fire") ==
		                   0,
		   "the source's error, wrapped");
		ok(!sl_reader_can_skip(r), "that cannot be skipped");
		is_int(sl_reader_line(r), 3, "reader still at line 3");
		is_int(sl_reader_next_block(r, &b, 100, 1 << 20), -1,
		       "the reader is dead");
		is_err(SL_EINVAL, "SL_EINVAL after that");
		sl_reader_delete(r);
	}
	sl_arena_destroy(&a);
	sl_line_block_destroy(&b);
	sl_diag_clear(sl_diag_get());
}

/** What one thread does: parse every line of a block `rounds` times. */
struct job {
	/** The block, shared. */
	const struct sl_line_block *b;
	/** Times to parse it. */
	int rounds;
	/** The log of the first round. */
	struct sl_buf log;
	/** Rounds whose log differed from the first. */
	int differ;
};

/** Parse the job's block with a parser and arena of this thread. */
static void *
parse_job(void *arg)
{
	struct job *j = arg;
	struct sl_line_parser *p = sl_line_parser_new();
	struct sl_arena a;
	sl_arena_create(&a, 4096, (size_t)64 << 20);
	struct sl_buf round;
	sl_buf_create(&j->log, (size_t)64 << 20);
	sl_buf_create(&round, (size_t)64 << 20);
	for (int k = 0; k < j->rounds; k++) {
		struct sl_buf *out = k == 0 ? &j->log : &round;
		sl_buf_reset(out);
		for (uint32_t i = 0; i < j->b->n; i++) {
			struct sl_value v;
			sl_arena_reset(&a);
			int rc = sl_line_block_parse(p, j->b, i, &a, &v);
			log_record(out, rc, j->b->lines[i].no, &v);
		}
		if (k > 0 && (round.len != j->log.len ||
		              memcmp(round.data, j->log.data, round.len) != 0))
			j->differ++;
	}
	sl_buf_destroy(&round);
	sl_arena_destroy(&a);
	sl_line_parser_delete(p);
	sl_diag_clear(sl_diag_get());
	return NULL;
}

/** Two threads parsing one block at once get the same results. */
TAP_CASE(threads)
{
	struct sl_buf text;
	sl_buf_create(&text, 1 << 20);
	sl_buf_append(&text, mixed, sizeof(mixed) - 1);
	sl_buf_puts(&text, "\n");
	sl_buf_append(&text, strings, sizeof(strings) - 1);
	make_inputs();
	sl_buf_puts(&text, deep);
	struct memsource m;
	memsource_init(&m, text.data, text.len, 0);
	struct sl_source src = memsource_source(&m, "t.jsonl");
	struct sl_reader *r =
	        sl_reader_new(&src, SL_FORMAT_JSONL, SL_COMPRESSION_NONE, NULL);
	struct sl_line_block b = {0};
	is_int(sl_reader_next_block(r, &b, 1000, (size_t)1 << 20), 1,
	       "one block of every line");
	is_int(b.n, 28, "28 lines that are not blank");

	struct job jobs[2];
	pthread_t t[2];
	int started = 0;
	for (int i = 0; i < 2; i++) {
		jobs[i] = (struct job){.b = &b, .rounds = 50};
		if (pthread_create(&t[i], NULL, parse_job, &jobs[i]) == 0)
			started++;
	}
	is_int(started, 2, "two threads started");
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	if (started == 2) {
		ok(jobs[0].log.len > 0 && jobs[0].log.len == jobs[1].log.len &&
		           memcmp(jobs[0].log.data, jobs[1].log.data,
		                  jobs[0].log.len) == 0,
		   "both threads got the same records and errors");
		is_int(jobs[0].differ + jobs[1].differ, 0,
		       "every round gave the same results");
		ok(strstr(log_text(&jobs[0].log),
		          "t.jsonl:10:2: expected a string key") != NULL &&
		           strstr(log_text(&jobs[0].log),
		                  "nesting is deeper") != NULL,
		   "the results hold the errors");
		/* The main thread's parse agrees with the workers'. */
		struct job mine = {.b = &b, .rounds = 1};
		parse_job(&mine);
		ok(mine.log.len == jobs[0].log.len &&
		           memcmp(mine.log.data, jobs[0].log.data,
		                  mine.log.len) == 0,
		   "one thread alone gets the same");
		sl_buf_destroy(&mine.log);
	}
	for (int i = 0; i < started; i++)
		sl_buf_destroy(&jobs[i].log);
	sl_line_block_destroy(&b);
	sl_reader_delete(r);
	sl_buf_destroy(&text);
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
