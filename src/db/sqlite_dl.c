/*
 * libsqlite3's slots and their loading (see sqlite_dl.h).
 */
#include "sqlite_dl.h"

/** Defines the slot of sqlite3's function `n` (NULL until loaded). */
#define SL_SQLITE_DEFINE(n) __typeof__(sl_libsqlite_##n) sl_libsqlite_##n;
SL_SQLITE_FUNCS(SL_SQLITE_DEFINE)

/** The table entry of sqlite3's function `n`. */
#define SL_SQLITE_ENTRY(n) {#n, &sl_libsqlite_##n},
/** Every function of SL_SQLITE_FUNCS, by name. */
static const struct sl_dl_sym sqlite_syms[] = {
        SL_SQLITE_FUNCS(SL_SQLITE_ENTRY)};

struct sl_dl_lib sl_sqlite_lib =
        SL_DL_LIB("libsqlite3.so.0", "SQLite", sqlite_syms);

int
sl_sqlite_load(void)
{
	return sl_dl_load(&sl_sqlite_lib);
}
