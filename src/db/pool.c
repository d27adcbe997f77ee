/*
 * sluice: the connection pool. Idle connections are reused newest first
 * (a stack, so the pool shrinks back to what the load needs), pinged when
 * they idled too long, closed when too old or idle beyond min_size.
 * Acquirers wait in FIFO order when every slot is taken; a release hands
 * the connection, or the slot a closed connection freed, straight to the
 * first waiter, so a newcomer never overtakes a waiting task. The queue is
 * a ring of pointers to the waiters (records on their own stacks), so that
 * taking the first touches no other waiter's memory: with thousands of
 * tasks waiting, each one's stack is cold until its turn. A task that
 * ends holding a connection gives it back through an exit hook, and a
 * release cleans up what the task left open (transaction, pipeline, COPY).
 */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"

/** Most connections one pool may hold (a hard cap on max_size). */
#define POOL_SIZE_MAX 10000
/** Longest health-check ping, in seconds. */
#define POOL_PING_MAX 2.0
/** Pause between looks at a connection another task is still using. */
#define POOL_BUSY_POLL 0.005
/** Most tasks one pool's queue holds (a hard cap; a power of two). */
#define POOL_WAITERS_MAX (1u << 24)
/** First size of a pool's queue (a power of two). */
#define POOL_QUEUE_MIN 64
/** Queue slots ahead of the head whose loading a pop starts. */
#define QUEUE_AHEAD 8

/** A task waiting in sl_db_pool_acquire() (on that task's stack). */
struct pool_waiter {
	/** The waiting task. */
	struct sl_task *task;
	/** A connection handed over by a release, or NULL. */
	struct sl_db_conn *conn;
	/** Its place in the pool's queue: entry `ticket` of the ring. */
	uint64_t ticket;
	/** Whether it is in the queue (not yet served, not gone). */
	bool queued;
	/** Set when a closed connection's slot was handed over instead. */
	bool slot;
};

/** An entry of a pool's queue. */
struct pool_slot {
	/** The waiter, or NULL if it left before its turn. */
	struct pool_waiter *w;
	/** Its task (kept here too, to prefetch it without reading `w`). */
	struct sl_task *task;
};

/** A pool. */
struct sl_db_pool {
	/** The URI as given (with its password; never shown). */
	char *url;
	/** The URI without its password, for messages. */
	char shown[SL_DB_URL_MAX];
	/** Options. */
	struct sl_db_pool_opts opts;
	/** Idle connections, most recently released first. */
	struct sl_list idle;
	/**
	 * Waiting acquirers, oldest first: a ring of `qcap` entries (a power
	 * of two, or 0), ticket t at t % qcap; a waiter that left before its
	 * turn leaves NULL, skipped when its turn comes.
	 */
	struct pool_slot *queue;
	/** Entries of `queue`. */
	size_t qcap;
	/** Ticket of the oldest entry. */
	uint64_t qhead;
	/** Ticket of the next waiter. */
	uint64_t qtail;
	/** Waiters in the queue (entries that are not NULL). */
	size_t nqueued;
	/** Slots taken: connections open plus connects under way. */
	size_t size;
	/** Connects under way (counted in `size`). */
	size_t opening;
	/** Connections in `idle`. */
	size_t nidle;
	/** Tasks waiting in sl_db_pool_acquire() (queued or just served). */
	size_t nwaiting;
	/** Connections opened over the pool's life. */
	uint64_t connects;
	/** Connects that failed. */
	uint64_t connect_failures;
	/** Connections closed because they were lost or failed a ping. */
	uint64_t discarded;
	/** Pause before the next connect (0 after a success). */
	double backoff;
	/** sl_clock() before which no connect is tried. */
	double next_connect;
	/** The last connect error, for timeouts during a backoff. */
	char last_error[SL_ERROR_MSG_MAX];
	/** Set by sl_db_pool_close(). */
	bool closing;
};

void
sl_db_pool_opts_init(struct sl_db_pool_opts *o)
{
	o->min_size = 1;
	o->max_size = 10;
	o->acquire_timeout = 30.0;
	o->idle_check = 5.0;
	o->max_lifetime = 3600.0;
	o->max_idle = 300.0;
	o->backoff_initial = 0.1;
	o->backoff_max = 5.0;
	sl_db_conn_opts_init(&o->conn);
}

/** Whether a limit in seconds is set (negative means SL_FOREVER). */
static bool
limited(double seconds)
{
	return seconds >= 0;
}

/** Free the pool once it is closed and nothing refers to it. */
static void
pool_maybe_free(struct sl_db_pool *p)
{
	if (!p->closing || p->size > 0 || p->nwaiting > 0)
		return;
	assert(p->nidle == 0 && p->opening == 0);
	assert(sl_list_empty(&p->idle) && p->nqueued == 0);
	sl_free(p->queue);
	memset(p->url, 0, strlen(p->url));
	sl_free(p->url);
	sl_free(p);
}

/** Put `w` at the end of the queue. 0, or -1 with SL_ELIMIT or SL_EOOM. */
static int
queue_push(struct sl_db_pool *p, struct pool_waiter *w)
{
	if (p->qtail - p->qhead == p->qcap) {
		size_t cap = p->qcap == 0 ? POOL_QUEUE_MIN : p->qcap * 2;
		if (cap > POOL_WAITERS_MAX) {
			sl_diag_set(SL_ELIMIT,
			            "%s: more than %u tasks waiting for a "
			            "connection from the pool",
			            p->shown, POOL_WAITERS_MAX);
			return -1;
		}
		struct pool_slot *q = sl_calloc(cap, sizeof(*q));
		if (q == NULL) {
			sl_diag_set(SL_EOOM,
			            "%s: out of memory queueing %zu tasks for "
			            "a connection",
			            p->shown, cap);
			return -1;
		}
		for (uint64_t t = p->qhead; t != p->qtail; t++)
			q[t & (cap - 1)] = p->queue[t & (p->qcap - 1)];
		sl_free(p->queue);
		p->queue = q;
		p->qcap = cap;
	}
	w->ticket = p->qtail++;
	w->queued = true;
	p->queue[w->ticket & (p->qcap - 1)] =
	        (struct pool_slot){.w = w, .task = w->task};
	p->nqueued++;
	return 0;
}

/**
 * Take the first waiter off the queue, or NULL if none waits. The next
 * one's record and task start loading: with many waiters, both are cold
 * by their turn, which usually comes a query or so later.
 */
static struct pool_waiter *
queue_pop(struct sl_db_pool *p)
{
	size_t mask = p->qcap - 1;
	while (p->nqueued > 0) {
		struct pool_waiter *w = p->queue[p->qhead++ & mask].w;
		if (w != NULL) {
			p->nqueued--;
			w->queued = false;
			if (p->nqueued > 0) {
				const struct pool_slot *n =
				        &p->queue[p->qhead & mask];
				__builtin_prefetch(n->w, 1);
				__builtin_prefetch(n->task, 1);
				/* The slots further on, read by the pops
				 * after this one's. */
				__builtin_prefetch(
				        &p->queue[(p->qhead + QUEUE_AHEAD) &
				                  mask]);
			}
			return w;
		}
	}
	p->qhead = p->qtail; /* only gaps were left */
	return NULL;
}

/** Take `w`, which gave up waiting before its turn, out of the queue. */
static void
queue_leave(struct sl_db_pool *p, struct pool_waiter *w)
{
	assert(w->queued && p->queue[w->ticket & (p->qcap - 1)].w == w);
	p->queue[w->ticket & (p->qcap - 1)].w = NULL;
	w->queued = false;
	p->nqueued--;
	if (w->ticket + 1 == p->qtail)
		p->qtail--;
	while (p->qhead != p->qtail &&
	       p->queue[p->qhead & (p->qcap - 1)].w == NULL)
		p->qhead++;
}

/**
 * Give up the slot of a connection that closed or never opened: to the
 * first waiter (which then connects), else free it.
 */
static void
pool_free_slot(struct sl_db_pool *p)
{
	assert(p->size > 0);
	struct pool_waiter *w = p->closing ? NULL : queue_pop(p);
	if (w != NULL) {
		w->slot = true;
		sl_task_wakeup(w->task);
		return;
	}
	p->size--;
}

/** Close `c` (not idle, not held) and free its slot. */
static void
pool_close_conn(struct sl_db_pool *p, struct sl_db_conn *c, bool discard)
{
	assert(sl_list_empty(&c->link) && c->holder == NULL);
	if (discard)
		p->discarded++;
	c->pool = NULL;
	sl_db_conn_close(c);
	pool_free_slot(p);
}

/** Whether `c` outlived max_lifetime at `now`. */
static bool
pool_expired(const struct sl_db_pool *p, const struct sl_db_conn *c, double now)
{
	return limited(p->opts.max_lifetime) &&
	       now - c->born >= p->opts.max_lifetime;
}

/**
 * Close idle connections that are too old, and those idle longer than
 * max_idle while the pool holds more than min_size, at sl_clock() time
 * `now`. Oldest idle first.
 */
static void
pool_sweep(struct sl_db_pool *p, double now)
{
	struct sl_list *it = p->idle.prev;
	while (it != &p->idle) {
		struct sl_db_conn *c =
		        sl_list_entry(it, struct sl_db_conn, link);
		it = it->prev;
		bool idle_out = limited(p->opts.max_idle) &&
		                p->size > p->opts.min_size &&
		                now - c->idle_since >= p->opts.max_idle;
		if (!idle_out && !pool_expired(p, c, now))
			continue;
		sl_list_del(&c->link);
		p->nidle--;
		pool_close_conn(p, c, false);
	}
}

/**
 * Put a clean connection back at sl_clock() time `now`: to the first
 * waiter, else on the stack.
 */
static void
pool_put(struct sl_db_pool *p, struct sl_db_conn *c, double now)
{
	assert(c->holder == NULL && c->owner == NULL);
	c->idle_since = now;
	struct pool_waiter *w = queue_pop(p);
	if (w != NULL) {
		w->conn = c;
		sl_task_wakeup_next(w->task);
		return;
	}
	sl_list_add_tail(p->idle.next, &c->link);
	p->nidle++;
}

/** Exit hook: the holder ended without releasing its connection. */
static void
pool_exit_hook(void *arg)
{
	sl_db_pool_release(arg);
}

/** Hand `c` to the running task. */
static struct sl_db_conn *
pool_take(struct sl_db_conn *c)
{
	assert(c->holder == NULL && sl_list_empty(&c->link));
	c->holder = sl_task_current();
	atomic_fetch_add_explicit(&c->stats->held, 1, memory_order_relaxed);
	sl_task_on_exit(&c->hook, pool_exit_hook, c);
	return c;
}

/**
 * Open a connection into a slot already counted in p->size, after the
 * backoff a failed connect left (cut short at `deadline`, an sl_clock()
 * time or INFINITY). The connection, or NULL with an error (the slot
 * stays taken; the caller frees it).
 */
static struct sl_db_conn *
pool_connect(struct sl_db_pool *p, double deadline)
{
	if (p->next_connect > sl_clock()) {
		double until = fmin(p->next_connect, deadline);
		if (sl_sleep_until(until) != 0)
			return NULL;
		if (p->next_connect > sl_clock()) {
			sl_diag_set(SL_ETIMEDOUT,
			            "%s: no connection free in the pool: "
			            "waiting %.1f s before connecting again "
			            "after a failure: %s",
			            p->shown, p->backoff, p->last_error);
			return NULL;
		}
	}
	struct sl_db_conn_opts co = p->opts.conn;
	double left = deadline - sl_clock();
	if (isfinite(deadline) && left > 0 &&
	    (!limited(co.connect_timeout) || co.connect_timeout > left))
		co.connect_timeout = left;
	p->opening++;
	struct sl_db_conn *c = sl_db_conn_open(p->url, &co);
	p->opening--;
	if (c == NULL) {
		p->connect_failures++;
		p->backoff = p->backoff == 0 ? p->opts.backoff_initial
		                             : fmin(2 * p->backoff,
		                                    p->opts.backoff_max);
		p->next_connect = sl_clock() + p->backoff;
		/* Kept without the URI, which the backoff message shows. */
		struct sl_error *e = sl_diag_last();
		const char *msg = e != NULL ? e->msg : "unknown error";
		size_t n = strlen(p->shown);
		if (strncmp(msg, p->shown, n) == 0 && msg[n] == ':')
			msg += n + (msg[n + 1] == ' ' ? 2 : 1);
		snprintf(p->last_error, sizeof(p->last_error), "%s", msg);
		return NULL;
	}
	c->opts.connect_timeout = p->opts.conn.connect_timeout;
	p->connects++;
	p->backoff = 0;
	p->next_connect = 0;
	c->pool = p;
	c->born = sl_clock();
	c->idle_since = c->born;
	sl_list_init(&c->hook.link);
	return c;
}

struct sl_db_pool *
sl_db_pool_open(const char *url, const struct sl_db_pool_opts *opts)
{
	struct sl_db_pool_opts o;
	if (opts != NULL)
		o = *opts;
	else
		sl_db_pool_opts_init(&o);
	char shown[SL_DB_URL_MAX];
	sl_uri_redact(url, shown, sizeof(shown));
	if (o.max_size == 0 || o.min_size > o.max_size) {
		sl_diag_set(SL_EINVAL,
		            "%s: pool sizes min %zu, max %zu: max must be at "
		            "least 1 and at least min",
		            shown, o.min_size, o.max_size);
		return NULL;
	}
	if (o.max_size > POOL_SIZE_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "%s: pool of %zu connections (at most %d)", shown,
		            o.max_size, POOL_SIZE_MAX);
		return NULL;
	}
	if (!(o.backoff_initial >= 0) || !(o.backoff_max >= 0)) {
		sl_diag_set(SL_EINVAL, "%s: negative pool backoff", shown);
		return NULL;
	}
	if (strlen(url) >= SL_DB_URL_MAX) {
		sl_diag_set(SL_ELIMIT, "database URI longer than %d bytes",
		            SL_DB_URL_MAX - 1);
		return NULL;
	}
	struct sl_db_pool *p = sl_calloc(1, sizeof(*p));
	char *copy = sl_strndup(url, strlen(url));
	if (p == NULL || copy == NULL) {
		sl_free(p);
		sl_free(copy);
		sl_diag_set(SL_EOOM, "out of memory opening a pool for %s",
		            shown);
		return NULL;
	}
	p->url = copy;
	memcpy(p->shown, shown, sizeof(shown));
	p->opts = o;
	sl_list_init(&p->idle);
	for (size_t i = 0; i < o.min_size; i++) {
		p->size++;
		struct sl_db_conn *c = pool_connect(p, INFINITY);
		if (c == NULL) {
			p->size--;
			struct sl_diag keep;
			sl_diag_stash(&keep);
			sl_db_pool_close(p);
			sl_diag_restore(&keep);
			return NULL;
		}
		pool_put(p, c, sl_clock());
	}
	return p;
}

void
sl_db_pool_close(struct sl_db_pool *p)
{
	if (p == NULL)
		return;
	assert(!p->closing);
	p->closing = true;
	while (!sl_list_empty(&p->idle)) {
		struct sl_db_conn *c =
		        sl_list_entry(p->idle.next, struct sl_db_conn, link);
		sl_list_del(&c->link);
		p->nidle--;
		pool_close_conn(p, c, false);
	}
	for (uint64_t t = p->qhead; t != p->qtail; t++) {
		struct pool_slot *e = &p->queue[t & (p->qcap - 1)];
		if (e->w != NULL)
			sl_task_wakeup(e->task);
	}
	pool_maybe_free(p);
}

/** Raise the error of an acquire from a pool being closed. */
static void
pool_closed_error(const struct sl_db_pool *p)
{
	sl_diag_set(SL_EINVAL, "%s: acquire from a pool that is closed",
	            p->shown);
}

/**
 * Check an idle connection taken off the stack at sl_clock() time `now`:
 * too old, lost, or (after idling longer than idle_check) failing a ping
 * closes it. 0 if it can be handed out; -1 if it was closed, with its slot
 * freed; -2 if the ping was cancelled (the connection went back on the
 * stack).
 */
static int
pool_check(struct sl_db_pool *p, struct sl_db_conn *c, double now)
{
	if (pool_expired(p, c, now)) {
		pool_close_conn(p, c, false);
		return -1;
	}
	if (!sl_db_conn_ok(c)) {
		pool_close_conn(p, c, true);
		return -1;
	}
	if (!limited(p->opts.idle_check) ||
	    now - c->idle_since < p->opts.idle_check)
		return 0;
	double t = POOL_PING_MAX;
	if (limited(p->opts.conn.connect_timeout))
		t = fmin(t, p->opts.conn.connect_timeout);
	if (sl_db_conn_ping(c, t) == 0)
		return 0;
	if (sl_diag_code() == SL_ECANCELLED && sl_db_conn_ok(c)) {
		pool_put(p, c, sl_clock());
		return -2;
	}
	pool_close_conn(p, c, true);
	return -1;
}

struct sl_db_conn *
sl_db_pool_acquire(struct sl_db_pool *p, double timeout)
{
	assert(sl_task_current() != NULL);
	if (p->closing) {
		pool_closed_error(p);
		return NULL;
	}
	if (timeout < 0)
		timeout = p->opts.acquire_timeout;
	double start = sl_clock();
	double deadline = limited(timeout) ? start + timeout : INFINITY;
	/* Errors of pings and connects that were retried must not replace
	 * the caller's diag when the acquire succeeds. */
	struct sl_diag saved;
	sl_diag_create(&saved);
	sl_diag_move(sl_diag_get(), &saved);
	struct sl_db_conn *c = NULL;
	pool_sweep(p, start);
	/* The clock is read once per turn: reads cost on some VMs. */
	double now = start;
	for (;;) {
		if (sl_task_testcancel() != 0)
			break;
		bool cancelled = false;
		while (!sl_list_empty(&p->idle)) {
			c = sl_list_entry(p->idle.next, struct sl_db_conn,
			                  link);
			sl_list_del(&c->link);
			p->nidle--;
			int rc = pool_check(p, c, now);
			if (rc == 0)
				goto out;
			c = NULL;
			now = sl_clock(); /* a ping may have taken a while */
			if (rc == -2 || p->closing) {
				cancelled = rc == -2;
				break;
			}
		}
		if (cancelled)
			break;
		if (p->closing) {
			pool_closed_error(p);
			break;
		}
		if (p->size < p->opts.max_size && p->nqueued == 0) {
			p->size++;
			goto connect;
		}
		double left = isfinite(deadline) ? deadline - now : SL_FOREVER;
		int rc = -1;
		struct pool_waiter w = {.task = sl_task_current()};
		if (left != SL_FOREVER && left <= 0) {
			sl_diag_set(SL_ETIMEDOUT, "%s: no time left", p->shown);
		} else if (queue_push(p, &w) == 0) {
			p->nwaiting++;
			rc = sl_task_wait(left);
			p->nwaiting--;
			if (w.queued)
				queue_leave(p, &w);
		}
		if (w.conn != NULL) {
			c = w.conn;
			goto out;
		}
		if (w.slot) {
			if (rc == 0 && !p->closing)
				goto connect;
			pool_free_slot(p);
		}
		if (p->closing) {
			pool_closed_error(p);
			break;
		}
		if (rc != 0) {
			if (sl_diag_code() == SL_ETIMEDOUT)
				sl_diag_set(SL_ETIMEDOUT,
				            "%s: no connection free in the "
				            "pool: %zu of %zu in use, waited "
				            "%.1f s",
				            p->shown, p->size - p->nidle,
				            p->opts.max_size,
				            sl_clock() - start);
			break;
		}
		now = sl_clock();
	}
	goto fail;
connect:
	c = pool_connect(p, deadline);
	if (c == NULL) {
		pool_free_slot(p);
	} else if (p->closing) {
		pool_close_conn(p, c, false);
		c = NULL;
		pool_closed_error(p);
	} else {
		goto out;
	}
fail:
	sl_diag_destroy(&saved);
	pool_maybe_free(p);
	return NULL;
out:
	sl_diag_move(&saved, sl_diag_get());
	sl_diag_destroy(&saved);
	return pool_take(c);
}

void
sl_db_pool_release(struct sl_db_conn *c)
{
	if (c == NULL)
		return;
	struct sl_db_pool *p = c->pool;
	assert(p != NULL && "released a connection not from a pool");
	assert(c->holder != NULL && "released a connection twice");
	assert(sl_list_empty(&c->link));
	assert(sl_task_current() != NULL);
	sl_task_hook_remove(&c->hook);
	struct sl_diag saved;
	sl_diag_create(&saved);
	sl_diag_move(sl_diag_get(), &saved);
	bool cancelled = sl_task_is_cancelled();
	sl_task_uncancel();
	/* Another task inside an operation on it (a misuse the SL_EBUSY
	 * guard reported to that task): let the operation finish. */
	while (c->owner != NULL && c->owner != sl_task_current())
		sl_sleep(POOL_BUSY_POLL);
	bool reusable = sl_db_conn_settle(c);
	c->holder = NULL;
	atomic_fetch_sub_explicit(&c->stats->held, 1, memory_order_relaxed);
	c->opts = p->opts.conn;
	double now = sl_clock();
	if (!reusable || p->closing || pool_expired(p, c, now))
		pool_close_conn(p, c, !reusable);
	else
		pool_put(p, c, now);
	if (!p->closing)
		pool_sweep(p, now);
	sl_diag_move(&saved, sl_diag_get());
	sl_diag_destroy(&saved);
	if (cancelled)
		sl_task_cancel(sl_task_current());
	pool_maybe_free(p);
}

void
sl_db_pool_stats(const struct sl_db_pool *p, struct sl_db_pool_stats *st)
{
	st->size = p->size - p->opening;
	st->idle = p->nidle;
	st->waiting = p->nwaiting;
	st->connects = p->connects;
	st->connect_failures = p->connect_failures;
	st->discarded = p->discarded;
}
