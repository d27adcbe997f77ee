/*
 * sluice: bounded channels between tasks of one loop.
 *
 * A FIFO of pointers with a fixed capacity. A full channel suspends
 * senders (backpressure), an empty one suspends receivers; waiters on each
 * side are served in FIFO order. Every item travels with its destructor, so
 * a channel that discards items (drop, abort, destroy) frees them.
 *
 * Ending a channel:
 *  - close (graceful, the producer's end): no more sends; receivers get
 *    everything buffered, then end-of-stream.
 *  - drop (the consumer's end): the consumer stopped; buffered items are
 *    freed and every send, waiting or future, fails with SL_EDROPPED.
 *  - abort (forced): the buffer is freed and every waiter on either side,
 *    and every later call, fails with SL_EABORTED.
 *
 * A failed send leaves the item with the caller.
 *
 * How it works: a channel is a ring of (item, destructor) slots. A blocked
 * sender or receiver parks a waiter on its own stack and the other side
 * completes the transfer for it (a receiver that frees a slot moves the
 * oldest blocked sender's item in), so a woken task never races for its
 * slot. Capacity 0 is a rendezvous.
 */
#ifndef SLUICE_CHAN_H
#define SLUICE_CHAN_H

#include <stddef.h>

#include "sluice/list.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Frees a channel item. */
typedef void (*sl_item_destroy_fn)(void *item);

/** One buffered item and the function that frees it. */
struct sl_chan_slot {
	/** The item. */
	void *item;
	/** Its destructor, or NULL if it needs none. */
	sl_item_destroy_fn destroy;
};

/** Channel state. */
enum sl_chan_state {
	SL_CHAN_OPEN = 0, /**< sends and receives work */
	SL_CHAN_CLOSED,   /**< closed gracefully: receivers drain, then end */
	SL_CHAN_DROPPED,  /**< the consumer stopped: sends fail */
	SL_CHAN_ABORTED,  /**< closed by force: everything fails */
};

/** A bounded channel (caller-owned; see sl_chan_create()). */
struct sl_chan {
	/** Ring buffer of `capacity` slots. */
	struct sl_chan_slot *ring;
	/** Number of slots (0 means rendezvous: hand-off only). */
	size_t capacity;
	/** Index of the oldest buffered item. */
	size_t head;
	/** Number of buffered items. */
	size_t count;
	/** Tasks suspended in send, oldest first. */
	struct sl_list senders;
	/** Tasks suspended in recv, oldest first. */
	struct sl_list receivers;
	/** Whether the channel is open, closed, dropped or aborted. */
	enum sl_chan_state state;
};

/**
 * Initialise a channel of `capacity` slots. 0, or -1 with SL_EOOM (or
 * SL_ELIMIT when the capacity is absurd).
 */
int sl_chan_create(struct sl_chan *ch, size_t capacity);

/**
 * Free the ring and every buffered item (through its destructor). No task
 * may be waiting on the channel.
 */
void sl_chan_destroy(struct sl_chan *ch);

/**
 * Send `item`. Suspends while the channel is full, up to `timeout` seconds
 * (SL_FOREVER: no limit; 0: only if there is room now). Returns 0 when the
 * item was queued or handed to a receiver, or -1 with SL_ECLOSED,
 * SL_EDROPPED, SL_EABORTED, SL_ETIMEDOUT or SL_ECANCELLED; then the caller
 * still owns `item`.
 */
int sl_chan_send(struct sl_chan *ch, void *item, sl_item_destroy_fn destroy,
                 double timeout);

/**
 * Receive the oldest item into `*item`. Suspends while the channel is
 * empty. Returns 1 with an item (the caller now owns it), 0 at end-of-stream
 * (closed and drained), or -1 with SL_EDROPPED, SL_EABORTED, SL_ETIMEDOUT or
 * SL_ECANCELLED.
 */
int sl_chan_recv(struct sl_chan *ch, void **item, double timeout);

/** Graceful close (idempotent; no effect once dropped or aborted). */
void sl_chan_close(struct sl_chan *ch);

/** The consumer stopped: free buffered items, fail senders. */
void sl_chan_drop(struct sl_chan *ch);

/** Forced close: free buffered items, fail every waiter and later call. */
void sl_chan_abort(struct sl_chan *ch);

/** Buffered items. */
static inline size_t
sl_chan_count(const struct sl_chan *ch)
{
	return ch->count;
}

/** Whether a send would suspend now (full, or no receiver at capacity 0). */
static inline int
sl_chan_is_full(const struct sl_chan *ch)
{
	return ch->count >= ch->capacity && sl_list_empty(&ch->receivers);
}

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_CHAN_H */
