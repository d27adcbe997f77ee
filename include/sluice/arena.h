/*
 * sluice: region allocator. Allocations are bump-pointer from chunks and
 * are freed all at once by reset or destroy. A hard cap bounds the bytes an
 * arena may hold; going past it is an SL_ELIMIT error, never silent growth.
 */
#ifndef SLUICE_ARENA_H
#define SLUICE_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
	/** Next free byte of the head chunk (NULL before the first). */
	unsigned char *cur;
	/** End of the head chunk's payload. */
	unsigned char *end;
	/** Chunks kept by reset for reuse (default-sized only). */
	struct sl_arena_chunk *spare;
	/** Most bytes of chunks reset keeps besides the head (0: none). */
	size_t keep;
};

/**
 * Initialise an arena that grows in chunks of `chunk_size` bytes and never
 * holds more than `cap` bytes. Allocates nothing yet; cannot fail.
 */
void sl_arena_create(struct sl_arena *a, size_t chunk_size, size_t cap);

/** Free every chunk. */
void sl_arena_destroy(struct sl_arena *a);

/**
 * Take every chunk of `from` (an arena of a's chunk size) into `a`, to be freed
 * with a's own; `from` is left empty (as created, its chunk size, cap and keep
 * unchanged). What was allocated in `from` stays where it is; new allocations
 * go on in a's newest chunk. The chunks count against a's cap, which they may
 * pass: nothing is allocated.
 */
void sl_arena_adopt(struct sl_arena *a, struct sl_arena *from);

/**
 * Let reset keep up to `bytes` of default-sized chunks for reuse besides
 * the newest one, so an arena that is filled and reset over and over (a
 * batch) does not go back to malloc every time. They still count against
 * the cap.
 */
void sl_arena_set_keep(struct sl_arena *a, size_t bytes);

/**
 * Forget every allocation. The newest chunk is kept for reuse, and older
 * ones up to the keep limit (sl_arena_set_keep()); the others are freed.
 */
void sl_arena_reset(struct sl_arena *a);

/**
 * `size` bytes aligned to 16, or NULL with SL_EOOM or SL_ELIMIT in the diag.
 */
void *sl_arena_alloc(struct sl_arena *a, size_t size);

/**
 * sl_arena_alloc_aligned() when the head chunk has no room: takes a new
 * chunk. Callers use sl_arena_alloc_aligned().
 */
void *sl_arena_alloc_grow(struct sl_arena *a, size_t size, size_t align);

/** `size` bytes aligned to `align` (a power of two up to 4096), or NULL. */
static inline void *
sl_arena_alloc_aligned(struct sl_arena *a, size_t size, size_t align)
{
	uintptr_t at =
	        ((uintptr_t)a->cur + align - 1) & ~(uintptr_t)(align - 1);
	if (a->cur != NULL && at <= (uintptr_t)a->end &&
	    size <= (size_t)((uintptr_t)a->end - at)) {
		a->cur = (unsigned char *)(at + size);
		a->used += size;
		return (void *)at;
	}
	return sl_arena_alloc_grow(a, size, align);
}

/**
 * memcpy(d, s, n), with up to 16 bytes copied inline by two (possibly
 * overlapping) loads and stores: most strings of records, names and
 * identities are short, and a call to memcpy costs more than the copy.
 */
static inline void
sl_copy_bytes(void *dst, const void *src, size_t n)
{
	char *d = (char *)dst;
	const char *s = (const char *)src;
	if (n >= 8) {
		if (n > 16) {
			memcpy(d, s, n);
			return;
		}
		uint64_t x, y;
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
		memcpy(d, &x, 8);
		memcpy(d + n - 8, &y, 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n >= 2) {
		uint16_t x, y;
		memcpy(&x, s, 2);
		memcpy(&y, s + n - 2, 2);
		memcpy(d, &x, 2);
		memcpy(d + n - 2, &y, 2);
	} else if (n == 1) {
		d[0] = s[0];
	}
}

/** A copy of `n` bytes of `s` plus a terminating NUL, or NULL. */
char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n);

/**
 * The largest allocation the arena can still satisfy without passing its
 * cap: the rest of the head chunk or a new chunk, whichever is larger,
 * for an allocation aligned to 16 (a larger alignment may take a few
 * bytes of it). Buffers whose contents will end up in the arena take this
 * as their own cap, so that building a value never takes more memory
 * than the arena could hold.
 */
size_t sl_arena_room(const struct sl_arena *a);

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
