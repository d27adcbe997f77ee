/*
 * Dedicated worker threads: blocking jobs run in FIFO order on threads of
 * their own (one at a time on a worker of one thread) while the calling
 * task waits, or, posted, while it goes on.
 *
 * A waited-for job lives on the waiting task's stack (the wait cannot be
 * abandoned, so the frame outlives the job); a posted one is the caller's.
 * The loop thread appends it to `queue` under the lock; a thread takes it,
 * runs it with the job's own diag current, moves it to `completed` and
 * pokes the loop with a uv_async_t. The async callback, on the loop
 * thread, marks completed jobs done and wakes their tasks (or calls a
 * posted job's on_done). A stop job queued by sl_worker_delete() stays at
 * the head of the queue until every thread has met it, so the threads end
 * after every job queued before it; the last one completes it.
 *
 * The async handle is referenced only while jobs are outstanding, so an
 * idle worker neither keeps the loop alive nor hides a deadlock, and a
 * task waiting on a job is never mistaken for a deadlocked one.
 */
#include "sluice/worker.h"

#include <assert.h>
#include <pthread.h>
#include <sched.h>
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

/** A worker's threads and their job queue. */
struct sl_worker {
	/** Completion notifications to the loop thread (memory freed in its
	 * close callback). */
	uv_async_t async;
	/** Loop the worker belongs to. */
	struct sl_loop *loop;
	/** The threads (`n_threads` of them). */
	pthread_t *threads;
	/** Number of threads started. */
	unsigned n_threads;
	/** The CPU the threads keep off (SL_WORKER_BESIDE), or -1. */
	int avoided;
	/** Threads that have not met the stop request yet (under lock). */
	unsigned alive;
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
	/** Whether the loop thread runs queued jobs when idle
	 * (sl_worker_help()). */
	bool helped;
	/** Whether the threads leave jobs queued (sl_worker_stall(); under
	 * lock). */
	bool stalled;
	/** Thread name (truncated as the system wants it). */
	char name[WORKER_NAME_MAX];
	/** What a waiting task waits for, for errors and the gdb helper. */
	char what[WORKER_NAME_MAX + 32];
};

/** Worker thread: run a job with the job's diag as the current one. */
static void
job_run(struct sl_worker_job *j)
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

/**
 * Worker thread body: run queued jobs in order until the stop request.
 * The stop request stays at the head of the queue until the last thread
 * meets it, which completes it.
 */
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
		while (sl_list_empty(&w->queue) ||
		       (w->stalled && sl_list_entry(sl_list_first(&w->queue),
		                                    struct sl_worker_job, link)
		                                      ->fn != NULL))
			pthread_cond_wait(&w->cond, &w->lock);
		struct sl_worker_job *j = sl_list_entry(
		        sl_list_first(&w->queue), struct sl_worker_job, link);
		bool stop = j->fn == NULL;
		if (stop && --w->alive > 0) {
			/* Leave the request to the other threads. */
			pthread_cond_signal(&w->cond);
			pthread_mutex_unlock(&w->lock);
			break;
		}
		sl_list_del(&j->link);
		pthread_mutex_unlock(&w->lock);
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
		struct sl_worker_job *j =
		        sl_list_entry(l, struct sl_worker_job, link);
		sl_list_del(l);
		assert(w->pending > 0);
		w->pending--;
		/* The task runs only after this callback returns. */
		j->done = true;
		if (j->on_done != NULL)
			j->on_done(j);
		else if (j->waiter != NULL)
			sl_task_wakeup(j->waiter);
	}
	if (w->pending == 0)
		uv_unref((uv_handle_t *)&w->async);
}

/**
 * The loop thread's idle work for a helped worker: run the oldest queued
 * job here, as a thread would, and complete it (sl_worker_help()).
 * Whether there was one.
 */
static bool
worker_help_one(void *arg)
{
	struct sl_worker *w = arg;
	pthread_mutex_lock(&w->lock);
	struct sl_list *l = sl_list_first(&w->queue);
	struct sl_worker_job *j =
	        l != NULL ? sl_list_entry(l, struct sl_worker_job, link) : NULL;
	/* Even while a thread is waiting: woken, it may take longer to
	 * run than the job (a virtual CPU the host must schedule first).
	 * A stop request is the threads'. */
	if (j != NULL && j->fn != NULL)
		sl_list_del(&j->link);
	else
		j = NULL;
	pthread_mutex_unlock(&w->lock);
	if (j == NULL)
		return false;
	/* The loop thread's own fault countdown and count stay as they
	 * were: the job's are its waiter's. */
	long countdown = sl_alloc_countdown();
	job_run(j);
	sl_alloc_fail_after(countdown);
	sl_alloc_add_faults(-j->faults);
	pthread_mutex_lock(&w->lock);
	sl_list_add_tail(&w->completed, &j->link);
	pthread_mutex_unlock(&w->lock);
	worker_async_cb(&w->async);
	return true;
}

/** Loop thread: queue `j` for the worker. */
static void
worker_push(struct sl_worker *w, struct sl_worker_job *j)
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
 * For SL_WORKER_BESIDE: in `set`, the CPUs the calling thread may run on
 * but the one it is on, if that leaves one for each of `threads`.
 * Returns the CPU left out, or -1 (then the threads may run anywhere).
 */
static int
beside_set(unsigned threads, cpu_set_t *set)
{
	int cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE ||
	    sched_getaffinity(0, sizeof(*set), set) != 0 ||
	    !CPU_ISSET(cpu, set))
		return -1;
	CPU_CLR(cpu, set);
	return CPU_COUNT(set) >= (int)threads ? cpu : -1;
}

/**
 * Start one thread of `w` into `*t`, on the CPUs of `set` unless it is
 * NULL. 0 or an errno value.
 */
static int
thread_start(struct sl_worker *w, pthread_t *t, const cpu_set_t *set)
{
	int rc = -1;
	pthread_attr_t attr;
	if (set != NULL && pthread_attr_init(&attr) == 0) {
		rc = pthread_attr_setaffinity_np(&attr, sizeof(*set), set);
		if (rc == 0)
			rc = pthread_create(t, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
	}
	/* No placement (or CPUs taken from the process meanwhile). */
	if (rc != 0 && (rc = pthread_create(t, NULL, worker_main, w)) == 0)
		w->avoided = -1;
	return rc;
}

/**
 * Start the threads, on the CPUs of `set` unless it is NULL, with every
 * asynchronous signal blocked, so that signals reach the loop thread and
 * blocking calls in jobs see no EINTR. Returns 0 or an errno value; then
 * the threads started are stopped and joined.
 */
static int
worker_start(struct sl_worker *w, unsigned n, const cpu_set_t *set)
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
	int rc = 0;
	for (; w->n_threads < n; w->n_threads++) {
		pthread_mutex_lock(&w->lock);
		w->alive++;
		pthread_mutex_unlock(&w->lock);
		rc = thread_start(w, &w->threads[w->n_threads], set);
		if (rc != 0) {
			pthread_mutex_lock(&w->lock);
			w->alive--;
			pthread_mutex_unlock(&w->lock);
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	if (rc != 0 && w->n_threads > 0) {
		/* Nothing is queued yet: a stop request ends them. */
		struct sl_worker_job stop = {0};
		pthread_mutex_lock(&w->lock);
		sl_list_add_tail(&w->queue, &stop.link);
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		for (unsigned i = 0; i < w->n_threads; i++)
			pthread_join(w->threads[i], NULL);
		/* The request went to `completed`; nobody waits for it. */
		sl_list_init(&w->completed);
	}
	return rc;
}

struct sl_worker *
sl_worker_new(const char *name)
{
	return sl_worker_new_threads(name, 1);
}

unsigned
sl_worker_threads(const struct sl_worker *w)
{
	return w->n_threads;
}

int
sl_worker_cpu_avoided(const struct sl_worker *w)
{
	return w->avoided;
}

struct sl_worker *
sl_worker_new_threads(const char *name, unsigned threads)
{
	return sl_worker_new_placed(name, threads, SL_WORKER_ANYWHERE);
}

struct sl_worker *
sl_worker_new_placed(const char *name, unsigned threads,
                     enum sl_worker_place place)
{
	if (sl_rt_check_in_task("sl_worker_new()") != 0)
		return NULL;
	if (name == NULL)
		name = "worker";
	if (threads == 0 || threads > SL_WORKER_THREADS_MAX) {
		sl_diag_set(SL_EINVAL,
		            "worker '%s': %u threads (expected 1 to %d)", name,
		            threads, SL_WORKER_THREADS_MAX);
		return NULL;
	}
	struct sl_loop *loop = sl_loop_current();
	struct sl_worker *w = sl_calloc(1, sizeof(*w));
	pthread_t *th = sl_calloc(threads, sizeof(*th));
	if (w == NULL || th == NULL) {
		sl_free(w);
		sl_free(th);
		sl_diag_set(SL_EOOM, "out of memory creating worker '%s'",
		            name);
		return NULL;
	}
	w->threads = th;
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
	cpu_set_t set;
	w->avoided = place == SL_WORKER_BESIDE ? beside_set(threads, &set) : -1;
	rc = worker_start(w, threads, w->avoided >= 0 ? &set : NULL);
	if (rc != 0) {
		sl_diag_raise(__FILE__, __LINE__, SL_ESYSTEM, rc,
		              "cannot start the threads of worker '%s'",
		              w->name);
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		sl_free(w->threads);
		w->threads = NULL;
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

void
sl_worker_help(struct sl_worker *w)
{
	assert(sl_loop_current() == w->loop && !w->helped);
	w->helped = true;
	sl_rt_loop_set_idle_work(w->loop, worker_help_one, w);
}

void
sl_worker_stall(struct sl_worker *w, bool stall)
{
	pthread_mutex_lock(&w->lock);
	w->stalled = stall;
	if (!stall)
		pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
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
	struct sl_worker_job j = {
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

int
sl_worker_post(struct sl_worker *w, struct sl_worker_job *j, sl_offload_fn fn,
               void *arg, void (*on_done)(struct sl_worker_job *j), void *data)
{
	if (worker_check(w) != 0)
		return -1;
	assert(fn != NULL && on_done != NULL);
	memset(j, 0, sizeof(*j));
	j->fn = fn;
	j->arg = arg;
	j->on_done = on_done;
	j->data = data;
	j->countdown = -1;
	sl_diag_create(&j->diag);
	worker_push(w, j);
	return 0;
}

int
sl_worker_job_result(struct sl_worker_job *j)
{
	assert(j->done);
	int rc = j->rc;
	if (rc != 0)
		sl_diag_move(&j->diag, sl_diag_get());
	sl_diag_destroy(&j->diag);
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
	/* The threads run what is left. */
	if (w->helped)
		sl_rt_loop_set_idle_work(w->loop, NULL, NULL);
	sl_worker_stall(w, false);
	struct sl_worker_job stop = {.waiter = sl_task_current()};
	sl_diag_create(&stop.diag);
	worker_push(w, &stop);
	if (stop.waiter != NULL) {
		/* Jobs queued before run first; the loop keeps going. */
		while (!stop.done)
			sl_rt_wait_uncancellable(w->what);
	}
	/* Outside tasks (the loop has stopped) this blocks until the
	 * queue is drained; no task can be waiting then. */
	for (unsigned i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	sl_free(w->threads);
	w->threads = NULL;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	sl_diag_destroy(&stop.diag);
	/* Freed by the close callback, on the loop's next turn (or in
	 * sl_loop_delete()). A notification not yet delivered is dropped. */
	uv_close((uv_handle_t *)&w->async, worker_close_cb);
}
