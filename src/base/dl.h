/*
 * sluice: shared libraries opened on first use (dlopen), so that a run
 * that never needs them does not pay the dynamic loader's relocations
 * for them and their dependencies at start-up.
 *
 * A user of a library declares one function-pointer slot per function it
 * calls, typed with __typeof__ of the library header's own prototype, and
 * a table naming them (struct sl_dl_sym). sl_dl_load() opens the library
 * by its SONAME and fills every slot, once per process, under a lock; any
 * thread may call it. A library that cannot be opened, or that lacks a
 * symbol, leaves the slots NULL and every call fails with the same
 * message: "cannot load SONAME (needed for PURPOSE): <dlerror()>".
 */
#ifndef SLUICE_BASE_DL_H
#define SLUICE_BASE_DL_H

#include <stdatomic.h>
#include <stddef.h>

/** One function taken from a library: its name and its slot. */
struct sl_dl_sym {
	/** The symbol's name in the library. */
	const char *name;
	/** The address of the function pointer that receives it. */
	void *slot;
};

/** A shared library opened on first use, and the functions taken from it. */
struct sl_dl_lib {
	/** The SONAME opened, e.g. "libpq.so.5" (never a path). */
	const char *soname;
	/** What it is needed for, named in the message ("PostgreSQL"). */
	const char *purpose;
	/** The functions to take; all are filled, or none. */
	const struct sl_dl_sym *syms;
	/** Number of entries in syms. */
	size_t nsyms;
	/** 0: not tried yet; 1: loaded; -1: failed (see err). */
	atomic_int state;
	/** The dlopen() handle once loaded (never closed). */
	void *handle;
	/** The message of a failed load. */
	char err[384];
};

/**
 * A static initialiser of struct sl_dl_lib for `soname`, `purpose` and
 * the array `syms` (its length taken with sizeof).
 */
#define SL_DL_LIB(soname_, purpose_, syms_)                                  \
	{                                                                    \
		.soname = (soname_), .purpose = (purpose_), .syms = (syms_), \
		.nsyms = sizeof(syms_) / sizeof((syms_)[0]),                 \
	}

/**
 * Open `lib` and fill its slots if this process has not yet done so.
 * Returns 0 once loaded (a load, or an earlier one), or -1 with the
 * diagnostic set (SL_ESYSTEM, "cannot load SONAME (needed for PURPOSE):
 * ...") when the library or one of its functions cannot be found; a
 * failure is not retried.
 */
int sl_dl_load(struct sl_dl_lib *lib);

#endif
