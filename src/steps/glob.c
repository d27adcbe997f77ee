/*
 * sluice: file globs with `**`.
 */
#include "glob.h"

#include <dirent.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

/** State of one expansion. */
struct glob_state {
	/** Pattern segments. */
	char **seg;
	/** Number of segments. */
	size_t n_seg;
	/** Whether the pattern is absolute. */
	bool absolute;
	/** Results. */
	struct sl_paths *out;
	/** Matches found. */
	long found;
};

/** Whether a segment has glob magic. */
static bool
has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/** Append a copy of `path` to the list. */
static int
paths_add(struct sl_paths *p, const char *path)
{
	if (p->n == p->cap) {
		if (p->cap >= SL_PATHS_MAX) {
			sl_diag_set(SL_ELIMIT,
			            "a glob matched more than %zu files",
			            SL_PATHS_MAX);
			return -1;
		}
		size_t cap = p->cap ? p->cap * 2 : 16;
		char **v = sl_realloc(p->v, cap * sizeof(*v));
		if (v == NULL) {
			sl_diag_set(SL_EOOM, "out of memory listing files");
			return -1;
		}
		p->v = v;
		p->cap = cap;
	}
	size_t len = strlen(path) + 1;
	char *copy = sl_malloc(len);
	if (copy == NULL) {
		sl_diag_set(SL_EOOM, "out of memory listing files");
		return -1;
	}
	memcpy(copy, path, len);
	p->v[p->n++] = copy;
	return 0;
}

/** `dir` joined with `name` into buf; false if too long. */
static bool
join(char *buf, const char *dir, const char *name)
{
	int n;
	if (dir[0] == '\0')
		n = snprintf(buf, PATH_MAX, "%s", name);
	else if (strcmp(dir, "/") == 0)
		n = snprintf(buf, PATH_MAX, "/%s", name);
	else
		n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);
	return n > 0 && n < PATH_MAX;
}

/** Whether `path` is a regular file (following links). */
static bool
is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/** Whether `path` is a directory (following links). */
static bool
is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/** Expand segments i.. under directory `dir` ("" is the current one). */
static int
expand(struct glob_state *g, const char *dir, size_t i)
{
	char path[PATH_MAX];
	const char *seg = g->seg[i];
	bool last = i + 1 == g->n_seg;

	if (strcmp(seg, "**") == 0) {
		/* Zero directories; a trailing `**` matches files below. */
		if (!last && expand(g, dir, i + 1) != 0)
			return -1;
		DIR *d = opendir(dir[0] ? dir : ".");
		if (d == NULL)
			return 0;
		struct dirent *e;
		int rc = 0;
		while (rc == 0 && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' || !join(path, dir, e->d_name))
				continue;
			struct stat st;
			if (lstat(path, &st) != 0)
				continue;
			if (S_ISDIR(st.st_mode))
				rc = expand(g, path, i);
			else if (last && is_file(path)) {
				g->found++;
				rc = paths_add(g->out, path);
			}
		}
		closedir(d);
		return rc;
	}
	if (!has_magic(seg)) {
		if (!join(path, dir, seg))
			return 0;
		if (last) {
			if (!is_file(path))
				return 0;
			g->found++;
			return paths_add(g->out, path);
		}
		return is_dir(path) ? expand(g, path, i + 1) : 0;
	}
	DIR *d = opendir(dir[0] ? dir : ".");
	if (d == NULL)
		return 0;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fnmatch(seg, e->d_name, FNM_PERIOD) != 0)
			continue;
		if (!join(path, dir, e->d_name))
			continue;
		if (last) {
			if (is_file(path)) {
				g->found++;
				rc = paths_add(g->out, path);
			}
		} else if (is_dir(path)) {
			rc = expand(g, path, i + 1);
		}
	}
	closedir(d);
	return rc;
}

long
sl_glob(const char *pattern, struct sl_paths *out)
{
	struct glob_state g = {.out = out};
	size_t len = strlen(pattern);
	char *copy = sl_strndup(pattern, len);
	g.seg = sl_malloc((len / 2 + 2) * sizeof(*g.seg));
	if (copy == NULL || g.seg == NULL) {
		sl_free(copy);
		sl_free(g.seg);
		sl_diag_set(SL_EOOM, "out of memory expanding a glob");
		return -1;
	}
	g.absolute = copy[0] == '/';
	for (char *save = NULL, *s = strtok_r(copy, "/", &save); s != NULL;
	     s = strtok_r(NULL, "/", &save)) {
		if (strcmp(s, ".") == 0)
			continue;
		/* Consecutive `**` are one. */
		if (strcmp(s, "**") == 0 && g.n_seg > 0 &&
		    strcmp(g.seg[g.n_seg - 1], "**") == 0)
			continue;
		g.seg[g.n_seg++] = s;
	}
	int rc = 0;
	if (g.n_seg > 0)
		rc = expand(&g, g.absolute ? "/" : "", 0);
	sl_free(g.seg);
	sl_free(copy);
	return rc == 0 ? g.found : -1;
}

/** qsort comparator of paths. */
static int
cmp_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
sl_paths_sort(struct sl_paths *p)
{
	if (p->n == 0)
		return;
	qsort(p->v, p->n, sizeof(*p->v), cmp_paths);
	size_t w = 1;
	for (size_t r = 1; r < p->n; r++) {
		if (strcmp(p->v[r], p->v[w - 1]) == 0)
			sl_free(p->v[r]);
		else
			p->v[w++] = p->v[r];
	}
	p->n = w;
}

void
sl_paths_destroy(struct sl_paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		sl_free(p->v[i]);
	sl_free(p->v);
	memset(p, 0, sizeof(*p));
}
