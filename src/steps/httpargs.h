/*
 * sluice: the HTTP options steps share (internal to steps): request
 * headers, time limits and redirects, read from a mapping of a pipeline
 * file (a FileExtractor's http source, a SimpleApiExtractor's arguments).
 *
 *   headers:          {Name: value, ...}  (values never shown)
 *   connect_timeout:  seconds (default 30)
 *   stall_timeout:    seconds without a byte (default 60; 0: none)
 *   timeout:          seconds for a whole response (default: none)
 *   max_redirects:    redirects followed at most (default 10)
 */
#ifndef SLUICE_STEPS_HTTPARGS_H
#define SLUICE_STEPS_HTTPARGS_H

#include "sluice/conf.h"
#include "sluice/http.h"

/** Most request headers a step may set. */
#define SL_HTTP_ARGS_HEADERS_MAX 64

/** The keys sl_http_args_read() reads (for key checks). */
#define SL_HTTP_ARGS_KEYS                                         \
	"headers", "connect_timeout", "stall_timeout", "timeout", \
	        "max_redirects"

/** HTTP options read from a pipeline file. */
struct sl_http_args {
	/** The options; `opts.headers` points at `lines`. */
	struct sl_http_opts opts;
	/** "Name: value" lines, NULL-terminated (malloc'd), or NULL. */
	char **lines;
};

/**
 * Read the keys above from mapping `map` (keys absent keep their
 * defaults); `what` names the mapping in errors ("arguments",
 * "arguments.sources"). 0, or -1 with an error naming the key's place;
 * `a` then holds nothing. Destroy with sl_http_args_destroy().
 */
int sl_http_args_read(const struct sl_conf *map, const char *what,
                      struct sl_http_args *a);

/** Free what `a` holds. */
void sl_http_args_destroy(struct sl_http_args *a);

#endif /* SLUICE_STEPS_HTTPARGS_H */
