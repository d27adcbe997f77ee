/*
 * The private PostgreSQL 15 of the tests (tests/pg_server, started by the
 * "pg" fixture of tests/CMakeLists.txt). Tests registered with PG
 * (sluice_add_test) get SLUICE_TEST_PGDIR (the server's state directory) and
 * SLUICE_TEST_PGSERVER (the path of tests/pg_server) in their environment.
 */
#ifndef SLUICE_TESTS_PG_ENV_H
#define SLUICE_TESTS_PG_ENV_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** The state directory ($SLUICE_TEST_PGDIR), or NULL if it is not set. */
static inline const char *
pg_test_dir(void)
{
	const char *dir = getenv("SLUICE_TEST_PGDIR");
	return dir != NULL && dir[0] != '\0' ? dir : NULL;
}

/**
 * The server's base URI, postgresql://postgres:PASSWORD@127.0.0.1:PORT
 * with no database (read from $SLUICE_TEST_PGDIR/uri into a static
 * buffer); NULL if the variable is unset or the file unreadable.
 */
static inline const char *
pg_test_uri(void)
{
	static char uri[512];
	const char *dir = pg_test_dir();
	if (dir == NULL)
		return NULL;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/uri", dir);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	char *line = fgets(uri, sizeof(uri), f);
	fclose(f);
	if (line == NULL)
		return NULL;
	uri[strcspn(uri, "\r\n")] = '\0';
	return uri[0] != '\0' ? uri : NULL;
}

/**
 * Write the URI of database `db` (`<uri>/<db>`) into `buf` of `size`
 * bytes; returns `buf`, or NULL if there is no server or it does not fit.
 */
static inline char *
pg_test_url(const char *db, char *buf, size_t size)
{
	const char *uri = pg_test_uri();
	if (uri == NULL)
		return NULL;
	/* Lengths first, not snprintf: gcc warns of the truncation a too
	 * small buffer would get once this is inlined with a constant size. */
	size_t nu = strlen(uri), nd = strlen(db);
	if (nu + 1 + nd >= size)
		return NULL;
	memcpy(buf, uri, nu);
	buf[nu] = '/';
	memcpy(buf + nu + 1, db, nd + 1);
	return buf;
}

/** Run `pg_server CMD $SLUICE_TEST_PGDIR`; 0 if it succeeded. */
static inline int
pg_test_server_cmd(const char *cmd)
{
	const char *server = getenv("SLUICE_TEST_PGSERVER");
	const char *dir = pg_test_dir();
	if (server == NULL || dir == NULL)
		return -1;
	char line[2 * PATH_MAX + 32];
	snprintf(line, sizeof(line), "'%s' %s '%s'", server, cmd, dir);
	return system(line) == 0 ? 0 : -1;
}

/**
 * Crash the server (pg_server crash: stop -m immediate, the data stays);
 * 0 on success. Register a test that calls it with SERIAL
 * (sluice_add_test), so no other test uses the server meanwhile.
 */
static inline int
pg_test_crash(void)
{
	return pg_test_server_cmd("crash");
}

/**
 * Start the crashed server again on the same data and port, waiting until
 * it accepts connections (pg_server restart); 0 on success.
 */
static inline int
pg_test_restart(void)
{
	return pg_test_server_cmd("restart");
}

#endif /* SLUICE_TESTS_PG_ENV_H */
