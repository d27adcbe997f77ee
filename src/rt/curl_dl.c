/*
 * libcurl's slots and their loading (see curl_dl.h).
 */
#include "rt/curl_dl.h"

/** Defines the slot of libcurl's function `n` (NULL until loaded). */
#define SL_CURL_DEFINE(n) __typeof__(sl_libcurl_##n) sl_libcurl_##n;
SL_CURL_FUNCS(SL_CURL_DEFINE)

/** The table entry of libcurl's function `n`. */
#define SL_CURL_ENTRY(n) {#n, &sl_libcurl_##n},
/** Every function of SL_CURL_FUNCS, by name. */
static const struct sl_dl_sym curl_syms[] = {SL_CURL_FUNCS(SL_CURL_ENTRY)};

struct sl_dl_lib sl_curl_lib =
        SL_DL_LIB("libcurl.so.4", "HTTP and S3", curl_syms);

int
sl_curl_load(void)
{
	return sl_dl_load(&sl_curl_lib);
}
