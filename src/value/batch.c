/*
 * Record batches and their pool.
 */
#include "sluice/batch.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

/** Arena chunk size of a batch: room for typical records without growth. */
#define BATCH_ARENA_CHUNK (64 * 1024)

/** Bytes of chunks a recycled batch keeps besides its newest one. */
#define BATCH_ARENA_KEEP (256 * 1024)
/** Batches a pool keeps for reuse by default. */
#define POOL_MAX_FREE 64

void
sl_batch_pool_create(struct sl_batch_pool *p, uint32_t batch_size,
                     size_t arena_cap)
{
	p->batch_size = batch_size > 0 ? batch_size : 1;
	p->arena_cap = arena_cap;
	p->arena_chunk = BATCH_ARENA_CHUNK;
	sl_list_init(&p->free);
	p->n_free = 0;
	p->max_free = POOL_MAX_FREE;
	p->n_out = 0;
	p->shared = false;
}

void
sl_batch_pool_share(struct sl_batch_pool *p)
{
	if (p->shared)
		return;
	pthread_mutex_init(&p->lock, NULL);
	p->shared = true;
}

/** Take the pool's lock if it is shared. */
static inline void
pool_lock(struct sl_batch_pool *p)
{
	if (p->shared)
		pthread_mutex_lock(&p->lock);
}

/** Release the pool's lock if it is shared. */
static inline void
pool_unlock(struct sl_batch_pool *p)
{
	if (p->shared)
		pthread_mutex_unlock(&p->lock);
}

/**
 * Bytes of the block that holds the records and origins of a batch of
 * `n` records: whole pages, so that it comes from the huge-page regions
 * (sl_pages_alloc()), a fault per 2 MiB rather than per 4 KiB.
 */
static size_t
arrays_size(uint32_t n)
{
	size_t bytes = (size_t)n *
	               (sizeof(struct sl_value) + sizeof(struct sl_origin));
	return (bytes + 4095) & ~(size_t)4095;
}

/** Free a batch and its memory. */
static void
batch_free(struct sl_batch *b)
{
	sl_arena_destroy(&b->arena);
	sl_arena_destroy(&b->shape);
	sl_pages_free(b->records, arrays_size(b->cap));
	sl_free(b);
}

void
sl_batch_pool_destroy(struct sl_batch_pool *p)
{
	assert(p->n_out == 0);
	struct sl_list *l;
	while ((l = sl_list_first(&p->free)) != NULL) {
		sl_list_del(l);
		batch_free(sl_list_entry(l, struct sl_batch, link));
	}
	p->n_free = 0;
	if (p->shared) {
		pthread_mutex_destroy(&p->lock);
		p->shared = false;
	}
}

/** A batch from the free list or the allocator. */
static struct sl_batch *
batch_take(struct sl_batch_pool *p)
{
	pool_lock(p);
	struct sl_list *l = sl_list_first(&p->free);
	struct sl_batch *b = NULL;
	if (l != NULL) {
		sl_list_del(l);
		p->n_free--;
		p->n_out++;
		b = sl_list_entry(l, struct sl_batch, link);
	}
	pool_unlock(p);
	if (b == NULL) {
		b = sl_calloc(1, sizeof(*b));
		if (b == NULL) {
			sl_diag_set(SL_EOOM,
			            "out of memory allocating a batch");
			return NULL;
		}
		size_t size = arrays_size(p->batch_size);
		void *arrays = sl_pages_alloc(size);
		if (arrays == NULL) {
			sl_free(b);
			sl_diag_set(SL_EOOM,
			            "out of memory allocating a batch "
			            "of %u records",
			            p->batch_size);
			return NULL;
		}
		memset(arrays, 0, size);
		b->records = arrays;
		b->origins = (struct sl_origin *)(b->records + p->batch_size);
		b->cap = p->batch_size;
		b->pool = p;
		sl_arena_create(&b->arena, p->arena_chunk, p->arena_cap);
		sl_arena_set_keep(&b->arena, BATCH_ARENA_KEEP);
		sl_arena_create(&b->shape, p->arena_chunk, p->arena_cap);
		sl_list_init(&b->link);
		pool_lock(p);
		p->n_out++;
		pool_unlock(p);
	}
	b->count = 0;
	b->prep = NULL;
	b->prep_for = NULL;
	b->mark = NULL;
	return b;
}

struct sl_batch *
sl_batch_get(struct sl_batch_pool *p)
{
	struct sl_batch *b = batch_take(p);
	if (b != NULL)
		b->kind = SL_BATCH_DATA;
	return b;
}

struct sl_batch *
sl_batch_flush_marker(struct sl_batch_pool *p)
{
	struct sl_batch *b = batch_take(p);
	if (b != NULL)
		b->kind = SL_BATCH_FLUSH;
	return b;
}

struct sl_batch *
sl_batch_mark(struct sl_batch_pool *p, struct sl_mark *m)
{
	struct sl_batch *b = batch_take(p);
	if (b != NULL) {
		b->kind = SL_BATCH_MARK;
		b->mark = m;
	}
	return b;
}

void
sl_batch_ack(struct sl_batch *b)
{
	assert(b->kind == SL_BATCH_MARK && b->mark != NULL);
	struct sl_mark *m = b->mark;
	b->mark = NULL;
	sl_batch_put(b);
	m->ack(m);
}

void
sl_batch_put(struct sl_batch *b)
{
	struct sl_batch_pool *p = b->pool;
	if (b->mark != NULL) {
		struct sl_mark *m = b->mark;
		b->mark = NULL;
		if (m->drop != NULL)
			m->drop(m);
	}
	pool_lock(p);
	assert(p->n_out > 0);
	p->n_out--;
	bool keep = p->n_free < p->max_free;
	if (keep)
		p->n_free++;
	pool_unlock(p);
	if (!keep) {
		batch_free(b);
		return;
	}
	sl_arena_reset(&b->arena);
	/* Do not keep an outsized chunk left by one huge record: after a
	 * reset, the head chunk spans cur to end. */
	if ((size_t)(b->arena.end - b->arena.cur) > p->arena_chunk)
		sl_arena_destroy(&b->arena);
	/* Most batches have no shape apart: its chunk goes back to be
	 * shared. */
	sl_arena_destroy(&b->shape);
	b->count = 0;
	pool_lock(p);
	sl_list_add_tail(&p->free, &b->link);
	pool_unlock(p);
}

void
sl_batch_drop_shape(struct sl_batch *b)
{
	sl_arena_destroy(&b->shape);
	b->count = 0;
}

void
sl_batch_destroy_item(void *batch)
{
	sl_batch_put(batch);
}

int
sl_batch_append(struct sl_batch *b, struct sl_value v)
{
	if (b->count >= b->cap) {
		sl_diag_set(SL_ELIMIT, "batch is full (%u records)", b->cap);
		return -1;
	}
	b->origins[b->count].src = NULL;
	b->origins[b->count].line = 0;
	b->records[b->count++] = v;
	return 0;
}

int
sl_batch_append_from(struct sl_batch *b, struct sl_value v,
                     const struct sl_origin *o)
{
	if (o == NULL)
		return sl_batch_append(b, v);
	if (b->count >= b->cap) {
		sl_diag_set(SL_ELIMIT, "batch is full (%u records)", b->cap);
		return -1;
	}
	b->origins[b->count] = *o;
	b->records[b->count++] = v;
	return 0;
}

char *
sl_origin_format(const struct sl_origin *o, char *buf, size_t size)
{
	if (o == NULL || o->src == NULL)
		snprintf(buf, size, "record");
	else if (o->line == 0)
		snprintf(buf, size, "%s", o->src);
	else
		snprintf(buf, size, "%s:%" PRIu64, o->src, o->line);
	return buf;
}
