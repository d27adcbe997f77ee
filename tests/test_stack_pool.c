/*
 * Task stacks from slabs (rt/stack.h): distinct writable stacks with a
 * guard page each, reuse of freed stacks, the cache of empty slabs (kept
 * warm up to the recent peak of stacks in use, within the cap, given back
 * by the decay), batched trims, allocation failures, and bursts of tasks
 * on a loop with the loop's decay timer.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt/stack.h"
#include "sluice/alloc.h"
#include "sluice/task.h"
#include "unit.h"

/** Stacks taken at once in the cases below. */
#define N 100

/** Whether the page at `addr` is mapped (mincore fails with ENOMEM if not). */
static bool
mapped(const void *addr)
{
	unsigned char v;
	uintptr_t page =
	        (uintptr_t)addr & ~(uintptr_t)(sl_stack_page_size() - 1);
	return mincore((void *)page, 1, &v) == 0;
}

/** Whether writing at `addr` kills a child process with SIGSEGV. */
static bool
write_faults(volatile char *addr)
{
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); /* not ASan's report */
		*addr = 1;
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

TAP_CASE(distinct_guarded_stacks)
{
	struct sl_stack_pool p;
	sl_stack_pool_create(&p, 64 * 1024, 0);
	static struct sl_stack s[N];
	bool all = true;
	for (int i = 0; i < N; i++)
		all = all && sl_stack_pool_get(&p, &s[i]) == 0;
	ok(all, "%d stacks", N);
	is_int(p.n_slabs, (N + SL_STACK_SLAB - 1) / SL_STACK_SLAB,
	       "from %d slabs", (N + SL_STACK_SLAB - 1) / SL_STACK_SLAB);
	is_int(p.n_used, N, "all in use");
	bool apart = true, usable = true;
	for (int i = 0; i < N; i++) {
		char *lo = s[i].lo;
		memset(lo, 0xab, 64);
		memset(lo + s[i].size - 64, 0xcd, 64);
		usable = usable && s[i].size == 64 * 1024 &&
		         lo == (char *)s[i].map + sl_stack_page_size();
		for (int j = 0; j < i; j++) {
			char *o = s[j].map;
			char *oe = (char *)s[j].lo + s[j].size;
			if ((char *)s[i].map < oe && o < lo + s[i].size)
				apart = false;
		}
	}
	ok(usable, "each is writable from bottom to top");
	ok(apart, "no two overlap (guard pages included)");
	ok(write_faults((char *)s[37].lo - 1), "a write below a stack faults");
	ok(sl_stack_is_overflow(&s[37], (char *)s[37].lo - 8),
	   "and counts as an overflow of that stack");
	for (int i = 0; i < N; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_used, 0, "all returned");
	is_int(p.n_slabs, 0, "keep 0: every empty slab is unmapped");
	ok(!mapped(s[0].lo), "and its memory is gone");
	sl_stack_pool_destroy(&p);
}

TAP_CASE(reuse_and_keep)
{
	struct sl_stack_pool p;
	sl_stack_pool_create(&p, 64 * 1024, 2 * SL_STACK_SLAB);
	static struct sl_stack s[N];
	for (int i = 0; i < N; i++)
		sl_stack_pool_get(&p, &s[i]);
	void *lo5 = s[5].lo;
	sl_stack_pool_put(&p, &s[5]);
	is_int(p.n_slabs, 4, "a freed stack stays in its slab");
	struct sl_stack again;
	ok(sl_stack_pool_get(&p, &again) == 0 && again.lo == lo5,
	   "and is the next one handed out");
	s[5] = again;
	for (int i = 0; i < N; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_slabs, 2, "keep 64: two empty slabs stay mapped");
	is_int(p.n_empty, 2, "as empty slabs");
	struct sl_stack one;
	ok(sl_stack_pool_get(&p, &one) == 0 && p.n_slabs == 2 && p.n_empty == 1,
	   "a get takes a kept slab instead of mapping one");
	sl_stack_pool_put(&p, &one);
	sl_stack_pool_destroy(&p);
	is_int(p.n_slabs, 0, "destroy unmaps the kept slabs");
}

/** Whether the page holding `addr` is mapped and resident. */
static bool
resident(const void *addr)
{
	unsigned char v = 0;
	uintptr_t page =
	        (uintptr_t)addr & ~(uintptr_t)(sl_stack_page_size() - 1);
	return mincore((void *)page, 1, &v) == 0 && (v & 1);
}

/** The last byte of stack `s` (in its top page). */
static char *
top(const struct sl_stack *s)
{
	return (char *)s->lo + s->size - 1;
}

TAP_CASE(order_and_batched_trim)
{
	struct sl_stack_pool p;
	sl_stack_pool_create(&p, 64 * 1024, 16384);
	enum { M = SL_STACK_TRIM_BATCH + 40 };
	static struct sl_stack s[M];
	for (int i = 0; i < M; i++)
		sl_stack_pool_get(&p, &s[i]);
	void *lo5 = s[5].lo, *lo70 = s[70].lo;
	sl_stack_pool_put(&p, &s[5]);
	sl_stack_pool_put(&p, &s[70]);
	struct sl_stack a, b;
	sl_stack_pool_get(&p, &a);
	sl_stack_pool_get(&p, &b);
	ok(a.lo == lo5 && b.lo == lo70,
	   "the first free stack in slab order is handed out first, across "
	   "slabs");
	is_int(p.n_dirty, 0, "a stack reused before its trim is not trimmed");
	s[5] = b;
	s[70] = a;
	/* Touch a page deep in each stack, and its top. */
	size_t page = sl_stack_page_size();
	static char *deep[M], *tops[M];
	for (int i = 0; i < M; i++) {
		deep[i] = (char *)s[i].lo + page;
		tops[i] = top(&s[i]);
		*(volatile char *)deep[i] = 1;
		*(volatile char *)tops[i] = 1;
	}
	bool kept = true;
	for (int i = 0; i < SL_STACK_TRIM_BATCH - 1; i++) {
		sl_stack_pool_put(&p, &s[i]);
		kept = kept && resident(deep[i]);
	}
	ok(kept, "%d freed stacks keep their pages until the batch is full",
	   SL_STACK_TRIM_BATCH - 1);
	is_int(p.n_dirty, SL_STACK_TRIM_BATCH - 1, "and count as untrimmed");
	sl_stack_pool_put(&p, &s[SL_STACK_TRIM_BATCH - 1]);
	bool trimmed = true, tops_kept = true;
	for (int i = 0; i < SL_STACK_TRIM_BATCH; i++) {
		trimmed = trimmed && !resident(deep[i]);
		tops_kept = tops_kept && resident(tops[i]);
	}
	ok(trimmed, "then the %d are trimmed together", SL_STACK_TRIM_BATCH);
	ok(tops_kept, "all but their top %d KiB: the top pages stay warm",
	   SL_STACK_TRIM_KEEP / 1024);
	is_int(p.n_dirty, 0, "none is left untrimmed");
	bool in_use = true;
	for (int i = SL_STACK_TRIM_BATCH; i < M; i++)
		in_use = in_use && resident(deep[i]);
	ok(in_use, "stacks in use are not touched");
	for (int i = SL_STACK_TRIM_BATCH; i < M; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_used, 0, "all returned");
	sl_stack_pool_destroy(&p);
}

TAP_CASE(warm_cache_and_decay)
{
	struct sl_stack_pool p;
	sl_stack_pool_create(&p, 64 * 1024, 16384);
	static struct sl_stack s[N];
	enum { W = 3 * SL_STACK_SLAB }; /* whole slabs */
	static void *first[W];
	for (int i = 0; i < W; i++) {
		sl_stack_pool_get(&p, &s[i]);
		first[i] = s[i].lo;
		*(volatile char *)top(&s[i]) = 1;
	}
	size_t slabs = p.n_slabs;
	for (int i = 0; i < W; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_slabs, slabs, "all %zu slabs stay mapped once empty", slabs);
	is_int(p.n_empty, slabs, "as empty slabs (the peak was %d)", W);
	bool same = true, warm = true;
	for (int i = 0; i < W; i++) {
		sl_stack_pool_get(&p, &s[i]);
		warm = warm && resident(top(&s[i]));
		bool found = false;
		for (int j = 0; j < W && !found; j++)
			found = first[j] == s[i].lo;
		same = same && found;
	}
	ok(same && p.n_slabs == slabs,
	   "a second burst gets the same stacks, no slab mapped");
	ok(warm, "with their top pages still resident");
	for (int i = 0; i < W; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(sl_stack_pool_decay(&p), slabs,
	       "one decay keeps them (the interval's peak was %d)", W);
	is_int(sl_stack_pool_decay(&p), 0,
	       "a second, with nothing in use since, unmaps them");
	is_int(p.n_slabs, 0, "no slab left");
	ok(!mapped(first[0]) && !mapped(first[W - 1]),
	   "and the memory is gone");

	/* The cache follows the peak: 40 in use need 2 slabs. */
	for (int i = 0; i < 40; i++)
		sl_stack_pool_get(&p, &s[i]);
	for (int i = 0; i < 40; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_slabs, 2, "a burst of 40 keeps its 2 slabs");
	/* Peak 100, then 10 in use for two intervals: one slab is enough. */
	for (int i = 0; i < N; i++)
		sl_stack_pool_get(&p, &s[i]);
	for (int i = 10; i < N; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_slabs, (N + SL_STACK_SLAB - 1) / SL_STACK_SLAB,
	       "after a peak of %d, its slabs stay", N);
	sl_stack_pool_decay(&p);
	sl_stack_pool_decay(&p);
	is_int(p.n_slabs, 1, "two intervals at 10 in use leave one slab");
	for (int i = 0; i < 10; i++)
		sl_stack_pool_put(&p, &s[i]);
	sl_stack_pool_decay(&p);
	sl_stack_pool_decay(&p);
	is_int(p.n_slabs, 0, "and none once idle");
	sl_stack_pool_destroy(&p);
}

TAP_CASE(slab_order)
{
	struct sl_stack_pool p;
	sl_stack_pool_create(&p, 64 * 1024, 0);
	enum { M = 3 * SL_STACK_SLAB };
	static struct sl_stack s[M];
	for (int i = 0; i < M; i++)
		sl_stack_pool_get(&p, &s[i]);
	bool ascending = true;
	for (int i = 1; i < SL_STACK_SLAB; i++)
		ascending = ascending && s[i].lo > s[i - 1].lo;
	ok(ascending, "a slab hands out its stacks by address");
	void *lo3 = s[3].lo, *lo40 = s[40].lo, *lo70 = s[70].lo;
	sl_stack_pool_put(&p, &s[70]);
	sl_stack_pool_put(&p, &s[40]);
	sl_stack_pool_put(&p, &s[3]);
	struct sl_stack a, b, c;
	sl_stack_pool_get(&p, &a);
	sl_stack_pool_get(&p, &b);
	sl_stack_pool_get(&p, &c);
	ok(a.lo == lo3 && b.lo == lo40 && c.lo == lo70,
	   "freed stacks come back in slab order, whatever the order freed");
	s[3] = a;
	s[40] = b;
	s[70] = c;
	/* Slab 0 empties and is unmapped (cap 0); its number is free. */
	for (int i = 0; i < SL_STACK_SLAB; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_slabs, 2, "the empty slab is unmapped");
	sl_stack_pool_put(&p, &s[80]);
	struct sl_stack d, e, f;
	sl_stack_pool_get(&p, &d);
	ok(d.lo == s[80].lo, "a free stack of a mapped slab before a new slab");
	sl_stack_pool_get(&p, &e);
	is_int(p.n_slabs, 3, "then a new slab");
	sl_stack_pool_put(&p, &s[40]);
	sl_stack_pool_get(&p, &f);
	ok(f.slab == e.slab && f.lo > e.lo,
	   "which took the free number 0: it comes before slab 1");
	sl_stack_pool_put(&p, &d);
	sl_stack_pool_put(&p, &e);
	sl_stack_pool_put(&p, &f);
	for (int i = SL_STACK_SLAB; i < M; i++)
		if (i != 40 && i != 80)
			sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_used, 0, "all returned");
	sl_stack_pool_destroy(&p);
	is_int(p.n_slabs, 0, "destroy unmaps them all");
}

TAP_CASE(cap_holds)
{
	struct sl_stack_pool p;
	sl_stack_pool_create(&p, 64 * 1024, 2 * SL_STACK_SLAB);
	enum { M = 1000 };
	static struct sl_stack s[M];
	bool all = true;
	for (int i = 0; i < M; i++)
		all = all && sl_stack_pool_get(&p, &s[i]) == 0;
	ok(all, "%d stacks in use", M);
	for (int i = 0; i < M; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_empty, 2, "cap %d: only two empty slabs are kept",
	       2 * SL_STACK_SLAB);
	is_int(p.n_slabs, 2, "the other %d are unmapped",
	       (M + SL_STACK_SLAB - 1) / SL_STACK_SLAB - 2);
	is_int(sl_stack_pool_decay(&p), 2, "the decay keeps them within it");
	sl_stack_pool_destroy(&p);
}

TAP_CASE(allocation_failures)
{
	struct sl_stack_pool p;
	sl_stack_pool_create(&p, 64 * 1024, 16384);
	struct sl_stack s[SL_STACK_SLAB + 1];
	sl_alloc_fail_after(0);
	ok(sl_stack_pool_get(&p, &s[0]) == -1,
	   "a slab that cannot be allocated fails the get");
	is_err(SL_EOOM, "with an out-of-memory error");
	is_int(p.n_slabs + p.n_used, 0, "and leaves the pool as it was");
	sl_alloc_fail_after(-1);
	for (int i = 0; i < SL_STACK_SLAB; i++)
		sl_stack_pool_get(&p, &s[i]);
	for (int i = 0; i < SL_STACK_SLAB; i++)
		sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_empty, 1, "a slab is cached");
	sl_alloc_fail_after(0);
	ok(sl_stack_pool_get(&p, &s[0]) == 0 && p.n_slabs == 1,
	   "a get from the cache allocates nothing");
	bool cached = true;
	for (int i = 1; i < SL_STACK_SLAB; i++)
		cached = cached && sl_stack_pool_get(&p, &s[i]) == 0;
	ok(cached, "nor do the rest of the cached slab's stacks");
	sl_alloc_fail_after(0);
	ok(sl_stack_pool_get(&p, &s[SL_STACK_SLAB]) == -1 && p.n_slabs == 1 &&
	           p.n_used == SL_STACK_SLAB,
	   "the next slab fails cleanly once the cache is used up");
	sl_alloc_fail_after(-1);
	for (int i = 0; i < SL_STACK_SLAB; i++)
		sl_stack_pool_put(&p, &s[i]);
	sl_stack_pool_destroy(&p);
	is_int(p.n_slabs, 0, "destroy unmaps the cached slab");
}

/** A task that touches its stack and yields once. */
static int
touch(void *arg)
{
	volatile char buf[2048];
	memset((char *)buf, (int)(uintptr_t)arg, sizeof(buf));
	sl_task_yield();
	return buf[100] == (char)(uintptr_t)arg ? 0 : -1;
}

/** Spawn 5,000 tasks at once, twice, and join them. */
static int
burst(void *arg)
{
	(void)arg;
	static struct sl_task *t[5000];
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 5000; i++)
			if ((t[i] = sl_task_spawn(
			             sl_loop_current(), "t", touch,
			             (void *)(uintptr_t)(i & 0x7f))) == NULL)
				return -1;
		for (int i = 0; i < 5000; i++)
			if (sl_task_join(t[i]) != 0)
				return -1;
	}
	return 0;
}

TAP_CASE(task_burst)
{
	is_int(run_task("burst", burst, NULL), 0,
	       "5,000 live tasks twice over, each with a stack of its own");
}

/** Tasks in the loop-level burst below: whole slabs. */
#define BURST (16 * SL_STACK_SLAB)

/** Where each task of the burst had its stack (a local's address). */
static char *where[BURST];

/** A task of the burst: note where its stack is, yield once. */
static int
note_stack(void *arg)
{
	volatile char here = 1;
	where[(uintptr_t)arg] = (char *)&here;
	sl_task_yield();
	return here == 1 ? 0 : -1;
}

/** How many of the burst's stacks are still mapped. */
static int
n_mapped(void)
{
	int n = 0;
	for (int i = 0; i < BURST; i++)
		n += mapped(where[i]);
	return n;
}

/** Results of decay_burst (checked outside the task). */
static int mapped_after_join, mapped_after_idle, mapped_after_second;
/** Whether the second burst got every stack of the first back. */
static bool second_reused;

/** Spawn BURST tasks at once, join them, return how many failed. */
static int
one_burst(void)
{
	static struct sl_task *t[BURST];
	int failed = 0;
	for (int i = 0; i < BURST; i++)
		if ((t[i] = sl_task_spawn(sl_loop_current(), "b", note_stack,
		                          (void *)(uintptr_t)i)) == NULL)
			return BURST;
	for (int i = 0; i < BURST; i++)
		failed += sl_task_join(t[i]) != 0;
	return failed;
}

/** Result of decay_burst. */
static int burst_rc;

/**
 * Two bursts, then idle past the loop's decay. Runs on a stack of a size
 * other than the loop's default, so that it holds no slot of a slab.
 */
static int
decay_burst(void *arg)
{
	(void)arg;
	burst_rc = -1;
	if (one_burst() != 0)
		return -1;
	mapped_after_join = n_mapped();
	static char *first[BURST];
	memcpy(first, where, sizeof(first));
	if (one_burst() != 0)
		return -1;
	mapped_after_second = n_mapped();
	second_reused = true;
	for (int i = 0; i < BURST; i++) {
		bool found = false;
		uintptr_t span = 256 * 1024; /* well within one stack */
		for (int j = 0; j < BURST && !found; j++)
			found = (uintptr_t)where[i] - (uintptr_t)first[j] +
			                span / 2 <
			        span;
		second_reused = second_reused && found;
	}
	/* Idle for many decay intervals: the loop's timer gives the
	 * stacks back with no task ending to trigger it. */
	if (sl_sleep(0.5) != 0)
		return -1;
	mapped_after_idle = n_mapped();
	burst_rc = 0;
	return 0;
}

/** Run decay_burst on a fresh loop with options `o`; its result. */
static int
run_decay_burst(const struct sl_loop_opts *o)
{
	struct sl_loop *loop = sl_loop_new(o);
	if (loop == NULL)
		return -2;
	struct sl_task_opts to = {.stack_size = 128 * 1024};
	struct sl_task *t =
	        sl_task_spawn_opts(loop, "decay", decay_burst, NULL, &to);
	burst_rc = -1;
	if (t != NULL) {
		sl_task_detach(t);
		sl_loop_run(loop);
	}
	sl_loop_delete(loop);
	return burst_rc;
}

TAP_CASE(loop_cache_decays)
{
	struct sl_loop_opts o;
	sl_loop_opts_init(&o);
	ok(o.stack_cache >= 10000 && o.stack_cache_decay > 0,
	   "by default a loop caches a burst of 10,000 stacks, with a decay");
	o.stack_cache_decay = 0.05;
	is_int(run_decay_burst(&o), 0, "two bursts of %d tasks ran", BURST);
	is_int(mapped_after_join, BURST,
	       "the ended tasks' stacks stay mapped (cached)");
	ok(second_reused, "the second burst ran on the first's stacks");
	is_int(mapped_after_second, BURST, "which stay cached again");
	is_int(mapped_after_idle, 0,
	       "and are unmapped after a few idle decay intervals");

	sl_loop_opts_init(&o);
	o.stack_cache = 0;
	is_int(run_decay_burst(&o), 0, "with stack_cache 0 the bursts run too");
	is_int(mapped_after_join, 0, "but every emptied slab is unmapped");
}

/** Results of cached_structs (checked outside the task). */
static int cs_second, cs_faults, cs_after_idle_code;
/** The error of the spawn after the idle intervals. */
static char cs_after_idle_msg[SL_ERROR_MSG_MAX];

/**
 * Spawn a task with the next allocation failing, noting its error code and
 * message (cs_after_idle_*); join it if it spawned.
 */
static void
late_spawn(void)
{
	sl_alloc_fail_after(0);
	struct sl_task *t =
	        sl_task_spawn(sl_loop_current(), "late", note_stack, NULL);
	sl_alloc_fail_after(-1);
	cs_after_idle_code = sl_diag_code();
	snprintf(cs_after_idle_msg, sizeof(cs_after_idle_msg), "%s",
	         t == NULL ? sl_diag_last()->msg : "(spawned)");
	if (t != NULL)
		(void)sl_task_join(t);
}

/**
 * A burst, a second one with the next allocation failing, then idle past
 * the decay and a spawn with the next allocation failing again.
 */
static int
cached_structs(void *arg)
{
	(void)arg;
	if (one_burst() != 0)
		return -1;
	long f0 = sl_alloc_faults();
	sl_alloc_fail_after(0);
	cs_second = one_burst();
	sl_alloc_fail_after(-1);
	cs_faults = (int)(sl_alloc_faults() - f0);
	if (cs_second != 0 || sl_sleep(0.5) != 0)
		return -1;
	late_spawn();
	return 0;
}

/** Waits until woken. */
static int
waits(void *arg)
{
	(void)arg;
	return sl_task_wait(SL_FOREVER) == 0 ? 0 : -1;
}

/**
 * With no stacks cached: a task that ends while SL_STACK_SLAB others hold
 * its slab and the next, then those others, then a spawn with allocations
 * failing.
 */
static int
uncached_structs(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	static struct sl_task *w[SL_STACK_SLAB + 1];
	for (int i = 0; i <= SL_STACK_SLAB; i++)
		if ((w[i] = sl_task_spawn(loop, "w", waits, NULL)) == NULL)
			return -1;
	/* Ends while the slabs are mapped: its structure may be kept. */
	struct sl_task *e = sl_task_spawn(loop, "e", note_stack, NULL);
	if (e == NULL || sl_task_join(e) != 0)
		return -1;
	for (int i = 0; i <= SL_STACK_SLAB; i++)
		sl_task_wakeup(w[i]);
	for (int i = 0; i <= SL_STACK_SLAB; i++)
		if (sl_task_join(w[i]) != 0)
			return -1;
	late_spawn();
	return 0;
}

/** Run `fn` as a task on a fresh loop with options `o`. */
static void
run_structs(sl_task_fn fn, const struct sl_loop_opts *o)
{
	struct sl_loop *loop = sl_loop_new(o);
	struct sl_task_opts to = {.stack_size = 128 * 1024};
	struct sl_task *t = sl_task_spawn_opts(loop, "structs", fn, NULL, &to);
	sl_task_detach(t);
	sl_loop_run(loop);
	sl_loop_delete(loop);
}

/**
 * Task structures come back for the next burst with the stacks, without an
 * allocation, and go with them after the decay, or at once when no stack
 * is cached.
 */
TAP_CASE(task_structs_cached)
{
	struct sl_loop_opts o;
	sl_loop_opts_init(&o);
	o.stack_cache_decay = 0.05;
	run_structs(cached_structs, &o);
	if (sl_alloc_plain()) {
		note("sanitizer build or valgrind: structures come from "
		     "malloc");
		is_int(cs_second, BURST,
		       "a spawn with allocations failing fails");
		is_int(cs_faults, 1, "at the structure's allocation");
		return;
	}
	is_int(cs_second, 0,
	       "a second burst of %d tasks spawns with allocations failing",
	       BURST);
	is_int(cs_faults, 0, "no allocation was tried for it");
	is_int(cs_after_idle_code, SL_EOOM,
	       "after the decay a spawn allocates again (and fails here)");
	ok(strncmp(cs_after_idle_msg, "out of memory spawning task", 27) == 0,
	   "for its structure: %s", cs_after_idle_msg);
	o.stack_cache = 0;
	cs_after_idle_code = SL_EOK;
	run_structs(uncached_structs, &o);
	ok(cs_after_idle_code == SL_EOOM &&
	           strncmp(cs_after_idle_msg, "out of memory spawning task",
	                   27) == 0,
	   "with no stack cached, no structure outlives the stacks: %s",
	   cs_after_idle_msg);
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
