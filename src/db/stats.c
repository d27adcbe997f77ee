/*
 * sluice: the database layer's counters per database (see
 * sluice/dbstats.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "sluice/dbstats.h"

/** One database's entry. */
struct entry {
	/** The database as shown (no password). */
	char name[SL_DB_URL_MAX];
	/** Its counters. */
	struct sl_db_stats st;
};

/** Guards `n_entries` and the names (counters are atomics). */
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
/** The entries; the last one is "other". */
static struct entry entries[SL_DB_STATS_MAX + 1];
/** Entries in use (not counting "other" unless used). */
static size_t n_entries;
/** Whether "other" was used. */
static bool other_used;

struct sl_db_stats *
sl_db_stats_for(const char *shown)
{
	pthread_mutex_lock(&stats_lock);
	struct sl_db_stats *st = NULL;
	for (size_t i = 0; i < n_entries && st == NULL; i++)
		if (strcmp(entries[i].name, shown) == 0)
			st = &entries[i].st;
	if (st == NULL && n_entries < SL_DB_STATS_MAX) {
		struct entry *e = &entries[n_entries];
		snprintf(e->name, sizeof(e->name), "%s", shown);
		st = &e->st;
		n_entries++;
	}
	if (st == NULL) {
		struct entry *e = &entries[SL_DB_STATS_MAX];
		snprintf(e->name, sizeof(e->name), "other");
		other_used = true;
		st = &e->st;
	}
	pthread_mutex_unlock(&stats_lock);
	return st;
}

void
sl_db_stats_each(void (*fn)(void *arg, const char *database,
                            const struct sl_db_stats *st),
                 void *arg)
{
	pthread_mutex_lock(&stats_lock);
	size_t n = n_entries;
	bool other = other_used;
	pthread_mutex_unlock(&stats_lock);
	/* Entries below `n` never change their names. */
	for (size_t i = 0; i < n; i++)
		fn(arg, entries[i].name, &entries[i].st);
	if (other)
		fn(arg, entries[SL_DB_STATS_MAX].name,
		   &entries[SL_DB_STATS_MAX].st);
}
