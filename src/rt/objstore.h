/*
 * Object store kinds (internal): the table of operations behind
 * struct sl_objstore (sluice/objstore.h). A kind embeds struct sl_objstore
 * first in its own struct, fills it with sl_objstore_init() and hands it
 * out as a struct sl_objstore *. The public functions check keys before
 * they call an operation, so an operation sees only valid keys; get gets
 * an empty `out` and a put at most SL_OBJSTORE_OBJECT_MAX bytes.
 */
#ifndef SLUICE_RT_OBJSTORE_H
#define SLUICE_RT_OBJSTORE_H

#include "sluice/objstore.h"

/** The operations of one kind of store. */
struct sl_objstore_ops {
	/** sl_objstore_get(): 1 found, 0 not found, -1 error. */
	int (*get)(struct sl_objstore *s, const char *key, struct sl_buf *out);
	/** sl_objstore_put(): 0 or -1. */
	int (*put)(struct sl_objstore *s, const char *key, const void *data,
	           size_t len);
	/** sl_objstore_del(): 0 or -1. */
	int (*del)(struct sl_objstore *s, const char *key);
	/** Free what the kind owns (wrapped stores too), not `desc`. */
	void (*free)(struct sl_objstore *s);
};

/** The part every kind of store starts with. */
struct sl_objstore {
	/** The kind's operations. */
	const struct sl_objstore_ops *ops;
	/** sl_objstore_describe()'s text (sl_malloc()ed, owned). */
	char *desc;
};

/**
 * Set up the common part of store `s` with `ops` and a description made
 * from `fmt` (no secret in it). 0, or -1 with SL_EOOM (`s` is then not
 * set up: free it by hand).
 */
int sl_objstore_init(struct sl_objstore *s, const struct sl_objstore_ops *ops,
                     const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif /* SLUICE_RT_OBJSTORE_H */
