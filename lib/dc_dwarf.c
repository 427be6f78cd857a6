// SPDX-License-Identifier: MIT
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dc_dwarf.h"
#include "dc_err.h"

/* Types nest; DWARF from a hostile file may loop. */
#define MAX_TYPE_DEPTH 12

struct fn_at {
	uint64_t addr;
	Dwarf_Off die;
};

struct dc_dwarf {
	Dwarf *dw;
	const char *path;
	struct fn_at *v;
	size_t n, cap;
};

static bool has_dwarf(const struct dc_elf *e)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (!e || elf_getshdrstrndx(e->elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *n;

		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    (n = elf_strptr(e->elf, shstrndx, sh.sh_name)) &&
		    (!strcmp(n, ".debug_info") || !strcmp(n, ".zdebug_info")))
			return true;
	}
	return false;
}

static int push(struct dc_dwarf *d, uint64_t addr, Dwarf_Off off)
{
	if (d->n == d->cap) {
		size_t n = d->cap ? d->cap * 2 : 1024;
		struct fn_at *v = realloc(d->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = n;
	}
	d->v[d->n++] = (struct fn_at){ addr, off };
	return 0;
}

/* Functions with code are children of their unit, or of a C++ namespace. */
static int index_children(struct dc_dwarf *d, Dwarf_Die *parent, int depth)
{
	Dwarf_Die c;
	int err = 0;

	if (dwarf_child(parent, &c) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&c);
		Dwarf_Addr a, base, end;

		if (tag == DW_TAG_subprogram) {
			if (dwarf_entrypc(&c, &a) == 0 ||
			    (dwarf_hasattr(&c, DW_AT_ranges) &&
			     dwarf_ranges(&c, 0, &base, &a, &end) > 0))
				err = push(d, a, dwarf_dieoffset(&c));
		} else if (tag == DW_TAG_namespace && depth < MAX_TYPE_DEPTH) {
			err = index_children(d, &c, depth + 1);
		}
	} while (!err && dwarf_siblingof(&c, &c) == 0);
	return err;
}

static int cmp_fn(const void *a, const void *b)
{
	const struct fn_at *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->die < y->die ? -1 : x->die > y->die;
}

int dc_dwarf__open(struct dc_elf *e, struct dc_dwarf **out)
{
	struct dc_elf *src = has_dwarf(e) ? e : dc_elf__debug_file(e);
	Dwarf_CU *cu = NULL;
	struct dc_dwarf *d;
	Dwarf_Die cudie;
	uint8_t type;
	int err = 0;

	*out = NULL;
	if (!has_dwarf(src))
		return -ENOENT;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->path = src->path;
	d->dw = dwarf_begin_elf(src->elf, DWARF_C_READ, NULL);
	if (!d->dw) {
		err = dc_err(-ENOEXEC, "%s: unreadable DWARF: %s", src->path, dwarf_errmsg(-1));
		goto fail;
	}
	while (!err && dwarf_get_units(d->dw, cu, &cu, NULL, &type, &cudie, NULL) == 0)
		if (type == DW_UT_compile || type == DW_UT_partial)
			err = index_children(d, &cudie, 0);
	if (err)
		goto fail;
	/* DWARF without a single function leaves d->v NULL, which qsort may not take. */
	if (d->n)
		qsort(d->v, d->n, sizeof(*d->v), cmp_fn);
	*out = d;
	return 0;
fail:
	dc_dwarf__close(d);
	return err;
}

const char *dc_dwarf__path(const struct dc_dwarf *d)
{
	return d->path;
}

static bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute at;

	return dwarf_attr_integrate(die, DW_AT_type, &at) && dwarf_formref_die(&at, out);
}

static bool is_qualifier(int tag)
{
	return tag == DW_TAG_typedef || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
	       tag == DW_TAG_restrict_type || tag == DW_TAG_atomic_type;
}

/* Follows typedefs and qualifiers; false for void. */
static bool strip(Dwarf_Die *t, Dwarf_Die *out)
{
	int i;

	*out = *t;
	for (i = 0; i < MAX_TYPE_DEPTH && is_qualifier(dwarf_tag(out)); i++)
		if (!type_of(out, out))
			return false;
	return i < MAX_TYPE_DEPTH;
}

static uint32_t byte_size(Dwarf_Die *t, uint32_t dflt)
{
	int n = dwarf_bytesize(t);

	return n > 0 ? (uint32_t)n : dflt;
}

static Dwarf_Word encoding(Dwarf_Die *t)
{
	Dwarf_Attribute at;
	Dwarf_Word w = 0;

	if (dwarf_attr(t, DW_AT_encoding, &at))
		dwarf_formudata(&at, &w);
	return w;
}

/* @t may be NULL for void. */
static void classify(Dwarf_Die *t, uint8_t *cls, uint32_t *size)
{
	Dwarf_Die s, target, ts;
	Dwarf_Word enc;

	*cls = DC_AC_VOID;
	*size = 0;
	if (!t || !strip(t, &s))
		return;
	switch (dwarf_tag(&s)) {
	case DW_TAG_base_type:
		enc = encoding(&s);
		*size = byte_size(&s, 0);
		*cls = enc == DW_ATE_float || enc == DW_ATE_complex_float ||
				       enc == DW_ATE_decimal_float ?
			       DC_AC_FLOAT :
			       DC_AC_INT;
		return;
	case DW_TAG_enumeration_type:
		*cls = DC_AC_INT;
		*size = byte_size(&s, 4);
		return;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		*cls = DC_AC_PTR;
		*size = 8;
		if (type_of(&s, &target) && strip(&target, &ts) &&
		    dwarf_tag(&ts) == DW_TAG_base_type) {
			enc = encoding(&ts);
			if (enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char)
				*cls = DC_AC_STR;
		}
		return;
	default:
		*cls = DC_AC_AGG;
		*size = byte_size(&s, 0);
		return;
	}
}

static void type_str(Dwarf_Die *t, struct dc_buf *b, int depth);

static void params_str(Dwarf_Die *fn, struct dc_buf *b, int depth)
{
	Dwarf_Die c, t;
	bool first = true;

	dc_buf_puts(b, "(");
	if (dwarf_child(fn, &c) == 0) {
		do {
			int tag = dwarf_tag(&c);

			if (tag != DW_TAG_formal_parameter && tag != DW_TAG_unspecified_parameters)
				continue;
			if (!first)
				dc_buf_puts(b, ", ");
			first = false;
			if (tag == DW_TAG_unspecified_parameters)
				dc_buf_puts(b, "...");
			else
				type_str(type_of(&c, &t) ? &t : NULL, b, depth + 1);
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	dc_buf_puts(b, first ? "void)" : ")");
}

static void named(Dwarf_Die *t, struct dc_buf *b, const char *kw)
{
	const char *n = dwarf_diename(t);

	dc_buf_printf(b, "%s%s%s", kw, kw[0] ? " " : "", n ? n : "{...}");
}

/* The C spelling of @t; NULL is void. */
static void type_str(Dwarf_Die *t, struct dc_buf *b, int depth)
{
	Dwarf_Die target, *tp;
	int tag;

	if (!t) {
		dc_buf_puts(b, "void");
		return;
	}
	if (depth > MAX_TYPE_DEPTH) {
		dc_buf_puts(b, "?");
		return;
	}
	tp = type_of(t, &target) ? &target : NULL;
	tag = dwarf_tag(t);
	switch (tag) {
	case DW_TAG_structure_type:
		named(t, b, "struct");
		break;
	case DW_TAG_union_type:
		named(t, b, "union");
		break;
	case DW_TAG_enumeration_type:
		named(t, b, "enum");
		break;
	case DW_TAG_class_type:
		named(t, b, "class");
		break;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type: {
		const char *mark = tag == DW_TAG_pointer_type	? "*" :
				   tag == DW_TAG_reference_type ? "&" :
								  "&&";

		if (tp && dwarf_tag(tp) == DW_TAG_subroutine_type) {
			Dwarf_Die r;

			type_str(type_of(tp, &r) ? &r : NULL, b, depth + 1);
			dc_buf_printf(b, " (%s)", mark);
			params_str(tp, b, depth);
			break;
		}
		type_str(tp, b, depth + 1);
		if (b->len && b->p[b->len - 1] != '*' && b->p[b->len - 1] != '&')
			dc_buf_puts(b, " ");
		dc_buf_puts(b, mark);
		break;
	}
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_atomic_type: {
		const char *q = tag == DW_TAG_const_type    ? "const" :
				tag == DW_TAG_volatile_type ? "volatile" :
							      "_Atomic";

		/* char *const, but const char */
		if (tp && dwarf_tag(tp) == DW_TAG_pointer_type) {
			type_str(tp, b, depth + 1);
			dc_buf_puts(b, q);
		} else {
			dc_buf_printf(b, "%s ", q);
			type_str(tp, b, depth + 1);
		}
		break;
	}
	case DW_TAG_restrict_type:
		type_str(tp, b, depth + 1);
		break;
	case DW_TAG_array_type:
		type_str(tp, b, depth + 1);
		dc_buf_puts(b, "[]");
		break;
	case DW_TAG_subroutine_type:
		type_str(tp, b, depth + 1);
		params_str(t, b, depth);
		break;
	default:
		named(t, b, "");
		break;
	}
}

static int add_param(struct dc_proto *p, Dwarf_Die *prm)
{
	struct dc_buf b = { 0 };
	Dwarf_Die t, *tp = type_of(prm, &t) ? &t : NULL;
	uint32_t size;
	uint8_t cls;
	int err;

	type_str(tp, &b, 0);
	err = dc_buf_cstr(&b);
	classify(tp, &cls, &size);
	if (!err)
		err = dc_proto_add(p, dwarf_diename(prm), b.p, cls, size);
	dc_buf_free(&b);
	return err;
}

static int build(Dwarf_Die *fn, struct dc_proto *p)
{
	Dwarf_Die origin, *src = fn, c, t, *tp;
	struct dc_buf b = { 0 };
	Dwarf_Attribute at;
	uint32_t size;
	uint8_t cls;
	int err;

	/* An out-of-line copy of an inline function: the origin lists every parameter. */
	if (dwarf_attr(fn, DW_AT_abstract_origin, &at) && dwarf_formref_die(&at, &origin))
		src = &origin;
	tp = type_of(fn, &t) ? &t : NULL;
	type_str(tp, &b, 0);
	err = dc_buf_cstr(&b);
	classify(tp, &cls, &size);
	if (!err)
		err = dc_proto_set_ret(p, b.p, cls, size);
	dc_buf_free(&b);
	if (err || dwarf_child(src, &c) != 0)
		return err;
	do {
		int tag = dwarf_tag(&c);

		if (tag == DW_TAG_unspecified_parameters)
			p->variadic = true;
		else if (tag == DW_TAG_formal_parameter)
			err = add_param(p, &c);
	} while (!err && dwarf_siblingof(&c, &c) == 0);
	return err;
}

int dc_dwarf__proto(struct dc_dwarf *d, uint64_t addr, struct dc_proto *out)
{
	size_t lo = 0, hi = d->n;
	Dwarf_Die die;
	int err;

	*out = (struct dc_proto){ 0 };
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == d->n || d->v[lo].addr != addr || !dwarf_offdie(d->dw, d->v[lo].die, &die))
		return -ENOENT;
	err = build(&die, out);
	if (err)
		dc_proto_free(out);
	return err;
}

void dc_dwarf__close(struct dc_dwarf *d)
{
	if (!d)
		return;
	if (d->dw)
		dwarf_end(d->dw);
	free(d->v);
	free(d);
}
