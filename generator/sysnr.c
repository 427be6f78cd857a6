// SPDX-License-Identifier: MIT
/*
 * System call numbers, so that system calls can be traced by one pair of
 * programs on the raw sys_enter/sys_exit tracepoints: attaching those is
 * two links, where a tracepoint per call is two links per call and takes
 * a millisecond each here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_record.h"
#include "gen.h"

static const struct sysnr {
	const char *name;
	int nr;
} table[] = {
#include "sysnr.h"
};

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sysnr *)elem)->name);
}

static int lookup(const char *name)
{
	const struct sysnr *s =
		bsearch(name, table, sizeof(table) / sizeof(*table), sizeof(*table), cmp_name);

	return s && s->nr < DC_SYSNR_MAX ? s->nr : -1;
}

/*
 * Tracepoints are named after the kernel's SYSCALL_DEFINE, which is not
 * always the name <asm/unistd.h> gives the number: newstat is __NR_stat,
 * sendfile64 __NR_sendfile, umount __NR_umount2.
 */
int gen__sysnr(const char *sys)
{
	char name[64];
	size_t n = strlen(sys);
	int nr = lookup(sys);

	if (nr < 0 && !strncmp(sys, "new", 3))
		nr = lookup(sys + 3);
	if (nr < 0 && n > 2 && n < sizeof(name) && !strcmp(sys + n - 2, "64")) {
		snprintf(name, sizeof(name), "%.*s", (int)(n - 2), sys);
		nr = lookup(name);
	}
	if (nr < 0 && !strcmp(sys, "umount"))
		nr = lookup("umount2");
	return nr;
}
