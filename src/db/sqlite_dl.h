/*
 * sluice: libsqlite3 opened on first use (base/dl.h). Included after
 * <sqlite3.h>, this header turns each sqlite3 function the SQLite driver
 * (sqlite.c) and the graph layer's SQLite store call into a call through
 * a slot typed after SQLite's own prototype; sl_sqlite_load() fills the
 * slots. Every way into SQLite goes through a driver connection, whose
 * start (sq_start()) loads it first. A function newly used needs its line
 * in SL_SQLITE_FUNCS and a #define below (the sluice binary's link fails
 * without the latter).
 */
#ifndef SLUICE_DB_SQLITE_DL_H
#define SLUICE_DB_SQLITE_DL_H

#include <sqlite3.h>

#include "base/dl.h"

/** The sqlite3 functions sluice calls: X(name) for each. */
#define SL_SQLITE_FUNCS(X)               \
	X(sqlite3_bind_double)           \
	X(sqlite3_bind_int64)            \
	X(sqlite3_bind_null)             \
	X(sqlite3_bind_parameter_count)  \
	X(sqlite3_bind_parameter_name)   \
	X(sqlite3_bind_text)             \
	X(sqlite3_bind_text64)           \
	X(sqlite3_busy_timeout)          \
	X(sqlite3_changes64)             \
	X(sqlite3_clear_bindings)        \
	X(sqlite3_close_v2)              \
	X(sqlite3_column_blob)           \
	X(sqlite3_column_bytes)          \
	X(sqlite3_column_count)          \
	X(sqlite3_column_decltype)       \
	X(sqlite3_column_double)         \
	X(sqlite3_column_int64)          \
	X(sqlite3_column_name)           \
	X(sqlite3_column_text)           \
	X(sqlite3_column_type)           \
	X(sqlite3_config)                \
	X(sqlite3_create_function)       \
	X(sqlite3_errcode)               \
	X(sqlite3_errmsg)                \
	X(sqlite3_errstr)                \
	X(sqlite3_exec)                  \
	X(sqlite3_extended_errcode)      \
	X(sqlite3_extended_result_codes) \
	X(sqlite3_finalize)              \
	X(sqlite3_free)                  \
	X(sqlite3_get_autocommit)        \
	X(sqlite3_last_insert_rowid)     \
	X(sqlite3_libversion_number)     \
	X(sqlite3_mprintf)               \
	X(sqlite3_open_v2)               \
	X(sqlite3_prepare_v2)            \
	X(sqlite3_prepare_v3)            \
	X(sqlite3_progress_handler)      \
	X(sqlite3_reset)                 \
	X(sqlite3_result_error)          \
	X(sqlite3_result_error_nomem)    \
	X(sqlite3_result_int)            \
	X(sqlite3_result_text)           \
	X(sqlite3_sql)                   \
	X(sqlite3_step)                  \
	X(sqlite3_user_data)             \
	X(sqlite3_value_bytes)           \
	X(sqlite3_value_text)            \
	X(sqlite3_value_type)            \
	X(sqlite3_wal_checkpoint_v2)     \
	X(sqlite3_wal_hook)

/** Declares the slot of sqlite3's function `n`, typed after its prototype. */
#define SL_SQLITE_DECLARE(n) extern __typeof__(&n) sl_libsqlite_##n;
SL_SQLITE_FUNCS(SL_SQLITE_DECLARE)
#undef SL_SQLITE_DECLARE

/**
 * libsqlite3, libsqlite3.so.0 (the SONAME of Debian's libsqlite3-0); tests
 * may rename it.
 */
extern struct sl_dl_lib sl_sqlite_lib;

/**
 * Load libsqlite3 once for the process. 0, or -1 with the diagnostic set
 * ("cannot load libsqlite3.so.0 (needed for SQLite): ...").
 */
int sl_sqlite_load(void);

#define sqlite3_bind_double           sl_libsqlite_sqlite3_bind_double
#define sqlite3_bind_int64            sl_libsqlite_sqlite3_bind_int64
#define sqlite3_bind_null             sl_libsqlite_sqlite3_bind_null
#define sqlite3_bind_parameter_count  sl_libsqlite_sqlite3_bind_parameter_count
#define sqlite3_bind_parameter_name   sl_libsqlite_sqlite3_bind_parameter_name
#define sqlite3_bind_text             sl_libsqlite_sqlite3_bind_text
#define sqlite3_bind_text64           sl_libsqlite_sqlite3_bind_text64
#define sqlite3_busy_timeout          sl_libsqlite_sqlite3_busy_timeout
#define sqlite3_changes64             sl_libsqlite_sqlite3_changes64
#define sqlite3_clear_bindings        sl_libsqlite_sqlite3_clear_bindings
#define sqlite3_close_v2              sl_libsqlite_sqlite3_close_v2
#define sqlite3_column_blob           sl_libsqlite_sqlite3_column_blob
#define sqlite3_column_bytes          sl_libsqlite_sqlite3_column_bytes
#define sqlite3_column_count          sl_libsqlite_sqlite3_column_count
#define sqlite3_column_decltype       sl_libsqlite_sqlite3_column_decltype
#define sqlite3_column_double         sl_libsqlite_sqlite3_column_double
#define sqlite3_column_int64          sl_libsqlite_sqlite3_column_int64
#define sqlite3_column_name           sl_libsqlite_sqlite3_column_name
#define sqlite3_column_text           sl_libsqlite_sqlite3_column_text
#define sqlite3_column_type           sl_libsqlite_sqlite3_column_type
#define sqlite3_config                sl_libsqlite_sqlite3_config
#define sqlite3_create_function       sl_libsqlite_sqlite3_create_function
#define sqlite3_errcode               sl_libsqlite_sqlite3_errcode
#define sqlite3_errmsg                sl_libsqlite_sqlite3_errmsg
#define sqlite3_errstr                sl_libsqlite_sqlite3_errstr
#define sqlite3_exec                  sl_libsqlite_sqlite3_exec
#define sqlite3_extended_errcode      sl_libsqlite_sqlite3_extended_errcode
#define sqlite3_extended_result_codes sl_libsqlite_sqlite3_extended_result_codes
#define sqlite3_finalize              sl_libsqlite_sqlite3_finalize
#define sqlite3_free                  sl_libsqlite_sqlite3_free
#define sqlite3_get_autocommit        sl_libsqlite_sqlite3_get_autocommit
#define sqlite3_last_insert_rowid     sl_libsqlite_sqlite3_last_insert_rowid
#define sqlite3_libversion_number     sl_libsqlite_sqlite3_libversion_number
#define sqlite3_mprintf               sl_libsqlite_sqlite3_mprintf
#define sqlite3_open_v2               sl_libsqlite_sqlite3_open_v2
#define sqlite3_prepare_v2            sl_libsqlite_sqlite3_prepare_v2
#define sqlite3_prepare_v3            sl_libsqlite_sqlite3_prepare_v3
#define sqlite3_progress_handler      sl_libsqlite_sqlite3_progress_handler
#define sqlite3_reset                 sl_libsqlite_sqlite3_reset
#define sqlite3_result_error          sl_libsqlite_sqlite3_result_error
#define sqlite3_result_error_nomem    sl_libsqlite_sqlite3_result_error_nomem
#define sqlite3_result_int            sl_libsqlite_sqlite3_result_int
#define sqlite3_result_text           sl_libsqlite_sqlite3_result_text
#define sqlite3_sql                   sl_libsqlite_sqlite3_sql
#define sqlite3_step                  sl_libsqlite_sqlite3_step
#define sqlite3_user_data             sl_libsqlite_sqlite3_user_data
#define sqlite3_value_bytes           sl_libsqlite_sqlite3_value_bytes
#define sqlite3_value_text            sl_libsqlite_sqlite3_value_text
#define sqlite3_value_type            sl_libsqlite_sqlite3_value_type
#define sqlite3_wal_checkpoint_v2     sl_libsqlite_sqlite3_wal_checkpoint_v2
#define sqlite3_wal_hook              sl_libsqlite_sqlite3_wal_hook

#endif
