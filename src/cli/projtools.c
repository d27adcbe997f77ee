/*
 * `sluice new`, `scaffold`, `remove` and `audit ttls` (see projtools.h).
 */
#include "projtools.h"
#include "nscmd.h"
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/conf.h"
#include "sluice/diag.h"
#include "sluice/interp.h"
#include "sluice/log.h"
#include "sluice/nsschema.h"
#include "sluice/pipeline_file.h"
#include "sluice/project.h"
#include "sluice/registry.h"
#include "sluice/steps.h"
#include "sluice/uri.h"

/** Longest path built here. */
#define PATH_MAX_LEN 4096

/** Largest project file edited (the YAML loader's own limit). */
#define PROJECT_TEXT_MAX SL_CONF_FILE_MAX

/**
 * Write `text` to a new file `path` (refusing one that exists). 0, or -1
 * with an error naming the path.
 */
static int
write_new(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		sl_diag_set_errno("cannot create %s", path);
		return -1;
	}
	size_t n = strlen(text), done = 0;
	while (done < n) {
		ssize_t w = write(fd, text + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			sl_diag_set_errno("cannot write %s", path);
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	if (close(fd) != 0) {
		sl_diag_set_errno("cannot write %s", path);
		return -1;
	}
	return 0;
}

/** snprintf into a path buffer; -1 with SL_ELIMIT when it does not fit. */
static int
path_join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= size) {
		sl_diag_set(SL_ELIMIT, "path too long: %s/%s", a, b);
		return -1;
	}
	return 0;
}

/**
 * Whether `name` may name a pipeline or a project (a file name: letters,
 * digits, '-', '_', '.', not starting with '.' or '-').
 */
static bool
good_name(const char *name)
{
	if (name[0] == '\0' || name[0] == '.' || name[0] == '-' ||
	    strlen(name) > 200)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		      *p == '.'))
			return false;
	return true;
}

/* --- new ---------------------------------------------------------------- */

/** The sample data of a new project. */
static const char sample_data[] =
        "{\"isbn\": \"978-1-00000-001-1\", \"title\": \"Rivers of Salt\", "
        "\"year\": 1998, \"author\": \"Mara Quill\"}\n"
        "{\"isbn\": \"978-1-00000-002-8\", \"title\": \"The Lantern "
        "Clock\", \"year\": 2004, \"author\": \"Mara Quill\"}\n"
        "{\"isbn\": \"978-1-00000-003-5\", \"title\": \"Seven Small "
        "Engines\", \"year\": 2011, \"author\": \"Tobias Fenn\"}\n"
        "{\"isbn\": \"978-1-00000-004-2\", \"title\": \"A Map of "
        "Weather\", \"year\": 2016, \"author\": \"Ines Okafor\"}\n"
        "{\"isbn\": \"978-1-00000-005-9\", \"title\": \"Harbour "
        "Lights\", \"year\": 2020, \"author\": \"Tobias Fenn\"}\n";

/** The sample pipeline of a new project. */
static const char sample_pipeline[] =
        "# The sample pipeline: every line of data/books.jsonl becomes a "
        "Book node\n"
        "# and a WRITTEN_BY relationship to the book's Author node.\n"
        "# Paths are relative to the directory sluice runs in (the "
        "project's).\n"
        "- implementation: nodestream.pipeline.extractors:FileExtractor\n"
        "  factory: local\n"
        "  arguments:\n"
        "    globs: [data/books.jsonl]\n"
        "\n"
        "- implementation: nodestream.interpreting:Interpreter\n"
        "  arguments:\n"
        "    interpretations:\n"
        "      - type: source_node\n"
        "        node_type: Book\n"
        "        key: {isbn: !jmespath isbn}\n"
        "        properties:\n"
        "          title: !jmespath title\n"
        "          year: !jmespath year\n"
        "      - type: relationship\n"
        "        node_type: Author\n"
        "        relationship_type: WRITTEN_BY\n"
        "        node_key: {name: !jmespath author}\n";

/** The target section of a new project for `db`, with `uri` or NULL. */
static int
target_text(struct sl_buf *b, const char *db, const char *uri)
{
	if (strcmp(db, "sqlite") == 0)
		return sl_buf_puts(b, "  graph:\n"
		                      "    database: sqlite\n"
		                      "    path: graph.db\n");
	if (strcmp(db, "postgresql") == 0) {
		if (sl_buf_puts(b, "  graph:\n    database: postgresql\n") != 0)
			return -1;
		return uri != NULL ? sl_buf_printf(b, "    uri: '%s'\n", uri)
		                   : sl_buf_puts(b, "    # the server: "
		                                    "postgresql://USER:PASSWORD"
		                                    "@HOST:PORT/DB\n"
		                                    "    uri: !env "
		                                    "DATABASE_URL\n");
	}
	if (sl_buf_puts(b, "  graph:\n    database: neo4j\n") != 0)
		return -1;
	if (uri != NULL ? sl_buf_printf(b, "    uri: '%s'\n", uri)
	                : sl_buf_puts(b, "    uri: !env NEO4J_URI    # "
	                                 "bolt://HOST:7687\n") != 0)
		return -1;
	return sl_buf_puts(b, "    username: !env NEO4J_USERNAME\n"
	                      "    password: !env NEO4J_PASSWORD\n");
}

/** The README of a new project. */
static int
readme_text(struct sl_buf *b, const char *name, const char *db)
{
	const char *how =
	        strcmp(db, "sqlite") == 0
	                ? "The graph goes to graph.db, a SQLite file in this "
	                  "directory.\n"
	        : strcmp(db, "postgresql") == 0
	                ? "The graph goes to the PostgreSQL database named by "
	                  "the target's uri\n(DATABASE_URL in the "
	                  "environment unless a URI was written there).\n"
	                : "The graph goes to the Neo4j server named by the "
	                  "target's uri (NEO4J_URI,\nNEO4J_USERNAME and "
	                  "NEO4J_PASSWORD in the environment unless a URI was "
	                  "written\nthere).\n";
	return sl_buf_printf(
	        b,
	        "# %s\n"
	        "\n"
	        "A graph-loading project in Nodestream's format, made by "
	        "`sluice new`.\n"
	        "\n"
	        "- `nodestream.yaml`: the project file. Scope `default` lists "
	        "the pipelines,\n"
	        "  and its pipelines write to the target `graph`.\n"
	        "- `pipelines/sample.yaml`: reads `data/books.jsonl` into Book "
	        "and Author\n"
	        "  nodes joined by WRITTEN_BY relationships.\n"
	        "- `data/books.jsonl`: the sample data.\n"
	        "\n"
	        "%s"
	        "\n"
	        "Run from this directory:\n"
	        "\n"
	        "    sluice run                  # every pipeline of the "
	        "project\n"
	        "    sluice show                 # the pipelines and their "
	        "targets\n"
	        "    sluice export graph         # the graph, as JSON lines\n"
	        "    sluice print schema         # the graph schema\n"
	        "    sluice scaffold NAME        # add pipelines/NAME.yaml to "
	        "the project\n"
	        "    sluice remove NAME          # take it out again\n"
	        "    sluice audit ttls           # types without a TTL "
	        "configuration\n",
	        name, how);
}

/** Whether `path` is a directory with nothing in it. */
static bool
empty_dir(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return false;
	bool empty = true;
	struct dirent *e;
	while (empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 ||
		        strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/** The files a new project gets, in the order written. */
struct newfile {
	/** Path under the project directory. */
	const char *name;
	/** Its text. */
	const char *text;
};

/** Remove what a failed `new` created (files, then directories). */
static void
new_undo(const char *dir, const struct newfile *files, size_t n, bool made)
{
	char path[PATH_MAX_LEN];
	for (size_t i = 0; i < n; i++)
		if (path_join(path, sizeof(path), dir, files[i].name) == 0)
			(void)unlink(path);
	const char *subdirs[] = {"pipelines", "data"};
	for (size_t i = 0; i < 2; i++)
		if (path_join(path, sizeof(path), dir, subdirs[i]) == 0)
			(void)rmdir(path);
	if (made)
		(void)rmdir(dir);
}

/** Usage of `new`. */
static void
new_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice new PROJECT [PATH] [-d DATABASE] [--uri URI]\n"
	        "\n"
	        "Write a new project in PATH/PROJECT (PATH: the current "
	        "directory): nodestream.yaml,\n"
	        "pipelines/sample.yaml, data/books.jsonl and a README. "
	        "`sluice run` inside it\n"
	        "loads the sample.\n"
	        "\n"
	        "options:\n"
	        "  -d, --database DB   the target's database: sqlite "
	        "(default), postgresql, neo4j\n"
	        "  --uri URI           the server's URI, written into "
	        "the project file (no password);\n"
	        "                      without it, read from DATABASE_URL "
	        "or NEO4J_URI when the project runs\n"
	        "  -h, --help          this help\n");
}

/** getopt value of --uri. */
enum { OPT_URI = 500 };

int
sl_cli_new(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"database", required_argument, NULL, 'd'},
	        {"uri", required_argument, NULL, OPT_URI},
	        GLOBAL_LONGOPTS,
	};
	const char *db = "sqlite", *uri = NULL;
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "d:hvqnV", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'd':
			db = optarg;
			break;
		case OPT_URI:
			uri = optarg;
			break;
		default: {
			int g = sl_cli_global_option(ch, "new", argv,
			                             new_usage);
			if (g != 0)
				return g > 0 ? 0 : 2;
		}
		}
	}
	if (optind >= argc || argc - optind > 2) {
		fprintf(stderr, "sluice new: give a project name, and a "
		                "directory to put it in if not here\n");
		new_usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	const char *where = optind + 1 < argc ? argv[optind + 1] : ".";
	if (strcmp(db, "postgres") == 0)
		db = "postgresql";
	if (strcmp(db, "sqlite") != 0 && strcmp(db, "postgresql") != 0 &&
	    strcmp(db, "neo4j") != 0) {
		fprintf(stderr,
		        "sluice new: --database %s: expected sqlite, "
		        "postgresql or neo4j\n",
		        db);
		return 2;
	}
	if (!good_name(name)) {
		fprintf(stderr,
		        "sluice new: '%s': a project name is letters, "
		        "digits, '-', '_' and '.'\n",
		        name);
		return 2;
	}
	if (uri != NULL) {
		char red[2048];
		sl_uri_redact(uri, red, sizeof(red));
		bool pg = strncmp(uri, "postgresql://", 13) == 0 ||
		          strncmp(uri, "postgres://", 11) == 0;
		bool bolt = strncmp(uri, "bolt", 4) == 0 ||
		            strncmp(uri, "neo4j", 5) == 0;
		if (strcmp(db, "sqlite") == 0) {
			fprintf(stderr, "sluice new: --uri is for postgresql "
			                "and neo4j (sqlite writes graph.db)\n");
			return 2;
		}
		if (strcmp(db, "postgresql") == 0 ? !pg : !bolt) {
			fprintf(stderr,
			        "sluice new: --uri %s: expected a %s URI\n",
			        red,
			        pg || bolt ? db
			        : strcmp(db, "postgresql") == 0
			                ? "postgresql://"
			                : "bolt:// or neo4j://");
			return 2;
		}
		if (strcmp(red, uri) != 0 || strchr(uri, '\'') != NULL) {
			fprintf(stderr,
			        "sluice new: --uri %s holds a password (or a "
			        "quote): it would be written into "
			        "nodestream.yaml. Give it without, and the "
			        "password in the environment (%s)\n",
			        red,
			        strcmp(db, "neo4j") == 0 ? "NEO4J_PASSWORD"
			                                 : "PGPASSWORD");
			return 2;
		}
	}
	char dir[PATH_MAX_LEN];
	if (path_join(dir, sizeof(dir), where, name) != 0) {
		sl_cli_report();
		return 1;
	}
	bool made = false;
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (!empty_dir(dir)) {
			sl_log_error("%s exists and is not an empty directory: "
			             "nothing written",
			             dir);
			return 1;
		}
	} else if (mkdir(dir, 0755) != 0) {
		sl_diag_set_errno("cannot create %s", dir);
		sl_cli_report();
		return 1;
	} else {
		made = true;
	}
	struct sl_buf project, readme;
	sl_buf_create(&project, 1 << 16);
	sl_buf_create(&readme, 1 << 16);
	int rc = sl_buf_printf(&project,
	                       "# The project file of %s (Nodestream's "
	                       "format; `sluice run` runs it).\n"
	                       "scopes:\n"
	                       "  default:\n"
	                       "    targets: [graph]\n"
	                       "    pipelines:\n"
	                       "      - pipelines/sample.yaml\n"
	                       "\n"
	                       "targets:\n",
	                       name);
	if (rc == 0)
		rc = target_text(&project, db, uri);
	if (rc == 0)
		rc = readme_text(&readme, name, db);
	if (rc == 0)
		rc = sl_buf_putc(&project, '\0') != 0 ||
		                     sl_buf_putc(&readme, '\0') != 0
		             ? -1
		             : 0;
	struct newfile files[] = {
	        {"nodestream.yaml", project.data},
	        {"README.md", readme.data},
	        {"pipelines/sample.yaml", sample_pipeline},
	        {"data/books.jsonl", sample_data},
	};
	size_t written = 0;
	char path[PATH_MAX_LEN];
	const char *subdirs[] = {"pipelines", "data"};
	for (size_t i = 0; i < 2 && rc == 0; i++) {
		if (path_join(path, sizeof(path), dir, subdirs[i]) != 0)
			rc = -1;
		else if (mkdir(path, 0755) != 0) {
			sl_diag_set_errno("cannot create %s", path);
			rc = -1;
		}
	}
	for (; rc == 0 && written < sizeof(files) / sizeof(files[0]); written++)
		if (path_join(path, sizeof(path), dir, files[written].name) !=
		            0 ||
		    write_new(path, files[written].text) != 0)
			rc = -1;
	sl_buf_destroy(&project);
	sl_buf_destroy(&readme);
	if (rc != 0) {
		sl_cli_report();
		new_undo(dir, files, written, made);
		return 1;
	}
	printf("Created project %s in %s (database: %s). Next: cd %s && "
	       "sluice run\n",
	       name, dir, db, dir);
	return 0;
}

/* --- editing the project file ------------------------------------------ */

/** The project file's text and its parsed tree. */
struct ptext {
	/** The file. */
	const char *path;
	/** Its text. */
	char *text;
	/** Its bytes. */
	size_t len;
	/** The parsed document (tags unresolved). */
	struct sl_conf_doc *doc;
	/** Offset of each line's start; line L (1-based) is at lines[L-1]. */
	size_t *lines;
	/** Number of lines. */
	uint32_t n_lines;
};

/** Free what `t` holds. */
static void
ptext_free(struct ptext *t)
{
	sl_free(t->text);
	sl_free(t->lines);
	sl_conf_doc_delete(t->doc);
}

/** Read and parse the project file `path`. 0, or -1 with an error. */
static int
ptext_load(struct ptext *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	t->path = path;
	t->text = sl_conf_read_file(path, PROJECT_TEXT_MAX, &t->len);
	if (t->text == NULL)
		return -1;
	t->doc = sl_conf_load(t->text, t->len, path);
	if (t->doc == NULL)
		return -1;
	uint32_t n = 1;
	for (size_t i = 0; i < t->len; i++)
		n += t->text[i] == '\n';
	t->lines = sl_calloc(n, sizeof(*t->lines));
	if (t->lines == NULL) {
		sl_diag_set(SL_EOOM, "out of memory reading %s", path);
		return -1;
	}
	t->lines[0] = 0;
	t->n_lines = 1;
	for (size_t i = 0; i < t->len; i++)
		if (t->text[i] == '\n' && i + 1 < t->len)
			t->lines[t->n_lines++] = i + 1;
	return 0;
}

/** Offset just past line L (its newline included), or the text's end. */
static size_t
line_end(const struct ptext *t, uint32_t L)
{
	return L < t->n_lines ? t->lines[L] : t->len;
}

/** Indentation (spaces) of line L; -1 for a blank or comment line. */
static int
line_indent(const struct ptext *t, uint32_t L)
{
	size_t i = t->lines[L - 1], end = line_end(t, L);
	int n = 0;
	while (i < end && t->text[i] == ' ')
		i++, n++;
	if (i >= end || t->text[i] == '\n' || t->text[i] == '\r' ||
	    t->text[i] == '#')
		return -1;
	return n;
}

/**
 * The last line holding content of the block that starts on line L and
 * goes on while lines are indented more than `indent` (blank and comment
 * lines after it are not part of it).
 */
static uint32_t
block_last(const struct ptext *t, uint32_t L, int indent)
{
	uint32_t last = L;
	for (uint32_t j = L + 1; j <= t->n_lines; j++) {
		int in = line_indent(t, j);
		if (in < 0)
			continue;
		if (in <= indent)
			break;
		last = j;
	}
	return last;
}

/** The byte at a node's start. */
static char
at_node(const struct ptext *t, const struct sl_conf *n)
{
	if (n->line == 0 || n->line > t->n_lines)
		return '\0';
	size_t off = t->lines[n->line - 1] + (n->col > 0 ? n->col - 1 : 0);
	return off < t->len ? t->text[off] : '\0';
}

/** The key node and value of `key` in mapping `map`, or false. */
static bool
map_find(const struct sl_conf *map, const char *key, const struct sl_conf **k,
         const struct sl_conf **v)
{
	if (map == NULL || map->kind != SL_CONF_MAP)
		return false;
	for (uint32_t i = 0; i + 1 < map->n * 2; i += 2) {
		const struct sl_conf *kn = map->items[i];
		if (kn->kind == SL_CONF_SCALAR && strcmp(kn->text, key) == 0) {
			*k = kn;
			*v = map->items[i + 1];
			return true;
		}
	}
	return false;
}

/** Whether node `n` is written in flow style (`[...]`, `{...}`). */
static bool
flow(const struct ptext *t, const struct sl_conf *n)
{
	char c = at_node(t, n);
	return (n->kind == SL_CONF_SEQ || n->kind == SL_CONF_MAP) &&
	       (c == '[' || c == '{');
}

/** An error for a part of the project file sluice will not edit. */
static int
flow_error(const struct ptext *t, const struct sl_conf *n, const char *what)
{
	sl_diag_set(SL_EINVAL,
	            "%s:%u:%u: %s is written in flow style ([...] or {...}); "
	            "sluice edits block-style lists only: edit the file by "
	            "hand, or rewrite it as one item a line",
	            t->path, n->line, n->col, what);
	return -1;
}

/** One edit of the text: `del` bytes at `off` replaced by `ins`. */
struct edit {
	/** Where. */
	size_t off;
	/** Bytes removed. */
	size_t del;
	/** Text inserted (static or the caller's). */
	const char *ins;
};

/**
 * The text of `t` with edits e[0..n) applied (offsets ascending, not
 * overlapping) into `out` (NUL-terminated). 0, or -1.
 */
static int
apply_edits(const struct ptext *t, const struct edit *e, size_t n,
            struct sl_buf *out)
{
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		if (sl_buf_append_grow(out, t->text + at, e[i].off - at) != 0 ||
		    sl_buf_puts(out, e[i].ins) != 0)
			return -1;
		at = e[i].off + e[i].del;
	}
	if (sl_buf_append_grow(out, t->text + at, t->len - at) != 0)
		return -1;
	return sl_buf_putc(out, '\0');
}

/** Spaces. */
static const char spaces[] = "                                        "
                             "                                        ";

/**
 * The edit that adds pipeline file `entry` to scope `scope` of `t`, with
 * its text built in `ins`. 0, or -1 with an error.
 */
static int
add_edit(const struct ptext *t, const char *scope, const char *entry,
         struct sl_buf *ins, struct edit *e)
{
	const struct sl_conf *root = sl_conf_root(t->doc);
	const struct sl_conf *k, *scopes, *sk, *sv, *pk, *pl;
	e->del = 0;
	if (root == NULL || sl_conf_is_null(root) ||
	    !map_find(root, "scopes", &k, &scopes)) {
		if (root != NULL && root->kind == SL_CONF_MAP && flow(t, root))
			return flow_error(t, root, "the project");
		/* No scopes: a new section at the end. */
		e->off = t->len;
		return sl_buf_printf(ins,
		                     "scopes:\n  %s:\n    pipelines:\n"
		                     "      - %s\n",
		                     scope, entry);
	}
	if (sl_conf_is_null(scopes)) {
		e->off = line_end(t, k->line);
		return sl_buf_printf(ins,
		                     "%.*s  %s:\n%.*s    pipelines:\n%.*s      "
		                     "- %s\n",
		                     (int)(k->col - 1), spaces, scope,
		                     (int)(k->col - 1), spaces,
		                     (int)(k->col - 1), spaces, entry);
	}
	if (scopes->kind != SL_CONF_MAP || flow(t, scopes))
		return flow_error(t, scopes, "scopes");
	if (!map_find(scopes, scope, &sk, &sv)) {
		int in = (int)scopes->col - 1;
		e->off = line_end(t, block_last(t, k->line, (int)k->col - 1));
		return sl_buf_printf(ins,
		                     "%.*s%s:\n%.*s  pipelines:\n%.*s    - "
		                     "%s\n",
		                     in, spaces, scope, in, spaces, in, spaces,
		                     entry);
	}
	int sin = (int)sk->col - 1;
	if (sl_conf_is_null(sv)) {
		e->off = line_end(t, sk->line);
		return sl_buf_printf(ins, "%.*s  pipelines:\n%.*s    - %s\n",
		                     sin, spaces, sin, spaces, entry);
	}
	if (sv->kind != SL_CONF_MAP || flow(t, sv))
		return flow_error(t, sv, "the scope");
	if (!map_find(sv, "pipelines", &pk, &pl)) {
		int in = (int)sv->col - 1;
		e->off = line_end(t, block_last(t, sk->line, sin));
		return sl_buf_printf(ins, "%.*spipelines:\n%.*s  - %s\n", in,
		                     spaces, in, spaces, entry);
	}
	int pin = (int)pk->col - 1;
	if (sl_conf_is_null(pl) ||
	    (pl->kind == SL_CONF_SEQ && pl->n == 0 && flow(t, pl))) {
		/* `pipelines:` or `pipelines: []`: the list starts here. */
		e->off = line_end(t, pk->line);
		if (!sl_conf_is_null(pl)) {
			size_t open = t->lines[pl->line - 1] + pl->col - 1;
			size_t close = open;
			while (close < t->len && t->text[close] != ']' &&
			       t->text[close] != '\n')
				close++;
			if (pl->line != pk->line || close >= t->len ||
			    t->text[close] != ']')
				return flow_error(t, pl, "the pipelines list");
			/* Drop the " []" and end the line there. */
			size_t from = open;
			while (from > t->lines[pk->line - 1] &&
			       t->text[from - 1] == ' ')
				from--;
			e->off = from;
			e->del = close + 1 - from;
			return sl_buf_printf(ins, "\n%.*s  - %s", pin, spaces,
			                     entry);
		}
		return sl_buf_printf(ins, "%.*s  - %s\n", pin, spaces, entry);
	}
	if (pl->kind != SL_CONF_SEQ || flow(t, pl))
		return flow_error(t, pl, "the pipelines list");
	int dash = (int)pl->col - 1;
	const struct sl_conf *last = pl->items[pl->n - 1];
	e->off = line_end(t, block_last(t, last->line, dash));
	return sl_buf_printf(ins, "%.*s- %s\n", dash, spaces, entry);
}

/** The name of pipeline item `it` (its `name`, else its path's stem). */
static void
item_name(const struct sl_conf *it, char *out, size_t size)
{
	const struct sl_conf *path = it, *k, *v;
	out[0] = '\0';
	if (it->kind == SL_CONF_MAP) {
		if (map_find(it, "name", &k, &v) && v->kind == SL_CONF_SCALAR) {
			snprintf(out, size, "%s", v->text);
			return;
		}
		if (!map_find(it, "path", &k, &path))
			return;
	}
	if (path->kind != SL_CONF_SCALAR)
		return;
	const char *base = strrchr(path->text, '/');
	base = base != NULL ? base + 1 : path->text;
	const char *dot = strrchr(base, '.');
	size_t n = dot != NULL && dot != base ? (size_t)(dot - base)
	                                      : strlen(base);
	snprintf(out, size, "%.*s", (int)n, base);
}

/**
 * The edits that take pipeline `name` out of scope `scope` (NULL: every
 * scope) of `t`: into e[0..*n) (at most `cap`). 0, or -1 with an error.
 */
static int
remove_edits(const struct ptext *t, const char *scope, const char *name,
             struct edit *e, size_t cap, size_t *n)
{
	const struct sl_conf *root = sl_conf_root(t->doc), *k, *scopes;
	*n = 0;
	if (!map_find(root, "scopes", &k, &scopes) ||
	    scopes->kind != SL_CONF_MAP)
		return 0;
	if (flow(t, scopes))
		return flow_error(t, scopes, "scopes");
	for (uint32_t i = 0; i + 1 < scopes->n * 2; i += 2) {
		const struct sl_conf *sk = scopes->items[i];
		const struct sl_conf *sv = scopes->items[i + 1], *pk, *pl;
		if (scope != NULL && strcmp(sk->text, scope) != 0)
			continue;
		if (!map_find(sv, "pipelines", &pk, &pl) ||
		    pl->kind != SL_CONF_SEQ)
			continue;
		uint32_t found = 0;
		for (uint32_t j = 0; j < pl->n; j++) {
			char nm[512];
			item_name(pl->items[j], nm, sizeof(nm));
			if (strcmp(nm, name) != 0)
				continue;
			if (flow(t, pl))
				return flow_error(t, pl, "the pipelines list");
			if (*n + 2 > cap) {
				sl_diag_set(SL_ELIMIT, "too many entries");
				return -1;
			}
			const struct sl_conf *it = pl->items[j];
			uint32_t last =
			        block_last(t, it->line, (int)pl->col - 1);
			e[*n].off = t->lines[it->line - 1];
			e[*n].del = line_end(t, last) - e[*n].off;
			e[*n].ins = "";
			(*n)++;
			found++;
		}
		if (found > 0 && found == pl->n) {
			/* The list is now empty: `pipelines: []`. */
			size_t colon = t->lines[pk->line - 1] + pk->col - 1 +
			               strlen(pk->text);
			while (colon < t->len && t->text[colon] != ':')
				colon++;
			struct edit tail = {
			        .off = colon + 1, .del = 0, .ins = " []"};
			/* It goes before the item removals of this scope. */
			memmove(&e[*n - found + 1], &e[*n - found],
			        found * sizeof(*e));
			e[*n - found] = tail;
			(*n)++;
		}
	}
	return 0;
}

/** The project file a command edits: -p, else ./nodestream.yaml. */
static const char *
project_path(const char *given)
{
	if (given != NULL)
		return given;
	if (access(SL_PROJECT_FILE, F_OK) != 0) {
		sl_diag_set(SL_EINVAL,
		            "not in a project: there is no %s here (run it in "
		            "the project's directory, or give -p FILE)",
		            SL_PROJECT_FILE);
		return NULL;
	}
	return SL_PROJECT_FILE;
}

/** The directory part of `path` into `out` ("." when none). */
static void
dir_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(out, size, ".");
	else if (slash == path)
		snprintf(out, size, "/");
	else
		snprintf(out, size, "%.*s", (int)(slash - path), path);
}

/**
 * Replace the project file t->path by `text`, after loading it as a
 * project (from a temporary file beside it). *checked gets the loaded
 * project (the caller deletes it). 0, or -1 with an error (the file is
 * left as it was).
 */
static int
commit_text(const struct ptext *t, const char *text,
            struct sl_project **checked)
{
	char dir[PATH_MAX_LEN], tmp[PATH_MAX_LEN];
	dir_of(t->path, dir, sizeof(dir));
	if (path_join(tmp, sizeof(tmp), dir, ".nodestream.yaml.sluice-new") !=
	    0)
		return -1;
	(void)unlink(tmp);
	if (write_new(tmp, text) != 0)
		return -1;
	struct sl_project *p = sl_project_load(tmp);
	if (p == NULL) {
		sl_diag_wrap(SL_EINVAL,
		             "the edited project file does not load (%s is "
		             "unchanged)",
		             t->path);
		(void)unlink(tmp);
		return -1;
	}
	struct stat st;
	if (stat(t->path, &st) == 0)
		(void)chmod(tmp, st.st_mode & 07777);
	if (rename(tmp, t->path) != 0) {
		sl_diag_set_errno("cannot replace %s", t->path);
		(void)unlink(tmp);
		sl_project_delete(p);
		return -1;
	}
	*checked = p;
	return 0;
}

/** The pipeline scaffold writes. */
static const char scaffold_text[] =
        "# Pipeline %s, made by `sluice scaffold` (Nodestream's sample): "
        "the numbers\n"
        "# 0 to 99999 become Number nodes. Put your own extractor and "
        "interpretations\n"
        "# in their place.\n"
        "- implementation: nodestream.pipeline:IterableExtractor\n"
        "  factory: range\n"
        "  arguments:\n"
        "    stop: 100000\n"
        "\n"
        "- implementation: nodestream.interpreting:Interpreter\n"
        "  arguments:\n"
        "    interpretations:\n"
        "      - type: source_node\n"
        "        node_type: Number\n"
        "        key:\n"
        "          number: !jmespath index\n";

/** Usage of `scaffold`. */
static void
scaffold_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice scaffold NAME [-s SCOPE] [-p FILE]\n"
	        "\n"
	        "Write pipelines/NAME.yaml beside the project file (a sample: "
	        "numbers into Number\n"
	        "nodes) and add it to the project's scope SCOPE.\n"
	        "\n"
	        "options:\n"
	        "  -s, --scope SCOPE    the scope (default: default; made "
	        "if missing)\n"
	        "  -p, --project FILE   the project file (default "
	        "./nodestream.yaml)\n"
	        "  -d, --database DB    accepted, as by Nodestream; the "
	        "sample is the same\n"
	        "  -h, --help           this help\n");
}

/** Whether project `p` has pipeline `name` in scope `scope`. */
static bool
has_pipeline(const struct sl_project *p, const char *scope, const char *name)
{
	for (uint32_t i = 0; i < sl_project_n_pipelines(p); i++) {
		const struct sl_project_pipeline *pp =
		        sl_project_pipeline(p, i);
		if (strcmp(pp->name, name) == 0 &&
		    (scope == NULL || strcmp(pp->scope, scope) == 0))
			return true;
	}
	return false;
}

int
sl_cli_scaffold(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"scope", required_argument, NULL, 's'},
	        {"project", required_argument, NULL, 'p'},
	        {"database", required_argument, NULL, 'd'},
	        GLOBAL_LONGOPTS,
	};
	const char *scope = "default", *given = NULL;
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "s:p:d:hvqnV", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 's':
			scope = optarg;
			break;
		case 'p':
			given = optarg;
			break;
		case 'd':
			break;
		default: {
			int g = sl_cli_global_option(ch, "scaffold", argv,
			                             scaffold_usage);
			if (g != 0)
				return g > 0 ? 0 : 2;
		}
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "sluice scaffold: give one pipeline name\n");
		scaffold_usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	if (!good_name(name) || !good_name(scope)) {
		fprintf(stderr,
		        "sluice scaffold: '%s': a pipeline or scope "
		        "name is letters, digits, '-', '_' and '.'\n",
		        good_name(name) ? scope : name);
		return 2;
	}
	const char *path = project_path(given);
	struct sl_project *p = path != NULL ? sl_project_load(path) : NULL;
	if (p == NULL) {
		sl_cli_report();
		return 1;
	}
	if (has_pipeline(p, scope, name)) {
		sl_log_error("%s: scope '%s' has a pipeline '%s' already", path,
		             scope, name);
		sl_project_delete(p);
		return 1;
	}
	sl_project_delete(p);
	char dir[PATH_MAX_LEN], pdir[PATH_MAX_LEN], file[PATH_MAX_LEN],
	        entry[PATH_MAX_LEN];
	dir_of(path, dir, sizeof(dir));
	snprintf(entry, sizeof(entry), "pipelines/%s.yaml", name);
	struct ptext t;
	struct sl_buf ins, out, text;
	sl_buf_create(&ins, 1 << 16);
	sl_buf_create(&out, PROJECT_TEXT_MAX + (1 << 16));
	sl_buf_create(&text, 1 << 16);
	struct edit e;
	bool wrote = false;
	struct sl_project *np = NULL;
	int rc = path_join(pdir, sizeof(pdir), dir, "pipelines") != 0 ||
	                         path_join(file, sizeof(file), dir, entry) != 0
	                 ? -1
	                 : 0;
	if (rc == 0 && access(file, F_OK) == 0) {
		sl_diag_set(SL_EINVAL, "%s exists: nothing written", file);
		rc = -1;
	}
	if (rc == 0)
		rc = ptext_load(&t, path);
	else
		memset(&t, 0, sizeof(t));
	/* A last line without its newline gets one before what follows. */
	if (rc == 0 && t.len > 0 && t.text[t.len - 1] != '\n')
		rc = sl_buf_putc(&ins, '\n');
	size_t lead = ins.len;
	if (rc == 0)
		rc = add_edit(&t, scope, entry, &ins, &e);
	if (rc == 0 && lead > 0 && e.off != t.len) {
		/* The edit is not at the end: no newline before it. */
		memmove(ins.data, ins.data + lead, ins.len - lead);
		ins.len -= lead;
	}
	if (rc == 0) {
		rc = sl_buf_putc(&ins, '\0');
		e.ins = ins.data;
	}
	if (rc == 0)
		rc = apply_edits(&t, &e, 1, &out);
	if (rc == 0)
		rc = sl_buf_printf(&text, scaffold_text, name);
	if (rc == 0 && sl_buf_putc(&text, '\0') == 0) {
		if (mkdir(pdir, 0755) != 0 && errno != EEXIST) {
			sl_diag_set_errno("cannot create %s", pdir);
			rc = -1;
		}
	}
	if (rc == 0)
		rc = write_new(file, text.data);
	wrote = rc == 0;
	if (rc == 0)
		rc = commit_text(&t, out.data, &np);
	if (rc == 0 && !has_pipeline(np, scope, name)) {
		sl_diag_set(SL_EINVAL,
		            "the pipeline did not land in scope '%s'", scope);
		rc = -1;
	}
	if (rc != 0 && wrote)
		(void)unlink(file);
	sl_project_delete(np);
	ptext_free(&t);
	sl_buf_destroy(&ins);
	sl_buf_destroy(&out);
	sl_buf_destroy(&text);
	if (rc != 0) {
		sl_cli_report();
		return 1;
	}
	printf("Generated pipeline at '%s'\n",
	       strcmp(dir, ".") == 0 ? entry : file);
	return 0;
}

/** Usage of `remove`. */
static void
remove_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice remove [SCOPE] NAME [-p FILE]\n"
	        "\n"
	        "Take pipeline NAME out of the project (of SCOPE, or of every "
	        "scope listing it)\n"
	        "and delete its file.\n"
	        "\n"
	        "options:\n"
	        "  -p, --project FILE   the project file (default "
	        "./nodestream.yaml)\n"
	        "  -h, --help           this help\n");
}

/**
 * Whether file `file` lies under the directory of project file `project`
 * (both resolved; false when either cannot be).
 */
static bool
inside(const char *project, const char *file)
{
	char dir[PATH_MAX_LEN];
	dir_of(project, dir, sizeof(dir));
	char *d = realpath(dir, NULL), *f = realpath(file, NULL);
	bool in = false;
	if (d != NULL && f != NULL) {
		size_t n = strlen(d);
		in = strncmp(f, d, n) == 0 &&
		     (f[n] == '/' || (n == 1 && d[0] == '/'));
	}
	free(d);
	free(f);
	return in;
}

/** Most entries one `remove` takes out. */
#define REMOVE_MAX 64

int
sl_cli_remove(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"project", required_argument, NULL, 'p'},
	        GLOBAL_LONGOPTS,
	};
	const char *given = NULL;
	int ch;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "p:hvqnV", longopts, NULL)) !=
	       -1) {
		if (ch == 'p') {
			given = optarg;
			continue;
		}
		int g = sl_cli_global_option(ch, "remove", argv, remove_usage);
		if (g != 0)
			return g > 0 ? 0 : 2;
	}
	int n_args = argc - optind;
	if (n_args < 1 || n_args > 2) {
		fprintf(stderr, "sluice remove: give a pipeline name (and its "
		                "scope first, as Nodestream's remove SCOPE "
		                "PIPELINE)\n");
		remove_usage(stderr);
		return 2;
	}
	const char *scope = n_args == 2 ? argv[optind] : NULL;
	const char *name = argv[optind + n_args - 1];
	const char *path = project_path(given);
	struct sl_project *p = path != NULL ? sl_project_load(path) : NULL;
	if (p == NULL) {
		sl_cli_report();
		return 1;
	}
	if (scope != NULL && !sl_project_has_scope(p, scope)) {
		sl_log_error("%s: no scope '%s'", path, scope);
		sl_project_delete(p);
		return 1;
	}
	if (!has_pipeline(p, scope, name)) {
		const char *sug = sl_project_suggest(p, name);
		sl_log_error("%s: no pipeline '%s'%s%s%s%s%s", path, name,
		             scope != NULL ? " in scope '" : "",
		             scope != NULL ? scope : "",
		             scope != NULL ? "'" : "",
		             sug != NULL ? ". Did you mean " : "",
		             sug != NULL ? sug : "");
		sl_project_delete(p);
		return 1;
	}
	/* The files of the entries removed. */
	char *files[REMOVE_MAX];
	uint32_t n_files = 0;
	for (uint32_t i = 0; i < sl_project_n_pipelines(p); i++) {
		const struct sl_project_pipeline *pp =
		        sl_project_pipeline(p, i);
		if (strcmp(pp->name, name) == 0 &&
		    (scope == NULL || strcmp(pp->scope, scope) == 0) &&
		    n_files < REMOVE_MAX)
			files[n_files++] =
			        sl_strndup(pp->path, strlen(pp->path));
	}
	sl_project_delete(p);
	struct ptext t;
	struct edit e[REMOVE_MAX * 2];
	size_t n = 0;
	struct sl_buf out;
	sl_buf_create(&out, PROJECT_TEXT_MAX);
	struct sl_project *np = NULL;
	int rc = ptext_load(&t, path);
	if (rc == 0)
		rc = remove_edits(&t, scope, name, e, REMOVE_MAX * 2, &n);
	if (rc == 0 && n == 0) {
		sl_diag_set(SL_EINVAL,
		            "%s: pipeline '%s' is listed in a way "
		            "sluice cannot edit",
		            path, name);
		rc = -1;
	}
	if (rc == 0)
		rc = apply_edits(&t, e, n, &out);
	if (rc == 0)
		rc = commit_text(&t, out.data, &np);
	for (uint32_t i = 0; i < n_files; i++) {
		if (rc == 0 && files[i] != NULL) {
			bool used = false;
			for (uint32_t k = 0; k < sl_project_n_pipelines(np);
			     k++)
				used |= strcmp(sl_project_pipeline(np, k)->path,
				               files[i]) == 0;
			if (used) {
				/* Another entry still runs it: kept. */
			} else if (!inside(path, files[i]))
				printf("Kept %s: it is not under the project's "
				       "directory\n",
				       files[i]);
			else if (unlink(files[i]) == 0)
				printf("Deleted %s\n", files[i]);
		}
		sl_free(files[i]);
	}
	if (rc == 0)
		printf("Removed pipeline '%s' from %s\n", name, path);
	sl_project_delete(np);
	ptext_free(&t);
	sl_buf_destroy(&out);
	if (rc != 0) {
		sl_cli_report();
		return 1;
	}
	return 0;
}

/* --- audit ttls --------------------------------------------------------- */

/** A TTL configuration: which kind of type, and which type. */
struct ttl_conf {
	/** Whether it is for relationships. */
	bool rel;
	/** The type's name. */
	char *type;
	/** Whether a schema type used it. */
	bool used;
};

/** The TTL configurations found (a growing array). */
struct ttl_list {
	/** The configurations, in the order found. */
	struct ttl_conf *v;
	/** How many. */
	uint32_t n;
	/** Room. */
	uint32_t cap;
};

/** Most TTL configurations read. */
#define TTL_MAX 100000

/** Add one configuration. 0, or -1. */
static int
ttl_add(struct ttl_list *l, bool rel, const char *type)
{
	if (l->n == TTL_MAX) {
		sl_diag_set(SL_ELIMIT, "more than %d TTL configurations",
		            TTL_MAX);
		return -1;
	}
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 16;
		struct ttl_conf *v = sl_realloc(l->v, cap * sizeof(*v));
		if (v == NULL) {
			sl_diag_set(SL_EOOM, "out of memory");
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	char *t = sl_strndup(type, strlen(type));
	if (t == NULL) {
		sl_diag_set(SL_EOOM, "out of memory");
		return -1;
	}
	l->v[l->n++] = (struct ttl_conf){.rel = rel, .type = t};
	return 0;
}

/** sl_cli_ns_walk() picker: the TimeToLiveConfigurationExtractor. */
static bool
is_ttl(const struct sl_stepdef *d)
{
	const struct sl_step_type *ttl = sl_registry_find("ttl");
	return ttl != NULL && sl_registry_find(d->implementation) == ttl;
}

/** sl_cli_ns_walk() callback: the types TTL step `d` configures. */
static int
ttl_step(void *arg, const struct sl_stepdef *d, struct sl_step *s)
{
	struct ttl_list *l = arg;
	(void)s;
	const struct sl_conf *got =
	        sl_conf_get(d->arguments, "graph_object_type");
	const struct sl_conf *confs =
	        sl_conf_get(d->arguments, "configurations");
	bool rel = got != NULL && got->kind == SL_CONF_SCALAR &&
	           strcmp(got->text, "RELATIONSHIP") == 0;
	for (uint32_t i = 0;
	     confs != NULL && confs->kind == SL_CONF_SEQ && i < confs->n; i++) {
		const struct sl_conf *ot =
		        sl_conf_get(confs->items[i], "object_type");
		if (ot != NULL && ot->kind == SL_CONF_SCALAR &&
		    ttl_add(l, rel, ot->text) != 0)
			return -1;
	}
	return 0;
}

/** Usage of `audit`. */
static void
audit_usage(FILE *out)
{
	fprintf(out, "usage: sluice audit ttls [-p FILE]\n"
	             "\n"
	             "Report the node and relationship types of the project's "
	             "schema that no\n"
	             "TimeToLiveConfigurationExtractor configures, and the "
	             "configurations that name\n"
	             "no type. The exit status is the number of types "
	             "without one.\n"
	             "\n"
	             "options:\n"
	             "  -p, --project FILE   the project file (default "
	             "./nodestream.yaml)\n"
	             "  -h, --help           this help\n");
}

int
sl_cli_audit(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "ttls") != 0) {
		bool help = argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
		                          strcmp(argv[1], "--help") == 0);
		if (!help)
			fprintf(stderr, "sluice audit: the audit sluice has is "
			                "'ttls'\n");
		audit_usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	static const struct option longopts[] = {
	        {"project", required_argument, NULL, 'p'},
	        GLOBAL_LONGOPTS,
	};
	const char *given = NULL;
	int ch;
	argc--, argv++;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "p:hvqnV", longopts, NULL)) !=
	       -1) {
		if (ch == 'p') {
			given = optarg;
			continue;
		}
		int g = sl_cli_global_option(ch, "audit ttls", argv,
		                             audit_usage);
		if (g != 0)
			return g > 0 ? 0 : 2;
	}
	if (optind < argc) {
		fprintf(stderr, "sluice audit ttls: unexpected argument '%s'\n",
		        argv[optind]);
		return 2;
	}
	const char *path = project_path(given);
	struct sl_project *p = path != NULL ? sl_project_load(path) : NULL;
	struct sl_ns_schema schema = {0};
	struct ttl_list ttls = {0};
	int rc = p != NULL ? 0 : -1;
	if (rc == 0)
		rc = sl_cli_ns_project_schema(
		        p, sl_project_include_additional_types(p), &schema);
	for (uint32_t i = 0; rc == 0 && i < sl_project_n_pipelines(p); i++) {
		const struct sl_project_pipeline *pp =
		        sl_project_pipeline(p, i);
		rc = sl_cli_ns_walk(pp->path, pp->config, is_ttl, ttl_step,
		                    &ttls);
	}
	int failures = 0;
	if (rc == 0) {
		for (uint32_t i = 0; i < schema.n_types; i++) {
			const struct sl_ns_type *ty = schema.types[i];
			bool found = false;
			for (uint32_t k = 0; k < ttls.n && !found; k++) {
				struct ttl_conf *c = &ttls.v[k];
				if (!c->used && c->rel == ty->rel &&
				    strcmp(c->type, ty->name) == 0)
					c->used = found = true;
			}
			if (!found) {
				printf("Time to live not configured for "
				       "GraphObjectType.%s '%s'\n",
				       ty->rel ? "RELATIONSHIP" : "NODE",
				       ty->name);
				failures++;
			}
		}
		for (uint32_t k = 0; k < ttls.n; k++)
			if (!ttls.v[k].used)
				printf("Time to live configured for unknown "
				       "object type '%s'\n",
				       ttls.v[k].type);
		if (failures == 0)
			printf("All Object Types Have TTLs Configured\n");
		fflush(stdout);
	}
	for (uint32_t k = 0; k < ttls.n; k++)
		sl_free(ttls.v[k].type);
	sl_free(ttls.v);
	sl_ns_schema_destroy(&schema);
	sl_project_delete(p);
	if (rc != 0) {
		sl_cli_report();
		return 1;
	}
	return failures > 255 ? 255 : failures;
}
