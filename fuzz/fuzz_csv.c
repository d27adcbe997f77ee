/*
 * libFuzzer target for the CSV reader. The first three input bytes choose
 * the options, the rest is the CSV text:
 *
 *   byte 0  buffer size (chunk_size 1, 2, 3, 7, 64 or 4096) and bytes per
 *           source read (unlimited, 1, 3 or 5)
 *   byte 1  delimiter (',', ';', tab, '|', space, 'x', NUL or ':')
 *   byte 2  top bit: a small record_max (1 + the low 6 bits); bit 6: one
 *           more run with an allocation failure injected (byte 3 says
 *           after how many allocations)
 *
 * The text is read with those options and again with one big chunk, and
 * the two runs must give the same records, the same end (EOF, or the same
 * error code, message, line and record number). Every record must be an
 * object with sl_csv_field_count() members whose keys are the same in
 * every record, strings, then nulls for the fields a short row lacks, or
 * followed by "null" with an array of the extra fields' strings; after the
 * end the reader keeps returning 0, after an error it keeps refusing. A broken
 * invariant aborts with a message.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/csv.h"
#include "sluice/diag.h"
#include "memsource.h"

/** The target's name in failure messages. */
#define FUZZ_NAME "fuzz_csv"
#include "fuzz.h"

/** A growable byte string holding a run's outcome. */
struct out {
	/** Bytes (malloc'd). */
	char *s;
	/** Length. */
	size_t n;
	/** Capacity. */
	size_t cap;
};

static void
put(struct out *o, const void *p, size_t n)
{
	if (o->n + n > o->cap) {
		size_t nc = (o->n + n) * 2 + 64;
		char *ns = realloc(o->s, nc);
		CHECK(ns != NULL, "out of memory");
		o->s = ns;
		o->cap = nc;
	}
	if (n > 0)
		memcpy(o->s + o->n, p, n);
	o->n += n;
}

/** Append a length-prefixed byte string. */
static void
put_bytes(struct out *o, const char *p, size_t n)
{
	uint64_t len = n;
	put(o, &len, sizeof(len));
	put(o, p, n);
}

/** Append an integer. */
static void
put_u64(struct out *o, uint64_t v)
{
	put(o, &v, sizeof(v));
}

/**
 * Read `data` (`size` bytes) to the end with the given options, appending
 * every record and the end to `o` (when not NULL) and checking the
 * invariants that hold for a single run. With `fail_after` >= 0 an
 * allocation failure is injected and only cleanliness is checked.
 */
static void
run(const uint8_t *data, size_t size, const struct sl_csv_opts *opts,
    size_t step, long fail_after, struct out *o)
{
	struct memsource m;
	memsource_init(&m, data, size, step);
	struct sl_source src = memsource_source(&m, "fuzz.csv");
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, (size_t)64 << 20);
	if (fail_after >= 0)
		sl_alloc_fail_after(fail_after);
	struct sl_csv_reader *r = sl_csv_reader_new(&src, opts);
	if (r == NULL) {
		sl_alloc_fail_after(-1);
		CHECK(fail_after >= 0 && sl_diag_code() == SL_EOOM,
		      "reader_new failed without an injected fault: %s",
		      sl_errcode_name(sl_diag_code()));
		sl_arena_destroy(&arena);
		return;
	}
	/* Keys of the first record, which every later record repeats. */
	struct out keys = {0};
	/* Whether `keys` holds the first record's (a bad first row is
	 * skipped, so that may be record 2 or later). */
	bool have_keys = false;
	uint64_t records = 0, last_line = 0;
	/* Whether the reader skips the rest of a bad row: until a record is
	 * read, an error may still be that row's (the input ending inside its
	 * quoted field), with its record number. */
	bool skipping = false;
	size_t value_bytes = 0;
	int rc;
	struct sl_value v;
again:
	while ((rc = sl_csv_next(r, &arena, &v)) == 1) {
		records++;
		skipping = false;
		uint32_t nf = sl_csv_field_count(r);
		CHECK(nf > 0, "a record before the header");
		CHECK(v.type == SL_VOBJECT && (v.len == nf || v.len == nf + 1),
		      "record %llu: type %d with %u members, %u header "
		      "fields",
		      (unsigned long long)records, (int)v.type, v.len, nf);
		CHECK(sl_csv_record(r) == records, "record number %llu != %llu",
		      (unsigned long long)sl_csv_record(r),
		      (unsigned long long)records);
		CHECK(sl_csv_line(r) > last_line, "line %llu after line %llu",
		      (unsigned long long)sl_csv_line(r),
		      (unsigned long long)last_line);
		last_line = sl_csv_line(r);
		struct out k = {0};
		size_t rec_bytes = 0, fields = 0;
		bool missing = false;
		for (uint32_t i = 0; i < nf; i++) {
			const struct sl_member *mb = &v.u.members[i];
			/* Missing fields (null) come last. */
			CHECK(mb->val.type == SL_VSTR ||
			              (mb->val.type == SL_VNULL && i > 0),
			      "member %u type %d", i, (int)mb->val.type);
			CHECK(!missing || mb->val.type == SL_VNULL,
			      "member %u: a field after a missing one", i);
			missing = mb->val.type == SL_VNULL;
			put_bytes(&k, mb->key, mb->key_len);
			if (missing)
				continue;
			fields++;
			rec_bytes += mb->val.len;
			if (o != NULL)
				put_bytes(o, mb->val.u.s, mb->val.len);
		}
		if (v.len > nf) {
			/* Extra fields: strings in an array under "null". */
			const struct sl_member *mb = &v.u.members[nf];
			CHECK(!missing && mb->key_len == 4 &&
			              memcmp(mb->key, "null", 4) == 0 &&
			              mb->val.type == SL_VARRAY &&
			              mb->val.len > 0,
			      "record %llu: bad extra fields",
			      (unsigned long long)records);
			for (uint32_t i = 0; i < mb->val.len; i++) {
				const struct sl_value *x = &mb->val.u.items[i];
				CHECK(x->type == SL_VSTR, "extra %u type %d", i,
				      (int)x->type);
				fields++;
				rec_bytes += x->len;
				if (o != NULL)
					put_bytes(o, x->u.s, x->len);
			}
		}
		if (o != NULL)
			put_u64(o, fields);
		CHECK(rec_bytes + fields - 1 <= opts->record_max,
		      "record of %zu bytes, record_max %zu",
		      rec_bytes + fields - 1, opts->record_max);
		value_bytes += rec_bytes;
		CHECK(value_bytes <= size, "more value bytes than input");
		if (!have_keys) {
			keys = k;
			have_keys = true;
		} else {
			CHECK(k.n == keys.n && memcmp(k.s, keys.s, k.n) == 0,
			      "record %llu has other keys than the first",
			      (unsigned long long)records);
			free(k.s);
		}
		if (o != NULL)
			put_u64(o, sl_csv_line(r));
		sl_arena_reset(&arena);
	}
	CHECK(rc == 0 || rc == -1, "sl_csv_next returned %d", rc);
	if (rc == 0) {
		CHECK(sl_csv_record(r) == records, "record number at the end");
		CHECK(sl_csv_next(r, &arena, &v) == 0, "EOF is not sticky");
		CHECK(sl_csv_next(r, &arena, &v) == 0, "EOF is not sticky");
		if (o != NULL)
			put_u64(o, UINT64_MAX);
	} else {
		enum sl_errcode code = sl_diag_code();
		if (fail_after < 0)
			CHECK(code == SL_EPARSE || code == SL_ELIMIT,
			      "error code %s", sl_errcode_name(code));
		else
			CHECK(code == SL_EPARSE || code == SL_ELIMIT ||
			              code == SL_EOOM,
			      "error code %s", sl_errcode_name(code));
		uint64_t want = records + (sl_csv_field_count(r) > 0 ? 1 : 0);
		CHECK(sl_csv_record(r) == want ||
		              (skipping && sl_csv_record(r) == records),
		      "record number %llu after an error, expected %llu",
		      (unsigned long long)sl_csv_record(r),
		      (unsigned long long)want);
		if (o != NULL) {
			put_u64(o, code);
			const struct sl_error *e = sl_diag_last();
			char msg[1024];
			sl_error_format(e, msg, sizeof(msg));
			put_bytes(o, msg, strlen(msg));
			put_u64(o, sl_csv_line(r));
			put_u64(o, sl_csv_record(r));
		}
		uint64_t line = sl_csv_line(r), rec = sl_csv_record(r);
		if (sl_csv_can_continue(r) && code != SL_EOOM) {
			/* A bad row: the reader goes on after it. */
			sl_diag_clear(sl_diag_get());
			skipping = true;
			records = rec;
			last_line = line;
			sl_arena_reset(&arena);
			goto again;
		}
		/* An injected allocation failure ends this run here, though
		 * the reader could go on; only a reader that says it cannot
		 * must refuse to. */
		if (!sl_csv_can_continue(r)) {
			CHECK(sl_csv_next(r, &arena, &v) == -1,
			      "a reader used after an error that ended its "
			      "input returned a result");
			CHECK(sl_csv_line(r) == line && sl_csv_record(r) == rec,
			      "the position moved after an error");
		}
	}
	if (o != NULL)
		put_bytes(o, keys.s, keys.n);
	free(keys.s);
	sl_alloc_fail_after(-1);
	sl_csv_reader_delete(r);
	sl_arena_destroy(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[] = {1, 2, 3, 7, 64, 4096};
	static const size_t steps[] = {0, 1, 3, 5};
	static const char delims[] = {',', ';', '\t', '|', ' ', 'x', '\0', ':'};
	uint8_t b0 = size > 0 ? data[0] : 0;
	uint8_t b1 = size > 1 ? data[1] : 0;
	uint8_t b2 = size > 2 ? data[2] : 0;
	uint8_t b3 = size > 3 ? data[3] : 0;
	size_t skip = size < 3 ? size : 3;
	const uint8_t *text = data + skip;
	size_t len = size - skip;

	struct sl_csv_opts opts;
	sl_csv_opts_init(&opts);
	opts.delimiter = delims[b1 % sizeof(delims)];
	if (b2 & 0x80)
		opts.record_max = 1 + (b2 & 63);
	struct sl_csv_opts ref = opts;
	opts.chunk_size = chunks[b0 % 6];
	size_t step = steps[(b0 / 6) % 4];

	struct out got = {0}, want = {0};
	run(text, len, &opts, step, -1, &got);
	run(text, len, &ref, 0, -1, &want);
	CHECK(got.n == want.n &&
	              (got.n == 0 || memcmp(got.s, want.s, got.n) == 0),
	      "chunk_size %zu with reads of %zu bytes differs from one "
	      "big chunk",
	      opts.chunk_size, step);
	free(got.s);
	free(want.s);
	if (b2 & 0x40)
		run(text, len, &opts, step, b3 % 16, NULL);
	return 0;
}
