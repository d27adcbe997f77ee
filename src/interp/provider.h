/*
 * sluice: value providers (internal to interp), with Nodestream's semantics.
 *
 * A provider is compiled once from a pipeline-file node and evaluated per
 * record against a context:
 *
 *   plain YAML        a static value; many values of a string are its
 *                     characters, of a list its items, of a mapping its
 *                     keys, of any other scalar the scalar itself
 *   !jmespath EXPR    JMESPath; null is "no value", a list gives many
 *                     values and its first item as the single value
 *   !variable NAME    a variable set by a `variables` interpretation
 *   !format {fmt, NAME: provider...}  str.format; any null sub gives null
 *   !regex {regex, data, group}       PCRE2 search; the group (number or
 *                     name) of the first match, or null
 *   !split {data, delimiter}          every string split; a non-string
 *                     is an error
 *   !normalize {using, data}          one normalizer
 *   !cast {data, to}  int, float, decimal, str, bool or bytes, as Python
 *                     does (bytes as an array of integers 0..255)
 *   !mapping {mapping_name, key}      a named mapping of the context
 *
 * Values a provider returns point into the document, into the compiled
 * provider, or into the context's scratch arena.
 *
 * Providers are compiled from the tagged YAML nodes at load. A !jmespath
 * that is a path of plain field names (`a.b.c`) is direct lookups, not
 * the evaluator. !regex is PCRE2 with UTF and Unicode classes,
 * JIT-compiled, with `\Z` rewritten to PCRE2's `\z`; its group (number or
 * name) is checked at load. single and many values follow Nodestream,
 * quirks included. No built-in interpretation fills the context's named
 * mappings (in Nodestream only plugins do), so !mapping gives null.
 */
#ifndef SLUICE_INTERP_PROVIDER_H
#define SLUICE_INTERP_PROVIDER_H

#include <stdbool.h>
#include <stdint.h>

#include "norm.h"
#include "sluice/arena.h"
#include "sluice/conf.h"
#include "sluice/value.h"

/**
 * A PropertySet: named values in first-set order; setting replaces. A set
 * whose `cap` is below its `n` shares its members with other sets (the
 * Interpreter's default properties): it takes its own before a change
 * (sl_propmap_apply_out() does; sl_pset_set() and sl_pset_remove() must
 * not be used on it).
 */
struct sl_pset {
	/** The members (in a scratch arena, or the output's). */
	struct sl_member *m;
	/** Members in use. */
	uint32_t n;
	/** Capacity of `m` (0: shared, see above). */
	uint32_t cap;
	/** Whether some keys came from a record (else they outlive it). */
	bool dyn_keys;
};

/** Set `key` (`klen` bytes, not copied) to `v`. 0, or -1 (arena full). */
int sl_pset_set(struct sl_pset *s, struct sl_arena *a, const char *key,
                uint32_t klen, struct sl_value v);

/** Make room in `s` for `cap` members in all (moving them to `a`). 0, or
 * -1 (arena full). */
static inline int
sl_pset_reserve(struct sl_pset *s, struct sl_arena *a, uint32_t cap)
{
	if (cap <= s->cap)
		return 0;
	struct sl_member *m = (struct sl_member *)sl_arena_alloc_aligned(
	        a, cap * sizeof(*m), _Alignof(struct sl_member));
	if (m == NULL)
		return -1;
	/* Few members (a shared set's three defaults): no call. */
	for (uint32_t i = 0; i < s->n; i++)
		m[i] = s->m[i];
	s->m = m;
	s->cap = cap;
	return 0;
}

/** The value of `key`, or NULL. */
const struct sl_value *sl_pset_get(const struct sl_pset *s, const char *key,
                                   uint32_t klen);

/** Remove `key` if present. */
void sl_pset_remove(struct sl_pset *s, const char *key, uint32_t klen);

/** Make `dst` an independent copy of `src` (members copied, values
 * shared). 0, or -1. */
int sl_pset_copy(struct sl_pset *dst, const struct sl_pset *src,
                 struct sl_arena *a);

/** The set as an object value referring to its members. */
struct sl_value sl_pset_value(const struct sl_pset *s);

/** What providers evaluate against (Nodestream's ProviderContext). */
struct sl_prov_ctx {
	/** The document: the record, or one value of an iteration. */
	const struct sl_value *doc;
	/** Variables set by `variables` interpretations. */
	struct sl_pset vars;
	/** Named mappings for !mapping (an object of objects), or NULL. */
	const struct sl_value *mappings;
	/** Scratch memory for results, reset per record. */
	struct sl_arena *a;
	/**
	 * Field paths of the mappings looked up together (struct
	 * sl_paths_run), valid while `doc` is its document; or NULL.
	 */
	struct sl_paths_run *paths;
};

/** A compiled provider (opaque). */
struct sl_prov;

/**
 * Compile node `n`: a tagged provider or a static value. `what` names it
 * in messages. Its memory is charged to n's load budget (sl_conf_charge).
 * NULL with an error naming "file:line:column: what: ...".
 */
struct sl_prov *sl_prov_compile(const struct sl_conf *n, const char *what);

/** A static provider of `v` (deep-copied). NULL with an error. */
struct sl_prov *sl_prov_static(const struct sl_value *v);

/** Free a provider (NULL is a no-op). */
void sl_prov_delete(struct sl_prov *p);

/** The value if the provider is static, else NULL. */
const struct sl_value *sl_prov_static_value(const struct sl_prov *p);

/**
 * Nodestream's single_value: the one value, or null for none. 0, or -1
 * with an error that names the provider and its position.
 */
int sl_prov_single(const struct sl_prov *p, struct sl_prov_ctx *c,
                   struct sl_value *out);

/** Nodestream's many_values, as an array value. 0, or -1 with an error. */
int sl_prov_many(const struct sl_prov *p, struct sl_prov_ctx *c,
                 struct sl_value *out);

/** sl_prov_single() then normalization `nm`. */
int sl_prov_single_norm(const struct sl_prov *p, struct sl_prov_ctx *c,
                        const struct sl_norm *nm, struct sl_value *out);

/** "!jmespath 'a.b' (p.yaml:4:12)": the provider for messages. */
const char *sl_prov_describe(const struct sl_prov *p);

/**
 * A property mapping: a mapping of names to providers, or one provider
 * that returns an object.
 */
struct sl_propmap {
	/** Number of named entries. */
	uint32_t n;
	/** Names (NUL-terminated, owned). */
	char **names;
	/** Name lengths. */
	uint32_t *lens;
	/** Providers, one per name. */
	struct sl_prov **provs;
	/** The one provider returning an object, or NULL. */
	struct sl_prov *whole;
};

/**
 * Compile a property mapping from `n` (NULL or null: empty). 0, or -1 with
 * an error at `n`.
 */
int sl_propmap_compile(struct sl_propmap *m, const struct sl_conf *n,
                       const char *what);

/** Free what a mapping holds. */
void sl_propmap_destroy(struct sl_propmap *m);

/**
 * Evaluate every entry with normalization `nm` and set it in `out`.
 * 0, or -1 with an error.
 */
int sl_propmap_apply(const struct sl_propmap *m, struct sl_prov_ctx *c,
                     const struct sl_norm *nm, struct sl_pset *out);

/**
 * sl_propmap_apply() into a set that the output refers to as it is: with
 * `oa` not NULL, `out` grows in `oa` and every value set (and a key from
 * a record) is first copied into `oa` (sl_value_keep()). The first
 * `fresh` members of `out` have names that no name of `m` equals (the
 * caller knows: the default properties), so they are not compared.
 */
int sl_propmap_apply_out(const struct sl_propmap *m, struct sl_prov_ctx *c,
                         const struct sl_norm *nm, struct sl_pset *out,
                         struct sl_arena *oa, uint32_t fresh);

/**
 * Whether every entry of `m` is a literal or a `!jmespath a.b` field path
 * (no provider of a whole mapping): its values are found without errors
 * but for a full arena (sl_propmap_values()).
 */
bool sl_propmap_plain(const struct sl_propmap *m);

/**
 * The values of a plain mapping `m` (sl_propmap_plain()) into
 * out[0, m->n), in its order, as sl_propmap_apply_out() would set them:
 * each provider's single value, a string normalized by `nm` (in the
 * scratch arena), except that under lowercasing alone
 * (sl_norm_lower_only()) a string of up to 16 ASCII bytes is left as it
 * is for its copy to lowercase (sl_norm_lower_copy()). Values are not
 * copied anywhere; *texts grows by the
 * bytes of those that sl_value_keep() copies inline (strings and numbers
 * of up to 16 bytes). 0, or -1 (arena full).
 */
int sl_propmap_values(const struct sl_propmap *m, struct sl_prov_ctx *c,
                      const struct sl_norm *nm, struct sl_value *out,
                      size_t *texts);

/**
 * A plan of values: the providers of plain mappings (sl_propmap_plain())
 * in one list, whose values are found in one pass (sl_vplan_eval()).
 * Built at load, then read-only (threads share it).
 */
struct sl_vplan;

/**
 * The plan of the plain mappings maps[0, n), each with normalization
 * norms[k] (or NULL). NULL when out of memory (with an error).
 */
struct sl_vplan *sl_vplan_new(const struct sl_propmap *const *maps,
                              const struct sl_norm *const *norms, uint32_t n);

/** Free a plan (NULL is a no-op). */
void sl_vplan_delete(struct sl_vplan *vp);

/**
 * sl_propmap_values() of every mapping of `vp`, made to live in `oa` (as
 * sl_value_keep(); the texts of strings and numbers in one block, the
 * short ones lowercased by the copy where sl_propmap_values() leaves it
 * to the copy): their values one after the other at `out`. 0, or -1
 * (arena full).
 */
int sl_vplan_eval(const struct sl_vplan *vp, struct sl_prov_ctx *c,
                  struct sl_arena *oa, struct sl_value *out);

/**
 * Make `v` live in `oa`: a string's or number's text, an array's items
 * and an object's members copied (text of up to 16 bytes inline); null,
 * booleans and numbers are left as they are. 0, or -1 (arena full).
 */
static inline int
sl_value_keep(struct sl_arena *oa, struct sl_value *v)
{
	uint8_t type = v->type;
	if (type < SL_VNUMBER)
		return 0;
	if (type > SL_VSTR || v->len > 16) {
		struct sl_value in = *v;
		return sl_value_copy(oa, &in, v);
	}
	uint32_t len = v->len;
	char *t = sl_arena_alloc_aligned(oa, len > 0 ? len : 1, 1);
	if (t == NULL)
		return -1;
	sl_copy_bytes(t, v->u.s, len);
	v->u.s = t;
	return 0;
}

/**
 * Field paths looked up together: the `!jmespath a.b` providers of many
 * property mappings (sl_paths_add()) form a tree of names, and each
 * object of a document on it is read once, member by member, for all
 * the names wanted from it (a small hash table of them), instead of once
 * per path. Built at load, then read-only (threads share it).
 */
struct sl_paths;

/** The lookups of one document along a struct sl_paths (per thread). */
struct sl_paths_run {
	/** The tree. */
	const struct sl_paths *plan;
	/** The document the results are of. */
	const struct sl_value *doc;
	/** The current document's number (results of others are stale). */
	uint64_t gen;
	/** Per node: the `gen` its children were looked up in. */
	uint64_t *done;
	/** Per node, at its place among its parent's children: its value
	 * in `doc`, or NULL (valid when its parent's `done` is `gen`). */
	const struct sl_value **val;
	/**
	 * Per node: what the members of its last object were, by position
	 * (SL_PATHS_MEMO of them), for the next object of the same shape
	 * (struct sl_paths_memo).
	 */
	struct sl_paths_memo *memo;
};

/** Members of an object remembered by position (struct sl_paths_run). */
#define SL_PATHS_MEMO 16

/**
 * The name a member had at a position, and the node it was: checked
 * against the member at that position before the table is searched.
 */
struct sl_paths_memo {
	/** The name (a node's), or NULL (none wanted). */
	const char *name;
	/** Its length (UINT32_MAX: none wanted, or nothing remembered). */
	uint32_t len;
	/** Its node's place among its parent's children. */
	uint32_t idx;
};

/** An empty tree, or NULL (out of memory, with an error). */
struct sl_paths *sl_paths_new(void);

/** Free a tree (NULL is a no-op). */
void sl_paths_delete(struct sl_paths *pl);

/**
 * Add every field-path provider of `m` to `pl` (each provider can be in
 * one tree only; others are left). Then call sl_paths_seal(). 0, or -1
 * (out of memory, with an error).
 */
int sl_paths_add(struct sl_paths *pl, struct sl_propmap *m);

/** Build the tables of `pl` after the last sl_paths_add(). 0, or -1. */
int sl_paths_seal(struct sl_paths *pl);

/** Whether `pl` holds any path. */
bool sl_paths_any(const struct sl_paths *pl);

/** Start `r` over `pl` (memory of its own). 0, or -1 (out of memory). */
int sl_paths_run_init(struct sl_paths_run *r, const struct sl_paths *pl);

/** Free what `r` holds. */
void sl_paths_run_destroy(struct sl_paths_run *r);

/** Make `r` look up paths in `doc` (earlier results are dropped). */
static inline void
sl_paths_run_start(struct sl_paths_run *r, const struct sl_value *doc)
{
	r->doc = doc;
	r->gen++;
}

/** A compiled Python regular expression (PCRE2, UTF and Unicode classes). */
struct sl_regex;

/** Compile the string node `at` as a Python `re` pattern. NULL with an
 * error naming the node. */
struct sl_regex *sl_regex_compile(const struct sl_conf *at, const char *what);

/** Free a regex (NULL is a no-op). */
void sl_regex_delete(struct sl_regex *r);

/** Resolve group node `g` (a number or a name) of `r` into *out. */
int sl_regex_group(const struct sl_regex *r, const struct sl_conf *g,
                   const char *what, uint32_t *out);

/**
 * Match `r` against s[0, n): at the start only when `anchored` (re.match),
 * else anywhere (re.search). Returns 1 with *out the group's text (null if
 * it took no part), 0 with *out null, or -1 with an error.
 */
int sl_regex_exec(struct sl_regex *r, const char *s, size_t n, bool anchored,
                  uint32_t group, struct sl_value *out);

#endif /* SLUICE_INTERP_PROVIDER_H */
