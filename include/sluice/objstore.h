/*
 * sluice: object stores, where checkpoints are kept (Nodestream's
 * `storage:` stores, `--storage-backend NAME`).
 *
 * An object store maps keys ("a/b/c") to whole byte strings. Kinds:
 *
 *   null        stores nothing; get finds nothing (Nodestream's `null`)
 *   local       files under a root directory (Nodestream's `local`,
 *               DirectoryObjectStore): key "a/b" is the file ROOT/a/b
 *   signed      wraps another store; every object is stored as the 32-byte
 *               HMAC-SHA256 of the data, "\n", then the data (Nodestream's
 *               SignedObjectStore with an HmacSigner), and checked on get
 *   namespaced  wraps another store; key K is stored as "PREFIX/K"
 *               (Nodestream's NamespacedObjectStore); wrappers stack
 *
 * Kinds are a table of operations (src/rt/objstore.h), so another kind
 * (S3) plugs in with a constructor of its own.
 *
 * Keys are relative paths of '/'-separated segments. Every store refuses,
 * before touching anything, a key that is empty, longer than
 * SL_OBJSTORE_KEY_MAX, absolute, has an empty segment ("a//b", "a/"), a
 * "." or ".." segment, or a control character; so no key reaches outside
 * a local store's root. A namespace prefix follows the same rules.
 *
 * The local store writes atomically: a put writes a temporary file in the
 * target's directory, fsyncs it, renames it over the target and fsyncs the
 * directory, so a reader (or a run killed at any point) sees the old
 * object or the new one, never a torn one; a failed put removes its
 * temporary file (".NAME.tmp.PID.N"; one a killed process leaves behind
 * stays, and is never read as an object). Directories, the root's included, are
 * made on put. Its file operations are plain blocking calls: checkpoints are
 * small and written rarely. A relative root is taken against the current
 * directory when the store is made, as Nodestream's Path(root) is.
 *
 * Limits: an object is at most SL_OBJSTORE_OBJECT_MAX bytes; a larger put,
 * or a stored file larger than that on get, is refused with SL_ELIMIT
 * naming the key. Errors (SL_EINVAL for a bad key or argument, SL_EIO for
 * a bad signature or a malformed signed object, SL_ESYSTEM for a failed
 * system call, SL_ELIMIT, SL_EOOM) name the key and the store
 * (sl_objstore_describe()); an HMAC key never appears in a message.
 *
 * Signed objects: Nodestream splits a stored object at its first "\n", so
 * it cannot read back those of its own objects whose digest holds a 0x0A byte;
 * a signed store here reads the digest as the first 32 bytes, and so reads
 * every object Nodestream wrote and Nodestream reads every object it
 * writes whose digest has no 0x0A. (Nodestream stores pickled Python
 * objects; sluice stores its own bytes, so stores are not shared between
 * the two beyond this envelope.)
 *
 * A store is used by one task at a time.
 */
#ifndef SLUICE_OBJSTORE_H
#define SLUICE_OBJSTORE_H

#include <stddef.h>

#include "sluice/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest object a store keeps or hands back, in bytes (64 MiB). */
#define SL_OBJSTORE_OBJECT_MAX ((size_t)64 << 20)
/** Longest key, in bytes, after every namespace is applied. */
#define SL_OBJSTORE_KEY_MAX 1024
/** Longest HMAC key, in bytes after base64 decoding. */
#define SL_OBJSTORE_HMAC_KEY_MAX 1024

/** An object store (opaque; see src/rt/objstore.h for its kinds). */
struct sl_objstore;

/**
 * Read the object `key` into `out` (reset first, then appended to; its own
 * cap applies too). 1 when found, 0 when there is no such object (`out`
 * empty), -1 with an error.
 */
int sl_objstore_get(struct sl_objstore *s, const char *key, struct sl_buf *out);

/**
 * Store `len` bytes at `data` under `key`, replacing any object there,
 * atomically (see the file comment). 0, or -1 with an error.
 */
int sl_objstore_put(struct sl_objstore *s, const char *key, const void *data,
                    size_t len);

/** Remove the object `key`; no such object is not an error. 0 or -1. */
int sl_objstore_del(struct sl_objstore *s, const char *key);

/**
 * What the store is, for messages: "null store", "local store /abs/root",
 * "signed local store /abs/root", "local store /abs/root, namespace P".
 * Never holds a secret. Lives as long as the store.
 */
const char *sl_objstore_describe(const struct sl_objstore *s);

/** Free a store and the stores it wraps. NULL is a no-op. */
void sl_objstore_free(struct sl_objstore *s);

/** A store that keeps nothing. NULL with SL_EOOM. */
struct sl_objstore *sl_objstore_null_new(void);

/**
 * A store of files under directory `root` (NULL: $PWD/.nodestream/objects,
 * Nodestream's default; relative: against the current directory). The
 * directory need not exist yet. NULL with an error (SL_EINVAL for an
 * empty root, SL_ESYSTEM when the current directory is unknown, SL_EOOM).
 */
struct sl_objstore *sl_objstore_local_new(const char *root);

/**
 * `inner` with every object signed with HMAC-SHA256 under the key whose
 * base64 text is `key_b64` (the project file's hmac_key; standard
 * alphabet, padded, ASCII whitespace ignored, as Python's b64decode reads
 * it). Takes ownership of `inner`, also on failure. NULL with SL_EINVAL
 * (an empty key or one that is not base64; the message does not quote
 * it), SL_ELIMIT (longer than SL_OBJSTORE_HMAC_KEY_MAX bytes) or SL_EOOM.
 * A NULL `inner` gives NULL, keeping the error that made it NULL.
 */
struct sl_objstore *sl_objstore_signed_new(struct sl_objstore *inner,
                                           const char *key_b64);

/**
 * `inner` with every key K scoped as "prefix/K". Takes ownership of
 * `inner`, also on failure. NULL with SL_EINVAL (`prefix` is not a valid
 * key) or SL_EOOM. A NULL `inner` gives NULL, as for
 * sl_objstore_signed_new().
 */
struct sl_objstore *sl_objstore_namespaced_new(struct sl_objstore *inner,
                                               const char *prefix);

/**
 * Whether `key_b64` is an HMAC key sl_objstore_signed_new() takes. 0, or
 * -1 with SL_EINVAL or SL_ELIMIT and a message that says what is wrong
 * ("the hmac_key is not base64 (...)") without quoting the key.
 */
int sl_objstore_check_hmac_key(const char *key_b64);

/**
 * Whether `key` is a valid key (see the file comment). 0, or -1 with
 * SL_EINVAL saying what is wrong, naming the key as `what` (e.g.
 * "object key") and the store `s` describes (NULL: none).
 */
int sl_objstore_check_key(const struct sl_objstore *s, const char *key,
                          const char *what);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_OBJSTORE_H */
