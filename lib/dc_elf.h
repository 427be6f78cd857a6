/* SPDX-License-Identifier: MIT */
/*
 * Function symbols and USDT probes of an ELF file, with the file offsets
 * uprobes attach at, and the separate debug file that may complete them.
 */
#ifndef DC_ELF_H
#define DC_ELF_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	DC_SYM_DYNSYM = 1 << 0,
	DC_SYM_SYMTAB = 1 << 1,
	DC_SYM_DEBUG = 1 << 2, /* .symtab of the separate debug file */
};

struct dc_func {
	const char *name; /* without any @version suffix */
	const char *version; /* NULL when unversioned */
	bool hidden_version; /* name@VER rather than name@@VER */
	bool ifunc; /* the address is the resolver, not the implementation */
	bool returns_twice; /* see dc_returns_twice() */
	bool reads_caller; /* see dc_reads_caller() */
	unsigned char bind; /* STB_GLOBAL, STB_WEAK or STB_LOCAL */
	unsigned int sources; /* DC_SYM_* tables the symbol was seen in */
	uint64_t addr;
	uint64_t size;
	uint64_t offset; /* file offset, where a uprobe goes */
};

/* Several names at one address: one place to probe. */
struct dc_site {
	size_t first; /* into dc_elf.site_funcs; the preferred name comes first */
	size_t n;
};

/* One .note.stapsdt entry. */
struct dc_usdt {
	char *provider;
	char *name;
	char *args; /* the argument spec, e.g. "-4@%edi 8@%rsi" */
	uint64_t addr; /* adjusted for .stapsdt.base */
	uint64_t offset; /* file offset of the probe's nop */
	uint64_t sema_addr; /* 0: no semaphore */
	uint64_t sema_offset; /* file offset of the semaphore, for ref_ctr_offset */
};

struct dc_elf {
	char *path;
	int fd;
	Elf *elf;
	uint64_t size;
	GElf_Ehdr ehdr;
	char build_id[41]; /* hex, empty when the file has none */
	char *debuglink; /* .gnu_debuglink file name, or NULL */
	uint32_t debuglink_crc;
	struct dc_elf *debug; /* the separate debug file, once found */
	bool debug_searched;
	struct dc_func *funcs; /* sorted by name, then address */
	size_t nfuncs;
	size_t nsyms[3]; /* function symbols per table, in DC_SYM_* bit order */
	struct dc_site *sites; /* dc_elf__sites(): sorted by preferred name */
	size_t nsites;
	size_t *site_funcs; /* indexes into funcs */
	struct dc_usdt *usdt; /* dc_elf__load_usdt(): in note order */
	size_t nusdt;
	GElf_Phdr *loads; /* the PT_LOAD program headers */
	size_t nloads;
	struct dc_strings *strings; /* names that are not the ELF file's own strings */
};

/*
 * True for functions that return more than once (the setjmp family,
 * getcontext, vfork). A return probe replaces their return address; when
 * they return the second time, through a copy of that address, the kernel
 * has no record of it and kills the program with SIGILL. Such functions get
 * no probes at all: every process using the library would be at risk.
 */
bool dc_returns_twice(const char *name);
/*
 * True for functions that look at their own return address to find the
 * library that called them (dlopen, dlmopen, dlsym, dlvsym and
 * dl_iterate_phdr pick the namespace, RTLD_NEXT or $ORIGIN by it). A
 * return probe replaces that address with the kernel's trampoline, so
 * RTLD_NEXT finds nothing and every ASan program or LD_PRELOAD interposer on
 * the machine breaks while the probe is attached. They get no probes.
 */
bool dc_reads_caller(const char *name);
/* Why @fn cannot take a return probe ("returns twice: ..."), or NULL. */
const char *dc_func_no_return_probe(const struct dc_func *fn);

/*
 * Opens a 64-bit little-endian ELF executable or shared object of this
 * machine's architecture. Anything else (a directory, a FIFO, a device, a
 * truncated or foreign file) is an error with a message naming the problem.
 */
int dc_elf__open(const char *path, struct dc_elf **out);
/* The same for @size bytes at @image, which must outlive the object. */
int dc_elf__open_mem(void *image, size_t size, const char *label, struct dc_elf **out);
/*
 * Reads the defined functions of .dynsym and .symtab into e->funcs; a file
 * without .symtab takes it from its separate debug file when there is one.
 */
int dc_elf__load_funcs(struct dc_elf *e);
/* Groups e->funcs by address into e->sites. */
int dc_elf__sites(struct dc_elf *e);
/* Reads the USDT probes of .note.stapsdt into e->usdt. */
int dc_elf__load_usdt(struct dc_elf *e);
/* One argument of a USDT spec: "-4@%edi" is a signed 4-byte value in %edi. */
struct dc_usdt_arg {
	int size; /* bytes, negative when signed; 0 when the spec gives none */
	const char *loc; /* into the spec, not terminated */
	size_t loclen;
};

/* Splits a USDT argument spec; returns how many arguments it has, up to @max. */
size_t dc_usdt_args(const char *spec, struct dc_usdt_arg *out, size_t max);
/* The function named @name, preferring a default version and global binding. */
const struct dc_func *dc_elf__find(const struct dc_elf *e, const char *name);
/* Maps a virtual address to its file offset through the program headers. */
int dc_elf__offset(const struct dc_elf *e, uint64_t addr, uint64_t *offset);
/*
 * Finds the separate debug file by build-id, then by .gnu_debuglink (whose
 * CRC must match), in the directories of DATACRUMBS_DEBUG_DIRS (colon
 * separated; default /usr/lib/debug). Returns e->debug, or NULL.
 */
struct dc_elf *dc_elf__debug_file(struct dc_elf *e);
/* "shared object", "PIE executable" or "executable". */
const char *dc_elf__type_name(const struct dc_elf *e);
void dc_elf__close(struct dc_elf *e);

#endif
