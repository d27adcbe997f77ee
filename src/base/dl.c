/*
 * Shared libraries opened on first use (see base/dl.h).
 */
#include "base/dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sluice/diag.h"

/** Serialises the loads of every library (each happens once). */
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

/** Record why `lib` failed to load from dlerror(); returns -1. */
static int
dl_fail(struct sl_dl_lib *lib)
{
	const char *why = dlerror();
	snprintf(lib->err, sizeof(lib->err),
	         "cannot load %s (needed for %s): %s", lib->soname,
	         lib->purpose, why != NULL ? why : "unknown error");
	return -1;
}

/** Open `lib` and fill its slots; 0, or -1 with lib->err written. */
static int
dl_open(struct sl_dl_lib *lib)
{
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return dl_fail(lib);
	for (size_t i = 0; i < lib->nsyms; i++) {
		dlerror();
		void *f = dlsym(h, lib->syms[i].name);
		if (f == NULL) {
			dl_fail(lib);
			for (size_t j = 0; j < i; j++)
				memset(lib->syms[j].slot, 0, sizeof(f));
			dlclose(h);
			return -1;
		}
		/* POSIX: a data pointer from dlsym() holds a function's
		 * address in the representation of a function pointer. */
		memcpy(lib->syms[i].slot, &f, sizeof(f));
	}
	lib->handle = h;
	return 0;
}

int
sl_dl_load(struct sl_dl_lib *lib)
{
	int st = atomic_load_explicit(&lib->state, memory_order_acquire);
	if (st == 0) {
		pthread_mutex_lock(&dl_lock);
		st = atomic_load_explicit(&lib->state, memory_order_relaxed);
		if (st == 0) {
			st = dl_open(lib) == 0 ? 1 : -1;
			atomic_store_explicit(&lib->state, st,
			                      memory_order_release);
		}
		pthread_mutex_unlock(&dl_lock);
	}
	if (st > 0)
		return 0;
	sl_diag_set(SL_ESYSTEM, "%s", lib->err);
	return -1;
}
