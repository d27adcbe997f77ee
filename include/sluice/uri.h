/*
 * sluice: URI helpers that every layer may use: showing a URI or a
 * connection string without its secrets. Errors and logs that name a
 * database or target URI show it through sl_uri_redact().
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
 * host" becomes "scheme://user@host"; the value of a "password=..." key of
 * a key=value string or URI query becomes "***". Returns `out`.
 */
char *sl_uri_redact(const char *uri, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_URI_H */
