/*
 * A small S3 client on the HTTP layer (see sluice/s3.h).
 */
#include "sluice/s3.h"
#include "objstore.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/log.h"
#include "sluice/task.h"
#include "rt/ssl_dl.h"

/** Longest s3://BUCKET/KEY kept for messages. */
#define SHOWN_MAX 512

/** Longest URL or header built (bucket, key and token encoded). */
#define URL_MAX ((size_t)64 << 10)

/** Most headers a request sends (and the NULL after them). */
#define HEADERS_MAX 6

/** SHA-256 of no bytes, in hex: the payload hash of a bodiless request. */
static const char empty_sha256[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Most seconds before expiry that assumed credentials are renewed. */
#define ROLE_MARGIN_MAX 900

/** Most seconds between retries of a failed renewal. */
#define ROLE_RETRY_MAX 30

/** AssumeRole requests made at most for one assumption. */
#define STS_TRIES 3

/**
 * A role the client assumes through STS AssumeRole, and the temporary
 * credentials it has from the last AssumeRole.
 */
struct role {
	/** The role's ARN. */
	char *arn;
	/** ExternalId sent, or NULL. */
	char *external_id;
	/** URL AssumeRole is posted to (https://sts.REGION.amazonaws.com/). */
	char *url;
	/** "ARN (STS URL)" for messages, the URL redacted. */
	char *shown;
	/** libcurl's SigV4 provider string, "aws:amz:REGION:sts". */
	char *provider;
	/** Temporary access key id, or NULL before the first AssumeRole. */
	char *id;
	/** Temporary secret access key, or NULL. */
	char *secret;
	/** "x-amz-security-token: TOKEN" of the temporary credentials. */
	char *token_header;
	/** When they expire, by the local clock (skew taken out). */
	time_t expires;
	/** When to renew them (before `expires`). */
	time_t refresh_at;
	/** Whether a task is assuming the role now (others do not). */
	bool busy;
	/** AssumeRole calls that succeeded. */
	unsigned long count;
};

/** A client (sluice/s3.h). */
struct sl_s3 {
	/** Endpoint without a trailing slash, or NULL: AWS's own. */
	char *endpoint;
	/** Region signed for. */
	char *region;
	/** Access key id (with a role: of the base credentials). */
	char *key_id;
	/** Secret access key (with a role: of the base credentials). */
	char *secret;
	/** "x-amz-security-token: TOKEN", or NULL (base, with a role). */
	char *token_header;
	/** The role assumed for S3 requests, or NULL: the keys above. */
	struct role *role;
	/** libcurl's SigV4 provider string, "aws:amz:REGION:s3". */
	char *provider;
	/** max-keys of list requests, or 0. */
	uint32_t page_size;
	/** Request options (time limits, buffer). */
	struct sl_http_opts http;
};

/* {{{ Configuration */

void
sl_s3_config_init(struct sl_s3_config *c)
{
	memset(c, 0, sizeof(*c));
	sl_http_opts_init(&c->http);
}

/** The value of environment variable `name` when set and not empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/** A copy of `s` (NULL stays NULL); false when out of memory. */
static bool
dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return true;
	*out = sl_strndup(s, strlen(s));
	return *out != NULL;
}

/** A new string made by printf, or NULL (SL_EOOM). */
static char *fmt_new(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

static char *
fmt_new(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n >= 0 ? sl_malloc((size_t)n + 1) : NULL;
	if (s == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for S3");
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/** Largest AWS shared credentials or config file read. */
#define AWS_FILE_MAX ((size_t)1 << 20)

/** What a profile of the AWS shared files gives. */
struct profile_vals {
	/** aws_access_key_id, or "". */
	char id[256];
	/** aws_secret_access_key, or "". */
	char secret[256];
	/** aws_session_token, or "". */
	char token[4096];
	/** region, or "". */
	char region[64];
	/** Whether the profile's section was found in a file. */
	bool found;
};

/** Trim blanks (and CR) at both ends of s[0..*n); returns the start. */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*n)--;
	}
	while (*n > 0 &&
	       (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
		(*n)--;
	return s;
}

/**
 * Read the keys of profile `profile` from the INI file at `path` (a
 * missing file gives nothing) into `v`, keeping what is set already. In
 * the config file (`config`), sections are "[profile NAME]" (and
 * "[default]"). 0, or -1 with an error naming the file.
 */
static int
read_profile(const char *path, const char *profile, bool config,
             struct profile_vals *v)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char *text = sl_malloc(AWS_FILE_MAX + 1);
	if (text == NULL) {
		fclose(f);
		sl_diag_set(SL_EOOM, "out of memory reading %s", path);
		return -1;
	}
	size_t len = fread(text, 1, AWS_FILE_MAX + 1, f);
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad || len > AWS_FILE_MAX) {
		sl_free(text);
		sl_diag_set(SL_EINVAL, "%s: %s", path,
		            bad ? "cannot be read"
		                : "larger than 1 MiB, not an AWS file");
		return -1;
	}
	text[len] = '\0';
	char want[300];
	if (config && strcmp(profile, "default") != 0)
		snprintf(want, sizeof(want), "profile %s", profile);
	else
		snprintf(want, sizeof(want), "%s", profile);
	bool in = false;
	for (char *line = text; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		size_t n = nl != NULL ? (size_t)(nl - line) : strlen(line);
		const char *l = trim(line, &n);
		line = nl != NULL ? nl + 1 : NULL;
		if (n == 0 || l[0] == '#' || l[0] == ';')
			continue;
		if (l[0] == '[') {
			size_t sn = n > 1 && l[n - 1] == ']' ? n - 2 : 0;
			const char *sec = trim(l + 1, &sn);
			in = sn == strlen(want) && memcmp(sec, want, sn) == 0;
			v->found = v->found || in;
			continue;
		}
		const char *eq = memchr(l, '=', n);
		if (!in || eq == NULL)
			continue;
		size_t kn = (size_t)(eq - l), vn = n - kn - 1;
		const char *k = trim(l, &kn);
		const char *val = trim(eq + 1, &vn);
		static const struct {
			const char *key;
			size_t off, size;
		} keys[] = {
		        {"aws_access_key_id", offsetof(struct profile_vals, id),
		         sizeof(v->id)},
		        {"aws_secret_access_key",
		         offsetof(struct profile_vals, secret),
		         sizeof(v->secret)},
		        {"aws_session_token",
		         offsetof(struct profile_vals, token),
		         sizeof(v->token)},
		        {"region", offsetof(struct profile_vals, region),
		         sizeof(v->region)},
		};
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char *dst = (char *)v + keys[i].off;
			if (strlen(keys[i].key) != kn ||
			    memcmp(k, keys[i].key, kn) != 0 || dst[0] != '\0')
				continue;
			if (vn >= keys[i].size) {
				sl_free(text);
				sl_diag_set(SL_EINVAL,
				            "%s: profile '%s': %s is longer "
				            "than %zu bytes",
				            path, profile, keys[i].key,
				            keys[i].size - 1);
				return -1;
			}
			memcpy(dst, val, vn);
			dst[vn] = '\0';
		}
	}
	memset(text, 0, len);
	sl_free(text);
	return 0;
}

/**
 * Read profile `profile` from the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials), then the config
 * file (AWS_CONFIG_FILE, else ~/.aws/config). The paths read go to
 * creds[]/conf[] for messages. 0, or -1.
 */
static int
read_profiles(const char *profile, struct profile_vals *v, char *creds,
              char *conf, size_t size)
{
	const char *home = env("HOME");
	const char *c = env("AWS_SHARED_CREDENTIALS_FILE");
	const char *g = env("AWS_CONFIG_FILE");
	if (c != NULL)
		snprintf(creds, size, "%s", c);
	else
		snprintf(creds, size, "%s/.aws/credentials",
		         home != NULL ? home : "");
	if (g != NULL)
		snprintf(conf, size, "%s", g);
	else
		snprintf(conf, size, "%s/.aws/config",
		         home != NULL ? home : "");
	if (read_profile(creds, profile, false, v) != 0 ||
	    read_profile(conf, profile, true, v) != 0)
		return -1;
	return 0;
}

static struct sl_s3 *make_client(const struct sl_s3_config *cfg, const char *id,
                                 const char *secret, const char *token,
                                 const char *region);
static int role_new(struct sl_s3 *s3, const struct sl_s3_config *cfg);
static void role_free(struct role *ro);
static int role_fresh(struct sl_s3 *s3);

struct sl_s3 *
sl_s3_new(const struct sl_s3_config *cfg)
{
	struct sl_s3_config dflt;
	if (cfg == NULL) {
		sl_s3_config_init(&dflt);
		cfg = &dflt;
	}
	const char *id = cfg->access_key_id, *secret = cfg->secret_access_key;
	const char *token = cfg->session_token;
	/* As the AWS SDKs: explicit keys, else the environment's (unless a
	 * profile is named), else the profile's in the shared files. */
	if (id == NULL && secret == NULL && cfg->profile == NULL) {
		id = env("AWS_ACCESS_KEY_ID");
		secret = env("AWS_SECRET_ACCESS_KEY");
		token = env("AWS_SESSION_TOKEN");
	}
	const char *profile = cfg->profile;
	if (profile == NULL)
		profile = env("AWS_PROFILE");
	if (profile == NULL)
		profile = "default";
	struct profile_vals *pv = sl_calloc(1, sizeof(*pv));
	char creds[PATH_MAX], conf[PATH_MAX];
	struct sl_s3 *s3 = NULL;
	if (pv == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for S3");
		return NULL;
	}
	if (read_profiles(profile, pv, creds, conf, sizeof(creds)) != 0)
		goto out;
	if (cfg->profile != NULL && !pv->found) {
		sl_diag_set(SL_EINVAL,
		            "AWS profile '%s' is in neither %s nor %s",
		            cfg->profile, creds, conf);
		goto out;
	}
	if (id == NULL && secret == NULL && pv->id[0] != '\0') {
		id = pv->id;
		secret = pv->secret[0] != '\0' ? pv->secret : NULL;
		token = pv->token[0] != '\0' ? pv->token : NULL;
	}
	if (id == NULL || secret == NULL) {
		sl_diag_set(SL_EINVAL,
		            "no AWS credentials: set AWS_ACCESS_KEY_ID and "
		            "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for "
		            "temporary ones), give aws_access_key_id and "
		            "aws_secret_access_key, or put them in profile "
		            "'%s' of %s",
		            profile, creds);
		goto out;
	}
	const char *region = cfg->region;
	if (region == NULL)
		region = env("AWS_REGION");
	if (region == NULL)
		region = env("AWS_DEFAULT_REGION");
	if (region == NULL && pv->region[0] != '\0')
		region = pv->region;
	if (region == NULL)
		region = "us-east-1";
	s3 = make_client(cfg, id, secret, token, region);
out:
	memset(pv, 0, sizeof(*pv));
	sl_free(pv);
	return s3;
}

/** The client of sl_s3_new() once its credentials are found. */
static struct sl_s3 *
make_client(const struct sl_s3_config *cfg, const char *id, const char *secret,
            const char *token, const char *region)
{
	for (const char *p = region; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-') {
			sl_diag_set(SL_EINVAL,
			            "AWS region '%s' is not a region name "
			            "(letters, digits and '-')",
			            region);
			return NULL;
		}
	const char *ep = cfg->endpoint;
	if (ep == NULL)
		ep = env("AWS_ENDPOINT_URL_S3");
	if (ep == NULL)
		ep = env("AWS_ENDPOINT_URL");
	if (ep != NULL && strncmp(ep, "http://", 7) != 0 &&
	    strncmp(ep, "https://", 8) != 0) {
		char shown[SHOWN_MAX];
		sl_diag_set(
		        SL_EINVAL,
		        "S3 endpoint '%s' is not an http:// or https:// URL",
		        sl_http_redact(ep, shown, sizeof(shown)));
		return NULL;
	}
	struct sl_s3 *s3 = sl_calloc(1, sizeof(*s3));
	if (s3 == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for S3");
		return NULL;
	}
	s3->http = cfg->http;
	s3->http.headers = NULL;
	s3->page_size = cfg->page_size;
	bool ok = dup_opt(ep, &s3->endpoint) && dup_opt(region, &s3->region) &&
	          dup_opt(id, &s3->key_id) && dup_opt(secret, &s3->secret);
	if (!ok) {
		sl_diag_set(SL_EOOM, "out of memory for S3");
		goto fail;
	}
	if (s3->endpoint != NULL) {
		size_t n = strlen(s3->endpoint);
		while (n > 0 && s3->endpoint[n - 1] == '/')
			s3->endpoint[--n] = '\0';
	}
	if (token != NULL &&
	    (s3->token_header = fmt_new("x-amz-security-token: %s", token)) ==
	            NULL)
		goto fail;
	if ((s3->provider = fmt_new("aws:amz:%s:s3", region)) == NULL)
		goto fail;
	if (cfg->assume_role_arn != NULL && cfg->assume_role_arn[0] != '\0' &&
	    role_new(s3, cfg) != 0)
		goto fail;
	return s3;
fail:
	sl_s3_free(s3);
	return NULL;
}

void
sl_s3_free(struct sl_s3 *s3)
{
	if (s3 == NULL)
		return;
	sl_free(s3->endpoint);
	sl_free(s3->region);
	sl_free(s3->key_id);
	if (s3->secret != NULL)
		memset(s3->secret, 0, strlen(s3->secret));
	sl_free(s3->secret);
	if (s3->token_header != NULL)
		memset(s3->token_header, 0, strlen(s3->token_header));
	sl_free(s3->token_header);
	sl_free(s3->provider);
	role_free(s3->role);
	sl_free(s3);
}

const char *
sl_s3_endpoint(const struct sl_s3 *s3)
{
	return s3->endpoint != NULL ? s3->endpoint : "https://amazonaws.com";
}

const char *
sl_s3_region(const struct sl_s3 *s3)
{
	return s3->region;
}

unsigned long
sl_s3_assumed(const struct sl_s3 *s3)
{
	return s3->role != NULL ? s3->role->count : 0;
}

/* }}} */

/* {{{ Requests */

/**
 * Append `s` percent-encoded as SigV4 wants it: every byte but letters,
 * digits and "-._~" (and '/' when `keep_slash`) as %XX in upper case.
 */
static int
put_encoded(struct sl_buf *b, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~' || (keep_slash && *p == '/')) {
			if (sl_buf_putc(b, (char)*p) != 0)
				return -1;
			continue;
		}
		char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		if (sl_buf_append(b, e, 3) != 0)
			return -1;
	}
	return 0;
}

/**
 * The URL of `key` of `bucket` (key NULL: the bucket itself) with the
 * query `query` (already canonical, or NULL) into `b`. 0, or -1.
 */
static int
make_url(const struct sl_s3 *s3, const char *bucket, const char *key,
         const char *query, struct sl_buf *b)
{
	int rc = 0;
	if (s3->endpoint != NULL) {
		rc = sl_buf_printf(b, "%s/", s3->endpoint);
		if (rc == 0)
			rc = put_encoded(b, bucket, false);
	} else if (strchr(bucket, '.') != NULL) {
		rc = sl_buf_printf(b, "https://s3.%s.amazonaws.com/",
		                   s3->region);
		if (rc == 0)
			rc = put_encoded(b, bucket, false);
	} else {
		rc = sl_buf_puts(b, "https://");
		if (rc == 0)
			rc = put_encoded(b, bucket, false);
		if (rc == 0)
			rc = sl_buf_printf(b, ".s3.%s.amazonaws.com",
			                   s3->region);
	}
	if (rc == 0 && (key != NULL || s3->endpoint == NULL))
		rc = sl_buf_putc(b, '/');
	if (rc == 0 && key != NULL)
		rc = put_encoded(b, key, true);
	if (rc == 0 && query != NULL)
		rc = sl_buf_printf(b, "?%s", query);
	return rc;
}

/** "s3://BUCKET/KEY" (key NULL: "s3://BUCKET") into out[0..SHOWN_MAX). */
static const char *
shown_name(const char *bucket, const char *key, char *out)
{
	snprintf(out, SHOWN_MAX, "s3://%s%s%s", bucket, key != NULL ? "/" : "",
	         key != NULL ? key : "");
	return out;
}

/** The hex SHA-256 of data[0..len) into out[65]. 0, or -1. */
static int
sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (sl_crypto_load() != 0)
		return -1;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		sl_diag_set(SL_EIO, "cannot compute SHA-256 for S3");
		return -1;
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/** A request of the client, in the making. */
struct req {
	/** Method ("GET"). */
	const char *method;
	/** Bucket. */
	const char *bucket;
	/** Key, or NULL for a bucket request. */
	const char *key;
	/** Canonical query string, or NULL. */
	const char *query;
	/** Body, or NULL. */
	const void *body;
	/** Size of `body`. */
	size_t body_len;
	/** One more header line ("x-amz-copy-source: ..."), or NULL. */
	const char *extra;
	/** s3://BUCKET/KEY for messages. */
	char shown[SHOWN_MAX];
};

/**
 * Send `r` and, with `wait`, wait for its response to begin. The transfer
 * whatever its status, or NULL with the transport's error.
 */
static struct sl_http *
send_req(struct sl_s3 *s3, struct req *r, bool wait)
{
	struct sl_buf url;
	sl_buf_create(&url, URL_MAX);
	char sha_line[100];
	char sha[65];
	if (r->body != NULL) {
		if (sha256_hex(r->body, r->body_len, sha) != 0)
			return NULL;
	} else {
		memcpy(sha, empty_sha256, sizeof(empty_sha256));
	}
	snprintf(sha_line, sizeof(sha_line), "x-amz-content-sha256: %s", sha);
	/* With a role, its temporary credentials, renewed if due. Nothing
	 * below yields before libcurl has copied them. */
	const char *id = s3->key_id, *secret = s3->secret;
	const char *token_header = s3->token_header;
	if (s3->role != NULL) {
		if (role_fresh(s3) != 0) {
			sl_diag_wrap(sl_diag_code(), "%s %s", r->method,
			             r->shown);
			sl_buf_destroy(&url);
			return NULL;
		}
		id = s3->role->id;
		secret = s3->role->secret;
		token_header = s3->role->token_header;
	}
	const char *headers[HEADERS_MAX + 1];
	size_t nh = 0;
	headers[nh++] = sha_line;
	if (token_header != NULL)
		headers[nh++] = token_header;
	if (r->body != NULL) {
		headers[nh++] = "Content-Type: application/octet-stream";
		headers[nh++] = "Expect:";
	}
	if (r->extra != NULL)
		headers[nh++] = r->extra;
	headers[nh] = NULL;
	if (make_url(s3, r->bucket, r->key, r->query, &url) != 0) {
		sl_diag_wrap(sl_diag_code(), "%s %s", r->method, r->shown);
		sl_buf_destroy(&url);
		return NULL;
	}
	struct sl_http_opts o = s3->http;
	o.headers = headers;
	o.method = r->method;
	o.body = r->body;
	o.body_len = r->body_len;
	o.aws_sigv4 = s3->provider;
	o.username = id;
	o.password = secret;
	/* libcurl copies the URL, headers, body and credentials. */
	struct sl_http *h =
	        wait ? sl_http_open(url.data, &o) : sl_http_start(url.data, &o);
	sl_buf_destroy(&url);
	return h;
}

/**
 * Read the rest of `h`'s body into `b` (capped by `b`'s maximum: SL_ELIMIT
 * naming `shown`). 0, or -1.
 */
static int
read_body(struct sl_http *h, struct sl_buf *b, const char *method,
          const char *shown)
{
	char piece[16384];
	for (;;) {
		ssize_t n = sl_http_read(h, piece, sizeof(piece));
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (sl_buf_append(b, piece, (size_t)n) != 0) {
			if (sl_diag_code() == SL_ELIMIT)
				sl_diag_set(
				        SL_ELIMIT,
				        "%s %s: the response is larger than "
				        "%zu bytes",
				        method, shown, b->max);
			return -1;
		}
	}
}

/**
 * Find the element <tag>...</tag> in x[0..end): its text in *vs..*ve.
 * Returns the byte after the closing tag, or NULL when absent. Keys and
 * values are escaped in S3's XML, so a tag never occurs inside text.
 */
static const char *
xml_find(const char *x, const char *end, const char *tag, const char **vs,
         const char **ve)
{
	char open[64], close[64];
	int lo = snprintf(open, sizeof(open), "<%s>", tag);
	int lc = snprintf(close, sizeof(close), "</%s>", tag);
	const char *p = memmem(x, (size_t)(end - x), open, (size_t)lo);
	if (p == NULL)
		return NULL;
	p += lo;
	const char *q = memmem(p, (size_t)(end - p), close, (size_t)lc);
	if (q == NULL)
		return NULL;
	*vs = p;
	*ve = q;
	return q + lc;
}

/** Copy the text of <tag> in x[0..end), unescaped, to out[0..size). */
static void
xml_copy(const char *x, const char *end, const char *tag, char *out,
         size_t size)
{
	const char *vs, *ve;
	out[0] = '\0';
	if (xml_find(x, end, tag, &vs, &ve) == NULL)
		return;
	struct sl_diag keep;
	sl_diag_stash(&keep);
	char *t = sl_s3_xml_text(vs, (size_t)(ve - vs));
	sl_diag_restore(&keep);
	if (t != NULL) {
		snprintf(out, size, "%s", t);
		sl_free(t);
	}
}

/**
 * Make the error of a response with status `status` (S3's code and
 * message from its body when there is one) in the diag; *code gets S3's
 * error code ("NoSuchKey"). Returns -1.
 */
static int
status_error(struct sl_http *h, const struct req *r, long status, char *code,
             size_t code_size)
{
	struct sl_buf b;
	sl_buf_create(&b, SL_S3_ERROR_BODY_MAX);
	char msg[512] = "";
	code[0] = '\0';
	struct sl_diag keep;
	sl_diag_stash(&keep);
	read_body(h, &b, r->method, r->shown); /* what fits is enough */
	sl_diag_restore(&keep);
	if (b.data != NULL) {
		const char *end = b.data + b.len;
		xml_copy(b.data, end, "Code", code, code_size);
		xml_copy(b.data, end, "Message", msg, sizeof(msg));
	}
	sl_buf_destroy(&b);
	/* Only the code and message: other fields can name the key id. */
	if (code[0] != '\0')
		sl_diag_set(SL_EIO, "%s %s: HTTP %ld (%s%s%s)", r->method,
		            r->shown, status, code, msg[0] ? ": " : "", msg);
	else
		sl_diag_set(SL_EIO, "%s %s: HTTP %ld", r->method, r->shown,
		            status);
	return -1;
}

/**
 * Check that the response of `h` (to `r`) has a 2xx status: 0, or -1 with
 * an error. A 404 with S3 code `missing_ok` (e.g. "NoSuchKey") or none
 * gives -1 with *missing set and no error.
 */
static int
check_status(struct sl_http *h, const struct req *r, const char *missing_ok,
             bool *missing)
{
	if (missing != NULL)
		*missing = false;
	long status = sl_http_status(h);
	if (status >= 200 && status < 300)
		return 0;
	char code[64];
	status_error(h, r, status, code, sizeof(code));
	/* A 404 without S3's code (no body) is taken as a missing key. */
	if (missing_ok != NULL && status == 404 &&
	    (code[0] == '\0' || strcmp(code, missing_ok) == 0)) {
		sl_diag_clear(sl_diag_get());
		*missing = true;
	}
	return -1;
}

/**
 * Send `r` and check that its status is 2xx: the transfer, its body not
 * read, or NULL with an error (see check_status() for `missing_ok`).
 */
static struct sl_http *
request(struct sl_s3 *s3, struct req *r, const char *missing_ok, bool *missing)
{
	if (missing != NULL)
		*missing = false;
	struct sl_http *h = send_req(s3, r, true);
	if (h != NULL && check_status(h, r, missing_ok, missing) != 0) {
		sl_http_close(h);
		h = NULL;
	}
	return h;
}

/* }}} */

/* {{{ XML text */

/** Append code point `c` as UTF-8. 0, or -1 (not a valid code point). */
static int
put_utf8(struct sl_buf *b, unsigned long c)
{
	char u[4];
	size_t n;
	if (c == 0 || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return -1;
	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xC0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xE0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		u[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		u[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	return sl_buf_append(b, u, n) != 0 ? -2 : 0;
}

char *
sl_s3_xml_text(const char *x, size_t n)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp", '&'},
	             {"lt", '<'},
	             {"gt", '>'},
	             {"quot", '"'},
	             {"apos", '\''}};
	struct sl_buf b;
	sl_buf_create(&b, n + 1);
	if (sl_buf_reserve(&b, n + 1) != 0)
		goto oom;
	for (size_t i = 0; i < n;) {
		if (x[i] != '&') {
			size_t j = i;
			while (j < n && x[j] != '&')
				j++;
			if (sl_buf_append(&b, x + i, j - i) != 0)
				goto oom;
			i = j;
			continue;
		}
		const char *semi = memchr(x + i, ';', n - i);
		size_t len = semi != NULL ? (size_t)(semi - (x + i)) - 1 : 0;
		const char *ref = x + i + 1;
		bool ok = false;
		if (semi != NULL && len > 1 && ref[0] == '#') {
			bool hex = ref[1] == 'x';
			const char *d = ref + (hex ? 2 : 1);
			size_t dl = len - (hex ? 2 : 1);
			unsigned long c = 0;
			ok = dl > 0 && dl <= 8;
			for (size_t k = 0; ok && k < dl; k++) {
				int v = -1;
				if (isdigit((unsigned char)d[k]))
					v = d[k] - '0';
				else if (hex && isxdigit((unsigned char)d[k]))
					v = tolower((unsigned char)d[k]) - 'a' +
					    10;
				ok = v >= 0;
				c = c * (hex ? 16 : 10) + (unsigned long)v;
			}
			if (ok) {
				int k = put_utf8(&b, c);
				if (k == -2)
					goto oom;
				ok = k == 0;
			}
		} else if (semi != NULL) {
			for (size_t k = 0; k < sizeof(named) / sizeof(named[0]);
			     k++)
				if (strlen(named[k].name) == len &&
				    memcmp(ref, named[k].name, len) == 0) {
					if (sl_buf_putc(&b, named[k].c) != 0)
						goto oom;
					ok = true;
				}
		}
		if (!ok) {
			int show =
			        (int)(semi != NULL && len < 16 ? len + 2 : 8);
			if ((size_t)show > n - i)
				show = (int)(n - i);
			sl_diag_set(
			        SL_EPARSE,
			        "S3 sent XML with a bad character reference "
			        "'%.*s'",
			        show, x + i);
			sl_buf_destroy(&b);
			return NULL;
		}
		i += len + 2;
	}
	if (b.data == NULL && sl_buf_reserve(&b, 1) != 0)
		goto oom;
	return b.data;
oom:
	sl_buf_destroy(&b);
	sl_diag_set(SL_EOOM, "out of memory reading S3's XML");
	return NULL;
}

/* }}} */

/* {{{ Role assumption (STS AssumeRole) */

/** Free a string holding a secret, zeroing it first. NULL is a no-op. */
static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	memset(s, 0, strlen(s));
	sl_free(s);
}

/** Free a role and the credentials it holds. NULL is a no-op. */
static void
role_free(struct role *ro)
{
	if (ro == NULL)
		return;
	sl_free(ro->arn);
	sl_free(ro->external_id);
	sl_free(ro->url);
	sl_free(ro->shown);
	sl_free(ro->provider);
	sl_free(ro->id);
	free_secret(ro->secret);
	free_secret(ro->token_header);
	sl_free(ro);
}

/**
 * Set up the role of `cfg` for client `s3` (its region known): where STS
 * is and what to send. 0, or -1 with SL_EINVAL (not an ARN, an endpoint
 * that is not http(s)) or SL_EOOM.
 */
static int
role_new(struct sl_s3 *s3, const struct sl_s3_config *cfg)
{
	const char *arn = cfg->assume_role_arn;
	if (strncmp(arn, "arn:", 4) != 0) {
		sl_diag_set(SL_EINVAL,
		            "assume_role_arn '%.200s' is not an ARN (expected "
		            "arn:aws:iam::ACCOUNT:role/NAME)",
		            arn);
		return -1;
	}
	const char *ep = cfg->sts_endpoint;
	if (ep == NULL)
		ep = env("AWS_ENDPOINT_URL_STS");
	if (ep == NULL)
		ep = env("AWS_ENDPOINT_URL");
	char shown[SHOWN_MAX];
	if (ep != NULL && strncmp(ep, "http://", 7) != 0 &&
	    strncmp(ep, "https://", 8) != 0) {
		sl_diag_set(
		        SL_EINVAL,
		        "STS endpoint '%s' is not an http:// or https:// URL",
		        sl_http_redact(ep, shown, sizeof(shown)));
		return -1;
	}
	struct role *ro = sl_calloc(1, sizeof(*ro));
	if (ro == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for S3");
		return -1;
	}
	s3->role = ro;
	const char *ext = cfg->assume_role_external_id;
	if (!dup_opt(arn, &ro->arn) ||
	    !dup_opt(ext != NULL && ext[0] != '\0' ? ext : NULL,
	             &ro->external_id)) {
		sl_diag_set(SL_EOOM, "out of memory for S3");
		return -1;
	}
	if (ep != NULL) {
		size_t n = strlen(ep);
		while (n > 0 && ep[n - 1] == '/')
			n--;
		ro->url = fmt_new("%.*s/", (int)n, ep);
	} else {
		ro->url = fmt_new("https://sts.%s.amazonaws.com/", s3->region);
	}
	if (ro->url == NULL)
		return -1;
	sl_http_redact(ro->url, shown, sizeof(shown));
	if ((ro->shown = fmt_new("%s (STS %s)", arn, shown)) == NULL ||
	    (ro->provider = fmt_new("aws:amz:%s:sts", s3->region)) == NULL)
		return -1;
	return 0;
}

/** A new RoleSessionName: a random UUID (version 4), as Nodestream's. */
static int
session_name(char out[37])
{
	unsigned char r[16];
	if (sl_crypto_load() != 0)
		return -1;
	if (RAND_bytes(r, sizeof(r)) != 1) {
		sl_diag_set(SL_EIO, "no random bytes for an STS session name");
		return -1;
	}
	r[6] = (unsigned char)((r[6] & 0x0F) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3F) | 0x80);
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		snprintf(p, 3, "%02x", r[i]);
		p += 2;
	}
	*p = '\0';
	return 0;
}

/**
 * The time an ISO 8601 UTC timestamp names ("2026-12-06T07:45:53Z", with
 * optional fractional seconds; "+00:00" for "Z" too), or -1.
 */
static long long
iso8601_time(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
	           &n) != 6 ||
	    n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	const char *p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p);)
			p++;
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return -1;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = sec};
	return (long long)timegm(&tm);
}

/**
 * The unescaped text of <tag> inside x[0..end) as a new string, or NULL
 * with SL_EPARSE naming the tag and `shown` (or SL_EOOM).
 */
static char *
sts_field(const char *x, const char *end, const char *tag, const char *shown)
{
	const char *vs, *ve;
	if (xml_find(x, end, tag, &vs, &ve) == NULL || vs == ve) {
		sl_diag_set(SL_EPARSE,
		            "AssumeRole %s: STS's response has no "
		            "Credentials/%s",
		            shown, tag);
		return NULL;
	}
	char *t = sl_s3_xml_text(vs, (size_t)(ve - vs));
	if (t == NULL)
		sl_diag_wrap(sl_diag_code(), "AssumeRole %s", shown);
	return t;
}

/** The form body of an AssumeRole request for `ro` into `b`. 0, or -1. */
static int
assume_role_form(const struct role *ro, const char *session, struct sl_buf *b)
{
	int rc = sl_buf_puts(b, "Action=AssumeRole");
	if (ro->external_id != NULL) {
		if (rc == 0)
			rc = sl_buf_puts(b, "&ExternalId=");
		if (rc == 0)
			rc = put_encoded(b, ro->external_id, false);
	}
	if (rc == 0)
		rc = sl_buf_puts(b, "&RoleArn=");
	if (rc == 0)
		rc = put_encoded(b, ro->arn, false);
	if (rc == 0)
		rc = sl_buf_printf(b, "&RoleSessionName=%s", session);
	if (rc == 0)
		rc = sl_buf_puts(b, "&Version=2011-06-15");
	return rc;
}

/**
 * Read a successful AssumeRole response of `h` (sent at local time
 * `sent`) and take its credentials into the role. 0, or -1.
 */
static int
take_credentials(struct sl_s3 *s3, struct sl_http *h, time_t sent,
                 const char *session)
{
	struct role *ro = s3->role;
	/* STS's clock, to measure the lifetime whatever ours says. */
	const char *date = sl_http_header(h, "Date");
	long long server_now = date != NULL ? sl_http_date(date) : -1;
	struct sl_buf b;
	sl_buf_create(&b, SL_S3_STS_BODY_MAX);
	char *id = NULL, *secret = NULL, *token = NULL, *exp = NULL;
	int rc = read_body(h, &b, "AssumeRole", ro->shown);
	const char *cs = NULL, *ce = NULL;
	if (rc == 0 &&
	    (b.data == NULL || xml_find(b.data, b.data + b.len, "Credentials",
	                                &cs, &ce) == NULL)) {
		sl_diag_set(SL_EPARSE,
		            "AssumeRole %s: STS's response has no Credentials",
		            ro->shown);
		rc = -1;
	}
	if (rc == 0 &&
	    ((id = sts_field(cs, ce, "AccessKeyId", ro->shown)) == NULL ||
	     (secret = sts_field(cs, ce, "SecretAccessKey", ro->shown)) ==
	             NULL ||
	     (token = sts_field(cs, ce, "SessionToken", ro->shown)) == NULL ||
	     (exp = sts_field(cs, ce, "Expiration", ro->shown)) == NULL))
		rc = -1;
	if (b.data != NULL)
		memset(b.data, 0, b.len);
	sl_buf_destroy(&b);
	long long expires = rc == 0 ? iso8601_time(exp) : -1;
	long long life = expires - (server_now >= 0 ? server_now : sent);
	if (rc == 0 && expires < 0) {
		sl_diag_set(SL_EPARSE,
		            "AssumeRole %s: STS's Expiration '%.40s' is not an "
		            "ISO 8601 UTC time",
		            ro->shown, exp);
		rc = -1;
	} else if (rc == 0 && life <= 0) {
		sl_diag_set(SL_EIO,
		            "AssumeRole %s: STS gave credentials that expired "
		            "already (Expiration %.40s)",
		            ro->shown, exp);
		rc = -1;
	}
	char *line = NULL;
	if (rc == 0 &&
	    (line = fmt_new("x-amz-security-token: %s", token)) == NULL)
		rc = -1;
	free_secret(token);
	if (rc != 0) {
		sl_free(id);
		free_secret(secret);
		sl_free(exp);
		return -1;
	}
	sl_free(ro->id);
	free_secret(ro->secret);
	free_secret(ro->token_header);
	ro->id = id;
	ro->secret = secret;
	ro->token_header = line;
	/* Renew when half the lifetime, at most ROLE_MARGIN_MAX, is left. */
	long long margin =
	        life / 2 < ROLE_MARGIN_MAX ? life / 2 : ROLE_MARGIN_MAX;
	ro->expires = (time_t)(sent + life);
	ro->refresh_at = (time_t)(sent + life - margin);
	ro->count++;
	sl_log_debug("S3: assumed role %s (session %s) until %s, %lld s; "
	             "renewing in %lld s",
	             ro->shown, session, exp, life, life - margin);
	sl_free(exp);
	return 0;
}

/**
 * Call STS AssumeRole once for the client's role with its base keys. 0,
 * or -1 with *again set when another try may do better (a transport
 * failure, HTTP 429 or 5xx).
 */
static int
assume_role_once(struct sl_s3 *s3, bool *again)
{
	struct role *ro = s3->role;
	*again = false;
	char session[37];
	if (session_name(session) != 0)
		return -1;
	struct sl_buf form;
	sl_buf_create(&form, URL_MAX);
	char sha[65], sha_line[100];
	if (assume_role_form(ro, session, &form) != 0 ||
	    sha256_hex(form.data, form.len, sha) != 0) {
		sl_diag_wrap(sl_diag_code(), "AssumeRole %s", ro->shown);
		sl_buf_destroy(&form);
		return -1;
	}
	snprintf(sha_line, sizeof(sha_line), "x-amz-content-sha256: %s", sha);
	const char *headers[HEADERS_MAX + 1];
	size_t nh = 0;
	headers[nh++] = sha_line;
	headers[nh++] = "Content-Type: application/x-www-form-urlencoded; "
	                "charset=utf-8";
	headers[nh++] = "Expect:";
	if (s3->token_header != NULL)
		headers[nh++] = s3->token_header;
	headers[nh] = NULL;
	struct sl_http_opts o = s3->http;
	o.headers = headers;
	o.method = "POST";
	o.body = form.data;
	o.body_len = form.len;
	o.aws_sigv4 = ro->provider;
	o.username = s3->key_id;
	o.password = s3->secret;
	o.max_redirects = 0; /* the signature is for this URL */
	sl_log_debug("S3: AssumeRole %s", ro->shown);
	time_t sent = time(NULL);
	struct sl_http *h = sl_http_open(ro->url, &o);
	sl_buf_destroy(&form);
	if (h == NULL) {
		enum sl_errcode c = sl_diag_code();
		*again = c == SL_EIO || c == SL_ETIMEDOUT;
		sl_diag_wrap(c, "AssumeRole %s", ro->shown);
		return -1;
	}
	int rc;
	long status = sl_http_status(h);
	if (status >= 200 && status < 300) {
		rc = take_credentials(s3, h, sent, session);
	} else {
		struct req r = {.method = "AssumeRole"};
		snprintf(r.shown, sizeof(r.shown), "%s", ro->shown);
		char code[64];
		rc = status_error(h, &r, status, code, sizeof(code));
		*again = status == 429 || status >= 500;
	}
	sl_http_close(h);
	return rc;
}

/**
 * Call STS AssumeRole, up to STS_TRIES times while the failure may pass
 * (0.25 s, then 0.5 s apart), as the AWS SDKs retry. 0, or -1 with the
 * last try's error.
 */
static int
assume_role(struct sl_s3 *s3)
{
	double pause = 0.25;
	for (int i = 1;; i++) {
		bool again;
		if (assume_role_once(s3, &again) == 0)
			return 0;
		if (!again || i == STS_TRIES)
			return -1;
		char msg[SL_ERROR_MSG_MAX];
		sl_error_format(sl_diag_last(), msg, sizeof(msg));
		sl_log_debug("S3: %s; trying again in %.2f s", msg, pause);
		sl_diag_clear(sl_diag_get());
		if (sl_sleep(pause) != 0)
			return -1;
		pause *= 2;
	}
}

/**
 * Make sure the role's credentials are there and not due for renewal:
 * assume the role when they are missing or due. While another task
 * assumes it, use the current ones if they have not expired, else wait
 * for it. A renewal that fails while they have not expired is retried
 * later (a warning). 0, or -1.
 */
static int
role_fresh(struct sl_s3 *s3)
{
	struct role *ro = s3->role;
	for (;;) {
		time_t now = time(NULL);
		if (ro->id != NULL && now < ro->refresh_at)
			return 0;
		if (!ro->busy)
			break;
		if (ro->id != NULL && now < ro->expires)
			return 0;
		if (sl_sleep(0.01) != 0)
			return -1;
	}
	ro->busy = true;
	int rc = assume_role(s3);
	ro->busy = false;
	if (rc == 0)
		return 0;
	time_t now = time(NULL);
	if (ro->id == NULL || now + 1 >= ro->expires)
		return -1;
	long long left = (long long)(ro->expires - now);
	long long retry = left / 2 < ROLE_RETRY_MAX ? left / 2 : ROLE_RETRY_MAX;
	char msg[SL_ERROR_MSG_MAX];
	sl_error_format(sl_diag_last(), msg, sizeof(msg));
	sl_log_warn("S3: renewing the credentials of role %s failed (%s); "
	            "the current ones last %lld s more, retrying in %lld s",
	            ro->arn, msg, left, retry);
	sl_diag_clear(sl_diag_get());
	ro->refresh_at = now + (time_t)(retry > 0 ? retry : 1);
	return 0;
}

/* }}} */

/* {{{ Operations */

void
sl_s3_page_destroy(struct sl_s3_page *page)
{
	for (size_t i = 0; i < page->n; i++)
		sl_free(page->objs[i].key);
	sl_free(page->objs);
	sl_free(page->next_token);
	memset(page, 0, sizeof(*page));
}

/** Parse a ListObjectsV2 result body into `page`. 0, or -1. */
static int
parse_listing(const char *x, size_t len, const struct req *r, const char *token,
              struct sl_s3_page *page)
{
	const char *end = x + len;
	if (memmem(x, len, "<ListBucketResult", 17) == NULL) {
		sl_diag_set(SL_EPARSE,
		            "LIST %s: the response is not a ListObjectsV2 "
		            "result",
		            r->shown);
		return -1;
	}
	const char *p = x;
	const char *cs, *ce;
	while ((p = xml_find(p, end, "Contents", &cs, &ce)) != NULL) {
		const char *ks, *ke, *ss, *se;
		if (xml_find(cs, ce, "Key", &ks, &ke) == NULL) {
			sl_diag_set(SL_EPARSE,
			            "LIST %s: an object of the listing has no "
			            "Key",
			            r->shown);
			return -1;
		}
		uint64_t size = 0;
		if (xml_find(cs, ce, "Size", &ss, &se) != NULL) {
			for (const char *d = ss; d < se; d++) {
				if (!isdigit((unsigned char)*d) ||
				    size > (UINT64_MAX - 9) / 10) {
					sl_diag_set(
					        SL_EPARSE,
					        "LIST %s: an object's Size is "
					        "not a number",
					        r->shown);
					return -1;
				}
				size = size * 10 + (uint64_t)(*d - '0');
			}
		}
		char *key = sl_s3_xml_text(ks, (size_t)(ke - ks));
		if (key == NULL) {
			sl_diag_wrap(sl_diag_code(), "LIST %s", r->shown);
			return -1;
		}
		/* Capacity: 16, then doubled at each power of two. */
		if (page->n == 0 ||
		    (page->n >= 16 && (page->n & (page->n - 1)) == 0)) {
			size_t cap = page->n == 0 ? 16 : page->n * 2;
			struct sl_s3_object *o =
			        sl_realloc(page->objs, cap * sizeof(*o));
			if (o == NULL) {
				sl_free(key);
				sl_diag_set(SL_EOOM, "out of memory listing %s",
				            r->shown);
				return -1;
			}
			page->objs = o;
		}
		page->objs[page->n].key = key;
		page->objs[page->n].size = size;
		page->n++;
	}
	char trunc[16];
	xml_copy(x, end, "IsTruncated", trunc, sizeof(trunc));
	if (strcmp(trunc, "true") != 0)
		return 0;
	const char *ts, *te;
	if (xml_find(x, end, "NextContinuationToken", &ts, &te) == NULL ||
	    ts == te) {
		sl_diag_set(SL_EPARSE,
		            "LIST %s: the listing is truncated but has no "
		            "NextContinuationToken",
		            r->shown);
		return -1;
	}
	page->next_token = sl_s3_xml_text(ts, (size_t)(te - ts));
	if (page->next_token == NULL) {
		sl_diag_wrap(sl_diag_code(), "LIST %s", r->shown);
		return -1;
	}
	if (token != NULL && strcmp(token, page->next_token) == 0) {
		sl_diag_set(SL_EPARSE,
		            "LIST %s: the server gave the same continuation "
		            "token again (the listing would not end)",
		            r->shown);
		return -1;
	}
	return 0;
}

int
sl_s3_list(struct sl_s3 *s3, const char *bucket, const char *prefix,
           const char *token, struct sl_s3_page *page)
{
	sl_s3_page_destroy(page);
	struct req r = {.method = "GET", .bucket = bucket};
	shown_name(bucket, prefix != NULL && prefix[0] ? prefix : NULL,
	           r.shown);
	/* Keys in order and values encoded: the canonical query. */
	struct sl_buf q;
	sl_buf_create(&q, URL_MAX);
	int rc = 0;
	if (token != NULL) {
		rc = sl_buf_puts(&q, "continuation-token=");
		if (rc == 0)
			rc = put_encoded(&q, token, false);
		if (rc == 0)
			rc = sl_buf_putc(&q, '&');
	}
	if (rc == 0)
		rc = sl_buf_puts(&q, "list-type=2");
	if (rc == 0 && s3->page_size > 0)
		rc = sl_buf_printf(&q, "&max-keys=%" PRIu32, s3->page_size);
	if (rc == 0 && prefix != NULL && prefix[0] != '\0') {
		rc = sl_buf_puts(&q, "&prefix=");
		if (rc == 0)
			rc = put_encoded(&q, prefix, false);
	}
	if (rc != 0) {
		sl_diag_wrap(sl_diag_code(), "LIST %s", r.shown);
		sl_buf_destroy(&q);
		return -1;
	}
	r.query = q.data;
	struct sl_http *h = request(s3, &r, NULL, NULL);
	sl_buf_destroy(&q);
	if (h == NULL)
		return -1;
	struct sl_buf body;
	sl_buf_create(&body, SL_S3_LIST_BODY_MAX);
	rc = read_body(h, &body, "LIST", r.shown);
	sl_http_close(h);
	if (rc == 0)
		rc = parse_listing(body.data != NULL ? body.data : "", body.len,
		                   &r, token, page);
	sl_buf_destroy(&body);
	if (rc != 0)
		sl_s3_page_destroy(page);
	return rc;
}

struct sl_http *
sl_s3_get(struct sl_s3 *s3, const char *bucket, const char *key)
{
	struct req r = {.method = "GET", .bucket = bucket, .key = key};
	shown_name(bucket, key, r.shown);
	return request(s3, &r, NULL, NULL);
}

struct sl_http *
sl_s3_get_start(struct sl_s3 *s3, const char *bucket, const char *key)
{
	struct req r = {.method = "GET", .bucket = bucket, .key = key};
	shown_name(bucket, key, r.shown);
	return send_req(s3, &r, false);
}

int
sl_s3_get_wait(struct sl_http *h, const char *bucket, const char *key)
{
	struct req r = {.method = "GET", .bucket = bucket, .key = key};
	shown_name(bucket, key, r.shown);
	if (sl_http_wait_response(h) != 0)
		return -1;
	return check_status(h, &r, NULL, NULL);
}

int
sl_s3_get_all(struct sl_s3 *s3, const char *bucket, const char *key, size_t max,
              char **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	struct req r = {.method = "GET", .bucket = bucket, .key = key};
	shown_name(bucket, key, r.shown);
	bool missing;
	struct sl_http *h = request(s3, &r, "NoSuchKey", &missing);
	if (h == NULL)
		return missing ? 0 : -1;
	struct sl_buf b;
	sl_buf_create(&b, max);
	int rc = read_body(h, &b, "GET", r.shown);
	sl_http_close(h);
	if (rc == 0 && b.data == NULL && sl_buf_reserve(&b, 1) != 0)
		rc = -1;
	if (rc != 0) {
		sl_buf_destroy(&b);
		return -1;
	}
	*data = b.data;
	*len = b.len;
	return 1;
}

/** Read a 2xx response's body and check it holds no <Error>. 0, or -1. */
static int
finish_ok(struct sl_http *h, const struct req *r)
{
	struct sl_buf b;
	sl_buf_create(&b, SL_S3_ERROR_BODY_MAX);
	int rc = read_body(h, &b, r->method, r->shown);
	if (rc != 0 && sl_diag_code() == SL_ELIMIT) {
		sl_diag_clear(sl_diag_get()); /* a long answer, not an error */
		rc = 0;
	}
	if (rc == 0 && b.data != NULL &&
	    memmem(b.data, b.len, "<Error>", 7) != NULL) {
		char code[64], msg[512];
		xml_copy(b.data, b.data + b.len, "Code", code, sizeof(code));
		xml_copy(b.data, b.data + b.len, "Message", msg, sizeof(msg));
		sl_diag_set(SL_EIO, "%s %s: failed (%s%s%s)", r->method,
		            r->shown, code, msg[0] ? ": " : "", msg);
		rc = -1;
	}
	sl_buf_destroy(&b);
	return rc;
}

int
sl_s3_put(struct sl_s3 *s3, const char *bucket, const char *key,
          const void *data, size_t len)
{
	struct req r = {.method = "PUT",
	                .bucket = bucket,
	                .key = key,
	                .body = data != NULL ? data : "",
	                .body_len = len};
	shown_name(bucket, key, r.shown);
	struct sl_http *h = request(s3, &r, NULL, NULL);
	if (h == NULL)
		return -1;
	int rc = finish_ok(h, &r);
	sl_http_close(h);
	return rc;
}

int
sl_s3_delete(struct sl_s3 *s3, const char *bucket, const char *key)
{
	struct req r = {.method = "DELETE", .bucket = bucket, .key = key};
	shown_name(bucket, key, r.shown);
	bool missing;
	struct sl_http *h = request(s3, &r, "NoSuchKey", &missing);
	if (h == NULL)
		return missing ? 0 : -1;
	sl_http_close(h);
	return 0;
}

int
sl_s3_copy(struct sl_s3 *s3, const char *bucket, const char *src_key,
           const char *dst_key)
{
	struct req r = {.method = "PUT", .bucket = bucket, .key = dst_key};
	char dst_shown[SHOWN_MAX], both[2 * SHOWN_MAX + 16];
	snprintf(both, sizeof(both), "%s (copy of %.*s)",
	         shown_name(bucket, dst_key, dst_shown), SHOWN_MAX, src_key);
	snprintf(r.shown, sizeof(r.shown), "%.*s", SHOWN_MAX - 1, both);
	struct sl_buf src;
	sl_buf_create(&src, URL_MAX);
	int rc = sl_buf_puts(&src, "x-amz-copy-source: /");
	if (rc == 0)
		rc = put_encoded(&src, bucket, false);
	if (rc == 0)
		rc = sl_buf_putc(&src, '/');
	if (rc == 0)
		rc = put_encoded(&src, src_key, true);
	if (rc != 0) {
		sl_diag_wrap(sl_diag_code(), "COPY %s", r.shown);
		sl_buf_destroy(&src);
		return -1;
	}
	r.extra = src.data;
	struct sl_http *h = request(s3, &r, NULL, NULL);
	sl_buf_destroy(&src);
	if (h == NULL)
		return -1;
	rc = finish_ok(h, &r);
	sl_http_close(h);
	return rc;
}

/* }}} */

/* --- an object store in a bucket (sl_objstore_s3_new()) ------------------ */

/** An object store in an S3 bucket. */
struct s3_store {
	/** Common part (first). */
	struct sl_objstore base;
	/** The client. */
	struct sl_s3 *c;
	/** The bucket (owned). */
	char *bucket;
};

/** sl_objstore_get() of an S3 store. */
static int
s3_store_get(struct sl_objstore *s, const char *key, struct sl_buf *out)
{
	struct s3_store *x = (struct s3_store *)s;
	char *data = NULL;
	size_t len = 0;
	int rc = sl_s3_get_all(x->c, x->bucket, key, SL_OBJSTORE_OBJECT_MAX,
	                       &data, &len);
	if (rc == 1 && sl_buf_append(out, data, len) != 0)
		rc = -1;
	sl_free(data);
	return rc;
}

/** sl_objstore_put() of an S3 store. */
static int
s3_store_put(struct sl_objstore *s, const char *key, const void *data,
             size_t len)
{
	struct s3_store *x = (struct s3_store *)s;
	return sl_s3_put(x->c, x->bucket, key, data, len);
}

/** sl_objstore_del() of an S3 store. */
static int
s3_store_del(struct sl_objstore *s, const char *key)
{
	struct s3_store *x = (struct s3_store *)s;
	return sl_s3_delete(x->c, x->bucket, key);
}

/** Free an S3 store. */
static void
s3_store_free(struct sl_objstore *s)
{
	struct s3_store *x = (struct s3_store *)s;
	sl_s3_free(x->c);
	sl_free(x->bucket);
	sl_free(x);
}

/** The operations of an S3 store. */
static const struct sl_objstore_ops s3_store_ops = {
        .get = s3_store_get,
        .put = s3_store_put,
        .del = s3_store_del,
        .free = s3_store_free,
};

struct sl_objstore *
sl_objstore_s3_new(const struct sl_s3_config *cfg, const char *bucket)
{
	struct s3_store *x = sl_calloc(1, sizeof(*x));
	if (x == NULL ||
	    (x->bucket = sl_strndup(bucket, strlen(bucket))) == NULL) {
		sl_free(x);
		sl_diag_set(SL_EOOM, "out of memory for an S3 store");
		return NULL;
	}
	if ((x->c = sl_s3_new(cfg)) == NULL) {
		sl_free(x->bucket);
		sl_free(x);
		return NULL;
	}
	if (sl_objstore_init(&x->base, &s3_store_ops, "s3 store s3://%s at %s",
	                     bucket, sl_s3_endpoint(x->c)) != 0) {
		sl_s3_free(x->c);
		sl_free(x->bucket);
		sl_free(x);
		return NULL;
	}
	return &x->base;
}
