/*
 * Hashing with libxxhash's XXH3, compiled in from its header
 * (XXH_INLINE_ALL) rather than called in the shared library.
 */
#include "sluice/hash.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "sluice/diag.h"

uint64_t
sl_hash64(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

uint64_t
sl_hash64_seed(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

uint64_t
sl_hash_str(const char *s)
{
	return XXH3_64bits(s, strlen(s));
}

uint32_t
sl_shard_of(const void *p, size_t n, uint32_t count)
{
	uint64_t key = sl_hash64(p, n);
	int64_t b = -1, j = 0;
	if (count == 0)
		count = 1;
	/* Jump consistent hash: bucket j is left for a later one with
	 * probability 1 - (j + 1) / (next + 1), drawn from a 64-bit linear
	 * congruential sequence seeded by the key. */
	while (j < (int64_t)count) {
		b = j;
		key = key * 2862933555777941757ull + 1;
		j = (int64_t)((double)(b + 1) * ((double)(1ll << 31) /
		                                 (double)((key >> 33) + 1)));
	}
	return (uint32_t)b;
}

int
sl_hasher_create(struct sl_hasher *h, uint64_t seed)
{
	XXH3_state_t *st = XXH3_createState();
	if (st == NULL) {
		sl_diag_set(SL_EOOM, "out of memory creating a hash state");
		return -1;
	}
	XXH3_64bits_reset_withSeed(st, seed);
	h->state = st;
	return 0;
}

void
sl_hasher_update(struct sl_hasher *h, const void *p, size_t n)
{
	XXH3_64bits_update(h->state, p, n);
}

uint64_t
sl_hasher_digest(const struct sl_hasher *h)
{
	return XXH3_64bits_digest(h->state);
}

void
sl_hasher_destroy(struct sl_hasher *h)
{
	XXH3_freeState(h->state);
	h->state = NULL;
}
