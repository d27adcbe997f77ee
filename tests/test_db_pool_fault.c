/*
 * The pool through a server crash: acquires fail clearly while the server
 * is down, reconnects back off, and the pool works again after a restart.
 * Crashes the shared test server, so it runs alone (SERIAL).
 */
#include <string.h>

#include "pg_env.h"
#include "sluice/db.h"
#include "unit.h"

/** The test database's URL. */
static char url[600];

/** The first column of the first row of `sql` as an integer, or -1. */
static int64_t
query_int(struct sl_db_conn *c, const char *sql)
{
	struct sl_db_result *r = sl_db_query(c, sql, SL_NOARGS);
	if (r == NULL)
		return -1;
	int64_t v = sl_db_result_get(r, 0, 0)->u.i;
	sl_db_result_free(r);
	return v;
}

/** Whether the current error is one a dead server may give. */
static bool
down_error(void)
{
	enum sl_errcode e = sl_diag_code();
	return e == SL_EIO || e == SL_EDB || e == SL_ETIMEDOUT;
}

/** Crash, fail, restart, recover. */
static int
t_crash(void *arg)
{
	(void)arg;
	const char *pw = strchr(strchr(url, ':') + 3, ':') + 1;
	char secret[64];
	snprintf(secret, sizeof(secret), "%.*s", (int)strcspn(pw, "@"), pw);
	struct sl_db_pool_opts o;
	sl_db_pool_opts_init(&o);
	o.min_size = 1;
	o.max_size = 2;
	o.idle_check = 0;
	o.backoff_initial = 0.3;
	o.backoff_max = 1.0;
	o.conn.connect_timeout = 3;
	struct sl_db_pool *p = sl_db_pool_open(url, &o);
	ok(p != NULL, "pool open");
	if (p == NULL)
		return -1;
	struct sl_db_conn *c = sl_db_pool_acquire(p, 5);
	is_int(query_int(c, "SELECT 1::int8"), 1, "works before the crash");
	sl_db_pool_release(c);

	ok(pg_test_crash() == 0, "server crashed");
	c = sl_db_pool_acquire(p, 5);
	ok(c == NULL, "acquire fails while the server is down");
	ok(down_error(), "with SL_EIO, SL_EDB or SL_ETIMEDOUT: %s: %s",
	   sl_errcode_name(sl_diag_code()), unit_errmsg());
	ok(strstr(unit_errmsg(), "cannot connect") != NULL,
	   "the message says it cannot connect");
	ok(strstr(unit_errmsg(), secret) == NULL, "no password in it");
	struct sl_db_pool_stats st;
	sl_db_pool_stats(p, &st);
	is_int(st.discarded, 1, "the dead idle connection was discarded");
	is_int(st.connect_failures, 1, "one connect failed");
	is_int(st.size, 0, "no slot leaked");

	double t0 = sl_clock();
	c = sl_db_pool_acquire(p, 0.1);
	double el = sl_clock() - t0;
	ok(c == NULL, "an acquire inside the backoff fails");
	is_err(SL_ETIMEDOUT, "with SL_ETIMEDOUT");
	ok(strstr(unit_errmsg(), "after a failure") != NULL,
	   "saying the pool backs off: %s", unit_errmsg());
	ok(el < 0.25, "the backoff wait is cut to the timeout (%.3f s)", el);
	sl_db_pool_stats(p, &st);
	is_int(st.connect_failures, 1, "no connect was tried");

	t0 = sl_clock();
	c = sl_db_pool_acquire(p, 5);
	el = sl_clock() - t0;
	ok(c == NULL && down_error(), "the next acquire fails after backoff");
	ok(el >= 0.1, "it waited out the backoff (%.3f s)", el);
	sl_db_pool_stats(p, &st);
	is_int(st.connect_failures, 2, "two connects failed");

	ok(pg_test_restart() == 0, "server restarted");
	c = sl_db_pool_acquire(p, 10);
	ok(c != NULL, "acquire succeeds after the restart (%s)",
	   c == NULL ? unit_errmsg() : "");
	is_int(query_int(c, "SELECT 2::int8"), 2, "queries work again");
	sl_db_pool_release(c);
	sl_db_pool_stats(p, &st);
	ok(st.connect_failures >= 2, "stats keep the failures (%llu)",
	   (unsigned long long)st.connect_failures);
	is_int(st.size, 1, "one connection open");
	t0 = sl_clock();
	c = sl_db_pool_acquire(p, 5);
	struct sl_db_conn *c2 = sl_db_pool_acquire(p, 5);
	el = sl_clock() - t0;
	ok(c != NULL && c2 != NULL && el < 1.0,
	   "backoff reset by the success (%.3f s)", el);
	sl_db_pool_release(c);
	sl_db_pool_release(c2);
	sl_db_pool_close(p);
	return 0;
}

/** Server crashes under the pool. */
TAP_CASE(crash)
{
	ok(run_task("crash", t_crash, NULL) == 0, "the test task ended (%s)",
	   unit_errmsg());
}

/** Read the test server's URL (the program needs one). */
static int
setup(void)
{
	if (pg_test_url("postgres", url, sizeof(url)) == NULL)
		bail_out("no test server (SLUICE_TEST_PGDIR)");
	return 0;
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, NULL);
}
