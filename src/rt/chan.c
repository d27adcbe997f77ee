/*
 * Bounded channels.
 *
 * A suspended sender or receiver parks a waiter on its own stack. Whoever
 * completes its operation (a receiver freeing a slot, a sender with an item)
 * does the transfer on its behalf and marks the waiter done, so items move
 * in FIFO order and a woken task never has to compete for its slot.
 */
#include "sluice/chan.h"

#include <assert.h>
#include <stdbool.h>

#include "rt/sched.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/task.h"

/** Largest capacity accepted. */
#define CHAN_CAPACITY_MAX ((size_t)1 << 24)

/** How a parked operation ended. */
enum waiter_status {
	WAITER_PENDING = 0, /**< still parked */
	WAITER_DONE,        /**< the item was transferred */
	WAITER_ENDED,       /**< the channel changed state; see ch->state */
};

/** A task parked in send or recv. */
struct chan_waiter {
	/** Link in ch->senders or ch->receivers. */
	struct sl_list link;
	/** The parked task. */
	struct sl_task *task;
	/** The item to send, or the item received. */
	void *item;
	/** Its destructor. */
	sl_item_destroy_fn destroy;
	/** Outcome. */
	enum waiter_status status;
};

int
sl_chan_create(struct sl_chan *ch, size_t capacity)
{
	ch->ring = NULL;
	ch->capacity = 0;
	ch->head = 0;
	ch->count = 0;
	ch->state = SL_CHAN_OPEN;
	sl_list_init(&ch->senders);
	sl_list_init(&ch->receivers);
	if (capacity > CHAN_CAPACITY_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "channel capacity %zu exceeds the "
		            "maximum of %zu",
		            capacity, CHAN_CAPACITY_MAX);
		return -1;
	}
	if (capacity > 0) {
		ch->ring = sl_calloc(capacity, sizeof(*ch->ring));
		if (ch->ring == NULL) {
			sl_diag_set(SL_EOOM,
			            "out of memory creating a channel "
			            "of %zu slots",
			            capacity);
			return -1;
		}
	}
	ch->capacity = capacity;
	return 0;
}

/** Free every buffered item. */
static void
discard_buffer(struct sl_chan *ch)
{
	while (ch->count > 0) {
		struct sl_chan_slot *s = &ch->ring[ch->head];
		ch->head = (ch->head + 1) % ch->capacity;
		ch->count--;
		if (s->destroy != NULL)
			s->destroy(s->item);
	}
	ch->head = 0;
}

void
sl_chan_destroy(struct sl_chan *ch)
{
	assert(sl_list_empty(&ch->senders) && sl_list_empty(&ch->receivers));
	if (ch->ring != NULL)
		discard_buffer(ch);
	sl_free(ch->ring);
	ch->ring = NULL;
}

/** Wake every waiter of `list` with WAITER_ENDED. */
static void
end_waiters(struct sl_list *list)
{
	struct sl_list *l;
	while ((l = sl_list_first(list)) != NULL) {
		struct chan_waiter *w =
		        sl_list_entry(l, struct chan_waiter, link);
		sl_list_del(l);
		w->status = WAITER_ENDED;
		sl_task_wakeup(w->task);
	}
}

void
sl_chan_close(struct sl_chan *ch)
{
	if (ch->state != SL_CHAN_OPEN)
		return;
	ch->state = SL_CHAN_CLOSED;
	end_waiters(&ch->senders);
	end_waiters(&ch->receivers);
}

void
sl_chan_drop(struct sl_chan *ch)
{
	if (ch->state == SL_CHAN_DROPPED || ch->state == SL_CHAN_ABORTED)
		return;
	ch->state = SL_CHAN_DROPPED;
	if (ch->ring != NULL)
		discard_buffer(ch);
	end_waiters(&ch->senders);
	end_waiters(&ch->receivers);
}

void
sl_chan_abort(struct sl_chan *ch)
{
	if (ch->state == SL_CHAN_ABORTED)
		return;
	ch->state = SL_CHAN_ABORTED;
	if (ch->ring != NULL)
		discard_buffer(ch);
	end_waiters(&ch->senders);
	end_waiters(&ch->receivers);
}

/** Set the error that a send on a channel in a final state gets. */
static int
send_refused(const struct sl_chan *ch)
{
	switch (ch->state) {
	case SL_CHAN_CLOSED:
		sl_diag_set(SL_ECLOSED, "send on a closed channel");
		break;
	case SL_CHAN_DROPPED:
		sl_diag_set(SL_EDROPPED, "send on a channel whose consumer "
		                         "stopped");
		break;
	case SL_CHAN_ABORTED:
		sl_diag_set(SL_EABORTED, "send on an aborted channel");
		break;
	case SL_CHAN_OPEN:
		assert(0);
	}
	return -1;
}

/**
 * Result of a receive on a channel in a final state with nothing to
 * deliver: 0 for end-of-stream, -1 with an error otherwise.
 */
static int
recv_ended(const struct sl_chan *ch)
{
	switch (ch->state) {
	case SL_CHAN_CLOSED:
		return 0;
	case SL_CHAN_DROPPED:
		sl_diag_set(SL_EDROPPED, "receive on a dropped channel");
		return -1;
	case SL_CHAN_ABORTED:
		sl_diag_set(SL_EABORTED, "receive on an aborted channel");
		return -1;
	case SL_CHAN_OPEN:
		break;
	}
	assert(0);
	return -1;
}

/** Append an item to the ring (there must be room). */
static void
ring_push(struct sl_chan *ch, void *item, sl_item_destroy_fn destroy)
{
	assert(ch->count < ch->capacity);
	struct sl_chan_slot *s =
	        &ch->ring[(ch->head + ch->count) % ch->capacity];
	s->item = item;
	s->destroy = destroy;
	ch->count++;
}

/** Take the oldest waiter off `list`, or NULL. */
static struct chan_waiter *
pop_waiter(struct sl_list *list)
{
	struct sl_list *l = sl_list_first(list);
	if (l == NULL)
		return NULL;
	sl_list_del(l);
	return sl_list_entry(l, struct chan_waiter, link);
}

/**
 * Park the running task on `list` until its operation is done, the channel
 * ends, or the wait fails. Returns the waiter's status, or -1 when the wait
 * failed first (the waiter is then unlinked and the diag set).
 */
static int
park(struct sl_list *list, struct chan_waiter *w, double timeout,
     const char *what)
{
	w->task = sl_task_current();
	w->status = WAITER_PENDING;
	sl_list_add_tail(list, &w->link);
	double deadline = timeout >= 0 ? sl_clock() + timeout : 0;
	for (;;) {
		int rc = sl_rt_wait(sl_rt_time_left(timeout, deadline), what);
		if (w->status != WAITER_PENDING)
			return (int)w->status;
		if (rc != 0) {
			sl_list_del(&w->link);
			return -1;
		}
	}
}

int
sl_chan_send(struct sl_chan *ch, void *item, sl_item_destroy_fn destroy,
             double timeout)
{
	if (ch->state != SL_CHAN_OPEN)
		return send_refused(ch);
	struct chan_waiter *r = pop_waiter(&ch->receivers);
	if (r != NULL) {
		r->item = item;
		r->destroy = destroy;
		r->status = WAITER_DONE;
		sl_task_wakeup(r->task);
		return 0;
	}
	if (ch->count < ch->capacity) {
		ring_push(ch, item, destroy);
		return 0;
	}
	if (timeout == 0) {
		sl_diag_set(SL_ETIMEDOUT, "channel is full");
		return -1;
	}
	if (sl_rt_check_in_task("a blocking channel send") != 0)
		return -1;
	if (sl_task_testcancel() != 0)
		return -1;
	struct chan_waiter w = {.item = item, .destroy = destroy};
	int st = park(&ch->senders, &w, timeout, "channel send");
	if (st == WAITER_DONE)
		return 0;
	if (st == WAITER_ENDED)
		return send_refused(ch);
	return -1;
}

int
sl_chan_recv(struct sl_chan *ch, void **item, double timeout)
{
	if (ch->state == SL_CHAN_DROPPED || ch->state == SL_CHAN_ABORTED)
		return recv_ended(ch);
	if (ch->count > 0) {
		struct sl_chan_slot *s = &ch->ring[ch->head];
		*item = s->item;
		ch->head = (ch->head + 1) % ch->capacity;
		ch->count--;
		struct chan_waiter *w = pop_waiter(&ch->senders);
		if (w != NULL) {
			ring_push(ch, w->item, w->destroy);
			w->status = WAITER_DONE;
			sl_task_wakeup(w->task);
		}
		return 1;
	}
	struct chan_waiter *w = pop_waiter(&ch->senders);
	if (w != NULL) {
		*item = w->item;
		w->status = WAITER_DONE;
		sl_task_wakeup(w->task);
		return 1;
	}
	if (ch->state == SL_CHAN_CLOSED)
		return 0;
	if (timeout == 0) {
		sl_diag_set(SL_ETIMEDOUT, "channel is empty");
		return -1;
	}
	if (sl_rt_check_in_task("a blocking channel receive") != 0)
		return -1;
	if (sl_task_testcancel() != 0)
		return -1;
	struct chan_waiter me = {.item = NULL};
	int st = park(&ch->receivers, &me, timeout, "channel recv");
	if (st == WAITER_DONE) {
		*item = me.item;
		return 1;
	}
	if (st == WAITER_ENDED)
		return recv_ended(ch);
	return -1;
}
