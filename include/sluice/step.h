/*
 * sluice: the step interface of pipelines.
 *
 * A step turns records into records. Its life, run as one task by the
 * pipeline runner (sluice/pipeline.h):
 *
 *   start    once, before any record (open files, connect)
 *   process  once per input record, emitting 0..N records; or
 *            process_batch once per input batch
 *   drain    once after the input ended: emit what is outstanding. The
 *            first step of a pipeline has no input, so an extractor
 *            produces all its records here.
 *   finish   always, last, whatever happened before (close, flush)
 *
 * Every callback is optional. A step without process or process_batch
 * passes its input on unchanged, batch by batch.
 *
 * A callback returns 0, or -1 with an error in the task's diag: that is a
 * fatal error of the pipeline. Errors a step can live with are reported
 * with sl_step_error() (counted, the first ones logged) and skipped input
 * with sl_step_skip() (counted, the first ten locations kept for the
 * summary); the callback then returns 0. The first 100 of each are logged,
 * then one line says the rest are only counted.
 *
 * Records are emitted through an sl_emit: build the record in
 * sl_emit_arena() and hand it to sl_emit(), which sends the batch
 * downstream when it is full. Sending suspends while the downstream
 * outbox is full (backpressure). When the downstream steps stopped, sl_emit
 * fails with SL_EDROPPED: the step should return -1 with that error, and
 * the runner treats it as a stop, not a failure.
 */
#ifndef SLUICE_STEP_H
#define SLUICE_STEP_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/batch.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sl_step;
struct sl_emit;
struct sl_checkpoint;

/** What a step does (a constant table per step type). */
struct sl_step_ops {
	/** Type name used in logs and the summary, e.g. "FileExtractor". */
	const char *type;
	/** Runs once before any record; NULL: nothing to do. */
	int (*start)(struct sl_step *s);
	/** Handles one input record; NULL: see process_batch. */
	int (*process)(struct sl_step *s, const struct sl_value *rec,
	               struct sl_emit *out);
	/**
	 * Handles one input batch, which it then owns: it must pass it on
	 * with sl_emit_batch() or return it with sl_batch_put(). Used when
	 * set, instead of `process`.
	 */
	int (*process_batch)(struct sl_step *s, struct sl_batch *in,
	                     struct sl_emit *out);
	/** Emits what is outstanding after the input ended; NULL: nothing. */
	int (*drain)(struct sl_step *s, struct sl_emit *out);
	/** Runs last, always (also after errors and stops); NULL: nothing. */
	int (*finish)(struct sl_step *s);
	/** Frees the step (also when it never ran). */
	void (*destroy)(struct sl_step *s);
	/**
	 * A copy of the step that may run `process` on a worker thread,
	 * concurrently with other copies and with the loop thread: it shares
	 * the step's compiled, read-only parts and owns what `process`
	 * changes (scratch memory). NULL (with an error) on failure; freed
	 * with `destroy`. NULL here: the step runs on the loop thread only.
	 * Only a step whose `process` keeps no state from one record to the
	 * next may offer it; the runner uses it for runs with more than one
	 * thread (see sluice/pipeline.h).
	 */
	struct sl_step *(*replicate)(struct sl_step *s);
	/**
	 * Reads an input batch ahead of `process_batch` or `process`, on a
	 * worker thread: a run with more than one thread calls it on the
	 * batches that a step on threads (`replicate`) makes for this step,
	 * in the job that made them, while they are still in that core's
	 * cache. It runs concurrently with the step's own task and with
	 * other prepares, so it may read only what the step set up in
	 * `start` and no longer changes, and write only into `b`: its arena,
	 * and `b->prep` with `b->prep_for` set to `s`. It cannot fail: what
	 * it does not prepare, the step does itself. The step must take
	 * batches prepared or not (only some are). `last`: no step comes
	 * after `s`, so nothing but `s` reads the records once `s` takes
	 * the batch; a prepare that made all `s` will read of them may then
	 * give the records' shape back at once (`b->shape`; `b->count`
	 * stays). NULL: nothing.
	 */
	void (*prepare)(struct sl_step *s, struct sl_batch *b, bool last);
	/**
	 * A progress mark (sl_emit_mark()) reached the step, after all the
	 * input before it: a step that holds records back (a graph writer
	 * batching writes) makes what it holds durable (writes and commits
	 * it) and returns 0, and the runner passes the mark on. -1 fails
	 * the step (the mark is dropped). NULL: the mark is passed on at
	 * once. Marks never reach `process` or `process_batch`. `m->pos`,
	 * when set, is the position a writer commits with what it holds.
	 */
	int (*mark)(struct sl_step *s, const struct sl_mark *m,
	            struct sl_emit *out);
	/**
	 * Checkpoint this extractor's progress as `c` says (see
	 * sluice/checkpoint.h): resume where sl_checkpoint_resume_at() says
	 * once every step started, emit progress marks carrying positions,
	 * and save their text when they are acknowledged. Called before the
	 * run; `c` outlives it. 0, or -1 with an error. NULL: the step
	 * cannot checkpoint.
	 */
	int (*checkpoint)(struct sl_step *s, struct sl_checkpoint *c);
};

/** Most locations of skipped records a step keeps for the summary. */
#define SL_STEP_SKIPS_KEPT 10

/** Counters of one step (read them after or during a run). */
struct sl_step_stats {
	/** Records received. */
	uint64_t in;
	/** Records emitted. */
	uint64_t out;
	/** Non-fatal errors reported. */
	uint64_t errors;
	/** Input records skipped (e.g. `on_error: skip`). */
	uint64_t skipped;
	/** Flush markers received. */
	uint64_t flushes;
	/** Messages of the first skipped records (malloc'd). */
	char *skips[SL_STEP_SKIPS_KEPT];
};

/**
 * The common part of every step; step types embed it as their first
 * member and set it up with sl_step_init().
 */
struct sl_step {
	/** The step's callbacks. */
	const struct sl_step_ops *ops;
	/** Display name: "<index>:<type>", e.g. "0:FileExtractor". */
	char name[80];
	/** Position in the pipeline (set by sl_pipeline_add()). */
	uint32_t index;
	/** Counters. */
	struct sl_step_stats stats;
	/** Whether the step stopped because of a fatal error. */
	bool failed;
};

/**
 * Skips and errors reported on a worker thread (sl_step_skip(),
 * sl_step_error() with events captured), kept to be counted and logged
 * on the loop thread in record order by sl_step_events_replay().
 * Zero-initialised is empty.
 */
struct sl_step_events {
	/** Events: a kind byte ('s' skip, 'b' skipped bad input, 'e'
	 * error), then the message and its terminating NUL; malloc'd. */
	char *data;
	/** Bytes used in `data`. */
	size_t len;
	/** Bytes allocated. */
	size_t cap;
	/** Events whose message did not fit under SL_STEP_EVENTS_MAX (or
	 * in memory), by kind: skips, bad input, errors; reported after the
	 * kept ones. */
	uint64_t lost[3];
};

/** Most bytes of messages one sl_step_events holds. */
#define SL_STEP_EVENTS_MAX ((size_t)4 << 20)

/**
 * Route the calling thread's sl_step_skip() and sl_step_error() into `ev`
 * instead of counting and logging them (NULL: back to normal). Worker
 * threads running a step's `process` do this.
 */
void sl_step_events_capture(struct sl_step_events *ev);

/**
 * Count and log the events in `ev` as `s`'s own, in the order they were
 * reported, exactly as if `s` had reported them; then empty `ev`.
 */
void sl_step_events_replay(struct sl_step *s, struct sl_step_events *ev);

/** Free what `ev` holds (it stays usable, empty). */
void sl_step_events_destroy(struct sl_step_events *ev);

/** Initialise the common part of a new step. */
void sl_step_init(struct sl_step *s, const struct sl_step_ops *ops);

/** Free a step through its ops (NULL is a no-op). */
void sl_step_delete(struct sl_step *s);

/**
 * Report a non-fatal error: counted in the step's stats and logged with
 * the step's name (after the first 100, only counted). The message is the
 * diag's current error, prefixed by `what` if not NULL.
 */
void sl_step_error(struct sl_step *s, const char *what);

/**
 * sl_step_skip() of bad input the step steps over (a record, or a whole
 * file): counted as an error and as a skip, logged once as the skip.
 */
void sl_step_skip_error(struct sl_step *s);

/**
 * Count a skipped input record whose reason is the diag's current error
 * (its message names the location), keep its message if it is among the
 * first SL_STEP_SKIPS_KEPT, log it at warn level, and clear the diag.
 */
void sl_step_skip(struct sl_step *s);

/**
 * The arena of the batch being filled, where the next record should be
 * built. NULL with SL_EOOM.
 */
struct sl_arena *sl_emit_arena(struct sl_emit *e);

/**
 * The shape arena of the same batch (sl_batch.shape): where the next
 * record's member and item arrays may go when nothing in its values
 * points into them. Call after sl_emit_arena() for the same record.
 */
struct sl_arena *sl_emit_shape(struct sl_emit *e);

/**
 * Emit a record whose memory lives in sl_emit_arena() (or outlives the
 * run). Sends the batch on when it is full or its arena is large; may
 * suspend. Returns 0, or -1 with SL_EDROPPED (downstream stopped),
 * SL_ECANCELLED or SL_EABORTED.
 */
int sl_emit(struct sl_emit *e, struct sl_value v);

/** Emit a deep copy of `v` (which may live anywhere). As sl_emit(). */
int sl_emit_copy(struct sl_emit *e, const struct sl_value *v);

/**
 * Pass a whole batch on (the emitter takes it, even on failure), after
 * what was emitted before. A flush marker batch is passed on as such.
 */
int sl_emit_batch(struct sl_emit *e, struct sl_batch *b);

/**
 * For the last step of a pipeline (nothing follows it), which may keep
 * the batches it was given rather than pass them on: count `b`'s records
 * as passed on and leave `b` with the caller, who returns it with
 * sl_batch_put() when done with its records (before its finish()
 * returns). Returns false, doing nothing, when a step follows: then the
 * caller passes `b` on with sl_emit_batch().
 */
bool sl_emit_keep(struct sl_emit *e, const struct sl_batch *b);

/** Send a flush marker downstream, after what was emitted before. */
int sl_emit_flush(struct sl_emit *e);

/**
 * Send progress mark `m` downstream, after what was emitted before (the
 * step's jobs included): once every step that holds records back has
 * committed the records before it (sl_step_ops.mark) and the mark has
 * left the last step, `m->ack` runs on the loop thread; if the run fails
 * or stops first, `m->drop` does (see struct sl_mark). An extractor
 * emits one after a position it can resume from, to learn when that
 * position is safe to record (a checkpoint) or to acknowledge (a stream).
 * Not from a job. Returns 0, or -1 as sl_emit() (the mark was dropped).
 */
int sl_emit_mark(struct sl_emit *e, struct sl_mark *m);

/**
 * Set the origin ("file:line") of the records emitted next; extractors
 * call it per record. `src` is not copied and must outlive the run. While
 * a step's `process` runs, the origin is that of its input record, so
 * records derived from it keep it.
 */
void sl_emit_set_origin(struct sl_emit *e, const char *src, uint64_t line);

/** The origin of the records emitted next (in `process`: the input's). */
const struct sl_origin *sl_emit_origin(const struct sl_emit *e);

/**
 * For `return sl_emit_fail(out);` after processing a record failed: the
 * error is prefixed with the record's origin ("data.csv:12: ..."), unless
 * it is a stop (SL_EDROPPED, SL_ECANCELLED, SL_EABORTED). Returns -1.
 */
int sl_emit_fail(const struct sl_emit *e);

/** The step that emits through `e`. */
struct sl_step *sl_emit_step(struct sl_emit *e);

/**
 * A job for sl_emit_job(): runs on a worker thread and emits through
 * `out`, which collects its records (sl_emit_arena(), sl_emit(),
 * sl_emit_set_origin(); not sl_emit_batch()). Its sl_step_skip() and
 * sl_step_error() calls are kept and reported on the loop thread in
 * order. It must touch nothing the loop thread or other jobs change.
 * Returns 0, or -1 with an error: the step's failure, reported once the
 * output of the jobs before it (and its own, up to the failure) went on.
 */
typedef int (*sl_emit_job_fn)(void *arg, struct sl_emit *out);

/**
 * Whether the run has worker threads `e`'s step may give jobs to with
 * sl_emit_job() (a run with more than one thread; see sluice/pipeline.h).
 */
bool sl_emit_parallel(const struct sl_emit *e);

/**
 * Run `fn(arg, out)` on a worker thread (only when sl_emit_parallel()).
 * Its records go on after everything emitted through `e` before, and
 * before anything emitted after (a direct sl_emit() first waits for the
 * jobs). At most 2 x threads jobs run at once: the call may wait for the
 * oldest, sending its output on. `release(arg)` (if not NULL) runs on the
 * loop thread once the job's output went on or was dropped, and also
 * when this call fails. Returns 0, or -1: a job failed (its error), the
 * output could not go on (SL_EDROPPED, SL_ECANCELLED, ...), or no job
 * could be posted; then every job still running was stopped and dropped.
 */
int sl_emit_job(struct sl_emit *e, sl_emit_job_fn fn, void *arg,
                void (*release)(void *arg));

/**
 * Wait for every job given to `e` and send their output on. The runner
 * does this after drain(); a step that must see its jobs through first
 * (before closing what they read) calls it. 0, or -1 as sl_emit_job().
 */
int sl_emit_jobs_wait(struct sl_emit *e);

/**
 * In a job: whether the run asked the jobs to stop (a failure or a stop):
 * the job may return 0 at once, its output is dropped anyway.
 */
bool sl_emit_job_stopped(const struct sl_emit *e);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_STEP_H */
