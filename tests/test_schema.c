/*
 * The schema interpreters describe (sluice/schema.h): node and
 * relationship types from source_node, relationship and properties
 * interpretations, in switches and passes, adjacencies by direction,
 * dynamic types left out, and the plain, JSON and DOT formats.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sluice/interp.h"
#include "sluice/pipeline_file.h"
#include "sluice/registry.h"
#include "sluice/schema.h"
#include "sluice/steps.h"
#include "unit.h"

/** Build the schema of the pipeline `yaml` and print it in `format`. */
static int
schema_of(const char *yaml, enum sl_schema_format format, char *out,
          size_t size)
{
	char path[] = "/tmp/sluice-schema-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	if (fd < 0 || write(fd, yaml, strlen(yaml)) < 0)
		bail_out("cannot write a temporary file");
	close(fd);
	struct sl_pipeline_file *f = sl_pipeline_file_load(path, NULL);
	struct sl_schema s = {0};
	int rc = f != NULL ? 0 : -1;
	for (uint32_t i = 0; f != NULL && i < f->n_steps && rc == 0; i++) {
		struct sl_step *st = sl_step_create(&f->steps[i]);
		rc = st != NULL ? sl_schema_expand(&s, st) : -1;
		sl_step_delete(st);
	}
	FILE *m = fmemopen(out, size, "w");
	if (rc == 0)
		rc = sl_schema_print(&s, format, m);
	fclose(m);
	sl_schema_destroy(&s);
	sl_pipeline_file_delete(f);
	unlink(path);
	return rc;
}

/** The airports fixture's interpreter, plus a few more things. */
static const char *const pipeline =
        "- implementation: interpreter\n"
        "  arguments:\n"
        "    interpretations:\n"
        "      - type: source_node\n"
        "        node_type: Airport\n"
        "        key: {identifier: !jmespath ident}\n"
        "        properties: {name: !jmespath name}\n"
        "        additional_indexes: [name]\n"
        "        additional_types: [Place]\n"
        "      - type: properties\n"
        "        properties: {elevation: !jmespath e}\n"
        "      - type: relationship\n"
        "        node_type: Country\n"
        "        relationship_type: WITHIN\n"
        "        node_key: {code: !jmespath c}\n"
        "        relationship_properties: {since: !jmespath s}\n"
        "      - type: relationship\n"
        "        node_type: Pilot\n"
        "        relationship_type: BASED_AT\n"
        "        outbound: false\n"
        "        node_key: {name: !jmespath p}\n"
        "        relationship_key: {role: !jmespath r}\n"
        "      - type: relationship\n"
        "        node_type: !jmespath dynamic\n"
        "        relationship_type: HIDDEN\n"
        "        node_key: {id: !jmespath x}\n"
        "      - type: switch\n"
        "        switch_on: !jmespath kind\n"
        "        cases:\n"
        "          heli:\n"
        "            type: relationship\n"
        "            node_type: Pad\n"
        "            relationship_type: HAS\n"
        "            node_key: {n: !jmespath pad}\n";

/** The plain-text schema of the pipeline. */
TAP_CASE(plain)
{
	char out[8192];
	int rc = schema_of(pipeline, SL_SCHEMA_PLAIN, out, sizeof(out));
	const char *want =
	        "Node types:\n"
	        "  Airport\n"
	        "    keys: identifier\n"
	        "    properties: name, last_ingested_at, "
	        "last_ingested_by_X_at, was_ingested_by_X, elevation\n"
	        "    indexes: name\n"
	        "    additional types: Place\n"
	        "  Country\n"
	        "    keys: code\n"
	        "    properties: last_ingested_at, last_ingested_by_X_at, "
	        "was_ingested_by_X\n"
	        "  Pilot\n"
	        "    keys: name\n"
	        "    properties: last_ingested_at, last_ingested_by_X_at, "
	        "was_ingested_by_X\n"
	        "  Pad\n"
	        "    keys: n\n"
	        "    properties: last_ingested_at, last_ingested_by_X_at, "
	        "was_ingested_by_X\n"
	        "Relationship types:\n"
	        "  WITHIN\n"
	        "    keys: -\n"
	        "    properties: since, last_ingested_at, "
	        "last_ingested_by_X_at, was_ingested_by_X\n"
	        "  BASED_AT\n"
	        "    keys: role\n"
	        "    properties: last_ingested_at, last_ingested_by_X_at, "
	        "was_ingested_by_X\n"
	        "  HIDDEN\n"
	        "    keys: -\n"
	        "    properties: last_ingested_at, last_ingested_by_X_at, "
	        "was_ingested_by_X\n"
	        "  HAS\n"
	        "    keys: -\n"
	        "    properties: last_ingested_at, last_ingested_by_X_at, "
	        "was_ingested_by_X\n"
	        "Adjacencies:\n"
	        "  (Airport)-[WITHIN]->(Country)\n"
	        "  (Pilot)-[BASED_AT]->(Airport)\n"
	        "  (Airport)-[HAS]->(Pad)\n";
	/* The pipeline name is the temporary file's stem: mask it. */
	char masked[8192];
	size_t w = 0;
	for (const char *p = out; *p != '\0' && w + 2 < sizeof(masked);) {
		const char *m = NULL;
		if (strncmp(p, "last_ingested_by_", 17) == 0)
			m = p + 17;
		else if (strncmp(p, "was_ingested_by_", 16) == 0)
			m = p + 16;
		if (m == NULL) {
			masked[w++] = *p++;
			continue;
		}
		memcpy(masked + w, p, (size_t)(m - p));
		w += (size_t)(m - p);
		masked[w++] = 'X';
		p = m + strlen("sluice-schema-XXXXXX");
	}
	masked[w] = '\0';
	if (!ok(rc == 0 && strcmp(masked, want) == 0,
	        "plain: types, keys, properties, indexes, labels, "
	        "adjacencies by direction, switch branches; dynamic types "
	        "left out"))
		printf("# got:\n%s", masked);
}

/** The JSON and dot schemas, and what other steps describe. */
TAP_CASE(formats)
{
	char out[8192];
	int rc = schema_of(pipeline, SL_SCHEMA_JSON, out, sizeof(out));
	ok(rc == 0 &&
	           strncmp(out,
	                   "{\"nodes\":[{\"type\":\"Airport\",\"keys\":"
	                   "[\"identifier\"]",
	                   49) == 0 &&
	           strstr(out, "{\"from\":\"Pilot\",\"relationship\":"
	                       "\"BASED_AT\",\"to\":\"Airport\"}") != NULL,
	   "json");
	rc = schema_of(pipeline, SL_SCHEMA_DOT, out, sizeof(out));
	ok(rc == 0 && strncmp(out, "digraph schema {", 16) == 0 &&
	           strstr(out, "n0 [label=\"{Airport:Place|identifier "
	                       "(key)\\lname\\lelevation\\l}\"];") != NULL &&
	           strstr(out, "n2 -> n0 [label=\"BASED_AT\"];") != NULL &&
	           strstr(out, "last_ingested") == NULL,
	   "dot: records without the automatic properties, edges");
	rc = schema_of("- implementation: range\n  factory: range\n",
	               SL_SCHEMA_PLAIN, out, sizeof(out));
	ok(rc == 0 && strcmp(out, "Node types:\nRelationship types:\n"
	                          "Adjacencies:\n") == 0,
	   "steps other than interpreters describe nothing");
	rc = schema_of("- implementation: interpreter\n"
	               "  arguments:\n"
	               "    before_iteration:\n"
	               "      - type: relationship\n"
	               "        node_type: Team\n"
	               "        relationship_type: IN\n"
	               "        node_key: {n: !jmespath t}\n"
	               "    interpretations:\n"
	               "      - - type: source_node\n"
	               "          node_type: A\n"
	               "          key: {id: !jmespath a}\n"
	               "      - - type: source_node\n"
	               "          node_type: B\n"
	               "          key: {id: !jmespath b}\n",
	               SL_SCHEMA_PLAIN, out, sizeof(out));
	ok(rc == 0 && strstr(out, "(A)-[IN]->(Team)") != NULL &&
	           strstr(out, "(B)-[IN]->(Team)") != NULL,
	   "before_iteration relationships attach to the sources of every "
	   "pass");
}

/**
 * Register the built-in steps and the interpreter, which every case's
 * pipeline uses (the first case used to do it for the second).
 */
static int
setup(void)
{
	(void)sl_steps_register_builtins();
	(void)sl_interp_register();
	return 0;
}

/** Forget the registered steps (no leaks under valgrind). */
static void
teardown(void)
{
	sl_registry_clear();
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
