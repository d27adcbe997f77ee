/*
 * The speed issue's graph workload end to end (bench/graph_workload.py:
 * 63,666 player records, one source node and four relationship
 * interpretations, one of them find_many) into the `null:` target.
 *
 *   run_graph_recs_per_s        records/s of `sluice run pipeline.yaml
 *                               --target null: --threads 1` (value, one
 *                               core) against records/s of reading and
 *                               parsing the same file with no step after
 *                               the extractor (baseline), best of
 *                               BENCH_REPS runs each, alternating; ratio =
 *                               value / baseline.
 *   run_graph_threads_speedup   records/s of the same run with --threads
 *                               at the number of cores (value) against
 *                               --threads 1 (baseline), best of BENCH_REPS
 *                               each, alternating; ratio = value /
 *                               baseline. Skipped on one core.
 *   run_graph_instr_per_record  user-space instructions per record of the
 *                               first two runs on 10,000 records, counted
 *                               by valgrind's callgrind (repeatable on a
 *                               noisy machine); ratio = value / baseline.
 *                               Skipped with a '#' line without valgrind.
 *   run_graph_instr_per_extra_record
 *                               the same counted on 20,000 records too:
 *                               the instructions of the second 10,000
 *                               per record, so without start-up (the
 *                               dynamic linker, opening the pipeline),
 *                               which the figure above shares out;
 *                               baseline: the same for the parse-only run.
 *
 * Each run must exit 0 and its summary must count every record.
 *
 * usage: bench_graph_run [path/to/sluice [RECORDS]]
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "spawn.h"

/** Name in messages. */
static const char bench[] = "bench_graph_run";

/** Records of the callgrind runs. */
#define CALLGRIND_RECORDS 10000

/** Generate the workload of `n` records in `dir`. 0, or -1. */
static int
generate(const char *dir, long n)
{
	char num[32];
	snprintf(num, sizeof(num), "%ld", n);
	char *argv[] = {"/usr/bin/python3",
	                SLUICE_SOURCE_DIR "/bench/graph_workload.py",
	                (char *)dir, num, NULL};
	double secs;
	if (bench_spawn(argv, NULL, &secs, NULL) != 0) {
		fprintf(stderr, "%s: bench/graph_workload.py failed\n", bench);
		return -1;
	}
	/* The baseline: the extractor alone. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/parse.yaml", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        "- implementation: "
	        "nodestream.pipeline.extractors.files:FileExtractor\n"
	        "  factory: local\n"
	        "  arguments:\n"
	        "    globs: [%s/workload.jsonl]\n",
	        dir);
	return fclose(f) == 0 ? 0 : -1;
}

/** Whether the --json summary in `path` counts `n` records read. */
static int
counted(const char *path, long n)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char want[64];
	snprintf(want, sizeof(want), "\"in\":0,\"out\":%ld,", n);
	char line[8192];
	int found = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "\"event\":\"summary\"") != NULL &&
		    strstr(line, want) != NULL)
			found = 1;
	fclose(f);
	return found;
}

/**
 * Run `pipeline` (in `dir`) on `threads` threads, into `null:` when
 * `target`; its wall seconds in *secs. 0, or -1 unless it exits 0 having
 * read `n` records.
 */
static int
run(const char *sluice, const char *dir, const char *pipeline, bool target,
    long threads, long n, double *secs)
{
	char pipe[4096], err[4096], th[32];
	snprintf(pipe, sizeof(pipe), "%s/%s", dir, pipeline);
	snprintf(err, sizeof(err), "%s/err.txt", dir);
	snprintf(th, sizeof(th), "%ld", threads);
	char *with[] = {(char *)sluice,
	                "run",
	                pipe,
	                "--target",
	                "null:",
	                "--json",
	                "--no-progress",
	                "--threads",
	                th,
	                NULL};
	char *without[] = {(char *)sluice,  "run",       pipe, "--json",
	                   "--no-progress", "--threads", th,   NULL};
	if (bench_spawn(target ? with : without, err, secs, NULL) != 0 ||
	    !counted(err, n)) {
		fprintf(stderr, "%s: sluice run %s failed (see %s)\n", bench,
		        pipeline, err);
		return -1;
	}
	return 0;
}

/**
 * Instructions of `sluice run` of `pipeline` under callgrind, in *out.
 * 0, or -1.
 */
static int
instructions(const char *sluice, const char *dir, const char *pipeline,
             bool target, double *out)
{
	char pipe[4096], err[4096], cg[4096];
	snprintf(pipe, sizeof(pipe), "%s/%s", dir, pipeline);
	snprintf(err, sizeof(err), "%s/cg.txt", dir);
	snprintf(cg, sizeof(cg), "--callgrind-out-file=%s/cg.out", dir);
	char *argv[] = {"/usr/bin/valgrind",
	                "--tool=callgrind",
	                cg,
	                (char *)sluice,
	                "run",
	                pipe,
	                "--no-progress",
	                "--threads",
	                "1",
	                target ? "--target" : NULL,
	                "null:",
	                NULL};
	double secs;
	if (bench_spawn(argv, err, &secs, NULL) != 0)
		return -1;
	FILE *f = fopen(err, "r");
	if (f == NULL)
		return -1;
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *c = strstr(line, "Collected : ");
		if (c != NULL) {
			*out = strtod(c + 12, NULL);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : SLUICE_BIN;
	long n = argc > 2 ? atol(argv[2]) : 63666;
	char dir[] = "/tmp/sluice-bench-graph-XXXXXX";
	if (mkdtemp(dir) == NULL || generate(dir, n) != 0)
		return 1;
	double best_run = 1e30, best_parse = 1e30;
	int rc = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	double best_all = 1e30;
	for (int i = 0; i < BENCH_REPS && rc == 0; i++) {
		double a, b, c = 0;
		if (run(sluice, dir, "pipeline.yaml", true, 1, n, &a) != 0 ||
		    run(sluice, dir, "parse.yaml", false, 1, n, &b) != 0 ||
		    (cores > 1 && run(sluice, dir, "pipeline.yaml", true, cores,
		                      n, &c) != 0)) {
			rc = 1;
			break;
		}
		best_run = a < best_run ? a : best_run;
		best_parse = b < best_parse ? b : best_parse;
		best_all = c < best_all ? c : best_all;
	}
	if (rc == 0) {
		double v = (double)n / best_run, base = (double)n / best_parse;
		printf("# %ld records: best of %d, %.3f s through the graph "
		       "writer on one thread, %.3f s parse only\n",
		       n, BENCH_REPS, best_run, best_parse);
		bench_result("run_graph_recs_per_s", v, "rec/s", base, v / base,
		             0);
		if (cores > 1) {
			double all = (double)n / best_all;
			printf("# %.3f s with %ld threads\n", best_all, cores);
			bench_result("run_graph_threads_speedup", all, "rec/s",
			             v, all / v, 0);
		} else {
			printf("# skipped run_graph_threads_speedup: one "
			       "core\n");
		}
	}
	char small[sizeof(dir) + 16];
	snprintf(small, sizeof(small), "%s/cg", dir);
	if (rc == 0 && access("/usr/bin/valgrind", X_OK) != 0) {
		printf("# skipped run_graph_instr_per_record: no valgrind\n");
	} else if (rc == 0) {
		double a, b, a2, b2;
		if (mkdir(small, 0700) != 0 ||
		    generate(small, CALLGRIND_RECORDS) != 0 ||
		    instructions(sluice, small, "pipeline.yaml", true, &a) !=
		            0 ||
		    instructions(sluice, small, "parse.yaml", false, &b) != 0 ||
		    generate(small, 2 * CALLGRIND_RECORDS) != 0 ||
		    instructions(sluice, small, "pipeline.yaml", true, &a2) !=
		            0 ||
		    instructions(sluice, small, "parse.yaml", false, &b2) !=
		            0) {
			fprintf(stderr, "%s: the callgrind runs failed\n",
			        bench);
			rc = 1;
		} else {
			bench_result("run_graph_instr_per_record",
			             a / CALLGRIND_RECORDS, "instr",
			             b / CALLGRIND_RECORDS, a / b, 0);
			bench_result("run_graph_instr_per_extra_record",
			             (a2 - a) / CALLGRIND_RECORDS, "instr",
			             (b2 - b) / CALLGRIND_RECORDS,
			             (a2 - a) / (b2 - b), 0);
		}
	}
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: could not remove %s\n", bench, dir);
	return rc;
}
