// SPDX-License-Identifier: MIT
/* A USDT probe with a semaphore: the note records where the counter lives. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

__extension__ unsigned short dctest_guarded_semaphore __attribute__((unused, section(".probes")));

void dct_guarded(int n);

__attribute__((noinline)) void dct_guarded(int n)
{
	/* The semaphore counts attached tracers; argument setup runs only then. */
	if (dctest_guarded_semaphore)
		STAP_PROBE1(dctest, guarded, n);
}
