/*
 * sluice: the Bolt driver's internals (Neo4j, and any server that speaks
 * Bolt 4.4 or 5.0-5.8). Private to src/db/bolt/.
 *
 * A connection (struct bolt) is a socket, with TLS through OpenSSL for the
 * "+s" and "+ssc" schemes, watched by an sl_io so that every wait suspends
 * only the calling task. Requests are PackStream structures (packstream.h)
 * written into `out` in chunks of at most 65535 bytes, each message ending
 * with an empty chunk; several requests go out in one write (BEGIN, RUN
 * and PULL together). Replies are read a message at a time: NOOP chunks
 * between messages are skipped.
 *
 * The files: uri.c parses URIs; net.c is the transport (connect, TLS,
 * read, write); proto.c the handshake, authentication, messages and the
 * FAILURE / IGNORED / RESET dance; route.c the routing tables of
 * "neo4j://" URIs and bookmarks; driver.c the database layer's driver.
 */
#ifndef SLUICE_DB_BOLT_BOLT_H
#define SLUICE_DB_BOLT_BOLT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../conn.h"
#include "packstream.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/io.h"

/** Default port of Bolt. */
#define BOLT_PORT 7687
/** Longest host name kept. */
#define BOLT_HOST_MAX 256
/** Longest user, database or realm name kept. */
#define BOLT_NAME_MAX 256
/** Longest password or token kept. */
#define BOLT_SECRET_MAX 1024
/** Largest message accepted from a server. */
#define BOLT_MSG_MAX ((size_t)256 << 20)
/** Largest chunk (the protocol's u16 length). */
#define BOLT_CHUNK_MAX 65535
/** Records asked for per PULL. */
#define BOLT_FETCH 1000
/** Longest bookmark kept. */
#define BOLT_BOOKMARK_MAX 512

/** Request message tags. */
enum bolt_req {
	BOLT_HELLO = 0x01,
	BOLT_GOODBYE = 0x02,
	BOLT_RESET = 0x0F,
	BOLT_RUN = 0x10,
	BOLT_BEGIN = 0x11,
	BOLT_COMMIT = 0x12,
	BOLT_ROLLBACK = 0x13,
	BOLT_DISCARD = 0x2F,
	BOLT_PULL = 0x3F,
	BOLT_TELEMETRY = 0x54,
	BOLT_ROUTE = 0x66,
	BOLT_LOGON = 0x6A,
	BOLT_LOGOFF = 0x6B,
};

/** Reply message tags. */
enum bolt_reply {
	BOLT_SUCCESS = 0x70,
	BOLT_RECORD = 0x71,
	BOLT_IGNORED = 0x7E,
	BOLT_FAILURE = 0x7F,
};

/** Authentication schemes. */
enum bolt_auth {
	BOLT_AUTH_BASIC = 0, /**< user and password (optional realm) */
	BOLT_AUTH_BEARER,    /**< a token, given as the URI's password */
	BOLT_AUTH_NONE,      /**< no credentials */
};

/** What a Bolt URI says. */
struct bolt_uri {
	/** "neo4j" schemes: route through the cluster's routing table. */
	bool routing;
	/** TLS ("+s" or "+ssc"). */
	bool tls;
	/** "+ssc": accept any certificate (self-signed). */
	bool trust_all;
	/** Host name or address. */
	char host[BOLT_HOST_MAX];
	/** Port. */
	int port;
	/** User name (decoded). */
	char user[BOLT_NAME_MAX];
	/** Password or bearer token (decoded; never shown). */
	char secret[BOLT_SECRET_MAX];
	/** Database name, or "" for the server's default. */
	char db[BOLT_NAME_MAX];
	/** Realm of basic authentication, or "". */
	char realm[BOLT_NAME_MAX];
	/** Authentication scheme. */
	enum bolt_auth auth;
	/** CA file to verify the server with ("+s"), or "" for the system's. */
	char ca[BOLT_NAME_MAX];
};

/**
 * Parse `url` into *u. `shown` (the redacted URI) names it in errors.
 * 0, or -1 with SL_EINVAL naming what is wrong.
 */
int bolt_uri_parse(const char *url, const char *shown, struct bolt_uri *u);

/** Whether `url` starts with a Bolt scheme. */
bool bolt_uri_is(const char *url);

struct bolt_tls;

/** One Bolt connection. */
struct bolt {
	/** The socket, or -1. */
	int fd;
	/** Watcher of `fd`. */
	struct sl_io io;
	/** Whether `io` was created. */
	bool io_ok;
	/** TLS state, or NULL. */
	struct bolt_tls *tls;
	/** Agreed version: major. */
	uint8_t major;
	/** Agreed version: minor. */
	uint8_t minor;
	/** The URI, parsed. */
	struct bolt_uri uri;
	/** The address connected to ("host:port"), for messages. */
	char addr[BOLT_HOST_MAX + 8];
	/** The connection as errors name it (the redacted URI). */
	const char *shown;
	/** Requests not yet written, chunked. */
	struct sl_buf out;
	/** The message being built (before chunking). */
	struct sl_buf msg;
	/** Bytes read and not yet used. */
	uint8_t *in;
	/** Bytes in `in` from `in_pos`. */
	size_t in_len;
	/** First unused byte of `in`. */
	size_t in_pos;
	/** Size of `in`. */
	size_t in_cap;
	/** The reply being read, de-chunked. */
	struct sl_buf reply;
	/** Where replies are decoded (reset per reply). */
	struct sl_arena scratch;
	/** When the current operation must end (sl_clock()), or 0. */
	double deadline;
	/** Server agent from HELLO's reply. */
	char server[128];
	/** Connection id from HELLO's reply. */
	char conn_id[64];
	/** Inside a transaction (BEGIN sent or queued). */
	bool in_tx;
	/** BEGIN is queued in `out` and its reply not read. */
	bool begin_pending;
	/** The transaction was lost (a FAILURE and RESET discarded it). */
	bool tx_lost;
	/** Bookmark of the last commit, or "". */
	char bookmark[BOLT_BOOKMARK_MAX];
	/** Requests sent (or queued) whose summary reply is not read. */
	unsigned pending;
	/** A FAILURE came and no RESET since: the server ignores requests. */
	bool failed;
};

/** The connection's state. */
#define BOLT(c) ((struct bolt *)(c)->impl)

/*
 * Transport (net.c).
 */

/**
 * Connect to host:port, with TLS when the URI says so, by `deadline`.
 * 0, or -1 with SL_EIO (unreachable, TLS failed) or SL_ETIMEDOUT.
 */
int bolt_net_connect(struct bolt *b, const char *host, int port,
                     double deadline);
/** Close the socket and TLS state (idempotent). */
void bolt_net_close(struct bolt *b);
/**
 * Write every byte of `out` and empty it. 0, or -1 with SL_EIO,
 * SL_ETIMEDOUT or SL_ECANCELLED.
 */
int bolt_net_flush(struct bolt *b);
/**
 * Read at least one more byte into `in`. 0, or -1 with SL_EIO (also on
 * end of stream), SL_ETIMEDOUT or SL_ECANCELLED.
 */
int bolt_net_fill(struct bolt *b);

/*
 * Protocol (proto.c).
 */

/** Initialise the buffers of `b` (no connection yet). */
void bolt_create(struct bolt *b, const char *shown);
/** Free what `b` holds (closing the socket). */
void bolt_destroy(struct bolt *b);
/**
 * Connect to host:port, agree on a version, say HELLO and log on. 0, or
 * -1: SL_EIO, SL_ETIMEDOUT, SL_EDB (authentication, no version in
 * common), SL_EPARSE (not a Bolt server).
 */
int bolt_open(struct bolt *b, const char *host, int port, double deadline,
              const char *agent);
/** Say GOODBYE (best effort) and close. */
void bolt_close(struct bolt *b);
/**
 * Start a request: a structure of `nfields` fields and `tag` in `msg`.
 * Its fields follow with the sl_ps_put_*() writers on &b->msg.
 */
int bolt_begin_msg(struct bolt *b, unsigned nfields, uint8_t tag);
/** End the request started last: chunk it into `out`. 0, or -1. */
int bolt_end_msg(struct bolt *b);
/**
 * Read the next reply into *m (a structure; its values point into the
 * connection's buffers until the next reply). 0, or -1 (connection errors).
 */
int bolt_recv(struct bolt *b, struct sl_ps *m);
/**
 * Set the error for a FAILURE reply `m`: SL_EDB, "CODE: message" (5.7's
 * neo4j_code too), prefixed with `what`.
 */
void bolt_failure(struct bolt *b, const struct sl_ps *m, const char *what);
/** The server's code of FAILURE `m`, or "". */
const char *bolt_failure_code(const struct sl_ps *m, char *out, size_t size);
/**
 * Send RESET and read replies up to its answer (IGNORED ones before it
 * are skipped). 0, or -1 (the connection is then unusable).
 */
int bolt_reset(struct bolt *b);
/** Whether the version is at least major.minor. */
static inline bool
bolt_at_least(const struct bolt *b, int major, int minor)
{
	return b->major > major || (b->major == major && b->minor >= minor);
}

/*
 * Routing (route.c).
 */

/**
 * The address to write to for routing URI `u`: asks a router (ROUTE)
 * unless a fresh routing table is cached. 0 with host/port filled, or -1.
 */
int bolt_route_writer(const struct bolt_uri *u, const char *shown,
                      double deadline, const char *agent, char *host,
                      size_t host_size, int *port);
/** Forget the cached routing table of `u` (a NotALeader reply). */
void bolt_route_forget(const struct bolt_uri *u);
/** Remember `bookmark` for the database of `u`. */
void bolt_bookmark_set(const struct bolt_uri *u, const char *bookmark);
/** The last bookmark of the database of `u`, or "". */
const char *bolt_bookmark_get(const struct bolt_uri *u);

#endif /* SLUICE_DB_BOLT_BOLT_H */
