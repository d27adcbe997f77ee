/*
 * 10,000 tasks sleep for random times and wake in deadline order; all
 * finish. Reports peak RSS. The tasks first run and wait, then all start
 * their sleeps from one common time.
 */
#include <stdlib.h>
#include <sys/resource.h>

#include "sluice/alloc.h"
#include "sluice/task.h"
#include "unit.h"

/** Whether this is a sanitizer build (several times slower). */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/** Number of tasks. */
#define N 10000

/** Per-task state. */
struct sleeper {
	/** Milliseconds after the common start to wake at. */
	int ms;
	/** The common start (sl_clock() time). */
	double start;
	/** Sequence number of its wakeup. */
	int woke_at;
	/** Whether its wake time had passed before it could go to sleep. */
	int late;
};

/** Wakeups so far. */
static int woken;
/** Tasks that saw sl_sleep fail. */
static int failures;
/** Tasks that have run (and wait for the start). */
static int started;

/** Sleeps its time and records the wakeup order. */
static int
sleeper(void *arg)
{
	struct sleeper *s = arg;
	/* Wait for the common start: a task's first run touches its stack
	 * for the first time, which is slow on some VMs, and must not eat
	 * into the head start. */
	started++;
	if (sl_task_wait(SL_FOREVER) != 0)
		failures++;
	double when = s->start + s->ms / 1000.0;
	s->late = when <= sl_clock();
	if (sl_sleep_until(when) != 0)
		failures++;
	s->woke_at = woken++;
	return 0;
}

/** Main task. */
static int
main_task(void *arg)
{
	struct sleeper *s = arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_task **t = sl_calloc(N, sizeof(*t));
	srand(12345);
	int spawned = 0;
	for (int i = 0; i < N; i++) {
		t[i] = sl_task_spawn(loop, "sleeper", sleeper, &s[i]);
		spawned += t[i] != NULL;
	}
	while (started < spawned)
		sl_task_yield();
	/*
	 * Wake times: a random permutation spread over 500 ms, after a head
	 * start long enough for every task to have gone to sleep (valgrind
	 * is ~50 times slower; a sanitizer build on a loaded machine let 11 %
	 * of the tasks start late after 300 ms).
	 */
	int head = getenv("SLUICE_UNDER_VALGRIND") != NULL ? 3000
	           : SANITIZED                             ? 1000
	                                                   : 300;
	double start = sl_clock();
	int *perm = sl_calloc(N, sizeof(*perm));
	for (int i = 0; i < N; i++)
		perm[i] = i;
	for (int i = N - 1; i > 0; i--) {
		int j = rand() % (i + 1), tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
	for (int i = 0; i < N; i++) {
		s[i].ms = head + perm[i] / 20;
		s[i].start = start;
	}
	for (int i = 0; i < N; i++)
		if (t[i] != NULL)
			sl_task_wakeup(t[i]);
	is_int(spawned, N, "10,000 tasks spawned");
	is_int(sl_loop_task_count(loop), N + 1, "all alive at once");
	int joined = 0;
	for (int i = 0; i < N; i++)
		joined += sl_task_join(t[i]) == 0;
	is_int(joined, N, "all finished");
	is_int(failures, 0, "no sleep failed");
	/* A task that was already late when it first ran says nothing. */
	int in_order = 1, late = 0;
	for (int i = 0; i < N; i++) {
		late += s[i].late;
		for (int j = 0; j < N && in_order && !s[i].late; j += 97) {
			if (!s[j].late && s[i].ms < s[j].ms &&
			    s[i].woke_at > s[j].woke_at) {
				in_order = 0;
				note("task %d (%d ms) woke as #%d, after task "
				     "%d (%d ms) woke as #%d",
				     i, s[i].ms, s[i].woke_at, j, s[j].ms,
				     s[j].woke_at);
			}
		}
	}
	ok(in_order, "tasks woke in the order of their deadlines");
	ok(late < N / 10, "%d of %d tasks were late to go to sleep", late, N);
	sl_free(perm);
	sl_free(t);
	return 0;
}

/** Ten thousand tasks sleeping at once. */
TAP_CASE(sleep10k)
{
	struct sleeper *s = sl_calloc(N, sizeof(*s));
	struct sl_loop *loop = sl_loop_new(NULL);
	double t0 = sl_clock();
	is_int(sl_loop_run_main(loop, "main", main_task, s), 0, "ran");
	double dt = sl_clock() - t0;
	sl_loop_delete(loop);
	sl_free(s);
	/* valgrind runs it several times slower (more on a loaded machine). */
	double limit = getenv("SLUICE_UNDER_VALGRIND") != NULL ? 120 : 30;
	ok(dt < limit, "in %.2f s (limit %.0f s)", dt, limit);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	note("peak RSS with 10,000 live tasks: %ld KiB", ru.ru_maxrss);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
