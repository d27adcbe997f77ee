/*
 * sluice: the SimpleApiExtractor: records from the pages of a JSON web
 * API.
 *
 * Nodestream's arguments and behaviour: `url`, `headers`, `yield_from`
 * and `offset_query_param`. Each page is one GET whose body is one JSON
 * document; with `yield_from` the records are the document's member of
 * that name, else the document itself; every element is a record as
 * Python iterates it (an array's items, an object's keys, a string's
 * characters). With `offset_query_param` the next page is the same URL
 * with that query parameter set to the number of records so far (a
 * parameter of that name already in the URL is replaced, as httpx merges
 * params), until a page has no records; without it there is one page. A
 * status other than 2xx fails the step.
 *
 * sluice's additions: redirects followed; a retry of a 429 or 5xx answer
 * (`max_retries`, default 5) after its Retry-After (seconds or an HTTP
 * date) or else an exponential backoff from `retry_backoff` seconds
 * (default 1), at most `retry_max_wait` seconds (default 60); a request
 * rate limit (`requests_per_second`); next-link pagination, from the RFC
 * 8288 Link header's rel="next" (`follow_link_header: true`) or from a
 * member of the document (`next_url_from: a.b`, a dotted path to a URL,
 * relative or absolute; null, absent or "" ends); the HTTP options of
 * httpargs.h; and `max_record_size`, the largest page (default 64 MiB),
 * which is read whole to parse it.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "builtins.h"
#include "httpargs.h"
#include "sluice/alloc.h"
#include "sluice/batch.h"
#include "sluice/diag.h"
#include "sluice/http.h"
#include "sluice/log.h"
#include "sluice/records.h"
#include "sluice/task.h"

/** Longest URL built for a page (the offset parameter added). */
#define PAGE_URL_MAX 8192

/** The SimpleApiExtractor. */
struct api_step {
	/** Common part. */
	struct sl_step base;
	/** The first page's URL (malloc'd). */
	char *url;
	/** `url` redacted: the origin of every record. */
	char shown[512];
	/** Member holding the records, or NULL. */
	char *yield_from;
	/** Offset query parameter, or NULL (no offset pagination). */
	char *offset_param;
	/** Dotted path of the next page's URL in a page, or NULL. */
	char *next_url_from;
	/** Whether the Link header's rel="next" gives the next page. */
	bool follow_link;
	/** Retries of a 429 or 5xx answer. */
	int64_t max_retries;
	/** First backoff, in seconds (doubled on each retry). */
	double backoff;
	/** Longest wait before a retry, in seconds. */
	double max_wait;
	/** Requests per second at most, or 0. */
	double rate;
	/** Headers, limits and redirects. */
	struct sl_http_args http;
	/** Reading options (the page size cap). */
	struct sl_reader_opts ropts;
	/** Memory of the page being read. */
	struct sl_arena page;
	/** sl_clock() of the last request, or 0. */
	double last_request;
};

static void
api_destroy(struct sl_step *s)
{
	struct api_step *a = (struct api_step *)s;
	sl_free(a->url);
	sl_free(a->yield_from);
	sl_free(a->offset_param);
	sl_free(a->next_url_from);
	sl_http_args_destroy(&a->http);
	sl_arena_destroy(&a->page);
	sl_free(a);
}

/** Whether `c` may stand unencoded in a query (RFC 3986 unreserved). */
static bool
unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/** Append `s` percent-encoded to out[*o..size). 0, or -1 if it is full. */
static int
put_encoded(char *out, size_t *o, size_t size, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int k = unreserved(c)
		                ? snprintf(out + *o, size - *o, "%c", c)
		                : snprintf(out + *o, size - *o, "%%%02X", c);
		if (k < 0 || (size_t)k >= size - *o)
			return -1;
		*o += (size_t)k;
	}
	return 0;
}

/**
 * `url` with query parameter `key` set to `value`: the first parameter of
 * that name keeps its place with the new value, later ones go, and
 * without one it is appended. 0, or -1 with SL_ELIMIT.
 */
static int
url_with_param(const char *url, const char *key, const char *value, char *out,
               size_t size)
{
	char enc_key[256];
	size_t ek = 0;
	if (put_encoded(enc_key, &ek, sizeof(enc_key), key) != 0)
		goto full;
	const char *frag = strchr(url, '#');
	size_t base_len = frag != NULL ? (size_t)(frag - url) : strlen(url);
	const char *q = memchr(url, '?', base_len);
	size_t o = 0;
	size_t head = q != NULL ? (size_t)(q - url) : base_len;
	if (head + 1 >= size)
		goto full;
	memcpy(out, url, head);
	o = head;
	out[o++] = '?';
	bool placed = false, first = true;
	const char *p = q != NULL ? q + 1 : NULL;
	const char *end = url + base_len;
	while (p != NULL && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		size_t klen = (size_t)((eq != NULL ? eq : pe) - p);
		bool same = klen == ek && memcmp(p, enc_key, ek) == 0;
		if (same && placed) {
			/* a later duplicate goes */
		} else if (pe > p) {
			size_t need = (size_t)(pe - p) + 1;
			if (o + need + 1 >= size)
				goto full;
			if (!first)
				out[o++] = '&';
			first = false;
			if (same) {
				memcpy(out + o, enc_key, ek);
				o += ek;
				out[o++] = '=';
				if (put_encoded(out, &o, size, value) != 0)
					goto full;
				placed = true;
			} else {
				memcpy(out + o, p, (size_t)(pe - p));
				o += (size_t)(pe - p);
			}
		}
		p = amp != NULL ? amp + 1 : NULL;
	}
	if (!placed) {
		if (!first) {
			if (o + 1 >= size)
				goto full;
			out[o++] = '&';
		}
		if (o + ek + 1 >= size)
			goto full;
		memcpy(out + o, enc_key, ek);
		o += ek;
		out[o++] = '=';
		if (put_encoded(out, &o, size, value) != 0)
			goto full;
	}
	if (frag != NULL) {
		size_t fl = strlen(frag);
		if (o + fl >= size)
			goto full;
		memcpy(out + o, frag, fl);
		o += fl;
	}
	out[o] = '\0';
	return 0;
full:
	sl_diag_set(SL_ELIMIT, "a page URL would be longer than %zu bytes",
	            size - 1);
	return -1;
}

/**
 * Seconds a Retry-After value asks for (delay-seconds or an HTTP date),
 * or -1 if it is absent or not understood.
 */
static double
retry_after(const char *v)
{
	if (v == NULL)
		return -1;
	char *end;
	long secs = strtol(v, &end, 10);
	if (end != v && *end == '\0' && secs >= 0)
		return (double)secs;
	long long when = sl_http_date(v);
	if (when < 0)
		return -1;
	double d = difftime((time_t)when, time(NULL));
	return d > 0 ? d : 0;
}

/**
 * GET `url` with the retries and the rate limit: the open transfer with
 * a 2xx status, or NULL with an error.
 */
static struct sl_http *
get_page(struct api_step *a, const char *url)
{
	for (int64_t attempt = 0;; attempt++) {
		if (a->rate > 0 && a->last_request > 0 &&
		    sl_sleep_until(a->last_request + 1.0 / a->rate) != 0)
			return NULL;
		a->last_request = sl_clock();
		struct sl_http *h = sl_http_open(url, &a->http.opts);
		if (h == NULL)
			return NULL;
		long code = sl_http_status(h);
		if (code >= 200 && code < 300)
			return h;
		bool again = code == 429 || (code >= 500 && code <= 599);
		if (!again || attempt >= a->max_retries) {
			sl_http_check(h);
			if (again)
				sl_diag_wrap(SL_EIO, "after %lld retries",
				             (long long)attempt);
			sl_http_close(h);
			return NULL;
		}
		double wait = retry_after(sl_http_header(h, "Retry-After"));
		if (wait < 0)
			wait = a->backoff * pow(2, (double)attempt);
		if (wait > a->max_wait)
			wait = a->max_wait;
		sl_log_warn("step %s: GET %s: HTTP %ld; retrying in %.3g s "
		            "(retry %lld of %lld)",
		            a->base.name, sl_http_shown_url(h), code, wait,
		            (long long)attempt + 1, (long long)a->max_retries);
		sl_http_close(h);
		if (sl_sleep(wait) != 0)
			return NULL;
	}
}

/**
 * The member at dotted path `path` of `doc`, or NULL if a part is
 * missing or not an object.
 */
static const struct sl_value *
dotted_get(const struct sl_value *doc, const char *path)
{
	const struct sl_value *v = doc;
	while (v != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");
		if (v->type != SL_VOBJECT)
			return NULL;
		v = sl_object_get(v, path, n);
		path += n;
		if (*path == '.')
			path++;
	}
	return v;
}

/** Bytes of the UTF-8 sequence starting with `c` (1 if invalid). */
static size_t
utf8_len(unsigned char c)
{
	if (c >= 0xF0 && c < 0xF8)
		return 4;
	if (c >= 0xE0)
		return 3;
	if (c >= 0xC0)
		return 2;
	return 1;
}

/** Emit record number `*count` (origin: the step's URL). 0, or -1. */
static int
emit_one(struct api_step *a, struct sl_emit *out, const struct sl_value *v,
         uint64_t *count)
{
	sl_emit_set_origin(out, a->shown, ++*count);
	return sl_emit_copy(out, v);
}

/**
 * Emit the records of a page's document as Python iterates it; `*n` is
 * how many. 0, or -1 (a type Python cannot iterate is SL_EINVAL).
 */
static int
emit_page(struct api_step *a, struct sl_emit *out, const struct sl_value *recs,
          const char *page, uint64_t *count, uint64_t *n)
{
	*n = 0;
	switch (recs->type) {
	case SL_VARRAY:
		for (uint32_t i = 0; i < recs->len; i++, ++*n)
			if (emit_one(a, out, &recs->u.items[i], count) != 0)
				return -1;
		return 0;
	case SL_VOBJECT:
		for (uint32_t i = 0; i < recs->len; i++, ++*n) {
			const struct sl_member *m = &recs->u.members[i];
			struct sl_value k = sl_str_ref(m->key, m->key_len);
			if (emit_one(a, out, &k, count) != 0)
				return -1;
		}
		return 0;
	case SL_VSTR:
		for (uint32_t i = 0; i < recs->len; ++*n) {
			size_t l = utf8_len((unsigned char)recs->u.s[i]);
			if (l > recs->len - i)
				l = recs->len - i;
			struct sl_value c =
			        sl_str_ref(recs->u.s + i, (uint32_t)l);
			if (emit_one(a, out, &c, count) != 0)
				return -1;
			i += (uint32_t)l;
		}
		return 0;
	default:
		sl_diag_set(SL_EINVAL,
		            "%s: the records are a %s, which cannot be "
		            "iterated (expected a list)",
		            page, sl_vtype_name((enum sl_vtype)recs->type));
		return -1;
	}
}

/**
 * Read page `url` into a->page: its document in `doc`, and in `*next`
 * the next page's URL by the next-link options (malloc'd, NULL when
 * there is none). 0, or -1.
 */
static int
read_page(struct api_step *a, const char *url, struct sl_value *doc,
          char **next, char *shown, size_t shown_size)
{
	*next = NULL;
	sl_http_redact(url, shown, shown_size);
	struct sl_http *h = get_page(a, url);
	if (h == NULL)
		return -1;
	struct sl_source src = sl_http_source(h);
	struct sl_reader *r = sl_reader_new(&src, SL_FORMAT_JSON,
	                                    SL_COMPRESSION_NONE, &a->ropts);
	int rc = -1;
	if (r == NULL)
		goto out;
	sl_arena_reset(&a->page);
	int k = sl_reader_next(r, &a->page, doc);
	if (k == 0) {
		sl_diag_set(SL_EPARSE, "%s: the page is empty, not JSON",
		            shown);
		goto out;
	}
	if (k < 0)
		goto out;
	if (a->follow_link) {
		*next = sl_http_link(h, "next");
		if (*next == NULL && sl_diag_last() != NULL &&
		    sl_diag_code() != SL_EOK)
			goto out;
	}
	if (a->next_url_from != NULL) {
		const struct sl_value *v = dotted_get(doc, a->next_url_from);
		if (v != NULL && v->type == SL_VSTR && v->len > 0) {
			char ref[PAGE_URL_MAX];
			if (v->len >= sizeof(ref)) {
				sl_diag_set(SL_ELIMIT,
				            "%s: %s is longer than %zu bytes",
				            shown, a->next_url_from,
				            sizeof(ref) - 1);
				goto out;
			}
			memcpy(ref, v->u.s, v->len);
			ref[v->len] = '\0';
			const char *base = sl_http_final_url(h);
			*next = sl_http_resolve(base != NULL ? base : url, ref);
			if (*next == NULL)
				goto out;
		} else if (v != NULL && v->type != SL_VNULL &&
		           v->type != SL_VSTR) {
			sl_diag_set(SL_EINVAL, "%s: %s is a %s, not a URL",
			            shown, a->next_url_from,
			            sl_vtype_name((enum sl_vtype)v->type));
			goto out;
		}
	}
	rc = 0;
out:
	sl_reader_delete(r);
	sl_http_close(h);
	return rc;
}

static int
api_drain(struct sl_step *s, struct sl_emit *out)
{
	struct api_step *a = (struct api_step *)s;
	char url[PAGE_URL_MAX];
	char shown[512];
	if (strlen(a->url) >= sizeof(url)) {
		sl_diag_set(SL_ELIMIT, "%s: the URL is longer than %zu bytes",
		            a->shown, sizeof(url) - 1);
		return -1;
	}
	strcpy(url, a->url);
	uint64_t count = 0, so_far = 0;
	for (;;) {
		struct sl_value doc;
		char *next;
		sl_diag_clear(sl_diag_get());
		if (read_page(a, url, &doc, &next, shown, sizeof(shown)) != 0)
			return -1;
		const struct sl_value *recs = &doc;
		if (a->yield_from != NULL) {
			if (doc.type != SL_VOBJECT) {
				sl_free(next);
				sl_diag_set(
				        SL_EINVAL,
				        "%s: the page is a %s, not an object "
				        "with '%s' (yield_from)",
				        shown,
				        sl_vtype_name((enum sl_vtype)doc.type),
				        a->yield_from);
				return -1;
			}
			recs = sl_object_get_cstr(&doc, a->yield_from);
			if (recs == NULL) {
				sl_free(next);
				sl_diag_set(SL_EINVAL,
				            "%s: the page has no member '%s' "
				            "(yield_from)",
				            shown, a->yield_from);
				return -1;
			}
		}
		uint64_t n;
		if (emit_page(a, out, recs, shown, &count, &n) != 0) {
			sl_free(next);
			return -1;
		}
		so_far += n;
		if (a->offset_param != NULL) {
			if (n == 0)
				return 0;
			char num[32];
			snprintf(num, sizeof(num), "%llu",
			         (unsigned long long)so_far);
			if (url_with_param(a->url, a->offset_param, num, url,
			                   sizeof(url)) != 0)
				return -1;
			continue;
		}
		if (next == NULL)
			return 0;
		bool same = strcmp(next, url) == 0;
		if (!same && strlen(next) >= sizeof(url)) {
			sl_free(next);
			sl_diag_set(SL_ELIMIT,
			            "%s: the next page's URL is longer than "
			            "%zu bytes",
			            shown, sizeof(url) - 1);
			return -1;
		}
		if (same) {
			sl_free(next);
			sl_diag_set(SL_EINVAL,
			            "%s: the next page's link points at the "
			            "same page",
			            shown);
			return -1;
		}
		strcpy(url, next);
		sl_free(next);
	}
}

/** The SimpleApiExtractor's callbacks. */
static const struct sl_step_ops api_ops = {
        .type = "SimpleApiExtractor",
        .drain = api_drain,
        .destroy = api_destroy,
};

/** A copy of string argument `key` into *out (NULL when absent). */
static int
str_arg(const struct sl_stepdef *def, const char *key, char **out)
{
	const char *v;
	if (sl_args_str(def, key, NULL, &v) != 0)
		return -1;
	if (v == NULL)
		return 0;
	*out = sl_strndup(v, strlen(v));
	if (*out == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return -1;
	}
	return 0;
}

/** A non-negative number of seconds (or a rate) `key`, `dflt` if absent. */
static int
num_arg(const struct sl_stepdef *def, const char *key, double dflt, double *out)
{
	const struct sl_conf *n = sl_args_get(def, key);
	*out = dflt;
	if (n == NULL)
		return 0;
	char what[64];
	snprintf(what, sizeof(what), "arguments.%s", key);
	const char *s;
	if (sl_conf_str(n, what, &s) != 0)
		return -1;
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v) || v < 0 || v > 1e6)
		return sl_conf_error(n, what,
		                     "expected a number from 0 to 1000000, "
		                     "got '%s'",
		                     s);
	*out = v;
	return 0;
}

/** Build a SimpleApiExtractor. */
static struct sl_step *
api_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"url",
	                                   "yield_from",
	                                   "offset_query_param",
	                                   "headers",
	                                   "max_retries",
	                                   "retry_backoff",
	                                   "retry_max_wait",
	                                   "requests_per_second",
	                                   "follow_link_header",
	                                   "next_url_from",
	                                   "connect_timeout",
	                                   "stall_timeout",
	                                   "timeout",
	                                   "max_redirects",
	                                   "max_record_size",
	                                   NULL};
	if (sl_args_check(def, keys) != 0)
		return NULL;
	struct api_step *a = sl_calloc(1, sizeof(*a));
	if (a == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&a->base, &api_ops);
	sl_arena_create(&a->page, 64 * 1024, SL_RECORD_MEM_MAX);
	sl_reader_opts_init(&a->ropts);
	sl_http_opts_init(&a->http.opts);
	int64_t max_rec = (int64_t)a->ropts.record_max;
	static const struct sl_conf empty = {.kind = SL_CONF_MAP};
	const struct sl_conf *args =
	        def->arguments != NULL ? def->arguments : &empty;
	if (str_arg(def, "url", &a->url) != 0 ||
	    str_arg(def, "yield_from", &a->yield_from) != 0 ||
	    str_arg(def, "offset_query_param", &a->offset_param) != 0 ||
	    str_arg(def, "next_url_from", &a->next_url_from) != 0 ||
	    sl_args_bool(def, "follow_link_header", false, &a->follow_link) !=
	            0 ||
	    sl_args_int(def, "max_retries", 5, &a->max_retries) != 0 ||
	    sl_args_int(def, "max_record_size", max_rec, &max_rec) != 0 ||
	    num_arg(def, "retry_backoff", 1, &a->backoff) != 0 ||
	    num_arg(def, "retry_max_wait", 60, &a->max_wait) != 0 ||
	    num_arg(def, "requests_per_second", 0, &a->rate) != 0 ||
	    sl_http_args_read(args, "arguments", &a->http) != 0)
		goto fail;
	if (a->url == NULL || a->url[0] == '\0') {
		sl_conf_error(def->node, "arguments",
		              "SimpleApiExtractor needs url");
		goto fail;
	}
	if (a->max_retries < 0 || a->max_retries > 100) {
		sl_conf_error(sl_args_get(def, "max_retries"),
		              "arguments.max_retries",
		              "expected 0 to 100 retries");
		goto fail;
	}
	if (max_rec < 1 || (uint64_t)max_rec > SL_RECORD_MEM_MAX) {
		sl_conf_error(sl_args_get(def, "max_record_size"),
		              "arguments.max_record_size",
		              "expected 1 to %zu bytes",
		              (size_t)SL_RECORD_MEM_MAX);
		goto fail;
	}
	a->ropts.record_max = (size_t)max_rec;
	int modes = (a->offset_param != NULL) + (a->next_url_from != NULL) +
	            a->follow_link;
	if (modes > 1) {
		sl_conf_error(def->node, "arguments",
		              "choose one way to page: offset_query_param, "
		              "follow_link_header or next_url_from");
		goto fail;
	}
	sl_http_redact(a->url, a->shown, sizeof(a->shown));
	return &a->base;
fail:
	api_destroy(&a->base);
	return NULL;
}

/** Names of the SimpleApiExtractor. */
static const char *const api_names[] = {
        "api", "nodestream.pipeline.extractors.apis:SimpleApiExtractor",
        "nodestream.pipeline.extractors:SimpleApiExtractor", NULL};

/** The SimpleApiExtractor type. */
const struct sl_step_type sl_builtin_api = {
        .names = api_names,
        .create = api_create,
        .summary = "records from the pages of a JSON web API (url, "
                   "yield_from, offset_query_param, headers; retries, "
                   "rate limit, next links)",
};
