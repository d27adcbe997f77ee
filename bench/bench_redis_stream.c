/*
 * The StreamExtractor's redis connector end to end: a private
 * redis-server (started here on a free loopback port, stopped at the end)
 * holds a stream of 200,000 JSON entries; `sluice run` consumes them with
 * a consumer group (a fresh group per repetition), interprets them into
 * nodes, writes them to `null:` and acknowledges them (XACK after each
 * poll's commit), ending by stop_when_idle.
 *
 *   redis_stream_recs_per_s  entries per second of that run (value),
 *                            against a plain hiredis loop reading the same
 *                            entries with XRANGE, 1000 at a time
 *                            (baseline); ratio = value / baseline.
 *
 * The run's wall time is taken without its final stop_when_idle wait
 * (the time it spends making sure nothing more comes), and the
 * benchmark checks that every entry was acknowledged. A `#` line gives
 * the server's own time per 1000 entries on each side (INFO
 * commandstats: XRANGE against XREADGROUP + XACK), what bounds the
 * ratio.
 *
 * usage: bench_redis_stream [path/to/sluice] (default: the one built
 * alongside)
 */
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "spawn.h"

/** Entries in the stream. */
#define ENTRIES 200000

/** The run's stop_when_idle, in seconds (taken off its wall time). */
#define IDLE 0.2

/** A free loopback port, or -1. */
static int
free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/** Connect to the server, waiting up to 5 s for it to start. */
static redisContext *
connect_wait(int port)
{
	for (int i = 0; i < 100; i++) {
		redisContext *c = redisConnect("127.0.0.1", port);
		if (c != NULL && !c->err)
			return c;
		if (c != NULL)
			redisFree(c);
		usleep(50000);
	}
	return NULL;
}

/** Fill stream "bench" with ENTRIES entries (pipelined XADD). */
static int
fill(redisContext *c)
{
	char buf[256];
	for (int i = 0; i < ENTRIES; i++) {
		snprintf(buf, sizeof(buf),
		         "{\"id\":%d,\"name\":\"user %d\",\"score\":%.1f,"
		         "\"tags\":[\"a\",\"b\"]}",
		         i, i % 100000, i * 0.5);
		redisAppendCommand(c, "XADD bench * data %s", buf);
		if ((i + 1) % 1000 == 0 || i + 1 == ENTRIES) {
			int n = (i % 1000) + 1;
			for (int k = 0; k < n; k++) {
				void *r;
				if (redisGetReply(c, &r) != REDIS_OK)
					return -1;
				freeReplyObject(r);
			}
		}
	}
	return 0;
}

/** The baseline: XRANGE of every entry, 1000 at a time. Entries read. */
static long
xrange_all(redisContext *c)
{
	char start[64] = "-";
	long n = 0;
	for (;;) {
		redisReply *r =
		        redisCommand(c, "XRANGE bench %s + COUNT 1000", start);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY)
			return -1;
		if (r->elements == 0) {
			freeReplyObject(r);
			return n;
		}
		/* Touch every entry's fields, as a consumer would. */
		for (size_t i = 0; i < r->elements; i++) {
			redisReply *f = r->element[i]->element[1];
			if (f->elements < 2 || f->element[1]->len == 0)
				n = -1000000000L;
		}
		n += (long)r->elements;
		redisReply *last = r->element[r->elements - 1]->element[0];
		snprintf(start, sizeof(start), "(%.*s", (int)last->len,
		         last->str);
		freeReplyObject(r);
	}
}

/** Reset the server's command statistics (INFO commandstats). */
static void
reset_stats(redisContext *c)
{
	freeReplyObject(redisCommand(c, "CONFIG RESETSTAT"));
}

/**
 * Microseconds the server spent in command `name` (lower case) since the
 * last reset_stats(), from INFO commandstats; 0 if it did not run.
 */
static double
cmd_usec(redisContext *c, const char *name)
{
	redisReply *r = redisCommand(c, "INFO commandstats");
	double usec = 0;
	char key[64];
	snprintf(key, sizeof(key), "cmdstat_%s:", name);
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		const char *at = strstr(r->str, key);
		const char *u = at != NULL ? strstr(at, "usec=") : NULL;
		if (u != NULL)
			usec = strtod(u + 5, NULL);
	}
	freeReplyObject(r);
	return usec;
}

/** Entries of `group` delivered and not acknowledged, or -1. */
static long long
pending(redisContext *c, const char *group)
{
	redisReply *r = redisCommand(c, "XPENDING bench %s", group);
	long long n = -1;
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 1)
		n = r->element[0]->integer;
	freeReplyObject(r);
	return n;
}

/** Entries of `group` read (XINFO GROUPS: entries-read), or -1. */
static long long
entries_read(redisContext *c, const char *group)
{
	redisReply *r = redisCommand(c, "XINFO GROUPS bench");
	long long n = -1;
	for (size_t g = 0;
	     r != NULL && r->type == REDIS_REPLY_ARRAY && g < r->elements;
	     g++) {
		redisReply *m = r->element[g];
		bool ours = false;
		for (size_t k = 0; k + 1 < m->elements; k += 2) {
			const char *key = m->element[k]->str;
			redisReply *v = m->element[k + 1];
			if (strcmp(key, "name") == 0)
				ours = strcmp(v->str, group) == 0;
			if (strcmp(key, "entries-read") == 0 && ours)
				n = v->integer;
		}
	}
	freeReplyObject(r);
	return n;
}

int
main(int argc, char **argv)
{
	const char *sluice = argc > 1 ? argv[1] : SLUICE_BIN;
	char dir[] = "/tmp/sluice-bench-redis-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	int port = free_port();
	char ports[16], log[300];
	snprintf(ports, sizeof(ports), "%d", port);
	snprintf(log, sizeof(log), "%s/redis.log", dir);
	char *srv[] = {
	        "redis-server", "--port",    ports,    "--bind", "127.0.0.1",
	        "--dir",        dir,         "--save", "",       "--appendonly",
	        "no",           "--logfile", log,      NULL};
	pid_t pid;
	int status = 1;
	redisContext *c = NULL;
	if (posix_spawnp(&pid, "redis-server", NULL, NULL, srv, environ) != 0) {
		fprintf(stderr, "bench_redis_stream: cannot start redis-server "
		                "(scripts/setup installs it)\n");
		rmdir(dir);
		return 1;
	}
	c = connect_wait(port);
	if (c == NULL || fill(c) != 0) {
		fprintf(stderr, "bench_redis_stream: redis-server failed\n");
		goto out;
	}
	double vals[BENCH_REPS], bases[BENCH_REPS];
	double s_range[BENCH_REPS], s_read[BENCH_REPS], s_ack[BENCH_REPS];
	for (int rep = 0; rep < BENCH_REPS; rep++) {
		reset_stats(c);
		uint64_t t0 = bench_now_ns();
		long n = xrange_all(c);
		double tb = (double)(bench_now_ns() - t0) / 1e9;
		s_range[rep] = cmd_usec(c, "xrange") / (ENTRIES / 1000.0);
		reset_stats(c);
		if (n != ENTRIES) {
			fprintf(stderr, "bench_redis_stream: XRANGE read %ld\n",
			        n);
			goto out;
		}
		char yaml[300], group[32];
		snprintf(yaml, sizeof(yaml), "%s/p.yaml", dir);
		snprintf(group, sizeof(group), "g%d", rep);
		FILE *f = fopen(yaml, "w");
		if (f == NULL)
			goto out;
		fprintf(f,
		        "- implementation: nodestream.pipeline.extractors."
		        "streams:StreamExtractor\n"
		        "  factory: from_file_data\n"
		        "  arguments:\n"
		        "    connector: redis\n"
		        "    record_format: json\n"
		        "    url: redis://127.0.0.1:%d\n"
		        "    stream: bench\n"
		        "    group_id: %s\n"
		        "    start_id: \"0\"\n"
		        "    max_records: 1000\n"
		        "    poll_timeout: 0.1\n"
		        "    stop_when_idle: %g\n"
		        "- implementation: interpreter\n"
		        "  arguments:\n"
		        "    interpretations:\n"
		        "      - type: source_node\n"
		        "        node_type: Person\n"
		        "        key: {id: !jmespath id}\n"
		        "        properties: {name: !jmespath name, score: "
		        "!jmespath score}\n",
		        port, group, IDLE);
		fclose(f);
		char *run[] = {(char *)sluice, "run",           yaml, "-t",
		               "null:",        "--no-progress", NULL};
		double tv;
		if (bench_spawn(run, NULL, &tv, NULL) != 0) {
			fprintf(stderr, "bench_redis_stream: sluice failed\n");
			goto out;
		}
		s_read[rep] = cmd_usec(c, "xreadgroup") / (ENTRIES / 1000.0);
		s_ack[rep] = cmd_usec(c, "xack") / (ENTRIES / 1000.0);
		long long p = pending(c, group), read = entries_read(c, group);
		if (p != 0 || read != ENTRIES) {
			fprintf(stderr,
			        "bench_redis_stream: group %s: %lld read, %lld "
			        "pending\n",
			        group, read, p);
			goto out;
		}
		tv -= IDLE;
		vals[rep] = ENTRIES / tv;
		bases[rep] = ENTRIES / tb;
		printf("# rep %d: sluice %.3f s (%.0f rec/s), XRANGE %.3f s "
		       "(%.0f rec/s)\n",
		       rep, tv, vals[rep], tb, bases[rep]);
	}
	double v = bench_median(vals, BENCH_REPS);
	double b = bench_median(bases, BENCH_REPS);
	printf("# %d entries; sluice: XREADGROUP, Interpreter, null:, XACK "
	       "after each commit\n",
	       ENTRIES);
	printf("# server time per 1000 entries (INFO commandstats, medians): "
	       "XRANGE %.0f us; XREADGROUP %.0f us + XACK %.0f us\n",
	       bench_median(s_range, BENCH_REPS),
	       bench_median(s_read, BENCH_REPS),
	       bench_median(s_ack, BENCH_REPS));
	bench_result("redis_stream_recs_per_s", v, "rec/s", b, v / b, 0);
	status = 0;
out:
	if (c != NULL)
		redisFree(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(log);
	rmdir(dir);
	return status;
}
