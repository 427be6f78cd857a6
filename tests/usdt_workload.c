// SPDX-License-Identifier: MIT
/*
 * USDT probes with known arguments, for the USDT tests. Each of ITER
 * operations is a span (op_start .. op_done) holding a nested one
 * (step_start .. step_done) and a point (tick); a last point carries a
 * path. Arguments have several C types, negative ones included.
 */
#include <stdio.h>
#include <sys/sdt.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ITER 5

/* Out of line, so the probes' arguments live where the compiler chooses. */
static __attribute__((noinline)) void step(int op, short k, long long size)
{
	DTRACE_PROBE3(dcwork, step_start, op, k, size);
	DTRACE_PROBE1(dcwork, step_done, op);
}

int main(int argc, char **argv)
{
	long long size;
	int i;

	for (i = 0; i < ITER; i++) {
		size = 1000LL * (i + 1) + (1LL << 40);
		DTRACE_PROBE3(dcwork, op_start, i, size, -i - 1);
		step(i, (short)(-7 * i), size);
		DTRACE_PROBE2(dcwork, tick, i, (unsigned char)(200 + i));
		DTRACE_PROBE1(dcwork, op_done, i);
	}
	DTRACE_PROBE1(dcwork, file, argc > 1 ? argv[1] : argv[0]);
	printf("{\"pid\":%d,\"tid\":%ld}\n", getpid(), (long)syscall(SYS_gettid));
	return 0;
}
