/*
 * sluice: record batches and their pool.
 *
 * A batch carries up to `batch_size` records and the arena their strings,
 * arrays and objects live in. Batches are what channels between steps carry,
 * so hand-off and switch costs are paid per batch, not per record. Batches
 * come from a pool and go back to it, keeping their arena's first chunk and
 * their record array, so a steady pipeline allocates nothing per batch.
 *
 * A flush marker is a batch of kind SL_BATCH_FLUSH that travels in-band:
 * steps pass it on in order, and writers flush what they hold when it
 * arrives. A progress mark (SL_BATCH_MARK) travels the same way and
 * carries a struct sl_mark: an extractor's position, acknowledged once
 * everything before it is committed (sl_emit_mark() in sluice/step.h).
 *
 * Recycling: sl_batch_destroy_item() (the channel destructor) returns a
 * batch to its pool. A returned batch keeps, besides its newest chunk, up
 * to 2 MiB of arena chunks (sl_arena_set_keep()), so a step that fills
 * megabyte batches does not go back to malloc and fault in fresh pages for
 * every batch; a head chunk larger than the pool's chunk size (left by one
 * huge record) is freed. The arena's bump allocation is inline in
 * sluice/arena.h; only a new chunk is a call.
 *
 * Origins: every record has a struct sl_origin (a source name that lives
 * for the run, and a line or record number) in an array parallel to the
 * records. Extractors set it per record (sl_emit_set_origin(): file and
 * line, "iterable:N", "range:N"); while a step's process runs, what it
 * emits takes the input record's origin. Run-time errors and skips name
 * it: "data/x.csv:12: ...".
 */
#ifndef SLUICE_BATCH_H
#define SLUICE_BATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/list.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a batch is. */
enum sl_batch_kind {
	SL_BATCH_DATA = 0, /**< records */
	SL_BATCH_FLUSH,    /**< an in-band flush marker (no records) */
	SL_BATCH_MARK,     /**< an in-band progress mark (no records) */
};

/**
 * A progress mark: a position of an extractor (a file and offset, a
 * stream entry), which the extractor embeds in its own struct. The mark
 * travels through the pipeline in-band, after the records emitted before
 * it; a step that holds records back (a graph writer) first commits what
 * came before it (sl_step_ops.mark), and when the mark leaves the last
 * step, `ack` runs: everything the records before it became is
 * committed. A mark that does not get through (the run failed or
 * stopped) gets `drop` instead. Exactly one of the two runs, on the loop
 * thread, and the mark must live until then.
 */
struct sl_mark {
	/** Everything before the mark is committed. */
	void (*ack)(struct sl_mark *m);
	/** The mark will not be acknowledged (may be NULL). */
	void (*drop)(struct sl_mark *m);
	/**
	 * The position as text (sluice/checkpoint.h) for writers whose
	 * target commits it with the writes before the mark; NULL: none.
	 */
	const char *pos;
};

struct sl_batch_pool;

/**
 * Where a record came from, for messages: "data/x.csv:12". The name is
 * not copied: sources keep it alive for the whole run.
 */
struct sl_origin {
	/** Name of the source (a file path, "<stdin>"), or NULL if unknown. */
	const char *src;
	/** 1-based line or record number in the source; 0 if unknown. */
	uint64_t line;
};

/** A batch of records (get one from a pool). */
struct sl_batch {
	/** Data or flush marker. */
	enum sl_batch_kind kind;
	/** Records in use. */
	uint32_t count;
	/** Capacity of `records` (the pool's batch size). */
	uint32_t cap;
	/** The records. */
	struct sl_value *records;
	/** Where each record came from (parallel to `records`). */
	struct sl_origin *origins;
	/** Memory of everything the records refer to. */
	struct sl_arena arena;
	/**
	 * Memory of the records' shape alone: member and item arrays of
	 * containers that a step reads but whose contents nothing keeps
	 * once the last step took the records in, which may then give it
	 * back early (sl_batch_drop_shape()). Nothing in `arena` points
	 * into it. Reset with the batch.
	 */
	struct sl_arena shape;
	/**
	 * What step `prep_for` made of the records ahead of time (its
	 * sl_step_ops.prepare, in the arena), or NULL. Cleared when the
	 * batch is taken from its pool.
	 */
	void *prep;
	/** The step `prep` is for (a struct sl_step), or NULL. */
	const void *prep_for;
	/** A progress mark's mark (SL_BATCH_MARK), else NULL. */
	struct sl_mark *mark;
	/** The pool the batch returns to. */
	struct sl_batch_pool *pool;
	/** Link in the pool's free list. */
	struct sl_list link;
};

/** A pool of batches (caller-owned; see sl_batch_pool_create()). */
struct sl_batch_pool {
	/** Records per batch. */
	uint32_t batch_size;
	/** Hard cap on each batch's arena, in bytes. */
	size_t arena_cap;
	/** Arena chunk size. */
	size_t arena_chunk;
	/** Batches kept for reuse. */
	struct sl_list free;
	/** Number of batches in `free`. */
	size_t n_free;
	/** Most batches kept in `free`; more are freed on return. */
	size_t max_free;
	/** Batches handed out and not yet returned. */
	size_t n_out;
	/** Whether `lock` guards the pool (sl_batch_pool_share()). */
	bool shared;
	/** Guards the free list and counters of a shared pool. */
	pthread_mutex_t lock;
};

/**
 * Default records per batch: few enough that a batch, as it goes from
 * step to step and from core to core, stays in the caches (a batch of
 * desired ingestions takes about 600 KB; docs/performance.md).
 */
#define SL_BATCH_SIZE_DEFAULT 128

/**
 * Default records per batch of a run on one thread: a batch is then
 * handed from step to step on one core, and smaller batches mean fewer
 * records in flight, hence less memory the run touches first
 * (docs/performance.md, "Batches of 32 records on one thread").
 */
#define SL_BATCH_SIZE_ONE_THREAD 32

/**
 * Most memory one record may take while it is processed (256 MiB): the
 * default cap of a batch's arena (one huge record may fill a batch), of
 * the scratch arena the Interpreter and the transformers reset per
 * record, and of every buffer a step grows for one record. Text built
 * for a record (JMESPath to_string(), str() casts, !format) is capped at
 * what the record's arena can still hold (sl_arena_room()), so a record
 * never costs much more than twice this (the buffer and its copy in the
 * arena); print caps a record's JSON line at this. Past it,
 * processing the record fails with SL_ELIMIT, and the error names the
 * record's origin.
 */
#define SL_RECORD_MEM_MAX ((size_t)256 << 20)

/**
 * Initialise a pool of batches of `batch_size` records (at least 1) whose
 * arenas may hold at most `arena_cap` bytes each. Allocates nothing.
 */
void sl_batch_pool_create(struct sl_batch_pool *p, uint32_t batch_size,
                          size_t arena_cap);

/**
 * Let threads other than the loop's get and return batches of `p` (a
 * pipeline run with worker threads): from now on a mutex guards the
 * pool's free list, which costs one uncontended lock per batch.
 */
void sl_batch_pool_share(struct sl_batch_pool *p);

/** Free the kept batches. Every batch must have been returned. */
void sl_batch_pool_destroy(struct sl_batch_pool *p);

/**
 * A progress mark batch carrying `m`, or NULL with SL_EOOM. Returning it
 * with sl_batch_put() drops the mark (`m->drop`); sl_batch_ack() returns
 * it acknowledging the mark.
 */
struct sl_batch *sl_batch_mark(struct sl_batch_pool *p, struct sl_mark *m);

/** Return a progress mark batch to its pool, acknowledging its mark. */
void sl_batch_ack(struct sl_batch *b);

/** An empty data batch, or NULL with SL_EOOM. */
struct sl_batch *sl_batch_get(struct sl_batch_pool *p);

/** An empty flush marker, or NULL with SL_EOOM. */
struct sl_batch *sl_batch_flush_marker(struct sl_batch_pool *p);

/** Return a batch to its pool (its records become invalid). */
void sl_batch_put(struct sl_batch *b);

/** sl_batch_put() for a `void *`: the channel item destructor of batches. */
void sl_batch_destroy_item(void *batch);

/**
 * Give back the memory of the records' shape (`b->shape`) while `b` is
 * kept for what its arena holds: the last step calls it once it took
 * the records in and kept only values from `b->arena`. The records are
 * gone (the count is 0); their origins stay.
 */
void sl_batch_drop_shape(struct sl_batch *b);

/** Bytes the records of `b` took in its arenas. */
static inline size_t
sl_batch_bytes(const struct sl_batch *b)
{
	return sl_arena_used(&b->arena) + sl_arena_used(&b->shape);
}

/** Whether the batch has no room for another record. */
static inline int
sl_batch_full(const struct sl_batch *b)
{
	return b->count >= b->cap;
}

/**
 * Append a record (its payload must live in `b->arena` or outlive the
 * batch). Returns 0, or -1 with SL_ELIMIT when the batch is full.
 */
int sl_batch_append(struct sl_batch *b, struct sl_value v);

/** sl_batch_append() of a record that came from `o` (NULL: unknown). */
int sl_batch_append_from(struct sl_batch *b, struct sl_value v,
                         const struct sl_origin *o);

/**
 * Write "src:line" (or "src", or "record" when nothing is known) into
 * `buf` of `size` bytes, truncating. Returns `buf`.
 */
char *sl_origin_format(const struct sl_origin *o, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_BATCH_H */
