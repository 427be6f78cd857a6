// SPDX-License-Identifier: MIT
/*
 * Kernel functions and struct members from the running kernel's BTF: what
 * kprobes and fentry may name, and the CO-RE accesses that read fields.
 * Only names found here, each a C identifier, reach the generated C.
 */
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dc_err.h"
#include "gen.h"

struct gen_kbtf {
	struct btf *btf;
	struct dc_names names;
	bool listed;
};

int gen_kbtf__load(struct gen_kbtf **out)
{
	struct gen_kbtf *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (!k)
		return -ENOMEM;
	k->btf = btf__load_vmlinux_btf();
	if (!k->btf) {
		int err = -errno;

		free(k);
		return dc_err(err, "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s",
			      strerror(-err));
	}
	*out = k;
	return 0;
}

/* Skips typedefs and qualifiers. */
static const struct btf_type *resolve(const struct btf *btf, uint32_t id, uint32_t *out_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (out_id)
		*out_id = id;
	return t;
}

/* Size and sign of a value of type @id, or false when it is not a scalar. */
static bool scalar_type(const struct btf *btf, uint32_t id, int *size, bool *is_signed)
{
	const struct btf_type *t = resolve(btf, id, NULL);

	if (!t)
		return false;
	*is_signed = false;
	if (btf_is_int(t)) {
		*size = t->size;
		*is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
	} else if (btf_is_enum(t) || btf_kind(t) == BTF_KIND_ENUM64) {
		*size = t->size;
	} else if (btf_is_ptr(t)) {
		*size = 8;
	} else {
		return false;
	}
	return *size >= 1 && *size <= 8;
}

int gen_kbtf__func(struct gen_kbtf *k, const char *name, struct gen_kfunc *out)
{
	const struct btf_type *fn, *proto;
	const struct btf_param *p;
	int id, i;

	memset(out, 0, sizeof(*out));
	id = btf__find_by_name_kind(k->btf, name, BTF_KIND_FUNC);
	if (id < 0)
		return -ENOENT;
	fn = btf__type_by_id(k->btf, id);
	proto = fn ? btf__type_by_id(k->btf, fn->type) : NULL;
	if (!proto || !btf_is_func_proto(proto))
		return -ENOENT;
	out->name = btf__name_by_offset(k->btf, fn->name_off);
	out->nparams = btf_vlen(proto);
	if (out->nparams > 12)
		out->nparams = 12;
	p = btf_params(proto);
	for (i = 0; i < out->nparams; i++) {
		out->pname[i] = btf__name_by_offset(k->btf, p[i].name_off);
		out->ptype[i] = p[i].type;
		if (!scalar_type(k->btf, p[i].type, &out->psize[i], &out->psigned[i]))
			out->psize[i] = 0; /* a struct by value: not readable as a field */
	}
	out->ret_void = proto->type == 0;
	if (!out->ret_void && !scalar_type(k->btf, proto->type, &out->ret_size, &out->ret_signed))
		out->ret_size = 8;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

const struct dc_names *gen_kbtf__names(struct gen_kbtf *k)
{
	uint32_t i, n = btf__type_cnt(k->btf);
	size_t cap = 0, j, w;

	if (k->listed)
		return &k->names;
	for (i = 1; i < n; i++) {
		const struct btf_type *t = btf__type_by_id(k->btf, i);
		const char *name;

		if (!btf_is_func(t))
			continue;
		name = btf__name_by_offset(k->btf, t->name_off);
		if (!name || !*name)
			continue;
		if (k->names.n == cap) {
			char **v;

			cap = cap ? cap * 2 : 4096;
			v = realloc(k->names.v, cap * sizeof(*v));
			if (!v)
				return NULL;
			k->names.v = v;
		}
		/* The strings live as long as the BTF does. */
		k->names.v[k->names.n++] = (char *)name;
	}
	qsort(k->names.v, k->names.n, sizeof(*k->names.v), cmp_name);
	for (j = w = 0; j < k->names.n; j++)
		if (!w || strcmp(k->names.v[w - 1], k->names.v[j]))
			k->names.v[w++] = k->names.v[j];
	k->names.n = w;
	k->listed = true;
	return &k->names;
}

/* Finds member @name in struct or union @t, looking inside anonymous members. */
static bool find_member(const struct btf *btf, const struct btf_type *t, const char *name,
			uint32_t *type, bool *bitfield)
{
	const struct btf_member *m = btf_members(t);
	int i, n = btf_vlen(t);

	for (i = 0; i < n; i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *mt;

		if (mn && *mn) {
			if (strcmp(mn, name))
				continue;
			*type = m->type;
			*bitfield = btf_member_bitfield_size(t, i) != 0;
			return true;
		}
		mt = resolve(btf, m->type, NULL);
		if (mt && (btf_is_struct(mt) || btf_is_union(mt)) &&
		    find_member(btf, mt, name, type, bitfield))
			return true;
	}
	return false;
}

/* "struct file" for a struct, the name for a typedef of one. */
static int type_name(const struct btf *btf, uint32_t ptr_id, char *out, size_t len)
{
	const struct btf_type *t = btf__type_by_id(btf, ptr_id), *tt;
	uint32_t id;

	/* Through qualifiers, but not past a typedef, which vmlinux.h names. */
	while (t && btf_is_mod(t))
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_typedef(t)) {
		tt = resolve(btf, t->type, NULL);
		if (!tt || !btf_is_ptr(tt))
			return -EINVAL;
		t = btf__type_by_id(btf, tt->type);
	} else if (!t || !btf_is_ptr(t)) {
		return -EINVAL;
	} else {
		t = btf__type_by_id(btf, t->type);
	}
	while (t && btf_is_mod(t))
		t = btf__type_by_id(btf, t->type);
	if (!t)
		return -EINVAL;
	if (btf_is_typedef(t)) {
		if (!resolve(btf, t->type, &id) ||
		    !dc_ident_ok(btf__name_by_offset(btf, t->name_off)))
			return -EINVAL;
		tt = resolve(btf, t->type, NULL);
		if (!btf_is_struct(tt) && !btf_is_union(tt))
			return -EINVAL;
		snprintf(out, len, "%s", btf__name_by_offset(btf, t->name_off));
		return 0;
	}
	if (!(btf_is_struct(t) || btf_is_union(t)) ||
	    !dc_ident_ok(btf__name_by_offset(btf, t->name_off)))
		return -EINVAL;
	snprintf(out, len, "%s %s", btf_is_struct(t) ? "struct" : "union",
		 btf__name_by_offset(btf, t->name_off));
	return 0;
}

int gen_kbtf__chain(struct gen_kbtf *k, const struct gen_kfunc *fn, int arg, const char *members,
		    bool string, struct dc_src *out)
{
	const struct btf *btf = k->btf;
	const struct btf_type *t;
	char tname[96], part[128];
	const char *p = members;
	uint32_t type = fn->ptype[arg];
	bool bitfield = false;
	int n;

	memset(out, 0, sizeof(*out));
	if (type_name(btf, type, tname, sizeof(tname)))
		return dc_err(-EINVAL, "parameter %d of %s is not a pointer to a struct", arg,
			      fn->name);
	n = snprintf(out->core, sizeof(out->core), "%s", tname);
	t = resolve(btf, type, NULL);
	t = resolve(btf, t->type, NULL);
	for (;;) {
		size_t len = strcspn(p, ".-");

		snprintf(part, sizeof(part), "%.*s", (int)len, p);
		if (!t || !(btf_is_struct(t) || btf_is_union(t)))
			return dc_err(-EINVAL,
				      "'%s' is reached through something that is not a "
				      "struct",
				      part);
		if (!find_member(btf, t, part, &type, &bitfield))
			return dc_err(-ENOENT, "%s %s has no member '%s'",
				      btf_is_union(t) ? "union" : "struct",
				      btf__name_by_offset(btf, t->name_off), part);
		if (bitfield)
			return dc_err(-EINVAL, "'%s' is a bit field, which cannot be read", part);
		/* Members joined by '.' stay in one access; '->' starts the next. */
		n += snprintf(out->core + n, sizeof(out->core) - n, "%c%s",
			      p == members || p[-1] == '>' ? '|' : '.', part);
		if ((size_t)n >= sizeof(out->core))
			return dc_err(-E2BIG, "the access %s is too long", members);
		p += len;
		if (!*p)
			break;
		t = resolve(btf, type, NULL);
		if (*p == '.') {
			p++;
			continue;
		}
		p += 2;
		if (!t || !btf_is_ptr(t))
			return dc_err(-EINVAL, "'%s' is not a pointer, so '->' cannot follow it",
				      part);
		t = resolve(btf, t->type, NULL);
	}
	t = resolve(btf, type, NULL);
	if (string) {
		const struct btf_type *c = t && btf_is_ptr(t) ? resolve(btf, t->type, NULL) : NULL;

		if (!c || !btf_is_int(c) || c->size != 1)
			return dc_err(-EINVAL, "'%s' is not a char pointer, so it is no string",
				      part);
	} else if (!scalar_type(btf, type, &n, &out->is_signed)) {
		return dc_err(-EINVAL, "'%s' is not a number or a pointer", part);
	}
	out->how = DC_SRC_CORE;
	out->arg = arg;
	return 0;
}

void gen_kbtf__free(struct gen_kbtf *k)
{
	if (!k)
		return;
	free(k->names.v);
	btf__free(k->btf);
	free(k);
}
