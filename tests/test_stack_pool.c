/*
 * Task stacks from slabs (rt/stack.h): distinct writable stacks with a
 * guard page each, reuse of freed stacks, whole empty slabs unmapped
 * beyond the pool's `keep`, and a burst of tasks on a loop.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt/stack.h"
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

TAP_CASE(lifo_and_batched_trim)
{
	struct sl_stack_pool p;
	sl_stack_pool_create(&p, 64 * 1024, 0);
	static struct sl_stack s[N];
	for (int i = 0; i < N; i++)
		sl_stack_pool_get(&p, &s[i]);
	void *lo5 = s[5].lo, *lo70 = s[70].lo;
	sl_stack_pool_put(&p, &s[5]);
	sl_stack_pool_put(&p, &s[70]);
	struct sl_stack a, b;
	sl_stack_pool_get(&p, &a);
	sl_stack_pool_get(&p, &b);
	ok(a.lo == lo70 && b.lo == lo5,
	   "the stack freed last is handed out first, across slabs");
	s[5] = b;
	s[70] = a;
	/* Touch a page deep in stacks 10..10+BATCH of the first slab. */
	size_t page = sl_stack_page_size();
	char *deep[SL_STACK_TRIM_BATCH];
	for (int i = 0; i < SL_STACK_TRIM_BATCH; i++) {
		deep[i] = (char *)s[10 + i].lo + page;
		*(volatile char *)deep[i] = 1;
	}
	unsigned char v = 0;
	bool resident = true;
	for (int i = 0; i < SL_STACK_TRIM_BATCH - 1; i++) {
		sl_stack_pool_put(&p, &s[10 + i]);
		resident =
		        resident && mincore(deep[i], page, &v) == 0 && (v & 1);
	}
	ok(resident, "freed stacks keep their pages until a batch is due");
	sl_stack_pool_put(&p, &s[10 + SL_STACK_TRIM_BATCH - 1]);
	bool trimmed = true;
	for (int i = 0; i < SL_STACK_TRIM_BATCH; i++)
		trimmed =
		        trimmed && mincore(deep[i], page, &v) == 0 && !(v & 1);
	ok(trimmed, "then the %d are trimmed together", SL_STACK_TRIM_BATCH);
	for (int i = 0; i < N; i++)
		if (i < 10 || i >= 10 + SL_STACK_TRIM_BATCH)
			sl_stack_pool_put(&p, &s[i]);
	is_int(p.n_used, 0, "all returned");
	sl_stack_pool_destroy(&p);
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

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
