/*
 * The TAP harness (tap.h) plus checks on sluice errors, for tests linked
 * with sluice_core.
 */
#ifndef SLUICE_TESTS_UNIT_H
#define SLUICE_TESTS_UNIT_H

#include "sluice/diag.h"
#include "sluice/task.h"
#include "tap.h"

/** Check that the current error has code `code`. */
#define is_err(want_code, ...)                                               \
	do {                                                                 \
		struct sl_error *e_ = sl_diag_last();                        \
		if (!ok(e_ != NULL && e_->code == (want_code), __VA_ARGS__)) \
			printf("#   error is %s: %s\n",                      \
			       e_ ? sl_errcode_name(e_->code) : "none",      \
			       e_ ? e_->msg : "");                           \
	} while (0)

/** The current error message, or "". */
static inline const char *
unit_errmsg(void)
{
	struct sl_error *e = sl_diag_last();
	return e != NULL ? e->msg : "";
}

/**
 * Run `fn(arg)` as task `name` on a fresh loop until every task ended;
 * returns its result (-2 if the loop could not be made).
 */
static inline int
run_task(const char *name, sl_task_fn fn, void *arg)
{
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL)
		return -2;
	int rc = sl_loop_run_main(loop, name, fn, arg);
	sl_loop_delete(loop);
	return rc;
}

/**
 * TAP_TASK_CASE(name) { ... }: a case (see TAP_CASE) whose body runs as a
 * task on a fresh loop, for code that waits (database jobs, channels).
 */
#define TAP_TASK_CASE(name)                                            \
	static void name##_body(void);                                 \
	/** Run the case's body as a task. */                          \
	static int name##_task(void *arg)                              \
	{                                                              \
		(void)arg;                                             \
		name##_body();                                         \
		return 0;                                              \
	}                                                              \
	TAP_CASE(name)                                                 \
	{                                                              \
		if (run_task(#name, name##_task, NULL) != 0)           \
			bail_out("the task of case " #name " failed"); \
	}                                                              \
	static void name##_body(void)

#endif /* SLUICE_TESTS_UNIT_H */
