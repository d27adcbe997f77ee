/*
 * A sample sluice plugin (docs/plugins.md): what a plugin looks like, and
 * what tests/test_plugins.sh drives.
 *
 *   sample:Countdown   an extractor: records {id, name, parity} for id =
 *                      from, from-1, ..., 1; `prefix` names them
 *                      (default: the plugin's config `default_prefix`, else
 *                      "item")
 *   sample:Fail        a transformer that passes records on and fails on
 *                      the one whose id is `on_id`
 *   sample:Crash       a transformer that crashes (a NULL write) on the
 *                      record whose id is `on_id`, or on the first record
 *                      `after_ms` milliseconds after it started: for the
 *                      crash report
 *   !shout             a value provider: {data: PROVIDER, suffix: TEXT}
 *                      gives the data upper-cased (ASCII) with the suffix
 *   strip_dashes       a normalizer: the string without '-'
 *   sample-jsonl:PATH  a graph target: every node and relationship write
 *                      as one JSON line in the file PATH
 *
 * Build: cc -shared -fPIC -I include examples/plugins/sample.c -o
 * libsluice_sample.so (CMake builds it as build/examples/plugins/).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c17 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/plugin.h"

SL_PLUGIN_DECLARE("sample", "1.0",
                  "a countdown extractor, !shout and "
                  "strip_dashes");

/** The host table sluice gave (valid for the plugin's lifetime). */
static const struct sl_plugin_host *host;

/** The name prefix of the plugin's config, or NULL. */
static char default_prefix[64];

/* --- sample:Countdown --------------------------------------------------- */

/** A countdown step. */
struct countdown {
	/** The first id. */
	int64_t from;
	/** The names' prefix. */
	char prefix[64];
};

/** Build a countdown from its arguments. */
static int
countdown_create(void *data, const sl_pval *args, struct sl_plugin_ctx *cx,
                 void **state)
{
	(void)data;
	(void)cx;
	const sl_pval *from = host->field(args, "from");
	int64_t n = 0;
	if (from == NULL || host->as_int(from, &n) != 0 || n < 0)
		return host->error(host, "arguments.from: expected a whole "
		                         "number from 0 up");
	struct countdown *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return host->error(host, "out of memory");
	c->from = n;
	size_t len = 0;
	const char *p = host->as_string(host->field(args, "prefix"), &len);
	if (p == NULL) {
		p = default_prefix[0] != '\0' ? default_prefix : "item";
		len = strlen(p);
	}
	snprintf(c->prefix, sizeof(c->prefix), "%.*s", (int)len, p);
	*state = c;
	return 0;
}

/** Emit every record. */
static int
countdown_drain(void *state, struct sl_plugin_ctx *cx)
{
	struct countdown *c = state;
	static const char *const keys[] = {"id", "name", "parity"};
	for (int64_t i = c->from; i >= 1; i--) {
		char name[96];
		int len = snprintf(name, sizeof(name), "%s-%lld", c->prefix,
		                   (long long)i);
		const sl_pval *vals[3] = {
		        host->make_int(cx, i),
		        host->make_string(cx, name, (size_t)len),
		        host->make_string(cx, i % 2 == 0 ? "even" : "odd",
		                          i % 2 == 0 ? 4 : 3),
		};
		const sl_pval *rec = host->make_object(cx, keys, vals, 3);
		if (rec == NULL)
			return -1;
		host->set_origin(cx, "countdown", (uint64_t)(c->from - i + 1));
		if (host->emit(cx, rec) != 0)
			return -1;
	}
	return 0;
}

/** Free a countdown. */
static void
countdown_destroy(void *state)
{
	free(state);
}

/** The countdown step type. */
static const struct sl_plugin_step countdown = {
        .name = "sample:Countdown",
        .summary = "records {id, name, parity} counting down from `from`",
        .create = countdown_create,
        .drain = countdown_drain,
        .destroy = countdown_destroy,
};

/* --- sample:Fail and sample:Crash ---------------------------------------- */

/** What a Fail or Crash step acts on. */
struct on_id {
	/** The id of the record it acts on (-1: none). */
	int64_t id;
	/** Crash: act on the first record this many ms after start (0: no). */
	int64_t after_ms;
	/** Crash: when it started (CLOCK_MONOTONIC, ms). */
	int64_t start_ms;
};

/** CLOCK_MONOTONIC in milliseconds. */
static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** Read on_id (and after_ms) into the step's state. */
static int
on_id_create(void *data, const sl_pval *args, struct sl_plugin_ctx *cx,
             void **state)
{
	(void)data;
	(void)cx;
	struct on_id *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return host->error(host, "out of memory");
	o->id = -1;
	const sl_pval *id = host->field(args, "on_id");
	const sl_pval *after = host->field(args, "after_ms");
	if ((id != NULL && host->as_int(id, &o->id) != 0) ||
	    (after != NULL && host->as_int(after, &o->after_ms) != 0) ||
	    (id == NULL && after == NULL)) {
		free(o);
		return host->error(host, "arguments: expected on_id or "
		                         "after_ms, a number");
	}
	o->start_ms = now_ms();
	*state = o;
	return 0;
}

/** Pass records on; fail on the one with id `on_id`. */
static int
fail_process(void *state, const sl_pval *rec, struct sl_plugin_ctx *cx)
{
	int64_t id = 0;
	if (host->as_int(host->field(rec, "id"), &id) == 0 &&
	    id == *(int64_t *)state)
		return host->error(host, "record %lld is cursed",
		                   (long long)id);
	return host->emit(cx, rec);
}

/** Pass records on; crash on the one with id `on_id`. */
static int
crash_process(void *state, const sl_pval *rec, struct sl_plugin_ctx *cx)
{
	const struct on_id *o = state;
	int64_t id = 0;
	if ((host->as_int(host->field(rec, "id"), &id) == 0 && id == o->id) ||
	    (o->after_ms > 0 && now_ms() - o->start_ms >= o->after_ms)) {
		volatile int *nowhere = NULL;
		*nowhere = 1;
	}
	return host->emit(cx, rec);
}

/** The Fail step type. */
static const struct sl_plugin_step fail_step = {
        .name = "sample:Fail",
        .summary = "fails on the record whose id is on_id",
        .create = on_id_create,
        .process = fail_process,
        .destroy = free,
};

/** The Crash step type. */
static const struct sl_plugin_step crash_step = {
        .name = "sample:Crash",
        .summary = "crashes on the record whose id is on_id",
        .create = on_id_create,
        .process = crash_process,
        .destroy = free,
};

/* --- !shout -------------------------------------------------------------- */

/** Check !shout's arguments: a mapping of data and suffix. */
static int
shout_compile(void *data, const sl_pval *args, struct sl_plugin_ctx *cx,
              void **state)
{
	(void)data;
	(void)cx;
	(void)state;
	if (host->type(args) != SL_PVAL_OBJECT)
		return host->error(host, "!shout takes {data, suffix}");
	for (size_t i = 0; i < host->length(args); i++) {
		size_t kl;
		const char *k = host->key(args, i, &kl);
		if (!(kl == 4 && memcmp(k, "data", 4) == 0) &&
		    !(kl == 6 && memcmp(k, "suffix", 6) == 0))
			return host->error(host,
			                   "!shout: unknown argument '%.*s' "
			                   "(it takes data and suffix)",
			                   (int)kl, k);
	}
	const sl_pval *suffix = host->field(args, "suffix");
	if (suffix != NULL && host->type(suffix) != SL_PVAL_STRING)
		return host->error(host, "!shout: suffix must be a string");
	return 0;
}

/** The data upper-cased, with the suffix; null for no string. */
static int
shout_eval(void *state, const sl_pval *args, const sl_pval *doc,
           struct sl_plugin_ctx *cx, const sl_pval **out)
{
	(void)state;
	(void)doc;
	size_t len, slen = 0;
	const char *s = host->as_string(host->field(args, "data"), &len);
	const char *suffix =
	        host->as_string(host->field(args, "suffix"), &slen);
	if (s == NULL) {
		*out = NULL;
		return 0;
	}
	char buf[256];
	if (len + slen > sizeof(buf))
		return host->error(host,
		                   "!shout: %zu bytes is too long to "
		                   "shout",
		                   len + slen);
	for (size_t i = 0; i < len; i++)
		buf[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
	if (slen > 0)
		memcpy(buf + len, suffix, slen);
	*out = host->make_string(cx, buf, len + slen);
	return *out != NULL ? 0 : -1;
}

/** The !shout provider. */
static const struct sl_plugin_provider shout = {
        .tag = "!shout",
        .compile = shout_compile,
        .eval = shout_eval,
};

/* --- strip_dashes -------------------------------------------------------- */

/** The string without its dashes. */
static int
strip_dashes(void *data, const char *s, size_t len, struct sl_plugin_ctx *cx,
             const sl_pval **out)
{
	(void)data;
	char buf[256];
	if (len > sizeof(buf))
		return host->error(host, "strip_dashes: string too long");
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '-')
			buf[n++] = s[i];
	*out = host->make_string(cx, buf, n);
	return *out != NULL ? 0 : -1;
}

/** The strip_dashes normalizer. */
static const struct sl_plugin_normalizer dashes = {
        .name = "strip_dashes",
        .apply = strip_dashes,
};

/* --- sample-jsonl: ------------------------------------------------------- */

/** Open the file after "sample-jsonl:" for writing. */
static int
jsonl_open(void *data, const char *uri, struct sl_plugin_ctx *cx, void **store)
{
	(void)data;
	(void)cx;
	const char *path = uri + strlen("sample-jsonl:");
	if (path[0] == '\0')
		return host->error(host, "sample-jsonl:PATH needs a path");
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return host->error(host, "%s: cannot open it for writing",
		                   path);
	*store = f;
	return 0;
}

/** Write every node, then every relationship, one JSON line each. */
static int
jsonl_write(void *store, const sl_pval *nodes, const sl_pval *rels,
            struct sl_plugin_ctx *cx, struct sl_plugin_write_counts *counts)
{
	FILE *f = store;
	const sl_pval *lists[2] = {nodes, rels};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < host->length(lists[l]); i++) {
			size_t len;
			const char *json = host->to_json(
			        cx, host->item(lists[l], i), &len);
			if (json == NULL)
				return -1;
			fprintf(f, "{\"%s\":%s}\n", l == 0 ? "node" : "rel",
			        json);
		}
	if (fflush(f) != 0 || ferror(f))
		return host->error(host, "writing failed");
	counts->nodes_created = host->length(nodes);
	counts->rels_created = host->length(rels);
	return 0;
}

/** Close the file. */
static int
jsonl_close(void *store, struct sl_plugin_ctx *cx)
{
	(void)cx;
	return fclose(store) == 0 ? 0 : host->error(host, "closing failed");
}

/** The sample-jsonl: target. */
static const struct sl_plugin_target jsonl = {
        .scheme = "sample-jsonl:",
        .usage = "sample-jsonl:PATH",
        .open = jsonl_open,
        .write = jsonl_write,
        .close = jsonl_close,
};

/* --- entry point --------------------------------------------------------- */

SL_PLUGIN_EXPORT int sluice_plugin_init(const struct sl_plugin_host *h);

SL_PLUGIN_EXPORT int
sluice_plugin_init(const struct sl_plugin_host *h)
{
	host = h;
	size_t len = 0;
	const char *p =
	        h->as_string(h->field(h->config, "default_prefix"), &len);
	if (p != NULL)
		snprintf(default_prefix, sizeof(default_prefix), "%.*s",
		         (int)len, p);
	if (h->add_step(h, &countdown) != 0 ||
	    h->add_step(h, &fail_step) != 0 ||
	    h->add_step(h, &crash_step) != 0 ||
	    h->add_provider(h, &shout) != 0 ||
	    h->add_normalizer(h, &dashes) != 0 || h->add_target(h, &jsonl) != 0)
		return -1;
	h->log(h, SL_PLUGIN_LOG_INFO, "ready (%s)",
	       default_prefix[0] != '\0' ? default_prefix : "no config");
	return 0;
}
