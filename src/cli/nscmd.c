/*
 * `sluice print schema` and `sluice migrations show` (see nscmd.h).
 */
#include "nscmd.h"
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "sluice/graph.h"
#include "sluice/interp.h"
#include "sluice/log.h"
#include "sluice/nsschema.h"
#include "sluice/pipeline_file.h"
#include "sluice/project.h"
#include "sluice/registry.h"
#include "sluice/schema.h"
#include "sluice/steps.h"
#include "sluice/task.h"

/** Largest schema text printed. */
#define PRINT_MAX ((size_t)256 << 20)

void
sl_cli_report(void)
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

int
sl_cli_ns_walk(const char *path, const struct sl_value *config,
               bool (*want)(const struct sl_stepdef *d),
               int (*fn)(void *arg, const struct sl_stepdef *d,
                         struct sl_step *s),
               void *arg)
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
		if (!want(&f->steps[k]))
			continue;
		struct sl_step *s = sl_step_create(&f->steps[k]);
		if (s == NULL || fn(arg, &f->steps[k], s) != 0)
			rc = -1;
		sl_step_delete(s);
	}
	sl_pipeline_file_delete(f);
	return rc;
}

/** sl_cli_ns_walk() callback: expand the schema of Interpreter `s`. */
static int
expand_step(void *arg, const struct sl_stepdef *d, struct sl_step *s)
{
	(void)d;
	return sl_ns_expand(arg, s);
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
				rc = sl_cli_ns_walk(pp->path, pp->config,
				                    sl_interp_expands_schema,
				                    expand_step, c);
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

int
sl_cli_ns_project_schema(const struct sl_project *p, bool additional,
                         struct sl_ns_schema *schema)
{
	if (sl_steps_register_builtins() != 0 || sl_interp_register() != 0 ||
	    sl_cli_plugins_load(p, NULL, 0) != 0)
		return -1;
	struct sl_ns_coord c;
	if (sl_ns_coord_create(&c, schema, additional) != 0)
		return -1;
	int rc = expand_project(&c, p, NULL, 0);
	sl_ns_coord_destroy(&c);
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
	        GLOBAL_LONGOPTS,
	};
	const char *project = NULL, *out_path = NULL, *overrides = NULL;
	int format = SL_NS_PLAIN, ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "p:f:O:o:hvqnV", longopts,
	                         NULL)) != -1) {
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
		default: {
			int g = sl_cli_global_option(ch, "print schema", argv,
			                             usage);
			if (g != 0)
				return g > 0 ? 0 : 2;
		}
		}
	}
	char *const *names = argv + optind;
	int n_names = argc - optind;
	bool files = n_names > 0;
	for (int i = 0; i < n_names; i++)
		files &= file_name(names[i]);
	if (sl_steps_register_builtins() != 0 || sl_interp_register() != 0) {
		sl_cli_report();
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
			rc = p == NULL || sl_cli_plugins_load(p, NULL, 0) != 0
			             ? -1
			             : 0;
		}
	}
	if (rc == 0)
		rc = sl_ns_coord_create(
		        &c, &schema,
		        p != NULL && sl_project_include_additional_types(p));
	if (rc == 0) {
		if (files)
			for (int i = 0; i < n_names && rc == 0; i++)
				rc = sl_cli_ns_walk(names[i], NULL,
				                    sl_interp_expands_schema,
				                    expand_step, &c);
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
		sl_cli_report();
		return 1;
	}
	return 0;
}

/* --- migrations show ---------------------------------------------------- */

/** Most targets shown. */
#define MAX_TARGETS 32

/** One migration row: its name and its status per target. */
struct row {
	/** The migration's name. */
	char *name;
	/** Per target: '+' applied, '-' pending, '?' unknown. */
	char status[MAX_TARGETS];
};

/** What `migrations show` collects. */
struct show {
	/** The rows, in the order first reported. */
	struct row *rows;
	/** Number of `rows`. */
	uint32_t n;
	/** The target being asked. */
	uint32_t target;
	/** The number of targets. */
	uint32_t n_targets;
	/** Target URI being asked. */
	const char *uri;
	/** The schema. */
	const struct sl_schema *schema;
};

/** sl_graph_migrations() callback: record one status. */
static int
show_add(void *arg, const char *name, bool applied)
{
	struct show *sh = arg;
	struct row *r = NULL;
	for (uint32_t i = 0; i < sh->n && r == NULL; i++)
		if (strcmp(sh->rows[i].name, name) == 0)
			r = &sh->rows[i];
	if (r == NULL) {
		struct row *v = sl_realloc(sh->rows, (sh->n + 1) * sizeof(*v));
		if (v == NULL) {
			sl_diag_set(SL_EOOM, "out of memory");
			return -1;
		}
		sh->rows = v;
		r = &v[sh->n];
		memset(r->status, '?', sizeof(r->status));
		if ((r->name = sl_strndup(name, strlen(name))) == NULL) {
			sl_diag_set(SL_EOOM, "out of memory");
			return -1;
		}
		sh->n++;
	}
	r->status[sh->target] = applied ? '+' : '-';
	return 0;
}

/** Ask one target (as the main task). */
static int
show_main(void *arg)
{
	struct show *sh = arg;
	return sl_graph_migrations(sh->uri, sh->schema, show_add, sh);
}

/** Display width of UTF-8 text (code points). */
static size_t
width(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/** The text of a status cell. */
static const char *
cell(char st)
{
	return st == '+' ? "\u2705" : st == '-' ? "\u274C" : "?";
}

/** Print one table line: `cells` padded to `w`. */
static void
table_line(FILE *out, const char *const *cells, const size_t *w, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		fprintf(out, "| %s%*s ", cells[i],
		        (int)(w[i] - width(cells[i])), "");
	fprintf(out, "|\n");
}

/** Print a rule of the table. */
static void
table_rule(FILE *out, const size_t *w, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		fputc('+', out);
		for (size_t k = 0; k < w[i] + 2; k++)
			fputc('-', out);
	}
	fprintf(out, "+\n");
}

/** qsort order of C strings. */
static int
by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/** qsort order of rows by name. */
static int
by_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->name,
	              ((const struct row *)b)->name);
}

/** sl_cli_ns_walk() callback: expand sluice's schema from Interpreter `s`. */
static int
schema_step(void *arg, const struct sl_stepdef *d, struct sl_step *s)
{
	(void)d;
	return sl_schema_expand(arg, s);
}

/** The sluice schema of every pipeline of `p`. 0, or -1. */
static int
project_schema(const struct sl_project *p, struct sl_schema *schema)
{
	int rc = sl_steps_register_builtins() != 0 ||
	                         sl_interp_register() != 0 ||
	                         sl_cli_plugins_load(p, NULL, 0) != 0
	                 ? -1
	                 : 0;
	for (uint32_t i = 0; i < sl_project_n_pipelines(p) && rc == 0; i++) {
		const struct sl_project_pipeline *pp =
		        sl_project_pipeline(p, i);
		rc = sl_cli_ns_walk(pp->path, pp->config,
		                    sl_interp_expands_schema, schema_step,
		                    schema);
	}
	return rc;
}

/** Usage of migrations show. */
static void
show_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice migrations show [-p FILE] [-t TARGET...]\n"
	        "\n"
	        "List the migrations the project's schema asks for and their "
	        "state on each\n"
	        "target (all the project's, or those given), as "
	        "`nodestream migrations show`\n"
	        "does: one row per migration, one column per target, "
	        "\u2705 applied, \u274C pending.\n"
	        "sluice has no migration files: its migrations are derived "
	        "from the schema\n"
	        "(an index per key and additional index, a view per type; "
	        "`sluice migrate`),\n"
	        "and a target records each in its sluice_migrations table. "
	        "A migration whose\n"
	        "SQL changed since it was applied is pending (Neo4j: a "
	        "constraint or index\n"
	        "is applied when one of its name is there). A null target "
	        "shows ? and a warning.\n"
	        "\n"
	        "  -p, --project FILE    the project file (default "
	        "nodestream.yaml)\n"
	        "  -t, --target NAME     a target of the project (repeat; "
	        "default: all)\n"
	        "  -h, --help            this help\n");
}

/** `sluice migrations show`. The exit status. */
static int
migrations_show(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"project", required_argument, NULL, 'p'},
	        {"target", required_argument, NULL, 't'},
	        GLOBAL_LONGOPTS,
	};
	const char *project = SL_PROJECT_FILE;
	const char *names[MAX_TARGETS];
	uint32_t n = 0;
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "p:t:hvqnV", longopts, NULL)) !=
	       -1) {
		if (ch == 'p') {
			project = optarg;
		} else if (ch == 't' && n < MAX_TARGETS) {
			names[n++] = optarg;
		} else if (ch == 't') {
			fprintf(stderr,
			        "sluice migrations show: at most %d targets\n",
			        MAX_TARGETS);
			return 2;
		} else {
			int g = sl_cli_global_option(ch, "migrations show",
			                             argv, show_usage);
			if (g != 0)
				return g > 0 ? 0 : 2;
		}
	}
	if (optind < argc) {
		show_usage(stderr);
		return 2;
	}
	struct sl_project *p = sl_project_load(project);
	if (p == NULL) {
		sl_cli_report();
		return 1;
	}
	for (uint32_t i = 0;
	     n == 0 && i < sl_project_n_targets(p) && i < MAX_TARGETS; i++)
		names[i] = sl_project_target(p, i)->name;
	if (n == 0)
		n = sl_project_n_targets(p) < MAX_TARGETS
		            ? sl_project_n_targets(p)
		            : MAX_TARGETS;
	qsort(names, n, sizeof(names[0]), by_str);
	struct sl_schema schema = {0};
	struct show sh = {.schema = &schema, .n_targets = n};
	struct sl_loop *loop = NULL;
	int rc = project_schema(p, &schema);
	if (rc == 0 && (loop = sl_loop_new(NULL)) == NULL)
		rc = -1;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		char uri[1024];
		uint32_t batch;
		if (sl_project_target_uri(p, names[i], uri, sizeof(uri),
		                          &batch) != 0) {
			rc = -1;
			break;
		}
		sh.target = i;
		sh.uri = uri;
		if (sl_loop_run_main(loop, "migrations", show_main, &sh) != 0) {
			char msg[1024];
			struct sl_error *e = sl_diag_last();
			snprintf(msg, sizeof(msg), "%s", "unknown error");
			if (e != NULL)
				sl_error_format(e, msg, sizeof(msg));
			sl_log_warn("migrations show: target %s: %s", names[i],
			            msg);
		}
	}
	if (rc == 0) {
		size_t w[MAX_TARGETS + 1];
		const char *cells[MAX_TARGETS + 1];
		w[0] = width("Migration");
		qsort(sh.rows, sh.n, sizeof(*sh.rows), by_row);
		for (uint32_t r = 0; r < sh.n; r++)
			if (width(sh.rows[r].name) > w[0])
				w[0] = width(sh.rows[r].name);
		for (uint32_t i = 0; i < n; i++)
			w[i + 1] = width(names[i]) > 1 ? width(names[i]) : 1;
		cells[0] = "Migration";
		for (uint32_t i = 0; i < n; i++)
			cells[i + 1] = names[i];
		table_rule(stdout, w, n + 1);
		table_line(stdout, cells, w, n + 1);
		table_rule(stdout, w, n + 1);
		for (uint32_t r = 0; r < sh.n; r++) {
			cells[0] = sh.rows[r].name;
			for (uint32_t i = 0; i < n; i++)
				cells[i + 1] = cell(sh.rows[r].status[i]);
			table_line(stdout, cells, w, n + 1);
		}
		if (sh.n > 0)
			table_rule(stdout, w, n + 1);
	}
	for (uint32_t r = 0; r < sh.n; r++)
		sl_free(sh.rows[r].name);
	sl_free(sh.rows);
	sl_loop_delete(loop);
	sl_schema_destroy(&schema);
	sl_project_delete(p);
	if (rc != 0) {
		sl_cli_report();
		return 1;
	}
	return 0;
}

int
sl_cli_migrations(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return migrations_show(argc - 1, argv + 1);
	fprintf(stderr, "usage: sluice migrations show [-p FILE] [-t TARGET...]"
	                "\n(make, run and squash are Nodestream's migration "
	                "files, which sluice does not have;\n`sluice migrate "
	                "TARGET PIPELINE...` applies what the schema asks "
	                "for)\n");
	return argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	                     strcmp(argv[1], "--help") == 0)
	               ? 0
	               : 2;
}
