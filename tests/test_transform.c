/*
 * The transformers and filters over value providers (transform.c):
 * ValueProjection, ExpandJsonField, SwitchTransformer,
 * ValuesMatchPossibilitiesFilter, ExcludeWhenValuesMatchPossibilities and
 * ValueMatchesRegexFilter, with Nodestream's semantics. Each case runs a
 * real pipeline (interp_harness.h): an IterableExtractor, the step (or
 * steps) under test, and a capture of every output record as canonical
 * JSON, one per line.
 *
 * The pipeline file starts with three lines of extractor, so the step
 * definition's first line is line 4 of "p.yaml".
 */
#include "interp_harness.h"

/** Run `step` over `records` and compare the captured records. */
static void
expect(const char *step, const char *records, const char *want,
       const char *name)
{
	harness_expect(harness_run, step, records, want, name);
}

/**
 * Run `step` and expect a failure whose message contains the parts of
 * `part` ('|'-separated, in order).
 */
static void
expect_error(const char *step, const char *records, const char *part,
             const char *name)
{
	harness_expect_error(harness_run, step, records, part, name);
}

/** How many times `needle` occurs in `hay`. */
static int
count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p != NULL;
	     p = strstr(p + strlen(needle), needle))
		n++;
	return n;
}

/* --- ValueProjection ---------------------------------------------------- */

/** ValueProjection: projections, additional values, errors. */
TAP_CASE(value_projection)
{
	const char *items = "- implementation: value_projection\n"
	                    "  arguments:\n"
	                    "    projection: !jmespath items\n";
	expect(items, "[{items: [{a: 1}, {a: 2}]}, {items: [{b: x}]}]",
	       "{\"a\":1}\n{\"a\":2}\n{\"b\":\"x\"}\n",
	       "projection: one record per projected mapping");
	expect(items, "[{x: 1}, {items: []}, {items: null}, {items: [{c: 3}]}]",
	       "{\"c\":3}\n",
	       "a missing, empty or null projection gives no record");
	expect(items, "[{items: {a: 1, b: [1, 2]}}]", "{\"a\":1,\"b\":[1,2]}\n",
	       "a single mapping is one projected value");
	expect(items, "[{items: [{name: \"Zoë 🚀\", 'ключ': значение}]}]",
	       "{\"name\":\"Zoë 🚀\",\"ключ\":\"значение\"}\n",
	       "Unicode keys and values are kept");
	expect("- implementation: "
	       "nodestream.pipeline.transformers:ValueProjection\n"
	       "  arguments:\n"
	       "    projection: !jmespath items\n"
	       "    additional_values:\n"
	       "      id: !jmespath id\n"
	       "      kind: item\n"
	       "      gone: !jmespath nothing\n",
	       "[{id: 7, items: [{a: 1}, {a: 2}]}]",
	       "{\"a\":1,\"gone\":null,\"id\":7,\"kind\":\"item\"}\n"
	       "{\"a\":2,\"gone\":null,\"id\":7,\"kind\":\"item\"}\n",
	       "additional_values (providers and static) are merged into "
	       "every projected record; a missing one is null");
	expect("- implementation: value_projection\n"
	       "  arguments:\n"
	       "    projection: [{a: 1}, {a: 2}]\n"
	       "    additional_values: null\n",
	       "[{z: 1}, {z: 2}]",
	       "{\"a\":1}\n{\"a\":2}\n{\"a\":1}\n{\"a\":2}\n",
	       "a static list projection, and additional_values: null");
	struct hres r;
	harness_run(items, "[{items: [{a: 1}, {a: 2}, {a: 3}]}, {items: []}]",
	            &r);
	ok(r.rc == 0 && r.emitted == 3 && r.skipped == 0,
	   "the step's output count is every projected record");

	const char *extra = "- implementation: value_projection\n"
	                    "  arguments:\n"
	                    "    projection: !jmespath items\n"
	                    "    additional_values: {a: !jmespath id}\n";
	expect_error(extra,
	             "[{id: 1, items: [{b: 1}]}, {id: 2, items: [{a: 1}]}]",
	             "iterable:2: |ValueProjection|'a'",
	             "a key both additional and projected is an error naming "
	             "the record and the key");
	expect(extra, "[{id: 1, items: [{b: 1}]}]", "{\"a\":1,\"b\":1}\n",
	       "no overlap, no error");
	expect_error(items, "[{items: [{a: 1}]}, {items: [{a: 2}, 5]}]",
	             "iterable:2: |must be a mapping, not int",
	             "a projected number is an error");
	expect_error(items, "[{items: [x]}]", "iterable:1: |not str",
	             "a projected string is an error");
	expect_error(items, "[{items: [[1]]}]", "iterable:1: |not list",
	             "a projected list is an error");

	expect_error("- implementation: value_projection\n"
	             "  arguments:\n"
	             "    additional_values: {a: 1}\n",
	             "[]", "p.yaml:6:5: |needs 'projection'",
	             "projection is required (error at the arguments)");
	expect_error("- implementation: value_projection\n"
	             "  arguments:\n"
	             "    projection: !jmespath items\n"
	             "    additional: {a: 1}\n",
	             "[]", "p.yaml:7:5: |unknown|'additional'",
	             "an unknown argument is refused with its position");
	expect_error("- implementation: value_projection\n"
	             "  arguments:\n"
	             "    projection: !jmespath items\n"
	             "    additional_values: [a, b]\n",
	             "[]", "p.yaml:7:24: |additional_values|expected a mapping",
	             "additional_values must be a mapping");
	expect_error("- implementation: value_projection\n"
	             "  arguments:\n"
	             "    projection: !jmespath 'items[('\n",
	             "[]", "p.yaml:6:17: |projection",
	             "a bad JMESPath projection is refused at load");
}

/* --- ExpandJsonField ---------------------------------------------------- */

/** ExpandJsonField: paths, JSON types, unchanged records, errors. */
TAP_CASE(expand_json)
{
	const char *flat = "- implementation: expand_json_field\n"
	                   "  arguments:\n"
	                   "    path: payload\n";
	expect(flat,
	       "[{id: 1, payload: '{\"a\": [1, 2.5, \"x\"], \"b\": "
	       "{\"c\": null, \"d\": true}}'}]",
	       "{\"id\":1,\"payload\":{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null,"
	       "\"d\":true}}}\n",
	       "a JSON object is parsed in place, siblings kept");
	expect(flat,
	       "[{payload: '[1, \"2\", [3]]'}, {payload: '42'}, "
	       "{payload: '-0.5'}, {payload: '\"s\"'}, {payload: 'false'}, "
	       "{payload: 'null'}, {payload: ' [1] '}]",
	       "{\"payload\":[1,\"2\",[3]]}\n{\"payload\":42}\n"
	       "{\"payload\":-0.5}\n{\"payload\":\"s\"}\n"
	       "{\"payload\":false}\n{\"payload\":null}\n{\"payload\":[1]}\n",
	       "arrays, numbers, strings, booleans and null keep their "
	       "JSON types; surrounding whitespace is allowed");
	/* Types, not just text: 42 parsed is the number 42. */
	expect("- implementation: expand_json_field\n"
	       "  arguments:\n"
	       "    path: n\n"
	       "- implementation: values_match_possibilities\n"
	       "  arguments:\n"
	       "    fields:\n"
	       "      - value: !jmespath n\n"
	       "        possibilities: [42]\n",
	       "[{n: '42'}, {n: '\"42\"'}, {n: '42.0'}]",
	       "{\"n\":42}\n{\"n\":42.0}\n",
	       "a parsed number equals a number, a parsed string does not");
	expect(flat, "[{payload: '{\"name\": \"Zo\\u00eb\", \"r\": \"🚀\"}'}]",
	       "{\"payload\":{\"name\":\"Zoë\",\"r\":\"🚀\"}}\n",
	       "\\u escapes are decoded and UTF-8 kept");
	expect(flat, "[{payload: '\"\\ud83d\\ude80 \\u00e9\"'}]",
	       "{\"payload\":\"🚀 é\"}\n",
	       "a \\u surrogate pair is one code point");
	expect(flat, "[{payload: '{\"a\": 1, \"a\": 2}'}]",
	       "{\"payload\":{\"a\":2}}\n",
	       "a repeated key keeps the last value, as json.loads does");
	expect(flat, "[{id: 1}, {id: 2, payload: null}, {payload: '[]'}]",
	       "{\"id\":1}\n{\"id\":2,\"payload\":null}\n{\"payload\":[]}\n",
	       "a missing or null value passes the record unchanged");

	const char *nested = "- implementation: expand_json_field\n"
	                     "  arguments:\n"
	                     "    path: [outer, inner]\n";
	expect(nested, "[{outer: {inner: '{\"x\": 1}', keep: k}, top: t}]",
	       "{\"outer\":{\"inner\":{\"x\":1},\"keep\":\"k\"},\"top\":\"t\"}"
	       "\n",
	       "a nested path is parsed in place");
	expect(nested,
	       "[{top: 1}, {outer: null}, {outer: {}}, {outer: {inner: null}}]",
	       "{\"top\":1}\n{\"outer\":null}\n{\"outer\":{}}\n"
	       "{\"outer\":{\"inner\":null}}\n",
	       "a missing or null intermediate or final value passes the "
	       "record unchanged");
	expect("- implementation: expand_json_field\n"
	       "  arguments:\n"
	       "    path: [a, b, c]\n",
	       "[{a: {b: {c: '[true]', d: 1}}}]",
	       "{\"a\":{\"b\":{\"c\":[true],\"d\":1}}}\n", "a three-key path");
	expect("- implementation: "
	       "nodestream.pipeline.transformers:ExpandJsonField\n"
	       "  arguments:\n"
	       "    path: [payload]\n",
	       "[{payload: '{\"k\": \"v\"}'}]", "{\"payload\":{\"k\":\"v\"}}\n",
	       "a list of one key is the same as the key");
	expect(flat,
	       "[{payload: '1'}, {payload: '2'}, {payload: '3'}, "
	       "{payload: '4'}]",
	       "{\"payload\":1}\n{\"payload\":2}\n{\"payload\":3}\n"
	       "{\"payload\":4}\n",
	       "every record of several batches is expanded");

	expect_error(flat, "[{payload: '1'}, {payload: 5}]",
	             "iterable:2: |ExpandJsonField|must be str, not int",
	             "a number at the path is an error naming the record");
	expect_error(flat, "[{payload: {a: 1}}]", "iterable:1: |not dict",
	             "an already-expanded mapping is an error");
	expect_error(flat, "[{payload: '[1]'}, {payload: '{\"a\": }'}]",
	             "iterable:2: |ExpandJsonField: 'payload'",
	             "invalid JSON is an error naming the record and the key");
	expect_error(flat, "[{payload: ''}]", "iterable:1: |payload",
	             "an empty string is invalid JSON");
	expect_error(flat, "[{payload: '[1] x'}]", "iterable:1: |payload",
	             "trailing text after the JSON is invalid");
	expect_error(nested, "[{outer: text}]",
	             "iterable:1: |'inner' is under a str",
	             "a string where a mapping is expected is an error");
	expect_error(nested, "[{outer: [1]}]", "iterable:1: |under a list",
	             "a list where a mapping is expected is an error");

	expect_error("- implementation: expand_json_field\n"
	             "  arguments: {}\n",
	             "[]", "p.yaml:5:14: |needs 'path'", "path is required");
	expect_error("- implementation: expand_json_field\n", "[]",
	             "p.yaml:4:3: |needs 'path'",
	             "path is required without arguments too");
	expect_error("- implementation: expand_json_field\n"
	             "  arguments:\n"
	             "    path: []\n",
	             "[]", "p.yaml:6:11: |expected a key or a list of keys",
	             "an empty path is refused");
	expect_error("- implementation: expand_json_field\n"
	             "  arguments:\n"
	             "    path: [a, {b: 1}]\n",
	             "[]", "p.yaml:6:15: |path|expected a string",
	             "a path key must be a string");
	expect_error("- implementation: expand_json_field\n"
	             "  arguments:\n"
	             "    path: a\n"
	             "    paths: b\n",
	             "[]", "p.yaml:7:5: |unknown|'paths'",
	             "an unknown argument is refused");
}

/* --- SwitchTransformer -------------------------------------------------- */

/** A case that tags the record: {case: TAG, n: <switch field n>}. */
#define TAG_CASE(key, tag)                                    \
	"      " key ":\n"                                    \
	"        implementation: value_projection\n"          \
	"        arguments: {projection: [{case: " tag "}], " \
	"additional_values: {n: !jmespath n}}\n"

/** SwitchTransformer: routing, keys, normalization, nesting, errors. */
TAP_CASE(switch)
{
	const char *basic = "- implementation: switch_transformer\n"
	                    "  arguments:\n"
	                    "    switch_on: !jmespath kind\n"
	                    "    cases:\n"
	                    "      a:\n"
	                    "        implementation: value_projection\n"
	                    "        arguments:\n"
	                    "          projection: !jmespath items\n"
	                    "      b:\n"
	                    "        implementation: expand_json_field\n"
	                    "        arguments:\n"
	                    "          path: j\n";
	expect(basic,
	       "[{kind: a, items: [{x: 1}, {x: 2}]}, {kind: b, j: '[1]'}, "
	       "{kind: c, z: 1}, {z: 2}, {kind: A, items: [{x: 3}]}]",
	       "{\"x\":1}\n{\"x\":2}\n{\"j\":[1],\"kind\":\"b\"}\n"
	       "{\"kind\":\"c\",\"z\":1}\n{\"z\":2}\n"
	       "{\"items\":[{\"x\":3}],\"kind\":\"A\"}\n",
	       "each record goes to its case; no match and no default "
	       "passes it unchanged; no normalization by default");
	struct hres r;
	harness_run(basic,
	            "[{kind: a, items: [{x: 1}, {x: 2}, {x: 3}]}, {kind: c}]",
	            &r);
	ok(r.rc == 0 && r.emitted == 4,
	   "the switch's output count includes its cases' output");

	expect("- implementation: switch_transformer\n"
	       "  arguments:\n"
	       "    switch_on: !jmespath n\n"
	       "    normalization:\n"
	       "      do_lowercase_strings: true\n"
	       "      do_trim_whitespace: true\n"
	       "    cases:\n" TAG_CASE("ab", "lower") TAG_CASE("CD", "upper"),
	       "[{n: ' AB '}, {n: Ab}, {n: CD}, {n: cd}]",
	       "{\"case\":\"lower\",\"n\":\" AB \"}\n"
	       "{\"case\":\"lower\",\"n\":\"Ab\"}\n"
	       "{\"n\":\"CD\"}\n{\"n\":\"cd\"}\n",
	       "the switch value is normalized, the case keys are not");
	expect("- implementation: switch_transformer\n"
	       "  arguments:\n"
	       "    switch_on: !jmespath n\n"
	       "    normalization: {do_uppercase_strings: true}\n"
	       "    cases:\n" TAG_CASE("ÉTÉ", "summer"),
	       "[{n: été}, {n: ete}]",
	       "{\"case\":\"summer\",\"n\":\"été\"}\n{\"n\":\"ete\"}\n",
	       "Unicode values are normalized before the lookup");
	expect("- implementation: switch_transformer\n"
	       "  arguments:\n"
	       "    switch_on: !jmespath n\n"
	       "    cases:\n" TAG_CASE("1", "one")
	               TAG_CASE("2.5", "two-and-half")
	                       TAG_CASE("'3'", "three-str"),
	       "[{n: 1}, {n: 1.0}, {n: true}, {n: 2.5}, {n: 3}, {n: '3'}, "
	       "{n: '1'}]",
	       "{\"case\":\"one\",\"n\":1}\n{\"case\":\"one\",\"n\":1.0}\n"
	       "{\"case\":\"one\",\"n\":true}\n"
	       "{\"case\":\"two-and-half\",\"n\":2.5}\n{\"n\":3}\n"
	       "{\"case\":\"three-str\",\"n\":\"3\"}\n{\"n\":\"1\"}\n",
	       "numeric case keys: 1 == 1.0 == True, '3' != 3, '1' != 1");
	expect("- implementation: switch_transformer\n"
	       "  arguments:\n"
	       "    switch_on: !jmespath n\n"
	       "    cases:\n" TAG_CASE("null", "none") TAG_CASE("true", "truth")
	               TAG_CASE("é", "e-acute"),
	       "[{x: 1}, {n: null}, {n: true}, {n: 'true'}, {n: é}]",
	       "{\"case\":\"none\",\"n\":null}\n{\"case\":\"none\",\"n\":null}"
	       "\n"
	       "{\"case\":\"truth\",\"n\":true}\n{\"n\":\"true\"}\n"
	       "{\"case\":\"e-acute\",\"n\":\"é\"}\n",
	       "null, boolean and Unicode case keys, resolved as PyYAML does");
	expect("- implementation: switch_transformer\n"
	       "  arguments:\n"
	       "    switch_on: !jmespath n\n"
	       "    cases:\n" TAG_CASE("1", "first") TAG_CASE("1.0", "second"),
	       "[{n: 1}]", "{\"case\":\"second\",\"n\":1}\n",
	       "of equal case keys the last wins, as in a Python dict");

	const char *filtering =
	        "- implementation: switch_transformer\n"
	        "  arguments:\n"
	        "    switch_on: !jmespath kind\n"
	        "    cases:\n"
	        "      f:\n"
	        "        implementation: values_match_possibilities\n"
	        "        arguments:\n"
	        "          fields:\n"
	        "            - value: !jmespath v\n"
	        "              possibilities: [keep]\n"
	        "    default:\n"
	        "      implementation: value_matches_regex\n"
	        "      arguments: {value: !jmespath v, regex: 'ok', "
	        "include: true}\n";
	expect(filtering,
	       "[{kind: f, v: keep}, {kind: f, v: drop}, {kind: g, v: okay}, "
	       "{kind: g, v: not ok}, {v: ok}]",
	       "{\"kind\":\"f\",\"v\":\"keep\"}\n{\"kind\":\"g\",\"v\":"
	       "\"okay\"}\n"
	       "{\"v\":\"ok\"}\n",
	       "a filter as a case drops records; unmatched records go to "
	       "the default step");
	harness_run(filtering, "[{kind: f, v: drop}, {kind: f, v: keep}]", &r);
	ok(r.rc == 0 && r.emitted == 1 && r.skipped == 0,
	   "records dropped by a case are not counted as output");

	const char *nested =
	        "- implementation: switch_transformer\n"
	        "  arguments:\n"
	        "    switch_on: !jmespath a\n"
	        "    cases:\n"
	        "      x:\n"
	        "        implementation: switch_transformer\n"
	        "        arguments:\n"
	        "          switch_on: !jmespath b\n"
	        "          normalization: "
	        "{do_lowercase_strings: true}\n"
	        "          cases:\n"
	        "            y:\n"
	        "              implementation: expand_json_field\n"
	        "              arguments: {path: j}\n"
	        "          default:\n"
	        "            implementation: value_projection\n"
	        "            arguments: {projection: [{inner: "
	        "default}]}\n"
	        "    default:\n"
	        "      implementation: value_projection\n"
	        "      arguments: {projection: [{outer: default}]}\n";
	expect(nested,
	       "[{a: x, b: Y, j: '{\"p\": 1}'}, {a: x, b: z}, {a: w}, "
	       "{a: x, b: y, j: '[2]'}]",
	       "{\"a\":\"x\",\"b\":\"Y\",\"j\":{\"p\":1}}\n{\"inner\":"
	       "\"default\"}\n"
	       "{\"outer\":\"default\"}\n{\"a\":\"x\",\"b\":\"y\",\"j\":[2]}\n",
	       "a switch inside a switch: started, run and finished with it");
	harness_run(nested, "[{a: x, b: y, j: '[1]'}, {a: x, b: y, j: '[1'}]",
	            &r);
	ok(r.rc != 0 &&
	           harness_has_parts(r.err, "iterable:2: |ExpandJsonField") &&
	           count_of(r.err, "iterable:2") == 1,
	   "an error in a nested case names the record once");
	if (r.rc == 0 || count_of(r.err, "iterable:2") != 1)
		printf("#   %s\n", r.err);
	expect(nested, "[]", "", "a nested switch over no records");

	expect_error(basic, "[{kind: b, j: '[1]'}, {kind: b, j: 7}]",
	             "iterable:2: |must be str, not int",
	             "an error in a case names the record");
	expect_error(
	        "- implementation: switch_transformer\n"
	        "  arguments:\n"
	        "    switch_on: !split {data: !jmespath k, delimiter: ','}\n"
	        "    cases: {}\n",
	        "[{k: 'a,b'}, {k: 1}]", "iterable:2: ",
	        "an error of the switch value names the record");
	const char *on_k = "- implementation: switch_transformer\n"
	                   "  arguments:\n"
	                   "    switch_on: !jmespath k\n"
	                   "    cases: {a: {implementation: expand_json_field, "
	                   "arguments: {path: j}}}\n";
	expect_error(on_k, "[{k: b}, {k: {a: 1}}]",
	             "iterable:2: |unhashable type: 'dict'",
	             "a mapping switch value is an error, as a dict key");
	expect_error(on_k, "[{k: [[a]]}]",
	             "iterable:1: |unhashable type: 'list'",
	             "a list switch value is an error, as a dict key");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases: {[a]: {implementation: expand_json_field, "
	             "arguments: {path: j}}}\n",
	             "[]", "p.yaml:7:13: |must be a scalar",
	             "a list as a case key is refused at load");
	expect("- implementation: "
	       "nodestream.pipeline.transformers:SwitchTransformer\n"
	       "  arguments:\n"
	       "    switch_on: !jmespath k\n"
	       "    cases: {}\n"
	       "    default: null\n",
	       "[{k: 1}]", "{\"k\":1}\n",
	       "no cases and a null default pass everything");

	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    cases: {}\n",
	             "[]", "p.yaml:6:5: |needs 'switch_on'",
	             "switch_on is required");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n",
	             "[]", "p.yaml:6:5: |needs 'cases'", "cases is required");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases: [a]\n",
	             "[]", "p.yaml:7:12: |expected a mapping",
	             "cases must be a mapping");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases:\n"
	             "      a:\n"
	             "        arguments: {path: j}\n",
	             "[]", "p.yaml:9:9: |has no implementation",
	             "a case without an implementation is refused");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases:\n"
	             "      a: expand_json_field\n",
	             "[]", "p.yaml:8:10: |expected a step",
	             "a case must be a mapping");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases:\n"
	             "      a:\n"
	             "        implementation: no_such_step\n",
	             "[]", "p.yaml:9:|no_such_step",
	             "an unknown implementation in a case is refused");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases: {}\n"
	             "    default:\n"
	             "      implementation: nowhere:Nothing\n",
	             "[]", "p.yaml:9:|nowhere:Nothing",
	             "an unknown implementation as default is refused");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases: {}\n"
	             "    default:\n"
	             "      implementation: value_projection\n",
	             "[]", "p.yaml:9:7: |needs 'projection'",
	             "a default step's own arguments are checked");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases:\n"
	             "      a:\n"
	             "        implementation: expand_json_field\n"
	             "        argument: {path: j}\n",
	             "[]", "p.yaml:10:9: |unknown|'argument'",
	             "an unknown key in a case is refused");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases:\n"
	             "      a:\n"
	             "        implementation: print\n",
	             "[]", "p.yaml:9:9: |cannot run inside a SwitchTransformer",
	             "a batch-only step cannot be a case");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    normalization: {do_lowercase: true}\n"
	             "    cases: {}\n",
	             "[]", "p.yaml:7:|do_lowercase",
	             "an unknown normalization flag is refused");
	expect_error("- implementation: switch_transformer\n"
	             "  arguments:\n"
	             "    switch_on: !jmespath k\n"
	             "    cases: {}\n"
	             "    otherwise: {implementation: expand_json_field}\n",
	             "[]", "p.yaml:8:5: |unknown|'otherwise'",
	             "an unknown argument is refused");
}

/* --- ValuesMatchPossibilitiesFilter / ExcludeWhen... --------------------- */

/** A possibilities filter of one field over `status`. */
#define STATUS_FILTER(impl, extra)          \
	"- implementation: " impl "\n"      \
	"  arguments:\n"                    \
	"    fields:\n"                     \
	"      - value: !jmespath status\n" \
	"        possibilities: [active, part-time]\n" extra

/** The possibilities filters. */
TAP_CASE(possibilities)
{
	const char *people =
	        "[{name: John, status: active}, {name: Jane, status: "
	        "inactive}, "
	        "{name: Bob, status: part-time}, {name: Al, status: ACTIVE}, "
	        "{name: Nobody}]";
	expect(STATUS_FILTER("values_match_possibilities", ""), people,
	       "{\"name\":\"John\",\"status\":\"active\"}\n"
	       "{\"name\":\"Bob\",\"status\":\"part-time\"}\n",
	       "ValuesMatch keeps records whose value is a possibility");
	expect(STATUS_FILTER("exclude_when_values_match_possibilities", ""),
	       people,
	       "{\"name\":\"Jane\",\"status\":\"inactive\"}\n"
	       "{\"name\":\"Al\",\"status\":\"ACTIVE\"}\n{\"name\":\"Nobody\"}"
	       "\n",
	       "ExcludeWhen drops them and keeps the others");
	expect(STATUS_FILTER(
	               "nodestream.pipeline.filters:"
	               "ValuesMatchPossibilitiesFilter",
	               "        normalization: {do_lowercase_strings: true}\n"),
	       people,
	       "{\"name\":\"John\",\"status\":\"active\"}\n"
	       "{\"name\":\"Bob\",\"status\":\"part-time\"}\n"
	       "{\"name\":\"Al\",\"status\":\"ACTIVE\"}\n",
	       "normalization applies to the value");
	expect("- implementation: values_match_possibilities\n"
	       "  arguments:\n"
	       "    fields:\n"
	       "      - value: !jmespath s\n"
	       "        possibilities: [' ACTIVE ', ÉCOLE]\n"
	       "        normalization:\n"
	       "          do_lowercase_strings: true\n"
	       "          do_trim_whitespace: true\n",
	       "[{s: active}, {s: '  Active'}, {s: école}, {s: ecole}]",
	       "{\"s\":\"active\"}\n{\"s\":\"  Active\"}\n{\"s\":\"école\"}\n",
	       "normalization applies to the possibilities too (Unicode)");
	struct hres r;
	harness_run(STATUS_FILTER("values_match_possibilities", ""), people,
	            &r);
	ok(r.rc == 0 && r.emitted == 2 && r.skipped == 0,
	   "dropped records are neither output nor skipped");

	expect("- implementation: values_match_possibilities\n"
	       "  arguments:\n"
	       "    fields:\n"
	       "      - value: !jmespath status\n"
	       "        possibilities: [!jmespath expected, fixed]\n",
	       "[{status: a, expected: a}, {status: a, expected: b}, "
	       "{status: fixed}, {status: b}]",
	       "{\"expected\":\"a\",\"status\":\"a\"}\n{\"status\":\"fixed\"}"
	       "\n",
	       "possibilities may be providers evaluated per record");
	expect("- implementation: values_match_possibilities\n"
	       "  arguments:\n"
	       "    fields:\n"
	       "      - value: !jmespath status\n"
	       "        possibilities: [active]\n"
	       "      - value: !jmespath age\n"
	       "        possibilities: [1, 2]\n",
	       "[{status: active, age: 1}, {status: active, age: 3}, "
	       "{status: gone, age: 2}, {status: active, age: 2.0}]",
	       "{\"age\":1,\"status\":\"active\"}\n"
	       "{\"age\":2.0,\"status\":\"active\"}\n",
	       "with several fields every one must match");
	expect("- implementation: exclude_when_values_match_possibilities\n"
	       "  arguments:\n"
	       "    fields:\n"
	       "      - value: !jmespath status\n"
	       "        possibilities: [active]\n"
	       "      - value: !jmespath age\n"
	       "        possibilities: [1, 2]\n",
	       "[{status: active, age: 1}, {status: active, age: 3}, "
	       "{status: gone, age: 2}]",
	       "{\"age\":3,\"status\":\"active\"}\n{\"age\":2,\"status\":"
	       "\"gone\"}\n",
	       "ExcludeWhen drops only records where every field matches");
	expect("- implementation: values_match_possibilities\n"
	       "  arguments:\n"
	       "    fields:\n"
	       "      - value: !jmespath n\n"
	       "        possibilities: [1, null]\n",
	       "[{n: 1}, {n: 1.0}, {n: true}, {n: '1'}, {x: 0}, {n: 0}]",
	       "{\"n\":1}\n{\"n\":1.0}\n{\"n\":true}\n{\"x\":0}\n",
	       "Python equality: 1 == 1.0 == True, '1' != 1; null matches "
	       "a missing value");
	expect("- implementation: values_match_possibilities\n"
	       "  arguments:\n"
	       "    fields: []\n",
	       "[{a: 1}, {a: 2}]", "{\"a\":1}\n{\"a\":2}\n",
	       "no fields: all() of nothing is true, every record kept");
	expect("- implementation: exclude_when_values_match_possibilities\n"
	       "  arguments:\n"
	       "    fields: []\n",
	       "[{a: 1}, {a: 2}]", "",
	       "no fields: ExcludeWhen drops everything");
	expect("- implementation: values_match_possibilities\n"
	       "  arguments:\n"
	       "    fields:\n"
	       "      - {value: !jmespath a, possibilities: []}\n",
	       "[{a: 1}, {a: null}]", "", "no possibilities: nothing matches");

	/* all() and any() stop early, as in Python: no error here. */
	const char *lazy = "- implementation: values_match_possibilities\n"
	                   "  arguments:\n"
	                   "    fields:\n"
	                   "      - value: !jmespath a\n"
	                   "        possibilities: [go]\n"
	                   "      - value: !jmespath b\n"
	                   "        possibilities:\n"
	                   "          - x\n"
	                   "          - !split {data: !jmespath n, delimiter: "
	                   "','}\n";
	expect(lazy, "[{a: stop, n: 1}, {a: go, b: x, n: 1}]",
	       "{\"a\":\"go\",\"b\":\"x\",\"n\":1}\n",
	       "later fields and possibilities are not evaluated once the "
	       "answer is known");
	expect_error(lazy, "[{a: go, b: x, n: 1}, {a: go, b: y, n: 1}]",
	             "iterable:2: |!split",
	             "an evaluated possibility's error names the record");
	expect_error(
	        "- implementation: exclude_when_values_match_possibilities\n"
	        "  arguments:\n"
	        "    fields:\n"
	        "      - value: !split {data: !jmespath n, delimiter: ','}\n"
	        "        possibilities: [a]\n",
	        "[{n: 'a,b'}, {n: 'c'}, {n: 3}]", "iterable:3: |!split",
	        "a value provider's error names the record");

	expect_error("- implementation: values_match_possibilities\n"
	             "  arguments: {}\n",
	             "[]", "p.yaml:5:14: |needs 'fields'",
	             "fields is required");
	expect_error("- implementation: values_match_possibilities\n"
	             "  arguments:\n"
	             "    fields: {value: a, possibilities: [a]}\n",
	             "[]", "p.yaml:6:13: |expected a list of fields",
	             "fields must be a list");
	expect_error("- implementation: values_match_possibilities\n"
	             "  arguments:\n"
	             "    fields:\n"
	             "      - value: !jmespath a\n",
	             "[]", "p.yaml:7:9: |a value and a list of possibilities",
	             "a field needs possibilities");
	expect_error(
	        "- implementation: exclude_when_values_match_possibilities\n"
	        "  arguments:\n"
	        "    fields:\n"
	        "      - possibilities: [a]\n",
	        "[]", "p.yaml:7:9: |a value and a list of possibilities",
	        "a field needs a value");
	expect_error("- implementation: values_match_possibilities\n"
	             "  arguments:\n"
	             "    fields:\n"
	             "      - value: !jmespath a\n"
	             "        possibilities: a\n",
	             "[]", "p.yaml:7:9: |a value and a list of possibilities",
	             "possibilities must be a list");
	expect_error("- implementation: values_match_possibilities\n"
	             "  arguments:\n"
	             "    fields:\n"
	             "      - value: !jmespath a\n"
	             "        possibilities: [a]\n"
	             "        normalisation: {do_lowercase_strings: true}\n",
	             "[]", "p.yaml:9:9: |unknown|'normalisation'",
	             "an unknown key in a field is refused");
	expect_error("- implementation: values_match_possibilities\n"
	             "  arguments:\n"
	             "    fields:\n"
	             "      - value: !jmespath a\n"
	             "        possibilities: [a]\n"
	             "        normalization: {do_shout: true}\n",
	             "[]", "p.yaml:9:|do_shout",
	             "an unknown normalization flag is refused");
	expect_error("- implementation: values_match_possibilities\n"
	             "  arguments:\n"
	             "    fields:\n"
	             "      - value: !jmespath a\n"
	             "        possibilities: [a, !jmespath 'b[']\n",
	             "[]", "p.yaml:8:28: |possibilities",
	             "a bad possibility provider is refused");
	expect_error("- implementation: values_match_possibilities\n"
	             "  arguments:\n"
	             "    fields: []\n"
	             "    field: []\n",
	             "[]", "p.yaml:7:5: |unknown|'field'",
	             "an unknown argument is refused");
}

/* --- ValueMatchesRegexFilter -------------------------------------------- */

/** A regex filter on `v` with `regex` and `include`, plus `extra`. */
#define REGEX_FILTER(regex, include, extra)       \
	"- implementation: value_matches_regex\n" \
	"  arguments:\n"                          \
	"    value: !jmespath v\n"                \
	"    regex: " regex "\n"                  \
	"    include: " include "\n" extra

/** ValueMatchesRegexFilter. */
TAP_CASE(regex)
{
	const char *words =
	        "[{v: abc}, {v: cab}, {v: xabx}, {v: ab}, {v: ABc}]";
	expect(REGEX_FILTER("'ab'", "true", ""), words,
	       "{\"v\":\"abc\"}\n{\"v\":\"ab\"}\n",
	       "include: true keeps values matching at the start only");
	expect(REGEX_FILTER("'ab'", "false", ""), words,
	       "{\"v\":\"cab\"}\n{\"v\":\"xabx\"}\n{\"v\":\"ABc\"}\n",
	       "include: false keeps the values that do not match at the "
	       "start (a match in the middle does not count)");
	expect(REGEX_FILTER("'ab'", "true",
	                    "    normalize: {do_lowercase_strings: true}\n"),
	       words, "{\"v\":\"abc\"}\n{\"v\":\"ab\"}\n{\"v\":\"ABc\"}\n",
	       "normalize applies before matching (the record is unchanged)");
	expect(REGEX_FILTER("'b\\w'", "true",
	                    "    normalize: {do_trim_whitespace: true}\n"),
	       "[{v: '  bc'}, {v: '  a bc'}]", "{\"v\":\"  bc\"}\n",
	       "trimming applies before matching");
	expect(REGEX_FILTER("'ab$'", "true", ""),
	       "[{v: ab}, {v: abc}, {v: \"ab\\n\"}]",
	       "{\"v\":\"ab\"}\n{\"v\":\"ab\\n\"}\n",
	       "$ matches at the end or before a final newline, as Python's");
	expect(REGEX_FILTER("'ab\\Z'", "true", ""), "[{v: ab}, {v: \"ab\\n\"}]",
	       "{\"v\":\"ab\"}\n",
	       "\\Z matches only at the very end, as Python's");
	expect(REGEX_FILTER("'^.$'", "true", ""),
	       "[{v: é}, {v: 🚀}, {v: ab}, {v: ''}]",
	       "{\"v\":\"é\"}\n{\"v\":\"🚀\"}\n",
	       ". is one code point of a Unicode string");
	expect(REGEX_FILTER("'\\d+$'", "true", ""),
	       "[{v: '٣٤'}, {v: '12'}, {v: 'x1'}]",
	       "{\"v\":\"٣٤\"}\n{\"v\":\"12\"}\n",
	       "\\d matches Unicode digits, as for Python str patterns");
	expect(REGEX_FILTER("'\\w+ü'", "false", ""),
	       "[{v: Müü}, {v: ü}, {v: -ü}]", "{\"v\":\"ü\"}\n{\"v\":\"-ü\"}\n",
	       "\\w matches Unicode letters");
	expect(REGEX_FILTER("'(?P<c>.)(?P=c)'", "true", ""),
	       "[{v: aab}, {v: abb}]", "{\"v\":\"aab\"}\n",
	       "Python's named groups and back references");
	expect(REGEX_FILTER("'(?i)ab'", "true", ""), "[{v: ABc}, {v: cAB}]",
	       "{\"v\":\"ABc\"}\n", "inline flags");
	expect(REGEX_FILTER("''", "true", ""), "[{v: ''}, {v: x}]",
	       "{\"v\":\"\"}\n{\"v\":\"x\"}\n",
	       "an empty regex matches every string");
	expect("- implementation: "
	       "nodestream.pipeline.filters:ValueMatchesRegexFilter\n"
	       "  arguments:\n"
	       "    value: !jmespath v\n"
	       "    regex: 'a+'\n"
	       "    include: yes\n",
	       "[{v: aa}, {v: ba}]", "{\"v\":\"aa\"}\n",
	       "the long name, and include: yes is true (YAML 1.1)");
	expect(REGEX_FILTER("'ok'", "false", ""),
	       "[{v: ok1}, {v: ok2}, {v: ok3}, {v: nope}]",
	       "{\"v\":\"nope\"}\n",
	       "include: false drops every match over several batches");
	struct hres r;
	harness_run(REGEX_FILTER("'ok'", "true", ""),
	            "[{v: ok1}, {v: ok2}, {v: ok3}, {v: nope}]", &r);
	ok(r.rc == 0 && r.emitted == 3 && r.skipped == 0,
	   "the output count is the kept records");

	expect_error(REGEX_FILTER("'ab'", "true", ""), "[{v: ab}, {v: 12}]",
	             "iterable:2: |ValueMatchesRegexFilter|got int",
	             "a number is an error naming the record");
	expect_error(REGEX_FILTER("'ab'", "false", ""), "[{v: ab}, {w: ab}]",
	             "iterable:2: |got NoneType",
	             "a missing value is an error (re.match(None))");
	expect_error(REGEX_FILTER("'ab'", "true", ""), "[{v: {a: ab}}]",
	             "iterable:1: |got dict", "a mapping is an error");
	expect(REGEX_FILTER("'ab'", "true", ""), "[{v: [ab, x]}, {v: [x, ab]}]",
	       "{\"v\":[\"ab\",\"x\"]}\n",
	       "of a list, the first item is the single value matched");

	expect_error(REGEX_FILTER("'(ab'", "true", ""), "[]",
	             "p.yaml:7:12: |regex|invalid regular expression",
	             "a bad regex is refused at load with its position");
	expect_error(REGEX_FILTER("'a{2,1}'", "true", ""), "[]",
	             "p.yaml:7:12: |invalid regular expression",
	             "a bad quantifier is refused");
	expect_error("- implementation: value_matches_regex\n"
	             "  arguments:\n"
	             "    value: !jmespath v\n"
	             "    regex: a\n",
	             "[]", "p.yaml:6:5: |needs 'include'",
	             "include is required");
	expect_error("- implementation: value_matches_regex\n"
	             "  arguments:\n"
	             "    value: !jmespath v\n"
	             "    include: true\n",
	             "[]", "p.yaml:6:5: |needs 'regex'", "regex is required");
	expect_error("- implementation: value_matches_regex\n"
	             "  arguments:\n"
	             "    regex: a\n"
	             "    include: true\n",
	             "[]", "p.yaml:6:5: |needs 'value'", "value is required");
	expect_error(REGEX_FILTER("a", "maybe", ""), "[]",
	             "p.yaml:8:14: |include", "include must be a boolean");
	expect_error(REGEX_FILTER("a", "true",
	                          "    normalize: {do_lowercase: true}\n"),
	             "[]", "p.yaml:9:|do_lowercase",
	             "an unknown normalize flag is refused");
	expect_error(REGEX_FILTER("a", "true",
	                          "    normalization: {do_trim_whitespace: "
	                          "true}\n"),
	             "[]", "p.yaml:9:5: |unknown|'normalization'",
	             "the option is 'normalize', not 'normalization'");
	expect_error(REGEX_FILTER("[a]", "true", ""), "[]",
	             "p.yaml:7:12: |regex|expected a string",
	             "the regex must be a string");
}

/** Forget the registered steps (no leaks under valgrind). */
static void
teardown(void)
{
	sl_registry_clear();
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, NULL, teardown);
}
