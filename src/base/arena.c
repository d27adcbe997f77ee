/*
 * Region allocator with a hard cap.
 */
#include "sluice/arena.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

/** A chunk header; the payload follows it. */
struct sl_arena_chunk {
	/** The chunk filled before this one. */
	struct sl_arena_chunk *prev;
	/** Payload bytes. */
	size_t size;
	/** Start of the payload, aligned for any allocation. */
	_Alignas(16) unsigned char data[];
};

void
sl_arena_create(struct sl_arena *a, size_t chunk_size, size_t cap)
{
	a->head = NULL;
	a->chunk_size = chunk_size < 256 ? 256 : chunk_size;
	a->reserved = 0;
	a->cap = cap;
	a->used = 0;
	a->cur = a->end = NULL;
	a->spare = NULL;
	a->keep = 0;
}

void
sl_arena_set_keep(struct sl_arena *a, size_t bytes)
{
	a->keep = bytes;
}

/**
 * Bytes of the block of a chunk of `payload` bytes: a default-sized
 * chunk's block is whole pages from sl_pages_alloc(), which keeps freed
 * blocks for other arenas and backs them with huge pages; 0 for a chunk
 * from sl_malloc() (one larger allocation).
 */
static size_t
chunk_block(const struct sl_arena *a, size_t payload)
{
	size_t total = sizeof(struct sl_arena_chunk) + payload;
	size_t pages = (total + 4095) & ~(size_t)4095;
	return payload == a->chunk_size && pages <= SL_PAGES_MAX ? pages : 0;
}

/** Free chunks from `c` down the ->prev chain. */
static void
free_chunks(struct sl_arena *a, struct sl_arena_chunk *c)
{
	while (c != NULL) {
		struct sl_arena_chunk *prev = c->prev;
		a->reserved -= sizeof(*c) + c->size;
		size_t block = chunk_block(a, c->size);
		if (block != 0)
			sl_pages_free(c, block);
		else
			sl_free(c);
		c = prev;
	}
}

void
sl_arena_destroy(struct sl_arena *a)
{
	free_chunks(a, a->head);
	free_chunks(a, a->spare);
	a->head = a->spare = NULL;
	a->used = 0;
	a->cur = a->end = NULL;
	assert(a->reserved == 0);
}

void
sl_arena_adopt(struct sl_arena *a, struct sl_arena *from)
{
	/* A chunk's block is told by its size (chunk_block()). */
	assert(a->chunk_size == from->chunk_size);
	/* Spares hold nothing: they go back rather than change hands. */
	free_chunks(from, from->spare);
	from->spare = NULL;
	struct sl_arena_chunk *c = from->head;
	if (c != NULL) {
		if (a->head == NULL) {
			/* `from`'s newest chunk goes on being filled. */
			a->head = c;
			a->cur = from->cur;
			a->end = from->end;
		} else {
			/* Behind a's newest chunk, in their own order. */
			struct sl_arena_chunk *oldest = c;
			while (oldest->prev != NULL)
				oldest = oldest->prev;
			oldest->prev = a->head->prev;
			a->head->prev = c;
		}
	}
	a->reserved += from->reserved;
	a->used += from->used;
	from->head = NULL;
	from->cur = from->end = NULL;
	from->reserved = 0;
	from->used = 0;
}

void
sl_arena_reset(struct sl_arena *a)
{
	if (a->head != NULL) {
		size_t kept = 0;
		for (struct sl_arena_chunk *s = a->spare; s != NULL;
		     s = s->prev)
			kept += sizeof(*s) + s->size;
		struct sl_arena_chunk *c = a->head->prev;
		while (c != NULL) {
			struct sl_arena_chunk *prev = c->prev;
			size_t total = sizeof(*c) + c->size;
			if (c->size == a->chunk_size &&
			    kept + total <= a->keep) {
				c->prev = a->spare;
				a->spare = c;
				kept += total;
			} else {
				c->prev = NULL;
				free_chunks(a, c);
			}
			c = prev;
		}
		a->head->prev = NULL;
		a->cur = a->head->data;
		a->end = a->head->data + a->head->size;
	}
	a->used = 0;
}

size_t
sl_arena_room(const struct sl_arena *a)
{
	size_t head = 0;
	if (a->cur != NULL) {
		uintptr_t at = ((uintptr_t)a->cur + 15) & ~(uintptr_t)15;
		if (at <= (uintptr_t)a->end)
			head = (size_t)((uintptr_t)a->end - at);
	}
	size_t hdr = sizeof(struct sl_arena_chunk);
	size_t fresh = a->reserved < a->cap && a->cap - a->reserved > hdr
	                       ? a->cap - a->reserved - hdr
	                       : 0;
	return head > fresh ? head : fresh;
}

void *
sl_arena_alloc_grow(struct sl_arena *a, size_t size, size_t align)
{
	assert(align > 0 && (align & (align - 1)) == 0 && align <= 4096);
	struct sl_arena_chunk *c;
	/* A new chunk, big enough for this allocation and its alignment. */
	size_t need = size + (align > 16 ? align : 0);
	if (need < size) {
		sl_diag_set(SL_ELIMIT,
		            "arena allocation of %zu bytes is too large", size);
		return NULL;
	}
	size_t payload = need > a->chunk_size ? need : a->chunk_size;
	size_t total = sizeof(struct sl_arena_chunk) + payload;
	if (payload == a->chunk_size && a->spare != NULL) {
		c = a->spare;
		a->spare = c->prev;
		c->prev = a->head;
		a->head = c;
		uintptr_t base = (uintptr_t)c->data;
		size_t off =
		        ((base + align - 1) & ~(uintptr_t)(align - 1)) - base;
		a->cur = c->data + off + size;
		a->end = c->data + payload;
		a->used += size;
		return c->data + off;
	}
	if (total < payload || a->reserved > a->cap ||
	    total > a->cap - a->reserved) {
		sl_diag_set(SL_ELIMIT,
		            "arena cap of %zu bytes reached (holding %zu, "
		            "asked for %zu more)",
		            a->cap, a->reserved, size);
		return NULL;
	}
	size_t block = chunk_block(a, payload);
	c = block != 0 ? sl_pages_alloc(block) : sl_malloc(total);
	if (c == NULL) {
		sl_diag_set(SL_EOOM,
		            "out of memory allocating an arena chunk "
		            "of %zu bytes",
		            total);
		return NULL;
	}
	c->prev = a->head;
	c->size = payload;
	a->head = c;
	a->reserved += total;
	uintptr_t base = (uintptr_t)c->data;
	size_t off = ((base + align - 1) & ~(uintptr_t)(align - 1)) - base;
	a->cur = c->data + off + size;
	a->end = c->data + payload;
	a->used += size;
	return c->data + off;
}

void *
sl_arena_alloc(struct sl_arena *a, size_t size)
{
	return sl_arena_alloc_aligned(a, size, 16);
}

char *
sl_arena_strndup(struct sl_arena *a, const char *s, size_t n)
{
	if (n + 1 == 0) {
		sl_diag_set(SL_ELIMIT, "string too large");
		return NULL;
	}
	char *p = sl_arena_alloc_aligned(a, n + 1, 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
