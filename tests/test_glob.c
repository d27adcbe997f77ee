/*
 * File globs of the FileExtractor: `*`, `?`, `[...]`, `**` at the start,
 * middle and end, hidden names, directories and symbolic links, sorting
 * and duplicates, absolute patterns, allocation failures.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "steps/glob.h"
#include "unit.h"

/** The temporary directory the tests run in. */
static char root[256];

/** Create an empty file (and its directories). */
static void
touch(const char *path)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = strchr(buf, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(buf, 0755);
		*s = '/';
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		bail_out("cannot create %s", path);
	close(fd);
}

/** The matches of the globs, sorted, joined by spaces. */
static const char *
globs(const char *const *patterns)
{
	static char out[4096];
	struct sl_paths p = {0};
	out[0] = '\0';
	for (size_t i = 0; patterns[i] != NULL; i++)
		if (sl_glob(patterns[i], &p) < 0)
			bail_out("glob failed: %s", unit_errmsg());
	sl_paths_sort(&p);
	for (size_t i = 0; i < p.n; i++) {
		strcat(out, i ? " " : "");
		strcat(out, p.v[i]);
	}
	sl_paths_destroy(&p);
	return out;
}

/** The matches of one glob. */
static const char *
glob1(const char *pattern)
{
	const char *const list[] = {pattern, NULL};
	return globs(list);
}

/** File globs over a temporary tree. */
TAP_CASE(glob)
{
	snprintf(root, sizeof(root), "/tmp/sluice-glob-XXXXXX");
	if (mkdtemp(root) == NULL || chdir(root) != 0)
		bail_out("no temp dir");
	touch("data/a.csv");
	touch("data/b.csv");
	touch("data/c.jsonl");
	touch("data/.hidden.csv");
	touch("data/sub/d.csv");
	touch("data/sub/deeper/e.csv");
	touch("data/.git/f.csv");
	touch("other/g.csv");
	mkdir("data/dir.csv", 0755);
	if (symlink("../data", "other/loop") != 0 ||
	    symlink("a.csv", "data/link.csv") != 0)
		bail_out("no symlinks");

	is_str(glob1("data/*.csv"), "data/a.csv data/b.csv data/link.csv",
	       "* matches regular files, not dirs or hidden files; "
	       "a link to a file counts");
	is_str(glob1("data/?.csv"), "data/a.csv data/b.csv", "? is one char");
	is_str(glob1("data/[ab].csv"), "data/a.csv data/b.csv", "[...] set");
	is_str(glob1("data/.*.csv"), "data/.hidden.csv",
	       "a dot in the pattern matches hidden files");
	is_str(glob1("data/a.csv"), "data/a.csv", "a plain path");
	is_str(glob1("data/missing.csv"), "", "a missing plain path");
	is_str(glob1("data/dir.csv"), "", "a directory is not a file");
	is_str(glob1("data/**/*.csv"),
	       "data/a.csv data/b.csv data/link.csv data/sub/d.csv "
	       "data/sub/deeper/e.csv",
	       "** matches zero or more directories, not hidden ones");
	is_str(glob1("**/e.csv"), "data/sub/deeper/e.csv", "** at the start");
	is_str(glob1("data/sub/**"), "data/sub/d.csv data/sub/deeper/e.csv",
	       "** at the end matches every file below");
	is_str(glob1("other/**/*.csv"), "other/g.csv",
	       "** does not enter a linked directory (no loops)");
	is_str(glob1("other/loop/a.csv"), "other/loop/a.csv",
	       "a named link to a directory is followed");
	is_str(glob1("./data/../data/b.csv"), "data/../data/b.csv",
	       "./ is dropped, .. kept");
	is_str(glob1("data/**/**/d.csv"), "data/sub/d.csv",
	       "repeated ** are one");
	const char *const two[] = {"data/*.csv", "data/a.*", "data/b.csv",
	                           NULL};
	is_str(globs(two), "data/a.csv data/b.csv data/link.csv",
	       "several globs: sorted, each file once");
	char abs[512];
	snprintf(abs, sizeof(abs), "%s/data/s*/d.csv", root);
	char want[512];
	snprintf(want, sizeof(want), "%s/data/sub/d.csv", root);
	is_str(glob1(abs), want, "absolute patterns");
	is_str(glob1("nowhere/**/*.csv"), "", "a missing directory");

	/* Allocation failures. */
	int clean = 0, runs = 0;
	for (long n = 0; n < 100; n++) {
		struct sl_paths p = {0};
		sl_alloc_fail_after(n);
		long k = sl_glob("data/**/*.csv", &p);
		sl_alloc_fail_after(-1);
		runs++;
		if (k >= 0) {
			is_int(k, 5, "once allocations succeed, all 5 match");
			sl_paths_destroy(&p);
			break;
		}
		clean += sl_diag_code() == SL_EOOM;
		sl_diag_clear(sl_diag_get());
		sl_paths_destroy(&p);
	}
	is_int(clean, runs - 1, "every failed allocation gives EOOM (%d)",
	       runs - 1);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		note("could not remove %s", root);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
