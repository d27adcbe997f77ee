/*
 * The speed issue's graph workload end to end (bench/graph_workload.py:
 * 63,666 player records, one source node and four relationship
 * interpretations, one of them find_many) into the `null:` target.
 *
 *   run_graph_recs_per_s        records/s of `sluice run pipeline.yaml
 *                               --target null: --threads 1` (value, one
 *                               core) against records/s of reading and
 *                               parsing the same file with no step after
 *                               the extractor (baseline), best of
 *                               BENCH_REPS runs each, alternating; ratio =
 *                               value / baseline.
 *   run_graph_threads_speedup   records/s of the same run with --threads
 *                               at the number of cores (value) against
 *                               --threads 1 (baseline), best of BENCH_REPS
 *                               each, alternating; ratio = value /
 *                               baseline. Skipped on one core.
 *   run_graph_parallel_ceiling  what two cores give at best on this host
 *                               in the same minutes: two one-thread runs
 *                               started together (two processes) against
 *                               the same two one after the other, the
 *                               order swapped every round; value = median
 *                               over rounds of (sequential wall / side by
 *                               side wall), baseline = median over the
 *                               same rounds of the --threads 2 speedup
 *                               (one-thread wall / two-thread wall);
 *                               ratio = value / baseline (1: the threads
 *                               get all the host gives). A '#' line gives
 *                               best and median of each, and the CPU
 *                               (user + system) and voluntary context
 *                               switches per run of 1 thread, 2 threads
 *                               and one run of the side-by-side pair.
 *   run_graph_threads_cpu_ratio CPU of a two-thread run / CPU of a
 *                               one-thread run (medians over the rounds;
 *                               value), against the CPU of one run of the
 *                               side-by-side pair / a one-thread run
 *                               (baseline: what sharing the host costs);
 *                               ratio = value / baseline. Both need two
 *                               cores; skipped on one.
 *   run_graph_core_round_trip   nanoseconds a cache line takes to go
 *                               from the first CPU the bench may run on
 *                               to the second and back (two threads
 *                               pinned, passing a value), measured at
 *                               the start of each ceiling round; value =
 *                               median over rounds, no baseline. A '#'
 *                               line splits the rounds' two-thread
 *                               speedups at NEAR_NS: a virtual machine's
 *                               two CPUs may share a cache or sit on
 *                               different dies, and the host moves them
 *                               (docs/performance.md, "Two cores near
 *                               and far").
 *   run_graph_wake_latency      microseconds from signalling a thread
 *                               that waits on a condition variable to
 *                               its running (the signaller spinning, as
 *                               the loop thread does when it posts a
 *                               job), the median of 21 signals 1 ms
 *                               apart, measured at the start of each
 *                               ceiling round; value = median over
 *                               rounds, no baseline. A '#' line splits
 *                               the rounds' two-thread speedups at
 *                               FAST_WAKE_US: a virtual CPU that went
 *                               idle may take milliseconds to run again.
 *   run_graph_instr_per_record  user-space instructions per record of the
 *                               first two runs on 10,000 records, counted
 *                               by valgrind's callgrind (repeatable on a
 *                               noisy machine); ratio = value / baseline.
 *                               Skipped with a '#' line without valgrind.
 *   run_graph_instr_per_extra_record
 *                               the same counted on 20,000 records too:
 *                               the instructions of the second 10,000
 *                               per record, so without start-up (the
 *                               dynamic linker, opening the pipeline),
 *                               which the figure above shares out;
 *                               baseline: the same for the parse-only run.
 *
 * Each run must exit 0 and its summary must count every record.
 *
 * usage: bench_graph_run [path/to/sluice [RECORDS [ROUNDS]]]
 * (ROUNDS: of the ceiling, BENCH_REPS by default; -ROUNDS: as many, and
 * no callgrind runs, for a quick look).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "spawn.h"

/** Name in messages. */
static const char bench[] = "bench_graph_run";

/** Records of the callgrind runs. */
#define CALLGRIND_RECORDS 10000

/** Slots of a `sluice run` argument vector (run_args()), its NULL included. */
#define RUN_ARGS 10

/** Generate the workload of `n` records in `dir`. 0, or -1. */
static int
generate(const char *dir, long n)
{
	char num[32];
	snprintf(num, sizeof(num), "%ld", n);
	char *argv[] = {"/usr/bin/python3",
	                SLUICE_SOURCE_DIR "/bench/graph_workload.py",
	                (char *)dir, num, NULL};
	double secs;
	if (bench_spawn(argv, NULL, &secs, NULL) != 0) {
		fprintf(stderr, "%s: bench/graph_workload.py failed\n", bench);
		return -1;
	}
	/* The baseline: the extractor alone. */
	char path[4096];
	snprintf(path, sizeof(path), "%s/parse.yaml", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        "- implementation: "
	        "nodestream.pipeline.extractors.files:FileExtractor\n"
	        "  factory: local\n"
	        "  arguments:\n"
	        "    globs: [%s/workload.jsonl]\n",
	        dir);
	return fclose(f) == 0 ? 0 : -1;
}

/** Whether the --json summary in `path` counts `n` records read. */
static int
counted(const char *path, long n)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char want[64];
	snprintf(want, sizeof(want), "\"in\":0,\"out\":%ld,", n);
	char line[8192];
	int found = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "\"event\":\"summary\"") != NULL &&
		    strstr(line, want) != NULL)
			found = 1;
	fclose(f);
	return found;
}

/**
 * Fill `argv` (RUN_ARGS slots) with `sluice run pipe [--target null:]
 * --json --no-progress --threads th`.
 */
static void
run_args(char **argv, const char *sluice, char *pipe, char *th, bool target)
{
	size_t i = 0;
	argv[i++] = (char *)sluice;
	argv[i++] = "run";
	argv[i++] = pipe;
	if (target) {
		argv[i++] = "--target";
		argv[i++] = "null:";
	}
	argv[i++] = "--json";
	argv[i++] = "--no-progress";
	argv[i++] = "--threads";
	argv[i++] = th;
	argv[i] = NULL;
}

/**
 * Run `pipeline` (in `dir`) on `threads` threads, into `null:` when
 * `target`; its wall seconds in *secs. 0, or -1 unless it exits 0 having
 * read `n` records.
 */
static int
run(const char *sluice, const char *dir, const char *pipeline, bool target,
    long threads, long n, double *secs)
{
	char pipe[4096], err[4096], th[32];
	snprintf(pipe, sizeof(pipe), "%s/%s", dir, pipeline);
	snprintf(err, sizeof(err), "%s/err.txt", dir);
	snprintf(th, sizeof(th), "%ld", threads);
	char *argv[RUN_ARGS];
	run_args(argv, sluice, pipe, th, target);
	if (bench_spawn(argv, err, secs, NULL) != 0 || !counted(err, n)) {
		fprintf(stderr, "%s: sluice run %s failed (see %s)\n", bench,
		        pipeline, err);
		return -1;
	}
	return 0;
}

/** What one run of the ceiling's rounds used. */
struct usage {
	/** Wall seconds (of the pair: from both starts to both ends). */
	double wall;
	/** CPU seconds, user + system (of the pair: per run). */
	double cpu;
	/** Voluntary context switches (of the pair: per run). */
	double nvcsw;
};

/** CPU seconds (user + system) in `ru`. */
static double
cpu_secs(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_stime.tv_sec +
	       ((double)ru->ru_utime.tv_usec + (double)ru->ru_stime.tv_usec) /
	               1e6;
}

/**
 * Start `sluice run pipeline.yaml --target null: --threads threads` in
 * `dir`, stderr to `err`; its pid in *pid. 0, or -1.
 */
static int
start_run(const char *sluice, const char *dir, const char *err, long threads,
          pid_t *pid)
{
	char pipe[4096], th[32];
	snprintf(pipe, sizeof(pipe), "%s/pipeline.yaml", dir);
	snprintf(th, sizeof(th), "%ld", threads);
	char *argv[RUN_ARGS];
	run_args(argv, sluice, pipe, th, true);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, err,
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc = posix_spawn(pid, sluice, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? 0 : -1;
}

/**
 * Wait for `pid` (its stderr in `err`); its CPU time and context switches
 * added to *sum. 0 if it exited 0 having read `n` records, or -1.
 */
static int
wait_run(pid_t pid, const char *err, long n, struct usage *sum)
{
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid)
		return -1;
	sum->cpu += cpu_secs(&ru);
	sum->nvcsw += (double)ru.ru_nvcsw;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && counted(err, n)
	               ? 0
	               : -1;
}

/**
 * `copies` (1 or 2) runs of `threads` threads started together, each
 * reading `n` records; the wall time of them all, and CPU and context
 * switches per run, in *u. 0, or -1 if one failed (see wait_run()).
 */
static int
timed_runs(const char *sluice, const char *dir, long n, long threads,
           int copies, struct usage *u)
{
	pid_t pid[2];
	char err[2][4096];
	*u = (struct usage){0};
	uint64_t t0 = bench_now_ns();
	int started = 0, rc = 0;
	for (; started < copies; started++) {
		snprintf(err[started], sizeof(err[started]), "%s/err%d.txt",
		         dir, started);
		if (start_run(sluice, dir, err[started], threads,
		              &pid[started]) != 0) {
			rc = -1;
			break;
		}
	}
	for (int i = 0; i < started; i++)
		if (wait_run(pid[i], err[i], n, u) != 0)
			rc = -1;
	u->wall = (double)(bench_now_ns() - t0) / 1e9;
	u->cpu /= copies;
	u->nvcsw /= copies;
	if (rc != 0)
		fprintf(stderr,
		        "%s: sluice run pipeline.yaml failed (see %s)\n", bench,
		        err[0]);
	return rc;
}

/** Smallest (`largest` false) or largest of the `n` values at `v`. */
static double
extreme(const double *v, int n, bool largest)
{
	double x = v[0];
	for (int i = 1; i < n; i++)
		if (largest ? v[i] > x : v[i] < x)
			x = v[i];
	return x;
}

/** Round trips of one core_round_trip() measure. */
#define PING_ROUNDS 100000

/**
 * Round trips (ns) under which the two CPUs count as near (sharing a
 * cache): this host's near placements measured 77-200 ns and its far
 * ones 450-1,000 (docs/performance.md).
 */
#define NEAR_NS 300.0

/** The cache line core_round_trip()'s threads pass back and forth. */
static _Alignas(64) atomic_uint ping;

/** Whether core_round_trip() gave up (the other thread did not answer). */
static atomic_bool ping_gave_up;

/** Pin the calling thread to CPU `cpu`. 0, or an errno value. */
static int
pin_to(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/**
 * Spin until `ping` holds `want`; false if core_round_trip() gave up (or,
 * `timed`, after 2 s: the other thread never ran).
 */
static bool
ping_wait(unsigned want, bool timed, uint64_t deadline)
{
	for (unsigned k = 1;; k++) {
		if (atomic_load_explicit(&ping, memory_order_acquire) == want)
			return true;
		if ((k & 0xffff) == 0 && (atomic_load(&ping_gave_up) ||
		                          (timed && bench_now_ns() > deadline)))
			return false;
	}
}

/**
 * The answering thread (made on its CPU: the caller spins on its own, at
 * a real-time priority under `chrt`): each odd value gets the next.
 */
static void *
pong(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < PING_ROUNDS; i++) {
		if (!ping_wait(2 * i + 1, false, 0))
			return NULL;
		atomic_store_explicit(&ping, 2 * i + 2, memory_order_release);
	}
	return NULL;
}

/**
 * Nanoseconds per round trip of a cache line between the first two CPUs
 * this process may run on (the best of three measures of PING_ROUNDS),
 * or -1 without two CPUs or when the other thread does not answer. The
 * calling thread's affinity is put back.
 */
static double
core_round_trip(void)
{
	cpu_set_t was;
	if (sched_getaffinity(0, sizeof(was), &was) != 0 || CPU_COUNT(&was) < 2)
		return -1;
	int cpu[2], k = 0;
	for (int c = 0; c < CPU_SETSIZE && k < 2; c++)
		if (CPU_ISSET(c, &was))
			cpu[k++] = c;
	double best = -1;
	for (int m = 0; m < 3; m++) {
		pthread_t t;
		pthread_attr_t at;
		cpu_set_t other;
		CPU_ZERO(&other);
		CPU_SET(cpu[1], &other);
		atomic_store(&ping, 0);
		atomic_store(&ping_gave_up, false);
		if (pthread_attr_init(&at) != 0)
			break;
		int made = pthread_attr_setaffinity_np(&at, sizeof(other),
		                                       &other) == 0 &&
		           pin_to(cpu[0]) == 0 &&
		           pthread_create(&t, &at, pong, NULL) == 0;
		pthread_attr_destroy(&at);
		if (!made)
			break;
		uint64_t t0 = bench_now_ns(), deadline = t0 + 2000000000u;
		bool ok = true;
		for (unsigned i = 0; i < PING_ROUNDS && ok; i++) {
			atomic_store_explicit(&ping, 2 * i + 1,
			                      memory_order_release);
			ok = ping_wait(2 * i + 2, true, deadline);
		}
		double ns = (double)(bench_now_ns() - t0) / PING_ROUNDS;
		if (!ok)
			atomic_store(&ping_gave_up, true);
		pthread_join(t, NULL);
		if (!ok) {
			best = -1;
			break;
		}
		best = best < 0 || ns < best ? ns : best;
	}
	(void)sched_setaffinity(0, sizeof(was), &was);
	return best;
}

/** Signals of one wake_latency() measure, WAKE_GAP_US apart. */
#define WAKE_SIGNALS 21

/** Microseconds between wake_latency()'s signals (the waiter's CPU may
 * go idle meanwhile). */
#define WAKE_GAP_US 1000

/** Median wake latencies (us) under which a round counts as fast. */
#define FAST_WAKE_US 100.0

/** What wake_latency()'s two threads share. */
struct waker {
	/** Guards `go`. */
	pthread_mutex_t lock;
	/** Signalled with `go` set. */
	pthread_cond_t cond;
	/** Set to wake the waiter; it clears it. */
	bool go;
	/** Set to end the waiter. */
	bool stop;
	/** When the waiter ran after its last wake (bench_now_ns()), 0
	 * before. */
	atomic_ullong ran;
};

/** wake_latency()'s waiter: note when each wake-up runs. */
static void *
waiter(void *arg)
{
	struct waker *k = arg;
	pthread_mutex_lock(&k->lock);
	for (;;) {
		while (!k->go && !k->stop)
			pthread_cond_wait(&k->cond, &k->lock);
		if (k->stop)
			break;
		k->go = false;
		atomic_store(&k->ran, bench_now_ns());
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

/**
 * Microseconds from signalling a thread that waits on a condition
 * variable to that thread running, while the signalling thread keeps its
 * CPU busy, as the loop thread does when it posts a job: the median of
 * WAKE_SIGNALS signals WAKE_GAP_US apart, or -1 when it cannot be taken
 * (a wake-up over 1 s counts as 1 s). A virtual CPU that went idle may
 * take milliseconds to run again (docs/performance.md, "The loop thread
 * does not wait for a waking thread").
 */
static double
wake_latency(void)
{
	struct waker k = {.go = false};
	pthread_t t;
	if (pthread_mutex_init(&k.lock, NULL) != 0)
		return -1;
	if (pthread_cond_init(&k.cond, NULL) != 0) {
		pthread_mutex_destroy(&k.lock);
		return -1;
	}
	double v[WAKE_SIGNALS], m = -1;
	if (pthread_create(&t, NULL, waiter, &k) == 0) {
		for (int i = 0; i < WAKE_SIGNALS; i++) {
			usleep(WAKE_GAP_US);
			atomic_store(&k.ran, 0);
			uint64_t t0 = bench_now_ns();
			pthread_mutex_lock(&k.lock);
			k.go = true;
			pthread_cond_signal(&k.cond);
			pthread_mutex_unlock(&k.lock);
			uint64_t ran;
			while ((ran = atomic_load(&k.ran)) == 0 &&
			       bench_now_ns() - t0 < 1000000000u)
				;
			v[i] = ran != 0 && ran > t0 ? (double)(ran - t0) / 1e3
			                            : 1e6;
		}
		pthread_mutex_lock(&k.lock);
		k.stop = true;
		pthread_cond_signal(&k.cond);
		pthread_mutex_unlock(&k.lock);
		pthread_join(t, NULL);
		m = bench_median(v, WAKE_SIGNALS);
	}
	pthread_cond_destroy(&k.cond);
	pthread_mutex_destroy(&k.lock);
	return m;
}

/**
 * The median two-thread speedup of the rounds whose figure `by` (a round
 * trip, a wake-up) is (`under`) or is not under `limit`, and how many
 * there were (*count); -1 if none. Rounds without the figure (< 0) count
 * in neither.
 */
static double
speedup_where(const double *speedup, const double *by, int rounds, double limit,
              bool under, int *count)
{
	double *v = malloc((size_t)(rounds > 0 ? rounds : 1) * sizeof(*v));
	int k = 0;
	for (int r = 0; v != NULL && r < rounds; r++)
		if (by[r] >= 0 && (by[r] < limit) == under)
			v[k++] = speedup[r];
	*count = k;
	double m = k > 0 ? bench_median(v, (size_t)k) : -1;
	free(v);
	return m;
}

/**
 * Print the two-thread speedup's medians over the rounds whose figure
 * `by` is under `limit` (rounds with `what`) and over the others.
 */
static void
print_split(const double *speedup, const double *by, int rounds, double limit,
            const char *what)
{
	int n_under, n_over;
	double under =
	        speedup_where(speedup, by, rounds, limit, true, &n_under);
	double over = speedup_where(speedup, by, rounds, limit, false, &n_over);
	char a[32] = "", b[32] = "";
	if (n_under > 0)
		snprintf(a, sizeof(a), ", median %.2f", under);
	if (n_over > 0)
		snprintf(b, sizeof(b), ", median %.2f", over);
	printf("# two-thread speedup: %d rounds with %s%s; %d rounds over%s\n",
	       n_under, what, a, n_over, b);
}

/** Figures of the ceiling's rounds, one array per figure. */
enum {
	F_SPEEDUP,
	F_CEILING,
	F_CPU1,
	F_CPU2,
	F_CPUPAIR,
	F_CPURATIO,
	F_CPUSHARE,
	F_CSW1,
	F_CSW2,
	F_CSWPAIR,
	F_RTT,
	F_WAKE,
	F_N
};

/**
 * The same-run ceiling (see the top of the file) of runs reading `n`
 * records: `rounds` rounds of a
 * one-thread run, a two-thread run, two one-thread runs side by side and
 * the same two one after the other, the order reversed every other round.
 * 0, or -1.
 */
static int
ceiling(const char *sluice, const char *dir, long n, int rounds)
{
	double *f[F_N];
	int rc = 0;
	for (int i = 0; i < F_N; i++)
		if ((f[i] = calloc((size_t)rounds, sizeof(double))) == NULL)
			rc = -1;
	for (int r = 0; r < rounds && rc == 0; r++) {
		struct usage one, two, pair, seq_a, seq_b;
		f[F_RTT][r] = core_round_trip();
		f[F_WAKE][r] = wake_latency();
		if (r % 2 == 0)
			rc = timed_runs(sluice, dir, n, 1, 1, &one) ||
			     timed_runs(sluice, dir, n, 2, 1, &two) ||
			     timed_runs(sluice, dir, n, 1, 2, &pair) ||
			     timed_runs(sluice, dir, n, 1, 1, &seq_a) ||
			     timed_runs(sluice, dir, n, 1, 1, &seq_b);
		else
			rc = timed_runs(sluice, dir, n, 1, 1, &seq_a) ||
			     timed_runs(sluice, dir, n, 1, 1, &seq_b) ||
			     timed_runs(sluice, dir, n, 1, 2, &pair) ||
			     timed_runs(sluice, dir, n, 2, 1, &two) ||
			     timed_runs(sluice, dir, n, 1, 1, &one);
		if (rc != 0)
			break;
		f[F_SPEEDUP][r] = one.wall / two.wall;
		f[F_CEILING][r] = (seq_a.wall + seq_b.wall) / pair.wall;
		f[F_CPU1][r] = one.cpu * 1e3;
		f[F_CPU2][r] = two.cpu * 1e3;
		f[F_CPUPAIR][r] = pair.cpu * 1e3;
		f[F_CPURATIO][r] = two.cpu / one.cpu;
		f[F_CPUSHARE][r] = pair.cpu / one.cpu;
		f[F_CSW1][r] = one.nvcsw;
		f[F_CSW2][r] = two.nvcsw;
		f[F_CSWPAIR][r] = pair.nvcsw;
	}
	if (rc == 0) {
		/* Before the medians sort the figures. */
		char what[64];
		snprintf(what, sizeof(what), "a round trip under %.0f ns",
		         NEAR_NS);
		print_split(f[F_SPEEDUP], f[F_RTT], rounds, NEAR_NS, what);
		snprintf(what, sizeof(what), "a median wake-up under %.0f us",
		         FAST_WAKE_US);
		print_split(f[F_SPEEDUP], f[F_WAKE], rounds, FAST_WAKE_US,
		            what);
		static const char *const name[F_N] = {
		        "speedup (2 threads)",
		        "ceiling (pair)",
		        "CPU ms, 1 thread",
		        "CPU ms, 2 threads",
		        "CPU ms, a pair's run",
		        "CPU 2 threads / 1",
		        "CPU pair's run / 1",
		        "voluntary csw, 1 thread",
		        "voluntary csw, 2 threads",
		        "voluntary csw, a pair's run",
		        "core round trip ns",
		        "wake-up us"};
		double med[F_N];
		for (int i = 0; i < F_N; i++) {
			/* Speedups: the best is the largest. */
			bool up = i == F_SPEEDUP || i == F_CEILING;
			double best = extreme(f[i], rounds, up);
			med[i] = bench_median(f[i], (size_t)rounds);
			printf("# %s: best %.2f median %.2f (%d rounds)\n",
			       name[i], best, med[i], rounds);
		}
		if (med[F_RTT] >= 0)
			printf("BENCH run_graph_core_round_trip value=%.0f "
			       "unit=ns\n",
			       med[F_RTT]);
		if (med[F_WAKE] >= 0)
			printf("BENCH run_graph_wake_latency value=%.0f "
			       "unit=us\n",
			       med[F_WAKE]);
		bench_result("run_graph_parallel_ceiling", med[F_CEILING], "x",
		             med[F_SPEEDUP], med[F_CEILING] / med[F_SPEEDUP],
		             3);
		bench_result("run_graph_threads_cpu_ratio",
		             med[F_CPU2] / med[F_CPU1], "x",
		             med[F_CPUPAIR] / med[F_CPU1],
		             (med[F_CPU2] / med[F_CPU1]) /
		                     (med[F_CPUPAIR] / med[F_CPU1]),
		             3);
	}
	for (int i = 0; i < F_N; i++)
		free(f[i]);
	return rc;
}

/**
 * Instructions of `sluice run` of `pipeline` under callgrind, in *out.
 * 0, or -1.
 */
static int
instructions(const char *sluice, const char *dir, const char *pipeline,
             bool target, double *out)
{
	char pipe[4096], err[4096], cg[4096];
	snprintf(pipe, sizeof(pipe), "%s/%s", dir, pipeline);
	snprintf(err, sizeof(err), "%s/cg.txt", dir);
	snprintf(cg, sizeof(cg), "--callgrind-out-file=%s/cg.out", dir);
	char *argv[] = {"/usr/bin/valgrind",
	                "--tool=callgrind",
	                cg,
	                (char *)sluice,
	                "run",
	                pipe,
	                "--no-progress",
	                "--threads",
	                "1",
	                target ? "--target" : NULL,
	                "null:",
	                NULL};
	double secs;
	if (bench_spawn(argv, err, &secs, NULL) != 0)
		return -1;
	FILE *f = fopen(err, "r");
	if (f == NULL)
		return -1;
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *c = strstr(line, "Collected : ");
		if (c != NULL) {
			*out = strtod(c + 12, NULL);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : SLUICE_BIN;
	long n = argc > 2 ? atol(argv[2]) : 63666;
	int rounds = argc > 3 ? atoi(argv[3]) : BENCH_REPS;
	bool quick = rounds < 0;
	rounds = quick ? -rounds : rounds > 0 ? rounds : BENCH_REPS;
	char dir[] = "/tmp/sluice-bench-graph-XXXXXX";
	if (mkdtemp(dir) == NULL || generate(dir, n) != 0)
		return 1;
	double best_run = 1e30, best_parse = 1e30;
	int rc = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	double best_all = 1e30;
	for (int i = 0; i < BENCH_REPS && rc == 0; i++) {
		double a, b, c = 0;
		if (run(sluice, dir, "pipeline.yaml", true, 1, n, &a) != 0 ||
		    run(sluice, dir, "parse.yaml", false, 1, n, &b) != 0 ||
		    (cores > 1 && run(sluice, dir, "pipeline.yaml", true, cores,
		                      n, &c) != 0)) {
			rc = 1;
			break;
		}
		best_run = a < best_run ? a : best_run;
		best_parse = b < best_parse ? b : best_parse;
		best_all = c < best_all ? c : best_all;
	}
	if (rc == 0) {
		double v = (double)n / best_run, base = (double)n / best_parse;
		printf("# %ld records: best of %d, %.3f s through the graph "
		       "writer on one thread, %.3f s parse only\n",
		       n, BENCH_REPS, best_run, best_parse);
		bench_result("run_graph_recs_per_s", v, "rec/s", base, v / base,
		             0);
		if (cores > 1) {
			double all = (double)n / best_all;
			printf("# %.3f s with %ld threads\n", best_all, cores);
			bench_result("run_graph_threads_speedup", all, "rec/s",
			             v, all / v, 0);
		} else {
			printf("# skipped run_graph_threads_speedup: one "
			       "core\n");
		}
	}
	if (rc == 0 && cores > 1)
		rc = ceiling(sluice, dir, n, rounds) != 0;
	else if (rc == 0)
		printf("# skipped run_graph_parallel_ceiling and "
		       "run_graph_threads_cpu_ratio: one core\n");
	char small[sizeof(dir) + 16];
	snprintf(small, sizeof(small), "%s/cg", dir);
	if (rc == 0 && quick) {
		printf("# skipped run_graph_instr_per_record: ROUNDS < 0\n");
	} else if (rc == 0 && access("/usr/bin/valgrind", X_OK) != 0) {
		printf("# skipped run_graph_instr_per_record: no valgrind\n");
	} else if (rc == 0) {
		double a, b, a2, b2;
		if (mkdir(small, 0700) != 0 ||
		    generate(small, CALLGRIND_RECORDS) != 0 ||
		    instructions(sluice, small, "pipeline.yaml", true, &a) !=
		            0 ||
		    instructions(sluice, small, "parse.yaml", false, &b) != 0 ||
		    generate(small, 2 * CALLGRIND_RECORDS) != 0 ||
		    instructions(sluice, small, "pipeline.yaml", true, &a2) !=
		            0 ||
		    instructions(sluice, small, "parse.yaml", false, &b2) !=
		            0) {
			fprintf(stderr, "%s: the callgrind runs failed\n",
			        bench);
			rc = 1;
		} else {
			bench_result("run_graph_instr_per_record",
			             a / CALLGRIND_RECORDS, "instr",
			             b / CALLGRIND_RECORDS, a / b, 0);
			bench_result("run_graph_instr_per_extra_record",
			             (a2 - a) / CALLGRIND_RECORDS, "instr",
			             (b2 - b) / CALLGRIND_RECORDS,
			             (a2 - a) / (b2 - b), 0);
		}
	}
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: could not remove %s\n", bench, dir);
	return rc;
}
