/*
 * Running a program from a benchmark (the built `sluice`): wall time and
 * peak RSS of one run.
 */
#ifndef SLUICE_BENCH_SPAWN_H
#define SLUICE_BENCH_SPAWN_H

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

/**
 * Run argv with stdout to /dev/null and stderr to `errpath` (NULL:
 * /dev/null). Returns 0 with its wall time in *secs and its resource
 * usage (CPU time, peak RSS) in *ru, or -1 if it could not run or did not
 * exit 0.
 */
static inline int
bench_spawn_ru(char *const argv[], const char *errpath, double *secs,
               struct rusage *ru)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(
	        &fa, 2, errpath != NULL ? errpath : "/dev/null",
	        O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	uint64_t t0 = bench_now_ns();
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	int status;
	if (wait4(pid, &status, 0, ru) != pid)
		return -1;
	*secs = (double)(bench_now_ns() - t0) / 1e9;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/**
 * bench_spawn_ru() keeping only the peak RSS in KiB, in *rss_kib (may be
 * NULL).
 */
static inline int
bench_spawn(char *const argv[], const char *errpath, double *secs,
            long *rss_kib)
{
	struct rusage ru;
	int rc = bench_spawn_ru(argv, errpath, secs, &ru);
	if (rc == 0 && rss_kib != NULL)
		*rss_kib = ru.ru_maxrss;
	return rc;
}

#endif /* SLUICE_BENCH_SPAWN_H */
