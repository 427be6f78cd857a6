/* SPDX-License-Identifier: MIT */
/* What the running kernel offers to probe, and what can attach here. */
#ifndef DC_KERNEL_H
#define DC_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

struct dc_names {
	char **v; /* sorted */
	size_t n;
};

/*
 * System calls that have tracepoints, from tracefs when it is readable and
 * otherwise from the kernel's BTF (the __x64_sys_* functions).
 */
int dc_syscalls(struct dc_names *out);
bool dc_names_has(const struct dc_names *s, const char *name);
void dc_names_free(struct dc_names *s);
/* The tracefs mount point, mounting it if root and it is not mounted. */
const char *dc_tracefs(bool mount_it);
/* The same, or an error saying why there is none: not mounted, or not readable. */
int dc_tracefs_need(const char **out);

/* A field of a trace event, from its format file. */
struct dc_kfield {
	char *name;
	char *type; /* "unsigned int", "const char *", "char[16]" */
	unsigned int offset, size;
	bool is_signed;
};

struct dc_event {
	char *system;
	char *name;
	int id; /* -1 until dc_event__format(), or when it has none */
	struct dc_kfield *fields; /* without the common_* header fields */
	size_t nfields;
	bool formatted;
};

struct dc_events {
	struct dc_event *v; /* sorted by system, then name */
	size_t n;
};

/* Lists every event under @tracefs/events. */
int dc_events__load(const char *tracefs, struct dc_events *out);
/* Reads @ev's format file: its id and fields. */
int dc_event__format(const char *tracefs, struct dc_event *ev);
void dc_events__free(struct dc_events *ev);

/* Ways to attach to the kernel, each checked on the running kernel. */
enum dc_attach {
	DC_ATTACH_TRACEPOINT,
	DC_ATTACH_KPROBE,
	DC_ATTACH_FENTRY,
	DC_ATTACH_COUNT,
};

struct dc_caps {
	int ok[DC_ATTACH_COUNT]; /* 1 works, 0 does not, -1 could not be checked */
	char why[DC_ATTACH_COUNT][160];
};

/*
 * Tries each way with a minimal BPF program: tracepoints on @tracefs's
 * sys_enter_getpid, kprobes and fentry on the kernel function @kfunc.
 */
void dc_caps__probe(struct dc_caps *c, const char *tracefs, const char *kfunc);
const char *dc_attach_name(enum dc_attach a);

#endif
