/*
 * Benchmark: the cost of switching between tasks.
 *
 * switch_ns: one-direction switch between two raw contexts that ping-pong
 * on mmap'd stacks, with our asm backend (value) and with the ucontext
 * backend (baseline), both called through the internal ctx API.
 *
 * task_yield_ns: one sl_task_yield() between two tasks through the real
 * scheduler (value), against the raw asm switch (baseline). Its ratio is
 * below 1 by nature: it shows what the scheduler adds to a bare switch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "rt/ctx.h"
#include "rt/stack.h"
#include "sluice/task.h"

/** Round trips per asm repetition. */
#define ASM_ROUND_TRIPS 2000000L
/** Round trips per ucontext repetition (each switch is a system call). */
#define UC_ROUND_TRIPS 200000L
/** Yields each of the two tasks makes per repetition. */
#define YIELDS_PER_TASK 1000000L
/** Usable stack of a peer context. */
#define PEER_STACK (64 * 1024)

#if SL_CTX_HAVE_ASM
/** The benchmark's own side of the asm ping-pong. */
static struct sl_ctx_asm asm_main;
/** The peer side of the asm ping-pong. */
static struct sl_ctx_asm asm_peer;

/** Entry of the asm peer: switches straight back, forever. */
static void
asm_peer_entry(void *arg)
{
	(void)arg;
	for (;;)
		sl_ctx_asm_switch(&asm_peer.sp, asm_main.sp);
}

/** Run `n` asm round trips; returns ns per one-direction switch. */
static double
asm_run(long n)
{
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		sl_ctx_asm_switch(&asm_main.sp, asm_peer.sp);
	return (double)(bench_now_ns() - t0) / (2.0 * (double)n);
}
#endif

/** The benchmark's own side of the ucontext ping-pong. */
static struct sl_ctx_uc uc_main;
/** The peer side of the ucontext ping-pong. */
static struct sl_ctx_uc uc_peer;

/** Entry of the ucontext peer: switches straight back, forever. */
static void
uc_peer_entry(void *arg)
{
	(void)arg;
	for (;;)
		sl_ctx_uc_switch(&uc_peer, &uc_main);
}

/** Run `n` ucontext round trips; returns ns per one-direction switch. */
static double
uc_run(long n)
{
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		sl_ctx_uc_switch(&uc_main, &uc_peer);
	return (double)(bench_now_ns() - t0) / (2.0 * (double)n);
}

/** Shared by the two yielding tasks. */
struct yield_state {
	/** Yields each task makes. */
	long n;
	/** Tasks that made all their yields. */
	int done;
};

/** Task body: yield `n` times. */
static int
yielder(void *arg)
{
	struct yield_state *ys = arg;
	for (long i = 0; i < ys->n; i++) {
		if (sl_task_yield() != 0)
			return -1;
	}
	ys->done++;
	return 0;
}

/**
 * Run two tasks that each yield `n` times on `loop`. Returns ns per yield,
 * or -1 on failure.
 */
static double
yield_run(struct sl_loop *loop, long n)
{
	struct yield_state ys = {.n = n, .done = 0};
	for (int i = 0; i < 2; i++) {
		struct sl_task *t =
		        sl_task_spawn(loop, "yielder", yielder, &ys);
		if (t == NULL)
			return -1;
		sl_task_detach(t);
	}
	uint64_t t0 = bench_now_ns();
	int rc = sl_loop_run(loop);
	uint64_t t1 = bench_now_ns();
	if (rc != 0 || ys.done != 2)
		return -1;
	return (double)(t1 - t0) / (2.0 * (double)n);
}

/** Measure and print switch_ns; returns the asm figure, or -1. */
static double
bench_switch(void)
{
#if SL_CTX_HAVE_ASM
	struct sl_stack asm_stack, uc_stack;
	if (sl_stack_create(&asm_stack, PEER_STACK) != 0) {
		bench_fail("bench_switch", "cannot map a stack");
		return -1;
	}
	if (sl_stack_create(&uc_stack, PEER_STACK) != 0) {
		bench_fail("bench_switch", "cannot map a stack");
		sl_stack_destroy(&asm_stack);
		return -1;
	}
	sl_ctx_asm_make(&asm_peer, asm_stack.lo, asm_stack.size, asm_peer_entry,
	                NULL);
	sl_ctx_uc_make(&uc_peer, uc_stack.lo, uc_stack.size, uc_peer_entry,
	               NULL);
	asm_run(ASM_ROUND_TRIPS / 10);
	uc_run(UC_ROUND_TRIPS / 10);
	double a[BENCH_REPS], u[BENCH_REPS];
	for (int r = 0; r < BENCH_REPS; r++) {
		a[r] = asm_run(ASM_ROUND_TRIPS);
		u[r] = uc_run(UC_ROUND_TRIPS);
		printf("# switch_ns rep %d/%d: asm %.2f ns, ucontext %.2f ns\n",
		       r + 1, BENCH_REPS, a[r], u[r]);
	}
	/* The peers stay suspended for good; their stacks can go. */
	sl_stack_destroy(&asm_stack);
	sl_stack_destroy(&uc_stack);
	double value = bench_median(a, BENCH_REPS);
	double baseline = bench_median(u, BENCH_REPS);
	printf("# switch_ns: %ld asm and %ld ucontext round trips per rep\n",
	       ASM_ROUND_TRIPS, UC_ROUND_TRIPS);
	bench_result("switch_ns", value, "ns", baseline, baseline / value, 2);
	return value;
#else
	printf("# switch_ns skipped: no asm backend on this architecture\n");
	return -1;
#endif
}

/** Measure and print task_yield_ns against `asm_ns`. 0, or -1. */
static int
bench_yield(double asm_ns)
{
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL) {
		bench_fail("bench_switch", "cannot create a loop");
		return -1;
	}
	double y[BENCH_REPS];
	int rc = 0;
	if (yield_run(loop, YIELDS_PER_TASK / 10) < 0)
		rc = -1;
	for (int r = 0; rc == 0 && r < BENCH_REPS; r++) {
		y[r] = yield_run(loop, YIELDS_PER_TASK);
		if (y[r] < 0)
			rc = -1;
		else
			printf("# task_yield_ns rep %d/%d: %.2f ns\n", r + 1,
			       BENCH_REPS, y[r]);
	}
	sl_loop_delete(loop);
	if (rc != 0) {
		bench_fail("bench_switch", "the yielding tasks failed");
		return -1;
	}
	double value = bench_median(y, BENCH_REPS);
	printf("# task_yield_ns: 2 tasks x %ld yields per rep, runtime "
	       "backend %s\n",
	       YIELDS_PER_TASK, SL_CTX_BACKEND);
	bench_result("task_yield_ns", value, "ns", asm_ns, asm_ns / value, 2);
	return 0;
}

/** Run both measurements. */
int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	double asm_ns = bench_switch();
#if SL_CTX_HAVE_ASM
	if (asm_ns < 0)
		return EXIT_FAILURE;
#endif
	if (asm_ns < 0)
		asm_ns = 0;
	return bench_yield(asm_ns) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
