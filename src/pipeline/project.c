/*
 * Project files: load nodestream.yaml into a configuration tree, resolve
 * the load-time tags under `scopes` and `targets` with the pipeline-file
 * resolver (sl_conf_resolve_tags()), unwrap !delayed there, then check the
 * schema and flatten the scopes into one array of pipelines, each with its
 * effective targets and annotations and its scope's config as a value.
 *
 * Memory: strings and arrays live in the conf document (sl_conf_alloc()),
 * values (configs, annotations, target options) in the project's arena;
 * both go with sl_project_delete().
 */
#include "sluice/project.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/uri.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/objstore.h"
#include "sluice/s3.h"
#include "sluice/pipeline_file.h"

/** Byte cap of a project's value arena. */
#define PROJECT_ARENA_CAP ((size_t)256 << 20)
/** Deepest nesting the !delayed walk follows. */
#define DEPTH_MAX 600
/** Longest name sl_project_suggest() compares. */
#define SUGGEST_MAX 256

/** The keys of the project file. */
static const char *const top_keys[] = {
        "scopes", "targets", "plugins", "storage", "include_additional_types",
        NULL};
/** The keys of a scope. */
static const char *const scope_keys[] = {"config", "annotations", "targets",
                                         "pipelines", NULL};
/** The keys of a pipeline given as a mapping. */
static const char *const pipeline_keys[] = {
        "path", "name", "annotations", "targets", "exclude_inherited_targets",
        NULL};

/** The keys of `storage`. */
static const char *const storage_keys[] = {"stores", NULL};
/** The keys of a local store. */
static const char *const local_store_keys[] = {"name", "type", "hmac_key",
                                               "root", NULL};
/** The keys of a null store. */
static const char *const null_store_keys[] = {"name", "type", "hmac_key", NULL};
/**
 * The keys of an s3 store: Nodestream's bucket_name and the AWS session
 * arguments sluice takes (its S3 source's, docs/nodestream.md).
 */
static const char *const s3_store_keys[] = {"name",
                                            "type",
                                            "hmac_key",
                                            "bucket_name",
                                            "region_name",
                                            "endpoint_url",
                                            "profile_name",
                                            "session_ttl",
                                            "aws_access_key_id",
                                            "aws_secret_access_key",
                                            "aws_session_token",
                                            "assume_role_arn",
                                            "assume_role_external_id",
                                            "sts_endpoint_url",
                                            NULL};

/** The string options of an s3 store, in struct project_store's s3[]. */
static const char *const s3_store_opts[] = {"bucket_name",
                                            "region_name",
                                            "endpoint_url",
                                            "profile_name",
                                            "aws_access_key_id",
                                            "aws_secret_access_key",
                                            "aws_session_token",
                                            "assume_role_arn",
                                            "assume_role_external_id",
                                            "sts_endpoint_url",
                                            NULL};

/** One store of `storage.stores`, checked at load. */
struct project_store {
	/** Its name. */
	const char *name;
	/** Its type: "local", "null" or "s3". */
	const char *type;
	/** A local store's root, or NULL (the default). */
	const char *root;
	/**
	 * An s3 store's options, as s3_store_opts lists them (NULL: not
	 * given). The keys are secrets: never shown.
	 */
	const char *s3[10];
	/**
	 * The hmac_key (tags resolved), or NULL when absent, null or empty
	 * (Nodestream signs only with a non-empty key). A secret: never
	 * shown.
	 */
	const char *hmac_key;
	/**
	 * Whether hmac_key was written with a tag (!env ...) that resolved
	 * to null: the store cannot be made (it must not go unsigned).
	 */
	bool hmac_unset;
	/** The store's mapping node (its position). */
	const struct sl_conf *node;
	/** Its hmac_key node, or NULL. */
	const struct sl_conf *hmac_node;
};

/** The empty object (pipelines without annotations). */
static const struct sl_value empty_object = {.type = SL_VOBJECT};

/** A loaded project. */
struct sl_project {
	/** The path it was loaded from (in `doc`). */
	const char *path;
	/** The directory part of `path`, or NULL when it has none. */
	const char *dir;
	/** The document holding every node, string and array. */
	struct sl_conf_doc *doc;
	/** Values: scope configs, annotations, target options. */
	struct sl_arena arena;
	/** Every pipeline, in scope order then list order. */
	struct sl_project_pipeline *pipelines;
	/** Number of `pipelines`. */
	uint32_t n_pipelines;
	/** Every target, in file order. */
	struct sl_project_target *targets;
	/** Number of `targets`. */
	uint32_t n_targets;
	/** Scope names, in file order. */
	const char **scopes;
	/** Number of `scopes`. */
	uint32_t n_scopes;
	/** include_additional_types (false when absent or null). */
	bool include_additional_types;
	/** The stores of `storage.stores`, in file order. */
	struct project_store *stores;
	/** Number of `stores`. */
	uint32_t n_stores;
	/** The plugins of `plugins`, in file order. */
	struct sl_project_plugin *plugins;
	/** Number of `plugins`. */
	uint32_t n_plugins;
};

/** A copy of s[0..n) with a NUL in the project's document, or NULL. */
static char *
dup_text(struct sl_project *p, const char *s, size_t n)
{
	char *d = sl_conf_alloc(p->doc, n + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/** "a list", "a mapping", "null" or the scalar quoted (for messages). */
static const char *
got_text(const struct sl_conf *n, char *buf, size_t size)
{
	if (n->kind == SL_CONF_SEQ)
		return "a list";
	if (n->kind == SL_CONF_MAP)
		return "a mapping";
	if (n->tag != NULL && n->tag[0] == '!' && strcmp(n->tag, "!") != 0)
		snprintf(buf, size, "a %s value", n->tag);
	else if (sl_conf_is_null(n))
		return "null";
	else
		snprintf(buf, size, "'%.60s'", n->text);
	return buf;
}

/** Require a scalar that resolves to a string at `n`. */
static int
want_str(const struct sl_conf *n, const char *what, const char **out)
{
	if (sl_conf_is_str(n)) {
		*out = n->text;
		return 0;
	}
	char buf[96];
	return sl_conf_error(n, what, "expected a string, got %s",
	                     got_text(n, buf, sizeof(buf)));
}

/** Require a mapping (or null, giving 0 with *ok false) at `n`. */
static int
want_map(const struct sl_conf *n, const char *what, bool *ok)
{
	*ok = false;
	if (n == NULL || sl_conf_is_null(n))
		return 0;
	if (n->kind != SL_CONF_MAP) {
		char buf[96];
		return sl_conf_error(n, what, "expected a mapping, got %s",
		                     got_text(n, buf, sizeof(buf)));
	}
	*ok = true;
	return 0;
}

/** The slot holding the last value under `key` of mapping `map`, or NULL. */
static struct sl_conf **
slot_of(struct sl_conf *map, const char *key)
{
	for (uint32_t i = map->n; i-- > 0;) {
		const struct sl_conf *k = map->items[2 * i];
		if (k->kind == SL_CONF_SCALAR && strcmp(k->text, key) == 0)
			return &map->items[2 * i + 1];
	}
	return NULL;
}

/** Replace every `!delayed {value: X}` at or under `*slot` with X. */
static int
unwrap_delayed(struct sl_conf **slot, uint32_t depth)
{
	struct sl_conf *n = *slot;
	if (depth > DEPTH_MAX)
		return sl_conf_error(n, NULL, "options nest deeper than %d",
		                     DEPTH_MAX);
	if (n->tag != NULL && strcmp(n->tag, "!delayed") == 0) {
		struct sl_conf **v =
		        n->kind == SL_CONF_MAP ? slot_of(n, "value") : NULL;
		if (v == NULL)
			return sl_conf_error(n, "!delayed",
			                     "expected a mapping with a value");
		*slot = *v;
		return unwrap_delayed(slot, depth + 1);
	}
	if (n->kind == SL_CONF_SCALAR)
		return 0;
	bool map = n->kind == SL_CONF_MAP;
	uint32_t cnt = map ? 2 * n->n : n->n;
	for (uint32_t i = map ? 1 : 0; i < cnt; i += map ? 2 : 1)
		if (unwrap_delayed(&n->items[i], depth + 1) < 0)
			return -1;
	return 0;
}

/** Convert node `n` to a value allocated in the project's arena. */
static const struct sl_value *
to_value(struct sl_project *p, const struct sl_conf *n, const char *what)
{
	struct sl_value *v = sl_arena_alloc(&p->arena, sizeof(*v));
	if (v == NULL || sl_conf_to_value(n, &p->arena, what, v) < 0)
		return NULL;
	return v;
}

/** Load the `targets` mapping `t` (NULL: none). */
static int
load_targets(struct sl_project *p, struct sl_conf *t)
{
	bool is_map;
	if (want_map(t, "targets", &is_map) < 0)
		return -1;
	if (!is_map)
		return 0;
	p->targets = sl_conf_alloc(p->doc, t->n * sizeof(*p->targets) + 1);
	if (p->targets == NULL)
		return -1;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct sl_conf *k = t->items[2 * i];
		const char *name = NULL;
		if (want_str(k, "targets", &name) < 0)
			return -1;
		char what[320];
		snprintf(what, sizeof(what), "targets.%.256s", name);
		for (uint32_t j = 0; j < p->n_targets; j++)
			if (strcmp(p->targets[j].name, name) == 0)
				return sl_conf_error(k, what,
				                     "target '%s' is defined "
				                     "twice (first at "
				                     "line %u, column %u)",
				                     name,
				                     p->targets[j].node->line,
				                     p->targets[j].node->col);
		if (unwrap_delayed(&t->items[2 * i + 1], 1) < 0)
			return -1;
		struct sl_conf *v = t->items[2 * i + 1];
		if (v->kind != SL_CONF_MAP) {
			char buf[96];
			return sl_conf_error(v, what,
			                     "expected a mapping of connector "
			                     "options with a database, got %s",
			                     got_text(v, buf, sizeof(buf)));
		}
		struct sl_project_target *pt = &p->targets[p->n_targets];
		pt->name = name;
		pt->node = v;
		const struct sl_conf *db = sl_conf_get(v, "database");
		if (db == NULL)
			return sl_conf_error(
			        v, what,
			        "no database (e.g. database: neo4j, "
			        "sqlite or null)");
		char dwhat[340];
		snprintf(dwhat, sizeof(dwhat), "%s.database", what);
		if (db->kind == SL_CONF_SCALAR && db->tag == NULL &&
		    sl_conf_is_null(db) && db->plain && db->len > 0)
			pt->database = "null";
		else if (want_str(db, dwhat, &pt->database) < 0)
			return -1;
		if ((pt->options = to_value(p, v, what)) == NULL)
			return -1;
		p->n_targets++;
	}
	return 0;
}

/**
 * Read the list of target names `n` (NULL: none) into a new array in
 * *out (n_out names); each must be defined.
 */
static int
load_target_names(struct sl_project *p, const struct sl_conf *n,
                  const char *what, const char ***out, uint32_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (n == NULL || sl_conf_is_null(n))
		return 0;
	if (n->kind != SL_CONF_SEQ) {
		char buf[96];
		return sl_conf_error(n, what,
		                     "expected a list of target names, got %s",
		                     got_text(n, buf, sizeof(buf)));
	}
	const char **names = sl_conf_alloc(p->doc, n->n * sizeof(*names) + 1);
	if (names == NULL)
		return -1;
	for (uint32_t i = 0; i < n->n; i++) {
		if (want_str(n->items[i], what, &names[i]) < 0)
			return -1;
		if (sl_project_get_target(p, names[i]) != NULL)
			continue;
		const char *s = sl_project_suggest_target(p, names[i]);
		char hint[320] = "";
		if (s != NULL)
			snprintf(hint, sizeof(hint), "; did you mean '%.256s'?",
			         s);
		else if (p->n_targets == 0)
			snprintf(hint, sizeof(hint),
			         "; the project defines no targets");
		return sl_conf_error(n->items[i], what,
		                     "target '%s' is not defined under "
		                     "targets%s",
		                     names[i], hint);
	}
	*out = names;
	*n_out = n->n;
	return 0;
}

/** Read annotations mapping `n` (NULL: none) as an object of scalars. */
static int
load_annotations(struct sl_project *p, const struct sl_conf *n,
                 const char *what, const struct sl_value **out)
{
	*out = &empty_object;
	bool is_map;
	if (want_map(n, what, &is_map) < 0)
		return -1;
	if (!is_map)
		return 0;
	for (uint32_t i = 0; i < n->n; i++) {
		const struct sl_conf *k = n->items[2 * i];
		const struct sl_conf *v = n->items[2 * i + 1];
		const char *key = NULL;
		if (want_str(k, what, &key) < 0)
			return -1;
		char buf[96];
		if (v->kind != SL_CONF_SCALAR || sl_conf_is_null(v))
			return sl_conf_error(
			        v, what,
			        "annotation '%s': expected a "
			        "string, number or boolean, got %s",
			        key, got_text(v, buf, sizeof(buf)));
	}
	return (*out = to_value(p, n, what)) != NULL ? 0 : -1;
}

/**
 * Effective annotations, as Nodestream 0.16.1's
 * PipelineConfiguration.effective_annotations makes them: the scope's,
 * updated with the pipeline's `own` (on a shared key the pipeline's value
 * wins and keeps the scope's position; the pipeline's other keys follow),
 * in the project's arena.
 */
static const struct sl_value *
merge_annotations(struct sl_project *p, const struct sl_value *own,
                  const struct sl_value *scope)
{
	if (scope->len == 0)
		return own;
	if (own->len == 0)
		return scope;
	struct sl_member *m = sl_arena_alloc(
	        &p->arena, ((size_t)own->len + scope->len) * sizeof(*m));
	struct sl_value *v = sl_arena_alloc(&p->arena, sizeof(*v));
	if (m == NULL || v == NULL)
		return NULL;
	uint32_t n = 0;
	for (uint32_t i = 0; i < scope->len; i++)
		m[n++] = scope->u.members[i];
	for (uint32_t i = 0; i < own->len; i++) {
		const struct sl_member *s = &own->u.members[i];
		uint32_t j = 0;
		while (j < n && (m[j].key_len != s->key_len ||
		                 memcmp(m[j].key, s->key, s->key_len) != 0))
			j++;
		if (j == n)
			n++;
		m[j] = *s;
	}
	*v = sl_object_ref(m, n);
	return v;
}

/** The scope-level settings pipelines inherit. */
struct scope {
	/** The scope's name. */
	const char *name;
	/** Its config as an object, or NULL. */
	const struct sl_value *config;
	/** Its annotations (an object). */
	const struct sl_value *annotations;
	/** Its target names. */
	const char **targets;
	/** Number of `targets`. */
	uint32_t n_targets;
	/** Index of its first pipeline in the project's array. */
	uint32_t first;
};

/** Load item `i` of scope `sc`'s pipeline list (node `e`). */
static int
load_pipeline(struct sl_project *p, const struct scope *sc,
              const struct sl_conf *e, uint32_t i)
{
	char what[320];
	snprintf(what, sizeof(what), "scopes.%.200s.pipelines[%u]", sc->name,
	         i);
	struct sl_project_pipeline *pp = &p->pipelines[p->n_pipelines];
	memset(pp, 0, sizeof(*pp));
	pp->scope = sc->name;
	pp->node = e;
	pp->index = p->n_pipelines;
	const struct sl_conf *path = e, *name = NULL;
	const char **own = NULL;
	uint32_t n_own = 0;
	const struct sl_value *ann = &empty_object;
	char sub[360];
	if (e->kind == SL_CONF_MAP) {
		if (sl_conf_check_keys(e, pipeline_keys, what, "a pipeline") <
		    0)
			return -1;
		path = sl_conf_get(e, "path");
		if (path == NULL)
			return sl_conf_error(e, what, "no path");
		name = sl_conf_get(e, "name");
		snprintf(sub, sizeof(sub), "%s.annotations", what);
		if (load_annotations(p, sl_conf_get(e, "annotations"), sub,
		                     &ann) < 0)
			return -1;
		snprintf(sub, sizeof(sub), "%s.targets", what);
		if (load_target_names(p, sl_conf_get(e, "targets"), sub, &own,
		                      &n_own) < 0)
			return -1;
		const struct sl_conf *ex =
		        sl_conf_get(e, "exclude_inherited_targets");
		snprintf(sub, sizeof(sub), "%s.exclude_inherited_targets",
		         what);
		if (ex != NULL &&
		    sl_conf_bool(ex, sub, &pp->exclude_inherited_targets) < 0)
			return -1;
	} else if (e->kind != SL_CONF_SCALAR || !sl_conf_is_str(e)) {
		char buf[96];
		return sl_conf_error(e, what,
		                     "expected a pipeline path or a mapping "
		                     "with a path, got %s",
		                     got_text(e, buf, sizeof(buf)));
	}
	/* The path, resolved against the project file's directory. */
	snprintf(sub, sizeof(sub), "%s%s", what,
	         e->kind == SL_CONF_MAP ? ".path" : "");
	if (want_str(path, sub, &pp->file) < 0)
		return -1;
	if (pp->file[0] == '\0')
		return sl_conf_error(path, sub, "empty pipeline path");
	if (pp->file[0] == '/' || p->dir == NULL) {
		pp->path = pp->file;
	} else {
		size_t dl = strlen(p->dir), fl = strlen(pp->file);
		char *full = sl_conf_alloc(p->doc, dl + fl + 2);
		if (full == NULL)
			return -1;
		memcpy(full, p->dir, dl);
		full[dl] = '/';
		memcpy(full + dl + 1, pp->file, fl + 1);
		pp->path = full;
	}
	struct stat st;
	if (stat(pp->path, &st) != 0)
		return sl_conf_error(
		        path, sub,
		        errno == ENOENT ? "pipeline file %s does not "
		                          "exist%s%s%s"
		                        : "cannot access pipeline file "
		                          "%s%s%s%s",
		        pp->file, pp->path != pp->file ? " (looked for " : "",
		        pp->path != pp->file ? pp->path : "",
		        pp->path != pp->file ? ")" : "");
	if (S_ISDIR(st.st_mode))
		return sl_conf_error(path, sub, "%s is a directory", pp->path);
	/* The name: explicit, or the file's stem. */
	if (name != NULL) {
		snprintf(sub, sizeof(sub), "%s.name", what);
		if (want_str(name, sub, &pp->name) < 0)
			return -1;
		if (pp->name[0] == '\0')
			return sl_conf_error(name, sub, "empty pipeline name");
	} else {
		const char *base = strrchr(pp->file, '/');
		base = base != NULL ? base + 1 : pp->file;
		const char *dot = strrchr(base, '.');
		size_t len = dot != NULL && dot > base ? (size_t)(dot - base)
		                                       : strlen(base);
		if (len == 0)
			return sl_conf_error(
			        path, what,
			        "cannot name a pipeline after '%s'; "
			        "give it a name",
			        pp->file);
		if ((pp->name = dup_text(p, base, len)) == NULL)
			return -1;
	}
	for (uint32_t j = sc->first; j < p->n_pipelines; j++)
		if (strcmp(p->pipelines[j].name, pp->name) == 0)
			return sl_conf_error(
			        name != NULL ? name : e, what,
			        "pipeline name '%s' is already used in scope "
			        "'%s' (line %u, column %u)",
			        pp->name, sc->name, p->pipelines[j].node->line,
			        p->pipelines[j].node->col);
	/* Effective targets: its own, then the scope's, without repeats. */
	uint32_t n_inh = pp->exclude_inherited_targets ? 0 : sc->n_targets;
	const char **t =
	        sl_conf_alloc(p->doc, (n_own + n_inh) * sizeof(*t) + 1);
	if (t == NULL)
		return -1;
	for (uint32_t k = 0; k < n_own + n_inh; k++) {
		const char *nm = k < n_own ? own[k] : sc->targets[k - n_own];
		bool dup = false;
		for (uint32_t j = 0; j < pp->n_targets && !dup; j++)
			dup = strcmp(t[j], nm) == 0;
		if (!dup)
			t[pp->n_targets++] = nm;
	}
	pp->targets = t;
	pp->own_targets = own;
	pp->n_own_targets = n_own;
	pp->own_annotations = ann;
	if ((pp->annotations = merge_annotations(p, ann, sc->annotations)) ==
	    NULL)
		return -1;
	pp->config = sc->config;
	p->n_pipelines++;
	return 0;
}

/** Load the `scopes` mapping `s` (NULL: none). */
static int
load_scopes(struct sl_project *p, const struct sl_conf *s)
{
	bool is_map;
	if (want_map(s, "scopes", &is_map) < 0)
		return -1;
	if (!is_map)
		return 0;
	/* Shapes first, to size the array of pipelines. */
	size_t total = 0;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct sl_conf *k = s->items[2 * i];
		const struct sl_conf *v = s->items[2 * i + 1];
		const char *name = NULL;
		if (want_str(k, "scopes", &name) < 0)
			return -1;
		char what[320];
		snprintf(what, sizeof(what), "scopes.%.256s", name);
		if (want_map(v, what, &is_map) < 0)
			return -1;
		if (!is_map)
			continue;
		if (sl_conf_check_keys(v, scope_keys, what, "a scope") < 0)
			return -1;
		const struct sl_conf *pl = sl_conf_get(v, "pipelines");
		if (pl == NULL || sl_conf_is_null(pl))
			continue;
		if (pl->kind != SL_CONF_SEQ) {
			char buf[96];
			snprintf(what, sizeof(what), "scopes.%.256s.pipelines",
			         name);
			return sl_conf_error(
			        pl, what,
			        "expected a list of pipelines, got "
			        "%s",
			        got_text(pl, buf, sizeof(buf)));
		}
		total += pl->n;
	}
	p->pipelines = sl_conf_alloc(p->doc, total * sizeof(*p->pipelines) + 1);
	p->scopes = sl_conf_alloc(p->doc, s->n * sizeof(*p->scopes) + 1);
	if (p->pipelines == NULL || p->scopes == NULL)
		return -1;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct sl_conf *k = s->items[2 * i];
		const struct sl_conf *v = s->items[2 * i + 1];
		struct scope sc = {.name = k->text,
		                   .annotations = &empty_object,
		                   .first = p->n_pipelines};
		char what[320], sub[360];
		snprintf(what, sizeof(what), "scopes.%.256s", sc.name);
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(s->items[2 * j]->text, sc.name) == 0)
				return sl_conf_error(
				        k, what,
				        "scope '%s' is defined twice (first at "
				        "line %u, column %u)",
				        sc.name, s->items[2 * j]->line,
				        s->items[2 * j]->col);
		p->scopes[p->n_scopes++] = sc.name;
		if (sl_conf_is_null(v))
			continue;
		const struct sl_conf *cfg = sl_conf_get(v, "config");
		snprintf(sub, sizeof(sub), "%s.config", what);
		if (want_map(cfg, sub, &is_map) < 0)
			return -1;
		if (is_map && (sc.config = to_value(p, cfg, sub)) == NULL)
			return -1;
		snprintf(sub, sizeof(sub), "%s.annotations", what);
		if (load_annotations(p, sl_conf_get(v, "annotations"), sub,
		                     &sc.annotations) < 0)
			return -1;
		snprintf(sub, sizeof(sub), "%s.targets", what);
		if (load_target_names(p, sl_conf_get(v, "targets"), sub,
		                      &sc.targets, &sc.n_targets) < 0)
			return -1;
		const struct sl_conf *pl = sl_conf_get(v, "pipelines");
		if (pl == NULL || sl_conf_is_null(pl))
			continue;
		for (uint32_t j = 0; j < pl->n; j++)
			if (load_pipeline(p, &sc, pl->items[j], j) < 0)
				return -1;
	}
	return 0;
}

/** Whether `n` has a local tag (!env, !config, ...) as written. */
static bool
has_tag(const struct sl_conf *n)
{
	return n != NULL && n->tag != NULL && n->tag[0] == '!' &&
	       strcmp(n->tag, "!") != 0;
}

/**
 * Check store `n` (item `i` of storage.stores, tags resolved) into
 * p->stores; `tagged_hmac` says whether its hmac_key was written with a
 * tag before resolution.
 */
static int
load_store(struct sl_project *p, const struct sl_conf *n, uint32_t i,
           bool tagged_hmac)
{
	char what[320], sub[360];
	snprintf(what, sizeof(what), "storage.stores[%u]", i);
	if (n->kind != SL_CONF_MAP) {
		char buf[96];
		return sl_conf_error(n, what,
		                     "expected a mapping with a name and a "
		                     "type, got %s",
		                     got_text(n, buf, sizeof(buf)));
	}
	struct project_store *st = &p->stores[p->n_stores];
	memset(st, 0, sizeof(*st));
	st->node = n;
	const struct sl_conf *name = sl_conf_get(n, "name");
	const struct sl_conf *type = sl_conf_get(n, "type");
	if (name == NULL)
		return sl_conf_error(n, what, "no name");
	snprintf(sub, sizeof(sub), "%s.name", what);
	if (want_str(name, sub, &st->name) < 0)
		return -1;
	if (st->name[0] == '\0')
		return sl_conf_error(name, sub, "empty store name");
	for (uint32_t j = 0; j < p->n_stores; j++)
		if (strcmp(p->stores[j].name, st->name) == 0)
			return sl_conf_error(
			        name, sub,
			        "store '%s' is defined twice (first "
			        "at line %u, column %u)",
			        st->name, p->stores[j].node->line,
			        p->stores[j].node->col);
	snprintf(what, sizeof(what), "storage.stores[%u] (%.200s)", i,
	         st->name);
	if (type == NULL)
		return sl_conf_error(n, what, "no type (local, null or s3)");
	snprintf(sub, sizeof(sub), "%s.type", what);
	if (type->kind == SL_CONF_SCALAR && type->tag == NULL &&
	    sl_conf_is_null(type) && type->plain && type->len > 0)
		st->type = "null"; /* `type: null`, as for targets */
	else if (want_str(type, sub, &st->type) < 0)
		return -1;
	if (strcmp(st->type, "local") == 0) {
		if (sl_conf_check_keys(n, local_store_keys, what,
		                       "a local store") < 0)
			return -1;
		const struct sl_conf *root = sl_conf_get(n, "root");
		snprintf(sub, sizeof(sub), "%s.root", what);
		if (root != NULL && !sl_conf_is_null(root)) {
			if (want_str(root, sub, &st->root) < 0)
				return -1;
			if (st->root[0] == '\0' ||
			    strlen(st->root) != root->len)
				return sl_conf_error(
				        root, sub,
				        "expected a directory, got "
				        "%s",
				        st->root[0] == '\0' ? "an empty string"
				                            : "a NUL byte");
		}
	} else if (strcmp(st->type, "null") == 0) {
		if (sl_conf_check_keys(n, null_store_keys, what,
		                       "a null store") < 0)
			return -1;
	} else if (strcmp(st->type, "s3") == 0) {
		if (sl_conf_check_keys(n, s3_store_keys, what, "an s3 store") <
		    0)
			return -1;
		for (int k = 0; s3_store_opts[k] != NULL; k++) {
			const struct sl_conf *v =
			        sl_conf_get(n, s3_store_opts[k]);
			snprintf(sub, sizeof(sub), "%s.%s", what,
			         s3_store_opts[k]);
			if (v != NULL && !sl_conf_is_null(v) &&
			    want_str(v, sub, &st->s3[k]) < 0)
				return -1;
		}
		const char *role = st->s3[7];
		if (role != NULL && role[0] != '\0' &&
		    strncmp(role, "arn:", 4) != 0) {
			snprintf(sub, sizeof(sub), "%s.assume_role_arn", what);
			return sl_conf_error(
			        sl_conf_get(n, "assume_role_arn"), sub,
			        "expected a role ARN "
			        "(arn:aws:iam::ACCOUNT:role/NAME), "
			        "got '%.200s'",
			        role);
		}
		if (st->s3[0] == NULL || st->s3[0][0] == '\0')
			return sl_conf_error(n, what,
			                     "an s3 store needs bucket_name");
	} else {
		return sl_conf_error(type, sub,
		                     "unknown store type '%.200s'; the types "
		                     "are local, null and s3",
		                     st->type);
	}
	/* The key is a secret: no message quotes it. */
	const struct sl_conf *h = sl_conf_get(n, "hmac_key");
	snprintf(sub, sizeof(sub), "%s.hmac_key", what);
	st->hmac_node = h;
	if (h == NULL || sl_conf_is_null(h)) {
		st->hmac_unset = h != NULL && tagged_hmac;
	} else if (h->kind != SL_CONF_SCALAR || !sl_conf_is_str(h)) {
		return sl_conf_error(h, sub, "expected a base64 string, got %s",
		                     h->kind == SL_CONF_SCALAR
		                             ? "a scalar that is not a string"
		                             : sl_conf_kind_name(h->kind));
	} else if (h->len > 0) {
		if (strlen(h->text) != h->len)
			return sl_conf_error(h, sub,
			                     "the hmac_key holds a NUL byte");
		if (sl_objstore_check_hmac_key(h->text) < 0) {
			char msg[SL_ERROR_MSG_MAX];
			snprintf(msg, sizeof(msg), "%s", sl_diag_last()->msg);
			return sl_conf_error(h, sub, "%s", msg);
		}
		st->hmac_key = h->text;
	}
	p->n_stores++;
	return 0;
}

/**
 * Check `storage` (in *slot; NULL: none): resolve its tags, then check
 * every store (Nodestream's StorageConfiguration schema).
 */
static int
load_storage(struct sl_project *p, struct sl_conf **slot)
{
	if (slot == NULL)
		return 0;
	bool is_map;
	if (want_map(*slot, "storage", &is_map) < 0)
		return -1;
	if (!is_map)
		return 0;
	if (sl_conf_check_keys(*slot, storage_keys, "storage", "storage") < 0)
		return -1;
	struct sl_conf **stores = slot_of(*slot, "stores");
	if (stores == NULL || sl_conf_is_null(*stores))
		return 0;
	if ((*stores)->kind != SL_CONF_SEQ) {
		char buf[96];
		return sl_conf_error(*stores, "storage.stores",
		                     "expected a list of stores, got %s",
		                     got_text(*stores, buf, sizeof(buf)));
	}
	uint32_t n = (*stores)->n;
	bool *tagged = sl_conf_alloc(p->doc, n * sizeof(*tagged) + 1);
	p->stores = sl_conf_alloc(p->doc, n * sizeof(*p->stores) + 1);
	if (tagged == NULL || p->stores == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const struct sl_conf *it = (*stores)->items[i];
		tagged[i] = it->kind == SL_CONF_MAP &&
		            has_tag(sl_conf_get(it, "hmac_key"));
	}
	if (sl_conf_resolve_tags(p->doc, stores, NULL) < 0 ||
	    unwrap_delayed(stores, 1) < 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (load_store(p, (*stores)->items[i], i, tagged[i]) < 0)
			return -1;
	return 0;
}

/** Keys of a `plugins` entry: Nodestream's, then sluice's `path`. */
static const char *const plugin_keys[] = {
        "name", "config", "targets", "annotations", "pipelines", "path", NULL};

/**
 * Find plugin `name` as NAME.so or libNAME.so in the directories of
 * $SLUICE_PLUGIN_PATH (colon-separated), then in the project's `plugins/`
 * directory. The path (in the document), or NULL.
 */
static const char *
find_plugin(struct sl_project *p, const char *name)
{
	const char *env = getenv("SLUICE_PLUGIN_PATH");
	char dirs[4096];
	snprintf(dirs, sizeof(dirs), "%s%s%s%s", env != NULL ? env : "",
	         env != NULL && env[0] != '\0' ? ":" : "",
	         p->dir != NULL ? p->dir : ".", "/plugins");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d != NULL;
	     d = strtok_r(NULL, ":", &save)) {
		static const char *const forms[] = {"%s/%s.so", "%s/lib%s.so"};
		for (size_t k = 0; k < 2; k++) {
			char path[PATH_MAX];
			int w = snprintf(path, sizeof(path), forms[k], d, name);
			if (w > 0 && (size_t)w < sizeof(path) &&
			    access(path, F_OK) == 0)
				return dup_text(p, path, (size_t)w);
		}
	}
	return NULL;
}

/**
 * Load the `plugins` list (in *slot; NULL: none): each entry a mapping
 * with `name` (a string), and `path` (a string, against the project's
 * directory) or a name found by find_plugin(); `config` (tags resolved)
 * becomes the plugin's configuration. Nodestream's `targets`,
 * `annotations` and `pipelines` are accepted and unused.
 */
static int
load_plugins(struct sl_project *p, struct sl_conf **slot)
{
	char buf[96];
	if (slot == NULL || sl_conf_is_null(*slot))
		return 0;
	const struct sl_conf *list = *slot;
	if (list->kind != SL_CONF_SEQ)
		return sl_conf_error(list, "plugins", "expected a list, got %s",
		                     got_text(list, buf, sizeof(buf)));
	p->plugins = sl_conf_alloc(p->doc, list->n * sizeof(*p->plugins) + 1);
	if (p->plugins == NULL)
		return -1;
	for (uint32_t i = 0; i < list->n; i++) {
		struct sl_conf *it = list->items[i];
		char what[48];
		snprintf(what, sizeof(what), "plugins[%u]", i);
		if (it->kind != SL_CONF_MAP)
			return sl_conf_error(
			        it, what,
			        "expected a mapping with name (and "
			        "path, config), got %s",
			        got_text(it, buf, sizeof(buf)));
		if (sl_conf_check_keys(it, plugin_keys, what, "a plugin") < 0)
			return -1;
		struct sl_project_plugin *pl = &p->plugins[p->n_plugins];
		memset(pl, 0, sizeof(*pl));
		const struct sl_conf *name = sl_conf_get(it, "name");
		if (name == NULL)
			return sl_conf_error(it, what, "a plugin needs a name");
		if (sl_conf_str(name, what, &pl->name) < 0)
			return -1;
		struct sl_conf **cfg = slot_of(it, "config");
		if (cfg != NULL && !sl_conf_is_null(*cfg)) {
			if (sl_conf_resolve_tags(p->doc, cfg, NULL) < 0 ||
			    unwrap_delayed(cfg, 1) < 0)
				return -1;
			if ((*cfg)->kind != SL_CONF_MAP)
				return sl_conf_error(
				        *cfg, what,
				        "config: expected a mapping, got %s",
				        got_text(*cfg, buf, sizeof(buf)));
			if ((pl->config = to_value(p, *cfg, what)) == NULL)
				return -1;
		}
		int w = snprintf(buf, sizeof(buf), "%s:%u:%u", it->file,
		                 it->line, it->col);
		if ((pl->where = dup_text(p, buf, (size_t)(w > 0 ? w : 0))) ==
		    NULL)
			return -1;
		const struct sl_conf *path = sl_conf_get(it, "path");
		if (path != NULL && !sl_conf_is_null(path)) {
			const char *text;
			if (sl_conf_str(path, what, &text) < 0)
				return -1;
			bool rel = text[0] != '/' && p->dir != NULL;
			size_t dl = rel ? strlen(p->dir) + 1 : 0;
			size_t tl = strlen(text);
			char *full = sl_conf_alloc(p->doc, dl + tl + 1);
			if (full == NULL)
				return -1;
			if (rel) {
				memcpy(full, p->dir, dl - 1);
				full[dl - 1] = '/';
			}
			memcpy(full + dl, text, tl + 1);
			pl->path = full;
		} else {
			pl->path = find_plugin(p, pl->name);
		}
		p->n_plugins++;
	}
	return 0;
}

/** Check the keys the project keeps but does not use. */
static int
check_unused(struct sl_project *p, struct sl_conf *root)
{
	if (load_plugins(p, slot_of(root, "plugins")) < 0)
		return -1;
	const struct sl_conf *n = sl_conf_get(root, "include_additional_types");
	if (n != NULL && !sl_conf_is_null(n) &&
	    sl_conf_bool(n, "include_additional_types",
	                 &p->include_additional_types) < 0)
		return -1;
	return 0;
}

uint32_t
sl_project_n_plugins(const struct sl_project *p)
{
	return p->n_plugins;
}

const struct sl_project_plugin *
sl_project_plugin(const struct sl_project *p, uint32_t i)
{
	return i < p->n_plugins ? &p->plugins[i] : NULL;
}

bool
sl_project_include_additional_types(const struct sl_project *p)
{
	return p->include_additional_types;
}

struct sl_project *
sl_project_load(const char *path)
{
	struct sl_project *p = sl_calloc(1, sizeof(*p));
	if (p == NULL) {
		sl_diag_set(SL_EOOM, "out of memory loading %s", path);
		return NULL;
	}
	sl_arena_create(&p->arena, 4096, PROJECT_ARENA_CAP);
	if ((p->doc = sl_conf_doc_new()) == NULL)
		goto fail;
	struct sl_conf *root = sl_conf_doc_parse_file(p->doc, path);
	if (root == NULL)
		goto fail;
	char *copy = dup_text(p, path, strlen(path));
	if (copy == NULL)
		goto fail;
	p->path = copy;
	const char *slash = strrchr(copy, '/');
	if (slash != NULL &&
	    (p->dir = dup_text(p, copy, (size_t)(slash - copy))) == NULL)
		goto fail;
	if (sl_conf_is_null(root)) {
		sl_conf_error(root, NULL,
		              "empty project file (expected a mapping with "
		              "scopes and targets)");
		goto fail;
	}
	if (root->kind != SL_CONF_MAP) {
		char buf[96];
		sl_conf_error(root, NULL,
		              "expected a mapping with scopes and targets, got "
		              "%s",
		              got_text(root, buf, sizeof(buf)));
		goto fail;
	}
	if (sl_conf_check_keys(root, top_keys, NULL, "a project file") < 0 ||
	    check_unused(p, root) < 0 ||
	    load_storage(p, slot_of(root, "storage")) < 0)
		goto fail;
	struct sl_conf **targets = slot_of(root, "targets");
	struct sl_conf **scopes = slot_of(root, "scopes");
	if (targets != NULL && sl_conf_resolve_tags(p->doc, targets, NULL) < 0)
		goto fail;
	if (scopes != NULL && (sl_conf_resolve_tags(p->doc, scopes, NULL) < 0 ||
	                       unwrap_delayed(scopes, 1) < 0))
		goto fail;
	if (load_targets(p, targets != NULL ? *targets : NULL) < 0 ||
	    load_scopes(p, scopes != NULL ? *scopes : NULL) < 0)
		goto fail;
	return p;
fail:
	sl_project_delete(p);
	return NULL;
}

void
sl_project_delete(struct sl_project *p)
{
	if (p == NULL)
		return;
	sl_conf_doc_delete(p->doc);
	sl_arena_destroy(&p->arena);
	sl_free(p);
}

const char *
sl_project_path(const struct sl_project *p)
{
	return p->path;
}

uint32_t
sl_project_n_pipelines(const struct sl_project *p)
{
	return p->n_pipelines;
}

const struct sl_project_pipeline *
sl_project_pipeline(const struct sl_project *p, uint32_t i)
{
	return i < p->n_pipelines ? &p->pipelines[i] : NULL;
}

uint32_t
sl_project_find(const struct sl_project *p, const char *name,
                const struct sl_project_pipeline **out, uint32_t max)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < p->n_pipelines; i++)
		if (strcmp(p->pipelines[i].name, name) == 0) {
			if (n < max)
				out[n] = &p->pipelines[i];
			n++;
		}
	return n;
}

/** ASCII lower case of `c`. */
static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/**
 * Edit distance between a and b ignoring ASCII case (optimal string
 * alignment: a swap of adjacent characters is one edit); -1 if either is
 * longer than SUGGEST_MAX.
 */
static int
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return -1;
	int rows[3][SUGGEST_MAX + 1];
	int *pp = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned char ca = lower((unsigned char)a[i - 1]);
			unsigned char cb = lower((unsigned char)b[j - 1]);
			int d = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ca == lower((unsigned char)b[j - 2]) &&
			    lower((unsigned char)a[i - 2]) == cb &&
			    pp[j - 2] + 1 < d)
				d = pp[j - 2] + 1;
			cur[j] = d;
		}
		int *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/** Fold one candidate into the best suggestion so far. */
static void
consider(const char *name, const char *cand, const char **best, int *best_d)
{
	if (strcmp(name, cand) == 0) {
		if (*best_d != -2)
			*best = cand, *best_d = -2; /* exact: final */
		return;
	}
	if (*best_d == -2)
		return;
	int d = distance(name, cand);
	if (d < 0)
		return;
	size_t la = strlen(name), lb = strlen(cand);
	size_t lim = (la > lb ? la : lb) / 3;
	if ((size_t)d > (lim > 0 ? lim : 1))
		return;
	if (*best == NULL || d < *best_d)
		*best = cand, *best_d = d;
}

const char *
sl_project_suggest(const struct sl_project *p, const char *name)
{
	const char *best = NULL;
	int best_d = -1;
	for (uint32_t i = 0; i < p->n_pipelines; i++)
		consider(name, p->pipelines[i].name, &best, &best_d);
	return best;
}

bool
sl_project_has_scope(const struct sl_project *p, const char *name)
{
	for (uint32_t i = 0; i < p->n_scopes; i++)
		if (strcmp(p->scopes[i], name) == 0)
			return true;
	return false;
}

uint32_t
sl_project_n_targets(const struct sl_project *p)
{
	return p->n_targets;
}

const struct sl_project_target *
sl_project_target(const struct sl_project *p, uint32_t i)
{
	return i < p->n_targets ? &p->targets[i] : NULL;
}

const struct sl_project_target *
sl_project_get_target(const struct sl_project *p, const char *name)
{
	for (uint32_t i = 0; i < p->n_targets; i++)
		if (strcmp(p->targets[i].name, name) == 0)
			return &p->targets[i];
	return NULL;
}

const char *
sl_project_suggest_target(const struct sl_project *p, const char *name)
{
	const char *best = NULL;
	int best_d = -1;
	for (uint32_t i = 0; i < p->n_targets; i++)
		consider(name, p->targets[i].name, &best, &best_d);
	return best;
}

/** Whether `uri` starts with one of the NULL-terminated `schemes`. */
static bool
has_scheme(const char *uri, const char *const *schemes)
{
	for (size_t i = 0; schemes[i] != NULL; i++)
		if (strncmp(uri, schemes[i], strlen(schemes[i])) == 0)
			return true;
	return false;
}

/**
 * Read the target's positive integer option `key` into *out (0 when
 * absent); a string of digits (as !env gives) is taken too.
 */
static int
target_count(const struct sl_project_target *t, const char *what,
             const char *key, uint32_t *out)
{
	*out = 0;
	const struct sl_conf *n = sl_conf_get(t->node, key);
	if (n == NULL || sl_conf_is_null(n))
		return 0;
	char sub[360];
	snprintf(sub, sizeof(sub), "%s.%s", what, key);
	int64_t v = -1;
	if (n->kind == SL_CONF_SCALAR && sl_conf_is_str(n)) {
		char *end;
		errno = 0;
		long long x = strtoll(n->text, &end, 10);
		if (n->len > 0 && n->text[0] >= '0' && n->text[0] <= '9' &&
		    *end == '\0' && errno == 0)
			v = x;
	} else if (n->kind == SL_CONF_SCALAR && sl_conf_int(n, sub, &v) < 0) {
		return -1;
	}
	if (v <= 0 || v > UINT32_MAX) {
		char buf[96];
		return sl_conf_error(n, sub,
		                     "expected a positive integer, got %s",
		                     got_text(n, buf, sizeof(buf)));
	}
	*out = (uint32_t)v;
	return 0;
}

/** Require the target's string option `key`, else an error about `db`. */
static int
target_option(const struct sl_project_target *t, const char *what,
              const char *key, const char **out)
{
	const struct sl_conf *n = sl_conf_get(t->node, key);
	if (n == NULL || sl_conf_is_null(n))
		return sl_conf_error(t->node, what, "database %s needs a %s",
		                     t->database, key);
	char sub[360];
	snprintf(sub, sizeof(sub), "%s.%s", what, key);
	if (want_str(n, sub, out) < 0)
		return -1;
	if (**out == '\0')
		return sl_conf_error(n, sub, "empty %s", key);
	return 0;
}

/** Append `s` percent-encoded (all but unreserved characters). */
static int
put_encoded(struct sl_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		             (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		             c == '_' || c == '~';
		int rc = plain ? sl_buf_putc(b, (char)c)
		               : sl_buf_printf(b, "%%%c%c", hex[c >> 4],
		                               hex[c & 15]);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/** The target's optional string option `key` (NULL when absent). */
static int
target_str(const struct sl_project_target *t, const char *what, const char *key,
           const char **out)
{
	*out = NULL;
	const struct sl_conf *n = sl_conf_get(t->node, key);
	if (n == NULL || sl_conf_is_null(n))
		return 0;
	char sub[360];
	snprintf(sub, sizeof(sub), "%s.%s", what, key);
	return want_str(n, sub, out);
}

/** Most lanes (PostgreSQL) or connections (Neo4j) a store takes. */
#define FLUSH_LANES_MAX 16

/**
 * Say in one info line each which writer options of target `t` sluice
 * ignores: collect_stats and ingest_strategy_name always, and
 * flush_concurrency, username and password for a store without lanes or
 * credentials (sqlite, null).
 */
static void
note_ignored(const struct sl_project_target *t, const char *what, bool server)
{
	static const struct {
		/** The option. */
		const char *key;
		/** Whether postgresql and neo4j ignore it too. */
		bool server_too;
		/** Why sluice has no use for it. */
		const char *why;
	} opts[] = {
	        {"collect_stats", true,
	         "sluice always counts what it writes (the run's summary)"},
	        {"ingest_strategy_name", true,
	         "sluice has one way to write a store"},
	        {"flush_concurrency", false,
	         "this store writes in one lane (only postgresql and neo4j "
	         "targets have lanes)"},
	        {"username", false, "this store takes no credentials"},
	        {"password", false, "this store takes no credentials"},
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if ((!server || opts[i].server_too) &&
		    sl_conf_get(t->node, opts[i].key) != NULL)
			sl_log_info("%s.%s: ignored; %s", what, opts[i].key,
			            opts[i].why);
}

/**
 * The URI of a PostgreSQL (`neo4j` false) or Neo4j store for a target
 * with uri `u` into `b`: the username and password as the URI's user
 * information (percent-encoded; not when `u` has its own) and
 * flush_concurrency as the store's lanes (lanes=N, pg_store.h) or
 * connections (connections=N, neo4j_store.h), at most 16; for Neo4j also
 * database_name as the path (unless `u` has one), and chunk_size and
 * use_enterprise_features as the store's query parameters. Nodestream's
 * APOC options are accepted and ignored.
 */
static int
server_target_uri(const struct sl_project_target *t, const char *what,
                  const char *u, bool neo4j, struct sl_buf *b)
{
	static const char *const ignored[] = {
	        "use_apoc", "execute_chunks_in_parallel", "retries_per_chunk"};
	for (size_t i = 0; neo4j && i < sizeof(ignored) / sizeof(ignored[0]);
	     i++)
		if (sl_conf_get(t->node, ignored[i]) != NULL)
			sl_log_info(
			        "%s.%s: ignored; sluice writes Neo4j without "
			        "APOC, in client-side transactions",
			        what, ignored[i]);
	const char *user, *pass, *db = NULL;
	uint32_t chunk = 0, lanes;
	bool ent = false;
	const struct sl_conf *en =
	        neo4j ? sl_conf_get(t->node, "use_enterprise_features") : NULL;
	char sub[360];
	snprintf(sub, sizeof(sub), "%s.use_enterprise_features", what);
	if (target_str(t, what, "username", &user) < 0 ||
	    target_str(t, what, "password", &pass) < 0 ||
	    target_count(t, what, "flush_concurrency", &lanes) < 0 ||
	    (neo4j && target_str(t, what, "database_name", &db) < 0) ||
	    (neo4j && target_count(t, what, "chunk_size", &chunk) < 0) ||
	    (en != NULL && !sl_conf_is_null(en) &&
	     sl_conf_bool(en, sub, &ent) < 0))
		return -1;
	if (lanes > FLUSH_LANES_MAX) {
		sl_log_info("%s.flush_concurrency: %u lanes asked for; sluice "
		            "uses at most %d",
		            what, lanes, FLUSH_LANES_MAX);
		lanes = FLUSH_LANES_MAX;
	}
	const char *auth = strstr(u, "://") + 3;
	size_t alen = strcspn(auth, "/?#");
	bool has_user = memchr(auth, '@', alen) != NULL;
	const char *rest = auth + alen;
	bool has_path = rest[0] == '/' && rest[1] != '\0' && rest[1] != '?' &&
	                rest[1] != '#';
	int rc = sl_buf_append(b, u, (size_t)(auth - u));
	if (rc == 0 && user != NULL && !has_user) {
		rc = put_encoded(b, user);
		if (rc == 0 && pass != NULL)
			rc = sl_buf_putc(b, ':') || put_encoded(b, pass);
		rc = rc || sl_buf_putc(b, '@');
	}
	rc = rc || sl_buf_append(b, auth, alen);
	if (rc == 0 && db != NULL && !has_path) {
		if (rest[0] == '/')
			rest++;
		rc = sl_buf_putc(b, '/') || put_encoded(b, db);
	}
	size_t qlen = strcspn(rest, "#");
	rc = rc || sl_buf_append(b, rest, qlen);
	bool q = memchr(rest, '?', qlen) != NULL;
	if (rc == 0 && chunk > 0) {
		rc = sl_buf_printf(b, "%cchunk_size=%u", q ? '&' : '?', chunk);
		q = true;
	}
	if (rc == 0 && ent) {
		rc = sl_buf_printf(b, "%centerprise=true", q ? '&' : '?');
		q = true;
	}
	if (rc == 0 && lanes > 0)
		rc = sl_buf_printf(b, "%c%s=%u", q ? '&' : '?',
		                   neo4j ? "connections" : "lanes", lanes);
	rc = rc || sl_buf_puts(b, rest + qlen);
	if (rc != 0 && sl_diag_code() == SL_EOK)
		sl_diag_set(SL_EOOM, "out of memory");
	return rc ? -1 : 0;
}

int
sl_project_target_uri(const struct sl_project *p, const char *name, char *uri,
                      size_t size, uint32_t *batch_size)
{
	static const char *const pg_schemes[] = {"postgres://", "postgresql://",
	                                         NULL};
	static const char *const neo4j_schemes[] = {
	        "bolt://",    "bolt+s://",    "bolt+ssc://", "neo4j://",
	        "neo4j+s://", "neo4j+ssc://", NULL};
	const struct sl_project_target *t = sl_project_get_target(p, name);
	if (t == NULL) {
		const char *s = sl_project_suggest_target(p, name);
		if (s != NULL)
			sl_diag_set(SL_EINVAL,
			            "%s: no target '%s'; did you mean '%s'?",
			            p->path, name, s);
		else if (p->n_targets == 0)
			sl_diag_set(
			        SL_EINVAL,
			        "%s: no target '%s'; the project defines no "
			        "targets",
			        p->path, name);
		else
			sl_diag_set(SL_EINVAL, "%s: no target '%s'", p->path,
			            name);
		return -1;
	}
	char what[320];
	snprintf(what, sizeof(what), "targets.%.256s", t->name);
	uint32_t bs;
	if (target_count(t, what, "batch_size", &bs) < 0)
		return -1;
	const char *db = t->database, *opt = NULL, *prefix = "";
	char redacted[512];
	if (strcmp(db, "sqlite") == 0) {
		if (target_option(t, what, "path", &opt) < 0)
			return -1;
		prefix = "sqlite:";
	} else if (strcmp(db, "null") == 0) {
		prefix = "null:";
		opt = "";
	} else if (strcmp(db, "postgresql") == 0 ||
	           strcmp(db, "postgres") == 0 || strcmp(db, "neo4j") == 0) {
		bool pg = db[0] == 'p';
		if (target_option(t, what, "uri", &opt) < 0)
			return -1;
		if (!has_scheme(opt, pg ? pg_schemes : neo4j_schemes))
			return sl_conf_error(
			        sl_conf_get(t->node, "uri"), what,
			        "uri '%s' is not a %s URI (%s)",
			        sl_uri_redact(opt, redacted, sizeof(redacted)),
			        pg ? "PostgreSQL" : "Neo4j",
			        pg ? "postgres:// or postgresql://"
			           : "bolt://, bolt+s://, bolt+ssc://, "
			             "neo4j://, "
			             "neo4j+s:// or neo4j+ssc://");
	} else {
		return sl_conf_error(sl_conf_get(t->node, "database"), what,
		                     "database '%s' is not supported; sluice "
		                     "supports sqlite (with a path), null, "
		                     "postgresql or postgres (with a uri) and "
		                     "neo4j (with a uri)",
		                     db);
	}
	struct sl_buf nb;
	sl_buf_create(&nb, 4096);
	bool server = prefix[0] == '\0';
	note_ignored(t, what, server);
	if (server) {
		if (server_target_uri(t, what, opt, strcmp(db, "neo4j") == 0,
		                      &nb) < 0) {
			sl_buf_destroy(&nb);
			return -1;
		}
		opt = nb.data;
	}
	bool rel = prefix[0] == 's' && opt[0] != '/' && p->dir != NULL;
	int w = snprintf(uri, size, "%s%s%s%s", prefix, rel ? p->dir : "",
	                 rel ? "/" : "", opt);
	char shown_opt[512];
	sl_uri_redact(opt, shown_opt, sizeof(shown_opt));
	/* It may hold a password. */
	if (nb.data != NULL)
		memset(nb.data, 0, nb.len);
	sl_buf_destroy(&nb);
	if (w < 0 || (size_t)w >= size) {
		if (size > 0)
			uri[0] = '\0';
		sl_diag_set(SL_ELIMIT,
		            "%s:%u:%u: %s: the target URI (%d bytes) does not "
		            "fit in %zu bytes: %s",
		            t->node->file, t->node->line, t->node->col, what, w,
		            size, shown_opt);
		return -1;
	}
	if (batch_size != NULL)
		*batch_size = bs;
	return 0;
}

/** Number of characters (UTF-8 code points) of s. */
static size_t
width(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/** Append annotation value `v` as text: strings raw, others as JSON. */
static int
put_scalar(struct sl_buf *b, const struct sl_value *v)
{
	if (v->type == SL_VSTR)
		return sl_buf_append(b, v->u.s, v->len);
	return sl_json_write(b, v, 0);
}

/** Write column `col` of pipeline `pp`'s table row to `b` (reset first). */
static int
cell(const struct sl_project_pipeline *pp, int col, struct sl_buf *b)
{
	sl_buf_reset(b);
	int rc = sl_buf_reserve(b, 1);
	if (rc == 0)
		b->data[0] = '\0';
	switch (col) {
	case 0:
		return sl_buf_puts(b, pp->scope);
	case 1:
		return sl_buf_puts(b, pp->name);
	case 2:
		return sl_buf_puts(b, pp->file);
	case 3:
		for (uint32_t i = 0; i < pp->n_targets && rc == 0; i++)
			rc = sl_buf_printf(b, "%s%s", i ? ", " : "",
			                   pp->targets[i]);
		return rc;
	default:
		for (uint32_t i = 0; i < pp->annotations->len && rc == 0; i++) {
			const struct sl_member *m =
			        &pp->annotations->u.members[i];
			rc = sl_buf_printf(b, "%s%.*s: ", i ? ", " : "",
			                   (int)m->key_len, m->key);
			if (rc == 0)
				rc = put_scalar(b, &m->val);
		}
		return rc;
	}
}

/** Append `"key": ` in Python's json.dumps style. */
static int
py_json_key(struct sl_buf *b, const char *key, size_t n, bool first)
{
	if (!first && sl_buf_puts(b, ", ") != 0)
		return -1;
	return sl_json_write_ascii(b, key, n) || sl_buf_puts(b, ": ") ? -1 : 0;
}

/**
 * Append pipeline `pp` as Nodestream's PipelineDefinition.to_file_data
 * (verbose or not) writes it: a path string, or an object (see
 * sl_project_show_scope()).
 */
static int
py_json_pipeline(const struct sl_project_pipeline *pp, bool verbose,
                 struct sl_buf *b)
{
	const char *base = strrchr(pp->file, '/');
	base = base != NULL ? base + 1 : pp->file;
	const char *dot = strrchr(base, '.');
	size_t stem =
	        dot != NULL && dot > base ? (size_t)(dot - base) : strlen(base);
	bool default_name =
	        strlen(pp->name) == stem && memcmp(pp->name, base, stem) == 0;
	const struct sl_value *ann = pp->own_annotations;
	if (default_name && ann->len == 0 && !verbose)
		return sl_json_write_ascii(b, pp->file, strlen(pp->file));
	int rc = sl_buf_putc(b, '{') || py_json_key(b, "path", 4, true) ||
	         sl_json_write_ascii(b, pp->file, strlen(pp->file));
	if (rc == 0 && (!default_name || verbose))
		rc = py_json_key(b, "name", 4, false) ||
		     sl_json_write_ascii(b, pp->name, strlen(pp->name));
	if (rc == 0 && (pp->n_own_targets > 0 || verbose)) {
		rc = py_json_key(b, "targets", 7, false) || sl_buf_putc(b, '[');
		for (uint32_t i = 0; i < pp->n_own_targets && rc == 0; i++)
			rc = (i > 0 && sl_buf_puts(b, ", ")) ||
			     sl_json_write_ascii(b, pp->own_targets[i],
			                         strlen(pp->own_targets[i]));
		rc = rc || sl_buf_putc(b, ']');
	}
	if (rc == 0 && (ann->len > 0 || verbose)) {
		rc = py_json_key(b, "annotations", 11, false) ||
		     sl_buf_putc(b, '{');
		for (uint32_t i = 0; i < ann->len && rc == 0; i++) {
			const struct sl_member *m = &ann->u.members[i];
			rc = py_json_key(b, m->key, m->key_len, i == 0);
			if (rc == 0 && m->val.type == SL_VSTR)
				rc = sl_json_write_ascii(b, m->val.u.s,
				                         m->val.len);
			else if (rc == 0)
				rc = sl_json_write(b, &m->val, 0) < 0;
		}
		rc = rc || sl_buf_putc(b, '}');
	}
	if (rc == 0 && (pp->exclude_inherited_targets || verbose))
		rc = py_json_key(b, "exclude_inherited_targets", 25, false) ||
		     sl_buf_puts(b, pp->exclude_inherited_targets ? "true"
		                                                  : "false");
	return rc || sl_buf_putc(b, '}') ? -1 : 0;
}

/** Print the pipelines of `scope` (NULL: all) as Nodestream's JSON. */
static int
show_json(const struct sl_project *p, const char *scope, FILE *out,
          bool verbose)
{
	struct sl_buf b;
	sl_buf_create(&b, (size_t)1 << 30);
	int rc = sl_buf_putc(&b, '[');
	bool first = true;
	for (uint32_t i = 0; i < p->n_pipelines && rc == 0; i++) {
		const struct sl_project_pipeline *pp = &p->pipelines[i];
		if (scope != NULL && strcmp(pp->scope, scope) != 0)
			continue;
		rc = (!first && sl_buf_puts(&b, ", ")) ||
		     py_json_pipeline(pp, verbose, &b);
		first = false;
	}
	rc = rc || sl_buf_puts(&b, "]\n");
	if (rc != 0) {
		if (sl_diag_code() == SL_EOK)
			sl_diag_set(SL_EOOM, "out of memory");
		sl_buf_destroy(&b);
		return -1;
	}
	fwrite(b.data, 1, b.len, out);
	sl_buf_destroy(&b);
	if (fflush(out) != 0 || ferror(out)) {
		sl_diag_set_errno("writing the project's pipelines");
		return -1;
	}
	return 0;
}

int
sl_project_show_scope(const struct sl_project *p, const char *scope, FILE *out,
                      unsigned flags)
{
	if (flags & SL_PROJECT_SHOW_JSON)
		return show_json(p, scope, out,
		                 (flags & SL_PROJECT_SHOW_VERBOSE) != 0);
	static const char *const head[5] = {"scope", "name", "file", "targets",
	                                    "annotations"};
	struct sl_buf b, line;
	sl_buf_create(&b, (size_t)1 << 30);
	sl_buf_create(&line, (size_t)1 << 30);
	size_t w[5];
	for (int c = 0; c < 5; c++)
		w[c] = strlen(head[c]);
	int rc = 0;
	/* Pass 0 measures the columns, pass 1 prints. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		if (pass == 1) {
			for (int c = 0; c < 5; c++)
				fprintf(out, "%s%-*s", c ? " | " : "",
				        c < 4 ? (int)w[c] : 0, head[c]);
			fputc('\n', out);
			for (int c = 0; c < 5; c++) {
				fputs(c ? "-+-" : "", out);
				for (size_t k = 0; k < w[c]; k++)
					fputc('-', out);
			}
			fputc('\n', out);
		}
		for (uint32_t i = 0; i < p->n_pipelines && rc == 0; i++) {
			const struct sl_project_pipeline *pp = &p->pipelines[i];
			if (scope != NULL && strcmp(pp->scope, scope) != 0)
				continue;
			/* The row ends after its last non-empty cell. */
			sl_buf_reset(&line);
			size_t end = 0;
			for (int c = 0; c < 5 && rc == 0; c++) {
				if ((rc = cell(pp, c, &b)) < 0)
					break;
				size_t cw = width(b.data);
				if (pass == 0) {
					if (cw > w[c])
						w[c] = cw;
					continue;
				}
				rc = sl_buf_printf(&line, "%s%s",
				                   c ? " | " : "", b.data);
				if (b.len > 0)
					end = line.len;
				for (size_t k = cw;
				     k < w[c] && c < 4 && rc == 0; k++)
					rc = sl_buf_putc(&line, ' ');
			}
			if (pass == 1 && rc == 0) {
				fwrite(line.data, 1, end, out);
				fputc('\n', out);
			}
		}
	}
	if (rc == 0 && (fflush(out) != 0 || ferror(out))) {
		sl_diag_set_errno("writing the project's pipelines");
		rc = -1;
	}
	sl_buf_destroy(&b);
	sl_buf_destroy(&line);
	return rc;
}

int
sl_project_show(const struct sl_project *p, FILE *out, unsigned flags)
{
	return sl_project_show_scope(p, NULL, out, flags);
}

struct sl_objstore *
sl_project_objstore(const struct sl_project *p, const char *name)
{
	const struct project_store *st = NULL;
	uint32_t i = 0;
	for (; i < p->n_stores && st == NULL; i++)
		if (strcmp(p->stores[i].name, name) == 0)
			st = &p->stores[i];
	if (st == NULL) {
		struct sl_buf b;
		sl_buf_create(&b, 1024);
		int rc = 0;
		for (uint32_t j = 0; j < p->n_stores && rc == 0; j++)
			rc = sl_buf_printf(&b, "%s'%s'", j ? ", " : "",
			                   p->stores[j].name);
		if (p->n_stores == 0)
			sl_diag_set(SL_EINVAL,
			            "%s: no store '%s'; the project defines no "
			            "stores (storage: {stores: [{name: ..., "
			            "type: local}]})",
			            p->path, name);
		else
			sl_diag_set(
			        SL_EINVAL,
			        "%s: no store '%s' under storage.stores; it "
			        "has %s%s",
			        p->path, name, b.data != NULL ? b.data : "",
			        rc != 0 ? ", ..." : "");
		sl_buf_destroy(&b);
		return NULL;
	}
	char what[320];
	snprintf(what, sizeof(what), "storage.stores[%u] (%.200s)", i - 1,
	         st->name);
	if (st->hmac_unset) {
		char sub[360];
		snprintf(sub, sizeof(sub), "%s.hmac_key", what);
		sl_conf_error(
		        st->hmac_node, sub,
		        "resolves to nothing (is its environment variable "
		        "set?); the store would not be signed");
		return NULL;
	}
	struct sl_objstore *s;
	if (strcmp(st->type, "s3") == 0) {
		struct sl_s3_config c;
		sl_s3_config_init(&c);
		c.region = st->s3[1];
		c.endpoint = st->s3[2];
		c.profile = st->s3[3];
		c.access_key_id = st->s3[4];
		c.secret_access_key = st->s3[5];
		c.session_token = st->s3[6];
		c.assume_role_arn = st->s3[7];
		c.assume_role_external_id = st->s3[8];
		c.sts_endpoint = st->s3[9];
		s = sl_objstore_s3_new(&c, st->s3[0]);
		if (s == NULL)
			sl_diag_wrap(sl_diag_code(), "%s: %s", p->path, what);
	} else {
		s = strcmp(st->type, "null") == 0
		            ? sl_objstore_null_new()
		            : sl_objstore_local_new(st->root);
	}
	if (s != NULL && st->hmac_key != NULL)
		s = sl_objstore_signed_new(s, st->hmac_key);
	return s;
}
