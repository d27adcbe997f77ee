/*
 * sluice: HTTP options of steps (see httpargs.h).
 */
#include "httpargs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

/** A number of seconds at `key` of `map`, `*out` kept when absent. */
static int
read_seconds(const struct sl_conf *map, const char *what, const char *key,
             double *out)
{
	const struct sl_conf *n = sl_conf_get(map, key);
	if (n == NULL || sl_conf_is_null(n))
		return 0;
	char w[128];
	snprintf(w, sizeof(w), "%s.%s", what, key);
	const char *s;
	if (sl_conf_str(n, w, &s) != 0)
		return -1;
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v) || v < 0 || v > 86400)
		return sl_conf_error(n, w,
		                     "expected a number of seconds from 0 to "
		                     "86400, got '%s'",
		                     s);
	*out = v;
	return 0;
}

/** Whether `s` may go into a header line (no CR or LF). */
static bool
header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

int
sl_http_args_read(const struct sl_conf *map, const char *what,
                  struct sl_http_args *a)
{
	memset(a, 0, sizeof(*a));
	sl_http_opts_init(&a->opts);
	if (read_seconds(map, what, "connect_timeout",
	                 &a->opts.connect_timeout) != 0 ||
	    read_seconds(map, what, "stall_timeout", &a->opts.stall_timeout) !=
	            0 ||
	    read_seconds(map, what, "timeout", &a->opts.timeout) != 0)
		return -1;
	char w[128];
	const struct sl_conf *n = sl_conf_get(map, "max_redirects");
	if (n != NULL && !sl_conf_is_null(n)) {
		int64_t v;
		snprintf(w, sizeof(w), "%s.max_redirects", what);
		if (sl_conf_int(n, w, &v) != 0)
			return -1;
		if (v < 0 || v > 100)
			return sl_conf_error(n, w,
			                     "expected 0 to 100 redirects");
		a->opts.max_redirects = (long)v;
	}
	n = sl_conf_get(map, "headers");
	if (n == NULL || sl_conf_is_null(n))
		return 0;
	snprintf(w, sizeof(w), "%s.headers", what);
	if (n->kind != SL_CONF_MAP)
		return sl_conf_error(n, w,
		                     "expected a mapping of header names to "
		                     "values, got a %s",
		                     sl_conf_kind_name(n->kind));
	if (n->n > SL_HTTP_ARGS_HEADERS_MAX)
		return sl_conf_error(n, w, "more than %d headers",
		                     SL_HTTP_ARGS_HEADERS_MAX);
	a->lines = sl_calloc((size_t)n->n + 1, sizeof(char *));
	if (a->lines == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for %s", w);
		return -1;
	}
	for (uint32_t i = 0; i < n->n; i++) {
		const struct sl_conf *k = n->items[2 * i];
		const struct sl_conf *v = n->items[2 * i + 1];
		const char *val;
		if (sl_conf_str(v, w, &val) != 0)
			goto fail;
		if (k->kind != SL_CONF_SCALAR || k->text[0] == '\0' ||
		    strpbrk(k->text, ": \t") != NULL || !header_safe(k->text) ||
		    !header_safe(val) || strlen(val) != v->len) {
			/* The value may be a secret: it is not shown. */
			sl_conf_error(k, w,
			              "header '%s' has a name or value that "
			              "cannot go into a request (empty, or "
			              "with ':', blanks or line breaks)",
			              k->kind == SL_CONF_SCALAR &&
			                              header_safe(k->text)
			                      ? k->text
			                      : "?");
			goto fail;
		}
		size_t len = strlen(k->text) + strlen(val) + 3;
		a->lines[i] = sl_malloc(len);
		if (a->lines[i] == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for %s", w);
			goto fail;
		}
		snprintf(a->lines[i], len, "%s: %s", k->text, val);
	}
	a->opts.headers = (const char *const *)a->lines;
	return 0;
fail:
	sl_http_args_destroy(a);
	return -1;
}

void
sl_http_args_destroy(struct sl_http_args *a)
{
	for (size_t i = 0; a->lines != NULL && a->lines[i] != NULL; i++)
		sl_free(a->lines[i]);
	sl_free(a->lines);
	a->lines = NULL;
	a->opts.headers = NULL;
}
