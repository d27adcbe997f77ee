/*
 * sluice: the PostgreSQL driver's direct path for single statements.
 *
 * A single sl_db_query() of a statement that is already prepared and
 * described on an idle connection does not go through libpq: Bind,
 * Execute and Sync are written to the socket in one send(), and the
 * replies are read into a buffer of the connection's and parsed here,
 * each DataRow decoded into the result's arena as it arrives. libpq's
 * PGresult (a copy of every value in 2 KiB blocks that are malloc'd and
 * freed per query, and three library calls per cell) is what this saves.
 *
 * libpq stays the connection's owner: it connects, prepares, runs
 * pipelines, COPY and scripts. The direct path runs only between its
 * operations, when libpq has nothing queued or unsent (the op pipeline is
 * empty, PQflush() says 0) and its reply stream ended at a sync point, so
 * libpq's view of the protocol stays right: the exchange here starts and
 * ends at a ReadyForQuery. It is off on TLS and GSS-encrypted connections
 * (the bytes on the socket are not the protocol's).
 *
 * What libpq would have kept from the replies and does not see here:
 * ParameterStatus (sluice asks libpq for none of them after connecting),
 * the transaction status of ReadyForQuery (sluice keeps its own) and
 * NotificationResponse (sluice has no LISTEN API); notices are logged at
 * debug level as libpq's notice processor does.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "pg.h"
#include "sluice/alloc.h"
#include "sluice/hash.h"
#include "sluice/log.h"

/** First size of a connection's read buffer. */
#define RBUF_MIN (64 * 1024)
/** Largest protocol message accepted (PostgreSQL sends at most 1 GiB). */
#define MSG_MAX ((size_t)1 << 30)

/** Patch the length of the message that starts at `at` (its type byte). */
static void
patch_len(struct sl_buf *b, size_t at)
{
	uint32_t l = (uint32_t)(b->len - at - 1);
	unsigned char *q = (unsigned char *)b->data + at + 1;
	q[0] = (unsigned char)(l >> 24);
	q[1] = (unsigned char)(l >> 16);
	q[2] = (unsigned char)(l >> 8);
	q[3] = (unsigned char)l;
}

/** The connection broke while `when`: mark it and raise SL_EIO. */
static int
broke(struct sl_db_conn *c, const char *when, const char *why)
{
	c->broken = true;
	sl_diag_set(SL_EIO, "%s: connection lost while %s: %s", c->shown, when,
	            why);
	return -1;
}

/** A statement started a COPY: the connection is dropped. Returns -1. */
static int
copy_refused(struct sl_db_conn *c)
{
	c->broken = true;
	sl_diag_set(SL_EINVAL,
	            "%s: COPY cannot run as a statement (use "
	            "sl_db_copy_begin()); connection dropped",
	            c->shown);
	return -1;
}

/** The server sent what the protocol does not allow here. */
static int
out_of_step(struct sl_db_conn *c, char type)
{
	c->broken = true;
	sl_diag_set(SL_EIO,
	            "%s: protocol out of step: unexpected message '%c' from "
	            "the server; connection dropped",
	            c->shown, type);
	return -1;
}

bool
sl_pg_fast_usable(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	return p->fast && p->piped && !c->broken && p->op.exp_len == 0 &&
	       p->op.done_len == 0 && !p->op.need_sync && p->rlen == 0 &&
	       PQflush(p->pg) == 0;
}

struct pg_stmt *
sl_pg_fast_stmt(struct sl_db_conn *c, const char *sql)
{
	struct pg_conn *p = PG(c);
	if (!sl_pg_fast_usable(c))
		return NULL;
	size_t len = strlen(sql);
	struct pg_stmt *s = sl_pg_stmt_find(p, sql, len, sl_hash64(sql, len));
	if (s == NULL || !s->ready || (s->ncols > 0 && s->cnames == NULL))
		return NULL;
	sl_pg_stmt_touch(p, s);
	return s;
}

/** Write big-endian `v` at `q`. */
static inline void
set32(char *q, uint32_t v)
{
	unsigned char *u = (unsigned char *)q;
	u[0] = (unsigned char)(v >> 24);
	u[1] = (unsigned char)(v >> 16);
	u[2] = (unsigned char)(v >> 8);
	u[3] = (unsigned char)v;
}

/**
 * Append Bind (unnamed portal) of statement `s` with parameters
 * `params` (`n` of them, encoded for the statement's types straight into
 * the message) and Execute (all rows) to `wbuf`. 0, or -1 with an error
 * naming the parameter (nothing appended).
 */
static int
put_bind_execute(struct sl_db_conn *c, const struct pg_stmt *s, size_t n,
                 const struct sl_value *params)
{
	struct pg_conn *p = PG(c);
	if (sl_pg_check_nparams(c, s->nparams, n, s->sql) != 0)
		return -1;
	struct sl_buf *w = &p->wbuf;
	size_t at = w->len;
	size_t nl = strlen(s->name);
	int rc = sl_buf_append(w, "B\0\0\0\0", 5);
	rc |= sl_buf_append(w, "", 1);
	rc |= sl_buf_append(w, s->name, nl + 1);
	rc |= sl_pg_put16(w, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		rc |= sl_pg_put16(w,
		                  sl_pgtype_binary_param(s->ptypes[i]) ? 1 : 0);
	rc |= sl_pg_put16(w, (uint16_t)n);
	if (rc != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		size_t lpos = w->len;
		bool null;
		if (sl_pg_put32(w, 0) != 0)
			goto fail;
		if (sl_pgtype_encode(w, s->ptypes[i], &params[i], &null) != 0) {
			sl_diag_wrap(SL_EINVAL, "%s: parameter $%zu (type %u)",
			             c->shown, i + 1, s->ptypes[i]);
			goto fail;
		}
		if (null) {
			set32(w->data + lpos, UINT32_MAX);
			continue;
		}
		/* A text parameter ends in the NUL libpq wants; the protocol
		 * has none. */
		if (!sl_pgtype_binary_param(s->ptypes[i]))
			w->data[--w->len] = '\0';
		set32(w->data + lpos, (uint32_t)(w->len - lpos - 4));
	}
	rc = sl_pg_put16(w, 1);
	rc |= sl_pg_put16(w, (uint16_t)s->rfmt);
	if (rc != 0)
		goto fail;
	patch_len(w, at);
	static const char exec[] = {'E', 0, 0, 0, 9, 0, 0, 0, 0, 0};
	if (sl_buf_append(w, exec, sizeof(exec)) == 0)
		return 0;
fail:
	w->len = at;
	if (sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "%s: out of memory for a statement",
		            c->shown);
	return -1;
}

/** Send all of `wbuf`, waiting while the socket is full. 0, or -1. */
static int
send_all(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	int fd = PQsocket(p->pg);
	const char *d = p->wbuf.data;
	size_t n = p->wbuf.len;
	while (n > 0) {
		ssize_t k = send(fd, d, n, MSG_NOSIGNAL);
		if (k > 0) {
			d += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (sl_pg_wait_io(c, SL_IO_WRITE) != 0)
				return -1;
			continue;
		}
		return broke(c, "sending", k < 0 ? strerror(errno) : "short");
	}
	sl_buf_reset(&p->wbuf); /* sent: nothing of it may go again */
	return 0;
}

/**
 * One recv() into the free end of the read buffer (which has room): 1 when
 * bytes came, 0 when none are waiting, -1 when the connection broke.
 */
static int
recv_some(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	for (;;) {
		ssize_t k = recv(PQsocket(p->pg), p->rbuf + p->rlen,
		                 p->rcap - p->rlen, 0);
		if (k > 0) {
			p->rlen += (size_t)k;
			return 1;
		}
		if (k == 0)
			return broke(c, "reading",
			             "the server closed the connection");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return broke(c, "reading", strerror(errno));
	}
}

/**
 * Make sure `need` unparsed bytes are in the read buffer, reading (and
 * waiting) as needed. Moves the buffer: pointers into it are stale after.
 * 0, or -1.
 */
static int
fill(struct sl_db_conn *c, size_t need)
{
	struct pg_conn *p = PG(c);
	while (p->rlen - p->rpos < need) {
		if (p->rpos > 0) { /* drop what was parsed */
			memmove(p->rbuf, p->rbuf + p->rpos, p->rlen - p->rpos);
			p->rlen -= p->rpos;
			p->rpos = 0;
		}
		if (p->rcap < need || p->rcap - p->rlen < RBUF_MIN / 4) {
			size_t cap = p->rcap != 0 ? p->rcap * 2 : RBUF_MIN;
			while (cap < need)
				cap *= 2;
			char *b = sl_realloc(p->rbuf, cap);
			if (b == NULL) {
				sl_diag_set(
				        SL_EOOM,
				        "%s: out of memory for a reply of %zu "
				        "bytes",
				        c->shown, need);
				return -1;
			}
			p->rbuf = b;
			p->rcap = cap;
		}
		int got = recv_some(c);
		if (got < 0 || (got == 0 && sl_pg_wait_io(c, SL_IO_READ) != 0))
			return -1;
	}
	return 0;
}

/**
 * Read the next whole message: its type in *type, its body (valid until
 * the next call) in *body and *len. 0, or -1.
 */
static int
next_msg(struct sl_db_conn *c, char *type, const char **body, size_t *len)
{
	struct pg_conn *p = PG(c);
	if (fill(c, 5) != 0)
		return -1;
	uint32_t l = sl_pg_get32(p->rbuf + p->rpos + 1);
	if (l < 4 || l > MSG_MAX)
		return out_of_step(c, p->rbuf[p->rpos]);
	if (fill(c, 1 + (size_t)l) != 0)
		return -1;
	*type = p->rbuf[p->rpos];
	*body = p->rbuf + p->rpos + 5;
	*len = l - 4;
	p->rpos += 1 + (size_t)l;
	if (p->rpos == p->rlen)
		p->rpos = p->rlen = 0; /* the next read starts at the front */
	return 0;
}

/** The fields of an ErrorResponse or NoticeResponse. */
struct fields {
	/** Severity, localized (S), nonlocalized (V). */
	const char *sev, *sev_c;
	/** SQLSTATE (C). */
	const char *state;
	/** Primary message (M), detail (D), hint (H). */
	const char *primary, *detail, *hint;
};

/** Split an ErrorResponse or NoticeResponse body into its fields. */
static void
parse_fields(const char *b, size_t len, struct fields *f)
{
	memset(f, 0, sizeof(*f));
	const char *e = b + len;
	while (b < e && *b != '\0') {
		char code = *b++;
		const char *v = b;
		const char *z = memchr(b, '\0', (size_t)(e - b));
		if (z == NULL)
			break;
		b = z + 1;
		switch (code) {
		case 'S':
			f->sev = v;
			break;
		case 'V':
			f->sev_c = v;
			break;
		case 'C':
			f->state = v;
			break;
		case 'M':
			f->primary = v;
			break;
		case 'D':
			f->detail = v;
			break;
		case 'H':
			f->hint = v;
			break;
		default:
			break;
		}
	}
}

/** Log a NoticeResponse at debug level, as libpq's notice processor. */
static void
log_notice(struct sl_db_conn *c, const char *b, size_t len)
{
	struct fields f;
	parse_fields(b, len, &f);
	char line[400];
	sl_pg_one_line(f.primary, line, sizeof(line));
	sl_log_debug("%s: %s:  %s", c->shown, f.sev != NULL ? f.sev : "NOTICE",
	             line);
}

/**
 * Take the task's error, to be raised once the replies are read: its
 * code into *code and its text into `msg` (SL_ERROR_MSG_MAX bytes); the
 * diag is cleared.
 */
static void
take_error(enum sl_errcode *code, char *msg)
{
	*code = sl_diag_code();
	sl_error_format(sl_diag_last(), msg, SL_ERROR_MSG_MAX);
	sl_diag_clear(sl_diag_get());
}

/**
 * Decode one DataRow of statement `s` as row `*nrows` of `r` (in its own
 * cell storage), copying the row's bytes into the result's arena (strings
 * and bytea refer to them) unless no decoded value points into them
 * (s->byval). 0, or -1.
 */
static int
add_row(struct sl_db_conn *c, const struct pg_stmt *s, struct sl_db_result *r,
        size_t *nrows, const char *body, size_t len)
{
	size_t ncols = (size_t)s->ncols;
	if (len < 2 || sl_pg_get16(body) != ncols)
		return out_of_step(c, 'D');
	struct sl_value *cells = sl_db_result_room(r, (*nrows + 1) * ncols);
	if (cells == NULL)
		return -1;
	/* The row's bytes: copied into the arena when decoded values point
	 * into them, else read in place. */
	const char *q = body + 2, *end = body + len;
	if (!s->byval && len > 2) {
		char *copy = sl_arena_alloc(&r->arena, len - 2);
		if (copy == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for a row");
			return -1;
		}
		memcpy(copy, body + 2, len - 2);
		q = copy;
		end = copy + (len - 2);
	}
	struct sl_value *cell = &cells[*nrows * ncols];
	for (size_t j = 0; j < ncols; j++) {
		if (end - q < 4)
			return out_of_step(c, 'D');
		int32_t l = (int32_t)sl_pg_get32(q);
		q += 4;
		if (l < 0) {
			cell[j] = sl_null();
			continue;
		}
		if (end - q < l)
			return out_of_step(c, 'D');
		if (!(s->rfmt == 1 &&
		      sl_pgtype_decode_quick(s->ctypes[j], q, (size_t)l,
		                             &cell[j])) &&
		    sl_pgtype_decode(s->ctypes[j], s->rfmt, q, (size_t)l,
		                     &r->arena, &cell[j]) != 0) {
			sl_diag_wrap(SL_EPARSE, "%s: row %zu, column \"%s\"",
			             c->shown, *nrows + 1, s->cnames[j]);
			return -1;
		}
		q += l;
	}
	(*nrows)++;
	return 0;
}

/** A new result for `s`, with its column names copied. */
static struct sl_db_result *
new_result(const struct pg_stmt *s)
{
	struct sl_db_result *r = sl_db_result_new(0, (size_t)s->ncols);
	if (r == NULL)
		return NULL;
	for (int j = 0; j < s->ncols; j++) {
		size_t n = strlen(s->cnames[j]);
		char *name = sl_arena_alloc(&r->arena, n + 1);
		if (name == NULL) {
			sl_db_result_free(r);
			sl_diag_set(SL_EOOM, "out of memory for a result");
			return NULL;
		}
		memcpy(name, s->cnames[j], n + 1);
		r->names[j] = name;
	}
	return r;
}

/**
 * Read after ReadyForQuery what the server sent unasked and libpq would
 * otherwise find half read: finish any partial message (notices and
 * notifications; anything else is out of step). 0, or -1.
 */
static int
read_tail(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	while (p->rlen > 0) {
		char type;
		const char *body;
		size_t len;
		if (next_msg(c, &type, &body, &len) != 0)
			return -1;
		if (type == 'N')
			log_notice(c, body, len);
		else if (type != 'A' && type != 'S')
			return out_of_step(c, type);
	}
	return 0;
}

struct sl_db_result *
sl_pg_fast_query(struct sl_db_conn *c, struct pg_stmt *s, size_t n,
                 const struct sl_value *params, char sqlstate[6])
{
	struct pg_conn *p = PG(c);
	/* Bind (unnamed portal), Execute (all rows), Sync. */
	struct sl_buf *w = &p->wbuf;
	sl_buf_reset(w);
	static const char sync[] = {'S', 0, 0, 0, 4};
	if (put_bind_execute(c, s, n, params) != 0 ||
	    sl_buf_append(w, sync, sizeof(sync)) != 0 || send_all(c) != 0)
		return NULL;
	struct sl_db_result *r = new_result(s);
	if (r == NULL) {
		/* The replies still come: read them, keep the error. */
		struct sl_diag keep;
		sl_diag_stash(&keep);
		char t;
		const char *b;
		size_t l;
		while (next_msg(c, &t, &b, &l) == 0 && t != 'Z')
			;
		sl_diag_restore(&keep);
		return NULL;
	}
	/* The server has barely received the statement: wait for its
	 * reply before the first read rather than after a read that would
	 * find nothing (one system call less per statement). */
	if (p->rlen == p->rpos && sl_pg_wait_io(c, SL_IO_READ) != 0) {
		/* Lost, or the cancel grace ran out: the connection goes. */
		c->broken = true;
		sl_db_result_free(r);
		return NULL;
	}
	size_t nrows = 0;
	/* Only the first byte: a message is written on an error alone. */
	char msg[SL_ERROR_MSG_MAX];
	msg[0] = '\0';
	bool failed = false, local = false;
	enum sl_errcode lcode = SL_EPARSE;
	sqlstate[0] = '\0';
	for (;;) {
		char type;
		const char *body;
		size_t len;
		if (next_msg(c, &type, &body, &len) != 0) {
			/* A FATAL error is the better message for the loss. */
			if (failed && !local) {
				sl_diag_clear(sl_diag_get());
				sl_diag_set(SL_EDB, "%s", msg);
			}
			goto fail;
		}
		if (type == 'Z')
			break;
		switch (type) {
		case 'D':
			if (failed)
				break;
			if (add_row(c, s, r, &nrows, body, len) != 0) {
				if (c->broken)
					goto fail;
				/* Keep reading to the sync point. */
				take_error(&lcode, msg);
				failed = local = true;
			}
			break;
		case 'C': {
			if (memchr(body, '\0', len) == NULL) {
				out_of_step(c, type);
				goto fail;
			}
			sl_db_result_set_tag(r, body);
			break;
		}
		case 'E': {
			if (failed)
				break;
			struct fields f;
			parse_fields(body, len, &f);
			sl_pg_format_error(c, f.sev, f.sev_c, f.primary,
			                   f.detail, f.hint, f.state, s->sql,
			                   msg, sizeof(msg), sqlstate);
			failed = true;
			break;
		}
		case 'N':
			log_notice(c, body, len);
			break;
		case '2': /* BindComplete */
		case 'I': /* EmptyQueryResponse */
		case 'S': /* ParameterStatus */
		case 'A': /* NotificationResponse */
			break;
		case 'G':
		case 'H':
		case 'W':
			copy_refused(c);
			goto fail;
		default:
			out_of_step(c, type);
			goto fail;
		}
	}
	if (read_tail(c) != 0)
		goto fail;
	if (failed) {
		sl_diag_set(local ? lcode : SL_EDB, "%s", msg);
		goto fail;
	}
	r->nrows = nrows;
	r->cells = nrows > 0 ? r->own : NULL;
	return r;
fail:
	sl_db_result_free(r);
	return NULL;
}

/* {{{ direct user pipelines */

/*
 * A user pipeline begun on an idle connection (sl_pg_fast_usable()) takes
 * the direct path from its first statement to its end: Parse, Describe,
 * Flush, Close, Bind, Execute and Sync are written to the connection's
 * write buffer and sent when 64 KiB are queued or at a sync point, and
 * the replies are parsed from the read buffer. The engine's queues (the
 * expected replies, the finished statements) are protocol.c's, so the
 * failure rules are the same: after an ErrorResponse the server skips
 * everything up to the next Sync, so the rest of the segment is reported
 * skipped without reading anything for it. The pipeline ends, as the
 * direct path for single statements does, at a ReadyForQuery with libpq
 * idle.
 */

/** Queued bytes past which a direct pipeline sends them. */
#define WBUF_SEND (64 * 1024)
/** Most reply bytes held unread while a direct pipeline's send waits. */
#define RBUF_MAX MSG_MAX

/** Take what the socket holds into the read buffer, not waiting. 0, or -1. */
static int
take_input(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	for (;;) {
		if (p->rcap - p->rlen < RBUF_MIN / 4 && p->rpos > 0) {
			memmove(p->rbuf, p->rbuf + p->rpos, p->rlen - p->rpos);
			p->rlen -= p->rpos;
			p->rpos = 0;
		}
		if (p->rcap - p->rlen < RBUF_MIN / 4) {
			size_t cap = p->rcap != 0 ? p->rcap * 2 : RBUF_MIN;
			char *b = cap <= RBUF_MAX ? sl_realloc(p->rbuf, cap)
			                          : NULL;
			if (b == NULL) {
				c->broken = true;
				sl_diag_set(
				        SL_ELIMIT,
				        "%s: more than %zu bytes of pipeline "
				        "replies unread while sending; "
				        "connection dropped",
				        c->shown, p->rcap);
				return -1;
			}
			p->rbuf = b;
			p->rcap = cap;
		}
		int got = recv_some(c);
		if (got <= 0)
			return got;
	}
}

int
sl_pg_direct_flush(struct sl_db_conn *c)
{
	struct pg_conn *p = PG(c);
	int fd = PQsocket(p->pg);
	size_t off = 0;
	while (off < p->wbuf.len) {
		ssize_t k = send(fd, p->wbuf.data + off, p->wbuf.len - off,
		                 MSG_NOSIGNAL);
		if (k > 0) {
			off += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Read meanwhile: the server may be waiting for room
			 * to send its replies before it reads more. */
			if (sl_pg_wait_io(c, SL_IO_READ | SL_IO_WRITE) != 0 ||
			    take_input(c) != 0)
				goto fail;
			continue;
		}
		broke(c, "sending", k < 0 ? strerror(errno) : "short");
		goto fail;
	}
	sl_buf_reset(&p->wbuf);
	return 0;
fail:
	/* Part of a message may have gone: the stream is out of step. */
	c->broken = true;
	sl_buf_reset(&p->wbuf);
	return -1;
}

/** Append message `type` with body `a` (`na` bytes) then `b` (`nb`). */
static int
put_msg(struct sl_buf *w, char type, const void *a, size_t na, const void *b,
        size_t nb)
{
	size_t at = w->len;
	char head[5] = {type, 0, 0, 0, 0};
	if (sl_buf_append(w, head, 5) != 0 || sl_buf_append(w, a, na) != 0 ||
	    (nb > 0 && sl_buf_append(w, b, nb) != 0)) {
		w->len = at;
		return -1;
	}
	patch_len(w, at);
	return 0;
}

struct pg_stmt *
sl_pg_direct_prepare(struct pg_pipe *pl, const char *sql)
{
	struct sl_db_conn *c = pl->base.c;
	struct pg_conn *p = PG(c);
	size_t len = strlen(sql);
	uint64_t h = sl_hash64(sql, len);
	struct pg_stmt *s = sl_pg_stmt_find(p, sql, len, h);
	if (s != NULL && s->ready) {
		sl_pg_stmt_touch(p, s);
		return s;
	}
	if (s != NULL) { /* a prepare always reads its describe */
		sl_diag_set(SL_EINVAL, "%s: statement prepared twice",
		            c->shown);
		return NULL;
	}
	struct sl_buf *w = &p->wbuf;
	/* Evict least recently used statements while the cache is full
	 * (Close; its reply is read in order). */
	struct sl_list *it = p->lru.next;
	struct pg_stmt *old;
	while ((old = sl_pg_stmt_evictable(c, &it)) != NULL) {
		size_t at = w->len;
		if (put_msg(w, 'C', "S", 1, old->name, strlen(old->name) + 1) !=
		            0 ||
		    sl_pg_exp_push(pl, EXP_INTERNAL, NULL, 0) != 0) {
			w->len = at;
			sl_diag_set(SL_EOOM, "out of memory preparing a "
			                     "statement");
			return NULL;
		}
		sl_pg_stmt_drop(p, old);
		pl->need_sync = true;
	}
	s = sl_pg_stmt_new(p, sql, len, h);
	if (s == NULL)
		return NULL;
	/* Parse (no parameter types given), Describe, and Flush to have the
	 * describe back before the sync point. */
	size_t at = w->len, nl = strlen(s->name) + 1;
	static const char none[2] = {0, 0};
	static const char flush[] = {'H', 0, 0, 0, 4};
	size_t at_parse = w->len;
	int rc = put_msg(w, 'P', s->name, nl, sql, len + 1);
	if (rc == 0) { /* the parameter type count, after the text */
		rc = sl_buf_append(w, none, 2);
		if (rc == 0)
			patch_len(w, at_parse);
	}
	if (rc == 0)
		rc = put_msg(w, 'D', "S", 1, s->name, nl);
	if (rc == 0)
		rc = sl_buf_append(w, flush, sizeof(flush));
	if (rc == 0)
		rc = sl_pg_exp_push(pl, EXP_PREPARE, s, 0);
	if (rc == 0 && sl_pg_exp_push(pl, EXP_DESCRIBE, s, 0) != 0) {
		pl->exp_len--; /* take the prepare back */
		s->queued--;
		rc = -1;
	}
	if (rc != 0) {
		w->len = at;
		sl_pg_stmt_drop(p, s);
		sl_diag_set(SL_EOOM, "out of memory preparing a statement");
		return NULL;
	}
	pl->need_sync = true;
	if (sl_pg_direct_flush(c) != 0)
		return NULL;
	bool failed = false;
	char msg[SL_ERROR_MSG_MAX];
	msg[0] = '\0';
	for (;;) {
		struct pg_exp head = pl->exp[pl->exp_head];
		rc = sl_pg_direct_pump(pl);
		if (rc == -1)
			return NULL;
		if (rc == -2 && !failed) {
			failed = true;
			sl_pg_msgf(msg, sizeof(msg), "%s", sl_diag_last()->msg);
			sl_diag_clear(sl_diag_get());
		}
		if (head.kind == EXP_DESCRIBE && head.stmt == s)
			break;
	}
	if (failed || sl_pg_stmt_find(p, sql, len, h) == NULL) {
		if (!failed)
			sl_pg_msgf(
			        msg, sizeof(msg),
			        "%s: statement skipped: an earlier statement "
			        "failed before the sync point",
			        c->shown);
		sl_diag_set(failed ? SL_EDB : SL_EABORTED, "%s", msg);
		return NULL;
	}
	return s;
}

int
sl_pg_direct_execute(struct pg_pipe *pl, struct pg_stmt *s, size_t n,
                     const struct sl_value *params, long idx)
{
	struct sl_db_conn *c = pl->base.c;
	struct pg_conn *p = PG(c);
	if (sl_pg_exp_push(pl, EXP_USER, s, idx) != 0)
		return -1;
	if (put_bind_execute(c, s, n, params) != 0) {
		pl->exp_len--; /* take it back */
		pl->exp_user--;
		s->queued--;
		return -1;
	}
	pl->need_sync = true;
	return p->wbuf.len >= WBUF_SEND ? sl_pg_direct_flush(c) : 0;
}

int
sl_pg_direct_sync(struct pg_pipe *pl)
{
	struct pg_conn *p = PG(pl->base.c);
	static const char sync[] = {'S', 0, 0, 0, 4};
	if (sl_pg_exp_push(pl, EXP_SYNC, NULL, 0) != 0)
		return -1;
	if (sl_buf_append(&p->wbuf, sync, sizeof(sync)) != 0) {
		pl->exp_len--;
		return -1;
	}
	pl->need_sync = false;
	return 0;
}

/**
 * The next message that answers something (notices are logged,
 * ParameterStatus and notifications skipped). 0, or -1.
 */
static int
next_reply(struct sl_db_conn *c, char *type, const char **body, size_t *len)
{
	for (;;) {
		if (next_msg(c, type, body, len) != 0)
			return -1;
		if (*type == 'N')
			log_notice(c, *body, *len);
		else if (*type != 'S' && *type != 'A')
			return 0;
	}
}

/**
 * An ErrorResponse answered expected reply `e`: the server now skips the
 * rest of the segment. As sl_pg_pump_one(): 0 (a user statement's failure
 * queued), -2 with the error for a prepare or describe, -1.
 */
static int
seg_error(struct pg_pipe *pl, const struct pg_exp *e, const char *body,
          size_t len)
{
	struct sl_db_conn *c = pl->base.c;
	struct fields f;
	parse_fields(body, len, &f);
	char msg[SL_ERROR_MSG_MAX], state[6];
	sl_pg_format_error(c, f.sev, f.sev_c, f.primary, f.detail, f.hint,
	                   f.state, e->stmt != NULL ? e->stmt->sql : NULL, msg,
	                   sizeof(msg), state);
	pl->seg_aborted = true;
	switch (e->kind) {
	case EXP_USER: {
		pl->seg_failed = e->idx;
		char m2[SL_ERROR_MSG_MAX + 32];
		sl_pg_msgf(m2, sizeof(m2), "statement %ld: %s", e->idx, msg);
		return sl_pg_done_fail(pl, e->idx, SL_EDB, m2, state);
	}
	case EXP_PREPARE:
	case EXP_DESCRIBE:
		/* The user statement waiting for it gets this error; the
		 * describe (skipped now) forgets the statement. */
		pl->seg_failed = pl->next_idx;
		if (e->kind == EXP_DESCRIBE)
			sl_pg_stmt_drop(PG(c), e->stmt);
		sl_diag_set(SL_EDB, "%s", msg);
		return -2;
	default:
		sl_log_debug("%s", msg);
		return 0;
	}
}

/** A reply the server skipped after an error in the segment. 0, or -1. */
static int
skipped(struct pg_pipe *pl, const struct pg_exp *e)
{
	struct sl_db_conn *c = pl->base.c;
	if (e->kind == EXP_USER) {
		char msg[SL_ERROR_MSG_MAX];
		sl_pg_msgf(msg, sizeof(msg),
		           "%s: statement %ld skipped: statement %ld failed "
		           "before the sync point",
		           c->shown, e->idx, pl->seg_failed);
		return sl_pg_done_fail(pl, e->idx, SL_EABORTED, msg, "");
	}
	if (e->kind == EXP_DESCRIBE)
		sl_pg_stmt_drop(PG(c), e->stmt); /* not prepared after all */
	return 0;
}

/**
 * Read the first reply to expected reply `e`, which should be of type
 * `want`: 1 with its body in *body and *len (valid until the next read)
 * when it is; otherwise what the reply's reader returns, as
 * sl_pg_pump_one(): seg_error()'s answer to an ErrorResponse, -1 for a
 * lost connection or any other message (out of step).
 */
static int
first_reply(struct pg_pipe *pl, const struct pg_exp *e, char want,
            const char **body, size_t *len)
{
	struct sl_db_conn *c = pl->base.c;
	char type;
	if (next_reply(c, &type, body, len) != 0)
		return -1;
	if (type == want)
		return 1;
	if (type == 'E')
		return seg_error(pl, e, *body, *len);
	return out_of_step(c, type);
}

/**
 * Store a describe's ParameterDescription (`pd`, `npd` bytes) and
 * RowDescription (`rd`, `nrd` bytes; NULL for NoData) in `s`. 0, or -1.
 */
static int
describe(struct sl_db_conn *c, struct pg_stmt *s, const char *pd, size_t npd,
         const char *rd, size_t nrd)
{
	if (npd < 2)
		return out_of_step(c, 't');
	size_t np = sl_pg_get16(pd);
	if (npd != 2 + np * 4)
		return out_of_step(c, 't');
	size_t nc = 0, bytes = 0;
	if (rd != NULL) {
		if (nrd < 2)
			return out_of_step(c, 'T');
		nc = sl_pg_get16(rd);
		/* Each field: a name, then 18 bytes. */
		const char *q = rd + 2, *end = rd + nrd;
		for (size_t i = 0; i < nc; i++) {
			const char *z = memchr(q, '\0', (size_t)(end - q));
			if (z == NULL || end - (z + 1) < 18)
				return out_of_step(c, 'T');
			bytes += (size_t)(z - q) + 1;
			q = z + 1 + 18;
		}
		if (q != end)
			return out_of_step(c, 'T');
	}
	uint32_t *pt = np > 0 ? sl_malloc(np * sizeof(*pt)) : NULL;
	uint32_t *ct = nc > 0 ? sl_malloc(nc * sizeof(*ct)) : NULL;
	char **names = nc > 0 ? sl_malloc(nc * sizeof(char *) + bytes) : NULL;
	if ((np > 0 && pt == NULL) ||
	    (nc > 0 && (ct == NULL || names == NULL))) {
		sl_free(pt);
		sl_free(ct);
		sl_free(names);
		sl_diag_set(SL_EOOM, "out of memory describing a statement");
		return -1;
	}
	for (size_t i = 0; i < np; i++)
		pt[i] = sl_pg_get32(pd + 2 + i * 4);
	s->rfmt = 1;
	bool byval = true;
	const char *q = rd != NULL ? rd + 2 : NULL;
	char *at = nc > 0 ? (char *)(names + nc) : NULL;
	for (size_t i = 0; i < nc; i++) {
		size_t n = strlen(q) + 1;
		memcpy(at, q, n);
		names[i] = at;
		at += n;
		q += n;
		ct[i] = sl_pg_get32(q + 6); /* after table oid, attnum */
		q += 18;
		if (!sl_pgtype_binary_decodable(ct[i]))
			s->rfmt = 0;
		if (!sl_pgtype_by_value(ct[i]))
			byval = false;
	}
	s->byval = byval && s->rfmt == 1;
	sl_free(s->ptypes);
	sl_free(s->ctypes);
	sl_free(s->cnames);
	s->ptypes = pt;
	s->ctypes = ct;
	s->cnames = names;
	s->nparams = (int)np;
	s->ncols = (int)nc;
	s->ready = true;
	return 0;
}

/** Read a describe's replies into its statement. As sl_pg_pump_one(). */
static int
reply_describe(struct pg_pipe *pl, const struct pg_exp *e)
{
	struct sl_db_conn *c = pl->base.c;
	char type;
	const char *body;
	size_t len;
	int rc = first_reply(pl, e, 't', &body, &len);
	if (rc != 1)
		return rc;
	/* The next message moves the buffer: keep the parameter types. */
	uint32_t small[64];
	size_t npd = len;
	char *pd = npd <= sizeof(small) ? (char *)small : sl_malloc(npd);
	if (pd == NULL) {
		sl_diag_set(SL_EOOM, "out of memory describing a statement");
		return -1; /* the stream is left mid-reply */
	}
	memcpy(pd, body, npd);
	rc = next_reply(c, &type, &body, &len);
	if (rc == 0 && type == 'T')
		rc = describe(c, e->stmt, pd, npd, body, len);
	else if (rc == 0 && type == 'n')
		rc = describe(c, e->stmt, pd, npd, NULL, 0);
	else if (rc == 0)
		rc = out_of_step(c, type);
	if (pd != (char *)small)
		sl_free(pd);
	if (rc != 0)
		c->broken = true;
	return rc;
}

/** Read a user statement's replies into a finished statement. */
static int
reply_user(struct pg_pipe *pl, const struct pg_exp *e)
{
	struct sl_db_conn *c = pl->base.c;
	const struct pg_stmt *s = e->stmt;
	char type;
	const char *body;
	size_t len;
	int first = first_reply(pl, e, '2', &body, &len);
	if (first != 1)
		return first;
	char msg[SL_ERROR_MSG_MAX];
	msg[0] = '\0';
	enum sl_errcode lcode = SL_EOK;
	struct sl_db_result *r = new_result(s);
	if (r == NULL) {
		take_error(&lcode, msg);
	}
	size_t nrows = 0;
	for (;;) {
		if (next_reply(c, &type, &body, &len) != 0)
			goto fail;
		if (type == 'C' || type == 'I')
			break;
		switch (type) {
		case 'D':
			if (lcode != SL_EOK)
				break;
			if (add_row(c, s, r, &nrows, body, len) != 0) {
				if (c->broken)
					goto fail;
				/* Keep reading to the statement's end. */
				take_error(&lcode, msg);
			}
			break;
		case 'E':
			sl_db_result_free(r);
			return seg_error(pl, e, body, len);
		case 'G':
		case 'H':
		case 'W':
			copy_refused(c);
			goto fail;
		default:
			out_of_step(c, type);
			goto fail;
		}
	}
	if (type == 'C' && memchr(body, '\0', len) == NULL) {
		out_of_step(c, type);
		goto fail;
	}
	if (lcode != SL_EOK) {
		sl_db_result_free(r);
		return sl_pg_done_fail(pl, e->idx, lcode, msg, "");
	}
	if (type == 'C')
		sl_db_result_set_tag(r, body);
	r->nrows = nrows;
	r->cells = nrows > 0 ? r->own : NULL;
	struct pg_done d = {.idx = e->idx, .r = r};
	if (sl_pg_done_push(pl, &d) != 0)
		goto fail;
	return 0;
fail:
	sl_db_result_free(r);
	return -1;
}

int
sl_pg_direct_pump(struct pg_pipe *pl)
{
	struct sl_db_conn *c = pl->base.c;
	struct pg_exp e = sl_pg_exp_pop(pl);
	char type;
	const char *body;
	size_t len;
	if (e.kind == EXP_SYNC) {
		if (next_reply(c, &type, &body, &len) != 0)
			return -1;
		if (type != 'Z')
			return out_of_step(c, type);
		pl->seg_failed = -1;
		pl->seg_aborted = false;
		/* Nothing more was sent: leave the buffer empty for libpq
		 * and the direct path of single statements. */
		return pl->exp_len == 0 ? read_tail(c) : 0;
	}
	if (pl->seg_aborted)
		return skipped(pl, &e);
	switch (e.kind) {
	case EXP_DESCRIBE:
		return reply_describe(pl, &e);
	case EXP_USER:
		return reply_user(pl, &e);
	default: { /* Parse, Close */
		int rc = first_reply(pl, &e, e.kind == EXP_PREPARE ? '1' : '3',
		                     &body, &len);
		return rc == 1 ? 0 : rc;
	}
	}
}

/* }}} */
