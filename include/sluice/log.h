/*
 * sluice: logging as text or JSON lines.
 *
 * The level comes from SLUICE_LOG_LEVEL (error, warn, info, debug, trace;
 * default info) and the format from SLUICE_LOG_FORMAT (text or json;
 * default text), read by sl_log_init(). Each line names the task that
 * logged it. Lines go to stderr unless sl_log_set_output() says otherwise.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Severity, most severe first. */
enum sl_log_level {
	SL_LOG_ERROR = 0, /**< a failure the user must see */
	SL_LOG_WARN,      /**< something went wrong but work goes on */
	SL_LOG_INFO,      /**< progress a user wants by default */
	SL_LOG_DEBUG,     /**< detail for developers */
	SL_LOG_TRACE,     /**< very verbose detail */
};

/** Output format. */
enum sl_log_format {
	SL_LOG_TEXT = 0, /**< "2026-11-21T10:00:00.123Z INFO [task] message" */
	SL_LOG_JSON, /**< {"ts":..,"level":..,"task":..,"msg":..} per line */
};

/**
 * Read SLUICE_LOG_LEVEL and SLUICE_LOG_FORMAT. Returns 0, or -1 with
 * SL_EINVAL naming the variable and its accepted values (the defaults then
 * stay in force).
 */
int sl_log_init(void);

/** Set the level; lines less severe than it are not written. */
void sl_log_set_level(enum sl_log_level level);

/** The current level. */
enum sl_log_level sl_log_get_level(void);

/** Set the output format. */
void sl_log_set_format(enum sl_log_format format);

/** Write to `f` instead of stderr (NULL restores stderr). */
void sl_log_set_output(FILE *f);

/** Parse a level name ("warn", "WARNING", ...). 0, or -1 if unknown. */
int sl_log_level_parse(const char *s, enum sl_log_level *out);

/**
 * Name reported as the "task" of lines logged from this thread. The runtime
 * points it at the running task's name on every switch.
 */
void sl_log_set_task_name(const char *name);

/** Whether a line at `level` would be written. */
int sl_log_enabled(enum sl_log_level level);

/** Write one line. Prefer the macros below. */
void sl_log_write(enum sl_log_level level, const char *file, int line,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** va_list form of sl_log_write(). */
void sl_log_vwrite(enum sl_log_level level, const char *file, int line,
                   const char *fmt, va_list ap);

#define SL_LOG(level, ...)                                                    \
	do {                                                                  \
		if (sl_log_enabled(level))                                    \
			sl_log_write(level, __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

#define sl_log_error(...) SL_LOG(SL_LOG_ERROR, __VA_ARGS__)
#define sl_log_warn(...)  SL_LOG(SL_LOG_WARN, __VA_ARGS__)
#define sl_log_info(...)  SL_LOG(SL_LOG_INFO, __VA_ARGS__)
#define sl_log_debug(...) SL_LOG(SL_LOG_DEBUG, __VA_ARGS__)
#define sl_log_trace(...) SL_LOG(SL_LOG_TRACE, __VA_ARGS__)

/**
 * Write `ts` as UTC ISO 8601 with `frac` (3 or 6) fraction digits and a
 * Z, e.g. 2026-11-21T10:00:00.123456Z, into `out` (at least 32 bytes).
 * Log lines, the interpreter's timestamps and TTL cutoffs all use it, so
 * timestamps compare as text. Returns the length.
 */
size_t sl_time_utc(const struct timespec *ts, int frac, char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_LOG_H */
