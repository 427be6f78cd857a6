// SPDX-License-Identifier: MIT
#include <bpf/btf.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_btf.h"
#include "dc_err.h"

#define BTF_DIR "/sys/kernel/btf"

static int add(struct dc_kfuncs *k, size_t *cap, const char *name, uint32_t module, uint32_t id)
{
	if (k->n == *cap) {
		size_t n = *cap ? *cap * 2 : 4096;
		struct dc_kfunc *v = realloc(k->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->v = v;
		*cap = n;
	}
	k->v[k->n++] = (struct dc_kfunc){ name, module, id };
	return 0;
}

/* The functions @btf adds to its base (all of them for vmlinux). */
static int add_funcs(struct dc_kfuncs *k, size_t *cap, const struct btf *btf, uint32_t first,
		     uint32_t module)
{
	uint32_t i, n = btf__type_cnt(btf);
	int err = 0;

	for (i = first; i < n && !err; i++) {
		const struct btf_type *t = btf__type_by_id(btf, i);
		const char *name;

		if (!btf_is_func(t))
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		if (name && *name)
			err = add(k, cap, name, module, i);
	}
	return err;
}

static int load_modules(struct dc_kfuncs *k, size_t *cap)
{
	uint32_t base = btf__type_cnt(k->vmlinux);
	struct dirent *de;
	DIR *d = opendir(BTF_DIR);
	int err = 0;

	if (!d)
		return 0;
	while (!err && (de = readdir(d))) {
		char path[512];
		struct btf *b, **bv;
		char **nv;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), BTF_DIR "/%s", de->d_name);
		b = btf__parse_split(path, k->vmlinux);
		if (!b)
			continue;
		bv = realloc(k->btfs, (k->nmodules + 1) * sizeof(*bv));
		nv = bv ? realloc(k->modules, (k->nmodules + 1) * sizeof(*nv)) : NULL;
		if (bv)
			k->btfs = bv;
		if (nv)
			k->modules = nv;
		if (!bv || !nv || !(nv[k->nmodules] = strdup(de->d_name))) {
			btf__free(b);
			err = -ENOMEM;
			break;
		}
		bv[k->nmodules++] = b;
		err = add_funcs(k, cap, b, base, k->nmodules);
	}
	closedir(d);
	return err;
}

static int cmp_kfunc(const void *a, const void *b)
{
	const struct dc_kfunc *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->module != y->module)
		return x->module < y->module ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int dc_kfuncs__load(struct dc_kfuncs *k, bool modules)
{
	size_t cap = 0;
	int err;

	*k = (struct dc_kfuncs){ 0 };
	k->vmlinux = btf__load_vmlinux_btf();
	if (!k->vmlinux)
		return dc_err(-errno, "cannot read the kernel's BTF (" BTF_DIR "/vmlinux): %s",
			      strerror(errno));
	err = add_funcs(k, &cap, k->vmlinux, 1, 0);
	if (!err && modules)
		err = load_modules(k, &cap);
	if (err) {
		dc_kfuncs__free(k);
		return err;
	}
	qsort(k->v, k->n, sizeof(*k->v), cmp_kfunc);
	return 0;
}

const char *dc_kfuncs__module(const struct dc_kfuncs *k, const struct dc_kfunc *f)
{
	return f->module ? k->modules[f->module - 1] : "vmlinux";
}

static const struct btf *btf_of(const struct dc_kfuncs *k, const struct dc_kfunc *f)
{
	return f->module ? k->btfs[f->module - 1] : k->vmlinux;
}

static void classify(const struct btf *btf, uint32_t id, uint8_t *cls, uint32_t *size)
{
	const struct btf_type *t;
	int i;

	*cls = DC_AC_VOID;
	*size = 0;
	i = btf__resolve_type(btf, id);
	if (i > 0)
		id = i;
	if (!id || !(t = btf__type_by_id(btf, id)))
		return;
	if (btf_is_int(t) || btf_is_enum(t) || btf_is_enum64(t)) {
		*cls = DC_AC_INT;
		*size = t->size;
	} else if (btf_is_ptr(t)) {
		*cls = DC_AC_PTR;
		*size = 8;
		/* To a char-sized int, through qualifiers and typedefs. */
		for (i = 0, t = btf__type_by_id(btf, t->type); t && i < 16; i++) {
			if (btf_is_mod(t) || btf_is_typedef(t)) {
				t = btf__type_by_id(btf, t->type);
				continue;
			}
			if (btf_is_int(t) && t->size == 1)
				*cls = DC_AC_STR;
			break;
		}
	} else if (btf_is_float(t)) {
		*cls = DC_AC_FLOAT;
		*size = t->size;
	} else {
		*cls = DC_AC_AGG;
		*size = btf_is_composite(t) ? t->size : 0;
	}
}

static void to_buf(void *ctx, const char *fmt, va_list ap)
{
	struct dc_buf *b = ctx;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n > 0) {
		char *s = malloc(n + 1);

		if (!s) {
			b->err = -ENOMEM;
			return;
		}
		vsnprintf(s, n + 1, fmt, ap);
		dc_buf_put(b, s, n);
		free(s);
	}
}

static int type_string(struct btf_dump *d, struct dc_buf *b, uint32_t id)
{
	LIBBPF_OPTS(btf_dump_emit_type_decl_opts, o, .field_name = "");
	int err;

	b->len = 0;
	err = btf_dump__emit_type_decl(d, id, &o);
	if (err)
		return err;
	return dc_buf_cstr(b);
}

static struct btf_dump *dumper(struct dc_kfuncs *k, const struct dc_kfunc *f)
{
	if (!k->text && !(k->text = calloc(1, sizeof(*k->text))))
		return NULL;
	if (!k->dumps && !(k->dumps = calloc(k->nmodules + 1, sizeof(*k->dumps))))
		return NULL;
	if (!k->dumps[f->module])
		k->dumps[f->module] = btf_dump__new(btf_of(k, f), to_buf, k->text, NULL);
	return k->dumps[f->module];
}

int dc_kfuncs__proto(struct dc_kfuncs *k, const struct dc_kfunc *f, struct dc_proto *out)
{
	const struct btf *btf = btf_of(k, f);
	const struct btf_type *fn = btf__type_by_id(btf, f->id);
	const struct btf_type *fp = fn ? btf__type_by_id(btf, fn->type) : NULL;
	const struct btf_param *prm;
	struct btf_dump *d;
	struct dc_buf *b;
	uint32_t size;
	uint8_t cls;
	int i, err;

	*out = (struct dc_proto){ 0 };
	if (!fp || !btf_is_func_proto(fp))
		return -ENOENT;
	d = dumper(k, f);
	if (!d)
		return -ENOMEM;
	b = k->text;
	err = type_string(d, b, fp->type);
	classify(btf, fp->type, &cls, &size);
	if (!err)
		err = dc_proto_set_ret(out, b->p, cls, size);
	prm = btf_params(fp);
	for (i = 0; !err && i < btf_vlen(fp); i++) {
		/* A last parameter of type void means "...". */
		if (!prm[i].type) {
			out->variadic = true;
			break;
		}
		err = type_string(d, b, prm[i].type);
		classify(btf, prm[i].type, &cls, &size);
		if (!err)
			err = dc_proto_add(out, btf__name_by_offset(btf, prm[i].name_off), b->p,
					   cls, size);
	}
	if (err)
		dc_proto_free(out);
	return err;
}

void dc_kfuncs__free(struct dc_kfuncs *k)
{
	size_t i;

	for (i = 0; k->dumps && i <= k->nmodules; i++)
		btf_dump__free(k->dumps[i]);
	free(k->dumps);
	if (k->text)
		dc_buf_free(k->text);
	free(k->text);
	for (i = 0; i < k->nmodules; i++) {
		btf__free(k->btfs[i]);
		free(k->modules[i]);
	}
	free(k->btfs);
	free(k->modules);
	free(k->v);
	btf__free(k->vmlinux);
	*k = (struct dc_kfuncs){ 0 };
}
