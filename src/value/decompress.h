/*
 * Decompressing byte sources (internal to the value layer).
 *
 * A decompressor wraps an inner struct sl_source and is itself one: gzip
 * (zlib, members back to back, like zcat; zero bytes after a complete
 * member are padding and ignored, as gzip and Python do), zstd (frames back
 * to back, skippable frames ignored) and bzip2 (streams back to back). It
 * holds one input buffer; output is written straight into the buffer its
 * reader passes, so memory does not depend on the data.
 *
 * Empty input decompresses to nothing. Corrupt data, trailing bytes that
 * do not start a valid member and input that ends inside a member are
 * SL_EPARSE errors naming the source and the compressed byte offset:
 * "x.csv.gz: corrupt gzip data at byte 1234: invalid block type". Errors
 * of the inner source are passed on as they are. After any error every
 * read fails again.
 *
 * gzip uses zlib (inflateInit2(15 + 32), inflateReset between members),
 * zstd its streaming API, bzip2 BZ2_bzDecompress (re-initialised per
 * stream). Each read
 * loops over decoder steps that must consume or produce (a step that does
 * neither is an error), so no input can make it spin. The libraries
 * allocate through sl_malloc (zlib and bzip2 hooks,
 * ZSTD_createDCtx_advanced), so fault injection reaches them. Tests build
 * fixtures with the libraries' encoders (tests/compress_fixtures.h): every
 * proper prefix of a member must fail as truncated, flipped bytes as
 * corrupt (zstd fixtures carry a checksum).
 */
#ifndef SLUICE_VALUE_DECOMPRESS_H
#define SLUICE_VALUE_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/records.h"
#include "sluice/source.h"

/** An opaque decompressor. */
struct sl_decomp;

/**
 * A decompressor of `c` (not SL_COMPRESSION_NONE) reading from `inner`,
 * which must outlive it, `in_size` (> 0) bytes at a time. NULL with
 * SL_EINVAL or SL_EOOM.
 */
struct sl_decomp *sl_decomp_new(struct sl_source *inner, enum sl_compression c,
                                size_t in_size);

/** Free the decompressor (NULL is a no-op). Does not touch `inner`. */
void sl_decomp_delete(struct sl_decomp *d);

/**
 * The sl_read_fn of a decompressor (`ctx` is the struct sl_decomp): up to
 * `size` decompressed bytes, 0 at the end, or -1 with an error.
 */
ssize_t sl_decomp_read(void *ctx, char *buf, size_t size);

/** A source reading from `d`, named like its inner source. */
struct sl_source sl_decomp_source(struct sl_decomp *d);

/** Compressed bytes the decoder has consumed so far. */
uint64_t sl_decomp_offset(const struct sl_decomp *d);

#endif /* SLUICE_VALUE_DECOMPRESS_H */
