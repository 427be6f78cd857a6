// SPDX-License-Identifier: MIT
/*
 * Rendering fills @NAME@ slots in templates/ with text made here only from
 * numbers (class ids, argument indexes): no name from a config or a symbol
 * table ever reaches the C source, so none can change its meaning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_err.h"
#include "dc_file.h"
#include "gen.h"

struct slot {
	const char *name;
	const char *value;
};

static int read_template(const struct gen_dirs *d, const char *name, struct dc_buf *out)
{
	char path[PATH_MAX + 64], chunk[4096];
	FILE *f;
	size_t n;
	int err;

	snprintf(path, sizeof(path), "%s/%s", d->templates, name);
	err = dc_open_regular(path, &f);
	if (err)
		return err;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		dc_buf_put(out, chunk, n);
	err = ferror(f) ? dc_err(-EIO, "%s: read error", path) : out->err;
	fclose(f);
	return err ? err : dc_buf_cstr(out);
}

/* Copies @tmpl into @out, replacing each @NAME@ by its slot's value. */
static int fill(const char *tname, const char *tmpl, const struct slot *slots, struct dc_buf *out)
{
	const char *p = tmpl, *at, *end;

	while ((at = strchr(p, '@'))) {
		const struct slot *s;

		end = strchr(at + 1, '@');
		dc_buf_put(out, p, at - p);
		if (!end)
			return dc_err(-EINVAL, "template %s: unterminated @slot", tname);
		for (s = slots; s->name; s++)
			if (strlen(s->name) == (size_t)(end - at - 1) &&
			    !strncmp(s->name, at + 1, end - at - 1))
				break;
		if (!s->name)
			return dc_err(-EINVAL, "template %s: unknown slot @%.*s@", tname,
				      (int)(end - at - 1), at + 1);
		dc_buf_puts(out, s->value);
		p = end + 1;
	}
	dc_buf_puts(out, p);
	return out->err;
}

static void capture_lines(const struct dc_capture *c, struct dc_buf *b)
{
	unsigned int i;

	for (i = 0; i < c->nfields; i++)
		dc_buf_printf(b, "\tf->args[%u] = %sDC_ARG(%d);\n", i,
			      c->field[i].i32 ? "(int)" : "", c->field[i].arg);
	if (c->fd_arg >= 0)
		dc_buf_printf(b, "\tdc_cap_fd(f, DC_ARG(%d));\n", c->fd_arg);
	if (c->path_arg >= 0)
		dc_buf_printf(b, "\tdc_cap_path(f, (const void *)DC_ARG(%d));\n", c->path_arg);
	dc_buf_cstr(b);
}

static void return_lines(const struct dc_capture *c, enum dc_kind kind, struct dc_buf *b)
{
	/* The kernel hands system call results over as longs already. */
	if (c->ret_i32 && kind == DC_KIND_UPROBE)
		dc_buf_puts(b, "\tret = (int)ret;\n");
	if (c->ret == DC_RET_FD)
		dc_buf_puts(b, "\tdc_fd_opened(f, ret);\n");
	if (c->closes)
		dc_buf_puts(b, "\tdc_fd_closed(f, ret);\n");
	dc_buf_cstr(b);
}

int gen__render(const struct gen *g, const struct gen_dirs *d, struct dc_buf *out)
{
	static const char *const names[] = {
		[DC_KIND_UPROBE] = "uprobe.bpf.c.in", [DC_KIND_SYSCALL] = "syscall.bpf.c.in"
	};
	struct dc_buf prologue = { 0 }, tmpl[2] = { { 0 } };
	const struct slot none[] = { { NULL, NULL } };
	size_t i;
	int err;

	err = read_template(d, "prologue.bpf.c.in", &prologue);
	for (i = 0; !err && i < 2; i++)
		err = read_template(d, names[i], &tmpl[i]);
	if (!err)
		err = fill("prologue.bpf.c.in", prologue.p, none, out);
	for (i = 0; !err && i < g->nclasses; i++) {
		const struct gen_class *c = &g->classes[i];
		struct dc_buf cap = { 0 }, ret = { 0 };
		char id[24];
		struct slot slots[] = { { "CLASS", id }, { "CAPTURE", "" }, { "RETURN", "" }, {} };

		snprintf(id, sizeof(id), "%zu", i);
		capture_lines(&c->cap, &cap);
		return_lines(&c->cap, c->kind, &ret);
		err = cap.err ? cap.err : ret.err;
		if (!err) {
			slots[1].value = cap.len ? cap.p : "";
			slots[2].value = ret.len ? ret.p : "";
			err = fill(names[c->kind], tmpl[c->kind].p, slots, out);
		}
		dc_buf_free(&cap);
		dc_buf_free(&ret);
	}
	dc_buf_free(&prologue);
	dc_buf_free(&tmpl[0]);
	dc_buf_free(&tmpl[1]);
	return err;
}
