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

void
sl_step_error(struct sl_step *s, const char *what)
{
	s->stats.errors++;
	if (s->stats.errors <= ERRORS_LOGGED) {
		char msg[1024];
		current_message(msg, sizeof(msg), "unknown error");
		sl_log_error("step %s: %s%s%s", s->name, what ? what : "",
		             what ? ": " : "", msg);
		if (s->stats.errors == ERRORS_LOGGED)
			sl_log_error("step %s: further errors are only "
			             "counted",
			             s->name);
	}
	sl_diag_clear(sl_diag_get());
}

void
sl_step_skip(struct sl_step *s)
{
	char msg[1024];
	current_message(msg, sizeof(msg), "record skipped");
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
	sl_diag_clear(sl_diag_get());
}
