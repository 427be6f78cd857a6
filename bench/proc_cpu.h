/* SPDX-License-Identifier: MIT */
/* What the bench programs read of another process: its CPU time so far. */
#ifndef DC_BENCH_PROC_CPU_H
#define DC_BENCH_PROC_CPU_H

#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

/* User and system seconds of process @pid, or 0 when it cannot be read. */
static inline double proc_cpu_s(pid_t pid)
{
	unsigned long long ut = 0, st = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	/* After "pid (comm) state": fields 4 to 13, then utime and stime. */
	if (!f || fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		ut = st = 0;
	if (f)
		fclose(f);
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

#endif
