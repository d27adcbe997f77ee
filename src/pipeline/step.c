/*
 * sluice: the common part of steps: names, counters, error reporting.
 */
#include "sluice/step.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/log.h"

/** Non-fatal errors (and skips) logged per step; later ones are counted. */
#define ERRORS_LOGGED 100

void
sl_step_init(struct sl_step *s, const struct sl_step_ops *ops)
{
	assert(ops != NULL && ops->type != NULL && ops->destroy != NULL);
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	snprintf(s->name, sizeof(s->name), "%s", ops->type);
}

void
sl_step_delete(struct sl_step *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < SL_STEP_SKIPS_KEPT; i++)
		sl_free(s->stats.skips[i]);
	s->ops->destroy(s);
}

/** The current error as one line, or `fallback` if there is none. */
static void
current_message(char *buf, size_t size, const char *fallback)
{
	struct sl_error *e = sl_diag_last();
	if (e == NULL)
		snprintf(buf, size, "%s", fallback);
	else
		sl_error_format(e, buf, size);
}

/** Where this thread's skips and errors go instead, or NULL. */
static _Thread_local struct sl_step_events *captured;

void
sl_step_events_capture(struct sl_step_events *ev)
{
	captured = ev;
}

void
sl_step_events_destroy(struct sl_step_events *ev)
{
	sl_free(ev->data);
	memset(ev, 0, sizeof(*ev));
}

/** Keep an event of `kind` ('s' or 'e') with message `msg` in `ev`. */
static void
events_add(struct sl_step_events *ev, char kind, const char *msg)
{
	size_t n = strlen(msg) + 2;
	if (ev->len + n > ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 4096;
		while (cap < ev->len + n)
			cap *= 2;
		char *d = cap <= SL_STEP_EVENTS_MAX ? sl_realloc(ev->data, cap)
		                                    : NULL;
		if (d == NULL) {
			ev->lost[kind == 's' ? 0 : kind == 'b' ? 1 : 2]++;
			return;
		}
		ev->data = d;
		ev->cap = cap;
	}
	ev->data[ev->len] = kind;
	memcpy(ev->data + ev->len + 1, msg, n - 1);
	ev->len += n;
}

/** Count and log an error of `s` whose message is `msg`. */
static void
error_msg(struct sl_step *s, const char *msg)
{
	s->stats.errors++;
	if (s->stats.errors <= ERRORS_LOGGED) {
		sl_log_error("step %s: %s", s->name, msg);
		if (s->stats.errors == ERRORS_LOGGED)
			sl_log_error("step %s: further errors are only "
			             "counted",
			             s->name);
	}
}

/** Count, keep and log a skip of `s` whose message is `msg`. */
static void
skip_msg(struct sl_step *s, const char *msg)
{
	if (s->stats.skipped < SL_STEP_SKIPS_KEPT) {
		size_t n = strlen(msg) + 1;
		char *copy = sl_malloc(n);
		/* Without memory the record is still counted, just not named.
		 */
		if (copy != NULL)
			memcpy(copy, msg, n);
		s->stats.skips[s->stats.skipped] = copy;
	}
	s->stats.skipped++;
	if (s->stats.skipped <= ERRORS_LOGGED)
		sl_log_warn("step %s: skipped: %s", s->name, msg);
}

void
sl_step_error(struct sl_step *s, const char *what)
{
	char msg[1024], line[1100];
	current_message(msg, sizeof(msg), "unknown error");
	snprintf(line, sizeof(line), "%s%s%s", what ? what : "",
	         what ? ": " : "", msg);
	if (captured != NULL)
		events_add(captured, 'e', line);
	else
		error_msg(s, line);
	sl_diag_clear(sl_diag_get());
}

/** sl_step_skip(), also counting an error with `bad`. */
static void
step_skip(struct sl_step *s, bool bad)
{
	char msg[1024];
	current_message(msg, sizeof(msg), "record skipped");
	if (captured != NULL) {
		events_add(captured, bad ? 'b' : 's', msg);
	} else {
		if (bad)
			s->stats.errors++;
		skip_msg(s, msg);
	}
	sl_diag_clear(sl_diag_get());
}

void
sl_step_skip(struct sl_step *s)
{
	step_skip(s, false);
}

void
sl_step_skip_error(struct sl_step *s)
{
	step_skip(s, true);
}

void
sl_step_events_replay(struct sl_step *s, struct sl_step_events *ev)
{
	for (size_t at = 0; at < ev->len;) {
		const char *msg = ev->data + at + 1;
		if (ev->data[at] == 'e') {
			error_msg(s, msg);
		} else {
			if (ev->data[at] == 'b')
				s->stats.errors++;
			skip_msg(s, msg);
		}
		at += strlen(msg) + 2;
	}
	static const char lost[] = "(its message was lost: too many "
	                           "messages for memory)";
	for (uint64_t i = 0; i < ev->lost[0] + ev->lost[1]; i++) {
		if (i >= ev->lost[0])
			s->stats.errors++;
		skip_msg(s, lost);
	}
	for (uint64_t i = 0; i < ev->lost[2]; i++)
		error_msg(s, lost);
	ev->len = 0;
	memset(ev->lost, 0, sizeof(ev->lost));
}
