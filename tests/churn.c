// SPDX-License-Identifier: MIT
/*
 * Many short-lived processes under one that stays, for the map-leak test:
 *
 *   dc-churn DIR N
 *
 * The parent opens DIR/parent.dat and keeps it open, then starts N children
 * one after another. Every child inherits that open file, and child i opens
 * DIR/c<i>.dat and writes BYTES bytes to it in one of four ways, by i % 4:
 *   0: and closes it;
 *   1: in a second thread, leaving it open;
 *   2: after exec'ing this program again (as `--child DIR I`), leaving it open;
 *   3: without writing, leaving it open.
 * The parent then reports {"pid":P,"fd":FD,"file":F,"children":[...]} on
 * stdout and blocks reading stdin until it closes, so the test can look at
 * the maps while it still runs.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BYTES 100

static const char *dir;

static int io(int i, int keep)
{
	char path[4096], buf[BYTES];
	int fd;

	snprintf(path, sizeof(path), "%s/c%d.dat", dir, i);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		return 1;
	memset(buf, 'c', sizeof(buf));
	if (i % 4 != 3 && write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return 1;
	return keep ? 0 : close(fd) != 0;
}

static void *thread_io(void *arg)
{
	return (void *)(long)io((int)(long)arg, 1);
}

static int child(int i)
{
	char arg[16];
	pthread_t t;
	void *ret;

	switch (i % 4) {
	case 0:
		return io(i, 0);
	case 1:
		if (pthread_create(&t, NULL, thread_io, (void *)(long)i) || pthread_join(t, &ret))
			return 1;
		return ret != NULL;
	case 2:
		snprintf(arg, sizeof(arg), "%d", i);
		execl("/proc/self/exe", "dc-churn", "--child", dir, arg, (char *)NULL);
		return 1;
	default:
		return io(i, 1);
	}
}

int main(int argc, char **argv)
{
	char path[4096], c;
	int i, n, fd, status;
	pid_t *kids;

	if (argc == 4 && !strcmp(argv[1], "--child")) {
		dir = argv[2];
		_exit(io(atoi(argv[3]), 1));
	}
	if (argc != 3 || (n = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s DIR N\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	kids = calloc(n, sizeof(*kids));
	snprintf(path, sizeof(path), "%s/parent.dat", dir);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (!kids || fd < 0)
		return 1;
	for (i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			_exit(child(i));
		if (kids[i] < 0 || waitpid(kids[i], &status, 0) != kids[i] || status)
			return 1;
	}
	printf("{\"pid\":%d,\"fd\":%d,\"file\":\"%s\",\"children\":[", getpid(), fd, path);
	for (i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", kids[i]);
	printf("]}\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	free(kids);
	return 0;
}
