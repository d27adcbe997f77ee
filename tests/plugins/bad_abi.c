/*
 * A plugin built for another plugin API version (tests/test_plugins.sh):
 * sluice must refuse it before running any of its code.
 */
#include <stdlib.h>

#include "sluice/plugin.h"

/** What it says about itself: one version past sluice's. */
SL_PLUGIN_EXPORT const struct sl_plugin_info sluice_plugin_info = {
        SL_PLUGIN_ABI_VERSION + 1, sizeof(struct sl_plugin_info), "future",
        "9.9", "built for the next plugin API"};

SL_PLUGIN_EXPORT int sluice_plugin_init(const struct sl_plugin_host *h);

/** Never called: aborts if it is. */
SL_PLUGIN_EXPORT int
sluice_plugin_init(const struct sl_plugin_host *h)
{
	(void)h;
	abort();
}
