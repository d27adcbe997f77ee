/*
 * A plugin without its entry point (tests/test_plugins.sh): refused.
 */
#include "sluice/plugin.h"

SL_PLUGIN_DECLARE("headless", "1.0", "declares itself, has no init");
