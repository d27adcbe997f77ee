/*
 * sluice: the database drivers sluice knows, and picking one by URI. A
 * driver is a struct sl_db_driver in its own file or folder plus one line
 * in SL_DB_DRIVERS below.
 */
#include <stdio.h>
#include <string.h>

#include "conn.h"

/** Every driver, in the order URIs are matched: X(its struct's name). */
#define SL_DB_DRIVERS(X)    \
	X(sl_pg_driver)     \
	X(sl_sqlite_driver) \
	X(sl_bolt_driver)

/** Declare one driver. */
#define DECLARE(name) extern const struct sl_db_driver name;
SL_DB_DRIVERS(DECLARE)
#undef DECLARE

/** List one driver. */
#define LIST(name) &name,
/** The registered drivers. */
static const struct sl_db_driver *const drivers[] = {SL_DB_DRIVERS(LIST)};
#undef LIST

/** Number of registered drivers. */
#define NDRIVERS (sizeof(drivers) / sizeof(drivers[0]))

const struct sl_db_driver *
sl_db_driver_for(const char *url)
{
	for (size_t i = 0; i < NDRIVERS; i++)
		for (const char *const *s = drivers[i]->schemes;
		     s != NULL && *s != NULL; s++)
			if (strncmp(url, *s, strlen(*s)) == 0)
				return drivers[i];
	for (size_t i = 0; i < NDRIVERS; i++)
		if (drivers[i]->claims != NULL && drivers[i]->claims(url))
			return drivers[i];
	return NULL;
}

void
sl_db_driver_forms(char *out, size_t size)
{
	size_t n = 0;
	if (size == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < NDRIVERS && n < size; i++) {
		const char *sep = i == 0             ? ""
		                  : i + 1 < NDRIVERS ? ", "
		                                     : " or ";
		int k = snprintf(out + n, size - n, "%s%s", sep,
		                 drivers[i]->forms);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}
