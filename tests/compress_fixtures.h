/*
 * Test fixtures: compress with the libraries' own encoders (gzip through
 * zlib, zstd with a content checksum, bzip2) and write files into a
 * temporary directory.
 */
#ifndef SLUICE_TESTS_COMPRESS_FIXTURES_H
#define SLUICE_TESTS_COMPRESS_FIXTURES_H

#include <bzlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "sluice/buf.h"
#include "sluice/records.h"

/** Append the `kind` compression of data[0, n) to `out` as one member. */
static inline int
fx_compress(enum sl_compression kind, const char *data, size_t n,
            struct sl_buf *out)
{
	if (kind == SL_COMPRESSION_NONE)
		return sl_buf_append(out, data, n);
	if (kind == SL_COMPRESSION_GZIP) {
		z_stream z;
		memset(&z, 0, sizeof(z));
		if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
		                 Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		size_t cap = deflateBound(&z, (uLong)n) + 64;
		if (sl_buf_reserve(out, cap) != 0) {
			deflateEnd(&z);
			return -1;
		}
		z.next_in = (Bytef *)data;
		z.avail_in = (uInt)n;
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)cap;
		int rc = deflate(&z, Z_FINISH);
		out->len += cap - z.avail_out;
		deflateEnd(&z);
		return rc == Z_STREAM_END ? 0 : -1;
	}
	if (kind == SL_COMPRESSION_ZSTD) {
		size_t cap = ZSTD_compressBound(n);
		if (sl_buf_reserve(out, cap) != 0)
			return -1;
		ZSTD_CCtx *c = ZSTD_createCCtx();
		ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
		size_t got =
		        ZSTD_compress2(c, out->data + out->len, cap, data, n);
		ZSTD_freeCCtx(c);
		if (ZSTD_isError(got))
			return -1;
		out->len += got;
		return 0;
	}
	unsigned cap = (unsigned)(n + n / 100 + 600);
	if (sl_buf_reserve(out, cap) != 0)
		return -1;
	int rc = BZ2_bzBuffToBuffCompress(out->data + out->len, &cap,
	                                  (char *)data, (unsigned)n, 9, 0, 0);
	if (rc != BZ_OK)
		return -1;
	out->len += cap;
	return 0;
}

/** Write data[0, n) to the file `path`. 0 or -1. */
static inline int
fx_write(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	int rc = n == 0 || fwrite(data, 1, n, f) == n ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/** The file suffix of a compression: "", ".gz", ".zst" or ".bz2". */
static inline const char *
fx_suffix(enum sl_compression kind)
{
	switch (kind) {
	case SL_COMPRESSION_GZIP:
		return ".gz";
	case SL_COMPRESSION_ZSTD:
		return ".zst";
	case SL_COMPRESSION_BZIP2:
		return ".bz2";
	default:
		return "";
	}
}

#endif /* SLUICE_TESTS_COMPRESS_FIXTURES_H */
