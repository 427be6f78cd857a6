/* SPDX-License-Identifier: MIT */
/* Internals of datacrumbs-generate, shared by its source files. */
#ifndef DC_GEN_H
#define DC_GEN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "dc_buf.h"
#include "dc_capture.h"
#include "dc_config.h"
#include "dc_manifest.h"

/* One pair of BPF programs; every probe with this kind and capture uses it. */
struct gen_class {
	enum dc_kind kind;
	struct dc_capture cap;
};

struct gen {
	struct dc_manifest man;
	struct gen_class *classes;
	size_t nclasses;
	size_t cap_classes;
};

/* Where the templates, vmlinux.h and the bundled configs are. */
struct gen_dirs {
	char templates[PATH_MAX];
	char include[PATH_MAX]; /* holds vmlinux.h */
	char configs[PATH_MAX];
};

int gen_dirs__find(struct gen_dirs *d);
/* "posix" means the bundled configs/posix.yaml when no such file exists here. */
int gen_config_path(const struct gen_dirs *d, const char *arg, char *out, size_t outlen);

/* Adds every probe @cfg selects to @g. */
int gen__resolve(struct gen *g, const struct dc_config *cfg);
/* Renders the BPF C for @g through the templates. */
int gen__render(const struct gen *g, const struct gen_dirs *d, struct dc_buf *out);
/* Compiles @c_path into @obj_path with clang, exec'd without a shell. */
int gen__compile(const struct gen_dirs *d, const char *c_path, const char *obj_path);
void gen__free(struct gen *g);

#endif
