/*
 * Batches: pool reuse without allocation, flush markers, capacity, arena
 * cap, channel item destructor.
 */
#include "sluice/alloc.h"
#include "sluice/batch.h"
#include "sluice/chan.h"
#include "sluice/value.h"
#include <string.h>
#include "unit.h"

/** Batch pools: recycling, flush markers, channels, caps and origins. */
TAP_CASE(batch)
{
	struct sl_batch_pool pool;
	sl_batch_pool_create(&pool, 3, 1 << 20);
	struct sl_batch *b = sl_batch_get(&pool);
	ok(b != NULL && b->kind == SL_BATCH_DATA && b->count == 0 &&
	           b->cap == 3,
	   "a new batch is empty data with the pool's size");
	for (int i = 0; i < 3; i++)
		sl_batch_append(b, sl_int(i));
	ok(sl_batch_full(b), "full after batch_size records");
	is_int(sl_batch_append(b, sl_int(9)), -1, "a full batch refuses more");
	is_err(SL_ELIMIT, "with ELIMIT");
	ok(sl_arena_alloc(&b->arena, 100) != NULL, "its arena works");
	sl_batch_put(b);
	is_int(pool.n_out, 0, "returned");

	long faults = sl_alloc_faults();
	sl_alloc_fail_after(0);
	struct sl_batch *again = sl_batch_get(&pool);
	void *mem = again != NULL ? sl_arena_alloc(&again->arena, 100) : NULL;
	sl_alloc_fail_after(-1);
	ok(again == b && mem != NULL && sl_alloc_faults() == faults,
	   "a recycled batch and its arena allocate nothing");
	is_int(again->count, 0, "and comes back empty");

	struct sl_batch *f = sl_batch_flush_marker(&pool);
	ok(f != NULL && f->kind == SL_BATCH_FLUSH && f->count == 0,
	   "flush markers are batches of their own kind");

	/* A channel of batches frees what it held through the pool. */
	struct sl_chan ch;
	sl_chan_create(&ch, 4);
	sl_chan_send(&ch, again, sl_batch_destroy_item, 0);
	sl_chan_send(&ch, f, sl_batch_destroy_item, 0);
	is_int(pool.n_out, 2, "two batches out");
	sl_chan_destroy(&ch);
	is_int(pool.n_out, 0, "destroying the channel returned them");

	sl_alloc_fail_after(1);
	struct sl_batch_pool p2;
	sl_batch_pool_create(&p2, 10, 1 << 20);
	ok(sl_batch_get(&p2) == NULL, "a batch whose record array cannot be "
	                              "allocated is NULL");
	sl_alloc_fail_after(-1);
	is_err(SL_EOOM, "with EOOM");
	is_int(p2.n_out, 0, "nothing counted out");
	sl_batch_pool_destroy(&p2);

	struct sl_batch_pool p3;
	sl_batch_pool_create(&p3, 10, 4096);
	struct sl_batch *c = sl_batch_get(&p3);
	ok(sl_arena_alloc(&c->arena, 8192) == NULL, "the arena cap holds");
	sl_batch_put(c);
	struct sl_batch *huge = sl_batch_get(&pool);
	sl_arena_alloc(&huge->arena, 1 << 19);
	sl_batch_put(huge);
	struct sl_batch *h2 = sl_batch_get(&pool);
	ok(h2->arena.reserved == 0,
	   "a batch that held a huge record comes back without it");
	sl_batch_put(h2);
	sl_batch_pool_destroy(&p3);

	/* Origins travel with records. */
	struct sl_batch *o = sl_batch_get(&pool);
	struct sl_origin at = {"data/x.csv", 12};
	sl_batch_append_from(o, sl_int(1), &at);
	sl_batch_append(o, sl_int(2));
	char buf[64];
	is_str(sl_origin_format(&o->origins[0], buf, sizeof(buf)),
	       "data/x.csv:12", "a record keeps its origin");
	is_str(sl_origin_format(&o->origins[1], buf, sizeof(buf)), "record",
	       "one appended without an origin has none");
	struct sl_origin whole = {"<stdin>", 0};
	is_str(sl_origin_format(&whole, buf, sizeof(buf)), "<stdin>",
	       "an origin without a line is its source");
	is_str(sl_origin_format(&at, buf, 8), "data/x.",
	       "formatting truncates");
	sl_batch_put(o);
	struct sl_batch *o2 = sl_batch_get(&pool);
	sl_batch_append(o2, sl_int(3));
	ok(o2->origins[0].src == NULL,
	   "a recycled batch does not keep old origins");
	sl_batch_put(o2);
	sl_batch_pool_destroy(&pool);
}

/**
 * A batch's shape arena: counted in its bytes, given back early by
 * sl_batch_drop_shape() while the arena's values stay, and empty again
 * when the batch is recycled.
 */
TAP_CASE(batch_shape)
{
	struct sl_batch_pool pool;
	sl_batch_pool_create(&pool, 4, 1 << 20);
	struct sl_batch *b = sl_batch_get(&pool);
	char *text = sl_arena_strndup(&b->arena, "kept value", 10);
	struct sl_member *m = sl_arena_alloc_aligned(
	        &b->shape, 40 * sizeof(*m), _Alignof(struct sl_member));
	ok(text != NULL && m != NULL, "both arenas allocate");
	m[0] = (struct sl_member){"k", 1, sl_str_ref(text, 10)};
	sl_batch_append(b, sl_object_ref(m, 1));
	is_int((long long)sl_batch_bytes(b),
	       (long long)(sl_arena_used(&b->arena) + sl_arena_used(&b->shape)),
	       "the batch's bytes count both arenas");
	ok(sl_batch_bytes(b) >= 11 + 40 * sizeof(*m),
	   "and the shape is in them");
	sl_batch_drop_shape(b);
	ok(b->shape.reserved == 0 && b->shape.head == NULL,
	   "dropping the shape gives its chunks back");
	is_int(b->count, 0, "the records are gone");
	ok(b->arena.reserved > 0 && memcmp(text, "kept value", 10) == 0,
	   "the arena's values stay");
	ok(sl_arena_alloc(&b->shape, 64) != NULL,
	   "the shape arena can be used again");
	sl_batch_put(b);
	struct sl_batch *again = sl_batch_get(&pool);
	ok(again == b && again->shape.reserved == 0,
	   "a recycled batch has no shape left");
	sl_batch_put(again);
	sl_batch_pool_destroy(&pool);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
