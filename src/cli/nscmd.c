/*
 * `sluice print schema` (see nscmd.h).
 */
#include "nscmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/interp.h"
#include "sluice/log.h"
#include "sluice/nsschema.h"
#include "sluice/pipeline_file.h"
#include "sluice/project.h"
#include "sluice/registry.h"
#include "sluice/steps.h"

/** Largest schema text printed. */
#define PRINT_MAX ((size_t)256 << 20)

/** Print the diag's error as "sluice: error: ...". */
static void
report(void)
{
	char msg[4096];
	struct sl_error *e = sl_diag_last();
	if (e == NULL)
		snprintf(msg, sizeof(msg), "unknown error");
	else
		sl_error_format(e, msg, sizeof(msg));
	sl_log_error("%s", msg);
}

/** Whether `name` names a pipeline file rather than a project pipeline. */
static bool
file_name(const char *name)
{
	size_t n = strlen(name);
	struct stat st;
	return strchr(name, '/') != NULL ||
	       (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (stat(name, &st) == 0 && S_ISREG(st.st_mode));
}

/**
 * Expand the Interpreters of the pipeline file at `path` into `c`, loading
 * only the steps Nodestream loads for schema collection (annotation
 * "introspection") and building only Interpreters. 0, or -1.
 */
static int
expand_file(struct sl_ns_coord *c, const char *path,
            const struct sl_value *config)
{
	static const char *const introspection[] = {"introspection"};
	const struct sl_pipeline_file_opts opts = {
	        .annotations = introspection,
	        .n_annotations = 1,
	        .config = config,
	};
	struct sl_pipeline_file *f = sl_pipeline_file_load(path, &opts);
	if (f == NULL)
		return -1;
	int rc = 0;
	for (uint32_t k = 0; k < f->n_steps && rc == 0; k++) {
		if (!sl_interp_expands_schema(&f->steps[k]))
			continue;
		struct sl_step *s = sl_step_create(&f->steps[k]);
		if (s == NULL || sl_ns_expand(c, s) != 0)
			rc = -1;
		sl_step_delete(s);
	}
	sl_pipeline_file_delete(f);
	return rc;
}

/** Expand the pipelines of project `p` (those named, or all). 0, or -1. */
static int
expand_project(struct sl_ns_coord *c, const struct sl_project *p,
               char *const *names, int n_names)
{
	uint32_t n = sl_project_n_pipelines(p), found = 0;
	int rc = 0;
	/* Nodestream: every scope in order; in each, the names in the order
	 * given (or every pipeline). Pipelines come in scope order. */
	for (uint32_t i = 0; i < n && rc == 0;) {
		const char *scope = sl_project_pipeline(p, i)->scope;
		uint32_t end = i;
		while (end < n &&
		       strcmp(sl_project_pipeline(p, end)->scope, scope) == 0)
			end++;
		for (int k = 0; k < (n_names > 0 ? n_names : 1); k++)
			for (uint32_t j = i; j < end && rc == 0; j++) {
				const struct sl_project_pipeline *pp =
				        sl_project_pipeline(p, j);
				if (n_names > 0 &&
				    strcmp(pp->name, names[k]) != 0)
					continue;
				found++;
				rc = expand_file(c, pp->path, pp->config);
			}
		i = end;
	}
	if (rc == 0 && n_names > 0 && found == 0) {
		char all[2048] = "";
		size_t used = 0;
		for (uint32_t i = 0; i < n && used < sizeof(all); i++)
			used += (size_t)snprintf(
			        all + used, sizeof(all) - used, "%s'%s'",
			        i > 0 ? ", " : "",
			        sl_project_pipeline(p, i)->name);
		sl_diag_set(SL_EINVAL,
		            "none of the pipelines named were found; the "
		            "project has: %s",
		            all);
		return -1;
	}
	return rc;
}

/** Usage of print schema. */
static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice print schema [PIPELINE...] [options]\n"
	        "\n"
	        "Print the schema of a project's pipelines (all, or those "
	        "named) as\n"
	        "Nodestream's `print schema` does: every property is STRING "
	        "but\n"
	        "last_ingested_at (DATETIME) unless an overrides file says "
	        "otherwise.\n"
	        "A PIPELINE that is a file (a path, *.yaml) is read without "
	        "a project.\n"
	        "\n"
	        "  -p, --project FILE     the project file (default "
	        "nodestream.yaml)\n"
	        "  -f, --format FORMAT    plain (default), graphql or "
	        "cypheresque\n"
	        "  -O, --overrides FILE   type overrides (nodes, "
	        "relationships, cardinalities)\n"
	        "  -o, --out FILE         write to FILE instead of stdout\n"
	        "  -h, --help             this help\n"
	        "\n"
	        "sluice schema PIPELINE.yaml --format json|dot prints "
	        "sluice's own forms.\n");
}

int
sl_cli_ns_print_schema(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"project", required_argument, NULL, 'p'},
	        {"format", required_argument, NULL, 'f'},
	        {"overrides", required_argument, NULL, 'O'},
	        {"out", required_argument, NULL, 'o'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *project = NULL, *out_path = NULL, *overrides = NULL;
	int format = SL_NS_PLAIN, ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "p:f:O:o:h", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'p':
			project = optarg;
			break;
		case 'f':
			if ((format = sl_ns_format_parse(optarg)) < 0) {
				fprintf(stderr,
				        "sluice print schema: --format %s: "
				        "expected plain, graphql or "
				        "cypheresque\n",
				        optarg);
				return 2;
			}
			break;
		case 'O':
			overrides = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr,
			        "sluice print schema: option '%s' is unknown "
			        "or needs a value\n",
			        argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	char *const *names = argv + optind;
	int n_names = argc - optind;
	bool files = n_names > 0;
	for (int i = 0; i < n_names; i++)
		files &= file_name(names[i]);
	if (sl_steps_register_builtins() != 0 || sl_interp_register() != 0) {
		report();
		return 1;
	}
	struct sl_ns_schema schema = {0};
	struct sl_ns_coord c;
	struct sl_project *p = NULL;
	int rc = 0;
	if (!files) {
		if (project == NULL && access(SL_PROJECT_FILE, F_OK) != 0) {
			sl_diag_set(SL_EINVAL,
			            "no %s here (give -p PROJECT.yaml, or "
			            "pipeline files)",
			            SL_PROJECT_FILE);
			rc = -1;
		} else {
			p = sl_project_load(project != NULL ? project
			                                    : SL_PROJECT_FILE);
			rc = p == NULL ? -1 : 0;
		}
	}
	if (rc == 0)
		rc = sl_ns_coord_create(
		        &c, &schema,
		        p != NULL && sl_project_include_additional_types(p));
	if (rc == 0) {
		if (files)
			for (int i = 0; i < n_names && rc == 0; i++)
				rc = expand_file(&c, names[i], NULL);
		else
			rc = expand_project(&c, p, names, n_names);
		sl_ns_coord_destroy(&c);
	}
	if (rc == 0 && overrides != NULL)
		rc = sl_ns_schema_overrides(&schema, overrides);
	struct sl_buf b;
	sl_buf_create(&b, PRINT_MAX);
	if (rc == 0)
		rc = sl_ns_schema_print(&schema, (enum sl_ns_format)format, &b);
	if (rc == 0) {
		FILE *out = out_path != NULL ? fopen(out_path, "w") : stdout;
		if (out == NULL ||
		    (b.len > 0 && fwrite(b.data, 1, b.len, out) != b.len) ||
		    fflush(out) != 0 || ferror(out)) {
			sl_diag_set_errno("cannot write %s",
			                  out_path != NULL ? out_path
			                                   : "stdout");
			rc = -1;
		}
		if (out != NULL && out != stdout && fclose(out) != 0 &&
		    rc == 0) {
			sl_diag_set_errno("cannot write %s", out_path);
			rc = -1;
		}
	}
	sl_buf_destroy(&b);
	sl_ns_schema_destroy(&schema);
	sl_project_delete(p);
	if (rc != 0) {
		report();
		return 1;
	}
	return 0;
}
