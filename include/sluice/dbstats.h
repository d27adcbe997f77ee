/*
 * sluice: what the database layer counts per database, for metrics: the
 * connections open, those inside an operation and those a pool has
 * handed out, and how long each operation took.
 *
 * A database is named by its URI as it may be shown (sl_uri_redact():
 * no password), so the connections of one pool, or the lanes of a
 * PostgreSQL target, share one entry. An operation is one call that
 * holds the connection (a statement, a script, a transaction command, a
 * pipeline's step, a COPY's start and end, a cursor fetch, a SQLite job):
 * its latency runs from the moment the calling task takes the connection
 * to the moment it gives it back, waits for the server included.
 *
 * Entries are made when a connection to a new database is made, up to
 * SL_DB_STATS_MAX; after that, connections to further databases count
 * under the entry named "other". Entries live as long as the process.
 * Counters are relaxed atomics, updated per operation (never per row),
 * so reading them from any thread is safe.
 */
#ifndef SLUICE_DBSTATS_H
#define SLUICE_DBSTATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "sluice/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most databases counted apart. */
#define SL_DB_STATS_MAX 64

/** The counters of one database. */
struct sl_db_stats {
	/** Connections open now. */
	_Atomic int64_t open;
	/** Connections inside an operation now. */
	_Atomic int64_t busy;
	/** Connections handed out by a pool and not yet released. */
	_Atomic int64_t held;
	/** Connections opened so far. */
	_Atomic uint64_t opened;
	/** Latency of each operation. */
	struct sl_hist ops;
};

/**
 * Call `fn` with each database counted so far (in the order they were
 * first seen) and its counters.
 */
void sl_db_stats_each(void (*fn)(void *arg, const char *database,
                                 const struct sl_db_stats *st),
                      void *arg);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_DBSTATS_H */
