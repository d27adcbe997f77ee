/*
 * sluice: YAML reading (libfyaml underneath).
 *
 * Two views of a YAML document:
 *
 * - sl_yaml_parse() turns one document into a record value, resolving plain
 *   scalars the way Nodestream's loader (PyYAML's safe loader, YAML 1.1)
 *   does: null and ~ and the empty scalar are null; true/false/yes/no/on/off
 *   (lower, Capitalised or UPPER case) are booleans; decimal, 0x hex,
 *   leading-0 octal, 0b binary and sexagesimal (1:30 = 90) integers, with
 *   `_` separators, are integers (`0o17` is a string, as in PyYAML); an
 *   integer beyond int64 is an SL_VNUMBER holding its decimal text (a
 *   double for the other bases); numbers with a dot (an exponent needs a
 *   sign: 1.0e+3 is a float, 1.0e3 and 1e3 are strings), sexagesimal
 *   floats and [-+].inf/.nan are doubles; everything else, and every
 *   quoted or block scalar, is a string. The standard tags !!str, !!int,
 *   !!float, !!bool, !!null, !!seq and !!map are honoured, other standard
 *   tags (!!binary, !!timestamp, !!set, ...) are errors; anchors, aliases
 *   and `<<` merge keys are expanded. Timestamps stay strings. Mapping
 *   keys are the scalar's text as written (a non-scalar key is an error);
 *   a duplicate key keeps its first position and takes the last value,
 *   like a Python dict.
 *
 * - The configuration tree (sluice/conf.h) keeps tags, quoting and
 *   positions, for pipeline files.
 *
 * sl_yaml_parse() (the `.yaml` record format) is sl_conf_load() followed
 * by sl_conf_to_value(), so both views resolve scalars the same way.
 * fuzz/fuzz_yaml.c checks that they agree on every input (the same value
 * or the same error), that every node has a position and that the typed
 * getters agree with the conversion.
 */
#ifndef SLUICE_YAMLREAD_H
#define SLUICE_YAMLREAD_H

#include <stddef.h>

#include "sluice/arena.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Parse buf[0..len), which must hold exactly one YAML document (an empty
 * input is one null document), into a value built in `arena`. `name`
 * names the input in errors. Returns 0, or -1 with SL_EPARSE reading
 * "name:line:column: what was expected" (also for a second document,
 * invalid UTF-8, a non-standard tag such as !jmespath, or an alias cycle),
 * SL_ELIMIT (nesting deeper than 512 or an expansion of aliases beyond
 * 16 times the input size), or SL_EOOM.
 */
int sl_yaml_parse(const char *buf, size_t len, struct sl_arena *arena,
                  const char *name, struct sl_value *out);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_YAMLREAD_H */
