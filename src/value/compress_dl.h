/*
 * sluice: libzstd and libbz2 opened on first use (base/dl.h). Included
 * after <zstd.h> and <bzlib.h>, this header turns each of their functions
 * decompress.c calls into a call through a slot typed after the library's
 * own prototype; sl_zstd_load() and sl_bz2_load() fill the slots.
 * sl_decomp_new() loads the library of its compression before its first
 * call, so a run that reads no zstd or bzip2 file maps neither. A function
 * newly used needs its line in SL_ZSTD_FUNCS or SL_BZ2_FUNCS and a
 * #define below (the sluice binary's link fails without the latter).
 */
#ifndef SLUICE_VALUE_COMPRESS_DL_H
#define SLUICE_VALUE_COMPRESS_DL_H

#ifndef ZSTD_STATIC_LINKING_ONLY
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDCtx_advanced */
#endif
#include <bzlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "base/dl.h"

/** The libzstd functions decompress.c calls: X(name) for each. */
#define SL_ZSTD_FUNCS(X)            \
	X(ZSTD_createDCtx_advanced) \
	X(ZSTD_decompressStream)    \
	X(ZSTD_freeDCtx)            \
	X(ZSTD_getErrorCode)        \
	X(ZSTD_getErrorName)        \
	X(ZSTD_isError)

/** The libbz2 functions decompress.c calls: X(name) for each. */
#define SL_BZ2_FUNCS(X)        \
	X(BZ2_bzDecompress)    \
	X(BZ2_bzDecompressEnd) \
	X(BZ2_bzDecompressInit)

/** Declares the slot of function `n`, typed after its prototype. */
#define SL_COMPRESS_DECLARE(n) extern __typeof__(&n) sl_libz_##n;
SL_ZSTD_FUNCS(SL_COMPRESS_DECLARE)
SL_BZ2_FUNCS(SL_COMPRESS_DECLARE)
#undef SL_COMPRESS_DECLARE

/** libzstd, libzstd.so.1 (Debian's libzstd1); tests may rename it. */
extern struct sl_dl_lib sl_zstd_lib;

/** libbz2, libbz2.so.1.0 (Debian's libbz2-1.0); tests may rename it. */
extern struct sl_dl_lib sl_bz2_lib;

/**
 * Load libzstd once for the process. 0, or -1 with the diagnostic set
 * ("cannot load libzstd.so.1 (needed for zstd decompression): ...").
 */
int sl_zstd_load(void);

/**
 * Load libbz2 once for the process. 0, or -1 with the diagnostic set
 * ("cannot load libbz2.so.1.0 (needed for bzip2 decompression): ...").
 */
int sl_bz2_load(void);

#define ZSTD_createDCtx_advanced sl_libz_ZSTD_createDCtx_advanced
#define ZSTD_decompressStream    sl_libz_ZSTD_decompressStream
#define ZSTD_freeDCtx            sl_libz_ZSTD_freeDCtx
#define ZSTD_getErrorCode        sl_libz_ZSTD_getErrorCode
#define ZSTD_getErrorName        sl_libz_ZSTD_getErrorName
#define ZSTD_isError             sl_libz_ZSTD_isError
#define BZ2_bzDecompress         sl_libz_BZ2_bzDecompress
#define BZ2_bzDecompressEnd      sl_libz_BZ2_bzDecompressEnd
#define BZ2_bzDecompressInit     sl_libz_BZ2_bzDecompressInit

#endif
