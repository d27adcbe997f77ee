/*
 * sluice: region allocator. Allocations are bump-pointer from chunks and
 * are freed all at once by reset or destroy. A hard cap bounds the bytes an
 * arena may hold; going past it is an SL_ELIMIT error, never silent growth.
 */
#ifndef SLUICE_ARENA_H
#define SLUICE_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sl_arena_chunk;

/** A region allocator (caller-owned; see sl_arena_create()). */
struct sl_arena {
	/** Chunk being filled; older chunks follow through ->prev. */
	struct sl_arena_chunk *head;
	/** Default chunk payload size in bytes. */
	size_t chunk_size;
	/** Bytes of chunks currently held (payload and headers). */
	size_t reserved;
	/** Hard cap on `reserved`. */
	size_t cap;
	/** Bytes handed out since the last reset. */
	size_t used;
};

/**
 * Initialise an arena that grows in chunks of `chunk_size` bytes and never
 * holds more than `cap` bytes. Allocates nothing yet; cannot fail.
 */
void sl_arena_create(struct sl_arena *a, size_t chunk_size, size_t cap);

/** Free every chunk. */
void sl_arena_destroy(struct sl_arena *a);

/**
 * Forget every allocation. The newest chunk is kept for reuse, the others
 * are freed, so a recycled arena does not allocate again.
 */
void sl_arena_reset(struct sl_arena *a);

/**
 * `size` bytes aligned to 16, or NULL with SL_EOOM or SL_ELIMIT in the diag.
 */
void *sl_arena_alloc(struct sl_arena *a, size_t size);

/** `size` bytes aligned to `align` (a power of two up to 4096), or NULL. */
void *sl_arena_alloc_aligned(struct sl_arena *a, size_t size, size_t align);

/** A copy of `n` bytes of `s` plus a terminating NUL, or NULL. */
char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n);

/** Bytes handed out since the last reset. */
static inline size_t
sl_arena_used(const struct sl_arena *a)
{
	return a->used;
}

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_ARENA_H */
