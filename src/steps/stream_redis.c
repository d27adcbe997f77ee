/*
 * sluice: the StreamExtractor's Redis Streams connector.
 *
 * hiredis parses and builds the protocol; the socket is non-blocking and
 * the extractor's task waits on it through sl_io (a uv_poll on the
 * runtime's loop), so a poll that blocks on the server suspends the task,
 * never the loop.
 *
 * It consumes with a consumer group (`group_id`, created with MKSTREAM
 * at `start_id` if missing): first this consumer's own pending entries
 * (XREADGROUP from 0: what a crashed run of the same consumer read and
 * never acknowledged), then, with `claim_min_idle`, other consumers'
 * entries pending longer than that (XAUTOCLAIM: a dead consumer's), then
 * new entries (XREADGROUP >, BLOCK). After an empty read it claims
 * again. Acknowledgement is one pipelined XACK per stream and poll.
 *
 * Errors name the server as host:port (never the password of the URL).
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/diag.h"
#include "sluice/io.h"
#include "sluice/task.h"
#include "stream.h"

/** Most streams one extractor reads. */
#define STREAMS_MAX 16

/** Longest name (stream, group, consumer, host, password) kept. */
#define NAME_MAX_LEN 256

/** Commands whose replies may be outstanding at once (XACKs that wait
 * for the next command, reads ahead, one call): a hard cap. */
#define PENDING_MAX 256

/** Most XREADGROUPs sent ahead of the poll that takes their replies
 * (fewer if max_unacked_polls is lower): they keep the server busy while
 * a reply travels and its entries go on, also when the extractor's
 * thread is held up for a while. */
#define READ_AHEAD 4

/** What a command's reply is for. */
enum cmd_kind {
	CMD_ACK = 0, /**< an XACK: checked and dropped when read */
	CMD_READ,    /**< an XREADGROUP of new entries (read ahead) */
	CMD_CALL,    /**< any other command, sent alone */
};

/** Where the connector is in its order of reading. */
enum phase {
	PH_OWN = 0, /**< this consumer's pending entries, from 0 */
	PH_CLAIM,   /**< XAUTOCLAIM of entries idle for claim_min_idle */
	PH_NEW,     /**< new entries (>) */
};

/** A Redis Streams connector. */
struct stream_conn {
	/** The server's host. */
	char host[NAME_MAX_LEN];
	/** Its port. */
	int port;
	/** ACL user name ("" for none). */
	char user[NAME_MAX_LEN];
	/** Password ("" for none); never in a message. */
	char pass[NAME_MAX_LEN];
	/** Database number. */
	int db;
	/** Stream keys. */
	char streams[STREAMS_MAX][NAME_MAX_LEN];
	/** Origin prefixes, "redis:<stream>:". */
	char prefix[STREAMS_MAX][NAME_MAX_LEN + 8];
	/** Number of streams. */
	uint32_t n_streams;
	/** The consumer group. */
	char group[NAME_MAX_LEN];
	/** This consumer's name. */
	char consumer[NAME_MAX_LEN];
	/** Where a new group starts ("$": new entries only; "0": all). */
	char start_id[64];
	/** Entries per read (COUNT). */
	int64_t count;
	/** XAUTOCLAIM entries idle this long (ms); -1: never. */
	int64_t claim_ms;
	/** Seconds to wait for a connection or a reply. */
	double timeout;
	/** The connection, or NULL. */
	redisContext *c;
	/** The watcher on its socket. */
	struct sl_io io;
	/** Whether `io` is set up. */
	bool io_ok;
	/** Whether a wait for a reply did not end (a cancelled wait): the
	 * connection is unusable, reconnect. */
	bool busy;
	/** What the replies still to come are for, in the order of the
	 * commands (appended or sent): a ring of PENDING_MAX. */
	uint8_t pending[PENDING_MAX];
	/** Index of the oldest in `pending`. */
	uint32_t p_head;
	/** Commands in `pending`. */
	uint32_t p_len;
	/** Of them, the oldest ones that were sent (the others are only
	 * appended: they go out with the next command that needs a reply). */
	uint32_t p_sent;
	/** XREADGROUPs of new entries read ahead in `pending`
	 * (`max_ahead` at most): the server works on them while a poll's
	 * entries go on. */
	uint32_t ahead;
	/** Most reads ahead: READ_AHEAD, or max_unacked_polls if lower. */
	uint32_t max_ahead;
	/** Buffer of socket reads (READ_BUF bytes). */
	char *rbuf;
	/** Memory of the replies (hiredis's reply objects are made here
	 * rather than one malloc each; REPLY_CAP at most); reset when no
	 * reply is in use. */
	struct sl_arena replies;
	/** Replies handed out and not freed yet (r_free()). */
	uint32_t live;
	/** Whether a reply passed REPLY_CAP (the reader's "out of memory"). */
	bool too_big;
	/** The XACK commands being built (RESP), XACK_CAP bytes at most. */
	char *abuf;
	/** Bytes allocated for `abuf`. */
	size_t abuf_cap;
	/** Reading order. */
	enum phase phase;
	/** Stream the OWN and CLAIM phases are at. */
	uint32_t at;
	/** Last entry ID read in the OWN phase, or the XAUTOCLAIM cursor. */
	char cursor[64];
};

/** "host:port" for messages. */
static const char *
where(const struct stream_conn *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%d", c->host, c->port);
	return buf;
}

/** Most bytes of one reply's objects (a poll's entries). */
#define REPLY_CAP ((size_t)1 << 30)

/** A reply object of `task` in the connector's arena, linked into its
 * parent array; NULL (the reader fails) past REPLY_CAP. */
static redisReply *
reply_new(const redisReadTask *task, int type, size_t extra)
{
	struct stream_conn *c = task->privdata;
	redisReply *r = sl_arena_alloc(&c->replies, sizeof(*r) + extra);
	if (r == NULL) {
		c->too_big = sl_diag_code() == SL_ELIMIT;
		sl_diag_clear(sl_diag_get());
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->type = type;
	if (task->parent != NULL) {
		redisReply *parent = task->parent->obj;
		parent->element[task->idx] = r;
	}
	return r;
}

/** redisReplyObjectFunctions.createString: a copy after the object. */
static void *
reply_string(const redisReadTask *task, char *str, size_t len)
{
	redisReply *r = reply_new(task, task->type, len + 1);
	if (r == NULL)
		return NULL;
	r->str = (char *)(r + 1);
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->len = len;
	return r;
}

/** redisReplyObjectFunctions.createArray: the elements after it. */
static void *
reply_array(const redisReadTask *task, int elements)
{
	size_t n = elements > 0 ? (size_t)elements : 0;
	redisReply *r = reply_new(task, REDIS_REPLY_ARRAY, n * sizeof(r));
	if (r == NULL)
		return NULL;
	r->elements = n;
	r->element = n > 0 ? (redisReply **)(r + 1) : NULL;
	return r;
}

/** redisReplyObjectFunctions.createInteger. */
static void *
reply_integer(const redisReadTask *task, long long v)
{
	redisReply *r = reply_new(task, REDIS_REPLY_INTEGER, 0);
	if (r != NULL)
		r->integer = v;
	return r;
}

/** redisReplyObjectFunctions.createNil. */
static void *
reply_nil(const redisReadTask *task)
{
	return reply_new(task, REDIS_REPLY_NIL, 0);
}

/** redisReplyObjectFunctions.freeObject: nothing (the arena is reset). */
static void
reply_forget(void *obj)
{
	(void)obj;
}

/** Reply objects in the connector's arena, not one malloc each. */
static redisReplyObjectFunctions reply_fns = {
        reply_string, reply_array, reply_integer, reply_nil, reply_forget};

/** Done with reply `r` (from r_next()); the last one resets the arena. */
static void
r_free(struct stream_conn *c, redisReply *r)
{
	(void)r;
	if (c->live > 0 && --c->live == 0)
		sl_arena_reset(&c->replies);
}

/** Close the connection. */
static void
r_close(struct stream_conn *c)
{
	if (c->io_ok)
		sl_io_destroy(&c->io);
	c->io_ok = false;
	if (c->c != NULL)
		redisFree(c->c);
	c->c = NULL;
	c->busy = false;
	c->p_head = c->p_len = c->p_sent = 0;
	c->ahead = 0;
	c->live = 0;
	sl_arena_reset(&c->replies);
}

/** Fail with the connection's error, naming the server; closes it. */
static int
r_fail(struct stream_conn *c, const char *what)
{
	char w[NAME_MAX_LEN + 16];
	if (c->too_big)
		sl_diag_set(SL_ELIMIT,
		            "redis at %s: %s: a reply of more than %zu MiB "
		            "(lower max_records)",
		            where(c, w, sizeof(w)), what, REPLY_CAP >> 20);
	else
		sl_diag_set(SL_EIO, "redis at %s: %s: %s",
		            where(c, w, sizeof(w)), what,
		            c->c != NULL && c->c->errstr[0]
		                    ? c->c->errstr
		                    : "connection lost");
	c->too_big = false;
	r_close(c);
	return -1;
}

/** Wait for `events` on the socket; on a failure the connection closes. */
static int
r_wait(struct stream_conn *c, int events, double timeout, const char *what)
{
	if (sl_io_wait(&c->io, events, timeout) > 0)
		return 0;
	if (sl_diag_code() == SL_ETIMEDOUT) {
		char w[NAME_MAX_LEN + 16];
		sl_diag_clear(sl_diag_get());
		sl_diag_set(SL_ETIMEDOUT, "redis at %s: %s: no answer in %g s",
		            where(c, w, sizeof(w)), what, timeout);
	}
	r_close(c);
	return -1;
}

/** Note that a command of `kind` was appended. */
static int
r_push(struct stream_conn *c, enum cmd_kind kind)
{
	if (c->p_len == PENDING_MAX) {
		char w[NAME_MAX_LEN + 16];
		sl_diag_set(SL_ELIMIT, "redis at %s: more than %d replies due",
		            where(c, w, sizeof(w)), PENDING_MAX);
		r_close(c);
		return -1;
	}
	c->pending[(c->p_head + c->p_len++) % PENDING_MAX] = (uint8_t)kind;
	if (kind == CMD_READ)
		c->ahead++;
	return 0;
}

/** Append command `argv[0..argc)` of `kind`. */
static int
r_append(struct stream_conn *c, int argc, const char **argv, enum cmd_kind kind)
{
	if (redisAppendCommandArgv(c->c, argc, argv, NULL) != REDIS_OK)
		return r_fail(c, "building a command");
	return r_push(c, kind);
}

/** Send what was appended. */
static int
r_flush(struct stream_conn *c)
{
	for (;;) {
		int done = 0;
		if (redisBufferWrite(c->c, &done) != REDIS_OK)
			return r_fail(c, "sending");
		if (done) {
			c->p_sent = c->p_len;
			return 0;
		}
		if (r_wait(c, SL_IO_WRITE, c->timeout, "sending") != 0)
			return -1;
	}
}

/** Bytes read from the socket at once (a poll's reply is ~100 KB). */
#define READ_BUF 262144

/**
 * The next reply (freed by the caller with r_free()), waiting up
 * to `timeout` seconds for it. An error reply is returned as such. It
 * reads what the socket has before it waits, READ_BUF at a time.
 */
static int
r_next(struct stream_conn *c, double timeout, redisReply **out)
{
	c->busy = true;
	for (;;) {
		void *r = NULL;
		if (redisGetReplyFromReader(c->c, &r) != REDIS_OK)
			return r_fail(c, "reading a reply");
		if (r != NULL) {
			c->busy = false;
			c->live++;
			*out = r;
			return 0;
		}
		ssize_t n = read(c->c->fd, c->rbuf, READ_BUF);
		if (n > 0) {
			if (redisReaderFeed(c->c->reader, c->rbuf, (size_t)n) !=
			    REDIS_OK)
				return r_fail(c, "reading a reply");
			continue;
		}
		if (n == 0)
			return r_fail(c, "the server closed the connection");
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			char w[NAME_MAX_LEN + 16];
			sl_diag_set_errno("redis at %s: reading",
			                  where(c, w, sizeof(w)));
			r_close(c);
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (r_wait(c, SL_IO_READ, timeout, "waiting for a reply") != 0)
			return -1;
	}
}

/**
 * Read the replies due in order up to the next one that is not an XACK's
 * and return it in `out`; with `out` NULL, read every reply due (those of
 * reads ahead are dropped: their entries stay pending). What is only
 * appended is sent first. An XACK error fails.
 */
static int
r_reply(struct stream_conn *c, double timeout, redisReply **out)
{
	while (c->p_len > 0) {
		if (c->p_sent == 0 && r_flush(c) != 0)
			return -1;
		redisReply *r = NULL;
		if (r_next(c, timeout, &r) != 0)
			return -1;
		enum cmd_kind kind = c->pending[c->p_head];
		c->p_head = (c->p_head + 1) % PENDING_MAX;
		c->p_len--;
		c->p_sent--;
		if (kind == CMD_READ)
			c->ahead--;
		if (kind == CMD_ACK && r->type == REDIS_REPLY_ERROR) {
			char w[NAME_MAX_LEN + 16];
			sl_diag_set(SL_EIO, "redis at %s: XACK: %.*s",
			            where(c, w, sizeof(w)), (int)r->len,
			            r->str);
			r_free(c, r);
			return -1;
		}
		if (kind != CMD_ACK && out != NULL) {
			*out = r;
			return 0;
		}
		r_free(c, r);
	}
	if (out != NULL) {
		sl_diag_set(SL_EINVAL, "redis: no reply due");
		return -1;
	}
	return 0;
}

/** Send one command and read its reply; an error reply fails. */
static int
r_call(struct stream_conn *c, int argc, const char **argv, double timeout,
       redisReply **out)
{
	redisReply *r;
	if (c->ahead > 0) {
		sl_diag_set(SL_EINVAL, "redis: %s while reads are ahead",
		            argv[0]);
		return -1;
	}
	if (r_append(c, argc, argv, CMD_CALL) != 0 || r_flush(c) != 0 ||
	    r_reply(c, timeout, &r) != 0)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		char w[NAME_MAX_LEN + 16];
		sl_diag_set(SL_EIO, "redis at %s: %s: %.*s",
		            where(c, w, sizeof(w)), argv[0], (int)r->len,
		            r->str);
		r_free(c, r);
		return -1;
	}
	if (out != NULL)
		*out = r;
	else
		r_free(c, r);
	return 0;
}

/** Connect, authenticate and select the database. */
static int
r_connect(struct stream_conn *c)
{
	char w[NAME_MAX_LEN + 16];
	c->c = redisConnectNonBlock(c->host, c->port);
	if (c->c == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a redis connection");
		return -1;
	}
	if (c->c->err)
		return r_fail(c, "connecting");
	/* Replies in the arena; the reader keeps its buffer. */
	c->c->reader->fn = &reply_fns;
	c->c->reader->privdata = c;
	c->c->reader->maxbuf = 0;
	if (sl_io_create(&c->io, c->c->fd) != 0) {
		r_close(c);
		return -1;
	}
	c->io_ok = true;
	if (r_wait(c, SL_IO_WRITE, c->timeout, "connecting") != 0)
		return -1;
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		sl_diag_set(SL_EIO, "redis at %s: connecting: %s",
		            where(c, w, sizeof(w)), strerror(err));
		r_close(c);
		return -1;
	}
	if (c->pass[0]) {
		const char *a1[] = {"AUTH", c->user, c->pass};
		const char *a2[] = {"AUTH", c->pass};
		if (c->user[0] ? r_call(c, 3, a1, c->timeout, NULL)
		               : r_call(c, 2, a2, c->timeout, NULL)) {
			r_close(c);
			return -1;
		}
	}
	if (c->db != 0) {
		char db[16];
		snprintf(db, sizeof(db), "%d", c->db);
		const char *a[] = {"SELECT", db};
		if (r_call(c, 2, a, c->timeout, NULL) != 0) {
			r_close(c);
			return -1;
		}
	}
	return 0;
}

/** Reconnect if the connection is gone or mid-reply. */
static int
r_ready(struct stream_conn *c)
{
	if (c->c != NULL && !c->busy)
		return 0;
	r_close(c);
	return r_connect(c);
}

/** Connect, create the groups (BUSYGROUP is fine), start reading own
 * pending entries (stream_connector.start). */
static int
redis_start(struct stream_conn *c)
{
	if (r_connect(c) != 0)
		return -1;
	for (uint32_t i = 0; i < c->n_streams; i++) {
		const char *a[] = {"XGROUP", "CREATE",    c->streams[i],
		                   c->group, c->start_id, "MKSTREAM"};
		if (r_call(c, 6, a, c->timeout, NULL) == 0)
			continue;
		if (c->c == NULL || sl_diag_get()->last == NULL ||
		    strstr(sl_diag_get()->last->msg, "BUSYGROUP") == NULL)
			return -1;
		sl_diag_clear(sl_diag_get());
	}
	c->phase = PH_OWN;
	c->at = 0;
	strcpy(c->cursor, "0");
	return 0;
}

/**
 * Hand the entries of array `es` ([id, [field, value, ...]] each) of
 * stream `si` to `fn`, with a token each. Returns the number, or -1.
 */
static int
deliver(struct stream_conn *c, uint32_t si, const redisReply *es,
        struct stream_poll *p, stream_msg_fn fn, void *arg)
{
	const char *names[256], *vals[256];
	size_t nl[256], vl[256];
	for (size_t i = 0; i < es->elements; i++) {
		const redisReply *e = es->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING) {
			sl_diag_set(SL_EIO, "redis: an unexpected reply");
			return -1;
		}
		const redisReply *id = e->element[0], *fs = e->element[1];
		if (stream_poll_token(p, si, id->str, id->len) == NULL)
			return -1;
		size_t plen = strlen(c->prefix[si]);
		char *origin = sl_arena_alloc(&p->arena, plen + id->len + 1);
		if (origin == NULL)
			return -1;
		memcpy(origin, c->prefix[si], plen);
		memcpy(origin + plen, id->str, id->len + 1);
		struct stream_msg m = {origin, 0, names, nl, vals, vl, false};
		if (fs->type != REDIS_REPLY_ARRAY) {
			m.deleted = true;
		} else {
			if (fs->elements / 2 > 256) {
				sl_diag_set(SL_ELIMIT,
				            "%s: more than 256 fields", origin);
				return -1;
			}
			for (size_t k = 0; k + 1 < fs->elements; k += 2) {
				names[m.n] = fs->element[k]->str;
				nl[m.n] = fs->element[k]->len;
				vals[m.n] = fs->element[k + 1]->str;
				vl[m.n] = fs->element[k + 1]->len;
				m.n++;
			}
		}
		if (fn(arg, &m) != 0)
			return -1;
	}
	return (int)es->elements;
}

/** Read this consumer's own pending entries of the current stream. */
static int
poll_own(struct stream_conn *c, struct stream_poll *p, stream_msg_fn fn,
         void *arg)
{
	char count[32];
	snprintf(count, sizeof(count), "%lld", (long long)c->count);
	const char *a[] = {"XREADGROUP", "GROUP",           c->group,
	                   c->consumer,  "COUNT",           count,
	                   "STREAMS",    c->streams[c->at], c->cursor};
	redisReply *r;
	if (r_call(c, 9, a, c->timeout, &r) != 0)
		return -1;
	int n = 0;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->elements == 2) {
		const redisReply *es = r->element[0]->element[1];
		n = deliver(c, c->at, es, p, fn, arg);
		if (n > 0) {
			const redisReply *last = es->element[es->elements - 1];
			snprintf(c->cursor, sizeof(c->cursor), "%.*s",
			         (int)last->element[0]->len,
			         last->element[0]->str);
		}
	}
	r_free(c, r);
	if (n == 0) {
		strcpy(c->cursor, "0");
		if (++c->at == c->n_streams) {
			c->at = 0;
			c->phase = c->claim_ms >= 0 ? PH_CLAIM : PH_NEW;
			strcpy(c->cursor, "0-0");
		}
	}
	return n;
}

/** XAUTOCLAIM idle entries of the current stream. */
static int
poll_claim(struct stream_conn *c, struct stream_poll *p, stream_msg_fn fn,
           void *arg)
{
	char count[32], idle[32];
	snprintf(count, sizeof(count), "%lld", (long long)c->count);
	snprintf(idle, sizeof(idle), "%lld", (long long)c->claim_ms);
	const char *a[] = {
	        "XAUTOCLAIM", c->streams[c->at], c->group, c->consumer,
	        idle,         c->cursor,         "COUNT",  count};
	redisReply *r;
	if (r_call(c, 8, a, c->timeout, &r) != 0)
		return -1;
	int n = 0;
	bool end = true;
	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING) {
		snprintf(c->cursor, sizeof(c->cursor), "%.*s",
		         (int)r->element[0]->len, r->element[0]->str);
		end = strcmp(c->cursor, "0-0") == 0;
		n = deliver(c, c->at, r->element[1], p, fn, arg);
	}
	r_free(c, r);
	if (n >= 0 && end) {
		strcpy(c->cursor, "0-0");
		if (++c->at == c->n_streams) {
			c->at = 0;
			c->phase = PH_NEW;
		}
	}
	return n;
}

/**
 * Append XREADGROUP of new entries of every stream, blocking up to
 * `block` seconds (0: not at all).
 */
static int
append_new(struct stream_conn *c, double block)
{
	char count[32], ms[32];
	snprintf(count, sizeof(count), "%lld", (long long)c->count);
	long long bms = (long long)(block * 1000);
	snprintf(ms, sizeof(ms), "%lld", bms);
	const char *a[8 + 2 * STREAMS_MAX];
	int n = 0;
	a[n++] = "XREADGROUP";
	a[n++] = "GROUP";
	a[n++] = c->group;
	a[n++] = c->consumer;
	a[n++] = "COUNT";
	a[n++] = count;
	if (bms > 0) {
		a[n++] = "BLOCK";
		a[n++] = ms;
	}
	a[n++] = "STREAMS";
	for (uint32_t i = 0; i < c->n_streams; i++)
		a[n++] = c->streams[i];
	for (uint32_t i = 0; i < c->n_streams; i++)
		a[n++] = ">";
	return r_append(c, n, a, CMD_READ);
}

/** Entries in an XREADGROUP reply. */
static size_t
count_entries(const redisReply *r)
{
	size_t n = 0;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements;
	     i++) {
		const redisReply *s = r->element[i];
		if (s->type == REDIS_REPLY_ARRAY && s->elements == 2 &&
		    s->element[1]->type == REDIS_REPLY_ARRAY)
			n += s->element[1]->elements;
	}
	return n;
}

/**
 * Read new entries of every stream, blocking up to `block` seconds, or
 * take the reply of a read sent ahead. A full reply (COUNT entries)
 * sends reads ahead, up to max_ahead, before its entries are handed on
 * (the server works on them meanwhile; the XACKs appended go out in the
 * same write); the next polls take their replies. At most max_ahead
 * reads are out, so what the server has handed out and the extractor has
 * not seen is bounded.
 */
static int
poll_new(struct stream_conn *c, struct stream_poll *p, double block,
         stream_msg_fn fn, void *arg)
{
	redisReply *r;
	double timeout = c->timeout;
	if (c->ahead == 0) {
		if (append_new(c, block) != 0 || r_flush(c) != 0)
			return -1;
		timeout += block;
	}
	if (r_reply(c, timeout, &r) != 0)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		char w[NAME_MAX_LEN + 16];
		sl_diag_set(SL_EIO, "redis at %s: XREADGROUP: %.*s",
		            where(c, w, sizeof(w)), (int)r->len, r->str);
		r_free(c, r);
		return -1;
	}
	if (count_entries(r) >= (size_t)c->count) {
		bool more = false;
		while (c->ahead < c->max_ahead) {
			if (append_new(c, 0) != 0) {
				r_free(c, r);
				return -1;
			}
			more = true;
		}
		if (more && r_flush(c) != 0) {
			r_free(c, r);
			return -1;
		}
	}
	int got = 0;
	if (r->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < r->elements && got >= 0; i++) {
			const redisReply *s = r->element[i];
			if (s->type != REDIS_REPLY_ARRAY || s->elements != 2)
				continue;
			uint32_t si = 0;
			while (si < c->n_streams &&
			       (strlen(c->streams[si]) != s->element[0]->len ||
			        memcmp(c->streams[si], s->element[0]->str,
			               s->element[0]->len) != 0))
				si++;
			if (si == c->n_streams)
				continue;
			int k = deliver(c, si, s->element[1], p, fn, arg);
			got = k < 0 ? -1 : got + k;
		}
	}
	r_free(c, r);
	/* Claim after an empty read, once no read ahead is out. */
	if (got == 0 && c->ahead == 0 && c->claim_ms >= 0) {
		c->phase = PH_CLAIM;
		c->at = 0;
		strcpy(c->cursor, "0-0");
	}
	return got;
}

/** The next read in the order own, claim, new (stream_connector.poll). */
static int
redis_poll(struct stream_conn *c, struct stream_poll *p, double block,
           stream_msg_fn fn, void *arg)
{
	if (r_ready(c) != 0)
		return -1;
	for (;;) {
		int n;
		switch (c->phase) {
		case PH_OWN:
			n = poll_own(c, p, fn, arg);
			break;
		case PH_CLAIM:
			n = poll_claim(c, p, fn, arg);
			break;
		default:
			return poll_new(c, p, block, fn, arg);
		}
		/* An empty OWN or CLAIM step moves on to the next. */
		if (n != 0)
			return n;
	}
}

/** Most bytes of the XACK commands of one acknowledgement (the window's
 * polls hold at most 64 x STREAM_POLL_MAX IDs of at most 41 bytes). */
#define XACK_CAP ((size_t)64 << 20)

/** Append RESP bulk string `s` of `n` bytes at `p`; returns the end. */
static char *
put_bulk(char *p, const char *s, size_t n)
{
	char digits[24];
	int k = 0;
	size_t v = n;
	do {
		digits[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	*p++ = '$';
	while (k > 0)
		*p++ = digits[--k];
	*p++ = '\r';
	*p++ = '\n';
	memcpy(p, s, n);
	p += n;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/**
 * Append one XACK per stream with the IDs of every poll `ps[0..n)`; they
 * go out with the next command (stream_connector.ack). The command is
 * formatted here in one pass, not argument by argument.
 */
static int
redis_ack(struct stream_conn *c, struct stream_poll *const *ps, size_t n)
{
	if (r_ready(c) != 0)
		return -1;
	for (uint32_t si = 0; si < c->n_streams; si++) {
		size_t k = 0, bytes = 0;
		for (size_t i = 0; i < n; i++)
			for (uint32_t t = 0; t < ps[i]->n_tokens; t++)
				if (ps[i]->tokens[t].stream == si) {
					k++;
					bytes += ps[i]->tokens[t].id_len;
				}
		if (k == 0)
			continue;
		size_t sl = strlen(c->streams[si]), gl = strlen(c->group);
		/* "*N\r\n", then "$len\r\n...\r\n" per argument. */
		size_t need = 32 + (k + 3) * 26 + bytes + sl + gl + 4;
		if (need > XACK_CAP) {
			sl_diag_set(SL_ELIMIT, "an XACK of more than %zu MiB",
			            XACK_CAP >> 20);
			return -1;
		}
		if (need > c->abuf_cap) {
			char *b = sl_realloc(c->abuf, need);
			if (b == NULL) {
				sl_diag_set(SL_EOOM, "out of memory for XACK");
				return -1;
			}
			c->abuf = b;
			c->abuf_cap = need;
		}
		char *p = c->abuf;
		p += snprintf(p, 32, "*%zu\r\n", k + 3);
		p = put_bulk(p, "XACK", 4);
		p = put_bulk(p, c->streams[si], sl);
		p = put_bulk(p, c->group, gl);
		for (size_t i = 0; i < n; i++)
			for (uint32_t t = 0; t < ps[i]->n_tokens; t++) {
				const struct stream_token *tk =
				        &ps[i]->tokens[t];
				if (tk->stream == si)
					p = put_bulk(p, tk->id, tk->id_len);
			}
		if (redisAppendFormattedCommand(
		            c->c, c->abuf, (size_t)(p - c->abuf)) != REDIS_OK)
			return r_fail(c, "building XACK");
		if (r_push(c, CMD_ACK) != 0)
			return -1;
	}
	return 0;
}

/** Send the XACKs appended and read every reply due, those of reads
 * ahead too (stream_connector.sync). */
static int
redis_sync(struct stream_conn *c)
{
	if (c->c == NULL)
		return 0;
	/* The entries of reads ahead stay pending for this consumer: a
	 * next run reads them first. */
	return r_reply(c, c->timeout, NULL);
}

/** Disconnect (stream_connector.stop). */
static void
redis_stop(struct stream_conn *c)
{
	r_close(c);
}

/** Free the connector (stream_connector.destroy). */
static void
redis_destroy(struct stream_conn *c)
{
	r_close(c);
	sl_arena_destroy(&c->replies);
	sl_free(c->abuf);
	sl_free(c->rbuf);
	sl_free(c);
}

/** Copy `s` into `dst` of NAME_MAX_LEN bytes, or fail naming `key`. */
static int
copy_name(const struct sl_stepdef *def, const char *key, const char *s,
          size_t n, char *dst, size_t size)
{
	if (n >= size) {
		sl_conf_error(sl_args_get(def, key), key,
		              "longer than %zu bytes", size - 1);
		return -1;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/**
 * Parse `url`: redis://[[user]:password@]host[:port][/db]. Messages never
 * show the password.
 */
static int
parse_url(const struct sl_stepdef *def, struct stream_conn *c, const char *url)
{
	const struct sl_conf *n = sl_args_get(def, "url");
	if (strncmp(url, "redis://", 8) != 0) {
		sl_conf_error(
		        n, "url",
		        "expected redis://[user:password@]host[:port][/db]");
		return -1;
	}
	const char *s = url + 8, *at = strrchr(s, '@');
	if (at != NULL) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		const char *pe = colon != NULL ? colon : at;
		if (copy_name(def, "url", s, (size_t)(pe - s), c->user,
		              sizeof(c->user)) != 0)
			return -1;
		if (colon != NULL &&
		    copy_name(def, "url", colon + 1, (size_t)(at - colon - 1),
		              c->pass, sizeof(c->pass)) != 0)
			return -1;
		s = at + 1;
	}
	size_t hl = strcspn(s, ":/");
	if (copy_name(def, "url", s, hl, c->host, sizeof(c->host)) != 0)
		return -1;
	if (hl == 0)
		strcpy(c->host, "127.0.0.1");
	s += hl;
	c->port = 6379;
	if (*s == ':') {
		char *end;
		long p = strtol(s + 1, &end, 10);
		if (end == s + 1 || p < 1 || p > 65535 ||
		    (*end != '\0' && *end != '/')) {
			sl_conf_error(n, "url", "a bad port");
			return -1;
		}
		c->port = (int)p;
		s = end;
	}
	if (*s == '/' && s[1] != '\0') {
		char *end;
		long d = strtol(s + 1, &end, 10);
		if (*end != '\0' || d < 0 || d > 1000000) {
			sl_conf_error(n, "url", "a bad database number");
			return -1;
		}
		c->db = (int)d;
	}
	return 0;
}

/** Read the connector's arguments (stream_connector.create). */
static struct stream_conn *
redis_create(const struct sl_stepdef *def)
{
	const char *url, *group, *consumer, *start, *reset;
	int64_t count, window;
	double claim, timeout;
	struct stream_conn *c = sl_calloc(1, sizeof(*c));
	if (c != NULL)
		c->rbuf = sl_malloc(READ_BUF);
	if (c != NULL) {
		sl_arena_create(&c->replies, (size_t)256 << 10, REPLY_CAP);
		sl_arena_set_keep(&c->replies, (size_t)4 << 20);
	}
	if (c == NULL || c->rbuf == NULL) {
		if (c != NULL)
			sl_free(c);
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	if (sl_args_str(def, "url", "redis://127.0.0.1:6379", &url) != 0 ||
	    sl_args_str(def, "group_id", "nodestream", &group) != 0 ||
	    sl_args_str(def, "consumer", NULL, &consumer) != 0 ||
	    sl_args_str(def, "offset_reset", "latest", &reset) != 0 ||
	    sl_args_str(def, "start_id", NULL, &start) != 0 ||
	    sl_args_int(def, "max_records", 256, &count) != 0 ||
	    sl_args_int(def, "max_unacked_polls", 8, &window) != 0 ||
	    stream_args_seconds(def, "claim_min_idle", 60, &claim) != 0 ||
	    stream_args_seconds(def, "connect_timeout", 10, &timeout) != 0)
		goto fail;
	if (parse_url(def, c, url) != 0)
		goto fail;
	if (count < 1 || count > STREAM_POLL_MAX) {
		sl_conf_error(sl_args_get(def, "max_records"), "max_records",
		              "expected 1 to %d", STREAM_POLL_MAX);
		goto fail;
	}
	c->count = count;
	/* The extractor checks max_unacked_polls (1 to 64). */
	c->max_ahead = window >= 1 && window < READ_AHEAD ? (uint32_t)window
	                                                  : READ_AHEAD;
	c->claim_ms = (int64_t)(claim * 1000);
	c->timeout = timeout > 0 ? timeout : 10;
	if (start == NULL) {
		if (strcmp(reset, "earliest") == 0)
			start = "0";
		else if (strcmp(reset, "latest") == 0)
			start = "$";
		else {
			sl_conf_error(sl_args_get(def, "offset_reset"),
			              "offset_reset",
			              "expected earliest or latest, got '%s'",
			              reset);
			goto fail;
		}
	}
	if (copy_name(def, "start_id", start, strlen(start), c->start_id,
	              sizeof(c->start_id)) != 0 ||
	    copy_name(def, "group_id", group, strlen(group), c->group,
	              sizeof(c->group)) != 0)
		goto fail;
	if (consumer != NULL) {
		if (copy_name(def, "consumer", consumer, strlen(consumer),
		              c->consumer, sizeof(c->consumer)) != 0)
			goto fail;
	} else {
		char host[128] = "localhost";
		if (gethostname(host, sizeof(host) - 1) != 0)
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(c->consumer, sizeof(c->consumer), "%s-%ld", host,
		         (long)getpid());
	}
	const struct sl_conf *st = sl_args_get(def, "stream");
	const struct sl_conf *where =
	        def->arguments != NULL ? def->arguments : def->node;
	if (st == NULL) {
		sl_conf_error(where, "stream",
		              "the redis connector needs a stream (a key, or "
		              "a list of keys)");
		goto fail;
	}
	const struct sl_conf *one[1] = {st};
	const struct sl_conf *const *items = one;
	uint32_t n = 1;
	if (st->kind == SL_CONF_SEQ) {
		items = (const struct sl_conf *const *)st->items;
		n = st->n;
	}
	if (n == 0 || n > STREAMS_MAX) {
		sl_conf_error(st, "stream", "expected 1 to %d streams",
		              STREAMS_MAX);
		goto fail;
	}
	for (uint32_t i = 0; i < n; i++) {
		const char *s;
		if (sl_conf_str(items[i], "stream", &s) != 0 ||
		    copy_name(def, "stream", s, strlen(s), c->streams[i],
		              sizeof(c->streams[i])) != 0)
			goto fail;
		snprintf(c->prefix[i], sizeof(c->prefix[i]), "redis:%s:", s);
	}
	c->n_streams = n;
	return c;
fail:
	sl_arena_destroy(&c->replies);
	sl_free(c->rbuf);
	sl_free(c);
	return NULL;
}

/** The connector's argument names. */
static const char *const redis_keys[] = {
        "url",         "stream",         "group_id",
        "consumer",    "start_id",       "offset_reset",
        "max_records", "claim_min_idle", "connect_timeout",
        NULL};

const struct stream_connector sl_stream_redis = {
        .name = "redis",
        .keys = redis_keys,
        .create = redis_create,
        .start = redis_start,
        .poll = redis_poll,
        .ack = redis_ack,
        .sync = redis_sync,
        .stop = redis_stop,
        .destroy = redis_destroy,
};
