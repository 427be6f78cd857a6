// SPDX-License-Identifier: MIT
#include <dirent.h>
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

/*
 * The exact name in @dir, or else its highest "stem.so.N": the loader
 * takes a versioned copy in LD_LIBRARY_PATH over the system's.
 */
static bool search_dir(struct want *w, const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, w->exact);
	if (regular(path)) {
		snprintf(w->best, sizeof(w->best), "%s", path);
		return true;
	}
	if (!w->stem || !(d = opendir(dir)))
		return false;
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		consider(w, de->d_name, path);
	}
	closedir(d);
	return w->best[0];
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

/* Where each step looks, as "how" names it. */
static int resolve_one(const char *exact, const char *stem, const char *name, char *out,
		       size_t outlen, char *how, size_t howlen)
{
	static const char *const dirs[] = {
		"/lib/" MULTIARCH, "/usr/lib/" MULTIARCH, "/lib64", "/usr/lib64", "/lib",
		"/usr/lib",	   "/usr/local/lib"
	};
	struct want w = { .exact = exact, .stem = stem };
	size_t i;

	if (search_path_list(&w, getenv("LD_LIBRARY_PATH"))) {
		snprintf(how, howlen, "LD_LIBRARY_PATH");
		return finish(&w, name, out, outlen);
	}
	if (search_cache(&w)) {
		snprintf(how, howlen, "/etc/ld.so.cache");
		return finish(&w, name, out, outlen);
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (search_dir(&w, dirs[i])) {
			snprintf(how, howlen, "default directory %s", dirs[i]);
			return finish(&w, name, out, outlen);
		}
	return -ENOENT;
}

/*
 * A development name ("hdf5", "libhdf5.so") the loader does not know may
 * still be what `cc $(pkg-config --libs hdf5)` links: Debian keeps serial
 * HDF5's libhdf5.so in .../hdf5/serial/, named by hdf5.pc. Reads NAME.pc
 * from the pkg-config search path and looks for libNAME.so in its -L
 * directories.
 */
static const char *pc_dirs(void)
{
	return "/usr/local/lib/" MULTIARCH "/pkgconfig:/usr/local/lib/pkgconfig:"
	       "/usr/local/share/pkgconfig:/usr/lib/" MULTIARCH "/pkgconfig:"
	       "/usr/lib/pkgconfig:/usr/share/pkgconfig";
}

struct pcvar {
	char name[64];
	char value[PATH_MAX];
};

/* Expands ${var} in @in with the variables defined so far. */
static void pc_expand(const char *in, const struct pcvar *vars, size_t nvars, char *out, size_t len)
{
	size_t o = 0, i;

	while (*in && o + 1 < len) {
		const char *close = in[0] == '$' && in[1] == '{' ? strchr(in, '}') : NULL;

		if (!close) {
			out[o++] = *in++;
			continue;
		}
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == (size_t)(close - in - 2) &&
			    !strncmp(vars[i].name, in + 2, close - in - 2))
				break;
		if (i < nvars)
			o += snprintf(out + o, len - o, "%s", vars[i].value);
		in = close + 1;
	}
	out[o < len ? o : len - 1] = '\0';
}

/* Looks for @file in the -L directories of @pc's Libs line. */
static bool pc_search(const char *pc, const char *file, char *found, size_t len)
{
	struct pcvar vars[16];
	size_t nvars = 0;
	char line[1024], exp[2048];
	bool ok = false;
	FILE *f = fopen(pc, "re");

	if (!f)
		return false;
	while (!ok && fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *colon = strchr(line, ':'), *tok, *save = NULL;

		line[strcspn(line, "\n")] = '\0';
		if (eq && (!colon || eq < colon) && nvars < 16 && eq - line < 64) {
			snprintf(vars[nvars].name, sizeof(vars[nvars].name), "%.*s",
				 (int)(eq - line), line);
			pc_expand(eq + 1, vars, nvars, vars[nvars].value,
				  sizeof(vars[nvars].value));
			nvars++;
			continue;
		}
		if (strncmp(line, "Libs:", 5))
			continue;
		pc_expand(line + 5, vars, nvars, exp, sizeof(exp));
		for (tok = strtok_r(exp, " \t", &save); tok && !ok;
		     tok = strtok_r(NULL, " \t", &save))
			if (!strncmp(tok, "-L", 2) && tok[2] &&
			    (size_t)snprintf(found, len, "%s/%s", tok + 2, file) < len)
				ok = regular(found);
	}
	fclose(f);
	return ok;
}

static int resolve_pkgconfig(const char *base, const char *name, char *out, size_t outlen,
			     char *how, size_t howlen)
{
	const char *env = getenv("PKG_CONFIG_PATH"),
		   *lists[2] = { env, getenv("PKG_CONFIG_LIBDIR") };
	char pc[PATH_MAX], file[NAME_MAX + 1];
	struct want w = { 0 };
	size_t i;

	if (!lists[1])
		lists[1] = pc_dirs();
	snprintf(file, sizeof(file), "lib%s.so", base);
	for (i = 0; i < 2; i++) {
		const char *p = lists[i];
		size_t n;

		for (; p && *p; p += n + (p[n] == ':')) {
			n = strcspn(p, ":");
			if (!n || (size_t)snprintf(pc, sizeof(pc), "%.*s/%s.pc", (int)n, p, base) >=
					  sizeof(pc))
				continue;
			if (regular(pc) && pc_search(pc, file, w.best, sizeof(w.best))) {
				snprintf(how, howlen, "pkg-config %s.pc in %.*s", base, (int)n, p);
				return finish(&w, name, out, outlen);
			}
		}
	}
	return -ENOENT;
}

int dc_lib_resolve_how(const char *name, char *out, size_t outlen, char *how, size_t howlen)
{
	char exact[NAME_MAX + 1], base[NAME_MAX + 1];
	struct want w = { .exact = name };
	const char *so;
	int err;

	if (!*name)
		return dc_err(-EINVAL, "empty library name");
	if (strchr(name, '/')) {
		if (!realpath(name, w.best))
			return dc_err(-errno, "%s: %s", name, strerror(errno));
		snprintf(how, howlen, "path");
		return finish(&w, name, out, outlen);
	}
	if (strlen(name) + 7 > NAME_MAX)
		return dc_err(-ENAMETOOLONG, "%s: library name too long", name);
	so = strstr(name, ".so");
	if (so && (so[3] == '\0' || so[3] == '.')) {
		/* "libfoo.so" is often only in -dev packages: accept libfoo.so.N. */
		err = resolve_one(name, so[3] ? NULL : name, name, out, outlen, how, howlen);
	} else {
		snprintf(exact, sizeof(exact), "%s%s.so", strncmp(name, "lib", 3) ? "lib" : "",
			 name);
		err = resolve_one(exact, exact, name, out, outlen, how, howlen);
		so = exact + strlen(exact) - 3;
	}
	/* Versioned sonames are the loader's alone; development names may be pkg-config's. */
	if (err == -ENOENT && !so[3]) {
		const char *b = strncmp(name, "lib", 3) ? name : name + 3;

		snprintf(base, sizeof(base), "%s", b);
		base[strcspn(base, ".")] = '\0';
		if (*base)
			err = resolve_pkgconfig(base, name, out, outlen, how, howlen);
	}
	if (err == -ENOENT)
		return dc_err(
			-ENOENT,
			"%s: library not found (searched LD_LIBRARY_PATH, /etc/ld.so.cache%s)",
			name,
			!so[3] ? ", the default directories and pkg-config" :
				 " and the default directories");
	return err;
}

int dc_lib_resolve(const char *name, char *out, size_t outlen)
{
	char how[PATH_MAX + 64];

	return dc_lib_resolve_how(name, out, outlen, how, sizeof(how));
}
