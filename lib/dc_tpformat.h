/* SPDX-License-Identifier: MIT */
/*
 * Kernel tracepoints as tracefs describes them: which exist, and the layout
 * of each one's record (events/<group>/<event>/format).
 */
#ifndef DC_TPFORMAT_H
#define DC_TPFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dc_kernel.h"

struct dc_tpfield {
	char *type; /* as declared: "const char *", "__data_loc char[]", "int" */
	char *name;
	uint16_t off, size;
	bool is_signed;
	bool data_loc; /* a string stored after the fixed fields */
	bool array; /* name[N] */
	bool pointer;
};

struct dc_tpformat {
	struct dc_tpfield *fields; /* without the common_* header */
	size_t nfields;
	uint32_t size; /* bytes of the fixed part: what a program may read */
};

/*
 * Reads the format of @event ("group:event"). -ENOENT when there is no such
 * tracepoint, -EACCES when tracefs is not readable (it wants root).
 */
int dc_tpformat__read(const char *tracefs, const char *event, struct dc_tpformat *out);
const struct dc_tpfield *dc_tpformat__field(const struct dc_tpformat *f, const char *name);
void dc_tpformat__free(struct dc_tpformat *f);
/* Every "group:event" under @tracefs, sorted. */
int dc_tp_list(const char *tracefs, struct dc_names *out);

#endif
