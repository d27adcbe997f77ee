/*
 * HTTP transfers on the loop: libcurl's multi interface driven by libuv
 * (see sluice/http.h).
 */
#include "sluice/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "rt/curl_dl.h"
#include "rt/sched.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/list.h"
#include "sluice/task.h"
#include "sluice/uri.h"

/** Longest redacted URL kept for messages. */
#define SHOWN_MAX 512

/** Longest status line kept ("HTTP/1.1 404 Not Found"). */
#define STATUS_LINE_MAX 96

/** Bytes curl hands over per write at most (CURLOPT_BUFFERSIZE). */
#define RECV_PIECE ((long)128 * 1024)

/* {{{ Global initialisation */

/** Guards `curl_ready`. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
/** Whether curl_global_init_mem() succeeded. */
static bool curl_ready;

/** curl's strdup, through sl_malloc(). */
static char *
curl_strdup_cb(const char *s)
{
	return sl_strndup(s, strlen(s));
}

/** Initialise libcurl once, with sluice's allocator. 0, or -1. */
static int
global_init(void)
{
	if (sl_curl_load() < 0)
		return -1;
	pthread_mutex_lock(&init_lock);
	if (!curl_ready) {
		CURLcode rc = curl_global_init_mem(
		        CURL_GLOBAL_DEFAULT, sl_malloc, sl_free, sl_realloc,
		        curl_strdup_cb, sl_calloc);
		curl_ready = rc == CURLE_OK;
		if (!curl_ready) {
			pthread_mutex_unlock(&init_lock);
			sl_diag_set(rc == CURLE_OUT_OF_MEMORY ? SL_EOOM
			                                      : SL_EIO,
			            "cannot initialise libcurl: %s",
			            curl_easy_strerror(rc));
			return -1;
		}
	}
	pthread_mutex_unlock(&init_lock);
	return 0;
}

/* }}} */

/* {{{ The loop's multi handle */

/** A loop's HTTP state: one multi handle and its libuv handles. */
struct http_multi {
	/** The multi handle. */
	CURLM *m;
	/** Timer for curl's timeouts. */
	uv_timer_t timer;
	/** The loop. */
	struct sl_loop *loop;
	/** Transfers added and not finished. */
	size_t active;
	/** Socket watchers (struct sock_watch), to reference them. */
	struct sl_list socks;
	/** Transfers in the multi handle (struct sl_http.link). */
	struct sl_list xfers;
};

/** A uv_poll on one of curl's sockets. */
struct sock_watch {
	/** The poll handle. */
	uv_poll_t poll;
	/** curl's socket. */
	curl_socket_t fd;
	/** Link in http_multi.socks. */
	struct sl_list link;
	/** The multi state. */
	struct http_multi *hm;
};

/** A transfer (sluice/http.h). */
struct sl_http {
	/** The easy handle. */
	CURL *easy;
	/** The loop's multi state. */
	struct http_multi *hm;
	/** Whether `easy` is in the multi handle (and `link` in a list). */
	bool added;
	/** Link in http_multi.xfers while `added`. */
	struct sl_list link;
	/** Whether the transfer ended (see `result`). */
	bool done;
	/** Whether a body byte or the end arrived (headers are in). */
	bool begun;
	/** Whether the write callback paused the transfer. */
	bool paused;
	/** curl's result once `done`. */
	CURLcode result;
	/** Task waiting for news, or NULL. */
	struct sl_task *waiter;
	/** Body buffer (`cap` bytes). */
	char *buf;
	/** Offset of the first unread byte in `buf`. */
	size_t start;
	/** Unread bytes. */
	size_t len;
	/** Size of `buf`: the hard cap. */
	size_t cap;
	/** Request headers for curl (owned). */
	struct curl_slist *headers;
	/** Body bytes received. */
	unsigned long long bytes;
	/** sl_clock() of the last byte received (or of the start). */
	double last_rx;
	/** Seconds without a byte before a waiting reader fails, or 0. */
	double stall;
	/** Pauses for a full buffer. */
	unsigned long pauses;
	/** The last status line seen ("HTTP/1.1 200 OK"). */
	char status_line[STATUS_LINE_MAX];
	/** curl's message for a failure. */
	char errbuf[CURL_ERROR_SIZE];
	/** The redacted URL. */
	char shown[SHOWN_MAX];
	/** The request method, for messages ("GET"). */
	char method[16];
};

/** Reference or unreference every handle of `hm`. */
static void
multi_ref(struct http_multi *hm, bool ref)
{
	void (*fn)(uv_handle_t *) = ref ? uv_ref : uv_unref;
	fn((uv_handle_t *)&hm->timer);
	struct sl_list *it;
	sl_list_foreach(it, &hm->socks)
	{
		struct sock_watch *w =
		        sl_list_entry(it, struct sock_watch, link);
		fn((uv_handle_t *)&w->poll);
	}
}

/** Wake the task waiting on `h`, if any. */
static void
wake(struct sl_http *h)
{
	if (h->waiter != NULL)
		sl_task_wakeup(h->waiter);
}

/** Collect finished transfers: mark them done and wake their readers. */
static void
check_done(struct http_multi *hm)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(hm->m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct sl_http *h = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &h);
		CURLcode res = msg->data.result;
		/* The message is invalid once its handle is removed. */
		curl_multi_remove_handle(hm->m, h->easy);
		h->added = false;
		sl_list_del(&h->link);
		h->done = true;
		h->begun = true;
		h->result = res;
		if (--hm->active == 0)
			multi_ref(hm, false);
		wake(h);
	}
}

/**
 * curl_multi_socket_action() failed (out of memory inside curl, or a
 * callback refused): curl cannot say which transfer broke and may leave
 * it hanging, so every transfer still running ends with that error.
 */
static void
multi_failed(struct http_multi *hm, CURLMcode mrc)
{
	struct sl_list *it;
	sl_list_foreach(it, &hm->xfers)
	{
		struct sl_http *h = sl_list_entry(it, struct sl_http, link);
		if (h->done)
			continue;
		h->done = true;
		h->begun = true;
		h->result = mrc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY
		                                       : CURLE_RECV_ERROR;
		wake(h);
	}
}

/** libuv: a watched socket is ready. */
static void
poll_cb(uv_poll_t *p, int status, int events)
{
	struct sock_watch *w = p->data;
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	int running;
	struct http_multi *hm = w->hm;
	CURLMcode mrc = curl_multi_socket_action(hm->m, w->fd, flags, &running);
	check_done(hm);
	if (mrc != CURLM_OK)
		multi_failed(hm, mrc);
}

/** libuv: curl's timeout expired. */
static void
timer_cb(uv_timer_t *t)
{
	struct http_multi *hm = t->data;
	int running;
	CURLMcode mrc = curl_multi_socket_action(hm->m, CURL_SOCKET_TIMEOUT, 0,
	                                         &running);
	check_done(hm);
	if (mrc != CURLM_OK)
		multi_failed(hm, mrc);
}

/** libuv close callback of a socket watcher. */
static void
sock_close_cb(uv_handle_t *h)
{
	sl_free(h->data);
}

/**
 * A socket of `easy` could not be watched: end its transfer with
 * `res` (curl leaves a transfer whose callback failed hanging).
 */
static int
watch_failed(CURL *easy, CURLcode res)
{
	struct sl_http *h = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &h);
	if (h != NULL && !h->done) {
		h->done = true;
		h->begun = true;
		h->result = res;
		wake(h);
	}
	return -1;
}

/** CURLMOPT_SOCKETFUNCTION: watch `s` for `what`, or stop. */
static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http_multi *hm = userp;
	struct sock_watch *w = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w != NULL) {
			uv_poll_stop(&w->poll);
			sl_list_del(&w->link);
			uv_close((uv_handle_t *)&w->poll, sock_close_cb);
			curl_multi_assign(hm->m, s, NULL);
		}
		return 0;
	}
	if (w == NULL) {
		w = sl_calloc(1, sizeof(*w));
		if (w == NULL)
			return watch_failed(easy, CURLE_OUT_OF_MEMORY);
		if (uv_poll_init_socket(sl_rt_uv(hm->loop), &w->poll, s) != 0) {
			sl_free(w);
			return watch_failed(easy, CURLE_COULDNT_CONNECT);
		}
		w->poll.data = w;
		w->fd = s;
		w->hm = hm;
		sl_list_add_tail(&hm->socks, &w->link);
		if (hm->active == 0)
			uv_unref((uv_handle_t *)&w->poll);
		curl_multi_assign(hm->m, s, w);
	}
	int ev = 0;
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	if (uv_poll_start(&w->poll, ev, poll_cb) != 0)
		return watch_failed(easy, CURLE_RECV_ERROR);
	return 0;
}

/** CURLMOPT_TIMERFUNCTION: arm the timer for `ms` (-1: stop it). */
static int
timerfunc_cb(CURLM *m, long ms, void *userp)
{
	(void)m;
	struct http_multi *hm = userp;
	if (ms < 0)
		return uv_timer_stop(&hm->timer) == 0 ? 0 : -1;
	return uv_timer_start(&hm->timer, timer_cb, (uint64_t)ms, 0) == 0 ? 0
	                                                                  : -1;
}

/** libuv close callback of the multi's timer: free the state. */
static void
multi_close_cb(uv_handle_t *h)
{
	sl_free(h->data);
}

void
sl_rt_http_loop_end(struct sl_loop *loop)
{
	void **slot = sl_rt_http_slot(loop);
	struct http_multi *hm = *slot;
	if (hm == NULL)
		return;
	*slot = NULL;
	/* Closes the cached connections; curl removes their watchers. */
	curl_multi_cleanup(hm->m);
	while (!sl_list_empty(&hm->socks)) {
		struct sock_watch *w =
		        sl_list_entry(hm->socks.next, struct sock_watch, link);
		sl_list_del(&w->link);
		uv_close((uv_handle_t *)&w->poll, sock_close_cb);
	}
	uv_close((uv_handle_t *)&hm->timer, multi_close_cb);
}

/** The calling thread's loop's multi state, made on first use. */
static struct http_multi *
multi_get(void)
{
	struct sl_loop *loop = sl_loop_current();
	if (loop == NULL) {
		sl_diag_set(SL_EINVAL, "HTTP needs a loop on this thread");
		return NULL;
	}
	void **slot = sl_rt_http_slot(loop);
	if (*slot != NULL)
		return *slot;
	if (global_init() != 0)
		return NULL;
	struct http_multi *hm = sl_calloc(1, sizeof(*hm));
	if (hm == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for HTTP");
		return NULL;
	}
	hm->m = curl_multi_init();
	if (hm->m == NULL) {
		sl_free(hm);
		sl_diag_set(SL_EOOM,
		            "out of memory for HTTP (curl_multi_init)");
		return NULL;
	}
	hm->loop = loop;
	sl_list_init(&hm->socks);
	sl_list_init(&hm->xfers);
	uv_timer_init(sl_rt_uv(loop), &hm->timer);
	hm->timer.data = hm;
	uv_unref((uv_handle_t *)&hm->timer);
	curl_multi_setopt(hm->m, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(hm->m, CURLMOPT_SOCKETDATA, hm);
	curl_multi_setopt(hm->m, CURLMOPT_TIMERFUNCTION, timerfunc_cb);
	curl_multi_setopt(hm->m, CURLMOPT_TIMERDATA, hm);
	*slot = hm;
	return hm;
}

/* }}} */

/* {{{ Redaction and URLs */

/** `base` redacted, in a per-thread buffer (for one message). */
static const char *
h_shown_base(const char *base)
{
	static _Thread_local char buf[SHOWN_MAX];
	return sl_http_redact(base, buf, sizeof(buf));
}

/** Whether the query key k[0..n) names a secret. */
static bool
secret_key(const char *k, size_t n)
{
	static const char *const words[] = {
	        "pass", "secret", "token", "key", "sig", "auth", "credential",
	};
	char low[64];
	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	low[n] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]) != NULL)
			return true;
	return false;
}

char *
sl_http_redact(const char *url, char *out, size_t size)
{
	char tmp[SHOWN_MAX * 2];
	sl_uri_redact(url, tmp, sizeof(tmp));
	if (size == 0)
		return out;
	size_t o = 0;
	const char *p = tmp;
	const char *q = strchr(tmp, '?');
	const char *end = q != NULL ? q + 1 : tmp + strlen(tmp);
	/* Everything up to and including '?' as it is. */
	while (p < end && o + 1 < size)
		out[o++] = *p++;
	while (q != NULL && *p != '\0' && *p != '#' && o + 1 < size) {
		size_t klen = strcspn(p, "=&#");
		const char *kv = p;
		while (p < kv + klen && o + 1 < size)
			out[o++] = *p++;
		if (*p == '=') {
			if (o + 1 < size)
				out[o++] = *p;
			p++;
			size_t vlen = strcspn(p, "&#");
			if (secret_key(kv, klen) && vlen > 0) {
				for (const char *s = "***"; *s && o + 1 < size;)
					out[o++] = *s++;
				p += vlen;
			} else {
				while (vlen-- > 0 && o + 1 < size)
					out[o++] = *p++;
			}
		}
		if (*p == '&' && o + 1 < size)
			out[o++] = *p++;
	}
	while (*p != '\0' && o + 1 < size)
		out[o++] = *p++;
	out[o] = '\0';
	return out;
}

char *
sl_http_resolve(const char *base, const char *ref)
{
	if (global_init() != 0)
		return NULL;
	CURLU *u = curl_url();
	if (u == NULL) {
		sl_diag_set(SL_EOOM, "out of memory resolving a URL");
		return NULL;
	}
	char *out = NULL, *res = NULL;
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, base, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_set(u, CURLUPART_URL, ref, 0);
	if (rc == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_URL, &out, 0);
	if (rc == CURLUE_OK) {
		res = sl_strndup(out, strlen(out));
		if (res == NULL)
			rc = CURLUE_OUT_OF_MEMORY;
	}
	if (rc != CURLUE_OK) {
		char shown[SHOWN_MAX];
		sl_diag_set(rc == CURLUE_OUT_OF_MEMORY ? SL_EOOM : SL_EINVAL,
		            "cannot resolve '%s' against %s: %s",
		            sl_http_redact(ref, shown, sizeof(shown)),
		            h_shown_base(base), curl_url_strerror(rc));
	}
	curl_free(out);
	curl_url_cleanup(u);
	return res;
}

/* }}} */

/* {{{ Transfers */

void
sl_http_opts_init(struct sl_http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout = 30;
	o->stall_timeout = 60;
	o->timeout = 0;
	o->max_redirects = 10;
	o->buffer_max = SL_HTTP_BUFFER_DEFAULT;
}

/** CURLOPT_WRITEFUNCTION: take a piece of the body, or pause. */
static size_t
write_cb(char *data, size_t size, size_t n, void *userp)
{
	struct sl_http *h = userp;
	size_t len = size * n;
	h->begun = true;
	if (len > h->cap - h->len) {
		h->paused = true;
		h->pauses++;
		wake(h);
		return CURL_WRITEFUNC_PAUSE;
	}
	if (h->start + h->len + len > h->cap) {
		memmove(h->buf, h->buf + h->start, h->len);
		h->start = 0;
	}
	memcpy(h->buf + h->start + h->len, data, len);
	h->len += len;
	h->bytes += len;
	h->last_rx = sl_clock();
	wake(h);
	return len;
}

/** CURLOPT_HEADERFUNCTION: keep the last status line. */
static size_t
header_cb(char *data, size_t size, size_t n, void *userp)
{
	struct sl_http *h = userp;
	size_t len = size * n;
	if (len > 5 && memcmp(data, "HTTP/", 5) == 0) {
		while (len > 0 &&
		       (data[len - 1] == '\r' || data[len - 1] == '\n'))
			len--;
		if (len >= sizeof(h->status_line))
			len = sizeof(h->status_line) - 1;
		memcpy(h->status_line, data, len);
		h->status_line[len] = '\0';
	}
	return size * n;
}

/**
 * Suspend until a callback wakes `h`'s reader. 0, or -1: SL_ETIMEDOUT
 * when no byte came for the stall limit (curl's own low-speed check
 * averages over several seconds, so it would fail later), or the wait's
 * error.
 */
static int
wait_news(struct sl_http *h, const char *what)
{
	char desc[64];
	snprintf(desc, sizeof(desc), "http %s", what);
	double timeout = SL_FOREVER;
	if (h->stall > 0) {
		timeout = h->last_rx + h->stall - sl_clock();
		if (timeout <= 0) {
			sl_diag_set(SL_ETIMEDOUT,
			            "%s %s: no data for %g s (the stall "
			            "limit)",
			            h->method, h->shown, h->stall);
			return -1;
		}
	}
	h->waiter = sl_task_current();
	int rc = sl_rt_wait(timeout, desc);
	h->waiter = NULL;
	if (rc != 0 && sl_diag_code() == SL_ETIMEDOUT) {
		sl_diag_clear(sl_diag_get());
		return 0; /* the caller checks again, then the limit */
	}
	return rc;
}

/** The error of a failed transfer in the diag. Returns -1. */
static int
transfer_error(const struct sl_http *h)
{
	CURLcode r = h->result;
	enum sl_errcode code = SL_EIO;
	if (r == CURLE_OPERATION_TIMEDOUT)
		code = SL_ETIMEDOUT;
	else if (r == CURLE_OUT_OF_MEMORY)
		code = SL_EOOM;
	else if (r == CURLE_URL_MALFORMAT || r == CURLE_UNSUPPORTED_PROTOCOL)
		code = SL_EINVAL;
	const char *msg =
	        h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(r);
	sl_diag_set(code, "%s %s: %s", h->method, h->shown, msg);
	return -1;
}

/** Set a curl option, remembering the first failure in `*rc`. */
#define SETOPT(rc, easy, opt, val)                                      \
	do {                                                            \
		if (*(rc) == CURLE_OK)                                  \
			*(rc) = curl_easy_setopt((easy), (opt), (val)); \
	} while (0)

/** Set the options of `h`'s easy handle. Returns curl's code. */
static CURLcode
setup_easy(struct sl_http *h, const char *url, const struct sl_http_opts *o)
{
	CURLcode rc = CURLE_OK;
	CURL *e = h->easy;
	SETOPT(&rc, e, CURLOPT_URL, url);
	SETOPT(&rc, e, CURLOPT_PRIVATE, (void *)h);
	SETOPT(&rc, e, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(&rc, e, CURLOPT_WRITEDATA, (void *)h);
	SETOPT(&rc, e, CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(&rc, e, CURLOPT_HEADERDATA, (void *)h);
	SETOPT(&rc, e, CURLOPT_ERRORBUFFER, h->errbuf);
	SETOPT(&rc, e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(&rc, e, CURLOPT_BUFFERSIZE, RECV_PIECE);
	SETOPT(&rc, e, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(&rc, e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(&rc, e, CURLOPT_FOLLOWLOCATION, o->max_redirects > 0 ? 1L : 0L);
	SETOPT(&rc, e, CURLOPT_MAXREDIRS, o->max_redirects);
	SETOPT(&rc, e, CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(&rc, e, CURLOPT_USERAGENT, "sluice");
	SETOPT(&rc, e, CURLOPT_CONNECTTIMEOUT_MS,
	       (long)(o->connect_timeout * 1000));
	SETOPT(&rc, e, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	/* The stall limit is wait_news()'s, not curl's low-speed check,
	 * which averages over several seconds. */
	if (h->headers != NULL)
		SETOPT(&rc, e, CURLOPT_HTTPHEADER, h->headers);
	if (o->body != NULL) {
		SETOPT(&rc, e, CURLOPT_POSTFIELDSIZE_LARGE,
		       (curl_off_t)o->body_len);
		SETOPT(&rc, e, CURLOPT_COPYPOSTFIELDS, o->body);
	}
	if (strcmp(h->method, "HEAD") == 0)
		SETOPT(&rc, e, CURLOPT_NOBODY, 1L);
	else if (strcmp(h->method, "GET") != 0 &&
	         (strcmp(h->method, "POST") != 0 || o->body == NULL))
		SETOPT(&rc, e, CURLOPT_CUSTOMREQUEST, h->method);
	if (o->aws_sigv4 != NULL)
		SETOPT(&rc, e, CURLOPT_AWS_SIGV4, o->aws_sigv4);
	if (o->username != NULL)
		SETOPT(&rc, e, CURLOPT_USERNAME, o->username);
	if (o->password != NULL)
		SETOPT(&rc, e, CURLOPT_PASSWORD, o->password);
	return rc;
}

struct sl_http *
sl_http_start(const char *url, const struct sl_http_opts *opts)
{
	struct sl_http_opts dflt;
	if (opts == NULL) {
		sl_http_opts_init(&dflt);
		opts = &dflt;
	}
	if (sl_rt_check_in_task("sl_http_start") != 0)
		return NULL;
	struct http_multi *hm = multi_get();
	if (hm == NULL)
		return NULL;
	struct sl_http *h = sl_calloc(1, sizeof(*h));
	if (h == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for an HTTP request");
		return NULL;
	}
	h->hm = hm;
	snprintf(h->method, sizeof(h->method), "%s",
	         opts->method != NULL ? opts->method : "GET");
	h->stall = opts->stall_timeout;
	h->last_rx = sl_clock();
	sl_http_redact(url, h->shown, sizeof(h->shown));
	h->cap = opts->buffer_max < SL_HTTP_BUFFER_MIN ? SL_HTTP_BUFFER_MIN
	                                               : opts->buffer_max;
	h->buf = sl_malloc(h->cap);
	h->easy = h->buf != NULL ? curl_easy_init() : NULL;
	if (h->easy == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for %s %s", h->method,
		            h->shown);
		goto fail;
	}
	for (size_t i = 0; opts->headers != NULL && opts->headers[i]; i++) {
		struct curl_slist *l =
		        curl_slist_append(h->headers, opts->headers[i]);
		if (l == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for %s %s",
			            h->method, h->shown);
			goto fail;
		}
		h->headers = l;
	}
	CURLcode rc = setup_easy(h, url, opts);
	if (rc != CURLE_OK) {
		h->result = rc;
		transfer_error(h);
		goto fail;
	}
	CURLMcode mrc = curl_multi_add_handle(hm->m, h->easy);
	if (mrc != CURLM_OK) {
		sl_diag_set(mrc == CURLM_OUT_OF_MEMORY ? SL_EOOM : SL_EIO,
		            "%s %s: %s", h->method, h->shown,
		            curl_multi_strerror(mrc));
		goto fail;
	}
	h->added = true;
	sl_list_add_tail(&hm->xfers, &h->link);
	if (hm->active++ == 0)
		multi_ref(hm, true);
	return h;
fail:
	sl_http_close(h);
	return NULL;
}

int
sl_http_wait_response(struct sl_http *h)
{
	if (!h->begun)
		h->last_rx = sl_clock(); /* the stall limit counts from here */
	while (!h->begun)
		if (wait_news(h, "response") != 0)
			return -1;
	if (h->done && h->result != CURLE_OK && h->len == 0)
		return transfer_error(h);
	/* The stall limit counts from the body's start. */
	h->last_rx = sl_clock();
	return 0;
}

struct sl_http *
sl_http_open(const char *url, const struct sl_http_opts *opts)
{
	struct sl_http *h = sl_http_start(url, opts);
	if (h != NULL && sl_http_wait_response(h) != 0) {
		sl_http_close(h);
		return NULL;
	}
	return h;
}

void
sl_http_close(struct sl_http *h)
{
	if (h == NULL)
		return;
	if (h->added) {
		curl_multi_remove_handle(h->hm->m, h->easy);
		h->added = false;
		sl_list_del(&h->link);
		if (--h->hm->active == 0)
			multi_ref(h->hm, false);
	}
	if (h->easy != NULL)
		curl_easy_cleanup(h->easy);
	curl_slist_free_all(h->headers);
	sl_free(h->buf);
	sl_free(h);
}

long
sl_http_status(const struct sl_http *h)
{
	long code = 0;
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

const char *
sl_http_shown_url(const struct sl_http *h)
{
	return h->shown;
}

const char *
sl_http_final_url(const struct sl_http *h)
{
	char *u = NULL;
	curl_easy_getinfo(h->easy, CURLINFO_EFFECTIVE_URL, &u);
	return u;
}

int
sl_http_check(const struct sl_http *h)
{
	long code = sl_http_status(h);
	if (code >= 200 && code < 300)
		return 0;
	/* The reason phrase: what follows the code on the status line. */
	const char *reason = "";
	const char *sp = strchr(h->status_line, ' ');
	if (sp != NULL && (sp = strchr(sp + 1, ' ')) != NULL)
		reason = sp;
	char final[SHOWN_MAX] = "";
	const char *fu = sl_http_final_url(h);
	if (fu != NULL)
		sl_http_redact(fu, final, sizeof(final));
	bool moved = final[0] != '\0' && strcmp(final, h->shown) != 0;
	sl_diag_set(SL_EIO, "%s %s: HTTP %ld%s%s%s%s", h->method, h->shown,
	            code, reason, moved ? " (redirected to " : "",
	            moved ? final : "", moved ? ")" : "");
	return -1;
}

const char *
sl_http_header(const struct sl_http *h, const char *name)
{
	struct curl_header *hd = NULL;
	if (curl_easy_header(h->easy, name, 0, CURLH_HEADER, -1, &hd) !=
	            CURLHE_OK ||
	    hd == NULL)
		return NULL;
	size_t amount = hd->amount;
	if (amount > 1 && curl_easy_header(h->easy, name, amount - 1,
	                                   CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return NULL;
	return hd->value;
}

size_t
sl_http_header_all(const struct sl_http *h, const char *name, char *out,
                   size_t size)
{
	if (size > 0)
		out[0] = '\0';
	struct curl_header *hd = NULL;
	if (curl_easy_header(h->easy, name, 0, CURLH_HEADER, -1, &hd) !=
	            CURLHE_OK ||
	    hd == NULL)
		return 0;
	size_t amount = hd->amount, o = 0;
	for (size_t i = 0; i < amount; i++) {
		if (i > 0 && curl_easy_header(h->easy, name, i, CURLH_HEADER,
		                              -1, &hd) != CURLHE_OK)
			break;
		int k = snprintf(out + o, size > o ? size - o : 0, "%s%s",
		                 i > 0 ? ", " : "", hd->value);
		if (k < 0 || (size_t)k >= (size > o ? size - o : 0)) {
			if (size > 0)
				out[size - 1] = '\0';
			break;
		}
		o += (size_t)k;
	}
	return amount;
}

/** Skip blanks. */
static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/**
 * Whether the relation list v[0..n) (space-separated, maybe quoted
 * already stripped) holds `rel`, in any case.
 */
static bool
rel_has(const char *v, size_t n, const char *rel)
{
	size_t rl = strlen(rel);
	size_t i = 0;
	while (i < n) {
		while (i < n && v[i] == ' ')
			i++;
		size_t j = i;
		while (j < n && v[j] != ' ')
			j++;
		if (j - i == rl && strncasecmp(v + i, rel, rl) == 0)
			return true;
		i = j;
	}
	return false;
}

char *
sl_http_link(const struct sl_http *h, const char *rel)
{
	char links[8192];
	if (sl_http_header_all(h, "Link", links, sizeof(links)) == 0)
		return NULL;
	const char *p = links;
	for (;;) {
		p = skip_ws(p);
		while (*p == ',' || *p == ' ')
			p++;
		if (*p != '<')
			return NULL; /* the end, or not a link-value */
		const char *uri = p + 1;
		const char *gt = strchr(uri, '>');
		if (gt == NULL)
			return NULL;
		p = gt + 1;
		bool match = false;
		/* Parameters up to the next ',' outside quotes. */
		for (;;) {
			p = skip_ws(p);
			if (*p != ';')
				break;
			p = skip_ws(p + 1);
			const char *name = p;
			while (*p != '\0' && *p != '=' && *p != ';' &&
			       *p != ',' && *p != ' ')
				p++;
			size_t nlen = (size_t)(p - name);
			p = skip_ws(p);
			const char *val = p;
			size_t vlen = 0;
			if (*p == '=') {
				p = skip_ws(p + 1);
				if (*p == '"') {
					val = ++p;
					while (*p != '\0' && *p != '"')
						p += p[0] == '\\' && p[1] ? 2
						                          : 1;
					vlen = (size_t)(p - val);
					if (*p == '"')
						p++;
				} else {
					val = p;
					while (*p != '\0' && *p != ';' &&
					       *p != ',' && *p != ' ')
						p++;
					vlen = (size_t)(p - val);
				}
			}
			if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 &&
			    rel_has(val, vlen, rel))
				match = true;
		}
		if (match) {
			char ref[4096];
			size_t n = (size_t)(gt - uri);
			if (n >= sizeof(ref)) {
				sl_diag_set(SL_EINVAL,
				            "%s %s: a Link target is longer "
				            "than %zu bytes",
				            h->method, h->shown,
				            sizeof(ref) - 1);
				return NULL;
			}
			memcpy(ref, uri, n);
			ref[n] = '\0';
			const char *base = sl_http_final_url(h);
			return sl_http_resolve(base != NULL ? base : "", ref);
		}
		while (*p != '\0' && *p != ',')
			p++;
		if (*p == '\0')
			return NULL;
	}
}

ssize_t
sl_http_read(void *ctx, char *buf, size_t size)
{
	struct sl_http *h = ctx;
	for (;;) {
		if (h->len > 0) {
			size_t n = size < h->len ? size : h->len;
			memcpy(buf, h->buf + h->start, n);
			h->start += n;
			h->len -= n;
			if (h->len == 0)
				h->start = 0;
			if (h->paused && !h->done && h->len <= h->cap / 2) {
				h->paused = false;
				/* Not stalled while paused. */
				h->last_rx = sl_clock();
				CURLcode rc = curl_easy_pause(h->easy,
				                              CURLPAUSE_CONT);
				if (rc != CURLE_OK) {
					h->result = rc;
					h->done = true;
				}
			}
			return (ssize_t)n;
		}
		if (h->done) {
			if (h->result != CURLE_OK)
				return transfer_error(h);
			return 0;
		}
		if (wait_news(h, "body") != 0)
			return -1;
	}
}

struct sl_source
sl_http_source(struct sl_http *h)
{
	struct sl_source s = {.read = sl_http_read, .ctx = h, .name = h->shown};
	return s;
}

unsigned long long
sl_http_bytes(const struct sl_http *h)
{
	return h->bytes;
}

unsigned long
sl_http_pauses(const struct sl_http *h)
{
	return h->pauses;
}

/* }}} */

long long
sl_http_date(const char *s)
{
	if (sl_curl_load() < 0)
		return -1;
	time_t t = curl_getdate(s, NULL);
	return t < 0 ? -1 : (long long)t;
}
