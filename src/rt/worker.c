/*
 * Dedicated worker threads: blocking jobs run one at a time, in FIFO order,
 * on a thread of their own while the calling task waits.
 *
 * A job lives on the waiting task's stack (the wait cannot be abandoned,
 * so the frame outlives the job). The loop thread appends it to `queue`
 * under the lock; the worker takes it, runs it with the job's own diag
 * current, moves it to `completed` and pokes the loop with a uv_async_t.
 * The async callback, on the loop thread, marks completed jobs done and
 * wakes their tasks. A stop job queued by sl_worker_delete() ends the
 * thread after every job queued before it.
 *
 * The async handle is referenced only while jobs are outstanding, so an
 * idle worker neither keeps the loop alive nor hides a deadlock, and a
 * task waiting on a job is never mistaken for a deadlocked one.
 */
#include "sluice/worker.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "rt/sched.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/list.h"
#include "sluice/task.h"

/** Longest thread name the system keeps, including the terminator. */
#define WORKER_NAME_MAX 16

/** One job: a call to run on the worker, or the stop request. */
struct worker_job {
	/** Link in the worker's `queue`, then in its `completed` list. */
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
	/** Task waiting for the job, or NULL (a delete outside tasks). */
	struct sl_task *waiter;
	/**
	 * The waiter's allocation-fault countdown, taken over for the job
	 * (sluice/alloc.h), then what is left of it.
	 */
	long countdown;
	/** Faults the job injected. */
	long faults;
};

/** A worker thread and its job queue. */
struct sl_worker {
	/** Completion notifications to the loop thread (memory freed in its
	 * close callback). */
	uv_async_t async;
	/** Loop the worker belongs to. */
	struct sl_loop *loop;
	/** The thread. */
	pthread_t thread;
	/** Guards `queue` and `completed`. */
	pthread_mutex_t lock;
	/** Signalled when a job is queued. */
	pthread_cond_t cond;
	/** Jobs waiting for the thread, oldest first. */
	struct sl_list queue;
	/** Jobs the thread finished, not yet seen by the loop thread. */
	struct sl_list completed;
	/** Jobs queued and not yet marked done (loop thread only). */
	size_t pending;
	/** Set once sl_worker_delete() has begun (loop thread only). */
	bool stopping;
	/** Thread name (truncated as the system wants it). */
	char name[WORKER_NAME_MAX];
	/** What a waiting task waits for, for errors and the gdb helper. */
	char what[WORKER_NAME_MAX + 32];
};

/** Worker thread: run a job with the job's diag as the current one. */
static void
job_run(struct worker_job *j)
{
	struct sl_diag *prev = sl_diag_swap(&j->diag);
	long faults = sl_alloc_faults();
	sl_alloc_fail_after(j->countdown);
	j->rc = j->fn(j->arg) != 0 ? -1 : 0;
	j->countdown = sl_alloc_countdown();
	j->faults = sl_alloc_faults() - faults;
	sl_alloc_fail_after(-1);
	if (j->rc != 0 && j->diag.last == NULL)
		sl_diag_set(SL_EINVAL, "a worker job failed without saying "
		                       "why");
	sl_diag_swap(prev);
}

/** Worker thread body: run queued jobs in order until the stop request. */
static void *
worker_main(void *arg)
{
	struct sl_worker *w = arg;
#ifdef __APPLE__
	pthread_setname_np(w->name);
#else
	pthread_setname_np(pthread_self(), w->name);
#endif
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (sl_list_empty(&w->queue))
			pthread_cond_wait(&w->cond, &w->lock);
		struct worker_job *j = sl_list_entry(sl_list_first(&w->queue),
		                                     struct worker_job, link);
		sl_list_del(&j->link);
		pthread_mutex_unlock(&w->lock);
		bool stop = j->fn == NULL;
		if (!stop)
			job_run(j);
		/* Once in `completed` the job may be freed at any moment. */
		pthread_mutex_lock(&w->lock);
		sl_list_add_tail(&w->completed, &j->link);
		pthread_mutex_unlock(&w->lock);
		uv_async_send(&w->async);
		if (stop)
			break;
	}
	/* Nothing should be left here, but a thread's area is not freed. */
	sl_diag_clear(sl_diag_get());
	return NULL;
}

/** Loop thread: mark completed jobs done and wake their tasks. */
static void
worker_async_cb(uv_async_t *async)
{
	struct sl_worker *w = async->data;
	struct sl_list done;
	sl_list_init(&done);
	pthread_mutex_lock(&w->lock);
	sl_list_splice_tail(&done, &w->completed);
	pthread_mutex_unlock(&w->lock);
	struct sl_list *l;
	while ((l = sl_list_first(&done)) != NULL) {
		struct worker_job *j =
		        sl_list_entry(l, struct worker_job, link);
		sl_list_del(l);
		assert(w->pending > 0);
		w->pending--;
		/* The task runs only after this callback returns. */
		j->done = true;
		if (j->waiter != NULL)
			sl_task_wakeup(j->waiter);
	}
	if (w->pending == 0)
		uv_unref((uv_handle_t *)&w->async);
}

/** Loop thread: queue `j` for the worker. */
static void
worker_push(struct sl_worker *w, struct worker_job *j)
{
	pthread_mutex_lock(&w->lock);
	sl_list_add_tail(&w->queue, &j->link);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (w->pending++ == 0)
		uv_ref((uv_handle_t *)&w->async);
}

/** Close callback of the async handle: the last use of the worker. */
static void
worker_close_cb(uv_handle_t *h)
{
	sl_free(h->data);
}

/**
 * Start the thread with every asynchronous signal blocked, so that signals
 * reach the loop thread and blocking calls in jobs see no EINTR. Returns 0
 * or an errno value.
 */
static int
worker_start(struct sl_worker *w)
{
	sigset_t all, prev;
	sigfillset(&all);
	/* Faults must still reach their handlers (ASan's, the default). */
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	sigdelset(&all, SIGTRAP);
	pthread_sigmask(SIG_SETMASK, &all, &prev);
	int rc = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	return rc;
}

struct sl_worker *
sl_worker_new(const char *name)
{
	if (sl_rt_check_in_task("sl_worker_new()") != 0)
		return NULL;
	if (name == NULL)
		name = "worker";
	struct sl_loop *loop = sl_loop_current();
	struct sl_worker *w = sl_calloc(1, sizeof(*w));
	if (w == NULL) {
		sl_diag_set(SL_EOOM, "out of memory creating worker '%s'",
		            name);
		return NULL;
	}
	/* The system keeps 15 bytes of a thread name. */
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->what, sizeof(w->what), "a job on worker '%s'", w->name);
	w->loop = loop;
	sl_list_init(&w->queue);
	sl_list_init(&w->completed);
	int rc = uv_async_init(sl_rt_uv(loop), &w->async, worker_async_cb);
	if (rc != 0) {
		sl_diag_set(SL_ESYSTEM, "cannot create worker '%s': %s",
		            w->name, uv_strerror(rc));
		sl_free(w);
		return NULL;
	}
	w->async.data = w;
	/* An idle worker must not keep the loop alive. */
	uv_unref((uv_handle_t *)&w->async);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	rc = worker_start(w);
	if (rc != 0) {
		sl_diag_raise(__FILE__, __LINE__, SL_ESYSTEM, rc,
		              "cannot start the thread of worker '%s'",
		              w->name);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		uv_close((uv_handle_t *)&w->async, worker_close_cb);
		return NULL;
	}
	return w;
}

/** Whether `w` may take a job from the calling task; sets the diag if not. */
static int
worker_check(struct sl_worker *w)
{
	if (sl_rt_check_in_task("sl_worker_run()") != 0)
		return -1;
	if (sl_loop_current() != w->loop) {
		sl_diag_set(SL_EINVAL, "worker '%s' belongs to another loop",
		            w->name);
		return -1;
	}
	if (w->stopping) {
		sl_diag_set(SL_EINVAL, "worker '%s' is being deleted", w->name);
		return -1;
	}
	if (w->pending >= SL_WORKER_QUEUE_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "worker '%s' already has %d jobs queued (the "
		            "most allowed)",
		            w->name, SL_WORKER_QUEUE_MAX);
		return -1;
	}
	return 0;
}

int
sl_worker_run(struct sl_worker *w, sl_offload_fn fn, void *arg)
{
	return sl_worker_run_cancel(w, fn, arg, NULL, NULL);
}

int
sl_worker_run_cancel(struct sl_worker *w, sl_offload_fn fn, void *arg,
                     void (*on_cancel)(void *), void *cancel_arg)
{
	if (worker_check(w) != 0)
		return -1;
	struct worker_job j = {
	        .fn = fn,
	        .arg = arg,
	        .waiter = sl_task_current(),
	        .countdown = sl_alloc_countdown(),
	};
	sl_diag_create(&j.diag);
	/* The job holds the countdown while it runs: tasks that run here
	 * meanwhile see no injected fault. */
	sl_alloc_fail_after(-1);
	worker_push(w, &j);
	/* The worker writes into `j`: wait for it whatever happens. A
	 * cancellation stays pending for the next wait. */
	bool told = false;
	while (!j.done) {
		sl_rt_wait_uncancellable(w->what);
		if (on_cancel != NULL && !told && !j.done &&
		    sl_task_is_cancelled()) {
			told = true;
			on_cancel(cancel_arg);
		}
	}
	sl_alloc_fail_after(j.countdown);
	sl_alloc_add_faults(j.faults);
	int rc = j.rc;
	if (rc != 0)
		sl_diag_move(&j.diag, sl_diag_get());
	sl_diag_destroy(&j.diag);
	return rc;
}

void
sl_worker_delete(struct sl_worker *w)
{
	if (w == NULL)
		return;
	assert(!w->stopping);
	assert(sl_loop_current() == w->loop);
	w->stopping = true;
	struct worker_job stop = {.waiter = sl_task_current()};
	sl_diag_create(&stop.diag);
	worker_push(w, &stop);
	if (stop.waiter != NULL) {
		/* Jobs queued before run first; the loop keeps going. */
		while (!stop.done)
			sl_rt_wait_uncancellable(w->what);
	}
	/* Outside tasks (the loop has stopped) this blocks until the
	 * queue is drained; no task can be waiting then. */
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	sl_diag_destroy(&stop.diag);
	/* Freed by the close callback, on the loop's next turn (or in
	 * sl_loop_delete()). A notification not yet delivered is dropped. */
	uv_close((uv_handle_t *)&w->async, worker_close_cb);
}
