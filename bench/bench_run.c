/*
 * `sluice run` end to end: a FileExtractor reading a JSON-lines file and a
 * print step writing to /dev/null, on a generated file of 100 MB and one
 * of 1 GB.
 *
 *   run_rss_flat     peak RSS on 1 GB (value) against peak RSS on 100 MB
 *                    (baseline); ratio = value / baseline, which must stay
 *                    at most 1.1: memory does not grow with the input.
 *   run_jsonl_mbps   throughput of that run on 1 GB (value) against
 *                    `cat FILE > /dev/null` (baseline); ratio = value /
 *                    baseline.
 *   run_jsonl_progress_mbps
 *                    throughput of the same run on 1 GB with progress
 *                    reports every 0.1 s, the Prometheus endpoint up and
 *                    --metrics-file (value), against the run without them
 *                    (baseline, the value of run_jsonl_mbps); ratio =
 *                    value / baseline, which should be 1 within the noise.
 *
 * usage: bench_run [path/to/sluice] (default: the one built alongside)
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "spawn.h"

/** Write `bytes` of generated JSON lines to `path`. 0, or -1. */
static int
generate(const char *path, size_t bytes)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	static char buf[1 << 16];
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	size_t total = 0;
	uint64_t x = 88172645463325252ull;
	for (unsigned long i = 0; total < bytes; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int n = snprintf(buf, sizeof(buf),
		                 "{\"id\":%lu,\"name\":\"user %lu\",\"email\":"
		                 "\"u%lu@example.org\",\"score\":%.6f,"
		                 "\"active\":%s,\"geo\":{\"lat\":%.4f,\"lon\":"
		                 "%.4f},\"tags\":[\"a\",\"bb\",%u]}\n",
		                 i, (unsigned long)(x % 100000), i,
		                 (double)(x % 1000000) / 7.0,
		                 x & 1 ? "true" : "false",
		                 (double)(x % 18000) / 100.0 - 90.0,
		                 (double)(x % 36000) / 100.0 - 180.0,
		                 (unsigned)(x % 10));
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
			fclose(f);
			return -1;
		}
		total += (size_t)n;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/**
 * Run argv with its output discarded; return its peak RSS in KiB and its
 * wall time, or -1 if it failed.
 */
static long
run(char *const argv[], double *secs)
{
	long rss;
	return bench_spawn(argv, NULL, secs, &rss) == 0 ? rss : -1;
}

/** Write the pipeline file reading `data` to `path`. */
static int
write_pipeline(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        "- implementation: nodestream.pipeline.extractors:"
	        "FileExtractor\n"
	        "  factory: local\n"
	        "  arguments:\n"
	        "    globs: [\"%s\"]\n"
	        "- implementation: print\n"
	        "  arguments: {path: /dev/null}\n",
	        data);
	return fclose(f);
}

int
main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : SLUICE_BIN;
	char dir[] = "/tmp/sluice-bench-run-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char small[256], big[256], psmall[256], pbig[256];
	snprintf(small, sizeof(small), "%s/small.jsonl", dir);
	snprintf(big, sizeof(big), "%s/big.jsonl", dir);
	snprintf(psmall, sizeof(psmall), "%s/small.yaml", dir);
	snprintf(pbig, sizeof(pbig), "%s/big.yaml", dir);
	int status = 1;
	if (generate(small, (size_t)100 << 20) != 0 ||
	    generate(big, (size_t)1 << 30) != 0 ||
	    write_pipeline(psmall, small) != 0 ||
	    write_pipeline(pbig, big) != 0) {
		perror("generating the input");
		goto out;
	}
	char *run_small[] = {(char *)sluice, "run", psmall, "--no-progress",
	                     NULL};
	char *run_big[] = {(char *)sluice, "run", pbig, "--no-progress", NULL};
	char *cat_big[] = {"/bin/cat", big, NULL};
	char *run_metrics[] = {(char *)sluice,
	                       "run",
	                       pbig,
	                       "--progress-interval",
	                       "0.1",
	                       "--prometheus",
	                       "--prometheus-listen-port",
	                       "0",
	                       "--prometheus-listen-address",
	                       "127.0.0.1",
	                       "--metrics-file",
	                       "/dev/null",
	                       NULL};
	double t_metrics, best_metrics = 1e9;
	double t_small, t_big, t_cat, best_big = 1e9, best_cat = 1e9;
	long rss_small = 0, rss_big = 0;
	for (int rep = 0; rep < 2; rep++) {
		long a = run(run_small, &t_small);
		long b = run(run_big, &t_big);
		long c = run(cat_big, &t_cat);
		long d = run(run_metrics, &t_metrics);
		if (a < 0 || b < 0 || c < 0 || d < 0) {
			fprintf(stderr, "bench_run: a run of %s failed\n",
			        sluice);
			goto out;
		}
		if (a > rss_small)
			rss_small = a;
		if (b > rss_big)
			rss_big = b;
		if (t_big < best_big)
			best_big = t_big;
		if (t_cat < best_cat)
			best_cat = t_cat;
		if (t_metrics < best_metrics)
			best_metrics = t_metrics;
	}
	double mb = (double)((size_t)1 << 30) / 1e6;
	printf("BENCH run_rss_flat value=%ld unit=KiB baseline=%ld "
	       "ratio=%.3f\n",
	       rss_big, rss_small, (double)rss_big / (double)rss_small);
	printf("BENCH run_jsonl_mbps value=%.1f unit=MB/s baseline=%.1f "
	       "ratio=%.3f\n",
	       mb / best_big, mb / best_cat, best_cat / best_big);
	printf("BENCH run_jsonl_progress_mbps value=%.1f unit=MB/s "
	       "baseline=%.1f ratio=%.3f\n",
	       mb / best_metrics, mb / best_big, best_big / best_metrics);
	status = 0;
out:
	unlink(small);
	unlink(big);
	unlink(psmall);
	unlink(pbig);
	rmdir(dir);
	return status;
}
