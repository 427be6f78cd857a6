/* SPDX-License-Identifier: MIT */
/* datacrumbs-explore: what it found, shared by the three output formats. */
#ifndef EXPLORE_H
#define EXPLORE_H

#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dc_btf.h"
#include "dc_buf.h"
#include "dc_dwarf.h"
#include "dc_elf.h"
#include "dc_kernel.h"
#include "dc_proto.h"

enum kind {
	K_FUNCTION,
	K_USDT,
	K_SYSCALL,
	K_TRACEPOINT,
	K_KFUNC,
	K_COUNT,
};

enum format { F_TABLE, F_JSON, F_YAML };

struct opts {
	const char *target;
	bool kernel;
	unsigned int kinds; /* 1 << enum kind; 0 until chosen */
	regex_t *match, *exclude;
	size_t nmatch, nexclude;
	size_t limit; /* per kind; 0: none */
	enum format format;
	int prototypes; /* -1 default (on for YAML), 0 off, 1 on */
};

/* A system call: its enter and exit tracepoints. */
struct syscall {
	char name[64];
	struct dc_event *enter; /* NULL when only known from BTF */
	bool has_exit;
};

struct explore {
	struct opts o;
	/* The ELF file. */
	char path[PATH_MAX];
	char how[PATH_MAX + 64];
	struct dc_elf *elf;
	struct dc_dwarf *dwarf;
	struct dc_proto *protos; /* per selected function site */
	bool *has_proto;
	/* The kernel. */
	const char *tracefs;
	struct dc_events events;
	struct syscall *syscalls;
	size_t nsyscalls;
	struct dc_kfuncs kfuncs;
	struct dc_caps caps;
	/* Selected entries per kind: indexes in sorted order. */
	size_t *sel[K_COUNT];
	size_t nsel[K_COUNT];
	size_t matched[K_COUNT]; /* before --limit */
	size_t names; /* function names at the matched addresses */
	size_t tp_systems; /* systems of the matched tracepoints */
};

static inline bool want(const struct explore *x, enum kind k)
{
	return x->o.kinds & (1u << k);
}

const char *kind_name(enum kind k);
bool name_selected(const struct opts *o, const char *name);
/* The function site of the i-th selected function. */
const struct dc_site *sel_site(const struct explore *x, size_t i);
const struct dc_func *site_func(const struct explore *x, const struct dc_site *s, size_t j);
/* A syscall's arguments as a prototype, from its sys_enter format. */
int syscall_proto(const struct syscall *s, struct dc_proto *p);
/* Whether the kernel entry can be attached here: 1, 0, or -1 unknown. */
int tracepoint_ok(const struct explore *x, const struct dc_event *ev);
int syscall_ok(const struct explore *x, const struct syscall *s);
int kfunc_ok(const struct explore *x);
/* A kernel function's prototype in @b; empty when BTF has none. */
int kfunc_proto_text(struct explore *x, const struct dc_kfunc *k, struct dc_buf *b);
/* Prints @s with control characters and non-ASCII bytes escaped as \xNN. */
void put_safe(FILE *f, const char *s);

int print_table(struct explore *x, FILE *f);
int print_json(struct explore *x, FILE *f);
int print_yaml(struct explore *x, FILE *f);

#endif
