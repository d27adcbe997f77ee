/*
 * OpenSSL's slots and their loading (see ssl_dl.h).
 */
#include "rt/ssl_dl.h"

/** Defines the slot of OpenSSL's function `n` (NULL until loaded). */
#define SL_OSSL_DEFINE(n) __typeof__(sl_ossl_##n) sl_ossl_##n;
SL_CRYPTO_FUNCS(SL_OSSL_DEFINE)
SL_SSL_FUNCS(SL_OSSL_DEFINE)

/** The table entry of OpenSSL's function `n`. */
#define SL_OSSL_ENTRY(n) {#n, &sl_ossl_##n},
/** Every function of SL_CRYPTO_FUNCS, by name. */
static const struct sl_dl_sym crypto_syms[] = {SL_CRYPTO_FUNCS(SL_OSSL_ENTRY)};
/** Every function of SL_SSL_FUNCS, by name. */
static const struct sl_dl_sym ssl_syms[] = {SL_SSL_FUNCS(SL_OSSL_ENTRY)};

struct sl_dl_lib sl_crypto_lib =
        SL_DL_LIB("libcrypto.so.3", "SHA-256, HMAC and TLS", crypto_syms);

struct sl_dl_lib sl_ssl_lib = SL_DL_LIB("libssl.so.3", "TLS", ssl_syms);

int
sl_crypto_load(void)
{
	return sl_dl_load(&sl_crypto_lib);
}

int
sl_ssl_load(void)
{
	if (sl_crypto_load() != 0)
		return -1;
	return sl_dl_load(&sl_ssl_lib);
}
