/*
 * Write batches (graph/graph.c): desired ingestions become node and
 * relationship writes; writes of one identity merge (later properties
 * win, labels add up), CREATE relationships never do; directions, rules
 * and bad input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "graph/wstats.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "unit.h"

/** Memory of parsed inputs. */
static struct sl_arena arena;

/** Add the ingestion in JSON text `json` to `b`. */
static int
add(struct sl_graph_batch *b, const char *json)
{
	struct sl_value v;
	if (sl_json_parse(json, strlen(json), &arena, NULL, NULL, &v) != 0)
		bail_out("bad test JSON: %s", json);
	return sl_graph_batch_add(b, &v);
}

/** Canonical JSON of `v` in a static buffer. */
static const char *
J(const struct sl_value *v)
{
	static char text[4096];
	struct sl_buf b;
	sl_buf_create(&b, sizeof(text) - 1);
	sl_json_write(&b, v, SL_JSON_CANONICAL);
	snprintf(text, sizeof(text), "%s", b.data != NULL ? b.data : "");
	sl_buf_destroy(&b);
	return text;
}

/** Key order as stored (not canonical): the members must be sorted. */
static const char *
raw(const struct sl_value *v)
{
	static char text[4096];
	struct sl_buf b;
	sl_buf_create(&b, sizeof(text) - 1);
	sl_json_write(&b, v, 0);
	snprintf(text, sizeof(text), "%s", b.data != NULL ? b.data : "");
	sl_buf_destroy(&b);
	return text;
}

/** An airport with two relationships, the second inbound. */
static const char *const airport =
        "{\"source\":{\"type\":\"Airport\",\"labels\":[\"Place\"],"
        "\"key\":{\"id\":\"a1\"},\"props\":{\"name\":\"A\",\"x\":1},"
        "\"rule\":\"EAGER\"},"
        "\"rels\":[{\"type\":\"WITHIN\",\"key\":{},\"props\":{\"p\":1},"
        "\"rule\":\"EAGER\",\"outbound\":true,\"node\":{\"type\":\"Country\","
        "\"labels\":[],\"key\":{\"code\":\"us\"},\"props\":{},"
        "\"rule\":\"EAGER\"}},"
        "{\"type\":\"SERVES\",\"key\":{\"b\":2,\"a\":1},\"props\":{},"
        "\"rule\":\"CREATE\",\"outbound\":false,\"node\":{\"type\":\"City\","
        "\"labels\":[],\"key\":{\"z\":\"x\",\"n\":\"c\"},\"props\":{},"
        "\"rule\":\"MATCH_ONLY\"}}]}";

/** The one checks. */
TAP_CASE(one)
{
	struct sl_graph_batch *b = sl_graph_batch_new();
	is_int(add(b, airport), 0, "an ingestion is added");
	is_int(b->n_ingestions, 1, "counted");
	is_int(b->n_nodes, 3, "three node writes");
	is_int(b->n_rels, 2, "two relationship writes");
	is_str(J(&b->nodes[0].key), "{\"id\":\"a1\"}", "the source first");
	is_str(J(&b->nodes[0].props), "{\"name\":\"A\",\"x\":1}",
	       "with its properties");
	is_str(J(&b->nodes[0].labels), "[\"Place\"]", "and labels");
	is_str(raw(&b->nodes[2].key), "{\"n\":\"c\",\"z\":\"x\"}",
	       "keys are stored sorted");
	is_int(b->nodes[2].rule, SL_NODE_MATCH_ONLY, "a node keeps its rule");
	const struct sl_rel_op *w = &b->rels[0], *s = &b->rels[1];
	ok(w->from.type.len == 7 &&
	           memcmp(w->from.type.u.s, "Airport", 7) == 0 &&
	           strcmp(J(&w->to.key), "{\"code\":\"us\"}") == 0,
	   "outbound: from the source to the related node");
	ok(memcmp(s->from.type.u.s, "City", 4) == 0 &&
	           memcmp(s->to.type.u.s, "Airport", 7) == 0,
	   "outbound false: from the related node to the source");
	is_str(raw(&s->key), "{\"a\":1,\"b\":2}", "relationship keys sorted");
	is_int(s->rule, SL_REL_CREATE, "relationship rule");
	ok(!w->to.fuzzy && !w->from.fuzzy, "exact endpoints");
	sl_graph_batch_delete(b);
}

/**
 * Ingestions whose members come in another order than the Interpreter's,
 * with some missing, some repeated (the last counts) and some of the
 * wrong type (taken as missing), read as the same writes.
 */
TAP_CASE(members_any_order)
{
	struct sl_graph_batch *b = sl_graph_batch_new();
	is_int(add(b, "{\"rels\":[{\"node\":{\"key\":{\"code\":\"us\"},"
	              "\"type\":\"Country\"},\"props\":{\"p\":1},"
	              "\"type\":\"X\",\"type\":\"WITHIN\"},"
	              "{\"outbound\":false,\"rule\":\"CREATE\",\"type\":"
	              "\"SERVES\",\"node\":{\"rule\":\"MATCH_ONLY\","
	              "\"key\":{\"n\":\"c\"},\"labels\":\"not an array\","
	              "\"type\":\"City\"}}],"
	              "\"source\":{\"props\":{\"name\":\"A\"},\"labels\":"
	              "[\"Place\"],\"key\":{\"id\":\"a1\"},\"type\":"
	              "\"Airport\"}}"),
	       0, "an ingestion with its members in another order is added");
	is_int(b->n_nodes, 3, "three node writes");
	is_int(b->n_rels, 2, "two relationship writes");
	ok(b->nodes[0].type.len == 7 &&
	           memcmp(b->nodes[0].type.u.s, "Airport", 7) == 0 &&
	           strcmp(J(&b->nodes[0].props), "{\"name\":\"A\"}") == 0 &&
	           strcmp(J(&b->nodes[0].labels), "[\"Place\"]") == 0,
	   "the source's type, properties and labels");
	is_int(b->nodes[0].rule, SL_NODE_EAGER, "no rule: EAGER");
	const struct sl_rel_op *w = &b->rels[0], *c = &b->rels[1];
	ok(w->type.len == 6 && memcmp(w->type.u.s, "WITHIN", 6) == 0,
	   "of two \"type\" members the last counts");
	ok(memcmp(w->from.type.u.s, "Airport", 7) == 0 &&
	           memcmp(w->to.type.u.s, "Country", 7) == 0,
	   "no \"outbound\": from the source");
	is_str(J(&w->props), "{\"p\":1}", "its properties");
	ok(memcmp(c->from.type.u.s, "City", 4) == 0 && c->rule == SL_REL_CREATE,
	   "\"outbound\": false and a rule, before the type");
	is_int(b->nodes[2].rule, SL_NODE_MATCH_ONLY, "the node's own rule");
	is_str(J(&b->nodes[2].labels), "[]",
	       "labels of another type than an array: none");
	is_int(add(b, "{\"source\":{\"key\":{\"id\":1},\"type\":5}}"), -1,
	       "a node whose type is no string has none");
	ok(strstr(sl_diag_last()->msg, "a node needs a type and a key") != NULL,
	   "and is refused: %s", sl_diag_last()->msg);
	sl_graph_batch_delete(b);
}

/** The merge checks. */
TAP_CASE(merge)
{
	struct sl_graph_batch *b = sl_graph_batch_new();
	add(b, airport);
	add(b,
	    "{\"source\":{\"type\":\"Airport\",\"labels\":[\"Hub\",\"Place\"],"
	    "\"key\":{\"id\":\"a1\"},\"props\":{\"x\":2,\"y\":null},"
	    "\"rule\":\"EAGER\"},\"rels\":[{\"type\":\"WITHIN\",\"key\":{},"
	    "\"props\":{\"p\":2},\"rule\":\"EAGER\",\"outbound\":true,"
	    "\"node\":{\"type\":\"Country\",\"labels\":[],\"key\":{\"code\":"
	    "\"us\"},\"props\":{},\"rule\":\"EAGER\"}}]}");
	is_int(b->n_ingestions, 2, "two ingestions");
	is_int(b->n_nodes, 3, "the same nodes merge");
	is_str(J(&b->nodes[0].props), "{\"name\":\"A\",\"x\":2,\"y\":null}",
	       "later properties win; nulls are kept for the target");
	is_str(J(&b->nodes[0].labels), "[\"Place\",\"Hub\"]",
	       "labels add up without duplicates");
	is_int(b->n_rels, 2, "the same EAGER relationship merges");
	is_str(J(&b->rels[0].props), "{\"p\":2}", "its properties too");
	add(b, airport);
	is_int(b->n_rels, 2,
	       "a CREATE relationship merges within a batch too, as "
	       "Nodestream's flush does");
	add(b, "{\"source\":{\"type\":\"Airport\",\"key\":{\"id\":\"a1\"},"
	       "\"rule\":\"MATCH_ONLY\"}}");
	is_int(b->n_nodes, 4, "another rule is another write");
	add(b, "{\"source\":{\"type\":\"Country\",\"key\":{\"code\":\"us\"}},"
	       "\"rels\":[{\"type\":\"T\",\"node\":{\"type\":\"Q\",\"key\":"
	       "{\"k\":\"a.*\"},\"rule\":\"FUZZY\"}}]}");
	const struct sl_rel_op *f = &b->rels[b->n_rels - 1];
	ok(f->to.fuzzy && !f->from.fuzzy, "a FUZZY related node is matched "
	                                  "by pattern");
	is_int(b->n_nodes, 5, "defaults: EAGER, no labels or props");
	sl_graph_batch_reset(b);
	ok(b->n_nodes == 0 && b->n_rels == 0 && b->n_ingestions == 0,
	   "reset empties");
	add(b, airport);
	is_int(b->n_nodes, 3, "and the index starts over");
	sl_graph_batch_delete(b);
}

/** The bad checks. */
TAP_CASE(bad)
{
	struct sl_graph_batch *b = sl_graph_batch_new();
	ok(add(b, "[1]") != 0 && strstr(unit_errmsg(),
	                                "expected a desired ingestion") != NULL,
	   "a non-object is refused");
	ok(add(b, "{\"line\":\"x\"}") != 0 &&
	           strstr(unit_errmsg(), "no source node") != NULL,
	   "a record without a source is refused");
	ok(add(b, "{\"source\":{\"type\":\"A\",\"key\":{}}}") != 0 &&
	           strstr(unit_errmsg(), "needs a type and a key") != NULL,
	   "an empty key is refused");
	ok(add(b, "{\"source\":{\"type\":\"A\",\"key\":{\"a\":1},\"rule\":"
	          "\"SOMETIMES\"}}") != 0,
	   "an unknown node rule is refused");
	ok(add(b, "{\"source\":{\"type\":\"A\",\"key\":{\"a\":1}},\"rels\":"
	          "[{\"type\":\"R\",\"rule\":\"X\",\"node\":{\"type\":\"B\","
	          "\"key\":{\"b\":1}}}]}") != 0,
	   "an unknown relationship rule is refused");
	ok(add(b, "{\"source\":{\"type\":\"A\",\"key\":{\"a\":1},\"labels\":"
	          "[1]}}") != 0,
	   "labels must be strings");
	sl_diag_clear(sl_diag_get());
	sl_graph_batch_delete(b);
}

/**
 * ±Infinity keys (JSON 1e400, -1e400) stay numbers: two nodes, never one
 * keyed null; the key text is strict JSON (1e999) for SQL stores.
 */
TAP_CASE(infinite_keys)
{
	struct sl_graph_batch *b = sl_graph_batch_new();
	ok(add(b, "{\"source\":{\"type\":\"N\",\"key\":{\"id\":1e400}}}") ==
	                   0 &&
	           add(b, "{\"source\":{\"type\":\"N\",\"key\":{\"id\":-1e400}}"
	                  "}") == 0 &&
	           add(b, "{\"source\":{\"type\":\"N\",\"key\":{\"id\":2e999}}"
	                  "}") == 0,
	   "keys 1e400, -1e400 and 2e999 are added");
	is_int(b->n_nodes, 2,
	       "two nodes: Infinity and -Infinity (2e999 is "
	       "Infinity again)");
	is_str(J(&b->nodes[0].key), "{\"id\":Infinity}",
	       "the first is Infinity");
	is_str(J(&b->nodes[1].key), "{\"id\":-Infinity}",
	       "the second is -Infinity");
	ok(b->nodes[1].key_text.type == SL_VSTR &&
	           b->nodes[1].key_text.len == 13 &&
	           memcmp(b->nodes[1].key_text.u.s, "{\"id\":-1e999}", 13) == 0,
	   "its key text is strict JSON: {\"id\":-1e999}");
	sl_graph_batch_delete(b);
}

/**
 * Key texts are canonical JSON whatever bytes a key holds: strings of 1 to
 * 20 bytes with a byte that needs an escape at each place (the identity
 * is written straight when none does, eight bytes at a time), a name
 * that needs one, and negative integers. Two writes of one key make one
 * node; the relationship's key text is canonical too.
 */
TAP_CASE(key_text_escapes)
{
	static const char specials[] = {'"', '\\', '\n', 0x1f, 'a', (char)0xc3};
	struct sl_graph_batch *b = sl_graph_batch_new();
	int bad = 0, cases = 0;
	for (uint32_t n = 1; n <= 20; n++)
		for (uint32_t at = 0; at < n; at++)
			for (size_t s = 0; s < sizeof(specials); s++) {
				char text[24];
				memset(text, 'x', sizeof(text));
				text[at] = specials[s];
				struct sl_member km[2] = {
				        {"k", 1, sl_str_ref(text, n)},
				        {s == 3 ? "n\x1f" : "n", s == 3 ? 2 : 1,
				         sl_int(-(int64_t)n * 1000)}};
				struct sl_member nm[2] = {
				        {"type", 4, sl_str_ref("T", 1)},
				        {"key", 3, sl_object_ref(km, 2)}};
				struct sl_member rm[4] = {
				        {"type", 4, sl_str_ref("R", 1)},
				        {"key", 3, sl_object_ref(km, 2)},
				        {"outbound", 8, sl_bool(true)},
				        {"node", 4, sl_object_ref(nm, 2)}};
				struct sl_value rel = sl_object_ref(rm, 4);
				struct sl_member im[2] = {
				        {"source", 6, sl_object_ref(nm, 2)},
				        {"rels", 4, sl_array_ref(&rel, 1)}};
				struct sl_value ing = sl_object_ref(im, 2);
				sl_graph_batch_reset(b);
				cases++;
				char want[4096];
				struct sl_value key = sl_object_ref(km, 2);
				snprintf(want, sizeof(want), "%s", J(&key));
				if (sl_graph_batch_add(b, &ing) != 0 ||
				    sl_graph_batch_add(b, &ing) != 0 ||
				    b->n_nodes != 1 || b->n_rels != 1 ||
				    b->nodes[0].key_text.len != strlen(want) ||
				    memcmp(b->nodes[0].key_text.u.s, want,
				           strlen(want)) != 0 ||
				    b->rels[0].to.key_text.len !=
				            strlen(want) ||
				    strcmp(J(&b->rels[0].key), want) != 0) {
					if (bad++ < 3)
						note("n=%u at=%u special=%zu: "
						     "%.*s "
						     "against %s",
						     n, at, s,
						     (int)b->nodes[0]
						             .key_text.len,
						     b->nodes[0].key_text.u.s,
						     want);
				}
			}
	is_int(bad, 0, "%d keys: one node each, its key text canonical JSON",
	       cases);
	sl_graph_batch_delete(b);
}

/** Parse `json` and check it against `cannot` (store "st"). */
static int
check(const char *json, unsigned cannot)
{
	struct sl_value v;
	if (sl_json_parse(json, strlen(json), &arena, NULL, NULL, &v) != 0)
		bail_out("bad test JSON: %s", json);
	return sl_graph_check(&v, cannot, "st");
}

/** What a store cannot hold is found wherever it is, and named. */
TAP_CASE(cannot)
{
	const unsigned all =
	        SL_GRAPH_NO_NUL | SL_GRAPH_NO_INF | SL_GRAPH_NO_NAN;
	const char *fine = "{\"source\":{\"type\":\"A\",\"key\":{\"a\":1},"
	                   "\"props\":{\"s\":\"x\",\"n\":[1e300,-2.5]}},"
	                   "\"rels\":[{\"type\":\"R\",\"node\":{\"type\":"
	                   "\"B\",\"key\":{\"b\":\"y\"}}}]}";
	ok(check(fine, all) == 0, "a plain record passes");
	ok(check("{\"source\":{\"type\":\"A\",\"key\":{\"a\":1},\"props\":"
	         "{\"s\":\"x\\u0000y\"}}}",
	         all) != 0 &&
	           strstr(unit_errmsg(),
	                  "st cannot store a string holding "
	                  "U+0000 (NUL) (at source.props.s)") != NULL,
	   "NUL in a property value, named");
	ok(check("{\"source\":{\"type\":\"A\",\"key\":{\"a\":1},\"props\":"
	         "{\"s\\u0000t\":1}}}",
	         all) != 0 &&
	           strstr(unit_errmsg(), "source.props.s\\u0000t") != NULL,
	   "NUL in a property name");
	ok(check("{\"source\":{\"type\":\"A\",\"key\":{\"a\":1},\"props\":"
	         "{\"s\\u0000t\":1}}}",
	         SL_GRAPH_NO_NUL_NAME) == 0,
	   "... which a store refusing NUL only in names takes");
	ok(check("{\"source\":{\"type\":\"A\",\"key\":{\"a\\u0000\":1}}}",
	         SL_GRAPH_NO_NUL_NAME) != 0 &&
	           strstr(unit_errmsg(), "a name holding U+0000") != NULL,
	   "NUL in a key name");
	ok(check("{\"source\":{\"type\":\"A\",\"key\":{\"a\":1}},\"rels\":"
	         "[{\"type\":\"R\",\"node\":{\"type\":\"B\",\"labels\":"
	         "[\"L\",\"M\\u0000\"],\"key\":{\"b\":1}}}]}",
	         SL_GRAPH_NO_NUL_NAME) != 0 &&
	           strstr(unit_errmsg(), "(at rels[0].node.labels[1])") != NULL,
	   "NUL in a related node's label");
	ok(check("{\"source\":{\"type\":\"A\",\"key\":{\"a\":1}},\"rels\":"
	         "[{\"type\":\"R\",\"node\":{\"type\":\"B\",\"key\":{\"b\":"
	         "[1,-1e400]}}}]}",
	         all) != 0 &&
	           strstr(unit_errmsg(), "the number -Infinity (at "
	                                 "rels[0].node.key.b[1])") != NULL,
	   "-Infinity deep in a related node's key");
	ok(check("{\"source\":{\"type\":\"A\",\"key\":{\"a\":1e400}}}",
	         SL_GRAPH_NO_NAN | SL_GRAPH_NO_NUL) == 0,
	   "Infinity passes a store that holds it");
	char big[512];
	memset(big, '9', 400);
	big[400] = '\0';
	char json[700];
	snprintf(json, sizeof(json),
	         "{\"source\":{\"type\":\"A\",\"key\":{\"a\":%s}}}", big);
	ok(check(json, all) == 0,
	   "a 400-digit integer is finite (it is written as it is)");
	snprintf(json, sizeof(json),
	         "{\"source\":{\"type\":\"A\",\"key\":{\"a\":%s.5}}}", big);
	ok(check(json, all) != 0 &&
	           strstr(unit_errmsg(), "the number Infinity") != NULL,
	   "a 400-digit float is Infinity");
	struct sl_member key = {"a", 1, sl_double(NAN)};
	struct sl_member node[2] = {
	        {"type", 4, sl_str_ref("A", 1)},
	        {"key", 3, sl_object_ref(&key, 1)},
	};
	struct sl_member ing = {"source", 6, sl_object_ref(node, 2)};
	struct sl_value v = sl_object_ref(&ing, 1);
	ok(sl_graph_check(&v, SL_GRAPH_NO_NAN_KEY, "st") != 0 &&
	           strstr(unit_errmsg(), "NaN in a key (at source.key.a)") !=
	                   NULL,
	   "NaN in a key");
	key.key = "k";
	struct sl_member props = {"p", 1, sl_double(NAN)};
	node[1] = (struct sl_member){"props", 5, sl_object_ref(&props, 1)};
	ok(sl_graph_check(&v, SL_GRAPH_NO_NAN_KEY, "st") == 0,
	   "NaN in a property passes SL_GRAPH_NO_NAN_KEY");
	ok(sl_graph_check(&v, SL_GRAPH_NO_NAN, "st") != 0,
	   "... not SL_GRAPH_NO_NAN");
	sl_diag_clear(sl_diag_get());
}

/** The many checks. */
TAP_CASE(many)
{
	struct sl_graph_batch *b = sl_graph_batch_new();
	char json[256];
	int rc = 0;
	for (int i = 0; i < 5000 && rc == 0; i++) {
		snprintf(json, sizeof(json),
		         "{\"source\":{\"type\":\"N\",\"key\":{\"id\":%d},"
		         "\"props\":{\"v\":%d}}}",
		         i % 1000, i);
		rc = add(b, json);
	}
	ok(rc == 0 && b->n_nodes == 1000,
	   "5000 ingestions of 1000 nodes: 1000 writes (the index grows)");
	is_str(J(&b->nodes[999].props), "{\"v\":4999}", "the last one wins");
	sl_graph_batch_delete(b);
}

/**
 * An ingestion of `n` relationships, relationship i to node {"k": i %
 * 40} with properties {"i": i}; relationship `bad` (if below n) has no
 * node.
 */
static int
add_rels(struct sl_graph_batch *b, int n, int bad)
{
	static char json[65536];
	size_t w = (size_t)snprintf(
	        json, sizeof(json),
	        "{\"source\":{\"type\":\"S\",\"key\":{\"id\":1}},\"rels\":[");
	for (int i = 0; i < n; i++)
		w += (size_t)snprintf(
		        json + w, sizeof(json) - w,
		        i == bad ? "%s{\"type\":\"R\"}"
		                 : "%s{\"type\":\"R\",\"props\":{\"i\":%d},"
		                   "\"node\":{\"type\":\"T\",\"key\":{\"k\":%d}"
		                   "}}",
		        i > 0 ? "," : "", i, i % 40);
	snprintf(json + w, sizeof(json) - w, "]}");
	return add(b, json);
}

/**
 * Many relationships in one ingestion: the first ones are looked up
 * together (PRE_MAX), the rest one by one; the writes and merges are the
 * same either way, and a bad relationship keeps the writes before it.
 */
TAP_CASE(many_rels)
{
	struct sl_graph_batch *b = sl_graph_batch_new();
	ok(add_rels(b, 75, -1) == 0, "75 relationships are added");
	is_int(b->n_nodes, 41, "the source and 40 related nodes");
	is_int(b->n_rels, 40, "40 relationships: the rest merge");
	is_str(J(&b->rels[5].props), "{\"i\":45}",
	       "a merge past the first 32 wins (5, then 45)");
	is_str(J(&b->rels[35].props), "{\"i\":35}",
	       "one written once keeps its properties");
	ok(b->rels[39].to.key_text.len == 8 &&
	           memcmp(b->rels[39].to.key_text.u.s, "{\"k\":39}", 8) == 0,
	   "the 40th points to its node");
	is_int((long long)b->n_ingestions, 1, "one ingestion");
	sl_graph_batch_reset(b);

	ok(add_rels(b, 75, 3) != 0 &&
	           strstr(unit_errmsg(), "needs a type and a node") != NULL,
	   "a bad 4th relationship fails the ingestion");
	ok(b->n_nodes == 4 && b->n_rels == 3 && b->n_ingestions == 0,
	   "after the source and the 3 before it (%u nodes, %u rels)",
	   b->n_nodes, b->n_rels);
	sl_graph_batch_reset(b);

	ok(add_rels(b, 75, 50) != 0, "a bad 51st relationship fails it too");
	ok(b->n_nodes == 41 && b->n_rels == 40 && b->n_ingestions == 0,
	   "after the 50 before it (%u nodes, %u rels)", b->n_nodes, b->n_rels);
	is_str(J(&b->rels[5].props), "{\"i\":45}",
	       "the 46th, one by one, merged");
	sl_diag_clear(sl_diag_get());
	sl_graph_batch_delete(b);
}

/** Ingestions that exercise merging, rules, key order and escapes. */
static const char *const mixed[] = {
        "{\"source\":{\"type\":\"P\",\"key\":{\"b\":1,\"a\":\"x\",\"b\":3},"
        "\"props\":{\"n\":1,\"s\":\"q\\\"\\\\\\n\"},\"labels\":[\"L1\"]},"
        "\"rels\":[{\"type\":\"R\",\"props\":{\"w\":1},\"node\":{\"type\":"
        "\"Q\",\"key\":{\"id\":-12},\"rule\":\"MATCH_ONLY\"}},"
        "{\"type\":\"R\",\"key\":{\"k\":[1,{\"z\":1,\"y\":2}]},\"node\":"
        "{\"type\":\"Q\",\"key\":{\"id\":1e400},\"rule\":\"FUZZY\"}}]}",
        "{\"source\":{\"type\":\"P\",\"key\":{\"a\":\"x\",\"b\":3},"
        "\"props\":{\"n\":2,\"t\":null},\"labels\":[\"L2\",\"L1\"]},"
        "\"rels\":[{\"type\":\"R\",\"props\":{\"w\":2,\"v\":0},\"node\":"
        "{\"type\":\"Q\",\"key\":{\"id\":-12},\"rule\":\"EAGER\"}},"
        "{\"type\":\"R\",\"props\":{\"w\":3},\"outbound\":false,"
        "\"rule\":\"CREATE\",\"node\":{\"type\":\"Q\",\"key\":{\"id\":-12},"
        "\"rule\":\"MATCH_ONLY\",\"props\":{\"m\":1}}}]}",
        "{\"source\":{\"type\":\"Q\",\"key\":{\"id\":-12},\"props\":{\"e\":1}},"
        "\"rels\":[{\"type\":\"R\",\"props\":{\"w\":4},\"node\":{\"type\":"
        "\"P\",\"key\":{\"b\":3,\"a\":\"x\"}}}]}",
};

/** Every write of `b` as text, one line each. */
static void
writes_text(const struct sl_graph_batch *b, struct sl_buf *out)
{
	sl_buf_reset(out);
	for (uint32_t i = 0; i < b->n_nodes; i++) {
		const struct sl_node_op *o = &b->nodes[i];
		sl_buf_printf(out, "N %d %.*s %.*s ", (int)o->rule,
		              (int)o->type.len, o->type.u.s,
		              (int)o->key_text.len, o->key_text.u.s);
		sl_buf_puts(out, raw(&o->key));
		sl_buf_puts(out, " ");
		sl_buf_puts(out, J(&o->props));
		sl_buf_puts(out, " ");
		sl_buf_puts(out, J(&o->labels));
		sl_buf_puts(out, "\n");
	}
	for (uint32_t i = 0; i < b->n_rels; i++) {
		const struct sl_rel_op *r = &b->rels[i];
		sl_buf_printf(out, "R %d %.*s %.*s %.*s %d %.*s %.*s %d ",
		              (int)r->rule, (int)r->type.len, r->type.u.s,
		              (int)r->from.type.len, r->from.type.u.s,
		              (int)r->from.key_text.len, r->from.key_text.u.s,
		              r->from.fuzzy, (int)r->to.type.len,
		              r->to.type.u.s, (int)r->to.key_text.len,
		              r->to.key_text.u.s, r->to.fuzzy);
		sl_buf_puts(out, J(&r->key));
		sl_buf_puts(out, " ");
		sl_buf_puts(out, J(&r->props));
		sl_buf_puts(out, "\n");
	}
}

/** A batch that borrows makes the writes of one that copies. */
TAP_CASE(borrow)
{
	struct sl_graph_batch *copy = sl_graph_batch_new();
	struct sl_graph_batch *lend = sl_graph_batch_new();
	lend->borrow = true;
	struct sl_arena input;
	sl_arena_create(&input, 1 << 12, 1 << 20);
	const struct sl_member *fuzzy_key = NULL;
	int rc = 0;
	for (size_t i = 0; i < sizeof(mixed) / sizeof(mixed[0]); i++) {
		struct sl_value v;
		if (sl_json_parse(mixed[i], strlen(mixed[i]), &input, NULL,
		                  NULL, &v) != 0)
			bail_out("bad test JSON: %s", mixed[i]);
		if (i == 0) {
			const struct sl_value *r =
			        sl_object_get_cstr(&v, "rels")->u.items + 1;
			fuzzy_key =
			        sl_object_get_cstr(
			                sl_object_get_cstr(r, "node"), "key")
			                ->u.members;
		}
		rc |= sl_graph_batch_add(copy, &v);
		rc |= sl_graph_batch_add(lend, &v);
	}
	ok(rc == 0, "both batches take the ingestions");
	struct sl_buf a, b;
	sl_buf_create(&a, 1 << 16);
	sl_buf_create(&b, 1 << 16);
	writes_text(lend, &b);
	ok(copy->n_nodes == 4 && copy->n_rels == 4,
	   "nodes per rule, relationships per rule and ends (%u, %u)",
	   copy->n_nodes, copy->n_rels);
	is_str(b.data != NULL ? b.data : "",
	       (writes_text(copy, &a), a.data != NULL ? a.data : ""),
	       "borrowing makes the same writes as copying");
	ok(strstr(a.data, "N 0 P {\"a\":\"x\",\"b\":3} {\"a\":\"x\",\"b\":3} "
	                  "{\"n\":2,\"s\":\"q\\\"\\\\\\n\",\"t\":null} "
	                  "[\"L1\",\"L2\"]") != NULL,
	   "a key sorted, the last of a repeated name kept; properties and "
	   "labels merged");
	ok(strstr(a.data, "N 1 Q {\"id\":-12}") != NULL &&
	           strstr(a.data, "N 0 Q {\"id\":-12}") != NULL &&
	           strstr(a.data, "N 2 Q {\"id\":1e999}") != NULL,
	   "one write per rule of a node");
	ok(strstr(a.data, "R 0 R P {\"a\":\"x\",\"b\":3} 0 Q {\"id\":-12} 0 {} "
	                  "{\"v\":0,\"w\":2}") != NULL,
	   "a relationship to a node under two rules is one write");
	const struct sl_member *lent = NULL, *copied = NULL;
	for (uint32_t i = 0; i < lend->n_nodes; i++)
		if (lend->nodes[i].rule == SL_NODE_FUZZY) {
			lent = lend->nodes[i].key.u.members;
			copied = copy->nodes[i].key.u.members;
		}
	ok(lent == fuzzy_key && copied != fuzzy_key,
	   "a borrowing batch refers to its input's values, a copying one "
	   "does not");
	/* The copy outlives its input (valgrind_graph_batch checks the
	 * reads); the borrowing batch must not. */
	sl_graph_batch_delete(lend);
	sl_arena_destroy(&input);
	writes_text(copy, &b);
	is_str(b.data != NULL ? b.data : "", a.data != NULL ? a.data : "",
	       "a copying batch keeps its writes after its input is freed");
	sl_buf_destroy(&a);
	sl_buf_destroy(&b);
	sl_graph_batch_delete(copy);
}

/**
 * Ingestions read ahead (sl_graph_prepare(), in the input's arena and a
 * shape arena, as the writer does on a worker thread) make the writes
 * that adding them makes, borrowing or copying, and keep nothing of the
 * shape arena, which goes right after; one that does not read gives NULL
 * and the error that adding it gives.
 */
TAP_CASE(prepared)
{
	struct sl_graph_batch *direct = sl_graph_batch_new();
	struct sl_graph_batch *ahead = sl_graph_batch_new();
	struct sl_graph_batch *lend = sl_graph_batch_new();
	lend->borrow = true;
	struct sl_arena input, shape;
	sl_arena_create(&input, 1 << 12, 1 << 22);
	sl_arena_create(&shape, 1 << 12, 1 << 22);
	struct sl_graph_prep_ctx c;
	sl_graph_prep_ctx_create(&c);
	int rc = 0, nulls = 0;
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(mixed) / sizeof(mixed[0]); i++) {
			struct sl_value v;
			if (sl_json_parse(mixed[i], strlen(mixed[i]), &input,
			                  NULL, NULL, &v) != 0)
				bail_out("bad test JSON: %s", mixed[i]);
			struct sl_graph_prep *p1 =
			        sl_graph_prepare(&c, &input, &shape, &v);
			struct sl_graph_prep *p2 =
			        sl_graph_prepare(&c, &input, &shape, &v);
			nulls += p1 == NULL || p2 == NULL;
			if (p1 == NULL || p2 == NULL)
				continue;
			rc |= sl_graph_batch_add(direct, &v);
			rc |= sl_graph_batch_add_prep(ahead, p1);
			rc |= sl_graph_batch_add_prep(lend, p2);
			/* Nothing the writes keep is in the shape (ASan
			 * sees a read of it once it is gone). */
			sl_arena_destroy(&shape);
		}
	ok(rc == 0 && nulls == 0, "every ingestion reads ahead and adds");
	struct sl_buf a, b, l;
	sl_buf_create(&a, 1 << 16);
	sl_buf_create(&b, 1 << 16);
	sl_buf_create(&l, 1 << 16);
	writes_text(direct, &a);
	writes_text(ahead, &b);
	writes_text(lend, &l);
	ok(a.len > 0 && direct->n_rels == 4, "the writes are made (%u rels)",
	   direct->n_rels);
	is_str(b.data != NULL ? b.data : "", a.data != NULL ? a.data : "",
	       "read ahead, the same writes and merges");
	is_str(l.data != NULL ? l.data : "", a.data != NULL ? a.data : "",
	       "read ahead into a borrowing batch, the same writes");
	is_int(ahead->n_ingestions, direct->n_ingestions,
	       "the same ingestions counted");

	const char *bad = "{\"source\":{\"type\":\"A\",\"key\":{\"a\":1}},"
	                  "\"rels\":[{\"type\":\"R\",\"node\":{\"type\":"
	                  "\"B\",\"key\":{\"b\":1}}},{\"type\":\"R\"}]}";
	struct sl_value v;
	if (sl_json_parse(bad, strlen(bad), &input, NULL, NULL, &v) != 0)
		bail_out("bad test JSON");
	ok(sl_graph_prepare(&c, &input, &input, &v) == NULL &&
	           strstr(unit_errmsg(), "needs a type and a node") != NULL,
	   "a bad relationship: nothing read ahead, the error kept");
	sl_diag_clear(sl_diag_get());
	sl_graph_batch_reset(direct);
	ok(sl_graph_batch_add(direct, &v) != 0 &&
	           strstr(unit_errmsg(), "needs a type and a node") != NULL &&
	           direct->n_nodes == 2 && direct->n_rels == 1,
	   "added, it fails the same way after the writes before it");
	sl_diag_clear(sl_diag_get());
	sl_graph_prep_ctx_destroy(&c);
	sl_buf_destroy(&a);
	sl_buf_destroy(&b);
	sl_buf_destroy(&l);
	sl_graph_batch_delete(direct);
	sl_graph_batch_delete(ahead);
	sl_graph_batch_delete(lend);
	sl_arena_destroy(&input);
	sl_arena_destroy(&shape);
}

/**
 * Relationships without a key share identity texts made once per ctx
 * (the ctx's memo): types of one length, rules, fuzzy ends (from, to) and more
 * types than the memo holds must still make distinct identities, and the same
 * ones merge, read ahead or added.
 */
TAP_CASE(rel_memo)
{
	static const char *const types[] = {"AB", "BA", "CD", "DC", "EF", "FE"};
	struct sl_buf json;
	sl_buf_create(&json, 1 << 16);
	sl_buf_puts(&json, "{\"source\":{\"type\":\"S\",\"key\":{\"s\":1}},"
	                   "\"rels\":[");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		sl_buf_printf(&json,
		              "%s{\"type\":\"%s\",\"node\":{\"type\":\"T\","
		              "\"key\":{\"t\":1}}},"
		              "{\"type\":\"%s\",\"rule\":\"CREATE\",\"node\":"
		              "{\"type\":\"T\",\"key\":{\"t\":1}}},"
		              "{\"type\":\"%s\",\"node\":{\"type\":\"T\","
		              "\"key\":{\"t\":1},\"rule\":\"FUZZY\"}},"
		              "{\"type\":\"%s\",\"outbound\":false,\"node\":"
		              "{\"type\":\"T\",\"key\":{\"t\":1},\"rule\":"
		              "\"FUZZY\"}},"
		              "{\"type\":\"%s\",\"outbound\":false,\"node\":"
		              "{\"type\":\"T\",\"key\":{\"t\":1}}}",
		              i > 0 ? "," : "", types[i], types[i], types[i],
		              types[i], types[i]);
	sl_buf_puts(&json, "]}");
	struct sl_graph_batch *direct = sl_graph_batch_new();
	struct sl_graph_batch *ahead = sl_graph_batch_new();
	struct sl_arena input;
	sl_arena_create(&input, 1 << 12, 1 << 22);
	struct sl_graph_prep_ctx c;
	sl_graph_prep_ctx_create(&c);
	int rc = 0;
	for (int round = 0; round < 3; round++) {
		struct sl_value v;
		if (sl_json_parse(json.data, json.len, &input, NULL, NULL,
		                  &v) != 0)
			bail_out("bad test JSON");
		struct sl_graph_prep *p =
		        sl_graph_prepare(&c, &input, &input, &v);
		rc |= p == NULL || sl_graph_batch_add_prep(ahead, p) != 0;
		rc |= sl_graph_batch_add(direct, &v);
	}
	ok(rc == 0, "the ingestions read ahead and add");
	is_int(direct->n_rels, 30,
	       "6 types of 2 bytes, 5 rules or ends each: 30 relationships");
	is_int(ahead->n_rels, 30, "the same read ahead with one ctx");
	struct sl_buf a, b;
	sl_buf_create(&a, 1 << 16);
	sl_buf_create(&b, 1 << 16);
	writes_text(direct, &a);
	writes_text(ahead, &b);
	is_str(b.data != NULL ? b.data : "", a.data != NULL ? a.data : "",
	       "the same writes and merges");
	ok(strstr(a.data, "R 2 FE S {\"s\":1} 0 T {\"t\":1} 0 {} {}") != NULL &&
	           strstr(a.data, "R 0 FE S {\"s\":1} 0 T {\"t\":1} 1 {} {}") !=
	                   NULL,
	   "a type's CREATE and fuzzy-ended relationships kept apart");
	ok(strstr(a.data, "R 0 FE T {\"t\":1} 1 S {\"s\":1} 0 {} {}") != NULL,
	   "a fuzzy from end too");
	/* After a reset the batch forgets the texts in its arena. */
	sl_graph_batch_reset(direct);
	struct sl_value v;
	if (sl_json_parse(json.data, json.len, &input, NULL, NULL, &v) != 0)
		bail_out("bad test JSON");
	rc = sl_graph_batch_add(direct, &v);
	ok(rc == 0 && direct->n_rels == 30,
	   "a reset batch makes them again (%u)", direct->n_rels);
	writes_text(direct, &b);
	is_str(b.data != NULL ? b.data : "", a.data != NULL ? a.data : "",
	       "with the same writes");
	sl_graph_prep_ctx_destroy(&c);
	sl_buf_destroy(&a);
	sl_buf_destroy(&b);
	sl_buf_destroy(&json);
	sl_graph_batch_delete(direct);
	sl_graph_batch_delete(ahead);
	sl_arena_destroy(&input);
}

/**
 * One ingestion with more identities than a fresh index holds (1,500
 * relationships to as many nodes: 3,001): the index makes room for all
 * of them before their look-ups, and adding it again finds every one.
 */
TAP_CASE(index_room)
{
	struct sl_buf json;
	sl_buf_create(&json, 1 << 20);
	sl_buf_puts(&json, "{\"source\":{\"type\":\"S\",\"key\":{\"id\":1}},"
	                   "\"rels\":[");
	for (int i = 0; i < 1500; i++)
		sl_buf_printf(&json,
		              "%s{\"type\":\"R\",\"node\":{\"type\":\"T\","
		              "\"key\":{\"k\":%d}}}",
		              i > 0 ? "," : "", i);
	sl_buf_puts(&json, "]}");
	struct sl_graph_batch *b = sl_graph_batch_new();
	ok(add(b, json.data) == 0 && b->n_nodes == 1501 && b->n_rels == 1500,
	   "1,501 nodes and 1,500 relationships (%u, %u)", b->n_nodes,
	   b->n_rels);
	ok(add(b, json.data) == 0 && b->n_nodes == 1501 && b->n_rels == 1500 &&
	           b->n_ingestions == 2,
	   "added again, every write merges");
	sl_graph_batch_delete(b);
	sl_buf_destroy(&json);
}

/** Two keys of one node type, whether they name one node, its key text. */
struct key_case {
	/** The first key (JSON). */
	const char *a;
	/** The second key (JSON). */
	const char *b;
	/** Whether they are one identity. */
	bool same;
	/** The canonical key text of the first. */
	const char *text;
};

/**
 * A node's identity, made in one pass when its key is plain strings and
 * integers and otherwise in the general way (escapes, other values,
 * nested values, a string needing an escape after plain ones), whatever
 * the key's order and repeated names: two keys are one node exactly when
 * their canonical JSON is the same, and the key text is that JSON; on a
 * worker (sl_graph_prepare()) the same.
 */
TAP_CASE(ident_paths)
{
	static const struct key_case cases[] = {
	        {"{\"a\":\"x\",\"b\":1}", "{\"b\":1,\"a\":\"x\"}", true,
	         "{\"a\":\"x\",\"b\":1}"},
	        {"{\"a\":\"x\",\"a\":\"y\"}", "{\"a\":\"y\"}", true,
	         "{\"a\":\"y\"}"},
	        {"{\"b\":2,\"a\":1,\"b\":3}", "{\"a\":1,\"b\":3}", true,
	         "{\"a\":1,\"b\":3}"},
	        {"{\"a\":\"x\"}", "{\"a\":\"x\\\"\"}", false, "{\"a\":\"x\"}"},
	        {"{\"a\":\"plain\",\"b\":\"q\\\"\"}",
	         "{\"b\":\"q\\\"\",\"a\":\"plain\"}", true,
	         "{\"a\":\"plain\",\"b\":\"q\\\"\"}"},
	        {"{\"a\":\"x\",\"b\\n\":\"y\"}", "{\"a\":\"x\",\"b\\n\":\"y\"}",
	         true, "{\"a\":\"x\",\"b\\n\":\"y\"}"},
	        {"{\"a\":[1,\"x\"]}", "{\"a\":[1,\"x\"]}", true,
	         "{\"a\":[1,\"x\"]}"},
	        {"{\"a\":[1,\"x\"]}", "{\"a\":[\"x\",1]}", false,
	         "{\"a\":[1,\"x\"]}"},
	        {"{\"a\":{\"z\":1,\"y\":\"w\"}}",
	         "{\"a\":{\"y\":\"w\",\"z\":1}}", true,
	         "{\"a\":{\"y\":\"w\",\"z\":1}}"},
	        {"{\"a\":1.5}", "{\"a\":1.5}", true, "{\"a\":1.5}"},
	        {"{\"a\":true,\"b\":null}", "{\"b\":null,\"a\":true}", true,
	         "{\"a\":true,\"b\":null}"},
	        {"{\"a\":1}", "{\"a\":\"1\"}", false, "{\"a\":1}"},
	        {"{\"n\":-9223372036854775808}", "{\"n\":-9223372036854775808}",
	         true, "{\"n\":-9223372036854775808}"},
	        {"{\"n\":0,\"m\":\"\"}", "{\"m\":\"\",\"n\":0}", true,
	         "{\"m\":\"\",\"n\":0}"},
	        {"{\"long name of 17\":\"value of 16 b..\"}",
	         "{\"long name of 17\":\"value of 16 b.,\"}", false,
	         "{\"long name of 17\":\"value of 16 b..\"}"},
	};
	struct sl_graph_prep_ctx c;
	sl_graph_prep_ctx_create(&c);
	struct sl_arena ahead;
	sl_arena_create(&ahead, 1 << 12, 1 << 22);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct key_case *k = &cases[i];
		char json[512];
		struct sl_graph_batch *b = sl_graph_batch_new();
		struct sl_graph_batch *p = sl_graph_batch_new();
		int rc = 0;
		for (int n = 0; n < 2; n++) {
			snprintf(json, sizeof(json),
			         "{\"source\":{\"type\":\"T\",\"key\":%s}}",
			         n == 0 ? k->a : k->b);
			rc |= add(b, json);
			struct sl_value v;
			if (sl_json_parse(json, strlen(json), &arena, NULL,
			                  NULL, &v) != 0)
				bail_out("bad test JSON: %s", json);
			struct sl_graph_prep *pp =
			        sl_graph_prepare(&c, &ahead, &ahead, &v);
			rc |= pp == NULL || sl_graph_batch_add_prep(p, pp) != 0;
		}
		ok(rc == 0 && b->n_nodes == (k->same ? 1u : 2u) &&
		           p->n_nodes == b->n_nodes,
		   "%s and %s: %s node(s)", k->a, k->b,
		   k->same ? "one" : "two");
		const struct sl_value *t = &b->nodes[0].key_text;
		ok(t->type == SL_VSTR && t->len == strlen(k->text) &&
		           memcmp(t->u.s, k->text, t->len) == 0 &&
		           strcmp(J(&b->nodes[0].key), k->text) == 0,
		   "key text %s", k->text);
		t = &p->nodes[0].key_text;
		ok(t->type == SL_VSTR && t->len == strlen(k->text) &&
		           memcmp(t->u.s, k->text, t->len) == 0,
		   "read ahead: the same key text");
		sl_graph_batch_delete(b);
		sl_graph_batch_delete(p);
	}
	sl_arena_destroy(&ahead);
	sl_graph_prep_ctx_destroy(&c);
}

/** The longest identity text of a write (IDENT_MAX in graph.c). */
#define IDENT_MAX_BYTES ((size_t)1 << 20)

/**
 * An identity text of IDENT_MAX bytes makes a node (in one pass or not:
 * plain, or with an escape in its key), one byte more fails with
 * SL_ELIMIT.
 */
TAP_CASE(ident_longest)
{
	/* 'N', the type's length (4 bytes), "T", then {"k":"..."}. */
	size_t fixed = 1 + 4 + 1 + 8;
	char *json = malloc(IDENT_MAX_BYTES + 256);
	if (json == NULL)
		bail_out("out of memory");
	for (int esc = 0; esc < 2; esc++)
		for (size_t extra = 0; extra < 2; extra++) {
			/* An escape (\n) takes two bytes of the text. */
			size_t v = IDENT_MAX_BYTES - fixed + extra - esc;
			int n = sprintf(json,
			                "{\"source\":{\"type\":\"T\",\"key\":"
			                "{\"k\":\"%s",
			                esc ? "\\n" : "");
			memset(json + n, 'v', v - (size_t)esc);
			strcpy(json + n + v - (size_t)esc, "\"}}}");
			struct sl_graph_batch *b = sl_graph_batch_new();
			sl_diag_clear(sl_diag_get());
			int rc = add(b, json);
			if (extra == 0)
				ok(rc == 0 && b->n_nodes == 1 &&
				           b->nodes[0].key_text.len ==
				                   IDENT_MAX_BYTES - 6,
				   "an identity of IDENT_MAX bytes (escape: "
				   "%d)",
				   esc);
			else
				ok(rc != 0 && sl_diag_code() == SL_ELIMIT,
				   "one byte more fails (escape: %d)", esc);
			sl_graph_batch_delete(b);
		}
	free(json);
}

/**
 * The key text of a node keyed {name: value}: a key name and a value of
 * every length from 0 to 40 bytes with one byte that needs an escape
 * ('"', '\\', U+0001, U+001F) at every position, and with none (ASCII
 * up to '~', and two-byte UTF-8), is its canonical JSON (sl_json_write()),
 * as the identity's fast path (plain_text()) or its general path makes
 * it, whichever the text takes.
 */
TAP_CASE(ident_escapes_everywhere)
{
	static const char bad[] = {'"', '\\', 0x01, 0x1f};
	char text[48];
	int wrong = 0, checked = 0;
	struct sl_buf want;
	sl_buf_create(&want, 1 << 12);
	for (uint32_t len = 0; len <= 40; len++) {
		for (int at = -2; at < (int)len; at++) {
			for (size_t k = 0; k < sizeof(bad); k++) {
				if (at < 0 && k > 0)
					break;
				/* Plain bytes 0x20..0x7e (no quote or
				 * backslash), or "é" pairs (at -1). */
				for (uint32_t i = 0; i < len; i++)
					text[i] =
					        (char)(at == -1
					                       ? (i % 2 ? 0xa9
					                                : 0xc3)
					                       : 'A' + (i *
					                                7) % 58);
				if (at == -1 && len % 2)
					text[len - 1] = 'z';
				if (at >= 0)
					text[at] = bad[k];
				for (int as_name = 0; as_name < 2; as_name++) {
					struct sl_member km[1] = {
					        {as_name ? text : "k",
					         as_name ? len : 1,
					         as_name ? sl_int(1)
					                 : sl_str_ref(text,
					                              len)}};
					struct sl_member nm[2] = {
					        {"type", 4, sl_str_ref("T", 1)},
					        {"key", 3,
					         sl_object_ref(km, 1)}};
					struct sl_member im[1] = {
					        {"source", 6,
					         sl_object_ref(nm, 2)}};
					struct sl_value ing =
					        sl_object_ref(im, 1);
					struct sl_value key =
					        sl_object_ref(km, 1);
					sl_buf_reset(&want);
					sl_json_write(&want, &key,
					              SL_JSON_CANONICAL);
					struct sl_graph_batch *b =
					        sl_graph_batch_new();
					int rc = sl_graph_batch_add(b, &ing);
					const struct sl_value *kt =
					        rc == 0 ? &b->nodes[0].key_text
					                : NULL;
					bool same = kt != NULL &&
					            kt->len == want.len &&
					            memcmp(kt->u.s, want.data,
					                   want.len) == 0;
					if (!same && wrong++ < 5)
						printf("# length %u, byte %d "
						       "at %d "
						       "(name %d): %.*s, want "
						       "%s\n",
						       len, (int)k, at, as_name,
						       kt ? (int)kt->len : 0,
						       kt ? kt->u.s : "",
						       want.data);
					checked++;
					sl_graph_batch_delete(b);
				}
			}
		}
	}
	sl_buf_destroy(&want);
	is_int(wrong, 0, "%d key texts as sl_json_write() writes them",
	       checked);
}

/** The count of type `name` (`rel`: a relationship type) in `ws`, or -1. */
static long long
type_count(const struct sl_wstats *ws, const char *name, bool rel)
{
	for (uint32_t i = 0; i < ws->n_types; i++)
		if (ws->types[i].rel == rel &&
		    ws->types[i].len == strlen(name) &&
		    memcmp(ws->types[i].type, name, ws->types[i].len) == 0)
			return (long long)ws->types[i].upserted;
	return -1;
}

/**
 * Writes counted by type (sl_wstats_batch()): 40 node types and 20
 * relationship types, more than its cache holds, whose bytes are shared
 * by the writes (a borrowing batch) or a copy each; a node and a
 * relationship type of the same name apart; two batches add up.
 */
TAP_CASE(wstats_types)
{
	static char names[60][8];
	for (int j = 0; j < 60; j++)
		snprintf(names[j], sizeof(names[j]), "%c%d", j < 40 ? 'T' : 'R',
		         j < 40 ? j : j - 40);
	/* "T0" as a relationship type too. */
	for (int borrow = 0; borrow < 2; borrow++) {
		struct sl_graph_batch *b = sl_graph_batch_new();
		b->borrow = borrow;
		int rc = 0;
		for (int i = 0; i < 600; i++) {
			struct sl_member *m =
			        sl_arena_alloc(&arena, 9 * sizeof(*m));
			struct sl_value *rel =
			        sl_arena_alloc(&arena, sizeof(*rel));
			m[0] = (struct sl_member){"k", 1, sl_int(i)};
			m[1] = (struct sl_member){"k", 1, sl_int(-1)};
			m[2] = (struct sl_member){
			        "type", 4,
			        sl_str_ref(names[i % 40],
			                   strlen(names[i % 40]))};
			m[3] = (struct sl_member){"key", 3,
			                          sl_object_ref(&m[0], 1)};
			m[4] = (struct sl_member){"type", 4,
			                          sl_str_ref("T0", 2)};
			m[5] = (struct sl_member){"key", 3,
			                          sl_object_ref(&m[1], 1)};
			const char *rt = i % 7 == 0 ? "T0" : names[40 + i % 20];
			*rel = sl_object_ref(&m[6], 2);
			m[6] = (struct sl_member){"type", 4,
			                          sl_str_ref(rt, strlen(rt))};
			m[7] = (struct sl_member){"node", 4,
			                          sl_object_ref(&m[4], 2)};
			struct sl_member im[2] = {
			        {"source", 6, sl_object_ref(&m[2], 2)},
			        {"rels", 4, sl_array_ref(rel, 1)}};
			struct sl_value ing = sl_object_ref(im, 2);
			rc |= sl_graph_batch_add(b, &ing);
		}
		struct sl_wstats ws;
		memset(&ws, 0, sizeof(ws));
		sl_wstats_batch(&ws, b, 0.001);
		sl_wstats_batch(&ws, b, 0.001);
		int bad = 0;
		for (int j = 0; j < 40; j++)
			bad += type_count(&ws, names[j], false) !=
			       2 * (15 + (j == 0));
		for (int j = 0; j < 20; j++) {
			long long want = 0;
			for (int i = 0; i < 600; i++)
				want += i % 7 != 0 && i % 20 == j;
			bad += type_count(&ws, names[40 + j], true) != 2 * want;
		}
		ok(rc == 0 && b->n_nodes == 601 && b->n_rels == 600 &&
		           ws.nodes == 2 * 601 && ws.rels == 2 * 600,
		   "two batches of 601 nodes and 600 relationships (borrow %d)",
		   borrow);
		is_int(bad, 0, "each of 60 types counted (borrow %d)", borrow);
		is_int(type_count(&ws, "T0", true), 2 * 86,
		       "T0 as a relationship type apart (borrow %d)", borrow);
		is_int(ws.n_types, 61, "61 types");
		sl_wstats_destroy(&ws);
		sl_graph_batch_delete(b);
	}
}

/**
 * Writes counted by type through the cache by address: types at one
 * address but of other lengths apart, equal bytes at other addresses
 * together, more types than the cache holds (evicted and counted again),
 * in an order that changes, and a type that is no string or empty (the
 * entry ""): each count as a plain count by bytes makes it.
 */
TAP_CASE(wstats_addresses)
{
	static const char text[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	                           "opqrstuvwxyz0123456789ABCDEFGHIJKLMNOP"
	                           "QRSTUVWXYZ";
	enum { N = 6000, T = 120 };
	struct sl_node_op *ops = calloc(N, sizeof(*ops));
	char *copies = calloc(N, 16);
	/* Type i: `text` from i % 60, (i / 60) + 1 + i % 3 bytes. */
	static long long want[T];
	memset(want, 0, sizeof(want));
	for (int w = 0; w < N; w++) {
		int i = (w * 7 + w / 500) % T;
		uint32_t at = (uint32_t)(i % 60);
		/* Within the first 62 bytes. */
		uint32_t len = (uint32_t)(i / 60 + 1 + i % 3);
		if (at + len > 62)
			len = 62 - at;
		const char *s = text + at;
		if (w % 5 == 0) {
			/* The same bytes at another address. */
			memcpy(copies + 16 * w, s, len);
			s = copies + 16 * w;
		}
		ops[w].type = sl_str_ref(s, len);
		if (w % 97 == 0)
			ops[w].type = w % 2 ? sl_int(w) : sl_str_ref(text, 0);
		/* Lengths 64 apart at one address. */
		if (w % 89 == 0)
			ops[w].type = sl_str_ref(text + 1, w % 2 ? 2 : 66);
	}
	struct sl_graph_batch b;
	memset(&b, 0, sizeof(b));
	b.nodes = ops;
	b.n_nodes = N;
	struct sl_wstats ws;
	memset(&ws, 0, sizeof(ws));
	sl_wstats_batch(&ws, &b, 0.001);
	/* The counts a plain pass makes, compared by bytes. */
	int bad = 0;
	long long total = 0;
	for (uint32_t e = 0; e < ws.n_types; e++) {
		long long n = 0;
		for (int w = 0; w < N; w++) {
			const struct sl_value *t = &ops[w].type;
			uint32_t len = t->type == SL_VSTR ? t->len : 0;
			n += ws.types[e].len == len && !ws.types[e].rel &&
			     memcmp(ws.types[e].type, t->u.s, len) == 0;
		}
		bad += (long long)ws.types[e].upserted != n;
		total += (long long)ws.types[e].upserted;
	}
	is_int(bad, 0, "each type's count is its writes by bytes");
	is_int(total, N, "every write counted once");
	ok(type_count(&ws, "", false) > 0 && type_count(&ws, "A", false) > 0 &&
	           type_count(&ws, "AB", false) > 0 &&
	           type_count(&ws, "BC", false) > 0 &&
	           type_count(&ws, "BCD", false) > 0 &&
	           type_count(&ws, "BC", false) > 0,
	   "types at one address of other lengths apart, no string as \"\"");
	sl_wstats_destroy(&ws);
	free(ops);
	free(copies);
}

/** Add airport `i` (key a<i>, WITHIN country c<i % 50>) to `b`. */
static int
add_airport(struct sl_graph_batch *b, int i)
{
	char json[512];
	snprintf(json, sizeof(json),
	         "{\"source\":{\"type\":\"Airport\",\"labels\":[],"
	         "\"key\":{\"id\":\"a%d\"},\"props\":{\"n\":%d},"
	         "\"rule\":\"EAGER\"},\"rels\":[{\"type\":\"WITHIN\","
	         "\"key\":{},\"props\":{},\"rule\":\"EAGER\","
	         "\"outbound\":true,\"node\":{\"type\":\"Country\","
	         "\"labels\":[],\"key\":{\"code\":\"c%d\"},\"props\":{},"
	         "\"rule\":\"EAGER\"}}]}",
	         i, i, i % 50);
	return add(b, json);
}

/**
 * A batch that expects many ingestions (sl_graph_batch.expect): its first
 * one makes room for that many like it, so that they fit without its
 * arrays moving, bounded for a huge expectation, and the writes are
 * those of a batch that expects nothing; a reset keeps the room.
 */
TAP_CASE(expect)
{
	enum { N = 2000 };
	struct sl_graph_batch *plain = sl_graph_batch_new();
	struct sl_graph_batch *b = sl_graph_batch_new();
	b->expect = N;
	is_int(add_airport(b, 0), 0, "the first ingestion is added");
	ok(b->cap_nodes >= 2 * N && b->cap_rels >= N,
	   "with room for %d like it (%u nodes, %u relationships)", N,
	   b->cap_nodes, b->cap_rels);
	const struct sl_node_op *nodes = b->nodes;
	const struct sl_rel_op *rels = b->rels;
	int bad = 0;
	add_airport(plain, 0);
	for (int i = 1; i < N; i++)
		bad += add_airport(b, i) != 0 || add_airport(plain, i) != 0;
	is_int(bad, 0, "the others are added");
	ok(b->nodes == nodes && b->rels == rels, "without its arrays moving");
	ok(b->n_nodes == plain->n_nodes && b->n_rels == plain->n_rels,
	   "as many writes as without the expectation (%u, %u)", b->n_nodes,
	   b->n_rels);
	int differ = 0;
	for (uint32_t i = 0; i < b->n_nodes && i < plain->n_nodes; i++)
		differ += strcmp(J(&b->nodes[i].key),
		                 J(&plain->nodes[i].key)) != 0;
	is_int(differ, 0, "the same node writes in the same order");
	uint32_t cap = b->cap_nodes;
	sl_graph_batch_reset(b);
	is_int(add_airport(b, 1), 0, "a reset batch takes more");
	ok(b->cap_nodes == cap && b->nodes == nodes, "in the room it had");
	sl_graph_batch_delete(b);

	b = sl_graph_batch_new();
	b->expect = 4000000000u;
	is_int(add_airport(b, 0), 0, "a huge expectation");
	ok(b->cap_nodes <= ((uint32_t)1 << 16) &&
	           b->cap_rels <= ((uint32_t)1 << 16),
	   "makes bounded room (%u nodes, %u relationships)", b->cap_nodes,
	   b->cap_rels);
	sl_graph_batch_delete(b);
	sl_graph_batch_delete(plain);
}

/**
 * The identity index passed from a batch handed to a target to the next
 * one (sl_graph_batch_pass_index()): the next batch merges its own
 * writes and none of the first's, it still makes room for what it
 * expects, and the first batch's writes stay as they were.
 */
TAP_CASE(pass_index)
{
	enum { N = 300 };
	struct sl_graph_batch *a = sl_graph_batch_new();
	struct sl_graph_batch *b = sl_graph_batch_new();
	a->expect = b->expect = N;
	int bad = 0;
	for (int i = 0; i < N; i++)
		bad += add_airport(a, i) != 0;
	is_int(bad, 0, "the first batch is filled");
	uint32_t an = a->n_nodes, ar = a->n_rels;
	is_int(an, N + 50, "its countries merged (%u node writes)", an);
	char first[4096], last[4096];
	snprintf(first, sizeof(first), "%s", J(&a->nodes[0].key));
	snprintf(last, sizeof(last), "%s", J(&a->nodes[an - 1].key));
	sl_graph_batch_pass_index(a, b);
	/* The same ingestions again: nothing the first batch indexed may
	 * be found in the second. */
	for (int i = 0; i < N; i++)
		bad += add_airport(b, i) != 0;
	is_int(bad, 0, "the next batch is filled");
	ok(b->n_nodes == an && b->n_rels == ar,
	   "with writes of its own, not merges into the first's (%u, %u)",
	   b->n_nodes, b->n_rels);
	ok(b->cap_nodes >= 2 * N && b->cap_rels >= N,
	   "in the room it expected (%u nodes, %u relationships)", b->cap_nodes,
	   b->cap_rels);
	is_int(add_airport(b, 7), 0, "a repeat");
	ok(b->n_nodes == an && b->n_rels == ar, "merges in the next batch");
	ok(a->n_nodes == an && a->n_rels == ar &&
	           strcmp(J(&a->nodes[0].key), first) == 0 &&
	           strcmp(J(&a->nodes[an - 1].key), last) == 0,
	   "the first batch's writes are unchanged");
	/* Back again, as the writer alternates, each reset in between. */
	sl_graph_batch_reset(a);
	sl_graph_batch_pass_index(b, a);
	is_int(add_airport(a, 3), 0, "the first batch, reset, takes it back");
	ok(a->n_nodes == 2 && a->n_rels == 1, "and starts over (%u, %u)",
	   a->n_nodes, a->n_rels);
	sl_graph_batch_delete(a);
	sl_graph_batch_delete(b);
}

/** Create the arena the cases allocate from. */
static int
setup(void)
{
	sl_arena_create(&arena, 1 << 16, 1 << 26);
	return 0;
}

/** Free the arena. */
static void
teardown(void)
{
	sl_arena_destroy(&arena);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
