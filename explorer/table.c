// SPDX-License-Identifier: MIT
/* The default output: one aligned table per kind, each with a count line. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "dc_buf.h"
#include "explore.h"

/* Wider cells overflow their column rather than push every row right. */
#define MAX_WIDTH 40

/* Cells are kept NUL-separated in one buffer: tables run to 70,000 rows. */
struct tab {
	size_t ncols;
	struct dc_buf text;
	size_t *off; /* where each cell starts in text */
	size_t n, cap;
	int err;
};

/* Adds a cell; bytes a terminal would act on are shown as \xNN. */
static void cell(struct tab *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cell(struct tab *t, const char *fmt, ...)
{
	char small[512], *s = small;
	va_list ap;
	int n;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		size_t *off = realloc(t->off, cap * sizeof(*off));

		if (!off) {
			t->err = -ENOMEM;
			return;
		}
		t->off = off;
		t->cap = cap;
	}
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(small)) {
		va_start(ap, fmt);
		n = vasprintf(&s, fmt, ap);
		va_end(ap);
	}
	if (n < 0) {
		t->err = -ENOMEM;
		return;
	}
	t->off[t->n++] = t->text.len;
	for (char *p = s, *run = s;; p++) {
		unsigned char ch = *p;

		if (ch >= 0x20 && ch < 0x7f)
			continue;
		dc_buf_put(&t->text, run, p - run);
		if (!ch)
			break;
		dc_buf_printf(&t->text, "\\x%02x", ch);
		run = p + 1;
	}
	dc_buf_put(&t->text, "", 1);
	if (s != small)
		free(s);
	if (t->text.err)
		t->err = t->text.err;
}

static int tab_print(struct tab *t, FILE *f)
{
	size_t w[16] = { 0 }, i, c;

	for (i = 0; !t->err && i < t->n; i++) {
		size_t len = strlen(t->text.p + t->off[i]);

		c = i % t->ncols;
		if (len > w[c])
			w[c] = len > MAX_WIDTH ? MAX_WIDTH : len;
	}
	/* Only the header: leave the count line to speak. */
	for (i = 0; !t->err && t->n > t->ncols && i < t->n; i++) {
		c = i % t->ncols;
		if (c + 1 == t->ncols)
			fprintf(f, "%s\n", t->text.p + t->off[i]);
		else
			fprintf(f, "%-*s  ", (int)w[c], t->text.p + t->off[i]);
	}
	dc_buf_free(&t->text);
	free(t->off);
	return t->err;
}

static void shown(FILE *f, const struct explore *x, enum kind k, const char *what)
{
	fprintf(f, "# %zu %s", x->matched[k], what);
	if (x->nsel[k] < x->matched[k])
		fprintf(f, ", first %zu shown", x->nsel[k]);
}

static void flags_of(const struct dc_func *fn, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s", fn->sources & DC_SYM_DYNSYM ? "+dynsym" : "",
		 fn->sources & DC_SYM_SYMTAB ? "+symtab" : "",
		 fn->sources & DC_SYM_DEBUG ? "+debug" : "");
}

static const char *bind_name(const struct dc_func *fn)
{
	return fn->bind == STB_WEAK ? "weak" : fn->bind == STB_LOCAL ? "local" : "global";
}

/* Aliases, with their version when it differs from the preferred name's. */
static void aliases(const struct explore *x, const struct dc_site *s, struct dc_buf *b)
{
	const struct dc_func *first = site_func(x, s, 0);
	size_t j;

	for (j = 1; j < s->n; j++) {
		const struct dc_func *a = site_func(x, s, j);
		bool same = (!a->version && !first->version) ||
			    (a->version && first->version && !strcmp(a->version, first->version) &&
			     a->hidden_version == first->hidden_version);

		dc_buf_printf(b, "%s%s", j > 1 ? "," : "", a->name);
		if (a->version && !same)
			dc_buf_printf(b, "%s%s", a->hidden_version ? "@" : "@@", a->version);
	}
	if (s->n < 2)
		dc_buf_puts(b, "-");
	dc_buf_cstr(b);
}

static int functions(struct explore *x, FILE *f)
{
	bool protos = x->protos != NULL;
	struct tab t = { .ncols = protos ? 9 : 8 };
	struct dc_buf b = { 0 };
	size_t i;
	int err;

	cell(&t, "FUNCTION");
	cell(&t, "VERSION");
	cell(&t, "OFFSET");
	cell(&t, "SIZE");
	cell(&t, "TYPE");
	cell(&t, "BIND");
	cell(&t, "FROM");
	cell(&t, "ALIASES");
	if (protos)
		cell(&t, "PROTOTYPE");
	for (i = 0; i < x->nsel[K_FUNCTION]; i++) {
		const struct dc_site *s = sel_site(x, i);
		const struct dc_func *fn = site_func(x, s, 0);
		char from[32];

		flags_of(fn, from, sizeof(from));
		cell(&t, "%s", fn->name);
		cell(&t, "%s%s", fn->hidden_version ? "@" : "", fn->version ? fn->version : "-");
		cell(&t, "0x%llx", (unsigned long long)fn->offset);
		cell(&t, "%llu", (unsigned long long)fn->size);
		cell(&t, "%s",
		     fn->ifunc	       ? "ifunc" :
		     fn->returns_twice ? "twice" :
		     fn->reads_caller  ? "caller" :
					 "func");
		cell(&t, "%s", bind_name(fn));
		cell(&t, "%s", from + 1);
		b.len = 0;
		aliases(x, s, &b);
		cell(&t, "%s", b.p ? b.p : "-");
		if (protos) {
			b.len = 0;
			if (x->has_proto[i])
				dc_proto_format(&x->protos[i], fn->name, &b);
			cell(&t, "%s", x->has_proto[i] && b.p ? b.p : "-");
		}
	}
	dc_buf_free(&b);
	err = tab_print(&t, f);
	shown(f, x, K_FUNCTION, "functions");
	fprintf(f, " (%zu names)\n", x->names);
	return err;
}

static int usdt(struct explore *x, FILE *f)
{
	struct tab t = { .ncols = 4 };
	size_t i;
	int err;

	cell(&t, "USDT");
	cell(&t, "OFFSET");
	cell(&t, "SEMAPHORE");
	cell(&t, "ARGUMENTS");
	for (i = 0; i < x->nsel[K_USDT]; i++) {
		const struct dc_usdt *u = &x->elf->usdt[x->sel[K_USDT][i]];

		cell(&t, "%s:%s", u->provider, u->name);
		cell(&t, "0x%llx", (unsigned long long)u->offset);
		if (u->sema_addr)
			cell(&t, "0x%llx", (unsigned long long)u->sema_offset);
		else
			cell(&t, "-");
		cell(&t, "%s", *u->args ? u->args : "-");
	}
	err = tab_print(&t, f);
	shown(f, x, K_USDT, "USDT probes");
	fputc('\n', f);
	return err;
}

static const char *yes_no(int ok)
{
	return ok > 0 ? "yes" : ok == 0 ? "no" : "?";
}

/* "type name, type name" of a prototype's parameters. */
static void params_of(const struct dc_proto *p, struct dc_buf *b)
{
	unsigned int i;

	b->len = 0;
	for (i = 0; i < p->nparams; i++) {
		if (i)
			dc_buf_puts(b, ", ");
		dc_proto_decl(b, p->params[i].type, p->params[i].name);
	}
	dc_buf_cstr(b);
}

static int syscalls(struct explore *x, FILE *f)
{
	struct tab t = { .ncols = 3 };
	struct dc_buf b = { 0 };
	size_t i;
	int err = 0;

	cell(&t, "SYSCALL");
	cell(&t, "ATTACH");
	cell(&t, "ARGUMENTS");
	for (i = 0; !err && i < x->nsel[K_SYSCALL]; i++) {
		const struct syscall *s = &x->syscalls[x->sel[K_SYSCALL][i]];
		struct dc_proto p;

		err = syscall_proto(s, &p);
		if (err)
			break;
		params_of(&p, &b);
		cell(&t, "%s", s->name);
		cell(&t, "%s", yes_no(syscall_ok(x, s)));
		cell(&t, "%s", b.len ? b.p : s->enter ? "void" : "?");
		dc_proto_free(&p);
	}
	dc_buf_free(&b);
	if (err)
		t.err = err;
	err = tab_print(&t, f);
	shown(f, x, K_SYSCALL, "system calls");
	fputc('\n', f);
	return err;
}

static int tracepoints(struct explore *x, FILE *f)
{
	struct tab t = { .ncols = 4 };
	struct dc_buf b = { 0 };
	size_t i, j;
	int err;

	cell(&t, "TRACEPOINT");
	cell(&t, "ID");
	cell(&t, "ATTACH");
	cell(&t, "FIELDS");
	for (i = 0; i < x->nsel[K_TRACEPOINT]; i++) {
		const struct dc_event *ev = &x->events.v[x->sel[K_TRACEPOINT][i]];

		b.len = 0;
		for (j = 0; j < ev->nfields; j++) {
			if (j)
				dc_buf_puts(&b, ", ");
			dc_proto_decl(&b, ev->fields[j].type, ev->fields[j].name);
		}
		dc_buf_cstr(&b);
		cell(&t, "%s:%s", ev->system, ev->name);
		cell(&t, "%d", ev->id);
		cell(&t, "%s", yes_no(tracepoint_ok(x, ev)));
		cell(&t, "%s", b.len ? b.p : "-");
	}
	dc_buf_free(&b);
	err = tab_print(&t, f);
	shown(f, x, K_TRACEPOINT, "tracepoints");
	fprintf(f, " (%zu system%s)\n", x->tp_systems, x->tp_systems == 1 ? "" : "s");
	return err;
}

static int kfuncs(struct explore *x, FILE *f)
{
	struct tab t = { .ncols = 4 };
	struct dc_buf b = { 0 };
	const char *ok = yes_no(kfunc_ok(x));
	size_t i;
	int err = 0;

	cell(&t, "KFUNC");
	cell(&t, "MODULE");
	cell(&t, "ATTACH");
	cell(&t, "PROTOTYPE");
	for (i = 0; !err && i < x->nsel[K_KFUNC]; i++) {
		const struct dc_kfunc *k = &x->kfuncs.v[x->sel[K_KFUNC][i]];

		err = kfunc_proto_text(x, k, &b);
		cell(&t, "%s", k->name);
		cell(&t, "%s", dc_kfuncs__module(&x->kfuncs, k));
		cell(&t, "%s", ok);
		cell(&t, "%s", b.len ? b.p : "-");
	}
	dc_buf_free(&b);
	if (err)
		t.err = err;
	err = tab_print(&t, f);
	shown(f, x, K_KFUNC, "kernel functions");
	fputc('\n', f);
	return err;
}

static void elf_header(const struct explore *x, FILE *f)
{
	const struct dc_elf *e = x->elf;

	fprintf(f, "# ");
	put_safe(f, x->path);
	fprintf(f, "\n# %s, from '", dc_elf__type_name(e));
	put_safe(f, x->o.target);
	fprintf(f, "' through ");
	put_safe(f, x->how);
	fprintf(f, "; build-id %s\n", e->build_id[0] ? e->build_id : "none");
	if (e->debug) {
		fprintf(f, "# debug file ");
		put_safe(f, e->debug->path);
		fputc('\n', f);
	}
	if (x->dwarf) {
		fprintf(f, "# prototypes from ");
		put_safe(f, dc_dwarf__path(x->dwarf));
		fputc('\n', f);
	}
}

static void kernel_header(const struct explore *x, FILE *f)
{
	struct utsname u;
	enum dc_attach a;

	if (uname(&u) == 0)
		fprintf(f, "# kernel %s, tracefs %s\n", u.release,
			x->tracefs ? x->tracefs : "not available");
	for (a = 0; a < DC_ATTACH_COUNT; a++)
		fprintf(f, "# %s: %s\n", dc_attach_name(a), x->caps.why[a]);
}

int print_table(struct explore *x, FILE *f)
{
	static int (*const printers[K_COUNT])(struct explore *, FILE *) = {
		functions, usdt, syscalls, tracepoints, kfuncs,
	};
	enum kind k;
	int err = 0;
	bool first = true;

	if (x->elf)
		elf_header(x, f);
	if (x->o.kernel)
		kernel_header(x, f);
	for (k = 0; !err && k < K_COUNT; k++) {
		if (!want(x, k))
			continue;
		if (!first)
			fputc('\n', f);
		first = false;
		err = printers[k](x, f);
	}
	return err;
}
