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
/*
 * The same, and says in @how which step found it ("/etc/ld.so.cache",
 * "pkg-config hdf5.pc in DIR", ...). After the loader's places, a name
 * without a version ("hdf5", "libhdf5.so") is looked up through pkg-config
 * (NAME.pc's -L directories).
 */
int dc_lib_resolve_how(const char *name, char *out, size_t outlen, char *how, size_t howlen);

#endif
