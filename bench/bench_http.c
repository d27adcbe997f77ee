/*
 * The FileExtractor's http source end to end: `sluice run` reading one
 * generated JSON-lines file (200 MB) served on loopback by
 * tests/http_server.py, against the same pipeline reading the same file
 * locally, in the same run; a `print` step writes the records to
 * /dev/null in both.
 *
 *   http_file_mbps   MB/s over HTTP (value) and read locally (baseline);
 *                    ratio = value / baseline (higher is better; the aim
 *                    is at least 0.8). Median of 5 runs each, alternated.
 *
 * usage: bench_http [path/to/sluice] (default: the one built alongside)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "http_peer.h"
#include "spawn.h"

/** Bytes of the generated file. */
#define FILE_BYTES ((size_t)200 << 20)

/** Write `bytes` of generated JSON lines to `path`. 0, or -1. */
static int
generate(const char *path, size_t bytes)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	static char buf[1 << 12];
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
		                 "\"active\":%s,\"tags\":[\"a\",\"bb\",%u]}\n",
		                 i, (unsigned long)(x % 100000), i,
		                 (double)(x % 1000000) / 7.0,
		                 x & 1 ? "true" : "false", (unsigned)(x % 10));
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
			fclose(f);
			return -1;
		}
		total += (size_t)n;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/** Write a pipeline reading `source` (a sources entry) to `path`. */
static int
write_pipeline(const char *path, const char *source)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        "- implementation: nodestream.pipeline.extractors:"
	        "FileExtractor\n"
	        "  arguments:\n"
	        "    sources:\n"
	        "      - %s\n"
	        "- implementation: print\n"
	        "  arguments: {path: /dev/null}\n",
	        source);
	return fclose(f);
}

int
main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : SLUICE_BIN;
	char dir[] = "/tmp/sluice-bench-http-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char data[256], plocal[256], phttp[256], src[512];
	snprintf(data, sizeof(data), "%s/data.jsonl", dir);
	snprintf(plocal, sizeof(plocal), "%s/local.yaml", dir);
	snprintf(phttp, sizeof(phttp), "%s/http.yaml", dir);
	int status = 1;
	if (generate(data, FILE_BYTES) != 0) {
		perror("generating the input");
		goto out;
	}
	int port = http_peer_start(SLUICE_HTTP_SERVER, dir);
	if (port < 0) {
		fprintf(stderr, "bench_http: the HTTP server did not start\n");
		goto out;
	}
	snprintf(src, sizeof(src), "{type: local, globs: [\"%s\"]}", data);
	if (write_pipeline(plocal, src) != 0)
		goto out;
	snprintf(src, sizeof(src),
	         "{type: http, urls: [\"http://127.0.0.1:%d/files/"
	         "data.jsonl\"]}",
	         port);
	if (write_pipeline(phttp, src) != 0)
		goto out;
	char *run_local[] = {(char *)sluice, "run", plocal, "--no-progress",
	                     NULL};
	char *run_http[] = {(char *)sluice, "run", phttp, "--no-progress",
	                    NULL};
	double t_local[BENCH_REPS], t_http[BENCH_REPS];
	double mb = (double)FILE_BYTES / 1e6;
	for (int rep = 0; rep < BENCH_REPS; rep++) {
		long rss_l, rss_h;
		if (bench_spawn(run_local, NULL, &t_local[rep], &rss_l) != 0 ||
		    bench_spawn(run_http, NULL, &t_http[rep], &rss_h) != 0) {
			fprintf(stderr, "bench_http: a run of %s failed\n",
			        sluice);
			goto out;
		}
		printf("# rep %d: local %.1f MB/s (%ld KiB), http %.1f MB/s "
		       "(%ld KiB)\n",
		       rep, mb / t_local[rep], rss_l, mb / t_http[rep], rss_h);
	}
	double local = mb / bench_median(t_local, BENCH_REPS);
	double http = mb / bench_median(t_http, BENCH_REPS);
	bench_result("http_file_mbps", http, "MB/s", local, http / local, 1);
	status = 0;
out:
	http_peer_stop();
	unlink(data);
	unlink(plocal);
	unlink(phttp);
	rmdir(dir);
	return status;
}
