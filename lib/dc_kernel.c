// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dc_buf.h"

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

int dc_tracefs_need(const char **out)
{
	*out = dc_tracefs(true);
	if (*out)
		return 0;
	/* Mounted but mode 0700 is the usual case for a user with only CAP_BPF and CAP_PERFMON. */
	if (access("/sys/kernel/tracing", F_OK) == 0 && !has_events("/sys/kernel/tracing") &&
	    errno == EACCES)
		return dc_err(-EACCES, "/sys/kernel/tracing: permission denied (reading tracefs "
				       "needs root, or CAP_DAC_READ_SEARCH)");
	return dc_err(-ENOENT, "tracefs is not mounted at /sys/kernel/tracing and cannot be "
			       "mounted (that needs root, or CAP_SYS_ADMIN)");
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

/* Trace events: tracefs/events/SYSTEM/EVENT/format. */

static int cmp_event(const void *a, const void *b)
{
	const struct dc_event *x = a, *y = b;
	int c = strcmp(x->system, y->system);

	return c ? c : strcmp(x->name, y->name);
}

static int add_event(struct dc_events *ev, size_t *cap, const char *sys, const char *name)
{
	struct dc_event *e;

	if (ev->n == *cap) {
		size_t n = *cap ? *cap * 2 : 1024;

		e = realloc(ev->v, n * sizeof(*e));
		if (!e)
			return -ENOMEM;
		ev->v = e;
		*cap = n;
	}
	e = &ev->v[ev->n];
	memset(e, 0, sizeof(*e));
	e->id = -1;
	e->system = strdup(sys);
	e->name = strdup(name);
	if (!e->system || !e->name) {
		free(e->system);
		free(e->name);
		return -ENOMEM;
	}
	ev->n++;
	return 0;
}

static int list_system(const char *tfs, const char *sys, struct dc_events *ev, size_t *cap)
{
	char dir[512];
	struct dirent *de;
	DIR *d;
	int err = 0;

	snprintf(dir, sizeof(dir), "%s/events/%s", tfs, sys);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!err && (de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.')
			err = add_event(ev, cap, sys, de->d_name);
	closedir(d);
	return err;
}

int dc_events__load(const char *tracefs, struct dc_events *out)
{
	char dir[512];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int err = 0;

	*out = (struct dc_events){ 0 };
	snprintf(dir, sizeof(dir), "%s/events", tracefs);
	d = opendir(dir);
	if (!d)
		return dc_err(-errno, "%s: %s", dir, strerror(errno));
	while (!err && (de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.')
			err = list_system(tracefs, de->d_name, out, &cap);
	closedir(d);
	if (err) {
		dc_events__free(out);
		return err;
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_event);
	return 0;
}

static int read_small(const char *path, struct dc_buf *b)
{
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b->len < 1 << 20)
		dc_buf_put(b, chunk, n);
	close(fd);
	if (n < 0)
		return -errno;
	return dc_buf_cstr(b);
}

static char *trimmed(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return strndup(s, n);
}

static unsigned int num_after(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? (unsigned int)strtoul(p + strlen(key), NULL, 10) : 0;
}

/* "\tfield:unsigned char comm[16];\toffset:8;\tsize:16;\tsigned:0;" */
static int parse_field(struct dc_event *ev, const char *line)
{
	const char *decl = line + strlen("field:"), *semi = strchr(decl, ';');
	const char *end, *arr = NULL, *name;
	struct dc_kfield *f;
	char *type;

	if (!semi)
		return 0;
	end = semi;
	if (end > decl && end[-1] == ']') {
		arr = memrchr(decl, '[', end - decl);
		end = arr ? arr : end;
	}
	for (name = end; name > decl && (name[-1] == '_' || (name[-1] >= 'a' && name[-1] <= 'z') ||
					 (name[-1] >= 'A' && name[-1] <= 'Z') ||
					 (name[-1] >= '0' && name[-1] <= '9'));
	     name--)
		;
	if (name == end || !strncmp(name, "common_", 7))
		return 0;
	f = realloc(ev->fields, (ev->nfields + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	ev->fields = f;
	f = &f[ev->nfields];
	f->name = strndup(name, end - name);
	type = trimmed(decl, name - decl);
	if (type && arr) {
		char *t = NULL;

		if (asprintf(&t, "%s%.*s", type, (int)(semi - arr), arr) < 0)
			t = NULL;
		free(type);
		type = t;
	}
	f->type = type;
	f->offset = num_after(semi, "offset:");
	f->size = num_after(semi, "size:");
	f->is_signed = num_after(semi, "signed:") != 0;
	if (!f->name || !f->type) {
		free(f->name);
		free(f->type);
		return -ENOMEM;
	}
	ev->nfields++;
	return 0;
}

int dc_event__format(const char *tracefs, struct dc_event *ev)
{
	struct dc_buf b = { 0 };
	char path[1024];
	char *line, *save = NULL;
	int err;

	if (ev->formatted)
		return 0;
	ev->formatted = true;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", tracefs, ev->system, ev->name);
	err = read_small(path, &b);
	if (err) {
		dc_buf_free(&b);
		return err == -ENOENT ? 0 : dc_err(err, "%s: %s", path, strerror(-err));
	}
	for (line = strtok_r(b.p, "\n", &save); line && !err; line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (!strncmp(line, "ID:", 3))
			ev->id = (int)strtol(line + 3, NULL, 10);
		else if (!strncmp(line, "field:", 6))
			err = parse_field(ev, line);
	}
	dc_buf_free(&b);
	return err;
}

void dc_events__free(struct dc_events *ev)
{
	size_t i, j;

	for (i = 0; i < ev->n; i++) {
		for (j = 0; j < ev->v[i].nfields; j++) {
			free(ev->v[i].fields[j].name);
			free(ev->v[i].fields[j].type);
		}
		free(ev->v[i].fields);
		free(ev->v[i].system);
		free(ev->v[i].name);
	}
	free(ev->v);
	*ev = (struct dc_events){ 0 };
}

/* Attach checks: each loads "return 0" and attaches it the way the tools would. */

const char *dc_attach_name(enum dc_attach a)
{
	static const char *const names[] = { "tracepoint", "kprobe", "fentry" };

	return names[a];
}

static void verdict(struct dc_caps *c, enum dc_attach a, int ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void verdict(struct dc_caps *c, enum dc_attach a, int ok, const char *fmt, ...)
{
	va_list ap;

	c->ok[a] = ok;
	va_start(ap, fmt);
	vsnprintf(c->why[a], sizeof(c->why[a]), fmt, ap);
	va_end(ap);
}

static int load_nop(enum bpf_prog_type type, enum bpf_attach_type eat, __u32 btf_id)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = eat, .attach_btf_id = btf_id);
	int fd = bpf_prog_load(type, "dc_probe", "GPL", insns, 2, &o);

	return fd < 0 ? -errno : fd;
}

/* perf_event_open() plus PERF_EVENT_IOC_SET_BPF, as tracepoints and kprobes attach. */
static int perf_attach(__u32 type, __u64 config, const char *func, int prog)
{
	struct perf_event_attr attr = {
		.type = type,
		.size = sizeof(attr),
		.config = config,
		.sample_period = 1,
		.wakeup_events = 1,
	};
	int fd, err = 0;

	if (func)
		attr.config1 = (__u64)(unsigned long)func;
	fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) < 0)
		err = -errno;
	close(fd);
	return err;
}

static long read_num(const char *path)
{
	struct dc_buf b = { 0 };
	long v = -1;

	if (!read_small(path, &b) && b.len)
		v = strtol(b.p, NULL, 10);
	dc_buf_free(&b);
	return v;
}

static void probe_tracepoint(struct dc_caps *c, const char *tracefs)
{
	char path[512];
	long id;
	int prog, err;

	if (!tracefs) {
		verdict(c, DC_ATTACH_TRACEPOINT, 0, "no: tracefs is not mounted and cannot be");
		return;
	}
	snprintf(path, sizeof(path), "%s/events/syscalls/sys_enter_getpid/id", tracefs);
	id = read_num(path);
	if (id < 0) {
		verdict(c, DC_ATTACH_TRACEPOINT, -1, "not checked: %s unreadable", path);
		return;
	}
	prog = load_nop(BPF_PROG_TYPE_TRACEPOINT, 0, 0);
	if (prog < 0) {
		verdict(c, DC_ATTACH_TRACEPOINT, 0, "no: loading a tracepoint program fails: %s",
			strerror(-prog));
		return;
	}
	err = perf_attach(PERF_TYPE_TRACEPOINT, id, NULL, prog);
	close(prog);
	if (err)
		verdict(c, DC_ATTACH_TRACEPOINT, 0, "no: attaching to sys_enter_getpid fails: %s",
			strerror(-err));
	else
		verdict(c, DC_ATTACH_TRACEPOINT, 1,
			"yes: a test program attached to sys_enter_getpid");
}

static void probe_kprobe(struct dc_caps *c, const char *kfunc)
{
	long type = read_num("/sys/bus/event_source/devices/kprobe/type");
	int prog, err;

	if (type < 0) {
		verdict(c, DC_ATTACH_KPROBE, 0,
			"no: the kernel has no kprobe event source (built without CONFIG_KPROBES)");
		return;
	}
	prog = load_nop(BPF_PROG_TYPE_KPROBE, 0, 0);
	if (prog < 0) {
		verdict(c, DC_ATTACH_KPROBE, 0, "no: loading a kprobe program fails: %s",
			strerror(-prog));
		return;
	}
	err = perf_attach(type, 0, kfunc, prog);
	close(prog);
	if (err)
		verdict(c, DC_ATTACH_KPROBE, 0, "no: a kprobe on %s fails: %s", kfunc,
			strerror(-err));
	else
		verdict(c, DC_ATTACH_KPROBE, 1, "yes: a test program attached to %s", kfunc);
}

static void probe_fentry(struct dc_caps *c, const char *kfunc)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int id = btf ? btf__find_by_name_kind(btf, kfunc, BTF_KIND_FUNC) : -1;
	int prog, link;

	btf__free(btf);
	if (id <= 0) {
		verdict(c, DC_ATTACH_FENTRY, -1, "not checked: %s is not in the kernel's BTF",
			kfunc);
		return;
	}
	prog = load_nop(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, id);
	if (prog < 0) {
		verdict(c, DC_ATTACH_FENTRY, 0, "no: loading an fentry program for %s fails: %s",
			kfunc, strerror(-prog));
		return;
	}
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0)
		verdict(c, DC_ATTACH_FENTRY, 0, "no: attaching fentry to %s fails: %s", kfunc,
			strerror(errno));
	else
		verdict(c, DC_ATTACH_FENTRY, 1, "yes: a test program attached to %s", kfunc);
	if (link >= 0)
		close(link);
	close(prog);
}

void dc_caps__probe(struct dc_caps *c, const char *tracefs, const char *kfunc)
{
	enum dc_attach a;

	if (geteuid() != 0) {
		for (a = 0; a < DC_ATTACH_COUNT; a++)
			verdict(c, a, -1, "not checked: needs root (CAP_BPF and CAP_PERFMON)");
		return;
	}
	probe_tracepoint(c, tracefs);
	probe_kprobe(c, kfunc);
	probe_fentry(c, kfunc);
}
