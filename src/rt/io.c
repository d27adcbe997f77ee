/*
 * File descriptor waits, signal catchers and offloaded work.
 */
#include "sluice/io.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <uv.h>

#include "rt/sched.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/task.h"

/* {{{ File descriptors */

/** Heap part of an sl_io: it outlives sl_io_destroy() until libuv closes. */
struct sl_io_handle {
	/** libuv poll handle on `fd`. */
	uv_poll_t poll;
	/** Our duplicate of the caller's descriptor. */
	int fd;
	/** The caller's descriptor, for messages. */
	int orig_fd;
	/** Task waiting on it, or NULL. */
	struct sl_task *waiter;
	/** Ready bits reported by libuv for the current wait. */
	int revents;
	/** Whether libuv reported an error for the current wait. */
	int failed;
	/**
	 * libuv events the handle polls for, or 0 when stopped. The poll
	 * stays registered between waits (unreferenced, so it does not keep
	 * the loop alive), which spares the epoll_ctl calls of a restart.
	 */
	int mask;
	/** What a waiter waits for, for sl_rt_wait() (set with `mask`). */
	char what[48];
};

/** libuv close callback: release the duplicate and the handle. */
static void
io_close_cb(uv_handle_t *h)
{
	struct sl_io_handle *ioh = h->data;
	close(ioh->fd);
	sl_free(ioh);
}

int
sl_io_create(struct sl_io *io, int fd)
{
	io->h = NULL;
	struct sl_loop *loop = sl_loop_current();
	if (loop == NULL) {
		sl_diag_set(SL_EINVAL, "sl_io_create() needs a loop on this "
		                       "thread");
		return -1;
	}
	struct sl_io_handle *h = sl_calloc(1, sizeof(*h));
	if (h == NULL) {
		sl_diag_set(SL_EOOM, "out of memory watching fd %d", fd);
		return -1;
	}
	h->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (h->fd < 0) {
		sl_diag_set_errno("cannot duplicate fd %d to watch it", fd);
		sl_free(h);
		return -1;
	}
	h->orig_fd = fd;
	int rc = uv_poll_init(sl_rt_uv(loop), &h->poll, h->fd);
	if (rc != 0) {
		sl_diag_set(SL_ESYSTEM, "cannot watch fd %d: %s", fd,
		            uv_strerror(rc));
		close(h->fd);
		sl_free(h);
		return -1;
	}
	h->poll.data = h;
	uv_unref((uv_handle_t *)&h->poll);
	io->h = h;
	return 0;
}

void
sl_io_destroy(struct sl_io *io)
{
	struct sl_io_handle *h = io->h;
	if (h == NULL)
		return;
	assert(h->waiter == NULL);
	uv_close((uv_handle_t *)&h->poll, io_close_cb);
	io->h = NULL;
}

/**
 * libuv poll callback: record readiness and wake the waiter. Readiness
 * with nobody waiting stops the poll, or level-triggered epoll would
 * report it on every turn of the loop.
 */
static void
io_poll_cb(uv_poll_t *poll, int status, int events)
{
	struct sl_io_handle *h = poll->data;
	if (status < 0) {
		h->failed = 1;
		h->mask = 0; /* libuv has stopped the handle */
	}
	h->revents = events;
	if (h->waiter != NULL) {
		sl_task_wakeup(h->waiter);
	} else {
		uv_poll_stop(poll);
		h->mask = 0;
	}
}

int
sl_io_wait(struct sl_io *io, int events, double timeout)
{
	struct sl_io_handle *h = io->h;
	if (sl_rt_check_in_task("sl_io_wait()") != 0)
		return -1;
	if (h->waiter != NULL) {
		sl_diag_set(SL_EBUSY,
		            "fd %d is already awaited by task '%s' (id %llu); "
		            "two tasks may not use it at once",
		            h->orig_fd, sl_task_name(h->waiter),
		            (unsigned long long)sl_task_id(h->waiter));
		return -1;
	}
	int mask = ((events & SL_IO_READ) ? UV_READABLE : 0) |
	           ((events & SL_IO_WRITE) ? UV_WRITABLE : 0);
	if (mask == 0) {
		sl_diag_set(SL_EINVAL, "sl_io_wait() on fd %d with no events",
		            h->orig_fd);
		return -1;
	}
	if (sl_task_testcancel() != 0)
		return -1;
	h->revents = 0;
	h->failed = 0;
	if (h->mask != mask || !uv_is_active((uv_handle_t *)&h->poll)) {
		int rc = uv_poll_start(&h->poll, mask, io_poll_cb);
		if (rc != 0) {
			h->mask = 0;
			sl_diag_set(SL_ESYSTEM, "cannot poll fd %d: %s",
			            h->orig_fd, uv_strerror(rc));
			return -1;
		}
		h->mask = mask;
		snprintf(h->what, sizeof(h->what), "fd %d to be %s", h->orig_fd,
		         mask == UV_READABLE   ? "readable"
		         : mask == UV_WRITABLE ? "writable"
		                               : "ready");
	}
	uv_ref((uv_handle_t *)&h->poll);
	h->waiter = sl_task_current();
	double deadline = timeout >= 0 ? sl_clock() + timeout : 0;
	int result = -1;
	for (;;) {
		int w = sl_rt_wait(sl_rt_time_left(timeout, deadline), h->what);
		if (h->failed) {
			/* POLLERR: report ready; the next call sees the error.
			 */
			result = events & (SL_IO_READ | SL_IO_WRITE);
			break;
		}
		if (h->revents != 0) {
			result = ((h->revents & UV_READABLE) ? SL_IO_READ : 0) |
			         ((h->revents & UV_WRITABLE) ? SL_IO_WRITE : 0);
			if (result == 0)
				result = events & SL_IO_READ;
			break;
		}
		if (w != 0)
			break;
	}
	h->waiter = NULL;
	uv_unref((uv_handle_t *)&h->poll);
	return result;
}

int
sl_wait_fd(int fd, int events, double timeout)
{
	struct sl_io io;
	if (sl_io_create(&io, fd) != 0)
		return -1;
	int rc = sl_io_wait(&io, events, timeout);
	sl_io_destroy(&io);
	return rc;
}

/* }}} */

/* {{{ Signals */

/** Heap part of an sl_signal. */
struct sl_signal_handle {
	/** libuv signal handle. */
	uv_signal_t sig;
	/** Signal number. */
	int signum;
	/** Deliveries not yet consumed. */
	unsigned pending;
	/** Task waiting for a delivery, or NULL. */
	struct sl_task *waiter;
};

/** libuv signal callback. */
static void
signal_cb(uv_signal_t *sig, int signum)
{
	(void)signum;
	struct sl_signal_handle *h = sig->data;
	h->pending++;
	if (h->waiter != NULL)
		sl_task_wakeup(h->waiter);
}

/** libuv close callback. */
static void
signal_close_cb(uv_handle_t *h)
{
	sl_free(h->data);
}

int
sl_signal_create(struct sl_signal *s, int signum)
{
	s->h = NULL;
	struct sl_loop *loop = sl_loop_current();
	if (loop == NULL) {
		sl_diag_set(SL_EINVAL, "sl_signal_create() needs a loop on "
		                       "this thread");
		return -1;
	}
	struct sl_signal_handle *h = sl_calloc(1, sizeof(*h));
	if (h == NULL) {
		sl_diag_set(SL_EOOM, "out of memory catching signal %d",
		            signum);
		return -1;
	}
	uv_signal_init(sl_rt_uv(loop), &h->sig);
	h->sig.data = h;
	h->signum = signum;
	int rc = uv_signal_start(&h->sig, signal_cb, signum);
	if (rc != 0) {
		sl_diag_set(SL_ESYSTEM, "cannot catch signal %d: %s", signum,
		            uv_strerror(rc));
		uv_close((uv_handle_t *)&h->sig, signal_close_cb);
		return -1;
	}
	/* A catcher nobody waits on must not keep the loop alive. */
	uv_unref((uv_handle_t *)&h->sig);
	s->h = h;
	return 0;
}

void
sl_signal_destroy(struct sl_signal *s)
{
	struct sl_signal_handle *h = s->h;
	if (h == NULL)
		return;
	assert(h->waiter == NULL);
	uv_signal_stop(&h->sig);
	uv_close((uv_handle_t *)&h->sig, signal_close_cb);
	s->h = NULL;
}

unsigned
sl_signal_pending(const struct sl_signal *s)
{
	return s->h->pending;
}

int
sl_signal_wait(struct sl_signal *s, double timeout)
{
	struct sl_signal_handle *h = s->h;
	if (sl_rt_check_in_task("sl_signal_wait()") != 0)
		return -1;
	if (h->waiter != NULL) {
		sl_diag_set(SL_EBUSY,
		            "signal %d is already awaited by task '%s'",
		            h->signum, sl_task_name(h->waiter));
		return -1;
	}
	if (sl_task_testcancel() != 0)
		return -1;
	char what[32];
	snprintf(what, sizeof(what), "signal %d", h->signum);
	double deadline = timeout >= 0 ? sl_clock() + timeout : 0;
	h->waiter = sl_task_current();
	uv_ref((uv_handle_t *)&h->sig);
	int rc = 0;
	while (h->pending == 0) {
		rc = sl_rt_wait(sl_rt_time_left(timeout, deadline), what);
		if (rc != 0)
			break;
	}
	uv_unref((uv_handle_t *)&h->sig);
	h->waiter = NULL;
	if (h->pending > 0) {
		h->pending--;
		return h->signum;
	}
	return -1;
}

/* }}} */

/* {{{ Offload */

/** One offloaded call; heap-owned because it may outlive its caller. */
struct offload_req {
	/** libuv work request. */
	uv_work_t work;
	/** Function to run on the worker. */
	sl_offload_fn fn;
	/** Its argument. */
	void *arg;
	/** Cleanup for an abandoned call, or NULL. */
	void (*abandon)(void *arg);
	/** Waiting task, or NULL once abandoned. */
	struct sl_task *waiter;
	/** fn's result. */
	int rc;
	/** fn's errors, recorded on the worker thread. */
	struct sl_diag diag;
	/** Set when the work finished (or was dropped before it started). */
	int done;
};

/** Worker thread: run the function with its own diag. */
static void
offload_work_cb(uv_work_t *w)
{
	struct offload_req *r = w->data;
	struct sl_diag *prev = sl_diag_swap(&r->diag);
	r->rc = r->fn(r->arg) != 0 ? -1 : 0;
	if (r->rc != 0 && r->diag.last == NULL)
		sl_diag_set(SL_EINVAL, "offloaded work failed without saying "
		                       "why");
	sl_diag_swap(prev);
}

/** Loop thread: the work finished or was dropped. */
static void
offload_after_cb(uv_work_t *w, int status)
{
	struct offload_req *r = w->data;
	r->done = 1;
	if (status == UV_ECANCELED) {
		r->rc = -1;
		struct sl_diag *prev = sl_diag_swap(&r->diag);
		sl_diag_set(SL_ECANCELLED, "offloaded work was dropped "
		                           "before it started");
		sl_diag_swap(prev);
	}
	if (r->waiter != NULL) {
		sl_task_wakeup(r->waiter);
		return;
	}
	if (r->abandon != NULL)
		r->abandon(r->arg);
	sl_diag_destroy(&r->diag);
	sl_free(r);
}

int
sl_offload(sl_offload_fn fn, void *arg, void (*abandon)(void *arg),
           double timeout)
{
	if (sl_rt_check_in_task("sl_offload()") != 0)
		return -1;
	if (abandon != NULL && sl_task_testcancel() != 0)
		return -1;
	struct offload_req *r = sl_calloc(1, sizeof(*r));
	if (r == NULL) {
		sl_diag_set(SL_EOOM, "out of memory offloading work");
		return -1;
	}
	r->fn = fn;
	r->arg = arg;
	r->abandon = abandon;
	r->work.data = r;
	sl_diag_create(&r->diag);
	int rc = uv_queue_work(sl_rt_uv(sl_loop_current()), &r->work,
	                       offload_work_cb, offload_after_cb);
	if (rc != 0) {
		sl_diag_set(SL_ESYSTEM, "cannot queue work on a thread: %s",
		            uv_strerror(rc));
		sl_free(r);
		return -1;
	}
	r->waiter = sl_task_current();
	double deadline = timeout >= 0 ? sl_clock() + timeout : 0;
	while (!r->done) {
		if (abandon == NULL) {
			sl_rt_wait_uncancellable("offloaded work");
			continue;
		}
		if (sl_rt_wait(sl_rt_time_left(timeout, deadline),
		               "offloaded work") != 0 &&
		    !r->done) {
			/* Leave it to finish on its own; abandon() cleans up.
			 */
			r->waiter = NULL;
			uv_cancel((uv_req_t *)&r->work);
			return -1;
		}
	}
	rc = r->rc;
	if (rc != 0)
		sl_diag_move(&r->diag, sl_diag_get());
	sl_diag_destroy(&r->diag);
	sl_free(r);
	return rc;
}

/* }}} */
