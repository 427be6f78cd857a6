// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_file.h"

int dc_open_regular_fd(const char *path)
{
	struct stat st;
	int fd, err;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return dc_err(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		err = dc_err(-errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = dc_err(-EISDIR, "%s: is a directory, not a file", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = dc_err(-EINVAL, "%s: not a regular file", path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int dc_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= k;
	}
	return 0;
}

int dc_open_regular(const char *path, FILE **out)
{
	int fd = dc_open_regular_fd(path);

	if (fd < 0)
		return fd;
	*out = fdopen(fd, "r");
	if (!*out) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

int dc_cache_dir(char *out, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char base[PATH_MAX];
	struct stat st;

	if (xdg && *xdg == '/')
		snprintf(base, sizeof(base), "%s", xdg);
	else if (home && *home == '/')
		snprintf(base, sizeof(base), "%s/.cache", home);
	else
		return -ENOENT;
	if (mkdir(base, 0700) && errno != EEXIST)
		return -errno;
	if (snprintf(out, len, "%s/datacrumbs", base) >= (int)len)
		return -ENAMETOOLONG;
	if (mkdir(out, 0700) && errno != EEXIST)
		return -errno;
	if (lstat(out, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		dc_info("not caching: %s is not a private directory of this user", out);
		return -EPERM;
	}
	return 0;
}
