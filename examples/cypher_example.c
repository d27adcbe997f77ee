/*
 * The database layer on Neo4j, no pipeline: Cypher with a parameter map,
 * a transaction of two statements, records read back as values, and the
 * server's statistics.
 *
 *   cypher_example bolt://neo4j:password@localhost:7687/neo4j
 *   cypher_example neo4j+s://neo4j:password@my-cluster.example.com
 *
 * Cypher takes its parameters as one map: sl_db_query(c, cypher, 1, &map).
 * The same calls run on a pooled connection (sl_db_pool_acquire()).
 */
#include <stdio.h>
#include <string.h>

#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "sluice/task.h"

/** Print the failure and return 1. */
static int
fail(const char *what)
{
	struct sl_error *e = sl_diag_last();
	fprintf(stderr, "cypher_example: %s: %s\n", what, e ? e->msg : "?");
	return 1;
}

/** The example, run as a task. */
static int
example(void *arg)
{
	const char *url = arg;
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);
	if (c == NULL)
		return fail("connect");
	/* The parameter map, here from JSON text (any object value will do). */
	static const char rows[] =
	        "{\"people\": [{\"name\": \"Ada\", \"born\": 1815},"
	        " {\"name\": \"Grace\", \"born\": 1906}]}";
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value params;
	int rc = 1;
	if (sl_json_parse(rows, sizeof(rows) - 1, &a, NULL, "rows", &params) !=
	    0)
		goto out;
	struct sl_db_tx tx;
	if (sl_db_tx_begin(c, &tx, NULL) != 0) {
		fail("begin");
		goto out;
	}
	struct sl_db_result *r = sl_db_query(
	        c,
	        "UNWIND $people AS p MERGE (n:`Person` {name: p.name}) "
	        "SET n.born = p.born",
	        1, &params);
	if (r == NULL) {
		fail("merge");
		sl_db_tx_abandon(&tx);
		goto out;
	}
	printf("nodes created: %lld, properties set: %lld\n",
	       (long long)sl_db_result_stat(r, "nodes-created"),
	       (long long)sl_db_result_stat(r, "properties-set"));
	sl_db_result_free(r);
	if (sl_db_tx_commit(&tx) != 0) {
		fail("commit");
		goto out;
	}
	r = sl_db_query(c,
	                "MATCH (n:`Person`) RETURN n.name AS name, n AS node "
	                "ORDER BY name",
	                0, NULL);
	if (r == NULL) {
		fail("match");
		goto out;
	}
	struct sl_buf line;
	sl_buf_create(&line, 1 << 20);
	for (size_t i = 0; i < sl_db_result_rows(r); i++) {
		sl_buf_reset(&line);
		sl_json_write(&line, sl_db_result_get(r, i, 1), 0);
		/* Strings are not NUL-terminated: print them by length. */
		const struct sl_value *name = sl_db_result_get(r, i, 0);
		printf("%.*s: %s\n", (int)name->len, name->u.s, line.data);
	}
	sl_buf_destroy(&line);
	sl_db_result_free(r);
	rc = 0;
out:
	sl_arena_destroy(&a);
	sl_db_conn_close(c);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: cypher_example "
		                "bolt://USER:PASS@HOST[:PORT][/DB]\n");
		return 2;
	}
	struct sl_loop *loop = sl_loop_new(NULL);
	int rc = sl_loop_run_main(loop, "example", example, argv[1]);
	sl_loop_delete(loop);
	return rc;
}
