/*
 * sluice: hashing (XXH3 from libxxhash). 64-bit hashes for hash tables,
 * key partitioning ("lanes") and deduplication.
 */
#ifndef SLUICE_HASH_H
#define SLUICE_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** XXH3 64-bit hash of `n` bytes. Stable across runs and machines. */
uint64_t sl_hash64(const void *p, size_t n);

/** XXH3 64-bit hash of `n` bytes with a seed. */
uint64_t sl_hash64_seed(const void *p, size_t n, uint64_t seed);

/** Hash of a NUL-terminated string. */
uint64_t sl_hash_str(const char *s);

/**
 * The shard, 0 to `count` - 1, that the `n` bytes at `p` belong to when
 * work is split `count` ways (sluice run --shard): XXH3-64 of the bytes
 * (seed 0), then a jump consistent hash (Lamping and Veach, 2014) of it
 * into `count` buckets. Stable across runs, machines and versions; when
 * `count` grows by one, only about 1/count of the inputs move, all of
 * them to the new shard. `count` 0 is taken as 1.
 */
uint32_t sl_shard_of(const void *p, size_t n, uint32_t count);

/** Incremental hashing state (opaque storage for XXH3_state_t). */
struct sl_hasher {
	/** The libxxhash state, allocated by sl_hasher_create(). */
	void *state;
};

/** Start an incremental hash. 0, or -1 with SL_EOOM. */
int sl_hasher_create(struct sl_hasher *h, uint64_t seed);

/** Feed `n` bytes. */
void sl_hasher_update(struct sl_hasher *h, const void *p, size_t n);

/** The hash of everything fed so far (same as sl_hash64_seed on the
 * concatenation). */
uint64_t sl_hasher_digest(const struct sl_hasher *h);

/** Free the state. */
void sl_hasher_destroy(struct sl_hasher *h);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_HASH_H */
