/*
 * sluice: HTTP(S) requests from tasks, through libcurl's multi interface
 * on the loop.
 *
 * Each loop has one curl multi handle, made on its first transfer and
 * released by sl_loop_delete(); it keeps connections for reuse. curl's
 * sockets are watched with uv_poll handles (CURLMOPT_SOCKETFUNCTION) and
 * its timeouts with one uv_timer (CURLMOPT_TIMERFUNCTION), so any number
 * of transfers run at once on the loop while the tasks that started them
 * are suspended. The handles keep the loop alive (and so count for
 * deadlock detection) only while a transfer is in progress.
 *
 * A transfer's body goes into a buffer with a hard cap
 * (`sl_http_opts.buffer_max`). When the next piece does not fit, the
 * transfer is paused (CURL_WRITEFUNC_PAUSE: curl stops reading the socket
 * and keeps the one piece it could not hand over) and resumed once the
 * reader has drained half the buffer. A reader that stops reading (its
 * outbox is full) therefore stops the transfer; memory does not grow with
 * the response. sl_http_source() gives a struct sl_source, so a response
 * goes through the same record readers and decompressors as a file.
 *
 * Redirects are followed (at most `max_redirects`, http and https only;
 * credentials are not sent to another host), any content encoding curl
 * knows (gzip, deflate) is accepted and decoded, and three limits apply:
 * connecting, a stall (no byte for `stall_timeout` seconds while the
 * reader waits; a paused transfer does not count as stalled) and, when
 * set, the whole transfer.
 *
 * Secrets: URLs appear in messages only through sl_http_redact() (user
 * information, and the values of query keys that look like secrets), and
 * request headers never appear. Errors name the method, the redacted URL
 * and the HTTP status with its reason ("GET http://u@host/x: HTTP 404 Not
 * Found"), or curl's message for a transport failure.
 *
 * Requests are GETs unless `sl_http_opts.method` names another method;
 * a small request body (`body`, copied) and AWS Signature Version 4
 * signing (`aws_sigv4`, `username`, `password`: libcurl's
 * CURLOPT_AWS_SIGV4) serve APIs such as S3's (sluice/s3.h). Messages name
 * the method.
 *
 * Memory: libcurl allocates through sl_malloc() & co.
 * (curl_global_init_mem()), so injected allocation faults reach it.
 */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sluice/source.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Smallest body buffer (a piece curl hands over must fit whole). */
#define SL_HTTP_BUFFER_MIN ((size_t)256 * 1024)

/** Default body buffer cap. */
#define SL_HTTP_BUFFER_DEFAULT ((size_t)1 << 20)

/** Options of a request; fill with sl_http_opts_init(). */
struct sl_http_opts {
	/**
	 * Request headers, "Name: value" strings, NULL-terminated; may be
	 * NULL. Copied by libcurl; never shown in messages.
	 */
	const char *const *headers;
	/** Seconds to connect (default 30; 0: curl's default of 300). */
	double connect_timeout;
	/**
	 * Seconds without a received byte, while a task waits for one, after
	 * which the wait fails (default 60; 0: none). A transfer paused
	 * because its buffer is full is not stalled.
	 */
	double stall_timeout;
	/** Seconds for the whole transfer (default 0: no limit). */
	double timeout;
	/** Redirects followed at most (default 10; 0: none followed). */
	long max_redirects;
	/** Cap of the body buffer (default 1 MiB; at least 256 KiB). */
	size_t buffer_max;
	/**
	 * Request method: NULL or "GET" (the default), "PUT", "POST",
	 * "DELETE" or "HEAD". Messages name it instead of GET.
	 */
	const char *method;
	/**
	 * Request body sent with the method (copied by libcurl), or NULL for
	 * none; `body_len` bytes.
	 */
	const void *body;
	/** Size of `body` in bytes. */
	size_t body_len;
	/**
	 * libcurl's AWS Signature Version 4 provider string
	 * ("aws:amz:REGION:SERVICE", CURLOPT_AWS_SIGV4), or NULL: the
	 * request is signed with `username` (the access key id) and
	 * `password` (the secret key).
	 */
	const char *aws_sigv4;
	/** User name for authentication, or NULL; never shown. */
	const char *username;
	/** Password (or secret key) for authentication, or NULL; never shown.
	 */
	const char *password;
};

/** Fill `o` with the defaults. */
void sl_http_opts_init(struct sl_http_opts *o);

/** A transfer in progress (opaque). */
struct sl_http;

/**
 * Start a request of `url` (a GET unless `opts->method` says otherwise) on
 * the calling task's loop and wait until its final
 * response begins (the first byte of the body or the end of the
 * transfer). Returns the transfer whatever its HTTP status (see
 * sl_http_check()), or NULL with an error: SL_ETIMEDOUT, SL_ECANCELLED,
 * SL_EOOM, SL_EINVAL (a malformed URL) or SL_EIO (connection refused, too
 * many redirects, a name that does not resolve, ...). Must be called from
 * a task. `opts` may be NULL.
 */
struct sl_http *sl_http_open(const char *url, const struct sl_http_opts *opts);

/**
 * Start a GET of `url` and return at once: the transfer runs (and fills
 * its buffer, then pauses) while the task does other things, such as
 * reading the previous response. NULL with an error only for what fails
 * at once (SL_EOOM, SL_EINVAL). Call sl_http_wait_response() before
 * anything else but sl_http_close(). Must be called from a task.
 */
struct sl_http *sl_http_start(const char *url, const struct sl_http_opts *opts);

/**
 * Wait until the response of a started transfer begins (as
 * sl_http_open()). 0, or -1 with the errors of sl_http_open(); close
 * `h` either way when done with it.
 */
int sl_http_wait_response(struct sl_http *h);

/** Abort the transfer if it runs and free it. NULL is a no-op. */
void sl_http_close(struct sl_http *h);

/** The HTTP status of the final response (e.g. 200), or 0. */
long sl_http_status(const struct sl_http *h);

/**
 * 0 if the status is 2xx; otherwise -1 with SL_EIO "GET URL: HTTP 404 Not
 * Found" (the URL redacted, with the URL redirected to when it differs).
 */
int sl_http_check(const struct sl_http *h);

/** The URL as requested, redacted for messages (lives with `h`). */
const char *sl_http_shown_url(const struct sl_http *h);

/**
 * The URL of the final response after redirects, unredacted: for
 * resolving relative links, never for messages. NULL if unknown.
 */
const char *sl_http_final_url(const struct sl_http *h);

/**
 * The value of response header `name` (any case) of the final response,
 * the last one if it repeats, or NULL. Valid until the next call on `h`.
 */
const char *sl_http_header(const struct sl_http *h, const char *name);

/**
 * Every value of response header `name` of the final response joined
 * with ", " into out[0..size) (truncated, NUL-terminated); 0 if it has
 * none, else the number of values.
 */
size_t sl_http_header_all(const struct sl_http *h, const char *name, char *out,
                          size_t size);

/**
 * sl_read_fn of a transfer (`ctx` is the struct sl_http): up to `size`
 * body bytes, suspending the task until some arrive. Returns the count,
 * 0 at the end, or -1 with the transfer's error (SL_ETIMEDOUT for a
 * stall or the overall limit, SL_EIO, SL_ECANCELLED, SL_EOOM).
 */
ssize_t sl_http_read(void *ctx, char *buf, size_t size);

/** A source reading the body of `h`, named by its redacted URL. */
struct sl_source sl_http_source(struct sl_http *h);

/** Body bytes received so far (decoded). */
unsigned long long sl_http_bytes(const struct sl_http *h);

/** Times the transfer was paused because its buffer was full. */
unsigned long sl_http_pauses(const struct sl_http *h);

/**
 * The target of the response's RFC 8288 link with relation `rel` (e.g.
 * "next"; any case, among space-separated relations) from its Link
 * headers, resolved against the final URL, as a new string (sl_free()).
 * NULL with no error when there is none; NULL with an error (SL_EOOM,
 * SL_EINVAL for a target that is not a URL) otherwise.
 */
char *sl_http_link(const struct sl_http *h, const char *rel);

/**
 * `ref` (absolute, or relative as in a Location or Link header) resolved
 * against `base`, as a new string (sl_free()); NULL with SL_EINVAL or
 * SL_EOOM. Messages show neither URL unredacted.
 */
char *sl_http_resolve(const char *base, const char *ref);

/**
 * Copy `url` to out[0..size) for messages (truncated, NUL-terminated):
 * sl_uri_redact()'s rules (user information without its password, libpq's
 * secret keys), and the value of every query key that names a secret
 * (containing, in any case, "pass", "secret", "token", "key", "sig",
 * "auth" or "credential") replaced by "***". Returns `out`.
 */
char *sl_http_redact(const char *url, char *out, size_t size);

/**
 * The time an HTTP date names (RFC 9110: IMF-fixdate and the two obsolete
 * forms, as in `Retry-After`), in seconds since the epoch; -1 when `s` is
 * not one.
 */
long long sl_http_date(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_HTTP_H */
