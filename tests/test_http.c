/*
 * HTTP transfers on the loop (sluice/http.h) against a real server on
 * loopback (tests/http_server.py): bodies byte for byte, a paused
 * transfer that holds at most its buffer, content encodings, redirects,
 * statuses, credentials kept out of messages, a stall, a refused
 * connection, transfers at once, and every allocation failed in turn.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_peer.h"
#include "sluice/alloc.h"
#include "sluice/chan.h"
#include "sluice/http.h"
#include "sluice/records.h"
#include "sluice/task.h"
#include "tmpfiles.h"
#include "unit.h"

/** The temporary directory the server serves. */
static char dir[] = "/tmp/sluice-http-XXXXXX";
/** Bytes of big.jsonl. */
static size_t big_size;
/** Checksum of big.jsonl. */
static unsigned long long big_sum;

/** A checksum that sees order. */
static unsigned long long
sum_add(unsigned long long s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s = s * 1099511628211ULL + (unsigned char)p[i];
	return s;
}

/** A URL on the server, in a static buffer. */
static const char *
url(const char *path)
{
	static char buf[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "http://127.0.0.1:%d%s",
	         http_peer_port, path);
	return buf[k];
}

/** Write the fixtures and start the server. */
static int
setup(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/big.jsonl", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	char line[256];
	big_sum = 14695981039346656037ULL;
	for (int i = 0; i < 40000; i++) {
		int n = snprintf(line, sizeof(line),
		                 "{\"id\": %d, \"name\": \"record number %d\", "
		                 "\"pad\": \"%060d\"}\n",
		                 i, i, i);
		fwrite(line, 1, (size_t)n, f);
		big_size += (size_t)n;
		big_sum = sum_add(big_sum, line, (size_t)n);
	}
	fclose(f);
	tmp_write(dir, "small.jsonl", "{\"a\": 1}\n{\"a\": 2}\n");
	const char *script = getenv("SLUICE_HTTP_SERVER");
	if (script == NULL)
		script = SLUICE_HTTP_SERVER;
	if (http_peer_start(script, dir) < 0) {
		note("the HTTP server did not start");
		return -1;
	}
	return 0;
}

/** Stop the server and remove the fixtures. */
static void
teardown(void)
{
	http_peer_stop();
	tmp_remove(dir);
}

/** What a fetch saw. */
struct fetch {
	/** Body bytes. */
	size_t n;
	/** Their checksum. */
	unsigned long long sum;
	/** The status. */
	long status;
};

/** GET `u` and read the whole body into `out`. 0, or -1. */
static int
fetch(const char *u, const struct sl_http_opts *o, struct fetch *out)
{
	out->n = 0;
	out->sum = 14695981039346656037ULL;
	out->status = 0;
	struct sl_http *h = sl_http_open(u, o);
	if (h == NULL)
		return -1;
	out->status = sl_http_status(h);
	char buf[50000];
	ssize_t k;
	while ((k = sl_http_read(h, buf, sizeof(buf))) > 0) {
		out->n += (size_t)k;
		out->sum = sum_add(out->sum, buf, (size_t)k);
	}
	sl_http_close(h);
	return k < 0 ? -1 : 0;
}

/** A body streams whole, byte for byte. */
TAP_TASK_CASE(body)
{
	struct fetch f;
	is_int(fetch(url("/files/big.jsonl"), NULL, &f), 0, "big.jsonl read");
	is_int(f.status, 200, "status 200");
	ok(f.n == big_size && f.sum == big_sum, "same bytes (%zu of %zu)", f.n,
	   big_size);
}

/** A reader that does not read pauses the transfer: memory stays bounded. */
TAP_TASK_CASE(pause)
{
	struct sl_http_opts o;
	sl_http_opts_init(&o);
	o.buffer_max = SL_HTTP_BUFFER_MIN;
	struct sl_http *h = sl_http_open(url("/files/big.jsonl"), &o);
	ok(h != NULL, "opened");
	if (h == NULL)
		return;
	sl_sleep(0.3);
	unsigned long long held = sl_http_bytes(h);
	ok(sl_http_pauses(h) > 0, "paused (%lu times)", sl_http_pauses(h));
	ok(held <= SL_HTTP_BUFFER_MIN,
	   "%llu bytes held of %zu: no more than "
	   "the buffer",
	   held, big_size);
	unsigned long long sum = 14695981039346656037ULL;
	size_t n = 0;
	char buf[4096];
	ssize_t k;
	while ((k = sl_http_read(h, buf, sizeof(buf))) > 0) {
		n += (size_t)k;
		sum = sum_add(sum, buf, (size_t)k);
	}
	is_int(k, 0, "read to the end after resuming");
	ok(n == big_size && sum == big_sum, "same bytes after pauses");
	ok(sl_http_pauses(h) > 3, "paused again and again (%lu)",
	   sl_http_pauses(h));
	sl_http_close(h);
}

/** gzip and deflate content encodings are decoded. */
TAP_TASK_CASE(encodings)
{
	struct fetch f;
	is_int(fetch(url("/gzip-te/big.jsonl"), NULL, &f), 0, "gzip read");
	ok(f.status == 200 && f.n == big_size && f.sum == big_sum,
	   "gzip decoded to the same bytes (status %ld)", f.status);
	is_int(fetch(url("/deflate-te/big.jsonl"), NULL, &f), 0,
	       "deflate read");
	ok(f.status == 200 && f.n == big_size && f.sum == big_sum,
	   "deflate decoded to the same bytes");
}

/** Redirects are followed up to the cap; a loop is an error. */
TAP_TASK_CASE(redirects)
{
	struct fetch f;
	is_int(fetch(url("/redirect/4/small.jsonl"), NULL, &f), 0,
	       "a chain of 5 redirects");
	ok(f.status == 200 && f.n == 18, "the file at its end");
	struct sl_http_opts o;
	sl_http_opts_init(&o);
	o.max_redirects = 3;
	is_int(fetch(url("/redirect/4/small.jsonl"), &o, &f), -1,
	       "5 redirects with a cap of 3 fail");
	is_err(SL_EIO, "an I/O error");
	ok(strstr(unit_errmsg(), "edirect") != NULL &&
	           strstr(unit_errmsg(), url("/redirect/4/small.jsonl")),
	   "naming redirects and the URL: %s", unit_errmsg());
	is_int(fetch(url("/loop"), NULL, &f), -1, "a redirect loop fails");
	ok(strstr(unit_errmsg(), "edirect") != NULL, "%s", unit_errmsg());
}

/** Statuses other than 2xx: sl_http_check() names status and URL. */
TAP_TASK_CASE(statuses)
{
	struct sl_http *h = sl_http_open(url("/status/404"), NULL);
	ok(h != NULL, "a 404 opens");
	is_int(sl_http_status(h), 404, "status 404");
	is_int(sl_http_check(h), -1, "check fails");
	is_err(SL_EIO, "an I/O error");
	char want[600];
	snprintf(want, sizeof(want), "GET %s: HTTP 404 Not Found",
	         url("/status/404"));
	is_str(unit_errmsg(), want, "status, reason and URL");
	sl_http_close(h);
	h = sl_http_open(url("/redirect/1/nothing.jsonl"), NULL);
	is_int(sl_http_check(h), -1, "a 404 after redirects");
	ok(strstr(unit_errmsg(), "(redirected to http://127.0.0.1:") &&
	           strstr(unit_errmsg(), "/files/nothing.jsonl)"),
	   "names where it was redirected: %s", unit_errmsg());
	sl_http_close(h);
	h = sl_http_open(url("/status/500"), NULL);
	is_int(sl_http_check(h), -1, "a 500 fails");
	ok(strstr(unit_errmsg(), "HTTP 500 Internal Server Error") != NULL,
	   "%s", unit_errmsg());
	sl_http_close(h);
}

/** user:password in a URL authenticates and never shows. */
TAP_TASK_CASE(credentials)
{
	char u[512];
	snprintf(u, sizeof(u),
	         "http://user:secretpw@127.0.0.1:%d/auth/"
	         "small.jsonl",
	         http_peer_port);
	struct fetch f;
	is_int(fetch(u, NULL, &f), 0, "read with credentials");
	is_int(f.status, 200, "authenticated");
	snprintf(u, sizeof(u),
	         "http://user:wrongpw@127.0.0.1:%d/auth/"
	         "small.jsonl?token=tok123&x=1",
	         http_peer_port);
	struct sl_http *h = sl_http_open(u, NULL);
	is_int(sl_http_check(h), -1, "a wrong password fails");
	ok(strstr(unit_errmsg(), "HTTP 401") != NULL, "%s", unit_errmsg());
	ok(strstr(unit_errmsg(), "wrongpw") == NULL &&
	           strstr(unit_errmsg(), "tok123") == NULL &&
	           strstr(unit_errmsg(), "http://user@127.0.0.1:") != NULL &&
	           strstr(unit_errmsg(), "token=***&x=1") != NULL,
	   "no password or token in the message: %s", unit_errmsg());
	ok(strstr(sl_http_shown_url(h), "wrongpw") == NULL, "nor in the "
	                                                    "shown URL");
	sl_http_close(h);
	char out[256];
	sl_http_redact("https://a:b@h/p?api_key=k&Signature=s&page=2#f", out,
	               sizeof(out));
	is_str(out, "https://a@h/p?api_key=***&Signature=***&page=2#f",
	       "query secrets redacted");
}

/** A server that stops sending: the stall limit ends the read. */
TAP_TASK_CASE(stall)
{
	struct sl_http_opts o;
	sl_http_opts_init(&o);
	o.stall_timeout = 1;
	double t0 = sl_clock();
	struct sl_http *h = sl_http_open(url("/stall/small.jsonl"), &o);
	ok(h != NULL, "headers and a first line arrive");
	char buf[100];
	ssize_t k = 0, n = 0;
	while (h != NULL && (k = sl_http_read(h, buf, sizeof(buf))) > 0)
		n += k;
	is_int(k, -1, "then the read fails");
	is_int(n, 9, "after the first line");
	is_err(SL_ETIMEDOUT, "with a timeout");
	ok(strstr(unit_errmsg(), url("/stall/small.jsonl")) != NULL,
	   "naming "
	   "the URL: %s",
	   unit_errmsg());
	double took = sl_clock() - t0;
	ok(took > 0.9 && took < 5, "after about a second (%.2f s)", took);
	sl_http_close(h);
	o.stall_timeout = 0;
	o.timeout = 0.5;
	t0 = sl_clock();
	struct fetch f;
	is_int(fetch(url("/slow/3000"), &o, &f), -1, "an overall limit");
	is_err(SL_ETIMEDOUT, "times out");
	took = sl_clock() - t0;
	ok(took < 2, "in time (%.2f s)", took);
}

/** Nobody listening: a clear error at once. */
TAP_TASK_CASE(refused)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	char u[128];
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/x.jsonl",
	         ntohs(a.sin_port));
	ok(sl_http_open(u, NULL) == NULL, "refused");
	is_err(SL_EIO, "an I/O error");
	ok(strstr(unit_errmsg(), u) != NULL &&
	           strstr(unit_errmsg(), "onnect") != NULL,
	   "naming the URL: %s", unit_errmsg());
	ok(sl_http_open("ftp://127.0.0.1/x", NULL) == NULL, "ftp refused");
	ok(sl_http_open("not a url", NULL) == NULL, "garbage refused");
}

/** Shared by the tasks of `many`. */
struct many {
	/** Transfers that succeeded. */
	int ok;
};

/** One slow transfer. */
static int
many_one(void *arg)
{
	struct many *m = arg;
	struct fetch f;
	if (fetch(url("/slow/600"), NULL, &f) == 0 && f.status == 200 &&
	    f.n == 15)
		m->ok++;
	return 0;
}

/** Eight transfers at once take about as long as one. */
TAP_TASK_CASE(many)
{
	struct many m = {0};
	struct sl_task *t[8];
	double t0 = sl_clock();
	for (int i = 0; i < 8; i++)
		t[i] = sl_task_spawn(sl_loop_current(), "get", many_one, &m);
	for (int i = 0; i < 8; i++)
		sl_task_join(t[i]);
	double took = sl_clock() - t0;
	is_int(m.ok, 8, "all 8 succeed");
	ok(took < 3, "at once: %.2f s for 8 x 0.6 s", took);
}

/** Transfers started ahead run while the task waits for another. */
TAP_TASK_CASE(started)
{
	double t0 = sl_clock();
	struct sl_http *a = sl_http_start(url("/slow/600"), NULL);
	struct sl_http *b = sl_http_start(url("/slow/600"), NULL);
	ok(a != NULL && b != NULL, "two started");
	is_int(sl_http_wait_response(a), 0, "the first answers");
	is_int(sl_http_wait_response(b), 0, "the second answers");
	double took = sl_clock() - t0;
	ok(took < 1.1, "both in %.2f s, not 1.2", took);
	struct sl_http *c = sl_http_start(url("/status/503"), NULL);
	sl_http_close(c);
	ok(1, "a started transfer closes unread");
	sl_http_close(a);
	sl_http_close(b);
}

/** A reader of records that blocks on a full channel, as a step's emit. */
struct slow_out {
	/** Channel of record counts, capacity 1. */
	struct sl_chan ch;
	/** The transfer. */
	struct sl_http *h;
	/** Records read. */
	int records;
};

/** Read records, sending one message per 100 (blocks when full). */
static int
slow_producer(void *arg)
{
	struct slow_out *so = arg;
	struct sl_source src = sl_http_source(so->h);
	struct sl_reader *r =
	        sl_reader_new(&src, SL_FORMAT_JSONL, SL_COMPRESSION_NONE, NULL);
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value v;
	int k, rc = 0;
	while ((k = sl_reader_next(r, &a, &v)) > 0) {
		sl_arena_reset(&a);
		if (++so->records % 100 == 0 &&
		    sl_chan_send(&so->ch, (void *)1, NULL, SL_FOREVER) != 0) {
			rc = -1;
			break;
		}
	}
	sl_arena_destroy(&a);
	sl_reader_delete(r);
	sl_chan_close(&so->ch);
	return k < 0 ? -1 : rc;
}

/** A full outbox stops the reader, and the transfer pauses. */
TAP_TASK_CASE(backpressure)
{
	struct slow_out so = {.records = 0};
	sl_chan_create(&so.ch, 1);
	struct sl_http_opts o;
	sl_http_opts_init(&o);
	o.buffer_max = SL_HTTP_BUFFER_MIN;
	o.stall_timeout = 1;
	so.h = sl_http_open(url("/files/big.jsonl"), &o);
	ok(so.h != NULL, "opened");
	if (so.h == NULL)
		return;
	struct sl_task *t = sl_task_spawn(sl_loop_current(), "producer",
	                                  slow_producer, &so);
	sl_sleep(1.5); /* longer than the stall limit: paused is not stalled */
	unsigned long long held = sl_http_bytes(so.h);
	ok(so.records <= 200, "the reader is blocked (%d records)", so.records);
	ok(sl_http_pauses(so.h) > 0, "the transfer paused");
	ok(held < ((size_t)3 << 19), "%llu of %zu bytes received", held,
	   big_size);
	void *item;
	int got = 0;
	while (sl_chan_recv(&so.ch, &item, SL_FOREVER) == 1)
		got++;
	is_int(sl_task_join(t), 0, "after draining, the reader ends well");
	is_int(so.records, 40000, "every record");
	is_int(got, 400, "every message");
	sl_http_close(so.h);
	sl_chan_destroy(&so.ch);
}

/** A JSON-lines response through a record reader. */
TAP_TASK_CASE(reader)
{
	struct sl_http *h = sl_http_open(url("/gzip-te/big.jsonl"), NULL);
	struct sl_source src = sl_http_source(h);
	struct sl_reader *r =
	        sl_reader_new(&src, SL_FORMAT_JSONL, SL_COMPRESSION_NONE, NULL);
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value v;
	int n = 0, k;
	while ((k = sl_reader_next(r, &a, &v)) > 0) {
		n++;
		sl_arena_reset(&a);
	}
	is_int(k, 0, "read to the end");
	is_int(n, 40000, "every record");
	sl_arena_destroy(&a);
	sl_reader_delete(r);
	sl_http_close(h);
}

/** One transfer on a fresh loop (the multi handle too). */
static int
fault_body(void *arg)
{
	(void)arg;
	struct fetch f;
	struct sl_http_opts o;
	sl_http_opts_init(&o);
	o.stall_timeout = 3; /* a transfer left hanging fails the check */
	if (fetch(url("/redirect/1/small.jsonl"), &o, &f) != 0)
		return -1;
	if (f.n != 18) {
		sl_diag_set(SL_EINVAL, "read %zu bytes", f.n);
		return -1;
	}
	return 0;
}

/** Every allocation (sluice's and libcurl's) failed in turn. */
TAP_CASE(faults)
{
	int runs = 0, clean = 1, last_ok = 0, oom = 0;
	for (long k = 0; k < 5000; k++) {
		sl_diag_clear(sl_diag_get());
		long before = sl_alloc_faults();
		sl_alloc_fail_after(k);
		int rc = run_task("fault", fault_body, NULL);
		sl_alloc_fail_after(-1);
		runs++;
		if (sl_alloc_faults() == before) {
			last_ok = rc == 0;
			break;
		}
		if (rc == 0)
			continue;
		if (sl_diag_code() == SL_EOOM)
			oom++;
		else if (sl_diag_code() != SL_EIO &&
		         sl_diag_code() != SL_EINVAL) {
			clean = 0;
			note("run %ld failed with %s: %s", k,
			     sl_errcode_name(sl_diag_code()), unit_errmsg());
		}
	}
	ok(runs > 20, "every allocation point was failed once (%d runs)", runs);
	ok(oom > 10, "%d failing runs reported EOOM", oom);
	ok(clean,
	   "each failing run failed cleanly (EOOM, or EIO or EINVAL "
	   "where libcurl reports the failure as a transfer error or a bad "
	   "redirect URL)");
	ok(last_ok, "the first run with no fault left succeeded");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
