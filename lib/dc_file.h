/* SPDX-License-Identifier: MIT */
#ifndef DC_FILE_H
#define DC_FILE_H

#include <stdio.h>

/*
 * Opens @path for reading (a descriptor, or a negative errno) only if it is a regular file; a FIFO, device or
 * directory is an error rather than a hang or a confusing read failure.
 */
int dc_open_regular_fd(const char *path);
int dc_open_regular(const char *path, FILE **out);
/* Writes all @n bytes, through short writes and EINTR; 0 or a negative errno. */
int dc_write_all(int fd, const void *data, size_t n);

/*
 * The directory for what the tools cache, $XDG_CACHE_HOME/datacrumbs or
 * ~/.cache/datacrumbs, created 0700 if missing. A directory that others
 * could write is refused (-EPERM): they could plant entries in it.
 */
int dc_cache_dir(char *out, size_t len);

#endif
