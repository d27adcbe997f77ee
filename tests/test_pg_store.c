/*
 * The PostgreSQL store (graph/pg_store.c) driven directly: a lane whose
 * COMMIT reply is lost (the fault hook) retries without writing its
 * CREATE relationships twice, and counts what it wrote once; merged
 * writes stay idempotent; commit tokens are gone when the store closes.
 * Counts are made on commit: when a lane's COMMIT fails for real (a
 * deferred constraint trigger raising at COMMIT), the store reports what
 * the other lanes and the earlier phase committed, which is what the
 * tables hold. Two stores writing the same rows at once in opposite
 * orders do not deadlock; a deadlock or serialization failure is written
 * again, counted, and named when the retry time runs out.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "graph/pg_store.h"
#include "pg_env.h"
#include "sluice/db.h"
#include "sluice/jsonread.h"
#include "unit.h"

/** Memory of parsed inputs. */
static struct sl_arena arena;

/**
 * Add ingestion `i`: P{k:i} -[EVENT]-> Q{q:i} (the CREATE rule if
 * `create`, else EAGER), -[TO]-> Q{q:i}.
 */
static void
add(struct sl_graph_batch *b, int i, bool create)
{
	char json[700];
	snprintf(json, sizeof(json),
	         "{\"source\":{\"type\":\"P\",\"labels\":[],"
	         "\"key\":{\"k\":%d},\"props\":{\"i\":%d},"
	         "\"rule\":\"EAGER\"},\"rels\":["
	         "{\"type\":\"EVENT\",\"key\":{},\"props\":{\"i\":%d},"
	         "\"rule\":\"%s\",\"outbound\":true,\"node\":{"
	         "\"type\":\"Q\",\"labels\":[],\"key\":{\"q\":%d},"
	         "\"props\":{},\"rule\":\"EAGER\"}},"
	         "{\"type\":\"TO\",\"key\":{},\"props\":{\"i\":%d},"
	         "\"rule\":\"EAGER\",\"outbound\":true,\"node\":{"
	         "\"type\":\"Q\",\"labels\":[],\"key\":{\"q\":%d},"
	         "\"props\":{},\"rule\":\"EAGER\"}}]}",
	         i, i, i, create ? "CREATE" : "EAGER", i, i, i);
	struct sl_value v;
	if (sl_json_parse(json, strlen(json), &arena, NULL, NULL, &v) != 0 ||
	    sl_graph_batch_add(b, &v) != 0)
		bail_out("cannot add ingestion %d: %s", i, unit_errmsg());
}

/** The integer answer of `sql`, or -1. */
static long long
int_of(struct sl_db_conn *c, const char *sql)
{
	struct sl_db_result *r = sl_db_query(c, sql, SL_NOARGS);
	long long v = r != NULL && sl_db_result_rows(r) == 1 &&
	                              sl_db_result_get(r, 0, 0)->type == SL_VINT
	                      ? sl_db_result_get(r, 0, 0)->u.i
	                      : -1;
	sl_db_result_free(r);
	return v;
}

/**
 * sl_store_pg_open() with every lane taking part in every phase, however
 * small the batch (sl_store_pg_set_lane_min()): these cases are about
 * what lanes do.
 */
static struct sl_store_pg *
open_lanes(const char *url)
{
	struct sl_store_pg *s = sl_store_pg_open(url);
	if (s != NULL)
		sl_store_pg_set_lane_min(s, 1);
	return s;
}

/** Write one batch of `n` ingestions, the `lose`th lane commit lost. */
static int
write_batch(struct sl_store_pg *s, int n, uint64_t lose, bool create,
            struct sl_graph_counts *st)
{
	struct sl_graph_batch *b = sl_graph_batch_new();
	for (int i = 0; i < n; i++)
		add(b, i, create);
	sl_store_pg_fault_lose_commit(s, lose);
	int rc = sl_store_pg_write(s, b, st);
	sl_store_pg_fault_lose_commit(s, 0);
	sl_graph_batch_delete(b);
	return rc;
}

/**
 * Make an empty database `name` on the test server, its URL in `url`.
 * 0, or 1 when there is no test server (noted as a skip).
 */
static int
fresh_db(const char *name, char *url, size_t size)
{
	if (pg_test_url("postgres", url, size) == NULL) {
		note("skip: no test server");
		return 1;
	}
	char drop[128], create[128];
	snprintf(drop, sizeof(drop), "DROP DATABASE IF EXISTS %s", name);
	snprintf(create, sizeof(create), "CREATE DATABASE %s", name);
	struct sl_db_conn *admin = sl_db_conn_open(url, NULL);
	ok(admin != NULL && sl_db_exec_script(admin, drop) == 0 &&
	           sl_db_exec_script(admin, create) == 0,
	   "a fresh database");
	sl_db_conn_close(admin);
	pg_test_url(name, url, size);
	return 0;
}

/** The test, in a task. */
static int
main_task(void *arg)
{
	(void)arg;
	char url[600];
	if (fresh_db("sluice_pg_store", url, sizeof(url)) != 0)
		return 0;
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);

	/* Each lane of each phase commits once: with 4 lanes, commits 1-4
	 * are the node phase's and 5-8 the relationship phase's. Losing each
	 * of the relationship commits in turn must not duplicate anything. */
	for (uint64_t lose = 5; lose <= 8; lose++) {
		sl_db_exec_script(
		        c, "DROP TABLE IF EXISTS node, rel, sluice_meta, "
		           "sluice_commit");
		struct sl_store_pg *s = open_lanes(url);
		ok(s != NULL, "open (%s)", unit_errmsg());
		if (s == NULL)
			break;
		sl_store_pg_set_retry(s, 30);
		struct sl_graph_counts st = {0};
		ok(write_batch(s, 200, lose, true, &st) == 0,
		   "commit %llu lost: the write succeeds (%s)",
		   (unsigned long long)lose, unit_errmsg());
		is_int(int_of(c, "SELECT count(*) FROM rel WHERE type = "
		                 "'EVENT'"),
		       200,
		       "commit %llu lost: 200 CREATE relationships, "
		       "none twice",
		       (unsigned long long)lose);
		is_int(int_of(c, "SELECT count(*) FROM rel WHERE type = 'TO'"),
		       200, "commit %llu lost: 200 merged ones",
		       (unsigned long long)lose);
		is_int((long long)st.rels_created, 400,
		       "commit %llu lost: 400 created, counted once",
		       (unsigned long long)lose);
		is_int((long long)st.rels_updated, 0,
		       "commit %llu lost: none counted as updated",
		       (unsigned long long)lose);
		ok(int_of(c, "SELECT count(*) FROM sluice_commit") > 0,
		   "commit %llu lost: tokens while the store is open",
		   (unsigned long long)lose);
		sl_store_pg_close(s);
		is_int(int_of(c, "SELECT count(*) FROM sluice_commit"), 0,
		       "commit %llu lost: none after it closes",
		       (unsigned long long)lose);
	}

	/* A node phase commit lost: upserts are written again, the graph is
	 * the same. */
	sl_db_exec_script(c, "DROP TABLE IF EXISTS node, rel, sluice_meta, "
	                     "sluice_commit");
	struct sl_store_pg *s = open_lanes(url);
	struct sl_graph_counts st = {0};
	ok(s != NULL && write_batch(s, 200, 2, true, &st) == 0,
	   "a node commit lost: the write succeeds");
	is_int(int_of(c, "SELECT count(*) FROM node"), 400,
	       "a node commit lost: 400 nodes, none twice");
	is_int(int_of(c, "SELECT count(*) FROM rel"), 400,
	       "a node commit lost: 400 relationships");

	/* Without faults a second batch adds CREATE relationships again
	 * (they are never merged) and merges the rest. */
	st = (struct sl_graph_counts){0};
	ok(write_batch(s, 200, 0, true, &st) == 0, "a second batch");
	is_int(int_of(c, "SELECT count(*) FROM rel WHERE type = 'EVENT'"), 400,
	       "CREATE relationships are added again");
	is_int(int_of(c, "SELECT count(*) FROM rel WHERE type = 'TO'"), 200,
	       "merged ones are not");
	is_int((long long)st.rels_updated, 200, "200 counted as updated");
	sl_store_pg_close(s);

	/* No CREATE relationships, so no commit token: a relationship
	 * commit whose reply is lost is written again. Its relationships to
	 * nodes new in this batch went in without a conflict check, so the
	 * second attempt meets them (a unique violation) and is written once
	 * more with every insert checked. */
	sl_db_exec_script(c, "DROP TABLE IF EXISTS node, rel, sluice_meta, "
	                     "sluice_commit");
	s = open_lanes(url);
	st = (struct sl_graph_counts){0};
	ok(s != NULL && write_batch(s, 200, 6, false, &st) == 0,
	   "a lost relationship commit without a token: the write succeeds "
	   "(%s)",
	   unit_errmsg());
	is_int(int_of(c, "SELECT count(*) FROM rel"), 400,
	       "... 400 relationships, none twice");
	is_int(int_of(c, "SELECT count(*) FROM rel WHERE multi"), 0,
	       "... all of them merged ones");
	sl_store_pg_close(s);
	sl_db_conn_close(c);
	return 0;
}

/**
 * Deferred constraint triggers that fail the COMMIT of the transaction
 * inserting node P{k: 137} or the relationship EVENT to Q{q: 333}.
 */
static const char doom_sql[] =
        "CREATE FUNCTION doom() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN RAISE EXCEPTION 'doomed row %', NEW.id; END $$;"
        "CREATE CONSTRAINT TRIGGER doom_node AFTER INSERT ON node"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
        " WHEN (NEW.type = 'P' AND NEW.key = '{\"k\":137}')"
        " EXECUTE FUNCTION doom();"
        "CREATE CONSTRAINT TRIGGER doom_rel AFTER INSERT ON rel"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
        " WHEN (NEW.type = 'EVENT' AND NEW.props = '{\"i\":333}')"
        " EXECUTE FUNCTION doom();";

/** Reported counts against the tables after failed COMMITs (a task). */
static int
counts_task(void *arg)
{
	(void)arg;
	char url[600];
	if (fresh_db("sluice_pg_counts", url, sizeof(url)) != 0)
		return 0;
	struct sl_store_pg *s = open_lanes(url);
	ok(s != NULL, "open (%s)", unit_errmsg());
	if (s == NULL)
		return 0;
	sl_store_pg_set_retry(s, 2);
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);
	ok(c != NULL && sl_db_exec_script(c, doom_sql) == 0,
	   "triggers that fail two COMMITs (%s)", unit_errmsg());

	struct sl_graph_counts st = {0};
	ok(write_batch(s, 100, 0, true, &st) == 0, "a first batch");
	is_int((long long)st.nodes_created, 200, "200 nodes reported");
	is_int((long long)st.rels_created, 200, "200 relationships reported");

	/* Keys 0..199 again with 100..199 new: the lane holding P{k: 137}
	 * fails at COMMIT; the other lanes commit theirs. */
	ok(write_batch(s, 200, 0, true, &st) == -1,
	   "a batch whose node lane fails at COMMIT fails");
	ok(strstr(unit_errmsg(), "doomed row") != NULL, "with the error (%s)",
	   unit_errmsg());
	long long nodes = int_of(c, "SELECT count(*) FROM node");
	ok(nodes > 200 && nodes < 400,
	   "the other lanes committed their nodes (%lld in the table)", nodes);
	is_int((long long)st.nodes_created, nodes,
	       "the nodes reported created are those in the table");
	is_int((long long)st.rels_created,
	       int_of(c, "SELECT count(*) FROM rel"),
	       "the relationships too (none written in that batch)");

	/* Without P{k: 137}: every node commits, then the relationship lane
	 * creating EVENT 333 fails at COMMIT. */
	sl_db_exec_script(c, "DROP TRIGGER doom_node ON node");
	ok(write_batch(s, 400, 0, false, &st) == -1,
	   "a batch whose relationship lane fails at COMMIT fails");
	is_int(int_of(c, "SELECT count(*) FROM node"), 800,
	       "its node phase committed");
	is_int((long long)st.nodes_created, 800,
	       "the nodes reported are those in the table");
	long long rels = int_of(c, "SELECT count(*) FROM rel");
	ok(rels > 200 && rels < 200 + 800,
	   "the other relationship lanes committed (%lld in the table)", rels);
	is_int((long long)(st.rels_created), rels,
	       "the relationships reported created are those in the table");
	sl_store_pg_close(s);
	sl_db_conn_close(c);
	return 0;
}

/** What a writer task of contention_task() writes, and how it went. */
struct writer {
	/** The store it writes with. */
	struct sl_store_pg *s;
	/** Whether it adds the ingestions in reverse order. */
	bool reverse;
	/** Failed writes. */
	int failed;
	/** The first failure's message. */
	char error[600];
};

/**
 * Write 6 batches of ingestions 0..2999 (P, Q, EVENT and TO; the same
 * rows as the other writer) in the writer's order.
 */
static int
writer_task(void *arg)
{
	struct writer *w = arg;
	for (int round = 0; round < 6; round++) {
		struct sl_graph_batch *b = sl_graph_batch_new();
		for (int i = 0; i < 3000; i++)
			add(b, w->reverse ? 2999 - i : i, false);
		struct sl_graph_counts st = {0};
		if (sl_store_pg_write(w->s, b, &st) != 0 && w->failed++ == 0)
			snprintf(w->error, sizeof(w->error), "%s",
			         unit_errmsg());
		sl_graph_batch_delete(b);
	}
	return 0;
}

/**
 * A BEFORE INSERT trigger on node that fails the first insert attempt of
 * P{k: 5} with a deadlock (a sequence, which a rollback does not undo,
 * tells the first), and every one of P{k: 6} with a serialization
 * failure while `fail6` says so.
 */
static const char contend_sql[] =
        "CREATE SEQUENCE once_seq;"
        "CREATE TABLE fail6(on_ bool);"
        "CREATE FUNCTION contend() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        " IF NEW.key = '{\"k\":5}' AND nextval('once_seq') = 1 THEN"
        "  RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01';"
        " END IF;"
        " IF NEW.key = '{\"k\":6}' AND EXISTS (SELECT 1 FROM fail6) THEN"
        "  RAISE EXCEPTION 'injected serialization failure'"
        "   USING ERRCODE = '40001';"
        " END IF;"
        " RETURN NEW; END $$;"
        "CREATE TRIGGER contend BEFORE INSERT ON node"
        " FOR EACH ROW WHEN (NEW.type = 'P') EXECUTE FUNCTION contend();";

/**
 * Two writers of the same rows at once, in opposite orders, do not
 * deadlock (the lanes' identity order); deadlocks and serialization
 * failures are retried and counted, and named when the retry time runs
 * out (a task).
 */
static int
contention_task(void *arg)
{
	(void)arg;
	char url[600];
	if (fresh_db("sluice_pg_contention", url, sizeof(url)) != 0)
		return 0;
	struct writer w[2] = {{.s = open_lanes(url)},
	                      {.s = open_lanes(url), .reverse = true}};
	ok(w[0].s != NULL && w[1].s != NULL, "two stores (%s)", unit_errmsg());
	if (w[0].s == NULL || w[1].s == NULL) {
		sl_store_pg_close(w[0].s);
		sl_store_pg_close(w[1].s);
		return 0;
	}
	struct sl_task *t[2];
	for (int i = 0; i < 2; i++)
		t[i] = sl_task_spawn(sl_loop_current(), "writer", writer_task,
		                     &w[i]);
	for (int i = 0; i < 2; i++)
		if (t[i] != NULL)
			sl_task_join(t[i]);
	ok(t[0] != NULL && t[1] != NULL && w[0].failed == 0 && w[1].failed == 0,
	   "two writers of the same rows in opposite orders: every write "
	   "succeeds (%s%s)",
	   w[0].error, w[1].error);
	uint64_t retries = sl_store_pg_contention_retries(w[0].s) +
	                   sl_store_pg_contention_retries(w[1].s);
	is_int((long long)retries, 0,
	       "... without a deadlock: they lock the rows in one order");
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);
	is_int(int_of(c, "SELECT count(*) FROM node"), 6000,
	       "... 6000 nodes, none twice");
	is_int(int_of(c, "SELECT count(*) FROM rel"), 6000,
	       "... 6000 relationships, none twice");
	sl_store_pg_close(w[1].s);

	/* A deadlock (injected) is rolled back and written again. */
	struct sl_store_pg *s = w[0].s;
	ok(sl_db_exec_script(c, "DELETE FROM rel; DELETE FROM node") == 0 &&
	           sl_db_exec_script(c, contend_sql) == 0,
	   "a trigger that injects a deadlock (%s)", unit_errmsg());
	struct sl_graph_counts st = {0};
	ok(write_batch(s, 100, 0, false, &st) == 0,
	   "a lane that deadlocks once: the write succeeds (%s)",
	   unit_errmsg());
	is_int((long long)sl_store_pg_contention_retries(s), 1,
	       "... after one retry, counted");
	is_int((long long)st.nodes_created, 200, "... 200 nodes, counted once");
	is_int(int_of(c, "SELECT count(*) FROM node"), 200,
	       "... 200 nodes in the table");

	/* Serialization failures until the retry time runs out. */
	sl_store_pg_set_retry(s, 0.4);
	sl_db_exec_script(c, "INSERT INTO fail6 VALUES (true);"
	                     "DELETE FROM rel; DELETE FROM node");
	st = (struct sl_graph_counts){0};
	ok(write_batch(s, 100, 0, false, &st) == -1,
	   "a lane that always fails to serialize: the write fails");
	ok(strstr(unit_errmsg(),
	          "each deadlocked or failed to serialize "
	          "with another writer of the same rows") != NULL,
	   "... saying so (%s)", unit_errmsg());
	char full[2048];
	sl_error_format(sl_diag_last(), full, sizeof(full));
	ok(strstr(full, "SQLSTATE 40001") != NULL,
	   "... with the server's error as its cause");
	ok(sl_store_pg_contention_retries(s) > 1, "... after retries, counted");
	sl_store_pg_close(s);
	sl_db_conn_close(c);
	return 0;
}

/**
 * A batch's phases take lanes by their size: a small batch writes
 * through one connection, a large one through every lane (a task).
 */
static int
lanes_task(void *arg)
{
	(void)arg;
	char url[600];
	if (fresh_db("sluice_pg_lanes", url, sizeof(url)) != 0)
		return 0;
	struct sl_store_pg *s = sl_store_pg_open(url);
	ok(s != NULL, "open (%s)", unit_errmsg());
	if (s == NULL)
		return 0;
	is_int(sl_store_pg_connected(s), 1, "one connection once open");
	struct sl_graph_counts st = {0};
	ok(write_batch(s, 100, 0, false, &st) == 0, "a batch of 100 (%s)",
	   unit_errmsg());
	is_int(sl_store_pg_connected(s), 1,
	       "... 200 node and 200 relationship writes: one lane");
	ok(write_batch(s, 2000, 0, false, &st) == 0, "a batch of 2000 (%s)",
	   unit_errmsg());
	is_int(sl_store_pg_connected(s), 4,
	       "... 4000 node and 4000 relationship writes: every lane");
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);
	is_int(int_of(c, "SELECT count(*) FROM node"), 4000,
	       "... 4000 nodes in the table");
	is_int(int_of(c, "SELECT count(*) FROM rel"), 4000,
	       "... 4000 relationships");
	is_int((long long)st.nodes_created, 4000, "... and reported");
	sl_db_conn_close(c);
	sl_store_pg_close(s);
	return 0;
}

/** The indexes of relationships by source and target on `c`'s database. */
static long long
rel_idx_count(struct sl_db_conn *c)
{
	return int_of(c, "SELECT count(*) FROM pg_indexes WHERE tablename = "
	                 "'rel' AND indexname IN ('sluice_rel_out', "
	                 "'sluice_rel_in')");
}

/**
 * A store that opens an empty `rel` table builds the indexes of
 * relationships by source and target at its close; one that opens rows
 * keeps them, and builds one a load that stopped early left out at its
 * close too (a task).
 */
static int
rel_idx_task(void *arg)
{
	(void)arg;
	char url[600];
	if (fresh_db("sluice_pg_relidx", url, sizeof(url)) != 0)
		return 0;
	struct sl_store_pg *s = sl_store_pg_open(url);
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);
	if (s == NULL || c == NULL)
		bail_out("cannot open (%s)", unit_errmsg());
	is_int(rel_idx_count(c), 0, "an empty graph is loaded without them");
	struct sl_graph_counts st = {0};
	ok(write_batch(s, 100, 0, false, &st) == 0, "a batch of 100 (%s)",
	   unit_errmsg());
	is_int(rel_idx_count(c), 0, "still without them while loading");
	sl_store_pg_close(s);
	is_int(rel_idx_count(c), 2, "built at the close");
	ok(sl_db_exec_script(c, "SET enable_seqscan = off") == 0,
	   "table scans off");
	is_int(int_of(c, "SELECT count(*) FROM rel WHERE to_id > 0 AND type "
	                 "IN ('TO', 'EVENT')"),
	       200, "the indexes find every relationship");

	s = sl_store_pg_open(url);
	ok(s != NULL, "open again (%s)", unit_errmsg());
	is_int(rel_idx_count(c), 2, "a graph with relationships keeps them");
	sl_store_pg_close(s);

	ok(sl_db_exec_script(c, "DROP INDEX sluice_rel_in") == 0,
	   "a load that stopped early leaves one out");
	s = sl_store_pg_open(url);
	ok(s != NULL, "open again (%s)", unit_errmsg());
	is_int(rel_idx_count(c), 1, "the next store leaves it to its close");
	ok(write_batch(s, 100, 0, false, &st) == 0, "and writes meanwhile (%s)",
	   unit_errmsg());
	sl_store_pg_close(s);
	is_int(rel_idx_count(c), 2, "then builds it");
	is_int(int_of(c, "SELECT count(*) FROM rel WHERE to_id > 0 AND type "
	                 "IN ('TO', 'EVENT')"),
	       200, "over every relationship");
	sl_db_conn_close(c);

	if (fresh_db("sluice_pg_relidx2", url, sizeof(url)) != 0)
		return 0;
	s = sl_store_pg_open(url);
	c = sl_db_conn_open(url, NULL);
	if (s == NULL || c == NULL)
		bail_out("cannot open (%s)", unit_errmsg());
	ok(write_batch(s, 10, 0, false, &st) == 0,
	   "a load into another empty graph (%s)", unit_errmsg());
	uint64_t deleted = 1;
	ok(sl_store_pg_ttl(s, true, "Q", "9999", &deleted) == 0,
	   "then a TTL of its nodes (%s)", unit_errmsg());
	is_int(rel_idx_count(c), 2, "the TTL built them first");
	sl_store_pg_close(s);
	is_int(rel_idx_count(c), 2, "they stay after the close");
	sl_db_conn_close(c);
	return 0;
}

/** The deferred indexes of relationships (rel_idx_task()). */
TAP_CASE(rel_idx_deferred)
{
	if (run_task("pg_store", rel_idx_task, NULL) != 0)
		note("the task failed: %s", unit_errmsg());
}

/** Lanes by the batch's size (lanes_task()). */
TAP_CASE(lanes_by_size)
{
	if (run_task("pg_store", lanes_task, NULL) != 0)
		note("the task failed: %s", unit_errmsg());
}

/** Writers of the same rows at once (contention_task()). */
TAP_CASE(contention)
{
	if (run_task("pg_store", contention_task, NULL) != 0)
		note("the task failed: %s", unit_errmsg());
}

/** Counts of lanes whose COMMIT failed (counts_task()). */
TAP_CASE(commit_fails)
{
	if (run_task("pg_store", counts_task, NULL) != 0)
		note("the task failed: %s", unit_errmsg());
}

/** Lost COMMIT replies duplicate nothing (main_task()). */
TAP_CASE(lost_commits)
{
	if (run_task("pg_store", main_task, NULL) != 0)
		note("the task failed: %s", unit_errmsg());
}

/** Create the arena the case allocates from. */
static int
setup(void)
{
	sl_arena_create(&arena, 0, (size_t)1 << 28);
	return 0;
}

/** Free the arena. */
static void
teardown(void)
{
	sl_arena_destroy(&arena);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
