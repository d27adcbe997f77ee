/*
 * Tests of the decompressing sources (src/value/decompress.h): round
 * trips, members back to back, empty input, chunk sizes, truncated,
 * corrupt and trailing data, inner source errors, allocation failures.
 */
#include <stdint.h>
#include <string.h>

#include "compress_fixtures.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "memsource.h"
#include "unit.h"
#include "value/decompress.h"

static const enum sl_compression kinds[] = {
        SL_COMPRESSION_GZIP, SL_COMPRESSION_ZSTD, SL_COMPRESSION_BZIP2};

/**
 * Decompress in[0, n) of `kind` with an input buffer of `in_size`, the
 * source giving `step` bytes per read and the reader asking `out_step`
 * bytes per read, into `out`. Returns 0 or -1 (error in the diag). Gives
 * up (-2) after far more reads than the data could need, which would be
 * a hang.
 */
static int
decompress(enum sl_compression kind, const char *in, size_t n, size_t in_size,
           size_t step, size_t out_step, struct sl_buf *out)
{
	struct memsource m;
	memsource_init(&m, in, n, step);
	struct sl_source src = memsource_source(&m, "d.bin");
	struct sl_decomp *d = sl_decomp_new(&src, kind, in_size);
	if (d == NULL)
		return -1;
	struct sl_source s = sl_decomp_source(d);
	int rc = 0;
	unsigned long limit = (unsigned long)(n + 10) * 4 + (1ul << 26);
	for (unsigned long i = 0;; i++) {
		if (i > limit) {
			rc = -2;
			break;
		}
		if (sl_buf_reserve(out, out_step) != 0) {
			rc = -1;
			break;
		}
		ssize_t got = s.read(s.ctx, out->data + out->len, out_step);
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got == 0)
			break;
		if ((size_t)got > out_step) {
			rc = -3;
			break;
		}
		out->len += (size_t)got;
	}
	if (rc == 0 && sl_decomp_offset(d) != n)
		rc = -4;
	sl_decomp_delete(d);
	return rc;
}

/** Fill `b` with `n` bytes of compressible but not trivial text. */
static void
gen_text(struct sl_buf *b, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	while (b->len < n) {
		x = x * 1103515245u + 12345u;
		char line[64];
		int k = snprintf(line, sizeof(line), "row %u,%u,word%u\n",
		                 x >> 8, x % 977, (x >> 3) % 31);
		size_t take = (size_t)k;
		if (take > n - b->len)
			take = n - b->len;
		sl_buf_append(b, line, take);
	}
}

/** The roundtrip checks. */
TAP_CASE(roundtrip)
{
	struct sl_buf plain, comp, out;
	sl_buf_create(&plain, (size_t)64 << 20);
	sl_buf_create(&comp, (size_t)64 << 20);
	sl_buf_create(&out, (size_t)64 << 20);
	gen_text(&plain, 300000, 1);
	for (size_t k = 0; k < 3; k++) {
		const char *name = sl_compression_name(kinds[k]);
		sl_buf_reset(&comp);
		ok(fx_compress(kinds[k], plain.data, plain.len, &comp) == 0,
		   "%s: fixture compressed (%zu -> %zu bytes)", name, plain.len,
		   comp.len);
		size_t ins[] = {1 << 20, 7, 1, 4096};
		size_t steps[] = {0, 1, 0, 13};
		size_t outs[] = {1 << 16, 7, 1, 100000};
		for (size_t i = 0; i < 4; i++) {
			sl_buf_reset(&out);
			int rc = decompress(kinds[k], comp.data, comp.len,
			                    ins[i], steps[i], outs[i], &out);
			ok(rc == 0 && out.len == plain.len &&
			           memcmp(out.data, plain.data, plain.len) == 0,
			   "%s: round trip with input buffer %zu, source step "
			   "%zu, reads of %zu",
			   name, ins[i], steps[i], outs[i]);
		}
		/* Three members back to back. */
		struct sl_buf parts;
		sl_buf_create(&parts, (size_t)1 << 20);
		sl_buf_reset(&comp);
		const char *p[] = {"first\n", "", "third part\n"};
		for (int j = 0; j < 3; j++) {
			fx_compress(kinds[k], p[j], strlen(p[j]), &comp);
			sl_buf_puts(&parts, p[j]);
		}
		sl_buf_reset(&out);
		int rc = decompress(kinds[k], comp.data, comp.len, 5, 3, 4,
		                    &out);
		ok(rc == 0 && out.len == parts.len &&
		           memcmp(out.data, parts.data, parts.len) == 0,
		   "%s: members back to back are concatenated", name);
		sl_buf_destroy(&parts);
		/* Empty input. */
		sl_buf_reset(&out);
		rc = decompress(kinds[k], "", 0, 16, 0, 16, &out);
		ok(rc == 0 && out.len == 0, "%s: empty input gives nothing",
		   name);
	}
	sl_buf_destroy(&plain);
	sl_buf_destroy(&comp);
	sl_buf_destroy(&out);
}

/** Check that the error message starts with `prefix`. */
static int
msg_starts(const char *prefix)
{
	return strncmp(unit_errmsg(), prefix, strlen(prefix)) == 0;
}

/** The truncated and corrupt checks. */
TAP_CASE(truncated_and_corrupt)
{
	struct sl_buf plain, comp, bad, out;
	sl_buf_create(&plain, (size_t)1 << 20);
	sl_buf_create(&comp, (size_t)1 << 20);
	sl_buf_create(&bad, (size_t)1 << 20);
	sl_buf_create(&out, (size_t)1 << 20);
	gen_text(&plain, 20000, 2);
	char want[128];
	for (size_t k = 0; k < 3; k++) {
		const char *name = sl_compression_name(kinds[k]);
		sl_buf_reset(&comp);
		fx_compress(kinds[k], plain.data, plain.len, &comp);

		/* Every proper prefix is truncated data. */
		int wrong = 0, first = -1;
		for (size_t cut = 1; cut < comp.len; cut++) {
			sl_buf_reset(&out);
			int rc = decompress(kinds[k], comp.data, cut, 64, 0, 64,
			                    &out);
			snprintf(want, sizeof(want),
			         "d.bin: truncated %s data at byte %zu (", name,
			         cut);
			if (rc != -1 || sl_diag_code() != SL_EPARSE ||
			    !msg_starts(want)) {
				if (wrong++ == 0)
					first = (int)cut;
			}
		}
		if (!ok(wrong == 0,
		        "%s: all %zu proper prefixes fail as truncated data "
		        "at their length",
		        name, comp.len - 1))
			note("%d wrong, first at cut %d: %s", wrong, first,
			     unit_errmsg());

		/* A flipped byte anywhere after the header is corrupt. */
		wrong = 0;
		int tried = 0;
		for (size_t at = 12; at + 1 < comp.len; at += comp.len / 23) {
			sl_buf_reset(&bad);
			sl_buf_append(&bad, comp.data, comp.len);
			bad.data[at] ^= 0x55;
			sl_buf_reset(&out);
			int rc = decompress(kinds[k], bad.data, bad.len, 4096,
			                    0, 4096, &out);
			snprintf(want, sizeof(want),
			         "d.bin: corrupt %s data at byte ", name);
			tried++;
			if (rc != -1 || sl_diag_code() != SL_EPARSE ||
			    !(msg_starts(want) ||
			      strstr(unit_errmsg(), "truncated") != NULL)) {
				if (wrong++ == 0)
					note("flip at %zu: rc %d: %s", at, rc,
					     unit_errmsg());
			}
		}
		ok(wrong == 0 && tried > 10,
		   "%s: %d flipped bytes all give a corrupt data error", name,
		   tried);

		/* Trailing garbage after a complete member. */
		sl_buf_reset(&bad);
		sl_buf_append(&bad, comp.data, comp.len);
		sl_buf_puts(&bad, "garbage!");
		sl_buf_reset(&out);
		int rc = decompress(kinds[k], bad.data, bad.len, 4096, 0, 4096,
		                    &out);
		snprintf(want, sizeof(want), "d.bin: corrupt %s data at byte ",
		         name);
		ok(rc == -1 && sl_diag_code() == SL_EPARSE && msg_starts(want),
		   "%s: trailing garbage is an error", name);
		unsigned long long at = 0;
		sscanf(unit_errmsg() + strlen(want), "%llu", &at);
		ok(at >= comp.len && at <= bad.len,
		   "%s: ... at a byte offset in the garbage (%llu, member "
		   "ends at %zu)",
		   name, at, comp.len);
		ok(out.len == plain.len &&
		           memcmp(out.data, plain.data, plain.len) == 0,
		   "%s: ... after the whole first member came out", name);

		/* Garbage only: not this format at all. */
		sl_buf_reset(&out);
		rc = decompress(kinds[k], "hello, world\n", 13, 4096, 0, 4096,
		                &out);
		ok(rc == -1 && sl_diag_code() == SL_EPARSE &&
		           msg_starts(want) && out.len == 0,
		   "%s: plain text is corrupt data: %s", name, unit_errmsg());

		/* Trailing zero bytes: padding for gzip only. */
		sl_buf_reset(&bad);
		sl_buf_append(&bad, comp.data, comp.len);
		sl_buf_append(&bad, "\0\0\0\0\0\0\0\0", 8);
		sl_buf_reset(&out);
		rc = decompress(kinds[k], bad.data, bad.len, 4096, 0, 4096,
		                &out);
		if (kinds[k] == SL_COMPRESSION_GZIP)
			ok(rc == 0 && out.len == plain.len,
			   "gzip: trailing zero bytes are padding");
		else
			ok(rc == -1 && sl_diag_code() == SL_EPARSE,
			   "%s: trailing zero bytes are an error", name);
	}
	/* Zero padding between gzip members too, as gzip and Python do. */
	sl_buf_reset(&comp);
	fx_compress(SL_COMPRESSION_GZIP, "ab", 2, &comp);
	sl_buf_append(&comp, "\0\0\0", 3);
	fx_compress(SL_COMPRESSION_GZIP, "cd", 2, &comp);
	sl_buf_reset(&out);
	int rc = decompress(SL_COMPRESSION_GZIP, comp.data, comp.len, 2, 1, 1,
	                    &out);
	ok(rc == 0 && out.len == 4 && memcmp(out.data, "abcd", 4) == 0,
	   "gzip: zero padding between members");
	sl_buf_destroy(&plain);
	sl_buf_destroy(&comp);
	sl_buf_destroy(&bad);
	sl_buf_destroy(&out);
}

/** The inner source's error comes through as it is; reads then fail. */
TAP_CASE(inner_error)
{
	struct sl_buf plain, comp;
	sl_buf_create(&plain, (size_t)1 << 20);
	sl_buf_create(&comp, (size_t)1 << 20);
	gen_text(&plain, 50000, 3);
	for (size_t k = 0; k < 3; k++) {
		const char *name = sl_compression_name(kinds[k]);
		sl_buf_reset(&comp);
		fx_compress(kinds[k], plain.data, plain.len, &comp);
		struct memsource m;
		memsource_init(&m, comp.data, comp.len, 0);
		m.fail_at = comp.len / 2;
		m.fail_code = SL_ESYSTEM;
		struct sl_source src = memsource_source(&m, "d.bin");
		struct sl_decomp *d = sl_decomp_new(&src, kinds[k], 256);
		char buf[512];
		ssize_t got;
		size_t total = 0;
		while ((got = sl_decomp_read(d, buf, sizeof(buf))) > 0)
			total += (size_t)got;
		ok(got == -1 && sl_diag_code() == SL_ESYSTEM &&
		           strcmp(unit_errmsg(), "disk on fire") == 0,
		   "%s: inner error passed on as it is", name);
		ok(total < plain.len, "%s: ... before all the data", name);
		unsigned long reads = m.reads;
		got = sl_decomp_read(d, buf, sizeof(buf));
		ok(got == -1 && sl_diag_code() == SL_EIO && m.reads == reads,
		   "%s: ... the next read fails without reading: %s", name,
		   unit_errmsg());
		sl_decomp_delete(d);
	}
	sl_buf_destroy(&plain);
	sl_buf_destroy(&comp);
}

/** Failing each allocation in turn gives SL_EOOM and no leak. */
TAP_CASE(alloc_failures)
{
	struct sl_buf plain, comp, out;
	sl_buf_create(&plain, (size_t)1 << 20);
	sl_buf_create(&comp, (size_t)1 << 20);
	sl_buf_create(&out, (size_t)1 << 20);
	gen_text(&plain, 5000, 4);
	for (size_t k = 0; k < 3; k++) {
		const char *name = sl_compression_name(kinds[k]);
		sl_buf_reset(&comp);
		fx_compress(kinds[k], plain.data, plain.len, &comp);
		fx_compress(kinds[k], plain.data, plain.len, &comp);
		int bad = 0, n;
		for (n = 0; n < 200; n++) {
			sl_buf_reset(&out);
			/* Room for every read: the test allocates nothing. */
			sl_buf_reserve(&out, 2 * plain.len + 8192);
			sl_alloc_fail_after(n);
			long before = sl_alloc_faults();
			int rc = decompress(kinds[k], comp.data, comp.len, 1024,
			                    0, 4096, &out);
			bool fired = sl_alloc_faults() > before;
			sl_alloc_fail_after(-1);
			if (!fired) {
				if (rc != 0 || out.len != 2 * plain.len)
					bad++;
				break;
			}
			if (rc != -1 || sl_diag_code() != SL_EOOM) {
				if (bad++ == 0)
					note("fault %d: rc %d %s", n, rc,
					     unit_errmsg());
			}
		}
		ok(bad == 0 && n > 1 && n < 200,
		   "%s: each of %d allocation points fails with EOOM, then "
		   "the data comes out whole",
		   name, n);
	}
	sl_buf_destroy(&plain);
	sl_buf_destroy(&comp);
	sl_buf_destroy(&out);
}

/** The misuse checks. */
TAP_CASE(misuse)
{
	struct memsource m;
	memsource_init(&m, "", 0, 0);
	struct sl_source src = memsource_source(&m, "d.bin");
	ok(sl_decomp_new(&src, SL_COMPRESSION_NONE, 10) == NULL &&
	           sl_diag_code() == SL_EINVAL,
	   "no compression: EINVAL");
	ok(sl_decomp_new(&src, SL_COMPRESSION_GZIP, 0) == NULL &&
	           sl_diag_code() == SL_EINVAL,
	   "zero input size: EINVAL");
	struct sl_decomp *d = sl_decomp_new(&src, SL_COMPRESSION_ZSTD, 10);
	struct sl_source s = sl_decomp_source(d);
	ok(s.read == sl_decomp_read && s.ctx == d &&
	           strcmp(s.name, "d.bin") == 0,
	   "the source is named like the inner one");
	sl_decomp_delete(d);
	sl_decomp_delete(NULL);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
