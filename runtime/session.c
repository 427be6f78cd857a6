// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach_kinds.h"
#include "dc_elf.h"
#include "dc_err.h"
#include "dc_kernel.h"
#include "profile.h"
#include "session.h"

#define DC_TRACE_UPROBE_MULTI 48

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t c;

	if (n < *cap)
		return p;
	c = *cap ? *cap * 2 : 64;
	p = realloc(p, c * size);
	if (p)
		*cap = c;
	return p;
}

int add_link(struct session *s, struct bpf_link *l)
{
	struct bpf_link **v = grow(s->links, &s->cap_links, s->nlinks, sizeof(*v));

	if (!v) {
		bpf_link__destroy(l);
		return -ENOMEM;
	}
	s->links = v;
	v[s->nlinks++] = l;
	return 0;
}

static int add_link_fd(struct session *s, int fd)
{
	int *v = grow(s->link_fds, &s->cap_link_fds, s->nlink_fds, sizeof(*v));

	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	s->link_fds = v;
	v[s->nlink_fds++] = fd;
	return 0;
}

int add_skip(struct session *s, uint32_t probe, int err)
{
	struct skip *v = grow(s->skips, &s->cap_skips, s->nskips, sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->skips = v;
	v[s->nskips++] = (struct skip){ probe, err };
	return 0;
}

/* Finds dc_cfg in .rodata through BTF and fills it before load. */
static int set_cfg(struct session *s, const struct dc_cfg *cfg)
{
	const struct btf *btf = bpf_object__btf(s->obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *t;
	struct bpf_map *m;
	const char *init;
	size_t size;
	char *data;
	int id, i, err;

	bpf_object__for_each_map(m, s->obj)
	{
		const char *n = bpf_map__name(m);
		size_t len = strlen(n);

		if (bpf_map__is_internal(m) && len >= 7 && !strcmp(n + len - 7, ".rodata"))
			break;
	}
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
	init = m ? bpf_map__initial_value(m, &size) : NULL;
	if (id < 0 || !init)
		return dc_err(-ENOEXEC, "object has no dc_cfg: not made by datacrumbs-generate?");
	t = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(t);
	for (i = 0; i < btf_vlen(t); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, v->name_off), "dc_cfg"))
			continue;
		if (vs->offset + sizeof(*cfg) > size || vs->size != sizeof(*cfg))
			return dc_err(-ENOEXEC, "dc_cfg has an unexpected size: object and runtime "
						"versions differ");
		data = malloc(size);
		if (!data)
			return -ENOMEM;
		memcpy(data, init, size);
		memcpy(data + vs->offset, cfg, sizeof(*cfg));
		err = bpf_map__set_initial_value(m, data, size);
		free(data);
		return err;
	}
	return dc_err(-ENOEXEC, "object has no dc_cfg: not made by datacrumbs-generate?");
}

static struct bpf_program *class_prog(struct session *s, uint32_t cls, bool exit)
{
	char name[64];

	snprintf(name, sizeof(name), "dc_c%u_%s", cls, exit ? "exit" : "entry");
	return bpf_object__find_program_by_name(s->obj, name);
}

int session__open(struct session **out, const char *path, const struct session_opts *o)
{
	struct dc_cfg cfg = { .follow_all = o->follow_all,
			      .self_tgid = getpid(),
			      .wakeup_bytes = o->ring_bytes / 4,
			      .profile_ns = o->profile_ns,
			      .profile_base = o->profile_base };
	struct bpf_program *prog;
	struct session *s;
	struct bpf_map *rb;
	size_t i;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->procs_fd = s->stats_fd = s->events_fd = -1;
	err = dc_manifest__read(path, &s->man);
	if (err)
		goto fail;
	s->obj = bpf_object__open_file(path, NULL);
	if (!s->obj) {
		err = dc_err(-errno, "%s: cannot open BPF object: %s", path, strerror(errno));
		goto fail;
	}
	for (i = 0; i < s->man->nprobes; i++)
		if (strchr("us", s->man->probes[i].kind) &&
		    (!class_prog(s, s->man->probes[i].cls, false) ||
		     !class_prog(s, s->man->probes[i].cls, true))) {
			err = dc_err(-ENOEXEC,
				     "%s: probe %zu has no programs: manifest and object "
				     "disagree",
				     path, i);
			goto fail;
		}
	rb = bpf_object__find_map_by_name(s->obj, "dc_events");
	if (!rb || bpf_map__set_max_entries(rb, o->ring_bytes)) {
		err = dc_err(-ENOEXEC, "%s: no usable ring buffer map", path);
		goto fail;
	}
	err = set_cfg(s, &cfg);
	if (!err)
		err = profile__size_maps(s->obj, s->man, o->profile_ns ? o->profile_entries : 0);
	if (!err)
		err = attach_kinds__prepare(s);
	if (err)
		goto fail;
	s->multi = !o->no_multi && umulti__supported();
	if (s->multi)
		bpf_object__for_each_program(prog, s->obj)
		{
			const char *sec = bpf_program__section_name(prog);

			if (!strcmp(sec, "uprobe") || !strcmp(sec, "uretprobe"))
				bpf_program__set_expected_attach_type(prog, DC_TRACE_UPROBE_MULTI);
		}
	*out = s;
	return 0;
fail:
	session__destroy(s);
	return err;
}

int session__load(struct session *s)
{
	int err = bpf_object__load(s->obj);

	if (err)
		return dc_err(err,
			      "cannot load the BPF programs: %s (run with --verbose for the "
			      "verifier log)",
			      strerror(-err));
	s->procs_fd = bpf_object__find_map_fd_by_name(s->obj, "dc_procs");
	s->stats_fd = bpf_object__find_map_fd_by_name(s->obj, "dc_stats");
	s->events_fd = bpf_object__find_map_fd_by_name(s->obj, "dc_events");
	if (s->procs_fd < 0 || s->stats_fd < 0 || s->events_fd < 0)
		return dc_err(-ENOEXEC, "object lacks the datacrumbs maps");
	return 0;
}

/* A failure of one multi link may be one bad offset: halve until it is found. */
static int attach_split(struct session *s, int prog_fd, const char *path, uint64_t *off,
			uint64_t *cookie, size_t n, bool ret, bool *ok)
{
	size_t half;
	int fd, err;

	fd = umulti__attach(prog_fd, path, off, cookie, n, ret);
	if (fd >= 0) {
		memset(ok, 1, n * sizeof(*ok));
		return add_link_fd(s, fd);
	}
	if (fd == -ENOMEM || fd == -EMFILE || fd == -EPERM)
		return dc_err(fd, "attaching uprobes to %s: %s", path, strerror(-fd));
	if (n == 1) {
		ok[0] = false;
		return add_skip(s, cookie[0], fd);
	}
	half = n / 2;
	err = attach_split(s, prog_fd, path, off, cookie, half, ret, ok);
	if (!err)
		err = attach_split(s, prog_fd, path, off + half, cookie + half, n - half, ret,
				   ok + half);
	return err;
}

static int attach_one_uprobe(struct session *s, const struct dc_mprobe *p, const char *path)
{
	struct bpf_program *progs[2] = { class_prog(s, p->cls, false),
					 class_prog(s, p->cls, true) };
	struct bpf_link *l[2] = { NULL, NULL };
	int i, err = 0;

	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = p->id, .retprobe = i == 1);

		l[i] = bpf_program__attach_uprobe_opts(progs[i], -1, path, p->offset, &uo);
		if (!l[i]) {
			err = -errno;
			break;
		}
	}
	if (err) {
		bpf_link__destroy(l[0]);
		return add_skip(s, p->id, err);
	}
	s->attached++;
	err = add_link(s, l[0]);
	return err ? err : add_link(s, l[1]);
}

/* Attaches the probes @idx[0..n) of one target and one class. */
static int attach_uprobe_run(struct session *s, const uint32_t *idx, size_t n)
{
	const struct dc_mprobe *first = &s->man->probes[idx[0]];
	const char *path = s->man->targets[first->target].path;
	uint64_t *off = NULL, *cookie = NULL;
	size_t i, m = 0;
	bool *ok = NULL;
	int err = 0;

	if (!s->multi) {
		for (i = 0; !err && i < n; i++)
			err = attach_one_uprobe(s, &s->man->probes[idx[i]], path);
		return err;
	}
	off = calloc(n, sizeof(*off));
	cookie = calloc(n, sizeof(*cookie));
	ok = calloc(n, sizeof(*ok));
	if (!off || !cookie || !ok) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		off[i] = s->man->probes[idx[i]].offset;
		cookie[i] = idx[i];
	}
	err = attach_split(s, bpf_program__fd(class_prog(s, first->cls, false)), path, off, cookie,
			   n, false, ok);
	/* Returns go only where entries went. */
	for (i = 0; !err && i < n; i++)
		if (ok[i]) {
			off[m] = off[i];
			cookie[m++] = cookie[i];
		}
	if (!err && m)
		err = attach_split(s, bpf_program__fd(class_prog(s, first->cls, true)), path, off,
				   cookie, m, true, ok);
	for (i = 0; !err && i < m; i++)
		s->attached += ok[i];
out:
	free(off);
	free(cookie);
	free(ok);
	return err;
}

static int attach_syscall(struct session *s, const struct dc_mprobe *p)
{
	struct bpf_link *l[2] = { NULL, NULL };
	char tp[96];
	int i, err = 0;

	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tracepoint_opts, to, .bpf_cookie = p->id);

		snprintf(tp, sizeof(tp), "sys_%s_%s", i ? "exit" : "enter", p->sys);
		l[i] = bpf_program__attach_tracepoint_opts(class_prog(s, p->cls, i == 1),
							   "syscalls", tp, &to);
		if (!l[i]) {
			err = -errno;
			break;
		}
	}
	if (err) {
		bpf_link__destroy(l[0]);
		return add_skip(s, p->id, err);
	}
	s->attached++;
	err = add_link(s, l[0]);
	return err ? err : add_link(s, l[1]);
}

static const struct dc_manifest *sort_man;

static int cmp_uprobe(const void *a, const void *b)
{
	const struct dc_mprobe *x = &sort_man->probes[*(const uint32_t *)a];
	const struct dc_mprobe *y = &sort_man->probes[*(const uint32_t *)b];

	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A target rebuilt since generate has other offsets: skip it whole. */
static bool target_changed(const struct dc_mtarget *t, int *why)
{
	struct dc_elf *e;
	bool changed;

	*why = dc_elf__open(t->path, &e);
	if (*why)
		return true;
	changed = t->build_id[0] && strcmp(t->build_id, e->build_id);
	dc_elf__close(e);
	*why = -ESTALE;
	return changed;
}

static int attach_uprobes(struct session *s)
{
	uint32_t *idx;
	size_t i, j, n = 0;
	int err = 0, why;

	idx = calloc(s->man->nprobes ? s->man->nprobes : 1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < s->man->nprobes; i++)
		if (s->man->probes[i].kind == 'u')
			idx[n++] = i;
	sort_man = s->man;
	qsort(idx, n, sizeof(*idx), cmp_uprobe);
	for (i = 0; !err && i < n; i = j) {
		const struct dc_mprobe *p = &s->man->probes[idx[i]];

		for (j = i + 1; j < n; j++) {
			const struct dc_mprobe *q = &s->man->probes[idx[j]];

			if (q->target != p->target || q->cls != p->cls)
				break;
		}
		if (target_changed(&s->man->targets[p->target], &why)) {
			size_t k;

			for (k = i; !err && k < j; k++)
				err = add_skip(s, idx[k], why);
			continue;
		}
		err = attach_uprobe_run(s, idx + i, j - i);
	}
	free(idx);
	return err;
}

int session__attach(struct session *s, const struct session_opts *o)
{
	static const char *const core[] = { "dc_on_fork", "dc_on_exec", "dc_on_exit" };
	bool need_tracefs = false;
	size_t i;
	int err = 0;

	for (i = 0; i < 3; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(s->obj, core[i]);
		struct bpf_link *l = p ? bpf_program__attach(p) : NULL;

		if (!l)
			return dc_err(-errno, "cannot attach %s, needed to follow processes: %s",
				      core[i], strerror(errno));
		err = add_link(s, l);
		if (err)
			return err;
	}
	for (i = 0; i < s->man->nprobes; i++)
		need_tracefs |= s->man->probes[i].kind == 's';
	if (need_tracefs && !dc_tracefs(true))
		return dc_err(-ENOENT, "tracefs is not mounted and cannot be mounted at "
				       "/sys/kernel/tracing");
	err = attach_uprobes(s);
	for (i = 0; !err && i < s->man->nprobes; i++)
		if (s->man->probes[i].kind == 's')
			err = attach_syscall(s, &s->man->probes[i]);
	if (!err)
		err = attach_kinds__attach(s);
	if (err)
		return err;
	if (o->strict && s->nskips)
		return dc_err(-ENOENT, "%zu probes could not attach (first: %s: %s)", s->nskips,
			      s->man->probes[s->skips[0].probe].name, strerror(-s->skips[0].err));
	if (!s->attached)
		return dc_err(-ENOENT, "no probe could attach (first: %s: %s)",
			      s->nskips ? s->man->probes[s->skips[0].probe].name : "none",
			      s->nskips ? strerror(-s->skips[0].err) : "no probes");
	return 0;
}

int session__follow(struct session *s, int pid, bool at_exec)
{
	__u32 key = pid, state = at_exec ? DC_FOLLOW_AT_EXEC : DC_FOLLOW_TRACED;

	if (bpf_map_update_elem(s->procs_fd, &key, &state, BPF_ANY))
		return dc_err(-errno, "cannot follow pid %d: %s", pid, strerror(errno));
	return 0;
}

#define DETACH_THREADS 32

struct detach_slice {
	struct session *s;
	size_t first, step;
};

static void *detach_some(void *arg)
{
	struct detach_slice *d = arg;
	size_t i;

	for (i = d->first; i < d->s->nlinks + d->s->nlink_fds; i += d->step) {
		if (i < d->s->nlinks)
			bpf_link__destroy(d->s->links[i]);
		else
			close(d->s->link_fds[i - d->s->nlinks]);
	}
	return NULL;
}

/*
 * Each link waits for an RCU grace period as it goes, about 30 ms for a
 * tracepoint and 120 ms for a uprobe_multi link here. Closed side by side
 * the waits overlap, so stopping takes one wait rather than one per link.
 */
void session__detach(struct session *s)
{
	struct detach_slice d[DETACH_THREADS];
	pthread_t t[DETACH_THREADS];
	size_t i, n = s->nlinks + s->nlink_fds, nt = n < DETACH_THREADS ? n : DETACH_THREADS;
	bool started[DETACH_THREADS] = { false };

	for (i = 0; i < nt; i++) {
		d[i] = (struct detach_slice){ s, i, nt };
		started[i] = pthread_create(&t[i], NULL, detach_some, &d[i]) == 0;
		if (!started[i])
			detach_some(&d[i]);
	}
	for (i = 0; i < nt; i++)
		if (started[i])
			pthread_join(t[i], NULL);
	s->nlinks = s->nlink_fds = 0;
}

int session__stats(struct session *s, struct dc_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct dc_stats *v;
	__u32 zero = 0;
	int i;

	memset(sum, 0, sizeof(*sum));
	if (ncpu <= 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(s->stats_fd, &zero, v)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < ncpu; i++) {
		sum->calls += v[i].calls;
		sum->drops += v[i].drops;
		sum->str_drops += v[i].str_drops;
		sum->proc_drops += v[i].proc_drops;
		sum->unpaired += v[i].unpaired;
		sum->too_deep += v[i].too_deep;
		sum->prof_drops += v[i].prof_drops;
	}
	free(v);
	return 0;
}

void session__destroy(struct session *s)
{
	if (!s)
		return;
	session__detach(s);
	bpf_object__close(s->obj);
	dc_manifest__free(s->man);
	free(s->links);
	free(s->link_fds);
	free(s->skips);
	free(s);
}
