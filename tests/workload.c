// SPDX-License-Identifier: MIT
/*
 * A workload with known I/O, for the end-to-end tests. Each unit (the main
 * thread, three threads, a forked child) opens its own file, writes
 * WRITES x WSIZE bytes, preads READS x RSIZE bytes at offsets the tests
 * recompute, fsyncs and closes. Each unit reports itself on stdout as one
 * JSON line, so the test can check pids, tids and names against the trace;
 * ids are padded so that the line, and the bytes written, are the same in
 * every run.
 *
 *   dc-workload [--wait FD] [--exec] DIR
 *
 * --wait FD blocks in a read of FD before any I/O, so a test can start
 * tracing a process that already runs; the read began untraced, so its
 * return is not an event. --exec adds a unit "exec" in a forked child that
 * execs this program again (as `--unit exec DIR`, a process named "exe").
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITES 100
#define WSIZE 4096
#define READS 50
#define RSIZE 512
#define THREADS 3

static const char *dir;

/* Offsets the tests expect: spread over the file, never aligned. */
static off_t read_offset(int i)
{
	return (off_t)i * 8000 + 100;
}

static int unit(const char *role)
{
	static __thread char buf[WSIZE];
	char path[4096], line[4300];
	int fd, i, n;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, role);
	memset(buf, role[0], sizeof(buf));
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0)
		return -errno;
	for (i = 0; i < WRITES; i++)
		if (write(fd, buf, WSIZE) != WSIZE)
			return -EIO;
	for (i = 0; i < READS; i++)
		if (pread(fd, buf, RSIZE, read_offset(i)) != RSIZE)
			return -EIO;
	if (fsync(fd) || close(fd))
		return -errno;
	n = snprintf(line, sizeof(line),
		     "{\"role\":\"%s\",\"pid\":%8d,\"tid\":%8ld,\"file\":\"%s\"}\n", role, getpid(),
		     (long)syscall(SYS_gettid), path);
	/* One write per unit: stdio would let one thread's flush carry another's line. */
	return write(STDOUT_FILENO, line, n) == n ? 0 : -EIO;
}

static void *thread_main(void *arg)
{
	char role[16];

	snprintf(role, sizeof(role), "thread%d", (int)(long)arg);
	return (void *)(long)unit(role);
}

/* A child that runs one unit after exec'ing this program again. */
static int exec_unit(void)
{
	int status;
	pid_t child = fork();

	if (child == 0) {
		execl("/proc/self/exe", "dc-workload", "--unit", "exec", dir, (char *)NULL);
		_exit(127);
	}
	return child < 0 || waitpid(child, &status, 0) != child || status ? -1 : 0;
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS];
	int i, status, wait_fd = -1, err = 0;
	bool with_exec = false;
	pid_t child;
	char go;

	for (i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait_fd = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--exec"))
			with_exec = true;
		else if (!strcmp(argv[i], "--unit") && i + 2 == argc - 1) {
			dir = argv[argc - 1];
			return unit(argv[i + 1]) ? 1 : 0;
		} else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: %s [--wait FD] [--exec] DIR\n", argv[0]);
		return 2;
	}
	/* Left open: a close now would be traced. */
	if (wait_fd >= 0 && read(wait_fd, &go, 1) != 1)
		return 2;
	dir = argv[i];
	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		return 2;
	}
	if (unit("main"))
		return 1;
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, thread_main, (void *)(long)i))
			return 1;
	for (i = 0; i < THREADS; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		err |= ret != NULL;
	}
	child = fork();
	if (child == 0)
		_exit(unit("child") ? 1 : 0);
	if (child < 0 || waitpid(child, &status, 0) != child || status)
		return 1;
	if (with_exec && exec_unit())
		return 1;
	/* A distinctive status, so the tests see the runtime pass it on. */
	return err ? 1 : 7;
}
