/*
 * sluice tests: running the scripted Bolt peer (tests/bolt/peer.js) beside
 * a test. peer_start() starts `node peer.js --port-file F ARGS...` and
 * waits until it listens; peer_finish() waits for it to exit and tells
 * whether every script it was given completed (exit status 0).
 *
 * The build passes SLUICE_NODE (the node program) and SLUICE_BOLT_DIR
 * (tests/bolt in the source tree).
 */
#ifndef SLUICE_TESTS_BOLT_PEER_H
#define SLUICE_TESTS_BOLT_PEER_H

#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/** Most arguments given to the peer. */
#define PEER_ARGS_MAX 32
/** Most servers of one peer. */
#define PEER_SERVERS 3

/** A running peer. */
struct peer {
	/** Its process. */
	pid_t pid;
	/** The port it listens on (its first server's). */
	int port;
	/** The ports of its servers ("--" starts another), 0 if none. */
	int ports[PEER_SERVERS];
	/** Their port files. */
	char port_file[PEER_SERVERS][64];
	/** Number of servers. */
	int nservers;
};

/** Read a port from `path`, or 0 while it is not written. */
static inline int
peer_read_port(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	int port = 0;
	if (fscanf(f, "%d", &port) != 1)
		port = 0;
	fclose(f);
	return port;
}

/**
 * Start the peer with `args` (NULL-terminated): script names are taken
 * relative to tests/bolt/scripts/ when they do not contain '/'. The
 * argument "--" starts a second server (its own port file). 0, or -1.
 */
static inline int
peer_startv(struct peer *p, const char *const *args)
{
	static int seq;
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < PEER_SERVERS; i++) {
		snprintf(p->port_file[i], sizeof(p->port_file[i]),
		         "/tmp/sl-peer-%d-%d", (int)getpid(), ++seq);
		unlink(p->port_file[i]);
	}
	p->nservers = 1;
	static char paths[PEER_ARGS_MAX][512];
	const char *argv[PEER_ARGS_MAX + 8];
	int n = 0;
	argv[n++] = SLUICE_NODE;
	argv[n++] = SLUICE_BOLT_DIR "/peer.js";
	argv[n++] = "--timeout";
	argv[n++] = "60";
	argv[n++] = "--port-file";
	argv[n++] = p->port_file[0];
	for (int i = 0; args[i] != NULL && n < PEER_ARGS_MAX; i++) {
		if (strcmp(args[i], "--") == 0 && p->nservers < PEER_SERVERS) {
			argv[n++] = "--listen";
			argv[n++] = "127.0.0.1:0";
			argv[n++] = "--port-file";
			argv[n++] = p->port_file[p->nservers++];
		} else if (args[i][0] != '-' && strchr(args[i], '/') == NULL &&
		           strstr(args[i], ".script") != NULL) {
			snprintf(paths[i], sizeof(paths[i]), "%s/scripts/%s",
			         SLUICE_BOLT_DIR, args[i]);
			argv[n++] = paths[i];
		} else {
			argv[n++] = args[i];
		}
	}
	argv[n] = NULL;
	if (posix_spawn(&p->pid, SLUICE_NODE, NULL, NULL, (char **)argv,
	                environ) != 0)
		return -1;
	for (int i = 0; i < 3000; i++) {
		int ready = 0;
		for (int k = 0; k < p->nservers; k++)
			if ((p->ports[k] = peer_read_port(p->port_file[k])) > 0)
				ready++;
		p->port = p->ports[0];
		if (ready == p->nservers)
			return 0;
		int st;
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			return -1;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
	return -1;
}

/** peer_startv() with the arguments listed. */
#define peer_start(p, ...) \
	peer_startv((p), (const char *const[]){__VA_ARGS__, NULL})

/**
 * Wait (at most `seconds`) for the peer to exit: its exit status (0:
 * every script completed), or -1 when it had to be killed.
 */
static inline int
peer_finish(struct peer *p, double seconds)
{
	if (p->pid <= 0)
		return -1;
	int st = 0;
	for (int i = 0; i < (int)(seconds * 100); i++) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			for (int k = 0; k < PEER_SERVERS; k++)
				unlink(p->port_file[k]);
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
	for (int k = 0; k < PEER_SERVERS; k++)
		unlink(p->port_file[k]);
	return -1;
}

#endif /* SLUICE_TESTS_BOLT_PEER_H */
