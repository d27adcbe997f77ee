/*
 * The HTTP server on the loop (sluice/httpd.h): requests from a client
 * thread with blocking sockets while the loop's task keeps running;
 * statuses (200, HEAD, 400, 404, 405, 431), a request split in pieces,
 * the per-connection deadline, the connection cap, a port in use, and
 * every allocation on the loop thread failed in turn.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/httpd.h"
#include "sluice/task.h"
#include "unit.h"

/** The handler: "hello N" for /metrics, N counting calls; 404 else. */
static int
handler(void *arg, const char *path, struct sl_buf *body, const char **type)
{
	int *calls = arg;
	if (strcmp(path, "/metrics") != 0)
		return 404;
	++*calls;
	*type = "text/plain; version=0.0.4";
	return sl_buf_printf(body, "hello %d\n", *calls) == 0 ? 200 : 500;
}

/** A connected blocking socket to 127.0.0.1:port (5 s timeouts), or -1. */
static int
dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/** Read until the end into out (NUL-terminated). Bytes, or -1. */
static long
read_all(int fd, char *out, size_t cap)
{
	size_t n = 0;
	for (;;) {
		ssize_t k = recv(fd, out + n, cap - 1 - n, 0);
		if (k < 0) {
			out[n] = '\0';
			return n > 0 ? (long)n : -1;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == cap - 1)
			break;
	}
	out[n] = '\0';
	return (long)n;
}

/** Send `req` in one piece and read the whole answer into out. */
static long
request(int port, const char *req, char *out, size_t cap)
{
	int fd = dial(port);
	if (fd < 0)
		return -1;
	long n = -1;
	if (send(fd, req, strlen(req), 0) == (ssize_t)strlen(req))
		n = read_all(fd, out, cap);
	close(fd);
	return n;
}

/** What a client thread does, and what it found. */
struct client_job {
	/** The server's port. */
	int port;
	/** The checks to run (a function of the case). */
	void (*fn)(struct client_job *j);
	/** Set when done. */
	atomic_bool done;
};

/** Thread body: run the job's checks. */
static void *
client_thread(void *arg)
{
	struct client_job *j = arg;
	j->fn(j);
	atomic_store(&j->done, true);
	return NULL;
}

/** Run j->fn on a thread while this task keeps the loop running. */
static void
run_client(struct client_job *j)
{
	pthread_t t;
	atomic_store(&j->done, false);
	if (pthread_create(&t, NULL, client_thread, j) != 0)
		bail_out("pthread_create");
	while (!atomic_load(&j->done))
		sl_sleep(0.005);
	pthread_join(t, NULL);
}

/** The status checks, from the client thread. */
static void
statuses(struct client_job *j)
{
	char buf[4096];
	request(j->port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", buf,
	        sizeof(buf));
	ok(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0, "GET /metrics: 200");
	ok(strstr(buf, "Content-Type: text/plain; version=0.0.4\r\n") != NULL,
	   "... the handler's content type");
	ok(strstr(buf, "Content-Length: 8\r\n") != NULL &&
	           strstr(buf, "\r\n\r\nhello 1\n") != NULL,
	   "... its body and length");
	request(j->port, "HEAD /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	ok(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
	           strstr(buf, "Content-Length: 8\r\n") != NULL &&
	           strstr(buf, "hello") == NULL,
	   "HEAD: the head, no body");
	request(j->port, "GET /other HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	ok(strncmp(buf, "HTTP/1.1 404 ", 13) == 0, "another path: 404");
	request(j->port, "POST /metrics HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	ok(strncmp(buf, "HTTP/1.1 405 ", 13) == 0, "POST: 405");
	request(j->port, "NONSENSE\r\n\r\n", buf, sizeof(buf));
	ok(strncmp(buf, "HTTP/1.1 400 ", 13) == 0, "a bad request line: 400");
	char big[600];
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	big[sizeof(big) - 1] = '\0';
	request(j->port, big, buf, sizeof(buf));
	ok(strncmp(buf, "HTTP/1.1 431 ", 13) == 0,
	   "a head past request_max, never ended: 431");
	/* In pieces, with pauses. */
	int fd = dial(j->port);
	const char *parts[] = {"GET /met", "rics HTTP/1.1\r\n", "Host: x\r\n",
	                       "\r\n"};
	for (int i = 0; i < 4; i++) {
		(void)send(fd, parts[i], strlen(parts[i]), 0);
		usleep(20000);
	}
	read_all(fd, buf, sizeof(buf));
	close(fd);
	ok(strstr(buf, "\r\n\r\nhello 3\n") != NULL,
	   "a request in pieces is answered once it is whole");
}

/** Requests of every kind. */
TAP_TASK_CASE(statuses)
{
	int calls = 0;
	struct sl_httpd_opts o;
	sl_httpd_opts_init(&o);
	o.address = "127.0.0.1";
	o.port = 0;
	o.request_max = 256;
	struct sl_httpd *s = sl_httpd_open(&o, handler, &calls);
	ok(s != NULL && sl_httpd_port(s) > 0, "listening on a free port");
	if (s == NULL)
		return;
	struct client_job j = {.port = sl_httpd_port(s), .fn = statuses};
	run_client(&j);
	is_int(calls, 3, "the handler ran for each GET and HEAD of /metrics");
	is_int((int)sl_httpd_requests(s), 7, "every request was answered");
	sl_httpd_close(s);
}

/** The deadline and the cap, from the client thread. */
static void
limits(struct client_job *j)
{
	char buf[256];
	struct timeval t0, t1;
	/* An idle connection is closed at its deadline. */
	int a = dial(j->port);
	gettimeofday(&t0, NULL);
	long n = read_all(a, buf, sizeof(buf));
	gettimeofday(&t1, NULL);
	double dt = (double)(t1.tv_sec - t0.tv_sec) +
	            (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	ok(n == 0 && dt > 0.2 && dt < 4,
	   "an idle client is closed at its "
	   "deadline (after %.2f s)",
	   dt);
	close(a);
	/* Two held; a third is closed at once; then they are served. */
	a = dial(j->port);
	int b = dial(j->port);
	usleep(50000);
	int c = dial(j->port);
	gettimeofday(&t0, NULL);
	n = read_all(c, buf, sizeof(buf));
	gettimeofday(&t1, NULL);
	dt = (double)(t1.tv_sec - t0.tv_sec) +
	     (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	ok(n == 0 && dt < 0.25,
	   "past clients_max a client is closed at "
	   "once (%.3f s)",
	   dt);
	close(c);
	const char *req = "GET /metrics HTTP/1.1\r\n\r\n";
	(void)send(a, req, strlen(req), 0);
	read_all(a, buf, sizeof(buf));
	ok(strncmp(buf, "HTTP/1.1 200", 12) == 0,
	   "... while the held ones are still served");
	close(a);
	close(b);
}

/** The per-connection deadline and the connection cap. */
TAP_TASK_CASE(limits)
{
	int calls = 0;
	struct sl_httpd_opts o;
	sl_httpd_opts_init(&o);
	o.address = "127.0.0.1";
	o.port = 0;
	o.timeout = 0.4;
	o.clients_max = 2;
	struct sl_httpd *s = sl_httpd_open(&o, handler, &calls);
	ok(s != NULL, "listening");
	if (s == NULL)
		return;
	struct client_job j = {.port = sl_httpd_port(s), .fn = limits};
	run_client(&j);
	sl_httpd_close(s);
}

/** A port in use, and bad options. */
TAP_TASK_CASE(open_errors)
{
	int calls = 0;
	struct sl_httpd_opts o;
	sl_httpd_opts_init(&o);
	o.address = "127.0.0.1";
	o.port = 0;
	struct sl_httpd *s = sl_httpd_open(&o, handler, &calls);
	ok(s != NULL, "listening");
	if (s == NULL)
		return;
	o.port = sl_httpd_port(s);
	ok(sl_httpd_open(&o, handler, &calls) == NULL,
	   "a second server on the same port fails");
	is_err(SL_EBUSY, "... with SL_EBUSY");
	ok(strstr(unit_errmsg(), "address already in use") != NULL &&
	           strstr(unit_errmsg(), "127.0.0.1") != NULL,
	   "... naming the address: %s", unit_errmsg());
	sl_httpd_close(s);
	o.address = "not-an-address";
	ok(sl_httpd_open(&o, handler, &calls) == NULL, "a bad address fails");
	is_err(SL_EINVAL, "... with SL_EINVAL");
	o.address = "127.0.0.1";
	o.certfile = "/nonexistent/cert.pem";
	ok(sl_httpd_open(&o, handler, &calls) == NULL,
	   "an unreadable certificate fails");
	ok(strstr(unit_errmsg(), "/nonexistent/cert.pem: cannot read the TLS "
	                         "certificate") != NULL,
	   "... naming it");
}

/** One GET from the client thread; whatever comes back. */
static void
one_get(struct client_job *j)
{
	char buf[512];
	(void)request(j->port, "GET /metrics HTTP/1.1\r\n\r\n", buf,
	              sizeof(buf));
}

/** Open, serve one request, close: the body of the faults case. */
static int
fault_body(void *arg)
{
	bool *served = arg;
	int calls = 0;
	struct sl_httpd_opts o;
	sl_httpd_opts_init(&o);
	o.address = "127.0.0.1";
	o.port = 0;
	struct sl_httpd *s = sl_httpd_open(&o, handler, &calls);
	if (s == NULL)
		return -1;
	struct client_job j = {.port = sl_httpd_port(s), .fn = one_get};
	run_client(&j);
	*served = calls == 1;
	sl_httpd_close(s);
	return 0;
}

/** Every allocation on the loop thread failed in turn. */
TAP_CASE(faults)
{
	int runs = 0, clean = 1, served = 0;
	for (long k = 0; k < 200; k++) {
		sl_diag_clear(sl_diag_get());
		long before = sl_alloc_faults();
		bool ok_req = false;
		sl_alloc_fail_after(k);
		int rc = run_task("fault", fault_body, &ok_req);
		sl_alloc_fail_after(-1);
		runs++;
		served += ok_req;
		if (sl_alloc_faults() == before)
			break;
		if (rc != 0 && rc != -2 && sl_diag_code() != SL_EOOM) {
			clean = 0;
			note("run %ld: %s", k, unit_errmsg());
		}
	}
	ok(runs > 3, "each allocation point failed once (%d runs)", runs);
	ok(clean, "a failed open reports SL_EOOM; a failed request is cut");
	ok(served > 0, "runs without a fault in the request were served");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
