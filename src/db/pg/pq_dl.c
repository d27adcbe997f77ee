/*
 * libpq's slots and their loading (see pq_dl.h).
 */
#include "pq_dl.h"

/** Defines the slot of libpq's function `n` (NULL until loaded). */
#define SL_PQ_DEFINE(n) __typeof__(sl_libpq_##n) sl_libpq_##n;
SL_PQ_FUNCS(SL_PQ_DEFINE)

/** The table entry of libpq's function `n`. */
#define SL_PQ_ENTRY(n) {#n, &sl_libpq_##n},
/** Every function of SL_PQ_FUNCS, by name. */
static const struct sl_dl_sym pq_syms[] = {SL_PQ_FUNCS(SL_PQ_ENTRY)};

struct sl_dl_lib sl_pq_lib = SL_DL_LIB("libpq.so.5", "PostgreSQL", pq_syms);

int
sl_pq_load(void)
{
	return sl_dl_load(&sl_pq_lib);
}
