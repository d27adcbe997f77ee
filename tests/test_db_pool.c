/*
 * The connection pool against the test PostgreSQL: connections at open,
 * reuse newest first, the max_size bound under load, acquire timeouts and
 * cancellation, FIFO hand-over, connections given back by tasks that end
 * (rolling back their transactions), health checks, lifetime and idle
 * limits, two tasks on one connection, login errors without the password,
 * and closing with a connection still out.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pg_env.h"
#include "sluice/alloc.h"
#include "sluice/db.h"
#include "unit.h"

/** The test database's URL. */
static char url[600];

/** Fill `buf` with an application_name unique to this run and `tag`. */
static const char *
app_name(char *buf, size_t size, const char *tag)
{
	snprintf(buf, size, "slpool_%ld_%s", (long)getpid(), tag);
	return buf;
}

/** Pool options with defaults and the application name `app`. */
static struct sl_db_pool_opts
pool_opts(const char *app)
{
	struct sl_db_pool_opts o;
	sl_db_pool_opts_init(&o);
	o.conn.app_name = app;
	o.conn.connect_timeout = 10;
	return o;
}

/** The first column of the first row of `sql` as an integer, or -1. */
static int64_t
query_int(struct sl_db_conn *c, const char *sql)
{
	struct sl_db_result *r = sl_db_query(c, sql, SL_NOARGS);
	if (r == NULL)
		return -1;
	int64_t v = -1;
	if (sl_db_result_rows(r) > 0 &&
	    sl_db_result_get(r, 0, 0)->type == SL_VINT)
		v = sl_db_result_get(r, 0, 0)->u.i;
	sl_db_result_free(r);
	return v;
}

/** Backends the server has for application_name `app` (via `mon`). */
static int64_t
count_app(struct sl_db_conn *mon, const char *app)
{
	struct sl_db_result *r =
	        sl_db_query(mon,
	                    "SELECT count(*)::int8 FROM pg_stat_activity "
	                    "WHERE application_name = $1",
	                    SL_ARGS(sl_str_ref(app, (uint32_t)strlen(app))));
	if (r == NULL)
		return -1;
	int64_t v = sl_db_result_get(r, 0, 0)->u.i;
	sl_db_result_free(r);
	return v;
}

/**
 * Backends for `app` once the count reached `want` (a backend leaves
 * pg_stat_activity a moment after its client closed), or the last count
 * after 5 s.
 */
static int64_t
count_app_settled(struct sl_db_conn *mon, const char *app, int64_t want)
{
	double end = sl_clock() + 5;
	int64_t n;
	while ((n = count_app(mon, app)) != want && sl_clock() < end)
		sl_sleep(0.02);
	return n;
}

/** A connection of its own for looking at the server. */
static struct sl_db_conn *
monitor(void)
{
	struct sl_db_conn *mon = sl_db_conn_open(url, NULL);
	if (mon == NULL)
		bail_out("monitor connection: %s", unit_errmsg());
	return mon;
}

/** min_size connections open at once; stats agree. */
static int
t_open_min(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o = pool_opts(app_name(app, sizeof(app), "min"));
	o.min_size = 3;
	struct sl_db_conn *mon = monitor();
	struct sl_db_pool *p = sl_db_pool_open(url, &o);
	ok(p != NULL, "open: pool of min_size 3");
	if (p == NULL)
		return 0;
	is_int(count_app(mon, app), 3, "open: 3 backends on the server");
	struct sl_db_pool_stats st;
	sl_db_pool_stats(p, &st);
	is_int(st.size, 3, "open: size 3");
	is_int(st.idle, 3, "open: idle 3");
	is_int(st.connects, 3, "open: 3 connects");
	sl_db_pool_close(p);
	is_int(count_app_settled(mon, app, 0), 0, "close: backends gone");
	sl_db_conn_close(mon);
	return 0;
}

/** The most recently released connection comes back first. */
static int
t_lifo(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o =
	        pool_opts(app_name(app, sizeof(app), "lifo"));
	o.min_size = 0;
	struct sl_db_pool *p = sl_db_pool_open(url, &o);
	struct sl_db_conn *a = sl_db_pool_acquire(p, 5);
	struct sl_db_conn *b = sl_db_pool_acquire(p, 5);
	ok(a != NULL && b != NULL && a != b, "lifo: two connections");
	int64_t pa = query_int(a, "SELECT pg_backend_pid()");
	int64_t pb = query_int(b, "SELECT pg_backend_pid()");
	ok(pa > 0 && pb > 0 && pa != pb, "lifo: two backends");
	sl_db_pool_release(a);
	sl_db_pool_release(b);
	struct sl_db_conn *c = sl_db_pool_acquire(p, 5);
	ok(c == b, "lifo: the last released comes back");
	is_int(query_int(c, "SELECT pg_backend_pid()"), pb,
	       "lifo: same backend");
	struct sl_db_conn *d = sl_db_pool_acquire(p, 5);
	ok(d == a, "lifo: then the one before");
	is_int(query_int(d, "SELECT pg_backend_pid()"), pa,
	       "lifo: its backend");
	struct sl_db_pool_stats st;
	sl_db_pool_stats(p, &st);
	is_int(st.connects, 2, "lifo: nothing new opened");
	sl_db_pool_release(c);
	sl_db_pool_release(d);
	sl_db_pool_close(p);
	return 0;
}

/** Shared state of the load test. */
struct load {
	/** The pool. */
	struct sl_db_pool *p;
	/** Workers that ran their query. */
	int done;
	/** Workers that failed. */
	int failed;
	/** Set when the workers finished. */
	bool stop;
	/** Most backends seen on the server at once. */
	int64_t max_seen;
	/** Largest stats.size seen. */
	size_t max_size_seen;
	/** application_name. */
	const char *app;
};

/** One of many tasks: acquire, query for a while, release. */
static int
load_worker(void *arg)
{
	struct load *l = arg;
	struct sl_db_conn *c = sl_db_pool_acquire(l->p, 30);
	if (c == NULL) {
		l->failed++;
		return -1;
	}
	if (sl_db_exec(c, "SELECT pg_sleep(0.02)", SL_NOARGS, NULL) != 0)
		l->failed++;
	else
		l->done++;
	sl_db_pool_release(c);
	return 0;
}

/** Counts backends on the server while the load runs. */
static int
load_monitor(void *arg)
{
	struct load *l = arg;
	struct sl_db_conn *mon = monitor();
	while (!l->stop) {
		int64_t n = count_app(mon, l->app);
		if (n > l->max_seen)
			l->max_seen = n;
		struct sl_db_pool_stats st;
		sl_db_pool_stats(l->p, &st);
		if (st.size > l->max_size_seen)
			l->max_size_seen = st.size;
		sl_sleep(0.01);
	}
	sl_db_conn_close(mon);
	return 0;
}

/** 50 tasks share at most max_size connections. */
static int
t_max_bound(void *arg)
{
	(void)arg;
	enum { TASKS = 50, MAX = 4 };
	char app[64];
	struct sl_db_pool_opts o = pool_opts(app_name(app, sizeof(app), "max"));
	o.min_size = 0;
	o.max_size = MAX;
	struct load l = {.app = app};
	l.p = sl_db_pool_open(url, &o);
	struct sl_task *mon =
	        sl_task_spawn(sl_loop_current(), "monitor", load_monitor, &l);
	struct sl_task *t[TASKS];
	for (int i = 0; i < TASKS; i++)
		t[i] = sl_task_spawn(sl_loop_current(), "worker", load_worker,
		                     &l);
	struct sl_db_pool_stats st;
	sl_task_yield();
	sl_db_pool_stats(l.p, &st);
	ok(st.waiting > 0, "max: tasks wait (%zu waiting)", st.waiting);
	for (int i = 0; i < TASKS; i++)
		sl_task_join(t[i]);
	l.stop = true;
	sl_task_join(mon);
	is_int(l.done, TASKS, "max: all %d tasks ran their query", TASKS);
	is_int(l.failed, 0, "max: none failed");
	ok(l.max_seen > 0 && l.max_seen <= MAX,
	   "max: server saw at most %d backends (saw %lld)", MAX,
	   (long long)l.max_seen);
	ok(l.max_size_seen <= MAX, "max: stats.size never above %d", MAX);
	sl_db_pool_stats(l.p, &st);
	ok(st.connects <= MAX, "max: %llu connects, at most %d",
	   (unsigned long long)st.connects, MAX);
	is_int(st.waiting, 0, "max: no one waits at the end");
	is_int(st.idle, st.size, "max: all idle at the end");
	sl_db_pool_close(l.p);
	return 0;
}

/** A full pool fails an acquire after its timeout, saying why. */
static int
t_timeout(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o = pool_opts(app_name(app, sizeof(app), "tmo"));
	o.min_size = 0;
	o.max_size = 2;
	o.acquire_timeout = 0.2;
	struct sl_db_pool *p = sl_db_pool_open(url, &o);
	struct sl_db_conn *a = sl_db_pool_acquire(p, 5);
	struct sl_db_conn *b = sl_db_pool_acquire(p, 5);
	ok(a != NULL && b != NULL, "timeout: pool full");
	double t0 = sl_clock();
	struct sl_db_conn *c = sl_db_pool_acquire(p, 0.3);
	double el = sl_clock() - t0;
	ok(c == NULL, "timeout: acquire fails");
	is_err(SL_ETIMEDOUT, "timeout: SL_ETIMEDOUT");
	ok(strstr(unit_errmsg(), "no connection free in the pool: 2 of 2 in "
	                         "use, waited 0.3 s") != NULL,
	   "timeout: message says why: %s", unit_errmsg());
	ok(strstr(unit_errmsg(), "postgres@127.0.0.1") != NULL,
	   "timeout: message names the server");
	ok(el >= 0.29 && el < 1.0, "timeout: waited %.3f s", el);
	t0 = sl_clock();
	c = sl_db_pool_acquire(p, -1);
	el = sl_clock() - t0;
	ok(c == NULL && el >= 0.19 && el < 1.0,
	   "timeout: negative means acquire_timeout (%.3f s)", el);
	struct sl_db_pool_stats st;
	sl_db_pool_stats(p, &st);
	is_int(st.waiting, 0, "timeout: the waiter left the queue");
	sl_db_pool_release(a);
	c = sl_db_pool_acquire(p, 0.3);
	ok(c == a, "timeout: a released connection is taken");
	sl_db_pool_release(b);
	sl_db_pool_release(c);
	sl_db_pool_close(p);
	return 0;
}

/** State of the waiter tests. */
struct waiters {
	/** The pool. */
	struct sl_db_pool *p;
	/** What each waiter got. */
	struct sl_db_conn *got[2];
	/** Order in which waiters got a connection. */
	int order[2];
	/** Waiters that got one. */
	int n;
};

/** Wait for a connection forever; record it; hold it briefly. */
static int
waiter(void *arg)
{
	struct waiters *w = arg;
	struct sl_db_conn *c = sl_db_pool_acquire(w->p, SL_FOREVER);
	if (c == NULL)
		return -1;
	int idx = strcmp(sl_task_name(sl_task_current()), "w0") == 0 ? 0 : 1;
	w->got[idx] = c;
	w->order[w->n++] = idx;
	sl_sleep(0.02);
	sl_db_pool_release(c);
	return 0;
}

/** A waiting acquirer can be cancelled; waiters are served in order. */
static int
t_cancel_fifo(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o = pool_opts(app_name(app, sizeof(app), "cnl"));
	o.min_size = 0;
	o.max_size = 1;
	struct waiters w = {0};
	w.p = sl_db_pool_open(url, &o);
	struct sl_db_conn *held = sl_db_pool_acquire(w.p, 5);
	struct sl_task *t = sl_task_spawn(sl_loop_current(), "w0", waiter, &w);
	sl_sleep(0.05);
	struct sl_db_pool_stats st;
	sl_db_pool_stats(w.p, &st);
	is_int(st.waiting, 1, "cancel: one waiter");
	sl_task_cancel(t);
	ok(sl_task_join(t) != 0, "cancel: the waiter failed");
	is_err(SL_ECANCELLED, "cancel: with SL_ECANCELLED");
	sl_db_pool_stats(w.p, &st);
	is_int(st.waiting, 0, "cancel: it left the queue");
	ok(w.got[0] == NULL, "cancel: it got nothing");

	/* FIFO: w0 queues first, w1 second; a newcomer must not steal. */
	struct sl_task *t0 = sl_task_spawn(sl_loop_current(), "w0", waiter, &w);
	sl_sleep(0.02);
	struct sl_task *t1 = sl_task_spawn(sl_loop_current(), "w1", waiter, &w);
	sl_sleep(0.02);
	sl_db_pool_release(held);
	struct sl_db_conn *mine = sl_db_pool_acquire(w.p, 0.001);
	ok(mine == NULL, "fifo: a newcomer does not overtake waiters");
	is_int(sl_task_join(t0), 0, "fifo: w0 got one");
	is_int(sl_task_join(t1), 0, "fifo: w1 got one");
	is_int(w.n, 2, "fifo: both served");
	ok(w.order[0] == 0 && w.order[1] == 1, "fifo: in order");
	ok(w.got[0] == held && w.got[1] == held,
	   "fifo: the connection was handed over");
	sl_db_pool_stats(w.p, &st);
	is_int(st.connects, 1, "fifo: one connection did it all");
	sl_db_pool_close(w.p);
	return 0;
}

/** Waiters in the queue test: more than the queue's first 64 entries. */
#define QN 300

/** State of the queue test's waiters. */
struct queue_test {
	/** The pool (one connection). */
	struct sl_db_pool *p;
	/** Each waiter's acquire timeout. */
	double timeout[QN];
	/** Each waiter's result: 1 served, -1 failed, 0 not yet. */
	int result[QN];
	/** Error code of each failed waiter. */
	int code[QN];
	/** Waiters in the order they were served. */
	int order[QN];
	/** Waiters served. */
	int n;
};

/** The queue test's state. */
static struct queue_test *qt;

/** A queued waiter: acquire (the argument is its number), release. */
static int
queue_waiter(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct sl_db_conn *c = sl_db_pool_acquire(qt->p, qt->timeout[i]);
	if (c == NULL) {
		qt->result[i] = -1;
		qt->code[i] = sl_diag_code();
		return 0;
	}
	qt->result[i] = 1;
	qt->order[qt->n++] = i;
	sl_db_pool_release(c);
	return 0;
}

/**
 * Hundreds of waiters on a pool of one, some leaving the queue before their
 * turn (timed out or cancelled) while others queue behind them and the
 * queue grows: the rest are served in their order, once each.
 */
static int
t_queue(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o = pool_opts(app_name(app, sizeof(app), "que"));
	o.min_size = 0;
	o.max_size = 1;
	qt = sl_calloc(1, sizeof(*qt));
	qt->p = sl_db_pool_open(url, &o);
	struct sl_db_conn *held = sl_db_pool_acquire(qt->p, 5);
	ok(held != NULL, "queue: the one connection is held");
	struct sl_task *t[QN];
	/* Every third waiter gives up after 50 ms; the first half queue
	 * before those time out, the second half after. */
	for (int i = 0; i < QN; i++) {
		qt->timeout[i] = i % 3 == 1 ? 0.05 : 30.0;
		t[i] = sl_task_spawn(sl_loop_current(), "qw", queue_waiter,
		                     (void *)(intptr_t)i);
		if (i == QN / 2 - 1)
			sl_sleep(0.2);
	}
	sl_sleep(0.02);
	/* Cancel every seventh of the others (all still waiting). */
	int cancelled = 0;
	for (int i = 0; i < QN; i++)
		if (i % 7 == 3 && i % 3 != 1) {
			sl_task_cancel(t[i]);
			cancelled++;
		}
	sl_sleep(0.1);
	struct sl_db_pool_stats st;
	sl_db_pool_stats(qt->p, &st);
	int expect_timed_out = 0, expect_served = 0;
	for (int i = 0; i < QN; i++) {
		if (i % 3 == 1)
			expect_timed_out++;
		else if (i % 7 != 3)
			expect_served++;
	}
	is_int(st.waiting, expect_served, "queue: the others still wait");
	sl_db_pool_release(held);
	int joined = 0;
	for (int i = 0; i < QN; i++)
		joined += sl_task_join(t[i]) == 0;
	is_int(joined, QN, "queue: every waiter ended");
	int timed_out = 0, served = 0, wrong = 0;
	for (int i = 0; i < QN; i++) {
		if (i % 3 == 1) {
			timed_out += qt->result[i] == -1 &&
			             qt->code[i] == SL_ETIMEDOUT;
		} else if (i % 7 == 3) {
			wrong += qt->result[i] != -1 ||
			         qt->code[i] != SL_ECANCELLED;
		} else {
			served += qt->result[i] == 1;
		}
	}
	is_int(timed_out, expect_timed_out, "queue: the short waits timed out");
	is_int(wrong, 0, "queue: the %d cancelled waiters failed so",
	       cancelled);
	is_int(served, expect_served, "queue: the rest were served");
	int in_order = qt->n == expect_served;
	for (int k = 1; k < qt->n; k++)
		in_order = in_order && qt->order[k - 1] < qt->order[k];
	ok(in_order, "queue: served in the order they queued");
	sl_db_pool_stats(qt->p, &st);
	is_int(st.waiting, 0, "queue: nobody waits at the end");
	is_int(st.connects, 1, "queue: one connection served them all");
	sl_db_pool_close(qt->p);
	sl_free(qt);
	qt = NULL;
	return 0;
}

/** State of tasks that end holding a connection. */
struct holder {
	/** The pool. */
	struct sl_db_pool *p;
	/** The connection it held. */
	struct sl_db_conn *c;
	/** Table to insert into, or NULL. */
	const char *insert;
	/** Whether to cancel itself before the end. */
	bool cancel_self;
};

/** Acquire, maybe insert in a transaction, fail without releasing. */
static int
holder_task(void *arg)
{
	struct holder *h = arg;
	h->c = sl_db_pool_acquire(h->p, 5);
	if (h->c == NULL)
		return -1;
	if (h->insert != NULL) {
		struct sl_db_tx tx;
		if (sl_db_tx_begin(h->c, &tx, NULL) != 0)
			return -1;
		if (sl_db_exec_script(h->c, h->insert) != 0)
			return -1;
	}
	if (h->cancel_self)
		sl_task_cancel(sl_task_current());
	sl_diag_set(SL_EINVAL, "holder gives up on purpose");
	return -1;
}

/** A failed task gives its connection back and rolls back. */
static int
t_task_end(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o = pool_opts(app_name(app, sizeof(app), "end"));
	o.min_size = 0;
	o.max_size = 1;
	struct sl_db_pool *p = sl_db_pool_open(url, &o);
	struct holder h = {.p = p};
	struct sl_task *t =
	        sl_task_spawn(sl_loop_current(), "holder", holder_task, &h);
	ok(sl_task_join(t) != 0, "end: the task failed");
	ok(strstr(unit_errmsg(), "on purpose") != NULL,
	   "end: with its own error, not the release's");
	struct sl_db_pool_stats st;
	sl_db_pool_stats(p, &st);
	ok(st.size == 1 && st.idle == 1, "end: the connection came back");
	struct sl_db_conn *c = sl_db_pool_acquire(p, 0.5);
	ok(c != NULL && c == h.c, "end: and is handed out again");

	char table[64], sql[256];
	snprintf(table, sizeof(table), "pool_tx_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (x int)", table);
	ok(sl_db_exec_script(c, sql) == 0, "tx: table created");
	sl_db_pool_release(c);

	char ins[128];
	snprintf(ins, sizeof(ins), "INSERT INTO %s VALUES (1)", table);
	h.insert = ins;
	t = sl_task_spawn(sl_loop_current(), "holder", holder_task, &h);
	ok(sl_task_join(t) != 0, "tx: the task failed inside a transaction");
	c = sl_db_pool_acquire(p, 0.5);
	ok(c != NULL && c == h.c, "tx: the connection came back");
	is_int(sl_db_conn_tx_depth(c), 0, "tx: no transaction open");
	snprintf(sql, sizeof(sql), "SELECT count(*)::int8 FROM %s", table);
	is_int(query_int(c, sql), 0, "tx: the insert was rolled back");
	sl_db_pool_release(c);

	h.cancel_self = true;
	t = sl_task_spawn(sl_loop_current(), "holder", holder_task, &h);
	ok(sl_task_join(t) != 0, "cancelled: the task failed");
	sl_db_pool_stats(p, &st);
	ok(st.size == 1 && st.idle == 1,
	   "cancelled: the connection came back, not closed");
	c = sl_db_pool_acquire(p, 0.5);
	ok(c == h.c, "cancelled: same connection");
	is_int(query_int(c, sql), 0, "cancelled: rolled back");

	/* Release keeps the caller's error and works when cancelled. */
	struct sl_db_tx tx;
	sl_db_tx_begin(c, &tx, NULL);
	sl_db_exec_script(c, ins);
	sl_diag_set(SL_EDB, "an error the caller propagates");
	sl_task_cancel(sl_task_current());
	sl_db_pool_release(c);
	ok(sl_task_is_cancelled(), "release: cancellation restored");
	sl_task_uncancel();
	ok(strstr(unit_errmsg(), "the caller propagates") != NULL,
	   "release: the caller's error survives");
	c = sl_db_pool_acquire(p, 0.5);
	ok(c == h.c, "release: the connection was kept");
	is_int(query_int(c, sql), 0, "release: the insert rolled back");
	snprintf(sql, sizeof(sql), "DROP TABLE %s", table);
	sl_db_exec_script(c, sql);

	/* A pipeline left open is ended by the release. */
	struct sl_db_pipeline *pl = sl_db_pipeline_begin(c);
	ok(pl != NULL && sl_db_pipeline_push(pl, "SELECT 1", SL_NOARGS) == 0,
	   "release: pipeline open");
	sl_db_pool_release(c);
	c = sl_db_pool_acquire(p, 0.5);
	ok(c == h.c, "release: kept after ending the pipeline");
	is_int(query_int(c, "SELECT 7::int8"), 7, "release: it works");
	sl_db_pool_release(c);
	sl_db_pool_close(p);
	return 0;
}

/** Terminate backend `pid` from `mon`. 0 if it went. */
static int
kill_backend(struct sl_db_conn *mon, int64_t pid)
{
	struct sl_db_result *r = sl_db_query(
	        mon, "SELECT pg_terminate_backend($1)", SL_ARGS(sl_int(pid)));
	if (r == NULL)
		return -1;
	bool done = sl_db_result_get(r, 0, 0)->u.b;
	sl_db_result_free(r);
	sl_sleep(0.1);
	return done ? 0 : -1;
}

/** A connection killed on the server is replaced on acquire. */
static int
t_health(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o = pool_opts(app_name(app, sizeof(app), "hc"));
	o.min_size = 1;
	o.idle_check = 0;
	struct sl_db_conn *mon = monitor();
	struct sl_db_pool *p = sl_db_pool_open(url, &o);
	struct sl_db_conn *c = sl_db_pool_acquire(p, 5);
	int64_t pid = query_int(c, "SELECT pg_backend_pid()");
	sl_db_pool_release(c);
	ok(kill_backend(mon, pid) == 0, "health: backend %lld terminated",
	   (long long)pid);
	c = sl_db_pool_acquire(p, 5);
	ok(c != NULL, "health: acquire works");
	int64_t pid2 = query_int(c, "SELECT pg_backend_pid()");
	ok(pid2 > 0 && pid2 != pid, "health: a new backend (%lld)",
	   (long long)pid2);
	struct sl_db_pool_stats st;
	sl_db_pool_stats(p, &st);
	is_int(st.discarded, 1, "health: the dead one was discarded");
	is_int(st.size, 1, "health: size stays 1");

	/* A connection lost while a pipeline is open: the release ends the
	 * pipeline and closes the connection. */
	struct sl_db_pipeline *pl = sl_db_pipeline_begin(c);
	ok(kill_backend(mon, pid2) == 0, "lost: backend terminated");
	sl_db_pipeline_push(pl, "SELECT 1", SL_NOARGS);
	struct sl_db_result *r = sl_db_pipeline_next(pl);
	ok(r == NULL, "lost: the pipeline saw it: %s", unit_errmsg());
	sl_db_result_free(r);
	ok(!sl_db_conn_ok(c), "lost: the connection is marked lost at once");
	ok(strchr(unit_errmsg(), '\t') == NULL &&
	           strchr(unit_errmsg(), '\n') == NULL,
	   "lost: the message is one line, without tabs");
	/* Whatever comes first, the FATAL or the closed socket, the next use
	 * finds the connection gone. */
	for (int i = 0; i < 3 && sl_db_conn_ok(c); i++) {
		sl_db_pipeline_push(pl, "SELECT 2", SL_NOARGS);
		sl_db_result_free(sl_db_pipeline_next(pl));
	}
	ok(!sl_db_conn_ok(c), "lost: the connection is marked lost");
	sl_db_pool_release(c);
	sl_db_pool_stats(p, &st);
	is_int(st.size, 0, "lost: closed on release");
	is_int(st.discarded, 2, "lost: counted as discarded");
	c = sl_db_pool_acquire(p, 5);
	is_int(query_int(c, "SELECT 3::int8"), 3, "lost: a new one works");
	sl_db_pool_release(c);
	sl_db_pool_close(p);
	sl_db_conn_close(mon);
	return 0;
}

/** max_lifetime and max_idle close old and surplus connections. */
static int
t_lifetime_idle(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o =
	        pool_opts(app_name(app, sizeof(app), "life"));
	o.min_size = 0;
	o.max_lifetime = 0.2;
	struct sl_db_conn *mon = monitor();
	struct sl_db_pool *p = sl_db_pool_open(url, &o);
	struct sl_db_conn *c = sl_db_pool_acquire(p, 5);
	int64_t pid = query_int(c, "SELECT pg_backend_pid()");
	sl_db_pool_release(c);
	sl_sleep(0.3);
	c = sl_db_pool_acquire(p, 5);
	int64_t pid2 = query_int(c, "SELECT pg_backend_pid()");
	ok(pid2 > 0 && pid2 != pid, "lifetime: a new backend on acquire");
	sl_sleep(0.3);
	sl_db_pool_release(c);
	struct sl_db_pool_stats st;
	sl_db_pool_stats(p, &st);
	is_int(st.size, 0, "lifetime: closed on release when too old");
	is_int(st.discarded, 0, "lifetime: not counted as discarded");
	sl_db_pool_close(p);

	o = pool_opts(app_name(app, sizeof(app), "idle"));
	o.min_size = 1;
	o.max_idle = 0.2;
	p = sl_db_pool_open(url, &o);
	struct sl_db_conn *h[3];
	for (int i = 0; i < 3; i++)
		h[i] = sl_db_pool_acquire(p, 5);
	for (int i = 0; i < 3; i++)
		sl_db_pool_release(h[i]);
	is_int(count_app(mon, app), 3, "idle: 3 backends");
	sl_sleep(0.3);
	c = sl_db_pool_acquire(p, 5);
	ok(c == h[2], "idle: the newest idle one is kept");
	sl_db_pool_stats(p, &st);
	is_int(st.size, 1, "idle: surplus closed down to min_size");
	is_int(count_app_settled(mon, app, 1), 1,
	       "idle: 1 backend on the server");
	sl_db_pool_release(c);
	sl_sleep(0.3);
	c = sl_db_pool_acquire(p, 5);
	ok(c == h[2], "idle: min_size is kept however long it idles");
	sl_db_pool_release(c);
	sl_db_pool_close(p);
	sl_db_conn_close(mon);
	return 0;
}

/** State of the two-tasks-one-connection test. */
struct busy {
	/** The connection A holds. */
	struct sl_db_conn *c;
	/** A's query result. */
	int64_t a_result;
	/** B's error code and message. */
	enum sl_errcode b_code;
	/** B's error message. */
	char b_msg[SL_ERROR_MSG_MAX];
};

/** A: a slow query on the connection. */
static int
busy_a(void *arg)
{
	struct busy *b = arg;
	b->a_result = query_int(b->c, "SELECT 42::int8 FROM pg_sleep(0.3)");
	return 0;
}

/** B: uses A's connection meanwhile. */
static int
busy_b(void *arg)
{
	struct busy *b = arg;
	sl_sleep(0.05);
	struct sl_db_result *r = sl_db_query(b->c, "SELECT 1", SL_NOARGS);
	sl_db_result_free(r);
	b->b_code = r == NULL ? sl_diag_code() : SL_EOK;
	snprintf(b->b_msg, sizeof(b->b_msg), "%s", unit_errmsg());
	return 0;
}

/** Two tasks on one connection: the second gets SL_EBUSY. */
static int
t_busy(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o =
	        pool_opts(app_name(app, sizeof(app), "busy"));
	struct sl_db_pool *p = sl_db_pool_open(url, &o);
	struct busy b = {.a_result = -1};
	b.c = sl_db_pool_acquire(p, 5);
	struct sl_task *a =
	        sl_task_spawn(sl_loop_current(), "task_a", busy_a, &b);
	struct sl_task *bt =
	        sl_task_spawn(sl_loop_current(), "task_b", busy_b, &b);
	sl_task_join(a);
	sl_task_join(bt);
	is_int(b.b_code, SL_EBUSY, "busy: B gets SL_EBUSY");
	ok(strstr(b.b_msg, "task_a") != NULL, "busy: naming A: %s", b.b_msg);
	is_int(b.a_result, 42, "busy: A's result is right");
	is_int(query_int(b.c, "SELECT 5::int8"), 5,
	       "busy: the connection still works");
	sl_db_pool_release(b.c);
	sl_db_pool_close(p);
	return 0;
}

/** A wrong password fails clearly and never shows the password. */
static int
t_password(void *arg)
{
	(void)arg;
	static const char wrong[] = "Wr0ngPassw0rdXyz";
	const char *uri = pg_test_uri();
	const char *at = strchr(uri, '@');
	char bad[700];
	snprintf(bad, sizeof(bad), "postgresql://postgres:%s%s/postgres", wrong,
	         at);
	char app[64];
	struct sl_db_pool_opts o = pool_opts(app_name(app, sizeof(app), "pw"));
	struct sl_db_pool *p = sl_db_pool_open(bad, &o);
	ok(p == NULL, "password: open fails");
	is_err(SL_EDB, "password: SL_EDB");
	ok(strstr(unit_errmsg(), wrong) == NULL,
	   "password: not in the message");
	ok(strstr(unit_errmsg(), "postgresql://postgres@127.0.0.1") != NULL,
	   "password: the URI shown without it: %s", unit_errmsg());

	o.min_size = 0;
	o.backoff_initial = 0.05;
	p = sl_db_pool_open(bad, &o);
	ok(p != NULL, "password: min_size 0 opens");
	ok(sl_db_pool_acquire(p, 5) == NULL, "password: acquire fails");
	is_err(SL_EDB, "password: with the connect error");
	ok(strstr(unit_errmsg(), wrong) == NULL,
	   "password: not in the acquire error");
	struct sl_db_pool_stats st;
	sl_db_pool_stats(p, &st);
	is_int(st.connect_failures, 1, "password: one connect failure");
	is_int(st.size, 0, "password: no slot leaked");
	sl_db_pool_close(p);
	return 0;
}

/** Closing with a connection out: it closes when released. */
static int
t_close_out(void *arg)
{
	(void)arg;
	char app[64];
	struct sl_db_pool_opts o = pool_opts(app_name(app, sizeof(app), "cls"));
	o.min_size = 2;
	struct sl_db_conn *mon = monitor();
	struct sl_db_pool *p = sl_db_pool_open(url, &o);
	struct sl_db_conn *c = sl_db_pool_acquire(p, 5);
	sl_db_pool_close(p);
	is_int(count_app_settled(mon, app, 1), 1, "close: the idle one closed");
	is_int(query_int(c, "SELECT 9::int8"), 9, "close: the one out works");
	sl_db_pool_release(c);
	is_int(count_app_settled(mon, app, 0), 0, "close: closed on release");
	sl_db_conn_close(mon);
	return 0;
}

/** Bad options are refused. */
static int
t_opts(void *arg)
{
	(void)arg;
	struct sl_db_pool_opts o;
	sl_db_pool_opts_init(&o);
	is_int(o.min_size, 1, "opts: min_size 1");
	is_int(o.max_size, 10, "opts: max_size 10");
	ok(o.acquire_timeout == 30 && o.idle_check == 5 &&
	           o.max_lifetime == 3600 && o.max_idle == 300 &&
	           o.backoff_initial == 0.1 && o.backoff_max == 5,
	   "opts: documented defaults");
	o.min_size = 3;
	o.max_size = 2;
	ok(sl_db_pool_open(url, &o) == NULL, "opts: min above max refused");
	is_err(SL_EINVAL, "opts: SL_EINVAL");
	o.min_size = 0;
	o.max_size = 0;
	ok(sl_db_pool_open(url, &o) == NULL, "opts: max 0 refused");
	return 0;
}

/** Run `fn` as task `name`, which must end cleanly. */
static void
subtest(const char *name, sl_task_fn fn)
{
	int rc = run_task(name, fn, NULL);
	ok(rc == 0, "%s: the test task ended cleanly (%s)", name,
	   rc == 0 ? "" : unit_errmsg());
}

/** Run t_opts() as a task. */
TAP_CASE(opts)
{
	subtest("opts", t_opts);
}

/** Run t_open_min() as a task. */
TAP_CASE(open_min)
{
	subtest("open_min", t_open_min);
}

/** Run t_lifo() as a task. */
TAP_CASE(lifo)
{
	subtest("lifo", t_lifo);
}

/** Run t_max_bound() as a task. */
TAP_CASE(max_bound)
{
	subtest("max_bound", t_max_bound);
}

/** Run t_timeout() as a task. */
TAP_CASE(timeout)
{
	subtest("timeout", t_timeout);
}

/** Run t_cancel_fifo() as a task. */
TAP_CASE(cancel_fifo)
{
	subtest("cancel_fifo", t_cancel_fifo);
}

/** Run t_queue() as a task. */
TAP_CASE(queue)
{
	subtest("queue", t_queue);
}

/** Run t_task_end() as a task. */
TAP_CASE(task_end)
{
	subtest("task_end", t_task_end);
}

/** Run t_health() as a task. */
TAP_CASE(health)
{
	subtest("health", t_health);
}

/** Run t_lifetime_idle() as a task. */
TAP_CASE(lifetime_idle)
{
	subtest("lifetime_idle", t_lifetime_idle);
}

/** Run t_busy() as a task. */
TAP_CASE(busy)
{
	subtest("busy", t_busy);
}

/** Run t_password() as a task. */
TAP_CASE(password)
{
	subtest("password", t_password);
}

/** Run t_close_out() as a task. */
TAP_CASE(close_out)
{
	subtest("close_out", t_close_out);
}

/** Read the test server's URL (the program needs one). */
static int
setup(void)
{
	if (pg_test_url("postgres", url, sizeof(url)) == NULL)
		bail_out("no test server (SLUICE_TEST_PGDIR)");
	return 0;
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, NULL);
}
