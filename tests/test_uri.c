/*
 * sl_uri_redact(): URIs parsed the way libpq parses them (the user
 * information up to its '@', percent-encoded query keys, every secret
 * key), key=value connection strings with quotes and backslash escapes,
 * Bolt URIs with a token in the password position, and ordinary URIs
 * that must come out unchanged.
 */
#include <stdio.h>
#include <string.h>

#include "sluice/uri.h"
#include "unit.h"

/** The redaction of `uri` (in a static buffer). */
static const char *
red(const char *uri)
{
	static char out[512];
	return sl_uri_redact(uri, out, sizeof(out));
}

/** The redaction of `uri` holds none of `secret`. */
static int
hides(const char *uri, const char *secret)
{
	return strstr(red(uri), secret) == NULL;
}

/** Secrets in the query string, percent-encoded keys included. */
TAP_CASE(query_keys)
{
	is_str(red("postgresql://u@host/db?pass%77ord=secret"),
	       "postgresql://u@host/db?pass%77ord=***",
	       "a percent-encoded password key");
	is_str(red("postgresql://u@host/db?%70%61%73%73%77%6F%72%64=secret"),
	       "postgresql://u@host/db?%70%61%73%73%77%6F%72%64=***",
	       "a wholly encoded key");
	is_str(red("postgresql://u@host/db?sslpassword=secret"),
	       "postgresql://u@host/db?sslpassword=***", "sslpassword");
	is_str(red("postgresql://u@host/db?ssl%70assword=secret&x=1"),
	       "postgresql://u@host/db?ssl%70assword=***&x=1",
	       "an encoded sslpassword");
	is_str(red("postgresql://u@h/db?sslmode=require&password=a%26b&"
	           "connect_timeout=5&sslkey=/k.pem"),
	       "postgresql://u@h/db?sslmode=require&password=***&"
	       "connect_timeout=5&sslkey=/k.pem",
	       "several keys; sslkey is a path and stays");
	ok(hides("postgresql://u@h/db?password=a#b&x=1", "a#b"),
	   "a '#' in a query value is part of it, as libpq reads it");
	is_str(red("postgresql://u@h/db?password="),
	       "postgresql://u@h/db?password=***", "an empty password");
	is_str(red("postgresql://u@h/db?oauth_client_secret=s"),
	       "postgresql://u@h/db?oauth_client_secret=***",
	       "oauth_client_secret");
	is_str(red("postgresql://u@h/db?application_name=password=x"),
	       "postgresql://u@h/db?application_name=password=x",
	       "password= inside another value is not a key");
}

/** The user information, ending at its '@' as libpq finds it. */
TAP_CASE(userinfo)
{
	is_str(red("postgresql://u:sec@ret@host/db"), "postgresql://u@host/db",
	       "an unencoded '@' in the password");
	is_str(red("postgresql://u:a/b@host/db"), "postgresql://u@host/db",
	       "an unencoded '/' in the password");
	ok(hides("postgresql://u:a?b@host/db", "a?b"), "a '?' in the password");
	ok(hides("postgresql://h?password=se@cret", "se"),
	   "an '@' in a query value with no path");
	is_str(red("postgresql://u@h:1?password=se@cret"),
	       "postgresql://u@h:1?password=***",
	       "an '@' in a query value after a user");
	is_str(red("postgresql://u:a?b@host/db"), "postgresql://u@host/db",
	       "an unencoded '?' in the password");
	is_str(red("postgresql://u:p%40w@host/db"), "postgresql://u@host/db",
	       "a %%40-encoded password");
	is_str(red("postgresql://u:@host/db"), "postgresql://u@host/db",
	       "an empty password");
	is_str(red("postgresql://u:pw@[::1]:5432/db"),
	       "postgresql://u@[::1]:5432/db", "an IPv6 host and a port");
	is_str(red("postgresql://[::1]:5432/db?sslmode=disable"),
	       "postgresql://[::1]:5432/db?sslmode=disable", "no user");
	is_str(red("postgresql://u:pw@h1:1,h2:2/db"),
	       "postgresql://u@h1:1,h2:2/db", "several hosts");
	is_str(red("postgresql://host"), "postgresql://host", "a bare host");
	is_str(red("bolt://neo4j:tok.en-123@h:7687"), "bolt://neo4j@h:7687",
	       "a Bolt token in the password position");
	is_str(red("bolt://:tok@h"), "bolt://@h", "a token with no user");
	is_str(red("bolt://h:7687/a@b"), "bolt://h:7687/a@b",
	       "an '@' in the path after a numeric port");
	is_str(red("bolt://u:p@h:1/x?y#z"), "bolt://u@h:1/x?y#z",
	       "path, query and fragment");
	is_str(red("sqlite:r.db"), "sqlite:r.db", "not a URI");
	char r[16];
	is_str(sl_uri_redact("bolt://u:p@h", r, 9), "bolt://u", "truncated");
}

/** key=value connection strings, as libpq tokenizes them. */
TAP_CASE(keyword_value)
{
	is_str(red("host=h password=secret dbname=d"),
	       "host=h password=*** dbname=d", "unquoted");
	is_str(red("host=h password='a b\\' c' dbname=d"),
	       "host=h password=*** dbname=d", "quoted, with an escaped quote");
	is_str(red("password = secret host=h"), "password = *** host=h",
	       "spaces around '='");
	is_str(red("password=a\\ b host=h"), "password=*** host=h",
	       "a backslash-escaped space in an unquoted value");
	is_str(red("host=h sslpassword=x"), "host=h sslpassword=***",
	       "sslpassword");
	is_str(red("host=h password=''"), "host=h password=***",
	       "an empty quoted password");
	ok(hides("host=h password='unterminated", "unterminated"),
	   "an unterminated quote");
	ok(hides("dbname='postgresql://u:secret@h/d' host=h", "secret"),
	   "a URI in dbname (libpq expands it)");
	ok(hides("dbname='password=secret host=h'", "secret"),
	   "a key=value string in dbname");
	is_str(red("host=h sslkey=/k.pem dbname=d"),
	       "host=h sslkey=/k.pem dbname=d", "no secret");
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
