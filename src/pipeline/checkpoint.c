/*
 * Checkpoint positions (sluice/checkpoint.h).
 */
#include "sluice/checkpoint.h"

#include <inttypes.h>
#include <string.h>
#include <sys/random.h>

#include "sluice/arena.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "sluice/value.h"

int
sl_ckpt_format(const struct sl_ckpt_pos *p, struct sl_buf *out)
{
	sl_buf_reset(out);
	if (p->done)
		return sl_buf_printf(out, "{\"run\":\"%s\",\"done\":true}",
		                     p->run);
	size_t n = strnlen(p->name, sizeof(p->name));
	if (n >= sizeof(p->name)) {
		sl_diag_set(SL_ELIMIT,
		            "checkpoint: an input name is longer "
		            "than %d bytes",
		            SL_CKPT_NAME_MAX - 1);
		return -1;
	}
	if (sl_buf_printf(out,
	                  "{\"run\":\"%s\",\"input\":%" PRIu64 ",\"name\":",
	                  p->run, p->input) != 0 ||
	    sl_json_write_ascii(out, p->name, n) != 0 ||
	    sl_buf_printf(out, ",\"line\":%" PRIu64 "}", p->line) != 0)
		return -1;
	return 0;
}

/** A member of `obj` that must be a non-negative integer. 0, or -1. */
static int
get_count(const struct sl_value *obj, const char *key, const char *what,
          uint64_t *out)
{
	const struct sl_value *m = sl_object_get_cstr(obj, key);
	struct sl_value n = m != NULL ? sl_value_number(*m) : sl_null();
	const struct sl_value *v = &n;
	if (v->type != SL_VINT || v->u.i < 0) {
		sl_diag_set(SL_EPARSE,
		            "%s: expected \"%s\" to be a count (a non-negative "
		            "integer)",
		            what, key);
		return -1;
	}
	*out = (uint64_t)v->u.i;
	return 0;
}

int
sl_ckpt_parse(const char *text, size_t len, const char *what,
              struct sl_ckpt_pos *p)
{
	memset(p, 0, sizeof(*p));
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value v;
	int rc = -1;
	if (len > SL_CKPT_TEXT_MAX) {
		sl_diag_set(SL_EPARSE,
		            "%s: %zu bytes, more than a position takes (%d); "
		            "expected a sluice checkpoint",
		            what, len, SL_CKPT_TEXT_MAX);
		goto out;
	}
	if (sl_json_parse(text, len, &a, NULL, what, &v) != 0) {
		sl_diag_wrap(SL_EPARSE, "expected a sluice checkpoint");
		goto out;
	}
	if (v.type != SL_VOBJECT) {
		sl_diag_set(SL_EPARSE,
		            "%s: expected a JSON object (a sluice checkpoint)",
		            what);
		goto out;
	}
	const struct sl_value *run = sl_object_get_cstr(&v, "run");
	bool hex = run != NULL && run->type == SL_VSTR && run->len == 32;
	for (uint32_t i = 0; hex && i < 32; i++)
		hex = strchr("0123456789abcdef", run->u.s[i]) != NULL &&
		      run->u.s[i] != '\0';
	if (!hex) {
		sl_diag_set(SL_EPARSE,
		            "%s: expected \"run\" to be 32 hex digits", what);
		goto out;
	}
	memcpy(p->run, run->u.s, 32);
	p->run[32] = '\0';
	const struct sl_value *done = sl_object_get_cstr(&v, "done");
	if (done != NULL && done->type == SL_VBOOL && done->u.b) {
		p->done = true;
		rc = 0;
		goto out;
	}
	if (get_count(&v, "input", what, &p->input) != 0 ||
	    get_count(&v, "line", what, &p->line) != 0)
		goto out;
	const struct sl_value *name = sl_object_get_cstr(&v, "name");
	if (name == NULL || name->type != SL_VSTR ||
	    name->len >= sizeof(p->name) ||
	    memchr(name->u.s, '\0', name->len) != NULL) {
		sl_diag_set(SL_EPARSE,
		            "%s: expected \"name\" to be an input's name (text "
		            "under %d bytes)",
		            what, SL_CKPT_NAME_MAX);
		goto out;
	}
	memcpy(p->name, name->u.s, name->len);
	p->name[name->len] = '\0';
	rc = 0;
out:
	sl_arena_destroy(&a);
	return rc;
}

bool
sl_ckpt_before(const struct sl_ckpt_pos *a, const struct sl_ckpt_pos *b)
{
	return a->input < b->input ||
	       (a->input == b->input && a->line < b->line);
}

int
sl_ckpt_new_run(char run[33])
{
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		sl_diag_set(SL_EIO, "checkpoint: no random bytes for a run "
		                    "identity");
		return -1;
	}
	for (int i = 0; i < 16; i++) {
		run[2 * i] = "0123456789abcdef"[r[i] >> 4];
		run[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	run[32] = '\0';
	return 0;
}

void
sl_checkpoint_target(struct sl_checkpoint *c, const struct sl_ckpt_pos *p)
{
	if (p != NULL && !c->resume && !c->fresh && !p->done &&
	    (c->adopt[0] == '\0' || strcmp(p->run, c->adopt) == 0)) {
		/* No checkpoint in the object store: a run killed before
		 * its first save. */
		memcpy(c->adopt, p->run, sizeof(c->adopt));
		if (!c->have_target || sl_ckpt_before(p, &c->target))
			c->target = *p;
		c->have_target = true;
		return;
	}
	if (p == NULL || strcmp(p->run, c->run) != 0) {
		c->untracked++;
		return;
	}
	if (p->done) {
		c->target_done = true;
		return;
	}
	if (!c->have_target || sl_ckpt_before(p, &c->target)) {
		c->target = *p;
		c->have_target = true;
	}
}

int
sl_checkpoint_settle(struct sl_checkpoint *c)
{
	if (c->resume)
		return 0;
	if (c->adopt[0] == '\0')
		return sl_ckpt_new_run(c->run);
	memcpy(c->run, c->adopt, sizeof(c->run));
	/* From the start, unless every target holds a position. */
	memset(&c->from, 0, sizeof(c->from));
	memcpy(c->from.run, c->run, sizeof(c->run));
	c->resume = true;
	return 0;
}

const struct sl_ckpt_pos *
sl_checkpoint_resume_at(const struct sl_checkpoint *c)
{
	if (!c->resume || c->target_done || c->from.done)
		return NULL;
	if (c->untracked > 0 && c->from.input == 0 && c->from.line == 0)
		return NULL;
	if (c->have_target && c->untracked == 0 &&
	    sl_ckpt_before(&c->from, &c->target))
		return &c->target;
	return &c->from;
}
