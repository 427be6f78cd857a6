// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_lib.h"

#define CACHE_MAGIC "glibc-ld.so.cache1.1"
#define CACHE_OLD_MAGIC "ld.so-1.7.0"
#define FLAG_TYPE_MASK 0x00ff
#define FLAG_ELF_LIBC6 0x0003
#define FLAG_ARCH_MASK 0xff00
#if defined(__x86_64__)
#define FLAG_ARCH 0x0300
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define FLAG_ARCH 0x0a00
#define MULTIARCH "aarch64-linux-gnu"
#endif

struct cache_hdr {
	char magic[sizeof(CACHE_MAGIC) - 1];
	uint32_t nlibs;
	uint32_t len_strings;
	uint8_t flags;
	uint8_t pad[3];
	uint32_t ext_offset;
	uint32_t unused[3];
};

struct cache_entry {
	int32_t flags;
	uint32_t key;
	uint32_t value;
	uint32_t osversion;
	uint64_t hwcap;
};

/* A candidate name: exact, or "stem.so.N" where a higher N wins. */
struct want {
	const char *exact;
	const char *stem; /* "libhdf5.so", or NULL */
	char best[PATH_MAX];
	char best_name[NAME_MAX + 1];
};

static bool regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Compares "x.so.1.10" version tails numerically. */
static int vercmp(const char *a, const char *b)
{
	while (*a || *b) {
		unsigned long x = strtoul(a, (char **)&a, 10);
		unsigned long y = strtoul(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if ((*a && (*a < '0' || *a > '9')) || (*b && (*b < '0' || *b > '9')))
			return strcmp(a, b);
	}
	return 0;
}

/* Returns true when @name settles the search. */
static bool consider(struct want *w, const char *name, const char *path)
{
	size_t n;

	if (!strcmp(name, w->exact)) {
		if (!regular(path))
			return false;
		snprintf(w->best, sizeof(w->best), "%s", path);
		return true;
	}
	if (!w->stem)
		return false;
	n = strlen(w->stem);
	if (strncmp(name, w->stem, n) || name[n] != '.' || name[n + 1] < '0' || name[n + 1] > '9')
		return false;
	if (w->best[0] && vercmp(name + n + 1, w->best_name + n + 1) <= 0)
		return false;
	if (!regular(path))
		return false;
	snprintf(w->best, sizeof(w->best), "%s", path);
	snprintf(w->best_name, sizeof(w->best_name), "%s", name);
	return false;
}

static bool search_dir(struct want *w, const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, w->exact);
	if (regular(path)) {
		snprintf(w->best, sizeof(w->best), "%s", path);
		return true;
	}
	return false;
}

static bool search_cache(struct want *w)
{
	const struct cache_hdr *h;
	const char *base, *end;
	bool done = false;
	struct stat st;
	size_t off = 0, i;
	void *map;
	int fd;

	fd = open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(*h)) {
		close(fd);
		return false;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	end = (const char *)map + st.st_size;
	/* An old-format part may come first; the new one follows, 8-aligned. */
	if (!memcmp(map, CACHE_OLD_MAGIC, sizeof(CACHE_OLD_MAGIC) - 1)) {
		uint32_t n;

		memcpy(&n, (const char *)map + sizeof(CACHE_OLD_MAGIC) - 1, sizeof(n));
		off = (sizeof(CACHE_OLD_MAGIC) - 1 + 4 + (size_t)n * 12 + 7) & ~(size_t)7;
	}
	if (off + sizeof(*h) > (size_t)st.st_size ||
	    memcmp((const char *)map + off, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1))
		goto out;
	base = (const char *)map + off;
	h = (const struct cache_hdr *)base;
	if (h->nlibs > ((size_t)(end - base) - sizeof(*h)) / sizeof(struct cache_entry))
		goto out;
	for (i = 0; i < h->nlibs && !done; i++) {
		const struct cache_entry *ce = (const struct cache_entry *)(h + 1) + i;
		const char *key = base + ce->key, *val = base + ce->value;

		if ((ce->flags & FLAG_TYPE_MASK) != FLAG_ELF_LIBC6 ||
		    (ce->flags & FLAG_ARCH_MASK) != FLAG_ARCH)
			continue;
		if (key >= end || val >= end || !memchr(key, 0, end - key) ||
		    !memchr(val, 0, end - val))
			continue;
		done = consider(w, key, val);
	}
out:
	munmap(map, st.st_size);
	return done || w->best[0];
}

static int finish(const struct want *w, const char *name, char *out, size_t outlen)
{
	char real[PATH_MAX];

	if (!realpath(w->best, real))
		return dc_err(-errno, "%s: %s", w->best, strerror(errno));
	if (strlen(real) >= outlen)
		return dc_err(-ENAMETOOLONG, "%s: path too long", name);
	strcpy(out, real);
	return 0;
}

static bool search_path_list(struct want *w, const char *list)
{
	char *copy, *dir, *save = NULL;
	bool found = false;

	if (!list || !*list)
		return false;
	copy = strdup(list);
	if (!copy)
		return false;
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save))
		found = search_dir(w, dir);
	free(copy);
	return found;
}

static int resolve_one(const char *exact, const char *stem, const char *name, char *out,
		       size_t outlen)
{
	static const char *const dirs[] = {
		"/lib/" MULTIARCH, "/usr/lib/" MULTIARCH, "/lib64", "/usr/lib64", "/lib",
		"/usr/lib",	   "/usr/local/lib"
	};
	struct want w = { .exact = exact, .stem = stem };
	size_t i;

	if (search_path_list(&w, getenv("LD_LIBRARY_PATH")))
		return finish(&w, name, out, outlen);
	if (search_cache(&w))
		return finish(&w, name, out, outlen);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (search_dir(&w, dirs[i]))
			return finish(&w, name, out, outlen);
	return -ENOENT;
}

int dc_lib_resolve(const char *name, char *out, size_t outlen)
{
	char exact[NAME_MAX + 1];
	const char *so;
	int err;

	if (!*name)
		return dc_err(-EINVAL, "empty library name");
	if (strchr(name, '/')) {
		struct want w = { .exact = name };

		if (!realpath(name, w.best))
			return dc_err(-errno, "%s: %s", name, strerror(errno));
		return finish(&w, name, out, outlen);
	}
	if (strlen(name) + 7 > NAME_MAX)
		return dc_err(-ENAMETOOLONG, "%s: library name too long", name);
	so = strstr(name, ".so");
	if (so && (so[3] == '\0' || so[3] == '.')) {
		/* "libfoo.so" is often only in -dev packages: accept libfoo.so.N. */
		err = resolve_one(name, so[3] ? NULL : name, name, out, outlen);
	} else {
		snprintf(exact, sizeof(exact), "%s%s.so", strncmp(name, "lib", 3) ? "lib" : "",
			 name);
		err = resolve_one(exact, exact, name, out, outlen);
	}
	if (err == -ENOENT)
		return dc_err(-ENOENT,
			      "%s: library not found (searched LD_LIBRARY_PATH, "
			      "/etc/ld.so.cache and the default directories)",
			      name);
	return err;
}
