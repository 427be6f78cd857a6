/* SPDX-License-Identifier: MIT */
/* Internals of datacrumbs-generate, shared by its source files. */
#ifndef DC_GEN_H
#define DC_GEN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dc_buf.h"
#include "dc_capture.h"
#include "dc_config.h"
#include "dc_kernel.h"
#include "dc_manifest.h"
#include "dc_record.h"
#include "dc_tpformat.h"

/* The config entry that made a piece of generated code, for error messages. */
struct gen_origin {
	const char *path; /* interned in struct gen */
	struct dc_loc loc;
};

/* How a class's programs are shaped, besides the capture. */
enum gen_shape {
	GEN_PAIR, /* entry + exit on one thread's stack */
	GEN_POINT, /* one program, a point event */
	GEN_KEYED, /* entry + exit joined by a key of event fields */
};

/*
 * One set of BPF programs (dc_c<N>_entry and, for pairs, dc_c<N>_exit).
 * Every probe of the same kind, shape and capture shares it; fentry
 * programs are bound to one function at load, so each has its own.
 */
struct gen_class {
	enum dc_kind kind;
	enum gen_shape shape;
	struct dc_capture cap;
	uint32_t probe; /* fentry: the one probe */
	uint8_t nparams; /* fentry: where fexit finds the return value */
	bool ret_void; /* fentry: nothing to read */
	bool sys_raw, sys_tp; /* system calls: some by number, some by their tracepoints */
	struct gen_origin origin;
};

/* A custom hook: the user's BPF C, compiled as part of the object. */
struct gen_hook {
	char *path;
	char *text;
	uint32_t base; /* DC_HOOK_ID(0) */
	uint32_t count;
	struct gen_origin origin;
};

/* Lines of the rendered C and what produced them. */
struct gen_span {
	size_t first, last; /* 1-based, inclusive */
	struct gen_origin origin;
	const struct gen_hook *hook; /* set: the lines are the hook's own, from line 1 */
};

struct gen_seen; /* names and offsets already probed */

struct gen {
	struct dc_manifest man;
	struct gen_class *classes;
	size_t nclasses, cap_classes;
	struct gen_hook *hooks;
	size_t nhooks;
	struct gen_span *spans; /* filled by gen__render */
	size_t nspans, cap_spans;
	char **paths; /* interned config paths */
	size_t npaths;
	struct gen_seen *seen;
	size_t repeats; /* selections of what was already probed */
	size_t skipped; /* what optional groups found missing: binaries, events, functions */
	struct dc_names syscalls; /* loaded on first use */
	bool sys_tracepoints; /* no dispatcher: every system call on its tracepoints */
	uint8_t sysnr_used[DC_SYSNR_MAX / 8]; /* numbers the dispatcher has a probe for */
	struct dc_names tracepoints;
	struct gen_kbtf *kbtf;
	const char *tracefs;
	size_t skipped_names; /* symbols whose names cannot be probe names */
	const char *first_skipped;
	char first_skipped_buf[80];
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
/* Renders the BPF C for @g through the templates, recording g->spans. */
int gen__render(struct gen *g, const struct gen_dirs *d, struct dc_buf *out);
/*
 * Compiles @c_path into @obj_path with clang, exec'd without a shell. A
 * clang error is reported with the config entry whose code it is in.
 */
int gen__compile(const struct gen *g, const struct gen_dirs *d, const char *c_path,
		 const char *obj_path);
/* Removes DWARF from @obj_path, keeping BTF; a no-op without llvm-strip. */
int gen__strip(const char *obj_path);
/* The content key of an object: rendered C, compiler and included headers. */
int gen__cache_key(const struct gen_dirs *d, const struct dc_buf *c, char key[65]);
/* Copies the cached object for @key to @obj_path; -ENOENT on a miss. */
int gen__cache_get(const char *key, const char *obj_path);
/* Stores @obj_path under @key; failures only cost the next run its speed. */
void gen__cache_put(const char *key, const char *obj_path);
/* Lists the hook programs of the compiled @obj_path in the manifest. */
int gen__hooks(struct gen *g, const char *obj_path);
/* Loads @obj_path into the kernel to run the verifier on it, then unloads it. */
int gen__verify(const struct gen *g, const char *obj_path);
void gen__free(struct gen *g);

/*
 * The number of system call @sys (a tracepoint name) on this architecture,
 * or -1 when it has none below DC_SYSNR_MAX, so that it needs tracepoints.
 */
int gen__sysnr(const char *sys);

/* Resolving captures, per kind (args.c). */
struct gen_kfunc;
struct gen_argctx {
	enum dc_kind kind;
	const char *name; /* the function, system call or probe, for messages */
	const struct dc_tpformat *tp, *xtp; /* tracepoint: entry and exit event */
	const struct gen_kfunc *fn; /* kprobe, fentry */
	struct gen_kbtf *kbtf;
	int nargs; /* arguments there are, or -1 when unknown */
};
int gen_capture(const struct dc_config *cfg, const struct dc_fnspec *fs,
		const struct gen_argctx *ax, struct dc_capture *out);
/* The capture of a tracepoint pair chosen by match: ret from the exit's "ret" field. */
void gen_tp_default(const struct gen_argctx *ax, struct dc_capture *out);

/* The kernel's BTF (kbtf.c). */
struct gen_kfunc {
	const char *name;
	int nparams;
	const char *pname[12];
	uint32_t ptype[12];
	int psize[12];
	bool psigned[12];
	bool ret_void;
	int ret_size;
	bool ret_signed;
};
int gen_kbtf__load(struct gen_kbtf **out);
/* -ENOENT when the kernel has no such function. */
int gen_kbtf__func(struct gen_kbtf *k, const char *name, struct gen_kfunc *out);
/* Every function of the kernel's BTF, sorted. */
const struct dc_names *gen_kbtf__names(struct gen_kbtf *k);
/*
 * Resolves "m1.m2->m3" from parameter @arg of @fn into a CO-RE access
 * (dc_src core), with the leaf's size and sign. A string wants a char
 * pointer at the end; a number an integer, enum or pointer.
 */
int gen_kbtf__chain(struct gen_kbtf *k, const struct gen_kfunc *fn, int arg, const char *members,
		    bool string, struct dc_src *out);
void gen_kbtf__free(struct gen_kbtf *k);

#endif
