/*
 * Errors: codes, messages, file:line, cause chains, moves, OOM.
 */
#include <errno.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "unit.h"

/** Fails like a low-level function would. */
static int
open_thing(void)
{
	errno = ENOENT;
	sl_diag_set_errno("cannot open '%s'", "x.csv");
	return -1;
}

/** Adds context on the way up. */
static int
load_thing(void)
{
	if (open_thing() != 0) {
		sl_diag_wrap(SL_EIO, "loading pipeline %s", "p1");
		return -1;
	}
	return 0;
}

/** Errors: setting, wrapping, formatting and moving diagnostics areas. */
TAP_CASE(diag)
{
	ok(sl_diag_last() == NULL, "a fresh thread has no error");
	is_int(sl_diag_code(), SL_EOK, "code is OK without an error");

	sl_diag_set(SL_EINVAL, "bad value %d", 42);
	struct sl_error *e = sl_diag_last();
	ok(e != NULL, "set records an error");
	is_int(e->code, SL_EINVAL, "with its code");
	is_str(e->msg, "bad value 42", "and its formatted message");
	ok(strstr(e->file, "test_diag.c") != NULL && e->line > 0,
	   "and the file:line that raised it (%s:%d)", e->file, e->line);

	is_int(load_thing(), -1, "propagation returns -1");
	e = sl_diag_last();
	is_int(sl_error_depth(e), 2, "wrap builds a chain of two");
	is_int(e->code, SL_EIO, "outer error has the wrapping code");
	is_int(e->cause->code, SL_ESYSTEM, "cause is the system error");
	is_int(e->cause->saved_errno, ENOENT, "cause keeps errno");
	char buf[256];
	size_t n = sl_error_format(e, buf, sizeof(buf));
	is_str(buf,
	       "loading pipeline p1: cannot open 'x.csv': No such file "
	       "or directory",
	       "format joins the chain");
	is_int(n, strlen(buf), "format returns the length");
	char tiny[8];
	size_t full = sl_error_format(e, tiny, sizeof(tiny));
	ok(full == n && strlen(tiny) == 7, "format truncates safely and "
	                                   "reports the full length");

	struct sl_diag other;
	sl_diag_create(&other);
	sl_diag_move(sl_diag_get(), &other);
	ok(sl_diag_last() == NULL && other.last == e, "move transfers the "
	                                              "chain");
	struct sl_diag *prev = sl_diag_swap(&other);
	ok(sl_diag_last() == e, "swap makes another area current");
	sl_diag_swap(prev);
	ok(sl_diag_last() == NULL, "swap back restores the thread's area");
	sl_diag_destroy(&other);

	sl_diag_set(SL_EPARSE, "first");
	sl_diag_set(SL_EDB, "second");
	is_int(sl_error_depth(sl_diag_last()), 1, "set replaces, not chains");
	is_str(sl_errcode_name(SL_ETIMEDOUT), "ETIMEDOUT", "code names");
	is_str(sl_errcode_name((enum sl_errcode)999), "EUNKNOWN",
	       "unknown code name");

	char longmsg[2 * SL_ERROR_MSG_MAX];
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	sl_diag_set(SL_EINVAL, "%s", longmsg);
	is_int(strlen(sl_diag_last()->msg), SL_ERROR_MSG_MAX - 1,
	       "long messages are cut at the cap");

	/* Out of memory while recording: a static stand-in is used. */
	sl_alloc_fail_after(0);
	sl_diag_set(SL_EINVAL, "cannot be allocated");
	sl_alloc_fail_after(-1);
	is_int(sl_diag_code(), SL_EOOM, "OOM while recording gives EOOM");
	sl_diag_set(SL_EIO, "original");
	sl_alloc_fail_after(0);
	sl_diag_wrap(SL_EINVAL, "context");
	sl_alloc_fail_after(-1);
	is_str(sl_diag_last()->msg, "original",
	       "OOM while wrapping keeps the original error");
	sl_diag_clear(sl_diag_get());
	ok(sl_diag_last() == NULL, "clear empties the area");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
