/*
 * A re-run of the same input into PostgreSQL against the fresh load that
 * wrote it.
 *
 *   pg_rerun_vs_fresh  wall seconds of `sluice run airports.yaml --target
 *                      postgresql://.../sl_bench_rerun --no-progress` on
 *                      the ROWS-row input of airports.h into the database
 *                      that the same command has just loaded (value),
 *                      against the wall seconds of that first, fresh load
 *                      into an empty database (baseline). Lower is better;
 *                      ratio = value / baseline (the target is at most
 *                      1.1).
 *
 * The input does not change between the runs, but the graph does: the
 * interpreter stamps every node and relationship with the run's time
 * (last_ingested_at and last_ingested_by_airports_at), so the re-run
 * updates every row it names, and creates none.
 *
 * The server is that of SLUICE_BENCH_PG (a URI with a database the user
 * may connect to, as scripts/bench sets it after tests/pg_server start DIR
 * --bench; the user must be allowed to create databases and run
 * CHECKPOINT). The benchmark creates the database sl_bench_rerun (dropped
 * first if it exists, and at the end) and connects to it by replacing the
 * path of SLUICE_BENCH_PG.
 *
 * One round: the database dropped and created empty, CHECKPOINT, the
 * fresh load (TIMED: baseline), CHECKPOINT, the re-run (TIMED: value), each
 * from spawning `sluice` to its exit, which must be 0. Two rounds; the
 * best time of each side counts. After each re-run the graph must hold
 * exactly the rows the fresh load made (count per node and relationship
 * type, and the sum of their ids), each with the re-run's timestamp;
 * otherwise the benchmark fails (exit 1). It prints how many of the
 * re-run's row updates PostgreSQL made in place (HOT: no index entries)
 * and the database's size after each run.
 *
 * usage: bench_pg_rerun [path/to/sluice [path/to/airport-codes.csv]]
 *
 * Without SLUICE_BENCH_PG it exits 2. With SLUICE_BENCH_KEEP=1 the
 * database and the temporary directory (input and pipeline) are kept.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "airports.h"
#include "bench.h"
#include "pq.h"
#include "spawn.h"

/** The pipeline file is PIPELINE.yaml, which names the ingestion marks. */
#define PIPELINE "airports"
/** The database sluice writes. */
#define DB "sl_bench_rerun"
/** Input rows: a round of both runs takes about half a minute. */
#define ROWS 100000UL
/** Rounds; the best time of each side counts. */
#define ROUNDS 2
/** Room for a URI. */
#define URI_MAX 1024

/** Name in messages. */
static const char bench[] = "bench_pg_rerun";

/**
 * The rows of `sql`'s result as text in `out` (`size` bytes): columns
 * separated by spaces, rows by newlines. 0, or -1 (reported).
 */
static int
pg_text(PGconn *pg, const char *sql, char *out, size_t size)
{
	PGresult *r = PQexec(pg, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return pq_fail(bench, pg, sql);
	}
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < PQntuples(r); i++)
		for (int j = 0; j < PQnfields(r); j++) {
			int n = snprintf(out + len, size - len, "%s%s%s",
			                 PQgetvalue(r, i, j),
			                 j + 1 < PQnfields(r) ? " " : "",
			                 j + 1 < PQnfields(r) ? "" : "\n");
			if (n < 0 || (size_t)n >= size - len) {
				PQclear(r);
				fprintf(stderr, "%s: %s: result too long\n",
				        bench, sql);
				return -1;
			}
			len += (size_t)n;
		}
	PQclear(r);
	return 0;
}

/** The one value of `sql` with text parameter $1 = `arg`, in `out`. */
static int
pg_value1(PGconn *pg, const char *sql, const char *arg, char *out, size_t size)
{
	PGresult *r = PQexecParams(pg, sql, 1, NULL, &arg, NULL, NULL, 0);
	int rc = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    PQnfields(r) == 1 && !PQgetisnull(r, 0, 0) &&
	    (size_t)snprintf(out, size, "%s", PQgetvalue(r, 0, 0)) < size)
		rc = 0;
	PQclear(r);
	return rc == 0 ? 0 : pq_fail(bench, pg, sql);
}

/** Drop database DB if it exists; create it empty if `create`. 0/-1. */
static int
reset_db(PGconn *admin, bool create)
{
	if (pq_exec(bench, admin,
	            "DROP DATABASE IF EXISTS " DB " WITH (FORCE)") != 0)
		return -1;
	return create ? pq_exec(bench, admin, "CREATE DATABASE " DB) : 0;
}

/** Run sluice on `pipeline` into `uri`: 0 with the wall time, or -1. */
static int
run_sluice(const char *sluice, const char *pipeline, const char *uri,
           const char *errlog, double *secs)
{
	char *args[] = {(char *)sluice,
	                "run",
	                (char *)pipeline,
	                "--target",
	                (char *)uri,
	                "--no-progress",
	                NULL};
	if (bench_spawn(args, errlog, secs, NULL) != 0) {
		fprintf(stderr,
		        "%s: `%s run %s --target .../" DB
		        "` failed (its log: %s)\n",
		        bench, sluice, pipeline, errlog);
		return -1;
	}
	return 0;
}

/** Per type: the count and the sum of ids, of nodes then relationships. */
static const char graph_sql[] =
        "SELECT 'node', type, count(*), sum(id) FROM node GROUP BY type "
        "UNION ALL SELECT 'rel', type, count(*), sum(id) FROM rel "
        "GROUP BY type ORDER BY 1, 2";
/** The newest ingestion time of any node or relationship. */
static const char newest_sql[] =
        "SELECT greatest((SELECT max(props ->> 'last_ingested_at') FROM node),"
        " (SELECT max(props ->> 'last_ingested_at') FROM rel))";
/** Nodes and relationships whose ingestion time is not after $1. */
static const char stale_sql[] =
        "SELECT (SELECT count(*) FROM node WHERE"
        " coalesce(props ->> 'last_ingested_at', '') <= $1) +"
        " (SELECT count(*) FROM rel WHERE"
        " coalesce(props ->> 'last_ingested_at', '') <= $1)";
/** HOT and all updates of node and rel, and the database size. */
static const char stats_sql[] =
        "SELECT sum(n_tup_hot_upd), sum(n_tup_upd),"
        " pg_size_pretty(pg_database_size(current_database()))"
        " FROM pg_stat_user_tables WHERE relname IN ('node', 'rel')";

int
main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : SLUICE_BIN;
	const char *fixture = argc > 2 ? argv[2] : AIRPORTS_FIXTURE;
	const char *base = getenv("SLUICE_BENCH_PG");
	if (base == NULL || *base == '\0') {
		fprintf(stderr,
		        "%s: SLUICE_BENCH_PG is not set: it needs a PostgreSQL "
		        "server (postgresql://USER:PW@HOST:PORT/DB, a user who "
		        "may create databases); scripts/bench starts one\n",
		        bench);
		return 2;
	}
	char uri[URI_MAX];
	if (pq_uri_for(base, DB, uri, sizeof(uri)) != 0) {
		fprintf(stderr, "%s: SLUICE_BENCH_PG is no postgresql:// URI\n",
		        bench);
		return 2;
	}
	char dir[] = "/tmp/sluice-bench-rerun-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char data[256], pipeline[256], errlog[256];
	snprintf(data, sizeof(data), "%s/airport-codes.csv", dir);
	snprintf(pipeline, sizeof(pipeline), "%s/" PIPELINE ".yaml", dir);
	snprintf(errlog, sizeof(errlog), "%s/stderr.log", dir);
	const char *keep_env = getenv("SLUICE_BENCH_KEEP");
	bool keep = keep_env != NULL && strcmp(keep_env, "1") == 0;
	bool keep_log = false;
	int status = 1;
	struct airports_tmpl tmpl;
	size_t bytes = 0;
	PGconn *admin = NULL, *pg = NULL;
	if (airports_tmpl_load(&tmpl, fixture) != 0) {
		fprintf(stderr, "%s: cannot read the rows of %s\n", bench,
		        fixture);
		goto out;
	}
	if (airports_generate_n(&tmpl, data, ROWS, &bytes) != 0 ||
	    airports_write_pipeline(pipeline, data) != 0) {
		perror("bench_pg_rerun: generating the input");
		goto out;
	}
	printf("# input: %lu rows, %.1f MB, from %zu template rows of %s\n",
	       ROWS, (double)bytes / 1e6, tmpl.n, tmpl.from);
	fflush(stdout);
	if ((admin = pq_connect(bench, base)) == NULL ||
	    pq_exec(bench, admin, "SET client_min_messages = warning") != 0)
		goto out;

	double best_f = -1, best_r = -1;
	char fresh[4096], again[4096], stats[256], newest[128], stale[64];
	for (int round = 1; round <= ROUNDS; round++) {
		double t_f, t_r;
		if (reset_db(admin, true) != 0 ||
		    pq_exec(bench, admin, "CHECKPOINT") != 0)
			goto out;
		if (run_sluice(sluice, pipeline, uri, errlog, &t_f) != 0) {
			keep_log = true;
			goto out;
		}
		if ((pg = pq_connect(bench, uri)) == NULL ||
		    pg_text(pg, graph_sql, fresh, sizeof(fresh)) != 0 ||
		    pg_text(pg, newest_sql, newest, sizeof(newest)) != 0 ||
		    pg_text(pg, stats_sql, stats, sizeof(stats)) != 0)
			goto out;
		PQfinish(pg);
		pg = NULL;
		newest[strcspn(newest, "\n")] = '\0';
		stats[strcspn(stats, "\n")] = '\0';
		printf("# round %d: fresh load %.3f s (HOT updates, updates, "
		       "database: %s)",
		       round, t_f, stats);
		fflush(stdout);
		if (pq_exec(bench, admin, "CHECKPOINT") != 0)
			goto out;
		if (run_sluice(sluice, pipeline, uri, errlog, &t_r) != 0) {
			keep_log = true;
			goto out;
		}
		if ((pg = pq_connect(bench, uri)) == NULL ||
		    pg_text(pg, graph_sql, again, sizeof(again)) != 0 ||
		    pg_value1(pg, stale_sql, newest, stale, sizeof(stale)) !=
		            0 ||
		    pg_text(pg, stats_sql, stats, sizeof(stats)) != 0)
			goto out;
		PQfinish(pg);
		pg = NULL;
		stats[strcspn(stats, "\n")] = '\0';
		printf("; re-run %.3f s (HOT updates, updates, database: "
		       "%s)\n",
		       t_r, stats);
		fflush(stdout);
		if (strcmp(fresh, again) != 0) {
			fprintf(stderr,
			        "%s: the re-run changed the graph's rows:\n"
			        "after the fresh load:\n%safter the "
			        "re-run:\n%s",
			        bench, fresh, again);
			keep = true;
			goto out;
		}
		if (strcmp(stale, "0") != 0) {
			fprintf(stderr,
			        "%s: %s nodes and relationships were not "
			        "stamped by the re-run (the fresh load's "
			        "newest "
			        "time: %s)\n",
			        bench, stale, newest);
			keep = true;
			goto out;
		}
		if (best_f < 0 || t_f < best_f)
			best_f = t_f;
		if (best_r < 0 || t_r < best_r)
			best_r = t_r;
	}
	printf("# graph (type, count, sum of ids):\n%s", fresh);
	bench_result("pg_rerun_vs_fresh", best_r, "s", best_f, best_r / best_f,
	             3);
	printf("# lower is better: value = wall seconds of a re-run of the "
	       "same input, baseline = the fresh load before it (best of %d "
	       "rounds each); ratio = value / baseline, target <= 1.1\n",
	       ROUNDS);
	status = 0;
out:
	PQfinish(pg);
	airports_tmpl_free(&tmpl);
	if (keep) {
		fprintf(stderr, "%s: files kept in %s, database " DB " kept\n",
		        bench, dir);
		PQfinish(admin);
		return status;
	}
	if (admin != NULL && reset_db(admin, false) != 0)
		status = 1;
	PQfinish(admin);
	unlink(data);
	unlink(pipeline);
	if (keep_log) {
		fprintf(stderr, "%s: log kept in %s\n", bench, errlog);
	} else {
		unlink(errlog);
		rmdir(dir);
	}
	return status;
}
