/* SPDX-License-Identifier: MIT */
/*
 * The manifest makes a generated .bpf.o self-describing: it lists every
 * probe (id, kind, category, name, where it attaches and what it captures)
 * in the object's ".datacrumbs" section, so datacrumbs-run needs nothing
 * but the object. It is text, one tab-separated record per line.
 */
#ifndef DC_MANIFEST_H
#define DC_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dc_buf.h"
#include "dc_capture.h"

#define DC_MANIFEST_SECTION ".datacrumbs"

struct dc_mtarget {
	char *path;
	char build_id[41]; /* empty when unknown */
};

/*
 * Probe kinds, as the manifest spells them:
 *   'u' uprobe + uretprobe on target+offset      programs dc_c<cls>_entry/_exit
 *   's' system call <sys>: number @sysnr on raw_syscalls      dc_sys_enter/_exit
 *       sys_enter/exit, else its tracepoints sys_enter/exit_<sys> dc_c<cls>_entry/_exit
 *   't' tracepoint @point, paired with @exit_point if set     dc_c<cls>_entry[/_exit]
 *   'k' kprobe + kretprobe on kernel function @point          dc_c<cls>_entry/_exit
 *   'f' fentry + fexit on kernel function @point              dc_f<id>_entry/_exit
 *   'd' USDT probe @point of target, paired with @exit_point  dc_c<cls>_entry[/_exit]
 *   'c' an event of a custom hook; the hook's programs are listed as hooks
 */
struct dc_mprobe {
	uint32_t id; /* the BPF cookie; equal to the index */
	char kind;
	uint32_t cls; /* capture class */
	char *module; /* the config the probe came from */
	char *cat;
	char *name;
	uint32_t target; /* 'u', 'd': index into targets */
	char *sys; /* 's': system call name */
	bool sys_raw; /* 's': traced by the dispatcher, as number sysnr */
	uint32_t sysnr;
	char *point; /* 't': group:event, 'k'/'f': function, 'd': provider:name */
	char *exit_point; /* 't', 'd': the event ending the span, or NULL */
	uint64_t offset; /* 'u': file offset in the target */
	uint8_t nfields;
	char field[DC_MAX_ARGS][DC_FIELD_MAX];
};

/* A tracepoint field the programs read, as the generating kernel laid it out. */
struct dc_mcheck {
	uint32_t probe;
	char *event; /* group:event */
	char *field;
	uint16_t off;
	uint8_t size;
	bool is_signed;
};

/* A program of a custom hook, attached by its section name. */
struct dc_mhook {
	uint32_t probe; /* the first event of the hook's group */
	char *prog;
};

struct dc_manifest {
	char *config; /* module names, joined with '+' */
	struct dc_mtarget *targets;
	size_t ntargets;
	struct dc_mprobe *probes;
	size_t nprobes;
	struct dc_mcheck *checks;
	size_t nchecks;
	struct dc_mhook *hooks;
	size_t nhooks;
	size_t cap_targets, cap_probes, cap_checks, cap_hooks;
};

/* The kind letter's name: uprobe, syscall, tracepoint, ... */
const char *dc_mkind_name(char kind);

int dc_manifest__add_target(struct dc_manifest *m, const char *path, const char *build_id,
			    uint32_t *idx);
/* Copies the strings of @p; assigns p->id. */
int dc_manifest__add_probe(struct dc_manifest *m, const struct dc_mprobe *p);
int dc_manifest__add_check(struct dc_manifest *m, const struct dc_mcheck *c);
int dc_manifest__add_hook(struct dc_manifest *m, uint32_t probe, const char *prog);
int dc_manifest__encode(const struct dc_manifest *m, struct dc_buf *out);
/* Parses and validates; every malformed line is an error naming it. */
int dc_manifest__decode(const char *data, size_t len, struct dc_manifest **out);
/* Adds the encoded manifest to the ELF object at @path, in place. */
int dc_manifest__attach(const char *path, const struct dc_buf *encoded);
/* Reads the manifest out of a generated object. */
int dc_manifest__read(const char *path, struct dc_manifest **out);
/* Frees what @m holds, leaving it empty. */
void dc_manifest__clear(struct dc_manifest *m);
void dc_manifest__free(struct dc_manifest *m);

#endif
