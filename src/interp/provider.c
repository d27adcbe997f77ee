/*
 * sluice: value providers (see provider.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "provider.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "pyfmt.h"
#include "pyval.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/jmespath.h"
#include "pipeline/plugin_host.h"

/** Kinds of providers. */
enum prov_kind {
	P_STATIC,    /**< a literal */
	P_JMES,      /**< !jmespath */
	P_VARIABLE,  /**< !variable */
	P_FORMAT,    /**< !format */
	P_REGEX,     /**< !regex */
	P_SPLIT,     /**< !split */
	P_NORMALIZE, /**< !normalize */
	P_CAST,      /**< !cast */
	P_MAPPING,   /**< !mapping */
	P_PLUGIN,    /**< a plugin's tag (sluice/plugin.h) */
};

/** Most names of a !jmespath field path evaluated without the evaluator. */
#define PATH_MAX_NAMES 8

/** A compiled provider. */
struct sl_prov {
	/** What it is. */
	enum prov_kind kind;
	/** Description for messages (tag, text, position). */
	char desc[160];
	/** Memory of static values (literals, precomputed arrays). */
	struct sl_arena mem;
	/** P_STATIC: the value. */
	struct sl_value value;
	/**
	 * P_STATIC: its many values, precomputed except for a string (whose
	 * characters are made when asked for, so a static string costs its
	 * length).
	 */
	struct sl_value many;
	/** P_JMES: the expression. */
	struct sl_jmes *jmes;
	/**
	 * P_JMES fast path: the expression is a path of plain field names
	 * (`a.b.c`), looked up in turn without the evaluator; 0 if not.
	 */
	uint32_t path_n;
	/** The path's names (in `jmes`). */
	const char *path[PATH_MAX_NAMES];
	/** Their lengths. */
	uint32_t path_len[PATH_MAX_NAMES];
	/** The tree of paths this path is in (sl_paths_add()), or NULL. */
	const struct sl_paths *path_plan;
	/** Its node in `path_plan`. */
	uint32_t path_node;
	/** P_VARIABLE: the name; P_MAPPING: the mapping's name. */
	char *name;
	/** Length of `name`. */
	uint32_t name_len;
	/** The provider of the data (regex, split, normalize, cast), the
	 * format (format), the key (mapping). */
	struct sl_prov *data;
	/** P_FORMAT: the substitutions. */
	struct sl_propmap subs;
	/** P_FORMAT with a static format: the parsed format. */
	struct sl_pyfmt *fmt;
	/** P_REGEX: the compiled pattern. */
	struct sl_regex *re;
	/** P_REGEX: the group number. */
	uint32_t group;
	/** P_SPLIT: the delimiter (owned). */
	char *delim;
	/** Length of `delim`. */
	uint32_t delim_len;
	/** P_NORMALIZE: the normalizer. */
	enum sl_norm_op norm;
	/** P_CAST: the cast. */
	enum sl_py_cast cast;
	/** P_PLUGIN: the plugin's provider. */
	const struct sl_plugin_prov *plug;
	/** P_PLUGIN: the plugin's state from its compile. */
	void *plug_state;
	/** P_PLUGIN with a mapping of arguments: their providers. */
	struct sl_propmap plug_args;
	/** P_PLUGIN with other arguments: them (in `mem`). */
	struct sl_value plug_static;
};

/** Arena chunk of a provider's own memory. */
#define PROV_MEM_CHUNK 1024
/** Arena cap of a provider's own memory (the load budget is the limit). */
#define PROV_MEM_CAP SL_CONF_LOAD_BUDGET

/* --- property sets ------------------------------------------------------ */

/**
 * sl_pset_set() when `key` can only be among members [from, upto) (the
 * others have keys known to differ from it).
 */
static inline int
pset_set_upto(struct sl_pset *s, struct sl_arena *a, const char *key,
              uint32_t klen, struct sl_value v, uint32_t from, uint32_t upto)
{
	struct sl_member *ms = s->m;
	for (uint32_t i = from; i < upto; i++)
		if (ms[i].key_len == klen && sl_key_eq(ms[i].key, key, klen)) {
			ms[i].val = v;
			return 0;
		}
	if (s->n >= s->cap) {
		uint32_t cap = s->n > 0 ? s->n * 2 : 8;
		struct sl_member *m = sl_arena_alloc_aligned(
		        a, cap * sizeof(*m), _Alignof(struct sl_member));
		if (m == NULL)
			return -1;
		if (s->n > 0)
			memcpy(m, s->m, s->n * sizeof(*m));
		s->m = m;
		s->cap = cap;
	}
	s->m[s->n].key = key;
	s->m[s->n].key_len = klen;
	s->m[s->n].val = v;
	s->n++;
	return 0;
}

int
sl_pset_set(struct sl_pset *s, struct sl_arena *a, const char *key,
            uint32_t klen, struct sl_value v)
{
	return pset_set_upto(s, a, key, klen, v, 0, s->n);
}

const struct sl_value *
sl_pset_get(const struct sl_pset *s, const char *key, uint32_t klen)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->m[i].key_len == klen &&
		    sl_key_eq(s->m[i].key, key, klen))
			return &s->m[i].val;
	return NULL;
}

void
sl_pset_remove(struct sl_pset *s, const char *key, uint32_t klen)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->m[i].key_len == klen &&
		    memcmp(s->m[i].key, key, klen) == 0) {
			memmove(&s->m[i], &s->m[i + 1],
			        (s->n - i - 1) * sizeof(s->m[0]));
			s->n--;
			return;
		}
}

int
sl_pset_copy(struct sl_pset *dst, const struct sl_pset *src, struct sl_arena *a)
{
	dst->n = dst->cap = 0;
	dst->m = NULL;
	dst->dyn_keys = src->dyn_keys;
	if (src->n == 0)
		return 0;
	dst->m = sl_arena_alloc_aligned(a, src->n * sizeof(*dst->m),
	                                _Alignof(struct sl_member));
	if (dst->m == NULL)
		return -1;
	memcpy(dst->m, src->m, src->n * sizeof(*dst->m));
	dst->n = dst->cap = src->n;
	return 0;
}

struct sl_value
sl_pset_value(const struct sl_pset *s)
{
	return sl_object_ref(s->m, s->n);
}

/* --- compiling ---------------------------------------------------------- */

/** A new provider of `kind` described by `tag` and `text` at node `n`. */
static struct sl_prov *
prov_new(enum prov_kind kind, const struct sl_conf *n, const char *tag,
         const char *text)
{
	struct sl_prov *p = sl_calloc(1, sizeof(*p));
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory compiling a provider");
		return NULL;
	}
	p->kind = kind;
	sl_arena_create(&p->mem, PROV_MEM_CHUNK, PROV_MEM_CAP);
	if (n != NULL)
		snprintf(p->desc, sizeof(p->desc), "%s%s%.60s%s (%s:%u:%u)",
		         tag, text != NULL ? " '" : "",
		         text != NULL ? text : "", text != NULL ? "'" : "",
		         n->file != NULL ? n->file : "?", n->line, n->col);
	else
		snprintf(p->desc, sizeof(p->desc), "%s", tag);
	return p;
}

void
sl_prov_delete(struct sl_prov *p)
{
	if (p == NULL)
		return;
	sl_jmes_delete(p->jmes);
	sl_free(p->name);
	sl_prov_delete(p->data);
	sl_propmap_destroy(&p->subs);
	sl_pyfmt_delete(p->fmt);
	sl_regex_delete(p->re);
	sl_free(p->delim);
	if (p->plug != NULL)
		sl_plugin_prov_destroy(p->plug, p->plug_state);
	sl_propmap_destroy(&p->plug_args);
	sl_arena_destroy(&p->mem);
	sl_free(p);
}

/** Copy `n` bytes into a new NUL-terminated string. */
static char *
dup_text(const char *s, size_t n)
{
	char *d = sl_strndup(s, n);
	if (d == NULL)
		sl_diag_set(SL_EOOM, "out of memory compiling a provider");
	return d;
}

/** The characters of string `v` as an array of strings in `a`. */
static int
string_chars(struct sl_arena *a, const struct sl_value *v, struct sl_value *out)
{
	struct sl_value *items = sl_arena_alloc_aligned(
	        a, (v->len + 1) * sizeof(*items), _Alignof(struct sl_value));
	if (items == NULL)
		return -1;
	uint32_t k = 0;
	for (uint32_t i = 0; i < v->len;) {
		uint32_t j = i + 1;
		while (j < v->len && (v->u.s[j] & 0xc0) == 0x80)
			j++;
		items[k++] = sl_str_ref(v->u.s + i, j - i);
		i = j;
	}
	*out = sl_array_ref(items, k);
	return 0;
}

/**
 * Precompute a static value's many values (Python's iteration), except a
 * string's (see `many`).
 */
static int
static_many(struct sl_prov *p)
{
	const struct sl_value *v = &p->value;
	struct sl_arena *a = &p->mem;
	if (v->type == SL_VARRAY || v->type == SL_VSTR) {
		p->many = *v;
		return 0;
	}
	if (v->type == SL_VOBJECT) {
		struct sl_value *items =
		        sl_arena_alloc_aligned(a, (v->len + 1) * sizeof(*items),
		                               _Alignof(struct sl_value));
		if (items == NULL)
			return -1;
		for (uint32_t i = 0; i < v->len; i++)
			items[i] = sl_str_ref(v->u.members[i].key,
			                      v->u.members[i].key_len);
		p->many = sl_array_ref(items, v->len);
		return 0;
	}
	struct sl_value *one = sl_arena_alloc_aligned(
	        a, sizeof(*one), _Alignof(struct sl_value));
	if (one == NULL)
		return -1;
	*one = *v;
	p->many = sl_array_ref(one, 1);
	return 0;
}

struct sl_prov *
sl_prov_static(const struct sl_value *v)
{
	struct sl_prov *p = prov_new(P_STATIC, NULL, "static value", NULL);
	if (p == NULL)
		return NULL;
	if (sl_value_copy(&p->mem, v, &p->value) != 0 || static_many(p) != 0) {
		sl_prov_delete(p);
		return NULL;
	}
	return p;
}

/** Compile a plain (untagged) node as a static value. */
static struct sl_prov *
compile_static(const struct sl_conf *n, const char *what)
{
	struct sl_prov *p = prov_new(P_STATIC, n, "static value", NULL);
	if (p == NULL)
		return NULL;
	if (sl_conf_to_value(n, &p->mem, what, &p->value) != 0 ||
	    static_many(p) != 0) {
		sl_prov_delete(p);
		return NULL;
	}
	return p;
}

/** The required argument `key` of tagged mapping `n`. */
static const struct sl_conf *
required(const struct sl_conf *n, const char *tag, const char *key,
         const char *what)
{
	const struct sl_conf *v = sl_conf_get(n, key);
	if (v == NULL)
		sl_conf_error(n, what, "%s needs '%s'", tag, key);
	return v;
}

/** Compile a !jmespath scalar. */
static struct sl_prov *
compile_jmes(const struct sl_conf *n, const char *what)
{
	if (n->kind != SL_CONF_SCALAR) {
		sl_conf_error(n, what,
		              "!jmespath takes an expression, got a %s",
		              sl_conf_kind_name(n->kind));
		return NULL;
	}
	struct sl_prov *p = prov_new(P_JMES, n, "!jmespath", n->text);
	if (p == NULL)
		return NULL;
	p->jmes = sl_jmes_compile(n->text, n->len);
	if (p->jmes == NULL) {
		sl_prov_delete(p);
		sl_diag_wrap(SL_EPARSE, "%s:%u:%u: %s: !jmespath '%.80s'",
		             n->file != NULL ? n->file : "?", n->line, n->col,
		             what != NULL ? what : "value", n->text);
		return NULL;
	}
	p->path_n = sl_jmes_field_path(p->jmes, p->path, p->path_len,
	                               PATH_MAX_NAMES);
	return p;
}

/** Compile a !variable scalar. */
static struct sl_prov *
compile_variable(const struct sl_conf *n, const char *what)
{
	if (n->kind != SL_CONF_SCALAR) {
		sl_conf_error(n, what, "!variable takes a name, got a %s",
		              sl_conf_kind_name(n->kind));
		return NULL;
	}
	struct sl_prov *p = prov_new(P_VARIABLE, n, "!variable", n->text);
	if (p == NULL)
		return NULL;
	p->name = dup_text(n->text, n->len);
	p->name_len = (uint32_t)n->len;
	if (p->name == NULL) {
		sl_prov_delete(p);
		return NULL;
	}
	return p;
}

/** A string argument of a tagged mapping. */
static int
string_arg(const struct sl_conf *v, const char *what, char **out, uint32_t *len)
{
	const char *s;
	if (sl_conf_str(v, what, &s) != 0)
		return -1;
	*out = dup_text(v->text, v->len);
	if (*out == NULL)
		return -1;
	if (len != NULL)
		*len = (uint32_t)v->len;
	return 0;
}

/** Compile !format. */
static struct sl_prov *
compile_format(const struct sl_conf *n, const char *what)
{
	const struct sl_conf *fmt = required(n, "!format", "fmt", what);
	if (fmt == NULL)
		return NULL;
	struct sl_prov *p =
	        prov_new(P_FORMAT, n, "!format",
	                 fmt->kind == SL_CONF_SCALAR ? fmt->text : NULL);
	if (p == NULL)
		return NULL;
	p->data = sl_prov_compile(fmt, what);
	if (p->data == NULL)
		goto fail;
	/* The substitutions: every other key. */
	uint32_t nsubs = n->n - 1;
	p->subs.names = sl_calloc(nsubs + 1, sizeof(char *));
	p->subs.lens = sl_calloc(nsubs + 1, sizeof(uint32_t));
	p->subs.provs = sl_calloc(nsubs + 1, sizeof(struct sl_prov *));
	if (p->subs.names == NULL || p->subs.lens == NULL ||
	    p->subs.provs == NULL) {
		sl_diag_set(SL_EOOM, "out of memory compiling !format");
		goto fail;
	}
	for (uint32_t i = 0; i < n->n; i++) {
		const struct sl_conf *k = n->items[2 * i];
		if (k->kind != SL_CONF_SCALAR) {
			sl_conf_error(k, what, "!format: expected a name");
			goto fail;
		}
		if (strcmp(k->text, "fmt") == 0)
			continue;
		uint32_t j = p->subs.n;
		p->subs.names[j] = dup_text(k->text, k->len);
		p->subs.lens[j] = (uint32_t)k->len;
		if (p->subs.names[j] == NULL)
			goto fail;
		p->subs.n++;
		p->subs.provs[j] = sl_prov_compile(n->items[2 * i + 1], what);
		if (p->subs.provs[j] == NULL)
			goto fail;
	}
	const struct sl_value *sv = sl_prov_static_value(p->data);
	if (sv != NULL) {
		if (sv->type != SL_VSTR) {
			sl_conf_error(fmt, what,
			              "!format: fmt must be a string");
			goto fail;
		}
		p->fmt = sl_pyfmt_parse(sv->u.s, sv->len);
		if (p->fmt == NULL) {
			sl_diag_wrap(SL_EINVAL, "%s:%u:%u: %s: !format",
			             fmt->file != NULL ? fmt->file : "?",
			             fmt->line, fmt->col,
			             what != NULL ? what : "value");
			goto fail;
		}
		/* Every field the format names must be given. */
		for (uint32_t f = 0; f < sl_pyfmt_nfields(p->fmt); f++) {
			const char *name;
			size_t len;
			sl_pyfmt_field(p->fmt, f, &name, &len);
			bool found = false;
			for (uint32_t j = 0; j < p->subs.n && !found; j++)
				found = p->subs.lens[j] == len &&
				        memcmp(p->subs.names[j], name, len) ==
				                0;
			if (!found) {
				sl_conf_error(
				        fmt, what,
				        "!format: the format names '%.*s', "
				        "which is not given",
				        (int)len, name);
				goto fail;
			}
		}
	}
	return p;
fail:
	sl_prov_delete(p);
	return NULL;
}

/**
 * A compiled Python regular expression. It is read-only once compiled, so
 * threads may match with it at once: match data is per thread.
 */
struct sl_regex {
	/** The pattern. */
	pcre2_code *code;
	/** Number of capture groups. */
	uint32_t groups;
};

/** The key of each thread's match data (freed when the thread ends). */
static pthread_key_t md_key;
/** Makes `md_key` once. */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
/** Whether `md_key` could be made. */
static bool md_key_ok;

/** Thread-exit destructor of a thread's match data. */
static void
md_free(void *md)
{
	pcre2_match_data_free(md);
}

/** Make `md_key`. */
static void
md_key_make(void)
{
	md_key_ok = pthread_key_create(&md_key, md_free) == 0;
}

/**
 * The calling thread's match data, with room for `groups` groups. NULL
 * with an error.
 */
static pcre2_match_data *
thread_md(uint32_t groups)
{
	pthread_once(&md_once, md_key_make);
	if (!md_key_ok) {
		sl_diag_set(SL_ESYSTEM, "cannot make a thread key for regular "
		                        "expressions");
		return NULL;
	}
	pcre2_match_data *md = pthread_getspecific(md_key);
	if (md != NULL && pcre2_get_ovector_count(md) > groups)
		return md;
	/* At least 16 pairs, so most patterns never grow it. */
	uint32_t pairs = groups + 1 > 16 ? groups + 1 : 16;
	pcre2_match_data *bigger = pcre2_match_data_create(pairs, NULL);
	if (bigger == NULL || pthread_setspecific(md_key, bigger) != 0) {
		if (bigger != NULL)
			pcre2_match_data_free(bigger);
		sl_diag_set(SL_EOOM, "out of memory matching a regex");
		return NULL;
	}
	if (md != NULL)
		pcre2_match_data_free(md);
	return bigger;
}

void
sl_regex_delete(struct sl_regex *r)
{
	if (r == NULL)
		return;
	if (r->code != NULL)
		pcre2_code_free(r->code);
	sl_free(r);
}

/**
 * Rewrite Python `re` syntax PCRE2 reads differently: \Z (end of string
 * only) becomes \z. Returns a new string or NULL.
 */
static char *
python_pattern(const char *s, size_t n, size_t *out_len)
{
	char *d = sl_malloc(n + 1);
	if (d == NULL)
		return NULL;
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			d[w++] = '\\';
			d[w++] = s[i + 1] == 'Z' ? 'z' : s[i + 1];
			i++;
			continue;
		}
		d[w++] = s[i];
	}
	d[w] = '\0';
	*out_len = w;
	return d;
}

struct sl_regex *
sl_regex_compile(const struct sl_conf *at, const char *what)
{
	const char *text;
	if (sl_conf_str(at, what, &text) != 0)
		return NULL;
	struct sl_regex *r = sl_calloc(1, sizeof(*r));
	size_t len;
	char *pat = r != NULL ? python_pattern(at->text, at->len, &len) : NULL;
	if (pat == NULL) {
		sl_free(r);
		sl_diag_set(SL_EOOM, "out of memory compiling a regex");
		return NULL;
	}
	int err;
	PCRE2_SIZE off;
	r->code = pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_UTF | PCRE2_UCP,
	                        &err, &off, NULL);
	sl_free(pat);
	if (r->code == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof(msg));
		sl_free(r);
		sl_conf_error(at, what,
		              "invalid regular expression at offset %zu: %s",
		              (size_t)off, (const char *)msg);
		return NULL;
	}
	/* JIT where the platform has it; the interpreter otherwise. Not
	 * under valgrind: JIT code reads whole words past the subject's end
	 * (harmless, but memcheck reports the uninitialised bytes). */
	if (!RUNNING_ON_VALGRIND)
		(void)pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
	pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &r->groups);
	return r;
}

int
sl_regex_group(const struct sl_regex *r, const struct sl_conf *g,
               const char *what, uint32_t *out)
{
	int64_t num;
	if (!sl_conf_is_str(g) && sl_conf_int(g, what, &num) == 0) {
		if (num < 0 || num > r->groups)
			return sl_conf_error(
			        g, what, "no group %lld (the pattern has %u)",
			        (long long)num, r->groups);
		*out = (uint32_t)num;
		return 0;
	}
	sl_diag_clear(sl_diag_get());
	int k = pcre2_substring_number_from_name(r->code, (PCRE2_SPTR)g->text);
	if (k < 0)
		return sl_conf_error(g, what, "no group named '%s'", g->text);
	*out = (uint32_t)k;
	return 0;
}

int
sl_regex_exec(struct sl_regex *r, const char *s, size_t n, bool anchored,
              uint32_t group, struct sl_value *out)
{
	*out = sl_null();
	pcre2_match_data *md = thread_md(r->groups);
	if (md == NULL)
		return -1;
	int rc = pcre2_match(r->code, (PCRE2_SPTR)s, n, 0,
	                     anchored ? PCRE2_ANCHORED : 0, md, NULL);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(rc, msg, sizeof(msg));
		sl_diag_set(SL_EINVAL, "regular expression failed: %s",
		            (const char *)msg);
		return -1;
	}
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	if (group < (uint32_t)rc && ov[2 * group] != PCRE2_UNSET)
		*out = sl_str_ref(
		        s + ov[2 * group],
		        (uint32_t)(ov[2 * group + 1] - ov[2 * group]));
	return 1;
}

/**
 * What a provider written as a mapping takes: its tag, its kind, the
 * argument that says how (`regex`, `delimiter`, `using`, `to`,
 * `mapping_name`) and the one holding the data provider (`data`, or `key`
 * for !mapping), and the other arguments it accepts.
 */
struct mapped_kind {
	/** The tag. */
	const char *tag;
	/** The kind of provider. */
	enum prov_kind kind;
	/** Every argument, NULL-terminated: [0] the "how", [1] the data. */
	const char *keys[4];
};

/** Set up the part of `p` its "how" argument `how` gives. */
static int
mapped_how(struct sl_prov *p, const struct sl_conf *n,
           const struct sl_conf *how, const char *what)
{
	const char *text;
	switch (p->kind) {
	case P_REGEX: {
		if ((p->re = sl_regex_compile(how, what)) == NULL)
			return -1;
		const struct sl_conf *g = sl_conf_get(n, "group");
		if (g != NULL && !sl_conf_is_null(g))
			return sl_regex_group(p->re, g, what, &p->group);
		return 0;
	}
	case P_SPLIT:
		if (string_arg(how, what, &p->delim, &p->delim_len) != 0)
			return -1;
		if (p->delim_len == 0)
			return sl_conf_error(how, what,
			                     "!split: empty delimiter");
		return 0;
	case P_NORMALIZE:
		if (sl_conf_str(how, what, &text) != 0)
			return -1;
		p->norm = sl_norm_by_alias(text, strlen(text));
		if (p->norm == 0)
			return sl_conf_error(
			        how, what,
			        "!normalize: unknown normalizer "
			        "'%s' (expected lowercase_strings, "
			        "uppercase_strings, trim_whitespace "
			        "or remove_trailing_dots)",
			        text);
		return 0;
	case P_CAST:
		if (sl_conf_str(how, what, &text) != 0)
			return -1;
		p->cast = sl_py_cast_by_name(text);
		if (p->cast == 0)
			return sl_conf_error(
			        how, what,
			        "!cast: cannot cast to '%s' "
			        "(expected int, float, decimal, str, "
			        "bool or bytes)",
			        text);
		return 0;
	case P_MAPPING:
		return string_arg(how, what, &p->name, &p->name_len);
	default:
		return 0;
	}
}

/** Compile a provider written as a mapping of arguments (not !format). */
static struct sl_prov *
compile_mapped(const struct mapped_kind *mk, const struct sl_conf *n,
               const char *what)
{
	const struct sl_conf *how, *data;
	if (sl_conf_check_keys(n, mk->keys, what, mk->tag) != 0 ||
	    (how = required(n, mk->tag, mk->keys[0], what)) == NULL ||
	    (data = required(n, mk->tag, mk->keys[1], what)) == NULL)
		return NULL;
	struct sl_prov *p =
	        prov_new(mk->kind, n, mk->tag,
	                 how->kind == SL_CONF_SCALAR ? how->text : NULL);
	if (p == NULL)
		return NULL;
	if (mapped_how(p, n, how, what) != 0 ||
	    (p->data = sl_prov_compile(data, what)) == NULL) {
		sl_prov_delete(p);
		return NULL;
	}
	return p;
}

/**
 * Compile a plugin's provider `pp` at `n`: a mapping of arguments becomes
 * a property mapping evaluated per record (static entries stay static),
 * anything else a static value. The plugin's compile sees the static
 * arguments, a nested provider as null.
 */
static struct sl_prov *
compile_plugin(const struct sl_plugin_prov *pp, const struct sl_conf *n,
               const char *what)
{
	struct sl_prov *p =
	        prov_new(P_PLUGIN, n, n->tag,
	                 n->kind == SL_CONF_SCALAR ? n->text : NULL);
	if (p == NULL)
		return NULL;
	p->plug_static = sl_null();
	struct sl_value args = sl_null();
	/* The arguments without the plugin's tag (else they would compile
	 * as this provider again). */
	struct sl_conf plain = *n;
	plain.tag = NULL;
	if (n->kind == SL_CONF_MAP) {
		if (sl_propmap_compile(&p->plug_args, &plain, what) != 0)
			goto fail;
		uint32_t cnt = p->plug_args.n;
		struct sl_member *m =
		        cnt > 0 ? sl_arena_alloc_aligned(
		                          &p->mem, cnt * sizeof(*m),
		                          _Alignof(struct sl_member))
		                : NULL;
		if (cnt > 0 && m == NULL)
			goto fail;
		for (uint32_t i = 0; i < cnt; i++) {
			const struct sl_value *sv =
			        sl_prov_static_value(p->plug_args.provs[i]);
			m[i].key = p->plug_args.names[i];
			m[i].key_len = p->plug_args.lens[i];
			m[i].val = sv != NULL ? *sv : sl_null();
		}
		args = sl_object_ref(m, cnt);
	} else if (!sl_conf_is_null(n)) {
		if (sl_conf_to_value(&plain, &p->mem, what, &p->plug_static) !=
		    0)
			goto fail;
		args = p->plug_static;
	}
	if (sl_plugin_prov_compile(pp, &args, what, &p->plug_state) != 0)
		goto fail;
	p->plug = pp;
	return p;
fail:
	sl_prov_delete(p);
	return NULL;
}

/** sl_prov_compile() without the place of errors and the budget. */
static struct sl_prov *
compile_node(const struct sl_conf *n, const char *what)
{
	const char *tag = n->tag;
	if (tag == NULL || strncmp(tag, "tag:yaml.org,2002:", 18) == 0)
		return compile_static(n, what);
	if (strcmp(tag, "!jmespath") == 0)
		return compile_jmes(n, what);
	if (strcmp(tag, "!variable") == 0)
		return compile_variable(n, what);
	static const struct mapped_kind mapped[] = {
	        {"!regex", P_REGEX, {"regex", "data", "group", NULL}},
	        {"!split", P_SPLIT, {"delimiter", "data", NULL}},
	        {"!normalize", P_NORMALIZE, {"using", "data", NULL}},
	        {"!cast", P_CAST, {"to", "data", NULL}},
	        {"!mapping", P_MAPPING, {"mapping_name", "key", NULL}},
	};
	const struct mapped_kind *mk = NULL;
	for (size_t i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++)
		if (strcmp(tag, mapped[i].tag) == 0)
			mk = &mapped[i];
	bool is_format = strcmp(tag, "!format") == 0;
	const struct sl_plugin_prov *pp = sl_plugin_prov_find(tag);
	if (mk == NULL && !is_format && pp != NULL)
		return compile_plugin(pp, n, what);
	if (mk == NULL && !is_format) {
		sl_conf_error(
		        n, what,
		        "unknown value provider %s (expected " SL_CONF_PROV_TAGS
		        ")",
		        tag);
		return NULL;
	}
	if (n->kind != SL_CONF_MAP) {
		sl_conf_error(n, what,
		              "%s takes a mapping of arguments, got a %s", tag,
		              sl_conf_kind_name(n->kind));
		return NULL;
	}
	return is_format ? compile_format(n, what)
	                 : compile_mapped(mk, n, what);
}

struct sl_prov *
sl_prov_compile(const struct sl_conf *n, const char *what)
{
	struct sl_prov *p = compile_node(n, what);
	if (p == NULL) {
		sl_conf_place_error(n, what);
		return NULL;
	}
	if (sl_conf_charge(n, what, sizeof(*p) + p->mem.reserved) != 0) {
		sl_prov_delete(p);
		return NULL;
	}
	return p;
}

const struct sl_value *
sl_prov_static_value(const struct sl_prov *p)
{
	return p->kind == P_STATIC ? &p->value : NULL;
}

const char *
sl_prov_describe(const struct sl_prov *p)
{
	return p->desc;
}

/* --- evaluating --------------------------------------------------------- */

/** Wrap the current error with the provider's description. */
static int
fail(const struct sl_prov *p)
{
	sl_diag_wrap(sl_diag_code() != SL_EOK ? sl_diag_code() : SL_EINVAL,
	             "%s", p->desc);
	return -1;
}

/** An arena failure while evaluating. */
static int
arena_full(const struct sl_prov *p)
{
	if (sl_diag_code() == SL_EOK)
		sl_diag_set(SL_ELIMIT, "scratch memory of a record is full");
	return fail(p);
}

/** The array [v] in the scratch arena. */
static int
one_item(struct sl_prov_ctx *c, struct sl_value v, struct sl_value *out)
{
	struct sl_value *it = sl_arena_alloc_aligned(c->a, sizeof(*it),
	                                             _Alignof(struct sl_value));
	if (it == NULL)
		return -1;
	*it = v;
	*out = sl_array_ref(it, 1);
	return 0;
}

/* --- field paths looked up together -------------------------------------- */

/** A name of the tree: a field of its parent's value. */
struct pnode {
	/** The parent node (0: the document). */
	uint32_t parent;
	/** The name (in a provider's expression). */
	const char *name;
	/** Its length. */
	uint32_t len;
	/** Its children's first place (struct pnode.pos). */
	uint32_t kid;
	/** Number of children. */
	uint32_t n_kids;
	/** Its place in its parent's children: its value is val[pos] in a
	 * struct sl_paths_run. */
	uint32_t pos;
	/** Its children's names: tab[slot, slot + mask + 1). */
	uint32_t slot;
	/** Size of that table minus one (a power of two minus one). */
	uint32_t mask;
};

/** A slot of a node's table of its children's names. */
struct pent {
	/** The name, or NULL for an empty slot. */
	const char *name;
	/** Its length. */
	uint32_t len;
	/** The child's place among its parent's children. */
	uint32_t idx;
};

struct sl_paths {
	/** The nodes; node 0 is the document. */
	struct pnode *nodes;
	/** Nodes in use. */
	uint32_t n;
	/** Capacity of `nodes`. */
	uint32_t cap;
	/** Every node's table of its children's names. */
	struct pent *tab;
	/** Places of the children's values (struct pnode.kid): each
	 * node's from a multiple of PATHS_CLEAR, PATHS_CLEAR at least. */
	uint32_t n_slots;
};

/**
 * Children whose values paths_expand() clears at once (a memset() of a
 * known size, inline); the places of each node's children are padded to
 * a multiple of it.
 */
#define PATHS_CLEAR 8

/** The hash of a name for a node's table. */
static inline uint32_t
name_hash(const char *k, uint32_t len)
{
	if (len == 0)
		return 0;
	return (len * 31u + (uint8_t)k[0]) * 31u + (uint8_t)k[len - 1];
}

struct sl_paths *
sl_paths_new(void)
{
	struct sl_paths *pl = sl_calloc(1, sizeof(*pl));
	if (pl != NULL)
		pl->nodes = sl_calloc(8, sizeof(*pl->nodes));
	if (pl == NULL || pl->nodes == NULL) {
		sl_free(pl);
		sl_diag_set(SL_EOOM, "out of memory for field paths");
		return NULL;
	}
	pl->n = 1;
	pl->cap = 8;
	return pl;
}

void
sl_paths_delete(struct sl_paths *pl)
{
	if (pl == NULL)
		return;
	sl_free(pl->nodes);
	sl_free(pl->tab);
	sl_free(pl);
}

/** The child of `parent` named name[0, len), made if new; 0 if out of
 * memory. */
static uint32_t
paths_child(struct sl_paths *pl, uint32_t parent, const char *name,
            uint32_t len)
{
	for (uint32_t i = 1; i < pl->n; i++)
		if (pl->nodes[i].parent == parent && pl->nodes[i].len == len &&
		    memcmp(pl->nodes[i].name, name, len) == 0)
			return i;
	if (pl->n == pl->cap) {
		struct pnode *v =
		        sl_realloc(pl->nodes, 2 * pl->cap * sizeof(*pl->nodes));
		if (v == NULL)
			return 0;
		pl->nodes = v;
		pl->cap *= 2;
	}
	pl->nodes[pl->n] =
	        (struct pnode){.parent = parent, .name = name, .len = len};
	return pl->n++;
}

int
sl_paths_add(struct sl_paths *pl, struct sl_propmap *m)
{
	for (uint32_t i = 0; i < m->n; i++) {
		struct sl_prov *p = m->provs[i];
		if (p->kind != P_JMES || p->path_n == 0 || p->path_plan != NULL)
			continue;
		uint32_t node = 0;
		for (uint32_t j = 0; j < p->path_n; j++) {
			node = paths_child(pl, node, p->path[j],
			                   p->path_len[j]);
			if (node == 0) {
				sl_diag_set(SL_EOOM,
				            "out of memory for field paths");
				return -1;
			}
		}
		p->path_plan = pl;
		p->path_node = node;
	}
	return 0;
}

int
sl_paths_seal(struct sl_paths *pl)
{
	sl_free(pl->tab);
	pl->tab = NULL;
	for (uint32_t i = 0; i < pl->n; i++)
		pl->nodes[i].n_kids = 0;
	for (uint32_t i = 1; i < pl->n; i++)
		pl->nodes[pl->nodes[i].parent].n_kids++;
	/* Tables at least four times the names: a name not wanted mostly
	 * lands on an empty slot at once. */
	uint32_t kid = 0, slots = 0;
	for (uint32_t i = 0; i < pl->n; i++) {
		struct pnode *nd = &pl->nodes[i];
		nd->kid = kid;
		kid += (nd->n_kids + PATHS_CLEAR - 1) / PATHS_CLEAR *
		       PATHS_CLEAR;
		uint32_t size = 8;
		while (size < 4 * nd->n_kids)
			size *= 2;
		nd->slot = slots;
		nd->mask = size - 1;
		slots += nd->n_kids > 0 ? size : 0;
		nd->n_kids = 0;
	}
	pl->n_slots = kid;
	pl->tab = sl_calloc(slots > 0 ? slots : 1, sizeof(*pl->tab));
	if (pl->tab == NULL)
		goto oom;
	for (uint32_t i = 1; i < pl->n; i++) {
		struct pnode *pa = &pl->nodes[pl->nodes[i].parent];
		uint32_t idx = pa->n_kids++;
		pl->nodes[i].pos = pa->kid + idx;
		uint32_t h = name_hash(pl->nodes[i].name, pl->nodes[i].len);
		while (pl->tab[pa->slot + (h & pa->mask)].name != NULL)
			h++;
		pl->tab[pa->slot + (h & pa->mask)] =
		        (struct pent){pl->nodes[i].name, pl->nodes[i].len, idx};
	}
	return 0;
oom:
	sl_diag_set(SL_EOOM, "out of memory for field paths");
	return -1;
}

bool
sl_paths_any(const struct sl_paths *pl)
{
	return pl != NULL && pl->n > 1;
}

int
sl_paths_run_init(struct sl_paths_run *r, const struct sl_paths *pl)
{
	memset(r, 0, sizeof(*r));
	r->plan = pl;
	r->done = sl_calloc(pl->n, sizeof(*r->done));
	r->val = sl_calloc(pl->n_slots + PATHS_CLEAR, sizeof(*r->val));
	r->memo = sl_calloc((size_t)pl->n * SL_PATHS_MEMO, sizeof(*r->memo));
	if (r->done == NULL || r->val == NULL || r->memo == NULL) {
		sl_paths_run_destroy(r);
		sl_diag_set(SL_EOOM, "out of memory for field paths");
		return -1;
	}
	/* No name remembered yet (a length no name has). */
	for (size_t i = 0; i < (size_t)pl->n * SL_PATHS_MEMO; i++)
		r->memo[i].len = UINT32_MAX;
	return 0;
}

void
sl_paths_run_destroy(struct sl_paths_run *r)
{
	sl_free(r->done);
	sl_free(r->val);
	sl_free(r->memo);
	memset(r, 0, sizeof(*r));
}

static void paths_expand(struct sl_paths_run *r, uint32_t p);

/** The entry of name k[0, len) in a node's table, or NULL. */
static inline const struct pent *
paths_find(const struct pent *tab, uint32_t mask, const char *k, uint32_t len)
{
	for (uint32_t h = name_hash(k, len);; h++) {
		const struct pent *e = &tab[h & mask];
		if (e->name == NULL)
			return NULL;
		if (e->len == len && sl_key_eq(e->name, k, len))
			return e;
	}
}

/**
 * The value of node `node` in the run's document, as path_value() finds
 * it, or NULL.
 */
static inline const struct sl_value *
paths_value(struct sl_paths_run *r, uint32_t node)
{
	const struct pnode *nd = &r->plan->nodes[node];
	if (r->done[nd->parent] != r->gen)
		paths_expand(r, nd->parent);
	return r->val[nd->pos];
}

/**
 * Find the values of every child of node `p`, whose value is `v`, in one
 * pass over it:
 * each member's name looked up in p's table; a later member of the same
 * name replaces an earlier one (the last of duplicate keys wins, as
 * sl_object_get()).
 */
static inline __attribute__((always_inline)) void
paths_expand_at(struct sl_paths_run *r, uint32_t p, const struct sl_value *v)
{
	const struct sl_paths *pl = r->plan;
	const struct pnode *nd = &pl->nodes[p];
	/* The children's values are val[kid, kid + n_kids), with room to
	 * clear PATHS_CLEAR at once. */
	const struct sl_value **val = r->val + nd->kid;
	if (nd->n_kids <= PATHS_CLEAR)
		memset(val, 0, PATHS_CLEAR * sizeof(*val));
	else
		for (uint32_t i = 0; i < nd->n_kids; i++)
			val[i] = NULL;
	r->done[p] = r->gen;
	if (v == NULL || v->type != SL_VOBJECT)
		return;
	const struct pent *tab = pl->tab + nd->slot;
	uint32_t mask = nd->mask;
	const struct sl_member *ms = v->u.members;
	/* Objects mostly repeat their members' order: the member at a
	 * position is first compared with the name there last time (a
	 * length of UINT32_MAX: none). */
	struct sl_paths_memo *memo = r->memo + (size_t)p * SL_PATHS_MEMO;
	uint32_t n = v->len < SL_PATHS_MEMO ? v->len : SL_PATHS_MEMO;
	for (uint32_t i = 0; i < n; i++) {
		const char *k = ms[i].key;
		uint32_t len = ms[i].key_len;
		if (memo[i].len == len && sl_key_eq(memo[i].name, k, len)) {
			val[memo[i].idx] = &ms[i].val;
			continue;
		}
		const struct pent *e = paths_find(tab, mask, k, len);
		memo[i] = (struct sl_paths_memo){NULL, UINT32_MAX, 0};
		if (e != NULL) {
			val[e->idx] = &ms[i].val;
			memo[i] = (struct sl_paths_memo){e->name, len, e->idx};
		}
	}
	for (uint32_t i = n; i < v->len; i++) {
		const struct pent *e =
		        paths_find(tab, mask, ms[i].key, ms[i].key_len);
		if (e != NULL)
			val[e->idx] = &ms[i].val;
	}
}

/** paths_expand_at() of node `p`'s value. */
static void
paths_expand(struct sl_paths_run *r, uint32_t p)
{
	paths_expand_at(r, p, p == 0 ? r->doc : paths_value(r, p));
}

/**
 * The value of a !jmespath field path: as the evaluator's chain, null
 * once a name is missing or a value is not an object.
 */
static inline struct sl_value
path_value(const struct sl_prov *p, const struct sl_value *doc)
{
	const struct sl_value *v = doc;
	for (uint32_t i = 0; i < p->path_n && v != NULL; i++)
		v = sl_object_get(v, p->path[i], p->path_len[i]);
	return v != NULL ? *v : sl_null();
}

/** The raw result of a !jmespath provider. */
static inline __attribute__((always_inline)) int
jmes_raw(const struct sl_prov *p, struct sl_prov_ctx *c, struct sl_value *out)
{
	if (p->path_n > 0) {
		if (p->path_plan != NULL && c->paths != NULL &&
		    c->paths->plan == p->path_plan && c->paths->doc == c->doc) {
			const struct sl_value *pv =
			        paths_value(c->paths, p->path_node);
			*out = pv != NULL ? *pv : sl_null();
		} else {
			*out = path_value(p, c->doc);
		}
		return 0;
	}
	if (sl_jmes_eval(p->jmes, c->doc, c->a, out) != 0)
		return fail(p);
	return 0;
}

/** Run the regex of `p` on `v`; *out is the group or null. */
static int
regex_apply(const struct sl_prov *p, const struct sl_value *v,
            struct sl_value *out)
{
	if (v->type != SL_VSTR) {
		sl_diag_set(SL_EINVAL,
		            "expected string or bytes-like object, got '%s'",
		            sl_py_type(v));
		return -1;
	}
	return sl_regex_exec(p->re, v->u.s, v->len, false, p->group, out) < 0
	               ? -1
	               : 0;
}

/** The formatted string of a !format provider, or null. */
static int
format_single(const struct sl_prov *p, struct sl_prov_ctx *c,
              struct sl_value *out)
{
	struct sl_value fmt;
	if (sl_prov_single(p->data, c, &fmt) != 0)
		return -1;
	if (fmt.type == SL_VNULL) {
		*out = sl_null();
		return 0;
	}
	struct sl_value subs[64];
	struct sl_value *sv = subs;
	if (p->subs.n > 64) {
		sv = sl_arena_alloc_aligned(c->a, p->subs.n * sizeof(*sv),
		                            _Alignof(struct sl_value));
		if (sv == NULL)
			return arena_full(p);
	}
	for (uint32_t i = 0; i < p->subs.n; i++) {
		if (sl_prov_single(p->subs.provs[i], c, &sv[i]) != 0)
			return -1;
		if (sv[i].type == SL_VNULL) {
			*out = sl_null();
			return 0;
		}
	}
	struct sl_pyfmt *parsed = p->fmt;
	if (parsed == NULL) {
		if (fmt.type != SL_VSTR) {
			sl_diag_set(SL_EINVAL, "the format is a %s, not a str",
			            sl_py_type(&fmt));
			return fail(p);
		}
		parsed = sl_pyfmt_parse(fmt.u.s, fmt.len);
		if (parsed == NULL)
			return fail(p);
	}
	int rc = sl_pyfmt_format(parsed, (const char *const *)p->subs.names,
	                         p->subs.lens, sv, p->subs.n, c->a, out);
	if (parsed != p->fmt)
		sl_pyfmt_delete(parsed);
	return rc != 0 ? fail(p) : 0;
}

/** The value of a plugin's provider: its arguments, then its eval. */
static int
plugin_single(const struct sl_prov *p, struct sl_prov_ctx *c,
              struct sl_value *out)
{
	struct sl_value args = p->plug_static;
	if (p->plug_args.n > 0 || p->plug_args.whole != NULL) {
		struct sl_pset set = {0};
		if (sl_propmap_apply(&p->plug_args, c, NULL, &set) != 0)
			return -1;
		args = sl_pset_value(&set);
	}
	if (sl_plugin_prov_eval(p->plug, p->plug_state, &args, c->doc, c->a,
	                        out) != 0)
		return fail(p);
	return 0;
}

int
sl_prov_single(const struct sl_prov *p, struct sl_prov_ctx *c,
               struct sl_value *out)
{
	switch (p->kind) {
	case P_STATIC:
		*out = p->value;
		return 0;
	case P_JMES:
		if (jmes_raw(p, c, out) != 0)
			return -1;
		if (out->type == SL_VARRAY)
			*out = out->len > 0 ? out->u.items[0] : sl_null();
		return 0;
	case P_VARIABLE: {
		const struct sl_value *v =
		        sl_pset_get(&c->vars, p->name, p->name_len);
		*out = v != NULL ? *v : sl_null();
		return 0;
	}
	case P_FORMAT:
		return format_single(p, c, out);
	case P_REGEX: {
		struct sl_value v;
		if (sl_prov_single(p->data, c, &v) != 0)
			return -1;
		return regex_apply(p, &v, out) != 0 ? fail(p) : 0;
	}
	case P_CAST: {
		struct sl_value v;
		if (sl_prov_single(p->data, c, &v) != 0)
			return -1;
		return sl_py_cast(p->cast, &v, c->a, out) != 0 ? fail(p) : 0;
	}
	case P_SPLIT:
	case P_NORMALIZE: {
		struct sl_value many;
		if (sl_prov_many(p, c, &many) != 0)
			return -1;
		*out = many.len > 0 ? many.u.items[0] : sl_null();
		return 0;
	}
	case P_MAPPING: {
		const struct sl_value *maps = c->mappings;
		const struct sl_value *m =
		        maps != NULL ? sl_object_get(maps, p->name, p->name_len)
		                     : NULL;
		*out = sl_null();
		if (m == NULL || !sl_py_truthy(m))
			return 0;
		struct sl_value key;
		if (sl_prov_single(p->data, c, &key) != 0)
			return -1;
		if (!sl_py_truthy(&key) || key.type != SL_VSTR)
			return 0;
		const struct sl_value *v = sl_object_get(m, key.u.s, key.len);
		if (v != NULL)
			*out = *v;
		return 0;
	}
	case P_PLUGIN:
		return plugin_single(p, c, out);
	}
	return 0;
}

/** The array of `src` mapped through `fn` into the scratch arena. */
static int
map_many(const struct sl_prov *p, struct sl_prov_ctx *c,
         const struct sl_value *src, struct sl_value *out)
{
	struct sl_value *items =
	        sl_arena_alloc_aligned(c->a, (src->len + 1) * sizeof(*items),
	                               _Alignof(struct sl_value));
	if (items == NULL)
		return arena_full(p);
	for (uint32_t i = 0; i < src->len; i++) {
		const struct sl_value *v = &src->u.items[i];
		int rc = 0;
		switch (p->kind) {
		case P_REGEX:
			rc = regex_apply(p, v, &items[i]);
			break;
		case P_CAST:
			rc = sl_py_cast(p->cast, v, c->a, &items[i]);
			break;
		case P_NORMALIZE:
			items[i] = *v;
			rc = sl_norm_apply_op(p->norm, &items[i], c->a);
			break;
		default:
			items[i] = *v;
			break;
		}
		if (rc != 0)
			return fail(p);
	}
	*out = sl_array_ref(items, src->len);
	return 0;
}

/** Split every string of `src` by the delimiter of `p`. */
static int
split_many(const struct sl_prov *p, struct sl_prov_ctx *c,
           const struct sl_value *src, struct sl_value *out)
{
	uint32_t total = 0;
	for (uint32_t i = 0; i < src->len; i++) {
		const struct sl_value *v = &src->u.items[i];
		if (v->type != SL_VSTR) {
			struct sl_buf b;
			sl_buf_create(&b, 200);
			sl_py_repr(v, &b);
			sl_diag_set(SL_EINVAL,
			            "expected strings to split, got %s",
			            b.data != NULL ? b.data : "?");
			sl_buf_destroy(&b);
			return fail(p);
		}
		total++;
		for (const char *s = v->u.s, *end = s + v->len;
		     (s = memmem(s, (size_t)(end - s), p->delim,
		                 p->delim_len)) != NULL;
		     s += p->delim_len)
			total++;
	}
	struct sl_value *items = sl_arena_alloc_aligned(
	        c->a, (total + 1) * sizeof(*items), _Alignof(struct sl_value));
	if (items == NULL)
		return arena_full(p);
	uint32_t k = 0;
	for (uint32_t i = 0; i < src->len; i++) {
		const char *s = src->u.items[i].u.s;
		const char *end = s + src->u.items[i].len;
		for (;;) {
			const char *d = memmem(s, (size_t)(end - s), p->delim,
			                       p->delim_len);
			const char *stop = d != NULL ? d : end;
			items[k++] = sl_str_ref(s, (uint32_t)(stop - s));
			if (d == NULL)
				break;
			s = d + p->delim_len;
		}
	}
	*out = sl_array_ref(items, k);
	return 0;
}

int
sl_prov_many(const struct sl_prov *p, struct sl_prov_ctx *c,
             struct sl_value *out)
{
	struct sl_value v;
	switch (p->kind) {
	case P_STATIC:
		if (p->many.type == SL_VSTR)
			return string_chars(c->a, &p->many, out) != 0
			               ? arena_full(p)
			               : 0;
		*out = p->many;
		return 0;
	case P_JMES:
	case P_VARIABLE:
	case P_PLUGIN:
		if (p->kind == P_JMES) {
			if (jmes_raw(p, c, &v) != 0)
				return -1;
		} else if (sl_prov_single(p, c, &v) != 0) {
			return -1;
		}
		if (v.type == SL_VNULL) {
			*out = sl_array_ref(NULL, 0);
			return 0;
		}
		if (v.type == SL_VARRAY) {
			*out = v;
			return 0;
		}
		return one_item(c, v, out) != 0 ? arena_full(p) : 0;
	case P_FORMAT:
	case P_MAPPING:
		if (sl_prov_single(p, c, &v) != 0)
			return -1;
		if (!sl_py_truthy(&v)) {
			*out = sl_array_ref(NULL, 0);
			return 0;
		}
		return one_item(c, v, out) != 0 ? arena_full(p) : 0;
	case P_REGEX:
	case P_CAST:
	case P_NORMALIZE:
		if (sl_prov_many(p->data, c, &v) != 0)
			return -1;
		return map_many(p, c, &v, out);
	case P_SPLIT:
		if (sl_prov_many(p->data, c, &v) != 0)
			return -1;
		return split_many(p, c, &v, out);
	}
	return 0;
}

int
sl_prov_single_norm(const struct sl_prov *p, struct sl_prov_ctx *c,
                    const struct sl_norm *nm, struct sl_value *out)
{
	if (sl_prov_single(p, c, out) != 0)
		return -1;
	if (sl_norm_apply(nm, out, c->a) != 0)
		return arena_full(p);
	return 0;
}

/* --- property mappings -------------------------------------------------- */

int
sl_propmap_compile(struct sl_propmap *m, const struct sl_conf *n,
                   const char *what)
{
	memset(m, 0, sizeof(*m));
	if (n == NULL || sl_conf_is_null(n))
		return 0;
	if (n->tag != NULL && n->tag[0] == '!') {
		m->whole = sl_prov_compile(n, what);
		return m->whole != NULL ? 0 : -1;
	}
	if (n->kind != SL_CONF_MAP)
		return sl_conf_error(
		        n, what,
		        "expected a mapping of names to values, or "
		        "a provider returning one, got a %s",
		        sl_conf_kind_name(n->kind));
	m->names = sl_calloc(n->n + 1, sizeof(char *));
	m->lens = sl_calloc(n->n + 1, sizeof(uint32_t));
	m->provs = sl_calloc(n->n + 1, sizeof(struct sl_prov *));
	if (m->names == NULL || m->lens == NULL || m->provs == NULL) {
		sl_propmap_destroy(m);
		sl_diag_set(SL_EOOM, "out of memory compiling %s",
		            what != NULL ? what : "a mapping");
		return -1;
	}
	for (uint32_t i = 0; i < n->n; i++) {
		const struct sl_conf *k = n->items[2 * i];
		if (k->kind != SL_CONF_SCALAR) {
			sl_propmap_destroy(m);
			return sl_conf_error(k, what, "expected a name");
		}
		/* A name written twice: the last value, as in Python. */
		uint32_t j = 0;
		while (j < m->n && !(m->lens[j] == k->len &&
		                     memcmp(m->names[j], k->text, k->len) == 0))
			j++;
		if (j == m->n) {
			m->names[j] = dup_text(k->text, k->len);
			m->lens[j] = (uint32_t)k->len;
			m->n++;
			if (m->names[j] == NULL) {
				sl_propmap_destroy(m);
				return -1;
			}
		}
		sl_prov_delete(m->provs[j]);
		m->provs[j] = sl_prov_compile(n->items[2 * i + 1], what);
		if (m->provs[j] == NULL) {
			sl_propmap_destroy(m);
			return -1;
		}
	}
	return 0;
}

void
sl_propmap_destroy(struct sl_propmap *m)
{
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->names != NULL)
			sl_free(m->names[i]);
		if (m->provs != NULL)
			sl_prov_delete(m->provs[i]);
	}
	sl_free(m->names);
	sl_free(m->lens);
	sl_free(m->provs);
	sl_prov_delete(m->whole);
	memset(m, 0, sizeof(*m));
}

int
sl_propmap_apply(const struct sl_propmap *m, struct sl_prov_ctx *c,
                 const struct sl_norm *nm, struct sl_pset *out)
{
	return sl_propmap_apply_out(m, c, nm, out, NULL, 0);
}

bool
sl_propmap_plain(const struct sl_propmap *m)
{
	if (m->whole != NULL)
		return false;
	for (uint32_t i = 0; i < m->n; i++) {
		const struct sl_prov *p = m->provs[i];
		if (p->kind != P_STATIC &&
		    (p->kind != P_JMES || p->path_n == 0))
			return false;
	}
	return true;
}

/**
 * sl_propmap_values() of one plain mapping with the lookups together `pr`
 * (or NULL): its values at `out`; the bytes of their short texts.
 */
static inline __attribute__((always_inline)) int
plain_values(const struct sl_propmap *m, const struct sl_norm *nm,
             struct sl_paths_run *pr, struct sl_prov_ctx *c,
             struct sl_value *out, size_t *texts)
{
	size_t t = 0;
	bool norm = nm != NULL && nm->n > 0;
	/* Lowercasing alone of short ASCII text is left to the copy. */
	bool lower = sl_norm_lower_only(nm);
	uint32_t n = m->n;
	struct sl_prov *const *provs = m->provs;
	for (uint32_t i = 0; i < n; i++) {
		const struct sl_prov *p = provs[i];
		struct sl_value v;
		if (p->kind == P_STATIC) {
			v = p->value;
		} else {
			if (pr != NULL && p->path_plan == pr->plan) {
				const struct sl_value *pv =
				        paths_value(pr, p->path_node);
				v = pv != NULL ? *pv : sl_null();
			} else {
				v = path_value(p, c->doc);
			}
			if (v.type == SL_VARRAY)
				v = v.len > 0 ? v.u.items[0] : sl_null();
		}
		if (norm && v.type == SL_VSTR &&
		    !(lower && v.len <= 16 &&
		      sl_norm_short_ascii(v.u.s, v.len)) &&
		    sl_norm_apply_inline(nm, &v, c->a) != 0)
			return arena_full(p);
		if (v.type >= SL_VNUMBER && v.type <= SL_VSTR && v.len <= 16)
			t += v.len;
		out[i] = v;
	}
	*texts = t;
	return 0;
}

int
sl_propmap_values(const struct sl_propmap *m, struct sl_prov_ctx *c,
                  const struct sl_norm *nm, struct sl_value *out, size_t *texts)
{
	struct sl_paths_run *pr =
	        c->paths != NULL && c->paths->doc == c->doc ? c->paths : NULL;
	size_t t = 0;
	if (plain_values(m, nm, pr, c, out, &t) != 0)
		return -1;
	*texts += t;
	return 0;
}

/**
 * Where empty texts point when a block of texts has no byte
 * (sl_vplan_eval()): a byte never written, so that no text is NULL.
 */
static char no_text[1];

/** An entry of a struct sl_vplan: one provider of a plain mapping. */
struct vent {
	/** The provider (a literal or a field path). */
	const struct sl_prov *p;
	/** A literal's value. */
	struct sl_value value;
	/** Whether it is a literal. */
	bool literal;
	/** Whether its field path is in the plan's tree (sl_vplan.tree). */
	bool in_tree;
	/** Whether its normalization is lowercasing alone
	 * (sl_norm_lower_only()). */
	bool lower;
	/** Whether its normalization is trimming alone
	 * (sl_norm_trim_inline()). */
	bool trim;
	/** With `in_tree`: the place of its value in a struct sl_paths_run
	 * (its node's struct pnode.pos). */
	uint32_t pos;
	/** Its mapping's normalization, or NULL for none. */
	const struct sl_norm *nm;
};

struct sl_vplan {
	/** The entries, the mappings' in order. */
	struct vent *v;
	/** How many. */
	uint32_t n;
	/** Mappings. */
	uint32_t n_maps;
	/** The tree of the entries' field paths (all of one step's), or
	 * NULL when none is in one. */
	const struct sl_paths *tree;
	/**
	 * The nodes of `tree` whose children hold the entries' values, each
	 * after its parent (ascending: a node is made after its parent),
	 * expanded in turn before the values are read.
	 */
	uint32_t *exp;
	/** Nodes in `exp`. */
	uint32_t n_exp;
};

/** Add the parents of node `node` of `pl` to the set `mark`. */
static void
vplan_mark(const struct sl_paths *pl, uint32_t node, bool *mark)
{
	while (node != 0) {
		node = pl->nodes[node].parent;
		mark[node] = true;
	}
}

struct sl_vplan *
sl_vplan_new(const struct sl_propmap *const *maps,
             const struct sl_norm *const *norms, uint32_t n)
{
	uint32_t total = 0;
	for (uint32_t k = 0; k < n; k++)
		total += maps[k]->n;
	struct sl_vplan *vp = sl_calloc(1, sizeof(*vp));
	bool *mark = NULL;
	if (vp == NULL)
		goto oom;
	vp->v = sl_calloc(total + 1, sizeof(*vp->v));
	if (vp->v == NULL)
		goto oom;
	for (uint32_t k = 0; k < n && vp->tree == NULL; k++)
		for (uint32_t i = 0; i < maps[k]->n; i++)
			if (maps[k]->provs[i]->path_plan != NULL) {
				vp->tree = maps[k]->provs[i]->path_plan;
				break;
			}
	if (vp->tree != NULL) {
		mark = sl_calloc(vp->tree->n, sizeof(*mark));
		vp->exp = sl_calloc(vp->tree->n, sizeof(*vp->exp));
		if (mark == NULL || vp->exp == NULL)
			goto oom;
	}
	for (uint32_t k = 0; k < n; k++) {
		const struct sl_norm *nm =
		        norms[k] != NULL && norms[k]->n > 0 ? norms[k] : NULL;
		for (uint32_t i = 0; i < maps[k]->n; i++) {
			const struct sl_prov *p = maps[k]->provs[i];
			bool in_tree = p->kind != P_STATIC &&
			               p->path_plan != NULL &&
			               p->path_plan == vp->tree;
			vp->v[vp->n++] = (struct vent){
			        .p = p,
			        .value = p->kind == P_STATIC ? p->value
			                                     : sl_null(),
			        .literal = p->kind == P_STATIC,
			        .in_tree = in_tree,
			        .lower = sl_norm_lower_only(nm),
			        .trim = nm != NULL && nm->n == 1 &&
			                nm->ops[0] == SL_NORM_TRIM,
			        .pos = in_tree ? vp->tree->nodes[p->path_node]
			                                 .pos
			                       : 0,
			        .nm = nm};
			if (in_tree)
				vplan_mark(vp->tree, p->path_node, mark);
		}
	}
	vp->n_maps = n;
	for (uint32_t i = 0; vp->tree != NULL && i < vp->tree->n; i++)
		if (mark[i])
			vp->exp[vp->n_exp++] = i;
	sl_free(mark);
	return vp;
oom:
	sl_free(mark);
	sl_vplan_delete(vp);
	sl_diag_set(SL_EOOM, "out of memory for a plan of values");
	return NULL;
}

void
sl_vplan_delete(struct sl_vplan *vp)
{
	if (vp == NULL)
		return;
	sl_free(vp->v);
	sl_free(vp->exp);
	sl_free(vp);
}

int
sl_vplan_eval(const struct sl_vplan *vp, struct sl_prov_ctx *c,
              struct sl_arena *oa, struct sl_value *out)
{
	struct sl_paths_run *pr = c->paths;
	/* The lookups together serve the document they were made for: then
	 * every object holding a value is expanded first, parents first,
	 * and each value read at its place. */
	const struct sl_value *const *val = NULL;
	if (pr != NULL && pr->doc == c->doc && vp->tree != NULL &&
	    pr->plan == vp->tree) {
		const struct pnode *nodes = vp->tree->nodes;
		for (uint32_t i = 0; i < vp->n_exp; i++) {
			uint32_t p = vp->exp[i];
			if (pr->done[p] == pr->gen)
				continue;
			/* Its parent is expanded: it comes before. */
			paths_expand_at(pr, p,
			                p == 0 ? pr->doc
			                       : pr->val[nodes[p].pos]);
		}
		val = pr->val;
	}
	const struct vent *e = vp->v;
	size_t t = 0;
	uint32_t n = vp->n;
	for (uint32_t i = 0; i < n; i++, e++) {
		/* Found straight into its place (no copy to normalize). */
		struct sl_value *o = &out[i];
		if (e->literal) {
			*o = e->value;
		} else {
			if (val != NULL && e->in_tree) {
				const struct sl_value *pv = val[e->pos];
				*o = pv != NULL ? *pv : sl_null();
			} else {
				*o = path_value(e->p, c->doc);
			}
			if (o->type == SL_VARRAY)
				*o = o->len > 0 ? o->u.items[0] : sl_null();
		}
		uint8_t type = o->type;
		/* As plain_values() (trimming alone inline here). */
		if (type == SL_VSTR && e->nm != NULL &&
		    !(e->lower && o->len <= 16 &&
		      sl_norm_short_ascii(o->u.s, o->len)) &&
		    (e->trim ? sl_norm_trim_inline(e->nm, o, c->a)
		             : sl_norm_apply_inline(e->nm, o, c->a)) != 0)
			return arena_full(e->p);
		if (type >= SL_VNUMBER && type <= SL_VSTR)
			t += o->len;
	}
	/* Into the output: the texts one after the other in one block, the
	 * short ones lowercased on the way for lowercasing alone (a long
	 * one was normalized above). */
	char *b = t > 0 ? sl_arena_alloc_aligned(oa, t, 1) : no_text;
	if (b == NULL)
		return arena_full(vp->v[0].p);
	e = vp->v;
	for (uint32_t i = 0; i < n; i++, e++) {
		struct sl_value *v = &out[i];
		uint8_t type = v->type;
		if (type < SL_VNUMBER)
			continue;
		if (type <= SL_VSTR) {
			if (e->lower && type == SL_VSTR && v->len <= 16)
				sl_norm_lower_copy(b, v->u.s, v->len);
			else
				sl_copy_bytes(b, v->u.s, v->len);
			v->u.s = b;
			b += v->len;
		} else if (sl_value_keep(oa, v) != 0) {
			return arena_full(e->p);
		}
	}
	return 0;
}

int
sl_propmap_apply_out(const struct sl_propmap *m, struct sl_prov_ctx *c,
                     const struct sl_norm *nm, struct sl_pset *out,
                     struct sl_arena *oa, uint32_t fresh)
{
	/* Members grow in the output's arena when there is one. */
	struct sl_arena *ga = oa != NULL ? oa : c->a;
	/* The mapping's names differ from each other (compiling keeps a
	 * name once), so each can only match a member set before. */
	uint32_t before = out->n;
	uint32_t from = fresh < before ? fresh : before;
	/* Room for the mapping's names at once; a shared set (cap < n)
	 * becomes the set's own before anything is set. */
	uint32_t need = out->n + m->n + (m->whole != NULL);
	if (need > out->cap && need > out->n &&
	    sl_pset_reserve(out, ga, need) != 0)
		return arena_full(m->n > 0 ? m->provs[0] : m->whole);
	/* The lookups together serve the document they were made for. */
	struct sl_paths_run *pr =
	        c->paths != NULL && c->paths->doc == c->doc ? c->paths : NULL;
	for (uint32_t i = 0; i < m->n; i++) {
		/* sl_prov_single(), with field paths and literals inline. */
		const struct sl_prov *p = m->provs[i];
		struct sl_value v;
		if (p->kind == P_JMES && p->path_n > 0) {
			if (pr != NULL && p->path_plan == pr->plan) {
				const struct sl_value *pv =
				        paths_value(pr, p->path_node);
				v = pv != NULL ? *pv : sl_null();
			} else {
				v = path_value(p, c->doc);
			}
			if (v.type == SL_VARRAY)
				v = v.len > 0 ? v.u.items[0] : sl_null();
		} else if (p->kind == P_STATIC) {
			v = p->value;
		} else if (sl_prov_single(p, c, &v) != 0) {
			return -1;
		}
		if ((nm != NULL && nm->n > 0 && v.type == SL_VSTR &&
		     sl_norm_apply_inline(nm, &v, c->a) != 0) ||
		    (oa != NULL && sl_value_keep(oa, &v) != 0) ||
		    pset_set_upto(out, ga, m->names[i], m->lens[i], v, from,
		                  before) != 0)
			return arena_full(m->provs[i]);
	}
	if (m->whole == NULL)
		return 0;
	struct sl_value obj;
	if (sl_prov_single(m->whole, c, &obj) != 0)
		return -1;
	if (obj.type != SL_VOBJECT) {
		sl_diag_set(SL_EINVAL,
		            "a provider used as a property mapping must return "
		            "a dict; it returned a %s",
		            sl_py_type(&obj));
		return fail(m->whole);
	}
	out->dyn_keys = true;
	for (uint32_t i = 0; i < obj.len; i++) {
		struct sl_value v = obj.u.members[i].val;
		const char *key = obj.u.members[i].key;
		uint32_t klen = obj.u.members[i].key_len;
		if (sl_norm_apply(nm, &v, c->a) != 0 ||
		    (oa != NULL &&
		     (sl_value_keep(oa, &v) != 0 ||
		      (key = sl_arena_strndup(oa, key, klen)) == NULL)) ||
		    pset_set_upto(out, ga, key, klen, v, 0, out->n) != 0)
			return arena_full(m->whole);
	}
	return 0;
}
