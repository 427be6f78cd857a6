/* SPDX-License-Identifier: MIT */
/*
 * What one probe records besides timing: which arguments land in which
 * fields, which argument names a file, and what the return value means.
 * Probes with equal captures share one pair of BPF programs.
 */
#ifndef DC_CAPTURE_H
#define DC_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "../templates/dc_record.h"

#define DC_FIELD_MAX 24
#define DC_ARG_MAX 6 /* arguments a probe can read: arg0 .. arg5 */

struct dc_capture {
	uint8_t nfields;
	struct {
		char name[DC_FIELD_MAX];
		int8_t arg;
		bool i32; /* a C int: sign-extended from its low 32 bits */
	} field[DC_MAX_ARGS];
	int8_t fd_arg; /* argument that is a file descriptor, or -1 */
	int8_t path_arg; /* argument that is a path string, or -1 */
	uint8_t ret; /* enum dc_ret_role */
	bool ret_i32; /* the function returns a C int */
	bool closes; /* a successful call ends the descriptor */
};

/* No capture: timing and return value only. */
void dc_capture_init(struct dc_capture *c);
/*
 * Adds field @name from argument @arg. "fd" and "path" are roles as well as
 * names: an fd is looked up for its file name, a path is hashed into fhash
 * and is not a numeric field. Well-known int names (fd, flags, mode, ...)
 * are read as C ints, everything else as 64-bit values.
 */
int dc_capture_add(struct dc_capture *c, const char *name, int arg);
/*
 * True when both compile to the same BPF code: equal argument slots and
 * roles. Field names only label the output and may differ.
 */
bool dc_capture_same_code(const struct dc_capture *a, const struct dc_capture *b);
/* A field name a user may choose: [a-z_][a-z0-9_]*, not a reserved one. */
bool dc_field_name_ok(const char *name);

/*
 * The built-in catalogue: captures for common POSIX, STDIO and system calls,
 * by function name. Returns false when @name is not in it.
 */
bool dc_catalog_lookup(const char *name, bool syscall, struct dc_capture *out);

#endif
