/* SPDX-License-Identifier: MIT */
/*
 * Function prototypes (from DWARF, BTF or tracefs formats) and the argument
 * capture they suggest, within what a module config can express.
 */
#ifndef DC_PROTO_H
#define DC_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "dc_buf.h"
#include "dc_capture.h"

/* How a value travels in the calling convention, which decides its register. */
enum dc_argclass {
	DC_AC_VOID, /* no value (a return type) */
	DC_AC_INT, /* integer, enum, bool: general registers */
	DC_AC_PTR, /* pointer to anything but char */
	DC_AC_STR, /* pointer to char: may be a string */
	DC_AC_FLOAT, /* floating point: vector registers */
	DC_AC_AGG, /* struct or union by value, or unknown: layout decides */
};

struct dc_param {
	char *name; /* may be NULL */
	char *type; /* C spelling, e.g. "const char *" */
	uint8_t cls; /* enum dc_argclass */
	uint32_t size; /* bytes */
};

struct dc_proto {
	char *ret; /* C spelling of the return type */
	uint8_t ret_cls;
	uint32_t ret_size;
	struct dc_param *params;
	unsigned int nparams;
	bool variadic;
};

/* Appends a parameter; @name and @type are copied. */
int dc_proto_add(struct dc_proto *p, const char *name, const char *type, enum dc_argclass cls,
		 uint32_t size);
/* Sets the return type, copied. */
int dc_proto_set_ret(struct dc_proto *p, const char *type, enum dc_argclass cls, uint32_t size);
/* Appends "char *buf" for "char *" and "buf", "int fd" for "int" and "fd". */
void dc_proto_decl(struct dc_buf *b, const char *type, const char *name);
/* "ssize_t read(int fd, void *buf, size_t count)" */
int dc_proto_format(const struct dc_proto *p, const char *name, struct dc_buf *b);
void dc_proto_free(struct dc_proto *p);

/* A capture a config can carry: see docs/config.md. */
struct dc_hint {
	unsigned int nfields;
	struct {
		char name[DC_FIELD_MAX];
		int arg;
	} field[DC_MAX_ARGS];
	int path_arg; /* -1: none */
	bool ret_long;
	char note[256]; /* what did not fit, for a comment; empty when all did */
};

/*
 * Proposes a capture from @p: integer arguments by name (an int named fd
 * becomes the fd role, a char pointer named like a path the path role),
 * in the argument registers they occupy. For @syscall every argument is a
 * register and the return value is always a long.
 */
void dc_proto_hint(const struct dc_proto *p, bool syscall, struct dc_hint *h);
/* True when the hint captures anything or says something about ret. */
bool dc_hint_useful(const struct dc_hint *h);

#endif
