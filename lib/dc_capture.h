/* SPDX-License-Identifier: MIT */
/*
 * What one probe records besides timing: where each field's value comes
 * from, which value names a file (a path, or a handle of some namespace),
 * and what the return value means. Probes with captures that compile to the
 * same code share one pair of BPF programs.
 */
#ifndef DC_CAPTURE_H
#define DC_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../templates/dc_record.h"

#define DC_FIELD_MAX 24
#define DC_ARG_MAX 6 /* arguments a uprobe, kprobe or syscall can read: 0 .. 5 */
#define DC_USDT_ARG_MAX 12 /* USDT probes have up to 12 arguments */
#define DC_CORE_MAX 128 /* a CO-RE access: "struct file|f_inode|i_ino" */
#define DC_KEY_MAX 3 /* fields that join the two ends of a keyed pair */

enum dc_src_how {
	DC_SRC_NONE,
	DC_SRC_ARG, /* argument @arg */
	DC_SRC_DEREF, /* the 64-bit value user pointer argument @arg points to */
	DC_SRC_TP, /* tracepoint field at @off, @size bytes, @is_signed */
	DC_SRC_TPSTR, /* tracepoint __data_loc string whose locator is at @off */
	DC_SRC_CORE, /* kernel struct fields reached from argument @arg: @core */
};

/* Where one value comes from. Everything here is a number or a checked C name. */
struct dc_src {
	uint8_t how;
	int8_t arg;
	uint8_t size;
	bool is_signed;
	bool at_exit; /* a field of a pair's exit event */
	bool i32; /* a C int: keep the low 32 bits, sign-extended */
	uint16_t off;
	/*
	 * DC_SRC_CORE: the pointer type and the members, '|'-separated, each a
	 * C identifier (members may be dotted for embedded structs); checked
	 * against the kernel's BTF before they get here.
	 */
	char core[DC_CORE_MAX];
};

struct dc_capture {
	uint8_t nfields;
	struct {
		char name[DC_FIELD_MAX];
		struct dc_src src;
	} field[DC_MAX_ARGS];
	struct dc_src path; /* a string to hash into fhash; how == NONE without */
	int8_t handle; /* the field that is a file handle, or -1 */
	uint8_t handle_ns; /* enum dc_handle_ns */
	uint8_t ret; /* enum dc_ret_role */
	uint8_t ret_ns; /* DC_RET_HANDLE: namespace of the new handle */
	bool ret_i32; /* the function returns a C int */
	bool closes; /* a call returning 0 ends the handle */
	struct dc_src out; /* DEREF: the call writes its new handle here */
	uint8_t out_ns;
	struct dc_src ret_src; /* tracepoint pairs: the exit field that is ret */
	uint8_t nkeys;
	struct dc_src key[DC_KEY_MAX]; /* keyed pairs: entry fields (exit ones in xkey) */
	struct dc_src xkey[DC_KEY_MAX];
};

/* No capture: timing and return value only. */
void dc_capture_init(struct dc_capture *c);
/*
 * Adds field @name with value from @src. "path" is hashed into fhash and is
 * not a numeric field; fd, stream, mpi_file and hid name a file handle of
 * that namespace. Well-known int names (fd, flags, mode, ...) are read as
 * C ints when @src is an argument.
 */
int dc_capture_add(struct dc_capture *c, const char *name, const struct dc_src *src);
/* True when both compile to the same BPF code. Field names may differ. */
bool dc_capture_same_code(const struct dc_capture *a, const struct dc_capture *b);
bool dc_src_equal(const struct dc_src *a, const struct dc_src *b);
/* A field name a user may choose: [a-z_][a-z0-9_]*, not a reserved one. */
bool dc_field_name_ok(const char *name);
/* A C identifier: [A-Za-z_][A-Za-z0-9_]*, at most 127 characters. */
bool dc_ident_ok(const char *s);
/* The handle namespace called @name (fd, stream, mpi_file, hid), or -1. */
int dc_handle_ns(const char *name);
const char *dc_handle_ns_name(unsigned int ns);

/*
 * The built-in catalogue: captures for common POSIX, STDIO, MPI-IO and
 * HDF5 functions and for system calls, by name. Returns false when @name
 * is not in it.
 */
bool dc_catalog_lookup(const char *name, bool syscall, struct dc_capture *out);
/* Calls @fn for every catalogue entry, in order: names, where, spec. */
void dc_catalog_foreach(void (*fn)(const char *names, bool libc, bool sys, const char *spec,
				   void *arg),
			void *arg);

#endif
