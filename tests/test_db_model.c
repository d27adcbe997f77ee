/*
 * Models and the query builder (sluice/model.h): the same checks run on
 * the test PostgreSQL and on SQLite (a real file); the SQLite half is
 * skipped while that driver is not built.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pg_env.h"
#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "sluice/model.h"
#include "unit.h"

static const struct sl_column user_cols[] = {
        {"id", SL_COL_BIGINT, SL_COL_AUTO, NULL, NULL},
        {"name", SL_COL_TEXT, SL_COL_NOT_NULL, NULL, NULL},
        {"email", SL_COL_TEXT, 0, NULL, NULL},
        {"age", SL_COL_INT, 0, NULL, NULL},
        {"score", SL_COL_FLOAT, 0, "1.5", NULL},
        {"active", SL_COL_BOOL, SL_COL_NOT_NULL, "true", NULL},
        {"avatar", SL_COL_BYTES, 0, NULL, NULL},
        {"created", SL_COL_TIMESTAMP, SL_COL_NOT_NULL, "now()",
         "CURRENT_TIMESTAMP"},
        {"props", SL_COL_JSON, SL_COL_PROPS, "'{}'", NULL},
};
static const struct sl_index user_idx[] = {
        {NULL, (const char *const[]){"email", NULL}, true},
        {"users_name_age", (const char *const[]){"name", "age", NULL}, false},
};
/** users: an auto id, defaults, a unique and a two-column index. */
static const struct sl_model users = {
        .table = "users",
        .columns = user_cols,
        .ncols = sizeof(user_cols) / sizeof(user_cols[0]),
        .pk = (const char *const[]){"id", NULL},
        .indexes = user_idx,
        .nindexes = 2,
};

static const struct sl_column booking_cols[] = {
        {"day", SL_COL_TEXT, SL_COL_NOT_NULL, NULL, NULL},
        {"booker", SL_COL_TEXT, SL_COL_NOT_NULL, NULL, NULL},
        {"room", SL_COL_TEXT, 0, NULL, NULL},
        {"note", SL_COL_TEXT, 0, NULL, NULL},
        {"nights", SL_COL_INT, 0, "1", NULL},
};
static const struct sl_index booking_idx[] = {
        {NULL, (const char *const[]){"day", "room", NULL}, true},
};
/** bookings: a composite key. */
static const struct sl_model bookings = {
        .table = "bookings",
        .columns = booking_cols,
        .ncols = 5,
        .pk = (const char *const[]){"day", "booker", NULL},
        .indexes = booking_idx,
        .nindexes = 1,
};

static const struct sl_column weird_cols[] = {
        {"co\"l", SL_COL_TEXT, SL_COL_NOT_NULL, NULL, NULL},
        {"select", SL_COL_INT, 0, NULL, NULL},
        {"a.b", SL_COL_TEXT, 0, NULL, NULL},
};
/** A hostile table: quotes, a keyword and a dot in names. */
static const struct sl_model weird = {
        .table = "we\"ird",
        .columns = weird_cols,
        .ncols = 3,
        .pk = (const char *const[]){"co\"l", NULL},
        .indexes =
                (const struct sl_index[]){
                        {NULL, (const char *const[]){"select", "a.b", NULL},
                         false}},
        .nindexes = 1,
};

static const struct sl_model *const all[] = {&users, &bookings, &weird};

/** Scratch arena for values of one check. */
static struct sl_arena arena;

/** The current error with its causes (static buffer). */
static const char *
E(void)
{
	static char msg[2048];
	struct sl_error *e = sl_diag_last();
	msg[0] = '\0';
	if (e != NULL)
		sl_error_format(e, msg, sizeof(msg));
	return msg;
}

/** Parse JSON text into a value (bails out on bad test JSON). */
static struct sl_value
J(const char *text) {
	struct sl_value v;
	if (sl_json_parse(text, strlen(text), &arena, NULL, "test", &v) != 0)
		bail_out("bad test JSON %s: %s", text, E());
	return v;
}

/** `v` as canonical JSON (static buffer). */
static const char *
S(const struct sl_value *v)
{
	static char out[4096];
	struct sl_buf b;
	sl_buf_create(&b, sizeof(out) - 1);
	if (v == NULL)
		snprintf(out, sizeof(out), "(none)");
	else if (sl_json_write(&b, v, SL_JSON_CANONICAL) != 0)
		snprintf(out, sizeof(out), "(error)");
	else
		snprintf(out, sizeof(out), "%s", b.data);
	sl_buf_destroy(&b);
	return out;
}

/** Member `key` of `obj` as canonical JSON. */
static const char *
F(const struct sl_value *obj, const char *key)
{
	return S(sl_object_get_cstr(obj, key));
}

/** ok() that prints the current error when the check fails. */
#define CHECK(cond, ...)                        \
	do {                                    \
		int c_ = !!(cond);              \
		ok(c_, __VA_ARGS__);            \
		if (!c_)                        \
			note("error: %s", E()); \
	} while (0)

/** Count rows of `table` with plain SQL. */
static long long
count(struct sl_db_conn *c, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", table);
	struct sl_db_result *r = sl_db_query(c, sql, SL_NOARGS);
	long long n =
	        r != NULL ? (long long)sl_db_result_get(r, 0, 0)->u.i : -1;
	sl_db_result_free(r);
	return n;
}

/** The builder cases whose SQL text is fixed (no connection needed). */
static void
check_sql_text(void)
{
	const char *sql;
	size_t n;
	const struct sl_value *p;

	struct sl_qb *q = sl_qb_new(&users);
	ok(sl_qb_sql(q, &sql, &n, &p) == 0, "bare query renders");
	is_str(sql, "SELECT * FROM \"users\"", "bare query SQL");
	is_int(n, 0, "no parameters");
	sl_qb_delete(q);

	q = sl_qb_new(&users);
	int age = sl_qb_cmp(q, "age", SL_OP_GT, sl_int(18));
	int like = sl_qb_cmp(q, "name", SL_OP_LIKE, sl_str_ref("a%", 2));
	int in = sl_qb_in(q, "id", 3,
	                  (struct sl_value[]){sl_int(1), sl_int(2), sl_int(3)});
	int inner = sl_qb_and(q, SL_CONDS(like, sl_qb_not(q, in)));
	int any = sl_qb_or(q, SL_CONDS(inner, sl_qb_is_null(q, "email", true)));
	sl_qb_where(q, sl_qb_and(q, SL_CONDS(age, any)));
	sl_qb_where(q, sl_qb_in(q, "email", 0, NULL));
	sl_qb_order(q, "name", true);
	sl_qb_order(q, "id", false);
	sl_qb_limit(q, 10);
	sl_qb_offset(q, 5);
	ok(sl_qb_sql(q, &sql, &n, &p) == 0, "nested query renders");
	is_str(sql,
	       "SELECT * FROM \"users\" WHERE (\"age\" > $1 AND ((\"name\" "
	       "LIKE $2 AND NOT (\"id\" IN ($3, $4, $5))) OR \"email\" IS "
	       "NOT NULL)) AND FALSE ORDER BY \"name\" DESC, \"id\" LIMIT $6 "
	       "OFFSET $7",
	       "nested and/or/not, IN, empty IN, order, limit, offset");
	is_int(n, 7, "seven parameters");
	ok(n == 7 && p[0].u.i == 18 && p[1].len == 2 && p[2].u.i == 1 &&
	           p[4].u.i == 3 && p[5].u.i == 10 && p[6].u.i == 5,
	   "parameters in $n order");
	sl_qb_delete(q);

	q = sl_qb_new(&bookings);
	sl_qb_join(q, SL_JOIN_LEFT, &users, "booker", "name");
	sl_qb_select(q, 3, (const char *const[]){"day", "users.email", "note"});
	sl_qb_where(q, sl_qb_cmp(q, "users.age", SL_OP_GE, sl_int(3)));
	sl_qb_order(q, "users.id", true);
	ok(sl_qb_sql(q, &sql, &n, &p) == 0, "join renders");
	is_str(sql,
	       "SELECT \"bookings\".\"day\", \"users\".\"email\" AS "
	       "\"users.email\", \"bookings\".\"note\" FROM \"bookings\" LEFT "
	       "JOIN \"users\" ON \"bookings\".\"booker\" = \"users\".\"name\" "
	       "WHERE \"users\".\"age\" >= $1 ORDER BY \"users\".\"id\" DESC",
	       "join SQL qualifies columns");
	sl_qb_delete(q);

	q = sl_qb_new(&weird);
	sl_qb_where(q, sl_qb_cmp(q, "co\"l", SL_OP_EQ, sl_str_ref("x", 1)));
	sl_qb_where(q, sl_qb_cmp(q, "a.b", SL_OP_NE, sl_str_ref("y", 1)));
	ok(sl_qb_sql(q, &sql, &n, &p) == 0, "hostile names render");
	is_str(sql,
	       "SELECT * FROM \"we\"\"ird\" WHERE \"co\"\"l\" = $1 AND "
	       "\"a.b\" != $2",
	       "identifiers quoted");
	sl_qb_delete(q);

	q = sl_qb_new(&users);
	ok(sl_qb_cmp(q, "nope", SL_OP_EQ, sl_int(1)) == -1, "unknown column");
	is_err(SL_EINVAL, "unknown column is SL_EINVAL");
	ok(strstr(unit_errmsg(), "nope") != NULL, "error names it: %s", E());
	ok(sl_qb_is_null(q, "id", false) == -1, "later calls fail too");
	ok(sl_qb_sql(q, &sql, &n, &p) == -1, "and so does rendering");
	is_err(SL_EINVAL, "with the first error");
	sl_qb_delete(q);

	q = sl_qb_new(&users);
	int leaf = sl_qb_is_null(q, "id", false);
	sl_qb_and(q, SL_CONDS(leaf));
	ok(sl_qb_or(q, SL_CONDS(leaf)) == -1, "a condition is used once");
	sl_qb_delete(q);

	q = sl_qb_new(&users);
	int d = sl_qb_is_null(q, "id", false);
	for (int i = 0; i < SL_QB_DEPTH_MAX + 2 && d >= 0; i++)
		d = sl_qb_not(q, d);
	ok(d == -1, "nesting is capped");
	is_err(SL_ELIMIT, "SL_ELIMIT");
	sl_qb_delete(q);

	q = sl_qb_new(&users);
	static struct sl_value many[SL_DB_PARAMS_MAX + 1];
	for (size_t i = 0; i < SL_DB_PARAMS_MAX + 1; i++)
		many[i] = sl_int((int64_t)i);
	int big = sl_qb_in(q, "id", SL_DB_PARAMS_MAX + 1, many);
	ok(big == -1, "IN past SL_DB_PARAMS_MAX values fails");
	is_err(SL_ELIMIT, "SL_ELIMIT");
	sl_qb_delete(q);

	q = sl_qb_new(&users);
	sl_qb_where(q, sl_qb_in(q, "id", SL_DB_PARAMS_MAX - 1, many));
	sl_qb_limit(q, 1);
	sl_qb_offset(q, 1);
	ok(sl_qb_sql(q, &sql, &n, &p) == -1,
	   "parameters past SL_DB_PARAMS_MAX fail to render");
	is_err(SL_ELIMIT, "SL_ELIMIT");
	sl_qb_delete(q);
}

/** The model checks on connection `c`. */
static void
suite(struct sl_db_conn *c, const char *tag)
{
	struct sl_value out, row;
	note("--- %s", tag);
	sl_model_drop_all(c, all, 3);
	CHECK(sl_model_create_all(c, all, 3) == 0, "%s: create_all", tag);
	CHECK(sl_model_create_all(c, all, 3) == 0, "%s: create_all again", tag);
	CHECK(sl_model_drop_all(c, all, 3) == 0, "%s: drop_all", tag);
	CHECK(sl_model_drop_all(c, all, 3) == 0, "%s: drop_all again", tag);
	is_int(count(c, "users"), -1, "%s: the table is gone", tag);
	CHECK(sl_model_create_all(c, all, 3) == 0, "%s: create_all", tag);

	/* insert with server defaults */
	row = J("{\"name\":\"ann\",\"email\":\"ann@x\",\"age\":30}");
	CHECK(sl_model_insert(c, &users, &row, &arena, &out) == 0, "%s: insert",
	      tag);
	is_str(F(&out, "id"), "1", "%s: generated id", tag);
	is_str(F(&out, "active"), "true", "%s: default bool", tag);
	is_str(F(&out, "score"), "1.5", "%s: default float", tag);
	is_str(F(&out, "props"), "{}", "%s: default props", tag);
	const struct sl_value *created = sl_object_get_cstr(&out, "created");
	CHECK(created != NULL && created->type == SL_VSTR && created->len >= 19,
	      "%s: default timestamp %s", tag, S(created));
	row = J("{\"name\":\"bob\",\"email\":\"bob@x\",\"age\":17,"
	        "\"active\":false,\"avatar\":\"\\u0001bin\","
	        "\"props\":{\"a\":1,\"n\":{\"x\":1}}}");
	CHECK(sl_model_insert(c, &users, &row, &arena, &out) == 0,
	      "%s: insert 2", tag);
	is_str(F(&out, "id"), "2", "%s: next id", tag);
	is_str(F(&out, "active"), "false", "%s: bool", tag);
	is_str(F(&out, "avatar"), "\"\\u0001bin\"", "%s: bytes", tag);
	is_str(F(&out, "props"), "{\"a\":1,\"n\":{\"x\":1}}", "%s: json", tag);

	row = J("{\"name\":\"dup\",\"email\":\"ann@x\"}");
	CHECK(sl_model_insert(c, &users, &row, &arena, &out) == -1,
	      "%s: unique index violation", tag);
	is_err(SL_EDB, "%s: is SL_EDB", tag);
	row = J("{\"name\":\"x\",\"nope\":1}");
	CHECK(sl_model_insert(c, &users, &row, &arena, &out) == -1,
	      "%s: unknown column", tag);
	is_err(SL_EINVAL, "%s: is SL_EINVAL", tag);
	CHECK(strstr(unit_errmsg(), "\"nope\"") &&
	              strstr(unit_errmsg(), "\"users\""),
	      "%s: names column and model", tag);

	/* props merge keeps old keys */
	row = J("{\"props\":{\"b\":2},\"age\":18}");
	struct sl_value key = sl_int(2);
	is_int(sl_model_update(c, &users, &key, &row, &arena, &out), 1,
	       "%s: update props", tag);
	is_str(F(&out, "props"), "{\"a\":1,\"b\":2,\"n\":{\"x\":1}}",
	       "%s: props merged", tag);
	is_str(F(&out, "age"), "18", "%s: age set", tag);
	is_str(F(&out, "email"), "\"bob@x\"", "%s: email kept", tag);

	/* composite keys */
	row = J("{\"day\":\"2024-05-01\",\"booker\":\"ann\",\"room\":\"r1\","
	        "\"note\":\"n1\"}");
	CHECK(sl_model_insert(c, &bookings, &row, &arena, &out) == 0,
	      "%s: insert booking", tag);
	is_str(F(&out, "nights"), "1", "%s: default int", tag);
	row = J("{\"day\":\"2024-05-01\",\"booker\":\"bob\",\"room\":\"r2\"}");
	CHECK(sl_model_insert(c, &bookings, &row, &arena, NULL) == 0,
	      "%s: insert booking 2", tag);
	key = J("{\"booker\":\"ann\",\"day\":\"2024-05-01\"}");
	is_int(sl_model_get(c, &bookings, &key, &arena, &out), 1,
	       "%s: get by object key", tag);
	is_str(F(&out, "room"), "\"r1\"", "%s: the right row", tag);
	key = J("[\"2024-05-01\",\"bob\"]");
	is_int(sl_model_get(c, &bookings, &key, &arena, &out), 1,
	       "%s: get by array key", tag);
	is_str(F(&out, "room"), "\"r2\"", "%s: the right row", tag);
	key = J("[\"2024-05-02\",\"bob\"]");
	is_int(sl_model_get(c, &bookings, &key, &arena, &out), 0,
	       "%s: get of a missing key", tag);
	key = J("[\"2024-05-02\"]");
	is_int(sl_model_get(c, &bookings, &key, &arena, &out), -1,
	       "%s: short key", tag);
	is_err(SL_EINVAL, "%s: is SL_EINVAL", tag);

	/* update changes only the given columns */
	CHECK(sl_db_exec(
	              c,
	              "UPDATE bookings SET note = 'concurrent' WHERE booker = "
	              "'ann'",
	              SL_NOARGS, NULL) == 0,
	      "%s: another statement changes note", tag);
	key = J("{\"day\":\"2024-05-01\",\"booker\":\"ann\"}");
	row = J("{\"nights\":4}");
	is_int(sl_model_update(c, &bookings, &key, &row, &arena, &out), 1,
	       "%s: update nights", tag);
	is_str(F(&out, "nights"), "4", "%s: nights updated", tag);
	is_str(F(&out, "note"), "\"concurrent\"", "%s: note kept", tag);
	is_str(F(&out, "room"), "\"r1\"", "%s: room kept", tag);
	key = J("[\"2024-09-09\",\"zed\"]");
	is_int(sl_model_update(c, &bookings, &key, &row, &arena, &out), 0,
	       "%s: update of a missing row", tag);

	/* upsert */
	row = J("{\"day\":\"2024-06-01\",\"booker\":\"cy\",\"note\":\"a\"}");
	CHECK(sl_model_upsert(c, &bookings, &row, &arena, &out) == 0,
	      "%s: upsert inserts", tag);
	is_str(F(&out, "note"), "\"a\"", "%s: inserted", tag);
	row = J("{\"day\":\"2024-06-01\",\"booker\":\"cy\",\"note\":\"b\","
	        "\"room\":\"r9\"}");
	CHECK(sl_model_upsert(c, &bookings, &row, &arena, &out) == 0,
	      "%s: upsert updates", tag);
	is_str(F(&out, "note"), "\"b\"", "%s: updated", tag);
	is_str(F(&out, "room"), "\"r9\"", "%s: room set", tag);
	is_int(count(c, "bookings"), 3, "%s: one row for the key", tag);
	row = J("{\"day\":\"2024-06-01\",\"booker\":\"cy\"}");
	CHECK(sl_model_upsert(c, &bookings, &row, &arena, &out) == 0,
	      "%s: upsert of key columns only", tag);
	is_str(F(&out, "note"), "\"b\"", "%s: nothing changed", tag);
	row = J("{\"id\":2,\"props\":{\"c\":3},\"name\":\"bob\"}");
	CHECK(sl_model_upsert(c, &users, &row, &arena, &out) == 0,
	      "%s: upsert with props", tag);
	is_str(F(&out, "props"), "{\"a\":1,\"b\":2,\"c\":3,\"n\":{\"x\":1}}",
	       "%s: upsert merges props", tag);

	/* delete */
	key = J("[\"2024-06-01\",\"cy\"]");
	is_int(sl_model_delete(c, &bookings, &key), 1, "%s: delete", tag);
	is_int(sl_model_delete(c, &bookings, &key), 0, "%s: delete again", tag);

	/* SQL in a value is stored verbatim */
	const char *evil = "'; DROP TABLE x; --";
	row = J("{\"name\":\"'; DROP TABLE x; --\",\"email\":\"e\"}");
	CHECK(sl_model_insert(c, &users, &row, &arena, &out) == 0,
	      "%s: insert SQL text", tag);
	key = *sl_object_get_cstr(&out, "id");
	is_int(sl_model_get(c, &users, &key, &arena, &out), 1, "%s: get", tag);
	const struct sl_value *nm = sl_object_get_cstr(&out, "name");
	CHECK(nm != NULL && nm->len == strlen(evil) &&
	              memcmp(nm->u.s, evil, nm->len) == 0,
	      "%s: stored verbatim", tag);

	/* hostile identifiers */
	row = J("{\"co\\\"l\":\"k\",\"select\":7,\"a.b\":\"ab\"}");
	CHECK(sl_model_insert(c, &weird, &row, &arena, &out) == 0,
	      "%s: insert into we\"ird", tag);
	key = sl_str_ref("k", 1);
	row = J("{\"select\":8}");
	is_int(sl_model_update(c, &weird, &key, &row, &arena, &out), 1,
	       "%s: update we\"ird", tag);
	is_str(F(&out, "select"), "8", "%s: value", tag);
	struct sl_qb *q = sl_qb_new(&weird);
	sl_qb_where(q, sl_qb_cmp(q, "a.b", SL_OP_EQ, sl_str_ref("ab", 2)));
	struct sl_value rows;
	CHECK(sl_qb_all(c, q, &arena, &rows) == 0 && rows.len == 1,
	      "%s: query we\"ird", tag);
	sl_qb_delete(q);

	/* query builder */
	const char *more[] = {
	        "{\"name\":\"cat\",\"email\":\"c@x\",\"age\":40}",
	        "{\"name\":\"abe\",\"email\":\"abe@x\",\"age\":25}",
	        "{\"name\":\"dan\",\"age\":22}",
	};
	for (size_t i = 0; i < 3; i++) {
		row = J(more[i]);
		sl_model_insert(c, &users, &row, &arena, NULL);
	}
	/* users: ann 30, bob 18 (inactive), evil (no age), cat 40, abe 25,
	 * dan 22 */
	q = sl_qb_new(&users);
	sl_qb_select(q, 1, (const char *const[]){"name"});
	int a1 = sl_qb_cmp(q, "age", SL_OP_GT, sl_int(20));
	int o1 = sl_qb_cmp(q, "name", SL_OP_LIKE, sl_str_ref("a%", 2));
	int o2 = sl_qb_in(q, "name", 2,
	                  (struct sl_value[]){sl_str_ref("cat", 3),
	                                      sl_str_ref("bob", 3)});
	sl_qb_where(q,
	            sl_qb_and(q, SL_CONDS(a1, sl_qb_or(q, SL_CONDS(o1, o2)))));
	sl_qb_order(q, "age", true);
	CHECK(sl_qb_all(c, q, &arena, &rows) == 0, "%s: where/and/or: %s", tag,
	      E());
	is_str(S(&rows),
	       "[{\"name\":\"cat\"},{\"name\":\"ann\"},{\"name\":"
	       "\"abe\"}]",
	       "%s: rows", tag);
	sl_qb_limit(q, 1);
	sl_qb_offset(q, 1);
	CHECK(sl_qb_all(c, q, &arena, &rows) == 0, "%s: limit offset", tag);
	is_str(S(&rows), "[{\"name\":\"ann\"}]", "%s: rows", tag);
	sl_qb_delete(q);

	q = sl_qb_new(&users);
	sl_qb_where(q, sl_qb_in(q, "id", 0, NULL));
	CHECK(sl_qb_all(c, q, &arena, &rows) == 0 && rows.len == 0,
	      "%s: empty IN matches nothing", tag);
	sl_qb_delete(q);

	q = sl_qb_new(&users);
	sl_qb_select(q, 1, (const char *const[]){"id"});
	sl_qb_where(q, sl_qb_or(q, SL_CONDS(sl_qb_is_null(q, "age", false),
	                                    sl_qb_cmp(q, "age", SL_OP_LE,
	                                              sl_int(18)))));
	sl_qb_where(q, sl_qb_cmp(q, "active", SL_OP_NE, sl_bool(true)));
	sl_qb_order(q, "id", false);
	CHECK(sl_qb_all(c, q, &arena, &rows) == 0, "%s: IS NULL, bool", tag);
	is_str(S(&rows), "[{\"id\":2}]", "%s: rows", tag);
	sl_qb_delete(q);

	q = sl_qb_new(&users);
	sl_qb_select(q, 2, (const char *const[]){"name", "props"});
	sl_qb_where(q, sl_qb_cmp(q, "name", SL_OP_EQ,
	                         sl_str_ref(evil, (uint32_t)strlen(evil))));
	CHECK(sl_qb_all(c, q, &arena, &rows) == 0 && rows.len == 1,
	      "%s: SQL text as a value matches", tag);
	is_str(S(&rows), "[{\"name\":\"'; DROP TABLE x; --\",\"props\":{}}]",
	       "%s: rows with props decoded", tag);
	sl_qb_delete(q);

	q = sl_qb_new(&bookings);
	sl_qb_join(q, SL_JOIN_INNER, &users, "booker", "users.name");
	sl_qb_select(q, 3, (const char *const[]){"day", "booker", "users.age"});
	sl_qb_order(q, "booker", false);
	CHECK(sl_qb_all(c, q, &arena, &rows) == 0, "%s: inner join: %s", tag,
	      E());
	is_str(S(&rows),
	       "[{\"booker\":\"ann\",\"day\":\"2024-05-01\",\"users.age\":30},"
	       "{\"booker\":\"bob\",\"day\":\"2024-05-01\",\"users.age\":18}]",
	       "%s: rows", tag);
	sl_qb_delete(q);

	row = J("{\"day\":\"2024-07-01\",\"booker\":\"nobody\"}");
	sl_model_insert(c, &bookings, &row, &arena, NULL);
	q = sl_qb_new(&bookings);
	sl_qb_join(q, SL_JOIN_LEFT, &users, "booker", "name");
	sl_qb_where(q, sl_qb_is_null(q, "users.id", false));
	CHECK(sl_qb_all(c, q, &arena, &rows) == 0 && rows.len == 1,
	      "%s: left join", tag);
	if (rows.len == 1) {
		is_str(F(&rows.u.items[0], "booker"), "\"nobody\"",
		       "%s: unmatched row", tag);
		is_str(F(&rows.u.items[0], "users.props"), "null",
		       "%s: joined columns null", tag);
	}
	sl_qb_delete(q);

	/* in a transaction, then rolled back */
	struct sl_db_tx tx;
	CHECK(sl_db_tx_begin(c, &tx, NULL) == 0, "%s: begin", tag);
	row = J("{\"name\":\"tx\"}");
	CHECK(sl_model_insert(c, &users, &row, &arena, &out) == 0,
	      "%s: insert in a transaction", tag);
	CHECK(sl_db_tx_rollback(&tx) == 0, "%s: rollback", tag);
	is_int(count(c, "users"), 6, "%s: rolled back", tag);

	CHECK(sl_model_drop_all(c, all, 3) == 0, "%s: drop_all", tag);
	sl_arena_reset(&arena);
}

/** The suite on each driver. */
static int
main_task(void *arg)
{
	(void)arg;
	char url[600];
	if (pg_test_url("postgres", url, sizeof(url)) == NULL) {
		note("skip PostgreSQL: no test server");
	} else {
		/* A database of its own: tests beside it use "postgres". */
		struct sl_db_conn *c = sl_db_conn_open(url, NULL);
		ok(c != NULL &&
		           sl_db_exec_script(c, "DROP DATABASE IF EXISTS "
		                                "sluice_model") == 0 &&
		           sl_db_exec_script(
		                   c, "CREATE DATABASE sluice_model") == 0,
		   "postgres: create database sluice_model");
		sl_db_conn_close(c);
		c = NULL;
		if (pg_test_url("sluice_model", url, sizeof(url)) != NULL)
			c = sl_db_conn_open(url, NULL);
		ok(c != NULL, "postgres: connect: %s", E());
		if (c != NULL)
			suite(c, "postgres");
		sl_db_conn_close(c);
	}
	char path[64];
	snprintf(path, sizeof(path), "sqlite:/tmp/sluice_model_%d.db",
	         (int)getpid());
	struct sl_db_conn *c = sl_db_conn_open(path, NULL);
	if (c == NULL && strstr(unit_errmsg(), "not built") != NULL) {
		printf("ok %d # skip SQLite: %s\n", ++unit_run, E());
	} else {
		ok(c != NULL, "sqlite: connect: %s", E());
		if (c != NULL)
			suite(c, "sqlite");
		sl_db_conn_close(c);
	}
	unlink(path + 7);
	return 0;
}

/** The SQL text the query builder makes (no database). */
TAP_CASE(sql_text)
{
	check_sql_text();
}

/** Models on PostgreSQL and SQLite. */
TAP_CASE(drivers)
{
	if (run_task("db_model", main_task, NULL) != 0)
		note("the task failed: %s", E());
}

/** Create the scratch arena. */
static int
setup(void)
{
	sl_arena_create(&arena, 0, (size_t)1 << 30);
	return 0;
}

/** Free the scratch arena. */
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
