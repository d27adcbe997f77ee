/*
 * The S3 client (sluice/s3.h) against a real S3-compatible server on
 * loopback (s3rver behind a SigV4 check, tests/s3/server.js): PUT, GET in
 * memory and streamed (larger than the HTTP buffer), listing in pages
 * with keys that need escaping, prefixes, DELETE, COPY, a session token,
 * wrong credentials, a missing bucket, every allocation failed in turn,
 * a role assumed through the peer's STS (every allocation failed in turn
 * there too), the XML unescaping alone, and listings a broken server could send
 * (tests/http_server.py serving files as buckets).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_peer.h"
#include "sluice/alloc.h"
#include "sluice/s3.h"
#include "unit.h"

/** The data directory of the server (and its port file). */
static char dir[] = "/tmp/sluice-s3-XXXXXX";
/** The server's process, or 0. */
static pid_t server;
/** Its endpoint URL. */
static char endpoint[64];
/** The role the server's STS lets BASEKEY assume with ExternalId ext-1. */
#define ROLE "arn:aws:iam::000000000000:role/loader"

/** Stop the server (safe twice). */
static void
stop_server(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = 0;
	}
}

/** Start the server with bucket "data"; 0, or -1. */
static int
setup(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	char data[PATH_MAX], port[PATH_MAX];
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(port, sizeof(port), "%s/port", dir);
	server = fork();
	if (server < 0)
		return -1;
	if (server == 0) {
		/* STS: BASEKEY may assume the role (tests/s3/README.md). */
		setenv("S3PEER_STS_KEYS", "BASEKEY:base-secret", 1);
		setenv("S3PEER_STS_ROLE", ROLE, 1);
		setenv("S3PEER_STS_EXTERNAL_ID", "ext-1", 1);
		execlp(SLUICE_NODE, SLUICE_NODE, "--openssl-legacy-provider",
		       SLUICE_S3_SERVER, data, port, "data", (char *)NULL);
		_exit(127);
	}
	atexit(stop_server);
	for (int i = 0; i < 300; i++) {
		FILE *f = fopen(port, "r");
		int p = 0;
		if (f != NULL) {
			if (fscanf(f, "%d", &p) != 1)
				p = 0;
			fclose(f);
		}
		if (p > 0) {
			snprintf(endpoint, sizeof(endpoint),
			         "http://127.0.0.1:%d", p);
			return 0;
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return -1;
}

/** Stop the server and remove its files. */
static void
teardown(void)
{
	stop_server();
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		note("could not remove %s", dir);
}

/** A client of the test account (secret, token as given). */
static struct sl_s3 *
client(const char *secret, const char *token, uint32_t page)
{
	struct sl_s3_config c;
	sl_s3_config_init(&c);
	c.endpoint = endpoint;
	c.region = "us-east-1";
	c.access_key_id = "S3RVER";
	c.secret_access_key = secret;
	c.session_token = token;
	c.page_size = page;
	return sl_s3_new(&c);
}

TAP_CASE(xml_text)
{
	const char *in =
	        "a&amp;b&lt;c&gt;&quot;&apos;&#65;&#x42;&#xe9;&#x1F600;";
	char *t = sl_s3_xml_text(in, strlen(in));
	is_str(t, "a&b<c>\"'AB\xc3\xa9\xf0\x9f\x98\x80",
	       "entities and character references unescape");
	sl_free(t);
	t = sl_s3_xml_text("", 0);
	is_str(t, "", "empty text");
	sl_free(t);
	static const char *const bad[] = {"&foo;", "&#0;",       "&#xD800;",
	                                  "a&b",   "&#x110000;", "&#;"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = sl_s3_xml_text(bad[i], strlen(bad[i]));
		ok(t == NULL, "'%s' is refused", bad[i]);
		is_err(SL_EPARSE, "... as a parse error");
		sl_free(t);
	}
}

/** A response header of `h`, or "none". */
static const char *
header_or(const struct sl_http *h, const char *name)
{
	const char *v = sl_http_header(h, name);
	return v != NULL ? v : "none";
}

TAP_TASK_CASE(put_get)
{
	struct sl_s3 *s3 = client("S3RVER", NULL, 0);
	if (!ok(s3 != NULL, "a client"))
		return;
	const char *key = "dir/a b&c+d'\xc3\xa9.txt";
	const char body[] = "hello\nS3\n";
	ok(sl_s3_put(s3, "data", key, body, sizeof(body) - 1) == 0,
	   "PUT a key that needs encoding");
	char *got = NULL;
	size_t len = 0;
	is_int(sl_s3_get_all(s3, "data", key, 1024, &got, &len), 1,
	       "GET it into memory");
	ok(len == sizeof(body) - 1 && got != NULL &&
	           memcmp(got, body, len) == 0,
	   "... the same bytes");
	sl_free(got);
	is_int(sl_s3_get_all(s3, "data", "dir/none", 1024, &got, &len), 0,
	       "a missing key is 0, not an error");
	ok(got == NULL, "... with no data");
	is_int(sl_s3_get_all(s3, "nope", "k", 1024, &got, &len), -1,
	       "a missing bucket is an error");
	ok(strstr(unit_errmsg(), "NoSuchBucket") != NULL, "... with S3's code");
	is_int(sl_s3_get_all(s3, "data", key, 4, &got, &len), -1,
	       "an object over the limit fails");
	is_err(SL_ELIMIT, "... with SL_ELIMIT");
	ok(sl_s3_put(s3, "data", "dir/empty", NULL, 0) == 0,
	   "PUT an empty object");
	is_int(sl_s3_get_all(s3, "data", "dir/empty", 16, &got, &len), 1,
	       "GET it");
	ok(len == 0 && got != NULL && got[0] == '\0',
	   "... empty and NUL-terminated");
	sl_free(got);

	/* 3 MiB: more than the 1 MiB body buffer, read as a stream. */
	size_t big = (size_t)3 << 20;
	char *data = sl_malloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + (i * 7 + i / 1000) % 26);
	ok(sl_s3_put(s3, "data", "big.bin", data, big) == 0, "PUT 3 MiB");
	struct sl_http *h = sl_s3_get(s3, "data", "big.bin");
	ok(h != NULL, "GET it as a stream");
	size_t off = 0;
	bool same = h != NULL;
	char buf[65536];
	for (;;) {
		ssize_t n = h != NULL ? sl_http_read(h, buf, sizeof(buf)) : -1;
		if (n <= 0) {
			if (n < 0 && h != NULL)
				printf("# the read at byte %zu failed: %s\n",
				       off, unit_errmsg());
			same = same && n == 0;
			break;
		}
		if (off + (size_t)n > big ||
		    memcmp(buf, data + off, (size_t)n) != 0) {
			if (same)
				printf("# %zd bytes at byte %zu differ\n", n,
				       off);
			same = false;
		}
		off += (size_t)n;
	}
	if (same && off != big)
		printf("# the body ended at byte %zu of %zu, without an "
		       "error (received %llu, paused %lu, Content-Length %s, "
		       "Transfer-Encoding %s, Connection %s)\n",
		       off, big, sl_http_bytes(h), sl_http_pauses(h),
		       header_or(h, "Content-Length"),
		       header_or(h, "Transfer-Encoding"),
		       header_or(h, "Connection"));
	ok(same && off == big, "... the same 3 MiB in order");
	sl_http_close(h);
	sl_free(data);
	/* Two GETs at once: started, then waited for in turn. */
	struct sl_http *h1 = sl_s3_get_start(s3, "data", key);
	struct sl_http *h2 = sl_s3_get_start(s3, "data", "nothing/here");
	ok(h1 != NULL && h2 != NULL, "two GETs started at once");
	ok(h1 != NULL && sl_s3_get_wait(h1, "data", key) == 0 &&
	           sl_http_read(h1, buf, sizeof(buf)) == sizeof(body) - 1 &&
	           memcmp(buf, body, sizeof(body) - 1) == 0,
	   "... the first gives its object");
	ok(h2 != NULL && sl_s3_get_wait(h2, "data", "nothing/here") == -1,
	   "... the second, of a missing key, fails when waited for");
	ok(strstr(unit_errmsg(), "GET s3://data/nothing/here: HTTP 404") !=
	           NULL,
	   "... naming it");
	sl_http_close(h1);
	sl_http_close(h2);
	h = sl_s3_get(s3, "data", "nothing/here");
	ok(h == NULL, "GET of a missing key fails");
	ok(strstr(unit_errmsg(),
	          "GET s3://data/nothing/here: HTTP 404 (NoSuchKey") != NULL,
	   "... naming the key, the status and S3's code");
	sl_s3_free(s3);
}

TAP_TASK_CASE(list_pages)
{
	struct sl_s3 *s3 = client("S3RVER", NULL, 7);
	if (!ok(s3 != NULL, "a client with 7 keys a page"))
		return;
	char key[64];
	bool put = true;
	for (int i = 0; i < 25; i++) {
		snprintf(key, sizeof(key), "p/%02d%s", i,
		         i == 3   ? "<&>\"'"
		         : i == 4 ? " \xc3\xa9"
		                  : "");
		put = put && sl_s3_put(s3, "data", key, "x", 1) == 0;
	}
	ok(put, "PUT 25 objects under p/");
	ok(sl_s3_put(s3, "data", "q/other", "yy", 2) == 0, "and one under q/");
	struct sl_s3_page page = {0};
	char *token = NULL;
	int pages = 0, n = 0;
	bool order = true, sizes = true;
	do {
		if (sl_s3_list(s3, "data", "p/", token, &page) != 0)
			break;
		pages++;
		sl_free(token);
		token = page.next_token;
		page.next_token = NULL;
		for (size_t i = 0; i < page.n; i++, n++) {
			snprintf(key, sizeof(key), "p/%02d%s", n,
			         n == 3   ? "<&>\"'"
			         : n == 4 ? " \xc3\xa9"
			                  : "");
			if (strcmp(page.objs[i].key, key) != 0) {
				note("key %d is '%s'", n, page.objs[i].key);
				order = false;
			}
			sizes = sizes && page.objs[i].size == 1;
		}
	} while (token != NULL && pages < 10);
	sl_free(token);
	is_int(pages, 4, "25 keys come in 4 pages of 7");
	is_int(n, 25, "... every key once");
	ok(order, "... in order, unescaped");
	ok(sizes, "... with their sizes");
	ok(sl_s3_list(s3, "data", "q/", NULL, &page) == 0 && page.n == 1 &&
	           strcmp(page.objs[0].key, "q/other") == 0 &&
	           page.objs[0].size == 2 && page.next_token == NULL,
	   "a prefix lists only its keys");
	ok(sl_s3_list(s3, "data", "zzz/", NULL, &page) == 0 && page.n == 0,
	   "an empty prefix lists nothing");
	sl_s3_page_destroy(&page);
	ok(sl_s3_list(s3, "nope", NULL, NULL, &page) == -1,
	   "a missing bucket fails");
	ok(strstr(unit_errmsg(), "s3://nope: HTTP 404 (NoSuchBucket") != NULL,
	   "... naming it and S3's code");
	sl_s3_free(s3);
}

TAP_TASK_CASE(copy_delete)
{
	struct sl_s3 *s3 = client("S3RVER", NULL, 0);
	if (!ok(s3 != NULL, "a client"))
		return;
	ok(sl_s3_put(s3, "data", "c/src one", "abc", 3) == 0, "PUT a source");
	ok(sl_s3_copy(s3, "data", "c/src one", "c/arch/dst & one") == 0,
	   "COPY it to a key that needs encoding");
	char *got = NULL;
	size_t len = 0;
	ok(sl_s3_get_all(s3, "data", "c/arch/dst & one", 16, &got, &len) == 1 &&
	           len == 3 && memcmp(got, "abc", 3) == 0,
	   "... the copy has the bytes");
	sl_free(got);
	ok(sl_s3_delete(s3, "data", "c/src one") == 0, "DELETE the source");
	is_int(sl_s3_get_all(s3, "data", "c/src one", 16, &got, &len), 0,
	       "... it is gone");
	ok(sl_s3_delete(s3, "data", "c/src one") == 0,
	   "DELETE of a missing key is no error");
	ok(sl_s3_copy(s3, "data", "c/none", "c/x") == -1,
	   "COPY of a missing key fails");
	ok(strstr(unit_errmsg(), "NoSuchKey") != NULL, "... with S3's code");
	sl_s3_free(s3);
}

TAP_TASK_CASE(credentials)
{
	struct sl_s3 *s3 = client("S3RVER", "a-session-token", 0);
	struct sl_s3_page page = {0};
	ok(s3 != NULL && sl_s3_list(s3, "data", NULL, NULL, &page) == 0,
	   "a session token is sent, signed");
	sl_s3_page_destroy(&page);
	sl_s3_free(s3);

	s3 = client("wrong-secret-31", NULL, 0);
	ok(s3 != NULL, "a client with a wrong secret");
	ok(sl_s3_put(s3, "data", "w", "x", 1) == -1, "... cannot PUT");
	is_err(SL_EIO, "... an I/O error");
	ok(strstr(unit_errmsg(),
	          "PUT s3://data/w: HTTP 403 (SignatureDoesNotMatch") != NULL,
	   "... naming the status and S3's code");
	ok(strstr(unit_errmsg(), "wrong-secret-31") == NULL,
	   "... not the secret");
	ok(sl_s3_list(s3, "data", NULL, NULL, &page) == -1, "... cannot list");
	sl_s3_free(s3);

	struct sl_s3_config c;
	sl_s3_config_init(&c);
	c.endpoint = endpoint;
	c.access_key_id = "id";
	ok(sl_s3_new(&c) == NULL, "a key id without a secret is refused");
	ok(strstr(unit_errmsg(), "no AWS credentials") != NULL,
	   "... saying so");
	c.secret_access_key = "s";
	c.endpoint = "ftp://x";
	ok(sl_s3_new(&c) == NULL, "an ftp endpoint is refused");
	is_err(SL_EINVAL, "... as invalid");
	c.endpoint = endpoint;
	c.region = "us east";
	ok(sl_s3_new(&c) == NULL, "a bad region is refused");
	c.region = NULL;
	setenv("AWS_REGION", "eu-west-3", 1);
	s3 = sl_s3_new(&c);
	is_str(s3 != NULL ? sl_s3_region(s3) : "", "eu-west-3",
	       "the region comes from AWS_REGION");
	sl_s3_free(s3);
	unsetenv("AWS_REGION");
	c.endpoint = NULL;
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9/", 1);
	s3 = sl_s3_new(&c);
	is_str(s3 != NULL ? sl_s3_endpoint(s3) : "", "http://127.0.0.1:9",
	       "the endpoint comes from AWS_ENDPOINT_URL");
	ok(s3 != NULL && sl_s3_put(s3, "data", "k", "x", 1) == -1,
	   "a refused connection fails");
	ok(strstr(unit_errmsg(), "127.0.0.1") != NULL,
	   "... naming the endpoint");
	sl_s3_free(s3);
	unsetenv("AWS_ENDPOINT_URL");
}

/**
 * A PUT, a listing, a streamed GET and a DELETE on a fresh loop, with the
 * run number at `arg`.
 */
static int
fault_body(void *arg)
{
	/* A key per run: s3rver can fail a key whose PUT was cut off. */
	char key[64], prefix[32];
	snprintf(prefix, sizeof(prefix), "f/%ld/", *(long *)arg);
	snprintf(key, sizeof(key), "%sa&b", prefix);
	struct sl_s3 *s3 = client("S3RVER", "tok", 2);
	if (s3 == NULL)
		return -1;
	struct sl_s3_page page = {0};
	char buf[64];
	ssize_t n = -1;
	struct sl_http *h = NULL;
	int rc = sl_s3_put(s3, "data", key, "0123456789", 10);
	if (rc == 0)
		rc = sl_s3_list(s3, "data", prefix, NULL, &page);
	if (rc == 0 && (page.n != 1 || strcmp(page.objs[0].key, key) != 0)) {
		sl_diag_set(SL_EINVAL, "listed %zu keys", page.n);
		rc = -1;
	}
	if (rc == 0 && (h = sl_s3_get(s3, "data", key)) == NULL)
		rc = -1;
	if (rc == 0 && (n = sl_http_read(h, buf, sizeof(buf))) != 10) {
		if (n >= 0)
			sl_diag_set(SL_EINVAL, "read %zd bytes", n);
		rc = -1;
	}
	sl_http_close(h);
	if (rc == 0)
		rc = sl_s3_delete(s3, "data", key);
	sl_s3_page_destroy(&page);
	sl_s3_free(s3);
	return rc;
}

/**
 * Run `body` (a task of `name`) with every allocation (sluice's and
 * libcurl's) failed in turn, until a run meets no fault, and check each
 * failing run failed cleanly.
 */
static void
fail_each_allocation(const char *name, int (*body)(void *))
{
	int runs = 0, clean = 1, last_ok = 0, oom = 0;
	for (long k = 0; k < 20000; k++) {
		sl_diag_clear(sl_diag_get());
		long before = sl_alloc_faults();
		sl_alloc_fail_after(k);
		int rc = run_task(name, body, &k);
		sl_alloc_fail_after(-1);
		runs++;
		if (sl_alloc_faults() == before) {
			last_ok = rc == 0;
			if (rc != 0)
				note("the last run failed: %s", unit_errmsg());
			break;
		}
		if (rc == 0)
			continue;
		if (sl_diag_code() == SL_EOOM)
			oom++;
		else if (sl_diag_code() != SL_EIO &&
		         sl_diag_code() != SL_EINVAL) {
			clean = 0;
			note("run %ld failed with %s: %s", k,
			     sl_errcode_name(sl_diag_code()), unit_errmsg());
		}
	}
	ok(runs > 20, "every allocation point was failed once (%d runs)", runs);
	ok(oom > 10, "%d failing runs reported EOOM", oom);
	ok(clean, "each failing run failed cleanly (EOOM, or EIO or EINVAL "
	          "where libcurl reports the failure as a transfer error)");
	ok(last_ok, "the first run with no fault left succeeded");
}

/** Every allocation of a list, PUT, GET and DELETE failed in turn. */
TAP_CASE(faults)
{
	fail_each_allocation("fault", fault_body);
}

static const char *full_err(void);

/** A client that assumes ROLE with BASEKEY, with ExternalId `ext`. */
static struct sl_s3 *
role_client(const char *ext)
{
	struct sl_s3_config c;
	sl_s3_config_init(&c);
	c.endpoint = endpoint;
	c.sts_endpoint = endpoint;
	c.region = "us-east-1";
	c.access_key_id = "BASEKEY";
	c.secret_access_key = "base-secret";
	c.assume_role_arn = ROLE;
	c.assume_role_external_id = ext;
	return sl_s3_new(&c);
}

TAP_TASK_CASE(role)
{
	struct sl_s3 *s3 = role_client("ext-1");
	if (!ok(s3 != NULL, "a client with a role"))
		return;
	is_int(sl_s3_assumed(s3), 0, "... assumes it only when needed");
	ok(sl_s3_put(s3, "data", "role/x", "hello", 5) == 0,
	   "a PUT with the role's credentials");
	char *data = NULL;
	size_t len = 0;
	is_int(sl_s3_get_all(s3, "data", "role/x", 100, &data, &len), 1,
	       "... read back");
	ok(len == 5 && memcmp(data, "hello", 5) == 0, "... the same bytes");
	sl_free(data);
	is_int(sl_s3_assumed(s3), 1, "... one AssumeRole for both");
	ok(sl_s3_delete(s3, "data", "role/x") == 0, "a DELETE");
	sl_s3_free(s3);
	s3 = role_client("wrong");
	ok(s3 != NULL && sl_s3_put(s3, "data", "role/y", "x", 1) == -1,
	   "a wrong ExternalId fails the request");
	is_err(SL_EIO, "... as an I/O error");
	ok(strstr(full_err(), "AssumeRole " ROLE) != NULL &&
	           strstr(full_err(), "AccessDenied") != NULL,
	   "... naming the role and STS's code: %s", full_err());
	sl_s3_free(s3);
	struct sl_s3_config c;
	sl_s3_config_init(&c);
	c.access_key_id = "BASEKEY";
	c.secret_access_key = "base-secret";
	c.assume_role_arn = "loader";
	ok(sl_s3_new(&c) == NULL, "a role that is not an ARN is refused");
	is_err(SL_EINVAL, "... as invalid");
	c.assume_role_arn = ROLE;
	c.sts_endpoint = "ftp://x";
	ok(sl_s3_new(&c) == NULL, "an STS endpoint that is not http(s) too");
	is_err(SL_EINVAL, "... as invalid");
}

/** A PUT with the role's credentials (AssumeRole first) on a fresh loop. */
static int
role_fault_body(void *arg)
{
	char key[64];
	snprintf(key, sizeof(key), "rf/%ld", *(long *)arg);
	struct sl_s3 *s3 = role_client("ext-1");
	if (s3 == NULL)
		return -1;
	int rc = sl_s3_put(s3, "data", key, "0123456789", 10);
	sl_s3_free(s3);
	return rc;
}

/** Every allocation of a client with a role failed in turn. */
TAP_CASE(role_faults)
{
	fail_each_allocation("role_fault", role_fault_body);
}

/** Write `text` to file `name` in the test directory; its path. */
static const char *
write_file(const char *name, const char *text)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

TAP_TASK_CASE(profiles)
{
	setenv("AWS_SHARED_CREDENTIALS_FILE",
	       write_file("credentials",
	                  "# comment\n[default]\naws_access_key_id = NOBODY\n"
	                  "aws_secret_access_key=x\n\n[good]\r\n"
	                  "  aws_access_key_id = S3RVER \r\n"
	                  "aws_secret_access_key = S3RVER\r\n"
	                  "[bad]\naws_access_key_id = S3RVER\n"
	                  "aws_secret_access_key = profile-secret-55\n"),
	       1);
	setenv("AWS_CONFIG_FILE",
	       write_file("config", "[default]\nregion = ap-south-1\n"
	                            "[profile good]\nregion = eu-north-1\n"),
	       1);
	struct sl_s3_config c;
	sl_s3_config_init(&c);
	c.endpoint = endpoint;
	c.profile = "good";
	struct sl_s3 *s3 = sl_s3_new(&c);
	ok(s3 != NULL, "a client of profile 'good'");
	is_str(s3 != NULL ? sl_s3_region(s3) : "", "eu-north-1",
	       "... its region from the config file");
	struct sl_s3_page page = {0};
	ok(s3 != NULL && sl_s3_list(s3, "data", NULL, NULL, &page) == 0,
	   "... its keys are right (the signature checks)");
	sl_s3_page_destroy(&page);
	sl_s3_free(s3);
	setenv("AWS_ACCESS_KEY_ID", "NOBODY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "x", 1);
	s3 = sl_s3_new(&c);
	ok(s3 != NULL && sl_s3_list(s3, "data", NULL, NULL, &page) == 0,
	   "a profile named replaces the environment's keys");
	sl_s3_free(s3);
	c.profile = NULL;
	s3 = sl_s3_new(&c);
	ok(s3 != NULL && sl_s3_list(s3, "data", NULL, NULL, &page) == -1 &&
	           strstr(unit_errmsg(), "InvalidAccessKeyId") != NULL,
	   "no profile named: the environment's keys come first");
	sl_s3_free(s3);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("AWS_PROFILE", "bad", 1);
	s3 = sl_s3_new(&c);
	is_str(s3 != NULL ? sl_s3_region(s3) : "", "us-east-1",
	       "AWS_PROFILE picks a profile; no region in it: us-east-1");
	ok(s3 != NULL && sl_s3_list(s3, "data", NULL, NULL, &page) == -1 &&
	           strstr(unit_errmsg(), "SignatureDoesNotMatch") != NULL,
	   "... its wrong secret fails the signature");
	ok(strstr(unit_errmsg(), "profile-secret-55") == NULL, "... not shown");
	sl_s3_free(s3);
	unsetenv("AWS_PROFILE");
	s3 = sl_s3_new(&c);
	is_str(s3 != NULL ? sl_s3_region(s3) : "", "ap-south-1",
	       "no profile: 'default', region from its config section");
	sl_s3_free(s3);
	c.profile = "missing";
	ok(sl_s3_new(&c) == NULL, "a profile that is in no file fails");
	ok(strstr(unit_errmsg(), "AWS profile 'missing' is in neither") != NULL,
	   "... saying so");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
}

/** The current error with its causes, as the top level prints it. */
static const char *
full_err(void)
{
	static char buf[2048];
	struct sl_error *e = sl_diag_last();
	buf[0] = '\0';
	if (e != NULL)
		sl_error_format(e, buf, sizeof(buf));
	return buf;
}

/** Listings that are not right: each a clear error, none a loop. */
TAP_TASK_CASE(hostile_listings)
{
	char root[256];
	snprintf(root, sizeof(root), "%s/hostile", dir);
	mkdir(root, 0700);
	static const char *const files[][2] = {
	        {"same", "<ListBucketResult><IsTruncated>true</IsTruncated>"
	                 "<NextContinuationToken>abc</NextContinuationToken>"
	                 "<Contents><Key>k</Key><Size>1</Size></Contents>"
	                 "</ListBucketResult>"},
	        {"notoken", "<ListBucketResult><IsTruncated>true</IsTruncated>"
	                    "</ListBucketResult>"},
	        {"html", "<html>a proxy's page</html>"},
	        {"badkey", "<ListBucketResult><Contents><Key>a&bogus;b</Key>"
	                   "</Contents></ListBucketResult>"},
	        {"badsize", "<ListBucketResult><Contents><Key>a</Key>"
	                    "<Size>12x</Size></Contents></ListBucketResult>"},
	        {"nokey", "<ListBucketResult><Contents><Size>1</Size>"
	                  "</Contents></ListBucketResult>"},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char name[64];
		snprintf(name, sizeof(name), "hostile/%s", files[i][0]);
		write_file(name, files[i][1]);
	}
	int port = http_peer_start(SLUICE_HTTP_SERVER, root);
	if (!ok(port > 0, "the HTTP server serves the files as buckets"))
		return;
	char ep[64];
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/files", port);
	struct sl_s3_config c;
	sl_s3_config_init(&c);
	c.endpoint = ep;
	c.access_key_id = "id";
	c.secret_access_key = "secret";
	struct sl_s3 *s3 = sl_s3_new(&c);
	struct sl_s3_page page = {0};
	ok(s3 != NULL && sl_s3_list(s3, "same", NULL, NULL, &page) == 0 &&
	           page.n == 1 && page.next_token != NULL,
	   "a page with a continuation token");
	char *token = page.next_token;
	page.next_token = NULL;
	ok(sl_s3_list(s3, "same", NULL, token, &page) == -1,
	   "the same token again fails");
	sl_free(token);
	ok(strstr(unit_errmsg(), "same continuation token again") != NULL,
	   "... saying the listing would not end");
	static const char *const bad[][2] = {
	        {"notoken", "truncated but has no NextContinuationToken"},
	        {"html", "not a ListObjectsV2 result"},
	        {"badkey", "bad character reference '&bogus;'"},
	        {"badsize", "Size is not a number"},
	        {"nokey", "has no Key"},
	};
	for (size_t i = 0; s3 != NULL && i < sizeof(bad) / sizeof(bad[0]);
	     i++) {
		ok(sl_s3_list(s3, bad[i][0], NULL, NULL, &page) == -1 &&
		           page.n == 0,
		   "bucket '%s' fails, leaving the page empty", bad[i][0]);
		is_err(SL_EPARSE, "... a parse error");
		ok(strstr(full_err(), bad[i][1]) != NULL &&
		           strstr(full_err(), bad[i][0]) != NULL,
		   "... '%s', naming the bucket", bad[i][1]);
	}
	sl_s3_page_destroy(&page);
	sl_s3_free(s3);
	http_peer_stop();
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	return tap_main_fixture(argc, argv, setup, teardown);
}
