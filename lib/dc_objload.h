/* SPDX-License-Identifier: MIT */
/*
 * Getting a generated object ready to load on the running kernel, for
 * datacrumbs-run and for datacrumbs-generate --verify alike.
 */
#ifndef DC_OBJLOAD_H
#define DC_OBJLOAD_H

#include <bpf/libbpf.h>
#include <stddef.h>
#include <stdint.h>

#include "dc_manifest.h"

/* A probe whose programs will not load here, and why (negative errno). */
struct dc_objskip {
	uint32_t probe;
	int err;
};

struct dc_objprep {
	struct dc_objskip *skips;
	size_t nskips;
	char why[256]; /* one line on the first kind switched off, or empty */
};

/*
 * Prepares @obj (opened, not loaded): binds each fentry program to its
 * kernel function, and switches off what this kernel cannot load: all
 * fentry/fexit programs (hooks' included) when it has no BPF trampolines,
 * or one whose function it lacks. Their probes are listed in @p.
 */
int dc_objload__prepare(struct bpf_object *obj, const struct dc_manifest *m, struct dc_objprep *p);
/* Generated programs are dc_c<N>_entry/_exit and dc_on_*; anything else is a hook's. */
bool dc_objload__is_hook(const char *prog);
void dc_objload__free(struct dc_objprep *p);

#endif
