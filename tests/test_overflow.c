/*
 * Death tests: overflowing a task's stack ends the process with a message
 * that names the task; other crashes are not mistaken for overflows.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice/task.h"
#include "unit.h"

/** Depth at which bottomless() stops: never reached. */
static volatile int never = -1;
/** Address dereferenced by wild_pointer_task(). */
static volatile uintptr_t wild_address = 16;

/** Recurses without end; the frame keeps the compiler honest. */
static __attribute__((noinline)) int
bottomless(int n)
{
	volatile char frame[256];
	if (n == never)
		return 0;
	frame[n & 255] = (char)n;
	return bottomless(n + 1) + frame[(n + 1) & 255];
}

/** Task body that overflows. */
static int
overflow_task(void *arg)
{
	(void)arg;
	return bottomless(0);
}

/** Task body that dereferences a bad pointer. */
static int
wild_pointer_task(void *arg)
{
	(void)arg;
	volatile int *p = (volatile int *)wild_address;
	return *p;
}

/** Run `fn` as a task in a child; capture its stderr and how it died. */
static void
run_child(const char *name, sl_task_fn fn, char *out, size_t size, int *status)
{
	int p[2];
	if (pipe(p) != 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		struct sl_loop *loop = sl_loop_new(NULL);
		sl_loop_run_main(loop, name, fn, NULL);
		_exit(0);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(p[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	waitpid(pid, status, 0);
}

/** A task overflowing its stack dies with a message; a wild pointer does not.
 */
TAP_CASE(overflow)
{
	static char out[65536];
	int status = 0;
	run_child("deep-recursion", overflow_task, out, sizeof(out), &status);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	   "the overflowing process dies of SIGSEGV (status %#x)", status);
	ok(strstr(out, "stack overflow in task 'deep-recursion'") != NULL,
	   "with a message naming the task");
	ok(strstr(out, "its stack of 256 KiB is exhausted") != NULL,
	   "and the stack size");
	note("child said: %.300s", out);

	run_child("wild", wild_pointer_task, out, sizeof(out), &status);
	/* Under ASan its own SEGV report ends the process with exit 1. */
	int segv = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
	int asan_segv = WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	                strstr(out, "AddressSanitizer: SEGV") != NULL;
	ok(segv || asan_segv,
	   "a wild pointer in a task is left to the previous SIGSEGV "
	   "handler (status %#x)",
	   status);
	ok(strstr(out, "stack overflow") == NULL,
	   "and is not reported as a stack overflow");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
