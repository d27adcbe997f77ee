/*
 * The graph-store seam (graph/store.h) through targets (graph/target.h):
 * URIs resolve to stores by scheme, an unknown scheme lists the known
 * ones, a registered store is found, and an operation a store lacks fails
 * with an error naming the operation and the store. The null and SQLite
 * stores answer every operation (SQLite on a real file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph/pg_store.h"
#include "graph/store.h"
#include "graph/target.h"
#include "sluice/graph.h"
#include "unit.h"

/** The temporary directory of this run. */
static char tmpdir[64];

/** An open tally store: it counts what it is given. */
struct tally {
	/** Batches written. */
	int batches;
};

/** Batches written to tally stores that were closed. */
static int tally_closed_batches;

/** Open "tally:". */
static void *
tally_open(const char *uri)
{
	(void)uri;
	return calloc(1, sizeof(struct tally));
}

/** Count a batch. */
static int
tally_write(void *store, const struct sl_graph_batch *b,
            struct sl_graph_counts *st)
{
	(void)b;
	(void)st;
	((struct tally *)store)->batches++;
	return 0;
}

/** Close, remembering the count. */
static int
tally_close(void *store)
{
	tally_closed_batches += ((struct tally *)store)->batches;
	free(store);
	return 0;
}

/** URI schemes of the tally store. */
static const char *const tally_schemes[] = {"tally:", NULL};

/** A store that writes but has no TTL, migrations or export. */
static const struct sl_graph_store_ops tally_ops = {
        .name = "tally",
        .schemes = tally_schemes,
        .usage = "tally:",
        .caps = 0,
        .batch_default = 7,
        .open = tally_open,
        .write = tally_write,
        .close = tally_close,
};

/** Counts exported lines (arg: an int). */
static int
count_line(void *arg, const char *json, size_t len)
{
	(void)json;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

/** Whether the current error message contains `what`. */
static bool
err_has(const char *what)
{
	char msg[2048] = "";
	struct sl_error *e = sl_diag_last();
	if (e != NULL)
		sl_error_format(e, msg, sizeof(msg));
	if (strstr(msg, what) != NULL)
		return true;
	note("error: %s", msg);
	return false;
}

/** Unknown schemes and a registered store lacking operations. */
TAP_TASK_CASE(lacking)
{
	ok(sl_target_open("mysql://localhost") == NULL,
	   "an unknown scheme is refused");
	is_err(SL_EINVAL, "with EINVAL");
	ok(err_has("target 'mysql://localhost': unknown kind of target "
	           "(expected sqlite:PATH, postgresql://..., bolt:// or "
	           "neo4j://... or null:)"),
	   "listing the known kinds");

	is_int(sl_graph_store_register(&tally_ops), 0, "a store registers");
	ok(sl_target_open("mysql://localhost") == NULL &&
	           err_has("(expected sqlite:PATH, postgresql://..., bolt:// "
	                   "or neo4j://..., null: or tally:)"),
	   "and is listed among the known kinds");
	struct sl_target *t = sl_target_open("tally:");
	ok(t != NULL, "its URI opens it");
	if (t == NULL)
		bail_out("cannot go on");
	is_int(sl_target_batch_default(t), 7, "with its batch size");
	struct sl_graph_batch b = {0};
	struct sl_graph_counts st = {0};
	is_int(sl_target_write(t, &b, &st), 0, "a write is forwarded");

	uint64_t deleted = 1;
	is_int(sl_target_ttl(t, true, "A", "2024-01-01T00:00:00Z", &deleted),
	       -1, "TTL fails on a store without it");
	is_err(SL_EINVAL, "with EINVAL");
	ok(err_has("target tally:: the tally store does not support TTL "
	           "deletion"),
	   "naming the operation and the store");
	is_int((int)deleted, 0, "deleting nothing");

	uint32_t applied = 1, kept = 1;
	is_int(sl_target_migrate(t, NULL, &applied, &kept), -1,
	       "migrate fails on a store without it");
	ok(err_has("the tally store does not support migrate"),
	   "naming the operation and the store");
	ok(applied == 0 && kept == 0, "applying nothing");

	int lines = 0;
	is_int(sl_target_export(t, count_line, &lines), -1,
	       "export fails on a store without it");
	ok(err_has("the tally store does not support export"),
	   "naming the operation and the store");
	is_int(sl_target_close(t), 0, "it closes");
	is_int(tally_closed_batches, 1, "after the one batch written");

	int full = 0;
	for (int i = 0; i < 16 && full == 0; i++)
		if (sl_graph_store_register(&tally_ops) != 0)
			full = i + 1;
	ok(full > 0, "registrations are bounded");
	is_err(SL_ELIMIT, "with ELIMIT");
}

/** The null store answers every operation with nothing. */
TAP_TASK_CASE(null)
{
	struct sl_target *t = sl_target_open("null:");
	ok(t != NULL, "null: opens");
	if (t == NULL)
		bail_out("cannot go on");
	is_int(sl_target_batch_default(t), SL_GRAPH_BATCH_DEFAULT,
	       "with the default batch size");
	uint64_t deleted = 1;
	is_int(sl_target_ttl(t, false, "R", "x", &deleted), 0,
	       "TTL deletes nothing");
	is_int((int)deleted, 0, "counting 0");
	uint32_t applied = 1, kept = 1;
	is_int(sl_target_migrate(t, NULL, &applied, &kept), 0,
	       "has no migrations");
	int lines = 0;
	is_int(sl_target_export(t, count_line, &lines), 0, "exports");
	is_int(lines, 0, "an empty graph");
	is_int(sl_target_close(t), 0, "closes");
	ok(sl_target_open("null:x") == NULL, "null:x is refused");
	t = sl_target_open("null");
	ok(t != NULL, "null is null:");
	sl_target_close(t);
}

/** The SQLite store through the seam, on a real file. */
TAP_TASK_CASE(sqlite)
{
	char uri[128];
	snprintf(uri, sizeof(uri), "sqlite:%s/g.db", tmpdir);
	struct sl_target *t = sl_target_open(uri);
	ok(t != NULL, "sqlite:PATH opens");
	if (t == NULL)
		bail_out("cannot go on: %s", unit_errmsg());
	is_int(sl_target_batch_default(t), SL_GRAPH_BATCH_DEFAULT,
	       "with the default batch size");
	uint64_t deleted = 1;
	is_int(sl_target_ttl(t, true, "A", "2024-01-01T00:00:00Z", &deleted), 0,
	       "TTL runs");
	is_int((int)deleted, 0, "deleting nothing from an empty graph");
	int lines = 0;
	is_int(sl_target_export(t, count_line, &lines), 0, "export runs");
	is_int(lines, 0, "an empty graph");
	is_int(sl_target_close(t), 0, "closes");
	ok(sl_target_open("sqlite:") == NULL, "sqlite: without a path fails");
	ok(err_has("target sqlite:: no database path"), "saying so");
	snprintf(uri, sizeof(uri), "sqlite:%s/no/such/dir.db", tmpdir);
	ok(sl_target_open(uri) == NULL, "a missing directory fails");
	ok(err_has("target sqlite:") && err_has("cannot open"),
	   "naming the target");
}

/** Make the temporary directory the SQLite cases write in. */
static int
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-store-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		bail_out("mkdtemp failed");
	return 0;
}

/** Remove the temporary directory and its databases. */
static void
teardown(void)
{
	char p[128];
	const char *names[] = {"g.db", "g.db-wal", "g.db-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

/** The PostgreSQL store's own URI parameter lanes=N (no server needed). */
TAP_CASE(pg_uri)
{
	char out[128];
	unsigned lanes = 99;
	is_int(sl_store_pg_uri_split("postgresql://u:p@h/d", out, sizeof(out),
	                             &lanes),
	       0, "no query");
	is_str(out, "postgresql://u:p@h/d", "... unchanged");
	is_int(lanes, 0, "... no lanes");
	is_int(sl_store_pg_uri_split("postgresql://h/d?lanes=8", out,
	                             sizeof(out), &lanes),
	       0, "lanes alone");
	is_str(out, "postgresql://h/d", "... taken out with the '?'");
	is_int(lanes, 8, "... 8 lanes");
	is_int(sl_store_pg_uri_split("postgres://h/d?sslmode=disable&lanes=2&"
	                             "application_name=x",
	                             out, sizeof(out), &lanes),
	       0, "lanes among libpq's parameters");
	is_str(out, "postgres://h/d?sslmode=disable&application_name=x",
	       "... the others stay, in order");
	is_int(lanes, 2, "... 2 lanes");
	is_int(sl_store_pg_uri_split("postgres://h/d?lanes=2&sslmode=require",
	                             out, sizeof(out), &lanes),
	       0, "lanes first");
	is_str(out, "postgres://h/d?sslmode=require", "... '?' kept");
	const char *bad[] = {"postgres://h?lanes=0", "postgres://h?lanes=17",
	                     "postgres://h?lanes=x", "postgres://h?lanes=2x",
	                     "postgres://h?lanes=99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		sl_diag_clear(sl_diag_get());
		is_int(sl_store_pg_uri_split(bad[i], out, sizeof(out), &lanes),
		       -1, "%s is refused", bad[i]);
		ok(strstr(unit_errmsg(), "URI parameter lanes (1..16)") != NULL,
		   "... naming it: %s", unit_errmsg());
	}
	is_int(sl_store_pg_uri_split("postgres://h/a-rather-long-name", out, 16,
	                             &lanes),
	       -1, "too long");
	is_err(SL_ELIMIT, "... SL_ELIMIT");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
