/*
 * libFuzzer target for YAML reading, configuration trees and pipeline
 * files. The input is one YAML document:
 *
 * - sl_yaml_parse() and sl_conf_load() + sl_conf_to_value() of the root
 *   must agree: both succeed with exactly the same value (the same member
 *   order, NaN equal to NaN, and sl_value_equal() too when there is no
 *   NaN), or the parse fails where the load or the conversion fails, with
 *   the same message.
 * - Every error (load, conversion, getters) is EPARSE, ELIMIT or EINVAL
 *   and its message starts with the input's name.
 * - Every node of the tree, aliases expanded, has line and column >= 1,
 *   the input's name as file, NUL-terminated text, scalar mapping keys
 *   and items when it has any; the expanded tree has at most as many
 *   nodes as the documented alias cap allows and nests at most 512 deep.
 * - On the first scalars reached the typed getters agree with the
 *   conversion, and sl_conf_get() on a mapping returns its last value of
 *   the key.
 * - The input is also loaded as a pipeline file (through a memfd's
 *   /proc/self/fd path), asking for annotation "test" when the input's
 *   size is even: it loads with 1 <= n_steps <= n_all, the selection
 *   rule holding and each step's fields being its node's, or fails with
 *   an error naming the path (or, as documented, an included file).
 *
 * A broken invariant aborts with a message. Run with -rss_limit_mb=512:
 * alias expansion must stay bounded.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sluice/arena.h"
#include "sluice/conf.h"
#include "sluice/diag.h"
#include "sluice/pipeline_file.h"
#include "sluice/value.h"
#include "sluice/yamlread.h"

/** The target's name in failure messages. */
#define FUZZ_NAME "fuzz_yaml"
#include "fuzz.h"

/** Name given to the input in nodes and messages. */
#define NAME "fuzz.yaml"
/** Alias expansion cap of sl_conf_load(): nodes per input byte... */
#define EXPAND_FACTOR 16
/** ... and at least this many (conf.h, architecture.md). */
#define EXPAND_MIN 1024
/** Deepest documented nesting. */
#define DEPTH_MAX 512
/** Scalars whose getters are checked per input. */
#define GETTER_BUDGET 64

/** State of one walk over a configuration tree. */
struct walk {
	/** Nodes visited, aliases expanded. */
	uint64_t nodes;
	/** Most nodes allowed. */
	uint64_t nodes_max;
	/** Scalars whose getters may still be checked. */
	int getters;
	/** Arena for conversions of single nodes. */
	struct sl_arena *arena;
};

/** The current error's message, or "". */
static const char *
errmsg(void)
{
	const struct sl_error *e = sl_diag_last();
	return e != NULL ? e->msg : "";
}

/** Check that the current error is one of a failed read or getter. */
static void
check_error(const char *what)
{
	enum sl_errcode c = sl_diag_code();
	CHECK(c == SL_EPARSE || c == SL_ELIMIT || c == SL_EINVAL,
	      "%s: unexpected code %s: %s", what, sl_errcode_name(c), errmsg());
	CHECK(strncmp(errmsg(), NAME ":", strlen(NAME ":")) == 0,
	      "%s: message does not start with the name: %s", what, errmsg());
}

/**
 * Whether `a` and `b` are exactly the same value (NaN equal to NaN);
 * `*nan` is set when a NaN is seen.
 */
static bool
same(const struct sl_value *a, const struct sl_value *b, bool *nan)
{
	if (a->type != b->type || a->len != b->len)
		return false;
	switch ((enum sl_vtype)a->type) {
	case SL_VNULL:
		return true;
	case SL_VBOOL:
		return a->u.b == b->u.b;
	case SL_VINT:
		return a->u.i == b->u.i;
	case SL_VDOUBLE:
		if (isnan(a->u.d) || isnan(b->u.d)) {
			*nan = true;
			return isnan(a->u.d) && isnan(b->u.d);
		}
		return a->u.d == b->u.d;
	case SL_VSTR:
	case SL_VNUMBER:
		return a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0;
	case SL_VARRAY:
		for (uint32_t i = 0; i < a->len; i++)
			if (!same(&a->u.items[i], &b->u.items[i], nan))
				return false;
		return true;
	case SL_VOBJECT:
		for (uint32_t i = 0; i < a->len; i++) {
			const struct sl_member *x = &a->u.members[i];
			const struct sl_member *y = &b->u.members[i];
			if (x->key_len != y->key_len ||
			    memcmp(x->key, y->key, x->key_len) != 0 ||
			    !same(&x->val, &y->val, nan))
				return false;
		}
		return true;
	default:
		return false;
	}
}

/** Check the typed getters of scalar `n` against its conversion. */
static void
check_getters(struct walk *w, const struct sl_conf *n)
{
	struct sl_value v;
	sl_diag_clear(sl_diag_get());
	int conv = sl_conf_to_value(n, w->arena, "node", &v);
	if (conv < 0)
		check_error("sl_conf_to_value(scalar)");
	bool is_null = sl_conf_is_null(n);
	if (is_null)
		CHECK(conv == 0 && v.type == SL_VNULL, "null scalar '%s'",
		      n->text);
	bool is_str = sl_conf_is_str(n);
	const char *s = NULL;
	sl_diag_clear(sl_diag_get());
	int rc = sl_conf_str(n, "node", &s);
	if (rc < 0)
		check_error("sl_conf_str");
	if (is_str) {
		CHECK(rc == 0 && s == n->text, "string scalar '%s'", n->text);
		CHECK(conv == 0 && v.type == SL_VSTR && v.len == n->len &&
		              memcmp(v.u.s, n->text, n->len) == 0,
		      "string scalar '%s' converts to type %d", n->text,
		      v.type);
	}
	if (rc == 0)
		CHECK(!is_null, "null scalar '%s' taken as a string", n->text);
	int64_t i;
	sl_diag_clear(sl_diag_get());
	rc = sl_conf_int(n, "node", &i);
	if (rc < 0)
		check_error("sl_conf_int");
	else
		CHECK(conv == 0 && v.type == SL_VINT && v.u.i == i,
		      "integer scalar '%s'", n->text);
	bool b;
	sl_diag_clear(sl_diag_get());
	rc = sl_conf_bool(n, "node", &b);
	if (rc < 0)
		check_error("sl_conf_bool");
	else
		CHECK(conv == 0 && v.type == SL_VBOOL && v.u.b == b,
		      "boolean scalar '%s'", n->text);
	sl_diag_clear(sl_diag_get());
}

/** Check `n` and everything under it, aliases expanded. */
static void
walk(struct walk *w, const struct sl_conf *n, uint32_t depth)
{
	CHECK(n != NULL, "NULL node at depth %u", depth);
	CHECK(depth <= DEPTH_MAX + 1, "nesting %u", depth);
	CHECK(++w->nodes <= w->nodes_max, "more than %llu nodes",
	      (unsigned long long)w->nodes_max);
	CHECK(n->line >= 1 && n->col >= 1, "position %u:%u", n->line, n->col);
	CHECK(n->file != NULL && strcmp(n->file, NAME) == 0, "file %s",
	      n->file != NULL ? n->file : "(null)");
	CHECK(n->text != NULL && n->text[n->len] == '\0',
	      "text not terminated at %u:%u", n->line, n->col);
	switch (n->kind) {
	case SL_CONF_SCALAR:
		CHECK(n->n == 0, "scalar with %u items", n->n);
		if (w->getters > 0) {
			w->getters--;
			check_getters(w, n);
		}
		return;
	case SL_CONF_SEQ:
		CHECK(n->n == 0 || n->items != NULL, "sequence without items");
		for (uint32_t i = 0; i < n->n; i++)
			walk(w, n->items[i], depth + 1);
		return;
	case SL_CONF_MAP:
		CHECK(n->n == 0 || n->items != NULL, "mapping without items");
		for (uint32_t i = 0; i < n->n; i++) {
			const struct sl_conf *k = n->items[2 * i];
			CHECK(k != NULL && k->kind == SL_CONF_SCALAR,
			      "mapping key at %u:%u is not a scalar", n->line,
			      n->col);
			walk(w, k, depth + 1);
			walk(w, n->items[2 * i + 1], depth + 1);
			if (strlen(k->text) != k->len)
				continue;
			const struct sl_conf *last = NULL;
			for (uint32_t j = 0; j < n->n; j++) {
				const struct sl_conf *kj = n->items[2 * j];
				if (kj->len == k->len &&
				    memcmp(kj->text, k->text, k->len) == 0)
					last = n->items[2 * j + 1];
			}
			CHECK(sl_conf_get(n, k->text) == last,
			      "sl_conf_get(%s) is not the last value", k->text);
		}
		return;
	}
	CHECK(0, "node kind %d", (int)n->kind);
}

/** Check sl_yaml_parse() against sl_conf_load() on the input. */
static void
check_yaml(const char *buf, size_t size)
{
	struct sl_arena a1, a2, a3;
	sl_arena_create(&a1, 4096, (size_t)256 << 20);
	sl_arena_create(&a2, 4096, (size_t)256 << 20);
	sl_arena_create(&a3, 4096, (size_t)64 << 20);

	sl_diag_clear(sl_diag_get());
	struct sl_value pv;
	int prc = sl_yaml_parse(buf, size, &a1, NAME, &pv);
	char pmsg[SL_ERROR_MSG_MAX] = "";
	if (prc < 0) {
		enum sl_errcode c = sl_diag_code();
		CHECK(c == SL_EPARSE || c == SL_ELIMIT, "parse code %s: %s",
		      sl_errcode_name(c), errmsg());
		check_error("sl_yaml_parse");
		snprintf(pmsg, sizeof(pmsg), "%s", errmsg());
	}

	sl_diag_clear(sl_diag_get());
	struct sl_conf_doc *d = sl_conf_load(buf, size, NAME);
	if (d == NULL) {
		check_error("sl_conf_load");
		CHECK(prc < 0, "sl_conf_load failed, sl_yaml_parse did not: %s",
		      errmsg());
		CHECK(strcmp(pmsg, errmsg()) == 0, "messages differ: %s / %s",
		      pmsg, errmsg());
		goto out;
	}
	const struct sl_conf *root = sl_conf_root(d);
	struct walk w = {0};
	uint64_t cap = (uint64_t)size * EXPAND_FACTOR;
	w.nodes_max = (cap < EXPAND_MIN ? EXPAND_MIN : cap) + 4 * size + 16;
	w.getters = GETTER_BUDGET;
	w.arena = &a3;
	walk(&w, root, 1);

	sl_diag_clear(sl_diag_get());
	struct sl_value cv;
	int crc = sl_conf_to_value(root, &a2, NULL, &cv);
	if (crc < 0) {
		check_error("sl_conf_to_value");
		CHECK(prc < 0, "conversion failed, sl_yaml_parse did not: %s",
		      errmsg());
		/* The same failure, as SL_EINVAL instead of SL_EPARSE. */
		CHECK(strcmp(pmsg, errmsg()) == 0, "messages differ: %s / %s",
		      pmsg, errmsg());
	} else {
		CHECK(prc == 0,
		      "sl_yaml_parse failed, the conversion did not: "
		      "%s",
		      pmsg);
		bool nan = false;
		CHECK(same(&pv, &cv, &nan), "values differ");
		CHECK(nan || sl_value_equal(&pv, &cv),
		      "values not sl_value_equal");
	}
	sl_conf_doc_delete(d);
out:
	sl_diag_clear(sl_diag_get());
	sl_arena_destroy(&a1);
	sl_arena_destroy(&a2);
	sl_arena_destroy(&a3);
}

/** The memfd holding the input, and its path. */
static int memfd = -1;
/** "/proc/self/fd/N" of `memfd`. */
static char mempath[64];

/** Whether file name `s` (up to the first ':') is a file other than ours. */
static bool
names_other_file(const char *s)
{
	const char *colon = strchr(s, ':');
	if (colon == NULL || colon == s)
		return false;
	char path[512];
	snprintf(path, sizeof(path), "%.*s", (int)(colon - s), s);
	return strcmp(path, mempath) != 0 && access(path, F_OK) == 0;
}

/** Load the input as a pipeline file and check the result. */
static void
check_pipeline(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("sluice-fuzz-yaml", MFD_CLOEXEC);
		CHECK(memfd >= 0, "memfd_create failed");
		snprintf(mempath, sizeof(mempath), "/proc/self/fd/%d", memfd);
	}
	CHECK(ftruncate(memfd, 0) == 0, "ftruncate");
	CHECK(size == 0 || pwrite(memfd, data, size, 0) == (ssize_t)size,
	      "pwrite");
	static const char *const ann[] = {"test"};
	struct sl_pipeline_file_opts o = {ann, size % 2 == 0 ? 1 : 0, NULL,
	                                  false};
	sl_diag_clear(sl_diag_get());
	struct sl_pipeline_file *f = sl_pipeline_file_load(mempath, &o);
	if (f == NULL) {
		const char *m = errmsg();
		CHECK(sl_diag_code() != SL_EOK, "failed without an error");
		CHECK((strncmp(m, mempath, strlen(mempath)) == 0 &&
		       m[strlen(mempath)] == ':') ||
		              names_other_file(m),
		      "error does not name %s: %s", mempath, m);
		sl_diag_clear(sl_diag_get());
		return;
	}
	CHECK(strcmp(f->path, mempath) == 0, "path %s", f->path);
	CHECK(strcmp(f->stem, strrchr(mempath, '/') + 1) == 0, "stem %s",
	      f->stem);
	CHECK(f->n_all >= 1 && f->n_steps <= f->n_all, "%u of %u steps",
	      f->n_steps, f->n_all);
	uint32_t prev = 0;
	for (uint32_t i = 0; i < f->n_steps; i++) {
		const struct sl_stepdef *s = &f->steps[i];
		CHECK(s->index < f->n_all && (i == 0 || s->index > prev),
		      "step %u has index %u", i, s->index);
		prev = s->index;
		CHECK(s->node != NULL && s->node->kind == SL_CONF_MAP,
		      "step %u node", i);
		const struct sl_conf *impl =
		        sl_conf_get(s->node, "implementation");
		CHECK(impl != NULL && s->implementation == impl->text,
		      "step %u implementation", i);
		const struct sl_conf *fac = sl_conf_get(s->node, "factory");
		CHECK(fac != NULL ? s->factory == fac->text
		                  : s->factory == NULL,
		      "step %u factory", i);
		const struct sl_conf *args = sl_conf_get(s->node, "arguments");
		CHECK(s->arguments == NULL
		              ? args == NULL || sl_conf_is_null(args)
		              : s->arguments == args &&
		                        args->kind == SL_CONF_MAP,
		      "step %u arguments", i);
		bool keep = s->n_annotations == 0 || o.n_annotations == 0;
		for (uint32_t j = 0; j < s->n_annotations; j++) {
			CHECK(s->annotations[j] != NULL, "annotation %u", j);
			keep |= strcmp(s->annotations[j], "test") == 0;
		}
		CHECK(keep, "step %u selected without the annotation", i);
	}
	sl_pipeline_file_delete(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_yaml((const char *)data, size);
	check_pipeline(data, size);
	return 0;
}
