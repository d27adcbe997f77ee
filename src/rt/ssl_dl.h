/*
 * sluice: OpenSSL's libcrypto and libssl opened on first use (base/dl.h),
 * so that a run without TLS, S3 or signed object stores does not pay their
 * relocations and page faults at start-up. Included after the OpenSSL
 * headers it includes itself, this header turns each OpenSSL function
 * sluice calls (directly, or through OpenSSL's own macros such as
 * SSL_set_tlsext_host_name()) into a call through a slot typed after
 * OpenSSL's prototype. A caller loads the library first: sl_crypto_load()
 * for digests, HMAC and random bytes, sl_ssl_load() for TLS (it loads
 * libcrypto too). A function newly used needs its line in the list of its
 * library and a #define below (the link fails without the latter).
 */
#ifndef SLUICE_RT_SSL_DL_H
#define SLUICE_RT_SSL_DL_H

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/dl.h"

/** The libcrypto functions sluice calls: X(name) for each. */
#define SL_CRYPTO_FUNCS(X)               \
	X(BIO_clear_flags)               \
	X(BIO_ctrl_pending)              \
	X(BIO_free)                      \
	X(BIO_get_data)                  \
	X(BIO_get_new_index)             \
	X(BIO_meth_new)                  \
	X(BIO_meth_set_create)           \
	X(BIO_meth_set_ctrl)             \
	X(BIO_meth_set_read)             \
	X(BIO_meth_set_write)            \
	X(BIO_new)                       \
	X(BIO_read)                      \
	X(BIO_s_mem)                     \
	X(BIO_set_data)                  \
	X(BIO_set_flags)                 \
	X(BIO_set_init)                  \
	X(BIO_write)                     \
	X(CRYPTO_memcmp)                 \
	X(ERR_clear_error)               \
	X(ERR_error_string_n)            \
	X(ERR_get_error)                 \
	X(ERR_peek_last_error)           \
	X(EVP_Digest)                    \
	X(EVP_DigestFinal_ex)            \
	X(EVP_DigestInit_ex)             \
	X(EVP_DigestUpdate)              \
	X(EVP_MD_CTX_free)               \
	X(EVP_MD_CTX_new)                \
	X(EVP_sha256)                    \
	X(HMAC)                          \
	X(RAND_bytes)                    \
	X(X509_VERIFY_PARAM_set1_ip_asc) \
	X(X509_verify_cert_error_string)

/** The libssl functions sluice calls: X(name) for each. */
#define SL_SSL_FUNCS(X)                       \
	X(SSL_CTX_check_private_key)          \
	X(SSL_CTX_ctrl)                       \
	X(SSL_CTX_free)                       \
	X(SSL_CTX_load_verify_locations)      \
	X(SSL_CTX_new)                        \
	X(SSL_CTX_set_default_verify_paths)   \
	X(SSL_CTX_set_verify)                 \
	X(SSL_CTX_use_PrivateKey_file)        \
	X(SSL_CTX_use_certificate_chain_file) \
	X(SSL_connect)                        \
	X(SSL_ctrl)                           \
	X(SSL_free)                           \
	X(SSL_get0_param)                     \
	X(SSL_get_error)                      \
	X(SSL_get_verify_result)              \
	X(SSL_new)                            \
	X(SSL_read)                           \
	X(SSL_set1_host)                      \
	X(SSL_set_accept_state)               \
	X(SSL_set_bio)                        \
	X(SSL_shutdown)                       \
	X(SSL_write)                          \
	X(TLS_client_method)                  \
	X(TLS_server_method)

/** Declares the slot of OpenSSL's function `n`, typed after its prototype. */
#define SL_OSSL_DECLARE(n) extern __typeof__(&n) sl_ossl_##n;
SL_CRYPTO_FUNCS(SL_OSSL_DECLARE)
SL_SSL_FUNCS(SL_OSSL_DECLARE)
#undef SL_OSSL_DECLARE

/** libcrypto, libcrypto.so.3 (Debian's libssl3); tests may rename it. */
extern struct sl_dl_lib sl_crypto_lib;
/** libssl, libssl.so.3; tests may rename it. */
extern struct sl_dl_lib sl_ssl_lib;

/**
 * Load libcrypto once for the process. 0, or -1 with the diagnostic set
 * ("cannot load libcrypto.so.3 (needed for SHA-256, HMAC and TLS): ...").
 */
int sl_crypto_load(void);

/**
 * Load libcrypto and libssl once for the process. 0, or -1 with the
 * diagnostic set ("cannot load libssl.so.3 (needed for TLS): ...").
 */
int sl_ssl_load(void);

#define BIO_clear_flags               sl_ossl_BIO_clear_flags
#define BIO_ctrl_pending              sl_ossl_BIO_ctrl_pending
#define BIO_free                      sl_ossl_BIO_free
#define BIO_get_data                  sl_ossl_BIO_get_data
#define BIO_get_new_index             sl_ossl_BIO_get_new_index
#define BIO_meth_new                  sl_ossl_BIO_meth_new
#define BIO_meth_set_create           sl_ossl_BIO_meth_set_create
#define BIO_meth_set_ctrl             sl_ossl_BIO_meth_set_ctrl
#define BIO_meth_set_read             sl_ossl_BIO_meth_set_read
#define BIO_meth_set_write            sl_ossl_BIO_meth_set_write
#define BIO_new                       sl_ossl_BIO_new
#define BIO_read                      sl_ossl_BIO_read
#define BIO_s_mem                     sl_ossl_BIO_s_mem
#define BIO_set_data                  sl_ossl_BIO_set_data
#define BIO_set_flags                 sl_ossl_BIO_set_flags
#define BIO_set_init                  sl_ossl_BIO_set_init
#define BIO_write                     sl_ossl_BIO_write
#define CRYPTO_memcmp                 sl_ossl_CRYPTO_memcmp
#define ERR_clear_error               sl_ossl_ERR_clear_error
#define ERR_error_string_n            sl_ossl_ERR_error_string_n
#define ERR_get_error                 sl_ossl_ERR_get_error
#define ERR_peek_last_error           sl_ossl_ERR_peek_last_error
#define EVP_Digest                    sl_ossl_EVP_Digest
#define EVP_DigestFinal_ex            sl_ossl_EVP_DigestFinal_ex
#define EVP_DigestInit_ex             sl_ossl_EVP_DigestInit_ex
#define EVP_DigestUpdate              sl_ossl_EVP_DigestUpdate
#define EVP_MD_CTX_free               sl_ossl_EVP_MD_CTX_free
#define EVP_MD_CTX_new                sl_ossl_EVP_MD_CTX_new
#define EVP_sha256                    sl_ossl_EVP_sha256
#define HMAC                          sl_ossl_HMAC
#define RAND_bytes                    sl_ossl_RAND_bytes
#define X509_VERIFY_PARAM_set1_ip_asc sl_ossl_X509_VERIFY_PARAM_set1_ip_asc
#define X509_verify_cert_error_string sl_ossl_X509_verify_cert_error_string
#define SSL_CTX_check_private_key     sl_ossl_SSL_CTX_check_private_key
#define SSL_CTX_ctrl                  sl_ossl_SSL_CTX_ctrl
#define SSL_CTX_free                  sl_ossl_SSL_CTX_free
#define SSL_CTX_load_verify_locations sl_ossl_SSL_CTX_load_verify_locations
#define SSL_CTX_new                   sl_ossl_SSL_CTX_new
#define SSL_CTX_set_default_verify_paths \
	sl_ossl_SSL_CTX_set_default_verify_paths
#define SSL_CTX_set_verify          sl_ossl_SSL_CTX_set_verify
#define SSL_CTX_use_PrivateKey_file sl_ossl_SSL_CTX_use_PrivateKey_file
#define SSL_CTX_use_certificate_chain_file \
	sl_ossl_SSL_CTX_use_certificate_chain_file
#define SSL_connect           sl_ossl_SSL_connect
#define SSL_ctrl              sl_ossl_SSL_ctrl
#define SSL_free              sl_ossl_SSL_free
#define SSL_get0_param        sl_ossl_SSL_get0_param
#define SSL_get_error         sl_ossl_SSL_get_error
#define SSL_get_verify_result sl_ossl_SSL_get_verify_result
#define SSL_new               sl_ossl_SSL_new
#define SSL_read              sl_ossl_SSL_read
#define SSL_set1_host         sl_ossl_SSL_set1_host
#define SSL_set_accept_state  sl_ossl_SSL_set_accept_state
#define SSL_set_bio           sl_ossl_SSL_set_bio
#define SSL_shutdown          sl_ossl_SSL_shutdown
#define SSL_write             sl_ossl_SSL_write
#define TLS_client_method     sl_ossl_TLS_client_method
#define TLS_server_method     sl_ossl_TLS_server_method

#endif
