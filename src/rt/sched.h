/*
 * Scheduler internals shared by the runtime's modules (io, chan).
 */
#ifndef SLUICE_RT_SCHED_H
#define SLUICE_RT_SCHED_H

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

#endif /* SLUICE_RT_SCHED_H */
