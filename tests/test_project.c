/*
 * Project files (sluice/project.h): Nodestream's default project and the
 * reference example, effective targets and annotations, scope configs
 * feeding !config, target URIs (no password ever shown), schema errors
 * with exact positions, lookup and suggestions, `show` as text and JSON,
 * and allocation failure at every point. Real files in a temp directory.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/db.h"
#include "sluice/pipeline_file.h"
#include "sluice/log.h"
#include "sluice/project.h"
#include "tmpfiles.h"
#include "unit.h"

/** Temporary directory of this run. */
static char tmpdir[256];

/** A trivial pipeline file's text. */
static const char pipeline_text[] = "- implementation: x\n";

/** Write `text` to tmpdir/name, making directories; returns the path. */
static const char *
wfile(const char *name, const char *text)
{
	return tmp_write(tmpdir, name, text);
}

/** tmpdir/name (static buffer). */
static const char *
tpath(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/** `s` without a leading "tmpdir/". */
static const char *
rel(const char *s)
{
	size_t dl = strlen(tmpdir);
	if (s != NULL && strncmp(s, tmpdir, dl) == 0 && s[dl] == '/')
		return s + dl + 1;
	return s;
}

/** Load the project at `path`; on failure note the error. */
static struct sl_project *
load(const char *path)
{
	sl_diag_clear(sl_diag_get());
	struct sl_project *p = sl_project_load(path);
	if (p == NULL)
		note("load %s: %s", path, unit_errmsg());
	return p;
}

/**
 * Load tmpdir/e/nodestream.yaml holding `text`; it must fail with `code`
 * and message `want` (NULL: any message).
 */
static void
load_err(const char *text, enum sl_errcode code, const char *want)
{
	const char *path = wfile("e/nodestream.yaml", text);
	sl_diag_clear(sl_diag_get());
	struct sl_project *p = sl_project_load(path);
	ok(p == NULL, "fails: %s", want);
	sl_project_delete(p);
	is_err(code, "... with %s", sl_errcode_name(code));
	if (want != NULL)
		is_str(rel(unit_errmsg()), want, "... message");
}

/** The targets of `pp` joined with ",". */
static const char *
targets_of(const struct sl_project_pipeline *pp)
{
	static char buf[256];
	size_t n = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < pp->n_targets; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		                      i ? "," : "", pp->targets[i]);
	return buf;
}

/** The annotations of `pp` as "k=v,k=v" (strings and integers). */
static const char *
annotations_of(const struct sl_project_pipeline *pp)
{
	static char buf[256];
	size_t n = 0;
	buf[0] = '\0';
	for (uint32_t i = 0; i < pp->annotations->len; i++) {
		const struct sl_member *m = &pp->annotations->u.members[i];
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		                      "%s%.*s=", i ? "," : "", (int)m->key_len,
		                      m->key);
		if (m->val.type == SL_VSTR)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%.*s",
			                      (int)m->val.len, m->val.u.s);
		else if (m->val.type == SL_VINT)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%lld",
			                      (long long)m->val.u.i);
		else if (m->val.type == SL_VBOOL)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
			                      m->val.u.b ? "true" : "false");
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "?");
	}
	return buf;
}

/** What sl_project_show_scope() prints (malloc'd), or NULL on failure. */
static char *
show(const struct sl_project *p, const char *scope, unsigned flags)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	if (f == NULL)
		return NULL;
	int rc = sl_project_show_scope(p, scope, f, flags);
	fclose(f);
	if (rc < 0) {
		if (sl_diag_code() != SL_EOOM)
			note("show: %s", unit_errmsg());
		free(s);
		return NULL;
	}
	return s;
}

/** Nodestream's generated project: loads, bolt URI, no password shown. */
TAP_CASE(default_project)
{
	wfile("def/pipelines/sample.yaml", pipeline_text);
	const char *path =
	        wfile("def/nodestream.yaml", "scopes:\n"
	                                     "  default:\n"
	                                     "    pipelines:\n"
	                                     "    - pipelines/sample.yaml\n"
	                                     "targets:\n"
	                                     "  my-db:\n"
	                                     "    database: neo4j\n"
	                                     "    uri: bolt://localhost:7687\n"
	                                     "    username: neo4j\n"
	                                     "    password: neo4j123\n");
	struct sl_project *p = load(path);
	ok(p != NULL, "the default project loads");
	if (p == NULL)
		return;
	is_str(rel(sl_project_path(p)), "def/nodestream.yaml", "its path");
	is_int(sl_project_n_pipelines(p), 1, "one pipeline");
	const struct sl_project_pipeline *pp = sl_project_pipeline(p, 0);
	is_str(pp->scope, "default", "scope default");
	is_str(pp->name, "sample", "named after the file stem");
	is_str(pp->file, "pipelines/sample.yaml", "file as written");
	is_str(rel(pp->path), "def/pipelines/sample.yaml",
	       "path resolved against the project directory");
	is_int(pp->n_targets, 0, "no targets of its own");
	is_int(pp->annotations->len, 0, "no annotations");
	ok(pp->config == NULL, "no config");
	is_int(pp->node->line, 4, "entry at line 4");
	ok(sl_project_pipeline(p, 1) == NULL, "pipeline 1 is NULL");
	ok(sl_project_has_scope(p, "default"), "scope default exists");
	ok(!sl_project_has_scope(p, "cron"), "no scope cron");
	is_int(sl_project_n_targets(p), 1, "one target");
	const struct sl_project_target *t = sl_project_target(p, 0);
	is_str(t->name, "my-db", "target my-db");
	is_str(t->database, "neo4j", "... database neo4j");
	const struct sl_value *pw = sl_object_get_cstr(t->options, "password");
	ok(pw != NULL && pw->type == SL_VSTR && pw->len == 8,
	   "the connector gets the password in the options");
	char uri[256];
	uint32_t bs = 77;
	is_int(sl_project_target_uri(p, "my-db", uri, sizeof(uri), &bs), 0,
	       "target URI");
	is_str(uri, "bolt://neo4j:neo4j123@localhost:7687",
	       "... is the bolt URI with the credentials for the store");
	char shown[256];
	ok(strstr(sl_uri_redact(uri, shown, sizeof(shown)), "neo4j123") == NULL,
	   "... shown without the password");
	is_int(bs, 0, "... no batch size");
	char *s = show(p, NULL, false);
	is_str(s,
	       "scope   | name   | file                  | targets | "
	       "annotations\n"
	       "--------+--------+-----------------------+---------+--------"
	       "----\n"
	       "default | sample | pipelines/sample.yaml\n",
	       "show as a table");
	ok(s != NULL && strstr(s, "neo4j123") == NULL, "... no password shown");
	free(s);
	s = show(p, NULL, SL_PROJECT_SHOW_JSON);
	is_str(s, "[\"pipelines/sample.yaml\"]\n",
	       "show as JSON: Nodestream's array, a path for a plain entry");
	free(s);
	s = show(p, NULL, SL_PROJECT_SHOW_JSON | SL_PROJECT_SHOW_VERBOSE);
	is_str(s,
	       "[{\"path\": \"pipelines/sample.yaml\", \"name\": \"sample\", "
	       "\"targets\": [], \"annotations\": {}, "
	       "\"exclude_inherited_targets\": false}]\n",
	       "... verbose: every key");
	free(s);
	s = show(p, "other", SL_PROJECT_SHOW_JSON);
	is_str(s, "[]\n", "show of another scope prints an empty array");
	free(s);
	sl_project_delete(p);

	/* Loaded by a bare name from inside its directory. */
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(tpath("def")) != 0)
		bail_out("cannot change directory");
	p = load(SL_PROJECT_FILE);
	ok(p != NULL, "loads as " SL_PROJECT_FILE " from its directory");
	if (p != NULL)
		is_str(sl_project_pipeline(p, 0)->path, "pipelines/sample.yaml",
		       "... path stays relative");
	sl_project_delete(p);
	if (chdir(cwd) != 0)
		bail_out("cannot change back");
}

/** The reference example (§5.2). */
static const char example_text[] =
        "scopes:\n"
        "  cron:\n"
        "    config: {api_endpoint: !env API_ENDPOINT}\n"
        "    annotations: {schedule: \"0 0 * * *\"}\n"
        "    targets: [my-target]\n"
        "    pipelines:\n"
        "      - pipelines/web-scraping.yaml\n"
        "      - path: pipelines/warehouse.yaml\n"
        "        name: my-warehouse-pipeline\n"
        "        annotations: {schedule: \"0 10 * * *\"}\n"
        "        targets: [my-other-target]\n"
        "        exclude_inherited_targets: true\n"
        "targets:\n"
        "  my-target:\n"
        "    database: neo4j\n"
        "    uri: bolt://localhost:7687\n"
        "    username: !delayed {value: !env NEO4J_USER}\n"
        "    password: !delayed {value: !env NEO4J_PASSWORD}\n"
        "    batch_size: 1000\n"
        "    flush_concurrency: 4\n"
        "%s"
        "plugins:\n"
        "  - name: myplugin\n"
        "    config: {service_base_url: \"https://x\"}\n"
        "    targets: [target1]\n"
        "    annotations: {k: v}\n"
        "    pipelines: [{name: plugin_pipeline_1, "
        "exclude_inherited_targets: true, targets: [target3]}]\n"
        "storage:\n"
        "  stores:\n"
        "    - {name: local, type: local, hmac_key: !env KEY}\n"
        "    - {name: s3store, type: s3, bucket_name: b}\n"
        "include_additional_types: false\n";

/** The reference example, with and without its missing target. */
TAP_CASE(example)
{
	wfile("ex/pipelines/web-scraping.yaml", pipeline_text);
	wfile("ex/pipelines/warehouse.yaml", pipeline_text);
	setenv("API_ENDPOINT", "https://api.example", 1);
	setenv("NEO4J_USER", "neo", 1);
	setenv("NEO4J_PASSWORD", "s3cret", 1);
	unsetenv("KEY");
	char text[4096];
	snprintf(text, sizeof(text), example_text, "");
	const char *path = wfile("ex/nodestream.yaml", text);
	sl_diag_clear(sl_diag_get());
	struct sl_project *p = sl_project_load(path);
	ok(p == NULL, "verbatim, my-other-target is undefined");
	is_str(rel(unit_errmsg()),
	       "ex/nodestream.yaml:11:19: scopes.cron.pipelines[1].targets: "
	       "target 'my-other-target' is not defined under targets",
	       "... the error names it");
	snprintf(text, sizeof(text), example_text,
	         "  my-other-target:\n    database: null\n");
	path = wfile("ex/nodestream.yaml", text);
	p = load(path);
	ok(p != NULL, "with my-other-target defined the example loads");
	if (p == NULL)
		return;
	is_int(sl_project_n_pipelines(p), 2, "two pipelines");
	const struct sl_project_pipeline *a = sl_project_pipeline(p, 0);
	const struct sl_project_pipeline *b = sl_project_pipeline(p, 1);
	is_str(a->name, "web-scraping", "first named by its stem");
	is_str(targets_of(a), "my-target", "... inherits my-target");
	is_str(annotations_of(a), "schedule=0 0 * * *",
	       "... inherits the schedule");
	is_str(b->name, "my-warehouse-pipeline", "second named explicitly");
	is_str(targets_of(b), "my-other-target",
	       "... excludes inherited targets");
	ok(b->exclude_inherited_targets, "... exclude_inherited_targets");
	is_str(annotations_of(b), "schedule=0 10 * * *",
	       "... its own schedule wins (Nodestream 0.16.1's update order)");
	is_int(b->index, 1, "... index 1");
	ok(a->config != NULL && a->config == b->config,
	   "both share the scope's config");
	const struct sl_value *ep =
	        a->config != NULL
	                ? sl_object_get_cstr(a->config, "api_endpoint")
	                : NULL;
	ok(ep != NULL && ep->type == SL_VSTR &&
	           strncmp(ep->u.s, "https://api.example", ep->len) == 0,
	   "config api_endpoint from !env");
	const struct sl_project_target *t =
	        sl_project_get_target(p, "my-target");
	const struct sl_value *u =
	        t != NULL ? sl_object_get_cstr(t->options, "username") : NULL;
	ok(u != NULL && u->type == SL_VSTR && u->len == 3 &&
	           memcmp(u->u.s, "neo", 3) == 0,
	   "!delayed {value: !env NEO4J_USER} gives the user");
	const struct sl_value *fc =
	        t != NULL ? sl_object_get_cstr(t->options, "flush_concurrency")
	                  : NULL;
	ok(fc != NULL && fc->type == SL_VINT && fc->u.i == 4,
	   "other options are kept");
	char uri[128];
	uint32_t bs = 0;
	is_int(sl_project_target_uri(p, "my-target", uri, sizeof(uri), &bs), 0,
	       "my-target URI");
	is_str(uri, "bolt://neo:s3cret@localhost:7687?connections=4",
	       "... bolt, with the credentials and flush_concurrency");
	is_int(bs, 1000, "... batch_size 1000");
	is_int(sl_project_target_uri(p, "my-other-target", uri, sizeof(uri),
	                             &bs),
	       0, "my-other-target (database: null) URI");
	is_str(uri, "null:", "... null:");
	is_int(bs, 0, "... batch size 0 when absent");
	char *s = show(p, "cron", false);
	is_str(s,
	       "scope | name                  | file                        | "
	       "targets         | annotations\n"
	       "------+-----------------------+-----------------------------+-"
	       "----------------+---------------------\n"
	       "cron  | web-scraping          | pipelines/web-scraping.yaml | "
	       "my-target       | schedule: 0 0 * * *\n"
	       "cron  | my-warehouse-pipeline | pipelines/warehouse.yaml    | "
	       "my-other-target | schedule: 0 10 * * *\n",
	       "show of scope cron");
	ok(s != NULL && strstr(s, "s3cret") == NULL, "... no password");
	free(s);
	sl_project_delete(p);
	unsetenv("API_ENDPOINT");
	unsetenv("NEO4J_USER");
	unsetenv("NEO4J_PASSWORD");
}

/** Scopes, effective targets and annotations, find and suggest. */
TAP_CASE(scopes)
{
	wfile("sc/pipelines/sample.yaml", pipeline_text);
	wfile("sc/pipelines/people.yml", pipeline_text);
	wfile("sc/other/x.y.yaml", pipeline_text);
	wfile("sc/cfg.yaml", "- implementation: x\n"
	                     "  arguments:\n"
	                     "    url: !config api.url\n"
	                     "    n: !config n\n");
	const char *path = wfile(
	        "sc/nodestream.yaml",
	        "scopes:\n"
	        "  a:\n"
	        "    config: {api: {url: !env SLUICE_T_URL}, n: 3}\n"
	        "    annotations: {team: core, weight: 2}\n"
	        "    targets: [t1, t2]\n"
	        "    pipelines:\n"
	        "      - pipelines/sample.yaml\n"
	        "      - {path: pipelines/people.yml, targets: [t3, t1]}\n"
	        "      - path: other/x.y.yaml\n"
	        "        annotations: {team: own, live: true, \"\xc3\xbc\": "
	        "\"\xc3\xa9\xf0\x9f\x98\x80\\t\"}\n"
	        "      - {path: cfg.yaml, name: Sample2}\n"
	        "  b:\n"
	        "  c:\n"
	        "    pipelines: [pipelines/sample.yaml]\n"
	        "    targets: [t2]\n"
	        "targets:\n"
	        "  t1: {database: sqlite, path: graph.db}\n"
	        "  t2: {database: 'null'}\n"
	        "  t3: {database: postgres, uri: 'postgres://u:pw@h/db', "
	        "batch_size: 50}\n");
	setenv("SLUICE_T_URL", "http://x", 1);
	struct sl_project *p = load(path);
	ok(p != NULL, "a project of three scopes loads");
	if (p == NULL)
		return;
	is_int(sl_project_n_pipelines(p), 5, "five pipelines");
	const struct sl_project_pipeline *pp[5];
	for (uint32_t i = 0; i < 5; i++)
		pp[i] = sl_project_pipeline(p, i);
	is_str(targets_of(pp[0]), "t1,t2", "scope targets inherited");
	is_str(targets_of(pp[1]), "t3,t1,t2",
	       "own targets first, without duplicates");
	is_str(pp[1]->name, "people", "stem of a .yml file");
	is_str(pp[2]->name, "x.y", "stem drops the last suffix only");
	is_str(annotations_of(pp[0]), "team=core,weight=2",
	       "scope annotations, typed");
	is_str(annotations_of(pp[2]),
	       "team=own,weight=2,live=true,\xc3\xbc="
	       "\xc3\xa9\xf0\x9f\x98\x80\t",
	       "merged: the scope's keys first, the pipeline's value on a "
	       "shared key, then its other keys");
	is_str(pp[4]->scope, "c", "the last pipeline is in scope c");
	is_str(targets_of(pp[4]), "t2", "... with c's targets");
	ok(pp[4]->config == NULL, "... and no config");
	ok(sl_project_has_scope(p, "b"), "empty scope b exists");

	/* The scope config feeds !config of a pipeline file. */
	struct sl_pipeline_file_opts o = {.config = pp[3]->config};
	struct sl_pipeline_file *f = sl_pipeline_file_load(pp[3]->path, &o);
	ok(f != NULL && f->n_steps == 1, "pipeline file loads with the config");
	if (f != NULL) {
		const struct sl_conf *u =
		        sl_conf_get(f->steps[0].arguments, "url");
		is_str(u != NULL ? u->text : NULL, "http://x",
		       "!config api.url from the scope's !env");
		const struct sl_conf *n =
		        sl_conf_get(f->steps[0].arguments, "n");
		is_str(n != NULL ? n->text : NULL, "3", "!config n");
	}
	sl_pipeline_file_delete(f);

	/* Lookup by name and suggestions. */
	const struct sl_project_pipeline *found[4];
	is_int(sl_project_find(p, "sample", found, 4), 2,
	       "'sample' is in two scopes");
	ok(found[0] == pp[0] && found[1] == pp[4], "... in scope order");
	is_int(sl_project_find(p, "sample", found, 1), 2, "count beyond max");
	is_int(sl_project_find(p, "nope", NULL, 0), 0, "no 'nope'");
	is_str(sl_project_suggest(p, "sampel"), "sample",
	       "suggest: a swap is one edit");
	is_str(sl_project_suggest(p, "SAMPLE"), "sample",
	       "suggest: case is ignored");
	is_str(sl_project_suggest(p, "sample2"), "Sample2",
	       "suggest: the closest wins");
	is_str(sl_project_suggest(p, "sampleX"), "sample",
	       "suggest: ties go to the first");
	is_str(sl_project_suggest(p, "sample"), "sample",
	       "suggest: an exact name is itself");
	is_str(sl_project_suggest(p, "peple"), "people", "suggest: a deletion");
	ok(sl_project_suggest(p, "warehouse") == NULL,
	   "suggest: nothing close");
	ok(sl_project_suggest(p, "") == NULL, "suggest: nothing for ''");
	is_str(sl_project_suggest_target(p, "t4"), "t1", "target suggestion");

	/* Target URIs. */
	char uri[256], want[PATH_MAX + 16];
	uint32_t bs = 9;
	is_int(sl_project_target_uri(p, "t1", uri, sizeof(uri), &bs), 0,
	       "sqlite target");
	snprintf(want, sizeof(want), "sqlite:%s/sc/graph.db", tmpdir);
	is_str(uri, want, "... path resolved against the project directory");
	is_int(bs, 0, "... no batch size");
	is_int(sl_project_target_uri(p, "t2", uri, sizeof(uri), NULL), 0,
	       "'null' target");
	is_str(uri, "null:", "... null:");
	is_int(sl_project_target_uri(p, "t3", uri, sizeof(uri), &bs), 0,
	       "postgres target");
	is_str(uri, "postgres://u:pw@h/db", "... its URI");
	is_int(bs, 50, "... batch size 50");
	sl_diag_clear(sl_diag_get());
	is_int(sl_project_target_uri(p, "t3", uri, 12, &bs), -1,
	       "a URI too long for the buffer");
	is_err(SL_ELIMIT, "... SL_ELIMIT");
	is_str(rel(unit_errmsg()),
	       "sc/nodestream.yaml:19:7: targets.t3: the target URI (20 "
	       "bytes) does not fit in 12 bytes: postgres://u@h/db",
	       "... names the URI without its password");
	sl_diag_clear(sl_diag_get());
	is_int(sl_project_target_uri(p, "t5", uri, sizeof(uri), &bs), -1,
	       "an unknown target");
	is_str(rel(unit_errmsg()),
	       "sc/nodestream.yaml: no target 't5'; did you mean 't1'?",
	       "... suggests one");
	is_int(sl_project_target_uri(p, "zzzzz", uri, sizeof(uri), &bs), -1,
	       "an unknown target, nothing close");
	is_str(rel(unit_errmsg()), "sc/nodestream.yaml: no target 'zzzzz'",
	       "... no suggestion");
	char *s = show(p, NULL, false);
	is_str(s,
	       "scope | name    | file                  | targets    | "
	       "annotations\n"
	       "------+---------+-----------------------+------------+-------"
	       "----------------------------------\n"
	       "a     | sample  | pipelines/sample.yaml | t1, t2     | team: "
	       "core, weight: 2\n"
	       "a     | people  | pipelines/people.yml  | t3, t1, t2 | team: "
	       "core, weight: 2\n"
	       "a     | x.y     | other/x.y.yaml        | t1, t2     | team: "
	       "own, weight: 2, live: true, \xc3\xbc: "
	       "\xc3\xa9\xf0\x9f\x98\x80\t\n"
	       "a     | Sample2 | cfg.yaml              | t1, t2     | team: "
	       "core, weight: 2\n"
	       "c     | sample  | pipelines/sample.yaml | t2\n",
	       "show of every scope");
	free(s);
	/* Nodestream 0.16.1's `show -j -s a` on this project printed this. */
	s = show(p, "a", SL_PROJECT_SHOW_JSON);
	is_str(s,
	       "[\"pipelines/sample.yaml\", \"pipelines/people.yml\", "
	       "{\"path\": \"other/x.y.yaml\", \"annotations\": {\"team\": "
	       "\"own\", \"live\": true, \"\\u00fc\": "
	       "\"\\u00e9\\ud83d\\ude00\\t\"}}, {\"path\": \"cfg.yaml\", "
	       "\"name\": \"Sample2\"}]\n",
	       "show -j of scope a, as Nodestream prints it");
	free(s);
	sl_project_delete(p);
	unsetenv("SLUICE_T_URL");
}

/** Target URIs: every database and every error. */
TAP_CASE(targets)
{
	wfile("tg/p.yaml", pipeline_text);
	const char *path = wfile(
	        "tg/nodestream.yaml",
	        "targets:\n"
	        "  abs: {database: sqlite, path: /var/g.db, batch_size: "
	        "'200'}\n"
	        "  nul: {database: ~}\n"
	        "  pg: {database: postgresql, uri: 'postgresql://h/d'}\n"
	        "  n4s: {database: neo4j, uri: 'neo4j+s://h:7687'}\n"
	        "  nep: {database: neptune, host: x}\n"
	        "  nouri: {database: neo4j}\n"
	        "  bad: {database: neo4j, uri: 'http://bob:hunter2@h:7474'}\n"
	        "  badpg: {database: postgres, uri: 'mysql://u:pw@h'}\n"
	        "  bs0: {database: 'null', batch_size: 0}\n"
	        "  bsx: {database: 'null', batch_size: '12x'}\n"
	        "  nopath: {database: sqlite}\n"
	        "  env: {database: neo4j, uri: !env SLUICE_T_URI, "
	        "batch_size: !env SLUICE_T_BS}\n"
	        "  n4o: {database: neo4j, uri: 'neo4j://h:7687?r=1#x', "
	        "username: 'a b', password: 'p@ss:/w', database_name: g, "
	        "chunk_size: '50', use_enterprise_features: true, use_apoc: "
	        "false}\n"
	        "  n4u: {database: neo4j, uri: 'bolt://u:v@h/d', username: x, "
	        "database_name: g}\n"
	        "  pgc: {database: postgresql, uri: "
	        "'postgresql://h/d?sslmode=disable', username: u, password: "
	        "'p w', flush_concurrency: 8, collect_stats: true, "
	        "ingest_strategy_name: x}\n"
	        "  n4f: {database: neo4j, uri: 'bolt://h', flush_concurrency: "
	        "40}\n"
	        "  sqc: {database: sqlite, path: /g.db, username: u, password: "
	        "hunter2, flush_concurrency: 2}\n"
	        "scopes:\n"
	        "  s: {pipelines: [p.yaml]}\n");
	setenv("SLUICE_T_URI", "bolt://user:pw@db:7687", 1);
	setenv("SLUICE_T_BS", "500", 1);
	struct sl_project *p = load(path);
	ok(p != NULL, "a project of many targets loads");
	if (p == NULL)
		return;
	is_int(sl_project_n_targets(p), 17, "seventeen targets");
	is_str(sl_project_target(p, 1)->database, "null",
	       "a plain null database is 'null'");
	char uri[256];
	uint32_t bs;
	is_int(sl_project_target_uri(p, "abs", uri, sizeof(uri), &bs), 0,
	       "absolute sqlite path");
	is_str(uri, "sqlite:/var/g.db", "... kept");
	is_int(bs, 200, "... batch size from a string");
	is_int(sl_project_target_uri(p, "nul", uri, sizeof(uri), &bs), 0,
	       "database: ~");
	is_str(uri, "null:", "... null:");
	is_int(sl_project_target_uri(p, "pg", uri, sizeof(uri), &bs), 0,
	       "postgresql");
	is_str(uri, "postgresql://h/d", "... URI");
	is_int(sl_project_target_uri(p, "n4s", uri, sizeof(uri), &bs), 0,
	       "neo4j+s");
	is_str(uri, "neo4j+s://h:7687", "... URI");
	is_int(sl_project_target_uri(p, "n4o", uri, sizeof(uri), &bs), 0,
	       "neo4j with every option");
	is_str(uri,
	       "neo4j://a%20b:p%40ss%3A%2Fw@h:7687/g?r=1&chunk_size=50&"
	       "enterprise=true#x",
	       "... credentials encoded, database, the store's options");
	is_int(sl_project_target_uri(p, "n4u", uri, sizeof(uri), &bs), 0,
	       "neo4j with credentials and database in its uri");
	is_str(uri, "bolt://u:v@h/d", "... the uri's own win");
	char *logged = NULL;
	size_t logged_n = 0;
	FILE *log = open_memstream(&logged, &logged_n);
	if (log == NULL)
		bail_out("open_memstream");
	sl_log_set_output(log);
	is_int(sl_project_target_uri(p, "pgc", uri, sizeof(uri), &bs), 0,
	       "postgresql with credentials and writer options");
	is_str(uri, "postgresql://u:p%20w@h/d?sslmode=disable&lanes=8",
	       "... credentials as user information, flush_concurrency as "
	       "lanes");
	is_int(sl_project_target_uri(p, "n4f", uri, sizeof(uri), &bs), 0,
	       "neo4j with flush_concurrency 40");
	is_str(uri, "bolt://h?connections=16",
	       "... as connections, at most 16");
	is_int(sl_project_target_uri(p, "sqc", uri, sizeof(uri), &bs), 0,
	       "sqlite with credentials and flush_concurrency");
	is_str(uri, "sqlite:/g.db", "... neither reaches the URI");
	sl_log_set_output(stderr);
	fclose(log);
	const char *said[] = {
	        "targets.pgc.collect_stats: ignored",
	        "targets.pgc.ingest_strategy_name: ignored",
	        "targets.n4f.flush_concurrency: 40 lanes asked for",
	        "targets.sqc.flush_concurrency: ignored",
	        "targets.sqc.username: ignored",
	        "targets.sqc.password: ignored",
	};
	for (size_t i = 0; i < sizeof(said) / sizeof(*said); i++)
		ok(logged != NULL && strstr(logged, said[i]) != NULL,
		   "an info line: %s", said[i]);
	ok(logged != NULL &&
	           strstr(logged, "targets.pgc.flush_concurrency") == NULL,
	   "... none for what postgresql honours");
	ok(logged != NULL && strstr(logged, "hunter2") == NULL,
	   "... no password in them");
	free(logged);
	is_int(sl_project_target_uri(p, "env", uri, sizeof(uri), &bs), 0,
	       "URI and batch size from !env");
	is_str(uri, "bolt://user:pw@db:7687", "... URI");
	is_int(bs, 500, "... batch size");
	sl_project_delete(p);

	/* Unset !env and !config without a configuration give null, as in
	 * Nodestream: a password from an unset variable is no password. */
	unsetenv("SLUICE_T_UNSET");
	path = wfile("tg/unset.yaml",
	             "targets:\n"
	             "  t: {database: neo4j, uri: 'bolt://h:7687', username: "
	             "u, password: !env SLUICE_T_UNSET}\n"
	             "scopes:\n"
	             "  s: {config: {k: !config x}, pipelines: [p.yaml]}\n");
	p = load(path);
	ok(p != NULL, "an unset !env and a !config in the project load");
	if (p == NULL)
		return;
	is_int(sl_project_target_uri(p, "t", uri, sizeof(uri), &bs), 0,
	       "the target's URI");
	is_str(uri, "bolt://u@h:7687", "... without a password");
	sl_project_delete(p);
	p = load(tpath("tg/nodestream.yaml"));
	if (p == NULL)
		return;

	struct {
		/** Target name. */
		const char *name;
		/** Expected message. */
		const char *want;
	} errs[] = {
	        {"nep", "tg/nodestream.yaml:6:19: targets.nep: database "
	                "'neptune' is not supported; sluice supports sqlite "
	                "(with a path), null, postgresql or postgres (with a "
	                "uri) and neo4j (with a uri)"},
	        {"nouri", "tg/nodestream.yaml:7:10: targets.nouri: database "
	                  "neo4j needs a uri"},
	        {"bad", "tg/nodestream.yaml:8:31: targets.bad: uri "
	                "'http://bob@h:7474' is not a Neo4j URI (bolt://, "
	                "bolt+s://, bolt+ssc://, neo4j://, neo4j+s:// or "
	                "neo4j+ssc://)"},
	        {"badpg", "tg/nodestream.yaml:9:36: targets.badpg: uri "
	                  "'mysql://u@h' is not a PostgreSQL URI (postgres:// "
	                  "or postgresql://)"},
	        {"bs0", "tg/nodestream.yaml:10:39: targets.bs0.batch_size: "
	                "expected a positive integer, got '0'"},
	        {"bsx", "tg/nodestream.yaml:11:39: targets.bsx.batch_size: "
	                "expected a positive integer, got '12x'"},
	        {"nopath", "tg/nodestream.yaml:12:11: targets.nopath: database "
	                   "sqlite needs a path"},
	};
	for (size_t i = 0; i < sizeof(errs) / sizeof(*errs); i++) {
		sl_diag_clear(sl_diag_get());
		is_int(sl_project_target_uri(p, errs[i].name, uri, sizeof(uri),
		                             &bs),
		       -1, "target %s fails", errs[i].name);
		is_str(rel(unit_errmsg()), errs[i].want, "... message");
		ok(strstr(unit_errmsg(), "hunter2") == NULL &&
		           strstr(unit_errmsg(), ":pw@") == NULL,
		   "... no password");
	}
	sl_project_delete(p);

	/* Redaction. */
	char r[64];
	is_str(sl_uri_redact("bolt://u:p@h:1/x?y#z", r, sizeof(r)),
	       "bolt://u@h:1/x?y#z", "redact user:pass@");
	is_str(sl_uri_redact("bolt://u@h", r, sizeof(r)), "bolt://u@h",
	       "redact: no password");
	is_str(sl_uri_redact("bolt://h:7687/a@b", r, sizeof(r)),
	       "bolt://h:7687/a@b", "redact: @ in the path is not userinfo");
	is_str(sl_uri_redact("pg://u:p:q@h", r, sizeof(r)), "pg://u@h",
	       "redact: colon in the password");
	is_str(sl_uri_redact("bolt://u:p@h", r, 9), "bolt://u",
	       "redact: truncated");
	unsetenv("SLUICE_T_URI");
	unsetenv("SLUICE_T_BS");
}

/** Schema errors, each with its position. */
TAP_CASE(errors)
{
	wfile("e/pipelines/a.yaml", pipeline_text);
	wfile("e/pipelines/b.yaml", pipeline_text);
	mkdir(tpath("e/dir.yaml"), 0700);
	static const char tg[] = "targets: {t: {database: 'null'}}\n";
	struct {
		/** The project text ("%s": the targets line). */
		const char *text;
		/** Expected message (after "e/nodestream.yaml:"). */
		const char *want;
	} cases[] = {
	        {"%sscope: {}\n",
	         "2:1: unknown option 'scope' for a project file; it takes: "
	         "scopes, targets, plugins, storage, include_additional_types"},
	        {"- a\n", "1:1: expected a mapping with scopes and targets, "
	                  "got a list"},
	        {"", "1:1: empty project file (expected a mapping with scopes "
	             "and targets)"},
	        {"%sscopes: [a]\n", "2:9: scopes: expected a mapping, got a "
	                            "list"},
	        {"%sscopes:\n  s: {pipeline: []}\n",
	         "3:7: scopes.s: unknown option 'pipeline' for a scope; it "
	         "takes: config, annotations, targets, pipelines"},
	        {"%sscopes:\n  s:\n    pipelines: [pipelines/nope.yaml]\n",
	         "4:17: scopes.s.pipelines[0]: pipeline file "
	         "pipelines/nope.yaml does not exist (looked for "
	         "TMP/e/pipelines/nope.yaml)"},
	        {"%sscopes:\n  s:\n    pipelines:\n      - path: dir.yaml\n",
	         "5:15: scopes.s.pipelines[0].path: TMP/e/dir.yaml is a "
	         "directory"},
	        {"%sscopes:\n  s:\n    pipelines: [pipelines/a.yaml, "
	         "{path: pipelines/b.yaml, name: a}]\n",
	         "4:66: scopes.s.pipelines[1]: pipeline name 'a' is already "
	         "used in scope 's' (line 4, column 17)"},
	        {"%sscopes:\n  s:\n    pipelines: [pipelines/a.yaml, "
	         "pipelines/a.yaml]\n",
	         "4:35: scopes.s.pipelines[1]: pipeline name 'a' is already "
	         "used in scope 's' (line 4, column 17)"},
	        {"%sscopes:\n  s:\n    targets: [u]\n",
	         "4:15: scopes.s.targets: target 'u' is not defined under "
	         "targets; did you mean 't'?"},
	        {"scopes:\n  s:\n    targets: [t]\n",
	         "3:15: scopes.s.targets: target 't' is not defined under "
	         "targets; the project defines no targets"},
	        {"%sscopes:\n  s:\n    pipelines:\n      - path: "
	         "pipelines/a.yaml\n        targets: [t, zzz]\n",
	         "6:22: scopes.s.pipelines[0].targets: target 'zzz' is not "
	         "defined under targets"},
	        {"%sscopes:\n  s:\n    pipelines:\n      - {name: x}\n",
	         "5:9: scopes.s.pipelines[0]: no path"},
	        {"%sscopes:\n  s:\n    pipelines:\n      - {path: "
	         "pipelines/a.yaml, tags: [x]}\n",
	         "5:34: scopes.s.pipelines[0]: unknown option 'tags' for a "
	         "pipeline; it takes: path, name, annotations, targets, "
	         "exclude_inherited_targets"},
	        {"%sscopes:\n  s:\n    pipelines: [[pipelines/a.yaml]]\n",
	         "4:17: scopes.s.pipelines[0]: expected a pipeline path or a "
	         "mapping with a path, got a list"},
	        {"%sscopes:\n  s:\n    pipelines: pipelines/a.yaml\n",
	         "4:16: scopes.s.pipelines: expected a list of pipelines, got "
	         "'pipelines/a.yaml'"},
	        {"%sscopes:\n  s:\n    annotations: {k: [1]}\n",
	         "4:22: scopes.s.annotations: annotation 'k': expected a "
	         "string, number or boolean, got a list"},
	        {"%sscopes:\n  s:\n    annotations: {k: }\n",
	         "4:20: scopes.s.annotations: annotation 'k': expected a "
	         "string, number or boolean, got null"},
	        {"%sscopes:\n  s:\n    config: [1]\n",
	         "4:13: scopes.s.config: expected a mapping, got a list"},
	        {"%sscopes:\n  s:\n    targets: t\n",
	         "4:14: scopes.s.targets: expected a list of target names, got "
	         "'t'"},
	        {"%sscopes:\n  s:\n    pipelines:\n      - {path: "
	         "pipelines/a.yaml, exclude_inherited_targets: maybe}\n",
	         "5:61: scopes.s.pipelines[0].exclude_inherited_targets: "
	         "expected a boolean, got a string"},
	        {"%sscopes:\n  s:\n    pipelines:\n      - {path: "
	         "pipelines/a.yaml, name: 5}\n",
	         "5:40: scopes.s.pipelines[0].name: expected a string, got "
	         "'5'"},
	        {"%sscopes:\n  s: {}\n  s: {}\n",
	         "4:3: scopes.s: scope 's' is defined twice (first at line 3, "
	         "column 3)"},
	        {"targets:\n  t: {database: 'null'}\n  t: {database: 'null'}\n",
	         "3:3: targets.t: target 't' is defined twice (first at line "
	         "2, column 6)"},
	        {"targets:\n  t: bolt://h\n",
	         "2:6: targets.t: expected a mapping of connector options with "
	         "a database, got 'bolt://h'"},
	        {"targets:\n  t: {uri: 'bolt://h'}\n",
	         "2:6: targets.t: no database (e.g. database: neo4j, sqlite or "
	         "null)"},
	        {"targets:\n  t: {database: neo4j, password: !delayed x}\n",
	         "2:34: !delayed: expected a mapping with a value"},
	        {"targets:\n  t: {database: neo4j, p: !jmespath x}\n",
	         "2:27: targets.t: tag !jmespath is not allowed here (a plain "
	         "YAML value was expected)"},
	        {"%splugins: {a: 1}\n",
	         "2:10: plugins: expected a list, got a mapping"},
	        {"%sstorage: [1]\n", "2:10: storage: expected a mapping, got a "
	                             "list"},
	        {"%sinclude_additional_types: sometimes\n",
	         "2:27: include_additional_types: expected a boolean, got a "
	         "string"},
	};
	unsetenv("SLUICE_T_UNSET");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char text[1024], want[1024], w2[1024];
		snprintf(text, sizeof(text), cases[i].text, tg);
		snprintf(w2, sizeof(w2), "e/nodestream.yaml:%s", cases[i].want);
		/* TMP stands for the temporary directory. */
		char *t = strstr(w2, "TMP");
		if (t != NULL)
			snprintf(want, sizeof(want), "%.*s%s%s", (int)(t - w2),
			         w2, tmpdir, t + 3);
		else
			snprintf(want, sizeof(want), "%s", w2);
		load_err(text, SL_EINVAL, want);
	}
	load_err("scopes: [", SL_EPARSE, NULL);
	const char *missing = tpath("e/missing.yaml");
	sl_diag_clear(sl_diag_get());
	ok(sl_project_load(missing) == NULL, "a missing project file fails");
	is_err(SL_ESYSTEM, "... with ESYSTEM");
	ok(strstr(unit_errmsg(), "missing.yaml") != NULL,
	   "... naming the file");
}

/** Loading under failure of each allocation in turn. */
TAP_CASE(faults)
{
	wfile("flt/pipelines/a.yaml", pipeline_text);
	wfile("flt/inc.yaml", "{n: 1}\n");
	const char *p = wfile(
	        "flt/nodestream.yaml",
	        "scopes:\n"
	        "  s:\n"
	        "    config: {a: !env SLUICE_T_FLT, i: !include inc.yaml,\n"
	        "             d: !delayed {value: !env SLUICE_T_FLT}}\n"
	        "    annotations: {k: v, n: 1}\n"
	        "    targets: [t]\n"
	        "    pipelines:\n"
	        "      - pipelines/a.yaml\n"
	        "      - {path: pipelines/a.yaml, name: b, annotations: {k: "
	        "w, m: 2}, targets: [u, t]}\n"
	        "targets:\n"
	        "  t: {database: neo4j, uri: 'bolt://h', password: !delayed "
	        "{value: !env SLUICE_T_FLT}}\n"
	        "  u: {database: sqlite, path: g.db}\n");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", p);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL || chdir(tpath("flt")) != 0)
		bail_out("cannot change directory");
	setenv("SLUICE_T_FLT", "v", 1);
	int steps = 0, clean = 1, done = 0;
	for (long k = 0; k < 100000; k++) {
		sl_diag_clear(sl_diag_get());
		sl_alloc_fail_after(k);
		struct sl_project *pr = sl_project_load(path);
		char *s = NULL;
		if (pr != NULL) {
			s = show(pr, NULL, SL_PROJECT_SHOW_JSON);
			if (s == NULL && sl_diag_code() != SL_EOOM)
				clean = 0;
		}
		sl_alloc_fail_after(-1);
		steps++;
		if (pr != NULL && s != NULL) {
			const struct sl_value *cfg =
			        sl_project_pipeline(pr, 0)->config;
			const struct sl_value *d = sl_object_get_cstr(cfg, "d");
			done = sl_project_n_pipelines(pr) == 2 && d != NULL &&
			       d->type == SL_VSTR && d->len == 1 &&
			       strcmp(annotations_of(
			                      sl_project_pipeline(pr, 1)),
			              "k=w,n=1,m=2") == 0;
			free(s);
			sl_project_delete(pr);
			break;
		}
		free(s);
		sl_project_delete(pr);
		if (sl_diag_code() != SL_EOOM) {
			clean = 0;
			note("step %ld: %s", k, unit_errmsg());
		}
	}
	ok(done && clean && steps > 10,
	   "every allocation failure is a clean EOOM (%d points)", steps);
	unsetenv("SLUICE_T_FLT");
	if (chdir(cwd) != 0)
		bail_out("cannot change back");
}

/** Make the temporary directory the cases write into. */
static int
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-prj-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	return 0;
}

/** Remove the temporary directory. */
static void
teardown(void)
{
	tmp_remove(tmpdir);
	sl_diag_clear(sl_diag_get());
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
