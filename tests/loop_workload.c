// SPDX-License-Identifier: MIT
/*
 * A tight loop of one cheap system call on /dev/null, from THREADS threads,
 * CALLS times each: a producer of events at the highest rate the probes
 * allow, with an exact count. It makes no other call of the kinds it is
 * asked for (its output and input go through write and read, never stdio,
 * which may lseek), so a trace of that one call holds exactly THREADS x
 * CALLS of them, less what was dropped.
 *
 * With -w it says "ready" and waits for a line on stdin before the loop,
 * then says "done" and waits for stdin to close before exiting, so a test
 * can stop and resume the runtime around it. At the end it prints one JSON
 * line: its pid, the calls made and the seconds the loop took.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long calls = 100000;
static int devnull;
static enum { LSEEK, WRITE } which = LSEEK;

static void *loop(void *arg)
{
	char byte = 0;
	long i;

	(void)arg;
	for (i = 0; i < calls; i++) {
		/* syscall(), not the libc wrappers, which other tracers may have probed. */
		if (which == LSEEK)
			syscall(SYS_lseek, devnull, 0, SEEK_SET);
		else if (syscall(SYS_write, devnull, &byte, 1) != 1)
			abort();
	}
	return NULL;
}

static void say(const char *s)
{
	size_t n = strlen(s);

	if (write(STDOUT_FILENO, s, n) != (ssize_t)n)
		exit(1);
}

/* Reads stdin to the end of a line, or to its end with @to_eof. */
static void wait_stdin(int to_eof)
{
	char c;

	while (read(STDIN_FILENO, &c, 1) == 1)
		if (c == '\n' && !to_eof)
			return;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t t[64];
	int threads = 1, wait = 0, c, i;
	char line[256];

	while ((c = getopt(argc, argv, "t:n:c:w")) != -1) {
		if (c == 't')
			threads = atoi(optarg);
		else if (c == 'n')
			calls = atol(optarg);
		else if (c == 'c' && !strcmp(optarg, "write"))
			which = WRITE;
		else if (c == 'w')
			wait = 1;
		else if (c != 'c' || strcmp(optarg, "lseek"))
			return 2;
	}
	if (threads < 1 || threads > 64 || calls < 0) {
		say("usage: dc-loop-workload [-t THREADS] [-n CALLS] [-c lseek|write] [-w]\n");
		return 2;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		return 1;
	if (wait) {
		say("ready\n");
		wait_stdin(0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 1; i < threads; i++)
		if (pthread_create(&t[i], NULL, loop, NULL))
			return 1;
	loop(NULL);
	for (i = 1; i < threads; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	snprintf(line, sizeof(line), "{\"pid\":%d,\"calls\":%ld,\"seconds\":%.6f}\n", getpid(),
		 calls * threads, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
	if (wait) {
		say("done\n");
		wait_stdin(1);
	}
	say(line);
	return 0;
}
