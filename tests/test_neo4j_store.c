/*
 * The Neo4j store's parts that need no server (graph/neo4j_store.h): its
 * URI options, property values made storable, and a batch split into
 * buckets of one shape each.
 */
#include <stdio.h>
#include <string.h>

#include "graph/neo4j_store.h"
#include "sluice/json.h"
#include "unit.h"

/** A string value of a C string. */
static struct sl_value
S(const char *s) {
	return sl_str_ref(s, (uint32_t)strlen(s));
}

/** The JSON text of `v` (static buffer). */
static const char *
J(const struct sl_value *v)
{
	static char text[1024];
	struct sl_buf b;
	sl_buf_create(&b, sizeof(text));
	if (sl_json_write(&b, v, 0) != 0)
		snprintf(text, sizeof(text), "(error)");
	else
		snprintf(text, sizeof(text), "%s", b.data);
	sl_buf_destroy(&b);
	return text;
}

TAP_CASE(uri)
{
	char out[256];
	struct sl_neo4j_opts o;
	ok(sl_neo4j_uri_split("bolt://u:p@h:7687/db", out, sizeof(out), &o) ==
	           0,
	   "no options");
	is_str(out, "bolt://u:p@h:7687/db", "URI kept");
	is_int(o.chunk, 1000, "chunk default");
	is_int(o.conns, 4, "connections default");
	ok(!o.enterprise, "enterprise off");
	ok(sl_neo4j_uri_split("neo4j://h/db?region=eu&chunk_size=500&"
	                      "enterprise=true&policy=x&connections=2#f",
	                      out, sizeof(out), &o) == 0,
	   "options among others");
	is_str(out, "neo4j://h/db?region=eu&policy=x#f",
	       "the store's options removed, the others kept");
	is_int(o.chunk, 500, "chunk_size");
	is_int(o.conns, 2, "connections");
	ok(o.enterprise, "enterprise");
	ok(sl_neo4j_uri_split("bolt://h?chunk_size=1&enterprise=0", out,
	                      sizeof(out), &o) == 0 &&
	           strcmp(out, "bolt://h") == 0 && !o.enterprise &&
	           o.chunk == 1,
	   "only the store's options: no query left (%s)", out);
	ok(sl_neo4j_uri_split("bolt://h?chunk_size=0", out, sizeof(out), &o) ==
	           -1,
	   "chunk_size=0 refused");
	is_err(SL_EINVAL, "EINVAL");
	ok(sl_neo4j_uri_split("bolt://h?connections=17", out, sizeof(out),
	                      &o) == -1,
	   "too many connections refused");
	ok(sl_neo4j_uri_split("bolt://h?enterprise=yes", out, sizeof(out),
	                      &o) == -1,
	   "a bad boolean refused");
	ok(sl_neo4j_uri_split("bolt://a-long-host-name", out, 8, &o) == -1,
	   "too long");
	is_err(SL_ELIMIT, "ELIMIT");
	sl_diag_clear(sl_diag_get());
}

TAP_CASE(props)
{
	struct sl_arena a;
	sl_arena_create(&a, 0, 1 << 20);
	struct sl_value v;
	struct sl_member inner[2] = {
	        {.key = "b", .key_len = 1, .val = S("x")},
	        {.key = "a", .key_len = 1, .val = sl_int(1)}};
	struct sl_value obj = sl_object_ref(inner, 2);
	ok(sl_neo4j_prop(&a, &obj, &v) == 0 && v.type == SL_VSTR,
	   "an object becomes text");
	is_str(J(&v), "\"{\\\"a\\\":1,\\\"b\\\":\\\"x\\\"}\"",
	       "its canonical JSON");
	struct sl_value mixed_num[2] = {sl_int(1), sl_double(2.5)};
	struct sl_value arr = sl_array_ref(mixed_num, 2);
	ok(sl_neo4j_prop(&a, &arr, &v) == 0 && v.type == SL_VARRAY &&
	           v.u.items[0].type == SL_VDOUBLE &&
	           v.u.items[1].type == SL_VDOUBLE,
	   "integers among floats become floats");
	struct sl_value mixed[2] = {sl_int(1), S("a")};
	arr = sl_array_ref(mixed, 2);
	ok(sl_neo4j_prop(&a, &arr, &v) == 0 && v.type == SL_VSTR,
	   "a list of mixed kinds becomes text");
	is_str(J(&v), "\"[1,\\\"a\\\"]\"", "its JSON");
	struct sl_value nulls[2] = {S("a"), sl_null()};
	arr = sl_array_ref(nulls, 2);
	ok(sl_neo4j_prop(&a, &arr, &v) == 0 && v.type == SL_VSTR,
	   "a list holding null becomes text");
	struct sl_value num = sl_number_ref("42", 2);
	ok(sl_neo4j_prop(&a, &num, &v) == 0 && v.type == SL_VINT && v.u.i == 42,
	   "number text becomes a number");
	struct sl_value strs[2] = {S("a"), S("b")};
	arr = sl_array_ref(strs, 2);
	ok(sl_neo4j_prop(&a, &arr, &v) == 0 && v.u.items == strs,
	   "a list of strings is kept as it is");
	struct sl_member pm[3] = {{.key = "n", .key_len = 1, .val = sl_null()},
	                          {.key = "o", .key_len = 1, .val = obj},
	                          {.key = "s", .key_len = 1, .val = S("x")}};
	struct sl_value props = sl_object_ref(pm, 3);
	ok(sl_neo4j_props(&a, &props, &v) == 0 && v.len == 3 &&
	           v.u.members != pm,
	   "props with an object are copied");
	is_str(J(&v),
	       "{\"n\":null,\"o\":\"{\\\"a\\\":1,\\\"b\\\":\\\"x\\\"}\","
	       "\"s\":\"x\"}",
	       "a null is kept (it removes the property)");
	pm[1].val = S("plain");
	ok(sl_neo4j_props(&a, &props, &v) == 0 && v.u.members == pm,
	   "storable props are not copied");
	struct sl_value none = sl_null();
	ok(sl_neo4j_props(&a, &none, &v) == 0 && v.type == SL_VOBJECT &&
	           v.len == 0,
	   "null props are an empty map");
	sl_arena_destroy(&a);
}

/** A key object with one member. */
#define KEY1(name_, val_)                                                 \
	sl_object_ref((struct sl_member[]){{.key = name_,                 \
	                                    .key_len = sizeof(name_) - 1, \
	                                    .val = val_}},                \
	              1)

TAP_CASE(buckets)
{
	struct sl_value lx[2] = {S("Y"), S("X")},
	                lx2[3] = {S("X"), S("Y"), S("X")};
	struct sl_member k2[2] = {{.key = "code", .key_len = 4, .val = S("c")},
	                          {.key = "name", .key_len = 4, .val = S("n")}};
	struct sl_node_op nodes[6] = {
	        {.type = S("A"),
	         .key = KEY1("id", S("1")),
	         .labels = sl_array_ref(lx, 2),
	         .rule = SL_NODE_EAGER},
	        {.type = S("B"),
	         .key = sl_object_ref(k2, 2),
	         .rule = SL_NODE_EAGER},
	        {.type = S("A"),
	         .key = KEY1("id", S("2")),
	         .rule = SL_NODE_EAGER},
	        {.type = S("A"),
	         .key = KEY1("id", S("3")),
	         .labels = sl_array_ref(lx2, 3),
	         .rule = SL_NODE_EAGER},
	        {.type = S("A"),
	         .key = KEY1("id", S("4")),
	         .rule = SL_NODE_MATCH_ONLY},
	        {.type = S("A"),
	         .key = KEY1("id", S("5")),
	         .rule = SL_NODE_EAGER},
	};
	struct sl_rel_op rels[3] = {
	        {.type = S("R"),
	         .from = {.type = S("A"), .key = KEY1("id", S("1"))},
	         .to = {.type = S("B"), .key = sl_object_ref(k2, 2)},
	         .key = sl_object_ref(NULL, 0)},
	        {.type = S("R"),
	         .from = {.type = S("A"), .key = KEY1("id", S("1"))},
	         .to = {.type = S("B"),
	                .key = sl_object_ref(k2, 2),
	                .fuzzy = true},
	         .key = sl_object_ref(NULL, 0)},
	        {.type = S("R"),
	         .from = {.type = S("A"), .key = KEY1("id", S("2"))},
	         .to = {.type = S("B"), .key = sl_object_ref(k2, 2)},
	         .key = sl_null()},
	};
	struct sl_graph_batch b = {
	        .nodes = nodes, .n_nodes = 6, .rels = rels, .n_rels = 3};
	struct sl_neo4j_plan p;
	sl_neo4j_plan_create(&p);
	ok(sl_neo4j_plan_make(&p, &b) == 0, "plan made");
	is_int(p.n_node, 4, "node buckets: A+XY, A, A MATCH_ONLY, B");
	is_int(p.n, 6, "relationship buckets: exact and fuzzy end");
	uint32_t seen = 0;
	for (uint32_t i = 0; i < p.n_node; i++) {
		const struct sl_neo4j_bucket *bk = &p.buckets[i];
		ok(!bk->rel, "bucket %u holds nodes", i);
		seen += bk->n;
		for (uint32_t j = 1; j < bk->n; j++)
			ok(bk->ops[j - 1] < bk->ops[j],
			   "bucket %u keeps batch order", i);
		const struct sl_node_op *op = &nodes[bk->ops[0]];
		if (op->type.u.s[0] == 'B') {
			is_int(bk->n, 1, "B alone");
			is_int(bk->node.n_keys, 2, "B has two key names");
		} else if (bk->node.n_labels == 2) {
			is_int(bk->n, 2, "A with labels X, Y: ops 0 and 3");
			ok(bk->ops[0] == 0 && bk->ops[1] == 3, "ops 0 and 3");
			ok(bk->node.labels[0].u.s[0] == 'X' &&
			           bk->node.labels[1].u.s[0] == 'Y',
			   "labels sorted without repeats");
		} else if (bk->node.rule == SL_NODE_MATCH_ONLY) {
			is_int(bk->n, 1, "A MATCH_ONLY alone");
		} else {
			is_int(bk->n, 2, "A without labels: ops 2 and 5");
			ok(bk->ops[0] == 2 && bk->ops[1] == 5, "ops 2 and 5");
		}
	}
	is_int(seen, 6, "every node write in one bucket");
	seen = 0;
	for (uint32_t i = p.n_node; i < p.n; i++) {
		const struct sl_neo4j_bucket *bk = &p.buckets[i];
		ok(bk->rel, "bucket %u holds relationships", i);
		seen += bk->n;
		if (bk->shape.to.fuzzy)
			is_int(bk->n, 1, "the fuzzy one alone");
		else
			is_int(bk->n, 2, "null and empty keys share a bucket");
		is_int(bk->shape.to.n_keys, 2, "end key names");
	}
	is_int(seen, 3, "every relationship write in one bucket");
	nodes[2].type = sl_int(3);
	ok(sl_neo4j_plan_make(&p, &b) == -1, "a type that is no string");
	is_err(SL_EINVAL, "EINVAL");
	ok(strstr(unit_errmsg(), "node write 2") != NULL, "names it: %s",
	   unit_errmsg());
	sl_diag_clear(sl_diag_get());
	sl_neo4j_plan_destroy(&p);
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
