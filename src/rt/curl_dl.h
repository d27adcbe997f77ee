/*
 * sluice: libcurl opened on first use (base/dl.h). Included after
 * <curl/curl.h>, this header turns each curl function http.c calls into a
 * call through a slot typed after libcurl's own prototype; sl_curl_load()
 * fills the slots. http.c loads it before its first call (global_init(),
 * sl_http_date()). curl's option type checks (typecheck-gcc.h macros of
 * curl_easy_setopt() and curl_easy_getinfo()) give way to the slots. A
 * function newly used needs its line in SL_CURL_FUNCS and a #define below
 * (the link fails without the latter).
 */
#ifndef SLUICE_RT_CURL_DL_H
#define SLUICE_RT_CURL_DL_H

#include <curl/curl.h>

#include "base/dl.h"

/** The libcurl functions http.c calls: X(name) for each. */
#define SL_CURL_FUNCS(X)            \
	X(curl_easy_cleanup)        \
	X(curl_easy_getinfo)        \
	X(curl_easy_header)         \
	X(curl_easy_init)           \
	X(curl_easy_pause)          \
	X(curl_easy_setopt)         \
	X(curl_easy_strerror)       \
	X(curl_free)                \
	X(curl_getdate)             \
	X(curl_global_init_mem)     \
	X(curl_multi_add_handle)    \
	X(curl_multi_assign)        \
	X(curl_multi_cleanup)       \
	X(curl_multi_info_read)     \
	X(curl_multi_init)          \
	X(curl_multi_remove_handle) \
	X(curl_multi_setopt)        \
	X(curl_multi_socket_action) \
	X(curl_multi_strerror)      \
	X(curl_slist_append)        \
	X(curl_slist_free_all)      \
	X(curl_url)                 \
	X(curl_url_cleanup)         \
	X(curl_url_get)             \
	X(curl_url_set)             \
	X(curl_url_strerror)

/** Declares the slot of libcurl's function `n`, typed after its prototype. */
#define SL_CURL_DECLARE(n) extern __typeof__(&n) sl_libcurl_##n;
SL_CURL_FUNCS(SL_CURL_DECLARE)
#undef SL_CURL_DECLARE

/** libcurl, libcurl.so.4 (the SONAME of Debian's libcurl4); tests may rename
 * it. */
extern struct sl_dl_lib sl_curl_lib;

/**
 * Load libcurl once for the process. 0, or -1 with the diagnostic set
 * ("cannot load libcurl.so.4 (needed for HTTP and S3): ...").
 */
int sl_curl_load(void);

/* curl.h defines these as function-like macros (its type checks). */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_easy_cleanup        sl_libcurl_curl_easy_cleanup
#define curl_easy_getinfo        sl_libcurl_curl_easy_getinfo
#define curl_easy_header         sl_libcurl_curl_easy_header
#define curl_easy_init           sl_libcurl_curl_easy_init
#define curl_easy_pause          sl_libcurl_curl_easy_pause
#define curl_easy_setopt         sl_libcurl_curl_easy_setopt
#define curl_easy_strerror       sl_libcurl_curl_easy_strerror
#define curl_free                sl_libcurl_curl_free
#define curl_getdate             sl_libcurl_curl_getdate
#define curl_global_init_mem     sl_libcurl_curl_global_init_mem
#define curl_multi_add_handle    sl_libcurl_curl_multi_add_handle
#define curl_multi_assign        sl_libcurl_curl_multi_assign
#define curl_multi_cleanup       sl_libcurl_curl_multi_cleanup
#define curl_multi_info_read     sl_libcurl_curl_multi_info_read
#define curl_multi_init          sl_libcurl_curl_multi_init
#define curl_multi_remove_handle sl_libcurl_curl_multi_remove_handle
#define curl_multi_setopt        sl_libcurl_curl_multi_setopt
#define curl_multi_socket_action sl_libcurl_curl_multi_socket_action
#define curl_multi_strerror      sl_libcurl_curl_multi_strerror
#define curl_slist_append        sl_libcurl_curl_slist_append
#define curl_slist_free_all      sl_libcurl_curl_slist_free_all
#define curl_url                 sl_libcurl_curl_url
#define curl_url_cleanup         sl_libcurl_curl_url_cleanup
#define curl_url_get             sl_libcurl_curl_url_get
#define curl_url_set             sl_libcurl_curl_url_set
#define curl_url_strerror        sl_libcurl_curl_url_strerror

#endif
