/*
 * Nodestream's import paths (src/pipeline/nodestream_paths.inc, made by
 * tools/nodestream_paths.py from Nodestream 0.16.1): every path under
 * which Nodestream imports a step class sluice implements resolves to
 * that step; no step claims a nodestream.* path Nodestream lacks; and a
 * Nodestream step sluice lacks is refused as such.
 */
#include <string.h>

#include "sluice/graph.h"
#include "sluice/interp.h"
#include "sluice/registry.h"
#include "sluice/steps.h"
#include "tap.h"

/** A path and its class, as in the generated table. */
struct path {
	/** The import path. */
	const char *path;
	/** The class it names. */
	const char *canonical;
};

/** The generated table. */
static const struct path paths[] = {
#define NS_PATH(p, c) {p, c},
#include "pipeline/nodestream_paths.inc"
#undef NS_PATH
};

/** Number of entries. */
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

/** Whether `name` is a path of the table. */
static bool
known_path(const char *name)
{
	for (size_t i = 0; i < NPATHS; i++)
		if (strcmp(paths[i].path, name) == 0)
			return true;
	return false;
}

/** Register every step sluice has. */
static void
setup(void)
{
	if (sl_steps_register_builtins() != 0 || sl_interp_register() != 0 ||
	    sl_graph_register() != 0)
		bail_out("cannot register the steps");
}

TAP_CASE(every_path_resolves)
{
	setup();
	size_t implemented = 0, resolved = 0;
	for (size_t i = 0; i < NPATHS; i++) {
		const struct sl_step_type *c =
		        sl_registry_find(paths[i].canonical);
		if (c == NULL)
			continue;
		implemented++;
		const struct sl_step_type *t = sl_registry_find(paths[i].path);
		if (t == c)
			resolved++;
		else
			ok(0, "%s resolves to the step of %s", paths[i].path,
			   paths[i].canonical);
	}
	is_int(resolved, implemented,
	       "every import path of an implemented class resolves (%zu of "
	       "%zu paths)",
	       implemented, NPATHS);
	ok(implemented >= 20, "the table is not empty (%zu)", implemented);
}

TAP_CASE(named_cases)
{
	setup();
	ok(sl_registry_find("nodestream.pipeline.extractors.iterable:"
	                    "IterableExtractor") == sl_registry_find("range"),
	   "the IterableExtractor's own module");
	ok(sl_registry_find("nodestream.pipeline.extractors.ttls:"
	                    "IterableExtractor") == sl_registry_find("range"),
	   "a module that imported it");
	ok(sl_registry_find("nodestream.pipeline:"
	                    "ValuesMatchPossibilitiesFilter") != NULL,
	   "a re-export of nodestream.pipeline");
	ok(sl_registry_find("nodestream.pipeline:PassStep") ==
	           sl_registry_find("pass"),
	   "PassStep");
	ok(sl_registry_find("nodestream.pipeline:LoggerWriter") ==
	           sl_registry_find("log"),
	   "LoggerWriter");
	ok(sl_registry_find("nodestream.pipeline.transformers:"
	                    "PassTransformer") ==
	           sl_registry_find("pass_transformer"),
	   "PassTransformer");
	ok(sl_registry_find("nodestream.pipeline.extractors.iterables:"
	                    "IterableExtractor") == NULL,
	   "a module Nodestream does not have is not a name");
}

TAP_CASE(no_invented_paths)
{
	setup();
	for (size_t i = 0; i < sl_registry_count(); i++) {
		const struct sl_step_type *t = sl_registry_get(i);
		for (const char *const *n = t->names; *n != NULL; n++)
			if (strncmp(*n, "nodestream.", 11) == 0)
				ok(known_path(*n),
				   "%s is a path Nodestream has", *n);
	}
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
