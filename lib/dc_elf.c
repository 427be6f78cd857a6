// SPDX-License-Identifier: MIT
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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

#define NT_STAPSDT 3
#define DEFAULT_DEBUG_DIRS "/usr/lib/debug"

static int elf_fail(const struct dc_elf *e, const char *what)
{
	return dc_err(-ENOEXEC, "%s: %s: %s", e->path, what, elf_errmsg(-1));
}

static const char *section_name(const struct dc_elf *e, const GElf_Shdr *sh)
{
	size_t shstrndx;

	if (elf_getshdrstrndx(e->elf, &shstrndx) != 0)
		return NULL;
	return elf_strptr(e->elf, shstrndx, sh->sh_name);
}

static Elf_Scn *find_section(const struct dc_elf *e, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *n;

		if (gelf_getshdr(scn, sh) && (n = section_name(e, sh)) && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* Calls @fn for each note of every SHT_NOTE section until it returns true. */
static void each_note(struct dc_elf *e,
		      bool (*fn)(struct dc_elf *e, const GElf_Nhdr *nh, const char *name,
				 const unsigned char *desc, void *arg),
		      void *arg)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e->elf, scn))) {
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			const char *name = (const char *)d->d_buf + noff;

			/* gelf_getnote() checked both lie inside the section. */
			if (!nh.n_namesz || name[nh.n_namesz - 1] != '\0')
				continue;
			if (fn(e, &nh, name, (const unsigned char *)d->d_buf + doff, arg))
				return;
		}
	}
}

static bool build_id_note(struct dc_elf *e, const GElf_Nhdr *nh, const char *name,
			  const unsigned char *desc, void *arg)
{
	size_t i, n = nh->n_descsz;

	(void)arg;
	if (nh->n_type != NT_GNU_BUILD_ID || strcmp(name, "GNU") || !n)
		return false;
	if (n > 20)
		n = 20;
	for (i = 0; i < n; i++)
		snprintf(e->build_id + 2 * i, 3, "%02x", desc[i]);
	return true;
}

/* .gnu_debuglink: a file name, padding to 4, then a CRC-32 of the debug file. */
static void read_debuglink(struct dc_elf *e)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(e, ".gnu_debuglink", &sh);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	const char *p;
	size_t n, crc_at;

	if (!d || !d->d_buf || sh.sh_type == SHT_NOBITS)
		return;
	p = d->d_buf;
	n = strnlen(p, d->d_size);
	crc_at = (n + 4) & ~(size_t)3;
	if (!n || n > NAME_MAX || crc_at + 4 > d->d_size || memchr(p, '/', n))
		return;
	memcpy(&e->debuglink_crc, p + crc_at, 4);
	e->debuglink = strndup(p, n);
}

/*
 * libelf reads what it can of a cut-off file without complaint: check that
 * every header and section the tools read lies inside the file.
 */
static int check_bounds(struct dc_elf *e)
{
	const GElf_Ehdr *h = &e->ehdr;
	uint64_t size = e->size;
	Elf_Scn *scn = NULL;
	size_t n;

	if (h->e_phoff > size || (uint64_t)h->e_phnum * h->e_phentsize > size - h->e_phoff ||
	    h->e_shoff > size || (uint64_t)h->e_shnum * h->e_shentsize > size - h->e_shoff ||
	    elf_getshdrnum(e->elf, &n) != 0 || elf_getphdrnum(e->elf, &n) != 0)
		return dc_err(-ENOEXEC, "%s: truncated or corrupt ELF file", e->path);
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return dc_err(-ENOEXEC, "%s: corrupt section header", e->path);
		if (sh.sh_type != SHT_NOBITS &&
		    (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset))
			return dc_err(-ENOEXEC, "%s: truncated or corrupt ELF file", e->path);
	}
	return 0;
}

static int read_loads(struct dc_elf *e)
{
	size_t i, n;

	if (elf_getphdrnum(e->elf, &n) != 0)
		return elf_fail(e, "cannot read program headers");
	e->loads = calloc(n ? n : 1, sizeof(*e->loads));
	if (!e->loads)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		GElf_Phdr *ph = &e->loads[e->nloads];

		if (gelf_getphdr(e->elf, i, ph) && ph->p_type == PT_LOAD)
			e->nloads++;
	}
	return 0;
}

static int setup(struct dc_elf *e)
{
	const char *ident;
	int err;

	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF)
		return dc_err(-ENOEXEC, "%s: not an ELF file", e->path);
	if (gelf_getclass(e->elf) != ELFCLASS64)
		return dc_err(-ENOEXEC, "%s: not a 64-bit ELF file", e->path);
	ident = elf_getident(e->elf, NULL);
	if (!ident || ident[EI_DATA] != ELFDATA2LSB)
		return dc_err(-ENOEXEC, "%s: not a little-endian ELF file", e->path);
	if (!gelf_getehdr(e->elf, &e->ehdr))
		return dc_err(-ENOEXEC, "%s: corrupt ELF header", e->path);
	if (e->ehdr.e_machine != DC_EM)
		return dc_err(-ENOEXEC, "%s: ELF file for another architecture (e_machine %u)",
			      e->path, e->ehdr.e_machine);
	if (e->ehdr.e_type != ET_EXEC && e->ehdr.e_type != ET_DYN)
		return dc_err(-ENOEXEC, "%s: not an executable or shared object", e->path);
	err = check_bounds(e);
	if (!err)
		err = read_loads(e);
	if (err)
		return err;
	each_note(e, build_id_note, NULL);
	read_debuglink(e);
	return 0;
}

static struct dc_elf *alloc_elf(const char *path)
{
	struct dc_elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fd = -1;
	e->path = strdup(path);
	if (!e->path) {
		free(e);
		return NULL;
	}
	return e;
}

bool dc_returns_twice(const char *name)
{
	static const char *const twice[] = { "setjmp",	    "_setjmp",
					     "__setjmp",    "sigsetjmp",
					     "__sigsetjmp", "__sigsetjmp_cancel",
					     "getcontext",  "__getcontext",
					     "swapcontext", "__swapcontext",
					     "vfork",	    "__vfork",
					     "savectx",	    NULL };
	size_t i;

	for (i = 0; twice[i]; i++)
		if (!strcmp(name, twice[i]))
			return true;
	return false;
}

bool dc_reads_caller(const char *name)
{
	static const char *const caller[] = { "dlopen", "dlmopen",	   "dlsym",
					      "dlvsym", "dl_iterate_phdr", NULL };
	size_t i;

	for (i = 0; caller[i]; i++)
		if (!strcmp(name, caller[i]))
			return true;
	return false;
}

const char *dc_func_no_return_probe(const struct dc_func *fn)
{
	if (fn->returns_twice)
		return "returns twice (setjmp family, getcontext, vfork): a return probe would "
		       "kill its callers with SIGILL";
	if (fn->reads_caller)
		return "reads its return address to find its caller (dlopen, dlsym, "
		       "dl_iterate_phdr): a return probe would break RTLD_NEXT in every process";
	return NULL;
}

int dc_elf__open(const char *path, struct dc_elf **out)
{
	struct dc_elf *e;
	struct stat st;
	int err;

	*out = NULL;
	e = alloc_elf(path);
	if (!e)
		return -ENOMEM;
	e->fd = dc_open_regular_fd(path);
	if (e->fd < 0) {
		err = e->fd;
		goto fail;
	}
	if (fstat(e->fd, &st) < 0) {
		err = dc_err(-errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	e->size = st.st_size;
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	err = setup(e);
	if (err)
		goto fail;
	*out = e;
	return 0;
fail:
	dc_elf__close(e);
	return err;
}

int dc_elf__open_mem(void *image, size_t size, const char *label, struct dc_elf **out)
{
	struct dc_elf *e;
	int err;

	*out = NULL;
	e = alloc_elf(label);
	if (!e)
		return -ENOMEM;
	e->size = size;
	e->elf = elf_memory(image, size);
	err = setup(e);
	if (err) {
		dc_elf__close(e);
		return err;
	}
	*out = e;
	return 0;
}

int dc_elf__offset(const struct dc_elf *e, uint64_t addr, uint64_t *offset)
{
	size_t i;

	for (i = 0; i < e->nloads; i++) {
		const GElf_Phdr *ph = &e->loads[i];

		if (addr >= ph->p_vaddr && addr - ph->p_vaddr < ph->p_filesz) {
			*offset = addr - ph->p_vaddr + ph->p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

const char *dc_elf__type_name(const struct dc_elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (e->ehdr.e_type == ET_EXEC)
		return "executable";
	while ((scn = elf_nextscn(e->elf, scn))) {
		Elf_Data *d;
		GElf_Dyn dyn;
		size_t i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (i = 0; gelf_getdyn(d, i, &dyn) && dyn.d_tag != DT_NULL; i++)
			if (dyn.d_tag == DT_FLAGS_1 && (dyn.d_un.d_val & DF_1_PIE))
				return "PIE executable";
	}
	return "shared object";
}

/* Version names by index, from .gnu.version_d. */
struct verdefs {
	const char **names;
	size_t n;
};

static int read_verdefs(const struct dc_elf *src, Elf_Scn *scn, size_t strndx, struct verdefs *v)
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
		    (name = elf_strptr(src->elf, strndx, va.vda_name))) {
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

/*
 * Names point into the ELF files' string tables, which stay mapped while
 * the object is open; only "name@VERSION" needs a copy of its name part.
 * Thousands of small allocations would cost more than reading the symbols.
 */
struct dc_strings {
	struct dc_strings *next;
	size_t used, cap;
	char data[];
};

static const char *intern(struct dc_elf *e, const char *s, size_t n)
{
	struct dc_strings *c = e->strings;
	char *p;

	if (!s[n])
		return s;
	if (!c || c->cap - c->used < n + 1) {
		size_t cap = n + 1 > 65536 ? n + 1 : 65536;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = e->strings;
		c->used = 0;
		c->cap = cap;
		e->strings = c;
	}
	p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	return p;
}

static int add_func(struct dc_elf *e, size_t *cap, const char *name, const char *version,
		    bool hidden, const GElf_Sym *sym, unsigned int source)
{
	struct dc_func *f;
	const char *at = strchr(name, '@');
	size_t nlen = at ? (size_t)(at - name) : strlen(name);
	uint64_t offset;

	/* .symtab spells versions into the name: read@@GLIBC_2.2.5 */
	if (at && !version) {
		hidden = at[1] != '@';
		version = at + (hidden ? 1 : 2);
	}
	/* Not backed by file contents: nothing to probe. */
	if (nlen == 0 || dc_elf__offset(e, sym->st_value, &offset) != 0)
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
	f->name = intern(e, name, nlen);
	if (!f->name)
		return -ENOMEM;
	f->version = version && *version ? version : NULL;
	f->hidden_version = f->version && hidden;
	f->ifunc = GELF_ST_TYPE(sym->st_info) == STT_GNU_IFUNC;
	f->bind = GELF_ST_BIND(sym->st_info);
	f->sources = source;
	f->addr = sym->st_value;
	f->size = sym->st_size;
	f->offset = offset;
	e->nfuncs++;
	return 1;
}

/* Symbols of @src (the file itself or its debug file) into e->funcs. */
static int read_symtab(struct dc_elf *e, const struct dc_elf *src, Elf_Scn *scn,
		       const GElf_Shdr *sh, Elf_Data *versym, const struct verdefs *vd,
		       unsigned int source, size_t *cap)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t i, n, bit = source == DC_SYM_DYNSYM ? 0 : source == DC_SYM_SYMTAB ? 1 : 2;
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
		name = elf_strptr(src->elf, sh->sh_link, sym.st_name);
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
		if (err < 0)
			return err;
		e->nsyms[bit] += err;
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
	/* Versioned first, so an unversioned copy merges into one of them. */
	if (!x->version || !y->version)
		return (y->version != NULL) - (x->version != NULL);
	return strcmp(x->version, y->version);
}

/*
 * .dynsym and .symtab list most functions twice, and .symtab drops the
 * version of default-versioned names: keep one of each.
 */
static void merge_duplicates(struct dc_elf *e)
{
	size_t i, o = 0;

	for (i = 0; i < e->nfuncs; i++) {
		struct dc_func *f = &e->funcs[i], *k = o ? &e->funcs[o - 1] : NULL;

		if (k && !strcmp(k->name, f->name) && k->addr == f->addr &&
		    (!f->version || (k->version && !strcmp(k->version, f->version)))) {
			k->sources |= f->sources;
			if (f->bind == STB_GLOBAL || (f->bind == STB_WEAK && k->bind == STB_LOCAL))
				k->bind = f->bind;
			k->ifunc |= f->ifunc;
			if (!k->size)
				k->size = f->size;
			continue;
		}
		e->funcs[o++] = *f;
	}
	e->nfuncs = o;
}

/* Reads .dynsym (with versions) and .symtab of @src. */
static int read_tables(struct dc_elf *e, const struct dc_elf *src, bool debug, bool *has_symtab,
		       size_t *cap)
{
	Elf_Scn *scn = NULL, *symtabs[2] = { NULL, NULL };
	struct verdefs vd = { NULL, 0 };
	Elf_Data *versym = NULL;
	GElf_Shdr sh;
	size_t i;
	int err = 0;

	while ((scn = elf_nextscn(src->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			return elf_fail(src, "corrupt section header");
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
			err = read_verdefs(src, scn, sh.sh_link, &vd);
			if (err)
				goto out;
			break;
		}
	}
	*has_symtab = symtabs[1] != NULL;
	/* A debug file's .dynsym is a copy without contents: only its .symtab counts. */
	for (i = debug ? 1 : 0; i < 2; i++) {
		if (!symtabs[i] || !gelf_getshdr(symtabs[i], &sh))
			continue;
		err = read_symtab(e, src, symtabs[i], &sh, versym, &vd,
				  debug ? DC_SYM_DEBUG :
				  i	? DC_SYM_SYMTAB :
					  DC_SYM_DYNSYM,
				  cap);
		if (err)
			break;
	}
out:
	free(vd.names);
	return err;
}

/* An alias (__libc_vfork) is as dangerous as the name on the list (vfork). */
static void spread_no_return_probe(struct dc_elf *e)
{
	size_t i, j;

	for (i = 0; i < e->nfuncs; i++) {
		bool twice = dc_returns_twice(e->funcs[i].name);
		bool caller = dc_reads_caller(e->funcs[i].name);

		if (!twice && !caller)
			continue;
		for (j = 0; j < e->nfuncs; j++)
			if (e->funcs[j].addr == e->funcs[i].addr) {
				e->funcs[j].returns_twice |= twice;
				e->funcs[j].reads_caller |= caller;
			}
	}
}

int dc_elf__load_funcs(struct dc_elf *e)
{
	struct dc_elf *dbg;
	bool has_symtab;
	size_t cap = 0;
	int err;

	if (e->funcs)
		return 0;
	err = read_tables(e, e, false, &has_symtab, &cap);
	if (!err && !has_symtab && (dbg = dc_elf__debug_file(e)))
		err = read_tables(e, dbg, true, &has_symtab, &cap);
	if (err)
		return err;
	if (e->nfuncs) {
		qsort(e->funcs, e->nfuncs, sizeof(*e->funcs), cmp_func);
		merge_duplicates(e);
		spread_no_return_probe(e);
	}
	return 0;
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

/*
 * Which of several names at one address to show first: one a config can
 * name (not name@OLDVERSION), exported, with the fewest leading
 * underscores (read rather than __read), global, then the shortest.
 */
static int cmp_preference(const struct dc_func *x, const struct dc_func *y)
{
	size_t ux = strspn(x->name, "_"), uy = strspn(y->name, "_");
	size_t lx = strlen(x->name), ly = strlen(y->name);

	if (x->hidden_version != y->hidden_version)
		return x->hidden_version ? 1 : -1;
	if ((x->sources & DC_SYM_DYNSYM) != (y->sources & DC_SYM_DYNSYM))
		return x->sources & DC_SYM_DYNSYM ? -1 : 1;
	if (ux != uy)
		return ux < uy ? -1 : 1;
	if (x->bind != y->bind)
		return x->bind == STB_GLOBAL ? -1 :
		       y->bind == STB_GLOBAL ? 1 :
		       x->bind == STB_WEAK   ? -1 :
					       1;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->name, y->name);
}

static const struct dc_elf *sort_elf;

static int cmp_by_addr(const void *a, const void *b)
{
	const struct dc_func *x = &sort_elf->funcs[*(const size_t *)a];
	const struct dc_func *y = &sort_elf->funcs[*(const size_t *)b];

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return cmp_preference(x, y);
}

static int cmp_site(const void *a, const void *b)
{
	const struct dc_site *x = a, *y = b;
	const struct dc_func *fx = &sort_elf->funcs[sort_elf->site_funcs[x->first]];
	const struct dc_func *fy = &sort_elf->funcs[sort_elf->site_funcs[y->first]];
	int c = strcmp(fx->name, fy->name);

	if (c)
		return c;
	return fx->addr < fy->addr ? -1 : fx->addr > fy->addr;
}

int dc_elf__sites(struct dc_elf *e)
{
	size_t i;

	if (e->sites || !e->nfuncs)
		return 0;
	e->site_funcs = malloc(e->nfuncs * sizeof(*e->site_funcs));
	e->sites = malloc(e->nfuncs * sizeof(*e->sites));
	if (!e->site_funcs || !e->sites)
		return -ENOMEM;
	for (i = 0; i < e->nfuncs; i++)
		e->site_funcs[i] = i;
	sort_elf = e;
	qsort(e->site_funcs, e->nfuncs, sizeof(*e->site_funcs), cmp_by_addr);
	for (i = 0; i < e->nfuncs; i++) {
		if (e->nsites &&
		    e->funcs[e->site_funcs[i]].addr == e->funcs[e->site_funcs[i - 1]].addr) {
			e->sites[e->nsites - 1].n++;
			continue;
		}
		e->sites[e->nsites++] = (struct dc_site){ i, 1 };
	}
	qsort(e->sites, e->nsites, sizeof(*e->sites), cmp_site);
	sort_elf = NULL;
	return 0;
}

/* USDT notes need the address .stapsdt.base had at link time and has now. */
struct usdt_ctx {
	bool has_base;
	uint64_t base;
	size_t cap;
	int err;
};

static uint64_t le64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static bool usdt_note(struct dc_elf *e, const GElf_Nhdr *nh, const char *name,
		      const unsigned char *desc, void *arg)
{
	struct usdt_ctx *c = arg;
	const char *s = (const char *)desc + 24, *end = (const char *)desc + nh->n_descsz;
	const char *strs[3];
	struct dc_usdt *u;
	size_t i;

	if (nh->n_type != NT_STAPSDT || strcmp(name, "stapsdt") || nh->n_descsz < 24 + 3)
		return false;
	for (i = 0; i < 3; i++) {
		const char *z = memchr(s, '\0', end - s);

		if (!z)
			return false;
		strs[i] = s;
		s = z + 1;
		if (i < 2 && s == end)
			return false;
	}
	if (!*strs[0] || !*strs[1])
		return false;
	if (e->nusdt == c->cap) {
		size_t n = c->cap ? c->cap * 2 : 16;

		u = realloc(e->usdt, n * sizeof(*u));
		if (!u) {
			c->err = -ENOMEM;
			return true;
		}
		e->usdt = u;
		c->cap = n;
	}
	u = &e->usdt[e->nusdt];
	memset(u, 0, sizeof(*u));
	u->addr = le64(desc);
	u->sema_addr = le64(desc + 16);
	/* Prelinking moves the code: .stapsdt.base says by how much. */
	if (c->has_base && le64(desc + 8))
		u->addr += c->base - le64(desc + 8);
	if (dc_elf__offset(e, u->addr, &u->offset) ||
	    (u->sema_addr && dc_elf__offset(e, u->sema_addr, &u->sema_offset)))
		return false;
	u->provider = strdup(strs[0]);
	u->name = strdup(strs[1]);
	u->args = strdup(strs[2]);
	if (!u->provider || !u->name || !u->args) {
		free(u->provider);
		free(u->name);
		free(u->args);
		c->err = -ENOMEM;
		return true;
	}
	e->nusdt++;
	return false;
}

int dc_elf__load_usdt(struct dc_elf *e)
{
	struct usdt_ctx c = { 0 };
	GElf_Shdr sh;

	if (e->usdt)
		return 0;
	if (find_section(e, ".stapsdt.base", &sh)) {
		c.has_base = true;
		c.base = sh.sh_addr;
	}
	each_note(e, usdt_note, &c);
	return c.err;
}

size_t dc_usdt_args(const char *spec, struct dc_usdt_arg *out, size_t max)
{
	size_t n = 0;

	while (*spec && n < max) {
		size_t len = strcspn(spec, " ");
		const char *at = memchr(spec, '@', len);
		char *end;

		out[n].size = 0;
		out[n].loc = spec;
		out[n].loclen = len;
		if (at) {
			long v = strtol(spec, &end, 10);

			/* Sizes are 1, 2, 4 or 8 bytes; anything else says nothing. */
			if (end == at && v >= -8 && v <= 8) {
				out[n].size = (int)v;
				out[n].loc = at + 1;
				out[n].loclen = len - (at + 1 - spec);
			}
		}
		if (len)
			n++;
		spec += len;
		spec += strspn(spec, " ");
	}
	return n;
}

static bool same_file(const char *a, const char *b)
{
	struct stat x, y;

	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* Opens @path as the debug file of @e if it is one; errors stay quiet. */
static bool try_debug(struct dc_elf *e, const char *path, bool check_crc)
{
	struct dc_elf *d;
	const void *raw;
	size_t n;

	if (access(path, R_OK) != 0 || same_file(path, e->path) || dc_elf__open(path, &d)) {
		dc_err_clear();
		return false;
	}
	if (e->build_id[0] && d->build_id[0] && strcmp(e->build_id, d->build_id))
		goto reject;
	if (check_crc) {
		raw = elf_rawfile(d->elf, &n);
		if (!raw || crc32(0, raw, n) != e->debuglink_crc)
			goto reject;
	}
	e->debug = d;
	return true;
reject:
	dc_elf__close(d);
	return false;
}

/* The directory part of e->path, without the trailing slash. */
static void dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/* Looks in each debug directory, as gdb and elfutils do. */
static bool search_debug_dirs(struct dc_elf *e, const char *dirs, bool by_id)
{
	char path[PATH_MAX], own[PATH_MAX];
	const char *p;
	size_t n;

	dir_of(e->path, own, sizeof(own));
	for (p = dirs; *p; p += n + (p[n] == ':')) {
		int len;

		n = strcspn(p, ":");
		if (!n)
			continue;
		if (by_id)
			len = snprintf(path, sizeof(path), "%.*s/.build-id/%.2s/%s.debug", (int)n,
				       p, e->build_id, e->build_id + 2);
		else
			len = snprintf(path, sizeof(path), "%.*s%s/%s", (int)n, p, own,
				       e->debuglink);
		if (len > 0 && (size_t)len < sizeof(path) && try_debug(e, path, !by_id))
			return true;
	}
	return false;
}

struct dc_elf *dc_elf__debug_file(struct dc_elf *e)
{
	const char *dirs = getenv("DATACRUMBS_DEBUG_DIRS");
	char path[PATH_MAX], own[PATH_MAX];

	/* An image in memory has no place in the file system to look from. */
	if (e->debug_searched || e->fd < 0)
		return e->debug;
	e->debug_searched = true;
	if (!dirs)
		dirs = DEFAULT_DEBUG_DIRS;
	if (strlen(e->build_id) > 2 && search_debug_dirs(e, dirs, true))
		return e->debug;
	if (!e->debuglink)
		return NULL;
	dir_of(e->path, own, sizeof(own));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", own, e->debuglink) < sizeof(path) &&
	    try_debug(e, path, true))
		return e->debug;
	if ((size_t)snprintf(path, sizeof(path), "%s/.debug/%s", own, e->debuglink) <
		    sizeof(path) &&
	    try_debug(e, path, true))
		return e->debug;
	search_debug_dirs(e, dirs, false);
	return e->debug;
}

void dc_elf__close(struct dc_elf *e)
{
	size_t i;

	if (!e)
		return;
	while (e->strings) {
		struct dc_strings *next = e->strings->next;

		free(e->strings);
		e->strings = next;
	}
	for (i = 0; i < e->nusdt; i++) {
		free(e->usdt[i].provider);
		free(e->usdt[i].name);
		free(e->usdt[i].args);
	}
	free(e->funcs);
	free(e->usdt);
	free(e->sites);
	free(e->site_funcs);
	free(e->loads);
	free(e->debuglink);
	dc_elf__close(e->debug);
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->path);
	free(e);
}
