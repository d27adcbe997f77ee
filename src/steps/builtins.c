/*
 * sluice: registering the built-in steps.
 */
#include "builtins.h"

#include <stdbool.h>

#include "sluice/steps.h"

int
sl_steps_register_builtins(void)
{
	static const struct sl_step_type *const all[] = {
	        &sl_builtin_file,
	        &sl_builtin_stdin,
	        &sl_builtin_range,
	        &sl_builtin_print,
	        &sl_builtin_ttl,
	        &sl_builtin_pass,
	        &sl_builtin_pass_transformer,
	        &sl_builtin_log,
	        &sl_builtin_schema_enforcer,
	        &sl_builtin_stream,
	        &sl_builtin_api,
	};
	if (sl_registry_find("file") != NULL)
		return 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (sl_registry_add(all[i]) != 0)
			return -1;
	return 0;
}
