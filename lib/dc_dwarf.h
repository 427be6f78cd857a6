/* SPDX-License-Identifier: MIT */
/* Function prototypes from DWARF, in the file or its separate debug file. */
#ifndef DC_DWARF_H
#define DC_DWARF_H

#include <stdint.h>

#include "dc_elf.h"
#include "dc_proto.h"

struct dc_dwarf;

/*
 * Indexes the functions defined in the DWARF of @e or of its debug file.
 * -ENOENT, with no message, when neither has any.
 */
int dc_dwarf__open(struct dc_elf *e, struct dc_dwarf **out);
/* The file the DWARF came from. */
const char *dc_dwarf__path(const struct dc_dwarf *d);
/* The prototype of the function at @addr; -ENOENT when DWARF has none. */
int dc_dwarf__proto(struct dc_dwarf *d, uint64_t addr, struct dc_proto *out);
void dc_dwarf__close(struct dc_dwarf *d);

#endif
