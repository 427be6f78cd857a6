// SPDX-License-Identifier: MIT
/*
 * USDT probes from an ELF file's .note.stapsdt: provider, name and the
 * typed argument specs ("-4@%edi" is a signed 4-byte value in edi). libbpf
 * finds the call sites again at attach time; here they are only checked.
 */
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "dc_elf.h"
#include "dc_err.h"
#include "gen.h"

#define NT_STAPSDT 3

static int count_args(const char *s)
{
	int n = 0;

	while (*s) {
		s += strspn(s, " ");
		if (!*s)
			break;
		n++;
		s += strcspn(s, " ");
	}
	return n;
}

/* One note: three addresses (pc, base, semaphore), then three strings. */
static int add_note(const char *desc, size_t len, struct gen_usdt **v, size_t *n)
{
	const char *end = desc + len, *prov = desc + 24, *name, *args;
	struct gen_usdt *u;

	if (len < 24 + 3 || !memchr(prov, '\0', end - prov))
		return 0;
	name = prov + strlen(prov) + 1;
	if (name >= end || !memchr(name, '\0', end - name))
		return 0;
	args = name + strlen(name) + 1;
	if (args >= end || !memchr(args, '\0', end - args))
		args = "";
	u = realloc(*v, (*n + 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	*v = u;
	u = &u[*n];
	u->provider = strdup(prov);
	u->name = strdup(name);
	u->args = strdup(args);
	u->argc = count_args(args);
	(*n)++;
	return u->provider && u->name && u->args ? 0 : -ENOMEM;
}

int gen_usdt__load(const char *path, struct gen_usdt **out, size_t *n)
{
	struct dc_elf *e = NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int err;

	*out = NULL;
	*n = 0;
	err = dc_elf__open(path, &e);
	if (err)
		return err;
	if (elf_getshdrstrndx(e->elf, &shstrndx)) {
		err = dc_err(-EINVAL, "%s: no section names", path);
		goto out;
	}
	while (!err && (scn = elf_nextscn(e->elf, scn))) {
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;
		GElf_Shdr sh;
		const char *sn;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		sn = elf_strptr(e->elf, shstrndx, sh.sh_name);
		d = elf_getdata(scn, NULL);
		if (!sn || strcmp(sn, ".note.stapsdt") || !d)
			continue;
		while (!err && (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0)
			if (nh.n_type == NT_STAPSDT && nh.n_namesz == 8 &&
			    !memcmp((const char *)d->d_buf + noff, "stapsdt", 8))
				err = add_note((const char *)d->d_buf + doff, nh.n_descsz, out, n);
	}
out:
	dc_elf__close(e);
	if (err) {
		gen_usdt__free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return err;
}

void gen_usdt__free(struct gen_usdt *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].provider);
		free(v[i].name);
		free(v[i].args);
	}
	free(v);
}
