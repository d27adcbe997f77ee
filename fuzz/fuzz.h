/*
 * Shared by the libFuzzer targets: the invariant check.
 */
#ifndef SLUICE_FUZZ_H
#define SLUICE_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

/**
 * Abort with a message naming the target (FUZZ_NAME, defined by the
 * target before including this header), the place and the condition when
 * `cond` is false.
 */
#define CHECK(cond, ...)                                              \
	do {                                                          \
		if (!(cond)) {                                        \
			fprintf(stderr, "%s: %s:%d: %s: ", FUZZ_NAME, \
			        __FILE__, __LINE__, #cond);           \
			fprintf(stderr, __VA_ARGS__);                 \
			fprintf(stderr, "\n");                        \
			abort();                                      \
		}                                                     \
	} while (0)

#endif /* SLUICE_FUZZ_H */
