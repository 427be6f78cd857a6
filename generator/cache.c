// SPDX-License-Identifier: MIT
/*
 * Compiled objects are cached by content: the rendered C, the compiler and
 * every header the C includes. Generating an unchanged config again skips
 * clang. The manifest is not part of the key (it carries only names) and is
 * added to each copy afresh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_file.h"
#include "dc_paths.h"
#include "gen.h"
#include "sha256.h"

/* Bumped when anything else that shapes objects changes (flags, strip). */
#define CACHE_VERSION "datacrumbs-cache 1"

static int hash_file(struct sha256 *s, const char *path)
{
	char buf[1 << 16];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	sha256_update(s, path, strlen(path) + 1);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sha256_update(s, buf, n);
	close(fd);
	return n < 0 ? -errno : 0;
}

/* A program by what it is on disk: a new build or version is a new key. */
static void hash_program(struct sha256 *s, const char *path)
{
	char real[PATH_MAX], line[PATH_MAX + 64];
	struct stat st;

	if (!realpath(path, real) || stat(real, &st))
		snprintf(line, sizeof(line), "%s missing", path);
	else
		snprintf(line, sizeof(line), "%s %lld %lld %llu", real, (long long)st.st_size,
			 (long long)st.st_mtime, (unsigned long long)st.st_ino);
	sha256_update(s, line, strlen(line) + 1);
}

int gen__cache_key(const struct gen_dirs *d, const struct dc_buf *c, char key[65])
{
	static const char *const bpf_headers[] = { "bpf_helpers.h", "bpf_helper_defs.h",
						   "bpf_tracing.h", "bpf_core_read.h",
						   "usdt.bpf.h" };
	const char *clang = getenv("DATACRUMBS_CLANG"), *strip = getenv("DATACRUMBS_STRIP");
	char path[PATH_MAX + 32];
	struct sha256 s;
	size_t i;
	int err;

	sha256_init(&s);
	sha256_update(&s, CACHE_VERSION, sizeof(CACHE_VERSION));
	hash_program(&s, clang && *clang ? clang : DC_CLANG);
	hash_program(&s, strip && *strip ? strip : DC_LLVM_STRIP);
	snprintf(path, sizeof(path), "%s/dc_core.bpf.h", d->templates);
	err = hash_file(&s, path);
	snprintf(path, sizeof(path), "%s/dc_record.h", d->templates);
	if (!err)
		err = hash_file(&s, path);
	snprintf(path, sizeof(path), "%s/vmlinux.h", d->include);
	if (!err)
		err = hash_file(&s, path);
	/* libbpf's BPF-side headers, wherever the compiler finds them. */
	for (i = 0; !err && i < sizeof(bpf_headers) / sizeof(bpf_headers[0]); i++) {
		snprintf(path, sizeof(path), "/usr/include/bpf/%s", bpf_headers[i]);
		if (hash_file(&s, path) == -ENOENT)
			sha256_update(&s, "-", 1);
	}
	if (err)
		return err;
	sha256_update(&s, c->p, c->len);
	sha256_hex(&s, key);
	return 0;
}

static int copy_fd(int in, int out)
{
	char buf[1 << 16];
	ssize_t n;
	int err = 0;

	while (!err && (n = read(in, buf, sizeof(buf))) > 0)
		err = dc_write_all(out, buf, n);
	return err ? err : n < 0 ? -errno : 0;
}

int gen__cache_get(const char *key, const char *obj_path)
{
	char dir[PATH_MAX], path[PATH_MAX + 80], magic[4];
	struct stat st;
	int in, out, err;

	err = dc_cache_dir(dir, sizeof(dir));
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s.o", dir, key);
	in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    read(in, magic, 4) != 4 || memcmp(magic, "\177ELF", 4) || lseek(in, 0, SEEK_SET)) {
		close(in);
		return -ENOENT;
	}
	out = open(obj_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	err = out < 0 ? -errno : copy_fd(in, out);
	if (out >= 0 && close(out) && !err)
		err = -errno;
	close(in);
	if (err)
		return dc_err(err, "%s: %s", obj_path, strerror(-err));
	dc_info("compiled object taken from the cache: %s", path);
	return 0;
}

void gen__cache_put(const char *key, const char *obj_path)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 80], path[PATH_MAX + 80];
	int in, out, err;

	if (dc_cache_dir(dir, sizeof(dir)))
		return;
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, key);
	snprintf(path, sizeof(path), "%s/%s.o", dir, key);
	in = open(obj_path, O_RDONLY | O_CLOEXEC);
	out = mkstemp(tmp);
	err = in < 0 || out < 0 ? -EIO : copy_fd(in, out);
	if (out >= 0 && close(out))
		err = -errno;
	if (in >= 0)
		close(in);
	/* Renamed into place whole, so a reader never sees half an object. */
	if (!err && rename(tmp, path))
		err = -errno;
	if (err && out >= 0)
		unlink(tmp);
	if (err)
		dc_info("could not cache the object in %s: %s", dir, strerror(-err));
}
