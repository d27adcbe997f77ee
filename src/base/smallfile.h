/*
 * sluice: a small system file (/proc, /sys) read whole into a buffer, with
 * open() and read() only: no stdio buffer, so that the allocator can call
 * it while it sets itself up (base internal).
 */
#ifndef SLUICE_BASE_SMALLFILE_H
#define SLUICE_BASE_SMALLFILE_H

#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

/**
 * Read file `path` into `buf`, at most `size` - 1 bytes (`size` > 0),
 * NUL-terminated. Returns the bytes read, or -1 if it cannot be opened or
 * read.
 */
static inline long
sl_small_file_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	/* A /proc file may come a page at a time. */
	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r <= 0) {
			if (r < 0 && n == 0) {
				close(fd);
				return -1;
			}
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (long)n;
}

#endif /* SLUICE_BASE_SMALLFILE_H */
