/*
 * Hashing: the XXH3 reference values, seeds, incremental hashing, spread.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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

/**
 * sl_shard_of(): pinned values (the shard a path or key belongs to is a
 * contract between sluice processes, whatever their version), range,
 * spread, and the jump property: from N to N+1 shards an input stays or
 * moves to the new shard.
 */
TAP_CASE(shard)
{
	/* XXH3-64, then the jump consistent hash (checked against an
	 * independent implementation of Lamping and Veach's algorithm). */
	static const struct {
		const char *in;
		uint32_t want[4]; /* of 2, 3, 10 and 1000 shards */
	} pinned[] = {
	        {"data/part-00.jsonl", {0, 2, 5, 243}},
	        {"7", {0, 2, 6, 202}},
	        {"\"7\"", {1, 1, 4, 888}},
	        {"null", {1, 2, 4, 259}},
	        {"{\"id\":1}", {0, 2, 2, 546}},
	};
	static const uint32_t counts[4] = {2, 3, 10, 1000};
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		const char *in = pinned[i].in;
		bool same = true;
		for (int k = 0; k < 4; k++)
			same = same && sl_shard_of(in, strlen(in), counts[k]) ==
			                       pinned[i].want[k];
		ok(same, "the shards of '%s' are the pinned ones", in);
	}
	ok(sl_shard_of("x", 1, 1) == 0 && sl_shard_of("x", 1, 0) == 0,
	   "one shard (or 0, taken as 1) is shard 0");

	int shards[7] = {0};
	bool in_range = true, jumps = true;
	char key[32];
	for (int i = 0; i < 70000; i++) {
		int n = snprintf(key, sizeof(key), "{\"id\":%d}", i);
		uint32_t s = sl_shard_of(key, (size_t)n, 7);
		in_range = in_range && s < 7;
		if (s < 7)
			shards[s]++;
		if (i < 5000)
			for (uint32_t c = 1; c < 40; c++) {
				uint32_t a = sl_shard_of(key, (size_t)n, c);
				uint32_t b = sl_shard_of(key, (size_t)n, c + 1);
				jumps = jumps && (b == a || b == c);
			}
	}
	ok(in_range, "every shard is below the count");
	int min = shards[0], max = shards[0];
	for (int i = 1; i < 7; i++) {
		min = shards[i] < min ? shards[i] : min;
		max = shards[i] > max ? shards[i] : max;
	}
	ok(min > 9600 && max < 10400,
	   "keys spread evenly over 7 shards (min %d, max %d)", min, max);
	ok(jumps, "from N to N+1 shards (1..40), an input stays or moves to "
	          "the new shard");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
