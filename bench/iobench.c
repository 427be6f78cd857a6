// SPDX-License-Identifier: MIT
/*
 * dc-iobench: the POSIX write/read workload of the I/O overhead benchmark
 * (bench/io.py), in the shape of the DataCrumbs paper's test: OPS I/O
 * operations on one file, the first half write(), the second half read()
 * of what was written, SIZE bytes each. The file wraps every SPAN bytes
 * (one lseek), so a million operations stay in the page cache and on a
 * small disk; lseek is not a probed call.
 *
 * Prints one line: the wall seconds and the thread's CPU seconds (user and
 * system, so probe handling in the kernel counts and waiting for a loaded
 * machine does not) of the I/O loop, the CPU seconds its parent (the
 * tracer, when there is one) used over the loop and the quarter second
 * after it, and the file's descriptor, so a trace's calls on it can be
 * counted. Exits non-zero on any short or failed call.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc_cpu.h"

static double now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long number(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0) {
		fprintf(stderr, "dc-iobench: %s must be a positive number, not '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: dc-iobench [OPTION]... FILE\n"
		   "Write then read FILE with OPS calls of SIZE bytes (half write, half read)\n"
		   "and print: loop wall s, loop thread CPU s, parent CPU s, FILE's fd.\n\n"
		   "  -n, --ops=OPS     I/O operations in all (default: 10000)\n"
		   "  -s, --size=SIZE   bytes per operation (default: 4096)\n"
		   "  -S, --span=SPAN   bytes after which the file wraps (default: 67108864)\n"
		   "  -h, --help        show this help and exit\n");
}

/* One pass of @n calls of @size bytes, write or read, wrapping every @span bytes. */
static int pass(int fd, char *buf, long n, long size, long span, int writing)
{
	long i, at = 0;
	ssize_t got;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		if (at + size > span) {
			if (lseek(fd, 0, SEEK_SET) < 0)
				return -errno;
			at = 0;
		}
		got = writing ? write(fd, buf, size) : read(fd, buf, size);
		if (got != size)
			return got < 0 ? -errno : -EIO;
		at += size;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = { { "ops", required_argument, NULL, 'n' },
					       { "size", required_argument, NULL, 's' },
					       { "span", required_argument, NULL, 'S' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	long ops = 10000, size = 4096, span = 64L << 20;
	double wall, cpu, parent;
	int c, fd, err;
	char *buf;

	while ((c = getopt_long(argc, argv, "n:s:S:h", lopts, NULL)) != -1) {
		if (c == 'n')
			ops = number(optarg, "--ops");
		else if (c == 's')
			size = number(optarg, "--size");
		else if (c == 'S')
			span = number(optarg, "--span");
		else
			return c == 'h' ? (usage(stdout), 0) : (usage(stderr), 2);
	}
	if (optind != argc - 1 || span < size) {
		usage(stderr);
		return 2;
	}
	buf = malloc(size);
	fd = open(argv[optind], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!buf || fd < 0) {
		fprintf(stderr, "dc-iobench: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	memset(buf, 'd', size);
	parent = proc_cpu_s(getppid());
	wall = now(CLOCK_MONOTONIC);
	cpu = now(CLOCK_THREAD_CPUTIME_ID);
	err = pass(fd, buf, ops - ops / 2, size, span, 1);
	if (!err)
		err = pass(fd, buf, ops / 2, size, span, 0);
	cpu = now(CLOCK_THREAD_CPUTIME_ID) - cpu;
	wall = now(CLOCK_MONOTONIC) - wall;
	if (err) {
		fprintf(stderr, "dc-iobench: %s: %s\n", argv[optind], strerror(-err));
		return 1;
	}
	usleep(250000);
	parent = proc_cpu_s(getppid()) - parent;
	printf("%.6f %.6f %.6f %d\n", wall, cpu, parent, fd);
	close(fd);
	free(buf);
	return 0;
}
