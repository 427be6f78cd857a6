// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dc_rank.h"

/* Environments are a few KiB; ARG_MAX bounds them at a quarter of the stack limit. */
#define ENVIRON_MAX (4u << 20)

static const char *const rank_vars[] = { DC_RANK_VARS };
#define NVARS (sizeof(rank_vars) / sizeof(rank_vars[0]))

int dc_rank_parse(const char *s)
{
	long long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	return (int)v;
}

int dc_rank_of_environ(const char *env, size_t n)
{
	const char *p = env, *end = env + n, *value = NULL;
	size_t best = NVARS, vlen = 0, i;
	char text[16];

	while (p < end) {
		const char *nul = memchr(p, '\0', end - p);
		size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
		const char *eq = memchr(p, '=', len);

		for (i = 0; eq && i < best; i++) {
			if ((size_t)(eq - p) == strlen(rank_vars[i]) &&
			    !memcmp(p, rank_vars[i], eq - p)) {
				best = i;
				value = eq + 1;
				vlen = p + len - value;
			}
		}
		p += len + 1;
	}
	if (!value)
		return -ENOENT;
	if (vlen >= sizeof(text))
		return -EINVAL;
	memcpy(text, value, vlen);
	text[vlen] = '\0';
	return dc_rank_parse(text);
}

int dc_rank_of_pid(int pid)
{
	char path[64], *buf = NULL, *nbuf;
	size_t n = 0, cap = 0;
	ssize_t k = 0;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16384;
			nbuf = cap <= ENVIRON_MAX ? realloc(buf, cap) : NULL;
			if (!nbuf)
				break;
			buf = nbuf;
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += k;
	}
	err = k < 0 ? -errno : 0;
	close(fd);
	if (!err)
		err = dc_rank_of_environ(buf, n);
	free(buf);
	return err;
}
