/*
 * Tests of the record readers (sluice/records.h) on real files in a
 * temporary directory: every format through every compression and chunk
 * size, going on after bad records, errors that end the input, names and
 * suffixes, a 20 MB input, and allocation failures.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress_fixtures.h"
#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/json.h"
#include "sluice/records.h"
#include "unit.h"

/** The temporary directory. */
static char tmpdir[64];
/** Files written, removed at the end. */
static char *written[256];
/** Entries of `written`. */
static int n_written;

static const enum sl_compression comps[] = {
        SL_COMPRESSION_NONE, SL_COMPRESSION_GZIP, SL_COMPRESSION_ZSTD,
        SL_COMPRESSION_BZIP2};

/**
 * Write `data` compressed with `c` as tmpdir/`name` + the compression's
 * suffix; returns the path (static storage until the end) or NULL.
 */
static const char *
put_file(const char *name, const char *data, size_t n, enum sl_compression c)
{
	struct sl_buf b;
	sl_buf_create(&b, (size_t)256 << 20);
	char path[256];
	snprintf(path, sizeof(path), "%s/%s%s", tmpdir, name, fx_suffix(c));
	if (fx_compress(c, data, n, &b) != 0 ||
	    fx_write(path, b.data != NULL ? b.data : "", b.len) != 0 ||
	    n_written == 256) {
		sl_buf_destroy(&b);
		return NULL;
	}
	sl_buf_destroy(&b);
	for (int i = 0; i < n_written; i++)
		if (strcmp(written[i], path) == 0)
			return written[i];
	written[n_written] = strdup(path);
	return written[n_written++];
}

/** Size of the file at `path`, or -1. */
static long
file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

/** What reading a file gave. */
struct run {
	/** Canonical JSON records, "ERR@line CODE skip|end: msg" lines. */
	struct sl_buf text;
	/** Records read. */
	long records;
	/** Errors gone on after. */
	long skipped;
	/** 0: reached the end; -1: an error ended it; -2: open failed. */
	int rc;
	/** sl_reader_bytes_in() at the end. */
	uint64_t bytes_in;
	/** FNV-1a hash of the records' canonical JSON. */
	uint64_t hash;
};

/**
 * Open `path` with `opts` and read it to the end, going on after errors
 * sl_reader_can_skip() allows. With `keep` the records' JSON goes to
 * r->text, otherwise only into the hash. After an error that ends the
 * input, a further call must fail with SL_EINVAL ("DEAD-BUT-USABLE" is
 * noted otherwise).
 */
static void
read_path(const char *path, const struct sl_reader_opts *opts, bool keep,
          struct run *r)
{
	sl_buf_create(&r->text, (size_t)64 << 20);
	r->records = r->skipped = 0;
	r->rc = 0;
	r->bytes_in = 0;
	r->hash = UINT64_C(14695981039346656037);
	struct sl_reader *rd = sl_reader_open(path, opts);
	if (rd == NULL) {
		r->rc = -2;
		return;
	}
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, (size_t)256 << 20);
	struct sl_buf js;
	sl_buf_create(&js, (size_t)64 << 20);
	struct sl_value v;
	char msg[1200];
	for (;;) {
		int rc = sl_reader_next(rd, &arena, &v);
		if (rc == 0)
			break;
		if (rc == 1) {
			r->records++;
			sl_buf_reset(&js);
			sl_json_write(&js, &v, SL_JSON_CANONICAL);
			sl_buf_putc(&js, '\n');
			for (size_t i = 0; i < js.len; i++) {
				r->hash ^= (unsigned char)js.data[i];
				r->hash *= UINT64_C(1099511628211);
			}
			if (keep)
				sl_buf_append(&r->text, js.data, js.len);
			sl_arena_reset(&arena);
			continue;
		}
		bool skip = sl_reader_can_skip(rd);
		char chain[1000];
		sl_error_format(sl_diag_last(), chain, sizeof(chain));
		snprintf(msg, sizeof(msg), "ERR@%llu %s %s: %s\n",
		         (unsigned long long)sl_reader_line(rd),
		         sl_errcode_name(sl_diag_code()), skip ? "skip" : "end",
		         chain);
		sl_buf_puts(&r->text, msg);
		if (skip && r->skipped < 1000) {
			r->skipped++;
			continue;
		}
		if (skip) {
			sl_buf_puts(&r->text, "ENDLESS-ERRORS\n");
			r->rc = -3;
			break;
		}
		r->rc = -1;
		if (sl_reader_next(rd, &arena, &v) != -1 ||
		    sl_diag_code() != SL_EINVAL)
			sl_buf_puts(&r->text, "DEAD-BUT-USABLE\n");
		break;
	}
	r->bytes_in = sl_reader_bytes_in(rd);
	sl_buf_destroy(&js);
	sl_arena_destroy(&arena);
	sl_reader_delete(rd);
}

/** The text of a run ("" when empty). */
static const char *
run_text(const struct run *r)
{
	return r->text.data != NULL ? r->text.data : "";
}

/** One input and what reading it must give. */
struct fcase {
	/** File name (before the compression suffix). */
	const char *name;
	/** Content. */
	const char *data;
	/** Expected transcript; "%s" stands for the file's path. */
	const char *want;
	/** record_max, or 0 for the default. */
	size_t record_max;
};

/**
 * Write every case through every compression and read each with chunk
 * sizes 1, 7 and the default; the transcript must match, and bytes_in
 * must be the file's size when the input was read to its end.
 */
static void
check_cases(const struct fcase *cases, size_t n)
{
	size_t chunks[] = {1, 7, (size_t)1 << 20};
	char want[4096];
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < 4; c++) {
			const char *path =
			        put_file(cases[i].name, cases[i].data,
			                 strlen(cases[i].data), comps[c]);
			if (!ok(path != NULL, "wrote %s%s", cases[i].name,
			        fx_suffix(comps[c])))
				continue;
			snprintf(want, sizeof(want), cases[i].want, path, path,
			         path, path);
			int bad = 0;
			for (size_t k = 0; k < 3; k++) {
				struct sl_reader_opts o;
				sl_reader_opts_init(&o);
				o.chunk_size = chunks[k];
				if (cases[i].record_max != 0)
					o.record_max = cases[i].record_max;
				struct run r;
				read_path(path, &o, true, &r);
				bool same = strcmp(run_text(&r), want) == 0;
				bool size_ok =
				        r.rc != 0 ||
				        r.bytes_in == (uint64_t)file_size(path);
				if ((!same || !size_ok) && bad++ == 0)
					note("chunk %zu (bytes_in %llu):\n%s",
					     chunks[k],
					     (unsigned long long)r.bytes_in,
					     run_text(&r));
				sl_buf_destroy(&r.text);
			}
			if (!ok(bad == 0,
			        "%s%s: chunk sizes 1, 7, 1 MiB give the "
			        "expected records and bytes_in",
			        cases[i].name, fx_suffix(comps[c])))
				note("expected:\n%s", want);
		}
	}
}

/** The formats checks. */
TAP_CASE(formats)
{
	static const struct fcase cases[] = {
	        {"a.jsonl",
	         "{\"b\":\"x\",\"a\":1}\n[1,2]\n\n  \"s\"\r\n{\"c\":null}",
	         "{\"a\":1,\"b\":\"x\"}\n[1,2]\n\"s\"\n{\"c\":null}\n", 0},
	        {"a.csv", "name,age\r\nann,3\n\"b,o\"\"b\",4\n",
	         "{\"age\":\"3\",\"name\":\"ann\"}\n"
	         "{\"age\":\"4\",\"name\":\"b,o\\\"b\"}\n",
	         0},
	        {"a.txt", "first\r\nsecond\n\n\xc3\xa9t\xc3\xa9\nlast",
	         "{\"line\":\"first\"}\n{\"line\":\"second\"}\n"
	         "{\"line\":\"\"}\n{\"line\":\"\xc3\xa9t\xc3\xa9\"}\n"
	         "{\"line\":\"last\"}\n",
	         0},
	        {"b.txt", "", "", 0},
	        {"c.txt", "\n", "{\"line\":\"\"}\n", 0},
	        {"a.json", " {\"k\": [1, {\"z\": true}]}\n",
	         "{\"k\":[1,{\"z\":true}]}\n", 0},
	        {"a.yaml", "a: 1\nb: [yes, ~, x]\n",
	         "{\"a\":1,\"b\":[true,null,\"x\"]}\n", 0},
	        {"a.yml", "- 1\n", "[1]\n", 0},
	        {"bad.yaml", "a: [1\n",
	         "ERR@1 EPARSE end: %s:2:1: flow sequence without a closing "
	         "bracket\n",
	         0},
	};
	check_cases(cases, sizeof(cases) / sizeof(*cases));
}

/** The skipping checks. */
TAP_CASE(skipping)
{
	static char long_txt[256];
	snprintf(long_txt, sizeof(long_txt), "ok\nx\xff\n%0100d\nend\n", 7);
	static const struct fcase cases[] = {
	        {"s.jsonl", "{\"a\":1}\n{bad\n{\"a\":2}\n[\n",
	         "{\"a\":1}\n"
	         "ERR@2 EPARSE skip: %s:2:2: expected a string key\n"
	         "{\"a\":2}\n"
	         "ERR@4 EPARSE skip: %s:4:2: unexpected end of input: "
	         "expected a value\n",
	         0},
	        {"s.csv", "a\n1\n1,2\n\"x\"y\n3\n",
	         "{\"a\":\"1\"}\n"
	         "{\"a\":\"1\",\"null\":[\"2\"]}\n"
	         "ERR@4 EPARSE skip: %s:4:4: unexpected 'y' after the "
	         "closing quote of a field (expected the delimiter ',' or "
	         "the end of the line)\n"
	         "{\"a\":\"3\"}\n",
	         0},
	        {"s.json", "{\"a\": }",
	         "ERR@1 EPARSE end: %s:1:7: expected a value\n", 0},
	        {"t.json", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]",
	         "[1,2,3,4,5,6,7,8,9,10]\n", 31},
	        {"u.json", "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10] ",
	         "ERR@1 ELIMIT end: %s: the document exceeds the size cap "
	         "of 31 bytes\n",
	         31},
	        {"s.csv.unterminated.csv", "a\n1\n\"2\n",
	         "{\"a\":\"1\"}\n"
	         "ERR@3 EPARSE end: %s:3:1: unterminated quoted field: the "
	         "input ends before its closing quote\n",
	         0},
	};
	check_cases(cases, sizeof(cases) / sizeof(*cases));
	const struct fcase txt = {
	        "s.txt", long_txt,
	        "{\"line\":\"ok\"}\n"
	        "ERR@2 EPARSE skip: %s:2:2: invalid UTF-8 (sequence starting "
	        "with byte 0xff)\n"
	        "ERR@3 ELIMIT skip: record at %s:3 exceeds the size cap of 16 "
	        "bytes\n"
	        "{\"line\":\"end\"}\n",
	        16};
	check_cases(&txt, 1);
}

/** Corrupt and truncated compressed files end the input with an error. */
TAP_CASE(broken_compression)
{
	const char *data = "a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n11,12\n13,14\n";
	const char *fmts[] = {"k.csv", "k.jsonl", "k.txt", "k.json"};
	for (size_t c = 1; c < 4; c++) {
		const char *kind = sl_compression_name(comps[c]);
		struct sl_buf comp;
		sl_buf_create(&comp, 1 << 20);
		fx_compress(comps[c], data, strlen(data), &comp);
		for (size_t f = 0; f < 4; f++) {
			char path[256], want[300];
			snprintf(path, sizeof(path), "%s/%s%s", tmpdir, fmts[f],
			         fx_suffix(comps[c]));
			/* Truncated: cut the last 5 bytes. */
			put_file(fmts[f], "", 0, comps[c]);
			fx_write(path, comp.data, comp.len - 5);
			struct run r;
			read_path(path, NULL, true, &r);
			snprintf(want, sizeof(want),
			         "%s: truncated %s data at byte %zu (", path,
			         kind, comp.len - 5);
			ok(r.rc == -1 && strstr(run_text(&r), want) != NULL &&
			           strstr(run_text(&r), " end: ") != NULL &&
			           strstr(run_text(&r), "DEAD-BUT") == NULL,
			   "%s%s truncated: an error that ends the input",
			   fmts[f], fx_suffix(comps[c]));
			sl_buf_destroy(&r.text);
			/* Corrupt: garbage after the complete member. */
			struct sl_buf bad;
			sl_buf_create(&bad, 1 << 20);
			sl_buf_append(&bad, comp.data, comp.len);
			sl_buf_puts(&bad, "GARBAGE");
			fx_write(path, bad.data, bad.len);
			sl_buf_destroy(&bad);
			read_path(path, NULL, true, &r);
			snprintf(want, sizeof(want),
			         "%s: corrupt %s data at byte ", path, kind);
			ok(r.rc == -1 && strstr(run_text(&r), want) != NULL &&
			           strstr(run_text(&r), " end: ") != NULL &&
			           strstr(run_text(&r), "DEAD-BUT") == NULL,
			   "%s%s with trailing garbage: an error that ends the "
			   "input",
			   fmts[f], fx_suffix(comps[c]));
			if (f < 3)
				ok(r.records + r.skipped > 0,
				   "... after the lines before it");
			sl_buf_destroy(&r.text);
		}
		sl_buf_destroy(&comp);
	}
}

/** The names checks. */
TAP_CASE(names)
{
	static const struct {
		const char *name;
		enum sl_format f;
		enum sl_compression c;
	} good[] = {
	        {"a/b.csv.gz", SL_FORMAT_CSV, SL_COMPRESSION_GZIP},
	        {"X.JSONL.ZST", SL_FORMAT_JSONL, SL_COMPRESSION_ZSTD},
	        {"t.yml", SL_FORMAT_YAML, SL_COMPRESSION_NONE},
	        {"dir.d/t.Yaml.bz2", SL_FORMAT_YAML, SL_COMPRESSION_BZIP2},
	        {"data.txt", SL_FORMAT_TXT, SL_COMPRESSION_NONE},
	        {"a.json", SL_FORMAT_JSON, SL_COMPRESSION_NONE},
	        {"a.jsonl", SL_FORMAT_JSONL, SL_COMPRESSION_NONE},
	        {"x.tar.csv", SL_FORMAT_CSV, SL_COMPRESSION_NONE},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		enum sl_format f = SL_FORMAT_NONE;
		enum sl_compression c = SL_COMPRESSION_NONE;
		int rc = sl_format_of_name(good[i].name, &f, &c);
		ok(rc == 0 && f == good[i].f && c == good[i].c, "%s: %s, %s",
		   good[i].name, sl_format_name(good[i].f),
		   sl_compression_name(good[i].c));
	}
	const char *bad[] = {"x.gz",   "x.parquet",  "x.csv.gz.gz", "noext",
	                     ".json",  "a.csv/b",    "x.json.lz4",  "",
	                     "x.csv.", "x.jsonl.gz/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		enum sl_format f;
		enum sl_compression c;
		int rc = sl_format_of_name(bad[i], &f, &c);
		char want[200];
		snprintf(want, sizeof(want),
		         "%s: cannot tell the record format from the file "
		         "name (known suffixes: .jsonl, .json, .csv, .txt, "
		         ".yaml or .yml, optionally followed by .gz, .zst or "
		         ".bz2)",
		         bad[i]);
		ok(rc == -1 && sl_diag_code() == SL_EINVAL &&
		           strcmp(unit_errmsg(), want) == 0,
		   "'%s': EINVAL listing the known suffixes", bad[i]);
	}
	for (int f = SL_FORMAT_JSONL; f <= SL_FORMAT_YAML; f++)
		is_int(sl_format_parse(sl_format_name((enum sl_format)f)), f,
		       "format %s parses back", sl_format_name(f));
	is_int(sl_format_parse("YML"), SL_FORMAT_YAML, "YML is yaml");
	is_int(sl_format_parse("parquet"), SL_FORMAT_NONE, "parquet: none");
	is_int(sl_format_parse(NULL), SL_FORMAT_NONE, "NULL: none");
	is_str(sl_format_name(SL_FORMAT_NONE), "none", "name of none");
	is_int(sl_compression_parse("GZ"), SL_COMPRESSION_GZIP, "GZ");
	is_int(sl_compression_parse("gzip"), SL_COMPRESSION_GZIP, "gzip");
	is_int(sl_compression_parse("zst"), SL_COMPRESSION_ZSTD, "zst");
	is_int(sl_compression_parse("Zstd"), SL_COMPRESSION_ZSTD, "Zstd");
	is_int(sl_compression_parse("bz2"), SL_COMPRESSION_BZIP2, "bz2");
	is_int(sl_compression_parse("bzip2"), SL_COMPRESSION_BZIP2, "bzip2");
	is_int(sl_compression_parse("lz4"), SL_COMPRESSION_NONE, "lz4: none");
	is_int(sl_compression_parse(NULL), SL_COMPRESSION_NONE, "NULL: none");
}

/** The open errors checks. */
TAP_CASE(open_errors)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/missing.csv.gz", tmpdir);
	struct sl_reader *r = sl_reader_open(path, NULL);
	ok(r == NULL, "missing file: NULL");
	struct sl_error *e = sl_diag_last();
	ok(e != NULL && e->code == SL_ESYSTEM && e->saved_errno == ENOENT &&
	           strstr(e->msg, path) != NULL,
	   "... ESYSTEM, ENOENT, naming the path: %s", unit_errmsg());
	r = sl_reader_open("nowhere/file.xlsx", NULL);
	ok(r == NULL && sl_diag_code() == SL_EINVAL &&
	           strstr(unit_errmsg(), "nowhere/file.xlsx") != NULL,
	   "unknown suffix: EINVAL naming the file");
	/* A directory opens but cannot be read. */
	snprintf(path, sizeof(path), "%s/dir.txt", tmpdir);
	mkdir(path, 0700);
	struct run run;
	read_path(path, NULL, true, &run);
	ok(run.rc == -1 && strstr(run_text(&run), " end: ") != NULL &&
	           strstr(run_text(&run), path) != NULL &&
	           strstr(run_text(&run), "Is a directory") != NULL,
	   "reading a directory: an error naming it");
	sl_buf_destroy(&run.text);
	rmdir(path);

	struct sl_source src = {NULL, NULL, "m"};
	struct sl_reader_opts o;
	sl_reader_opts_init(&o);
	ok(sl_reader_new(&src, SL_FORMAT_NONE, SL_COMPRESSION_NONE, &o) ==
	                   NULL &&
	           sl_diag_code() == SL_EINVAL,
	   "format none: EINVAL");
	o.chunk_size = 0;
	ok(sl_reader_new(&src, SL_FORMAT_CSV, SL_COMPRESSION_NONE, &o) ==
	                   NULL &&
	           sl_diag_code() == SL_EINVAL,
	   "chunk size 0: EINVAL");
	sl_reader_opts_init(&o);
	o.csv_delimiter = '"';
	ok(sl_reader_new(&src, SL_FORMAT_CSV, SL_COMPRESSION_GZIP, &o) ==
	                   NULL &&
	           sl_diag_code() == SL_EINVAL,
	   "quote as the CSV delimiter: EINVAL");
	sl_reader_delete(NULL);
}

/** An in-memory source. */
struct mem_src {
	/** The input. */
	const char *data;
	/** Input bytes. */
	size_t len;
	/** Bytes handed out. */
	size_t pos;
};

static ssize_t
mem_read(void *ctx, char *buf, size_t size)
{
	struct mem_src *m = ctx;
	size_t n = m->len - m->pos < size ? m->len - m->pos : size;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/** sl_reader_new() over a caller's source, with a CSV delimiter. */
TAP_CASE(new_over_source)
{
	struct sl_buf comp;
	sl_buf_create(&comp, 1 << 20);
	fx_compress(SL_COMPRESSION_ZSTD, "a;b\n1;2\n", 8, &comp);
	struct mem_src m = {comp.data, comp.len, 0};
	struct sl_source src = {mem_read, &m, "mem"};
	struct sl_reader_opts o;
	sl_reader_opts_init(&o);
	o.csv_delimiter = ';';
	struct sl_reader *r =
	        sl_reader_new(&src, SL_FORMAT_CSV, SL_COMPRESSION_ZSTD, &o);
	struct sl_arena a;
	sl_arena_create(&a, 1024, 1 << 20);
	struct sl_value v;
	is_int(sl_reader_line(r), 0, "line 0 before reading");
	is_int(sl_reader_next(r, &a, &v), 1, "record over a zstd source");
	const struct sl_value *b = sl_object_get_cstr(&v, "b");
	ok(b != NULL && b->len == 1 && b->u.s[0] == '2', "... split at ';'");
	is_int(sl_reader_line(r), 2, "... on line 2");
	is_int(sl_reader_next(r, &a, &v), 0, "... then the end");
	is_int(sl_reader_bytes_in(r), comp.len,
	       "bytes_in is the compressed size");
	sl_reader_delete(r);
	sl_arena_destroy(&a);
	sl_buf_destroy(&comp);
}

/** 20 MB of CSV rows read alike through every compression. */
TAP_CASE(big)
{
	if (getenv("SLUICE_UNDER_VALGRIND") != NULL) {
		ok(1, "20 MB test skipped under valgrind");
		return;
	}
	struct sl_buf data;
	sl_buf_create(&data, (size_t)32 << 20);
	sl_buf_puts(&data, "id,name,value\n");
	uint32_t x = 7;
	long rows = 0;
	while (data.len < (size_t)20 << 20) {
		x = x * 1103515245u + 12345u;
		sl_buf_printf(&data, "%ld,\"name %u, the %u\",%u\n", rows,
		              x % 1000, (x >> 10) % 77, x >> 7);
		rows++;
	}
	struct run plain;
	for (size_t c = 0; c < 4; c++) {
		const char *path =
		        put_file("big.csv", data.data, data.len, comps[c]);
		struct run r;
		read_path(path, NULL, false, &r);
		long size = file_size(path);
		ok(r.rc == 0 && r.records == rows && r.skipped == 0 &&
		           r.bytes_in == (uint64_t)size,
		   "big.csv%s (%ld bytes): %ld records, bytes_in %llu",
		   fx_suffix(comps[c]), size, r.records,
		   (unsigned long long)r.bytes_in);
		if (c == 0)
			plain = r;
		else
			ok(r.hash == plain.hash,
			   "... the same records as the plain file");
		sl_buf_destroy(&r.text);
		unlink(path);
	}
	sl_buf_destroy(&data);
}

/**
 * Fail each allocation of opening and reading small gzip files in turn:
 * every failure is a clean error with SL_EOOM in its chain (leaks are
 * caught by ASan and valgrind).
 */
TAP_CASE(alloc_failures)
{
	static const struct {
		const char *name, *data;
		long records;
	} files[] = {
	        {"f.csv", "a,b\n1,2\n3,4\n", 2},
	        {"f.jsonl", "{\"a\":[1,2]}\n\"x\"\n", 2},
	        {"f.txt", "one\ntwo\n", 2},
	        {"f.json", "{\"a\":{\"b\":[true]}}", 1},
	};
	for (size_t i = 0; i < 4; i++) {
		const char *path =
		        put_file(files[i].name, files[i].data,
		                 strlen(files[i].data), SL_COMPRESSION_GZIP);
		struct sl_reader_opts o;
		sl_reader_opts_init(&o);
		o.chunk_size = 64 << 10;
		int bad = 0, n;
		for (n = 0; n < 500; n++) {
			sl_alloc_fail_after(n);
			long before = sl_alloc_faults();
			struct sl_reader *r = sl_reader_open(path, &o);
			long records = 0;
			int rc = r == NULL ? -1 : 0;
			struct sl_arena a;
			sl_arena_create(&a, 256, 1 << 20);
			struct sl_value v;
			while (r != NULL &&
			       (rc = sl_reader_next(r, &a, &v)) == 1)
				records++;
			bool fired = sl_alloc_faults() > before;
			sl_alloc_fail_after(-1);
			bool oom = false;
			for (struct sl_error *e = sl_diag_last(); e != NULL;
			     e = e->cause)
				oom |= e->code == SL_EOOM;
			sl_arena_destroy(&a);
			sl_reader_delete(r);
			if (!fired) {
				if (rc != 0 || records != files[i].records)
					bad++;
				break;
			}
			if (rc != -1 || !oom) {
				if (bad++ == 0)
					note("fault %d: rc %d: %s", n, rc,
					     unit_errmsg());
			}
			sl_diag_clear(sl_diag_get());
		}
		ok(bad == 0 && n > 3 && n < 500,
		   "%s.gz: each of %d allocation points fails cleanly with "
		   "EOOM",
		   files[i].name, n);
	}
}

/** Make the temporary directory the cases write into. */
static int
setup(void)
{
	strcpy(tmpdir, "/tmp/sluice_records_XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	return 0;
}

/** Remove the files the cases wrote and the directory (a check). */
static void
teardown(void)
{
	for (int i = 0; i < n_written; i++) {
		unlink(written[i]);
		free(written[i]);
	}
	ok(rmdir(tmpdir) == 0, "temporary directory removed");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
