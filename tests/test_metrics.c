/*
 * The metric helpers every layer may use (sluice/metrics.h): latency
 * histograms (also observed from several threads at once), the
 * Prometheus text of names, labels and histograms, and the process's
 * usage.
 */
#include <pthread.h>
#include <stdlib.h>

#include "sluice/metrics.h"
#include "unit.h"

/** Observations into the right buckets; sum and count. */
TAP_CASE(hist)
{
	struct sl_hist h = {0};
	sl_hist_observe(&h, 0.0005); /* <= 1 ms */
	sl_hist_observe(&h, 0.001);  /* <= 1 ms: bounds are inclusive */
	sl_hist_observe(&h, 0.003);  /* <= 5 ms */
	sl_hist_observe(&h, 2.0);    /* <= 2.5 s */
	sl_hist_observe(&h, 600.0);  /* +Inf */
	sl_hist_observe(&h, -1.0);   /* counts as 0 */
	is_int((int)sl_hist_count(&h), 6, "six observations");
	ok(sl_hist_sum(&h) > 602.0044 && sl_hist_sum(&h) < 602.0046,
	   "their sum (%.6f)", sl_hist_sum(&h));
	is_int((int)h.bucket[0], 3, "three in the first bucket");
	is_int((int)h.bucket[2], 1, "one in the 5 ms bucket");
	is_int((int)h.bucket[SL_HIST_BUCKETS], 1, "one past the last bound");
	struct sl_buf b;
	sl_buf_create(&b, 1 << 16);
	ok(sl_prom_hist(&b, "x_seconds", "t=\"a\"", &h) == 0, "exposed");
	ok(strstr(b.data, "x_seconds_bucket{t=\"a\",le=\"0.001\"} 3\n") != NULL,
	   "cumulative buckets with the labels first");
	ok(strstr(b.data, "x_seconds_bucket{t=\"a\",le=\"2.5\"} 5\n") != NULL,
	   "... 5 at 2.5 s");
	ok(strstr(b.data, "x_seconds_bucket{t=\"a\",le=\"+Inf\"} 6\n") != NULL,
	   "... all at +Inf");
	ok(strstr(b.data, "x_seconds_count{t=\"a\"} 6\n") != NULL, "the count");
	sl_buf_reset(&b);
	ok(sl_prom_hist(&b, "y", "", &h) == 0 &&
	           strstr(b.data, "y_bucket{le=\"60\"} 5\n") != NULL &&
	           strstr(b.data, "y_count 6\n") != NULL,
	   "without labels: no empty braces");
	struct sl_buf tiny;
	sl_buf_create(&tiny, 40);
	ok(sl_prom_hist(&tiny, "y", "", &h) != 0,
	   "a full buffer fails the exposition");
	sl_diag_clear(sl_diag_get());
	sl_buf_destroy(&tiny);
	sl_buf_destroy(&b);
}

/** One thread's observations. */
static void *
observer(void *arg)
{
	for (int i = 0; i < 100000; i++)
		sl_hist_observe(arg, 0.002);
	return NULL;
}

/** Four threads observing one histogram lose nothing. */
TAP_CASE(threads)
{
	struct sl_hist h = {0};
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, observer, &h);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	is_int((int)sl_hist_count(&h), 400000, "every observation counted");
	is_int((int)h.bucket[1], 400000, "in its bucket");
}

/** Names and label values as the text format wants them. */
TAP_CASE(text)
{
	char name[64];
	sl_prom_name("nodes_upserted_by_type_Person-2.x", name, sizeof(name));
	is_str(name, "nodes_upserted_by_type_Person_2_x",
	       "characters outside [A-Za-z0-9_] become _");
	sl_prom_name("9lives", name, sizeof(name));
	is_str(name, "_9lives", "a leading digit gets a _");
	sl_prom_name("abcdefgh", name, 5);
	is_str(name, "abcd", "truncated to the room");
	struct sl_buf b;
	sl_buf_create(&b, 1024);
	ok(sl_prom_label(&b, "a\"b\\c\nd") == 0, "a label value");
	is_str(b.data, "a\\\"b\\\\c\\nd", "quote, backslash, newline escaped");
	sl_buf_reset(&b);
	ok(sl_prom_head(&b, "m", "gauge", "What m is") == 0, "a head");
	is_str(b.data, "# HELP m What m is\n# TYPE m gauge\n",
	       "HELP then TYPE");
	sl_buf_destroy(&b);
}

/** The process's usage. */
TAP_CASE(proc)
{
	volatile double x = 0;
	for (int i = 0; i < 3000000; i++)
		x = x + i * 0.5;
	note("spent CPU on a sum (%g)", x);
	volatile char *p = malloc((size_t)8 << 20);
	for (size_t i = 0; i < ((size_t)8 << 20); i += 4096)
		p[i] = 1;
	struct sl_proc_usage u;
	sl_proc_read(&u);
	ok(u.cpu_user + u.cpu_system > 0, "CPU time (%.3f s)",
	   u.cpu_user + u.cpu_system);
	ok(u.rss > ((uint64_t)8 << 20), "RSS counts the 8 MiB touched (%llu)",
	   (unsigned long long)u.rss);
	ok(u.rss_peak >= u.rss, "peak RSS at least RSS");
	ok(u.vsize >= u.rss, "virtual size at least RSS");
	ok(u.open_fds >= 3 && u.max_fds >= u.open_fds, "%u fds of %llu",
	   u.open_fds, (unsigned long long)u.max_fds);
	ok(u.start_time > 1.6e9, "start time since the epoch (%.0f)",
	   u.start_time);
	struct sl_proc_usage c;
	sl_proc_read_cpu(&c);
	/* Its peak is the kernel's high-water mark, which may lag statm's
	 * resident count by a few pages: only the 8 MiB touched are sure. */
	ok(c.cpu_user + c.cpu_system >= u.cpu_user + u.cpu_system &&
	           c.rss_peak >= ((uint64_t)8 << 20),
	   "the CPU-only read: CPU time and peak RSS (%.6f s >= %.6f, %llu)",
	   c.cpu_user + c.cpu_system, u.cpu_user + u.cpu_system,
	   (unsigned long long)c.rss_peak);
	ok(c.rss == 0 && c.vsize == 0 && c.open_fds == 0 && c.max_fds == 0 &&
	           c.start_time == 0,
	   "and nothing from /proc");
	free((void *)p);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
