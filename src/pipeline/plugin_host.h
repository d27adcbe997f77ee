/*
 * sluice: the plugin host (internal to sluice; plugins see only
 * sluice/plugin.h).
 *
 * sl_plugin_load() opens a shared object with dlopen(RTLD_NOW |
 * RTLD_LOCAL), reads its `sluice_plugin_info` and refuses it, before any
 * of its code runs, when its API version is not SL_PLUGIN_ABI_VERSION;
 * then it calls `sluice_plugin_init` with the plugin's own function table
 * (struct sl_plugin_host). What the plugin registers lands here:
 *
 * - step types go into the step registry (sluice/registry.h) under their
 *   names, each built as a wrapper step whose callbacks call the plugin's;
 * - value providers, normalizers and graph targets are kept in tables of
 *   this module,
 *   which the Interpreter's provider and normalizer code (src/interp/)
 *   looks up by tag or name, and the graph layer's plugin store
 *   (src/graph/plugin_store.c) by URI scheme; the pipeline-file loader
 *   asks sl_plugin_tag_known() so that a plugin's tag is accepted.
 *
 * The host lives in the pipeline layer, so that the layers above it
 * (interp for providers and normalizers, cli for loading) reach it with
 * arrows pointing down; it knows nothing of them.
 *
 * Every call into a plugin goes through a wrapper that names the plugin
 * and what it was doing: errors are wrapped as "plugin 'NAME': step X:
 * ...", and a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT)
 * while the call runs writes "sluice: plugin 'NAME' crashed (SIGSEGV) in
 * step X" to stderr before the process dies of it (docs/plugins.md, "When
 * a plugin crashes"). Plugins are never unloaded: steps, providers and
 * the registry point into them until the process ends.
 *
 * Limits: SL_PLUGINS_MAX plugins, SL_PLUGIN_PROVIDERS_MAX providers and
 * SL_PLUGIN_NORMALIZERS_MAX normalizers in all.
 */
#ifndef SLUICE_PIPELINE_PLUGIN_HOST_H
#define SLUICE_PIPELINE_PLUGIN_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/plugin.h"
#include "sluice/value.h"

/** Most plugins a process loads. */
#define SL_PLUGINS_MAX 32
/** Most value providers all plugins register. */
#define SL_PLUGIN_PROVIDERS_MAX 64
/** Most normalizers all plugins register. */
#define SL_PLUGIN_NORMALIZERS_MAX 32

/**
 * Load the plugin at `path` (a file path; a name without '/' is taken
 * relative to the working directory, not searched) and run its init with
 * `config` (an object, or NULL). `from` says where it was asked for, for
 * messages ("--plugin", "nodestream.yaml:12:5"). Loading the same file
 * twice is a no-op. 0, or -1 with an error naming the plugin and, for an
 * API version mismatch, both versions.
 */
int sl_plugin_load(const char *path, const char *from,
                   const struct sl_value *config);

/** Number of plugins loaded. */
size_t sl_plugin_count(void);

/** "name version (path)" of loaded plugin `i`, for logs. */
const char *sl_plugin_describe(size_t i);

/** Whether `tag` ("!shout") is a plugin's value provider. */
bool sl_plugin_tag_known(const char *tag);

/** A plugin's value provider (opaque). */
struct sl_plugin_prov;

/** The plugin provider of `tag`, or NULL. */
const struct sl_plugin_prov *sl_plugin_prov_find(const char *tag);

/** "plugin 'NAME'" of the plugin that registered `p`. */
const char *sl_plugin_prov_owner(const struct sl_plugin_prov *p);

/**
 * Run `p`'s compile on `args` (the static arguments; nested providers
 * null) into *state. `what` names the place for messages. 0, or -1 with
 * an error naming the plugin.
 */
int sl_plugin_prov_compile(const struct sl_plugin_prov *p,
                           const struct sl_value *args, const char *what,
                           void **state);

/**
 * Evaluate `p` for `doc` with the arguments `args`, results in `a`; *out
 * is null for no value. Safe on several threads at once as far as the
 * plugin's eval is. 0, or -1 with an error naming the plugin.
 */
int sl_plugin_prov_eval(const struct sl_plugin_prov *p, void *state,
                        const struct sl_value *args, const struct sl_value *doc,
                        struct sl_arena *a, struct sl_value *out);

/** Free a provider's state (through the plugin's destroy). */
void sl_plugin_prov_destroy(const struct sl_plugin_prov *p, void *state);

/**
 * The index of the plugin normalizer named n bytes at `name`, or -1.
 * Normalizer codes of src/interp/norm.c put it after their own.
 */
int sl_plugin_norm_find(const char *name, size_t n);

/** The name of plugin normalizer `i`. */
const char *sl_plugin_norm_name(int i);

/** Number of plugin normalizers. */
int sl_plugin_norm_count(void);

/**
 * Apply plugin normalizer `i` to `v` (strings only; others unchanged),
 * new text in `a`. 0, or -1 with an error naming the plugin.
 */
int sl_plugin_norm_apply(int i, struct sl_value *v, struct sl_arena *a);

/** Most graph targets all plugins register. */
#define SL_PLUGIN_TARGETS_MAX 8

/** A plugin's graph target (opaque). */
struct sl_plugin_target_kind;

/** Number of plugin graph targets registered. */
size_t sl_plugin_target_count(void);

/** Plugin graph target `i` (in registration order), or NULL. */
const struct sl_plugin_target_kind *sl_plugin_target_at(size_t i);

/** The plugin graph target whose scheme starts `uri`, or NULL. */
const struct sl_plugin_target_kind *sl_plugin_target_find(const char *uri);

/** Its scheme ("memgraph:"). */
const char *sl_plugin_target_scheme(const struct sl_plugin_target_kind *k);

/** How its URIs are written. */
const char *sl_plugin_target_usage(const struct sl_plugin_target_kind *k);

/** "plugin 'NAME' target SCHEME", the store's name in messages. */
const char *sl_plugin_target_name(const struct sl_plugin_target_kind *k);

/** Open `uri` with target `k` into *store. 0, or -1 naming the plugin. */
int sl_plugin_target_open(const struct sl_plugin_target_kind *k,
                          const char *uri, void **store);

/**
 * Write the arrays of node and relationship writes `nodes` and `rels`
 * (objects as sluice/plugin.h describes them) to `store`, values made in
 * `a`; *counts gets what the plugin reports. 0, or -1 naming the plugin.
 */
int sl_plugin_target_write(const struct sl_plugin_target_kind *k, void *store,
                           const struct sl_value *nodes,
                           const struct sl_value *rels, struct sl_arena *a,
                           struct sl_plugin_write_counts *counts);

/** Close `store`. 0, or -1 naming the plugin. */
int sl_plugin_target_close(const struct sl_plugin_target_kind *k, void *store);

#endif /* SLUICE_PIPELINE_PLUGIN_HOST_H */
