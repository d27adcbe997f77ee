/*
 * Target program for tests/test_gdb.sh (tools/sluice-gdb.py).
 *
 * The task "probe" (id 1) spawns "sleeper" (id 2, in sl_sleep() under
 * sleeper_inner()), "receiver" (id 3, in sl_chan_recv() on an empty
 * channel) and "quick" (id 4, ends at once and stays unjoined), lets them
 * run, spawns "newborn" (id 5, never run yet) and calls
 * sl_gdb_probe_point(), where gdb stops. Then it cancels and reaps the
 * others, so the program exits 0 on its own when not under gdb.
 */
#include <stdio.h>

#include "sluice/chan.h"
#include "sluice/diag.h"
#include "sluice/task.h"

/** Where gdb breaks while every task is in its expected state. */
void sl_gdb_probe_point(void);

__attribute__((noinline)) void
sl_gdb_probe_point(void)
{
	__asm__ volatile("" ::: "memory");
}

/** Treat cancellation as a clean end: 0, or -1 for any other error. */
static int
end_of_cancelled(int rc)
{
	if (rc >= 0)
		return 0;
	if (sl_diag_code() != SL_ECANCELLED)
		return -1;
	sl_diag_clear(sl_diag_get());
	return 0;
}

/** The sleeper's wait, a frame of its own in the backtrace. */
__attribute__((noinline)) static int
sleeper_inner(double seconds)
{
	int rc = sl_sleep(seconds);
	/* Keeps the call above from becoming a tail call. */
	__asm__ volatile("" ::: "memory");
	return rc;
}

/** Body of "sleeper": sleeps a minute unless cancelled. */
static int
sleeper_main(void *arg)
{
	(void)arg;
	return end_of_cancelled(sleeper_inner(60));
}

/** Body of "receiver": waits for an item that never comes. */
static int
receiver_main(void *arg)
{
	void *item = NULL;
	int rc = sl_chan_recv(arg, &item, SL_FOREVER);
	return end_of_cancelled(rc);
}

/** Body of "quick" and "newborn": nothing to do. */
static int
quick_main(void *arg)
{
	(void)arg;
	return 0;
}

/** Reap `t` if it was spawned; fold its result into `*rc`. */
static void
reap(struct sl_task *t, int *rc)
{
	if (t != NULL && sl_task_reap(t) != 0)
		*rc = -1;
}

/** Body of "probe": sets the scene, stops in gdb, then cleans up. */
static int
probe_main(void *arg)
{
	(void)arg;
	struct sl_chan ch;
	if (sl_chan_create(&ch, 4) != 0)
		return -1;
	struct sl_loop *loop = sl_loop_current();
	struct sl_task *sleeper =
	        sl_task_spawn(loop, "sleeper", sleeper_main, NULL);
	struct sl_task *receiver =
	        sl_task_spawn(loop, "receiver", receiver_main, &ch);
	struct sl_task *quick = sl_task_spawn(loop, "quick", quick_main, NULL);
	int rc = sleeper != NULL && receiver != NULL && quick != NULL ? 0 : -1;
	if (rc == 0 && sl_task_yield() != 0)
		rc = -1;
	struct sl_task *newborn =
	        sl_task_spawn(loop, "newborn", quick_main, NULL);
	if (newborn == NULL)
		rc = -1;
	sl_gdb_probe_point();
	reap(sleeper, &rc);
	reap(receiver, &rc);
	reap(quick, &rc);
	reap(newborn, &rc);
	sl_chan_destroy(&ch);
	return rc;
}

int
main(void)
{
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL) {
		fprintf(stderr, "gdb_target: cannot create a loop\n");
		return 1;
	}
	int rc = sl_loop_run_main(loop, "probe", probe_main, NULL);
	if (rc != 0) {
		char msg[1024];
		sl_error_format(sl_diag_last(), msg, sizeof(msg));
		fprintf(stderr, "gdb_target: %s\n", msg);
	}
	sl_diag_clear(sl_diag_get());
	sl_loop_delete(loop);
	printf("gdb_target: %s\n", rc == 0 ? "done" : "failed");
	return rc == 0 ? 0 : 1;
}
