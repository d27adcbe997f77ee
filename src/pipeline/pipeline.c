/*
 * sluice: the pipeline runner: one task per step, bounded outboxes of
 * batches between them, start barrier, failure and stop semantics (see
 * sluice/pipeline.h).
 */
#include "sluice/pipeline.h"

#include <assert.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/chan.h"
#include "sluice/diag.h"
#include "sluice/io.h"
#include "sluice/log.h"
#include "sluice/task.h"
#include "sluice/worker.h"

/** Where a step's task is in its life. */
enum phase {
	PHASE_IDLE = 0, /**< not started */
	PHASE_START,    /**< in start() */
	PHASE_BARRIER,  /**< waiting for the other steps to start */
	PHASE_RUN,      /**< processing input or draining */
	PHASE_FINISH,   /**< in finish() */
	PHASE_DONE,     /**< ended */
};

struct par_slot;

/** The output side of a step (the sl_emit of step.h). */
struct sl_emit {
	/** The pipeline. */
	struct sl_pipeline *p;
	/** The step emitting. */
	struct sl_step *step;
	/** Outbox to the next step, or NULL for the last step. */
	struct sl_chan *out;
	/**
	 * For the emitter of a job on a worker thread: the slot whose list
	 * takes the batches it fills (nothing is sent from there, and
	 * nothing counted); else NULL.
	 */
	struct par_slot *collect;
	/** Jobs given with sl_emit_job() (or the step's own), or NULL. */
	struct par *par;
	/** Batch being filled, or NULL. */
	struct sl_batch *cur;
	/** A batch passed on whole that is not sent yet, or NULL. */
	struct sl_batch *held;
	/** Origin given to the records emitted next. */
	struct sl_origin origin;
};

/** A job slot of an emitter's jobs on worker threads. */
struct par_slot {
	/** The job posted for the slot. */
	struct sl_worker_job job;
	/** The jobs it belongs to. */
	struct par *par;
	/** What the job runs: fn(arg, &out). */
	sl_emit_job_fn fn;
	/** Its argument. */
	void *arg;
	/** Called with `arg` on the loop thread once the output went on. */
	void (*release)(void *arg);
	/** For a step on worker threads: the replica the job runs. */
	struct sl_step *replica;
	/** The input batch of such a job, or a flush marker to pass on. */
	struct sl_batch *in;
	/** The job's emitter (collecting into `batches`). */
	struct sl_emit out;
	/** Batches the job filled, in order, linked by their `link`. */
	struct sl_list batches;
	/** Skips and errors the job reported. */
	struct sl_step_events events;
	/** Whether the slot is in use (a posted job or a flush marker). */
	bool busy;
	/** Whether the slot's job ended (or it holds a flush marker). */
	bool done;
	/** Whether a job was posted (its result must be taken). */
	bool posted;
};

/**
 * Jobs of an emitter on the run's worker threads, whose output goes on in
 * the order the jobs were given.
 */
struct par {
	/** The emitter on the loop thread. */
	struct sl_emit *e;
	/** The run's worker threads. */
	struct sl_worker *w;
	/** Slots, used as a ring in order. */
	struct par_slot *slots;
	/** Number of slots. */
	uint32_t n;
	/** Index of the oldest busy slot. */
	uint32_t head;
	/** Busy slots. */
	uint32_t busy;
	/** The emitter's task while it waits for a job, or NULL. */
	struct sl_task *waiter;
	/** Set to make running jobs stop early (their output is dropped). */
	atomic_bool abort;
};

/** A step while the pipeline runs. */
struct step_run {
	/** The pipeline. */
	struct sl_pipeline *p;
	/** The step (owned by the pipeline). */
	struct sl_step *step;
	/** Input: the previous step's outbox, or NULL for the first step. */
	struct sl_chan *in;
	/** Output. */
	struct sl_emit emit;
	/** The step's task while it runs. */
	struct sl_task *task;
	/** Where the task is. */
	enum phase phase;
	/** The step's fatal error, if any. */
	struct sl_diag err;
	/** Order in which fatal errors happened (0: none). */
	uint64_t fail_seq;
	/** Whether `process` runs on the run's worker threads. */
	bool parallel;
};

/** A signal catcher task of a run. */
struct sig_watch {
	/** The pipeline to stop. */
	struct sl_pipeline *p;
	/** The catcher. */
	struct sl_signal sig;
	/** Whether `sig` was created. */
	bool active;
	/** The waiting task. */
	struct sl_task *task;
};

struct sl_pipeline {
	/** Options. */
	struct sl_pipeline_opts opts;
	/** Steps in order (owned). */
	struct sl_step **steps;
	/** Number of steps. */
	uint32_t n;
	/** Capacity of `steps`. */
	uint32_t cap;
	/** Per-step run state during a run. */
	struct step_run *runs;
	/** Outboxes between steps during a run (n - 1). */
	struct sl_chan *chans;
	/** Batches of the run. */
	struct sl_batch_pool pool;
	/** Whether a run is in progress. */
	bool running;
	/** Steps past their start (successful or not). */
	uint32_t n_started;
	/** Whether a step's start failed. */
	bool start_failed;
	/** Whether a stop was requested. */
	bool stop_requested;
	/** Whether the stop was forced. */
	bool forced;
	/** Signal that asked for the stop, or 0. */
	int signum;
	/** Signals received during the run. */
	unsigned n_signals;
	/** Fatal errors so far (gives each its order). */
	uint64_t fail_count;
	/** Clock at the start of the run. */
	double t_start;
	/** Clock at the end of the run, or 0 while running. */
	double t_end;
	/** Worker threads of the run, or NULL. */
	struct sl_worker *worker;
};

void
sl_pipeline_opts_init(struct sl_pipeline_opts *o)
{
	/* batch_size and outbox_records stay 0: sized by the threads
	 * (sl_pipeline_batch_size()). */
	memset(o, 0, sizeof(*o));
	o->batch_bytes = (size_t)4 << 20;
	o->arena_cap = SL_RECORD_MEM_MAX;
	o->catch_signals = false;
	o->threads = 1;
}

uint32_t
sl_pipeline_cores(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return (uint32_t)n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (uint32_t)n : 1;
}

uint32_t
sl_pipeline_batch_size(const struct sl_pipeline_opts *o)
{
	if (o->batch_size != 0)
		return o->batch_size;
	return o->threads > 1 ? SL_BATCH_SIZE_DEFAULT
	                      : SL_BATCH_SIZE_ONE_THREAD;
}

struct sl_pipeline *
sl_pipeline_new(const struct sl_pipeline_opts *opts)
{
	struct sl_pipeline_opts o;
	if (opts != NULL)
		o = *opts;
	else
		sl_pipeline_opts_init(&o);
	if (o.batch_bytes == 0 || o.arena_cap < o.batch_bytes) {
		sl_diag_set(
		        SL_EINVAL,
		        "pipeline options: batch bytes must be positive and "
		        "the arena cap at least the batch bytes");
		return NULL;
	}
	if (o.threads == 0 || o.threads > SL_PIPELINE_THREADS_MAX) {
		sl_diag_set(SL_EINVAL,
		            "pipeline options: %u threads (expected 1 to %d)",
		            o.threads, SL_PIPELINE_THREADS_MAX);
		return NULL;
	}
	struct sl_pipeline *p = sl_calloc(1, sizeof(*p));
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a pipeline");
		return NULL;
	}
	p->opts = o;
	return p;
}

void
sl_pipeline_delete(struct sl_pipeline *p)
{
	if (p == NULL)
		return;
	assert(!p->running);
	for (uint32_t i = 0; i < p->n; i++)
		sl_step_delete(p->steps[i]);
	sl_free(p->steps);
	sl_free(p);
}

int
sl_pipeline_add(struct sl_pipeline *p, struct sl_step *s)
{
	assert(!p->running);
	if (p->n == p->cap) {
		uint32_t cap = p->cap ? p->cap * 2 : 8;
		struct sl_step **steps =
		        sl_realloc(p->steps, cap * sizeof(*steps));
		if (steps == NULL) {
			sl_step_delete(s);
			sl_diag_set(SL_EOOM,
			            "out of memory for pipeline steps");
			return -1;
		}
		p->steps = steps;
		p->cap = cap;
	}
	s->index = p->n;
	snprintf(s->name, sizeof(s->name), "%u:%s", s->index, s->ops->type);
	p->steps[p->n++] = s;
	return 0;
}

uint32_t
sl_pipeline_step_count(const struct sl_pipeline *p)
{
	return p->n;
}

struct sl_step *
sl_pipeline_step(struct sl_pipeline *p, uint32_t i)
{
	assert(i < p->n);
	return p->steps[i];
}

int
sl_pipeline_stopped_by(const struct sl_pipeline *p)
{
	return p->signum;
}

bool
sl_pipeline_forced(const struct sl_pipeline *p)
{
	return p->forced;
}

uint64_t
sl_pipeline_records_out(const struct sl_pipeline *p)
{
	return p->n > 0 ? p->steps[p->n - 1]->stats.out : 0;
}

double
sl_pipeline_elapsed(const struct sl_pipeline *p)
{
	if (p->t_start == 0)
		return 0;
	return (p->t_end != 0 ? p->t_end : sl_clock()) - p->t_start;
}

bool
sl_pipeline_outbox(const struct sl_pipeline *p, uint32_t i,
                   struct sl_pipeline_outbox *out)
{
	memset(out, 0, sizeof(*out));
	if (!p->running || p->chans == NULL || i + 1 >= p->n)
		return false;
	const struct sl_chan *ch = &p->chans[i];
	out->batches = ch->count;
	out->capacity = ch->capacity;
	for (size_t k = 0; k < ch->count; k++) {
		const struct sl_batch *b =
		        ch->ring[(ch->head + k) % ch->capacity].item;
		if (b != NULL && b->kind == SL_BATCH_DATA)
			out->records += b->count;
	}
	return true;
}

/* --- emitting ----------------------------------------------------------- */

struct sl_step *
sl_emit_step(struct sl_emit *e)
{
	return e->step;
}

struct sl_arena *
sl_emit_arena(struct sl_emit *e)
{
	if (e->cur == NULL) {
		e->cur = sl_batch_get(&e->p->pool);
		if (e->cur == NULL)
			return NULL;
	}
	return &e->cur->arena;
}

struct sl_arena *
sl_emit_shape(struct sl_emit *e)
{
	assert(e->cur != NULL);
	return &e->cur->shape;
}

/**
 * Send `*slot` on. On success the slot is emptied; on failure the batch
 * stays in it, so that it can be sent again once a stop was handled.
 */
static int
emit_send_slot(struct sl_emit *e, struct sl_batch **slot)
{
	struct sl_batch *b = *slot;
	if (b == NULL)
		return 0;
	if (b->kind == SL_BATCH_DATA && b->count == 0) {
		*slot = NULL;
		sl_batch_put(b);
		return 0;
	}
	if (e->collect != NULL) {
		*slot = NULL;
		sl_list_add_tail(&e->collect->batches, &b->link);
		return 0;
	}
	if (e->out == NULL) {
		/* The end of the pipeline: a mark got through. */
		*slot = NULL;
		if (b->kind == SL_BATCH_MARK)
			sl_batch_ack(b);
		else
			sl_batch_put(b);
		return 0;
	}
	/* A step that never waits (a fast reader) still sees a stop. */
	if (sl_task_testcancel() != 0)
		return -1;
	if (sl_chan_send(e->out, b, sl_batch_destroy_item, SL_FOREVER) != 0)
		return -1;
	*slot = NULL;
	return 0;
}

/** Send what the emitter holds: the batch being filled, then a passed one. */
static int
emit_send_current(struct sl_emit *e)
{
	if (emit_send_slot(e, &e->cur) != 0)
		return -1;
	return emit_send_slot(e, &e->held);
}

/** Return what the emitter holds to the pool (its records are lost). */
static void
emit_discard(struct sl_emit *e)
{
	if (e->cur != NULL)
		sl_batch_put(e->cur);
	if (e->held != NULL)
		sl_batch_put(e->held);
	e->cur = e->held = NULL;
}

static int par_drain(struct par *pa);

/** Before the step emits itself: send on what its jobs made first. */
static inline int
emit_after_jobs(struct sl_emit *e)
{
	if (e->par == NULL || e->par->busy == 0)
		return 0;
	return par_drain(e->par);
}

int
sl_emit(struct sl_emit *e, struct sl_value v)
{
	if (emit_after_jobs(e) != 0)
		return -1;
	if (e->cur == NULL && sl_emit_arena(e) == NULL)
		return -1;
	int rc = sl_batch_append_from(e->cur, v, &e->origin);
	assert(rc == 0);
	(void)rc;
	if (e->collect == NULL)
		e->step->stats.out++;
	if (sl_batch_full(e->cur) ||
	    sl_batch_bytes(e->cur) >= e->p->opts.batch_bytes)
		return emit_send_current(e);
	return 0;
}

int
sl_emit_copy(struct sl_emit *e, const struct sl_value *v)
{
	struct sl_arena *a = sl_emit_arena(e);
	if (a == NULL)
		return -1;
	struct sl_value copy;
	if (sl_value_copy(a, v, &copy) != 0)
		return -1;
	return sl_emit(e, copy);
}

int
sl_emit_batch(struct sl_emit *e, struct sl_batch *b)
{
	if (emit_after_jobs(e) != 0 ||
	    (e->held != NULL && emit_send_current(e) != 0)) {
		sl_batch_put(b);
		return -1;
	}
	if (b->kind == SL_BATCH_DATA)
		e->step->stats.out += b->count;
	e->held = b;
	return emit_send_current(e);
}

bool
sl_emit_keep(struct sl_emit *e, const struct sl_batch *b)
{
	if (e->out != NULL || e->collect != NULL)
		return false;
	if (b->kind == SL_BATCH_DATA)
		e->step->stats.out += b->count;
	return true;
}

int
sl_emit_flush(struct sl_emit *e)
{
	if (emit_after_jobs(e) != 0 || emit_send_current(e) != 0)
		return -1;
	struct sl_batch *m = sl_batch_flush_marker(&e->p->pool);
	if (m == NULL)
		return -1;
	e->held = m;
	return emit_send_current(e);
}

int
sl_emit_mark(struct sl_emit *e, struct sl_mark *m)
{
	assert(e->collect == NULL);
	struct sl_batch *b = NULL;
	if (emit_after_jobs(e) != 0 || emit_send_current(e) != 0 ||
	    (b = sl_batch_mark(&e->p->pool, m)) == NULL) {
		/* Never sent: dropped here (once sent, by whoever holds it). */
		if (m->drop != NULL)
			m->drop(m);
		return -1;
	}
	e->held = b;
	return emit_send_current(e);
}

/**
 * Pass mark batch `b` on after step `s` made what it holds durable
 * (sl_step_ops.mark): after the output of its jobs, or, `in_turn` (the
 * jobs' output in order), at once. 0, or -1 (the mark is dropped).
 */
static int
pass_mark(struct sl_step *s, struct sl_batch *b, struct sl_emit *out,
          bool in_turn)
{
	if (s->ops->mark != NULL && s->ops->mark(s, b->mark, out) != 0) {
		sl_batch_put(b);
		return -1;
	}
	if (!in_turn)
		return sl_emit_batch(out, b);
	assert(out->held == NULL);
	out->held = b;
	return emit_send_slot(out, &out->held);
}

void
sl_emit_set_origin(struct sl_emit *e, const char *src, uint64_t line)
{
	e->origin.src = src;
	e->origin.line = line;
}

const struct sl_origin *
sl_emit_origin(const struct sl_emit *e)
{
	return &e->origin;
}

int
sl_emit_fail(const struct sl_emit *e)
{
	enum sl_errcode code = sl_diag_code();
	if (code == SL_EDROPPED || code == SL_ECANCELLED || code == SL_EABORTED)
		return -1;
	char where[300];
	sl_origin_format(&e->origin, where, sizeof(where));
	sl_diag_wrap(code != SL_EOK ? code : SL_EINVAL, "%s", where);
	return -1;
}

/* --- running a step ----------------------------------------------------- */

/** Wait until every step is past its start; the run goes on if none failed. */
static int
start_barrier(struct step_run *r, bool failed)
{
	struct sl_pipeline *p = r->p;
	r->phase = PHASE_BARRIER;
	p->n_started++;
	if (failed)
		p->start_failed = true;
	if (p->n_started == p->n) {
		for (uint32_t i = 0; i < p->n; i++)
			if (p->runs[i].phase == PHASE_BARRIER &&
			    &p->runs[i] != r)
				sl_task_wakeup(p->runs[i].task);
	} else {
		while (p->n_started < p->n)
			if (sl_task_wait(SL_FOREVER) != 0)
				return -1;
	}
	return 0;
}

/**
 * Hand the records of `b` to `s`'s process, each with its origin, on the
 * loop or in a job (which stops early once the jobs were told to). 0 or
 * -1.
 */
static int
process_records(struct sl_step *s, const struct sl_batch *b,
                struct sl_emit *out)
{
	for (uint32_t i = 0; i < b->count; i++) {
		if (sl_emit_job_stopped(out))
			return 0;
		out->origin = b->origins[i];
		if (s->ops->process(s, &b->records[i], out) != 0)
			return -1;
	}
	return 0;
}

/** Take the input until it ends, handing records to the step. */
static int
consume(struct step_run *r)
{
	struct sl_step *s = r->step;
	const struct sl_step_ops *ops = s->ops;
	for (;;) {
		void *item;
		int k = sl_chan_recv(r->in, &item, SL_FOREVER);
		if (k == 0)
			return 0;
		if (k < 0)
			return -1;
		struct sl_batch *b = item;
		if (b->kind == SL_BATCH_FLUSH)
			s->stats.flushes++;
		else
			s->stats.in += b->count;
		int rc = 0;
		if (b->kind == SL_BATCH_MARK) {
			rc = pass_mark(s, b, &r->emit, false);
		} else if (ops->process_batch != NULL) {
			rc = ops->process_batch(s, b, &r->emit);
		} else if (ops->process == NULL || b->kind == SL_BATCH_FLUSH) {
			rc = sl_emit_batch(&r->emit, b);
		} else {
			rc = process_records(s, b, &r->emit);
			sl_batch_put(b);
		}
		if (rc != 0)
			return -1;
	}
}

/* --- jobs on the run's worker threads ----------------------------------- */

/**
 * Worker thread: run the slot's job with its skips and errors captured;
 * then let the next step prepare the batches it made, if it would.
 */
static int
par_job(void *arg)
{
	struct par_slot *sl = arg;
	sl_step_events_capture(&sl->events);
	int rc = sl->fn(sl->arg, &sl->out);
	sl_step_events_capture(NULL);
	/* What the job made before a failure goes on, as on the loop. */
	(void)emit_send_current(&sl->out);
	const struct sl_emit *e = sl->par->e;
	struct sl_step *next = e->out != NULL && e->step->index + 1 < e->p->n
	                               ? e->p->steps[e->step->index + 1]
	                               : NULL;
	if (next == NULL || next->ops->prepare == NULL)
		return rc;
	bool last = next->index + 1 == e->p->n;
	/* The job's error is its result: a prepare that meets a bad record
	 * clears the diag. */
	struct sl_diag keep;
	sl_diag_stash(&keep);
	struct sl_list *l;
	sl_list_foreach(l, &sl->batches)
	{
		if (sl_emit_job_stopped(&sl->out))
			break;
		struct sl_batch *b = sl_list_entry(l, struct sl_batch, link);
		if (b->kind == SL_BATCH_DATA)
			next->ops->prepare(next, b, last);
	}
	sl_diag_restore(&keep);
	return rc;
}

/** The job of a step on worker threads: its replica over a batch. */
static int
par_step_job(void *arg, struct sl_emit *out)
{
	struct par_slot *sl = arg;
	return process_records(sl->replica, sl->in, out);
}

/** Loop thread: a job ended; wake the emitter's task if it waits. */
static void
par_job_done(struct sl_worker_job *j)
{
	struct par_slot *sl = j->data;
	sl->done = true;
	if (sl->par->waiter != NULL)
		sl_task_wakeup(sl->par->waiter);
}

/**
 * Wait until the head slot is done. With `hard`, a cancellation does not
 * end the wait (a running job must end before its slot goes); it is kept
 * and reported as SL_ECANCELLED afterwards. Returns 0 or -1.
 */
static int
par_wait_head(struct par *pa, bool hard)
{
	struct par_slot *sl = &pa->slots[pa->head];
	bool cancelled = false;
	pa->waiter = sl_task_current();
	while (!sl->done) {
		if (sl_task_wait(SL_FOREVER) == 0)
			continue;
		if (!hard) {
			pa->waiter = NULL;
			return -1;
		}
		sl_diag_clear(sl_diag_get());
		if (sl_task_is_cancelled()) {
			cancelled = true;
			sl_task_uncancel();
		}
	}
	pa->waiter = NULL;
	if (cancelled) {
		sl_task_cancel(sl_task_current());
		sl_diag_set(SL_ECANCELLED, "cancelled");
		return -1;
	}
	return 0;
}

/**
 * Empty the done head slot, dropping what it still holds; returns its
 * job's result (a failure's error goes to the diag).
 */
static int
par_release_head(struct par *pa)
{
	struct par_slot *sl = &pa->slots[pa->head];
	assert(sl->busy && sl->done);
	struct sl_list *l;
	while ((l = sl_list_first(&sl->batches)) != NULL) {
		sl_list_del(l);
		sl_batch_put(sl_list_entry(l, struct sl_batch, link));
	}
	sl_step_events_destroy(&sl->events);
	emit_discard(&sl->out);
	int rc = 0;
	if (sl->posted) {
		rc = sl_worker_job_result(&sl->job);
		sl->posted = false;
	}
	if (sl->in != NULL)
		sl_batch_put(sl->in);
	if (sl->release != NULL)
		sl->release(sl->arg);
	sl->in = NULL;
	sl->release = NULL;
	sl->arg = NULL;
	sl->busy = sl->done = false;
	pa->head = (pa->head + 1) % pa->n;
	pa->busy--;
	return rc;
}

/**
 * Send the done head slot's output on, in order: its skips and errors,
 * its batches, then a flush marker it holds; then its job's failure.
 */
static int
par_emit_head(struct par *pa)
{
	struct par_slot *sl = &pa->slots[pa->head];
	struct sl_emit *e = pa->e;
	assert(sl->busy && sl->done);
	/* A step on threads counts its input here, in order, so that a
	 * failure leaves the counts one thread gives. */
	if (sl->in != NULL && sl->in->kind == SL_BATCH_FLUSH)
		e->step->stats.flushes++;
	else if (sl->in != NULL)
		e->step->stats.in += sl->in->count;
	sl_step_events_replay(e->step, &sl->events);
	struct sl_list *l;
	while ((l = sl_list_first(&sl->batches)) != NULL) {
		sl_list_del(l);
		struct sl_batch *b = sl_list_entry(l, struct sl_batch, link);
		/* Not the batch being filled: the step may be building a
		 * record in it. */
		e->held = b;
		if (b->kind == SL_BATCH_DATA)
			e->step->stats.out += b->count;
		if (emit_send_slot(e, &e->held) != 0) {
			struct sl_diag keep;
			sl_diag_stash(&keep);
			(void)par_release_head(pa);
			sl_diag_restore(&keep);
			return -1;
		}
	}
	if (!sl->posted && sl->in != NULL) {
		/* A flush marker or a mark (a slot whose post failed is never
		 * sent). */
		assert(sl->in->kind != SL_BATCH_DATA);
		struct sl_batch *m = sl->in;
		sl->in = NULL;
		(void)par_release_head(pa);
		if (m->kind == SL_BATCH_MARK)
			return pass_mark(e->step, m, e, true);
		e->held = m;
		return emit_send_slot(e, &e->held);
	}
	return par_release_head(pa);
}

/**
 * Stop: running jobs are told to stop early; wait for every busy slot
 * and drop its output. The diag's error is kept.
 */
static void
par_abandon(struct par *pa)
{
	atomic_store(&pa->abort, true);
	struct sl_diag keep;
	sl_diag_stash(&keep);
	bool cancelled = false;
	while (pa->busy > 0) {
		if (par_wait_head(pa, true) != 0)
			cancelled = true;
		(void)par_release_head(pa);
		sl_diag_clear(sl_diag_get());
	}
	sl_diag_restore(&keep);
	if (cancelled)
		sl_task_cancel(sl_task_current());
	atomic_store(&pa->abort, false);
}

/** Wait for every job and send its output on, in order. 0 or -1. */
static int
par_drain(struct par *pa)
{
	while (pa->busy > 0) {
		if (par_wait_head(pa, false) != 0 || par_emit_head(pa) != 0) {
			par_abandon(pa);
			return -1;
		}
	}
	return 0;
}

/** Free the slots and replicas (no slot may be busy) and `pa`. */
static void
par_delete(struct par *pa)
{
	if (pa == NULL)
		return;
	for (uint32_t i = 0; i < pa->n; i++) {
		struct par_slot *sl = &pa->slots[i];
		assert(!sl->busy);
		emit_discard(&sl->out);
		sl_step_events_destroy(&sl->events);
		if (sl->replica != NULL)
			sl_step_delete(sl->replica);
	}
	sl_free(pa->slots);
	sl_free(pa);
}

/**
 * Where the run's worker threads go: beside the loop thread (the default),
 * or anywhere with SLUICE_THREAD_PLACEMENT=anywhere.
 */
static enum sl_worker_place
thread_placement(void)
{
	const char *e = getenv("SLUICE_THREAD_PLACEMENT");
	if (e == NULL || *e == '\0' || strcmp(e, "beside") == 0)
		return SL_WORKER_BESIDE;
	if (strcmp(e, "anywhere") == 0)
		return SL_WORKER_ANYWHERE;
	sl_log_warn("SLUICE_THREAD_PLACEMENT: expected beside or anywhere, "
	            "not '%.40s'; the worker threads go beside the loop "
	            "thread",
	            e);
	return SL_WORKER_BESIDE;
}

/**
 * The run's worker threads, started on first use (the batch pool is
 * shared with them from then on). NULL with an error.
 */
static struct sl_worker *
run_worker(struct sl_pipeline *p)
{
	if (p->worker != NULL)
		return p->worker;
	assert(p->opts.threads > 1);
	/* The loop thread is one of the run's threads: it runs jobs
	 * whenever its tasks wait. */
	p->worker = sl_worker_new_placed("sluice-steps", p->opts.threads - 1,
	                                 thread_placement());
	if (p->worker == NULL)
		return NULL;
	if (sl_worker_cpu_avoided(p->worker) >= 0)
		sl_log_debug("the run's worker threads keep off CPU %d, the "
		             "loop thread's",
		             sl_worker_cpu_avoided(p->worker));
	sl_worker_help(p->worker);
	sl_batch_pool_share(&p->pool);
	return p->worker;
}

/**
 * Jobs for emitter `e` on the run's worker threads; with `replicas`, each
 * slot gets a replica of e's step. NULL with an error.
 */
static struct par *
par_new(struct sl_emit *e, bool replicas)
{
	if (run_worker(e->p) == NULL)
		return NULL;
	struct par *pa = sl_calloc(1, sizeof(*pa));
	uint32_t n = 2 * e->p->opts.threads;
	struct par_slot *slots = sl_calloc(n, sizeof(*slots));
	if (pa == NULL || slots == NULL) {
		sl_free(pa);
		sl_free(slots);
		sl_diag_set(SL_EOOM, "out of memory for the step's threads");
		return NULL;
	}
	pa->e = e;
	pa->w = e->p->worker;
	pa->slots = slots;
	pa->n = n;
	atomic_init(&pa->abort, false);
	for (uint32_t i = 0; i < n; i++) {
		struct par_slot *sl = &slots[i];
		sl->par = pa;
		sl_list_init(&sl->batches);
		sl->out.p = e->p;
		sl->out.step = e->step;
		sl->out.collect = sl;
		if (!replicas)
			continue;
		sl->replica = e->step->ops->replicate(e->step);
		if (sl->replica == NULL) {
			if (sl_diag_code() == SL_EOK)
				sl_diag_set(SL_EOOM, "cannot copy the step for "
				                     "its threads");
			par_delete(pa);
			return NULL;
		}
		snprintf(sl->replica->name, sizeof(sl->replica->name), "%s",
		         e->step->name);
		sl->replica->index = e->step->index;
		sl->out.step = sl->replica;
	}
	return pa;
}

/**
 * Take the next slot for a job or a flush marker: send on the output that
 * is ready, and wait for the oldest job while every slot is busy.
 */
static struct par_slot *
par_next_slot(struct par *pa)
{
	for (;;) {
		while (pa->busy > 0 && pa->slots[pa->head].done)
			if (par_emit_head(pa) != 0)
				return NULL;
		if (pa->busy < pa->n)
			break;
		if (par_wait_head(pa, false) != 0)
			return NULL;
	}
	struct par_slot *sl = &pa->slots[(pa->head + pa->busy) % pa->n];
	assert(!sl->busy && sl_list_empty(&sl->batches));
	sl->busy = true;
	sl->done = false;
	pa->busy++;
	return sl;
}

/** Post the job of slot `sl` (taken by par_next_slot()). 0 or -1. */
static int
par_post(struct par *pa, struct par_slot *sl)
{
	if (sl_worker_post(pa->w, &sl->job, par_job, sl, par_job_done, sl) !=
	    0) {
		/* Nothing to wait for: the slot is dropped with the rest. */
		sl->done = true;
		return -1;
	}
	sl->posted = true;
	return 0;
}

bool
sl_emit_parallel(const struct sl_emit *e)
{
	return e->collect == NULL && e->p->opts.threads > 1;
}

bool
sl_emit_job_stopped(const struct sl_emit *e)
{
	return e->collect != NULL &&
	       atomic_load_explicit(&e->collect->par->abort,
	                            memory_order_relaxed);
}

int
sl_emit_job(struct sl_emit *e, sl_emit_job_fn fn, void *arg,
            void (*release)(void *arg))
{
	assert(sl_emit_parallel(e));
	struct par_slot *sl = NULL;
	if (e->par == NULL && (e->par = par_new(e, false)) == NULL)
		goto fail;
	/* What the step emitted itself goes first. */
	if (emit_send_current(e) != 0 || (sl = par_next_slot(e->par)) == NULL)
		goto fail;
	sl->fn = fn;
	sl->arg = arg;
	sl->release = release;
	if (par_post(e->par, sl) != 0)
		goto fail;
	return 0;
fail:
	/* A slot that took the job releases it when it is dropped. */
	if (sl == NULL && release != NULL)
		release(arg);
	if (e->par != NULL)
		par_abandon(e->par);
	return -1;
}

int
sl_emit_jobs_wait(struct sl_emit *e)
{
	return e->par != NULL ? par_drain(e->par) : 0;
}

/**
 * consume() for a step on worker threads: post input batches as jobs of
 * its replicas and send their output on in input order.
 */
static int
consume_par(struct step_run *r)
{
	struct par *pa = par_new(&r->emit, true);
	if (pa == NULL)
		return -1;
	r->emit.par = pa;
	int rc = 0;
	for (;;) {
		/* Output that is ready goes on first. */
		while (rc == 0 && pa->busy > 0 && pa->slots[pa->head].done)
			rc = par_emit_head(pa);
		if (rc != 0)
			break;
		/* No input waiting, or no slot free: send what jobs make. */
		if (pa->busy > 0 &&
		    (pa->busy == pa->n || sl_chan_count(r->in) == 0)) {
			if (par_wait_head(pa, false) != 0) {
				rc = -1;
				break;
			}
			continue;
		}
		void *item;
		int k = sl_chan_recv(r->in, &item, SL_FOREVER);
		if (k == 0)
			break;
		if (k < 0) {
			rc = -1;
			break;
		}
		struct sl_batch *b = item;
		struct par_slot *sl = par_next_slot(pa);
		if (sl == NULL) {
			sl_batch_put(b);
			rc = -1;
			break;
		}
		sl->in = b;
		if (b->kind != SL_BATCH_DATA) {
			/* A flush marker or a mark: it goes on in its turn. */
			sl->done = true;
			continue;
		}
		sl->fn = par_step_job;
		sl->arg = sl;
		if (par_post(pa, sl) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0)
		rc = par_drain(pa);
	else
		par_abandon(pa);
	return rc;
}

/**
 * Whether the error in the diag is the consequence of a stop (downstream
 * stopped, a stop was asked for) rather than a failure of this step.
 */
static bool
is_stop(struct step_run *r)
{
	enum sl_errcode code = sl_diag_code();
	struct sl_pipeline *p = r->p;
	if (code == SL_EDROPPED && r->emit.out != NULL &&
	    r->emit.out->state == SL_CHAN_DROPPED)
		return true;
	if (code == SL_ECANCELLED && p->stop_requested)
		return true;
	if ((code == SL_EABORTED || code == SL_ECANCELLED) && p->forced)
		return true;
	return false;
}

/** Keep the step's current error as a fatal error of the run. */
static void
record_failure(struct step_run *r, const char *phase)
{
	struct sl_step *s = r->step;
	s->failed = true;
	if (sl_diag_last() == NULL)
		sl_diag_set(SL_EINVAL, "no error given");
	sl_diag_wrap(sl_diag_code(), "step %s failed in %s", s->name, phase);
	sl_diag_move(sl_diag_get(), &r->err);
	r->fail_seq = ++r->p->fail_count;
}

/** Body of a step's task. */
static int
step_main(void *arg)
{
	struct step_run *r = arg;
	struct sl_pipeline *p = r->p;
	struct sl_step *s = r->step;
	const struct sl_step_ops *ops = s->ops;
	const char *phase = "start";

	r->phase = PHASE_START;
	int rc = ops->start != NULL ? ops->start(s) : 0;
	if (rc != 0 && is_stop(r)) {
		sl_diag_clear(sl_diag_get());
		rc = 0;
		(void)start_barrier(r, false);
		goto stop;
	}
	if (rc != 0) {
		record_failure(r, phase);
		(void)start_barrier(r, true);
		goto stop;
	}
	if (start_barrier(r, false) != 0) {
		if (!is_stop(r))
			record_failure(r, "start");
		goto stop;
	}
	if (p->start_failed || p->stop_requested)
		goto stop;

	r->phase = PHASE_RUN;
	phase = "process";
	rc = r->in == NULL ? 0 : r->parallel ? consume_par(r) : consume(r);
	if (rc == 0) {
		phase = "drain";
		rc = ops->drain != NULL ? ops->drain(s, &r->emit) : 0;
	}
	if (rc == 0) {
		phase = "drain";
		rc = sl_emit_jobs_wait(&r->emit);
	}
	if (rc == 0) {
		phase = "drain";
		rc = emit_send_current(&r->emit);
	}
	if (rc != 0) {
		if (is_stop(r))
			sl_diag_clear(sl_diag_get());
		else
			record_failure(r, phase);
	}

stop:
	if (!p->forced) {
		/* A stop asked for is handled: let finish() wait again. */
		sl_task_uncancel();
		/* What the step emitted before it stopped still goes on. */
		if (sl_emit_jobs_wait(&r->emit) != 0 ||
		    emit_send_current(&r->emit) != 0)
			sl_diag_clear(sl_diag_get());
	}
	if (r->emit.par != NULL) {
		par_abandon(r->emit.par);
		sl_diag_clear(sl_diag_get());
		par_delete(r->emit.par);
		r->emit.par = NULL;
	}
	emit_discard(&r->emit);
	if (r->in != NULL)
		sl_chan_drop(r->in);
	r->phase = PHASE_FINISH;
	if (ops->finish != NULL && ops->finish(s) != 0) {
		if (is_stop(r))
			sl_diag_clear(sl_diag_get());
		else
			record_failure(r, "finish");
	}
	if (r->emit.out != NULL)
		sl_chan_close(r->emit.out);
	r->phase = PHASE_DONE;
	return 0;
}

/* --- the run ------------------------------------------------------------ */

void
sl_pipeline_stop(struct sl_pipeline *p, bool force, int signum)
{
	if (!p->running)
		return;
	if (!p->stop_requested) {
		p->stop_requested = true;
		p->signum = signum;
		struct step_run *first = &p->runs[0];
		if (first->task != NULL && first->phase != PHASE_FINISH &&
		    first->phase != PHASE_DONE)
			sl_task_cancel(first->task);
	}
	if (force && !p->forced) {
		p->forced = true;
		for (uint32_t i = 0; i + 1 < p->n; i++)
			sl_chan_abort(&p->chans[i]);
		for (uint32_t i = 0; i < p->n; i++)
			if (p->runs[i].task != NULL &&
			    p->runs[i].phase != PHASE_DONE)
				sl_task_cancel(p->runs[i].task);
	}
}

/** Body of a signal catcher: the first signal stops, the next forces. */
static int
signal_main(void *arg)
{
	struct sig_watch *w = arg;
	for (;;) {
		int sig = sl_signal_wait(&w->sig, SL_FOREVER);
		if (sig < 0)
			return 0;
		struct sl_pipeline *p = w->p;
		p->n_signals++;
		bool force = p->n_signals > 1;
		if (force)
			sl_log_warn("received %s again: stopping now",
			            strsignal(sig));
		else
			sl_log_warn("received %s: stopping the extractor, "
			            "draining (send it again to stop at once)",
			            strsignal(sig));
		sl_pipeline_stop(p, force, p->signum ? p->signum : sig);
	}
}

/** Start catching SIGINT and SIGTERM for the run. */
static void
signals_start(struct sl_pipeline *p, struct sig_watch w[2])
{
	static const int sigs[2] = {SIGINT, SIGTERM};
	for (int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].p = p;
		if (sl_signal_create(&w[i].sig, sigs[i]) != 0) {
			sl_log_warn("cannot catch signal %d", sigs[i]);
			sl_diag_clear(sl_diag_get());
			continue;
		}
		w[i].active = true;
		w[i].task = sl_task_spawn(sl_loop_current(), "signals",
		                          signal_main, &w[i]);
		if (w[i].task == NULL) {
			sl_diag_clear(sl_diag_get());
			sl_signal_destroy(&w[i].sig);
			w[i].active = false;
		}
	}
}

/** Stop catching signals. */
static void
signals_stop(struct sig_watch w[2])
{
	for (int i = 0; i < 2; i++) {
		if (!w[i].active)
			continue;
		(void)sl_task_reap(w[i].task);
		sl_diag_clear(sl_diag_get());
		sl_signal_destroy(&w[i].sig);
	}
}

/** Free what a run set up (channels, runs, worker threads, pool). */
static void
run_cleanup(struct sl_pipeline *p, uint32_t n_chans)
{
	sl_worker_delete(p->worker);
	p->worker = NULL;
	for (uint32_t i = 0; i < n_chans; i++)
		sl_chan_destroy(&p->chans[i]);
	sl_free(p->chans);
	p->chans = NULL;
	if (p->runs != NULL) {
		for (uint32_t i = 0; i < p->n; i++) {
			emit_discard(&p->runs[i].emit);
			sl_diag_destroy(&p->runs[i].err);
		}
	}
	sl_free(p->runs);
	p->runs = NULL;
	sl_batch_pool_destroy(&p->pool);
}

/** The pipeline running, for sl_pipeline_crash_report(). */
static struct sl_pipeline *volatile crash_pipeline;

/** Append `s` (at most `n` bytes) to `p`, not past `end`. Signal-safe. */
static char *
crash_put(char *p, char *end, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '\0' && p < end; i++)
		*p++ = s[i];
	return p;
}

/** Append `v` in decimal, right-aligned in `width`. Signal-safe. */
static char *
crash_num(char *p, char *end, uint64_t v, int width)
{
	char d[24];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (int i = n; i < width && p < end; i++)
		*p++ = ' ';
	while (n > 0 && p < end)
		*p++ = d[--n];
	return p;
}

void
sl_pipeline_crash_report(int fd)
{
	const struct sl_pipeline *p = crash_pipeline;
	if (p == NULL)
		return;
	char line[256];
	char *end = line + sizeof(line) - 1;
	static const char head[] = "sluice: counts at the crash (step, in, "
	                           "out, errors, skipped):\n";
	ssize_t w = write(fd, head, sizeof(head) - 1);
	for (uint32_t i = 0; i < p->n; i++) {
		const struct sl_step *s = p->steps[i];
		char *q = crash_put(line, end, "  ", 2);
		q = crash_put(q, end, s->name, 64);
		while (q < line + 34)
			*q++ = ' ';
		q = crash_num(q, end, s->stats.in, 13);
		q = crash_num(q, end, s->stats.out, 13);
		q = crash_num(q, end, s->stats.errors, 9);
		q = crash_num(q, end, s->stats.skipped, 9);
		*q++ = '\n';
		w = write(fd, line, (size_t)(q - line));
	}
	(void)w;
}

int
sl_pipeline_run(struct sl_pipeline *p)
{
	assert(!p->running);
	if (p->n == 0) {
		sl_diag_set(SL_EINVAL, "the pipeline has no steps");
		return -1;
	}
	p->n_started = 0;
	p->start_failed = p->stop_requested = p->forced = false;
	p->signum = 0;
	p->n_signals = 0;
	p->fail_count = 0;
	for (uint32_t i = 0; i < p->n; i++) {
		struct sl_step_stats *st = &p->steps[i]->stats;
		for (int k = 0; k < SL_STEP_SKIPS_KEPT; k++)
			sl_free(st->skips[k]);
		memset(st, 0, sizeof(*st));
		p->steps[i]->failed = false;
	}

	uint32_t batch = sl_pipeline_batch_size(&p->opts);
	sl_batch_pool_create(&p->pool, batch, p->opts.arena_cap);
	p->runs = sl_calloc(p->n, sizeof(*p->runs));
	p->chans = p->n > 1 ? sl_calloc(p->n - 1, sizeof(*p->chans)) : NULL;
	if (p->runs == NULL || (p->n > 1 && p->chans == NULL)) {
		run_cleanup(p, 0);
		sl_diag_set(SL_EOOM, "out of memory for a pipeline run");
		return -1;
	}
	size_t slots =
	        p->opts.outbox_records == 0
	                ? SL_OUTBOX_BATCHES_DEFAULT
	                : ((size_t)p->opts.outbox_records + batch - 1) / batch;
	/* With threads, an outbox takes two full rings of jobs' output (2 x
	 * threads slots each), so that the step after a step on threads is
	 * not left waiting while jobs wait for room (with two batches, a
	 * two-thread run slept and woke twice as often), and the threads
	 * work a ring ahead while the loop thread merges. */
	size_t least = SL_OUTBOX_BATCHES_PER_THREAD * (size_t)p->opts.threads;
	if (p->opts.threads > 1 && slots < least)
		slots = least;
	for (uint32_t i = 0; i + 1 < p->n; i++) {
		if (sl_chan_create(&p->chans[i], slots) != 0) {
			run_cleanup(p, i);
			return -1;
		}
	}
	for (uint32_t i = 0; i < p->n; i++) {
		struct step_run *r = &p->runs[i];
		r->p = p;
		r->step = p->steps[i];
		r->in = i > 0 ? &p->chans[i - 1] : NULL;
		r->emit.p = p;
		r->emit.step = r->step;
		r->emit.out = i + 1 < p->n ? &p->chans[i] : NULL;
		sl_diag_create(&r->err);
		const struct sl_step_ops *ops = r->step->ops;
		r->parallel = p->opts.threads > 1 && i > 0 &&
		              ops->replicate != NULL && ops->process != NULL &&
		              ops->process_batch == NULL;
	}

	p->running = true;
	crash_pipeline = p;
	p->t_start = sl_clock();
	p->t_end = 0;
	struct sig_watch watch[2];
	if (p->opts.catch_signals)
		signals_start(p, watch);

	int rc = 0;
	uint32_t spawned = 0;
	for (; spawned < p->n; spawned++) {
		struct step_run *r = &p->runs[spawned];
		r->task = sl_task_spawn(sl_loop_current(), r->step->name,
		                        step_main, r);
		if (r->task == NULL)
			break;
	}
	if (spawned < p->n) {
		/* The spawned steps wait at the barrier: release them. */
		sl_diag_wrap(sl_diag_code(), "starting the pipeline's tasks");
		rc = -1;
		p->start_failed = true;
		p->n_started += p->n - spawned;
		for (uint32_t i = 0; i < spawned; i++)
			sl_task_wakeup(p->runs[i].task);
		for (uint32_t i = spawned; i < p->n; i++)
			p->runs[i].phase = PHASE_DONE;
	}
	for (uint32_t i = 0; i < spawned; i++) {
		struct step_run *r = &p->runs[i];
		if (sl_task_join(r->task) != 0) {
			/* The runner itself was cancelled: stop everything. */
			sl_diag_clear(sl_diag_get());
			sl_pipeline_stop(p, true, 0);
			(void)sl_task_reap(r->task);
			sl_diag_clear(sl_diag_get());
		}
		r->task = NULL;
	}
	p->t_end = sl_clock();
	if (p->opts.catch_signals)
		signals_stop(watch);
	p->running = false;
	crash_pipeline = NULL;

	if (rc == 0) {
		struct step_run *first = NULL;
		for (uint32_t i = 0; i < p->n; i++) {
			struct step_run *r = &p->runs[i];
			if (r->fail_seq != 0 &&
			    (first == NULL || r->fail_seq < first->fail_seq))
				first = r;
		}
		if (first != NULL) {
			sl_diag_move(&first->err, sl_diag_get());
			rc = -1;
		}
	}
	run_cleanup(p, p->n > 0 ? p->n - 1 : 0);
	return rc;
}
