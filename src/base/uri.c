/*
 * sluice: URI helpers (see sluice/uri.h).
 */
#include "sluice/uri.h"

#include <stdbool.h>
#include <string.h>

char *
sl_uri_redact(const char *uri, char *out, size_t size)
{
	if (size == 0)
		return out;
	size_t n = 0;
	/** Append s[0..len) to out, truncating. */
#define PUT(s, len)                        \
	do {                               \
		size_t l_ = (len);         \
		if (l_ > size - 1 - n)     \
			l_ = size - 1 - n; \
		memcpy(out + n, (s), l_);  \
		n += l_;                   \
	} while (0)
	const char *scheme = strstr(uri, "://");
	const char *auth = scheme != NULL ? scheme + 3 : uri;
	size_t alen = scheme != NULL ? strcspn(auth, "/?#") : 0;
	const char *at = NULL;
	for (const char *c = auth; c < auth + alen; c++)
		if (*c == '@')
			at = c;
	const char *colon =
	        at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	const char *rest = uri;
	if (colon != NULL) {
		PUT(uri, (size_t)(colon - uri));
		rest = at;
	}
	/* Drop password=... from a query string or key=value pairs. */
	while (*rest != '\0') {
		const char *p = strstr(rest, "password=");
		bool at_key = p != NULL &&
		              (p == uri || p[-1] == ' ' || p[-1] == '?' ||
		               p[-1] == '&' || p[-1] == '\t');
		if (p == NULL) {
			PUT(rest, strlen(rest));
			break;
		}
		if (!at_key) {
			PUT(rest, (size_t)(p - rest) + 9);
			rest = p + 9;
			continue;
		}
		PUT(rest, (size_t)(p - rest));
		const char *end = p + 9;
		if (*end == '\'') {
			for (end++; *end != '\0' && *end != '\''; end++)
				if (*end == '\\' && end[1] != '\0')
					end++;
			if (*end == '\'')
				end++;
		} else {
			end += strcspn(end, " \t&#");
		}
		PUT("password=***", 12);
		rest = end;
	}
#undef PUT
	out[n] = '\0';
	return out;
}
