/*
 * SQLite's memory through the driver (src/db/sqlite.c, "SQLite's
 * memory"): databases of every page size SQLite has, open at once, filled
 * well past a small page cache so that pages are taken, evicted and taken
 * again, then read back whole and passed through SQLite's own integrity
 * check; page-sized blocks carved from the driver's huge-page reservation,
 * and taken again from the freed ones rather than carved anew when the
 * databases are closed and filled a second time (no blocks at all in
 * sanitizer builds and under valgrind, where SQLite keeps to malloc());
 * and an application's allocator, configured before the driver's first
 * connection, kept.
 */
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/sqlite_conn.h"
#include "sluice/alloc.h"
#include "db_query.h"
#include "sluice/db.h"
#include "tmpfiles.h"
#include "unit.h"

/** Directory the test databases live in. */
static char tmpdir[64];

/** Every page size SQLite has. */
static const int page_sizes[] = {512,  1024,  2048,  4096,
                                 8192, 16384, 32768, 65536};
/** How many. */
#define N_DBS (sizeof(page_sizes) / sizeof(page_sizes[0]))
/** Rows each fill writes: about 2.2 MB, past the 1 MiB cache. */
#define ROWS 4000
/** Rows a statement writes: fills take turns between the databases. */
#define CHUNK 500

/** The path of the database of page size `size` (static buffer). */
static const char *
db_path(int size)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/p%d.db", tmpdir, size);
	return path;
}

/** The single text `sql` returns, in `out` ("" on failure). */
static void
query_text(struct sl_db_conn *c, const char *sql, char *out, size_t n)
{
	struct sl_db_result *r = sl_db_query(c, sql, SL_NOARGS);
	out[0] = '\0';
	if (r != NULL && sl_db_result_rows(r) >= 1 &&
	    sl_db_result_get(r, 0, 0)->type == SL_VSTR)
		snprintf(out, n, "%.*s", (int)sl_db_result_get(r, 0, 0)->len,
		         sl_db_result_get(r, 0, 0)->u.s);
	else
		note("query_text(%s): %s", sql, unit_errmsg());
	sl_db_result_free(r);
}

/**
 * Open every database, set its page size and a 1 MiB cache, and make its
 * table (once) and emptied. The connections go in `c`; bails out on error.
 */
static void
open_all(struct sl_db_conn **c)
{
	for (size_t i = 0; i < N_DBS; i++) {
		c[i] = sl_sqlite_open(db_path(page_sizes[i]), NULL);
		if (c[i] == NULL)
			bail_out("cannot open %s: %s", db_path(page_sizes[i]),
			         unit_errmsg());
		char sql[300];
		snprintf(sql, sizeof(sql),
		         "PRAGMA page_size = %d; PRAGMA cache_size = -1024; "
		         "CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, "
		         "b TEXT NOT NULL); CREATE INDEX IF NOT EXISTS t_len "
		         "ON t(length(b), substr(b, 1, 1)); DELETE FROM t",
		         page_sizes[i]);
		if (sl_db_exec_script(c[i], sql) != 0)
			bail_out("cannot set up %s: %s", db_path(page_sizes[i]),
			         unit_errmsg());
	}
}

/**
 * Fill every database with ROWS rows, CHUNK at a time in turns: row k holds
 * 100 + k % 900 copies of letter k % 26. Then check each: its page size,
 * its rows, each row's text, and SQLite's integrity check. `pass` names
 * the fill in the messages.
 */
static void
fill_and_check(struct sl_db_conn **c, const char *pass)
{
	bool wrote = true;
	for (int from = 1; from <= ROWS; from += CHUNK) {
		for (size_t i = 0; i < N_DBS; i++) {
			char sql[300];
			snprintf(
			        sql, sizeof(sql),
			        "WITH RECURSIVE n(x) AS (SELECT %d UNION ALL "
			        "SELECT x + 1 FROM n WHERE x < %d) INSERT INTO "
			        "t(k, b) SELECT x, printf('%%.*c', 100 + x %% "
			        "900, char(65 + x %% 26)) FROM n",
			        from, from + CHUNK - 1);
			if (sl_db_exec(c[i], sql, 0, NULL, NULL) != 0) {
				note("%s: %s", db_path(page_sizes[i]),
				     unit_errmsg());
				wrote = false;
			}
		}
	}
	ok(wrote, "%s: every database filled", pass);
	for (size_t i = 0; i < N_DBS; i++) {
		int size = page_sizes[i];
		is_int(query_int(c[i], "PRAGMA page_size"), size,
		       "%s: page size %d", pass, size);
		is_int(query_int(c[i], "SELECT count(*) FROM t"), ROWS,
		       "%s: %d-byte pages: every row", pass, size);
		is_int(query_int(c[i], "SELECT count(*) FROM t WHERE "
		                       "length(b) != 100 + k % 900 OR "
		                       "b != printf('%.*c', length(b), "
		                       "char(65 + k % 26))"),
		       0, "%s: %d-byte pages: every row's text", pass, size);
		is_int(query_int(c[i], "SELECT count(*) FROM t INDEXED BY "
		                       "t_len WHERE length(b) >= 100"),
		       ROWS, "%s: %d-byte pages: the index", pass, size);
		char check[64];
		query_text(c[i], "PRAGMA integrity_check", check,
		           sizeof(check));
		is_str(check, "ok", "%s: %d-byte pages: integrity check", pass,
		       size);
	}
}

/** Close every connection in `c`. */
static void
close_all(struct sl_db_conn **c)
{
	for (size_t i = 0; i < N_DBS; i++)
		sl_db_conn_close(c[i]);
}

/** Calls to the application's allocator (own_allocator's child). */
static long app_calls;

/** The application's xMalloc: malloc(), counted. */
static void *
app_malloc(int n)
{
	app_calls++;
	return malloc((size_t)n);
}

/** The application's xFree. */
static void
app_free(void *p)
{
	free(p);
}

/** The application's xRealloc: realloc(), counted. */
static void *
app_realloc(void *p, int n)
{
	app_calls++;
	return realloc(p, (size_t)n);
}

/** The application's xSize. */
static int
app_size(void *p)
{
	return p != NULL ? (int)malloc_usable_size(p) : 0;
}

/** The application's xRoundup. */
static int
app_roundup(int n)
{
	return (n + 7) & ~7;
}

/** The application's xInit. */
static int
app_init(void *arg)
{
	(void)arg;
	return SQLITE_OK;
}

/** The application's xShutdown. */
static void
app_shutdown(void *arg)
{
	(void)arg;
}

/** An allocator an application configured before using the driver. */
static const sqlite3_mem_methods app_methods = {
        app_malloc,  app_free, app_realloc,  app_size,
        app_roundup, app_init, app_shutdown, NULL,
};

/**
 * own_allocator's child, as a task: a database of 4 KiB pages filled past
 * its cache through the driver. 0 when the rows are all there, no block
 * was carved from the driver's reservation and the application's
 * allocator served SQLite; else a number saying which failed.
 */
static int
own_task(void *arg)
{
	(void)arg;
	struct sl_db_conn *c = sl_sqlite_open(db_path(1), NULL);
	if (c == NULL ||
	    sl_db_exec_script(c, "PRAGMA cache_size = -1024; CREATE TABLE "
	                         "t(k INTEGER PRIMARY KEY, b TEXT NOT "
	                         "NULL)") != 0 ||
	    sl_db_exec(c,
	               "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x "
	               "+ 1 FROM n WHERE x < 4000) INSERT INTO t(k, b) SELECT "
	               "x, printf('%.*c', 100 + x % 900, 'x') FROM n",
	               0, NULL, NULL) != 0)
		return 2;
	int rc = query_int(c, "SELECT count(*) FROM t") != 4000 ? 3
	         : sl_sqlite_page_memory() != 0                 ? 4
	         : app_calls < 1000                             ? 5
	                                                        : 0;
	sl_db_conn_close(c);
	return rc;
}

/*
 * First of the cases, so that SQLite is not initialised yet when the
 * child is forked: an application that configured its own allocator keeps
 * it.
 */
TAP_CASE(own_allocator)
{
	pid_t pid = fork();
	if (pid < 0)
		bail_out("fork failed");
	if (pid == 0) {
		if (sqlite3_config(SQLITE_CONFIG_MALLOC, &app_methods) !=
		    SQLITE_OK)
			_exit(1);
		int rc = run_task("own", own_task, NULL);
		_exit(rc < 0 || rc > 100 ? 100 : rc);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	       "an application's own allocator serves SQLite, not the "
	       "driver's (1: not set, 2: load failed, 3: rows lost, 4: "
	       "blocks carved, 5: allocator unused)");
}

TAP_TASK_CASE(page_sizes)
{
	struct sl_db_conn *c[N_DBS];
	open_all(c);
	fill_and_check(c, "first fill");
	size_t first = sl_sqlite_page_memory();
	note("page-sized blocks carved after the first fill: %zu bytes", first);
	if (sl_alloc_plain())
		is_int((long long)first, 0,
		       "sanitizers or valgrind: SQLite keeps to malloc()");
	else
		/* The five caches of 4 to 64 KiB pages, past the 20 pages
		 * each takes in one block at first (SQLite's bulk). */
		ok(first >= 2 * ((size_t)1 << 20),
		   "page-sized blocks come from the reservation (%zu bytes, "
		   "at least 2 MiB)",
		   first);
	close_all(c);
	open_all(c);
	fill_and_check(c, "second fill");
	size_t second = sl_sqlite_page_memory();
	note("after the second fill: %zu bytes", second);
	ok(second >= first && second - first <= first / 4,
	   "the second fill takes the freed blocks again (%zu more bytes "
	   "carved)",
	   second - first);
	close_all(c);
}

/** Make the temporary directory the databases go in. */
static int
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-sqlmem-XXXXXX");
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
