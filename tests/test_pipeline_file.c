/*
 * Pipeline files (sluice/pipeline_file.h): Nodestream's example pipelines
 * and the compat fixtures with their content, schema errors with exact
 * positions, annotation selection, !env, !config, !include, and
 * allocation failure at every point.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/conf.h"
#include "sluice/pipeline_file.h"
#include "sluice/yamlread.h"
#include "text.h"
#include "tmpfiles.h"
#include "unit.h"

/** Temporary directory of this run. */
static char tmpdir[256];

/**
 * Write a node: scalars as text ('text' when not plain), a tag as
 * !tag(...), sequences [a,b], mappings {k:v}.
 */
static void
dump(struct text *o, const struct sl_conf *n)
{
	if (n->tag != NULL) {
		text_puts(o, n->tag);
		text_puts(o, "(");
	}
	if (n->kind == SL_CONF_SCALAR) {
		if (!n->plain)
			text_puts(o, "'");
		text_puts(o, n->text);
		if (!n->plain)
			text_puts(o, "'");
	} else {
		bool map = n->kind == SL_CONF_MAP;
		text_puts(o, map ? "{" : "[");
		for (uint32_t i = 0; i < n->n; i++) {
			if (i > 0)
				text_puts(o, ",");
			if (map) {
				dump(o, n->items[2 * i]);
				text_puts(o, ":");
				dump(o, n->items[2 * i + 1]);
			} else {
				dump(o, n->items[i]);
			}
		}
		text_puts(o, map ? "}" : "]");
	}
	if (n->tag != NULL)
		text_puts(o, ")");
}

/** The node at dotted `path` under `n` (numbers index sequences). */
static const struct sl_conf *
at(const struct sl_conf *n, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *tok = strtok(buf, "."); tok != NULL && n != NULL;
	     tok = strtok(NULL, ".")) {
		if (n->kind == SL_CONF_SEQ) {
			unsigned long i = strtoul(tok, NULL, 10);
			n = i < n->n ? n->items[i] : NULL;
		} else {
			n = sl_conf_get(n, tok);
		}
	}
	return n;
}

/** Check that the node at `path` under `n` dumps as `want`. */
#define is_node(n, path, want)                                                 \
	do {                                                                   \
		const struct sl_conf *x_ = at((n), (path));                    \
		struct text o_ = {0};                                          \
		if (x_ != NULL)                                                \
			dump(&o_, x_);                                         \
		is_str(x_ != NULL ? o_.s : "(missing)", want, "%s = %s", path, \
		       want);                                                  \
		free(o_.s);                                                    \
	} while (0)

/** Write `text` to tmpdir/name, making directories; returns the path. */
static const char *
wfile(const char *name, const char *text)
{
	return tmp_write(tmpdir, name, text);
}

/** The path of fixture `name` in tests/data/pipelines. */
static const char *
fixture(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/pipelines/%s", SLUICE_TEST_DATA, name);
	return path;
}

/** Load `path` with `opts`; on failure note the error. */
static struct sl_pipeline_file *
load(const char *path, const struct sl_pipeline_file_opts *opts)
{
	sl_diag_clear(sl_diag_get());
	struct sl_pipeline_file *f = sl_pipeline_file_load(path, opts);
	if (f == NULL)
		note("load %s: %s", path, unit_errmsg());
	return f;
}

/** Load tmpdir/e.yaml holding `text`; must fail with `want` (no dir). */
static void
load_err(const char *text, enum sl_errcode code, const char *want)
{
	const char *path = wfile("e.yaml", text);
	sl_diag_clear(sl_diag_get());
	struct sl_pipeline_file *f = sl_pipeline_file_load(path, NULL);
	ok(f == NULL, "fails: %s", want);
	sl_pipeline_file_delete(f);
	is_err(code, "... with %s", sl_errcode_name(code));
	const char *msg = unit_errmsg();
	size_t dl = strlen(tmpdir);
	if (strncmp(msg, tmpdir, dl) == 0 && msg[dl] == '/')
		msg += dl + 1;
	is_str(msg, want, "... message");
}

/** The fifa checks. */
TAP_CASE(fifa)
{
	struct sl_pipeline_file *f =
	        load(fixture("fifa_2021_player_data.yaml"), NULL);
	ok(f != NULL, "fifa example loads");
	if (f == NULL)
		return;
	is_int(f->n_steps, 2, "2 steps");
	is_int(f->n_all, 2, "2 in the file");
	is_str(f->stem, "fifa_2021_player_data", "stem");
	is_str(f->steps[0].implementation,
	       "nodestream.pipeline.extractors.files:FileExtractor",
	       "extractor implementation");
	is_str(f->steps[0].factory, "local", "factory");
	is_node(f->steps[0].arguments, "globs",
	        "[tests/data/fifa_2021_player_data.csv]");
	is_int(f->steps[0].node->line, 1, "step 1 at line 1");
	is_int(f->steps[0].n_annotations, 0, "no annotations");
	const struct sl_stepdef *s = &f->steps[1];
	is_str(s->implementation, "nodestream.interpreting:Interpreter",
	       "interpreter implementation");
	ok(s->factory == NULL, "no factory");
	is_int(s->index, 1, "index 1");
	is_int(s->node->line, 7, "step 2 at line 7");
	is_int(s->node->col, 3, "... column 3");
	const struct sl_conf *a = s->arguments;
	is_int(at(a, "interpretations")->n, 5, "5 interpretations");
	is_node(a, "interpretations.0",
	        "{type:source_node,node_type:Player,key:{player_id:!jmespath("
	        "player_id)},additional_types:[Person]}");
	is_node(a, "interpretations.1",
	        "{type:properties,properties:{name:!jmespath(name),overall:!"
	        "jmespath(overall),hits:!jmespath(hits),age:!jmespath(age),"
	        "potential:!jmespath(potential)}}");
	is_node(a, "interpretations.2",
	        "{type:relationship,node_type:PlaceOfOrigin,relationship_type:"
	        "ORIGINATES_FROM,node_key:{name:!jmespath(nationality)},key_"
	        "normalization:{do_trim_whitespace:true,do_lowercase_strings:"
	        "false}}");
	is_node(a, "interpretations.3.node_key.name", "!jmespath(position)");
	is_node(a, "interpretations.4.node_type", "Team");
	bool b = false;
	ok(sl_conf_bool(at(a, "interpretations.4.key_normalization."
	                      "do_trim_whitespace"),
	                NULL, &b) == 0 &&
	           b,
	   "do_trim_whitespace is boolean true");
	const struct sl_conf *j = at(a, "interpretations.1.properties.hits");
	is_int(j->line, 20, "!jmespath hits at line 20");
	is_int(j->col, 18, "... column 18 (after two spaces)");
	sl_pipeline_file_delete(f);
}

/** The examples checks. */
TAP_CASE(examples)
{
	struct sl_pipeline_file *f = load(fixture("people.yaml"), NULL);
	ok(f != NULL && f->n_steps == 2, "people example: 2 steps");
	if (f != NULL) {
		const struct sl_conf *a = f->steps[1].arguments;
		is_node(a, "iterate_on", "!jmespath(people)");
		is_node(a, "before_iteration",
		        "[{type:relationship,relationship_type:IS_MEMBER_OF,"
		        "node_type:Organization,node_key:{name:!jmespath("
		        "organization.name)}}]");
		is_node(a, "interpretations.0.key",
		        "{first_name:!jmespath(name),last_name:!jmespath("
		        "surname)}");
		is_node(a, "interpretations.2.node_key.phone",
		        "!jmespath(contact.phone)");
		is_node(f->steps[0].arguments, "globs",
		        "[tests/data/people.json]");
	}
	sl_pipeline_file_delete(f);

	f = load(fixture("dns.yaml"), NULL);
	ok(f != NULL && f->n_steps == 2, "dns example: 2 steps");
	if (f != NULL) {
		const struct sl_conf *sw =
		        at(f->steps[1].arguments, "interpretations.0");
		is_node(sw, "switch_on", "!jmespath('type')");
		is_node(sw, "default.0.properties.value", "!jmespath('value')");
		is_int(at(sw, "cases")->n, 2, "2 cases");
		is_node(sw, "cases.A.1",
		        "{type:relationship,node_type:Ipv4,relationship_type:"
		        "RESOLVES_TO,node_key:{address:!jmespath('value')}}");
		is_node(sw, "cases.CNAME.0.node_type", "CNAME");
		ok(!at(sw, "switch_on")->plain,
		   "quoted !jmespath 'type' is not plain");
	}
	sl_pipeline_file_delete(f);

	static const char *const ttl[][3] = {
	        {"node-ttls.yaml", "NODE", "ObjectA"},
	        {"relationship-ttls.yaml", "RELATIONSHIP", "CONNECTED_TO"},
	};
	for (int i = 0; i < 2; i++) {
		f = load(fixture(ttl[i][0]), NULL);
		ok(f != NULL && f->n_steps == 1, "%s: 1 step", ttl[i][0]);
		if (f == NULL)
			continue;
		is_str(f->steps[0].implementation,
		       "nodestream.pipeline.extractors:"
		       "TimeToLiveConfigurationExtractor",
		       "TTL implementation");
		const struct sl_conf *a = f->steps[0].arguments;
		is_node(a, "graph_object_type", ttl[i][1]);
		is_node(a, "configurations.0.object_type", ttl[i][2]);
		int64_t h = 0;
		ok(sl_conf_int(at(a, "configurations.0.expiry_in_hours"), NULL,
		               &h) == 0 &&
		           h == 48,
		   "expiry_in_hours is the integer 48");
		ok(sl_conf_int(at(a, "configurations.1.expiry_in_hours"), NULL,
		               &h) == 0 &&
		           h == 24,
		   "... and 24");
		sl_pipeline_file_delete(f);
	}

	f = load(fixture("multiple_passes.yaml"), NULL);
	ok(f != NULL && f->n_steps == 1, "multiple passes: 1 step");
	if (f != NULL) {
		const struct sl_conf *p =
		        at(f->steps[0].arguments, "interpretations");
		ok(p->kind == SL_CONF_SEQ && p->n == 2 &&
		           p->items[0]->kind == SL_CONF_SEQ &&
		           p->items[0]->n == 2 && p->items[1]->n == 2,
		   "a list of two lists of two");
		is_node(p, "1.1.relationship_type", "HAILS_FROM");
		is_node(p, "0.0.properties.name", "!jmespath(name)");
	}
	sl_pipeline_file_delete(f);

	f = load(fixture("kafka.yaml"), NULL);
	ok(f != NULL && f->n_steps == 1, "kafka: 1 step");
	if (f != NULL) {
		const struct sl_conf *a = f->steps[0].arguments;
		is_node(a, "bootstrap_servers", "['localhost:9092']");
		int64_t v = 0;
		ok(sl_conf_int(at(a, "max_records"), NULL, &v) == 0 && v == 100,
		   "max_records 100");
		is_node(a, "offset_reset", "earliest");
	}
	sl_pipeline_file_delete(f);

	/* The compat fixtures. */
	f = load(fixture("compat_airports.yaml"), NULL);
	ok(f != NULL && f->n_steps == 2, "compat airports: 2 steps");
	if (f != NULL) {
		is_str(f->steps[0].implementation,
		       "nodestream.pipeline.extractors:FileExtractor",
		       "airports extractor");
		is_node(f->steps[0].arguments, "globs",
		        "[tests/data/airport-codes.csv]");
		const struct sl_conf *a = f->steps[1].arguments;
		is_node(a, "interpretations.0.properties",
		        "{elevation_in_feet:!jmespath(elevation_ft),iata_code:!"
		        "jmespath(iata_code),local_code:!jmespath(local_code),"
		        "name:!jmespath(name)}");
		is_node(a, "interpretations.0.key.identifier",
		        "!jmespath(ident)");
		is_node(a, "interpretations.2",
		        "{type:relationship,node_type:Region,relationship_type:"
		        "WITHIN,node_key:{code:!jmespath(iso_region)}}");
	}
	sl_pipeline_file_delete(f);
	f = load(fixture("compat_fifa.yaml"), NULL);
	ok(f != NULL && f->n_steps == 2, "compat fifa: 2 steps");
	if (f != NULL) {
		const struct sl_conf *a = f->steps[1].arguments;
		is_int(at(a, "interpretations")->n, 4, "4 interpretations");
		is_node(a, "interpretations.0.properties.potential",
		        "!jmespath(potential)");
		is_node(a, "interpretations.1.node_type", "Country");
		ok(at(a, "interpretations.0.additional_types") == NULL,
		   "no additional_types in the compat variant");
	}
	sl_pipeline_file_delete(f);
}

/** The schema errors checks. */
TAP_CASE(schema_errors)
{
	load_err("a: 1\n", SL_EINVAL,
	         "e.yaml:1:1: expected a list of steps, got a mapping");
	load_err("", SL_EINVAL,
	         "e.yaml:1:1: no steps (expected a list of "
	         "steps)");
	load_err("# nothing\n", SL_EINVAL,
	         "e.yaml:1:1: no steps (expected a list of steps)");
	load_err("[]\n", SL_EINVAL,
	         "e.yaml:1:1: no steps (expected a list of steps)");
	load_err("just text\n", SL_EINVAL,
	         "e.yaml:1:1: expected a list of steps, got a scalar");
	load_err("- implementation: a\n- just a string\n", SL_EINVAL,
	         "e.yaml:2:3: step 2: expected a mapping with an "
	         "implementation, got a scalar");
	load_err("- implementation: a\n- factory: x\n", SL_EINVAL,
	         "e.yaml:2:3: step 2 has no implementation");
	load_err("- implementation: [a]\n", SL_EINVAL,
	         "e.yaml:1:19: implementation: expected a string, got a list");
	load_err("- implementation: 5\n", SL_EINVAL,
	         "e.yaml:1:19: implementation: expected a string, got '5'");
	load_err("- implementation:\n", SL_EINVAL,
	         "e.yaml:1:17: implementation: expected a string, got null");
	load_err("- implementation: !jmespath x\n", SL_EINVAL,
	         "e.yaml:1:19: implementation: expected a string, got a "
	         "!jmespath value");
	load_err("- implementation: a\n  factory: {b: 1}\n", SL_EINVAL,
	         "e.yaml:2:12: factory: expected a string, got a mapping");
	load_err("- implementation: a\n  arguments: [1]\n", SL_EINVAL,
	         "e.yaml:2:14: arguments: expected a mapping, got a list");
	load_err("- implementation: a\n  arguments: x\n", SL_EINVAL,
	         "e.yaml:2:14: arguments: expected a mapping, got a scalar");
	load_err("- implementation: a\n  annotations: live\n", SL_EINVAL,
	         "e.yaml:2:16: annotations: expected a list of strings, got "
	         "a scalar");
	load_err("- implementation: a\n  annotations:\n    - live\n    - [x]\n",
	         SL_EINVAL,
	         "e.yaml:4:7: annotations: expected a string, got a list");
	load_err("- implementation: a\n  annotations: [yes]\n", SL_EINVAL,
	         "e.yaml:2:17: annotations: expected a string, got 'yes'");
	load_err("- implementation: a\n  argumnets: {}\n", SL_EINVAL,
	         "e.yaml:2:3: unknown key 'argumnets' in a step (known keys: "
	         "implementation, factory, arguments, annotations)");
	load_err("- implementation: a\n  arguments: {x: [1, 2}\n", SL_EPARSE,
	         "e.yaml:2:23: mismatched flow mapping end");
	char missing[PATH_MAX];
	snprintf(missing, sizeof(missing), "%s/none.yaml", tmpdir);
	struct sl_pipeline_file *f = load(missing, NULL);
	ok(f == NULL, "a missing file fails");
	is_err(SL_ESYSTEM, "... with ESYSTEM");
	ok(strstr(unit_errmsg(), missing) != NULL, "... naming the path");

	/* Accepted shapes. */
	const char *p =
	        wfile("ok.v2.yaml", "- implementation: a\n  arguments:\n"
	                            "- implementation: 'b'\n  arguments: {}\n"
	                            "  annotations: []\n  factory: \"f\"\n");
	f = load(p, NULL);
	ok(f != NULL && f->n_steps == 2, "null arguments and [] annotations");
	if (f != NULL) {
		ok(f->steps[0].arguments == NULL, "null arguments are absent");
		ok(f->steps[1].arguments != NULL &&
		           f->steps[1].arguments->n == 0,
		   "{} arguments are an empty mapping");
		is_str(f->steps[1].implementation, "b",
		       "quoted implementation");
		is_str(f->steps[1].factory, "f", "quoted factory");
		is_str(f->stem, "ok.v2", "stem drops the last suffix only");
		is_str(f->path, p, "path kept");
	}
	sl_pipeline_file_delete(f);
	sl_pipeline_file_delete(NULL);
}

/** The annotations checks. */
TAP_CASE(annotations)
{
	const char *path = fixture("api_annotations.yaml");
	setenv("API_ENDPOINT", "http://api.example/v1", 1);
	setenv("FILE_PATH", "data/*.json", 1);
	struct sl_pipeline_file *f = load(path, NULL);
	ok(f != NULL && f->n_steps == 2 && f->n_all == 2,
	   "no annotations asked: every step");
	if (f != NULL) {
		is_node(f->steps[0].arguments, "url",
		        "'http://api.example/v1'");
		is_node(f->steps[1].arguments, "globs", "['data/*.json']");
		is_int(f->steps[0].n_annotations, 1, "one annotation");
		is_str(f->steps[0].annotations[0], "live", "live");
	}
	sl_pipeline_file_delete(f);

	/* With -a test, the live step (and its !env) is not loaded. */
	unsetenv("API_ENDPOINT");
	const char *test_a[] = {"test"};
	struct sl_pipeline_file_opts o = {test_a, 1, NULL, false};
	f = load(path, &o);
	ok(f != NULL && f->n_steps == 1 && f->n_all == 2,
	   "-a test: one step of two");
	if (f != NULL) {
		is_int(f->steps[0].index, 1, "the second step");
		is_str(f->steps[0].implementation,
		       "nodestream.pipeline.extractors:FileExtractor",
		       "the file extractor");
	}
	sl_pipeline_file_delete(f);
	f = load(path, NULL);
	ok(f != NULL && f->n_steps == 2,
	   "without annotations the unset API_ENDPOINT loads too");
	if (f != NULL)
		ok(sl_conf_is_null(at(f->steps[0].arguments, "url")),
		   "... as null, as in Nodestream");
	sl_pipeline_file_delete(f);

	const char *other[] = {"staging", "live"};
	setenv("API_ENDPOINT", "x", 1);
	o.annotations = other;
	o.n_annotations = 2;
	f = load(path, &o);
	ok(f != NULL && f->n_steps == 1 && f->steps[0].index == 0,
	   "-a staging -a live: the live step");
	sl_pipeline_file_delete(f);
	const char *none[] = {"prod"};
	o.annotations = none;
	o.n_annotations = 1;
	f = load(path, &o);
	ok(f != NULL && f->n_steps == 0 && f->n_all == 2,
	   "-a prod: no step (not an error)");
	sl_pipeline_file_delete(f);

	const char *p = wfile("mixed.yaml", "- implementation: plain\n"
	                                    "- implementation: tagged\n"
	                                    "  annotations: [a, b]\n"
	                                    "- implementation: empty\n"
	                                    "  annotations: []\n");
	f = load(p, &o);
	ok(f != NULL && f->n_steps == 2 &&
	           strcmp(f->steps[0].implementation, "plain") == 0 &&
	           strcmp(f->steps[1].implementation, "empty") == 0 &&
	           f->steps[1].index == 2,
	   "unannotated steps are always kept");
	sl_pipeline_file_delete(f);
	const char *b[] = {"b"};
	o.annotations = b;
	f = load(p, &o);
	ok(f != NULL && f->n_steps == 3, "-a b: all three");
	sl_pipeline_file_delete(f);
	unsetenv("API_ENDPOINT");
	unsetenv("FILE_PATH");
}

/** The env config checks. */
TAP_CASE(env_config)
{
	setenv("SLUICE_T_NUM", "123", 1);
	const char *p = wfile("env.yaml", "- implementation: x\n"
	                                  "  arguments:\n"
	                                  "    n: !env SLUICE_T_NUM\n"
	                                  "    deep: [{k: !env SLUICE_T_NUM}]\n"
	                                  "    keep: !jmespath a.b\n");
	struct sl_pipeline_file *f = load(p, NULL);
	ok(f != NULL, "!env loads");
	if (f != NULL) {
		const struct sl_conf *a = f->steps[0].arguments;
		is_node(a, "n", "'123'");
		ok(sl_conf_is_str(at(a, "n")), "!env gives a string, not 123");
		is_int(at(a, "n")->line, 3, "replacement keeps line");
		is_int(at(a, "n")->col, 8, "... and column");
		is_node(a, "deep", "[{k:'123'}]");
		is_node(a, "keep", "!jmespath(a.b)");
	}
	sl_pipeline_file_delete(f);
	p = wfile("unset.yaml", "- implementation: x\n"
	                        "  arguments:\n"
	                        "    a: [!env SLUICE_T_UNSET_VAR]\n");
	f = load(p, NULL);
	ok(f != NULL, "an unset !env variable loads");
	if (f != NULL) {
		const struct sl_conf *a = at(f->steps[0].arguments, "a");
		ok(a != NULL && a->kind == SL_CONF_SEQ && a->n == 1 &&
		           sl_conf_is_null(a->items[0]),
		   "... as null, as in Nodestream");
		is_int(a->items[0]->line, 3, "... at the tag's line");
		is_int(a->items[0]->col, 9, "... and column");
	}
	sl_pipeline_file_delete(f);
	load_err("- implementation: x\n  arguments:\n    a: !env {x: 1}\n",
	         SL_EINVAL,
	         "e.yaml:3:8: !env: expected the name of an environment "
	         "variable");
	/* A tag sluice does not know is refused wherever it is in the
	 * arguments, not read as if untagged. */
	load_err("- implementation: file\n  arguments:\n"
	         "    globs: !foo [a.csv]\n",
	         SL_EINVAL,
	         "e.yaml:3:12: !foo is not a tag sluice knows (expected !env, "
	         "!config, !include, or a value provider: " SL_CONF_PROV_TAGS
	         ")");
	load_err("- implementation: x\n  arguments:\n"
	         "    a: {b: [1, !bar x]}\n",
	         SL_EINVAL,
	         "e.yaml:3:16: !bar is not a tag sluice knows (expected !env, "
	         "!config, !include, or a value provider: " SL_CONF_PROV_TAGS
	         ")");
	p = wfile("tags.yaml", "- implementation: x\n  arguments:\n"
	                       "    a: !jmespath x\n"
	                       "    b: {c: !format {fmt: '{x}', x: 1}}\n"
	                       "    d: [!!str 1, ! x, !env SLUICE_T_NUM]\n");
	f = load(p, NULL);
	ok(f != NULL, "value provider, YAML and !env tags still load");
	sl_pipeline_file_delete(f);
	/* Tags outside arguments are not resolved. */
	load_err("- implementation: !env SLUICE_T_NUM\n", SL_EINVAL,
	         "e.yaml:1:19: implementation: expected a string, got a !env "
	         "value");

	static const char cfg_text[] =
	        "{db: {host: h.example, port: 5432}, 'a.b': 1, a: {b: 2},"
	        " list: [1, two], flag: true}";
	struct sl_arena ar;
	sl_arena_create(&ar, 1024, 1 << 20);
	struct sl_value cfg;
	ok(sl_yaml_parse(cfg_text, strlen(cfg_text), &ar, "cfg", &cfg) == 0,
	   "config value");
	struct sl_pipeline_file_opts o = {NULL, 0, &cfg, false};
	p = wfile("cfg.yaml", "- implementation: x\n"
	                      "  arguments:\n"
	                      "    host: !config db.host\n"
	                      "    port: !config db.port\n"
	                      "    dotted: !config a.b\n"
	                      "    db: !config db\n"
	                      "    list: !config list\n"
	                      "    flag: !config flag\n");
	f = load(p, &o);
	ok(f != NULL, "!config loads");
	if (f != NULL) {
		const struct sl_conf *a = f->steps[0].arguments;
		is_node(a, "host", "'h.example'");
		int64_t port = 0;
		ok(sl_conf_int(at(a, "port"), NULL, &port) == 0 && port == 5432,
		   "!config db.port is the integer 5432");
		is_node(a, "dotted", "1");
		is_node(a, "db", "{'host':'h.example','port':5432}");
		is_node(a, "list", "[1,'two']");
		bool b = false;
		ok(sl_conf_bool(at(a, "flag"), NULL, &b) == 0 && b,
		   "!config flag is true");
		is_int(at(a, "db.port")->line, 6, "nodes at the tag's line");
		is_str(at(a, "db.port")->file, p, "... in the pipeline file");
	}
	sl_pipeline_file_delete(f);
	p = wfile("cfg2.yaml", "- implementation: x\n"
	                       "  arguments:\n"
	                       "    host: !config db.nope\n");
	f = load(p, &o);
	ok(f != NULL && sl_conf_is_null(at(f->steps[0].arguments, "host")),
	   "a missing !config key gives null, as in Nodestream");
	sl_pipeline_file_delete(f);
	f = load(p, NULL);
	ok(f != NULL && sl_conf_is_null(at(f->steps[0].arguments, "host")),
	   "!config without a configuration gives null");
	sl_pipeline_file_delete(f);
	sl_arena_destroy(&ar);
	unsetenv("SLUICE_T_NUM");
}

/** The include checks. */
TAP_CASE(include)
{
	char cwd[PATH_MAX];
	ok(getcwd(cwd, sizeof(cwd)) != NULL, "cwd");
	wfile("inc/args.yaml", "globs: !include parts/globs.yaml\n"
	                       "key: !jmespath player_id\n");
	wfile("inc/parts/globs.yaml", "- a.csv\n- !jmespath b\n");
	const char *p =
	        wfile("inc/p.yaml", "- implementation: x\n"
	                            "  arguments: !include args.yaml\n"
	                            "- implementation: y\n"
	                            "  arguments:\n"
	                            "    n: !include parts/globs.yaml\n");
	char main_path[PATH_MAX];
	snprintf(main_path, sizeof(main_path), "%s", p);
	struct sl_pipeline_file *f = load(main_path, NULL);
	ok(f != NULL, "nested includes relative to each including file");
	if (f != NULL) {
		const struct sl_conf *a = f->steps[0].arguments;
		is_node(a, "globs", "[a.csv,!jmespath(b)]");
		is_node(a, "key", "!jmespath(player_id)");
		ok(strstr(a->file, "inc/args.yaml") != NULL && a->line == 1,
		   "included nodes keep their file (%s:%u)", a->file, a->line);
		const struct sl_conf *g = at(a, "globs.1");
		ok(strstr(g->file, "inc/parts/globs.yaml") != NULL &&
		           g->line == 2 && g->col == 3,
		   "... and positions (%s:%u:%u)", g->file, g->line, g->col);
		is_node(f->steps[1].arguments, "n", "[a.csv,!jmespath(b)]");
	}
	sl_pipeline_file_delete(f);

	/* The current directory comes first. */
	wfile("inc/pick.yaml", "from: dir\n");
	wfile("cwd/pick.yaml", "from: cwd\n");
	p = wfile("inc/q.yaml", "- implementation: x\n"
	                        "  arguments: {v: !include pick.yaml}\n");
	char q_path[PATH_MAX];
	snprintf(q_path, sizeof(q_path), "%s", p);
	char cwd_dir[PATH_MAX];
	snprintf(cwd_dir, sizeof(cwd_dir), "%s/cwd", tmpdir);
	ok(chdir(cwd_dir) == 0, "chdir");
	f = load(q_path, NULL);
	ok(f != NULL, "include from the current directory");
	if (f != NULL)
		is_node(f->steps[0].arguments, "v", "{from:cwd}");
	sl_pipeline_file_delete(f);
	ok(chdir(tmpdir) == 0, "chdir");
	f = load(q_path, NULL);
	ok(f != NULL, "include from the file's directory");
	if (f != NULL)
		is_node(f->steps[0].arguments, "v", "{from:dir}");
	sl_pipeline_file_delete(f);
	ok(chdir(cwd) == 0, "chdir back");

	/* Cycles. */
	p = wfile("cyc/self.yaml", "- implementation: x\n"
	                           "  arguments: {a: !include self.yaml}\n");
	f = load(p, NULL);
	ok(f == NULL, "a file including itself fails");
	ok(strstr(unit_errmsg(), "self.yaml:2:18: !include: include cycle: ") !=
	                   NULL &&
	           strstr(unit_errmsg(), "self.yaml -> ") != NULL,
	   "... naming the chain (%s)", unit_errmsg());
	wfile("cyc/a.yaml", "x: !include b.yaml\n");
	wfile("cyc/b.yaml", "- y: !include a.yaml\n");
	p = wfile("cyc/p.yaml", "- implementation: x\n"
	                        "  arguments: {a: !include a.yaml}\n");
	f = load(p, NULL);
	ok(f == NULL, "an indirect cycle fails");
	ok(strstr(unit_errmsg(), "b.yaml:1:6: !include: include cycle: ") !=
	                   NULL &&
	           strstr(unit_errmsg(), "p.yaml -> ") != NULL &&
	           strstr(unit_errmsg(), "a.yaml -> ") != NULL &&
	           strstr(unit_errmsg(), "b.yaml -> ") != NULL,
	   "... naming the chain p -> a -> b -> a (%s)", unit_errmsg());

	/* Depth: 16 nested includes load, 17 do not. */
	for (int i = 0; i < 17; i++) {
		char name[64], text[128];
		snprintf(name, sizeof(name), "deep/d%d.yaml", i);
		if (i < 16)
			snprintf(text, sizeof(text), "v%d: !include d%d.yaml\n",
			         i, i + 1);
		else
			snprintf(text, sizeof(text), "end: %d\n", i);
		wfile(name, text);
	}
	p = wfile("deep/p16.yaml", "- implementation: x\n"
	                           "  arguments: {a: !include d1.yaml}\n");
	f = load(p, NULL);
	ok(f != NULL, "16 nested includes load");
	if (f != NULL)
		is_node(f->steps[0].arguments,
		        "a.v1.v2.v3.v4.v5.v6.v7.v8.v9.v10.v11.v12.v13.v14.v15."
		        "end",
		        "16");
	sl_pipeline_file_delete(f);
	p = wfile("deep/p17.yaml", "- implementation: x\n"
	                           "  arguments: {a: !include d0.yaml}\n");
	f = load(p, NULL);
	ok(f == NULL, "17 nested includes fail");
	ok(strstr(unit_errmsg(), "d15.yaml:1:6: !include: includes nest "
	                         "deeper than 16: ") != NULL,
	   "... naming the chain (%s)", unit_errmsg());

	p = wfile("inc/bad.yaml", "- implementation: x\n"
	                          "  arguments: {a: !include nope.yaml}\n");
	f = load(p, NULL);
	ok(f == NULL, "a missing include fails");
	ok(strstr(unit_errmsg(), "bad.yaml:2:18: !include: cannot open ") !=
	                   NULL &&
	           strstr(unit_errmsg(), "inc/nope.yaml") != NULL,
	   "... naming position and path (%s)", unit_errmsg());
	wfile("inc/broken.yaml", "a: [1\n");
	p = wfile("inc/pb.yaml", "- implementation: x\n"
	                         "  arguments: {a: !include broken.yaml}\n");
	f = load(p, NULL);
	ok(f == NULL, "a broken include fails");
	ok(strstr(unit_errmsg(), "inc/broken.yaml:2:1: ") != NULL,
	   "... at the included file's position (%s)", unit_errmsg());
	p = wfile("inc/pl.yaml", "- implementation: x\n"
	                         "  arguments: !include parts/globs.yaml\n");
	f = load(p, NULL);
	ok(f == NULL, "arguments included as a list fail");
	ok(strstr(unit_errmsg(), "globs.yaml:1:1: arguments: expected a "
	                         "mapping, got a list") != NULL,
	   "... at the included node (%s)", unit_errmsg());
}

/** Loading under failure of each allocation in turn. */
TAP_CASE(faults)
{
	wfile("flt/inc.yaml", "a: &x [1, !jmespath y]\nb: *x\n");
	const char *p =
	        wfile("flt/p.yaml", "- implementation: x\n"
	                            "  factory: f\n"
	                            "  annotations: [t]\n"
	                            "  arguments:\n"
	                            "    i: !include inc.yaml\n"
	                            "    e: !env SLUICE_T_FLT\n"
	                            "    c: !config k.l\n"
	                            "    m: {<<: {p: 1}, q: !jmespath z}\n"
	                            "- implementation: y\n");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", p);
	setenv("SLUICE_T_FLT", "v", 1);
	static const char cfg_text[] = "{k: {l: [1, 'two', {m: 3.5}]}}";
	struct sl_arena ar;
	sl_arena_create(&ar, 1024, 1 << 20);
	struct sl_value cfg;
	sl_yaml_parse(cfg_text, strlen(cfg_text), &ar, "cfg", &cfg);
	const char *ann[] = {"t"};
	struct sl_pipeline_file_opts o = {ann, 1, &cfg, false};
	int steps = 0, clean = 1, done = 0;
	for (long k = 0; k < 100000; k++) {
		sl_diag_clear(sl_diag_get());
		sl_alloc_fail_after(k);
		struct sl_pipeline_file *f = sl_pipeline_file_load(path, &o);
		sl_alloc_fail_after(-1);
		steps++;
		if (f != NULL) {
			struct text d = {0};
			dump(&d, f->steps[0].arguments);
			done = f->n_steps == 2 &&
			       strcmp(d.s,
			              "{i:{a:[1,!jmespath(y)],b:[1,!"
			              "jmespath(y)]},e:'v',c:[1,'two',{'m':"
			              "3.5}],m:{p:1,q:!jmespath(z)}}") == 0;
			free(d.s);
			sl_pipeline_file_delete(f);
			break;
		}
		if (sl_diag_code() != SL_EOOM) {
			clean = 0;
			note("step %ld: %s", k, unit_errmsg());
		}
	}
	ok(done && clean && steps > 10,
	   "every allocation failure is a clean EOOM (%d points)", steps);
	sl_arena_destroy(&ar);
	unsetenv("SLUICE_T_FLT");
}

/** Make the temporary directory the cases write into. */
static int
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-pf-XXXXXX");
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
