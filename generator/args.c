// SPDX-License-Identifier: MIT
/*
 * Resolves the argument sources of a config entry ("2", "*4", "count",
 * "file->f_inode->i_ino", a tracepoint field) into capture sources, with
 * the kind's own knowledge: arities, tracefs layouts, the kernel's BTF.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_err.h"
#include "gen.h"

static int arg_err(const struct dc_config *cfg, const struct dc_argspec *a, int code)
{
	return dc_config__err(cfg, a->loc, code, "%s", dc_errmsg(code));
}

/* A tracepoint field, from the entry event or else the exit event; exit.F is the exit's. */
static int tp_src(const struct gen_argctx *ax, const char *name, bool string, struct dc_src *s)
{
	bool exit_only = !strncmp(name, "exit.", 5), at_exit = exit_only;
	const char *where = ax->xtp ? " (at entry or exit)" : "";
	const struct dc_tpfield *f = NULL;

	if (exit_only && !ax->xtp)
		return dc_err(-EINVAL,
			      "'%s' names an exit event's field, but the tracepoint is not a pair",
			      name);
	if (exit_only) {
		name += 5;
		where = " at exit";
	} else {
		f = dc_tpformat__field(ax->tp, name);
	}
	if (!f && ax->xtp) {
		f = dc_tpformat__field(ax->xtp, name);
		at_exit = true;
	}
	if (!f)
		return dc_err(-ENOENT, "the tracepoint has no field '%s'%s", name, where);
	memset(s, 0, sizeof(*s));
	s->off = f->off;
	s->at_exit = at_exit;
	if (f->data_loc) {
		if (!string)
			return dc_err(-EINVAL, "'%s' is a string: only 'path' can take it", name);
		s->how = DC_SRC_TPSTR;
		s->size = 4;
		return 0;
	}
	if (f->array)
		return dc_err(-EINVAL, "'%s' is an array, which cannot be captured", name);
	if (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8)
		return dc_err(-EINVAL, "'%s' has %u bytes: not a number", name, f->size);
	if (string && (!f->pointer || f->size != 8))
		return dc_err(-EINVAL, "'%s' is not a string pointer", name);
	s->how = DC_SRC_TP;
	s->size = f->size;
	s->is_signed = f->is_signed;
	/* System call records widen every argument to a long, ints included. */
	s->i32 = f->size == 8 && !strcmp(f->type, "int");
	return 0;
}

/* A kernel function's parameter by index or name, or a CO-RE path from one. */
static int kfunc_src(const struct gen_argctx *ax, const char *ref, bool string, struct dc_src *s)
{
	const struct gen_kfunc *fn = ax->fn;
	const char *arrow = strstr(ref, "->");
	char head[128];
	int i, n = arrow ? (int)(arrow - ref) : (int)strlen(ref);

	snprintf(head, sizeof(head), "%.*s", n, ref);
	if (head[0] >= '0' && head[0] <= '9') {
		i = atoi(head);
		if (fn && i >= fn->nparams)
			return dc_err(-EINVAL, "%s takes %d arguments: there is no argument %d",
				      fn->name, fn->nparams, i);
	} else {
		if (!fn)
			return dc_err(-ENOENT, "parameter names need the function in the kernel's "
					       "BTF: give an index");
		for (i = 0; i < fn->nparams && strcmp(fn->pname[i], head); i++)
			;
		if (i == fn->nparams)
			return dc_err(-ENOENT, "%s has no parameter '%s'", fn->name, head);
	}
	if (i >= DC_ARG_MAX)
		return dc_err(-EINVAL, "argument %d is past the %d a probe can read", i,
			      DC_ARG_MAX);
	if (arrow) {
		if (!fn)
			return dc_err(-ENOENT,
				      "a path like %s needs the function in the "
				      "kernel's BTF",
				      ref);
		return gen_kbtf__chain(ax->kbtf, fn, i, arrow + 2, string, s);
	}
	memset(s, 0, sizeof(*s));
	s->how = DC_SRC_ARG;
	s->arg = i;
	if (fn && !fn->psize[i])
		return dc_err(-EINVAL, "parameter '%s' of %s is passed by value and cannot be read",
			      fn->pname[i], fn->name);
	/* Ints come in 64-bit registers whose high half is not defined. */
	if (fn && fn->psize[i] == 4 && !string)
		s->i32 = fn->psigned[i];
	return 0;
}

static int index_src(const struct gen_argctx *ax, const char *ref, struct dc_src *s)
{
	memset(s, 0, sizeof(*s));
	s->how = ref[0] == '*' ? DC_SRC_DEREF : DC_SRC_ARG;
	s->arg = atoi(ref + (ref[0] == '*'));
	if (ax->nargs >= 0 && s->arg >= ax->nargs)
		return dc_err(-EINVAL, "%s takes %d argument%s: there is no argument %d", ax->name,
			      ax->nargs, ax->nargs == 1 ? "" : "s", s->arg);
	return 0;
}

static int resolve_src(const struct gen_argctx *ax, const char *ref, bool string, struct dc_src *s)
{
	switch (ax->kind) {
	case DC_KIND_TRACEPOINT:
		return tp_src(ax, ref, string, s);
	case DC_KIND_KPROBE:
	case DC_KIND_FENTRY:
		return kfunc_src(ax, ref, string, s);
	default:
		return index_src(ax, ref, s);
	}
}

/* The entry and exit fields named @name, which join the two ends of a keyed pair. */
static int key_src(const struct gen_argctx *ax, const char *name, struct dc_src *k,
		   struct dc_src *xk)
{
	const struct dc_tpformat *tp[2] = { ax->tp, ax->xtp };
	struct dc_src *out[2] = { k, xk };
	int i;

	for (i = 0; i < 2; i++) {
		const struct dc_tpfield *f = dc_tpformat__field(tp[i], name);

		if (!f)
			return dc_err(-ENOENT, "key field '%s' is not in the %s event", name,
				      i ? "exit" : "entry");
		if (f->array || f->data_loc ||
		    (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8))
			return dc_err(-EINVAL, "key field '%s' is not a number", name);
		memset(out[i], 0, sizeof(*out[i]));
		out[i]->how = DC_SRC_TP;
		out[i]->off = f->off;
		out[i]->size = f->size;
		out[i]->is_signed = f->is_signed;
		out[i]->at_exit = i == 1;
	}
	return 0;
}

void gen_tp_default(const struct gen_argctx *ax, struct dc_capture *out)
{
	const struct dc_tpfield *r = ax->xtp ? dc_tpformat__field(ax->xtp, "ret") : NULL;

	dc_capture_init(out);
	if (r && !r->array && !r->data_loc && (r->size == 4 || r->size == 8)) {
		out->ret_src.how = DC_SRC_TP;
		out->ret_src.off = r->off;
		out->ret_src.size = r->size;
		out->ret_src.is_signed = r->is_signed;
		out->ret_src.at_exit = true;
	}
}

/* What a capture may not combine, found once everything is resolved. */
static int capture_checks(const struct dc_config *cfg, const struct dc_fnspec *fs,
			  const struct gen_argctx *ax, const struct dc_capture *c)
{
	if (c->closes && c->handle < 0)
		return dc_config__err(cfg, fs->loc, -EINVAL,
				      "closes needs the handle it closes as a field (fd, stream, "
				      "mpi_file or hid)");
	if (c->handle >= 0 && c->field[c->handle].src.at_exit)
		return dc_config__err(cfg, fs->loc, -EINVAL,
				      "the file handle must be a field of the entry event");
	if (c->path.how != DC_SRC_NONE && c->path.at_exit)
		return dc_config__err(cfg, fs->loc, -EINVAL,
				      "the path must be a field of the entry event");
	if (ax->kind == DC_KIND_TRACEPOINT && !ax->xtp &&
	    (c->ret == DC_RET_HANDLE || c->closes || fs->has_ret))
		return dc_config__err(cfg, fs->has_ret ? fs->ret_loc : fs->loc, -EINVAL,
				      "a point event has no return value: ret and closes need an "
				      "exit event");
	if (fs->nkey && (c->ret == DC_RET_HANDLE || c->closes || c->handle >= 0))
		return dc_config__err(cfg, fs->key_loc, -EINVAL,
				      "the ends of a keyed pair may run in other processes, so it "
				      "cannot track file handles");
	if (ax->kind == DC_KIND_TRACEPOINT && fs->has_ret && c->ret_src.how == DC_SRC_NONE)
		return dc_config__err(cfg, fs->ret_loc, -EINVAL,
				      "the exit event has no 'ret' field to take the return value "
				      "from");
	return 0;
}

int gen_capture(const struct dc_config *cfg, const struct dc_fnspec *fs,
		const struct gen_argctx *ax, struct dc_capture *out)
{
	struct dc_src s;
	size_t i;
	int err;

	if (ax->kind == DC_KIND_TRACEPOINT)
		gen_tp_default(ax, out);
	else
		dc_capture_init(out);
	for (i = 0; i < fs->nargs; i++) {
		const struct dc_argspec *a = &fs->args[i];

		if (ax->kind == DC_KIND_CUSTOM) {
			memset(&s, 0, sizeof(s));
			s.how = DC_SRC_ARG;
			s.arg = i;
		} else {
			err = resolve_src(ax, a->ref, !strcmp(a->name, "path"), &s);
			if (err)
				return arg_err(cfg, a, err);
		}
		err = dc_capture_add(out, a->name, &s);
		if (err)
			return arg_err(cfg, a, err);
	}
	if (fs->has_ret) {
		out->ret_i32 = fs->ret_i32;
		if (fs->ret_ns >= 0) {
			out->ret = DC_RET_HANDLE;
			out->ret_ns = fs->ret_ns;
		}
	}
	if (fs->has_out) {
		err = index_src(ax, fs->out.ref, &out->out);
		if (err)
			return arg_err(cfg, &fs->out, err);
		out->out.how = DC_SRC_DEREF;
		out->out_ns = dc_handle_ns(fs->out.name);
	}
	out->closes = fs->closes;
	for (i = 0; i < fs->nkey; i++) {
		err = key_src(ax, fs->key[i], &out->key[i], &out->xkey[i]);
		if (err)
			return dc_config__err(cfg, fs->key_loc, err, "%s", dc_errmsg(err));
		out->nkeys++;
	}
	return capture_checks(cfg, fs, ax, out);
}
