/*
 * The SQLite graph store: schema creation and refusal of foreign files,
 * every write rule (nodes EAGER, MATCH_ONLY, FUZZY; relationships EAGER,
 * MERGE_KEY, CREATE), statistics, rollback, reopening, idempotence and the
 * exact export; counts made on commit when a commit fails for real (the
 * disk full at COMMIT, SQLITE_FULL in a statement). Real database files in
 * a temporary directory.
 */
#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/sqlite_store.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/jsonread.h"
#include "unit.h"

/** The temporary directory of this run. */
static char tmpdir[64];

/** A path in the temporary directory (a static buffer per call slot). */
static const char *
tmp_path(const char *name)
{
	static char bufs[4][256];
	static int next;
	char *p = bufs[next++ % 4];
	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

/** Remove the temporary directory and what it holds. */
static void
tmp_cleanup(void)
{
	DIR *d = opendir(tmpdir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/** A new empty batch. */
static struct sl_graph_batch *
batch_new(void)
{
	struct sl_graph_batch *b = calloc(1, sizeof(*b));
	if (b == NULL)
		bail_out("out of memory");
	sl_arena_create(&b->arena, 4096, 1 << 24);
	return b;
}

/** Free a batch. */
static void
batch_free(struct sl_graph_batch *b)
{
	free(b->nodes);
	free(b->rels);
	sl_arena_destroy(&b->arena);
	free(b);
}

/** Parse JSON text into the batch's arena (NULL: the null value). */
static struct sl_value
J(struct sl_graph_batch *b, const char *json) {
	struct sl_value v = sl_null();
	if (json != NULL &&
	    sl_json_parse(json, strlen(json), &b->arena, NULL, "test", &v) != 0)
		bail_out("bad test JSON: %s", json);
	return v;
}

/** A string value referring to a literal. */
static struct sl_value
S(const char *s) {
	return sl_str_ref(s, (uint32_t)strlen(s));
}

/** Append a node write. */
static void
add_node(struct sl_graph_batch *b, enum sl_node_rule rule, const char *type,
         const char *key, const char *labels, const char *props)
{
	if (b->n_nodes == b->cap_nodes) {
		b->cap_nodes = b->cap_nodes ? b->cap_nodes * 2 : 8;
		b->nodes = realloc(b->nodes, b->cap_nodes * sizeof(*b->nodes));
		if (b->nodes == NULL)
			bail_out("out of memory");
	}
	struct sl_node_op *op = &b->nodes[b->n_nodes++];
	memset(op, 0, sizeof(*op));
	op->type = S(type);
	op->key = J(b, key);
	op->labels = J(b, labels);
	op->props = J(b, props);
	op->rule = rule;
}

/** One end of a relationship: "Type" and key JSON; `fuzzy` for patterns. */
struct end {
	/** The node type. */
	const char *type;
	/** Its key as JSON text. */
	const char *key;
	/** Whether the key holds patterns. */
	bool fuzzy;
};

/** Append a relationship write. */
static void
add_rel(struct sl_graph_batch *b, enum sl_rel_rule rule, const char *type,
        struct end from, struct end to, const char *key, const char *props)
{
	if (b->n_rels == b->cap_rels) {
		b->cap_rels = b->cap_rels ? b->cap_rels * 2 : 8;
		b->rels = realloc(b->rels, b->cap_rels * sizeof(*b->rels));
		if (b->rels == NULL)
			bail_out("out of memory");
	}
	struct sl_rel_op *op = &b->rels[b->n_rels++];
	memset(op, 0, sizeof(*op));
	op->type = S(type);
	op->from.type = S(from.type);
	op->from.key = J(b, from.key);
	op->from.fuzzy = from.fuzzy;
	op->to.type = S(to.type);
	op->to.key = J(b, to.key);
	op->to.fuzzy = to.fuzzy;
	op->key = J(b, key);
	op->props = J(b, props);
	op->rule = rule;
}

/** Export callback: append the line and a newline to a buffer. */
static int
collect(void *arg, const char *json, size_t len)
{
	struct sl_buf *out = arg;
	if (sl_buf_append(out, json, len) != 0 || sl_buf_putc(out, '\n') != 0)
		return -1;
	return 0;
}

/** Export callback that stops after the first line. */
static int
collect_one(void *arg, const char *json, size_t len)
{
	struct sl_buf *out = arg;
	sl_buf_append(out, json, len);
	sl_buf_putc(out, '\n');
	return 1;
}

/** The whole export as text (malloc'd), or NULL when it failed. */
static char *
export_text(struct sl_store_sqlite *s)
{
	struct sl_buf out;
	sl_buf_create(&out, 1 << 24);
	if (sl_store_sqlite_export(s, collect, &out) != 0 ||
	    sl_buf_putc(&out, '\0') != 0) {
		sl_buf_destroy(&out);
		return NULL;
	}
	char *r = strdup(out.data);
	sl_buf_destroy(&out);
	return r;
}

/** Number of lines of `text`. */
static int
count_lines(const char *text)
{
	int n = 0;
	for (const char *p = text; p != NULL && *p != '\0'; p++)
		n += *p == '\n';
	return n;
}

/** Run one SQL statement on a raw connection; the first column as int. */
static long long
raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	long long v = -1;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		bail_out("cannot open %s", path);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

/** sluice_meta's schema_version of the graph at `path`. */
static long long
schema_version(const char *path)
{
	return raw_int(path, "SELECT value FROM sluice_meta WHERE name = "
	                     "'schema_version'");
}

/**
 * Run one SQL statement on a raw connection: the first column of its
 * first row as text, in a static buffer ("" for none).
 */
static const char *
raw_text(const char *path, const char *sql)
{
	static char text[1 << 16];
	sqlite3 *db;
	text[0] = '\0';
	if (sqlite3_open(path, &db) != SQLITE_OK)
		bail_out("cannot open %s", path);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			snprintf(text, sizeof(text), "%s",
			         (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return text;
}

/** Run SQL on a raw connection. 0 or -1. */
static int
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		bail_out("cannot open %s", path);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/** Write a batch and free it; the result of the write. */
static int
write_free(struct sl_store_sqlite *s, struct sl_graph_batch *b,
           struct sl_graph_counts *st)
{
	int rc = sl_store_sqlite_write(s, b, st);
	batch_free(b);
	return rc;
}

/** Whether the current error message contains `what`. */
static bool
err_has(const char *what)
{
	char msg[2048];
	struct sl_error *e = sl_diag_last();
	if (e == NULL)
		return false;
	sl_error_format(e, msg, sizeof(msg));
	if (strstr(msg, what) == NULL) {
		note("error: %s", msg);
		return false;
	}
	return true;
}

/** The store on `path`, opened to write; the test stops if it cannot. */
static struct sl_store_sqlite *
open_or_bail(const char *path)
{
	struct sl_store_sqlite *s = sl_store_sqlite_open(path);
	if (s == NULL)
		bail_out("cannot open %s", path);
	return s;
}

/** Node rules: create, merge, labels, MATCH_ONLY. */
TAP_TASK_CASE(nodes)
{
	const char *path = tmp_path("nodes.db");
	struct sl_store_sqlite *s = sl_store_sqlite_open(path);
	ok(s != NULL, "a new database opens");
	if (s == NULL)
		bail_out("cannot go on");
	is_int(schema_version(path), 2, "schema_version is 2");
	is_int(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = "
	                     "'index' AND name IN ('sluice_node_type_key', "
	                     "'sluice_rel_identity')"),
	       2, "the indexes the writes read exist");
	is_int(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = "
	                     "'sluice_rel_out'"),
	       0, "no index of out-edges besides the identity index");

	struct sl_graph_counts st = {0};
	struct sl_graph_batch *b = batch_new();
	add_node(b, SL_NODE_EAGER, "Person", "{\"id\":\"1\"}",
	         "[\"b\",\"a\",\"a\",\"Person\"]",
	         "{\"name\":\"Ann\",\"age\":30,\"gone\":null,\"f\":1.50}");
	is_int(write_free(s, b, &st), 0, "EAGER on a new node");
	is_int(st.nodes_created, 1, "counted as created");
	is_int(st.nodes_updated, 0, "not as updated");
	char *e = export_text(s);
	is_str(e,
	       "{\"key\":{\"id\":\"1\"},\"labels\":[\"a\",\"b\"],\"node\":"
	       "\"Person\",\"props\":{\"age\":30,\"f\":1.5,\"name\":\"Ann\"}}"
	       "\n",
	       "labels sorted and unique without the type, a null property "
	       "is not stored");
	free(e);

	b = batch_new();
	add_node(b, SL_NODE_EAGER, "Person", "{\"id\":\"1\"}", "[\"c\",\"a\"]",
	         "{\"age\":31,\"name\":null,\"x\":true}");
	is_int(write_free(s, b, &st), 0, "EAGER on an existing node");
	is_int(st.nodes_created, 1, "nothing more created");
	is_int(st.nodes_updated, 1, "counted as updated");
	e = export_text(s);
	is_str(e,
	       "{\"key\":{\"id\":\"1\"},\"labels\":[\"a\",\"b\",\"c\"],"
	       "\"node\":\"Person\",\"props\":{\"age\":31,\"f\":1.5,\"x\":true}"
	       "}\n",
	       "later props win, null removes, labels accumulate");
	free(e);

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_MATCH_ONLY, "Person", "{\"id\":\"2\"}", NULL,
	         "{\"a\":1}");
	add_node(b, SL_NODE_MATCH_ONLY, "Person", "{\"id\":\"1\"}", "[\"z\"]",
	         "{\"m\":1}");
	add_node(b, SL_NODE_EAGER, "Person", "{\"id\":\"1\"}", "[]", "{}");
	is_int(write_free(s, b, &st), 0, "MATCH_ONLY writes");
	is_int(st.nodes_unmatched, 1, "a missing node is unmatched");
	is_int(st.nodes_updated, 2,
	       "an existing one is updated, and an "
	       "empty EAGER write counts too");
	is_int(st.nodes_created, 0, "MATCH_ONLY creates nothing");
	is_int(raw_int(path, "SELECT count(*) FROM node"), 1, "still one node");
	is_int(raw_int(path, "SELECT json_extract(props, '$.m') FROM node"), 1,
	       "the MATCH_ONLY props were merged");
	is_int(raw_int(path, "SELECT labels = '[\"a\",\"b\",\"c\",\"z\"]' "
	                     "FROM node"),
	       1, "the MATCH_ONLY labels were added");

	/* Same key written with members in another order: one node. */
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "Pair", "{\"b\":2,\"a\":1}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "Pair", "{\"a\":1,\"b\":2}", NULL,
	         "{\"p\":1}");
	memset(&st, 0, sizeof(st));
	is_int(write_free(s, b, &st), 0, "keys in two member orders");
	ok(st.nodes_created == 1 && st.nodes_updated == 1,
	   "are one node (canonical key text)");
	is_int(raw_int(path, "SELECT count(*) FROM node WHERE type = 'Pair' "
	                     "AND key = '{\"a\":1,\"b\":2}'"),
	       1, "stored as sorted compact JSON");
	sl_store_sqlite_close(s);
}

/**
 * Repeated writes of one node: a merge identical to the last is skipped,
 * but never when another write came in between (P, Q, P ends with P's
 * values), whatever the rule of that other write.
 */
TAP_TASK_CASE(repeats)
{
	const char *path = tmp_path("repeats.db");
	struct sl_store_sqlite *s = sl_store_sqlite_open(path);
	struct sl_graph_counts st = {0};
	static const char *const between[] = {"EAGER", "MATCH_ONLY", "FUZZY"};
	for (int i = 0; i < 3; i++) {
		enum sl_node_rule r = (enum sl_node_rule)i;
		const char *key = r == SL_NODE_FUZZY ? "{\"id\":\"n.*\"}"
		                                     : "{\"id\":\"n1\"}";
		struct sl_graph_batch *b = batch_new();
		add_node(b, SL_NODE_EAGER, "N", "{\"id\":\"n1\"}", NULL,
		         "{\"a\":1,\"t\":\"x\"}");
		write_free(s, b, &st);
		b = batch_new();
		add_node(b, SL_NODE_EAGER, "N", "{\"id\":\"n1\"}", NULL,
		         "{\"a\":1,\"t\":\"x\"}");
		write_free(s, b, &st);
		b = batch_new();
		add_node(b, r, "N", key, "[\"L\"]", "{\"a\":2}");
		write_free(s, b, &st);
		is_int(raw_int(path,
		               "SELECT json_extract(props, '$.a') FROM node "
		               "WHERE type = 'N'"),
		       2, "%s in between changed the node", between[i]);
		b = batch_new();
		add_node(b, SL_NODE_EAGER, "N", "{\"id\":\"n1\"}", NULL,
		         "{\"a\":1,\"t\":\"x\"}");
		is_int(write_free(s, b, &st), 0, "the first write again");
		is_int(raw_int(path,
		               "SELECT json_extract(props, '$.a') FROM node "
		               "WHERE type = 'N'"),
		       1, "after %s: P, Q, P ends with P", between[i]);
	}
	is_int(raw_int(path, "SELECT labels = '[\"L\"]' FROM node"), 1,
	       "labels stay");
	sl_store_sqlite_close(s);
}

/** FUZZY nodes: several, none, anchoring, non-strings, bad patterns. */
TAP_TASK_CASE(fuzzy_nodes)
{
	const char *path = tmp_path("fuzzy.db");
	struct sl_store_sqlite *s = open_or_bail(path);
	struct sl_graph_counts st = {0};
	struct sl_graph_batch *b = batch_new();
	add_node(b, SL_NODE_EAGER, "P", "{\"id\":\"p-1\"}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "P", "{\"id\":\"p-2\"}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "P", "{\"id\":\"q-1\"}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "Q", "{\"id\":\"p-9\"}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "T", "{\"k\":\"xaby\"}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "T", "{\"k\":\"ab\"}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "N", "{\"n\":5}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "N", "{\"n\":\"5\"}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "D", "{\"a.b\":\"x\",\"c\":1}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "U", "{\"name\":\"Ünïcode\"}", NULL, NULL);
	is_int(write_free(s, b, &st), 0, "nodes for fuzzy matching");
	is_int(st.nodes_created, 10, "ten created");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_FUZZY, "P", "{\"id\":\"p-.*\"}", "[\"L\"]",
	         "{\"f\":1}");
	is_int(write_free(s, b, &st), 0, "FUZZY p-.*");
	is_int(st.nodes_updated, 2, "updates both matching nodes of the type");
	is_int(raw_int(path, "SELECT count(*) FROM node WHERE "
	                     "json_extract(props, '$.f') = 1"),
	       2, "and only those (not q-1, not the other type)");
	is_int(raw_int(path, "SELECT count(*) FROM node WHERE labels = "
	                     "'[\"L\"]'"),
	       2, "labels added to both");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_FUZZY, "P", "{\"id\":\"z.*\"}", NULL, "{\"g\":1}");
	is_int(write_free(s, b, &st), 0, "FUZZY matching nothing");
	is_int(st.nodes_unmatched, 1, "is unmatched");
	is_int(st.nodes_updated, 0, "updates nothing");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_FUZZY, "T", "{\"k\":\"ab\"}", NULL, "{\"hit\":1}");
	is_int(write_free(s, b, &st), 0, "FUZZY ab");
	is_int(st.nodes_updated, 1, "matches the whole string only");
	is_int(raw_int(path, "SELECT count(*) FROM node WHERE "
	                     "json_extract(props, '$.hit') = 1 AND key = "
	                     "'{\"k\":\"ab\"}'"),
	       1, "ab, not xaby");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_FUZZY, "T", "{\"k\":\"a|ab\"}", NULL, NULL);
	add_node(b, SL_NODE_FUZZY, "T", "{\"k\":\"x.*\"}", NULL, NULL);
	add_node(b, SL_NODE_FUZZY, "U", "{\"name\":\"\\\\w+\"}", NULL, NULL);
	is_int(write_free(s, b, &st), 0, "FUZZY alternation, prefix, Unicode");
	is_int(st.nodes_updated, 3,
	       "a|ab matches ab, x.* matches xaby, \\w+ matches Unicode "
	       "letters");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_FUZZY, "N", "{\"n\":5}", NULL, "{\"num\":1}");
	add_node(b, SL_NODE_FUZZY, "D", "{\"a.b\":\"x\",\"c\":1}", NULL, NULL);
	add_node(b, SL_NODE_FUZZY, "D", "{\"a.b\":\"x\",\"c\":2}", NULL, NULL);
	is_int(write_free(s, b, &st), 0, "FUZZY with non-string values");
	is_int(st.nodes_updated, 2,
	       "a number matches the same number; a dotted key name works");
	is_int(st.nodes_unmatched, 1, "a different number does not match");
	is_int(raw_int(path, "SELECT count(*) FROM node WHERE "
	                     "json_extract(props, '$.num') = 1 AND key = "
	                     "'{\"n\":5}'"),
	       1, "5, not \"5\"");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "P", "{\"id\":\"p-3\"}", NULL, NULL);
	add_node(b, SL_NODE_FUZZY, "P", "{\"id\":\"(\"}", NULL, NULL);
	is_int(write_free(s, b, &st), -1, "an invalid pattern fails the write");
	is_err(SL_EDB, "with EDB");
	ok(err_has("writing node 1 of the batch (type P)") &&
	           err_has("invalid regular expression"),
	   "naming the operation and the pattern error");
	is_int(raw_int(path, "SELECT count(*) FROM node WHERE key = "
	                     "'{\"id\":\"p-3\"}'"),
	       0, "the node written before it was rolled back");
	is_int(st.nodes_created, 0, "and the stats untouched");
	sl_store_sqlite_close(s);
}

/** Relationship rules, keys, missing and fuzzy endpoints, export. */
TAP_TASK_CASE(rels)
{
	const char *path = tmp_path("rels.db");
	struct sl_store_sqlite *s = open_or_bail(path);
	struct end p1 = {"Person", "{\"id\":1}", false};
	struct end p2 = {"Person", "{\"id\":2}", false};
	struct end t1 = {"Team", "{\"id\":\"t1\"}", false};
	struct sl_graph_counts st = {0};
	struct sl_graph_batch *b = batch_new();
	/* Relationships come first in the arrays but are written last. */
	add_rel(b, SL_REL_EAGER, "KNOWS", p1, p2, "{}", "{\"since\":1}");
	add_node(b, SL_NODE_EAGER, "Person", "{\"id\":1}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "Person", "{\"id\":2}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "Team", "{\"id\":\"t1\"}", NULL, NULL);
	is_int(write_free(s, b, &st), 0, "nodes and a relationship");
	is_int(st.rels_created, 1,
	       "a relationship whose endpoints come in the same batch is "
	       "written");
	is_int(st.nodes_created, 3, "three nodes");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_rel(b, SL_REL_EAGER, "KNOWS", p1, p2, NULL,
	        "{\"since\":2,\"w\":1,\"x\":null}");
	is_int(write_free(s, b, &st), 0, "the same relationship again");
	is_int(st.rels_updated, 1, "is updated");
	is_int(st.rels_created, 0, "not created");
	is_int(raw_int(path, "SELECT count(*) FROM rel"), 1, "one row");
	is_int(raw_int(path, "SELECT json_extract(props, '$.since') FROM rel"),
	       2, "later props win");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_rel(b, SL_REL_MERGE_KEY, "PLAYS", p1, t1, "{\"season\":2020}",
	        "{\"n\":1}");
	add_rel(b, SL_REL_MERGE_KEY, "PLAYS", p1, t1, "{\"season\":2021}",
	        "{\"n\":2}");
	add_rel(b, SL_REL_MERGE_KEY, "PLAYS", p1, t1, "{\"season\":2020}",
	        "{\"n\":3}");
	is_int(write_free(s, b, &st), 0, "MERGE_KEY with keys");
	is_int(st.rels_created, 2, "two parallel edges by key");
	is_int(st.rels_updated, 1, "the third merges into the first");
	is_int(raw_int(path, "SELECT json_extract(props, '$.n') FROM rel "
	                     "WHERE key = '{\"season\":2020}'"),
	       3, "with its props");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_rel(b, SL_REL_CREATE, "MET", p1, p2, "{}", "{\"at\":\"x\"}");
	add_rel(b, SL_REL_CREATE, "MET", p1, p2, "{}", "{\"at\":\"x\"}");
	is_int(write_free(s, b, &st), 0, "CREATE twice");
	is_int(st.rels_created, 2, "two created");
	is_int(raw_int(path, "SELECT count(*) FROM rel WHERE type = 'MET' "
	                     "AND multi > 0"),
	       2, "two rows, marked multi");
	is_str(raw_text(path, "SELECT group_concat(multi, ' ') FROM (SELECT "
	                      "multi FROM rel WHERE type = 'MET' ORDER BY id)"),
	       "1 2", "told apart: multi 1, then 2");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_rel(b, SL_REL_EAGER, "KNOWS", p1,
	        (struct end){"Person", "{\"id\":99}", false}, "{}", NULL);
	add_rel(b, SL_REL_EAGER, "KNOWS",
	        (struct end){"Ghost", "{\"id\":1}", false}, p1, "{}", NULL);
	add_rel(b, SL_REL_EAGER, "KNOWS", p1,
	        (struct end){"Person", "{\"id\":\"9.*\"}", true}, "{}", NULL);
	is_int(write_free(s, b, &st), 0, "relationships to missing nodes");
	is_int(st.rels_skipped, 3, "are skipped and counted");
	is_int(st.rels_created, 0, "none created");
	is_int(st.nodes_created, 0, "endpoints are never created");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "Team", "{\"id\":\"t2\"}", NULL, NULL);
	add_rel(b, SL_REL_EAGER, "FAN",
	        (struct end){"Person", "{\"id\":\".*\"}", true},
	        (struct end){"Team", "{\"id\":\"t.\"}", true}, NULL, NULL);
	add_rel(b, SL_REL_EAGER, "LIKES",
	        (struct end){"Person", "{\"id\":\".*\"}", true},
	        (struct end){"Team", "{\"id\":\"t1\"}", false}, NULL, NULL);
	is_int(write_free(s, b, &st), 0, "fuzzy endpoints");
	is_int(st.rels_created, 0,
	       "a pattern never matches a number (the persons' ids)");
	is_int(st.rels_skipped, 2, "so both are skipped");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "Person", "{\"id\":\"s1\"}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "Person", "{\"id\":\"s2\"}", NULL, NULL);
	add_rel(b, SL_REL_EAGER, "FAN",
	        (struct end){"Person", "{\"id\":\"s.\"}", true},
	        (struct end){"Team", "{\"id\":\"t.\"}", true}, NULL,
	        "{\"f\":1}");
	is_int(write_free(s, b, &st), 0, "fuzzy endpoints matching several");
	is_int(st.rels_created, 4, "one relationship per pair (2 x 2)");
	is_int(st.nodes_created, 2, "after the nodes of the batch");

	/* Ordered by type, then key text: "s1" sorts before 1 (" < 1). */
	char *e = export_text(s);
	const char *want =
	        "{\"key\":{\"id\":\"s1\"},\"labels\":[],\"node\":\"Person\","
	        "\"props\":{}}\n"
	        "{\"key\":{\"id\":\"s2\"},\"labels\":[],\"node\":\"Person\","
	        "\"props\":{}}\n"
	        "{\"key\":{\"id\":1},\"labels\":[],\"node\":\"Person\","
	        "\"props\":{}}\n"
	        "{\"key\":{\"id\":2},\"labels\":[],\"node\":\"Person\","
	        "\"props\":{}}\n"
	        "{\"key\":{\"id\":\"t1\"},\"labels\":[],\"node\":\"Team\","
	        "\"props\":{}}\n"
	        "{\"key\":{\"id\":\"t2\"},\"labels\":[],\"node\":\"Team\","
	        "\"props\":{}}\n"
	        "{\"from\":{\"key\":{\"id\":\"s1\"},\"node\":\"Person\"},"
	        "\"key\":{},\"props\":{\"f\":1},\"rel\":\"FAN\",\"to\":{"
	        "\"key\":"
	        "{\"id\":\"t1\"},\"node\":\"Team\"}}\n"
	        "{\"from\":{\"key\":{\"id\":\"s1\"},\"node\":\"Person\"},"
	        "\"key\":{},\"props\":{\"f\":1},\"rel\":\"FAN\",\"to\":{"
	        "\"key\":"
	        "{\"id\":\"t2\"},\"node\":\"Team\"}}\n"
	        "{\"from\":{\"key\":{\"id\":\"s2\"},\"node\":\"Person\"},"
	        "\"key\":{},\"props\":{\"f\":1},\"rel\":\"FAN\",\"to\":{"
	        "\"key\":"
	        "{\"id\":\"t1\"},\"node\":\"Team\"}}\n"
	        "{\"from\":{\"key\":{\"id\":\"s2\"},\"node\":\"Person\"},"
	        "\"key\":{},\"props\":{\"f\":1},\"rel\":\"FAN\",\"to\":{"
	        "\"key\":"
	        "{\"id\":\"t2\"},\"node\":\"Team\"}}\n"
	        "{\"from\":{\"key\":{\"id\":1},\"node\":\"Person\"},\"key\":{},"
	        "\"props\":{\"since\":2,\"w\":1},\"rel\":\"KNOWS\",\"to\":{"
	        "\"key\":{\"id\":2},\"node\":\"Person\"}}\n"
	        "{\"from\":{\"key\":{\"id\":1},\"node\":\"Person\"},\"key\":{},"
	        "\"props\":{\"at\":\"x\"},\"rel\":\"MET\",\"to\":{\"key\":{"
	        "\"id\":2},\"node\":\"Person\"}}\n"
	        "{\"from\":{\"key\":{\"id\":1},\"node\":\"Person\"},\"key\":{},"
	        "\"props\":{\"at\":\"x\"},\"rel\":\"MET\",\"to\":{\"key\":{"
	        "\"id\":2},\"node\":\"Person\"}}\n"
	        "{\"from\":{\"key\":{\"id\":1},\"node\":\"Person\"},\"key\":{"
	        "\"season\":2020},\"props\":{\"n\":3},\"rel\":\"PLAYS\",\"to\":"
	        "{\"key\":{\"id\":\"t1\"},\"node\":\"Team\"}}\n"
	        "{\"from\":{\"key\":{\"id\":1},\"node\":\"Person\"},\"key\":{"
	        "\"season\":2021},\"props\":{\"n\":2},\"rel\":\"PLAYS\",\"to\":"
	        "{\"key\":{\"id\":\"t1\"},\"node\":\"Team\"}}\n";
	is_str(e, want, "the export, line by line");
	if (e != NULL && strcmp(e, want) != 0)
		note("got:\n%s", e);
	free(e);

	struct sl_buf one;
	sl_buf_create(&one, 1 << 20);
	is_int(sl_store_sqlite_export(s, collect_one, &one), -1,
	       "an export stops when the callback says so");
	is_int(count_lines(one.data), 1, "after one line");
	sl_buf_destroy(&one);
	e = export_text(s);
	is_int(e != NULL ? count_lines(e) : -1, 15,
	       "and the next export sees everything again");
	free(e);

	/* Reopen: the graph continues. */
	sl_store_sqlite_close(s);
	s = sl_store_sqlite_open(path);
	ok(s != NULL, "the database reopens");
	if (s == NULL)
		bail_out("cannot go on");
	e = export_text(s);
	is_str(e, want, "with the same graph");
	free(e);
	memset(&st, 0, sizeof(st));
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "Person", "{\"id\":1}", NULL, "{\"v\":1}");
	add_rel(b, SL_REL_EAGER, "KNOWS", p2, p1, NULL, NULL);
	is_int(write_free(s, b, &st), 0, "and takes more writes");
	ok(st.nodes_updated == 1 && st.rels_created == 1,
	   "updating old nodes and linking them");
	sl_store_sqlite_close(s);
}

/** Write two batches; the same batches again give the same graph. */
TAP_TASK_CASE(idempotence)
{
	const char *path = tmp_path("idem.db");
	struct sl_store_sqlite *s = open_or_bail(path);
	char *first = NULL;
	for (int round = 0; round < 2; round++) {
		struct sl_graph_counts st = {0};
		struct sl_graph_batch *b = batch_new();
		add_node(b, SL_NODE_EAGER, "A", "{\"k\":\"a1\"}", "[\"X\"]",
		         "{\"p\":1,\"q\":null}");
		add_node(b, SL_NODE_EAGER, "B", "{\"k\":\"b1\"}", NULL,
		         "{\"p\":[1,2]}");
		add_rel(b, SL_REL_EAGER, "R",
		        (struct end){"A", "{\"k\":\"a1\"}", false},
		        (struct end){"B", "{\"k\":\"b1\"}", false}, NULL,
		        "{\"w\":1}");
		int rc = write_free(s, b, &st);
		b = batch_new();
		add_node(b, SL_NODE_MATCH_ONLY, "A", "{\"k\":\"a1\"}", NULL,
		         "{\"p\":2}");
		add_rel(b, SL_REL_MERGE_KEY, "R",
		        (struct end){"A", "{\"k\":\"a.\"}", true},
		        (struct end){"B", "{\"k\":\"b1\"}", false}, "{\"x\":1}",
		        NULL);
		rc |= write_free(s, b, &st);
		is_int(rc, 0, "round %d written", round + 1);
		char *e = export_text(s);
		if (round == 0) {
			first = e;
			is_int(count_lines(e), 4,
			       "two nodes, two relationships");
		} else {
			is_str(e, first, "the second round changes nothing");
			ok(st.nodes_created == 0 && st.rels_created == 0 &&
			           st.nodes_updated == 3 &&
			           st.rels_updated == 2,
			   "and only updates");
			free(e);
		}
	}
	free(first);
	sl_store_sqlite_close(s);
}

/** Rollback on bad input and on a lock held by another connection. */
TAP_TASK_CASE(rollback)
{
	const char *path = tmp_path("rollback.db");
	struct sl_store_sqlite *s = open_or_bail(path);
	struct sl_graph_counts st = {0};
	struct sl_graph_batch *b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":1}", NULL, NULL);
	is_int(write_free(s, b, &st), 0, "a first node");
	char *before = export_text(s);

	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":2}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":1}", NULL, "{\"changed\":1}");
	add_rel(b, SL_REL_EAGER, "R", (struct end){"A", "{\"k\":1}", false},
	        (struct end){"A", "{\"k\":2}", false}, NULL, NULL);
	add_rel(b, SL_REL_EAGER, "R", (struct end){"A", "[1]", false},
	        (struct end){"A", "{\"k\":2}", false}, NULL, NULL);
	memset(&st, 0, sizeof(st));
	is_int(write_free(s, b, &st), -1, "a key that is no object fails");
	is_err(SL_EINVAL, "with EINVAL");
	ok(err_has("writing relationship 1 of the batch (type R)") &&
	           err_has("the key must be an object (got array)"),
	   "naming the operation");
	char *after = export_text(s);
	is_str(after, before, "nothing of the batch was kept");
	free(after);
	ok(st.nodes_created == 0 && st.rels_created == 0,
	   "stats of a failed batch are not added");

	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":3}", "\"notarray\"", NULL);
	is_int(write_free(s, b, &st), -1, "labels that are no array fail");
	is_err(SL_EINVAL, "with EINVAL");
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":3}", NULL, "[1]");
	is_int(write_free(s, b, &st), -1, "props that are no object fail");

	/* Another connection holds the write lock. */
	sqlite3 *other;
	sqlite3_open(path, &other);
	is_int(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	       SQLITE_OK, "another connection takes the write lock");
	is_int(sl_store_sqlite_set_busy_timeout(s, 20), 0,
	       "the busy timeout is set on the connection");
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":4}", NULL, NULL);
	is_int(write_free(s, b, &st), -1, "a write then fails");
	is_err(SL_EDB, "with EDB");
	ok(err_has("locked"), "saying the database is locked");
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":4}", NULL, NULL);
	memset(&st, 0, sizeof(st));
	is_int(write_free(s, b, &st), 0, "and succeeds once it is released");
	is_int(st.nodes_created, 1, "creating the node");
	after = export_text(s);
	is_int(after != NULL ? count_lines(after) : -1, 2, "two nodes now");
	free(after);
	free(before);
	sl_store_sqlite_close(s);
}

/** A batch of `n` nodes of type `type` from key `from`, ~2 KiB each. */
static struct sl_graph_batch *
big_batch(const char *type, int from, int n)
{
	static char pad[2048];
	memset(pad, 'x', sizeof(pad) - 1);
	struct sl_graph_batch *b = batch_new();
	for (int i = from; i < from + n; i++) {
		char key[32], props[2100];
		snprintf(key, sizeof(key), "{\"k\":%d}", i);
		snprintf(props, sizeof(props), "{\"pad\":\"%s\"}", pad);
		add_node(b, SL_NODE_EAGER, type, key, NULL, props);
	}
	return b;
}

/** The largest size of the database file and its WAL, in bytes. */
static off_t
db_size(const char *path)
{
	char wal[300];
	struct stat a, w;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	off_t n = stat(path, &a) == 0 ? a.st_size : 0;
	if (stat(wal, &w) == 0 && w.st_size > n)
		n = w.st_size;
	return n;
}

/** Limit the size of every file this process writes (0: no limit). */
static void
file_limit(off_t bytes)
{
	struct rlimit r;
	getrlimit(RLIMIT_FSIZE, &r);
	r.rlim_cur = bytes > 0 ? (rlim_t)bytes : r.rlim_max;
	if (setrlimit(RLIMIT_FSIZE, &r) != 0)
		bail_out("setrlimit(RLIMIT_FSIZE) failed");
}

/** Argument of max_pages_job(): the page count to allow. */
static int max_pages;

/** Job: set PRAGMA max_page_count on the store's connection. */
static int
max_pages_job(struct sl_store_sqlite *s, void *arg)
{
	(void)arg;
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", max_pages);
	return sqlite3_exec(sl_store_sqlite_db(s), sql, NULL, NULL, NULL) ==
	                       SQLITE_OK
	               ? 0
	               : -1;
}

/** Write a batch through the store interface and free it. */
static int
ops_write(void *s, struct sl_graph_batch *b, struct sl_graph_counts *st)
{
	int rc = sl_store_sqlite_ops.write(s, b, st);
	batch_free(b);
	return rc;
}

/**
 * Counts are made on commit, through the store interface (store.h): a
 * transaction holding several batches counts nothing until it commits; a
 * COMMIT that fails because the disk is full (the process's file size
 * limit: the kernel refuses SQLite's WAL writes) rolls back and counts
 * nothing; a statement failing with SQLITE_FULL (max_page_count) undoes
 * its batch only. After each, what was reported is what the file holds.
 */
TAP_TASK_CASE(commit_fails)
{
	const char *path = tmp_path("full.db");
	char uri[300];
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	const struct sl_graph_store_ops *ops = &sl_store_sqlite_ops;
	struct sl_store_sqlite *s = ops->open(uri);
	if (s == NULL)
		bail_out("cannot open %s", path);
	/* Three batches of 10 nodes per transaction. */
	sl_store_sqlite_group(s, 30, 1e9);
	signal(SIGXFSZ, SIG_IGN);
	struct sl_graph_counts st = {0};
	int k = 0;
	for (int i = 0; i < 2; i++, k += 10)
		is_int(ops_write(s, big_batch("A", k, 10), &st), 0,
		       "batch %d written", i + 1);
	is_int(st.nodes_created, 0, "nothing counted before the commit");
	is_int(ops_write(s, big_batch("A", k, 10), &st), 0,
	       "batch 3 written and committed");
	k += 10;
	is_int(st.nodes_created, 30, "its transaction counted on commit");
	is_int(raw_int(path, "SELECT count(*) FROM node"), 30,
	       "the file holds them");

	/* Two batches wait in the open transaction; the disk fills. */
	for (int i = 0; i < 2; i++, k += 10)
		ops_write(s, big_batch("A", k, 10), &st);
	file_limit(db_size(path));
	is_int(ops_write(s, big_batch("A", k, 10), &st), -1,
	       "a commit that cannot write fails");
	k += 10;
	ok(err_has("COMMIT"), "at COMMIT");
	file_limit(0);
	is_int(st.nodes_created, 30,
	       "the rolled-back transaction counts nothing");
	is_int(raw_int(path, "SELECT count(*) FROM node"), 30,
	       "the file holds what was reported");

	/* The store goes on: a pending batch committed by the commit
	 * operation is counted by it; one whose commit fails is not. */
	is_int(ops_write(s, big_batch("A", k, 10), &st), 0, "a new batch");
	k += 10;
	is_int(st.nodes_created, 30, "not counted yet");
	is_int(ops->commit(s, &st), 0, "committed by the commit operation");
	is_int(st.nodes_created, 40, "which counts it");
	ops_write(s, big_batch("A", k, 10), &st);
	k += 10;
	file_limit(db_size(path));
	is_int(ops->commit(s, &st), -1, "a commit operation that fails");
	file_limit(0);
	is_int(st.nodes_created, 40, "counts nothing");
	is_int(raw_int(path, "SELECT count(*) FROM node"), 40,
	       "the file holds what was reported");

	/* SQLITE_FULL in a statement: that batch is undone; SQLite may roll
	 * the whole transaction back with it (it does here), and then the
	 * batch before it counts nothing either. */
	is_int(ops_write(s, big_batch("B", 0, 10), &st), 0,
	       "a batch waits in the transaction");
	/* Clamped to the pages the database has. */
	max_pages = 1;
	is_int(sl_store_sqlite_run(s, max_pages_job, NULL), 0,
	       "the database may not grow");
	is_int(ops_write(s, big_batch("B", 10, 40), &st), -1,
	       "the next batch does not fit");
	ok(err_has("database or disk is full"), "SQLITE_FULL");
	max_pages = 1 << 30;
	sl_store_sqlite_run(s, max_pages_job, NULL);
	is_int(ops->commit(s, &st), 0, "what is left commits");
	long long held = raw_int(path, "SELECT count(*) FROM node");
	ok(held == 40 || held == 50, "the file holds %lld nodes", held);
	is_int((long long)st.nodes_created, held, "what was reported");
	is_int(ops->close(s), 0, "closes");
}

/** The size of file `path` (0: none). */
static off_t
file_size(const char *path)
{
	struct stat a;
	return stat(path, &a) == 0 ? a.st_size : 0;
}

/** The size of the WAL of the database at `path` (0: none). */
static off_t
wal_size(const char *path)
{
	char wal[300];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	return file_size(wal);
}

/**
 * The WAL is checkpointed by a second connection while the store writes
 * (sl_store_sqlite_wal()): pages reach the database file while the store
 * goes on, its own connection never checkpointing; with a bound, the WAL
 * stays within it and one transaction however many commits there are;
 * what was written reads back, and closing leaves no WAL.
 */
TAP_TASK_CASE(wal_checkpoints)
{
	const char *path = tmp_path("wal.db");
	struct sl_store_sqlite *s = open_or_bail(path);
	/* A commit per batch; the store's connection would checkpoint only
	 * past 2^30 frames. */
	sl_store_sqlite_wal(s, 8, 1 << 30);
	off_t start = file_size(path);
	struct sl_graph_counts st = {0};
	int k = 0, bad = 0;
	for (int i = 0; i < 10; i++, k += 20)
		bad += write_free(s, big_batch("A", k, 20), &st) != 0;
	is_int(bad, 0, "ten transactions written");
	double until = sl_clock() + 30;
	while (file_size(path) <= start + 100 * 1024 && sl_clock() < until)
		sl_sleep(0.01);
	ok(file_size(path) > start + 100 * 1024,
	   "the database file grew, the store's connection open and not "
	   "checkpointing (%lld to %lld bytes)",
	   (long long)start, (long long)file_size(path));
	is_int(raw_int(path, "SELECT count(*) FROM node"), k,
	       "everything reads back");

	sl_store_sqlite_close(s);
	ok(wal_size(path) == 0, "closing leaves no WAL");
	is_int(raw_int(path, "SELECT count(*) FROM node"), k,
	       "and everything in the database");

	/* A new database (a WAL file keeps its largest size). 10 nodes a
	 * transaction (a few frames); the store's connection checkpoints
	 * from 100 frames, waiting for the second one: the WAL holds at most
	 * that and a transaction. Without it, a WAL that never starts over
	 * would grow to several hundred frames; without the wait, the store's
	 * checkpoint fails while the second connection's runs. */
	path = tmp_path("wal2.db");
	if ((s = sl_store_sqlite_open(path)) == NULL)
		bail_out("cannot open %s", path);
	sl_store_sqlite_wal(s, 8, 100);
	k = 0;
	off_t most = 0;
	for (int i = 0; i < 100; i++, k += 10) {
		bad += write_free(s, big_batch("B", k, 10), &st) != 0;
		if (wal_size(path) > most)
			most = wal_size(path);
	}
	is_int(bad, 0, "a hundred more transactions written");
	ok(most <= 150 * (raw_int(path, "PRAGMA page_size") + 24),
	   "the WAL stays within its bound (at most %lld bytes)",
	   (long long)most);
	is_int(raw_int(path, "SELECT count(*) FROM node"), k,
	       "everything reads back");
	sl_store_sqlite_close(s);
	ok(wal_size(path) == 0, "closing leaves no WAL");
	is_int(raw_int(path, "SELECT count(*) FROM node"), k,
	       "and everything in the database");
	is_int(raw_int(path, "SELECT count(*) FROM pragma_integrity_check "
	                     "WHERE integrity_check = 'ok'"),
	       1, "which is sound");
}

/** Every node's and relationship's stored texts at `path`, in order. */
static char *
rows_text(const char *path)
{
	char *r = NULL;
	const char *n = raw_text(path, "SELECT group_concat(type || ' ' || "
	                               "key || ' ' || labels || ' ' || props, "
	                               "'|') FROM (SELECT * FROM node ORDER "
	                               "BY id)");
	char *nodes = strdup(n);
	const char *rl = raw_text(path, "SELECT group_concat(type || ' ' || "
	                                "from_id || ' ' || to_id || ' ' || key "
	                                "|| ' ' || props || ' ' || multi, '|') "
	                                "FROM (SELECT * FROM rel ORDER BY id)");
	if (nodes != NULL && asprintf(&r, "%s\n%s", nodes, rl) < 0)
		r = NULL;
	free(nodes);
	return r;
}

/** A batch whose texts exercise the JSON writer and its memo. */
static struct sl_graph_batch *
texts_batch(void)
{
	struct sl_graph_batch *b = batch_new();
	add_node(b, SL_NODE_EAGER, "P", "{\"k\":1}",
	         "[\"Z\",\"A\",\"P\",\"A\"]",
	         "{\"z\":1.5,\"a\":\"caf\u00e9 \\\"q\\\"\",\"n\":null,"
	         "\"o\":{\"y\":[1,true],\"b\":\"x\"}}");
	add_node(b, SL_NODE_EAGER, "P", "{\"k\":2}", NULL, "{\"m\":-7}");
	add_node(b, SL_NODE_EAGER, "Q", "{\"k\":3}", "[]", NULL);
	struct end p1 = {"P", "{\"k\":1}", false},
	           p2 = {"P", "{\"k\":2}", false},
	           q3 = {"Q", "{\"k\":3}", false};
	add_rel(b, SL_REL_EAGER, "R", p1, q3, NULL, "{\"w\":1,\"t\":\"a\"}");
	add_rel(b, SL_REL_EAGER, "R", p2, q3, NULL, "{\"w\":1,\"t\":\"a\"}");
	add_rel(b, SL_REL_MERGE_KEY, "S", p1, p2, "{\"b\":2,\"a\":1}", NULL);
	add_rel(b, SL_REL_CREATE, "T", q3, p1, NULL, "{\"w\":1,\"t\":\"a\"}");
	add_rel(b, SL_REL_EAGER, "U", q3, p2, NULL, NULL);
	b->rels[4].props = b->rels[0].props;
	return b;
}

/**
 * Texts made ahead (the store's `prepare`, which the writer calls while
 * the batch before is written) are those the write would make: the same
 * rows as the batch written without them. A batch changed since (a
 * reset: another serial) is written from what it holds; a batch with
 * bad input gets no texts, and its write raises the error.
 */
TAP_TASK_CASE(prepared_texts)
{
	const char *pa = tmp_path("prep_a.db");
	char pb[300];
	snprintf(pb, sizeof(pb), "%s", tmp_path("prep_b.db"));
	struct sl_store_sqlite *a = sl_store_sqlite_open(pa);
	struct sl_store_sqlite *b = sl_store_sqlite_open(pb);
	if (a == NULL || b == NULL)
		bail_out("cannot open the databases");
	struct sl_graph_counts st = {0};
	struct sl_graph_batch *x = texts_batch();
	sl_store_sqlite_ops.prepare(a, x);
	is_int(sl_store_sqlite_write(a, x, &st), 0, "written with its texts");
	is_int(sl_store_sqlite_write(b, x, &st), 0, "and without");
	batch_free(x);
	char *ra = rows_text(pa), *rb = rows_text(pb);
	ok(ra != NULL && rb != NULL && strlen(ra) > 100 && strcmp(ra, rb) == 0,
	   "the same rows");
	ok(ra != NULL && strstr(ra, "[\"A\",\"Z\"]") != NULL,
	   "labels sorted, unique, without the type");
	free(ra);
	free(rb);

	/* Made ahead, then the batch is reset and filled again. */
	x = texts_batch();
	sl_store_sqlite_ops.prepare(a, x);
	x->n_nodes = 1;
	x->n_rels = 0;
	struct sl_value props = J(x, "{\"fresh\":true}");
	x->nodes[0].props = props;
	x->serial++;
	is_int(sl_store_sqlite_write(a, x, &st), 0, "a batch changed since");
	is_int(raw_int(pa, "SELECT count(*) FROM node WHERE key = '{\"k\":1}' "
	                   "AND json_extract(props, '$.fresh') = 1"),
	       1, "is written as it is");
	batch_free(x);

	/* A change that keeps the serial is not seen (the writer changes
	 * nothing between): the texts made are used. */
	x = texts_batch();
	sl_store_sqlite_ops.prepare(b, x);
	x->nodes[2].props = J(x, "{\"changed\":1}");
	is_int(sl_store_sqlite_write(b, x, &st), 0, "a batch written");
	is_int(raw_int(pb, "SELECT count(*) FROM node WHERE key = '{\"k\":3}' "
	                   "AND json_extract(props, '$.changed') IS NULL"),
	       1, "with the texts made ahead");
	batch_free(x);

	x = texts_batch();
	x->nodes[1].labels = J(x, "{\"not\":\"labels\"}");
	sl_store_sqlite_ops.prepare(a, x);
	is_int(sl_store_sqlite_write(a, x, &st), -1, "bad labels fail");
	ok(err_has("the labels must be an array"), "with the write's error");
	batch_free(x);
	sl_store_sqlite_close(a);
	sl_store_sqlite_close(b);
}

/**
 * A node the store wrote, and whose id its cache holds, deleted behind
 * the store's back (another connection) is created again when it is
 * written again, and relationships written after it end at the new row,
 * not at the id the cache held.
 */
TAP_TASK_CASE(known_node_gone)
{
	const char *path = tmp_path("gone.db");
	struct sl_store_sqlite *s = open_or_bail(path);
	struct sl_graph_counts st = {0};
	struct sl_graph_batch *b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":1}", NULL, "{\"p\":1}");
	add_node(b, SL_NODE_EAGER, "B", "{\"k\":2}", NULL, NULL);
	is_int(write_free(s, b, &st), 0, "two nodes written");
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":1}", "[\"L\"]", "{\"q\":2}");
	is_int(write_free(s, b, &st), 0, "one merged into");
	is_str(raw_text(path, "SELECT labels || props FROM node WHERE type = "
	                      "'A'"),
	       "[\"L\"]{\"p\":1,\"q\":2}", "labels and properties added");
	is_int((long long)st.nodes_created, 2, "counted as created");
	is_int((long long)st.nodes_updated, 1, "then updated");
	ok(raw_exec(path, "DELETE FROM node WHERE type = 'A'") == 0,
	   "another connection deletes it");
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":1}", NULL, "{\"p\":3}");
	add_rel(b, SL_REL_EAGER, "R", (struct end){"A", "{\"k\":1}", false},
	        (struct end){"B", "{\"k\":2}", false}, NULL, NULL);
	is_int(write_free(s, b, &st), 0, "written again");
	is_str(raw_text(path, "SELECT props FROM node WHERE type = 'A'"),
	       "{\"p\":3}", "it is created again");
	is_int((long long)st.nodes_created, 3, "and counted so");
	is_int(raw_int(path, "SELECT count(*) FROM rel AS r JOIN node AS a ON "
	                     "a.id = r.from_id WHERE a.type = 'A'"),
	       1, "the relationship starts at the new row");
	sl_store_sqlite_close(s);
}

/** Relationship R from A {"k": a} to B {"k": b} with properties `props`. */
static void
add_ab(struct sl_graph_batch *b, enum sl_rel_rule rule, int a, int bk,
       const char *props)
{
	char from[32], to[32];
	snprintf(from, sizeof(from), "{\"k\":%d}", a);
	snprintf(to, sizeof(to), "{\"k\":%d}", bk);
	add_rel(b, rule, "R", (struct end){"A", from, false},
	        (struct end){"B", to, false}, NULL, props);
}

/** Nodes A {"k": 0} to {"k": n - 1} and B {"k": 0} to {"k": 4}. */
static void
add_ab_nodes(struct sl_graph_batch *b, int n)
{
	for (int i = 0; i < n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "{\"k\":%d}", i);
		add_node(b, SL_NODE_EAGER, "A", key, NULL, NULL);
		if (i < 5)
			add_node(b, SL_NODE_EAGER, "B", key, NULL, NULL);
	}
}

/** The properties of relationship R from A {"k": a} to B {"k": b}. */
static const char *
ab_props(const char *path, int a, int bk)
{
	char sql[300];
	snprintf(sql, sizeof(sql),
	         "SELECT r.props FROM rel AS r JOIN node AS f ON f.id = "
	         "r.from_id JOIN node AS t ON t.id = r.to_id WHERE f.key = "
	         "'{\"k\":%d}' AND t.key = '{\"k\":%d}'",
	         a, bk);
	return raw_text(path, sql);
}

/**
 * Mergeable relationships go in 32 to a statement: counted created or
 * updated, and merged, as one at a time would be, whether the rows of a
 * statement are all new, none, some, or twice the same.
 */
TAP_TASK_CASE(rel_chunks)
{
	const char *path = tmp_path("chunks.db");
	struct sl_store_sqlite *s = open_or_bail(path);
	struct sl_graph_counts st = {0};
	struct sl_graph_batch *b = batch_new();
	add_ab_nodes(b, 200);
	for (int i = 0; i < 20; i++)
		add_ab(b, SL_REL_EAGER, i, i % 5, "{\"v\":1}");
	is_int(write_free(s, b, &st), 0, "20 relationships, fewer than 32");
	is_int(st.rels_created, 20, "created");

	/* 40 rows: the first 32 in one statement, 20 of them there
	 * already, then 8; the 26th row's identity twice. */
	memset(&st, 0, sizeof(st));
	b = batch_new();
	for (int i = 0; i < 40; i++) {
		add_ab(b, SL_REL_EAGER, i, i % 5, "{\"v\":2}");
		if (i == 25)
			add_ab(b, SL_REL_MERGE_KEY, i, i % 5, "{\"w\":3}");
	}
	is_int(write_free(s, b, &st), 0, "41 rows, some there already");
	is_int(st.rels_created, 20, "the new ones created");
	is_int(st.rels_updated, 21, "the others and a repeat updated");
	is_int(raw_int(path, "SELECT count(*) FROM rel"), 40, "40 rows stored");
	is_str(ab_props(path, 5, 0), "{\"v\":2}", "an old row merged");
	is_str(ab_props(path, 25, 0), "{\"v\":2,\"w\":3}",
	       "a repeat merged into the row just made");
	is_str(ab_props(path, 39, 4), "{\"v\":2}", "a new row of the last 8");

	memset(&st, 0, sizeof(st));
	b = batch_new();
	for (int i = 0; i < 64; i++)
		add_ab(b, SL_REL_EAGER, i < 32 ? i : 100 + i, i % 5,
		       i < 32 ? "{\"v\":4}" : "{}");
	is_int(write_free(s, b, &st), 0, "32 rows there, then 32 new");
	is_int(st.rels_updated, 32, "the first 32 updated");
	is_int(st.rels_created, 32, "the next 32 created");
	is_int(raw_int(path, "SELECT count(*) FROM rel"), 72, "72 rows stored");
	is_str(ab_props(path, 31, 1), "{\"v\":4}", "merged");
	is_str(ab_props(path, 163, 3), "{}", "and new");
	sl_store_sqlite_close(s);
}

/**
 * The n-th allocation failing, for every n until one is past the write,
 * while 40 relationships go in, 32 to a statement, each time into a store
 * just opened (whose buffers have not grown yet): a write fails by the
 * fault with nothing of it left and the store writes the batch
 * afterwards, or succeeds (some allocations may fail without harm: a
 * cache is then not kept) with the batch's 40 relationships.
 */
TAP_TASK_CASE(rel_chunks_faults)
{
	int failed = 0, bad = 0, past = 0;
	long n;
	for (n = 0; n < 400 && !past; n++) {
		char name[64];
		snprintf(name, sizeof(name), "chunk_faults_%ld.db", n);
		const char *path = tmp_path(name);
		struct sl_store_sqlite *s = open_or_bail(path);
		struct sl_graph_counts st = {0};
		struct sl_graph_batch *b = batch_new();
		add_ab_nodes(b, 40);
		for (int i = 0; i < 40; i++)
			add_ab(b, SL_REL_EAGER, i, i % 5, "{\"v\":1}");
		long faults = sl_alloc_faults();
		sl_alloc_fail_after(n);
		int rc = sl_store_sqlite_write(s, b, &st);
		past = sl_alloc_faults() == faults;
		sl_alloc_fail_after(-1);
		if (rc != 0) {
			failed++;
			bad += past || sl_diag_last() == NULL ||
			       raw_int(path, "SELECT count(*) FROM rel") != 0;
			sl_diag_clear(sl_diag_get());
			bad += write_free(s, b, &st) != 0;
		} else {
			batch_free(b);
		}
		bad += raw_int(path, "SELECT count(*) FROM rel") != 40;
		sl_store_sqlite_close(s);
	}
	ok(past, "after %ld allocations the write needs no more", n - 1);
	ok(failed > 0, "allocations failed %d writes", failed);
	is_int(bad, 0,
	       "each failed by its fault, left nothing, and the store "
	       "wrote the batch again; or succeeded");
}

/** The number of sluice_rel_in indexes in the database at `path`. */
static long long
rel_in_count(const char *path)
{
	return raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = "
	                     "'index' AND name = 'sluice_rel_in'");
}

/** Relationship rows that sluice_rel_in finds (-1 when it is missing). */
static long long
rel_in_rows(const char *path)
{
	return raw_int(path,
	               "SELECT count(*) FROM rel INDEXED BY sluice_rel_in "
	               "WHERE to_id > -1");
}

/** Write node A of key `key` and its relationship R to B {"k":3}. */
static int
write_to_b3(struct sl_store_sqlite *s, const char *key,
            struct sl_graph_counts *st)
{
	struct sl_graph_batch *b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", key, NULL, NULL);
	add_rel(b, SL_REL_EAGER, "R", (struct end){"A", key, false},
	        (struct end){"B", "{\"k\":3}", false}, NULL, NULL);
	return write_free(s, b, st);
}

/**
 * A store that opens an empty `rel` table builds sluice_rel_in at its
 * close, from the rows; one that opens rows keeps it, and builds it at
 * its close when a load that stopped early left it out.
 */
TAP_TASK_CASE(rel_in_deferred)
{
	const char *path = tmp_path("relin.db");
	struct sl_store_sqlite *s = open_or_bail(path);
	is_int(rel_in_count(path), 0, "an empty graph is loaded without it");
	struct sl_graph_counts st = {0};
	struct sl_graph_batch *b = batch_new();
	for (int i = 0; i < 50; i++) {
		char from[32], to[32];
		snprintf(from, sizeof(from), "{\"k\":%d}", i);
		snprintf(to, sizeof(to), "{\"k\":%d}", i % 7);
		add_node(b, SL_NODE_EAGER, "A", from, NULL, NULL);
		add_node(b, SL_NODE_EAGER, "B", to, NULL, NULL);
		add_rel(b, SL_REL_EAGER, "R", (struct end){"A", from, false},
		        (struct end){"B", to, false}, NULL, NULL);
	}
	is_int(write_free(s, b, &st), 0, "50 relationships written");
	is_int(rel_in_count(path), 0, "still without it while loading");
	sl_store_sqlite_close(s);
	is_int(rel_in_count(path), 1, "built at the close");
	is_int(rel_in_rows(path), 50, "over every relationship");
	is_int(raw_int(path,
	               "SELECT count(*) FROM rel INDEXED BY sluice_rel_in "
	               "WHERE to_id = (SELECT id FROM node WHERE type = "
	               "'B' AND key = '{\"k\":3}') AND type = 'R'"),
	       7, "and finds a target's relationships");

	s = open_or_bail(path);
	is_int(rel_in_count(path), 1, "a graph with relationships keeps it");
	is_int(write_to_b3(s, "{\"k\":100}", &st), 0, "one more written");
	sl_store_sqlite_close(s);
	is_int(rel_in_rows(path), 51, "the index has it");

	ok(raw_exec(path, "DROP INDEX sluice_rel_in") == 0,
	   "a load that stopped early leaves it out");
	s = open_or_bail(path);
	is_int(rel_in_count(path), 0, "the next store leaves it to its close");
	is_int(write_to_b3(s, "{\"k\":101}", &st), 0, "and writes meanwhile");
	sl_store_sqlite_close(s);
	is_int(rel_in_count(path), 1, "then builds it");
	is_int(rel_in_rows(path), 52, "over every relationship");

	const char *ttl = tmp_path("relin_ttl.db");
	s = open_or_bail(ttl);
	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":1}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "B", "{\"k\":2}", NULL,
	         "{\"last_ingested_at\":\"2000\"}");
	add_rel(b, SL_REL_EAGER, "R", (struct end){"A", "{\"k\":1}", false},
	        (struct end){"B", "{\"k\":2}", false}, NULL, NULL);
	is_int(write_free(s, b, &st), 0, "a load into another empty graph");
	uint64_t deleted = 1;
	is_int(sl_store_sqlite_ttl(s, true, "B", "9999", &deleted), 0,
	       "then a TTL of its nodes");
	is_int((long long)deleted, 1, "deletes the node");
	is_int(rel_in_count(ttl), 1, "the TTL built the index first");
	is_int(raw_int(ttl, "SELECT count(*) FROM rel"), 0,
	       "and deleted its relationship");
	sl_store_sqlite_close(s);
	is_int(rel_in_count(ttl), 1, "which stays after the close");
}

/**
 * A failed batch is undone alone: the batches before it in the open
 * transaction stay. Bad input fails before the batch writes anything
 * (written without a savepoint); a bad pattern fails a statement of a
 * batch written under its savepoint.
 */
TAP_TASK_CASE(batch_undo)
{
	const char *path = tmp_path("undo.db");
	struct sl_store_sqlite *s = open_or_bail(path);
	/* One transaction for the whole case until committed. */
	sl_store_sqlite_group(s, 1000000, 1e9);
	struct sl_graph_counts st = {0};
	struct sl_graph_batch *b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":1}", NULL, "{\"p\":1}");
	is_int(write_free(s, b, &st), 0, "a first batch waits uncommitted");

	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":2}", NULL, NULL);
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":1}", NULL, "{\"p\":2}");
	add_rel(b, SL_REL_EAGER, "R", (struct end){"A", "{\"k\":1}", false},
	        (struct end){"A", "{\"k\":2}", false}, NULL, "[1]");
	is_int(write_free(s, b, &st), -1, "props that are no object fail");
	ok(err_has("writing relationship 0 of the batch (type R)") &&
	           err_has("the properties must be an object (got array)"),
	   "naming the operation");

	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":3}", NULL, NULL);
	add_node(b, SL_NODE_FUZZY, "A", "{\"k\":\"(\"}", NULL, NULL);
	is_int(write_free(s, b, &st), -1, "an invalid pattern fails");
	ok(err_has("writing node 1 of the batch (type A)") &&
	           err_has("invalid regular expression"),
	   "naming the operation");

	b = batch_new();
	add_node(b, SL_NODE_EAGER, "A", "{\"k\":4}", NULL, NULL);
	is_int(write_free(s, b, &st), 0, "a later batch is written");
	is_int(sl_store_sqlite_commit_counted(s, &st), 0, "all commits");
	is_int(st.nodes_created, 2, "counting the two good batches");
	is_int(raw_int(path, "SELECT count(*) FROM node WHERE key IN "
	                     "('{\"k\":1}', '{\"k\":4}')"),
	       2, "the good batches are in the file");
	is_int(raw_int(path, "SELECT count(*) FROM node WHERE key IN "
	                     "('{\"k\":2}', '{\"k\":3}')"),
	       0, "nothing of the failed ones");
	is_int(raw_int(path, "SELECT count(*) FROM node WHERE key = "
	                     "'{\"k\":1}' AND props = '{\"p\":1}'"),
	       1, "nor their merges");
	sl_store_sqlite_close(s);
}

/** The schema version 1 (before 2026-12-07), as sluice made it. */
static const char schema_v1[] =
        "CREATE TABLE sluice_meta(name TEXT PRIMARY KEY, value TEXT NOT "
        "NULL);"
        "CREATE TABLE node(id INTEGER PRIMARY KEY, type TEXT NOT NULL, key "
        "TEXT NOT NULL, labels TEXT NOT NULL DEFAULT '[]', props TEXT NOT "
        "NULL DEFAULT '{}');"
        "CREATE UNIQUE INDEX sluice_node_type_key ON node(type, key);"
        "CREATE TABLE rel(id INTEGER PRIMARY KEY, type TEXT NOT NULL, "
        "from_id INTEGER NOT NULL REFERENCES node(id), to_id INTEGER NOT "
        "NULL REFERENCES node(id), key TEXT NOT NULL DEFAULT '{}', props "
        "TEXT NOT NULL DEFAULT '{}', multi INTEGER NOT NULL DEFAULT 0);"
        "CREATE UNIQUE INDEX sluice_rel_identity ON rel(from_id, type, "
        "to_id, key) WHERE multi = 0;"
        "CREATE INDEX sluice_rel_out ON rel(from_id, type);"
        "CREATE INDEX sluice_rel_in ON rel(to_id, type);"
        "INSERT INTO sluice_meta VALUES ('schema_version', '1');"
        "INSERT INTO node(type, key) VALUES ('Person', '{\"id\":1}'), "
        "('Person', '{\"id\":2}');"
        "INSERT INTO rel(type, from_id, to_id, props, multi) VALUES "
        "('KNOWS', 1, 2, '{\"n\":1}', 0), ('MET', 1, 2, '{\"n\":1}', 1), "
        "('MET', 1, 2, '{\"n\":2}', 1);";

/**
 * The relationships of the graph at `path`, in id order: "TYPE:multi:n"
 * each (n the property), separated by spaces.
 */
static const char *
rel_rows(const char *path)
{
	return raw_text(path, "SELECT group_concat(type || ':' || multi || ':' "
	                      "|| json_extract(props, '$.n'), ' ') FROM "
	                      "(SELECT * FROM rel ORDER BY id)");
}

/** A version 1 graph: read as it is, brought to version 2 to write. */
TAP_TASK_CASE(schema_v1)
{
	const char *path = tmp_path("v1.db");
	is_int(raw_exec(path, schema_v1), 0, "a version 1 graph");
	struct sl_store_sqlite *s = sl_store_sqlite_open_ro(path);
	ok(s != NULL, "opens for reading");
	sl_store_sqlite_close(s);
	is_int(schema_version(path), 1, "and stays version 1");

	s = sl_store_sqlite_open(path);
	ok(s != NULL, "opens for writing");
	if (s == NULL)
		bail_out("cannot go on");
	is_int(schema_version(path), 2, "and is version 2 then");
	is_int(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = "
	                     "'sluice_rel_out'"),
	       0, "without the index of out-edges");
	is_int(raw_int(path, "SELECT count(*) FROM "
	                     "pragma_index_info('sluice_rel_identity')"),
	       5, "its identity index holds multi");
	is_int(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = "
	                     "'sluice_rel_identity' AND sql LIKE '%WHERE%'"),
	       0, "over every row");
	is_str(rel_rows(path), "KNOWS:0:1 MET:2:1 MET:3:2",
	       "the CREATE rows are told apart by their ids, nothing else "
	       "changed");

	struct end p1 = {"Person", "{\"id\":1}", false};
	struct end p2 = {"Person", "{\"id\":2}", false};
	struct sl_graph_counts st = {0};
	struct sl_graph_batch *b = batch_new();
	add_rel(b, SL_REL_CREATE, "MET", p1, p2, "{}", "{\"n\":3}");
	add_rel(b, SL_REL_EAGER, "KNOWS", p1, p2, "{}", "{\"n\":2}");
	is_int(write_free(s, b, &st), 0, "written to after the update");
	is_int(st.rels_created, 1, "a CREATE relationship is a new row");
	is_int(st.rels_updated, 1, "the other one merges");
	is_str(rel_rows(path), "KNOWS:0:2 MET:2:1 MET:3:2 MET:4:3",
	       "after the largest multi of its ends, type and key");
	sl_store_sqlite_close(s);
	s = sl_store_sqlite_open(path);
	ok(s != NULL, "a version 2 graph opens again");
	sl_store_sqlite_close(s);
}

/** Files that are not sluice graphs are refused and left alone. */
TAP_TASK_CASE(refusals)
{
	const char *path = tmp_path("v3.db");
	struct sl_store_sqlite *s = sl_store_sqlite_open(path);
	ok(s != NULL, "a graph to be changed by hand");
	sl_store_sqlite_close(s);
	is_int(raw_exec(path, "UPDATE sluice_meta SET value = '3' WHERE name "
	                      "= 'schema_version'"),
	       0, "schema_version set to 3");
	ok(sl_store_sqlite_open(path) == NULL, "a version 3 graph is refused");
	is_err(SL_EINVAL, "with EINVAL");
	ok(err_has("v3.db: graph schema version 3, this sluice reads versions "
	           "1 to 2"),
	   "naming the path and the versions");

	path = tmp_path("foreign.db");
	is_int(raw_exec(path, "CREATE TABLE node(a, b); INSERT INTO node "
	                      "VALUES (1, 2)"),
	       0, "a foreign database with a node table");
	ok(sl_store_sqlite_open(path) == NULL, "is refused");
	is_err(SL_EINVAL, "with EINVAL");
	ok(err_has("foreign.db: not a sluice graph database (it has a table "
	           "named node but no sluice_meta)"),
	   "saying why");
	is_int(raw_int(path, "SELECT count(*) FROM sqlite_master"), 1,
	       "nothing was added to it");
	is_int(raw_int(path, "SELECT count(*) FROM pragma_journal_mode() "
	                     "WHERE journal_mode = 'delete'"),
	       1, "nor switched to WAL");

	path = tmp_path("foreign-rel.db");
	raw_exec(path, "CREATE TABLE rel(x)");
	ok(sl_store_sqlite_open(path) == NULL && err_has("named rel"),
	   "one with a rel table too");

	path = tmp_path("other.db");
	is_int(raw_exec(path, "CREATE TABLE things(x)"), 0,
	       "a database with unrelated tables");
	s = sl_store_sqlite_open(path);
	ok(s != NULL, "gets the graph schema added");
	sl_store_sqlite_close(s);

	path = tmp_path("text.db");
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 100; i++)
		fputs("this is not a database\n", f);
	fclose(f);
	ok(sl_store_sqlite_open(path) == NULL, "a text file is refused");
	is_err(SL_EDB, "with EDB");
	ok(err_has("text.db: not a sluice graph database") &&
	           err_has("not a database"),
	   "naming the path");

	path = tmp_path("empty.db");
	f = fopen(path, "w");
	fclose(f);
	ok(sl_store_sqlite_open_ro(path) == NULL,
	   "an empty file is refused for reading");
	is_err(SL_EINVAL, "with EINVAL");
	ok(err_has("empty.db: not a sluice graph database (the file is "
	           "empty)"),
	   "naming the path");
	/* What a run killed while SQLite had made the file and not yet the
	 * schema leaves: it holds nothing, and the next run goes on. */
	s = sl_store_sqlite_open(path);
	ok(s != NULL, "an empty file to write gets the graph schema");
	sl_store_sqlite_close(s);
	s = sl_store_sqlite_open_ro(path);
	ok(s != NULL, "... and reads as a graph then");
	sl_store_sqlite_close(s);

	ok(sl_store_sqlite_open(tmp_path("no/such/dir.db")) == NULL,
	   "a path in a missing directory fails");
	is_err(SL_EIO, "with EIO (the database layer's code for it)");
	sl_store_sqlite_close(NULL);
	ok(1, "closing NULL is a no-op");
}

/** Make the temporary directory the cases' databases go in. */
static int
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-sqlite-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		bail_out("mkdtemp failed");
	return 0;
}

/** Remove the temporary directory. */
static void
teardown(void)
{
	tmp_cleanup();
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
