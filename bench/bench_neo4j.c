/*
 * `sluice run` of the compat airports pipeline into a Neo4j that only
 * acknowledges (tests/bolt/peer.js --sink), against the same run into
 * null:.
 *
 *   neo4j_rows_per_s      rows sent per wall second (value) by `sluice run
 *                         airports.yaml --target bolt://.../neo4j
 *                         --no-progress` on ROWS input rows (airports.h),
 *                         against the same rows per wall second of the
 *                         same run into null: (baseline), which builds
 *                         the same batches and sends nothing. Higher is
 *                         better; ratio = value / baseline (below 1 by
 *                         nature: it shows what sending costs).
 *   neo4j_cpu_us_per_row  sluice's CPU time (user + system, of the child
 *                         process) per row sent, in µs (value), against
 *                         the null: run's CPU time per the same row
 *                         (baseline). Lower is better; ratio = baseline /
 *                         value. The aim is at most 2 µs.
 *
 * A row is one element of a write statement's $rows: one node or
 * relationship write of a batch. The store counts every row it sent in
 * the writer's summary (against the sink, which returns no counts, each as
 * "not matched" or "skipped"); the benchmark reads that line.
 *
 * The peer runs once for all repetitions; it answers every message with a
 * canned SUCCESS without decoding it (see tests/bolt/README.md), so its
 * own CPU time is not sluice's. Each side runs BENCH_REPS times, alternately;
 * the medians count.
 *
 * Without Node.js or the npm packages of tests/bolt (scripts/setup), it
 * prints "# skipped: ..." and exits 0 (scripts/bench accepts that).
 *
 * usage: bench_neo4j [path/to/sluice [path/to/airport-codes.csv]]
 *
 * With SLUICE_BENCH_KEEP=1 the temporary directory is kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "airports.h"
#include "bench.h"
#include "spawn.h"

/** Input rows: enough for a run of more than a second. */
#define ROWS 250000UL
/** The pipeline file is PIPELINE.yaml. */
#define PIPELINE "airports"
/** The benchmark's name in messages. */
static const char bench[] = "bench_neo4j";

/** The peer: its process and port. */
struct peer {
	/** Its process id, or 0. */
	pid_t pid;
	/** Its port. */
	int port;
};

/** Whether `path` names an executable file. */
static bool
executable(const char *path)
{
	return path[0] != '\0' && access(path, X_OK) == 0;
}

/** Whether `path` exists. */
static bool
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/**
 * Start `node peer.js --sink` with its port file in `dir` and wait (up to
 * 10 s) for the port. 0, or -1.
 */
static int
peer_start(struct peer *p, const char *node, const char *dir)
{
	char portfile[300], log[300];
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	snprintf(log, sizeof(log), "%s/peer.log", dir);
	char *argv[] = {(char *)node, SLUICE_BOLT_DIR "/peer.js",
	                "--sink",     "--port-file",
	                portfile,     "--timeout",
	                "600",        NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, log,
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc = posix_spawn(&p->pid, node, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		p->pid = 0;
		fprintf(stderr, "%s: cannot start %s: %s\n", bench, node,
		        strerror(rc));
		return -1;
	}
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(portfile, "r");
		if (f != NULL) {
			int ok = fscanf(f, "%d", &p->port) == 1;
			fclose(f);
			if (ok)
				return 0;
		}
		usleep(50000);
	}
	fprintf(stderr, "%s: the peer did not start (its log: %s)\n", bench,
	        log);
	return -1;
}

/** Stop the peer (SIGTERM) and reap it. */
static void
peer_stop(struct peer *p)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	int status;
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
}

/**
 * The rows the store sent, from the writer's summary in the log at
 * `path`: "nodes: A created, B updated, C not matched; relationships: D
 * created, E updated, F skipped", summed. 0 if there is no such line.
 */
static uint64_t
rows_sent(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char line[4096];
	uint64_t rows = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *at = strstr(line, "nodes: ");
		uint64_t v[6];
		if (at != NULL &&
		    sscanf(at,
		           "nodes: %" SCNu64 " created, %" SCNu64
		           " updated, %" SCNu64 " not matched; relationships: "
		           "%" SCNu64 " created, %" SCNu64 " updated, %" SCNu64
		           " skipped",
		           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6)
			rows = v[0] + v[1] + v[2] + v[3] + v[4] + v[5];
	}
	fclose(f);
	return rows;
}

/** CPU seconds (user + system) of a resource usage. */
static double
cpu_of(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec +
	       (double)ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

/** One timed run of `sluice run` into `target`: wall and CPU seconds. */
static int
run_once(const char *sluice, const char *pipeline, const char *target,
         const char *errlog, double *wall, double *cpu)
{
	char *args[] = {(char *)sluice,
	                "run",
	                (char *)pipeline,
	                "--target",
	                (char *)target,
	                "--no-progress",
	                NULL};
	struct rusage ru;
	if (bench_spawn_ru(args, errlog, wall, &ru) != 0) {
		fprintf(stderr,
		        "%s: `%s run %s --target %s` failed (its log: %s)\n",
		        bench, sluice, pipeline, target, errlog);
		return -1;
	}
	*cpu = cpu_of(&ru);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : SLUICE_BIN;
	const char *fixture = argc > 2 ? argv[2] : AIRPORTS_FIXTURE;
	const char *node = SLUICE_NODE;
	if (!executable(node) ||
	    !exists(SLUICE_BOLT_DIR
	            "/node_modules/neo4j-driver-bolt-connection/"
	            "package.json")) {
		printf("# skipped: neo4j_rows_per_s and neo4j_cpu_us_per_row "
		       "need Node.js and the npm packages of tests/bolt (run "
		       "scripts/setup, then configure again)\n");
		return 0;
	}
	char dir[] = "/tmp/sluice-bench-neo4j-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char data[256], pipeline[256], errlog[256], target[300];
	snprintf(data, sizeof(data), "%s/airport-codes.csv", dir);
	snprintf(pipeline, sizeof(pipeline), "%s/" PIPELINE ".yaml", dir);
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", dir);
	const char *keep_env = getenv("SLUICE_BENCH_KEEP");
	bool keep = keep_env != NULL && strcmp(keep_env, "1") == 0;
	int status = 1;
	struct peer peer = {0};
	struct airports_tmpl tmpl;
	size_t bytes = 0;
	if (airports_tmpl_load(&tmpl, fixture) != 0) {
		fprintf(stderr, "%s: cannot read the rows of %s\n", bench,
		        fixture);
		goto out;
	}
	if (airports_generate_n(&tmpl, data, ROWS, &bytes) != 0 ||
	    airports_write_pipeline(pipeline, data) != 0) {
		perror("bench_neo4j: generating the input");
		goto out;
	}
	printf("# input: %lu rows, %.1f MB, from %zu template rows of %s\n",
	       ROWS, (double)bytes / 1e6, tmpl.n, tmpl.from);
	if (peer_start(&peer, node, dir) != 0)
		goto out;
	snprintf(target, sizeof(target), "bolt://neo4j:pw@127.0.0.1:%d/neo4j",
	         peer.port);

	double wall[2][BENCH_REPS], cpu[2][BENCH_REPS];
	uint64_t rows = 0;
	for (int rep = 0; rep < BENCH_REPS; rep++) {
		if (run_once(sluice, pipeline, target, errlog, &wall[0][rep],
		             &cpu[0][rep]) != 0) {
			keep = true;
			goto out;
		}
		uint64_t r = rows_sent(errlog);
		if (r == 0 || (rows != 0 && r != rows)) {
			fprintf(stderr,
			        "%s: no rows sent, or not as many as before "
			        "(%" PRIu64 ", then %" PRIu64 "; log: %s)\n",
			        bench, rows, r, errlog);
			keep = true;
			goto out;
		}
		rows = r;
		if (run_once(sluice, pipeline, "null:", errlog, &wall[1][rep],
		             &cpu[1][rep]) != 0) {
			keep = true;
			goto out;
		}
		printf("# run %d: neo4j %.3f s wall, %.3f s CPU; null: %.3f s "
		       "wall, %.3f s CPU\n",
		       rep + 1, wall[0][rep], cpu[0][rep], wall[1][rep],
		       cpu[1][rep]);
		fflush(stdout);
	}
	double w = bench_median(wall[0], BENCH_REPS);
	double c = bench_median(cpu[0], BENCH_REPS);
	double wn = bench_median(wall[1], BENCH_REPS);
	double cn = bench_median(cpu[1], BENCH_REPS);
	double per_s = (double)rows / w, per_s_null = (double)rows / wn;
	double us = c * 1e6 / (double)rows, us_null = cn * 1e6 / (double)rows;
	printf("# %" PRIu64 " rows sent per run (node and relationship "
	       "writes); null: %.0f input records/s\n",
	       rows, (double)ROWS / wn);
	bench_result("neo4j_rows_per_s", per_s, "rows/s", per_s_null,
	             per_s / per_s_null, 0);
	bench_result("neo4j_cpu_us_per_row", us, "us", us_null, us_null / us,
	             3);
	printf("# the store and the Bolt driver: %.3f us of CPU per row "
	       "(neo4j minus null:); aim: at most 2 us per row in all: %s\n",
	       us - us_null, us <= 2.0 ? "met" : "not met");
	status = 0;
out:
	peer_stop(&peer);
	airports_tmpl_free(&tmpl);
	if (keep) {
		fprintf(stderr, "%s: files kept in %s\n", bench, dir);
		return status;
	}
	char portfile[300], log[300];
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	snprintf(log, sizeof(log), "%s/peer.log", dir);
	unlink(data);
	unlink(pipeline);
	unlink(errlog);
	unlink(portfile);
	unlink(log);
	rmdir(dir);
	return status;
}
