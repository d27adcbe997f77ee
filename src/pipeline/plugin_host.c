/*
 * sluice: the plugin host (see plugin_host.h and sluice/plugin.h).
 */
#include "plugin_host.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/batch.h"
#include "sluice/buf.h"
#include "sluice/conf.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/registry.h"
#include "sluice/step.h"

/** Longest message a plugin's h->error() or h->skip() keeps. */
#define PLUGIN_MSG_MAX 400
/** Memory cap of a plugin step's values made in one callback. */
#define STEP_SCRATCH_CAP SL_RECORD_MEM_MAX
/** Memory cap of a plugin step's origin names. */
#define STEP_ORIGINS_CAP ((size_t)16 << 20)

/** A loaded plugin. */
struct plugin {
	/** The table the plugin gets (first, so that `h` finds the plugin). */
	struct sl_plugin_host host;
	/** The dlopen handle (never closed). */
	void *dl;
	/** The shared object's real path (malloc'd). */
	char *path;
	/** What the plugin says about itself (in the shared object). */
	const struct sl_plugin_info *info;
	/** Its name, copied ("?" if it gave none). */
	char name[64];
	/** "name version (path)" for logs. */
	char desc[PATH_MAX + 160];
	/** Memory of `config`. */
	struct sl_arena mem;
	/** Its configuration (an object, or null). */
	struct sl_value config;
	/** Whether sluice_plugin_init is running (registration allowed). */
	bool initializing;
};

/**
 * The context of one call into a plugin. Built on the caller's stack for
 * a provider or normalizer call; a step keeps its own.
 */
struct sl_plugin_ctx {
	/** The plugin called. */
	struct plugin *pl;
	/** What is called, for messages ("step sample:Countdown (drain)"). */
	const char *what;
	/** Where values are made. */
	struct sl_arena *a;
	/** The step called (NULL outside a step). */
	struct pstep *step;
	/** Where a step's records go (NULL where it may not emit). */
	struct sl_emit *out;
};

/** A plugin's step type as the registry sees it. */
struct pstep_type {
	/** The plugin's description of it. */
	const struct sl_plugin_step *t;
	/** The plugin. */
	struct plugin *pl;
	/** The registry's names: the plugin's name, NULL. */
	const char *names[2];
	/** The registry's entry. */
	struct sl_step_type type;
	/** The ops of its steps. */
	struct sl_step_ops ops;
};

/** A step of a plugin's type. */
struct pstep {
	/** The common part (first). */
	struct sl_step base;
	/** The type. */
	const struct pstep_type *pt;
	/** The plugin's state of this step. */
	void *state;
	/** Values the plugin makes in a callback; reset after each. */
	struct sl_arena scratch;
	/** Names given to set_origin (they must outlive the run). */
	struct sl_arena origins;
	/** The last name given to set_origin (in `origins`), or NULL. */
	const char *origin;
	/** The context of its calls. */
	struct sl_plugin_ctx cx;
	/** "step NAME (callback)" texts, by callback. */
	char what[5][128];
};

/** A plugin's value provider. */
struct sl_plugin_prov {
	/** The plugin's description of it. */
	const struct sl_plugin_provider *p;
	/** The plugin. */
	struct plugin *pl;
	/** "provider !tag" for messages. */
	char what[96];
	/** "plugin 'NAME'". */
	char owner[80];
};

/** A plugin's normalizer. */
struct pnorm {
	/** The plugin's description of it. */
	const struct sl_plugin_normalizer *n;
	/** The plugin. */
	struct plugin *pl;
	/** "normalizer NAME" for messages. */
	char what[96];
};

/** A plugin's graph target. */
struct sl_plugin_target_kind {
	/** The plugin's description of it. */
	const struct sl_plugin_target *t;
	/** The plugin. */
	struct plugin *pl;
	/** "plugin 'NAME' target SCHEME". */
	char name[128];
	/** "target SCHEME (open)", ... by call, for messages. */
	char what[3][96];
};

/** Registered graph targets. */
static struct sl_plugin_target_kind targets[SL_PLUGIN_TARGETS_MAX];
/** Number of `targets`. */
static size_t n_targets;

/** Loaded plugins, in load order. */
static struct plugin *plugins[SL_PLUGINS_MAX];
/** Number of `plugins`. */
static size_t n_plugins;
/** Registered step types. */
static struct pstep_type *step_types[SL_REGISTRY_MAX];
/** Number of `step_types`. */
static size_t n_step_types;
/** Registered providers. */
static struct sl_plugin_prov provs[SL_PLUGIN_PROVIDERS_MAX];
/** Number of `provs`. */
static size_t n_provs;
/** Registered normalizers. */
static struct pnorm norms[SL_PLUGIN_NORMALIZERS_MAX];
/** Number of `norms`. */
static int n_norms;

/**
 * The plugin call running on this thread, or NULL: what the crash
 * handler names. Cleared while a step's emit suspends the task.
 */
static _Thread_local const struct sl_plugin_ctx *active;

/* --- crash reporting ---------------------------------------------------- */

/** The signals a crash dies of. */
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
/** Their names, in the same order. */
static const char *const crash_names[] = {"SIGSEGV", "SIGBUS", "SIGFPE",
                                          "SIGILL", "SIGABRT"};
/** Number of crash signals. */
#define N_CRASH (sizeof(crash_signals) / sizeof(crash_signals[0]))
/** The dispositions before ours, put back when a crash signal arrives. */
static struct sigaction crash_prev[N_CRASH];
/** Whether the handler is installed. */
static bool crash_installed;

/** Append `s` to `p`, not past `end` (async-signal-safe). */
static char *
put_str(char *p, char *end, const char *s)
{
	while (s != NULL && *s != '\0' && p < end)
		*p++ = *s++;
	return p;
}

/**
 * A crash signal: name the plugin call running on this thread, if any,
 * then let the previous disposition (the runtime's stack-overflow report,
 * a sanitizer's, or the default) have the signal. Only async-signal-safe
 * calls: nothing can be flushed or printed through stdio here.
 */
static void
crash_handler(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	size_t k = 0;
	while (k < N_CRASH && crash_signals[k] != sig)
		k++;
	if (k == N_CRASH)
		return;
	const struct sl_plugin_ctx *cx = active;
	if (cx != NULL) {
		char msg[512];
		char *end = msg + sizeof(msg) - 2;
		char *p = put_str(msg, end, "sluice: plugin '");
		p = put_str(p, end, cx->pl->name);
		p = put_str(p, end, "' crashed (");
		p = put_str(p, end, crash_names[k]);
		p = put_str(p, end, ") in ");
		p = put_str(p, end, cx->what);
		p = put_str(p, end,
		            "; what the writers committed before stays "
		            "committed, what they held is lost "
		            "(docs/plugins.md)");
		*p++ = '\n';
		ssize_t w = write(STDERR_FILENO, msg, (size_t)(p - msg));
		(void)w;
		sl_pipeline_crash_report(STDERR_FILENO);
	}
	sigaction(sig, &crash_prev[k], NULL);
	/* A fault runs again on return, under the previous disposition; a
	 * signal that was sent (kill, raise, abort) is sent again. */
	if (si == NULL || si->si_code <= 0 || sig == SIGABRT)
		raise(sig);
}

/** Install the crash handler once (on the first plugin load). */
static void
crash_install(void)
{
	if (crash_installed)
		return;
	crash_installed = true;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = crash_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < N_CRASH; k++)
		sigaction(crash_signals[k], &sa, &crash_prev[k]);
}

/* --- calling into a plugin ---------------------------------------------- */

/** A call into a plugin, between enter() and leave(). */
struct call {
	/** The call active before (a plugin calling back into sluice that
	 * calls a plugin). */
	const struct sl_plugin_ctx *prev;
	/** The error current before the call, set aside meanwhile. */
	struct sl_diag keep;
};

/**
 * Start a call into a plugin: mark it active for the crash handler, and
 * set the current error aside, so that the plugin's error is its own and
 * an error from before (a finish after a failure) survives the call.
 */
static void
enter(struct call *c, const struct sl_plugin_ctx *cx)
{
	c->prev = active;
	sl_diag_stash(&c->keep);
	active = cx;
}

/** Whether `code` is a stop of the run rather than a failure. */
static bool
is_stop(enum sl_errcode code)
{
	return code == SL_EDROPPED || code == SL_ECANCELLED ||
	       code == SL_EABORTED;
}

/**
 * End a call into a plugin that returned `rc`: 0 with the error from
 * before the call current again, or -1 with the plugin's error named
 * after the plugin and the call (a stop is passed on as it is).
 */
static int
leave(struct call *c, const struct sl_plugin_ctx *cx, int rc)
{
	active = c->prev;
	if (rc == 0) {
		sl_diag_restore(&c->keep);
		return 0;
	}
	sl_diag_destroy(&c->keep);
	enum sl_errcode code = sl_diag_code();
	if (code == SL_EOK)
		sl_diag_set(SL_EINVAL,
		            "plugin '%s': %s failed without saying why (it "
		            "returned %d and did not call h->error())",
		            cx->pl->name, cx->what, rc);
	else if (!is_stop(code))
		sl_diag_wrap(code, "plugin '%s': %s", cx->pl->name, cx->what);
	return -1;
}

/* --- the host table: errors and logs ------------------------------------ */

/** The plugin a host table belongs to. */
static struct plugin *
plugin_of(const struct sl_plugin_host *h)
{
	return (struct plugin *)(void *)h;
}

/** h->error(). */
static int
host_error(const struct sl_plugin_host *h, const char *fmt, ...)
{
	(void)h;
	char msg[PLUGIN_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt != NULL ? fmt : "(no message)", ap);
	va_end(ap);
	sl_diag_set(SL_EINVAL, "%s", msg);
	return -1;
}

/** h->skip(). */
static void
host_skip(struct sl_plugin_ctx *cx, const char *fmt, ...)
{
	char msg[PLUGIN_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt != NULL ? fmt : "(no reason)", ap);
	va_end(ap);
	if (cx == NULL || cx->step == NULL || cx->out == NULL) {
		sl_log_warn("plugin '%s': h->skip() outside a step's process: "
		            "%s",
		            cx != NULL ? cx->pl->name : "?", msg);
		return;
	}
	const struct sl_origin *o = sl_emit_origin(cx->out);
	if (o != NULL && o->src != NULL)
		sl_diag_set(SL_EINVAL, "%s:%llu: plugin '%s': %s", o->src,
		            (unsigned long long)o->line, cx->pl->name, msg);
	else
		sl_diag_set(SL_EINVAL, "plugin '%s': %s", cx->pl->name, msg);
	sl_step_skip(&cx->step->base);
}

/** h->log(). */
static void
host_log(const struct sl_plugin_host *h, enum sl_plugin_log_level lv,
         const char *fmt, ...)
{
	enum sl_log_level level = lv == SL_PLUGIN_LOG_ERROR  ? SL_LOG_ERROR
	                          : lv == SL_PLUGIN_LOG_WARN ? SL_LOG_WARN
	                          : lv == SL_PLUGIN_LOG_INFO ? SL_LOG_INFO
	                                                     : SL_LOG_DEBUG;
	if (!sl_log_enabled(level))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt != NULL ? fmt : "", ap);
	va_end(ap);
	sl_log_write(level, __FILE__, __LINE__, "plugin '%s': %s",
	             plugin_of(h)->name, msg);
}

/* --- the host table: reading values ------------------------------------- */

/** The value behind a plugin's handle (NULL reads as null). */
static const struct sl_value *
val(const sl_pval *v)
{
	static const struct sl_value null_value = {.type = SL_VNULL};
	return v != NULL ? (const struct sl_value *)(const void *)v
	                 : &null_value;
}

/** The handle of a value. */
static const sl_pval *
pval(const struct sl_value *v)
{
	return (const sl_pval *)(const void *)v;
}

/** h->type(). */
static enum sl_pval_type
host_type(const sl_pval *pv)
{
	struct sl_value v = sl_value_number(*val(pv));
	switch (v.type) {
	case SL_VBOOL:
		return SL_PVAL_BOOL;
	case SL_VINT:
		return SL_PVAL_INT;
	case SL_VDOUBLE:
		return SL_PVAL_FLOAT;
	case SL_VSTR:
		return SL_PVAL_STRING;
	case SL_VARRAY:
		return SL_PVAL_ARRAY;
	case SL_VOBJECT:
		return SL_PVAL_OBJECT;
	default:
		return SL_PVAL_NULL;
	}
}

/** h->as_bool(). */
static bool
host_as_bool(const sl_pval *pv)
{
	const struct sl_value *v = val(pv);
	return v->type == SL_VBOOL && v->u.b;
}

/** h->as_int(). */
static int
host_as_int(const sl_pval *pv, int64_t *out)
{
	struct sl_value v = sl_value_number(*val(pv));
	if (v.type == SL_VINT) {
		*out = v.u.i;
		return 0;
	}
	if (v.type == SL_VDOUBLE && v.u.d == floor(v.u.d) &&
	    v.u.d >= -9223372036854775808.0 && v.u.d < 9223372036854775808.0) {
		*out = (int64_t)v.u.d;
		return 0;
	}
	return -1;
}

/** h->as_float(). */
static int
host_as_float(const sl_pval *pv, double *out)
{
	struct sl_value v = sl_value_number(*val(pv));
	if (v.type == SL_VINT) {
		*out = (double)v.u.i;
		return 0;
	}
	if (v.type == SL_VDOUBLE) {
		*out = v.u.d;
		return 0;
	}
	return -1;
}

/** h->as_string(). */
static const char *
host_as_string(const sl_pval *pv, size_t *len)
{
	const struct sl_value *v = val(pv);
	if (v->type != SL_VSTR)
		return NULL;
	if (len != NULL)
		*len = v->len;
	/* A non-NULL pointer for the empty string too. */
	return v->len > 0 ? v->u.s : "";
}

/** h->length(). */
static size_t
host_length(const sl_pval *pv)
{
	const struct sl_value *v = val(pv);
	return v->type == SL_VARRAY || v->type == SL_VOBJECT ? v->len : 0;
}

/** h->item(). */
static const sl_pval *
host_item(const sl_pval *pv, size_t i)
{
	const struct sl_value *v = val(pv);
	if (v->type == SL_VARRAY && i < v->len)
		return pval(&v->u.items[i]);
	if (v->type == SL_VOBJECT && i < v->len)
		return pval(&v->u.members[i].val);
	return NULL;
}

/** h->key(). */
static const char *
host_key(const sl_pval *pv, size_t i, size_t *len)
{
	const struct sl_value *v = val(pv);
	if (v->type != SL_VOBJECT || i >= v->len)
		return NULL;
	if (len != NULL)
		*len = v->u.members[i].key_len;
	return v->u.members[i].key;
}

/** h->field(). */
static const sl_pval *
host_field(const sl_pval *pv, const char *name)
{
	if (name == NULL)
		return NULL;
	return pval(sl_object_get(val(pv), name, strlen(name)));
}

/* --- the host table: making values -------------------------------------- */

/** A new value slot in `cx`'s memory holding `v`, or NULL. */
static const sl_pval *
make(struct sl_plugin_ctx *cx, struct sl_value v)
{
	if (cx == NULL || cx->a == NULL) {
		sl_diag_set(SL_EINVAL, "a value made without a context");
		return NULL;
	}
	struct sl_value *slot = sl_arena_alloc_aligned(
	        cx->a, sizeof(*slot), _Alignof(struct sl_value));
	if (slot == NULL)
		return NULL;
	*slot = v;
	return pval(slot);
}

/** h->make_null(). */
static const sl_pval *
host_make_null(struct sl_plugin_ctx *cx)
{
	return make(cx, sl_null());
}

/** h->make_bool(). */
static const sl_pval *
host_make_bool(struct sl_plugin_ctx *cx, bool b)
{
	return make(cx, sl_bool(b));
}

/** h->make_int(). */
static const sl_pval *
host_make_int(struct sl_plugin_ctx *cx, int64_t i)
{
	return make(cx, sl_int(i));
}

/** h->make_float(). */
static const sl_pval *
host_make_float(struct sl_plugin_ctx *cx, double d)
{
	return make(cx, sl_double(d));
}

/** h->make_string(). */
static const sl_pval *
host_make_string(struct sl_plugin_ctx *cx, const char *s, size_t len)
{
	struct sl_value v;
	if (cx == NULL || cx->a == NULL || (s == NULL && len > 0)) {
		sl_diag_set(SL_EINVAL, "make_string: no context or no text");
		return NULL;
	}
	if (sl_str_copy(cx->a, s != NULL ? s : "", len, &v) != 0)
		return NULL;
	return make(cx, v);
}

/** h->make_array(). */
static const sl_pval *
host_make_array(struct sl_plugin_ctx *cx, const sl_pval *const *items, size_t n)
{
	if (cx == NULL || cx->a == NULL || (items == NULL && n > 0) ||
	    n > SL_VALUE_LEN_MAX) {
		sl_diag_set(SL_EINVAL, "make_array: no context or no items");
		return NULL;
	}
	struct sl_value *it = NULL;
	if (n > 0) {
		it = sl_arena_alloc_aligned(cx->a, n * sizeof(*it),
		                            _Alignof(struct sl_value));
		if (it == NULL)
			return NULL;
		for (size_t i = 0; i < n; i++)
			it[i] = *val(items[i]);
	}
	return make(cx, sl_array_ref(it, (uint32_t)n));
}

/** h->make_object(). */
static const sl_pval *
host_make_object(struct sl_plugin_ctx *cx, const char *const *keys,
                 const sl_pval *const *vals, size_t n)
{
	if (cx == NULL || cx->a == NULL ||
	    (n > 0 && (keys == NULL || vals == NULL)) || n > SL_VALUE_LEN_MAX) {
		sl_diag_set(SL_EINVAL, "make_object: no context, keys or "
		                       "values");
		return NULL;
	}
	struct sl_member *m = NULL;
	if (n > 0) {
		m = sl_arena_alloc_aligned(cx->a, n * sizeof(*m),
		                           _Alignof(struct sl_member));
		if (m == NULL)
			return NULL;
		for (size_t i = 0; i < n; i++) {
			if (keys[i] == NULL) {
				sl_diag_set(SL_EINVAL,
				            "make_object: key %zu is NULL", i);
				return NULL;
			}
			size_t kl = strlen(keys[i]);
			char *k = sl_arena_strndup(cx->a, keys[i], kl);
			if (k == NULL)
				return NULL;
			m[i].key = k;
			m[i].key_len = (uint32_t)kl;
			m[i].val = *val(vals[i]);
		}
	}
	return make(cx, sl_object_ref(m, (uint32_t)n));
}

/** h->to_json(). */
static const char *
host_to_json(struct sl_plugin_ctx *cx, const sl_pval *v, size_t *len)
{
	if (cx == NULL || cx->a == NULL) {
		sl_diag_set(SL_EINVAL, "to_json: no context");
		return NULL;
	}
	struct sl_buf b;
	sl_buf_create(&b, sl_arena_room(cx->a));
	char *text = NULL;
	if (sl_json_write(&b, val(v), 0) == 0)
		text = sl_arena_strndup(cx->a, b.data != NULL ? b.data : "",
		                        b.len);
	if (text != NULL && len != NULL)
		*len = b.len;
	sl_buf_destroy(&b);
	return text;
}

/** h->parse_json(). */
static const sl_pval *
host_parse_json(struct sl_plugin_ctx *cx, const char *s, size_t len)
{
	struct sl_value v;
	if (cx == NULL || cx->a == NULL || s == NULL) {
		sl_diag_set(SL_EINVAL, "parse_json: no context or no text");
		return NULL;
	}
	if (sl_json_parse(s, len, cx->a, NULL, NULL, &v) != 0)
		return NULL;
	return make(cx, v);
}

/* --- the host table: steps ---------------------------------------------- */

/** h->emit(). */
static int
host_emit(struct sl_plugin_ctx *cx, const sl_pval *rec)
{
	if (cx == NULL || cx->out == NULL) {
		sl_diag_set(SL_EINVAL, "h->emit() outside a step's process "
		                       "or drain");
		return -1;
	}
	/* The emit may suspend this task: another task's crash is not
	 * this plugin's. */
	const struct sl_plugin_ctx *was = active;
	active = NULL;
	int rc = sl_emit_copy(cx->out, val(rec));
	active = was;
	sl_arena_reset(cx->a);
	return rc;
}

/** h->set_origin(). */
static void
host_set_origin(struct sl_plugin_ctx *cx, const char *src, uint64_t line)
{
	if (cx == NULL || cx->out == NULL || cx->step == NULL)
		return;
	struct pstep *ps = cx->step;
	if (src == NULL) {
		sl_emit_set_origin(cx->out, NULL, line);
		return;
	}
	if (ps->origin == NULL || strcmp(ps->origin, src) != 0) {
		const char *kept =
		        sl_arena_strndup(&ps->origins, src, strlen(src));
		/* Out of room for names: the records keep the step's. */
		ps->origin = kept != NULL ? kept : ps->base.name;
		sl_diag_clear(sl_diag_get());
	}
	sl_emit_set_origin(cx->out, ps->origin, line);
}

/* --- registration ------------------------------------------------------- */

/** Fail a registration outside sluice_plugin_init. */
static int
not_now(const struct plugin *pl, const char *what)
{
	sl_diag_set(SL_EINVAL,
	            "plugin '%s': %s is only possible in sluice_plugin_init",
	            pl->name, what);
	return -1;
}

/** The plugin step type of implementation name `name`, or NULL. */
static const struct pstep_type *
pstep_type_find(const char *name)
{
	for (size_t i = 0; i < n_step_types; i++)
		if (strcmp(step_types[i]->t->name, name) == 0)
			return step_types[i];
	return NULL;
}

/** Run one of a step's callbacks (`k` indexes pstep.what). */
static int
pstep_call(struct pstep *ps, int k, int (*fn)(void *, struct sl_plugin_ctx *),
           struct sl_emit *out)
{
	ps->cx.what = ps->what[k];
	ps->cx.out = out;
	struct call c;
	enter(&c, &ps->cx);
	int rc = fn(ps->state, &ps->cx);
	rc = leave(&c, &ps->cx, rc);
	ps->cx.out = NULL;
	sl_arena_reset(&ps->scratch);
	return rc;
}

/** sl_step_ops.start of a plugin step. */
static int
pstep_start(struct sl_step *s)
{
	struct pstep *ps = (struct pstep *)s;
	return ps->pt->t->start != NULL
	               ? pstep_call(ps, 0, ps->pt->t->start, NULL)
	               : 0;
}

/** sl_step_ops.process of a plugin step. */
static int
pstep_process(struct sl_step *s, const struct sl_value *rec,
              struct sl_emit *out)
{
	struct pstep *ps = (struct pstep *)s;
	ps->cx.what = ps->what[1];
	ps->cx.out = out;
	struct call c;
	enter(&c, &ps->cx);
	int rc = ps->pt->t->process(ps->state, pval(rec), &ps->cx);
	rc = leave(&c, &ps->cx, rc);
	ps->cx.out = NULL;
	sl_arena_reset(&ps->scratch);
	return rc == 0 ? 0 : sl_emit_fail(out);
}

/** sl_step_ops.drain of a plugin step. */
static int
pstep_drain(struct sl_step *s, struct sl_emit *out)
{
	struct pstep *ps = (struct pstep *)s;
	return pstep_call(ps, 2, ps->pt->t->drain, out);
}

/** sl_step_ops.finish of a plugin step. */
static int
pstep_finish(struct sl_step *s)
{
	struct pstep *ps = (struct pstep *)s;
	return pstep_call(ps, 3, ps->pt->t->finish, NULL);
}

/** sl_step_ops.destroy of a plugin step. */
static void
pstep_destroy(struct sl_step *s)
{
	struct pstep *ps = (struct pstep *)s;
	if (ps->pt->t->destroy != NULL && ps->state != NULL) {
		ps->cx.what = ps->what[4];
		const struct sl_plugin_ctx *prev = active;
		active = &ps->cx;
		ps->pt->t->destroy(ps->state);
		active = prev;
	}
	sl_arena_destroy(&ps->scratch);
	sl_arena_destroy(&ps->origins);
	sl_free(ps);
}

/** sl_step_type.create of every plugin step type. */
static struct sl_step *
pstep_create(const struct sl_stepdef *def)
{
	const struct pstep_type *pt = pstep_type_find(def->implementation);
	if (pt == NULL) {
		sl_diag_set(SL_EINVAL, "no plugin step type '%s'",
		            def->implementation);
		return NULL;
	}
	struct pstep *ps = sl_calloc(1, sizeof(*ps));
	if (ps == NULL) {
		sl_diag_set(SL_EOOM, "out of memory creating step %s",
		            pt->t->name);
		return NULL;
	}
	sl_step_init(&ps->base, &pt->ops);
	ps->pt = pt;
	sl_arena_create(&ps->scratch, 4096, STEP_SCRATCH_CAP);
	sl_arena_create(&ps->origins, 4096, STEP_ORIGINS_CAP);
	static const char *const cbs[] = {"start", "process", "drain", "finish",
	                                  "destroy"};
	for (int k = 0; k < 5; k++)
		snprintf(ps->what[k], sizeof(ps->what[k]), "step %s (%s)",
		         pt->t->name, cbs[k]);
	ps->cx.pl = pt->pl;
	ps->cx.a = &ps->scratch;
	ps->cx.step = ps;
	struct sl_value args = sl_null();
	if (def->arguments != NULL &&
	    sl_conf_to_value(def->arguments, &ps->scratch, "arguments",
	                     &args) != 0) {
		sl_step_delete(&ps->base);
		return NULL;
	}
	char what[160];
	snprintf(what, sizeof(what), "step %s (create)", pt->t->name);
	ps->cx.what = what;
	struct call c;
	enter(&c, &ps->cx);
	int rc = pt->t->create(pt->t->data, pval(&args), &ps->cx, &ps->state);
	rc = leave(&c, &ps->cx, rc);
	sl_arena_reset(&ps->scratch);
	ps->cx.what = ps->what[0];
	if (rc != 0) {
		if (def->node != NULL)
			sl_conf_place_error(def->node, NULL);
		sl_step_delete(&ps->base);
		return NULL;
	}
	return &ps->base;
}

/** h->add_step(). */
static int
host_add_step(const struct sl_plugin_host *h, const struct sl_plugin_step *t)
{
	struct plugin *pl = plugin_of(h);
	if (!pl->initializing)
		return not_now(pl, "add_step");
	if (t == NULL || t->name == NULL || t->name[0] == '\0' ||
	    t->create == NULL) {
		sl_diag_set(SL_EINVAL,
		            "plugin '%s': add_step: a step type "
		            "needs a name and create",
		            pl->name);
		return -1;
	}
	if (n_step_types == SL_REGISTRY_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "plugin '%s': add_step %s: more than %d "
		            "plugin step types",
		            pl->name, t->name, SL_REGISTRY_MAX);
		return -1;
	}
	struct pstep_type *pt = sl_calloc(1, sizeof(*pt));
	if (pt == NULL) {
		sl_diag_set(SL_EOOM, "out of memory");
		return -1;
	}
	pt->t = t;
	pt->pl = pl;
	pt->names[0] = t->name;
	pt->type.names = pt->names;
	pt->type.factory_optional = true;
	pt->type.create = pstep_create;
	pt->type.summary = t->summary != NULL ? t->summary : "(a plugin step)";
	pt->ops.type = t->name;
	pt->ops.start = t->start != NULL ? pstep_start : NULL;
	pt->ops.process = t->process != NULL ? pstep_process : NULL;
	pt->ops.drain = t->drain != NULL ? pstep_drain : NULL;
	pt->ops.finish = t->finish != NULL ? pstep_finish : NULL;
	pt->ops.destroy = pstep_destroy;
	if (sl_registry_add(&pt->type) != 0) {
		sl_diag_wrap(sl_diag_code(), "plugin '%s': add_step %s",
		             pl->name, t->name);
		sl_free(pt);
		return -1;
	}
	step_types[n_step_types++] = pt;
	return 0;
}

bool
sl_plugin_tag_known(const char *tag)
{
	return sl_plugin_prov_find(tag) != NULL;
}

const struct sl_plugin_prov *
sl_plugin_prov_find(const char *tag)
{
	if (tag == NULL)
		return NULL;
	for (size_t i = 0; i < n_provs; i++)
		if (strcmp(provs[i].p->tag, tag) == 0)
			return &provs[i];
	return NULL;
}

/** h->add_provider(). */
static int
host_add_provider(const struct sl_plugin_host *h,
                  const struct sl_plugin_provider *p)
{
	struct plugin *pl = plugin_of(h);
	if (!pl->initializing)
		return not_now(pl, "add_provider");
	if (p == NULL || p->tag == NULL || p->tag[0] != '!' ||
	    p->tag[1] == '\0' || p->eval == NULL) {
		sl_diag_set(SL_EINVAL,
		            "plugin '%s': add_provider: a provider "
		            "needs a tag starting with '!' and eval",
		            pl->name);
		return -1;
	}
	if (sl_conf_is_prov_tag(p->tag) || sl_plugin_prov_find(p->tag) ||
	    strcmp(p->tag, "!env") == 0 || strcmp(p->tag, "!config") == 0 ||
	    strcmp(p->tag, "!include") == 0 ||
	    strcmp(p->tag, "!delayed") == 0) {
		sl_diag_set(SL_EINVAL,
		            "plugin '%s': add_provider: the tag %s "
		            "is taken",
		            pl->name, p->tag);
		return -1;
	}
	if (n_provs == SL_PLUGIN_PROVIDERS_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "plugin '%s': add_provider %s: more than "
		            "%d plugin providers",
		            pl->name, p->tag, SL_PLUGIN_PROVIDERS_MAX);
		return -1;
	}
	struct sl_plugin_prov *e = &provs[n_provs++];
	e->p = p;
	e->pl = pl;
	snprintf(e->what, sizeof(e->what), "provider %s", p->tag);
	snprintf(e->owner, sizeof(e->owner), "plugin '%s'", pl->name);
	return 0;
}

const char *
sl_plugin_prov_owner(const struct sl_plugin_prov *p)
{
	return p->owner;
}

int
sl_plugin_prov_compile(const struct sl_plugin_prov *p,
                       const struct sl_value *args, const char *what,
                       void **state)
{
	*state = NULL;
	if (p->p->compile == NULL)
		return 0;
	struct sl_arena a;
	sl_arena_create(&a, 4096, SL_RECORD_MEM_MAX);
	char w[200];
	snprintf(w, sizeof(w), "%s (compile%s%s)", p->what,
	         what != NULL ? ", " : "", what != NULL ? what : "");
	struct sl_plugin_ctx cx = {.pl = p->pl, .what = w, .a = &a};
	struct call c;
	enter(&c, &cx);
	int rc = p->p->compile(p->p->data, pval(args), &cx, state);
	rc = leave(&c, &cx, rc);
	sl_arena_destroy(&a);
	return rc;
}

int
sl_plugin_prov_eval(const struct sl_plugin_prov *p, void *state,
                    const struct sl_value *args, const struct sl_value *doc,
                    struct sl_arena *a, struct sl_value *out)
{
	struct sl_plugin_ctx cx = {.pl = p->pl, .what = p->what, .a = a};
	const sl_pval *res = NULL;
	struct call c;
	enter(&c, &cx);
	int rc = p->p->eval(state, pval(args), pval(doc), &cx, &res);
	rc = leave(&c, &cx, rc);
	if (rc != 0)
		return -1;
	*out = *val(res);
	return 0;
}

void
sl_plugin_prov_destroy(const struct sl_plugin_prov *p, void *state)
{
	if (p->p->destroy == NULL || state == NULL)
		return;
	struct sl_plugin_ctx cx = {.pl = p->pl, .what = p->what};
	const struct sl_plugin_ctx *prev = active;
	active = &cx;
	p->p->destroy(state);
	active = prev;
}

int
sl_plugin_norm_find(const char *name, size_t n)
{
	for (int i = 0; i < n_norms; i++)
		if (strlen(norms[i].n->name) == n &&
		    memcmp(norms[i].n->name, name, n) == 0)
			return i;
	return -1;
}

const char *
sl_plugin_norm_name(int i)
{
	return i >= 0 && i < n_norms ? norms[i].n->name : "?";
}

int
sl_plugin_norm_count(void)
{
	return n_norms;
}

int
sl_plugin_norm_apply(int i, struct sl_value *v, struct sl_arena *a)
{
	if (v->type != SL_VSTR || i < 0 || i >= n_norms)
		return 0;
	const struct pnorm *pn = &norms[i];
	struct sl_plugin_ctx cx = {.pl = pn->pl, .what = pn->what, .a = a};
	const sl_pval *res = NULL;
	struct call c;
	enter(&c, &cx);
	int rc = pn->n->apply(pn->n->data, v->len > 0 ? v->u.s : "", v->len,
	                      &cx, &res);
	rc = leave(&c, &cx, rc);
	if (rc != 0)
		return -1;
	if (res != NULL)
		*v = *val(res);
	return 0;
}

/** h->add_normalizer(). */
static int
host_add_normalizer(const struct sl_plugin_host *h,
                    const struct sl_plugin_normalizer *n)
{
	struct plugin *pl = plugin_of(h);
	if (!pl->initializing)
		return not_now(pl, "add_normalizer");
	if (n == NULL || n->name == NULL || n->name[0] == '\0' ||
	    n->apply == NULL) {
		sl_diag_set(SL_EINVAL,
		            "plugin '%s': add_normalizer: a "
		            "normalizer needs a name and apply",
		            pl->name);
		return -1;
	}
	static const char *const builtin[] = {
	        "lowercase_strings", "uppercase_strings", "trim_whitespace",
	        "remove_trailing_dots"};
	bool taken = sl_plugin_norm_find(n->name, strlen(n->name)) >= 0;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		taken |= strcmp(builtin[i], n->name) == 0;
	if (taken) {
		sl_diag_set(SL_EINVAL,
		            "plugin '%s': add_normalizer: the name "
		            "%s is taken",
		            pl->name, n->name);
		return -1;
	}
	if (n_norms == SL_PLUGIN_NORMALIZERS_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "plugin '%s': add_normalizer %s: more "
		            "than %d plugin normalizers",
		            pl->name, n->name, SL_PLUGIN_NORMALIZERS_MAX);
		return -1;
	}
	struct pnorm *e = &norms[n_norms++];
	e->n = n;
	e->pl = pl;
	snprintf(e->what, sizeof(e->what), "normalizer %s", n->name);
	return 0;
}

/** h->add_target(). */
static int
host_add_target(const struct sl_plugin_host *h,
                const struct sl_plugin_target *t)
{
	struct plugin *pl = plugin_of(h);
	if (!pl->initializing)
		return not_now(pl, "add_target");
	if (t == NULL || t->scheme == NULL || strchr(t->scheme, ':') == NULL ||
	    t->scheme[0] == ':' || t->open == NULL || t->write == NULL ||
	    t->close == NULL) {
		sl_diag_set(SL_EINVAL,
		            "plugin '%s': add_target: a target "
		            "needs a scheme ending in ':' and open, "
		            "write and close",
		            pl->name);
		return -1;
	}
	static const char *const builtin[] = {
	        "sqlite:",    "postgresql:", "postgres:", "bolt:",
	        "bolt+s:",    "bolt+ssc:",   "neo4j:",    "neo4j+s:",
	        "neo4j+ssc:", "null:"};
	bool taken = sl_plugin_target_find(t->scheme) != NULL;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		taken |= strcmp(builtin[i], t->scheme) == 0;
	if (taken) {
		sl_diag_set(SL_EINVAL,
		            "plugin '%s': add_target: the scheme %s "
		            "is taken",
		            pl->name, t->scheme);
		return -1;
	}
	if (n_targets == SL_PLUGIN_TARGETS_MAX) {
		sl_diag_set(SL_ELIMIT,
		            "plugin '%s': add_target %s: more than "
		            "%d plugin targets",
		            pl->name, t->scheme, SL_PLUGIN_TARGETS_MAX);
		return -1;
	}
	struct sl_plugin_target_kind *k = &targets[n_targets++];
	k->t = t;
	k->pl = pl;
	snprintf(k->name, sizeof(k->name), "plugin '%s' target %s", pl->name,
	         t->scheme);
	static const char *const calls[] = {"open", "write", "close"};
	for (int i = 0; i < 3; i++)
		snprintf(k->what[i], sizeof(k->what[i]), "target %s (%s)",
		         t->scheme, calls[i]);
	return 0;
}

size_t
sl_plugin_target_count(void)
{
	return n_targets;
}

const struct sl_plugin_target_kind *
sl_plugin_target_at(size_t i)
{
	return i < n_targets ? &targets[i] : NULL;
}

const struct sl_plugin_target_kind *
sl_plugin_target_find(const char *uri)
{
	for (size_t i = 0; uri != NULL && i < n_targets; i++)
		if (strncmp(uri, targets[i].t->scheme,
		            strlen(targets[i].t->scheme)) == 0)
			return &targets[i];
	return NULL;
}

const char *
sl_plugin_target_scheme(const struct sl_plugin_target_kind *k)
{
	return k->t->scheme;
}

const char *
sl_plugin_target_usage(const struct sl_plugin_target_kind *k)
{
	return k->t->usage != NULL ? k->t->usage : k->t->scheme;
}

const char *
sl_plugin_target_name(const struct sl_plugin_target_kind *k)
{
	return k->name;
}

int
sl_plugin_target_open(const struct sl_plugin_target_kind *k, const char *uri,
                      void **store)
{
	struct sl_arena a;
	sl_arena_create(&a, 1024, SL_RECORD_MEM_MAX);
	struct sl_plugin_ctx cx = {.pl = k->pl, .what = k->what[0], .a = &a};
	struct call c;
	*store = NULL;
	enter(&c, &cx);
	int rc = k->t->open(k->t->data, uri, &cx, store);
	rc = leave(&c, &cx, rc);
	sl_arena_destroy(&a);
	return rc;
}

int
sl_plugin_target_write(const struct sl_plugin_target_kind *k, void *store,
                       const struct sl_value *nodes,
                       const struct sl_value *rels, struct sl_arena *a,
                       struct sl_plugin_write_counts *counts)
{
	memset(counts, 0, sizeof(*counts));
	struct sl_plugin_ctx cx = {.pl = k->pl, .what = k->what[1], .a = a};
	struct call c;
	enter(&c, &cx);
	int rc = k->t->write(store, pval(nodes), pval(rels), &cx, counts);
	return leave(&c, &cx, rc);
}

int
sl_plugin_target_close(const struct sl_plugin_target_kind *k, void *store)
{
	struct sl_arena a;
	sl_arena_create(&a, 1024, SL_RECORD_MEM_MAX);
	struct sl_plugin_ctx cx = {.pl = k->pl, .what = k->what[2], .a = &a};
	struct call c;
	enter(&c, &cx);
	int rc = k->t->close(store, &cx);
	rc = leave(&c, &cx, rc);
	sl_arena_destroy(&a);
	return rc;
}

/* --- loading ------------------------------------------------------------ */

size_t
sl_plugin_count(void)
{
	return n_plugins;
}

const char *
sl_plugin_describe(size_t i)
{
	return i < n_plugins ? plugins[i]->desc : NULL;
}

/** Fill `pl`'s function table. */
static void
host_init(struct plugin *pl)
{
	struct sl_plugin_host *h = &pl->host;
	h->abi_version = SL_PLUGIN_ABI_VERSION;
	h->host_size = sizeof(*h);
	h->plugin_name = pl->name;
	h->config = pval(&pl->config);
	h->add_step = host_add_step;
	h->add_provider = host_add_provider;
	h->add_normalizer = host_add_normalizer;
	h->add_target = host_add_target;
	h->error = host_error;
	h->skip = host_skip;
	h->log = host_log;
	h->type = host_type;
	h->as_bool = host_as_bool;
	h->as_int = host_as_int;
	h->as_float = host_as_float;
	h->as_string = host_as_string;
	h->length = host_length;
	h->item = host_item;
	h->key = host_key;
	h->field = host_field;
	h->make_null = host_make_null;
	h->make_bool = host_make_bool;
	h->make_int = host_make_int;
	h->make_float = host_make_float;
	h->make_string = host_make_string;
	h->make_array = host_make_array;
	h->make_object = host_make_object;
	h->to_json = host_to_json;
	h->parse_json = host_parse_json;
	h->emit = host_emit;
	h->set_origin = host_set_origin;
}

/** Refuse a shared object: close it and set the error. -1. */
static int refuse(void *dl, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int
refuse(void *dl, const char *fmt, ...)
{
	char msg[PATH_MAX + 512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (dl != NULL)
		dlclose(dl);
	sl_diag_set(SL_EINVAL, "%s", msg);
	return -1;
}

int
sl_plugin_load(const char *path, const char *from,
               const struct sl_value *config)
{
	char real[PATH_MAX];
	if (from == NULL)
		from = "--plugin";
	if (realpath(path, real) == NULL)
		return refuse(NULL, "%s: plugin %s: %s", from, path,
		              strerror(errno));
	for (size_t i = 0; i < n_plugins; i++)
		if (strcmp(plugins[i]->path, real) == 0)
			return 0;
	if (n_plugins == SL_PLUGINS_MAX)
		return refuse(NULL, "%s: plugin %s: more than %d plugins", from,
		              path, SL_PLUGINS_MAX);
	dlerror();
	void *dl = dlopen(real, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		const char *why = dlerror();
		return refuse(NULL, "%s: plugin %s: cannot load it: %s", from,
		              path, why != NULL ? why : "dlopen failed");
	}
	const struct sl_plugin_info *info = dlsym(dl, SL_PLUGIN_INFO_SYMBOL);
	if (info == NULL)
		return refuse(dl,
		              "%s: plugin %s is not a sluice plugin: it has "
		              "no symbol %s (declare it with "
		              "SL_PLUGIN_DECLARE() of sluice/plugin.h)",
		              from, path, SL_PLUGIN_INFO_SYMBOL);
	/* abi_version, info_size and name keep their places in every
	 * version, so that a mismatch can be named. */
	char name[64];
	snprintf(name, sizeof(name), "%s",
	         info->name != NULL && info->name[0] != '\0' ? info->name
	                                                     : "?");
	if (info->abi_version != SL_PLUGIN_ABI_VERSION)
		return refuse(dl,
		              "%s: plugin '%s' (%s) was built for sluice "
		              "plugin API version %u, and this sluice has "
		              "version %u: rebuild it against this sluice's "
		              "sluice/plugin.h",
		              from, name, path, info->abi_version,
		              SL_PLUGIN_ABI_VERSION);
	if (info->info_size < sizeof(*info))
		return refuse(dl,
		              "%s: plugin '%s' (%s): its sluice_plugin_info "
		              "has %u bytes, expected %zu (built with a broken "
		              "sluice/plugin.h?)",
		              from, name, path, info->info_size, sizeof(*info));
	sl_plugin_init_fn init;
	void *sym = dlsym(dl, SL_PLUGIN_INIT_SYMBOL);
	memcpy(&init, &sym, sizeof(init));
	if (sym == NULL)
		return refuse(dl,
		              "%s: plugin '%s' (%s) has no entry point %s "
		              "(export it with SL_PLUGIN_EXPORT)",
		              from, name, path, SL_PLUGIN_INIT_SYMBOL);
	for (size_t i = 0; i < n_plugins; i++)
		if (strcmp(plugins[i]->name, name) == 0)
			return refuse(dl,
			              "%s: plugin '%s' (%s) is loaded already "
			              "from %s",
			              from, name, path, plugins[i]->path);
	struct plugin *pl = sl_calloc(1, sizeof(*pl));
	char *kept = sl_malloc(strlen(real) + 1);
	if (pl == NULL || kept == NULL) {
		sl_free(pl);
		sl_free(kept);
		return refuse(dl, "out of memory loading plugin %s", path);
	}
	strcpy(kept, real);
	pl->dl = dl;
	pl->path = kept;
	pl->info = info;
	memcpy(pl->name, name, sizeof(name));
	snprintf(pl->desc, sizeof(pl->desc), "%s %s (%s)", name,
	         info->version != NULL ? info->version : "", real);
	sl_arena_create(&pl->mem, 4096, SL_RECORD_MEM_MAX);
	pl->config = sl_null();
	if (config != NULL &&
	    sl_value_copy(&pl->mem, config, &pl->config) != 0) {
		sl_diag_wrap(sl_diag_code(), "%s: plugin '%s': config", from,
		             name);
		sl_arena_destroy(&pl->mem);
		sl_free(kept);
		sl_free(pl);
		dlclose(dl);
		return -1;
	}
	host_init(pl);
	crash_install();
	/* From here on the plugin may have registered parts of itself, so
	 * it stays loaded even when its init fails (the run fails anyway). */
	plugins[n_plugins++] = pl;
	char what[PATH_MAX + 64];
	snprintf(what, sizeof(what), "sluice_plugin_init (%s)", path);
	struct sl_plugin_ctx cx = {.pl = pl, .what = what, .a = &pl->mem};
	pl->initializing = true;
	struct call c;
	enter(&c, &cx);
	int rc = init(&pl->host);
	rc = leave(&c, &cx, rc);
	pl->initializing = false;
	if (rc != 0) {
		sl_diag_wrap(sl_diag_code(), "%s", from);
		return -1;
	}
	sl_log_debug("loaded plugin %s", pl->desc);
	return 0;
}
