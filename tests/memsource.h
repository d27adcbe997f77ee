/*
 * An in-memory byte source (struct sl_source) for tests and fuzz targets.
 * It hands out a buffer at most `step` bytes per read, records the largest
 * read asked for and the reads made, and can fail with an error once a given
 * number of bytes has been handed out. Header-only: tests and fuzz/ include it
 * with tests/ on the include path; it needs sluice_core for the diag.
 */
#ifndef SLUICE_TESTS_MEMSOURCE_H
#define SLUICE_TESTS_MEMSOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "sluice/diag.h"
#include "sluice/source.h"

/** A buffer read through struct sl_source; start from memsource_init(). */
struct memsource {
	/** The input. */
	const char *data;
	/** Input bytes. */
	size_t len;
	/** Bytes handed out so far. */
	size_t pos;
	/** Bytes per read at most (0: as many as asked). */
	size_t step;
	/** Fail every read once `pos` reaches this (SIZE_MAX: never). */
	size_t fail_at;
	/** Code of the injected error (default SL_EIO). */
	enum sl_errcode fail_code;
	/** Largest size a read asked for. */
	size_t max_ask;
	/** Reads made, failed ones included. */
	unsigned long reads;
};

/**
 * Prepare `m` to hand out `len` bytes of `data` (NULL when `len` is 0), at
 * most `step` per read (0: unlimited), never failing.
 */
static inline void
memsource_init(struct memsource *m, const void *data, size_t len, size_t step)
{
	m->data = data;
	m->len = len;
	m->pos = 0;
	m->step = step;
	m->fail_at = SIZE_MAX;
	m->fail_code = SL_EIO;
	m->max_ask = 0;
	m->reads = 0;
}

/**
 * The sl_read_fn of a struct memsource (`ctx`): the next bytes, 0 at the
 * end, or -1 with "disk on fire" in the diag once `fail_at` is reached.
 */
static inline ssize_t
memsource_read(void *ctx, char *buf, size_t size)
{
	struct memsource *m = ctx;
	m->reads++;
	if (size > m->max_ask)
		m->max_ask = size;
	if (m->pos >= m->fail_at) {
		sl_diag_set(m->fail_code, "disk on fire");
		return -1;
	}
	size_t n = m->len - m->pos;
	if (n > size)
		n = size;
	if (m->step != 0 && n > m->step)
		n = m->step;
	if (n > 0)
		memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

/** A source reading from `m`, named `name` in error messages. */
static inline struct sl_source
memsource_source(struct memsource *m, const char *name)
{
	struct sl_source src = {memsource_read, m, name};
	return src;
}

#endif /* SLUICE_TESTS_MEMSOURCE_H */
