/*
 * sluice: Nodestream's schema model, its expansion coordinator, its type
 * overrides and its three printers (see sluice/nsschema.h).
 */
#include "sluice/nsschema.h"

#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/conf.h"
#include "sluice/diag.h"

/** Names of enum sl_ns_ptype, as Nodestream writes them. */
static const char *const ptype_names[SL_NS_PTYPE_COUNT] = {"STRING",
                                                           "BOOLEAN",
                                                           "DATETIME",
                                                           "INTEGER",
                                                           "FLOAT",
                                                           "LIST_OF_STRINGS",
                                                           "LIST_OF_BOOLEANS",
                                                           "LIST_OF_DATETIMES",
                                                           "LIST_OF_INTEGERS",
                                                           "LIST_OF_FLOATS"};

/** GraphQL types of enum sl_ns_ptype (the GraphQL printer's mapping). */
static const char *const gql_types[SL_NS_PTYPE_COUNT] = {
        "String",   "Boolean",   "DateTime",   "BigInt",   "Float",
        "[String]", "[Boolean]", "[DateTime]", "[BigInt]", "[Float]"};

/** Out of memory: set the error, return -1. */
static int
oom(void)
{
	sl_diag_set(SL_EOOM, "out of memory building the schema");
	return -1;
}

/** A copy of `s`, or NULL with SL_EOOM. */
static char *
dup(const char *s)
{
	char *d = sl_strndup(s, strlen(s));
	if (d == NULL)
		oom();
	return d;
}

/** Free a type and what it holds. */
static void
type_delete(struct sl_ns_type *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->n_props; i++)
		sl_free(t->props[i].name);
	sl_free(t->props);
	sl_free(t->name);
	sl_free(t);
}

/** A new empty type, or NULL with SL_EOOM. */
static struct sl_ns_type *
type_new(bool rel, const char *name)
{
	struct sl_ns_type *t = sl_calloc(1, sizeof(*t));
	if (t == NULL) {
		oom();
		return NULL;
	}
	t->rel = rel;
	if ((t->name = dup(name)) == NULL) {
		sl_free(t);
		return NULL;
	}
	return t;
}

void
sl_ns_schema_destroy(struct sl_ns_schema *s)
{
	for (uint32_t i = 0; i < s->n_types; i++)
		type_delete(s->types[i]);
	for (uint32_t i = 0; i < s->n_adjs; i++) {
		sl_free(s->adjs[i].from);
		sl_free(s->adjs[i].to);
		sl_free(s->adjs[i].rel);
	}
	sl_free(s->types);
	sl_free(s->adjs);
	memset(s, 0, sizeof(*s));
}

/** The type `name` of kind `rel` in `s`, or NULL. */
static struct sl_ns_type *
type_find(const struct sl_ns_schema *s, bool rel, const char *name)
{
	for (uint32_t i = 0; i < s->n_types; i++)
		if (s->types[i]->rel == rel &&
		    strcmp(s->types[i]->name, name) == 0)
			return s->types[i];
	return NULL;
}

struct sl_ns_type *
sl_ns_type_get(struct sl_ns_schema *s, bool rel, const char *name)
{
	struct sl_ns_type *t = type_find(s, rel, name);
	if (t != NULL)
		return t;
	struct sl_ns_type **v =
	        sl_realloc(s->types, (s->n_types + 1) * sizeof(*v));
	if (v == NULL) {
		oom();
		return NULL;
	}
	s->types = v;
	if ((t = type_new(rel, name)) == NULL)
		return NULL;
	v[s->n_types++] = t;
	return t;
}

/** The property `name` of `t`, or NULL. */
static struct sl_ns_prop *
prop_find(const struct sl_ns_type *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_props; i++)
		if (strcmp(t->props[i].name, name) == 0)
			return &t->props[i];
	return NULL;
}

int
sl_ns_add_prop(struct sl_ns_type *t, const char *name, enum sl_ns_ptype type,
               bool is_key, bool is_indexed)
{
	struct sl_ns_prop *p = prop_find(t, name);
	if (p != NULL) {
		p->type = type;
		p->is_key |= is_key;
		p->is_indexed |= is_indexed;
		return 0;
	}
	struct sl_ns_prop *v =
	        sl_realloc(t->props, (t->n_props + 1) * sizeof(*v));
	if (v == NULL)
		return oom();
	t->props = v;
	p = &v[t->n_props];
	if ((p->name = dup(name)) == NULL)
		return -1;
	p->type = type;
	p->is_key = is_key;
	p->is_indexed = is_indexed;
	t->n_props++;
	return 0;
}

/** Whether `name` is among names[0..n). */
static bool
among(const char *name, const char *const *names, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int
sl_ns_add_keys(struct sl_ns_type *t, const char *const *names, uint32_t n)
{
	uint32_t have = 0;
	bool same = true;
	for (uint32_t i = 0; i < t->n_props; i++) {
		if (!t->props[i].is_key)
			continue;
		have++;
		same &= among(t->props[i].name, names, n);
	}
	for (uint32_t i = 0; i < n && same; i++) {
		const struct sl_ns_prop *p = prop_find(t, names[i]);
		same = p != NULL && p->is_key;
	}
	if (have > 0 && !same) {
		sl_diag_set(SL_EINVAL,
		            "cannot add keys to %s type %s because it already "
		            "has other keys (as Nodestream refuses)",
		            t->rel ? "relationship" : "node", t->name);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		if (sl_ns_add_prop(t, names[i], SL_NS_STRING, true, false) != 0)
			return -1;
	return 0;
}

int
sl_ns_add_index(struct sl_ns_type *t, const char *name)
{
	struct sl_ns_prop *p = prop_find(t, name);
	if (p != NULL) {
		p->is_indexed = true;
		return 0;
	}
	return sl_ns_add_prop(t, name, SL_NS_STRING, false, true);
}

int
sl_ns_add_timestamp(struct sl_ns_type *t)
{
	return sl_ns_add_prop(t, "last_ingested_at", SL_NS_DATETIME, false,
	                      true);
}

int
sl_ns_add_adj(struct sl_ns_schema *s, const char *from, const char *to,
              const char *rel, bool has_card, bool from_many, bool to_many)
{
	struct sl_ns_adj *a = NULL;
	for (uint32_t i = 0; i < s->n_adjs && a == NULL; i++)
		if (strcmp(s->adjs[i].from, from) == 0 &&
		    strcmp(s->adjs[i].to, to) == 0 &&
		    strcmp(s->adjs[i].rel, rel) == 0)
			a = &s->adjs[i];
	if (a == NULL) {
		struct sl_ns_adj *v =
		        sl_realloc(s->adjs, (s->n_adjs + 1) * sizeof(*v));
		if (v == NULL)
			return oom();
		s->adjs = v;
		a = &v[s->n_adjs];
		memset(a, 0, sizeof(*a));
		a->from = dup(from);
		a->to = dup(to);
		a->rel = dup(rel);
		if (a->from == NULL || a->to == NULL || a->rel == NULL) {
			sl_free(a->from);
			sl_free(a->to);
			sl_free(a->rel);
			return -1;
		}
		s->n_adjs++;
	}
	a->has_card = has_card;
	a->from_many = from_many;
	a->to_many = to_many;
	return 0;
}

/* --- the coordinator ---------------------------------------------------- */

/** An adjacency waiting for the source alias to be bound. */
struct uadj {
	/** From node type or alias. */
	char *from;
	/** To node type or alias. */
	char *to;
	/** Relationship type. */
	char *rel;
	/** Cardinality of the from side: MANY. */
	bool from_many;
	/** Cardinality of the to side: MANY. */
	bool to_many;
};

/** Additional types related to a main type. */
struct addl {
	/** The main type. */
	char *main;
	/** The additional types, in order, without repeats. */
	char **types;
	/** Number of `types`. */
	uint32_t n;
};

/** One layer of the coordinator's state (LayeredDict / LayeredList). */
struct sl_ns_layer {
	/** The node type the source alias is bound to here, or NULL. */
	char *alias_type;
	/** The alias's collected properties set here (in c->made), or NULL. */
	struct sl_ns_type *unbound;
	/** Adjacencies remembered here. */
	struct uadj *adjs;
	/** Number of `adjs`. */
	uint32_t n_adjs;
	/** Additional types registered here. */
	struct addl *addl;
	/** Number of `addl`. */
	uint32_t n_addl;
};

/** Free what a layer holds. */
static void
layer_destroy(struct sl_ns_layer *l)
{
	sl_free(l->alias_type);
	for (uint32_t i = 0; i < l->n_adjs; i++) {
		sl_free(l->adjs[i].from);
		sl_free(l->adjs[i].to);
		sl_free(l->adjs[i].rel);
	}
	sl_free(l->adjs);
	for (uint32_t i = 0; i < l->n_addl; i++) {
		sl_free(l->addl[i].main);
		for (uint32_t k = 0; k < l->addl[i].n; k++)
			sl_free(l->addl[i].types[k]);
		sl_free(l->addl[i].types);
	}
	sl_free(l->addl);
	memset(l, 0, sizeof(*l));
}

int
sl_ns_coord_create(struct sl_ns_coord *c, struct sl_ns_schema *schema,
                   bool include_additional_types)
{
	memset(c, 0, sizeof(*c));
	c->schema = schema;
	c->include_additional_types = include_additional_types;
	return sl_ns_push(c);
}

void
sl_ns_coord_destroy(struct sl_ns_coord *c)
{
	while (c->n_layers > 0)
		layer_destroy(&c->layers[--c->n_layers]);
	sl_free(c->layers);
	for (uint32_t i = 0; i < c->n_made; i++)
		type_delete(c->made[i]);
	sl_free(c->made);
	memset(c, 0, sizeof(*c));
}

int
sl_ns_push(struct sl_ns_coord *c)
{
	struct sl_ns_layer *v =
	        sl_realloc(c->layers, (c->n_layers + 1) * sizeof(*v));
	if (v == NULL)
		return oom();
	c->layers = v;
	memset(&v[c->n_layers++], 0, sizeof(*v));
	return 0;
}

void
sl_ns_pop(struct sl_ns_coord *c)
{
	if (c->n_layers > 1)
		layer_destroy(&c->layers[--c->n_layers]);
}

/** The innermost layer. */
static struct sl_ns_layer *
top(struct sl_ns_coord *c)
{
	return &c->layers[c->n_layers - 1];
}

/** The effective alias binding (innermost layer that has one), or NULL. */
static const char *
alias_type(const struct sl_ns_coord *c)
{
	for (uint32_t i = c->n_layers; i-- > 0;)
		if (c->layers[i].alias_type != NULL)
			return c->layers[i].alias_type;
	return NULL;
}

/** The effective alias properties, or NULL. */
static struct sl_ns_type *
alias_props(const struct sl_ns_coord *c)
{
	for (uint32_t i = c->n_layers; i-- > 0;)
		if (c->layers[i].unbound != NULL)
			return c->layers[i].unbound;
	return NULL;
}

/** The effective additional types of `main`, or NULL. */
static const struct addl *
addl_find(const struct sl_ns_coord *c, const char *main)
{
	for (uint32_t i = c->n_layers; i-- > 0;)
		for (uint32_t k = 0; k < c->layers[i].n_addl; k++)
			if (strcmp(c->layers[i].addl[k].main, main) == 0)
				return &c->layers[i].addl[k];
	return NULL;
}

/** Nodestream's GraphObjectSchema.merge of `from` into `into` (keys are
 * never in conflict here: alias schemas have none). */
static int
type_merge(struct sl_ns_type *into, const struct sl_ns_type *from)
{
	for (uint32_t i = 0; i < from->n_props; i++) {
		const struct sl_ns_prop *p = &from->props[i];
		if (sl_ns_add_prop(into, p->name, p->type, p->is_key,
		                   p->is_indexed) != 0)
			return -1;
	}
	return 0;
}

struct sl_ns_type *
sl_ns_bind_source(struct sl_ns_coord *c, const char *node_type)
{
	struct sl_ns_type *n = sl_ns_type_get(c->schema, false, node_type);
	const struct sl_ns_type *u = alias_props(c);
	if (n == NULL || (u != NULL && type_merge(n, u) != 0))
		return NULL;
	char *t = dup(node_type);
	if (t == NULL)
		return NULL;
	sl_free(top(c)->alias_type);
	top(c)->alias_type = t;
	return n;
}

int
sl_ns_alias_props(struct sl_ns_coord *c, const char *const *names, uint32_t n)
{
	if (n == 0)
		return 0;
	struct sl_ns_type *u = alias_props(c);
	if (u == NULL) {
		struct sl_ns_type **v =
		        sl_realloc(c->made, (c->n_made + 1) * sizeof(*v));
		if (v == NULL)
			return oom();
		c->made = v;
		if ((u = type_new(false, SL_NS_SOURCE_ALIAS)) == NULL)
			return -1;
		v[c->n_made++] = u;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct sl_ns_prop *p = prop_find(u, names[i]);
		if (p != NULL) /* dict.update: fresh metadata */
			p->type = SL_NS_STRING,
			p->is_key = p->is_indexed = false;
		else if (sl_ns_add_prop(u, names[i], SL_NS_STRING, false,
		                        false) != 0)
			return -1;
	}
	top(c)->unbound = u;
	return 0;
}

int
sl_ns_connect(struct sl_ns_coord *c, const char *from_or_alias,
              const char *to_or_alias, const char *rel, bool from_many,
              bool to_many)
{
	struct sl_ns_layer *l = top(c);
	struct uadj *v = sl_realloc(l->adjs, (l->n_adjs + 1) * sizeof(*v));
	if (v == NULL)
		return oom();
	l->adjs = v;
	struct uadj *a = &v[l->n_adjs];
	a->from = dup(from_or_alias);
	a->to = dup(to_or_alias);
	a->rel = dup(rel);
	a->from_many = from_many;
	a->to_many = to_many;
	if (a->from == NULL || a->to == NULL || a->rel == NULL) {
		sl_free(a->from);
		sl_free(a->to);
		sl_free(a->rel);
		return -1;
	}
	l->n_adjs++;
	return 0;
}

int
sl_ns_register_additional(struct sl_ns_coord *c, const char *main,
                          const char *const *types, uint32_t n)
{
	if (n == 0 || !c->include_additional_types)
		return 0;
	struct sl_ns_layer *l = top(c);
	struct addl *a = NULL;
	for (uint32_t k = 0; k < l->n_addl && a == NULL; k++)
		if (strcmp(l->addl[k].main, main) == 0)
			a = &l->addl[k];
	const struct addl *outer = a == NULL ? addl_find(c, main) : NULL;
	if (a == NULL) {
		struct addl *v =
		        sl_realloc(l->addl, (l->n_addl + 1) * sizeof(*v));
		if (v == NULL)
			return oom();
		l->addl = v;
		a = &v[l->n_addl];
		memset(a, 0, sizeof(*a));
		if ((a->main = dup(main)) == NULL)
			return -1;
		l->n_addl++;
	}
	/* existing + the new ones not in it, in order */
	uint32_t no = outer != NULL ? outer->n : 0;
	char **v = sl_realloc(a->types, (a->n + no + n) * sizeof(*v));
	if (v == NULL)
		return oom();
	a->types = v;
	for (uint32_t i = 0; i < no + n; i++) {
		const char *t = i < no ? outer->types[i] : types[i - no];
		if (among(t, (const char *const *)a->types, a->n))
			continue;
		if ((a->types[a->n] = dup(t)) == NULL)
			return -1;
		a->n++;
	}
	return 0;
}

/** The node type `name` stands for: the alias's binding, or itself. */
static const char *
resolve(const struct sl_ns_coord *c, const char *name)
{
	const char *t = alias_type(c);
	return t != NULL && strcmp(name, SL_NS_SOURCE_ALIAS) == 0 ? t : name;
}

/** Copy a bound adjacency to the additional types of its ends. */
static int
expand_adj(struct sl_ns_coord *c, const struct uadj *u, const char *from,
           const char *to)
{
	const struct addl *fa = addl_find(c, from), *ta = addl_find(c, to);
	uint32_t nf = 1 + (fa != NULL ? fa->n : 0);
	uint32_t nt = 1 + (ta != NULL ? ta->n : 0);
	for (uint32_t i = 0; i < nf; i++) {
		const char *f = i == 0 ? from : fa->types[i - 1];
		for (uint32_t k = 0; k < nt; k++) {
			const char *t = k == 0 ? to : ta->types[k - 1];
			if (i == 0 && k == 0)
				continue;
			if (sl_ns_add_adj(c->schema, f, t, u->rel, true,
			                  u->from_many, u->to_many) != 0)
				return -1;
		}
	}
	return 0;
}

int
sl_ns_clear_aliases(struct sl_ns_coord *c)
{
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && !c->include_additional_types)
			return 0;
		for (uint32_t i = 0; i < c->n_layers; i++) {
			const struct sl_ns_layer *l = &c->layers[i];
			for (uint32_t k = 0; k < l->n_adjs; k++) {
				const struct uadj *u = &l->adjs[k];
				const char *f = resolve(c, u->from);
				const char *t = resolve(c, u->to);
				int rc = pass == 0 ? sl_ns_add_adj(c->schema, f,
				                                   t, u->rel,
				                                   true,
				                                   u->from_many,
				                                   u->to_many)
				                   : expand_adj(c, u, f, t);
				if (rc != 0)
					return -1;
			}
		}
	}
	/* the alias's properties go to the additional types of its type */
	const char *bound = alias_type(c);
	const struct sl_ns_type *u = alias_props(c);
	const struct addl *a = bound != NULL ? addl_find(c, bound) : NULL;
	for (uint32_t i = 0; u != NULL && a != NULL && i < a->n; i++) {
		struct sl_ns_type *t =
		        sl_ns_type_get(c->schema, false, a->types[i]);
		if (t == NULL || type_merge(t, u) != 0)
			return -1;
	}
	return 0;
}

/* --- overrides ---------------------------------------------------------- */

/** Fail at node `n` about `what`. */
static int
bad(const struct sl_conf *n, const char *what, const char *expected)
{
	return sl_conf_error(n, what, "expected %s", expected);
}

/** The property type named by scalar `n`. */
static int
ptype_parse(const struct sl_conf *n, enum sl_ns_ptype *out)
{
	const char *s;
	if (sl_conf_str(n, "type", &s) != 0)
		return -1;
	for (int i = 0; i < SL_NS_PTYPE_COUNT; i++)
		if (strcmp(s, ptype_names[i]) == 0) {
			*out = (enum sl_ns_ptype)i;
			return 0;
		}
	return sl_conf_error(n, "type",
	                     "'%s' is not a PropertyType (STRING, BOOLEAN, "
	                     "DATETIME, INTEGER, FLOAT, LIST_OF_STRINGS, "
	                     "LIST_OF_BOOLEANS, LIST_OF_DATETIMES, "
	                     "LIST_OF_INTEGERS, LIST_OF_FLOATS)",
	                     s);
}

/** An optional boolean member `key` of mapping `m` (default false). */
static int
opt_flag(const struct sl_conf *m, const char *key, bool *out)
{
	const struct sl_conf *n = sl_conf_get(m, key);
	*out = false;
	return n == NULL ? 0 : sl_conf_bool(n, key, out);
}

/** Merge a list of type overrides (`nodes` or `relationships`). */
static int
types_merge(struct sl_ns_schema *s, const struct sl_conf *list, bool rel)
{
	static const char *const k_type[] = {"name", "properties", NULL};
	static const char *const k_prop[] = {"type", "is_key", "is_indexed",
	                                     NULL};
	const char *what = rel ? "relationships" : "nodes";
	if (list == NULL)
		return 0;
	if (list->kind != SL_CONF_SEQ)
		return bad(list, what, "a list of types");
	for (uint32_t i = 0; i < list->n; i++) {
		const struct sl_conf *t = list->items[i], *props;
		const char *name;
		if (t->kind != SL_CONF_MAP)
			return bad(t, what,
			           "a mapping with name and properties");
		if (sl_conf_check_keys(t, k_type, what, "a type") != 0 ||
		    sl_conf_str(sl_conf_get(t, "name"), "name", &name) != 0)
			return -1;
		if ((props = sl_conf_get(t, "properties")) == NULL ||
		    props->kind != SL_CONF_MAP)
			return bad(props != NULL ? props : t, "properties",
			           "a mapping of property names");
		/* The file's type, with the keys it names, must agree with
		 * the inferred keys unless either has none. */
		struct sl_ns_type *into = sl_ns_type_get(s, rel, name);
		if (into == NULL)
			return -1;
		uint32_t mine = 0, theirs = 0, shared = 0;
		for (uint32_t k = 0; k < into->n_props; k++)
			mine += into->props[k].is_key;
		for (uint32_t k = 0; k < props->n; k++) {
			const struct sl_conf *pk = props->items[2 * k];
			const struct sl_conf *pv = props->items[2 * k + 1];
			bool key = false;
			if (pv->kind == SL_CONF_MAP &&
			    opt_flag(pv, "is_key", &key) != 0)
				return -1;
			const struct sl_ns_prop *p = prop_find(into, pk->text);
			theirs += key;
			shared += key && p != NULL && p->is_key;
		}
		if (mine > 0 && theirs > 0 &&
		    (mine != theirs || shared != mine))
			return sl_conf_error(t, what,
			                     "cannot merge type %s: the keys "
			                     "do not match",
			                     name);
		for (uint32_t k = 0; k < props->n; k++) {
			const struct sl_conf *pk = props->items[2 * k];
			const struct sl_conf *pv = props->items[2 * k + 1];
			enum sl_ns_ptype type = SL_NS_STRING;
			bool key = false, idx = false;
			if (pv->kind != SL_CONF_MAP)
				return bad(pv, pk->text,
				           "a mapping with type, is_key, "
				           "is_indexed");
			if (sl_conf_check_keys(pv, k_prop, pk->text,
			                       "a property") != 0 ||
			    sl_conf_get(pv, "type") == NULL ||
			    ptype_parse(sl_conf_get(pv, "type"), &type) != 0 ||
			    opt_flag(pv, "is_key", &key) != 0 ||
			    opt_flag(pv, "is_indexed", &idx) != 0 ||
			    sl_ns_add_prop(into, pk->text, type, key, idx) != 0)
				return sl_diag_code() == SL_EOK
				               ? bad(pv, pk->text, "a type")
				               : -1;
		}
	}
	return 0;
}

/** A string member `key` of mapping `m`. */
static int
member(const struct sl_conf *m, const char *key, const char **out)
{
	const struct sl_conf *n = sl_conf_get(m, key);
	if (n == NULL)
		return sl_conf_error(m, key, "missing");
	return sl_conf_str(n, key, out);
}

/** A cardinality member `key` of mapping `m`: *many for MANY. */
static int
card_member(const struct sl_conf *m, const char *key, bool *many)
{
	const char *s;
	if (member(m, key, &s) != 0)
		return -1;
	if (strcmp(s, "MANY") != 0 && strcmp(s, "SINGLE") != 0)
		return sl_conf_error(sl_conf_get(m, key), key,
		                     "expected SINGLE or MANY, got '%s'", s);
	*many = strcmp(s, "MANY") == 0;
	return 0;
}

/** Merge the `cardinalities` list. */
static int
cards_merge(struct sl_ns_schema *s, const struct sl_conf *list)
{
	if (list == NULL)
		return 0;
	if (list->kind != SL_CONF_SEQ)
		return bad(list, "cardinalities", "a list");
	for (uint32_t i = 0; i < list->n; i++) {
		const struct sl_conf *e = list->items[i];
		const struct sl_conf *a = sl_conf_get(e, "adjacency");
		const struct sl_conf *c = sl_conf_get(e, "cardinality");
		const char *from, *to, *rel;
		bool fm, tm;
		if (a == NULL || c == NULL)
			return bad(e, "cardinalities",
			           "a mapping with adjacency and cardinality");
		if (member(a, "from_node_type", &from) != 0 ||
		    member(a, "to_node_type", &to) != 0 ||
		    member(a, "relationship_type", &rel) != 0 ||
		    card_member(c, "from_side_cardinality", &fm) != 0 ||
		    card_member(c, "to_side_cardinality", &tm) != 0 ||
		    sl_ns_add_adj(s, from, to, rel, true, fm, tm) != 0)
			return -1;
	}
	return 0;
}

int
sl_ns_schema_overrides(struct sl_ns_schema *s, const char *path)
{
	static const char *const known[] = {"nodes", "relationships",
	                                    "cardinalities", NULL};
	struct sl_conf_doc *d = sl_conf_load_file(path);
	if (d == NULL)
		return -1;
	const struct sl_conf *r = sl_conf_root(d);
	int rc = 0;
	if (r == NULL || r->kind != SL_CONF_MAP)
		rc = bad(r, "overrides",
		         "a mapping with nodes, relationships, cardinalities");
	/* Adjacencies first: Nodestream updates them before the types. */
	if (rc == 0)
		rc = sl_conf_check_keys(r, known, "overrides",
		                        "a type overrides file") != 0 ||
		     cards_merge(s, sl_conf_get(r, "cardinalities")) != 0 ||
		     types_merge(s, sl_conf_get(r, "nodes"), false) != 0 ||
		     types_merge(s, sl_conf_get(r, "relationships"), true) != 0;
	sl_conf_doc_delete(d);
	return rc != 0 ? -1 : 0;
}

/* --- printers ----------------------------------------------------------- */

int
sl_ns_format_parse(const char *name)
{
	if (strcmp(name, "plain") == 0)
		return SL_NS_PLAIN;
	if (strcmp(name, "graphql") == 0)
		return SL_NS_GRAPHQL;
	if (strcmp(name, "cypheresque") == 0)
		return SL_NS_CYPHERESQUE;
	return -1;
}

/** Whether byte `c` is a cased letter for str.title() (bytes of UTF-8
 * sequences count as letters whose case is kept). */
static bool
cased(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/** Append s[0..n) as Python's str.title() would make it (ASCII case). */
static int
put_title(struct sl_buf *b, const char *s, size_t n)
{
	bool prev = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80 && cased(c))
			c = prev ? (unsigned char)(c | 0x20)
			         : (unsigned char)(c & ~0x20);
		prev = cased(c);
		if (sl_buf_putc(b, (char)c) != 0)
			return -1;
	}
	return 0;
}

/** Append the parts of lower(s) split at '_', each title-cased; the first
 * part as it is when `first_lower`. */
static int
put_split_title(struct sl_buf *b, const char *s, bool first_lower)
{
	char part[256];
	size_t n = 0;
	bool first = true;
	for (const char *p = s;; p++) {
		if (*p == '_' || *p == '\0') {
			if (first && first_lower) {
				if (sl_buf_append(b, part, n) != 0)
					return -1;
			} else if (put_title(b, part, n) != 0) {
				return -1;
			}
			first = false;
			n = 0;
			if (*p == '\0')
				return 0;
			continue;
		}
		if (n == sizeof(part)) { /* long names: flush as a part */
			if (put_title(b, part, n) != 0)
				return -1;
			n = 0;
		}
		char c = *p;
		part[n++] = c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
	}
}

/** Whether `s` matches ^[a-z0-9]+(_[a-z0-9]+)*$ (snake case). */
static bool
snake(const char *s)
{
	bool need = true; /* a [a-z0-9] must come next */
	for (; *s != '\0'; s++) {
		bool word =
		        (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9');
		if (word)
			need = false;
		else if (*s == '_' && !need)
			need = true;
		else
			return false;
	}
	return !need;
}

/** Append ensure_camel_case(s); lowering its first byte if `lower1`. */
static int
put_camel(struct sl_buf *b, const char *s, bool lower1)
{
	size_t start = b->len;
	int rc;
	if (snake(s)) {
		rc = put_split_title(b, s, false);
	} else {
		rc = sl_buf_puts(b, s);
	}
	if (rc == 0 && lower1 && b->len > start && b->data[start] >= 'A' &&
	    b->data[start] <= 'Z')
		b->data[start] = (char)(b->data[start] | 0x20);
	return rc;
}

/** unique_rel_type_name: title-cased parts of lower(camel(rel)). */
static int
put_rel_name(struct sl_buf *b, const char *rel, bool camel_first)
{
	if (!camel_first)
		return put_split_title(b, rel, false);
	struct sl_buf t;
	sl_buf_create(&t, b->max);
	int rc = put_camel(&t, rel, false) != 0 || sl_buf_putc(&t, '\0') != 0 ||
	         put_split_title(b, t.data, false) != 0;
	sl_buf_destroy(&t);
	return rc ? -1 : 0;
}

/** The plain format: str(Schema) and a newline. */
static int
print_plain(const struct sl_ns_schema *s, struct sl_buf *b)
{
	for (uint32_t i = 0; i < s->n_types; i++) {
		const struct sl_ns_type *t = s->types[i];
		if ((i > 0 && sl_buf_putc(b, '\n') != 0) ||
		    sl_buf_printf(b, "[%s] %s:\n",
		                  t->rel ? "RELATIONSHIP" : "NODE",
		                  t->name) != 0)
			return -1;
		for (uint32_t k = 0; k < t->n_props; k++)
			if (sl_buf_printf(b, "%s  %s: %s", k > 0 ? "\n" : "",
			                  t->props[k].name,
			                  ptype_names[t->props[k].type]) != 0)
				return -1;
	}
	return sl_buf_putc(b, '\n');
}

/** Cypheresque: the types of one kind, one line each. */
static int
cypher_types(const struct sl_ns_schema *s, struct sl_buf *b, bool rel)
{
	bool first = true;
	for (uint32_t i = 0; i < s->n_types; i++) {
		const struct sl_ns_type *t = s->types[i];
		if (t->rel != rel)
			continue;
		if (sl_buf_printf(b, "%s%s: ", first ? "" : "\n", t->name) != 0)
			return -1;
		first = false;
		for (uint32_t k = 0; k < t->n_props; k++)
			if (sl_buf_printf(b, "%s%s: %s", k > 0 ? ", " : "",
			                  t->props[k].name,
			                  ptype_names[t->props[k].type]) != 0)
				return -1;
	}
	return 0;
}

/** The cypheresque format. */
static int
print_cypheresque(const struct sl_ns_schema *s, struct sl_buf *b)
{
	if (sl_buf_puts(b, "Node Types:\n") != 0 ||
	    cypher_types(s, b, false) != 0 ||
	    sl_buf_puts(b, "\nRelationship Types:\n") != 0 ||
	    cypher_types(s, b, true) != 0 ||
	    sl_buf_puts(b, "\nAdjancies:\n") != 0)
		return -1;
	for (uint32_t i = 0; i < s->n_adjs; i++)
		if (sl_buf_printf(b, "%s(:%s)-[:%s]->(:%s)", i > 0 ? "\n" : "",
		                  s->adjs[i].from, s->adjs[i].rel,
		                  s->adjs[i].to) != 0)
			return -1;
	return sl_buf_putc(b, '\n');
}

/** GraphQL: one relationship field of a node type (the template's
 * branch), `in` for an inbound one. */
static int
gql_rel(struct sl_buf *b, const struct sl_ns_adj *a, bool in)
{
	const char *other = in ? a->from : a->to;
	bool many = in ? a->to_many : a->from_many;
	int rc = sl_buf_puts(b, "\n    \n    ");
	if (in)
		rc = rc || put_camel(b, other, true) ||
		     put_split_title(b, a->rel, false);
	else
		rc = rc || put_split_title(b, a->rel, true) ||
		     put_camel(b, other, false);
	rc = rc || sl_buf_puts(b, many ? ": [" : ": ") ||
	     put_camel(b, other, false) || sl_buf_puts(b, many ? "!]!" : "") ||
	     sl_buf_printf(b,
	                   "\n        @relationship(type: \"%s\", "
	                   "direction: %s, properties: \"",
	                   a->rel, in ? "IN" : "OUT") ||
	     put_rel_name(b, a->rel, true) || sl_buf_puts(b, "\")\n    \n");
	return rc ? -1 : 0;
}

/** GraphQL: the definition of node type `t`. */
static int
gql_node(const struct sl_ns_schema *s, const struct sl_ns_type *t,
         struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "\n\ntype ");
	size_t at = b->len;
	rc = rc || put_camel(b, t->name, false);
	bool renamed =
	        rc == 0 && (b->len - at != strlen(t->name) ||
	                    memcmp(b->data + at, t->name, b->len - at) != 0);
	rc = rc || sl_buf_puts(b, " @exclude(operations: [CREATE, DELETE, "
	                          "UPDATE]) @queryOptions(limit: {default: "
	                          "10}) ");
	if (renamed)
		rc = rc ||
		     sl_buf_printf(b, " @node(labels: [\"%s\"]) ", t->name);
	rc = rc || sl_buf_puts(b, " {\n    # Node Properties\n");
	for (uint32_t k = 0; k < t->n_props && rc == 0; k++)
		rc = sl_buf_printf(b, "\n    %s: %s\n", t->props[k].name,
		                   gql_types[t->props[k].type]);
	rc = rc || sl_buf_puts(b, "\n    # Inbound Relationships\n");
	for (uint32_t i = 0; i < s->n_adjs && rc == 0; i++)
		if (strcmp(s->adjs[i].to, t->name) == 0)
			rc = gql_rel(b, &s->adjs[i], true);
	rc = rc || sl_buf_puts(b, "\n    # Outbound Relationships\n");
	for (uint32_t i = 0; i < s->n_adjs && rc == 0; i++)
		if (strcmp(s->adjs[i].from, t->name) == 0)
			rc = gql_rel(b, &s->adjs[i], false);
	return rc || sl_buf_puts(b, "\n}") ? -1 : 0;
}

/** qsort order of node types by name. */
static int
by_name(const void *pa, const void *pb)
{
	const struct sl_ns_type *a = *(const struct sl_ns_type *const *)pa;
	const struct sl_ns_type *b = *(const struct sl_ns_type *const *)pb;
	return strcmp(a->name, b->name);
}

/** The GraphQL format. */
static int
print_graphql(const struct sl_ns_schema *s, struct sl_buf *b)
{
	const struct sl_ns_type **nodes =
	        sl_calloc(s->n_types + 1, sizeof(*nodes));
	if (nodes == NULL)
		return oom();
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->n_types; i++)
		if (!s->types[i]->rel)
			nodes[n++] = s->types[i];
	qsort(nodes, n, sizeof(*nodes), by_name);
	int rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = gql_node(s, nodes[i], b);
	sl_free(nodes);
	for (uint32_t i = 0; i < s->n_types && rc == 0; i++) {
		const struct sl_ns_type *t = s->types[i];
		if (!t->rel)
			continue;
		rc = sl_buf_puts(b, "\ninterface ") != 0 ||
		     put_rel_name(b, t->name, false) != 0 ||
		     sl_buf_puts(b, " @relationshipProperties {\n") != 0;
		for (uint32_t k = 0; k < t->n_props && rc == 0; k++)
			rc = sl_buf_printf(b, "\n    %s: %s\n",
			                   t->props[k].name,
			                   gql_types[t->props[k].type]);
		rc = rc || sl_buf_puts(b, "\n}") != 0;
	}
	return rc || sl_buf_putc(b, '\n') ? -1 : 0;
}

int
sl_ns_schema_print(const struct sl_ns_schema *s, enum sl_ns_format format,
                   struct sl_buf *out)
{
	switch (format) {
	case SL_NS_GRAPHQL:
		return print_graphql(s, out);
	case SL_NS_CYPHERESQUE:
		return print_cypheresque(s, out);
	case SL_NS_PLAIN:
	default:
		return print_plain(s, out);
	}
}
