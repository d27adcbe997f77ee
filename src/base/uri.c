/*
 * sluice: URI helpers (see sluice/uri.h).
 *
 * sl_uri_redact() reads a URI or a key=value connection string the way
 * libpq reads it (fe-connect.c: conninfo_uri_parse_options() and
 * conninfo_parse()), never by pattern: the user information of a URI, its
 * query keys after percent-decoding, and the keywords of a key=value
 * string after their quotes and backslash escapes. Where libpq and a
 * reader of the URI could disagree (an unencoded '@' or '/' in the
 * password), it drops the larger part.
 */
#include "sluice/uri.h"

#include <stdbool.h>
#include <string.h>

/** The output of sl_uri_redact(): out[0..size), `n` bytes written. */
struct redact_out {
	/** The output buffer. */
	char *buf;
	/** Its size (> 0); the last byte is kept for the NUL. */
	size_t size;
	/** Bytes written so far (< size). */
	size_t n;
};

/**
 * The libpq keywords whose values are secrets (those libpq marks with
 * dispchar "*": password and sslpassword; oauth_client_secret since
 * PostgreSQL 18). sslkey, sslcert, passfile and the like are paths.
 */
static const char *const secret_keys[] = {"password", "sslpassword",
                                          "oauth_client_secret", NULL};

/** Longest keyword or nested connection string decoded here. */
#define REDACT_DECODED 512

/** How many times a dbname value is read as a connection string. */
#define REDACT_DEPTH 2

/** Append s[0..len) to the output, truncating. */
static void
put(struct redact_out *o, const char *s, size_t len)
{
	if (len > o->size - 1 - o->n)
		len = o->size - 1 - o->n;
	memcpy(o->buf + o->n, s, len);
	o->n += len;
}

/** Whether key[0..len) is a keyword whose value is a secret. */
static bool
is_secret(const char *key, size_t len)
{
	for (const char *const *k = secret_keys; *k != NULL; k++)
		if (strlen(*k) == len && memcmp(*k, key, len) == 0)
			return true;
	return false;
}

/** The value of the hex digit `c`, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/**
 * Whether the percent-decoded s[0..len) (libpq decodes every query key;
 * '+' stays '+') is a secret keyword.
 */
static bool
is_secret_encoded(const char *s, size_t len)
{
	char key[64];
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (k == sizeof(key))
			return false;
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			key[k++] = (char)(hexval(s[i + 1]) * 16 +
			                  hexval(s[i + 2]));
			i += 2;
		} else {
			key[k++] = s[i];
		}
	}
	return is_secret(key, k);
}

/** Whether `c` is white space as libpq's conninfo_parse() sees it. */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/**
 * The length of the "scheme://" that starts `s` (a letter, then letters,
 * digits, '+', '-' or '.'), or 0.
 */
static size_t
scheme_len(const char *s)
{
	size_t i = 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	       (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
	       s[i] == '.')
		i++;
	return strncmp(s + i, "://", 3) == 0 ? i + 3 : 0;
}

/**
 * Whether the authority a[0..len) (hosts and ports, no '@') has a port
 * that is not digits: then the text after its ':' is a password that held
 * an unencoded '/', and the user information goes on past the '/'.
 */
static bool
bad_port(const char *a, size_t len)
{
	bool in_brackets = false, in_port = false;
	for (size_t i = 0; i < len; i++) {
		char c = a[i];
		if (in_port) {
			if (c == ',')
				in_port = false;
			else if (c < '0' || c > '9')
				return true;
		} else if (c == '[') {
			in_brackets = true;
		} else if (c == ']') {
			in_brackets = false;
		} else if (c == ':' && !in_brackets) {
			in_port = true;
		}
	}
	return false;
}

static void redact_any(struct redact_out *o, const char *s, int depth);

/** Redact the URI `uri`, whose "scheme://" is plen bytes long. */
static void
redact_uri(struct redact_out *o, const char *uri, size_t plen)
{
	const char *start = uri + plen;
	put(o, uri, plen);
	/* libpq: the user information ends at the first '@' before the
	 * first '/'. Here it ends at the last '@' before the first '/' or
	 * '?' (the end of the authority), so that a password with an '@' is
	 * dropped whole (libpq would read its tail as the host: src/db/pg
	 * refuses such a URI), and an '@' in a query value is not taken for
	 * the end of the user information. */
	const char *auth_end = start + strcspn(start, "/?");
	const char *ui_end = NULL;
	for (const char *c = start; c < auth_end; c++)
		if (*c == '@')
			ui_end = c;
	/* "u:a/b@host", "u:a?b@host": no '@' before the '/' or '?', but the
	 * "port" is no port: the password holds the '/' or '?'. */
	if (ui_end == NULL && *auth_end != '\0' &&
	    bad_port(start, (size_t)(auth_end - start)))
		for (const char *c = auth_end; *c != '\0'; c++)
			if (*c == '@')
				ui_end = c;
	const char *rest = start;
	if (ui_end != NULL) {
		/* The user ends at a ':'; at a '?' too: "h?password=a@b" has
		 * no '/', so libpq takes "h?password=a" for the user. */
		const char *user_end = start;
		while (user_end < ui_end && *user_end != ':' &&
		       *user_end != '?')
			user_end++;
		put(o, start, (size_t)(user_end - start));
		rest = ui_end;
	}
	const char *q = strchr(rest, '?');
	if (q == NULL) {
		put(o, rest, strlen(rest));
		return;
	}
	put(o, rest, (size_t)(q + 1 - rest));
	/* libpq: parameters split at '&', then at the first '='; the key
	 * and the value are percent-decoded; '#' is no delimiter. */
	const char *p = q + 1;
	for (;;) {
		const char *e = p + strcspn(p, "&");
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (eq != NULL && is_secret_encoded(p, (size_t)(eq - p))) {
			put(o, p, (size_t)(eq + 1 - p));
			put(o, "***", 3);
		} else {
			put(o, p, (size_t)(e - p));
		}
		if (*e != '&')
			break;
		put(o, "&", 1);
		p = e + 1;
	}
}

/**
 * Redact a key=value connection string, tokenized as libpq's
 * conninfo_parse() does: white space around '=', values quoted with '\''
 * or not, backslash escapes in both. The value of a secret keyword
 * becomes "***"; a dbname holding a URI or a key=value string (which
 * libpq expands) is redacted in turn. What does not parse is copied.
 */
static void
redact_kv(struct redact_out *o, const char *s, int depth)
{
	const char *p = s;
	for (;;) {
		const char *ws = p;
		while (is_space(*p))
			p++;
		put(o, ws, (size_t)(p - ws));
		if (*p == '\0')
			return;
		const char *key = p;
		while (*p != '\0' && *p != '=' && !is_space(*p))
			p++;
		size_t klen = (size_t)(p - key);
		while (is_space(*p))
			p++;
		if (*p != '=') {
			/* libpq refuses it; nothing here is a value. */
			put(o, key, strlen(key));
			return;
		}
		p++;
		while (is_space(*p))
			p++;
		put(o, key, (size_t)(p - key));
		const char *val = p;
		char dec[REDACT_DECODED];
		size_t dlen = 0;
		bool quoted = *p == '\'';
		if (quoted)
			p++;
		while (*p != '\0' && (quoted ? *p != '\'' : !is_space(*p))) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (dlen < sizeof(dec) - 1)
				dec[dlen] = *p;
			dlen++;
			p++;
		}
		if (quoted && *p == '\'')
			p++;
		/* dec holds the first `have` bytes of the value. */
		size_t have = dlen < sizeof(dec) ? dlen : sizeof(dec) - 1;
		bool nested =
		        klen == 6 && memcmp(key, "dbname", 6) == 0 &&
		        (memchr(dec, '=', have) != NULL ||
		         (have >= 13 &&
		          memcmp(dec, "postgresql://", 13) == 0) ||
		         (have >= 11 && memcmp(dec, "postgres://", 11) == 0));
		if (is_secret(key, klen) ||
		    (nested && (depth >= REDACT_DEPTH || have < dlen))) {
			put(o, "***", 3);
		} else if (nested) {
			dec[dlen] = '\0';
			put(o, "'", 1);
			redact_any(o, dec, depth + 1);
			put(o, "'", 1);
		} else {
			put(o, val, (size_t)(p - val));
		}
	}
}

/** Redact `s`, a URI or a key=value string; depth counts nestings. */
static void
redact_any(struct redact_out *o, const char *s, int depth)
{
	size_t plen = scheme_len(s);
	if (plen > 0)
		redact_uri(o, s, plen);
	else
		redact_kv(o, s, depth);
}

char *
sl_uri_redact(const char *uri, char *out, size_t size)
{
	if (size == 0)
		return out;
	struct redact_out o = {.buf = out, .size = size, .n = 0};
	redact_any(&o, uri, 0);
	out[o.n] = '\0';
	return out;
}
