/*
 * Libraries opened on first use (src/base/dl.c): the loader itself
 * (missing library, missing symbol, a real one, threads racing to load),
 * the sluice binary linking none of libpq, libcurl, OpenSSL, libsqlite3,
 * libzstd and libbz2, mapping none for `--version` and only libsqlite3 for
 * a SQLite run, this process mapping libpq only once a PostgreSQL
 * connection opens, libcurl only once HTTP is used, OpenSSL only once a
 * digest or TLS is needed, libsqlite3 only once a SQLite connection opens
 * and libzstd and libbz2 only once a decompressor needs them, and the
 * message when a library cannot be found.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/dl.h"
#include "db/pg/pq_dl.h"
#include "db/sqlite_dl.h"
#include "pg_env.h"
#include "rt/curl_dl.h"
#include "rt/ssl_dl.h"
#include "sluice/alloc.h"
#include "sluice/db.h"
#include "sluice/http.h"
#include "sluice/httpd.h"
#include "sluice/pipeline_file.h"
#include "unit.h"
#include "value/compress_dl.h"
#include "value/decompress.h"

/** Whether a mapping of this process names `needle` (/proc/self/maps). */
static bool
mapped(const char *needle)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		bail_out("cannot read /proc/self/maps");
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

/** Run `cmd` with sh, its output (stdout and stderr) in a malloc'd string. */
static char *
run_output(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		bail_out("cannot run %s", cmd);
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	size_t n;
	while (out != NULL && (n = fread(out + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *more = realloc(out, cap * 2);
			if (more == NULL)
				free(out);
			out = more;
			cap *= 2;
		}
	}
	pclose(p);
	if (out == NULL)
		bail_out("out of memory reading the output of %s", cmd);
	out[len] = '\0';
	return out;
}

/** Slot for zlib's zlibVersion(). */
static __typeof__(&zlibVersion) t_zlib_version;
/** Slot for zlib's crc32(). */
static __typeof__(&crc32) t_crc32;
/** Slot for a function zlib does not have. */
static void (*t_missing)(void);

/** zlib's two functions. */
static const struct sl_dl_sym zlib_syms[] = {
        {"zlibVersion", &t_zlib_version},
        {"crc32", &t_crc32},
};
/** Two real functions and a made-up one. */
static const struct sl_dl_sym bad_syms[] = {
        {"zlibVersion", &t_zlib_version},
        {"crc32", &t_crc32},
        {"sl_no_such_function", &t_missing},
};

TAP_CASE(missing_library)
{
	static struct sl_dl_lib lib =
	        SL_DL_LIB("libsluice-no-such.so.9", "testing", zlib_syms);
	for (int i = 0; i < 2; i++) {
		is_int(sl_dl_load(&lib), -1, "a missing library fails (%d)", i);
		is_err(SL_ESYSTEM, "with SL_ESYSTEM");
		const char *want = "cannot load libsluice-no-such.so.9 "
		                   "(needed for testing): ";
		ok(strncmp(unit_errmsg(), want, strlen(want)) == 0 &&
		           strstr(unit_errmsg(), "libsluice-no-such.so.9: ") !=
		                   NULL,
		   "naming the library, its use and dlerror(): %s",
		   unit_errmsg());
	}
	ok(t_zlib_version == NULL && t_crc32 == NULL, "no slot is filled");
}

TAP_CASE(missing_symbol)
{
	static struct sl_dl_lib lib =
	        SL_DL_LIB("libz.so.1", "testing", bad_syms);
	is_int(sl_dl_load(&lib), -1, "a missing function fails the load");
	ok(strstr(unit_errmsg(), "cannot load libz.so.1 (needed for "
	                         "testing): ") != NULL &&
	           strstr(unit_errmsg(), "sl_no_such_function") != NULL,
	   "naming the function: %s", unit_errmsg());
	ok(t_zlib_version == NULL && t_crc32 == NULL && t_missing == NULL,
	   "the slots filled before it are emptied again");
	is_int(sl_dl_load(&lib), -1, "and it stays failed");
}

/** Load the library `arg` (a struct sl_dl_lib); its result as a pointer. */
static void *
load_thread(void *arg)
{
	return (void *)(intptr_t)sl_dl_load(arg);
}

TAP_CASE(real_library_threads)
{
	static struct sl_dl_lib lib =
	        SL_DL_LIB("libz.so.1", "testing", zlib_syms);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, load_thread, &lib) != 0)
			bail_out("pthread_create");
	int fails = 0;
	for (int i = 0; i < 4; i++) {
		void *rc;
		pthread_join(th[i], &rc);
		fails += rc != NULL;
	}
	is_int(fails, 0, "four threads loading at once all succeed");
	ok(t_zlib_version != NULL && t_crc32 != NULL, "the slots are filled");
	if (t_zlib_version != NULL)
		is_str(t_zlib_version(), zlibVersion(),
		       "and call the library's functions");
	if (t_crc32 != NULL)
		ok(t_crc32(0, (const Bytef *)"abc", 3) ==
		           crc32(0, (const Bytef *)"abc", 3),
		   "with their arguments");
	is_int(sl_dl_load(&lib), 0, "a later load is a no-op");
	t_zlib_version = NULL;
	t_crc32 = NULL;
}

TAP_CASE(binary_links_neither)
{
	char *out = run_output("ldd " SLUICE_BIN " 2>&1");
	ok(strstr(out, "libuv") != NULL, "ldd lists libuv");
	const char *gone[] = {"libpq",      "libcurl", "gnutls", "ldap",
	                      "krb5",       "gssapi",  "libssl", "libcrypto",
	                      "libsqlite3", "libzstd", "libbz2"};
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		ok(strstr(out, gone[i]) == NULL, "ldd sluice lists no %s",
		   gone[i]);
	free(out);
}

TAP_CASE(binary_maps_neither)
{
	char *out = run_output("LD_DEBUG=files " SLUICE_BIN " --version 2>&1");
	ok(strstr(out, "libuv") != NULL,
	   "LD_DEBUG=files shows the libraries sluice --version loads");
	ok(strstr(out, "libsqlite3") == NULL &&
	           strstr(out, "libzstd") == NULL &&
	           strstr(out, "libbz2") == NULL,
	   "sluice --version loads none of libsqlite3, libzstd and libbz2");
	ok(strstr(out, "libpq") == NULL && strstr(out, "libcurl") == NULL,
	   "sluice --version loads neither libpq nor libcurl");
	ok(strstr(out, "libssl") == NULL && strstr(out, "libcrypto") == NULL,
	   "nor libssl, nor libcrypto");
	free(out);

	char dir[] = "/tmp/sluice-dl-XXXXXX";
	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp");
	char cmd[512];
	snprintf(
	        cmd, sizeof(cmd),
	        "cd %s && printf 'id,name\\n1,Ada\\n2,Grace\\n' >p.csv && "
	        "printf -- '- implementation: file\\n  factory: local\\n"
	        "  arguments: {globs: [p.csv]}\\n"
	        "- implementation: interpreter\\n  arguments:\\n"
	        "    interpretations:\\n      - type: source_node\\n"
	        "        node_type: Person\\n        key: {id: !jmespath id}\\n"
	        "' >p.yaml && LD_DEBUG=files %s run p.yaml --target "
	        "sqlite:g.db --no-progress 2>&1; echo rc=$?",
	        dir, SLUICE_BIN);
	out = run_output(cmd);
	ok(strstr(out, "rc=0") != NULL && strstr(out, "libsqlite3") != NULL,
	   "a run into SQLite succeeds, loading libsqlite3");
	ok(strstr(out, "libpq") == NULL && strstr(out, "libcurl") == NULL,
	   "and loads neither libpq nor libcurl");
	ok(strstr(out, "libssl") == NULL && strstr(out, "libcrypto") == NULL,
	   "nor OpenSSL");
	free(out);
	snprintf(cmd, sizeof(cmd),
	         "cd %s && LD_DEBUG=files %s run p.yaml --target null: "
	         "--no-progress 2>&1; echo rc=$?",
	         dir, SLUICE_BIN);
	out = run_output(cmd);
	ok(strstr(out, "rc=0") != NULL && strstr(out, "libuv") != NULL,
	   "a run into null: succeeds");
	ok(strstr(out, "libsqlite3") == NULL, "and does not load libsqlite3");
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		bail_out("cannot remove %s", dir);
}

/** The error names the library and its use: it holds `want`. */
static void
names_library(const char *want)
{
	ok(strstr(unit_errmsg(), want) != NULL,
	   "with the message naming the library: %s", unit_errmsg());
}

TAP_TASK_CASE(missing_libpq)
{
	const char *real = sl_pq_lib.soname;
	if (atomic_load(&sl_pq_lib.state) != 0) {
		note("skipped: libpq is loaded already");
		return;
	}
	/* The test's hook: another SONAME before the first load. */
	sl_pq_lib.soname = "libpq-no-such.so.5";
	struct sl_db_conn *c =
	        sl_db_conn_open("postgresql://u@127.0.0.1:1/db", NULL);
	ok(c == NULL, "a PostgreSQL connection without libpq fails");
	names_library("cannot load libpq-no-such.so.5 (needed for "
	              "PostgreSQL): ");
	ok(!mapped("libpq"), "nothing of libpq is mapped");
	sl_pq_lib.soname = real;
	atomic_store(&sl_pq_lib.state, 0);
}

TAP_CASE(missing_libcurl)
{
	const char *real = sl_curl_lib.soname;
	if (atomic_load(&sl_curl_lib.state) != 0) {
		note("skipped: libcurl is loaded already");
		return;
	}
	sl_curl_lib.soname = "libcurl-no-such.so.4";
	char *u = sl_http_resolve("http://h/a/", "b");
	ok(u == NULL, "HTTP without libcurl fails");
	names_library("cannot load libcurl-no-such.so.4 (needed "
	              "for HTTP and S3): ");
	sl_curl_lib.soname = real;
	atomic_store(&sl_curl_lib.state, 0);
	sl_free(u);
}

/** Write `text` to a new temporary file named into `path` (a template). */
static void
temp_file(char *path, const char *text)
{
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		bail_out("cannot write %s", path);
	close(fd);
}

TAP_TASK_CASE(missing_openssl)
{
	if (atomic_load(&sl_crypto_lib.state) != 0 ||
	    atomic_load(&sl_ssl_lib.state) != 0) {
		note("skipped: OpenSSL is loaded already");
		return;
	}
	ok(!mapped("libcrypto.so") && !mapped("libssl.so"),
	   "OpenSSL is not mapped at first");
	char path[] = "/tmp/sluice-dl-XXXXXX";
	temp_file(path, "abc");
	const char *real = sl_crypto_lib.soname;
	sl_crypto_lib.soname = "libcrypto-no-such.so.3";
	char ns[256];
	ok(sl_pipeline_file_namespace(path, ns, sizeof(ns)) == -1,
	   "a pipeline's namespace hash without libcrypto fails");
	names_library("cannot load libcrypto-no-such.so.3 (needed "
	              "for SHA-256, HMAC and TLS): ");
	ok(!mapped("libcrypto.so"), "nothing of libcrypto is mapped");
	sl_crypto_lib.soname = real;
	atomic_store(&sl_crypto_lib.state, 0);

	real = sl_ssl_lib.soname;
	sl_ssl_lib.soname = "libssl-no-such.so.3";
	struct sl_httpd_opts o;
	sl_httpd_opts_init(&o);
	o.address = "127.0.0.1";
	o.port = 0;
	o.certfile = path;
	struct sl_httpd *s = sl_httpd_open(&o, NULL, NULL);
	ok(s == NULL, "a TLS server without libssl fails");
	names_library("cannot load libssl-no-such.so.3 (needed "
	              "for TLS): ");
	sl_httpd_close(s);
	sl_ssl_lib.soname = real;
	atomic_store(&sl_ssl_lib.state, 0);
	ok(!mapped("libssl.so"), "nothing of libssl is mapped");
	unlink(path);
}

TAP_CASE(openssl_on_use)
{
	char path[] = "/tmp/sluice-dl-XXXXXX";
	temp_file(path, "abc");
	char ns[256];
	ok(sl_pipeline_file_namespace(path, ns, sizeof(ns)) == 0,
	   "a pipeline's namespace is hashed (%s)", unit_errmsg());
	const char *hex = strrchr(ns, '-');
	/* SHA-256("abc"), FIPS 180-2's first example. */
	is_str(hex != NULL ? hex + 1 : ns,
	       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"
	       "d",
	       "through libcrypto, which gives SHA-256");
	ok(mapped("libcrypto.so.3"), "libcrypto.so.3 is mapped");
	unlink(path);
	is_int(sl_ssl_load(), 0, "libssl loads (%s)", unit_errmsg());
	ok(mapped("libssl.so.3"), "and is mapped");
}

TAP_TASK_CASE(missing_libsqlite)
{
	const char *real = sl_sqlite_lib.soname;
	if (atomic_load(&sl_sqlite_lib.state) != 0) {
		note("skipped: libsqlite3 is loaded already");
		return;
	}
	ok(!mapped("libsqlite3"), "libsqlite3 is not mapped at first");
	sl_sqlite_lib.soname = "libsqlite3-no-such.so.0";
	struct sl_db_conn *c = sl_db_conn_open("sqlite::memory:", NULL);
	ok(c == NULL, "a SQLite connection without libsqlite3 fails");
	names_library("cannot load libsqlite3-no-such.so.0 (needed for "
	              "SQLite): ");
	ok(!mapped("libsqlite3"), "nothing of libsqlite3 is mapped");
	sl_sqlite_lib.soname = real;
	atomic_store(&sl_sqlite_lib.state, 0);
}

TAP_CASE(missing_zstd_bz2)
{
	struct sl_dl_lib *libs[] = {&sl_zstd_lib, &sl_bz2_lib};
	enum sl_compression kinds[] = {SL_COMPRESSION_ZSTD,
	                               SL_COMPRESSION_BZIP2};
	const char *fake[] = {"libzstd-no-such.so.1", "libbz2-no-such.so.1.0"};
	const char *want[] = {"cannot load libzstd-no-such.so.1 (needed for "
	                      "zstd decompression): ",
	                      "cannot load libbz2-no-such.so.1.0 (needed for "
	                      "bzip2 decompression): "};
	for (int i = 0; i < 2; i++) {
		if (atomic_load(&libs[i]->state) != 0) {
			note("skipped: %s is loaded already", libs[i]->soname);
			continue;
		}
		const char *real = libs[i]->soname;
		libs[i]->soname = fake[i];
		struct sl_decomp *d = sl_decomp_new(NULL, kinds[i], 4096);
		ok(d == NULL, "a %s decompressor without its library fails",
		   sl_compression_name(kinds[i]));
		names_library(want[i]);
		sl_decomp_delete(d);
		libs[i]->soname = real;
		atomic_store(&libs[i]->state, 0);
	}
	ok(!mapped("libzstd") && !mapped("libbz2"), "neither is mapped");
	struct sl_decomp *g = sl_decomp_new(NULL, SL_COMPRESSION_GZIP, 4096);
	ok(g != NULL, "a gzip decompressor needs neither");
	sl_decomp_delete(g);
	ok(!mapped("libzstd") && !mapped("libbz2"), "and maps neither");
	for (int i = 0; i < 2; i++) {
		struct sl_decomp *d = sl_decomp_new(NULL, kinds[i], 4096);
		ok(d != NULL, "a %s decompressor loads its library",
		   sl_compression_name(kinds[i]));
		sl_decomp_delete(d);
	}
	ok(mapped("libzstd.so.1") && mapped("libbz2.so.1.0"),
	   "and both are mapped then");
}

TAP_TASK_CASE(libpq_on_use)
{
	ok(!mapped("libpq.so"), "libpq is not mapped at first");
	char path[] = "/tmp/sluice-dl-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		bail_out("mkstemp");
	close(fd);
	char url[64];
	snprintf(url, sizeof(url), "sqlite:%s", path);
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);
	ok(c != NULL, "a SQLite connection opens (%s)", unit_errmsg());
	ok(mapped("libsqlite3.so.0"), "and maps libsqlite3.so.0");
	if (c != NULL) {
		struct sl_db_result *r = sl_db_query(c, "SELECT 1", SL_NOARGS);
		ok(r != NULL, "and queries");
		sl_db_result_free(r);
		sl_db_conn_close(c);
	}
	unlink(path);
	ok(!mapped("libpq.so") && !mapped("libcurl"),
	   "SQLite maps neither libpq nor libcurl");

	char pg[512];
	if (pg_test_url("postgres", pg, sizeof(pg)) == NULL) {
		note("skipped: no test PostgreSQL server (SLUICE_TEST_PGDIR)");
		return;
	}
	c = sl_db_conn_open(pg, NULL);
	ok(c != NULL, "a PostgreSQL connection opens (%s)", unit_errmsg());
	sl_db_conn_close(c);
	ok(mapped("libpq.so.5"), "and maps libpq.so.5");
}

TAP_CASE(libcurl_on_use)
{
	char *u = sl_http_resolve("http://h/a/", "b");
	is_str(u != NULL ? u : "(null)", "http://h/a/b",
	       "sl_http_resolve() works through the loaded libcurl");
	sl_free(u);
	ok(mapped("libcurl.so.4"), "and libcurl.so.4 is mapped");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
