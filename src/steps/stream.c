/*
 * sluice: the StreamExtractor (Nodestream's, with `connector:` and
 * `record_format:`), acknowledging each poll only after its records are
 * committed.
 *
 * The extractor polls its connector (stream.h) and emits a record per
 * message: with `record_format: json` (the default, as Nodestream's) the
 * message's field `field` (default "data") parsed as JSON; with
 * `record_format: fields` an object of the message's fields, as strings.
 * A message whose JSON does not parse is skipped and counted, the message
 * naming its origin ("redis:<stream>:<id>"), and acknowledged like the
 * others; `on_error: fail` or `--strict` fail the run instead.
 *
 * After each poll's records comes a progress mark (sl_emit_mark()). Its
 * `ack` (everything before it committed, in every target) queues the
 * poll's messages for acknowledgement, which the extractor's task sends
 * (pipelined) before its next poll; `drop` does nothing, so the messages
 * stay pending and a later run gets them again. At most
 * `max_unacked_polls` polls are out at once: then the extractor waits
 * for acknowledgements before it reads more. After a poll that got
 * nothing, the extractor lets the polls in flight settle and
 * acknowledges them before it blocks on the broker, and emits a flush
 * marker (as Nodestream's extractor yields Flush on an empty poll).
 *
 * A stream has no end: `stop_when_idle: S` ends the run once no message
 * came for S seconds; otherwise a signal stops it (sluice/pipeline.h).
 */
#include "stream.h"

#include <string.h>

#include "args.h"
#include "builtins.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/jsonread.h"
#include "sluice/log.h"
#include "sluice/task.h"

/** Where a window slot is. */
enum poll_state {
	POLL_FREE = 0, /**< unused */
	POLL_SENT,     /**< its mark is on its way */
	POLL_ACKED,    /**< its mark was acknowledged; the broker not yet */
	POLL_DROPPED,  /**< its mark was dropped (the run is ending) */
};

/** Most polls unacknowledged at once (a hard cap on the option). */
#define WINDOW_MAX 64

/** A StreamExtractor. */
struct stream_ext {
	/** Common part. */
	struct sl_step base;
	/** The connector. */
	const struct stream_connector *cops;
	/** Its state. */
	struct stream_conn *conn;
	/** Whether the connector started. */
	bool started;
	/** record_format json (else fields). */
	bool json;
	/** The field holding the JSON document. */
	char field[256];
	/** Its length. */
	size_t field_len;
	/** Skip (count) messages that are not JSON rather than fail. */
	bool skip_errors;
	/** Longest wait for new messages in one poll, in seconds. */
	double poll_timeout;
	/** End after this many seconds without a message (0: never). */
	double stop_when_idle;
	/** Polls unacknowledged at once, at most. */
	uint32_t window;
	/** The window's slots. */
	struct stream_poll slots[WINDOW_MAX];
	/** Slots whose mark is on its way. */
	uint32_t in_flight;
	/** The extractor's task while it runs (for the acks to wake). */
	struct sl_task *task;
	/** Whether the task waits for acknowledgements. */
	bool waiting;
	/** The emitter of the current poll (valid during a poll). */
	struct sl_emit *out;
	/** Messages acknowledged to the broker. */
	uint64_t acked;
	/** Whether a flush went out since the last message. */
	bool flushed;
};

const char *
stream_poll_token(struct stream_poll *p, uint32_t stream, const char *id,
                  size_t id_len)
{
	if (p->n_tokens == p->cap_tokens) {
		uint32_t cap = p->cap_tokens ? p->cap_tokens * 2 : 64;
		if (cap > STREAM_POLL_MAX)
			cap = STREAM_POLL_MAX;
		if (cap <= p->n_tokens) {
			sl_diag_set(SL_ELIMIT,
			            "more than %d messages in a poll",
			            STREAM_POLL_MAX);
			return NULL;
		}
		struct stream_token *t =
		        sl_realloc(p->tokens, cap * sizeof(*t));
		if (t == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for a poll");
			return NULL;
		}
		p->tokens = t;
		p->cap_tokens = cap;
	}
	char *copy = sl_arena_strndup(&p->arena, id, id_len);
	if (copy == NULL)
		return NULL;
	p->tokens[p->n_tokens++] =
	        (struct stream_token){stream, (uint32_t)id_len, copy};
	return copy;
}

int
stream_args_seconds(const struct sl_stepdef *def, const char *key, double dflt,
                    double *out)
{
	const struct sl_conf *n = sl_args_get(def, key);
	*out = dflt;
	if (n == NULL)
		return 0;
	return sl_args_amount(n, key, "seconds", out);
}

/** Wake the task if it waits for acknowledgements. */
static void
wake(struct stream_ext *x)
{
	if (x->task != NULL && x->waiting)
		sl_task_wakeup(x->task);
}

/** struct sl_mark.ack of a poll: its messages may be acknowledged. */
static void
poll_ack(struct sl_mark *m)
{
	struct stream_poll *p = (struct stream_poll *)m;
	struct stream_ext *x = p->owner;
	p->state = POLL_ACKED;
	x->in_flight--;
	wake(x);
}

/** struct sl_mark.drop of a poll: its messages stay pending. */
static void
poll_drop(struct sl_mark *m)
{
	struct stream_poll *p = (struct stream_poll *)m;
	struct stream_ext *x = p->owner;
	p->state = POLL_DROPPED;
	x->in_flight--;
	wake(x);
}

/** Acknowledge the polls whose marks were acknowledged; free their slots. */
static int
send_acks(struct stream_ext *x)
{
	struct stream_poll *ps[WINDOW_MAX];
	size_t n = 0;
	for (uint32_t i = 0; i < x->window; i++)
		if (x->slots[i].state == POLL_ACKED)
			ps[n++] = &x->slots[i];
	if (n == 0)
		return 0;
	if (x->cops->ack(x->conn, ps, n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		x->acked += ps[i]->n_tokens;
		ps[i]->state = POLL_FREE;
		ps[i]->n_tokens = 0;
		sl_arena_reset(&ps[i]->arena);
	}
	return 0;
}

/**
 * Wait until fewer than `most` polls are in flight, or `timeout` seconds
 * passed (SL_FOREVER: no limit). 0, or -1 (cancelled).
 */
static int
wait_in_flight(struct stream_ext *x, uint32_t most, double timeout)
{
	double until = timeout < 0 ? -1 : sl_clock() + timeout;
	while (x->in_flight >= most) {
		double left = until < 0 ? SL_FOREVER : until - sl_clock();
		if (until >= 0 && left <= 0)
			return 0;
		x->waiting = true;
		int rc = sl_task_wait(left);
		x->waiting = false;
		if (rc != 0 && sl_diag_code() == SL_ETIMEDOUT) {
			sl_diag_clear(sl_diag_get());
			return 0;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/** Skip message `m` (the error in the diag), or fail. */
static int
skip_msg(struct stream_ext *x)
{
	if (!x->skip_errors)
		return -1;
	sl_step_skip_error(&x->base);
	return 0;
}

/** stream_msg_fn: emit message `m` as a record. */
static int
on_msg(void *arg, const struct stream_msg *m)
{
	struct stream_ext *x = arg;
	struct sl_emit *out = x->out;
	if (m->deleted) {
		sl_diag_set(SL_EINVAL,
		            "%s: the entry was deleted while pending; "
		            "acknowledged without a record",
		            m->origin);
		return skip_msg(x);
	}
	sl_emit_set_origin(out, m->origin, 0);
	struct sl_arena *a = sl_emit_arena(out);
	if (a == NULL)
		return -1;
	struct sl_value v;
	if (x->json) {
		uint32_t i = 0;
		while (i < m->n &&
		       !(m->name_lens[i] == x->field_len &&
		         memcmp(m->names[i], x->field, x->field_len) == 0))
			i++;
		if (i == m->n) {
			sl_diag_set(SL_EPARSE, "%s: no field '%s'", m->origin,
			            x->field);
			return skip_msg(x);
		}
		if (sl_json_parse(m->vals[i], m->val_lens[i], a, NULL, NULL,
		                  &v) != 0) {
			if (sl_diag_code() != SL_EPARSE)
				return -1;
			sl_diag_wrap(SL_EPARSE, "%s: field '%s' is not JSON",
			             m->origin, x->field);
			return skip_msg(x);
		}
	} else {
		struct sl_member *mm =
		        sl_arena_alloc(a, (m->n + 1) * sizeof(*mm));
		if (mm == NULL)
			return -1;
		for (uint32_t i = 0; i < m->n; i++) {
			char *k = sl_arena_strndup(a, m->names[i],
			                           m->name_lens[i]);
			if (k == NULL ||
			    sl_str_copy(a, m->vals[i], m->val_lens[i],
			                &mm[i].val) != 0)
				return -1;
			mm[i].key = k;
			mm[i].key_len = (uint32_t)m->name_lens[i];
		}
		v = sl_object_ref(mm, m->n);
	}
	return sl_emit(out, v);
}

/** A free slot, or NULL (every slot was dropped: the run ends). */
static struct stream_poll *
free_slot(struct stream_ext *x)
{
	for (uint32_t i = 0; i < x->window; i++)
		if (x->slots[i].state == POLL_FREE)
			return &x->slots[i];
	return NULL;
}

/** Connect the connector (sl_step_ops.start). */
static int
stream_start(struct sl_step *s)
{
	struct stream_ext *x = (struct stream_ext *)s;
	x->task = sl_task_current();
	if (x->cops->start(x->conn) != 0)
		return -1;
	x->started = true;
	return 0;
}

/**
 * Poll until stop_when_idle (or a stop): records, a mark after each
 * poll, acknowledgements of the marks that got through (sl_step_ops.drain).
 */
static int
stream_drain(struct sl_step *s, struct sl_emit *out)
{
	struct stream_ext *x = (struct stream_ext *)s;
	double last = sl_clock();
	for (;;) {
		if (send_acks(x) != 0)
			return -1;
		if (wait_in_flight(x, x->window, SL_FOREVER) != 0)
			return -1;
		if (send_acks(x) != 0)
			return -1;
		struct stream_poll *p = free_slot(x);
		if (p == NULL) {
			sl_diag_set(SL_EDROPPED, "the pipeline stopped");
			return -1;
		}
		double block = x->poll_timeout;
		if (x->stop_when_idle > 0) {
			double left = x->stop_when_idle - (sl_clock() - last);
			if (left <= 0)
				return 0;
			if (left < block)
				block = left;
		}
		if (x->in_flight > 0)
			block = 0;
		x->out = out;
		int n = x->cops->poll(x->conn, p, block, on_msg, x);
		x->out = NULL;
		if (n < 0) {
			if (sl_diag_code() != SL_ECANCELLED &&
			    sl_diag_code() != SL_EDROPPED)
				sl_diag_wrap(sl_diag_code(), "%s",
				             x->base.name);
			return -1;
		}
		if (p->n_tokens > 0) {
			p->state = POLL_SENT;
			x->in_flight++;
			if (sl_emit_mark(out, &p->mark) != 0)
				return -1;
		}
		if (n > 0) {
			last = sl_clock();
			x->flushed = false;
			continue;
		}
		if (x->in_flight > 0) {
			/* Nothing new: let what is out settle, so that it is
			 * acknowledged before the next poll blocks. */
			if (!x->flushed) {
				x->flushed = true;
				if (sl_emit_flush(out) != 0)
					return -1;
			}
			if (wait_in_flight(x, 1, x->poll_timeout) != 0)
				return -1;
		} else if (!x->flushed) {
			x->flushed = true;
			if (sl_emit_flush(out) != 0)
				return -1;
		}
	}
}

/**
 * Let the marks on their way get through or drop, acknowledge what got
 * through, disconnect (sl_step_ops.finish).
 */
static int
stream_finish(struct sl_step *s)
{
	struct stream_ext *x = (struct stream_ext *)s;
	int rc = 0;
	if (x->started) {
		/* The marks on their way get through or are dropped; then
		 * acknowledge what got through. */
		if (wait_in_flight(x, 1, SL_FOREVER) != 0)
			sl_diag_clear(sl_diag_get());
		rc = send_acks(x);
		if (rc == 0)
			rc = x->cops->sync(x->conn);
		if (rc == 0)
			sl_log_info("%s: %llu messages acknowledged",
			            x->base.name, (unsigned long long)x->acked);
	}
	x->cops->stop(x->conn);
	x->task = NULL;
	return rc;
}

/** Free the extractor (sl_step_ops.destroy). */
static void
stream_destroy(struct sl_step *s)
{
	struct stream_ext *x = (struct stream_ext *)s;
	if (x->conn != NULL)
		x->cops->destroy(x->conn);
	for (uint32_t i = 0; i < WINDOW_MAX; i++) {
		sl_free(x->slots[i].tokens);
		sl_arena_destroy(&x->slots[i].arena);
	}
	sl_free(x);
}

/** The extractor's callbacks. */
static const struct sl_step_ops stream_ops = {
        .type = "StreamExtractor",
        .start = stream_start,
        .drain = stream_drain,
        .finish = stream_finish,
        .destroy = stream_destroy,
};

/** The connectors there are. */
static const struct stream_connector *const connectors[] = {
        &sl_stream_redis,
};

/** The extractor's own argument names. */
static const char *const own_keys[] = {
        "connector",      "record_format",     "field",    "poll_timeout",
        "stop_when_idle", "max_unacked_polls", "on_error", NULL};

/** Fail unless every argument is the extractor's or the connector's. */
static int
check_keys(const struct sl_stepdef *def, const struct stream_connector *c)
{
	const char *known[64];
	size_t n = 0;
	for (size_t i = 0; own_keys[i] != NULL; i++)
		known[n++] = own_keys[i];
	for (size_t i = 0; c->keys[i] != NULL && n + 1 < 64; i++)
		known[n++] = c->keys[i];
	known[n] = NULL;
	return sl_args_check(def, known);
}

/** Build a StreamExtractor. */
static struct sl_step *
stream_create(const struct sl_stepdef *def)
{
	const char *conn, *format, *field, *on_error;
	int64_t window;
	const struct sl_conf *where =
	        def->arguments != NULL ? def->arguments : def->node;
	if (sl_args_str(def, "connector", NULL, &conn) != 0)
		return NULL;
	if (conn == NULL) {
		sl_conf_error(where, "connector",
		              "a StreamExtractor needs a connector (redis)");
		return NULL;
	}
	const struct stream_connector *c = NULL;
	for (size_t i = 0; i < sizeof(connectors) / sizeof(connectors[0]); i++)
		if (strcmp(connectors[i]->name, conn) == 0)
			c = connectors[i];
	if (c == NULL) {
		sl_conf_error(sl_args_get(def, "connector"), "connector",
		              "'%s' is not a connector sluice has (redis; "
		              "kafka is not built, see docs/streams.md)",
		              conn);
		return NULL;
	}
	if (check_keys(def, c) != 0 ||
	    sl_args_str(def, "record_format", "json", &format) != 0 ||
	    sl_args_str(def, "field", "data", &field) != 0 ||
	    sl_args_str(def, "on_error", "skip", &on_error) != 0 ||
	    sl_args_int(def, "max_unacked_polls", 8, &window) != 0)
		return NULL;
	if (strcmp(format, "json") != 0 && strcmp(format, "fields") != 0) {
		sl_conf_error(sl_args_get(def, "record_format"),
		              "record_format",
		              "expected json or fields, got '%s'", format);
		return NULL;
	}
	if (strcmp(on_error, "skip") != 0 && strcmp(on_error, "fail") != 0) {
		sl_conf_error(sl_args_get(def, "on_error"), "on_error",
		              "expected 'skip' or 'fail', got '%s'", on_error);
		return NULL;
	}
	if (window < 1 || window > WINDOW_MAX) {
		sl_conf_error(sl_args_get(def, "max_unacked_polls"),
		              "max_unacked_polls", "expected 1 to %d",
		              WINDOW_MAX);
		return NULL;
	}
	struct stream_ext *x = sl_calloc(1, sizeof(*x));
	if (x == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&x->base, &stream_ops);
	for (uint32_t i = 0; i < WINDOW_MAX; i++) {
		x->slots[i].mark = (struct sl_mark){poll_ack, poll_drop, NULL};
		x->slots[i].owner = x;
		sl_arena_create(&x->slots[i].arena, 16384, (size_t)64 << 20);
		/* A poll of 1000 entries takes about 64 KiB of IDs and
		 * origins: keep its chunks across resets. */
		sl_arena_set_keep(&x->slots[i].arena, (size_t)256 << 10);
	}
	x->cops = c;
	x->json = strcmp(format, "json") == 0;
	x->field_len = strlen(field);
	if (x->field_len >= sizeof(x->field)) {
		sl_conf_error(sl_args_get(def, "field"), "field",
		              "longer than %zu bytes", sizeof(x->field) - 1);
		goto fail;
	}
	memcpy(x->field, field, x->field_len + 1);
	x->skip_errors = strcmp(on_error, "skip") == 0 && !def->strict;
	x->window = (uint32_t)window;
	if (stream_args_seconds(def, "poll_timeout", 1, &x->poll_timeout) !=
	            0 ||
	    stream_args_seconds(def, "stop_when_idle", 0, &x->stop_when_idle) !=
	            0)
		goto fail;
	x->conn = c->create(def);
	if (x->conn == NULL)
		goto fail;
	return &x->base;
fail:
	stream_destroy(&x->base);
	return NULL;
}

/** Implementation names. */
static const char *const stream_names[] = {
        "stream", "nodestream.pipeline.extractors.streams:StreamExtractor",
        "nodestream.pipeline.extractors.streams.extractor:StreamExtractor",
        NULL};

/** Factories. */
static const char *const stream_factories[] = {"from_file_data", NULL};

const struct sl_step_type sl_builtin_stream = {
        .names = stream_names,
        .factories = stream_factories,
        .factory_optional = true,
        .create = stream_create,
        .summary = "consumes a stream (Redis Streams) with a consumer "
                   "group, acknowledging after the commit",
};
