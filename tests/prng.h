/*
 * A seeded xorshift64 generator for randomized tests: the same seed gives
 * the same sequence on every platform. Header-only; one state per test
 * program (each .c file that includes it gets its own).
 */
#ifndef SLUICE_TESTS_PRNG_H
#define SLUICE_TESTS_PRNG_H

#include <stdint.h>

/** Generator state; never 0 (set it to the seed before the first draw). */
static uint64_t rng_state = 1;

/** The next 64 random bits (xorshift64 13/7/17). */
static inline uint64_t
rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

/** Uniform in [0, n) (up to modulo bias); `n` must not be 0. */
static inline unsigned
rn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

#endif /* SLUICE_TESTS_PRNG_H */
