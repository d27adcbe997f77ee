/*
 * sluice: a small HTTP server on the loop, for serving metrics
 * (`sluice run --prometheus`). It is not a general web server: it answers
 * GET and HEAD requests, one per connection, from a handler that builds
 * the whole response body at once.
 *
 * How it works: libuv's TCP handles on the calling thread's loop, with no
 * task and no thread per request. Each connection has a request buffer of
 * at most `request_max` bytes (a longer request head gets 431 and is
 * closed), a deadline of `timeout` seconds from its accept to the end of
 * the response (then it is closed, whatever it was doing), and at most
 * `clients_max` connections are served at once (more are closed at
 * accept). The handler runs in a libuv callback on the loop thread: it
 * must not wait, and it sees the loop's state between two task switches.
 * Writes are asynchronous, so a client that reads slowly holds only its
 * own response's memory (capped at `response_max`) until its deadline,
 * never the loop. The server's handles do not keep the loop alive: a run
 * whose tasks all wait on nothing else still ends in SL_EDEADLOCK.
 *
 * TLS: with a certificate and key file, connections speak TLS through
 * OpenSSL (memory BIOs between OpenSSL and libuv; TLS 1.2 or later). A
 * file that cannot be read or a key that does not match the certificate
 * fails sl_httpd_open().
 */
#ifndef SLUICE_HTTPD_H
#define SLUICE_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Server options; start from sl_httpd_opts_init(). */
struct sl_httpd_opts {
	/** Address to listen on (IPv4 or IPv6 literal; "0.0.0.0"). */
	const char *address;
	/** TCP port (0: any free port; see sl_httpd_port()). */
	int port;
	/** PEM certificate chain file for TLS, or NULL for plain HTTP. */
	const char *certfile;
	/** PEM private key file for TLS (NULL: the key is in certfile). */
	const char *keyfile;
	/** Most bytes of a request head (default 8 KiB). */
	size_t request_max;
	/** Most bytes of a response body (default 16 MiB). */
	size_t response_max;
	/** Seconds a connection may take from accept to the end of its
	 * response (default 10). */
	double timeout;
	/** Most connections served at once (default 16). */
	uint32_t clients_max;
};

/** Fill `o` with the defaults (0.0.0.0, port 9090, no TLS). */
void sl_httpd_opts_init(struct sl_httpd_opts *o);

/**
 * Build the response to a GET of `path` (the request target, query
 * included) into `body` and set *content_type (a static string). Returns
 * the HTTP status: 200, or 404 for a path it does not serve (the body is
 * then ignored), or 500 (the body, if any, is the message).
 */
typedef int (*sl_httpd_fn)(void *arg, const char *path, struct sl_buf *body,
                           const char **content_type);

/** A running server (opaque). */
struct sl_httpd;

/**
 * Listen on the calling thread's loop and serve requests with `fn`. The
 * server, or NULL with an error naming the address (a port in use is
 * SL_EBUSY with "address already in use").
 */
struct sl_httpd *sl_httpd_open(const struct sl_httpd_opts *o, sl_httpd_fn fn,
                               void *arg);

/** The port the server listens on (useful after port 0). */
int sl_httpd_port(const struct sl_httpd *s);

/** Requests answered so far (any status). */
uint64_t sl_httpd_requests(const struct sl_httpd *s);

/**
 * Stop listening and close every connection (responses in flight are
 * cut). Its memory is freed once libuv has closed the handles, while the
 * loop runs or when it is deleted. NULL is a no-op.
 */
void sl_httpd_close(struct sl_httpd *s);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_HTTPD_H */
