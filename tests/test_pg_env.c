/*
 * tests/pg_env.h from C: the state directory, the URI and database URLs of
 * the test server, and a crash and restart through tests/pg_server (psql
 * checks the connections, so the test needs no client library).
 */
#include <stdio.h>
#include <string.h>

#include "pg_env.h"
#include "tap.h"

/* Run `select 1` through psql on database URL `url`; 0 if it worked. */
static int
psql_ok(const char *url)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "PGPASSFILE=/dev/null PGCONNECT_TIMEOUT=10 psql -X -w '%s' "
	         "-Atc 'select 1' >/dev/null 2>&1",
	         url);
	return system(cmd) == 0 ? 0 : -1;
}

/** tests/pg_env.h: the URI, URLs, crash and restart of the server. */
TAP_CASE(pg_env)
{
	ok(pg_test_dir() != NULL, "SLUICE_TEST_PGDIR is set");
	const char *uri = pg_test_uri();
	ok(uri != NULL, "pg_test_uri reads the URI");
	if (uri == NULL)
		return;
	ok(strncmp(uri, "postgresql://postgres:", 22) == 0 &&
	           strstr(uri, "@127.0.0.1:") != NULL,
	   "the URI is postgresql://postgres:PASSWORD@127.0.0.1:PORT");
	ok(uri[strlen(uri) - 1] != '/' && uri[strlen(uri) - 1] != '\n',
	   "no trailing slash or newline");

	char url[600];
	ok(pg_test_url("postgres", url, sizeof(url)) == url, "pg_test_url");
	char want[600];
	snprintf(want, sizeof(want), "%s/postgres", uri);
	ok(strcmp(url, want) == 0, "pg_test_url appends /DB");
	char small[8];
	ok(pg_test_url("postgres", small, sizeof(small)) == NULL,
	   "pg_test_url returns NULL if the buffer is too small");
	ok(psql_ok(url) == 0, "psql connects to the URL");

	ok(pg_test_crash() == 0, "pg_test_crash");
	ok(psql_ok(url) != 0, "the crashed server refuses connections");
	ok(pg_test_restart() == 0, "pg_test_restart");
	ok(psql_ok(url) == 0, "the restarted server accepts the same URL");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
