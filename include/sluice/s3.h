/*
 * sluice: a small Amazon S3 client on the HTTP layer (sluice/http.h).
 *
 * Requests are signed with AWS Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4); every request carries the SHA-256 of its body in
 * `x-amz-content-sha256` and, with temporary credentials, the session
 * token in `x-amz-security-token`. All calls must be made from a task:
 * they suspend it, not the loop.
 *
 * Addressing: with an endpoint (a URL such as "http://127.0.0.1:9000",
 * for MinIO, s3rver or a VPC endpoint) requests go to ENDPOINT/BUCKET/KEY
 * (path style); without one, to https://BUCKET.s3.REGION.amazonaws.com/KEY
 * (virtual-hosted style; path style on s3.REGION.amazonaws.com for
 * bucket names with dots).
 *
 * Configuration not given explicitly comes from the environment, as the
 * AWS SDKs read it: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_REGION or AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3
 * or AWS_ENDPOINT_URL; then from the profile (AWS_PROFILE, else
 * "default") of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
 * else ~/.aws/credentials) and config file (AWS_CONFIG_FILE, else
 * ~/.aws/config): its static keys and region. The region defaults to
 * us-east-1. Explicit keys replace the others as a whole (key id, secret
 * and token); a profile named in the configuration replaces the
 * environment's keys. Instance metadata, SSO and credential processes
 * are not supported. The shared files are read with stdio when a client
 * is made (small files, once per client).
 *
 * Role assumption: with `assume_role_arn`, the keys found as above are
 * the base credentials. Before its first request the client calls STS
 * AssumeRole with them (a form POST signed with SigV4 for service "sts":
 * RoleArn, a new random RoleSessionName, ExternalId when given; no
 * DurationSeconds, so the role's default, an hour) and signs its S3
 * requests with the temporary credentials STS returns (their session
 * token in x-amz-security-token). It assumes the role again before they
 * expire: when half their lifetime, at most 15 minutes, is left, the
 * lifetime measured against STS's Date header so that a skewed clock does
 * not matter. AssumeRole is tried up to three times on a transport
 * failure, 429 or 5xx. A renewal that fails while the credentials still
 * have time left is retried later (a warning); once they are expired it
 * is the request's error. STS is reached at `sts_endpoint`, else
 * AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL (not the S3 endpoint),
 * else https://sts.REGION.amazonaws.com.
 *
 * Operations (one HTTP request each, after an AssumeRole when one is
 * due; list pages are fetched one call at a time):
 *   sl_s3_list()    one page of ListObjectsV2 (prefix, continuation token)
 *   sl_s3_get()     an object's body as a stream (sl_http_source()); also
 *                   sl_s3_get_start() + sl_s3_get_wait() to fetch ahead
 *   sl_s3_get_all() a small object into memory (missing: not an error)
 *   sl_s3_put()     a small object from memory
 *   sl_s3_delete()  an object (a missing one too, as S3 does)
 *   sl_s3_copy()    an object to another key (server side)
 *
 * Errors name the operation, s3://BUCKET/KEY, the HTTP status and S3's
 * error code and message ("GET s3://b/k: HTTP 403 (InvalidAccessKeyId:
 * ...)"); transport failures carry the HTTP layer's message. A failed
 * AssumeRole is the operation's error too, naming the role, the STS
 * endpoint and STS's code and message ("GET s3://b/k: AssumeRole ARN
 * (STS URL): HTTP 403 (AccessDenied: ...)"). Keys, secrets and tokens
 * never appear in messages or logs.
 */
#ifndef SLUICE_S3_H
#define SLUICE_S3_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/http.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest ListObjectsV2 response body accepted (bytes). */
#define SL_S3_LIST_BODY_MAX ((size_t)16 << 20)

/** Largest error response body read for S3's code and message. */
#define SL_S3_ERROR_BODY_MAX ((size_t)16 << 10)

/** Largest STS AssumeRole response body accepted (bytes). */
#define SL_S3_STS_BODY_MAX ((size_t)64 << 10)

/** How to reach S3 and as whom; NULL strings come from the environment. */
struct sl_s3_config {
	/** Endpoint URL ("http://127.0.0.1:9000"; path style), or NULL. */
	const char *endpoint;
	/** Region ("eu-west-1"), or NULL. */
	const char *region;
	/** Access key id, or NULL (then the environment's three keys). */
	const char *access_key_id;
	/** Secret access key, or NULL. */
	const char *secret_access_key;
	/** Session token of temporary credentials, or NULL. */
	const char *session_token;
	/**
	 * Profile of the AWS shared files to take the keys (and region)
	 * from, or NULL: AWS_PROFILE, else "default", after the
	 * environment's keys. A profile named here must exist.
	 */
	const char *profile;
	/**
	 * ARN of a role to assume through STS AssumeRole, or NULL (or ""):
	 * none. The keys above (or the environment's, or the profile's) are
	 * then the base credentials that call STS.
	 */
	const char *assume_role_arn;
	/** ExternalId sent with AssumeRole, or NULL (or ""): none sent. */
	const char *assume_role_external_id;
	/**
	 * STS endpoint URL ("http://127.0.0.1:9000"), or NULL:
	 * AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else AWS's regional one.
	 */
	const char *sts_endpoint;
	/** Keys asked per list page (max-keys; 0: the server's, 1000). */
	uint32_t page_size;
	/**
	 * Time limits and body buffer of each request (its headers, method,
	 * body and credentials are the client's own and ignored here).
	 */
	struct sl_http_opts http;
};

/** Fill `c` with the defaults (everything from the environment). */
void sl_s3_config_init(struct sl_s3_config *c);

/** A client: configuration resolved and copied (opaque). */
struct sl_s3;

/**
 * A client for `c` (may be NULL: all from the environment). NULL with
 * SL_EINVAL when there are no credentials (naming the variables to set)
 * or the endpoint is not an http(s) URL, or SL_EOOM.
 */
struct sl_s3 *sl_s3_new(const struct sl_s3_config *c);

/** Free a client. NULL is a no-op. */
void sl_s3_free(struct sl_s3 *s3);

/** The endpoint requests go to (for messages; has no secret). */
const char *sl_s3_endpoint(const struct sl_s3 *s3);

/** The region requests are signed for. */
const char *sl_s3_region(const struct sl_s3 *s3);

/** How many times the client assumed its role so far (0 without one). */
unsigned long sl_s3_assumed(const struct sl_s3 *s3);

/** One object of a listing. */
struct sl_s3_object {
	/** The key, unescaped (owned by the page). */
	char *key;
	/** Size in bytes. */
	uint64_t size;
};

/** One page of a listing; zero it before the first sl_s3_list(). */
struct sl_s3_page {
	/** Objects of the page, in the server's (key) order. */
	struct sl_s3_object *objs;
	/** Number of objects. */
	size_t n;
	/** Token of the next page (owned), or NULL on the last page. */
	char *next_token;
};

/**
 * Fetch into `page` (its previous content freed) the page of objects of
 * `bucket` whose keys start with `prefix` (NULL or "": all), after
 * `token` (NULL: the first page; else a previous page's next_token). 0,
 * or -1: the request's error, SL_EPARSE for a response that is not a
 * listing, SL_ELIMIT for one over SL_S3_LIST_BODY_MAX.
 */
int sl_s3_list(struct sl_s3 *s3, const char *bucket, const char *prefix,
               const char *token, struct sl_s3_page *page);

/** Free what `page` holds and zero it. */
void sl_s3_page_destroy(struct sl_s3_page *page);

/**
 * GET object `key` of `bucket`: the transfer once its response began with
 * a 2xx status, to read with sl_http_read()/sl_http_source() and close
 * with sl_http_close(); the body is never held whole. NULL with an error
 * (a status other than 2xx is SL_EIO naming s3://BUCKET/KEY).
 */
struct sl_http *sl_s3_get(struct sl_s3 *s3, const char *bucket,
                          const char *key);

/**
 * Start a GET of object `key` and return at once (the transfer fills its
 * buffer while the task does other things, e.g. reads the previous
 * object), or NULL for what fails at once (SL_EOOM, SL_EINVAL). Then
 * sl_s3_get_wait() before reading; sl_http_close() in any case.
 */
struct sl_http *sl_s3_get_start(struct sl_s3 *s3, const char *bucket,
                                const char *key);

/**
 * Wait until the response of a GET started by sl_s3_get_start() for
 * `bucket` and `key` begins and check its status, as sl_s3_get(). 0, or
 * -1 with the error.
 */
int sl_s3_get_wait(struct sl_http *h, const char *bucket, const char *key);

/**
 * GET a small object into a new buffer (*data, NUL-terminated after
 * *len bytes; sl_free()). 1 when read, 0 when there is no such key
 * (404 NoSuchKey, or a 404 without S3's error code; *data NULL), -1 with
 * an error (SL_ELIMIT when over `max` bytes; a missing bucket is one).
 */
int sl_s3_get_all(struct sl_s3 *s3, const char *bucket, const char *key,
                  size_t max, char **data, size_t *len);

/** PUT `len` bytes at `data` as object `key`. 0, or -1. */
int sl_s3_put(struct sl_s3 *s3, const char *bucket, const char *key,
              const void *data, size_t len);

/** DELETE object `key` (no error when it does not exist). 0, or -1. */
int sl_s3_delete(struct sl_s3 *s3, const char *bucket, const char *key);

/**
 * Copy object `src_key` of `bucket` to `dst_key` of the same bucket, on
 * the server (CopyObject). 0, or -1 (also for the error S3 may send with
 * status 200 when a copy fails late).
 */
int sl_s3_copy(struct sl_s3 *s3, const char *bucket, const char *src_key,
               const char *dst_key);

/**
 * Unescape the XML text x[0..n) (the five named entities and numeric
 * character references, as S3 escapes keys) into a new string
 * (sl_free()); NULL with SL_EPARSE naming a bad reference, or SL_EOOM.
 */
char *sl_s3_xml_text(const char *x, size_t n);

struct sl_objstore;

/**
 * An object store (sluice/objstore.h) in bucket `bucket` through a client
 * for `cfg` (copied; NULL: all from the environment), as Nodestream's
 * S3ObjectStore (`type: s3`, `bucket_name`): an object is the S3 object
 * of its key. Its operations are HTTP requests, so they must run in a
 * task. NULL with the errors of sl_s3_new(), or SL_EOOM.
 */
struct sl_objstore *sl_objstore_s3_new(const struct sl_s3_config *cfg,
                                       const char *bucket);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_S3_H */
