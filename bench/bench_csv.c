/*
 * Benchmark: CSV parsing throughput.
 *
 * csv_parse_mbps: MB/s (10^6 bytes per second) of sl_csv_next() over a
 * generated CSV file of about 210 MB (10 columns; plain numbers and words,
 * quoted fields with embedded delimiters, doubled quotes, line breaks and
 * UTF-8), every record built in an arena that is reset every 1000 records
 * (value), against a plain read() loop over the same file with the same
 * 1 MiB chunk size (baseline), page cache warm. ratio = value / baseline
 * (> 1 would mean parsing is faster than reading). Median of 3 repetitions.
 * The file is deleted at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "sluice/arena.h"
#include "sluice/csv.h"
#include "sluice/diag.h"
#include "sluice/source.h"

/** Size of the generated file, at least. */
#define FILE_BYTES ((size_t)210 * 1000 * 1000)
/** Bytes per read, for both sides. */
#define CHUNK ((size_t)1 << 20)
/** Repetitions. */
#define REPS 3
/** Records between arena resets. */
#define RESET_EVERY 1000

/** xorshift64 state. */
static uint64_t rng = 0x9e3779b97f4a7c15u;

/** The next pseudo-random number. */
static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/** Append one field of kind `k` to `p`; returns the new end. */
static char *
gen_field(char *p, unsigned k)
{
	static const char *words[] = {"alpha", "bravo",   "charlie", "delta",
	                              "echo",  "foxtrot", "golf",    "hotel"};
	uint64_t x = next_rand();
	switch (k) {
	case 0:
		return p + sprintf(p, "%" PRIu64, x % 100000000u);
	case 1:
		return p + sprintf(p, "%s", words[x % 8]);
	case 2:
		return p + sprintf(p, "\"%s, %s\"", words[x % 8],
		                   words[(x >> 8) % 8]);
	case 3:
		return p + sprintf(p, "\"she said \"\"%s\"\"\"", words[x % 8]);
	case 4:
		return p + sprintf(p, "\"line one\nline %s\"", words[x % 8]);
	case 5:
		return p + sprintf(p, "caf\xc3\xa9 %s", words[x % 8]);
	case 6:
		return p + sprintf(p, "%" PRIu64 ".%02u", x % 100000u,
		                   (unsigned)(x >> 32) % 100u);
	default:
		return p + sprintf(p, "%s-%s-%" PRIu64, words[x % 8],
		                   words[(x >> 4) % 8], (x >> 16) % 1000u);
	}
}

/** Write the test file; returns 0 or -1. */
static int
gen_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	char *buf = malloc(CHUNK + 4096);
	if (buf == NULL) {
		close(fd);
		return -1;
	}
	char *p = buf;
	p += sprintf(p, "id,name,pair,quote,note,city,price,tag,code,"
	                "comment\n");
	size_t total = 0;
	uint64_t row = 0;
	while (total + (size_t)(p - buf) < FILE_BYTES) {
		p += sprintf(p, "%" PRIu64, row++);
		for (unsigned c = 1; c < 10; c++) {
			*p++ = ',';
			unsigned k = (unsigned)(next_rand() % 16);
			p = gen_field(p, k < 8 ? k : (k % 2 ? 0 : 1));
		}
		*p++ = '\n';
		if ((size_t)(p - buf) >= CHUNK) {
			size_t n = (size_t)(p - buf);
			if (write(fd, buf, n) != (ssize_t)n)
				goto fail;
			total += n;
			p = buf;
		}
	}
	size_t n = (size_t)(p - buf);
	if (write(fd, buf, n) != (ssize_t)n)
		goto fail;
	free(buf);
	return close(fd);
fail:
	free(buf);
	close(fd);
	return -1;
}

/** Source reading a file descriptor. */
static ssize_t
fd_read(void *ctx, char *buf, size_t size)
{
	ssize_t n;
	do
		n = read(*(int *)ctx, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		sl_diag_set_errno("read");
	return n;
}

/** Time a plain read() loop over `path`; returns seconds, bytes in *n. */
static double
run_read(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	char *buf = malloc(CHUNK);
	size_t total = 0;
	uint64_t t0 = bench_now_ns();
	ssize_t got;
	while ((got = read(fd, buf, CHUNK)) > 0)
		total += (size_t)got;
	uint64_t t1 = bench_now_ns();
	free(buf);
	close(fd);
	*n = total;
	return got < 0 ? -1 : (double)(t1 - t0) / 1e9;
}

/** Time parsing `path`; returns seconds (-1 on error), records in *recs. */
static double
run_parse(const char *path, uint64_t *recs)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	struct sl_source src = {fd_read, &fd, path};
	struct sl_csv_opts o;
	sl_csv_opts_init(&o);
	o.chunk_size = CHUNK;
	struct sl_arena arena;
	sl_arena_create(&arena, (size_t)1 << 20, (size_t)1 << 30);
	uint64_t t0 = bench_now_ns();
	struct sl_csv_reader *r = sl_csv_reader_new(&src, &o);
	double res = -1;
	if (r != NULL) {
		struct sl_value v;
		uint64_t count = 0;
		int rc;
		while ((rc = sl_csv_next(r, &arena, &v)) == 1) {
			if (++count % RESET_EVERY == 0)
				sl_arena_reset(&arena);
		}
		uint64_t t1 = bench_now_ns();
		*recs = count;
		if (rc == 0)
			res = (double)(t1 - t0) / 1e9;
		sl_csv_reader_delete(r);
	}
	sl_arena_destroy(&arena);
	close(fd);
	return res;
}

int
main(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/sluice_bench_csv_%d.csv",
	         (int)getpid());
	if (gen_file(path) != 0) {
		fprintf(stderr, "bench_csv: cannot write %s: %s\n", path,
		        strerror(errno));
		unlink(path);
		return 1;
	}
	size_t bytes = 0;
	if (run_read(path, &bytes) < 0) {
		fprintf(stderr, "bench_csv: cannot read %s\n", path);
		unlink(path);
		return 1;
	}
	printf("# file %s: %zu bytes\n", path, bytes);
	double base[REPS], val[REPS];
	for (int i = 0; i < REPS; i++) {
		size_t n;
		double s = run_read(path, &n);
		base[i] = (double)n / 1e6 / s;
		uint64_t recs = 0;
		double t = run_parse(path, &recs);
		if (t < 0) {
			bench_fail("bench_csv", "parsing failed");
			unlink(path);
			return 1;
		}
		val[i] = (double)bytes / 1e6 / t;
		printf("# rep %d: read %.0f MB/s, parse %.0f MB/s (%" PRIu64
		       " records)\n",
		       i + 1, base[i], val[i], recs);
	}
	unlink(path);
	double v = bench_median(val, REPS), b = bench_median(base, REPS);
	bench_result("csv_parse_mbps", v, "MB/s", b, v / b, 0);
	return 0;
}
