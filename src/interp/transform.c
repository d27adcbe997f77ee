/*
 * sluice: transformers and filters over value providers (see transform.h).
 */
#include "transform.h"

#include <string.h>

#include "provider.h"
#include "pyval.h"
#include "sluice/alloc.h"
#include "sluice/batch.h"
#include "sluice/diag.h"
#include "sluice/jsonread.h"

/** Scratch memory of one record: chunk and hard cap. */
#define SCRATCH_CHUNK ((size_t)16 << 10)
/** The per-record scratch arena takes the record memory cap. */
#define SCRATCH_CAP SL_RECORD_MEM_MAX

/** What every step here has: the common part and scratch memory. */
struct pstep {
	/** Common part. */
	struct sl_step base;
	/** Scratch memory, reset per record. */
	struct sl_arena scratch;
};

/** Set up the common part of a new step. */
static void
pstep_init(struct pstep *p, const struct sl_step_ops *ops)
{
	sl_step_init(&p->base, ops);
	sl_arena_create(&p->scratch, SCRATCH_CHUNK, SCRATCH_CAP);
}

/** A fresh provider context over `rec` (scratch reset). */
static struct sl_prov_ctx
fresh_ctx(struct pstep *p, const struct sl_value *rec)
{
	sl_arena_reset(&p->scratch);
	struct sl_prov_ctx c;
	memset(&c, 0, sizeof(c));
	c.doc = rec;
	c.a = &p->scratch;
	return c;
}

/** Allocate a step of `size` bytes, or NULL with an error. */
static void *
step_alloc(size_t size)
{
	void *p = sl_calloc(1, size);
	if (p == NULL)
		sl_diag_set(SL_EOOM, "out of memory for a step");
	return p;
}

/** A required argument of a step. */
static const struct sl_conf *
required_arg(const struct sl_stepdef *def, const char *key)
{
	const struct sl_conf *n = def->arguments != NULL
	                                  ? sl_conf_get(def->arguments, key)
	                                  : NULL;
	if (n == NULL)
		sl_conf_error(
		        def->arguments != NULL ? def->arguments : def->node,
		        "arguments", "%s needs '%s'", def->implementation, key);
	return n;
}

/* --- ValueProjection ---------------------------------------------------- */

/** A ValueProjection. */
struct projection {
	/** Common part. */
	struct pstep p;
	/** projection. */
	struct sl_prov *projection;
	/** additional_values. */
	struct sl_propmap extra;
};

/** Emit one record per projected object. */
static int
projection_process(struct sl_step *s, const struct sl_value *rec,
                   struct sl_emit *out)
{
	struct projection *pj = (struct projection *)s;
	struct sl_prov_ctx c = fresh_ctx(&pj->p, rec);
	struct sl_value many;
	if (sl_prov_many(pj->projection, &c, &many) != 0)
		return sl_emit_fail(out);
	for (uint32_t i = 0; i < many.len; i++) {
		const struct sl_value *v = &many.u.items[i];
		if (v->type != SL_VOBJECT) {
			sl_diag_set(
			        SL_EINVAL,
			        "ValueProjection: a projected value must be "
			        "a mapping, not %s",
			        sl_py_type(v));
			return sl_emit_fail(out);
		}
		struct sl_pset extra = {0};
		if (sl_propmap_apply(&pj->extra, &c, NULL, &extra) != 0)
			return sl_emit_fail(out);
		struct sl_pset all = {0};
		int rc = sl_pset_copy(&all, &extra, &pj->p.scratch);
		for (uint32_t k = 0; k < v->len && rc == 0; k++) {
			const struct sl_member *m = &v->u.members[k];
			if (sl_pset_get(&extra, m->key, m->key_len) != NULL) {
				sl_diag_set(
				        SL_EINVAL,
				        "ValueProjection: '%.*s' is both an "
				        "additional value and a projected key",
				        (int)m->key_len, m->key);
				return sl_emit_fail(out);
			}
			rc = sl_pset_set(&all, &pj->p.scratch, m->key,
			                 m->key_len, m->val);
		}
		struct sl_value obj = sl_pset_value(&all);
		if (rc != 0 || sl_emit_copy(out, &obj) != 0)
			return sl_emit_fail(out);
	}
	return 0;
}

/** Free a ValueProjection. */
static void
projection_destroy(struct sl_step *s)
{
	struct projection *pj = (struct projection *)s;
	sl_prov_delete(pj->projection);
	sl_propmap_destroy(&pj->extra);
	sl_arena_destroy(&pj->p.scratch);
	sl_free(pj);
}

/** ValueProjection's callbacks. */
static const struct sl_step_ops projection_ops = {
        .type = "ValueProjection",
        .process = projection_process,
        .destroy = projection_destroy,
};

/** Build a ValueProjection. */
static struct sl_step *
projection_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"projection", "additional_values",
	                                   NULL};
	const struct sl_conf *proj;
	if (sl_conf_check_keys(def->arguments, keys, "arguments",
	                       def->implementation) != 0 ||
	    (proj = required_arg(def, "projection")) == NULL)
		return NULL;
	struct projection *pj = step_alloc(sizeof(*pj));
	if (pj == NULL)
		return NULL;
	pstep_init(&pj->p, &projection_ops);
	const struct sl_conf *extra =
	        sl_conf_get(def->arguments, "additional_values");
	if ((pj->projection = sl_prov_compile(proj, "projection")) == NULL ||
	    (extra != NULL && extra->kind != SL_CONF_MAP &&
	     !sl_conf_is_null(extra) &&
	     sl_conf_error(extra, "additional_values",
	                   "expected a mapping of names to values") != 0) ||
	    sl_propmap_compile(&pj->extra, extra, "additional_values") != 0) {
		projection_destroy(&pj->p.base);
		return NULL;
	}
	return &pj->p.base;
}

/* --- ExpandJsonField ---------------------------------------------------- */

/** An ExpandJsonField. */
struct expand {
	/** Common part. */
	struct pstep p;
	/** The path: keys (owned). */
	char **path;
	/** Key lengths. */
	uint32_t *lens;
	/** Number of keys (at least 1). */
	uint32_t n;
};

/** Parse the JSON text at the path, in a copy of the record. */
static int
expand_process(struct sl_step *s, const struct sl_value *rec,
               struct sl_emit *out)
{
	struct expand *ex = (struct expand *)s;
	/* Find the innermost mapping first: most records need no copy. */
	const struct sl_value *v = rec;
	for (uint32_t i = 0; i + 1 < ex->n; i++) {
		if (v->type != SL_VOBJECT) {
			sl_diag_set(SL_EINVAL,
			            "ExpandJsonField: '%s' is under a %s, not "
			            "a mapping",
			            ex->path[i], sl_py_type(v));
			return sl_emit_fail(out);
		}
		v = sl_object_get(v, ex->path[i], ex->lens[i]);
		if (v == NULL || v->type == SL_VNULL)
			return sl_emit_copy(out, rec);
	}
	if (v->type != SL_VOBJECT) {
		sl_diag_set(
		        SL_EINVAL,
		        "ExpandJsonField: '%s' is under a %s, not a mapping",
		        ex->path[ex->n - 1], sl_py_type(v));
		return sl_emit_fail(out);
	}
	const struct sl_value *text =
	        sl_object_get(v, ex->path[ex->n - 1], ex->lens[ex->n - 1]);
	if (text == NULL || text->type == SL_VNULL)
		return sl_emit_copy(out, rec);
	if (text->type != SL_VSTR) {
		sl_diag_set(SL_EINVAL,
		            "ExpandJsonField: the JSON object must be str, not "
		            "%s",
		            sl_py_type(text));
		return sl_emit_fail(out);
	}
	struct sl_arena *a = sl_emit_arena(out);
	struct sl_value copy, parsed;
	if (a == NULL || sl_value_copy(a, rec, &copy) != 0)
		return sl_emit_fail(out);
	if (sl_json_parse(text->u.s, text->len, a, NULL, ex->path[ex->n - 1],
	                  &parsed) != 0) {
		sl_diag_wrap(sl_diag_code(), "ExpandJsonField: '%s'",
		             ex->path[ex->n - 1]);
		return sl_emit_fail(out);
	}
	/* Walk the copy (ours to change) and replace the value. */
	struct sl_value *w = &copy;
	for (uint32_t i = 0; i < ex->n; i++) {
		struct sl_value *next = (struct sl_value *)sl_object_get(
		        w, ex->path[i], ex->lens[i]);
		w = next;
	}
	*w = parsed;
	return sl_emit(out, copy) != 0 ? sl_emit_fail(out) : 0;
}

/** Free an ExpandJsonField. */
static void
expand_destroy(struct sl_step *s)
{
	struct expand *ex = (struct expand *)s;
	for (uint32_t i = 0; i < ex->n; i++)
		sl_free(ex->path[i]);
	sl_free(ex->path);
	sl_free(ex->lens);
	sl_arena_destroy(&ex->p.scratch);
	sl_free(ex);
}

/** ExpandJsonField's callbacks. */
static const struct sl_step_ops expand_ops = {
        .type = "ExpandJsonField",
        .process = expand_process,
        .destroy = expand_destroy,
};

/** Build an ExpandJsonField. */
static struct sl_step *
expand_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"path", NULL};
	const struct sl_conf *path;
	if (sl_conf_check_keys(def->arguments, keys, "arguments",
	                       def->implementation) != 0 ||
	    (path = required_arg(def, "path")) == NULL)
		return NULL;
	uint32_t n = path->kind == SL_CONF_SEQ ? path->n : 1;
	if (n == 0) {
		sl_conf_error(path, "path", "expected a key or a list of keys");
		return NULL;
	}
	struct expand *ex = step_alloc(sizeof(*ex));
	if (ex == NULL)
		return NULL;
	pstep_init(&ex->p, &expand_ops);
	ex->path = sl_calloc(n, sizeof(*ex->path));
	ex->lens = sl_calloc(n, sizeof(*ex->lens));
	if (ex->path == NULL || ex->lens == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		goto fail;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct sl_conf *k =
		        path->kind == SL_CONF_SEQ ? path->items[i] : path;
		const char *s;
		if (sl_conf_str(k, "path", &s) != 0)
			goto fail;
		ex->path[i] = sl_strndup(k->text, k->len);
		if (ex->path[i] == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for a step");
			goto fail;
		}
		ex->lens[i] = (uint32_t)k->len;
		ex->n++;
	}
	return &ex->p.base;
fail:
	expand_destroy(&ex->p.base);
	return NULL;
}

/* --- SwitchTransformer -------------------------------------------------- */

/** A SwitchTransformer. */
struct sw {
	/** Common part. */
	struct pstep p;
	/** switch_on. */
	struct sl_prov *on;
	/** normalization of the switch value. */
	struct sl_norm norm;
	/** Case values. */
	struct sl_value *keys;
	/** Steps, one per case. */
	struct sl_step **steps;
	/** Number of cases. */
	uint32_t n;
	/** The default step, or NULL (records pass unchanged). */
	struct sl_step *dflt;
	/** Memory of `keys`. */
	struct sl_arena mem;
};

/** Run `f` on every sub-step; the first failure is returned. */
static int
sw_each(struct sw *w, int (*f)(struct sl_step *))
{
	int rc = 0;
	for (uint32_t i = 0; i <= w->n; i++) {
		struct sl_step *s = i < w->n ? w->steps[i] : w->dflt;
		if (s == NULL)
			continue;
		if (f(s) != 0 && rc == 0)
			rc = -1;
	}
	return rc;
}

/** Start a sub-step. */
static int
sub_start(struct sl_step *s)
{
	return s->ops->start != NULL ? s->ops->start(s) : 0;
}

/** Finish a sub-step. */
static int
sub_finish(struct sl_step *s)
{
	return s->ops->finish != NULL ? s->ops->finish(s) : 0;
}

/** Start every case's step. */
static int
sw_start(struct sl_step *s)
{
	return sw_each((struct sw *)s, sub_start);
}

/** Finish every case's step (all of them, even after a failure). */
static int
sw_finish(struct sl_step *s)
{
	return sw_each((struct sw *)s, sub_finish);
}

/** Hand a record to the selected case. */
static int
sw_process(struct sl_step *s, const struct sl_value *rec, struct sl_emit *out)
{
	struct sw *w = (struct sw *)s;
	struct sl_prov_ctx c = fresh_ctx(&w->p, rec);
	struct sl_value key;
	if (sl_prov_single_norm(w->on, &c, &w->norm, &key) != 0)
		return sl_emit_fail(out);
	if (key.type == SL_VARRAY || key.type == SL_VOBJECT) {
		/* Python looks the value up in the dict of cases. */
		sl_diag_set(SL_EINVAL,
		            "SwitchTransformer: unhashable type: '%s'",
		            sl_py_type(&key));
		return sl_emit_fail(out);
	}
	/* Last match first: of keys Python sees as equal (1, 1.0, true),
	 * the cases dict keeps the step of the last one. */
	struct sl_step *sub = w->dflt;
	for (uint32_t i = w->n; i-- > 0;)
		if (sl_py_equal(&w->keys[i], &key)) {
			sub = w->steps[i];
			break;
		}
	if (sub == NULL || sub->ops->process == NULL)
		return sl_emit_copy(out, rec);
	sub->stats.in++;
	return sub->ops->process(sub, rec, out);
}

/** Free a SwitchTransformer and its steps. */
static void
sw_destroy(struct sl_step *s)
{
	struct sw *w = (struct sw *)s;
	for (uint32_t i = 0; i < w->n; i++)
		sl_step_delete(w->steps[i]);
	sl_free(w->steps);
	sl_free(w->keys);
	sl_step_delete(w->dflt);
	sl_prov_delete(w->on);
	sl_arena_destroy(&w->mem);
	sl_arena_destroy(&w->p.scratch);
	sl_free(w);
}

/** SwitchTransformer's callbacks. */
static const struct sl_step_ops sw_ops = {
        .type = "SwitchTransformer",
        .start = sw_start,
        .process = sw_process,
        .finish = sw_finish,
        .destroy = sw_destroy,
};

/** Build the step a case names: {implementation, factory, arguments}. */
static struct sl_step *
sw_case(const struct sl_stepdef *def, const struct sl_conf *n)
{
	static const char *const keys[] = {"implementation", "factory",
	                                   "arguments", NULL};
	if (n->kind != SL_CONF_MAP) {
		sl_conf_error(n, "cases",
		              "expected a step: a mapping with an "
		              "implementation");
		return NULL;
	}
	if (sl_conf_check_keys(n, keys, "cases", "a case") != 0)
		return NULL;
	struct sl_stepdef sub;
	memset(&sub, 0, sizeof(sub));
	const struct sl_conf *impl = sl_conf_get(n, "implementation");
	const struct sl_conf *fac = sl_conf_get(n, "factory");
	if (impl == NULL) {
		sl_conf_error(n, "cases",
		              "the case's step has no implementation");
		return NULL;
	}
	if (sl_conf_str(impl, "implementation", &sub.implementation) != 0 ||
	    (fac != NULL && sl_conf_str(fac, "factory", &sub.factory) != 0))
		return NULL;
	sub.arguments = sl_conf_get(n, "arguments");
	sub.node = n;
	sub.index = def->index;
	sub.pipeline = def->pipeline;
	struct sl_step *s = sl_step_create(&sub);
	if (s != NULL && s->ops->process == NULL &&
	    s->ops->process_batch != NULL) {
		sl_conf_error(n, "cases",
		              "%s cannot run inside a SwitchTransformer",
		              sub.implementation);
		sl_step_delete(s);
		return NULL;
	}
	return s;
}

/** Build a SwitchTransformer. */
static struct sl_step *
sw_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"switch_on", "cases", "default",
	                                   "normalization", NULL};
	const struct sl_conf *on, *cases;
	if (sl_conf_check_keys(def->arguments, keys, "arguments",
	                       def->implementation) != 0 ||
	    (on = required_arg(def, "switch_on")) == NULL ||
	    (cases = required_arg(def, "cases")) == NULL)
		return NULL;
	if (cases->kind != SL_CONF_MAP) {
		sl_conf_error(cases, "cases",
		              "expected a mapping of values to steps");
		return NULL;
	}
	struct sw *w = step_alloc(sizeof(*w));
	if (w == NULL)
		return NULL;
	pstep_init(&w->p, &sw_ops);
	sl_arena_create(&w->mem, 512, (size_t)16 << 20);
	w->keys = sl_calloc(cases->n + 1, sizeof(*w->keys));
	w->steps = sl_calloc(cases->n + 1, sizeof(*w->steps));
	if (w->keys == NULL || w->steps == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		goto fail;
	}
	if ((w->on = sl_prov_compile(on, "switch_on")) == NULL ||
	    sl_norm_parse(sl_conf_get(def->arguments, "normalization"), NULL,
	                  "normalization", &w->norm) != 0)
		goto fail;
	for (uint32_t i = 0; i < cases->n; i++) {
		if (sl_conf_to_value(cases->items[2 * i], &w->mem, "cases",
		                     &w->keys[i]) != 0)
			goto fail;
		w->steps[i] = sw_case(def, cases->items[2 * i + 1]);
		if (w->steps[i] == NULL)
			goto fail;
		w->n++;
	}
	const struct sl_conf *d = sl_conf_get(def->arguments, "default");
	if (d != NULL && !sl_conf_is_null(d) &&
	    (w->dflt = sw_case(def, d)) == NULL)
		goto fail;
	return &w->p.base;
fail:
	sw_destroy(&w->p.base);
	return NULL;
}

/* --- filters ------------------------------------------------------------ */

/** One field of a possibilities filter. */
struct matcher {
	/** value. */
	struct sl_prov *value;
	/** possibilities. */
	struct sl_prov **poss;
	/** Number of `poss`. */
	uint32_t n;
	/** normalization. */
	struct sl_norm norm;
};

/** A ValuesMatchPossibilitiesFilter or ExcludeWhen... filter. */
struct possibilities {
	/** Common part. */
	struct pstep p;
	/** The fields. */
	struct matcher *fields;
	/** Number of fields. */
	uint32_t n;
	/** Whether matching records are dropped (ExcludeWhen...). */
	bool exclude;
};

/** Whether every field of `f` matches one of its possibilities. */
static int
all_match(struct possibilities *f, struct sl_prov_ctx *c, bool *out)
{
	*out = true;
	for (uint32_t i = 0; i < f->n && *out; i++) {
		const struct matcher *m = &f->fields[i];
		struct sl_value actual;
		if (sl_prov_single_norm(m->value, c, &m->norm, &actual) != 0)
			return -1;
		bool any = false;
		for (uint32_t j = 0; j < m->n && !any; j++) {
			struct sl_value p;
			if (sl_prov_single_norm(m->poss[j], c, &m->norm, &p) !=
			    0)
				return -1;
			any = sl_py_equal(&p, &actual);
		}
		*out = any;
	}
	return 0;
}

/** Keep or drop a record. */
static int
possibilities_process(struct sl_step *s, const struct sl_value *rec,
                      struct sl_emit *out)
{
	struct possibilities *f = (struct possibilities *)s;
	struct sl_prov_ctx c = fresh_ctx(&f->p, rec);
	bool match;
	if (all_match(f, &c, &match) != 0)
		return sl_emit_fail(out);
	if (match == f->exclude)
		return 0;
	return sl_emit_copy(out, rec);
}

/** Free a possibilities filter. */
static void
possibilities_destroy(struct sl_step *s)
{
	struct possibilities *f = (struct possibilities *)s;
	for (uint32_t i = 0; i < f->n; i++) {
		sl_prov_delete(f->fields[i].value);
		for (uint32_t j = 0; j < f->fields[i].n; j++)
			sl_prov_delete(f->fields[i].poss[j]);
		sl_free(f->fields[i].poss);
	}
	sl_free(f->fields);
	sl_arena_destroy(&f->p.scratch);
	sl_free(f);
}

/** ValuesMatchPossibilitiesFilter's callbacks. */
static const struct sl_step_ops values_match_ops = {
        .type = "ValuesMatchPossibilitiesFilter",
        .process = possibilities_process,
        .destroy = possibilities_destroy,
};

/** ExcludeWhenValuesMatchPossibilities's callbacks. */
static const struct sl_step_ops exclude_when_ops = {
        .type = "ExcludeWhenValuesMatchPossibilities",
        .process = possibilities_process,
        .destroy = possibilities_destroy,
};

/** Load one field of a possibilities filter. */
static int
matcher_load(struct matcher *m, const struct sl_conf *n)
{
	static const char *const keys[] = {"value", "possibilities",
	                                   "normalization", NULL};
	if (n->kind != SL_CONF_MAP)
		return sl_conf_error(n, "fields",
		                     "expected a mapping with value and "
		                     "possibilities");
	if (sl_conf_check_keys(n, keys, "fields", "a field") != 0)
		return -1;
	const struct sl_conf *v = sl_conf_get(n, "value");
	const struct sl_conf *p = sl_conf_get(n, "possibilities");
	if (v == NULL || p == NULL || p->kind != SL_CONF_SEQ)
		return sl_conf_error(n, "fields",
		                     "a field needs a value and a list of "
		                     "possibilities");
	if ((m->value = sl_prov_compile(v, "value")) == NULL ||
	    sl_norm_parse(sl_conf_get(n, "normalization"), NULL,
	                  "normalization", &m->norm) != 0)
		return -1;
	m->poss = sl_calloc(p->n + 1, sizeof(*m->poss));
	if (m->poss == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return -1;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		m->poss[i] = sl_prov_compile(p->items[i], "possibilities");
		if (m->poss[i] == NULL)
			return -1;
		m->n++;
	}
	return 0;
}

/** Build a possibilities filter (`exclude` for ExcludeWhen...). */
static struct sl_step *
possibilities_create(const struct sl_stepdef *def, bool exclude)
{
	static const char *const keys[] = {"fields", NULL};
	const struct sl_conf *fields;
	if (sl_conf_check_keys(def->arguments, keys, "arguments",
	                       def->implementation) != 0 ||
	    (fields = required_arg(def, "fields")) == NULL)
		return NULL;
	if (fields->kind != SL_CONF_SEQ) {
		sl_conf_error(fields, "fields", "expected a list of fields");
		return NULL;
	}
	struct possibilities *f = step_alloc(sizeof(*f));
	if (f == NULL)
		return NULL;
	pstep_init(&f->p, exclude ? &exclude_when_ops : &values_match_ops);
	f->exclude = exclude;
	f->fields = sl_calloc(fields->n + 1, sizeof(*f->fields));
	if (f->fields == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		goto fail;
	}
	for (uint32_t i = 0; i < fields->n; i++) {
		f->n++;
		if (matcher_load(&f->fields[i], fields->items[i]) != 0)
			goto fail;
	}
	return &f->p.base;
fail:
	possibilities_destroy(&f->p.base);
	return NULL;
}

/** Build a ValuesMatchPossibilitiesFilter. */
static struct sl_step *
values_match_create(const struct sl_stepdef *def)
{
	return possibilities_create(def, false);
}

/** Build an ExcludeWhenValuesMatchPossibilities. */
static struct sl_step *
exclude_when_create(const struct sl_stepdef *def)
{
	return possibilities_create(def, true);
}

/** A ValueMatchesRegexFilter. */
struct regex_filter {
	/** Common part. */
	struct pstep p;
	/** value. */
	struct sl_prov *value;
	/** regex. */
	struct sl_regex *re;
	/** include. */
	bool include;
	/** normalize. */
	struct sl_norm norm;
};

/** Keep or drop a record by the regex. */
static int
regex_filter_process(struct sl_step *s, const struct sl_value *rec,
                     struct sl_emit *out)
{
	struct regex_filter *f = (struct regex_filter *)s;
	struct sl_prov_ctx c = fresh_ctx(&f->p, rec);
	struct sl_value v, g;
	if (sl_prov_single_norm(f->value, &c, &f->norm, &v) != 0)
		return sl_emit_fail(out);
	if (v.type != SL_VSTR) {
		sl_diag_set(
		        SL_EINVAL,
		        "ValueMatchesRegexFilter: expected a string, got %s",
		        sl_py_type(&v));
		return sl_emit_fail(out);
	}
	int k = sl_regex_exec(f->re, v.u.s, v.len, true, 0, &g);
	if (k < 0)
		return sl_emit_fail(out);
	if ((k == 1) != f->include)
		return 0;
	return sl_emit_copy(out, rec);
}

/** Free a ValueMatchesRegexFilter. */
static void
regex_filter_destroy(struct sl_step *s)
{
	struct regex_filter *f = (struct regex_filter *)s;
	sl_prov_delete(f->value);
	sl_regex_delete(f->re);
	sl_arena_destroy(&f->p.scratch);
	sl_free(f);
}

/** ValueMatchesRegexFilter's callbacks. */
static const struct sl_step_ops regex_filter_ops = {
        .type = "ValueMatchesRegexFilter",
        .process = regex_filter_process,
        .destroy = regex_filter_destroy,
};

/** Build a ValueMatchesRegexFilter. */
static struct sl_step *
regex_filter_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"value", "regex", "include",
	                                   "normalize", NULL};
	const struct sl_conf *value, *re, *inc;
	if (sl_conf_check_keys(def->arguments, keys, "arguments",
	                       def->implementation) != 0 ||
	    (value = required_arg(def, "value")) == NULL ||
	    (re = required_arg(def, "regex")) == NULL ||
	    (inc = required_arg(def, "include")) == NULL)
		return NULL;
	struct regex_filter *f = step_alloc(sizeof(*f));
	if (f == NULL)
		return NULL;
	pstep_init(&f->p, &regex_filter_ops);
	if (sl_conf_bool(inc, "include", &f->include) != 0 ||
	    (f->value = sl_prov_compile(value, "value")) == NULL ||
	    (f->re = sl_regex_compile(re, "regex")) == NULL ||
	    sl_norm_parse(sl_conf_get(def->arguments, "normalize"), NULL,
	                  "normalize", &f->norm) != 0) {
		regex_filter_destroy(&f->p.base);
		return NULL;
	}
	return &f->p.base;
}

/* --- step types --------------------------------------------------------- */

/** The factory every step here takes (or none). */
static const char *const from_file_data[] = {"from_file_data", NULL};

/** Implementation names, short name first. */
static const char *const projection_names[] = {
        "value_projection", "nodestream.pipeline.transformers:ValueProjection",
        "nodestream.pipeline.transformers.value_projection:ValueProjection",
        NULL};
static const char *const expand_names[] = {
        "expand_json_field", "nodestream.pipeline.transformers:ExpandJsonField",
        "nodestream.pipeline.transformers.expand_json_field:ExpandJsonField",
        NULL};
static const char *const sw_names[] = {
        "switch_transformer",
        "nodestream.pipeline.transformers:SwitchTransformer",
        "nodestream.pipeline.transformers.transformer:SwitchTransformer", NULL};
static const char *const values_match_names[] = {
        "values_match_possibilities",
        "nodestream.pipeline.filters:ValuesMatchPossibilitiesFilter", NULL};
static const char *const exclude_when_names[] = {
        "exclude_when_values_match_possibilities",
        "nodestream.pipeline.filters:ExcludeWhenValuesMatchPossibilities",
        NULL};
static const char *const regex_filter_names[] = {
        "value_matches_regex",
        "nodestream.pipeline.filters:ValueMatchesRegexFilter", NULL};

const struct sl_step_type sl_interp_value_projection = {
        .names = projection_names,
        .factories = from_file_data,
        .factory_optional = true,
        .create = projection_create,
        .summary = "one record per value of a projection, with additional "
                   "values merged in",
};

const struct sl_step_type sl_interp_expand_json = {
        .names = expand_names,
        .factories = from_file_data,
        .factory_optional = true,
        .create = expand_create,
        .summary = "parses the JSON text at a key path in place",
};

const struct sl_step_type sl_interp_switch_transformer = {
        .names = sw_names,
        .factories = from_file_data,
        .factory_optional = true,
        .create = sw_create,
        .summary = "hands each record to the transformer its switch value "
                   "selects",
};

const struct sl_step_type sl_interp_values_match = {
        .names = values_match_names,
        .factories = from_file_data,
        .factory_optional = true,
        .create = values_match_create,
        .summary = "keeps records whose fields all match a possibility",
};

const struct sl_step_type sl_interp_exclude_when = {
        .names = exclude_when_names,
        .factories = from_file_data,
        .factory_optional = true,
        .create = exclude_when_create,
        .summary = "drops records whose fields all match a possibility",
};

const struct sl_step_type sl_interp_regex_filter = {
        .names = regex_filter_names,
        .factories = from_file_data,
        .factory_optional = true,
        .create = regex_filter_create,
        .summary = "keeps (include) or drops records whose value matches a "
                   "regex",
};
