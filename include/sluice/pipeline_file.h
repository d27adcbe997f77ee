/*
 * sluice: pipeline files in Nodestream's format.
 *
 * A pipeline file is a YAML list of step definitions:
 *
 *   - implementation: nodestream.pipeline.extractors:FileExtractor
 *     factory: local
 *     arguments: {globs: [data/people.csv]}
 *     annotations: [test]
 *
 * `implementation` is required; `factory`, `arguments` (a mapping) and
 * `annotations` (a list of strings) are optional, and any other key is an
 * error. Steps are selected by annotation as Nodestream does: a step
 * without annotations is always kept; when annotations are asked for, an
 * annotated step is kept only if it shares one of them; when none are
 * asked for, every step is kept.
 *
 * Argument tags resolved at load, anywhere under `arguments`:
 *   !env NAME        the environment variable's value (a string); an unset
 *                    variable gives null, as in Nodestream, with a
 *                    warning naming it and the tag's position
 *   !config KEY      the value of KEY in the configuration given by the
 *                    caller (a dotted KEY walks nested mappings); a
 *                    missing key, or no configuration at all, gives null
 *                    with a warning, as in Nodestream
 *   !include PATH    the document of another YAML file (relative to the
 *                    current directory, else to the including file's
 *                    directory), itself resolved the same way; include
 *                    cycles and nesting beyond 16 levels are errors
 * Every other tag (the value providers !jmespath, !variable, !format,
 * !regex, !split, !normalize, !cast, !mapping and any unknown tag) is kept
 * on its node for the step that interprets it.
 *
 * "A string" means a scalar that resolves to a string, as Nodestream's
 * schema sees it, so `implementation: 5` fails; every error names
 * file:line:column. Steps are selected first, then only the selected
 * steps' tags are resolved, so a `live` step's !env need not be set when
 * running with `-a test`. !config looks the key up whole, then as a
 * dotted path, and converts the value into nodes at the tag's position.
 * Include cycles are found by real path and name the chain; nodes from an
 * included file keep their own file name and positions. Resolved nodes
 * replace their parent's item pointer. The resolver is public as
 * sl_conf_resolve_tags(), which project files use too.
 */
#ifndef SLUICE_PIPELINE_FILE_H
#define SLUICE_PIPELINE_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/conf.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One step definition of a pipeline file. */
struct sl_stepdef {
	/** The implementation name as written. */
	const char *implementation;
	/** The factory name, or NULL. */
	const char *factory;
	/** The arguments mapping (tags resolved), or NULL if absent. */
	const struct sl_conf *arguments;
	/** Annotations of the step. */
	const char **annotations;
	/** Number of `annotations`. */
	uint32_t n_annotations;
	/** The step's mapping node (its position names the step). */
	const struct sl_conf *node;
	/** 0-based position among the file's steps, before selection. */
	uint32_t index;
	/**
	 * Name of the pipeline (the file's stem, "pipeline"), or NULL when
	 * the definition was not loaded from a file.
	 */
	const char *pipeline;
	/**
	 * `sluice run --strict`: bad input fails the run whatever the
	 * step's `on_error` says.
	 */
	bool strict;
};

/** Options of sl_pipeline_file_load(). */
struct sl_pipeline_file_opts {
	/** Annotations asked for (see the file comment), or NULL. */
	const char *const *annotations;
	/** Number of `annotations`. */
	uint32_t n_annotations;
	/** The configuration !config reads (an object), or NULL for none. */
	const struct sl_value *config;
	/** Set sl_stepdef.strict on every step (`sluice run --strict`). */
	bool strict;
};

/** A loaded pipeline file. */
struct sl_pipeline_file {
	/** The path it was loaded from. */
	const char *path;
	/** The file name without directory and last suffix ("pipeline"). */
	const char *stem;
	/** The selected steps, in file order. */
	struct sl_stepdef *steps;
	/** Number of selected steps. */
	uint32_t n_steps;
	/** Number of steps in the file before selection. */
	uint32_t n_all;
	/** The document holding every node (private). */
	struct sl_conf_doc *doc;
};

/**
 * Load, check and select the steps of the pipeline file at `path`. `opts`
 * may be NULL. NULL with an error in the diag naming "path:line:column"
 * and what was expected (SL_EINVAL, SL_EPARSE), or SL_ESYSTEM / SL_EOOM.
 */
struct sl_pipeline_file *
sl_pipeline_file_load(const char *path,
                      const struct sl_pipeline_file_opts *opts);

/**
 * Resolve the load-time tags !env, !config and !include (see the file
 * comment) at and under `*slot`, a node of document `doc`, in place: a
 * resolved node replaces the pointer that held it (so `*slot` itself may
 * change); nodes created for values and included files live in `doc`.
 * !config looks keys up in `config` (an object); an unset variable, a
 * missing key and a NULL `config` give a null node and a warning. The file
 * `*slot` was read from starts the include chain (a file including it is a
 * cycle). Every other tag stays on its node. Used for pipeline arguments and
 * for project files (sluice/project.h). Returns 0, or -1 with an error naming
 * "file:line:column" (SL_EINVAL), or SL_EPARSE, SL_ESYSTEM, SL_ELIMIT or
 * SL_EOOM from an included file.
 */
int sl_conf_resolve_tags(struct sl_conf_doc *doc, struct sl_conf **slot,
                         const struct sl_value *config);

/**
 * Nodestream's object-store namespace of the pipeline file at `path`, the
 * prefix its checkpoints are kept under: "<stem>-<sha256>", the file
 * name's stem as Python's Path.stem gives it (the name without its last
 * suffix; a leading dot or a trailing one is not a suffix: ".x" and "x."
 * stay whole) and the SHA-256 of the file's bytes in lower-case hex, as
 * Nodestream 0.16.1's PipelineFile.load_pipeline makes it. Written to
 * out[0..size) with a NUL. 0, or -1 with SL_ESYSTEM (the file cannot be
 * read, naming it) or SL_ELIMIT (it does not fit in `size`).
 */
int sl_pipeline_file_namespace(const char *path, char *out, size_t size);

/** Free a loaded file. NULL is a no-op. */
void sl_pipeline_file_delete(struct sl_pipeline_file *f);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_PIPELINE_FILE_H */
