/*
 * `sluice run` of the compat airports pipeline (FileExtractor + Interpreter,
 * nodestream v0.16.1 tests/integration/fixtures/pipelines/airports.yaml) on
 * a generated CSV of 1,000,000 rows in the shape of its fixture
 * (tests/data/airport-codes.csv).
 *
 *   interpret_recs_per_s  records/s of the airports pipeline, whose last
 *                         step is the Interpreter (its output is discarded;
 *                         no writer), against records/s of the same
 *                         FileExtractor alone on the same file (baseline:
 *                         parse only). ratio = value / baseline, at most 1
 *                         by nature: the share of the parse-only rate that
 *                         is left once the interpreter runs too.
 *
 * Each pipeline runs twice (`sluice run FILE --no-progress --json`); the
 * best wall time counts. Both runs must exit 0 and the summary must say
 * that the last step put out one record per row.
 *
 * The input and the pipeline come from airports.h (shared with
 * bench_sqlite_load): rows built from the fixture's rows, read from
 * SLUICE_COMPAT_DIR/airports/tests/data/airport-codes.csv (or from a few of
 * them built in if that file is missing), with unique idents and varied
 * countries and regions.
 *
 * usage: bench_interpret [path/to/sluice [path/to/airport-codes.csv]]
 *
 * With SLUICE_BENCH_KEEP=1 in the environment the temporary directory (the
 * input and both pipeline files) is kept, e.g. to profile a run by hand.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "airports.h"
#include "bench.h"
#include "spawn.h"

/**
 * Run `sluice run PIPELINE --no-progress --json`, stdout to /dev/null and
 * stderr to `errpath`. Return its wall time, or -1 if it did not exit 0.
 */
static double
run(const char *sluice, const char *pipeline, const char *errpath)
{
	char *argv[] = {(char *)sluice,  "run",    (char *)pipeline,
	                "--no-progress", "--json", NULL};
	double secs;
	return bench_spawn(argv, errpath, &secs, NULL) == 0 ? secs : -1;
}

/**
 * The `out` count of step `step` (e.g. "1:Interpreter") in the summary
 * line of the JSON log in `errpath`, or -1.
 */
static long long
step_out(const char *errpath, const char *step)
{
	FILE *f = fopen(errpath, "r");
	if (f == NULL)
		return -1;
	char line[8192], key[128];
	snprintf(key, sizeof(key), "{\"name\":\"%s\",", step);
	long long out = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "\"event\":\"summary\"") == NULL)
			continue;
		const char *s = strstr(line, key);
		const char *o = s != NULL ? strstr(s, ",\"out\":") : NULL;
		if (o != NULL)
			out = strtoll(o + 7, NULL, 10);
	}
	fclose(f);
	return out;
}

/** Best of two runs, each checked; -1 on a failure (reported). */
static double
best_of_two(const char *sluice, const char *pipeline, const char *errpath,
            const char *step, const char *what)
{
	double best = -1;
	for (int rep = 0; rep < 2; rep++) {
		double t = run(sluice, pipeline, errpath);
		if (t < 0) {
			fprintf(stderr,
			        "bench_interpret: %s: `%s run %s` failed "
			        "(its log: %s)\n",
			        what, sluice, pipeline, errpath);
			return -1;
		}
		long long out = step_out(errpath, step);
		if (out != (long long)AIRPORTS_ROWS) {
			fprintf(stderr,
			        "bench_interpret: %s: step %s put out %lld "
			        "records, expected %lu\n",
			        what, step, out, AIRPORTS_ROWS);
			return -1;
		}
		printf("# %s run %d: %.3f s\n", what, rep + 1, t);
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

int
main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : SLUICE_BIN;
	const char *fixture = argc > 2 ? argv[2] : AIRPORTS_FIXTURE;
	char dir[] = "/tmp/sluice-bench-interp-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char data[256], pint[256], ppar[256], errlog[256];
	snprintf(data, sizeof(data), "%s/airport-codes.csv", dir);
	snprintf(pint, sizeof(pint), "%s/airports.yaml", dir);
	snprintf(ppar, sizeof(ppar), "%s/parse-only.yaml", dir);
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", dir);
	int status = 1;
	const char *keep_env = getenv("SLUICE_BENCH_KEEP");
	bool keep = keep_env != NULL && strcmp(keep_env, "1") == 0;
	bool keep_log = false;
	struct airports_tmpl tmpl;
	size_t bytes = 0;
	if (airports_tmpl_load(&tmpl, fixture) != 0) {
		fprintf(stderr, "bench_interpret: cannot read the rows of %s\n",
		        fixture);
		goto out;
	}
	if (airports_generate(&tmpl, data, &bytes) != 0 ||
	    airports_write_pipeline(pint, data) != 0 ||
	    airports_write_parse_pipeline(ppar, data) != 0) {
		perror("bench_interpret: generating the input");
		goto out;
	}
	printf("# input: %lu rows, %.1f MB, from %zu template rows of %s\n",
	       AIRPORTS_ROWS, (double)bytes / 1e6, tmpl.n, tmpl.from);
	fflush(stdout);
	double t_parse = best_of_two(sluice, ppar, errlog, "0:FileExtractor",
	                             "parse only");
	double t_interp =
	        t_parse < 0 ? -1
	                    : best_of_two(sluice, pint, errlog, "1:Interpreter",
	                                  "airports interpreter");
	if (t_parse < 0 || t_interp < 0) {
		keep_log = true;
		goto out;
	}
	double value = (double)AIRPORTS_ROWS / t_interp,
	       base = (double)AIRPORTS_ROWS / t_parse;
	bench_result("interpret_recs_per_s", value, "records/s", base,
	             value / base, 0);
	printf("# wall seconds (best of 2): interpreter pipeline %.3f, "
	       "parse only %.3f\n",
	       t_interp, t_parse);
	printf("# not measured in this run: Nodestream's interpreter ran "
	       "about 4,500-6,700 records/s on this machine (issue figure); "
	       "value / 6700 = %.1f\n",
	       value / 6700.0);
	status = 0;
out:
	if (keep) {
		fprintf(stderr, "bench_interpret: input kept in %s\n", dir);
		goto free_rows;
	}
	unlink(data);
	unlink(pint);
	unlink(ppar);
	if (keep_log) {
		/* Keep the failing run's log for a look. */
		fprintf(stderr, "bench_interpret: log kept in %s\n", errlog);
	} else {
		unlink(errlog);
		rmdir(dir);
	}
free_rows:
	airports_tmpl_free(&tmpl);
	return status;
}
