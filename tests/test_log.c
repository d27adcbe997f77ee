/*
 * Logging: levels, SLUICE_LOG_LEVEL / SLUICE_LOG_FORMAT, text and JSON
 * lines, escaping, the task name.
 */
#include <stdlib.h>

#include "sluice/log.h"
#include "sluice/task.h"
#include "unit.h"

/** Captured output of the last capture_end(). */
static char captured[16384];
/** The capture file. */
static FILE *cap;

/** Start capturing log output. */
static void
capture_begin(void)
{
	cap = tmpfile();
	sl_log_set_output(cap);
}

/** Stop capturing; the text is in `captured`. */
static void
capture_end(void)
{
	size_t n = (size_t)ftell(cap);
	rewind(cap);
	n = fread(captured, 1,
	          n < sizeof(captured) - 1 ? n : sizeof(captured) - 1, cap);
	captured[n] = '\0';
	fclose(cap);
	sl_log_set_output(NULL);
}

/** Number of lines in `s`. */
static int
count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/** Logs from inside a task. */
static int
task_logs(void *arg)
{
	(void)arg;
	sl_log_info("inside a task");
	return 0;
}

/** Log levels, text and JSON lines, task names, cut lines and timestamps. */
TAP_CASE(log)
{
	unsetenv("SLUICE_LOG_LEVEL");
	unsetenv("SLUICE_LOG_FORMAT");
	ok(sl_log_init() == 0, "init with no variables");
	is_int(sl_log_get_level(), SL_LOG_INFO, "default level is info");

	capture_begin();
	sl_log_debug("hidden %d", 1);
	sl_log_info("shown %d", 2);
	sl_log_error("shown %d", 3);
	capture_end();
	is_int(count_lines(captured), 2, "debug is filtered at info level");
	ok(strstr(captured, "info  [main] shown 2") != NULL,
	   "text line has level, task and message: %s", captured);
	ok(captured[4] == '-' && captured[10] == 'T' &&
	           strstr(captured, "Z info") != NULL,
	   "text line starts with an ISO-8601 UTC timestamp");

	setenv("SLUICE_LOG_LEVEL", "debug", 1);
	setenv("SLUICE_LOG_FORMAT", "json", 1);
	ok(sl_log_init() == 0, "init with valid variables");
	is_int(sl_log_get_level(), SL_LOG_DEBUG, "SLUICE_LOG_LEVEL is read");
	capture_begin();
	sl_log_debug("quote \" backslash \\ newline \n tab \t bell \a end");
	capture_end();
	ok(strncmp(captured, "{\"ts\":\"", 7) == 0, "JSON line: %s", captured);
	ok(strstr(captured, "\"level\":\"debug\"") != NULL, "has the level");
	ok(strstr(captured, "\"task\":\"main\"") != NULL, "has the task");
	ok(strstr(captured, "\"src\":\"test_log.c:") != NULL, "has the source");
	ok(strstr(captured, "quote \\\" backslash \\\\ newline \\n tab \\t "
	                    "bell \\u0007 end\"}\n") != NULL,
	   "message is escaped");
	is_int(count_lines(captured), 1, "one physical line");

	setenv("SLUICE_LOG_LEVEL", "loud", 1);
	ok(sl_log_init() == -1, "an unknown level is refused");
	is_err(SL_EINVAL, "with EINVAL");
	ok(strstr(unit_errmsg(), "SLUICE_LOG_LEVEL=loud") != NULL &&
	           strstr(unit_errmsg(), "error, warn, info, debug, trace") !=
	                   NULL,
	   "naming the variable and the accepted values: %s", unit_errmsg());
	is_int(sl_log_get_level(), SL_LOG_DEBUG, "the level stays as it was");
	setenv("SLUICE_LOG_LEVEL", "WARNING", 1);
	setenv("SLUICE_LOG_FORMAT", "xml", 1);
	ok(sl_log_init() == -1, "an unknown format is refused");
	is_int(sl_log_get_level(), SL_LOG_WARN, "WARNING is an alias of warn");

	sl_log_set_format(SL_LOG_TEXT);
	sl_log_set_level(SL_LOG_INFO);
	struct sl_loop *loop = sl_loop_new(NULL);
	capture_begin();
	sl_loop_run_main(loop, "logger-task", task_logs, NULL);
	capture_end();
	sl_loop_delete(loop);
	ok(strstr(captured, "[logger-task] inside a task") != NULL,
	   "a line logged in a task names the task: %s", captured);

	char huge[20000];
	memset(huge, 'y', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	capture_begin();
	sl_log_info("%s", huge);
	capture_end();
	ok(count_lines(captured) == 1 && strlen(captured) <= 8192 &&
	           strstr(captured, "...\n") != NULL,
	   "an oversized message is cut and marked (%zu bytes)",
	   strlen(captured));
	/* The timestamp text that log lines, ingestions and TTL cutoffs
	 * share. */
	struct timespec ts = {.tv_sec = 1795255200, .tv_nsec = 123456789};
	char t[64];
	is_int((long)sl_time_utc(&ts, 6, t, sizeof(t)), 27, "27 bytes");
	is_str(t, "2026-11-21T10:00:00.123456Z", "UTC with microseconds");
	sl_time_utc(&ts, 3, t, sizeof(t));
	is_str(t, "2026-11-21T10:00:00.123Z", "or milliseconds");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
