/* SPDX-License-Identifier: MIT */
/*
 * Module configs: YAML files that say what to probe. Every error names
 * file:line:col. The schema is in docs/config.md.
 */
#ifndef DC_CONFIG_H
#define DC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dc_capture.h"

enum dc_kind {
	DC_KIND_UPROBE, /* functions of an ELF file: uprobe + uretprobe */
	DC_KIND_SYSCALL, /* system calls: sys_enter_* + sys_exit_* tracepoints */
	DC_KIND_TRACEPOINT, /* kernel tracepoints: point events, or pairs */
	DC_KIND_KPROBE, /* kernel functions: kprobe + kretprobe */
	DC_KIND_FENTRY, /* kernel functions: fentry + fexit */
	DC_KIND_USDT, /* USDT probes of an ELF file: point events, or pairs */
	DC_KIND_CUSTOM, /* a BPF C hook file of the user's own */
	DC_KIND_COUNT,
};

struct dc_loc {
	int line; /* 1-based */
	int col;
};

/*
 * One "field: source" of a capture, as written. The source is checked for
 * form here and resolved by the generator, which knows the kind's arguments:
 * "2" (an argument), "*4" (what argument 4 points to), "count" (a kernel
 * function's parameter or a tracepoint field), "file->f_inode->i_ino" (CO-RE).
 */
struct dc_argspec {
	char name[DC_FIELD_MAX];
	char *ref;
	struct dc_loc loc;
};

struct dc_fnspec {
	char *name;
	char *exit; /* tracepoint, usdt: the event that ends the span */
	char *as; /* the event's name in the trace */
	struct dc_argspec *args;
	size_t nargs;
	char **key; /* tracepoint pairs: fields joining the two ends */
	size_t nkey;
	int ret_ns; /* ret: a handle namespace, or -1 */
	bool ret_i32; /* ret: int (or fd) rather than long */
	bool has_ret;
	struct dc_argspec out; /* out: {NS: N}; name holds the namespace */
	bool has_out;
	bool closes;
	bool has_capture; /* else the catalogue decides */
	struct dc_loc loc, exit_loc, key_loc, ret_loc;
};

/* One value of a key that takes a value or a list of them. */
struct dc_value {
	char *s;
	struct dc_loc loc;
};

struct dc_group {
	char *name;
	enum dc_kind kind;
	char *cat;
	struct dc_value *binary; /* uprobe, usdt: paths or library names */
	size_t nbinary;
	bool optional; /* uprobe, usdt: no binary found skips the group */
	char *source; /* custom: the hook file, resolved against the config's directory */
	struct dc_fnspec *fns;
	size_t nfns;
	struct dc_value *match; /* POSIX extended regular expressions */
	size_t nmatch;
	struct dc_value *exclude;
	size_t nexclude;
	bool pairs; /* tracepoint, usdt: match pairs X_enter with X_exit and the like */
	struct dc_loc loc;
	struct dc_loc source_loc;
};

struct dc_config {
	char *path;
	char *module;
	struct dc_group *groups;
	size_t ngroups;
	struct dc_value *include; /* other configs, resolved against this one's directory */
	size_t ninclude;
};

int dc_config__load(const char *path, struct dc_config **out);
/* The same from an open stream; @path names it in messages and anchors relative sources. */
int dc_config__read(const char *path, FILE *f, struct dc_config **out);
void dc_config__free(struct dc_config *c);
/* "path:line:col: " prefix for messages about @loc in @c. */
int dc_config__err(const struct dc_config *c, struct dc_loc loc, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Symbol names that may appear in a config: C and C++ (mangled) identifiers. */
bool dc_symbol_name_ok(const char *name);
/* Category and module names: [A-Za-z0-9_.-], at most 63 characters. */
bool dc_label_ok(const char *s);
/* "group:event" or "provider:name", each part a C identifier. */
bool dc_pair_name_ok(const char *s);

const char *dc_kind_name(enum dc_kind k);

#endif
