/*
 * Logging as text or JSON lines.
 */
#include "sluice/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sluice/diag.h"

/** Longest line written; longer messages are cut and marked. */
#define LOG_LINE_MAX 8192

/** Current level; lines above it are skipped. */
static enum sl_log_level log_level = SL_LOG_INFO;
/** Current format. */
static enum sl_log_format log_format = SL_LOG_TEXT;
/** Destination; NULL means stderr. */
static FILE *log_out;
/** Name of the running task on this thread, or NULL. */
static _Thread_local const char *log_task;

static const char *const level_names[] = {"error", "warn", "info", "debug",
                                          "trace"};

int
sl_log_level_parse(const char *s, enum sl_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum sl_log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = SL_LOG_WARN;
		return 0;
	}
	return -1;
}

int
sl_log_init(void)
{
	int rc = 0;
	const char *lv = getenv("SLUICE_LOG_LEVEL");
	if (lv != NULL && *lv != '\0') {
		enum sl_log_level l;
		if (sl_log_level_parse(lv, &l) == 0) {
			log_level = l;
		} else {
			sl_diag_set(
			        SL_EINVAL,
			        "SLUICE_LOG_LEVEL=%s: expected one of error, "
			        "warn, info, debug, trace",
			        lv);
			rc = -1;
		}
	}
	const char *fmt = getenv("SLUICE_LOG_FORMAT");
	if (fmt != NULL && *fmt != '\0') {
		if (strcasecmp(fmt, "text") == 0) {
			log_format = SL_LOG_TEXT;
		} else if (strcasecmp(fmt, "json") == 0) {
			log_format = SL_LOG_JSON;
		} else {
			sl_diag_set(
			        SL_EINVAL,
			        "SLUICE_LOG_FORMAT=%s: expected text or json",
			        fmt);
			rc = -1;
		}
	}
	return rc;
}

void
sl_log_set_level(enum sl_log_level level)
{
	log_level = level;
}

enum sl_log_level
sl_log_get_level(void)
{
	return log_level;
}

void
sl_log_set_format(enum sl_log_format format)
{
	log_format = format;
}

void
sl_log_set_output(FILE *f)
{
	log_out = f;
}

void
sl_log_set_task_name(const char *name)
{
	log_task = name;
}

int
sl_log_enabled(enum sl_log_level level)
{
	return level <= log_level;
}

/** A line under construction in a fixed buffer; overflow truncates. */
struct line {
	/** The bytes. */
	char buf[LOG_LINE_MAX];
	/** Bytes used. */
	size_t len;
	/** Whether something did not fit. */
	int truncated;
};

/** Append `n` bytes, keeping room for the truncation mark and newline. */
static void
line_put(struct line *l, const char *s, size_t n)
{
	size_t room = sizeof(l->buf) - 32 - l->len;
	if (n > room) {
		n = room;
		l->truncated = 1;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/** Append a string as the inside of a JSON string literal. */
static void
line_put_json(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[6];
		switch (*p) {
		case '"':
			line_put(l, "\\\"", 2);
			break;
		case '\\':
			line_put(l, "\\\\", 2);
			break;
		case '\n':
			line_put(l, "\\n", 2);
			break;
		case '\r':
			line_put(l, "\\r", 2);
			break;
		case '\t':
			line_put(l, "\\t", 2);
			break;
		default:
			if (*p < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 15];
				line_put(l, esc, 6);
			} else {
				line_put(l, (const char *)p, 1);
			}
		}
		if (l->truncated)
			return;
	}
}

/** Append a string. */
static void
line_puts(struct line *l, const char *s)
{
	line_put(l, s, strlen(s));
}

size_t
sl_time_utc(const struct timespec *ts, int frac, char *out, size_t size)
{
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	long part = frac == 3 ? ts->tv_nsec / 1000000 : ts->tv_nsec / 1000;
	int k = snprintf(out + n, size - n, ".%0*ldZ", frac == 3 ? 3 : 6, part);
	return k > 0 && (size_t)k < size - n ? n + (size_t)k : strlen(out);
}

/** Current UTC time as 2026-11-21T10:00:00.123Z. */
static void
format_time(char *out, size_t size)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	(void)sl_time_utc(&ts, 3, out, size);
}

void
sl_log_vwrite(enum sl_log_level level, const char *file, int line_no,
              const char *fmt, va_list ap)
{
	if (!sl_log_enabled(level))
		return;
	char msg[LOG_LINE_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	int msg_cut = n >= (int)sizeof(msg);
	char ts[40];
	format_time(ts, sizeof(ts));
	const char *task = log_task != NULL ? log_task : "main";
	const char *base = strrchr(file, '/');
	base = base != NULL ? base + 1 : file;

	struct line l = {.len = 0, .truncated = 0};
	if (log_format == SL_LOG_JSON) {
		char where[32];
		line_puts(&l, "{\"ts\":\"");
		line_puts(&l, ts);
		line_puts(&l, "\",\"level\":\"");
		line_puts(&l, level_names[level]);
		line_puts(&l, "\",\"task\":\"");
		line_put_json(&l, task);
		line_puts(&l, "\",\"src\":\"");
		line_put_json(&l, base);
		snprintf(where, sizeof(where), ":%d", line_no);
		line_puts(&l, where);
		line_puts(&l, "\",\"msg\":\"");
		line_put_json(&l, msg);
		if (l.truncated || msg_cut)
			line_puts(&l, "...");
		l.len = l.len > sizeof(l.buf) - 8 ? sizeof(l.buf) - 8 : l.len;
		memcpy(l.buf + l.len, "\"}\n", 3);
		l.len += 3;
	} else {
		char head[128];
		int h = snprintf(head, sizeof(head), "%s %-5s [%s] ", ts,
		                 level_names[level], task);
		line_put(&l, head, h > 0 ? (size_t)h : 0);
		line_puts(&l, msg);
		if (l.truncated || msg_cut)
			memcpy(l.buf + l.len, "...", 3), l.len += 3;
		l.buf[l.len++] = '\n';
	}
	FILE *out = log_out != NULL ? log_out : stderr;
	fwrite(l.buf, 1, l.len, out);
	fflush(out);
}

void
sl_log_write(enum sl_log_level level, const char *file, int line,
             const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sl_log_vwrite(level, file, line, fmt, ap);
	va_end(ap);
}
