/*
 * sluice: the driver-independent part of connections: opening by URI, the
 * one-task-at-a-time guard, transactions as SQL, results, URI redaction
 * and identifier quoting.
 */
#include "conn.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/log.h"
#include "sluice/task.h"

void
sl_db_conn_opts_init(struct sl_db_conn_opts *o)
{
	o->connect_timeout = 10.0;
	o->query_timeout = SL_FOREVER;
	o->stmt_cache = 256;
	o->app_name = NULL;
}

struct sl_db_conn *
sl_db_conn_alloc(const char *url, const struct sl_db_conn_opts *o)
{
	char shown[SL_DB_URL_MAX];
	sl_uri_redact(url, shown, sizeof(shown));
	const struct sl_db_driver *drv = sl_db_driver_for(url);
	if (drv == NULL) {
		char forms[256];
		sl_db_driver_forms(forms, sizeof(forms));
		sl_diag_set(SL_EINVAL, "%s: not a database URI (expected %s)",
		            shown, forms);
		return NULL;
	}
	if (strlen(url) >= SL_DB_URL_MAX) {
		sl_diag_set(SL_ELIMIT, "database URI longer than %d bytes",
		            SL_DB_URL_MAX - 1);
		return NULL;
	}
	struct sl_db_conn *c = sl_calloc(1, sizeof(*c));
	char *copy = sl_strndup(url, strlen(url));
	if (c == NULL || copy == NULL) {
		sl_free(c);
		sl_free(copy);
		sl_diag_set(SL_EOOM, "out of memory opening %s", shown);
		return NULL;
	}
	c->drv = drv;
	c->url = copy;
	memcpy(c->shown, shown, sizeof(shown));
	if (o != NULL)
		c->opts = *o;
	else
		sl_db_conn_opts_init(&c->opts);
	sl_list_init(&c->link);
	c->stats = sl_db_stats_for(shown);
	atomic_fetch_add_explicit(&c->stats->open, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->stats->opened, 1, memory_order_relaxed);
	return c;
}

void
sl_db_conn_free(struct sl_db_conn *c)
{
	if (c == NULL)
		return;
	assert(c->impl == NULL);
	atomic_fetch_sub_explicit(&c->stats->open, 1, memory_order_relaxed);
	if (c->url != NULL) {
		/* The URI may hold a password: do not leave it in freed
		 * memory. */
		memset(c->url, 0, strlen(c->url));
		sl_free(c->url);
	}
	sl_free(c);
}

struct sl_db_conn *
sl_db_conn_open(const char *url, const struct sl_db_conn_opts *opts)
{
	struct sl_db_conn *c = sl_db_conn_alloc(url, opts);
	if (c == NULL)
		return NULL;
	if (c->drv->open(c) != 0) {
		c->drv->close(c);
		sl_db_conn_free(c);
		return NULL;
	}
	return c;
}

/** Let a user pipeline outlive the session: its calls then fail. */
static void
detach(struct sl_db_conn *c)
{
	if (c->pipeline != NULL)
		c->pipeline->c = NULL;
}

void
sl_db_conn_close(struct sl_db_conn *c)
{
	if (c == NULL)
		return;
	assert(c->owner == NULL || c->owner == sl_task_current());
	sl_db_conn_tx_ended(c);
	detach(c);
	c->drv->close(c);
	sl_db_conn_free(c);
}

enum sl_db_kind
sl_db_conn_kind(const struct sl_db_conn *c)
{
	return c->drv->kind;
}

const char *
sl_db_conn_url(const struct sl_db_conn *c)
{
	return c->shown;
}

bool
sl_db_conn_ok(const struct sl_db_conn *c)
{
	return !c->broken;
}

int
sl_db_conn_reset(struct sl_db_conn *c)
{
	if (c->owner != NULL && c->owner != sl_task_current()) {
		sl_diag_set(SL_EBUSY,
		            "%s: connection is in use by task '%s' (id %llu)",
		            c->shown, sl_task_name(c->owner),
		            (unsigned long long)sl_task_id(c->owner));
		return -1;
	}
	detach(c);
	c->drv->close(c);
	sl_db_conn_tx_ended(c);
	c->broken = false;
	c->pipeline = NULL;
	c->copy = NULL;
	c->cursors = 0;
	if (c->drv->open(c) != 0) {
		c->drv->close(c);
		c->broken = true;
		return -1;
	}
	return 0;
}

int
sl_db_conn_ping(struct sl_db_conn *c, double timeout)
{
	double saved = c->opts.query_timeout;
	c->opts.query_timeout = timeout;
	const char *ping = sl_db_conn_dialect(c)->ping;
	int rc = sl_db_exec(c, ping != NULL ? ping : "SELECT 1", SL_NOARGS,
	                    NULL);
	c->opts.query_timeout = saved;
	return rc;
}

void
sl_db_conn_set_timeout(struct sl_db_conn *c, double seconds)
{
	c->opts.query_timeout = seconds;
}

int
sl_db_conn_tx_depth(const struct sl_db_conn *c)
{
	return c->tx_depth;
}

int
sl_db_conn_server_version(const struct sl_db_conn *c)
{
	return c->server_version;
}

int
sl_db_conn_enter_untimed(struct sl_db_conn *c, const char *what)
{
	struct sl_task *self = sl_task_current();
	if (self == NULL) {
		sl_diag_set(SL_EINVAL, "%s: %s outside a task", c->shown, what);
		return -1;
	}
	if (c->owner != NULL) {
		sl_diag_set(SL_EBUSY,
		            "%s: %s: the connection is in use by task '%s' "
		            "(id %llu); a connection serves one task at a time",
		            c->shown, what, sl_task_name(c->owner),
		            (unsigned long long)sl_task_id(c->owner));
		return -1;
	}
	if (c->broken) {
		sl_diag_set(SL_EIO, "%s: %s: the connection was lost", c->shown,
		            what);
		return -1;
	}
	c->owner = self;
	atomic_fetch_add_explicit(&c->stats->busy, 1, memory_order_relaxed);
	return 0;
}

int
sl_db_conn_enter(struct sl_db_conn *c, const char *what)
{
	if (sl_db_conn_enter_untimed(c, what) != 0)
		return -1;
	c->op_start = sl_clock();
	return 0;
}

void
sl_db_conn_leave_untimed(struct sl_db_conn *c)
{
	assert(c->owner == sl_task_current());
	c->owner = NULL;
	atomic_fetch_sub_explicit(&c->stats->busy, 1, memory_order_relaxed);
}

void
sl_db_conn_leave(struct sl_db_conn *c)
{
	sl_db_conn_leave_untimed(c);
	sl_hist_observe(&c->stats->ops, sl_clock() - c->op_start);
}

/** Refuse plain statements while a pipeline or COPY holds `c`. */
static int
check_idle(struct sl_db_conn *c, const char *what)
{
	if (c->pipeline != NULL) {
		sl_diag_set(SL_EINVAL,
		            "%s: %s while a pipeline is open on the connection "
		            "(end it first)",
		            c->shown, what);
		return -1;
	}
	if (c->copy != NULL) {
		sl_diag_set(SL_EINVAL,
		            "%s: %s while a COPY is in progress on the "
		            "connection (end it first)",
		            c->shown, what);
		return -1;
	}
	return 0;
}

/**
 * Refuse a statement in a transaction where one failed, until it is
 * rolled back (to a savepoint). PostgreSQL does this itself; SQLite would
 * go on and commit the rest, so the layer does it there.
 */
static int
check_aborted(struct sl_db_conn *c)
{
	if (sl_db_conn_dialect(c)->aborts_tx || c->tx_depth == 0 ||
	    !c->tx_failed)
		return 0;
	sl_diag_set(SL_EABORTED,
	            "%s: the transaction is aborted: a statement in it "
	            "failed; roll it back (or to a savepoint) first",
	            c->shown);
	return -1;
}

int
sl_db_conn_check(struct sl_db_conn *c, const char *what, bool control)
{
	if (check_idle(c, what) != 0)
		return -1;
	return control ? 0 : check_aborted(c);
}

struct sl_db_result *
sl_db_conn_query_in(struct sl_db_conn *c, const char *sql, size_t n,
                    const struct sl_value *params)
{
	struct sl_db_result *r = c->drv->query(c, sql, n, params);
	if (r == NULL && c->tx_depth > 0)
		c->tx_failed = true;
	return r;
}

struct sl_db_result *
sl_db_query(struct sl_db_conn *c, const char *sql, size_t n,
            const struct sl_value *params)
{
	if (n > SL_DB_PARAMS_MAX) {
		sl_diag_set(SL_ELIMIT, "%s: %zu parameters (at most %d)",
		            c->shown, n, SL_DB_PARAMS_MAX);
		return NULL;
	}
	if (sl_db_conn_enter(c, "query") != 0)
		return NULL;
	struct sl_db_result *r = NULL;
	if (sl_db_conn_check(c, "query", false) == 0)
		r = sl_db_conn_query_in(c, sql, n, params);
	sl_db_conn_leave(c);
	return r;
}

int
sl_db_exec(struct sl_db_conn *c, const char *sql, size_t n,
           const struct sl_value *params, int64_t *affected)
{
	struct sl_db_result *r = sl_db_query(c, sql, n, params);
	if (r == NULL)
		return -1;
	if (affected != NULL)
		*affected = r->affected;
	sl_db_result_free(r);
	return 0;
}

/** Run a script; `control`: a transaction-control one, always let run. */
static int
script(struct sl_db_conn *c, const char *sql, bool control)
{
	if (sl_db_conn_enter(c, "script") != 0)
		return -1;
	int rc = check_idle(c, "script");
	if (rc == 0 && !control)
		rc = check_aborted(c);
	if (rc == 0) {
		rc = c->drv->script(c, sql);
		if (rc != 0 && c->tx_depth > 0)
			c->tx_failed = true;
	}
	sl_db_conn_leave(c);
	return rc;
}

int
sl_db_exec_script(struct sl_db_conn *c, const char *sql)
{
	return script(c, sql, false);
}

int
sl_db_conn_forget_statements(struct sl_db_conn *c)
{
	if (sl_db_conn_enter(c, "forget statements") != 0)
		return -1;
	int rc = c->drv->forget(c);
	sl_db_conn_leave(c);
	return rc;
}

/* {{{ transactions */

void
sl_db_conn_tx_ended(struct sl_db_conn *c)
{
	c->tx_depth = 0;
	c->tx_failed = false;
	if (c->tx_hooked) {
		sl_task_hook_remove(&c->tx_hook);
		c->tx_hooked = false;
	}
}

static int tx_ctl(struct sl_db_conn *c, enum sl_db_txop op,
                  const struct sl_db_tx_opts *opts, const char *sql);

bool
sl_db_conn_settle(struct sl_db_conn *c)
{
	bool ok = true;
	if (c->pipeline != NULL && sl_db_pipeline_end(c->pipeline) != 0)
		ok = false;
	if (c->copy != NULL) {
		sl_db_copy_abort(c->copy);
		if (c->copy != NULL)
			ok = false;
	}
	if (c->tx_depth > 0 && !c->broken &&
	    tx_ctl(c, SL_DB_TX_ROLLBACK, NULL, "ROLLBACK") != 0)
		ok = false;
	sl_db_conn_tx_ended(c);
	c->cursors = 0;
	return ok && sl_db_conn_ok(c);
}

/** Exit hook: the task that began the open transaction ended in it. */
static void
tx_exit_hook(void *arg)
{
	struct sl_db_conn *c = arg;
	c->tx_hooked = false; /* the runtime unlinked it */
	if (c->tx_depth == 0)
		return;
	sl_log_warn("%s: task '%s' ended inside a transaction; rolling it "
	            "back",
	            c->shown, sl_task_name(sl_task_current()));
	sl_db_conn_settle(c);
}

/** Run a transaction-control statement. */
static int
tx_sql(struct sl_db_conn *c, const char *sql)
{
	return script(c, sql, true);
}

/**
 * Transaction control `op` of the outermost transaction: the driver's own
 * when it has one, else the SQL `sql`. Entered like a script.
 */
static int
tx_ctl(struct sl_db_conn *c, enum sl_db_txop op,
       const struct sl_db_tx_opts *opts, const char *sql)
{
	if (c->drv->tx == NULL)
		return tx_sql(c, sql);
	if (sl_db_conn_enter(c, "transaction") != 0)
		return -1;
	int rc = check_idle(c, "transaction");
	if (rc == 0)
		rc = c->drv->tx(c, op, opts);
	sl_db_conn_leave(c);
	return rc;
}

int
sl_db_tx_begin(struct sl_db_conn *c, struct sl_db_tx *tx,
               const struct sl_db_tx_opts *opts)
{
	const struct sl_db_dialect *d = sl_db_conn_dialect(c);
	char sql[160];
	tx->conn = c;
	tx->open = false;
	bool has_opts = opts != NULL && (opts->isolation != SL_ISO_DEFAULT ||
	                                 opts->read_only || opts->deferrable);
	if (c->tx_depth > 0 && c->drv->tx != NULL) {
		sl_diag_set(SL_EINVAL,
		            "%s: %s has no nested transactions (savepoints)",
		            c->shown, c->drv->name);
		return -1;
	}
	if (c->tx_depth > 0) {
		if (has_opts) {
			sl_diag_set(SL_EINVAL,
			            "%s: isolation, read-only and deferrable "
			            "apply to the outermost transaction only",
			            c->shown);
			return -1;
		}
		snprintf(sql, sizeof(sql), "%s sl_sp_%d", d->savepoint,
		         c->tx_depth + 1);
	} else if (d->begin(c, has_opts ? opts : NULL, sql, sizeof(sql)) != 0) {
		return -1;
	}
	int rc = c->tx_depth == 0 ? tx_ctl(c, SL_DB_TX_BEGIN,
	                                   has_opts ? opts : NULL, sql)
	                          : tx_sql(c, sql);
	if (rc != 0) {
		if (c->tx_depth == 0)
			c->tx_failed = false;
		return -1;
	}
	tx->depth = ++c->tx_depth;
	if (tx->depth == 1) {
		c->tx_failed = false;
		if (!c->tx_hooked && sl_task_current() != NULL) {
			sl_task_on_exit(&c->tx_hook, tx_exit_hook, c);
			c->tx_hooked = true;
		}
	}
	tx->open = true;
	return 0;
}

/** Check that `tx` can end now. */
static int
tx_check(struct sl_db_tx *tx, const char *what)
{
	struct sl_db_conn *c = tx->conn;
	if (!tx->open) {
		sl_diag_set(SL_EINVAL,
		            "%s: %s of a transaction that is not "
		            "open",
		            c != NULL ? c->shown : "?", what);
		return -1;
	}
	if (c->tx_depth < tx->depth) {
		tx->open = false;
		sl_diag_set(SL_EINVAL,
		            "%s: %s of a transaction that already ended with "
		            "an outer one",
		            c->shown, what);
		return -1;
	}
	return 0;
}

int
sl_db_tx_commit(struct sl_db_tx *tx)
{
	if (tx_check(tx, "commit") != 0)
		return -1;
	struct sl_db_conn *c = tx->conn;
	const struct sl_db_dialect *d = sl_db_conn_dialect(c);
	char sql[96];
	if (!d->aborts_tx && c->tx_failed) {
		/* As PostgreSQL does: what failed is not committed. */
		if (sl_db_tx_rollback(tx) != 0)
			return -1;
		sl_diag_set(SL_EDB,
		            "%s: the %s was rolled back: a statement in it "
		            "failed",
		            c->shown,
		            tx->depth == 1 ? "transaction" : "savepoint");
		return -1;
	}
	if (tx->depth == 1)
		snprintf(sql, sizeof(sql), "COMMIT");
	else
		snprintf(sql, sizeof(sql), "%s sl_sp_%d", d->release,
		         tx->depth);
	bool failed = c->tx_failed && tx->depth == 1;
	int rc = tx->depth == 1 ? tx_ctl(c, SL_DB_TX_COMMIT, NULL, sql)
	                        : tx_sql(c, sql);
	tx->open = false;
	if (rc != 0) {
		/* A savepoint that cannot be released: roll it back. */
		if (tx->depth > 1 && c->tx_depth >= tx->depth && !c->broken) {
			struct sl_diag keep;
			sl_diag_stash(&keep);
			snprintf(sql, sizeof(sql), "%s sl_sp_%d; %s sl_sp_%d",
			         d->rollback_to, tx->depth, d->release,
			         tx->depth);
			if (tx_sql(c, sql) == 0)
				c->tx_failed =
				        false; /* the failure is undone */
			sl_diag_restore(&keep);
		}
		c->tx_depth = tx->depth - 1;
		if (c->tx_depth == 0)
			sl_db_conn_tx_ended(c);
		return -1;
	}
	c->tx_depth = tx->depth - 1;
	if (c->tx_depth == 0)
		sl_db_conn_tx_ended(c);
	if (failed && d->aborts_tx) {
		/* The database answered COMMIT of a failed transaction with
		 * a rollback and no error: say so. */
		sl_diag_set(SL_EDB,
		            "%s: the transaction was rolled back: a statement "
		            "in it failed",
		            c->shown);
		return -1;
	}
	return 0;
}

int
sl_db_tx_rollback(struct sl_db_tx *tx)
{
	if (tx_check(tx, "rollback") != 0)
		return -1;
	struct sl_db_conn *c = tx->conn;
	const struct sl_db_dialect *d = sl_db_conn_dialect(c);
	char sql[96];
	if (tx->depth == 1)
		snprintf(sql, sizeof(sql), "ROLLBACK");
	else
		snprintf(sql, sizeof(sql), "%s sl_sp_%d; %s sl_sp_%d",
		         d->rollback_to, tx->depth, d->release, tx->depth);
	int rc = tx->depth == 1 ? tx_ctl(c, SL_DB_TX_ROLLBACK, NULL, sql)
	                        : tx_sql(c, sql);
	tx->open = false;
	c->tx_depth = tx->depth - 1;
	/* Rolling back to a savepoint leaves a usable transaction. */
	if (c->tx_depth == 0)
		sl_db_conn_tx_ended(c);
	else if (rc == 0)
		c->tx_failed = false;
	return rc;
}

void
sl_db_tx_abandon(struct sl_db_tx *tx)
{
	if (tx == NULL || !tx->open)
		return;
	struct sl_diag keep;
	sl_diag_stash(&keep);
	sl_db_tx_rollback(tx);
	sl_diag_restore(&keep);
}

/* }}} */
/* {{{ results */

/** Freed results a thread keeps for reuse. */
#define RESULT_CACHE 16
/** Most bytes (arena chunks, and own cells) a recycled result keeps. */
#define RESULT_KEEP ((size_t)1 << 20)

/** A thread's freed results, kept for reuse. */
struct result_cache {
	/** The results (their arenas reset). */
	struct sl_db_result *r[RESULT_CACHE];
	/** How many. */
	int n;
};

/** The key of each thread's result cache. */
static pthread_key_t cache_key;
/** Whether `cache_key` was made. */
static bool cache_key_ok;
/** Makes `cache_key` once. */
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/** Free a result for good. */
static void
result_destroy(struct sl_db_result *r)
{
	sl_arena_destroy(&r->arena);
	sl_free(r->own);
	sl_free(r);
}

/** Free a thread's cache (at the thread's exit). */
static void
cache_drop(void *arg)
{
	struct result_cache *rc = arg;
	for (int i = 0; i < rc->n; i++)
		result_destroy(rc->r[i]);
	sl_free(rc);
}

/** Make the cache key. */
static void
cache_init(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_drop) == 0;
}

/** This thread's result cache; made when `make` (NULL if it cannot be). */
static struct result_cache *
cache_get(bool make)
{
	(void)pthread_once(&cache_once, cache_init);
	if (!cache_key_ok)
		return NULL;
	struct result_cache *rc = pthread_getspecific(cache_key);
	if (rc == NULL && make) {
		rc = sl_calloc(1, sizeof(*rc));
		if (rc != NULL && pthread_setspecific(cache_key, rc) != 0) {
			sl_free(rc);
			rc = NULL;
		}
	}
	return rc;
}

/** A result from this thread's cache (fields cleared), or a new one. */
static struct sl_db_result *
result_alloc(void)
{
	struct result_cache *rc = cache_get(false);
	if (rc != NULL && rc->n > 0) {
		struct sl_db_result *r = rc->r[--rc->n];
		struct sl_arena arena = r->arena;
		struct sl_value *own = r->own;
		size_t own_cap = r->own_cap;
		memset(r, 0, sizeof(*r));
		r->arena = arena;
		r->own = own;
		r->own_cap = own_cap;
		return r;
	}
	struct sl_db_result *r = sl_calloc(1, sizeof(*r));
	if (r != NULL)
		sl_arena_create(&r->arena, SL_DB_ARENA_CHUNK, SL_DB_BUF_MAX);
	return r;
}

struct sl_value *
sl_db_result_room(struct sl_db_result *r, size_t n)
{
	if (n <= r->own_cap)
		return r->own;
	size_t cap = r->own_cap != 0 ? r->own_cap : 64;
	while (cap < n) {
		if (cap > SIZE_MAX / 2 / sizeof(struct sl_value)) {
			sl_diag_set(SL_ELIMIT, "result of %zu values", n);
			return NULL;
		}
		cap *= 2;
	}
	struct sl_value *v = sl_realloc(r->own, cap * sizeof(*v));
	if (v == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a result of %zu values",
		            n);
		return NULL;
	}
	r->own = v;
	r->own_cap = cap;
	return v;
}

struct sl_db_result *
sl_db_result_new(size_t nrows, size_t ncols)
{
	struct sl_db_result *r = result_alloc();
	if (r == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a result");
		return NULL;
	}
	r->nrows = nrows;
	r->ncols = ncols;
	r->affected = -1;
	if (ncols > 0) {
		r->names = sl_arena_alloc(&r->arena, ncols * sizeof(char *));
		if (r->names == NULL)
			goto oom;
	}
	if (nrows > 0 && ncols > 0) {
		if (nrows > SIZE_MAX / ncols / sizeof(struct sl_value)) {
			sl_diag_set(SL_ELIMIT, "result of %zu x %zu values",
			            nrows, ncols);
			sl_db_result_free(r);
			return NULL;
		}
		size_t bytes = nrows * ncols * sizeof(struct sl_value);
		r->cells = sl_arena_alloc(&r->arena, bytes);
		if (r->cells == NULL)
			goto oom;
		memset(r->cells, 0, bytes);
	}
	return r;
oom:
	sl_db_result_free(r);
	sl_diag_set(SL_EOOM, "out of memory for a result of %zu rows", nrows);
	return NULL;
}

void
sl_db_result_set_tag(struct sl_db_result *r, const char *tag)
{
	/* Per statement of a pipeline: no snprintf. */
	size_t n = tag != NULL ? strlen(tag) : 0;
	if (n >= sizeof(r->tag))
		n = sizeof(r->tag) - 1;
	if (n > 0)
		memcpy(r->tag, tag, n);
	r->tag[n] = '\0';
	r->affected = -1;
	/* The count is the last word ("INSERT 0 5", "SELECT 3"), read
	 * backwards from the end, which the copy just found. */
	size_t d = n;
	while (d > 0 && r->tag[d - 1] >= '0' && r->tag[d - 1] <= '9')
		d--;
	if (d == 0 || d == n || r->tag[d - 1] != ' ')
		return;
	if (n - d > 18) {
		r->affected = strtoll(r->tag + d, NULL, 10);
		return;
	}
	int64_t v = 0;
	for (size_t i = d; i < n; i++)
		v = v * 10 + (r->tag[i] - '0');
	r->affected = v;
}

size_t
sl_db_result_rows(const struct sl_db_result *r)
{
	return r->nrows;
}

size_t
sl_db_result_cols(const struct sl_db_result *r)
{
	return r->ncols;
}

const char *
sl_db_result_name(const struct sl_db_result *r, size_t col)
{
	assert(col < r->ncols);
	return r->names[col];
}

int
sl_db_result_col(const struct sl_db_result *r, const char *name)
{
	for (size_t i = 0; i < r->ncols; i++)
		if (strcmp(r->names[i], name) == 0)
			return (int)i;
	return -1;
}

const struct sl_value *
sl_db_result_get(const struct sl_db_result *r, size_t row, size_t col)
{
	assert(row < r->nrows && col < r->ncols);
	return &r->cells[row * r->ncols + col];
}

int
sl_db_result_row_object(const struct sl_db_result *r, size_t row,
                        struct sl_arena *a, struct sl_value *out)
{
	assert(row < r->nrows);
	struct sl_member *m = NULL;
	if (r->ncols > 0) {
		m = sl_arena_alloc(a, r->ncols * sizeof(*m));
		if (m == NULL)
			return -1;
	}
	for (size_t i = 0; i < r->ncols; i++) {
		m[i].key = r->names[i];
		m[i].key_len = (uint32_t)strlen(r->names[i]);
		m[i].val = r->cells[row * r->ncols + i];
	}
	*out = sl_object_ref(m, (uint32_t)r->ncols);
	return sl_value_copy(a, out, out);
}

int64_t
sl_db_result_affected(const struct sl_db_result *r)
{
	return r->affected;
}

const char *
sl_db_result_tag(const struct sl_db_result *r)
{
	return r->tag;
}

bool
sl_db_error_retryable(const struct sl_error *e)
{
	if (e == NULL || e->code != SL_EDB)
		return false;
	static const char *const codes[] = {
	        "Neo.TransientError.", "Neo.ClientError.Cluster.NotALeader",
	        "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase",
	        "(40001)", "(40P01)"};
	if (strstr(e->msg, "Neo.TransientError.Transaction.Terminated") !=
	            NULL ||
	    strstr(e->msg, "LockClientStopped") != NULL)
		return false;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strstr(e->msg, codes[i]) != NULL)
			return true;
	return false;
}

int64_t
sl_db_result_stat(const struct sl_db_result *r, const char *name)
{
	if (r->stats.type != SL_VOBJECT)
		return -1;
	size_t n = strlen(name);
	for (uint32_t i = 0; i < r->stats.len; i++) {
		const struct sl_member *m = &r->stats.u.members[i];
		if (m->key_len == n && memcmp(m->key, name, n) == 0)
			return m->val.type == SL_VINT ? m->val.u.i : -1;
	}
	return 0;
}

void
sl_db_result_free(struct sl_db_result *r)
{
	if (r == NULL)
		return;
	if (r->keep != NULL)
		r->keep_free(r->keep);
	r->keep = NULL;
	struct result_cache *rc = cache_get(true);
	if (rc == NULL || rc->n == RESULT_CACHE ||
	    r->arena.reserved > RESULT_KEEP ||
	    r->own_cap > RESULT_KEEP / sizeof(struct sl_value)) {
		result_destroy(r);
		return;
	}
	sl_arena_set_keep(&r->arena, RESULT_KEEP);
	sl_arena_reset(&r->arena);
	rc->r[rc->n++] = r;
}

/* }}} */
/* {{{ helpers */

int
sl_db_ident(struct sl_buf *out, const char *ident)
{
	if (sl_buf_putc(out, '"') != 0)
		return -1;
	for (const char *p = ident; *p != '\0'; p++) {
		if (*p == '"' && sl_buf_putc(out, '"') != 0)
			return -1;
		if (sl_buf_putc(out, *p) != 0)
			return -1;
	}
	return sl_buf_putc(out, '"');
}

/* }}} */
