/*
 * The database layer on PostgreSQL: connecting, parameters and results of
 * every supported type, errors, the statement cache and stale statements,
 * timeouts and cancellation on the server, one task per connection,
 * pipelines, transactions, COPY and cursors. Against the private server
 * the harness starts (tests/pg_env.h).
 */
#include <math.h>
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

/** Open a connection to the test database (fails the test if not). */
static struct sl_db_conn *
conn(void)
{
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);
	if (c == NULL)
		printf("# connect: %s\n", unit_errmsg());
	return c;
}

/** The single value of `sql` as JSON text in `out` ("ERR: msg" if it fails). */
static const char *
scalar(struct sl_db_conn *c, const char *sql, size_t n,
       const struct sl_value *params, char *out, size_t size)
{
	struct sl_db_result *r = sl_db_query(c, sql, n, params);
	if (r == NULL) {
		snprintf(out, size, "ERR: %.400s", unit_errmsg());
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

/* {{{ connecting */

/** Connections: good, wrong password, unknown database, no server. */
static int
test_connect(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn();
	ok(c != NULL, "connects");
	if (c == NULL)
		return -1;
	ok(sl_db_conn_kind(c) == SL_DB_POSTGRES, "a PostgreSQL connection");
	ok(sl_db_conn_server_version(c) >= 150000 &&
	           sl_db_conn_server_version(c) < 160000,
	   "server 15 (%d)", sl_db_conn_server_version(c));
	const char *pw = getenv("SLUICE_TEST_PGDIR");
	char password[128] = "";
	if (pw != NULL) {
		char path[600];
		snprintf(path, sizeof(path), "%s/password", pw);
		FILE *f = fopen(path, "r");
		if (f != NULL) {
			if (fgets(password, sizeof(password), f) == NULL)
				password[0] = '\0';
			fclose(f);
		}
		password[strcspn(password, "\n")] = '\0';
	}
	ok(strstr(sl_db_conn_url(c), password) == NULL || password[0] == '\0',
	   "the shown URI has no password: %s", sl_db_conn_url(c));
	ok(sl_db_conn_ping(c, 5) == 0, "ping");

	/* A backend terminated by an administrator: the next statement gets
	 * the server's FATAL 57P01 and the connection is lost at once. */
	struct sl_db_conn *admin = conn();
	struct sl_db_result *r =
	        sl_db_query(c, "SELECT pg_backend_pid()", SL_NOARGS);
	int64_t pid = r != NULL ? sl_db_result_get(r, 0, 0)->u.i : 0;
	sl_db_result_free(r);
	sl_db_result_free(sl_db_query(admin, "SELECT pg_terminate_backend($1)",
	                              SL_ARGS(sl_int(pid))));
	sl_db_conn_close(admin);
	sl_sleep(0.2);
	r = sl_db_query(c, "SELECT 1", SL_NOARGS);
	ok(r == NULL, "a terminated backend fails the next statement");
	ok(strstr(unit_errmsg(), "57P01") != NULL ||
	           strstr(unit_errmsg(), "lost") != NULL,
	   "saying so: %s", unit_errmsg());
	ok(strchr(unit_errmsg(), '\t') == NULL, "in one line without tabs");
	ok(!sl_db_conn_ok(c), "the connection is marked lost at once");
	sl_db_result_free(r);
	sl_db_conn_close(c);

	/* Wrong password: the URI without it, and what the server said. */
	char bad[600];
	const char *base = pg_test_uri();
	const char *at = strrchr(base, '@');
	snprintf(bad, sizeof(bad),
	         "postgresql://postgres:wrong-secret%s/postgres", at);
	c = sl_db_conn_open(bad, NULL);
	ok(c == NULL, "a wrong password is refused");
	is_err(SL_EDB, "as a database error");
	ok(strstr(unit_errmsg(), "password authentication failed") != NULL,
	   "saying why: %s", unit_errmsg());
	ok(strstr(unit_errmsg(), "wrong-secret") == NULL,
	   "without the password");
	ok(strstr(unit_errmsg(), "postgresql://postgres@127.0.0.1") != NULL,
	   "showing the URI");

	char nodb[600];
	pg_test_url("no_such_database", nodb, sizeof(nodb));
	c = sl_db_conn_open(nodb, NULL);
	ok(c == NULL, "an unknown database is refused");
	ok(strstr(unit_errmsg(), "no_such_database") != NULL &&
	           strstr(unit_errmsg(), "does not exist") != NULL,
	   "naming it: %s", unit_errmsg());
	ok(strstr(unit_errmsg(), password) == NULL || password[0] == '\0',
	   "without the password");

	c = sl_db_conn_open("postgresql://postgres@127.0.0.1:1/x", NULL);
	ok(c == NULL, "no server on the port");
	is_err(SL_EIO, "is an I/O error");
	c = sl_db_conn_open("mysql://x", NULL);
	ok(c == NULL, "an unknown scheme is refused");
	is_err(SL_EINVAL, "as invalid");
	return 0;
}

/* }}} */
/* {{{ values */

/** Parameters and results of every supported type. */
static int
test_types(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn();
	if (c == NULL)
		return -1;
	char out[512];
	is_str(scalar(c, "SELECT $1::int + 1", SL_ARGS(sl_int(41)), out,
	              sizeof(out)),
	       "42", "int4 parameter and result");
	is_str(scalar(c, "SELECT $1::bigint * 2",
	              SL_ARGS(sl_int(4000000000000LL)), out, sizeof(out)),
	       "8000000000000", "int8");
	is_str(scalar(c, "SELECT $1::smallint", SL_ARGS(sl_int(-7)), out,
	              sizeof(out)),
	       "-7", "int2");
	is_str(scalar(c, "SELECT $1::float8 / 4", SL_ARGS(sl_double(1.0)), out,
	              sizeof(out)),
	       "0.25", "float8");
	is_str(scalar(c, "SELECT $1::real", SL_ARGS(sl_double(0.5)), out,
	              sizeof(out)),
	       "0.5", "float4");
	is_str(scalar(c, "SELECT NOT $1::bool", SL_ARGS(sl_bool(false)), out,
	              sizeof(out)),
	       "true", "bool");
	is_str(scalar(c, "SELECT $1 || '!'", SL_ARGS(sl_str_ref("héllo", 6)),
	              out, sizeof(out)),
	       "\"héllo!\"", "text (UTF-8)");
	is_str(scalar(c, "SELECT length($1::bytea)",
	              SL_ARGS(sl_str_ref("a\0b\\c", 5)), out, sizeof(out)),
	       "5", "bytea parameter keeps NUL and backslash bytes");
	struct sl_db_result *r =
	        sl_db_query(c, "SELECT '\\x00ff41'::bytea", SL_NOARGS);
	ok(r != NULL && sl_db_result_get(r, 0, 0)->len == 3 &&
	           memcmp(sl_db_result_get(r, 0, 0)->u.s, "\0\377A", 3) == 0,
	   "bytea result is the raw bytes");
	sl_db_result_free(r);
	/* Beside a column that only decodes as text, the row comes in text
	 * format and bytea arrives as hex. */
	r = sl_db_query(c, "SELECT '\\x00ffA1'::bytea, '1 day'::interval",
	                SL_NOARGS);
	ok(r != NULL && sl_db_result_get(r, 0, 0)->len == 3 &&
	           memcmp(sl_db_result_get(r, 0, 0)->u.s, "\0\377\241", 3) == 0,
	   "bytea result in text format is the raw bytes");
	sl_db_result_free(r);
	struct sl_member m[2] = {
	        {.key = "a", .key_len = 1, .val = sl_int(1)},
	        {.key = "b", .key_len = 1, .val = sl_str_ref("x", 1)},
	};
	struct sl_value obj = sl_object_ref(m, 2);
	is_str(scalar(c, "SELECT $1::jsonb || '{\"c\": true}'", SL_ARGS(obj),
	              out, sizeof(out)),
	       "{\"a\":1,\"b\":\"x\",\"c\":true}", "jsonb in and out");
	is_str(scalar(c, "SELECT $1::json", SL_ARGS(obj), out, sizeof(out)),
	       "{\"a\":1,\"b\":\"x\"}", "json in and out");
	is_str(scalar(c, "SELECT $1::jsonb", SL_ARGS(sl_str_ref("[1, 2]", 6)),
	              out, sizeof(out)),
	       "[1,2]", "a string bound to jsonb is JSON text");
	is_str(scalar(c, "SELECT ARRAY[1, NULL, 3]::int[]", SL_NOARGS, out,
	              sizeof(out)),
	       "[1,null,3]", "int array result");
	is_str(scalar(c, "SELECT ARRAY[['a','b'],['c','d']]", SL_NOARGS, out,
	              sizeof(out)),
	       "[[\"a\",\"b\"],[\"c\",\"d\"]]", "two-dimensional text array");
	struct sl_value items[3] = {sl_int(2), sl_int(3), sl_int(5)};
	is_str(scalar(c, "SELECT 3 = ANY($1::int[])",
	              SL_ARGS(sl_array_ref(items, 3)), out, sizeof(out)),
	       "true", "array parameter (an IN list)");
	struct sl_value words[2] = {sl_str_ref("a,b", 3),
	                            sl_str_ref("q\"uote", 6)};
	is_str(scalar(c, "SELECT $1::text[]", SL_ARGS(sl_array_ref(words, 2)),
	              out, sizeof(out)),
	       "[\"a,b\",\"q\\\"uote\"]", "text array parameter quoted");
	is_str(scalar(c, "SELECT '2024-05-01 12:30:00.25+02'::timestamptz",
	              SL_NOARGS, out, sizeof(out)),
	       "\"2024-05-01T10:30:00.250000Z\"", "timestamptz as ISO UTC");
	is_str(scalar(c, "SELECT '2024-05-01 12:30:00'::timestamp", SL_NOARGS,
	              out, sizeof(out)),
	       "\"2024-05-01T12:30:00\"", "timestamp as ISO");
	is_str(scalar(c, "SELECT '1999-12-31'::date", SL_NOARGS, out,
	              sizeof(out)),
	       "\"1999-12-31\"", "date before the 2000 epoch");
	is_str(scalar(c, "SELECT $1::timestamptz",
	              SL_ARGS(sl_str_ref("2020-01-02T03:04:05Z", 20)), out,
	              sizeof(out)),
	       "\"2020-01-02T03:04:05Z\"", "timestamp parameter as text");
	is_str(scalar(c, "SELECT 12345.678::numeric", SL_NOARGS, out,
	              sizeof(out)),
	       "12345.678", "numeric exact");
	is_str(scalar(c, "SELECT -0.0012::numeric(10,5)", SL_NOARGS, out,
	              sizeof(out)),
	       "-0.00120", "small negative numeric with scale");
	is_str(scalar(c, "SELECT 100000000::numeric", SL_NOARGS, out,
	              sizeof(out)),
	       "100000000", "numeric with trailing zero groups");
	is_str(scalar(c, "SELECT 'NaN'::numeric", SL_NOARGS, out, sizeof(out)),
	       "\"NaN\"", "numeric NaN as text");
	is_str(scalar(c, "SELECT $1::numeric * 2", SL_ARGS(sl_double(1.25)),
	              out, sizeof(out)),
	       "2.50", "numeric parameter as text");
	is_str(scalar(c, "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
	              SL_NOARGS, out, sizeof(out)),
	       "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"", "uuid");
	is_str(scalar(c, "SELECT NULL::int", SL_NOARGS, out, sizeof(out)),
	       "null", "NULL");
	is_str(scalar(c, "SELECT $1::int IS NULL", SL_ARGS(sl_null()), out,
	              sizeof(out)),
	       "true", "NULL parameter");
	is_str(scalar(c, "SELECT '1 day'::interval", SL_NOARGS, out,
	              sizeof(out)),
	       "\"1 day\"", "a type without a decoder comes as its text");
	is_str(scalar(c, "SELECT 7::oid", SL_NOARGS, out, sizeof(out)), "7",
	       "oid");

	/* Values that do not fit their parameters. */
	r = sl_db_query(c, "SELECT $1::int", SL_ARGS(sl_str_ref("x", 1)));
	ok(r == NULL, "a string for an int parameter is refused");
	is_err(SL_EINVAL, "as invalid");
	ok(strstr(unit_errmsg(), "parameter $1") != NULL,
	   "naming the parameter: %s", unit_errmsg());
	r = sl_db_query(c, "SELECT $1::int", SL_ARGS(sl_int(1LL << 40)));
	ok(r == NULL && strstr(unit_errmsg(), "out of range") != NULL,
	   "an int too big for int4: %s", unit_errmsg());
	r = sl_db_query(c, "SELECT $1::int, $2::int", SL_ARGS(sl_int(1)));
	ok(r == NULL && strstr(unit_errmsg(), "2 parameters, 1 given") != NULL,
	   "too few parameters: %s", unit_errmsg());
	r = sl_db_query(c, "SELECT $1::text", SL_ARGS(sl_str_ref("a\0b", 3)));
	ok(r == NULL && strstr(unit_errmsg(), "NUL") != NULL,
	   "a NUL byte in text is refused: %s", unit_errmsg());
	is_str(scalar(c, "SELECT 1", SL_NOARGS, out, sizeof(out)), "1",
	       "the connection works after refused values");

	/* Several rows and columns, names, tags. */
	r = sl_db_query(c,
	                "SELECT i, i * i AS sq FROM generate_series(1, $1) i",
	                SL_ARGS(sl_int(1000)));
	ok(r != NULL && sl_db_result_rows(r) == 1000 &&
	           sl_db_result_cols(r) == 2,
	   "1000 rows of 2 columns");
	if (r != NULL) {
		int64_t sum = 0;
		for (size_t i = 0; i < sl_db_result_rows(r); i++)
			sum += sl_db_result_get(r, i, 1)->u.i;
		is_int(sum, 333833500, "every row decoded");
		is_str(sl_db_result_name(r, 1), "sq", "column names");
		is_int(sl_db_result_col(r, "sq"), 1, "column by name");
		is_str(sl_db_result_tag(r), "SELECT 1000", "tag");
		is_int(sl_db_result_affected(r), 1000, "affected from the tag");
		struct sl_arena a;
		sl_arena_create(&a, 0, 1 << 20);
		struct sl_value row;
		ok(sl_db_result_row_object(r, 2, &a, &row) == 0 &&
		           sl_object_get_cstr(&row, "sq")->u.i == 9,
		   "a row as an object");
		sl_arena_destroy(&a);
	}
	sl_db_result_free(r);
	sl_db_conn_close(c);
	return 0;
}

/* }}} */
/* {{{ errors, cache, stale statements */

/** Server errors, the statement cache, statements stale after DDL. */
static int
test_statements(void *arg)
{
	(void)arg;
	struct sl_db_conn_opts o;
	sl_db_conn_opts_init(&o);
	o.stmt_cache = 3;
	struct sl_db_conn *c = sl_db_conn_open(url, &o);
	if (c == NULL)
		return -1;
	char out[512];
	struct sl_db_result *r = sl_db_query(c, "SELEC 1", SL_NOARGS);
	ok(r == NULL, "a syntax error fails");
	is_err(SL_EDB, "as a database error");
	ok(strstr(unit_errmsg(), "42601") != NULL &&
	           strstr(unit_errmsg(), "SELEC 1") != NULL,
	   "with SQLSTATE and the statement: %s", unit_errmsg());
	r = sl_db_query(c, "SELECT * FROM no_such_table", SL_NOARGS);
	ok(r == NULL && strstr(unit_errmsg(), "no_such_table") != NULL &&
	           strstr(unit_errmsg(), "42P01") != NULL,
	   "an unknown table: %s", unit_errmsg());
	r = sl_db_query(c, "SELECT 1/0", SL_NOARGS);
	ok(r == NULL && strstr(unit_errmsg(), "division by zero") != NULL,
	   "a run-time error: %s", unit_errmsg());
	is_str(scalar(c, "SELECT 2", SL_NOARGS, out, sizeof(out)), "2",
	       "the connection works after errors");

	/* More distinct statements than the cache holds, round robin. */
	int right = 0;
	for (int round = 0; round < 5; round++)
		for (int k = 0; k < 5; k++) {
			char sql[64], want[16];
			snprintf(sql, sizeof(sql), "SELECT %d + $1::int", k);
			snprintf(want, sizeof(want), "%d", k + round);
			if (strcmp(scalar(c, sql, SL_ARGS(sl_int(round)), out,
			                  sizeof(out)),
			           want) == 0)
				right++;
		}
	is_int(right, 25, "5 statements through a cache of 3");
	is_str(scalar(c,
	              "SELECT count(*) FROM pg_prepared_statements WHERE "
	              "name LIKE 'sl_%'",
	              SL_NOARGS, out, sizeof(out)),
	       "3", "the server holds only the cached statements");

	/* A statement made stale by DDL is re-prepared. */
	ok(sl_db_exec_script(
	           c, "DROP TABLE IF EXISTS stale; CREATE TABLE "
	              "stale (a int); INSERT INTO stale VALUES (1)") == 0,
	   "script");
	is_str(scalar(c, "SELECT * FROM stale", SL_NOARGS, out, sizeof(out)),
	       "1", "cached select");
	ok(sl_db_exec_script(c, "ALTER TABLE stale ADD COLUMN b text") == 0,
	   "alter the table");
	r = sl_db_query(c, "SELECT * FROM stale", SL_NOARGS);
	ok(r != NULL && sl_db_result_cols(r) == 2,
	   "the stale statement was re-prepared: %s",
	   r == NULL ? unit_errmsg() : "2 columns");
	sl_db_result_free(r);
	/* Inside a transaction sluice cannot retry: a clear error. */
	struct sl_db_tx tx;
	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "begin");
	ok(sl_db_exec_script(c, "ALTER TABLE stale ADD COLUMN c int") == 0,
	   "alter inside the transaction");
	r = sl_db_query(c, "SELECT * FROM stale", SL_NOARGS);
	ok(r == NULL && strstr(unit_errmsg(), "stale") != NULL,
	   "a stale statement in a transaction says so: %s", unit_errmsg());
	ok(sl_db_tx_rollback(&tx) == 0, "rollback");
	r = sl_db_query(c, "SELECT * FROM stale", SL_NOARGS);
	ok(r != NULL && sl_db_result_cols(r) == 2, "works after the rollback");
	sl_db_result_free(r);
	ok(sl_db_exec(c, "DROP TABLE stale", SL_NOARGS, NULL) == 0, "drop");
	ok(sl_db_conn_forget_statements(c) == 0, "forget statements");
	is_str(scalar(c,
	              "SELECT count(*) FROM pg_prepared_statements WHERE "
	              "name LIKE 'sl_%' AND statement NOT LIKE '%count%'",
	              SL_NOARGS, out, sizeof(out)),
	       "0", "none left on the server");
	ok(sl_db_exec_script(c, "SELEC") == -1 &&
	           strstr(unit_errmsg(), "42601") != NULL,
	   "a failing script: %s", unit_errmsg());
	sl_db_conn_close(c);
	return 0;
}

/* }}} */
/* {{{ timeouts, cancellation, one task per connection */

/** Shared with the helper tasks. */
struct cancel_ctx {
	/** The connection. */
	struct sl_db_conn *c;
	/** What the helper's query returned. */
	int rc;
	/** Its error code. */
	enum sl_errcode code;
	/** Its error message. */
	char msg[512];
	/** sl_clock() when it returned. */
	double t;
};

/** Run a long statement on ctx->c. */
static int
sleeper(void *arg)
{
	struct cancel_ctx *x = arg;
	x->rc = sl_db_exec(x->c, "SELECT pg_sleep(10)", SL_NOARGS, NULL);
	x->code = sl_diag_code();
	snprintf(x->msg, sizeof(x->msg), "%s", unit_errmsg());
	x->t = sl_clock();
	return 0;
}

/** Timeouts and cancellation cancel on the server; one task at a time. */
static int
test_cancel(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn();
	if (c == NULL)
		return -1;
	char out[512];
	sl_db_conn_set_timeout(c, 0.2);
	double t0 = sl_clock();
	int rc = sl_db_exec(c, "SELECT pg_sleep(10)", SL_NOARGS, NULL);
	double took = sl_clock() - t0;
	ok(rc == -1, "a statement over its timeout fails");
	is_err(SL_ETIMEDOUT, "timed out");
	ok(took < 3, "promptly (%.2f s)", took);
	ok(strstr(unit_errmsg(), "cancelled on the server") != NULL, "%s",
	   unit_errmsg());
	sl_db_conn_set_timeout(c, SL_FOREVER);
	is_str(scalar(c, "SELECT 3", SL_NOARGS, out, sizeof(out)), "3",
	       "the connection works after the timeout");

	/* Cancel the task while its statement runs. */
	struct cancel_ctx x = {.c = c};
	struct sl_task *t =
	        sl_task_spawn(sl_loop_current(), "sleeper", sleeper, &x);
	sl_sleep(0.2);
	/* Meanwhile: a second task on the same connection is refused. */
	rc = sl_db_exec(c, "SELECT 1", SL_NOARGS, NULL);
	ok(rc == -1, "a second task using the connection is refused");
	is_err(SL_EBUSY, "as busy");
	ok(strstr(unit_errmsg(), "'sleeper'") != NULL, "naming the task: %s",
	   unit_errmsg());
	t0 = sl_clock();
	sl_task_cancel(t);
	sl_task_join(t);
	ok(x.rc == -1 && x.code == SL_ECANCELLED,
	   "the cancelled task's "
	   "statement ends: %s",
	   x.msg);
	ok(x.t - t0 < 3, "promptly (%.2f s)", x.t - t0);
	/* The server reports the backend idle a moment after it answers
	 * the cancelled statement: look for up to 3 s (the statement would
	 * run for 10 s if it were not cancelled). */
	const char *active = NULL;
	for (int i = 0; i < 60; i++) {
		active = scalar(c,
		                "SELECT count(*) FROM pg_stat_activity WHERE "
		                "query = 'SELECT pg_sleep(10)' AND state = "
		                "'active'",
		                SL_NOARGS, out, sizeof(out));
		if (active == NULL || strcmp(active, "0") == 0)
			break;
		sl_sleep(0.05);
	}
	is_str(active, "0", "nothing runs on the server any more");
	is_str(scalar(c, "SELECT 4", SL_NOARGS, out, sizeof(out)), "4",
	       "the connection works after the cancellation");
	sl_db_conn_close(c);
	return 0;
}

/* }}} */
/* {{{ pipelines */

/** Pipelines: order, sync points, failures that abort only their segment. */
static int
test_pipeline(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn();
	if (c == NULL)
		return -1;
	ok(sl_db_exec_script(c,
	                     "DROP TABLE IF EXISTS pl; CREATE TABLE pl (a int "
	                     "PRIMARY KEY)") == 0,
	   "table");
	struct sl_db_pipeline *p = sl_db_pipeline_begin(c);
	ok(p != NULL, "begin");
	long i0 = sl_db_pipeline_push(p, "INSERT INTO pl VALUES ($1)",
	                              SL_ARGS(sl_int(1)));
	long i1 = sl_db_pipeline_push(p, "SELECT $1::int * 10",
	                              SL_ARGS(sl_int(7)));
	ok(sl_db_pipeline_sync(p) == 0, "sync");
	long i2 = sl_db_pipeline_push(p, "INSERT INTO pl VALUES ($1)",
	                              SL_ARGS(sl_int(2)));
	long i3 = sl_db_pipeline_push(p, "INSERT INTO pl VALUES ($1)",
	                              SL_ARGS(sl_int(1))); /* duplicate */
	long i4 = sl_db_pipeline_push(p, "INSERT INTO pl VALUES ($1)",
	                              SL_ARGS(sl_int(3)));
	ok(sl_db_pipeline_sync(p) == 0, "sync");
	long i5 = sl_db_pipeline_push(p, "INSERT INTO pl VALUES ($1)",
	                              SL_ARGS(sl_int(4)));
	long i6 = sl_db_pipeline_push(p, "SELEC nonsense", SL_NOARGS);
	long i7 = sl_db_pipeline_push(p, "SELECT 'after'", SL_NOARGS);
	ok(i0 == 0 && i1 == 1 && i2 == 2 && i3 == 3 && i4 == 4 && i5 == 5 &&
	           i6 == 6 && i7 == 7,
	   "indexes in push order");
	struct sl_db_result *r = sl_db_pipeline_next(p);
	ok(r != NULL && sl_db_result_affected(r) == 1, "0: insert");
	sl_db_result_free(r);
	r = sl_db_pipeline_next(p);
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 70, "1: select");
	sl_db_result_free(r);
	r = sl_db_pipeline_next(p);
	ok(r != NULL, "2: insert (its segment fails later)");
	sl_db_result_free(r);
	r = sl_db_pipeline_next(p);
	ok(r == NULL, "3: the duplicate fails");
	is_err(SL_EDB, "as a database error");
	ok(strstr(unit_errmsg(), "statement 3") != NULL &&
	           strstr(unit_errmsg(), "23505") != NULL,
	   "naming the statement: %s", unit_errmsg());
	r = sl_db_pipeline_next(p);
	ok(r == NULL, "4: skipped");
	is_err(SL_EABORTED, "as aborted");
	ok(strstr(unit_errmsg(), "statement 3 failed") != NULL, "%s",
	   unit_errmsg());
	r = sl_db_pipeline_next(p);
	ok(r != NULL, "5: ran before the failure in its segment (and is "
	              "rolled back with it)");
	sl_db_result_free(r);
	r = sl_db_pipeline_next(p);
	ok(r == NULL && strstr(unit_errmsg(), "42601") != NULL,
	   "6: the syntax error: %s", unit_errmsg());
	r = sl_db_pipeline_next(p);
	ok(r == NULL && sl_diag_code() == SL_EABORTED,
	   "7: skipped after it: %s", unit_errmsg());
	r = sl_db_pipeline_next(p);
	ok(r == NULL && sl_diag_code() == SL_EOK, "then the end");
	ok(sl_db_exec(c, "SELECT 1", SL_NOARGS, NULL) == -1 &&
	           sl_diag_code() == SL_EINVAL,
	   "plain statements wait for the pipeline's end");
	ok(sl_db_pipeline_end(p) == 0, "end");
	char out[256];
	is_str(scalar(c, "SELECT string_agg(a::text, ',' ORDER BY a) FROM pl",
	              SL_NOARGS, out, sizeof(out)),
	       "\"1\"", "only the first segment's insert stayed");

	/* Many statements, one sync, read back in order. */
	p = sl_db_pipeline_begin(c);
	for (int i = 0; i < 5000; i++)
		sl_db_pipeline_push(p, "SELECT $1::int", SL_ARGS(sl_int(i)));
	int right = 0;
	for (int i = 0; i < 5000; i++) {
		r = sl_db_pipeline_next(p);
		if (r != NULL && sl_db_result_get(r, 0, 0)->u.i == i)
			right++;
		sl_db_result_free(r);
	}
	is_int(right, 5000, "5000 statements read back in order");
	/* Unread results at the end: the first failure is reported. */
	sl_db_pipeline_push(p, "SELECT 1", SL_NOARGS);
	sl_db_pipeline_sync(p);
	sl_db_pipeline_push(p, "SELECT 1/0", SL_NOARGS);
	ok(sl_db_pipeline_end(p) == -1 &&
	           strstr(unit_errmsg(), "division by zero") != NULL,
	   "end reports an unread failure: %s", unit_errmsg());
	is_str(scalar(c, "SELECT 5", SL_NOARGS, out, sizeof(out)), "5",
	       "the connection works after the pipeline");
	sl_db_conn_close(c);
	return 0;
}

/* }}} */
/* {{{ transactions */

/** Transactions, savepoints, isolation, read-only. */
static int
test_tx(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn();
	if (c == NULL)
		return -1;
	char out[256];
	sl_db_exec_script(c, "DROP TABLE IF EXISTS t; CREATE TABLE t (a int)");
	struct sl_db_tx tx, sp, sp2;
	ok(sl_db_tx_begin(c, &tx, NULL) == 0 && sl_db_conn_tx_depth(c) == 1,
	   "begin");
	sl_db_exec(c, "INSERT INTO t VALUES (1)", SL_NOARGS, NULL);
	ok(sl_db_tx_begin(c, &sp, NULL) == 0 && sl_db_conn_tx_depth(c) == 2,
	   "savepoint");
	sl_db_exec(c, "INSERT INTO t VALUES (2)", SL_NOARGS, NULL);
	ok(sl_db_tx_rollback(&sp) == 0, "roll back to the savepoint");
	ok(sl_db_tx_begin(c, &sp2, NULL) == 0, "another savepoint");
	sl_db_exec(c, "INSERT INTO t VALUES (3)", SL_NOARGS, NULL);
	ok(sl_db_exec(c, "INSERT INTO t VALUES ('x')", SL_NOARGS, NULL) == -1,
	   "a failing statement inside it");
	ok(sl_db_tx_rollback(&sp2) == 0, "rolling back the savepoint recovers");
	ok(sl_db_tx_commit(&tx) == 0 && sl_db_conn_tx_depth(c) == 0, "commit");
	is_str(scalar(c, "SELECT string_agg(a::text, ',' ORDER BY a) FROM t",
	              SL_NOARGS, out, sizeof(out)),
	       "\"1\"", "only the outer insert stayed");

	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "begin");
	sl_db_exec(c, "INSERT INTO t VALUES (5)", SL_NOARGS, NULL);
	ok(sl_db_exec(c, "SELECT 1/0", SL_NOARGS, NULL) == -1, "a failure");
	ok(sl_db_tx_commit(&tx) == -1, "commit of a failed transaction fails");
	ok(strstr(unit_errmsg(), "rolled back") != NULL, "%s", unit_errmsg());
	is_str(scalar(c, "SELECT count(*) FROM t WHERE a = 5", SL_NOARGS, out,
	              sizeof(out)),
	       "0", "and nothing of it stayed");

	struct sl_db_tx_opts o = {.isolation = SL_ISO_SERIALIZABLE,
	                          .read_only = true};
	ok(sl_db_tx_begin(c, &tx, &o) == 0, "serializable read-only");
	is_str(scalar(c, "SHOW transaction_isolation", SL_NOARGS, out,
	              sizeof(out)),
	       "\"serializable\"", "isolation set");
	ok(sl_db_exec(c, "INSERT INTO t VALUES (9)", SL_NOARGS, NULL) == -1 &&
	           strstr(unit_errmsg(), "read-only") != NULL,
	   "read-only refuses writes: %s", unit_errmsg());
	sl_db_tx_rollback(&tx);
	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "begin");
	ok(sl_db_tx_begin(c, &sp, &o) == -1 && sl_diag_code() == SL_EINVAL,
	   "options on a savepoint are refused");
	ok(sl_db_tx_commit(&tx) == 0, "commit");
	ok(sl_db_tx_commit(&tx) == -1 && sl_diag_code() == SL_EINVAL,
	   "a second commit is refused");
	sl_db_conn_close(c);
	return 0;
}

/* }}} */
/* {{{ COPY and cursors */

/** COPY in binary and text, bad rows, cursors. */
static int
test_copy(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn();
	if (c == NULL)
		return -1;
	char out[256];
	sl_db_exec_script(c, "DROP TABLE IF EXISTS cp; CREATE TABLE cp (a int, "
	                     "b text, c float8, d jsonb, e bytea, f bool, g "
	                     "bigint)");
	const char *cols[] = {"a", "b", "c", "d", "e", "f", "g"};
	struct sl_db_copy *cp = sl_db_copy_begin(c, "cp", cols, 7);
	ok(cp != NULL, "binary COPY starts: %s", cp ? "" : unit_errmsg());
	if (cp == NULL)
		return -1;
	struct sl_member m = {.key = "k", .key_len = 1, .val = sl_int(1)};
	int bad = 0;
	for (int i = 0; i < 100000; i++) {
		struct sl_value row[7] = {
		        sl_int(i),
		        sl_str_ref("tab\there", 8),
		        sl_double(i / 2.0),
		        sl_object_ref(&m, 1),
		        sl_str_ref("\0\1", 2),
		        sl_bool(i % 2),
		        i % 10 == 0 ? sl_null() : sl_int((int64_t)i << 33),
		};
		if (sl_db_copy_row(cp, row) != 0)
			bad++;
	}
	is_int(bad, 0, "100000 rows added");
	int64_t rows = 0;
	ok(sl_db_copy_end(cp, &rows) == 0, "COPY ends: %s", unit_errmsg());
	is_int(rows, 100000, "the server took them all");
	is_str(scalar(c,
	              "SELECT sum(a) + count(g) + sum(length(e)) + "
	              "sum((d->>'k')::int) + count(*) FILTER (WHERE f) FROM "
	              "cp WHERE b = 'tab\there'",
	              SL_NOARGS, out, sizeof(out)),
	       "5000390000", "every value arrived");

	/* A column type without a binary encoder: text format. */
	sl_db_exec_script(c, "DROP TABLE IF EXISTS cpt; CREATE TABLE cpt (a "
	                     "numeric, b timestamptz, c text)");
	const char *cols2[] = {"a", "b", "c"};
	cp = sl_db_copy_begin(c, "cpt", cols2, 3);
	ok(cp != NULL, "text COPY starts");
	struct sl_value row2[3] = {sl_double(1.5),
	                           sl_str_ref("2024-01-01T00:00:00Z", 20),
	                           sl_str_ref("back\\slash\nnewline", 18)};
	ok(cp != NULL && sl_db_copy_row(cp, row2) == 0, "a row");
	ok(cp != NULL && sl_db_copy_end(cp, &rows) == 0 && rows == 1, "ends");
	is_str(scalar(c, "SELECT c FROM cpt", SL_NOARGS, out, sizeof(out)),
	       "\"back\\\\slash\\nnewline\"", "escapes survived");

	/* A value that does not fit: the row is refused, COPY aborts. */
	cp = sl_db_copy_begin(c, "cp", cols, 7);
	struct sl_value badrow[7] = {sl_str_ref("x", 1), sl_null(), sl_null(),
	                             sl_null(),          sl_null(), sl_null(),
	                             sl_null()};
	ok(sl_db_copy_row(cp, badrow) == -1 &&
	           strstr(unit_errmsg(), "row 1, column 1") != NULL,
	   "a bad value names row and column: %s", unit_errmsg());
	sl_db_copy_abort(cp);
	is_str(scalar(c, "SELECT count(*) FROM cp", SL_NOARGS, out,
	              sizeof(out)),
	       "100000", "an aborted COPY adds nothing");
	cp = sl_db_copy_begin(c, "no_such", cols, 1);
	ok(cp == NULL && strstr(unit_errmsg(), "no_such") != NULL,
	   "COPY into a missing table: %s", unit_errmsg());

	/* Cursors. */
	ok(sl_db_cursor_open(c, "SELECT 1", SL_NOARGS, 10) == NULL &&
	           sl_diag_code() == SL_EINVAL,
	   "a cursor needs a transaction");
	struct sl_db_tx tx;
	sl_db_tx_begin(c, &tx, NULL);
	struct sl_db_cursor *cur =
	        sl_db_cursor_open(c, "SELECT a FROM cp WHERE a < $1 ORDER BY a",
	                          SL_ARGS(sl_int(2500)), 1000);
	ok(cur != NULL, "cursor opens: %s", cur ? "" : unit_errmsg());
	int batches = 0, n = 0, inorder = 1;
	for (;;) {
		struct sl_db_result *r = cur ? sl_db_cursor_fetch(cur) : NULL;
		if (r == NULL || sl_db_result_rows(r) == 0) {
			sl_db_result_free(r);
			break;
		}
		batches++;
		for (size_t i = 0; i < sl_db_result_rows(r); i++, n++)
			if (sl_db_result_get(r, i, 0)->u.i != n)
				inorder = 0;
		sl_db_result_free(r);
	}
	is_int(n, 2500, "2500 rows streamed");
	is_int(batches, 3, "in batches of 1000");
	ok(inorder, "in order");
	ok(sl_db_cursor_close(cur) == 0, "close");
	ok(sl_db_tx_commit(&tx) == 0, "commit");
	sl_db_conn_close(c);
	return 0;
}

/* }}} */

/** Run test_connect() as a task on a fresh loop. */
/* {{{ the direct path */

/**
 * A statement run again takes the direct path (src/db/pg/fast.c): the
 * same values, names, tags and errors as its first, libpq-read run.
 */
static int
test_direct(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = conn();
	if (c == NULL)
		return -1;
	const char *q = "SELECT $1::text AS t, $2::int AS i, $3::text AS n";
	for (int k = 0; k < 2; k++) {
		struct sl_db_result *r =
		        sl_db_query(c, q,
		                    SL_ARGS(sl_str_ref("h\xc3\xa9llo", 6),
		                            sl_int(7), sl_null()));
		ok(r != NULL, "run %d: a row of parameters back", k + 1);
		if (r == NULL)
			return -1;
		is_int(sl_db_result_rows(r), 1, "run %d: one row", k + 1);
		is_str(sl_db_result_name(r, 1), "i", "run %d: names", k + 1);
		const struct sl_value *t = sl_db_result_get(r, 0, 0);
		ok(t->type == SL_VSTR && t->len == 6 &&
		           memcmp(t->u.s, "h\xc3\xa9llo", 6) == 0,
		   "run %d: text without a NUL", k + 1);
		ok(sl_db_result_get(r, 0, 1)->u.i == 7, "run %d: int", k + 1);
		ok(sl_db_result_get(r, 0, 2)->type == SL_VNULL, "run %d: null",
		   k + 1);
		is_str(sl_db_result_tag(r), "SELECT 1", "run %d: tag", k + 1);
		sl_db_result_free(r);
	}
	/* A server error on the direct path, and the connection goes on. */
	const char *div = "SELECT 10 / $1::int AS q";
	sl_db_result_free(sl_db_query(c, div, SL_ARGS(sl_int(5))));
	struct sl_db_result *r = sl_db_query(c, div, SL_ARGS(sl_int(0)));
	ok(r == NULL, "a server error");
	is_err(SL_EDB, "as a database error");
	ok(strstr(unit_errmsg(), "division by zero") != NULL &&
	           strstr(unit_errmsg(), "22012") != NULL &&
	           strstr(unit_errmsg(), div) != NULL,
	   "with the message, SQLSTATE and statement: %s", unit_errmsg());
	r = sl_db_query(c, div, SL_ARGS(sl_int(2)));
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 5,
	   "the next run works");
	sl_db_result_free(r);
	/* No rows; a notice; replies larger than the read buffer. */
	for (int k = 0; k < 2; k++) {
		r = sl_db_query(c, "SELECT 1 AS one WHERE $1::bool",
		                SL_ARGS(sl_bool(false)));
		ok(r != NULL && sl_db_result_rows(r) == 0 &&
		           sl_db_result_cols(r) == 1,
		   "run %d: no rows, one column", k + 1);
		sl_db_result_free(r);
		r = sl_db_query(c, "DO $$ BEGIN RAISE NOTICE 'n'; END $$",
		                SL_NOARGS);
		ok(r != NULL, "run %d: a notice is no error", k + 1);
		sl_db_result_free(r);
		r = sl_db_query(c,
		                "SELECT repeat('x', 100000) || i AS s FROM "
		                "generate_series(1, 30) AS i",
		                SL_NOARGS);
		ok(r != NULL && sl_db_result_rows(r) == 30 &&
		           sl_db_result_get(r, 29, 0)->len == 100002,
		   "run %d: 3 MB in 30 rows", k + 1);
		sl_db_result_free(r);
	}
	/* A backend terminated under a statement that takes the direct
	 * path: its FATAL error, and the connection is lost. */
	struct sl_db_conn *admin = conn();
	int64_t pid = 0;
	for (int k = 0; k < 2; k++) {
		r = sl_db_query(c, "SELECT pg_backend_pid()", SL_NOARGS);
		pid = r != NULL ? sl_db_result_get(r, 0, 0)->u.i : 0;
		sl_db_result_free(r);
	}
	sl_db_result_free(sl_db_query(admin, "SELECT pg_terminate_backend($1)",
	                              SL_ARGS(sl_int(pid))));
	sl_db_conn_close(admin);
	sl_sleep(0.2);
	r = sl_db_query(c, "SELECT pg_backend_pid()", SL_NOARGS);
	ok(r == NULL, "a terminated backend fails the direct path");
	ok(strstr(unit_errmsg(), "57P01") != NULL ||
	           strstr(unit_errmsg(), "lost") != NULL,
	   "saying so: %s", unit_errmsg());
	ok(!sl_db_conn_ok(c), "the connection is marked lost");
	sl_db_result_free(r);
	sl_db_conn_close(c);
	return 0;
}

/* }}} */

TAP_CASE(connect)
{
	is_int(run_task("connect", test_connect, NULL), 0, "connect");
}

/** Run test_types() as a task on a fresh loop. */
TAP_CASE(types)
{
	is_int(run_task("types", test_types, NULL), 0, "types");
}

/** Run test_statements() as a task on a fresh loop. */
TAP_CASE(statements)
{
	is_int(run_task("statements", test_statements, NULL), 0, "statements");
}

/** Run test_cancel() as a task on a fresh loop. */
TAP_CASE(cancel)
{
	is_int(run_task("cancel", test_cancel, NULL), 0, "cancel");
}

/** Run test_pipeline() as a task on a fresh loop. */
TAP_CASE(pipeline)
{
	is_int(run_task("pipeline", test_pipeline, NULL), 0, "pipeline");
}

/** Run test_tx() as a task on a fresh loop. */
TAP_CASE(tx)
{
	is_int(run_task("tx", test_tx, NULL), 0, "transactions");
}

/** Run test_copy() as a task on a fresh loop. */
TAP_CASE(direct)
{
	is_int(run_task("direct", test_direct, NULL), 0, "the direct path");
}

TAP_CASE(copy)
{
	is_int(run_task("copy", test_copy, NULL), 0, "copy and cursors");
}

/**
 * Make a fresh database for this program; without a test server, report
 * the program skipped (the plan 1..0) and exit.
 */
static int
setup(void)
{
	if (pg_test_url("sluice_db_test", url, sizeof(url)) == NULL) {
		printf("1..0 # SKIP no test server (SLUICE_TEST_PGDIR)\n");
		exit(0);
	}
	/* A fresh database for this program. */
	char admin[512];
	pg_test_url("postgres", admin, sizeof(admin));
	char cmd[1400];
	snprintf(cmd, sizeof(cmd),
	         "psql -q '%s' -c 'DROP DATABASE IF EXISTS sluice_db_test' -c "
	         "'CREATE DATABASE sluice_db_test' >/dev/null",
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
