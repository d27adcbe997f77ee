/*
 * sluice: a byte source that streaming readers pull from (a file, a
 * decompressor, stdin, a buffer in tests).
 */
#ifndef SLUICE_SOURCE_H
#define SLUICE_SOURCE_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Read up to `size` bytes into `buf`. Returns the count (> 0), 0 at the
 * end, or -1 with an error in the diag. May suspend the calling task.
 */
typedef ssize_t (*sl_read_fn)(void *ctx, char *buf, size_t size);

/** A byte source (caller-owned). */
struct sl_source {
	/** Reads the next bytes. */
	sl_read_fn read;
	/** Argument of `read`. */
	void *ctx;
	/** Name used in error messages, e.g. the file path. */
	const char *name;
};

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_SOURCE_H */
