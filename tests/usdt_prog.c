// SPDX-License-Identifier: MIT
/*
 * An executable with USDT probes, for the explorer tests: built as PIE and
 * as a non-PIE executable, whose code addresses differ from file offsets.
 * The guarded probe is in usdt_sema.c, whose probes carry semaphores.
 */
#include <stdio.h>
#include <string.h>
#include <sys/sdt.h>

void dct_guarded(int n);

__attribute__((noinline)) static long work(int fd, long size)
{
	STAP_PROBE2(dctest, work_start, fd, size);
	size += fd;
	STAP_PROBE1(dctest, work_done, size);
	return size;
}

int main(int argc, char **argv)
{
	long total = 0;
	int i;

	STAP_PROBE(dctest, begin);
	for (i = 0; i < argc; i++)
		total += work(i, (long)strlen(argv[i]));
	dct_guarded(argc);
	printf("%ld\n", total);
	return 0;
}
