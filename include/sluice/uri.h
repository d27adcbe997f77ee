/*
 * sluice: URI helpers that every layer may use: showing a URI or a
 * connection string without its secrets.
 */
#ifndef SLUICE_URI_H
#define SLUICE_URI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Copy `uri` to out[0..size) (truncated, always NUL-terminated when size
 * > 0) without the password of its user information: "scheme://user:pass@
 * host" becomes "scheme://user@host"; a "password=..." key of a key=value
 * string or URI query is dropped too. Returns `out`.
 */
char *sl_uri_redact(const char *uri, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_URI_H */
