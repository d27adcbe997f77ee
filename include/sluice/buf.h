/*
 * sluice: growable byte buffer with a hard cap fixed at creation. Growing
 * past the cap fails with SL_ELIMIT; the content stays as it was.
 */
#ifndef SLUICE_BUF_H
#define SLUICE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A growable buffer (caller-owned; see sl_buf_create()). */
struct sl_buf {
	/** The bytes; always NUL-terminated once allocated, or NULL. */
	char *data;
	/** Bytes in use, not counting the terminator. */
	size_t len;
	/** Bytes allocated for `data`. */
	size_t alloc;
	/** Hard cap on `len`. */
	size_t max;
};

/** Initialise an empty buffer that will never hold more than `max` bytes. */
void sl_buf_create(struct sl_buf *b, size_t max);

/** Free the bytes. The buffer may be created again. */
void sl_buf_destroy(struct sl_buf *b);

/** Empty the buffer, keeping its allocation. */
void sl_buf_reset(struct sl_buf *b);

/** Make room for `n` more bytes. 0, or -1 with SL_EOOM or SL_ELIMIT. */
int sl_buf_reserve(struct sl_buf *b, size_t n);

/** sl_buf_append() when the bytes do not fit yet: grow, then append. */
int sl_buf_append_grow(struct sl_buf *b, const void *p, size_t n);

/**
 * Append `n` bytes. 0, or -1 (content unchanged). Inline: what fits in
 * the allocation (never more than the cap allows) is copied at once.
 */
static inline int
sl_buf_append(struct sl_buf *b, const void *p, size_t n)
{
	if (n < b->alloc - b->len) {
		if (n > 0)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return sl_buf_append_grow(b, p, n);
}

/** Append a NUL-terminated string. 0, or -1 (content unchanged). */
int sl_buf_puts(struct sl_buf *b, const char *s);

/** Append one byte. 0, or -1. */
static inline int
sl_buf_putc(struct sl_buf *b, char c)
{
	if (b->alloc - b->len > 1) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return sl_buf_append_grow(b, &c, 1);
}

/** Append formatted text. 0, or -1 (content unchanged). */
int sl_buf_printf(struct sl_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/** va_list form of sl_buf_printf(). */
int sl_buf_vprintf(struct sl_buf *b, const char *fmt, va_list ap);

/** Drop the first `n` bytes, moving the rest to the front. */
void sl_buf_consume(struct sl_buf *b, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_BUF_H */
