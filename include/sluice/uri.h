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
 * > 0) without its secrets, reading it the way libpq reads it:
 *
 * - "scheme://user:pass@host..." becomes "scheme://user@host...": the
 *   user information ends at the last '@' before the first '/', or, when
 *   the authority's "port" is not digits (a password with an unencoded
 *   '/'), at the last '@' after it. A Bolt token in the password position
 *   goes the same way.
 * - In the query, every key is percent-decoded ("pass%77ord") before it
 *   is compared with the secret keywords (password, sslpassword,
 *   oauth_client_secret); their values, up to the next '&', become "***".
 * - A key=value string is tokenized as libpq does (white space around
 *   '=', '\''-quoted values, backslash escapes); secret values become
 *   "***", and a dbname holding a URI or key=value string (which libpq
 *   expands) is redacted in turn.
 *
 * Anything else ("sqlite:PATH") is copied. Returns `out`.
 */
char *sl_uri_redact(const char *uri, char *out, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_URI_H */
