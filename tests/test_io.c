/*
 * Waiting on file descriptors, signals and offloaded work.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/io.h"
#include "sluice/task.h"
#include "unit.h"

/** Writes a byte to fd `arg` after 20 ms. */
static int
late_writer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	sl_sleep(0.02);
	return write(fd, "x", 1) == 1 ? 0 : -1;
}

/** Blocks reading fd `arg` through sl_io. */
static int
blocked_reader(void *arg)
{
	struct sl_io *io = arg;
	return sl_io_wait(io, SL_IO_READ, SL_FOREVER) > 0 ? 0 : -1;
}

/** File descriptor waits. */
static int
fd_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	int p[2];
	if (pipe(p) != 0)
		return -1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);

	struct sl_io io;
	ok(sl_io_create(&io, p[0]) == 0, "watch a pipe");
	struct sl_task *w = sl_task_spawn(loop, "writer", late_writer,
	                                  (void *)(intptr_t)p[1]);
	double t0 = sl_clock();
	int ev = sl_io_wait(&io, SL_IO_READ, 5.0);
	double dt = sl_clock() - t0;
	is_int(ev, SL_IO_READ, "the read end becomes readable");
	ok(dt >= 0.015 && dt < 1.0, "when the other task wrote (%.3f s)", dt);
	sl_task_join(w);
	char c;
	ok(read(p[0], &c, 1) == 1 && c == 'x', "and the byte is there");

	t0 = sl_clock();
	is_int(sl_io_wait(&io, SL_IO_READ, 0.03), -1, "an idle pipe times out");
	is_err(SL_ETIMEDOUT, "with ETIMEDOUT");
	ok(strstr(unit_errmsg(), "fd") != NULL, "naming the fd: %s",
	   unit_errmsg());
	ok(sl_clock() - t0 >= 0.029, "after the timeout");

	is_int(sl_wait_fd(p[1], SL_IO_WRITE, 1.0), SL_IO_WRITE,
	       "an empty pipe is writable at once");

	/* Two tasks on one watcher: the second is refused. */
	struct sl_task *r = sl_task_spawn(loop, "reader", blocked_reader, &io);
	sl_task_yield();
	is_int(sl_io_wait(&io, SL_IO_READ, 1.0), -1,
	       "a second waiter on the same fd is refused");
	is_err(SL_EBUSY, "with EBUSY");
	ok(strstr(unit_errmsg(), "'reader'") != NULL,
	   "naming the task that holds it: %s", unit_errmsg());

	/* Cancel the task blocked on the fd. */
	sl_task_cancel(r);
	is_int(sl_task_join(r), -1, "cancel ends a blocked fd wait");
	is_err(SL_ECANCELLED, "with ECANCELLED");
	ok(write(p[1], "y", 1) == 1, "write after the cancelled wait");
	is_int(sl_io_wait(&io, SL_IO_READ, 1.0), SL_IO_READ,
	       "the watcher works again after a cancelled wait");
	/* The duplicate keeps working if the caller closes the original. */
	sl_io_destroy(&io);

	int fd = open("/proc/self/exe", O_RDONLY);
	is_int(sl_wait_fd(fd, SL_IO_READ, 0.1), -1,
	       "a regular file cannot be polled");
	is_err(SL_ESYSTEM, "with ESYSTEM");
	close(fd);
	close(p[0]);
	close(p[1]);
	return 0;
}

/** Sends SIGUSR1 to the process after 10 ms. */
static int
signaller(void *arg)
{
	(void)arg;
	sl_sleep(0.01);
	return kill(getpid(), SIGUSR1);
}

/** Waits for SIGUSR2, which never comes. */
static int
sig_waiter(void *arg)
{
	return sl_signal_wait(arg, SL_FOREVER) > 0 ? 0 : -1;
}

/** Signal waits. */
static int
signal_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct sl_signal s;
	ok(sl_signal_create(&s, SIGUSR1) == 0, "catch SIGUSR1");
	struct sl_task *t = sl_task_spawn(loop, "signaller", signaller, NULL);
	is_int(sl_signal_wait(&s, 5.0), SIGUSR1,
	       "the signal is delivered to "
	       "the waiting task");
	sl_task_join(t);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	sl_sleep(0.01);
	ok(sl_signal_pending(&s) >= 1, "deliveries without a waiter are "
	                               "counted");
	ok(sl_signal_wait(&s, 0.5) == SIGUSR1, "and consumed later");
	while (sl_signal_pending(&s) > 0)
		sl_signal_wait(&s, 0.05);
	is_int(sl_signal_wait(&s, 0.02), -1, "no signal: the wait times out");
	is_err(SL_ETIMEDOUT, "with ETIMEDOUT");
	sl_signal_destroy(&s);

	struct sl_signal s2;
	sl_signal_create(&s2, SIGUSR2);
	t = sl_task_spawn(loop, "sig-waiter", sig_waiter, &s2);
	sl_task_yield();
	sl_task_cancel(t);
	is_int(sl_task_join(t), -1, "cancel ends a signal wait");
	is_err(SL_ECANCELLED, "with ECANCELLED");
	sl_signal_destroy(&s2);
	return 0;
}

/** State of an offloaded call. */
struct work {
	/** Microseconds to block for. */
	int usec;
	/** Result to return. */
	int rc;
	/** Set by the worker thread. */
	atomic_int ran;
	/** Set by abandon(). */
	atomic_int abandoned;
	/** Thread the work ran on. */
	pthread_t thread;
	/** If set, the work blocks until the loop's ticker opens it. */
	atomic_int *gate;
	/** Whether the gate opened in time. */
	atomic_int opened;
};

/** Ticks the loop must make while gated work blocks its thread. */
#define TICKS_TO_OPEN 10

/** Blocking work. */
static int
blocking_work(void *arg)
{
	struct work *w = arg;
	w->thread = pthread_self();
	usleep((useconds_t)w->usec);
	/* At most 20 s: valgrind's scheduler and a loaded machine are slow. */
	for (int i = 0; w->gate != NULL && i < 20000 && !atomic_load(w->gate);
	     i++)
		usleep(1000);
	if (w->gate != NULL)
		atomic_store(&w->opened, atomic_load(w->gate));
	atomic_store(&w->ran, 1);
	if (w->rc != 0)
		sl_diag_set(SL_EDB, "worker failed with %d", w->rc);
	return w->rc;
}

/** Cleanup for abandoned work. */
static void
abandon_work(void *arg)
{
	struct work *w = arg;
	atomic_store(&w->abandoned, 1);
}

/** What the ticker and the gated work share. */
struct tick_gate {
	/** Ticks counted. */
	int ticks;
	/** Set after TICKS_TO_OPEN ticks: the work may end. */
	atomic_int open;
};

/**
 * Counts ticks while offloaded work blocks a thread, and opens the gate
 * after TICKS_TO_OPEN. A tick is a yield, not a timer: valgrind's scheduler
 * can stall timer waits while another thread sleeps.
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

/** Waits on offloaded work with abandon set. */
static int
offload_waiter(void *arg)
{
	return sl_offload(blocking_work, arg, abandon_work, SL_FOREVER);
}

/** Offloaded work. */
static int
offload_main(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	struct tick_gate g = {0};
	struct work w = {.usec = 0, .rc = 0, .gate = &g.open};
	struct sl_task *tk = sl_task_spawn(loop, "ticker", ticker, &g);
	is_int(sl_offload(blocking_work, &w, NULL, SL_FOREVER), 0,
	       "offloaded work returns its result");
	ok(atomic_load(&w.ran), "it ran");
	ok(!pthread_equal(w.thread, pthread_self()), "on another thread");
	ok(atomic_load(&w.opened),
	   "while other tasks kept running (%d ticks before the work ended)",
	   g.ticks);
	sl_task_reap(tk);

	struct work bad = {.usec = 0, .rc = -1};
	is_int(sl_offload(blocking_work, &bad, NULL, SL_FOREVER), -1,
	       "a failing call returns -1");
	is_err(SL_EDB, "its error moves to the caller");
	is_str(unit_errmsg(), "worker failed with -1", "with its message");

	struct work *slow = sl_calloc(1, sizeof(*slow));
	slow->usec = 1000000;
	double t0 = sl_clock();
	is_int(sl_offload(blocking_work, slow, abandon_work, 0.02), -1,
	       "a wait with abandon honours the timeout");
	is_err(SL_ETIMEDOUT, "with ETIMEDOUT");
	ok(sl_clock() - t0 < 0.5, "returning before the work ends");
	while (!atomic_load(&slow->abandoned))
		sl_sleep(0.01);
	ok(atomic_load(&slow->ran), "abandon ran after the work finished");
	sl_free(slow);

	struct work c = {.usec = 1000000};
	struct sl_task *t =
	        sl_task_spawn(loop, "offloader", offload_waiter, &c);
	sl_task_yield();
	t0 = sl_clock();
	sl_task_cancel(t);
	is_int(sl_task_join(t), -1, "cancel ends an offload wait");
	is_err(SL_ECANCELLED, "with ECANCELLED");
	ok(sl_clock() - t0 < 0.5, "at once, not when the work ends");
	while (!atomic_load(&c.abandoned))
		sl_sleep(0.01);
	ok(1, "the abandoned work was cleaned up later");

	struct work n = {.usec = 30000};
	sl_task_cancel(sl_task_current());
	is_int(sl_offload(blocking_work, &n, NULL, SL_FOREVER), 0,
	       "without abandon the call completes despite cancellation");
	ok(atomic_load(&n.ran), "the work ran to the end");
	is_int(sl_sleep(0.001), -1, "the next wait sees the cancellation");
	return 0;
}

/** Run fd_main() as a task on a fresh loop. */
TAP_CASE(fd)
{
	is_int(run_task("main", fd_main, NULL), 0, "fd test ran");
}

/** Run signal_main() as a task on a fresh loop. */
TAP_CASE(signal)
{
	is_int(run_task("main", signal_main, NULL), 0, "signal test ran");
}

/** Run offload_main() as a task on a fresh loop. */
TAP_CASE(offload)
{
	is_int(run_task("main", offload_main, NULL), 0, "offload test ran");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
