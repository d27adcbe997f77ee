/*
 * sluice: steps that pass records on unchanged: Nodestream's PassStep
 * (which takes any arguments and ignores them), PassTransformer (which
 * takes none), and LoggerWriter, which also logs every record.
 *
 * LoggerWriter takes Nodestream's `logger_name` (default "LoggerWriter")
 * and `level`: a Python level name (DEBUG, INFO, WARNING, WARN, ERROR,
 * CRITICAL, FATAL) or number (10, 20, 30, 40, 50; others round down to
 * the nearest of those, below 10 is DEBUG). CRITICAL logs as sluice's
 * ERROR. Each record is one line "LOGGER: JSON" (Nodestream prints
 * Python's repr of the record instead).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "builtins.h"
#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/log.h"

/** Longest logger name kept. */
#define LOGGER_NAME_MAX 128
/** Longest record logged whole (longer ones are cut, saying so). */
#define LOG_RECORD_MAX ((size_t)64 << 10)

/** A pass-through or logging step. */
struct pass_step {
	/** Common part. */
	struct sl_step base;
	/** Level records are logged at (LoggerWriter). */
	enum sl_log_level level;
	/** Logger name shown before each record (LoggerWriter). */
	char logger[LOGGER_NAME_MAX];
	/** Scratch for one record's JSON. */
	struct sl_buf line;
};

/** Pass a batch on unchanged. */
static int
pass_batch(struct sl_step *s, struct sl_batch *in, struct sl_emit *out)
{
	(void)s;
	return sl_emit_batch(out, in);
}

/** Log each record, then pass the batch on. */
static int
log_batch(struct sl_step *s, struct sl_batch *in, struct sl_emit *out)
{
	struct pass_step *p = (struct pass_step *)s;
	if (in->kind != SL_BATCH_FLUSH && sl_log_enabled(p->level)) {
		for (uint32_t i = 0; i < in->count; i++) {
			sl_buf_reset(&p->line);
			bool cut = sl_json_write(&p->line, &in->records[i],
			                         0) != 0;
			if (cut)
				sl_diag_clear(sl_diag_get());
			SL_LOG(p->level, "%s: %.*s%s", p->logger,
			       (int)(p->line.len < LOG_RECORD_MAX
			                     ? p->line.len
			                     : LOG_RECORD_MAX),
			       p->line.data != NULL ? p->line.data : "",
			       cut || p->line.len > LOG_RECORD_MAX
			               ? " ... (cut)"
			               : "");
		}
	}
	return sl_emit_batch(out, in);
}

/** Free a step. */
static void
pass_destroy(struct sl_step *s)
{
	struct pass_step *p = (struct pass_step *)s;
	sl_buf_destroy(&p->line);
	sl_free(p);
}

/** PassStep's callbacks. */
static const struct sl_step_ops pass_step_ops = {
        .type = "PassStep",
        .process_batch = pass_batch,
        .destroy = pass_destroy,
};

/** PassTransformer's callbacks. */
static const struct sl_step_ops pass_transformer_ops = {
        .type = "PassTransformer",
        .process_batch = pass_batch,
        .destroy = pass_destroy,
};

/** LoggerWriter's callbacks. */
static const struct sl_step_ops logger_ops = {
        .type = "LoggerWriter",
        .process_batch = log_batch,
        .destroy = pass_destroy,
};

/** A new step with callbacks `ops`, or NULL. */
static struct pass_step *
pass_new(const struct sl_step_ops *ops)
{
	struct pass_step *p = sl_calloc(1, sizeof(*p));
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a step");
		return NULL;
	}
	sl_step_init(&p->base, ops);
	sl_buf_create(&p->line, LOG_RECORD_MAX * 2);
	return p;
}

/** Build a PassStep: any arguments, all ignored (as Nodestream does). */
static struct sl_step *
pass_step_create(const struct sl_stepdef *def)
{
	(void)def;
	struct pass_step *p = pass_new(&pass_step_ops);
	return p != NULL ? &p->base : NULL;
}

/** Build a PassTransformer (no arguments). */
static struct sl_step *
pass_transformer_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {NULL};
	if (sl_args_check(def, keys) != 0)
		return NULL;
	struct pass_step *p = pass_new(&pass_transformer_ops);
	return p != NULL ? &p->base : NULL;
}

/**
 * Python's level `c` (a name or a number) as sluice's. 0, or -1 with an
 * error naming the argument.
 */
static int
parse_level(const struct sl_conf *c, enum sl_log_level *out)
{
	static const struct {
		const char *name;
		int num;
	} names[] = {{"CRITICAL", 50}, {"FATAL", 50}, {"ERROR", 40},
	             {"WARNING", 30},  {"WARN", 30},  {"INFO", 20},
	             {"DEBUG", 10},    {"NOTSET", 0}};
	int num = -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(c->text, names[i].name) == 0)
			num = names[i].num;
	if (num < 0) {
		char *end;
		long v = strtol(c->text, &end, 10);
		if (c->len == 0 || *end != '\0' || v < 0 || v > 1000) {
			sl_conf_error(
			        c, "level",
			        "expected a log level: DEBUG, INFO, "
			        "WARNING, ERROR, CRITICAL or a number, not "
			        "'%s'",
			        c->text);
			return -1;
		}
		num = (int)v;
	}
	*out = num >= 40   ? SL_LOG_ERROR
	       : num >= 30 ? SL_LOG_WARN
	       : num >= 20 ? SL_LOG_INFO
	                   : SL_LOG_DEBUG;
	return 0;
}

/** Build a LoggerWriter. */
static struct sl_step *
logger_create(const struct sl_stepdef *def)
{
	static const char *const keys[] = {"logger_name", "level", NULL};
	if (sl_args_check(def, keys) != 0)
		return NULL;
	const char *name;
	if (sl_args_str(def, "logger_name", "LoggerWriter", &name) != 0)
		return NULL;
	enum sl_log_level level = SL_LOG_INFO;
	const struct sl_conf *lv = sl_args_get(def, "level");
	if (lv != NULL && parse_level(lv, &level) != 0)
		return NULL;
	struct pass_step *p = pass_new(&logger_ops);
	if (p == NULL)
		return NULL;
	p->level = level;
	snprintf(p->logger, sizeof(p->logger), "%s", name);
	return &p->base;
}

/** Names of PassStep. */
static const char *const pass_step_names[] = {
        "pass", "nodestream.pipeline.step:PassStep", NULL};

/** Names of PassTransformer. */
static const char *const pass_transformer_names[] = {
        "pass_transformer",
        "nodestream.pipeline.transformers.transformer:PassTransformer", NULL};

/** Names of LoggerWriter. */
static const char *const logger_names[] = {
        "log", "nodestream.pipeline.writers:LoggerWriter", NULL};

const struct sl_step_type sl_builtin_pass = {
        .names = pass_step_names,
        .create = pass_step_create,
        .summary = "pass records on unchanged (Nodestream's PassStep: "
                   "arguments are ignored)",
};

const struct sl_step_type sl_builtin_pass_transformer = {
        .names = pass_transformer_names,
        .create = pass_transformer_create,
        .summary = "pass records on unchanged (Nodestream's "
                   "PassTransformer)",
};

const struct sl_step_type sl_builtin_log = {
        .names = logger_names,
        .create = logger_create,
        .summary = "log every record as JSON at `level` under "
                   "`logger_name`, and pass it on (Nodestream's "
                   "LoggerWriter)",
};
