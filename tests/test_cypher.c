/*
 * The Neo4j store's Cypher (graph/cypher.h): exact text of representative
 * statements, name quoting, and the errors. `test_cypher --print` prints
 * every combination of shapes with hostile names instead, one JSON line
 * {"what", "cypher"} each, for tests/bolt/cypher_lint.js to parse with
 * Neo4j's own parser (the CTest test cypher_parse).
 */
#include <stdio.h>
#include <string.h>

#include "graph/cypher.h"
#include "sluice/json.h"
#include "unit.h"

/** A string value of a C string. */
static struct sl_value
S(const char *s) {
	return sl_str_ref(s, (uint32_t)strlen(s));
}

/** Output buffer of the cases. */
static struct sl_buf out;

/** Reset `out` (its cap is generous). */
static void
fresh(void)
{
	sl_buf_destroy(&out);
	sl_buf_create(&out, 1 << 20);
}

TAP_CASE(names)
{
	fresh();
	ok(sl_cy_name(&out, "a`b``c", 6) == 0 &&
	           strcmp(out.data, "`a``b````c`") == 0,
	   "backticks doubled: %s", out.data);
	sl_buf_reset(&out);
	ok(sl_cy_name(&out, "`", 1) == 0 && strcmp(out.data, "````") == 0,
	   "a lone backtick: %s", out.data);
	sl_buf_reset(&out);
	ok(sl_cy_name(&out, "x y-ü", strlen("x y-ü")) == 0 &&
	           strcmp(out.data, "`x y-ü`") == 0,
	   "spaces, dashes, unicode kept: %s", out.data);
	sl_buf_reset(&out);
	ok(sl_cy_name(&out, "", 0) == -1, "an empty name is refused");
	is_err(SL_EINVAL, "EINVAL");
	ok(sl_cy_name(&out, "a\0b", 3) == -1, "a NUL byte is refused");
	is_err(SL_EINVAL, "EINVAL");
	sl_diag_clear(sl_diag_get());
	struct sl_value bad = sl_int(1);
	struct sl_cy_node n = {.type = bad};
	ok(sl_cy_node_stmt(&out, &n) == -1, "a type that is no string");
	is_err(SL_EINVAL, "EINVAL");
	sl_diag_clear(sl_diag_get());
	sl_buf_destroy(&out);
}

TAP_CASE(nodes)
{
	fresh();
	struct sl_value keys[2] = {S("a"), S("b`c")};
	struct sl_value labels[2] = {S("X"), S("MATCH")};
	struct sl_cy_node n = {.type = S("Per son"),
	                       .keys = keys,
	                       .n_keys = 2,
	                       .labels = labels,
	                       .n_labels = 2,
	                       .rule = SL_NODE_EAGER};
	ok(sl_cy_node_stmt(&out, &n) == 0, "EAGER");
	is_str(out.data,
	       "UNWIND $rows AS params MERGE (node:`Per son` {`a`: "
	       "params.k.`a`, `b``c`: params.k.`b``c`}) SET node:`X`:`MATCH` "
	       "SET node += params.p RETURN count(*) AS matches",
	       "EAGER text");
	ok(!sl_cy_node_counts_writes(&n), "EAGER returns no writes column");
	n.rule = SL_NODE_MATCH_ONLY;
	n.n_labels = 0;
	ok(sl_cy_node_stmt(&out, &n) == 0, "MATCH_ONLY");
	is_str(out.data,
	       "UNWIND $rows AS params MATCH (node:`Per son`) WHERE node.`a` "
	       "= params.k.`a` AND node.`b``c` = params.k.`b``c` SET node += "
	       "params.p RETURN count(*) AS matches",
	       "MATCH_ONLY text");
	n.rule = SL_NODE_FUZZY;
	n.n_keys = 1;
	n.n_labels = 1;
	ok(sl_cy_node_stmt(&out, &n) == 0, "FUZZY");
	is_str(out.data,
	       "UNWIND $rows AS params MATCH (node:`Per son`) WHERE node.`a` "
	       "=~ params.k.`a` SET node:`X` SET node += params.p RETURN "
	       "count(DISTINCT params.i) AS writes, count(*) AS matches",
	       "FUZZY text");
	ok(sl_cy_node_counts_writes(&n), "FUZZY returns the writes column");
	n.rule = SL_NODE_EAGER;
	n.n_keys = 0;
	n.n_labels = 0;
	ok(sl_cy_node_stmt(&out, &n) == 0, "EAGER without keys");
	is_str(out.data,
	       "UNWIND $rows AS params MERGE (node:`Per son`) SET node += "
	       "params.p RETURN count(*) AS matches",
	       "EAGER without keys text");
	sl_buf_destroy(&out);
}

TAP_CASE(rels)
{
	fresh();
	struct sl_value fk[2] = {S("id"), S("x y")}, tk[1] = {S("code")};
	struct sl_value rk[1] = {S("since")};
	struct sl_cy_rel r = {
	        .type = S("PLAYS-FOR"),
	        .keys = rk,
	        .n_keys = 1,
	        .rule = SL_REL_EAGER,
	        .from = {.type = S("Player"), .keys = fk, .n_keys = 2},
	        .to = {.type = S("Team"), .keys = tk, .n_keys = 1},
	};
	ok(sl_cy_rel_stmt(&out, &r) == 0, "EAGER");
	is_str(out.data,
	       "UNWIND $rows AS params MATCH (from_node:`Player`) WHERE "
	       "from_node.`id` = params.f.`id` AND from_node.`x y` = "
	       "params.f.`x y` MATCH (to_node:`Team`) WHERE to_node.`code` = "
	       "params.t.`code` MERGE (from_node)-[rel:`PLAYS-FOR` {`since`: "
	       "params.k.`since`}]->(to_node) SET rel += params.p RETURN "
	       "count(*) AS matches",
	       "EAGER text");
	r.rule = SL_REL_CREATE;
	r.n_keys = 0;
	r.from.n_keys = 1;
	r.to.fuzzy = true;
	ok(sl_cy_rel_stmt(&out, &r) == 0, "CREATE, fuzzy end");
	is_str(out.data,
	       "UNWIND $rows AS params MATCH (from_node:`Player`) WHERE "
	       "from_node.`id` = params.f.`id` MATCH (to_node:`Team`) WHERE "
	       "to_node.`code` =~ params.t.`code` CREATE "
	       "(from_node)-[rel:`PLAYS-FOR`]->(to_node) SET rel += params.p "
	       "RETURN count(DISTINCT params.i) AS writes, count(*) AS matches",
	       "CREATE text");
	ok(sl_cy_rel_counts_writes(&r), "a fuzzy end counts writes");
	r.rule = SL_REL_MERGE_KEY;
	r.to.fuzzy = false;
	ok(sl_cy_rel_stmt(&out, &r) == 0 &&
	           strstr(out.data, " MERGE (from_node)-[rel:`PLAYS-FOR`]->") !=
	                   NULL,
	   "MERGE_KEY merges");
	sl_buf_destroy(&out);
}

TAP_CASE(ttl)
{
	fresh();
	ok(sl_cy_ttl(&out, true, "Per`son") == 0, "nodes");
	is_str(out.data,
	       "MATCH (x:`Per``son`) WHERE x.last_ingested_at < $cutoff CALL "
	       "{ WITH x DETACH DELETE x } IN TRANSACTIONS OF $n ROWS",
	       "node TTL text");
	ok(sl_cy_ttl(&out, false, "KNOWS") == 0, "relationships");
	is_str(out.data,
	       "MATCH ()-[x:`KNOWS`]->() WHERE x.last_ingested_at < $cutoff "
	       "CALL { WITH x DELETE x } IN TRANSACTIONS OF $n ROWS",
	       "relationship TTL text");
	sl_buf_destroy(&out);
}

TAP_CASE(migrations)
{
	fresh();
	const char *keys[2] = {"b", "a`"};
	ok(sl_cy_constraint(&out, "My Type", keys, 2, false) == 0, "unique");
	is_str(out.data,
	       "CREATE CONSTRAINT `My Type_node_key` IF NOT EXISTS FOR "
	       "(n:`My Type`) REQUIRE (n.`a```, n.`b`) IS UNIQUE",
	       "constraint text, keys sorted");
	ok(sl_cy_constraint(&out, "T", keys, 1, true) == 0, "node key");
	is_str(out.data,
	       "CREATE CONSTRAINT `T_node_key` IF NOT EXISTS FOR (n:`T`) "
	       "REQUIRE (n.`b`) IS NODE KEY",
	       "enterprise text");
	ok(sl_cy_constraint(&out, "T", keys, 0, false) == -1,
	   "no constraint without keys");
	is_err(SL_EINVAL, "EINVAL");
	sl_diag_clear(sl_diag_get());
	ok(sl_cy_index(&out, false, "T`", "f") == 0, "node index");
	is_str(out.data,
	       "CREATE INDEX `T``_f_additional_index` IF NOT EXISTS FOR "
	       "(n:`T```) ON (n.`f`)",
	       "node index text");
	ok(sl_cy_index(&out, true, "R", "w x") == 0, "relationship index");
	is_str(out.data,
	       "CREATE INDEX `R_w x_additional_index` IF NOT EXISTS FOR "
	       "()-[r:`R`]-() ON (r.`w x`)",
	       "relationship index text");
	ok(sl_cy_constraint_name(&out, "T") == 0 &&
	           strcmp(out.data, "T_node_key") == 0,
	   "constraint name");
	ok(sl_cy_index_name(&out, "T", "f") == 0 &&
	           strcmp(out.data, "T_f_additional_index") == 0,
	   "index name");
	sl_buf_destroy(&out);
}

TAP_CASE(export)
{
	fresh();
	ok(sl_cy_export_nodes(&out, "A`") == 0, "nodes");
	is_str(out.data,
	       "MATCH (n:`A```) RETURN labels(n) AS labels, properties(n) AS "
	       "props",
	       "node export text");
	ok(sl_cy_export_rels(&out, "R", "A", "B") == 0, "relationships");
	is_str(out.data,
	       "MATCH (a:`A`)-[r:`R`]->(b:`B`) RETURN properties(a) AS "
	       "from_props, properties(b) AS to_props, properties(r) AS props",
	       "relationship export text");
	sl_buf_destroy(&out);
}

/* {{{ --print: every combination, for the parser */

/** Hostile names: backticks, spaces, dashes, unicode, keywords. */
static const char *const hostile[] = {
        "Per`son", "with space", "dash-ed", "ünï©ødé 名前", "MATCH",
        "``",      "end`",       "x.y",     "$param",       "a\nb",
};
/** Number of hostile names. */
#define N_HOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/** Hostile name `i` (cycling). */
static struct sl_value
H(unsigned i) {
	return S(hostile[i % N_HOSTILE]);
}

/** Print one statement as a JSON line {"what", "cypher"}. */
static int
emit(const char *what, const struct sl_buf *text)
{
	struct sl_member m[2] = {
	        {.key = "cypher", .key_len = 6, .val = S(text->data)},
	        {.key = "what", .key_len = 4, .val = S(what)},
	};
	struct sl_value obj = sl_object_ref(m, 2);
	struct sl_buf line;
	sl_buf_create(&line, 1 << 20);
	int rc = sl_json_write(&line, &obj, 0);
	if (rc == 0)
		printf("%s\n", line.data);
	sl_buf_destroy(&line);
	return rc;
}

/** Print every statement the store can send. 0, or 1. */
static int
print_all(void)
{
	struct sl_buf b;
	sl_buf_create(&b, 1 << 20);
	int rc = 0;
	char what[128];
	unsigned h = 0;
	static const char *const nrule[] = {"EAGER", "MATCH_ONLY", "FUZZY"};
	for (int rule = 0; rule < 3; rule++)
		for (uint32_t nk = 0; nk <= 2; nk++)
			for (uint32_t nl = 0; nl <= 2; nl++) {
				struct sl_value keys[2] = {H(h + 1), H(h + 2)};
				struct sl_value labels[2] = {H(h + 3),
				                             H(h + 4)};
				struct sl_cy_node n = {
				        .type = H(h),
				        .keys = keys,
				        .n_keys = nk,
				        .labels = labels,
				        .n_labels = nl,
				        .rule = (enum sl_node_rule)rule};
				h++;
				snprintf(what, sizeof(what),
				         "node %s, %u keys, %u labels",
				         nrule[rule], nk, nl);
				rc = rc || sl_cy_node_stmt(&b, &n) != 0 ||
				     emit(what, &b) != 0;
			}
	static const char *const rrule[] = {"EAGER", "MERGE_KEY", "CREATE"};
	for (int rule = 0; rule < 3; rule++)
		for (uint32_t nk = 0; nk <= 2; nk += 2)
			for (int ends = 0; ends < 16; ends++) {
				struct sl_value rk[2] = {H(h + 1), H(h + 2)};
				struct sl_value fk[2] = {H(h + 3), H(h + 4)};
				struct sl_value tk[2] = {H(h + 5), H(h + 6)};
				struct sl_cy_rel r = {
				        .type = H(h),
				        .keys = rk,
				        .n_keys = nk,
				        .rule = (enum sl_rel_rule)rule,
				        .from = {.type = H(h + 7),
				                 .keys = fk,
				                 .n_keys = 1 + (ends & 1),
				                 .fuzzy = (ends & 2) != 0},
				        .to = {.type = H(h + 8),
				               .keys = tk,
				               .n_keys = 1 + ((ends >> 2) & 1),
				               .fuzzy = (ends & 8) != 0},
				};
				h++;
				snprintf(what, sizeof(what),
				         "rel %s, %u keys, from %u keys%s, to "
				         "%u "
				         "keys%s",
				         rrule[rule], nk, r.from.n_keys,
				         r.from.fuzzy ? " fuzzy" : "",
				         r.to.n_keys,
				         r.to.fuzzy ? " fuzzy" : "");
				rc = rc || sl_cy_rel_stmt(&b, &r) != 0 ||
				     emit(what, &b) != 0;
			}
	for (unsigned i = 0; i < N_HOSTILE; i++) {
		const char *t = hostile[i];
		const char *keys[2] = {hostile[(i + 1) % N_HOSTILE],
		                       hostile[(i + 2) % N_HOSTILE]};
		rc = rc || sl_cy_ttl(&b, true, t) != 0 ||
		     emit("ttl nodes", &b) != 0;
		rc = rc || sl_cy_ttl(&b, false, t) != 0 ||
		     emit("ttl rels", &b) != 0;
		for (uint32_t nk = 1; nk <= 2; nk++)
			for (int ent = 0; ent < 2; ent++)
				rc = rc ||
				     sl_cy_constraint(&b, t, keys, nk, ent) !=
				             0 ||
				     emit(ent ? "constraint node key"
				              : "constraint unique",
				          &b) != 0;
		rc = rc || sl_cy_index(&b, false, t, keys[0]) != 0 ||
		     emit("node index", &b) != 0;
		rc = rc || sl_cy_index(&b, true, t, keys[1]) != 0 ||
		     emit("rel index", &b) != 0;
		rc = rc || sl_cy_export_nodes(&b, t) != 0 ||
		     emit("export nodes", &b) != 0;
		rc = rc || sl_cy_export_rels(&b, t, keys[0], keys[1]) != 0 ||
		     emit("export rels", &b) != 0;
	}
	static const char *const fixed[][2] = {
	        {"registry write", sl_cy_registry_write},
	        {"registry read", sl_cy_registry_read},
	        {"token put", sl_cy_token_put},
	        {"token get", sl_cy_token_get},
	        {"token del", sl_cy_token_del},
	        {"token del prefix", sl_cy_token_del_prefix},
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		sl_buf_reset(&b);
		rc = rc || sl_buf_puts(&b, fixed[i][1]) != 0 ||
		     emit(fixed[i][0], &b) != 0;
	}
	sl_buf_destroy(&b);
	if (rc != 0) {
		fprintf(stderr, "test_cypher --print: %s\n", unit_errmsg());
		return 1;
	}
	return 0;
}

/* }}} */

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--print") == 0)
		return print_all();
	return tap_main(argc, argv);
}
