/*
 * 10,000 concurrent tasks sharing a pool of 20 PostgreSQL connections.
 *
 * One round: 10,000 tasks on one loop, each acquiring a connection from
 * one sl_db_pool of 20 (acquire timeout 60 s), running `SELECT $1::int +
 * 1` with its own number, checking the answer and releasing (sluice);
 * against one thread driving 20 non-blocking libpq connections from a
 * poll() loop through the same 10,000 queries, prepared, with binary
 * parameters and results, answers checked (libpq). Connections are opened
 * before the clock starts on both sides. Each side runs ROUNDS rounds in
 * one process, one after the other, on the same loop, pool or connections.
 *
 *   tasks_10k_queries       wall seconds of a round once the process is
 *                           warm: the median of rounds 2..ROUNDS (the
 *                           loop's stack cache holds the stacks of the
 *                           round before), against the same for libpq.
 *                           ratio = baseline / value.
 *   tasks_10k_queries_cold  wall seconds of round 1, the first burst of
 *                           10,000 tasks in the process (every stack mapped
 *                           and touched for the first time; the pool also
 *                           prepares its statement on each connection
 *                           here), against libpq's round 1.
 *   tasks_10k_peak_rss      peak RSS (KiB) of the forked child process that
 *                           ran the sluice side (pool, loop, all rounds).
 *
 * Each side runs in a forked child of its own, so that ru_maxrss (from
 * wait4()) is that side's; BENCH_REPS repetitions each, alternating
 * libpq and sluice, medians reported. The CPU time (user + system) of each
 * round is printed too: on a shared machine it moves less than wall time.
 *
 * usage: bench_tasks_10k [URI]   (default: $SLUICE_BENCH_PG)
 *
 * For profiling one side alone (perf, strace, callgrind), set
 * BENCH_TASKS_SIDE to `sluice` or `libpq`: that side runs once, in the
 * process itself (no fork), its rounds are printed, and no BENCH line;
 * BENCH_TASKS_ROUNDS sets its number of rounds (1 to 64, default 4).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "sluice/db.h"
#include "sluice/task.h"

/** Name in messages. */
static const char bench[] = "bench_tasks_10k";

/** Tasks, and queries on the baseline side. */
#define TASKS 10000
/** Connections on each side. */
#define CONNS 20
/** The query. */
#define SQL "SELECT $1::int + 1"
/** Type OID of int4. */
#define OID_INT4 23

/** Rounds per child: the first is cold, the others warm. */
#define ROUNDS 4
/** Most rounds BENCH_TASKS_ROUNDS may ask for (one side alone). */
#define ROUNDS_MAX 64

/** Rounds per child: ROUNDS, or BENCH_TASKS_ROUNDS for one side alone. */
static int rounds = ROUNDS;

/** What a child tells the parent, through a shared mapping. */
struct report {
	/** Wall seconds of each round's queries. */
	double secs[ROUNDS_MAX];
	/** CPU seconds (user + system) of each round. */
	double cpu[ROUNDS_MAX];
	/** Page faults (minor and major) of each round. */
	long faults[ROUNDS_MAX];
	/** Times each round blocked (voluntary context switches). */
	long blocks[ROUNDS_MAX];
	/** Queries answered correctly, over all rounds. */
	long ok;
};

/** What the process used so far: CPU time, page faults, blocks. */
struct usage {
	/** CPU seconds (user + system). */
	double cpu;
	/** Page faults, minor and major. */
	long faults;
	/** Voluntary context switches. */
	long blocks;
};

/** The process's usage so far. */
static struct usage
usage_now(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (struct usage){
	        .cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) /
	                       1e6,
	        .faults = ru.ru_minflt + ru.ru_majflt,
	        .blocks = ru.ru_nvcsw,
	};
}

/** Record round `k`'s usage since `u0` in `r`. */
static void
usage_record(struct report *r, int k, struct usage u0)
{
	struct usage u = usage_now();
	r->cpu[k] = u.cpu - u0.cpu;
	r->faults[k] = u.faults - u0.faults;
	r->blocks[k] = u.blocks - u0.blocks;
}

/** Print each round of `r`: wall, CPU, page faults and blocks. */
static void
print_rounds(const struct report *r)
{
	for (int k = 0; k < rounds; k++)
		printf(" %.3f s (cpu %.3f, %ld faults, %ld blocks)", r->secs[k],
		       r->cpu[k], r->faults[k], r->blocks[k]);
}

/** Body of a child process: 0 on success. */
typedef int (*child_fn)(const char *uri, struct report *r);

/* --- The sluice side ---------------------------------------------------- */

/** The sluice child's shared state. */
struct sl_state {
	/** Server URI. */
	const char *uri;
	/** The pool. */
	struct sl_db_pool *pool;
	/** Correct answers. */
	long ok;
	/** Each task's number (its argument points at its slot). */
	int nums[TASKS];
	/** The tasks. */
	struct sl_task *tasks[TASKS];
};

/** The shared state, for the tasks (one per child process). */
static struct sl_state *sl_st;

/** A task: acquire, query, check, release. */
static int
one_task(void *arg)
{
	int n = *(const int *)arg;
	struct sl_db_conn *c = sl_db_pool_acquire(sl_st->pool, 60.0);
	if (c == NULL)
		return -1;
	struct sl_db_result *r = sl_db_query(c, SQL, SL_ARGS(sl_int(n)));
	if (r == NULL) {
		sl_db_pool_release(c);
		return -1;
	}
	const struct sl_value *v =
	        sl_db_result_rows(r) == 1 && sl_db_result_cols(r) == 1
	                ? sl_db_result_get(r, 0, 0)
	                : NULL;
	if (v != NULL && v->type == SL_VINT && v->u.i == n + 1)
		sl_st->ok++;
	sl_db_result_free(r);
	sl_db_pool_release(c);
	return 0;
}

/** One round: spawn the tasks, join them. 0, or -1. */
static int
sl_round(void)
{
	int spawned = 0, rc = 0;
	for (; spawned < TASKS; spawned++) {
		sl_st->nums[spawned] = spawned;
		sl_st->tasks[spawned] =
		        sl_task_spawn(sl_loop_current(), "query", one_task,
		                      &sl_st->nums[spawned]);
		if (sl_st->tasks[spawned] == NULL) {
			rc = -1;
			bench_fail(bench, "cannot spawn a task");
			break;
		}
	}
	for (int i = 0; i < spawned; i++)
		if (sl_task_join(sl_st->tasks[i]) != 0 && rc == 0) {
			rc = -1;
			bench_fail(bench, "a task failed");
		}
	return rc;
}

/** Main task of the sluice child: open the pool, run the rounds. */
static int
sl_main(void *arg)
{
	struct report *rep = arg;
	struct sl_db_pool_opts o;
	sl_db_pool_opts_init(&o);
	o.min_size = CONNS;
	o.max_size = CONNS;
	o.acquire_timeout = 60.0;
	sl_st->pool = sl_db_pool_open(sl_st->uri, &o);
	if (sl_st->pool == NULL)
		return -1;
	int rc = 0;
	for (int round = 0; round < rounds && rc == 0; round++) {
		struct usage u0 = usage_now();
		uint64_t t0 = bench_now_ns();
		rc = sl_round();
		rep->secs[round] = (double)(bench_now_ns() - t0) / 1e9;
		usage_record(rep, round, u0);
	}
	rep->ok = sl_st->ok;
	sl_db_pool_close(sl_st->pool);
	return rc;
}

/** Child: the sluice side. */
static int
child_sluice(const char *uri, struct report *r)
{
	sl_st = calloc(1, sizeof(*sl_st));
	if (sl_st == NULL)
		return -1;
	sl_st->uri = uri;
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL) {
		bench_fail(bench, "cannot create a loop");
		return -1;
	}
	int rc = sl_loop_run_main(loop, "main", sl_main, r);
	if (rc != 0)
		bench_fail(bench, "the sluice side failed");
	sl_loop_delete(loop);
	free(sl_st);
	return rc;
}

/* --- The libpq side ----------------------------------------------------- */

/** One baseline connection. */
struct lp_conn {
	/** The connection (non-blocking). */
	PGconn *pg;
	/** Number of the query in flight, or -1. */
	int n;
	/** Whether output waits for the socket. */
	bool want_write;
};

/** Report a libpq failure. Returns -1. */
static int
lp_fail(PGconn *pg, const char *what)
{
	fprintf(stderr, "%s: libpq: %s: %s", bench, what, PQerrorMessage(pg));
	return -1;
}

/** Send query `n` on `c`. 0, or -1. */
static int
lp_send(struct lp_conn *c, int n)
{
	uint32_t be = htonl((uint32_t)n);
	const char *values[1] = {(const char *)&be};
	int lengths[1] = {4}, formats[1] = {1};
	if (!PQsendQueryPrepared(c->pg, "q", 1, values, lengths, formats, 1))
		return lp_fail(c->pg, "PQsendQueryPrepared");
	c->n = n;
	int rc = PQflush(c->pg);
	if (rc < 0)
		return lp_fail(c->pg, "flush");
	c->want_write = rc == 1;
	return 0;
}

/** Run the queries on `conns`; count correct answers in *ok. 0, or -1. */
static int
lp_loop(struct lp_conn *conns, long *ok)
{
	int next = 0, busy = 0;
	for (int i = 0; i < CONNS && next < TASKS; i++, busy++)
		if (lp_send(&conns[i], next++) != 0)
			return -1;
	struct pollfd fds[CONNS];
	while (busy > 0) {
		for (int i = 0; i < CONNS; i++) {
			fds[i].fd = PQsocket(conns[i].pg);
			fds[i].events = conns[i].n < 0 ? 0 : POLLIN;
			if (conns[i].want_write)
				fds[i].events |= POLLOUT;
			fds[i].revents = 0;
		}
		if (poll(fds, CONNS, 1000) < 0 && errno != EINTR) {
			perror("bench_tasks_10k: poll");
			return -1;
		}
		for (int i = 0; i < CONNS; i++) {
			struct lp_conn *c = &conns[i];
			if (fds[i].revents == 0 || c->n < 0)
				continue;
			if (fds[i].revents & POLLOUT) {
				int rc = PQflush(c->pg);
				if (rc < 0)
					return lp_fail(c->pg, "flush");
				c->want_write = rc == 1;
			}
			if (!PQconsumeInput(c->pg))
				return lp_fail(c->pg, "PQconsumeInput");
			bool done = false;
			while (!done && !PQisBusy(c->pg)) {
				PGresult *res = PQgetResult(c->pg);
				if (res == NULL) {
					done = true;
					break;
				}
				if (PQresultStatus(res) != PGRES_TUPLES_OK) {
					fprintf(stderr, "%s: libpq: %s", bench,
					        PQresultErrorMessage(res));
					PQclear(res);
					return -1;
				}
				if (PQntuples(res) == 1 &&
				    PQnfields(res) == 1 &&
				    PQgetlength(res, 0, 0) == 4) {
					uint32_t be;
					memcpy(&be, PQgetvalue(res, 0, 0), 4);
					if ((int32_t)ntohl(be) == c->n + 1)
						(*ok)++;
				}
				PQclear(res);
			}
			if (!done)
				continue;
			c->n = -1;
			busy--;
			if (next < TASKS) {
				if (lp_send(c, next++) != 0)
					return -1;
				busy++;
			}
		}
	}
	return 0;
}

/** Child: the libpq side. */
static int
child_libpq(const char *uri, struct report *r)
{
	struct lp_conn conns[CONNS];
	int opened = 0, rc = 0;
	for (; opened < CONNS; opened++) {
		conns[opened] =
		        (struct lp_conn){.pg = PQconnectdb(uri), .n = -1};
		PGconn *pg = conns[opened].pg;
		if (PQstatus(pg) != CONNECTION_OK) {
			rc = lp_fail(pg, "connect");
			opened++;
			break;
		}
		Oid type = OID_INT4;
		PGresult *res = PQprepare(pg, "q", SQL, 1, &type);
		bool prepared = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!prepared || PQsetnonblocking(pg, 1) != 0) {
			rc = lp_fail(pg, "prepare");
			opened++;
			break;
		}
	}
	for (int round = 0; round < rounds && rc == 0; round++) {
		struct usage u0 = usage_now();
		uint64_t t0 = bench_now_ns();
		rc = lp_loop(conns, &r->ok);
		r->secs[round] = (double)(bench_now_ns() - t0) / 1e9;
		usage_record(r, round, u0);
	}
	for (int i = 0; i < opened; i++)
		PQfinish(conns[i].pg);
	return rc;
}

/** Child that does nothing (the floor under both RSS figures). */
static int
child_idle(const char *uri, struct report *r)
{
	(void)uri;
	r->ok = (long)TASKS * rounds;
	return 0;
}

/* --- Main --------------------------------------------------------------- */

/**
 * Run `fn` in a forked child; its peak RSS (KiB) goes to *rss_kib. 0, or
 * -1 if it could not run, failed or answered wrongly.
 */
static int
run_child(child_fn fn, const char *uri, struct report *r, long *rss_kib)
{
	memset(r, 0, sizeof(*r));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench_tasks_10k: fork");
		return -1;
	}
	if (pid == 0) {
		int rc = fn(uri, r);
		fflush(stdout);
		fflush(stderr);
		_exit(rc == 0 ? 0 : 1);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("bench_tasks_10k: wait4");
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: a child failed (status %#x)\n", bench,
		        status);
		return -1;
	}
	if (r->ok != (long)TASKS * rounds) {
		fprintf(stderr, "%s: %ld of %d answers were right\n", bench,
		        r->ok, TASKS * rounds);
		return -1;
	}
	*rss_kib = ru.ru_maxrss;
	return 0;
}

/** Run one side in this process (BENCH_TASKS_SIDE) and print its rounds. */
static int
run_one_side(const char *side, const char *uri, struct report *r)
{
	child_fn fn = strcmp(side, "sluice") == 0  ? child_sluice
	              : strcmp(side, "libpq") == 0 ? child_libpq
	                                           : NULL;
	if (fn == NULL) {
		fprintf(stderr,
		        "%s: BENCH_TASKS_SIDE is sluice or libpq, not %s\n",
		        bench, side);
		return 2;
	}
	const char *n = getenv("BENCH_TASKS_ROUNDS");
	if (n != NULL && *n != '\0') {
		rounds = atoi(n);
		if (rounds < 1 || rounds > ROUNDS_MAX) {
			fprintf(stderr, "%s: BENCH_TASKS_ROUNDS is 1 to %d\n",
			        bench, ROUNDS_MAX);
			return 2;
		}
	}
	memset(r, 0, sizeof(*r));
	if (fn(uri, r) != 0 || r->ok != (long)TASKS * rounds) {
		fprintf(stderr, "%s: the %s side failed (%ld right answers)\n",
		        bench, side, r->ok);
		return EXIT_FAILURE;
	}
	printf("# %s:", side);
	print_rounds(r);
	printf("\n");
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *uri = argc > 1 ? argv[1] : getenv("SLUICE_BENCH_PG");
	if (uri == NULL || *uri == '\0') {
		fprintf(stderr, "usage: %s URI (or set SLUICE_BENCH_PG)\n",
		        bench);
		return 2;
	}
	struct report *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
	                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED) {
		perror("bench_tasks_10k: mmap");
		return EXIT_FAILURE;
	}
	const char *side = getenv("BENCH_TASKS_SIDE");
	if (side != NULL && *side != '\0')
		return run_one_side(side, uri, r);
	/* Per repetition: round 1, and the median of the warm rounds. */
	double sl_cold[BENCH_REPS], lp_cold[BENCH_REPS];
	double sl_warm[BENCH_REPS], lp_warm[BENCH_REPS];
	double sl_cpu[BENCH_REPS], lp_cpu[BENCH_REPS];
	double sl_rss[BENCH_REPS], lp_rss[BENCH_REPS], idle_rss[BENCH_REPS];
	for (int i = 0; i < BENCH_REPS; i++) {
		long idle_kib, lp_kib, sl_kib;
		double w[ROUNDS];
		if (run_child(child_idle, uri, r, &idle_kib) != 0 ||
		    run_child(child_libpq, uri, r, &lp_kib) != 0)
			return EXIT_FAILURE;
		printf("# rep %d/%d libpq: rounds", i + 1, BENCH_REPS);
		print_rounds(r);
		printf(", peak RSS %ld KiB\n", lp_kib);
		lp_cold[i] = r->secs[0];
		memcpy(w, r->secs + 1, sizeof(double) * (ROUNDS - 1));
		lp_warm[i] = bench_median(w, ROUNDS - 1);
		memcpy(w, r->cpu + 1, sizeof(double) * (ROUNDS - 1));
		lp_cpu[i] = bench_median(w, ROUNDS - 1);
		if (run_child(child_sluice, uri, r, &sl_kib) != 0)
			return EXIT_FAILURE;
		printf("# rep %d/%d sluice: rounds", i + 1, BENCH_REPS);
		print_rounds(r);
		printf(", peak RSS %ld KiB; idle child %ld KiB\n", sl_kib,
		       idle_kib);
		sl_cold[i] = r->secs[0];
		memcpy(w, r->secs + 1, sizeof(double) * (ROUNDS - 1));
		sl_warm[i] = bench_median(w, ROUNDS - 1);
		memcpy(w, r->cpu + 1, sizeof(double) * (ROUNDS - 1));
		sl_cpu[i] = bench_median(w, ROUNDS - 1);
		idle_rss[i] = (double)idle_kib;
		lp_rss[i] = (double)lp_kib;
		sl_rss[i] = (double)sl_kib;
	}
	double value = bench_median(sl_warm, BENCH_REPS);
	double baseline = bench_median(lp_warm, BENCH_REPS);
	double cold = bench_median(sl_cold, BENCH_REPS);
	double cold_base = bench_median(lp_cold, BENCH_REPS);
	double rss = bench_median(sl_rss, BENCH_REPS);
	printf("# %d queries, %d connections, %d rounds per process: warm "
	       "rounds sluice %.0f q/s, libpq %.0f q/s; CPU per warm round "
	       "sluice %.3f s, libpq %.3f s\n",
	       TASKS, CONNS, ROUNDS, TASKS / value, TASKS / baseline,
	       bench_median(sl_cpu, BENCH_REPS),
	       bench_median(lp_cpu, BENCH_REPS));
	printf("# peak RSS: libpq child %.0f KiB, idle child %.0f KiB "
	       "(the floor: a forked child starts with the parent's pages)\n",
	       bench_median(lp_rss, BENCH_REPS),
	       bench_median(idle_rss, BENCH_REPS));
	bench_result("tasks_10k_queries", value, "s", baseline,
	             baseline / value, 3);
	bench_result("tasks_10k_queries_cold", cold, "s", cold_base,
	             cold_base / cold, 3);
	printf("BENCH tasks_10k_peak_rss value=%.0f unit=KiB\n", rss);
	munmap(r, sizeof(*r));
	return EXIT_SUCCESS;
}
