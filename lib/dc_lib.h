/* SPDX-License-Identifier: MIT */
/* Library names to paths, the way the dynamic linker finds them. */
#ifndef DC_LIB_H
#define DC_LIB_H

#include <stddef.h>

/*
 * Resolves @name to a canonical path in @out. A name with a '/' is a path.
 * Otherwise "libhdf5.so.103", "libhdf5.so", "libhdf5" and "hdf5" are looked
 * up in LD_LIBRARY_PATH, /etc/ld.so.cache and the default directories; a
 * bare name also matches the highest "libNAME.so.N" present.
 */
int dc_lib_resolve(const char *name, char *out, size_t outlen);

#endif
