// SPDX-License-Identifier: MIT
/* --json: everything the table shows, and the details it leaves out. */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "dc_buf.h"
#include "dc_capture.h"
#include "explore.h"

/* Bytes that are not ASCII are escaped too: symbol names need not be UTF-8. */
static void str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void key(FILE *f, const char *k, bool *first)
{
	fprintf(f, "%s\"%s\":", *first ? "" : ",", k);
	*first = false;
}

static void kstr(FILE *f, const char *k, const char *v, bool *first)
{
	key(f, k, first);
	str(f, v);
}

static void knum(FILE *f, const char *k, unsigned long long v, bool *first)
{
	key(f, k, first);
	fprintf(f, "%llu", v);
}

static void kbool(FILE *f, const char *k, int v, bool *first)
{
	key(f, k, first);
	fputs(v > 0 ? "true" : v == 0 ? "false" : "null", f);
}

static void params(FILE *f, const struct dc_proto *p)
{
	unsigned int i;

	fputc('[', f);
	for (i = 0; i < p->nparams; i++) {
		bool first = true;

		fprintf(f, "%s{", i ? "," : "");
		kstr(f, "name", p->params[i].name, &first);
		kstr(f, "type", p->params[i].type, &first);
		fputc('}', f);
	}
	fputc(']', f);
}

static void capture(FILE *f, const struct dc_proto *p, bool syscall, bool *first)
{
	struct dc_hint h;
	unsigned int i;
	bool inner = true;

	dc_proto_hint(p, syscall, &h);
	key(f, "capture", first);
	fputs("{\"args\":{", f);
	for (i = 0; i < h.nfields; i++)
		fprintf(f, "%s\"%s\":%d", i ? "," : "", h.field[i].name, h.field[i].arg);
	if (h.path_arg >= 0)
		fprintf(f, "%s\"path\":%d", h.nfields ? "," : "", h.path_arg);
	fputc('}', f);
	inner = false;
	if (h.ret_long)
		kstr(f, "ret", "long", &inner);
	if (h.note[0])
		kstr(f, "left_out", h.note, &inner);
	fputc('}', f);
}

static void proto(FILE *f, const struct dc_proto *p, const char *name, bool syscall, bool *first)
{
	struct dc_buf b = { 0 };

	dc_proto_format(p, name, &b);
	kstr(f, "prototype", b.p, first);
	dc_buf_free(&b);
	kstr(f, "returns", p->ret, first);
	key(f, "params", first);
	params(f, p);
	kbool(f, "variadic", p->variadic, first);
	capture(f, p, syscall, first);
}

static void symbol(FILE *f, const struct dc_func *fn, bool *first)
{
	kstr(f, "name", fn->name, first);
	kstr(f, "version", fn->version, first);
	kbool(f, "default_version", fn->version && !fn->hidden_version, first);
	kstr(f, "bind",
	     fn->bind == STB_WEAK  ? "weak" :
	     fn->bind == STB_LOCAL ? "local" :
				     "global",
	     first);
	key(f, "tables", first);
	fprintf(f, "[%s%s%s%s%s]", fn->sources & DC_SYM_DYNSYM ? "\"dynsym\"" : "",
		fn->sources & DC_SYM_DYNSYM && fn->sources & (DC_SYM_SYMTAB | DC_SYM_DEBUG) ? "," :
											      "",
		fn->sources & DC_SYM_SYMTAB ? "\"symtab\"" : "",
		fn->sources & DC_SYM_SYMTAB && fn->sources & DC_SYM_DEBUG ? "," : "",
		fn->sources & DC_SYM_DEBUG ? "\"debug\"" : "");
}

static void functions(struct explore *x, FILE *f)
{
	size_t i, j;

	fputs(",\"functions\":[", f);
	for (i = 0; i < x->nsel[K_FUNCTION]; i++) {
		const struct dc_site *s = sel_site(x, i);
		const struct dc_func *fn = site_func(x, s, 0);
		bool first = true;

		fprintf(f, "%s\n{", i ? "," : "");
		symbol(f, fn, &first);
		kbool(f, "ifunc", fn->ifunc, &first);
		kbool(f, "returns_twice", fn->returns_twice, &first);
		kbool(f, "reads_caller", fn->reads_caller, &first);
		knum(f, "offset", fn->offset, &first);
		knum(f, "address", fn->addr, &first);
		knum(f, "size", fn->size, &first);
		key(f, "aliases", &first);
		fputc('[', f);
		for (j = 1; j < s->n; j++) {
			bool inner = true;

			fprintf(f, "%s{", j > 1 ? "," : "");
			symbol(f, site_func(x, s, j), &inner);
			fputc('}', f);
		}
		fputc(']', f);
		if (x->has_proto && x->has_proto[i])
			proto(f, &x->protos[i], fn->name, false, &first);
		fputc('}', f);
	}
	fputs("]", f);
}

static void usdt(struct explore *x, FILE *f)
{
	struct dc_usdt_arg a[16];
	size_t i, j, n;

	fputs(",\"usdt\":[", f);
	for (i = 0; i < x->nsel[K_USDT]; i++) {
		const struct dc_usdt *u = &x->elf->usdt[x->sel[K_USDT][i]];
		bool first = true;

		fprintf(f, "%s\n{", i ? "," : "");
		kstr(f, "provider", u->provider, &first);
		kstr(f, "name", u->name, &first);
		knum(f, "offset", u->offset, &first);
		knum(f, "address", u->addr, &first);
		key(f, "semaphore_offset", &first);
		fprintf(f, u->sema_addr ? "%llu" : "null", (unsigned long long)u->sema_offset);
		kstr(f, "args", u->args, &first);
		key(f, "arguments", &first);
		fputc('[', f);
		n = dc_usdt_args(u->args, a, 16);
		for (j = 0; j < n; j++) {
			char loc[256];
			bool inner = true;

			snprintf(loc, sizeof(loc), "%.*s", (int)a[j].loclen, a[j].loc);
			fprintf(f, "%s{", j ? "," : "");
			knum(f, "size", a[j].size < 0 ? -a[j].size : a[j].size, &inner);
			kbool(f, "signed", a[j].size < 0, &inner);
			kstr(f, "location", loc, &inner);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("]", f);
}

static void kernel(struct explore *x, FILE *f)
{
	struct utsname u;
	enum dc_attach a;
	bool first = true;

	fputs(",\"kernel\":{", f);
	kstr(f, "release", uname(&u) == 0 ? u.release : NULL, &first);
	kstr(f, "tracefs", x->tracefs, &first);
	key(f, "attach", &first);
	fputc('{', f);
	for (a = 0; a < DC_ATTACH_COUNT; a++) {
		bool inner = true;

		fprintf(f, "%s\"%s\":{", a ? "," : "", dc_attach_name(a));
		kbool(f, "ok", x->caps.ok[a], &inner);
		kstr(f, "why", x->caps.why[a], &inner);
		fputc('}', f);
	}
	fputs("}}", f);
}

static int syscalls(struct explore *x, FILE *f)
{
	size_t i;
	int err = 0;

	fputs(",\"syscalls\":[", f);
	for (i = 0; !err && i < x->nsel[K_SYSCALL]; i++) {
		const struct syscall *s = &x->syscalls[x->sel[K_SYSCALL][i]];
		bool first = true;
		struct dc_proto p;

		err = syscall_proto(s, &p);
		if (err)
			break;
		fprintf(f, "%s\n{", i ? "," : "");
		kstr(f, "name", s->name, &first);
		kbool(f, "attachable", syscall_ok(x, s), &first);
		if (s->enter) {
			key(f, "args", &first);
			params(f, &p);
			capture(f, &p, true, &first);
		}
		fputc('}', f);
		dc_proto_free(&p);
	}
	fputs("]", f);
	return err;
}

static void tracepoints(struct explore *x, FILE *f)
{
	size_t i, j;

	fputs(",\"tracepoints\":[", f);
	for (i = 0; i < x->nsel[K_TRACEPOINT]; i++) {
		const struct dc_event *ev = &x->events.v[x->sel[K_TRACEPOINT][i]];
		bool first = true;

		fprintf(f, "%s\n{", i ? "," : "");
		kstr(f, "system", ev->system, &first);
		kstr(f, "name", ev->name, &first);
		key(f, "id", &first);
		fprintf(f, "%d", ev->id);
		kbool(f, "attachable", tracepoint_ok(x, ev), &first);
		key(f, "fields", &first);
		fputc('[', f);
		for (j = 0; j < ev->nfields; j++) {
			const struct dc_kfield *fl = &ev->fields[j];
			bool inner = true;

			fprintf(f, "%s{", j ? "," : "");
			kstr(f, "name", fl->name, &inner);
			kstr(f, "type", fl->type, &inner);
			knum(f, "offset", fl->offset, &inner);
			knum(f, "size", fl->size, &inner);
			kbool(f, "signed", fl->is_signed, &inner);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("]", f);
}

static int kfuncs(struct explore *x, FILE *f)
{
	int ok = kfunc_ok(x);
	size_t i;
	int err = 0;

	fputs(",\"kfuncs\":[", f);
	for (i = 0; !err && i < x->nsel[K_KFUNC]; i++) {
		const struct dc_kfunc *k = &x->kfuncs.v[x->sel[K_KFUNC][i]];
		bool first = true;
		struct dc_proto p;

		fprintf(f, "%s\n{", i ? "," : "");
		kstr(f, "name", k->name, &first);
		kstr(f, "module", dc_kfuncs__module(&x->kfuncs, k), &first);
		kbool(f, "attachable", ok, &first);
		err = dc_kfuncs__proto(&x->kfuncs, k, &p);
		if (!err)
			proto(f, &p, k->name, false, &first);
		dc_proto_free(&p);
		if (err == -ENOENT)
			err = 0;
		fputc('}', f);
	}
	fputs("]", f);
	return err;
}

static void counts(struct explore *x, FILE *f)
{
	enum kind k;
	bool first = true;

	fputs(",\n\"counts\":{", f);
	for (k = 0; k < K_COUNT; k++)
		if (want(x, k)) {
			knum(f, kind_name(k), x->matched[k], &first);
			if (x->nsel[k] < x->matched[k]) {
				char shown[32];

				snprintf(shown, sizeof(shown), "%s_shown", kind_name(k));
				knum(f, shown, x->nsel[k], &first);
			}
		}
	if (want(x, K_FUNCTION)) {
		knum(f, "function_names", x->names, &first);
		key(f, "symbols", &first);
		fprintf(f, "{\"dynsym\":%zu,\"symtab\":%zu,\"debug\":%zu}", x->elf->nsyms[0],
			x->elf->nsyms[1], x->elf->nsyms[2]);
	}
	fputc('}', f);
}

int print_json(struct explore *x, FILE *f)
{
	int err = 0;
	bool first = true;

	fputc('{', f);
	knum(f, "format", 1, &first);
	if (x->elf) {
		bool inner = true;

		fputs(",\"target\":{", f);
		kstr(f, "request", x->o.target, &inner);
		kstr(f, "path", x->path, &inner);
		kstr(f, "resolved_by", x->how, &inner);
		kstr(f, "type", dc_elf__type_name(x->elf), &inner);
		kstr(f, "build_id", x->elf->build_id[0] ? x->elf->build_id : NULL, &inner);
		kstr(f, "debug_file", x->elf->debug ? x->elf->debug->path : NULL, &inner);
		kstr(f, "prototypes_from", x->dwarf ? dc_dwarf__path(x->dwarf) : NULL, &inner);
		fputc('}', f);
	}
	if (want(x, K_FUNCTION))
		functions(x, f);
	if (want(x, K_USDT))
		usdt(x, f);
	if (x->o.kernel)
		kernel(x, f);
	if (want(x, K_SYSCALL))
		err = syscalls(x, f);
	if (!err && want(x, K_TRACEPOINT))
		tracepoints(x, f);
	if (!err && want(x, K_KFUNC))
		err = kfuncs(x, f);
	counts(x, f);
	fputs("}\n", f);
	return err;
}
