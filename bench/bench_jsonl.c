/*
 * JSON-lines parsing throughput: every record of a generated file of at
 * least 200 MB read through the JSON-lines reader into an arena reset every
 * 1000 records, against a plain read() loop over the same file with the
 * same chunk size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "sluice/arena.h"
#include "sluice/jsonread.h"

#define FILE_BYTES ((size_t)200 << 20)
#define CHUNK      ((size_t)1 << 20)
#define REPS       3

static ssize_t
fd_read(void *ctx, char *buf, size_t size)
{
	ssize_t n = read(*(int *)ctx, buf, size);
	if (n < 0)
		sl_diag_set_errno("read");
	return n;
}

/** Write the test file; returns its size, or 0. */
static size_t
generate(int fd)
{
	static char buf[1 << 16];
	size_t total = 0, n = 0;
	uint64_t x = 88172645463325252ull;
	for (unsigned long i = 0; total + n < FILE_BYTES || n > 0; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (total + n < FILE_BYTES)
			n += (size_t)snprintf(
			        buf + n, sizeof(buf) - n,
			        "{\"id\":%lu,\"name\":\"user %lu\",\"email\":"
			        "\"u%lu@example.org\",\"note\":\"line one\\n"
			        "\\\"quoted\\\" caf\\u00e9 \xc3\xa9t\xc3\xa9\","
			        "\"score\":%.6f,\"count\":%d,\"active\":%s,"
			        "\"parent\":null,\"geo\":{\"lat\":%.4f,\"lon\":"
			        "%.4f,\"city\":\"Springfield\"},\"tags\":["
			        "\"a\","
			        "\"bb\",\"ccc\",%u]}\n",
			        i, (unsigned long)(x % 100000), i,
			        (double)(x % 1000000) / 7.0,
			        (int)(x % 2000) - 1000,
			        x & 1 ? "true" : "false",
			        (double)(x % 18000) / 100.0 - 90.0,
			        (double)(x % 36000) / 100.0 - 180.0,
			        (unsigned)(x % 10));
		if (n > sizeof(buf) - 512 ||
		    (n > 0 && total + n >= FILE_BYTES)) {
			if (write(fd, buf, n) != (ssize_t)n)
				return 0;
			total += n;
			n = 0;
		}
		if (total >= FILE_BYTES && n == 0)
			break;
	}
	return total;
}

/** Seconds for a plain read() loop over the file. */
static double
run_baseline(const char *path)
{
	char *buf = malloc(CHUNK);
	int fd = open(path, O_RDONLY);
	uint64_t t0 = bench_now_ns();
	size_t sum = 0;
	ssize_t n;
	while ((n = read(fd, buf, CHUNK)) > 0)
		sum += (size_t)n + (unsigned char)buf[0];
	uint64_t t1 = bench_now_ns();
	close(fd);
	free(buf);
	if (sum == 1)
		printf("#\n");
	return (double)(t1 - t0) / 1e9;
}

/** Seconds to read every record; -1 on error. */
static double
run_jsonl(const char *path, unsigned long *records)
{
	int fd = open(path, O_RDONLY);
	struct sl_source src = {fd_read, &fd, path};
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.chunk_size = CHUNK;
	struct sl_jsonl_reader *r = sl_jsonl_reader_new(&src, &o);
	struct sl_arena arena;
	sl_arena_create(&arena, 1 << 20, (size_t)256 << 20);
	struct sl_value v;
	unsigned long n = 0;
	int rc;
	uint64_t t0 = bench_now_ns();
	while ((rc = sl_jsonl_next(r, &arena, &v)) == 1) {
		if (++n % 1000 == 0)
			sl_arena_reset(&arena);
	}
	uint64_t t1 = bench_now_ns();
	sl_arena_destroy(&arena);
	sl_jsonl_reader_delete(r);
	close(fd);
	*records = n;
	if (rc < 0) {
		bench_fail("bench_jsonl", "parse failed");
		return -1;
	}
	return (double)(t1 - t0) / 1e9;
}

int
main(void)
{
	char path[] = "/tmp/sluice_bench_jsonl_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	size_t size = generate(fd);
	close(fd);
	if (size == 0) {
		fprintf(stderr, "bench_jsonl: cannot write %s\n", path);
		unlink(path);
		return 1;
	}
	double mb = (double)size / 1e6;
	double base[REPS], val[REPS];
	unsigned long records = 0;
	for (int i = 0; i < REPS; i++) {
		base[i] = mb / run_baseline(path);
		double s = run_jsonl(path, &records);
		if (s < 0) {
			unlink(path);
			return 1;
		}
		val[i] = mb / s;
		printf("# rep %d: read() %.0f MB/s, jsonl %.0f MB/s (%lu "
		       "records, %.1f MB)\n",
		       i + 1, base[i], val[i], records, mb);
	}
	unlink(path);
	double b = bench_median(base, REPS), v = bench_median(val, REPS);
	bench_result("jsonl_parse_mbps", v, "MB/s", b, v / b, 1);
	return 0;
}
