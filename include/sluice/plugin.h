/*
 * sluice: the plugin API (version SL_PLUGIN_ABI_VERSION).
 *
 * A plugin is a shared object that adds step types (extractors,
 * transformers, filters, writers), value providers (`!tags` of the
 * Interpreter), normalizers and graph targets (a URI scheme and the store
 * behind it) to sluice. It is loaded by `sluice run
 * --plugin PATH` or from the project file's `plugins:` list
 * (docs/plugins.md). This header is all a plugin includes: it does not
 * include other sluice headers, and a plugin links against nothing of
 * sluice. Everything it calls comes through the function table `struct
 * sl_plugin_host` that sluice passes to its entry point, so the plugin
 * never sees sluice's internal types or their layout.
 *
 * A plugin exports two symbols:
 *
 *   SL_PLUGIN_DECLARE("name", "1.0", "what it adds");
 *   SL_PLUGIN_EXPORT int sluice_plugin_init(const struct sl_plugin_host *h);
 *
 * The first is a constant, `sluice_plugin_info`, that sluice reads before
 * it calls anything: a plugin whose `abi_version` is not sluice's is
 * refused with a message naming both versions, and its code never runs.
 * Then sluice calls `sluice_plugin_init`, which registers what the plugin
 * adds with h->add_step(), h->add_provider(), h->add_normalizer() and
 * h->add_target() and
 * returns 0, or -1 after h->error() to refuse to load.
 *
 * Values. Records, arguments and results are `sl_pval`, an opaque value
 * (null, bool, integer, float, string, array or object) read through the
 * h->type() ... h->field() accessors and made through h->make_*() in the
 * memory of the current call (`struct sl_plugin_ctx`). A value a plugin
 * receives is valid for the call it was given to; a value it makes is
 * valid until the call returns, and in a step until the next h->emit().
 * Strings are UTF-8 with a length and are NOT NUL-terminated.
 *
 * Errors. A callback returns 0, or -1 after h->error(): sluice reports the
 * message with the plugin's name ("plugin 'sample': step sample:Countdown:
 * ..."). A step may also report a record it skips with h->skip() and go
 * on.
 *
 * Threads. Step callbacks and target calls run on the loop thread, one
 * at a time per step or store.
 * A provider's `eval` and a normalizer's `apply` may run on several
 * worker threads at once (the Interpreter runs on `--threads N`): they
 * must only read what `compile` or `init` set up. Registration happens
 * in sluice_plugin_init, on the main thread, before any pipeline is
 * loaded.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The version of this API. Any change to a struct or a function of this
 * header changes it; sluice loads only plugins built with its own.
 */
#define SL_PLUGIN_ABI_VERSION 1

/** Marks a symbol sluice looks up (visible even with -fvisibility=hidden). */
#define SL_PLUGIN_EXPORT __attribute__((visibility("default")))

/** The name of the symbol holding a plugin's struct sl_plugin_info. */
#define SL_PLUGIN_INFO_SYMBOL "sluice_plugin_info"

/** The name of a plugin's entry point (a sl_plugin_init_fn). */
#define SL_PLUGIN_INIT_SYMBOL "sluice_plugin_init"

/**
 * What a plugin says about itself; read before any of its code runs. Its
 * first three members keep their place in every version of this API, so
 * that sluice can name a plugin built for another version when it
 * refuses it.
 */
struct sl_plugin_info {
	/** SL_PLUGIN_ABI_VERSION of the header the plugin was built with. */
	uint32_t abi_version;
	/** sizeof(struct sl_plugin_info) as the plugin was built. */
	uint32_t info_size;
	/** The plugin's name, used in every message about it. */
	const char *name;
	/** The plugin's own version, for messages and `sluice run -v`. */
	const char *version;
	/** One line saying what it adds. */
	const char *summary;
};

/**
 * Define the plugin's sluice_plugin_info (once, at file scope); the
 * declaration below makes it exported.
 */
#define SL_PLUGIN_DECLARE(NAME, VERSION, SUMMARY)                             \
	const struct sl_plugin_info sluice_plugin_info = {                    \
	        SL_PLUGIN_ABI_VERSION, sizeof(struct sl_plugin_info), (NAME), \
	        (VERSION), (SUMMARY)}

/** A value (opaque): read it with the host's accessors. */
typedef struct sl_pval sl_pval;

/**
 * The context of one call into the plugin (opaque): the memory values
 * are made in and, for a step, where emitted records go.
 */
struct sl_plugin_ctx;

struct sl_plugin_host;

/** The entry point: register what the plugin adds. 0, or -1 with an error. */
typedef int (*sl_plugin_init_fn)(const struct sl_plugin_host *h);

/**
 * The two symbols a plugin defines (declared here with C linkage, so that
 * a C++ plugin's definitions are found too; sluice itself defines
 * neither): its info (SL_PLUGIN_DECLARE()) and its entry point.
 */
SL_PLUGIN_EXPORT extern const struct sl_plugin_info sluice_plugin_info;

/** The plugin's entry point (see the file comment). */
SL_PLUGIN_EXPORT int sluice_plugin_init(const struct sl_plugin_host *h);

/** The type of a value. */
enum sl_pval_type {
	SL_PVAL_NULL = 0, /**< null (also what a missing value reads as) */
	SL_PVAL_BOOL,     /**< true or false */
	SL_PVAL_INT,      /**< a 64-bit signed integer */
	SL_PVAL_FLOAT,    /**< a double */
	SL_PVAL_STRING,   /**< UTF-8 text */
	SL_PVAL_ARRAY,    /**< a list of values */
	SL_PVAL_OBJECT,   /**< ordered key/value members */
};

/** Log levels of h->log(). */
enum sl_plugin_log_level {
	SL_PLUGIN_LOG_ERROR = 0, /**< something failed */
	SL_PLUGIN_LOG_WARN,      /**< something is off but the run goes on */
	SL_PLUGIN_LOG_INFO,      /**< shown with -v */
	SL_PLUGIN_LOG_DEBUG,     /**< shown with -vv */
};

/**
 * A step type. One struct serves every kind of step: an extractor emits
 * its records in `drain` (it has no input); a transformer emits what it
 * makes of each input in `process`; a filter emits the inputs it keeps; a
 * writer consumes its input in `process` and makes it durable in `finish`.
 * Every callback but `create` is optional.
 */
struct sl_plugin_step {
	/**
	 * The implementation name pipeline files use, e.g.
	 * "sample:Countdown"; it must not clash with a built-in step's.
	 */
	const char *name;
	/** One line saying what the step does (for help and listings). */
	const char *summary;
	/** Passed to `create` as it is (the plugin's own data, or NULL). */
	void *data;
	/**
	 * Build a step from its pipeline-file `arguments` (an object, or
	 * null when there are none): set *state to the step's own data.
	 * Bad arguments: h->error() naming the argument, return -1.
	 */
	int (*create)(void *data, const sl_pval *args, struct sl_plugin_ctx *cx,
	              void **state);
	/** Runs once before any record (open files, connect). */
	int (*start)(void *state, struct sl_plugin_ctx *cx);
	/**
	 * Handles one input record: emit 0..N records with h->emit(). NULL:
	 * the input passes on unchanged.
	 */
	int (*process)(void *state, const sl_pval *rec,
	               struct sl_plugin_ctx *cx);
	/** After the input ended: emit what is outstanding (an extractor
	 * emits everything here). */
	int (*drain)(void *state, struct sl_plugin_ctx *cx);
	/** Runs last, always, also after an error or a stop. */
	int (*finish)(void *state, struct sl_plugin_ctx *cx);
	/** Frees `state` (also for a step that never ran). */
	void (*destroy)(void *state);
};

/**
 * A value provider, written `!tag` in pipeline files. Its argument is
 * a scalar, a list, or a mapping whose values may themselves be providers
 * (`!shout {data: !jmespath name}`): those are evaluated per record by
 * sluice and given to `eval` in `args`.
 */
struct sl_plugin_provider {
	/** The tag with its '!', e.g. "!shout"; must not be a built-in's. */
	const char *tag;
	/** Passed to `compile` as it is. */
	void *data;
	/**
	 * Check the arguments once, when the pipeline is loaded, and set
	 * *state (the provider's read-only data). In `args` every nested
	 * provider reads as null. -1 after h->error() refuses the pipeline.
	 * NULL: nothing to check, state NULL.
	 */
	int (*compile)(void *data, const sl_pval *args,
	               struct sl_plugin_ctx *cx, void **state);
	/**
	 * The value for one record: `args` with the nested providers
	 * evaluated for this record, `doc` the record (or the value being
	 * iterated). Set *out to a value made through `cx`, a part of `args`
	 * or `doc`, or NULL for no value (null). As Nodestream's many_values
	 * the provider's many values are *out's items when it is an array,
	 * else *out alone. May run on several threads at once.
	 */
	int (*eval)(void *state, const sl_pval *args, const sl_pval *doc,
	            struct sl_plugin_ctx *cx, const sl_pval **out);
	/** Frees `state` (NULL: nothing to free). */
	void (*destroy)(void *state);
};

/**
 * A normalizer, used as Nodestream's are: `!normalize {using: NAME, data:
 * ...}`, or the flag `do_NAME: true` of an interpretation's
 * `normalization`. It applies to strings only; other values pass through.
 */
struct sl_plugin_normalizer {
	/** Its name, e.g. "strip_dashes"; must not be a built-in's. */
	const char *name;
	/** Passed to `apply` as it is. */
	void *data;
	/**
	 * Normalize the string s[0, len): set *out to the result, made
	 * through `cx` (or NULL to keep the string). May run on several
	 * threads at once.
	 */
	int (*apply)(void *data, const char *s, size_t len,
	             struct sl_plugin_ctx *cx, const sl_pval **out);
};

/** What a target's `write` reports: the writes it made durable. */
struct sl_plugin_write_counts {
	/** Nodes created. */
	uint64_t nodes_created;
	/** Node writes that found their node (merged into it). */
	uint64_t nodes_updated;
	/** MATCH_ONLY or FUZZY node writes that found no node. */
	uint64_t nodes_unmatched;
	/** Relationships created. */
	uint64_t rels_created;
	/** Relationship writes that found their relationship. */
	uint64_t rels_updated;
	/** Relationship writes skipped: an end node does not exist. */
	uint64_t rels_skipped;
};

/**
 * A graph target: a store that `sluice run -t SCHEME...` writes to,
 * through sluice's graph writer (which batches, deduplicates and merges
 * the Interpreter's output first). A target offers no TTL, migrations,
 * export or checkpoint positions: those commands fail naming it.
 *
 * Each node write handed to `write` is an object {"type": string, "key":
 * object (keys sorted), "labels": [string], "props": object (a null
 * value removes the property), "rule": "EAGER" | "MATCH_ONLY" | "FUZZY"};
 * each relationship write {"type", "from": {"type", "key"}, "to":
 * {"type", "key"}, "key": object, "props": object, "rule": "EAGER" |
 * "MERGE_KEY" | "CREATE"} (Nodestream's creation rules). A batch holds
 * one write per identity; its nodes are to be written before its
 * relationships, which may refer to them.
 */
struct sl_plugin_target {
	/**
	 * The URI prefix it opens, with its ':' (e.g. "memgraph:"); it must
	 * not be a built-in target's.
	 */
	const char *scheme;
	/** How its URIs are written, for messages ("memgraph:HOST:PORT"). */
	const char *usage;
	/** Passed to `open` as it is. */
	void *data;
	/** Open the store at `uri` (the whole URI): set *store. */
	int (*open)(void *data, const char *uri, struct sl_plugin_ctx *cx,
	            void **store);
	/**
	 * Write a batch: `nodes` and `rels` are arrays of writes (above).
	 * Make them durable before returning, and count them in *counts
	 * (zeroed before). -1 after h->error(): the run fails, with the
	 * batches written before kept.
	 */
	int (*write)(void *store, const sl_pval *nodes, const sl_pval *rels,
	             struct sl_plugin_ctx *cx,
	             struct sl_plugin_write_counts *counts);
	/** Close the store and free it (also after a failed write). */
	int (*close)(void *store, struct sl_plugin_ctx *cx);
};

/**
 * What sluice offers a plugin. A plugin gets one table for its lifetime;
 * every function pointer is set.
 */
struct sl_plugin_host {
	/** SL_PLUGIN_ABI_VERSION of the sluice that loaded the plugin. */
	uint32_t abi_version;
	/** sizeof(struct sl_plugin_host) in that sluice. */
	uint32_t host_size;
	/** The plugin's name (its sl_plugin_info name). */
	const char *plugin_name;
	/**
	 * The plugin's `config:` from the project file (an object), or
	 * null when it has none or was loaded with --plugin.
	 */
	const sl_pval *config;

	/* --- registration (only in sluice_plugin_init) --------------- */

	/**
	 * Register a step type. `t` is kept, not copied: it must live as
	 * long as the plugin (a static constant). 0, or -1 (the name is
	 * taken, or the registry is full) with an error.
	 */
	int (*add_step)(const struct sl_plugin_host *h,
	                const struct sl_plugin_step *t);
	/** Register a value provider (kept as `add_step` keeps). 0, or -1. */
	int (*add_provider)(const struct sl_plugin_host *h,
	                    const struct sl_plugin_provider *p);
	/** Register a normalizer (kept as `add_step` keeps). 0, or -1. */
	int (*add_normalizer)(const struct sl_plugin_host *h,
	                      const struct sl_plugin_normalizer *n);
	/** Register a graph target (kept as `add_step` keeps). 0, or -1. */
	int (*add_target)(const struct sl_plugin_host *h,
	                  const struct sl_plugin_target *t);

	/* --- errors and logs ----------------------------------------- */

	/**
	 * Set the error of the current call (printf format); the callback
	 * then returns -1. sluice prefixes it with the plugin's name and what
	 * failed. Returns -1, for `return h->error(h, "...")`.
	 */
	int (*error)(const struct sl_plugin_host *h, const char *fmt, ...)
	        __attribute__((format(printf, 2, 3)));
	/**
	 * In a step's `process`: skip the input record with this reason
	 * (counted and shown in the summary, with the record's origin) and
	 * go on; the callback returns 0.
	 */
	void (*skip)(struct sl_plugin_ctx *cx, const char *fmt, ...)
	        __attribute__((format(printf, 2, 3)));
	/** Log a line prefixed with the plugin's name (printf format). */
	void (*log)(const struct sl_plugin_host *h, enum sl_plugin_log_level lv,
	            const char *fmt, ...) __attribute__((format(printf, 3, 4)));

	/* --- reading values (NULL reads as null) ---------------------- */

	/** The value's type. */
	enum sl_pval_type (*type)(const sl_pval *v);
	/** A bool's value (false for any other type). */
	bool (*as_bool)(const sl_pval *v);
	/** A number as an integer: 0, or -1 if `v` is not an integral number.
	 */
	int (*as_int)(const sl_pval *v, int64_t *out);
	/** A number as a double: 0, or -1 if `v` is not a number. */
	int (*as_float)(const sl_pval *v, double *out);
	/** A string's bytes and length, or NULL if `v` is not a string. */
	const char *(*as_string)(const sl_pval *v, size_t *len);
	/** Items of an array or members of an object (0 for the others). */
	size_t (*length)(const sl_pval *v);
	/** Item `i` of an array, or value of member `i` of an object; NULL
	 * past the end. */
	const sl_pval *(*item)(const sl_pval *v, size_t i);
	/** Key of member `i` of an object and its length, or NULL. */
	const char *(*key)(const sl_pval *v, size_t i, size_t *len);
	/** The value of an object's member `name` (NUL-terminated; the last
	 * of duplicates), or NULL. */
	const sl_pval *(*field)(const sl_pval *v, const char *name);

	/* --- making values (NULL on failure, with the error set) ------ */

	/** The null value. */
	const sl_pval *(*make_null)(struct sl_plugin_ctx *cx);
	/** A bool. */
	const sl_pval *(*make_bool)(struct sl_plugin_ctx *cx, bool b);
	/** An integer. */
	const sl_pval *(*make_int)(struct sl_plugin_ctx *cx, int64_t i);
	/** A double (NaN and infinities are values a store may refuse). */
	const sl_pval *(*make_float)(struct sl_plugin_ctx *cx, double d);
	/** A string holding a copy of s[0, len) (UTF-8). */
	const sl_pval *(*make_string)(struct sl_plugin_ctx *cx, const char *s,
	                              size_t len);
	/** An array of copies of the `n` values `items`. */
	const sl_pval *(*make_array)(struct sl_plugin_ctx *cx,
	                             const sl_pval *const *items, size_t n);
	/**
	 * An object of `n` members: keys[i] (NUL-terminated, copied) with a
	 * copy of vals[i], in that order.
	 */
	const sl_pval *(*make_object)(struct sl_plugin_ctx *cx,
	                              const char *const *keys,
	                              const sl_pval *const *vals, size_t n);
	/**
	 * The JSON text of `v` (NUL-terminated, keys in their order; NaN
	 * and infinities as Python writes them), made through `cx`; *len
	 * (if not NULL) gets its length. NULL with an error.
	 */
	const char *(*to_json)(struct sl_plugin_ctx *cx, const sl_pval *v,
	                       size_t *len);
	/** The value of JSON text s[0, len); NULL with an error if invalid. */
	const sl_pval *(*parse_json)(struct sl_plugin_ctx *cx, const char *s,
	                             size_t len);

	/* --- steps ----------------------------------------------------- */

	/**
	 * Emit a record (copied) downstream. May suspend while the next
	 * step's outbox is full (backpressure); values made through `cx`
	 * before are released. 0, or -1 when the run stops (the downstream
	 * steps ended, a signal, an error): the callback must then return -1
	 * at once.
	 */
	int (*emit)(struct sl_plugin_ctx *cx, const sl_pval *rec);
	/**
	 * Set where the records emitted next come from ("file", line), for
	 * messages about them; `src` is copied. Extractors call it.
	 */
	void (*set_origin)(struct sl_plugin_ctx *cx, const char *src,
	                   uint64_t line);
};

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_PLUGIN_H */
