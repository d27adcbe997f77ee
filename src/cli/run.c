/*
 * `sluice run` and `sluice validate`: load a pipeline file, build its
 * steps, run them with progress and a summary.
 */
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/buf.h"
#include "sluice/db.h"
#include "sluice/diag.h"
#include "sluice/json.h"
#include "sluice/log.h"
#include "sluice/pipeline.h"
#include "sluice/pipeline_file.h"
#include "sluice/registry.h"
#include "sluice/graph.h"
#include "sluice/interp.h"
#include "sluice/project.h"
#include "sluice/schema.h"
#include "sluice/steps.h"
#include "sluice/task.h"
#include "sluice/yamlread.h"

#include "ckpt.h"
#include "metrics.h"
#include "graph/store.h"
#include "pipeline/plugin_host.h"
#include "shard.h"

/** Most annotations on one command line. */
#define MAX_ANNOTATIONS 64
/** Most --target options. */
#define MAX_TARGETS 16
/** Most pipeline names on the command line. */
#define MAX_NAMES 64
/** Most bytes of a --config file. */
#define CONFIG_MAX ((size_t)16 << 20)

int
sl_cli_global_option(int c, const char *cmd, char **argv, void (*usage)(FILE *))
{
	switch (c) {
	case 'v':
	case 'q':
	case 'n':
	case OPT_ANSI:
	case OPT_NO_ANSI:
		return 0;
	case 'V':
		printf("sluice %s\n", SLUICE_VERSION);
		return 1;
	case 'h':
		usage(stdout);
		return 1;
	default:
		fprintf(stderr,
		        "sluice %s: option '%s' is unknown or needs a value\n",
		        cmd, argv[optind - 1]);
		usage(stderr);
		return -1;
	}
}

/** Options of `run` and `validate`. */
struct run_opts {
	/** The pipeline file. */
	const char *path;
	/** Annotations asked for. */
	const char *annotations[MAX_ANNOTATIONS];
	/** Number of annotations. */
	uint32_t n_annotations;
	/** Runner options. */
	struct sl_pipeline_opts popts;
	/** JSON log lines and summary. */
	bool json;
	/** Progress: 0 off, else on (in place on a TTY, else log lines). */
	int progress;
	/** A YAML or JSON file of values for !config, or NULL. */
	const char *config_path;
	/** Seconds between progress reports (0: 0.25 on a TTY, else 10). */
	double progress_interval;
	/** Targets given with -t (URIs or project target names), in order. */
	const char *targets[MAX_TARGETS];
	/** Number of targets. */
	uint32_t n_targets;
	/** The project file (-p), or NULL for ./nodestream.yaml if any. */
	const char *project;
	/** Pipeline files or project pipeline names given. */
	const char *names[MAX_NAMES];
	/** Number of names. */
	uint32_t n_names;
	/** The current job: the scope's values for !config, or NULL. */
	const struct sl_value *job_config;
	/** The current job: target URIs a writer is added for. */
	char job_uris[MAX_TARGETS * 2][1024];
	/** The current job: their write batch sizes (0: the default). */
	uint32_t job_batch[MAX_TARGETS * 2];
	/** The current job: number of target URIs. */
	uint32_t n_job_uris;
	/** --batch-size: ingestions per write batch (0: the target's). */
	uint32_t write_batch;
	/** -r: records between progress reports (0: by time). */
	uint32_t report_every;
	/** -v count: 1 info, 2 debug, 3 trace. */
	int verbose;
	/** -q: errors only, no progress and no summary. */
	bool quiet;
	/** --ansi 1, --no-ansi 0, neither -1 (a terminal decides). */
	int ansi;
	/** --auto-migrate: migrate the -t targets before running. */
	bool auto_migrate;
	/** --strict: bad input fails the run (sl_stepdef.strict). */
	bool strict;
	/** --shard K/N: this process's shard, 1 to shard_n (0: none). */
	uint32_t shard_k;
	/** --shard K/N: the number of shards (0: the run is not split). */
	uint32_t shard_n;
	/** --shard-key: split records by this JMESPath key, else files. */
	const char *shard_key;
	/** --storage-backend: the project's store for checkpoints, or NULL. */
	const char *storage;
	/** --from-start: ignore a checkpoint found in the store. */
	bool from_start;
	/** --checkpoint-interval: seconds between checkpoints (0: 1). */
	double checkpoint_interval;
	/** --plugin: shared objects to load, in order. */
	const char *plugins[SL_PLUGINS_MAX];
	/** Number of `plugins`. */
	uint32_t n_plugins;
	/** The project file, while a run has one open (else NULL). */
	const struct sl_project *proj;
	/** --prometheus: serve /metrics during each pipeline's run. */
	bool prometheus;
	/** The --prometheus-* options (address, port, TLS files). */
	struct sl_httpd_opts prom;
	/** --metrics-file: where each pipeline's summary goes as JSON. */
	const char *metrics_file;
	/** The open --metrics-file, or NULL. */
	FILE *metrics_out;
	/** The run's metrics (metrics.h), shared by its pipelines. */
	struct sl_cli_metrics *metrics;
};

/** Print the usage of `run`/`validate` to `out`. */
static void
run_usage(FILE *out, const char *cmd)
{
	fprintf(out,
	        "usage: sluice %s PIPELINE.yaml [options]\n"
	        "       sluice %s [NAME...] [-p PROJECT.yaml] [options]\n"
	        "         (pipelines of a project file, default "
	        "./nodestream.yaml; no NAME: all)\n"
	        "\n"
	        "options:\n"
	        "  -a, --annotations NAME    select steps annotated NAME "
	        "(repeatable;\n"
	        "                            also --annotation)\n"
	        "  --config FILE             YAML or JSON mapping that !config "
	        "reads\n"
	        "  -t, --target TARGET       write the graph to a URI "
	        "(sqlite:PATH,\n"
	        "                            postgresql://..., null:) or a "
	        "target of the\n"
	        "                            project file (repeatable)\n"
	        "  -p, --project FILE        the project file\n"
	        "  --strict                  bad input (a bad record, a file "
	        "of unknown\n"
	        "                            suffix) fails the run; by "
	        "default it is\n"
	        "                            skipped, counted and logged\n",
	        cmd, cmd);
	if (strcmp(cmd, "run") == 0)
		fprintf(out,
		        "  -s, --step-outbox-size N  records each step may "
		        "buffer (default: two\n"
		        "                            record batches)\n"
		        "  --batch-size N            ingestions per write "
		        "batch "
		        "(default 1000;\n"
		        "                            a PostgreSQL target "
		        "writes "
		        "10000); records\n"
		        "                            travel in batches of at "
		        "most 32 (one\n"
		        "                            thread) or 128\n"
		        "  --threads N               threads that interpret "
		        "records (default:\n"
		        "                            the number of cores; 1: "
		        "everything on\n"
		        "                            one thread)\n"
		        "  --shard K/N               be worker K (1..N) of N "
		        "that load one graph\n"
		        "                            together: read only this "
		        "worker's files\n"
		        "                            (by a hash of each path; "
		        "docs/scale-out.md)\n"
		        "  --shard-index I/N         the same as --shard "
		        "I+1/N (0-based, as\n"
		        "                            JOB_COMPLETION_INDEX)\n"
		        "  --shard-key EXPR          with --shard: read every "
		        "file, keep the\n"
		        "                            records whose JMESPath "
		        "key EXPR hashes\n"
		        "                            to this worker (e.g. the "
		        "source node's key)\n"
		        "  -j, --json                JSON log lines, "
		        "progress and summary\n"
		        "  --metrics-file PATH       also write each "
		        "pipeline's summary to PATH\n"
		        "                            as a JSON line (wall "
		        "and CPU time, peak\n"
		        "                            RSS, per-step and "
		        "per-target counts)\n"
		        "  --prometheus              serve Prometheus metrics "
		        "at /metrics while\n"
		        "                            the run goes "
		        "(docs/nodestream.md, Metrics)\n"
		        "  --prometheus-listen-port N     its port (default "
		        "9090; 0: any free one)\n"
		        "  --prometheus-listen-address A  its address "
		        "(default 0.0.0.0)\n"
		        "  --prometheus-certfile F   serve HTTPS with this "
		        "PEM certificate chain\n"
		        "  --prometheus-keyfile F    ... and this PEM private "
		        "key\n"
		        "  --no-progress             no progress reports\n"
		        "  --progress-interval S     seconds between progress "
		        "reports\n"
		        "                            (default 0.25 on a "
		        "terminal, else 10;\n"
		        "                            also "
		        "--metrics-interval-in-seconds)\n"
		        "  -r, --reporting-frequency N\n"
		        "                            report progress every N "
		        "records instead\n"
		        "  --auto-migrate            migrate the -t targets "
		        "first (sluice migrate)\n"
		        "  -v, -vv, -vvv             more log detail (info, "
		        "debug, trace)\n"
		        "  -q, --quiet               errors only: no progress, "
		        "no summary\n"
		        "  --ansi, --no-ansi         draw progress in place, "
		        "or never\n"
		        "  -n, --no-interaction      accepted (sluice never "
		        "asks)\n"
		        "  -V, --version             print the version\n"
		        "\n"
		        "  --storage-backend NAME    checkpoint to the "
		        "project's store NAME (storage.stores)\n"
		        "                            and resume from its "
		        "checkpoint\n"
		        "  --from-start              with --storage-backend: "
		        "ignore a checkpoint found\n"
		        "  --checkpoint-interval S   seconds between "
		        "checkpoints (default 1)\n"
		        "  --plugin PATH             load the sluice plugin "
		        "PATH (a shared object;\n"
		        "                            repeatable; "
		        "docs/plugins.md)\n"
		        "The --prometheus-* options only matter with "
		        "--prometheus.\n"
		        "Nodestream's options and their sluice meaning: "
		        "docs/nodestream.md.\n");
	fprintf(out, "  -h, --help                this help\n");
}

/** Parse a positive count option. */
static int
parse_count(const char *opt, const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 ||
	    v > 10000000ull || s[0] == '-') {
		fprintf(stderr,
		        "sluice: %s expects a whole number from 1 to "
		        "10000000, got '%s'\n",
		        opt, s);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/**
 * Parse `s`, "K/N", into *k and *n: 1 <= K <= N <= SL_SHARD_MAX, or with
 * `zero` (--shard-index) 0 <= K < N, K then made 1-based. 0, or -1 after
 * a message.
 */
static int
parse_shard(const char *opt, const char *s, bool zero, uint32_t *k, uint32_t *n)
{
	char *end, *end2;
	errno = 0;
	unsigned long a = strtoul(s, &end, 10), b = 0;
	bool ok = errno == 0 && end != s && s[0] >= '0' && s[0] <= '9' &&
	          *end == '/';
	if (ok) {
		b = strtoul(end + 1, &end2, 10);
		ok = errno == 0 && end2 != end + 1 && end[1] >= '0' &&
		     end[1] <= '9' && *end2 == '\0' && b >= 1 &&
		     b <= SL_SHARD_MAX && (zero ? a < b : a >= 1 && a <= b);
	}
	if (!ok) {
		fprintf(stderr,
		        "sluice: %s expects %s/N, this worker's index and the "
		        "number of workers, with %s and N at most %d (e.g. "
		        "%s), got '%s'\n",
		        opt, zero ? "I" : "K",
		        zero ? "0 <= I < N" : "1 <= K <= N", SL_SHARD_MAX,
		        zero ? "0/4" : "1/4", s);
		return -1;
	}
	*k = (uint32_t)a + (zero ? 1 : 0);
	*n = (uint32_t)b;
	return 0;
}

/** Parse the command line. 0, or the exit status to return. */
static int
parse_args(int argc, char **argv, struct run_opts *o)
{
	enum {
		OPT_BATCH = 256,
		OPT_NO_PROGRESS,
		OPT_CONFIG,
		OPT_INTERVAL,
		OPT_METRICS_INTERVAL,
		OPT_AUTO_MIGRATE,
		OPT_STORAGE,
		OPT_PROMETHEUS,
		OPT_PROM_PORT,
		OPT_PROM_ADDRESS,
		OPT_PROM_CERT,
		OPT_PROM_KEY,
		OPT_METRICS_FILE,
		OPT_STRICT,
		OPT_THREADS,
		OPT_SHARD,
		OPT_SHARD_INDEX,
		OPT_SHARD_KEY,
		OPT_FROM_START,
		OPT_CKPT_INTERVAL,
		OPT_PLUGIN,
	};
	static const struct option longopts[] = {
	        {"annotations", required_argument, NULL, 'a'},
	        {"annotation", required_argument, NULL, 'a'},
	        {"step-outbox-size", required_argument, NULL, 's'},
	        {"reporting-frequency", required_argument, NULL, 'r'},
	        {"batch-size", required_argument, NULL, OPT_BATCH},
	        {"json", no_argument, NULL, 'j'},
	        {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	        {"config", required_argument, NULL, OPT_CONFIG},
	        {"progress-interval", required_argument, NULL, OPT_INTERVAL},
	        {"metrics-interval-in-seconds", required_argument, NULL,
	         OPT_METRICS_INTERVAL},
	        {"target", required_argument, NULL, 't'},
	        {"strict", no_argument, NULL, OPT_STRICT},
	        {"threads", required_argument, NULL, OPT_THREADS},
	        {"shard", required_argument, NULL, OPT_SHARD},
	        {"shard-index", required_argument, NULL, OPT_SHARD_INDEX},
	        {"shard-key", required_argument, NULL, OPT_SHARD_KEY},
	        {"project", required_argument, NULL, 'p'},
	        {"auto-migrate", no_argument, NULL, OPT_AUTO_MIGRATE},
	        {"storage-backend", required_argument, NULL, OPT_STORAGE},
	        {"from-start", no_argument, NULL, OPT_FROM_START},
	        {"checkpoint-interval", required_argument, NULL,
	         OPT_CKPT_INTERVAL},
	        {"prometheus", no_argument, NULL, OPT_PROMETHEUS},
	        {"prometheus-listen-port", required_argument, NULL,
	         OPT_PROM_PORT},
	        {"prometheus-listen-address", required_argument, NULL,
	         OPT_PROM_ADDRESS},
	        {"prometheus-certfile", required_argument, NULL, OPT_PROM_CERT},
	        {"prometheus-keyfile", required_argument, NULL, OPT_PROM_KEY},
	        {"metrics-file", required_argument, NULL, OPT_METRICS_FILE},
	        {"plugin", required_argument, NULL, OPT_PLUGIN},
	        GLOBAL_LONGOPTS,
	};
	const char *cmd = argv[0];
	memset(o, 0, sizeof(*o));
	sl_pipeline_opts_init(&o->popts);
	o->popts.threads = sl_pipeline_cores();
	if (o->popts.threads > SL_PIPELINE_THREADS_MAX)
		o->popts.threads = SL_PIPELINE_THREADS_MAX;
	o->progress = -1;
	o->ansi = -1;
	sl_httpd_opts_init(&o->prom);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "a:t:p:r:s:jvqVnh", longopts,
	                        NULL)) != -1) {
		switch (c) {
		case OPT_PLUGIN:
			if (o->n_plugins == SL_PLUGINS_MAX) {
				fprintf(stderr,
				        "sluice: more than %d --plugin "
				        "options\n",
				        SL_PLUGINS_MAX);
				return 2;
			}
			o->plugins[o->n_plugins++] = optarg;
			break;
		case 'a':
			if (o->n_annotations == MAX_ANNOTATIONS) {
				fprintf(stderr,
				        "sluice: more than %d "
				        "annotations\n",
				        MAX_ANNOTATIONS);
				return 2;
			}
			o->annotations[o->n_annotations++] = optarg;
			break;
		case 's':
			if (parse_count("--step-outbox-size", optarg,
			                &o->popts.outbox_records) != 0)
				return 2;
			break;
		case 'r':
			if (parse_count("--reporting-frequency", optarg,
			                &o->report_every) != 0)
				return 2;
			break;
		case OPT_BATCH:
			if (parse_count("--batch-size", optarg,
			                &o->write_batch) != 0)
				return 2;
			break;
		case OPT_THREADS:
			if (parse_count("--threads", optarg,
			                &o->popts.threads) != 0)
				return 2;
			if (o->popts.threads > SL_PIPELINE_THREADS_MAX) {
				fprintf(stderr,
				        "sluice: --threads: at most %d\n",
				        SL_PIPELINE_THREADS_MAX);
				return 2;
			}
			break;
		case OPT_SHARD:
		case OPT_SHARD_INDEX:
			if (o->shard_n != 0) {
				fprintf(stderr,
				        "sluice %s: --shard or "
				        "--shard-index given twice\n",
				        cmd);
				return 2;
			}
			if (parse_shard(c == OPT_SHARD ? "--shard"
			                               : "--shard-index",
			                optarg, c == OPT_SHARD_INDEX,
			                &o->shard_k, &o->shard_n) != 0)
				return 2;
			break;
		case OPT_SHARD_KEY:
			if (optarg[0] == '\0') {
				fprintf(stderr,
				        "sluice %s: --shard-key expects a "
				        "JMESPath expression, got ''\n",
				        cmd);
				return 2;
			}
			o->shard_key = optarg;
			break;
		case 't':
			if (o->n_targets == MAX_TARGETS) {
				fprintf(stderr,
				        "sluice: more than %d targets\n",
				        MAX_TARGETS);
				return 2;
			}
			o->targets[o->n_targets++] = optarg;
			break;
		case 'p':
			o->project = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'V':
			printf("sluice %s\n", SLUICE_VERSION);
			return -1;
		case 'n':
			/* sluice never asks a question. */
			break;
		case OPT_ANSI:
		case OPT_NO_ANSI:
			o->ansi = c == OPT_ANSI;
			break;
		case OPT_NO_PROGRESS:
			o->progress = 0;
			break;
		case OPT_STRICT:
			o->strict = true;
			break;
		case OPT_CONFIG:
			o->config_path = optarg;
			break;
		case OPT_AUTO_MIGRATE:
			o->auto_migrate = true;
			break;
		case OPT_STORAGE:
			o->storage = optarg;
			break;
		case OPT_FROM_START:
			o->from_start = true;
			break;
		case OPT_CKPT_INTERVAL: {
			char *end;
			errno = 0;
			double v = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(v > 0 && v <= 86400)) {
				fprintf(stderr,
				        "sluice %s: --checkpoint-interval "
				        "expects seconds between 0 and 86400, "
				        "got '%s'\n",
				        cmd, optarg);
				return 2;
			}
			o->checkpoint_interval = v;
			break;
		}
		case OPT_PROMETHEUS:
			o->prometheus = true;
			break;
		case OPT_PROM_PORT: {
			/* Like Nodestream, these matter only with
			 * --prometheus. */
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < 0 || v > 65535) {
				fprintf(stderr,
				        "sluice %s: --prometheus-listen-port "
				        "expects a port from 0 to 65535, got "
				        "'%s'\n",
				        cmd, optarg);
				return 2;
			}
			o->prom.port = (int)v;
			break;
		}
		case OPT_PROM_ADDRESS:
			o->prom.address = optarg;
			break;
		case OPT_PROM_CERT:
			o->prom.certfile = optarg;
			break;
		case OPT_PROM_KEY:
			o->prom.keyfile = optarg;
			break;
		case OPT_METRICS_FILE:
			o->metrics_file = optarg;
			break;
		case OPT_INTERVAL:
		case OPT_METRICS_INTERVAL: {
			char *end;
			errno = 0;
			double v = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(v >= 0.01 && v <= 86400)) {
				fprintf(stderr,
				        "sluice: %s expects seconds from 0.01 "
				        "to 86400, got '%s'\n",
				        c == OPT_INTERVAL
				                ? "--progress-interval"
				                : "--metrics-interval-in-"
				                  "seconds",
				        optarg);
				return 2;
			}
			o->progress_interval = v;
			break;
		}
		case 'h':
			run_usage(stdout, cmd);
			return -1;
		default:
			if (optopt != 0 && optopt < 256)
				fprintf(stderr, "sluice %s: option '-%c' %s\n",
				        cmd, optopt,
				        strchr("atprs", optopt)
				                ? "needs a value"
				                : "is unknown");
			else
				fprintf(stderr,
				        "sluice %s: option '%s' is unknown or "
				        "needs a value\n",
				        cmd, argv[optind - 1]);
			run_usage(stderr, cmd);
			return 2;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (o->n_names == MAX_NAMES) {
			fprintf(stderr, "sluice %s: more than %d pipelines\n",
			        cmd, MAX_NAMES);
			return 2;
		}
		o->names[o->n_names++] = argv[i];
	}
	if (o->shard_key != NULL && o->shard_n == 0) {
		fprintf(stderr,
		        "sluice %s: --shard-key needs --shard K/N (or "
		        "--shard-index I/N): which worker this is, of how "
		        "many\n",
		        cmd);
		return 2;
	}
	if (o->prometheus && o->prom.keyfile != NULL &&
	    o->prom.certfile == NULL) {
		fprintf(stderr,
		        "sluice %s: --prometheus-keyfile needs "
		        "--prometheus-certfile (the certificate it belongs "
		        "to)\n",
		        cmd);
		return 2;
	}
	if (strcmp(cmd, "validate") == 0 && o->n_names != 1) {
		fprintf(stderr, "sluice %s: expected one pipeline file\n", cmd);
		run_usage(stderr, cmd);
		return 2;
	}
	/* Record batches no larger than a write batch, nor than the
	 * default for the threads. */
	if (o->write_batch != 0 &&
	    o->write_batch < sl_pipeline_batch_size(&o->popts))
		o->popts.batch_size = o->write_batch;
	o->path = o->n_names > 0 ? o->names[0] : NULL;
	return 0;
}

/** Print the diag's error as "sluice: error: ...". */
static void
print_error(const char *prefix)
{
	char msg[4096];
	struct sl_error *e = sl_diag_last();
	if (e == NULL)
		snprintf(msg, sizeof(msg), "unknown error");
	else
		sl_error_format(e, msg, sizeof(msg));
	sl_log_error("%s%s", prefix, msg);
}

/** The loaded pipeline: file, steps, config values. */
struct loaded {
	/** The pipeline file. */
	struct sl_pipeline_file *file;
	/** The pipeline built from it. */
	struct sl_pipeline *pipeline;
	/** Memory of the config values. */
	struct sl_arena config_arena;
	/** The config values (!config). */
	struct sl_value config;
};

/** Free what load() made. */
static void
unload(struct loaded *l)
{
	sl_pipeline_delete(l->pipeline);
	sl_pipeline_file_delete(l->file);
	sl_arena_destroy(&l->config_arena);
	memset(l, 0, sizeof(*l));
}

/**
 * Add the record shard step of --shard-key to l's pipeline. 0, or -1
 * with an error.
 */
static int
add_shard_step(const struct run_opts *o, struct loaded *l)
{
	struct sl_step *s = sl_shard_step_new(o->shard_key, o->shard_k,
	                                      o->shard_n, o->strict);
	if (s == NULL || sl_pipeline_add(l->pipeline, s) != 0)
		return -1;
	return 0;
}

/** Load the pipeline file and build its steps. 0, or -1 with an error. */
static int
load(const struct run_opts *o, struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	sl_arena_create(&l->config_arena, 65536, CONFIG_MAX * 8);
	struct sl_pipeline_file_opts fo = {
	        .annotations = o->annotations,
	        .n_annotations = o->n_annotations,
	        .strict = o->strict,
	};
	if (o->config_path != NULL) {
		size_t len;
		char *text =
		        sl_conf_read_file(o->config_path, CONFIG_MAX, &len);
		int rc = text != NULL ? 0 : -1;
		if (rc == 0)
			rc = sl_yaml_parse(text, len, &l->config_arena,
			                   o->config_path, &l->config);
		sl_free(text);
		if (rc != 0)
			sl_diag_wrap(sl_diag_code(), "--config");
		if (rc == 0 && l->config.type != SL_VOBJECT) {
			sl_diag_set(SL_EINVAL,
			            "%s: expected a mapping of config values",
			            o->config_path);
			rc = -1;
		}
		if (rc != 0) {
			unload(l);
			return -1;
		}
		fo.config = &l->config;
	} else if (o->job_config != NULL) {
		fo.config = o->job_config;
	}
	if (sl_steps_register_builtins() != 0 || sl_interp_register() != 0 ||
	    sl_graph_register() != 0) {
		unload(l);
		return -1;
	}
	l->file = sl_pipeline_file_load(o->path, &fo);
	if (l->file == NULL) {
		unload(l);
		return -1;
	}
	if (l->file->n_steps == 0) {
		sl_diag_set(SL_EINVAL,
		            "%s: no step is selected (%u steps, all annotated "
		            "with other annotations than asked for)",
		            o->path, l->file->n_all);
		unload(l);
		return -1;
	}
	l->pipeline = sl_pipeline_new(&o->popts);
	if (l->pipeline == NULL) {
		unload(l);
		return -1;
	}
	bool sharded = false;
	for (uint32_t i = 0; i < l->file->n_steps; i++) {
		struct sl_step *s = sl_step_create(&l->file->steps[i]);
		if (s != NULL && o->shard_n > 0 && o->shard_key != NULL &&
		    !sharded && strcmp(s->ops->type, "Interpreter") == 0) {
			if (add_shard_step(o, l) != 0) {
				sl_step_delete(s);
				unload(l);
				return -1;
			}
			sharded = true;
		}
		if (s == NULL || sl_pipeline_add(l->pipeline, s) != 0) {
			unload(l);
			return -1;
		}
		if (s != NULL && o->shard_n > 0 && o->shard_key == NULL &&
		    sl_file_extractor_shard(s, o->shard_k, o->shard_n))
			sharded = true;
	}
	/* Without an Interpreter, records are split after the file's last
	 * step. */
	if (o->shard_n > 0 && o->shard_key != NULL && !sharded &&
	    add_shard_step(o, l) != 0) {
		unload(l);
		return -1;
	}
	if (o->shard_n > 0 && o->shard_key == NULL && !sharded) {
		sl_diag_set(SL_EINVAL,
		            "%s: --shard %u/%u splits the files of a "
		            "FileExtractor, and this pipeline has none; give "
		            "--shard-key EXPR to split its records by key "
		            "instead",
		            o->path, o->shard_k, o->shard_n);
		unload(l);
		return -1;
	}
	/* The drop-in harness (tests/dropin) reads the records leaving the
	 * pipeline file's last step from here. */
	const char *records_out = getenv("SLUICE_RECORDS_OUT");
	if (records_out != NULL && records_out[0] != '\0') {
		struct sl_step *s = sl_print_step_new(records_out, true, true);
		if (s == NULL || sl_pipeline_add(l->pipeline, s) != 0) {
			unload(l);
			return -1;
		}
	}
	for (uint32_t i = 0; i < o->n_job_uris; i++) {
		uint32_t size =
		        o->write_batch != 0 ? o->write_batch : o->job_batch[i];
		struct sl_step *s =
		        sl_graph_writer_new(o->job_uris[i], size, o->strict);
		if (s == NULL || sl_pipeline_add(l->pipeline, s) != 0) {
			unload(l);
			return -1;
		}
	}
	return 0;
}

int
sl_cli_plugins_load(const struct sl_project *p, const char *const *paths,
                    uint32_t n)
{
	uint32_t np = p != NULL ? sl_project_n_plugins(p) : 0;
	if (np == 0 && n == 0)
		return 0;
	if (sl_steps_register_builtins() != 0 || sl_interp_register() != 0 ||
	    sl_graph_register() != 0)
		return -1;
	for (uint32_t i = 0; i < np; i++) {
		const struct sl_project_plugin *pl = sl_project_plugin(p, i);
		if (pl->path == NULL) {
			sl_diag_set(
			        SL_EINVAL,
			        "%s: plugin '%s' has no path, and there is "
			        "no %s.so or lib%s.so in $SLUICE_PLUGIN_PATH "
			        "or the project's plugins/ directory "
			        "(docs/plugins.md)",
			        pl->where, pl->name, pl->name, pl->name);
			return -1;
		}
		if (sl_plugin_load(pl->path, pl->where, pl->config) != 0)
			return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		if (sl_plugin_load(paths[i], "--plugin", NULL) != 0)
			return -1;
	if (sl_graph_plugin_stores_register() != 0)
		return -1;
	for (size_t i = 0; i < sl_plugin_count(); i++)
		sl_log_info("plugin %s", sl_plugin_describe(i));
	return 0;
}

/** Load the plugins of project `p` (NULL: none) and of --plugin. */
static int
load_plugins(const struct run_opts *o, const struct sl_project *p)
{
	return sl_cli_plugins_load(p, o->plugins, o->n_plugins);
}

int
sl_cli_validate(int argc, char **argv)
{
	struct run_opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	struct loaded l;
	if (load_plugins(&o, NULL) != 0 || load(&o, &l) != 0) {
		print_error("");
		return 1;
	}
	/* The file's steps, and the shard filter --shard-key adds. */
	uint32_t n = l.file->n_steps + (o.shard_key != NULL ? 1 : 0);
	printf("%s: ok, %u step%s:", o.path, n, n == 1 ? "" : "s");
	for (uint32_t i = 0; i < n; i++)
		printf(" %s", sl_pipeline_step(l.pipeline, i)->name);
	printf("\n");
	unload(&l);
	return 0;
}

/* --- running ------------------------------------------------------------ */

/** What the main task of a run shares with the progress task. */
struct run_state {
	/** Options. */
	const struct run_opts *o;
	/** The pipeline. */
	struct sl_pipeline *p;
	/** The run's result. */
	int rc;
	/** Whether the progress line is drawn in place (TTY). */
	bool tty;
	/** Whether anything was drawn on the progress line. */
	bool drawn;
	/** Whether the run could not start (--prometheus failed). */
	bool not_started;
	/** Its checkpointing (--storage-backend), or NULL. */
	struct cli_ckpt *ck;
};

/** Records the pipeline has taken in: the first step's output. */
static uint64_t
records_read(struct sl_pipeline *p)
{
	return sl_pipeline_step(p, 0)->stats.out;
}

/** Body of the progress task. */
static int
progress_main(void *arg)
{
	struct run_state *st = arg;
	double period = st->o->progress_interval;
	/* -r N without an interval: a report each time N more records are
	 * in, checked ten times a second. */
	uint32_t every = period == 0 ? st->o->report_every : 0;
	if (every > 0)
		period = 0.1;
	else if (period == 0)
		period = st->tty ? 0.25 : 10.0;
	enum sl_cli_progress_mode mode = st->o->json ? SL_PROGRESS_JSON
	                                 : st->tty   ? SL_PROGRESS_TTY
	                                             : SL_PROGRESS_PLAIN;
	uint64_t reported = 0;
	double next = sl_clock() + period;
	while (sl_sleep_until(next) == 0) {
		next += period;
		uint64_t n = records_read(st->p);
		if (every > 0) {
			if (n / every == reported / every)
				continue;
			reported = n;
		}
		sl_cli_progress(st->o->metrics, mode);
		st->drawn |= st->tty;
	}
	return 0;
}

/** Whether late_signals_ignore() ignored them (for run_job()). */
static bool late_ignored;

/**
 * Ignore SIGINT and SIGTERM: the run is complete and its outcome decided.
 * A stop signal landing between the end of the run (when the run stops
 * catching signals) and the exit would end the process with 128 + signal
 * after the checkpoint was deleted, so that a run started again, as that
 * status asks, would load everything again (every CREATE relationship
 * twice). run_job() gives the next pipeline of a project the signals'
 * default effect back.
 */
static void
late_signals_ignore(void)
{
	late_ignored = true;
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
}

/** Body of the run's main task. */
static int
run_main(void *arg)
{
	struct run_state *st = arg;
	struct sl_task *progress = NULL;
	st->tty = !st->o->json &&
	          (st->o->ansi > 0 || (st->o->ansi < 0 && isatty(2)));
	if (st->o->prometheus &&
	    sl_cli_metrics_serve(st->o->metrics, &st->o->prom) != 0) {
		/* Before anything ran: no summary. */
		st->not_started = true;
		st->rc = -1;
		return -1;
	}
	if (st->ck != NULL && cli_ckpt_load(st->ck) != 0) {
		sl_cli_metrics_unserve(st->o->metrics);
		st->not_started = true;
		st->rc = -1;
		return -1;
	}
	/* Without memory for it, the run goes on without progress. */
	if (st->o->progress != 0 &&
	    (progress = sl_task_spawn(sl_loop_current(), "progress",
	                              progress_main, st)) == NULL)
		sl_diag_clear(sl_diag_get());
	st->rc = sl_pipeline_run(st->p);
	if (st->rc == 0 && sl_pipeline_stopped_by(st->p) == 0)
		late_signals_ignore();
	struct sl_diag keep;
	sl_diag_create(&keep);
	sl_diag_move(sl_diag_get(), &keep);
	if (st->ck != NULL)
		cli_ckpt_end(st->ck,
		             st->rc == 0 && sl_pipeline_stopped_by(st->p) == 0);
	/* A test's stop signal at the worst moment (tests/test_resume.sh):
	 * the checkpoint is gone. */
	const char *at_end = getenv("SLUICE_TEST_SIGNAL_AT_END");
	if (at_end != NULL && strcmp(at_end, "1") == 0)
		raise(SIGINT);
	if (progress != NULL)
		(void)sl_task_reap(progress);
	sl_cli_metrics_unserve(st->o->metrics);
	sl_diag_clear(sl_diag_get());
	sl_diag_move(&keep, sl_diag_get());
	sl_diag_destroy(&keep);
	if (st->drawn) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	return st->rc;
}

/** Append `s` as a JSON string to `b`. */
static void
json_str(struct sl_buf *b, const char *s)
{
	struct sl_value v = sl_str_ref(s, (uint32_t)strlen(s));
	(void)sl_json_write(b, &v, 0);
}

/** The run's outcome in one word. */
static const char *
status_word(struct sl_pipeline *p, int rc)
{
	if (sl_pipeline_stopped_by(p) != 0)
		return "stopped";
	return rc == 0 ? "ok" : "failed";
}

/**
 * Append a writer step's committed counts to `b` as JSON members
 * (,"target":...,"committed":{...}); nothing for other steps.
 */
static void
json_writes(struct sl_buf *b, const struct sl_step *s)
{
	struct sl_graph_counts c;
	const char *target;
	if (!sl_graph_writer_counts(s, &c, &target))
		return;
	(void)sl_buf_puts(b, ",\"target\":");
	json_str(b, target);
	(void)sl_buf_printf(
	        b,
	        ",\"committed\":{\"nodes_created\":%" PRIu64
	        ",\"nodes_updated\":%" PRIu64 ",\"nodes_unmatched\":%" PRIu64
	        ",\"rels_created\":%" PRIu64 ",\"rels_updated\":%" PRIu64
	        ",\"rels_skipped\":%" PRIu64 "}",
	        c.nodes_created, c.nodes_updated, c.nodes_unmatched,
	        c.rels_created, c.rels_updated, c.rels_skipped);
}

/** What a sharded run did with its share (--shard). */
struct shard_tally {
	/** Files of this shard (read), by file. */
	uint64_t files_kept;
	/** Files of other shards (not read), by file. */
	uint64_t files_other;
	/** Records of this shard, by key. */
	uint64_t records_kept;
	/** Records of other shards (read and left), by key. */
	uint64_t records_other;
	/** Records whose key was null, by key. */
	uint64_t null_keys;
};

/** Sum what the run's shard step or file extractors did into *t. */
static void
shard_tally(struct sl_pipeline *p, struct shard_tally *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < sl_pipeline_step_count(p); i++) {
		struct sl_step *s = sl_pipeline_step(p, i);
		uint64_t a, b, c;
		if (sl_shard_step_counts(s, &a, &b, &c)) {
			t->records_kept += a;
			t->records_other += b;
			t->null_keys += c;
		} else if (sl_file_extractor_files(s, &a, &b)) {
			t->files_kept += a;
			t->files_other += b;
		}
	}
}

/** Append the run's shard as a JSON member (,"shard":{...}) to `b`. */
static void
json_shard(struct sl_buf *b, const struct run_opts *o, struct sl_pipeline *p)
{
	if (o->shard_n == 0)
		return;
	struct shard_tally t;
	shard_tally(p, &t);
	(void)sl_buf_printf(b, ",\"shard\":{\"index\":%u,\"count\":%u,",
	                    o->shard_k, o->shard_n);
	if (o->shard_key == NULL) {
		(void)sl_buf_printf(b,
		                    "\"by\":\"file\",\"files_kept\":%" PRIu64
		                    ",\"files_other\":%" PRIu64 "}",
		                    t.files_kept, t.files_other);
		return;
	}
	(void)sl_buf_puts(b, "\"by\":\"record\",\"key\":");
	json_str(b, o->shard_key);
	(void)sl_buf_printf(b,
	                    ",\"records_kept\":%" PRIu64
	                    ",\"records_other\":%" PRIu64
	                    ",\"null_keys\":%" PRIu64 "}",
	                    t.records_kept, t.records_other, t.null_keys);
}

/** Print the run's shard as a line of the text summary. */
static void
text_shard(const struct run_opts *o, struct sl_pipeline *p)
{
	if (o->shard_n == 0)
		return;
	struct shard_tally t;
	shard_tally(p, &t);
	if (o->shard_key == NULL) {
		fprintf(stderr,
		        "  shard %u/%u by file: %" PRIu64 " file%s read here, "
		        "%" PRIu64 " left to other shards\n",
		        o->shard_k, o->shard_n, t.files_kept,
		        t.files_kept == 1 ? "" : "s", t.files_other);
		return;
	}
	fprintf(stderr,
	        "  shard %u/%u by key `%s`: %" PRIu64 " record%s kept, %" PRIu64
	        " left to other shards",
	        o->shard_k, o->shard_n, o->shard_key, t.records_kept,
	        t.records_kept == 1 ? "" : "s", t.records_other);
	if (t.null_keys > 0)
		fprintf(stderr, " (%" PRIu64 " with a null key)", t.null_keys);
	fprintf(stderr, "\n");
}

/**
 * Print the summary as one JSON line to stderr (`to_stderr`) and to the
 * --metrics-file.
 */
static void
summary_json(const struct run_opts *o, struct sl_pipeline *p, int rc,
             const char *error, bool to_stderr)
{
	struct sl_buf b;
	sl_buf_create(&b, (size_t)1 << 20);
	(void)sl_buf_puts(&b, "{\"event\":\"summary\",\"pipeline\":");
	json_str(&b, o->path);
	(void)sl_buf_printf(&b, ",\"status\":\"%s\",\"elapsed\":%.3f",
	                    status_word(p, rc), sl_pipeline_elapsed(p));
	if (sl_pipeline_stopped_by(p) != 0)
		(void)sl_buf_printf(&b, ",\"signal\":%d",
		                    sl_pipeline_stopped_by(p));
	(void)sl_buf_puts(&b, ",\"steps\":[");
	for (uint32_t i = 0; i < sl_pipeline_step_count(p); i++) {
		struct sl_step *s = sl_pipeline_step(p, i);
		(void)sl_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
		json_str(&b, s->name);
		(void)sl_buf_printf(&b,
		                    ",\"in\":%" PRIu64 ",\"out\":%" PRIu64
		                    ",\"errors\":%" PRIu64
		                    ",\"skipped\":%" PRIu64 ",\"skips\":[",
		                    s->stats.in, s->stats.out, s->stats.errors,
		                    s->stats.skipped);
		for (int k = 0; k < SL_STEP_SKIPS_KEPT; k++) {
			if (s->stats.skips[k] == NULL)
				continue;
			if (k > 0)
				(void)sl_buf_putc(&b, ',');
			json_str(&b, s->stats.skips[k]);
		}
		(void)sl_buf_putc(&b, ']');
		json_writes(&b, s);
		(void)sl_buf_putc(&b, '}');
	}
	(void)sl_buf_putc(&b, ']');
	json_shard(&b, o, p);
	sl_cli_metrics_json(o->metrics, &b);
	if (error != NULL) {
		(void)sl_buf_puts(&b, ",\"error\":");
		json_str(&b, error);
	}
	(void)sl_buf_puts(&b, "}\n");
	if (to_stderr)
		fputs(b.data ? b.data : "", stderr);
	if (o->metrics_out != NULL &&
	    (fputs(b.data ? b.data : "", o->metrics_out) == EOF ||
	     fflush(o->metrics_out) != 0))
		sl_log_error("--metrics-file %s: cannot write: %s",
		             o->metrics_file, strerror(errno));
	sl_buf_destroy(&b);
}

/** Print the summary as a table to stderr. */
static void
summary_text(const struct run_opts *o, struct sl_pipeline *p, int rc)
{
	double secs = sl_pipeline_elapsed(p);
	uint64_t n = records_read(p);
	int sig = sl_pipeline_stopped_by(p);
	if (sig != 0)
		fprintf(stderr, "%s: stopped by %s%s after %.2f s\n", o->path,
		        strsignal(sig),
		        sl_pipeline_forced(p) ? " (forced)" : "", secs);
	else
		fprintf(stderr, "%s: %s after %.2f s\n", o->path,
		        rc == 0 ? "finished" : "FAILED", secs);
	fprintf(stderr, "  %-32s %12s %12s %8s %8s\n", "step", "in", "out",
	        "errors", "skipped");
	for (uint32_t i = 0; i < sl_pipeline_step_count(p); i++) {
		struct sl_step *s = sl_pipeline_step(p, i);
		fprintf(stderr,
		        "  %-32s %12" PRIu64 " %12" PRIu64 " %8" PRIu64
		        " %8" PRIu64 "%s\n",
		        s->name, s->stats.in, s->stats.out, s->stats.errors,
		        s->stats.skipped, s->failed ? "  (failed)" : "");
	}
	fprintf(stderr, "  %" PRIu64 " records read, %.0f records/s\n", n,
	        secs > 0 ? (double)n / secs : 0.0);
	text_shard(o, p);
	sl_cli_metrics_text(o->metrics, stderr);
	for (uint32_t i = 0; i < sl_pipeline_step_count(p); i++) {
		struct sl_step *s = sl_pipeline_step(p, i);
		struct sl_graph_counts c;
		const char *target;
		if (!sl_graph_writer_counts(s, &c, &target) ||
		    target[0] == '\0')
			continue;
		fprintf(stderr,
		        "  %s committed to %s (nodes %" PRIu64
		        " created, %" PRIu64 " updated, %" PRIu64
		        " not matched; relationships %" PRIu64
		        " created, %" PRIu64 " updated, %" PRIu64 " skipped)\n",
		        s->name, target, c.nodes_created, c.nodes_updated,
		        c.nodes_unmatched, c.rels_created, c.rels_updated,
		        c.rels_skipped);
	}
	for (uint32_t i = 0; i < sl_pipeline_step_count(p); i++) {
		struct sl_step *s = sl_pipeline_step(p, i);
		if (s->stats.skipped == 0)
			continue;
		fprintf(stderr,
		        "  %s skipped %" PRIu64 " record%s; the first:\n",
		        s->name, s->stats.skipped,
		        s->stats.skipped == 1 ? "" : "s");
		for (int k = 0; k < SL_STEP_SKIPS_KEPT; k++)
			if (s->stats.skips[k] != NULL)
				fprintf(stderr, "    %s\n", s->stats.skips[k]);
	}
}

/** Run the pipeline o->path with o's job settings. The exit status. */
static int
run_job(struct run_opts *o)
{
	if (late_ignored) {
		/* The pipeline before ended: this one may be stopped. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		late_ignored = false;
	}
	struct loaded l;
	if (load(o, &l) != 0) {
		print_error("");
		return 1;
	}
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL) {
		print_error("");
		unload(&l);
		return 1;
	}
	struct cli_ckpt ck = {0};
	if (o->storage != NULL) {
		struct cli_ckpt_opts co = {
		        .project = o->proj,
		        .backend = o->storage,
		        .pipeline_path = o->path,
		        .from_start = o->from_start,
		        .interval = o->checkpoint_interval,
		        .shard_k = o->shard_k,
		        .shard_n = o->shard_n,
		};
		if (cli_ckpt_setup(&ck, &co, l.pipeline) != 0) {
			print_error("");
			sl_loop_delete(loop);
			unload(&l);
			return 1;
		}
	}
	struct run_state st = {.o = o, .p = l.pipeline};
	if (o->storage != NULL)
		st.ck = &ck;
	sl_cli_metrics_begin(o->metrics, l.pipeline, o->path);
	int rc = sl_loop_run_main(loop, "main", run_main, &st);
	/* Frees the store if the run did not get to it. */
	cli_ckpt_end(&ck, false);
	char error[4096] = "";
	if (rc != 0 && sl_diag_last() != NULL)
		sl_error_format(sl_diag_last(), error, sizeof(error));
	if (rc != 0)
		sl_log_error("%s", error[0] ? error : "the run failed");
	if (st.not_started)
		;
	else if (o->json || o->metrics_out != NULL)
		summary_json(o, l.pipeline, rc, rc != 0 ? error : NULL,
		             o->json && !o->quiet);
	if (!st.not_started && !o->quiet && !o->json)
		summary_text(o, l.pipeline, rc);
	sl_cli_metrics_end(o->metrics);
	int sig = sl_pipeline_stopped_by(l.pipeline);
	sl_diag_clear(sl_diag_get());
	sl_loop_delete(loop);
	unload(&l);
	if (sig != 0)
		return 128 + sig;
	return rc == 0 ? 0 : 1;
}

/** Whether `name` names a pipeline file rather than a project pipeline. */
static bool
is_pipeline_file(const char *name)
{
	size_t n = strlen(name);
	struct stat st;
	return strchr(name, '/') != NULL ||
	       (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (stat(name, &st) == 0 && S_ISREG(st.st_mode));
}

/**
 * The project file: -p, else ./nodestream.yaml if it exists (NULL then
 * without an error when `needed` is false).
 */
static struct sl_project *
open_project(const char *path, bool needed)
{
	if (path == NULL) {
		if (access(SL_PROJECT_FILE, F_OK) != 0) {
			if (needed)
				sl_diag_set(
				        SL_EINVAL,
				        "no pipeline file given and no %s here "
				        "(give PIPELINE.yaml, or -p "
				        "PROJECT.yaml)",
				        SL_PROJECT_FILE);
			return NULL;
		}
		path = SL_PROJECT_FILE;
	}
	return sl_project_load(path);
}

/**
 * Resolve target `t` (a URI, or a target of project `p`) into `uri`.
 * 0, or -1 with an error.
 */
static int
resolve_target(const struct sl_project *p, const char *t, char *uri,
               size_t size, uint32_t *batch)
{
	*batch = 0;
	if (strchr(t, ':') != NULL) {
		snprintf(uri, size, "%s", t);
		return 0;
	}
	if (p == NULL) {
		sl_diag_set(SL_EINVAL,
		            "target '%s': not a URI (sqlite:PATH, null:) and "
		            "there is no project file to name it",
		            t);
		return -1;
	}
	return sl_project_target_uri(p, t, uri, size, batch);
}

/** Add target `t` to the job's URIs unless it is there. */
static int
job_add_target(struct run_opts *o, const struct sl_project *p, const char *t)
{
	char uri[1024];
	uint32_t batch;
	if (resolve_target(p, t, uri, sizeof(uri), &batch) != 0)
		return -1;
	for (uint32_t i = 0; i < o->n_job_uris; i++)
		if (strcmp(o->job_uris[i], uri) == 0)
			return 0;
	if (o->n_job_uris == MAX_TARGETS * 2) {
		sl_diag_set(SL_EINVAL, "more than %d targets", MAX_TARGETS * 2);
		return -1;
	}
	snprintf(o->job_uris[o->n_job_uris], sizeof(o->job_uris[0]), "%s", uri);
	o->job_batch[o->n_job_uris++] = batch;
	return 0;
}

/** Set up and run project pipeline `pp`. The exit status. */
static int
run_project_pipeline(struct run_opts *o, const struct sl_project *p,
                     const struct sl_project_pipeline *pp)
{
	o->path = pp->path;
	o->job_config = pp->config;
	o->n_job_uris = 0;
	for (uint32_t i = 0; i < o->n_targets; i++)
		if (job_add_target(o, p, o->targets[i]) != 0)
			goto fail;
	for (uint32_t i = 0; i < pp->n_targets; i++)
		if (job_add_target(o, p, pp->targets[i]) != 0)
			goto fail;
	sl_log_info("running %s (scope %s, %s)", pp->name, pp->scope, pp->file);
	return run_job(o);
fail:
	print_error("");
	return 1;
}

/** Set the log level from -q and -v (never lower than it is for -v). */
static void
apply_verbosity(const struct run_opts *o)
{
	if (o->quiet) {
		sl_log_set_level(SL_LOG_ERROR);
		return;
	}
	enum sl_log_level want = o->verbose >= 3   ? SL_LOG_TRACE
	                         : o->verbose == 2 ? SL_LOG_DEBUG
	                                           : SL_LOG_INFO;
	if (o->verbose > 0 && sl_log_get_level() < want)
		sl_log_set_level(want);
}

/** What a migrate task needs. */
struct migrate_state {
	/** The target URI. */
	const char *uri;
	/** The schema. */
	const struct sl_schema *schema;
	/** Migrations applied. */
	uint32_t applied;
	/** Migrations already there. */
	uint32_t kept;
};

/** Migrate (as the main task). */
static int
migrate_main(void *arg)
{
	struct migrate_state *st = arg;
	return sl_graph_migrate(st->uri, st->schema, &st->applied, &st->kept);
}

/**
 * Apply `schema` to target URI `uri` (shown as `shown`) on a loop of its
 * own and report the counts on stderr unless `quiet`. 0, or -1 with an
 * error.
 */
static int
migrate_uri(const char *uri, const char *shown, const struct sl_schema *schema,
            bool quiet)
{
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL)
		return -1;
	struct migrate_state st = {.uri = uri, .schema = schema};
	int rc = sl_loop_run_main(loop, "migrate", migrate_main, &st);
	if (rc == 0 && !quiet) {
		/* A URI's password is not shown. */
		char red[SL_DB_URL_MAX];
		sl_uri_redact(shown, red, sizeof(red));
		fprintf(stderr, "%s: %u migrations applied, %u already there\n",
		        red, st.applied, st.kept);
	}
	sl_loop_delete(loop);
	return rc == 0 ? 0 : -1;
}

/**
 * Add the schema of the job o->path (its steps as `run` builds them,
 * with the job's !config values and annotations) to `schema`.
 */
static int
job_schema(struct run_opts *o, struct sl_schema *schema)
{
	uint32_t n_uris = o->n_job_uris;
	o->n_job_uris = 0; /* no writers */
	struct loaded l;
	int rc = load(o, &l);
	o->n_job_uris = n_uris;
	if (rc != 0)
		return -1;
	for (uint32_t i = 0; i < sl_pipeline_step_count(l.pipeline) && rc == 0;
	     i++)
		rc = sl_schema_expand(schema, sl_pipeline_step(l.pipeline, i));
	unload(&l);
	return rc;
}

/**
 * --auto-migrate: apply the schema of every pipeline about to run (the
 * file o->names[0] when `jobs` is NULL, else jobs[0..n)) to every target
 * given with -t, as `sluice migrate` does. Nodestream 0.16.1 means the
 * same (it migrates the -t targets), though its own --auto-migrate fails
 * ("The option \"--targets\" does not exist"). 0, or -1 with an error.
 */
static int
auto_migrate(struct run_opts *o, const struct sl_project *p,
             const struct sl_project_pipeline *const *jobs, uint32_t n)
{
	if (o->n_targets == 0) {
		sl_log_info("--auto-migrate: no target given with -t, so "
		            "nothing to migrate (it migrates the -t targets)");
		return 0;
	}
	struct sl_schema schema = {0};
	int rc = 0;
	if (jobs == NULL) {
		o->path = o->names[0];
		rc = job_schema(o, &schema);
	}
	for (uint32_t i = 0; jobs != NULL && i < n && rc == 0; i++) {
		o->path = jobs[i]->path;
		o->job_config = jobs[i]->config;
		rc = job_schema(o, &schema);
	}
	o->job_config = NULL;
	for (uint32_t i = 0; i < o->n_targets && rc == 0; i++) {
		char uri[1024];
		uint32_t batch;
		rc = resolve_target(p, o->targets[i], uri, sizeof(uri), &batch);
		if (rc == 0)
			rc = migrate_uri(uri, o->targets[i], &schema, o->quiet);
	}
	sl_schema_destroy(&schema);
	return rc;
}

/**
 * The project pipelines a run names (`names`; none: every pipeline), in
 * order, one per scope listing each, into a new array *out (sl_free() it)
 * of *n. An unknown name is an error with a "did you mean".
 */
static int
collect_jobs(const struct run_opts *o, const struct sl_project *p,
             const struct sl_project_pipeline ***out, uint32_t *n)
{
	uint32_t total = sl_project_n_pipelines(p);
	uint32_t cap = o->n_names == 0 ? total : o->n_names * total;
	const struct sl_project_pipeline **jobs =
	        sl_malloc(((size_t)cap + 1) * sizeof(*jobs));
	*out = NULL;
	*n = 0;
	if (jobs == NULL) {
		sl_diag_set(SL_EOOM, "out of memory");
		return -1;
	}
	uint32_t k = 0;
	for (uint32_t i = 0; o->n_names == 0 && i < total; i++)
		jobs[k++] = sl_project_pipeline(p, i);
	for (uint32_t i = 0; i < o->n_names; i++) {
		uint32_t m = sl_project_find(p, o->names[i], jobs + k, total);
		if (m == 0) {
			const char *sug = sl_project_suggest(p, o->names[i]);
			sl_diag_set(SL_EINVAL,
			            "%s: no pipeline named '%s'%s%s%s",
			            sl_project_path(p), o->names[i],
			            sug != NULL ? "; did you mean '" : "",
			            sug != NULL ? sug : "",
			            sug != NULL ? "'?" : "");
			sl_free(jobs);
			return -1;
		}
		k += m;
	}
	*out = jobs;
	*n = k;
	return 0;
}

int
sl_cli_run(int argc, char **argv)
{
	struct run_opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.json)
		sl_log_set_format(SL_LOG_JSON);
	apply_verbosity(&o);
	if (o.quiet)
		o.progress = 0;
	o.popts.catch_signals = true;
	/* Reachable until the process ends, like the summary it feeds. */
	static struct sl_cli_metrics metrics;
	o.metrics = &metrics;
	if (o.metrics_file != NULL &&
	    (o.metrics_out = fopen(o.metrics_file, "w")) == NULL) {
		fprintf(stderr, "sluice run: --metrics-file %s: %s\n",
		        o.metrics_file, strerror(errno));
		return 2;
	}
	/* A closed stdout is a write error of the print step, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	bool single = o.n_names == 1 && is_pipeline_file(o.names[0]);
	bool names_targets = false;
	for (uint32_t i = 0; i < o.n_targets; i++)
		names_targets |= strchr(o.targets[i], ':') == NULL;
	struct sl_project *p = NULL;
	if (!single || names_targets || o.project != NULL ||
	    o.storage != NULL) {
		p = open_project(o.project, !single || names_targets);
		if (p == NULL && (!single || names_targets)) {
			print_error("");
			/* Nothing to run at all is a usage error. */
			return o.n_names == 0 && o.project == NULL ? 2 : 1;
		}
	}
	o.proj = p;
	if (load_plugins(&o, p) != 0) {
		print_error("");
		sl_project_delete(p);
		return 1;
	}
	if (single) {
		rc = o.auto_migrate ? auto_migrate(&o, p, NULL, 0) : 0;
		for (uint32_t i = 0; i < o.n_targets && rc == 0; i++)
			rc = job_add_target(&o, p, o.targets[i]);
		if (rc != 0) {
			print_error("");
			rc = 1;
		} else {
			o.path = o.names[0];
			rc = run_job(&o);
		}
		sl_project_delete(p);
		return rc;
	}
	/* Project pipelines: the names given, or all of them. */
	const struct sl_project_pipeline **jobs;
	uint32_t n;
	if (collect_jobs(&o, p, &jobs, &n) != 0 ||
	    (o.auto_migrate && auto_migrate(&o, p, jobs, n) != 0)) {
		print_error("");
		sl_free(jobs);
		sl_project_delete(p);
		return 1;
	}
	rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = run_project_pipeline(&o, p, jobs[i]);
	sl_free(jobs);
	sl_project_delete(p);
	return rc;
}

/** Print the usage of `show` to `out`. */
static void
show_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice show [-p PROJECT.yaml] [-s SCOPE] [-j [-v]]\n"
	        "\n"
	        "List the pipelines of the project file (default "
	        "./nodestream.yaml).\n"
	        "\n"
	        "options:\n"
	        "  -p, --project FILE   the project file\n"
	        "  -s, --scope SCOPE    only the pipelines of SCOPE\n"
	        "  -j, --json           one JSON array of the pipelines' "
	        "project-file entries,\n"
	        "                       as Nodestream prints it\n"
	        "  -v, --verbose        with -j: every field of every "
	        "entry\n"
	        "  -q, -n, --ansi, --no-ansi   accepted; change nothing\n"
	        "  -V, --version        print the version\n"
	        "  -h, --help           this help\n");
}

int
sl_cli_show(int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"project", required_argument, NULL, 'p'},
	        {"scope", required_argument, NULL, 's'},
	        {"json", no_argument, NULL, 'j'},
	        GLOBAL_LONGOPTS,
	};
	const char *project = NULL, *scope = NULL;
	unsigned flags = 0;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "p:s:jvqnVh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'p':
			project = optarg;
			break;
		case 's':
			scope = optarg;
			break;
		case 'j':
			flags |= SL_PROJECT_SHOW_JSON;
			break;
		case 'v':
			flags |= SL_PROJECT_SHOW_VERBOSE;
			break;
		default: {
			int g = sl_cli_global_option(c, "show", argv,
			                             show_usage);
			if (g != 0)
				return g > 0 ? 0 : 2;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice show: unexpected argument '%s'\n",
		        argv[optind]);
		show_usage(stderr);
		return 2;
	}
	struct sl_project *p = open_project(project, true);
	if (p != NULL && scope != NULL && !sl_project_has_scope(p, scope)) {
		/* Nodestream fails too (exit 1), printing only 'SCOPE'. */
		sl_diag_set(SL_EINVAL, "%s: no scope '%s'", sl_project_path(p),
		            scope);
		sl_project_delete(p);
		p = NULL;
	}
	if (p == NULL || sl_project_show_scope(p, scope, stdout, flags) != 0) {
		print_error("");
		sl_project_delete(p);
		return 1;
	}
	sl_project_delete(p);
	return 0;
}

/**
 * Resolve a command-line target for export and migrate: a URI, or a
 * target of ./nodestream.yaml. 0, or -1 with an error.
 */
static int
cli_target(const char *t, char *uri, size_t size)
{
	uint32_t batch;
	if (strchr(t, ':') != NULL)
		return resolve_target(NULL, t, uri, size, &batch);
	struct sl_project *p = open_project(NULL, true);
	if (p == NULL)
		return -1;
	int rc = resolve_target(p, t, uri, size, &batch);
	sl_project_delete(p);
	return rc;
}

/** Print the registered step types. */
void
sl_cli_list_steps(FILE *out)
{
	(void)sl_steps_register_builtins();
	(void)sl_interp_register();
	(void)sl_graph_register();
	for (size_t i = 0; i < sl_registry_count(); i++) {
		const struct sl_step_type *t = sl_registry_get(i);
		fprintf(out, "%-10s %s\n", t->names[0], t->summary);
		for (size_t k = 1; t->names[k] != NULL; k++)
			fprintf(out, "%-10s   also: %s\n", "", t->names[k]);
		if (t->factories != NULL) {
			fprintf(out, "%-10s   factories:", "");
			for (size_t k = 0; t->factories[k] != NULL; k++)
				fprintf(out, " %s", t->factories[k]);
			fprintf(out, "\n");
		}
	}
}

/** What the export task needs. */
struct export_state {
	/** The target URI. */
	const char *uri;
};

/** Export (as the main task). */
static int
export_main(void *arg)
{
	struct export_state *st = arg;
	return sl_graph_export(st->uri, stdout);
}

int
sl_cli_export(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		bool help = argc == 2 && (strcmp(argv[1], "-h") == 0 ||
		                          strcmp(argv[1], "--help") == 0);
		fprintf(help ? stdout : stderr,
		        "usage: sluice export TARGET\n"
		        "\n"
		        "Write the graph in TARGET (sqlite:PATH) to stdout as "
		        "canonical JSON lines:\n"
		        "one object per node and per relationship.\n");
		return help ? 0 : 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct sl_loop *loop = sl_loop_new(NULL);
	if (loop == NULL) {
		print_error("");
		return 1;
	}
	char uri[1024];
	if (cli_target(argv[1], uri, sizeof(uri)) != 0) {
		print_error("");
		sl_loop_delete(loop);
		return 1;
	}
	struct export_state st = {.uri = uri};
	int rc = sl_loop_run_main(loop, "export", export_main, &st);
	if (rc != 0)
		print_error("");
	sl_loop_delete(loop);
	return rc == 0 ? 0 : 1;
}

/** The schema of the pipeline files `paths`. 0, or -1 with an error. */
static int
build_schema(const char *const *paths, int n, struct sl_schema *schema)
{
	if (sl_steps_register_builtins() != 0 || sl_interp_register() != 0 ||
	    sl_graph_register() != 0)
		return -1;
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		struct sl_pipeline_file *f =
		        sl_pipeline_file_load(paths[i], NULL);
		if (f == NULL)
			return -1;
		for (uint32_t k = 0; k < f->n_steps && rc == 0; k++) {
			struct sl_step *s = sl_step_create(&f->steps[k]);
			if (s == NULL || sl_schema_expand(schema, s) != 0)
				rc = -1;
			sl_step_delete(s);
		}
		sl_pipeline_file_delete(f);
	}
	return rc;
}

int
sl_cli_schema(int argc, char **argv)
{
	enum sl_schema_format format = SL_SCHEMA_PLAIN;
	int first = 1, nfiles = 0;
	const char *plugins[SL_PLUGINS_MAX];
	uint32_t n_plugins = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--plugin") == 0) {
			if (i + 1 >= argc || n_plugins == SL_PLUGINS_MAX) {
				fprintf(stderr,
				        "sluice schema: --plugin expects a "
				        "path (at most %d)\n",
				        SL_PLUGINS_MAX);
				return 2;
			}
			plugins[n_plugins++] = argv[++i];
		} else if (strcmp(argv[i], "--format") == 0 ||
		           strcmp(argv[i], "-f") == 0) {
			const char *f = i + 1 < argc ? argv[++i] : "";
			if (strcmp(f, "plain") == 0)
				format = SL_SCHEMA_PLAIN;
			else if (strcmp(f, "json") == 0)
				format = SL_SCHEMA_JSON;
			else if (strcmp(f, "dot") == 0)
				format = SL_SCHEMA_DOT;
			else {
				fprintf(stderr,
				        "sluice schema: --format expects "
				        "plain, "
				        "json or dot, got '%s'\n",
				        f);
				return 2;
			}
		} else if (strcmp(argv[i], "-h") == 0 ||
		           strcmp(argv[i], "--help") == 0) {
			printf("usage: sluice schema PIPELINE.yaml... "
			       "[--format plain|json|dot] [--plugin PATH]\n\n"
			       "Print the graph schema the pipelines' "
			       "interpreters describe.\n");
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "sluice schema: unknown option '%s'\n",
			        argv[i]);
			return 2;
		} else {
			argv[first + nfiles++] = argv[i];
		}
	}
	if (nfiles == 0) {
		fprintf(stderr, "usage: sluice schema PIPELINE.yaml... "
		                "[--format plain|json|dot] [--plugin PATH]\n");
		return 2;
	}
	if (sl_cli_plugins_load(NULL, plugins, n_plugins) != 0) {
		print_error("");
		return 1;
	}
	struct sl_schema schema = {0};
	int rc = build_schema((const char *const *)argv + first, nfiles,
	                      &schema);
	if (rc == 0)
		rc = sl_schema_print(&schema, format, stdout);
	sl_schema_destroy(&schema);
	if (rc != 0) {
		print_error("");
		return 1;
	}
	return 0;
}

int
sl_cli_migrate(int argc, char **argv)
{
	if (argc < 3 || argv[1][0] == '-') {
		bool help = argc == 2 && (strcmp(argv[1], "-h") == 0 ||
		                          strcmp(argv[1], "--help") == 0);
		fprintf(help ? stdout : stderr,
		        "usage: sluice migrate TARGET PIPELINE.yaml...\n"
		        "\n"
		        "Create the indexes (keys, additional_indexes) and "
		        "views "
		        "the pipelines'\n"
		        "schema asks for in TARGET (sqlite:PATH or "
		        "postgresql://...). Running it\n"
		        "again changes nothing.\n");
		return help ? 0 : 2;
	}
	struct sl_schema schema = {0};
	if (build_schema((const char *const *)argv + 2, argc - 2, &schema) !=
	    0) {
		print_error("");
		sl_schema_destroy(&schema);
		return 1;
	}
	char uri[1024];
	int rc = cli_target(argv[1], uri, sizeof(uri));
	if (rc == 0)
		rc = migrate_uri(uri, argv[1], &schema, false);
	if (rc != 0)
		print_error("");
	sl_schema_destroy(&schema);
	return rc == 0 ? 0 : 1;
}
