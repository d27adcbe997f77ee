/*
 * Scheduler internals shared by the runtime's modules (io, chan).
 */
#ifndef SLUICE_RT_SCHED_H
#define SLUICE_RT_SCHED_H

#include <stdbool.h>
#include <uv.h>

#include "sluice/task.h"

/** The libuv loop under a sluice loop. */
uv_loop_t *sl_rt_uv(struct sl_loop *loop);

/**
 * sl_task_wait() with a description of what is awaited, used in error
 * messages, deadlock reports and the gdb helper ("channel recv", "fd 7").
 * Must be called from a task.
 */
int sl_rt_wait(double timeout, const char *what);

/**
 * A wait that only ends on sl_task_wakeup() (cancellation wakes it but is
 * reported as a spurious wakeup: returns 0). Returns -1 only on deadlock.
 */
int sl_rt_wait_uncancellable(const char *what);

/** Whether the calling code runs inside a task; sets SL_EINVAL if not. */
int sl_rt_check_in_task(const char *op);

/**
 * Seconds left until `deadline` (an sl_clock() time) for a wait of
 * `timeout`; SL_FOREVER stays so. Always positive, so that a wait whose time
 * is up still polls once before it fails.
 */
double sl_rt_time_left(double timeout, double deadline);

/**
 * The loop's HTTP state (src/rt/http.c: one curl multi handle per loop),
 * NULL until the loop's first transfer. Owned by http.c.
 */
void **sl_rt_http_slot(struct sl_loop *loop);

/**
 * Release the loop's HTTP state, if any: the multi handle, its cached
 * connections and its libuv handles (their closes finish in
 * sl_loop_delete()). Called by sl_loop_delete() before it closes libuv.
 */
void sl_rt_http_loop_end(struct sl_loop *loop);

/**
 * Work the loop thread does, one piece a call, when no task is ready and
 * it would otherwise wait for events: `fn(arg)` returns whether it did
 * some (then the loop polls without waiting and looks again). One per
 * loop; NULL `fn` removes it. Used by sl_worker_help().
 */
void sl_rt_loop_set_idle_work(struct sl_loop *loop, bool (*fn)(void *arg),
                              void *arg);

#endif /* SLUICE_RT_SCHED_H */
