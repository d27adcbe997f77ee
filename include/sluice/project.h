/*
 * sluice: project files in Nodestream's format (`nodestream.yaml`).
 *
 *   scopes:                                  # name -> scope, in file order
 *     cron:
 *       config: {api_endpoint: !env API}     # what !config reads in its
 * pipelines annotations: {schedule: "0 0 * * *"} # metadata: key -> scalar
 *       targets: [my-target]                 # inherited by its pipelines
 *       pipelines:
 *         - pipelines/web-scraping.yaml      # a path; name = file stem
 *         - path: pipelines/warehouse.yaml
 *           name: my-warehouse-pipeline
 *           annotations: {schedule: "0 10 * * *"}
 *           targets: [my-other-target]
 *           exclude_inherited_targets: true
 *   targets:                                 # name -> connector options
 *     my-target: {database: neo4j, uri: bolt://localhost:7687,
 *                 username: neo4j, password: !env NEO4J_PASSWORD}
 *   plugins:                                 # shared objects to load
 *     - {name: sample, path: plugins/libsample.so, config: {k: v}}
 *   storage:                                 # object stores (checkpoints)
 *     stores:
 *       - {name: local, type: local, root: .ckpt, hmac_key: !env KEY}
 *   include_additional_types: false          # a boolean: schema types
 *
 * Rules checked at load (every error names "file:line:column" and the key
 * path, e.g. "nodestream.yaml:7:9: scopes.cron.pipelines[1].path: ..."):
 *
 * - The document is a mapping whose keys are among scopes, targets,
 *   plugins, storage and include_additional_types. A missing `scopes`
 *   gives a project without pipelines.
 * - A scope is a mapping (null is an empty scope) with the keys config (a
 *   mapping), annotations (a mapping of scalars: strings, numbers,
 *   booleans), targets (a list of strings) and pipelines (a list). A
 *   pipeline is a path string or a mapping with `path` (required), `name`
 *   (a string; default: the file name without directory and last suffix),
 *   annotations, targets and exclude_inherited_targets (a boolean).
 * - A pipeline path is resolved against the project file's directory (an
 *   absolute path is kept) and must exist.
 * - Two pipelines of one scope may not share a name; a scope or target
 *   defined twice is an error.
 * - `storage` is null or a mapping with `stores`, a list of stores, each a
 *   mapping with `name` (a string; no two alike), `type` (local, null or
 *   s3) and `hmac_key` (a base64 string, checked at load; null or empty:
 *   unsigned, as in Nodestream); a local store takes `root` (a
 *   directory), a null store nothing else; an s3 store's other keys are
 *   kept unchecked (the s3 store is not built yet).
 * - Every target name a scope or pipeline uses must be defined under
 *   `targets`. A target is a mapping with `database` (a string; a plain
 *   `null` means the "null" connector); its other keys are kept as they
 *   are. Unsupported databases are reported by sl_project_target_uri(),
 *   not at load.
 *
 * Tags: the load-time tags of pipeline files (!env, !config, !include; see
 * sl_conf_resolve_tags() in sluice/pipeline_file.h) are resolved at load
 * anywhere under `scopes`, `targets` and `storage.stores`, so an unset !env
 * variable there gives null with a warning (a target's `password: !env X` then
 * has no password, as in Nodestream); there is no configuration for !config in
 * the project file itself, so !config there gives null too. `!delayed {value:
 * X}` (Nodestream's re-evaluated credentials) is resolved once, as X. A
 * plugin's `config` has its tags resolved the same way. A store's hmac_key
 * written with a tag that resolves to null (an unset !env variable) is an error
 * when the store is made, not at load, so that commands that make no store
 * still work.
 *
 * Semantics follow Nodestream's code: a pipeline's effective targets are
 * its own followed by its scope's (unless exclude_inherited_targets),
 * without duplicates; its effective annotations are its scope's updated
 * with its own (on a shared key the pipeline's value wins, as in
 * Nodestream 0.16.1's PipelineConfiguration.effective_annotations, checked
 * against it in tests/test_project.c). Annotations are metadata only;
 * step selection uses the annotations given to the run.
 *
 * Targets load first, so scope and pipeline target lists can be checked
 * against them (with a "did you mean" for a close name). Scopes flatten
 * into one array of pipelines in scope order, then list order; the same
 * name in several scopes is several entries, so `sluice run NAME` runs it
 * once per scope. Each entry points at its scope's `config`, ready for
 * sl_pipeline_file_opts.config. `sluice run` and `sluice show`
 * (src/cli/run.c) use this module.
 *
 * A loaded project is immutable; everything it hands out lives until
 * sl_project_delete().
 */
#ifndef SLUICE_PROJECT_H
#define SLUICE_PROJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/conf.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The project file a command looks for by default. */
#define SL_PROJECT_FILE "nodestream.yaml"

/** A loaded project (opaque). */
struct sl_project;

/** One pipeline of a project, as one scope lists it. */
struct sl_project_pipeline {
	/** Name of the scope listing it. */
	const char *scope;
	/** The pipeline's name (explicit, or the file stem). */
	const char *name;
	/** The path as written in the project file (what `show` prints). */
	const char *file;
	/**
	 * The path to open: `file` resolved against the project file's
	 * directory (`file` itself when absolute or when the project file
	 * has no directory part).
	 */
	const char *path;
	/**
	 * Effective annotations: an object of scalars (strings, integers,
	 * doubles, booleans), the scope's keys first, then the pipeline's
	 * own other keys; on a shared key the pipeline's value; never NULL
	 * (an empty object when there are none).
	 */
	const struct sl_value *annotations;
	/**
	 * The pipeline's own annotations as written (an object; empty when
	 * none), what Nodestream's `show --json` prints.
	 */
	const struct sl_value *own_annotations;
	/** The pipeline's own target names, as written. */
	const char *const *own_targets;
	/** Number of `own_targets`. */
	uint32_t n_own_targets;
	/** Effective target names, in order, without duplicates. */
	const char *const *targets;
	/** Number of `targets`. */
	uint32_t n_targets;
	/** Whether the pipeline excludes its scope's targets. */
	bool exclude_inherited_targets;
	/**
	 * The scope's `config` as an object (tags resolved), to give
	 * sl_pipeline_file_load() for !config; NULL when the scope has none.
	 */
	const struct sl_value *config;
	/** The pipeline's node in the project file (its position). */
	const struct sl_conf *node;
	/** 0-based position in the project (scope order, then list order). */
	uint32_t index;
};

/** One target of a project. */
struct sl_project_target {
	/** The target's name. */
	const char *name;
	/** The `database` option ("null" for a plain null). */
	const char *database;
	/**
	 * Every option including `database`, as an object (tags resolved).
	 * It may hold credentials: never print it.
	 */
	const struct sl_value *options;
	/** The target's mapping node (tags resolved; its position). */
	const struct sl_conf *node;
};

/**
 * One entry of `plugins` (docs/plugins.md): a mapping with `name` (a
 * string, required), `path` (the shared object, resolved against the
 * project file's directory) and `config` (a mapping, given to the
 * plugin). Without `path`, the plugin is NAME.so or libNAME.so in a
 * directory of $SLUICE_PLUGIN_PATH (colon-separated) or in the project's
 * `plugins/` directory. Nodestream's other keys (targets, annotations,
 * pipelines: for pipelines a Python plugin ships) are accepted and unused.
 */
struct sl_project_plugin {
	/** Its name (`name`). */
	const char *name;
	/** The shared object, or NULL when no path was given and none found. */
	const char *path;
	/** Its `config` (an object, tags resolved), or NULL. */
	const struct sl_value *config;
	/** "file:line:column" of its entry, for messages. */
	const char *where;
};

/** Number of entries of `plugins`. */
uint32_t sl_project_n_plugins(const struct sl_project *p);

/** Entry `i` of `plugins`, or NULL. */
const struct sl_project_plugin *sl_project_plugin(const struct sl_project *p,
                                                  uint32_t i);

/**
 * Load and check the project file at `path` (see the file comment). NULL
 * with an error: SL_EINVAL for a rule broken ("file:line:column: key path:
 * what was expected"), SL_EPARSE for bad YAML, SL_ESYSTEM when the file
 * cannot be read, SL_ELIMIT or SL_EOOM.
 */
struct sl_project *sl_project_load(const char *path);

/** Free a project. NULL is a no-op. */
void sl_project_delete(struct sl_project *p);

/** The path the project was loaded from. */
const char *sl_project_path(const struct sl_project *p);

/** Number of pipelines, counting one per scope that lists it. */
uint32_t sl_project_n_pipelines(const struct sl_project *p);

/** Pipeline `i` (0 <= i < sl_project_n_pipelines()), in project order. */
const struct sl_project_pipeline *
sl_project_pipeline(const struct sl_project *p, uint32_t i);

/**
 * The pipelines named `name`, one per scope listing it, in scope order:
 * fills out[0..min(count, max)) and returns the count (0: no such name;
 * then sl_project_suggest() may name a close one). `out` may be NULL
 * when `max` is 0.
 */
uint32_t sl_project_find(const struct sl_project *p, const char *name,
                         const struct sl_project_pipeline **out, uint32_t max);

/**
 * For "did you mean ...?": the pipeline name closest to `name` by edit
 * distance (insertions, deletions, substitutions and swaps of adjacent
 * characters, ignoring case), if it is close enough (at most a third of
 * the longer name's length, and at least 1, edits); NULL otherwise. Ties
 * go to the first in project order. `name` itself when it exists.
 */
const char *sl_project_suggest(const struct sl_project *p, const char *name);

/** The project's include_additional_types (false when absent): whether
 * additional types are schema types (`sluice print schema`). */
bool sl_project_include_additional_types(const struct sl_project *p);

/** Whether the project has a scope called `name`. */
bool sl_project_has_scope(const struct sl_project *p, const char *name);

/** Number of targets, in file order. */
uint32_t sl_project_n_targets(const struct sl_project *p);

/** Target `i` (0 <= i < sl_project_n_targets()). */
const struct sl_project_target *sl_project_target(const struct sl_project *p,
                                                  uint32_t i);

/** The target called `name`, or NULL. */
const struct sl_project_target *
sl_project_get_target(const struct sl_project *p, const char *name);

/** sl_project_suggest() over target names. */
const char *sl_project_suggest_target(const struct sl_project *p,
                                      const char *name);

/**
 * The sluice target URI of target `name`, written to uri[0..size) with a
 * NUL, and its `batch_size` option in `*batch_size` (0 when absent; a
 * positive integer, or a string of one as !env gives) when `batch_size`
 * is not NULL:
 *
 *   database: sqlite                 path: P  ->  sqlite:P (a relative P
 *                                                 resolved against the
 *                                                 project file's directory)
 *   database: null (or "null")                ->  null:
 *   database: postgresql | postgres  uri: U   ->  U (postgres:// or
 *                                                 postgresql://)
 *   database: neo4j                  uri: U   ->  U (bolt, bolt+s, bolt+ssc,
 *                                                 neo4j, neo4j+s, neo4j+ssc)
 *
 * For postgresql and neo4j, `username` and `password` become U's user
 * information (percent-encoded; U's own, if any, wins) and
 * `flush_concurrency` the store's lanes (PostgreSQL: lanes=N,
 * src/graph/pg_store.h; Neo4j: connections=N, at most 16). For neo4j also
 * `database_name` becomes U's path (unless U has one), `chunk_size` and
 * `use_enterprise_features` the Neo4j store's query parameters
 * chunk_size= and enterprise=true (src/graph/neo4j_store.h); use_apoc,
 * execute_chunks_in_parallel and retries_per_chunk are ignored with an
 * info line each. Writer options sluice has no use for are ignored with
 * an info line each: collect_stats and ingest_strategy_name always;
 * flush_concurrency, username and password for sqlite and null. The URI
 * then
 * holds the password: show it only through sl_uri_redact(). Other
 * options are not part of the URI. Returns 0, or -1 with
 * SL_EINVAL (no such target, with a suggestion; a database sluice does not
 * support, listing those it does; a missing or bad option; all naming the
 * target's position) or SL_ELIMIT (the URI does not fit in `size`). A URI
 * named in a message has its password removed ("user:pass@" -> "user@").
 */
int sl_project_target_uri(const struct sl_project *p, const char *name,
                          char *uri, size_t size, uint32_t *batch_size);

/* sl_uri_redact() is in sluice/uri.h. */

struct sl_objstore;

/**
 * The store `name` of the project's storage.stores (sluice/objstore.h),
 * made now: a null store, or a local store whose root, when relative, is
 * taken against the current directory (as Nodestream's Path(root) is; no
 * root: ./.nodestream/objects), signed when the store has an hmac_key.
 * The caller frees it with sl_objstore_free(). NULL with SL_EINVAL when
 * the project has no store of that name (the message lists the names it
 * has; Nodestream would fall back to a null store), for an s3 store (not
 * built yet) and for an hmac_key whose tag resolved to null, naming the
 * store's position; or the store constructors' errors.
 */
struct sl_objstore *sl_project_objstore(const struct sl_project *p,
                                        const char *name);

/** sl_project_show_scope() flag: JSON instead of a table. */
#define SL_PROJECT_SHOW_JSON 1u
/** sl_project_show_scope() flag: JSON with every field (`show -j -v`). */
#define SL_PROJECT_SHOW_VERBOSE 2u

/**
 * Print the pipelines of scope `scope` (NULL: every scope) to `out`.
 *
 * As text (flags 0): an aligned table "scope | name | file | targets |
 * annotations" under a header and a rule (effective targets joined with
 * ", ", effective annotations as "key: value" joined with ", ").
 *
 * With SL_PROJECT_SHOW_JSON: what Nodestream 0.16.1's `show --json`
 * prints, one JSON array on one line (with a newline after it), written
 * as Python's json.dumps writes (", " and ": " separators, non-ASCII as
 * \uXXXX). Each pipeline is its project-file entry: the path string when
 * its name is the file's stem and it has no own annotations; otherwise an
 * object {"path", "name" (unless the stem), "targets" (own, if any),
 * "annotations" (own, if any), "exclude_inherited_targets" (if true)}.
 * With SL_PROJECT_SHOW_VERBOSE too, every pipeline is an object with all
 * five keys (Nodestream's `show -j -v`).
 *
 * Returns 0, or -1 with SL_ESYSTEM on a write error or SL_EOOM.
 */
int sl_project_show_scope(const struct sl_project *p, const char *scope,
                          FILE *out, unsigned flags);

/** sl_project_show_scope() of every scope. */
int sl_project_show(const struct sl_project *p, FILE *out, unsigned flags);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_PROJECT_H */
