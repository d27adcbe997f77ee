/*
 * A plugin whose init refuses to load (tests/test_plugins.sh): its
 * message must reach the user with the plugin's name.
 */
#include "sluice/plugin.h"

SL_PLUGIN_DECLARE("grumpy", "1.0", "refuses to start");

SL_PLUGIN_EXPORT int sluice_plugin_init(const struct sl_plugin_host *h);

/** Refuse, saying why. */
SL_PLUGIN_EXPORT int
sluice_plugin_init(const struct sl_plugin_host *h)
{
	return h->error(h, "no licence key in config.licence");
}
