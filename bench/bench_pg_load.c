/*
 * `sluice run` of the compat airports pipeline into PostgreSQL against
 * COPY of the same final rows into the same schema.
 *
 *   pg_load_vs_copy  wall seconds of `sluice run airports.yaml --target
 *                    postgresql://.../sl_bench_load_sluice --no-progress
 *                    --json` on the 1,000,000-row input of airports.h
 *                    (value) against the wall seconds of loading the rows
 *                    sluice wrote, as they are, with binary COPY into an
 *                    empty database with the same schema (baseline).
 *                    Lower is better; ratio = value / baseline (the target
 *                    is at most 2).
 *
 * The server is that of SLUICE_BENCH_PG (a URI with a database the user
 * may connect to, e.g. postgresql://postgres:PW@127.0.0.1:PORT/postgres,
 * as scripts/bench sets it after tests/pg_server start DIR --bench; the
 * user must be allowed to create databases and run CHECKPOINT). On it the
 * benchmark creates two databases, sl_bench_load_sluice and
 * sl_bench_load_copy (dropped first if they exist, and at the end), and
 * per database URIs by replacing the path of SLUICE_BENCH_PG.
 *
 * Order of one run, not timed unless said:
 *
 *   1. `sluice run` of the same pipeline on an input with the header only,
 *      into sl_bench_load_copy: the store creates its schema (tables,
 *      indexes, functions, sluice_meta) and writes no rows, so both
 *      databases have the same schema; the benchmark checks that they do
 *      (pg_indexes and the functions of the public schema) and that the
 *      copy database is empty.
 *   2. CHECKPOINT, then `sluice run` into sl_bench_load_sluice: TIMED
 *      (value), from spawning the process to its exit; it must exit 0.
 *   3. The final rows, read from sl_bench_load_sluice with `COPY (SELECT
 *      id, type, key, labels, props FROM node ORDER BY id) TO STDOUT
 *      (FORMAT binary)` and likewise every column of rel, into memory.
 *   4. CHECKPOINT, then the COPY load: TIMED (baseline), from connecting
 *      to sl_bench_load_copy through BEGIN, `COPY node FROM STDIN (FORMAT
 *      binary)`, `COPY rel FROM STDIN (FORMAT binary)` (1 MiB
 *      PQputCopyData chunks, ids kept), COMMIT and closing the connection.
 *      The unique indexes are in place, as they are for sluice, so the
 *      baseline pays for maintaining them too; the indexes of
 *      relationships by end, which sluice builds after a load into an
 *      empty graph, are dropped after BEGIN and built before COMMIT.
 *   5. The id sequences of node and rel set to the largest id, so that
 *      later inserts work (sluice's stand a little further: its upserts
 *      draw ids they do not use).
 *
 * Each side runs once (sluice takes one to two minutes on 1,000,000 rows,
 * COPY about half a minute); the benchmark takes two to three minutes in
 * all and holds the COPY data, about 750 MB, in memory. Afterwards both
 * databases must hold the same rows: per node and relationship type the count,
 * the sums of ids (from and to ids too), of key, labels and props text lengths
 * and of a hash of key and props text; and at least 1,000,000 Airport nodes.
 * Otherwise the benchmark fails (exit 1).
 *
 * usage: bench_pg_load [path/to/sluice [path/to/airport-codes.csv]]
 *
 * Without SLUICE_BENCH_PG it exits 2. With SLUICE_BENCH_KEEP=1 the
 * databases and the temporary directory (input and pipelines) are kept.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "airports.h"
#include "bench.h"
#include "pq.h"
#include "spawn.h"

/** The pipeline file is PIPELINE.yaml, which names the ingestion marks. */
#define PIPELINE "airports"
/** The database sluice writes. */
#define DB_SLUICE "sl_bench_load_sluice"
/** The database COPY writes. */
#define DB_COPY "sl_bench_load_copy"
/** Bytes per PQputCopyData call. */
#define COPY_CHUNK ((size_t)1 << 20)
/** Room for a URI. */
#define URI_MAX 1024

/** Name in messages. */
static const char bench[] = "bench_pg_load";

/* --- Growable bytes ----------------------------------------------------- */

/** Bytes in memory: COPY data or text. */
struct blob {
	/** The bytes (NULL while empty). */
	char *p;
	/** Bytes used and allocated. */
	size_t len, cap;
};

/** Append `n` bytes of `s` to `b`. 0, or -1 if out of memory. */
static int
blob_put(struct blob *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap > 0 ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/** Append the NUL-terminated `s` to `b`. 0, or -1. */
static int
blob_puts(struct blob *b, const char *s)
{
	return blob_put(b, s, strlen(s));
}

/** Free `b`'s bytes and empty it. */
static void
blob_free(struct blob *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* --- libpq helpers ------------------------------------------------------ */

/**
 * Append every row of `sql`'s result to `out` as a line, columns as text
 * separated by spaces (NULL as "NULL"). 0, or -1 (reported).
 */
static int
pg_text(PGconn *pg, const char *sql, struct blob *out)
{
	PGresult *r = PQexec(pg, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return pq_fail(bench, pg, sql);
	}
	int rc = 0;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		for (int j = 0; j < PQnfields(r) && rc == 0; j++)
			rc = blob_puts(out, j > 0 ? " " : "") ||
			     blob_puts(out, PQgetisnull(r, i, j)
			                            ? "NULL"
			                            : PQgetvalue(r, i, j));
		if (rc == 0)
			rc = blob_put(out, "\n", 1);
	}
	PQclear(r);
	return rc == 0 ? 0 : pq_fail(bench, NULL, "reading a result");
}

/** The one integer `sql` returns, in *out. 0, or -1 (reported). */
static int
pg_int(PGconn *pg, const char *sql, int64_t *out)
{
	PGresult *r = PQexec(pg, sql);
	int rc = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    PQnfields(r) == 1 && !PQgetisnull(r, 0, 0)) {
		*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		rc = 0;
	}
	PQclear(r);
	return rc == 0 ? 0 : pq_fail(bench, pg, sql);
}

/** The end of a COPY: its result must be COMMAND_OK. 0, or -1. */
static int
pg_copy_done(PGconn *pg, const char *sql)
{
	int rc = 0;
	PGresult *r;
	while ((r = PQgetResult(pg)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
			rc = pq_fail(bench, pg, sql);
		PQclear(r);
	}
	return rc;
}

/** Run `sql`, a COPY ... TO STDOUT, appending its data to `out`. 0/-1. */
static int
pg_copy_out(PGconn *pg, const char *sql, struct blob *out)
{
	PGresult *r = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(r);
	PQclear(r);
	if (st != PGRES_COPY_OUT)
		return pq_fail(bench, pg, sql);
	char *buf;
	int n, rc = 0;
	while ((n = PQgetCopyData(pg, &buf, 0)) > 0) {
		if (rc == 0 && blob_put(out, buf, (size_t)n) != 0)
			rc = pq_fail(bench, NULL, "keeping COPY data");
		PQfreemem(buf);
	}
	if (n == -2)
		rc = pq_fail(bench, pg, sql);
	return pg_copy_done(pg, sql) != 0 ? -1 : rc;
}

/** Run `sql`, a COPY ... FROM STDIN, sending `in` in chunks. 0, or -1. */
static int
pg_copy_in(PGconn *pg, const char *sql, const struct blob *in)
{
	PGresult *r = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(r);
	PQclear(r);
	if (st != PGRES_COPY_IN)
		return pq_fail(bench, pg, sql);
	for (size_t off = 0; off < in->len; off += COPY_CHUNK) {
		size_t n =
		        in->len - off < COPY_CHUNK ? in->len - off : COPY_CHUNK;
		if (PQputCopyData(pg, in->p + off, (int)n) != 1)
			return pq_fail(bench, pg, sql);
	}
	if (PQputCopyEnd(pg, NULL) != 1)
		return pq_fail(bench, pg, sql);
	return pg_copy_done(pg, sql);
}

/* --- The two sides ------------------------------------------------------ */

/** The final rows of the graph, as binary COPY data. */
struct rows {
	/** Every column of node, in id order. */
	struct blob node;
	/** Every column of rel, in id order. */
	struct blob rel;
};

/** The columns in COPY order. */
#define NODE_COLS "id, type, key, labels, props"
#define REL_COLS  "id, type, from_id, to_id, key, props, multi"

/** Read the final rows from the database of `uri` into `rows`. 0/-1. */
static int
read_rows(const char *uri, struct rows *rows)
{
	PGconn *pg = pq_connect(bench, uri);
	if (pg == NULL)
		return -1;
	int rc = pg_copy_out(pg,
	                     "COPY (SELECT " NODE_COLS " FROM node ORDER BY "
	                     "id) TO STDOUT (FORMAT binary)",
	                     &rows->node);
	if (rc == 0)
		rc = pg_copy_out(pg,
		                 "COPY (SELECT " REL_COLS " FROM rel ORDER BY "
		                 "id) TO STDOUT (FORMAT binary)",
		                 &rows->rel);
	PQfinish(pg);
	return rc;
}

/**
 * The baseline: load `rows` into the empty graph of `uri` in one
 * transaction of two binary COPYs. 0 with the wall time in *secs, or -1.
 */
static int
copy_load(const char *uri, const struct rows *rows, double *secs)
{
	uint64_t t0 = bench_now_ns();
	PGconn *pg = pq_connect(bench, uri);
	if (pg == NULL)
		return -1;
	/* The indexes of relationships by end are built after the rows, as
	 * the store builds them after a load into an empty graph. */
	int rc = pq_exec(bench, pg,
	                 "BEGIN; DROP INDEX sluice_rel_out, sluice_rel_in");
	if (rc == 0)
		rc = pg_copy_in(pg,
		                "COPY node(" NODE_COLS ") FROM STDIN "
		                "(FORMAT binary)",
		                &rows->node);
	if (rc == 0)
		rc = pg_copy_in(pg,
		                "COPY rel(" REL_COLS ") FROM STDIN "
		                "(FORMAT binary)",
		                &rows->rel);
	if (rc == 0)
		rc = pq_exec(bench, pg,
		             "CREATE INDEX sluice_rel_out ON rel(from_id, "
		             "type); CREATE INDEX sluice_rel_in ON rel(to_id, "
		             "type); COMMIT");
	PQfinish(pg);
	*secs = (double)(bench_now_ns() - t0) / 1e9;
	if (rc != 0)
		return -1;
	/* The sequences past the ids, for later inserts (not timed). */
	if ((pg = pq_connect(bench, uri)) == NULL)
		return -1;
	rc = pq_exec(bench, pg,
	             "SELECT setval(pg_get_serial_sequence('node', 'id'), "
	             "(SELECT max(id) FROM node)), "
	             "setval(pg_get_serial_sequence('rel', 'id'), "
	             "(SELECT max(id) FROM rel))");
	PQfinish(pg);
	return rc;
}

/**
 * Run sluice: `run PIPELINE --target TARGET --no-progress --json`, TARGET
 * being the URI of database `db`. 0 with its wall time in *secs and peak
 * RSS in *rss_kib (may be NULL), or -1 (reported; its stderr is in
 * `errlog`).
 */
static int
run_sluice(const char *sluice, const char *pipeline, const char *target,
           const char *db, const char *errlog, double *secs, long *rss_kib)
{
	char *args[] = {
	        (char *)sluice, "run",           (char *)pipeline, "--target",
	        (char *)target, "--no-progress", "--json",         NULL};
	if (bench_spawn(args, errlog, secs, rss_kib) == 0)
		return 0;
	fprintf(stderr,
	        "%s: `%s run %s --target postgresql://.../%s` failed (its "
	        "log: %s)\n",
	        bench, sluice, pipeline, db, errlog);
	return -1;
}

/* --- Comparing the two databases ---------------------------------------- */

/** The schema of a graph database: indexes and functions, as text. */
static const char schema_sql[] =
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "ORDER BY indexname";
/** The functions of the public schema. */
static const char funcs_sql[] =
        "SELECT p.proname, md5(p.prosrc) FROM pg_proc AS p "
        "JOIN pg_namespace AS n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' ORDER BY 1, 2";

/** The rows of a graph database, summed up per type. */
static const char node_sum_sql[] =
        "SELECT 'node', type, count(*), sum(id), sum(length(key)), "
        "sum(length(labels::text)), sum(length(props::text)), "
        "sum(hashtext(key || props::text)) FROM node GROUP BY type "
        "ORDER BY type";
/** The same for relationships. */
static const char rel_sum_sql[] =
        "SELECT 'rel', type, count(*), sum(id), sum(from_id), sum(to_id), "
        "sum(length(key)), sum(length(props::text)), sum(multi::int), "
        "sum(hashtext(key || props::text)) FROM rel GROUP BY type "
        "ORDER BY type";

/**
 * Append the summary of the graph of `uri` to `out` (NUL-terminated):
 * schema, then rows if `with_rows`. 0, or -1.
 */
static int
summarize(const char *uri, bool with_rows, struct blob *out)
{
	PGconn *pg = pq_connect(bench, uri);
	if (pg == NULL)
		return -1;
	int rc = pg_text(pg, schema_sql, out);
	if (rc == 0)
		rc = pg_text(pg, funcs_sql, out);
	if (rc == 0 && with_rows)
		rc = pg_text(pg, node_sum_sql, out);
	if (rc == 0 && with_rows)
		rc = pg_text(pg, rel_sum_sql, out);
	PQfinish(pg);
	return rc == 0 && blob_put(out, "", 1) == 0 ? 0 : -1;
}

/** What sluice wrote. */
struct counts {
	/** Nodes by type. */
	int64_t airports, countries, regions;
	/** All nodes and all relationships. */
	int64_t nodes, rels;
};

/** The counts of the graph of `uri`. 0, or -1. */
static int
count_graph(const char *uri, struct counts *c)
{
	PGconn *pg = pq_connect(bench, uri);
	if (pg == NULL)
		return -1;
	int rc = pg_int(pg, "SELECT count(*) FROM node WHERE type = 'Airport'",
	                &c->airports) ||
	         pg_int(pg, "SELECT count(*) FROM node WHERE type = 'Country'",
	                &c->countries) ||
	         pg_int(pg, "SELECT count(*) FROM node WHERE type = 'Region'",
	                &c->regions) ||
	         pg_int(pg, "SELECT count(*) FROM node", &c->nodes) ||
	         pg_int(pg, "SELECT count(*) FROM rel", &c->rels);
	PQfinish(pg);
	return rc != 0 ? -1 : 0;
}

/* --- The benchmark ------------------------------------------------------ */

/** Drop and (if `create`) create database `db` through `admin`. 0/-1. */
static int
reset_db(PGconn *admin, const char *db, bool create)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	         db);
	if (pq_exec(bench, admin, sql) != 0)
		return -1;
	if (!create)
		return 0;
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	return pq_exec(bench, admin, sql);
}

/** Write a CSV of the airports header alone to `path`. 0, or -1. */
static int
write_empty(const char *path)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(airports_header, f);
	fputs("\r\n", f);
	return fclose(f);
}

/** Paths and URIs of a run. */
struct setup {
	/** The temporary directory. */
	char dir[64];
	/** The 1M-row input and its pipeline. */
	char data[256], pipeline[256];
	/** The header-only input and its pipeline (in DIR/empty/). */
	char sub[96], empty[256], empty_pipeline[256];
	/** sluice's stderr. */
	char errlog[256];
	/** The databases' URIs. */
	char sluice_uri[URI_MAX], copy_uri[URI_MAX];
};

/** Remove the files of `s` (and the directory unless `keep_log`). */
static void
cleanup_files(const struct setup *s, bool keep_log)
{
	unlink(s->data);
	unlink(s->pipeline);
	unlink(s->empty);
	unlink(s->empty_pipeline);
	rmdir(s->sub);
	if (keep_log) {
		fprintf(stderr, "%s: log kept in %s\n", bench, s->errlog);
		return;
	}
	unlink(s->errlog);
	rmdir(s->dir);
}

/**
 * The schemas of both databases (the copy one freshly made by sluice) must
 * be the same, and the copy database empty. 0, or -1.
 */
static int
check_schema(const struct setup *s)
{
	struct blob a = {0}, b = {0};
	int64_t n = -1, r = -1;
	int rc = summarize(s->sluice_uri, false, &a) != 0 ||
	                         summarize(s->copy_uri, false, &b) != 0
	                 ? -1
	                 : 0;
	if (rc == 0 && strcmp(a.p, b.p) != 0) {
		fprintf(stderr,
		        "%s: the schemas differ\n" DB_SLUICE ":\n%s\n" DB_COPY
		        ":\n%s\n",
		        bench, a.p, b.p);
		rc = -1;
	}
	if (rc == 0) {
		PGconn *pg = pq_connect(bench, s->copy_uri);
		rc = pg == NULL ||
		                     pg_int(pg, "SELECT count(*) FROM node",
		                            &n) != 0 ||
		                     pg_int(pg, "SELECT count(*) FROM rel",
		                            &r) != 0
		             ? -1
		             : 0;
		PQfinish(pg);
	}
	if (rc == 0 && (n != 0 || r != 0 || strstr(a.p, "node") == NULL)) {
		fprintf(stderr,
		        "%s: the copy database is not an empty graph (%" PRId64
		        " nodes, %" PRId64 " relationships)\n",
		        bench, n, r);
		rc = -1;
	}
	blob_free(&a);
	blob_free(&b);
	return rc;
}

/** Both databases must hold the same rows, and enough. 0, or -1. */
static int
check_rows(const struct setup *s, const struct counts *c)
{
	struct blob a = {0}, b = {0};
	int rc = summarize(s->sluice_uri, true, &a) != 0 ||
	                         summarize(s->copy_uri, true, &b) != 0
	                 ? -1
	                 : 0;
	if (rc == 0 && strcmp(a.p, b.p) != 0) {
		fprintf(stderr,
		        "%s: the databases hold different rows\n" DB_SLUICE
		        ":\n%s\n" DB_COPY ":\n%s\n",
		        bench, a.p, b.p);
		rc = -1;
	}
	if (rc == 0 &&
	    (c->airports < (int64_t)AIRPORTS_ROWS || c->countries < 1 ||
	     c->regions < 1 || c->rels < 2 * (int64_t)AIRPORTS_ROWS)) {
		fprintf(stderr,
		        "%s: sluice wrote %" PRId64 " Airport, %" PRId64
		        " Country and %" PRId64 " Region nodes and %" PRId64
		        " relationships; expected %lu airports and twice as "
		        "many relationships\n",
		        bench, c->airports, c->countries, c->regions, c->rels,
		        AIRPORTS_ROWS);
		rc = -1;
	}
	blob_free(&a);
	blob_free(&b);
	return rc;
}

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
	static struct setup s;
	if (pq_uri_for(base, DB_SLUICE, s.sluice_uri, URI_MAX) != 0 ||
	    pq_uri_for(base, DB_COPY, s.copy_uri, URI_MAX) != 0) {
		fprintf(stderr, "%s: SLUICE_BENCH_PG is no postgresql:// URI\n",
		        bench);
		return 2;
	}
	snprintf(s.dir, sizeof(s.dir), "/tmp/sluice-bench-pg-XXXXXX");
	if (mkdtemp(s.dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(s.data, sizeof(s.data), "%s/airport-codes.csv", s.dir);
	snprintf(s.pipeline, sizeof(s.pipeline), "%s/" PIPELINE ".yaml", s.dir);
	snprintf(s.sub, sizeof(s.sub), "%s/empty", s.dir);
	snprintf(s.empty, sizeof(s.empty), "%s/airport-codes.csv", s.sub);
	snprintf(s.empty_pipeline, sizeof(s.empty_pipeline),
	         "%s/" PIPELINE ".yaml", s.sub);
	snprintf(s.errlog, sizeof(s.errlog), "%s/stderr.log", s.dir);
	const char *keep_env = getenv("SLUICE_BENCH_KEEP");
	bool keep = keep_env != NULL && strcmp(keep_env, "1") == 0;
	bool keep_log = false;
	int status = 1;
	struct rows rows = {0};
	struct counts c = {0};
	struct airports_tmpl tmpl;
	size_t bytes = 0;
	PGconn *admin = NULL;
	if (airports_tmpl_load(&tmpl, fixture) != 0) {
		fprintf(stderr, "%s: cannot read the rows of %s\n", bench,
		        fixture);
		goto out;
	}
	if (airports_generate(&tmpl, s.data, &bytes) != 0 ||
	    airports_write_pipeline(s.pipeline, s.data) != 0 ||
	    mkdir(s.sub, 0700) != 0 || write_empty(s.empty) != 0 ||
	    airports_write_pipeline(s.empty_pipeline, s.empty) != 0) {
		perror("bench_pg_load: generating the input");
		goto out;
	}
	printf("# input: %lu rows, %.1f MB, from %zu template rows of %s\n",
	       AIRPORTS_ROWS, (double)bytes / 1e6, tmpl.n, tmpl.from);
	fflush(stdout);

	/* Two fresh databases; the copy one gets sluice's schema. */
	if ((admin = pq_connect(bench, base)) == NULL ||
	    pq_exec(bench, admin, "SET client_min_messages = warning") != 0 ||
	    reset_db(admin, DB_SLUICE, true) != 0 ||
	    reset_db(admin, DB_COPY, true) != 0)
		goto out;
	double t_s, t_c;
	long rss = 0;
	if (run_sluice(sluice, s.empty_pipeline, s.copy_uri, DB_COPY, s.errlog,
	               &t_s, NULL) != 0) {
		keep_log = true;
		goto out;
	}

	/* The value: sluice. */
	if (pq_exec(bench, admin, "CHECKPOINT") != 0)
		goto out;
	if (run_sluice(sluice, s.pipeline, s.sluice_uri, DB_SLUICE, s.errlog,
	               &t_s, &rss) != 0) {
		keep_log = true;
		goto out;
	}
	printf("# sluice run: %.3f s, peak RSS %ld KiB\n", t_s, rss);
	fflush(stdout);
	if (check_schema(&s) != 0 || count_graph(s.sluice_uri, &c) != 0)
		goto out;

	/* The baseline: COPY of the rows sluice wrote. */
	if (read_rows(s.sluice_uri, &rows) != 0)
		goto out;
	printf("# COPY data: node %.1f MB, rel %.1f MB (binary)\n",
	       (double)rows.node.len / 1e6, (double)rows.rel.len / 1e6);
	if (pq_exec(bench, admin, "CHECKPOINT") != 0 ||
	    copy_load(s.copy_uri, &rows, &t_c) != 0)
		goto out;
	printf("# COPY load: %.3f s\n", t_c);
	fflush(stdout);

	if (check_rows(&s, &c) != 0) {
		keep = true;
		goto out;
	}
	int64_t graph = c.nodes + c.rels;
	printf("# graph: %" PRId64 " nodes (%" PRId64 " Airport, %" PRId64
	       " Country, %" PRId64 " Region), %" PRId64
	       " relationships; both databases hold the same rows (counts, "
	       "ids, key/labels/props lengths and hashes by type)\n",
	       c.nodes, c.airports, c.countries, c.regions, c.rels);
	bench_result("pg_load_vs_copy", t_s, "s", t_c, t_s / t_c, 3);
	printf("# lower is better: value = sluice wall seconds, baseline = "
	       "binary COPY of the same final rows into the same indexed "
	       "schema (one run each); ratio = value / baseline, target "
	       "<= 2\n");
	printf("# sluice: %.0f input rows/s, %.0f graph rows/s, peak RSS "
	       "%ld KiB; COPY: %.0f graph rows/s (graph rows = %" PRId64
	       " nodes + relationships)\n",
	       (double)AIRPORTS_ROWS / t_s, (double)graph / t_s, rss,
	       (double)graph / t_c, graph);
	status = 0;
out:
	blob_free(&rows.node);
	blob_free(&rows.rel);
	airports_tmpl_free(&tmpl);
	if (keep) {
		fprintf(stderr,
		        "%s: files kept in %s, databases " DB_SLUICE
		        " and " DB_COPY " kept\n",
		        bench, s.dir);
		PQfinish(admin);
		return status;
	}
	if (admin != NULL && (reset_db(admin, DB_SLUICE, false) != 0 ||
	                      reset_db(admin, DB_COPY, false) != 0))
		status = 1;
	PQfinish(admin);
	cleanup_files(&s, keep_log);
	return status;
}
