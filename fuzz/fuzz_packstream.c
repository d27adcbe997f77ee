/*
 * libFuzzer target for PackStream (src/db/bolt/packstream.c).
 *
 * The input is read as a stream of values, as a Bolt message's fields
 * follow each other: each is decoded with sl_ps_get_canonical() into a capped
 * arena, encoded again with sl_ps_put() and mapped with sl_ps_to_value().
 *
 * Invariants: a decoded value takes at least one byte and encodes back to
 * exactly the bytes it was decoded from; a failure (decoding or mapping)
 * leaves an error in the diag, and a decoding failure is SL_EPARSE naming
 * a byte offset, or the arena's cap; the arena never holds more than a
 * small multiple of the input; a mapped value's strings are the input's
 * bytes copied (touched in full here, so ASan sees every one).
 */
#include <stdint.h>
#include <string.h>

#include "db/bolt/packstream.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/diag.h"

#define FUZZ_NAME "fuzz_packstream"
#include "fuzz.h"

/** Cap on the arena and the buffer: hostile sizes must hit it. */
#define FUZZ_CAP ((size_t)16 << 20)

/** Most values read from one input. */
#define FUZZ_VALUES 64

/** Where value_touch() results go, so the walk is not optimised away. */
volatile size_t fuzz_sink;

/** The entry point libFuzzer (or replay.c) calls with each input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, FUZZ_CAP);
	struct sl_buf b;
	sl_buf_create(&b, FUZZ_CAP);
	size_t at = 0;
	for (int k = 0; k < FUZZ_VALUES && at < size; k++) {
		sl_arena_reset(&arena);
		sl_diag_clear(sl_diag_get());
		struct sl_ps v;
		size_t used = 0;
		if (sl_ps_get_canonical(data + at, size - at, &used, &arena, &v) != 0) {
			enum sl_errcode code = sl_diag_code();
			CHECK(code == SL_ELIMIT ||
			              (code == SL_EPARSE &&
			               strstr(sl_diag_last()->msg, "at byte")),
			      "decoding failed with %s: %s",
			      sl_errcode_name(code),
			      sl_diag_last() ? sl_diag_last()->msg
			                     : "no error");
			break;
		}
		CHECK(used >= 1 && used <= size - at, "used %zu of %zu", used,
		      size - at);
		CHECK(sl_arena_used(&arena) <= 32 * used,
		      "%zu bytes decoded into %zu of arena", used,
		      sl_arena_used(&arena));
		sl_buf_reset(&b);
		CHECK(sl_ps_put(&b, &v) == 0, "encoding failed: %s",
		      sl_diag_last() ? sl_diag_last()->msg : "no error");
		CHECK(b.len == used && memcmp(b.data, data + at, used) == 0,
		      "%zu bytes decoded encode to %zu others", used, b.len);
		struct sl_value rv;
		sl_diag_clear(sl_diag_get());
		if (sl_ps_to_value(&v, &arena, &rv) == 0)
			fuzz_sink += value_touch(&rv);
		else
			CHECK(sl_diag_code() != SL_EOK,
			      "mapping failed without an error");
		at += used;
	}
	sl_buf_destroy(&b);
	sl_arena_destroy(&arena);
	sl_diag_clear(sl_diag_get());
	return 0;
}
