/*
 * The SQLite driver on real database files: opening, values both ways,
 * parameters, errors, tags, the statement cache, transactions, scripts,
 * timeouts, the one-task guard, two connections to one file, other tasks
 * running during a long statement, picking the driver by URI, the
 * operations SQLite lacks (pipelines, COPY, cursors), and allocation
 * faults.
 */
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sluice/alloc.h"
#include "db_query.h"
#include "sluice/db.h"
#include "tmpfiles.h"
#include "unit.h"

/** Directory the test databases live in. */
static char tmpdir[64];

/** A statement that counts to a billion: runs for minutes. */
#define SLOW_SQL                                                          \
	"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n " \
	"WHERE x < 1000000000) SELECT count(*) FROM n"

/** "sqlite:<tmpdir>/<name>" (a static buffer, valid until the next call). */
static const char *
db_url(const char *name)
{
	static char url[PATH_MAX];
	snprintf(url, sizeof(url), "sqlite:%s/%s", tmpdir, name);
	return url;
}

/** Open `name` in tmpdir with default options, or bail out. */
static struct sl_db_conn *
open_db(const char *name)
{
	struct sl_db_conn *c = sl_db_conn_open(db_url(name), NULL);
	if (c == NULL)
		bail_out("cannot open %s: %s", name, unit_errmsg());
	return c;
}

/** Whether the current error message contains `part`. */
static bool
msg_has(const char *part)
{
	if (strstr(unit_errmsg(), part) != NULL)
		return true;
	note("message \"%s\" lacks \"%s\"", unit_errmsg(), part);
	return false;
}

/** Open, close, version, and the errors of opening. */
static int
open_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = sl_db_conn_open(db_url("open.db"), NULL);
	ok(c != NULL, "open a new file");
	is_int(sl_db_conn_kind(c), SL_DB_SQLITE, "kind is SQLite");
	is_int(sl_db_conn_server_version(c), sqlite3_libversion_number(),
	       "server version is SQLite's");
	is_int(query_int(c, "SELECT 41 + 1"), 42, "a query works");
	struct sl_db_result *r =
	        sl_db_query(c, "PRAGMA journal_mode", SL_NOARGS);
	ok(r != NULL && sl_db_result_get(r, 0, 0)->type == SL_VSTR &&
	           strncmp(sl_db_result_get(r, 0, 0)->u.s, "wal", 3) == 0,
	   "a file is in WAL mode");
	sl_db_result_free(r);
	is_int(query_int(c, "PRAGMA foreign_keys"), 1, "foreign keys are on");
	ok(sl_db_conn_reset(c) == 0 && query_int(c, "SELECT 7") == 7,
	   "reset reopens");
	sl_db_conn_close(c);
	struct stat sb;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/open.db", tmpdir);
	ok(stat(path, &sb) == 0 && S_ISREG(sb.st_mode), "the file exists");

	c = sl_db_conn_open(db_url("no/such/dir/x.db"), NULL);
	ok(c == NULL, "a directory that does not exist fails");
	is_err(SL_EIO, "... with SL_EIO");
	ok(msg_has("no/such/dir/x.db") && msg_has("cannot open"),
	   "... naming the path");

	tmp_write(tmpdir, "junk.db",
	          "this is not a database at all, not at "
	          "all, no, it is some text instead\n");
	c = sl_db_conn_open(db_url("junk.db"), NULL);
	ok(c == NULL, "a file that is not a database fails");
	is_err(SL_EDB, "... with SL_EDB");
	ok(msg_has("junk.db") && msg_has("not a database"), "... saying so");

	c = sl_db_conn_open("sqlite:", NULL);
	ok(c == NULL, "sqlite: without a path fails");
	is_err(SL_EINVAL, "... with SL_EINVAL");

	c = sl_db_conn_open("sqlite::memory:", NULL);
	ok(c != NULL && query_int(c, "SELECT 5") == 5, "an in-memory database");
	sl_db_conn_close(c);
	return 0;
}

/** Every value type through parameters and back. */
static int
types_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = open_db("types.db");
	ok(sl_db_exec_script(c, "CREATE TABLE t(k INTEGER PRIMARY KEY, i "
	                        "INTEGER, d REAL, s TEXT, b BLOB, j JSON, f "
	                        "BOOLEAN, n TEXT)") == 0,
	   "create a table");
	static const char blob[] = {'a', '\0', 'b', '\xff'};
	struct sl_member ms[2] = {
	        {.key = "x", .key_len = 1, .val = sl_int(1)},
	        {.key = "y", .key_len = 1, .val = sl_str_ref("z", 1)},
	};
	const char *ins = "INSERT INTO t(k, i, d, s, b, j, f, n) VALUES "
	                  "($1, $2, $3, $4, $5, $6, $7, $8)";
	int64_t aff = -2;
	ok(sl_db_exec(c, ins,
	              SL_ARGS(sl_int(1), sl_int(INT64_MAX), sl_double(2.5),
	                      sl_str_ref("h\xc3\xa9llo", 6),
	                      sl_str_ref(blob, sizeof(blob)),
	                      sl_object_ref(ms, 2), sl_bool(true), sl_null()),
	              &aff) == 0,
	   "insert every type");
	is_int(aff, 1, "... one row");
	struct sl_value arr[3] = {sl_int(1), sl_null(), sl_bool(false)};
	ok(sl_db_exec(c, ins,
	              SL_ARGS(sl_int(2), sl_int(INT64_MIN),
	                      sl_number_ref("1e3", 3), sl_str_ref("", 0),
	                      sl_null(), sl_array_ref(arr, 3), sl_bool(false),
	                      sl_number_ref("-17", 3)),
	              NULL) == 0,
	   "insert the other values");
	struct sl_db_result *r = sl_db_query(
	        c, "SELECT i, d, s, b, j, f, n FROM t ORDER BY k", SL_NOARGS);
	ok(r != NULL && sl_db_result_rows(r) == 2 && sl_db_result_cols(r) == 7,
	   "select them back");
	if (r == NULL)
		return 0;
	is_str(sl_db_result_name(r, 4), "j", "column names");
	is_int(sl_db_result_col(r, "f"), 5, "column by name");
	const struct sl_value *v = sl_db_result_get(r, 0, 0);
	ok(v->type == SL_VINT && v->u.i == INT64_MAX, "big integer");
	v = sl_db_result_get(r, 0, 1);
	ok(v->type == SL_VDOUBLE && v->u.d == 2.5, "double");
	v = sl_db_result_get(r, 0, 2);
	ok(v->type == SL_VSTR && v->len == 6 &&
	           memcmp(v->u.s, "h\xc3\xa9llo", 6) == 0,
	   "UTF-8 text");
	v = sl_db_result_get(r, 0, 3);
	ok(v->type == SL_VSTR && v->len == 4 && memcmp(v->u.s, blob, 4) == 0,
	   "bytes with a NUL inside");
	v = sl_db_result_get(r, 0, 4);
	ok(v->type == SL_VOBJECT && v->len == 2, "a JSON column is parsed");
	const struct sl_value *y = sl_object_get_cstr(v, "y");
	ok(y != NULL && y->type == SL_VSTR && y->len == 1 && y->u.s[0] == 'z',
	   "... into its members");
	v = sl_db_result_get(r, 0, 5);
	ok(v->type == SL_VBOOL && v->u.b, "a BOOLEAN column gives true");
	ok(sl_db_result_get(r, 0, 6)->type == SL_VNULL, "null");
	v = sl_db_result_get(r, 1, 0);
	ok(v->type == SL_VINT && v->u.i == INT64_MIN, "smallest integer");
	v = sl_db_result_get(r, 1, 1);
	ok(v->type == SL_VDOUBLE && v->u.d == 1000.0,
	   "number text 1e3 is a double");
	v = sl_db_result_get(r, 1, 2);
	ok(v->type == SL_VSTR && v->len == 0, "empty string");
	ok(sl_db_result_get(r, 1, 3)->type == SL_VNULL, "null blob");
	v = sl_db_result_get(r, 1, 4);
	ok(v->type == SL_VARRAY && v->len == 3 &&
	           v->u.items[2].type == SL_VBOOL,
	   "a JSON array");
	v = sl_db_result_get(r, 1, 5);
	ok(v->type == SL_VBOOL && !v->u.b, "false");
	v = sl_db_result_get(r, 1, 6);
	ok(v->type == SL_VSTR && v->len == 3 && memcmp(v->u.s, "-17", 3) == 0,
	   "number text -17 bound as an integer, stored in a TEXT column");
	struct sl_arena a;
	sl_arena_create(&a, 0, 1 << 20);
	struct sl_value row;
	ok(sl_db_result_row_object(r, 0, &a, &row) == 0 &&
	           row.type == SL_VOBJECT && row.len == 7,
	   "a row as an object");
	sl_arena_destroy(&a);
	sl_db_result_free(r);

	r = sl_db_query(
	        c,
	        "SELECT x'00ff' AS b, typeof($1) AS t1, typeof($2) AS t2, "
	        "$3 AS e, CAST(NULL AS JSON) AS nj",
	        SL_ARGS(sl_number_ref("7", 1), sl_bool(true),
	                sl_double(-0.25)));
	ok(r != NULL, "expressions");
	if (r != NULL) {
		v = sl_db_result_get(r, 0, 0);
		ok(v->type == SL_VSTR && v->len == 2 &&
		           (unsigned char)v->u.s[1] == 0xff,
		   "a blob literal is its bytes");
		v = sl_db_result_get(r, 0, 1);
		ok(v->len == 7 && memcmp(v->u.s, "integer", 7) == 0,
		   "number text 7 binds as an integer");
		v = sl_db_result_get(r, 0, 2);
		ok(v->len == 7 && memcmp(v->u.s, "integer", 7) == 0,
		   "a bool binds as an integer");
		v = sl_db_result_get(r, 0, 3);
		ok(v->type == SL_VDOUBLE && v->u.d == -0.25, "double param");
		ok(sl_db_result_get(r, 0, 4)->type == SL_VNULL, "null of JSON");
	}
	sl_db_result_free(r);

	ok(sl_db_exec(c, "INSERT INTO t(k, j) VALUES (3, 'not json')",
	              SL_NOARGS, NULL) == 0,
	   "store text that is not JSON in a JSON column");
	r = sl_db_query(c, "SELECT j FROM t WHERE k = 3", SL_NOARGS);
	ok(r == NULL, "reading it back fails");
	is_err(SL_EPARSE, "... with SL_EPARSE");
	ok(msg_has("column \"j\""), "... naming the column");
	sl_db_conn_close(c);
	return 0;
}

/** Parameter numbering, counts and forms. */
static int
params_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = open_db("params.db");
	struct sl_db_result *r =
	        sl_db_query(c, "SELECT $2 || $1 AS s",
	                    SL_ARGS(sl_str_ref("a", 1), sl_str_ref("b", 1)));
	ok(r != NULL && sl_db_result_get(r, 0, 0)->len == 2 &&
	           memcmp(sl_db_result_get(r, 0, 0)->u.s, "ba", 2) == 0,
	   "$2 before $1 binds by number");
	sl_db_result_free(r);
	r = sl_db_query(c, "SELECT $1 - $2 + $1",
	                SL_ARGS(sl_int(10), sl_int(3)));
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 17,
	   "a parameter used twice");
	sl_db_result_free(r);
	r = sl_db_query(c, "SELECT ?2 - ?1", SL_ARGS(sl_int(10), sl_int(3)));
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == -7, "?N by number");
	sl_db_result_free(r);
	r = sl_db_query(c, "SELECT ? - ?", SL_ARGS(sl_int(10), sl_int(3)));
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 7, "? by position");
	sl_db_result_free(r);

	r = sl_db_query(c, "SELECT $1 + $2", SL_ARGS(sl_int(1)));
	ok(r == NULL, "too few parameters");
	is_err(SL_EINVAL, "... SL_EINVAL");
	ok(msg_has("the statement takes 2 parameters, 1 given") &&
	           msg_has("SELECT $1 + $2"),
	   "... says how many");
	r = sl_db_query(c, "SELECT 1", SL_ARGS(sl_int(1)));
	ok(r == NULL && msg_has("takes 0 parameters, 1 given"),
	   "too many parameters");
	r = sl_db_query(c, "SELECT $3", SL_ARGS(sl_int(1)));
	ok(r == NULL && msg_has("takes 3 parameters"),
	   "a gap in the numbers counts");
	r = sl_db_query(c, "SELECT :name", SL_ARGS(sl_int(1)));
	ok(r == NULL && msg_has("parameter :name: write parameters as $1"),
	   "named parameters are refused");
	r = sl_db_query(c, "SELECT $1::int", SL_ARGS(sl_int(1)));
	ok(r == NULL && msg_has("no :: casts"), "a :: cast gets a hint");
	r = sl_db_query(c, "SELECT 1; SELECT 2", SL_NOARGS);
	ok(r == NULL && msg_has("more than one statement"),
	   "two statements are refused");
	is_err(SL_EINVAL, "... SL_EINVAL");
	is_int(query_int(c, "SELECT 3; -- done\n /* really */ ;"), 3,
	       "trailing comments and semicolons are fine");
	r = sl_db_query(c, "  -- nothing\n", SL_NOARGS);
	ok(r == NULL && msg_has("no statement"), "an empty statement");
	sl_db_conn_close(c);
	return 0;
}

/** The database's errors, tags, RETURNING. */
static int
errors_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = open_db("errors.db");
	struct sl_db_result *r = sl_db_query(c, "SELEC 1", SL_NOARGS);
	ok(r == NULL, "a syntax error fails");
	is_err(SL_EDB, "... with SL_EDB");
	ok(msg_has("errors.db: SQLite error: ") && msg_has("syntax error") &&
	           msg_has("(code 1) in: SELEC 1"),
	   "... naming the database, the error and the statement");
	ok(sl_db_exec_script(c, "CREATE TABLE u(id INTEGER PRIMARY KEY, "
	                        "name TEXT UNIQUE NOT NULL)") == 0,
	   "create a table");
	const char *ins = "INSERT INTO u(name) VALUES ($1) RETURNING id, name";
	r = sl_db_query(c, ins, SL_ARGS(sl_str_ref("ann", 3)));
	ok(r != NULL && sl_db_result_rows(r) == 1 &&
	           sl_db_result_get(r, 0, 0)->u.i == 1,
	   "RETURNING gives the row");
	is_str(r != NULL ? sl_db_result_tag(r) : NULL, "INSERT 0 1",
	       "... and the tag");
	is_int(r != NULL ? sl_db_result_affected(r) : -9, 1, "... affected 1");
	sl_db_result_free(r);
	r = sl_db_query(c, ins, SL_ARGS(sl_str_ref("ann", 3)));
	ok(r == NULL, "a duplicate fails");
	is_err(SL_EDB, "... with SL_EDB");
	ok(msg_has("UNIQUE constraint failed: u.name") &&
	           msg_has("code 2067") && msg_has("in: INSERT INTO u"),
	   "... naming the constraint and the statement");
	r = sl_db_query(c, "INSERT INTO u(name) VALUES (NULL)", SL_NOARGS);
	ok(r == NULL && msg_has("NOT NULL constraint failed"),
	   "NOT NULL violation");

	char long_sql[600];
	snprintf(long_sql, sizeof(long_sql), "SELECT nope FROM u WHERE %0400d",
	         0);
	r = sl_db_query(c, long_sql, SL_NOARGS);
	ok(r == NULL && msg_has("no such column") && msg_has("..."),
	   "a long statement is shown truncated");
	ok(strlen(unit_errmsg()) < 480, "... the message stays short");

	int64_t aff = -2;
	ok(sl_db_exec(c, "INSERT INTO u(name) VALUES ('b'), ('c'), ('d')",
	              SL_NOARGS, &aff) == 0 &&
	           aff == 3,
	   "INSERT of three rows: affected 3");
	r = sl_db_query(c, "UPDATE u SET name = name || '!' WHERE id > $1",
	                SL_ARGS(sl_int(1)));
	is_str(r != NULL ? sl_db_result_tag(r) : NULL, "UPDATE 3",
	       "UPDATE tag");
	ok(r != NULL && sl_db_result_cols(r) == 0 && sl_db_result_rows(r) == 0,
	   "... no rows");
	sl_db_result_free(r);
	r = sl_db_query(c, "DELETE FROM u WHERE id = 4 RETURNING name",
	                SL_NOARGS);
	is_str(r != NULL ? sl_db_result_tag(r) : NULL, "DELETE 1",
	       "DELETE tag");
	ok(r != NULL && sl_db_result_rows(r) == 1 &&
	           sl_db_result_get(r, 0, 0)->len == 2,
	   "... with the RETURNING row");
	sl_db_result_free(r);
	r = sl_db_query(c, "SELECT * FROM u ORDER BY id", SL_NOARGS);
	is_str(r != NULL ? sl_db_result_tag(r) : NULL, "SELECT 3",
	       "SELECT tag");
	is_int(r != NULL ? sl_db_result_affected(r) : -9, 3, "... affected 3");
	sl_db_result_free(r);
	r = sl_db_query(c,
	                "WITH x(n) AS (SELECT 'e' UNION ALL SELECT 'f') "
	                "INSERT INTO u(name) SELECT n FROM x",
	                SL_NOARGS);
	is_str(r != NULL ? sl_db_result_tag(r) : NULL, "INSERT 0 2",
	       "WITH ... INSERT tag");
	sl_db_result_free(r);
	r = sl_db_query(c, "CREATE UNIQUE INDEX ui ON u(name, id)", SL_NOARGS);
	is_str(r != NULL ? sl_db_result_tag(r) : NULL, "CREATE INDEX",
	       "CREATE INDEX tag");
	is_int(r != NULL ? sl_db_result_affected(r) : -9, -1,
	       "... affected -1");
	sl_db_result_free(r);
	sl_db_conn_close(c);
	return 0;
}

/** The statement cache with more statements than room. */
static int
cache_main(void *arg)
{
	(void)arg;
	struct sl_db_conn_opts o;
	sl_db_conn_opts_init(&o);
	o.stmt_cache = 2;
	struct sl_db_conn *c = sl_db_conn_open(db_url("cache.db"), &o);
	ok(c != NULL, "open with a cache of 2");
	static const char *const sql[3] = {
	        "SELECT $1 + 1",
	        "SELECT $1 * 2",
	        "SELECT $1 - 3",
	};
	int good = 0;
	for (int round = 0; round < 10; round++) {
		for (int k = 0; k < 3; k++) {
			struct sl_db_result *r =
			        sl_db_query(c, sql[k], SL_ARGS(sl_int(round)));
			int64_t want = k == 0   ? round + 1
			               : k == 1 ? round * 2
			                        : round - 3;
			if (r != NULL && sl_db_result_get(r, 0, 0)->u.i == want)
				good++;
			sl_db_result_free(r);
		}
	}
	is_int(good, 30, "3 statements round-robin through 2 slots");
	ok(sl_db_conn_forget_statements(c) == 0, "forget the statements");
	is_int(query_int(c, "SELECT 9"), 9, "... and go on");
	sl_db_conn_close(c);

	o.stmt_cache = 0;
	c = sl_db_conn_open(db_url("cache.db"), &o);
	good = 0;
	for (int i = 0; i < 5; i++)
		good += query_int(c, "SELECT 4") == 4;
	is_int(good, 5, "no cache at all works too");
	sl_db_conn_close(c);
	return 0;
}

/** Transactions and savepoints, as conn.c writes them. */
static int
tx_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = open_db("tx.db");
	struct sl_db_conn *other = open_db("tx.db");
	ok(sl_db_exec_script(c, "CREATE TABLE t(v INTEGER)") == 0, "table");
	struct sl_db_tx tx, sp;
	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "begin");
	is_int(sl_db_conn_tx_depth(c), 1, "depth 1");
	sl_db_exec(c, "INSERT INTO t VALUES (1)", SL_NOARGS, NULL);
	is_int(query_int(other, "SELECT count(*) FROM t"), 0,
	       "another connection does not see it yet");
	ok(sl_db_tx_commit(&tx) == 0, "commit");
	is_int(query_int(other, "SELECT count(*) FROM t"), 1,
	       "... now it does");

	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "begin again");
	sl_db_exec(c, "INSERT INTO t VALUES (2)", SL_NOARGS, NULL);
	ok(sl_db_tx_rollback(&tx) == 0, "roll back");
	is_int(query_int(c, "SELECT count(*) FROM t"), 1, "... row 2 gone");
	is_int(sl_db_conn_tx_depth(c), 0, "depth 0");

	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "begin outer");
	sl_db_exec(c, "INSERT INTO t VALUES (3)", SL_NOARGS, NULL);
	ok(sl_db_tx_begin(c, &sp, NULL) == 0, "savepoint");
	is_int(sl_db_conn_tx_depth(c), 2, "depth 2");
	sl_db_exec(c, "INSERT INTO t VALUES (4)", SL_NOARGS, NULL);
	ok(sl_db_tx_rollback(&sp) == 0, "roll back the savepoint");
	is_int(sl_db_conn_tx_depth(c), 1, "depth 1 again");
	ok(sl_db_tx_commit(&tx) == 0, "commit the outer one");
	struct sl_db_result *r =
	        sl_db_query(other, "SELECT v FROM t ORDER BY v", SL_NOARGS);
	ok(r != NULL && sl_db_result_rows(r) == 2 &&
	           sl_db_result_get(r, 1, 0)->u.i == 3,
	   "rows 1 and 3 committed, 4 rolled back");
	sl_db_result_free(r);

	struct sl_db_tx_opts rc_opts = {.isolation = SL_ISO_READ_COMMITTED};
	ok(sl_db_tx_begin(c, &tx, &rc_opts) != 0, "READ COMMITTED is refused");
	is_err(SL_EINVAL, "... SL_EINVAL");
	struct sl_db_tx_opts ser = {.isolation = SL_ISO_SERIALIZABLE};
	ok(sl_db_tx_begin(c, &tx, &ser) == 0, "SERIALIZABLE: BEGIN IMMEDIATE");
	sl_db_exec(c, "INSERT INTO t VALUES (5)", SL_NOARGS, NULL);
	ok(sl_db_tx_commit(&tx) == 0, "commit");
	is_int(query_int(other, "SELECT count(*) FROM t"), 3, "... committed");
	sl_db_conn_close(other);
	sl_db_conn_close(c);
	return 0;
}

/** Scripts. */
static int
script_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = open_db("script.db");
	ok(sl_db_exec_script(c, "CREATE TABLE s(a INTEGER);\n"
	                        "INSERT INTO s VALUES (1);\n"
	                        "INSERT INTO s VALUES (2); "
	                        "INSERT INTO s SELECT a + 10 FROM s;") == 0,
	   "a script of four statements");
	is_int(query_int(c, "SELECT sum(a) FROM s"), 1 + 2 + 11 + 12,
	       "... all ran");
	ok(sl_db_exec_script(c, "INSERT INTO s VALUES (3); INSERT INTO nope "
	                        "VALUES (1)") != 0,
	   "a failing script");
	is_err(SL_EDB, "... SL_EDB");
	ok(msg_has("no such table: nope") && msg_has("in: INSERT INTO s"),
	   "... with the message and the script");
	sl_db_conn_close(c);
	return 0;
}

/** Statement timeouts. */
static int
timeout_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = open_db("timeout.db");
	sl_db_conn_set_timeout(c, 0.2);
	double t0 = sl_clock();
	struct sl_db_result *r = sl_db_query(c, SLOW_SQL, SL_NOARGS);
	double took = sl_clock() - t0;
	ok(r == NULL, "a long statement fails");
	is_err(SL_ETIMEDOUT, "... with SL_ETIMEDOUT");
	ok(msg_has("statement timed out after 0.2 s") && msg_has("WITH"),
	   "... saying so");
	ok(took >= 0.19 && took < 2.0, "... after about 0.2 s (%.3f)", took);
	is_int(query_int(c, "SELECT 12"), 12, "the connection still works");
	ok(sl_db_exec_script(c, SLOW_SQL) != 0, "a script times out too");
	is_err(SL_ETIMEDOUT, "... with SL_ETIMEDOUT");
	ok(sl_db_conn_ping(c, 1.0) == 0, "ping");
	ok(sl_db_exec_script(c, "CREATE TABLE w(v INTEGER)") == 0, "table");
	struct sl_db_tx tx;
	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "begin");
	sl_db_exec(c, "INSERT INTO w VALUES (1)", SL_NOARGS, NULL);
	ok(sl_db_exec(
	           c,
	           "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
	           "FROM n WHERE x < 1000000000) INSERT INTO w SELECT x FROM n",
	           SL_NOARGS, NULL) != 0,
	   "an INSERT times out inside a transaction");
	ok(msg_has("SQLite rolled the transaction back"),
	   "... and says SQLite rolled the transaction back");
	ok(sl_db_tx_rollback(&tx) == 0, "the rollback after it still succeeds");
	is_int(sl_db_conn_tx_depth(c), 0, "... depth 0");
	is_int(query_int(c, "SELECT count(*) FROM w"), 0, "... nothing kept");
	sl_db_conn_set_timeout(c, SL_FOREVER);
	is_int(query_int(c, "SELECT 13"), 13, "no timeout");
	sl_db_conn_close(c);
	return 0;
}

/** State shared by the tasks of the concurrency test. */
struct shared {
	/** The connection they share. */
	struct sl_db_conn *c;
	/** Ticks of the ticker task. */
	int ticks;
	/** Set when the slow statement has ended. */
	bool done;
	/** The slow statement's error code. */
	enum sl_errcode slow_code;
};

/** What the cancelled task saw. */
struct cancel_state {
	/** Its connection. */
	struct sl_db_conn *c;
	/** Error code of its statement. */
	enum sl_errcode code;
	/** Seconds the statement ran. */
	double secs;
};

/** Task: a statement without a timeout that runs for minutes. */
static int
endless(void *arg)
{
	struct cancel_state *cs = arg;
	double t0 = sl_clock();
	struct sl_db_result *r = sl_db_query(cs->c, SLOW_SQL, SL_NOARGS);
	cs->secs = sl_clock() - t0;
	cs->code = r == NULL ? sl_diag_code() : SL_EOK;
	sl_db_result_free(r);
	return r == NULL ? -1 : 0;
}

/** Cancelling a task stops its statement on the worker. */
static int
cancel_main(void *arg)
{
	(void)arg;
	struct cancel_state cs = {.c = open_db("cancel.db")};
	struct sl_task *t =
	        sl_task_spawn(sl_loop_current(), "endless", endless, &cs);
	sl_sleep(0.2);
	sl_task_cancel(t);
	ok(sl_task_join(t) != 0, "cancel: the task fails");
	is_int(cs.code, SL_ECANCELLED, "cancel: its statement was cancelled");
	/* Uncancelled, it runs for minutes; valgrind's thread scheduling
	 * alone can delay the worker seeing the flag by seconds. */
	ok(cs.secs < 60, "cancel: long before the statement's end (%.2f s)",
	   cs.secs);
	is_int(query_int(cs.c, "SELECT 21"), 21,
	       "cancel: the connection works on");
	sl_db_conn_close(cs.c);
	return 0;
}

/** Task: run a slow statement (1 s timeout) on the shared connection. */
static int
slow_task(void *arg)
{
	struct shared *sh = arg;
	struct sl_db_result *r = sl_db_query(sh->c, SLOW_SQL, SL_NOARGS);
	sh->slow_code = r == NULL ? sl_diag_code() : SL_EOK;
	sl_db_result_free(r);
	sh->done = true;
	return 0;
}

/** Task: count ticks of 10 ms until the slow statement ends. */
static int
ticker_task(void *arg)
{
	struct shared *sh = arg;
	while (!sh->done) {
		sh->ticks++;
		if (sl_sleep(0.01) != 0)
			return -1;
	}
	return 0;
}

/** One connection, two tasks; other tasks run during a statement. */
static int
busy_main(void *arg)
{
	(void)arg;
	struct shared sh = {.c = open_db("busy.db")};
	sl_db_conn_set_timeout(sh.c, 1.0);
	struct sl_task *slow =
	        sl_task_spawn(sl_loop_current(), "slow", slow_task, &sh);
	struct sl_task *tick =
	        sl_task_spawn(sl_loop_current(), "ticker", ticker_task, &sh);
	sl_sleep(0.1);
	ok(!sh.done, "the slow statement is running");
	struct sl_db_result *r = sl_db_query(sh.c, "SELECT 1", SL_NOARGS);
	ok(r == NULL, "a second task cannot use the connection");
	is_err(SL_EBUSY, "... SL_EBUSY");
	ok(msg_has("in use by task 'slow'"), "... naming the first task");
	ok(sl_task_join(slow) == 0 && sl_task_join(tick) == 0, "join");
	is_int(sh.slow_code, SL_ETIMEDOUT, "the slow statement timed out");
	/* Valgrind runs one thread at a time: the worker hogs it. */
	int want = getenv("SLUICE_UNDER_VALGRIND") != NULL ? 2 : 30;
	ok(sh.ticks >= want, "the ticker ran meanwhile (%d ticks)", sh.ticks);
	is_int(query_int(sh.c, "SELECT 2"), 2, "the connection is free again");
	sl_db_conn_close(sh.c);
	return 0;
}

/** Two connections to one file. */
static int
two_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *a = open_db("two.db");
	struct sl_db_conn *b = open_db("two.db");
	ok(sl_db_exec_script(a, "CREATE TABLE p(v TEXT)") == 0, "a: table");
	ok(sl_db_exec(a, "INSERT INTO p VALUES ($1)",
	              SL_ARGS(sl_str_ref("x", 1)), NULL) == 0,
	   "a: insert");
	is_int(query_int(b, "SELECT count(*) FROM p"), 1, "b sees a's row");
	ok(sl_db_exec(b, "INSERT INTO p VALUES ('y')", SL_NOARGS, NULL) == 0,
	   "b: insert");
	is_int(query_int(a, "SELECT count(*) FROM p"), 2, "a sees b's row");
	sl_db_conn_close(a);
	sl_db_conn_close(b);
	return 0;
}

/**
 * Picking the driver by URI: a scheme no driver takes fails listing the
 * forms every driver takes, and a scheme wins over a driver that claims
 * scheme-less strings (a SQLite path with '=' is not a key=value string).
 */
static int
uri_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = sl_db_conn_open("mysql://u:secret@h/db", NULL);
	ok(c == NULL, "an unknown scheme fails");
	is_err(SL_EINVAL, "... with SL_EINVAL");
	ok(msg_has("not a database URI") && msg_has("postgresql://") &&
	           msg_has("key=value pairs, sqlite:PATH or bolt://"),
	   "... listing the URI forms of the drivers");
	ok(strstr(unit_errmsg(), "secret") == NULL, "... without the password");
	c = sl_db_conn_open(db_url("a=b.db"), NULL);
	ok(c != NULL && sl_db_conn_kind(c) == SL_DB_SQLITE,
	   "a SQLite path with '=' opens with SQLite");
	ok(c != NULL && query_int(c, "SELECT 3") == 3, "... and works");
	sl_db_conn_close(c);
	return 0;
}

/**
 * Pipelines, COPY and cursors are PostgreSQL's: on SQLite each fails with
 * SL_EINVAL naming the operation and the driver, and the connection stays
 * usable.
 */
static int
unsupported_main(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = open_db("unsupported.db");
	ok(sl_db_exec_script(c, "CREATE TABLE t (a INTEGER)") == 0,
	   "create a table");
	struct sl_db_pipeline *pl = sl_db_pipeline_begin(c);
	ok(pl == NULL, "sl_db_pipeline_begin() fails");
	is_err(SL_EINVAL, "... with SL_EINVAL");
	ok(msg_has("the sqlite driver does not support pipelines") &&
	           msg_has("unsupported.db"),
	   "... naming the operation, the driver and the database");
	const char *cols[] = {"a"};
	struct sl_db_copy *cp = sl_db_copy_begin(c, "t", cols, 1);
	ok(cp == NULL, "sl_db_copy_begin() fails");
	is_err(SL_EINVAL, "... with SL_EINVAL");
	ok(msg_has("the sqlite driver does not support COPY"),
	   "... naming the operation and the driver");
	struct sl_db_tx tx;
	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "begin a transaction");
	struct sl_db_cursor *cur =
	        sl_db_cursor_open(c, "SELECT a FROM t", SL_NOARGS, 0);
	ok(cur == NULL, "sl_db_cursor_open() fails");
	is_err(SL_EINVAL, "... with SL_EINVAL");
	ok(msg_has("the sqlite driver does not support cursors"),
	   "... naming the operation and the driver");
	ok(sl_db_exec(c, "INSERT INTO t VALUES (1)", SL_NOARGS, NULL) == 0,
	   "the transaction goes on");
	ok(sl_db_tx_commit(&tx) == 0, "... and commits");
	is_int(query_int(c, "SELECT count(*) FROM t"), 1,
	       "the connection is usable");
	sl_db_conn_close(c);
	return 0;
}

/** Allocation faults while opening and querying. */
static int
faults_main(void *arg)
{
	(void)arg;
	int runs = 0, clean = 0;
	bool opened = false;
	for (long k = 0; k < 200 && !opened; k++) {
		long before = sl_alloc_faults();
		sl_alloc_fail_after(k);
		struct sl_db_conn *c =
		        sl_db_conn_open(db_url("faults.db"), NULL);
		sl_alloc_fail_after(-1);
		runs++;
		if (sl_alloc_faults() == before) {
			opened = c != NULL;
		} else if (c == NULL && sl_diag_code() == SL_EOOM) {
			clean++;
		} else {
			note("fault %ld: %s", k, c ? "opened" : unit_errmsg());
		}
		if (c != NULL) {
			if (query_int(c, "SELECT 1") != 1)
				note("fault %ld: query failed", k);
			sl_db_conn_close(c);
		}
	}
	ok(opened, "open succeeds once no fault fires");
	is_int(clean, runs - 1,
	       "every injected fault failed the open with "
	       "SL_EOOM (%d runs)",
	       runs);
	/* Faults reach the worker thread: a statement with parameters and
	 * a JSON result fails cleanly at every allocation, and the
	 * connection stays usable. */
	struct sl_db_conn *c = open_db("faults.db");
	runs = clean = 0;
	bool done = false;
	for (long k = 0; k < 500 && !done; k++) {
		long before = sl_alloc_faults();
		sl_alloc_fail_after(k);
		struct sl_db_result *r =
		        sl_db_query(c, "SELECT $1 + 1, json_array($2, 'x'), $3",
		                    SL_ARGS(sl_int(41), sl_str_ref("ab", 2),
		                            sl_double(0.5)));
		sl_alloc_fail_after(-1);
		runs++;
		if (sl_alloc_faults() == before)
			done = r != NULL &&
			       sl_db_result_get(r, 0, 0)->u.i == 42;
		else if (r == NULL && sl_diag_code() == SL_EOOM)
			clean++;
		else
			note("query fault %ld: %s", k,
			     r != NULL ? "succeeded" : unit_errmsg());
		sl_db_result_free(r);
		if (query_int(c, "SELECT 7") != 7)
			note("query fault %ld: the connection broke", k);
	}
	ok(done, "the query succeeds once no fault fires (%d runs)", runs);
	ok(runs > 1, "faults fired on the worker thread");
	is_int(clean, runs - 1,
	       "every injected fault failed the query with SL_EOOM");
	sl_db_conn_close(c);
	return 0;
}

/** Run open_main() as a task on a fresh loop. */
TAP_CASE(open)
{
	is_int(run_task("open", open_main, NULL), 0, "open test ran");
}

/** Run types_main() as a task on a fresh loop. */
TAP_CASE(types)
{
	is_int(run_task("types", types_main, NULL), 0, "types test ran");
}

/** Run params_main() as a task on a fresh loop. */
TAP_CASE(params)
{
	is_int(run_task("params", params_main, NULL), 0, "params test ran");
}

/** Run errors_main() as a task on a fresh loop. */
TAP_CASE(errors)
{
	is_int(run_task("errors", errors_main, NULL), 0, "errors test ran");
}

/** Run cache_main() as a task on a fresh loop. */
TAP_CASE(cache)
{
	is_int(run_task("cache", cache_main, NULL), 0, "cache test ran");
}

/** Run tx_main() as a task on a fresh loop. */
TAP_CASE(tx)
{
	is_int(run_task("tx", tx_main, NULL), 0, "tx test ran");
}

/** Run script_main() as a task on a fresh loop. */
TAP_CASE(script)
{
	is_int(run_task("script", script_main, NULL), 0, "script test ran");
}

/** Run timeout_main() as a task on a fresh loop. */
TAP_CASE(timeout)
{
	is_int(run_task("timeout", timeout_main, NULL), 0, "timeout test ran");
}

/** Run cancel_main() as a task on a fresh loop. */
TAP_CASE(cancel)
{
	is_int(run_task("cancel", cancel_main, NULL), 0, "cancel test ran");
}

/** Run busy_main() as a task on a fresh loop. */
TAP_CASE(busy)
{
	is_int(run_task("busy", busy_main, NULL), 0, "busy test ran");
}

/** Run two_main() as a task on a fresh loop. */
TAP_CASE(two)
{
	is_int(run_task("two", two_main, NULL), 0, "two test ran");
}

/** Run uri_main() as a task on a fresh loop. */
TAP_CASE(uri)
{
	is_int(run_task("uri", uri_main, NULL), 0, "uri test ran");
}

/** Run unsupported_main() as a task on a fresh loop. */
TAP_CASE(unsupported)
{
	is_int(run_task("unsupported", unsupported_main, NULL), 0,
	       "unsupported test ran");
}

/** Run faults_main() as a task on a fresh loop. */
TAP_CASE(faults)
{
	is_int(run_task("faults", faults_main, NULL), 0, "faults test ran");
}

/** Make the temporary directory the cases' databases go in. */
static int
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-dbsqlite-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		bail_out("mkdtemp failed");
	return 0;
}

/** Remove the temporary directory. */
static void
teardown(void)
{
	tmp_remove(tmpdir);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
