/*
 * User pipelines on PostgreSQL's direct path (src/db/pg/fast.c: Parse,
 * Bind, Execute and Sync written and the replies parsed without libpq),
 * each case run twice: on the direct path and, with SLUICE_PG_DIRECT=0,
 * on libpq's, which must agree. Values of every kind and NULLs as bound
 * parameters, failures in the middle of a batch (server errors, values
 * that do not encode, a wrong parameter count), statements prepared and
 * evicted from a small cache in the middle of a pipeline, replies larger
 * than the socket buffers while statements are still being sent, a
 * statement timeout and a cancelled task, and the connection going on
 * afterwards. Against the private server the harness starts
 * (tests/pg_env.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_env.h"
#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/json.h"
#include "unit.h"

/** The current error with its causes ("msg: cause: ..."). */
static const char *
errtext(void)
{
	static char buf[2048];
	buf[0] = '\0';
	if (sl_diag_last() != NULL)
		sl_error_format(sl_diag_last(), buf, sizeof(buf));
	return buf;
}
#define unit_errmsg errtext

/** URL of the test database. */
static char url[512];

/** Which path the case runs on, for messages. */
static const char *path = "direct";

/** Open a connection with statement cache `cache` (0: the default). */
static struct sl_db_conn *
conn(size_t cache)
{
	struct sl_db_conn_opts o;
	sl_db_conn_opts_init(&o);
	if (cache > 0)
		o.stmt_cache = cache;
	struct sl_db_conn *c = sl_db_conn_open(url, &o);
	if (c == NULL)
		printf("# connect: %s\n", unit_errmsg());
	return c;
}

/** The single value of `sql` as JSON text in `out` ("ERR: msg" if it fails). */
static const char *
scalar(struct sl_db_conn *c, const char *sql, char *out, size_t size)
{
	struct sl_db_result *r = sl_db_query(c, sql, SL_NOARGS);
	if (r == NULL) {
		snprintf(out, size, "ERR: %.100s", unit_errmsg());
		return out;
	}
	struct sl_buf b;
	sl_buf_create(&b, 1 << 20);
	if (sl_db_result_rows(r) > 0 && sl_db_result_cols(r) > 0)
		sl_json_write(&b, sl_db_result_get(r, 0, 0), 0);
	else
		sl_buf_puts(&b, "(none)");
	snprintf(out, size, "%s", b.data != NULL ? b.data : "");
	sl_buf_destroy(&b);
	sl_db_result_free(r);
	return out;
}

/** The seven-column table of the batch. */
#define TABLE7                                                            \
	"DROP TABLE IF EXISTS b7; CREATE TABLE b7 (a int PRIMARY KEY, b " \
	"bigint, c text, d float8, e bool, f bytea, g jsonb, h int[], i " \
	"text[], j numeric, k date)"

/** The INSERT of the batch, returning what was stored as text. */
static const char ins7[] =
        "INSERT INTO b7 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "$11) RETURNING a, b, c, d, e, f, g, h, i, j::text, k::text";

/** Values and NULLs of many types, bound and read back, in one batch. */
static int
test_values(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn(0);
	if (c == NULL)
		return -1;
	ok(sl_db_exec_script(c, TABLE7) == 0, "%s: table", path);
	struct sl_value ints[3] = {sl_int(1), sl_null(), sl_int(-3)};
	struct sl_value strs[2] = {sl_str_ref("a\"b", 3), sl_str_ref("c,d", 3)};
	struct sl_value obj[1] = {sl_str_ref("{\"k\": [1, 2]}", 13)};
	struct sl_db_pipeline *p = sl_db_pipeline_begin(c);
	ok(p != NULL, "%s: begin", path);
	enum { N = 300 };
	for (int i = 0; i < N; i++) {
		bool nulls = i % 3 == 1;
		struct sl_value v[11] = {
		        sl_int(i),
		        nulls ? sl_null() : sl_int((int64_t)i << 33),
		        nulls ? sl_null() : sl_str_ref("h\xc3\xa9llo", 6),
		        nulls ? sl_null() : sl_double(i + 0.25),
		        nulls ? sl_null() : sl_bool(i % 2 == 0),
		        nulls ? sl_null() : sl_str_ref("\0\x01\xff", 3),
		        nulls ? sl_null() : obj[0],
		        nulls ? sl_null() : sl_array_ref(ints, 3),
		        nulls ? sl_null() : sl_array_ref(strs, 2),
		        nulls ? sl_null() : sl_number_ref("12.50", 5),
		        nulls ? sl_null() : sl_str_ref("2024-02-29", 10),
		};
		if (sl_db_pipeline_push(p, ins7, 11, v) != i) {
			ok(0, "%s: push %d: %s", path, i, unit_errmsg());
			return -1;
		}
	}
	ok(sl_db_pipeline_sync(p) == 0, "%s: sync", path);
	int right = 0, right_nulls = 0;
	for (int i = 0; i < N; i++) {
		struct sl_db_result *r = sl_db_pipeline_next(p);
		if (r == NULL) {
			ok(0, "%s: row %d: %s", path, i, unit_errmsg());
			break;
		}
		const struct sl_value *v[11];
		for (int j = 0; j < 11; j++)
			v[j] = sl_db_result_get(r, 0, (size_t)j);
		bool good = sl_db_result_rows(r) == 1 &&
		            sl_db_result_affected(r) == 1 &&
		            strcmp(sl_db_result_name(r, 9), "j") == 0 &&
		            v[0]->u.i == i;
		if (i % 3 == 1) {
			for (int j = 1; j < 11; j++)
				good = good && v[j]->type == SL_VNULL;
			right_nulls += good;
		} else {
			good = good && v[1]->u.i == (int64_t)i << 33 &&
			       v[2]->len == 6 &&
			       memcmp(v[2]->u.s, "h\xc3\xa9llo", 6) == 0 &&
			       v[3]->u.d == i + 0.25 &&
			       v[4]->u.b == (i % 2 == 0) && v[5]->len == 3 &&
			       memcmp(v[5]->u.s, "\0\x01\xff", 3) == 0 &&
			       v[6]->type == SL_VOBJECT &&
			       v[7]->type == SL_VARRAY && v[7]->len == 3 &&
			       v[7]->u.items[1].type == SL_VNULL &&
			       v[7]->u.items[2].u.i == -3 && v[8]->len == 2 &&
			       v[8]->u.items[0].len == 3 &&
			       memcmp(v[8]->u.items[0].u.s, "a\"b", 3) == 0 &&
			       v[9]->len == 5 &&
			       memcmp(v[9]->u.s, "12.50", 5) == 0 &&
			       v[10]->len == 10 &&
			       memcmp(v[10]->u.s, "2024-02-29", 10) == 0;
			right += good;
		}
		sl_db_result_free(r);
	}
	is_int(right, N - N / 3, "%s: every value read back as bound", path);
	is_int(right_nulls, N / 3, "%s: every NULL read back as NULL", path);
	ok(sl_db_pipeline_next(p) == NULL && sl_diag_code() == SL_EOK,
	   "%s: then the end", path);
	ok(sl_db_pipeline_end(p) == 0, "%s: end", path);
	char out[128];
	is_str(scalar(c, "SELECT count(*) FROM b7", out, sizeof(out)), "300",
	       "%s: 300 rows stored", path);
	/* A statement run on the direct path just before a pipeline runs
	 * once: nothing of it is sent again with the pipeline's messages. */
	ok(sl_db_exec_script(c, "DROP TABLE IF EXISTS once; CREATE TABLE "
	                        "once (x int)") == 0,
	   "%s: table", path);
	for (int k = 0; k < 3; k++)
		sl_db_exec(c, "INSERT INTO once VALUES ($1)",
		           SL_ARGS(sl_int(k)), NULL);
	p = sl_db_pipeline_begin(c);
	sl_db_pipeline_push(p, "SELECT count(*)::int8 AS n FROM once",
	                    SL_NOARGS);
	struct sl_db_result *r = sl_db_pipeline_next(p);
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 3,
	   "%s: three inserts, each run once: %s", path,
	   r != NULL ? "ok" : unit_errmsg());
	sl_db_result_free(r);
	ok(sl_db_pipeline_end(p) == 0, "%s: end", path);
	sl_db_conn_close(c);
	return 0;
}

/** Failures in the middle of a batch: each on its own statement. */
static int
test_failures(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn(0);
	if (c == NULL)
		return -1;
	ok(sl_db_exec_script(c, "DROP TABLE IF EXISTS f1; CREATE TABLE f1 (a "
	                        "int PRIMARY KEY, t text)") == 0,
	   "%s: table", path);
	const char *ins = "INSERT INTO f1 VALUES ($1, $2)";
	struct sl_db_pipeline *p = sl_db_pipeline_begin(c);
	/* Segment 1: 1000 rows, a duplicate key at 500. */
	for (int i = 0; i < 1000; i++)
		sl_db_pipeline_push(
		        p, ins,
		        SL_ARGS(sl_int(i == 500 ? 7 : i), sl_str_ref("x", 1)));
	/* A value that does not encode fails its push, sends nothing. */
	long bad = sl_db_pipeline_push(
	        p, ins, SL_ARGS(sl_str_ref("seven", 5), sl_str_ref("x", 1)));
	ok(bad == -1 && sl_diag_code() == SL_EINVAL &&
	           strstr(unit_errmsg(), "parameter $1") != NULL,
	   "%s: a value that does not encode fails its push: %s", path,
	   unit_errmsg());
	long few = sl_db_pipeline_push(p, ins, SL_ARGS(sl_int(1)));
	ok(few == -1 && sl_diag_code() == SL_EINVAL &&
	           strstr(unit_errmsg(), "takes 2 parameters, 1 given") != NULL,
	   "%s: so does a wrong parameter count: %s", path, unit_errmsg());
	ok(sl_db_pipeline_sync(p) == 0, "%s: sync", path);
	/* Segment 2: a statement the server refuses to prepare, then rows
	 * that are skipped; segment 3 runs. */
	long i0 = sl_db_pipeline_push(p, ins, SL_ARGS(sl_int(2000), sl_null()));
	long i1 = sl_db_pipeline_push(p, "INSERT INTO nosuch VALUES ($1)",
	                              SL_ARGS(sl_int(1)));
	long i2 = sl_db_pipeline_push(p, ins, SL_ARGS(sl_int(2001), sl_null()));
	long i3 = sl_db_pipeline_push(p, "SELECT $1::int + 1 AS n",
	                              SL_ARGS(sl_int(1)));
	sl_db_pipeline_sync(p);
	long i4 = sl_db_pipeline_push(p, ins, SL_ARGS(sl_int(3000), sl_null()));
	long i5 = sl_db_pipeline_push(p, "SELECT $1::int + 1 AS n",
	                              SL_ARGS(sl_int(41)));
	ok(i0 == 1000 && i1 == 1001 && i2 == 1002 && i3 == 1003 && i4 == 1004 &&
	           i5 == 1005,
	   "%s: failed pushes take no index", path);
	int good = 0, aborted = 0, dup = 0;
	for (int i = 0; i < 1000; i++) {
		struct sl_db_result *r = sl_db_pipeline_next(p);
		if (r != NULL && i < 500 && sl_db_result_affected(r) == 1)
			good++;
		else if (r == NULL && i == 500 && sl_diag_code() == SL_EDB &&
		         strstr(unit_errmsg(), "statement 500") != NULL &&
		         strstr(unit_errmsg(), "23505") != NULL)
			dup++;
		else if (r == NULL && i > 500 &&
		         sl_diag_code() == SL_EABORTED &&
		         strstr(unit_errmsg(), "statement 500 failed") != NULL)
			aborted++;
		sl_db_result_free(r);
	}
	is_int(good, 500, "%s: the rows before the failure ran", path);
	is_int(dup, 1, "%s: the duplicate fails on its own statement", path);
	is_int(aborted, 499, "%s: the rest of its segment is skipped", path);
	struct sl_db_result *r = sl_db_pipeline_next(p);
	ok(r != NULL, "%s: 1000 ran before the refused statement", path);
	sl_db_result_free(r);
	r = sl_db_pipeline_next(p);
	ok(r == NULL && sl_diag_code() == SL_EDB &&
	           strstr(unit_errmsg(), "42P01") != NULL &&
	           strstr(unit_errmsg(), "statement 1001") != NULL,
	   "%s: 1001 the server would not prepare: %s", path, unit_errmsg());
	r = sl_db_pipeline_next(p);
	ok(r == NULL && sl_diag_code() == SL_EABORTED, "%s: 1002 skipped: %s",
	   path, unit_errmsg());
	r = sl_db_pipeline_next(p);
	ok(r == NULL && sl_diag_code() == SL_EABORTED,
	   "%s: 1003, not prepared yet, skipped: %s", path, unit_errmsg());
	r = sl_db_pipeline_next(p);
	ok(r != NULL && sl_db_result_affected(r) == 1,
	   "%s: 1004 in the next segment runs", path);
	sl_db_result_free(r);
	r = sl_db_pipeline_next(p);
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 42 &&
	           strcmp(sl_db_result_name(r, 0), "n") == 0,
	   "%s: 1005 prepared after the failure: %s", path,
	   r != NULL ? "ok" : unit_errmsg());
	sl_db_result_free(r);
	ok(sl_db_pipeline_end(p) == 0, "%s: end", path);
	char out[128];
	is_str(scalar(c, "SELECT count(*) || '/' || max(a) FROM f1", out,
	              sizeof(out)),
	       "\"1/3000\"",
	       "%s: segments 1 and 2 rolled back, segment 3 stored", path);
	/* A decode failure is the statement's own, not its segment's. */
	p = sl_db_pipeline_begin(c);
	sl_db_pipeline_push(p, "SELECT $1::text::int AS n",
	                    SL_ARGS(sl_str_ref("5", 1)));
	sl_db_pipeline_push(p, "SELECT 'a'::text AS t", SL_NOARGS);
	r = sl_db_pipeline_next(p);
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 5, "%s: int", path);
	sl_db_result_free(r);
	r = sl_db_pipeline_next(p);
	ok(r != NULL && sl_db_result_get(r, 0, 0)->len == 1, "%s: text", path);
	sl_db_result_free(r);
	ok(sl_db_pipeline_end(p) == 0, "%s: end", path);
	is_str(scalar(c, "SELECT 6", out, sizeof(out)), "6",
	       "%s: a single statement after the pipeline", path);
	sl_db_conn_close(c);
	return 0;
}

/** A statement cache of 2 with 5 statements in flight; big replies. */
static int
test_cache_and_size(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn(2);
	if (c == NULL)
		return -1;
	static const char *const q[5] = {
	        "SELECT $1::int + 0 AS v", "SELECT $1::int + 1 AS v",
	        "SELECT $1::int + 2 AS v", "SELECT $1::int + 3 AS v",
	        "SELECT $1::int + 4 AS v"};
	struct sl_db_pipeline *p = sl_db_pipeline_begin(c);
	for (int i = 0; i < 100; i++)
		sl_db_pipeline_push(p, q[i % 5], SL_ARGS(sl_int(i * 10)));
	int right = 0;
	for (int i = 0; i < 100; i++) {
		struct sl_db_result *r = sl_db_pipeline_next(p);
		if (r != NULL &&
		    sl_db_result_get(r, 0, 0)->u.i == i * 10 + i % 5)
			right++;
		else if (r == NULL)
			printf("# %d: %s\n", i, unit_errmsg());
		sl_db_result_free(r);
	}
	is_int(right, 100,
	       "%s: statements evicted and prepared again in "
	       "flight give their own results",
	       path);
	ok(sl_db_pipeline_end(p) == 0, "%s: end", path);
	char out[128];
	is_str(scalar(c,
	              "SELECT count(*) FROM pg_prepared_statements WHERE "
	              "name LIKE 'sl_%'",
	              out, sizeof(out)),
	       "2", "%s: the server keeps only the cache's statements", path);

	/* 16 MB of statements out and 16 MB of replies back before the
	 * first read: sending must read meanwhile. */
	enum { M = 8000, LEN = 2000 };
	char *big = malloc(LEN);
	if (big == NULL)
		return -1;
	memset(big, 'y', LEN);
	p = sl_db_pipeline_begin(c);
	int pushed = 0;
	for (int i = 0; i < M; i++)
		pushed +=
		        sl_db_pipeline_push(
		                p, "SELECT $1::text || $2::int AS s",
		                SL_ARGS(sl_str_ref(big, LEN), sl_int(i))) == i;
	is_int(pushed, M, "%s: %d statements of 2 KB pushed", path, M);
	ok(sl_db_pipeline_sync(p) == 0, "%s: sync", path);
	right = 0;
	for (int i = 0; i < M; i++) {
		struct sl_db_result *r = sl_db_pipeline_next(p);
		char tail[16];
		int n = snprintf(tail, sizeof(tail), "%d", i);
		if (r != NULL) {
			const struct sl_value *v = sl_db_result_get(r, 0, 0);
			right += v->len == LEN + (uint32_t)n &&
			         memcmp(v->u.s + LEN, tail, (size_t)n) == 0;
		}
		sl_db_result_free(r);
	}
	is_int(right, M, "%s: every reply read back", path);
	ok(sl_db_pipeline_end(p) == 0, "%s: end", path);
	free(big);
	is_str(scalar(c, "SELECT 7", out, sizeof(out)), "7",
	       "%s: the connection goes on", path);
	sl_db_conn_close(c);
	return 0;
}

/** What the pipeline task saw. */
struct pl_ctx {
	/** The connection. */
	struct sl_db_conn *c;
	/** Whether the slow statement failed, cancelled on the server. */
	bool cancelled;
	/** Its error message. */
	char msg[512];
};

/** Run a pipeline whose second statement sleeps. */
static int
slow_pipeline(void *arg)
{
	struct pl_ctx *x = arg;
	struct sl_db_pipeline *p = sl_db_pipeline_begin(x->c);
	sl_db_pipeline_push(p, "SELECT 1 AS a", SL_NOARGS);
	sl_db_pipeline_push(p, "SELECT pg_sleep(10)", SL_NOARGS);
	sl_db_result_free(sl_db_pipeline_next(p));
	struct sl_db_result *r = sl_db_pipeline_next(p);
	x->cancelled = r == NULL && (sl_diag_code() == SL_ECANCELLED ||
	                             strstr(unit_errmsg(), "57014") != NULL);
	snprintf(x->msg, sizeof(x->msg), "%s", unit_errmsg());
	sl_db_result_free(r);
	sl_db_pipeline_end(p);
	return 0;
}

/** A statement timeout and a cancelled task in the middle of a pipeline. */
static int
test_cancel(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn(0);
	if (c == NULL)
		return -1;
	sl_db_conn_set_timeout(c, 0.3);
	struct sl_db_pipeline *p = sl_db_pipeline_begin(c);
	sl_db_pipeline_push(p, "SELECT 1 AS a", SL_NOARGS);
	sl_db_pipeline_push(p, "SELECT pg_sleep(10)", SL_NOARGS);
	sl_db_pipeline_push(p, "SELECT 2 AS a", SL_NOARGS);
	double t0 = sl_clock();
	struct sl_db_result *r = sl_db_pipeline_next(p);
	ok(r != NULL, "%s: the first statement", path);
	sl_db_result_free(r);
	r = sl_db_pipeline_next(p);
	/* In a pipeline the statement's own error is the server's cancel
	 * (on either path). */
	ok(r == NULL && (sl_diag_code() == SL_ETIMEDOUT ||
	                 strstr(unit_errmsg(), "57014") != NULL),
	   "%s: the sleep times out: %s", path, unit_errmsg());
	ok(sl_clock() - t0 < 3, "%s: promptly (%.2f s)", path, sl_clock() - t0);
	r = sl_db_pipeline_next(p);
	ok(r == NULL && sl_diag_code() == SL_EABORTED,
	   "%s: the rest of the segment is skipped: %s", path, unit_errmsg());
	ok(sl_db_pipeline_end(p) == 0, "%s: end", path);
	sl_db_conn_set_timeout(c, SL_FOREVER);
	char out[128];
	is_str(scalar(c, "SELECT 3", out, sizeof(out)), "3",
	       "%s: the connection works after the timeout", path);

	struct pl_ctx x = {.c = c};
	struct sl_task *t =
	        sl_task_spawn(sl_loop_current(), "slow", slow_pipeline, &x);
	sl_sleep(0.3);
	t0 = sl_clock();
	sl_task_cancel(t);
	sl_task_join(t);
	ok(x.cancelled, "%s: the cancelled task's statement ends: %s", path,
	   x.msg);
	ok(sl_clock() - t0 < 3, "%s: promptly (%.2f s)", path, sl_clock() - t0);
	is_str(scalar(c,
	              "SELECT count(*) FROM pg_stat_activity WHERE query = "
	              "'SELECT pg_sleep(10)' AND state = 'active'",
	              out, sizeof(out)),
	       "0", "%s: nothing runs on the server any more", path);
	is_str(scalar(c, "SELECT 4", out, sizeof(out)), "4",
	       "%s: the connection works after the cancellation", path);

	/* A backend terminated under a pipeline: the connection is lost. */
	r = sl_db_query(c, "SELECT pg_backend_pid()", SL_NOARGS);
	int64_t pid = r != NULL ? sl_db_result_get(r, 0, 0)->u.i : 0;
	sl_db_result_free(r);
	struct sl_db_conn *admin = conn(0);
	p = sl_db_pipeline_begin(c);
	sl_db_pipeline_push(p, "SELECT 1 AS a", SL_NOARGS);
	sl_db_result_free(sl_db_pipeline_next(p));
	sl_db_result_free(sl_db_query(admin, "SELECT pg_terminate_backend($1)",
	                              SL_ARGS(sl_int(pid))));
	sl_db_conn_close(admin);
	sl_sleep(0.2);
	sl_db_pipeline_push(p, "SELECT 1 AS a", SL_NOARGS);
	r = sl_db_pipeline_next(p);
	ok(r == NULL && (strstr(unit_errmsg(), "57P01") != NULL ||
	                 strstr(unit_errmsg(), "lost") != NULL),
	   "%s: a terminated backend fails the pipeline: %s", path,
	   unit_errmsg());
	sl_db_pipeline_end(p);
	ok(!sl_db_conn_ok(c), "%s: the connection is marked lost", path);
	sl_db_conn_close(c);
	return 0;
}

/** Run `fn` on the direct path, then on libpq's. */
static void
both(const char *name, sl_task_fn fn)
{
	path = "direct";
	unsetenv("SLUICE_PG_DIRECT");
	is_int(run_task(name, fn, NULL), 0, "%s on the direct path", name);
	path = "libpq";
	setenv("SLUICE_PG_DIRECT", "0", 1);
	is_int(run_task(name, fn, NULL), 0, "%s on libpq's path", name);
	unsetenv("SLUICE_PG_DIRECT");
}

TAP_CASE(values)
{
	both("values", test_values);
}

TAP_CASE(failures)
{
	both("failures", test_failures);
}

TAP_CASE(cache_and_size)
{
	both("cache_and_size", test_cache_and_size);
}

TAP_CASE(cancel)
{
	both("cancel", test_cancel);
}

/**
 * Make a fresh database for this program; without a test server, report
 * the program skipped (the plan 1..0) and exit.
 */
static int
setup(void)
{
	if (pg_test_url("sluice_db_pl_test", url, sizeof(url)) == NULL) {
		printf("1..0 # SKIP no test server (SLUICE_TEST_PGDIR)\n");
		exit(0);
	}
	char admin[512];
	pg_test_url("postgres", admin, sizeof(admin));
	char cmd[1400];
	snprintf(cmd, sizeof(cmd),
	         "psql -q '%s' -c 'DROP DATABASE IF EXISTS sluice_db_pl_test' "
	         "-c 'CREATE DATABASE sluice_db_pl_test' >/dev/null",
	         admin);
	if (system(cmd) != 0)
		bail_out("cannot create the test database");
	return 0;
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, NULL);
}
