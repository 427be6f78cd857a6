// SPDX-License-Identifier: MIT
/*
 * datacrumbs-merge: merges per-rank or per-node traces into one trace,
 * sorted by time, in bounded memory: events are sorted in runs of at most
 * --mem bytes, runs are spilled to a temporary file and merged.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc_buf.h"
#include "dc_err.h"
#include "dc_json.h"
#include "dc_map.h"
#include "dc_paths.h"
#include "dc_pfw.h"

/* Runs merged at once; more are merged in rounds. */
#define FANIN 16
#define MEMBER_BYTES (4u << 20)
#define ARENA_SLACK (PFW_LINE_MAX + 256)

struct opts {
	const char *out;
	const char *tmpdir;
	char **inputs;
	int ninputs;
	size_t mem;
	bool force;
	int level;
};

/* The sort key travels with the line: "JSON\tinput\tts\t-dur\tlevel\tseq". */
struct key {
	int64_t ts, negdur, level;
	uint64_t seq;
	uint32_t input;
};

struct item {
	struct key k;
	size_t off, len; /* the line with its key suffix, in the arena */
};

struct run {
	uint64_t start, end; /* bytes of the temporary file */
};

/* A hash of one input that must change to stay unique in the merged trace. */
struct remap {
	uint64_t to;
};

struct merge {
	struct opts o;
	char *arena;
	size_t used;
	struct item *items;
	size_t nitems, cap_items;
	int tmp_fd;
	char *tmp_path;
	struct run *runs;
	size_t nruns;
	uint64_t seq;
	/* Metadata, written once each before the events. */
	struct dc_map hashes; /* "FH:hash" -> the string it names */
	struct dc_map seen_meta; /* other metadata lines without their id */
	struct dc_map remaps; /* "input:kind:hash" -> struct remap */
	char **meta; /* metadata lines in first-seen order */
	size_t nmeta, cap_meta;
	/* One start and one end record for all. */
	bool have_start;
	int64_t start_ts, end_ts, first_pid;
	struct dc_map end_args; /* numeric args of the end records, summed */
	char **end_keys;
	size_t nend_keys;
	uint64_t events_out, next_id;
	uint64_t bad;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: datacrumbs-merge [OPTION]... -o OUTPUT.pfw.gz TRACE...\n"
		"Merge DFTracer traces (per rank, per node, ...) into one trace sorted by\n"
		"time. File and host hashes stay consistent (a hash that two traces use for\n"
		"different names is renumbered in one of them); metadata lines appear once;\n"
		"the start and end records become one pair whose counts are the sums. Event\n"
		"ids are renumbered. Memory stays bounded: events are sorted in runs that\n"
		"spill to a temporary file, then merged.\n"
		"\n"
		"  -o, --output=FILE   the merged trace (required; not replaced unless --force)\n"
		"  -f, --force         replace OUTPUT if it exists\n"
		"  -m, --mem=MIB       memory for sorting, in MiB (default 256)\n"
		"  -T, --tmpdir=DIR    directory for the temporary file (default: OUTPUT's)\n"
		"  -l, --level=N       gzip level 1-9 (default 6)\n"
		"  -q, --quiet         print no warnings\n"
		"  -h, --help          show this help and exit\n"
		"  -V, --version       show the version and exit\n"
		"\n"
		"Bad lines are skipped and counted; a truncated last gzip member is read up\n"
		"to its last complete line. OUTPUT is written aside and renamed into place,\n"
		"so it is never left half written.\n");
}

static int parse_size(const char *s, const char *what, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || *end || !*s || *out < lo || *out > hi)
		return dc_err(-EINVAL, "%s must be a whole number from %ld to %ld, not '%s'", what,
			      lo, hi, s);
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = { { "output", required_argument, NULL, 'o' },
					       { "force", no_argument, NULL, 'f' },
					       { "mem", required_argument, NULL, 'm' },
					       { "tmpdir", required_argument, NULL, 'T' },
					       { "level", required_argument, NULL, 'l' },
					       { "quiet", no_argument, NULL, 'q' },
					       { "help", no_argument, NULL, 'h' },
					       { "version", no_argument, NULL, 'V' },
					       {} };
	long v;
	int c, err;

	o->mem = 256u << 20;
	o->level = 6;
	while ((c = getopt_long(argc, argv, "o:fm:T:l:qhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'f':
			o->force = true;
			break;
		case 'm':
			err = parse_size(optarg, "--mem", 1, 1 << 20, &v);
			if (err)
				return err;
			o->mem = (size_t)v << 20;
			break;
		case 'T':
			o->tmpdir = optarg;
			break;
		case 'l':
			err = parse_size(optarg, "--level", 1, 9, &v);
			if (err)
				return err;
			o->level = v;
			break;
		default:
			dc_std_option(c, usage);
		}
	}
	if (!o->out)
		return dc_err(-EINVAL, "no output given: datacrumbs-merge -o OUTPUT TRACE...");
	if (optind >= argc)
		return dc_err(-EINVAL, "no trace given (try --help)");
	o->inputs = argv + optind;
	o->ninputs = argc - optind;
	return 0;
}

static int add_meta(struct merge *m, const char *line, size_t len)
{
	char **v;

	if (m->nmeta == m->cap_meta) {
		m->cap_meta = m->cap_meta ? 2 * m->cap_meta : 64;
		v = realloc(m->meta, m->cap_meta * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->meta = v;
	}
	m->meta[m->nmeta] = strndup(line, len);
	return m->meta[m->nmeta++] ? 0 : -ENOMEM;
}

/* Another hash for @s, for the @salt-th try at a value nobody uses. */
static uint64_t salted_hash(const char *s, size_t n, uint64_t salt)
{
	uint64_t h = dc_hash(s, n);

	return dc_hash(&h, sizeof(h)) ^ dc_hash(&salt, sizeof(salt));
}

/*
 * FH, HH and SH lines map a hash to a string. The same pair from several
 * traces is written once; a hash already taken by another string gets a new
 * value in this input, and its events are rewritten to match.
 */
static int on_hash_meta(struct merge *m, uint32_t input, const struct pfw_event *ev,
			const char *line, size_t len)
{
	const struct pfw_val *name = pfw_arg(ev, "name"), *value = pfw_arg(ev, "value");
	char key[64], rkey[96], hex[17], *fixed, *owner;
	struct dc_map_slot *s, *r;
	uint64_t salt, h;
	size_t kn, rn;
	int n, err;

	if (!name || !value || name->type != PFW_STR || value->type != PFW_STR || value->n > 40)
		return add_meta(m, line, len);
	kn = snprintf(key, sizeof(key), "%s:%s", ev->name.s, value->s);
	s = dc_map_put(&m->hashes, key, kn);
	if (!s)
		return -ENOMEM;
	if (!s->val) {
		s->val = strdup(name->s);
		return s->val ? add_meta(m, line, len) : -ENOMEM;
	}
	if (!strcmp(s->val, name->s))
		return 0;
	/* Taken: find a value that is free, or already names this string. */
	for (salt = 1;; salt++) {
		h = salted_hash(name->s, name->n, salt);
		snprintf(hex, sizeof(hex), "%016" PRIx64, h);
		kn = snprintf(key, sizeof(key), "%s:%s", ev->name.s, hex);
		owner = dc_map_get(&m->hashes, key, kn);
		if (!owner || !strcmp(owner, name->s))
			break;
	}
	rn = snprintf(rkey, sizeof(rkey), "%u:%s:%s", input, ev->name.s, value->s);
	r = dc_map_put(&m->remaps, rkey, rn);
	if (!r)
		return -ENOMEM;
	if (!r->val && !(r->val = malloc(sizeof(struct remap))))
		return -ENOMEM;
	((struct remap *)r->val)->to = h;
	if (owner)
		return 0;
	s = dc_map_put(&m->hashes, key, kn);
	if (!s || !(s->val = strdup(name->s)))
		return -ENOMEM;
	fixed = malloc(len + 32);
	if (!fixed)
		return -ENOMEM;
	/* The line as it came, with the new value. */
	n = snprintf(fixed, len + 32, "%.*s\"%s\"%.*s", (int)value->off, line, hex,
		     (int)(len - value->off - value->len), line + value->off + value->len);
	err = add_meta(m, fixed, n);
	free(fixed);
	return err;
}

static int on_end(struct merge *m, const struct pfw_event *ev)
{
	unsigned int i;
	int64_t v, ts;

	if (pfw_num(&ev->ts, &ts) && ts > m->end_ts)
		m->end_ts = ts;
	for (i = 0; i < ev->nargs; i++) {
		struct dc_map_slot *s;

		if (!ev->args[i].key || !pfw_num(&ev->args[i].v, &v) ||
		    ev->args[i].v.type != PFW_INT)
			continue;
		s = dc_map_put(&m->end_args, ev->args[i].key, strlen(ev->args[i].key));
		if (!s)
			return -ENOMEM;
		if (!s->val) {
			char **k = realloc(m->end_keys, (m->nend_keys + 1) * sizeof(*k));

			if (!k)
				return -ENOMEM;
			m->end_keys = k;
			k[m->nend_keys++] = s->key;
			s->val = calloc(1, sizeof(int64_t));
			if (!s->val)
				return -ENOMEM;
		}
		*(int64_t *)s->val += v;
	}
	return 0;
}

/* A metadata line with its id left out, so copies from many traces match. */
static int on_meta(struct merge *m, uint32_t input, const struct pfw_event *ev, const char *line,
		   size_t len)
{
	const char *name = ev->name.s;
	struct dc_map_slot *s;
	char *key;
	size_t kn;
	int64_t ts;

	if (!strcmp(name, "start")) {
		if (pfw_num(&ev->ts, &ts) && (!m->have_start || ts < m->start_ts))
			m->start_ts = ts;
		if (!m->have_start)
			pfw_num(&ev->pid, &m->first_pid);
		m->have_start = true;
		return 0;
	}
	if (!strcmp(name, "end"))
		return on_end(m, ev);
	if (!strcmp(name, "FH") || !strcmp(name, "HH") || !strcmp(name, "SH"))
		return on_hash_meta(m, input, ev, line, len);
	key = malloc(len + 1);
	if (!key)
		return -ENOMEM;
	if (ev->id.type != PFW_NONE) {
		memcpy(key, line, ev->id.off);
		memcpy(key + ev->id.off, line + ev->id.off + ev->id.len,
		       len - ev->id.off - ev->id.len);
		kn = len - ev->id.len;
	} else {
		memcpy(key, line, len);
		kn = len;
	}
	s = dc_map_put(&m->seen_meta, key, kn);
	free(key);
	if (!s)
		return -ENOMEM;
	if (s->val)
		return 0;
	s->val = s;
	return add_meta(m, line, len);
}

static int cmp_key(const struct key *a, const struct key *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->negdur != b->negdur)
		return a->negdur < b->negdur ? -1 : 1;
	if (a->level != b->level)
		return a->level < b->level ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_item(const void *x, const void *y)
{
	return cmp_key(&((const struct item *)x)->k, &((const struct item *)y)->k);
}

static int open_tmp(struct merge *m)
{
	const char *dir = m->o.tmpdir;
	char *slash, *base = NULL;

	if (!dir) {
		base = strdup(m->o.out);
		if (!base)
			return -ENOMEM;
		slash = strrchr(base, '/');
		if (slash)
			slash[slash == base] = '\0';
		dir = slash ? base : ".";
	}
	if (asprintf(&m->tmp_path, "%s/.datacrumbs-merge.XXXXXX", dir) < 0) {
		free(base);
		return -ENOMEM;
	}
	free(base);
	m->tmp_fd = mkstemp(m->tmp_path);
	if (m->tmp_fd < 0)
		return dc_err(-errno, "cannot make a temporary file in %s: %s",
			      m->o.tmpdir ? m->o.tmpdir : "the output's directory",
			      strerror(errno));
	/* Only this process needs it, and it must not outlive a crash. */
	unlink(m->tmp_path);
	return 0;
}

/* Sorts what is in memory and appends it to the temporary file as a run. */
static int spill(struct merge *m)
{
	struct pfw_writer *w;
	struct run *r;
	size_t i;
	int err;

	if (!m->nitems)
		return 0;
	if (m->tmp_fd < 0) {
		err = open_tmp(m);
		if (err)
			return err;
	}
	qsort(m->items, m->nitems, sizeof(*m->items), cmp_item);
	r = realloc(m->runs, (m->nruns + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	m->runs = r;
	r = &m->runs[m->nruns];
	r->start = lseek(m->tmp_fd, 0, SEEK_END);
	/* Fast compression: the runs are read back once. */
	err = pfw_writer__open(&w, m->tmp_fd, "temporary file", MEMBER_BYTES, 1);
	for (i = 0; !err && i < m->nitems; i++) {
		char *p = pfw_writer__room(w, m->items[i].len);

		if (!p) {
			err = -ENOMEM;
			break;
		}
		memcpy(p, m->arena + m->items[i].off, m->items[i].len);
		err = pfw_writer__commit(w, m->items[i].len);
	}
	i = pfw_writer__close(w);
	err = err ? err : (int)i;
	if (err)
		return err == -ENOSPC ? dc_err(err, "no space left for the temporary file") : err;
	r->end = lseek(m->tmp_fd, 0, SEEK_END);
	m->nruns++;
	m->nitems = 0;
	m->used = 0;
	return 0;
}

static int add_event(struct merge *m, uint32_t input, const struct pfw_event *ev, const char *line,
		     size_t len)
{
	const struct pfw_val *lv = pfw_arg(ev, "level");
	struct key k = { .input = input, .seq = m->seq++ };
	struct item *it;
	int64_t dur = 0;
	char suffix[128];
	size_t need;
	int sn, err;

	pfw_num(&ev->ts, &k.ts);
	pfw_num(&ev->dur, &dur);
	k.negdur = -dur;
	if (!lv || !pfw_num(lv, &k.level))
		k.level = 0;
	sn = snprintf(suffix, sizeof(suffix),
		      "\t%u\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRIu64 "\n", k.input, k.ts,
		      k.negdur, k.level, k.seq);
	/* The lines and their keys share the budget. */
	need = m->used + len + sn + (m->nitems + 1) * sizeof(*it);
	if (need > m->o.mem) {
		err = spill(m);
		if (err)
			return err;
	}
	if (m->nitems == m->cap_items) {
		size_t cap = m->cap_items ? 2 * m->cap_items : 4096;

		it = realloc(m->items, cap * sizeof(*it));
		if (!it)
			return -ENOMEM;
		m->items = it;
		m->cap_items = cap;
	}
	it = &m->items[m->nitems++];
	it->k = k;
	it->off = m->used;
	it->len = len + sn;
	memcpy(m->arena + m->used, line, len);
	memcpy(m->arena + m->used + len, suffix, sn);
	m->used += len + sn;
	return 0;
}

static int read_input(struct merge *m, uint32_t input)
{
	const char *path = m->o.inputs[input];
	struct pfw_reader *r;
	struct pfw_event ev;
	char *line;
	size_t len;
	int ret;

	ret = pfw_reader__open(&r, path);
	if (ret)
		return ret;
	while ((ret = pfw_reader__event(r, &ev, &line, &len)) > 0) {
		if (ev.ph.s[0] == 'M')
			ret = on_meta(m, input, &ev, line, len);
		else
			ret = add_event(m, input, &ev, line, len);
		if (ret)
			break;
	}
	if (!ret && pfw_reader__bad(r))
		dc_warn("%s: %llu bad line%s skipped", path, (unsigned long long)pfw_reader__bad(r),
			pfw_reader__bad(r) == 1 ? "" : "s");
	m->bad += pfw_reader__bad(r);
	pfw_reader__close(r);
	return ret;
}

/* Splits a run line into its JSON and its key. */
static int split_line(char *line, size_t len, size_t *jlen, struct key *k)
{
	char *tab = NULL;
	size_t i, tabs = 0;

	for (i = len; i > 0 && tabs < 5; i--) {
		if (line[i - 1] == '\t') {
			tabs++;
			tab = line + i - 1;
		}
	}
	if (tabs != 5 || sscanf(tab, "\t%u\t%" SCNd64 "\t%" SCNd64 "\t%" SCNd64 "\t%" SCNu64,
				&k->input, &k->ts, &k->negdur, &k->level, &k->seq) != 5)
		return dc_err(-EIO, "the temporary file is damaged");
	*jlen = tab - line;
	return 0;
}

struct head {
	struct pfw_reader *r;
	char *line;
	size_t len, jlen;
	struct key k;
};

static int head_next(struct head *h)
{
	int ret = pfw_reader__next(h->r, &h->line, &h->len);

	if (ret == 2)
		return dc_err(-EIO, "the temporary file is damaged");
	if (ret <= 0) {
		h->line = NULL;
		return ret;
	}
	return split_line(h->line, h->len, &h->jlen, &h->k);
}

static void heap_down(struct head **v, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, s = i;
		struct head *t;

		if (l < n && cmp_key(&v[l]->k, &v[s]->k) < 0)
			s = l;
		if (l + 1 < n && cmp_key(&v[l + 1]->k, &v[s]->k) < 0)
			s = l + 1;
		if (s == i)
			return;
		t = v[i];
		v[i] = v[s];
		v[s] = t;
		i = s;
	}
}

static char *put_hex_quoted(char *p, uint64_t h)
{
	return p + sprintf(p, "\"%016" PRIx64 "\"", h);
}

/* Writes @line with a new id and any hash this input had to give up. */
static int emit_event(struct merge *m, struct pfw_writer *w, uint32_t input, const char *line,
		      size_t len, char *scratch)
{
	struct {
		size_t off, len;
		uint64_t hash;
		bool id;
	} cut[3];
	const struct pfw_val *v;
	struct pfw_event ev;
	const char *why;
	size_t nc = 0, i, at = 0;
	char *p, *start;

	if (pfw_parse(line, len, &ev, scratch, &why))
		return dc_err(-EIO, "the temporary file is damaged");
	if (ev.id.type != PFW_NONE)
		cut[nc++] = (typeof(cut[0])){ ev.id.off, ev.id.len, 0, true };
	if (m->remaps.n) {
		static const char *const kinds[][2] = { { "fhash", "FH" }, { "hhash", "HH" } };

		for (i = 0; i < 2; i++) {
			char rkey[96];
			struct remap *r;
			size_t kn;

			v = pfw_hash(&ev, kinds[i][0]);
			if (!v || v->type != PFW_STR || v->n > 40)
				continue;
			kn = snprintf(rkey, sizeof(rkey), "%u:%s:%s", input, kinds[i][1], v->s);
			r = dc_map_get(&m->remaps, rkey, kn);
			if (r)
				cut[nc++] = (typeof(cut[0])){ v->off, v->len, r->to, false };
		}
	}
	/* Spans in line order. */
	for (i = 1; i < nc; i++)
		for (size_t j = i; j > 0 && cut[j].off < cut[j - 1].off; j--) {
			typeof(cut[0]) t = cut[j];

			cut[j] = cut[j - 1];
			cut[j - 1] = t;
		}
	p = start = pfw_writer__room(w, len + 64 * nc + 1);
	if (!p)
		return -ENOMEM;
	for (i = 0; i < nc; i++) {
		memcpy(p, line + at, cut[i].off - at);
		p += cut[i].off - at;
		if (cut[i].id)
			p += sprintf(p, "%" PRIu64, m->next_id++);
		else
			p = put_hex_quoted(p, cut[i].hash);
		at = cut[i].off + cut[i].len;
	}
	memcpy(p, line + at, len - at);
	p += len - at;
	*p++ = '\n';
	m->events_out++;
	return pfw_writer__commit(w, p - start);
}

/*
 * Merges @n runs into @w: as runs again (with their keys) when @final is
 * false, or as trace lines when it is true.
 */
static int merge_runs(struct merge *m, const struct run *runs, size_t n, struct pfw_writer *w,
		      bool final)
{
	struct head *heads = calloc(n, sizeof(*heads)), **heap = calloc(n, sizeof(*heap));
	char *scratch = final ? malloc(PFW_LINE_MAX + 1) : NULL;
	size_t i, nh = 0;
	int err = 0;

	if (!heads || !heap || (final && !scratch)) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !err; i++) {
		err = pfw_reader__open_fd(&heads[i].r, m->tmp_fd, runs[i].start, runs[i].end,
					  "temporary file");
		if (!err)
			err = head_next(&heads[i]);
		if (!err && heads[i].line)
			heap[nh++] = &heads[i];
	}
	for (i = nh; i-- > 0;)
		heap_down(heap, nh, i);
	while (!err && nh) {
		struct head *h = heap[0];

		if (final) {
			err = emit_event(m, w, h->k.input, h->line, h->jlen, scratch);
		} else {
			char *p = pfw_writer__room(w, h->len + 1);

			if (!p) {
				err = -ENOMEM;
				break;
			}
			memcpy(p, h->line, h->len);
			p[h->len] = '\n';
			err = pfw_writer__commit(w, h->len + 1);
		}
		if (!err)
			err = head_next(h);
		if (!h->line)
			heap[0] = heap[--nh];
		heap_down(heap, nh, 0);
	}
out:
	for (i = 0; heads && i < n; i++)
		pfw_reader__close(heads[i].r);
	free(heads);
	free(heap);
	free(scratch);
	return err;
}

/* Merges runs FANIN at a time until FANIN or fewer are left. */
static int reduce_runs(struct merge *m)
{
	while (m->nruns > FANIN) {
		struct pfw_writer *w;
		struct run r;
		int err, cerr;

		r.start = lseek(m->tmp_fd, 0, SEEK_END);
		err = pfw_writer__open(&w, m->tmp_fd, "temporary file", MEMBER_BYTES, 1);
		if (err)
			return err;
		err = merge_runs(m, m->runs, FANIN, w, false);
		cerr = pfw_writer__close(w);
		if (err || cerr)
			return err ? err : cerr;
		r.end = lseek(m->tmp_fd, 0, SEEK_END);
		memmove(m->runs, m->runs + FANIN, (m->nruns - FANIN) * sizeof(*m->runs));
		m->nruns -= FANIN - 1;
		m->runs[m->nruns - 1] = r;
	}
	return 0;
}

static int put_start(struct merge *m, struct pfw_writer *w)
{
	char line[512];

	snprintf(line, sizeof(line),
		 "[\n{\"id\":%" PRIu64 ",\"name\":\"start\",\"cat\":\"dftracer\",\"pid\":%" PRId64
		 ",\"tid\":%" PRId64 ",\"ts\":%" PRId64
		 ",\"dur\":0,\"ph\":\"M\",\"args\":{\"tool\":"
		 "\"datacrumbs-merge\",\"version\":\"" DC_VERSION "\",\"traces\":%d}}\n",
		 m->next_id++, m->first_pid, m->first_pid, m->start_ts, m->o.ninputs);
	return pfw_writer__puts(w, line);
}

static int put_meta(struct merge *m, struct pfw_writer *w)
{
	struct pfw_event ev;
	char *scratch = malloc(PFW_LINE_MAX + 1), *p;
	const char *why;
	size_t i, len;
	int err = 0;

	if (!scratch)
		return -ENOMEM;
	for (i = 0; i < m->nmeta && !err; i++) {
		len = strlen(m->meta[i]);
		if (pfw_parse(m->meta[i], len, &ev, scratch, &why))
			continue;
		p = pfw_writer__room(w, len + 24);
		if (!p) {
			err = -ENOMEM;
			break;
		}
		if (ev.id.type == PFW_NONE) {
			memcpy(p, m->meta[i], len);
			p[len] = '\n';
			err = pfw_writer__commit(w, len + 1);
			continue;
		}
		memcpy(p, m->meta[i], ev.id.off);
		len = ev.id.off + sprintf(p + ev.id.off, "%" PRIu64, m->next_id++);
		strcpy(p + len, m->meta[i] + ev.id.off + ev.id.len);
		len += strlen(p + len);
		p[len++] = '\n';
		err = pfw_writer__commit(w, len);
	}
	free(scratch);
	return err;
}

static int put_end(struct merge *m, struct pfw_writer *w)
{
	struct dc_buf b = { 0 };
	size_t i;
	int err;

	dc_buf_printf(&b,
		      "{\"id\":%" PRIu64 ",\"name\":\"end\",\"cat\":\"dftracer\",\"pid\":%" PRId64
		      ",\"tid\":%" PRId64 ",\"ts\":%" PRId64 ",\"dur\":0,\"ph\":\"M\",\"args\":{"
		      "\"merged_events\":%" PRIu64,
		      m->next_id++, m->first_pid, m->first_pid, m->end_ts, m->events_out);
	for (i = 0; i < m->nend_keys; i++) {
		char esc[6 * 64 + 1];
		size_t n = strlen(m->end_keys[i]);

		if (n > 64 || !strcmp(m->end_keys[i], "merged_events"))
			continue;
		*json_escape(esc, m->end_keys[i], n) = '\0';
		dc_buf_printf(&b, ",\"%s\":%" PRId64, esc,
			      *(int64_t *)dc_map_get(&m->end_args, m->end_keys[i], n));
	}
	dc_buf_puts(&b, "}}\n]\n");
	err = dc_buf_cstr(&b);
	if (!err)
		err = pfw_writer__puts(w, b.p);
	dc_buf_free(&b);
	return err;
}

static int write_output(struct merge *m)
{
	struct pfw_writer *w = NULL;
	char *tmp = NULL;
	int fd, err, cerr;

	if (!m->o.force && access(m->o.out, F_OK) == 0)
		return dc_err(-EEXIST, "%s: exists (use --force to replace it)", m->o.out);
	if (asprintf(&tmp, "%s.XXXXXX", m->o.out) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = dc_err(-errno, "%s: %s", m->o.out, strerror(errno));
		free(tmp);
		return err;
	}
	err = pfw_writer__open(&w, fd, m->o.out, MEMBER_BYTES, m->o.level);
	if (!err)
		err = put_start(m, w);
	if (!err)
		err = put_meta(m, w);
	if (!err && m->nruns)
		err = merge_runs(m, m->runs, m->nruns, w, true);
	if (!err)
		err = put_end(m, w);
	cerr = pfw_writer__close(w);
	err = err ? err : cerr;
	if (!err && fsync(fd))
		err = dc_err(-errno, "%s: %s", m->o.out, strerror(errno));
	close(fd);
	if (!err && rename(tmp, m->o.out))
		err = dc_err(-errno, "%s: %s", m->o.out, strerror(errno));
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

static void merge_free(struct merge *m)
{
	struct dc_map_slot *s;
	size_t i;

	free(m->arena);
	free(m->items);
	free(m->runs);
	if (m->tmp_fd >= 0)
		close(m->tmp_fd);
	free(m->tmp_path);
	dc_map_each(&m->hashes, s) free(s->val);
	dc_map_each(&m->remaps, s) free(s->val);
	dc_map_each(&m->end_args, s) free(s->val);
	dc_map_free(&m->hashes);
	dc_map_free(&m->remaps);
	dc_map_free(&m->end_args);
	dc_map_free(&m->seen_meta);
	for (i = 0; i < m->nmeta; i++)
		free(m->meta[i]);
	free(m->meta);
	free(m->end_keys);
}

static int run(struct merge *m)
{
	int i, err = 0;

	/* Room past the budget for one more line, so a spill always makes room. */
	m->arena = malloc(m->o.mem + ARENA_SLACK);
	if (!m->arena)
		return dc_err(-ENOMEM, "cannot allocate %zu MiB for sorting (try a smaller --mem)",
			      m->o.mem >> 20);
	for (i = 0; i < m->o.ninputs && !err; i++)
		err = read_input(m, i);
	if (!err)
		err = spill(m);
	if (!err)
		err = reduce_runs(m);
	if (!err)
		err = write_output(m);
	if (!err)
		dc_info("%" PRIu64 " events from %d traces in %zu runs: %s", m->events_out,
			m->o.ninputs, m->nruns, m->o.out);
	return err;
}

int main(int argc, char **argv)
{
	struct merge m = { .tmp_fd = -1 };
	int err;

	dc_prog = "datacrumbs-merge";
	err = parse_args(argc, argv, &m.o);
	if (!err)
		err = run(&m);
	merge_free(&m);
	if (err) {
		dc_report(err);
		return !m.o.inputs && err == -EINVAL ? 2 : 1;
	}
	return 0;
}
