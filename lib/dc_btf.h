/* SPDX-License-Identifier: MIT */
/* Kernel functions and their prototypes, from the running kernel's BTF. */
#ifndef DC_BTF_H
#define DC_BTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dc_proto.h"

struct btf;
struct btf_dump;
struct dc_buf;

struct dc_kfunc {
	const char *name; /* in the BTF's strings */
	uint32_t module; /* 0: vmlinux, else index + 1 into dc_kfuncs.modules */
	uint32_t id;
};

struct dc_kfuncs {
	struct btf *vmlinux;
	struct btf **btfs; /* per module */
	char **modules;
	size_t nmodules;
	struct dc_kfunc *v; /* sorted by name */
	size_t n;
	/* Type printers per BTF, made once: each costs as much as the BTF is large. */
	struct btf_dump **dumps; /* [0] vmlinux, [i] module i - 1 */
	struct dc_buf *text;
};

/* Reads /sys/kernel/btf/vmlinux and, with @modules, every module's BTF. */
int dc_kfuncs__load(struct dc_kfuncs *k, bool modules);
const char *dc_kfuncs__module(const struct dc_kfuncs *k, const struct dc_kfunc *f);
int dc_kfuncs__proto(struct dc_kfuncs *k, const struct dc_kfunc *f, struct dc_proto *out);
void dc_kfuncs__free(struct dc_kfuncs *k);

#endif
