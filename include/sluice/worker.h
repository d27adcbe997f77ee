/*
 * sluice: dedicated worker threads that run jobs for tasks. A worker of one
 * thread runs its jobs one at a time, in order: a database connection that
 * must stay on one thread (SQLite) lives on one, and the loop never blocks
 * on it. A worker of N threads (sl_worker_new_threads()) starts its jobs in
 * order, N at a time, and they may end in any order: the pipeline runner
 * interprets batches on one.
 *
 *   struct sl_worker *w = sl_worker_new("sqlite");    (in a task)
 *   rc = sl_worker_run(w, write_batch, batch);        (the task waits;
 *                                                      other tasks run)
 *   sl_worker_delete(w);                              (joins the thread)
 *
 * One pthread per worker, named after it (15 bytes kept), started with
 * asynchronous signals blocked. At most SL_WORKER_QUEUE_MAX jobs wait,
 * then sl_worker_run() fails with SL_ELIMIT. A job lives on the waiting
 * task's stack: the loop thread links it into a mutex-guarded queue; the
 * thread runs it with the job's own diag current (so sl_diag_set() in the
 * job works and its error moves to the caller) and with the caller's
 * allocation-fault countdown (sluice/alloc.h), then puts it on a completed
 * list and pokes a uv_async_t whose callback, on the loop thread, wakes
 * the waiting tasks. The async handle is referenced only while jobs are
 * outstanding, so an idle worker neither keeps the loop alive nor hides a
 * deadlock.
 *
 * The wait cannot be cancelled (the job writes into the caller's frame): a
 * cancelled task gets its job's result and sees the cancellation at its
 * next wait; with sl_worker_run_cancel() a callback can ask the running
 * job to stop early. A worker belongs to the loop it was made on:
 * sl_worker_run() from another loop fails with SL_EINVAL, and the worker
 * must be deleted before its loop. sl_worker_delete() queues a stop
 * behind the other jobs, waits for it (blocking, outside tasks, once the
 * loop has stopped), joins the thread and closes the handle; the memory
 * is freed by the close callback or by sl_loop_delete().
 */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/diag.h"
#include "sluice/io.h"
#include "sluice/list.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A worker thread bound to the loop it was made on (opaque). */
struct sl_worker;

/** Most jobs queued on one worker at once (SL_ELIMIT past it). */
#define SL_WORKER_QUEUE_MAX 1024

/** Most threads of one worker. */
#define SL_WORKER_THREADS_MAX 256

/**
 * A job: caller-owned for sl_worker_post(), on the waiting task's stack
 * for sl_worker_run(). Its members are the worker's: read the outcome
 * with sl_worker_job_result().
 */
struct sl_worker_job {
	/** Link in the worker's queue, then in its completed list. */
	struct sl_list link;
	/** Function to run; NULL for the stop request. */
	sl_offload_fn fn;
	/** Its argument. */
	void *arg;
	/** fn's error, recorded on the worker thread. */
	struct sl_diag diag;
	/** fn's result: 0 or -1. */
	int rc;
	/** Set on the loop thread once the job has completed. */
	bool done;
	/** Task waiting for the job, or NULL. */
	struct sl_task *waiter;
	/** Called on the loop thread when a posted job completed, or NULL. */
	void (*on_done)(struct sl_worker_job *j);
	/** For on_done. */
	void *data;
	/**
	 * The waiter's allocation-fault countdown, taken over for the job
	 * (sluice/alloc.h), then what is left of it; -1 for posted jobs.
	 */
	long countdown;
	/** Faults the job injected. */
	long faults;
};

/**
 * Start a worker thread named `name` (at most 15 bytes are shown to the
 * system) for the current loop; call from a task. NULL with an error.
 */
struct sl_worker *sl_worker_new(const char *name);

/**
 * sl_worker_new() with `threads` threads (1 to SL_WORKER_THREADS_MAX),
 * all named `name`, taking jobs from one queue: jobs start in the order
 * they were queued and run concurrently. NULL with an error.
 */
struct sl_worker *sl_worker_new_threads(const char *name, unsigned threads);

/** Where the threads of a worker may run (sl_worker_new_placed()). */
enum sl_worker_place {
	/** On any CPU the creating thread may run on. */
	SL_WORKER_ANYWHERE,
	/**
	 * On those CPUs but the one the creating thread is on when the
	 * worker is made, if that leaves a CPU for each thread; else
	 * anywhere. For threads that work beside a busy loop thread: a
	 * scheduler that wakes a thread on its waker's CPU (or packs a
	 * virtual machine's threads onto few virtual CPUs) can otherwise
	 * leave it waiting there for the loop thread's time slice, with
	 * another CPU idle. Set when the threads start, so that they
	 * start elsewhere too.
	 */
	SL_WORKER_BESIDE,
};

/**
 * sl_worker_new_threads(), with the threads' CPUs chosen by `place`.
 * NULL with an error.
 */
struct sl_worker *sl_worker_new_placed(const char *name, unsigned threads,
                                       enum sl_worker_place place);

/**
 * The CPU `w`'s threads keep off (SL_WORKER_BESIDE, where that left a CPU
 * for each thread), or -1 when they were started without a placement (or
 * one of them could not be given it).
 */
int sl_worker_cpu_avoided(const struct sl_worker *w);

/** Number of threads of `w`. */
unsigned sl_worker_threads(const struct sl_worker *w);

/**
 * Let the loop thread run `w`'s queued jobs itself whenever no task is
 * ready and it would otherwise wait for events, one job at a time, the
 * oldest first (until sl_worker_delete()), even while a thread of `w`
 * waits: a woken thread may take longer to start than the job takes.
 * For jobs that only compute and wait for nothing: the loop handles no
 * events while one runs. With N threads, `w` then has N + 1 threads'
 * worth of hands, and with N = cores - 1 no more threads than cores. At
 * most one helped worker a loop; call from a task.
 */
void sl_worker_help(struct sl_worker *w);

/**
 * For tests: hold `w`'s threads before they take their next job, as a
 * host that has not scheduled them yet would (`stall`), or let them go.
 * A stop request still reaches them, and sl_worker_delete() lets them go.
 */
void sl_worker_stall(struct sl_worker *w, bool stall);

/**
 * Queue `fn(arg)` on `w` without waiting: `j` (caller-owned, untouched
 * until then) is the worker's until `on_done(j)` runs on the loop thread,
 * from the loop's callbacks, once fn has returned; then call
 * sl_worker_job_result(j). `data` is stored in j->data for on_done. The
 * job runs with no injected allocation faults. Returns 0, or -1 with an
 * error (the job was not queued) as sl_worker_run() fails.
 */
int sl_worker_post(struct sl_worker *w, struct sl_worker_job *j,
                   sl_offload_fn fn, void *arg,
                   void (*on_done)(struct sl_worker_job *j), void *data);

/**
 * After a posted job's on_done: fn's result; when -1, fn's error moves
 * into the current diag. Frees what the job held; call it once.
 */
int sl_worker_job_result(struct sl_worker_job *j);

/**
 * Run `fn(arg)` on the worker after the jobs queued before it, while the
 * calling task waits. Returns fn's result; fn's error (raised in the
 * worker thread's diag) moves into the caller's diag. A job cannot be
 * interrupted: a cancelled task still waits for its job to end (the job
 * owns `arg` until then), and the cancellation is seen by its next wait.
 */
int sl_worker_run(struct sl_worker *w, sl_offload_fn fn, void *arg);

/**
 * sl_worker_run(), except that when the waiting task is cancelled,
 * `on_cancel(cancel_arg)` runs once, on the loop's thread, while the job
 * may be queued or running on the worker: it can ask the job to stop
 * early (say, with sqlite3_interrupt()). The task still waits for the
 * job to end.
 */
int sl_worker_run_cancel(struct sl_worker *w, sl_offload_fn fn, void *arg,
                         void (*on_cancel)(void *), void *cancel_arg);

/**
 * Stop the worker: queued jobs run to the end (their tasks get their
 * results), then the thread is joined and everything freed. Call from a
 * task on the worker's loop (which waits meanwhile), or outside tasks once
 * the loop has stopped; no job may be queued once it has begun. Delete a
 * worker before its loop: one worker never serves two loops. NULL is a
 * no-op.
 */
void sl_worker_delete(struct sl_worker *w);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_WORKER_H */
