/*
 * sluice: Bolt URIs.
 *
 *   SCHEME://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE][?KEY=VALUE&...]
 *
 * SCHEME is bolt (direct) or neo4j (routed), with "+s" for TLS verified
 * against the system's CAs (or ?ca=FILE) and "+ssc" for TLS accepting a
 * self-signed certificate. Keys: auth=basic|bearer|none (basic when a user
 * is given, else none; bearer takes the token as the PASSWORD), realm=.
 * User, password and database are percent-decoded.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bolt.h"
#include "sluice/diag.h"

/** A scheme and what it means. */
struct scheme {
	/** The prefix, with "://". */
	const char *prefix;
	/** Routed. */
	bool routing;
	/** TLS. */
	bool tls;
	/** Accept any certificate. */
	bool trust_all;
};

/** The schemes, longest first where one prefixes another. */
static const struct scheme schemes[] = {
        {"bolt+ssc://", false, true, true}, {"bolt+s://", false, true, false},
        {"bolt://", false, false, false},   {"neo4j+ssc://", true, true, true},
        {"neo4j+s://", true, true, false},  {"neo4j://", true, false, false},
};

/** Number of schemes. */
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

bool
bolt_uri_is(const char *url)
{
	for (size_t i = 0; i < NSCHEMES; i++)
		if (strncmp(url, schemes[i].prefix,
		            strlen(schemes[i].prefix)) == 0)
			return true;
	return false;
}

/** Value of hex digit `c`, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/**
 * Percent-decode s[0..n) into out[0..size). 0, or -1 with SL_EINVAL naming
 * `what` (never its text: it may be a secret).
 */
static int
decode(const char *s, size_t n, char *out, size_t size, const char *what,
       const char *shown)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < n ? hexval((unsigned char)s[i + 1])
			                   : -1;
			int lo = i + 2 < n ? hexval((unsigned char)s[i + 2])
			                   : -1;
			if (hi < 0 || lo < 0) {
				sl_diag_set(
				        SL_EINVAL,
				        "%s: bad percent-encoding in the %s",
				        shown, what);
				return -1;
			}
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0) {
			sl_diag_set(SL_EINVAL, "%s: the %s holds a NUL byte",
			            shown, what);
			return -1;
		}
		if (k + 1 >= size) {
			sl_diag_set(
			        SL_EINVAL,
			        "%s: the %s is too long (at most %zu bytes)",
			        shown, what, size - 1);
			return -1;
		}
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return 0;
}

/** Parse one query key=value pair p[0..n). */
static int
query_pair(const char *p, size_t n, const char *shown, struct bolt_uri *u,
           bool *auth_given)
{
	const char *eq = memchr(p, '=', n);
	size_t kn = eq != NULL ? (size_t)(eq - p) : n;
	const char *v = eq != NULL ? eq + 1 : p + n;
	size_t vn = (size_t)(p + n - v);
	char val[BOLT_NAME_MAX];
	if (decode(v, vn, val, sizeof(val), "query", shown) != 0)
		return -1;
	if (kn == 4 && memcmp(p, "auth", 4) == 0) {
		if (strcmp(val, "basic") == 0)
			u->auth = BOLT_AUTH_BASIC;
		else if (strcmp(val, "bearer") == 0)
			u->auth = BOLT_AUTH_BEARER;
		else if (strcmp(val, "none") == 0)
			u->auth = BOLT_AUTH_NONE;
		else {
			sl_diag_set(
			        SL_EINVAL,
			        "%s: auth=%s: expected basic, bearer or none",
			        shown, val);
			return -1;
		}
		*auth_given = true;
	} else if (kn == 5 && memcmp(p, "realm", 5) == 0) {
		snprintf(u->realm, sizeof(u->realm), "%s", val);
	} else if (kn == 2 && memcmp(p, "ca", 2) == 0) {
		snprintf(u->ca, sizeof(u->ca), "%s", val);
	} else {
		sl_diag_set(SL_EINVAL,
		            "%s: unknown option '%.*s' (a Bolt URI takes auth, "
		            "realm and ca)",
		            shown, (int)kn, p);
		return -1;
	}
	return 0;
}

int
bolt_uri_parse(const char *url, const char *shown, struct bolt_uri *u)
{
	memset(u, 0, sizeof(*u));
	const struct scheme *sc = NULL;
	for (size_t i = 0; i < NSCHEMES && sc == NULL; i++)
		if (strncmp(url, schemes[i].prefix,
		            strlen(schemes[i].prefix)) == 0)
			sc = &schemes[i];
	if (sc == NULL) {
		sl_diag_set(SL_EINVAL,
		            "%s: not a Bolt URI (bolt://, neo4j://, with +s or "
		            "+ssc for TLS)",
		            shown);
		return -1;
	}
	u->routing = sc->routing;
	u->tls = sc->tls;
	u->trust_all = sc->trust_all;
	u->port = BOLT_PORT;
	const char *p = url + strlen(sc->prefix);
	size_t auth_end = strcspn(p, "/?#");
	/* The last '@' before the path ends the user info, so that an
	 * unencoded '@' in a password does not become the host. */
	const char *at = NULL;
	for (size_t i = 0; i < auth_end; i++)
		if (p[i] == '@')
			at = p + i;
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		size_t un =
		        colon != NULL ? (size_t)(colon - p) : (size_t)(at - p);
		if (decode(p, un, u->user, sizeof(u->user), "user name",
		           shown) != 0)
			return -1;
		if (colon != NULL &&
		    decode(colon + 1, (size_t)(at - colon - 1), u->secret,
		           sizeof(u->secret), "password", shown) != 0)
			return -1;
		auth_end -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	const char *host = p;
	size_t hn = auth_end;
	const char *portp = NULL;
	if (hn > 0 && host[0] == '[') {
		const char *close = memchr(host, ']', hn);
		if (close == NULL) {
			sl_diag_set(SL_EINVAL, "%s: unclosed '[' in the host",
			            shown);
			return -1;
		}
		if (close + 1 < host + hn && close[1] == ':')
			portp = close + 2;
		hn = (size_t)(close - host - 1);
		host++;
	} else {
		const char *colon = memchr(host, ':', hn);
		if (colon != NULL) {
			portp = colon + 1;
			hn = (size_t)(colon - host);
		}
	}
	if (hn == 0) {
		sl_diag_set(SL_EINVAL, "%s: no host", shown);
		return -1;
	}
	if (hn >= sizeof(u->host)) {
		sl_diag_set(SL_EINVAL, "%s: host name too long", shown);
		return -1;
	}
	memcpy(u->host, host, hn);
	u->host[hn] = '\0';
	if (portp != NULL) {
		char *end;
		long port = strtol(portp, &end, 10);
		if (end == portp || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != '/' && *end != '?' &&
		     *end != '#')) {
			sl_diag_set(SL_EINVAL,
			            "%s: bad port (expected 1 to 65535)",
			            shown);
			return -1;
		}
		u->port = (int)port;
	}
	p += strcspn(p, "/?#");
	if (*p == '/') {
		p++;
		size_t dn = strcspn(p, "?#");
		if (decode(p, dn, u->db, sizeof(u->db), "database name",
		           shown) != 0)
			return -1;
		p += dn;
	}
	bool auth_given = false;
	if (*p == '?') {
		p++;
		while (*p != '\0' && *p != '#') {
			size_t n = strcspn(p, "&#");
			if (n > 0 &&
			    query_pair(p, n, shown, u, &auth_given) != 0)
				return -1;
			p += n;
			if (*p == '&')
				p++;
		}
	}
	if (!auth_given)
		u->auth = u->user[0] != '\0' ? BOLT_AUTH_BASIC : BOLT_AUTH_NONE;
	if (u->auth == BOLT_AUTH_BEARER && u->secret[0] == '\0') {
		sl_diag_set(SL_EINVAL,
		            "%s: auth=bearer takes the token as the password "
		            "(bolt://:TOKEN@host?auth=bearer)",
		            shown);
		return -1;
	}
	return 0;
}
