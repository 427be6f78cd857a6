// SPDX-License-Identifier: MIT
/*
 * uprobes: one uprobe_multi link per (binary, capture class, entry/return),
 * made one after another. The kernel registers every offset under one
 * machine-wide lock (dup_mmap_sem, taken for writing), so links made from
 * several threads only queue on it and switch between them: here 8,414
 * uprobes took 287 ms from four threads and 57 ms from one. Probes attached
 * one by one (perf events) spend time outside that lock too, and go from
 * several threads: 1,000 took 1.6 s from one and 1.1 s from four (the
 * first registration's wait is paid while the programs load, see uwarm.c).
 * Before any link is made, each offset's first instruction is read from the
 * binary and the ones the kernel would refuse are dropped, as are those an
 * earlier run found refused (the attach cache), so one bad offset does not
 * fail a link of a thousand. What is still refused is found by halving the
 * batch, and remembered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach_cache.h"
#include "dc_elf.h"
#include "dc_err.h"
#include "dc_file.h"
#include "session.h"

/* For probes attached one by one, without uprobe_multi. */
#define PERF_UPROBE_THREADS 4

struct utarget {
	bool usable;
	int why; /* when not usable: why not */
	uint8_t *code; /* the file's bytes from code_off on */
	uint64_t code_off;
	size_t code_len;
	uint64_t lo, hi; /* the lowest and highest offset probed */
	struct attach_cache cache;
	pthread_mutex_t lock; /* the cache, from the threads */
	size_t probes; /* probes of this target */
};

/* The probes idx[0..n) of one target and one class. */
struct urun {
	uint32_t *idx;
	size_t n;
};

struct uattach {
	struct session *s;
	struct utarget *targets;
	struct urun *runs;
	size_t nruns;
	bool decode; /* judge first instructions before the kernel does */
};

static const struct dc_mprobe *probe_of(const struct uattach *u, uint32_t i)
{
	return &u->s->man->probes[i];
}

static void learn(struct uattach *u, const struct dc_mprobe *p, int err, enum insn_verdict why)
{
	struct utarget *t = &u->targets[p->target];

	pthread_mutex_lock(&t->lock);
	/* Out of memory here only costs the next run a search. */
	attach_cache__add(&t->cache, p->offset, err, why);
	pthread_mutex_unlock(&t->lock);
}

/* A failure of one multi link may be one bad offset: halve until it is found. */
static int attach_split(struct uattach *u, int prog_fd, const char *path, uint64_t *off,
			uint64_t *cookie, size_t n, bool ret, bool *ok)
{
	struct session *s = u->s;
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
		if (!ret) {
			learn(u, probe_of(u, cookie[0]), fd, INSN_KERNEL);
			__atomic_fetch_add(&s->stats.kernel_bad, 1, __ATOMIC_RELAXED);
		}
		return add_skip(s, cookie[0], fd);
	}
	half = n / 2;
	err = attach_split(u, prog_fd, path, off, cookie, half, ret, ok);
	if (!err)
		err = attach_split(u, prog_fd, path, off + half, cookie + half, n - half, ret,
				   ok + half);
	return err;
}

static int attach_one(struct uattach *u, const struct dc_mprobe *p, const char *path)
{
	struct session *s = u->s;
	struct bpf_link *l[2] = { NULL, NULL };
	int i, err = 0;

	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = p->id, .retprobe = i == 1);

		l[i] = bpf_program__attach_uprobe_opts(session__class_prog(s, p->cls, i == 1), -1,
						       path, p->offset, &uo);
		if (!l[i]) {
			err = -errno;
			break;
		}
	}
	if (err) {
		bpf_link__destroy(l[0]);
		if (err == -524 && !l[0])
			learn(u, p, err, INSN_KERNEL);
		return add_skip(s, p->id, err);
	}
	count_attached(s, 1);
	err = add_link(s, l[0]);
	return err ? err : add_link(s, l[1]);
}

static int attach_run(void *ctx, size_t r)
{
	struct uattach *u = ctx;
	struct session *s = u->s;
	const struct urun *run = &u->runs[r];
	const struct dc_mprobe *first = probe_of(u, run->idx[0]);
	const char *path = s->man->targets[first->target].path;
	uint64_t *off = NULL, *cookie = NULL;
	size_t i, m = 0, live = 0;
	bool *ok = NULL;
	int err = 0;

	if (!s->multi) {
		for (i = 0; !err && i < run->n; i++)
			err = attach_one(u, probe_of(u, run->idx[i]), path);
		goto out;
	}
	off = calloc(run->n, sizeof(*off));
	cookie = calloc(run->n, sizeof(*cookie));
	ok = calloc(run->n, sizeof(*ok));
	if (!off || !cookie || !ok) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < run->n; i++) {
		off[i] = probe_of(u, run->idx[i])->offset;
		cookie[i] = run->idx[i];
	}
	err = attach_split(u, bpf_program__fd(session__class_prog(s, first->cls, false)), path, off,
			   cookie, run->n, false, ok);
	/* Returns go only where entries went. */
	for (i = 0; !err && i < run->n; i++)
		if (ok[i]) {
			off[m] = off[i];
			cookie[m++] = cookie[i];
		}
	if (!err && m)
		err = attach_split(u, bpf_program__fd(session__class_prog(s, first->cls, true)),
				   path, off, cookie, m, true, ok);
	for (i = 0; !err && i < m; i++)
		live += ok[i];
	count_attached(s, live);
out:
	progress__add(&s->progress, run->n);
	free(off);
	free(cookie);
	free(ok);
	return err;
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

/*
 * The bytes at every probed offset, read with pread(): in a mapping of the
 * file they could already be breakpoints, put there by uprobes that others
 * attached, and our own uprobes would go on copying pages into it.
 */
static void read_code(struct utarget *t, const char *path)
{
	size_t want = t->hi - t->lo + 16;
	ssize_t got;
	int fd;

	fd = dc_open_regular_fd(path);
	if (fd < 0) {
		dc_err_clear();
		return;
	}
	t->code = malloc(want);
	got = t->code ? pread(fd, t->code, want, t->lo) : -1;
	close(fd);
	if (got <= 0) {
		free(t->code);
		t->code = NULL;
		return;
	}
	t->code_off = t->lo;
	t->code_len = got;
}

/* Opens each binary once; one rebuilt since generate has other offsets: skip it whole. */
static void open_target(struct utarget *t, const struct dc_mtarget *m)
{
	struct dc_elf *e;

	pthread_mutex_init(&t->lock, NULL);
	t->why = dc_elf__open(m->path, &e);
	if (t->why) {
		dc_err_clear();
		return;
	}
	if (m->build_id[0] && strcmp(m->build_id, e->build_id)) {
		t->why = -ESTALE;
		dc_elf__close(e);
		return;
	}
	t->usable = true;
	/* Fails only for lack of memory, which attaching would find again. */
	attach_cache__open(&t->cache, e->build_id);
	dc_elf__close(e);
	read_code(t, m->path);
}

/*
 * Whether probe @p can be tried: its binary is usable, the cache does not
 * know it as refused, and its first instruction is one uprobes accept.
 */
static int screen(struct uattach *u, const struct dc_mprobe *p, bool *keep)
{
	struct utarget *t = &u->targets[p->target];
	const struct attach_bad *b;
	enum insn_verdict v = INSN_OK;

	*keep = false;
	if (!t->usable)
		return add_skip(u->s, p->id, t->why);
	b = attach_cache__find(&t->cache, p->offset);
	if (b) {
		u->s->stats.cached_bad++;
		return add_skip_why(u->s, p->id, b->err,
				    b->why == INSN_KERNEL ? NULL : insn_check__why(b->why), true);
	}
#ifdef __x86_64__
	if (u->decode && t->code && p->offset >= t->code_off &&
	    p->offset - t->code_off < t->code_len)
		v = insn_check__x86_64(t->code + (p->offset - t->code_off),
				       t->code_len - (p->offset - t->code_off));
#endif
	if (v != INSN_OK) {
		u->s->stats.decoded_bad++;
		attach_cache__add(&t->cache, p->offset, -524 /* ENOTSUPP */, v);
		return add_skip_why(u->s, p->id, -524, insn_check__why(v), false);
	}
	*keep = true;
	return 0;
}

/* Screens the probes and cuts the survivors into runs of one target and class. */
static int plan(struct uattach *u, uint32_t *idx, size_t n)
{
	size_t i, j, m = 0;
	int err = 0;

	for (i = 0; !err && i < n; i++) {
		bool keep;

		err = screen(u, probe_of(u, idx[i]), &keep);
		if (keep)
			idx[m++] = idx[i];
	}
	progress__add(&u->s->progress, n - m);
	u->runs = calloc(m ? m : 1, sizeof(*u->runs));
	if (!u->runs)
		return -ENOMEM;
	for (i = 0; !err && i < m; i = j) {
		const struct dc_mprobe *p = probe_of(u, idx[i]);

		for (j = i + 1; j < m; j++) {
			const struct dc_mprobe *q = probe_of(u, idx[j]);

			if (q->target != p->target || q->cls != p->cls)
				break;
		}
		u->runs[u->nruns++] = (struct urun){ idx + i, j - i };
	}
	return err;
}

int uattach__attach(struct session *s)
{
	const char *decode = getenv("DATACRUMBS_ATTACH_DECODE");
	struct uattach u = { .s = s, .decode = !decode || strcmp(decode, "0") };
	uint32_t *idx;
	size_t i, n = 0;
	int err;

	idx = calloc(s->man->nprobes ? s->man->nprobes : 1, sizeof(*idx));
	u.targets = calloc(s->man->ntargets ? s->man->ntargets : 1, sizeof(*u.targets));
	if (!idx || !u.targets) {
		free(idx);
		free(u.targets);
		return -ENOMEM;
	}
	for (i = 0; i < s->man->nprobes; i++) {
		const struct dc_mprobe *p = &s->man->probes[i];
		struct utarget *t = &u.targets[p->target];

		if (p->kind != 'u')
			continue;
		idx[n++] = i;
		t->lo = !t->probes++ || p->offset < t->lo ? p->offset : t->lo;
		t->hi = p->offset > t->hi ? p->offset : t->hi;
	}
	for (i = 0; i < s->man->ntargets; i++)
		if (u.targets[i].probes)
			open_target(&u.targets[i], &s->man->targets[i]);
	sort_man = s->man;
	qsort(idx, n, sizeof(*idx), cmp_uprobe);
	err = plan(&u, idx, n);
	if (!err)
		err = parallel__for(u.nruns, s->multi ? 1 : PERF_UPROBE_THREADS, attach_run, &u);
	for (i = 0; i < s->man->ntargets; i++) {
		struct utarget *t = &u.targets[i];

		if (!t->probes)
			continue;
		if (t->usable) {
			if (t->cache.nloaded)
				dc_info("attach cache: %s: %zu offsets known unprobeable, from %s",
					s->man->targets[i].path, t->cache.nloaded, t->cache.path);
			attach_cache__save(&t->cache);
			attach_cache__close(&t->cache);
		}
		free(t->code);
		pthread_mutex_destroy(&t->lock);
	}
	free(u.runs);
	free(u.targets);
	free(idx);
	return err;
}
