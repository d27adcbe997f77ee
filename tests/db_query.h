/*
 * Test helper over the database layer: the one integer a query returns.
 */
#ifndef SLUICE_TESTS_DB_QUERY_H
#define SLUICE_TESTS_DB_QUERY_H

#include <stdint.h>

#include "sluice/db.h"
#include "unit.h"

/** The single integer `sql` returns (INT64_MIN on failure, with a note). */
static inline int64_t
query_int(struct sl_db_conn *c, const char *sql)
{
	struct sl_db_result *r = sl_db_query(c, sql, SL_NOARGS);
	int64_t v = INT64_MIN;
	if (r != NULL && sl_db_result_rows(r) == 1 &&
	    sl_db_result_cols(r) == 1 &&
	    sl_db_result_get(r, 0, 0)->type == SL_VINT)
		v = sl_db_result_get(r, 0, 0)->u.i;
	else
		note("query_int(%s): %s", sql, unit_errmsg());
	sl_db_result_free(r);
	return v;
}

#endif /* SLUICE_TESTS_DB_QUERY_H */
