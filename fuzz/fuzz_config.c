// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for module configs: the YAML parser and validator
 * (lib/dc_config.c), then the generator's resolution of every entry's
 * argument sources into captures (generator/args.c) against fixed
 * tracepoint layouts and, where the kernel has BTF, the kernel's own
 * functions, so CO-RE paths from a config walk real types. What needs
 * files on the machine (ELF targets, tracefs) is left to the tests.
 * See docs/reliability.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_capture.h"
#include "dc_config.h"
#include "dc_err.h"
#include "gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An entry and an exit event in the shapes tracefs gives system calls. */
static struct dc_tpfield enter_fields[] = {
	{ "int", "__syscall_nr", 8, 4, true, false, false, false },
	{ "unsigned int", "fd", 16, 8, false, false, false, false },
	{ "const char *", "filename", 24, 8, false, false, false, true },
	{ "size_t", "count", 32, 8, false, false, false, false },
	{ "__data_loc char[]", "name", 40, 4, false, true, false, false },
	{ "char", "comm", 44, 16, true, false, true, false },
	{ "u16", "flags", 60, 2, false, false, false, false },
};
static struct dc_tpfield exit_fields[] = {
	{ "int", "__syscall_nr", 8, 4, true, false, false, false },
	{ "long", "ret", 16, 8, true, false, false, false },
	{ "unsigned int", "fd", 24, 4, false, false, false, false },
};
static const struct dc_tpformat enter_tp = { enter_fields, 7, 62 };
static const struct dc_tpformat exit_tp = { exit_fields, 3, 28 };

static struct gen_kbtf *kbtf;
static bool kbtf_tried;

/* The kernel's BTF, once: parsing it per input would swamp the fuzzer. */
static struct gen_kbtf *kernel_btf(void)
{
	if (!kbtf_tried) {
		kbtf_tried = true;
		if (gen_kbtf__load(&kbtf))
			kbtf = NULL;
		dc_err_clear();
	}
	return kbtf;
}

static bool has_chain(const struct dc_fnspec *fs)
{
	size_t i;

	for (i = 0; i < fs->nargs; i++)
		if (fs->args[i].ref && strstr(fs->args[i].ref, "->"))
			return true;
	return false;
}

static void resolve(const struct dc_config *cfg, const struct dc_group *g,
		    const struct dc_fnspec *fs)
{
	struct gen_argctx ax = { .kind = g->kind, .name = fs->name, .nargs = -1 };
	struct dc_capture cap;
	struct gen_kfunc fn;

	switch (g->kind) {
	case DC_KIND_SYSCALL:
		ax.nargs = 6;
		break;
	case DC_KIND_USDT:
		ax.nargs = 3;
		break;
	case DC_KIND_TRACEPOINT:
		ax.tp = &enter_tp;
		ax.xtp = fs->exit ? &exit_tp : NULL;
		break;
	case DC_KIND_KPROBE:
	case DC_KIND_FENTRY:
		ax.kbtf = kernel_btf();
		if (ax.kbtf && gen_kbtf__func(ax.kbtf, fs->name, &fn) == 0)
			ax.fn = &fn;
		else if (has_chain(fs))
			return; /* a CO-RE path needs the function's BTF */
		break;
	default:
		break;
	}
	if (!fs->has_capture)
		dc_catalog_lookup(fs->name, g->kind == DC_KIND_SYSCALL, &cap);
	else
		gen_capture(cfg, fs, &ax, &cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dc_config *cfg;
	size_t i, j;
	FILE *f;

	/* fmemopen refuses an empty buffer; an empty file is /dev/null's. */
	f = size ? fmemopen((void *)data, size, "r") : fopen("/dev/null", "r");
	if (!f)
		return 0;
	if (dc_config__read("fuzz/config.yaml", f, &cfg) == 0) {
		for (i = 0; i < cfg->ngroups; i++)
			for (j = 0; j < cfg->groups[i].nfns; j++)
				resolve(cfg, &cfg->groups[i], &cfg->groups[i].fns[j]);
		dc_config__free(cfg);
	}
	fclose(f);
	dc_err_clear();
	return 0;
}
