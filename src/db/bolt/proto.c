/*
 * sluice: the Bolt protocol: the version handshake (ranges, and the
 * manifest reply of newer servers), HELLO and LOGON, chunked messages,
 * and reading replies.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "bolt.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/log.h"

/** The handshake's magic preamble. */
static const uint8_t magic[4] = {0x60, 0x60, 0xB0, 0x17};

/**
 * What the client offers, four big-endian slots of [0, range, minor,
 * major]: the manifest handshake (v1), 5.8 down to 5.0, and 4.4.
 */
static const uint8_t offer[16] = {
        0x00, 0x00, 0x01, 0xFF, /* manifest v1 */
        0x00, 0x08, 0x08, 0x05, /* 5.8 .. 5.0 */
        0x00, 0x00, 0x04, 0x04, /* 4.4 */
        0x00, 0x00, 0x00, 0x00,
};

/** Highest minor version of 5 spoken. */
#define V5_MINOR_MAX 8

/** Chunk size of the scratch arena. */
#define SCRATCH_CHUNK ((size_t)64 << 10)

void
bolt_create(struct bolt *b, const char *shown)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->shown = shown;
	sl_buf_create(&b->out, BOLT_MSG_MAX + BOLT_MSG_MAX / 32);
	sl_buf_create(&b->msg, BOLT_MSG_MAX);
	sl_buf_create(&b->reply, BOLT_MSG_MAX);
	sl_arena_create(&b->scratch, SCRATCH_CHUNK, BOLT_MSG_MAX * 4);
}

void
bolt_destroy(struct bolt *b)
{
	bolt_net_close(b);
	sl_buf_destroy(&b->out);
	sl_buf_destroy(&b->msg);
	sl_buf_destroy(&b->reply);
	sl_arena_destroy(&b->scratch);
	sl_free(b->in);
	b->in = NULL;
	/* The secret does not outlive the connection in memory. */
	memset(b->uri.secret, 0, sizeof(b->uri.secret));
}

/* {{{ messages */

int
bolt_begin_msg(struct bolt *b, unsigned nfields, uint8_t tag)
{
	sl_buf_reset(&b->msg);
	return sl_ps_put_struct(&b->msg, nfields, tag);
}

int
bolt_end_msg(struct bolt *b)
{
	size_t n = b->msg.len;
	assert(n >= 2);
	if ((uint8_t)b->msg.data[1] != BOLT_GOODBYE)
		b->pending++;
	size_t chunks = (n + BOLT_CHUNK_MAX - 1) / BOLT_CHUNK_MAX;
	if (sl_buf_reserve(&b->out, n + 2 * chunks + 2) != 0)
		return -1;
	char *o = b->out.data + b->out.len;
	const char *p = b->msg.data;
	while (n > 0) {
		size_t k = n < BOLT_CHUNK_MAX ? n : BOLT_CHUNK_MAX;
		*o++ = (char)(k >> 8);
		*o++ = (char)(k & 0xFF);
		memcpy(o, p, k);
		o += k;
		p += k;
		n -= k;
	}
	*o++ = 0;
	*o++ = 0;
	b->out.len = (size_t)(o - b->out.data);
	b->out.data[b->out.len] = '\0';
	return 0;
}

/** Make sure `n` bytes are buffered in `in`. 0, or -1. */
static int
need(struct bolt *b, size_t n)
{
	while (b->in_len < n)
		if (bolt_net_fill(b) != 0)
			return -1;
	return 0;
}

int
bolt_recv(struct bolt *b, struct sl_ps *m)
{
	sl_buf_reset(&b->reply);
	sl_arena_reset(&b->scratch);
	for (;;) {
		if (need(b, 2) != 0)
			return -1;
		const uint8_t *h = b->in + b->in_pos;
		size_t len = (size_t)h[0] << 8 | h[1];
		b->in_pos += 2;
		b->in_len -= 2;
		if (len == 0) {
			if (b->reply.len == 0)
				continue; /* NOOP between messages */
			break;
		}
		if (b->reply.len + len > BOLT_MSG_MAX) {
			sl_diag_set(SL_ELIMIT,
			            "%s: a reply from %s is larger than %zu "
			            "bytes",
			            b->shown, b->addr, BOLT_MSG_MAX);
			return -1;
		}
		while (len > 0) {
			if (b->in_len == 0 && bolt_net_fill(b) != 0)
				return -1;
			size_t k = len < b->in_len ? len : b->in_len;
			if (sl_buf_append(&b->reply, b->in + b->in_pos, k) != 0)
				return -1;
			b->in_pos += k;
			b->in_len -= k;
			len -= k;
		}
	}
	size_t used = 0;
	if (sl_ps_get(b->reply.data, b->reply.len, &used, &b->scratch, m) !=
	    0) {
		sl_diag_wrap(SL_EPARSE, "%s: a reply from %s", b->shown,
		             b->addr);
		return -1;
	}
	if (used != b->reply.len || m->type != SL_PS_STRUCT) {
		sl_diag_set(SL_EPARSE,
		            "%s: %s sent something that is not a Bolt reply "
		            "(%zu bytes)",
		            b->shown, b->addr, b->reply.len);
		return -1;
	}
	if (m->tag != BOLT_RECORD && b->pending > 0)
		b->pending--;
	if (m->tag == BOLT_FAILURE)
		b->failed = true;
	return 0;
}

const char *
bolt_failure_code(const struct sl_ps *m, char *out, size_t size)
{
	out[0] = '\0';
	if (m->len < 1)
		return out;
	const struct sl_ps *code = sl_ps_map_get(&m->u.items[0], "neo4j_code");
	if (code == NULL)
		code = sl_ps_map_get(&m->u.items[0], "code");
	if (code != NULL && code->type == SL_PS_STRING)
		snprintf(out, size, "%.*s", (int)code->len, code->u.s);
	return out;
}

void
bolt_failure(struct bolt *b, const struct sl_ps *m, const char *what)
{
	char code[128];
	bolt_failure_code(m, code, sizeof(code));
	const struct sl_ps *msg =
	        m->len >= 1 ? sl_ps_map_get(&m->u.items[0], "message") : NULL;
	int mn = msg != NULL && msg->type == SL_PS_STRING ? (int)msg->len : 0;
	const char *ms = mn > 0 ? msg->u.s : "";
	if (mn > 400)
		mn = 400;
	sl_diag_set(SL_EDB, "%s%s%s: %s: %.*s", what, what[0] ? ": " : "",
	            b->shown, code[0] ? code : "(no code)", mn, ms);
}

int
bolt_reset(struct bolt *b)
{
	if (bolt_begin_msg(b, 0, BOLT_RESET) != 0 || bolt_end_msg(b) != 0 ||
	    bolt_net_flush(b) != 0)
		return -1;
	/* The replies of what was sent before it come first (IGNORED,
	 * or whatever the server finished), then RESET's own. */
	struct sl_ps m;
	do {
		if (bolt_recv(b, &m) != 0)
			return -1;
	} while (b->pending > 0 || m.tag == BOLT_RECORD);
	if (m.tag != BOLT_SUCCESS) {
		if (m.tag == BOLT_FAILURE)
			bolt_failure(b, &m, "RESET failed");
		else
			sl_diag_set(SL_EPARSE, "%s: RESET answered with 0x%02X",
			            b->shown, m.tag);
		return -1;
	}
	b->in_tx = false;
	b->begin_pending = false;
	b->failed = false;
	return 0;
}

/* }}} */
/* {{{ handshake and authentication */

/** Read a base-128 varint of the manifest reply. 0, or -1. */
static int
varint(struct bolt *b, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (need(b, 1) != 0)
			return -1;
		uint8_t c = b->in[b->in_pos++];
		b->in_len--;
		v |= (uint64_t)(c & 0x7F) << shift;
		if ((c & 0x80) == 0) {
			*out = v;
			return 0;
		}
	}
	sl_diag_set(SL_EPARSE, "%s: bad varint in %s's handshake", b->shown,
	            b->addr);
	return -1;
}

/** Whether major.minor is one the client speaks. */
static bool
spoken(int major, int minor)
{
	return (major == 5 && minor <= V5_MINOR_MAX) ||
	       (major == 4 && minor == 4);
}

/** Fail: no version in common. */
static int
no_common(struct bolt *b, const char *got)
{
	sl_diag_set(SL_EDB,
	            "%s: %s speaks no Bolt version in common with sluice "
	            "(which speaks 5.0 to 5.%d and 4.4)%s%s",
	            b->shown, b->addr, V5_MINOR_MAX,
	            got[0] ? "; it offered " : "", got);
	return -1;
}

/** The manifest handshake: pick a version from the server's ranges. */
static int
manifest(struct bolt *b)
{
	uint64_t count;
	if (varint(b, &count) != 0)
		return -1;
	if (count > 64) {
		sl_diag_set(SL_EPARSE,
		            "%s: %s's handshake offers %llu versions", b->shown,
		            b->addr, (unsigned long long)count);
		return -1;
	}
	int best_major = 0, best_minor = -1;
	char got[256] = "";
	size_t gn = 0;
	for (uint64_t i = 0; i < count; i++) {
		if (need(b, 4) != 0)
			return -1;
		const uint8_t *s = b->in + b->in_pos;
		int range = s[1], minor = s[2], major = s[3];
		b->in_pos += 4;
		b->in_len -= 4;
		if (gn < sizeof(got) - 32)
			gn += (size_t)snprintf(
			        got + gn, sizeof(got) - gn, "%s%d.%d-%d.%d",
			        i ? ", " : "", major,
			        minor > range ? minor - range : 0, major,
			        minor);
		for (int m = minor; m >= 0 && m >= minor - range; m--)
			if (spoken(major, m) &&
			    (major > best_major ||
			     (major == best_major && m > best_minor))) {
				best_major = major;
				best_minor = m;
			}
	}
	uint64_t caps;
	if (varint(b, &caps) != 0)
		return -1;
	uint8_t reply[5] = {0, 0, 0, 0, 0};
	if (best_minor >= 0) {
		reply[2] = (uint8_t)best_minor;
		reply[3] = (uint8_t)best_major;
	}
	sl_buf_reset(&b->out);
	if (sl_buf_append(&b->out, reply, sizeof(reply)) != 0 ||
	    bolt_net_flush(b) != 0)
		return -1;
	if (best_minor < 0)
		return no_common(b, got);
	b->major = (uint8_t)best_major;
	b->minor = (uint8_t)best_minor;
	return 0;
}

/** Agree on a version. 0, or -1. */
static int
handshake(struct bolt *b)
{
	sl_buf_reset(&b->out);
	if (sl_buf_append(&b->out, magic, sizeof(magic)) != 0 ||
	    sl_buf_append(&b->out, offer, sizeof(offer)) != 0 ||
	    bolt_net_flush(b) != 0)
		return -1;
	if (need(b, 4) != 0) {
		sl_diag_wrap(SL_EIO,
		             "%s: no handshake reply from %s (is it a "
		             "Bolt server?)",
		             b->shown, b->addr);
		return -1;
	}
	const uint8_t *r = b->in + b->in_pos;
	if (memcmp(r, "HTTP", 4) == 0) {
		sl_diag_set(SL_EPARSE,
		            "%s: %s answered in HTTP: that is Neo4j's HTTP "
		            "port, not Bolt's (7687 by default)",
		            b->shown, b->addr);
		return -1;
	}
	uint8_t v[4];
	memcpy(v, r, 4);
	b->in_pos += 4;
	b->in_len -= 4;
	if (v[0] == 0 && v[1] == 0 && v[2] == 0x01 && v[3] == 0xFF)
		return manifest(b);
	if (v[0] == 0 && v[1] == 0 && v[2] == 0 && v[3] == 0)
		return no_common(b, "");
	if (v[0] != 0 || v[1] != 0 || !spoken(v[3], v[2])) {
		char got[64];
		snprintf(got, sizeof(got), "%02x%02x%02x%02x", v[0], v[1], v[2],
		         v[3]);
		sl_diag_set(SL_EPARSE,
		            "%s: %s answered the Bolt handshake with %s, not a "
		            "version sluice offered",
		            b->shown, b->addr, got);
		return -1;
	}
	b->major = v[3];
	b->minor = v[2];
	return 0;
}

/** Append the credentials' map entries (scheme, principal...). */
static int
put_auth(struct bolt *b, struct sl_buf *o)
{
	const struct bolt_uri *u = &b->uri;
	int rc = 0;
	switch (u->auth) {
	case BOLT_AUTH_NONE:
		rc |= sl_ps_put_cstr(o, "scheme");
		rc |= sl_ps_put_cstr(o, "none");
		break;
	case BOLT_AUTH_BEARER:
		rc |= sl_ps_put_cstr(o, "scheme");
		rc |= sl_ps_put_cstr(o, "bearer");
		rc |= sl_ps_put_cstr(o, "credentials");
		rc |= sl_ps_put_cstr(o, u->secret);
		break;
	case BOLT_AUTH_BASIC:
		rc |= sl_ps_put_cstr(o, "scheme");
		rc |= sl_ps_put_cstr(o, "basic");
		rc |= sl_ps_put_cstr(o, "principal");
		rc |= sl_ps_put_cstr(o, u->user);
		rc |= sl_ps_put_cstr(o, "credentials");
		rc |= sl_ps_put_cstr(o, u->secret);
		if (u->realm[0] != '\0') {
			rc |= sl_ps_put_cstr(o, "realm");
			rc |= sl_ps_put_cstr(o, u->realm);
		}
		break;
	}
	return rc != 0 ? -1 : 0;
}

/** Entries put_auth() writes. */
static size_t
auth_entries(const struct bolt_uri *u)
{
	switch (u->auth) {
	case BOLT_AUTH_NONE:
		return 1;
	case BOLT_AUTH_BEARER:
		return 2;
	case BOLT_AUTH_BASIC:
		break;
	}
	return u->realm[0] != '\0' ? 4 : 3;
}

/** Queue HELLO (and LOGON from 5.1). */
static int
hello(struct bolt *b, const char *agent, const char *route_addr)
{
	bool auth_in_hello = !bolt_at_least(b, 5, 1);
	bool agent_map = bolt_at_least(b, 5, 3);
	bool patch = b->major == 4;
	size_t n = 1 + (auth_in_hello ? auth_entries(&b->uri) : 0) +
	           (route_addr != NULL) + patch + agent_map;
	struct sl_buf *o = &b->msg;
	int rc = bolt_begin_msg(b, 1, BOLT_HELLO);
	rc |= sl_ps_put_map(o, n);
	rc |= sl_ps_put_cstr(o, "user_agent");
	rc |= sl_ps_put_cstr(o, agent);
	if (auth_in_hello)
		rc |= put_auth(b, o);
	if (route_addr != NULL) {
		rc |= sl_ps_put_cstr(o, "routing");
		rc |= sl_ps_put_map(o, 1);
		rc |= sl_ps_put_cstr(o, "address");
		rc |= sl_ps_put_cstr(o, route_addr);
	}
	if (patch) {
		rc |= sl_ps_put_cstr(o, "patch_bolt");
		rc |= sl_ps_put_list(o, 1);
		rc |= sl_ps_put_cstr(o, "utc");
	}
	if (agent_map) {
		struct utsname un;
		char platform[sizeof(un.sysname) * 3 + 8] = "unknown";
		if (uname(&un) == 0)
			snprintf(platform, sizeof(platform), "%s %s; %s",
			         un.sysname, un.release, un.machine);
		rc |= sl_ps_put_cstr(o, "bolt_agent");
		rc |= sl_ps_put_map(o, 3);
		rc |= sl_ps_put_cstr(o, "product");
		rc |= sl_ps_put_cstr(o, agent);
		rc |= sl_ps_put_cstr(o, "platform");
		rc |= sl_ps_put_cstr(o, platform);
		rc |= sl_ps_put_cstr(o, "language");
		rc |= sl_ps_put_cstr(o, "C/17");
	}
	rc |= bolt_end_msg(b);
	if (!auth_in_hello) {
		rc |= bolt_begin_msg(b, 1, BOLT_LOGON);
		rc |= sl_ps_put_map(o, auth_entries(&b->uri));
		rc |= put_auth(b, o);
		rc |= bolt_end_msg(b);
	}
	/* The credentials leave no copy in the message buffer. */
	memset(b->msg.data, 0, b->msg.len);
	return rc != 0 ? -1 : 0;
}

/** Copy string `v` (if one) to out[0..size). */
static void
copy_str(const struct sl_ps *v, char *out, size_t size)
{
	if (v != NULL && v->type == SL_PS_STRING)
		snprintf(out, size, "%.*s", (int)v->len, v->u.s);
}

/** Read the reply to HELLO or LOGON. */
static int
hello_reply(struct bolt *b, const char *what)
{
	struct sl_ps m;
	if (bolt_recv(b, &m) != 0) {
		sl_diag_wrap(SL_EIO, "%s: %s refused", b->shown, what);
		return -1;
	}
	if (m.tag == BOLT_FAILURE) {
		char code[128];
		bolt_failure_code(&m, code, sizeof(code));
		bolt_failure(b, &m,
		             strstr(code, "Security") != NULL
		                     ? "authentication failed"
		                     : what);
		return -1;
	}
	if (m.tag != BOLT_SUCCESS) {
		sl_diag_set(SL_EPARSE, "%s: unexpected reply 0x%02X to %s",
		            b->shown, m.tag, what);
		return -1;
	}
	if (m.len >= 1) {
		copy_str(sl_ps_map_get(&m.u.items[0], "server"), b->server,
		         sizeof(b->server));
		copy_str(sl_ps_map_get(&m.u.items[0], "connection_id"),
		         b->conn_id, sizeof(b->conn_id));
	}
	return 0;
}

int
bolt_open(struct bolt *b, const char *host, int port, double deadline,
          const char *agent)
{
	if (bolt_net_connect(b, host, port, deadline) != 0 || handshake(b) != 0)
		return -1;
	char route[BOLT_HOST_MAX + 8];
	snprintf(route, sizeof(route), "%s:%d", b->uri.host, b->uri.port);
	if (hello(b, agent, b->uri.routing ? route : NULL) != 0)
		return -1;
	int rc = bolt_net_flush(b);
	/* Nor in the output buffer. */
	if (b->out.data != NULL)
		memset(b->out.data, 0, b->out.alloc);
	if (rc != 0)
		return -1;
	if (hello_reply(b, "HELLO") != 0)
		return -1;
	if (bolt_at_least(b, 5, 1) && hello_reply(b, "LOGON") != 0)
		return -1;
	sl_log_debug("%s: connected to %s (%s, Bolt %d.%d, %s)", b->shown,
	             b->addr, b->server, b->major, b->minor, b->conn_id);
	b->deadline = 0;
	return 0;
}

void
bolt_close(struct bolt *b)
{
	if (b->fd >= 0 && b->pending == 0 &&
	    bolt_begin_msg(b, 0, BOLT_GOODBYE) == 0 && bolt_end_msg(b) == 0) {
		/* Best effort, and never waiting long for it. */
		b->deadline = sl_clock() + 0.5;
		struct sl_diag keep;
		sl_diag_stash(&keep);
		bolt_net_flush(b);
		sl_diag_restore(&keep);
	}
	bolt_net_close(b);
}

/* }}} */
