/*
 * MagicStack's pgbench query set through sluice's database layer against a
 * raw libpq harness, at concurrency 10, on one PostgreSQL server.
 *
 *   pg_bench_<query>_rows_per_s  rows per second of the query (value: 10
 *                                sluice tasks on one loop, each holding a
 *                                connection of one sl_db_pool; baseline: one
 *                                thread driving 10 non-blocking libpq
 *                                connections from a poll() loop).
 *                                ratio = value / baseline.
 *   pg_bench_geomean_rows_per_s  the geometric mean over the seven queries
 *                                (the figure pgbench's charts show).
 *
 * The queries (the JSON files of pgbench's queries directory): 1 pg_type (about
 * 600 rows), 2 generate_series (1000 rows), 3 large_object (100 rows of 1000
 * random bytes), 4 arrays (100 rows of int[100]), 5 copyfrom (COPY of 10,000
 * seven-column rows), 6 batch (1000 INSERTs of the same row, pipelined
 * with one sync point), 7 oneplusone (SELECT 1+1).
 *
 * Both sides do the same work: prepared statements, binary results, every
 * value of every row read into C values (the libpq side decodes integers,
 * floats, booleans and int[] arrays from network order and keeps pointers
 * and lengths of text and bytea; sluice decodes every result eagerly and
 * the benchmark reads each value with sl_db_result_get()); COPY in binary
 * format in 64 KiB chunks; one query in flight per connection.
 *
 * Each query runs in four rounds, libpq, sluice, sluice, libpq (so that a
 * drift in the machine's load weighs on both sides alike), each a warm-up
 * (default 0.5 s) and then half the measured time (default 3 s per side).
 * Queries that complete after a round's warm-up count; the round ends when
 * the last query in flight at its deadline completes. copyfrom's and
 * batch's tables are truncated after each round.
 *
 * usage: bench_pgbench [URI [SECONDS [WARMUP]]]
 *
 * URI (postgresql://user:password@host:port, a database the user may
 * create tables in) defaults to $SLUICE_BENCH_PG; SECONDS and WARMUP to
 * $SLUICE_BENCH_PG_SECS and $SLUICE_BENCH_PG_WARMUP. SLUICE_BENCH_PG_ONLY=NAME
 * runs one query only (no geometric mean then); SLUICE_BENCH_PG_SIDE=sluice
 * runs the sluice side's rounds only and prints no figures (for a
 * profiler). The benchmark creates
 * and drops tables _bytes, _test, _copy and _batch.
 *
 * Built as bench_pg_vs_asyncpg (SLUICE_VS_ASYNCPG=1), the same source
 * compares the sluice side with asyncpg 0.27 on uvloop instead of libpq:
 *
 *   pg_bench_vs_asyncpg      the geometric mean over the seven queries of
 *                            rows/s (value: sluice; baseline: asyncpg;
 *                            ratio = value / baseline).
 *   pg_bench_vs_asyncpg_cpu  the geometric mean of the client's CPU time
 *                            (user + system) per row in microseconds
 *                            (ratio = baseline / value: > 1, sluice uses
 *                            less).
 *
 * Rounds alternate, sluice then asyncpg, ROUNDS times (default 3); each
 * runs every query after a warm-up (default 0.5 s) for SECONDS (default
 * 1.5 s). The figures are the medians over the rounds. sluice's CPU is
 * getrusage() of this process from a query's first counted completion to
 * its end; asyncpg's is bench/asyncpg_pgbench.py's time.process_time(),
 * taken the same way, which the script prints. When the server runs on
 * this machine, '#' lines also give each side's server CPU per row: the
 * postmaster's and its children's times in /proc over the same window
 * (the script prints "COUNTING <query>" when the window opens). Python is
 * $SLUICE_BENCH_PYTHON, else /usr/bin/python3 (Debian's python3-asyncpg
 * and python3-uvloop are for it), else python3 from PATH; without asyncpg
 * or uvloop it prints a "# skipped" line and exits 0.
 *
 * usage: bench_pg_vs_asyncpg [URI [SECONDS [WARMUP [ROUNDS]]]]
 * (or $SLUICE_BENCH_VS_SECS, $SLUICE_BENCH_VS_WARMUP, $SLUICE_BENCH_VS_ROUNDS)
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "sluice/db.h"
#include "sluice/task.h"

#ifndef SLUICE_VS_ASYNCPG
/** 1 in bench_pg_vs_asyncpg (the same source): main() runs vs_main(). */
#define SLUICE_VS_ASYNCPG 0
#endif

/** Name in messages. */
#if SLUICE_VS_ASYNCPG
static const char bench[] = "bench_pg_vs_asyncpg";
#else
static const char bench[] = "bench_pgbench";
#endif
#ifndef SLUICE_ASYNCPG_SCRIPT
/** bench/asyncpg_pgbench.py (CMake passes its path). */
#define SLUICE_ASYNCPG_SCRIPT "bench/asyncpg_pgbench.py"
#endif

extern char **environ;

/** Connections (and workers) on each side. */
#define CONCURRENCY 10
/** Rows of one COPY. */
#define COPY_ROWS 10000
/** INSERTs in one batch. */
#define BATCH_ROWS 1000
/** Bytes of one COPY chunk. */
#define COPY_CHUNK (64 * 1024)
/** Longest binary COPY row (78 bytes for pgbench's row). */
#define COPY_ROW_MAX 128

/* --- The query set ------------------------------------------------------ */

/** What a query does. */
enum qkind {
	Q_SELECT, /**< a prepared statement whose rows are read */
	Q_COPY,   /**< COPY_ROWS rows into _copy */
	Q_BATCH,  /**< BATCH_ROWS INSERTs into _batch, one sync point */
};

/** One query of the set. */
struct query {
	/** Name in the BENCH line. */
	const char *name;
	/** What it does. */
	enum qkind kind;
	/** The statement (the INSERT for Q_BATCH; unused for Q_COPY). */
	const char *sql;
	/** Script run before both sides, or NULL. */
	const char *setup;
	/** Script run after each round, or NULL. */
	const char *reset;
	/** Script run after both sides, or NULL. */
	const char *teardown;
};

/** The seven-column table of copyfrom and batch. */
#define TABLE7 "(a int, b int, c int, d text, e float8, f int, g text)"

/** pgbench's seven queries, in its order. */
static const struct query queries[] = {
        {"pg_type", Q_SELECT,
         "select typname, typnamespace, typowner, typlen, typbyval, "
         "typcategory, typispreferred, typisdefined, typdelim, typrelid, "
         "typelem, typarray from pg_type where typtypmod = $1 and "
         "typisdefined = $2",
         NULL, NULL, NULL},
        {"generate_series", Q_SELECT,
         "SELECT i FROM generate_series(1, $1) AS i", NULL, NULL, NULL},
        {"large_object", Q_SELECT, "SELECT * FROM _bytes",
         /* Each row's subquery refers to the row, so it runs per row. */
         "DROP TABLE IF EXISTS _bytes; CREATE TABLE _bytes(b bytea); "
         "INSERT INTO _bytes(b) SELECT (SELECT decode(string_agg(lpad("
         "to_hex(floor(random() * 256)::int), 2, '0'), ''), 'hex') FROM "
         "generate_series(1, 1000) WHERE s > 0) FROM generate_series(1, "
         "100) AS s",
         NULL, "DROP TABLE _bytes"},
        {"arrays", Q_SELECT, "SELECT * FROM _test",
         "DROP TABLE IF EXISTS _test; CREATE TABLE _test(a int[]); "
         "INSERT INTO _test(a) SELECT ARRAY(SELECT generate_series(1, "
         "100)) FROM generate_series(1, 100)",
         NULL, "DROP TABLE _test"},
        {"copyfrom", Q_COPY, NULL,
         "DROP TABLE IF EXISTS _copy; CREATE TABLE _copy" TABLE7,
         "TRUNCATE _copy", "DROP TABLE _copy"},
        {"batch", Q_BATCH,
         "INSERT INTO _batch(a, b, c, d, e, f, g) VALUES ($1, $2, $3, $4, "
         "$5, $6, $7)",
         "DROP TABLE IF EXISTS _batch; CREATE TABLE _batch" TABLE7,
         "TRUNCATE _batch", "DROP TABLE _batch"},
        {"oneplusone", Q_SELECT, "SELECT 1+1", NULL, NULL, NULL},
};

/** Number of queries. */
#define NQUERIES (sizeof(queries) / sizeof(queries[0]))

/** pgbench's row: its text columns. */
static const char row_d[] = "TESTTESTTEST";
/** The other text column. */
static const char row_g[] = "123412341234";
/** Its float column. */
static const double row_e = 10.333;

/* --- Measuring ---------------------------------------------------------- */

/** Settings of the run. */
struct config {
	/** Server URI. */
	const char *uri;
	/** Measured seconds per query and side (over two rounds). */
	double secs;
	/** Warm-up seconds before each round. */
	double warmup;
};

/** One side's run of one query. */
struct run {
	/** The query. */
	const struct query *q;
	/** Queries completing after this count (ns). */
	uint64_t t_warm;
	/** No query starts after this (ns). */
	uint64_t t_stop;
	/** Last completion (ns). */
	uint64_t t_last;
	/** Rows of the counted queries. */
	uint64_t rows;
	/** Counted queries. */
	uint64_t count;
	/** Sum over every value read, so that no read can be dropped. */
	uint64_t sum;
	/** Checksum of one result of a SELECT, to compare the sides. */
	uint64_t sample;
	/** Rows of that result. */
	uint64_t sample_rows;
	/** Whether `sample` is set. */
	bool sampled;
	/** Set on failure. */
	bool failed;
	/** The process's CPU seconds at the first counted completion. */
	double cpu0;
	/** Whether `cpu0` is set. */
	bool cpu_set;
	/** The server's CPU seconds then (bench_pg_vs_asyncpg), or -1. */
	double srv0;
};

/** CPU seconds (user + system) this process used so far. */
static double
cpu_now(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/**
 * The server's postmaster when bench_pg_vs_asyncpg can read its processes
 * in /proc (the server runs on this machine), else 0: the server's CPU per
 * row is then not measured.
 */
static pid_t postmaster;

/**
 * Fields 4 (parent) and 14-17 (utime, stime, cutime, cstime, in clock
 * ticks) of /proc/PID/stat. 0, or -1.
 */
static int
proc_stat(const char *pid, long *ppid, unsigned long long t[4])
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *q = strrchr(buf, ')'); /* the name may hold spaces */
	if (q == NULL ||
	    sscanf(q + 1,
	           " %*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
	           "%llu %llu",
	           ppid, &t[0], &t[1], &t[2], &t[3]) != 5)
		return -1;
	return 0;
}

/**
 * CPU seconds the server used so far: the postmaster's own and its reaped
 * children's, and those of its live children (the backends, the
 * background processes). -1 when not measured.
 */
static double
server_cpu(void)
{
	if (postmaster <= 0)
		return -1;
	char pm[24];
	snprintf(pm, sizeof(pm), "%ld", (long)postmaster);
	long ppid;
	unsigned long long t[4];
	if (proc_stat(pm, &ppid, t) != 0)
		return -1;
	unsigned long long ticks = t[0] + t[1] + t[2] + t[3];
	DIR *d = opendir("/proc");
	if (d == NULL)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (proc_stat(e->d_name, &ppid, t) == 0 &&
		    ppid == (long)postmaster)
			ticks += t[0] + t[1];
	}
	closedir(d);
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/** Start a run of `q` now. */
static void
run_init(struct run *r, const struct query *q, const struct config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->q = q;
	uint64_t now = bench_now_ns();
	r->t_warm = now + (uint64_t)(cfg->warmup * 1e9);
	r->t_stop = r->t_warm + (uint64_t)(cfg->secs * 1e9);
}

/** Count a query that completed with `rows` rows. */
static void
run_done(struct run *r, uint64_t rows)
{
	uint64_t now = bench_now_ns();
	if (now < r->t_warm)
		return;
	if (!r->cpu_set) {
		/* The server first: reading /proc is not the client's work. */
		r->srv0 = server_cpu();
		r->cpu0 = cpu_now();
		r->cpu_set = true;
	}
	r->rows += rows;
	r->count++;
	if (now > r->t_last)
		r->t_last = now;
}

/** Rows per second of a finished run, or -1 if nothing counted. */
static double
run_rate(const struct run *r)
{
	if (r->count == 0 || r->t_last <= r->t_warm)
		return -1;
	return (double)r->rows / ((double)(r->t_last - r->t_warm) / 1e9);
}

/** Note the checksum of one SELECT result. */
static void
run_sample(struct run *r, uint64_t sum, uint64_t rows)
{
	if (r->sampled)
		return;
	r->sample = sum;
	r->sample_rows = rows;
	r->sampled = true;
}

/* --- The libpq harness -------------------------------------------------- */

/** Type OIDs the harness decodes. */
enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_CHAR = 18,
	OID_NAME = 19,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_TEXT = 25,
	OID_OID = 26,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_INT4ARRAY = 1007,
	OID_VARCHAR = 1043,
};

/** A big-endian 16-bit integer at `p`. */
static int16_t
get16(const char *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return (int16_t)ntohs(v);
}

/** A big-endian 32-bit integer at `p`. */
static int32_t
get32(const char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return (int32_t)ntohl(v);
}

/** A big-endian 64-bit integer at `p`. */
static int64_t
get64(const char *p)
{
	return (int64_t)(((uint64_t)(uint32_t)get32(p) << 32) |
	                 (uint32_t)get32(p + 4));
}

/** Checksum of a string: its length and first byte (touches the data). */
static uint64_t
sum_str(const char *p, size_t len)
{
	return len + (len > 0 ? (unsigned char)p[0] : 0);
}

/**
 * Decode a binary int4[] of `len` bytes at `p` into its integers and
 * return their checksum (the item count plus the items).
 */
static uint64_t
decode_int4_array(const char *p, int len)
{
	if (len < 12)
		return 0;
	int32_t ndim = get32(p);
	const char *e = p + len;
	p += 12; /* ndim, has-nulls flag, element type */
	int64_t n = ndim > 0 ? 1 : 0;
	for (int32_t d = 0; d < ndim && p + 8 <= e; d++, p += 8)
		n *= get32(p);
	uint64_t sum = (uint64_t)n;
	for (int64_t i = 0; i < n && p + 4 <= e; i++) {
		int32_t l = get32(p);
		p += 4;
		if (l < 0)
			continue;
		sum += (uint64_t)(int64_t)get32(p);
		p += l;
	}
	return sum;
}

/**
 * Read every value of a binary result into C values; return the checksum
 * of what was read (the same sum sluice's side computes from its values).
 */
static uint64_t
decode_result(const PGresult *res)
{
	int nrows = PQntuples(res), ncols = PQnfields(res);
	Oid types[32];
	if (ncols > 32)
		ncols = 32;
	for (int c = 0; c < ncols; c++)
		types[c] = PQftype(res, c);
	uint64_t sum = 0;
	for (int r = 0; r < nrows; r++) {
		for (int c = 0; c < ncols; c++) {
			if (PQgetisnull(res, r, c))
				continue;
			const char *p = PQgetvalue(res, r, c);
			int len = PQgetlength(res, r, c);
			switch (types[c]) {
			case OID_BOOL:
				sum += p[0] != 0;
				break;
			case OID_INT2:
				sum += (uint64_t)(int64_t)get16(p);
				break;
			case OID_INT4:
				sum += (uint64_t)(int64_t)get32(p);
				break;
			case OID_OID:
				sum += (uint32_t)get32(p);
				break;
			case OID_INT8:
				sum += (uint64_t)get64(p);
				break;
			case OID_FLOAT4: {
				uint32_t u = (uint32_t)get32(p);
				float f;
				memcpy(&f, &u, 4);
				sum += (uint64_t)(int64_t)f;
				break;
			}
			case OID_FLOAT8: {
				uint64_t u = (uint64_t)get64(p);
				double d;
				memcpy(&d, &u, 8);
				sum += (uint64_t)(int64_t)d;
				break;
			}
			case OID_INT4ARRAY:
				sum += decode_int4_array(p, len);
				break;
			default: /* text, name, char, bytea: pointer + length */
				sum += sum_str(p, (size_t)len);
				break;
			}
		}
	}
	return sum;
}

/** Where a harness connection is. */
enum lp_state {
	LP_IDLE,       /**< nothing in flight */
	LP_QUERY,      /**< a SELECT in flight */
	LP_COPY_START, /**< COPY sent, waiting for CopyInResponse */
	LP_COPY_SEND,  /**< sending rows */
	LP_COPY_END,   /**< CopyDone sent, waiting for the result */
	LP_BATCH,      /**< a pipelined batch in flight */
};

/** One harness connection. */
struct lp_conn {
	/** The connection (non-blocking). */
	PGconn *pg;
	/** Where it is. */
	enum lp_state state;
	/** Whether output waits for the socket (PQflush() said 1). */
	bool want_write;
	/** COPY rows encoded so far. */
	long copy_rows;
	/** Bytes of the pending COPY chunk. */
	size_t chunk_len;
	/** Results of the batch read so far. */
	long batch_results;
	/** The pending COPY chunk. */
	char chunk[COPY_CHUNK + COPY_ROW_MAX + 32];
};

/** The harness: its connections and the parameters of each query. */
struct lp {
	/** Connections. */
	struct lp_conn conns[CONCURRENCY];
	/** Parameters of the current query (binary). */
	const char *values[8];
	/** Their lengths. */
	int lengths[8];
	/** Their formats (all 1, binary). */
	int formats[8];
	/** How many. */
	int nparams;
	/** Storage for the binary parameters. */
	char storage[8][16];
};

/** Report a libpq failure on `pg` (may be NULL). Returns -1. */
static int
lp_fail(PGconn *pg, const char *what)
{
	fprintf(stderr, "%s: libpq: %s: %s", bench, what,
	        pg != NULL ? PQerrorMessage(pg) : "out of memory\n");
	return -1;
}

/** Put a big-endian 32-bit integer at `p`; return p + 4. */
static char *
put32(char *p, int32_t v)
{
	uint32_t u = htonl((uint32_t)v);
	memcpy(p, &u, 4);
	return p + 4;
}

/** Put a big-endian 64-bit integer at `p`; return p + 8. */
static char *
put64(char *p, uint64_t v)
{
	p = put32(p, (int32_t)(uint32_t)(v >> 32));
	return put32(p, (int32_t)(uint32_t)v);
}

/** Set a binary parameter from `len` bytes at `p`. */
static void
lp_param(struct lp *lp, const void *p, int len)
{
	int i = lp->nparams++;
	memcpy(lp->storage[i], p, (size_t)len);
	lp->values[i] = lp->storage[i];
	lp->lengths[i] = len;
	lp->formats[i] = 1;
}

/** Set a 32-bit integer parameter. */
static void
lp_param_int4(struct lp *lp, int32_t v)
{
	char b[4];
	put32(b, v);
	lp_param(lp, b, 4);
}

/** Set the parameters of query `q` (encoded from C values). */
static void
lp_params(struct lp *lp, const struct query *q)
{
	lp->nparams = 0;
	if (strcmp(q->name, "pg_type") == 0) {
		lp_param_int4(lp, -1);
		lp_param(lp, "\1", 1);
	} else if (strcmp(q->name, "generate_series") == 0) {
		lp_param_int4(lp, 1000);
	} else if (q->kind == Q_BATCH) {
		lp_param_int4(lp, 10);
		lp_param_int4(lp, 11);
		lp_param_int4(lp, 10);
		lp_param(lp, row_d, (int)strlen(row_d));
		uint64_t u;
		memcpy(&u, &row_e, 8);
		char b[8];
		put64(b, u);
		lp_param(lp, b, 8);
		lp_param_int4(lp, 12341234);
		lp_param(lp, row_g, (int)strlen(row_g));
	}
}

/** Flush what libpq buffered for `c`. 0, or -1. */
static int
lp_flush(struct lp_conn *c)
{
	int rc = PQflush(c->pg);
	if (rc < 0)
		return lp_fail(c->pg, "flush");
	c->want_write = rc == 1;
	return 0;
}

/** Encode COPY rows into c->chunk until it holds COPY_CHUNK bytes. */
static void
lp_copy_fill(struct lp_conn *c)
{
	char *p = c->chunk, *end = c->chunk + COPY_CHUNK;
	if (c->copy_rows == 0) {
		memcpy(p, "PGCOPY\n\377\r\n\0", 11);
		p = put32(p + 11, 0); /* flags */
		p = put32(p, 0);      /* header extension */
	}
	size_t dlen = strlen(row_d), glen = strlen(row_g);
	uint64_t e;
	memcpy(&e, &row_e, 8);
	for (; c->copy_rows < COPY_ROWS && p < end; c->copy_rows++) {
		uint16_t n = htons(7);
		memcpy(p, &n, 2);
		p += 2;
		p = put32(put32(p, 4), 10);
		p = put32(put32(p, 4), 11);
		p = put32(put32(p, 4), 10);
		p = put32(p, (int32_t)dlen);
		memcpy(p, row_d, dlen);
		p += dlen;
		p = put64(put32(p, 8), e);
		p = put32(put32(p, 4), 12341234);
		p = put32(p, (int32_t)glen);
		memcpy(p, row_g, glen);
		p += glen;
	}
	if (c->copy_rows == COPY_ROWS) {
		memcpy(p, "\377\377", 2); /* trailer */
		p += 2;
	}
	c->chunk_len = (size_t)(p - c->chunk);
}

/**
 * Send COPY chunks until the rows are all sent or libpq cannot take more
 * (then wait for the socket). 0, or -1.
 */
static int
lp_copy_send(struct lp_conn *c)
{
	for (;;) {
		if (c->chunk_len == 0) {
			if (c->copy_rows == COPY_ROWS)
				break;
			lp_copy_fill(c);
		}
		int rc = PQputCopyData(c->pg, c->chunk, (int)c->chunk_len);
		if (rc < 0)
			return lp_fail(c->pg, "PQputCopyData");
		if (rc == 0) { /* libpq's buffer is full */
			c->want_write = true;
			return 0;
		}
		c->chunk_len = 0;
	}
	int rc = PQputCopyEnd(c->pg, NULL);
	if (rc < 0)
		return lp_fail(c->pg, "PQputCopyEnd");
	if (rc == 0) {
		c->want_write = true;
		return 0;
	}
	c->state = LP_COPY_END;
	return lp_flush(c);
}

/** Start the next query of `run` on `c`. 0, or -1. */
static int
lp_start(struct lp *lp, struct lp_conn *c, const struct run *run)
{
	switch (run->q->kind) {
	case Q_SELECT:
		if (!PQsendQueryPrepared(c->pg, "q", lp->nparams, lp->values,
		                         lp->lengths, lp->formats, 1))
			return lp_fail(c->pg, "PQsendQueryPrepared");
		c->state = LP_QUERY;
		break;
	case Q_COPY:
		if (!PQsendQuery(c->pg, "COPY _copy (a, b, c, d, e, f, g) FROM "
		                        "STDIN (FORMAT binary)"))
			return lp_fail(c->pg, "PQsendQuery(COPY)");
		c->state = LP_COPY_START;
		c->copy_rows = 0;
		c->chunk_len = 0;
		break;
	case Q_BATCH:
		for (int i = 0; i < BATCH_ROWS; i++)
			if (!PQsendQueryPrepared(c->pg, "q", lp->nparams,
			                         lp->values, lp->lengths,
			                         lp->formats, 1))
				return lp_fail(c->pg, "PQsendQueryPrepared");
		if (!PQpipelineSync(c->pg))
			return lp_fail(c->pg, "PQpipelineSync");
		c->state = LP_BATCH;
		c->batch_results = 0;
		break;
	}
	return lp_flush(c);
}

/** Check a result's status; clear it. 0, or -1. */
static int
lp_check(struct lp_conn *c, PGresult *res, ExecStatusType want)
{
	ExecStatusType st = PQresultStatus(res);
	if (st != want) {
		fprintf(stderr, "%s: libpq: %s (wanted %s): %s", bench,
		        PQresStatus(st), PQresStatus(want),
		        PQresultErrorMessage(res));
		PQclear(res);
		(void)c;
		return -1;
	}
	return 0;
}

/**
 * Read what arrived on `c` and move it on; a completed query is counted
 * and, before the deadline, the next one starts. 0, or -1.
 */
static int
lp_input(struct lp *lp, struct lp_conn *c, struct run *run)
{
	if (!PQconsumeInput(c->pg))
		return lp_fail(c->pg, "PQconsumeInput");
	bool done = false;
	int nulls = 0;
	while (!done && !PQisBusy(c->pg)) {
		if (c->state == LP_COPY_SEND || c->state == LP_IDLE)
			break;
		PGresult *res = PQgetResult(c->pg);
		switch (c->state) {
		case LP_QUERY:
			if (res == NULL) {
				done = true;
				break;
			}
			if (lp_check(c, res, PGRES_TUPLES_OK) != 0)
				return -1;
			uint64_t sum = decode_result(res);
			uint64_t rows = (uint64_t)PQntuples(res);
			run->sum += sum;
			run_sample(run, sum, rows);
			PQclear(res);
			run_done(run, rows);
			break;
		case LP_COPY_START:
			if (res == NULL)
				return lp_fail(c->pg, "COPY: no result");
			if (lp_check(c, res, PGRES_COPY_IN) != 0)
				return -1;
			PQclear(res);
			c->state = LP_COPY_SEND;
			if (lp_copy_send(c) != 0)
				return -1;
			break;
		case LP_COPY_END:
			if (res == NULL) {
				done = true;
				run_done(run, COPY_ROWS);
				break;
			}
			if (lp_check(c, res, PGRES_COMMAND_OK) != 0)
				return -1;
			if (atol(PQcmdTuples(res)) != COPY_ROWS) {
				PQclear(res);
				return lp_fail(c->pg, "COPY: wrong row count");
			}
			PQclear(res);
			break;
		case LP_BATCH:
			if (res == NULL) { /* end of one statement's results */
				if (++nulls > 1)
					return lp_fail(c->pg, "batch: stalled");
				break;
			}
			nulls = 0;
			if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
				PQclear(res);
				if (c->batch_results != BATCH_ROWS)
					return lp_fail(c->pg, "batch: short");
				done = true;
				run_done(run, BATCH_ROWS);
				break;
			}
			if (lp_check(c, res, PGRES_COMMAND_OK) != 0)
				return -1;
			c->batch_results++;
			PQclear(res);
			break;
		case LP_IDLE:
		case LP_COPY_SEND:
			break;
		}
	}
	if (done) {
		c->state = LP_IDLE;
		if (bench_now_ns() < run->t_stop)
			return lp_start(lp, c, run);
	}
	return 0;
}

/** Run `run`'s query on every connection until its deadline. 0, or -1. */
static int
lp_run(struct lp *lp, struct run *run)
{
	const struct query *q = run->q;
	lp_params(lp, q);
	for (int i = 0; i < CONCURRENCY; i++) {
		PGconn *pg = lp->conns[i].pg;
		if (q->kind != Q_COPY) {
			Oid types[8] = {0};
			if (lp->nparams == 2) { /* pg_type: int4, bool */
				types[0] = OID_INT4;
				types[1] = OID_BOOL;
			}
			PGresult *res =
			        PQprepare(pg, "q", q->sql, lp->nparams, types);
			if (lp_check(&lp->conns[i], res, PGRES_COMMAND_OK) != 0)
				return -1;
			PQclear(res);
		}
		if (q->kind == Q_BATCH && !PQenterPipelineMode(pg))
			return lp_fail(pg, "PQenterPipelineMode");
	}
	for (int i = 0; i < CONCURRENCY; i++)
		if (lp_start(lp, &lp->conns[i], run) != 0)
			return -1;
	struct pollfd fds[CONCURRENCY];
	for (;;) {
		int busy = 0;
		for (int i = 0; i < CONCURRENCY; i++) {
			struct lp_conn *c = &lp->conns[i];
			fds[i].fd = PQsocket(c->pg);
			fds[i].events = 0;
			fds[i].revents = 0;
			if (c->state == LP_IDLE)
				continue;
			busy++;
			fds[i].events = POLLIN;
			if (c->want_write)
				fds[i].events |= POLLOUT;
		}
		if (busy == 0)
			break;
		if (poll(fds, CONCURRENCY, 1000) < 0 && errno != EINTR) {
			perror("bench_pgbench: poll");
			return -1;
		}
		for (int i = 0; i < CONCURRENCY; i++) {
			struct lp_conn *c = &lp->conns[i];
			if (fds[i].revents == 0)
				continue;
			if (fds[i].revents & (POLLOUT | POLLERR | POLLHUP)) {
				if (lp_flush(c) != 0)
					return -1;
				if (c->state == LP_COPY_SEND &&
				    !c->want_write && lp_copy_send(c) != 0)
					return -1;
			}
			if ((fds[i].revents & (POLLIN | POLLERR | POLLHUP)) &&
			    lp_input(lp, c, run) != 0)
				return -1;
		}
	}
	for (int i = 0; i < CONCURRENCY; i++) {
		PGconn *pg = lp->conns[i].pg;
		if (q->kind == Q_BATCH && !PQexitPipelineMode(pg))
			return lp_fail(pg, "PQexitPipelineMode");
		if (q->kind != Q_COPY) {
			PGresult *res = PQexec(pg, "DEALLOCATE q");
			if (lp_check(&lp->conns[i], res, PGRES_COMMAND_OK) != 0)
				return -1;
			PQclear(res);
		}
	}
	return 0;
}

/** Run a script on `pg` (NULL: nothing). 0, or -1. */
static int
lp_script(PGconn *pg, const char *sql)
{
	if (sql == NULL)
		return 0;
	PGresult *res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "%s: %s: %s", bench, sql,
		        PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

/** Open the harness's connections. 0, or -1. */
static int
lp_open(struct lp *lp, const char *uri)
{
	for (int i = 0; i < CONCURRENCY; i++) {
		PGconn *pg = PQconnectdb(uri);
		lp->conns[i].pg = pg;
		if (PQstatus(pg) != CONNECTION_OK)
			return lp_fail(pg, "connect");
		if (PQsetnonblocking(pg, 1) != 0)
			return lp_fail(pg, "PQsetnonblocking");
	}
	return 0;
}

/** Close the harness's connections. */
static void
lp_close(struct lp *lp)
{
	for (int i = 0; i < CONCURRENCY; i++)
		PQfinish(lp->conns[i].pg);
}

/* --- The sluice side ---------------------------------------------------- */

/** Checksum of a value, as decode_result() sums the same column. */
static uint64_t
sum_value(const struct sl_value *v)
{
	switch (v->type) {
	case SL_VBOOL:
		return v->u.b;
	case SL_VINT:
		return (uint64_t)v->u.i;
	case SL_VDOUBLE:
		return (uint64_t)(int64_t)v->u.d;
	case SL_VSTR:
		return sum_str(v->u.s, v->len);
	case SL_VARRAY: {
		/* Integers (int[]'s elements) inline, the rest recursively. */
		uint64_t sum = v->len;
		for (uint32_t i = 0; i < v->len; i++) {
			const struct sl_value *e = &v->u.items[i];
			sum += e->type == SL_VINT ? (uint64_t)e->u.i
			                          : sum_value(e);
		}
		return sum;
	}
	default:
		return 0;
	}
}

/** The sluice side's shared state. */
struct sl_side {
	/** The pool (max_size CONCURRENCY). */
	struct sl_db_pool *pool;
	/** The run in progress. */
	struct run *run;
};

/** Run one SELECT. Returns its result, or NULL. */
static struct sl_db_result *
sl_select(struct sl_db_conn *c, const struct query *q)
{
	if (strcmp(q->name, "pg_type") == 0)
		return sl_db_query(c, q->sql,
		                   SL_ARGS(sl_int(-1), sl_bool(true)));
	if (strcmp(q->name, "generate_series") == 0)
		return sl_db_query(c, q->sql, SL_ARGS(sl_int(1000)));
	return sl_db_query(c, q->sql, SL_NOARGS);
}

/** The seven values of pgbench's row. */
static void
row7(struct sl_value v[7])
{
	v[0] = sl_int(10);
	v[1] = sl_int(11);
	v[2] = sl_int(10);
	v[3] = sl_str_ref(row_d, (uint32_t)strlen(row_d));
	v[4] = sl_double(row_e);
	v[5] = sl_int(12341234);
	v[6] = sl_str_ref(row_g, (uint32_t)strlen(row_g));
}

/** The columns of the seven-column table. */
static const char *const cols7[] = {"a", "b", "c", "d", "e", "f", "g"};

/** One COPY of COPY_ROWS rows. 0, or -1. */
static int
sl_one_copy(struct sl_db_conn *c)
{
	struct sl_db_copy *cp = sl_db_copy_begin(c, "_copy", cols7, 7);
	if (cp == NULL)
		return -1;
	struct sl_value v[7];
	for (int i = 0; i < COPY_ROWS; i++) {
		row7(v); /* the values of each row, as a caller builds them */
		if (sl_db_copy_row(cp, v) != 0) {
			sl_db_copy_abort(cp);
			return -1;
		}
	}
	int64_t rows = 0;
	if (sl_db_copy_end(cp, &rows) != 0)
		return -1;
	if (rows != COPY_ROWS) {
		sl_diag_set(SL_EINVAL, "COPY took %lld rows, not %d",
		            (long long)rows, COPY_ROWS);
		return -1;
	}
	return 0;
}

/** One pipelined batch of BATCH_ROWS INSERTs. 0, or -1. */
static int
sl_one_batch(struct sl_db_conn *c, const struct query *q)
{
	struct sl_db_pipeline *p = sl_db_pipeline_begin(c);
	if (p == NULL)
		return -1;
	struct sl_value v[7];
	for (int i = 0; i < BATCH_ROWS; i++) {
		row7(v);
		if (sl_db_pipeline_push(p, q->sql, 7, v) < 0) {
			sl_db_pipeline_end(p);
			return -1;
		}
	}
	if (sl_db_pipeline_sync(p) != 0) {
		sl_db_pipeline_end(p);
		return -1;
	}
	int n = 0;
	struct sl_db_result *r;
	while ((r = sl_db_pipeline_next(p)) != NULL) {
		n++;
		sl_db_result_free(r);
	}
	if (sl_diag_code() != SL_EOK) {
		sl_db_pipeline_end(p);
		return -1;
	}
	if (sl_db_pipeline_end(p) != 0)
		return -1;
	if (n != BATCH_ROWS) {
		sl_diag_set(SL_EINVAL, "batch returned %d results, not %d", n,
		            BATCH_ROWS);
		return -1;
	}
	return 0;
}

/** A worker task: hold a connection, loop the query until the deadline. */
static int
sl_worker(void *arg)
{
	struct sl_side *side = arg;
	struct run *run = side->run;
	const struct query *q = run->q;
	struct sl_db_conn *c = sl_db_pool_acquire(side->pool, 30.0);
	if (c == NULL)
		return -1;
	int rc = 0;
	while (rc == 0 && !run->failed && bench_now_ns() < run->t_stop) {
		if (q->kind == Q_COPY) {
			if ((rc = sl_one_copy(c)) == 0)
				run_done(run, COPY_ROWS);
		} else if (q->kind == Q_BATCH) {
			if ((rc = sl_one_batch(c, q)) == 0)
				run_done(run, BATCH_ROWS);
		} else {
			struct sl_db_result *r = sl_select(c, q);
			if (r == NULL) {
				rc = -1;
				break;
			}
			size_t nrows = sl_db_result_rows(r);
			size_t ncols = sl_db_result_cols(r);
			uint64_t sum = 0;
			for (size_t i = 0; i < nrows; i++)
				for (size_t j = 0; j < ncols; j++)
					sum += sum_value(
					        sl_db_result_get(r, i, j));
			sl_db_result_free(r);
			run->sum += sum;
			run_sample(run, sum, nrows);
			run_done(run, nrows);
		}
	}
	if (rc != 0)
		run->failed = true;
	sl_db_pool_release(c);
	return rc;
}

/** Run `run` with CONCURRENCY worker tasks. 0, or -1. */
static int
sl_run(struct sl_side *side, struct run *run)
{
	side->run = run;
	struct sl_task *tasks[CONCURRENCY];
	int n = 0, rc = 0;
	for (; n < CONCURRENCY; n++) {
		tasks[n] = sl_task_spawn(sl_loop_current(), "pgbench",
		                         sl_worker, side);
		if (tasks[n] == NULL) {
			rc = -1;
			run->failed = true;
			break;
		}
	}
	for (int i = 0; i < n; i++)
		if (sl_task_join(tasks[i]) != 0)
			rc = -1;
	return rc;
}

/* --- Main --------------------------------------------------------------- */

/** Everything main's task needs. */
struct state {
	/** Settings. */
	struct config cfg;
	/** The harness. */
	struct lp *lp;
	/** Connection for setup scripts. */
	PGconn *admin;
	/** The sluice side. */
	struct sl_side side;
	/** Rows/s of each query: sluice, libpq. */
	double value[NQUERIES], baseline[NQUERIES];
};

/** Print one round as a '#' line. */
static void
note_run(const char *side, const struct run *r)
{
	double secs = (double)(r->t_last - r->t_warm) / 1e9;
	double us = (cpu_now() - r->cpu0) * 1e6 / (double)r->rows;
	printf("# %s %s: %llu queries, %llu rows in %.3f s: %.1f q/s, %.0f "
	       "rows/s, %.3f us/row of CPU\n",
	       r->q->name, side, (unsigned long long)r->count,
	       (unsigned long long)r->rows, secs, (double)r->count / secs,
	       run_rate(r), us);
}

/** What the rounds of one side added up to. */
struct total {
	/** Rows counted. */
	uint64_t rows;
	/** Queries counted. */
	uint64_t count;
	/** Nanoseconds measured. */
	uint64_t ns;
	/** Checksum and rows of one SELECT result. */
	uint64_t sample, sample_rows;
};

/**
 * Run one round of query `q` on one side (sluice if `sluice`) for half the
 * measured time, then the query's reset script; add it to `t`. 0, or -1.
 */
static int
round_run(struct state *st, const struct query *q, bool sluice, struct total *t)
{
	struct config cfg = st->cfg;
	cfg.secs /= 2;
	struct run r;
	run_init(&r, q, &cfg);
	int rc = sluice ? sl_run(&st->side, &r) : lp_run(st->lp, &r);
	if (rc != 0 || r.failed || run_rate(&r) <= 0) {
		if (sluice)
			bench_fail(bench, q->name);
		else
			fprintf(stderr, "%s: %s: the libpq harness failed\n",
			        bench, q->name);
		return -1;
	}
	note_run(sluice ? "sluice" : "libpq", &r);
	t->rows += r.rows;
	t->count += r.count;
	t->ns += r.t_last - r.t_warm;
	t->sample = r.sample;
	t->sample_rows = r.sample_rows;
	return lp_script(st->admin, q->reset);
}

/**
 * Measure query `q` (index i): two rounds per side in the order libpq,
 * sluice, sluice, libpq, so that a drift in the machine's load weighs on
 * both sides alike. Print its line. 0, or -1.
 */
static int
measure(struct state *st, size_t i)
{
	const struct query *q = &queries[i];
	struct total lp = {0}, sl = {0};
	const char *side = getenv("SLUICE_BENCH_PG_SIDE");
	if (side != NULL && strcmp(side, "sluice") == 0) {
		/* For a profiler: the sluice side alone, no figures. */
		return lp_script(st->admin, q->setup) != 0 ||
		                       round_run(st, q, true, &sl) != 0 ||
		                       round_run(st, q, true, &sl) != 0 ||
		                       lp_script(st->admin, q->teardown) != 0
		               ? -1
		               : 0;
	}
	if (lp_script(st->admin, q->setup) != 0 ||
	    round_run(st, q, false, &lp) != 0 ||
	    round_run(st, q, true, &sl) != 0 ||
	    round_run(st, q, true, &sl) != 0 ||
	    round_run(st, q, false, &lp) != 0)
		return -1;
	if (q->kind == Q_SELECT &&
	    (sl.sample != lp.sample || sl.sample_rows != lp.sample_rows)) {
		fprintf(stderr,
		        "%s: %s: the sides read different values (sluice: "
		        "%llu rows, sum %llu; libpq: %llu rows, sum %llu)\n",
		        bench, q->name, (unsigned long long)sl.sample_rows,
		        (unsigned long long)sl.sample,
		        (unsigned long long)lp.sample_rows,
		        (unsigned long long)lp.sample);
		return -1;
	}
	if (lp_script(st->admin, q->teardown) != 0)
		return -1;
	st->value[i] = (double)sl.rows / ((double)sl.ns / 1e9);
	st->baseline[i] = (double)lp.rows / ((double)lp.ns / 1e9);
	printf("# %s: sluice %.1f q/s, libpq %.1f q/s\n", q->name,
	       (double)sl.count / ((double)sl.ns / 1e9),
	       (double)lp.count / ((double)lp.ns / 1e9));
	char name[64];
	snprintf(name, sizeof(name), "pg_bench_%s_rows_per_s", q->name);
	bench_result(name, st->value[i], "rows/s", st->baseline[i],
	             st->value[i] / st->baseline[i], 0);
	return 0;
}

/** Run every query on both sides and print the figures. 0, or -1. */
static int
bench_all(void *arg)
{
	struct state *st = arg;
	struct sl_db_pool_opts po;
	sl_db_pool_opts_init(&po);
	po.min_size = CONCURRENCY;
	po.max_size = CONCURRENCY;
	st->side.pool = sl_db_pool_open(st->cfg.uri, &po);
	if (st->side.pool == NULL) {
		bench_fail(bench, "sl_db_pool_open");
		return -1;
	}
	int rc = 0;
	const char *only = getenv("SLUICE_BENCH_PG_ONLY");
	if (only != NULL && *only == '\0')
		only = NULL;
	for (size_t i = 0; i < NQUERIES && rc == 0; i++)
		if (only == NULL || strcmp(only, queries[i].name) == 0)
			rc = measure(st, i);
	sl_db_pool_close(st->side.pool);
	if (rc != 0 || only != NULL || getenv("SLUICE_BENCH_PG_SIDE") != NULL)
		return rc; /* no geometric mean of a subset */
	double lv = 0, lb = 0;
	for (size_t i = 0; i < NQUERIES; i++) {
		lv += log(st->value[i]);
		lb += log(st->baseline[i]);
	}
	double gv = exp(lv / NQUERIES), gb = exp(lb / NQUERIES);
	bench_result("pg_bench_geomean_rows_per_s", gv, "rows/s", gb, gv / gb,
	             0);
	printf("# asyncpg reference 539844 rows/s (not measured in this "
	       "run; bench_pg_vs_asyncpg measures it on the same server)\n");
	return 0;
}

/** Seconds from argv[i] or environment variable `env`, else `def`. */
static double
arg_secs(int argc, char **argv, int i, const char *env, double def)
{
	const char *s = argc > i ? argv[i] : getenv(env);
	if (s == NULL || *s == '\0')
		return def;
	char *end;
	double v = strtod(s, &end);
	if (*end != '\0' || !(v >= 0)) {
		fprintf(stderr, "%s: bad duration '%s'\n", bench, s);
		exit(2);
	}
	return v;
}

/* --- Against asyncpg (bench_pg_vs_asyncpg) ------------------------------ */

/** Most rounds per side. */
#define VS_MAX_ROUNDS 15

/** The sides of the comparison. */
enum { VS_SLUICE, VS_ASYNCPG };

/** The comparison with asyncpg: settings and figures. */
struct vs {
	/** Seconds per query and round, warm-up, URI. */
	struct config cfg;
	/** Rounds per side. */
	int rounds;
	/** The Python interpreter. */
	const char *python;
	/** bench/asyncpg_pgbench.py. */
	const char *script;
	/** Connection for setup scripts. */
	PGconn *admin;
	/** The sluice side. */
	struct sl_side side;
	/** Rows/s by side, round and query. */
	double rate[2][VS_MAX_ROUNDS][NQUERIES];
	/** Client CPU microseconds per row by side, round and query. */
	double us[2][VS_MAX_ROUNDS][NQUERIES];
	/** Server CPU microseconds per row by side, round and query (-1:
	 * not measured). */
	double srv[2][VS_MAX_ROUNDS][NQUERIES];
};

/**
 * Start argv with its stdout on a pipe (stderr stays ours). Returns the
 * pid with the pipe's read end in *out, or -1.
 */
static pid_t
vs_spawn(char *const argv[], FILE **out)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		return -1;
	}
	*out = fdopen(fds[0], "r");
	if (*out == NULL) {
		close(fds[0]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/** Wait for `pid`; its exit status, or -1 if it did not exit normally. */
static int
vs_wait(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/**
 * Whether the script can import asyncpg and uvloop (with --check it prints
 * their versions and exits 0 if it can, a "SKIP" line and 3 if not).
 * Prints the versions, or the skip line when it cannot.
 */
static bool
vs_usable(const struct vs *vs)
{
	char *argv[] = {(char *)vs->python, (char *)vs->script, "--check",
	                NULL};
	FILE *out;
	pid_t pid = vs_spawn(argv, &out);
	char line[512] = "";
	if (pid > 0) {
		if (fgets(line, sizeof(line), out) == NULL)
			line[0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		fclose(out);
	}
	int st = pid > 0 ? vs_wait(pid) : -1;
	if (st == 0) {
		printf("%s\n", line);
		return true;
	}
	printf("# skipped: SKIP pg_bench_vs_asyncpg: %s cannot run %s with "
	       "asyncpg and uvloop (%s; Debian: python3-asyncpg "
	       "python3-uvloop)\n",
	       vs->python, vs->script,
	       line[0] != '\0' ? line : "the interpreter did not start");
	return false;
}

/** The index of the query named `name`, or -1. */
static int
vs_query_index(const char *name)
{
	for (size_t i = 0; i < NQUERIES; i++)
		if (strcmp(queries[i].name, name) == 0)
			return (int)i;
	return -1;
}

/** One round of every query on the sluice side. 0, or -1. */
static int
vs_round_sluice(struct vs *vs, int round)
{
	for (size_t i = 0; i < NQUERIES; i++) {
		const struct query *q = &queries[i];
		struct run r;
		run_init(&r, q, &vs->cfg);
		int rc = sl_run(&vs->side, &r);
		double cpu = cpu_now() - r.cpu0;
		double srv = server_cpu();
		if (rc != 0 || r.failed || run_rate(&r) <= 0 || !r.cpu_set) {
			bench_fail(bench, q->name);
			return -1;
		}
		vs->rate[VS_SLUICE][round][i] = run_rate(&r);
		vs->us[VS_SLUICE][round][i] = cpu * 1e6 / (double)r.rows;
		vs->srv[VS_SLUICE][round][i] =
		        srv >= 0 && r.srv0 >= 0
		                ? (srv - r.srv0) * 1e6 / (double)r.rows
		                : -1;
		if (lp_script(vs->admin, q->reset) != 0)
			return -1;
	}
	return 0;
}

/** One round of every query on the asyncpg side (the script). 0, or -1. */
static int
vs_round_asyncpg(struct vs *vs, int round)
{
	char secs[32], warm[32];
	snprintf(secs, sizeof(secs), "%g", vs->cfg.secs);
	snprintf(warm, sizeof(warm), "%g", vs->cfg.warmup);
	char *argv[] = {(char *)vs->python,
	                (char *)vs->script,
	                (char *)vs->cfg.uri,
	                secs,
	                warm,
	                NULL};
	FILE *out;
	pid_t pid = vs_spawn(argv, &out);
	if (pid < 0) {
		fprintf(stderr, "%s: cannot run %s\n", bench, vs->python);
		return -1;
	}
	bool seen[NQUERIES] = {false};
	char line[512];
	double srv0 = -1;
	while (fgets(line, sizeof(line), out) != NULL) {
		char name[64];
		unsigned long long rows, count;
		double wall, cpu;
		if (strncmp(line, "COUNTING ", 9) == 0) {
			/* The script's first counted completion. */
			srv0 = server_cpu();
			continue;
		}
		double srv =
		        strncmp(line, "RESULT ", 7) == 0 ? server_cpu() : -1;
		if (sscanf(line,
		           "RESULT %63s rows=%llu queries=%llu secs=%lf "
		           "cpu=%lf",
		           name, &rows, &count, &wall, &cpu) != 5) {
			fputs(line, stdout); /* commentary */
			continue;
		}
		int i = vs_query_index(name);
		if (i < 0 || rows == 0 || wall <= 0)
			continue;
		seen[i] = true;
		vs->rate[VS_ASYNCPG][round][i] = (double)rows / wall;
		vs->us[VS_ASYNCPG][round][i] = cpu * 1e6 / (double)rows;
		vs->srv[VS_ASYNCPG][round][i] =
		        srv >= 0 && srv0 >= 0
		                ? (srv - srv0) * 1e6 / (double)rows
		                : -1;
		srv0 = -1;
	}
	fclose(out);
	int st = vs_wait(pid);
	for (size_t i = 0; i < NQUERIES; i++)
		if (!seen[i])
			st = -1;
	if (st != 0) {
		fprintf(stderr, "%s: %s failed (exit status %d)\n", bench,
		        vs->script, st);
		return -1;
	}
	return 0;
}

/** The geometric mean of the `n` values of `v`. */
static double
geomean(const double *v, size_t n)
{
	double l = 0;
	for (size_t i = 0; i < n; i++)
		l += log(v[i]);
	return exp(l / (double)n);
}

/** Print one side's round `k` as a '#' line. */
static void
vs_note_round(const struct vs *vs, int side, int k)
{
	static const char *const names[2] = {"sluice", "asyncpg"};
	printf("# round %d %s: %.0f rows/s, %.3f us/row (geometric means);",
	       k + 1, names[side], geomean(vs->rate[side][k], NQUERIES),
	       geomean(vs->us[side][k], NQUERIES));
	for (size_t i = 0; i < NQUERIES; i++)
		printf(" %s %.0f/%.3f", queries[i].name, vs->rate[side][k][i],
		       vs->us[side][k][i]);
	printf("\n");
}

/** Print the medians of every query and the BENCH lines. */
static void
vs_report(struct vs *vs)
{
	double g_rate[2][VS_MAX_ROUNDS], g_us[2][VS_MAX_ROUNDS];
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < vs->rounds; k++) {
			g_rate[s][k] = geomean(vs->rate[s][k], NQUERIES);
			g_us[s][k] = geomean(vs->us[s][k], NQUERIES);
		}
	for (size_t i = 0; i < NQUERIES; i++) {
		double m[2][3];
		for (int s = 0; s < 2; s++) {
			double r[VS_MAX_ROUNDS], u[VS_MAX_ROUNDS],
			        v[VS_MAX_ROUNDS];
			for (int k = 0; k < vs->rounds; k++) {
				r[k] = vs->rate[s][k][i];
				u[k] = vs->us[s][k][i];
				v[k] = vs->srv[s][k][i];
			}
			m[s][0] = bench_median(r, (size_t)vs->rounds);
			m[s][1] = bench_median(u, (size_t)vs->rounds);
			m[s][2] = bench_median(v, (size_t)vs->rounds);
		}
		if (m[0][2] >= 0 && m[1][2] >= 0)
			printf("# %s: server CPU per row (medians): sluice "
			       "%.3f us, asyncpg %.3f us\n",
			       queries[i].name, m[0][2], m[1][2]);
		printf("# %s: sluice %.0f rows/s %.3f us/row, asyncpg %.0f "
		       "rows/s %.3f us/row (medians): %.2fx rows/s, %.2fx "
		       "less CPU\n",
		       queries[i].name, m[0][0], m[0][1], m[1][0], m[1][1],
		       m[0][0] / m[1][0], m[1][1] / m[0][1]);
	}
	double rate[2], us[2];
	for (int s = 0; s < 2; s++) {
		rate[s] = bench_median(g_rate[s], (size_t)vs->rounds);
		us[s] = bench_median(g_us[s], (size_t)vs->rounds);
	}
	bench_result("pg_bench_vs_asyncpg", rate[0], "rows/s", rate[1],
	             rate[0] / rate[1], 0);
	printf("BENCH pg_bench_vs_asyncpg_cpu value=%.3f unit=us/row "
	       "baseline=%.3f ratio=%.3f\n",
	       us[0], us[1], us[1] / us[0]);
}

/** The comparison, in the loop's main task. 0, or -1. */
static int
vs_all(void *arg)
{
	struct vs *vs = arg;
	struct sl_db_pool_opts po;
	sl_db_pool_opts_init(&po);
	po.min_size = CONCURRENCY;
	po.max_size = CONCURRENCY;
	vs->side.pool = sl_db_pool_open(vs->cfg.uri, &po);
	if (vs->side.pool == NULL) {
		bench_fail(bench, "sl_db_pool_open");
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < NQUERIES && rc == 0; i++)
		rc = lp_script(vs->admin, queries[i].setup);
	for (int k = 0; k < vs->rounds && rc == 0; k++) {
		rc = vs_round_sluice(vs, k);
		if (rc == 0) {
			vs_note_round(vs, VS_SLUICE, k);
			rc = vs_round_asyncpg(vs, k);
		}
		if (rc == 0)
			vs_note_round(vs, VS_ASYNCPG, k);
	}
	sl_db_pool_close(vs->side.pool);
	for (size_t i = 0; i < NQUERIES; i++)
		if (lp_script(vs->admin, queries[i].teardown) != 0)
			rc = -1;
	if (rc == 0)
		vs_report(vs);
	return rc;
}

/**
 * The admin connection to `uri`, with warnings only; NULL (reported)
 * if it fails.
 */
static PGconn *
admin_connect(const char *uri)
{
	PGconn *c = PQconnectdb(uri);
	if (PQstatus(c) != CONNECTION_OK) {
		lp_fail(c, "connect");
		PQfinish(c);
		return NULL;
	}
	if (lp_script(c, "SET client_min_messages = warning") != 0) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

/** Run `fn(arg)` as the main task `name` of a new loop. 0, or -1. */
static int
run_on_loop(const char *name, int (*fn)(void *), void *arg)
{
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL) {
		bench_fail(bench, "cannot create a loop");
		return -1;
	}
	int rc = sl_loop_run_main(loop, name, fn, arg);
	if (rc != 0)
		bench_fail(bench, "failed");
	sl_loop_delete(loop);
	return rc;
}

/**
 * Find the server's postmaster: the parent of `admin`'s backend, if that
 * is a process of this machine (else `postmaster` stays 0).
 */
static void
find_postmaster(PGconn *admin)
{
	PGresult *res = PQexec(admin, "SELECT pg_backend_pid()");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		long ppid;
		unsigned long long t[4];
		if (proc_stat(PQgetvalue(res, 0, 0), &ppid, t) == 0 && ppid > 1)
			postmaster = (pid_t)ppid;
	}
	PQclear(res);
	if (server_cpu() < 0)
		postmaster = 0;
	if (postmaster == 0)
		printf("# the server's processes are not readable here: no "
		       "server CPU per row\n");
}

/** main() of bench_pg_vs_asyncpg. */
static int
vs_main(int argc, char **argv)
{
	static struct vs vs; /* large: not on the stack */
	vs.cfg.uri = argc > 1 ? argv[1] : getenv("SLUICE_BENCH_PG");
	if (vs.cfg.uri == NULL || *vs.cfg.uri == '\0') {
		fprintf(stderr,
		        "usage: bench_pg_vs_asyncpg URI [SECONDS [WARMUP "
		        "[ROUNDS]]] (or set SLUICE_BENCH_PG)\n");
		return 2;
	}
	vs.cfg.secs = arg_secs(argc, argv, 2, "SLUICE_BENCH_VS_SECS", 1.5);
	vs.cfg.warmup = arg_secs(argc, argv, 3, "SLUICE_BENCH_VS_WARMUP", 0.5);
	vs.rounds = (int)arg_secs(argc, argv, 4, "SLUICE_BENCH_VS_ROUNDS", 3);
	if (vs.cfg.secs <= 0 || vs.rounds < 1 || vs.rounds > VS_MAX_ROUNDS) {
		fprintf(stderr, "bench_pg_vs_asyncpg: bad seconds or rounds\n");
		return 2;
	}
	vs.python = getenv("SLUICE_BENCH_PYTHON");
	if (vs.python == NULL || *vs.python == '\0')
		vs.python = access("/usr/bin/python3", X_OK) == 0
		                    ? "/usr/bin/python3"
		                    : "python3";
	vs.script = getenv("SLUICE_BENCH_ASYNCPG_SCRIPT");
	if (vs.script == NULL || *vs.script == '\0')
		vs.script = SLUICE_ASYNCPG_SCRIPT;
	if (!vs_usable(&vs))
		return 0;
	printf("# concurrency %d, %d alternating rounds per side (sluice, "
	       "asyncpg, ...), each query %.1f s after %.1f s of warm-up; "
	       "client CPU from getrusage (sluice) and time.process_time() "
	       "(asyncpg)\n",
	       CONCURRENCY, vs.rounds, vs.cfg.secs, vs.cfg.warmup);
	vs.admin = admin_connect(vs.cfg.uri);
	if (vs.admin == NULL)
		return 1;
	find_postmaster(vs.admin);
	int rc = run_on_loop("vs-asyncpg", vs_all, &vs);
	PQfinish(vs.admin);
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (SLUICE_VS_ASYNCPG)
		return vs_main(argc, argv);
	struct state st = {0};
	st.cfg.uri = argc > 1 ? argv[1] : getenv("SLUICE_BENCH_PG");
	if (st.cfg.uri == NULL || *st.cfg.uri == '\0') {
		fprintf(stderr,
		        "usage: %s URI [SECONDS [WARMUP]] (or set "
		        "SLUICE_BENCH_PG)\n",
		        bench);
		return 2;
	}
	st.cfg.secs = arg_secs(argc, argv, 2, "SLUICE_BENCH_PG_SECS", 3.0);
	st.cfg.warmup = arg_secs(argc, argv, 3, "SLUICE_BENCH_PG_WARMUP", 0.5);
	if (st.cfg.secs <= 0) {
		fprintf(stderr, "%s: the duration must be positive\n", bench);
		return 2;
	}
	printf("# concurrency %d, %.1f s per query and side in two rounds, "
	       "each "
	       "after %.1f s of warm-up\n",
	       CONCURRENCY, st.cfg.secs, st.cfg.warmup);
	st.admin = admin_connect(st.cfg.uri);
	if (st.admin == NULL)
		return 1;
	st.lp = calloc(1, sizeof(*st.lp));
	if (st.lp == NULL || lp_open(st.lp, st.cfg.uri) != 0) {
		if (st.lp != NULL)
			lp_close(st.lp);
		free(st.lp);
		PQfinish(st.admin);
		return 1;
	}
	int rc = run_on_loop("pgbench", bench_all, &st);
	lp_close(st.lp);
	free(st.lp);
	PQfinish(st.admin);
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
