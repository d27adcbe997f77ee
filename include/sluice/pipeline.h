/*
 * sluice: the pipeline runner.
 *
 * A pipeline is a chain of steps (sluice/step.h). sl_pipeline_run() runs
 * each step as a task; consecutive steps are joined by bounded outboxes of
 * record batches. Then:
 *
 * - Every step's start runs first, concurrently. If one fails, no record
 *   is read, every step's finish runs, and the run fails with that error.
 * - The first step's drain produces the records (it has no input); each
 *   later step processes its input, then drains when its input has ended.
 * - A step that fails while processing or draining stops: its input is
 *   dropped, so the steps before it stop at their next emit, and its
 *   output is closed, so the steps after it drain and finish (a writer
 *   flushes what it received). The run fails with the first fatal error.
 * - A stop request (sl_pipeline_stop(), e.g. on SIGINT) cancels the first
 *   step; the others drain and finish as on a normal end. A forced stop
 *   aborts every outbox and cancels every step.
 *
 * Every step's finish runs exactly once in every case.
 *
 * Details (src/pipeline/pipeline.c):
 *
 * - Steps run as tasks named "<index>:<type>". A start barrier waits for
 *   every start; a start that can never end is caught by the loop's
 *   deadlock detection. A start error reads "step 1:Print failed in
 *   start: ...".
 * - An outbox holds `outbox_records` rounded up to whole batches. A batch
 *   is sent when full or when its arena passes `batch_bytes`, so the
 *   records in flight between two steps are bounded by (outbox batches +
 *   2) x batch size. A step without process forwards whole batches (no
 *   copy); the last step's batches go straight back to the pool. Flush
 *   markers pass through steps that have only process.
 * - A failing step keeps its error with the order it happened in, sends
 *   on what it emitted before the failure, drops its input (the step
 *   before fails its next send with SL_EDROPPED, which counts as a stop,
 *   not a failure, and so on up to the extractor), runs finish, and closes
 *   its output. The run's error is the first failure in time; a failing
 *   finish (a lost final flush) is fatal too.
 * - A graceful stop cancels the first step's task: its wait fails with
 *   SL_ECANCELLED, which counts as a stop; sl_task_uncancel() lets it run
 *   finish and send its partial batch, so every record extracted reaches
 *   the last step. sl_emit() checks cancellation before each send, so an
 *   extractor that never waits still stops. The forced stop (a second
 *   signal under catch_signals) aborts every outbox and cancels every
 *   task, interrupting a slow finish; the CLI then exits 128 + signal.
 *
 * Threads: with `threads` above 1, each step that offers `replicate`
 * (the Interpreter) and is not the first runs `process` on the run's
 * worker threads (one sl_worker of `threads` - 1 threads, made for the
 * run when such a step exists, and the loop thread, which runs queued
 * jobs whenever its tasks wait: sl_worker_help()), while the loop thread
 * keeps reading and writing:
 *
 * - The step's task takes an input batch and posts it as a job to a free
 *   slot: 2 x threads slots, each with its own replica of the step, its
 *   own emitter (which collects full batches instead of sending them) and
 *   its own list of skips and errors (sl_step_events). The input batch
 *   waits in its slot until the job's output has been sent on.
 * - Jobs end in any order; the task sends their output on strictly in
 *   input order: the head slot's skips and errors are counted and logged
 *   as the step's own (sl_step_events_replay()), then its batches are
 *   sent on. A flush marker takes a slot of its own and goes on in order.
 *   So the next step sees the same records in the same order, with the
 *   same origins, as with one thread; the logs and the summary are the
 *   same too.
 * - When no input is waiting, the task first sends on what its jobs have
 *   made, so a slow source does not hold records back.
 * - A job whose `process` fails stops at that record, like the loop
 *   would; when it reaches the head, its output before the failure is
 *   sent on and the step fails with its error. Jobs still running are
 *   told to stop and their output is dropped, as records after a failure
 *   are never processed with one thread. A stop or a dropped output waits
 *   for the running jobs the same way.
 * - The batch pool is shared with the threads (sl_batch_pool_share()).
 *   Records in flight grow by at most 2 x threads batches per such step.
 * - Each outbox holds at least SL_OUTBOX_BATCHES_PER_THREAD x threads
 *   batches (two full rings of jobs' output), whatever `outbox_records`
 *   says: with fewer, the jobs wait for room, the threads sleep and wake
 *   more often, and they cannot work ahead while the loop thread merges.
 */
#ifndef SLUICE_PIPELINE_H
#define SLUICE_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/batch.h"
#include "sluice/step.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Batches each step's outbox holds by default. Nodestream's default is
 * 1000 records; a deeper outbox holds more memory that a run touches
 * first, which costs time here (docs/performance.md, "Outboxes of 256
 * records").
 */
#define SL_OUTBOX_BATCHES_DEFAULT 2

/**
 * With threads, the fewest batches an outbox holds per thread: two full
 * rings of the job slots' output (2 x threads slots each), so that the
 * threads can work a ring ahead while the loop thread merges
 * (docs/performance.md, "Deeper outboxes with threads").
 */
#define SL_OUTBOX_BATCHES_PER_THREAD 4

/** Runner options; start from sl_pipeline_opts_init(). */
struct sl_pipeline_opts {
	/**
	 * Records per batch; 0 (the default): SL_BATCH_SIZE_ONE_THREAD with
	 * one thread, SL_BATCH_SIZE_DEFAULT with more
	 * (sl_pipeline_batch_size()).
	 */
	uint32_t batch_size;
	/**
	 * Capacity of each step's outbox in records, rounded up to whole
	 * batches; 0 (the default): SL_OUTBOX_BATCHES_DEFAULT batches. With
	 * `threads` above 1, at least SL_OUTBOX_BATCHES_PER_THREAD x threads
	 * batches ("Threads").
	 */
	uint32_t outbox_records;
	/**
	 * A batch is sent on early once its arena holds this many bytes
	 * (default 4 MiB), so large records do not pile up.
	 */
	size_t batch_bytes;
	/** Hard cap on one batch's arena (default SL_RECORD_MEM_MAX). */
	size_t arena_cap;
	/** Catch SIGINT and SIGTERM during the run (default false). */
	bool catch_signals;
	/**
	 * Threads that run steps offering `replicate` (default 1: every step
	 * runs on the loop thread; at most SL_PIPELINE_THREADS_MAX). See
	 * "Threads" above.
	 */
	uint32_t threads;
};

/** Most threads of a run. */
#define SL_PIPELINE_THREADS_MAX 64

/** The number of processors this process may run on (at least 1). */
uint32_t sl_pipeline_cores(void);

/** Fill `o` with the defaults. */
void sl_pipeline_opts_init(struct sl_pipeline_opts *o);

/** The records per batch a run with options `o` uses. */
uint32_t sl_pipeline_batch_size(const struct sl_pipeline_opts *o);

/** An opaque pipeline. */
struct sl_pipeline;

/** A new empty pipeline (`opts` may be NULL). NULL with SL_EOOM/EINVAL. */
struct sl_pipeline *sl_pipeline_new(const struct sl_pipeline_opts *opts);

/** Free the pipeline and its steps. Must not be running. */
void sl_pipeline_delete(struct sl_pipeline *p);

/**
 * Append a step; the pipeline owns it from now on, even on failure
 * (then the step is deleted). 0, or -1 with SL_EOOM.
 */
int sl_pipeline_add(struct sl_pipeline *p, struct sl_step *s);

/** Number of steps. */
uint32_t sl_pipeline_step_count(const struct sl_pipeline *p);

/** Step `i` (0-based; must exist). */
struct sl_step *sl_pipeline_step(struct sl_pipeline *p, uint32_t i);

/**
 * Run the pipeline to its end, from a task. Returns 0, or -1 with the
 * first fatal error in the diag (its message names the step). A run that
 * was stopped by request but had no error returns 0; see
 * sl_pipeline_stopped_by().
 */
int sl_pipeline_run(struct sl_pipeline *p);

/**
 * Ask a running pipeline to stop: gracefully (the extractor stops, the
 * rest drains and finishes) or, if `force`, at once. `signum` records why
 * (0 if not for a signal). May be called from any task of the loop.
 */
void sl_pipeline_stop(struct sl_pipeline *p, bool force, int signum);

/** The signal that stopped the run (0 if none). */
int sl_pipeline_stopped_by(const struct sl_pipeline *p);

/** Whether a stop was forced. */
bool sl_pipeline_forced(const struct sl_pipeline *p);

/** Records the last step emitted so far (safe to read during a run). */
uint64_t sl_pipeline_records_out(const struct sl_pipeline *p);

/** Seconds since the run started (or its total once it ended). */
double sl_pipeline_elapsed(const struct sl_pipeline *p);

/**
 * Write the counts of the pipeline running in this process (records in,
 * out, errors and skipped per step) to `fd`, for a crash report: only
 * async-signal-safe calls, so a fatal signal's handler may call it.
 * Nothing if no pipeline is running.
 */
void sl_pipeline_crash_report(int fd);

/** What the outbox after one step holds (sl_pipeline_outbox()). */
struct sl_pipeline_outbox {
	/** Batches buffered (data, flush markers and progress marks). */
	uint64_t batches;
	/** Records in the buffered data batches. */
	uint64_t records;
	/** Batches it can buffer before its sender waits. */
	uint64_t capacity;
};

/**
 * Read the outbox between step `i` and step `i + 1` into *out: only
 * during a run and for a step that has a next one (else false). Call
 * from the thread running the pipeline (a task of its loop); it walks
 * the buffered batches, so it is for metrics, not for a hot path.
 */
bool sl_pipeline_outbox(const struct sl_pipeline *p, uint32_t i,
                        struct sl_pipeline_outbox *out);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_PIPELINE_H */
