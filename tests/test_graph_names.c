/*
 * The shared names of a desired ingestion (value/ingest_names.h): the
 * Interpreter names its members and rules with them, and the writer's
 * batching (graph/graph.c) tells them by address; names equal by their
 * bytes only (JSON, another step) make the same writes, and a name at a
 * shared address with another length or a value of another type is read
 * as its bytes and type say.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph/graph.h"
#include "sluice/diag.h"
#include "sluice/interp.h"
#include "sluice/json.h"
#include "sluice/pipeline.h"
#include "sluice/jsonread.h"
#include "sluice/pipeline_file.h"
#include "sluice/registry.h"
#include "sluice/steps.h"
#include "unit.h"
#include "value/ingest_names.h"

/** Memory of parsed and built inputs. */
static struct sl_arena arena;

/** Canonical JSON of `v` appended to `out`. */
static void
put_json(struct sl_buf *out, const struct sl_value *v)
{
	sl_json_write(out, v, SL_JSON_CANONICAL);
}

/** Every write of `b` as text, one line each (in the batch's order). */
static void
writes_text(const struct sl_graph_batch *b, struct sl_buf *out)
{
	sl_buf_reset(out);
	for (uint32_t i = 0; i < b->n_nodes; i++) {
		const struct sl_node_op *o = &b->nodes[i];
		sl_buf_printf(out, "N %d %.*s %.*s ", (int)o->rule,
		              (int)o->type.len, o->type.u.s,
		              (int)o->key_text.len, o->key_text.u.s);
		put_json(out, &o->props);
		sl_buf_puts(out, " ");
		put_json(out, &o->labels);
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
		put_json(out, &r->key);
		sl_buf_puts(out, " ");
		put_json(out, &r->props);
		sl_buf_puts(out, "\n");
	}
}

/** `v` written as JSON and parsed back: equal bytes at other addresses. */
static struct sl_value
through_json(const struct sl_value *v)
{
	struct sl_buf t;
	sl_buf_create(&t, 1 << 20);
	sl_json_write(&t, v, 0);
	struct sl_value out;
	if (sl_json_parse(t.data, t.len, &arena, NULL, NULL, &out) != 0)
		bail_out("JSON of an ingestion does not parse: %s", t.data);
	sl_buf_destroy(&t);
	return out;
}

/** Whether every member of object `o` is named at a shared address. */
static bool
all_shared(const struct sl_value *o, const char *const *names, uint32_t n)
{
	if (o->type != SL_VOBJECT || o->len != n)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (o->u.members[i].key != names[i] ||
		    o->u.members[i].key_len != strlen(names[i]))
			return false;
	return true;
}

/** Whether ingestion `ing` is named and ruled with the shared strings. */
static bool
ingestion_shared(const struct sl_value *ing)
{
	static const char *const top[] = {sl_ing_source, sl_ing_rels};
	static const char *const node[] = {sl_ing_type, sl_ing_labels,
	                                   sl_ing_key, sl_ing_props,
	                                   sl_ing_rule};
	static const char *const rel[] = {sl_ing_type,     sl_ing_key,
	                                  sl_ing_props,    sl_ing_rule,
	                                  sl_ing_outbound, sl_ing_node};
	static const char *const rules[] = {sl_rule_eager, sl_rule_match_only,
	                                    sl_rule_fuzzy, sl_rule_merge_key,
	                                    sl_rule_create};
	if (!all_shared(ing, top, 2) ||
	    !all_shared(&ing->u.members[0].val, node, 5))
		return false;
	const struct sl_value *rels = &ing->u.members[1].val;
	for (uint32_t i = 0; i < rels->len; i++) {
		const struct sl_value *r = &rels->u.items[i];
		if (!all_shared(r, rel, 6) ||
		    !all_shared(&r->u.members[5].val, node, 5))
			return false;
		const struct sl_value *ru[2] = {
		        &r->u.members[3].val,
		        &r->u.members[5].val.u.members[4].val};
		for (int k = 0; k < 2; k++) {
			bool found = false;
			for (int j = 0; j < 5; j++)
				found |= ru[k]->u.s == rules[j];
			if (!found)
				return false;
		}
	}
	return true;
}

/** The check step: adds each ingestion as it is and through JSON. */
struct twice {
	/** Common part. */
	struct sl_step base;
	/** The batch of the Interpreter's ingestions as they are. */
	struct sl_graph_batch *shared;
	/** The batch of the same ingestions through JSON. */
	struct sl_graph_batch *bytes;
	/** Ingestions seen. */
	int seen;
	/** Ingestions not named with the shared strings. */
	int unshared;
	/** Ingestions that either batch refused. */
	int refused;
};

/** Add one ingestion to both batches (copying: the record goes). */
static int
twice_process(struct sl_step *s, const struct sl_value *rec,
              struct sl_emit *out)
{
	(void)out;
	struct twice *t = (struct twice *)s;
	t->seen++;
	t->unshared += !ingestion_shared(rec);
	struct sl_value copy = through_json(rec);
	t->refused += sl_graph_batch_add(t->shared, rec) != 0;
	t->refused += sl_graph_batch_add(t->bytes, &copy) != 0;
	return 0;
}

/** Nothing to free: the case owns the step. */
static void
twice_destroy(struct sl_step *s)
{
	(void)s;
}

/** The check step's callbacks. */
static const struct sl_step_ops twice_ops = {
        .type = "Twice",
        .process = twice_process,
        .destroy = twice_destroy,
};

/** Run pipeline `p` (as a task). */
static int
pipeline_task(void *arg)
{
	return sl_pipeline_run(arg);
}

/** The Interpreter of the case `interp_shared` (a pipeline file). */
static const char *const interp_yaml =
        "- implementation: nodestream.pipeline:IterableExtractor\n"
        "  arguments:\n"
        "    iterable: [{id: 1, b: 2, team: a, tk: t1, n: x}, {id: 2, b: 1, "
        "team: a, tk: t1, n: y}, {id: 1, b: 2, team: 'q\"\\\\', tk: t2, "
        "n: z}]\n"
        "- implementation: interpreter\n"
        "  arguments:\n"
        "    interpretations:\n"
        "      - type: source_node\n"
        "        node_type: Player\n"
        "        key: {zid: !jmespath id, b: !jmespath b}\n"
        "        properties: {name: !jmespath n}\n"
        "        additional_types: [Person]\n"
        "      - type: relationship\n"
        "        node_type: Team\n"
        "        relationship_type: PLAYS_FOR\n"
        "        outbound: false\n"
        "        node_key: {name: !jmespath team}\n"
        "        relationship_key: {tk: !jmespath tk}\n"
        "        node_creation_rule: MATCH_ONLY\n"
        "        relationship_creation_rule: CREATE\n"
        "      - type: relationship\n"
        "        node_type: Team\n"
        "        relationship_type: LIKES\n"
        "        node_key: {name: !jmespath team}\n"
        "        match_strategy: FUZZY\n"
        "        relationship_creation_rule: MERGE_KEY\n"
        "      - type: relationship\n"
        "        node_type: Country\n"
        "        relationship_type: FROM\n"
        "        node_key: {code: !jmespath n}\n";

/**
 * The Interpreter's ingestions name every member and rule with the shared
 * strings, and make the writes that the same ingestions through JSON
 * (names equal by bytes only) make: rules of each kind, a key of two
 * names out of order, labels, a relationship key, an inbound one, a
 * value that needs escapes.
 */
TAP_CASE(interp_shared)
{
	(void)sl_steps_register_builtins();
	(void)sl_interp_register();
	char dir[] = "/tmp/sluice-names-XXXXXX";
	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp");
	char path[256];
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	FILE *f = fopen(path, "w");
	fputs(interp_yaml, f);
	fclose(f);
	struct sl_pipeline_file *pf = sl_pipeline_file_load(path, NULL);
	if (pf == NULL)
		bail_out("pipeline file: %s", sl_diag_last()->msg);
	struct sl_pipeline_opts o;
	sl_pipeline_opts_init(&o);
	struct sl_pipeline *p = sl_pipeline_new(&o);
	for (uint32_t i = 0; i < pf->n_steps; i++)
		sl_pipeline_add(p, sl_step_create(&pf->steps[i]));
	struct twice t;
	memset(&t, 0, sizeof(t));
	sl_step_init(&t.base, &twice_ops);
	t.shared = sl_graph_batch_new();
	t.bytes = sl_graph_batch_new();
	sl_pipeline_add(p, &t.base);
	is_int(run_task("names", pipeline_task, p), 0, "the pipeline runs");
	is_int(t.seen, 3, "three ingestions");
	is_int(t.unshared, 0, "each named and ruled with the shared strings");
	is_int(t.refused, 0, "both batches take them");
	struct sl_buf a, b;
	sl_buf_create(&a, 1 << 16);
	sl_buf_create(&b, 1 << 16);
	writes_text(t.shared, &a);
	writes_text(t.bytes, &b);
	is_str(a.data, b.data,
	       "names by address make the writes of names "
	       "by bytes");
	ok(t.shared->n_nodes == 9 && t.shared->n_rels == 9,
	   "9 node writes, 9 relationship writes (%u, %u)", t.shared->n_nodes,
	   t.shared->n_rels);
	if (!ok(strstr(a.data, "N 0 Player {\"b\":2,\"zid\":1} {") != NULL &&
	                strstr(a.data, "\"name\":\"z\",\"was_ingested_by_p\""
	                               ":true} [\"Person\"]") != NULL &&
	                strstr(a.data, "N 1 Team {\"name\":\"a\"}") != NULL &&
	                strstr(a.data, "N 2 Team {\"name\":\"a\"}") != NULL &&
	                strstr(a.data,
	                       "N 1 Team {\"name\":\"q\\\"\\\\\\\\\"}") != NULL,
	        "sorted keys, merged properties, labels, rules, escapes"))
		printf("# %s\n", a.data);
	ok(strstr(a.data, "R 2 PLAYS_FOR Team {\"name\":\"a\"} 0 Player "
	                  "{\"b\":2,\"zid\":1} 0 {\"tk\":\"t1\"}") != NULL &&
	           strstr(a.data, "R 1 LIKES Player {\"b\":2,\"zid\":1} 0 "
	                          "Team {\"name\":\"a\"} 1 {}") != NULL,
	   "an inbound CREATE with its key, an outbound MERGE_KEY to a fuzzy "
	   "node");
	sl_buf_destroy(&a);
	sl_buf_destroy(&b);
	sl_graph_batch_delete(t.shared);
	sl_graph_batch_delete(t.bytes);
	sl_pipeline_delete(p);
	sl_pipeline_file_delete(pf);
	unlink(path);
	rmdir(dir);
}

/** A member named `name` (`n` bytes) holding `v`. */
static struct sl_member
mem(const char *name, uint32_t n, struct sl_value v)
{
	return (struct sl_member){name, n, v};
}

/** A member named by shared name array `name` (its full length). */
#define M(name, v) mem((name), sizeof(name) - 1, (v))

/** A string value of a literal or a shared name array. */
#define S(s) sl_str_ref((s), sizeof(s) - 1)

/** An object of the `n` members at `m` (copied into the arena). */
static struct sl_value
obj(const struct sl_member *m, uint32_t n)
{
	struct sl_member *c = sl_arena_alloc(&arena, (n + 1) * sizeof(*c));
	memcpy(c, m, n * sizeof(*c));
	return sl_object_ref(c, n);
}

/**
 * A node in the Interpreter's shape, named by the shared strings, of type
 * `type` and key {"id": id}, labels `labels` and properties `props`
 * (values given), rule `rule`.
 */
static struct sl_value
node(struct sl_value type, struct sl_value labels, int64_t id,
     struct sl_value props, struct sl_value rule)
{
	struct sl_member k[1] = {mem("id", 2, sl_int(id))};
	struct sl_member m[5] = {M(sl_ing_type, type), M(sl_ing_labels, labels),
	                         M(sl_ing_key, obj(k, 1)),
	                         M(sl_ing_props, props), M(sl_ing_rule, rule)};
	return obj(m, 5);
}

/** Ingestion {source: src, rels: [rel]} named by the shared strings. */
static struct sl_value
ingestion(struct sl_value src, const struct sl_value *rel)
{
	struct sl_value *r = sl_arena_alloc(&arena, sizeof(*r));
	if (rel != NULL)
		*r = *rel;
	struct sl_member m[2] = {M(sl_ing_source, src),
	                         M(sl_ing_rels, sl_array_ref(r, rel != NULL))};
	return obj(m, 2);
}

/** The writes of one ingestion `ing` in a new batch, or the error. */
static void
writes_of(const struct sl_value *ing, struct sl_buf *out)
{
	struct sl_graph_batch *b = sl_graph_batch_new();
	if (sl_graph_batch_add(b, ing) != 0) {
		sl_buf_reset(out);
		sl_buf_printf(out, "error: %s", sl_diag_last()->msg);
		sl_diag_clear(sl_diag_get());
	} else {
		writes_text(b, out);
	}
	sl_graph_batch_delete(b);
}

/**
 * Ingestion `ing` makes what `json` (the same by bytes) makes, and that
 * is `want` (a part of its writes or of its error).
 */
static void
same_as_json(const struct sl_value *ing, const char *json, const char *want,
             const char *what)
{
	struct sl_value j;
	if (sl_json_parse(json, strlen(json), &arena, NULL, NULL, &j) != 0)
		bail_out("bad test JSON: %s", json);
	struct sl_buf a, b;
	sl_buf_create(&a, 1 << 16);
	sl_buf_create(&b, 1 << 16);
	writes_of(ing, &a);
	writes_of(&j, &b);
	if (!ok(strcmp(a.data, b.data) == 0 && strstr(a.data, want) != NULL,
	        "%s", what))
		printf("# as built:\n%s\n# through JSON:\n%s\n", a.data,
		       b.data);
	sl_buf_destroy(&a);
	sl_buf_destroy(&b);
}

/** An empty array and an empty object. */
#define NO_LABELS sl_array_ref(NULL, 0)
#define NO_PROPS  sl_object_ref(NULL, 0)

/**
 * The ingestion's own names at a shared address but of another length
 * are other names (a node's or a relationship's members at a shared
 * address are those names whole: value/ingest_names.h), and rule values
 * too; a shared name holding a value of another type is read as that
 * type says (as the same by bytes is); rules by address and by bytes.
 */
TAP_CASE(shared_address_other_name)
{
	struct sl_value eager = S(sl_rule_eager);
	struct sl_value n = node(S("T"), NO_LABELS, 1, NO_PROPS, eager);
	/* "sourc": no source. */
	struct sl_value ing = ingestion(n, NULL);
	ing.u.members[0].key_len = 5;
	same_as_json(&ing,
	             "{\"sourc\":{\"type\":\"T\",\"labels\":[],\"key\":{\"id\":"
	             "1},\"props\":{},\"rule\":\"EAGER\"},\"rels\":[]}",
	             "it has no source node", "\"sourc\" is no source");
	/* "EAGE" at the address of "EAGER": an unknown rule. */
	n = node(S("T"), NO_LABELS, 1, NO_PROPS, sl_str_ref(sl_rule_eager, 4));
	ing = ingestion(n, NULL);
	same_as_json(
	        &ing,
	        "{\"source\":{\"type\":\"T\",\"labels\":[],\"key\":{\"id\":"
	        "1},\"props\":{},\"rule\":\"EAGE\"},\"rels\":[]}",
	        "unknown node creation rule",
	        "\"EAGE\" at the address of \"EAGER\" is no rule");
	/* "MATCH" at the address of "MATCH_ONLY". */
	n = node(S("T"), NO_LABELS, 1, NO_PROPS,
	         sl_str_ref(sl_rule_match_only, 5));
	ing = ingestion(n, NULL);
	same_as_json(
	        &ing,
	        "{\"source\":{\"type\":\"T\",\"labels\":[],\"key\":{\"id\":"
	        "1},\"props\":{},\"rule\":\"MATCH\"},\"rels\":[]}",
	        "unknown node creation rule", "\"MATCH\" is no rule");
	/* Labels holding an object, props an array, rule a number: read as
	 * missing, as from JSON. */
	struct sl_member pm[1] = {mem("p", 1, sl_int(5))};
	n = node(S("T"), obj(pm, 1), 1, NO_LABELS, sl_int(3));
	ing = ingestion(n, NULL);
	same_as_json(&ing,
	             "{\"source\":{\"type\":\"T\",\"labels\":{\"p\":5},\"key\":"
	             "{\"id\":1},\"props\":[],\"rule\":3},\"rels\":[]}",
	             "N 0 T {\"id\":1} {} []",
	             "a shared name holding another type is missing");
	/* A type that is a number: no type. */
	n = node(sl_int(7), NO_LABELS, 1, NO_PROPS, eager);
	ing = ingestion(n, NULL);
	same_as_json(&ing,
	             "{\"source\":{\"type\":7,\"labels\":[],\"key\":{\"id\":1},"
	             "\"props\":{},\"rule\":\"EAGER\"},\"rels\":[]}",
	             "a node needs a type and a key", "a number is no type");
	/* A key that is empty. */
	n = node(S("T"), NO_LABELS, 1, NO_PROPS, eager);
	n.u.members[2].val.len = 0;
	ing = ingestion(n, NULL);
	same_as_json(&ing,
	             "{\"source\":{\"type\":\"T\",\"labels\":[],\"key\":{},"
	             "\"props\":{},\"rule\":\"EAGER\"},\"rels\":[]}",
	             "a node needs a type and a key", "an empty key");
	/* Labels that are not strings. */
	struct sl_value *li = sl_arena_alloc(&arena, sizeof(*li));
	*li = sl_int(1);
	n = node(S("T"), sl_array_ref(li, 1), 1, NO_PROPS, eager);
	ing = ingestion(n, NULL);
	same_as_json(
	        &ing,
	        "{\"source\":{\"type\":\"T\",\"labels\":[1],\"key\":{\"id\":"
	        "1},\"props\":{},\"rule\":\"EAGER\"},\"rels\":[]}",
	        "labels must be strings", "a label that is a number");
}

/** A relationship named by the shared strings. */
static struct sl_value
rel(struct sl_value type, struct sl_value key, struct sl_value rule,
    struct sl_value outbound, struct sl_value to)
{
	struct sl_member m[6] = {
	        M(sl_ing_type, type),         M(sl_ing_key, key),
	        M(sl_ing_props, NO_PROPS),    M(sl_ing_rule, rule),
	        M(sl_ing_outbound, outbound), M(sl_ing_node, to)};
	return obj(m, 6);
}

/** The JSON of the ingestions of case `rules`: a relationship `r`. */
static const char *
rel_json(char *buf, size_t size, const char *r)
{
	snprintf(buf, size,
	         "{\"source\":{\"type\":\"A\",\"labels\":[],\"key\":{\"id\":1},"
	         "\"props\":{},\"rule\":\"EAGER\"},\"rels\":[%s]}",
	         r);
	return buf;
}

/**
 * Each rule by its shared address and by its bytes; unknown rules (a
 * lower-case one, one too long, an empty one) fail by name; a
 * relationship's members at shared addresses of other lengths or types.
 */
TAP_CASE(rules)
{
	static const struct {
		const char *shared;
		const char *name;
		bool node;
		const char *want;
	} cases[] = {
	        {sl_rule_eager, "EAGER", true, "N 0 B"},
	        {sl_rule_match_only, "MATCH_ONLY", true, "N 1 B"},
	        {sl_rule_fuzzy, "FUZZY", true, "N 2 B"},
	        {sl_rule_eager, "EAGER", false, "R 0 R"},
	        {sl_rule_merge_key, "MERGE_KEY", false, "R 1 R"},
	        {sl_rule_create, "CREATE", false, "R 2 R"},
	};
	char buf[1024], r[512];
	struct sl_value src =
	        node(S("A"), NO_LABELS, 1, NO_PROPS, S(sl_rule_eager));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int shared = 0; shared < 2; shared++) {
			/* A copy of the name's bytes, or the shared one. */
			char *copy = sl_arena_alloc(&arena, 16);
			strcpy(copy, cases[i].name);
			struct sl_value rv =
			        sl_str_ref(shared ? cases[i].shared : copy,
			                   (uint32_t)strlen(cases[i].name));
			struct sl_value e = S(sl_rule_eager);
			struct sl_value to =
			        node(S("B"), NO_LABELS, 2, NO_PROPS,
			             cases[i].node ? rv : e);
			struct sl_value rl =
			        rel(S("R"), NO_PROPS, cases[i].node ? e : rv,
			            sl_bool(true), to);
			struct sl_value ing = ingestion(src, &rl);
			snprintf(r, sizeof(r),
			         "{\"type\":\"R\",\"key\":{},\"props\":{},"
			         "\"rule\":\"%s\",\"outbound\":true,\"node\":{"
			         "\"type\":\"B\",\"labels\":[],\"key\":{\"id\":"
			         "2},"
			         "\"props\":{},\"rule\":\"%s\"}}",
			         cases[i].node ? "EAGER" : cases[i].name,
			         cases[i].node ? cases[i].name : "EAGER");
			same_as_json(&ing, rel_json(buf, sizeof(buf), r),
			             cases[i].want, cases[i].name);
		}
	}
	static const char *const unknown[] = {"eager", "EAGERX", "", "CREATE ",
	                                      "MATCH_ONLY"};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		struct sl_value to =
		        node(S("B"), NO_LABELS, 2, NO_PROPS, S(sl_rule_eager));
		struct sl_value rl = rel(
		        S("R"), NO_PROPS,
		        sl_str_ref(unknown[i], (uint32_t)strlen(unknown[i])),
		        sl_bool(true), to);
		struct sl_value ing = ingestion(src, &rl);
		snprintf(
		        r, sizeof(r),
		        "{\"type\":\"R\",\"key\":{},\"props\":{},\"rule\":\"%"
		        "s\","
		        "\"outbound\":true,\"node\":{\"type\":\"B\",\"labels\":"
		        "[],\"key\":{\"id\":2},\"props\":{},\"rule\":\"EAGER\"}"
		        "}",
		        unknown[i]);
		same_as_json(&ing, rel_json(buf, sizeof(buf), r),
		             "unknown relationship creation rule", unknown[i]);
	}
	/* "CREAT" at the address of "CREATE". */
	struct sl_value to =
	        node(S("B"), NO_LABELS, 2, NO_PROPS, S(sl_rule_eager));
	struct sl_value rl =
	        rel(S("R"), NO_PROPS, sl_str_ref(sl_rule_create, 5),
	            sl_bool(true), to);
	struct sl_value ing = ingestion(src, &rl);
	snprintf(r, sizeof(r),
	         "{\"type\":\"R\",\"key\":{},\"props\":{},\"rule\":\"CREAT\","
	         "\"outbound\":true,\"node\":{\"type\":\"B\",\"labels\":[],"
	         "\"key\":{\"id\":2},\"props\":{},\"rule\":\"EAGER\"}}");
	same_as_json(&ing, rel_json(buf, sizeof(buf), r),
	             "unknown relationship creation rule",
	             "\"CREAT\" at the address of \"CREATE\"");
	/* "outbound" holding a string: missing, so outbound; a relationship
	 * key. */
	struct sl_member km[1] = {mem("k", 1, S("v"))};
	rl = rel(S("R"), obj(km, 1), S(sl_rule_eager), S("no"), to);
	ing = ingestion(src, &rl);
	snprintf(r, sizeof(r),
	         "{\"type\":\"R\",\"key\":{\"k\":\"v\"},\"props\":{},\"rule\":"
	         "\"EAGER\",\"outbound\":\"no\",\"node\":{\"type\":\"B\","
	         "\"labels\":[],\"key\":{\"id\":2},\"props\":{},\"rule\":"
	         "\"EAGER\"}}");
	same_as_json(&ing, rel_json(buf, sizeof(buf), r),
	             "R 0 R A {\"id\":1} 0 B {\"id\":2} 0 {\"k\":\"v\"}",
	             "outbound holding a string reads as outbound");
	rl = rel(S("R"), NO_PROPS, S(sl_rule_eager), sl_bool(false), to);
	ing = ingestion(src, &rl);
	snprintf(r, sizeof(r),
	         "{\"type\":\"R\",\"key\":{},\"props\":{},\"rule\":\"EAGER\","
	         "\"outbound\":false,\"node\":{\"type\":\"B\",\"labels\":[],"
	         "\"key\":{\"id\":2},\"props\":{},\"rule\":\"EAGER\"}}");
	same_as_json(&ing, rel_json(buf, sizeof(buf), r),
	             "R 0 R B {\"id\":2} 0 A {\"id\":1} 0 {}",
	             "an inbound relationship");
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
