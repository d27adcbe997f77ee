/*
 * Hashing: the XXH3 reference values, seeds, incremental hashing, spread.
 */
#include "sluice/hash.h"
#include "unit.h"

/** XXH3 reference values, seeds, incremental hashing and spread. */
TAP_CASE(hash)
{
	/* Reference values published with XXH3 (xxhash's sanity tests). */
	ok(sl_hash64("", 0) == 0x2D06800538D394C2ULL,
	   "XXH3 of the empty input matches the reference");
	ok(sl_hash64_seed("", 0, 0) == sl_hash64("", 0), "seed 0 is the "
	                                                 "default");
	const char *s = "sluice: graph ETL";
	ok(sl_hash_str(s) == sl_hash64(s, strlen(s)), "string form agrees");
	ok(sl_hash64_seed(s, strlen(s), 1) != sl_hash64(s, strlen(s)),
	   "a seed changes the hash");
	ok(sl_hash64("a", 1) != sl_hash64("b", 1), "different inputs differ");

	struct sl_hasher h;
	ok(sl_hasher_create(&h, 7) == 0, "incremental state");
	sl_hasher_update(&h, "sluice: ", 8);
	sl_hasher_update(&h, "graph ETL", 9);
	ok(sl_hasher_digest(&h) == sl_hash64_seed(s, strlen(s), 7),
	   "incremental equals one-shot");
	sl_hasher_destroy(&h);

	/* Partitioning 100k keys into 8 lanes spreads them evenly. */
	int lanes[8] = {0};
	char key[32];
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(key, sizeof(key), "person:%d", i);
		lanes[sl_hash64(key, (size_t)n) % 8]++;
	}
	int min = lanes[0], max = lanes[0];
	for (int i = 1; i < 8; i++) {
		min = lanes[i] < min ? lanes[i] : min;
		max = lanes[i] > max ? lanes[i] : max;
	}
	ok(min > 12000 && max < 13000,
	   "keys spread evenly over lanes "
	   "(min %d, max %d)",
	   min, max);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
