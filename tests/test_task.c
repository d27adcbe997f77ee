/*
 * Tasks: spawn, yield, sleep, wait/wakeup, join (errors move), cancel,
 * detach, reap, deadlock detection, stacks, one loop per thread.
 */
#include <pthread.h>

#include "sluice/chan.h"
#include "sluice/log.h"
#include "sluice/task.h"
#include "unit.h"

/* {{{ yield order */

/** Shared trace of an interleaving. */
static char trace[64];

/** Appends its letter three times, yielding in between. */
static int
yielder(void *arg)
{
	const char *letter = arg;
	for (int i = 0; i < 3; i++) {
		strcat(trace, letter);
		sl_task_yield();
	}
	return 0;
}

/** Spawns two yielders and joins them. */
static int
yield_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_task *a = sl_task_spawn(loop, "a", yielder, "a");
	struct sl_task *b = sl_task_spawn(loop, "b", yielder, "b");
	ok(sl_task_state(a) == SL_TASK_READY, "a spawned task is ready");
	ok(sl_task_id(b) == sl_task_id(a) + 1, "ids increase (%llu, %llu)",
	   (unsigned long long)sl_task_id(a),
	   (unsigned long long)sl_task_id(b));
	is_str(sl_task_name(a), "a", "name is kept");
	int rc = sl_task_join(a) | sl_task_join(b);
	is_str(trace, "ababab", "yield interleaves tasks fairly");
	return rc;
}

/* }}} */

/* {{{ join moves errors */

/** Fails with a chained error. */
static int
failing(void *arg)
{
	(void)arg;
	sl_diag_set(SL_EPARSE, "bad row %d", 7);
	sl_diag_wrap(SL_EIO, "reading %s", "people.csv");
	return -1;
}

/** Succeeds after a sleep. */
static int
succeeding(void *arg)
{
	int *flag = arg;
	sl_sleep(0.001);
	*flag = 1;
	return 0;
}

/** Checks what join does with results and errors. */
static int
join_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	int flag = 0;
	struct sl_task *good = sl_task_spawn(loop, "good", succeeding, &flag);
	is_int(sl_task_join(good), 0, "join returns a task's success");
	ok(flag == 1, "after the task ran to the end");

	struct sl_task *bad = sl_task_spawn(loop, "bad", failing, NULL);
	sl_task_yield();
	ok(sl_task_state(bad) == SL_TASK_DEAD, "a finished unjoined task is "
	                                       "dead");
	ok(sl_diag_last() == NULL, "the task's error is not in our diag yet");
	is_int(sl_task_join(bad), -1, "join returns the task's failure");
	struct sl_error *e = sl_diag_last();
	ok(e != NULL && e->code == SL_EIO && sl_error_depth(e) == 2,
	   "the error moved to the joiner with its chain");
	ok(e != NULL && e->cause->code == SL_EPARSE &&
	           strcmp(e->cause->msg, "bad row 7") == 0 &&
	           strstr(e->cause->file, "test_task.c") != NULL &&
	           e->cause->line > 0,
	   "the cause keeps code, message and file:line");
	sl_diag_clear(sl_diag_get());
	return 0;
}

/* }}} */

/* {{{ sleep, wait, wakeup, timeouts */

/** Order in which sleepers woke. */
static int wake_order[3];
/** Number of sleepers woken. */
static int wake_count;

/** Sleeps `arg` milliseconds and records its wakeup. */
static int
sleeper(void *arg)
{
	int ms = (int)(intptr_t)arg;
	if (sl_sleep(ms / 1000.0) != 0)
		return -1;
	wake_order[wake_count++] = ms;
	return 0;
}

/** Waits for a wakeup. */
static int
waiter(void *arg)
{
	int *got = arg;
	int rc = sl_task_wait(5.0);
	*got = rc == 0 ? 1 : -1;
	return rc;
}

/** Timers, waits and wakeups. */
static int
timing_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	double t0 = sl_clock();
	ok(sl_sleep(0.05) == 0, "sleep returns 0");
	double dt = sl_clock() - t0;
	ok(dt >= 0.049 && dt < 0.5, "sleep lasts about as asked (%.3f s)", dt);

	double when = sl_clock() + 0.03;
	ok(sl_sleep_until(when) == 0 && sl_clock() >= when,
	   "sleep_until wakes no earlier than the given time");
	t0 = sl_clock();
	ok(sl_sleep_until(t0 - 1) == 0 && sl_clock() - t0 < 0.01,
	   "sleep_until a past time returns at once");

	struct sl_task *s[3];
	s[0] = sl_task_spawn(loop, "s30", sleeper, (void *)30);
	s[1] = sl_task_spawn(loop, "s10", sleeper, (void *)10);
	s[2] = sl_task_spawn(loop, "s20", sleeper, (void *)20);
	for (int i = 0; i < 3; i++)
		sl_task_join(s[i]);
	ok(wake_count == 3 && wake_order[0] == 10 && wake_order[1] == 20 &&
	           wake_order[2] == 30,
	   "sleepers wake in deadline order (%d %d %d)", wake_order[0],
	   wake_order[1], wake_order[2]);

	t0 = sl_clock();
	is_int(sl_task_wait(0.02), -1,
	       "a wait with nobody to wake it times "
	       "out");
	is_err(SL_ETIMEDOUT, "with ETIMEDOUT");
	ok(strstr(unit_errmsg(), "timed out after 0.020 s") != NULL,
	   "saying how long: %s", unit_errmsg());
	ok(sl_clock() - t0 >= 0.019, "after the timeout");
	is_int(sl_task_wait(0), -1, "a zero timeout fails at once");
	is_err(SL_ETIMEDOUT, "with ETIMEDOUT");

	int got = 0;
	struct sl_task *w = sl_task_spawn(loop, "waiter", waiter, &got);
	sl_task_yield();
	ok(sl_task_state(w) == SL_TASK_WAITING, "the waiter is suspended");
	sl_task_wakeup(w);
	sl_task_wakeup(w); /* a second wakeup must be harmless */
	is_int(sl_task_join(w), 0, "wakeup ends the wait with success");
	ok(got == 1, "the waiter saw 0");
	return 0;
}

/* }}} */

/* {{{ cancellation */

/** Record of what a cancelled task saw. */
struct cancel_probe {
	/** Result of the first (interrupted) wait. */
	int first_rc;
	/** Error code of the first wait. */
	enum sl_errcode first_code;
	/** Result of a sleep attempted after cancellation. */
	int later_sleep_rc;
	/** Result of yield after cancellation. */
	int later_yield_rc;
	/** Whether its cleanup ran to the end. */
	int cleaned_up;
	/** Seconds the first wait lasted. */
	double waited;
};

/** Sleeps for long; records how cancellation shows. */
static int
cancellable(void *arg)
{
	struct cancel_probe *p = arg;
	double t0 = sl_clock();
	p->first_rc = sl_sleep(30);
	p->waited = sl_clock() - t0;
	p->first_code = sl_diag_code();
	p->later_sleep_rc = sl_sleep(0.001);
	p->later_yield_rc = sl_task_yield();
	for (int i = 0; i < 5; i++)
		sl_task_yield(); /* cleanup that takes several turns */
	p->cleaned_up = 1;
	sl_diag_set(SL_ECANCELLED, "stopped");
	return -1;
}

/** Waits forever in sl_task_wait(). */
static int
waits_forever(void *arg)
{
	(void)arg;
	return sl_task_wait(SL_FOREVER);
}

/** Cancelled while waiting, then clears the flag and waits again. */
static int
uncancels(void *arg)
{
	int *rc = arg;
	rc[0] = sl_task_wait(SL_FOREVER);
	sl_diag_clear(sl_diag_get());
	sl_task_uncancel();
	rc[1] = sl_task_is_cancelled();
	rc[2] = sl_sleep(0.01);
	return 0;
}

/** The main task for the reap test: cancelled itself before reaping. */
struct reaper_args {
	/** The task to reap. */
	struct sl_task *victim;
	/** What reap returned. */
	int rc;
};

/** Gets cancelled, then reaps its victim. */
static int
reaper(void *arg)
{
	struct reaper_args *r = arg;
	sl_task_wait(SL_FOREVER); /* woken by cancellation */
	ok(sl_task_is_cancelled(), "the reaper is cancelled");
	r->rc = sl_task_reap(r->victim);
	return 0;
}

/* {{{ exit hooks */

/** Order in which exit hooks ran. */
static char hook_trace[16];

/** An exit hook: sleeps (hooks may wait), raises an error, appends. */
static void
exit_hook(void *arg)
{
	int rc = sl_sleep(0.001);
	if (rc == 0)
		strcat(hook_trace, (const char *)arg);
	sl_diag_set(SL_EIO, "a hook's own failure");
}

/** Hooks: A and B stay, C is removed; fails (or is cancelled) then. */
static int
hooked(void *arg)
{
	static struct sl_task_hook ha, hb, hc;
	sl_task_on_exit(&ha, exit_hook, "A");
	sl_task_on_exit(&hb, exit_hook, "B");
	sl_task_on_exit(&hc, exit_hook, "C");
	sl_task_hook_remove(&hc);
	if (arg != NULL)
		return sl_task_wait(SL_FOREVER); /* cancelled */
	sl_diag_set(SL_EPARSE, "the task's own failure");
	return -1;
}

/** Runs `hooked` to failure and to cancellation. */
static int
hooks_main(void *arg)
{
	(void)arg;
	hook_trace[0] = '\0';
	struct sl_task *t = sl_task_spawn(sl_loop_current(), "h", hooked, NULL);
	is_int(sl_task_join(t), -1, "a hooked task fails");
	is_str(hook_trace, "BA",
	       "its hooks ran newest first, removed ones "
	       "not at all, and could sleep");
	is_err(SL_EPARSE, "the task's error survives its hooks' errors");
	hook_trace[0] = '\0';
	t = sl_task_spawn(sl_loop_current(), "h2", hooked, "wait");
	sl_task_yield();
	sl_task_cancel(t);
	is_int(sl_task_join(t), -1, "a cancelled hooked task ends");
	is_err(SL_ECANCELLED, "with its cancellation");
	is_str(hook_trace, "BA", "hooks of a cancelled task can still wait");
	return 0;
}

/* }}} */

/** Cancellation scenarios. */
static int
cancel_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct cancel_probe p = {0};
	struct sl_task *t = sl_task_spawn(loop, "sleepy", cancellable, &p);
	sl_sleep(0.01);
	ok(sl_task_state(t) == SL_TASK_WAITING, "the task sleeps");
	sl_task_cancel(t);
	is_int(sl_task_join(t), -1, "join a cancelled task");
	is_err(SL_ECANCELLED, "its error is ECANCELLED");
	is_int(p.first_rc, -1, "the sleep was interrupted");
	is_int(p.first_code, SL_ECANCELLED, "with ECANCELLED");
	ok(p.waited < 1.0, "at once, not after 30 s (%.3f s)", p.waited);
	is_int(p.later_sleep_rc, -1, "later waits fail at once");
	is_int(p.later_yield_rc, -1, "yield reports the cancellation");

	t = sl_task_spawn(loop, "forever", waits_forever, NULL);
	sl_task_yield();
	sl_task_cancel(t);
	is_int(sl_task_join(t), -1, "cancel ends sl_task_wait(SL_FOREVER)");
	is_err(SL_ECANCELLED, "with ECANCELLED");
	ok(strstr(unit_errmsg(), "'forever'") != NULL,
	   "the message names the task: %s", unit_errmsg());

	/* After sl_task_uncancel() a task waits normally again. */
	int urc[3] = {0, 1, -1};
	t = sl_task_spawn(loop, "uncancels", uncancels, urc);
	sl_task_yield();
	sl_task_cancel(t);
	is_int(sl_task_join(t), 0, "the uncancelled task ended normally");
	is_int(urc[0], -1, "its wait was cancelled");
	is_int(urc[1], 0, "uncancel clears the flag");
	is_int(urc[2], 0, "and a later sleep completes");

	/* A cancelled joiner gets ECANCELLED; the target stays joinable. */
	struct cancel_probe q = {0};
	struct sl_task *victim = sl_task_spawn(loop, "victim", cancellable, &q);
	struct reaper_args r = {.victim = victim, .rc = 0};
	struct sl_task *re = sl_task_spawn(loop, "reaper", reaper, &r);
	sl_task_yield();
	sl_task_cancel(re);
	is_int(sl_task_join(re), 0, "the cancelled reaper finished");
	ok(q.cleaned_up, "reap waited for the victim's whole cleanup even "
	                 "though the reaper was cancelled");
	is_int(r.rc, -1, "reap returned the victim's result");
	return 0;
}

/** A joiner that is cancelled while joining. */
static int
joiner_cancelled(void *arg)
{
	struct sl_task *target = arg;
	int rc = sl_task_join(target);
	ok(rc == -1 && sl_diag_code() == SL_ECANCELLED,
	   "a cancelled join returns ECANCELLED");
	ok(sl_task_state(target) == SL_TASK_WAITING,
	   "and leaves the target alone");
	return 0;
}

/** Join cancellation. */
static int
join_cancel_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_task *target =
	        sl_task_spawn(loop, "target", waits_forever, NULL);
	struct sl_task *j =
	        sl_task_spawn(loop, "joiner", joiner_cancelled, target);
	sl_task_yield();
	sl_task_cancel(j);
	sl_task_join(j);
	is_int(sl_task_reap(target), -1, "the target can still be reaped");
	return 0;
}

/* }}} */

/* {{{ detach, deadlock, stacks, threads */

/** Counts runs of detached tasks. */
static int detached_runs;

/** A detached task that succeeds. */
static int
detached_ok(void *arg)
{
	(void)arg;
	sl_sleep(0.001);
	detached_runs++;
	return 0;
}

/** A detached task that fails. */
static int
detached_bad(void *arg)
{
	(void)arg;
	detached_runs++;
	sl_diag_set(SL_EIO, "disk on fire");
	return -1;
}

/** Spawns detached tasks and leaves. */
static int
detach_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	sl_task_detach(sl_task_spawn(loop, "d1", detached_ok, NULL));
	struct sl_task *d2 = sl_task_spawn(loop, "d2", detached_bad, NULL);
	sl_task_yield();
	sl_task_detach(d2); /* already dead: freed now, error logged */
	return 0;
}

/** Receives from a channel nobody will ever write to. */
static int
stuck_receiver(void *arg)
{
	void *item;
	return sl_chan_recv(arg, &item, SL_FOREVER) < 0 ? -1 : 0;
}

/** Joins a stuck task: the whole loop deadlocks. */
static int
deadlock_main(void *arg)
{
	struct sl_task *t =
	        sl_task_spawn(sl_loop_current(), "stuck", stuck_receiver, arg);
	int rc = sl_task_join(t);
	ok(rc == -1 && sl_diag_code() == SL_EDEADLOCK,
	   "the joiner is woken with EDEADLOCK: %s", unit_errmsg());
	if (sl_task_state(t) != SL_TASK_DEAD)
		rc = sl_task_join(t);
	ok(rc == -1 && sl_diag_code() == SL_EDEADLOCK,
	   "the stuck task failed with EDEADLOCK: %s", unit_errmsg());
	ok(strstr(unit_errmsg(), "channel recv") != NULL,
	   "saying what it waited for");
	return 0;
}

/** Uses 600 KiB of stack. */
static int
big_stack_user(void *arg)
{
	(void)arg;
	volatile char buf[600 * 1024];
	for (size_t i = 0; i < sizeof(buf); i += 4096)
		buf[i] = (char)i;
	return buf[4096] == (char)4096 ? 0 : -1;
}

/** Returns its argument as the result. */
static int
returns_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

/** Spawns many short tasks (stack reuse) and a big-stack one. */
static int
stacks_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	int fails = 0;
	for (int i = 0; i < 2000; i++) {
		struct sl_task *t =
		        sl_task_spawn(loop, "short", returns_arg, (void *)0);
		fails += t == NULL || sl_task_join(t) != 0;
	}
	is_int(fails, 0, "2000 spawn+join cycles");
	struct sl_task_opts o = {.stack_size = 1024 * 1024};
	struct sl_task *t =
	        sl_task_spawn_opts(loop, "big", big_stack_user, NULL, &o);
	is_int(sl_task_join(t), 0, "a task with a 1 MiB stack uses 600 KiB");
	return 0;
}

/** A second thread runs a loop of its own. */
static void *
thread_body(void *arg)
{
	int *result = arg;
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL) {
		*result = -2;
		return NULL;
	}
	int flag = 0;
	*result = sl_loop_run_main(loop, "thread-main", succeeding, &flag);
	if (flag != 1)
		*result = -3;
	sl_loop_delete(loop);
	return NULL;
}

/* }}} */

/* {{{ hand-offs run next */

/** Waiters woken by the hand-off test's driver. */
#define HN_WAITERS 100

/** Order in which the hand-off test's tasks ran after the driver. */
static int hn_order[HN_WAITERS + 2];
/** Entries in hn_order. */
static int hn_n;
/** The waiting tasks. */
static struct sl_task *hn_waiter[HN_WAITERS];

/** Waits, then records its number (the argument). */
static int
hn_wait(void *arg)
{
	sl_task_wait(SL_FOREVER);
	hn_order[hn_n++] = (int)(intptr_t)arg;
	return 0;
}

/** Records its number (the argument) at once. */
static int
hn_plain(void *arg)
{
	hn_order[hn_n++] = (int)(intptr_t)arg;
	return 0;
}

/** Wakes every waiter with sl_task_wakeup_next(), in order. */
static int
hn_driver(void *arg)
{
	(void)arg;
	for (int i = HN_WAITERS - 1; i >= 0; i--)
		sl_task_wakeup_next(hn_waiter[i]);
	return 0;
}

/**
 * sl_task_wakeup_next(): the woken tasks run before the rest of the batch
 * (the newest first), at most 64 per batch; the others after it.
 */
static int
wakeup_next_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_task *t[HN_WAITERS + 2];
	for (int i = 0; i < HN_WAITERS; i++)
		t[i] = hn_waiter[i] =
		        sl_task_spawn(loop, "w", hn_wait, (void *)(intptr_t)i);
	/* One batch: the waiters wait, the driver wakes them, then the
	 * plain task 1000 runs. */
	t[HN_WAITERS] = sl_task_spawn(loop, "driver", hn_driver, NULL);
	t[HN_WAITERS + 1] =
	        sl_task_spawn(loop, "plain", hn_plain, (void *)(intptr_t)1000);
	for (int i = 0; i < HN_WAITERS + 2; i++)
		sl_task_join(t[i]);
	is_int(hn_n, HN_WAITERS + 1, "wakeup_next: every task ran");
	/* The driver woke 99 down to 36 at the front, newest first: 36..99
	 * run first; 35..0 were plain wakeups. */
	int first_ok = 1;
	for (int i = 0; i < 64; i++)
		first_ok = first_ok && hn_order[i] == 36 + i;
	ok(first_ok,
	   "wakeup_next: 64 woken tasks ran first, in order "
	   "(first %d, 64th %d)",
	   hn_order[0], hn_order[63]);
	is_int(hn_order[64], 1000, "wakeup_next: then the rest of the batch");
	int rest_ok = 1;
	for (int i = 65; i < HN_WAITERS + 1; i++)
		rest_ok = rest_ok && hn_order[i] >= 0 && hn_order[i] < 36;
	ok(rest_ok, "wakeup_next: the others in the next batch");
	return 0;
}

/* }}} */

/* {{{ timer heap */

/** Tasks waiting with deadlines in the timer heap test. */
#define TH_N 2000

/**
 * Seconds by which two deadlines must differ for the timer heap test to
 * check their order (their timeouts spread over 0.2 s).
 */
#define TH_MARGIN 0.03

/** One waiter of the timer heap test. */
struct th_waiter {
	/** Its task. */
	struct sl_task *task;
	/** Seconds it waits for. */
	double timeout;
	/** sl_clock() when it started and when its wait ended. */
	double start, end;
	/** sl_task_wait()'s result: 0 woken, -1 timed out. */
	int rc;
	/** Error code when it timed out. */
	int code;
	/** Whether the waker wakes it early. */
	int early;
	/** Number of its wake-up among the timed-out ones. */
	int seq;
};

/** The timer heap test's waiters. */
static struct th_waiter thw[TH_N];
/** Waits that timed out so far. */
static int th_timeouts;

/** Wait for a wakeup or the timeout. */
static int
th_wait(void *arg)
{
	struct th_waiter *w = arg;
	w->start = sl_clock();
	w->rc = sl_task_wait(w->timeout);
	w->end = sl_clock();
	w->code = w->rc != 0 ? sl_diag_code() : 0;
	if (w->rc != 0)
		w->seq = th_timeouts++;
	return 0;
}

/**
 * Thousands of waits with random timeouts, half of them ended early by
 * a wakeup in random order: the others time out at their deadlines (not
 * before, and in their order), although the loop's timer was left armed
 * for deadlines of waits that had ended.
 */
static int
timer_heap_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	srand(4242);
	for (int i = 0; i < TH_N; i++) {
		thw[i].early = rand() % 2;
		/* The early ones wait long enough that only the wakeup ends
		 * their wait, however slow the machine. */
		thw[i].timeout = thw[i].early ? 5.0 + (rand() % 5000) / 1000.0
		                              : 0.3 + (rand() % 2000) / 10000.0;
		thw[i].task = sl_task_spawn(loop, "th", th_wait, &thw[i]);
	}
	sl_sleep(0.01);
	/* Wake the early ones in random order, a few at a time. */
	int order[TH_N], n = 0;
	for (int i = 0; i < TH_N; i++)
		if (thw[i].early)
			order[n++] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = rand() % (i + 1), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (int k = 0; k < n; k++) {
		sl_task_wakeup(thw[order[k]].task);
		if (k % 50 == 49)
			sl_task_yield();
	}
	int joined = 0;
	for (int i = 0; i < TH_N; i++)
		joined += sl_task_join(thw[i].task) == 0;
	is_int(joined, TH_N, "timer heap: every waiter ended");
	int woken = 0, early_ok = 0, timed = 0, too_soon = 0, order_ok = 1;
	double worst = 0;
	for (int i = 0; i < TH_N; i++) {
		struct th_waiter *w = &thw[i];
		if (w->early) {
			woken++;
			early_ok += w->rc == 0;
			continue;
		}
		timed += w->rc != 0 && w->code == SL_ETIMEDOUT;
		too_soon += w->end - w->start < w->timeout - 1e-3;
		double late = w->end - w->start - w->timeout;
		if (late > worst)
			worst = late;
		/* A deadline is taken a moment after `start`: a waiter
		 * descheduled in between (a loaded machine, valgrind) has a
		 * later one than start + timeout says, hence the margin. */
		for (int j = 0; j < TH_N; j += 37)
			if (!thw[j].early &&
			    w->start + w->timeout + TH_MARGIN <
			            thw[j].start + thw[j].timeout &&
			    w->seq > thw[j].seq)
				order_ok = 0;
	}
	is_int(early_ok, woken, "timer heap: the %d woken waits returned 0",
	       woken);
	is_int(timed, TH_N - woken, "timer heap: the others timed out");
	is_int(too_soon, 0, "timer heap: none before its deadline");
	ok(worst < 2.0, "timer heap: none far after it (worst %.3f s)", worst);
	ok(order_ok, "timer heap: timeouts in deadline order");
	/* A lone short wait after a longer one that ended early: the
	 * timer armed for the longer one must not delay it. */
	struct th_waiter a = {.timeout = 0.5}, b = {.timeout = 0.05};
	a.task = sl_task_spawn(loop, "a", th_wait, &a);
	sl_task_yield();
	sl_task_wakeup(a.task);
	sl_task_join(a.task);
	b.task = sl_task_spawn(loop, "b", th_wait, &b);
	sl_task_join(b.task);
	ok(a.rc == 0 && b.rc != 0 && b.end - b.start >= 0.049 &&
	           b.end - b.start < 0.45,
	   "timer heap: a shorter wait times out on time (%.3f s)",
	   b.end - b.start);
	struct th_waiter c = {.timeout = 0.05}, d = {.timeout = 0.2};
	c.task = sl_task_spawn(loop, "c", th_wait, &c);
	sl_task_yield();
	sl_task_wakeup(c.task);
	sl_task_join(c.task);
	d.task = sl_task_spawn(loop, "d", th_wait, &d);
	sl_task_join(d.task);
	ok(c.rc == 0 && d.rc != 0 && d.end - d.start >= 0.199,
	   "timer heap: a longer wait outlives the timer left armed for a "
	   "shorter one (%.3f s)",
	   d.end - d.start);
	return 0;
}

/** Waiters of the timer lane test (equal timeouts, then shorter ones). */
#define TL_N 1000
/** Waiters each churn round of the timer lane test puts in and wakes. */
#define TL_CHURN 100
/** Churn rounds of the timer lane test. */
#define TL_ROUNDS 30

/** The timer lane test's waiters that may time out. */
static struct th_waiter tlw[TL_N];

/**
 * Waits with equal timeouts, whose deadlines come in order (the timer
 * lane), mixed with shorter ones (the heap): two thirds are woken early in
 * random order, leaving holes in the lane; then thousands of longer waits
 * go through the lane behind the remaining ones, ended early newest first
 * (the ring is compacted rather than grown). Every wait that is not woken
 * times out on time, in deadline order across lane and heap.
 */
static int
timer_lane_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	srand(777);
	th_timeouts = 0;
	/* Timeouts long enough that only the wakeup ends the early ones'
	 * waits, however slow the machine (valgrind). */
	for (int i = 0; i < TL_N; i++) {
		tlw[i].timeout = i % 10 == 9 ? 1.0 : 2.0;
		tlw[i].early = i % 10 != 9 && rand() % 3 != 0;
		tlw[i].task = sl_task_spawn(loop, "tl", th_wait, &tlw[i]);
	}
	sl_sleep(0.01);
	int order[TL_N], n = 0;
	for (int i = 0; i < TL_N; i++)
		if (tlw[i].early)
			order[n++] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = rand() % (i + 1), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (int k = 0; k < n; k++)
		sl_task_wakeup(tlw[order[k]].task);
	/* Each round keeps its last churned wait, so that the holes the
	 * others leave stay in front of a live entry until the ring
	 * compacts. */
	static struct th_waiter churn[TL_CHURN], keep[TL_ROUNDS];
	int churn_ok = 0;
	for (int r = 0; r < TL_ROUNDS; r++) {
		for (int i = 0; i < TL_CHURN; i++) {
			churn[i] = (struct th_waiter){.timeout = 30.0};
			churn[i].task = sl_task_spawn(loop, "churn", th_wait,
			                              &churn[i]);
		}
		keep[r] = (struct th_waiter){.timeout = 30.0};
		keep[r].task = sl_task_spawn(loop, "keep", th_wait, &keep[r]);
		sl_task_yield();
		for (int i = TL_CHURN; i-- > 0;)
			sl_task_wakeup(churn[i].task);
		for (int i = 0; i < TL_CHURN; i++)
			churn_ok += sl_task_join(churn[i].task) == 0 &&
			            churn[i].rc == 0;
	}
	for (int r = 0; r < TL_ROUNDS; r++)
		sl_task_wakeup(keep[r].task);
	for (int r = 0; r < TL_ROUNDS; r++)
		churn_ok += sl_task_join(keep[r].task) == 0 && keep[r].rc == 0;
	is_int(churn_ok, (TL_CHURN + 1) * TL_ROUNDS,
	       "timer lane: every churned wait was woken");
	int joined = 0;
	for (int i = 0; i < TL_N; i++)
		joined += sl_task_join(tlw[i].task) == 0;
	is_int(joined, TL_N, "timer lane: every waiter ended");
	int early_ok = 0, timed = 0, too_soon = 0, order_ok = 1;
	double worst = 0;
	for (int i = 0; i < TL_N; i++) {
		const struct th_waiter *w = &tlw[i];
		if (w->early) {
			early_ok += w->rc == 0;
			continue;
		}
		timed += w->rc != 0 && w->code == SL_ETIMEDOUT;
		too_soon += w->end - w->start < w->timeout - 1e-3;
		if (w->end - w->start - w->timeout > worst)
			worst = w->end - w->start - w->timeout;
		for (int j = 0; j < TL_N; j++)
			if (!tlw[j].early &&
			    w->start + w->timeout + TH_MARGIN <
			            tlw[j].start + tlw[j].timeout &&
			    w->seq > tlw[j].seq)
				order_ok = 0;
	}
	is_int(early_ok, n, "timer lane: the %d woken waits returned 0", n);
	is_int(timed, TL_N - n, "timer lane: the others timed out");
	is_int(too_soon, 0, "timer lane: none before its deadline");
	ok(worst < 2.0, "timer lane: none far after it (worst %.3f s)", worst);
	ok(order_ok, "timer lane: timeouts in deadline order, lane and heap");
	return 0;
}

/* }}} */

/** Run timer_lane_main() as a task on a fresh loop. */
TAP_CASE(timer_lane)
{
	is_int(run_task("timer_lane", timer_lane_main, NULL), 0,
	       "timer lane test ran");
}

/** Run wakeup_next_main() as a task on a fresh loop. */
TAP_CASE(wakeup_next)
{
	is_int(run_task("wakeup_next", wakeup_next_main, NULL), 0,
	       "wakeup_next test ran");
}

/** Run timer_heap_main() as a task on a fresh loop. */
TAP_CASE(timer_heap)
{
	is_int(run_task("timer_heap", timer_heap_main, NULL), 0,
	       "timer heap test ran");
}

/** Run yield_main() as a task on a fresh loop. */
TAP_CASE(yield)
{
	is_int(run_task("yield", yield_main, NULL), 0, "yield test ran");
}

/** Run join_main() as a task on a fresh loop. */
TAP_CASE(join)
{
	is_int(run_task("join", join_main, NULL), 0, "join test ran");
}

/** Run timing_main() as a task on a fresh loop. */
TAP_CASE(timing)
{
	is_int(run_task("timing", timing_main, NULL), 0, "timing test ran");
}

/** Run cancel_main() as a task on a fresh loop. */
TAP_CASE(cancel)
{
	is_int(run_task("cancel", cancel_main, NULL), 0, "cancel test ran");
}

/** Run join_cancel_main() as a task on a fresh loop. */
TAP_CASE(join_cancel)
{
	is_int(run_task("join-cancel", join_cancel_main, NULL), 0,
	       "join-cancel test ran");
}

/**
 * Run `fn` as task `name` on a fresh loop with the log captured into `log`
 * (`size` bytes, terminated); returns the task's result.
 */
static int
run_task_logged(const char *name, sl_task_fn fn, char *log, size_t size)
{
	FILE *cap = tmpfile();
	sl_log_set_output(cap);
	int rc = run_task(name, fn, NULL);
	sl_log_set_output(NULL);
	rewind(cap);
	size_t n = fread(log, 1, size - 1, cap);
	log[n] = '\0';
	fclose(cap);
	return rc;
}

/** Detached tasks run, and a failed one's error is logged. */
TAP_CASE(detach)
{
	char logbuf[2048] = "";
	detached_runs = 0;
	is_int(run_task_logged("detach", detach_main, logbuf, sizeof(logbuf)),
	       0, "detach test ran");
	is_int(detached_runs, 2, "detached tasks ran");
	ok(strstr(logbuf, "detached task 'd2' failed: disk on fire") != NULL,
	   "a failed detached task's error is logged: %s", logbuf);
}

/** Run hooks_main() as a task on a fresh loop (its log captured). */
TAP_CASE(hooks)
{
	char logbuf[2048] = "";
	is_int(run_task_logged("hooks", hooks_main, logbuf, sizeof(logbuf)), 0,
	       "hooks test ran");
}

/** A loop whose tasks all wait forever reports the deadlock. */
TAP_CASE(deadlock)
{
	struct sl_chan never;
	sl_chan_create(&never, 1);
	struct sl_loop *loop = sl_loop_new(NULL);
	int rc = sl_loop_run_main(loop, "deadlock", deadlock_main, &never);
	ok(rc == -1 && sl_diag_code() == SL_EDEADLOCK,
	   "sl_loop_run_main reports the deadlock: %s", unit_errmsg());
	is_int(sl_loop_task_count(loop), 0, "and every task ended");
	sl_loop_delete(loop);
	sl_chan_destroy(&never);
}

/** Run stacks_main() as a task on a fresh loop. */
TAP_CASE(stacks)
{
	is_int(run_task("stacks", stacks_main, NULL), 0, "stacks test ran");
}

/** run_main returns the main task's failure, with an error. */
TAP_CASE(returns_arg)
{
	is_int(run_task("rc", returns_arg, (void *)-1), -1,
	       "run_main returns the main task's failure");
	is_err(SL_EINVAL, "a task failing without an error gets one");
}

/** Task calls outside a task fail, and there is one loop per thread. */
TAP_CASE(outside)
{
	ok(sl_sleep(0.01) == -1, "sleep outside a task fails");
	is_err(SL_EINVAL, "with EINVAL");

	struct sl_loop *loop = sl_loop_new(NULL);
	ok(sl_loop_new(NULL) == NULL, "a second loop on one thread is "
	                              "refused");
	is_err(SL_EINVAL, "with EINVAL");
	pthread_t th;
	int thread_rc = -1;
	pthread_create(&th, NULL, thread_body, &thread_rc);
	pthread_join(th, NULL);
	is_int(thread_rc, 0, "another thread runs its own loop");
	sl_loop_delete(loop);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
