// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dc_err.h"
#include "profile.h"

#define MIN_NS 1000000ULL
#define MAX_NS 3600000000000ULL
/*
 * An interval is drained this long after it ends: a program that read the
 * clock just before the end may still be adding its call to it.
 */
#define GRACE_NS 20000000ULL
#define BATCH 1024

struct profile {
	struct writer *w;
	int fd;
	uint64_t interval, base;
	uint64_t next; /* CLOCK_MONOTONIC ns of the next drain worth doing */
	struct dc_prof_key *keys;
	struct dc_prof_val *vals;
	uint32_t *order;
	size_t cap;
};

int profile__parse_interval(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = { { "us", 1000ULL },       { "ms", 1000000ULL },	  { "s", 1000000000ULL },
		      { "m", 60000000000ULL }, { "h", 3600000000000ULL }, {} };
	unsigned long long v;
	char *end;
	size_t i;

	errno = 0;
	v = *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
	for (i = 0; v && !errno && units[i].unit; i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (v > MAX_NS / units[i].ns || v * units[i].ns < MIN_NS)
			break;
		*ns = v * units[i].ns;
		return 0;
	}
	return dc_err(-EINVAL,
		      "--profile=%s: want an interval with a unit, from 1ms to 1h (e.g. 100ms, 1s, "
		      "5s)",
		      s);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t profile__base(uint64_t interval_ns, int64_t real_minus_mono_ns)
{
	uint64_t now = now_ns();

	return interval_ns ? now - (uint64_t)((int64_t)now + real_minus_mono_ns) % interval_ns : 0;
}

int profile__size_maps(struct bpf_object *obj, const struct dc_manifest *man, size_t entries)
{
	struct bpf_map *sums = bpf_object__find_map_by_name(obj, "dc_prof");
	struct bpf_map *rules = bpf_object__find_map_by_name(obj, "dc_prof_bytes");

	if (!sums || !rules)
		return dc_err(-ENOEXEC, "object has no profile maps: made by another version of "
					"datacrumbs-generate?");
	if (bpf_map__set_max_entries(sums, entries ? entries : 1) ||
	    bpf_map__set_max_entries(rules, entries && man->nprobes ? man->nprobes : 1))
		return dc_err(-EINVAL, "cannot size the profile maps");
	return 0;
}

/* The rule the report applies to the probe's events (see dc_bytes_rule). */
static uint32_t bytes_rule(const struct dc_mprobe *p)
{
	unsigned int i;

	for (i = 0; i < p->nfields; i++)
		if (!strcmp(p->field[i], "size"))
			return DC_BYTES_ARG0 + i;
	for (i = 0; i < p->nfields; i++)
		if (!strcmp(p->field[i], "iovcnt"))
			return DC_BYTES_RET;
	return DC_BYTES_NONE;
}

int profile__open(struct profile **out, struct bpf_object *obj, const struct dc_manifest *man,
		  struct writer *w, uint64_t interval_ns, uint64_t base_ns)
{
	int rules = bpf_object__find_map_fd_by_name(obj, "dc_prof_bytes");
	struct profile *p;
	uint32_t i;

	*out = NULL;
	for (i = 0; rules >= 0 && i < man->nprobes; i++) {
		uint32_t r = bytes_rule(&man->probes[i]);

		if (r && bpf_map_update_elem(rules, &i, &r, BPF_ANY))
			return dc_err(-errno, "cannot set the profile's byte rules: %s",
				      strerror(errno));
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->w = w;
	p->fd = bpf_object__find_map_fd_by_name(obj, "dc_prof");
	p->interval = interval_ns;
	p->base = base_ns;
	p->next = base_ns + interval_ns + GRACE_NS;
	if (p->fd < 0 || rules < 0) {
		free(p);
		return dc_err(-ENOEXEC, "object lacks the profile maps");
	}
	*out = p;
	return 0;
}

static int grow(struct profile *p, size_t need)
{
	size_t cap = p->cap ? p->cap : BATCH;
	void *k, *v, *o;

	while (cap < need)
		cap *= 2;
	if (cap == p->cap)
		return 0;
	k = realloc(p->keys, cap * sizeof(*p->keys));
	if (k)
		p->keys = k;
	v = realloc(p->vals, cap * sizeof(*p->vals));
	if (v)
		p->vals = v;
	o = realloc(p->order, cap * sizeof(*p->order));
	if (o)
		p->order = o;
	if (!k || !v || !o)
		return -ENOMEM;
	p->cap = cap;
	return 0;
}

/* Reads every sum into p->keys/p->vals; returns how many, or a negative errno. */
static long read_all(struct profile *p)
{
	struct dc_prof_key token; /* the kernel's place in the map; a key is big enough */
	size_t have = 0;
	bool first = true;
	int err;

	for (;;) {
		__u32 n;

		err = grow(p, have + BATCH);
		if (err)
			return err;
		n = p->cap - have;
		err = bpf_map_lookup_batch(p->fd, first ? NULL : &token, &token, p->keys + have,
					   p->vals + have, &n, NULL);
		if (err && errno == ENOSPC && !n) {
			/* One hash bucket holds more than the room left. */
			err = grow(p, p->cap * 2);
			if (err)
				return err;
			continue;
		}
		have += n;
		first = false;
		if (err && errno == ENOENT)
			return have;
		if (err)
			return dc_err(-errno, "reading the profile sums: %s", strerror(errno));
	}
}

static const struct dc_prof_key *sort_keys;

/* Time first, so the trace's counters come in the order of their intervals. */
static int cmp_key(const void *a, const void *b)
{
	const struct dc_prof_key *x = &sort_keys[*(const uint32_t *)a];
	const struct dc_prof_key *y = &sort_keys[*(const uint32_t *)b];

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->probe != y->probe)
		return x->probe < y->probe ? -1 : 1;
	return x->fhash < y->fhash ? -1 : x->fhash > y->fhash;
}

int profile__drain(struct profile *p, bool all)
{
	uint64_t now = now_ns(), limit = UINT64_MAX;
	long n = 0, i;
	size_t m = 0;
	int err = 0;

	if (!all) {
		if (now < p->next)
			return 0;
		limit = (now - GRACE_NS - p->base) / p->interval;
		p->next = p->base + (limit + 1) * p->interval + GRACE_NS;
	}
	n = read_all(p);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++)
		if (p->keys[i].slot < limit)
			p->order[m++] = i;
	sort_keys = p->keys;
	qsort(p->order, m, sizeof(*p->order), cmp_key);
	for (i = 0; !err && i < (long)m; i++) {
		const struct dc_prof_key *k = &p->keys[p->order[i]];

		err = writer__counter(p->w, k, &p->vals[p->order[i]],
				      p->base + (uint64_t)k->slot * p->interval);
	}
	/* Deleted once written: what was emitted cannot be emitted twice. */
	for (i = 0; i < (long)m; i++)
		if (bpf_map_delete_elem(p->fd, &p->keys[p->order[i]]) && errno != ENOENT && !err)
			err = dc_err(-errno, "deleting a profile sum: %s", strerror(errno));
	return err;
}

void profile__destroy(struct profile *p)
{
	if (!p)
		return;
	free(p->keys);
	free(p->vals);
	free(p->order);
	free(p);
}
