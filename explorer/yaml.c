// SPDX-License-Identifier: MIT
/*
 * --yaml: a module config datacrumbs-generate takes as it is. Only what its
 * schema accepts is YAML; everything else found is written as comments.
 */
#include <errno.h>
#include <string.h>

#include "dc_buf.h"
#include "dc_capture.h"
#include "dc_config.h"
#include "dc_err.h"
#include "explore.h"

/* "libhdf5_serial.so.103" -> "hdf5_serial": a module name for the config. */
static void module_name(const char *path, char *out, size_t outlen)
{
	const char *base = strrchr(path, '/');
	size_t i, n;

	base = base ? base + 1 : path;
	/* libhdf5 -> hdf5, but libc stays libc. */
	if (!strncmp(base, "lib", 3) && strcspn(base + 3, ".") > 1)
		base += 3;
	n = strcspn(base, ".");
	for (i = 0; i < n && i + 1 < outlen; i++)
		out[i] = dc_label_ok((char[]){ base[i], 0 }) ? base[i] : '_';
	out[i] = '\0';
	if (!out[0])
		snprintf(out, outlen, "module");
}

static void upper(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; i + 1 < outlen && in[i]; i++)
		out[i] = in[i] >= 'a' && in[i] <= 'z' ? in[i] - 'a' + 'A' : in[i];
	out[i] = '\0';
}

static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The captured fields in flow style: {fd: 0, size: 2}. */
static void args_map(FILE *f, const struct dc_hint *h)
{
	unsigned int i;

	fputc('{', f);
	if (h->path_arg >= 0)
		fprintf(f, "path: %d%s", h->path_arg, h->nfields ? ", " : "");
	for (i = 0; i < h->nfields; i++)
		fprintf(f, "%s%s: %d", i ? ", " : "", h->field[i].name, h->field[i].arg);
	fputc('}', f);
}

/* One entry of a functions list, with what the prototype suggests. */
static void entry(FILE *f, const char *name, const struct dc_proto *p, bool syscall,
		  const char *proto_name)
{
	struct dc_capture cap;
	struct dc_buf b = { 0 };
	struct dc_hint h;

	if (dc_catalog_lookup(name, syscall, &cap)) {
		fprintf(f, "      - %s  # capture from the built-in catalogue\n", name);
		return;
	}
	if (!p) {
		fprintf(f, "      - %s\n", name);
		return;
	}
	dc_proto_hint(p, syscall, &h);
	dc_proto_format(p, proto_name, &b);
	if (!dc_hint_useful(&h))
		fprintf(f, "      - %s", name);
	else
		fprintf(f, "      - name: %s", name);
	fprintf(f, "  # ");
	put_safe(f, b.p ? b.p : "");
	fputc('\n', f);
	dc_buf_free(&b);
	if (h.nfields || h.path_arg >= 0) {
		fprintf(f, "        args: ");
		args_map(f, &h);
		fputc('\n', f);
	}
	if (h.ret_long)
		fprintf(f, "        ret: long\n");
	if (h.note[0]) {
		fprintf(f, "        # not captured: ");
		put_safe(f, h.note);
		fputc('\n', f);
	}
}

/* The name a config can use for a site: valid, and found at that address. */
static const struct dc_func *config_name(const struct explore *x, const struct dc_site *s)
{
	size_t j;

	for (j = 0; j < s->n; j++) {
		const struct dc_func *fn = site_func(x, s, j), *found;

		if (dc_symbol_name_ok(fn->name) && (found = dc_elf__find(x->elf, fn->name)) &&
		    found->addr == fn->addr)
			return fn;
	}
	return NULL;
}

static void left_out(FILE *f, const struct dc_func *fn, const char *why)
{
	fprintf(f, "    #   ");
	put_safe(f, fn->name);
	if (fn->version) {
		fprintf(f, "%s", fn->hidden_version ? "@" : "@@");
		put_safe(f, fn->version);
	}
	fprintf(f, " at offset 0x%llx: %s\n", (unsigned long long)fn->offset, why);
}

static bool probeable(const struct explore *x, const struct dc_site *s)
{
	const struct dc_func *fn = site_func(x, s, 0);

	return !fn->ifunc && !dc_func_no_return_probe(fn) && config_name(x, s);
}

/* Returns the number of functions written; a group needs at least one. */
static size_t function_group(struct explore *x, FILE *f, const char *mod)
{
	char cat[64];
	size_t i, n = 0, skipped = 0;

	for (i = 0; i < x->nsel[K_FUNCTION]; i++)
		n += probeable(x, sel_site(x, i));
	if (n) {
		upper(mod, cat, sizeof(cat));
		fprintf(f, "  - name: %s\n    kind: uprobe\n    cat: %s\n    binary: ", mod, cat);
		quoted(f, x->path);
		fprintf(f, "\n    functions:\n");
	}
	for (i = 0; n && i < x->nsel[K_FUNCTION]; i++) {
		const struct dc_site *s = sel_site(x, i);
		const struct dc_func *fn = config_name(x, s);

		if (probeable(x, s))
			entry(f, fn->name, x->has_proto && x->has_proto[i] ? &x->protos[i] : NULL,
			      false, fn->name);
	}
	for (i = 0; i < x->nsel[K_FUNCTION]; i++) {
		const struct dc_site *s = sel_site(x, i);
		const struct dc_func *first = site_func(x, s, 0);

		if (probeable(x, s))
			continue;
		if (!skipped++)
			fprintf(f, "    # Left out:\n");
		left_out(f, first,
			 first->ifunc ? "an IFUNC: the address is its resolver" :
			 dc_func_no_return_probe(first) ?
					dc_func_no_return_probe(first) :
					"no name a config can use reaches this address");
	}
	return n;
}

static bool sys_probeable(const struct explore *x, const struct syscall *s)
{
	return syscall_ok(x, s) > 0 && dc_label_ok(s->name) && !strchr(s->name, '.') &&
	       !strchr(s->name, '-');
}

static int syscall_group(struct explore *x, FILE *f, size_t *n)
{
	size_t i;
	int err = 0;

	for (i = 0; i < x->nsel[K_SYSCALL]; i++)
		*n += sys_probeable(x, &x->syscalls[x->sel[K_SYSCALL][i]]);
	if (*n)
		fprintf(f, "  - name: syscalls\n    kind: syscall\n    cat: SYSCALL\n"
			   "    functions:\n");
	for (i = 0; !err && *n && i < x->nsel[K_SYSCALL]; i++) {
		const struct syscall *s = &x->syscalls[x->sel[K_SYSCALL][i]];
		struct dc_proto p;

		if (!sys_probeable(x, s))
			continue;
		err = syscall_proto(s, &p);
		if (!err)
			entry(f, s->name, &p, true, s->name);
		dc_proto_free(&p);
	}
	for (i = 0; i < x->nsel[K_SYSCALL]; i++) {
		const struct syscall *s = &x->syscalls[x->sel[K_SYSCALL][i]];

		if (!sys_probeable(x, s)) {
			fprintf(f, "    #   ");
			put_safe(f, s->name);
			fprintf(f, ": left out, its tracepoints do not attach here\n");
		}
	}
	return err;
}

static void usdt_comments(struct explore *x, FILE *f)
{
	size_t i;

	fprintf(f, "# USDT probes (datacrumbs-generate has no usdt kind yet):\n");
	for (i = 0; i < x->nsel[K_USDT]; i++) {
		const struct dc_usdt *u = &x->elf->usdt[x->sel[K_USDT][i]];

		fprintf(f, "#   ");
		put_safe(f, u->provider);
		fputc(':', f);
		put_safe(f, u->name);
		fprintf(f, " at offset 0x%llx", (unsigned long long)u->offset);
		if (u->sema_addr)
			fprintf(f, ", semaphore at 0x%llx", (unsigned long long)u->sema_offset);
		fprintf(f, ", args: ");
		put_safe(f, *u->args ? u->args : "none");
		fputc('\n', f);
	}
}

static void tracepoint_comments(struct explore *x, FILE *f)
{
	size_t i, j;

	fprintf(f, "# Tracepoints (datacrumbs-generate has no tracepoint kind yet):\n");
	for (i = 0; i < x->nsel[K_TRACEPOINT]; i++) {
		const struct dc_event *ev = &x->events.v[x->sel[K_TRACEPOINT][i]];

		struct dc_buf b = { 0 };

		for (j = 0; j < ev->nfields; j++) {
			dc_buf_puts(&b, j ? ", " : " fields: ");
			dc_proto_decl(&b, ev->fields[j].type, ev->fields[j].name);
		}
		dc_buf_cstr(&b);
		fprintf(f, "#   %s:%s%s", ev->system, ev->name,
			tracepoint_ok(x, ev) > 0 ? "" : " (does not attach here)");
		put_safe(f, b.p ? b.p : "");
		fputc('\n', f);
		dc_buf_free(&b);
	}
}

static int kfunc_comments(struct explore *x, FILE *f)
{
	struct dc_buf b = { 0 };
	size_t i;
	int err = 0;

	fprintf(f, "# Kernel functions (datacrumbs-generate has no kprobe kind yet; here: %s):\n",
		kfunc_ok(x) > 0 ? "they attach" : "they do not attach");
	for (i = 0; !err && i < x->nsel[K_KFUNC]; i++) {
		const struct dc_kfunc *k = &x->kfuncs.v[x->sel[K_KFUNC][i]];

		err = kfunc_proto_text(x, k, &b);
		fprintf(f, "#   ");
		put_safe(f, b.len ? b.p : k->name);
		fputc('\n', f);
	}
	dc_buf_free(&b);
	return err;
}

int print_yaml(struct explore *x, FILE *f)
{
	char mod[64];
	size_t nfuncs = 0, nsys = 0;
	int err = 0;

	if (x->elf)
		module_name(x->path, mod, sizeof(mod));
	else
		snprintf(mod, sizeof(mod), "kernel");
	fprintf(f, "# Generated by datacrumbs-explore");
	if (x->elf) {
		fprintf(f, " from ");
		put_safe(f, x->path);
		fprintf(f, " (build-id %s)", x->elf->build_id[0] ? x->elf->build_id : "none");
	}
	if (x->dwarf) {
		fprintf(f, "\n# Argument captures proposed from the DWARF prototypes in ");
		put_safe(f, dc_dwarf__path(x->dwarf));
	}
	fprintf(f, "\nmodule: %s\nprobes:\n", mod);
	if (want(x, K_FUNCTION) && x->nsel[K_FUNCTION])
		nfuncs = function_group(x, f, mod);
	if (want(x, K_SYSCALL) && x->nsel[K_SYSCALL])
		err = syscall_group(x, f, &nsys);
	if (!err && want(x, K_USDT) && x->nsel[K_USDT])
		usdt_comments(x, f);
	if (!err && want(x, K_TRACEPOINT) && x->nsel[K_TRACEPOINT])
		tracepoint_comments(x, f);
	if (!err && want(x, K_KFUNC) && x->nsel[K_KFUNC])
		err = kfunc_comments(x, f);
	if (!err && !nfuncs && !nsys)
		err = dc_err(-ENOENT,
			     "nothing to put in a config: no function or system call selected that "
			     "datacrumbs-generate can probe (it has no kinds for USDT probes, "
			     "tracepoints or kernel functions yet; --json lists them)");
	return err;
}
