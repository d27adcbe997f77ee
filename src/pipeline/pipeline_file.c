/*
 * Pipeline files: load the YAML into a configuration tree, check each step
 * definition against Nodestream's schema, resolve the load-time argument
 * tags (!env, !config, !include) in place and select steps by annotation.
 *
 * Resolution walks the argument tree recursively (its depth is bounded:
 * every document nests at most 512 levels and includes at most 16 deep, and
 * the walk checks its own depth against the same 512). A resolved node
 * replaces its parent's item pointer; aliased nodes are shared, so a node
 * reached twice is resolved once and seen resolved the second time.
 */
#include "sluice/pipeline_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_host.h"
#include "rt/ssl_dl.h"
#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/log.h"

/** Deepest !include nesting. */
#define INCLUDE_MAX 16
/** Deepest argument nesting the resolver walks. */
#define DEPTH_MAX 512
/** Bytes read per call when hashing a pipeline file. */
#define HASH_CHUNK ((size_t)128 << 10)

/** The keys a step definition may have. */
static const char *const step_keys[] = {"implementation", "factory",
                                        "arguments", "annotations"};

/** State of one load. */
struct loader {
	/** The document every node lives in. */
	struct sl_conf_doc *doc;
	/** Options (never NULL). */
	const struct sl_pipeline_file_opts *opts;
	/** The configuration !config reads, or NULL. */
	const struct sl_value *config;
	/** Files being included, outermost (the pipeline file) first. */
	const char *chain[INCLUDE_MAX + 2];
	/** Their real paths, for cycle detection. */
	char real[INCLUDE_MAX + 2][PATH_MAX];
	/** Entries in `chain`. */
	int nchain;
};

/** The chain of included files "a.yaml -> b.yaml -> ..." plus `last`. */
static void
chain_text(const struct loader *l, const char *last, char *buf, size_t size)
{
	size_t n = 0;
	for (int i = 0; i <= l->nchain; i++) {
		const char *part = i < l->nchain ? l->chain[i] : last;
		const char *sep = i < l->nchain ? " -> " : "";
		for (int k = 0; k < 2; k++, part = sep) {
			size_t len = strlen(part);
			if (len > size - 1 - n)
				len = size - 1 - n;
			memcpy(buf + n, part, len);
			n += len;
		}
	}
	buf[n] = '\0';
}

/** Require a string at `n`, else an error naming `what`. */
static int
want_string(const struct sl_conf *n, const char *what, const char **out)
{
	if (sl_conf_is_str(n)) {
		*out = n->text;
		return 0;
	}
	const char *got;
	char buf[128];
	if (n->kind == SL_CONF_SEQ)
		got = "a list";
	else if (n->kind == SL_CONF_MAP)
		got = "a mapping";
	else if (n->tag != NULL && n->tag[0] == '!' && strcmp(n->tag, "!"))
		got = (snprintf(buf, sizeof(buf), "a %s value", n->tag), buf);
	else if (sl_conf_is_null(n))
		got = "null";
	else
		got = (snprintf(buf, sizeof(buf), "'%s'", n->text), buf);
	return sl_conf_error(n, what, "expected a string, got %s", got);
}

/** "a list", "a mapping" or "a scalar" (for messages). */
static const char *
kind_text(const struct sl_conf *n)
{
	return n->kind == SL_CONF_SEQ   ? "a list"
	       : n->kind == SL_CONF_MAP ? "a mapping"
	                                : "a scalar";
}

static int resolve(struct loader *l, struct sl_conf **slot, uint32_t depth);

/**
 * Replace `*slot` by a null node at its position, after a warning naming
 * `what` (Nodestream's resolvers give None for an unset variable or a
 * missing key, silently). 0, or -1 with SL_EOOM.
 */
static int
resolve_to_null(struct loader *l, struct sl_conf **slot, const char *what)
{
	struct sl_conf *n = *slot;
	sl_log_warn("%s:%u:%u: %s %s; it gives null", n->file, n->line, n->col,
	            n->tag, what);
	struct sl_value v = sl_null();
	struct sl_conf *r = sl_conf_from_value(l->doc, &v, n);
	if (r == NULL)
		return -1;
	*slot = r;
	return 0;
}

/** Replace an !env node with the variable's value (null if unset). */
static int
resolve_env(struct loader *l, struct sl_conf **slot)
{
	struct sl_conf *n = *slot;
	if (n->kind != SL_CONF_SCALAR || n->len == 0)
		return sl_conf_error(n, "!env",
		                     "expected the name of an environment "
		                     "variable");
	const char *val = getenv(n->text);
	if (val == NULL) {
		char what[300];
		snprintf(what, sizeof(what),
		         "environment variable %.200s is not set", n->text);
		return resolve_to_null(l, slot, what);
	}
	struct sl_value v = sl_str_ref(val, (uint32_t)strlen(val));
	struct sl_conf *r = sl_conf_from_value(l->doc, &v, n);
	if (r == NULL)
		return -1;
	*slot = r;
	return 0;
}

/**
 * Replace a !config node with the configuration's value (null without a
 * configuration or without the key).
 */
static int
resolve_config(struct loader *l, struct sl_conf **slot)
{
	struct sl_conf *n = *slot;
	if (n->kind != SL_CONF_SCALAR || n->len == 0)
		return sl_conf_error(n, "!config",
		                     "expected a configuration key");
	char what[300];
	const struct sl_value *cfg = l->config;
	if (cfg == NULL || cfg->type != SL_VOBJECT) {
		snprintf(what, sizeof(what),
		         "'%.200s': there is no configuration to look it up in",
		         n->text);
		return resolve_to_null(l, slot, what);
	}
	/* The whole key first (keys may hold dots), then a dotted walk. */
	const struct sl_value *v = sl_object_get(cfg, n->text, n->len);
	const char *p = n->text, *end = n->text + n->len;
	while (v == NULL && cfg != NULL) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *seg_end = dot != NULL ? dot : end;
		const struct sl_value *next =
		        sl_object_get(cfg, p, (size_t)(seg_end - p));
		if (dot == NULL) {
			v = next;
			break;
		}
		cfg = next;
		p = dot + 1;
	}
	if (v == NULL) {
		snprintf(what, sizeof(what),
		         "'%.200s': the configuration has no such key",
		         n->text);
		return resolve_to_null(l, slot, what);
	}
	struct sl_conf *r = sl_conf_from_value(l->doc, v, n);
	if (r == NULL)
		return -1;
	*slot = r;
	return 0;
}

/** Replace an !include node with the included file's resolved root. */
static int
resolve_include(struct loader *l, struct sl_conf **slot, uint32_t depth)
{
	struct sl_conf *n = *slot;
	if (n->kind != SL_CONF_SCALAR || n->len == 0)
		return sl_conf_error(n, "!include", "expected a file path");
	/* Relative to the current directory, else to the including file. */
	char path[PATH_MAX];
	const char *use = n->text;
	if (n->text[0] != '/' && access(n->text, F_OK) != 0) {
		const char *slash = strrchr(n->file, '/');
		if (slash != NULL) {
			int w = snprintf(path, sizeof(path), "%.*s/%s",
			                 (int)(slash - n->file), n->file,
			                 n->text);
			if (w < 0 || (size_t)w >= sizeof(path))
				return sl_conf_error(n, "!include",
				                     "path too long");
			use = path;
		}
	}
	char chain[400];
	if (l->nchain > INCLUDE_MAX) {
		chain_text(l, use, chain, sizeof(chain));
		return sl_conf_error(n, "!include",
		                     "includes nest deeper than %d: %s",
		                     INCLUDE_MAX, chain);
	}
	char *real = l->real[l->nchain];
	if (realpath(use, real) == NULL)
		return sl_conf_error(n, "!include", "cannot open %s: %s", use,
		                     strerror(errno));
	for (int i = 0; i < l->nchain; i++)
		if (strcmp(l->real[i], real) == 0) {
			chain_text(l, use, chain, sizeof(chain));
			return sl_conf_error(n, "!include", "include cycle: %s",
			                     chain);
		}
	struct sl_conf *root = sl_conf_doc_parse_file(l->doc, use);
	if (root == NULL)
		return sl_conf_place_error(n, "!include");
	l->chain[l->nchain++] = root->file;
	*slot = root;
	int rc = resolve(l, slot, depth);
	l->nchain--;
	return rc;
}

/** Resolve the load-time tags at and under `*slot`. */
static int
resolve(struct loader *l, struct sl_conf **slot, uint32_t depth)
{
	struct sl_conf *n = *slot;
	if (depth > DEPTH_MAX)
		return sl_conf_error(n, NULL, "arguments nest deeper than %d",
		                     DEPTH_MAX);
	if (n->tag != NULL) {
		if (strcmp(n->tag, "!env") == 0)
			return resolve_env(l, slot);
		if (strcmp(n->tag, "!config") == 0)
			return resolve_config(l, slot);
		if (strcmp(n->tag, "!include") == 0)
			return resolve_include(l, slot, depth);
	}
	if (n->kind == SL_CONF_SCALAR)
		return 0;
	uint32_t cnt = n->kind == SL_CONF_MAP ? 2 * n->n : n->n;
	for (uint32_t i = n->kind == SL_CONF_MAP ? 1 : 0; i < cnt;
	     i += n->kind == SL_CONF_MAP ? 2 : 1)
		if (resolve(l, &n->items[i], depth + 1) < 0)
			return -1;
	return 0;
}

int
sl_conf_resolve_tags(struct sl_conf_doc *doc, struct sl_conf **slot,
                     const struct sl_value *config)
{
	static const struct sl_pipeline_file_opts no_opts;
	struct loader *l = sl_malloc(sizeof(*l));
	if (l == NULL) {
		sl_diag_set(SL_EOOM, "out of memory resolving tags in %s",
		            (*slot)->file != NULL ? (*slot)->file : "YAML");
		return -1;
	}
	l->doc = doc;
	l->opts = &no_opts;
	l->config = config;
	l->nchain = 0;
	if ((*slot)->file != NULL) {
		if (realpath((*slot)->file, l->real[0]) == NULL)
			l->real[0][0] = '\0';
		l->chain[l->nchain++] = (*slot)->file;
	}
	int rc = resolve(l, slot, 1);
	sl_free(l);
	return rc;
}

/** Check step node `s` and fill `def`. */
static int
load_step(struct loader *l, struct sl_conf *s, uint32_t index,
          struct sl_stepdef *def)
{
	memset(def, 0, sizeof(*def));
	def->node = s;
	def->index = index;
	if (s->kind != SL_CONF_MAP)
		return sl_conf_error(s, NULL,
		                     "step %u: expected a mapping with an "
		                     "implementation, got %s",
		                     index + 1, kind_text(s));
	for (uint32_t i = 0; i < s->n; i++) {
		const struct sl_conf *k = s->items[2 * i];
		bool known = false;
		for (size_t j = 0; j < sizeof(step_keys) / sizeof(*step_keys);
		     j++)
			known |= strcmp(k->text, step_keys[j]) == 0;
		if (!known)
			return sl_conf_error(k, NULL,
			                     "unknown key '%s' in a step "
			                     "(known keys: implementation, "
			                     "factory, arguments, annotations)",
			                     k->text);
	}
	const struct sl_conf *impl = sl_conf_get(s, "implementation");
	if (impl == NULL)
		return sl_conf_error(s, NULL, "step %u has no implementation",
		                     index + 1);
	if (want_string(impl, "implementation", &def->implementation) < 0)
		return -1;
	const struct sl_conf *fac = sl_conf_get(s, "factory");
	if (fac != NULL && want_string(fac, "factory", &def->factory) < 0)
		return -1;
	const struct sl_conf *ann = sl_conf_get(s, "annotations");
	if (ann != NULL) {
		if (ann->kind != SL_CONF_SEQ)
			return sl_conf_error(
			        ann, "annotations",
			        "expected a list of strings, got %s",
			        kind_text(ann));
		if (ann->n > 0) {
			def->annotations = sl_conf_alloc(
			        l->doc, ann->n * sizeof(*def->annotations));
			if (def->annotations == NULL)
				return -1;
		}
		for (uint32_t i = 0; i < ann->n; i++)
			if (want_string(ann->items[i], "annotations",
			                &def->annotations[i]) < 0)
				return -1;
		def->n_annotations = ann->n;
	}
	const struct sl_conf *args = sl_conf_get(s, "arguments");
	if (args != NULL && !sl_conf_is_null(args) &&
	    args->kind != SL_CONF_MAP && args->tag == NULL)
		return sl_conf_error(args, "arguments",
		                     "expected a mapping, got %s",
		                     kind_text(args));
	return 0;
}

/**
 * Refuse a tag sluice does not know at or under `n`, a step's arguments
 * with !env, !config and !include resolved: only the value providers'
 * tags (sl_conf_is_prov_tag()), YAML's own (!!str, ...) and the non-specific
 * "!" remain valid, where each step reads them. 0, or -1 with an error
 * naming file:line.
 */
static int
check_tags(const struct sl_conf *n, uint32_t depth)
{
	if (depth > DEPTH_MAX)
		return sl_conf_error(n, NULL, "arguments nest deeper than %d",
		                     DEPTH_MAX);
	const char *tag = n->tag;
	if (tag != NULL && strcmp(tag, "!") != 0 &&
	    strncmp(tag, "tag:yaml.org,2002:", 18) != 0 &&
	    !sl_conf_is_prov_tag(tag) && !sl_plugin_tag_known(tag))
		return sl_conf_error(n, NULL,
		                     "%s is not a tag sluice knows (expected "
		                     "!env, !config, !include, or a value "
		                     "provider: " SL_CONF_PROV_TAGS ")",
		                     tag);
	if (n->kind == SL_CONF_SCALAR)
		return 0;
	uint32_t cnt = n->kind == SL_CONF_MAP ? 2 * n->n : n->n;
	for (uint32_t i = 0; i < cnt; i++)
		if (check_tags(n->items[i], depth + 1) < 0)
			return -1;
	return 0;
}

/** Resolve the tags of a selected step's arguments and set them. */
static int
load_arguments(struct loader *l, struct sl_stepdef *def)
{
	struct sl_conf *s = (struct sl_conf *)def->node;
	struct sl_conf **args = NULL;
	for (uint32_t i = s->n; i-- > 0;)
		if (strcmp(s->items[2 * i]->text, "arguments") == 0) {
			args = &s->items[2 * i + 1];
			break;
		}
	if (args == NULL || sl_conf_is_null(*args))
		return 0;
	if (resolve(l, args, 1) < 0 || check_tags(*args, 1) < 0)
		return -1;
	if (sl_conf_is_null(*args))
		return 0;
	if ((*args)->kind != SL_CONF_MAP)
		return sl_conf_error(*args, "arguments",
		                     "expected a mapping, got %s",
		                     kind_text(*args));
	def->arguments = *args;
	return 0;
}

/** Whether the step shares an annotation with the ones asked for. */
static bool
selected(const struct sl_stepdef *d, const struct sl_pipeline_file_opts *o)
{
	if (d->n_annotations == 0 || o->n_annotations == 0)
		return true;
	for (uint32_t i = 0; i < d->n_annotations; i++)
		for (uint32_t j = 0; j < o->n_annotations; j++)
			if (strcmp(d->annotations[i], o->annotations[j]) == 0)
				return true;
	return false;
}

struct sl_pipeline_file *
sl_pipeline_file_load(const char *path,
                      const struct sl_pipeline_file_opts *opts)
{
	static const struct sl_pipeline_file_opts no_opts;
	struct loader *l = sl_malloc(sizeof(*l));
	struct sl_pipeline_file *f = sl_calloc(1, sizeof(*f));
	if (l == NULL || f == NULL) {
		sl_diag_set(SL_EOOM, "out of memory loading %s", path);
		goto fail;
	}
	l->opts = opts != NULL ? opts : &no_opts;
	l->config = l->opts->config;
	l->nchain = 0;
	l->doc = f->doc = sl_conf_doc_new();
	if (f->doc == NULL)
		goto fail;
	struct sl_conf *root = sl_conf_doc_parse_file(f->doc, path);
	if (root == NULL)
		goto fail;
	char *p = sl_conf_alloc(f->doc, strlen(path) + 1);
	if (p == NULL)
		goto fail;
	strcpy(p, path);
	f->path = p;
	const char *base = strrchr(p, '/') != NULL ? strrchr(p, '/') + 1 : p;
	const char *dot = strrchr(base, '.');
	size_t stem_len =
	        dot != NULL && dot > base ? (size_t)(dot - base) : strlen(base);
	char *stem = sl_conf_alloc(f->doc, stem_len + 1);
	if (stem == NULL)
		goto fail;
	memcpy(stem, base, stem_len);
	stem[stem_len] = '\0';
	f->stem = stem;
	if (realpath(path, l->real[0]) == NULL)
		l->real[0][0] = '\0';
	l->chain[l->nchain++] = root->file;

	if (sl_conf_is_null(root) ||
	    (root->kind == SL_CONF_SEQ && root->n == 0)) {
		sl_conf_error(root, NULL,
		              "no steps (expected a list of steps)");
		goto fail;
	}
	if (root->kind != SL_CONF_SEQ) {
		sl_conf_error(root, NULL, "expected a list of steps, got %s",
		              kind_text(root));
		goto fail;
	}
	f->n_all = root->n;
	f->steps = sl_conf_alloc(f->doc, root->n * sizeof(*f->steps));
	if (f->steps == NULL)
		goto fail;
	for (uint32_t i = 0; i < root->n; i++) {
		struct sl_stepdef *d = &f->steps[f->n_steps];
		if (load_step(l, root->items[i], i, d) < 0)
			goto fail;
		if (!selected(d, l->opts))
			continue;
		d->pipeline = f->stem;
		d->strict = l->opts->strict;
		if (load_arguments(l, d) < 0)
			goto fail;
		f->n_steps++;
	}
	sl_free(l);
	return f;
fail:
	sl_free(l);
	sl_pipeline_file_delete(f);
	return NULL;
}

void
sl_pipeline_file_delete(struct sl_pipeline_file *f)
{
	if (f == NULL)
		return;
	sl_conf_doc_delete(f->doc);
	sl_free(f);
}

/**
 * Hash the file open as `fd` (named `path`) with SHA-256 into hex[0..65).
 * 0, or -1 with an error.
 */
static int
sha256_hex(int fd, const char *path, char hex[65])
{
	if (sl_crypto_load() != 0)
		return -1;
	unsigned char *chunk = sl_malloc(HASH_CHUNK);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;
	if (chunk == NULL || ctx == NULL) {
		sl_diag_set(SL_EOOM, "out of memory hashing %s", path);
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		sl_diag_set(SL_EIO, "hashing %s: SHA-256 is not available",
		            path);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, HASH_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sl_diag_set_errno("reading pipeline file %s", path);
			goto out;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, chunk, (size_t)r) != 1) {
			sl_diag_set(SL_EIO, "hashing %s failed", path);
			goto out;
		}
	}
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		sl_diag_set(SL_EIO, "hashing %s failed", path);
		goto out;
	}
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	sl_free(chunk);
	return rc;
}

int
sl_pipeline_file_namespace(const char *path, char *out, size_t size)
{
	if (size > 0)
		out[0] = '\0';
	/* Path(path).name: the last component, trailing slashes aside. */
	size_t end = strlen(path);
	while (end > 1 && path[end - 1] == '/')
		end--;
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	/* Path.stem: without the last suffix, unless the dot is first or
	 * last. */
	size_t stem = end - start;
	for (size_t i = end; i-- > start;)
		if (path[i] == '.') {
			if (i > start && i < end - 1)
				stem = i - start;
			break;
		}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sl_diag_set_errno("opening pipeline file %s", path);
		return -1;
	}
	char hex[65];
	int rc = sha256_hex(fd, path, hex);
	close(fd);
	if (rc < 0)
		return -1;
	int w = snprintf(out, size, "%.*s-%s", (int)stem, path + start, hex);
	if (w < 0 || (size_t)w >= size) {
		if (size > 0)
			out[0] = '\0';
		sl_diag_set(SL_ELIMIT,
		            "the object-store namespace of %s (%d bytes) does "
		            "not fit in %zu bytes",
		            path, w, size);
		return -1;
	}
	return 0;
}
