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
#include <errno.h>
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
	sl_list_del(&s->lru);
	sl_list_add_tail(&p->lru, &s->lru);
	return s;
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
	return 0;
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
		ssize_t k = recv(PQsocket(p->pg), p->rbuf + p->rlen,
		                 p->rcap - p->rlen, 0);
		if (k > 0) {
			p->rlen += (size_t)k;
			continue;
		}
		if (k == 0)
			return broke(c, "reading",
			             "the server closed the connection");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (sl_pg_wait_io(c, SL_IO_READ) != 0)
				return -1;
			continue;
		}
		return broke(c, "reading", strerror(errno));
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
 * Decode one DataRow of statement `s` as row `*nrows` of `r` (in its own
 * cell storage), copying the row's bytes into the result's arena (strings
 * and bytea refer to them). 0, or -1.
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
	char *copy = NULL;
	if (len > 2) {
		copy = sl_arena_alloc(&r->arena, len - 2);
		if (copy == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for a row");
			return -1;
		}
		memcpy(copy, body + 2, len - 2);
	}
	const char *q = copy, *end = copy != NULL ? copy + (len - 2) : NULL;
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
		if (sl_pgtype_decode(s->ctypes[j], s->rfmt, q, (size_t)l,
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
	if (sl_pg_encode_params(c, s->ptypes, s->nparams, n, params, s->sql) !=
	    0)
		return NULL;
	/* Bind (unnamed portal), Execute (all rows), Sync. */
	struct sl_buf *w = &p->wbuf;
	sl_buf_reset(w);
	size_t nl = strlen(s->name);
	int rc = sl_buf_append(w, "B\0\0\0\0", 5);
	rc |= sl_buf_append(w, "", 1);
	rc |= sl_buf_append(w, s->name, nl + 1);
	rc |= sl_pg_put16(w, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		rc |= sl_pg_put16(w, (uint16_t)p->pfmts[i]);
	rc |= sl_pg_put16(w, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		if (p->pvals[i] == NULL) {
			rc |= sl_pg_put32(w, UINT32_MAX);
			continue;
		}
		/* A text parameter ends in the NUL libpq wants (it takes
		 * their length from it); the protocol has no NUL. */
		size_t l = (size_t)p->plens[i] - (p->pfmts[i] == 0 ? 1 : 0);
		rc |= sl_pg_put32(w, (uint32_t)l);
		rc |= sl_buf_append(w, p->pvals[i], l);
	}
	rc |= sl_pg_put16(w, 1);
	rc |= sl_pg_put16(w, (uint16_t)s->rfmt);
	if (rc != 0)
		return NULL;
	patch_len(w, 0);
	static const char tail[] = {'E', 0, 0,   0, 9, 0, 0, 0,
	                            0,   0, 'S', 0, 0, 0, 4};
	if (sl_buf_append(w, tail, sizeof(tail)) != 0 || send_all(c) != 0)
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
	size_t nrows = 0;
	char msg[SL_ERROR_MSG_MAX] = "";
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
				lcode = sl_diag_code();
				sl_error_format(sl_diag_last(), msg,
				                sizeof(msg));
				sl_diag_clear(sl_diag_get());
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
			c->broken = true;
			sl_diag_set(SL_EINVAL,
			            "%s: COPY cannot run as a statement (use "
			            "sl_db_copy_begin()); connection dropped",
			            c->shown);
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
