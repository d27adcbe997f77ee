/*
 * sluice: transformers and filters that evaluate value providers
 * (internal to interp), with Nodestream's semantics:
 *
 *   ValueProjection       one record per value of `projection` (which must
 *                         be objects), with `additional_values` merged in
 *   ExpandJsonField       parses the JSON text at `path` in place
 *   SwitchTransformer     hands each record to the step of the case that
 *                         `switch_on` selects; others pass unchanged
 *   ValuesMatchPossibilitiesFilter      keeps a record when every field's
 *                         value equals one of its possibilities
 *   ExcludeWhenValuesMatchPossibilities drops those records instead
 *   ValueMatchesRegexFilter keeps (include: true) or drops records whose
 *                         value matches `regex` at its start
 *
 * A SwitchTransformer's cases are steps built through the registry; their
 * start and finish run with the switch's. These live in interp, not
 * steps, because they evaluate value providers.
 */
#ifndef SLUICE_INTERP_TRANSFORM_H
#define SLUICE_INTERP_TRANSFORM_H

#include "sluice/registry.h"

/** ValueProjection. */
extern const struct sl_step_type sl_interp_value_projection;
/** ExpandJsonField. */
extern const struct sl_step_type sl_interp_expand_json;
/** SwitchTransformer. */
extern const struct sl_step_type sl_interp_switch_transformer;
/** ValuesMatchPossibilitiesFilter. */
extern const struct sl_step_type sl_interp_values_match;
/** ExcludeWhenValuesMatchPossibilities. */
extern const struct sl_step_type sl_interp_exclude_when;
/** ValueMatchesRegexFilter. */
extern const struct sl_step_type sl_interp_regex_filter;

#endif /* SLUICE_INTERP_TRANSFORM_H */
