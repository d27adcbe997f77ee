/*
 * The HTTP test server (tests/http_server.py) started on a free loopback
 * port for a test program, and stopped at its end: by http_peer_stop(),
 * by an atexit() handler, and, should the program die, by the server
 * itself when its parent goes away.
 */
#ifndef SLUICE_TESTS_HTTP_PEER_H
#define SLUICE_TESTS_HTTP_PEER_H

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/** The server's process, or 0. */
static pid_t http_peer_pid;
/** Its port, or 0. */
static int http_peer_port;
/** The file it writes its port to. */
static char http_peer_portfile[PATH_MAX];

/** Stop the server if it runs (safe to call twice). */
static inline void
http_peer_stop(void)
{
	if (http_peer_pid > 0) {
		kill(http_peer_pid, SIGTERM);
		waitpid(http_peer_pid, NULL, 0);
		http_peer_pid = 0;
	}
	if (http_peer_portfile[0] != '\0')
		unlink(http_peer_portfile);
}

/**
 * Start `script` (tests/http_server.py) serving `root`; returns its port,
 * or -1 if it does not listen within 10 seconds.
 */
static inline int
http_peer_start(const char *script, const char *root)
{
	snprintf(http_peer_portfile, sizeof(http_peer_portfile), "%s/.port",
	         root);
	unlink(http_peer_portfile);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("python3", "python3", script, root, http_peer_portfile,
		       (char *)NULL);
		_exit(127);
	}
	http_peer_pid = pid;
	atexit(http_peer_stop);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(http_peer_portfile, "r");
		if (f != NULL) {
			int port = 0;
			int n = fscanf(f, "%d", &port);
			fclose(f);
			if (n == 1 && port > 0)
				return http_peer_port = port;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			http_peer_pid = 0;
			return -1;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	http_peer_stop();
	return -1;
}

#endif /* SLUICE_TESTS_HTTP_PEER_H */
