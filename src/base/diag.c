/*
 * Per-task diagnostics areas and error chains.
 */
#include "sluice/diag.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"

/** The thread's own area, used when no task is running. */
static _Thread_local struct sl_diag thread_diag;
/** The current area; NULL means thread_diag. */
static _Thread_local struct sl_diag *current_diag;

/**
 * Stand-in used when even the error object cannot be allocated; it is
 * never freed, never gets a cause and is never written, so one object
 * serves every thread (an error raised on a worker thread may be freed by
 * the loop thread it moved to).
 */
static struct sl_error oom_error = {
        .code = SL_EOOM,
        .msg = "out of memory (while recording an error)",
};

static const char *const code_names[SL_ERRCODE_COUNT] = {
        [SL_EOK] = "OK",
        [SL_EOOM] = "EOOM",
        [SL_ELIMIT] = "ELIMIT",
        [SL_EINVAL] = "EINVAL",
        [SL_ESYSTEM] = "ESYSTEM",
        [SL_ECANCELLED] = "ECANCELLED",
        [SL_ETIMEDOUT] = "ETIMEDOUT",
        [SL_ECLOSED] = "ECLOSED",
        [SL_EDROPPED] = "EDROPPED",
        [SL_EABORTED] = "EABORTED",
        [SL_EBUSY] = "EBUSY",
        [SL_EDEADLOCK] = "EDEADLOCK",
        [SL_EIO] = "EIO",
        [SL_EPARSE] = "EPARSE",
        [SL_EDB] = "EDB",
};

const char *
sl_errcode_name(enum sl_errcode code)
{
	if ((unsigned)code >= SL_ERRCODE_COUNT || code_names[code] == NULL)
		return "EUNKNOWN";
	return code_names[code];
}

void
sl_error_free(struct sl_error *e)
{
	while (e != NULL) {
		struct sl_error *cause = e->cause;
		if (e != &oom_error)
			sl_free(e);
		e = cause;
	}
}

struct sl_diag *
sl_diag_get(void)
{
	return current_diag != NULL ? current_diag : &thread_diag;
}

struct sl_diag *
sl_diag_swap(struct sl_diag *d)
{
	struct sl_diag *prev = current_diag;
	current_diag = d;
	return prev;
}

/** A new error object, or the static OOM stand-in. */
static struct sl_error *
error_new(const char *file, int line, enum sl_errcode code, int saved_errno,
          const char *fmt, va_list ap)
{
	struct sl_error *e = sl_malloc(sizeof(*e));
	if (e == NULL)
		return &oom_error;
	e->code = code;
	e->saved_errno = saved_errno;
	e->file = file;
	e->line = line;
	e->cause = NULL;
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (saved_errno != 0 && n >= 0 && (size_t)n < sizeof(e->msg)) {
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s",
		         strerror(saved_errno));
	}
	return e;
}

void
sl_diag_raise(const char *file, int line, enum sl_errcode code, int saved_errno,
              const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct sl_error *e = error_new(file, line, code, saved_errno, fmt, ap);
	va_end(ap);
	struct sl_diag *d = sl_diag_get();
	sl_diag_clear(d);
	d->last = e;
}

void
sl_diag_wrap_at(const char *file, int line, enum sl_errcode code,
                const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct sl_error *e = error_new(file, line, code, 0, fmt, ap);
	va_end(ap);
	struct sl_diag *d = sl_diag_get();
	if (e == &oom_error) {
		/* Keep the original error: it says more than "no memory". */
		if (d->last == NULL)
			d->last = e;
		return;
	}
	e->cause = d->last;
	d->last = e;
}

size_t
sl_error_format(const struct sl_error *e, char *buf, size_t size)
{
	size_t len = 0;
	for (; e != NULL; e = e->cause) {
		int n = snprintf(len < size ? buf + len : NULL,
		                 len < size ? size - len : 0, "%s%s",
		                 len > 0 ? ": " : "", e->msg);
		if (n > 0)
			len += (size_t)n;
	}
	if (size > 0 && len == 0)
		buf[0] = '\0';
	return len;
}

int
sl_error_depth(const struct sl_error *e)
{
	int n = 0;
	for (; e != NULL; e = e->cause)
		n++;
	return n;
}
