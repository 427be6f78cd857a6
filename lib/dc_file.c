// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
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
