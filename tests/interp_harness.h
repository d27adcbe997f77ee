/*
 * Running one step over a few records in a real pipeline, for the
 * interpreting tests: an iterable extractor gives the records, the step
 * under test (from a YAML definition written to a temporary pipeline
 * file) processes them, and a capture step writes every output record as
 * canonical JSON, one per line. The automatic properties are left out of
 * the capture, so expectations are exact; when asked, they are kept, with
 * every timestamp shown as "T".
 */
#ifndef SLUICE_TESTS_INTERP_HARNESS_H
#define SLUICE_TESTS_INTERP_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/interp.h"
#include "sluice/json.h"
#include "sluice/pipeline.h"
#include "sluice/pipeline_file.h"
#include "sluice/registry.h"
#include "sluice/steps.h"
#include "unit.h"

/** What a case produced. */
struct hres {
	/** Return code of the run (0, or -1 for a failure). */
	int rc;
	/** Output records, one canonical JSON line each. */
	char out[65536];
	/** The error message of a failure ("" when none). */
	char err[2048];
	/** Records the step under test skipped. */
	uint64_t skipped;
	/** Its first skip message, or "". */
	char skip0[512];
	/** Records it emitted. */
	uint64_t emitted;
};

/** The capture step. */
struct capture {
	/** Common part. */
	struct sl_step base;
	/** Where lines go. */
	struct sl_buf *buf;
	/** Keep the was_ingested_by_ marks. */
	bool marks;
	/** Write ingestions in the short form of harness_describe(). */
	bool describe;
	/** Scratch for filtered copies. */
	struct sl_arena a;
};

/** Whether a property named k[0, n) is one of the automatic ones. */
static inline bool
harness_hidden(const char *k, uint32_t n)
{
	return (n >= 13 && memcmp(k, "last_ingested", 13) == 0) ||
	       (n >= 16 && memcmp(k, "was_ingested_by_", 16) == 0);
}

/** Copy `v` without the hidden properties. */
static inline struct sl_value
harness_filter(struct sl_arena *a, const struct sl_value *v, bool marks)
{
	if (v->type == SL_VARRAY) {
		struct sl_value *it = sl_arena_alloc_aligned(
		        a, (v->len + 1) * sizeof(*it), 8);
		for (uint32_t i = 0; i < v->len; i++)
			it[i] = harness_filter(a, &v->u.items[i], marks);
		return sl_array_ref(it, v->len);
	}
	if (v->type != SL_VOBJECT)
		return *v;
	struct sl_member *m =
	        sl_arena_alloc_aligned(a, (v->len + 1) * sizeof(*m), 8);
	uint32_t n = 0;
	for (uint32_t i = 0; i < v->len; i++) {
		const struct sl_member *s = &v->u.members[i];
		if (harness_hidden(s->key, s->key_len)) {
			if (!marks)
				continue;
			/* Timestamps vary: show that they are there. */
			m[n] = *s;
			if (s->val.type == SL_VSTR)
				m[n].val = sl_str_ref("T", 1);
			n++;
			continue;
		}
		m[n] = *s;
		m[n].val = harness_filter(a, &s->val, marks);
		n++;
	}
	return sl_object_ref(m, n);
}

/** Append an object's members as k=v,... (canonical JSON values). */
static inline void
harness_members(struct sl_buf *b, const struct sl_value *obj)
{
	if (obj == NULL || obj->type != SL_VOBJECT)
		return;
	/* Canonical order: write the object, then strip the braces. */
	struct sl_buf t;
	sl_buf_create(&t, 1 << 20);
	sl_json_write(&t, obj, SL_JSON_CANONICAL);
	if (t.len >= 2)
		sl_buf_append(b, t.data + 1, t.len - 2);
	sl_buf_destroy(&t);
}

/** Append a node: Type:Label{key}(props)!RULE (EAGER not shown). */
static inline void
harness_node(struct sl_buf *b, const struct sl_value *n)
{
	const struct sl_value *t = sl_object_get_cstr(n, "type");
	const struct sl_value *l = sl_object_get_cstr(n, "labels");
	const struct sl_value *r = sl_object_get_cstr(n, "rule");
	if (t != NULL && t->type == SL_VSTR)
		sl_buf_append(b, t->u.s, t->len);
	else
		sl_buf_puts(b, "?");
	for (uint32_t i = 0; l != NULL && i < l->len; i++) {
		sl_buf_putc(b, ':');
		sl_buf_append(b, l->u.items[i].u.s, l->u.items[i].len);
	}
	sl_buf_putc(b, '{');
	harness_members(b, sl_object_get_cstr(n, "key"));
	sl_buf_putc(b, '}');
	const struct sl_value *p = sl_object_get_cstr(n, "props");
	if (p != NULL && p->len > 0) {
		sl_buf_putc(b, '(');
		harness_members(b, p);
		sl_buf_putc(b, ')');
	}
	if (r != NULL && !(r->len == 5 && memcmp(r->u.s, "EAGER", 5) == 0)) {
		sl_buf_putc(b, '!');
		sl_buf_append(b, r->u.s, r->len);
	}
}

/**
 * The short form of an ingestion: the source node, then per relationship
 * " -[TYPE{key}(props)]-> NODE" (or " <-[...]- NODE" when inbound), with
 * "!RULE" after a non-EAGER rule.
 */
static inline void
harness_describe(struct sl_buf *b, const struct sl_value *ing)
{
	harness_node(b, sl_object_get_cstr(ing, "source"));
	const struct sl_value *rels = sl_object_get_cstr(ing, "rels");
	for (uint32_t i = 0; rels != NULL && i < rels->len; i++) {
		const struct sl_value *r = &rels->u.items[i];
		const struct sl_value *out = sl_object_get_cstr(r, "outbound");
		bool ob = out != NULL && out->type == SL_VBOOL && out->u.b;
		sl_buf_puts(b, ob ? " -[" : " <-[");
		const struct sl_value *t = sl_object_get_cstr(r, "type");
		if (t != NULL && t->type == SL_VSTR)
			sl_buf_append(b, t->u.s, t->len);
		const struct sl_value *k = sl_object_get_cstr(r, "key");
		if (k != NULL && k->len > 0) {
			sl_buf_putc(b, '{');
			harness_members(b, k);
			sl_buf_putc(b, '}');
		}
		const struct sl_value *p = sl_object_get_cstr(r, "props");
		if (p != NULL && p->len > 0) {
			sl_buf_putc(b, '(');
			harness_members(b, p);
			sl_buf_putc(b, ')');
		}
		const struct sl_value *ru = sl_object_get_cstr(r, "rule");
		if (ru != NULL &&
		    !(ru->len == 5 && memcmp(ru->u.s, "EAGER", 5) == 0)) {
			sl_buf_putc(b, '!');
			sl_buf_append(b, ru->u.s, ru->len);
		}
		sl_buf_puts(b, ob ? "]-> " : "]- ");
		harness_node(b, sl_object_get_cstr(r, "node"));
	}
}

/** Capture one record. */
static inline int
capture_process(struct sl_step *s, const struct sl_value *rec,
                struct sl_emit *out)
{
	(void)out;
	struct capture *c = (struct capture *)s;
	sl_arena_reset(&c->a);
	struct sl_value f = harness_filter(&c->a, rec, c->marks);
	if (c->describe)
		harness_describe(c->buf, &f);
	else if (sl_json_write(c->buf, &f, SL_JSON_CANONICAL) != 0)
		return -1;
	return sl_buf_putc(c->buf, '\n');
}

/** Free the capture step (not its buffer). */
static inline void
capture_destroy(struct sl_step *s)
{
	struct capture *c = (struct capture *)s;
	sl_arena_destroy(&c->a);
	free(c);
}

/** The capture step's callbacks. */
static const struct sl_step_ops capture_ops = {
        .type = "Capture",
        .process = capture_process,
        .destroy = capture_destroy,
};

/** What the pipeline task needs. */
struct harness_run {
	/** The pipeline. */
	struct sl_pipeline *p;
};

/** Run the pipeline (as a task). */
static inline int
harness_task(void *arg)
{
	struct harness_run *r = arg;
	return sl_pipeline_run(r->p);
}

/**
 * Run step definition `step_yaml` (a YAML mapping, indented by two
 * spaces per level, starting with "- implementation: ...") over the
 * records of the JSON array `records`. The pipeline file is named
 * "<stem>.yaml" in a temporary directory.
 */
static inline void
harness_run_stem(const char *step_yaml, const char *records, bool marks,
                 bool describe, const char *stem, struct hres *res)
{
	memset(res, 0, sizeof(*res));
	(void)sl_steps_register_builtins();
	(void)sl_interp_register();
	char dir[] = "/tmp/sluice-interp-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		res->rc = -2;
		return;
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/%s.yaml", dir, stem);
	FILE *f = fopen(path, "w");
	fprintf(f,
	        "- implementation: nodestream.pipeline:IterableExtractor\n"
	        "  arguments:\n"
	        "    iterable: %s\n"
	        "%s\n",
	        records, step_yaml);
	fclose(f);
	struct sl_pipeline_file *pf = sl_pipeline_file_load(path, NULL);
	struct sl_buf buf;
	sl_buf_create(&buf, sizeof(res->out) - 1);
	struct sl_pipeline *p = NULL;
	struct sl_step *under = NULL;
	if (pf == NULL)
		goto fail;
	struct sl_pipeline_opts o;
	sl_pipeline_opts_init(&o);
	o.batch_size = 3; /* several batches even for small cases */
	p = sl_pipeline_new(&o);
	for (uint32_t i = 0; i < pf->n_steps; i++) {
		struct sl_step *s = sl_step_create(&pf->steps[i]);
		if (s == NULL)
			goto fail;
		sl_pipeline_add(p, s);
		under = s;
	}
	struct capture *c = calloc(1, sizeof(*c));
	sl_step_init(&c->base, &capture_ops);
	c->buf = &buf;
	c->marks = marks;
	c->describe = describe;
	sl_arena_create(&c->a, 4096, 1 << 24);
	sl_pipeline_add(p, &c->base);
	struct harness_run r = {p};
	res->rc = run_task("harness", harness_task, &r);
	if (res->rc != 0)
		goto fail;
	goto done;
fail:
	res->rc = -1;
	{
		struct sl_error *e = sl_diag_last();
		if (e != NULL)
			sl_error_format(e, res->err, sizeof(res->err));
	}
done:
	if (under != NULL) {
		res->skipped = under->stats.skipped;
		res->emitted = under->stats.out;
		if (under->stats.skips[0] != NULL)
			snprintf(res->skip0, sizeof(res->skip0), "%s",
			         under->stats.skips[0]);
	}
	if (buf.data != NULL)
		memcpy(res->out, buf.data, buf.len + 1);
	sl_buf_destroy(&buf);
	sl_pipeline_delete(p);
	sl_pipeline_file_delete(pf);
	unlink(path);
	rmdir(dir);
	sl_diag_clear(sl_diag_get());
}

/** harness_run_stem() with the stem "p", no marks, canonical JSON. */
static inline void
harness_run(const char *step_yaml, const char *records, struct hres *res)
{
	harness_run_stem(step_yaml, records, false, false, "p", res);
}

/** An Interpreter with `interpretations_yaml` (the lines of the list,
 * indented by 6 spaces) over `records`, captured in the short form. */
static inline void
harness_interp(const char *args_yaml, const char *records, struct hres *res)
{
	char step[16384];
	snprintf(step, sizeof(step),
	         "- implementation: interpreter\n"
	         "  arguments:\n%s",
	         args_yaml);
	harness_run_stem(step, records, false, true, "p", res);
}

/** A way to run a case: harness_run() or harness_interp(). */
typedef void (*harness_runner)(const char *yaml, const char *records,
                               struct hres *res);

/** Whether `msg` contains every '|'-separated part of `parts`, in order. */
static inline bool
harness_has_parts(const char *msg, const char *parts)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", parts);
	for (char *save = NULL, *p = strtok_r(buf, "|", &save); p != NULL;
	     p = strtok_r(NULL, "|", &save)) {
		const char *at = strstr(msg, p);
		if (at == NULL)
			return false;
		msg = at + strlen(p);
	}
	return true;
}

/** Run `yaml` over `records` with `run` and compare the captured output. */
static inline void
harness_expect(harness_runner run, const char *yaml, const char *records,
               const char *want, const char *name)
{
	struct hres r;
	run(yaml, records, &r);
	if (!ok(r.rc == 0 && strcmp(r.out, want) == 0, "%s", name)) {
		printf("#   rc %d, error: %s\n", r.rc, r.err);
		printf("#   got:  %s", r.out);
		printf("#   want: %s", want);
	}
}

/**
 * Run `yaml` over `records` with `run` and expect a failure whose message
 * contains the parts of `part` ('|'-separated, in order).
 */
static inline void
harness_expect_error(harness_runner run, const char *yaml, const char *records,
                     const char *part, const char *name)
{
	struct hres r;
	run(yaml, records, &r);
	if (!ok(r.rc != 0 && harness_has_parts(r.err, part), "%s", name))
		printf("#   rc %d, error: %s\n#   wanted: %s\n#   out: %s",
		       r.rc, r.err, part, r.out);
}

#endif /* SLUICE_TESTS_INTERP_HARNESS_H */
