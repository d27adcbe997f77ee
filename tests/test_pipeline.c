/*
 * The pipeline runner: record flow and order, bounded outboxes, the start
 * barrier, failure semantics (start, process, drain, finish), non-fatal
 * errors and skips, flush markers, stop requests, SIGINT/SIGTERM and the
 * forced stop, and allocation failures.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/task.h"
#include "unit.h"

/** A configurable test step. */
struct tstep {
	/** Common part. */
	struct sl_step base;
	/** Records a generator emits in drain (UINT64_MAX: endless). */
	uint64_t gen_n;
	/** Whether this step generates records in drain. */
	bool gen;
	/** Fail in start. */
	bool fail_start;
	/** Wait forever in start (nothing will wake it). */
	bool hang_start;
	/** Fail in process at this input record (0-based), or -1. */
	int64_t fail_at;
	/** Fail in drain. */
	bool fail_drain;
	/** Fail in finish. */
	bool fail_finish;
	/** Sleep this long in finish. */
	double finish_sleep;
	/** Report a non-fatal error for every odd record. */
	bool errors_on_odd;
	/** Skip (sl_step_skip) every record divisible by 7. */
	bool skip_sevens;
	/** Emit each input record twice. */
	bool twice;
	/** Sleep this long per input record processed (backpressure). */
	double sleep_per_record;
	/** Calls to start, drain, finish. */
	int starts, drains, finishes;
	/** Records seen by process. */
	uint64_t seen;
	/** Next record index expected (order check). */
	int64_t expect;
	/** Whether every record came in order. */
	bool in_order;
	/** Flush markers seen (process_batch steps only). */
	uint64_t flushes;
	/** A step whose emitted-minus-received gap is watched, or NULL. */
	struct tstep *upstream;
	/** Largest gap seen between upstream's out and our in. */
	uint64_t max_gap;
	/** Emit a flush marker after every this many records (generator). */
	uint64_t flush_every;
	/** Result of finish()'s sleep. */
	int finish_sleep_rc;
};

/** Where logs go when a test does not look at them. */
static FILE *devnull;

/** Test steps made, for leak checks. */
static int live_steps;

static void
t_destroy(struct sl_step *s)
{
	live_steps--;
	free(s);
}

/** The record {"i": i} built in `a`. */
static int
make_record(struct sl_arena *a, int64_t i, struct sl_value *out)
{
	struct sl_member *m = sl_arena_alloc(a, sizeof(*m));
	if (m == NULL)
		return -1;
	m->key = "i";
	m->key_len = 1;
	m->val = sl_int(i);
	*out = sl_object_ref(m, 1);
	return 0;
}

/** The index of a test record, or -1. */
static int64_t
record_index(const struct sl_value *v)
{
	const struct sl_value *i = sl_object_get_cstr(v, "i");
	return i != NULL && i->type == SL_VINT ? i->u.i : -1;
}

static int
t_start(struct sl_step *s)
{
	struct tstep *t = (struct tstep *)s;
	t->starts++;
	if (t->fail_start) {
		sl_diag_set(SL_EINVAL, "cannot connect to the test database");
		return -1;
	}
	if (t->hang_start)
		return sl_task_wait(SL_FOREVER);
	return 0;
}

static int
t_process(struct sl_step *s, const struct sl_value *rec, struct sl_emit *out)
{
	struct tstep *t = (struct tstep *)s;
	int64_t i = record_index(rec);
	if (i != t->expect)
		t->in_order = false;
	t->expect = i + 1;
	if (t->upstream != NULL) {
		uint64_t gap = t->upstream->base.stats.out - t->seen;
		if (gap > t->max_gap)
			t->max_gap = gap;
	}
	t->seen++;
	if (t->sleep_per_record > 0 && sl_sleep(t->sleep_per_record) != 0)
		return -1;
	if (t->fail_at >= 0 && i == t->fail_at) {
		sl_diag_set(SL_EINVAL, "record %lld is bad", (long long)i);
		return -1;
	}
	if (t->errors_on_odd && i % 2 == 1) {
		sl_diag_set(SL_EINVAL, "odd record %lld", (long long)i);
		sl_step_error(s, "checking");
		return 0;
	}
	if (t->skip_sevens && i % 7 == 0) {
		sl_diag_set(SL_EPARSE, "t.jsonl:%lld:1: bad", (long long)i);
		sl_step_skip(s);
		return 0;
	}
	if (sl_emit_copy(out, rec) != 0)
		return -1;
	return t->twice ? sl_emit_copy(out, rec) : 0;
}

static int
t_drain(struct sl_step *s, struct sl_emit *out)
{
	struct tstep *t = (struct tstep *)s;
	t->drains++;
	if (t->fail_drain) {
		sl_diag_set(SL_EIO, "the source went away");
		return -1;
	}
	if (!t->gen)
		return 0;
	for (uint64_t i = 0; i < t->gen_n; i++) {
		struct sl_arena *a = sl_emit_arena(out);
		struct sl_value v;
		if (a == NULL || make_record(a, (int64_t)i, &v) != 0)
			return -1;
		if (sl_emit(out, v) != 0)
			return -1;
		if (t->flush_every && (i + 1) % t->flush_every == 0 &&
		    sl_emit_flush(out) != 0)
			return -1;
	}
	return 0;
}

static int
t_finish(struct sl_step *s)
{
	struct tstep *t = (struct tstep *)s;
	t->finishes++;
	if (t->finish_sleep > 0)
		t->finish_sleep_rc = sl_sleep(t->finish_sleep);
	if (t->fail_finish) {
		sl_diag_set(SL_EIO, "final flush failed");
		return -1;
	}
	return 0;
}

/** A pass-through step that counts flush markers (process_batch). */
static int
t_process_batch(struct sl_step *s, struct sl_batch *in, struct sl_emit *out)
{
	struct tstep *t = (struct tstep *)s;
	if (in->kind == SL_BATCH_FLUSH) {
		t->flushes++;
	} else {
		for (uint32_t i = 0; i < in->count; i++) {
			int64_t k = record_index(&in->records[i]);
			if (k != t->expect)
				t->in_order = false;
			t->expect = k + 1;
		}
		t->seen += in->count;
	}
	return sl_emit_batch(out, in);
}

static const struct sl_step_ops gen_ops = {
        .type = "Gen",
        .start = t_start,
        .drain = t_drain,
        .finish = t_finish,
        .destroy = t_destroy,
};
static const struct sl_step_ops rec_ops = {
        .type = "Rec",
        .start = t_start,
        .process = t_process,
        .drain = t_drain,
        .finish = t_finish,
        .destroy = t_destroy,
};
static const struct sl_step_ops batch_ops = {
        .type = "Batch",
        .start = t_start,
        .process_batch = t_process_batch,
        .finish = t_finish,
        .destroy = t_destroy,
};

/** A new test step (aborts the test program without memory). */
static struct tstep *
tstep_new(const struct sl_step_ops *ops)
{
	struct tstep *t = calloc(1, sizeof(*t));
	if (t == NULL)
		abort();
	sl_step_init(&t->base, ops);
	t->fail_at = -1;
	t->in_order = true;
	live_steps++;
	return t;
}

/** A pipeline of the given steps (all added), with small batches. */
static struct sl_pipeline *
pipeline_of(uint32_t batch, uint32_t outbox, struct tstep **steps, int n)
{
	struct sl_pipeline_opts o;
	sl_pipeline_opts_init(&o);
	o.batch_size = batch;
	o.outbox_records = outbox;
	struct sl_pipeline *p = sl_pipeline_new(&o);
	if (p == NULL)
		abort();
	for (int i = 0; i < n; i++)
		if (sl_pipeline_add(p, &steps[i]->base) != 0)
			abort();
	return p;
}

/** Arguments of run_main(). */
struct run_args {
	/** The pipeline. */
	struct sl_pipeline *p;
	/** Its result. */
	int rc;
	/** Its error message (formatted chain). */
	char msg[1024];
	/** Its error code. */
	enum sl_errcode code;
	/** Stop after the first step emitted this many records (0: no). */
	uint64_t stop_after;
	/** Force on the stop. */
	bool force;
	/** Raise these signals (one after another) instead of stopping. */
	int signals[2];
	/** Signals to raise. */
	int n_signals;
	/** Wall time of the run. */
	double secs;
};

/** Task: stop (or signal) once the first step emitted enough. */
static int
stopper_main(void *arg)
{
	struct run_args *a = arg;
	struct sl_step *first = sl_pipeline_step(a->p, 0);
	while (first->stats.out < a->stop_after)
		if (sl_sleep(0.001) != 0)
			return 0;
	if (a->n_signals == 0) {
		sl_pipeline_stop(a->p, a->force, 0);
		return 0;
	}
	for (int i = 0; i < a->n_signals; i++) {
		kill(getpid(), a->signals[i]);
		/* Signals sent before the last one was seen would merge. */
		while (i == 0 && sl_pipeline_stopped_by(a->p) == 0)
			if (sl_sleep(0.001) != 0)
				return 0;
	}
	return 0;
}

static int
run_main(void *arg)
{
	struct run_args *a = arg;
	struct sl_task *stopper = NULL;
	if (a->stop_after > 0) {
		stopper = sl_task_spawn(sl_loop_current(), "stopper",
		                        stopper_main, a);
		if (stopper == NULL)
			return -1;
	}
	double t0 = sl_clock();
	a->rc = sl_pipeline_run(a->p);
	a->secs = sl_clock() - t0;
	a->msg[0] = '\0';
	a->code = sl_diag_code();
	if (a->rc != 0)
		sl_error_format(sl_diag_last(), a->msg, sizeof(a->msg));
	sl_diag_clear(sl_diag_get());
	if (stopper != NULL)
		(void)sl_task_reap(stopper);
	sl_diag_clear(sl_diag_get());
	return 0;
}

/**
 * Run `p` on a fresh loop; returns the loop's result (-1 when it found a
 * deadlock).
 */
static int
run_loop(struct run_args *a, struct sl_pipeline *p)
{
	a->p = p;
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL)
		bail_out("no loop");
	int rc = sl_loop_run_main(loop, "runner", run_main, a);
	sl_diag_clear(sl_diag_get());
	sl_loop_delete(loop);
	return rc;
}

/** Run `p` on a fresh loop, which must end normally. */
static void
run(struct run_args *a, struct sl_pipeline *p)
{
	if (run_loop(a, p) != 0)
		bail_out("the runner task failed");
}

/** The flow checks. */
TAP_CASE(flow)
{
	struct tstep *g = tstep_new(&gen_ops);
	struct tstep *m = tstep_new(&rec_ops);
	struct tstep *w = tstep_new(&batch_ops);
	g->gen = true;
	g->gen_n = 100003;
	m->twice = false;
	struct tstep *steps[] = {g, m, w};
	struct sl_pipeline *p = pipeline_of(100, 300, steps, 3);
	struct run_args a = {0};
	run(&a, p);
	is_int(a.rc, 0, "a generator -> process -> batch pipeline succeeds");
	is_int((long long)w->seen, 100003, "every record reached the end");
	ok(m->in_order && w->in_order, "records arrive in order");
	is_int((long long)g->base.stats.out, 100003, "generator out count");
	is_int((long long)m->base.stats.in, 100003, "middle in count");
	is_int((long long)m->base.stats.out, 100003, "middle out count");
	is_int((long long)sl_pipeline_records_out(p), 100003,
	       "records out of the pipeline");
	ok(g->starts == 1 && m->starts == 1 && w->starts == 1,
	   "start ran once per step");
	ok(g->finishes == 1 && m->finishes == 1 && w->finishes == 1,
	   "finish ran once per step");
	ok(g->drains == 1 && m->drains == 1, "drain ran once");
	is_str(sl_pipeline_step(p, 1)->name, "1:Rec", "steps are named");
	ok(sl_pipeline_elapsed(p) > 0, "elapsed time is kept");
	is_int(sl_pipeline_stopped_by(p), 0, "not stopped by a signal");

	/* A second run of the same pipeline starts from zero. */
	run(&a, p);
	is_int(a.rc, 0, "the pipeline runs again");
	is_int((long long)m->base.stats.in, 100003, "counters restart");
	sl_pipeline_delete(p);
	is_int(live_steps, 0, "deleting the pipeline frees its steps");
}

/**
 * Run 5000 records from a generator through a pass-through step (which
 * emits each twice when `twice`) to a slow consumer, watched for what is
 * in flight, in pipeline_of(batch, outbox). The consumer; the run's
 * status in *rc, the pipeline (to delete) in *pp.
 */
static struct tstep *
slow_consumer_run(uint32_t batch, uint32_t outbox, bool twice, int *rc,
                  struct sl_pipeline **pp)
{
	struct tstep *g = tstep_new(&gen_ops);
	struct tstep *m = tstep_new(&rec_ops);
	struct tstep *w = tstep_new(&rec_ops);
	g->gen = true;
	g->gen_n = 5000;
	m->twice = twice;
	w->upstream = m;
	w->sleep_per_record = 0.00002;
	struct tstep *steps[] = {g, m, w};
	*pp = pipeline_of(batch, outbox, steps, 3);
	struct run_args a = {0};
	run(&a, *pp);
	*rc = a.rc;
	return w;
}

/** The twice and backpressure checks. */
TAP_CASE(twice_and_backpressure)
{
	struct sl_pipeline *p;
	int rc;
	struct tstep *w = slow_consumer_run(50, 100, true, &rc, &p);
	is_int(rc, 0, "a slow consumer pipeline succeeds");
	is_int((long long)w->seen, 10000, "each record emitted twice");
	/* Outbox of 2 batches + the batch being built + the one in hand. */
	ok(w->max_gap <= 4 * 50, "the outbox bounds what is in flight (%llu)",
	   (unsigned long long)w->max_gap);
	ok(w->max_gap >= 50, "records do pile up to the bound (%llu)",
	   (unsigned long long)w->max_gap);
	sl_pipeline_delete(p);
}

/** The default batch and outbox sizes, by threads. */
TAP_CASE(default_sizes)
{
	struct sl_pipeline_opts o;
	sl_pipeline_opts_init(&o);
	is_int(sl_pipeline_batch_size(&o), SL_BATCH_SIZE_ONE_THREAD,
	       "one thread: batches of %d records", SL_BATCH_SIZE_ONE_THREAD);
	o.threads = 2;
	is_int(sl_pipeline_batch_size(&o), SL_BATCH_SIZE_DEFAULT,
	       "threads: batches of %d records", SL_BATCH_SIZE_DEFAULT);
	o.batch_size = 7;
	is_int(sl_pipeline_batch_size(&o), 7, "a batch size given is kept");

	/* One thread, the defaults: what is in flight between two steps is
	 * two outbox batches of 32, the one being built and the one in
	 * hand. */
	struct sl_pipeline *p;
	int rc;
	struct tstep *w = slow_consumer_run(0, 0, false, &rc, &p);
	is_int(rc, 0, "a run with the default sizes succeeds");
	is_int((long long)w->seen, 5000, "every record arrives");
	ok(w->max_gap <= 4 * SL_BATCH_SIZE_ONE_THREAD,
	   "the default outbox bounds what is in flight (%llu)",
	   (unsigned long long)w->max_gap);
	ok(w->max_gap >= SL_BATCH_SIZE_ONE_THREAD,
	   "records do pile up to the bound (%llu)",
	   (unsigned long long)w->max_gap);
	sl_pipeline_delete(p);
}

/** The start failure checks. */
TAP_CASE(start_failure)
{
	struct tstep *g = tstep_new(&gen_ops);
	struct tstep *m = tstep_new(&rec_ops);
	struct tstep *w = tstep_new(&rec_ops);
	g->gen = true;
	g->gen_n = UINT64_MAX;
	m->fail_start = true;
	struct tstep *steps[] = {g, m, w};
	struct sl_pipeline *p = pipeline_of(10, 10, steps, 3);
	struct run_args a = {0};
	run(&a, p);
	is_int(a.rc, -1, "a failing start fails the run (and does not hang)");
	is_int(a.code, SL_EINVAL, "with the step's error code");
	ok(strstr(a.msg, "step 1:Rec failed in start") != NULL &&
	           strstr(a.msg, "cannot connect") != NULL,
	   "the error names the step, the phase and the cause: %s", a.msg);
	is_int(g->drains, 0, "the extractor never produced records");
	ok(g->finishes == 1 && m->finishes == 1 && w->finishes == 1,
	   "every finish ran");
	ok(m->base.failed && !g->base.failed && !w->base.failed,
	   "only the failing step is marked failed");
	sl_pipeline_delete(p);

	/* A start that waits for nothing is a deadlock, not a hang. */
	g = tstep_new(&gen_ops);
	m = tstep_new(&rec_ops);
	g->gen = true;
	g->gen_n = 10;
	m->hang_start = true;
	struct tstep *steps2[] = {g, m};
	p = pipeline_of(10, 10, steps2, 2);
	is_int(run_loop(&a, p), -1, "the loop reports the deadlock");
	is_int(a.rc, -1, "a start that can never end fails the run");
	is_int(a.code, SL_EDEADLOCK, "as a deadlock");
	ok(g->finishes == 1 && m->finishes == 1, "every finish ran");
	sl_pipeline_delete(p);
}

/** The process failure checks. */
TAP_CASE(process_failure)
{
	struct tstep *g = tstep_new(&gen_ops);
	struct tstep *m = tstep_new(&rec_ops);
	struct tstep *w = tstep_new(&batch_ops);
	g->gen = true;
	g->gen_n = UINT64_MAX;
	m->fail_at = 3;
	struct tstep *steps[] = {g, m, w};
	struct sl_pipeline *p = pipeline_of(100, 100, steps, 3);
	struct run_args a = {0};
	run(&a, p);
	is_int(a.rc, -1, "a failing process fails the run");
	ok(strstr(a.msg, "step 1:Rec failed in process") != NULL &&
	           strstr(a.msg, "record 3 is bad") != NULL,
	   "the error names step, phase and record: %s", a.msg);
	is_int((long long)w->seen, 3,
	       "downstream received the records before the failure");
	ok(w->in_order, "in order");
	is_int(w->finishes, 1, "downstream finished (a writer flushes)");
	ok(g->base.stats.out < 1000,
	   "the endless extractor stopped soon after (%llu emitted)",
	   (unsigned long long)g->base.stats.out);
	ok(!g->base.failed, "upstream stopping is not a failure");
	is_int(g->finishes, 1, "upstream finished");
	sl_pipeline_delete(p);
}

/** The drain and finish failure checks. */
TAP_CASE(drain_and_finish_failure)
{
	struct tstep *g = tstep_new(&gen_ops);
	struct tstep *w = tstep_new(&rec_ops);
	g->fail_drain = true;
	struct tstep *steps[] = {g, w};
	struct sl_pipeline *p = pipeline_of(10, 10, steps, 2);
	struct run_args a = {0};
	run(&a, p);
	is_int(a.rc, -1, "a failing drain fails the run");
	is_int(a.code, SL_EIO, "with its code");
	ok(strstr(a.msg, "step 0:Gen failed in drain") != NULL, "%s", a.msg);
	is_int(w->finishes, 1, "the next step finished");
	sl_pipeline_delete(p);

	g = tstep_new(&gen_ops);
	w = tstep_new(&rec_ops);
	g->gen = true;
	g->gen_n = 20;
	w->fail_finish = true;
	struct tstep *steps2[] = {g, w};
	p = pipeline_of(10, 10, steps2, 2);
	run(&a, p);
	is_int(a.rc, -1, "a failing finish (a lost final flush) is fatal");
	ok(strstr(a.msg, "step 1:Rec failed in finish") != NULL &&
	           strstr(a.msg, "final flush failed") != NULL,
	   "%s", a.msg);
	is_int((long long)w->seen, 20, "the records were processed");
	sl_pipeline_delete(p);

	/* Two failures: the first one in time is the run's error. */
	g = tstep_new(&gen_ops);
	struct tstep *m = tstep_new(&rec_ops);
	w = tstep_new(&rec_ops);
	g->gen = true;
	g->gen_n = 100;
	m->fail_at = 5;
	g->fail_finish = true;
	struct tstep *steps3[] = {g, m, w};
	p = pipeline_of(10, 10, steps3, 3);
	run(&a, p);
	is_int(a.rc, -1, "two failing steps fail the run");
	ok(strstr(a.msg, "record 5 is bad") != NULL,
	   "the first failure is reported: %s", a.msg);
	ok(g->base.failed && m->base.failed, "both steps are marked failed");
	sl_pipeline_delete(p);
}

/** The nonfatal checks. */
TAP_CASE(nonfatal)
{
	struct tstep *g = tstep_new(&gen_ops);
	struct tstep *m = tstep_new(&rec_ops);
	struct tstep *w = tstep_new(&rec_ops);
	g->gen = true;
	g->gen_n = 1000;
	m->errors_on_odd = true;
	w->skip_sevens = true;
	struct tstep *steps[] = {g, m, w};
	struct sl_pipeline *p = pipeline_of(64, 64, steps, 3);
	struct run_args a = {0};
	FILE *log = tmpfile();
	if (log == NULL)
		bail_out("no tmpfile");
	sl_log_set_output(log);
	run(&a, p);
	sl_log_set_output(devnull);
	rewind(log);
	int n_err = 0, n_skip = 0, n_capped = 0;
	char line[1024];
	while (fgets(line, sizeof(line), log) != NULL) {
		n_err += strstr(line, "step 1:Rec: checking: odd record") != 0;
		n_skip += strstr(line, "step 2:Rec: skipped: t.jsonl:") != 0;
		n_capped +=
		        strstr(line, "further errors are only counted") != 0;
	}
	fclose(log);
	is_int(n_err, 100, "the first 100 errors are logged");
	is_int(n_capped, 1, "then that further ones are only counted");
	is_int(n_skip, 72, "every skip (fewer than 100) is logged");
	is_int(a.rc, 0, "non-fatal errors and skips do not fail the run");
	is_int((long long)m->base.stats.errors, 500, "errors are counted");
	is_int((long long)m->base.stats.out, 500,
	       "records with errors not "
	       "emitted by that step");
	/* Even records 0..998: those divisible by 7 are 0,14,...,994. */
	is_int((long long)w->base.stats.skipped, 72, "skips are counted");
	is_str(w->base.stats.skips[0], "t.jsonl:0:1: bad",
	       "the first skip's location is kept");
	is_str(w->base.stats.skips[9], "t.jsonl:126:1: bad", "and the tenth");
	ok(w->base.stats.skips[SL_STEP_SKIPS_KEPT - 1] != NULL,
	   "ten locations are kept");
	is_int((long long)w->base.stats.out, 500 - 72, "out = in - skipped");
	sl_pipeline_delete(p);
}

/** The flush markers checks. */
TAP_CASE(flush_markers)
{
	struct tstep *g = tstep_new(&gen_ops);
	struct tstep *m = tstep_new(&rec_ops);
	struct tstep *w = tstep_new(&batch_ops);
	g->gen = true;
	g->gen_n = 1000;
	g->flush_every = 300;
	struct tstep *steps[] = {g, m, w};
	struct sl_pipeline *p = pipeline_of(128, 256, steps, 3);
	struct run_args a = {0};
	run(&a, p);
	is_int(a.rc, 0, "a pipeline with flush markers succeeds");
	is_int((long long)w->flushes, 3, "every marker reached the end");
	is_int((long long)m->base.stats.flushes, 3, "the middle step saw them");
	is_int((long long)w->seen, 1000, "and every record");
	ok(w->in_order, "in order");
	sl_pipeline_delete(p);
}

/** The stop checks. */
TAP_CASE(stop)
{
	struct tstep *g = tstep_new(&gen_ops);
	struct tstep *m = tstep_new(&rec_ops);
	struct tstep *w = tstep_new(&rec_ops);
	g->gen = true;
	g->gen_n = UINT64_MAX;
	struct tstep *steps[] = {g, m, w};
	struct sl_pipeline *p = pipeline_of(100, 100, steps, 3);
	struct run_args a = {.stop_after = 20000};
	run(&a, p);
	is_int(a.rc, 0, "a stopped run succeeds");
	ok(g->base.stats.out >= 20000, "the extractor ran until the stop");
	is_int((long long)w->seen, (long long)g->base.stats.out,
	       "every record extracted was processed to the end (%llu)",
	       (unsigned long long)w->seen);
	ok(w->in_order, "in order");
	ok(g->finishes == 1 && m->finishes == 1 && w->finishes == 1,
	   "every finish ran");
	ok(!sl_pipeline_forced(p), "not forced");
	sl_pipeline_delete(p);
}

/** The signals checks. */
TAP_CASE(signals)
{
	if (getenv("SLUICE_UNDER_VALGRIND") != NULL) {
		/* valgrind sometimes loses a signal a process sends itself
		 * under load; these cases run in the native and ASan builds
		 * and, as real processes, in test_cli.sh. */
		note("signal cases skipped under valgrind");
		return;
	}
	static const int sigs[] = {SIGINT, SIGTERM};
	for (int k = 0; k < 2; k++) {
		struct tstep *g = tstep_new(&gen_ops);
		struct tstep *w = tstep_new(&rec_ops);
		g->gen = true;
		g->gen_n = UINT64_MAX;
		struct sl_pipeline_opts o;
		sl_pipeline_opts_init(&o);
		o.batch_size = 100;
		o.outbox_records = 100;
		o.catch_signals = true;
		struct sl_pipeline *p = sl_pipeline_new(&o);
		sl_pipeline_add(p, &g->base);
		sl_pipeline_add(p, &w->base);
		struct run_args a = {.stop_after = 5000, .n_signals = 1};
		a.signals[0] = sigs[k];
		run(&a, p);
		is_int(a.rc, 0, "a run stopped by %s ends cleanly",
		       strsignal(sigs[k]));
		is_int(sl_pipeline_stopped_by(p), sigs[k],
		       "the signal is reported");
		is_int((long long)w->seen, (long long)g->base.stats.out,
		       "everything extracted was drained");
		is_int(w->finishes, 1, "finish ran");
		sl_pipeline_delete(p);
	}

	/* A second signal forces the stop even while a finish is slow. */
	struct tstep *g = tstep_new(&gen_ops);
	struct tstep *w = tstep_new(&rec_ops);
	g->gen = true;
	g->gen_n = UINT64_MAX;
	w->finish_sleep = 30;
	w->sleep_per_record = 0.0001;
	struct sl_pipeline_opts o;
	sl_pipeline_opts_init(&o);
	o.batch_size = 10;
	o.outbox_records = 10;
	o.catch_signals = true;
	struct sl_pipeline *p = sl_pipeline_new(&o);
	sl_pipeline_add(p, &g->base);
	sl_pipeline_add(p, &w->base);
	struct run_args a = {.stop_after = 200, .n_signals = 2};
	a.signals[0] = SIGINT;
	a.signals[1] = SIGINT;
	run(&a, p);
	ok(sl_pipeline_forced(p), "a second signal forces the stop");
	ok(a.secs < 10,
	   "the forced stop does not wait for the slow "
	   "finish (%.2f s)",
	   a.secs);
	is_int(w->finish_sleep_rc, -1, "the slow finish was interrupted");
	is_int(sl_pipeline_stopped_by(p), SIGINT, "SIGINT is reported");
	sl_pipeline_delete(p);
	/* The signals have their default effect again (not checked by
	 * raising one: that would end the test). */
}

/** The alloc failures checks. */
TAP_CASE(alloc_failures)
{
	int failed = 0, succeeded = 0, bad = 0;
	for (int n = 0; n < 400; n++) {
		struct tstep *g = tstep_new(&gen_ops);
		struct tstep *m = tstep_new(&rec_ops);
		struct tstep *w = tstep_new(&batch_ops);
		g->gen = true;
		g->gen_n = 300;
		struct tstep *steps[] = {g, m, w};
		struct sl_pipeline *p = pipeline_of(16, 32, steps, 3);
		struct run_args a = {0};
		a.p = p;
		struct sl_loop *loop = sl_loop_new(NULL);
		if (loop == NULL)
			bail_out("no loop");
		sl_alloc_fail_after(n);
		int rc = sl_loop_run_main(loop, "runner", run_main, &a);
		sl_alloc_fail_after(-1);
		sl_diag_clear(sl_diag_get());
		sl_loop_delete(loop);
		if (rc != 0) {
			/* The runner task itself could not be made. */
			failed++;
		} else if (a.rc == 0) {
			succeeded++;
			if (w->seen != 300)
				bad++;
		} else {
			failed++;
			if (a.code != SL_EOOM) {
				bad++;
				note("n=%d: %s", n, a.msg);
			}
			if (g->finishes != g->starts ||
			    w->finishes != w->starts)
				bad++;
		}
		sl_pipeline_delete(p);
		if (succeeded > 0 && rc == 0 && a.rc == 0)
			break;
	}
	ok(failed > 3, "allocation failures were hit (%d)", failed);
	is_int(succeeded, 1, "the run succeeds once allocations do");
	is_int(bad, 0, "every failure was a clean EOOM with finishes run");
	is_int(live_steps, 0, "no step leaked");
}

/** Arm the hang alarm and send the runner's logs to /dev/null. */
static int
setup(void)
{
	/* Runner logs (signals, errors) are checked where they matter. */
	/* A hang fails the test instead of stalling the suite. */
	alarm(getenv("SLUICE_UNDER_VALGRIND") != NULL ? 500 : 120);
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		bail_out("no /dev/null");
	sl_log_set_output(devnull);
	return 0;
}

/** Restore the log output. */
static void
teardown(void)
{
	sl_log_set_output(NULL);
	fclose(devnull);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
