// SPDX-License-Identifier: MIT
/*
 * libdatacrumbs-client: the server's uprobes on these two functions are the
 * whole protocol, so each must stay a real call that runs its own entry:
 * never inlined, never merged with the other, never optimised away.
 */
#include "datacrumbs_client.h"

#define DC_CLIENT_API __attribute__((visibility("default"), noinline))

DC_CLIENT_API int datacrumbs_client_start(void)
{
	__asm__ volatile("" ::: "memory");
	return 0;
}

DC_CLIENT_API int datacrumbs_client_stop(void)
{
	__asm__ volatile("nop" ::: "memory");
	return 0;
}

/* Loading the library is opting in: LD_PRELOAD needs nothing else. */
__attribute__((constructor)) static void datacrumbs_client_load(void)
{
	datacrumbs_client_start();
}
