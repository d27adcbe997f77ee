/*
 * Growable buffers with a hard cap.
 */
#include "sluice/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

void
sl_buf_create(struct sl_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void
sl_buf_destroy(struct sl_buf *b)
{
	sl_free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void
sl_buf_reset(struct sl_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int
sl_buf_reserve(struct sl_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n) {
		sl_diag_set(SL_ELIMIT,
		            "buffer cap of %zu bytes reached (holding %zu, "
		            "asked for %zu more)",
		            b->max, b->len, n);
		return -1;
	}
	size_t need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	size_t alloc = b->alloc < 64 ? 64 : b->alloc;
	while (alloc < need)
		alloc = alloc > SIZE_MAX / 2 ? need : alloc * 2;
	if (alloc > b->max + 1)
		alloc = b->max + 1;
	char *p = sl_realloc(b->data, alloc);
	if (p == NULL) {
		sl_diag_set(SL_EOOM,
		            "out of memory growing a buffer to %zu "
		            "bytes",
		            alloc);
		return -1;
	}
	if (b->data == NULL)
		p[0] = '\0';
	b->data = p;
	b->alloc = alloc;
	return 0;
}

int
sl_buf_append_grow(struct sl_buf *b, const void *p, size_t n)
{
	if (sl_buf_reserve(b, n) != 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
sl_buf_puts(struct sl_buf *b, const char *s)
{
	return sl_buf_append(b, s, strlen(s));
}

int
sl_buf_vprintf(struct sl_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0) {
		sl_diag_set(SL_EINVAL, "bad format string \"%s\"", fmt);
		return -1;
	}
	if (sl_buf_reserve(b, (size_t)n) != 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
sl_buf_printf(struct sl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = sl_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
sl_buf_consume(struct sl_buf *b, size_t n)
{
	if (n >= b->len) {
		sl_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}
