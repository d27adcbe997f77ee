/*
 * The Bolt driver against the scripted Bolt peer (tests/bolt/peer.js on
 * Neo4j's own codec): every case plays a script of the messages a Neo4j
 * server expects and its replies, and passes only when the driver's side
 * is right and the peer saw exactly the script (its exit status 0).
 */
#include <string.h>

#include "bolt_peer.h"
#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "unit.h"

/** Parse JSON text into a value in `a` (bails out on bad test data). */
static struct sl_value
json(struct sl_arena *a, const char *text)
{
	struct sl_value v;
	if (sl_json_parse(text, strlen(text), a, NULL, "test", &v) != 0)
		bail_out("bad JSON in the test: %s", text);
	return v;
}

/** Row `row` of `r` as canonical JSON (an array), in `buf`. */
static const char *
row_json(const struct sl_db_result *r, size_t row, struct sl_buf *buf)
{
	sl_buf_reset(buf);
	sl_buf_append(buf, "[", 1);
	for (size_t i = 0; i < sl_db_result_cols(r); i++) {
		if (i > 0)
			sl_buf_append(buf, ",", 1);
		sl_json_write(buf, sl_db_result_get(r, row, i),
		              SL_JSON_CANONICAL);
	}
	sl_buf_append(buf, "]", 1);
	return buf->data;
}

/** "bolt://USERINFO@127.0.0.1:PORT/REST" in out. */
static const char *
uri(char *out, size_t size, const char *scheme, const char *userinfo, int port,
    const char *rest)
{
	snprintf(out, size, "%s://%s%s127.0.0.1:%d%s", scheme, userinfo,
	         userinfo[0] ? "@" : "", port, rest);
	return out;
}

/** Check that the peer played everything. */
static void
peer_done(struct peer *p, const char *what)
{
	int st = peer_finish(p, 20);
	is_int(st, 0, "%s: the peer saw exactly its script", what);
}

TAP_TASK_CASE(query_v5)
{
	struct peer p;
	if (peer_start(&p, "c_query_v5.script") != 0)
		bail_out("cannot start the peer");
	char u[256];
	struct sl_db_conn *c = sl_db_conn_open(
	        uri(u, sizeof(u), "bolt", "neo4j:s3cr%40t", p.port, "/movies"),
	        NULL);
	ok(c != NULL, "connects (%s)", unit_errmsg());
	if (c == NULL) {
		peer_finish(&p, 1);
		return;
	}
	is_int(sl_db_conn_kind(c), SL_DB_NEO4J, "the kind is Neo4j");
	is_int(sl_db_conn_server_version(c), 52601, "the server's version");
	ok(strstr(sl_db_conn_url(c), "s3cr") == NULL,
	   "the shown URI has no password: %s", sl_db_conn_url(c));
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value params =
	        json(&a, "{\"x\": 42, \"name\": \"Ada\", \"big\": -9000000000, "
	                 "\"f\": 2.5, \"list\": [1, null, true], \"nested\": "
	                 "{\"a\": \"b\"}}");
	struct sl_db_result *r =
	        sl_db_query(c, "RETURN $x AS x, $name AS name", 1, &params);
	ok(r != NULL, "a query with a parameter map (%s)", unit_errmsg());
	struct sl_buf buf;
	sl_buf_create(&buf, 1 << 20);
	if (r != NULL) {
		is_int(sl_db_result_rows(r), 2, "two records");
		is_int(sl_db_result_cols(r), 4, "four fields");
		is_str(sl_db_result_name(r, 1), "name", "field names");
		is_str(row_json(r, 0, &buf),
		       "[42,\"Ada\",{\"element_id\":\"4:abc:7\",\"id\":7,"
		       "\"labels\":[\"Person\",\"Author\"],\"properties\":{"
		       "\"born\":1815,\"name\":\"Ada\"}},\"2024-01-01\"]",
		       "values, a node and a date");
		is_str(row_json(r, 1, &buf), "[-1,\"Grace\",null,null]",
		       "the second record");
		is_int(sl_db_result_stat(r, "nodes-created"), 2,
		       "statistics: nodes created");
		is_int(sl_db_result_stat(r, "properties-set"), 5,
		       "statistics: properties set");
		is_int(sl_db_result_stat(r, "relationships-created"), 0,
		       "a counter the server left out is 0");
		is_str(sl_db_result_tag(r), "rw", "the tag is the type");
	}
	sl_db_result_free(r);
	r = sl_db_query(c, "RETURN 1", SL_NOARGS);
	ok(r != NULL && sl_db_result_rows(r) == 1,
	   "the next statement carries the bookmark (%s)", unit_errmsg());
	sl_db_result_free(r);
	sl_db_conn_close(c);
	sl_buf_destroy(&buf);
	sl_arena_destroy(&a);
	peer_done(&p, "query_v5");
}

TAP_TASK_CASE(hello_v44)
{
	struct peer p;
	if (peer_start(&p, "c_hello_v44.script") != 0)
		bail_out("cannot start the peer");
	char u[256];
	struct sl_db_conn *c = sl_db_conn_open(
	        uri(u, sizeof(u), "bolt", "neo4j:pw", p.port, "?realm=native"),
	        NULL);
	ok(c != NULL, "Bolt 4.4 with a realm (%s)", unit_errmsg());
	struct sl_db_result *r =
	        c != NULL ? sl_db_query(c, "RETURN 1 AS one", SL_NOARGS) : NULL;
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 1, "a query");
	sl_db_result_free(r);
	sl_db_conn_close(c);
	peer_done(&p, "hello_v44");
}

TAP_TASK_CASE(manifest_bearer)
{
	struct peer p;
	if (peer_start(&p, "c_manifest.script") != 0)
		bail_out("cannot start the peer");
	char u[256];
	struct sl_db_conn *c = sl_db_conn_open(
	        uri(u, sizeof(u), "bolt", ":tok-en", p.port, "?auth=bearer"),
	        NULL);
	ok(c != NULL, "the manifest handshake, a bearer token (%s)",
	   unit_errmsg());
	sl_db_conn_close(c);
	peer_done(&p, "manifest");
}

/** Open a connection that must fail; its error must hold `want`. */
static void
open_fails(const char *script, const char *userinfo, const char *want,
           enum sl_errcode code)
{
	struct peer p;
	if (peer_start(&p, script) != 0)
		bail_out("cannot start the peer");
	char u[256];
	struct sl_db_conn *c = sl_db_conn_open(
	        uri(u, sizeof(u), "bolt", userinfo, p.port, ""), NULL);
	ok(c == NULL, "%s: the connection fails", script);
	is_err(code, "%s: error code", script);
	ok(strstr(unit_errmsg(), want) != NULL, "%s: the error says '%s': %s",
	   script, want, unit_errmsg());
	ok(strstr(unit_errmsg(), "wrong-pw") == NULL,
	   "%s: the error has no password", script);
	sl_db_conn_close(c);
	peer_finish(&p, 20);
}

TAP_TASK_CASE(handshake_failures)
{
	open_fails("c_no_version.script", "", "no Bolt version in common",
	           SL_EDB);
	open_fails("c_http.script", "", "HTTP", SL_EPARSE);
	open_fails("c_auth_fail.script", "neo4j:wrong-pw",
	           "authentication failed", SL_EDB);
	ok(strstr(unit_errmsg(), "Neo.ClientError.Security.Unauthorized") !=
	           NULL,
	   "the server's code is shown");
}

/** Open bolt://neo4j:pw@127.0.0.1:PORT for the peer `p`. */
static struct sl_db_conn *
open_peer(struct peer *p, const char *rest)
{
	char u[256];
	struct sl_db_conn *c = sl_db_conn_open(
	        uri(u, sizeof(u), "bolt", "neo4j:pw", p->port, rest), NULL);
	if (c == NULL)
		note("open: %s", unit_errmsg());
	return c;
}

/**
 * Start the peer on `script` and connect to it (URI tail `rest`); NULL,
 * with the peer stopped, when the connection fails.
 */
static struct sl_db_conn *
start_open(struct peer *p, const char *script, const char *rest)
{
	if (peer_start(p, script) != 0)
		bail_out("cannot start the peer");
	struct sl_db_conn *c = open_peer(p, rest);
	if (c == NULL) {
		ok(0, "%s: connects", script);
		peer_finish(p, 1);
	}
	return c;
}

TAP_TASK_CASE(failure_reset)
{
	struct peer p;
	if (peer_start(&p, "c_failure_reset.script") != 0)
		bail_out("cannot start the peer");
	struct sl_db_conn *c = open_peer(&p, "");
	struct sl_db_result *r =
	        c != NULL ? sl_db_query(c, "RETRUN 1", SL_NOARGS) : NULL;
	ok(r == NULL, "a syntax error fails the statement");
	is_err(SL_EDB, "as a database error");
	ok(strstr(unit_errmsg(), "Neo.ClientError.Statement.SyntaxError") !=
	                   NULL &&
	           strstr(unit_errmsg(), "Invalid input") != NULL,
	   "with the server's code and message: %s", unit_errmsg());
	ok(!sl_db_error_retryable(sl_diag_last()), "not retryable");
	r = c != NULL ? sl_db_query(c, "RETURN 2 AS two", SL_NOARGS) : NULL;
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 2,
	   "after RESET the connection goes on (%s)", unit_errmsg());
	sl_db_result_free(r);
	sl_db_conn_close(c);
	peer_done(&p, "failure_reset");
}

TAP_TASK_CASE(transient_retry)
{
	struct peer p;
	if (peer_start(&p, "c_transient.script") != 0)
		bail_out("cannot start the peer");
	struct sl_db_conn *c = open_peer(&p, "");
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value params = json(&a, "{\"k\": 1}");
	struct sl_db_result *r =
	        c != NULL ? sl_db_query(c, "MERGE (n:`A` {k: $k})", 1, &params)
	                  : NULL;
	ok(r != NULL, "a deadlock is retried and the retry succeeds (%s)",
	   unit_errmsg());
	ok(r != NULL && sl_db_result_stat(r, "nodes-created") == 1,
	   "the retry's statistics");
	sl_db_result_free(r);
	sl_db_conn_close(c);
	sl_arena_destroy(&a);
	peer_done(&p, "transient_retry");
}

TAP_TASK_CASE(client_error_not_retried)
{
	struct peer p;
	if (peer_start(&p, "c_client_error.script") != 0)
		bail_out("cannot start the peer");
	struct sl_db_conn *c = open_peer(&p, "");
	ok(c != NULL &&
	           sl_db_exec(c, "CREATE (n:A {k: 1})", SL_NOARGS, NULL) != 0,
	   "a constraint violation fails");
	ok(strstr(unit_errmsg(), "ConstraintValidationFailed") != NULL,
	   "with its code: %s", unit_errmsg());
	sl_db_conn_close(c);
	peer_done(&p, "client_error (one RUN only)");
}

TAP_TASK_CASE(transactions)
{
	struct peer p;
	struct sl_db_conn *c = start_open(&p, "c_tx.script", "/neo4j");
	if (c == NULL)
		return;
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value params =
	        json(&a, "{\"rows\": [{\"a\": 1}, {\"a\": 2}]}");
	struct sl_db_tx tx;
	ok(sl_db_tx_begin(c, &tx, NULL) == 0, "BEGIN (queued)");
	struct sl_db_result *r = sl_db_query(
	        c, "UNWIND $rows AS r CREATE (n:`T`) SET n = r", 1, &params);
	ok(r != NULL && sl_db_result_stat(r, "nodes-created") == 2,
	   "BEGIN, RUN and PULL together (%s)", unit_errmsg());
	sl_db_result_free(r);
	struct sl_db_tx inner;
	ok(sl_db_tx_begin(c, &inner, NULL) != 0 &&
	           strstr(unit_errmsg(), "no nested") != NULL,
	   "no savepoints: %s", unit_errmsg());
	ok(sl_db_tx_commit(&tx) == 0, "COMMIT (%s)", unit_errmsg());
	struct sl_db_tx_opts ro = {.read_only = true};
	ok(sl_db_tx_begin(c, &tx, &ro) == 0, "a read-only transaction");
	r = sl_db_query(c, "MATCH (n:T) RETURN n.a AS a", SL_NOARGS);
	ok(r != NULL && sl_db_result_rows(r) == 2,
	   "records pulled in two rounds (has_more) (%s)", unit_errmsg());
	sl_db_result_free(r);
	ok(sl_db_tx_rollback(&tx) == 0, "ROLLBACK");
	sl_db_conn_close(c);
	sl_arena_destroy(&a);
	peer_done(&p, "transactions");
}

TAP_TASK_CASE(transaction_failure)
{
	struct peer p;
	struct sl_db_conn *c = start_open(&p, "c_tx_failure.script", "");
	if (c == NULL)
		return;
	struct sl_db_tx tx;
	sl_db_tx_begin(c, &tx, NULL);
	ok(sl_db_exec(c, "CREATE (n:A {k: 1})", SL_NOARGS, NULL) != 0,
	   "a statement fails in a transaction");
	ok(sl_db_exec(c, "RETURN 1", SL_NOARGS, NULL) != 0,
	   "the next is refused");
	is_err(SL_EABORTED, "as aborted (nothing sent)");
	ok(sl_db_tx_commit(&tx) != 0 &&
	           strstr(unit_errmsg(), "rolled back") != NULL,
	   "its commit says it was rolled back: %s", unit_errmsg());
	ok(sl_db_tx_begin(c, &tx, NULL) == 0 &&
	           sl_db_exec(c, "RETURN 1", SL_NOARGS, NULL) == 0 &&
	           sl_db_tx_commit(&tx) == 0,
	   "a new transaction works (%s)", unit_errmsg());
	sl_db_conn_close(c);
	peer_done(&p, "transaction_failure");
}

TAP_TASK_CASE(dropped_connection)
{
	struct peer p;
	struct sl_db_conn *c = start_open(&p, "c_drop_tx.script", "");
	if (c == NULL)
		return;
	struct sl_db_tx tx;
	sl_db_tx_begin(c, &tx, NULL);
	ok(sl_db_exec(c, "CREATE (n:A)", SL_NOARGS, NULL) != 0,
	   "a statement on a dropped connection fails");
	is_err(SL_EIO, "with an I/O error: %s", unit_errmsg());
	ok(!sl_db_conn_ok(c), "the connection is marked lost");
	sl_db_tx_abandon(&tx);
	sl_db_conn_close(c);
	peer_done(&p, "dropped");

	if (peer_start(&p, "c_lost_commit.script") != 0)
		bail_out("cannot start the peer");
	c = open_peer(&p, "");
	if (c == NULL) {
		peer_finish(&p, 1);
		return;
	}
	sl_db_tx_begin(c, &tx, NULL);
	ok(sl_db_exec(c, "CREATE (n:A)", SL_NOARGS, NULL) == 0, "a write");
	ok(sl_db_tx_commit(&tx) != 0, "a COMMIT whose reply is lost fails");
	is_err(SL_EIO, "with an I/O error");
	ok(strstr(unit_errmsg(), "may or may not have committed") != NULL,
	   "that says the outcome is unknown: %s", unit_errmsg());
	sl_db_conn_close(c);
	peer_done(&p, "lost commit");
}

TAP_TASK_CASE(noop_and_big_messages)
{
	struct peer p;
	if (peer_start(&p, "c_noop_big.script") != 0)
		bail_out("cannot start the peer");
	struct sl_db_conn *c = open_peer(&p, "");
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 22);
	char *s = sl_arena_alloc(&a, 102400);
	for (int i = 0; i < 102400; i++)
		s[i] = (char)('0' + i % 10);
	struct sl_member *m = sl_arena_alloc(&a, sizeof(*m));
	m->key = "s";
	m->key_len = 1;
	m->val = sl_str_ref(s, 102400);
	struct sl_value params = {
	        .type = SL_VOBJECT, .len = 1, .u = {.members = m}};
	struct sl_db_result *r =
	        c != NULL ? sl_db_query(c, "RETURN size($s) AS n, $s AS s", 1,
	                                &params)
	                  : NULL;
	ok(r != NULL, "a 100 KiB parameter and record, NOOPs between (%s)",
	   unit_errmsg());
	if (r != NULL) {
		const struct sl_value *v = sl_db_result_get(r, 0, 1);
		ok(v->type == SL_VSTR && v->len == 102400 &&
		           memcmp(v->u.s + 102390, "abcdefghij", 10) == 0,
		   "the big record arrives whole");
	}
	sl_db_result_free(r);
	sl_db_conn_close(c);
	sl_arena_destroy(&a);
	peer_done(&p, "noop_big");
}

/** The error code long_statement() ended with. */
static int long_code;

/** A task running a long statement on the connection `arg`. */
static int
long_statement(void *arg)
{
	struct sl_db_conn *c = arg;
	int rc = sl_db_exec(c, "CALL apoc.util.sleep(60000)", SL_NOARGS, NULL);
	long_code = rc == 0 ? 0 : (int)sl_diag_code();
	return 0;
}

TAP_TASK_CASE(cancel_sends_reset)
{
	for (int timeout = 0; timeout < 2; timeout++) {
		struct peer p;
		if (peer_start(&p, "c_cancel.script") != 0)
			bail_out("cannot start the peer");
		struct sl_db_conn *c = open_peer(&p, "");
		if (c == NULL) {
			peer_finish(&p, 1);
			return;
		}
		if (timeout)
			sl_db_conn_set_timeout(c, 0.3);
		struct sl_task *t = sl_task_spawn(sl_loop_current(), "long",
		                                  long_statement, c);
		if (!timeout) {
			sl_sleep(0.3);
			sl_task_cancel(t);
		}
		long_code = -1;
		sl_task_join(t);
		is_int(long_code, timeout ? SL_ETIMEDOUT : SL_ECANCELLED,
		       "%s: the statement ends",
		       timeout ? "timeout" : "cancel");
		sl_db_conn_set_timeout(c, SL_FOREVER);
		struct sl_db_result *r =
		        sl_db_query(c, "RETURN 3 AS three", SL_NOARGS);
		ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 3,
		   "%s: RESET was sent and the connection goes on (%s)",
		   timeout ? "timeout" : "cancel", unit_errmsg());
		sl_db_result_free(r);
		sl_db_conn_close(c);
		peer_done(&p, timeout ? "timeout" : "cancel");
	}
}

TAP_TASK_CASE(routing_leader_change)
{
	struct peer p;
	if (peer_start(&p, "c_router1.script", "c_router2.script", "--",
	               "c_writer_a.script", "--", "c_writer_b.script") != 0)
		bail_out("cannot start the peer");
	char u[256];
	struct sl_db_conn *c = sl_db_conn_open(
	        uri(u, sizeof(u), "neo4j", "neo4j:pw", p.port, "/neo4j"), NULL);
	ok(c != NULL, "a routed connection reaches writer A (%s)",
	   unit_errmsg());
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_value params = json(&a, "{\"id\": 7}");
	struct sl_db_result *r =
	        c != NULL ? sl_db_query(c, "CREATE (:Event {id: $id})", 1,
	                                &params)
	                  : NULL;
	ok(r != NULL && sl_db_result_stat(r, "nodes-created") == 1,
	   "NotALeader: new routing table, the write lands on B (%s)",
	   unit_errmsg());
	sl_db_result_free(r);
	sl_db_conn_close(c);
	sl_arena_destroy(&a);
	peer_done(&p, "routing");
}

TAP_TASK_CASE(pool_replaces_lost_connection)
{
	struct peer p;
	if (peer_start(&p, "c_pool1.script", "c_pool2.script") != 0)
		bail_out("cannot start the peer");
	char u[256];
	struct sl_db_pool_opts o;
	sl_db_pool_opts_init(&o);
	o.min_size = 0;
	o.max_size = 1;
	o.idle_check = SL_FOREVER;
	struct sl_db_pool *pool = sl_db_pool_open(
	        uri(u, sizeof(u), "bolt", "neo4j:pw", p.port, ""), &o);
	ok(pool != NULL, "a pool of Bolt connections (%s)", unit_errmsg());
	if (pool == NULL) {
		peer_finish(&p, 1);
		return;
	}
	struct sl_db_conn *c = sl_db_pool_acquire(pool, 5);
	struct sl_db_result *r =
	        c != NULL ? sl_db_query(c, "RETURN 1 AS n", SL_NOARGS) : NULL;
	ok(r != NULL, "a statement on the first connection");
	sl_db_result_free(r);
	sl_db_pool_release(c);
	c = sl_db_pool_acquire(pool, 5);
	ok(c != NULL && sl_db_exec(c, "RETURN 1 AS n", SL_NOARGS, NULL) != 0 &&
	           sl_diag_code() == SL_EIO,
	   "the server dropped it: the next statement fails (%s)",
	   unit_errmsg());
	sl_db_pool_release(c);
	c = sl_db_pool_acquire(pool, 5);
	r = c != NULL ? sl_db_query(c, "RETURN 2 AS n", SL_NOARGS) : NULL;
	ok(r != NULL && sl_db_result_get(r, 0, 0)->u.i == 2,
	   "the pool replaced the connection (%s)", unit_errmsg());
	sl_db_result_free(r);
	sl_db_pool_release(c);
	sl_db_pool_close(pool);
	peer_done(&p, "pool");
}

TAP_TASK_CASE(cursors)
{
	struct peer p;
	struct sl_db_conn *c = start_open(&p, "c_cursor.script", "");
	if (c == NULL)
		return;
	struct sl_db_tx tx;
	sl_db_tx_begin(c, &tx, NULL);
	struct sl_db_cursor *cur =
	        sl_db_cursor_open(c, "MATCH (n) RETURN n.a AS a", 0, NULL, 2);
	ok(cur != NULL, "a cursor (%s)", unit_errmsg());
	int64_t sum = 0;
	size_t rows = 0;
	for (int i = 0; cur != NULL && i < 2; i++) {
		struct sl_db_result *r = sl_db_cursor_fetch(cur);
		for (size_t k = 0; r != NULL && k < sl_db_result_rows(r); k++)
			sum += sl_db_result_get(r, k, 0)->u.i;
		rows += r != NULL ? sl_db_result_rows(r) : 0;
		sl_db_result_free(r);
	}
	ok(rows == 4 && sum == 10, "two fetches of two records");
	ok(sl_db_cursor_close(cur) == 0, "closing it early discards the rest");
	cur = sl_db_cursor_open(c, "MATCH (n) RETURN n.b AS b", 0, NULL, 2);
	struct sl_db_result *r = cur != NULL ? sl_db_cursor_fetch(cur) : NULL;
	ok(r != NULL && sl_db_result_rows(r) == 1 &&
	           strcmp(sl_db_result_name(r, 0), "b") == 0,
	   "a second cursor reads its one record");
	sl_db_result_free(r);
	r = cur != NULL ? sl_db_cursor_fetch(cur) : NULL;
	ok(r != NULL && sl_db_result_rows(r) == 0, "then none: the end");
	sl_db_result_free(r);
	ok(sl_db_cursor_close(cur) == 0, "and closes without a message");
	ok(sl_db_tx_commit(&tx) == 0, "COMMIT (%s)", unit_errmsg());
	sl_db_conn_close(c);
	peer_done(&p, "cursors");
}

/** One statement over `scheme` to the peer `p`; whether it worked. */
static bool
tls_query(struct peer *p, const char *scheme, const char *rest)
{
	char u[512];
	struct sl_db_conn *c = sl_db_conn_open(
	        uri(u, sizeof(u), scheme, "neo4j:pw", p->port, rest), NULL);
	struct sl_db_result *r =
	        c != NULL ? sl_db_query(c, "RETURN 1 AS one", SL_NOARGS) : NULL;
	bool good = r != NULL && sl_db_result_get(r, 0, 0)->u.i == 1;
	sl_db_result_free(r);
	sl_db_conn_close(c);
	return good;
}

TAP_TASK_CASE(tls)
{
	char dir[] = "/tmp/sl-tls-XXXXXX";
	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp");
	char cmd[1024], cert[64], key[64];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s "
	         "-days 2 -subj /CN=localhost -addext "
	         "subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null",
	         key, cert);
	if (system(cmd) != 0)
		bail_out("cannot make a certificate with openssl");
	struct peer p;
	if (peer_start(&p, "--tls", cert, key, "c_tls.script",
	               "c_tls.script") != 0)
		bail_out("cannot start the peer");
	/* First the refusal: it takes no script of the peer's. */
	bool good = tls_query(&p, "bolt+s", "");
	const char *msg = unit_errmsg();
	ok(!good && strstr(msg, "certificate was refused") != NULL,
	   "bolt+s:// refuses it against the system's CAs: %s", msg);
	ok(tls_query(&p, "bolt+ssc", ""),
	   "bolt+ssc:// accepts a self-signed certificate (%s)", unit_errmsg());
	char rest[128];
	snprintf(rest, sizeof(rest), "?ca=%s", cert);
	ok(tls_query(&p, "bolt+s", rest),
	   "bolt+s:// verifies it against ?ca= and the address (%s)",
	   unit_errmsg());
	peer_done(&p, "tls");
	if (peer_start(&p, "c_tls.script") != 0)
		bail_out("cannot start the peer");
	good = tls_query(&p, "bolt+ssc", "");
	msg = unit_errmsg();
	ok(!good && strstr(msg, "during the TLS handshake") != NULL,
	   "TLS to a plain server fails clearly: %s", msg);
	ok(peer_finish(&p, 20) == 1,
	   "(the plain server saw TLS, not Bolt, and failed its script)");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		note("could not remove %s", dir);
}

/**
 * Run shell command `cmd`, keeping its first size - 1 bytes of output in
 * out (NUL-terminated). Its exit status, or -1.
 */
static int
run_capture(const char *cmd, char *out, size_t size)
{
	FILE *f = popen(cmd, "r");
	size_t n = f != NULL ? fread(out, 1, size - 1, f) : 0;
	out[n] = '\0';
	return f != NULL ? pclose(f) : -1;
}

TAP_TASK_CASE(cypher_example)
{
	struct peer p;
	if (peer_start(&p, "c_example.script") != 0)
		bail_out("cannot start the peer");
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s bolt://neo4j:pw@127.0.0.1:%d/neo4j",
	         SLUICE_CYPHER_EXAMPLE, p.port);
	char out[2048];
	int st = run_capture(cmd, out, sizeof(out));
	is_int(st, 0, "examples/cypher_example runs");
	ok(strstr(out, "nodes created: 2, properties set: 4") != NULL &&
	           strstr(out, "Grace: {\"element_id\":\"4:x:2\"") != NULL,
	   "and prints the statistics and the nodes:\n%s", out);
	peer_done(&p, "cypher_example");
}

TAP_TASK_CASE(export_streams)
{
	struct peer p;
	if (peer_start(&p, "c_export.script") != 0)
		bail_out("cannot start the peer");
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
	         "%s export bolt://neo4j:pw@127.0.0.1:%d/neo4j 2>&1",
	         SLUICE_BIN, p.port);
	char out[4096];
	int st = run_capture(cmd, out, sizeof(out));
	is_int(st, 0, "sluice export bolt://... runs");
	is_str(out,
	       "{\"key\":{\"id\":1},\"labels\":[],\"node\":\"Person\","
	       "\"props\":{\"name\":\"Ada\"}}\n"
	       "{\"key\":{\"id\":2},\"labels\":[\"Author\"],\"node\":"
	       "\"Person\",\"props\":{\"name\":\"Grace\"}}\n"
	       "{\"key\":{\"id\":3},\"labels\":[],\"node\":\"Person\","
	       "\"props\":{\"born\":\"1931-09-03\",\"name\":\"Edsger\"}}\n"
	       "{\"from\":{\"key\":{\"id\":1},\"node\":\"Person\"},"
	       "\"key\":{},\"props\":{\"since\":1843},\"rel\":\"KNOWS\","
	       "\"to\":{\"key\":{\"id\":2},\"node\":\"Person\"}}\n",
	       "the canonical lines, keys split by the registry, a type "
	       "streamed in two fetches");
	peer_done(&p, "export");
}

TAP_TASK_CASE(migrations_show)
{
	char dir[] = "/tmp/sl-mig-XXXXXX";
	if (mkdtemp(dir) == NULL)
		bail_out("mkdtemp");
	struct peer p;
	if (peer_start(&p, "c_migrations.script") != 0)
		bail_out("cannot start the peer");
	char path[128], cmd[512];
	snprintf(path, sizeof(path), "%s/people.yaml", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		bail_out("cannot write %s", path);
	fputs("- implementation: range\n  factory: range\n  arguments: "
	      "{stop: 1}\n- implementation: interpreter\n  arguments:\n"
	      "    interpretations:\n      - type: source_node\n"
	      "        node_type: Person\n        key: {id: !jmespath index}\n"
	      "        additional_indexes: [name]\n"
	      "      - type: relationship\n        node_type: City\n"
	      "        relationship_type: LIVES_IN\n"
	      "        node_key: {name: !jmespath index}\n",
	      f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/nodestream.yaml", dir);
	if ((f = fopen(path, "w")) == NULL)
		bail_out("cannot write %s", path);
	fprintf(f,
	        "scopes:\n  default:\n    pipelines: [people.yaml]\n"
	        "targets:\n  neo: {database: neo4j, uri: "
	        "\"bolt://127.0.0.1:%d\", username: neo4j, password: pw, "
	        "database_name: neo4j}\n",
	        p.port);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && %s migrations show 2>&1", dir,
	         SLUICE_BIN);
	char out[4096];
	int st = run_capture(cmd, out, sizeof(out));
	is_int(st, 0, "sluice migrations show on a Neo4j target");
	ok(strstr(out, "| Person_node_key              | \u2705   |") != NULL &&
	           strstr(out, "| Person_name_additional_index | \u274C   |") !=
	                   NULL &&
	           strstr(out, "| City_node_key                | \u274C   |") !=
	                   NULL,
	   "a constraint there is applied, the others pending:\n%s", out);
	ok(strstr(out, "pw") == NULL, "no password shown");
	peer_done(&p, "migrations show");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		note("could not remove %s", dir);
}

TAP_TASK_CASE(uri_errors)
{
	static const char *const bad[][2] = {
	        {"bolt://h:99999", "bad port"},
	        {"bolt://h?colour=red", "unknown option 'colour'"},
	        {"bolt://h?auth=kerberos", "auth=kerberos"},
	        {"bolt://u@h?auth=bearer", "takes the token as the password"},
	        {"bolt://u:p%zz@h", "bad percent-encoding in the password"},
	        {"bolt://", "no host"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_db_conn *c = sl_db_conn_open(bad[i][0], NULL);
		ok(c == NULL && strstr(unit_errmsg(), bad[i][1]) != NULL,
		   "%s: %s", bad[i][0], unit_errmsg());
		sl_db_conn_close(c);
	}
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
