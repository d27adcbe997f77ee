/*
 * sluice: the registry of step types (a fixed table: registration happens
 * at start-up).
 *
 * A step type lists its own names: a short one, and the import path of
 * the Nodestream class it implements, in the module that defines it
 * ("nodestream.pipeline.filters:ValuesMatchPossibilitiesFilter"). Python
 * imports a class through any module that has it in its namespace too
 * ("nodestream.pipeline:ValuesMatchPossibilitiesFilter", a package's
 * re-export), so every such path of Nodestream 0.16.1 is listed in
 * nodestream_paths.inc (made by tools/nodestream_paths.py) with the
 * class it names, and resolves to the step type of that class.
 */
#include "sluice/registry.h"

#include <string.h>

#include "sluice/buf.h"
#include "sluice/diag.h"

/** Registered types, in registration order. */
static const struct sl_step_type *types[SL_REGISTRY_MAX];
/** Number of entries in `types`. */
static size_t n_types;

/** A Nodestream import path and the class it names. */
struct ns_path {
	/** The path as a pipeline file may write it ("module:Name"). */
	const char *path;
	/** The class's own module and name. */
	const char *canonical;
};

/** Every import path of a Nodestream step class. */
static const struct ns_path ns_paths[] = {
#define NS_PATH(path, canonical) {path, canonical},
#include "nodestream_paths.inc"
#undef NS_PATH
};

/** The class Nodestream import path `name` names, or NULL. */
static const char *
ns_canonical(const char *name)
{
	for (size_t i = 0; i < sizeof(ns_paths) / sizeof(ns_paths[0]); i++)
		if (strcmp(ns_paths[i].path, name) == 0)
			return ns_paths[i].canonical;
	return NULL;
}

/** The type registered under exactly `name`, or NULL. */
static const struct sl_step_type *
find_exact(const char *name)
{
	for (size_t i = 0; i < n_types; i++)
		for (const char *const *n = types[i]->names; *n != NULL; n++)
			if (strcmp(*n, name) == 0)
				return types[i];
	return NULL;
}

const struct sl_step_type *
sl_registry_find(const char *name)
{
	const struct sl_step_type *t = find_exact(name);
	if (t != NULL)
		return t;
	const char *canonical = ns_canonical(name);
	return canonical != NULL ? find_exact(canonical) : NULL;
}

int
sl_registry_add(const struct sl_step_type *t)
{
	if (t->names == NULL || t->names[0] == NULL || t->create == NULL) {
		sl_diag_set(SL_EINVAL, "a step type needs a name and a "
		                       "create function");
		return -1;
	}
	for (const char *const *n = t->names; *n != NULL; n++) {
		if (find_exact(*n) != NULL) {
			sl_diag_set(SL_EINVAL,
			            "step type name '%s' is already registered",
			            *n);
			return -1;
		}
	}
	if (n_types == SL_REGISTRY_MAX) {
		sl_diag_set(SL_ELIMIT, "the step registry is full (%d types)",
		            SL_REGISTRY_MAX);
		return -1;
	}
	types[n_types++] = t;
	return 0;
}

size_t
sl_registry_count(void)
{
	return n_types;
}

const struct sl_step_type *
sl_registry_get(size_t i)
{
	return i < n_types ? types[i] : NULL;
}

void
sl_registry_clear(void)
{
	n_types = 0;
}

/** Append `list` (NULL-terminated) to `b` as "a, b, c". */
static void
join_names(struct sl_buf *b, const char *const *list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		(void)sl_buf_printf(b, "%s%s", i ? ", " : "", list[i]);
}

/** Whether `name` is in `list` (NULL-terminated, may be NULL). */
static bool
in_list(const char *const *list, const char *name)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

struct sl_step *
sl_step_create(const struct sl_stepdef *def)
{
	const struct sl_step_type *t = sl_registry_find(def->implementation);
	struct sl_buf b;
	sl_buf_create(&b, 4096);
	if (t == NULL && ns_canonical(def->implementation) != NULL) {
		sl_conf_error(def->node, "implementation",
		              "Nodestream's step '%s' (%s) is not available in "
		              "sluice yet; `sluice help steps` lists the steps "
		              "it has",
		              def->implementation,
		              ns_canonical(def->implementation));
		sl_buf_destroy(&b);
		return NULL;
	}
	if (t == NULL) {
		for (size_t i = 0; i < n_types; i++)
			(void)sl_buf_printf(&b, "%s%s", i ? ", " : "",
			                    types[i]->names[0]);
		sl_conf_error(def->node, "implementation",
		              "unknown step '%s'; known steps: %s (and their "
		              "nodestream.* names, see `sluice help steps`)",
		              def->implementation, b.len ? b.data : "none");
		sl_buf_destroy(&b);
		return NULL;
	}
	if (def->factory == NULL && !t->factory_optional &&
	    t->factories != NULL) {
		join_names(&b, t->factories);
		sl_conf_error(def->node, "factory",
		              "step '%s' needs a factory: one of %s",
		              def->implementation, b.len ? b.data : "none");
		sl_buf_destroy(&b);
		return NULL;
	}
	if (def->factory != NULL && !in_list(t->factories, def->factory)) {
		join_names(&b, t->factories);
		if (t->factories == NULL)
			sl_conf_error(def->node, "factory",
			              "step '%s' has no factory '%s' (it takes "
			              "none)",
			              def->implementation, def->factory);
		else
			sl_conf_error(
			        def->node, "factory",
			        "step '%s' has no factory '%s'; it has: %s",
			        def->implementation, def->factory, b.data);
		sl_buf_destroy(&b);
		return NULL;
	}
	sl_buf_destroy(&b);
	struct sl_step *st = t->create(def);
	if (st == NULL && def->node != NULL)
		sl_conf_place_error(def->node, def->implementation);
	return st;
}
