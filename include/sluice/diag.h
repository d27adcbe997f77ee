/*
 * sluice: structured errors ("diag").
 *
 * A failing function returns -1 (or NULL) and records an error in the
 * current diagnostics area: the running task's, or the thread's own when no
 * task runs. The runtime swaps a thread-local pointer to the area on every
 * task switch. Callers propagate -1 without printing; the top level
 * reports. sl_diag_wrap() adds context, keeping the previous error as its
 * cause. Joining a task moves its error into the joiner's diag, and
 * sl_loop_run_main() leaves the main task's error in the caller's.
 *
 * When an error object cannot be allocated, one static, read-only
 * "out of memory" error stands in (wrapping keeps the original error
 * instead). It is process-wide, not per thread, because an error raised on
 * a worker thread is freed on the loop thread.
 */
#ifndef SLUICE_DIAG_H
#define SLUICE_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes. Keep sl_errcode_name() in step. */
enum sl_errcode {
	SL_EOK = 0,       /**< no error */
	SL_EOOM,          /**< an allocation failed */
	SL_ELIMIT,        /**< a hard cap was reached */
	SL_EINVAL,        /**< an argument or input was invalid */
	SL_ESYSTEM,       /**< a system call failed (see saved_errno) */
	SL_ECANCELLED,    /**< the task was cancelled */
	SL_ETIMEDOUT,     /**< a wait ran out of time */
	SL_ECLOSED,       /**< the channel was closed for sending */
	SL_EDROPPED,      /**< the channel's consumer stopped */
	SL_EABORTED,      /**< the channel was closed by force */
	SL_EBUSY,         /**< the object is already in use by another task */
	SL_EDEADLOCK,     /**< every task is blocked and nothing can wake one */
	SL_EIO,           /**< an input or output error */
	SL_EPARSE,        /**< malformed input */
	SL_EDB,           /**< a database reported an error */
	SL_ERRCODE_COUNT, /**< number of codes, not a code */
};

/** Longest message kept in an error, including the terminator. */
#define SL_ERROR_MSG_MAX 512

/** One error. A chain of causes hangs off `cause`. */
struct sl_error {
	/** What kind of failure this is. */
	enum sl_errcode code;
	/** errno at the time of the failure, or 0. */
	int saved_errno;
	/** Source file that raised the error (a string literal). */
	const char *file;
	/** Source line that raised the error. */
	int line;
	/** Human-readable message. */
	char msg[SL_ERROR_MSG_MAX];
	/** The error that caused this one, owned by this error, or NULL. */
	struct sl_error *cause;
};

/** A diagnostics area: holds at most one error (with its causes). */
struct sl_diag {
	/** The last error, owned by the area, or NULL. */
	struct sl_error *last;
};

/** Free error `e` and its causes (NULL is a no-op). */
void sl_error_free(struct sl_error *e);

/**
 * Initialise an empty diagnostics area. Inline, like the three below: the
 * database paths move a diagnostics area several times per statement.
 */
static inline void
sl_diag_create(struct sl_diag *d)
{
	d->last = NULL;
}

/** Drop the error held by `d`. */
static inline void
sl_diag_clear(struct sl_diag *d)
{
	if (d->last != NULL) {
		sl_error_free(d->last);
		d->last = NULL;
	}
}

/** Free the error held by `d`, if any. */
static inline void
sl_diag_destroy(struct sl_diag *d)
{
	sl_diag_clear(d);
}

/** Move the error from `from` into `to`, replacing what `to` held. */
static inline void
sl_diag_move(struct sl_diag *from, struct sl_diag *to)
{
	if (from == to)
		return;
	sl_diag_clear(to);
	to->last = from->last;
	from->last = NULL;
}

/** The current diagnostics area (running task's, else the thread's). */
struct sl_diag *sl_diag_get(void);

/**
 * Set the current error aside in `keep` (created here), so that cleanup
 * which may fail cannot replace it; sl_diag_restore() puts it back.
 */
static inline void
sl_diag_stash(struct sl_diag *keep)
{
	sl_diag_create(keep);
	sl_diag_move(sl_diag_get(), keep);
}

/**
 * Make the error stashed in `keep` current again (dropping any error the
 * cleanup raised) and destroy `keep`.
 */
static inline void
sl_diag_restore(struct sl_diag *keep)
{
	sl_diag_move(keep, sl_diag_get());
	sl_diag_destroy(keep);
}

/**
 * Make `d` the current diagnostics area and return the previous one. Used
 * by the runtime on every task switch and by worker threads; NULL restores
 * the thread's own area.
 */
struct sl_diag *sl_diag_swap(struct sl_diag *d);

/** The current error, or NULL. */
static inline struct sl_error *
sl_diag_last(void)
{
	return sl_diag_get()->last;
}

/** The code of the current error, or SL_EOK. */
static inline enum sl_errcode
sl_diag_code(void)
{
	struct sl_error *e = sl_diag_last();
	return e != NULL ? e->code : SL_EOK;
}

/**
 * Record an error in the current diag, replacing what it held. Prefer the
 * sl_diag_set() macro, which fills in file and line.
 */
void sl_diag_raise(const char *file, int line, enum sl_errcode code,
                   int saved_errno, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/**
 * Record an error whose cause is the error the current diag holds. Used to
 * add context while propagating ("reading x.csv: <cause>").
 */
void sl_diag_wrap_at(const char *file, int line, enum sl_errcode code,
                     const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/** Set the current error. */
#define sl_diag_set(code, ...) \
	sl_diag_raise(__FILE__, __LINE__, (code), 0, __VA_ARGS__)

/** Set the current error from errno (the message gets strerror appended). */
#define sl_diag_set_errno(...) \
	sl_diag_raise(__FILE__, __LINE__, SL_ESYSTEM, errno, __VA_ARGS__)

/** Wrap the current error in a new one with context. */
#define sl_diag_wrap(code, ...) \
	sl_diag_wrap_at(__FILE__, __LINE__, (code), __VA_ARGS__)

/** The symbolic name of a code, e.g. "ETIMEDOUT". */
const char *sl_errcode_name(enum sl_errcode code);

/**
 * Format an error and its causes into `buf` as "msg: cause: cause".
 * Returns the length it would have had (snprintf-style).
 */
size_t sl_error_format(const struct sl_error *e, char *buf, size_t size);

/** Number of errors in the chain starting at `e`. */
int sl_error_depth(const struct sl_error *e);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_DIAG_H */
