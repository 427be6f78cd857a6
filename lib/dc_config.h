/* SPDX-License-Identifier: MIT */
/*
 * Module configs: YAML files that say what to probe. Every error names
 * file:line:col. The schema is in docs/config.md.
 */
#ifndef DC_CONFIG_H
#define DC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "dc_capture.h"

enum dc_kind {
	DC_KIND_UPROBE, /* functions of an ELF file: uprobe + uretprobe */
	DC_KIND_SYSCALL, /* system calls: sys_enter_* + sys_exit_* tracepoints */
};

struct dc_loc {
	int line; /* 1-based */
	int col;
};

struct dc_fnspec {
	char *name;
	bool has_capture; /* else the catalogue decides */
	struct dc_capture cap;
	struct dc_loc loc;
};

struct dc_pattern {
	char *re; /* POSIX extended regular expression */
	struct dc_loc loc;
};

struct dc_group {
	char *name;
	enum dc_kind kind;
	char *cat;
	char *binary; /* DC_KIND_UPROBE: a path or a library name */
	struct dc_fnspec *fns;
	size_t nfns;
	struct dc_pattern *match;
	size_t nmatch;
	struct dc_pattern *exclude;
	size_t nexclude;
	struct dc_loc loc;
	struct dc_loc binary_loc;
};

struct dc_config {
	char *path;
	char *module;
	struct dc_group *groups;
	size_t ngroups;
};

int dc_config__load(const char *path, struct dc_config **out);
void dc_config__free(struct dc_config *c);
/* "path:line:col: " prefix for messages about @loc in @c. */
int dc_config__err(const struct dc_config *c, struct dc_loc loc, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Symbol names that may appear in a config: C and C++ (mangled) identifiers. */
bool dc_symbol_name_ok(const char *name);
/* Category and module names: [A-Za-z0-9_.-], at most 63 characters. */
bool dc_label_ok(const char *s);

const char *dc_kind_name(enum dc_kind k);

#endif
