/*
 * A byte source over a local file.
 */
#include "value/filesrc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

int
sl_file_source_open(struct sl_file_source *f, const char *path)
{
	f->fd = -1;
	f->offset = 0;
	f->path = sl_strndup(path, strlen(path));
	if (f->path == NULL) {
		sl_diag_set(SL_EOOM, "out of memory opening %s", path);
		return -1;
	}
	int fd;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		sl_diag_set_errno("cannot open %s", path);
		sl_free(f->path);
		f->path = NULL;
		return -1;
	}
	f->fd = fd;
	return 0;
}

void
sl_file_source_close(struct sl_file_source *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	sl_free(f->path);
	f->path = NULL;
}

ssize_t
sl_file_source_read(void *ctx, char *buf, size_t size)
{
	struct sl_file_source *f = ctx;
	if (size > SSIZE_MAX)
		size = SSIZE_MAX;
	ssize_t got;
	do
		got = read(f->fd, buf, size);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		sl_diag_set_errno("cannot read %s at byte %" PRIu64, f->path,
		                  f->offset);
		return -1;
	}
	f->offset += (uint64_t)got;
	return got;
}

struct sl_source
sl_file_source_get(struct sl_file_source *f)
{
	struct sl_source s = {sl_file_source_read, f, f->path};
	return s;
}
