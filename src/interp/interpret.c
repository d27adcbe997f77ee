/*
 * sluice: interpretations and the Interpreter step (see interpret.h).
 */
#include "interpret.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "provider.h"
#include "pyval.h"
#include "sluice/alloc.h"
#include "sluice/batch.h"
#include "sluice/diag.h"
#include "sluice/interp.h"
#include "sluice/log.h"
#include "sluice/nsschema.h"
#include "sluice/registry.h"
#include "sluice/schema.h"
#include "value/ingest_names.h"

/** Scratch memory of one record: chunk and hard cap. */
#define SCRATCH_CHUNK ((size_t)64 << 10)
/** The per-record scratch arena takes the record memory cap. */
#define SCRATCH_CAP SL_RECORD_MEM_MAX

/** Deepest nesting of switches and conditions. */
#define NEST_MAX 32

/** Most names of a mapping that the fast paths take (propmap_direct(),
 * apply_rel_fast()). */
#define FAST_MAX 16

/* --- compiled interpretations ------------------------------------------- */

/** Interpretation types. */
enum itype {
	I_SOURCE, /**< source_node */
	I_REL,    /**< relationship */
	I_PROPS,  /**< properties */
	I_VARS,   /**< variables */
	I_SWITCH, /**< switch */
};

/** Their names, by enum itype. */
static const char *const itype_names[] = {"source_node", "relationship",
                                          "properties", "variables", "switch"};

/** Node creation rules. */
enum node_rule { NR_EAGER, NR_MATCH_ONLY, NR_FUZZY };

/** Their names. */
static const char *const node_rule_names[] = {"EAGER", "MATCH_ONLY", "FUZZY",
                                              NULL};

/** Relationship creation rules. */
enum rel_rule { RR_EAGER, RR_MERGE_KEY, RR_CREATE };

/** Their names. */
static const char *const rel_rule_names[] = {"EAGER", "MERGE_KEY", "CREATE",
                                             NULL};

/** Condition kinds. */
enum ckind { C_TRUE, C_COMPARE, C_AND, C_OR, C_NOT };

/** Comparison operators. */
enum cop { OP_EQUALS, OP_GREATER, OP_LESS, OP_CONTAINS };

/** A condition. */
struct cond {
	/** What it is. */
	enum ckind kind;
	/** C_COMPARE: the operator. */
	enum cop op;
	/** C_COMPARE: the operands. */
	struct sl_prov *left, *right;
	/** C_AND, C_OR, C_NOT: the sub-conditions. */
	struct cond **subs;
	/** Number of `subs`. */
	uint32_t n;
};

struct interp;

/** A pass: interpretations applied in order to one context. */
struct pass {
	/** The interpretations. */
	struct interp **v;
	/** How many. */
	uint32_t n;
};

/** The passes of a phase: none, one, or several (multi-pass). */
struct passes {
	/** The passes. */
	struct pass *v;
	/** How many. */
	uint32_t n;
	/** Whether the phase was given at all. */
	bool present;
	/** Whether it is a list of lists (each pass copies the context). */
	bool multi;
};

/** One interpretation. */
struct interp {
	/** Its type. */
	enum itype type;
	/** "interpretation 2 (relationship) at p.yaml:12:7". */
	char where[160];
	/** Its condition, or NULL. */
	struct cond *cond;
	/** node_type (source_node, relationship). */
	struct sl_prov *node_type;
	/** Keys: source_node key, relationship node_key. */
	struct sl_propmap key;
	/** Properties: source_node properties, relationship node_properties,
	 * properties, variables. */
	struct sl_propmap props;
	/** node_type's value when it is static (sl_prov_static_value()). */
	const struct sl_value *node_type_sv;
	/** relationship: relationship_type. */
	struct sl_prov *rel_type;
	/** relationship_type's value when it is static. */
	const struct sl_value *rel_type_sv;
	/** relationship: relationship_key. */
	struct sl_propmap rel_key;
	/** relationship: relationship_properties. */
	struct sl_propmap rel_props;
	/** Normalization of keys. */
	struct sl_norm key_norm;
	/** Normalization of properties (and of switch_on). */
	struct sl_norm props_norm;
	/** source_node: additional_indexes, an array of strings. */
	struct sl_value indexes;
	/** additional_types / node_additional_types: array of strings. */
	struct sl_value labels;
	/** Memory of `labels` and switch case values. */
	struct sl_arena mem;
	/** The node's creation rule. */
	enum node_rule node_rule;
	/** relationship: its creation rule. */
	enum rel_rule rel_rule;
	/** source_node / relationship node: add last_ingested_at. */
	bool node_last;
	/** relationship: add last_ingested_at to the relationship. */
	bool rel_last;
	/** relationship: outbound. */
	bool outbound;
	/** relationship: find_many. */
	bool find_many;
	/** relationship: cardinality MANY (else SINGLE). */
	bool card_many;
	/** relationship: iterate_on, or NULL. */
	struct sl_prov *iterate_on;
	/** switch: switch_on. */
	struct sl_prov *on;
	/** switch: case values. */
	struct sl_value *case_keys;
	/** switch: case passes. */
	struct pass *cases;
	/** switch: number of cases. */
	uint32_t n_cases;
	/** switch: default pass, or NULL. */
	struct pass *dflt;
	/** switch: fail_on_unhandled. */
	bool fail_unhandled;
	/** No name of `props` is one of the default properties' (set at
	 * the step's load: fresh_load()). */
	bool props_fresh;
	/** No name of `rel_props` is one of the default properties'. */
	bool rel_props_fresh;
	/**
	 * relationship: the members of its output object and its node's
	 * (out_rel()), with the names and what is the same for every
	 * record (rules, direction, labels) filled in.
	 */
	struct sl_member rel_out[11];
	/**
	 * relationship: built by apply_rel_fast() when the output has an
	 * arena (set at the step's load: fast_load()).
	 */
	bool fast;
	/** `fast`, without a condition or iterate_on (apply_pass()). */
	bool fast_direct;
	/** `key` is plain and has at most FAST_MAX names (propmap_direct()). */
	bool key_plain;
	/** `props` is plain and has at most FAST_MAX names. */
	bool props_plain;
	/** key_norm is lowercasing alone (sl_norm_lower_only()). */
	bool key_lower;
	/** props_norm is lowercasing alone. */
	bool props_lower;
	/**
	 * With `fast`: members of a related node's properties, the default
	 * ones with them (0 when the node has no properties of its own and
	 * shares the defaults).
	 */
	uint32_t fast_nd;
	/**
	 * Its mappings' values are found with the record's others at its
	 * start (interp_step.vmaps): `vmap` is its first mapping there, and
	 * `vval` the place of its first value (source_node: key, props;
	 * properties: props; relationship: rel_props, props, and key unless
	 * find_many).
	 */
	bool in_plan;
	/** With `in_plan`: its first mapping in interp_step.vmaps. */
	uint32_t vmap;
	/** With `in_plan`: its first value among the plan's. */
	uint32_t vval;
	/**
	 * With `in_plan`, `fast` and not find_many: its relationship's
	 * members are ictx.fixed_m[11 * fixed_at, + 11), its node's sets'
	 * ictx.fixed_k[fixed_k, + key.n + fast_nd) (plan_load()).
	 */
	uint32_t fixed_at;
	/** See `fixed_at`. */
	uint32_t fixed_k;
};

static void interp_delete(struct interp *it);

/** Free a condition. */
static void
cond_delete(struct cond *c)
{
	if (c == NULL)
		return;
	sl_prov_delete(c->left);
	sl_prov_delete(c->right);
	for (uint32_t i = 0; i < c->n; i++)
		cond_delete(c->subs[i]);
	sl_free(c->subs);
	sl_free(c);
}

/** Free what a pass holds. */
static void
pass_destroy(struct pass *p)
{
	for (uint32_t i = 0; i < p->n; i++)
		interp_delete(p->v[i]);
	sl_free(p->v);
	p->v = NULL;
	p->n = 0;
}

/** Free what passes hold. */
static void
passes_destroy(struct passes *ps)
{
	for (uint32_t i = 0; i < ps->n; i++)
		pass_destroy(&ps->v[i]);
	sl_free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

/** Free an interpretation. */
static void
interp_delete(struct interp *it)
{
	if (it == NULL)
		return;
	cond_delete(it->cond);
	sl_prov_delete(it->node_type);
	sl_propmap_destroy(&it->key);
	sl_propmap_destroy(&it->props);
	sl_prov_delete(it->rel_type);
	sl_propmap_destroy(&it->rel_key);
	sl_propmap_destroy(&it->rel_props);
	sl_prov_delete(it->iterate_on);
	sl_prov_delete(it->on);
	for (uint32_t i = 0; i < it->n_cases; i++)
		pass_destroy(&it->cases[i]);
	sl_free(it->cases);
	if (it->dflt != NULL)
		pass_destroy(it->dflt);
	sl_free(it->dflt);
	sl_free(it->case_keys);
	sl_arena_destroy(&it->mem);
	sl_free(it);
}

/* --- loading ------------------------------------------------------------ */

/** A boolean option, `dflt` when absent or null. */
static int
opt_bool(const struct sl_conf *n, const char *key, bool dflt, bool *out)
{
	const struct sl_conf *v = sl_conf_get(n, key);
	*out = dflt;
	if (v == NULL || sl_conf_is_null(v))
		return 0;
	return sl_conf_bool(v, key, out);
}

/** An enumerated option among `names` (NULL-terminated). */
static int
opt_enum(const struct sl_conf *n, const char *key, const char *const *names,
         int *out)
{
	const struct sl_conf *v = sl_conf_get(n, key);
	if (v == NULL || sl_conf_is_null(v))
		return 0;
	const char *s;
	if (sl_conf_str(v, key, &s) != 0)
		return -1;
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	char list[200] = "";
	for (int i = 0; names[i] != NULL; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		         "%s%s", i > 0 ? ", " : "", names[i]);
	return sl_conf_error(v, key, "'%s' is not one of %s", s, list);
}

/** A list of strings option into an array value in `a`. */
static int
opt_strings(const struct sl_conf *n, const char *key, struct sl_arena *a,
            struct sl_value *out)
{
	const struct sl_conf *v = sl_conf_get(n, key);
	*out = sl_array_ref(NULL, 0);
	if (v == NULL || sl_conf_is_null(v))
		return 0;
	if (v->kind != SL_CONF_SEQ)
		return sl_conf_error(v, key,
		                     "expected a list of names, got a %s",
		                     sl_conf_kind_name(v->kind));
	struct sl_value *items = sl_arena_alloc_aligned(
	        a, (v->n + 1) * sizeof(*items), _Alignof(struct sl_value));
	if (items == NULL)
		return -1;
	for (uint32_t i = 0; i < v->n; i++) {
		const char *s;
		if (sl_conf_str(v->items[i], key, &s) != 0)
			return -1;
		if (sl_str_copy(a, s, v->items[i]->len, &items[i]) != 0)
			return -1;
	}
	*out = sl_array_ref(items, v->n);
	return 0;
}

/** Compile an optional provider option; NULL `*out` when absent. */
static int
opt_prov(const struct sl_conf *n, const char *key, bool required,
         struct sl_prov **out)
{
	const struct sl_conf *v = sl_conf_get(n, key);
	*out = NULL;
	if (v == NULL || (sl_conf_is_null(v) && v->tag == NULL)) {
		if (required)
			return sl_conf_error(n, NULL, "'%s' is required", key);
		return 0;
	}
	*out = sl_prov_compile(v, key);
	return *out != NULL ? 0 : -1;
}

static struct cond *cond_load(const struct sl_conf *n, int depth);

/** Load the sub-conditions list `key` of `n` into `c`. */
static int
cond_subs(struct cond *c, const struct sl_conf *n, const char *key, int depth)
{
	const struct sl_conf *l = sl_conf_get(n, key);
	if (l == NULL || l->kind != SL_CONF_SEQ)
		return sl_conf_error(l != NULL ? l : n, key,
		                     "expected a list of conditions");
	c->subs = sl_calloc(l->n + 1, sizeof(*c->subs));
	if (c->subs == NULL) {
		sl_diag_set(SL_EOOM, "out of memory loading a condition");
		return -1;
	}
	for (uint32_t i = 0; i < l->n; i++) {
		c->subs[i] = cond_load(l->items[i], depth + 1);
		if (c->subs[i] == NULL)
			return -1;
		c->n++;
	}
	return 0;
}

/** Load a condition. */
static struct cond *
cond_load(const struct sl_conf *n, int depth)
{
	if (depth > NEST_MAX) {
		sl_conf_error(n, "condition", "conditions nest too deeply");
		return NULL;
	}
	if (n->kind != SL_CONF_MAP) {
		sl_conf_error(n, "condition", "expected a mapping with a type");
		return NULL;
	}
	struct cond *c = sl_calloc(1, sizeof(*c));
	if (c == NULL) {
		sl_diag_set(SL_EOOM, "out of memory loading a condition");
		return NULL;
	}
	static const char *const kinds[] = {"true", "compare", "and",
	                                    "or",   "not",     NULL};
	int kind = C_TRUE;
	if (opt_enum(n, "type", kinds, &kind) != 0)
		goto fail;
	c->kind = (enum ckind)kind;
	static const char *const k_true[] = {"type", NULL};
	static const char *const k_cmp[] = {"type", "left", "right", "operator",
	                                    NULL};
	static const char *const k_list[] = {"type", "conditions", NULL};
	static const char *const k_not[] = {"type", "condition", NULL};
	const char *const *known = c->kind == C_TRUE      ? k_true
	                           : c->kind == C_COMPARE ? k_cmp
	                           : c->kind == C_NOT     ? k_not
	                                                  : k_list;
	if (sl_conf_check_keys(n, known, "condition", kinds[kind]) != 0)
		goto fail;
	if (c->kind == C_COMPARE) {
		static const char *const ops[] = {"equals", "greater_than",
		                                  "less_than", "contains",
		                                  NULL};
		int op = -1;
		if (opt_enum(n, "operator", ops, &op) != 0)
			goto fail;
		if (op < 0) {
			sl_conf_error(n, "condition",
			              "compare needs an operator (equals, "
			              "greater_than, less_than or contains)");
			goto fail;
		}
		c->op = (enum cop)op;
		if (opt_prov(n, "left", true, &c->left) != 0 ||
		    opt_prov(n, "right", true, &c->right) != 0)
			goto fail;
	} else if (c->kind == C_AND || c->kind == C_OR) {
		if (cond_subs(c, n, "conditions", depth) != 0)
			goto fail;
	} else if (c->kind == C_NOT) {
		const struct sl_conf *s = sl_conf_get(n, "condition");
		if (s == NULL) {
			sl_conf_error(n, "condition", "not needs a condition");
			goto fail;
		}
		c->subs = sl_calloc(1, sizeof(*c->subs));
		if (c->subs == NULL) {
			sl_diag_set(SL_EOOM, "out of memory");
			goto fail;
		}
		c->subs[0] = cond_load(s, depth + 1);
		if (c->subs[0] == NULL)
			goto fail;
		c->n = 1;
	}
	return c;
fail:
	cond_delete(c);
	return NULL;
}

static struct interp *interp_load(const struct sl_conf *n, uint32_t index,
                                  int depth);

/** Load a pass from a list of interpretation mappings. */
static int
pass_load(struct pass *p, const struct sl_conf *l, int depth)
{
	p->v = sl_calloc(l->n + 1, sizeof(*p->v));
	if (p->v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory loading interpretations");
		return -1;
	}
	for (uint32_t i = 0; i < l->n; i++) {
		p->v[i] = interp_load(l->items[i], i, depth);
		if (p->v[i] == NULL)
			return -1;
		p->n++;
	}
	return 0;
}

/** Load a phase: a list of interpretations, or a list of such lists. */
static int
passes_load(struct passes *ps, const struct sl_conf *l, const char *what)
{
	memset(ps, 0, sizeof(*ps));
	if (l == NULL || sl_conf_is_null(l))
		return 0;
	if (l->kind != SL_CONF_SEQ)
		return sl_conf_error(l, what,
		                     "expected a list of interpretations (or "
		                     "a list of such lists), got a %s",
		                     sl_conf_kind_name(l->kind));
	ps->present = true;
	ps->multi = l->n > 0 && l->items[0]->kind == SL_CONF_SEQ;
	uint32_t n = ps->multi ? l->n : 1;
	ps->v = sl_calloc(n, sizeof(*ps->v));
	if (ps->v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory loading interpretations");
		return -1;
	}
	if (!ps->multi) {
		ps->n = 1;
		return pass_load(&ps->v[0], l, 0);
	}
	for (uint32_t i = 0; i < n; i++) {
		if (l->items[i]->kind != SL_CONF_SEQ)
			return sl_conf_error(l->items[i], what,
			                     "pass %u: expected a list of "
			                     "interpretations like the first "
			                     "pass",
			                     i + 1);
		ps->n++;
		if (pass_load(&ps->v[i], l->items[i], 0) != 0)
			return -1;
	}
	return 0;
}

/** Load a switch branch: one interpretation or a list of them. */
static int
branch_load(struct pass *p, const struct sl_conf *n, int depth)
{
	if (n->kind == SL_CONF_SEQ) {
		for (uint32_t i = 0; i < n->n; i++)
			if (n->items[i]->kind == SL_CONF_SEQ)
				return sl_conf_error(
				        n->items[i], "cases",
				        "switch interpretations cannot handle "
				        "multiple interpretation passes");
		return pass_load(p, n, depth + 1);
	}
	p->v = sl_calloc(1, sizeof(*p->v));
	if (p->v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory loading a switch");
		return -1;
	}
	p->v[0] = interp_load(n, 0, depth + 1);
	if (p->v[0] == NULL)
		return -1;
	p->n = 1;
	return 0;
}

/** Load the options of a switch. */
static int
switch_load(struct interp *it, const struct sl_conf *n, int depth)
{
	if (opt_prov(n, "switch_on", true, &it->on) != 0 ||
	    sl_norm_parse(sl_conf_get(n, "normalization"), NULL,
	                  "normalization", &it->props_norm) != 0 ||
	    opt_bool(n, "fail_on_unhandled", true, &it->fail_unhandled) != 0)
		return -1;
	const struct sl_conf *cases = sl_conf_get(n, "cases");
	if (cases == NULL || cases->kind != SL_CONF_MAP)
		return sl_conf_error(cases != NULL ? cases : n, "cases",
		                     "switch needs cases: a mapping of values "
		                     "to interpretations");
	it->cases = sl_calloc(cases->n + 1, sizeof(*it->cases));
	it->case_keys = sl_calloc(cases->n + 1, sizeof(*it->case_keys));
	if (it->cases == NULL || it->case_keys == NULL) {
		sl_diag_set(SL_EOOM, "out of memory loading a switch");
		return -1;
	}
	for (uint32_t i = 0; i < cases->n; i++) {
		if (sl_conf_to_value(cases->items[2 * i], &it->mem, "cases",
		                     &it->case_keys[i]) != 0)
			return -1;
		it->n_cases++;
		if (branch_load(&it->cases[i], cases->items[2 * i + 1],
		                depth) != 0)
			return -1;
	}
	const struct sl_conf *d = sl_conf_get(n, "default");
	if (d != NULL && !sl_conf_is_null(d)) {
		it->dflt = sl_calloc(1, sizeof(*it->dflt));
		if (it->dflt == NULL) {
			sl_diag_set(SL_EOOM, "out of memory loading a switch");
			return -1;
		}
		if (branch_load(it->dflt, d, depth) != 0)
			return -1;
	}
	return 0;
}

/** Load the options of a source_node. */
static int
source_load(struct interp *it, const struct sl_conf *n)
{
	static const struct sl_norm lower = {.ops = {SL_NORM_LOWER}, .n = 1};
	const struct sl_conf *norm = sl_conf_get(n, "normalization");
	const struct sl_conf *kn = sl_conf_get(n, "key_normalization");
	const struct sl_conf *pn = sl_conf_get(n, "properties_normalization");
	bool has_norm = norm != NULL && !sl_conf_is_null(norm);
	if (has_norm && ((kn != NULL && !sl_conf_is_null(kn)) ||
	                 (pn != NULL && !sl_conf_is_null(pn))))
		return sl_conf_error(norm, "normalization",
		                     "cannot be given together with "
		                     "key_normalization or "
		                     "properties_normalization");
	bool allow_create;
	if (opt_prov(n, "node_type", true, &it->node_type) != 0 ||
	    sl_norm_parse(has_norm ? norm : kn, &lower,
	                  has_norm ? "normalization" : "key_normalization",
	                  &it->key_norm) != 0 ||
	    sl_norm_parse(has_norm ? norm : pn, NULL,
	                  has_norm ? "normalization"
	                           : "properties_normalization",
	                  &it->props_norm) != 0 ||
	    opt_bool(n, "allow_create", true, &allow_create) != 0 ||
	    opt_bool(n, "update_last_ingested", true, &it->node_last) != 0 ||
	    opt_strings(n, "additional_types", &it->mem, &it->labels) != 0)
		return -1;
	if (opt_strings(n, "additional_indexes", &it->mem, &it->indexes) != 0)
		return -1;
	it->node_rule = allow_create ? NR_EAGER : NR_MATCH_ONLY;
	const struct sl_conf *key = sl_conf_get(n, "key");
	if (key == NULL)
		return sl_conf_error(n, NULL, "source_node needs a key");
	if (sl_propmap_compile(&it->key, key, "key") != 0 ||
	    sl_propmap_compile(&it->props, sl_conf_get(n, "properties"),
	                       "properties") != 0)
		return -1;
	return 0;
}

/** Load the options of a relationship. */
static int
rel_load(struct interp *it, const struct sl_conf *n)
{
	static const struct sl_norm lower = {.ops = {SL_NORM_LOWER}, .n = 1};
	int nr = NR_EAGER, rr = RR_EAGER;
	const struct sl_conf *ms = sl_conf_get(n, "match_strategy");
	if (ms != NULL && sl_conf_get(n, "node_creation_rule") != NULL)
		return sl_conf_error(ms, "match_strategy",
		                     "is the old name of node_creation_rule; "
		                     "give only one");
	static const char *const cards[] = {"SINGLE", "MANY", NULL};
	int card = 0;
	if (opt_prov(n, "node_type", true, &it->node_type) != 0 ||
	    opt_prov(n, "relationship_type", true, &it->rel_type) != 0 ||
	    opt_prov(n, "iterate_on", false, &it->iterate_on) != 0 ||
	    opt_bool(n, "outbound", true, &it->outbound) != 0 ||
	    opt_bool(n, "find_many", false, &it->find_many) != 0 ||
	    opt_enum(n, ms != NULL ? "match_strategy" : "node_creation_rule",
	             node_rule_names, &nr) != 0 ||
	    opt_enum(n, "relationship_creation_rule", rel_rule_names, &rr) !=
	            0 ||
	    opt_enum(n, "cardinality", cards, &card) != 0 ||
	    sl_norm_parse(sl_conf_get(n, "key_normalization"), &lower,
	                  "key_normalization", &it->key_norm) != 0 ||
	    sl_norm_parse(sl_conf_get(n, "properties_normalization"), NULL,
	                  "properties_normalization", &it->props_norm) != 0 ||
	    opt_strings(n, "node_additional_types", &it->mem, &it->labels) !=
	            0 ||
	    opt_bool(n, "node_update_last_ingested", true, &it->node_last) !=
	            0 ||
	    opt_bool(n, "relationship_update_last_ingested", true,
	             &it->rel_last) != 0)
		return -1;
	it->node_rule = (enum node_rule)nr;
	it->rel_rule = (enum rel_rule)rr;
	it->card_many = card == 1;
	const struct sl_conf *key = sl_conf_get(n, "node_key");
	if (key == NULL || key->kind != SL_CONF_MAP)
		return sl_conf_error(
		        key != NULL ? key : n, "node_key",
		        "relationship needs node_key: a mapping of "
		        "key names to values");
	const struct sl_conf *rk = sl_conf_get(n, "relationship_key");
	if (rk != NULL && !sl_conf_is_null(rk) && rk->kind != SL_CONF_MAP)
		return sl_conf_error(
		        rk, "relationship_key",
		        "expected a mapping of key names to values");
	if (sl_propmap_compile(&it->key, key, "node_key") != 0 ||
	    sl_propmap_compile(&it->props, sl_conf_get(n, "node_properties"),
	                       "node_properties") != 0 ||
	    sl_propmap_compile(&it->rel_key, rk, "relationship_key") != 0 ||
	    sl_propmap_compile(&it->rel_props,
	                       sl_conf_get(n, "relationship_properties"),
	                       "relationship_properties") != 0)
		return -1;
	return 0;
}

/** Load one interpretation (the `index`-th of its list). */
static void rel_out_init(struct interp *it);

static struct interp *
interp_load(const struct sl_conf *n, uint32_t index, int depth)
{
	static const char *const k_source[] = {"type",
	                                       "condition",
	                                       "node_type",
	                                       "key",
	                                       "properties",
	                                       "additional_indexes",
	                                       "additional_types",
	                                       "normalization",
	                                       "properties_normalization",
	                                       "key_normalization",
	                                       "allow_create",
	                                       "update_last_ingested",
	                                       NULL};
	static const char *const k_rel[] = {"type",
	                                    "condition",
	                                    "node_type",
	                                    "relationship_type",
	                                    "node_key",
	                                    "node_properties",
	                                    "relationship_key",
	                                    "relationship_properties",
	                                    "outbound",
	                                    "find_many",
	                                    "iterate_on",
	                                    "cardinality",
	                                    "node_creation_rule",
	                                    "match_strategy",
	                                    "relationship_creation_rule",
	                                    "key_normalization",
	                                    "properties_normalization",
	                                    "node_additional_types",
	                                    "node_update_last_ingested",
	                                    "relationship_update_last_ingested",
	                                    NULL};
	static const char *const k_props[] = {"type", "condition", "properties",
	                                      "normalization", NULL};
	static const char *const k_vars[] = {"type", "condition", "variables",
	                                     "normalization", NULL};
	static const char *const k_switch[] = {
	        "type",    "condition",     "switch_on",         "cases",
	        "default", "normalization", "fail_on_unhandled", NULL};
	static const char *const *const known[] = {k_source, k_rel, k_props,
	                                           k_vars, k_switch};
	if (depth > NEST_MAX) {
		sl_conf_error(n, "interpretations", "switches nest too deeply");
		return NULL;
	}
	if (n->kind != SL_CONF_MAP) {
		sl_conf_error(n, "interpretations",
		              "interpretation %u: expected a mapping with a "
		              "type, got a %s",
		              index + 1, sl_conf_kind_name(n->kind));
		return NULL;
	}
	static const char *const types[] = {"source_node", "relationship",
	                                    "properties",  "variables",
	                                    "switch",      NULL};
	int type = -1;
	if (opt_enum(n, "type", types, &type) != 0)
		return NULL;
	if (type < 0) {
		sl_conf_error(n, "interpretations",
		              "interpretation %u has no type (expected "
		              "source_node, relationship, properties, "
		              "variables or switch)",
		              index + 1);
		return NULL;
	}
	struct interp *it = sl_calloc(1, sizeof(*it));
	if (it == NULL) {
		sl_diag_set(SL_EOOM, "out of memory loading an interpretation");
		return NULL;
	}
	it->type = (enum itype)type;
	sl_arena_create(&it->mem, 512, (size_t)16 << 20);
	snprintf(it->where, sizeof(it->where),
	         "interpretation %u (%s) at %s:%u", index + 1,
	         itype_names[type], n->file != NULL ? n->file : "?", n->line);
	char kind[64];
	snprintf(kind, sizeof(kind), "a %s interpretation", types[type]);
	if (sl_conf_check_keys(n, known[type], "interpretations", kind) != 0)
		goto fail;
	const struct sl_conf *cond = sl_conf_get(n, "condition");
	if (cond != NULL && !sl_conf_is_null(cond) &&
	    (it->cond = cond_load(cond, 0)) == NULL)
		goto fail;
	int rc = 0;
	switch (it->type) {
	case I_SOURCE:
		rc = source_load(it, n);
		break;
	case I_REL:
		rc = rel_load(it, n);
		break;
	case I_PROPS:
	case I_VARS: {
		const char *key =
		        it->type == I_PROPS ? "properties" : "variables";
		const struct sl_conf *m = sl_conf_get(n, key);
		if (m == NULL) {
			rc = sl_conf_error(n, NULL, "%s needs %s", types[type],
			                   key);
			break;
		}
		rc = sl_propmap_compile(&it->props, m, key);
		if (rc == 0)
			rc = sl_norm_parse(sl_conf_get(n, "normalization"),
			                   NULL, "normalization",
			                   &it->props_norm);
		break;
	}
	case I_SWITCH:
		rc = switch_load(it, n, depth);
		break;
	}
	if (rc != 0)
		goto fail;
	if (it->node_type != NULL)
		it->node_type_sv = sl_prov_static_value(it->node_type);
	if (it->rel_type != NULL)
		it->rel_type_sv = sl_prov_static_value(it->rel_type);
	if (it->type == I_REL)
		rel_out_init(it);
	return it;
fail:
	interp_delete(it);
	return NULL;
}

/* --- the ingestion being built ------------------------------------------ */

/** A node being built. */
struct bnode {
	/** Its type (a string), or null. */
	struct sl_value type;
	/**
	 * Additional types: an array of strings in the interpretation's
	 * memory (it outlives the run, so the output refers to it).
	 */
	struct sl_value labels;
	/** Whether `type` is a static provider's (it outlives the run). */
	bool type_static;
	/** Key values. */
	struct sl_pset key;
	/** Properties. */
	struct sl_pset props;
	/** Creation rule. */
	enum node_rule rule;
};

/** A relationship being built, with its related node. */
struct brel {
	/** Its type. */
	struct sl_value type;
	/** Whether `type` is a static provider's (it outlives the run). */
	bool type_static;
	/** Key values. */
	struct sl_pset key;
	/** Properties. */
	struct sl_pset props;
	/** Creation rule. */
	enum rel_rule rule;
	/** Whether it points from the source to the related node. */
	bool outbound;
	/** The related node. */
	struct bnode node;
};

/** An interpretation context: provider context plus the ingestion. */
struct ictx {
	/** What providers see. */
	struct sl_prov_ctx pc;
	/** The source node. */
	struct bnode src;
	/** Relationships. */
	struct brel *rels;
	/** Relationships in use. */
	uint32_t n_rels;
	/** Capacity of `rels`. */
	uint32_t cap_rels;
	/**
	 * The arena of the batch the ingestion goes out in, when the record
	 * makes one ingestion (interp_step.direct): the key and property
	 * sets of nodes and relationships are built there, values copied in
	 * as they are set, and the output refers to them as they are. NULL:
	 * they are built in the scratch arena and copied by out_pset().
	 */
	struct sl_arena *oa;
	/**
	 * With `oa`: the shape arena of the same batch (sl_emit_shape()),
	 * where the member arrays of the relationship and node objects go
	 * (out_rel()); nothing in the values points into it.
	 */
	struct sl_arena *sa;
	/**
	 * With `oa`: the default properties (three members in `oa`), which
	 * the sets of relationships and related nodes share until something
	 * is set in them (struct sl_pset); else NULL.
	 */
	struct sl_member *defaults;
	/**
	 * With `oa`: the relationships, each already an object (out_rel()),
	 * in the shape arena `sa` (built_room()); `rels` is not used.
	 */
	struct sl_value *built;
	/** Relationships in `built`. */
	uint32_t n_built;
	/**
	 * How many of the source node's properties, from the first, are
	 * the default properties (3; 0 once one is removed).
	 */
	uint32_t src_defaults;
	/** Capacity of `built`. */
	uint32_t cap_built;
	/**
	 * The values of the step's plan (interp_step.vmaps) in the record,
	 * already living in `oa` (sl_vplan_eval()), when found (with `oa`);
	 * else NULL.
	 */
	struct sl_value *vals;
	/**
	 * With `vals`: the members of the relationships of the plan's one
	 * related node each (interp.fixed_at), in the shape arena, made
	 * with `vals` (plan_run()); else NULL.
	 */
	struct sl_member *fixed_m;
	/** With `fixed_m`: their nodes' sets' members, in `oa`. */
	struct sl_member *fixed_k;
};

/* --- the step ----------------------------------------------------------- */

/** The Interpreter step. */
struct interp_step {
	/** Common part. */
	struct sl_step base;
	/** before_iteration. */
	struct passes before;
	/** interpretations. */
	struct passes main;
	/** iterate_on, or NULL. */
	struct sl_prov *iterate_on;
	/** Scratch memory, reset per record (scratch_reset()). */
	struct sl_arena scratch;
	/** The head chunk of `scratch` at its last sl_arena_reset(), or
	 * NULL. */
	const void *scratch_head;
	/** Where `scratch` started then (its `cur`). */
	unsigned char *scratch_cur;
	/** "last_ingested_by_<pipeline>_at". */
	char *by_at;
	/** "was_ingested_by_<pipeline>". */
	char *was_by;
	/**
	 * The current timestamp text (ISO 8601, UTC), in `stamps`: records
	 * refer to it without copying, so it lives as long as the step.
	 */
	const char *now;
	/** Length of `now`. */
	uint32_t now_len;
	/** Memory of every timestamp handed out (about 40 bytes per 2 s). */
	struct sl_arena stamps;
	/** The 2-second window `now` belongs to. */
	int64_t now_window;
	/**
	 * Default properties: three members (timestamps and the mark), and
	 * a fourth, unused, so that the last three copy as many bytes.
	 */
	struct sl_member defaults[4];
	/** The emitter of the record being interpreted. */
	struct sl_emit *out;
	/** Ingestions emitted. */
	uint64_t emitted;
	/**
	 * For a replica (interp_replicate()): the step it copies, which owns
	 * the interpretations, the names and the timestamps; else NULL.
	 */
	struct interp_step *parent;
	/** Guards the parent's timestamp while replicas run. */
	pthread_mutex_t clock_lock;
	/**
	 * Whether a record makes at most one ingestion (no iterate_on, no
	 * list of passes), so that nothing is emitted while it is built
	 * and its sets can be built in the output batch (ictx.oa).
	 */
	bool direct;
	/**
	 * Room the source node's properties take besides the defaults: the
	 * names of the first pass's source_node and properties mappings.
	 */
	uint32_t src_more;
	/**
	 * The field paths of every mapping looked up together in the record
	 * (struct sl_paths; the parent's, shared by replicas), or NULL.
	 */
	struct sl_paths *paths;
	/** This thread's lookups along `paths`. */
	struct sl_paths_run run;
	/**
	 * The plan of values: the plain mappings of the interpretations of
	 * a direct step's one pass (interp.in_plan), whose values are found
	 * together at the start of each record (plan_load(); the parent's,
	 * shared by replicas), or NULL.
	 */
	const struct sl_propmap **vmaps;
	/** Their normalizations. */
	const struct sl_norm **vnorms;
	/** Mappings in the plan. */
	uint32_t n_vmaps;
	/** Values of all of them. */
	uint32_t n_vals;
	/** The plan of their values (the parent's, shared by replicas). */
	struct sl_vplan *vplan;
	/** This step's room for the plan's values of a record (n_vals). */
	struct sl_value *vvals;
	/** Relationships of the plan with one related node each (fast and
	 * not find_many: interp.fixed_at). */
	uint32_t n_fixed;
	/** Members of their nodes' sets (interp.fixed_k). */
	uint32_t n_fixed_k;
	/**
	 * The step is direct, without before_iteration, and its one pass is
	 * a source_node of the plan with a static type and no condition,
	 * then only relationships of the plan built by apply_rel_fast()
	 * without a condition or iterate_on: each record is interpreted by
	 * run_fast() (set at load: fast_run_load()).
	 */
	bool fast_run;
};

/**
 * refresh_now() when the window `window` is not the step's: the new
 * timestamp made, or the parent's taken, under the parent's lock.
 */
static __attribute__((noinline)) int
refresh_now_slow(struct interp_step *st, int64_t window)
{
	struct timespec ts;
	struct interp_step *m = st->parent != NULL ? st->parent : st;
	int rc = 0;
	pthread_mutex_lock(&m->clock_lock);
	if (window != m->now_window || m->now == NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		char buf[64];
		size_t n = sl_time_utc(&ts, 6, buf, sizeof(buf));
		char *now = sl_arena_strndup(&m->stamps, buf, n);
		if (now == NULL) {
			rc = -1;
		} else {
			m->now = now;
			m->now_len = (uint32_t)n;
			m->now_window = window;
		}
	}
	if (rc == 0) {
		st->now = m->now;
		st->now_len = m->now_len;
		st->now_window = m->now_window;
		st->defaults[0].val = sl_str_ref(st->now, st->now_len);
		st->defaults[1].val = sl_str_ref(st->now, st->now_len);
	}
	pthread_mutex_unlock(&m->clock_lock);
	return rc;
}

/**
 * Refresh the timestamp (one per 2-second window, as Nodestream). A
 * replica takes its parent's, so every thread writes the same text in a
 * window.
 */
static inline int
refresh_now(struct interp_step *st)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	int64_t window = (int64_t)ts.tv_sec / 2;
	if (window == st->now_window && st->now != NULL)
		return 0;
	return refresh_now_slow(st, window);
}

/**
 * Start `ps` in `a` as the default properties (without last_ingested_at
 * when `!last`), with room for `more` members besides; or, when
 * `shared` is not NULL, as a set sharing those three members.
 */
static inline int
default_props(struct interp_step *st, struct sl_pset *ps, bool last,
              struct sl_arena *a, uint32_t more, struct sl_member *shared)
{
	ps->dyn_keys = false;
	uint32_t first = last ? 0 : 1;
	if (shared != NULL) {
		ps->m = shared + first;
		ps->n = 3 - first;
		ps->cap = 0;
		return 0;
	}
	ps->n = ps->cap = 0;
	uint32_t cap = 3 - first + more;
	/* Three members are copied whatever `first` (see `defaults`). */
	struct sl_member *m =
	        sl_arena_alloc_aligned(a, (cap > 3 ? cap : 3) * sizeof(*m),
	                               _Alignof(struct sl_member));
	if (m == NULL)
		return -1;
	memcpy(m, &st->defaults[first], 3 * sizeof(*m));
	ps->m = m;
	ps->n = 3 - first;
	ps->cap = cap;
	return 0;
}

/**
 * sl_propmap_apply_out() into `out`, which the output refers to, without
 * a call for an empty mapping; its first `fresh` members have names that
 * no name of `m` equals.
 */
static inline int
propmap(const struct sl_propmap *m, struct ictx *c, const struct sl_norm *nm,
        struct sl_pset *out, uint32_t fresh)
{
	if (m->n == 0 && m->whole == NULL)
		return 0;
	return sl_propmap_apply_out(m, &c->pc, nm, out, c->oa, fresh);
}

/** Report a scratch-arena failure. */
static int
scratch_full(void)
{
	if (sl_diag_code() == SL_EOK)
		sl_diag_set(
		        SL_ELIMIT,
		        "a record needs more than %zu MiB of scratch memory",
		        SCRATCH_CAP >> 20);
	return -1;
}

/** Make `dst` an independent copy of context `src`. */
static int
ictx_copy(struct ictx *dst, const struct ictx *src, struct sl_arena *a)
{
	*dst = *src;
	if (sl_pset_copy(&dst->pc.vars, &src->pc.vars, a) != 0 ||
	    sl_pset_copy(&dst->src.key, &src->src.key, a) != 0 ||
	    sl_pset_copy(&dst->src.props, &src->src.props, a) != 0)
		return scratch_full();
	if (src->n_rels > 0) {
		dst->rels = sl_arena_alloc_aligned(
		        a, src->n_rels * sizeof(*dst->rels),
		        _Alignof(struct brel));
		if (dst->rels == NULL)
			return scratch_full();
		memcpy(dst->rels, src->rels, src->n_rels * sizeof(*dst->rels));
		dst->cap_rels = src->n_rels;
	}
	return 0;
}

/** Whether `n` has a valid identity: a key with no null value. */
static bool
valid_key(const struct sl_pset *k)
{
	if (k->n == 0)
		return false;
	for (uint32_t i = 0; i < k->n; i++)
		if (k->m[i].val.type == SL_VNULL)
			return false;
	return true;
}

/** Count a skipped node with a message naming the record. */
static void
skip(struct interp_step *st, const char *fmt, const char *a, const char *b)
{
	char where[300], msg[400];
	sl_origin_format(sl_emit_origin(st->out), where, sizeof(where));
	snprintf(msg, sizeof(msg), fmt, a, b);
	sl_diag_set(SL_EINVAL, "%s: %s", where, msg);
	sl_step_skip(&st->base);
}

/**
 * The type provider's value: a string or null; else an error. `sv` is
 * its static value (which outlives the run), or NULL; *is_static tells
 * which.
 */
static int
type_value_slow(const struct sl_prov *p, const struct sl_value *sv,
                struct sl_prov_ctx *c, const char *what, struct sl_value *out,
                bool *is_static)
{
	*is_static = sv != NULL;
	if (sv != NULL)
		*out = *sv;
	else if (sl_prov_single(p, c, out) != 0)
		return -1;
	if (out->type != SL_VSTR && out->type != SL_VNULL) {
		sl_diag_set(SL_EINVAL, "%s must be a string, got %s", what,
		            sl_py_type(out));
		return -1;
	}
	return 0;
}

/** type_value_slow(), inline for a static string. */
static inline int
type_value(const struct sl_prov *p, const struct sl_value *sv,
           struct sl_prov_ctx *c, const char *what, struct sl_value *out,
           bool *is_static)
{
	if (sv != NULL && sv->type == SL_VSTR) {
		*out = *sv;
		*is_static = true;
		return 0;
	}
	return type_value_slow(p, sv, c, what, out, is_static);
}

/** Short text of a value for messages. */
static const char *
short_text(const struct sl_value *v, char *buf, size_t size)
{
	if (v->type == SL_VSTR)
		snprintf(buf, size, "%.*s", (int)(v->len < 60 ? v->len : 60),
		         v->u.s);
	else
		snprintf(buf, size, "(no type)");
	return buf;
}

static int propmap_direct(const struct sl_propmap *m, struct ictx *c,
                          const struct sl_norm *nm, struct sl_pset *out,
                          uint32_t fresh);
static int propmap_put(const struct sl_propmap *m, struct ictx *c,
                       const struct sl_norm *nm, const struct sl_value *v,
                       struct sl_pset *out, uint32_t fresh);

/**
 * propmap(), by propmap_direct() when mapping `m` is plain (`plain`: set
 * at load) and the set is built in the output's arena and none of its
 * members can have a name of `m` (its first `fresh` are known not to).
 */
static inline int
propmap_any(const struct sl_propmap *m, bool plain, struct ictx *c,
            const struct sl_norm *nm, struct sl_pset *out, uint32_t fresh)
{
	if (m->n == 0 && m->whole == NULL)
		return 0;
	if (plain && c->oa != NULL && fresh >= out->n)
		return propmap_direct(m, c, nm, out, fresh);
	return sl_propmap_apply_out(m, &c->pc, nm, out, c->oa, fresh);
}

/** Apply a source_node interpretation. */
static int
apply_source(struct interp_step *st, const struct interp *it, struct ictx *c)
{
	/* Set straight into the context: a failure fails the record, and
	 * providers do not read the node being built. */
	if (it->in_plan && c->vals != NULL) {
		const struct sl_value *v = c->vals + it->vval;
		if (propmap_put(&it->key, c, &it->key_norm, v, &c->src.key,
		                0) != 0 ||
		    propmap_put(&it->props, c, &it->props_norm, v + it->key.n,
		                &c->src.props,
		                it->props_fresh ? c->src_defaults : 0) != 0)
			return -1;
	} else if (propmap_any(&it->key, it->key_plain, c, &it->key_norm,
	                       &c->src.key, 0) != 0 ||
	           propmap_any(&it->props, it->props_plain, c, &it->props_norm,
	                       &c->src.props,
	                       it->props_fresh ? c->src_defaults : 0) != 0)
		return -1;
	struct sl_value type;
	bool type_static;
	if (type_value(it->node_type, it->node_type_sv, &c->pc, "node_type",
	               &type, &type_static) != 0)
		return -1;
	c->src.type = type;
	c->src.type_static = type_static;
	c->src.labels = it->labels;
	c->src.rule = it->node_rule;
	if (!it->node_last) {
		sl_pset_remove(&c->src.props, "last_ingested_at", 16);
		c->src_defaults = 0;
	}
	(void)st;
	return 0;
}

/**
 * Room for one more relationship in the context: the next slot of
 * `c->rels`, which counts once the caller increments `c->n_rels`. NULL
 * when the scratch arena is full.
 */
static struct brel *
rel_room(struct ictx *c)
{
	if (c->n_rels == c->cap_rels) {
		uint32_t cap = c->cap_rels ? c->cap_rels * 2 : 8;
		struct brel *v = sl_arena_alloc_aligned(
		        c->pc.a, cap * sizeof(*v), _Alignof(struct brel));
		if (v == NULL) {
			scratch_full();
			return NULL;
		}
		if (c->n_rels > 0)
			memcpy(v, c->rels, c->n_rels * sizeof(*v));
		c->rels = v;
		c->cap_rels = cap;
	}
	return &c->rels[c->n_rels];
}

static inline int lists_len(const struct sl_value *l, uint32_t nk,
                            uint32_t *len);

/**
 * find_many: the many values of each key provider (*lists, in the scratch
 * arena, one array per name of it->key), all of length *len.
 */
static int
many_keys(const struct interp *it, struct ictx *c, struct sl_value **lists,
          uint32_t *len)
{
	uint32_t nk = it->key.n;
	struct sl_value *l = sl_arena_alloc_aligned(
	        c->pc.a, (nk + 1) * sizeof(*l), _Alignof(struct sl_value));
	if (l == NULL)
		return scratch_full();
	for (uint32_t i = 0; i < nk; i++)
		if (sl_prov_many(it->key.provs[i], &c->pc, &l[i]) != 0)
			return -1;
	*lists = l;
	return lists_len(l, nk, len);
}

/**
 * The common length *len of the arrays l[0, nk) (find_many's keys' many
 * values), or -1 with an error when they differ.
 */
static inline int
lists_len(const struct sl_value *l, uint32_t nk, uint32_t *len)
{
	uint32_t n = 0;
	bool same = nk > 0;
	for (uint32_t i = 0; i < nk; i++) {
		if (i > 0 && l[i].len != n)
			same = false;
		n = l[i].len;
	}
	if (!same) {
		char lens[200] = "";
		for (uint32_t i = 0; i < nk && strlen(lens) < 180; i++)
			snprintf(lens + strlen(lens),
			         sizeof(lens) - strlen(lens), "%s%u",
			         i > 0 ? "," : "", l[i].len);
		sl_diag_set(SL_EINVAL,
		            "node keys of find_many do not have a consistent "
		            "length: (%s)",
		            lens);
		return -1;
	}
	*len = n;
	return 0;
}

/** The related nodes' key sets of a relationship: `*n` psets. */
static int
related_keys(const struct interp *it, struct ictx *c, struct sl_pset **out,
             uint32_t *n)
{
	struct sl_arena *a = c->pc.a;
	if (!it->find_many) {
		struct sl_pset *k = sl_arena_alloc_aligned(
		        a, sizeof(*k), _Alignof(struct sl_pset));
		if (k == NULL)
			return scratch_full();
		memset(k, 0, sizeof(*k));
		if (propmap(&it->key, c, &it->key_norm, k, 0) != 0)
			return -1;
		*out = k;
		*n = 1;
		return 0;
	}
	/* find_many: every key's many values, zipped index-wise. */
	uint32_t nk = it->key.n;
	struct sl_value *lists;
	uint32_t len;
	if (many_keys(it, c, &lists, &len) != 0)
		return -1;
	struct sl_pset *ks = sl_arena_alloc_aligned(a, (len + 1) * sizeof(*ks),
	                                            _Alignof(struct sl_pset));
	if (ks == NULL)
		return scratch_full();
	memset(ks, 0, (len + 1) * sizeof(*ks));
	/* The names differ (compiling keeps a name once): each set is its
	 * members in turn, all sets in one block. */
	struct sl_arena *ga = c->oa != NULL ? c->oa : a;
	struct sl_member *block =
	        len > 0 && nk > 0
	                ? sl_arena_alloc_aligned(
	                          ga, (size_t)len * nk * sizeof(*block),
	                          _Alignof(struct sl_member))
	                : NULL;
	if (len > 0 && nk > 0 && block == NULL)
		return scratch_full();
	bool norm = it->key_norm.n > 0;
	for (uint32_t j = 0; j < len; j++) {
		struct sl_member *m = block + (size_t)j * nk;
		for (uint32_t i = 0; i < nk; i++) {
			struct sl_value v = lists[i].u.items[j];
			if ((norm && v.type == SL_VSTR &&
			     sl_norm_apply_inline(&it->key_norm, &v, a) != 0) ||
			    (c->oa != NULL && sl_value_keep(c->oa, &v) != 0))
				return scratch_full();
			m[i].key = it->key.names[i];
			m[i].key_len = it->key.lens[i];
			m[i].val = v;
		}
		ks[j] = (struct sl_pset){m, nk, nk, false};
	}
	*out = ks;
	*n = len;
	return 0;
}

static int out_rel(struct sl_arena *a, struct sl_arena *sa,
                   const struct sl_member *tmpl, const struct brel *r,
                   const struct bnode *nd, struct sl_value *out);
static inline struct sl_value *built_room(struct ictx *c);

/**
 * Keep relationship `r` to node `nd` in the context: with `c->oa`, as an
 * object in it (out_rel()) in `c->built`; else in `c->rels`.
 */
static int
keep_rel(struct ictx *c, const struct interp *it, const struct brel *r,
         const struct bnode *nd)
{
	if (c->oa == NULL) {
		struct brel *slot = rel_room(c);
		if (slot == NULL)
			return -1;
		memcpy(slot, r, offsetof(struct brel, node));
		slot->node = *nd;
		c->n_rels++;
		return 0;
	}
	struct sl_value *slot = built_room(c);
	if (slot == NULL ||
	    out_rel(c->oa, c->sa, it->rel_out, r, nd, slot) != 0)
		return scratch_full();
	c->n_built++;
	return 0;
}

/**
 * Where empty texts point when a block of texts has no byte
 * (keep_values(), fast_many()): a byte never written, so that no text
 * is NULL.
 */
static char no_text[1];

/**
 * Make the values v[0, n) live in the output's arena `a`: texts of up to
 * 16 bytes (`texts` bytes in all, as sl_propmap_values() counts them)
 * copied one after the other into one block, strings lowercased on the
 * way when `lower` (the mapping's normalization is lowercasing alone,
 * which sl_propmap_values() leaves to the copy), the others by
 * sl_value_keep(). 0, or -1 (arena full).
 */
static inline __attribute__((always_inline)) int
keep_values(struct sl_value *v, uint32_t n, size_t texts, struct sl_arena *a,
            bool lower)
{
	char *t = texts > 0 ? sl_arena_alloc_aligned(a, texts, 1) : no_text;
	if (t == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		struct sl_value *x = &v[i];
		uint8_t type = x->type;
		if (type < SL_VNUMBER)
			continue;
		if (type <= SL_VSTR && x->len <= 16) {
			if (lower && type == SL_VSTR)
				sl_norm_lower_copy(t, x->u.s, x->len);
			else
				sl_copy_bytes(t, x->u.s, x->len);
			x->u.s = t;
			t += x->len;
		} else if (sl_value_keep(a, x) != 0) {
			return -1;
		}
	}
	return 0;
}

/**
 * Members at `m` named as mapping `map`, with the values v[0, map->n),
 * which already live in the output (keep_values(), sl_vplan_eval()).
 */
static inline __attribute__((always_inline)) void
put_members(struct sl_member *m, const struct sl_propmap *map,
            const struct sl_value *v)
{
	uint32_t n = map->n;
	char *const *names = map->names;
	const uint32_t *lens = map->lens;
	for (uint32_t i = 0; i < n; i++) {
		m[i].key = names[i];
		m[i].key_len = lens[i];
		m[i].val = v[i];
	}
}

/**
 * Set the values v[0, m->n) of plain mapping `m`, which already live in
 * the output's arena (c->oa), in `out`, a set there: written straight
 * after its members when none of them can have a name of `m` (its first
 * `fresh` are known not to); else by sl_propmap_apply_out(), which finds
 * them again.
 */
static int
propmap_put(const struct sl_propmap *m, struct ictx *c,
            const struct sl_norm *nm, const struct sl_value *v,
            struct sl_pset *out, uint32_t fresh)
{
	if (m->n == 0)
		return 0;
	if (fresh < out->n)
		return sl_propmap_apply_out(m, &c->pc, nm, out, c->oa, fresh);
	uint32_t need = out->n + m->n;
	if (need > out->cap && sl_pset_reserve(out, c->oa, need) != 0)
		return scratch_full();
	put_members(out->m + out->n, m, v);
	out->n = need;
	return 0;
}

/**
 * sl_propmap_apply_out() of a plain mapping `m` (sl_propmap_plain(), at
 * most FAST_MAX names) into a set in the output's arena (c->oa) none of
 * whose first `fresh` members has a name of `m`: its values found at
 * once and kept in the output (keep_values()), then propmap_put().
 */
static int
propmap_direct(const struct sl_propmap *m, struct ictx *c,
               const struct sl_norm *nm, struct sl_pset *out, uint32_t fresh)
{
	struct sl_value v[FAST_MAX];
	size_t texts = 0;
	if (fresh < out->n)
		return sl_propmap_apply_out(m, &c->pc, nm, out, c->oa, fresh);
	if (sl_propmap_values(m, &c->pc, nm, v, &texts) != 0)
		return -1;
	if (keep_values(v, m->n, texts, c->oa, sl_norm_lower_only(nm)) != 0)
		return scratch_full();
	return propmap_put(m, c, nm, v, out, fresh);
}

/**
 * The next slot of c->built, or NULL. It grows in the shape arena (c->sa),
 * where the ingestion's array of relationships goes: out_ingest() takes
 * it as it is.
 */
static inline struct sl_value *
built_room(struct ictx *c)
{
	if (c->n_built == c->cap_built) {
		uint32_t cap = c->cap_built ? c->cap_built * 2 : 16;
		struct sl_value *v = sl_arena_alloc_aligned(
		        c->sa, cap * sizeof(*v), _Alignof(struct sl_value));
		if (v == NULL)
			return NULL;
		if (c->n_built > 0)
			memcpy(v, c->built, c->n_built * sizeof(*v));
		c->built = v;
		c->cap_built = cap;
	}
	return &c->built[c->n_built];
}

/** Skip a related node of `it` whose key has a null (fast_node()). */
static void
fast_skip(struct interp_step *st, const struct interp *it)
{
	char b1[80], b2[80];
	skip(st,
	     "relationship %s: the related %s node has an empty or null "
	     "key",
	     short_text(it->rel_type_sv, b1, sizeof(b1)),
	     short_text(it->node_type_sv, b2, sizeof(b2)));
}

/** Whether one of the key values kv[0, nk) is null (fast_node()). */
static inline bool
fast_null_key(const struct sl_value *kv, uint32_t nk)
{
	for (uint32_t i = 0; i < nk; i++)
		if (kv[i].type == SL_VNULL)
			return true;
	return false;
}

/**
 * apply_rel_fast(): write the relationship to the related node of key
 * values kv[0, it->key.n), with the relationship's properties `rprops`
 * and the node's property values pv[0, it->props.n), all of which already
 * live in the output (keep_values(), sl_vplan_eval()): the relationship's
 * and node's members (from it->rel_out, which holds the static types) at
 * `m` (11, in the shape arena c->sa), the node's key and properties at
 * `keys` (it->key.n + it->fast_nd, in c->oa), and the relationship in
 * the next slot of c->built (room made by the caller).
 */
static inline __attribute__((always_inline)) void
fast_fill(const struct interp *it, struct ictx *c, const struct sl_value *kv,
          struct sl_value rprops, const struct sl_value *pv,
          struct sl_member *m, struct sl_member *keys)
{
	uint32_t nk = it->key.n;
	uint32_t nd = it->fast_nd;
	/* Two copies of known sizes, each inline. */
	memcpy(m, it->rel_out, 6 * sizeof(*m));
	memcpy(m + 6, it->rel_out + 6, 5 * sizeof(*m));
	put_members(keys, &it->key, kv);
	uint32_t nfirst = it->node_last ? 0 : 1;
	if (nd == 0) {
		m[9].val = sl_object_ref(c->defaults + nfirst, 3 - nfirst);
	} else {
		struct sl_member *pm = keys + nk;
		memcpy(pm, c->defaults + nfirst,
		       (3 - nfirst) * sizeof(struct sl_member));
		put_members(pm + 3 - nfirst, &it->props, pv);
		m[9].val = sl_object_ref(pm, nd);
	}
	m[2].val = rprops;
	m[5].val = sl_object_ref(m + 6, 5);
	m[8].val = sl_object_ref(keys, nk);
	c->built[c->n_built++] = sl_object_ref(m, 6);
}

/**
 * fast_fill() of one relationship, its two blocks allocated here; a key
 * with a null is skipped.
 */
static inline __attribute__((always_inline)) int
fast_node(struct interp_step *st, const struct interp *it, struct ictx *c,
          const struct sl_value *kv, struct sl_value rprops,
          const struct sl_value *pv)
{
	uint32_t nk = it->key.n;
	if (fast_null_key(kv, nk)) {
		fast_skip(st, it);
		return 0;
	}
	/* The objects' members in the shape arena (as out_rel()), the sets
	 * the writer keeps in the output's. */
	struct sl_member *m = sl_arena_alloc_aligned(
	        c->sa, 11 * sizeof(*m), _Alignof(struct sl_member));
	struct sl_member *keys = sl_arena_alloc_aligned(
	        c->oa, (nk + it->fast_nd) * sizeof(struct sl_member),
	        _Alignof(struct sl_member));
	if (m == NULL || keys == NULL || built_room(c) == NULL)
		return scratch_full();
	fast_fill(it, c, kv, rprops, pv, m, keys);
	return 0;
}

/**
 * find_many of apply_rel_fast(): the relationships to the `len` related
 * nodes of the key values in lists[0, it->key.n) (each key's many values,
 * arrays of `len` items), each normalized (short ASCII text left to the
 * copy, as sl_propmap_values()) into the scratch arena, then their texts
 * copied into one block of the output's arena, and every relationship's
 * members and node's sets written into one block of the shape arena and
 * one of the output's (fast_fill()). Nodes whose key has a null are
 * skipped.
 */
static int
fast_many(struct interp_step *st, const struct interp *it, struct ictx *c,
          const struct sl_value *lists, uint32_t len, struct sl_value rprops,
          const struct sl_value *pv)
{
	uint32_t nk = it->key.n;
	if (len == 0)
		return 0;
	bool norm = it->key_norm.n > 0;
	bool lower = it->key_lower;
	size_t nv = (size_t)len * nk;
	struct sl_value *kvs = sl_arena_alloc_aligned(
	        c->pc.a, nv * sizeof(*kvs), _Alignof(struct sl_value));
	if (kvs == NULL)
		return scratch_full();
	size_t texts = 0;
	for (uint32_t j = 0; j < len; j++)
		for (uint32_t i = 0; i < nk; i++) {
			struct sl_value v = lists[i].u.items[j];
			if (norm && v.type == SL_VSTR &&
			    !(lower && v.len <= 16 &&
			      sl_norm_short_ascii(v.u.s, v.len)) &&
			    sl_norm_apply_inline(&it->key_norm, &v, c->pc.a) !=
			            0)
				return scratch_full();
			if (v.type >= SL_VNUMBER && v.type <= SL_VSTR)
				texts += v.len;
			kvs[(size_t)j * nk + i] = v;
		}
	uint32_t per = nk + it->fast_nd;
	char *t = texts > 0 ? sl_arena_alloc_aligned(c->oa, texts, 1) : no_text;
	struct sl_member *ms =
	        sl_arena_alloc_aligned(c->sa, (size_t)len * 11 * sizeof(*ms),
	                               _Alignof(struct sl_member));
	struct sl_member *ks =
	        sl_arena_alloc_aligned(c->oa, (size_t)len * per * sizeof(*ks),
	                               _Alignof(struct sl_member));
	if (t == NULL || ms == NULL || ks == NULL)
		return scratch_full();
	for (uint32_t j = 0; j < len; j++) {
		struct sl_value *kv = kvs + (size_t)j * nk;
		if (fast_null_key(kv, nk)) {
			fast_skip(st, it);
			continue;
		}
		/* As keep_values(), into the one block. */
		for (uint32_t i = 0; i < nk; i++) {
			struct sl_value *x = &kv[i];
			uint8_t type = x->type;
			if (type < SL_VNUMBER)
				continue;
			if (type <= SL_VSTR) {
				if (lower && type == SL_VSTR && x->len <= 16)
					sl_norm_lower_copy(t, x->u.s, x->len);
				else
					sl_copy_bytes(t, x->u.s, x->len);
				x->u.s = t;
				t += x->len;
			} else if (sl_value_keep(c->oa, x) != 0) {
				return scratch_full();
			}
		}
		if (built_room(c) == NULL)
			return scratch_full();
		fast_fill(it, c, kv, rprops, pv, ms + (size_t)j * 11,
		          ks + (size_t)j * per);
	}
	return 0;
}

/**
 * apply_rel_doc() for a relationship whose types are static strings,
 * without a relationship key, whose mappings are plain
 * (sl_propmap_plain(), at most FAST_MAX names) and do not name a default
 * property, when the output has an arena (ictx.oa): each mapping's values
 * found at once and kept in the output, and each relationship with its
 * node and sets written straight into two blocks (fast_node()). The same
 * objects as apply_rel_doc() builds.
 */
static int
apply_rel_fast(struct interp_step *st, const struct interp *it, struct ictx *c)
{
	struct sl_value rvb[FAST_MAX], pvb[FAST_MAX], kv[FAST_MAX];
	const struct sl_value *rv = rvb, *pv = pvb;
	uint32_t nr = it->rel_props.n;
	uint32_t rfirst = it->rel_last ? 0 : 1;
	/* Found with the record's others (and kept), or here. */
	bool plan = it->in_plan && c->vals != NULL;
	if (plan) {
		rv = c->vals + it->vval;
		pv = rv + nr;
	} else {
		size_t rt = 0, pt = 0;
		if ((nr > 0 &&
		     sl_propmap_values(&it->rel_props, &c->pc, &it->props_norm,
		                       rvb, &rt) != 0) ||
		    (it->props.n > 0 &&
		     sl_propmap_values(&it->props, &c->pc, &it->props_norm, pvb,
		                       &pt) != 0))
			return -1;
		if (keep_values(rvb, nr, rt, c->oa, it->props_lower) != 0 ||
		    keep_values(pvb, it->props.n, pt, c->oa, it->props_lower) !=
		            0)
			return scratch_full();
	}
	struct sl_value rprops;
	if (nr == 0) {
		/* The defaults the record's sets share. */
		rprops = sl_object_ref(c->defaults + rfirst, 3 - rfirst);
	} else {
		/* One set, which every relationship of `it` here refers
		 * to. */
		uint32_t nd = 3 - rfirst + nr;
		struct sl_member *m = sl_arena_alloc_aligned(
		        c->oa, nd * sizeof(struct sl_member),
		        _Alignof(struct sl_member));
		if (m == NULL)
			return scratch_full();
		memcpy(m, c->defaults + rfirst,
		       (3 - rfirst) * sizeof(struct sl_member));
		put_members(m + 3 - rfirst, &it->rel_props, rv);
		rprops = sl_object_ref(m, nd);
	}
	/* The node's properties are the same for every node of `it` here:
	 * found once, each node given its own set of them. */
	if (!it->find_many) {
		if (plan) {
			/* Its blocks were made with the plan's values. */
			const struct sl_value *pk = pv + it->props.n;
			if (fast_null_key(pk, it->key.n)) {
				fast_skip(st, it);
				return 0;
			}
			if (built_room(c) == NULL)
				return scratch_full();
			fast_fill(it, c, pk, rprops, pv,
			          c->fixed_m + (size_t)it->fixed_at * 11,
			          c->fixed_k + it->fixed_k);
			return 0;
		}
		size_t texts = 0;
		if (sl_propmap_values(&it->key, &c->pc, &it->key_norm, kv,
		                      &texts) != 0)
			return -1;
		if (keep_values(kv, it->key.n, texts, c->oa, it->key_lower) !=
		    0)
			return scratch_full();
		return fast_node(st, it, c, kv, rprops, pv);
	}
	/* find_many: each key's many values (at most FAST_MAX keys). */
	uint32_t nk = it->key.n;
	uint32_t len;
	for (uint32_t i = 0; i < nk; i++)
		if (sl_prov_many(it->key.provs[i], &c->pc, &kv[i]) != 0)
			return -1;
	if (lists_len(kv, nk, &len) != 0)
		return -1;
	return fast_many(st, it, c, kv, len, rprops, pv);
}

/** Apply a relationship interpretation to one (sub-)document. */
static int
apply_rel_doc(struct interp_step *st, const struct interp *it, struct ictx *c)
{
	if (it->fast && c->oa != NULL)
		return apply_rel_fast(st, it, c);
	/* Sets the output refers to go in the output's arena if direct. */
	struct sl_arena *a = c->oa != NULL ? c->oa : c->pc.a;
	/* The relationship's own part; each related node's is filled in
	 * place in the context (rel_room()). */
	struct brel r;
	memset(&r, 0, offsetof(struct brel, node));
	if (type_value(it->rel_type, it->rel_type_sv, &c->pc,
	               "relationship_type", &r.type, &r.type_static) != 0 ||
	    default_props(st, &r.props, it->rel_last, a, it->rel_props.n,
	                  c->defaults) != 0 ||
	    propmap(&it->rel_key, c, &it->props_norm, &r.key, 0) != 0 ||
	    propmap(&it->rel_props, c, &it->props_norm, &r.props,
	            it->rel_props_fresh ? r.props.n : 0) != 0)
		return -1;
	r.rule = it->rel_rule;
	r.outbound = it->outbound;
	struct sl_pset *keys;
	uint32_t nkeys;
	if (related_keys(it, c, &keys, &nkeys) != 0)
		return -1;
	char b1[80], b2[80];
	for (uint32_t i = 0; i < nkeys; i++) {
		struct bnode node;
		struct bnode *nd = &node;
		nd->props = (struct sl_pset){NULL, 0, 0, false};
		if (type_value(it->node_type, it->node_type_sv, &c->pc,
		               "node_type", &nd->type, &nd->type_static) != 0)
			return -1;
		nd->key = keys[i];
		nd->labels = it->labels;
		nd->rule = it->node_rule;
		if (!valid_key(&nd->key)) {
			skip(st,
			     "relationship %s: the related %s node has an "
			     "empty or null key",
			     short_text(&r.type, b1, sizeof(b1)),
			     short_text(&nd->type, b2, sizeof(b2)));
			continue;
		}
		if (default_props(st, &nd->props, it->node_last, a, it->props.n,
		                  c->defaults) != 0 ||
		    propmap(&it->props, c, &it->props_norm, &nd->props,
		            it->props_fresh ? nd->props.n : 0) != 0)
			return -1;
		if (nd->type.type == SL_VNULL || r.type.type == SL_VNULL) {
			skip(st,
			     "relationship %s to a %s node has no type; "
			     "skipped",
			     short_text(&r.type, b1, sizeof(b1)),
			     short_text(&nd->type, b2, sizeof(b2)));
			continue;
		}
		if (keep_rel(c, it, &r, nd) != 0)
			return -1;
	}
	return 0;
}

/** Apply a relationship interpretation (over iterate_on if given). */
static int
apply_rel(struct interp_step *st, const struct interp *it, struct ictx *c)
{
	if (it->iterate_on == NULL)
		return apply_rel_doc(st, it, c);
	struct sl_value many;
	if (sl_prov_many(it->iterate_on, &c->pc, &many) != 0)
		return -1;
	const struct sl_value *doc = c->pc.doc;
	int rc = 0;
	for (uint32_t i = 0; i < many.len && rc == 0; i++) {
		c->pc.doc = &many.u.items[i];
		rc = apply_rel_doc(st, it, c);
	}
	c->pc.doc = doc;
	return rc;
}

/** Evaluate a condition. */
static int
cond_eval(const struct cond *k, struct ictx *c, bool *out)
{
	switch (k->kind) {
	case C_TRUE:
		*out = true;
		return 0;
	case C_NOT:
		if (cond_eval(k->subs[0], c, out) != 0)
			return -1;
		*out = !*out;
		return 0;
	case C_AND:
	case C_OR:
		*out = k->kind == C_AND;
		for (uint32_t i = 0; i < k->n; i++) {
			bool v = false;
			if (cond_eval(k->subs[i], c, &v) != 0)
				return -1;
			if (v != (k->kind == C_AND)) {
				*out = v;
				return 0;
			}
		}
		return 0;
	case C_COMPARE: {
		struct sl_value l, r;
		if (sl_prov_single(k->left, &c->pc, &l) != 0 ||
		    sl_prov_single(k->right, &c->pc, &r) != 0)
			return -1;
		int cmp;
		switch (k->op) {
		case OP_EQUALS:
			*out = sl_py_equal(&l, &r);
			return 0;
		case OP_GREATER:
		case OP_LESS:
			if (sl_py_compare(&l, &r,
			                  k->op == OP_GREATER ? ">" : "<",
			                  &cmp) != 0)
				return -1;
			*out = k->op == OP_GREATER ? cmp > 0 : cmp < 0;
			return 0;
		case OP_CONTAINS:
			return sl_py_contains(&l, &r, out);
		}
	}
	}
	return 0;
}

static int apply_pass(struct interp_step *st, const struct pass *p,
                      struct ictx *c);

/** Apply one interpretation to `c`. */
static int
apply(struct interp_step *st, const struct interp *it, struct ictx *c)
{
	if (it->cond != NULL) {
		bool ok;
		if (cond_eval(it->cond, c, &ok) != 0)
			goto fail;
		if (!ok)
			return 0;
	}
	int rc = 0;
	switch (it->type) {
	case I_SOURCE:
		rc = apply_source(st, it, c);
		break;
	case I_REL:
		rc = apply_rel(st, it, c);
		break;
	case I_PROPS:
		if (it->in_plan && c->vals != NULL) {
			rc = propmap_put(&it->props, c, &it->props_norm,
			                 c->vals + it->vval, &c->src.props,
			                 it->props_fresh ? c->src_defaults : 0);
			break;
		}
		rc = propmap_any(&it->props, it->props_plain, c,
		                 &it->props_norm, &c->src.props,
		                 it->props_fresh ? c->src_defaults : 0);
		break;
	case I_VARS:
		rc = sl_propmap_apply(&it->props, &c->pc, &it->props_norm,
		                      &c->pc.vars);
		break;
	case I_SWITCH: {
		struct sl_value key;
		if (sl_prov_single_norm(it->on, &c->pc, &it->props_norm,
		                        &key) != 0)
			goto fail;
		if (key.type == SL_VARRAY || key.type == SL_VOBJECT) {
			sl_diag_set(SL_EINVAL,
			            "switch_on gave a %s, which cannot select "
			            "a case (unhashable)",
			            sl_py_type(&key));
			goto fail;
		}
		const struct pass *branch = it->dflt;
		for (uint32_t i = 0; i < it->n_cases; i++)
			if (sl_py_equal(&it->case_keys[i], &key)) {
				branch = &it->cases[i];
				break;
			}
		if (branch == NULL) {
			if (!it->fail_unhandled)
				return 0;
			struct sl_buf b;
			sl_buf_create(&b, 200);
			sl_py_str(&key, &b);
			sl_diag_set(SL_EINVAL,
			            "'%s' was not matched in switch "
			            "case",
			            b.data != NULL ? b.data : "?");
			sl_buf_destroy(&b);
			goto fail;
		}
		/* A branch's own errors name the branch's interpretation. */
		return apply_pass(st, branch, c);
	}
	}
	if (rc == 0)
		return 0;
fail:
	sl_diag_wrap(sl_diag_code(), "%s", it->where);
	return -1;
}

/** Apply every interpretation of a pass to `c`. */
static int
apply_pass(struct interp_step *st, const struct pass *p, struct ictx *c)
{
	for (uint32_t i = 0; i < p->n; i++) {
		const struct interp *it = p->v[i];
		/* apply() of a fast relationship, without its steps. */
		if (it->fast_direct && c->oa != NULL) {
			if (apply_rel_fast(st, it, c) == 0)
				continue;
			sl_diag_wrap(sl_diag_code(), "%s", it->where);
			return -1;
		}
		if (apply(st, it, c) != 0)
			return -1;
	}
	return 0;
}

/* --- output ------------------------------------------------------------- */

/**
 * Member keys of the output (static: they outlive the run): the shared
 * names of value/ingest_names.h, which the writer tells by address.
 */
#define K(s)                      \
	{                         \
		s, sizeof(s) - 1, \
		{                 \
			0         \
		}                 \
	}

/**
 * Copy property set `ps` as an object into `a`. Names written in the
 * pipeline file and the current timestamp outlive the run and are not
 * copied.
 */
static int
out_pset_copy(const struct interp_step *st, struct sl_arena *a,
              const struct sl_pset *ps, struct sl_value *out)
{
	uint32_t n = ps->n;
	struct sl_member *m = sl_arena_alloc_aligned(
	        a, n * sizeof(*m), _Alignof(struct sl_member));
	if (m == NULL)
		return -1;
	/* Locals: the stores to m[] could alias *ps and *st for the
	 * compiler. */
	const char *now = st->now;
	const struct sl_member *src = ps->m;
	bool dyn = ps->dyn_keys;
	for (uint32_t i = 0; i < n; i++) {
		const struct sl_member *s = &src[i];
		uint8_t type = s->val.type;
		m[i] = *s;
		if (dyn && (m[i].key = sl_arena_strndup(a, s->key,
		                                        s->key_len)) == NULL)
			return -1;
		if (type < SL_VNUMBER || (type == SL_VSTR && s->val.u.s == now))
			continue;
		if (type <= SL_VSTR && s->val.len <= 16) {
			/* Short text inline (sl_str_copy() for the rest). */
			uint32_t len = s->val.len;
			char *t =
			        sl_arena_alloc_aligned(a, len > 0 ? len : 1, 1);
			if (t == NULL)
				return -1;
			sl_copy_bytes(t, s->val.u.s, len);
			m[i].val.u.s = t;
			continue;
		}
		if (type <= SL_VSTR ? sl_str_copy(a, s->val.u.s, s->val.len,
		                                  &m[i].val) != 0
		                    : sl_value_copy(a, &s->val, &m[i].val) != 0)
			return -1;
		m[i].val.type = type; /* a number's text stays one */
	}
	*out = sl_object_ref(m, n);
	return 0;
}

/**
 * Property set `ps` as an object in `a`: when the step is direct, the set
 * as it is (it was built in `a`, or shares the record's defaults there);
 * else a copy (out_pset_copy()).
 */
static inline int
out_pset(const struct interp_step *st, struct sl_arena *a,
         const struct sl_pset *ps, struct sl_value *out)
{
	if (ps->n == 0) {
		*out = sl_object_ref(NULL, 0);
		return 0;
	}
	if (st->direct) {
		*out = sl_object_ref(ps->m, ps->n);
		return 0;
	}
	return out_pset_copy(st, a, ps, out);
}

/** A rule name as a string value. */
#define RULE(name)                                                          \
	{                                                                   \
		.type = SL_VSTR, .len = sizeof(name) - 1, .u = {.s = name } \
	}

/** node_rule_names as values (the shared strings). */
static const struct sl_value node_rule_values[] = {
        RULE(sl_rule_eager), RULE(sl_rule_match_only), RULE(sl_rule_fuzzy)};

/** rel_rule_names as values (the shared strings). */
static const struct sl_value rel_rule_values[] = {
        RULE(sl_rule_eager), RULE(sl_rule_merge_key), RULE(sl_rule_create)};

/** The members of a node object, values to fill. */
static const struct sl_member node_tmpl[5] = {K(sl_ing_type), K(sl_ing_labels),
                                              K(sl_ing_key), K(sl_ing_props),
                                              K(sl_ing_rule)};

/** The members of a relationship object, values to fill. */
static const struct sl_member rel_tmpl[6] = {
        K(sl_ing_type), K(sl_ing_key),      K(sl_ing_props),
        K(sl_ing_rule), K(sl_ing_outbound), K(sl_ing_node)};

/** The members of the ingestion object, values to fill. */
static const struct sl_member top_tmpl[2] = {K(sl_ing_source), K(sl_ing_rels)};

/**
 * A node as an object, its members at `m` (5, in the shape arena), what
 * they hold in `a`. A static type and the labels (the interpretation's)
 * outlive the run and are not copied.
 */
static inline __attribute__((always_inline)) int
out_node_at(const struct interp_step *st, struct sl_arena *a,
            const struct bnode *nd, struct sl_member *m, struct sl_value *out)
{
	memcpy(m, node_tmpl, sizeof(node_tmpl));
	m[0].val = nd->type;
	if ((!nd->type_static && sl_value_copy(a, &nd->type, &m[0].val) != 0) ||
	    out_pset(st, a, &nd->key, &m[2].val) != 0 ||
	    out_pset(st, a, &nd->props, &m[3].val) != 0)
		return -1;
	m[1].val = nd->labels;
	m[4].val = node_rule_values[nd->rule];
	*out = sl_object_ref(m, 5);
	return 0;
}

/**
 * A node as an object: its members in `sa` (the shape arena), what they
 * hold in `a` (out_node_at()).
 */
static int
out_node(const struct interp_step *st, struct sl_arena *a, struct sl_arena *sa,
         const struct bnode *nd, struct sl_value *out)
{
	struct sl_member *m = sl_arena_alloc_aligned(
	        sa, sizeof(node_tmpl), _Alignof(struct sl_member));
	if (m == NULL)
		return -1;
	return out_node_at(st, a, nd, m, out);
}

/** A set built in the output's arena, or shared there, as an object. */
static inline struct sl_value
pset_obj(const struct sl_pset *ps)
{
	return sl_object_ref(ps->n > 0 ? ps->m : NULL, ps->n);
}

/**
 * Fill it->rel_out: the names of a relationship's and its node's members,
 * and the values the interpretation fixes (apply_rel_doc() gives every
 * relationship and node of `it` these rules, direction and labels).
 */
static void
rel_out_init(struct interp *it)
{
	struct sl_member *m = it->rel_out;
	memcpy(m, rel_tmpl, sizeof(rel_tmpl));
	memcpy(m + 6, node_tmpl, sizeof(node_tmpl));
	m[3].val = rel_rule_values[it->rel_rule];
	m[4].val = sl_bool(it->outbound);
	m[7].val = it->labels;
	m[10].val = node_rule_values[it->node_rule];
}

/**
 * Relationship `r` to node `nd`, whose sets were built in `a` (ictx.oa),
 * as an object: its members and the node's in one block in `sa` (the
 * shape arena), from `tmpl` (interp.rel_out, which holds r's and nd's
 * rules, direction and labels); a type that is not static is copied
 * into `a`.
 */
static int
out_rel(struct sl_arena *a, struct sl_arena *sa, const struct sl_member *tmpl,
        const struct brel *r, const struct bnode *nd, struct sl_value *out)
{
	struct sl_member *m =
	        sl_arena_alloc_aligned(sa, sizeof(rel_tmpl) + sizeof(node_tmpl),
	                               _Alignof(struct sl_member));
	if (m == NULL)
		return -1;
	/* Two copies of known sizes, each inline. */
	memcpy(m, tmpl, sizeof(rel_tmpl));
	memcpy(m + 6, tmpl + 6, sizeof(node_tmpl));
	m[0].val = r->type;
	m[1].val = pset_obj(&r->key);
	m[2].val = pset_obj(&r->props);
	m[5].val = sl_object_ref(m + 6, 5);
	m[6].val = nd->type;
	m[8].val = pset_obj(&nd->key);
	m[9].val = pset_obj(&nd->props);
	if ((!r->type_static && sl_value_keep(a, &m[0].val) != 0) ||
	    (!nd->type_static && sl_value_keep(a, &m[6].val) != 0))
		return -1;
	*out = sl_object_ref(m, 6);
	return 0;
}

/**
 * Build the desired ingestion of `c`: its objects' member arrays in `sa`
 * (the shape arena), the values in `a`.
 */
static int
out_ingest(const struct interp_step *st, struct sl_arena *a,
           struct sl_arena *sa, const struct ictx *c, struct sl_value *out)
{
	/* The ingestion's two members, then the source node's five. */
	struct sl_member *top = sl_arena_alloc_aligned(
	        sa, 7 * sizeof(*top), _Alignof(struct sl_member));
	uint32_t n_rels = c->n_rels + c->n_built;
	/* Built as they were kept (keep_rel(), in `sa`), or from `rels`
	 * here. */
	struct sl_value *rels =
	        c->n_built > 0 && c->n_rels == 0
	                ? c->built
	                : sl_arena_alloc_aligned(sa,
	                                         (n_rels + 1) * sizeof(*rels),
	                                         _Alignof(struct sl_value));
	if (top == NULL || rels == NULL)
		return -1;
	memcpy(top, top_tmpl, sizeof(top_tmpl));
	if (out_node_at(st, a, &c->src, top + 2, &top[0].val) != 0)
		return -1;
	if (c->n_built > 0 && rels != c->built)
		memcpy(rels, c->built, c->n_built * sizeof(*rels));
	/* The relationships of one find_many share their properties' set
	 * (apply_rel_doc()): its object is made once and shared, as values
	 * are never changed in place. */
	const struct sl_member *last_props = NULL;
	uint32_t last_n = 0;
	struct sl_value last_out = sl_null();
	for (uint32_t i = 0; i < c->n_rels; i++) {
		const struct brel *r = &c->rels[i];
		struct sl_member *m = sl_arena_alloc_aligned(
		        sa, sizeof(rel_tmpl), _Alignof(struct sl_member));
		if (m == NULL)
			return -1;
		memcpy(m, rel_tmpl, sizeof(rel_tmpl));
		m[0].val = r->type;
		bool same = r->props.n > 0 && r->props.m == last_props &&
		            r->props.n == last_n;
		if (same)
			m[2].val = last_out;
		if ((!r->type_static &&
		     sl_value_copy(a, &r->type, &m[0].val) != 0) ||
		    out_pset(st, a, &r->key, &m[1].val) != 0 ||
		    (!same && out_pset(st, a, &r->props, &m[2].val) != 0) ||
		    out_node(st, a, sa, &r->node, &m[5].val) != 0)
			return -1;
		last_props = r->props.m;
		last_n = r->props.n;
		last_out = m[2].val;
		m[3].val = rel_rule_values[r->rule];
		m[4].val = sl_bool(r->outbound);
		rels[c->n_built + i] = sl_object_ref(m, 6);
	}
	top[1].val = sl_array_ref(rels, n_rels);
	*out = sl_object_ref(top, 2);
	return 0;
}

/** Emit the ingestion of `c`, or count it skipped. */
static int
finish_ctx(struct interp_step *st, struct ictx *c)
{
	char b1[80];
	if (c->src.type.type == SL_VNULL || !valid_key(&c->src.key)) {
		skip(st,
		     c->n_rels + c->n_built > 0
		             ? "the source node%s%s has an empty or "
		               "null key (its relationships go with it)"
		             : "the source node%s%s has an empty or null "
		               "key",
		     c->src.type.type == SL_VSTR ? " " : "",
		     c->src.type.type == SL_VSTR
		             ? short_text(&c->src.type, b1, sizeof(b1))
		             : "");
		return 0;
	}
	/* A direct record's batch is the one its sets were built in. */
	struct sl_arena *a = c->oa != NULL ? c->oa : sl_emit_arena(st->out);
	struct sl_value v;
	if (a == NULL)
		return -1;
	if (out_ingest(st, a, c->oa != NULL ? c->sa : sl_emit_shape(st->out), c,
	               &v) != 0) {
		if (sl_diag_code() == SL_EOK)
			sl_diag_set(SL_ELIMIT, "the ingestion does not fit in "
			                       "a batch");
		return -1;
	}
	st->emitted++;
	return sl_emit(st->out, v);
}

/**
 * Find the values of the step's plan (interp_step.vmaps) in the record,
 * made to live in the output's arena (c->vals: the step's
 * interp_step.vvals), and make the blocks of its relationships of one
 * related node each (c->fixed_m, c->fixed_k).
 */
static int
plan_run(struct interp_step *st, struct ictx *c)
{
	if (sl_vplan_eval(st->vplan, &c->pc, c->oa, st->vvals) != 0)
		return -1;
	c->vals = st->vvals;
	if (st->n_fixed == 0)
		return 0;
	/* The relationships of one related node each, in two blocks. */
	c->fixed_m = sl_arena_alloc_aligned(
	        c->sa, (size_t)st->n_fixed * 11 * sizeof(*c->fixed_m),
	        _Alignof(struct sl_member));
	c->fixed_k = sl_arena_alloc_aligned(
	        c->oa, (size_t)st->n_fixed_k * sizeof(*c->fixed_k),
	        _Alignof(struct sl_member));
	if (c->fixed_m == NULL || c->fixed_k == NULL)
		return scratch_full();
	return 0;
}

/** Run the main interpretations on `c` and emit (per pass). */
static int
run_main(struct interp_step *st, struct ictx *c)
{
	const struct passes *ps = &st->main;
	if (!ps->multi) {
		if (st->vmaps != NULL && c->oa != NULL && plan_run(st, c) != 0)
			return -1;
		if (ps->n > 0 && apply_pass(st, &ps->v[0], c) != 0)
			return -1;
		return finish_ctx(st, c);
	}
	for (uint32_t i = 0; i < ps->n; i++) {
		struct ictx sub;
		if (ictx_copy(&sub, c, c->pc.a) != 0 ||
		    apply_pass(st, &ps->v[i], &sub) != 0 ||
		    finish_ctx(st, &sub) != 0)
			return -1;
	}
	return 0;
}

/** iterate_on over `base`, then the main interpretations. */
static int
run_iterations(struct interp_step *st, struct ictx *base)
{
	if (st->iterate_on == NULL)
		return run_main(st, base);
	struct sl_value many;
	if (sl_prov_many(st->iterate_on, &base->pc, &many) != 0)
		return -1;
	for (uint32_t i = 0; i < many.len; i++) {
		struct ictx sub;
		if (ictx_copy(&sub, base, base->pc.a) != 0)
			return -1;
		sub.pc.doc = &many.u.items[i];
		if (run_main(st, &sub) != 0)
			return -1;
	}
	return 0;
}

/**
 * The one pass of a step with `fast_run` on `c` (a direct record, its
 * source node's sets not made yet), and emit: the plan's values, the
 * source node's key and properties (its default properties first, as
 * apply_source() leaves them) as one block in the output's arena, each
 * relationship by apply_rel_fast(), then finish_ctx().
 */
static int
run_fast(struct interp_step *st, struct ictx *c)
{
	const struct pass *p = &st->main.v[0];
	const struct interp *src = p->v[0];
	if (plan_run(st, c) != 0)
		return -1;
	const struct sl_value *v = c->vals + src->vval;
	uint32_t nk = src->key.n;
	uint32_t first = src->node_last ? 0 : 1;
	uint32_t nd = 3 - first + src->props.n;
	struct sl_member *m = sl_arena_alloc_aligned(
	        c->oa, (nk + nd) * sizeof(*m), _Alignof(struct sl_member));
	if (m == NULL) {
		scratch_full();
		sl_diag_wrap(sl_diag_code(), "%s", src->where);
		return -1;
	}
	put_members(m, &src->key, v);
	memcpy(m + nk, c->defaults + first, (3 - first) * sizeof(*m));
	put_members(m + nk + 3 - first, &src->props, v + nk);
	c->src.key = (struct sl_pset){m, nk, nk, false};
	c->src.props = (struct sl_pset){m + nk, nd, nd, false};
	c->src.type = *src->node_type_sv;
	c->src.type_static = true;
	c->src.labels = src->labels;
	c->src.rule = src->node_rule;
	for (uint32_t i = 1; i < p->n; i++) {
		const struct interp *it = p->v[i];
		if (apply_rel_fast(st, it, c) != 0) {
			sl_diag_wrap(sl_diag_code(), "%s", it->where);
			return -1;
		}
	}
	return finish_ctx(st, c);
}

/**
 * Reset the scratch arena: when it took no chunk since its last
 * sl_arena_reset() (a new chunk becomes its head), that chunk is still
 * its only one, and rewinding to where it started then is the same
 * reset without the walk over chunks.
 */
static inline void
scratch_reset(struct interp_step *st)
{
	struct sl_arena *a = &st->scratch;
	if (a->head != NULL && (const void *)a->head == st->scratch_head) {
		a->cur = st->scratch_cur;
		a->used = 0;
		return;
	}
	sl_arena_reset(a);
	st->scratch_head = a->head;
	st->scratch_cur = a->cur;
}

/** Interpret one record. */
static int
interp_process(struct sl_step *s, const struct sl_value *rec,
               struct sl_emit *out)
{
	struct interp_step *st = (struct interp_step *)s;
	scratch_reset(st);
	if (refresh_now(st) != 0)
		return -1;
	st->out = out;
	struct ictx c;
	memset(&c, 0, sizeof(c));
	c.pc.doc = rec;
	c.pc.a = &st->scratch;
	if (st->run.plan != NULL) {
		sl_paths_run_start(&st->run, rec);
		c.pc.paths = &st->run;
	}
	c.src.type = sl_null();
	c.src.labels = sl_array_ref(NULL, 0);
	c.src_defaults = 3;
	if (st->direct) {
		c.oa = sl_emit_arena(out);
		c.defaults = c.oa != NULL
		                     ? sl_arena_alloc_aligned(
		                               c.oa, 3 * sizeof(*c.defaults),
		                               _Alignof(struct sl_member))
		                     : NULL;
		if (c.defaults == NULL) {
			scratch_full();
			return sl_emit_fail(out);
		}
		memcpy(c.defaults, st->defaults, 3 * sizeof(*c.defaults));
		c.sa = sl_emit_shape(out);
		if (st->fast_run)
			return run_fast(st, &c) == 0 ? 0 : sl_emit_fail(out);
	}
	/* The source node's own set: sl_pset_remove() may change it. */
	int rc = default_props(st, &c.src.props, true,
	                       c.oa != NULL ? c.oa : &st->scratch, st->src_more,
	                       NULL);
	if (rc != 0) {
		scratch_full();
	} else if (!st->before.multi) {
		rc = (st->before.n > 0 &&
		      apply_pass(st, &st->before.v[0], &c) != 0) ||
		     run_iterations(st, &c) != 0;
	} else {
		for (uint32_t i = 0; i < st->before.n && rc == 0; i++) {
			struct ictx sub;
			rc = ictx_copy(&sub, &c, &st->scratch) != 0 ||
			     apply_pass(st, &st->before.v[i], &sub) != 0 ||
			     run_iterations(st, &sub) != 0;
		}
	}
	return rc == 0 ? 0 : sl_emit_fail(out);
}

/**
 * The step's own room for the values of its plan (interp_step.vvals);
 * none without a plan. 0, or -1 (out of memory).
 */
static int
plan_room(struct interp_step *st)
{
	if (st->vplan == NULL)
		return 0;
	st->vvals = sl_calloc(st->n_vals + 1, sizeof(*st->vvals));
	if (st->vvals == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return -1;
	}
	return 0;
}

/** Free the step. */
static void
interp_destroy(struct sl_step *s)
{
	struct interp_step *st = (struct interp_step *)s;
	sl_paths_run_destroy(&st->run);
	sl_free(st->vvals);
	if (st->parent != NULL) {
		sl_arena_destroy(&st->scratch);
		sl_free(st);
		return;
	}
	sl_paths_delete(st->paths);
	sl_vplan_delete(st->vplan);
	sl_free((void *)st->vmaps);
	sl_free((void *)st->vnorms);
	pthread_mutex_destroy(&st->clock_lock);
	passes_destroy(&st->before);
	passes_destroy(&st->main);
	sl_prov_delete(st->iterate_on);
	sl_arena_destroy(&st->scratch);
	sl_arena_destroy(&st->stamps);
	sl_free(st->by_at);
	sl_free(st->was_by);
	sl_free(st);
}

static struct sl_step *interp_replicate(struct sl_step *s);

/** The Interpreter's callbacks. */
static const struct sl_step_ops interp_ops = {
        .type = "Interpreter",
        .process = interp_process,
        .destroy = interp_destroy,
        .replicate = interp_replicate,
};

/**
 * A copy that interprets on another thread: it shares the compiled
 * interpretations (read-only while records are interpreted), the names
 * and the timestamps, and has its own scratch memory.
 */
static struct sl_step *
interp_replicate(struct sl_step *s)
{
	struct interp_step *m = (struct interp_step *)s;
	assert(m->parent == NULL);
	struct interp_step *st = sl_calloc(1, sizeof(*st));
	if (st == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&st->base, &interp_ops);
	st->parent = m;
	st->before = m->before;
	st->main = m->main;
	st->iterate_on = m->iterate_on;
	st->by_at = m->by_at;
	st->was_by = m->was_by;
	st->direct = m->direct;
	st->src_more = m->src_more;
	st->vmaps = m->vmaps;
	st->vnorms = m->vnorms;
	st->n_vmaps = m->n_vmaps;
	st->n_vals = m->n_vals;
	st->vplan = m->vplan;
	st->n_fixed = m->n_fixed;
	st->n_fixed_k = m->n_fixed_k;
	st->fast_run = m->fast_run;
	memcpy(st->defaults, m->defaults, sizeof(st->defaults));
	sl_arena_create(&st->scratch, SCRATCH_CHUNK, SCRATCH_CAP);
	if ((m->paths != NULL && sl_paths_run_init(&st->run, m->paths) != 0) ||
	    plan_room(st) != 0) {
		interp_destroy(&st->base);
		return NULL;
	}
	return &st->base;
}

/** Whether no name of `m` is one of the `n` members of `defaults`. */
static bool
names_fresh(const struct sl_propmap *m, const struct sl_member *defaults,
            uint32_t n)
{
	for (uint32_t i = 0; i < m->n; i++)
		for (uint32_t j = 0; j < n; j++)
			if (m->lens[i] == defaults[j].key_len &&
			    memcmp(m->names[i], defaults[j].key, m->lens[i]) ==
			            0)
				return false;
	return true;
}

/**
 * Whether relationship `it` can be built by apply_rel_fast() (after
 * props_fresh and rel_props_fresh are set).
 */
static bool
fast_ok(const struct interp *it)
{
	const struct sl_propmap *k = &it->key, *p = &it->props;
	const struct sl_propmap *r = &it->rel_props;
	return it->type == I_REL && it->rel_type_sv != NULL &&
	       it->rel_type_sv->type == SL_VSTR && it->node_type_sv != NULL &&
	       it->node_type_sv->type == SL_VSTR && it->rel_key.n == 0 &&
	       it->rel_key.whole == NULL && it->props_fresh &&
	       it->rel_props_fresh && k->n > 0 && k->n <= FAST_MAX &&
	       p->n <= FAST_MAX && r->n <= FAST_MAX && sl_propmap_plain(k) &&
	       sl_propmap_plain(p) && sl_propmap_plain(r);
}

/**
 * Set props_fresh, rel_props_fresh and fast of every interpretation of
 * the passes v[0, n), against the three default properties.
 */
static void
fresh_load(const struct pass *v, uint32_t n, const struct sl_member *defaults)
{
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < v[i].n; j++) {
			struct interp *it = v[i].v[j];
			it->props_fresh = names_fresh(&it->props, defaults, 3);
			it->rel_props_fresh =
			        names_fresh(&it->rel_props, defaults, 3);
			it->fast = fast_ok(it);
			it->fast_direct = it->fast && it->cond == NULL &&
			                  it->iterate_on == NULL;
			it->key_lower = sl_norm_lower_only(&it->key_norm);
			it->props_lower = sl_norm_lower_only(&it->props_norm);
			it->key_plain = it->key.n <= FAST_MAX &&
			                sl_propmap_plain(&it->key);
			it->props_plain = it->props.n <= FAST_MAX &&
			                  sl_propmap_plain(&it->props);
			if (it->fast) {
				uint32_t first = it->node_last ? 0 : 1;
				it->fast_nd = it->props.n > 0
				                      ? 3 - first + it->props.n
				                      : 0;
				/* What fast_node() does not write. */
				it->rel_out[0].val = *it->rel_type_sv;
				it->rel_out[1].val = sl_object_ref(NULL, 0);
				it->rel_out[6].val = *it->node_type_sv;
			}
			fresh_load(it->cases, it->n_cases, defaults);
			if (it->dflt != NULL)
				fresh_load(it->dflt, 1, defaults);
		}
}

/** Add the field paths of every mapping of the passes `ps` to `pl`. */
static int
paths_add_passes(struct sl_paths *pl, const struct pass *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < v[i].n; j++) {
			struct interp *it = v[i].v[j];
			if (sl_paths_add(pl, &it->key) != 0 ||
			    sl_paths_add(pl, &it->props) != 0 ||
			    sl_paths_add(pl, &it->rel_key) != 0 ||
			    sl_paths_add(pl, &it->rel_props) != 0 ||
			    paths_add_passes(pl, it->cases, it->n_cases) != 0 ||
			    (it->dflt != NULL &&
			     paths_add_passes(pl, it->dflt, 1) != 0))
				return -1;
		}
	return 0;
}

/**
 * The tree of the field paths of every mapping (st->paths) and this
 * step's lookups along it; none when no mapping has a field path.
 */
static int
paths_load(struct interp_step *st)
{
	st->paths = sl_paths_new();
	if (st->paths == NULL ||
	    paths_add_passes(st->paths, st->before.v, st->before.n) != 0 ||
	    paths_add_passes(st->paths, st->main.v, st->main.n) != 0 ||
	    sl_paths_seal(st->paths) != 0)
		return -1;
	if (!sl_paths_any(st->paths)) {
		sl_paths_delete(st->paths);
		st->paths = NULL;
		return 0;
	}
	return sl_paths_run_init(&st->run, st->paths);
}

/**
 * The plan of values (interp_step.vmaps) of a direct step with one pass
 * of interpretations: the plain mappings of its source_node, properties
 * and fast relationships (without iterate_on); none when there is none.
 */
static int
plan_load(struct interp_step *st)
{
	if (!st->direct || st->main.multi || st->main.n != 1)
		return 0;
	const struct pass *p = &st->main.v[0];
	uint32_t cap = 3 * p->n + 1;
	st->vmaps = sl_calloc(cap, sizeof(*st->vmaps));
	st->vnorms = sl_calloc(cap, sizeof(*st->vnorms));
	if (st->vmaps == NULL || st->vnorms == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return -1;
	}
	for (uint32_t i = 0; i < p->n; i++) {
		struct interp *it = p->v[i];
		const struct sl_propmap *maps[3];
		const struct sl_norm *norms[3];
		uint32_t n = 0;
		if (it->type == I_SOURCE && it->key_plain && it->props_plain) {
			maps[n] = &it->key, norms[n++] = &it->key_norm;
			maps[n] = &it->props, norms[n++] = &it->props_norm;
		} else if (it->type == I_PROPS && it->props_plain) {
			maps[n] = &it->props, norms[n++] = &it->props_norm;
		} else if (it->type == I_REL && it->fast &&
		           it->iterate_on == NULL) {
			maps[n] = &it->rel_props, norms[n++] = &it->props_norm;
			maps[n] = &it->props, norms[n++] = &it->props_norm;
			if (!it->find_many)
				maps[n] = &it->key, norms[n++] = &it->key_norm;
		}
		if (n == 0)
			continue;
		if (it->type == I_REL && !it->find_many) {
			it->fixed_at = st->n_fixed++;
			it->fixed_k = st->n_fixed_k;
			st->n_fixed_k += it->key.n + it->fast_nd;
		}
		it->in_plan = true;
		it->vmap = st->n_vmaps;
		it->vval = st->n_vals;
		for (uint32_t j = 0; j < n; j++) {
			st->vmaps[st->n_vmaps] = maps[j];
			st->vnorms[st->n_vmaps++] = norms[j];
			st->n_vals += maps[j]->n;
		}
	}
	if (st->n_vmaps == 0) {
		sl_free(st->vmaps);
		sl_free(st->vnorms);
		st->vmaps = NULL;
		st->vnorms = NULL;
		return 0;
	}
	st->vplan = sl_vplan_new(st->vmaps, st->vnorms, st->n_vmaps);
	return st->vplan != NULL ? plan_room(st) : -1;
}

/** Set st->fast_run (see there), once the plan is made. */
static void
fast_run_load(struct interp_step *st)
{
	st->fast_run = false;
	if (!st->direct || st->vplan == NULL || st->before.n > 0 ||
	    st->main.multi || st->main.n != 1 || st->main.v[0].n == 0)
		return;
	const struct pass *p = &st->main.v[0];
	const struct interp *src = p->v[0];
	if (src->type != I_SOURCE || src->cond != NULL || !src->in_plan ||
	    !src->props_fresh || src->node_type_sv == NULL ||
	    src->node_type_sv->type != SL_VSTR)
		return;
	for (uint32_t i = 1; i < p->n; i++)
		if (!p->v[i]->fast_direct || !p->v[i]->in_plan)
			return;
	st->fast_run = true;
}

/** Build an Interpreter from its definition. */
static struct sl_step *
interp_create(const struct sl_stepdef *def)
{
	const struct sl_conf *args = def->arguments;
	if (args == NULL || sl_conf_get(args, "interpretations") == NULL) {
		sl_conf_error(args != NULL ? args : def->node, "arguments",
		              "the Interpreter needs interpretations");
		return NULL;
	}
	static const char *const keys[] = {
	        "interpretations", "before_iteration", "iterate_on", NULL};
	if (sl_conf_check_keys(args, keys, "arguments", "the Interpreter") != 0)
		return NULL;
	struct interp_step *st = sl_calloc(1, sizeof(*st));
	if (st == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&st->base, &interp_ops);
	pthread_mutex_init(&st->clock_lock, NULL);
	sl_arena_create(&st->scratch, SCRATCH_CHUNK, SCRATCH_CAP);
	sl_arena_create(&st->stamps, 4096, (size_t)64 << 20);
	const char *name = def->pipeline != NULL ? def->pipeline : "unknown";
	size_t n = strlen(name);
	st->by_at = sl_malloc(n + 24);
	st->was_by = sl_malloc(n + 24);
	if (st->by_at == NULL || st->was_by == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		goto fail;
	}
	snprintf(st->by_at, n + 24, "last_ingested_by_%s_at", name);
	snprintf(st->was_by, n + 24, "was_ingested_by_%s", name);
	st->defaults[0].key = "last_ingested_at";
	st->defaults[0].key_len = 16;
	st->defaults[1].key = st->by_at;
	st->defaults[1].key_len = (uint32_t)strlen(st->by_at);
	st->defaults[2].key = st->was_by;
	st->defaults[2].key_len = (uint32_t)strlen(st->was_by);
	st->defaults[2].val = sl_bool(true);
	if (refresh_now(st) != 0 ||
	    passes_load(&st->main, sl_conf_get(args, "interpretations"),
	                "interpretations") != 0 ||
	    passes_load(&st->before, sl_conf_get(args, "before_iteration"),
	                "before_iteration") != 0 ||
	    opt_prov(args, "iterate_on", false, &st->iterate_on) != 0)
		goto fail;
	st->direct =
	        !st->main.multi && !st->before.multi && st->iterate_on == NULL;
	for (uint32_t i = 0; st->main.n > 0 && i < st->main.v[0].n; i++) {
		const struct interp *it = st->main.v[0].v[i];
		if (it->type == I_SOURCE || it->type == I_PROPS)
			st->src_more += it->props.n;
	}
	fresh_load(st->before.v, st->before.n, st->defaults);
	fresh_load(st->main.v, st->main.n, st->defaults);
	if (paths_load(st) != 0 || plan_load(st) != 0)
		goto fail;
	fast_run_load(st);
	return &st->base;
fail:
	interp_destroy(&st->base);
	return NULL;
}

/** Implementation names of the Interpreter. */
static const char *const interp_names[] = {
        "interpreter", "nodestream.interpreting:Interpreter",
        "nodestream.interpreting.interpreter:Interpreter", NULL};

/** Factories of the Interpreter. */
static const char *const interp_factories[] = {"from_file_data", NULL};

const struct sl_step_type sl_interp_interpreter = {
        .names = interp_names,
        .factories = interp_factories,
        .factory_optional = true,
        .create = interp_create,
        .summary = "turns records into desired ingestions: nodes and "
                   "relationships (Nodestream's interpretations)",
};

/* --- schema ------------------------------------------------------------- */

/** Add the names of a property mapping (a provider of a whole mapping
 * has names only known at run time). */
static int
schema_names(struct sl_names *l, const struct sl_propmap *m)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (sl_names_add(l, m->names[i]) != 0)
			return -1;
	return 0;
}

/** Add the strings of array value `a`. */
static int
schema_strings(struct sl_names *l, const struct sl_value *a)
{
	char buf[512];
	for (uint32_t i = 0; i < a->len; i++) {
		const struct sl_value *v = &a->u.items[i];
		snprintf(buf, sizeof(buf), "%.*s", (int)v->len, v->u.s);
		if (sl_names_add(l, buf) != 0)
			return -1;
	}
	return 0;
}

/** Add the automatic property names. */
static int
schema_defaults(const struct interp_step *st, struct sl_names *l, bool last)
{
	return (last && sl_names_add(l, "last_ingested_at") != 0) ||
	                       sl_names_add(l, st->by_at) != 0 ||
	                       sl_names_add(l, st->was_by) != 0
	               ? -1
	               : 0;
}

/** The static string of a type provider into `buf`, or NULL. */
static const char *
static_type(const struct sl_prov *p, char *buf, size_t size)
{
	const struct sl_value *v = p != NULL ? sl_prov_static_value(p) : NULL;
	if (v == NULL || v->type != SL_VSTR)
		return NULL;
	snprintf(buf, size, "%.*s", (int)v->len, v->u.s);
	return buf;
}

/** Add the static source node types of pass `p` (not in switches). */
static int
schema_sources(const struct pass *p, struct sl_names *out)
{
	char buf[512];
	for (uint32_t i = 0; i < p->n; i++) {
		const struct interp *it = p->v[i];
		const char *t =
		        it->type == I_SOURCE
		                ? static_type(it->node_type, buf, sizeof(buf))
		                : NULL;
		if (t != NULL && sl_names_add(out, t) != 0)
			return -1;
	}
	return 0;
}

/** Add what pass `p` describes; `outer` are the source types around it. */
static int
schema_pass(struct sl_schema *s, const struct interp_step *st,
            const struct pass *p, const struct sl_names *outer)
{
	struct sl_names src = {0};
	int rc = 0;
	for (uint32_t i = 0; i < outer->n && rc == 0; i++)
		rc = sl_names_add(&src, outer->v[i]);
	if (rc == 0)
		rc = schema_sources(p, &src);
	char b1[512], b2[512];
	for (uint32_t i = 0; i < p->n && rc == 0; i++) {
		const struct interp *it = p->v[i];
		const char *nt = static_type(it->node_type, b1, sizeof(b1));
		switch (it->type) {
		case I_SOURCE: {
			struct sl_schema_node *n =
			        nt != NULL ? sl_schema_node(s, nt) : NULL;
			if (nt == NULL)
				break;
			rc = n == NULL ||
			     schema_names(&n->keys, &it->key) != 0 ||
			     schema_names(&n->props, &it->props) != 0 ||
			     schema_defaults(st, &n->props, it->node_last) !=
			             0 ||
			     schema_strings(&n->indexes, &it->indexes) != 0 ||
			     schema_strings(&n->labels, &it->labels) != 0;
			break;
		}
		case I_PROPS:
			for (uint32_t k = 0; k < src.n && rc == 0; k++) {
				struct sl_schema_node *n =
				        sl_schema_node(s, src.v[k]);
				rc = n == NULL ||
				     schema_names(&n->props, &it->props) != 0;
			}
			break;
		case I_REL: {
			const char *rt =
			        static_type(it->rel_type, b2, sizeof(b2));
			if (nt != NULL) {
				struct sl_schema_node *n =
				        sl_schema_node(s, nt);
				rc = n == NULL ||
				     schema_names(&n->keys, &it->key) != 0 ||
				     schema_names(&n->props, &it->props) != 0 ||
				     schema_defaults(st, &n->props,
				                     it->node_last) != 0 ||
				     schema_strings(&n->labels, &it->labels) !=
				             0;
			}
			if (rt != NULL && rc == 0) {
				struct sl_schema_rel *r = sl_schema_rel(s, rt);
				rc = r == NULL ||
				     schema_names(&r->keys, &it->rel_key) !=
				             0 ||
				     schema_names(&r->props, &it->rel_props) !=
				             0 ||
				     schema_defaults(st, &r->props,
				                     it->rel_last) != 0;
			}
			for (uint32_t k = 0;
			     rt != NULL && nt != NULL && k < src.n && rc == 0;
			     k++)
				rc = it->outbound ? sl_schema_adj(s, src.v[k],
				                                  rt, nt)
				                  : sl_schema_adj(s, nt, rt,
				                                  src.v[k]);
			break;
		}
		case I_SWITCH:
			for (uint32_t k = 0; k < it->n_cases && rc == 0; k++)
				rc = schema_pass(s, st, &it->cases[k], &src);
			if (rc == 0 && it->dflt != NULL)
				rc = schema_pass(s, st, it->dflt, &src);
			break;
		case I_VARS:
			break;
		}
	}
	sl_names_destroy(&src);
	if (rc != 0 && sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "out of memory building the schema");
	return rc != 0 ? -1 : 0;
}

int
sl_schema_expand(struct sl_schema *s, const struct sl_step *step)
{
	if (step->ops != &interp_ops)
		return 0;
	const struct interp_step *st = (const struct interp_step *)step;
	/* Relationships attach to the source node wherever it is defined
	 * (before_iteration or the interpretations). */
	struct sl_names src = {0};
	int rc = 0;
	for (uint32_t i = 0; i < st->before.n && rc == 0; i++)
		rc = schema_sources(&st->before.v[i], &src);
	for (uint32_t i = 0; i < st->main.n && rc == 0; i++)
		rc = schema_sources(&st->main.v[i], &src);
	for (uint32_t i = 0; i < st->before.n && rc == 0; i++)
		rc = schema_pass(s, st, &st->before.v[i], &src);
	for (uint32_t i = 0; i < st->main.n && rc == 0; i++)
		rc = schema_pass(s, st, &st->main.v[i], &src);
	sl_names_destroy(&src);
	if (rc != 0 && sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "out of memory building the schema");
	return rc != 0 ? -1 : 0;
}

/* --- Nodestream's schema expansion ----------------------------------------
 * sl_ns_expand() replays Nodestream 0.16.1's expand_schema over the
 * compiled interpretations (interpreter.py, interpretation_passes.py and
 * the interpretations' own), quirks included: a conditioned
 * interpretation adds nothing and does not count as assigning the source
 * node; the source node interpretation goes last in its pass, by the
 * same list walk Nodestream uses (which skips the entry after a source
 * node); every node and relationship type gets last_ingested_at.
 */

/** Whether `it` assigns source nodes, as Nodestream sees it. */
static bool ns_assigns(const struct interp *it);

/** Whether any interpretation of `p` assigns source nodes. */
static bool
ns_pass_assigns(const struct pass *p)
{
	for (uint32_t i = 0; i < p->n; i++)
		if (ns_assigns(p->v[i]))
			return true;
	return false;
}

static bool
ns_assigns(const struct interp *it)
{
	if (it->cond != NULL)
		return false;
	if (it->type == I_SOURCE)
		return true;
	if (it->type != I_SWITCH)
		return false;
	for (uint32_t k = 0; k < it->n_cases; k++)
		if (ns_pass_assigns(&it->cases[k]))
			return true;
	return it->dflt != NULL && ns_pass_assigns(it->dflt);
}

/** The names of a property mapping (none for a whole-mapping provider). */
static const char *const *
ns_names(const struct sl_propmap *m)
{
	return (const char *const *)m->names;
}

/** Add the STRING properties of `m` to `t`. */
static int
ns_props(struct sl_ns_type *t, const struct sl_propmap *m)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (sl_ns_add_prop(t, m->names[i], SL_NS_STRING, false,
		                   false) != 0)
			return -1;
	return 0;
}

/** The strings of array `a` as C strings in `out` (at most `max`),
 * copied into `buf`. Their count. */
static uint32_t
ns_strings(const struct sl_value *a, const char **out, uint32_t max, char *buf,
           size_t size)
{
	uint32_t n = 0;
	size_t used = 0;
	for (uint32_t i = 0; i < a->len && n < max; i++) {
		const struct sl_value *v = &a->u.items[i];
		if (v->type != SL_VSTR || used + v->len + 1 > size)
			continue;
		memcpy(buf + used, v->u.s, v->len);
		buf[used + v->len] = '\0';
		out[n++] = buf + used;
		used += v->len + 1;
	}
	return n;
}

/** expand_source_node_schema / expand_related_node_schema on `t`. */
static int
ns_node(struct sl_ns_type *t, const struct interp *it)
{
	int rc = 0;
	if (it->type == I_REL && it->node_rule != NR_EAGER)
		rc = ns_props(t, &it->key);
	else
		rc = sl_ns_add_keys(t, ns_names(&it->key), it->key.n);
	rc = rc || ns_props(t, &it->props);
	if (it->type == I_SOURCE)
		for (uint32_t i = 0; i < it->indexes.len && rc == 0; i++) {
			const struct sl_value *v = &it->indexes.u.items[i];
			char name[512];
			snprintf(name, sizeof(name), "%.*s", (int)v->len,
			         v->u.s);
			rc = sl_ns_add_index(t, name);
		}
	return rc || sl_ns_add_timestamp(t) ? -1 : 0;
}

/** expand_additional_types and register_additional_types for `nt`. */
static int
ns_additional(struct sl_ns_coord *c, const char *nt, const struct interp *it)
{
	const char *types[64];
	char buf[8192];
	uint32_t n = ns_strings(&it->labels, types, 64, buf, sizeof(buf));
	if (n == 0 || !c->include_additional_types)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		struct sl_ns_type *t =
		        sl_ns_type_get(c->schema, false, types[i]);
		if (t == NULL || ns_node(t, it) != 0)
			return -1;
	}
	return sl_ns_register_additional(c, nt, types, n);
}

static int ns_pass(struct sl_ns_coord *c, const struct pass *p);

/** One interpretation's expand_schema. */
static int
ns_interp(struct sl_ns_coord *c, const struct interp *it)
{
	char b1[512], b2[512];
	const char *nt = static_type(it->node_type, b1, sizeof(b1));
	if (it->cond != NULL)
		return 0;
	switch (it->type) {
	case I_SOURCE: {
		if (nt == NULL)
			return 0;
		struct sl_ns_type *n = sl_ns_bind_source(c, nt);
		return n == NULL || ns_node(n, it) != 0 ||
		                       ns_additional(c, nt, it) != 0
		               ? -1
		               : 0;
	}
	case I_PROPS:
		return sl_ns_alias_props(c, ns_names(&it->props), it->props.n);
	case I_REL: {
		const char *rt = static_type(it->rel_type, b2, sizeof(b2));
		if (rt != NULL) {
			struct sl_ns_type *r =
			        sl_ns_type_get(c->schema, true, rt);
			if (r == NULL ||
			    sl_ns_add_keys(r, ns_names(&it->rel_key),
			                   it->rel_key.n) != 0 ||
			    ns_props(r, &it->rel_props) != 0 ||
			    sl_ns_add_timestamp(r) != 0)
				return -1;
		}
		if (nt != NULL) {
			struct sl_ns_type *n =
			        sl_ns_type_get(c->schema, false, nt);
			if (n == NULL || ns_node(n, it) != 0 ||
			    ns_additional(c, nt, it) != 0)
				return -1;
		}
		if (rt == NULL || nt == NULL)
			return 0;
		bool src_many = it->find_many || it->iterate_on != NULL ||
		                it->card_many;
		return it->outbound ? sl_ns_connect(c, SL_NS_SOURCE_ALIAS, nt,
		                                    rt, src_many, true)
		                    : sl_ns_connect(c, nt, SL_NS_SOURCE_ALIAS,
		                                    rt, true, src_many);
	}
	case I_SWITCH: {
		bool distinct = ns_assigns(it);
		for (uint32_t k = 0; k <= it->n_cases; k++) {
			const struct pass *p =
			        k < it->n_cases ? &it->cases[k] : it->dflt;
			if (p == NULL)
				continue;
			if (distinct && sl_ns_push(c) != 0)
				return -1;
			int rc = ns_pass(c, p);
			if (distinct)
				sl_ns_pop(c);
			if (rc != 0)
				return -1;
		}
		return 0;
	}
	case I_VARS:
		break;
	}
	return 0;
}

/** A single-sequence pass's expand_schema. */
static int
ns_pass(struct sl_ns_coord *c, const struct pass *p)
{
	if (p->n == 0)
		return 0;
	const struct interp **v = sl_malloc(p->n * sizeof(*v));
	if (v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory building the schema");
		return -1;
	}
	/* schema_ordered_interpretations: pop while enumerating */
	uint32_t n = p->n;
	const struct interp *src = NULL;
	bool exclusive = false;
	for (uint32_t i = 0; i < n; i++)
		v[i] = p->v[i];
	for (uint32_t i = 0; i < n; i++)
		if (ns_assigns(v[i])) {
			src = v[i];
			memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
			n--;
		}
	int rc = 0;
	for (uint32_t i = 0; i <= n && rc == 0; i++) {
		const struct interp *it = i < n ? v[i] : src;
		if (it != NULL)
			rc = ns_interp(c, it);
	}
	for (uint32_t i = 0; i < p->n; i++)
		exclusive |= ns_assigns(p->v[i]) && p->v[i]->type != I_SWITCH;
	sl_free(v);
	if (rc == 0 && exclusive)
		rc = sl_ns_clear_aliases(c);
	return rc;
}

/** Whether a phase (before_iteration, interpretations) assigns source
 * nodes. */
static bool
ns_phase_assigns(const struct passes *ps)
{
	for (uint32_t i = 0; i < ps->n; i++)
		if (ns_pass_assigns(&ps->v[i]))
			return true;
	return false;
}

/** A phase's expand_schema (null, single or multi-sequence). */
static int
ns_phase(struct sl_ns_coord *c, const struct passes *ps)
{
	if (!ps->multi)
		return ps->n > 0 ? ns_pass(c, &ps->v[0]) : 0;
	bool distinct = ns_phase_assigns(ps);
	for (uint32_t i = 0; i < ps->n; i++) {
		if (distinct && sl_ns_push(c) != 0)
			return -1;
		int rc = ns_pass(c, &ps->v[i]);
		if (distinct)
			sl_ns_pop(c);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
sl_ns_expand(struct sl_ns_coord *c, const struct sl_step *step)
{
	if (step->ops != &interp_ops)
		return 0;
	const struct interp_step *st = (const struct interp_step *)step;
	bool main_first = ns_phase_assigns(&st->main);
	const struct passes *context = main_first ? &st->before : &st->main;
	const struct passes *head = main_first ? &st->main : &st->before;
	if (sl_ns_push(c) != 0)
		return -1;
	int rc = ns_phase(c, context) != 0 || ns_phase(c, head) != 0;
	sl_ns_pop(c);
	if (rc != 0 && sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "out of memory building the schema");
	return rc != 0 ? -1 : 0;
}

bool
sl_interp_expands_schema(const struct sl_stepdef *def)
{
	return sl_registry_find(def->implementation) == &sl_interp_interpreter;
}
