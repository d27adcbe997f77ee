/*
 * Runs with worker threads (sluice/pipeline.h, "Threads"): a replicable
 * step's records reach the next step in input order with their origins,
 * whatever the number of threads and however long each record takes;
 * skips and errors are counted, kept and logged as with one thread; flush
 * markers keep their place; a failing record, a failing next step and a
 * stop end the run as with one thread; sl_emit_job() output keeps its
 * place among a step's own records.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/task.h"
#include "unit.h"

/** The loop thread (set by main). */
static pthread_t loop_thread;

/** {"i": i, "k": k} in `a`. */
static int
make_record(struct sl_arena *a, int64_t i, int64_t k, struct sl_value *out)
{
	struct sl_member *m = sl_arena_alloc(a, 2 * sizeof(*m));
	if (m == NULL)
		return -1;
	m[0] = (struct sl_member){"i", 1, sl_int(i)};
	m[1] = (struct sl_member){"k", 1, sl_int(k)};
	*out = sl_object_ref(m, 2);
	return 0;
}

/** Member `key` of a test record, or -1. */
static int64_t
member(const struct sl_value *v, const char *key)
{
	const struct sl_value *x = sl_object_get_cstr(v, key);
	return x != NULL && x->type == SL_VINT ? x->u.i : -1;
}

/* --- the source --------------------------------------------------------- */

/** A source of records {"i": 0..n-1, "k": 0} with origins "gen:i+1". */
struct gen {
	/** Common part. */
	struct sl_step base;
	/** Records to make. */
	int64_t n;
	/** A flush marker after every this many records (0: none). */
	int64_t flush_every;
	/** Make records in sl_emit_job() jobs of this many (0: directly). */
	int64_t per_job;
	/** With jobs: emit every this-many-th record directly (0: none). */
	int64_t direct_every;
	/** With jobs: the job holding this record fails at it (-1: none). */
	int64_t job_fail_at;
	/** Jobs given to sl_emit_job(). */
	int64_t given;
	/** Jobs released. */
	int64_t released;
	/** Jobs that ran off the loop thread. */
	atomic_int off_loop;
};

/** A job's range of records. */
struct range {
	/** The source. */
	struct gen *g;
	/** First record. */
	int64_t from;
	/** Past the last record. */
	int64_t to;
};

/** Emit record i with its origin. */
static int
gen_one(struct sl_emit *out, int64_t i)
{
	struct sl_arena *a = sl_emit_arena(out);
	struct sl_value v;
	if (a == NULL || make_record(a, i, 0, &v) != 0)
		return -1;
	sl_emit_set_origin(out, "gen", (uint64_t)i + 1);
	return sl_emit(out, v);
}

/** sl_emit_job_fn: emit a range; skip multiples of 13 as bad input. */
static int
gen_job(void *arg, struct sl_emit *out)
{
	struct range *r = arg;
	if (!pthread_equal(pthread_self(), loop_thread))
		atomic_fetch_add(&r->g->off_loop, 1);
	for (int64_t i = r->from; i < r->to; i++) {
		if (i == r->g->job_fail_at) {
			sl_diag_set(SL_EPARSE, "gen:%lld: cannot read",
			            (long long)i + 1);
			return -1;
		}
		if (i % 13 == 0) {
			sl_diag_set(SL_EPARSE, "gen:%lld: bad line",
			            (long long)i + 1);
			sl_step_skip_error(sl_emit_step(out));
			continue;
		}
		if (gen_one(out, i) != 0)
			return -1;
	}
	return 0;
}

/** Release a job's range. */
static void
gen_release(void *arg)
{
	struct range *r = arg;
	r->g->released++;
	free(r);
}

static int
gen_drain(struct sl_step *s, struct sl_emit *out)
{
	struct gen *g = (struct gen *)s;
	for (int64_t i = 0; i < g->n;) {
		if (g->per_job > 0) {
			if (g->direct_every > 0 && i % g->direct_every == 0) {
				if (gen_one(out, i) != 0)
					return -1;
				i++;
				continue;
			}
			struct range *r = malloc(sizeof(*r));
			if (r == NULL)
				abort();
			int64_t to = i + g->per_job;
			if (g->direct_every > 0)
				to = (i / g->direct_every + 1) *
				     g->direct_every;
			*r = (struct range){g, i, to < g->n ? to : g->n};
			i = r->to;
			g->given++;
			/* Without threads the same job runs here. */
			if (!sl_emit_parallel(out)) {
				int rc = gen_job(r, out);
				gen_release(r);
				if (rc != 0)
					return -1;
				continue;
			}
			if (sl_emit_job(out, gen_job, r, gen_release) != 0)
				return -1;
			continue;
		}
		if (gen_one(out, i) != 0)
			return -1;
		i++;
		if (g->flush_every && i % g->flush_every == 0 &&
		    sl_emit_flush(out) != 0)
			return -1;
	}
	return 0;
}

static void
gen_destroy(struct sl_step *s)
{
	free(s);
}

static const struct sl_step_ops gen_ops = {
        .type = "Gen",
        .drain = gen_drain,
        .destroy = gen_destroy,
};

/* --- the replicable step ------------------------------------------------ */

/** A step whose process may run on worker threads. */
struct work {
	/** Common part. */
	struct sl_step base;
	/** The step replicated, or NULL for the step itself. */
	struct work *parent;
	/** Records processed off the loop thread (the parent's counts). */
	atomic_llong off_loop;
	/** Replicas alive (the parent's count). */
	atomic_int replicas;
	/** Fail at this record (-1: never). */
	int64_t fail_at;
	/** Spin a record-dependent time per record (scrambles job ends). */
	bool jitter;
};

static int
work_process(struct sl_step *s, const struct sl_value *rec, struct sl_emit *out)
{
	struct work *w = (struct work *)s;
	struct work *top = w->parent != NULL ? w->parent : w;
	int64_t i = member(rec, "i");
	if (!pthread_equal(pthread_self(), loop_thread))
		atomic_fetch_add(&top->off_loop, 1);
	if (top->jitter) {
		static _Thread_local volatile uint64_t sink;
		uint64_t spin = ((uint64_t)i * 2654435761u) % 5000;
		for (uint64_t k = 0; k < spin; k++)
			sink = sink + k;
	}
	if (i == top->fail_at) {
		sl_diag_set(SL_EINVAL, "record %lld is bad", (long long)i);
		return sl_emit_fail(out);
	}
	if (i % 7 == 0) {
		char where[64];
		sl_origin_format(sl_emit_origin(out), where, sizeof(where));
		sl_diag_set(SL_EPARSE, "%s: sevens are skipped", where);
		sl_step_skip(s);
		return 0;
	}
	if (i % 11 == 0) {
		sl_diag_set(SL_EINVAL, "eleven at %lld", (long long)i);
		sl_step_error(s, "checking");
	}
	for (int64_t k = 0; k < (i % 5 == 0 ? 2 : 1); k++) {
		struct sl_arena *a = sl_emit_arena(out);
		struct sl_value v;
		if (a == NULL || make_record(a, i, k, &v) != 0 ||
		    sl_emit(out, v) != 0)
			return -1;
	}
	return 0;
}

static void
work_destroy(struct sl_step *s)
{
	struct work *w = (struct work *)s;
	if (w->parent != NULL)
		atomic_fetch_sub(&w->parent->replicas, 1);
	free(s);
}

static struct sl_step *work_replicate(struct sl_step *s);

static const struct sl_step_ops work_ops = {
        .type = "Work",
        .process = work_process,
        .destroy = work_destroy,
        .replicate = work_replicate,
};

static struct sl_step *
work_replicate(struct sl_step *s)
{
	struct work *w = (struct work *)s;
	struct work *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	sl_step_init(&c->base, &work_ops);
	c->parent = w;
	atomic_fetch_add(&w->replicas, 1);
	return &c->base;
}

/* --- the sink ----------------------------------------------------------- */

/** The last step: keeps what it receives. */
struct sink {
	/** Common part. */
	struct sl_step base;
	/** Records received as 2i+k, in order. */
	int64_t *seq;
	/** Records in `seq`. */
	size_t n;
	/** Capacity of `seq`. */
	size_t cap;
	/** Records received before each flush marker. */
	size_t flushes[64];
	/** Flush markers received. */
	size_t n_flushes;
	/** Records whose origin was not "gen:i+1". */
	size_t bad_origins;
	/** Fail when this many records were received (0: never). */
	size_t fail_after;
	/** Batches given to sink_prepare() (on worker threads). */
	atomic_llong prepared;
};

/**
 * Read a batch ahead, as the graph writer does (sl_step_ops.prepare), and
 * meet a bad record in it: the check's error is set, then cleared.
 */
static void
sink_prepare(struct sl_step *s, struct sl_batch *b, bool last)
{
	struct sink *k = (struct sink *)s;
	(void)last;
	atomic_fetch_add(&k->prepared, 1);
	if (b->count > 0) {
		sl_diag_set(SL_EINVAL, "a bad record for the sink");
		sl_diag_clear(sl_diag_get());
	}
}

static int
sink_batch(struct sl_step *s, struct sl_batch *in, struct sl_emit *out)
{
	struct sink *k = (struct sink *)s;
	(void)out;
	if (in->kind == SL_BATCH_FLUSH) {
		if (k->n_flushes < 64)
			k->flushes[k->n_flushes++] = k->n;
		sl_batch_put(in);
		return 0;
	}
	for (uint32_t j = 0; j < in->count; j++) {
		int64_t i = member(&in->records[j], "i");
		if (k->n == k->cap) {
			k->cap = k->cap ? 2 * k->cap : 1024;
			k->seq = realloc(k->seq, k->cap * sizeof(*k->seq));
			if (k->seq == NULL)
				abort();
		}
		k->seq[k->n++] = 2 * i + member(&in->records[j], "k");
		const struct sl_origin *o = &in->origins[j];
		if (o->src == NULL || strcmp(o->src, "gen") != 0 ||
		    o->line != (uint64_t)i + 1)
			k->bad_origins++;
		if (k->fail_after > 0 && k->n == k->fail_after) {
			sl_batch_put(in);
			sl_diag_set(SL_EIO, "the sink is full");
			return -1;
		}
	}
	sl_batch_put(in);
	return 0;
}

static void
sink_destroy(struct sl_step *s)
{
	struct sink *k = (struct sink *)s;
	free(k->seq);
	free(k);
}

static const struct sl_step_ops sink_ops = {
        .type = "Sink",
        .process_batch = sink_batch,
        .prepare = sink_prepare,
        .destroy = sink_destroy,
};

/* --- running ------------------------------------------------------------ */

/** One run's setup and what it gave. */
struct run {
	/** Threads of the run. */
	uint32_t threads;
	/** Records per batch. */
	uint32_t batch;
	/** The steps (owned by the pipeline until it is deleted). */
	struct gen *g;
	/** The replicable step. */
	struct work *w;
	/** The sink. */
	struct sink *k;
	/** Whether the Work step is in the pipeline. */
	bool with_work;
	/** Stop the run once the sink has this many records (0: never). */
	size_t stop_at;
	/** The pipeline. */
	struct sl_pipeline *p;
	/** sl_pipeline_run()'s result. */
	int rc;
	/** Its error message. */
	char msg[512];
	/** The log of the run, timestamps cut. */
	char *log;
	/** Whether a task reads the first outbox's capacity during the run. */
	bool probe;
	/** The capacity it read, in batches (0: none read). */
	size_t outbox_capacity;
	/** Set once sl_pipeline_run() has returned. */
	bool ended;
	/**
	 * Whether a task keeps the loop thread from ever being idle during
	 * the run, so that it runs no job itself (sl_worker_help()).
	 */
	bool loop_busy;
};

/** Task: stop the run once the sink has enough records. */
static int
stopper(void *arg)
{
	struct run *r = arg;
	while (r->k->n < r->stop_at)
		if (sl_sleep(0.0005) != 0)
			return 0;
	sl_pipeline_stop(r->p, false, 0);
	return 0;
}

/** Task: read the first outbox's capacity while the run goes on. */
static int
prober(void *arg)
{
	struct run *r = arg;
	while (!r->ended) {
		struct sl_pipeline_outbox ob;
		if (sl_pipeline_outbox(r->p, 0, &ob) &&
		    ob.capacity > r->outbox_capacity)
			r->outbox_capacity = ob.capacity;
		if (sl_sleep(0.0005) != 0)
			return 0;
	}
	return 0;
}

/** Task: stay ready (yield) until the run has ended. */
static int
busy(void *arg)
{
	struct run *r = arg;
	while (!r->ended)
		if (sl_task_yield() != 0)
			return 0;
	return 0;
}

static int
run_task_main(void *arg)
{
	struct run *r = arg;
	struct sl_task *t = NULL, *probe = NULL, *spin = NULL;
	if (r->stop_at > 0)
		t = sl_task_spawn(sl_loop_current(), "stopper", stopper, r);
	if (r->probe)
		probe = sl_task_spawn(sl_loop_current(), "prober", prober, r);
	if (r->loop_busy)
		spin = sl_task_spawn(sl_loop_current(), "busy", busy, r);
	r->rc = sl_pipeline_run(r->p);
	r->ended = true;
	if (probe != NULL)
		(void)sl_task_reap(probe);
	if (spin != NULL)
		(void)sl_task_reap(spin);
	r->msg[0] = '\0';
	if (r->rc != 0)
		sl_error_format(sl_diag_last(), r->msg, sizeof(r->msg));
	sl_diag_clear(sl_diag_get());
	if (t != NULL)
		(void)sl_task_reap(t);
	sl_diag_clear(sl_diag_get());
	return 0;
}

/** Steps for `r` with the given source and work settings. */
static void
setup(struct run *r, int64_t n)
{
	r->g = calloc(1, sizeof(*r->g));
	r->w = calloc(1, sizeof(*r->w));
	r->k = calloc(1, sizeof(*r->k));
	if (r->g == NULL || r->w == NULL || r->k == NULL)
		abort();
	sl_step_init(&r->g->base, &gen_ops);
	sl_step_init(&r->w->base, &work_ops);
	sl_step_init(&r->k->base, &sink_ops);
	r->g->n = n;
	r->g->job_fail_at = -1;
	r->w->fail_at = -1;
	r->with_work = true;
	if (r->batch == 0)
		r->batch = 100;
}

/** Run `r` (set up) on a fresh loop, with its log kept. */
static void
go(struct run *r)
{
	struct sl_pipeline_opts o;
	sl_pipeline_opts_init(&o);
	o.batch_size = r->batch;
	o.outbox_records = 2 * r->batch;
	o.threads = r->threads;
	r->p = sl_pipeline_new(&o);
	if (r->p == NULL || sl_pipeline_add(r->p, &r->g->base) != 0 ||
	    (r->with_work && sl_pipeline_add(r->p, &r->w->base) != 0) ||
	    sl_pipeline_add(r->p, &r->k->base) != 0)
		bail_out("cannot build the pipeline");
	if (!r->with_work)
		free(r->w);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		bail_out("open_memstream");
	sl_log_set_output(f);
	if (run_task("threads", run_task_main, r) != 0)
		bail_out("the run's loop failed");
	sl_log_set_output(stderr);
	fclose(f);
	/* Cut each line's timestamp (up to the first space). */
	r->log = calloc(1, len + 1);
	if (r->log == NULL)
		abort();
	size_t w = 0;
	for (char *line = buf; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		char *sp = strchr(line, ' ');
		char *from = sp != NULL && (nl == NULL || sp < nl) ? sp : line;
		size_t n = nl != NULL ? (size_t)(nl + 1 - from) : strlen(from);
		memcpy(r->log + w, from, n);
		w += n;
		line = nl != NULL ? nl + 1 : NULL;
	}
	free(buf);
}

/** Free what `r` holds. */
static void
done(struct run *r)
{
	sl_pipeline_delete(r->p);
	free(r->log);
}

/**
 * Whether two runs gave the same records, flushes, counts and logs. The
 * source's count is compared only for `whole` runs: after a failure, what
 * it made before it saw the stop depends on what was in flight.
 */
static void
same_runs(struct run *a, struct run *b, const char *what, bool whole)
{
	ok(a->k->n == b->k->n && a->k->n > 0 &&
	           memcmp(a->k->seq, b->k->seq, a->k->n * sizeof(int64_t)) == 0,
	   "%s: the same %zu records in the same order", what, a->k->n);
	ok(a->k->n_flushes == b->k->n_flushes &&
	           memcmp(a->k->flushes, b->k->flushes,
	                  a->k->n_flushes * sizeof(size_t)) == 0,
	   "%s: flush markers at the same places (%zu)", what, a->k->n_flushes);
	is_int((long long)b->k->bad_origins, 0,
	       "%s: every record keeps its origin", what);
	for (uint32_t i = whole ? 0 : 1; i < sl_pipeline_step_count(a->p);
	     i++) {
		const struct sl_step_stats *x =
		        &sl_pipeline_step(a->p, i)->stats;
		const struct sl_step_stats *y =
		        &sl_pipeline_step(b->p, i)->stats;
		bool kept = true;
		for (int j = 0; j < SL_STEP_SKIPS_KEPT; j++)
			if ((x->skips[j] == NULL) != (y->skips[j] == NULL) ||
			    (x->skips[j] != NULL &&
			     strcmp(x->skips[j], y->skips[j]) != 0))
				kept = false;
		ok(x->in == y->in && x->out == y->out &&
		           x->errors == y->errors && x->skipped == y->skipped &&
		           x->flushes == y->flushes && kept,
		   "%s: step %u counts (in %llu out %llu errors %llu skipped "
		   "%llu) and kept skips",
		   what, i, (unsigned long long)y->in,
		   (unsigned long long)y->out, (unsigned long long)y->errors,
		   (unsigned long long)y->skipped);
	}
	ok(strcmp(a->log, b->log) == 0 && strlen(a->log) > 0,
	   "%s: the same log, line for line (%zu bytes)", what, strlen(a->log));
	is_str(b->msg, a->msg, "%s: the same error", what);
}

/* --- cases -------------------------------------------------------------- */

/** Records, counts, skips, logs and flushes with 1, 2 and 3 threads. */
TAP_CASE(same_as_one_thread)
{
	struct run one = {.threads = 1},
	           two = {.threads = 2, .loop_busy = true},
	           three = {.threads = 3};
	struct run *runs[] = {&one, &two, &three};
	for (int i = 0; i < 3; i++) {
		setup(runs[i], 20011);
		runs[i]->g->flush_every = 997;
		runs[i]->w->jitter = i == 2;
		go(runs[i]);
		is_int(runs[i]->rc, 0, "%u threads: the run succeeds",
		       runs[i]->threads);
	}
	is_int((long long)atomic_load(&one.w->off_loop), 0,
	       "1 thread: every record on the loop thread");
	/* The loop thread runs jobs only while its tasks wait
	 * (sl_worker_help(); test_worker checks that it does): kept busy,
	 * it runs none. With 3 threads, how many it runs is a matter of
	 * timing. */
	uint64_t off = atomic_load(&two.w->off_loop);
	is_int((long long)off, (long long)one.w->base.stats.in,
	       "2 threads, the loop kept busy: every record on the worker "
	       "thread");
	is_int(atomic_load(&three.w->replicas), 0,
	       "the replicas are freed after the run");
	/* 20011 records: 2859 sevens skipped, 3430 fives twice. */
	is_int((long long)one.k->n, 20011 - 2859 + (4003 - 572),
	       "the expected number of records");
	is_int((long long)one.w->base.stats.errors, 1820 - 260,
	       "elevens are counted as errors");
	same_runs(&one, &two, "2 threads", true);
	same_runs(&one, &three, "3 threads, records of uneven cost", true);
	ok(strstr(one.log, "further errors are only counted") != NULL,
	   "the logs go past the 100 logged errors");
	for (int i = 0; i < 3; i++)
		done(runs[i]);
}

/** A failing record: what came before goes on, nothing after. */
TAP_CASE(failing_record)
{
	struct run one = {.threads = 1}, two = {.threads = 2};
	struct run *runs[] = {&one, &two};
	for (int i = 0; i < 2; i++) {
		setup(runs[i], 50000);
		runs[i]->w->fail_at = 3333;
		runs[i]->w->jitter = true;
		go(runs[i]);
		is_int(runs[i]->rc, -1, "%u threads: the run fails",
		       runs[i]->threads);
	}
	ok(strstr(two.msg, "gen:3334: record 3333 is bad") != NULL &&
	           strstr(two.msg, "1:Work") != NULL,
	   "the error names the step and the record (%s)", two.msg);
	/* The next step read the failing job's output ahead, and cleared
	 * the error of a bad record there: the job's own error stands. */
	ok(atomic_load(&two.k->prepared) > 0,
	   "the sink read batches ahead (%lld)",
	   (long long)atomic_load(&two.k->prepared));
	int64_t last = one.k->n > 0 ? one.k->seq[one.k->n - 1] / 2 : -1;
	/* 3332 is a multiple of 7, so skipped. */
	is_int((long long)last, 3331,
	       "the last record sent is the last one before");
	same_runs(&one, &two, "a failing record", false);
	ok(two.w->base.stats.in < 50000,
	   "the extractor stopped early (%llu read)",
	   (unsigned long long)two.w->base.stats.in);
	done(&one);
	done(&two);
}

/** A failing next step stops the threads' step as a stop, not a failure. */
TAP_CASE(failing_next_step)
{
	struct run r = {.threads = 2};
	setup(&r, 100000);
	r.k->fail_after = 4321;
	go(&r);
	is_int(r.rc, -1, "the run fails");
	ok(strstr(r.msg, "2:Sink") != NULL && strstr(r.msg, "full") != NULL,
	   "with the sink's error (%s)", r.msg);
	ok(!r.w->base.failed, "the step on threads counts as stopped");
	ok(r.w->base.stats.in < 100000, "the source stopped early");
	done(&r);
}

/** A stop request: every record extracted reaches the end. */
TAP_CASE(stop)
{
	struct run r = {.threads = 2, .stop_at = 5000};
	setup(&r, 100000000);
	go(&r);
	is_int(r.rc, 0, "a stopped run ends without error");
	ok(r.k->n >= 5000 && r.g->base.stats.out < 100000000,
	   "it stopped early (%zu records)", r.k->n);
	is_int((long long)r.w->base.stats.in, (long long)r.g->base.stats.out,
	       "every record extracted was processed");
	is_int((long long)r.k->base.stats.in, (long long)r.w->base.stats.out,
	       "and reached the sink");
	done(&r);
}

/** sl_emit_job(): jobs' records keep their place among direct ones. */
TAP_CASE(jobs)
{
	struct run one = {.threads = 1, .batch = 64},
	           two = {.threads = 2, .batch = 64},
	           mixed = {.threads = 3, .batch = 64};
	struct run *runs[] = {&one, &two, &mixed};
	for (int i = 0; i < 3; i++) {
		setup(runs[i], 30000);
		runs[i]->with_work = false;
		runs[i]->g->per_job = 500;
		if (i == 2)
			runs[i]->g->direct_every = 777;
		go(runs[i]);
		is_int(runs[i]->rc, 0, "%u threads: the run succeeds",
		       runs[i]->threads);
	}
	/* With threads, which jobs the loop thread runs itself is a matter
	 * of timing (sl_worker_help()): these do almost nothing, so it may
	 * be all of them. */
	is_int(atomic_load(&one.g->off_loop), 0,
	       "1 thread: every job ran on the loop thread");
	note("jobs off the loop thread: %d of %lld (2 threads), %d of %lld "
	     "(3)",
	     atomic_load(&two.g->off_loop), (long long)two.g->given,
	     atomic_load(&mixed.g->off_loop), (long long)mixed.g->given);
	ok(two.g->released == 60 && one.g->released == 60,
	   "every job was released");
	bool in_order = true;
	for (size_t i = 1; i < mixed.k->n; i++)
		if (mixed.k->seq[i] <= mixed.k->seq[i - 1])
			in_order = false;
	/* Direct records are never bad input: 0, 10101 and 20202 are
	 * multiples of 13 and of 777. */
	ok(in_order && mixed.k->n == two.k->n + 3,
	   "direct records and jobs' records in order (%zu)", mixed.k->n);
	is_int((long long)two.g->base.stats.errors, 2308,
	       "jobs' bad input counted as errors");
	same_runs(&one, &two, "jobs", true);

	struct run bad = {.threads = 2, .batch = 64};
	setup(&bad, 30000);
	bad.with_work = false;
	bad.g->per_job = 500;
	bad.g->job_fail_at = 12345;
	go(&bad);
	is_int(bad.rc, -1, "a failing job fails the run");
	ok(strstr(bad.msg, "gen:12346: cannot read") != NULL,
	   "with its error (%s)", bad.msg);
	int64_t last = bad.k->n > 0 ? bad.k->seq[bad.k->n - 1] / 2 : -1;
	is_int((long long)last, 12344,
	       "after the records before it, and nothing after");
	ok(bad.g->released == bad.g->given && bad.g->given >= 25 &&
	           bad.g->given < 60,
	   "the jobs given (%lld) were all released", (long long)bad.g->given);
	for (int i = 0; i < 3; i++)
		done(runs[i]);
	done(&bad);
}

/**
 * With threads, an outbox takes two full rings of jobs' output (4 x
 * threads batches) even when asked for fewer; one thread keeps what was
 * asked.
 */
TAP_CASE(outbox_floor)
{
	struct run one = {.threads = 1, .probe = true},
	           three = {.threads = 3, .probe = true};
	struct run *runs[] = {&one, &three};
	for (int i = 0; i < 2; i++) {
		setup(runs[i], 30000);
		go(runs[i]);
		is_int(runs[i]->rc, 0, "%u threads: the run succeeds",
		       runs[i]->threads);
	}
	is_int((long long)one.outbox_capacity, 2,
	       "one thread: the two batches asked for");
	is_int((long long)three.outbox_capacity, 12,
	       "three threads: 4 x 3 batches, not the two asked for");
	same_runs(&one, &three, "outbox floor", true);
	for (int i = 0; i < 2; i++)
		done(runs[i]);
}

/**
 * A two-thread run of `r` (30,000 records, set up here) with
 * SLUICE_THREAD_PLACEMENT `env` (NULL: unset) and debug logging.
 */
static void
placed_run(struct run *r, const char *env)
{
	if (env != NULL)
		setenv("SLUICE_THREAD_PLACEMENT", env, 1);
	else
		unsetenv("SLUICE_THREAD_PLACEMENT");
	enum sl_log_level level = sl_log_get_level();
	sl_log_set_level(SL_LOG_DEBUG);
	r->threads = 2;
	setup(r, 30000);
	go(r);
	sl_log_set_level(level);
	unsetenv("SLUICE_THREAD_PLACEMENT");
	is_int(r->rc, 0, "placement %s: the run succeeds", env ? env : "unset");
}

/**
 * The run's worker threads keep off the loop thread's CPU where there is
 * a CPU for each (the default), not with SLUICE_THREAD_PLACEMENT=anywhere;
 * an unknown value is named in a warning.
 */
TAP_CASE(placement)
{
	cpu_set_t mine;
	if (sched_getaffinity(0, sizeof(mine), &mine) != 0)
		bail_out("sched_getaffinity");
	bool room = CPU_COUNT(&mine) >= 2;
	const char *said = "worker threads keep off CPU";
	struct run deflt = {0}, beside = {0}, anywhere = {0}, odd = {0};
	placed_run(&deflt, NULL);
	placed_run(&beside, "beside");
	placed_run(&anywhere, "anywhere");
	placed_run(&odd, "nowhere");
	ok((strstr(deflt.log, said) != NULL) == room &&
	           (strstr(beside.log, said) != NULL) == room,
	   "by default and with 'beside', kept off the loop thread's CPU "
	   "where there are %d CPUs (%s)",
	   CPU_COUNT(&mine), room ? "yes" : "no: one CPU");
	ok(strstr(anywhere.log, said) == NULL,
	   "with 'anywhere', not kept off it");
	ok(strstr(odd.log, "SLUICE_THREAD_PLACEMENT: expected beside or "
	                   "anywhere, not 'nowhere'") != NULL &&
	           (strstr(odd.log, said) != NULL) == room,
	   "an unknown value is named in a warning, and the default holds");
	ok(deflt.k->n == anywhere.k->n && deflt.k->n > 0 &&
	           memcmp(deflt.k->seq, anywhere.k->seq,
	                  deflt.k->n * sizeof(int64_t)) == 0,
	   "the same %zu records either way", deflt.k->n);
	done(&deflt);
	done(&beside);
	done(&anywhere);
	done(&odd);
}

int
main(int argc, char **argv)
{
	loop_thread = pthread_self();
	return tap_main(argc, argv);
}
