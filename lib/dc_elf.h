/* SPDX-License-Identifier: MIT */
/* Function symbols of an ELF file, with the file offsets uprobes attach at. */
#ifndef DC_ELF_H
#define DC_ELF_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	DC_SYM_DYNSYM = 1 << 0,
	DC_SYM_SYMTAB = 1 << 1,
};

struct dc_func {
	char *name; /* without any @version suffix */
	char *version; /* NULL when unversioned */
	bool hidden_version; /* name@VER rather than name@@VER */
	bool ifunc; /* the address is the resolver, not the implementation */
	unsigned char bind; /* STB_GLOBAL, STB_WEAK or STB_LOCAL */
	unsigned int sources; /* DC_SYM_* tables the symbol was seen in */
	uint64_t addr;
	uint64_t size;
	uint64_t offset; /* file offset, where a uprobe goes */
};

struct dc_elf {
	char *path;
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	char build_id[41]; /* hex, empty when the file has none */
	struct dc_func *funcs; /* sorted by name, then address */
	size_t nfuncs;
};

/*
 * Opens a 64-bit ELF file of this machine's architecture. Anything else
 * (a directory, a FIFO, a device, a truncated or foreign file) is an error
 * with a message naming the problem.
 */
int dc_elf__open(const char *path, struct dc_elf **out);
/* Reads the defined functions of .dynsym and .symtab into e->funcs. */
int dc_elf__load_funcs(struct dc_elf *e);
/* The function named @name, preferring a default version and global binding. */
const struct dc_func *dc_elf__find(const struct dc_elf *e, const char *name);
/* Maps a virtual address to its file offset through the program headers. */
int dc_elf__offset(const struct dc_elf *e, uint64_t addr, uint64_t *offset);
void dc_elf__close(struct dc_elf *e);

#endif
