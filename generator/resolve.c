// SPDX-License-Identifier: MIT
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "dc_elf.h"
#include "dc_err.h"
#include "dc_kernel.h"
#include "dc_lib.h"
#include "gen.h"

static int class_of(struct gen *g, enum dc_kind kind, const struct dc_capture *cap, uint32_t *cls)
{
	struct gen_class *c;
	size_t i;

	for (i = 0; i < g->nclasses; i++)
		if (g->classes[i].kind == kind && dc_capture_same_code(&g->classes[i].cap, cap)) {
			*cls = i;
			return 0;
		}
	if (g->nclasses == g->cap_classes) {
		size_t n = g->cap_classes ? g->cap_classes * 2 : 16;

		c = realloc(g->classes, n * sizeof(*c));
		if (!c)
			return -ENOMEM;
		g->classes = c;
		g->cap_classes = n;
	}
	g->classes[g->nclasses] = (struct gen_class){ kind, *cap };
	*cls = g->nclasses++;
	return 0;
}

/* A probe with an explicit capture, the catalogue's, or none. */
static void capture_for(const struct dc_fnspec *fs, const char *name, bool sys,
			struct dc_capture *cap)
{
	if (fs && fs->has_capture)
		*cap = fs->cap;
	else if (!dc_catalog_lookup(name, sys, cap))
		dc_capture_init(cap);
}

static int add_probe(struct gen *g, const struct dc_group *grp, const char *name,
		     const struct dc_fnspec *fs, uint32_t target, uint64_t offset, const char *sys)
{
	struct dc_mprobe p = { .kind = sys ? 's' : 'u',
			       .cat = grp->cat,
			       .name = (char *)name,
			       .target = target,
			       .offset = offset,
			       .sys = (char *)sys };
	struct dc_capture cap;
	unsigned int i;
	int err;

	capture_for(fs, name, sys != NULL, &cap);
	err = class_of(g, grp->kind, &cap, &p.cls);
	if (err)
		return err;
	p.nfields = cap.nfields;
	for (i = 0; i < cap.nfields; i++)
		memcpy(p.field[i], cap.field[i].name, DC_FIELD_MAX);
	return dc_manifest__add_probe(&g->man, &p);
}

/* Compiled match and exclude lists of one group. */
struct filter {
	regex_t *re;
	size_t nmatch, nexclude;
};

static int filter_init(struct filter *f, const struct dc_group *grp)
{
	size_t i, n = grp->nmatch + grp->nexclude;

	f->nmatch = f->nexclude = 0;
	f->re = calloc(n ? n : 1, sizeof(*f->re));
	if (!f->re)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct dc_pattern *p =
			i < grp->nmatch ? &grp->match[i] : &grp->exclude[i - grp->nmatch];

		/* Validated while parsing, so this only fails for lack of memory. */
		if (regcomp(&f->re[i], p->re, REG_EXTENDED | REG_NOSUB))
			return -ENOMEM;
		if (i < grp->nmatch)
			f->nmatch++;
		else
			f->nexclude++;
	}
	return 0;
}

static bool filter_match(const struct filter *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nmatch; i++)
		if (!regexec(&f->re[i], name, 0, NULL, 0))
			break;
	if (i == f->nmatch)
		return false;
	for (i = 0; i < f->nexclude; i++)
		if (!regexec(&f->re[f->nmatch + i], name, 0, NULL, 0))
			return false;
	return true;
}

static void filter_free(struct filter *f)
{
	size_t i;

	for (i = 0; i < f->nmatch + f->nexclude; i++)
		regfree(&f->re[i]);
	free(f->re);
}

/* Aliases share an address; the first name chosen for an offset wins. */
static bool offset_taken(const struct gen *g, uint32_t target, uint64_t offset)
{
	size_t i;

	for (i = 0; i < g->man.nprobes; i++)
		if (g->man.probes[i].kind == 'u' && g->man.probes[i].target == target &&
		    g->man.probes[i].offset == offset)
			return true;
	return false;
}

static int resolve_uprobes(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp)
{
	char path[PATH_MAX];
	struct filter flt = { 0 };
	struct dc_elf *elf = NULL;
	uint32_t target;
	size_t i;
	int err;

	err = dc_lib_resolve(grp->binary, path, sizeof(path));
	if (!err)
		err = dc_elf__open(path, &elf);
	if (!err)
		err = dc_elf__load_funcs(elf);
	if (err) {
		err = dc_config__err(cfg, grp->binary_loc, err, "%s", dc_errmsg(err));
		goto out;
	}
	err = dc_manifest__add_target(&g->man, path, elf->build_id, &target);
	if (err)
		goto out;
	for (i = 0; i < grp->nfns; i++) {
		const struct dc_fnspec *fs = &grp->fns[i];
		const struct dc_func *fn = dc_elf__find(elf, fs->name);

		if (!fn) {
			err = dc_config__err(cfg, fs->loc, -ENOENT, "function '%s' not found in %s",
					     fs->name, path);
			goto out;
		}
		if (offset_taken(g, target, fn->offset))
			continue;
		err = add_probe(g, grp, fs->name, fs, target, fn->offset, NULL);
		if (err)
			goto out;
	}
	if (!grp->nmatch)
		goto out;
	err = filter_init(&flt, grp);
	for (i = 0; !err && i < elf->nfuncs; i++) {
		const struct dc_func *fn = &elf->funcs[i];

		/* An IFUNC's address is its resolver, which says nothing about I/O. */
		if (fn->ifunc || !filter_match(&flt, fn->name) ||
		    offset_taken(g, target, fn->offset))
			continue;
		err = add_probe(g, grp, fn->name, NULL, target, fn->offset, NULL);
	}
	filter_free(&flt);
out:
	dc_elf__close(elf);
	return err;
}

static int resolve_syscalls(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp)
{
	struct dc_names sys;
	struct filter flt = { 0 };
	size_t i, j;
	int err;

	err = dc_syscalls(&sys);
	if (err)
		return dc_config__err(cfg, grp->loc, err, "cannot list system calls: %s",
				      dc_errmsg(err));
	for (i = 0; !err && i < grp->nfns; i++) {
		const struct dc_fnspec *fs = &grp->fns[i];

		if (!dc_names_has(&sys, fs->name))
			err = dc_config__err(cfg, fs->loc, -ENOENT,
					     "system call '%s' has no tracepoint in this kernel",
					     fs->name);
		else
			err = add_probe(g, grp, fs->name, fs, 0, 0, fs->name);
	}
	if (!err && grp->nmatch)
		err = filter_init(&flt, grp);
	for (i = 0; !err && grp->nmatch && i < sys.n; i++) {
		bool dup = false;

		for (j = 0; j < grp->nfns && !dup; j++)
			dup = !strcmp(grp->fns[j].name, sys.v[i]);
		if (!dup && filter_match(&flt, sys.v[i]))
			err = add_probe(g, grp, sys.v[i], NULL, 0, 0, sys.v[i]);
	}
	if (grp->nmatch)
		filter_free(&flt);
	dc_names_free(&sys);
	return err;
}

int gen__resolve(struct gen *g, const struct dc_config *cfg)
{
	size_t i, before = g->man.nprobes;
	int err = 0;

	for (i = 0; !err && i < cfg->ngroups; i++) {
		const struct dc_group *grp = &cfg->groups[i];

		if (grp->kind == DC_KIND_UPROBE)
			err = resolve_uprobes(g, cfg, grp);
		else
			err = resolve_syscalls(g, cfg, grp);
	}
	if (!err && g->man.nprobes == before)
		err = dc_err(-ENOENT, "%s: the config selects no probes", cfg->path);
	return err;
}

void gen__free(struct gen *g)
{
	dc_manifest__clear(&g->man);
	free(g->classes);
}
