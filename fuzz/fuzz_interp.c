/*
 * libFuzzer target for the Interpreter: the input up to its first line
 * that is exactly "---" is the YAML `arguments` mapping of an Interpreter
 * step (interpretations, before_iteration, iterate_on), the rest JSON
 * lines, one record each (lines that do not parse are left out; at most
 * MAX_RECORDS). The step is built through the registry; when that
 * succeeds it runs in a real pipeline on a fresh loop: a source step emits
 * the records, the Interpreter interprets them, and a check step looks at
 * every ingestion.
 *
 * Invariants: a failed build or run leaves an error in the diag; every
 * ingestion writes as JSON that parses back, has the documented shape
 * ({"source": NODE, "rels": [...]}, nodes with a string type and a
 * non-empty key without nulls), and holds only valid UTF-8 when the input
 * was valid UTF-8.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/conf.h"
#include "sluice/diag.h"
#include "sluice/interp.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/pipeline_file.h"
#include "sluice/registry.h"
#include "sluice/step.h"
#include "sluice/task.h"

#define FUZZ_NAME "fuzz_interp"
#include "fuzz.h"

/** Most records interpreted per input. */
#define MAX_RECORDS 64

/** Whether string value `v` is one of `names` (NULL-terminated). */
static bool
str_in(const struct sl_value *v, const char *const *names)
{
	if (v == NULL || v->type != SL_VSTR)
		return false;
	for (size_t i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == v->len &&
		    memcmp(names[i], v->u.s, v->len) == 0)
			return true;
	return false;
}

/** Whether `v` is an object whose member values are never null. */
static bool
object_without_nulls(const struct sl_value *v)
{
	if (v == NULL || v->type != SL_VOBJECT)
		return false;
	for (uint32_t i = 0; i < v->len; i++)
		if (v->u.members[i].val.type == SL_VNULL)
			return false;
	return true;
}

/** Check the shape of a node of an ingestion. */
static void
check_node(const struct sl_value *n)
{
	static const char *const rules[] = {"EAGER", "MATCH_ONLY", "FUZZY",
	                                    NULL};
	CHECK(n != NULL && n->type == SL_VOBJECT, "node is not an object");
	const struct sl_value *t = sl_object_get_cstr(n, "type");
	CHECK(t != NULL && t->type == SL_VSTR, "node type is not a string");
	const struct sl_value *l = sl_object_get_cstr(n, "labels");
	CHECK(l != NULL && l->type == SL_VARRAY, "labels are not a list");
	for (uint32_t i = 0; i < l->len; i++)
		CHECK(l->u.items[i].type == SL_VSTR, "a label is a %u",
		      l->u.items[i].type);
	const struct sl_value *k = sl_object_get_cstr(n, "key");
	CHECK(object_without_nulls(k) && k->len > 0,
	      "node key is empty or has a null");
	const struct sl_value *p = sl_object_get_cstr(n, "props");
	CHECK(p != NULL && p->type == SL_VOBJECT, "props are not an object");
	CHECK(str_in(sl_object_get_cstr(n, "rule"), rules), "bad node rule");
}

/** Check the shape of an ingestion. */
static void
check_ingestion(const struct sl_value *v)
{
	static const char *const rules[] = {"EAGER", "MERGE_KEY", "CREATE",
	                                    NULL};
	CHECK(v->type == SL_VOBJECT && v->len == 2, "ingestion shape");
	check_node(sl_object_get_cstr(v, "source"));
	const struct sl_value *rels = sl_object_get_cstr(v, "rels");
	CHECK(rels != NULL && rels->type == SL_VARRAY, "rels is not a list");
	for (uint32_t i = 0; i < rels->len; i++) {
		const struct sl_value *r = &rels->u.items[i];
		CHECK(r->type == SL_VOBJECT, "a rel is not an object");
		const struct sl_value *t = sl_object_get_cstr(r, "type");
		CHECK(t != NULL && t->type == SL_VSTR,
		      "rel type is not a string");
		const struct sl_value *k = sl_object_get_cstr(r, "key");
		const struct sl_value *p = sl_object_get_cstr(r, "props");
		CHECK(k != NULL && k->type == SL_VOBJECT && p != NULL &&
		              p->type == SL_VOBJECT,
		      "rel key or props not an object");
		CHECK(str_in(sl_object_get_cstr(r, "rule"), rules),
		      "bad rel rule");
		const struct sl_value *o = sl_object_get_cstr(r, "outbound");
		CHECK(o != NULL && o->type == SL_VBOOL, "outbound not a bool");
		check_node(sl_object_get_cstr(r, "node"));
	}
}

/** The source step: emits the records in its drain. */
struct src_step {
	/** Common part. */
	struct sl_step base;
	/** The records. */
	const struct sl_value *recs;
	/** How many. */
	uint32_t n;
};

/** Emit every record, each with its line as origin. */
static int
src_drain(struct sl_step *s, struct sl_emit *out)
{
	struct src_step *st = (struct src_step *)s;
	for (uint32_t i = 0; i < st->n; i++) {
		sl_emit_set_origin(out, "fuzz", i + 1);
		if (sl_emit_copy(out, &st->recs[i]) != 0)
			return -1;
	}
	return 0;
}

/** Free a source or check step. */
static void
step_free(struct sl_step *s)
{
	free(s);
}

/** The source step's callbacks. */
static const struct sl_step_ops src_ops = {
        .type = "FuzzSource",
        .drain = src_drain,
        .destroy = step_free,
};

/** The check step. */
struct check_step {
	/** Common part. */
	struct sl_step base;
	/** Whether every input string was valid UTF-8. */
	bool utf8;
	/** Ingestions seen. */
	uint64_t seen;
};

/** Check one ingestion: it writes as JSON that parses back, and its shape. */
static int
check_process(struct sl_step *s, const struct sl_value *rec,
              struct sl_emit *out)
{
	(void)out;
	struct check_step *st = (struct check_step *)s;
	st->seen++;
	check_ingestion(rec);
	CHECK(!st->utf8 || value_utf8(rec), "an ingestion is not UTF-8");
	struct sl_buf b;
	sl_buf_create(&b, (size_t)64 << 20);
	int rc = sl_json_write(&b, rec, 0);
	CHECK(rc == 0 || sl_diag_code() == SL_ELIMIT, "write failed: %s",
	      sl_errcode_name(sl_diag_code()));
	if (rc == 0) {
		struct sl_arena a;
		sl_arena_create(&a, 4096, (size_t)64 << 20);
		struct sl_value v;
		CHECK(sl_json_parse(b.data, b.len, &a, NULL, "out", &v) == 0,
		      "written ingestion does not parse: %s: %.*s",
		      sl_diag_last() ? sl_diag_last()->msg : "", (int)b.len,
		      b.data);
		CHECK(v.type == SL_VOBJECT && v.len == 2,
		      "parsed ingestion shape");
		sl_arena_destroy(&a);
	}
	sl_buf_destroy(&b);
	return rc;
}

/** The check step's callbacks. */
static const struct sl_step_ops check_ops = {
        .type = "FuzzCheck",
        .process = check_process,
        .destroy = step_free,
};

/**
 * Print `what`, the counters of step `st` (if not NULL) and the current
 * error when FUZZ_VERBOSE is set.
 */
static void
verbose(const char *what, const struct sl_step *st)
{
	static int on = -1;
	if (on < 0)
		on = getenv("FUZZ_VERBOSE") != NULL;
	if (!on)
		return;
	struct sl_error *e = sl_diag_last();
	if (st != NULL)
		fprintf(stderr, "%s: in %llu, out %llu, skipped %llu: ", what,
		        (unsigned long long)st->stats.in,
		        (unsigned long long)st->stats.out,
		        (unsigned long long)st->stats.skipped);
	else
		fprintf(stderr, "%s: ", what);
	fprintf(stderr, "%s\n", e != NULL ? e->msg : "(no error)");
}

/** Run pipeline `arg` (as a task). */
static int
run_task(void *arg)
{
	return sl_pipeline_run(arg);
}

/** Find the first line that is exactly "---": its start, or NULL. */
static const char *
find_separator(const char *s, size_t n, const char **body)
{
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl != NULL ? (size_t)(nl - s) : n;
		if (end - i == 3 && memcmp(s + i, "---", 3) == 0) {
			*body = nl != NULL ? nl + 1 : s + n;
			return s + i;
		}
		i = end + 1;
	}
	*body = s + n;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Build an Interpreter from the YAML part and run it over the records. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool registered;
	if (!registered) {
		CHECK(sl_interp_register() == 0, "register");
		registered = true;
		/* Skipped records are logged as warnings: keep quiet. */
		if (getenv("FUZZ_VERBOSE") == NULL)
			sl_log_set_level(SL_LOG_ERROR);
	}
	const char *s = (const char *)data;
	const char *body;
	const char *sep = find_separator(s, size, &body);
	size_t ylen = sep != NULL ? (size_t)(sep - s) : size;
	size_t blen = (size_t)(s + size - body);
	sl_diag_clear(sl_diag_get());

	struct sl_conf_doc *doc = sl_conf_load(s, ylen, "fuzz.yaml");
	if (doc == NULL) {
		enum sl_errcode c = sl_diag_code();
		CHECK(c != SL_EOK, "conf load failed without an error");
		verbose("load", NULL);
		sl_diag_clear(sl_diag_get());
		return 0;
	}
	struct sl_conf *root = sl_conf_root(doc);
	struct sl_stepdef def = {
	        .implementation = "interpreter",
	        .arguments = root,
	        .node = root,
	        .pipeline = "fuzz",
	};
	struct sl_step *interp = sl_step_create(&def);
	if (interp == NULL) {
		CHECK(sl_diag_code() != SL_EOK,
		      "step creation failed without an error");
		verbose("create", NULL);
		sl_conf_doc_delete(doc);
		sl_diag_clear(sl_diag_get());
		return 0;
	}

	/* The records: JSON lines, those that parse. */
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, (size_t)16 << 20);
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.depth_max = 32;
	struct sl_value recs[MAX_RECORDS];
	uint32_t n = 0;
	bool utf8 = utf8_valid(s, ylen);
	for (const char *p = body, *end = body + blen;
	     p < end && n < MAX_RECORDS;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;
		if (stop > p && sl_json_parse(p, (size_t)(stop - p), &arena, &o,
		                              "fuzz", &recs[n]) == 0) {
			utf8 = utf8 && value_utf8(&recs[n]);
			n++;
		}
		p = stop + 1;
	}
	sl_diag_clear(sl_diag_get());

	struct sl_pipeline_opts po;
	sl_pipeline_opts_init(&po);
	po.batch_size = 3; /* several batches even for a few records */
	struct sl_pipeline *p = sl_pipeline_new(&po);
	CHECK(p != NULL, "pipeline");
	struct src_step *src = calloc(1, sizeof(*src));
	struct check_step *chk = calloc(1, sizeof(*chk));
	CHECK(src != NULL && chk != NULL, "out of memory");
	sl_step_init(&src->base, &src_ops);
	src->recs = recs;
	src->n = n;
	sl_step_init(&chk->base, &check_ops);
	chk->utf8 = utf8;
	CHECK(sl_pipeline_add(p, &src->base) == 0 &&
	              sl_pipeline_add(p, interp) == 0 &&
	              sl_pipeline_add(p, &chk->base) == 0,
	      "pipeline add");
	struct sl_loop *loop = sl_loop_new(NULL);
	CHECK(loop != NULL, "loop");
	int rc = sl_loop_run_main(loop, "fuzz", run_task, p);
	sl_loop_delete(loop);
	if (rc != 0) {
		CHECK(sl_diag_code() != SL_EOK, "run failed without an error");
		verbose("run", interp);
	} else {
		CHECK(chk->seen == interp->stats.out,
		      "%llu ingestions emitted, %llu checked",
		      (unsigned long long)interp->stats.out,
		      (unsigned long long)chk->seen);
		verbose("ok", interp);
	}
	sl_pipeline_delete(p);
	sl_arena_destroy(&arena);
	sl_conf_doc_delete(doc);
	sl_diag_clear(sl_diag_get());
	return 0;
}
