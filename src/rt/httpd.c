/*
 * sluice: a small HTTP(S) server on the loop (see sluice/httpd.h).
 */
#include "sluice/httpd.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "rt/sched.h"
#include "rt/ssl_dl.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/list.h"
#include "sluice/task.h"

/** Bytes read from a socket at a time. */
#define READ_PIECE 4096

/** The server. */
struct sl_httpd {
	/** The listening socket. */
	uv_tcp_t listener;
	/** Options (strings not kept). */
	struct sl_httpd_opts o;
	/** The handler. */
	sl_httpd_fn fn;
	/** Its argument. */
	void *arg;
	/** TLS context, or NULL for plain HTTP. */
	SSL_CTX *tls;
	/** Open connections (struct client). */
	struct sl_list clients;
	/** Number of them. */
	uint32_t n_clients;
	/** Handles not yet closed: the listener and each client's two. */
	uint32_t handles;
	/** Set by sl_httpd_close(). */
	bool closing;
	/** The port listened on. */
	int port;
	/** Requests answered. */
	uint64_t requests;
	/** A handle to accept and close a connection with when there is no
	 * memory for a client (libuv accepts no more until one is taken). */
	uv_tcp_t spare;
	/** Whether `spare` is in use (open or closing). */
	bool spare_busy;
};

/** One connection. */
struct client {
	/** Its socket. */
	uv_tcp_t tcp;
	/** Its deadline. */
	uv_timer_t timer;
	/** The server. */
	struct sl_httpd *s;
	/** Link in the server's list. */
	struct sl_list link;
	/** The request head read so far (capped at request_max). */
	struct sl_buf req;
	/** TLS state, or NULL. */
	SSL *ssl;
	/** Bytes from the network, for OpenSSL. */
	BIO *rbio;
	/** Bytes from OpenSSL, for the network. */
	BIO *wbio;
	/** Whether the response was queued (reading stops). */
	bool answered;
	/** Whether close was started. */
	bool closing;
	/** Handles of this client not yet closed (tcp, timer). */
	int open_handles;
	/** Writes in flight. */
	uint32_t writes;
	/** The read buffer. */
	char piece[READ_PIECE];
};

/** One write in flight, with its bytes. */
struct wreq {
	/** libuv's request. */
	uv_write_t req;
	/** The client. */
	struct client *c;
	/** Whether the connection closes once this is written. */
	bool last;
	/** Number of bytes in `data`. */
	size_t len;
	/** The bytes. */
	char data[];
};

void
sl_httpd_opts_init(struct sl_httpd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->address = "0.0.0.0";
	o->port = 9090;
	o->request_max = 8192;
	o->response_max = (size_t)16 << 20;
	o->timeout = 10.0;
	o->clients_max = 16;
}

/** Free the server once its last handle is closed. */
static void
server_release(struct sl_httpd *s)
{
	if (--s->handles > 0)
		return;
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	sl_free(s);
}

/** Close callback of the listener. */
static void
listener_closed(uv_handle_t *h)
{
	server_release(h->data);
}

/** Close callback of a client's handles. */
static void
client_handle_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct sl_httpd *s = c->s;
	if (--c->open_handles == 0) {
		if (c->ssl != NULL)
			SSL_free(c->ssl); /* frees the BIOs */
		sl_buf_destroy(&c->req);
		sl_free(c);
	}
	server_release(s);
}

/** Close a connection (idempotent). Writes in flight are cancelled. */
static void
client_close(struct client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	sl_list_del(&c->link);
	c->s->n_clients--;
	uv_close((uv_handle_t *)&c->timer, client_handle_closed);
	uv_close((uv_handle_t *)&c->tcp, client_handle_closed);
}

/** A write finished: free it; close after the last one. */
static void
write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct client *c = w->c;
	bool last = w->last;
	sl_free(w);
	c->writes--;
	if (status != 0 || (last && c->writes == 0))
		client_close(c);
}

/** Queue `n` bytes for the client. 0, or -1 (the client is closed). */
static int
send_bytes(struct client *c, const void *p, size_t n, bool last)
{
	if (c->closing)
		return -1;
	struct wreq *w = sl_malloc(sizeof(*w) + n);
	if (w == NULL) {
		client_close(c);
		return -1;
	}
	w->c = c;
	w->last = last;
	w->len = n;
	memcpy(w->data, p, n);
	uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done) != 0) {
		sl_free(w);
		client_close(c);
		return -1;
	}
	c->writes++;
	return 0;
}

/** Send what OpenSSL has for the network. 0, or -1. */
static int
tls_flush(struct client *c, bool last)
{
	char buf[16384];
	int n;
	bool sent = false;
	while ((n = BIO_read(c->wbio, buf, sizeof(buf))) > 0) {
		bool more = BIO_ctrl_pending(c->wbio) > 0;
		if (send_bytes(c, buf, (size_t)n, last && !more) != 0)
			return -1;
		sent = true;
	}
	if (last && !sent && c->writes == 0)
		client_close(c);
	return 0;
}

/** Send `n` bytes of response, through TLS if on; then close. */
static void
send_response(struct client *c, const char *p, size_t n)
{
	c->answered = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (c->ssl == NULL) {
		(void)send_bytes(c, p, n, true);
		return;
	}
	size_t off = 0;
	while (off < n) {
		size_t chunk = n - off > 16384 ? 16384 : n - off;
		int k = SSL_write(c->ssl, p + off, (int)chunk);
		if (k <= 0) {
			client_close(c);
			return;
		}
		off += (size_t)k;
		if (tls_flush(c, false) != 0)
			return;
	}
	(void)SSL_shutdown(c->ssl);
	(void)tls_flush(c, true);
}

/** Answer with a status and a short text body. */
static void
send_status(struct client *c, int status, const char *reason, const char *text)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
	                 "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
	                 "charset=utf-8\r\nContent-Length: %zu\r\n"
	                 "Connection: close\r\n\r\n%s",
	                 status, reason, strlen(text), text);
	c->s->requests++;
	send_response(c, buf, (size_t)n);
}

/** The whole request head is in: parse its first line and answer. */
static void
answer(struct client *c)
{
	struct sl_httpd *s = c->s;
	char *line = c->req.data;
	char *eol = strstr(line, "\r\n");
	*eol = '\0';
	char *sp1 = strchr(line, ' ');
	char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		send_status(c, 400, "Bad Request", "bad request line\n");
		return;
	}
	*sp1 = *sp2 = '\0';
	bool head = strcmp(line, "HEAD") == 0;
	if (!head && strcmp(line, "GET") != 0) {
		send_status(c, 405, "Method Not Allowed",
		            "only GET and HEAD are served\n");
		return;
	}
	struct sl_buf body;
	sl_buf_create(&body, s->o.response_max);
	const char *type = "text/plain; charset=utf-8";
	int status = s->fn(s->arg, sp1 + 1, &body, &type);
	if (status == 404) {
		sl_buf_destroy(&body);
		send_status(c, 404, "Not Found", "not found\n");
		return;
	}
	if (status != 200) {
		send_status(c, 500, "Internal Server Error",
		            body.data != NULL ? body.data : "error\n");
		sl_buf_destroy(&body);
		return;
	}
	struct sl_buf out;
	sl_buf_create(&out, s->o.response_max + 512);
	if (sl_buf_printf(&out,
	                  "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
	                  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	                  type, body.len) != 0 ||
	    (!head && body.len > 0 &&
	     sl_buf_append(&out, body.data, body.len) != 0)) {
		sl_buf_destroy(&out);
		sl_buf_destroy(&body);
		sl_diag_clear(sl_diag_get());
		send_status(c, 500, "Internal Server Error",
		            "out of memory for the response\n");
		return;
	}
	sl_buf_destroy(&body);
	s->requests++;
	send_response(c, out.data, out.len);
	sl_buf_destroy(&out);
}

/** Add request bytes; answer once the head is complete. */
static void
take_bytes(struct client *c, const char *p, size_t n)
{
	if (c->answered || c->closing)
		return;
	if (c->req.len + n > c->s->o.request_max ||
	    sl_buf_append(&c->req, p, n) != 0) {
		sl_diag_clear(sl_diag_get());
		send_status(c, 431, "Request Header Fields Too Large",
		            "request too large\n");
		return;
	}
	if (strstr(c->req.data, "\r\n\r\n") != NULL)
		answer(c);
}

/** Feed network bytes through TLS. */
static void
tls_input(struct client *c, const char *p, size_t n)
{
	if (BIO_write(c->rbio, p, (int)n) != (int)n) {
		client_close(c);
		return;
	}
	char buf[READ_PIECE];
	for (;;) {
		int k = SSL_read(c->ssl, buf, sizeof(buf));
		if (k > 0) {
			take_bytes(c, buf, (size_t)k);
			if (c->answered || c->closing)
				return;
			continue;
		}
		int err = SSL_get_error(c->ssl, k);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			(void)tls_flush(c, false);
			return;
		}
		/* A failed handshake (a plain-HTTP client, a bad
		 * certificate) or the peer's close. */
		ERR_clear_error();
		(void)tls_flush(c, true);
		if (!c->closing && c->writes == 0)
			client_close(c);
		return;
	}
}

/** libuv's buffer for the next read. */
static void
alloc_piece(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct client *c = h->data;
	*buf = uv_buf_init(c->piece, sizeof(c->piece));
}

/** Bytes (or the end) from a client. */
static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = st->data;
	(void)buf;
	if (n < 0) {
		client_close(c);
		return;
	}
	if (n == 0)
		return;
	if (c->ssl != NULL)
		tls_input(c, c->piece, (size_t)n);
	else
		take_bytes(c, c->piece, (size_t)n);
}

/** A client's deadline passed. */
static void
on_deadline(uv_timer_t *t)
{
	client_close(t->data);
}

/** Close callback of the spare handle. */
static void
spare_closed(uv_handle_t *h)
{
	struct sl_httpd *s = h->data;
	s->spare_busy = false;
	server_release(s);
}

/** Take a connection there is no memory for, and close it at once. */
static void
refuse(struct sl_httpd *s, uv_stream_t *ls)
{
	if (s->spare_busy)
		return; /* the next accept takes it */
	s->spare_busy = true;
	uv_tcp_init(ls->loop, &s->spare);
	s->spare.data = s;
	s->handles++;
	uv_unref((uv_handle_t *)&s->spare);
	(void)uv_accept(ls, (uv_stream_t *)&s->spare);
	uv_close((uv_handle_t *)&s->spare, spare_closed);
}

/** A new connection. */
static void
on_connection(uv_stream_t *ls, int status)
{
	struct sl_httpd *s = ls->data;
	if (status != 0 || s->closing)
		return;
	struct client *c = sl_calloc(1, sizeof(*c));
	if (c == NULL) {
		sl_diag_clear(sl_diag_get());
		refuse(s, ls);
		return;
	}
	c->s = s;
	sl_buf_create(&c->req, s->o.request_max + 1);
	uv_loop_t *uv = ls->loop;
	uv_tcp_init(uv, &c->tcp);
	uv_timer_init(uv, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	s->handles += 2;
	sl_list_add_tail(&s->clients, &c->link);
	s->n_clients++;
	uv_unref((uv_handle_t *)&c->tcp);
	uv_unref((uv_handle_t *)&c->timer);
	if (uv_accept(ls, (uv_stream_t *)&c->tcp) != 0 ||
	    s->n_clients > s->o.clients_max) {
		client_close(c);
		return;
	}
	if (s->tls != NULL) {
		c->ssl = SSL_new(s->tls);
		c->rbio = BIO_new(BIO_s_mem());
		c->wbio = BIO_new(BIO_s_mem());
		if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
			if (c->ssl == NULL) {
				BIO_free(c->rbio);
				BIO_free(c->wbio);
			} else {
				SSL_set_bio(c->ssl, c->rbio, c->wbio);
			}
			ERR_clear_error();
			client_close(c);
			return;
		}
		SSL_set_bio(c->ssl, c->rbio, c->wbio);
		SSL_set_accept_state(c->ssl);
	}
	uv_timer_start(&c->timer, on_deadline,
	               (uint64_t)(s->o.timeout * 1000.0), 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, alloc_piece, on_read) != 0)
		client_close(c);
}

/** The first OpenSSL error as text, or `fallback`. */
static const char *
ssl_error_text(char *buf, size_t size, const char *fallback)
{
	unsigned long e = ERR_get_error();
	ERR_clear_error();
	if (e == 0)
		return fallback;
	ERR_error_string_n(e, buf, size);
	return buf;
}

/** Make the TLS context of `o`. The context, or NULL with an error. */
static SSL_CTX *
tls_context(const struct sl_httpd_opts *o)
{
	char err[256];
	if (sl_ssl_load() != 0)
		return NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		sl_diag_set(SL_EOOM, "cannot make a TLS context: %s",
		            ssl_error_text(err, sizeof(err), "out of memory"));
		return NULL;
	}
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	const char *key = o->keyfile != NULL ? o->keyfile : o->certfile;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, o->certfile) != 1) {
		sl_diag_set(SL_EINVAL,
		            "%s: cannot read the TLS certificate (expected a "
		            "PEM certificate chain): %s",
		            o->certfile,
		            ssl_error_text(err, sizeof(err), "unknown error"));
	} else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) !=
	           1) {
		/* OpenSSL checks the key against the certificate here. */
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH)
			sl_diag_set(SL_EINVAL,
			            "%s: the private key does not match the "
			            "certificate %s",
			            key, o->certfile);
		else
			sl_diag_set(SL_EINVAL,
			            "%s: cannot read the TLS private key "
			            "(expected a PEM key): %s",
			            key,
			            ssl_error_text(err, sizeof(err),
			                           "unknown error"));
		ERR_clear_error();
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		sl_diag_set(SL_EINVAL,
		            "%s: the private key does not match the "
		            "certificate %s",
		            key, o->certfile);
		ERR_clear_error();
	} else {
		return ctx;
	}
	SSL_CTX_free(ctx);
	return NULL;
}

struct sl_httpd *
sl_httpd_open(const struct sl_httpd_opts *o, sl_httpd_fn fn, void *arg)
{
	struct sl_loop *loop = sl_loop_current();
	if (loop == NULL) {
		sl_diag_set(SL_EINVAL, "sl_httpd_open() outside a loop");
		return NULL;
	}
	if (o->keyfile != NULL && o->certfile == NULL) {
		sl_diag_set(SL_EINVAL,
		            "a TLS key file (%s) needs a "
		            "certificate file",
		            o->keyfile);
		return NULL;
	}
	if (o->port < 0 || o->port > 65535) {
		sl_diag_set(SL_EINVAL, "port %d: expected 0 to 65535", o->port);
		return NULL;
	}
	struct sockaddr_storage addr;
	if (uv_ip4_addr(o->address, o->port, (struct sockaddr_in *)&addr) !=
	            0 &&
	    uv_ip6_addr(o->address, o->port, (struct sockaddr_in6 *)&addr) !=
	            0) {
		sl_diag_set(SL_EINVAL,
		            "'%s': expected an IPv4 or IPv6 address to listen "
		            "on",
		            o->address);
		return NULL;
	}
	struct sl_httpd *s = sl_calloc(1, sizeof(*s));
	if (s == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for the HTTP server");
		return NULL;
	}
	s->o = *o;
	s->o.address = NULL;
	s->o.certfile = s->o.keyfile = NULL;
	s->fn = fn;
	s->arg = arg;
	sl_list_init(&s->clients);
	if (o->certfile != NULL && (s->tls = tls_context(o)) == NULL) {
		sl_free(s);
		return NULL;
	}
	uv_loop_t *uv = sl_rt_uv(loop);
	uv_tcp_init(uv, &s->listener);
	s->listener.data = s;
	s->handles = 1;
	uv_unref((uv_handle_t *)&s->listener);
	int rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, 64, on_connection);
	if (rc != 0) {
		sl_diag_set(rc == UV_EADDRINUSE ? SL_EBUSY : SL_EIO,
		            "cannot listen on %s port %d: %s", o->address,
		            o->port, uv_strerror(rc));
		s->closing = true;
		uv_close((uv_handle_t *)&s->listener, listener_closed);
		return NULL;
	}
	struct sockaddr_storage got;
	int len = sizeof(got);
	s->port = o->port;
	if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&got, &len) ==
	    0)
		s->port =
		        got.ss_family == AF_INET6
		                ? ntohs(((struct sockaddr_in6 *)&got)
		                                ->sin6_port)
		                : ntohs(((struct sockaddr_in *)&got)->sin_port);
	return s;
}

int
sl_httpd_port(const struct sl_httpd *s)
{
	return s->port;
}

uint64_t
sl_httpd_requests(const struct sl_httpd *s)
{
	return s->requests;
}

void
sl_httpd_close(struct sl_httpd *s)
{
	if (s == NULL || s->closing)
		return;
	s->closing = true;
	struct sl_list *l;
	while ((l = sl_list_first(&s->clients)) != NULL)
		client_close(sl_list_entry(l, struct client, link));
	uv_close((uv_handle_t *)&s->listener, listener_closed);
}
