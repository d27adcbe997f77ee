/*
 * Benchmark: memory held by 10,000 suspended tasks.
 *
 * tasks_10k_rss_kib: peak RSS of a forked child that spawns 10,000 tasks
 * which all suspend in sl_task_wait(), then cancels and reaps them (value),
 * against a forked child that starts 10,000 pthreads with stacks of the
 * same default size, all blocked on a condvar, then releases and joins
 * them (baseline). Peak RSS comes from wait4()'s ru_maxrss. A child that
 * does nothing is measured too, for reference: every child starts from
 * the parent's footprint at fork time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "sluice/diag.h"
#include "sluice/task.h"

/** Tasks or threads per child. */
#define UNITS 10000L
/** Stack size of a baseline thread: the task default. */
#define THREAD_STACK ((size_t)SL_TASK_STACK_DEFAULT)

/** What a child tells the parent, through a shared mapping. */
struct report {
	/** Tasks or threads that were suspended at the same time. */
	long suspended;
	/** The child's current RSS at that moment, in KiB. */
	long rss_kib;
	/** pthread_create()'s error if it stopped early, else 0. */
	int create_err;
};

/** Body of a child process: 0 on success. */
typedef int (*child_fn)(struct report *r);

/** The calling process's current RSS in KiB, or -1. */
static long
current_rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return -1;
	unsigned long size, resident;
	int n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	if (n != 2)
		return -1;
	return (long)(resident * (unsigned long)sysconf(_SC_PAGESIZE) / 1024);
}

/** Child that does nothing. */
static int
child_idle(struct report *r)
{
	r->rss_kib = current_rss_kib();
	return 0;
}

/** State of the tasks child. */
struct tasks_state {
	/** The sleeping tasks. */
	struct sl_task **tasks;
	/** Tasks that reached their wait. */
	long suspended;
	/** Tasks whose wait ended other than by cancellation. */
	long bad;
	/** Where to report. */
	struct report *r;
};

/** Task: wait until cancelled. */
static int
sleeper(void *arg)
{
	struct tasks_state *st = arg;
	st->suspended++;
	if (sl_task_wait(SL_FOREVER) == 0 || sl_diag_code() != SL_ECANCELLED)
		st->bad++;
	sl_diag_clear(sl_diag_get());
	return 0;
}

/** Main task of the tasks child: spawn, measure, cancel, reap. */
static int
tasks_main(void *arg)
{
	struct tasks_state *st = arg;
	long spawned = 0;
	for (; spawned < UNITS; spawned++) {
		st->tasks[spawned] = sl_task_spawn(sl_loop_current(), "sleeper",
		                                   sleeper, st);
		if (st->tasks[spawned] == NULL)
			break;
	}
	for (int i = 0; i < 10 && st->suspended < spawned; i++)
		sl_task_yield();
	st->r->suspended = st->suspended;
	st->r->rss_kib = current_rss_kib();
	for (long i = 0; i < spawned; i++)
		sl_task_cancel(st->tasks[i]);
	for (long i = 0; i < spawned; i++)
		sl_task_reap(st->tasks[i]);
	if (spawned < UNITS) {
		sl_diag_wrap(SL_ELIMIT, "spawned only %ld of %ld tasks",
		             spawned, UNITS);
		return -1;
	}
	if (st->suspended != UNITS || st->bad != 0) {
		sl_diag_set(SL_EINVAL,
		            "%ld of %ld tasks suspended, %ld woke wrongly",
		            st->suspended, UNITS, st->bad);
		return -1;
	}
	return 0;
}

/** Child that holds UNITS suspended tasks. */
static int
child_tasks(struct report *r)
{
	struct tasks_state st = {.r = r};
	st.tasks = calloc(UNITS, sizeof(*st.tasks));
	if (st.tasks == NULL)
		return -1;
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL) {
		bench_fail("bench_tasks_rss", "cannot create a loop");
		free(st.tasks);
		return -1;
	}
	int rc = sl_loop_run_main(loop, "main", tasks_main, &st);
	if (rc != 0)
		bench_fail("bench_tasks_rss", "the tasks child failed");
	sl_loop_delete(loop);
	free(st.tasks);
	return rc;
}

/** State of the threads child. */
struct threads_state {
	/** Guards the fields below. */
	pthread_mutex_t mu;
	/** Signalled by each thread as it starts waiting. */
	pthread_cond_t arrived;
	/** Broadcast to release the threads. */
	pthread_cond_t go;
	/** Threads waiting. */
	long waiting;
	/** Set to release the threads. */
	int released;
};

/** Thread: wait until released. */
static void *
blocker(void *arg)
{
	struct threads_state *st = arg;
	pthread_mutex_lock(&st->mu);
	st->waiting++;
	pthread_cond_signal(&st->arrived);
	while (!st->released)
		pthread_cond_wait(&st->go, &st->mu);
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/** Child that holds up to UNITS blocked threads. */
static int
child_threads(struct report *r)
{
	struct threads_state st = {
	        .mu = PTHREAD_MUTEX_INITIALIZER,
	        .arrived = PTHREAD_COND_INITIALIZER,
	        .go = PTHREAD_COND_INITIALIZER,
	};
	pthread_t *th = calloc(UNITS, sizeof(*th));
	if (th == NULL)
		return -1;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	int rc = pthread_attr_setstacksize(&attr, THREAD_STACK);
	if (rc != 0) {
		fprintf(stderr, "bench_tasks_rss: stack size: %s\n",
		        strerror(rc));
		free(th);
		return -1;
	}
	long created = 0;
	for (; created < UNITS; created++) {
		rc = pthread_create(&th[created], &attr, blocker, &st);
		if (rc != 0) {
			r->create_err = rc;
			break;
		}
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_lock(&st.mu);
	while (st.waiting < created)
		pthread_cond_wait(&st.arrived, &st.mu);
	pthread_mutex_unlock(&st.mu);
	r->suspended = created;
	r->rss_kib = current_rss_kib();
	pthread_mutex_lock(&st.mu);
	st.released = 1;
	pthread_cond_broadcast(&st.go);
	pthread_mutex_unlock(&st.mu);
	for (long i = 0; i < created; i++)
		pthread_join(th[i], NULL);
	free(th);
	return created > 0 ? 0 : -1;
}

/**
 * Run `fn` in a forked child and return the child's peak RSS in KiB, or -1
 * if it could not run or failed. `r` must be shared with the child.
 */
static long
run_child(child_fn fn, struct report *r)
{
	memset(r, 0, sizeof(*r));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench_tasks_rss: fork");
		return -1;
	}
	if (pid == 0) {
		int rc = fn(r);
		fflush(stdout);
		fflush(stderr);
		_exit(rc == 0 ? 0 : 1);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("bench_tasks_rss: wait4");
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr,
		        "bench_tasks_rss: a child failed (status %#x)\n",
		        status);
		return -1;
	}
	return ru.ru_maxrss;
}

/** Run the three children BENCH_REPS times and print the figures. */
int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct report *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
	                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED) {
		perror("bench_tasks_rss: mmap");
		return EXIT_FAILURE;
	}
	double idle[BENCH_REPS], tasks[BENCH_REPS], threads[BENCH_REPS];
	long min_threads = UNITS;
	int create_err = 0;
	for (int i = 0; i < BENCH_REPS; i++) {
		long idle_kib = run_child(child_idle, r);
		long tasks_kib = run_child(child_tasks, r);
		long tasks_now = r->rss_kib;
		long threads_kib = run_child(child_threads, r);
		if (idle_kib < 0 || tasks_kib < 0 || threads_kib < 0)
			return EXIT_FAILURE;
		if (r->suspended < min_threads) {
			min_threads = r->suspended;
			create_err = r->create_err;
		}
		idle[i] = (double)idle_kib;
		tasks[i] = (double)tasks_kib;
		threads[i] = (double)threads_kib;
		printf("# tasks_10k_rss_kib rep %d/%d: idle %ld KiB, tasks %ld "
		       "KiB (%ld KiB with all suspended), pthreads %ld KiB "
		       "(%ld KiB with %ld blocked)\n",
		       i + 1, BENCH_REPS, idle_kib, tasks_kib, tasks_now,
		       threads_kib, r->rss_kib, r->suspended);
	}
	double idle_m = bench_median(idle, BENCH_REPS);
	double value = bench_median(tasks, BENCH_REPS);
	double baseline = bench_median(threads, BENCH_REPS);
	printf("# idle process RSS: %.0f KiB (peak of a forked child that does "
	       "nothing)\n",
	       idle_m);
	printf("# above idle: %.2f KiB per task, %.2f KiB per pthread "
	       "(stacks of %zu KiB)\n",
	       (value - idle_m) / (double)UNITS,
	       (baseline - idle_m) /
	               (double)(min_threads > 0 ? min_threads : 1),
	       THREAD_STACK / 1024);
	if (min_threads < UNITS) {
		printf("# note: only %ld of %ld pthreads could be created "
		       "(%s); the baseline is for %ld threads\n",
		       min_threads, UNITS, strerror(create_err), min_threads);
		if (min_threads > 0)
			printf("# note: %ld pthreads would come to about %.0f "
			       "KiB at the same cost per thread\n",
			       UNITS,
			       idle_m + (baseline - idle_m) * (double)UNITS /
			                        (double)min_threads);
	}
	bench_result("tasks_10k_rss_kib", value, "KiB", baseline,
	             baseline / value, 0);
	munmap(r, sizeof(*r));
	return EXIT_SUCCESS;
}
