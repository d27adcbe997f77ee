/*
 * libpq helpers shared by the PostgreSQL benchmarks (bench_pg_load,
 * bench_pg_rerun): database URIs, and connecting and running SQL with
 * failures reported on stderr under the benchmark's name.
 */
#ifndef SLUICE_BENCH_PQ_H
#define SLUICE_BENCH_PQ_H

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

/**
 * `base` with its path replaced by "/`db`" (a query string is kept), in
 * `out` of `size` bytes. 0, or -1 if `base` is no postgresql:// URI or
 * the result does not fit.
 */
static inline int
pq_uri_for(const char *base, const char *db, char *out, size_t size)
{
	const char *auth = strstr(base, "://");
	if (auth == NULL)
		return -1;
	auth += 3;
	size_t end = strcspn(auth, "/?");
	const char *query = strchr(auth + end, '?');
	int n = snprintf(out, size, "%.*s/%s%s", (int)(auth - base + end), base,
	                 db, query != NULL ? query : "");
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/** Report (as benchmark `name`) that `what` failed on `pg`. Returns -1. */
static inline int
pq_fail(const char *name, PGconn *pg, const char *what)
{
	fprintf(stderr, "%s: %s: %s", name, what,
	        pg != NULL ? PQerrorMessage(pg) : "out of memory\n");
	return -1;
}

/** A connection to `uri`, or NULL (reported as benchmark `name`). */
static inline PGconn *
pq_connect(const char *name, const char *uri)
{
	PGconn *pg = PQconnectdb(uri);
	if (PQstatus(pg) != CONNECTION_OK) {
		pq_fail(name, pg, "connecting");
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

/** Run `sql` (no COPY). 0, or -1 (reported as benchmark `name`). */
static inline int
pq_exec(const char *name, PGconn *pg, const char *sql)
{
	PGresult *r = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(r);
	PQclear(r);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
	               ? 0
	               : pq_fail(name, pg, sql);
}

#endif /* SLUICE_BENCH_PQ_H */
