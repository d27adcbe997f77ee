/*
 * Hashing through libxxhash (XXH3).
 */
#include "sluice/hash.h"

#include <string.h>
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
