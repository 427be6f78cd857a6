// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach_kinds.h"
#include "dc_elf.h"
#include "dc_err.h"
#include "dc_kernel.h"
#include "profile.h"
#include "session.h"

#define DC_TRACE_UPROBE_MULTI 48
#define SYSCALL_THREADS 8

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
	struct bpf_link **v;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	v = grow(s->links, &s->cap_links, s->nlinks, sizeof(*v));
	if (v) {
		s->links = v;
		v[s->nlinks++] = l;
	} else {
		bpf_link__destroy(l);
		err = -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int add_link_fd(struct session *s, int fd)
{
	int *v, err = 0;

	pthread_mutex_lock(&s->lock);
	v = grow(s->link_fds, &s->cap_link_fds, s->nlink_fds, sizeof(*v));
	if (v) {
		s->link_fds = v;
		v[s->nlink_fds++] = fd;
	} else {
		close(fd);
		err = -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int add_skip_why(struct session *s, uint32_t probe, int err, const char *why, bool cached)
{
	struct skip *v;

	pthread_mutex_lock(&s->lock);
	v = grow(s->skips, &s->cap_skips, s->nskips, sizeof(*v));
	if (v) {
		s->skips = v;
		v[s->nskips++] = (struct skip){ probe, err, why, cached };
	}
	pthread_mutex_unlock(&s->lock);
	return v ? 0 : -ENOMEM;
}

int add_skip(struct session *s, uint32_t probe, int err)
{
	return add_skip_why(s, probe, err, NULL, false);
}

void count_attached(struct session *s, size_t n)
{
	__atomic_fetch_add(&s->attached, n, __ATOMIC_RELAXED);
}

const char *session__skip_reason(const struct skip *k, char *buf, size_t len)
{
	const char *why = k->why;

	if (!why)
		why = k->err == -ESTALE ? "binary changed since generate" :
		      k->err == -524 ? "the kernel cannot probe the instruction there (ENOTSUPP)" :
				       strerror(-k->err);
	if (!k->cached)
		return why;
	snprintf(buf, len, "%s (known from the attach cache)", why);
	return buf;
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

/*
 * The programs of each capture class and the dispatcher's, found once:
 * looking a name up walks every program, and attaching 8,000 probes would
 * do it 16,000 times.
 */
static int index_classes(struct session *s)
{
	struct bpf_program *prog;
	unsigned int cls;
	char kind[8];
	int used;

	bpf_object__for_each_program(prog, s->obj)
	{
		const char *name = bpf_program__name(prog);

		if (!strcmp(name, "dc_sys_enter") || !strcmp(name, "dc_sys_exit")) {
			s->sys_progs[name[8] == 'x'] = prog;
			continue;
		}
		if (sscanf(name, "dc_c%u_%7[a-z]%n", &cls, kind, &used) != 2 || name[used] ||
		    (strcmp(kind, "entry") && strcmp(kind, "exit")))
			continue;
		if (cls >= s->nclass_progs) {
			size_t n = cls + 1;
			struct bpf_program **v = realloc(s->class_progs, n * 2 * sizeof(*v));

			if (!v)
				return -ENOMEM;
			memset(v + 2 * s->nclass_progs, 0, (n - s->nclass_progs) * 2 * sizeof(*v));
			s->class_progs = v;
			s->nclass_progs = n;
		}
		s->class_progs[2 * cls + (kind[1] == 'x')] = prog;
	}
	return 0;
}

struct bpf_program *session__class_prog(struct session *s, uint32_t cls, bool exit)
{
	return cls < s->nclass_progs ? s->class_progs[2 * cls + exit] : NULL;
}

/* Uprobes and system calls have a pair of programs each; other kinds are checked later. */
static bool session__has_progs(struct session *s, const struct dc_mprobe *p)
{
	if (p->kind == 's' && p->sys_raw)
		return s->sys_progs[0] && s->sys_progs[1];
	return !strchr("us", p->kind) ||
	       (session__class_prog(s, p->cls, false) && session__class_prog(s, p->cls, true));
}

int session__open(struct session **out, const char *path, const struct session_opts *o)
{
	struct dc_cfg cfg = { .follow_all = o->follow_all,
			      .self_tgid = getpid(),
			      .wakeup_bytes = o->ring_bytes / 4,
			      .profile_ns = o->profile_ns,
			      .profile_base = o->profile_base,
			      .ncgroups = o->ncgroups,
			      .ncomms = o->ncomms };
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
	pthread_mutex_init(&s->lock, NULL);
	err = dc_manifest__read(path, &s->man);
	if (err)
		goto fail;
	s->obj = bpf_object__open_file(path, NULL);
	if (!s->obj) {
		err = dc_err(-errno, "%s: cannot open BPF object: %s", path, strerror(errno));
		goto fail;
	}
	err = index_classes(s);
	if (err)
		goto fail;
	for (i = 0; i < s->man->nprobes; i++)
		if (!session__has_progs(s, &s->man->probes[i])) {
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
	bool uprobes = false;
	size_t i;
	int err;

	for (i = 0; i < s->man->nprobes; i++)
		uprobes |= s->man->probes[i].kind == 'u';
	/* Without it the first link only waits longer. */
	if (s->multi && uprobes && uwarm__start(&s->warm))
		dc_info("uprobe registration is not kept warm while loading");
	err = bpf_object__load(s->obj);
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

static int attach_syscall(struct session *s, const struct dc_mprobe *p)
{
	struct bpf_link *l[2] = { NULL, NULL };
	char tp[96];
	int i, err = 0;

	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tracepoint_opts, to, .bpf_cookie = p->id);

		snprintf(tp, sizeof(tp), "sys_%s_%s", i ? "exit" : "enter", p->sys);
		l[i] = bpf_program__attach_tracepoint_opts(session__class_prog(s, p->cls, i == 1),
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
	count_attached(s, 1);
	err = add_link(s, l[0]);
	return err ? err : add_link(s, l[1]);
}

struct syscalls {
	struct session *s;
	uint32_t *idx;
};

static int attach_syscall_at(void *ctx, size_t i)
{
	struct syscalls *sc = ctx;
	int err = attach_syscall(sc->s, &sc->s->man->probes[sc->idx[i]]);

	progress__add(&sc->s->progress, 1);
	return err;
}

/* The dispatcher's two raw tracepoint links serve every system call it has a number for. */
static int attach_dispatcher(struct session *s, size_t n)
{
	struct bpf_link *l[2] = { NULL, NULL };
	size_t i;
	int err = 0;

	for (i = 0; i < 2 && !err; i++) {
		l[i] = bpf_program__attach(s->sys_progs[i]);
		if (!l[i])
			err = -errno;
	}
	if (err) {
		bpf_link__destroy(l[0]);
		for (i = 0; i < s->man->nprobes; i++)
			if (s->man->probes[i].kind == 's' && s->man->probes[i].sys_raw &&
			    add_skip(s, i, err))
				return -ENOMEM;
		return 0;
	}
	count_attached(s, n);
	progress__add(&s->progress, n);
	err = add_link(s, l[0]);
	return err ? err : add_link(s, l[1]);
}

/*
 * Each tracepoint link waits about a millisecond in the kernel here, most of
 * it not running: from several threads the waits overlap.
 */
static int attach_syscalls(struct session *s)
{
	struct syscalls sc = { s, calloc(s->man->nprobes ? s->man->nprobes : 1, sizeof(uint32_t)) };
	size_t i, n = 0, nraw = 0;
	int err = 0;

	if (!sc.idx)
		return -ENOMEM;
	for (i = 0; i < s->man->nprobes; i++)
		if (s->man->probes[i].kind == 's' && s->man->probes[i].sys_raw)
			nraw++;
		else if (s->man->probes[i].kind == 's')
			sc.idx[n++] = i;
	if (nraw)
		err = attach_dispatcher(s, nraw);
	if (!err)
		err = parallel__for(n, SYSCALL_THREADS, attach_syscall_at, &sc);
	free(sc.idx);
	return err;
}

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return timespec__ms(a, &b);
}

static int cmp_skip(const void *a, const void *b)
{
	const struct skip *x = a, *y = b;

	return x->probe < y->probe ? -1 : x->probe > y->probe;
}

static void say_stats(const struct session *s)
{
	const struct attach_stats *t = &s->stats;

	dc_info("attached %zu probes in %.1f ms: %zu uprobes in %.1f ms (%zu %s links), %zu "
		"system calls in %.1f ms, the rest in %.1f ms",
		s->attached, t->total_ms, t->uprobes, t->uprobe_ms, t->uprobe_links,
		s->multi ? "uprobe_multi" : "perf-event", t->syscalls, t->syscall_ms, t->other_ms);
	dc_info("unprobeable offsets: %zu found by reading their instruction, %zu refused by "
		"the kernel, %zu known from the attach cache",
		t->decoded_bad, t->kernel_bad, t->cached_bad);
}

int session__attach(struct session *s, const struct session_opts *o)
{
	static const char *const core[] = { "dc_on_fork", "dc_on_exec", "dc_on_exit" };
	const char *tracefs;
	bool need_tracefs = false;
	struct timespec start;
	char why[256];
	size_t i, links;
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
		need_tracefs |= s->man->probes[i].kind == 's' && !s->man->probes[i].sys_raw;
	if (need_tracefs && (err = dc_tracefs_need(&tracefs)))
		return err;
	clock_gettime(CLOCK_MONOTONIC, &start);
	progress__start(&s->progress, s->man->nprobes);
	err = uwarm__stop(s->warm, s);
	s->warm = NULL;
	if (err)
		return err;
	links = s->multi ? s->nlink_fds : s->nlinks;
	err = uattach__attach(s);
	s->stats.uprobe_links = (s->multi ? s->nlink_fds : s->nlinks) - links;
	s->stats.uprobes = s->attached;
	s->stats.uprobe_ms = ms_since(&start);
	if (!err)
		err = attach_syscalls(s);
	s->stats.syscalls = s->attached - s->stats.uprobes;
	s->stats.syscall_ms = ms_since(&start) - s->stats.uprobe_ms;
	if (!err)
		err = attach_kinds__attach(s);
	progress__end(&s->progress);
	s->stats.total_ms = ms_since(&start);
	s->stats.other_ms = s->stats.total_ms - s->stats.uprobe_ms - s->stats.syscall_ms;
	if (err)
		return err;
	/* Threads finish in any order; reports list probes in config order. */
	if (s->nskips)
		qsort(s->skips, s->nskips, sizeof(*s->skips), cmp_skip);
	say_stats(s);
	if (s->nskips)
		session__skip_reason(&s->skips[0], why, sizeof(why));
	if (o->strict && s->nskips)
		return dc_err(-ENOENT, "%zu probes could not attach (first: %s: %s)", s->nskips,
			      s->man->probes[s->skips[0].probe].name, why);
	if (!s->attached)
		return dc_err(-ENOENT, "no probe could attach (first: %s: %s)",
			      s->nskips ? s->man->probes[s->skips[0].probe].name : "none",
			      s->nskips ? why : "no probes");
	return 0;
}

int session__follow(struct session *s, int pid, bool at_exec)
{
	__u32 key = pid, state = at_exec ? DC_FOLLOW_AT_EXEC : DC_FOLLOW_TRACED;

	if (bpf_map_update_elem(s->procs_fd, &key, &state, BPF_ANY))
		return dc_err(-errno, "cannot follow pid %d: %s", pid, strerror(errno));
	return 0;
}

#define DETACH_THREADS 256
#define DETACH_STACK (256 << 10)

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
 * Each link waits for RCU grace periods as it goes, about 30 ms for a
 * tracepoint and 120 ms for a uprobe_multi link here. Closed side by side
 * the waits overlap, so a thread per link, up to DETACH_THREADS: 280 links
 * (156 of them uprobe_multi) took 570-700 ms from 32 threads, 250-340 ms
 * from 128 and 220-320 ms from 512.
 */
void session__detach(struct session *s)
{
	struct detach_slice d[DETACH_THREADS];
	pthread_t t[DETACH_THREADS];
	size_t i, n = s->nlinks + s->nlink_fds, nt = n < DETACH_THREADS ? n : DETACH_THREADS;
	bool started[DETACH_THREADS] = { false };
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	/* They only close descriptors: a small stack keeps hundreds cheap. */
	pthread_attr_setstacksize(&attr, DETACH_STACK);
	for (i = 0; i < nt; i++) {
		d[i] = (struct detach_slice){ s, i, nt };
		started[i] = pthread_create(&t[i], &attr, detach_some, &d[i]) == 0;
		if (!started[i])
			detach_some(&d[i]);
	}
	pthread_attr_destroy(&attr);
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
	uwarm__stop(s->warm, s);
	session__detach(s);
	bpf_object__close(s->obj);
	dc_manifest__free(s->man);
	free(s->links);
	free(s->link_fds);
	free(s->skips);
	free(s->class_progs);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
