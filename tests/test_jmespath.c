/*
 * JMESPath (sluice/jmespath.h): a table of expressions with their input
 * and expected result or error, covering every grammar rule and function
 * and the Python `jmespath` package's behaviours; then field detection,
 * key order, allocation-free evaluation, arena caps, allocation failure
 * at every point, limits, and a deep expression on a task stack.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/jmespath.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "unit.h"
#include "doubling.h"

/**
 * One case: `expr` over `doc` gives the JSON `want`, or, when `want`
 * starts with '!', fails: "!EPARSE:text" (a compile error whose message
 * contains text), "!ELIMIT", "!invalid-type", "!invalid-arity".
 */
struct tcase {
	/** Expression. */
	const char *expr;
	/** Input JSON. */
	const char *doc;
	/** Expected JSON (compared canonically), or an error. */
	const char *want;
};

/** A document used by many cases. */
#define PEOPLE                                                             \
	"{\"people\":[{\"name\":\"a\",\"age\":30,\"tags\":[\"x\",\"y\"]}," \
	"{\"name\":\"b\",\"age\":25.5,\"tags\":[]},"                       \
	"{\"name\":\"c\",\"tags\":[\"z\"]},"                               \
	"{\"name\":\"d\",\"age\":40,\"tags\":null}]}"

/** The table. */
static const struct tcase cases[] = {
        /* Identifiers, sub-expressions. */
        {"a", "{\"a\":1}", "1"},
        {"a", "{\"b\":1}", "null"},
        {"a", "[1]", "null"},
        {"a", "\"a\"", "null"},
        {"a.b", "{\"a\":{\"b\":2}}", "2"},
        {"a.b.c", "{\"a\":{\"b\":{\"c\":true}}}", "true"},
        {"a.b.c", "{\"a\":{\"b\":5}}", "null"},
        {"a.b.c", "{\"a\":null}", "null"},
        {"a.b", "{\"a\":[{\"b\":1}]}", "null"},
        {"_x1", "{\"_x1\":\"v\"}", "\"v\""},
        {"A_b", "{\"A_b\":0}", "0"},
        {"a", "{\"a\":1,\"a\":2}", "2"},
        {"a.b", "{\"a\":{\"b\":1},\"a\":{\"b\":3}}", "3"},
        {"\"a b\"", "{\"a b\":1}", "1"},
        {"\"\"", "{\"\":7}", "7"},
        {"\"\\u00e9\"", "{\"\xc3\xa9\":1}", "1"},
        {"\"a\\\"b\"", "{\"a\\\"b\":1}", "1"},
        {"\"a\\\\b\"", "{\"a\\\\b\":2}", "2"},
        {"\"1\"", "{\"1\":\"one\"}", "\"one\""},
        {"a.\"b.c\"", "{\"a\":{\"b.c\":4}}", "4"},
        {"\"a\".\"b\"", "{\"a\":{\"b\":5}}", "5"},
        {"  a  .  b  ", "{\"a\":{\"b\":6}}", "6"},
        {"a\n.\tb", "{\"a\":{\"b\":6}}", "6"},
        {"a.b.c.d.e.f.g",
         "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":1}}}}}}}", "1"},
        /* Index. */
        {"[0]", "[1,2,3]", "1"},
        {"[2]", "[1,2,3]", "3"},
        {"[3]", "[1,2,3]", "null"},
        {"[-1]", "[1,2,3]", "3"},
        {"[-3]", "[1,2,3]", "1"},
        {"[-4]", "[1,2,3]", "null"},
        {"[0]", "{\"0\":1}", "null"},
        {"[0]", "\"abc\"", "null"},
        {"a[1]", "{\"a\":[5,6]}", "6"},
        {"a[0][1]", "{\"a\":[[1,2],[3]]}", "2"},
        {"a[1].b", "{\"a\":[{\"b\":1},{\"b\":2}]}", "2"},
        {"a.b[0].c", "{\"a\":{\"b\":[{\"c\":9}]}}", "9"},
        {"[99999999999999999999]", "[1]", "null"},
        {"[-99999999999999999999]", "[1]", "null"},
        /* Slices. */
        {"[0:2]", "[0,1,2,3]", "[0,1]"},
        {"[1:]", "[0,1,2,3]", "[1,2,3]"},
        {"[:2]", "[0,1,2,3]", "[0,1]"},
        {"[:]", "[0,1,2,3]", "[0,1,2,3]"},
        {"[::]", "[0,1,2,3]", "[0,1,2,3]"},
        {"[::2]", "[0,1,2,3,4]", "[0,2,4]"},
        {"[1::2]", "[0,1,2,3,4]", "[1,3]"},
        {"[::-1]", "[0,1,2,3]", "[3,2,1,0]"},
        {"[::-2]", "[0,1,2,3,4]", "[4,2,0]"},
        {"[3:0:-1]", "[0,1,2,3,4]", "[3,2,1]"},
        {"[-1:-3:-1]", "[0,1,2,3,4]", "[4,3]"},
        {"[-2:]", "[0,1,2,3,4]", "[3,4]"},
        {"[:-2]", "[0,1,2,3,4]", "[0,1,2]"},
        {"[10:]", "[0,1,2]", "[]"},
        {"[:10]", "[0,1,2]", "[0,1,2]"},
        {"[-10:]", "[0,1,2]", "[0,1,2]"},
        {"[-10:-20]", "[0,1,2]", "[]"},
        {"[2:1]", "[0,1,2]", "[]"},
        {"[10:0:-1]", "[0,1,2,3]", "[3,2,1]"},
        {"[0:10:-1]", "[0,1,2,3]", "[]"},
        {"[:-10:-1]", "[0,1,2]", "[2,1,0]"},
        {"[-10::-1]", "[0,1,2]", "[]"},
        {"[::3]", "[]", "[]"},
        {"[::-1]", "[]", "[]"},
        {"[0:1]", "{\"a\":1}", "null"},
        {"[0:1]", "\"abc\"", "null"},
        {"[::0]", "[1]", "!EPARSE:column 4: invalid-value"},
        {"[1:2:3:4]", "[1]", "!EPARSE:column 7: expected a number or ']'"},
        {"[1 2]", "[1]", "!EPARSE:column 4: expected ']'"},
        {"a[0:2].b", "{\"a\":[{\"b\":1},{\"b\":2},{\"b\":3}]}", "[1,2]"},
        {"a[::-1].b", "{\"a\":[{\"b\":1},{\"c\":2},{\"b\":3}]}", "[3,1]"},
        {"[1:3][0]", "[0,1,2,3]", "[]"},
        {"[1:3] | [0]", "[0,1,2,3]", "1"},
        /* List projections. */
        {"[*]", "[1,null,2]", "[1,2]"},
        {"[*].a", "[{\"a\":1},{\"b\":2},{\"a\":3}]", "[1,3]"},
        {"a[*].b", "{\"a\":[{\"b\":1},{\"b\":[2]}]}", "[1,[2]]"},
        {"a[*].b", "{\"a\":{\"b\":1}}", "null"},
        {"a[*].b", "{\"a\":null}", "null"},
        {"a[*].b", "{}", "null"},
        {"a[*]", "{\"a\":[]}", "[]"},
        {"a[*].b.c", "{\"a\":[{\"b\":{\"c\":1}},{\"b\":2},{\"b\":{\"c\":3}}]}",
         "[1,3]"},
        {"a[*].b[*].c",
         "{\"a\":[{\"b\":[{\"c\":1},{\"c\":2}]},{\"b\":[{\"c\":3}]},{\"x\":1}]"
         "}",
         "[[1,2],[3]]"},
        {"a[*].b[0]", "{\"a\":[{\"b\":[1,2]},{\"b\":[]},{\"b\":[3]}]}",
         "[1,3]"},
        {"a[*][0]", "{\"a\":[[1,2],[3],[]]}", "[1,3]"},
        {"[*][*]", "[[1,2],[3]]", "[[1,2],[3]]"},
        {"a[*] | [0]", "{\"a\":[{\"b\":1},{\"b\":2}]}", "{\"b\":1}"},
        {"a[*].b | [0]", "{\"a\":[{\"b\":1},{\"b\":2}]}", "1"},
        {"a[*].b[0]", "{\"a\":[{\"b\":1},{\"b\":2}]}", "[]"},
        /* Object projections. */
        {"*", "{\"a\":1,\"b\":2}", "[1,2]"},
        {"*.a", "{\"x\":{\"a\":1},\"y\":{\"b\":2},\"z\":{\"a\":3}}", "[1,3]"},
        {"a.*", "{\"a\":{\"x\":1,\"y\":null,\"z\":3}}", "[1,3]"},
        {"a.*.b", "{\"a\":{\"x\":{\"b\":1},\"y\":{\"b\":2}}}", "[1,2]"},
        {"*", "[1,2]", "null"},
        {"a.*", "{\"a\":[1]}", "null"},
        {"*", "{}", "[]"},
        {"*.*", "{\"a\":{\"x\":1},\"b\":{\"y\":2},\"c\":3}", "[[1],[2]]"},
        {"*[0]", "{\"a\":[1,2],\"b\":[3],\"c\":[]}", "[1,3]"},
        {"a.*[*]", "{\"a\":{\"x\":[1,2],\"y\":[3]}}", "[[1,2],[3]]"},
        /* Flatten. */
        {"[]", "[[1,2],[3],4,[]]", "[1,2,3,4]"},
        {"[]", "[[1,[2]],null,[null]]", "[1,[2]]"},
        {"[][]", "[[1,[2]],[[3]]]", "[1,2,3]"},
        {"a[]", "{\"a\":{\"b\":1}}", "null"},
        {"a[]", "{}", "null"},
        {"a[].b", "{\"a\":[[{\"b\":1}],{\"b\":2},[{\"c\":3}]]}", "[1,2]"},
        {"a[].b[]", "{\"a\":[{\"b\":[1,2]},{\"b\":[3]},{\"b\":4}]}",
         "[1,2,3,4]"},
        {"a[*].b[]", "{\"a\":[{\"b\":[1,2]},{\"b\":[3]}]}", "[1,2,3]"},
        {"(a[*].b)[]", "{\"a\":[{\"b\":[1,2]},{\"b\":[3]}]}", "[1,2,3]"},
        {"a[*].[b][]", "{\"a\":[{\"b\":1},{\"b\":2}]}", "[1,2]"},
        {"a[*].b[] | []", "{\"a\":[{\"b\":[1,2]},{\"b\":[3]}]}", "[1,2,3]"},
        {"a[][0]", "{\"a\":[[1,2],[3,4]]}", "[]"},
        {"a[] | [0]", "{\"a\":[[1,2],[3,4]]}", "1"},
        {"[].a", "[{\"a\":1},[{\"a\":2}],{\"b\":3}]", "[1,2]"},
        /* Filters. */
        {"[?a]", "[{\"a\":1},{\"a\":0},{\"a\":false},{\"a\":\"\"},{\"b\":1}]",
         "[{\"a\":1},{\"a\":0}]"},
        {"[?a == `1`]", "[{\"a\":1},{\"a\":2},{\"a\":1.0}]",
         "[{\"a\":1},{\"a\":1.0}]"},
        {"[?a > `1`].a", "[{\"a\":1},{\"a\":2},{\"a\":3}]", "[2,3]"},
        {"[?a >= `2`].a", "[{\"a\":1},{\"a\":2},{\"a\":3}]", "[2,3]"},
        {"[?a < `2`].a", "[{\"a\":1},{\"a\":2},{\"a\":\"0\"}]", "[1]"},
        {"[?a <= `2`].a", "[{\"a\":1},{\"a\":2},{\"a\":3}]", "[1,2]"},
        {"[?a != `2`].a", "[{\"a\":1},{\"a\":2},{\"b\":3}]", "[1]"},
        {"[?a != `null`].a", "[{\"a\":1},{\"a\":null},{\"b\":3}]", "[1]"},
        {"[?a == b]", "[{\"a\":1,\"b\":1},{\"a\":1,\"b\":2}]",
         "[{\"a\":1,\"b\":1}]"},
        {"people[?age > `26`].name", PEOPLE, "[\"a\",\"d\"]"},
        {"people[?age].name", PEOPLE, "[\"a\",\"b\",\"d\"]"},
        {"people[?!age].name", PEOPLE, "[\"c\"]"},
        {"people[?tags].name", PEOPLE, "[\"a\",\"c\"]"},
        {"people[?tags[0] == 'x'].name", PEOPLE, "[\"a\"]"},
        {"people[?contains(tags || `[]`, 'z')].name", PEOPLE, "[\"c\"]"},
        {"people[?age > `20` && age < `35`].name", PEOPLE, "[\"a\",\"b\"]"},
        {"people[?age < `26` || name == 'c'].name", PEOPLE, "[\"b\",\"c\"]"},
        {"people[?(age > `26` || name == 'c') && name != 'd'].name", PEOPLE,
         "[\"a\",\"c\"]"},
        {"people[?age > `26`] | [0].name", PEOPLE, "\"a\""},
        {"people[?age > `26`].tags[]", PEOPLE, "[\"x\",\"y\"]"},
        {"[?@ > `1`]", "[1,2,3]", "[2,3]"},
        {"[?@ == 'a']", "[\"a\",\"b\",\"a\"]", "[\"a\",\"a\"]"},
        {"a[?b]", "{\"a\":{\"b\":1}}", "null"},
        {"a[?b]", "{}", "null"},
        {"*[?a]", "{\"x\":[{\"a\":1},{\"b\":2}],\"y\":[{\"a\":3}]}",
         "[[{\"a\":1}],[{\"a\":3}]]"},
        {"*[?a][]", "{\"x\":[{\"a\":1},{\"b\":2}],\"y\":[{\"a\":3}]}",
         "[{\"a\":1},{\"a\":3}]"},
        {"a[?b][]", "{\"a\":[{\"b\":[1]},{\"b\":[2,3]}]}",
         "[{\"b\":[1]},{\"b\":[2,3]}]"},
        {"a[?b].b[]", "{\"a\":[{\"b\":[1]},{\"b\":[2,3]}]}", "[1,2,3]"},
        {"a[?b[?c]].d",
         "{\"a\":[{\"b\":[{\"c\":1}],\"d\":1},{\"b\":[{\"x\":1}],\"d\":2}]}",
         "[1]"},
        {"[?a.b == `[1,2]`].id",
         "[{\"a\":{\"b\":[1,2]},\"id\":1},{\"a\":{\"b\":[2,1]},\"id\":2}]",
         "[1]"},
        {"[?a == `{\"x\":1,\"y\":2}`].id",
         "[{\"a\":{\"y\":2,\"x\":1},\"id\":1},{\"a\":{\"x\":1},\"id\":2}]",
         "[1]"},
        {"[?`true`]", "[1,2]", "[1,2]"},
        {"[?`false`]", "[1,2]", "[]"},
        /* Comparisons. */
        {"a == b", "{\"a\":1,\"b\":1.0}", "true"},
        {"a == b", "{\"a\":1,\"b\":\"1\"}", "false"},
        {"a == b", "{\"a\":1,\"b\":true}", "false"},
        {"a == b", "{\"a\":0,\"b\":false}", "false"},
        {"a == b", "{\"a\":[1],\"b\":[true]}", "false"},
        {"a == b",
         "{\"a\":{\"x\":[1,{\"y\":null}]},\"b\":{\"x\":[1.0,{\"y\":null}]}}",
         "true"},
        {"a == b", "{\"a\":null}", "true"},
        {"a != b", "{\"a\":\"x\",\"b\":\"x\"}", "false"},
        {"a == b", "{\"a\":1e2,\"b\":100}", "true"},
        {"a < b", "{\"a\":1,\"b\":2.5}", "true"},
        {"a < b", "{\"a\":10,\"b\":9.99}", "false"},
        {"a <= b", "{\"a\":2,\"b\":2.0}", "true"},
        {"a > b", "{\"a\":1e1,\"b\":9}", "true"},
        {"a >= b", "{\"a\":-1,\"b\":-1}", "true"},
        {"a < b", "{\"a\":\"a\",\"b\":\"b\"}", "null"},
        {"a < b", "{\"a\":1,\"b\":\"2\"}", "null"},
        {"a < b", "{\"a\":true,\"b\":2}", "null"},
        {"a < b", "{\"a\":null,\"b\":2}", "null"},
        {"a > b", "{\"a\":[2],\"b\":[1]}", "null"},
        {"a < b", "{\"a\":9007199254740993,\"b\":9007199254740994}", "true"},
        {"`1` < `2`", "null", "true"},
        {"a == `1` == b", "{\"a\":1,\"b\":true}", "true"},
        /* And, or, not, parentheses. */
        {"a || b", "{\"a\":0,\"b\":1}", "0"},
        {"a || b", "{\"a\":\"\",\"b\":1}", "1"},
        {"a || b", "{\"a\":[],\"b\":{}}", "{}"},
        {"a || b", "{\"a\":{},\"b\":false}", "false"},
        {"a || b || c", "{\"c\":3}", "3"},
        {"a && b", "{\"a\":1,\"b\":2}", "2"},
        {"a && b", "{\"a\":[],\"b\":2}", "[]"},
        {"a && b", "{\"a\":null,\"b\":2}", "null"},
        {"a && b || c", "{\"a\":1,\"c\":3}", "3"},
        {"a || b && c", "{\"a\":1,\"c\":3}", "1"},
        {"(a || b) && c", "{\"a\":1,\"c\":3}", "3"},
        {"!a", "{\"a\":0}", "false"},
        {"!a", "{\"a\":\"\"}", "true"},
        {"!a", "{}", "true"},
        {"!!a", "{\"a\":[1]}", "true"},
        {"!a == b", "{\"a\":false,\"b\":true}", "true"},
        {"!(a == b)", "{\"a\":1,\"b\":2}", "true"},
        {"!a.b", "{\"a\":{\"b\":false}}", "null"},
        {"!(a.b)", "{\"a\":{\"b\":false}}", "true"},
        {"(a)", "{\"a\":1}", "1"},
        {"((a.b))", "{\"a\":{\"b\":1}}", "1"},
        {"(a).b", "{\"a\":{\"b\":1}}", "1"},
        {"(a[*].b)[0]", "{\"a\":[{\"b\":1},{\"b\":2}]}", "1"},
        /* Multi-select lists. */
        {"[a, b]", "{\"a\":1,\"b\":2}", "[1,2]"},
        {"[a, c]", "{\"a\":1,\"b\":2}", "[1,null]"},
        {"[a]", "null", "null"},
        {"[a, b]", "[1]", "[null,null]"},
        {"a.[b, c]", "{\"a\":{\"b\":1,\"c\":2}}", "[1,2]"},
        {"a.[b, c]", "{\"a\":null}", "null"},
        {"[*].[a, b]", "[{\"a\":1,\"b\":2},{\"a\":3}]", "[[1,2],[3,null]]"},
        {"[[a], [b, [c]]]", "{\"a\":1,\"b\":2,\"c\":3}", "[[1],[2,[3]]]"},
        {"[a[0], b.c, `5`, 'x']", "{\"a\":[1],\"b\":{\"c\":2}}",
         "[1,2,5,\"x\"]"},
        {"[@, @]", "1", "[1,1]"},
        /* Multi-select hashes. */
        {"{x: a, y: b}", "{\"a\":1,\"b\":2}", "{\"x\":1,\"y\":2}"},
        {"{x: a, y: c}", "{\"a\":1}", "{\"x\":1,\"y\":null}"},
        {"{x: a}", "null", "null"},
        {"{\"x y\": a}", "{\"a\":1}", "{\"x y\":1}"},
        {"{x: a, x: b}", "{\"a\":1,\"b\":2}", "{\"x\":2}"},
        {"a.{x: b}", "{\"a\":{\"b\":1}}", "{\"x\":1}"},
        {"[*].{n: name, t: tags[0]}",
         "[{\"name\":\"a\",\"tags\":[\"x\"]},{\"name\":\"b\"}]",
         "[{\"n\":\"a\",\"t\":\"x\"},{\"n\":\"b\",\"t\":null}]"},
        {"{a: {b: a}}", "{\"a\":1}", "{\"a\":{\"b\":1}}"},
        {"{a: [a, a]}", "{\"a\":1}", "{\"a\":[1,1]}"},
        /* Pipes. */
        {"a | b", "{\"a\":{\"b\":1}}", "1"},
        {"a | b | c", "{\"a\":{\"b\":{\"c\":2}}}", "2"},
        {"a[*] | length(@)", "{\"a\":[1,2,3]}", "3"},
        {"[*].a | [1]", "[{\"a\":1},{\"a\":2}]", "2"},
        {"a || b | c", "{\"b\":{\"c\":1}}", "1"},
        {"a | b", "{\"a\":null}", "null"},
        /* Literals. */
        {"`1`", "null", "1"},
        {"`1.5`", "null", "1.5"},
        {"`-2e3`", "null", "-2e3"},
        {"`\"s\"`", "null", "\"s\""},
        {"`[1, {\"a\": null}]`", "null", "[1,{\"a\":null}]"},
        {"`{}`", "null", "{}"},
        {"`true`", "null", "true"},
        {"`null`", "{\"a\":1}", "null"},
        {"` 3 `", "null", "3"},
        {"`\"a\\`b\"`", "null", "\"a`b\""},
        {"`foo`", "null", "\"foo\""},
        {"`  foo`", "null", "\"foo\""},
        {"``", "null", "\"\""},
        {"`\"\\u00e9\"`", "null", "\"\xc3\xa9\""},
        {"'abc'", "null", "\"abc\""},
        {"''", "null", "\"\""},
        {"'a\\'b'", "null", "\"a'b\""},
        {"'a\\\\b'", "null", "\"a\\\\\\\\b\""},
        {"'a\\nb'", "null", "\"a\\\\nb\""},
        {"'\xc3\xa9'", "null", "\"\xc3\xa9\""},
        {"'a' == `\"a\"`", "null", "true"},
        {"`1` == `1.0`", "null", "true"},
        /* Current node. */
        {"@", "[1,2]", "[1,2]"},
        {"@.a", "{\"a\":1}", "1"},
        {"@.@", "{\"a\":1}",
         "!EPARSE:column 3: expected an identifier, '*', '[' or '{'"},
        {"a.@", "{}", "!EPARSE:column 3"},
        {"a[?@.b == `1`]", "{\"a\":[{\"b\":1},{\"b\":2}]}", "[{\"b\":1}]"},
        /* Expression references and sort_by/map/max_by/min_by. */
        {"sort_by(@, &a)[*].a", "[{\"a\":3},{\"a\":1},{\"a\":2}]", "[1,2,3]"},
        {"sort_by(@, &a)[*].b",
         "[{\"a\":1,\"b\":1},{\"a\":0,\"b\":2},{\"a\":1,\"b\":3}]", "[2,1,3]"},
        {"sort_by(@, &a)[*].a", "[{\"a\":\"b\"},{\"a\":\"a\"},{\"a\":\"c\"}]",
         "[\"a\",\"b\",\"c\"]"},
        {"sort_by(@, &a)", "[]", "[]"},
        {"sort_by(@, &a)", "[{\"a\":1},{\"a\":\"x\"}]", "!invalid-type"},
        {"sort_by(@, &a)", "[{\"a\":true}]", "!invalid-type"},
        {"sort_by(@, &a)", "[{\"a\":1},{\"b\":2}]", "!invalid-type"},
        {"sort_by(@, a)", "[{\"a\":1}]", "!invalid-type"},
        {"sort_by(@, &a)", "{\"a\":1}", "!invalid-type"},
        {"sort_by(@, &a.b)[*].id",
         "[{\"a\":{\"b\":2.5},\"id\":1},{\"a\":{\"b\":-1},\"id\":2}]", "[2,1]"},
        {"sort_by(@, &to_number(a))[*].a", "[{\"a\":\"10\"},{\"a\":\"9\"}]",
         "[\"9\",\"10\"]"},
        {"map(&a, @)", "[{\"a\":1},{\"b\":2},{\"a\":3}]", "[1,null,3]"},
        {"map(&[], @)", "[[1,[2]],[3]]", "[[1,2],[3]]"},
        {"map(&length(@), @)", "[\"ab\",[1],{}]", "[2,1,0]"},
        {"map(&a, @)", "{\"a\":1}", "!invalid-type"},
        {"map(a, @)", "[]", "!invalid-type"},
        {"map(&a)", "[]", "!invalid-arity"},
        {"max_by(@, &a).id",
         "[{\"a\":1,\"id\":1},{\"a\":3,\"id\":2},{\"a\":3,\"id\":3}]", "2"},
        {"min_by(@, &a).id",
         "[{\"a\":1,\"id\":1},{\"a\":1,\"id\":2},{\"a\":3,\"id\":3}]", "1"},
        {"max_by(@, &a).a", "[{\"a\":\"b\"},{\"a\":\"c\"},{\"a\":\"a\"}]",
         "\"c\""},
        {"min_by(@, &a).a", "[{\"a\":\"b\"},{\"a\":\"c\"},{\"a\":\"a\"}]",
         "\"a\""},
        {"max_by(@, &a)", "[]", "null"},
        {"min_by(@, &a)", "[]", "null"},
        {"max_by(@, &a)", "[{\"a\":1},{\"a\":\"2\"}]", "!invalid-type"},
        {"min_by(@, &a)", "[{\"a\":null}]", "!invalid-type"},
        {"max_by(@, &a)", "[{\"a\":[1]}]", "!invalid-type"},
        {"max_by(@)", "[]", "!invalid-arity"},
        {"&a", "{}", "!invalid-type"},
        {"[&a]", "{}", "!invalid-type"},
        /* abs, ceil, floor. */
        {"abs(@)", "-3", "3"},
        {"abs(@)", "3", "3"},
        {"abs(@)", "-2.5", "2.5"},
        {"abs(@)", "-9223372036854775808", "9223372036854775808.0"},
        {"abs(@)", "\"-1\"", "!invalid-type"},
        {"abs(@)", "true", "!invalid-type"},
        {"abs(`1`, `2`)", "null", "!invalid-arity"},
        {"abs()", "null", "!invalid-arity"},
        {"ceil(@)", "1.2", "2"},
        {"ceil(@)", "-1.2", "-1"},
        {"ceil(@)", "5", "5"},
        {"ceil(@)", "1e300", "1e300"},
        {"floor(@)", "1.8", "1"},
        {"floor(@)", "-1.2", "-2"},
        {"floor(@)", "7", "7"},
        {"floor(@)", "\"1\"", "!invalid-type"},
        {"ceil(@)", "null", "!invalid-type"},
        /* avg, sum, max, min. */
        {"avg(@)", "[1,2,3,4]", "2.5"},
        {"avg(@)", "[2,2]", "2.0"},
        {"avg(@)", "[]", "null"},
        {"avg(@)", "[1,\"2\"]", "!invalid-type"},
        {"avg(@)", "\"x\"", "!invalid-type"},
        {"sum(@)", "[1,2,3]", "6"},
        {"sum(@)", "[1,2.5]", "3.5"},
        {"sum(@)", "[]", "0"},
        {"sum(@)", "[1.5,1.5]", "3.0"},
        {"sum(@)", "[9223372036854775807,1]", "9223372036854775808.0"},
        {"sum(@)", "[true]", "!invalid-type"},
        {"sum(@)", "[1,null]", "!invalid-type"},
        {"max(@)", "[1,3,2]", "3"},
        {"max(@)", "[1,3.5,2]", "3.5"},
        {"max(@)", "[\"a\",\"c\",\"b\"]", "\"c\""},
        {"max(@)", "[]", "null"},
        {"max(@)", "[1,\"a\"]", "!invalid-type"},
        {"max(@)", "[\"a\",1]", "!invalid-type"},
        {"max(@)", "[[1]]", "!invalid-type"},
        {"min(@)", "[3,1,2]", "1"},
        {"min(@)", "[\"b\",\"a\",\"\xc3\xa9\"]", "\"a\""},
        {"max(@)", "[\"b\",\"a\",\"\xc3\xa9\"]", "\"\xc3\xa9\""},
        {"min(@)", "[]", "null"},
        {"min(@)", "{}", "!invalid-type"},
        {"min(@, @)", "[]", "!invalid-arity"},
        /* contains, starts_with, ends_with. */
        {"contains(@, 'b')", "[\"a\",\"b\"]", "true"},
        {"contains(@, 'c')", "[\"a\",\"b\"]", "false"},
        {"contains(@, `1`)", "[1.0,2]", "true"},
        {"contains(@, `1`)", "[true]", "false"},
        {"contains(@, `null`)", "[null]", "true"},
        {"contains(@, `[1]`)", "[[1],2]", "true"},
        {"contains(@, 'bc')", "\"abcd\"", "true"},
        {"contains(@, 'x')", "\"abcd\"", "false"},
        {"contains(@, '')", "\"abcd\"", "true"},
        {"contains(@, `1`)", "\"a1\"", "false"},
        {"contains(@, 'a')", "{\"a\":1}", "!invalid-type"},
        {"contains(@, 'a')", "null", "!invalid-type"},
        {"contains(@)", "[]", "!invalid-arity"},
        {"starts_with(@, 'ab')", "\"abc\"", "true"},
        {"starts_with(@, 'bc')", "\"abc\"", "false"},
        {"starts_with(@, '')", "\"abc\"", "true"},
        {"starts_with(@, 'abcd')", "\"abc\"", "false"},
        {"starts_with(@, `1`)", "\"abc\"", "!invalid-type"},
        {"starts_with(@, 'a')", "[\"a\"]", "!invalid-type"},
        {"ends_with(@, 'bc')", "\"abc\"", "true"},
        {"ends_with(@, 'ab')", "\"abc\"", "false"},
        {"ends_with(@, 'xabc')", "\"abc\"", "false"},
        {"ends_with(@)", "\"abc\"", "!invalid-arity"},
        /* join. */
        {"join(', ', @)", "[\"a\",\"b\",\"c\"]", "\"a, b, c\""},
        {"join('', @)", "[\"a\",\"b\"]", "\"ab\""},
        {"join('-', @)", "[\"a\"]", "\"a\""},
        {"join('-', @)", "[]", "\"\""},
        {"join('-', @)", "[\"a\",1]", "!invalid-type"},
        {"join(`1`, @)", "[\"a\"]", "!invalid-type"},
        {"join('-', @)", "\"ab\"", "!invalid-type"},
        {"join(@)", "[]", "!invalid-arity"},
        /* keys, values, merge. */
        {"keys(@)", "{\"b\":1,\"a\":2}", "[\"b\",\"a\"]"},
        {"keys(@)", "{}", "[]"},
        {"keys(@)", "[1]", "!invalid-type"},
        {"values(@)", "{\"b\":1,\"a\":[2]}", "[1,[2]]"},
        {"values(@)", "\"x\"", "!invalid-type"},
        {"values(@, @)", "{}", "!invalid-arity"},
        {"merge(a, b)", "{\"a\":{\"x\":1,\"y\":2},\"b\":{\"y\":3,\"z\":4}}",
         "{\"x\":1,\"y\":3,\"z\":4}"},
        {"merge(a)", "{\"a\":{\"x\":1}}", "{\"x\":1}"},
        {"merge(`{}`, `{}`)", "null", "{}"},
        {"merge(a, b, c)", "{\"a\":{\"x\":1},\"b\":{},\"c\":{\"x\":2}}",
         "{\"x\":2}"},
        {"merge(a, b)", "{\"a\":{\"x\":1},\"b\":null}", "!invalid-type"},
        {"merge()", "null", "!invalid-arity"},
        /* length, reverse, sort. */
        {"length(@)", "\"abc\"", "3"},
        {"length(@)", "\"\"", "0"},
        {"length(@)", "\"\xc3\xa9t\xc3\xa9\"", "3"},
        {"length(@)", "\"\xf0\x9f\x98\x80!\"", "2"},
        {"length(@)", "[1,2]", "2"},
        {"length(@)", "{\"a\":1}", "1"},
        {"length(@)", "1", "!invalid-type"},
        {"length(@)", "null", "!invalid-type"},
        {"length(@)", "true", "!invalid-type"},
        {"length('a', 'b')", "null", "!invalid-arity"},
        {"reverse(@)", "[1,2,3]", "[3,2,1]"},
        {"reverse(@)", "[]", "[]"},
        {"reverse(@)", "\"abc\"", "\"cba\""},
        {"reverse(@)", "\"\xc3\xa9x\xf0\x9f\x98\x80\"",
         "\"\xf0\x9f\x98\x80x\xc3\xa9\""},
        {"reverse(@)", "\"\"", "\"\""},
        {"reverse(@)", "{}", "!invalid-type"},
        {"sort(@)", "[3,1,2.5]", "[1,2.5,3]"},
        {"sort(@)", "[\"b\",\"a\",\"B\"]", "[\"B\",\"a\",\"b\"]"},
        {"sort(@)", "[]", "[]"},
        {"sort(@)", "[1,\"a\"]", "!invalid-type"},
        {"sort(@)", "[null]", "!invalid-type"},
        {"sort(@)", "[[2],[1]]", "!invalid-type"},
        {"sort(@)", "\"cba\"", "!invalid-type"},
        {"sort(@)[0]", "[-1e3, 5, -2]", "-1e3"},
        /* not_null, to_array, to_number, to_string, type. */
        {"not_null(a, b, c)", "{\"b\":2,\"c\":3}", "2"},
        {"not_null(a, b)", "{\"a\":false,\"b\":1}", "false"},
        {"not_null(a)", "{}", "null"},
        {"not_null()", "{}", "!invalid-arity"},
        {"to_array(@)", "[1]", "[1]"},
        {"to_array(@)", "1", "[1]"},
        {"to_array(@)", "null", "[null]"},
        {"to_array(@)", "{\"a\":1}", "[{\"a\":1}]"},
        {"to_number(@)", "\"12\"", "12"},
        {"to_number(@)", "\"-1.5\"", "-1.5"},
        {"to_number(@)", "\"1e3\"", "1000.0"},
        {"to_number(@)", "\" 42 \"", "42"},
        {"to_number(@)", "\"1_000\"", "1000"},
        {"to_number(@)", "\"+7\"", "7"},
        {"to_number(@)", "\".5\"", "0.5"},
        {"to_number(@)", "\"5.\"", "5.0"},
        {"to_number(@)", "\"abc\"", "null"},
        {"to_number(@)", "\"\"", "null"},
        {"to_number(@)", "\"1e\"", "null"},
        {"to_number(@)", "\"1_\"", "null"},
        {"to_number(@)", "\"0x10\"", "null"},
        {"to_number(@)", "\"99999999999999999999\"", "1e20"},
        {"to_number(@)", "3", "3"},
        {"to_number(@)", "2.5", "2.5"},
        {"to_number(@)", "true", "null"},
        {"to_number(@)", "null", "null"},
        {"to_number(@)", "[1]", "null"},
        {"to_number(@)", "{}", "null"},
        {"to_number(@, @)", "1", "!invalid-arity"},
        {"to_string(@)", "\"a\"", "\"a\""},
        {"to_string(@)", "1", "\"1\""},
        {"to_string(@)", "1.50", "\"1.5\""},
        {"to_string(@)", "1e15", "\"1000000000000000.0\""},
        {"to_string(@)", "[1e-5, 2.0]", "\"[1e-05,2.0]\""},
        {"to_string(@)", "null", "\"null\""},
        {"to_string(@)", "true", "\"true\""},
        {"to_string(@)", "[1, {\"a\": \"b\"}]",
         "\"[1,{\\\"a\\\":\\\"b\\\"}]\""},
        {"to_string(@)", "[\"\xc3\xa9\"]", "\"[\\\"\\\\u00e9\\\"]\""},
        {"to_string(@)", "[\"\xf0\x9f\x98\x80\"]",
         "\"[\\\"\\\\ud83d\\\\ude00\\\"]\""},
        {"to_string(@)", "[\"a\\nb\"]", "\"[\\\"a\\\\nb\\\"]\""},
        {"to_string(@)", "[2.0]", "\"[2.0]\""},
        {"to_string(`1`, `2`)", "null", "!invalid-arity"},
        {"type(@)", "null", "\"null\""},
        {"type(@)", "true", "\"boolean\""},
        {"type(@)", "1", "\"number\""},
        {"type(@)", "1.5", "\"number\""},
        {"type(@)", "\"x\"", "\"string\""},
        {"type(@)", "[]", "\"array\""},
        {"type(@)", "{}", "\"object\""},
        {"type(&a)", "{}", "!invalid-type"},
        {"type()", "{}", "!invalid-arity"},
        /* Functions composed with the grammar. */
        {"length(people)", PEOPLE, "4"},
        {"people[?length(tags || `[]`) > `0`].name", PEOPLE, "[\"a\",\"c\"]"},
        {"max(people[*].age)", PEOPLE, "40"},
        {"sum(people[*].age)", PEOPLE, "95.5"},
        {"join(',', people[*].name)", PEOPLE, "\"a,b,c,d\""},
        {"sort(people[*].name) | reverse(@)", PEOPLE,
         "[\"d\",\"c\",\"b\",\"a\"]"},
        {"people[*].length(tags || '')", PEOPLE, "[2,0,1,0]"},
        {"people[0].keys(@)", PEOPLE, "[\"name\",\"age\",\"tags\"]"},
        {"a.abs(b)", "{\"a\":{\"b\":-1}}", "1"},
        {"[].type(@)", "[[1,\"a\"],null]", "[\"number\",\"string\",\"null\"]"},
        {"{n: length(@), t: type(@)}", "[1]", "{\"n\":1,\"t\":\"array\"}"},
        {"not_null(a[*].b, `0`)", "{\"a\":[]}", "[]"},
        {"to_array(a)[0]", "{\"a\":5}", "5"},
        {"length(to_string(@))", "[1,2]", "5"},
        /* Unknown functions and bad calls are compile errors. */
        {"foo(@)", "null", "!EPARSE:column 1: unknown-function"},
        {"a.bar()", "null", "!EPARSE:column 3: unknown-function"},
        {"\"length\"(@)", "null",
         "!EPARSE:column 9: expected an operator, found '('"},
        {"a[0](@)", "null", "!EPARSE:expected an operator"},
        {"length(@", "null",
         "!EPARSE:column 9: expected ',' or ')', found the end"},
        {"length(@,)", "null", "!EPARSE:column 10: expected an expression"},
        {"length(@ @)", "null", "!EPARSE:column 10: expected ',' or ')'"},
        /* Parse errors, with columns. */
        {"", "null", "!EPARSE:column 1: expected an expression, found the end"},
        {"a.", "null", "!EPARSE:column 3: expected an identifier"},
        {"a..b", "null",
         "!EPARSE:column 3: expected an identifier, '*', '[' or '{', found "
         "'.'"},
        {".a", "null", "!EPARSE:column 1: expected an expression, found '.'"},
        {"a b", "null",
         "!EPARSE:column 3: expected the end of the expression, found 'b'"},
        {"a[", "null", "!EPARSE:column 3"},
        {"a[0", "null", "!EPARSE:column 4: expected ']'"},
        {"a[*", "null", "!EPARSE:column 4: expected ']'"},
        {"a[x]", "null",
         "!EPARSE:column 3: expected a number, ':' or '*', found 'x'"},
        {"a]", "null",
         "!EPARSE:column 2: expected the end of the expression, found ']'"},
        {"[a", "null", "!EPARSE:column 3: expected ',' or ']'"},
        {"[a,]", "null", "!EPARSE:column 4: expected an expression, found ']'"},
        {"{a}", "null", "!EPARSE:column 3: expected ':'"},
        {"{a: b", "null", "!EPARSE:column 6: expected ',' or '}'"},
        {"{}", "null", "!EPARSE:column 2: expected an identifier, found '}'"},
        {"{1: a}", "null", "!EPARSE:column 2: expected an identifier"},
        {"a[?b", "null", "!EPARSE:column 5: expected ']'"},
        {"a[?]", "null", "!EPARSE:column 4: expected an expression, found ']'"},
        {"(a", "null", "!EPARSE:column 3: expected ')'"},
        {"a)", "null", "!EPARSE:column 2"},
        {"a ==", "null", "!EPARSE:column 5: expected an expression"},
        {"a = b", "null", "!EPARSE:column 3: expected a token, found '='"},
        {"a ^ b", "null", "!EPARSE:column 3: expected a token, found '^'"},
        {"a || ", "null", "!EPARSE:column 6"},
        {"`1", "null", "!EPARSE:column 1: expected a closing `"},
        {"'abc", "null", "!EPARSE:column 1: expected a closing '"},
        {"\"abc", "null", "!EPARSE:column 1: expected a closing \""},
        {"\"\\q\"", "null",
         "!EPARSE:column 1: expected a valid quoted identifier"},
        {"`{a}`", "null", "\"{a}\""},
        {"`\"abc`", "null", "!EPARSE:column 1: expected a JSON value"},
        {"x || `a\"b`", "null", "!EPARSE:column 6: expected a JSON value"},
        {"a.-1", "null", "!EPARSE:column 3"},
        {"-", "null", "!EPARSE:column 1: expected a token, found '-'"},
        {"1", "null", "!EPARSE:column 1: expected an expression, found '1'"},
        {"a.1", "null", "!EPARSE:column 3"},
        {"a *", "null", "!EPARSE:column 3"},
        {"a {b: c}", "null", "!EPARSE:column 3"},
        {"a !b", "null", "!EPARSE:column 3"},
        {"a[*]b", "null",
         "!EPARSE:column 5: expected the end of the expression, found 'b'"},
        {"a[*]{b: c}", "null",
         "!EPARSE:column 5: expected '.', '[' or '[?', found '{'"},
        {"*b", "null", "!EPARSE:column 2"},
        {"a.[0]", "null",
         "!EPARSE:column 4: expected an expression, found '0'"},
        {"&", "null", "!EPARSE:column 2: expected an expression"},
        {"a[:::]", "null", "!EPARSE:column 5"},
        {"a[1:2 3]", "null", "!EPARSE:column 7"},
        {"a[-]", "null", "!EPARSE:column 3"},
        {"a[?b == 'x'", "null", "!EPARSE:column 12: expected ']'"},
};

/** Write `v` canonically into a new malloc'd string. */
static char *
canon(const struct sl_value *v)
{
	struct sl_buf b;
	sl_buf_create(&b, 1 << 20);
	if (sl_json_write(&b, v, SL_JSON_CANONICAL) != 0) {
		sl_buf_destroy(&b);
		return strdup("<unwritable>");
	}
	char *s = strdup(b.data != NULL ? b.data : "");
	sl_buf_destroy(&b);
	return s;
}

/** Parse JSON text into `a` or bail out. */
static struct sl_value
parse(struct sl_arena *a, const char *s)
{
	struct sl_value v;
	if (sl_json_parse(s, strlen(s), a, NULL, "test", &v) != 0)
		bail_out("bad test JSON %s: %s", s, unit_errmsg());
	return v;
}

/** Run one table case. */
static void
run_case(const struct tcase *c)
{
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value doc = parse(&a, c->doc);
	sl_diag_clear(sl_diag_get());
	struct sl_jmes *j = sl_jmes_compile(c->expr, strlen(c->expr));
	if (c->want[0] == '!' && strncmp(c->want, "!EPARSE:", 8) == 0) {
		const char *m = unit_errmsg();
		if (!ok(j == NULL && sl_diag_code() == SL_EPARSE &&
		                strstr(m, c->want + 8) != NULL,
		        "%s: parse error \"%s\"", c->expr, c->want + 8))
			note("got %s: %s", j ? "compiled" : "error", m);
	} else if (strcmp(c->want, "!ELIMIT") == 0) {
		ok(j == NULL && sl_diag_code() == SL_ELIMIT, "%s: limit",
		   c->expr);
	} else if (j == NULL) {
		ok(0, "%s: compiles", c->expr);
		note("%s", unit_errmsg());
	} else {
		struct sl_value out;
		int rc = sl_jmes_eval(j, &doc, &a, &out);
		if (c->want[0] == '!') {
			const char *m = unit_errmsg();
			if (!ok(rc == -1 && sl_diag_code() == SL_EINVAL &&
			                strncmp(m, c->want + 1,
			                        strlen(c->want + 1)) == 0 &&
			                m[strlen(c->want + 1)] == ':',
			        "%s on %s: %s", c->expr, c->doc, c->want + 1)) {
				char *g = rc == 0 ? canon(&out) : NULL;
				note("got rc %d %s %s", rc, g ? g : "", m);
				free(g);
			}
		} else if (rc != 0) {
			ok(0, "%s on %s: evaluates", c->expr, c->doc);
			note("%s", unit_errmsg());
		} else {
			struct sl_value want = parse(&a, c->want);
			char *g = canon(&out), *w = canon(&want);
			if (!ok(sl_value_equal(&out, &want) &&
			                strcmp(g, w) == 0,
			        "%s on %s = %s", c->expr, c->doc, c->want))
				note("got %s", g);
			free(g);
			free(w);
		}
	}
	sl_jmes_delete(j);
	sl_arena_destroy(&a);
}

/** Check that `expr` over `doc` writes (non-canonically) as `want`. */
static void
check_text(const char *expr, const char *doc, const char *want)
{
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value d = parse(&a, doc), out;
	struct sl_jmes *j = sl_jmes_compile(expr, strlen(expr));
	struct sl_buf b;
	sl_buf_create(&b, 1 << 20);
	if (ok(j != NULL && sl_jmes_eval(j, &d, &a, &out) == 0 &&
	               sl_json_write(&b, &out, 0) == 0,
	       "%s evaluates", expr))
		is_str(b.data, want, "%s writes %s", expr, want);
	sl_buf_destroy(&b);
	sl_jmes_delete(j);
	sl_arena_destroy(&a);
}

/** Field detection and the source text. */
TAP_CASE(field)
{
	const char *name = NULL;
	size_t n = 0;
	struct sl_jmes *j = sl_jmes_compile("name", 4);
	ok(j != NULL && sl_jmes_is_field(j, &name, &n) && n == 4 &&
	           memcmp(name, "name", 4) == 0,
	   "a plain identifier is a field");
	is_str(sl_jmes_text(j), "name", "the text is kept");
	sl_jmes_delete(j);
	j = sl_jmes_compile(" \"a b\" ", 7);
	ok(j != NULL && sl_jmes_is_field(j, &name, &n) && n == 3 &&
	           memcmp(name, "a b", 3) == 0,
	   "a quoted identifier is a field");
	is_str(sl_jmes_text(j), " \"a b\" ", "the text is kept as written");
	sl_jmes_delete(j);
	const char *not_fields[] = {"a.b", "@",   "a[0]",
	                            "`1`", "'a'", "length(@)"};
	for (size_t i = 0; i < sizeof(not_fields) / sizeof(*not_fields); i++) {
		j = sl_jmes_compile(not_fields[i], strlen(not_fields[i]));
		ok(j != NULL && !sl_jmes_is_field(j, &name, &n),
		   "%s is no field", not_fields[i]);
		sl_jmes_delete(j);
	}
	ok(!sl_jmes_is_field(NULL, &name, &n), "NULL is no field");
	ok(sl_jmes_text(NULL) == NULL, "NULL has no text");
	sl_jmes_delete(NULL);
	/* A text with a NUL byte inside stops nowhere early. */
	j = sl_jmes_compile("a\0b", 3);
	ok(j == NULL && sl_diag_code() == SL_EPARSE, "a NUL byte is an error");
}

/** Results that exist in the document are not copied. */
TAP_CASE(no_alloc)
{
	struct sl_arena da, a;
	sl_arena_create(&da, 4096, 1 << 20);
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value doc =
	        parse(&da, "{\"name\":\"x\",\"a\":{\"b\":{\"c\":[1,2,3]}},"
	                   "\"n\":5}");
	const char *exprs[] = {"name",
	                       "a.b.c",
	                       "a.b.c[1]",
	                       "a.b.c[-1]",
	                       "a.b.c[1:]",
	                       "a.b | b.c",
	                       "n > `1` && name",
	                       "length(a.b.c)",
	                       "not_null(x, name)",
	                       "missing.x",
	                       "\"name\"",
	                       "max(a.b.c)",
	                       "a.b.c[0] == `1`"};
	for (size_t i = 0; i < sizeof(exprs) / sizeof(*exprs); i++) {
		struct sl_jmes *j = sl_jmes_compile(exprs[i], strlen(exprs[i]));
		struct sl_value out;
		sl_arena_destroy(&a);
		sl_arena_create(&a, 4096, 1 << 20);
		ok(j != NULL && sl_jmes_eval(j, &doc, &a, &out) == 0 &&
		           a.head == NULL && sl_arena_used(&a) == 0,
		   "%s allocates nothing", exprs[i]);
		sl_jmes_delete(j);
	}
	struct sl_jmes *j = sl_jmes_compile("a.b.c[1:]", 9);
	struct sl_value out;
	ok(j != NULL && sl_jmes_eval(j, &doc, &a, &out) == 0 &&
	           out.u.items ==
	                   sl_object_get_cstr(
	                           sl_object_get_cstr(
	                                   sl_object_get_cstr(&doc, "a"), "b"),
	                           "c")
	                                   ->u.items +
	                           1,
	   "a slice with step 1 points into the document");
	sl_jmes_delete(j);
	sl_arena_destroy(&a);
	sl_arena_destroy(&da);
}

/** A small arena cap is an SL_ELIMIT error, not a crash. */
TAP_CASE(arena_cap)
{
	struct sl_arena da, a;
	sl_arena_create(&da, 4096, 8 << 20);
	struct sl_buf b;
	sl_buf_create(&b, 1 << 20);
	sl_buf_puts(&b, "[");
	for (int i = 0; i < 2000; i++)
		sl_buf_printf(&b, "%s{\"a\":%d,\"b\":\"s%d\"}", i ? "," : "", i,
		              i);
	sl_buf_puts(&b, "]");
	struct sl_value doc;
	ok(sl_json_parse(b.data, b.len, &da, NULL, "t", &doc) == 0,
	   "big document parses");
	const char *exprs[] = {"[*].{x: a, y: b}", "sort_by(@, &b)[*].a",
	                       "map(&to_string(@), @)", "[*].[a, b][]",
	                       "reverse(@)"};
	for (size_t i = 0; i < sizeof(exprs) / sizeof(*exprs); i++) {
		sl_arena_create(&a, 1024, 4096);
		struct sl_jmes *j = sl_jmes_compile(exprs[i], strlen(exprs[i]));
		struct sl_value out;
		ok(j != NULL && sl_jmes_eval(j, &doc, &a, &out) == -1 &&
		           sl_diag_code() == SL_ELIMIT,
		   "%s: arena cap gives SL_ELIMIT", exprs[i]);
		sl_jmes_delete(j);
		sl_arena_destroy(&a);
		sl_arena_create(&a, 1 << 16, 64 << 20);
		j = sl_jmes_compile(exprs[i], strlen(exprs[i]));
		ok(j != NULL && sl_jmes_eval(j, &doc, &a, &out) == 0 &&
		           out.type == SL_VARRAY && out.len >= 2000,
		   "%s: works with room", exprs[i]);
		sl_jmes_delete(j);
		sl_arena_destroy(&a);
	}
	sl_buf_destroy(&b);
	sl_arena_destroy(&da);
}

/** Peak resident memory of this process in MiB. */
static long
maxrss_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

/**
 * Defect #4: to_string() built its text in a buffer capped at 4 GiB, past
 * the record's arena. Now the buffer takes what the arena has left: text
 * that cannot fit fails early with SL_ELIMIT naming the function, and the
 * process never holds much more than the arena's cap.
 */
TAP_CASE(record_cap)
{
	struct sl_arena da, a;
	sl_arena_create(&da, 4096, 1 << 20);
	/* 2^17 x 1 KiB: 128 MiB of text, from a value of a few KiB. */
	struct sl_value doc = doubling(&da, 1024, 17), out;
	const char *expr = "to_string(@)";
	struct sl_jmes *j = sl_jmes_compile(expr, strlen(expr));
	long before = maxrss_mib();
	sl_arena_create(&a, 4096, 1 << 20);
	int rc = sl_jmes_eval(j, &doc, &a, &out);
	ok(rc == -1 && sl_diag_code() == SL_ELIMIT,
	   "to_string() past the arena's room is SL_ELIMIT");
	ok(strstr(unit_errmsg(), "to_string()") != NULL &&
	           strstr(unit_errmsg(), "a record may use") != NULL,
	   "naming the function and the cap: %s", unit_errmsg());
	long grew = maxrss_mib() - before;
	ok(grew < 32, "and memory stayed bounded (grew %ld MiB, not 128)",
	   grew);
	sl_diag_clear(sl_diag_get());
	sl_arena_destroy(&a);

	/* Text longer than its value (escapes): the buffer's cap stops it. */
	char *ctl = sl_arena_alloc(&da, 512 << 10);
	memset(ctl, 1, 512 << 10);
	struct sl_value item = sl_str_ref(ctl, 512 << 10);
	struct sl_value esc = sl_array_ref(&item, 1);
	sl_arena_create(&a, 4096, 1 << 20);
	rc = sl_jmes_eval(j, &esc, &a, &out);
	ok(rc == -1 && sl_diag_code() == SL_ELIMIT &&
	           strstr(unit_errmsg(), "to_string()") != NULL,
	   "512 KiB of \\u0001 (3 MiB of JSON) past a 1 MiB arena: %s",
	   unit_errmsg());
	sl_diag_clear(sl_diag_get());
	sl_arena_destroy(&a);

	/* The expression of the report, 40 levels deep, fails as fast. */
	char e[1024];
	size_t k = 0;
	for (int i = 0; i < 40; i++)
		k += (size_t)snprintf(e + k, sizeof(e) - k, "{a:@,b:@} | ");
	snprintf(e + k, sizeof(e) - k, "to_string(@)");
	struct sl_jmes *j40 = sl_jmes_compile(e, strlen(e));
	struct sl_value leaf = parse(&da, "{\"index\":0}");
	sl_arena_create(&a, 4096, 4 << 20);
	rc = j40 != NULL ? sl_jmes_eval(j40, &leaf, &a, &out) : 0;
	ok(rc == -1 && sl_diag_code() == SL_ELIMIT &&
	           strstr(unit_errmsg(), "to_string()") != NULL,
	   "{a:@,b:@} x 40 | to_string(@) is SL_ELIMIT: %s", unit_errmsg());
	ok(maxrss_mib() - before < 32, "still bounded");
	sl_diag_clear(sl_diag_get());
	sl_jmes_delete(j40);

	/* Used bytes count: the same text fits an empty arena, not a full
	 * one. */
	sl_arena_reset(&a);
	struct sl_value small = doubling(&da, 1024, 11); /* 2 MiB of text */
	ok(sl_jmes_eval(j, &small, &a, &out) == 0 && out.type == SL_VSTR &&
	           out.len > (2u << 20),
	   "2 MiB of text fits a 4 MiB arena");
	sl_arena_destroy(&a);
	sl_arena_create(&a, 4096, 4 << 20);
	ok(sl_arena_alloc(&a, 3 << 20) != NULL, "3 MiB of it used");
	rc = sl_jmes_eval(j, &small, &a, &out);
	ok(rc == -1 && sl_diag_code() == SL_ELIMIT &&
	           strstr(unit_errmsg(), "to_string()") != NULL,
	   "then the same text does not: %s", unit_errmsg());
	sl_diag_clear(sl_diag_get());
	sl_jmes_delete(j);
	sl_arena_destroy(&a);
	sl_arena_destroy(&da);
}

/** Allocation failure at every point of compile and eval. */
TAP_CASE(oom)
{
	const char *expr =
	        "people[?age > `20` && contains(tags || `[]`, 'x')].{n: name, "
	        "t: to_string(tags), s: sort_by(@.tags[*].{k: @}, &k), "
	        "m: merge(`{\"a\": [1, 2, {\"b\": null}]}`, {z: 'zz'}), "
	        "j: join('-', reverse(tags)), r: [0:5:2], u: "
	        "\"\\u00e9\"} | [0]";
	long n;
	struct sl_jmes *j = NULL;
	bool clean = true;
	for (n = 0; n < 100000; n++) {
		sl_alloc_fail_after(n);
		j = sl_jmes_compile(expr, strlen(expr));
		sl_alloc_fail_after(-1);
		if (j != NULL)
			break;
		if (sl_diag_code() != SL_EOOM) {
			clean = false;
			note("compile failure %ld: %s", n, unit_errmsg());
		}
	}
	ok(j != NULL && clean,
	   "compile fails cleanly with SL_EOOM (%ld points)", n);
	struct sl_arena da;
	sl_arena_create(&da, 4096, 1 << 20);
	struct sl_value doc = parse(&da, PEOPLE), out;
	clean = true;
	int rc = -1;
	for (n = 0; n < 100000 && j != NULL; n++) {
		struct sl_arena a;
		sl_arena_create(&a, 64, 1 << 20);
		sl_alloc_fail_after(n);
		rc = sl_jmes_eval(j, &doc, &a, &out);
		sl_alloc_fail_after(-1);
		sl_arena_destroy(&a);
		if (rc == 0)
			break;
		if (sl_diag_code() != SL_EOOM) {
			clean = false;
			note("eval failure %ld: %s", n, unit_errmsg());
		}
	}
	ok(rc == 0 && clean, "eval fails cleanly with SL_EOOM (%ld points)", n);
	sl_jmes_delete(j);
	sl_arena_destroy(&da);
}

/** Text and depth limits. */
TAP_CASE(limits)
{
	size_t big = SL_JMES_TEXT_MAX + 1;
	char *s = malloc(big + 1);
	memset(s, ' ', big);
	s[0] = 'a';
	ok(sl_jmes_compile(s, big) == NULL && sl_diag_code() == SL_ELIMIT,
	   "text past the cap is SL_ELIMIT");
	struct sl_jmes *j = sl_jmes_compile(s, big - 1);
	ok(j != NULL, "text at the cap compiles");
	sl_jmes_delete(j);
	/* A long flat chain is fine. */
	size_t k = 0;
	for (int i = 0; i < 10000; i++) {
		s[k++] = i ? '.' : ' ';
		s[k++] = 'a';
	}
	j = sl_jmes_compile(s + 1, k - 1);
	ok(j != NULL, "a chain of 10000 fields compiles");
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value doc = parse(&a, "{\"a\":{\"a\":1}}"), out;
	ok(j != NULL && sl_jmes_eval(j, &doc, &a, &out) == 0 &&
	           out.type == SL_VNULL,
	   "and evaluates");
	sl_jmes_delete(j);
	const char *open[] = {"(", "[", "!", "not_null(", "{a:", "& "};
	const char *close[] = {")", "]", "", ")", "}", ""};
	for (size_t t = 0; t < 6; t++) {
		for (int depth = 100; depth <= 400; depth += 300) {
			k = 0;
			for (int i = 0; i < depth; i++) {
				memcpy(s + k, open[t], strlen(open[t]));
				k += strlen(open[t]);
			}
			s[k++] = 'a';
			for (int i = 0; i < depth; i++) {
				memcpy(s + k, close[t], strlen(close[t]));
				k += strlen(close[t]);
			}
			j = sl_jmes_compile(s, k);
			if (depth > SL_JMES_DEPTH_MAX)
				ok(j == NULL && sl_diag_code() == SL_ELIMIT,
				   "%d x %s is SL_ELIMIT", depth, open[t]);
			else
				ok(j != NULL, "%d x %s compiles", depth,
				   open[t]);
			sl_jmes_delete(j);
		}
	}
	k = 0;
	for (int i = 0; i < 400; i++) {
		memcpy(s + k, "a | ", 4);
		k += 4;
	}
	s[k++] = 'a';
	ok(sl_jmes_compile(s, k) == NULL && sl_diag_code() == SL_ELIMIT,
	   "a tree 400 pipes deep is SL_ELIMIT");
	sl_arena_destroy(&a);
	free(s);
}

/** Deep expressions compiled and evaluated on a task stack. */
static int
deep_task(void *arg)
{
	int *okays = arg;
	const char *open[] = {"(",   "[",   "!",           "not_null(",
	                      "{a:", "a[?", "sort_by(@, &"};
	const char *close[] = {")", "]", "", ")", "}", "]", ")"};
	char *s = malloc(8192);
	for (size_t t = 0; t < sizeof(open) / sizeof(*open); t++) {
		size_t k = 0;
		int depth = 0;
		/* As deep as the limit allows: back off until it compiles. */
		struct sl_jmes *j = NULL;
		for (depth = SL_JMES_DEPTH_MAX; depth > 0 && j == NULL;
		     depth--) {
			k = 0;
			for (int i = 0; i < depth; i++) {
				memcpy(s + k, open[t], strlen(open[t]));
				k += strlen(open[t]);
			}
			s[k++] = 'a';
			for (int i = 0; i < depth; i++) {
				memcpy(s + k, close[t], strlen(close[t]));
				k += strlen(close[t]);
			}
			j = sl_jmes_compile(s, k);
		}
		struct sl_arena a;
		sl_arena_create(&a, 4096, 64 << 20);
		struct sl_value doc = parse(&a, "{\"a\":[{\"a\":1}]}"), out;
		int rc = j != NULL ? sl_jmes_eval(j, &doc, &a, &out) : -2;
		if (j != NULL && (rc == 0 || sl_diag_code() == SL_EINVAL) &&
		    depth > SL_JMES_DEPTH_MAX / 4)
			(*okays)++;
		else
			note("%s: depth %d rc %d %s", open[t], depth, rc,
			     unit_errmsg());
		sl_jmes_delete(j);
		sl_arena_destroy(&a);
	}
	free(s);
	return 0;
}

/** The table of expressions, and results whose text is checked. */
TAP_CASE(table)
{
	size_t n = sizeof(cases) / sizeof(*cases);
	for (size_t i = 0; i < n; i++)
		run_case(&cases[i]);
	note("%zu table cases", n);
	check_text("{z: a, b: b, m: c}", "{\"a\":1,\"b\":2,\"c\":3}",
	           "{\"z\":1,\"b\":2,\"m\":3}");
	check_text("{b: a, a: b, b: c}", "{\"a\":1,\"b\":2,\"c\":3}",
	           "{\"b\":3,\"a\":2}");
	check_text("merge(a, b)",
	           "{\"a\":{\"y\":1,\"x\":2},\"b\":{\"z\":3,\"y\":4}}",
	           "{\"y\":4,\"x\":2,\"z\":3}");
	check_text("avg(@)", "[1,2]", "1.5");
	check_text("sum(@)", "[1,2]", "3");
	check_text("ceil(@)", "2.1", "3");
	check_text("to_string(@)", "{\"b\":[1,2.5e0],\"a\":\"\\u0001\"}",
	           "\"{\\\"b\\\":[1,2.5],\\\"a\\\":\\\"\\\\u0001\\\"}\"");
}

/**
 * Field paths (sl_jmes_field_path): which expressions are paths, and, over
 * every table case that is one, looking the names up in turn with
 * sl_object_get() (null once one is missing), as the interpreter does,
 * gives what the evaluator gives.
 */
TAP_CASE(field_path)
{
	const char *names[8];
	uint32_t lens[8];
	struct sl_jmes *j = sl_jmes_compile("a.\"b c\".d", 9);
	ok(j != NULL && sl_jmes_field_path(j, names, lens, 8) == 3 &&
	           lens[0] == 1 && memcmp(names[0], "a", 1) == 0 &&
	           lens[1] == 3 && memcmp(names[1], "b c", 3) == 0 &&
	           lens[2] == 1 && memcmp(names[2], "d", 1) == 0,
	   "a.\"b c\".d is a path of three names");
	ok(sl_jmes_field_path(j, names, lens, 2) == 0,
	   "a path longer than the room is none");
	sl_jmes_delete(j);
	j = sl_jmes_compile("name", 4);
	ok(j != NULL && sl_jmes_field_path(j, names, lens, 8) == 1 &&
	           lens[0] == 4,
	   "a plain field is a path of one");
	sl_jmes_delete(j);
	const char *not_paths[] = {"@",       "a[0]",     "a.b[0]",   "a | b",
	                           "`1`",     "'a'",      "a.*",      "a[*].b",
	                           "a.b.c[]", "a.{b: b}", "length(@)"};
	for (size_t i = 0; i < sizeof(not_paths) / sizeof(*not_paths); i++) {
		j = sl_jmes_compile(not_paths[i], strlen(not_paths[i]));
		ok(j != NULL && sl_jmes_field_path(j, names, lens, 8) == 0,
		   "%s is no path", not_paths[i]);
		sl_jmes_delete(j);
	}
	ok(sl_jmes_field_path(NULL, names, lens, 8) == 0, "NULL is no path");
	size_t paths = 0, same = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct tcase *t = &cases[i];
		if (t->want[0] == '!')
			continue;
		j = sl_jmes_compile(t->expr, strlen(t->expr));
		uint32_t n =
		        j != NULL ? sl_jmes_field_path(j, names, lens, 8) : 0;
		if (n > 0) {
			struct sl_arena a;
			sl_arena_create(&a, 4096, 1 << 20);
			struct sl_value d = parse(&a, t->doc), want;
			const struct sl_value *v = &d;
			for (uint32_t k = 0; k < n && v != NULL; k++)
				v = sl_object_get(v, names[k], lens[k]);
			struct sl_value got = v != NULL ? *v : sl_null();
			paths++;
			if (sl_jmes_eval(j, &d, &a, &want) == 0 &&
			    got.type == want.type &&
			    sl_value_equal(&got, &want))
				same++;
			else
				note("path %s over %s differs", t->expr,
				     t->doc);
			sl_arena_destroy(&a);
		}
		sl_jmes_delete(j);
	}
	ok(paths >= 20, "the table has paths (%zu)", paths);
	is_int((long)same, (long)paths,
	       "a path's lookups give what the evaluator gives");
}

/** Deep expressions on a task stack. */
TAP_CASE(deep)
{
	int okays = 0;
	struct sl_loop_opts lo;
	sl_loop_opts_init(&lo);
#if defined(__SANITIZE_ADDRESS__)
	lo.stack_size *=
	        8; /* ASan's redzones make frames several times larger */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	lo.stack_size *=
	        8; /* ASan's redzones make frames several times larger */
#endif
#endif
	note("deep expressions on a %zu KiB stack", lo.stack_size >> 10);
	struct sl_loop *loop = sl_loop_new(&lo);
	int rc = loop != NULL
	                 ? sl_loop_run_main(loop, "deep", deep_task, &okays)
	                 : -2;
	if (loop != NULL)
		sl_loop_delete(loop);
	ok(rc == 0 && okays == 7, "deep expressions on a task stack (%d of 7)",
	   okays);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
