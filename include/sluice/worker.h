/*
 * sluice: a dedicated worker thread that runs blocking jobs for tasks, one
 * at a time, in order. A database connection that must stay on one thread
 * (SQLite) lives on a worker; the loop never blocks on it.
 *
 *   struct sl_worker *w = sl_worker_new("sqlite");    (in a task)
 *   rc = sl_worker_run(w, write_batch, batch);        (the task waits;
 *                                                      other tasks run)
 *   sl_worker_delete(w);                              (joins the thread)
 */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <stddef.h>

#include "sluice/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A worker thread bound to the loop it was made on (opaque). */
struct sl_worker;

/** Most jobs queued on one worker at once (SL_ELIMIT past it). */
#define SL_WORKER_QUEUE_MAX 1024

/**
 * Start a worker thread named `name` (at most 15 bytes are shown to the
 * system) for the current loop; call from a task. NULL with an error.
 */
struct sl_worker *sl_worker_new(const char *name);

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
