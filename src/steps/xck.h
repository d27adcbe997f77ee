/*
 * sluice: an extractor's side of checkpoints (internal to the steps; see
 * sluice/checkpoint.h).
 *
 * An extractor that checkpoints embeds a struct xck, reads its inputs in a
 * fixed order and tells it where it is: xck_input() as each input starts
 * (which says whether an earlier run did that input already), xck_tick()
 * between records (a progress mark at most every interval), and
 * xck_input_done() and xck_end() at the end of an input and of all of
 * them. On resume, the lines of the input where the earlier run stopped
 * that it did are left out by the reader (xck_skip_line()). Marks are
 * acknowledged on the loop thread once the writes before them are
 * committed, and the newest acknowledged position is saved between
 * records, from the extractor's task.
 */
#ifndef SLUICE_STEPS_XCK_H
#define SLUICE_STEPS_XCK_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/checkpoint.h"
#include "sluice/step.h"

struct xck_mark;

/** An extractor's checkpoint state (zero it, then xck_attach()). */
struct xck {
	/** The step, for messages. */
	struct sl_step *step;
	/** The run's checkpointing, or NULL: not checkpointing. */
	struct sl_checkpoint *c;
	/** Progress marks, a few in flight at once, and the last one. */
	struct xck_mark *marks;
	/** Where reading resumes (while `resuming`). */
	struct sl_ckpt_pos resume;
	/** Whether inputs and lines before `resume` are still left out. */
	bool resuming;
	/** Lines of the current input left out (done by an earlier run). */
	uint64_t skip_line;
	/** The input being read: its index in reading order. */
	uint64_t input;
	/** Its name (alive while it is read). */
	const char *input_name;
	/** The newest acknowledged position (`acked_seq` > 0). */
	struct sl_ckpt_pos acked;
	/** Marks emitted. */
	uint64_t mark_seq;
	/** The newest mark acknowledged. */
	uint64_t acked_seq;
	/** The newest mark saved. */
	uint64_t saved_seq;
	/** sl_clock() when the last mark was emitted. */
	double last_mark;
	/** Whether the last save failed (its warning is logged once). */
	bool save_failed;
	/** Whether the extractor has ended (acknowledgements save). */
	bool ended;
	/** Text of the position being saved. */
	struct sl_buf text;
};

/** Take part in checkpointing `c` (sl_step_ops.checkpoint). 0, or -1. */
int xck_attach(struct xck *k, struct sl_step *s, struct sl_checkpoint *c);

/** Free what `k` holds (a zeroed one too). */
void xck_destroy(struct xck *k);

/** Whether `k` checkpoints (NULL: no). */
static inline bool
xck_on(const struct xck *k)
{
	return k != NULL && k->c != NULL;
}

/**
 * Before reading, once every step started: settle the run and, when
 * resuming, leave out what the earlier run did of `n` inputs (n may be
 * unknown: UINT64_MAX). 0, or -1 when the checkpoint does not fit.
 */
int xck_begin(struct xck *k, uint64_t n);

/**
 * Input `i` (reading order), named `name`, is next: 1 to read it, 0 to
 * leave it out (an earlier run did it), -1 when the checkpoint does not
 * fit the inputs.
 */
int xck_input(struct xck *k, uint64_t i, const char *name);

/** Lines of the current input an earlier run did (0: none; NULL k: 0). */
static inline uint64_t
xck_skip_line(const struct xck *k)
{
	return k != NULL ? k->skip_line : 0;
}

/** The lines an earlier run did are behind (NULL k: nothing). */
static inline void
xck_skipped(struct xck *k)
{
	if (k != NULL)
		k->skip_line = 0;
}

/**
 * Between records, after line (or record) `line` of the current input: a
 * mark if the interval passed, and a save of what was acknowledged. NULL
 * k: nothing. 0, or -1 (the output failed).
 */
int xck_tick(struct xck *k, struct sl_emit *out, uint64_t line);

/**
 * The end of input `i` (the current one): a mark after all of it
 * (SL_CKPT_LINE_END) if the interval passed. 0, or -1.
 */
int xck_input_done(struct xck *k, struct sl_emit *out, uint64_t i);

/**
 * Whether input `i` was done by the earlier run being resumed (it comes
 * before the position resumed from), without reading it.
 */
static inline bool
xck_before(const struct xck *k, uint64_t i)
{
	return k != NULL && k->resuming && i < k->resume.input;
}

/**
 * Every input read: the last mark, which writers commit with the last
 * writes, so that a checkpoint of this run left behind is known to be
 * stale. 0, or -1.
 */
int xck_end(struct xck *k, struct sl_emit *out);

#endif
