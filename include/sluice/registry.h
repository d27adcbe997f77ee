/*
 * sluice: the registry of step types.
 *
 * A step type is known by one or more implementation names: the names
 * Nodestream's pipeline files use ("nodestream.pipeline:IterableExtractor")
 * and a short one ("range"). It accepts some factory names (Nodestream's
 * class-method factories, e.g. `factory: range`) and builds a step from a
 * step definition of a pipeline file, reading its arguments from the
 * definition's conf node.
 *
 * The registry is a fixed table of up to SL_REGISTRY_MAX types; each lists
 * its short name first, then Nodestream's. The steps and interp layers
 * register their types (sl_steps_register_builtins(), sl_interp_register());
 * graph registers the writer (sl_graph_register()).
 */
#ifndef SLUICE_REGISTRY_H
#define SLUICE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/pipeline_file.h"
#include "sluice/step.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Build a step from `def` (its factory already checked). NULL with an
 * error naming the position of the offending argument.
 */
typedef struct sl_step *(*sl_step_create_fn)(const struct sl_stepdef *def);

/** A step type (a constant; the registry keeps a pointer). */
struct sl_step_type {
	/** Implementation names, NULL-terminated; the first is the short name.
	 */
	const char *const *names;
	/**
	 * Factory names accepted, NULL-terminated, or NULL for none. A
	 * definition without a factory is accepted if `factory_optional`.
	 */
	const char *const *factories;
	/** Whether `factory` may be left out. */
	bool factory_optional;
	/** Builds a step. */
	sl_step_create_fn create;
	/** One line saying what the step does (for help). */
	const char *summary;
};

/** Most step types the registry holds. */
#define SL_REGISTRY_MAX 128

/**
 * Register a step type. 0, or -1 with SL_EINVAL when one of its names is
 * taken, or SL_ELIMIT when the registry is full.
 */
int sl_registry_add(const struct sl_step_type *t);

/** The type registered under `name`, or NULL. */
const struct sl_step_type *sl_registry_find(const char *name);

/** Number of registered types. */
size_t sl_registry_count(void);

/** Registered type `i` (in registration order). */
const struct sl_step_type *sl_registry_get(size_t i);

/** Forget every registered type (for tests). */
void sl_registry_clear(void);

/**
 * Build the step a pipeline file defines. NULL with SL_EINVAL naming the
 * definition's "file:line:column" for an unknown implementation (listing
 * the known short names) or a factory the type does not have (listing
 * its factories), or the type's own error.
 */
struct sl_step *sl_step_create(const struct sl_stepdef *def);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_REGISTRY_H */
