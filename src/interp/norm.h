/*
 * sluice: normalizers (internal to interp), as Nodestream's.
 *
 * A normalization is an ordered list of normalizers, read from a mapping
 * of flags `{do_lowercase_strings: true, do_trim_whitespace: true}`. Each
 * applies to strings only; every other value, null included, passes
 * through. Unicode case mapping is the simple (one to one) mapping of the
 * C library's UTF-8 locale (C.UTF-8; ASCII has a fast path), so it
 * differs from Python's full mapping for a few characters (Python
 * upper-cases ß to SS, this keeps ß); trimming strips what Python's
 * str.strip() strips. The flag list keeps Nodestream's dict order:
 * overriding the default do_lowercase_strings keeps its place.
 *
 * A plugin's normalizers (sluice/plugin.h) are found by the same names
 * (`do_NAME`, `!normalize {using: NAME}`) after the built-in ones, and
 * applied through the plugin host; their errors name the plugin.
 */
#ifndef SLUICE_INTERP_NORM_H
#define SLUICE_INTERP_NORM_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/conf.h"
#include "sluice/value.h"

/** One normalizer. */
enum sl_norm_op {
	SL_NORM_LOWER = 1,     /**< lowercase_strings */
	SL_NORM_UPPER,         /**< uppercase_strings */
	SL_NORM_TRIM,          /**< trim_whitespace */
	SL_NORM_TRAILING_DOTS, /**< remove_trailing_dots */
	/**
	 * A plugin's normalizer: SL_NORM_PLUGIN + its index in the plugin
	 * host (src/pipeline/plugin_host.h), up to SL_NORM_PLUGIN_MAX of them.
	 */
	SL_NORM_PLUGIN = 32,
};

/** Most plugin normalizers a normalization can name. */
#define SL_NORM_PLUGIN_MAX 200

/** Most flags a normalization holds. */
#define SL_NORM_MAX 8

/** A normalization: flags in the order they were written. */
struct sl_norm {
	/** enum sl_norm_op, or 0 for a flag turned off. */
	uint8_t ops[SL_NORM_MAX];
	/** Flags in use. */
	uint8_t n;
};

/** The normalizer named `alias` ("lowercase_strings"), or 0. */
enum sl_norm_op sl_norm_by_alias(const char *alias, size_t n);

/**
 * Read the flags mapping `n` on top of `base` (copied first; NULL for
 * none) into `out`: a flag already in `base` keeps its place and takes the
 * new setting. NULL or null `n` leaves `base`. An unknown flag is an error
 * naming it and the valid ones.
 */
int sl_norm_parse(const struct sl_conf *n, const struct sl_norm *base,
                  const char *what, struct sl_norm *out);

/** Whether the normalization changes anything. */
bool sl_norm_active(const struct sl_norm *nm);

/**
 * Apply one normalizer to `v` (strings only). New strings go in `a`.
 * 0, or -1 (arena full).
 */
int sl_norm_apply_op(enum sl_norm_op op, struct sl_value *v,
                     struct sl_arena *a);

/** Apply every flag of `nm` in order. 0, or -1. */
int sl_norm_apply(const struct sl_norm *nm, struct sl_value *v,
                  struct sl_arena *a);

#endif /* SLUICE_INTERP_NORM_H */
