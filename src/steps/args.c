/*
 * sluice: reading the arguments of a step definition.
 */
#include "args.h"

#include <stdio.h>
#include <string.h>

#include "sluice/buf.h"
#include "sluice/diag.h"

/** "arguments.<key>" for messages. */
static const char *
arg_what(char *buf, size_t size, const char *key)
{
	snprintf(buf, size, "arguments.%s", key);
	return buf;
}

int
sl_args_check(const struct sl_stepdef *def, const char *const *known)
{
	return sl_conf_check_keys(def->arguments, known, "arguments",
	                          def->implementation);
}

const struct sl_conf *
sl_args_get(const struct sl_stepdef *def, const char *key)
{
	if (def->arguments == NULL)
		return NULL;
	const struct sl_conf *n = sl_conf_get(def->arguments, key);
	if (n == NULL || sl_conf_is_null(n))
		return NULL;
	return n;
}

int
sl_args_str(const struct sl_stepdef *def, const char *key, const char *dflt,
            const char **out)
{
	const struct sl_conf *n = sl_args_get(def, key);
	char what[128];
	if (n == NULL) {
		*out = dflt;
		return 0;
	}
	return sl_conf_str(n, arg_what(what, sizeof(what), key), out);
}

int
sl_args_int(const struct sl_stepdef *def, const char *key, int64_t dflt,
            int64_t *out)
{
	const struct sl_conf *n = sl_args_get(def, key);
	char what[128];
	if (n == NULL) {
		*out = dflt;
		return 0;
	}
	return sl_conf_int(n, arg_what(what, sizeof(what), key), out);
}

int
sl_args_bool(const struct sl_stepdef *def, const char *key, bool dflt,
             bool *out)
{
	const struct sl_conf *n = sl_args_get(def, key);
	char what[128];
	if (n == NULL) {
		*out = dflt;
		return 0;
	}
	return sl_conf_bool(n, arg_what(what, sizeof(what), key), out);
}

int
sl_args_reader(const struct sl_stepdef *def, struct sl_reader_opts *o,
               bool *skip_errors)
{
	const char *on_error, *delim;
	int64_t max;
	if (sl_args_str(def, "on_error", "skip", &on_error) != 0 ||
	    sl_args_str(def, "delimiter", ",", &delim) != 0 ||
	    sl_args_int(def, "max_record_size", (int64_t)o->record_max, &max) !=
	            0)
		return -1;
	if (strcmp(on_error, "fail") == 0) {
		*skip_errors = false;
	} else if (strcmp(on_error, "skip") == 0) {
		*skip_errors = true;
	} else {
		return sl_conf_error(
		        sl_args_get(def, "on_error"), "arguments.on_error",
		        "expected 'skip' or 'fail', got '%s'", on_error);
	}
	if (def->strict)
		*skip_errors = false;
	unsigned char d = (unsigned char)delim[0];
	if (strlen(delim) != 1 || d >= 0x80 || d == '"' || d == '\r' ||
	    d == '\n')
		return sl_conf_error(sl_args_get(def, "delimiter"),
		                     "arguments.delimiter",
		                     "expected one ASCII character other than "
		                     "a quote or a line break");
	if (max < 1 || (uint64_t)max > ((uint64_t)1 << 31))
		return sl_conf_error(
		        sl_args_get(def, "max_record_size"),
		        "arguments.max_record_size",
		        "expected a size in bytes from 1 to 2 GiB");
	o->csv_delimiter = (char)d;
	o->record_max = (size_t)max;
	return 0;
}

int
sl_args_amount(const struct sl_conf *n, const char *what, const char *unit,
               double *out)
{
	struct sl_value v;
	struct sl_arena a;
	sl_arena_create(&a, 256, 4096);
	int rc = sl_conf_to_value(n, &a, what, &v);
	if (rc == 0) {
		v = sl_value_number(v);
		if (v.type == SL_VINT)
			*out = (double)v.u.i;
		else if (v.type == SL_VDOUBLE)
			*out = v.u.d;
		else
			rc = -1;
		if (rc == 0 && !(*out >= 0 && *out <= 1e7))
			rc = -1;
		if (rc != 0)
			sl_conf_error(n, what, "expected a number of %s", unit);
	}
	sl_arena_destroy(&a);
	return rc;
}
