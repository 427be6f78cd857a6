// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc_elf.h"
#include "dc_err.h"
#include "dc_file.h"

#if defined(__x86_64__)
#define DC_EM EM_X86_64
#elif defined(__aarch64__)
#define DC_EM EM_AARCH64
#else
#error "unsupported architecture"
#endif

static int elf_fail(const struct dc_elf *e, const char *what)
{
	return dc_err(-EINVAL, "%s: %s: %s", e->path, what, elf_errmsg(-1));
}

static void read_build_id(struct dc_elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			const unsigned char *p = (const unsigned char *)d->d_buf + doff;
			size_t i, n = nh.n_descsz;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)d->d_buf + noff, "GNU", 4) != 0)
				continue;
			if (n > 20)
				n = 20;
			for (i = 0; i < n; i++)
				snprintf(e->build_id + 2 * i, 3, "%02x", p[i]);
			return;
		}
	}
}

/*
 * libelf reads what it can of a cut-off file without complaint: check that
 * every header and section the tools read lies inside the file.
 */
static int check_bounds(struct dc_elf *e)
{
	const GElf_Ehdr *h = &e->ehdr;
	Elf_Scn *scn = NULL;
	struct stat st;
	size_t n;

	if (fstat(e->fd, &st) < 0)
		return dc_err(-errno, "%s: %s", e->path, strerror(errno));
	if (h->e_phoff > (uint64_t)st.st_size ||
	    (uint64_t)h->e_phnum * h->e_phentsize > (uint64_t)st.st_size - h->e_phoff ||
	    h->e_shoff > (uint64_t)st.st_size ||
	    (uint64_t)h->e_shnum * h->e_shentsize > (uint64_t)st.st_size - h->e_shoff ||
	    elf_getshdrnum(e->elf, &n) != 0 || elf_getphdrnum(e->elf, &n) != 0)
		return dc_err(-ENOEXEC, "%s: truncated or corrupt ELF file", e->path);
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return dc_err(-ENOEXEC, "%s: corrupt section header", e->path);
		if (sh.sh_type != SHT_NOBITS && (sh.sh_offset > (uint64_t)st.st_size ||
						 sh.sh_size > (uint64_t)st.st_size - sh.sh_offset))
			return dc_err(-ENOEXEC, "%s: truncated or corrupt ELF file", e->path);
	}
	return 0;
}

int dc_elf__open(const char *path, struct dc_elf **out)
{
	struct dc_elf *e;
	int err;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return dc_err(-EINVAL, "libelf is too old");
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fd = -1;
	e->path = strdup(path);
	if (!e->path) {
		err = -ENOMEM;
		goto fail;
	}
	e->fd = dc_open_regular_fd(path);
	if (e->fd < 0) {
		err = e->fd;
		goto fail;
	}
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		err = dc_err(-ENOEXEC, "%s: not an ELF file", path);
		goto fail;
	}
	if (gelf_getclass(e->elf) != ELFCLASS64) {
		err = dc_err(-ENOEXEC, "%s: not a 64-bit ELF file", path);
		goto fail;
	}
	if (!gelf_getehdr(e->elf, &e->ehdr)) {
		err = dc_err(-ENOEXEC, "%s: corrupt ELF header", path);
		goto fail;
	}
	if (e->ehdr.e_machine != DC_EM) {
		err = dc_err(-ENOEXEC, "%s: ELF file for another architecture (e_machine %u)", path,
			     e->ehdr.e_machine);
		goto fail;
	}
	if (e->ehdr.e_type != ET_EXEC && e->ehdr.e_type != ET_DYN) {
		err = dc_err(-ENOEXEC, "%s: not an executable or shared object", path);
		goto fail;
	}
	err = check_bounds(e);
	if (err)
		goto fail;
	read_build_id(e);
	*out = e;
	return 0;
fail:
	dc_elf__close(e);
	return err;
}

int dc_elf__offset(const struct dc_elf *e, uint64_t addr, uint64_t *offset)
{
	size_t i, n;

	if (elf_getphdrnum(e->elf, &n) != 0)
		return elf_fail(e, "cannot read program headers");
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_filesz) {
			*offset = addr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

/* Version names by index, from .gnu.version_d. */
struct verdefs {
	const char **names;
	size_t n;
};

static int read_verdefs(struct dc_elf *e, Elf_Scn *scn, size_t strndx, struct verdefs *v)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t off = 0, guard = 0;

	if (!d)
		return 0;
	while (off < d->d_size && guard++ < 65536) {
		GElf_Verdef vd;
		GElf_Verdaux va;
		const char *name;

		if (!gelf_getverdef(d, off, &vd))
			break;
		if (gelf_getverdaux(d, off + vd.vd_aux, &va) &&
		    (name = elf_strptr(e->elf, strndx, va.vda_name))) {
			if (vd.vd_ndx >= v->n) {
				size_t n = vd.vd_ndx + 1;
				const char **p = realloc(v->names, n * sizeof(*p));

				if (!p)
					return -ENOMEM;
				memset(p + v->n, 0, (n - v->n) * sizeof(*p));
				v->names = p;
				v->n = n;
			}
			v->names[vd.vd_ndx] = name;
		}
		if (!vd.vd_next)
			break;
		off += vd.vd_next;
	}
	return 0;
}

static int add_func(struct dc_elf *e, size_t *cap, const char *name, const char *version,
		    bool hidden, const GElf_Sym *sym, unsigned int source)
{
	struct dc_func *f;
	const char *at = strchr(name, '@');
	size_t nlen = at ? (size_t)(at - name) : strlen(name);

	/* .symtab spells versions into the name: read@@GLIBC_2.2.5 */
	if (at && !version) {
		hidden = at[1] != '@';
		version = at + (hidden ? 1 : 2);
	}
	if (nlen == 0)
		return 0;
	if (e->nfuncs == *cap) {
		size_t n = *cap ? *cap * 2 : 1024;
		struct dc_func *p = realloc(e->funcs, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		e->funcs = p;
		*cap = n;
	}
	f = &e->funcs[e->nfuncs];
	memset(f, 0, sizeof(*f));
	f->name = strndup(name, nlen);
	f->version = version && *version ? strdup(version) : NULL;
	if (!f->name || (version && *version && !f->version)) {
		free(f->name);
		free(f->version);
		return -ENOMEM;
	}
	f->hidden_version = f->version && hidden;
	f->ifunc = GELF_ST_TYPE(sym->st_info) == STT_GNU_IFUNC;
	f->bind = GELF_ST_BIND(sym->st_info);
	f->sources = source;
	f->addr = sym->st_value;
	f->size = sym->st_size;
	if (dc_elf__offset(e, f->addr, &f->offset) != 0) {
		/* Not backed by file contents: nothing to probe. */
		free(f->name);
		free(f->version);
		return 0;
	}
	e->nfuncs++;
	return 0;
}

static int read_symtab(struct dc_elf *e, Elf_Scn *scn, const GElf_Shdr *sh, Elf_Data *versym,
		       const struct verdefs *vd, size_t *cap)
{
	unsigned int source = sh->sh_type == SHT_DYNSYM ? DC_SYM_DYNSYM : DC_SYM_SYMTAB;
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t i, n;
	int err;

	if (!d || !sh->sh_entsize)
		return 0;
	n = d->d_size / sizeof(Elf64_Sym);
	for (i = 0; i < n; i++) {
		const char *name, *version = NULL;
		bool hidden = false;
		GElf_Sym sym;
		int type;

		if (!gelf_getsym(d, i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_value == 0)
			continue;
		name = elf_strptr(e->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (versym && source == DC_SYM_DYNSYM) {
			GElf_Versym vs;

			if (gelf_getversym(versym, i, &vs)) {
				size_t idx = vs & 0x7fff;

				hidden = vs & 0x8000;
				if (idx > 1 && idx < vd->n)
					version = vd->names[idx];
			}
		}
		err = add_func(e, cap, name, version, hidden, &sym, source);
		if (err)
			return err;
	}
	return 0;
}

static int cmp_func(const void *a, const void *b)
{
	const struct dc_func *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Versioned first, so merging keeps the version. */
	return (y->version != NULL) - (x->version != NULL);
}

/* .dynsym and .symtab list most functions twice: keep one of each. */
static void merge_duplicates(struct dc_elf *e)
{
	size_t i, o = 0;

	for (i = 0; i < e->nfuncs; i++) {
		struct dc_func *f = &e->funcs[i];

		if (o && !strcmp(e->funcs[o - 1].name, f->name) &&
		    e->funcs[o - 1].addr == f->addr) {
			struct dc_func *k = &e->funcs[o - 1];

			k->sources |= f->sources;
			if (f->bind == STB_GLOBAL)
				k->bind = STB_GLOBAL;
			if (!k->size)
				k->size = f->size;
			free(f->name);
			free(f->version);
			continue;
		}
		e->funcs[o++] = *f;
	}
	e->nfuncs = o;
}

int dc_elf__load_funcs(struct dc_elf *e)
{
	Elf_Scn *scn = NULL, *symtabs[2] = { NULL, NULL };
	struct verdefs vd = { NULL, 0 };
	Elf_Data *versym = NULL;
	size_t cap = 0, shstrndx, i;
	GElf_Shdr sh;
	int err = 0;

	if (e->funcs)
		return 0;
	if (elf_getshdrstrndx(e->elf, &shstrndx) != 0)
		return elf_fail(e, "cannot read section headers");
	while ((scn = elf_nextscn(e->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			return elf_fail(e, "corrupt section header");
		switch (sh.sh_type) {
		case SHT_DYNSYM:
			symtabs[0] = scn;
			break;
		case SHT_SYMTAB:
			symtabs[1] = scn;
			break;
		case SHT_GNU_versym:
			versym = elf_getdata(scn, NULL);
			break;
		case SHT_GNU_verdef:
			err = read_verdefs(e, scn, sh.sh_link, &vd);
			if (err)
				goto out;
			break;
		}
	}
	for (i = 0; i < 2; i++) {
		if (!symtabs[i] || !gelf_getshdr(symtabs[i], &sh))
			continue;
		err = read_symtab(e, symtabs[i], &sh, versym, &vd, &cap);
		if (err)
			goto out;
	}
	if (e->nfuncs) {
		qsort(e->funcs, e->nfuncs, sizeof(*e->funcs), cmp_func);
		merge_duplicates(e);
	}
out:
	free(vd.names);
	return err;
}

static int rank(const struct dc_func *f)
{
	return (f->version && !f->hidden_version ? 4 : 0) + (!f->version ? 2 : 0) +
	       (f->bind == STB_GLOBAL ? 1 : 0);
}

const struct dc_func *dc_elf__find(const struct dc_elf *e, const char *name)
{
	const struct dc_func *best = NULL;
	size_t lo = 0, hi = e->nfuncs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(e->funcs[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < e->nfuncs && !strcmp(e->funcs[lo].name, name); lo++)
		if (!best || rank(&e->funcs[lo]) > rank(best))
			best = &e->funcs[lo];
	return best;
}

void dc_elf__close(struct dc_elf *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->nfuncs; i++) {
		free(e->funcs[i].name);
		free(e->funcs[i].version);
	}
	free(e->funcs);
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->path);
	free(e);
}
