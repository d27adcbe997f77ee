/*
 * The loop and the task scheduler.
 *
 * The scheduler runs on the thread's own stack as a pseudo-task
 * (`loop->sched`). Woken tasks go to `ready`; the scheduler moves `ready`
 * to `batch` and runs the batch, each task switching directly to the next
 * one and the last back to the scheduler, which then polls libuv. Tasks
 * woken during a batch run in the next one, so I/O is polled between
 * batches and no task starves the loop.
 *
 * Timeouts live in a binary min-heap of waiting tasks ordered by deadline;
 * one libuv timer is armed for the earliest. With thousands of waiting
 * tasks, each one's memory is cold by the time it is looked at again, so
 * the heap never reads a task: its entries hold their deadlines, and a
 * task finds its entry through a slot of a dense array (`heap_pos`) that
 * the heap keeps up to date as entries move. A wait that ends before its
 * deadline leaves the libuv timer armed for the earlier deadline it had
 * (it then fires early, finds nothing due and re-arms), which spares a
 * timer restart per wakeup when waits end in deadline order.
 *
 * Waits whose deadlines come in order (the common case: equal timeouts
 * taken one after the other, such as thousands of tasks queueing for a
 * pool with the same acquire timeout) skip the heap: they go to the end
 * of a FIFO lane, a ring sorted by construction, and leave it in O(1),
 * where the heap would sift through its depth on every insertion and
 * removal of its top. A deadline earlier than the lane's last goes to the
 * heap; the earliest entry is the first of the lane or the top of the
 * heap. An entry that leaves the lane before its turn leaves a hole, and
 * the ring is compacted (rather than grown) when holes fill half of it.
 *
 * A new task's first frame is written on its stack when it first runs,
 * not when it is spawned: a burst of spawns would otherwise touch every
 * stack twice, far apart in time (the second time cold again).
 */
#include "sluice/task.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "rt/ctx.h"
#include "rt/sched.h"
#include "rt/stack.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/list.h"
#include "sluice/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define SL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_ASAN 1
#endif
#endif
#ifndef SL_ASAN
#define SL_ASAN 0
#endif

#if SL_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/** Batches run between two non-blocking polls when tasks stay ready. */
#define POLL_EVERY_BATCHES 64
/** Wakeups per batch that sl_task_wakeup_next() puts first. */
#define NEXT_PER_BATCH 64
/** Default seconds per decay interval of a loop's stack cache. */
#define SL_STACK_DECAY_DEFAULT 2.0
/** Size of the alternate signal stack used to report overflows. */
#define ALTSTACK_SIZE (64 * 1024)
/** Heap slot of a task that is not in the timer heap. */
#define NOT_IN_HEAP UINT32_MAX
/** Most waiting tasks the timer heap holds (a hard cap). */
#define HEAP_MAX (UINT32_C(1) << 26)
/** Marks a heap_pos value that is an index in the lane, not the heap. */
#define IN_LANE (UINT32_C(1) << 31)
/** First size of the lane's ring (a power of two). */
#define LANE_MIN 64

/** Why a waiting task was made ready. */
enum wake {
	WAKE_NONE = 0, /**< not woken yet */
	WAKE_SIGNAL,   /**< sl_task_wakeup() */
	WAKE_TIMEOUT,  /**< its deadline passed */
	WAKE_CANCEL,   /**< sl_task_cancel() */
	WAKE_DEADLOCK, /**< the loop found no way forward */
};

/** A task (also used for the scheduler's own context). */
struct sl_task {
	/** Saved machine context while not running. */
	struct sl_ctx ctx;
	/** Next structure in the loop's task_cache while kept there. */
	struct sl_task *cached;
	/** The loop the task belongs to. */
	struct sl_loop *loop;
	/** Unique id within the loop. */
	uint64_t id;
	/** Name for logs, errors and the gdb helper. */
	char name[SL_TASK_NAME_MAX];
	/** Life-cycle state. */
	enum sl_task_state state;
	/** Body. */
	sl_task_fn fn;
	/** Body argument. */
	void *arg;
	/** Body result once dead: 0 or -1. */
	int rc;
	/** The task's errors. */
	struct sl_diag diag;
	/** Stack (empty for the scheduler). */
	struct sl_stack stack;
	/** Link in the loop's ready or batch queue. */
	struct sl_list link_run;
	/** Link in the loop's live list, or its dead list once ended. */
	struct sl_list link_all;
	/** Exit hooks (struct sl_task_hook), run newest first at the end. */
	struct sl_list exit_hooks;
	/** Set by sl_task_cancel(). */
	bool cancelled;
	/** Set by sl_task_detach(): free on death. */
	bool detached;
	/** Why the last wait ended. */
	enum wake wake;
	/** What the task waits for while WAITING (for reports and gdb). */
	const char *wait_what;
	/** Task suspended in sl_task_join()/reap() on this one, or NULL. */
	struct sl_task *joiner;
	/**
	 * Slot of its timer entry, in the heap or the lane (see heap_pos),
	 * or NOT_IN_HEAP.
	 */
	uint32_t heap_slot;
	/** Whether the task never ran (its first frame is not written). */
	bool fresh;
	/** ASan fake stack saved while switched out. */
	void *asan_fake;
	/** Bottom of the stack, as ASan wants it (learnt for the scheduler). */
	const void *asan_bottom;
	/** Size of that stack. */
	size_t asan_size;
};

/** An entry of the timer heap: a waiting task and its deadline. */
struct heap_ent {
	/** Deadline in loop nanoseconds. */
	uint64_t deadline;
	/** Insertion number, to keep equal deadlines in FIFO order. */
	uint64_t seq;
	/** The waiting task. */
	struct sl_task *task;
	/** The entry's slot in heap_pos. */
	uint32_t slot;
};

/** An event loop with its scheduler. */
struct sl_loop {
	/** libuv loop. */
	uv_loop_t uv;
	/** Timer armed for the earliest deadline in the heap. */
	uv_timer_t timer;
	/** Deadline the timer is armed for, 0 when stopped. */
	uint64_t timer_armed;
	/** Pseudo-task for the scheduler (the thread's own stack). */
	struct sl_task sched;
	/** Task running now (`&sched` when none). */
	struct sl_task *current;
	/** Task whose switch brought control to `current`. */
	struct sl_task *prev;
	/** Tasks woken since the batch started. */
	struct sl_list ready;
	/** Tasks of the batch being run. */
	struct sl_list batch;
	/** Every task not yet dead. */
	struct sl_list live;
	/** Joinable tasks that ended and were not yet joined. */
	struct sl_list dead;
	/** Dead task whose stack is to be released after the switch. */
	struct sl_task *zombie;
	/** Timer heap of waiting tasks with a deadline. */
	struct heap_ent *heap;
	/**
	 * Where each slot's entry is: its index in `heap`, or IN_LANE with
	 * its index in `lane`; a free slot holds the next free one instead
	 * (a list from `heap_free`).
	 */
	uint32_t *heap_pos;
	/** First free slot of heap_pos, or NOT_IN_HEAP. */
	uint32_t heap_free;
	/** Entries in the heap. */
	size_t heap_len;
	/** Entries allocated for `heap` and `heap_pos`. */
	size_t heap_cap;
	/** Next timer insertion number (heap and lane). */
	uint64_t heap_seq;
	/**
	 * FIFO lane of waiting tasks whose deadlines came in order: a ring
	 * of `lane_cap` entries (a power of two, or 0), ticket k at
	 * k % lane_cap, oldest first; an entry with no task is a hole.
	 */
	struct heap_ent *lane;
	/** Entries allocated for `lane`. */
	size_t lane_cap;
	/** Ticket of the first entry (never a hole while the lane holds any).
	 */
	uint64_t lane_head;
	/** Ticket of the next entry. */
	uint64_t lane_tail;
	/** Entries in the lane that are not holes. */
	size_t lane_len;
	/** Deadline of the last entry put in the lane (the least next one). */
	uint64_t lane_last;
	/** Number of live tasks. */
	size_t n_live;
	/** Next task id. */
	uint64_t next_id;
	/** Default usable stack size. */
	size_t stack_size;
	/** Default-size stacks, in slabs (freed ones kept for reuse). */
	struct sl_stack_pool stacks;
	/** Timer ending the stack cache's decay intervals (unreferenced). */
	uv_timer_t decay_timer;
	/** Decay interval in milliseconds. */
	uint64_t decay_ms;
	/** Whether decay_timer is running. */
	bool decay_armed;
	/**
	 * Freed task structures kept for the next spawns, linked through
	 * their `cached` member: a burst of tasks costs no allocator call per
	 * task. Never more than the stacks the pool keeps mapped (trimmed
	 * with them at each decay interval; see task_cache_cap()).
	 */
	struct sl_task *task_cache;
	/** Structures in task_cache. */
	size_t n_task_cache;
	/** Batches run since the last poll. */
	unsigned batches_since_poll;
	/** sl_task_wakeup_next() calls the batch may still put first. */
	unsigned next_left;
	/** Set when a deadlock was broken during sl_loop_run(). */
	bool deadlocked;
	/** Alternate signal stack installed by this loop, or NULL. */
	void *altstack;
	/** Next loop in the process-wide registry (for the gdb helper). */
	struct sl_loop *registry_next;
	/** HTTP state of the loop (src/rt/http.c), or NULL. */
	void *http;
	/** Work instead of waiting (sl_rt_loop_set_idle_work()), or NULL. */
	bool (*idle_work)(void *arg);
	/** Its argument. */
	void *idle_arg;
};

/** The loop of this thread. */
static _Thread_local struct sl_loop *tls_loop;
/** The task running on this thread (read by the overflow handler). */
static _Thread_local struct sl_task *tls_task;

/** Every loop of the process, for tools/sluice-gdb.py. */
struct sl_loop *sl_rt_loop_registry;
/** Guards sl_rt_loop_registry. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

/** Backend name, for the gdb helper and the demo. */
const char *const sl_rt_ctx_backend = SL_CTX_BACKEND;

static void task_entry(void *arg);

/* {{{ Clock and timer heap */

/**
 * Loop clock in nanoseconds: CLOCK_MONOTONIC, the clock of uv_hrtime(),
 * read without its call (several a query on the database paths).
 */
static inline uint64_t
now_ns(void)
{
	struct timespec t;
	if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
		return uv_hrtime();
	return (uint64_t)t.tv_sec * UINT64_C(1000000000) + (uint64_t)t.tv_nsec;
}

double
sl_clock(void)
{
	return (double)now_ns() / 1e9;
}

double
sl_rt_time_left(double timeout, double deadline)
{
	if (timeout < 0)
		return SL_FOREVER;
	double left = deadline - sl_clock();
	return left > 1e-9 ? left : 1e-9;
}

/** Whether heap entry a fires before b. */
static inline bool
heap_less(const struct heap_ent *a, const struct heap_ent *b)
{
	if (a->deadline != b->deadline)
		return a->deadline < b->deadline;
	return a->seq < b->seq;
}

/** Put entry `e` at index `i` of the heap. */
static inline void
heap_place(struct sl_loop *loop, const struct heap_ent *e, size_t i)
{
	loop->heap[i] = *e;
	loop->heap_pos[e->slot] = (uint32_t)i;
}

/** Restore heap order for the entry at `i`, which may have moved. */
static void
heap_fix(struct sl_loop *loop, size_t i)
{
	struct heap_ent e = loop->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!heap_less(&e, &loop->heap[parent]))
			break;
		heap_place(loop, &loop->heap[parent], i);
		i = parent;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct heap_ent *best = &e;
		if (l < loop->heap_len && heap_less(&loop->heap[l], best))
			m = l, best = &loop->heap[l];
		if (r < loop->heap_len && heap_less(&loop->heap[r], best))
			m = r, best = &loop->heap[r];
		if (m == i)
			break;
		heap_place(loop, best, i);
		i = m;
	}
	heap_place(loop, &e, i);
}

/** Fail: the timer heap and lane are at their cap. Returns -1. */
static int
too_many_waits(void)
{
	sl_diag_set(SL_ELIMIT,
	            "more than %" PRIu32 " tasks waiting with a timeout on "
	            "one loop",
	            HEAP_MAX);
	return -1;
}

/** Grow the heap and its slots. 0, or -1 with SL_EOOM or SL_ELIMIT. */
static int
heap_grow(struct sl_loop *loop)
{
	size_t cap = loop->heap_cap == 0 ? 64 : loop->heap_cap * 2;
	if (cap > HEAP_MAX)
		return too_many_waits();
	struct heap_ent *h = sl_realloc(loop->heap, cap * sizeof(*h));
	if (h != NULL)
		loop->heap = h;
	uint32_t *pos = h != NULL
	                        ? sl_realloc(loop->heap_pos, cap * sizeof(*pos))
	                        : NULL;
	if (pos == NULL) {
		sl_diag_set(SL_EOOM,
		            "out of memory growing the timer heap to %zu "
		            "entries",
		            cap);
		return -1;
	}
	loop->heap_pos = pos;
	/* The new slots, lowest first, in front of the free list. */
	for (size_t i = cap; i-- > loop->heap_cap;) {
		pos[i] = loop->heap_free;
		loop->heap_free = (uint32_t)i;
	}
	loop->heap_cap = cap;
	return 0;
}

/** Put entry `e` at ticket `k` of the lane. */
static inline void
lane_place(struct sl_loop *loop, const struct heap_ent *e, uint64_t k)
{
	uint32_t i = (uint32_t)(k & (loop->lane_cap - 1));
	loop->lane[i] = *e;
	loop->heap_pos[e->slot] = IN_LANE | i;
}

/**
 * Make room for one more entry at the lane's end: a ring of the same size
 * without its holes if they fill half of it, else one twice as big. 0, or
 * -1 with SL_EOOM or SL_ELIMIT.
 */
static int
lane_grow(struct sl_loop *loop)
{
	size_t cap = loop->lane_cap == 0 ? LANE_MIN : loop->lane_cap;
	if (loop->lane_len >= cap / 2)
		cap *= 2;
	if (cap > HEAP_MAX)
		return too_many_waits();
	struct heap_ent *old = loop->lane;
	size_t old_cap = loop->lane_cap;
	loop->lane = sl_malloc(cap * sizeof(*loop->lane));
	if (loop->lane == NULL) {
		loop->lane = old;
		sl_diag_set(SL_EOOM,
		            "out of memory growing the timer lane to %zu "
		            "entries",
		            cap);
		return -1;
	}
	loop->lane_cap = cap;
	uint64_t n = 0;
	for (uint64_t k = loop->lane_head; k != loop->lane_tail; k++) {
		const struct heap_ent *e = &old[k & (old_cap - 1)];
		if (e->task != NULL)
			lane_place(loop, e, n++);
	}
	assert(n == loop->lane_len);
	loop->lane_head = 0;
	loop->lane_tail = n;
	sl_free(old);
	return 0;
}

/** Drop the holes at both ends of the lane. */
static inline void
lane_trim(struct sl_loop *loop)
{
	size_t mask = loop->lane_cap - 1;
	while (loop->lane_head != loop->lane_tail &&
	       loop->lane[loop->lane_head & mask].task == NULL)
		loop->lane_head++;
	while (loop->lane_tail != loop->lane_head &&
	       loop->lane[(loop->lane_tail - 1) & mask].task == NULL)
		loop->lane_tail--;
}

/** The entry that fires first, in the lane or the heap, or NULL. */
static inline const struct heap_ent *
timer_first(const struct sl_loop *loop)
{
	const struct heap_ent *h = loop->heap_len > 0 ? &loop->heap[0] : NULL;
	if (loop->lane_len == 0)
		return h;
	const struct heap_ent *l =
	        &loop->lane[loop->lane_head & (loop->lane_cap - 1)];
	return h != NULL && heap_less(h, l) ? h : l;
}

/**
 * Add running task `t` with `deadline` to the lane if it comes after the
 * lane's last, else to the heap. 0, or -1 with an error.
 */
static int
timer_insert(struct sl_loop *loop, struct sl_task *t, uint64_t deadline)
{
	if (loop->heap_free == NOT_IN_HEAP && heap_grow(loop) != 0)
		return -1;
	bool lane = loop->lane_len == 0 || deadline >= loop->lane_last;
	if (lane && loop->lane_tail - loop->lane_head == loop->lane_cap &&
	    lane_grow(loop) != 0)
		return -1;
	uint32_t slot = loop->heap_free;
	loop->heap_free = loop->heap_pos[slot];
	t->heap_slot = slot;
	struct heap_ent e = {deadline, loop->heap_seq++, t, slot};
	if (lane) {
		lane_place(loop, &e, loop->lane_tail++);
		loop->lane_len++;
		loop->lane_last = deadline;
		return 0;
	}
	heap_place(loop, &e, loop->heap_len++);
	heap_fix(loop, loop->heap_len - 1);
	return 0;
}

/** Free slot `slot` of heap_pos. */
static inline void
slot_free(struct sl_loop *loop, uint32_t slot)
{
	loop->heap_pos[slot] = loop->heap_free;
	loop->heap_free = slot;
}

/** Remove the entry at index `i` of the heap and free its slot. */
static void
heap_remove_at(struct sl_loop *loop, size_t i)
{
	assert(i < loop->heap_len);
	uint32_t slot = loop->heap[i].slot;
	loop->heap[i].task->heap_slot = NOT_IN_HEAP;
	slot_free(loop, slot);
	if (i != --loop->heap_len) {
		heap_place(loop, &loop->heap[loop->heap_len], i);
		heap_fix(loop, i);
	}
}

/** Remove the entry at index `i` of the lane and free its slot. */
static void
lane_remove_at(struct sl_loop *loop, uint32_t i)
{
	struct heap_ent *e = &loop->lane[i];
	assert(e->task != NULL && loop->lane_len > 0);
	e->task->heap_slot = NOT_IN_HEAP;
	e->task = NULL;
	slot_free(loop, e->slot);
	loop->lane_len--;
	lane_trim(loop);
}

/** Remove task `t`'s timer entry; whether it was the first to fire. */
static bool
timer_remove(struct sl_loop *loop, struct sl_task *t)
{
	bool first = timer_first(loop)->task == t;
	uint32_t pos = loop->heap_pos[t->heap_slot];
	if (pos & IN_LANE) {
		assert(loop->lane[pos & ~IN_LANE].task == t);
		lane_remove_at(loop, pos & ~IN_LANE);
	} else {
		assert(pos < loop->heap_len && loop->heap[pos].task == t);
		heap_remove_at(loop, pos);
	}
	return first;
}

/** Remove the first entry to fire (there is one); its task. */
static struct sl_task *
timer_pop(struct sl_loop *loop)
{
	struct sl_task *t = timer_first(loop)->task;
	timer_remove(loop, t);
	return t;
}

static void timer_cb(uv_timer_t *timer);

/**
 * Arm the libuv timer for the earliest deadline, or stop it when no task
 * waits with one. Unless `exact`, a timer armed for an earlier time is
 * left as it is: it fires early and timer_cb() arms it again.
 */
static void
timer_rearm(struct sl_loop *loop, bool exact)
{
	const struct heap_ent *first = timer_first(loop);
	if (first == NULL) {
		if (loop->timer_armed != 0) {
			uv_timer_stop(&loop->timer);
			loop->timer_armed = 0;
		}
		return;
	}
	uint64_t deadline = first->deadline;
	if (deadline == loop->timer_armed ||
	    (!exact && loop->timer_armed != 0 && loop->timer_armed < deadline))
		return;
	uint64_t now = now_ns();
	uint64_t ms = deadline > now ? (deadline - now + 999999) / 1000000 : 0;
	uv_update_time(&loop->uv);
	uv_timer_start(&loop->timer, timer_cb, ms, 0);
	loop->timer_armed = deadline;
}

/* }}} */

/* {{{ Switching */

/**
 * Make a waiting or new task runnable in the next batch. A wake from a
 * libuv callback (no task runs) also stops the uv_run() in progress: a
 * timer callback runs before libuv polls, and the poll would otherwise
 * block for the next event with this task ready (libuv 1.44 polls with
 * timeout 0 only once uv_stop() was called).
 */
static void
make_ready(struct sl_loop *loop, struct sl_task *t)
{
	t->state = SL_TASK_READY;
	sl_list_add_tail(&loop->ready, &t->link_run);
	if (loop->current == &loop->sched)
		uv_stop(&loop->uv);
}

/**
 * Most task structures a loop's cache may hold: as many as the stacks its
 * pool keeps mapped, so that a burst's structures go back with its stacks;
 * none where memory comes from malloc() alone (sanitizer builds and
 * valgrind, which must see each structure freed).
 */
static size_t
task_cache_cap(const struct sl_loop *loop)
{
	return sl_alloc_plain() ? 0 : loop->stacks.n_slabs * SL_STACK_SLAB;
}

/** Free the structures of loop's task cache beyond `keep`. */
static void
task_cache_trim(struct sl_loop *loop, size_t keep)
{
	while (loop->n_task_cache > keep) {
		struct sl_task *t = loop->task_cache;
		loop->task_cache = t->cached;
		loop->n_task_cache--;
		sl_free(t);
	}
}

/**
 * A zeroed task structure: the newest from the loop's cache, else a new
 * one. NULL with SL_EOOM.
 */
static struct sl_task *
task_alloc(struct sl_loop *loop, const char *name)
{
	struct sl_task *t = loop->task_cache;
	if (t != NULL) {
		loop->task_cache = t->cached;
		loop->n_task_cache--;
		memset(t, 0, sizeof(*t));
		return t;
	}
	t = sl_calloc(1, sizeof(*t));
	if (t == NULL)
		sl_diag_set(SL_EOOM, "out of memory spawning task '%s'", name);
	return t;
}

/** End a decay interval of the stack cache; again later if it holds any. */
static void
decay_cb(uv_timer_t *timer)
{
	struct sl_loop *loop = timer->data;
	size_t left = sl_stack_pool_decay(&loop->stacks);
	task_cache_trim(loop, task_cache_cap(loop));
	if (left == 0) {
		uv_timer_stop(timer);
		loop->decay_armed = false;
	}
}

/** Return a dead task's stack to the pool or the system. */
static void
stack_release(struct sl_loop *loop, struct sl_stack *s)
{
	if (s->map == NULL)
		return;
	if (s->slab != NULL) {
		sl_stack_pool_put(&loop->stacks, s);
		/* Empty slabs kept, or stacks to trim: let the decay give
		 * the memory back in time. */
		if (!loop->decay_armed &&
		    (loop->stacks.n_empty > 0 || loop->stacks.n_dirty > 0)) {
			uv_timer_start(&loop->decay_timer, decay_cb,
			               loop->decay_ms, loop->decay_ms);
			loop->decay_armed = true;
		}
	} else {
		sl_stack_destroy(s);
	}
	s->map = NULL;
}

/**
 * Free a task structure (its stack is already released): to the loop's
 * cache while it has room.
 */
static void
task_free(struct sl_task *t)
{
	sl_diag_destroy(&t->diag);
	struct sl_loop *loop = t->loop;
	assert(loop != NULL);
	size_t cap = task_cache_cap(loop);
	if (loop->n_task_cache < cap) {
		t->cached = loop->task_cache;
		loop->task_cache = t;
		loop->n_task_cache++;
		return;
	}
	sl_free(t);
	/* Kept while the pool held more stacks than now. */
	task_cache_trim(loop, cap);
}

/** Release what the task that just died left behind. */
static void
reap_zombie(struct sl_loop *loop)
{
	struct sl_task *z = loop->zombie;
	if (z == NULL)
		return;
	loop->zombie = NULL;
	stack_release(loop, &z->stack);
	if (z->detached)
		task_free(z);
}

/** Bookkeeping on the resumed side of a switch. */
static void
after_switch(struct sl_loop *loop, struct sl_task *self)
{
#if SL_ASAN
	const void *bottom = NULL;
	size_t size = 0;
	__sanitizer_finish_switch_fiber(self->asan_fake, &bottom, &size);
	struct sl_task *prev = loop->prev;
	if (prev != NULL && prev->asan_bottom == NULL) {
		prev->asan_bottom = bottom;
		prev->asan_size = size;
	}
#else
	(void)self;
#endif
	reap_zombie(loop);
}

/**
 * Start loading the stack top of the task that runs after the next one
 * (the first of the batch), so that its cache misses overlap the next
 * one's work: with thousands of tasks, a task's stack is cold by the time
 * it runs again. Its task structure is warm (make_ready() wrote it).
 * Always inline: a function that only reads and prefetches counts as
 * pure to GCC, which drops calls to it.
 */
static inline __attribute__((always_inline)) void
prefetch_after_next(struct sl_loop *loop)
{
	struct sl_list *l = sl_list_first(&loop->batch);
	if (l == NULL)
		return;
	const struct sl_task *n = sl_list_entry(l, struct sl_task, link_run);
	if (n->fresh) {
		/* The first frame goes at the top: its two lines. */
		const char *top = (const char *)n->stack.lo + n->stack.size;
		__builtin_prefetch(top - 64, 1);
		__builtin_prefetch(top - 128, 1);
	} else {
		const char *sp = sl_ctx_sp(&n->ctx);
		__builtin_prefetch(sp);
		__builtin_prefetch(sp + 63);
	}
}

/** Switch from `from` (the running context) to `to`. */
static void
task_switch(struct sl_loop *loop, struct sl_task *from, struct sl_task *to)
{
	assert(from == loop->current && from != to);
	loop->prev = from;
	loop->current = to;
	to->state = SL_TASK_RUNNING;
	bool is_sched = to == &loop->sched;
	tls_task = is_sched ? NULL : to;
	sl_diag_swap(is_sched ? NULL : &to->diag);
	sl_log_set_task_name(is_sched ? NULL : to->name);
	if (to->fresh) {
		to->fresh = false;
		sl_ctx_make(&to->ctx, to->stack.lo, to->stack.size, task_entry,
		            to);
	}
	prefetch_after_next(loop);
#if SL_ASAN
	__sanitizer_start_switch_fiber(
	        from->state == SL_TASK_DEAD ? NULL : &from->asan_fake,
	        to->asan_bottom, to->asan_size);
#endif
	sl_ctx_switch(&from->ctx, &to->ctx);
	after_switch(loop, from);
}

/** Leave the running task: run the next of the batch, or the scheduler. */
static void
schedule_away(struct sl_loop *loop)
{
	struct sl_list *l = sl_list_first(&loop->batch);
	struct sl_task *next = &loop->sched;
	if (l != NULL) {
		sl_list_del(l);
		next = sl_list_entry(l, struct sl_task, link_run);
	}
	task_switch(loop, loop->current, next);
}

/** Deadline meaning "no deadline" for park(). */
#define NO_DEADLINE UINT64_MAX

/** Absolute loop-clock deadline for a relative timeout (SL_FOREVER: none). */
static uint64_t
deadline_after(double timeout)
{
	if (timeout < 0)
		return NO_DEADLINE;
	double ns = timeout * 1e9;
	return now_ns() + (ns > 1e18 ? (uint64_t)1e18 : (uint64_t)ns);
}

/**
 * Suspend the running task until woken or the loop clock reaches
 * `deadline` (nanoseconds, NO_DEADLINE for none). Returns why it was woken.
 * Sets no diag (except SL_EOOM on a failed heap insertion, in which case it
 * returns WAKE_NONE).
 */
static enum wake
park(struct sl_loop *loop, uint64_t deadline, const char *what)
{
	struct sl_task *t = loop->current;
	assert(t != &loop->sched);
	t->wake = WAKE_NONE;
	t->wait_what = what;
	if (deadline != NO_DEADLINE) {
		if (timer_insert(loop, t, deadline) != 0)
			return WAKE_NONE;
		if (timer_first(loop)->task == t)
			timer_rearm(loop, false);
	}
	t->state = SL_TASK_WAITING;
	schedule_away(loop);
	if (t->heap_slot != NOT_IN_HEAP && timer_remove(loop, t))
		timer_rearm(loop, false);
	t->wait_what = NULL;
	return t->wake;
}

/** The loop of the running task, or NULL with SL_EINVAL. */
static struct sl_loop *
loop_in_task(const char *op)
{
	struct sl_loop *loop = tls_loop;
	if (loop == NULL || loop->current == &loop->sched) {
		sl_diag_set(SL_EINVAL, "%s must be called from a task", op);
		return NULL;
	}
	return loop;
}

int
sl_rt_check_in_task(const char *op)
{
	return loop_in_task(op) != NULL ? 0 : -1;
}

/** Turn a wake reason into the wait's result and diag. */
static int
wake_result(struct sl_task *t, enum wake w, double timeout, const char *what)
{
	switch (w) {
	case WAKE_SIGNAL:
		return 0;
	case WAKE_TIMEOUT:
		sl_diag_set(SL_ETIMEDOUT,
		            "timed out after %.3f s waiting for %s", timeout,
		            what);
		return -1;
	case WAKE_CANCEL:
		sl_diag_set(SL_ECANCELLED,
		            "task '%s' was cancelled while waiting for %s",
		            t->name, what);
		return -1;
	case WAKE_DEADLOCK:
		sl_diag_set(SL_EDEADLOCK,
		            "deadlock: every task is blocked and nothing can "
		            "wake one (task '%s' waited for %s)",
		            t->name, what);
		return -1;
	case WAKE_NONE:
		break;
	}
	return -1; /* the heap insertion failed; diag is set */
}

/** Fail with SL_ECANCELLED if the running task `t` is cancelled. */
static int
check_cancelled(struct sl_task *t, const char *what)
{
	if (!t->cancelled)
		return 0;
	sl_diag_set(SL_ECANCELLED,
	            "task '%s' is cancelled (before waiting "
	            "for %s)",
	            t->name, what);
	return -1;
}

int
sl_rt_wait(double timeout, const char *what)
{
	struct sl_loop *loop = loop_in_task("a wait");
	if (loop == NULL)
		return -1;
	struct sl_task *t = loop->current;
	if (check_cancelled(t, what) != 0)
		return -1;
	if (timeout == 0) {
		sl_diag_set(SL_ETIMEDOUT, "%s is not ready (no wait allowed)",
		            what);
		return -1;
	}
	return wake_result(t, park(loop, deadline_after(timeout), what),
	                   timeout, what);
}

int
sl_rt_wait_uncancellable(const char *what)
{
	struct sl_loop *loop = loop_in_task("a wait");
	if (loop == NULL)
		return -1;
	struct sl_task *t = loop->current;
	enum wake w = park(loop, NO_DEADLINE, what);
	if (w == WAKE_CANCEL)
		return 0;
	return wake_result(t, w, SL_FOREVER, what);
}

int
sl_task_wait(double timeout)
{
	return sl_rt_wait(timeout, "a wakeup");
}

void
sl_task_wakeup(struct sl_task *t)
{
	if (t->state != SL_TASK_WAITING)
		return;
	t->wake = WAKE_SIGNAL;
	make_ready(t->loop, t);
}

void
sl_task_wakeup_next(struct sl_task *t)
{
	struct sl_loop *loop = t->loop;
	if (t->state != SL_TASK_WAITING)
		return;
	if (loop->current == &loop->sched || loop->next_left == 0) {
		sl_task_wakeup(t);
		return;
	}
	loop->next_left--;
	t->wake = WAKE_SIGNAL;
	t->state = SL_TASK_READY;
	sl_list_add_tail(loop->batch.next, &t->link_run);
}

/** Expire the deadlines that passed. */
static void
timer_cb(uv_timer_t *timer)
{
	struct sl_loop *loop = timer->data;
	loop->timer_armed = 0;
	uint64_t now = now_ns();
	const struct heap_ent *e;
	while ((e = timer_first(loop)) != NULL && e->deadline <= now) {
		struct sl_task *t = timer_pop(loop);
		assert(t->state == SL_TASK_WAITING);
		t->wake = WAKE_TIMEOUT;
		make_ready(loop, t);
	}
	timer_rearm(loop, true);
}

/* }}} */

/* {{{ Stack overflow reporting */

/** SIGSEGV disposition before ours, restored for faults that are not ours. */
static struct sigaction prev_segv;
/** Installs the handler once per process. */
static pthread_once_t segv_once = PTHREAD_ONCE_INIT;

/** Append a decimal number to `p` (async-signal-safe). */
static char *
put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/** Append a string to `p`, at most up to `end` (async-signal-safe). */
static char *
put_str(char *p, char *end, const char *s)
{
	while (*s != '\0' && p < end)
		*p++ = *s++;
	return p;
}

/** SIGSEGV handler: names the task whose stack overflowed. */
static void
segv_handler(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	struct sl_task *t = tls_task;
	if (t != NULL && sl_stack_is_overflow(&t->stack, si->si_addr)) {
		char msg[256];
		char *end = msg + sizeof(msg) - 64;
		char *p = put_str(msg, end, "sluice: stack overflow in task '");
		p = put_str(p, end, t->name);
		p = put_str(p, end, "' (id ");
		p = put_u64(p, t->id);
		p = put_str(p, end, "): its stack of ");
		p = put_u64(p, t->stack.size / 1024);
		p = put_str(p, end,
		            " KiB is exhausted; give the task a "
		            "larger stack_size\n");
		ssize_t w = write(STDERR_FILENO, msg, (size_t)(p - msg));
		(void)w;
		/* Die of the signal on return, with a core if enabled. */
		signal(sig, SIG_DFL);
		return;
	}
	/* Not an overflow: let the previous disposition handle the refault. */
	sigaction(sig, &prev_segv, NULL);
}

/** Install the SIGSEGV handler (process-wide, once). */
static void
segv_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &prev_segv);
}

/** Give this thread an alternate signal stack if it has none. */
static void
altstack_install(struct sl_loop *loop)
{
	stack_t cur;
	if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
		return;
	void *mem = sl_malloc(ALTSTACK_SIZE);
	if (mem == NULL)
		return; /* overflows then die without the message */
	stack_t ss = {.ss_sp = mem, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
	if (sigaltstack(&ss, NULL) != 0) {
		sl_free(mem);
		return;
	}
	loop->altstack = mem;
}

/** Remove the alternate signal stack this loop installed. */
static void
altstack_remove(struct sl_loop *loop)
{
	if (loop->altstack == NULL)
		return;
	stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
	sigaltstack(&ss, NULL);
	sl_free(loop->altstack);
	loop->altstack = NULL;
}

/* }}} */

/* {{{ Loop */

void
sl_loop_opts_init(struct sl_loop_opts *o)
{
	o->stack_size = SL_TASK_STACK_DEFAULT;
	o->stack_cache = 16384;
	o->stack_cache_decay = SL_STACK_DECAY_DEFAULT;
}

struct sl_loop *
sl_loop_new(const struct sl_loop_opts *opts)
{
	struct sl_loop_opts defaults;
	if (opts == NULL) {
		sl_loop_opts_init(&defaults);
		opts = &defaults;
	}
	if (tls_loop != NULL) {
		sl_diag_set(SL_EINVAL, "this thread already has a loop");
		return NULL;
	}
	struct sl_loop *loop = sl_calloc(1, sizeof(*loop));
	if (loop == NULL) {
		sl_diag_set(SL_EOOM, "out of memory creating a loop");
		return NULL;
	}
	loop->stack_size = sl_stack_round(opts->stack_size);
	sl_stack_pool_create(&loop->stacks, loop->stack_size,
	                     opts->stack_cache);
	int rc = uv_loop_init(&loop->uv);
	if (rc != 0) {
		sl_diag_set(SL_ESYSTEM, "cannot create an event loop: %s",
		            uv_strerror(rc));
		sl_free(loop);
		return NULL;
	}
	uv_timer_init(&loop->uv, &loop->timer);
	loop->timer.data = loop;
	/* Unreferenced: the decay never keeps the loop alive (nor hides a
	 * deadlock). */
	uv_timer_init(&loop->uv, &loop->decay_timer);
	uv_unref((uv_handle_t *)&loop->decay_timer);
	loop->decay_timer.data = loop;
	double decay = opts->stack_cache_decay > 0 ? opts->stack_cache_decay
	                                           : SL_STACK_DECAY_DEFAULT;
	if (decay < 0.001)
		decay = 0.001;
	loop->decay_ms = decay < 86400.0 ? (uint64_t)(decay * 1000.0)
	                                 : UINT64_C(86400000);
	sl_list_init(&loop->ready);
	sl_list_init(&loop->batch);
	sl_list_init(&loop->live);
	sl_list_init(&loop->dead);
	struct sl_task *s = &loop->sched;
	s->loop = loop;
	snprintf(s->name, sizeof(s->name), "sched");
	s->state = SL_TASK_RUNNING;
	s->heap_slot = NOT_IN_HEAP;
	sl_list_init(&s->link_run);
	sl_list_init(&s->link_all);
	sl_diag_create(&s->diag);
	loop->current = s;
	loop->next_id = 1;
	loop->heap_free = NOT_IN_HEAP;
	pthread_once(&segv_once, segv_install);
	altstack_install(loop);
	pthread_mutex_lock(&registry_lock);
	loop->registry_next = sl_rt_loop_registry;
	sl_rt_loop_registry = loop;
	pthread_mutex_unlock(&registry_lock);
	tls_loop = loop;
	return loop;
}

/** uv_walk callback closing handles left open by careless callers. */
static void
close_leftover(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void
sl_loop_delete(struct sl_loop *loop)
{
	assert(loop->n_live == 0);
	assert(loop->current == &loop->sched);
	while (!sl_list_empty(&loop->dead)) {
		struct sl_task *t = sl_list_entry(loop->dead.next,
		                                  struct sl_task, link_all);
		sl_list_del(&t->link_all);
		task_free(t);
	}
	task_cache_trim(loop, 0);
	sl_stack_pool_destroy(&loop->stacks);
	sl_rt_http_loop_end(loop);
	uv_close((uv_handle_t *)&loop->timer, NULL);
	uv_close((uv_handle_t *)&loop->decay_timer, NULL);
	/* Finish closes and abandoned thread work, then close the loop. */
	while (uv_loop_close(&loop->uv) == UV_EBUSY) {
		uv_walk(&loop->uv, close_leftover, NULL);
		uv_run(&loop->uv, UV_RUN_DEFAULT);
	}
	pthread_mutex_lock(&registry_lock);
	struct sl_loop **pp = &sl_rt_loop_registry;
	while (*pp != loop)
		pp = &(*pp)->registry_next;
	*pp = loop->registry_next;
	pthread_mutex_unlock(&registry_lock);
	altstack_remove(loop);
	sl_diag_destroy(&loop->sched.diag);
	sl_free(loop->heap);
	sl_free(loop->heap_pos);
	sl_free(loop->lane);
	if (tls_loop == loop)
		tls_loop = NULL;
	sl_free(loop);
}

struct sl_loop *
sl_loop_current(void)
{
	return tls_loop;
}

void **
sl_rt_http_slot(struct sl_loop *loop)
{
	return &loop->http;
}

uv_loop_t *
sl_rt_uv(struct sl_loop *loop)
{
	return &loop->uv;
}

void
sl_rt_loop_set_idle_work(struct sl_loop *loop, bool (*fn)(void *arg), void *arg)
{
	assert(fn == NULL || loop->idle_work == NULL);
	loop->idle_work = fn;
	loop->idle_arg = arg;
}

size_t
sl_loop_task_count(const struct sl_loop *loop)
{
	return loop->n_live;
}

/** Wake every waiting task with a deadlock error. */
static void
break_deadlock(struct sl_loop *loop)
{
	struct sl_list *it;
	size_t n = 0;
	sl_list_foreach(it, &loop->live)
	{
		struct sl_task *t = sl_list_entry(it, struct sl_task, link_all);
		if (t->state == SL_TASK_WAITING) {
			t->wake = WAKE_DEADLOCK;
			make_ready(loop, t);
			n++;
		}
	}
	assert(n > 0);
	loop->deadlocked = true;
	sl_log_debug("deadlock broken: %zu tasks woken with EDEADLOCK", n);
}

int
sl_loop_run(struct sl_loop *loop)
{
	assert(loop->current == &loop->sched);
	loop->deadlocked = false;
	while (loop->n_live > 0) {
		if (sl_list_empty(&loop->ready)) {
			if (loop->idle_work != NULL &&
			    loop->idle_work(loop->idle_arg))
				/* Events that came meanwhile, then look
				 * again. */
				uv_run(&loop->uv, UV_RUN_NOWAIT);
			else if (!uv_loop_alive(&loop->uv))
				break_deadlock(loop);
			else
				uv_run(&loop->uv, UV_RUN_ONCE);
			loop->batches_since_poll = 0;
			continue;
		}
		if (++loop->batches_since_poll >= POLL_EVERY_BATCHES) {
			uv_run(&loop->uv, UV_RUN_NOWAIT);
			loop->batches_since_poll = 0;
		}
		sl_list_splice_tail(&loop->batch, &loop->ready);
		loop->next_left = NEXT_PER_BATCH;
		struct sl_list *l = sl_list_first(&loop->batch);
		sl_list_del(l);
		task_switch(loop, &loop->sched,
		            sl_list_entry(l, struct sl_task, link_run));
	}
	if (loop->deadlocked) {
		sl_diag_set(SL_EDEADLOCK, "the loop deadlocked: every task was "
		                          "blocked and nothing could wake one");
		return -1;
	}
	return 0;
}

/* }}} */

/* {{{ Tasks */

struct sl_task *
sl_task_spawn_opts(struct sl_loop *loop, const char *name, sl_task_fn fn,
                   void *arg, const struct sl_task_opts *opts)
{
	size_t size = opts != NULL && opts->stack_size != 0
	                      ? sl_stack_round(opts->stack_size)
	                      : loop->stack_size;
	struct sl_task *t = task_alloc(loop, name);
	if (t == NULL)
		return NULL;
	t->loop = loop;
	if (size == loop->stack_size
	            ? sl_stack_pool_get(&loop->stacks, &t->stack) != 0
	            : sl_stack_create(&t->stack, size) != 0) {
		sl_diag_wrap(sl_diag_code(), "cannot spawn task '%s'", name);
		task_free(t);
		return NULL;
	}
	t->id = loop->next_id++;
	size_t len = strnlen(name, sizeof(t->name) - 1);
	memcpy(t->name, name, len); /* NUL-terminated by calloc */
	t->fn = fn;
	t->arg = arg;
	t->heap_slot = NOT_IN_HEAP;
	t->fresh = true;
	t->asan_bottom = t->stack.lo;
	t->asan_size = t->stack.size;
	sl_diag_create(&t->diag);
	sl_list_init(&t->link_run);
	sl_list_init(&t->exit_hooks);
	sl_list_add_tail(&loop->live, &t->link_all);
	loop->n_live++;
	make_ready(loop, t);
	return t;
}

struct sl_task *
sl_task_spawn(struct sl_loop *loop, const char *name, sl_task_fn fn, void *arg)
{
	return sl_task_spawn_opts(loop, name, fn, arg, NULL);
}

/** Log the error of a detached task that failed. */
static void
log_detached_failure(struct sl_task *t)
{
	char msg[1024];
	sl_error_format(t->diag.last, msg, sizeof(msg));
	sl_log_error("detached task '%s' failed: %s", t->name, msg);
}

/**
 * Run the task's exit hooks, newest first. A hook may wait, so a pending
 * cancellation is lifted while they run (and restored afterwards); a hook's
 * failure does not replace the task's own error.
 */
static void
run_exit_hooks(struct sl_task *t)
{
	if (sl_list_empty(&t->exit_hooks))
		return;
	bool cancelled = t->cancelled;
	t->cancelled = false;
	struct sl_diag saved;
	sl_diag_stash(&saved);
	while (!sl_list_empty(&t->exit_hooks)) {
		struct sl_task_hook *h = sl_list_entry(
		        t->exit_hooks.prev, struct sl_task_hook, link);
		sl_list_del(&h->link);
		h->fn(h->arg);
	}
	sl_diag_restore(&saved);
	t->cancelled = t->cancelled || cancelled;
}

void
sl_task_on_exit(struct sl_task_hook *h, void (*fn)(void *arg), void *arg)
{
	struct sl_task *t = sl_task_current();
	assert(t != NULL);
	h->fn = fn;
	h->arg = arg;
	sl_list_add_tail(&t->exit_hooks, &h->link);
}

void
sl_task_hook_remove(struct sl_task_hook *h)
{
	sl_list_del(&h->link);
}

/** Body of every task: run it, record the result, never return. */
static void
task_entry(void *arg)
{
	struct sl_task *t = arg;
	struct sl_loop *loop = t->loop;
	after_switch(loop, t);
	int rc = t->fn(t->arg);
	run_exit_hooks(t);
	if (rc != 0 && t->diag.last == NULL) {
		sl_diag_set(SL_EINVAL, "task '%s' failed without saying why",
		            t->name);
	}
	t->rc = rc != 0 ? -1 : 0;
	assert(t->heap_slot == NOT_IN_HEAP);
	t->state = SL_TASK_DEAD;
	sl_list_del(&t->link_all);
	loop->n_live--;
	if (t->detached) {
		if (t->rc != 0)
			log_detached_failure(t);
	} else {
		sl_list_add_tail(&loop->dead, &t->link_all);
	}
	if (t->joiner != NULL)
		sl_task_wakeup(t->joiner);
	loop->zombie = t;
	schedule_away(loop);
	__builtin_unreachable();
}

/** Take a dead joinable task's result and free it. */
static int
task_collect(struct sl_task *t)
{
	assert(t->state == SL_TASK_DEAD && !t->detached);
	int rc = t->rc;
	if (rc != 0)
		sl_diag_move(&t->diag, sl_diag_get());
	sl_list_del(&t->link_all);
	task_free(t);
	return rc;
}

int
sl_task_join(struct sl_task *t)
{
	struct sl_loop *loop = loop_in_task("sl_task_join()");
	if (loop == NULL)
		return -1;
	struct sl_task *self = loop->current;
	assert(t != self && !t->detached);
	assert(t->joiner == NULL || t->joiner == self);
	char what[SL_TASK_NAME_MAX + 16];
	if (t->state != SL_TASK_DEAD)
		snprintf(what, sizeof(what), "task '%s'", t->name);
	while (t->state != SL_TASK_DEAD) {
		t->joiner = self;
		int rc = sl_rt_wait(SL_FOREVER, what);
		t->joiner = NULL;
		if (rc != 0 && t->state != SL_TASK_DEAD)
			return -1;
	}
	return task_collect(t);
}

int
sl_task_reap(struct sl_task *t)
{
	struct sl_loop *loop = loop_in_task("sl_task_reap()");
	if (loop == NULL)
		return -1;
	struct sl_task *self = loop->current;
	assert(t != self && !t->detached);
	sl_task_cancel(t);
	while (t->state != SL_TASK_DEAD) {
		t->joiner = self;
		sl_rt_wait_uncancellable("a cancelled task to end");
		t->joiner = NULL;
	}
	return task_collect(t);
}

void
sl_task_detach(struct sl_task *t)
{
	assert(!t->detached);
	t->detached = true;
	if (t->state == SL_TASK_DEAD && t != t->loop->zombie) {
		if (t->rc != 0)
			log_detached_failure(t);
		sl_list_del(&t->link_all);
		task_free(t);
	}
}

void
sl_task_cancel(struct sl_task *t)
{
	if (t->state == SL_TASK_DEAD)
		return;
	t->cancelled = true;
	if (t->state == SL_TASK_WAITING) {
		t->wake = WAKE_CANCEL;
		make_ready(t->loop, t);
	}
}

struct sl_task *
sl_task_current(void)
{
	return tls_task;
}

int
sl_task_is_cancelled(void)
{
	return tls_task != NULL && tls_task->cancelled;
}

int
sl_task_testcancel(void)
{
	struct sl_task *t = tls_task;
	if (t == NULL || !t->cancelled)
		return 0;
	sl_diag_set(SL_ECANCELLED, "task '%s' is cancelled", t->name);
	return -1;
}

void
sl_task_uncancel(void)
{
	if (tls_task != NULL)
		tls_task->cancelled = false;
}

int
sl_task_yield(void)
{
	struct sl_loop *loop = tls_loop;
	if (loop == NULL || loop->current == &loop->sched)
		return 0;
	struct sl_task *t = loop->current;
	make_ready(loop, t);
	schedule_away(loop);
	return sl_task_testcancel();
}

/**
 * Sleep until the loop clock reaches `deadline` nanoseconds. Always inlined
 * so that sl_sleep() keeps its own frame in backtraces (a tail call would
 * hide it).
 */
static inline __attribute__((always_inline)) int
sleep_until_ns(uint64_t deadline, double seconds)
{
	struct sl_loop *loop = loop_in_task("sl_sleep()");
	if (loop == NULL)
		return -1;
	struct sl_task *t = loop->current;
	if (check_cancelled(t, "sleep") != 0)
		return -1;
	while (now_ns() < deadline) {
		enum wake w = park(loop, deadline, "sleep");
		if (w == WAKE_TIMEOUT)
			return 0;
		if (w != WAKE_SIGNAL)
			return wake_result(t, w, seconds, "sleep");
	}
	return 0;
}

int
sl_sleep(double seconds)
{
	return sleep_until_ns(deadline_after(seconds > 0 ? seconds : 0),
	                      seconds);
}

int
sl_sleep_until(double when)
{
	double ns = when * 1e9;
	uint64_t deadline = ns <= 0        ? 0
	                    : ns >= 1.8e19 ? NO_DEADLINE - 1
	                                   : (uint64_t)ns;
	return sleep_until_ns(deadline, when - sl_clock());
}

const char *
sl_task_name(const struct sl_task *t)
{
	return t->name;
}

uint64_t
sl_task_id(const struct sl_task *t)
{
	return t->id;
}

enum sl_task_state
sl_task_state(const struct sl_task *t)
{
	return t->state;
}

const char *
sl_task_state_name(enum sl_task_state s)
{
	switch (s) {
	case SL_TASK_READY:
		return "ready";
	case SL_TASK_RUNNING:
		return "running";
	case SL_TASK_WAITING:
		return "waiting";
	case SL_TASK_DEAD:
		return "dead";
	}
	return "unknown";
}

int
sl_loop_run_main(struct sl_loop *loop, const char *name, sl_task_fn fn,
                 void *arg)
{
	struct sl_task *t = sl_task_spawn(loop, name, fn, arg);
	if (t == NULL)
		return -1;
	int loop_rc = sl_loop_run(loop);
	struct sl_diag loop_diag;
	sl_diag_create(&loop_diag);
	sl_diag_move(sl_diag_get(), &loop_diag);
	int rc = task_collect(t);
	if (rc == 0 && loop_rc != 0) {
		sl_diag_move(&loop_diag, sl_diag_get());
		rc = -1;
	}
	sl_diag_destroy(&loop_diag);
	return rc;
}

/* }}} */
