/*
 * sluice: registering the interpreting steps.
 */
#include "sluice/interp.h"

#include "interpret.h"
#include "transform.h"

int
sl_interp_register(void)
{
	static const struct sl_step_type *const all[] = {
	        &sl_interp_interpreter,  &sl_interp_value_projection,
	        &sl_interp_expand_json,  &sl_interp_switch_transformer,
	        &sl_interp_values_match, &sl_interp_exclude_when,
	        &sl_interp_regex_filter,
	};
	if (sl_registry_find("interpreter") != NULL)
		return 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (sl_registry_add(all[i]) != 0)
			return -1;
	return 0;
}
