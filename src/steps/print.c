/*
 * sluice: the print step: records as JSON lines to standard output or a
 * file, passed on unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "builtins.h"
#include "sluice/alloc.h"
#include "sluice/batch.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/io.h"
#include "sluice/json.h"
#include "sluice/task.h"

/** Output is written once this many bytes are buffered. */
#define PRINT_WRITE_AT ((size_t)1 << 20)
/**
 * Hard cap of the output buffer: what is written at once, plus one
 * record's JSON line, which may take up to the record memory cap.
 */
#define PRINT_BUF_MAX (PRINT_WRITE_AT + SL_RECORD_MEM_MAX)

/** The print step. */
struct print_step {
	/** Common part. */
	struct sl_step base;
	/** Output path, or NULL for standard output. */
	char *path;
	/** Name used in messages. */
	const char *name;
	/** Output descriptor, -1 before start. */
	int fd;
	/** Whether `fd` was opened by the step. */
	bool own_fd;
	/** Whether records are written with sorted keys. */
	bool canonical;
	/** Whether `path` is appended to rather than truncated. */
	bool append;
	/** Buffered output. */
	struct sl_buf buf;
};

/** Write out the buffer. */
static int
print_write(struct print_step *p)
{
	size_t off = 0;
	while (off < p->buf.len) {
		ssize_t n = write(p->fd, p->buf.data + off, p->buf.len - off);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if (sl_wait_fd(p->fd, SL_IO_WRITE, SL_FOREVER) < 0)
				return -1;
			continue;
		}
		sl_diag_set_errno("writing to %s", p->name);
		return -1;
	}
	sl_buf_reset(&p->buf);
	return 0;
}

static int
print_start(struct sl_step *s)
{
	struct print_step *p = (struct print_step *)s;
	if (p->path == NULL) {
		p->fd = 1;
		return 0;
	}
	p->fd = open(p->path,
	             O_WRONLY | O_CREAT | O_CLOEXEC |
	                     (p->append ? O_APPEND : O_TRUNC),
	             0666);
	if (p->fd < 0) {
		sl_diag_set_errno("cannot open %s for writing", p->path);
		return -1;
	}
	p->own_fd = true;
	return 0;
}

/** A progress mark: what was printed before it is written out. */
static int
print_mark(struct sl_step *s, const struct sl_mark *m, struct sl_emit *out)
{
	(void)m;
	(void)out;
	return print_write((struct print_step *)s);
}

static int
print_batch(struct sl_step *s, struct sl_batch *in, struct sl_emit *out)
{
	struct print_step *p = (struct print_step *)s;
	unsigned flags = p->canonical ? SL_JSON_CANONICAL : 0;
	if (in->kind == SL_BATCH_FLUSH) {
		if (print_write(p) != 0)
			goto fail;
		return sl_emit_batch(out, in);
	}
	for (uint32_t i = 0; i < in->count; i++) {
		size_t at = p->buf.len;
		if (sl_json_write(&p->buf, &in->records[i], flags) != 0 ||
		    sl_buf_putc(&p->buf, '\n') != 0) {
			/* Drop the partial line; name the record. */
			p->buf.len = at;
			if (p->buf.data != NULL)
				p->buf.data[at] = '\0';
			char where[300];
			sl_origin_format(&in->origins[i], where, sizeof(where));
			if (sl_diag_code() == SL_ELIMIT)
				sl_diag_set(SL_ELIMIT,
				            "%s: the record's JSON line passes "
				            "the %zu MiB a record may use",
				            where, SL_RECORD_MEM_MAX >> 20);
			else
				sl_diag_wrap(sl_diag_code(), "%s", where);
			goto fail;
		}
		if (p->buf.len >= PRINT_WRITE_AT && print_write(p) != 0)
			goto fail;
	}
	return sl_emit_batch(out, in);
fail:
	sl_batch_put(in);
	return -1;
}

static int
print_finish(struct sl_step *s)
{
	struct print_step *p = (struct print_step *)s;
	if (p->fd < 0)
		return 0;
	int rc = print_write(p);
	if (p->own_fd && close(p->fd) != 0 && rc == 0) {
		sl_diag_set_errno("closing %s", p->name);
		rc = -1;
	}
	p->fd = -1;
	p->own_fd = false;
	return rc;
}

static void
print_destroy(struct sl_step *s)
{
	struct print_step *p = (struct print_step *)s;
	if (p->own_fd && p->fd >= 0)
		close(p->fd);
	sl_buf_destroy(&p->buf);
	sl_free(p->path);
	sl_free(p);
}

/** The print step's callbacks. */
static const struct sl_step_ops print_ops = {
        .type = "Print",
        .start = print_start,
        .process_batch = print_batch,
        .mark = print_mark,
        .finish = print_finish,
        .destroy = print_destroy,
};

struct sl_step *
sl_print_step_new(const char *path, bool canonical, bool append)
{
	struct print_step *p = sl_calloc(1, sizeof(*p));
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&p->base, &print_ops);
	p->fd = -1;
	p->name = "standard output";
	p->canonical = canonical;
	p->append = append;
	sl_buf_create(&p->buf, PRINT_BUF_MAX);
	if (path != NULL && strcmp(path, "-") != 0) {
		size_t len = strlen(path) + 1;
		p->path = sl_malloc(len);
		if (p->path == NULL) {
			sl_diag_set(SL_EOOM, "out of memory for a step");
			print_destroy(&p->base);
			return NULL;
		}
		memcpy(p->path, path, len);
		p->name = p->path;
	}
	return &p->base;
}

/** Build a print step. */
static struct sl_step *
print_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"path", "canonical", NULL};
	const char *path;
	bool canonical;
	if (sl_args_check(def, keys) != 0 ||
	    sl_args_str(def, "path", NULL, &path) != 0 ||
	    sl_args_bool(def, "canonical", false, &canonical) != 0)
		return NULL;
	return sl_print_step_new(path, canonical, false);
}

/** Names of the print step. */
static const char *const print_names[] = {"print", NULL};

const struct sl_step_type sl_builtin_print = {
        .names = print_names,
        .create = print_create,
        .summary = "write records as JSON lines (to `path` or standard "
                   "output) and pass them on",
};
