/*
 * sluice: latency histograms, Prometheus text helpers and process usage
 * (see sluice/metrics.h).
 */
#include "sluice/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/smallfile.h"

const double sl_hist_bounds[SL_HIST_BUCKETS] = {
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
        0.25,  0.5,    1.0,   2.5,  5.0,   10.0, 60.0,
};

void
sl_hist_observe(struct sl_hist *h, double seconds)
{
	if (!(seconds > 0))
		seconds = 0;
	int i = 0;
	while (i < SL_HIST_BUCKETS && seconds > sl_hist_bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	uint64_t ns =
	        seconds < 1e9 ? (uint64_t)(seconds * 1e9) : UINT64_MAX / 2;
	atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

double
sl_hist_sum(const struct sl_hist *h)
{
	return (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) /
	       1e9;
}

uint64_t
sl_hist_count(const struct sl_hist *h)
{
	return atomic_load_explicit(&h->count, memory_order_relaxed);
}

int
sl_prom_label(struct sl_buf *b, const char *v)
{
	for (const char *p = v; *p != '\0'; p++) {
		int rc;
		if (*p == '\\')
			rc = sl_buf_puts(b, "\\\\");
		else if (*p == '"')
			rc = sl_buf_puts(b, "\\\"");
		else if (*p == '\n')
			rc = sl_buf_puts(b, "\\n");
		else
			rc = sl_buf_putc(b, *p);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
sl_prom_head(struct sl_buf *b, const char *name, const char *type,
             const char *help)
{
	return sl_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	                     name, type);
}

int
sl_prom_hist(struct sl_buf *b, const char *name, const char *labels,
             const struct sl_hist *h)
{
	/* The total first: the buckets read after it never exceed it by
	 * more than the observations in flight. */
	uint64_t cum = 0;
	const char *sep = labels[0] != '\0' ? "," : "";
	for (int i = 0; i <= SL_HIST_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->bucket[i],
		                            memory_order_relaxed);
		int rc;
		if (i < SL_HIST_BUCKETS)
			rc = sl_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n",
			                   name, labels, sep, sl_hist_bounds[i],
			                   (unsigned long long)cum);
		else
			rc = sl_buf_printf(
			        b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
			        labels, sep, (unsigned long long)cum);
		if (rc != 0)
			return -1;
	}
	const char *open = labels[0] != '\0' ? "{" : "";
	const char *close = labels[0] != '\0' ? "}" : "";
	return sl_buf_printf(b, "%s_sum%s%s%s %.9f\n%s_count%s%s%s %llu\n",
	                     name, open, labels, close, sl_hist_sum(h), name,
	                     open, labels, close, (unsigned long long)cum);
}

void
sl_prom_name(const char *in, char *out, size_t size)
{
	if (size == 0)
		return;
	size_t o = 0;
	if (in[0] >= '0' && in[0] <= '9' && o + 1 < size)
		out[o++] = '_';
	for (const char *p = in; *p != '\0' && o + 1 < size; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '_';
		out[o++] = ok ? c : '_';
	}
	out[o] = '\0';
}

/** The process's start time from /proc/self/stat, or 0. */
static double
start_time(long ticks)
{
	char buf[4096];
	if (sl_small_file_read("/proc/self/stat", buf, sizeof(buf)) <= 0 ||
	    ticks <= 0)
		return 0;
	/* The command name may hold spaces and parentheses: count fields
	 * from the last ')'. starttime is field 22, the 20th after it. */
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	p++;
	for (int field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return 0;
	unsigned long long since_boot = strtoull(p + 1, NULL, 10);
	/* Boot time: btime in /proc/stat. */
	char st[16384];
	if (sl_small_file_read("/proc/stat", st, sizeof(st)) <= 0)
		return 0;
	char *bt = strstr(st, "\nbtime ");
	if (bt == NULL)
		return 0;
	return (double)strtoull(bt + 7, NULL, 10) +
	       (double)since_boot / (double)ticks;
}

void
sl_proc_read_cpu(struct sl_proc_usage *u)
{
	memset(u, 0, sizeof(*u));
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		u->cpu_user = (double)ru.ru_utime.tv_sec +
		              (double)ru.ru_utime.tv_usec / 1e6;
		u->cpu_system = (double)ru.ru_stime.tv_sec +
		                (double)ru.ru_stime.tv_usec / 1e6;
		u->rss_peak = (uint64_t)ru.ru_maxrss * 1024;
	}
}

void
sl_proc_read(struct sl_proc_usage *u)
{
	sl_proc_read_cpu(u);
	long page = sysconf(_SC_PAGESIZE);
	char buf[256];
	unsigned long long size = 0, resident = 0;
	if (sl_small_file_read("/proc/self/statm", buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "%llu %llu", &size, &resident) == 2 && page > 0) {
		u->vsize = size * (uint64_t)page;
		u->rss = resident * (uint64_t)page;
	}
	if (u->rss > u->rss_peak)
		u->rss_peak = u->rss;
	DIR *d = opendir("/proc/self/fd");
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				u->open_fds++;
		closedir(d);
		/* The directory's own descriptor. */
		if (u->open_fds > 0)
			u->open_fds--;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		u->max_fds = (uint64_t)rl.rlim_cur;
	u->start_time = start_time(sysconf(_SC_CLK_TCK));
}
