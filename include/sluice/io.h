/*
 * sluice: waiting for the outside world from a task: file descriptors,
 * signals, and blocking work run on a thread.
 *
 * fd waits (sl_io) poll a dup of the caller's descriptor with a persistent
 * uv_poll_t. The poll stays registered with epoll between waits (a
 * request/reply protocol waits on the same events again and again) and is
 * unreferenced while nobody waits, so it keeps no loop alive; readiness
 * that arrives with nobody waiting stops it, since level-triggered epoll
 * would report it on every turn. The one-waiter rule (SL_EBUSY) is the
 * guard the database layer builds on.
 *
 * Signals (sl_signal) are caught from creation on and counted, so none is
 * lost between waits; an unawaited catcher keeps no loop alive.
 *
 * Offload (sl_offload) runs blocking work on libuv's thread pool with its
 * own diag on the pool thread.
 */
#ifndef SLUICE_IO_H
#define SLUICE_IO_H

#ifdef __cplusplus
extern "C" {
#endif

/** Readiness bits for sl_io_wait() and sl_wait_fd(). */
enum {
	SL_IO_READ = 1,  /**< readable (or hung up / error) */
	SL_IO_WRITE = 2, /**< writable */
};

struct sl_io_handle;

/**
 * A watcher on one file descriptor (caller-owned). It polls a duplicate of
 * the descriptor, so the caller may close the original at any time (libpq
 * does, on reset). One task at a time may wait on it: a second concurrent
 * waiter gets SL_EBUSY naming the first.
 */
struct sl_io {
	/** libuv poll handle and its duplicate fd, heap-owned. */
	struct sl_io_handle *h;
};

/** Start watching `fd` (not yet polled). 0, or -1 with an error. */
int sl_io_create(struct sl_io *io, int fd);

/** Stop watching. Must not be called while a task waits on `io`. */
void sl_io_destroy(struct sl_io *io);

/**
 * Suspend until the descriptor is ready for any of `events` (SL_IO_READ,
 * SL_IO_WRITE) or `timeout` seconds pass. Returns the ready bits (> 0), or
 * -1 with SL_ETIMEDOUT, SL_ECANCELLED, SL_EBUSY or SL_ESYSTEM.
 */
int sl_io_wait(struct sl_io *io, int events, double timeout);

/** One-shot form of sl_io_wait() on a raw descriptor. */
int sl_wait_fd(int fd, int events, double timeout);

struct sl_signal_handle;

/**
 * A catcher for one signal (caller-owned). From sl_signal_create() on, the
 * signal no longer has its default effect; deliveries are counted and
 * consumed by sl_signal_wait().
 */
struct sl_signal {
	/** libuv signal handle and counters, heap-owned. */
	struct sl_signal_handle *h;
};

/** Start catching `signum`. 0, or -1 with an error. */
int sl_signal_create(struct sl_signal *s, int signum);

/** Stop catching; the signal's previous disposition returns. */
void sl_signal_destroy(struct sl_signal *s);

/**
 * Suspend until the signal has been delivered (one delivery is consumed)
 * or `timeout` passes. Returns the signal number, or -1 with SL_ETIMEDOUT,
 * SL_ECANCELLED or SL_EBUSY.
 */
int sl_signal_wait(struct sl_signal *s, double timeout);

/** Deliveries caught and not yet consumed. */
unsigned sl_signal_pending(const struct sl_signal *s);

/** Blocking work for sl_offload(): returns 0, or -1 with a diag error. */
typedef int (*sl_offload_fn)(void *arg);

/**
 * Run `fn(arg)` on a worker thread while the calling task waits; returns
 * fn's result, with fn's error moved into the caller's diag.
 *
 * With `abandon` set, the wait honours `timeout` and cancellation: it
 * returns -1 with SL_ETIMEDOUT or SL_ECANCELLED at once, and `abandon(arg)`
 * runs on the loop thread once the work has finished (or was dropped before
 * it started), so it can free `arg`. Without `abandon` the call always waits
 * for the work to complete and returns its result; `timeout` is ignored and
 * a cancellation is seen by the next wait.
 */
int sl_offload(sl_offload_fn fn, void *arg, void (*abandon)(void *arg),
               double timeout);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_IO_H */
