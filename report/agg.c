// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"

const char *const dim_names[NDIMS] = { "layer", "function", "file", "process", "rank" };

/* Processes that get a timeline row; the rest are only counted. */
#define TL_MAX_ROWS 1024
/* Runs of callees kept per level while their caller has not come. */
#define PEND_RUNS 4

unsigned int qh_bucket(uint64_t v)
{
	unsigned int e;

	if (v < QH_EXACT)
		return v;
	e = 63 - __builtin_clzll(v);
	return ((e - QH_SUB_BITS) << QH_SUB_BITS) + (unsigned int)(v >> (e - QH_SUB_BITS));
}

void qh_range(unsigned int b, uint64_t *lo, uint64_t *width)
{
	unsigned int shift;

	if (b < QH_EXACT) {
		*lo = b;
		*width = 1;
		return;
	}
	shift = (b >> QH_SUB_BITS) - 1;
	*lo = (uint64_t)((1u << QH_SUB_BITS) + (b & ((1u << QH_SUB_BITS) - 1))) << shift;
	*width = 1ULL << shift;
}

static int qh_add(struct qhist *h, unsigned int b, uint64_t n)
{
	uint64_t *d;
	uint32_t i;

	if (h->dense) {
		h->v[b] += n;
		return 0;
	}
	for (i = 0; i < h->nsparse; i++) {
		if ((h->v[i] >> 40) == b) {
			h->v[i] += n;
			return 0;
		}
	}
	if (!h->v) {
		h->v = malloc(QH_SPARSE * sizeof(*h->v));
		if (!h->v)
			return -ENOMEM;
	}
	if (h->nsparse < QH_SPARSE) {
		h->v[h->nsparse++] = (uint64_t)b << 40 | n;
		return 0;
	}
	d = calloc(QH_BUCKETS, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < h->nsparse; i++)
		d[h->v[i] >> 40] += h->v[i] & ((1ULL << 40) - 1);
	free(h->v);
	h->v = d;
	h->dense = true;
	h->v[b] += n;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Calls @fn for each non-empty bucket in increasing order until it returns
 * true; returns the bucket it stopped at, or QH_BUCKETS.
 */
static unsigned int qh_walk(const struct qhist *h,
			    bool (*fn)(unsigned int b, uint64_t n, void *ctx), void *ctx)
{
	uint64_t sorted[QH_SPARSE];
	unsigned int b;
	uint32_t i;

	if (h->dense) {
		for (b = 0; b < QH_BUCKETS; b++)
			if (h->v[b] && fn(b, h->v[b], ctx))
				return b;
		return QH_BUCKETS;
	}
	memcpy(sorted, h->v, h->nsparse * sizeof(*sorted));
	qsort(sorted, h->nsparse, sizeof(*sorted), cmp_u64);
	for (i = 0; i < h->nsparse; i++) {
		b = sorted[i] >> 40;
		if (fn(b, sorted[i] & ((1ULL << 40) - 1), ctx))
			return b;
	}
	return QH_BUCKETS;
}

struct rank_walk {
	uint64_t rank, seen;
};

static bool reach_rank(unsigned int b, uint64_t n, void *ctx)
{
	struct rank_walk *w = ctx;

	(void)b;
	w->seen += n;
	return w->seen >= w->rank;
}

uint64_t stats_quantile(const struct stats *s, double p)
{
	struct rank_walk w = { .rank = (uint64_t)ceil(p * (double)s->samples) };
	uint64_t lo, width, v;
	unsigned int b;

	if (!s->samples)
		return 0;
	if (!w.rank)
		w.rank = 1;
	b = qh_walk(&s->h, reach_rank, &w);
	if (b >= QH_BUCKETS)
		return s->max;
	qh_range(b, &lo, &width);
	v = lo + width / 2;
	return v < s->min ? s->min : v > s->max ? s->max : v;
}

struct range_walk {
	unsigned int from, to;
	uint64_t n;
};

static bool count_range(unsigned int b, uint64_t n, void *ctx)
{
	struct range_walk *w = ctx;

	if (b >= w->to)
		return true;
	if (b >= w->from)
		w->n += n;
	return false;
}

uint64_t stats_count_range(const struct stats *s, unsigned int from, unsigned int to)
{
	struct range_walk w = { .from = from, .to = to };

	if (s->samples)
		qh_walk(&s->h, count_range, &w);
	return w.n;
}

static int stats_sample(struct stats *s, uint64_t dur, uint64_t bytes)
{
	if (!s->samples || dur < s->min)
		s->min = dur;
	if (dur > s->max)
		s->max = dur;
	s->count++;
	s->samples++;
	s->total += dur;
	s->bytes += bytes;
	return qh_add(&s->h, qh_bucket(dur), 1);
}

static bool merge_bucket(unsigned int b, uint64_t n, void *ctx)
{
	return qh_add(ctx, b, n) != 0;
}

static int stats_merge(struct stats *d, const struct stats *s)
{
	if (s->samples) {
		if (!d->samples || s->min < d->min)
			d->min = s->min;
		if (s->max > d->max)
			d->max = s->max;
		if (qh_walk(&s->h, merge_bucket, &d->h) != QH_BUCKETS)
			return -ENOMEM;
	}
	d->count += s->count;
	d->total += s->total;
	d->bytes += s->bytes;
	d->samples += s->samples;
	d->profiled += s->profiled;
	return 0;
}

struct run {
	uint8_t layer;
	int64_t s, e;
	uint64_t sum;
};

struct pend {
	struct run run[PEND_RUNS];
	unsigned int n;
};

struct open_call {
	int64_t s, e;
	uint8_t layer;
	bool valid;
};

struct thread {
	struct open_call open[MAX_LEVELS];
	struct pend pend[MAX_LEVELS];
};

struct proc_meta {
	char *comm;
	int64_t rank;
};

void agg_init(struct agg *a, bool timeline)
{
	memset(a, 0, sizeof(*a));
	a->want_timeline = timeline;
}

void agg_begin_input(struct agg *a)
{
	struct dc_map_slot *s;

	dc_map_each(&a->file_alias, s) free(s->val);
	dc_map_free(&a->file_alias);
	dc_map_each(&a->pid_host, s) free(s->val);
	dc_map_free(&a->pid_host);
	a->input_host = 0;
	a->input_hosts_many = false;
	a->t.inputs++;
}

static struct group *group_get(struct agg *a, enum dim d, const void *key, size_t klen)
{
	struct dc_map_slot *s = dc_map_put(&a->dims[d], key, klen);
	struct group *g;

	if (!s)
		return NULL;
	if (s->val)
		return s->val;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->key = s->key;
	g->rank = -1;
	s->val = g;
	return g;
}

static const char *str(const struct pfw_val *v)
{
	return v && v->type == PFW_STR ? v->s : NULL;
}

/* A hash string ("08cf3707b570dbec") as a number; others are hashed. */
static uint64_t hash_of(const struct pfw_val *v)
{
	uint64_t h = 0;
	size_t i;

	if (!v || v->type != PFW_STR)
		return 0;
	for (i = 0; i < v->n && i < 16; i++) {
		char c = v->s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0)
			break;
		h = h << 4 | d;
	}
	return i == v->n && i ? h : dc_hash(v->s, v->n);
}

static int layer_of(struct agg *a, const char *cat, struct group *g)
{
	unsigned int i;

	for (i = 0; i < a->nlayers; i++)
		if (!strcmp(a->layers[i].name, cat))
			return i;
	if (a->nlayers == MAX_LAYERS)
		return MAX_LAYERS - 1;
	a->layers[i].name = strdup(cat);
	if (!a->layers[i].name)
		return -ENOMEM;
	a->layers[i].st = &g->st;
	return a->nlayers++;
}

static void see_time(struct agg *a, int64_t s, int64_t e)
{
	if (!a->t.timed || s < a->t.t_min)
		a->t.t_min = s;
	if (!a->t.timed || e > a->t.t_max)
		a->t.t_max = e;
	a->t.timed = true;
}

static void set_string(struct dc_map *m, const struct pfw_val *key, const char *val)
{
	struct dc_map_slot *s;

	if (!key || key->type != PFW_STR || !val)
		return;
	s = dc_map_put(m, key->s, key->n);
	if (s && !s->val)
		s->val = strdup(val);
}

/*
 * Traces from different tools or hosts may use one hash for two names: the
 * later input's files get a key of their own, so each file stays one group.
 */
static void on_file_name(struct agg *a, const struct pfw_val *value, const char *name)
{
	const char *known;
	char alias[64];
	struct dc_map_slot *s;
	int n;

	if (!value || value->type != PFW_STR || !name)
		return;
	known = dc_map_get(&a->file_names, value->s, value->n);
	if (!known || !strcmp(known, name)) {
		set_string(&a->file_names, value, name);
		return;
	}
	n = snprintf(alias, sizeof(alias), "%.40s~%" PRIu64, value->s, a->t.inputs);
	s = dc_map_put(&a->file_names, alias, n);
	if (s && !s->val)
		s->val = strdup(name);
	s = dc_map_put(&a->file_alias, value->s, value->n);
	if (s && !s->val)
		s->val = strdup(alias);
}

static struct proc_meta *meta_get(struct agg *a, uint64_t host, int64_t pid)
{
	int64_t key[2] = { (int64_t)host, pid };
	struct dc_map_slot *s = dc_map_put(&a->proc_meta, key, sizeof(key));

	if (!s)
		return NULL;
	if (!s->val) {
		struct proc_meta *m = calloc(1, sizeof(*m));

		if (!m)
			return NULL;
		m->rank = -1;
		s->val = m;
	}
	return s->val;
}

static void on_meta(struct agg *a, const struct pfw_event *ev)
{
	const char *name = ev->name.s, *val = str(pfw_arg(ev, "name"));
	const struct pfw_val *value = pfw_arg(ev, "value");
	uint64_t host = a->input_hosts_many ? 0 : a->input_host;
	struct proc_meta *m;
	int64_t pid = 0, n;

	pfw_num(&ev->pid, &pid);
	a->t.m_events++;
	if (!strcmp(name, "FH")) {
		on_file_name(a, value, val);
	} else if (!strcmp(name, "HH")) {
		uint64_t h = hash_of(value);

		set_string(&a->host_names, value, val);
		if (a->input_host && a->input_host != h)
			a->input_hosts_many = true;
		a->input_host = h;
	} else if (!strcmp(name, "process_name") && val) {
		m = meta_get(a, host, pid);
		if (m && !m->comm)
			m->comm = strdup(val);
	} else if (!strcmp(name, "PR") && val && !strcmp(val, "rank") && value) {
		m = meta_get(a, host, pid);
		if (m && (pfw_num(value, &n) ||
			  (value->type == PFW_STR && sscanf(value->s, "%" SCNd64, &n) == 1)))
			m->rank = n;
	} else if (!strcmp(name, "end")) {
		if (pfw_arg(ev, "num_events") && pfw_num(pfw_arg(ev, "num_events"), &n))
			a->t.written += n;
		if (pfw_arg(ev, "dropped_events") && pfw_num(pfw_arg(ev, "dropped_events"), &n))
			a->t.dropped += n;
	}
	if ((!strcmp(name, "start") || !strcmp(name, "end")) && pfw_num(&ev->ts, &n))
		see_time(a, n, n);
}

/* Bytes a call moved: its return value, when it has a size it could fill. */
static uint64_t bytes_of(const struct pfw_event *ev)
{
	const struct pfw_val *ret = pfw_arg(ev, "ret"), *size = pfw_arg(ev, "size");
	int64_t r, sz;

	if (!ret || !pfw_num(ret, &r) || r <= 0)
		return 0;
	if (size && pfw_num(size, &sz))
		return r <= sz ? r : 0;
	/* Vectored calls have no size, only a count of buffers. */
	return pfw_arg(ev, "iovcnt") ? r : 0;
}

/*
 * Counters carry no host hash: in a trace of several hosts, a process's host
 * is the one its calls named.
 */
static int host_of(struct agg *a, int64_t pid, uint64_t *host)
{
	struct dc_map_slot *s;
	uint64_t *known;

	if (!a->input_hosts_many) {
		if (!*host)
			*host = a->input_host;
		return 0;
	}
	if (*host) {
		s = dc_map_put(&a->pid_host, &pid, sizeof(pid));
		if (!s || (!s->val && !(s->val = malloc(sizeof(uint64_t)))))
			return -ENOMEM;
		*(uint64_t *)s->val = *host;
		return 0;
	}
	known = dc_map_get(&a->pid_host, &pid, sizeof(pid));
	if (known)
		*host = *known;
	return 0;
}

static struct thread *thread_get(struct agg *a, uint64_t host, int64_t pid, int64_t tid)
{
	int64_t key[3] = { (int64_t)host, pid, tid };
	struct dc_map_slot *s = dc_map_put(&a->threads, key, sizeof(key));

	if (s && !s->val)
		s->val = calloc(1, sizeof(struct thread));
	return s ? s->val : NULL;
}

static void pend_add(struct agg *a, struct pend *p, uint8_t layer, int64_t s, int64_t e,
		     uint64_t dur)
{
	struct run *r = p->n ? &p->run[p->n - 1] : NULL;

	if (!r || r->layer != layer) {
		if (p->n == PEND_RUNS) {
			a->t.unattributed += dur;
			return;
		}
		r = &p->run[p->n++];
		*r = (struct run){ .layer = layer, .s = s, .e = e };
	}
	if (s < r->s)
		r->s = s;
	if (e > r->e)
		r->e = e;
	r->sum += dur;
}

/* Callees of [s, e) that came before it (traces written as calls end). */
static void pend_claim(struct agg *a, struct pend *p, uint8_t layer, int64_t s, int64_t e)
{
	unsigned int i;

	for (i = 0; i < p->n; i++) {
		if (p->run[i].s >= s && p->run[i].e <= e)
			a->layers[layer].child[p->run[i].layer] += p->run[i].sum;
		else
			a->t.unattributed += p->run[i].sum;
	}
	p->n = 0;
}

/*
 * Splits time between layers by nesting on each thread: a call at level L
 * belongs to the call at level L - 1 that contains it. Traces written as
 * calls end list callees before their caller; merged traces, sorted by
 * start, list the caller first. Both orders are handled: a callee whose
 * caller is already open is counted at once, otherwise it waits, by runs,
 * until a caller that contains it comes.
 */
static void nest(struct agg *a, struct thread *th, int64_t level, uint8_t layer, int64_t s,
		 int64_t e, uint64_t dur)
{
	struct open_call *up;
	int64_t i;

	if (level < 0)
		return;
	if (level >= MAX_LEVELS) {
		a->t.unattributed += dur;
		return;
	}
	up = level ? &th->open[level - 1] : NULL;
	if (up && up->valid && up->s <= s && e <= up->e)
		a->layers[up->layer].child[layer] += dur;
	else if (up)
		pend_add(a, &th->pend[level], layer, s, e, dur);
	if (level + 1 < MAX_LEVELS && th->pend[level + 1].n)
		pend_claim(a, &th->pend[level + 1], layer, s, e);
	th->open[level] = (struct open_call){ .s = s, .e = e, .layer = layer, .valid = true };
	for (i = level + 1; i < MAX_LEVELS; i++)
		th->open[i].valid = false;
}

static int64_t floor_div(int64_t x, int64_t d)
{
	return x >= 0 ? x / d : -((-x + d - 1) / d);
}

static int tl_rescale(struct agg *a, int64_t lo, uint64_t width)
{
	struct dc_map_slot *sl;
	uint64_t tmp[TL_BINS];

	dc_map_each(&a->dims[DIM_PROCESS], sl)
	{
		struct group *g = sl->val;
		unsigned int l, i;

		for (l = 0; g->tl && l < MAX_LAYERS; l++) {
			uint64_t *b = g->tl->bins[l];

			if (!b)
				continue;
			memset(tmp, 0, sizeof(tmp));
			for (i = 0; i < TL_BINS; i++) {
				int64_t k =
					floor_div((a->tl_lo + i) * (int64_t)a->tl_width, width) -
					lo;

				if (b[i] && k >= 0 && k < TL_BINS)
					tmp[k] += b[i];
			}
			memcpy(b, tmp, sizeof(tmp));
		}
	}
	a->tl_lo = lo;
	a->tl_width = width;
	return 0;
}

/* Adds busy time [s, e) of @layer to the process's row, widening bins as needed. */
static int tl_add(struct agg *a, struct group *g, uint8_t layer, int64_t s, int64_t e)
{
	int64_t k, w, lo, hi;
	uint64_t *b;

	if (e <= s)
		return 0;
	if (!g->tl) {
		if (a->dims[DIM_PROCESS].n > TL_MAX_ROWS)
			return 0;
		g->tl = calloc(1, sizeof(*g->tl));
		if (!g->tl)
			return -ENOMEM;
	}
	if (!a->tl_set) {
		a->tl_set = true;
		a->tl_width = 1;
		a->tl_lo = s;
	}
	w = a->tl_width;
	lo = a->tl_lo * w;
	hi = (a->tl_lo + TL_BINS) * w;
	if (s < lo || e > hi) {
		/* Wide enough for everything seen so far, this call included. */
		while (floor_div(a->t.t_max - 1, w) - floor_div(a->t.t_min, w) + 1 > TL_BINS)
			w *= 2;
		tl_rescale(a, floor_div(a->t.t_min, w), w);
	}
	b = g->tl->bins[layer];
	if (!b) {
		b = g->tl->bins[layer] = calloc(TL_BINS, sizeof(*b));
		if (!b)
			return -ENOMEM;
	}
	w = a->tl_width;
	for (k = floor_div(s, w); k * w < e; k++) {
		int64_t bs = k * w, be = bs + w, i = k - a->tl_lo;

		if (i >= 0 && i < TL_BINS)
			b[i] += (e < be ? e : be) - (s > bs ? s : bs);
	}
	return 0;
}

static struct group *process_group(struct agg *a, uint64_t host, int64_t pid)
{
	int64_t key[2] = { (int64_t)host, pid };
	struct group *g = group_get(a, DIM_PROCESS, key, sizeof(key));

	if (g) {
		g->hhash = host;
		g->pid = pid;
	}
	return g;
}

int agg_event(struct agg *a, const struct pfw_event *ev)
{
	const char *cat = ev->cat.type == PFW_STR ? ev->cat.s : "?";
	struct group *gl, *gf, *gfile, *gp;
	const struct pfw_val *fh = pfw_hash(ev, "fhash");
	char fkey[256];
	size_t fn, cn = strlen(cat), nn = ev->name.n;
	uint64_t host = hash_of(pfw_hash(ev, "hhash"));
	int64_t ts = 0, dur = 0, pid = 0, tid = 0, level = -1, v;
	char ph = ev->ph.s[0];
	char *key;
	int li, err = 0;

	if (ph == 'M') {
		on_meta(a, ev);
		return 0;
	}
	if (ph != 'X' && ph != 'C')
		return 0;
	pfw_num(&ev->ts, &ts);
	pfw_num(&ev->pid, &pid);
	err = host_of(a, pid, &host);
	if (err)
		return err;
	pfw_num(&ev->tid, &tid);
	if (ph == 'X')
		pfw_num(&ev->dur, &dur);
	key = malloc(cn + nn + 2);
	if (!key)
		return -ENOMEM;
	memcpy(key, cat, cn + 1);
	memcpy(key + cn + 1, ev->name.s, nn);
	gl = group_get(a, DIM_LAYER, cat, cn);
	gf = group_get(a, DIM_FUNCTION, key, cn + nn + 1);
	free(key);
	fn = fh && fh->type == PFW_STR && fh->n < sizeof(fkey) ? fh->n : 0;
	if (fn)
		memcpy(fkey, fh->s, fn);
	if (fn && a->file_alias.n) {
		const char *alias = dc_map_get(&a->file_alias, fh->s, fh->n);

		if (alias) {
			fn = strlen(alias);
			memcpy(fkey, alias, fn);
		}
	}
	gfile = group_get(a, DIM_FILE, fkey, fn);
	gp = process_group(a, host, pid);
	if (!gl || !gf || !gfile || !gp)
		return -ENOMEM;
	li = layer_of(a, cat, gl);
	if (li < 0)
		return li;
	gf->layer = a->layers[li].name;
	see_time(a, ts, ts + dur);
	if (ph == 'X') {
		uint64_t bytes = bytes_of(ev);
		struct group *gs[] = { gl, gf, gfile, gp };
		unsigned int i;

		a->t.x_events++;
		for (i = 0; i < 4 && !err; i++)
			err = stats_sample(&gs[i]->st, dur, bytes);
		if (pfw_arg(ev, "level") && pfw_num(pfw_arg(ev, "level"), &level)) {
			struct thread *th = thread_get(a, host, pid, tid);

			if (!th)
				return -ENOMEM;
			a->layers[li].level_sum += level;
			a->layers[li].level_n++;
			nest(a, th, level, li, ts, ts + dur, dur);
		}
		if (!err && a->want_timeline)
			err = tl_add(a, gp, li, ts, ts + dur);
		return err;
	}
	/* A profile counter: totals over an interval, with no durations to sample. */
	{
		struct group *gs[] = { gl, gf, gfile, gp };
		uint64_t count = 1, time = 0, bytes = 0;
		const struct pfw_val *p;
		unsigned int i;

		a->t.c_events++;
		if ((p = pfw_arg(ev, "count")) && pfw_num(p, &v) && v >= 0)
			count = v;
		if ((p = pfw_arg(ev, "time")) && pfw_num(p, &v) && v > 0)
			time = v;
		if (((p = pfw_arg(ev, "size")) || (p = pfw_arg(ev, "bytes"))) && pfw_num(p, &v) &&
		    v > 0)
			bytes = v;
		for (i = 0; i < 4; i++) {
			gs[i]->st.count += count;
			gs[i]->st.profiled += count;
			gs[i]->st.total += time;
			gs[i]->st.bytes += bytes;
		}
		if (a->want_timeline)
			err = tl_add(a, gp, li, ts, ts + (time ? 1 : 0));
		return err;
	}
}

static struct proc_meta *meta_find(const struct agg *a, uint64_t host, int64_t pid)
{
	int64_t key[2] = { (int64_t)host, pid };
	struct proc_meta *m = dc_map_get(&a->proc_meta, key, sizeof(key));

	if (!m) {
		key[0] = 0;
		m = dc_map_get(&a->proc_meta, key, sizeof(key));
	}
	return m;
}

static char *host_name(const struct agg *a, uint64_t h)
{
	char hex[17];

	snprintf(hex, sizeof(hex), "%016" PRIx64, h);
	return dc_map_get(&a->host_names, hex, 16);
}

static int label_groups(struct agg *a)
{
	struct dc_map_slot *s;
	char buf[512];

	dc_map_each(&a->dims[DIM_LAYER], s)
	{
		struct group *g = s->val;

		g->label = strdup(s->key);
	}
	dc_map_each(&a->dims[DIM_FUNCTION], s)
	{
		struct group *g = s->val;

		g->label = strdup(s->key + strlen(s->key) + 1);
	}
	dc_map_each(&a->dims[DIM_FILE], s)
	{
		struct group *g = s->val;
		const char *name = dc_map_get(&a->file_names, s->key, s->klen);

		if (name)
			g->label = strdup(name);
		else if (s->klen)
			snprintf(buf, sizeof(buf), "(fhash %s)", s->key), g->label = strdup(buf);
		else
			g->label = strdup("(no file)");
	}
	dc_map_each(&a->dims[DIM_PROCESS], s)
	{
		struct group *g = s->val;
		struct proc_meta *m = meta_find(a, g->hhash, g->pid);
		const char *host = host_name(a, g->hhash);
		int n = snprintf(buf, sizeof(buf), "pid %" PRId64, g->pid);

		if (m && m->comm)
			n += snprintf(buf + n, sizeof(buf) - n, " %s", m->comm);
		if (host && n < (int)sizeof(buf))
			snprintf(buf + n, sizeof(buf) - n, " @%s", host);
		g->rank = m ? m->rank : -1;
		g->label = strdup(buf);
	}
	for (int d = 0; d < DIM_RANK; d++)
		dc_map_each(&a->dims[d], s) if (!((struct group *)s->val)->label) return -ENOMEM;
	return 0;
}

int agg_finish(struct agg *a)
{
	struct dc_map_slot *s, *t;
	int err = label_groups(a);

	dc_map_each(&a->dims[DIM_PROCESS], s)
	{
		struct group *p = s->val, *r;
		char label[32];

		if (err)
			break;
		if (p->rank >= 0)
			snprintf(label, sizeof(label), "rank %" PRId64, p->rank);
		else
			snprintf(label, sizeof(label), "(no rank)");
		r = group_get(a, DIM_RANK, label, strlen(label));
		if (!r)
			return -ENOMEM;
		r->rank = p->rank;
		if (!r->label)
			r->label = strdup(label);
		err = r->label ? stats_merge(&r->st, &p->st) : -ENOMEM;
	}
	/* Callees whose caller never came (cut short, or the caller's event lost). */
	dc_map_each(&a->threads, t)
	{
		struct thread *th = t->val;
		unsigned int l, i;

		for (l = 0; l < MAX_LEVELS; l++)
			for (i = 0; i < th->pend[l].n; i++)
				a->t.unattributed += th->pend[l].run[i].sum;
	}
	return err;
}

static int by_total(const void *x, const void *y)
{
	const struct group *a = *(struct group *const *)x, *b = *(struct group *const *)y;

	if (a->st.total != b->st.total)
		return a->st.total < b->st.total ? 1 : -1;
	if (a->st.count != b->st.count)
		return a->st.count < b->st.count ? 1 : -1;
	if (a->layer && b->layer && strcmp(a->layer, b->layer))
		return strcmp(a->layer, b->layer);
	return strcmp(a->label, b->label);
}

struct group **agg_sorted(const struct agg *a, enum dim d, size_t *n)
{
	struct group **v = malloc((a->dims[d].n + 1) * sizeof(*v));
	struct dc_map_slot *s;
	size_t i = 0;

	if (!v)
		return NULL;
	dc_map_each(&a->dims[d], s) v[i++] = s->val;
	qsort(v, i, sizeof(*v), by_total);
	*n = i;
	return v;
}

/* Where a layer usually sits, for ties in nesting level. */
static int known_rank(const char *name)
{
	static const char *const known[] = { "HDF5",   "PNETCDF", "NETCDF", "MPI",    "MPIIO",
					     "MPI-IO", "STDIO",	  "POSIX",  "SYSCALL" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcasecmp(name, known[i]))
			return i;
	return (int)i;
}

static const struct agg *order_agg;

static int by_depth(const void *x, const void *y)
{
	const struct layer *a = &order_agg->layers[*(const unsigned int *)x];
	const struct layer *b = &order_agg->layers[*(const unsigned int *)y];
	double da = a->level_n ? (double)a->level_sum / a->level_n : 0;
	double db = b->level_n ? (double)b->level_sum / b->level_n : 0;

	if (fabs(da - db) > 0.05)
		return da < db ? -1 : 1;
	if (known_rank(a->name) != known_rank(b->name))
		return known_rank(a->name) - known_rank(b->name);
	return strcmp(a->name, b->name);
}

void agg_layer_order(const struct agg *a, unsigned int *order)
{
	unsigned int i;

	for (i = 0; i < a->nlayers; i++)
		order[i] = i;
	order_agg = a;
	qsort(order, a->nlayers, sizeof(*order), by_depth);
}

static void group_free(struct group *g)
{
	unsigned int l;

	for (l = 0; g->tl && l < MAX_LAYERS; l++)
		free(g->tl->bins[l]);
	free(g->tl);
	free(g->st.h.v);
	free(g->label);
	free(g);
}

static void map_free_vals(struct dc_map *m, bool proc_meta)
{
	struct dc_map_slot *s;

	dc_map_each(m, s)
	{
		if (proc_meta)
			free(((struct proc_meta *)s->val)->comm);
		free(s->val);
	}
	dc_map_free(m);
}

void agg_free(struct agg *a)
{
	struct dc_map_slot *s;
	unsigned int i;
	int d;

	for (d = 0; d < NDIMS; d++) {
		dc_map_each(&a->dims[d], s) group_free(s->val);
		dc_map_free(&a->dims[d]);
	}
	for (i = 0; i < a->nlayers; i++)
		free(a->layers[i].name);
	map_free_vals(&a->threads, false);
	map_free_vals(&a->file_names, false);
	map_free_vals(&a->file_alias, false);
	map_free_vals(&a->pid_host, false);
	map_free_vals(&a->host_names, false);
	map_free_vals(&a->proc_meta, true);
}
