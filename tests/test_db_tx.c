/*
 * A failed statement inside a transaction, on both drivers: the
 * transaction is aborted until it is rolled back (or rolled back to a
 * savepoint taken before the failure), and committing it rolls it back
 * and says so. PostgreSQL behaves so itself; for SQLite the layer does.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pg_env.h"
#include "sluice/db.h"
#include "sluice/task.h"
#include "unit.h"

/** The integer answer of `sql` on `c`, or -1. */
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

/** A task that begins a transaction, inserts `arg`'s row and returns. */
static int
forgetful(void *arg)
{
	struct sl_db_conn *c = arg;
	struct sl_db_tx tx;
	if (sl_db_tx_begin(c, &tx, NULL) != 0 ||
	    sl_db_exec(c, "INSERT INTO tx_t VALUES (100)", SL_NOARGS, NULL) !=
	            0)
		return -1;
	return 0; /* neither commit nor rollback */
}

/** A task that begins a transaction and fails inside it. */
static int
failing(void *arg)
{
	struct sl_db_conn *c = arg;
	struct sl_db_tx tx;
	if (sl_db_tx_begin(c, &tx, NULL) != 0)
		return 0;
	sl_db_exec(c, "INSERT INTO tx_t VALUES (101)", SL_NOARGS, NULL);
	sl_diag_set(SL_EINVAL, "the task gave up");
	return -1;
}

/**
 * A task that begins a transaction another task will commit, and ends
 * when woken.
 */
static int
beginner(void *arg)
{
	struct sl_db_tx *tx = arg;
	if (sl_db_tx_begin(tx->conn, tx, NULL) != 0)
		return -1;
	sl_task_wait(10);
	return 0;
}

/** The checks, on connection `c` (tag: the driver). */
static void
suite(struct sl_db_conn *c, const char *tag)
{
	ok(sl_db_exec_script(c, "DROP TABLE IF EXISTS tx_t; CREATE TABLE "
	                        "tx_t(v INTEGER PRIMARY KEY)") == 0,
	   "%s: table", tag);
	struct sl_db_tx tx, sp;

	/* A failure aborts the transaction; commit rolls it back. */
	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "%s: begin", tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) == 0,
	   "%s: insert 1", tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) != 0,
	   "%s: a duplicate key fails", tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (2)", SL_NOARGS, NULL) != 0,
	   "%s: the next statement is refused", tag);
	ok(strstr(unit_errmsg(), "abort") != NULL,
	   "%s: ... as the transaction is aborted: %s", tag, unit_errmsg());
	ok(sl_db_tx_commit(&tx) != 0, "%s: commit fails", tag);
	ok(strstr(unit_errmsg(), "rolled back") != NULL,
	   "%s: ... saying it was rolled back: %s", tag, unit_errmsg());
	is_int(sl_db_conn_tx_depth(c), 0, "%s: no transaction is open", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t"), 0,
	       "%s: nothing of it was committed", tag);

	/* Rolling back to a savepoint taken before the failure recovers. */
	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "%s: begin", tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) == 0,
	   "%s: insert 1", tag);
	ok(sl_db_tx_begin(c, &sp, NULL) == 0, "%s: savepoint", tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) != 0,
	   "%s: a duplicate key fails in the savepoint", tag);
	ok(sl_db_tx_rollback(&sp) == 0, "%s: roll back the savepoint", tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (2)", SL_NOARGS, NULL) == 0,
	   "%s: the transaction goes on", tag);
	ok(sl_db_tx_commit(&tx) == 0, "%s: and commits", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t"), 2,
	       "%s: rows 1 and 2 are in", tag);

	/* Committing a savepoint whose statement failed rolls it back; the
	 * outer transaction stays usable. */
	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "%s: begin", tag);
	ok(sl_db_tx_begin(c, &sp, NULL) == 0, "%s: savepoint", tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (3)", SL_NOARGS, NULL) == 0,
	   "%s: insert 3 in the savepoint", tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) != 0,
	   "%s: a duplicate key fails in the savepoint", tag);
	ok(sl_db_tx_commit(&sp) != 0, "%s: releasing the savepoint fails", tag);
	is_int(sl_db_conn_tx_depth(c), 1, "%s: the outer transaction is open",
	       tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (4)", SL_NOARGS, NULL) == 0,
	   "%s: and usable", tag);
	ok(sl_db_tx_commit(&tx) == 0, "%s: it commits", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t WHERE v IN (3, 4)"), 1,
	       "%s: 4 is in, 3 (in the failed savepoint) is not", tag);

	/* Outside a transaction, a failure costs only its statement. */
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) != 0,
	   "%s: a failure outside a transaction", tag);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (5)", SL_NOARGS, NULL) == 0,
	   "%s: does not stop the next statement", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t"), 4, "%s: 1, 2, 4, 5",
	       tag);

	/* A task that ends inside a transaction rolls it back. */
	struct sl_task *t =
	        sl_task_spawn(sl_loop_current(), "forgetful", forgetful, c);
	ok(t != NULL && sl_task_join(t) == 0,
	   "%s: a task ends in its "
	   "transaction",
	   tag);
	is_int(sl_db_conn_tx_depth(c), 0, "%s: ... which is rolled back", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t WHERE v = 100"), 0,
	       "%s: ... with its insert", tag);
	t = sl_task_spawn(sl_loop_current(), "failing", failing, c);
	ok(t != NULL && sl_task_join(t) != 0 &&
	           strstr(unit_errmsg(), "the task gave up") != NULL,
	   "%s: a task fails in its transaction, with its own error", tag);
	is_int(sl_db_conn_tx_depth(c), 0, "%s: ... which is rolled back", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t WHERE v = 101"), 0,
	       "%s: ... with its insert", tag);

	/* Begun in one task, committed in another: the first task's end
	 * no longer concerns it. */
	struct sl_db_tx shared = {.conn = c};
	t = sl_task_spawn(sl_loop_current(), "beginner", beginner, &shared);
	for (int i = 0; i < 500 && !shared.open; i++)
		sl_sleep(0.01);
	ok(sl_db_exec(c, "INSERT INTO tx_t VALUES (102)", SL_NOARGS, NULL) ==
	                   0 &&
	           sl_db_tx_commit(&shared) == 0,
	   "%s: another task commits it", tag);
	sl_task_wakeup(t);
	ok(t != NULL && sl_task_join(t) == 0, "%s: the first task ends", tag);
	is_int(sl_db_conn_tx_depth(c), 0, "%s: no transaction is open", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t WHERE v = 102"), 1,
	       "%s: the commit stands", tag);
}

/**
 * A COPY that fails at the server, or that the client abandons, fails the
 * transaction it is in: its commit reports the rollback instead of
 * succeeding, and nothing of it stays.
 */
static void
copy_suite(struct sl_db_conn *c)
{
	ok(sl_db_exec_script(c, "DROP TABLE IF EXISTS tx_c; CREATE TABLE "
	                        "tx_c(v INTEGER PRIMARY KEY)") == 0,
	   "copy: table");
	const char *cols[] = {"v"};
	struct sl_db_tx tx;
	struct sl_value row[1];

	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "copy: begin");
	ok(sl_db_exec(c, "INSERT INTO tx_c VALUES (1)", SL_NOARGS, NULL) == 0,
	   "copy: insert 1");
	struct sl_db_copy *cp = sl_db_copy_begin(c, "tx_c", cols, 1);
	ok(cp != NULL, "copy: COPY begins: %s", unit_errmsg());
	row[0] = sl_int(1);
	ok(cp != NULL && sl_db_copy_row(cp, row) == 0, "copy: a duplicate row");
	ok(cp != NULL && sl_db_copy_end(cp, NULL) != 0,
	   "copy: the COPY fails at the server");
	ok(sl_db_tx_commit(&tx) != 0, "copy: the commit fails");
	ok(strstr(unit_errmsg(), "rolled back") != NULL,
	   "copy: ... saying it was rolled back: %s", unit_errmsg());
	is_int(int_of(c, "SELECT count(*) FROM tx_c"), 0,
	       "copy: nothing of the transaction stays");

	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "copy: begin");
	cp = sl_db_copy_begin(c, "tx_c", cols, 1);
	row[0] = sl_int(2);
	ok(cp != NULL && sl_db_copy_row(cp, row) == 0, "copy: a row");
	sl_db_copy_abort(cp);
	ok(sl_db_tx_commit(&tx) != 0,
	   "copy: after an abandoned COPY the commit fails");
	is_int(sl_db_conn_tx_depth(c), 0, "copy: no transaction is open");
	is_int(int_of(c, "SELECT count(*) FROM tx_c"), 0,
	       "copy: the abandoned row is not in");

	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "copy: begin");
	cp = sl_db_copy_begin(c, "tx_c", cols, 1);
	row[0] = sl_int(3);
	int64_t n = -1;
	ok(cp != NULL && sl_db_copy_row(cp, row) == 0 &&
	           sl_db_copy_end(cp, &n) == 0 && n == 1,
	   "copy: a good COPY");
	ok(sl_db_tx_commit(&tx) == 0, "copy: commits");
	is_int(int_of(c, "SELECT count(*) FROM tx_c WHERE v = 3"), 1,
	       "copy: its row is in");
}

/** The suite on the test PostgreSQL (noted as skipped without one). */
static int
pg_main(void *arg)
{
	(void)arg;
	char url[600];
	if (pg_test_url("postgres", url, sizeof(url)) == NULL) {
		note("skip PostgreSQL: no test server");
		return 0;
	}
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);
	ok(c != NULL, "postgres: connect: %s", unit_errmsg());
	if (c != NULL) {
		suite(c, "postgres");
		copy_suite(c);
	}
	sl_db_conn_close(c);
	return 0;
}

/** The suite on a fresh SQLite file. */
static int
sqlite_main(void *arg)
{
	(void)arg;
	char path[64];
	snprintf(path, sizeof(path), "sqlite:/tmp/sluice_tx_%d.db",
	         (int)getpid());
	struct sl_db_conn *c = sl_db_conn_open(path, NULL);
	ok(c != NULL, "sqlite: connect: %s", unit_errmsg());
	if (c != NULL)
		suite(c, "sqlite");
	sl_db_conn_close(c);
	unlink(path + 7);
	return 0;
}

/** A failed statement in a transaction on PostgreSQL. */
TAP_CASE(postgres)
{
	if (run_task("db_tx", pg_main, NULL) != 0)
		note("the task failed: %s", unit_errmsg());
}

/** A failed statement in a transaction on SQLite. */
TAP_CASE(sqlite)
{
	if (run_task("db_tx", sqlite_main, NULL) != 0)
		note("the task failed: %s", unit_errmsg());
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
