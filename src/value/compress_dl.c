/*
 * libzstd's and libbz2's slots and their loading (see compress_dl.h).
 */
#include "value/compress_dl.h"

/** Defines the slot of function `n` (NULL until loaded). */
#define SL_COMPRESS_DEFINE(n) __typeof__(sl_libz_##n) sl_libz_##n;
SL_ZSTD_FUNCS(SL_COMPRESS_DEFINE)
SL_BZ2_FUNCS(SL_COMPRESS_DEFINE)

/** The table entry of function `n`. */
#define SL_COMPRESS_ENTRY(n) {#n, &sl_libz_##n},
/** Every function of SL_ZSTD_FUNCS, by name. */
static const struct sl_dl_sym zstd_syms[] = {SL_ZSTD_FUNCS(SL_COMPRESS_ENTRY)};
/** Every function of SL_BZ2_FUNCS, by name. */
static const struct sl_dl_sym bz2_syms[] = {SL_BZ2_FUNCS(SL_COMPRESS_ENTRY)};

struct sl_dl_lib sl_zstd_lib =
        SL_DL_LIB("libzstd.so.1", "zstd decompression", zstd_syms);

struct sl_dl_lib sl_bz2_lib =
        SL_DL_LIB("libbz2.so.1.0", "bzip2 decompression", bz2_syms);

int
sl_zstd_load(void)
{
	return sl_dl_load(&sl_zstd_lib);
}

int
sl_bz2_load(void)
{
	return sl_dl_load(&sl_bz2_lib);
}
