/*
 * Buffers: append, printf, consume, hard cap, fault injection.
 */
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "unit.h"

/** Appending, the cap, consume, reset and OOM of buffers. */
TAP_CASE(buf)
{
	struct sl_buf b;
	sl_buf_create(&b, 100);
	ok(sl_buf_puts(&b, "hello") == 0 && sl_buf_putc(&b, ' ') == 0,
	   "append works");
	ok(sl_buf_printf(&b, "%s %d", "world", 42) == 0, "printf works");
	is_str(b.data, "hello world 42", "content is the concatenation");
	is_int(b.len, 14, "len is tracked");

	sl_buf_consume(&b, 6);
	is_str(b.data, "world 42", "consume drops a prefix");

	char big[200];
	memset(big, 'x', sizeof(big));
	ok(sl_buf_append(&b, big, 93) == -1, "append past the cap fails");
	is_err(SL_ELIMIT, "with ELIMIT");
	is_str(b.data, "world 42", "and leaves the content unchanged");
	ok(sl_buf_append(&b, big, 92) == 0 && b.len == 100,
	   "filling exactly to the cap works");
	ok(sl_buf_putc(&b, 'y') == -1, "one byte more does not");
	ok(sl_buf_printf(&b, "%d", 1) == -1, "printf past the cap fails");
	is_int(b.len, 100, "content unchanged after a failed printf");

	sl_buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	is_str(b.data, "", "and terminates");
	sl_buf_destroy(&b);

	struct sl_buf c;
	sl_buf_create(&c, 1 << 20);
	sl_alloc_fail_after(0);
	ok(sl_buf_puts(&c, "abc") == -1, "append fails when malloc fails");
	is_err(SL_EOOM, "with EOOM");
	sl_alloc_fail_after(-1);
	ok(c.len == 0, "nothing was appended");
	ok(sl_buf_puts(&c, "abc") == 0 && strcmp(c.data, "abc") == 0,
	   "works again afterwards");
	for (int i = 0; i < 1000; i++)
		sl_buf_printf(&c, "%04d", i);
	is_int(c.len, 3 + 4000, "growth over many appends");
	ok(memcmp(c.data + 3 + 4 * 999, "0999", 4) == 0, "content intact "
	                                                 "after growth");
	sl_buf_destroy(&c);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
