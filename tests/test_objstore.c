/*
 * Object stores (sluice/objstore.h): the null and local stores' round
 * trips on real files, atomic replacement when a put fails half-way (a
 * write past RLIMIT_FSIZE, and every allocation in turn), refused keys,
 * signed objects checked against Python's hmac (tests/objstore_hmac.py)
 * both ways, tampering and wrong keys, namespaces on disk, the project
 * file's `storage:` (sluice/project.h) and Nodestream's namespace of a
 * pipeline file against sha256sum.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/objstore.h"
#include "sluice/pipeline_file.h"
#include "sluice/project.h"
#include "tmpfiles.h"
#include "unit.h"

/** Temporary directory of this run. */
static char tmpdir[256];

/** A base64 HMAC key (32 bytes). */
static const char key_a[] = "c2x1aWNlLXRlc3Qta2V5LW51bWJlci1vbmUtMzJieXQ=";
/** Another base64 HMAC key. */
static const char key_b[] = "YW5vdGhlci1rZXktZm9yLXRoZS1zbHVpY2UtdGVzdHM=";

/** tmpdir/name (static buffer). */
static const char *
tpath(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/** The bytes of file `path` into `b` (reset first); -1 if unreadable. */
static long
slurp(const char *path, struct sl_buf *b)
{
	sl_buf_reset(b);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (sl_buf_append(b, chunk, n) != 0)
			break;
	fclose(f);
	return (long)b->len;
}

/** Whether file `path` exists. */
static bool
exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/** Number of temporary files (".*.tmp.*") left in directory `dir`. */
static int
tmp_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] == '.' && strstr(e->d_name, ".tmp.") != NULL;
	closedir(d);
	return n;
}

/** get `key` from `s`: it must be found and hold exactly `want`. */
static void
get_is(struct sl_objstore *s, const char *key, const void *want, size_t len,
       const char *what)
{
	struct sl_buf b;
	sl_buf_create(&b, SL_OBJSTORE_OBJECT_MAX);
	sl_diag_clear(sl_diag_get());
	int rc = sl_objstore_get(s, key, &b);
	if (!ok(rc == 1 && b.len == len &&
	                (len == 0 || memcmp(b.data, want, len) == 0),
	        "%s: get %s", what, key))
		note("rc %d, %zu bytes (expected %zu): %s", rc, b.len, len,
		     unit_errmsg());
	sl_buf_destroy(&b);
}

/** get `key` from `s`: it must be missing (0, empty buffer). */
static void
get_missing(struct sl_objstore *s, const char *key, const char *what)
{
	struct sl_buf b;
	sl_buf_create(&b, 1024);
	sl_buf_puts(&b, "stale");
	int rc = sl_objstore_get(s, key, &b);
	is_int(rc, 0, "%s: %s is missing", what, key);
	is_int(b.len, 0, "... and the buffer is empty");
	sl_buf_destroy(&b);
}

/** get `key` from `s`: it must fail with `code` and a message holding
 * every non-NULL string of `parts`. */
static void
get_fails(struct sl_objstore *s, const char *key, enum sl_errcode code,
          const char *part1, const char *part2)
{
	struct sl_buf b;
	sl_buf_create(&b, SL_OBJSTORE_OBJECT_MAX);
	sl_diag_clear(sl_diag_get());
	int rc = sl_objstore_get(s, key, &b);
	is_int(rc, -1, "get %.40s fails",
	       strpbrk(key, "\n\x7f") != NULL ? "(a control character)" : key);
	is_err(code, "... with %s", sl_errcode_name(code));
	const char *m = unit_errmsg();
	if (!ok((part1 == NULL || strstr(m, part1) != NULL) &&
	                (part2 == NULL || strstr(m, part2) != NULL),
	        "... saying '%s' and '%s'", part1 ? part1 : "",
	        part2 ? part2 : ""))
		note("message: %s", m);
	is_int(b.len, 0, "... and hands back nothing");
	sl_buf_destroy(&b);
}

/** A new local store at tmpdir/dir. */
static struct sl_objstore *
local_at(const char *dir)
{
	struct sl_objstore *s = sl_objstore_local_new(tpath(dir));
	if (s == NULL)
		bail_out("local store: %s", unit_errmsg());
	return s;
}

TAP_CASE(null_store)
{
	struct sl_objstore *s = sl_objstore_null_new();
	ok(s != NULL, "a null store");
	is_str(sl_objstore_describe(s), "null store", "described");
	is_int(sl_objstore_put(s, "k", "abc", 3), 0, "put succeeds");
	get_missing(s, "k", "null store");
	is_int(sl_objstore_del(s, "k"), 0, "del succeeds");
	is_int(sl_objstore_put(s, "../x", "abc", 3), -1,
	       "a bad key is refused even here");
	sl_objstore_free(s);
	sl_objstore_free(NULL);
}

TAP_CASE(local_round_trip)
{
	struct sl_objstore *s = local_at("rt/root");
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "local store %s", tpath("rt/root"));
	is_str(sl_objstore_describe(s), want, "described with its root");
	get_missing(s, "a", "before any put (no root yet)");
	is_int(sl_objstore_del(s, "a"), 0, "deleting a missing object is fine");
	static const char bin[] = "one\0two\nthree";
	is_int(sl_objstore_put(s, "a", bin, sizeof(bin)), 0, "put a");
	get_is(s, "a", bin, sizeof(bin), "binary bytes");
	struct sl_buf raw;
	sl_buf_create(&raw, 1 << 20);
	is_int(slurp(tpath("rt/root/a"), &raw), (long)sizeof(bin),
	       "the file is ROOT/a with the bytes");
	ok(memcmp(raw.data, bin, sizeof(bin)) == 0, "... exactly");
	is_int(sl_objstore_put(s, "a", "xy", 2), 0, "replace with less");
	get_is(s, "a", "xy", 2, "replaced");
	is_int(sl_objstore_put(s, "a", "", 0), 0, "replace with nothing");
	get_is(s, "a", "", 0, "an empty object is found");
	is_int(sl_objstore_del(s, "a"), 0, "del a");
	get_missing(s, "a", "deleted");
	ok(!exists(tpath("rt/root/a")), "... and the file is gone");
	is_int(sl_objstore_del(s, "a"), 0, "del again is fine");
	/* A large object, read in many pieces. */
	size_t big = (size_t)3 << 20;
	char *data = malloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)(i * 7 + i / 4096);
	is_int(sl_objstore_put(s, "big", data, big), 0, "put 3 MiB");
	get_is(s, "big", data, big, "3 MiB");
	free(data);
	is_int(tmp_files(tpath("rt/root")), 0, "no temporary file is left");
	sl_buf_destroy(&raw);
	sl_objstore_free(s);
}

TAP_CASE(nested_keys)
{
	struct sl_objstore *s = local_at("nest/deep/root");
	is_int(sl_objstore_put(s, "x/y/z", "v", 1), 0,
	       "put x/y/z under a root that does not exist");
	struct stat st;
	ok(stat(tpath("nest/deep/root/x/y"), &st) == 0 && S_ISDIR(st.st_mode),
	   "its directories are made");
	ok(exists(tpath("nest/deep/root/x/y/z")), "the object is ROOT/x/y/z");
	get_is(s, "x/y/z", "v", 1, "nested");
	get_missing(s, "x/y/z/w", "below an object (ENOTDIR)");
	get_missing(s, "x/q", "a sibling");
	get_fails(s, "x/y", SL_EIO, "'x/y'", "not a regular file");
	/* A file where a directory must go. */
	sl_diag_clear(sl_diag_get());
	is_int(sl_objstore_put(s, "x/y/z/w", "v", 1), -1,
	       "a put below an object fails");
	ok(strstr(unit_errmsg(), "x/y/z/w") != NULL, "... naming the key: %s",
	   unit_errmsg());
	is_int(tmp_files(tpath("nest/deep/root/x/y")), 0,
	       "no temporary file is left");
	sl_objstore_free(s);
}

TAP_CASE(default_and_relative_roots)
{
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(tmpdir) != 0)
		bail_out("cannot change to %s", tmpdir);
	struct sl_objstore *s = sl_objstore_local_new(NULL);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "local store %s/.nodestream/objects",
	         tmpdir);
	is_str(sl_objstore_describe(s), want,
	       "NULL root: Nodestream's default");
	is_int(sl_objstore_put(s, "k", "1", 1), 0, "put");
	ok(exists(tpath(".nodestream/objects/k")),
	   "the object is ./.nodestream/objects/k");
	sl_objstore_free(s);
	s = sl_objstore_local_new("rel/dir/");
	snprintf(want, sizeof(want), "local store %s/rel/dir", tmpdir);
	is_str(sl_objstore_describe(s), want,
	       "a relative root is taken against the current directory");
	sl_objstore_free(s);
	if (chdir(cwd) != 0)
		bail_out("cannot change back");
	sl_diag_clear(sl_diag_get());
	ok(sl_objstore_local_new("") == NULL, "an empty root is refused");
	is_err(SL_EINVAL, "... with EINVAL");
}

TAP_CASE(bad_keys)
{
	struct sl_objstore *s = local_at("bad/root");
	char longkey[SL_OBJSTORE_KEY_MAX + 2];
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	const struct {
		/** The key. */
		const char *key;
		/** What the message says. */
		const char *why;
	} cases[] = {
	        {"", "is empty"},
	        {"/etc/passwd", "is absolute"},
	        {"..", "'..' segment"},
	        {"../escape", "'..' segment"},
	        {"a/../../escape", "'..' segment"},
	        {"a/..", "'..' segment"},
	        {".", "'.' or '..' segment"},
	        {"a/./b", "'.' or '..' segment"},
	        {"a//b", "empty segment"},
	        {"a/", "empty segment"},
	        {"a\nb", "control character"},
	        {"a\x7f", "control character"},
	        {longkey, "too long"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *k = cases[i].key;
		sl_diag_clear(sl_diag_get());
		int rc = sl_objstore_put(s, k, "x", 1);
		is_int(rc, -1, "put of key %zu (%s) is refused", i,
		       cases[i].why);
		is_err(SL_EINVAL, "... with EINVAL");
		const char *m = unit_errmsg();
		if (!ok(strstr(m, cases[i].why) != NULL &&
		                strstr(m, "local store") != NULL,
		        "... saying it %s, naming the store", cases[i].why))
			note("message: %s", m);
		get_fails(s, k, SL_EINVAL, cases[i].why, NULL);
		sl_diag_clear(sl_diag_get());
		is_int(sl_objstore_del(s, k), -1, "... del refuses it too");
	}
	ok(!exists(tpath("bad/escape")) && !exists(tpath("escape")),
	   "nothing was written outside the root");
	sl_diag_clear(sl_diag_get());
	sl_objstore_put(s, "../escape", "x", 1);
	ok(strstr(unit_errmsg(), "'../escape'") != NULL,
	   "the message names the key: %s", unit_errmsg());
	/* Namespaces follow the same rules. */
	sl_diag_clear(sl_diag_get());
	ok(sl_objstore_namespaced_new(s, "../up") == NULL,
	   "a namespace '../up' is refused (and the store freed)");
	is_err(SL_EINVAL, "... with EINVAL: %s", unit_errmsg());
}

/** Restore the file size limit and the SIGXFSZ action. */
static void
unlimit(const struct rlimit *old, void (*old_handler)(int))
{
	setrlimit(RLIMIT_FSIZE, old);
	signal(SIGXFSZ, old_handler);
}

TAP_CASE(atomic_replace_on_write_failure)
{
	struct sl_objstore *s = local_at("atomic");
	static const char old[] = "the old checkpoint";
	is_int(sl_objstore_put(s, "ckpt", old, sizeof(old)), 0, "put old");
	size_t big = (size_t)1 << 20;
	char *data = calloc(1, big);
	memset(data, 'n', big);
	struct rlimit lim, was;
	getrlimit(RLIMIT_FSIZE, &was);
	lim = was;
	lim.rlim_cur = 64 << 10;
	void (*handler)(int) = signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
		bail_out("setrlimit: %s", strerror(errno));
	sl_diag_clear(sl_diag_get());
	int rc = sl_objstore_put(s, "ckpt", data, big);
	int code = sl_diag_code();
	char msg[SL_ERROR_MSG_MAX];
	snprintf(msg, sizeof(msg), "%s", unit_errmsg());
	unlimit(&was, handler);
	is_int(rc, -1, "a put that fails after 64 KiB of 1 MiB fails");
	is_int(code, SL_ESYSTEM, "... with ESYSTEM");
	ok(strstr(msg, "writing object 'ckpt'") != NULL, "... saying so: %s",
	   msg);
	get_is(s, "ckpt", old, sizeof(old), "the old object is intact");
	is_int(tmp_files(tpath("atomic")), 0, "the temporary file is gone");
	is_int(sl_objstore_put(s, "ckpt", data, big), 0,
	       "the same put without the limit succeeds");
	get_is(s, "ckpt", data, big, "replaced");
	free(data);
	sl_objstore_free(s);
}

/** Whether b[0..len) is `len` bytes all equal to `c`. */
static bool
all_of(const struct sl_buf *b, size_t len, char c)
{
	if (b->len != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (b->data[i] != c)
			return false;
	return true;
}

TAP_CASE(readers_never_see_torn_objects)
{
	/* A child replaces the object over and over with all-'a' or
	 * all-'b' contents of different sizes; the parent reads meanwhile,
	 * then kills the child with SIGKILL mid-write and reads again. */
	struct sl_objstore *s = local_at("race");
	size_t la = (size_t)256 << 10, lb = (size_t)200 << 10;
	char *a = malloc(la), *b = malloc(lb);
	memset(a, 'a', la);
	memset(b, 'b', lb);
	if (sl_objstore_put(s, "k", a, la) != 0)
		bail_out("put: %s", unit_errmsg());
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (unsigned i = 0;; i++)
			if (sl_objstore_put(s, "k", i % 2 ? a : b,
			                    i % 2 ? la : lb) != 0)
				_exit(1);
	}
	struct sl_buf got;
	sl_buf_create(&got, SL_OBJSTORE_OBJECT_MAX);
	int reads = 0, whole = 0, saw_b = 0;
	for (; reads < 300; reads++) {
		if (sl_objstore_get(s, "k", &got) != 1)
			break;
		bool is_a = all_of(&got, la, 'a'), is_b = all_of(&got, lb, 'b');
		whole += is_a || is_b;
		saw_b += is_b;
	}
	usleep(20000);
	kill(pid, SIGKILL);
	int st = 0;
	waitpid(pid, &st, 0);
	ok(WIFSIGNALED(st), "the writer was killed mid-run (not failed)");
	is_int(whole, reads, "all %d reads saw a whole object", reads);
	ok(reads == 300 && saw_b > 0, "... while it changed (%d of the new)",
	   saw_b);
	ok(sl_objstore_get(s, "k", &got) == 1 &&
	           (all_of(&got, la, 'a') || all_of(&got, lb, 'b')),
	   "after kill -9 the object is one whole version");
	sl_buf_destroy(&got);
	free(a);
	free(b);
	sl_objstore_free(s);
}

/**
 * Put `new` over `old` under `key` of the store `make` makes, failing
 * each allocation in turn: each failed put leaves the old object whole
 * and no temporary file in `dir`; finally the put succeeds.
 */
static void
faults_on(struct sl_objstore *(*make)(void), const char *dir, const char *key)
{
	static const char oldv[] = "old value";
	static const char newv[] = "a new, longer value";
	struct sl_objstore *s = make();
	is_int(sl_objstore_put(s, key, oldv, sizeof(oldv)), 0, "put old");
	int fails = 0;
	bool intact = true;
	long n;
	for (n = 0; n < 100; n++) {
		sl_diag_clear(sl_diag_get());
		sl_alloc_fail_after(n);
		int rc = sl_objstore_put(s, key, newv, sizeof(newv));
		sl_alloc_fail_after(-1);
		if (rc == 0)
			break;
		fails++;
		if (sl_diag_code() != SL_EOOM) {
			note("fault %ld: %s", n, unit_errmsg());
			intact = false;
		}
		struct sl_buf b;
		sl_buf_create(&b, 1024);
		if (sl_objstore_get(s, key, &b) != 1 || b.len != sizeof(oldv) ||
		    memcmp(b.data, oldv, b.len) != 0)
			intact = false;
		sl_buf_destroy(&b);
		if (tmp_files(tpath(dir)) != 0)
			intact = false;
	}
	ok(fails > 0 && n < 100, "%d allocation points failed, then it worked",
	   fails);
	ok(intact, "each failure was EOOM and left the old object alone");
	get_is(s, key, newv, sizeof(newv), "after the faults");
	/* get under faults: errors, never a wrong object. */
	bool clean = true;
	for (n = 0; n < 100; n++) {
		struct sl_buf b;
		sl_buf_create(&b, 1024);
		sl_diag_clear(sl_diag_get());
		sl_alloc_fail_after(n);
		int rc = sl_objstore_get(s, key, &b);
		sl_alloc_fail_after(-1);
		if (rc == 1 &&
		    (b.len != sizeof(newv) || memcmp(b.data, newv, b.len) != 0))
			clean = false;
		if (rc == 0 || (rc < 0 && sl_diag_code() != SL_EOOM))
			clean = false;
		sl_buf_destroy(&b);
		if (rc == 1)
			break;
	}
	ok(clean, "gets under faults fail with EOOM or give the object");
	sl_objstore_free(s);
}

/** A local store at tmpdir/faults. */
static struct sl_objstore *
make_local(void)
{
	return local_at("faults");
}

/** A namespaced signed local store at tmpdir/faults2. */
static struct sl_objstore *
make_stacked(void)
{
	return sl_objstore_namespaced_new(
	        sl_objstore_signed_new(local_at("faults2"), key_a), "ns");
}

TAP_CASE(allocation_faults)
{
	faults_on(make_local, "faults", "k");
	faults_on(make_stacked, "faults2/ns", "k");
	/* Constructors under faults: NULL with an error, nothing leaked. */
	bool clean = true;
	for (long n = 0; n < 40; n++) {
		sl_diag_clear(sl_diag_get());
		sl_alloc_fail_after(n);
		struct sl_objstore *s = sl_objstore_namespaced_new(
		        sl_objstore_signed_new(sl_objstore_local_new(tmpdir),
		                               key_a),
		        "p");
		sl_alloc_fail_after(-1);
		if (s == NULL && sl_diag_code() != SL_EOOM)
			clean = false;
		sl_objstore_free(s);
		if (s != NULL)
			break;
	}
	ok(clean, "constructors under faults fail with EOOM");
}

TAP_CASE(limits)
{
	struct sl_objstore *s = local_at("lim");
	static const char one = 'x';
	sl_diag_clear(sl_diag_get());
	is_int(sl_objstore_put(s, "k", &one, SL_OBJSTORE_OBJECT_MAX + 1), -1,
	       "a put over 64 MiB is refused before reading the data");
	is_err(SL_ELIMIT, "... with ELIMIT");
	ok(strstr(unit_errmsg(), "'k'") != NULL, "... naming the key: %s",
	   unit_errmsg());
	/* A sparse file over the cap. */
	if (sl_objstore_put(s, "huge", "x", 1) != 0 ||
	    truncate(tpath("lim/huge"), (off_t)SL_OBJSTORE_OBJECT_MAX + 1) != 0)
		bail_out("cannot make a huge file");
	get_fails(s, "huge", SL_ELIMIT, "'huge'", "67108865 bytes");
	/* The caller's buffer is smaller than the object. */
	is_int(sl_objstore_put(s, "twenty", "01234567890123456789", 20), 0,
	       "put 20 bytes");
	struct sl_buf b;
	sl_buf_create(&b, 10);
	sl_diag_clear(sl_diag_get());
	is_int(sl_objstore_get(s, "twenty", &b), -1,
	       "get into a 10-byte buffer fails");
	is_err(SL_ELIMIT, "... with ELIMIT: %s", unit_errmsg());
	is_int(b.len, 0, "... and hands back nothing");
	sl_buf_destroy(&b);
	sl_objstore_free(s);
}

/** Run objstore_hmac.py `mode` on `path` with `key` and data[0..len). */
static int
python_hmac(const char *mode, const char *key, const char *path,
            const unsigned char *data, size_t len)
{
	size_t cap = 2 * len + 1024;
	char *cmd = malloc(cap);
	int n = snprintf(cmd, cap, "python3 %s/objstore_hmac.py %s %s %s ",
	                 SLUICE_TEST_SRC, mode, key, path);
	for (size_t i = 0; i < len; i++)
		n += snprintf(cmd + n, cap - (size_t)n, "%02x", data[i]);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

TAP_CASE(signed_store)
{
	struct sl_objstore *s = sl_objstore_signed_new(local_at("sig"), key_a);
	ok(s != NULL, "a signed local store");
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "signed local store %s", tpath("sig"));
	is_str(sl_objstore_describe(s), want, "described, without the key");
	unsigned char data[1000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 10); /* holds '\n' */
	is_int(sl_objstore_put(s, "obj", data, sizeof(data)), 0, "put");
	get_is(s, "obj", data, sizeof(data), "signed round trip");
	struct sl_buf raw;
	sl_buf_create(&raw, 1 << 20);
	is_int(slurp(tpath("sig/obj"), &raw), 33 + (long)sizeof(data),
	       "stored: 32-byte digest, newline, data");
	ok(raw.data[32] == '\n' &&
	           memcmp(raw.data + 33, data, sizeof(data)) == 0,
	   "... with the data after the newline");
	is_int(python_hmac("check", key_a, tpath("sig/obj"), data,
	                   sizeof(data)),
	       0, "the digest is Python's hmac.new(key, data, sha256)");
	/* Python signs, sluice reads. */
	static const unsigned char pdata[] = "written by Python's hmac";
	mkdir(tpath("sig/py"), 0700);
	is_int(python_hmac("write", key_a, tpath("sig/py/obj"), pdata,
	                   sizeof(pdata) - 1),
	       0, "Python writes a signed object");
	get_is(s, "py/obj", pdata, sizeof(pdata) - 1,
	       "sluice reads what Python signed");
	/* Tampering. */
	struct sl_objstore *plain = local_at("sig");
	for (int at = 0; at < 2; at++) {
		slurp(tpath("sig/obj"), &raw);
		raw.data[at == 0 ? 500 : 3] ^= 1;
		sl_objstore_put(plain, "obj", raw.data, raw.len);
		get_fails(s, "obj", SL_EIO, "'obj'", "bad signature");
		ok(strstr(unit_errmsg(), key_a) == NULL, "... without the key");
		raw.data[at == 0 ? 500 : 3] ^= 1;
		sl_objstore_put(plain, "obj", raw.data, raw.len);
		get_is(s, "obj", data, sizeof(data), "restored");
	}
	sl_objstore_put(plain, "short", "0123456789", 10);
	get_fails(s, "short", SL_EIO, "'short'", "malformed");
	char nonl[40];
	memset(nonl, 'a', sizeof(nonl));
	sl_objstore_put(plain, "nonl", nonl, sizeof(nonl));
	get_fails(s, "nonl", SL_EIO, "'nonl'", "malformed");
	get_missing(s, "none", "signed");
	/* Another key. */
	struct sl_objstore *other =
	        sl_objstore_signed_new(local_at("sig"), key_b);
	get_fails(other, "obj", SL_EIO, "'obj'", "another hmac_key");
	ok(strstr(unit_errmsg(), key_b) == NULL, "... without the key");
	is_int(sl_objstore_del(s, "obj"), 0, "del through the signed store");
	ok(!exists(tpath("sig/obj")), "... removes the file");
	sl_objstore_free(other);
	sl_objstore_free(plain);
	sl_objstore_free(s);
	sl_buf_destroy(&raw);
	/* Bad keys. */
	static const char *const bad[] = {
	        "", "   ", "abc", "ab$=", "a===", "QQ=", "QQ==QQ=="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sl_diag_clear(sl_diag_get());
		ok(sl_objstore_signed_new(sl_objstore_null_new(), bad[i]) ==
		           NULL,
		   "hmac_key '%s' is refused", bad[i]);
		is_err(SL_EINVAL, "... with EINVAL: %s", unit_errmsg());
	}
	ok(sl_objstore_check_hmac_key(" QQ==\n") == 0 &&
	           sl_objstore_check_hmac_key(key_b) == 0,
	   "padded base64 with whitespace is a key");
	char longkey[2000];
	memset(longkey, 'A', 1400);
	longkey[1400] = '\0';
	sl_diag_clear(sl_diag_get());
	ok(sl_objstore_check_hmac_key(longkey) < 0,
	   "a 1050-byte key is refused");
	is_err(SL_ELIMIT, "... with ELIMIT");
}

TAP_CASE(namespaced_store)
{
	struct sl_objstore *s =
	        sl_objstore_namespaced_new(local_at("ns"), "pipe-abc");
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "local store %s, namespace pipe-abc",
	         tpath("ns"));
	is_str(sl_objstore_describe(s), want, "described");
	is_int(sl_objstore_put(s, "0/checkpoint", "c", 1), 0, "put");
	ok(exists(tpath("ns/pipe-abc/0/checkpoint")),
	   "the object lands at ROOT/prefix/key");
	get_is(s, "0/checkpoint", "c", 1, "namespaced round trip");
	/* Stacked: the first namespace applied is outermost on disk. */
	struct sl_objstore *t = sl_objstore_namespaced_new(s, "1");
	is_int(sl_objstore_put(t, "k", "d", 1), 0, "put through two");
	ok(exists(tpath("ns/pipe-abc/1/k")), "it lands at ROOT/pipe-abc/1/k");
	is_int(sl_objstore_del(t, "k"), 0, "del through two");
	ok(!exists(tpath("ns/pipe-abc/1/k")), "... removes it");
	sl_objstore_free(t);
	/* Signed inside a namespace, and a namespace inside signing. */
	struct sl_objstore *a = sl_objstore_namespaced_new(
	        sl_objstore_signed_new(local_at("ns"), key_a), "sa");
	struct sl_objstore *b = sl_objstore_signed_new(
	        sl_objstore_namespaced_new(local_at("ns"), "sa"), key_a);
	is_int(sl_objstore_put(a, "k", "hello", 5), 0,
	       "put signed, namespaced");
	get_is(b, "k", "hello", 5, "the other stacking reads it");
	struct sl_buf raw;
	sl_buf_create(&raw, 1024);
	is_int(slurp(tpath("ns/sa/k"), &raw), 38, "ROOT/sa/k is signed");
	sl_buf_destroy(&raw);
	sl_objstore_free(a);
	sl_objstore_free(b);
}

/** Write `text` to tmpdir/name; returns the path. */
static const char *
wfile(const char *name, const char *text)
{
	return tmp_write(tmpdir, name, text);
}

/** Load tmpdir/`name` holding `text`; NULL notes the error. */
static struct sl_project *
load_text(const char *name, const char *text)
{
	const char *path = wfile(name, text);
	sl_diag_clear(sl_diag_get());
	return sl_project_load(path);
}

/** Loading `text` fails with a message holding `part1` and `part2`. */
static void
load_fails(const char *text, const char *part1, const char *part2)
{
	struct sl_project *p = load_text("bad/nodestream.yaml", text);
	ok(p == NULL, "load fails: %s", part2);
	is_err(SL_EINVAL, "... with EINVAL");
	const char *m = unit_errmsg();
	if (!ok(strstr(m, part1) != NULL && strstr(m, part2) != NULL,
	        "... saying '%s' and '%s'", part1, part2))
		note("message: %s", m);
	ok(strstr(m, key_a) == NULL && strstr(m, "c2x1aWNl") == NULL,
	   "... never quoting an hmac_key");
	sl_project_delete(p);
}

TAP_CASE(project_storage)
{
	setenv("SLUICE_TEST_HMAC", key_a, 1);
	unsetenv("SLUICE_TEST_UNSET");
	char plain[PATH_MAX], sig[PATH_MAX], text[3 * PATH_MAX];
	snprintf(plain, sizeof(plain), "%s", tpath("prj/plain"));
	snprintf(sig, sizeof(sig), "%s", tpath("prj/signed"));
	snprintf(text, sizeof(text),
	         "targets: {t: {database: null}}\n"
	         "storage:\n"
	         "  stores:\n"
	         "    - {name: plain, type: local, root: %s}\n"
	         "    - name: signed\n"
	         "      type: local\n"
	         "      root: %s\n"
	         "      hmac_key: !env SLUICE_TEST_HMAC\n"
	         "    - {name: nothing, type: null}\n"
	         "    - {name: cloud, type: s3, bucket_name: b, region_name: x,"
	         " endpoint_url: 'http://127.0.0.1:1', aws_access_key_id: A,"
	         " aws_secret_access_key: B}\n"
	         "    - {name: unset, type: local, hmac_key: !env "
	         "SLUICE_TEST_UNSET}\n"
	         "    - {name: unsigned, type: null, hmac_key: ''}\n",
	         plain, sig);
	struct sl_project *p = load_text("prj/nodestream.yaml", text);
	if (!ok(p != NULL, "a project with stores loads"))
		bail_out("%s", unit_errmsg());
	struct sl_objstore *s = sl_project_objstore(p, "plain");
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "local store %s", tpath("prj/plain"));
	is_str(s ? sl_objstore_describe(s) : unit_errmsg(), want,
	       "store 'plain' is the local store at its root");
	sl_objstore_free(s);
	s = sl_project_objstore(p, "signed");
	snprintf(want, sizeof(want), "signed local store %s",
	         tpath("prj/signed"));
	is_str(s ? sl_objstore_describe(s) : unit_errmsg(), want,
	       "store 'signed' is signed (hmac_key from !env)");
	is_int(s ? sl_objstore_put(s, "k", "hello", 5) : -1, 0, "put");
	sl_objstore_free(s);
	is_int(python_hmac("check", key_a, tpath("prj/signed/k"),
	                   (const unsigned char *)"hello", 5),
	       0, "... signed with the key !env gave");
	s = sl_project_objstore(p, "nothing");
	is_str(s ? sl_objstore_describe(s) : unit_errmsg(), "null store",
	       "store 'nothing' is a null store");
	sl_objstore_free(s);
	s = sl_project_objstore(p, "unsigned");
	is_str(s ? sl_objstore_describe(s) : unit_errmsg(), "null store",
	       "an empty hmac_key signs nothing (as Nodestream)");
	sl_objstore_free(s);
	sl_diag_clear(sl_diag_get());
	s = sl_project_objstore(p, "cloud");
	is_str(s ? sl_objstore_describe(s) : unit_errmsg(),
	       "s3 store s3://b at http://127.0.0.1:1",
	       "an s3 store in its bucket, at its endpoint (no key shown)");
	sl_objstore_free(s);
	sl_diag_clear(sl_diag_get());
	ok(sl_project_objstore(p, "unset") == NULL,
	   "an hmac_key from an unset variable makes no store");
	ok(strstr(unit_errmsg(), "nodestream.yaml:11:") != NULL &&
	           strstr(unit_errmsg(), "hmac_key: resolves to nothing") !=
	                   NULL,
	   "... saying so at its line: %s", unit_errmsg());
	sl_diag_clear(sl_diag_get());
	ok(sl_project_objstore(p, "nope") == NULL, "an unknown store name");
	is_err(SL_EINVAL, "... is EINVAL");
	ok(strstr(unit_errmsg(), "no store 'nope'") != NULL &&
	           strstr(unit_errmsg(),
	                  "it has 'plain', 'signed', 'nothing', 'cloud', "
	                  "'unset', 'unsigned'") != NULL,
	   "... listing the names: %s", unit_errmsg());
	sl_project_delete(p);
	p = load_text("prj2/nodestream.yaml",
	              "targets: {t: {database: null}}\n");
	sl_diag_clear(sl_diag_get());
	ok(p != NULL && sl_project_objstore(p, "x") == NULL &&
	           strstr(unit_errmsg(), "defines no stores") != NULL,
	   "a project without storage has no stores: %s", unit_errmsg());
	sl_project_delete(p);
}

TAP_CASE(project_storage_errors)
{
	load_fails("storage:\n"
	           "  stores:\n"
	           "    - name: a\n"
	           "      type: local\n"
	           "      bucket: b\n",
	           "nodestream.yaml:5:7: storage.stores[0] (a)",
	           "unknown option 'bucket' for a local store");
	load_fails("storage:\n  stores:\n    - {name: a, type: null, root: "
	           "x}\n",
	           "nodestream.yaml:3:",
	           "unknown option 'root' for a null "
	           "store");
	load_fails("storage:\n  stores:\n    - {name: a, type: ftp}\n",
	           "nodestream.yaml:3:23: storage.stores[0] (a).type",
	           "unknown store type 'ftp'");
	load_fails("storage:\n  stores:\n    - {type: local}\n",
	           "nodestream.yaml:3:7: storage.stores[0]", "no name");
	load_fails("storage:\n  stores:\n    - {name: a}\n",
	           "nodestream.yaml:3:7", "no type");
	load_fails("storage:\n  stores:\n    - {name: a, type: local}\n"
	           "    - {name: a, type: null}\n",
	           "nodestream.yaml:4:", "store 'a' is defined twice");
	load_fails("storage:\n  stores:\n    - {name: a, type: local, "
	           "hmac_key: c2x1aWNl$$$}\n",
	           "nodestream.yaml:3:40: storage.stores[0] (a).hmac_key",
	           "not base64");
	load_fails("storage:\n  stores:\n    - {name: a, type: local, "
	           "hmac_key: [c2x1aWNl]}\n",
	           "nodestream.yaml:3:", "expected a base64 string");
	load_fails("storage:\n  stores:\n    - {name: a, type: local, "
	           "root: ''}\n",
	           "nodestream.yaml:3:", "root: expected a directory");
	load_fails("storage:\n  stores: {name: a}\n", "nodestream.yaml:2:11",
	           "expected a list of stores");
	load_fails("storage:\n  backends: []\n", "nodestream.yaml:2:3",
	           "unknown option 'backends'");
	load_fails("storage: [1]\n", "nodestream.yaml:1:10",
	           "expected a mapping");
}

/** sha256sum's hex digest of `path` into hex[65]. */
static void
sha256sum(const char *path, char hex[65])
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	FILE *f = popen(cmd, "r");
	hex[0] = '\0';
	if (f == NULL || fscanf(f, "%64s", hex) != 1)
		note("sha256sum failed");
	if (f != NULL)
		pclose(f);
}

TAP_CASE(pipeline_namespace)
{
	static const struct {
		/** The file's name. */
		const char *name;
		/** Python's Path(name).stem. */
		const char *stem;
	} cases[] = {
	        {"pipe.yaml", "pipe"},  {"a.b.yaml", "a.b"},
	        {".hidden", ".hidden"}, {"dot.", "dot."},
	        {"noext", "noext"},     {"..x", "."},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[64], text[128];
		snprintf(name, sizeof(name), "nsp/%s", cases[i].name);
		snprintf(text, sizeof(text), "- implementation: x%zu\n", i);
		const char *path = wfile(name, text);
		char hex[65], want[128], got[128];
		sha256sum(path, hex);
		snprintf(want, sizeof(want), "%s-%s", cases[i].stem, hex);
		is_int(sl_pipeline_file_namespace(path, got, sizeof(got)), 0,
		       "namespace of %s", cases[i].name);
		is_str(got, want, "... is stem-sha256 (sha256sum)");
	}
	/* A file larger than one read. */
	size_t big = (size_t)300 << 10;
	char *text = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		text[i] = (char)('a' + i % 26);
	text[big] = '\0';
	const char *path = wfile("nsp/big.yaml", text);
	free(text);
	char hex[65], want[128], got[128];
	sha256sum(path, hex);
	snprintf(want, sizeof(want), "big-%s", hex);
	sl_pipeline_file_namespace(path, got, sizeof(got));
	is_str(got, want, "a 300 KiB file");
	sl_diag_clear(sl_diag_get());
	is_int(sl_pipeline_file_namespace(path, got, 20), -1,
	       "too small a buffer");
	is_err(SL_ELIMIT, "... is ELIMIT");
	sl_diag_clear(sl_diag_get());
	is_int(sl_pipeline_file_namespace(tpath("nsp/missing.yaml"), got,
	                                  sizeof(got)),
	       -1, "a missing file");
	is_err(SL_ESYSTEM, "... is ESYSTEM");
	ok(strstr(unit_errmsg(), "missing.yaml") != NULL, "... naming it: %s",
	   unit_errmsg());
}

/** Make the temporary directory the cases write into. */
static int
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-obj-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	return 0;
}

/** Remove the temporary directory. */
static void
teardown(void)
{
	tmp_remove(tmpdir);
	sl_diag_clear(sl_diag_get());
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
