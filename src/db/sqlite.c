/*
 * sluice: the SQLite driver (placeholder until the driver lands: every
 * connect fails with a clear message).
 */
#include "conn.h"

#include "sluice/diag.h"

/** Refuse to connect. */
static int
sq_open(struct sl_conn *c)
{
	sl_diag_set(SL_EINVAL, "%s: the SQLite driver is not built yet",
	            c->shown);
	return -1;
}

/** Nothing to free. */
static void
sq_close(struct sl_conn *c)
{
	(void)c;
}

const struct sl_db_driver sl_sqlite_driver = {
        .name = "sqlite",
        .open = sq_open,
        .close = sq_close,
};
