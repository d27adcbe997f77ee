/*
 * A value-layer file that includes its own header and those of the
 * layers below it. tests/test_layers.sh expects it to compile.
 */
#include "sluice/batch.h"
#include "sluice/diag.h"
#include "sluice/task.h"
#include "value/lines.h"

/** Something to compile. */
int sl_layer_probe_ok(void);

int
sl_layer_probe_ok(void)
{
	return 0;
}
