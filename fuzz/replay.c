/*
 * Replays a fuzz corpus without libFuzzer: every file named on the command
 * line (a directory stands for the files in it, in name order; no argument
 * stands for FUZZ_CORPUS_DIR) is passed to the target's
 * LLVMFuzzerTestOneInput(). A target reports a broken invariant by
 * aborting, so a passing run prints one TAP line per file.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Run the target on the contents of file `path`. */
static void
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!ok(f != NULL, "open %s", path))
		return;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	size_t got;
	while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			uint8_t *nb = realloc(buf, cap);
			if (nb == NULL)
				free(buf);
			buf = nb;
		}
	}
	int err = ferror(f);
	fclose(f);
	if (ok(buf != NULL && !err, "read %s (%zu bytes)", path, n)) {
		/* An exact-size copy, so ASan catches reads past the end. */
		uint8_t *exact = malloc(n > 0 ? n : 1);
		memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
		ok(1, "replay %s", path);
	}
	free(buf);
}

/** qsort comparison of two C strings. */
static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/** Replay `path`: a file, or every regular file in a directory. */
static void
replay(const char *path)
{
	struct stat st;
	if (!ok(stat(path, &st) == 0, "stat %s", path))
		return;
	if (!S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	DIR *d = opendir(path);
	if (!ok(d != NULL, "open directory %s", path))
		return;
	char **names = NULL;
	size_t count = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (count + 1) * sizeof(*names));
		if (nn == NULL)
			break;
		names = nn;
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		names[count] = malloc(len);
		snprintf(names[count], len, "%s/%s", path, e->d_name);
		count++;
	}
	closedir(d);
	ok(count > 0, "%s holds %zu files", path, count);
	qsort(names, count, sizeof(*names), cmp_names);
	for (size_t i = 0; i < count; i++) {
		replay_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
#ifdef FUZZ_CORPUS_DIR
		replay(FUZZ_CORPUS_DIR);
#else
		fprintf(stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
		return 2;
#endif
	}
	for (int i = 1; i < argc; i++)
		replay(argv[i]);
	return done_testing();
}
