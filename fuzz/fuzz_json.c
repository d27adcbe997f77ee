/*
 * libFuzzer target for the JSON reader: the input is parsed as one document
 * and read as JSON lines through a memory source that hands out a few bytes
 * at a time; every value produced is walked.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/arena.h"
#include "sluice/diag.h"
#include "sluice/jsonread.h"
#include "memsource.h"

#define FUZZ_NAME "fuzz_json"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Where value_touch() results go, so the walk is not optimised away. */
volatile size_t fuzz_sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, (size_t)64 << 20);
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.depth_max = 64;
	struct sl_value v;
	if (sl_json_parse((const char *)data, size, &arena, &o, "fuzz", &v) ==
	    0)
		fuzz_sink += value_touch(&v);

	struct memsource m;
	memsource_init(&m, data, size, 1 + (size ? data[0] % 13 : 0));
	struct sl_source src = memsource_source(&m, "fuzz");
	o.chunk_size = 16;
	o.record_max = 256;
	struct sl_jsonl_reader *r = sl_jsonl_reader_new(&src, &o);
	int rc, guard = 0;
	while (r != NULL && (rc = sl_jsonl_next(r, &arena, &v)) != 0 &&
	       guard++ < 100000) {
		if (rc == 1)
			fuzz_sink += value_touch(&v);
		sl_arena_reset(&arena);
	}
	sl_jsonl_reader_delete(r);
	sl_arena_destroy(&arena);
	return 0;
}
