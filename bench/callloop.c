// SPDX-License-Identifier: MIT
/*
 * A tight loop of one cheap libc call that is also a system call,
 * getppid(), for the per-call benchmark (bench/percall.py). Not an I/O call
 * on purpose: probes that other tracers on the machine keep on read or
 * lseek would be hit by every variant, the untraced one too.
 *
 * Prints the mean ns per call of the timed loop in wall time and in the
 * thread's CPU time (user and system, so what probes run in the kernel
 * counts, and time waiting for a loaded machine does not), and the CPU
 * time its parent (the tracer, when there is one) used meanwhile and in the
 * quarter second after, while it writes what the loop made, and the time
 * the parent's BPF programs ran per call, the entry programs' and the exit
 * programs' (0 unless the kernel keeps BPF statistics, see
 * BPF_ENABLE_STATS). The start of the process and of the tracer stays out
 * of every figure.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "proc_cpu.h"

/* The run time of the BPF programs process @pid holds, in ns: [0] entries, [1] exits. */
static void bpf_time_of(pid_t pid, double *sum)
{
	char path[300], target[64], line[128];
	struct bpf_prog_info info;
	unsigned int id, len;
	struct dirent *d;
	size_t nl;
	DIR *dir;
	FILE *f;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, d->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0 || (target[n] = '\0', strcmp(target, "anon_inode:bpf-prog")))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, d->d_name);
		f = fopen(path, "re");
		id = 0;
		while (f && fgets(line, sizeof(line), f) && sscanf(line, "prog_id: %u", &id) != 1)
			;
		if (f)
			fclose(f);
		fd = id ? bpf_prog_get_fd_by_id(id) : -1;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
			nl = strlen(info.name);
			sum[nl > 5 && !strcmp(info.name + nl - 5, "_exit")] += info.run_time_ns;
		}
		if (fd >= 0)
			close(fd);
	}
	if (dir)
		closedir(dir);
}

static double now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long i, n = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
	double t0, c0, p0, b0[2] = { 0, 0 }, b1[2] = { 0, 0 };

	if (n <= 0) {
		fprintf(stderr, "usage: %s CALLS\n", argv[0]);
		return 2;
	}
	/* Warm up caches, the probes' per-thread state and the CPU's clock. */
	for (i = 0; i < n / 10 + 1; i++)
		getppid();
	p0 = proc_cpu_s(getppid()) * 1e9;
	bpf_time_of(getppid(), b0);
	t0 = now_ns(CLOCK_MONOTONIC);
	c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < n; i++)
		getppid();
	c0 = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	t0 = now_ns(CLOCK_MONOTONIC) - t0;
	bpf_time_of(getppid(), b1);
	usleep(250000);
	p0 = proc_cpu_s(getppid()) * 1e9 - p0;
	printf("%.1f %.1f %.1f %.1f %.1f\n", t0 / n, c0 / n, p0 / n, (b1[0] - b0[0]) / n,
	       (b1[1] - b0[1]) / n);
	return 0;
}
