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
#include "unit.h"

/** The integer answer of `sql` on `c`, or -1. */
static long long
int_of(struct sl_conn *c, const char *sql)
{
	struct sl_result *r = sl_query(c, sql, SL_NOARGS);
	long long v = r != NULL && sl_result_rows(r) == 1 &&
	                              sl_result_get(r, 0, 0)->type == SL_VINT
	                      ? sl_result_get(r, 0, 0)->u.i
	                      : -1;
	sl_result_free(r);
	return v;
}

/** The checks, on connection `c` (tag: the driver). */
static void
suite(struct sl_conn *c, const char *tag)
{
	ok(sl_exec_script(c, "DROP TABLE IF EXISTS tx_t; CREATE TABLE "
	                     "tx_t(v INTEGER PRIMARY KEY)") == 0,
	   "%s: table", tag);
	struct sl_tx tx, sp;

	/* A failure aborts the transaction; commit rolls it back. */
	ok(sl_tx_begin(c, &tx, NULL) == 0, "%s: begin", tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) == 0,
	   "%s: insert 1", tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) != 0,
	   "%s: a duplicate key fails", tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (2)", SL_NOARGS, NULL) != 0,
	   "%s: the next statement is refused", tag);
	ok(strstr(unit_errmsg(), "abort") != NULL,
	   "%s: ... as the transaction is aborted: %s", tag, unit_errmsg());
	ok(sl_tx_commit(&tx) != 0, "%s: commit fails", tag);
	ok(strstr(unit_errmsg(), "rolled back") != NULL,
	   "%s: ... saying it was rolled back: %s", tag, unit_errmsg());
	is_int(sl_conn_tx_depth(c), 0, "%s: no transaction is open", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t"), 0,
	       "%s: nothing of it was committed", tag);

	/* Rolling back to a savepoint taken before the failure recovers. */
	ok(sl_tx_begin(c, &tx, NULL) == 0, "%s: begin", tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) == 0,
	   "%s: insert 1", tag);
	ok(sl_tx_begin(c, &sp, NULL) == 0, "%s: savepoint", tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) != 0,
	   "%s: a duplicate key fails in the savepoint", tag);
	ok(sl_tx_rollback(&sp) == 0, "%s: roll back the savepoint", tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (2)", SL_NOARGS, NULL) == 0,
	   "%s: the transaction goes on", tag);
	ok(sl_tx_commit(&tx) == 0, "%s: and commits", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t"), 2,
	       "%s: rows 1 and 2 are in", tag);

	/* Committing a savepoint whose statement failed rolls it back; the
	 * outer transaction stays usable. */
	ok(sl_tx_begin(c, &tx, NULL) == 0, "%s: begin", tag);
	ok(sl_tx_begin(c, &sp, NULL) == 0, "%s: savepoint", tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (3)", SL_NOARGS, NULL) == 0,
	   "%s: insert 3 in the savepoint", tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) != 0,
	   "%s: a duplicate key fails in the savepoint", tag);
	ok(sl_tx_commit(&sp) != 0, "%s: releasing the savepoint fails", tag);
	is_int(sl_conn_tx_depth(c), 1, "%s: the outer transaction is open",
	       tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (4)", SL_NOARGS, NULL) == 0,
	   "%s: and usable", tag);
	ok(sl_tx_commit(&tx) == 0, "%s: it commits", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t WHERE v IN (3, 4)"), 1,
	       "%s: 4 is in, 3 (in the failed savepoint) is not", tag);

	/* Outside a transaction, a failure costs only its statement. */
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (1)", SL_NOARGS, NULL) != 0,
	   "%s: a failure outside a transaction", tag);
	ok(sl_exec(c, "INSERT INTO tx_t VALUES (5)", SL_NOARGS, NULL) == 0,
	   "%s: does not stop the next statement", tag);
	is_int(int_of(c, "SELECT count(*) FROM tx_t"), 4, "%s: 1, 2, 4, 5",
	       tag);
}

/** The suite on each driver. */
static int
main_task(void *arg)
{
	(void)arg;
	char url[600];
	if (pg_test_url("postgres", url, sizeof(url)) == NULL) {
		note("skip PostgreSQL: no test server");
	} else {
		struct sl_conn *c = sl_conn_open(url, NULL);
		ok(c != NULL, "postgres: connect: %s", unit_errmsg());
		if (c != NULL)
			suite(c, "postgres");
		sl_conn_close(c);
	}
	char path[64];
	snprintf(path, sizeof(path), "sqlite:/tmp/sluice_tx_%d.db",
	         (int)getpid());
	struct sl_conn *c = sl_conn_open(path, NULL);
	ok(c != NULL, "sqlite: connect: %s", unit_errmsg());
	if (c != NULL)
		suite(c, "sqlite");
	sl_conn_close(c);
	unlink(path + 7);
	return 0;
}

int
main(void)
{
	if (run_task("db_tx", main_task, NULL) != 0)
		note("the task failed: %s", unit_errmsg());
	return done_testing();
}
