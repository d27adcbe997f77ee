/*
 * Object stores: key checks and the public calls, then the kinds (null,
 * local directory, HMAC-signed wrapper, namespaced wrapper). See
 * sluice/objstore.h for what each does and src/rt/objstore.h for how a
 * kind plugs in.
 */
#include "rt/objstore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "rt/ssl_dl.h"

/** Bytes of an HMAC-SHA256 digest. */
#define DIGEST_LEN 32
/** Bytes a signed object adds in front of the data: digest and "\n". */
#define SIGNED_HEAD (DIGEST_LEN + 1)
/** Bytes asked of the kernel per read when a file's size is no guide. */
#define READ_CHUNK ((size_t)64 << 10)
/** Tries at a fresh temporary name before a put gives up. */
#define TMP_TRIES 64

int
sl_objstore_init(struct sl_objstore *s, const struct sl_objstore_ops *ops,
                 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *d = n >= 0 ? sl_malloc((size_t)n + 1) : NULL;
	if (d == NULL) {
		sl_diag_set(SL_EOOM, "out of memory making an object store");
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->ops = ops;
	s->desc = d;
	return 0;
}

int
sl_objstore_check_key(const struct sl_objstore *s, const char *key,
                      const char *what)
{
	const char *store = s != NULL ? s->desc : NULL;
	const char *sep = store != NULL ? ": " : "";
	store = store != NULL ? store : "";
	size_t len = strlen(key);
	const char *why = NULL;
	if (len == 0)
		why = "is empty";
	else if (len > SL_OBJSTORE_KEY_MAX)
		why = "is too long (at most 1024 bytes)";
	else if (key[0] == '/')
		why = "is absolute";
	for (size_t i = 0; why == NULL && i < len; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c < 0x20 || c == 0x7f) {
			sl_diag_set(SL_EINVAL,
			            "%s%s%s holds a control character (byte "
			            "0x%02x at offset %zu); keys are relative "
			            "paths of printable segments",
			            store, sep, what, c, i);
			return -1;
		}
	}
	for (const char *seg = key; why == NULL;) {
		const char *end = strchr(seg, '/');
		size_t n = end != NULL ? (size_t)(end - seg) : strlen(seg);
		if (n == 0)
			why = "has an empty segment";
		else if ((n == 1 && seg[0] == '.') ||
		         (n == 2 && seg[0] == '.' && seg[1] == '.'))
			why = "has a '.' or '..' segment";
		if (end == NULL)
			break;
		seg = end + 1;
	}
	if (why == NULL)
		return 0;
	sl_diag_set(SL_EINVAL,
	            "%s%s%s '%.200s'%s %s; keys are relative paths of "
	            "non-empty segments other than '.' and '..'",
	            store, sep, what, key, len > 200 ? "..." : "", why);
	return -1;
}

int
sl_objstore_get(struct sl_objstore *s, const char *key, struct sl_buf *out)
{
	sl_buf_reset(out);
	if (sl_objstore_check_key(s, key, "object key") < 0)
		return -1;
	int rc = s->ops->get(s, key, out);
	if (rc <= 0)
		sl_buf_reset(out);
	return rc;
}

int
sl_objstore_put(struct sl_objstore *s, const char *key, const void *data,
                size_t len)
{
	if (sl_objstore_check_key(s, key, "object key") < 0)
		return -1;
	if (len > SL_OBJSTORE_OBJECT_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "%s: object '%s' of %zu bytes is larger than the "
		            "%zu bytes an object may have",
		            s->desc, key, len, SL_OBJSTORE_OBJECT_MAX);
		return -1;
	}
	return s->ops->put(s, key, data, len);
}

int
sl_objstore_del(struct sl_objstore *s, const char *key)
{
	if (sl_objstore_check_key(s, key, "object key") < 0)
		return -1;
	return s->ops->del(s, key);
}

const char *
sl_objstore_describe(const struct sl_objstore *s)
{
	return s->desc;
}

void
sl_objstore_free(struct sl_objstore *s)
{
	if (s == NULL)
		return;
	char *desc = s->desc;
	s->ops->free(s);
	sl_free(desc);
}

/* --- null ---------------------------------------------------------------- */

/** Null get: nothing is ever there. */
static int
null_get(struct sl_objstore *s, const char *key, struct sl_buf *out)
{
	(void)s, (void)key, (void)out;
	return 0;
}

/** Null put: forget the bytes. */
static int
null_put(struct sl_objstore *s, const char *key, const void *data, size_t len)
{
	(void)s, (void)key, (void)data, (void)len;
	return 0;
}

/** Null delete: nothing to do. */
static int
null_del(struct sl_objstore *s, const char *key)
{
	(void)s, (void)key;
	return 0;
}

/** Free a null store. */
static void
null_free(struct sl_objstore *s)
{
	sl_free(s);
}

/** The null store's operations. */
static const struct sl_objstore_ops null_ops = {null_get, null_put, null_del,
                                                null_free};

struct sl_objstore *
sl_objstore_null_new(void)
{
	struct sl_objstore *s = sl_calloc(1, sizeof(*s));
	if (s == NULL) {
		sl_diag_set(SL_EOOM, "out of memory making a null store");
		return NULL;
	}
	if (sl_objstore_init(s, &null_ops, "null store") < 0) {
		sl_free(s);
		return NULL;
	}
	return s;
}

/* --- local --------------------------------------------------------------- */

/** A store of files under a directory. */
struct local {
	/** The common part. */
	struct sl_objstore base;
	/** The root directory, absolute, without a trailing '/'. */
	char *root;
};

/** "root/key" (sl_malloc()ed), or NULL with SL_EOOM. */
static char *
local_path(const struct local *l, const char *key)
{
	size_t rl = strlen(l->root), kl = strlen(key);
	if (rl > 0 && l->root[rl - 1] == '/')
		rl--; /* the root is "/" */
	char *p = sl_malloc(rl + kl + 2);
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory for object '%s'",
		            l->base.desc, key);
		return NULL;
	}
	memcpy(p, l->root, rl);
	p[rl] = '/';
	memcpy(p + rl + 1, key, kl + 1);
	return p;
}

/**
 * Read what is left of `fd` onto `out`, at most `cap` bytes in all (the
 * file is `hint` bytes long by fstat). 0, 1 when the file holds more than
 * `cap` bytes, -1 with errno (read) or -2 with an error set (buffer).
 */
static int
read_all(int fd, struct sl_buf *out, size_t cap, size_t hint)
{
	for (;;) {
		size_t room = out->alloc > out->len + 1
		                      ? out->alloc - out->len - 1
		                      : 0;
		if (room > cap - out->len)
			room = cap - out->len;
		if (room == 0 && out->len >= cap) {
			/* At the cap: is there more? */
			char c;
			ssize_t r = read(fd, &c, 1);
			if (r < 0 && errno == EINTR)
				continue;
			return r < 0 ? -1 : r > 0 ? 1 : 0;
		}
		if (room == 0) {
			size_t want = hint > out->len ? hint - out->len + 1
			                              : READ_CHUNK;
			if (want > cap - out->len)
				want = cap - out->len;
			if (sl_buf_reserve(out, want) < 0)
				return -2;
			continue;
		}
		ssize_t r = read(fd, out->data + out->len, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		out->len += (size_t)r;
		out->data[out->len] = '\0';
	}
}

/** Local get: read ROOT/key whole. */
static int
local_get(struct sl_objstore *s, const char *key, struct sl_buf *out)
{
	struct local *l = (struct local *)s;
	char *path = local_path(l, key);
	if (path == NULL)
		return -1;
	int rc = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = 0;
		else
			sl_diag_set_errno("%s: opening object '%s' (%s)",
			                  s->desc, key, path);
		sl_free(path);
		return rc;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		sl_diag_set_errno("%s: object '%s' (%s)", s->desc, key, path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sl_diag_set(SL_EIO,
		            "%s: object '%s' (%s) is not a regular file",
		            s->desc, key, path);
		goto out;
	}
	size_t cap = out->max < SL_OBJSTORE_OBJECT_MAX ? out->max
	                                               : SL_OBJSTORE_OBJECT_MAX;
	if ((uint64_t)st.st_size > cap) {
		sl_diag_set(SL_ELIMIT,
		            "%s: object '%s' (%s) has %lld bytes, more than "
		            "the %zu bytes %s",
		            s->desc, key, path, (long long)st.st_size, cap,
		            cap == SL_OBJSTORE_OBJECT_MAX
		                    ? "an object may have"
		                    : "the reader's buffer takes");
		goto out;
	}
	int r = read_all(fd, out, cap, (size_t)st.st_size);
	if (r == 1)
		sl_diag_set(SL_ELIMIT,
		            "%s: object '%s' (%s) grew past the %zu bytes an "
		            "object may have while it was read",
		            s->desc, key, path, cap);
	else if (r == -1)
		sl_diag_set_errno("%s: reading object '%s' (%s)", s->desc, key,
		                  path);
	else if (r < 0)
		sl_diag_wrap(sl_diag_code(), "%s: reading object '%s' (%s)",
		             s->desc, key, path);
	else
		rc = 1;
out:
	close(fd);
	sl_free(path);
	return rc;
}

/** fsync directory `dir`. 0, or -1 with errno. */
static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/**
 * Make every directory of `path` up to (not including) its last '/',
 * fsyncing the parent of each directory made. `path` is modified and
 * restored. 0, or -1 with an error.
 */
static int
make_dirs(const struct local *l, const char *key, char *path)
{
	char *last = strrchr(path, '/');
	for (char *p = path + 1; p != NULL && p <= last;
	     p = strchr(p + 1, '/')) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0777);
		int e = errno;
		if (rc != 0 && e != EEXIST) {
			errno = e;
			sl_diag_set_errno("%s: making directory %s for object "
			                  "'%s'",
			                  l->base.desc, path, key);
			*p = '/';
			return -1;
		}
		if (rc == 0) {
			char *up = strrchr(path, '/');
			int src;
			if (up == path) {
				src = sync_dir("/");
			} else {
				*up = '\0';
				src = sync_dir(path);
				*up = '/';
			}
			if (src != 0) {
				sl_diag_set_errno("%s: syncing the directory "
				                  "above %s",
				                  l->base.desc, path);
				*p = '/';
				return -1;
			}
		}
		*p = '/';
	}
	return 0;
}

/** Write all `len` bytes at `data` to `fd`. 0, or -1 with errno. */
static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/** Counter making temporary names unique within the process. */
static unsigned long tmp_counter;

/**
 * Local put: write a temporary file next to ROOT/key, fsync it, rename it
 * over, fsync the directory. The temporary file goes on failure.
 */
static int
local_put(struct sl_objstore *s, const char *key, const void *data, size_t len)
{
	struct local *l = (struct local *)s;
	char *path = local_path(l, key);
	if (path == NULL)
		return -1;
	size_t pl = strlen(path);
	char *tmp = sl_malloc(pl + 64);
	if (tmp == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory for object '%s'",
		            s->desc, key);
		sl_free(path);
		return -1;
	}
	char *slash = strrchr(path, '/');
	size_t dl = (size_t)(slash - path);
	int fd = -1;
	bool made_dirs = false;
	for (int tries = 0; fd < 0; tries++) {
		unsigned long n =
		        __atomic_fetch_add(&tmp_counter, 1, __ATOMIC_RELAXED);
		snprintf(tmp, pl + 64, "%.*s/.%.40s.tmp.%ld.%lu", (int)dl, path,
		         slash + 1, (long)getpid(), n);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0)
			break;
		if (errno == ENOENT && !made_dirs) {
			made_dirs = true;
			if (make_dirs(l, key, path) < 0)
				goto fail;
			continue;
		}
		if (errno != EEXIST || tries >= TMP_TRIES) {
			sl_diag_set_errno("%s: creating %s to write object "
			                  "'%s'",
			                  s->desc, tmp, key);
			goto fail;
		}
	}
	if (write_all(fd, data, len) != 0) {
		sl_diag_set_errno("%s: writing object '%s' (%s)", s->desc, key,
		                  tmp);
		goto fail_tmp;
	}
	if (fsync(fd) != 0) {
		sl_diag_set_errno("%s: syncing object '%s' (%s)", s->desc, key,
		                  tmp);
		goto fail_tmp;
	}
	int rc = close(fd);
	fd = -1;
	if (rc != 0) {
		sl_diag_set_errno("%s: closing object '%s' (%s)", s->desc, key,
		                  tmp);
		goto fail_tmp;
	}
	if (rename(tmp, path) != 0) {
		sl_diag_set_errno("%s: renaming %s over object '%s' (%s)",
		                  s->desc, tmp, key, path);
		goto fail_tmp;
	}
	*slash = '\0';
	if (sync_dir(path) != 0) {
		sl_diag_set_errno("%s: syncing directory %s after writing "
		                  "object '%s'",
		                  s->desc, path, key);
		*slash = '/';
		goto fail;
	}
	sl_free(tmp);
	sl_free(path);
	return 0;
fail_tmp:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
fail:
	sl_free(tmp);
	sl_free(path);
	return -1;
}

/** Local delete: unlink ROOT/key and fsync its directory. */
static int
local_del(struct sl_objstore *s, const char *key)
{
	struct local *l = (struct local *)s;
	char *path = local_path(l, key);
	if (path == NULL)
		return -1;
	int rc = 0;
	if (unlink(path) != 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			sl_diag_set_errno("%s: removing object '%s' (%s)",
			                  s->desc, key, path);
			rc = -1;
		}
	} else {
		*strrchr(path, '/') = '\0';
		if (sync_dir(path) != 0) {
			sl_diag_set_errno("%s: syncing directory %s after "
			                  "removing object '%s'",
			                  s->desc, path, key);
			rc = -1;
		}
	}
	sl_free(path);
	return rc;
}

/** Free a local store. */
static void
local_free(struct sl_objstore *s)
{
	struct local *l = (struct local *)s;
	sl_free(l->root);
	sl_free(l);
}

/** The local store's operations. */
static const struct sl_objstore_ops local_ops = {local_get, local_put,
                                                 local_del, local_free};

struct sl_objstore *
sl_objstore_local_new(const char *root)
{
	if (root != NULL && root[0] == '\0') {
		sl_diag_set(SL_EINVAL,
		            "local store: empty root directory (leave root out "
		            "for ./.nodestream/objects)");
		return NULL;
	}
	const char *rel = root != NULL ? root : ".nodestream/objects";
	char cwd[PATH_MAX] = "";
	if (rel[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
		sl_diag_set_errno("local store %s: finding the current "
		                  "directory",
		                  rel);
		return NULL;
	}
	/* cwd + "/" + rel, then without trailing slashes. */
	size_t cl = strlen(cwd), rl = strlen(rel);
	char *abs = sl_malloc(cl + rl + 2);
	struct local *l = sl_calloc(1, sizeof(*l));
	if (abs == NULL || l == NULL) {
		sl_free(abs);
		sl_free(l);
		sl_diag_set(SL_EOOM, "out of memory making a local store");
		return NULL;
	}
	size_t n = 0;
	if (cl > 0) {
		memcpy(abs, cwd, cl);
		n = cl;
		if (abs[n - 1] != '/')
			abs[n++] = '/';
	}
	memcpy(abs + n, rel, rl + 1);
	n += rl;
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	l->root = abs;
	if (sl_objstore_init(&l->base, &local_ops, "local store %s", abs) < 0) {
		sl_free(abs);
		sl_free(l);
		return NULL;
	}
	return &l->base;
}

/* --- signed -------------------------------------------------------------- */

/** A store that signs what it puts in another and checks what it gets. */
struct signed_store {
	/** The common part. */
	struct sl_objstore base;
	/** The store the signed objects go to (owned). */
	struct sl_objstore *inner;
	/** The HMAC key's bytes (cleared on free). */
	unsigned char key[SL_OBJSTORE_HMAC_KEY_MAX];
	/** Bytes of `key`. */
	size_t key_len;
};

/** The HMAC-SHA256 of data[0..len) under the store's key into `md`. */
static int
sign(const struct signed_store *ss, const char *key, const void *data,
     size_t len, unsigned char md[DIGEST_LEN])
{
	unsigned int mdlen = 0;
	if (sl_crypto_load() != 0)
		return -1;
	if (HMAC(EVP_sha256(), ss->key, (int)ss->key_len, data, len, md,
	         &mdlen) == NULL ||
	    mdlen != DIGEST_LEN) {
		sl_diag_set(SL_EIO,
		            "%s: computing the HMAC of object '%s' "
		            "failed",
		            ss->base.desc, key);
		return -1;
	}
	return 0;
}

/** Signed get: the inner object, checked, without its signature. */
static int
signed_get(struct sl_objstore *s, const char *key, struct sl_buf *out)
{
	struct signed_store *ss = (struct signed_store *)s;
	int r = sl_objstore_get(ss->inner, key, out);
	if (r <= 0)
		return r;
	if (out->len < SIGNED_HEAD || out->data[DIGEST_LEN] != '\n') {
		sl_diag_set(SL_EIO,
		            "%s: object '%s' is malformed (%zu bytes; a signed "
		            "object is a 32-byte signature, a newline, then "
		            "the data)",
		            s->desc, key, out->len);
		return -1;
	}
	unsigned char md[DIGEST_LEN];
	if (sign(ss, key, out->data + SIGNED_HEAD, out->len - SIGNED_HEAD, md) <
	    0)
		return -1;
	if (CRYPTO_memcmp(md, out->data, DIGEST_LEN) != 0) {
		sl_diag_set(SL_EIO,
		            "%s: object '%s' has a bad signature: it was "
		            "changed, or written with another hmac_key",
		            s->desc, key);
		return -1;
	}
	sl_buf_consume(out, SIGNED_HEAD);
	return 1;
}

/** Signed put: signature, "\n" and the data into the inner store. */
static int
signed_put(struct sl_objstore *s, const char *key, const void *data, size_t len)
{
	struct signed_store *ss = (struct signed_store *)s;
	if (len > SL_OBJSTORE_OBJECT_MAX - SIGNED_HEAD) {
		sl_diag_set(SL_ELIMIT,
		            "%s: object '%s' of %zu bytes with its 33-byte "
		            "signature is larger than the %zu bytes an object "
		            "may have",
		            s->desc, key, len, SL_OBJSTORE_OBJECT_MAX);
		return -1;
	}
	unsigned char *b = sl_malloc(SIGNED_HEAD + len);
	if (b == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory signing object '%s'",
		            s->desc, key);
		return -1;
	}
	int rc = sign(ss, key, data, len, b);
	if (rc == 0) {
		b[DIGEST_LEN] = '\n';
		if (len > 0)
			memcpy(b + SIGNED_HEAD, data, len);
		rc = sl_objstore_put(ss->inner, key, b, SIGNED_HEAD + len);
	}
	sl_free(b);
	return rc;
}

/** Signed delete: the inner store's. */
static int
signed_del(struct sl_objstore *s, const char *key)
{
	return sl_objstore_del(((struct signed_store *)s)->inner, key);
}

/** Free a signed store, its key cleared, and the store it wraps. */
static void
signed_free(struct sl_objstore *s)
{
	struct signed_store *ss = (struct signed_store *)s;
	sl_objstore_free(ss->inner);
	explicit_bzero(ss->key, sizeof(ss->key));
	sl_free(ss);
}

/** The signed store's operations. */
static const struct sl_objstore_ops signed_ops = {signed_get, signed_put,
                                                  signed_del, signed_free};

/** Value of base64 digit `c` (standard alphabet), or -1. */
static int
b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/**
 * Decode base64 text `s` (whitespace skipped, padding required) into
 * out[0..cap). The number of bytes, -1 when `s` is not base64, -2 when it
 * decodes to more than `cap` bytes. The text is never quoted.
 */
static long
b64_decode(const char *s, unsigned char *out, size_t cap)
{
	uint32_t acc = 0;
	size_t n = 0, digits = 0, pads = 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f' || c == '\v')
			continue;
		if (c == '=') {
			pads++;
			continue;
		}
		int d = b64_digit(c);
		if (d < 0 || pads > 0)
			return -1;
		acc = (acc << 6) | (uint32_t)d;
		if (++digits % 4 == 0) {
			if (n + 3 > cap)
				return -2;
			out[n++] = (unsigned char)(acc >> 16);
			out[n++] = (unsigned char)(acc >> 8);
			out[n++] = (unsigned char)acc;
			acc = 0;
		}
	}
	size_t rest = digits % 4;
	if (rest == 1 || (digits + pads) % 4 != 0 ||
	    pads != (rest == 0 ? 0 : 4 - rest))
		return -1;
	if (rest > 0) {
		if (n + rest - 1 > cap)
			return -2;
		acc <<= 6 * (4 - rest);
		out[n++] = (unsigned char)(acc >> 16);
		if (rest == 3)
			out[n++] = (unsigned char)(acc >> 8);
	}
	return (long)n;
}

/**
 * Set the error for b64_decode()'s result `n` (-2, -1 or 0) on an HMAC
 * key for the store `desc` describes (NULL: none).
 */
static void
key_error(long n, const char *desc)
{
	const char *pre = desc != NULL ? "signed " : "";
	const char *sep = desc != NULL ? ": " : "";
	desc = desc != NULL ? desc : "";
	if (n == -2)
		sl_diag_set(SL_ELIMIT,
		            "%s%s%sthe hmac_key is longer than %d bytes", pre,
		            desc, sep, SL_OBJSTORE_HMAC_KEY_MAX);
	else
		sl_diag_set(SL_EINVAL, "%s%s%sthe hmac_key is %s", pre, desc,
		            sep,
		            n == 0 ? "empty"
		                   : "not base64 (the standard alphabet A-Z "
		                     "a-z 0-9 + /, padded with = to a multiple "
		                     "of 4 characters)");
}

int
sl_objstore_check_hmac_key(const char *key_b64)
{
	unsigned char *k = sl_malloc(SL_OBJSTORE_HMAC_KEY_MAX);
	if (k == NULL) {
		sl_diag_set(SL_EOOM, "out of memory checking an hmac_key");
		return -1;
	}
	long n = b64_decode(key_b64, k, SL_OBJSTORE_HMAC_KEY_MAX);
	explicit_bzero(k, SL_OBJSTORE_HMAC_KEY_MAX);
	sl_free(k);
	if (n <= 0) {
		key_error(n, NULL);
		return -1;
	}
	return 0;
}

struct sl_objstore *
sl_objstore_signed_new(struct sl_objstore *inner, const char *key_b64)
{
	if (inner == NULL)
		return NULL;
	struct signed_store *ss = sl_calloc(1, sizeof(*ss));
	if (ss == NULL) {
		sl_diag_set(SL_EOOM, "out of memory making a signed store");
		sl_objstore_free(inner);
		return NULL;
	}
	long n = b64_decode(key_b64, ss->key, sizeof(ss->key));
	if (n <= 0) {
		key_error(n, inner->desc);
		explicit_bzero(ss->key, sizeof(ss->key));
		sl_free(ss);
		sl_objstore_free(inner);
		return NULL;
	}
	ss->key_len = (size_t)n;
	ss->inner = inner;
	if (sl_objstore_init(&ss->base, &signed_ops, "signed %s", inner->desc) <
	    0) {
		ss->base.ops = &signed_ops;
		signed_free(&ss->base);
		return NULL;
	}
	return &ss->base;
}

/* --- namespaced ---------------------------------------------------------- */

/** A store that scopes every key of another under a prefix. */
struct namespaced {
	/** The common part. */
	struct sl_objstore base;
	/** The store the scoped keys go to (owned). */
	struct sl_objstore *inner;
	/** The prefix, a valid key. */
	char *prefix;
};

/** "prefix/key" (sl_malloc()ed), or NULL with an error. */
static char *
scoped(const struct namespaced *ns, const char *key)
{
	size_t pl = strlen(ns->prefix), kl = strlen(key);
	if (pl + 1 + kl > SL_OBJSTORE_KEY_MAX) {
		sl_diag_set(SL_EINVAL,
		            "%s: object key '%.200s' under namespace '%s' is "
		            "too long (at most %d bytes in all)",
		            ns->base.desc, key, ns->prefix,
		            SL_OBJSTORE_KEY_MAX);
		return NULL;
	}
	char *k = sl_malloc(pl + kl + 2);
	if (k == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory for object '%s'",
		            ns->base.desc, key);
		return NULL;
	}
	memcpy(k, ns->prefix, pl);
	k[pl] = '/';
	memcpy(k + pl + 1, key, kl + 1);
	return k;
}

/** Namespaced get. */
static int
ns_get(struct sl_objstore *s, const char *key, struct sl_buf *out)
{
	struct namespaced *ns = (struct namespaced *)s;
	char *k = scoped(ns, key);
	if (k == NULL)
		return -1;
	int rc = sl_objstore_get(ns->inner, k, out);
	sl_free(k);
	return rc;
}

/** Namespaced put. */
static int
ns_put(struct sl_objstore *s, const char *key, const void *data, size_t len)
{
	struct namespaced *ns = (struct namespaced *)s;
	char *k = scoped(ns, key);
	if (k == NULL)
		return -1;
	int rc = sl_objstore_put(ns->inner, k, data, len);
	sl_free(k);
	return rc;
}

/** Namespaced delete. */
static int
ns_del(struct sl_objstore *s, const char *key)
{
	struct namespaced *ns = (struct namespaced *)s;
	char *k = scoped(ns, key);
	if (k == NULL)
		return -1;
	int rc = sl_objstore_del(ns->inner, k);
	sl_free(k);
	return rc;
}

/** Free a namespaced store and the store it wraps. */
static void
ns_free(struct sl_objstore *s)
{
	struct namespaced *ns = (struct namespaced *)s;
	sl_objstore_free(ns->inner);
	sl_free(ns->prefix);
	sl_free(ns);
}

/** The namespaced store's operations. */
static const struct sl_objstore_ops ns_ops = {ns_get, ns_put, ns_del, ns_free};

struct sl_objstore *
sl_objstore_namespaced_new(struct sl_objstore *inner, const char *prefix)
{
	if (inner == NULL)
		return NULL;
	if (sl_objstore_check_key(inner, prefix, "namespace") < 0) {
		sl_objstore_free(inner);
		return NULL;
	}
	struct namespaced *ns = sl_calloc(1, sizeof(*ns));
	char *p = sl_strndup(prefix, strlen(prefix));
	if (ns == NULL || p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory making a namespaced store");
		sl_free(ns);
		sl_free(p);
		sl_objstore_free(inner);
		return NULL;
	}
	ns->inner = inner;
	ns->prefix = p;
	if (sl_objstore_init(&ns->base, &ns_ops, "%s, namespace %s",
	                     inner->desc, p) < 0) {
		ns_free(&ns->base);
		return NULL;
	}
	return &ns->base;
}
