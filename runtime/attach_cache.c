// SPDX-License-Identifier: MIT
/*
 * One text file per build-id, <cache>/attach-<build-id>:
 *
 *   datacrumbs-attach 1
 *   kernel <release>
 *   <offset in hex> <errno> <verdict token>
 *
 * The file is only trusted when it is a regular file of this user that no
 * one else can write, under 1 MiB, and every line parses; otherwise it is
 * ignored and replaced by the next save.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "attach_cache.h"
#include "dc_err.h"
#include "dc_file.h"

#define MAGIC "datacrumbs-attach 1"
#define MAX_FILE (1 << 20)

static int cmp_bad(const void *a, const void *b)
{
	const struct attach_bad *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static bool valid_build_id(const char *id)
{
	size_t n = strspn(id, "0123456789abcdef");

	return n >= 2 && n <= 40 && !id[n];
}

static void kernel_release(char *out, size_t len)
{
	struct utsname u;

	snprintf(out, len, "%s", uname(&u) ? "unknown" : u.release);
}

static int append(struct attach_cache *c, uint64_t offset, int err, enum insn_verdict why)
{
	if (c->nbad == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct attach_bad *v = realloc(c->bad, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->bad = v;
		c->cap = cap;
	}
	c->bad[c->nbad++] = (struct attach_bad){ offset, err, why };
	return 0;
}

/* Parses the file's text; false if any line is not what save() writes. */
static bool parse(struct attach_cache *c, char *text)
{
	char release[256], *line, *save = NULL;
	bool kernel = false;
	size_t i;
	int n = 0;

	kernel_release(release, sizeof(release));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		unsigned long long off;
		char token[16];
		int err, used = 0;

		if (n == 0) {
			if (strcmp(line, MAGIC))
				return false;
			continue;
		}
		if (n == 1) {
			if (strncmp(line, "kernel ", 7))
				return false;
			kernel = !strcmp(line + 7, release);
			continue;
		}
		if (!strchr("0123456789abcdef", *line) ||
		    sscanf(line, "%llx %d %15s%n", &off, &err, token, &used) != 3 ||
		    (size_t)used != strlen(line) || err >= 0 || err < -4095 ||
		    insn_check__from_token(token) == INSN_OK)
			return false;
		if (append(c, off, err, insn_check__from_token(token)))
			return false;
	}
	if (c->nbad)
		qsort(c->bad, c->nbad, sizeof(*c->bad), cmp_bad);
	for (i = 1; i < c->nbad; i++)
		if (c->bad[i].offset == c->bad[i - 1].offset)
			return false;
	/* Another kernel may refuse other offsets: start afresh. */
	if (n < 2 || !kernel)
		c->nbad = 0;
	return n >= 2;
}

static void load(struct attach_cache *c)
{
	struct stat st;
	char *text;
	int fd;

	fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	text = NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		dc_info("ignoring the attach cache %s: not a private file of this user", c->path);
		goto out;
	}
	if (st.st_size <= MAX_FILE)
		text = malloc(st.st_size + 1);
	if (!text || read(fd, text, st.st_size) != st.st_size || memchr(text, '\0', st.st_size)) {
		dc_info("ignoring the attach cache %s: malformed", c->path);
		goto out;
	}
	text[st.st_size] = '\0';
	if (!parse(c, text)) {
		dc_info("ignoring the attach cache %s: malformed", c->path);
		c->nbad = 0;
	}
out:
	free(text);
	close(fd);
	c->nloaded = c->nbad;
}

int attach_cache__open(struct attach_cache *c, const char *build_id)
{
	char dir[4000];

	memset(c, 0, sizeof(*c));
	if (!valid_build_id(build_id) || dc_cache_dir(dir, sizeof(dir)))
		return 0;
	snprintf(c->build_id, sizeof(c->build_id), "%s", build_id);
	snprintf(c->path, sizeof(c->path), "%s/attach-%s", dir, build_id);
	load(c);
	c->dirty = false;
	return 0;
}

const struct attach_bad *attach_cache__find(const struct attach_cache *c, uint64_t offset)
{
	struct attach_bad key = { .offset = offset };

	return c->nbad ? bsearch(&key, c->bad, c->nbad, sizeof(key), cmp_bad) : NULL;
}

int attach_cache__add(struct attach_cache *c, uint64_t offset, int code, enum insn_verdict why)
{
	int err;

	if (attach_cache__find(c, offset))
		return 0;
	err = append(c, offset, code, why);
	if (err)
		return err;
	qsort(c->bad, c->nbad, sizeof(*c->bad), cmp_bad);
	c->dirty = true;
	return 0;
}

void attach_cache__save(struct attach_cache *c)
{
	char tmp[4200], release[256];
	size_t i;
	FILE *f;
	int fd;

	if (!c->path[0] || !c->dirty)
		return;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", c->path);
	fd = mkstemp(tmp);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		dc_info("could not write the attach cache %s: %s", c->path, strerror(errno));
		return;
	}
	kernel_release(release, sizeof(release));
	fprintf(f, MAGIC "\nkernel %s\n", release);
	for (i = 0; i < c->nbad; i++)
		fprintf(f, "%llx %d %s\n", (unsigned long long)c->bad[i].offset, c->bad[i].err,
			insn_check__token(c->bad[i].why));
	/* Renamed into place whole: a reader sees the old file or the new one. */
	if (fclose(f) || rename(tmp, c->path)) {
		dc_info("could not write the attach cache %s: %s", c->path, strerror(errno));
		unlink(tmp);
		return;
	}
	c->dirty = false;
	dc_info("attach cache: %zu unprobeable offsets saved in %s", c->nbad, c->path);
}

void attach_cache__close(struct attach_cache *c)
{
	free(c->bad);
	c->bad = NULL;
	c->nbad = c->cap = 0;
}
