// SPDX-License-Identifier: MIT
#include <bpf/btf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_kernel.h"

#if defined(__x86_64__)
#define SYS_PREFIX "__x64_sys_"
#elif defined(__aarch64__)
#define SYS_PREFIX "__arm64_sys_"
#endif

static bool has_events(const char *dir)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/events", dir);
	return access(p, R_OK | X_OK) == 0;
}

const char *dc_tracefs(bool mount_it)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	size_t i;

	for (i = 0; i < 2; i++)
		if (has_events(dirs[i]))
			return dirs[i];
	if (mount_it && mount("tracefs", dirs[0], "tracefs", 0, NULL) == 0 && has_events(dirs[0]))
		return dirs[0];
	return NULL;
}

static int add(struct dc_names *s, size_t *cap, const char *name, size_t len)
{
	if (s->n == *cap) {
		size_t c = *cap ? *cap * 2 : 512;
		char **v = realloc(s->v, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		*cap = c;
	}
	s->v[s->n] = strndup(name, len);
	if (!s->v[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

static int from_tracefs(const char *tfs, struct dc_names *s, size_t *cap)
{
	char dir[256];
	struct dirent *de;
	DIR *d;
	int err = 0;

	snprintf(dir, sizeof(dir), "%s/events/syscalls", tfs);
	d = opendir(dir);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d)))
		if (!strncmp(de->d_name, "sys_enter_", 10) && de->d_name[10])
			err = add(s, cap, de->d_name + 10, strlen(de->d_name + 10));
	closedir(d);
	return err;
}

static int from_btf(struct dc_names *s, size_t *cap)
{
	struct btf *btf = btf__load_vmlinux_btf();
	size_t plen = strlen(SYS_PREFIX);
	__u32 i, n;
	int err = 0;

	if (!btf)
		return dc_err(-errno, "cannot read the kernel's BTF: %s", strerror(errno));
	n = btf__type_cnt(btf);
	for (i = 1; i < n && !err; i++) {
		const struct btf_type *t = btf__type_by_id(btf, i);
		const char *name;

		if (!btf_is_func(t))
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		if (name && !strncmp(name, SYS_PREFIX, plen) && name[plen])
			err = add(s, cap, name + plen, strlen(name + plen));
	}
	btf__free(btf);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dc_syscalls(struct dc_names *out)
{
	const char *tfs = dc_tracefs(false);
	size_t cap = 0;
	int err = -ENOENT;

	*out = (struct dc_names){ 0 };
	if (tfs)
		err = from_tracefs(tfs, out, &cap);
	if (err && !out->n)
		err = from_btf(out, &cap);
	if (err) {
		dc_names_free(out);
		return err;
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

bool dc_names_has(const struct dc_names *s, const char *name)
{
	return s->n && bsearch(&name, s->v, s->n, sizeof(*s->v), cmp_str);
}

void dc_names_free(struct dc_names *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct dc_names){ 0 };
}
