/*
 * The Interpreter: every interpretation type, option, normalization rule,
 * creation rule, iteration and pass, the automatic properties, invalid
 * keys, and errors at load and at run time, with Nodestream's semantics.
 * Each case runs a real pipeline (interp_harness.h); ingestions are
 * captured in a short form:
 *
 *   Type:Label{key}(props)!RULE -[REL{key}(props)!RULE]-> Type{key}
 */
#include "interp_harness.h"
#include "interp/norm.h"
#include "interp/provider.h"
#include "sluice/arena.h"
#include "sluice/conf.h"
#include "sluice/jsonread.h"

/** Run `args` over `records` and compare the captured ingestions. */
static void
expect(const char *args, const char *records, const char *want,
       const char *name)
{
	harness_expect(harness_interp, args, records, want, name);
}

/**
 * Run `args` and expect a failure whose message contains the parts of
 * `part` ('|'-separated, in order).
 */
static void
expect_error(const char *args, const char *records, const char *part,
             const char *name)
{
	harness_expect_error(harness_interp, args, records, part, name);
}

/** The ingestions of the airports fixture's interpretations. */
TAP_CASE(source_and_relationships)
{
	const char *airport =
	        "    interpretations:\n"
	        "      - type: source_node\n"
	        "        node_type: Airport\n"
	        "        key:\n"
	        "          identifier: !jmespath ident\n"
	        "        properties:\n"
	        "          name: !jmespath name\n"
	        "          elevation_in_feet: !jmespath elevation_ft\n"
	        "      - type: relationship\n"
	        "        node_type: Country\n"
	        "        relationship_type: WITHIN\n"
	        "        node_key:\n"
	        "          code: !jmespath iso_country\n";
	expect(airport,
	       "[{ident: 00A, name: Total Rf, elevation_ft: '11', "
	       "iso_country: US}]",
	       "Airport{\"identifier\":\"00a\"}(\"elevation_in_feet\":\"11\","
	       "\"name\":\"Total Rf\") -[WITHIN]-> Country{\"code\":\"us\"}\n",
	       "keys are lowercased by default, properties are not");
	expect(airport, "[{ident: X, name: null, iso_country: US}]",
	       "Airport{\"identifier\":\"x\"}(\"elevation_in_feet\":null,"
	       "\"name\":null) -[WITHIN]-> Country{\"code\":\"us\"}\n",
	       "missing properties are null (the writer removes them)");
	expect("    interpretations:\n"
	       "      - type: relationship\n"
	       "        node_type: Country\n"
	       "        relationship_type: WITHIN\n"
	       "        node_key: {code: !jmespath c}\n"
	       "      - type: source_node\n"
	       "        node_type: City\n"
	       "        key: {name: !jmespath n}\n",
	       "[{c: FR, n: Paris}]",
	       "City{\"name\":\"paris\"} -[WITHIN]-> "
	       "Country{\"code\":\"fr\"}\n",
	       "a relationship before the source node attaches to it");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: P\n"
	       "        key: {id: !jmespath id}\n"
	       "        additional_types: [Person, Human]\n"
	       "        allow_create: false\n",
	       "[{id: 1}]", "P:Person:Human{\"id\":1}!MATCH_ONLY\n",
	       "additional_types and allow_create: false (MATCH_ONLY)");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: !jmespath kind\n"
	       "        key: {id: !jmespath id}\n",
	       "[{kind: Dyn, id: A}]", "Dyn{\"id\":\"a\"}\n",
	       "node_type from a provider");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: P\n"
	       "        key: {a: !jmespath a, b: !jmespath b}\n"
	       "      - type: source_node\n"
	       "        node_type: P\n"
	       "        key: {c: !jmespath a}\n"
	       "        properties: {x: 1}\n",
	       "[{a: A, b: 2}]",
	       "P{\"a\":\"a\",\"b\":2,\"c\":\"a\"}(\"x\":1)\n",
	       "a second source_node merges keys and properties");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: P\n"
	       "        key: !jmespath '{id: id, n: name}'\n"
	       "        properties: !jmespath 'props'\n",
	       "[{id: ID, name: N, props: {a: A, b: [1, 2]}}]",
	       "P{\"id\":\"id\",\"n\":\"n\"}(\"a\":\"A\",\"b\":[1,2])\n",
	       "key and properties from providers returning mappings");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: P\n"
	             "        key: {id: !jmespath id}\n"
	             "        properties: !jmespath 'name'\n",
	             "[{id: 1, name: x}]", "must return a dict",
	             "a properties provider must return a mapping");
}

/** Relationship options. */
TAP_CASE(relationship_options)
{
	const char *src = "    interpretations:\n"
	                  "      - type: source_node\n"
	                  "        node_type: Player\n"
	                  "        key: {id: !jmespath id}\n";
	char args[4096];
	snprintf(args, sizeof(args),
	         "%s"
	         "      - type: relationship\n"
	         "        node_type: Team\n"
	         "        relationship_type: PLAYS_FOR\n"
	         "        outbound: false\n"
	         "        node_key: {name: !jmespath team}\n"
	         "        node_properties: {league: !jmespath league}\n"
	         "        relationship_key: {season: !jmespath season}\n"
	         "        relationship_properties: {shirt: !jmespath shirt}\n"
	         "        node_additional_types: [Club]\n"
	         "        key_normalization:\n"
	         "          do_lowercase_strings: false\n"
	         "          do_trim_whitespace: true\n"
	         "        properties_normalization:\n"
	         "          do_uppercase_strings: true\n",
	         src);
	expect(args,
	       "[{id: 7, team: ' Juventus ', league: Serie a, season: s21, "
	       "shirt: ten}]",
	       "Player{\"id\":7} <-[PLAYS_FOR{\"season\":\"S21\"}(\"shirt\":"
	       "\"TEN\")]- Team:Club{\"name\":\"Juventus\"}(\"league\":"
	       "\"SERIE A\")\n",
	       "outbound false, node and relationship keys and properties, "
	       "labels, key and properties normalization");
	snprintf(args, sizeof(args),
	         "%s"
	         "      - type: relationship\n"
	         "        node_type: Team\n"
	         "        relationship_type: T\n"
	         "        node_key: {name: !jmespath team}\n"
	         "        node_creation_rule: MATCH_ONLY\n"
	         "        relationship_creation_rule: CREATE\n"
	         "      - type: relationship\n"
	         "        node_type: Team\n"
	         "        relationship_type: U\n"
	         "        node_key: {name: !jmespath team}\n"
	         "        match_strategy: FUZZY\n"
	         "        relationship_creation_rule: MERGE_KEY\n",
	         src);
	expect(args, "[{id: 1, team: a.*}]",
	       "Player{\"id\":1} -[T!CREATE]-> "
	       "Team{\"name\":\"a.*\"}!MATCH_ONLY"
	       " -[U!MERGE_KEY]-> Team{\"name\":\"a.*\"}!FUZZY\n",
	       "creation rules, and match_strategy as the old name");
	snprintf(args, sizeof(args),
	         "%s"
	         "      - type: relationship\n"
	         "        node_type: Position\n"
	         "        relationship_type: PLAYS\n"
	         "        find_many: true\n"
	         "        node_key:\n"
	         "          name: !split {data: !jmespath pos, delimiter: "
	         "'|'}\n",
	         src);
	expect(args, "[{id: 1, pos: ST|CF|RW}]",
	       "Player{\"id\":1} -[PLAYS]-> Position{\"name\":\"st\"} "
	       "-[PLAYS]-> "
	       "Position{\"name\":\"cf\"} -[PLAYS]-> "
	       "Position{\"name\":\"rw\"}\n",
	       "find_many: one related node per value");
	snprintf(args, sizeof(args),
	         "%s"
	         "      - type: relationship\n"
	         "        node_type: N\n"
	         "        relationship_type: R\n"
	         "        find_many: true\n"
	         "        node_key:\n"
	         "          a: !jmespath as\n"
	         "          b: !jmespath bs\n",
	         src);
	expect(args, "[{id: 1, as: [X, Y], bs: [1, 2]}]",
	       "Player{\"id\":1} -[R]-> N{\"a\":\"x\",\"b\":1} -[R]-> "
	       "N{\"a\":\"y\",\"b\":2}\n",
	       "find_many zips keys index-wise");
	expect_error(args, "[{id: 1, as: [X, Y], bs: [1]}]",
	             "consistent length: (2,1)",
	             "find_many with keys of unequal lengths fails");
	snprintf(args, sizeof(args),
	         "%s"
	         "      - type: relationship\n"
	         "        node_type: Tag\n"
	         "        relationship_type: HAS\n"
	         "        iterate_on: !jmespath tags[*]\n"
	         "        node_key: {name: !jmespath name}\n"
	         "        relationship_properties: {w: !jmespath weight}\n",
	         src);
	expect(args,
	       "[{id: 1, tags: [{name: A, weight: 1}, {name: B, weight: 2}]}]",
	       "Player{\"id\":1} -[HAS(\"w\":1)]-> Tag{\"name\":\"a\"} "
	       "-[HAS(\"w\":2)]-> Tag{\"name\":\"b\"}\n",
	       "relationship iterate_on: keys relative to each item");
	snprintf(args, sizeof(args),
	         "%s"
	         "      - type: relationship\n"
	         "        node_type: Team\n"
	         "        relationship_type: R\n"
	         "        node_key: {name: !jmespath team}\n"
	         "        node_update_last_ingested: false\n"
	         "        relationship_update_last_ingested: false\n",
	         src);
	struct hres r;
	harness_run_stem("- implementation: interpreter\n"
	                 "  arguments:\n"
	                 "    interpretations:\n"
	                 "      - type: source_node\n"
	                 "        node_type: P\n"
	                 "        key: {id: !jmespath id}\n"
	                 "        update_last_ingested: false\n"
	                 "      - type: relationship\n"
	                 "        node_type: Team\n"
	                 "        relationship_type: R\n"
	                 "        node_key: {name: !jmespath team}\n"
	                 "        node_update_last_ingested: false\n"
	                 "      - type: relationship\n"
	                 "        node_type: Team\n"
	                 "        relationship_type: S\n"
	                 "        node_key: {name: !jmespath team}\n"
	                 "        relationship_update_last_ingested: false\n",
	                 "[{id: 1, team: X}]", true, true, "my_pipe", &r);
	const char *want =
	        "P{\"id\":1}(\"last_ingested_by_my_pipe_at\":\"T\","
	        "\"was_ingested_by_my_pipe\":true) "
	        "-[R(\"last_ingested_at\":\"T\","
	        "\"last_ingested_by_my_pipe_at\":\"T\",\"was_ingested_by_my_"
	        "pipe\""
	        ":true)]-> "
	        "Team{\"name\":\"x\"}(\"last_ingested_by_my_pipe_at\":"
	        "\"T\",\"was_ingested_by_my_pipe\":true) "
	        "-[S(\"last_ingested_by_"
	        "my_pipe_at\":\"T\",\"was_ingested_by_my_pipe\":true)]-> Team{"
	        "\"name\":\"x\"}(\"last_ingested_at\":\"T\",\"last_ingested_by_"
	        "my_"
	        "pipe_at\":\"T\",\"was_ingested_by_my_pipe\":true)\n";
	if (!ok(r.rc == 0 && strcmp(r.out, want) == 0,
	        "automatic properties name the pipeline file's stem; "
	        "update_last_ingested: false drops only last_ingested_at"))
		printf("#   got:  %s#   want: %s", r.out, want);
}

/** Normalization flags and their defaults. */
TAP_CASE(normalization)
{
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: D\n"
	       "        key: {name: !jmespath n}\n"
	       "        properties: {p: !jmespath n}\n"
	       "        normalization:\n"
	       "          do_remove_trailing_dots: true\n"
	       "          do_trim_whitespace: true\n",
	       "[{n: ' Example.COM.. '}]",
	       "D{\"name\":\"example.com..\"}(\"p\":\"Example.COM..\")\n",
	       "normalization applies to keys (still lowercased) and "
	       "properties, flags in the order written");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: D\n"
	       "        key: {name: !jmespath n}\n"
	       "        normalization:\n"
	       "          do_trim_whitespace: true\n"
	       "          do_remove_trailing_dots: true\n",
	       "[{n: ' Example.COM.. '}]", "D{\"name\":\"example.com\"}\n",
	       "trimming first, then the dots");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: D\n"
	       "        key: {name: !jmespath n}\n"
	       "        key_normalization: {do_lowercase_strings: false}\n",
	       "[{n: ÉCOLE}]", "D{\"name\":\"ÉCOLE\"}\n",
	       "lowercasing of keys can be turned off");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: D\n"
	       "        key: {name: !jmespath n, num: !jmespath k}\n",
	       "[{n: ÉCOLE Ÿ, k: 5}]", "D{\"name\":\"école ÿ\",\"num\":5}\n",
	       "lowercasing is Unicode-aware and leaves numbers alone");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: D\n"
	       "        key: {name: !jmespath n}\n"
	       "        properties: {p: !jmespath n}\n"
	       "        properties_normalization: {do_uppercase_strings: "
	       "true}\n",
	       "[{n: straße}]", "D{\"name\":\"straße\"}(\"p\":\"STRAßE\")\n",
	       "properties_normalization (simple case mapping)");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: D\n"
	       "        key: {name: !jmespath n}\n"
	       "        normalization: {do_trim_whitespace: true}\n",
	       "[{n: \"\\u00a0\\u2003x y\\t\\n\"}]", "D{\"name\":\"x y\"}\n",
	       "trimming strips Unicode whitespace as Python does");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: D\n"
	             "        key: {name: !jmespath n}\n"
	             "        normalization: {do_trim_whitespace: true}\n"
	             "        key_normalization: {do_trim_whitespace: true}\n",
	             "[]", "cannot be given together",
	             "normalization with key_normalization is an error");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: D\n"
	             "        key: {name: !jmespath n}\n"
	             "        normalization: {do_shout: true}\n",
	             "[]",
	             "p.yaml:10:25: normalization: unknown normalization "
	             "flag 'do_shout'",
	             "an unknown flag is an error at its position");
}

/** Properties, variables, switch, conditions. */
TAP_CASE(other_types)
{
	expect("    interpretations:\n"
	       "      - type: properties\n"
	       "        properties: {early: !jmespath a}\n"
	       "      - type: source_node\n"
	       "        node_type: N\n"
	       "        key: {id: !jmespath id}\n"
	       "      - type: properties\n"
	       "        properties: {late: !jmespath a}\n"
	       "        normalization: {do_lowercase_strings: true}\n",
	       "[{id: 1, a: AB}]",
	       "N{\"id\":1}(\"early\":\"AB\",\"late\":\"ab\")\n",
	       "properties interpretations merge into the source node");
	expect("    interpretations:\n"
	       "      - type: variables\n"
	       "        variables: {who: !jmespath user, tags: [x, y], first: "
	       "!jmespath tags}\n"
	       "        normalization: {do_uppercase_strings: true}\n"
	       "      - type: source_node\n"
	       "        node_type: N\n"
	       "        key: {id: !variable who}\n"
	       "      - type: relationship\n"
	       "        node_type: T\n"
	       "        relationship_type: R\n"
	       "        find_many: true\n"
	       "        node_key: {t: !variable tags}\n"
	       "        key_normalization: {do_lowercase_strings: false}\n"
	       "      - type: properties\n"
	       "        properties: {first: !variable first}\n",
	       "[{user: ann, tags: [p, q]}]",
	       "N{\"id\":\"ann\"}(\"first\":\"P\") -[R]-> T{\"t\":\"x\"} "
	       "-[R]-> "
	       "T{\"t\":\"y\"}\n",
	       "variables (a JMESPath list gives its first item), and "
	       "!variable lists giving many values");
	const char *sw = "    interpretations:\n"
	                 "      - type: switch\n"
	                 "        switch_on: !jmespath kind\n"
	                 "        normalization: {do_lowercase_strings: true}\n"
	                 "        cases:\n"
	                 "          person:\n"
	                 "            type: source_node\n"
	                 "            node_type: Person\n"
	                 "            key: {id: !jmespath id}\n"
	                 "          1:\n"
	                 "            - type: source_node\n"
	                 "              node_type: One\n"
	                 "              key: {id: !jmespath id}\n"
	                 "            - type: properties\n"
	                 "              properties: {one: true}\n"
	                 "        default:\n"
	                 "          type: source_node\n"
	                 "          node_type: Other\n"
	                 "          key: {id: !jmespath id}\n";
	expect(sw,
	       "[{kind: PERSON, id: a}, {kind: 1.0, id: b}, {kind: x, id: c}]",
	       "Person{\"id\":\"a\"}\nOne{\"id\":\"b\"}(\"one\":true)\n"
	       "Other{\"id\":\"c\"}\n",
	       "switch: normalized value, numeric case keys, default");
	const char *strict = "    interpretations:\n"
	                     "      - type: switch\n"
	                     "        switch_on: !jmespath kind\n"
	                     "        cases:\n"
	                     "          a: {type: source_node, node_type: A, "
	                     "key: {id: !jmespath id}}\n";
	expect_error(strict, "[{kind: a, id: 1}, {kind: zz, id: 2}]",
	             "'zz' was not matched in switch case",
	             "an unhandled switch value fails by default");
	char lax[1024];
	snprintf(lax, sizeof(lax), "%s        fail_on_unhandled: false\n",
	         strict);
	struct hres r;
	harness_interp(lax, "[{kind: a, id: 1}, {kind: zz, id: 2}]", &r);
	ok(r.rc == 0 && strcmp(r.out, "A{\"id\":1}\n") == 0 && r.skipped == 1,
	   "with fail_on_unhandled: false it is skipped (no source node)");
	const char *cond =
	        "    interpretations:\n"
	        "      - type: source_node\n"
	        "        node_type: N\n"
	        "        key: {id: !jmespath id}\n"
	        "      - type: properties\n"
	        "        condition: {type: compare, left: !jmespath n, "
	        "operator: greater_than, right: 10}\n"
	        "        properties: {big: true}\n"
	        "      - type: properties\n"
	        "        condition:\n"
	        "          type: and\n"
	        "          conditions:\n"
	        "            - {type: compare, left: !jmespath s, operator: "
	        "contains, right: ell}\n"
	        "            - type: not\n"
	        "              condition: {type: compare, left: !jmespath n, "
	        "operator: less_than, right: 0}\n"
	        "        properties: {hello: true}\n"
	        "      - type: properties\n"
	        "        condition:\n"
	        "          type: or\n"
	        "          conditions:\n"
	        "            - {type: compare, left: !jmespath s, operator: "
	        "equals, right: x}\n"
	        "            - {type: compare, left: !jmespath n, operator: "
	        "equals, right: 5.0}\n"
	        "        properties: {either: true}\n";
	expect(cond, "[{id: 1, n: 11, s: hello}, {id: 2, n: 5, s: x}]",
	       "N{\"id\":1}(\"big\":true,\"hello\":true)\n"
	       "N{\"id\":2}(\"either\":true)\n",
	       "conditions: compare, and, or, not (5 == 5.0 as in Python)");
	expect_error(cond, "[{id: 1, n: '11', s: hello}]",
	             "'>' not supported between instances of 'str' and 'int'",
	             "comparing a string with a number fails as in Python");
}

/** Interpreter-level iteration and passes. */
TAP_CASE(iteration_and_passes)
{
	expect("    before_iteration:\n"
	       "      - type: variables\n"
	       "        variables: {team: !jmespath team}\n"
	       "      - type: relationship\n"
	       "        node_type: Team\n"
	       "        relationship_type: IN\n"
	       "        node_key: {name: !jmespath team}\n"
	       "    iterate_on: !jmespath players[*]\n"
	       "    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: Player\n"
	       "        key: {name: !jmespath name}\n"
	       "        properties: {team: !variable team}\n",
	       "[{team: T1, players: [{name: A}, {name: B}]}, "
	       "{team: T2, players: []}]",
	       "Player{\"name\":\"a\"}(\"team\":\"T1\") -[IN]-> "
	       "Team{\"name\":\"t1\"}\n"
	       "Player{\"name\":\"b\"}(\"team\":\"T1\") -[IN]-> "
	       "Team{\"name\":\"t1\"}\n",
	       "before_iteration runs once; its relationships and variables "
	       "reach every item; no items, no ingestions");
	expect("    interpretations:\n"
	       "      - - type: source_node\n"
	       "          node_type: A\n"
	       "          key: {id: !jmespath a}\n"
	       "      - - type: source_node\n"
	       "          node_type: B\n"
	       "          key: {id: !jmespath b}\n"
	       "        - type: properties\n"
	       "          properties: {second: true}\n",
	       "[{a: 1, b: 2}]", "A{\"id\":1}\nB{\"id\":2}(\"second\":true)\n",
	       "multiple passes: one ingestion per pass, contexts apart");
	expect("    before_iteration:\n"
	       "      - - type: variables\n"
	       "          variables: {v: one}\n"
	       "      - - type: variables\n"
	       "          variables: {v: two}\n"
	       "    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: A\n"
	       "        key: {id: !variable v}\n",
	       "[{}]", "A{\"id\":\"one\"}\nA{\"id\":\"two\"}\n",
	       "multi-pass before_iteration");
	struct hres r;
	harness_interp("    interpretations: []\n", "[{a: 1}]", &r);
	ok(r.rc == 0 && r.out[0] == '\0' && r.skipped == 1,
	   "no interpretations: no source node, the record is skipped");
}

/** Invalid keys are skipped and counted. */
TAP_CASE(invalid_keys)
{
	const char *args = "    interpretations:\n"
	                   "      - type: source_node\n"
	                   "        node_type: A\n"
	                   "        key: {id: !jmespath id}\n"
	                   "      - type: relationship\n"
	                   "        node_type: B\n"
	                   "        relationship_type: R\n"
	                   "        node_key: {id: !jmespath b}\n";
	struct hres r;
	harness_interp(
	        args, "[{id: 1, b: x}, {id: null, b: y}, {id: 3}, {b: z}]", &r);
	ok(r.rc == 0 && strcmp(r.out, "A{\"id\":1} -[R]-> B{\"id\":\"x\"}\n"
	                              "A{\"id\":3}\n") == 0,
	   "a null source key drops the ingestion, a null related key the "
	   "relationship");
	is_int((long)r.skipped, 3, "each skip is counted");
	if (!ok(harness_has_parts(r.skip0,
	                          "iterable:2: the source node A has an "
	                          "empty or null key (its relationships go "
	                          "with it)"),
	        "the first skip names the record and the source node"))
		printf("#   %s\n", r.skip0);
	is_int((long)r.emitted, 2, "skipped ingestions are not emitted");
	harness_interp(args, "[{id: 3, b: null}]", &r);
	if (!ok(harness_has_parts(r.skip0,
	                          "iterable:1: relationship R: the related B "
	                          "node has an empty or null key"),
	        "a skipped relationship names the record, the relationship "
	        "and the node type"))
		printf("#   %s\n", r.skip0);
	harness_interp("    interpretations:\n"
	               "      - type: source_node\n"
	               "        node_type: A\n"
	               "        key: {}\n",
	               "[{id: 1}]", &r);
	ok(r.rc == 0 && r.out[0] == '\0' && r.skipped == 1,
	   "an empty key is not an identity");
	harness_interp("    interpretations:\n"
	               "      - type: source_node\n"
	               "        node_type: A\n"
	               "        key: {id: !jmespath id}\n",
	               "[{id: ''}]", &r);
	ok(r.rc == 0 && strcmp(r.out, "A{\"id\":\"\"}\n") == 0,
	   "an empty string is a valid key value (as in Nodestream)");
}

/** Every value provider. */
TAP_CASE(providers)
{
	const char *head = "    interpretations:\n"
	                   "      - type: source_node\n"
	                   "        node_type: N\n"
	                   "        key: {id: 1}\n"
	                   "        properties:\n";
	char args[4096];
#define PROPS(lines) (snprintf(args, sizeof(args), "%s%s", head, lines), args)
	expect(PROPS("          a: !format {fmt: '{x}-{y:>4}-{z:.2f}', x: "
	             "!jmespath x, y: !jmespath y, z: !jmespath z}\n"
	             "          b: !format {fmt: 'n={n}', n: !jmespath "
	             "missing}\n"
	             "          c: !format {fmt: '{{{b}}} {f} {t}', b: [1, a], "
	             "f: !jmespath f, t: !jmespath t}\n"),
	       "[{x: X, y: 7, z: 3.14159, f: 2.0, t: true}]",
	       "N{\"id\":1}(\"a\":\"X-   7-3.14\",\"b\":null,\"c\":\"{[1, "
	       "'a']} "
	       "2.0 True\")\n",
	       "!format: specs, a null sub gives null, Python str()");
	expect(PROPS("          g0: !regex {regex: '(\\d+)-(?P<tail>\\w+)', "
	             "data: !jmespath s}\n"
	             "          g1: !regex {regex: '(\\d+)-(?P<tail>\\w+)', "
	             "data: !jmespath s, group: 1}\n"
	             "          gn: !regex {regex: '(\\d+)-(?P<tail>\\w+)', "
	             "data: !jmespath s, group: tail}\n"
	             "          no: !regex {regex: '^z', data: !jmespath s}\n"
	             "          un: !regex {regex: 'a(x)?', data: !jmespath s, "
	             "group: 1}\n"),
	       "[{s: 'ab 12-cd'}]",
	       "N{\"id\":1}(\"g0\":\"12-cd\",\"g1\":\"12\",\"gn\":\"cd\","
	       "\"no\":"
	       "null,\"un\":null)\n",
	       "!regex searches; groups by number and name; no match is null");
	expect(PROPS("          s: !split {data: !jmespath s, delimiter: ', "
	             "'}\n"
	             "          l: !normalize {using: uppercase_strings, data: "
	             "!jmespath l}\n"
	             "          t: !normalize {using: trim_whitespace, data: "
	             "!jmespath t}\n"),
	       "[{s: 'a, b', l: [x, y], t: '  t  '}]",
	       "N{\"id\":1}(\"l\":\"X\",\"s\":\"a\",\"t\":\"t\")\n",
	       "!split and !normalize: the single value is the first");
	expect(PROPS("          i: !cast {data: !jmespath a, to: int}\n"
	             "          f: !cast {data: !jmespath a, to: float}\n"
	             "          s: !cast {data: !jmespath n, to: str}\n"
	             "          b: !cast {data: !jmespath e, to: bool}\n"
	             "          t: !cast {data: !jmespath a, to: bool}\n"
	             "          d: !cast {data: !jmespath d, to: decimal}\n"
	             "          x: !cast {data: !jmespath x, to: int}\n"
	             "          fl: !cast {data: !jmespath fl, to: int}\n"),
	       "[{a: ' 1_000 ', n: 2.50, e: '', d: '01.10', x: '-99999999999999"
	       "99999999', fl: -3.9}]",
	       "N{\"id\":1}(\"b\":false,\"d\":1.1,\"f\":1000.0,\"fl\":-3,\"i\":"
	       "1000,\"s\":\"2.5\",\"t\":true,\"x\":-9999999999999999999999)\n",
	       "!cast as Python's constructors");
	expect_error(PROPS("          i: !cast {data: !jmespath a, to: int}\n"),
	             "[{a: 12}, {a: twelve}]",
	             "iterable:2: interpretation 1 (source_node) at |p.yaml:7: "
	             "!cast 'int' (|p.yaml:11:14): invalid literal for int() "
	             "with base 10: 'twelve'",
	             "a failed cast names the record, the interpretation and "
	             "the provider");
	expect_error(PROPS("          s: !split {data: !jmespath a, delimiter: "
	                   "x}\n"),
	             "[{a: 5}]", "expected strings to split, got 5",
	             "!split of a non-string fails");
	expect_error(
	        PROPS("          s: !regex {regex: a, data: !jmespath a}\n"),
	        "[{a: null}]", "expected string or bytes-like object",
	        "!regex of null fails as re.search(None) does");
	expect(PROPS("          m: !mapping {mapping_name: m, key: k}\n"
	             "          st: static\n"
	             "          li: [1, 2]\n"
	             "          deep: !jmespath 'a.b[1].c'\n"
	             "          proj: !jmespath 'a.b[*].c'\n"
	             "          none: !jmespath 'a.zz[*]'\n"),
	       "[{a: {b: [{c: 1}, {c: 2}]}}]",
	       "N{\"id\":1}(\"deep\":2,\"li\":[1,2],\"m\":null,\"none\":null,"
	       "\"proj\":1,\"st\":\"static\")\n",
	       "!mapping without mappings is null; statics; JMESPath lists "
	       "give their first item, empty lists null");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: N\n"
	       "        key: {id: 1}\n"
	       "      - type: relationship\n"
	       "        node_type: C\n"
	       "        relationship_type: R\n"
	       "        find_many: true\n"
	       "        node_key: {ch: abc}\n",
	       "[{}]",
	       "N{\"id\":1} -[R]-> C{\"ch\":\"a\"} -[R]-> C{\"ch\":\"b\"} "
	       "-[R]-> "
	       "C{\"ch\":\"c\"}\n",
	       "the many values of a static string are its characters");
#undef PROPS
}

/** Errors at load time name file:line:column. */
TAP_CASE(load_errors)
{
	expect_error("    interpretations:\n"
	             "      - type: source_nod\n",
	             "[]",
	             "p.yaml:7:15: type: 'source_nod' is not one of "
	             "source_node",
	             "an unknown interpretation type lists the valid ones");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: N\n"
	             "        key: {id: 1}\n"
	             "        colour: red\n",
	             "[]",
	             "p.yaml:10:9: interpretations: unknown option "
	             "'colour' for a source_node interpretation",
	             "an unknown option is named at its position");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: N\n"
	             "        key: {id: !jmespath 'a[?'}\n",
	             "[]", "p.yaml:9:19: key: !jmespath 'a[?'",
	             "a malformed JMESPath names its position");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: N\n"
	             "        key: {id: !regex {regex: 'a(', data: x}}\n",
	             "[]", "p.yaml:9:34: key: invalid regular expression",
	             "a malformed regex names its position");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: N\n"
	             "        key: {id: !format {fmt: '{}'}}\n",
	             "[]", "positional field",
	             "a positional !format field is refused at load");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: N\n"
	             "        key: {id: !format {fmt: '{a}'}}\n",
	             "[]", "the format names 'a', which is not given",
	             "a !format field without a value is refused at load");
	expect_error("    interpretations:\n"
	             "      - type: relationship\n"
	             "        node_type: N\n"
	             "        relationship_type: R\n"
	             "        node_key: {id: 1}\n"
	             "        node_creation_rule: SOMETIMES\n",
	             "[]", "'SOMETIMES' is not one of EAGER, MATCH_ONLY, FUZZY",
	             "an unknown creation rule is refused");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: N\n"
	             "        key: {id: !cast {data: 1, to: bytearray}}\n",
	             "[]", "cannot cast to 'bytearray'",
	             "an unsupported cast is refused at load");
	expect_error("    interpretations:\n"
	             "      - type: source_node\n"
	             "        node_type: N\n"
	             "        key: {id: !bogus x}\n",
	             "[]", "!bogus is not a tag sluice knows",
	             "an unknown tag is refused");
	expect_error("    interpretations:\n"
	             "      - type: switch\n"
	             "        switch_on: x\n"
	             "        cases:\n"
	             "          a: [[{type: properties, properties: {}}]]\n",
	             "[]", "cannot handle multiple interpretation passes",
	             "a switch case of several passes is refused");
	expect_error("    interpretations:\n"
	             "      - - type: source_node\n"
	             "          node_type: N\n"
	             "          key: {id: 1}\n"
	             "      - type: properties\n",
	             "[]", "pass 2: expected a list of interpretations",
	             "mixed passes are refused");
	expect_error("    before_iteration: []\n", "[]",
	             "needs interpretations", "interpretations are required");
}

/**
 * The interpretations of built_in_the_output, directly (one ingestion per
 * record: sets built in the output batch) or, with `iterate_on: '@'`,
 * through the scratch arena and copied at the end.
 */
static void
output_case_args(char *args, size_t size, bool copied)
{
	snprintf(args, size,
	         "%s"
	         "    interpretations:\n"
	         "      - type: source_node\n"
	         "        node_type: P\n"
	         "        key: {id: !jmespath id}\n"
	         "        properties:\n"
	         "          bio: !jmespath bio\n"
	         "          tags: !jmespath tags\n"
	         "          info: !jmespath info\n"
	         "          gone: !jmespath nothing\n"
	         "          deep: !jmespath info.a.b\n"
	         "      - type: relationship\n"
	         "        node_type: !jmespath kind\n"
	         "        relationship_type: !jmespath rel\n"
	         "        node_key: {name: !jmespath team}\n"
	         "        node_properties: !jmespath extra\n"
	         "        relationship_properties: {since: !jmespath since}\n"
	         "      - type: relationship\n"
	         "        node_type: Skill\n"
	         "        relationship_type: HAS\n"
	         "        find_many: true\n"
	         "        node_key: {name: !jmespath skills, level: "
	         "!jmespath levels}\n",
	         copied ? "    iterate_on: !jmespath '@'\n" : "");
}

/**
 * Sets built in the output batch (a record that makes one ingestion) hold
 * copies of every kind of value, survive the record batches (batches of
 * 3 here, each record's strings different), and match the copying path.
 */
TAP_CASE(built_in_the_output)
{
	char records[8192] = "[", want[16384] = "";
	size_t rl = 1, wl = 0;
	for (int i = 0; i < 8; i++) {
		rl += (size_t)snprintf(
		        records + rl, sizeof(records) - rl,
		        "%s{id: ID%d, bio: 'a biography of more than sixteen "
		        "bytes, %d', tags: [t%d, %d], info: {a: {b: Deep%d}, "
		        "l: "
		        "[1, x]}, "
		        "kind: Team%d, rel: PLAYS%d, team: ÉCOLE %d, extra: "
		        "{Colour%d: Rouge%d, n: %d}, since: %d, skills: "
		        "[Pace%d, "
		        "'ÜBER LONG SKILL NAME %d'], levels: [%d, L%d]}",
		        i > 0 ? ", " : "", i, i, i, i, i, i, i, i, i, i, i,
		        2000 + i, i, i, i, i);
		wl += (size_t)snprintf(
		        want + wl, sizeof(want) - wl,
		        "P{\"id\":\"id%d\"}(\"bio\":\"a biography of more than "
		        "sixteen bytes, %d\",\"deep\":\"Deep%d\",\"gone\":null,"
		        "\"info\":{\"a\":{\"b\":\"Deep%d\"},\"l\":[1,\"x\"]},"
		        "\"tags\":\"t%d\") -[PLAYS%d(\"since\":%d)]-> "
		        "Team%d{\"name\":"
		        "\"école %d\"}(\"Colour%d\":\"Rouge%d\",\"n\":%d) "
		        "-[HAS]-> "
		        "Skill{\"level\":%d,\"name\":\"pace%d\"} -[HAS]-> "
		        "Skill{\"level\":\"l%d\",\"name\":\"über long skill "
		        "name %d\"}\n",
		        i, i, i, i, i, i, 2000 + i, i, i, i, i, i, i, i, i, i);
	}
	snprintf(records + rl, sizeof(records) - rl, "]");
	char args[4096];
	output_case_args(args, sizeof(args), false);
	expect(args, records, want,
	       "values of every kind, and types from the record, are copied "
	       "into the output batch as sets are built");
	output_case_args(args, sizeof(args), true);
	expect(args, records, want,
	       "the copying path (iterate_on) makes the same ingestions");

	/* The default properties are shared by relationships and nodes
	 * until a mapping sets one of them: that set takes its own. */
	struct hres r;
	harness_run_stem("- implementation: interpreter\n"
	                 "  arguments:\n"
	                 "    interpretations:\n"
	                 "      - type: source_node\n"
	                 "        node_type: P\n"
	                 "        key: {id: !jmespath id}\n"
	                 "      - type: relationship\n"
	                 "        node_type: A\n"
	                 "        relationship_type: R\n"
	                 "        node_key: {k: !jmespath a}\n"
	                 "        node_properties: {was_ingested_by_s: 0}\n"
	                 "        relationship_properties:\n"
	                 "          was_ingested_by_s: 1\n"
	                 "      - type: relationship\n"
	                 "        node_type: B\n"
	                 "        relationship_type: S\n"
	                 "        node_key: {k: !jmespath b}\n",
	                 "[{id: 1, a: x, b: y}, {id: 2, a: z, b: w}]", true,
	                 true, "s", &r);
	char w2[2048] = "";
	size_t l2 = 0;
	const char *const rec[2][3] = {{"1", "x", "y"}, {"2", "z", "w"}};
	for (int i = 0; i < 2; i++)
		l2 += (size_t)snprintf(
		        w2 + l2, sizeof(w2) - l2,
		        "P{\"id\":%s}(\"last_ingested_at\":\"T\","
		        "\"last_ingested_by_s_at\":\"T\",\"was_ingested_by_s\":"
		        "true) -[R(\"last_ingested_at\":\"T\","
		        "\"last_ingested_by_s_at\":\"T\",\"was_ingested_by_s\":"
		        "1)"
		        "]-> A{\"k\":\"%s\"}(\"last_ingested_at\":\"T\","
		        "\"last_ingested_by_s_at\":\"T\",\"was_ingested_by_s\":"
		        "0) "
		        "-[S(\"last_ingested_at\":\"T\",\"last_ingested_by_s_"
		        "at\":"
		        "\"T\",\"was_ingested_by_s\":true)]-> B{\"k\":\"%s\"}("
		        "\"last_ingested_at\":\"T\",\"last_ingested_by_s_at\":"
		        "\"T\",\"was_ingested_by_s\":true)\n",
		        rec[i][0], rec[i][1], rec[i][2]);
	if (!ok(r.rc == 0 && strcmp(r.out, w2) == 0,
	        "setting a default property changes only that set"))
		printf("#   got:  %s#   want: %s", r.out, w2);

	/* Mappings whose names are not the defaults' skip comparing with
	 * them; one that names a default replaces it, in the source node's
	 * set too, also after a source_node that drops last_ingested_at. */
	struct hres r3;
	harness_run_stem("- implementation: interpreter\n"
	                 "  arguments:\n"
	                 "    interpretations:\n"
	                 "      - type: source_node\n"
	                 "        node_type: P\n"
	                 "        key: {id: !jmespath id}\n"
	                 "        properties: {n: !jmespath a, "
	                 "was_ingested_by_s: 5}\n"
	                 "      - type: properties\n"
	                 "        properties: {was_ingested_by_s: 6, e: 1}\n"
	                 "      - type: source_node\n"
	                 "        node_type: P\n"
	                 "        key: {id: !jmespath id}\n"
	                 "        properties: {f: 2}\n"
	                 "        update_last_ingested: false\n"
	                 "      - type: properties\n"
	                 "        properties: {last_ingested_by_s_at: 7}\n",
	                 "[{id: 1, a: x}]", true, true, "s", &r3);
	const char *w3 = "P{\"id\":1}(\"e\":1,\"f\":2,\"last_ingested_by_s_"
	                 "at\":7,\"n\":\"x\",\"was_ingested_by_s\":6)\n";
	if (!ok(r3.rc == 0 && strcmp(r3.out, w3) == 0,
	        "a mapping naming a default property replaces it, once"))
		printf("#   got:  %s#   want: %s", r3.out, w3);
}

/**
 * Evaluate `m` over the JSON `rec` with the lookups of `run` (a new
 * document) and without, into `with` and `without` (canonical JSON of the
 * set); false when either fails.
 */
static bool
paths_eval(const struct sl_propmap *m, struct sl_paths_run *run,
           const char *rec, struct sl_buf *with, struct sl_buf *without)
{
	struct sl_arena a;
	sl_arena_create(&a, 4096, (size_t)16 << 20);
	struct sl_json_opts o = {SL_JSON_CHUNK_SIZE_DEFAULT,
	                         SL_JSON_RECORD_MAX_DEFAULT,
	                         SL_JSON_DEPTH_MAX_DEFAULT};
	struct sl_value doc;
	bool good = sl_json_parse(rec, strlen(rec), &a, &o, "r", &doc) == 0;
	for (int k = 0; k < 2 && good; k++) {
		struct sl_prov_ctx c = {.doc = &doc, .a = &a};
		if (k == 0) {
			sl_paths_run_start(run, &doc);
			c.paths = run;
		}
		struct sl_pset out = {NULL, 0, 0, false};
		struct sl_buf *b = k == 0 ? with : without;
		struct sl_value v;
		b->len = 0;
		good = sl_propmap_apply(m, &c, NULL, &out) == 0 &&
		       (v = sl_pset_value(&out), sl_json_write(b, &v, 0) == 0);
	}
	sl_arena_destroy(&a);
	return good;
}

/**
 * Field paths of several mappings looked up together (struct sl_paths:
 * each object read once, members remembered by position) give what the
 * lookups one by one give: the last of duplicate keys, null for a missing
 * name or a value that is not an object, the first item of an array, and
 * the same after the members change order, number or names.
 */
TAP_CASE(paths_together)
{
	const char *y1 = "a: !jmespath id\n"
	                 "b: !jmespath profile.age\n"
	                 "c: !jmespath profile.bio\n"
	                 "d: !jmespath profile.x.y\n"
	                 "e: !jmespath nothing\n"
	                 "f: !jmespath list\n"
	                 "g: !jmespath 'profile.\"odd key\"'\n";
	const char *y2 = "h: !jmespath k_of_seventeen_by\n"
	                 "i: !jmespath profile.age\n"
	                 "j: !jmespath m19\n"
	                 "k: !jmespath 'profile.x'\n"
	                 "l: '@'\n";
	struct sl_conf_doc *d1 = sl_conf_load(y1, strlen(y1), "m1.yaml");
	struct sl_conf_doc *d2 = sl_conf_load(y2, strlen(y2), "m2.yaml");
	struct sl_propmap m1, m2;
	struct sl_paths *pl = sl_paths_new();
	struct sl_paths_run run;
	bool built = d1 != NULL && d2 != NULL && pl != NULL &&
	             sl_propmap_compile(&m1, sl_conf_root(d1), "m1") == 0 &&
	             sl_propmap_compile(&m2, sl_conf_root(d2), "m2") == 0 &&
	             sl_paths_add(pl, &m1) == 0 && sl_paths_add(pl, &m2) == 0 &&
	             sl_paths_seal(pl) == 0 && sl_paths_any(pl) &&
	             sl_paths_run_init(&run, pl) == 0;
	if (!ok(built, "two mappings' paths in one tree"))
		return;
	static const char *const recs[] = {
	        "{\"id\":\"A\",\"profile\":{\"age\":1,\"bio\":\"x\",\"x\":{"
	        "\"y\":true},\"odd key\":5},\"list\":[7,8]}",
	        "{\"id\":\"B\",\"profile\":{\"age\":2,\"bio\":\"y\",\"x\":{"
	        "\"y\":false},\"odd key\":6},\"list\":[]}",
	        "{\"profile\":{\"bio\":\"z\",\"odd key\":null,\"age\":3},"
	        "\"id\":\"C\"}",
	        "{\"id\":\"1\",\"profile\":{\"age\":1,\"age\":null},\"id\":"
	        "\"2\"}",
	        "{\"id\":\"1\",\"profile\":{\"age\":1,\"age\":4},\"id\":\"3\"}",
	        "{\"profile\":[1,2],\"id\":null,\"list\":{\"a\":1}}",
	        "[1,2]",
	        "{}",
	        "{\"ix\":1,\"nxxxxxg\":2,\"profile\":{\"agf\":1,\"x\":5}}",
	        "{\"m0\":0,\"m1\":1,\"m2\":2,\"m3\":3,\"m4\":4,\"m5\":5,"
	        "\"m6\":6,\"m7\":7,\"m8\":8,\"m9\":9,\"m10\":10,\"m11\":11,"
	        "\"m12\":12,\"m13\":13,\"m14\":14,\"m15\":15,\"m16\":16,"
	        "\"id\":\"late\",\"m19\":\"n19\",\"m19\":\"last\","
	        "\"k_of_seventeen_by\":\"long\"}",
	        "{\"m0\":0,\"m1\":1,\"m2\":2,\"m3\":3,\"m4\":4,\"m5\":5,"
	        "\"m6\":6,\"m7\":7,\"m8\":8,\"m9\":9,\"m10\":10,\"m11\":11,"
	        "\"m12\":12,\"m13\":13,\"m14\":14,\"m15\":15,\"m16\":16,"
	        "\"m17\":\"x\",\"m18\":\"y\",\"m19\":\"again\"}",
	        "{\"id\":\"D\",\"profile\":{\"age\":5,\"bio\":\"w\",\"x\":{"
	        "\"y\":1},\"odd key\":7},\"list\":[9]}",
	};
	static const char *const want1[] = {
	        "{\"a\":\"A\",\"b\":1,\"c\":\"x\",\"d\":true,\"e\":null,\"f\":"
	        "7,\"g\":5}",
	        "{\"a\":\"B\",\"b\":2,\"c\":\"y\",\"d\":false,\"e\":null,"
	        "\"f\":null,\"g\":6}",
	        "{\"a\":\"C\",\"b\":3,\"c\":\"z\",\"d\":null,\"e\":null,\"f\":"
	        "null,\"g\":null}",
	        "{\"a\":\"2\",\"b\":null,\"c\":null,\"d\":null,\"e\":null,"
	        "\"f\":null,\"g\":null}",
	        "{\"a\":\"3\",\"b\":4,\"c\":null,\"d\":null,\"e\":null,\"f\":"
	        "null,\"g\":null}",
	        "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,"
	        "\"f\":{\"a\":1},\"g\":null}",
	        "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,"
	        "\"f\":null,\"g\":null}",
	        "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,"
	        "\"f\":null,\"g\":null}",
	        "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,"
	        "\"f\":null,\"g\":null}",
	        "{\"a\":\"late\",\"b\":null,\"c\":null,\"d\":null,\"e\":null,"
	        "\"f\":null,\"g\":null}",
	        "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,"
	        "\"f\":null,\"g\":null}",
	        "{\"a\":\"D\",\"b\":5,\"c\":\"w\",\"d\":1,\"e\":null,\"f\":9,"
	        "\"g\":7}",
	};
	struct sl_buf w, wo, w2, wo2;
	sl_buf_create(&w, 1 << 16);
	sl_buf_create(&wo, 1 << 16);
	sl_buf_create(&w2, 1 << 16);
	sl_buf_create(&wo2, 1 << 16);
	bool same = true, right = true;
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
			if (!paths_eval(&m1, &run, recs[i], &w, &wo) ||
			    !paths_eval(&m2, &run, recs[i], &w2, &wo2)) {
				same = right = false;
				continue;
			}
			if (strcmp(w.data, wo.data) != 0 ||
			    strcmp(w2.data, wo2.data) != 0) {
				same = false;
				printf("#   record %zu: %s / %s, %s / %s\n", i,
				       w.data, wo.data, w2.data, wo2.data);
			}
			if (strcmp(w.data, want1[i]) != 0) {
				right = false;
				printf("#   record %zu: got %s\n#   want %s\n",
				       i, w.data, want1[i]);
			}
		}
	ok(same, "looked up together or one by one, the same sets (twice "
	         "over the records: shapes remembered and changed)");
	ok(right, "the expected values: the last of duplicate keys, null "
	          "through what is not an object, an array's first item");
	ok(paths_eval(&m2, &run, recs[9], &w2, &wo2) &&
	           strstr(w2.data, "\"h\":\"long\"") != NULL &&
	           strstr(w2.data, "\"j\":\"last\"") != NULL,
	   "names past the remembered positions, of more than 16 bytes");
	/* Another document than the run's: lookups one by one. */
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value d0 = sl_null(), d1v = sl_null();
	struct sl_json_opts o = {SL_JSON_CHUNK_SIZE_DEFAULT,
	                         SL_JSON_RECORD_MAX_DEFAULT,
	                         SL_JSON_DEPTH_MAX_DEFAULT};
	sl_json_parse(recs[0], strlen(recs[0]), &a, &o, "r", &d0);
	sl_json_parse(recs[1], strlen(recs[1]), &a, &o, "r", &d1v);
	sl_paths_run_start(&run, &d0);
	struct sl_prov_ctx c = {.doc = &d1v, .a = &a, .paths = &run};
	struct sl_pset out = {NULL, 0, 0, false};
	const struct sl_value *got = NULL;
	ok(sl_propmap_apply(&m1, &c, NULL, &out) == 0 &&
	           (got = sl_pset_get(&out, "a", 1)) != NULL &&
	           got->type == SL_VSTR && got->len == 1 && got->u.s[0] == 'B',
	   "a context over another document than the run's looks it up");
	sl_arena_destroy(&a);
	sl_buf_destroy(&w);
	sl_buf_destroy(&wo);
	sl_buf_destroy(&w2);
	sl_buf_destroy(&wo2);
	/* Members [0, fresh) are not compared; the others still are. */
	const char *y3 = "k2: 9\nz: 3\n";
	struct sl_conf_doc *d3 = sl_conf_load(y3, strlen(y3), "m3.yaml");
	struct sl_value nul = sl_null();
	for (uint32_t fresh = 0; fresh < 2; fresh++) {
		struct sl_propmap m3;
		struct sl_member ms[2] = {{"k1", 2, sl_int(1)},
		                          {"k2", 2, sl_int(2)}};
		struct sl_pset set = {ms, 2, 2, false};
		sl_arena_create(&a, 4096, 1 << 20);
		struct sl_prov_ctx c3 = {.doc = &nul, .a = &a};
		bool compiled =
		        d3 != NULL &&
		        sl_propmap_compile(&m3, sl_conf_root(d3), "m3") == 0;
		ok(compiled &&
		           sl_propmap_apply_out(&m3, &c3, NULL, &set, &a,
		                                fresh) == 0 &&
		           set.n == 3 && set.m[1].val.u.i == 9 &&
		           set.m[2].val.u.i == 3,
		   "fresh %u: a name after the fresh members is replaced",
		   fresh);
		if (compiled)
			sl_propmap_destroy(&m3);
		sl_arena_destroy(&a);
	}
	sl_conf_doc_delete(d3);
	sl_paths_run_destroy(&run);
	sl_paths_delete(pl);
	sl_propmap_destroy(&m1);
	sl_propmap_destroy(&m2);
	sl_conf_doc_delete(d1);
	sl_conf_doc_delete(d2);
}

/**
 * Lowercasing alone inline (sl_norm_apply_inline(): ASCII strings of up
 * to 16 bytes a word or two at a time) against a byte-by-byte reference,
 * for every length 0 to 20 with a capital at every place, letters next
 * to '@' and '[' (just outside A-Z), and a non-ASCII letter at every
 * place (the general path: É becomes é).
 */
TAP_CASE(lowercase_inline)
{
	struct sl_arena a;
	sl_arena_create(&a, 4096, (size_t)16 << 20);
	struct sl_norm lower = {{SL_NORM_LOWER}, 1};
	int bad = 0, cases = 0;
	for (uint32_t n = 0; n <= 20; n++)
		for (uint32_t at = 0; at <= n; at++)
			for (int kind = 0; kind < 3; kind++) {
				char in[32], want[32];
				uint32_t len = n;
				for (uint32_t i = 0; i < n; i++)
					in[i] = (char)("ab@[z09 xY"[i % 10]);
				if (kind == 1 && at < n)
					in[at] = (char)('A' + at % 26);
				if (kind == 2) {
					/* É (C3 89) inserted at `at`. */
					memmove(in + at + 2, in + at, n - at);
					in[at] = (char)0xc3;
					in[at + 1] = (char)0x89;
					len = n + 2;
				}
				for (uint32_t i = 0; i < len; i++)
					want[i] = in[i] >= 'A' && in[i] <= 'Z'
					                  ? (char)(in[i] + 32)
					                  : in[i];
				if (kind == 2)
					want[at + 1] = (char)0xa9;
				char keep[32];
				memcpy(keep, in, len);
				struct sl_value v = sl_str_ref(in, len);
				cases++;
				if (sl_norm_apply_inline(&lower, &v, &a) != 0 ||
				    v.type != SL_VSTR || v.len != len ||
				    memcmp(v.u.s, want, len) != 0 ||
				    memcmp(in, keep, len) != 0) {
					if (bad++ < 5)
						printf("#   n=%u at=%u "
						       "kind=%d: "
						       "'%.*s'\n",
						       n, at, kind, (int)v.len,
						       v.u.s);
				}
			}
	ok(bad == 0, "%d strings lowercased as byte by byte (input kept)",
	   cases);
	struct sl_value num = sl_int(7), s = sl_str_ref("no change 16 byt", 16);
	const char *before = s.u.s;
	ok(sl_norm_apply_inline(&lower, &num, &a) == 0 && num.type == SL_VINT &&
	           num.u.i == 7,
	   "a number passes through");
	ok(sl_norm_apply_inline(&lower, &s, &a) == 0 && s.u.s == before,
	   "a string that does not change is not copied");
	struct sl_norm trim_lower = {{SL_NORM_TRIM, SL_NORM_LOWER}, 2};
	struct sl_value t = sl_str_ref("  MiXed  ", 9);
	ok(sl_norm_apply_inline(&trim_lower, &t, &a) == 0 && t.len == 5 &&
	           memcmp(t.u.s, "mixed", 5) == 0,
	   "other normalizations take the general path");
	sl_arena_destroy(&a);
}

/**
 * Trimming alone inline (sl_norm_apply_inline()) against the general
 * path (sl_norm_apply_op()), for every pair of ends taken from ASCII
 * whitespace, bytes next to it, non-ASCII whitespace (U+00A0, U+3000)
 * and a non-ASCII letter, around a middle of none, one or two words.
 */
TAP_CASE(trim_inline)
{
	static const char *const ends[] = {
	        "",          " ",          "\t\n",
	        "\x1c\x1f ", "\x08",       "\x1b",
	        "!",         "\xc2\xa0",   " \xe3\x80\x80",
	        "\xc3\xa9",  " \xc3\xa9 ", "\r\x0b\x0c"};
	static const char *const mids[] = {"", "x", "a b", "\xc2\xa0"};
	struct sl_arena a;
	sl_arena_create(&a, 4096, (size_t)16 << 20);
	struct sl_norm trim = {{SL_NORM_TRIM}, 1};
	size_t ne = sizeof(ends) / sizeof(ends[0]);
	int bad = 0, cases = 0;
	for (size_t i = 0; i < ne; i++)
		for (size_t k = 0; k < sizeof(mids) / sizeof(mids[0]); k++)
			for (size_t j = 0; j < ne; j++) {
				char buf[64];
				int n = snprintf(buf, sizeof(buf), "%s%s%s",
				                 ends[i], mids[k], ends[j]);
				struct sl_value v =
				        sl_str_ref(buf, (uint32_t)n);
				struct sl_value w = v;
				cases++;
				if (sl_norm_apply_inline(&trim, &v, &a) != 0 ||
				    sl_norm_apply_op(SL_NORM_TRIM, &w, &a) !=
				            0 ||
				    v.len != w.len ||
				    memcmp(v.u.s, w.u.s, v.len) != 0) {
					if (bad++ < 5)
						printf("#   '%s': '%.*s' / "
						       "'%.*s'\n",
						       buf, (int)v.len, v.u.s,
						       (int)w.len, w.u.s);
				}
			}
	ok(bad == 0, "%d strings trimmed as by the general path", cases);
	sl_arena_destroy(&a);
}

/**
 * The interpretations of fast_relationships: relationships of static
 * types whose mappings are field paths and literals (apply_rel_fast(),
 * the plan of values) with every normalization of keys. FAST_PLAN: as
 * they are; FAST_GENERAL (`iterate_on: '@'`): the same through the
 * general path; FAST_UNPLANNED: the source node in `before_iteration`
 * (propmap_direct()) and each relationship over its own `iterate_on:
 * '@'` (apply_rel_fast() without the plan of values).
 */
enum fast_mode { FAST_PLAN, FAST_GENERAL, FAST_UNPLANNED };

/** fast_relationships' interpretations in `mode` (enum fast_mode). */
static void
fast_case_args(char *args, size_t size, enum fast_mode mode)
{
	bool un = mode == FAST_UNPLANNED;
	const char *each = un ? "        iterate_on: !jmespath '@'\n" : "";
	snprintf(args, size,
	         "%s"
	         "%s"
	         "      - type: source_node\n"
	         "        node_type: P\n"
	         "        key: {id: !jmespath id}\n"
	         "        properties: {n: !jmespath n, c: 7}\n"
	         "%s"
	         "      - type: relationship\n"
	         "        node_type: Team\n"
	         "        relationship_type: IN\n"
	         "%s"
	         "        node_key: {name: !jmespath t.name}\n"
	         "        node_properties: {l: !jmespath t.l, x: !jmespath x, "
	         "k: lit}\n"
	         "        relationship_properties: {s: !jmespath t.s}\n"
	         "      - type: relationship\n"
	         "        node_type: Pos\n"
	         "        relationship_type: AT\n"
	         "%s"
	         "        outbound: false\n"
	         "        node_key: {name: !jmespath p}\n"
	         "        key_normalization:\n"
	         "          do_trim_whitespace: true\n"
	         "          do_lowercase_strings: false\n"
	         "        node_update_last_ingested: false\n"
	         "        relationship_update_last_ingested: false\n"
	         "      - type: relationship\n"
	         "        node_type: Skill\n"
	         "        relationship_type: HAS\n"
	         "%s"
	         "        find_many: true\n"
	         "        node_key: {name: !jmespath sk, level: !jmespath lv}\n"
	         "        node_properties: {o: !jmespath n}\n"
	         "      - type: relationship\n"
	         "        node_type: Tag\n"
	         "        relationship_type: TAGGED\n"
	         "%s"
	         "        node_key: {a: !jmespath tag, b: 1}\n",
	         mode == FAST_GENERAL ? "    iterate_on: !jmespath '@'\n" : "",
	         un ? "    before_iteration:\n" : "    interpretations:\n",
	         un ? "    interpretations:\n" : "", each, each, each, each);
}

/**
 * fast_relationships' records: keys of every length with capitals and
 * non-ASCII text at every place, numbers, arrays, objects, nulls and
 * long strings. Returns how many.
 */
static uint32_t
fast_records(char *records, size_t size)
{
	static const char *const words[] = {
	        "",
	        "A",
	        "bC",
	        "DeF",
	        "gHiJ",
	        "Club 54",
	        "N159",
	        "SKILL 2260",
	        "abcdefgH",
	        "Abcdefghijklmno",
	        "ABCDEFGHIJKLMNOP",
	        "ÉCOLE",
	        "aÉ",
	        "Straße X",
	        "ÜBER LONG SKILL NAME 1",
	        "a biography of more than sixteen bytes",
	        " cm ",
	        "\\t ST\\t",
	};
	uint32_t nw = sizeof(words) / sizeof(words[0]);
	size_t rl = (size_t)snprintf(records, size, "[");
	for (uint32_t i = 0; i < nw; i++) {
		const char *w = words[i], *v = words[(i + 5) % nw];
		rl += (size_t)snprintf(
		        records + rl, size - rl,
		        "%s{\"id\": \"%s%u\", \"n\": \"%s\", \"t\": {\"name\": "
		        "\"%s\", \"l\": %s, \"s\": %s%u}, \"x\": %s, \"p\": "
		        "\"%s\", "
		        "\"sk\": [\"%s\", \"%s\", %s], \"lv\": [%u, \"%s\", "
		        "3], "
		        "\"tag\": %s}",
		        i > 0 ? ", " : "", w, i, v, w,
		        i % 3 == 0 ? "[\"First\", 2]" : "\"League\"",
		        i % 2 == 0 ? "" : "123456789012345678901234567890.", i,
		        i % 4 == 0   ? "{\"o\": [1, \"Two\"]}"
		        : i % 4 == 1 ? "2.50"
		        : i % 4 == 2 ? "null"
		                     : "\"XyZ\"",
		        w, w, v, i % 5 == 0 ? "null" : "\"Z\"", i, v,
		        i % 6 == 0   ? "null"
		        : i % 6 == 1 ? "12"
		                     : "[\"T\", \"u\"]");
	}
	snprintf(records + rl, size - rl, "]");
	return nw;
}

/** Run fast_relationships' interpretations in `mode` over `records`. */
static void
fast_run(enum fast_mode mode, const char *records, struct hres *res)
{
	char args[4096], step[4608];
	fast_case_args(args, sizeof(args), mode);
	snprintf(step, sizeof(step),
	         "- implementation: interpreter\n  arguments:\n%s", args);
	harness_run_stem(step, records, true, false, "s", res);
}

/**
 * Run `r` (a path named `name`) and the general path `gen` over `nw`
 * records: both run and emit every record, make the same ingestions
 * (`what`), and skip the same related nodes (some: null keys).
 */
static void
same_as_general(const struct hres *r, const char *name, const struct hres *gen,
                uint32_t nw, const char *what)
{
	ok(r->rc == 0 && gen->rc == 0 && r->emitted == nw && gen->emitted == nw,
	   "both paths run (%s%s)", r->err, gen->err);
	if (!ok(strcmp(r->out, gen->out) == 0, "%s", what))
		printf("#   %s: %.2000s\n#   gen:  %.2000s\n", name, r->out,
		       gen->out);
	ok(r->skipped == gen->skipped && r->skipped > 0,
	   "the same related nodes are skipped (null keys): %llu",
	   (unsigned long long)r->skipped);
}

/**
 * Relationships built straight into one block each (apply_rel_fast()),
 * their values found with the record's others (the plan of values) and
 * keys lowercased as they are copied, make the same ingestions as the
 * general path, over keys of every length with capitals and non-ASCII
 * text at every place, numbers, arrays, objects, nulls and long strings.
 */
TAP_CASE(fast_relationships)
{
	char records[16384];
	uint32_t nw = fast_records(records, sizeof(records));
	char args[4096];
	struct hres fast, gen;
	fast_run(FAST_PLAN, records, &fast);
	fast_run(FAST_GENERAL, records, &gen);
	same_as_general(&fast, "fast", &gen, nw,
	                "the fast path makes the ingestions of the general "
	                "one");

	/* Exact ingestions of a few records. */
	fast_case_args(args, sizeof(args), FAST_PLAN);
	expect(args,
	       "[{id: AbC, n: Nm, t: {name: 'Club 54', l: [First, 2], s: 9}, "
	       "x: XyZ, p: ' CM ', sk: ['SKILL 2260', 'ÉCOLE x', 'Straße "
	       "ABCDEFGHIJKL'], lv: [1, 2, 3], tag: T}]",
	       "P{\"id\":\"abc\"}(\"c\":7,\"n\":\"Nm\") "
	       "-[IN(\"s\":9)]-> Team{\"name\":\"club 54\"}(\"k\":\"lit\","
	       "\"l\":\"First\",\"x\":\"XyZ\") "
	       "<-[AT]- Pos{\"name\":\"CM\"} "
	       "-[HAS]-> Skill{\"level\":1,\"name\":\"skill 2260\"}"
	       "(\"o\":\"Nm\") "
	       "-[HAS]-> Skill{\"level\":2,\"name\":\"école x\"}(\"o\":\"Nm\") "
	       "-[HAS]-> Skill{\"level\":3,\"name\":\"straße abcdefghijkl\"}"
	       "(\"o\":\"Nm\") "
	       "-[TAGGED]-> Tag{\"a\":\"t\",\"b\":1}\n",
	       "keys lowercased as they are copied (ASCII words, non-ASCII "
	       "text), trimmed, the first item of an array");
	expect_error(args, "[{id: A, t: {name: x}, p: y, sk: [a, b], lv: [1]}]",
	             "node keys of find_many do not have a consistent length",
	             "find_many keys of different lengths are refused");
}

/**
 * Values kept in the output before their sets are built (keep_values())
 * where the plan of values does not serve: a plain source node of
 * `before_iteration` (propmap_direct()) and fast relationships over their
 * own `iterate_on` (apply_rel_fast() finding its values itself) make the
 * ingestions of the general path over fast_relationships' records (null,
 * missing and non-string keys, arrays of mixed types, normalization on
 * and off, texts longer than 16 bytes).
 */
TAP_CASE(fast_unplanned)
{
	static char records[16384];
	static struct hres un, gen;
	uint32_t nw = fast_records(records, sizeof(records));
	fast_run(FAST_UNPLANNED, records, &un);
	fast_run(FAST_GENERAL, records, &gen);
	same_as_general(&un, "unplanned", &gen, nw,
	                "values kept without the plan make the general path's "
	                "ingestions");
}

/**
 * The blocks of the plan's relationships of one related node each, made
 * with the plan's values (plan_run()): each relationship writes its own,
 * one left unused when its condition is false or its key has a null.
 */
TAP_CASE(fast_fixed_blocks)
{
	const char *args =
	        "    interpretations:\n"
	        "      - type: source_node\n"
	        "        node_type: P\n"
	        "        key: {id: !jmespath id}\n"
	        "      - type: relationship\n"
	        "        node_type: A\n"
	        "        relationship_type: R1\n"
	        "        condition: {type: compare, left: !jmespath n, "
	        "operator: greater_than, right: 1}\n"
	        "        node_key: {k: !jmespath a}\n"
	        "      - type: relationship\n"
	        "        node_type: S\n"
	        "        relationship_type: HAS\n"
	        "        find_many: true\n"
	        "        node_key: {k: !jmespath s}\n"
	        "      - type: relationship\n"
	        "        node_type: B\n"
	        "        relationship_type: R2\n"
	        "        node_key: {k: !jmespath b, j: !jmespath a}\n"
	        "        node_properties: {p: !jmespath n, q: "
	        "!jmespath long}\n";
	expect(args,
	       "[{id: X, a: Aa, b: Bb, n: 2, s: [S1, 'A Long Skill Name Of "
	       "Many Bytes'], long: 'Some Text Of More Than Sixteen Bytes'}, "
	       "{id: Y, a: Cc, b: Dd, n: 1, s: []}, "
	       "{id: Z, a: null, b: Ee, n: 3, s: [T]}]",
	       "P{\"id\":\"x\"} -[R1]-> A{\"k\":\"aa\"} "
	       "-[HAS]-> S{\"k\":\"s1\"} "
	       "-[HAS]-> S{\"k\":\"a long skill name of many bytes\"} "
	       "-[R2]-> B{\"j\":\"aa\",\"k\":\"bb\"}(\"p\":2,"
	       "\"q\":\"Some Text Of More Than Sixteen Bytes\")\n"
	       "P{\"id\":\"y\"} -[R2]-> B{\"j\":\"cc\",\"k\":\"dd\"}"
	       "(\"p\":1,\"q\":null)\n"
	       "P{\"id\":\"z\"} -[HAS]-> S{\"k\":\"t\"}\n",
	       "each relationship of one node in its own block; a false "
	       "condition or a null key leaves its block unused");
}

/**
 * Run the interpretations `body` (the lines after `interpretations:`)
 * over `records` directly and through the general path (`iterate_on:
 * '@'`), with the automatic properties shown, and check they agree.
 */
static void
same_both_ways(const char *body, const char *records, const char *name)
{
	static char step[8192];
	static struct hres direct, gen;
	snprintf(step, sizeof(step),
	         "- implementation: interpreter\n  arguments:\n"
	         "    interpretations:\n%s",
	         body);
	harness_run_stem(step, records, true, false, "s", &direct);
	snprintf(step, sizeof(step),
	         "- implementation: interpreter\n  arguments:\n"
	         "    iterate_on: !jmespath '@'\n"
	         "    interpretations:\n%s",
	         body);
	harness_run_stem(step, records, true, false, "s", &gen);
	if (!ok(direct.rc == 0 && gen.rc == 0 &&
	                direct.emitted == gen.emitted && direct.emitted > 0 &&
	                direct.skipped == gen.skipped &&
	                strcmp(direct.out, gen.out) == 0,
	        "%s", name))
		printf("#   direct: %.2000s (%s)\n#   gen:    %.2000s (%s)\n",
		       direct.out, direct.err, gen.out, gen.err);
}

/**
 * A pass of a plain source node and fast relationships is run by
 * run_fast(): the source node's sets as one block (its automatic
 * properties with or without last_ingested_at), a key with a null
 * skipping the record, and the same ingestions as the general path.
 */
TAP_CASE(fast_run_source)
{
	const char *recs =
	        "[{id: Ab, n: 1, s: [x, Y], t: {name: T1}}, "
	        "{id: 12, n: 'A Name Longer Than Sixteen', s: [], t: {}}, "
	        "{id: null, n: 3, s: [z], t: {name: T3}}, "
	        "{n: 4, t: {name: T4}}, "
	        "{id: [Arr, 2], n: {o: 1}, s: [null, W], t: {name: null}}]";
	const char *rels = "      - type: relationship\n"
	                   "        node_type: T\n"
	                   "        relationship_type: IN\n"
	                   "        node_key: {name: !jmespath t.name}\n"
	                   "      - type: relationship\n"
	                   "        node_type: S\n"
	                   "        relationship_type: HAS\n"
	                   "        find_many: true\n"
	                   "        node_key: {k: !jmespath s}\n"
	                   "        node_properties: {n: !jmespath n}\n";
	char body[4096];
	for (int last = 0; last < 2; last++) {
		snprintf(body, sizeof(body),
		         "      - type: source_node\n"
		         "        node_type: P\n"
		         "        update_last_ingested: %s\n"
		         "        key: {id: !jmespath id, c: lit}\n"
		         "        properties: {n: !jmespath n, t: !jmespath "
		         "t.name}\n"
		         "%s",
		         last ? "true" : "false", rels);
		same_both_ways(body, recs,
		               last ? "run_fast(): source node with "
		                      "last_ingested_at"
		                    : "run_fast(): source node without "
		                      "last_ingested_at");
	}
	snprintf(body, sizeof(body),
	         "      - type: source_node\n"
	         "        node_type: P\n"
	         "        key: {id: !jmespath id}\n"
	         "%s",
	         rels);
	same_both_ways(body, recs,
	               "run_fast(): source node without properties");

	/* Keys of 80,000 bytes of non-ASCII text are lowercased into the
	 * scratch arena past its chunk (scratch_reset() then resets it in
	 * full; the node is skipped for its null second key), records
	 * before, between and after them rewind it. */
	static char big[200000];
	size_t bl =
	        (size_t)snprintf(big, sizeof(big), "[{id: a, s: [x], l: [1]}");
	for (int k = 0; k < 2; k++) {
		bl += (size_t)snprintf(big + bl, sizeof(big) - bl,
		                       ", {id: b%d, l: [null], s: ['", k);
		for (uint32_t i = 0; i < 40000; i++)
			bl += (size_t)snprintf(big + bl, sizeof(big) - bl, "É");
		bl += (size_t)snprintf(big + bl, sizeof(big) - bl,
		                       "']}, {id: c%d, s: [y, Z], l: [2, 3]}",
		                       k);
	}
	snprintf(big + bl, sizeof(big) - bl, ", {id: d, s: [w], l: [4]}]");
	same_both_ways("      - type: source_node\n"
	               "        node_type: P\n"
	               "        key: {id: !jmespath id}\n"
	               "      - type: relationship\n"
	               "        node_type: S\n"
	               "        relationship_type: HAS\n"
	               "        find_many: true\n"
	               "        node_key: {k: !jmespath s, l: !jmespath l}\n",
	               big,
	               "run_fast(): a record past the scratch arena's first "
	               "chunk, and records after it");
	expect("    interpretations:\n"
	       "      - type: source_node\n"
	       "        node_type: P\n"
	       "        key: {id: !jmespath id}\n"
	       "        properties: {n: !jmespath n}\n"
	       "      - type: relationship\n"
	       "        node_type: T\n"
	       "        relationship_type: IN\n"
	       "        node_key: {name: !jmespath t}\n",
	       "[{id: A, n: 1, t: X}, {id: null, n: 2, t: Y}, {id: B, t: Z}]",
	       "P{\"id\":\"a\"}(\"n\":1) -[IN]-> T{\"name\":\"x\"}\n"
	       "P{\"id\":\"b\"}(\"n\":null) -[IN]-> T{\"name\":\"z\"}\n",
	       "run_fast(): a null source key skips the record");
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
