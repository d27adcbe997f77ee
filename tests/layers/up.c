/*
 * A value-layer file that includes a header of the db layer above it.
 * tests/test_layers.sh expects it NOT to compile.
 */
#include "sluice/db.h"

/** Something to compile. */
int sl_layer_probe_up(void);

int
sl_layer_probe_up(void)
{
	return 0;
}
