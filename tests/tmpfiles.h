/*
 * Files in a temporary directory, for tests that load files by path.
 */
#ifndef SLUICE_TESTS_TMPFILES_H
#define SLUICE_TESTS_TMPFILES_H

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tap.h"

/**
 * Write `text` to `dir`/`name`, making the directories in `name`;
 * returns the path (a static buffer, valid until the next call).
 */
static inline const char *
tmp_write(const char *dir, const char *name, const char *text)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/')) != NULL;
	     s++) {
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		note("cannot write %s", path);
		return path;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

/** Remove directory `dir` and everything in it (a note if it fails). */
static inline void
tmp_remove(const char *dir)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		note("could not remove %s", dir);
}

#endif /* SLUICE_TESTS_TMPFILES_H */
