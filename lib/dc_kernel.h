/* SPDX-License-Identifier: MIT */
/* What the running kernel offers to probe. */
#ifndef DC_KERNEL_H
#define DC_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

struct dc_names {
	char **v; /* sorted */
	size_t n;
};

/*
 * System calls that have tracepoints, from tracefs when it is readable and
 * otherwise from the kernel's BTF (the __x64_sys_* functions).
 */
int dc_syscalls(struct dc_names *out);
bool dc_names_has(const struct dc_names *s, const char *name);
void dc_names_free(struct dc_names *s);
/* The tracefs mount point, mounting it if root and it is not mounted. */
const char *dc_tracefs(bool mount_it);

#endif
