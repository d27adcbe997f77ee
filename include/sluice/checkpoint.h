/*
 * sluice: checkpoints, what a run shares between its extractor, its graph
 * writers and the command that keeps the checkpoint in an object store.
 *
 * A checkpointing extractor (sl_step_ops.checkpoint) emits progress marks
 * (sl_emit_mark()) carrying its position as text, at most every
 * `interval` seconds. A graph writer commits the writes of the records
 * before a mark together with that text, in one transaction, in a table
 * of its target (a target that can: SQLite); when the mark has passed
 * every step, the extractor hands the text to `save`, which puts it in
 * the object store. A run started again with the checkpoint resumes at
 * the latest of the object store's position and the positions its
 * targets committed for the same run (they may be ahead: the store is
 * written after the commit), so nothing is lost and, for a target that
 * holds positions, nothing is written twice.
 *
 * Position text, one JSON object:
 *   {"run":"<32 hex>","input":I,"name":"<input I's name>","line":L}
 * the records of inputs before I, and those of input I up to line or
 * record number L, are done (L = SL_CKPT_LINE_END: all of input I); or
 * {"run":"...","done":true} once a run has ended (then a checkpoint of that run
 * left behind is stale).
 */
#ifndef SLUICE_CHECKPOINT_H
#define SLUICE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** `line` of a position after the whole of its input: the input is done. */
#define SL_CKPT_LINE_END ((uint64_t)INT64_MAX)

/** Most bytes of an input's name in a position. */
#define SL_CKPT_NAME_MAX 1024

/** Most bytes of a position's text. */
#define SL_CKPT_TEXT_MAX 2048

/** An extractor's position, as in the header comment. */
struct sl_ckpt_pos {
	/** The run it belongs to: 32 hex digits and a NUL. */
	char run[33];
	/** The run ended (the other fields are unused). */
	bool done;
	/** The input being read: its index in the extractor's order. */
	uint64_t input;
	/** Lines or records of that input done (0: none). */
	uint64_t line;
	/** That input's name, to check the inputs are the same. */
	char name[SL_CKPT_NAME_MAX];
};

/**
 * Write `p` as position text into `out` (reset first). 0, or -1 with
 * SL_ELIMIT (a name too long) or SL_EOOM.
 */
int sl_ckpt_format(const struct sl_ckpt_pos *p, struct sl_buf *out);

/**
 * Read position text `text` (`len` bytes; `what` names it in messages,
 * e.g. "the checkpoint in local store /x"). 0, or -1 with SL_EPARSE
 * saying what was expected.
 */
int sl_ckpt_parse(const char *text, size_t len, const char *what,
                  struct sl_ckpt_pos *p);

/** Whether position `a` is before `b` (same run assumed). */
bool sl_ckpt_before(const struct sl_ckpt_pos *a, const struct sl_ckpt_pos *b);

/** Fill `run` (33 bytes) with a new random run identity. 0, or -1. */
int sl_ckpt_new_run(char run[33]);

/**
 * A run's checkpointing: made by the command, given to the extractor
 * (sl_step_ops.checkpoint) and the graph writers, alive for the run.
 */
struct sl_checkpoint {
	/**
	 * The run's identity: the resumed run's, from the object store's
	 * checkpoint; else empty until sl_checkpoint_settle() adopts the
	 * unfinished run a target holds a position of, or makes a new one.
	 */
	char run[33];
	/**
	 * Key under which targets keep this extractor's position: the
	 * object store namespace and the extractor's step index.
	 */
	char key[512];
	/** Resume from `from` (else start at the beginning). */
	bool resume;
	/** Start a new run whatever the targets hold (--from-start). */
	bool fresh;
	/** The object store's position (when `resume`). */
	struct sl_ckpt_pos from;
	/** Seconds between progress marks (> 0). */
	double interval;
	/**
	 * Keep position text `text` (`len` bytes): called from the
	 * extractor's task once the writes of the records before it are
	 * committed. 0, or -1 with an error (the run goes on; the next
	 * save tries again).
	 */
	int (*save)(void *arg, const char *text, size_t len);
	/** Argument of `save`. */
	void *save_arg;
	/**
	 * Set by writers in start(): the earliest position a target holds
	 * for this run (`have_target`), and how many writers' targets hold
	 * none (so the object store's position is all there is for them).
	 */
	bool have_target;
	/** See `have_target`. */
	struct sl_ckpt_pos target;
	/** Writers whose target holds no position of this run. */
	uint32_t untracked;
	/** A writer's target says the resumed run ended: start afresh. */
	bool target_done;
	/**
	 * Without a checkpoint in the object store: the unfinished run a
	 * target holds a position of (a run killed before its first save),
	 * and whether there is one.
	 */
	char adopt[33];
	/** Checkpoints saved (`save` calls that succeeded). */
	uint64_t saved;
	/**
	 * Text of the newest acknowledged position not saved yet, "" if
	 * none: acknowledgements after the extractor ended (the last mark's
	 * "done" among them) are saved by whoever ends a run that did not
	 * finish, so that a run stopped after its final commit resumes to
	 * nothing instead of starting a new load.
	 */
	char unsaved[SL_CKPT_TEXT_MAX + 1];
};

/**
 * A writer's target holds position `p` (NULL: none): keep the earliest
 * of this run's. A position of another run counts as none; a "done" one
 * of this run means it ended. Called by writers in start().
 */
void sl_checkpoint_target(struct sl_checkpoint *c, const struct sl_ckpt_pos *p);

/**
 * Fix the run's identity once every step started (the extractor calls
 * it): without a checkpoint in the object store, a run a target holds an
 * unfinished position of is resumed; else a new run starts. 0, or -1.
 */
int sl_checkpoint_settle(struct sl_checkpoint *c);

/**
 * Where the extractor resumes: NULL to start at the beginning (nothing to
 * resume), or when `target_done` (the run had written everything: nothing
 * is left to read); else the latest of the object store's position and,
 * when every writer's target holds one, the earliest of theirs. Valid
 * after every step started.
 */
const struct sl_ckpt_pos *
sl_checkpoint_resume_at(const struct sl_checkpoint *c);

#ifdef __cplusplus
}
#endif

#endif
