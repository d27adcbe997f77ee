/*
 * The database layer on its own, no pipeline: two models, create_all,
 * inserts, a transaction, a query with a join, drop_all.
 *
 *   db_example postgresql://user:pass@host/db
 *   db_example sqlite:/tmp/example.db
 *
 * It uses one connection (sl_db_conn_open); with the pool the same code runs
 * on a connection from sl_db_pool_acquire() given back by sl_db_pool_release().
 */
#include <stdio.h>
#include <string.h>

#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/model.h"
#include "sluice/task.h"

static const struct sl_column user_cols[] = {
        {"id", SL_COL_BIGINT, SL_COL_AUTO, NULL, NULL},
        {"name", SL_COL_TEXT, SL_COL_NOT_NULL, NULL, NULL},
        {"created", SL_COL_TIMESTAMP, SL_COL_NOT_NULL, "now()",
         "CURRENT_TIMESTAMP"},
        {"props", SL_COL_JSON, SL_COL_PROPS, "'{}'", NULL},
};
/** users: an id the database generates and a props column. */
static const struct sl_model users = {
        .table = "example_users",
        .columns = user_cols,
        .ncols = 4,
        .pk = (const char *const[]){"id", NULL},
        .indexes =
                (const struct sl_index[]){
                        {NULL, (const char *const[]){"name", NULL}, true}},
        .nindexes = 1,
};

static const struct sl_column booking_cols[] = {
        {"day", SL_COL_TEXT, SL_COL_NOT_NULL, NULL, NULL},
        {"user_id", SL_COL_BIGINT, SL_COL_NOT_NULL, NULL, NULL},
        {"room", SL_COL_TEXT, SL_COL_NOT_NULL, NULL, NULL},
};
/** bookings: a composite key (day, user_id). */
static const struct sl_model bookings = {
        .table = "example_bookings",
        .columns = booking_cols,
        .ncols = 3,
        .pk = (const char *const[]){"day", "user_id", NULL},
};

static const struct sl_model *const models[] = {&users, &bookings};

/** Print `v` as JSON after `label`. */
static void
show(const char *label, const struct sl_value *v)
{
	struct sl_buf b;
	sl_buf_create(&b, 1 << 20);
	if (sl_json_write(&b, v, SL_JSON_CANONICAL) == 0)
		printf("%s %s\n", label, b.data);
	sl_buf_destroy(&b);
}

/** Insert user `name` with props `age`; its id, or -1. */
static int64_t
add_user(struct sl_db_conn *c, struct sl_arena *a, const char *name, int age)
{
	struct sl_member props[] = {{"age", 3, sl_int(age)}};
	struct sl_member m[] = {
	        {"name", 4, sl_str_ref(name, (uint32_t)strlen(name))},
	        {"props", 5, sl_object_ref(props, 1)},
	};
	struct sl_value row = sl_object_ref(m, 2), out;
	if (sl_model_insert(c, &users, &row, a, &out) != 0)
		return -1;
	return sl_object_get_cstr(&out, "id")->u.i;
}

/** Book `room` on `day` for user `id`. 0, or -1. */
static int
book(struct sl_db_conn *c, const char *day, int64_t id, const char *room)
{
	struct sl_member m[] = {
	        {"day", 3, sl_str_ref(day, (uint32_t)strlen(day))},
	        {"user_id", 7, sl_int(id)},
	        {"room", 4, sl_str_ref(room, (uint32_t)strlen(room))},
	};
	struct sl_value row = sl_object_ref(m, 3);
	return sl_model_insert(c, &bookings, &row, NULL, NULL);
}

/** The example, on connection `c`. 0, or -1 with an error. */
static int
run(struct sl_db_conn *c, struct sl_arena *a)
{
	if (sl_model_create_all(c, models, 2) != 0)
		return -1;
	int64_t ann = add_user(c, a, "ann", 31);
	int64_t bob = add_user(c, a, "bob", 17);
	if (ann < 0 || bob < 0)
		return -1;

	/* Both bookings or neither. */
	struct sl_db_tx tx;
	if (sl_db_tx_begin(c, &tx, NULL) != 0)
		return -1;
	if (book(c, "2024-05-01", ann, "blue") != 0 ||
	    book(c, "2024-05-02", bob, "red") != 0) {
		sl_db_tx_rollback(&tx);
		return -1;
	}
	if (sl_db_tx_commit(&tx) != 0)
		return -1;

	/* A transaction that fails: the booking is rolled back. */
	if (sl_db_tx_begin(c, &tx, NULL) != 0)
		return -1;
	book(c, "2024-05-03", ann, "green");
	sl_db_tx_rollback(&tx);

	/* Merge a key into bob's props. */
	struct sl_member pm[] = {{"vip", 3, sl_bool(true)}};
	struct sl_member ch[] = {{"props", 5, sl_object_ref(pm, 1)}};
	struct sl_value key = sl_int(bob), changes = sl_object_ref(ch, 1);
	struct sl_value row;
	if (sl_model_update(c, &users, &key, &changes, a, &row) != 1)
		return -1;
	show("bob props:", sl_object_get_cstr(&row, "props"));

	struct sl_qb *q = sl_qb_new(&bookings);
	if (q == NULL)
		return -1;
	sl_qb_join(q, SL_JOIN_INNER, &users, "user_id", "id");
	sl_qb_select(
	        q, 3,
	        (const char *const[]){"day", "room", "example_users.name"});
	sl_qb_where(
	        q, sl_qb_cmp(q, "day", SL_OP_GE, sl_str_ref("2024-05-01", 10)));
	sl_qb_order(q, "day", false);
	const char *sql;
	size_t n;
	const struct sl_value *params;
	struct sl_value rows;
	int rc = sl_qb_sql(q, &sql, &n, &params);
	if (rc == 0) {
		printf("sql: %s\n", sql);
		rc = sl_qb_all(c, q, a, &rows);
	}
	sl_qb_delete(q);
	if (rc != 0)
		return -1;
	for (uint32_t i = 0; i < rows.len; i++)
		show("booking:", &rows.u.items[i]);
	printf("bookings: %u\n", rows.len);
	return sl_model_drop_all(c, models, 2);
}

/** The main task: connect, run, close. */
static int
main_task(void *arg)
{
	const char *url = arg;
	struct sl_db_conn *c = sl_db_conn_open(url, NULL);
	if (c == NULL)
		return -1;
	struct sl_arena a;
	sl_arena_create(&a, 0, (size_t)64 << 20);
	int rc = run(c, &a);
	sl_arena_destroy(&a);
	sl_db_conn_close(c);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s postgresql://...|sqlite:PATH\n",
		        argv[0]);
		return 2;
	}
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL)
		return 1;
	int rc = sl_loop_run_main(loop, "db_example", main_task, argv[1]);
	if (rc != 0) {
		char msg[2048];
		struct sl_error *e = sl_diag_last();
		if (e != NULL)
			sl_error_format(e, msg, sizeof(msg));
		fprintf(stderr, "db_example: %s\n", e != NULL ? msg : "failed");
	}
	sl_loop_delete(loop);
	return rc == 0 ? 0 : 1;
}
