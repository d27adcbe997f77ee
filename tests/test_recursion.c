/*
 * A task recursing 10,000 frames deep on its own stack.
 */
#include "sluice/task.h"
#include "unit.h"

/** Frames to recurse. */
#define DEPTH 10000

/** Deepest level reached. */
static int max_depth;

/**
 * Recurses with a buffer per frame, so frames are real; yields now and
 * then so that other tasks run while this stack is deep.
 */
static __attribute__((noinline)) long
recurse(int depth)
{
	volatile char frame[64];
	frame[0] = (char)depth;
	if (depth > max_depth)
		max_depth = depth;
	if (depth % 1000 == 0)
		sl_task_yield();
	if (depth == DEPTH)
		return frame[0] & 0x7f;
	return recurse(depth + 1) + (frame[0] != (char)depth ? 1000000 : 1);
}

/** Body of the deep task. */
static int
deep(void *arg)
{
	long *out = arg;
	*out = recurse(1);
	return 0;
}

/** Counts turns while the deep task works. */
static int
bystander(void *arg)
{
	int *turns = arg;
	for (int i = 0; i < 5; i++) {
		(*turns)++;
		sl_task_yield();
	}
	return 0;
}

/** Main task. */
static int
main_task(void *arg)
{
	(void)arg;
	struct sl_loop *loop = sl_loop_current();
	long result = -1;
	int turns = 0;
	/* 10,000 frames of ~100-300 bytes (more with sanitizers). */
	struct sl_task_opts o = {.stack_size = 8 * 1024 * 1024};
	struct sl_task *d = sl_task_spawn_opts(loop, "deep", deep, &result, &o);
	struct sl_task *b = sl_task_spawn(loop, "bystander", bystander, &turns);
	is_int(sl_task_join(d), 0, "the deep task finished");
	sl_task_join(b);
	is_int(max_depth, DEPTH, "it reached 10,000 frames");
	is_int(result, (DEPTH & 0x7f) + DEPTH - 1,
	       "every frame's local survived the yields");
	is_int(turns, 5, "other tasks ran while it was deep");
	return 0;
}

/** Deep recursion in tasks. */
TAP_CASE(recursion)
{
	struct sl_loop *loop = sl_loop_new(NULL);
	is_int(sl_loop_run_main(loop, "main", main_task, NULL), 0, "ran");
	sl_loop_delete(loop);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
