// SPDX-License-Identifier: MIT
/*
 * Turns config groups into probes: finds each function, system call,
 * tracepoint, kernel function or USDT probe, resolves its capture, and
 * gives it a capture class. Names found in symbol tables or notes that are
 * not plain identifiers are skipped and counted, never passed on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dc_elf.h"
#include "dc_err.h"
#include "dc_file.h"
#include "dc_kernel.h"
#include "dc_lib.h"
#include "dc_regex.h"
#include "gen.h"

#define HOOK_MAX_BYTES (1 << 20)

/* Keys already probed ("u3:1a2b0", "s:read", ...): open addressing on FNV-1a. */
struct gen_seen {
	char **slot;
	size_t cap, n;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = DC_FNV_OFFSET;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * DC_FNV_PRIME;
	return h;
}

static int seen_grow(struct gen_seen *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024, i, j;
	char **v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (i = 0; i < s->cap; i++) {
		if (!s->slot[i])
			continue;
		for (j = fnv(s->slot[i]) & (cap - 1); v[j]; j = (j + 1) & (cap - 1))
			;
		v[j] = s->slot[i];
	}
	free(s->slot);
	s->slot = v;
	s->cap = cap;
	return 0;
}

/* 1 when @key is new (and now seen), 0 when it was seen before. */
static int seen_add(struct gen *g, const char *key)
{
	struct gen_seen *s = g->seen;
	size_t i;

	if (!s && !(s = g->seen = calloc(1, sizeof(*s))))
		return -ENOMEM;
	if ((s->n + 1) * 2 > s->cap && seen_grow(s))
		return -ENOMEM;
	for (i = fnv(key) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->slot[i], key)) {
			g->repeats++;
			return 0;
		}
	s->slot[i] = strdup(key);
	if (!s->slot[i])
		return -ENOMEM;
	s->n++;
	return 1;
}

static bool seen_has(const struct gen *g, const char *key)
{
	const struct gen_seen *s = g->seen;
	size_t i;

	if (!s)
		return false;
	for (i = fnv(key) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->slot[i], key))
			return true;
	return false;
}

/* seen_add() of the key formatted from @fmt. */
static int seen_key(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int seen_key(struct gen *g, const char *fmt, ...)
{
	char key[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	return seen_add(g, key);
}

static const char *intern_path(struct gen *g, const char *path)
{
	char **v;
	size_t i;

	for (i = 0; i < g->npaths; i++)
		if (!strcmp(g->paths[i], path))
			return g->paths[i];
	v = realloc(g->paths, (g->npaths + 1) * sizeof(*v));
	if (!v)
		return NULL;
	g->paths = v;
	v[g->npaths] = strdup(path);
	return v[g->npaths] ? v[g->npaths++] : NULL;
}

static int class_of(struct gen *g, enum dc_kind kind, enum gen_shape shape,
		    const struct dc_capture *cap, const struct gen_kfunc *fn,
		    const struct gen_origin *origin, uint32_t *cls)
{
	struct gen_class *c;
	size_t i;

	/* An fentry program is bound to its one function when it loads. */
	for (i = 0; kind != DC_KIND_FENTRY && i < g->nclasses; i++)
		if (g->classes[i].kind == kind && g->classes[i].shape == shape &&
		    dc_capture_same_code(&g->classes[i].cap, cap)) {
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
	c = &g->classes[g->nclasses];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->shape = shape;
	c->cap = *cap;
	c->origin = *origin;
	if (fn) {
		c->probe = g->man.nprobes;
		c->nparams = fn->nparams;
		c->ret_void = fn->ret_void;
	}
	*cls = g->nclasses++;
	return 0;
}

/* Everything one probe needs; what a kind does not use stays zero. */
struct probe_in {
	char kind;
	const char *name;
	uint32_t target;
	uint64_t offset;
	const char *sys, *point, *exit_point;
	enum gen_shape shape;
	const struct dc_capture *cap;
	const struct gen_kfunc *fn;
	const struct dc_tpformat *tp, *xtp;
	struct dc_loc loc;
};

static const enum dc_kind kind_of[128] = {
	['u'] = DC_KIND_UPROBE, ['s'] = DC_KIND_SYSCALL, ['t'] = DC_KIND_TRACEPOINT,
	['k'] = DC_KIND_KPROBE, ['f'] = DC_KIND_FENTRY,	 ['d'] = DC_KIND_USDT,
	['c'] = DC_KIND_CUSTOM,
};

/* Records where a tracepoint field was, so the runtime can tell if the kernel moved it. */
static int add_check(struct gen *g, uint32_t probe, const struct probe_in *in,
		     const struct dc_src *s)
{
	const struct dc_tpformat *tp = s->at_exit ? in->xtp : in->tp;
	const char *event = s->at_exit ? in->exit_point : in->point;
	struct dc_mcheck c = { .probe = probe, .event = (char *)event };
	size_t i;

	if (s->how != DC_SRC_TP && s->how != DC_SRC_TPSTR)
		return 0;
	for (i = 0; i < tp->nfields && tp->fields[i].off != s->off; i++)
		;
	if (i == tp->nfields)
		return -EINVAL;
	c.field = tp->fields[i].name;
	c.off = s->off;
	c.size = tp->fields[i].size;
	c.is_signed = tp->fields[i].is_signed;
	return dc_manifest__add_check(&g->man, &c);
}

static int add_checks(struct gen *g, uint32_t probe, const struct probe_in *in)
{
	const struct dc_capture *c = in->cap;
	unsigned int i;
	int err;

	err = add_check(g, probe, in, &c->path);
	if (!err)
		err = add_check(g, probe, in, &c->ret_src);
	for (i = 0; !err && i < c->nfields; i++)
		err = add_check(g, probe, in, &c->field[i].src);
	for (i = 0; !err && i < c->nkeys; i++) {
		err = add_check(g, probe, in, &c->key[i]);
		if (!err)
			err = add_check(g, probe, in, &c->xkey[i]);
	}
	return err;
}

static int add_probe(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
		     const struct probe_in *in)
{
	struct dc_mprobe p = { .kind = in->kind,
			       .module = cfg->module,
			       .cat = grp->cat,
			       .name = (char *)in->name,
			       .target = in->target,
			       .offset = in->offset,
			       .sys = (char *)in->sys,
			       .point = (char *)in->point,
			       .exit_point = (char *)in->exit_point };
	struct gen_origin origin = { intern_path(g, cfg->path), in->loc };
	unsigned int i;
	int err;

	if (!origin.path)
		return -ENOMEM;
	if (in->kind != 'c') {
		err = class_of(g, kind_of[(int)in->kind], in->shape, in->cap, in->fn, &origin,
			       &p.cls);
		if (err)
			return err;
	}
	if (in->kind == 's') {
		int nr = g->sys_tracepoints ? -1 : gen__sysnr(in->sys);

		/* A second name for one number (an alias) keeps its tracepoints. */
		p.sys_raw = nr >= 0 && !(g->sysnr_used[nr / 8] & (1u << (nr % 8)));
		if (p.sys_raw) {
			p.sysnr = nr;
			g->sysnr_used[nr / 8] |= 1u << (nr % 8);
			g->classes[p.cls].sys_raw = true;
		} else {
			g->classes[p.cls].sys_tp = true;
		}
	}
	p.nfields = in->cap->nfields;
	for (i = 0; i < in->cap->nfields; i++)
		memcpy(p.field[i], in->cap->field[i].name, DC_FIELD_MAX);
	err = dc_manifest__add_probe(&g->man, &p);
	if (!err && in->kind == 't')
		err = add_checks(g, g->man.nprobes - 1, in);
	return err;
}

/* Counts a symbol whose name cannot be a probe name, keeping the first for the report. */
static void skip_name(struct gen *g, const char *name)
{
	if (!g->skipped_names++) {
		size_t i, n = 0;

		/* Shown escaped: the name may hold anything but NUL. */
		for (i = 0; name[i] && n + 5 < sizeof(g->first_skipped_buf); i++) {
			unsigned char c = name[i];

			if (c >= 0x20 && c < 0x7f && c != '\\')
				g->first_skipped_buf[n++] = c;
			else
				n += snprintf(g->first_skipped_buf + n, 5, "\\x%02x", c);
		}
		g->first_skipped_buf[n] = '\0';
		g->first_skipped = g->first_skipped_buf;
	}
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
		const struct dc_value *p =
			i < grp->nmatch ? &grp->match[i] : &grp->exclude[i - grp->nmatch];
		char why[128];
		int err = dc_regex_compile(&f->re[i], p->s, why, sizeof(why));

		/* Validated while parsing: past that, only memory should run out. */
		if (err)
			return err == -EINVAL ? dc_err(err, "bad regular expression: %s", why) :
						err;
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

/* The capture of a listed function or system call: its own, the catalogue's, or none. */
static int user_capture(const struct dc_config *cfg, const struct dc_fnspec *fs, const char *name,
			const struct gen_argctx *ax, struct dc_capture *cap)
{
	if (fs && fs->has_capture)
		return gen_capture(cfg, fs, ax, cap);
	if (!dc_catalog_lookup(name, ax->kind == DC_KIND_SYSCALL, cap))
		dc_capture_init(cap);
	return 0;
}

/*
 * Opens and reads one binary of the group, found at @path (its functions,
 * or its USDT probes), and makes it a target of the manifest.
 */
static int open_target(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
		       const struct dc_value *bin, const char *path, struct dc_elf **elf,
		       uint32_t *target)
{
	int err = dc_elf__open(path, elf);

	if (!err && grp->kind == DC_KIND_USDT) {
		err = dc_elf__load_usdt(*elf);
		if (!err && !(*elf)->nusdt)
			err = dc_err(-ENOENT, "%s has no USDT probes (.note.stapsdt)", path);
	} else if (!err) {
		err = dc_elf__load_funcs(*elf);
	}
	if (err)
		return dc_config__err(cfg, bin->loc, err, "%s", dc_errmsg(err));
	return dc_manifest__add_target(&g->man, path, (*elf)->build_id, target);
}

typedef int (*binary_fn)(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
			 const struct dc_value *bin, const char *path);

/*
 * Calls @fn for each binary of the group that is found. Of a list, those
 * not found are passed over (HDF5 comes in a serial and a parallel
 * flavour; a machine may have either); an optional group may find none.
 */
static int each_binary(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
		       binary_fn fn)
{
	char path[PATH_MAX], names[256] = "";
	size_t i, found = 0;
	int err;

	for (i = 0; i < grp->nbinary; i++) {
		const struct dc_value *b = &grp->binary[i];

		err = dc_lib_resolve(b->s, path, sizeof(path));
		if (err == -ENOENT && (grp->nbinary > 1 || grp->optional)) {
			dc_err_clear();
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 i ? ", " : "", b->s);
			continue;
		}
		if (!err)
			err = fn(g, cfg, grp, b, path);
		else
			err = dc_config__err(cfg, b->loc, err, "%s", dc_errmsg(err));
		if (err)
			return err;
		found++;
	}
	if (found)
		return 0;
	if (!grp->optional)
		return dc_config__err(cfg, grp->binary[0].loc, -ENOENT, "none of %s found", names);
	dc_warn("%s:%d:%d: %s probes skipped: no %s found", cfg->path, grp->binary[0].loc.line,
		grp->binary[0].loc.col, grp->name, names);
	g->skipped++;
	return 0;
}

/* In an optional group, what this kernel lacks is said and passed over. */
static int skip_missing(struct gen *g, const struct dc_group *grp, int err)
{
	if (err != -ENOENT || !grp->optional)
		return err;
	dc_warn("%s (skipped: the group is optional)", dc_errmsg(err));
	dc_err_clear();
	g->skipped++;
	return 0;
}

/*
 * The name a site (the names of one address) is probed under: the first
 * that @flt selects, the preferred name first. Names that cannot be probe
 * names are passed over, and counted if nothing else is left.
 */
static const char *site_name(struct gen *g, const struct dc_elf *e, const struct dc_site *s,
			     const struct filter *flt)
{
	const char *skipped = NULL;
	size_t k;

	for (k = 0; k < s->n; k++) {
		const char *name = e->funcs[e->site_funcs[s->first + k]].name;

		if (!filter_match(flt, name))
			continue;
		if (dc_symbol_name_ok(name))
			return name;
		skipped = skipped ? skipped : name;
	}
	if (skipped)
		skip_name(g, skipped);
	return NULL;
}

/* The catalogue's capture for @name, or for another name of the same function. */
static void site_capture(const struct dc_elf *e, const struct dc_site *s, const char *name,
			 struct dc_capture *cap)
{
	size_t k;

	if (dc_catalog_lookup(name, false, cap))
		return;
	for (k = 0; k < s->n; k++)
		if (dc_catalog_lookup(e->funcs[e->site_funcs[s->first + k]].name, false, cap))
			return;
	dc_capture_init(cap);
}

static int uprobes_in(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
		      const struct dc_value *bin, const char *path)
{
	struct gen_argctx ax = { .kind = DC_KIND_UPROBE, .nargs = -1 };
	struct probe_in in = { .kind = 'u' };
	struct filter flt = { 0 };
	struct dc_elf *elf = NULL;
	struct dc_capture cap;
	size_t i;
	int err;

	err = open_target(g, cfg, grp, bin, path, &elf, &in.target);
	if (err)
		goto out;
	in.cap = &cap;
	for (i = 0; !err && i < grp->nfns; i++) {
		const struct dc_fnspec *fs = &grp->fns[i];
		const struct dc_func *fn = dc_elf__find(elf, fs->name);

		if (!fn) {
			err = dc_config__err(cfg, fs->loc, -ENOENT, "function '%s' not found in %s",
					     fs->name, path);
			break;
		}
		if (dc_func_no_return_probe(fn)) {
			err = dc_config__err(cfg, fs->loc, -EINVAL, "function '%s' %s", fs->name,
					     dc_func_no_return_probe(fn));
			break;
		}
		err = seen_key(g, "u%u:%llx", in.target, (unsigned long long)fn->offset);
		if (err <= 0)
			continue;
		ax.name = fs->name;
		err = user_capture(cfg, fs, fs->name, &ax, &cap);
		in.name = fs->as ? fs->as : fs->name;
		in.offset = fn->offset;
		in.loc = fs->loc;
		if (!err)
			err = add_probe(g, cfg, grp, &in);
	}
	if (err || !grp->nmatch)
		goto out;
	err = filter_init(&flt, grp);
	if (!err)
		err = dc_elf__sites(elf);
	in.loc = grp->loc;
	for (i = 0; !err && i < elf->nsites; i++) {
		const char *name = site_name(g, elf, &elf->sites[i], &flt);
		const struct dc_func *fn = &elf->funcs[elf->site_funcs[elf->sites[i].first]];

		/*
		 * An IFUNC's address is its resolver, which says nothing about I/O;
		 * a function that returns twice or reads its caller cannot take a
		 * return probe.
		 */
		if (!name || fn->ifunc || dc_func_no_return_probe(fn))
			continue;
		err = seen_key(g, "u%u:%llx", in.target, (unsigned long long)fn->offset);
		if (err <= 0)
			continue;
		site_capture(elf, &elf->sites[i], name, &cap);
		in.name = name;
		in.offset = fn->offset;
		err = add_probe(g, cfg, grp, &in);
	}
	filter_free(&flt);
out:
	dc_elf__close(elf);
	return err < 0 ? err : 0;
}

static int resolve_uprobes(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp)
{
	return each_binary(g, cfg, grp, uprobes_in);
}

static const char *need_tracefs(struct gen *g, const struct dc_config *cfg, struct dc_loc loc,
				int *err)
{
	if (!g->tracefs && (*err = dc_tracefs_need(&g->tracefs)))
		*err = dc_config__err(cfg, loc, *err, "%s", dc_errmsg(*err));
	return g->tracefs;
}

/* Why a format could not be read, as a located error. */
static int format_err(const struct dc_config *cfg, struct dc_loc loc, const char *event, int err)
{
	if (err == -ENOENT)
		return dc_config__err(cfg, loc, err, "tracepoint '%s' not found in this kernel",
				      event);
	if (err == -EACCES || err == -EPERM)
		return dc_config__err(cfg, loc, err,
				      "cannot read the format of '%s' in tracefs: it needs root",
				      event);
	return dc_config__err(cfg, loc, err, "cannot read the format of '%s': %s", event,
			      strerror(-err));
}

/* Highest argument a capture reads, or -1. */
static int max_arg(const struct dc_capture *c)
{
	const struct dc_src *s[DC_MAX_ARGS + 2] = { &c->path, &c->out };
	unsigned int i, n = 2;
	int m = -1;

	for (i = 0; i < c->nfields; i++)
		s[n++] = &c->field[i].src;
	for (i = 0; i < n; i++)
		if (s[i]->how == DC_SRC_ARG || s[i]->how == DC_SRC_DEREF ||
		    s[i]->how == DC_SRC_CORE)
			m = s[i]->arg > m ? s[i]->arg : m;
	return m;
}

/*
 * A system call's arity, from its tracepoint's format: a program that reads
 * past it is refused at attach (EACCES), so a capture must stay inside.
 */
static int syscall_arity(struct gen *g, const char *name)
{
	struct dc_tpformat f;
	char ev[128];
	int n;

	if (!g->tracefs && !(g->tracefs = dc_tracefs(true)))
		return -1;
	snprintf(ev, sizeof(ev), "syscalls:sys_enter_%s", name);
	if (dc_tpformat__read(g->tracefs, ev, &f))
		return -1;
	n = f.nfields ? (int)f.nfields - 1 : 0; /* less __syscall_nr */
	dc_tpformat__free(&f);
	return n;
}

static int add_syscall(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
		       const struct dc_fnspec *fs, const char *name, struct dc_loc loc)
{
	struct gen_argctx ax = { .kind = DC_KIND_SYSCALL,
				 .name = name,
				 .nargs = syscall_arity(g, name) };
	struct probe_in in = { .kind = 's', .name = name, .sys = name, .loc = loc };
	struct dc_capture cap;
	int err;

	err = seen_key(g, "s:%s", name);
	if (err <= 0)
		return err;
	err = user_capture(cfg, fs, name, &ax, &cap);
	if (err)
		return err;
	if (ax.nargs >= 0 && max_arg(&cap) >= ax.nargs)
		return dc_config__err(
			cfg, loc, -EINVAL,
			"the built-in capture of %s reads argument %d, but %s takes %d "
			"here: give args of your own",
			name, max_arg(&cap), name, ax.nargs);
	in.cap = &cap;
	if (fs && fs->as)
		in.name = fs->as;
	return add_probe(g, cfg, grp, &in);
}

static int resolve_syscalls(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp)
{
	struct filter flt = { 0 };
	size_t i;
	int err = 0;

	if (!g->syscalls.n) {
		err = dc_syscalls(&g->syscalls);
		if (err)
			return dc_config__err(cfg, grp->loc, err, "cannot list system calls: %s",
					      dc_errmsg(err));
	}
	for (i = 0; !err && i < grp->nfns; i++) {
		const struct dc_fnspec *fs = &grp->fns[i];

		if (!dc_names_has(&g->syscalls, fs->name))
			err = skip_missing(
				g, grp,
				dc_config__err(cfg, fs->loc, -ENOENT,
					       "system call '%s' has no tracepoint in this kernel",
					       fs->name));
		else
			err = add_syscall(g, cfg, grp, fs, fs->name, fs->loc);
	}
	if (err || !grp->nmatch)
		return err;
	err = filter_init(&flt, grp);
	for (i = 0; !err && i < g->syscalls.n; i++)
		if (filter_match(&flt, g->syscalls.v[i]))
			err = add_syscall(g, cfg, grp, NULL, g->syscalls.v[i], grp->loc);
	filter_free(&flt);
	return err;
}

/*
 * Event names that begin and end a span: X_enter and X_exit, and the like,
 * and sys_enter_X with sys_exit_X.
 */
static const struct {
	const char *begin, *end;
} pair_suffixes[] = {
	{ "_enter", "_exit" }, { "_entry", "_return" }, { "_start", "_stop" },
	{ "_start", "_end" },  { "_start", "_done" },	{ "_begin", "_end" },
};

#define NSUFFIXES (sizeof(pair_suffixes) / sizeof(pair_suffixes[0]))

/*
 * The stem of an entry event, and its candidate exit (the @i-th), both
 * written to @stem/@exit; false when @name is no entry or has no @i-th.
 */
static bool pair_candidate(const char *name, size_t i, char *stem, char *exit, size_t len)
{
	const char *colon = strrchr(name, ':'), *ev = colon ? colon + 1 : name;
	size_t n = strlen(name), sl;

	if (!strncmp(ev, "sys_enter_", 10)) {
		if (i)
			return false;
		snprintf(stem, len, "%s", ev + 10);
		snprintf(exit, len, "%.*ssys_exit_%s", (int)(ev - name), name, ev + 10);
		return true;
	}
	if (i >= NSUFFIXES)
		return false;
	sl = strlen(pair_suffixes[i].begin);
	if (n <= sl || strcmp(name + n - sl, pair_suffixes[i].begin) || strlen(ev) <= sl)
		return false;
	snprintf(stem, len, "%.*s", (int)(strlen(ev) - sl), ev);
	/* USDT names often double the underscore: op__start. */
	while (strlen(stem) > 1 && stem[strlen(stem) - 1] == '_')
		stem[strlen(stem) - 1] = '\0';
	snprintf(exit, len, "%.*s%s", (int)(n - sl), name, pair_suffixes[i].end);
	return true;
}

/* The exit event that pairs with @name among @all, or false. */
static bool find_pair(const struct dc_names *all, const char *name, char *stem, char *exit,
		      size_t len)
{
	size_t i;

	for (i = 0; i < NSUFFIXES; i++)
		if (pair_candidate(name, i, stem, exit, len) && dc_names_has(all, exit))
			return true;
	return false;
}

static int add_tracepoint(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
			  const struct dc_fnspec *fs, const char *name, const char *exit,
			  const char *as, struct dc_loc loc)
{
	struct dc_tpformat tp = { 0 }, xtp = { 0 };
	struct gen_argctx ax = { .kind = DC_KIND_TRACEPOINT, .name = name, .tp = &tp, .nargs = -1 };
	struct probe_in in = { .kind = 't', .point = name, .exit_point = exit, .loc = loc };
	struct dc_capture cap;
	int err;

	err = seen_key(g, "t:%s", name);
	if (err <= 0)
		return err;
	if (exit && seen_key(g, "texit:%s", exit) < 0)
		return -ENOMEM;
	err = dc_tpformat__read(g->tracefs, name, &tp);
	if (err)
		return format_err(cfg, loc, name, err);
	if (exit) {
		err = dc_tpformat__read(g->tracefs, exit, &xtp);
		if (err) {
			err = format_err(cfg, fs && fs->exit ? fs->exit_loc : loc, exit, err);
			goto out;
		}
		ax.xtp = &xtp;
	}
	if (fs)
		err = gen_capture(cfg, fs, &ax, &cap);
	else
		gen_tp_default(&ax, &cap);
	if (err)
		goto out;
	in.name = as ? as : strchr(name, ':') + 1;
	in.shape = !exit ? GEN_POINT : cap.nkeys ? GEN_KEYED : GEN_PAIR;
	in.cap = &cap;
	in.tp = &tp;
	in.xtp = &xtp;
	err = add_probe(g, cfg, grp, &in);
out:
	dc_tpformat__free(&tp);
	dc_tpformat__free(&xtp);
	return err;
}

/* Stem of a listed pair's entry event, for its name in the trace. */
static const char *pair_stem(const char *name, char *buf, size_t len)
{
	char exit[256];
	size_t i;

	for (i = 0; i < NSUFFIXES; i++)
		if (pair_candidate(name, i, buf, exit, len))
			return buf;
	return strchr(name, ':') + 1;
}

/*
 * Selects from @all (sorted) with @flt; with pairing on, an entry event whose
 * exit exists becomes a pair, and that exit is taken by it.
 */
static int match_pairs(struct gen *g, const struct dc_names *all, const struct filter *flt,
		       bool pairs, const char *prefix,
		       int (*add)(struct gen *g, const char *name, const char *exit,
				  const char *stem, void *arg),
		       void *arg)
{
	char stem[256], exit[256], key[300];
	size_t i;
	int err = 0;

	for (i = 0; pairs && !err && i < all->n; i++)
		if (filter_match(flt, all->v[i]) &&
		    find_pair(all, all->v[i], stem, exit, sizeof(stem)))
			err = seen_key(g, "%sexit:%s", prefix, exit) < 0 ? -ENOMEM : 0;
	for (i = 0; !err && i < all->n; i++) {
		bool paired;

		if (!filter_match(flt, all->v[i]))
			continue;
		paired = pairs && find_pair(all, all->v[i], stem, exit, sizeof(stem));
		snprintf(key, sizeof(key), "%sexit:%s", prefix, all->v[i]);
		if (!paired && pairs && seen_has(g, key))
			continue;
		err = add(g, all->v[i], paired ? exit : NULL, paired ? stem : NULL, arg);
	}
	return err < 0 ? err : 0;
}

struct match_ctx {
	const struct dc_config *cfg;
	const struct dc_group *grp;
	uint32_t target; /* usdt */
	const struct dc_usdt *notes;
	size_t nnotes;
};

static int add_matched_tp(struct gen *g, const char *name, const char *exit, const char *stem,
			  void *arg)
{
	const struct match_ctx *m = arg;

	return add_tracepoint(g, m->cfg, m->grp, NULL, name, exit, stem, m->grp->loc);
}

static int resolve_tracepoints(struct gen *g, const struct dc_config *cfg,
			       const struct dc_group *grp)
{
	struct match_ctx m = { cfg, grp, 0, NULL, 0 };
	struct filter flt = { 0 };
	char buf[256];
	size_t i;
	int err = 0;

	if (!need_tracefs(g, cfg, grp->loc, &err))
		return err;
	for (i = 0; !err && i < grp->nfns; i++) {
		const struct dc_fnspec *fs = &grp->fns[i];

		err = add_tracepoint(g, cfg, grp, fs, fs->name, fs->exit,
				     fs->as   ? fs->as :
				     fs->exit ? pair_stem(fs->name, buf, sizeof(buf)) :
						NULL,
				     fs->loc);
		err = skip_missing(g, grp, err);
	}
	if (err || !grp->nmatch)
		return err;
	if (!g->tracepoints.n) {
		err = dc_tp_list(g->tracefs, &g->tracepoints);
		if (err)
			return dc_config__err(cfg, grp->loc, err, "cannot list tracepoints: %s",
					      strerror(-err));
	}
	err = filter_init(&flt, grp);
	if (!err)
		err = match_pairs(g, &g->tracepoints, &flt, grp->pairs, "t", add_matched_tp, &m);
	filter_free(&flt);
	return err;
}

static int add_kfunc(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
		     const struct dc_fnspec *fs, const char *name, struct dc_loc loc)
{
	bool fentry = grp->kind == DC_KIND_FENTRY;
	struct gen_argctx ax = { .kind = grp->kind, .name = name, .kbtf = g->kbtf, .nargs = -1 };
	struct probe_in in = {
		.kind = fentry ? 'f' : 'k', .name = name, .point = name, .loc = loc
	};
	struct gen_kfunc fn;
	struct dc_capture cap;
	int err, i;

	err = gen_kbtf__func(g->kbtf, name, &fn);
	if (err && fs)
		return dc_config__err(cfg, loc, err,
				      "kernel function '%s' not found in the kernel's BTF", name);
	if (err)
		return 0;
	/* fentry cannot take a struct passed by value: the trampoline refuses it. */
	for (i = 0; fentry && i < fn.nparams; i++)
		if (!fn.psize[i]) {
			if (fs)
				return dc_config__err(cfg, loc, -EINVAL,
						      "%s takes a struct by value, which fentry "
						      "cannot attach to: use kind kprobe",
						      name);
			return 0;
		}
	err = seen_key(g, "%c:%s", in.kind, name);
	if (err <= 0)
		return err;
	ax.fn = &fn;
	ax.nargs = fn.nparams;
	if (fs && fs->has_capture) {
		err = gen_capture(cfg, fs, &ax, &cap);
		if (err)
			return err;
	} else {
		dc_capture_init(&cap);
	}
	if (!(fs && fs->has_ret))
		cap.ret_i32 = fn.ret_size == 4 && fn.ret_signed;
	in.cap = &cap;
	in.fn = &fn;
	if (fs && fs->as)
		in.name = fs->as;
	return add_probe(g, cfg, grp, &in);
}

static int resolve_kfuncs(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp)
{
	const struct dc_names *all;
	struct filter flt = { 0 };
	size_t i;
	int err = 0;

	if (!g->kbtf) {
		err = gen_kbtf__load(&g->kbtf);
		if (err)
			return dc_config__err(cfg, grp->loc, err, "%s", dc_errmsg(err));
	}
	for (i = 0; !err && i < grp->nfns; i++)
		err = skip_missing(
			g, grp,
			add_kfunc(g, cfg, grp, &grp->fns[i], grp->fns[i].name, grp->fns[i].loc));
	if (err || !grp->nmatch)
		return err;
	all = gen_kbtf__names(g->kbtf);
	if (!all)
		return -ENOMEM;
	err = filter_init(&flt, grp);
	for (i = 0; !err && i < all->n; i++)
		if (filter_match(&flt, all->v[i]) && dc_symbol_name_ok(all->v[i]))
			err = add_kfunc(g, cfg, grp, NULL, all->v[i], grp->loc);
	filter_free(&flt);
	return err;
}

/* Arguments every call site of @name passes, or -1 when there is no such probe. */
static int usdt_argc(const struct dc_usdt *v, size_t n, const char *name)
{
	struct dc_usdt_arg args[DC_USDT_ARG_MAX];
	size_t i, plen = strcspn(name, ":");
	int argc = -1, k;

	for (i = 0; i < n; i++)
		if (strlen(v[i].provider) == plen && !strncmp(v[i].provider, name, plen) &&
		    !strcmp(v[i].name, name + plen + 1)) {
			k = (int)dc_usdt_args(v[i].args, args, DC_USDT_ARG_MAX);
			argc = argc < 0 || k < argc ? k : argc;
		}
	return argc;
}

static int add_usdt(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
		    const struct match_ctx *m, const struct dc_fnspec *fs, const char *name,
		    const char *exit, const char *stem, struct dc_loc loc)
{
	struct gen_argctx ax = { .kind = DC_KIND_USDT, .name = name };
	struct probe_in in = {
		.kind = 'd', .target = m->target, .point = name, .exit_point = exit, .loc = loc
	};
	const char *path = g->man.targets[m->target].path;
	struct dc_capture cap;
	int err;

	ax.nargs = usdt_argc(m->notes, m->nnotes, name);
	if (ax.nargs < 0)
		return dc_config__err(cfg, loc, -ENOENT, "USDT probe '%s' not found in %s", name,
				      path);
	if (exit && usdt_argc(m->notes, m->nnotes, exit) < 0)
		return dc_config__err(cfg, fs ? fs->exit_loc : loc, -ENOENT,
				      "USDT probe '%s' not found in %s", exit, path);
	err = seen_key(g, "d%u:%s", m->target, name);
	if (err <= 0)
		return err;
	if (exit && seen_key(g, "dexit:%s", exit) < 0)
		return -ENOMEM;
	err = 0;
	if (fs)
		err = gen_capture(cfg, fs, &ax, &cap);
	else
		dc_capture_init(&cap);
	if (err)
		return err;
	in.name = fs && fs->as ? fs->as : stem ? stem : strchr(name, ':') + 1;
	in.shape = exit ? GEN_PAIR : GEN_POINT;
	in.cap = &cap;
	return add_probe(g, cfg, grp, &in);
}

static int add_matched_usdt(struct gen *g, const char *name, const char *exit, const char *stem,
			    void *arg)
{
	const struct match_ctx *m = arg;

	return add_usdt(g, m->cfg, m->grp, m, NULL, name, exit, stem, m->grp->loc);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "provider:name" of every probe, sorted and once each; odd names are skipped. */
static int usdt_names(struct gen *g, const struct dc_usdt *v, size_t n, struct dc_names *out)
{
	size_t i, j;

	out->v = calloc(n ? n : 1, sizeof(*out->v));
	out->n = 0;
	if (!out->v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!dc_ident_ok(v[i].provider) || !dc_ident_ok(v[i].name)) {
			char both[256];

			snprintf(both, sizeof(both), "%s:%s", v[i].provider, v[i].name);
			skip_name(g, both);
			continue;
		}
		if (asprintf(&out->v[out->n], "%s:%s", v[i].provider, v[i].name) < 0)
			return -ENOMEM;
		out->n++;
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_name);
	for (i = j = 0; i < out->n; i++) {
		if (j && !strcmp(out->v[j - 1], out->v[i])) {
			free(out->v[i]);
			continue;
		}
		out->v[j++] = out->v[i];
	}
	out->n = j;
	return 0;
}

static int usdt_in(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp,
		   const struct dc_value *bin, const char *path)
{
	struct match_ctx m = { cfg, grp, 0, NULL, 0 };
	struct dc_names names = { 0 };
	struct filter flt = { 0 };
	struct dc_elf *elf = NULL;
	char buf[256];
	size_t i;
	int err;

	err = open_target(g, cfg, grp, bin, path, &elf, &m.target);
	if (err)
		goto out;
	m.notes = elf->usdt;
	m.nnotes = elf->nusdt;
	for (i = 0; !err && i < grp->nfns; i++) {
		const struct dc_fnspec *fs = &grp->fns[i];

		err = add_usdt(g, cfg, grp, &m, fs, fs->name, fs->exit,
			       fs->exit ? pair_stem(fs->name, buf, sizeof(buf)) : NULL, fs->loc);
	}
	if (err || !grp->nmatch)
		goto out;
	err = usdt_names(g, elf->usdt, elf->nusdt, &names);
	if (!err)
		err = filter_init(&flt, grp);
	if (!err)
		err = match_pairs(g, &names, &flt, grp->pairs, "d", add_matched_usdt, &m);
	filter_free(&flt);
out:
	dc_names_free(&names);
	dc_elf__close(elf);
	return err;
}

static int resolve_usdt(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp)
{
	return each_binary(g, cfg, grp, usdt_in);
}

/* Reads a hook file whole: text only, bounded, and every byte of it goes to clang. */
static int read_hook(const struct dc_config *cfg, const struct dc_group *grp, char **out)
{
	struct dc_buf b = { 0 };
	char chunk[4096];
	size_t n;
	FILE *f;
	int err;

	err = dc_open_regular(grp->source, &f);
	if (err)
		return dc_config__err(cfg, grp->source_loc, err, "%s", dc_errmsg(err));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= HOOK_MAX_BYTES)
		dc_buf_put(&b, chunk, n);
	err = ferror(f) ? -EIO : b.err;
	fclose(f);
	if (!err && b.len > HOOK_MAX_BYTES)
		err = dc_config__err(cfg, grp->source_loc, -EFBIG, "%s: a hook is at most %d bytes",
				     grp->source, HOOK_MAX_BYTES);
	else if (!err && memchr(b.p, '\0', b.len))
		err = dc_config__err(cfg, grp->source_loc, -EINVAL,
				     "%s: a hook is C source, not a binary file", grp->source);
	else if (err)
		err = dc_config__err(cfg, grp->source_loc, err, "%s: %s", grp->source,
				     strerror(-err));
	if (!err)
		err = dc_buf_cstr(&b);
	if (err) {
		dc_buf_free(&b);
		return err;
	}
	*out = b.p;
	return 0;
}

static int resolve_custom(struct gen *g, const struct dc_config *cfg, const struct dc_group *grp)
{
	struct gen_argctx ax = { .kind = DC_KIND_CUSTOM, .name = "a hook", .nargs = -1 };
	struct probe_in in = { .kind = 'c' };
	struct gen_hook *h;
	struct dc_capture cap;
	size_t i;
	int err;

	h = realloc(g->hooks, (g->nhooks + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	g->hooks = h;
	h = &h[g->nhooks];
	memset(h, 0, sizeof(*h));
	err = read_hook(cfg, grp, &h->text);
	if (err)
		return err;
	h->path = strdup(grp->source);
	h->origin = (struct gen_origin){ intern_path(g, cfg->path), grp->source_loc };
	h->base = g->man.nprobes;
	h->count = grp->nfns;
	g->nhooks++;
	if (!h->path || !h->origin.path)
		return -ENOMEM;
	in.cap = &cap;
	for (i = 0; !err && i < grp->nfns; i++) {
		err = gen_capture(cfg, &grp->fns[i], &ax, &cap);
		in.name = grp->fns[i].as ? grp->fns[i].as : grp->fns[i].name;
		in.loc = grp->fns[i].loc;
		if (!err)
			err = add_probe(g, cfg, grp, &in);
	}
	return err;
}

int gen__resolve(struct gen *g, const struct dc_config *cfg)
{
	static int (*const resolve[DC_KIND_COUNT])(struct gen *, const struct dc_config *,
						   const struct dc_group *) = {
		[DC_KIND_UPROBE] = resolve_uprobes,	    [DC_KIND_SYSCALL] = resolve_syscalls,
		[DC_KIND_TRACEPOINT] = resolve_tracepoints, [DC_KIND_KPROBE] = resolve_kfuncs,
		[DC_KIND_FENTRY] = resolve_kfuncs,	    [DC_KIND_USDT] = resolve_usdt,
		[DC_KIND_CUSTOM] = resolve_custom,
	};
	size_t i, before = g->man.nprobes, repeats = g->repeats, skipped = g->skipped;
	int err = 0;

	for (i = 0; !err && i < cfg->ngroups; i++)
		err = resolve[cfg->groups[i].kind](g, cfg, &cfg->groups[i]);
	/*
	 * Probes another config has already are selected all the same; a
	 * config whose optional groups were all skipped has said so.
	 */
	if (!err && cfg->ngroups && g->man.nprobes == before && g->repeats == repeats &&
	    g->skipped == skipped)
		err = dc_err(-ENOENT, "%s: the config selects no probes", cfg->path);
	return err;
}

void gen__free(struct gen *g)
{
	size_t i;

	dc_manifest__clear(&g->man);
	free(g->classes);
	for (i = 0; i < g->nhooks; i++) {
		free(g->hooks[i].path);
		free(g->hooks[i].text);
	}
	free(g->hooks);
	free(g->spans);
	for (i = 0; i < g->npaths; i++)
		free(g->paths[i]);
	free(g->paths);
	if (g->seen) {
		for (i = 0; i < g->seen->cap; i++)
			free(g->seen->slot[i]);
		free(g->seen->slot);
		free(g->seen);
	}
	dc_names_free(&g->syscalls);
	dc_names_free(&g->tracepoints);
	gen_kbtf__free(g->kbtf);
}
