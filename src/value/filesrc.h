/*
 * A byte source over a local file (internal to the value layer).
 */
#ifndef SLUICE_VALUE_FILESRC_H
#define SLUICE_VALUE_FILESRC_H

#include <stdint.h>

#include "sluice/source.h"

/** An open file read from start to end. */
struct sl_file_source {
	/** The descriptor, or -1 when closed. */
	int fd;
	/** The path as given (owned). */
	char *path;
	/** Bytes read so far. */
	uint64_t offset;
};

/**
 * Open `path` for reading (O_RDONLY | O_CLOEXEC). Returns 0, or -1 with
 * SL_ESYSTEM naming the path or SL_EOOM; `f` then holds nothing.
 */
int sl_file_source_open(struct sl_file_source *f, const char *path);

/** Close the file and free the path. Closing twice is harmless. */
void sl_file_source_close(struct sl_file_source *f);

/**
 * The sl_read_fn of a file (`ctx` is the struct sl_file_source): a
 * blocking read() retried on EINTR; errors name the path and the offset.
 */
ssize_t sl_file_source_read(void *ctx, char *buf, size_t size);

/** A source reading from `f`, named by its path. */
struct sl_source sl_file_source_get(struct sl_file_source *f);

#endif /* SLUICE_VALUE_FILESRC_H */
