/*
 * sluice: the Bolt driver's transport: a non-blocking TCP socket whose
 * waits suspend the calling task (sl_io), with TLS through OpenSSL. Host
 * names are resolved on a worker thread (sl_offload()), so a slow DNS
 * stalls only the task that connects.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bolt.h"
#include "rt/ssl_dl.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/task.h"

/** Size of the read buffer. */
#define IN_SIZE ((size_t)64 << 10)

/** TLS state of a connection. */
struct bolt_tls {
	/** The context (its settings: verification, CAs). */
	SSL_CTX *ctx;
	/** The session. */
	SSL *ssl;
};

/** A name resolution run on a worker thread. */
struct resolve_job {
	/** Host to resolve. */
	char host[BOLT_HOST_MAX];
	/** Port, as text. */
	char port[8];
	/** The addresses found (freed by the caller or by abandon). */
	struct addrinfo *res;
	/** getaddrinfo's result code. */
	int rc;
};

/** Resolve (on a worker thread). */
static int
resolve_run(void *arg)
{
	struct resolve_job *j = arg;
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	j->rc = getaddrinfo(j->host, j->port, &hints, &j->res);
	return 0;
}

/** Free an abandoned or finished resolution. */
static void
resolve_free(void *arg)
{
	struct resolve_job *j = arg;
	if (j->res != NULL)
		freeaddrinfo(j->res);
	sl_free(j);
}

/** Seconds left until `deadline` (0: none), for waits. */
static double
left(double deadline)
{
	if (deadline <= 0)
		return SL_FOREVER;
	double l = deadline - sl_clock();
	return l > 0 ? l : 0;
}

/** Wait for `events` on the socket by the deadline. 0, or -1. */
static int
wait_io(struct bolt *b, int events, const char *what)
{
	if (sl_io_wait(&b->io, events, left(b->deadline)) > 0)
		return 0;
	if (sl_diag_code() == SL_ETIMEDOUT)
		sl_diag_set(SL_ETIMEDOUT, "%s: timed out %s %s", b->shown, what,
		            b->addr);
	return -1;
}

/** Try one address: a connected non-blocking socket, or -1. */
static int
try_connect(struct bolt *b, const struct addrinfo *ai, int *err)
{
	int fd = socket(ai->ai_family,
	                ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		return -1;
	}
	double l = left(b->deadline);
	if (sl_wait_fd(fd, SL_IO_WRITE, l) < 0) {
		close(fd);
		*err = ETIMEDOUT;
		return -2;
	}
	int so = 0;
	socklen_t sl = sizeof(so);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0 || so != 0) {
		*err = so != 0 ? so : errno;
		close(fd);
		return -1;
	}
	return fd;
}

/** The first OpenSSL error as text, in buf. */
static const char *
tls_error(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();
	if (e == 0)
		snprintf(buf, size, "no detail");
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

/*
 * TLS reads and writes the socket through BIO methods of our own, so that
 * writing to a connection the server closed fails with EPIPE instead of
 * raising SIGPIPE (OpenSSL's socket BIO uses write()).
 */

/** The BIO's socket. */
static int
bio_fd(BIO *bio)
{
	return (int)(intptr_t)BIO_get_data(bio);
}

/** Write, never raising SIGPIPE. */
static int
bio_write(BIO *bio, const char *data, int n)
{
	BIO_clear_retry_flags(bio);
	ssize_t k = send(bio_fd(bio), data, (size_t)n, MSG_NOSIGNAL);
	if (k < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(bio);
	return (int)k;
}

/** Read. */
static int
bio_read(BIO *bio, char *data, int n)
{
	BIO_clear_retry_flags(bio);
	ssize_t k = recv(bio_fd(bio), data, (size_t)n, 0);
	if (k < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(bio);
	return (int)k;
}

/** Control: only flushing means something (nothing is buffered). */
static long
bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	(void)bio;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

/** Set a new BIO up. */
static int
bio_create(BIO *bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

/** The BIO methods, made once. */
static BIO_METHOD *bio_methods;
/** Guards their making. */
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

/** Make the BIO methods. */
static void
bio_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	                             "sluice socket");
	if (m == NULL)
		return;
	BIO_meth_set_write(m, bio_write);
	BIO_meth_set_read(m, bio_read);
	BIO_meth_set_ctrl(m, bio_ctrl);
	BIO_meth_set_create(m, bio_create);
	bio_methods = m;
}

/** Start TLS on the connected socket. 0, or -1. */
static int
tls_start(struct bolt *b, const char *host)
{
	char err[256];
	if (sl_ssl_load() != 0)
		return -1;
	struct bolt_tls *t = sl_calloc(1, sizeof(*t));
	if (t == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory for TLS", b->shown);
		return -1;
	}
	b->tls = t;
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL) {
		sl_diag_set(SL_EIO, "%s: TLS: %s", b->shown,
		            tls_error(err, sizeof(err)));
		return -1;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	if (b->uri.trust_all) {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
		int ok = b->uri.ca[0] != '\0'
		                 ? SSL_CTX_load_verify_locations(
		                           t->ctx, b->uri.ca, NULL)
		                 : SSL_CTX_set_default_verify_paths(t->ctx);
		if (ok != 1) {
			sl_diag_set(SL_EIO,
			            "%s: TLS: cannot load the CA%s%s: %s",
			            b->shown, b->uri.ca[0] ? " file " : "s",
			            b->uri.ca, tls_error(err, sizeof(err)));
			return -1;
		}
	}
	t->ssl = SSL_new(t->ctx);
	pthread_once(&bio_once, bio_init);
	BIO *bio = bio_methods != NULL ? BIO_new(bio_methods) : NULL;
	if (t->ssl == NULL || bio == NULL) {
		BIO_free(bio);
		sl_diag_set(SL_EIO, "%s: TLS: %s", b->shown,
		            tls_error(err, sizeof(err)));
		return -1;
	}
	BIO_set_data(bio, (void *)(intptr_t)b->fd);
	SSL_set_bio(t->ssl, bio, bio);
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, host, ip) == 1 ||
	             inet_pton(AF_INET6, host, ip) == 1;
	if (!is_ip)
		SSL_set_tlsext_host_name(t->ssl, host);
	if (!b->uri.trust_all) {
		/* The certificate must name the host (or its address). */
		if (is_ip)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl),
			                              host);
		else
			SSL_set1_host(t->ssl, host);
	}
	for (;;) {
		int rc = SSL_connect(t->ssl);
		if (rc == 1)
			return 0;
		int e = SSL_get_error(t->ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (wait_io(b,
			            e == SSL_ERROR_WANT_READ ? SL_IO_READ
			                                     : SL_IO_WRITE,
			            "in the TLS handshake with") != 0)
				return -1;
			continue;
		}
		long v = SSL_get_verify_result(t->ssl);
		if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
			sl_diag_set(
			        SL_EIO,
			        "%s: %s closed the connection during the TLS "
			        "handshake (does it speak TLS? bolt:// and "
			        "neo4j:// do not)",
			        b->shown, b->addr);
		else if (v != X509_V_OK)
			sl_diag_set(SL_EIO,
			            "%s: TLS: the server's certificate was "
			            "refused: %s (bolt+ssc:// or neo4j+ssc:// "
			            "accept a self-signed one)",
			            b->shown, X509_verify_cert_error_string(v));
		else
			sl_diag_set(
			        SL_EIO, "%s: TLS handshake with %s failed: %s",
			        b->shown, b->addr, tls_error(err, sizeof(err)));
		return -1;
	}
}

int
bolt_net_connect(struct bolt *b, const char *host, int port, double deadline)
{
	b->deadline = deadline;
	snprintf(b->addr, sizeof(b->addr), "%s:%d", host, port);
	struct resolve_job *j = sl_calloc(1, sizeof(*j));
	if (j == NULL) {
		sl_diag_set(SL_EOOM, "%s: out of memory", b->shown);
		return -1;
	}
	snprintf(j->host, sizeof(j->host), "%s", host);
	snprintf(j->port, sizeof(j->port), "%d", port);
	if (sl_offload(resolve_run, j, resolve_free, left(deadline)) != 0) {
		/* Abandoned: resolve_free runs when the thread is done. */
		if (sl_diag_code() == SL_ETIMEDOUT)
			sl_diag_set(SL_ETIMEDOUT, "%s: timed out resolving %s",
			            b->shown, host);
		return -1;
	}
	if (j->rc != 0) {
		sl_diag_set(SL_EIO, "%s: cannot resolve host '%s': %s",
		            b->shown, host, gai_strerror(j->rc));
		resolve_free(j);
		return -1;
	}
	int err = 0, fd = -1;
	for (struct addrinfo *ai = j->res; ai != NULL && fd < 0;
	     ai = ai->ai_next) {
		fd = try_connect(b, ai, &err);
		if (fd == -2)
			break;
	}
	resolve_free(j);
	if (fd < 0) {
		if (fd == -2 || err == ETIMEDOUT)
			sl_diag_set(SL_ETIMEDOUT,
			            "%s: timed out connecting to %s", b->shown,
			            b->addr);
		else
			sl_diag_raise(__FILE__, __LINE__, SL_EIO, err,
			              "%s: cannot connect to %s", b->shown,
			              b->addr);
		return -1;
	}
	b->fd = fd;
	if (sl_io_create(&b->io, fd) != 0)
		return -1;
	b->io_ok = true;
	if (b->uri.tls && tls_start(b, host) != 0)
		return -1;
	return 0;
}

void
bolt_net_close(struct bolt *b)
{
	if (b->tls != NULL) {
		if (b->tls->ssl != NULL)
			SSL_free(b->tls->ssl);
		if (b->tls->ctx != NULL)
			SSL_CTX_free(b->tls->ctx);
		sl_free(b->tls);
		b->tls = NULL;
	}
	if (b->io_ok) {
		sl_io_destroy(&b->io);
		b->io_ok = false;
	}
	if (b->fd >= 0) {
		close(b->fd);
		b->fd = -1;
	}
}

/** The connection was lost: say so. */
static int
lost(struct bolt *b, int err, const char *what)
{
	if (err != 0)
		sl_diag_raise(__FILE__, __LINE__, SL_EIO, err,
		              "%s: connection to %s lost while %s", b->shown,
		              b->addr, what);
	else
		sl_diag_set(
		        SL_EIO,
		        "%s: connection to %s closed by the server while %s",
		        b->shown, b->addr, what);
	return -1;
}

/**
 * Drop the first `done` bytes of `out` (written) and return `rc`: a
 * failed flush keeps what was not written, so that a RESET sent after a
 * cancel follows whole messages.
 */
static int
consumed(struct bolt *b, size_t done, int rc)
{
	if (done > 0) {
		memmove(b->out.data, b->out.data + done, b->out.len - done);
		b->out.len -= done;
		b->out.data[b->out.len] = '\0';
	}
	return rc;
}

/** Write some of out[done..): the bytes written (> 0), 0 to retry, -1. */
static ssize_t
write_some(struct bolt *b, size_t done)
{
	size_t n = b->out.len - done;
	if (b->fd < 0)
		return lost(b, 0, "writing");
	if (b->tls != NULL) {
		int k = SSL_write(b->tls->ssl, b->out.data + done,
		                  n > INT32_MAX ? INT32_MAX : (int)n);
		if (k > 0)
			return k;
		int e = SSL_get_error(b->tls->ssl, k);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return wait_io(b,
			               e == SSL_ERROR_WANT_READ ? SL_IO_READ
			                                        : SL_IO_WRITE,
			               "writing to");
		ERR_clear_error();
		return lost(b, e == SSL_ERROR_SYSCALL ? errno : 0, "writing");
	}
	ssize_t k = send(b->fd, b->out.data + done, n, MSG_NOSIGNAL);
	if (k > 0)
		return k;
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return wait_io(b, SL_IO_WRITE, "writing to");
	if (k < 0 && errno == EINTR)
		return 0;
	return lost(b, errno, "writing");
}

int
bolt_net_flush(struct bolt *b)
{
	size_t done = 0;
	while (done < b->out.len) {
		ssize_t k = write_some(b, done);
		if (k < 0)
			return consumed(b, done, -1);
		done += (size_t)k;
	}
	sl_buf_reset(&b->out);
	return 0;
}

int
bolt_net_fill(struct bolt *b)
{
	if (b->in == NULL) {
		b->in = sl_malloc(IN_SIZE);
		if (b->in == NULL) {
			sl_diag_set(SL_EOOM, "%s: out of memory", b->shown);
			return -1;
		}
		b->in_cap = IN_SIZE;
	}
	if (b->in_pos > 0 && b->in_len > 0)
		memmove(b->in, b->in + b->in_pos, b->in_len);
	b->in_pos = 0;
	if (b->in_len == b->in_cap) {
		sl_diag_set(SL_ELIMIT, "%s: read buffer full", b->shown);
		return -1;
	}
	for (;;) {
		size_t room = b->in_cap - b->in_len;
		if (b->fd < 0)
			return lost(b, 0, "reading");
		if (b->tls != NULL) {
			int k = SSL_read(b->tls->ssl, b->in + b->in_len,
			                 (int)room);
			if (k > 0) {
				b->in_len += (size_t)k;
				return 0;
			}
			int e = SSL_get_error(b->tls->ssl, k);
			if (e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE) {
				if (wait_io(b,
				            e == SSL_ERROR_WANT_READ
				                    ? SL_IO_READ
				                    : SL_IO_WRITE,
				            "waiting for") != 0)
					return -1;
				continue;
			}
			ERR_clear_error();
			return lost(b, e == SSL_ERROR_SYSCALL ? errno : 0,
			            "reading");
		}
		ssize_t k = recv(b->fd, b->in + b->in_len, room, 0);
		if (k > 0) {
			b->in_len += (size_t)k;
			return 0;
		}
		if (k == 0)
			return lost(b, 0, "reading");
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_io(b, SL_IO_READ, "waiting for") != 0)
				return -1;
			continue;
		}
		if (errno != EINTR)
			return lost(b, errno, "reading");
	}
}
