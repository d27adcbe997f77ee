/*
 * sluice: the event loop and tasks (stackful coroutines).
 *
 * One loop per thread, driven by libuv. Tasks run on their own mmap'd
 * stacks with a guard page and switch cooperatively: a wait (sleep, fd,
 * channel, join, offload) yields the task instead of blocking the thread,
 * so I/O code reads as straight-line code.
 *
 * Scheduling: woken tasks are appended to the loop's ready list. The
 * scheduler (a pseudo-task on the thread's own stack) takes the whole list
 * as a batch and switches to its first task; each task that suspends
 * switches straight to the next one of the batch, and the last returns to
 * the scheduler. Tasks woken meanwhile run in the next batch, so none
 * starves. Between batches libuv is polled: blocking when nothing is
 * ready, otherwise without blocking every 64 batches. A task woken from a
 * libuv callback stops that poll (uv_stop()), so a wake from a timer
 * callback, which libuv runs before it polls, is not held until the next
 * event.
 *
 * Deadlock detection: when no task is ready and libuv holds nothing that
 * could wake one (no timer, polled fd, awaited signal or thread work),
 * every waiting task is woken with SL_EDEADLOCK and sl_loop_run() returns
 * -1. A pipeline bug ends in an error naming what each task waited for,
 * never in a hang.
 *
 * Every wait goes through one primitive: the task records what it waits
 * for (shown in errors and by tools/sluice-gdb.py), optionally enters the
 * timer heap, and switches away; the wake reason (signal, timeout,
 * cancellation, deadlock) becomes the wait's result. Timers are a binary
 * min-heap of tasks ordered by (deadline, insertion number) with one
 * uv_timer armed for the earliest, so 10,000 sleeping tasks cost one libuv
 * handle and equal deadlines wake in FIFO order. A timeout becomes an
 * absolute deadline once (uv_hrtime); sl_sleep_until() takes an absolute
 * time so periodic work does not drift. The uv_timer may fire early (its
 * clock is coarse): only tasks whose deadline has passed are woken.
 *
 * A spawned task is joinable and must be joined, reaped or detached:
 * sl_task_join() moves its error to the joiner; sl_task_reap() cancels it
 * and waits for its end; sl_task_detach() frees it when it ends and logs
 * its error if it failed. Stack overflow: a SIGSEGV handler on an
 * alternate stack recognises a fault in the running task's guard page,
 * prints the task's name and stack size, and lets the signal kill the
 * process (src/rt/stack.h).
 *
 * Cancellation is cooperative: sl_task_cancel() sets a flag and wakes the
 * task; from then on every wait fails with SL_ECANCELLED. The one exception
 * is sl_task_reap(), meant for cleanup, which always waits to the end.
 */
#ifndef SLUICE_TASK_H
#define SLUICE_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/list.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Timeout value meaning "wait as long as it takes". */
#define SL_FOREVER (-1.0)

/** Default task stack size in bytes (overridable at build time). */
#ifndef SL_TASK_STACK_DEFAULT
#define SL_TASK_STACK_DEFAULT (256 * 1024)
#endif

/** Smallest stack a task may ask for. */
#define SL_TASK_STACK_MIN (16 * 1024)

/** Largest stack a task may ask for. */
#define SL_TASK_STACK_MAX ((size_t)1 << 30)

/** Longest task name kept, including the terminator. */
#define SL_TASK_NAME_MAX 64

struct sl_loop;
struct sl_task;

/** A task body: returns 0, or -1 with an error in its diag. */
typedef int (*sl_task_fn)(void *arg);

/** Where a task is in its life. */
enum sl_task_state {
	SL_TASK_READY = 0, /**< runnable, waiting for its turn */
	SL_TASK_RUNNING,   /**< on the CPU now */
	SL_TASK_WAITING,   /**< suspended in a wait */
	SL_TASK_DEAD,      /**< finished; holds its result until joined */
};

/** Loop options; fill with sl_loop_opts_init() and override fields. */
struct sl_loop_opts {
	/** Default stack size for tasks, in bytes (rounded up to pages). */
	size_t stack_size;
	/**
	 * Hard cap on the freed default-size stacks kept mapped for reuse in
	 * slabs with no stack in use (a slab holds 32, so whole slabs count;
	 * a slab with a stack in use always keeps its free ones). Within it the
	 * loop keeps as many as the peak of live tasks over the last two
	 * `stack_cache_decay` intervals needs; each kept stack holds at most
	 * its top 16 KiB resident once trimmed (at most 256 stacks wait for
	 * their trim). Default 16384 (at most 256 MiB resident, plus page
	 * tables, plus the 256 untrimmed stacks); 0 unmaps every slab as
	 * soon as it is empty.
	 */
	size_t stack_cache;
	/**
	 * Seconds per interval of the stack cache's decay (default 2; 0
	 * means the default, and less than 0.001 counts as 0.001): free stacks
	 * that neither this interval nor the one before needed go back to the
	 * system, so memory returns 2 to 3 intervals after a burst of tasks.
	 */
	double stack_cache_decay;
};

/** Fill `o` with the defaults. */
void sl_loop_opts_init(struct sl_loop_opts *o);

/**
 * Create a loop for this thread (one per thread). `opts` may be NULL.
 * Returns NULL with an error in the diag.
 */
struct sl_loop *sl_loop_new(const struct sl_loop_opts *opts);

/**
 * Destroy the loop. Every task must have ended (sl_loop_run() returned);
 * joinable tasks that ended but were never joined are freed.
 */
void sl_loop_delete(struct sl_loop *loop);

/** The loop of the calling thread, or NULL. */
struct sl_loop *sl_loop_current(void);

/**
 * Run until no task is alive. Returns 0, or -1 with SL_EDEADLOCK when the
 * loop found every live task blocked with nothing left that could wake one;
 * those tasks' waits then failed with SL_EDEADLOCK so that they could end.
 */
int sl_loop_run(struct sl_loop *loop);

/**
 * Spawn `fn(arg)` as task `name`, run the loop until every task ended, and
 * return the task's result. On failure its error is in the caller's diag.
 */
int sl_loop_run_main(struct sl_loop *loop, const char *name, sl_task_fn fn,
                     void *arg);

/** Number of live (not dead) tasks on the loop. */
size_t sl_loop_task_count(const struct sl_loop *loop);

/** Task options for sl_task_spawn_opts(). */
struct sl_task_opts {
	/** Stack size in bytes; 0 means the loop's default. */
	size_t stack_size;
};

/**
 * Create a task that will run `fn(arg)`; it becomes ready at once and runs
 * when the current task yields. The task is joinable: call sl_task_join(),
 * sl_task_reap() or sl_task_detach() on it exactly once. `name` is copied
 * (truncated to SL_TASK_NAME_MAX - 1 bytes). Returns NULL with an error.
 */
struct sl_task *sl_task_spawn(struct sl_loop *loop, const char *name,
                              sl_task_fn fn, void *arg);

/** sl_task_spawn() with options (`opts` may be NULL). */
struct sl_task *sl_task_spawn_opts(struct sl_loop *loop, const char *name,
                                   sl_task_fn fn, void *arg,
                                   const struct sl_task_opts *opts);

/**
 * Wait for `t` to end, free it and return its result; a failed task's error
 * moves into the caller's diag. Must be called from a task. If the caller is
 * cancelled (or already was) it returns -1 with SL_ECANCELLED and `t` stays
 * joinable.
 */
int sl_task_join(struct sl_task *t);

/**
 * Cancel `t`, wait for it to end whatever happens to the caller, free it
 * and return its result (errors move as in sl_task_join()). This is the
 * cleanup form: it completes even in a cancelled task.
 */
int sl_task_reap(struct sl_task *t);

/**
 * Let `t` be freed as soon as it ends. If it fails, its error is logged at
 * error level, since no one will join it.
 */
void sl_task_detach(struct sl_task *t);

/** Ask `t` to stop: sets its cancelled flag and wakes it if it waits. */
void sl_task_cancel(struct sl_task *t);

/** The running task, or NULL outside tasks. */
struct sl_task *sl_task_current(void);

/** Whether the running task was cancelled (0 outside tasks). */
int sl_task_is_cancelled(void);

/** -1 with SL_ECANCELLED if the running task was cancelled, else 0. */
int sl_task_testcancel(void);

/**
 * Clear the running task's cancelled flag, so that it can wait again. For
 * code that has handled a cancellation as a stop request and must still
 * clean up (a pipeline step that was asked to stop runs its finish()).
 */
void sl_task_uncancel(void);

/**
 * Let every other ready task run once, then continue. Returns 0, or -1
 * with SL_ECANCELLED if the task is cancelled.
 */
int sl_task_yield(void);

/**
 * Suspend the running task for `seconds`. Returns 0, or -1 with
 * SL_ECANCELLED (at once if the task was already cancelled).
 */
int sl_sleep(double seconds);

/**
 * Suspend the running task until sl_clock() reaches `when` (an absolute
 * time, so periodic work does not drift). Returns 0 (at once if `when` has
 * passed), or -1 with SL_ECANCELLED.
 */
int sl_sleep_until(double when);

/**
 * Suspend the running task until sl_task_wakeup() is called on it or
 * `timeout` seconds pass (SL_FOREVER: no limit; 0: fail at once). Returns
 * 0 when woken, or -1 with SL_ETIMEDOUT, SL_ECANCELLED or SL_EDEADLOCK.
 * Wakeups can be spurious: callers re-check their condition.
 */
int sl_task_wait(double timeout);

/** Make `t` ready if it is suspended in a wait; otherwise do nothing. */
void sl_task_wakeup(struct sl_task *t);

/**
 * sl_task_wakeup() for a hand-off: `t` runs right after the running task
 * suspends or ends, before the rest of the batch, while what was handed
 * over (a connection, its buffers) is still in the cache (several such
 * wakeups by one task: the newest first). At most 64 per batch go first;
 * the others are plain wakeups, so that I/O is still polled between
 * batches. From outside a task (a libuv callback), a plain wakeup.
 */
void sl_task_wakeup_next(struct sl_task *t);

/**
 * A hook run when a task's body returns (caller-owned; see
 * sl_task_on_exit()). Its fields are the runtime's.
 */
struct sl_task_hook {
	/** Link in the task's hook list. */
	struct sl_list link;
	/** What to run. */
	void (*fn)(void *arg);
	/** Its argument. */
	void *arg;
};

/**
 * Run `fn(arg)` when the running task's body returns, success or failure,
 * newest hook first (how a pool takes back a connection a task forgot, and
 * rolls back its transaction). The hook may wait (cancellation is lifted
 * while hooks run); errors it raises are dropped, never replacing the
 * task's own. `h` must stay valid until it runs or is removed.
 */
void sl_task_on_exit(struct sl_task_hook *h, void (*fn)(void *arg), void *arg);

/** Remove a hook that has not run yet. */
void sl_task_hook_remove(struct sl_task_hook *h);

/** The task's name. */
const char *sl_task_name(const struct sl_task *t);

/** The task's id, unique within its loop (the first task is 1). */
uint64_t sl_task_id(const struct sl_task *t);

/** The task's state. */
enum sl_task_state sl_task_state(const struct sl_task *t);

/** Name of a state, e.g. "waiting". */
const char *sl_task_state_name(enum sl_task_state s);

/** Monotonic time in seconds (loop clock, nanosecond resolution). */
double sl_clock(void);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_TASK_H */
