/*
 * sluice: the built-in extractors: file (globs and http URLs), stdin and
 * range/iterable.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "builtins.h"
#include "glob.h"
#include "httpargs.h"
#include "xck.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/hash.h"
#include "sluice/io.h"
#include "sluice/log.h"
#include "sluice/records.h"
#include "sluice/s3.h"
#include "sluice/steps.h"
#include "sluice/task.h"

/* --- reading records into the output ------------------------------------ */

/**
 * Count bad input the step steps over (a record, or a whole file): an
 * error in the summary's errors column and a skipped record, logged as a
 * warning with the diag's message (which names file:line:column).
 */
static void
skip_bad_input(struct sl_step *s)
{
	sl_step_skip_error(s);
}

/**
 * Emit every record of `r`. With `skip`, errors are counted
 * (skip_bad_input()) and reading goes on where the reader can (else the
 * rest of the input is given up, and that is said). Returns 0, or -1.
 */
static int
emit_records(struct sl_step *s, struct sl_reader *r, const char *name,
             bool skip, struct xck *f, struct sl_emit *out)
{
	/* Records a resumed run has done already are read into `scratch`
	 * and left out. */
	uint64_t done = xck_skip_line(f);
	struct sl_arena scratch;
	sl_arena_create(&scratch, 64 << 10, SL_RECORD_MEM_MAX);
	int rc = 0;
	for (uint64_t n = 1;; n++) {
		struct sl_arena *a = done > 0 ? &scratch : sl_emit_arena(out);
		if (a == NULL) {
			rc = -1;
			break;
		}
		struct sl_value v;
		int k = sl_reader_next(r, a, &v);
		if (k > 0) {
			uint64_t line = sl_reader_line(r);
			if (done > 0 && line <= done) {
				sl_arena_reset(&scratch);
				continue;
			}
			if (done > 0) {
				/* The first record to do: into the batch. */
				struct sl_arena *b = sl_emit_arena(out);
				struct sl_value c;
				if (b == NULL ||
				    sl_value_copy(b, &v, &c) != 0) {
					rc = -1;
					break;
				}
				v = c;
				done = 0;
				xck_skipped(f);
			}
			sl_emit_set_origin(out, name, line);
			if (sl_emit(out, v) != 0 ||
			    (n % 256 == 0 && xck_tick(f, out, line) != 0)) {
				rc = -1;
				break;
			}
			continue;
		}
		if (k == 0)
			break;
		enum sl_errcode code = sl_diag_code();
		/* Memory and cancellation are not the input's fault. */
		if (!skip || code == SL_EOOM || code == SL_ECANCELLED) {
			rc = -1;
			break;
		}
		if (sl_reader_can_skip(r)) {
			/* Counted in the run that read it first. */
			if (done == 0 || sl_reader_line(r) > done)
				skip_bad_input(s);
			continue;
		}
		sl_diag_wrap(code, "giving up the rest of %s", name);
		skip_bad_input(s);
		break;
	}
	sl_arena_destroy(&scratch);
	return rc;
}

/* --- JSON lines parsed on worker threads --------------------------------- */

/** Most lines of a block parsed by one job. */
#define BLOCK_LINES 256

/** Bytes after which a block takes no more lines. */
#define BLOCK_BYTES ((size_t)256 << 10)

/** A block of JSON lines and what its job needs to parse it. */
struct lines_job {
	/** The lines. */
	struct sl_line_block b;
	/** The parser's scratch (kept with the block). */
	struct sl_line_parser *lp;
	/** The step (skips are reported as its own). */
	struct sl_step *s;
	/** The source's name in origins (it lives for the run). */
	const char *name;
	/** Whether bad lines are skipped (on_error: skip). */
	bool skip;
	/** Next free job of the step. */
	struct lines_job *next;
	/** The step's free list the job returns to. */
	struct lines_job **free;
};

/** sl_emit_job_fn: parse and emit the lines of a block, in order. */
static int
lines_job_run(void *arg, struct sl_emit *out)
{
	struct lines_job *j = arg;
	for (uint32_t i = 0; i < j->b.n; i++) {
		if (sl_emit_job_stopped(out))
			return 0;
		struct sl_arena *a = sl_emit_arena(out);
		if (a == NULL)
			return -1;
		struct sl_value v;
		if (sl_line_block_parse(j->lp, &j->b, i, a, &v) > 0) {
			sl_emit_set_origin(out, j->name, j->b.lines[i].no);
			if (sl_emit(out, v) != 0)
				return -1;
			continue;
		}
		/* Every error of a line concerns that line alone. */
		if (!j->skip || sl_diag_code() == SL_EOOM)
			return -1;
		skip_bad_input(j->s);
	}
	return 0;
}

/** Return a job to its step's free list (on the loop thread). */
static void
lines_job_release(void *arg)
{
	struct lines_job *j = arg;
	j->next = *j->free;
	*j->free = j;
}

/** Free a list of jobs. */
static void
lines_jobs_free(struct lines_job *j)
{
	while (j != NULL) {
		struct lines_job *next = j->next;
		sl_line_block_destroy(&j->b);
		sl_line_parser_delete(j->lp);
		sl_free(j);
		j = next;
	}
}

/**
 * sl_emit_jobs_wait() that keeps the current error (one this thread met
 * after the lines given to the jobs) unless a job fails: a failing
 * earlier line is the error then. 0, or -1 when a job failed.
 */
static int
jobs_wait_keeping(struct sl_emit *out)
{
	struct sl_diag keep;
	sl_diag_stash(&keep);
	if (sl_emit_jobs_wait(out) != 0) {
		sl_diag_destroy(&keep);
		return -1;
	}
	sl_diag_restore(&keep);
	return 0;
}

/**
 * emit_records() for a JSON-lines reader, with the lines parsed on the
 * run's worker threads: the records, skips and errors come out in the
 * same order. Jobs are taken from (and return to) `*free`.
 */
static int
emit_lines_parallel(struct sl_step *s, struct sl_reader *r, const char *name,
                    bool skip, struct lines_job **free, struct xck *f,
                    struct sl_emit *out)
{
	uint64_t done = xck_skip_line(f);
	for (;;) {
		struct lines_job *j = *free;
		if (j != NULL) {
			*free = j->next;
		} else {
			j = sl_calloc(1, sizeof(*j));
			if (j == NULL ||
			    (j->lp = sl_line_parser_new()) == NULL) {
				sl_free(j);
				sl_diag_set(SL_EOOM, "out of memory reading %s",
				            name);
				return -1;
			}
			j->free = free;
		}
		j->s = s;
		j->name = name;
		j->skip = skip;
		int k = sl_reader_next_block(r, &j->b, BLOCK_LINES,
		                             BLOCK_BYTES);
		if (k > 0 && done > 0) {
			/* Lines a resumed run has done already are left
			 * out. */
			struct sl_line_block *b = &j->b;
			uint32_t keep = 0;
			while (keep < b->n && b->lines[keep].no <= done)
				keep++;
			memmove(b->lines, b->lines + keep,
			        (b->n - keep) * sizeof(b->lines[0]));
			b->n -= keep;
			if (b->n == 0) {
				lines_job_release(j);
				continue;
			}
			done = 0;
			xck_skipped(f);
		}
		if (k > 0) {
			uint64_t last = j->b.lines[j->b.n - 1].no;
			if (sl_emit_job(out, lines_job_run, j,
			                lines_job_release) != 0 ||
			    xck_tick(f, out, last) != 0)
				return -1;
			continue;
		}
		lines_job_release(j);
		if (k == 0)
			return 0;
		enum sl_errcode code = sl_diag_code();
		if (!skip || code == SL_EOOM || code == SL_ECANCELLED)
			return -1;
		/* The lines before the error are counted and logged first. */
		if (jobs_wait_keeping(out) != 0)
			return -1;
		sl_diag_wrap(code, "giving up the rest of %s", name);
		skip_bad_input(s);
		return 0;
	}
}

/**
 * Emit every record of `r`, parsing JSON lines on the run's worker threads
 * when it has them (see emit_records()). Every job is seen through before
 * it returns. Returns 0, or -1.
 */
static int
read_all(struct sl_step *s, struct sl_reader *r, const char *name, bool skip,
         struct lines_job **free, struct xck *f, struct sl_emit *out)
{
	if (!sl_emit_parallel(out) || !sl_reader_blocks(r))
		return emit_records(s, r, name, skip, f, out);
	int rc = emit_lines_parallel(s, r, name, skip, free, f, out);
	/* The next input's errors are reported on this thread: see the
	 * blocks through first. */
	return jobs_wait_keeping(out) != 0 ? -1 : rc;
}

/* --- file --------------------------------------------------------------- */

/** An s3 source of a FileExtractor (`{type: s3, bucket: ..., ...}`). */
struct s3_source {
	/** Bucket. */
	char *bucket;
	/** Key prefix listed ("" for all). */
	char *prefix;
	/** Suffix keys must end with, or NULL when not given. */
	char *suffix;
	/** object_format (".json"), or NULL. */
	char *object_format;
	/** Prefix of the keys objects are moved to once read, or NULL. */
	char *archive_dir;
	/** endpoint_url, or NULL (the environment's, or AWS). */
	char *endpoint;
	/** region_name, or NULL (the environment's). */
	char *region;
	/** aws_access_key_id, or NULL (the environment's). */
	char *key_id;
	/** aws_secret_access_key, or NULL. */
	char *secret;
	/** aws_session_token, or NULL. */
	char *token;
	/** profile_name (of ~/.aws/credentials and config), or NULL. */
	char *profile;
	/** assume_role_arn: the role to assume through STS, or NULL. */
	char *role_arn;
	/** assume_role_external_id, or NULL. */
	char *external_id;
	/** sts_endpoint_url (sluice's), or NULL (the environment's, or AWS). */
	char *sts_endpoint;
	/** Keys asked per list page (page_size; 0: the server's). */
	uint32_t page_size;
	/** Time limits of the requests. */
	struct sl_http_args http;
};

/** Free what an s3 source holds. */
static void
s3_source_destroy(struct s3_source *src)
{
	sl_free(src->bucket);
	sl_free(src->prefix);
	sl_free(src->suffix);
	sl_free(src->object_format);
	sl_free(src->archive_dir);
	sl_free(src->endpoint);
	sl_free(src->region);
	sl_free(src->key_id);
	if (src->secret != NULL)
		memset(src->secret, 0, strlen(src->secret));
	sl_free(src->secret);
	if (src->token != NULL)
		memset(src->token, 0, strlen(src->token));
	sl_free(src->token);
	sl_free(src->profile);
	sl_free(src->role_arn);
	sl_free(src->external_id);
	sl_free(src->sts_endpoint);
	sl_http_args_destroy(&src->http);
}

/** The FileExtractor. */
struct file_step {
	/** Common part. */
	struct sl_step base;
	/** Globs (malloc'd copies). */
	char **globs;
	/** Number of globs. */
	size_t n_globs;
	/** Reading options. */
	struct sl_reader_opts ropts;
	/** on_error: skip (the default, unless --strict). */
	bool skip;
	/** Files matched, sorted (filled by start). */
	struct sl_paths paths;
	/** Files read so far. */
	size_t files_read;
	/** Blocks of JSON lines not in use (parsing on worker threads). */
	struct lines_job *free_jobs;
	/** This process's shard, 1 to shard_n (sl_file_extractor_shard()). */
	uint32_t shard_k;
	/** Shards the files are split into (0 or 1: not split). */
	uint32_t shard_n;
	/** Files matched that belong to other shards (set by start). */
	size_t files_other;
	/** URLs of http sources, in order (malloc'd copies). */
	char **urls;
	/** Their redacted forms, the names in origins and messages. */
	char **url_names;
	/** Index in `http_args` of each URL's source. */
	size_t *url_src;
	/** Number of URLs. */
	size_t n_urls;
	/** HTTP options of each http source. */
	struct sl_http_args *http_args;
	/** Number of http sources. */
	size_t n_http;
	/** Whether an http source comes before every local one. */
	bool urls_first;
	/** Checkpoints (sl_step_ops.checkpoint). */
	struct xck ck;
	/**
	 * Index of the first input of the kind of source being read: a
	 * kind's inputs are numbered from its rank << 40, so that positions
	 * keep the reading order though S3 objects are counted as listed.
	 */
	uint64_t input_base;
	/** S3 objects picked so far, in reading order. */
	uint64_t s3_seq;
	/**
	 * Kinds of sources (local, http) with a source before the first s3
	 * one: the s3 sources are read after that many kinds.
	 */
	int s3_rank;
	/** s3 sources, in order (read after the local and http ones). */
	struct s3_source *s3;
	/** Number of s3 sources. */
	size_t n_s3;
	/** Names ("s3://bucket/key") of the objects read: origins' names. */
	char **s3_names;
	/** Number of `s3_names`. */
	size_t n_s3_names;
	/** Room in `s3_names`. */
	size_t s3_names_cap;
	/** S3 objects read by this shard. */
	uint64_t s3_kept;
	/** S3 objects listed that belong to other shards. */
	uint64_t s3_other;
	/** The reader of the file being read, or NULL (for progress). */
	const struct sl_reader *reading;
	/** Bytes read from the files done (sl_file_extractor_bytes()). */
	uint64_t bytes_done;
	/** Bytes of the local files to read (0: not known yet). */
	uint64_t bytes_total;
};

/** Sum the sizes of f's local files into f->bytes_total. */
static void
file_total(struct file_step *f)
{
	f->bytes_total = 0;
	for (size_t i = 0; i < f->paths.n; i++) {
		struct stat st;
		if (stat(f->paths.v[i], &st) == 0 && S_ISREG(st.st_mode))
			f->bytes_total += (uint64_t)st.st_size;
	}
}

static void
file_destroy(struct sl_step *s)
{
	struct file_step *f = (struct file_step *)s;
	for (size_t i = 0; i < f->n_globs; i++)
		sl_free(f->globs[i]);
	sl_free(f->globs);
	sl_paths_destroy(&f->paths);
	lines_jobs_free(f->free_jobs);
	xck_destroy(&f->ck);
	for (size_t i = 0; i < f->n_urls; i++) {
		sl_free(f->urls[i]);
		sl_free(f->url_names[i]);
	}
	sl_free(f->urls);
	sl_free(f->url_names);
	sl_free(f->url_src);
	for (size_t i = 0; i < f->n_http; i++)
		sl_http_args_destroy(&f->http_args[i]);
	sl_free(f->http_args);
	for (size_t i = 0; i < f->n_s3; i++)
		s3_source_destroy(&f->s3[i]);
	sl_free(f->s3);
	for (size_t i = 0; i < f->n_s3_names; i++)
		sl_free(f->s3_names[i]);
	sl_free(f->s3_names);
	sl_free(f);
}

static int
file_start(struct sl_step *s)
{
	struct file_step *f = (struct file_step *)s;
	sl_paths_destroy(&f->paths);
	for (size_t i = 0; i < f->n_globs; i++) {
		long n = sl_glob(f->globs[i], &f->paths);
		if (n < 0) {
			sl_diag_wrap(sl_diag_code(), "expanding glob '%s'",
			             f->globs[i]);
			return -1;
		}
		if (n == 0)
			sl_log_warn("step %s: no files found for glob '%s'",
			            s->name, f->globs[i]);
	}
	sl_paths_sort(&f->paths);
	f->files_other = 0;
	if (f->shard_n > 1) {
		/* Keep this shard's files, by a hash of the path as matched,
		 * and its URLs, by a hash of the URL as written. */
		size_t kept = 0;
		for (size_t i = 0; i < f->paths.n; i++) {
			const char *p = f->paths.v[i];
			if (sl_shard_of(p, strlen(p), f->shard_n) + 1 ==
			    f->shard_k) {
				f->paths.v[kept++] = f->paths.v[i];
			} else {
				sl_free(f->paths.v[i]);
				f->files_other++;
			}
		}
		f->paths.n = kept;
		size_t urls = 0;
		for (size_t i = 0; i < f->n_urls; i++) {
			const char *u = f->urls[i];
			if (sl_shard_of(u, strlen(u), f->shard_n) + 1 ==
			    f->shard_k) {
				f->urls[urls] = f->urls[i];
				f->url_names[urls] = f->url_names[i];
				f->url_src[urls] = f->url_src[i];
				urls++;
			} else {
				sl_free(f->urls[i]);
				sl_free(f->url_names[i]);
				f->files_other++;
			}
		}
		f->n_urls = urls;
		sl_log_info("step %s: shard %u/%u: %zu of %zu files are this "
		            "shard's",
		            s->name, f->shard_k, f->shard_n, kept + urls,
		            kept + urls + f->files_other);
	}
	sl_log_info("step %s: %zu file%s to read", s->name,
	            f->paths.n + f->n_urls,
	            f->paths.n + f->n_urls == 1 ? "" : "s");
	return 0;
}

/**
 * The format and compression of a URL, by the suffixes of its path (the
 * query and fragment left out). 0, or -1 as sl_format_of_name().
 */
static int
format_of_url(const char *url, enum sl_format *format,
              enum sl_compression *comp)
{
	const char *p = strstr(url, "://");
	p = p != NULL ? p + 3 : url;
	p += strcspn(p, "/?#");
	char path[1024];
	size_t n = strcspn(p, "?#");
	if (n >= sizeof(path))
		n = sizeof(path) - 1;
	memcpy(path, p, n);
	path[n] = '\0';
	return sl_format_of_name(path, format, comp);
}

/**
 * Open URL `i` of `f` for reading, its transfer started already in `*h`
 * (or NULL to start it now): the response (2xx status) and a reader over
 * its body. 0, or -1 with *h closed and NULL, *r NULL.
 */
static int
open_url(struct file_step *f, size_t i, struct sl_source *src,
         struct sl_http **h, struct sl_reader **r)
{
	*r = NULL;
	enum sl_format format;
	enum sl_compression comp;
	if (format_of_url(f->urls[i], &format, &comp) != 0) {
		sl_diag_wrap(sl_diag_code(), "reading %s", f->url_names[i]);
		goto fail;
	}
	if (*h == NULL)
		*h = sl_http_start(f->urls[i],
		                   &f->http_args[f->url_src[i]].opts);
	if (*h == NULL || sl_http_wait_response(*h) != 0 ||
	    sl_http_check(*h) != 0)
		goto fail;
	*src = sl_http_source(*h);
	src->name = f->url_names[i];
	*r = sl_reader_new(src, format, comp, &f->ropts);
	if (*r == NULL)
		goto fail;
	return 0;
fail:
	sl_http_close(*h);
	*h = NULL;
	return -1;
}

/**
 * Start the transfer of URL `i` ahead of its turn, or NULL (past the
 * end, or if it cannot start now: its turn starts it again and reports
 * why).
 */
static struct sl_http *
prefetch_url(struct file_step *f, size_t i)
{
	if (i >= f->n_urls)
		return NULL;
	struct sl_diag keep;
	sl_diag_stash(&keep);
	struct sl_http *h =
	        sl_http_start(f->urls[i], &f->http_args[f->url_src[i]].opts);
	sl_diag_restore(&keep);
	return h;
}

/**
 * Read the http sources' URLs, each one's transfer started while the one
 * before it is read (one multi handle runs both). 0, or -1.
 */
static int
read_urls(struct file_step *f, struct sl_emit *out)
{
	struct sl_step *s = &f->base;
	struct sl_http *next = NULL;
	int rc = 0;
	for (size_t i = 0; i < f->n_urls && rc == 0; i++) {
		const char *name = f->url_names[i];
		uint64_t g = f->input_base + i;
		int want = xck_input(&f->ck, g, name);
		if (want <= 0) {
			if (want < 0)
				rc = -1;
			continue;
		}
		struct sl_source src;
		struct sl_http *h = next;
		struct sl_reader *r;
		next = NULL;
		int k = open_url(f, i, &src, &h, &r);
		next = prefetch_url(f, i + 1);
		if (k != 0) {
			/* As a local file that cannot be opened. */
			enum sl_errcode code = sl_diag_code();
			if (!f->skip || code == SL_EOOM ||
			    code == SL_ECANCELLED) {
				rc = -1;
				break;
			}
			sl_diag_wrap(code, "skipping the file");
			skip_bad_input(s);
			continue;
		}
		sl_log_debug("step %s: reading %s", s->name, name);
		f->reading = r;
		rc = read_all(s, r, name, f->skip, &f->free_jobs, &f->ck, out);
		f->bytes_done += sl_reader_bytes_in(r);
		f->reading = NULL;
		sl_reader_delete(r);
		sl_http_close(h);
		if (rc == 0) {
			f->files_read++;
			rc = xck_input_done(&f->ck, out, g);
		}
	}
	sl_http_close(next);
	return rc;
}

/** The FileExtractor takes part in the run's checkpointing. */
static int
file_checkpoint(struct sl_step *s, struct sl_checkpoint *c)
{
	return xck_attach(&((struct file_step *)s)->ck, s, c);
}

/* --- file: s3 sources ---------------------------------------------------- */

/**
 * The name Nodestream gives an S3 object to find its format: the key,
 * its last suffix replaced by `format` (Python's Path.with_suffix()).
 */
static char *
s3_format_name(const char *key, const char *format)
{
	const char *base = strrchr(key, '/');
	base = base != NULL ? base + 1 : key;
	size_t blen = strlen(base);
	const char *dot = strrchr(base, '.');
	size_t keep = strlen(key);
	if (dot != NULL && dot > base && (size_t)(dot - base) < blen - 1)
		keep = (size_t)(dot - key);
	size_t flen = strlen(format);
	char *name = sl_malloc(keep + flen + 1);
	if (name == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for an S3 key");
		return NULL;
	}
	memcpy(name, key, keep);
	memcpy(name + keep, format, flen + 1);
	return name;
}

/** Whether `s` ends with `end`. */
static bool
ends_with(const char *s, const char *end)
{
	size_t n = strlen(s), m = strlen(end);
	return n >= m && memcmp(s + n - m, end, m) == 0;
}

/** Whether key `key` of `src` is read (Nodestream's filters). */
static bool
s3_key_wanted(const struct s3_source *src, const char *key)
{
	if (src->archive_dir != NULL &&
	    strncmp(key, src->archive_dir, strlen(src->archive_dir)) == 0)
		return false;
	if (src->suffix != NULL)
		return ends_with(key, src->suffix);
	if (src->object_format != NULL)
		return ends_with(key, src->object_format);
	return true;
}

/** Keep `name` for the run (origins point at it). 0, or -1. */
static int
keep_s3_name(struct file_step *f, char *name)
{
	if (f->n_s3_names == f->s3_names_cap) {
		size_t cap = f->s3_names_cap == 0 ? 16 : f->s3_names_cap * 2;
		char **v = sl_realloc(f->s3_names, cap * sizeof(*v));
		if (v == NULL) {
			sl_free(name);
			sl_diag_set(SL_EOOM, "out of memory for S3 names");
			return -1;
		}
		f->s3_names = v;
		f->s3_names_cap = cap;
	}
	f->s3_names[f->n_s3_names++] = name;
	return 0;
}

/**
 * Move object `key` to the archive: copied to ARCHIVE_DIR/BASENAME, then
 * deleted (as Nodestream does). 0, or -1.
 */
static int
s3_archive(struct sl_s3 *c, const struct s3_source *src, const char *key)
{
	const char *base = strrchr(key, '/');
	base = base != NULL ? base + 1 : key;
	size_t n = strlen(src->archive_dir) + 1 + strlen(base) + 1;
	char *dst = sl_malloc(n);
	if (dst == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for an S3 key");
		return -1;
	}
	snprintf(dst, n, "%s/%s", src->archive_dir, base);
	int rc = sl_s3_copy(c, src->bucket, key, dst);
	if (rc == 0)
		rc = sl_s3_delete(c, src->bucket, key);
	if (rc != 0)
		sl_diag_wrap(sl_diag_code(), "archiving s3://%s/%s to %s",
		             src->bucket, key, src->archive_dir);
	else
		sl_log_info("archived s3://%s/%s to s3://%s/%s", src->bucket,
		            key, src->bucket, dst);
	sl_free(dst);
	return rc;
}

/**
 * Read object `key` of `src` (named `name`, kept for the run) into the
 * output, its GET started already in `h` (or NULL to start it now; closed
 * here), then archive it if asked. 0, or -1; an object that cannot be
 * opened is skipped like a local file (on_error: skip).
 */
static int
read_s3_object(struct file_step *f, struct sl_s3 *c,
               const struct s3_source *src, const char *key, const char *name,
               struct sl_http *h, struct sl_emit *out)
{
	struct sl_step *s = &f->base;
	enum sl_format format;
	enum sl_compression comp;
	bool over = src->object_format != NULL && src->suffix != NULL;
	char *fname = over ? s3_format_name(key, src->object_format) : NULL;
	if (over && fname == NULL)
		return -1;
	int k = sl_format_of_name(fname != NULL ? fname : key, &format, &comp);
	sl_free(fname);
	struct sl_reader *r = NULL;
	struct sl_source bytes; /* the reader keeps a pointer to it */
	if (k == 0 && h == NULL)
		h = sl_s3_get_start(c, src->bucket, key);
	if (k != 0)
		sl_diag_wrap(sl_diag_code(), "reading %s", name);
	else if (h != NULL && sl_s3_get_wait(h, src->bucket, key) == 0) {
		bytes = sl_http_source(h);
		bytes.name = name;
		r = sl_reader_new(&bytes, format, comp, &f->ropts);
	}
	if (r == NULL) {
		sl_http_close(h);
		enum sl_errcode code = sl_diag_code();
		if (!f->skip || code == SL_EOOM || code == SL_ECANCELLED)
			return -1;
		sl_diag_wrap(code, "skipping the file");
		skip_bad_input(s);
		return 0;
	}
	sl_log_debug("step %s: reading %s", s->name, name);
	f->reading = r;
	int rc = read_all(s, r, name, f->skip, &f->free_jobs, &f->ck, out);
	f->bytes_done += sl_reader_bytes_in(r);
	f->reading = NULL;
	sl_reader_delete(r);
	sl_http_close(h);
	if (rc != 0)
		return -1;
	f->files_read++;
	f->s3_kept++;
	if (src->archive_dir != NULL)
		return s3_archive(c, src, key);
	return 0;
}

/** An object of a list page to read. */
struct s3_pick {
	/** Its key (in the page). */
	const char *key;
	/** Its name, "s3://bucket/key" (kept for the run). */
	const char *name;
	/** Its index in reading order (checkpoints). */
	uint64_t g;
};

/**
 * Start the GET of `key` ahead of its turn, or NULL if it cannot start
 * now (its turn starts it again and reports why).
 */
static struct sl_http *
prefetch_s3(struct sl_s3 *c, const struct s3_source *src, const char *key)
{
	struct sl_diag keep;
	sl_diag_stash(&keep);
	struct sl_http *h = sl_s3_get_start(c, src->bucket, key);
	sl_diag_restore(&keep);
	return h;
}

/**
 * Read the objects of an s3 source: listed a page at a time, each page's
 * objects read (streamed, the next one's GET started while one is read)
 * before the next page is asked for. 0, or -1.
 */
static int
read_s3(struct file_step *f, const struct s3_source *src, struct sl_emit *out)
{
	struct sl_step *s = &f->base;
	struct sl_s3_config cfg;
	sl_s3_config_init(&cfg);
	cfg.endpoint = src->endpoint;
	cfg.region = src->region;
	cfg.access_key_id = src->key_id;
	cfg.secret_access_key = src->secret;
	cfg.session_token = src->token;
	cfg.profile = src->profile;
	cfg.assume_role_arn = src->role_arn;
	cfg.assume_role_external_id = src->external_id;
	cfg.sts_endpoint = src->sts_endpoint;
	cfg.page_size = src->page_size;
	cfg.http = src->http.opts;
	struct sl_s3 *c = sl_s3_new(&cfg);
	if (c == NULL) {
		sl_diag_wrap(sl_diag_code(), "step %s: s3 source s3://%s",
		             s->name, src->bucket);
		return -1;
	}
	struct sl_s3_page page = {0};
	char *token = NULL;
	uint64_t listed = 0, before = f->s3_kept, other = f->s3_other;
	int rc = 0;
	unsigned pages = 0;
	do {
		sl_log_debug("step %s: listing s3://%s/%s, page %u", s->name,
		             src->bucket, src->prefix, ++pages);
		rc = sl_s3_list(c, src->bucket, src->prefix, token, &page);
		sl_free(token);
		token = page.next_token;
		page.next_token = NULL;
		/* This page's objects to read, then read with the next
		 * one's GET started while one is read. */
		struct s3_pick *pick = NULL;
		size_t n_pick = 0;
		if (rc == 0 && page.n > 0 &&
		    (pick = sl_malloc(page.n * sizeof(*pick))) == NULL) {
			sl_diag_set(SL_EOOM, "out of memory listing s3://%s",
			            src->bucket);
			rc = -1;
		}
		for (size_t i = 0; rc == 0 && i < page.n; i++) {
			const char *key = page.objs[i].key;
			if (!s3_key_wanted(src, key))
				continue;
			listed++;
			size_t n = strlen(src->bucket) + strlen(key) + 7;
			char *name = sl_malloc(n);
			if (name == NULL) {
				sl_diag_set(SL_EOOM,
				            "out of memory for S3 names");
				rc = -1;
				break;
			}
			snprintf(name, n, "s3://%s/%s", src->bucket, key);
			if (f->shard_n > 1 &&
			    sl_shard_of(name, strlen(name), f->shard_n) + 1 !=
			            f->shard_k) {
				sl_free(name);
				f->s3_other++;
				continue;
			}
			if (keep_s3_name(f, name) != 0) {
				rc = -1;
				break;
			}
			uint64_t g = f->input_base + f->s3_seq++;
			if (xck_before(&f->ck, g))
				continue; /* done by an earlier run */
			pick[n_pick].key = key;
			pick[n_pick].g = g;
			pick[n_pick++].name = name;
		}
		struct sl_http *next = NULL;
		for (size_t j = 0; rc == 0 && j < n_pick; j++) {
			struct sl_http *h = next;
			next = j + 1 < n_pick
			               ? prefetch_s3(c, src, pick[j + 1].key)
			               : NULL;
			int want = xck_input(&f->ck, pick[j].g, pick[j].name);
			if (want < 0)
				rc = -1;
			else
				rc = read_s3_object(f, c, src, pick[j].key,
				                    pick[j].name, h, out);
			if (rc == 0)
				rc = xck_input_done(&f->ck, out, pick[j].g);
		}
		sl_http_close(next);
		sl_free(pick);
	} while (rc == 0 && token != NULL);
	sl_free(token);
	sl_s3_page_destroy(&page);
	unsigned long assumed = sl_s3_assumed(c);
	sl_s3_free(c);
	if (assumed > 0)
		sl_log_info("step %s: s3://%s: assumed role %s %lu time%s",
		            s->name, src->bucket, src->role_arn, assumed,
		            assumed == 1 ? "" : "s");
	if (rc == 0) {
		if (listed == 0)
			sl_log_warn("step %s: no objects found in s3://%s/%s",
			            s->name, src->bucket, src->prefix);
		sl_log_info("step %s: read %" PRIu64 " object%s of s3://%s/%s"
		            "%s",
		            s->name, f->s3_kept - before,
		            f->s3_kept - before == 1 ? "" : "s", src->bucket,
		            src->prefix,
		            f->s3_other > other ? " (others are other shards')"
		                                : "");
	}
	return rc;
}

/** Read the local sources' files, sorted. 0, or -1. */
static int
read_locals(struct file_step *f, struct sl_emit *out)
{
	struct sl_step *s = &f->base;
	for (size_t i = 0; i < f->paths.n; i++) {
		const char *path = f->paths.v[i];
		uint64_t g = f->input_base + i;
		int want = xck_input(&f->ck, g, path);
		if (want < 0)
			return -1;
		if (want == 0)
			continue;
		struct sl_reader *r = sl_reader_open(path, &f->ropts);
		if (r == NULL) {
			/* An unknown suffix or a file that cannot be opened:
			 * the whole file is skipped. */
			if (!f->skip || sl_diag_code() == SL_EOOM)
				return -1;
			sl_diag_wrap(sl_diag_code(), "skipping the file");
			skip_bad_input(s);
			continue;
		}
		sl_log_debug("step %s: reading %s", s->name, path);
		f->reading = r;
		int rc = read_all(s, r, path, f->skip, &f->free_jobs, &f->ck,
		                  out);
		f->bytes_done += sl_reader_bytes_in(r);
		f->reading = NULL;
		sl_reader_delete(r);
		if (rc != 0)
			return -1;
		f->files_read++;
		if (xck_input_done(&f->ck, out, g) != 0)
			return -1;
	}
	return 0;
}

/** Read the s3 sources in order. 0, or -1. */
static int
read_s3_sources(struct file_step *f, struct sl_emit *out)
{
	for (size_t i = 0; i < f->n_s3; i++)
		if (read_s3(f, &f->s3[i], out) != 0)
			return -1;
	return 0;
}

static int
file_drain(struct sl_step *s, struct sl_emit *out)
{
	struct file_step *f = (struct file_step *)s;
	file_total(f);
	/* The kinds of sources in the order of their first source. */
	int (*group[3])(struct file_step *, struct sl_emit *);
	int (*a)(struct file_step *, struct sl_emit *) =
	        f->urls_first ? read_urls : read_locals;
	int (*b)(struct file_step *, struct sl_emit *) =
	        f->urls_first ? read_locals : read_urls;
	size_t n = 0;
	if (f->s3_rank == 0)
		group[n++] = read_s3_sources;
	group[n++] = a;
	if (f->s3_rank == 1)
		group[n++] = read_s3_sources;
	group[n++] = b;
	if (f->s3_rank >= 2)
		group[n++] = read_s3_sources;
	if (xck_begin(&f->ck, UINT64_MAX) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		f->input_base = (uint64_t)i << 40;
		if (group[i](f, out) != 0)
			return -1;
	}
	return xck_end(&f->ck, out);
}

/** The FileExtractor's callbacks. */
static const struct sl_step_ops file_ops = {
        .type = "FileExtractor",
        .start = file_start,
        .drain = file_drain,
        .destroy = file_destroy,
        .checkpoint = file_checkpoint,
};

bool
sl_file_extractor_shard(struct sl_step *s, uint32_t k, uint32_t n)
{
	if (s == NULL || s->ops != &file_ops)
		return false;
	struct file_step *f = (struct file_step *)s;
	f->shard_k = k;
	f->shard_n = n;
	return true;
}

bool
sl_file_extractor_files(const struct sl_step *s, uint64_t *kept,
                        uint64_t *other)
{
	if (s == NULL || s->ops != &file_ops)
		return false;
	const struct file_step *f = (const struct file_step *)s;
	*kept = f->paths.n + f->s3_kept;
	*other = f->files_other + f->s3_other;
	return true;
}

bool
sl_file_extractor_bytes(const struct sl_step *s, uint64_t *read,
                        uint64_t *total)
{
	if (s == NULL || s->ops != &file_ops)
		return false;
	const struct file_step *f = (const struct file_step *)s;
	*read = f->bytes_done +
	        (f->reading != NULL ? sl_reader_bytes_in(f->reading) : 0);
	*total = f->n_urls == 0 ? f->bytes_total : 0;
	return true;
}

/** Append the globs of a list node (or a single string) to `f`. */
static int
add_globs(struct file_step *f, const struct sl_conf *n, const char *what)
{
	const struct sl_conf *const *items = (const struct sl_conf **)&n;
	uint32_t count = 1;
	if (n->kind == SL_CONF_SEQ) {
		items = (const struct sl_conf *const *)n->items;
		count = n->n;
	} else if (n->kind != SL_CONF_SCALAR) {
		return sl_conf_error(n, what,
		                     "expected a list of glob patterns, got a "
		                     "%s",
		                     sl_conf_kind_name(n->kind));
	}
	if (count == 0)
		return 0;
	char **v = sl_realloc(f->globs, (f->n_globs + count) * sizeof(*v));
	if (v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for globs");
		return -1;
	}
	f->globs = v;
	for (uint32_t i = 0; i < count; i++) {
		const char *g;
		if (sl_conf_str(items[i], what, &g) != 0)
			return -1;
		if (g[0] == '\0')
			return sl_conf_error(items[i], what,
			                     "expected a glob pattern, got an "
			                     "empty string");
		size_t len = strlen(g) + 1;
		char *copy = sl_malloc(len);
		if (copy == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for globs");
			return -1;
		}
		memcpy(copy, g, len);
		f->globs[f->n_globs++] = copy;
	}
	return 0;
}

/** Read an http source: `{type: http, urls: [...], ...}`. */
static int
add_http_source(struct file_step *f, const struct sl_conf *src)
{
	static const char *const keys[] = {"type", "urls",
	                                   "memory_spooling_max_size_in_mb",
	                                   SL_HTTP_ARGS_KEYS, NULL};
	if (sl_conf_check_keys(src, keys, "arguments.sources",
	                       "an http source") != 0)
		return -1;
	const struct sl_conf *urls = sl_conf_get(src, "urls");
	if (urls == NULL || sl_conf_is_null(urls))
		return sl_conf_error(src, "arguments.sources",
		                     "an http source needs urls");
	if (urls->kind != SL_CONF_SEQ)
		return sl_conf_error(urls, "arguments.sources.urls",
		                     "expected a list of URLs, got a %s",
		                     sl_conf_kind_name(urls->kind));
	/* Nodestream spools a response to memory or disk before reading it;
	 * sluice streams it, so the size is read for checking only. */
	const struct sl_conf *spool =
	        sl_conf_get(src, "memory_spooling_max_size_in_mb");
	int64_t mb;
	if (spool != NULL && !sl_conf_is_null(spool) &&
	    sl_conf_int(spool,
	                "arguments.sources.memory_spooling_max_size_in_mb",
	                &mb) != 0)
		return -1;
	struct sl_http_args *args =
	        sl_realloc(f->http_args, (f->n_http + 1) * sizeof(*args));
	if (args == NULL)
		goto oom;
	f->http_args = args;
	if (sl_http_args_read(src, "arguments.sources", &args[f->n_http]) != 0)
		return -1;
	size_t source = f->n_http++;
	size_t n = f->n_urls + urls->n;
	char **u = sl_realloc(f->urls, n * sizeof(*u));
	if (u != NULL)
		f->urls = u;
	char **names =
	        u != NULL ? sl_realloc(f->url_names, n * sizeof(*u)) : NULL;
	if (names != NULL)
		f->url_names = names;
	size_t *o =
	        names != NULL ? sl_realloc(f->url_src, n * sizeof(*o)) : NULL;
	if (o == NULL)
		goto oom;
	f->url_src = o;
	for (uint32_t i = 0; i < urls->n; i++) {
		const char *url;
		if (sl_conf_str(urls->items[i], "arguments.sources.urls",
		                &url) != 0)
			return -1;
		if (url[0] == '\0')
			return sl_conf_error(urls->items[i],
			                     "arguments.sources.urls",
			                     "expected a URL, got an empty "
			                     "string");
		char shown[512];
		sl_http_redact(url, shown, sizeof(shown));
		char *copy = sl_strndup(url, strlen(url));
		char *name =
		        copy != NULL ? sl_strndup(shown, strlen(shown)) : NULL;
		if (name == NULL) {
			sl_free(copy);
			goto oom;
		}
		f->urls[f->n_urls] = copy;
		f->url_names[f->n_urls] = name;
		f->url_src[f->n_urls++] = source;
	}
	return 0;
oom:
	sl_diag_set(SL_EOOM, "out of memory for an http source");
	return -1;
}

/**
 * Copy the string option `key` of `src` to *out (absent or null: NULL).
 * 0, or -1.
 */
static int
s3_opt(const struct sl_conf *src, const char *key, char **out)
{
	*out = NULL;
	const struct sl_conf *n = sl_conf_get(src, key);
	if (n == NULL || sl_conf_is_null(n))
		return 0;
	char what[96];
	snprintf(what, sizeof(what), "arguments.sources.%s", key);
	const char *v;
	if (sl_conf_str(n, what, &v) != 0)
		return -1;
	*out = sl_strndup(v, strlen(v));
	if (*out == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for an s3 source");
		return -1;
	}
	return 0;
}

/**
 * Read an s3 source: `{type: s3, bucket: ..., prefix, suffix,
 * object_format, archive_dir, ...credentials}` (Nodestream's
 * S3FileSource and its AWS client arguments).
 */
static int
add_s3_source(struct file_step *f, const struct sl_conf *src)
{
	static const char *const keys[] = {"type",
	                                   "bucket",
	                                   "prefix",
	                                   "suffix",
	                                   "object_format",
	                                   "archive_dir",
	                                   "region_name",
	                                   "aws_access_key_id",
	                                   "aws_secret_access_key",
	                                   "aws_session_token",
	                                   "endpoint_url",
	                                   "profile_name",
	                                   "session_ttl",
	                                   "assume_role_arn",
	                                   "assume_role_external_id",
	                                   "sts_endpoint_url",
	                                   "page_size",
	                                   "connect_timeout",
	                                   "stall_timeout",
	                                   "timeout",
	                                   NULL};
	if (sl_conf_check_keys(src, keys, "arguments.sources",
	                       "an s3 source") != 0)
		return -1;
	const struct sl_conf *ttl = sl_conf_get(src, "session_ttl");
	int64_t secs;
	if (ttl != NULL && !sl_conf_is_null(ttl) &&
	    sl_conf_int(ttl, "arguments.sources.session_ttl", &secs) != 0)
		return -1;
	struct s3_source *v = sl_realloc(f->s3, (f->n_s3 + 1) * sizeof(*f->s3));
	if (v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for an s3 source");
		return -1;
	}
	f->s3 = v;
	struct s3_source *s = &f->s3[f->n_s3];
	memset(s, 0, sizeof(*s));
	if (sl_http_args_read(src, "arguments.sources", &s->http) != 0)
		return -1;
	f->n_s3++;
	if (s3_opt(src, "bucket", &s->bucket) != 0 ||
	    s3_opt(src, "prefix", &s->prefix) != 0 ||
	    s3_opt(src, "suffix", &s->suffix) != 0 ||
	    s3_opt(src, "object_format", &s->object_format) != 0 ||
	    s3_opt(src, "archive_dir", &s->archive_dir) != 0 ||
	    s3_opt(src, "region_name", &s->region) != 0 ||
	    s3_opt(src, "aws_access_key_id", &s->key_id) != 0 ||
	    s3_opt(src, "aws_secret_access_key", &s->secret) != 0 ||
	    s3_opt(src, "aws_session_token", &s->token) != 0 ||
	    s3_opt(src, "endpoint_url", &s->endpoint) != 0 ||
	    s3_opt(src, "profile_name", &s->profile) != 0 ||
	    s3_opt(src, "assume_role_arn", &s->role_arn) != 0 ||
	    s3_opt(src, "assume_role_external_id", &s->external_id) != 0 ||
	    s3_opt(src, "sts_endpoint_url", &s->sts_endpoint) != 0)
		return -1;
	if (s->profile != NULL && s->profile[0] == '\0') {
		sl_free(s->profile); /* Nodestream drops an empty one */
		s->profile = NULL;
	}
	/* An empty role is none, as in Nodestream; so is an empty id. */
	if (s->role_arn != NULL && s->role_arn[0] == '\0') {
		sl_free(s->role_arn);
		s->role_arn = NULL;
	}
	if (s->external_id != NULL && s->external_id[0] == '\0') {
		sl_free(s->external_id);
		s->external_id = NULL;
	}
	if (s->role_arn != NULL && strncmp(s->role_arn, "arn:", 4) != 0)
		return sl_conf_error(sl_conf_get(src, "assume_role_arn"),
		                     "arguments.sources.assume_role_arn",
		                     "expected a role ARN "
		                     "(arn:aws:iam::ACCOUNT:role/NAME), got "
		                     "'%.200s'",
		                     s->role_arn);
	if (s->external_id != NULL && s->role_arn == NULL)
		sl_log_warn("s3 source s3://%s: assume_role_external_id is "
		            "ignored without assume_role_arn (as in "
		            "Nodestream)",
		            s->bucket != NULL ? s->bucket : "");
	if (s->bucket == NULL || s->bucket[0] == '\0' ||
	    strchr(s->bucket, '/') != NULL)
		return sl_conf_error(
		        s->bucket == NULL ? src : sl_conf_get(src, "bucket"),
		        "arguments.sources",
		        "an s3 source needs bucket: a bucket name "
		        "(no '/'; the key prefix goes in prefix)");
	if (s->prefix == NULL && (s->prefix = sl_strndup("", 0)) == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for an s3 source");
		return -1;
	}
	if ((s->key_id == NULL) != (s->secret == NULL))
		return sl_conf_error(src, "arguments.sources",
		                     "an s3 source needs both "
		                     "aws_access_key_id and "
		                     "aws_secret_access_key, or neither (then "
		                     "the environment's)");
	if (s->object_format != NULL && s->object_format[0] != '.')
		return sl_conf_error(sl_conf_get(src, "object_format"),
		                     "arguments.sources.object_format",
		                     "expected a file suffix such as '.json', "
		                     "got '%s'",
		                     s->object_format);
	if (s->archive_dir != NULL && s->archive_dir[0] == '\0') {
		sl_free(s->archive_dir); /* Nodestream: empty is none */
		s->archive_dir = NULL;
	}
	const struct sl_conf *ps = sl_conf_get(src, "page_size");
	int64_t page = 0;
	if (ps != NULL && !sl_conf_is_null(ps)) {
		if (sl_conf_int(ps, "arguments.sources.page_size", &page) != 0)
			return -1;
		if (page < 1 || page > 1000)
			return sl_conf_error(ps, "arguments.sources.page_size",
			                     "expected 1 to 1000 keys per "
			                     "list page, got %lld",
			                     (long long)page);
	}
	s->page_size = (uint32_t)page;
	return 0;
}

/** Read `sources: [{type: local, globs: [...]}, ...]`. */
static int
add_sources(struct file_step *f, const struct sl_conf *n)
{
	if (n->kind != SL_CONF_SEQ)
		return sl_conf_error(n, "arguments.sources",
		                     "expected a list of sources, got a %s",
		                     sl_conf_kind_name(n->kind));
	for (uint32_t i = 0; i < n->n; i++) {
		const struct sl_conf *src = n->items[i];
		if (src->kind != SL_CONF_MAP)
			return sl_conf_error(src, "arguments.sources",
			                     "expected a mapping with type and "
			                     "globs, got a %s",
			                     sl_conf_kind_name(src->kind));
		const struct sl_conf *type = sl_conf_get(src, "type");
		const char *t;
		if (type == NULL)
			return sl_conf_error(src, "arguments.sources",
			                     "a source needs a type (local, "
			                     "http or s3)");
		if (sl_conf_str(type, "arguments.sources.type", &t) != 0)
			return -1;
		if (strcmp(t, "http") == 0) {
			if (f->paths.n == 0 && f->n_globs == 0)
				f->urls_first = true;
			if (add_http_source(f, src) != 0)
				return -1;
			continue;
		}
		if (strcmp(t, "s3") == 0) {
			if (f->n_s3 == 0)
				f->s3_rank = (f->n_globs > 0) + (f->n_http > 0);
			if (add_s3_source(f, src) != 0)
				return -1;
			continue;
		}
		if (strcmp(t, "local") != 0)
			return sl_conf_error(
			        type, "arguments.sources.type",
			        "source type '%s' is not built in; "
			        "'local', 'http' and 's3' are",
			        t);
		for (uint32_t k = 0; k < src->n; k++) {
			const struct sl_conf *key = src->items[2 * k];
			if (strcmp(key->text, "type") != 0 &&
			    strcmp(key->text, "globs") != 0)
				return sl_conf_error(
				        key, "arguments.sources",
				        "unknown key '%s' in a local "
				        "source; it takes: type, "
				        "globs",
				        key->text);
		}
		const struct sl_conf *globs = sl_conf_get(src, "globs");
		if (globs == NULL || sl_conf_is_null(globs))
			return sl_conf_error(src, "arguments.sources",
			                     "a local source needs globs");
		if (add_globs(f, globs, "arguments.sources.globs") != 0)
			return -1;
	}
	return 0;
}

/** Build a FileExtractor. */
static struct sl_step *
file_create(const struct sl_stepdef *def)
{
	static const char *const local_keys[] = {"globs", SL_ARGS_READER_KEYS,
	                                         NULL};
	static const char *const sources_keys[] = {"sources",
	                                           SL_ARGS_READER_KEYS, NULL};
	bool local = def->factory != NULL;
	if (sl_args_check(def, local ? local_keys : sources_keys) != 0)
		return NULL;
	struct file_step *f = sl_calloc(1, sizeof(*f));
	if (f == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&f->base, &file_ops);
	sl_reader_opts_init(&f->ropts);
	const struct sl_conf *list =
	        sl_args_get(def, local ? "globs" : "sources");
	int rc = sl_args_reader(def, &f->ropts, &f->skip);
	if (rc == 0 && list == NULL)
		rc = sl_conf_error(def->node, "arguments",
		                   local ? "FileExtractor needs globs: a list "
		                           "of file patterns"
		                         : "FileExtractor needs sources (or "
		                           "use factory: local with globs)");
	if (rc == 0)
		rc = local ? add_globs(f, list, "arguments.globs")
		           : add_sources(f, list);
	if (rc != 0) {
		file_destroy(&f->base);
		return NULL;
	}
	return &f->base;
}

/* --- stdin -------------------------------------------------------------- */

/** The stdin extractor. */
struct stdin_step {
	/** Common part. */
	struct sl_step base;
	/** Format of the input. */
	enum sl_format format;
	/** Compression of the input. */
	enum sl_compression compression;
	/** Reading options. */
	struct sl_reader_opts ropts;
	/** on_error: skip (the default, unless --strict). */
	bool skip;
	/** The descriptor read (a duplicate of 0, so tests can swap it). */
	int fd;
	/** Watcher of `fd` when it can be polled (pipes, terminals). */
	struct sl_io io;
	/** Whether `io` is set up. */
	bool pollable;
};

/** sl_read_fn of standard input: waits in the loop, not in read(). */
static ssize_t
stdin_read(void *ctx, char *buf, size_t size)
{
	struct stdin_step *s = ctx;
	for (;;) {
		if (s->pollable &&
		    sl_io_wait(&s->io, SL_IO_READ, SL_FOREVER) < 0)
			return -1;
		ssize_t n = read(s->fd, buf, size);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && s->pollable)
			continue;
		sl_diag_set_errno("reading standard input");
		return -1;
	}
}

static int
stdin_start(struct sl_step *st)
{
	struct stdin_step *s = (struct stdin_step *)st;
	s->fd = dup(0);
	if (s->fd < 0) {
		sl_diag_set_errno("standard input is not open");
		return -1;
	}
	struct stat sb;
	if (fstat(s->fd, &sb) == 0 && !S_ISREG(sb.st_mode) &&
	    !S_ISBLK(sb.st_mode)) {
		if (sl_io_create(&s->io, s->fd) != 0)
			return -1;
		s->pollable = true;
	}
	return 0;
}

static int
stdin_drain(struct sl_step *st, struct sl_emit *out)
{
	struct stdin_step *s = (struct stdin_step *)st;
	struct sl_source src = {
	        .read = stdin_read, .ctx = s, .name = "<stdin>"};
	struct sl_reader *r =
	        sl_reader_new(&src, s->format, s->compression, &s->ropts);
	if (r == NULL)
		return -1;
	/* Records one by one, as they come: a block would wait for more
	 * lines of a stream that may pause. */
	int rc = emit_records(st, r, "<stdin>", s->skip, NULL, out);
	sl_reader_delete(r);
	return rc;
}

static int
stdin_finish(struct sl_step *st)
{
	struct stdin_step *s = (struct stdin_step *)st;
	if (s->pollable)
		sl_io_destroy(&s->io);
	s->pollable = false;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return 0;
}

static void
stdin_destroy(struct sl_step *st)
{
	stdin_finish(st);
	sl_free(st);
}

/** The stdin extractor's callbacks. */
static const struct sl_step_ops stdin_ops = {
        .type = "StdinExtractor",
        .start = stdin_start,
        .drain = stdin_drain,
        .finish = stdin_finish,
        .destroy = stdin_destroy,
};

/** Build a stdin extractor. */
static struct sl_step *
stdin_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"format", "compression",
	                                   SL_ARGS_READER_KEYS, NULL};
	if (sl_args_check(def, keys) != 0)
		return NULL;
	struct stdin_step *s = sl_calloc(1, sizeof(*s));
	if (s == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&s->base, &stdin_ops);
	s->fd = -1;
	sl_reader_opts_init(&s->ropts);
	const char *format, *comp;
	if (sl_args_reader(def, &s->ropts, &s->skip) != 0 ||
	    sl_args_str(def, "format", "jsonl", &format) != 0 ||
	    sl_args_str(def, "compression", "none", &comp) != 0)
		goto fail;
	s->format = sl_format_parse(format);
	if (s->format == SL_FORMAT_NONE) {
		sl_conf_error(sl_args_get(def, "format"), "arguments.format",
		              "unknown format '%s'; expected jsonl, json, "
		              "csv, txt or yaml",
		              format);
		goto fail;
	}
	s->compression = sl_compression_parse(comp);
	if (s->compression == SL_COMPRESSION_NONE &&
	    strcmp(comp, "none") != 0) {
		sl_conf_error(sl_args_get(def, "compression"),
		              "arguments.compression",
		              "unknown compression '%s'; expected none, gzip, "
		              "zstd or bzip2",
		              comp);
		goto fail;
	}
	return &s->base;
fail:
	stdin_destroy(&s->base);
	return NULL;
}

/* --- range and iterable -------------------------------------------------- */

/** The IterableExtractor. */
struct range_step {
	/** Common part. */
	struct sl_step base;
	/** Whether the records are `items` rather than a range. */
	bool iterable;
	/** First index. */
	int64_t start;
	/** Index not reached. */
	int64_t stop;
	/** Increment (not 0). */
	int64_t step;
	/** Records of an `iterable` (in `arena`). */
	struct sl_value items;
	/** Memory of `items`. */
	struct sl_arena arena;
	/** Checkpoints (sl_step_ops.checkpoint): one input, by record. */
	struct xck ck;
};

static void
range_destroy(struct sl_step *s)
{
	struct range_step *r = (struct range_step *)s;
	sl_arena_destroy(&r->arena);
	xck_destroy(&r->ck);
	sl_free(r);
}

/** The record {"index": i} built in `a`. */
static int
index_record(struct sl_arena *a, int64_t i, struct sl_value *out)
{
	struct sl_member *m = sl_arena_alloc(a, sizeof(*m));
	if (m == NULL)
		return -1;
	m->key = "index";
	m->key_len = 5;
	m->val = sl_int(i);
	*out = sl_object_ref(m, 1);
	return 0;
}

/** The IterableExtractor takes part in the run's checkpointing. */
static int
range_checkpoint(struct sl_step *s, struct sl_checkpoint *c)
{
	return xck_attach(&((struct range_step *)s)->ck, s, c);
}

static int
range_drain(struct sl_step *s, struct sl_emit *out)
{
	struct range_step *r = (struct range_step *)s;
	/* One input, "range" or "iterable"; a position counts records. */
	const char *name = r->iterable ? "iterable" : "range";
	if (xck_begin(&r->ck, 1) != 0)
		return -1;
	int want = xck_input(&r->ck, 0, name);
	if (want <= 0)
		return want < 0 ? -1 : xck_end(&r->ck, out);
	uint64_t done = xck_skip_line(&r->ck);
	if (r->iterable) {
		for (uint32_t i =
		             (uint32_t)(done < r->items.len ? done
		                                            : r->items.len);
		     i < r->items.len; i++) {
			sl_emit_set_origin(out, "iterable", (uint64_t)i + 1);
			if (sl_emit_copy(out, &r->items.u.items[i]) != 0 ||
			    xck_tick(&r->ck, out, (uint64_t)i + 1) != 0)
				return -1;
		}
		return xck_end(&r->ck, out);
	}
	uint64_t n = 0;
	for (int64_t i = r->start; r->step > 0 ? i < r->stop : i > r->stop;) {
		if (++n > done) {
			struct sl_arena *a = sl_emit_arena(out);
			struct sl_value v;
			sl_emit_set_origin(out, "range", n);
			if (a == NULL || index_record(a, i, &v) != 0 ||
			    sl_emit(out, v) != 0 ||
			    xck_tick(&r->ck, out, n) != 0)
				return -1;
		}
		if (__builtin_add_overflow(i, r->step, &i))
			break;
	}
	return xck_end(&r->ck, out);
}

/** The IterableExtractor's callbacks. */
static const struct sl_step_ops range_ops = {
        .type = "IterableExtractor",
        .drain = range_drain,
        .destroy = range_destroy,
        .checkpoint = range_checkpoint,
};

/** Build a range or iterable extractor. */
static struct sl_step *
range_create(const struct sl_stepdef *def)
{
	static const char *const range_keys[] = {"start", "stop", "step", NULL};
	static const char *const iter_keys[] = {"iterable", NULL};
	bool iterable = def->factory == NULL &&
	                strcmp(def->implementation, "range") != 0;
	if (sl_args_check(def, iterable ? iter_keys : range_keys) != 0)
		return NULL;
	struct range_step *r = sl_calloc(1, sizeof(*r));
	if (r == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&r->base, &range_ops);
	sl_arena_create(&r->arena, 4096, (size_t)256 << 20);
	r->iterable = iterable;
	if (iterable) {
		const struct sl_conf *n = sl_args_get(def, "iterable");
		if (n == NULL) {
			sl_conf_error(def->node, "arguments",
			              "IterableExtractor needs `iterable` (a "
			              "list of records) or `factory: range`");
			goto fail;
		}
		if (n->kind != SL_CONF_SEQ) {
			sl_conf_error(n, "arguments.iterable",
			              "expected a list of records, got a %s",
			              sl_conf_kind_name(n->kind));
			goto fail;
		}
		if (sl_conf_to_value(n, &r->arena, "arguments.iterable",
		                     &r->items) != 0)
			goto fail;
		return &r->base;
	}
	if (sl_args_int(def, "start", 0, &r->start) != 0 ||
	    sl_args_int(def, "stop", 100, &r->stop) != 0 ||
	    sl_args_int(def, "step", 1, &r->step) != 0)
		goto fail;
	if (r->step == 0) {
		sl_conf_error(sl_args_get(def, "step"), "arguments.step",
		              "expected a step other than 0");
		goto fail;
	}
	return &r->base;
fail:
	range_destroy(&r->base);
	return NULL;
}

/* --- registration ------------------------------------------------------- */

/** Names of the FileExtractor. */
static const char *const file_names[] = {
        "file", "nodestream.pipeline.extractors:FileExtractor",
        "nodestream.pipeline.extractors.files:FileExtractor", NULL};
/** Factories of the FileExtractor. */
static const char *const file_factories[] = {"local", NULL};
/** Names of the IterableExtractor. */
static const char *const range_names[] = {
        "range", "nodestream.pipeline:IterableExtractor",
        "nodestream.pipeline.extractors:IterableExtractor",
        "nodestream.pipeline.extractors.iterable:IterableExtractor", NULL};
/** Factories of the IterableExtractor. */
static const char *const range_factories[] = {"range", NULL};
/** Names of the stdin extractor. */
static const char *const stdin_names[] = {"stdin", NULL};

/** The extractor types. */
const struct sl_step_type sl_builtin_file = {
        .names = file_names,
        .factories = file_factories,
        .factory_optional = true,
        .create = file_create,
        .summary = "read local files matched by globs, http(s) URLs or "
                   "S3 objects "
                   "(.jsonl .json .csv .txt .yaml, optionally .gz .zst "
                   ".bz2)",
};
const struct sl_step_type sl_builtin_range = {
        .names = range_names,
        .factories = range_factories,
        .factory_optional = true,
        .create = range_create,
        .summary = "emit {\"index\": i} for a range, or listed records",
};
const struct sl_step_type sl_builtin_stdin = {
        .names = stdin_names,
        .create = stdin_create,
        .summary = "read records from standard input (format, "
                   "compression)",
};
