// SPDX-License-Identifier: MIT
/*
 * Rendering fills @NAME@ slots in templates/ with text made here from
 * numbers (class ids, argument indexes, tracepoint offsets) and, for CO-RE
 * reads, kernel type and member names checked against BTF: no name from a
 * config or a symbol table reaches the C source, so none can change its
 * meaning. The one exception is a custom hook's file, compiled as written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_err.h"
#include "dc_file.h"
#include "gen.h"

enum tmpl {
	T_PROLOGUE,
	T_UPROBE,
	T_SYSCALL,
	T_SYSCALL_TP,
	T_SYS_DISPATCH,
	T_KPROBE,
	T_FENTRY,
	T_TP_POINT,
	T_TP_PAIR,
	T_TP_KEYED,
	T_USDT_PROLOGUE,
	T_USDT_POINT,
	T_USDT_PAIR,
	T_HOOK,
	T_COUNT,
};

static const char *const tmpl_names[T_COUNT] = {
	[T_PROLOGUE] = "prologue.bpf.c.in",
	[T_UPROBE] = "uprobe.bpf.c.in",
	[T_SYSCALL] = "syscall.bpf.c.in",
	[T_SYSCALL_TP] = "syscall_tp.bpf.c.in",
	[T_SYS_DISPATCH] = "sys_dispatch.bpf.c.in",
	[T_KPROBE] = "kprobe.bpf.c.in",
	[T_FENTRY] = "fentry.bpf.c.in",
	[T_TP_POINT] = "tp_point.bpf.c.in",
	[T_TP_PAIR] = "tp_pair.bpf.c.in",
	[T_TP_KEYED] = "tp_keyed.bpf.c.in",
	[T_USDT_PROLOGUE] = "usdt_prologue.bpf.c.in",
	[T_USDT_POINT] = "usdt_point.bpf.c.in",
	[T_USDT_PAIR] = "usdt_pair.bpf.c.in",
	[T_HOOK] = "hook.bpf.c.in",
};

struct slot {
	const char *name;
	const char *value;
};

struct renderer {
	struct gen *g;
	const struct gen_dirs *d;
	struct dc_buf tmpl[T_COUNT];
	struct dc_buf *out;
	size_t line; /* lines in out so far */
};

static int read_template(struct renderer *r, enum tmpl t)
{
	char path[PATH_MAX + 64], chunk[4096];
	struct dc_buf *out = &r->tmpl[t];
	FILE *f;
	size_t n;
	int err;

	if (out->p)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", r->d->templates, tmpl_names[t]);
	err = dc_open_regular(path, &f);
	if (err)
		return err;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		dc_buf_put(out, chunk, n);
	err = ferror(f) ? dc_err(-EIO, "%s: read error", path) : out->err;
	fclose(f);
	return err ? err : dc_buf_cstr(out);
}

static size_t count_lines(const char *p, size_t n)
{
	size_t i, lines = 0;

	for (i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines;
}

/* Copies template @t into the output, replacing each @NAME@ by its slot's value. */
static int fill(struct renderer *r, enum tmpl t, const struct slot *slots)
{
	const char *p, *at, *end;
	size_t start = r->out->len;
	int err = read_template(r, t);

	if (err)
		return err;
	for (p = r->tmpl[t].p; (at = strchr(p, '@')); p = end + 1) {
		const struct slot *s;

		end = strchr(at + 1, '@');
		dc_buf_put(r->out, p, at - p);
		if (!end)
			return dc_err(-EINVAL, "template %s: unterminated @slot", tmpl_names[t]);
		for (s = slots; s->name; s++)
			if (strlen(s->name) == (size_t)(end - at - 1) &&
			    !strncmp(s->name, at + 1, end - at - 1))
				break;
		if (!s->name)
			return dc_err(-EINVAL, "template %s: unknown slot @%.*s@", tmpl_names[t],
				      (int)(end - at - 1), at + 1);
		dc_buf_puts(r->out, s->value);
	}
	dc_buf_puts(r->out, p);
	r->line += count_lines(r->out->p + start, r->out->len - start);
	return r->out->err;
}

static const char *tp_type(const struct dc_src *s)
{
	static const char *const u[] = {
		[1] = "__u8", [2] = "__u16", [4] = "__u32", [8] = "__u64"
	};
	static const char *const i[] = {
		[1] = "__s8", [2] = "__s16", [4] = "__s32", [8] = "__s64"
	};

	return s->is_signed ? i[s->size] : u[s->size];
}

/* CO-RE text is BTF names and separators only; anything else is a bug, not C. */
static bool core_ok(const char *s)
{
	return *s &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ .|") ==
		       strlen(s);
}

/* The C expression for a value: only numbers and checked names. */
static int src_expr(const struct dc_src *s, struct dc_buf *b)
{
	const char *bar;

	if (s->i32)
		dc_buf_puts(b, "(int)");
	switch (s->how) {
	case DC_SRC_ARG:
		return dc_buf_printf(b, "DC_ARG(%d)", s->arg);
	case DC_SRC_DEREF:
		return dc_buf_printf(b, "dc_user_u64((const void *)DC_ARG(%d))", s->arg);
	case DC_SRC_TP:
		if (s->size > 8 || !tp_type(s))
			return -EINVAL;
		return dc_buf_printf(b, "DC_TP(%s, %u)", tp_type(s), s->off);
	case DC_SRC_CORE:
		bar = strchr(s->core, '|');
		if (!bar || !core_ok(s->core))
			return dc_err(-EINVAL, "internal: bad CO-RE access");
		dc_buf_printf(b, "BPF_CORE_READ((%.*s *)DC_ARG(%d)", (int)(bar - s->core), s->core,
			      s->arg);
		for (; bar; bar = strchr(bar + 1, '|'))
			dc_buf_printf(b, ", %.*s", (int)strcspn(bar + 1, "|"), bar + 1);
		return dc_buf_puts(b, ")");
	}
	return dc_err(-EINVAL, "internal: no source");
}

static int path_line(const struct dc_src *s, struct dc_buf *b)
{
	if (s->how == DC_SRC_NONE)
		return 0;
	if (s->how == DC_SRC_TPSTR)
		return dc_buf_printf(b, "\tdc_cap_tpstr(f, ctx, %u);\n", s->off);
	dc_buf_puts(b, s->how == DC_SRC_CORE ? "\tdc_cap_kpath(f, (const void *)" :
					       "\tdc_cap_path(f, (const void *)");
	src_expr(s, b);
	return dc_buf_puts(b, ");\n");
}

static int field_lines(const struct dc_capture *c, bool at_exit, struct dc_buf *b)
{
	unsigned int i;
	int err = 0;

	for (i = 0; !err && i < c->nfields; i++) {
		if (c->field[i].src.at_exit != at_exit)
			continue;
		dc_buf_printf(b, "\tf->args[%u] = ", i);
		err = src_expr(&c->field[i].src, b);
		dc_buf_puts(b, ";\n");
	}
	return err;
}

/*
 * close(2) and fclose(3) release a descriptor or a stream whatever they
 * return; an MPI_File or a hid_t stays open if closing it fails.
 */
static bool survives_failed_close(const struct dc_capture *c)
{
	return c->handle_ns != DC_NS_FD && c->handle_ns != DC_NS_STREAM;
}

/*
 * A handle made from a path, from another of its kind (dup), or returned as a
 * new object (fdopen's FILE *) is a new number; fileno only names a stream's
 * descriptor.
 */
static bool fresh_handle(const struct dc_capture *c)
{
	return c->path.how != DC_SRC_NONE || (c->handle >= 0 && c->handle_ns == c->ret_ns) ||
	       c->ret_ns == DC_NS_STREAM || c->ret_ns == DC_NS_MPI_FILE;
}

static int capture_lines(const struct gen_class *k, struct dc_buf *b)
{
	const struct dc_capture *c = &k->cap;
	int err = field_lines(c, false, b);

	if (c->handle >= 0)
		dc_buf_printf(b, "\tdc_cap_handle(f, %u, f->args[%d]);\n", c->handle_ns, c->handle);
	if (c->closes)
		dc_buf_printf(b, "\tdc_handle_closing(f, %u);\n", c->handle_ns);
	if (!err)
		err = path_line(&c->path, b);
	if (c->out.how == DC_SRC_DEREF)
		dc_buf_printf(b, "\tf->handle = DC_ARG(%d);\n", c->out.arg);
	return err ? err : dc_buf_cstr(b);
}

static int return_lines(const struct gen_class *k, struct dc_buf *b)
{
	const struct dc_capture *c = &k->cap;
	int err = 0;

	/* The kernel hands system call results over as longs already. */
	if (c->ret_i32 && k->kind != DC_KIND_SYSCALL && c->ret_src.how == DC_SRC_NONE)
		dc_buf_puts(b, "\tret = (int)ret;\n");
	if (c->ret_src.how != DC_SRC_NONE) {
		dc_buf_puts(b, "\tret = ");
		err = src_expr(&c->ret_src, b);
		dc_buf_puts(b, ";\n");
	}
	if (!err)
		err = field_lines(c, true, b);
	if (c->ret == DC_RET_HANDLE)
		dc_buf_printf(b, "\tdc_handle_returned(f, %u, ret, %s);\n", c->ret_ns,
			      fresh_handle(c) ? "true" : "false");
	if (c->out.how == DC_SRC_DEREF)
		dc_buf_printf(b, "\tdc_handle_out(f, %u, ret);\n", c->out_ns);
	if (c->closes && survives_failed_close(c))
		dc_buf_printf(b, "\tdc_handle_kept(f, %u, ret);\n", c->handle_ns);
	return err ? err : dc_buf_cstr(b);
}

/* dc_key_mix(dc_key_mix(DC_FNV_OFFSET, a), b) over the key fields. */
static int key_expr(const struct dc_src *keys, unsigned int n, struct dc_buf *b)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++)
		dc_buf_puts(b, "dc_key_mix(");
	dc_buf_puts(b, "DC_FNV_OFFSET");
	for (i = 0; !err && i < n; i++) {
		dc_buf_puts(b, ", ");
		err = src_expr(&keys[i], b);
		dc_buf_puts(b, ")");
	}
	return err ? err : dc_buf_cstr(b);
}

static enum tmpl class_tmpl(const struct gen_class *c)
{
	switch (c->kind) {
	case DC_KIND_UPROBE:
		return T_UPROBE;
	case DC_KIND_SYSCALL:
		return T_SYSCALL;
	case DC_KIND_KPROBE:
		return T_KPROBE;
	case DC_KIND_FENTRY:
		return T_FENTRY;
	case DC_KIND_TRACEPOINT:
		return c->shape == GEN_POINT ? T_TP_POINT :
		       c->shape == GEN_KEYED ? T_TP_KEYED :
					       T_TP_PAIR;
	case DC_KIND_USDT:
		return c->shape == GEN_POINT ? T_USDT_POINT : T_USDT_PAIR;
	default:
		return T_COUNT;
	}
}

static int add_span(struct gen *g, size_t first, size_t last, const struct gen_origin *o,
		    const struct gen_hook *hook)
{
	struct gen_span *s;

	if (g->nspans == g->cap_spans) {
		size_t n = g->cap_spans ? g->cap_spans * 2 : 32;

		s = realloc(g->spans, n * sizeof(*s));
		if (!s)
			return -ENOMEM;
		g->spans = s;
		g->cap_spans = n;
	}
	g->spans[g->nspans++] = (struct gen_span){ first, last, *o, hook };
	return 0;
}

static int render_class(struct renderer *r, size_t i)
{
	const struct gen_class *c = &r->g->classes[i];
	struct dc_buf cap = { 0 }, ret = { 0 }, key = { 0 }, xkey = { 0 };
	char id[24], probe[24], retval[32];
	struct slot slots[] = { { "CLASS", id },      { "CAPTURE", "" },
				{ "RETURN", "" },     { "KEY", "" },
				{ "XKEY", "" },	      { "PROBE", probe },
				{ "RETVAL", retval }, {} };
	size_t first = r->line + 1;
	int err;

	snprintf(id, sizeof(id), "%zu", i);
	snprintf(probe, sizeof(probe), "%u", c->probe);
	if (c->ret_void)
		snprintf(retval, sizeof(retval), "0");
	else
		snprintf(retval, sizeof(retval), "ctx[%u]", c->nparams);
	err = capture_lines(c, &cap);
	if (!err)
		err = return_lines(c, &ret);
	if (!err && c->shape == GEN_KEYED)
		err = key_expr(c->cap.key, c->cap.nkeys, &key);
	if (!err && c->shape == GEN_KEYED)
		err = key_expr(c->cap.xkey, c->cap.nkeys, &xkey);
	if (!err) {
		slots[1].value = cap.len ? cap.p : "";
		slots[2].value = ret.len ? ret.p : "";
		slots[3].value = key.len ? key.p : "";
		slots[4].value = xkey.len ? xkey.p : "";
		err = fill(r, class_tmpl(c), slots);
	}
	if (!err && c->kind == DC_KIND_SYSCALL && c->sys_tp)
		err = fill(r, T_SYSCALL_TP, slots);
	if (!err)
		err = add_span(r->g, first, r->line, &c->origin, NULL);
	dc_buf_free(&cap);
	dc_buf_free(&ret);
	dc_buf_free(&key);
	dc_buf_free(&xkey);
	return err;
}

static int render_hook(struct renderer *r, const struct gen_hook *h)
{
	char base[24], count[24], last[24];
	struct dc_buf src = { 0 };
	struct slot slots[] = {
		{ "BASE", base }, { "COUNT", count }, { "LAST", last }, { "SOURCE", "" }, {}
	};
	const char *at;
	size_t first;
	int err = read_template(r, T_HOOK);

	if (err)
		return err;
	snprintf(base, sizeof(base), "%u", h->base);
	snprintf(count, sizeof(count), "%u", h->count);
	snprintf(last, sizeof(last), "%u", h->base + h->count - 1);
	/* The hook's own line 1 is the line @SOURCE@ is on. */
	at = strstr(r->tmpl[T_HOOK].p, "@SOURCE@");
	if (!at)
		return dc_err(-EINVAL, "template %s has no @SOURCE@", tmpl_names[T_HOOK]);
	first = r->line + 1 + count_lines(r->tmpl[T_HOOK].p, at - r->tmpl[T_HOOK].p);
	dc_buf_puts(&src, h->text);
	if (src.len && src.p[src.len - 1] != '\n')
		dc_buf_puts(&src, "\n");
	err = dc_buf_cstr(&src);
	if (!err) {
		slots[3].value = src.p ? src.p : "";
		err = fill(r, T_HOOK, slots);
	}
	if (!err)
		err = add_span(r->g, first, first + count_lines(h->text, strlen(h->text)),
			       &h->origin, h);
	dc_buf_free(&src);
	return err;
}

/* The programs of the system calls traced by number, when there are any. */
static int render_dispatch(struct renderer *r)
{
	struct dc_buf table = { 0 }, enter = { 0 }, leave = { 0 };
	struct slot slots[] = { { "TABLE", "" }, { "ENTER", "" }, { "EXIT", "" }, {} };
	const struct gen *g = r->g;
	size_t i;
	int err = 0;

	for (i = 0; i < g->man.nprobes; i++) {
		const struct dc_mprobe *p = &g->man.probes[i];

		if (p->kind == 's' && p->sys_raw)
			dc_buf_printf(&table, "\t[%" PRIu32 "] = { %" PRIu32 ", %" PRIu32 " },\n",
				      p->sysnr, p->id + 1, p->cls);
	}
	for (i = 0; i < g->nclasses; i++) {
		if (!g->classes[i].sys_raw)
			continue;
		dc_buf_printf(&enter,
			      "\tcase %zu:\n\t\tdc_c%zu_enter(regs, true, e->probe1 - 1);\n"
			      "\t\tbreak;\n",
			      i, i);
		dc_buf_printf(&leave, "\tcase %zu:\n\t\tret = dc_c%zu_leave(f, ret);\n\t\tbreak;\n",
			      i, i);
	}
	if (table.len) {
		err = dc_buf_cstr(&table);
		if (!err)
			err = dc_buf_cstr(&enter);
		if (!err)
			err = dc_buf_cstr(&leave);
	}
	if (table.len && !err) {
		slots[0].value = table.p;
		slots[1].value = enter.p;
		slots[2].value = leave.p;
		err = fill(r, T_SYS_DISPATCH, slots);
	}
	dc_buf_free(&table);
	dc_buf_free(&enter);
	dc_buf_free(&leave);
	return err;
}

int gen__render(struct gen *g, const struct gen_dirs *d, struct dc_buf *out)
{
	const struct slot none[] = { { NULL, NULL } };
	struct renderer r = { .g = g, .d = d, .out = out };
	bool usdt = false;
	size_t i;
	int err;

	g->nspans = 0;
	err = fill(&r, T_PROLOGUE, none);
	for (i = 0; !err && i < g->nclasses; i++) {
		if (g->classes[i].kind == DC_KIND_USDT && !usdt) {
			usdt = true;
			err = fill(&r, T_USDT_PROLOGUE, none);
		}
		if (!err)
			err = render_class(&r, i);
	}
	if (!err)
		err = render_dispatch(&r);
	for (i = 0; !err && i < g->nhooks; i++)
		err = render_hook(&r, &g->hooks[i]);
	for (i = 0; i < T_COUNT; i++)
		dc_buf_free(&r.tmpl[i]);
	return err ? err : dc_buf_cstr(out);
}
