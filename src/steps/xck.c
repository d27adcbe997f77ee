/*
 * sluice: an extractor's side of checkpoints (xck.h).
 */
#include "xck.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/log.h"
#include "sluice/task.h"

/** Progress marks in flight at most (more are not emitted, not waited). */
#define XCK_MARKS 4

/** A progress mark of an extractor. */
struct xck_mark {
	/** The mark (its `pos` is `text`). */
	struct sl_mark m;
	/** The state it belongs to. */
	struct xck *k;
	/** Its sequence number. */
	uint64_t seq;
	/** Whether it is in flight. */
	bool busy;
	/** Its position. */
	struct sl_ckpt_pos pos;
	/** Its position's text. */
	char text[SL_CKPT_TEXT_MAX + 1];
};

static void save(struct xck *k);

/**
 * struct sl_mark.ack: the records before the mark are committed. Saved
 * by the extractor's task while it reads; once it has ended, here, in the
 * task the mark left the pipeline from.
 */
static void
mark_ack(struct sl_mark *m)
{
	struct xck_mark *x = (struct xck_mark *)m;
	struct xck *k = x->k;
	x->busy = false;
	if (x->seq > k->acked_seq) {
		k->acked = x->pos;
		k->acked_seq = x->seq;
		memcpy(k->c->unsaved, x->text, sizeof(k->c->unsaved));
	}
	if (k->ended)
		save(k);
}

/** struct sl_mark.drop: the mark did not get through. */
static void
mark_drop(struct sl_mark *m)
{
	((struct xck_mark *)m)->busy = false;
}

int
xck_attach(struct xck *k, struct sl_step *s, struct sl_checkpoint *c)
{
	if (k->marks == NULL &&
	    (k->marks = sl_calloc(XCK_MARKS + 1, sizeof(*k->marks))) == NULL) {
		sl_diag_set(SL_EOOM, "out of memory");
		return -1;
	}
	for (int i = 0; i <= XCK_MARKS; i++) {
		k->marks[i].m = (struct sl_mark){mark_ack, mark_drop, NULL};
		k->marks[i].k = k;
	}
	sl_buf_create(&k->text, SL_CKPT_TEXT_MAX);
	k->step = s;
	k->c = c;
	return 0;
}

void
xck_destroy(struct xck *k)
{
	sl_free(k->marks);
	k->marks = NULL;
	sl_buf_destroy(&k->text);
}

int
xck_begin(struct xck *k, uint64_t n)
{
	if (!xck_on(k))
		return 0;
	k->last_mark = sl_clock();
	if (sl_checkpoint_settle(k->c) != 0)
		return -1;
	const struct sl_ckpt_pos *at = sl_checkpoint_resume_at(k->c);
	if (at == NULL && k->c->resume &&
	    (k->c->target_done || k->c->from.done)) {
		/* Killed between its last commit and deleting the checkpoint,
		 * or stopped after it: nothing is left to do. */
		sl_log_info("step %s: the run of the checkpoint had finished "
		            "writing; nothing is left to read",
		            k->step->name);
		k->resume = (struct sl_ckpt_pos){.input = UINT64_MAX};
		k->resuming = true;
		return 0;
	}
	if (at == NULL)
		return 0;
	if (n != UINT64_MAX &&
	    (at->input > n || (at->input == n && at->name[0] != '\0'))) {
		sl_diag_set(SL_EINVAL,
		            "step %s: the checkpoint was made at input %" PRIu64
		            " ('%s'), and there are %" PRIu64
		            " inputs now: the inputs changed since (run with "
		            "--from-start to start over)",
		            k->step->name, at->input, at->name, n);
		return -1;
	}
	k->resume = *at;
	k->resuming = true;
	if (at->name[0] != '\0' && at->line == SL_CKPT_LINE_END)
		sl_log_info("step %s: resuming from a checkpoint: after %s",
		            k->step->name, at->name);
	else if (at->name[0] != '\0')
		sl_log_info("step %s: resuming from a checkpoint: %s, after "
		            "line %" PRIu64,
		            k->step->name, at->name, at->line);
	else
		sl_log_info("step %s: resuming from a checkpoint: at the "
		            "input after %" PRIu64 " (in reading order)",
		            k->step->name, at->input);
	return 0;
}

/** The input to resume in is not among the inputs any more. Returns -1. */
static int
input_gone(const struct xck *k)
{
	sl_diag_set(SL_EINVAL,
	            "step %s: the checkpoint was made at input %" PRIu64
	            ", '%s', which is not among the inputs now: the inputs "
	            "changed since (run with --from-start to start over)",
	            k->step->name, k->resume.input, k->resume.name);
	return -1;
}

int
xck_input(struct xck *k, uint64_t i, const char *name)
{
	if (k == NULL)
		return 1;
	k->input = i;
	k->input_name = name;
	k->skip_line = 0;
	if (!k->resuming)
		return 1;
	if (i < k->resume.input)
		return 0;
	k->resuming = false;
	if (i > k->resume.input && k->resume.name[0] != '\0') {
		return input_gone(k);
	}
	if (i > k->resume.input)
		return 1;
	if (k->resume.name[0] != '\0' && strcmp(name, k->resume.name) != 0) {
		sl_diag_set(
		        SL_EINVAL,
		        "step %s: the checkpoint was made when input %" PRIu64
		        " was '%s', and it is '%s' now: the inputs changed "
		        "since (run with --from-start to start over)",
		        k->step->name, i, k->resume.name, name);
		return -1;
	}
	if (k->resume.line == SL_CKPT_LINE_END)
		return 0; /* all of it was done */
	k->skip_line = k->resume.line;
	return 1;
}

/**
 * Save the newest acknowledged position, if not saved yet. A failure is
 * logged (once until a save works again), not fatal: the next save tries
 * again, and a resumed run starts from the last one saved.
 */
static void
save(struct xck *k)
{
	if (k->acked_seq <= k->saved_seq)
		return;
	struct sl_checkpoint *c = k->c;
	if (sl_ckpt_format(&k->acked, &k->text) == 0 &&
	    c->save(c->save_arg, k->text.data, k->text.len) == 0) {
		k->saved_seq = k->acked_seq;
		c->saved++;
		c->unsaved[0] = '\0';
		k->save_failed = false;
		return;
	}
	if (!k->save_failed) {
		char msg[600];
		sl_error_format(sl_diag_last(), msg, sizeof(msg));
		sl_log_warn("step %s: saving a checkpoint: %s", k->step->name,
		            msg);
	}
	sl_diag_clear(sl_diag_get());
	k->save_failed = true;
}

/**
 * Emit a progress mark at position `pos` (its run is filled in) if one is
 * free; then save what was acknowledged. 0, or -1 (the output failed).
 */
static int
mark(struct xck *k, struct sl_emit *out, struct sl_ckpt_pos *pos)
{
	/* The last mark has a slot of its own: it always goes. */
	struct xck_mark *x = pos->done ? &k->marks[XCK_MARKS] : NULL;
	for (int i = 0; i < XCK_MARKS && x == NULL; i++)
		if (!k->marks[i].busy)
			x = &k->marks[i];
	if (x != NULL) {
		memcpy(pos->run, k->c->run, sizeof(pos->run));
		if (sl_ckpt_format(pos, &k->text) != 0)
			return -1;
		memcpy(x->text, k->text.data, k->text.len + 1);
		x->pos = *pos;
		x->seq = ++k->mark_seq;
		x->busy = true;
		x->m.pos = x->text;
		k->last_mark = sl_clock();
		if (sl_emit_mark(out, &x->m) != 0)
			return -1;
	}
	save(k);
	return 0;
}

int
xck_tick(struct xck *k, struct sl_emit *out, uint64_t line)
{
	if (!xck_on(k))
		return 0;
	if (sl_clock() - k->last_mark < k->c->interval) {
		save(k);
		return 0;
	}
	struct sl_ckpt_pos pos = {.input = k->input, .line = line};
	snprintf(pos.name, sizeof(pos.name), "%s", k->input_name);
	return mark(k, out, &pos);
}

int
xck_input_done(struct xck *k, struct sl_emit *out, uint64_t i)
{
	if (!xck_on(k) || sl_clock() - k->last_mark < k->c->interval)
		return 0;
	struct sl_ckpt_pos pos = {.input = i, .line = SL_CKPT_LINE_END};
	snprintf(pos.name, sizeof(pos.name), "%s", k->input_name);
	return mark(k, out, &pos);
}

int
xck_end(struct xck *k, struct sl_emit *out)
{
	if (!xck_on(k))
		return 0;
	if (k->resuming && k->resume.input != UINT64_MAX &&
	    k->resume.name[0] != '\0') {
		return input_gone(k);
	}
	struct sl_ckpt_pos end = {.done = true};
	int rc = mark(k, out, &end);
	k->ended = true;
	return rc;
}
