/* SPDX-License-Identifier: MIT */
/*
 * The manifest makes a generated .bpf.o self-describing: it lists every
 * probe (id, kind, category, name, where it attaches and what it captures)
 * in the object's ".datacrumbs" section, so datacrumbs-run needs nothing
 * but the object. It is text, one tab-separated record per line.
 */
#ifndef DC_MANIFEST_H
#define DC_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "dc_buf.h"
#include "dc_capture.h"

#define DC_MANIFEST_SECTION ".datacrumbs"

struct dc_mtarget {
	char *path;
	char build_id[41]; /* empty when unknown */
};

struct dc_mprobe {
	uint32_t id; /* the BPF cookie; equal to the index */
	char kind; /* 'u' uprobe pair, 's' system call pair */
	uint32_t cls; /* capture class: programs dc_c<cls>_entry / _exit */
	char *cat;
	char *name;
	uint32_t target; /* 'u': index into targets */
	char *sys; /* 's': system call name */
	uint64_t offset; /* 'u': file offset in the target */
	uint8_t nfields;
	char field[DC_MAX_ARGS][DC_FIELD_MAX];
};

struct dc_manifest {
	char *config; /* module names, joined with '+' */
	struct dc_mtarget *targets;
	size_t ntargets;
	struct dc_mprobe *probes;
	size_t nprobes;
	size_t cap_targets, cap_probes;
};

int dc_manifest__add_target(struct dc_manifest *m, const char *path, const char *build_id,
			    uint32_t *idx);
/* Copies the strings of @p; assigns p->id. */
int dc_manifest__add_probe(struct dc_manifest *m, const struct dc_mprobe *p);
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
