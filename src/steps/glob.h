/*
 * sluice: file globs as Nodestream's FileExtractor uses them (internal to
 * steps): `*`, `?` and `[...]` within one path segment, and `**` for any
 * number of directories (none included). Names starting with a dot match
 * only a pattern segment that starts with a dot; `**` does not enter
 * symbolic links to directories (no loops). Only regular files (after
 * following a final symbolic link) are results.
 */
#ifndef SLUICE_STEPS_GLOB_H
#define SLUICE_STEPS_GLOB_H

#include <stddef.h>

/** A sorted, duplicate-free list of paths. */
struct sl_paths {
	/** The paths (each malloc'd). */
	char **v;
	/** Number of paths. */
	size_t n;
	/** Capacity of `v`. */
	size_t cap;
};

/** Most paths one list may hold. */
#define SL_PATHS_MAX ((size_t)10 * 1000 * 1000)

/**
 * Add the regular files matching `pattern` to `out` (not sorted yet).
 * Unreadable directories are skipped. Returns the number of matches, or
 * -1 with SL_EOOM or SL_ELIMIT.
 */
long sl_glob(const char *pattern, struct sl_paths *out);

/** Sort the list by bytes and drop duplicates. */
void sl_paths_sort(struct sl_paths *p);

/** Free the paths. */
void sl_paths_destroy(struct sl_paths *p);

#endif /* SLUICE_STEPS_GLOB_H */
