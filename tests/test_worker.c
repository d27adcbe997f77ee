/*
 * Worker threads: jobs in order on one thread, waits that let other tasks
 * run, errors, cancellation, the queue cap, deletion and allocation faults;
 * a worker of several threads with posted jobs.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/worker.h"
#include "unit.h"

/** Tasks queueing jobs at once in the FIFO test. */
#define MANY 100

/** Shared state of the jobs of one test. */
struct jobs {
	/** Job indexes in the order they ran. */
	int order[SL_WORKER_QUEUE_MAX + 1];
	/** Jobs run so far (written by the worker thread only). */
	atomic_int ran;
	/** Kernel thread ids the jobs ran on (first and last). */
	long tid_first, tid_last;
	/** pthread of the last job. */
	pthread_t thread;
	/** Set when a job saw a thread other than the first one. */
	atomic_int other_thread;
	/** Thread name seen by the last job. */
	char name[32];
	/** While 0, gated jobs spin. */
	atomic_int gate;
	/** Microseconds each job sleeps. */
	int usec;
};

/** One job: its index in the test and the shared state. */
struct job {
	/** Shared state. */
	struct jobs *s;
	/** Index recorded in s->order. */
	int idx;
	/** Result to return (-1: fail with SL_EDB). */
	int rc;
	/** Whether to wait for s->gate. */
	int gated;
	/** Worker to run on (for job tasks). */
	struct sl_worker *w;
	/** sl_worker_run()'s result in a job task. */
	int run_rc;
	/** A job task's next wait result, after the job. */
	int next_wait;
	/** Code of the error after that wait. */
	enum sl_errcode next_code;
};

/** The calling thread's kernel id. */
static long
tid(void)
{
	return (long)syscall(SYS_gettid);
}

/** A job: record order and thread, maybe sleep, wait or fail. */
static int
job_fn(void *arg)
{
	struct job *j = arg;
	struct jobs *s = j->s;
	while (j->gated && !atomic_load(&s->gate))
		usleep(500);
	if (s->usec > 0)
		usleep((useconds_t)s->usec);
	int n = atomic_load(&s->ran);
	if (n == 0)
		s->tid_first = tid();
	else if (tid() != s->tid_first)
		atomic_store(&s->other_thread, 1);
	s->tid_last = tid();
	s->thread = pthread_self();
	pthread_getname_np(pthread_self(), s->name, sizeof(s->name));
	if (n <= SL_WORKER_QUEUE_MAX)
		s->order[n] = j->idx;
	atomic_store(&s->ran, n + 1);
	if (j->rc != 0)
		sl_diag_set(SL_EDB, "job %d failed", j->idx);
	return j->rc;
}

/** A job that fails without setting an error. */
static int
silent_fail(void *arg)
{
	(void)arg;
	return -1;
}

/** A job whose error cannot be allocated (the stand-in error moves). */
static int
oom_fail(void *arg)
{
	(void)arg;
	sl_alloc_fail_after(0);
	sl_diag_set(SL_EDB, "never recorded");
	sl_alloc_fail_after(-1);
	return -1;
}

/** Task: run one job on j->w, then record the next wait's result. */
static int
job_task(void *arg)
{
	struct job *j = arg;
	j->run_rc = sl_worker_run(j->w, job_fn, j);
	j->next_wait = sl_sleep(0.001);
	j->next_code = sl_diag_code();
	return j->run_rc;
}

/** What the ticker and the job waiting for it share. */
struct tick_gate {
	/** Ticks counted. */
	int ticks;
	/** Set after TICKS_TO_OPEN ticks: the job may end. */
	atomic_int open;
};

/** Ticks the loop must make while the job runs. */
#define TICKS_TO_OPEN 10

/**
 * Counts ticks (yields, so no timer is involved: valgrind's scheduler can
 * stall timer waits while another thread sleeps) and opens the gate after
 * TICKS_TO_OPEN of them.
 */
static int
ticker(void *arg)
{
	struct tick_gate *g = arg;
	while (g->ticks < TICKS_TO_OPEN) {
		sl_task_yield();
		g->ticks++;
	}
	atomic_store(&g->open, 1);
	return 0;
}

/**
 * A job that ends only once the loop's ticker opened its gate (or fails
 * after 20 s): if it ends, other tasks ran while it blocked the worker,
 * however slow the machine or valgrind's thread scheduling.
 */
static int
gate_job(void *arg)
{
	struct tick_gate *g = arg;
	for (int i = 0; i < 20000 && !atomic_load(&g->open); i++)
		usleep(1000);
	if (atomic_load(&g->open))
		return 0;
	sl_diag_set(SL_ETIMEDOUT, "the loop never ticked");
	return -1;
}

/** Basics: results, thread, name, other tasks running, errors. */
static int
basic_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_worker *w = sl_worker_new("sqlite");
	ok(w != NULL, "a worker starts");
	struct jobs s = {0};
	struct job j = {.s = &s, .idx = 1};
	struct tick_gate g = {0};
	struct sl_task *tk = sl_task_spawn(loop, "ticker", ticker, &g);
	int rc = sl_worker_run(w, gate_job, &g);
	is_int(rc, 0,
	       "other tasks ran while a job blocked the worker (%d "
	       "ticks)",
	       g.ticks);
	sl_task_reap(tk);
	is_int(sl_worker_run(w, job_fn, &j), 0, "a job returns its result");
	is_int(atomic_load(&s.ran), 1, "the job ran once");
	ok(s.tid_last != tid(), "on a thread that is not the loop's");
	ok(!pthread_equal(s.thread, pthread_self()), "(pthread_self too)");
	is_str(s.name, "sqlite", "the thread carries the worker's name");

	s.usec = 0;
	struct job bad = {.s = &s, .idx = 2, .rc = -1};
	is_int(sl_worker_run(w, job_fn, &bad), -1, "a failing job gives -1");
	is_err(SL_EDB, "its error moves to the caller");
	is_str(unit_errmsg(), "job 2 failed", "with its message");
	is_int(sl_worker_run(w, job_fn, &j), 0, "the next job succeeds");
	is_err(SL_EDB, "leaving the caller's diag alone");
	is_int(sl_worker_run(w, silent_fail, NULL), -1,
	       "a job failing without an error gives -1");
	is_err(SL_EINVAL, "and an error saying so");
	is_int(sl_worker_run(w, oom_fail, NULL), -1,
	       "a job whose error could not be allocated gives -1");
	is_err(SL_EOOM, "with the out-of-memory stand-in");
	sl_diag_clear(sl_diag_get());
	ok(s.tid_first == s.tid_last && !atomic_load(&s.other_thread),
	   "every job ran on the same thread");
	sl_worker_delete(w);
	sl_worker_delete(NULL);
	ok(1, "delete and delete(NULL) return");

	w = sl_worker_new("a-rather-long-worker-name");
	struct jobs s2 = {0};
	struct job j2 = {.s = &s2};
	is_int(sl_worker_run(w, job_fn, &j2), 0, "a long-named worker runs");
	is_str(s2.name, "a-rather-long-w", "its name is cut to 15 bytes");
	sl_worker_delete(w);
	return 0;
}

/** Many tasks queue jobs at once; they run in the order queued. */
static int
fifo_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_worker *w = sl_worker_new("fifo");
	static struct jobs s;
	memset(&s, 0, sizeof(s));
	static struct job jobs[MANY];
	struct sl_task *tasks[MANY];
	struct sl_task_opts o = {.stack_size = SL_TASK_STACK_MIN};
	for (int i = 0; i < MANY; i++) {
		jobs[i] = (struct job){.s = &s, .idx = i, .w = w};
		tasks[i] =
		        sl_task_spawn_opts(loop, "job", job_task, &jobs[i], &o);
	}
	int failed = 0;
	for (int i = 0; i < MANY; i++)
		failed += sl_task_join(tasks[i]) != 0;
	is_int(failed, 0, "%d tasks' jobs all succeeded", MANY);
	is_int(atomic_load(&s.ran), MANY, "every job ran once");
	int in_order = 1;
	for (int i = 0; i < MANY; i++)
		in_order &= s.order[i] == i;
	ok(in_order, "in the order they were queued");
	ok(!atomic_load(&s.other_thread), "all on one thread");
	sl_worker_delete(w);
	return 0;
}

/** Cancelling a task while its job runs does not abandon the job. */
static int
cancel_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_worker *w = sl_worker_new("cancel");
	struct jobs s = {.usec = 30000};
	struct job j = {.s = &s, .w = w};
	struct sl_task *t = sl_task_spawn(loop, "job", job_task, &j);
	sl_task_yield();
	sl_task_cancel(t);
	is_int(sl_task_join(t), 0, "the cancelled task's job still succeeds");
	is_int(atomic_load(&s.ran), 1, "the job ran to the end");
	is_int(j.next_wait, -1, "the task's next wait fails");
	is_int(j.next_code, SL_ECANCELLED, "with ECANCELLED");

	sl_task_cancel(sl_task_current());
	is_int(sl_worker_run(w, job_fn, &j), 0,
	       "an already cancelled task still runs its job");
	is_int(sl_task_testcancel(), -1, "and stays cancelled");
	sl_task_uncancel();
	sl_worker_delete(w);
	return 0;
}

/** The queue holds SL_WORKER_QUEUE_MAX jobs; one more fails. */
static int
cap_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_worker *w = sl_worker_new("cap");
	static struct jobs s;
	memset(&s, 0, sizeof(s));
	static struct job jobs[SL_WORKER_QUEUE_MAX];
	static struct sl_task *tasks[SL_WORKER_QUEUE_MAX];
	struct sl_task_opts o = {.stack_size = SL_TASK_STACK_MIN};
	for (int i = 0; i < SL_WORKER_QUEUE_MAX; i++) {
		jobs[i] = (struct job){.s = &s, .idx = i, .w = w, .gated = 1};
		tasks[i] =
		        sl_task_spawn_opts(loop, "job", job_task, &jobs[i], &o);
	}
	sl_task_yield();
	struct job extra = {.s = &s, .idx = -1};
	is_int(sl_worker_run(w, job_fn, &extra), -1,
	       "a job past SL_WORKER_QUEUE_MAX is refused");
	is_err(SL_ELIMIT, "with ELIMIT");
	atomic_store(&s.gate, 1);
	int failed = 0;
	for (int i = 0; i < SL_WORKER_QUEUE_MAX; i++)
		failed += sl_task_join(tasks[i]) != 0;
	is_int(failed, 0, "the %d queued jobs all ran", SL_WORKER_QUEUE_MAX);
	is_int(sl_worker_run(w, job_fn, &extra), 0,
	       "once drained the worker takes jobs again");
	sl_worker_delete(w);
	return 0;
}

/** Deleting a worker with jobs queued runs them all first. */
static int
drain_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_worker *w = sl_worker_new("drain");
	struct jobs s = {.usec = 2000};
	struct job jobs[10];
	struct sl_task *tasks[10];
	for (int i = 0; i < 10; i++) {
		jobs[i] = (struct job){.s = &s, .idx = i, .w = w};
		tasks[i] = sl_task_spawn(loop, "job", job_task, &jobs[i]);
	}
	sl_task_yield();
	sl_worker_delete(w);
	is_int(atomic_load(&s.ran), 10, "delete ran the 10 queued jobs");
	int failed = 0;
	for (int i = 0; i < 10; i++)
		failed += sl_task_join(tasks[i]) != 0;
	is_int(failed, 0, "and their tasks got their results");

	sl_worker_delete(sl_worker_new("short-lived"));
	ok(1, "delete right after new");
	return 0;
}

/** An idle worker does not hide a deadlock. */
static int
deadlock_main(void *arg)
{
	(void)arg;
	struct sl_worker *w = sl_worker_new("idle");
	is_int(sl_task_wait(SL_FOREVER), -1,
	       "a wait nothing can end fails beside an idle worker");
	is_err(SL_EDEADLOCK, "with EDEADLOCK");
	sl_worker_delete(w);
	return 0;
}

/** Creates a worker and leaves it for main() to delete. */
static int
leave_main(void *arg)
{
	struct sl_worker **w = arg;
	*w = sl_worker_new("left");
	struct jobs s = {0};
	struct job j = {.s = &s};
	return *w != NULL ? sl_worker_run(*w, job_fn, &j) : -1;
}

/** One run under allocation faults: new, a good job, a bad one, delete. */
static int
fault_scenario(void)
{
	struct sl_worker *w = sl_worker_new("faults");
	if (w == NULL)
		return -1;
	struct jobs s = {0};
	struct job good = {.s = &s};
	struct job bad = {.s = &s, .rc = -1};
	int rc = sl_worker_run(w, job_fn, &good);
	/* Faults reach the jobs too: the bad job's own error may be the
	 * injected EOOM, which then is the run's. */
	if (rc == 0) {
		if (sl_worker_run(w, job_fn, &bad) == 0)
			rc = -2;
		else if (sl_diag_code() == SL_EOOM)
			rc = -1;
	}
	sl_worker_delete(w);
	return rc == -2 ? -1 : rc;
}

/** Fail each allocation point once; each must give EOOM. */
static int
faults_main(void *arg)
{
	(void)arg;
	int clean = 1, runs = 0, last_ok = 0;
	for (long k = 0; k < 1000; k++) {
		sl_diag_clear(sl_diag_get());
		long before = sl_alloc_faults();
		sl_alloc_fail_after(k);
		int rc = fault_scenario();
		sl_alloc_fail_after(-1);
		runs++;
		if (sl_alloc_faults() == before) {
			last_ok = rc == 0;
			break;
		}
		if (rc == 0 || sl_diag_code() != SL_EOOM) {
			clean = 0;
			note("run %ld: rc %d, %s: %s", k, rc,
			     sl_errcode_name(sl_diag_code()), unit_errmsg());
		}
	}
	ok(runs >= 2, "every allocation point was failed (%d runs)", runs);
	ok(clean, "each failing run reported EOOM");
	ok(last_ok, "the run with no fault left succeeded");
	return 0;
}

/** What the cancellable job and its on-cancel callback share. */
struct stoppable {
	/** Set by the callback: the job ends when it sees it. */
	atomic_int stop;
	/** Times the callback ran. */
	int told;
	/** The worker. */
	struct sl_worker *w;
	/** sl_worker_run_cancel()'s result. */
	int rc;
};

/** A job that runs until asked to stop (at most 10 s). */
static int
stoppable_job(void *arg)
{
	struct stoppable *st = arg;
	for (int i = 0; i < 10000 && !atomic_load(&st->stop); i++)
		usleep(1000);
	return atomic_load(&st->stop) ? 0 : -1;
}

/** The on-cancel callback: ask the job to stop. */
static void
stoppable_cancel(void *arg)
{
	struct stoppable *st = arg;
	st->told++;
	atomic_store(&st->stop, 1);
}

/** A task that runs the stoppable job. */
static int
stoppable_task(void *arg)
{
	struct stoppable *st = arg;
	st->rc = sl_worker_run_cancel(st->w, stoppable_job, st,
	                              stoppable_cancel, st);
	return 0;
}

/** sl_worker_run_cancel(): a cancelled waiter tells its job, once. */
static int
run_cancel_main(void *arg)
{
	(void)arg;
	struct stoppable st = {.w = sl_worker_new("stoppable")};
	if (st.w == NULL)
		return -1;
	/* Not cancelled: the callback never runs. */
	atomic_store(&st.stop, 1);
	ok(sl_worker_run_cancel(st.w, stoppable_job, &st, stoppable_cancel,
	                        &st) == 0 &&
	           st.told == 0,
	   "run_cancel: without a cancellation the callback does not run");
	atomic_store(&st.stop, 0);
	double t0 = sl_clock();
	struct sl_task *t = sl_task_spawn(sl_loop_current(), "stoppable",
	                                  stoppable_task, &st);
	sl_sleep(0.05);
	sl_task_cancel(t);
	sl_task_cancel(t);
	sl_task_join(t);
	ok(st.rc == 0, "run_cancel: the job stopped when told");
	is_int(st.told, 1, "run_cancel: the callback ran once");
	ok(sl_clock() - t0 < 5, "run_cancel: long before the job's 10 s");
	sl_worker_delete(st.w);
	return 0;
}

/** Jobs posted to a worker of several threads. */
struct posted {
	/** The job. */
	struct sl_worker_job job;
	/** Its index. */
	int idx;
	/** The kernel thread it ran on. */
	long tid;
	/** Whether on_done ran, and on the loop's thread. */
	int done_on_loop;
	/** The task to wake when it is done. */
	struct sl_task *waiter;
	/** Jobs not done yet (shared). */
	int *left;
	/** Jobs running at once, now and at most (shared). */
	atomic_int *running, *most;
};

/** A posted job: fails for multiples of 7, sleeps so that jobs overlap. */
static int
posted_fn(void *arg)
{
	struct posted *p = arg;
	p->tid = tid();
	int now = atomic_fetch_add(p->running, 1) + 1;
	int most = atomic_load(p->most);
	while (now > most && !atomic_compare_exchange_weak(p->most, &most, now))
		;
	usleep(2000);
	atomic_fetch_sub(p->running, 1);
	if (p->idx % 7 == 0) {
		sl_diag_set(SL_EDB, "job %d failed", p->idx);
		return -1;
	}
	return 0;
}

/** The loop thread's kernel id (set by threads_main). */
static long loop_tid;

/** on_done of a posted job. */
static void
posted_done(struct sl_worker_job *j)
{
	struct posted *p = j->data;
	p->done_on_loop = tid() == loop_tid;
	if (--*p->left == 0)
		sl_task_wakeup(p->waiter);
}

/** A worker of three threads: posted jobs overlap, end, report errors. */
static int
threads_main(void *arg)
{
	(void)arg;
	loop_tid = tid();
	ok(sl_worker_new_threads("none", 0) == NULL &&
	           sl_worker_new_threads("many", SL_WORKER_THREADS_MAX + 1) ==
	                   NULL,
	   "threads: 0 or too many threads are refused");
	sl_diag_clear(sl_diag_get());
	struct sl_worker *w = sl_worker_new_threads("three", 3);
	ok(w != NULL && sl_worker_threads(w) == 3, "threads: three threads");
	enum { N = 60 };
	static struct posted p[N];
	int left = N;
	atomic_int running = 0, most = 0;
	for (int i = 0; i < N; i++) {
		p[i] = (struct posted){.idx = i,
		                       .waiter = sl_task_current(),
		                       .left = &left,
		                       .running = &running,
		                       .most = &most};
		if (sl_worker_post(w, &p[i].job, posted_fn, &p[i], posted_done,
		                   &p[i]) != 0)
			bail_out("cannot post a job");
	}
	while (left > 0)
		sl_task_wait(SL_FOREVER);
	int failed = 0, ok_codes = 0, on_loop = 0, threads = 0;
	long seen[3] = {0};
	for (int i = 0; i < N; i++) {
		if (sl_worker_job_result(&p[i].job) != 0) {
			failed++;
			if (sl_diag_code() == SL_EDB &&
			    strstr(unit_errmsg(), "failed") != NULL)
				ok_codes++;
			sl_diag_clear(sl_diag_get());
		}
		on_loop += p[i].done_on_loop;
		bool known = false;
		for (int k = 0; k < threads; k++)
			known = known || seen[k] == p[i].tid;
		if (!known && threads < 3)
			seen[threads++] = p[i].tid;
		else if (!known)
			threads++;
	}
	is_int(failed, 9, "threads: the 9 failing jobs fail");
	is_int(ok_codes, 9, "threads: each with its own error");
	is_int(on_loop, N, "threads: every on_done ran on the loop thread");
	is_int(threads, 3, "threads: the jobs ran on three threads");
	ok(atomic_load(&most) >= 2 && atomic_load(&most) <= 3,
	   "threads: jobs ran at once, at most three (%d)", atomic_load(&most));
	sl_worker_delete(w);
	ok(1, "threads: the worker is deleted");
	return 0;
}

/** Run threads_main() as a task on a fresh loop. */
TAP_CASE(threads)
{
	is_int(run_task("main", threads_main, NULL), 0, "threads test ran");
}

/** Two jobs of the help case: the first waits for the second. */
struct helped {
	/** The jobs. */
	struct sl_worker_job a, b;
	/** Set by job b; job a waits for it (at most 10 s). */
	atomic_int released;
	/** Kernel thread job a ran on (0 until it starts). */
	atomic_long tid_a;
	/** Kernel thread job b ran on. */
	long tid_b;
	/** Whether job a saw the release (else it gave up). */
	int a_released;
	/** Jobs not done yet. */
	int left;
	/** The task to wake when both are done. */
	struct sl_task *waiter;
};

/** Job a: hold the worker's only thread until job b has run. */
static int
helped_a(void *arg)
{
	struct helped *h = arg;
	atomic_store(&h->tid_a, tid());
	for (int i = 0; i < 10000 && !atomic_load(&h->released); i++)
		usleep(1000);
	h->a_released = atomic_load(&h->released);
	return 0;
}

/** Job b: release job a. */
static int
helped_b(void *arg)
{
	struct helped *h = arg;
	h->tid_b = tid();
	atomic_store(&h->released, 1);
	return 0;
}

/** on_done of both jobs. */
static void
helped_done(struct sl_worker_job *j)
{
	struct helped *h = j->data;
	if (--h->left == 0)
		sl_task_wakeup(h->waiter);
}

/**
 * sl_worker_help(): with its one thread held by a job that waits for the
 * next one, the loop thread runs the next one itself; the loop thread's
 * fault countdown is its own throughout.
 */
static int
help_main(void *arg)
{
	(void)arg;
	struct sl_worker *w = sl_worker_new_threads("helped", 1);
	if (w == NULL)
		return -1;
	static struct helped h;
	memset(&h, 0, sizeof(h));
	h.left = 2;
	h.waiter = sl_task_current();
	/* Job a first, before the loop helps (it would take a job that
	 * waits for another itself): the thread takes it. */
	if (sl_worker_post(w, &h.a, helped_a, &h, helped_done, &h) != 0)
		bail_out("cannot post job a");
	while (atomic_load(&h.tid_a) == 0)
		sl_sleep(0.001);
	sl_worker_help(w);
	sl_alloc_fail_after(1000);
	if (sl_worker_post(w, &h.b, helped_b, &h, helped_done, &h) != 0)
		bail_out("cannot post job b");
	double t0 = sl_clock();
	while (h.left > 0)
		sl_task_wait(SL_FOREVER);
	long countdown = sl_alloc_countdown();
	sl_alloc_fail_after(-1);
	ok(h.a_released && sl_clock() - t0 < 5,
	   "help: the job that waited for the next one ended (%.3f s)",
	   sl_clock() - t0);
	ok(atomic_load(&h.tid_a) != loop_tid,
	   "help: it ran on the worker's thread");
	is_int(h.tid_b, loop_tid,
	       "help: the next one ran on the loop thread meanwhile");
	is_int(countdown, 1000, "help: the loop thread's countdown is kept");
	ok(sl_worker_job_result(&h.a) == 0 && sl_worker_job_result(&h.b) == 0,
	   "help: both succeeded");
	sl_worker_delete(w);
	return 0;
}

/** Run help_main() as a task on a fresh loop. */
TAP_CASE(help)
{
	loop_tid = tid();
	is_int(run_task("main", help_main, NULL), 0, "help test ran");
}

/** One job of the help_waiting case. */
struct waited {
	/** The job. */
	struct sl_worker_job job;
	/** Kernel thread it ran on (0 until it ran). */
	atomic_long tid;
	/** The task to wake when it is done. */
	struct sl_task *waiter;
	/** Whether on_done ran. */
	bool done;
};

/** A job that only computes: note its thread. */
static int
waited_run(void *arg)
{
	struct waited *x = arg;
	atomic_store(&x->tid, tid());
	return 0;
}

/** on_done of a waited job. */
static void
waited_done(struct sl_worker_job *j)
{
	struct waited *x = j->data;
	x->done = true;
	sl_task_wakeup(x->waiter);
}

/** Wait for waited job `x` (at most `limit` seconds). Whether it is done. */
static bool
waited_post_wait(struct waited *x, double limit)
{
	double end = sl_clock() + limit;
	while (!x->done && sl_clock() < end)
		sl_task_wait(end - sl_clock());
	return x->done;
}

/**
 * Post waited job `x` and wait for it (at most `limit` seconds). Whether
 * it is done.
 */
static bool
waited_post(struct sl_worker *w, struct waited *x, double limit)
{
	memset(x, 0, sizeof(*x));
	x->waiter = sl_task_current();
	if (sl_worker_post(w, &x->job, waited_run, x, waited_done, x) != 0)
		bail_out("cannot post a job");
	return waited_post_wait(x, limit);
}

/**
 * sl_worker_help(): a queued job does not wait for a thread that is
 * waiting but not running (one the host has not scheduled yet, as
 * sl_worker_stall() makes it): the loop thread runs it. Once the thread
 * runs again, jobs still complete, and deleting a stalled worker ends.
 */
static int
help_waiting_main(void *arg)
{
	(void)arg;
	struct sl_worker *w = sl_worker_new_threads("waited", 1);
	if (w == NULL)
		return -1;
	sl_worker_help(w);
	static struct waited x;
	sl_worker_stall(w, true);
	double t0 = sl_clock();
	bool done = waited_post(w, &x, 2);
	double took = sl_clock() - t0;
	ok(done, "help_waiting: the job ran while the thread waited (%.3f s)",
	   took);
	is_int(atomic_load(&x.tid), loop_tid,
	       "help_waiting: on the loop thread");
	sl_worker_stall(w, false);
	/* Not done: the thread runs it now. */
	if (!done)
		waited_post_wait(&x, 5);
	ok(sl_worker_job_result(&x.job) == 0, "help_waiting: it succeeded");
	ok(waited_post(w, &x, 5) && sl_worker_job_result(&x.job) == 0,
	   "help_waiting: a job after the stall completes");
	/* Stalled again, with nothing queued: deleting lets the thread go
	 * to meet the stop request. */
	sl_worker_stall(w, true);
	sl_worker_delete(w);
	ok(1, "help_waiting: a stalled worker is deleted");
	return 0;
}

/** Run help_waiting_main() as a task on a fresh loop. */
TAP_CASE(help_waiting)
{
	loop_tid = tid();
	is_int(run_task("main", help_waiting_main, NULL), 0,
	       "help_waiting test ran");
}

/** Run basic_main() as a task on a fresh loop. */
TAP_CASE(basic)
{
	is_int(run_task("main", basic_main, NULL), 0, "basic test ran");
}

/** Run fifo_main() as a task on a fresh loop. */
TAP_CASE(fifo)
{
	is_int(run_task("main", fifo_main, NULL), 0, "FIFO test ran");
}

/** Run cancel_main() as a task on a fresh loop. */
TAP_CASE(cancel)
{
	is_int(run_task("main", cancel_main, NULL), 0, "cancel test ran");
}

/** Run run_cancel_main() as a task on a fresh loop. */
TAP_CASE(run_cancel)
{
	is_int(run_task("main", run_cancel_main, NULL), 0,
	       "run_cancel test ran");
}

/** Run cap_main() as a task on a fresh loop. */
TAP_CASE(cap)
{
	is_int(run_task("main", cap_main, NULL), 0, "cap test ran");
}

/** Run drain_main() as a task on a fresh loop. */
TAP_CASE(drain)
{
	is_int(run_task("main", drain_main, NULL), 0, "drain test ran");
}

/** Run deadlock_main() as a task on a fresh loop. */
TAP_CASE(deadlock)
{
	is_int(run_task("main", deadlock_main, NULL), -1,
	       "the deadlock test's loop reports the deadlock");
	sl_diag_clear(sl_diag_get());
}

/** Run faults_main() as a task on a fresh loop. */
TAP_CASE(faults)
{
	is_int(run_task("main", faults_main, NULL), 0, "fault test ran");
}

/** A worker made in a task is deleted outside tasks after the loop. */
TAP_CASE(leave)
{
	struct sl_loop *loop = sl_loop_new(NULL);
	struct sl_worker *w = NULL;
	is_int(sl_loop_run_main(loop, "main", leave_main, &w), 0,
	       "a worker made in a task");
	sl_worker_delete(w);
	ok(1, "is deleted outside tasks once the loop stopped");
	sl_loop_delete(loop);
}

/** The worker calls fail outside a task. */
TAP_CASE(outside)
{
	is_int(sl_worker_run(NULL, job_fn, NULL), -1,
	       "sl_worker_run() outside a task fails");
	is_err(SL_EINVAL, "with EINVAL");
	ok(sl_worker_new("x") == NULL, "so does sl_worker_new()");
	sl_diag_clear(sl_diag_get());
}

/** sl_offload_fn: the CPUs the job's thread may run on, into `arg`. */
static int
affinity_fn(void *arg)
{
	cpu_set_t *set = arg;
	if (pthread_getaffinity_np(pthread_self(), sizeof(*set), set) != 0) {
		sl_diag_set(SL_ESYSTEM, "pthread_getaffinity_np");
		return -1;
	}
	return 0;
}

/**
 * Made with `place` and `threads` threads, a worker's avoided CPU, and
 * in `seen` where a job of it could run.
 */
static int
placed(const char *name, unsigned threads, enum sl_worker_place place,
       cpu_set_t *seen)
{
	struct sl_worker *w = sl_worker_new_placed(name, threads, place);
	if (w == NULL)
		bail_out("cannot make worker %s", name);
	CPU_ZERO(seen);
	if (sl_worker_run(w, affinity_fn, seen) != 0)
		bail_out("worker %s: %s", name, unit_errmsg());
	int cpu = sl_worker_cpu_avoided(w);
	sl_worker_delete(w);
	return cpu;
}

/** Where a placed worker's threads may run. */
static int
placement_main(void *arg)
{
	(void)arg;
	cpu_set_t mine, seen, one;
	if (sched_getaffinity(0, sizeof(mine), &mine) != 0)
		bail_out("sched_getaffinity");
	int n = CPU_COUNT(&mine);
	int cpu = placed("beside", 1, SL_WORKER_BESIDE, &seen);
	if (n >= 2) {
		cpu_set_t rest;
		CPU_AND(&rest, &seen, &mine);
		ok(cpu >= 0 && CPU_ISSET(cpu, &mine),
		   "beside: keeps off one of the %d CPUs (%d)", n, cpu);
		ok(cpu >= 0 && !CPU_ISSET(cpu, &seen) &&
		           CPU_COUNT(&seen) == n - 1 && CPU_EQUAL(&rest, &seen),
		   "beside: its thread may run on each of the others (%d)",
		   CPU_COUNT(&seen));
	} else {
		ok(cpu == -1 && CPU_EQUAL(&seen, &mine),
		   "beside on one CPU: anywhere");
		note("one CPU: nothing to keep off");
	}
	if (n <= SL_WORKER_THREADS_MAX) {
		cpu = placed("crowded", (unsigned)n, SL_WORKER_BESIDE, &seen);
		ok(cpu == -1 && CPU_EQUAL(&seen, &mine),
		   "beside with a thread for each CPU: anywhere");
	} else {
		note("%d CPUs: more than a worker's threads", n);
	}
	cpu = placed("anywhere", 1, SL_WORKER_ANYWHERE, &seen);
	ok(cpu == -1 && CPU_EQUAL(&seen, &mine), "anywhere: every CPU");
	/* The calling thread held to one CPU leaves none for the worker. */
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &mine)) {
			CPU_SET(c, &one);
			break;
		}
	if (sched_setaffinity(0, sizeof(one), &one) != 0)
		bail_out("sched_setaffinity");
	cpu = placed("held", 1, SL_WORKER_BESIDE, &seen);
	if (sched_setaffinity(0, sizeof(mine), &mine) != 0)
		bail_out("sched_setaffinity");
	ok(cpu == -1 && CPU_EQUAL(&seen, &one),
	   "beside a thread held to one CPU: that CPU, shared");
	return 0;
}

/** Run placement_main() as a task on a fresh loop. */
TAP_CASE(placement)
{
	is_int(run_task("main", placement_main, NULL), 0, "placement test ran");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
