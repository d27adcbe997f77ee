/*
 * sluice: the registry of step types (a fixed table: registration happens
 * at start-up).
 */
#include "sluice/registry.h"

#include <string.h>

#include "sluice/buf.h"
#include "sluice/diag.h"

/** Registered types, in registration order. */
static const struct sl_step_type *types[SL_REGISTRY_MAX];
/** Number of entries in `types`. */
static size_t n_types;

const struct sl_step_type *
sl_registry_find(const char *name)
{
	for (size_t i = 0; i < n_types; i++)
		for (const char *const *n = types[i]->names; *n != NULL; n++)
			if (strcmp(*n, name) == 0)
				return types[i];
	return NULL;
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
		if (sl_registry_find(*n) != NULL) {
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
	return t->create(def);
}
