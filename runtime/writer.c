// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_file.h"
#include "dc_json.h"
#include "dc_paths.h"
#include "dc_rank.h"
#include "hmap.h"
#include "members.h"
#include "writer.h"

/* Room kept free for one line, so appends need no bounds checks. */
#define LINE_MAX_BYTES 8192
#define CMDLINE_MAX 1024

struct writer {
	struct writer_opts o;
	int fd;
	struct members *m;
	char *buf; /* the member being filled, from m */
	size_t len, cap;
	uint64_t next_id;
	uint64_t events;
	int err;
	char hhash[17];
	char **prefix; /* per probe: "name":"...","cat":"...", */
	struct hmap files; /* file-name hashes already described */
	struct hmap pids; /* process names, by pid */
	struct hmap tids; /* threads already named */
	struct hmap ranks; /* processes whose environment was read; val[0] set once ranked */
	uint32_t last_tid; /* the thread of the last event, named already */
};

static const char hexd[] = "0123456789abcdef";

static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, -(uint64_t)v);
	}
	return put_u64(p, v);
}

static char *put_hex16(char *p, uint64_t v)
{
	int i;

	for (i = 15; i >= 0; i--)
		*p++ = hexd[(v >> (4 * i)) & 15];
	return p;
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = DC_FNV_OFFSET;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= DC_FNV_PRIME;
	}
	return h;
}

static uint64_t to_us(const struct writer *w, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + w->o.real_minus_mono_ns) / 1000;
}

static uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Takes up the writing thread's first error, once, with the path. */
static int io_error(struct writer *w)
{
	int err;

	if (w->err)
		return w->err;
	err = members__error(w->m);
	if (err)
		w->err = dc_err(err, "%s: %s", w->o.path,
				err == -EIO ? "compression failed" : strerror(-err));
	return w->err;
}

int writer__flush(struct writer *w)
{
	if (w->len && !io_error(w)) {
		members__put(w->m, w->buf, w->len);
		w->buf = members__take(w->m);
		w->len = 0;
	}
	return io_error(w);
}

/*
 * Room for one more line. After a write error lines go on into the same
 * buffer, never written, until the caller sees the error.
 */
static char *line_begin(struct writer *w)
{
	if (w->len + LINE_MAX_BYTES > w->cap && writer__flush(w))
		w->len = 0;
	return w->buf + w->len;
}

static void line_end(struct writer *w, char *p)
{
	*p++ = '\n';
	w->len = p - w->buf;
	if (w->len >= w->o.member_bytes)
		writer__flush(w);
}

/* {"id":N,"name":"NAME","cat":"dftracer","pid":P,"tid":T,"ph":"M","args":{ */
static char *meta_begin(struct writer *w, char *p, const char *name, uint32_t pid, uint32_t tid)
{
	p = put_str(p, "{\"id\":");
	p = put_u64(p, w->next_id++);
	p = put_str(p, ",\"name\":\"");
	p = put_str(p, name);
	p = put_str(p, "\",\"cat\":\"dftracer\",\"pid\":");
	p = put_u64(p, pid);
	p = put_str(p, ",\"tid\":");
	p = put_u64(p, tid);
	return put_str(p, ",\"ph\":\"M\",\"args\":{");
}

/* A metadata line whose args are {"name":"<string>"[,"value":"<hex>"]}. */
static void meta_string(struct writer *w, const char *kind, uint32_t pid, uint32_t tid,
			const char *s, size_t n, const uint64_t *hash)
{
	char *p = line_begin(w);

	p = meta_begin(w, p, kind, pid, tid);
	p = put_str(p, "\"name\":\"");
	p = json_escape(p, s, n);
	*p++ = '"';
	if (hash) {
		p = put_str(p, ",\"value\":\"");
		p = put_hex16(p, *hash);
		*p++ = '"';
	}
	line_end(w, put_str(p, "}}"));
}

static void meta_pr(struct writer *w, uint32_t pid, const char *name, int64_t value)
{
	char *p = line_begin(w);

	p = meta_begin(w, p, "PR", pid, pid);
	p = put_str(p, "\"name\":\"");
	p = put_str(p, name);
	p = put_str(p, "\",\"value\":");
	p = put_i64(p, value);
	line_end(w, put_str(p, "}}"));
}

static void read_comm(const char *path, char *comm)
{
	FILE *f = fopen(path, "re");

	comm[0] = '\0';
	if (f) {
		if (fgets(comm, DC_COMM_LEN, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
}

static void name_process(struct writer *w, uint32_t pid, const char *comm)
{
	char *slot;

	if (hmap_put(&w->pids, pid, &slot) < 0)
		return;
	memcpy(slot, comm, DC_COMM_LEN);
	slot[DC_COMM_LEN - 1] = '\0';
	meta_string(w, "process_name", pid, pid, slot, strlen(slot), NULL);
}

/*
 * The PR rank line of @pid, once. The rank comes from the environment the
 * kernel sent at exec (@env, @n bytes, or NULL) or, for a process first
 * met otherwise, from /proc/PID/environ; an exec may bring a rank the
 * process had not had before, as launchers set them.
 */
static void rank_process(struct writer *w, uint32_t pid, const char *env, size_t n, bool cut)
{
	int isnew, rank;
	char *slot;

	isnew = hmap_put(&w->ranks, pid, &slot);
	if (isnew < 0 || (!isnew && (!env || slot[0])))
		return;
	rank = env ? dc_rank_of_environ(env, n) : dc_rank_of_pid(pid);
	if (rank == -ENOENT && cut)
		rank = dc_rank_of_pid(pid);
	if (rank < 0)
		return;
	slot[0] = 1;
	meta_pr(w, pid, "rank", rank);
}

/* Names a process and thread the first time either is seen. */
static void see_task(struct writer *w, uint32_t pid, uint32_t tid)
{
	char comm[DC_COMM_LEN], path[64];
	const char *pname;
	int isnew;

	/* Calls come in runs from one thread: most events need no lookup. */
	if (tid == w->last_tid && tid)
		return;
	if (!hmap_get(&w->pids, pid)) {
		snprintf(path, sizeof(path), "/proc/%u/comm", pid);
		read_comm(path, comm);
		/* In the buffer: name_process() copies a whole comm's bytes. */
		if (!comm[0])
			snprintf(comm, sizeof(comm), "?");
		name_process(w, pid, comm);
		rank_process(w, pid, NULL, 0, false);
	}
	isnew = hmap_put(&w->tids, tid, NULL);
	w->last_tid = tid;
	if (isnew != 1)
		return;
	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	read_comm(path, comm);
	pname = hmap_get(&w->pids, pid);
	if (!comm[0])
		snprintf(comm, sizeof(comm), "%s", pname ? pname : "?");
	meta_string(w, "thread_name", pid, tid, comm, strlen(comm), NULL);
}

/* Begins an event's line: {"id":N,"name":...,"cat":...,"pid":P,"tid":T,"ts":TS */
static char *put_head(struct writer *w, uint32_t probe, uint32_t pid, uint32_t tid, uint64_t ts)
{
	char *p;

	see_task(w, pid, tid);
	p = line_begin(w);
	p = put_str(p, "{\"id\":");
	p = put_u64(p, w->next_id++);
	p = put_str(p, w->prefix[probe]);
	p = put_str(p, "\"pid\":");
	p = put_u64(p, pid);
	p = put_str(p, ",\"tid\":");
	p = put_u64(p, tid);
	p = put_str(p, ",\"ts\":");
	return put_u64(p, ts);
}

/* "hhash":"...","fhash":"...","field":N,... of an event's args. */
static char *put_fields(const struct writer *w, char *p, const struct dc_mprobe *pr, uint64_t fhash,
			const __u64 *args)
{
	unsigned int i;

	p = put_str(p, "\"hhash\":\"");
	p = put_str(p, w->hhash);
	if (fhash) {
		p = put_str(p, "\",\"fhash\":\"");
		p = put_hex16(p, fhash);
	}
	*p++ = '"';
	for (i = 0; i < pr->nfields; i++) {
		*p++ = ',';
		*p++ = '"';
		p = put_str(p, pr->field[i]);
		p = put_str(p, "\":");
		p = put_i64(p, (int64_t)args[i]);
	}
	return p;
}

static void on_call(struct writer *w, const struct dc_call *r)
{
	const struct dc_mprobe *pr;
	uint64_t ts, end;
	char *p;

	if (r->probe >= w->o.man->nprobes)
		return;
	pr = &w->o.man->probes[r->probe];
	ts = to_us(w, r->start);
	end = to_us(w, r->end);
	p = put_head(w, r->probe, r->pid, r->tid, ts);
	p = put_str(p, ",\"dur\":");
	p = put_u64(p, end > ts ? end - ts : 0);
	p = put_str(p, ",\"ph\":\"X\",\"args\":{");
	p = put_fields(w, p, pr, r->fhash, r->args);
	p = put_str(p, ",\"ret\":");
	p = put_i64(p, r->ret);
	p = put_str(p, ",\"level\":");
	p = put_u64(p, r->level);
	line_end(w, put_str(p, "}}"));
	w->events++;
}

/* A point event: DFTracer's instant, "ph":"i" with thread scope. */
static void on_instant(struct writer *w, const struct dc_instant *r)
{
	const struct dc_mprobe *pr;
	char *p;

	if (r->probe >= w->o.man->nprobes)
		return;
	pr = &w->o.man->probes[r->probe];
	p = put_head(w, r->probe, r->pid, r->tid, to_us(w, r->ts));
	p = put_str(p, ",\"ph\":\"i\",\"s\":\"t\",\"args\":{");
	p = put_fields(w, p, pr, r->fhash, r->args);
	p = put_str(p, ",\"level\":");
	p = put_u64(p, r->level);
	line_end(w, put_str(p, "}}"));
	w->events++;
}

/* ns as us with three decimals: counters keep the kernel's precision. */
static char *put_us3(char *p, uint64_t ns)
{
	p = put_u64(p, ns / 1000);
	*p++ = '.';
	*p++ = '0' + ns / 100 % 10;
	*p++ = '0' + ns / 10 % 10;
	*p++ = '0' + ns % 10;
	return p;
}

/*
 * Counter args must all be numbers (Perfetto makes a track of each), so the
 * hashes go beside them, at the top level, where the report also looks.
 */
int writer__counter(struct writer *w, const struct dc_prof_key *k, const struct dc_prof_val *v,
		    uint64_t ts_mono_ns)
{
	const struct {
		const char *key;
		uint64_t v;
		bool ns; /* written as us */
	} a[] = { { "\"count\":", v->count, false },
		  { ",\"time\":", v->time, true },
		  { ",\"bytes\":", v->bytes, false },
		  { ",\"min\":", v->min, true },
		  { ",\"max\":", v->max, true } };
	size_t i;
	char *p;

	if (k->probe >= w->o.man->nprobes)
		return w->err;
	see_task(w, k->pid, k->tid);
	p = line_begin(w);
	/* The prefix begins with the comma that follows an id; counters have none. */
	*p++ = '{';
	p = put_str(p, w->prefix[k->probe] + 1);
	p = put_str(p, "\"pid\":");
	p = put_u64(p, k->pid);
	p = put_str(p, ",\"tid\":");
	p = put_u64(p, k->tid);
	p = put_str(p, ",\"ts\":");
	p = put_u64(p, to_us(w, ts_mono_ns));
	p = put_str(p, ",\"ph\":\"C\",\"hhash\":\"");
	p = put_str(p, w->hhash);
	if (k->fhash) {
		p = put_str(p, "\",\"fhash\":\"");
		p = put_hex16(p, k->fhash);
	}
	p = put_str(p, "\",\"args\":{");
	for (i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		p = put_str(p, a[i].key);
		p = a[i].ns ? put_us3(p, a[i].v) : put_u64(p, a[i].v);
	}
	line_end(w, put_str(p, "}}"));
	w->events++;
	return w->err;
}

static void on_str(struct writer *w, const struct dc_str *r)
{
	size_t n = r->len < DC_PATH_MAX ? r->len : DC_PATH_MAX - 1;

	if (hmap_put(&w->files, r->hash, NULL) != 1)
		return;
	uint64_t h = r->hash;

	meta_string(w, "FH", w->o.pid, w->o.pid, r->s, strnlen(r->s, n), &h);
}

static void on_proc(struct writer *w, const struct dc_proc *r)
{
	char comm[DC_COMM_LEN];

	memcpy(comm, r->comm, DC_COMM_LEN);
	comm[DC_COMM_LEN - 1] = '\0';
	switch (r->what) {
	case DC_PROC_FORK:
		name_process(w, r->pid, comm);
		meta_pr(w, r->pid, "ppid", r->ppid);
		rank_process(w, r->pid, NULL, 0, false);
		break;
	case DC_PROC_EXEC:
		name_process(w, r->pid, comm);
		break;
	case DC_PROC_EXIT:
		/* The kernel's wait status: code in bits 8-15, signal in 0-6. */
		if (r->code & 0x7f)
			meta_pr(w, r->pid, "exit_signal", r->code & 0x7f);
		else
			meta_pr(w, r->pid, "exit_code", (r->code >> 8) & 0xff);
		break;
	}
}

static void on_env(struct writer *w, const struct dc_env *r, size_t size)
{
	size_t n = size - offsetof(struct dc_env, env);

	rank_process(w, r->pid, r->env, r->len < n ? r->len : n, r->cut);
}

int writer__record(struct writer *w, const void *data, size_t size)
{
	__u32 type;

	if (size < sizeof(type) || w->err)
		return w->err;
	memcpy(&type, data, sizeof(type));
	if (type == DC_REC_CALL && size >= sizeof(struct dc_call))
		on_call(w, data);
	else if (type == DC_REC_STR && size >= sizeof(struct dc_str))
		on_str(w, data);
	else if (type == DC_REC_PROC && size >= sizeof(struct dc_proc))
		on_proc(w, data);
	else if (type == DC_REC_INSTANT && size >= sizeof(struct dc_instant))
		on_instant(w, data);
	else if (type == DC_REC_ENV && size >= offsetof(struct dc_env, env))
		on_env(w, data, size);
	return w->err;
}

static int make_prefixes(struct writer *w)
{
	size_t i;

	w->prefix = calloc(w->o.man->nprobes, sizeof(*w->prefix));
	if (!w->prefix)
		return -ENOMEM;
	for (i = 0; i < w->o.man->nprobes; i++) {
		const struct dc_mprobe *p = &w->o.man->probes[i];
		size_t n = strlen(p->name) + strlen(p->cat) + 32;

		/* Names and categories were validated as plain identifiers. */
		w->prefix[i] = malloc(n);
		if (!w->prefix[i])
			return -ENOMEM;
		snprintf(w->prefix[i], n, ",\"name\":\"%s\",\"cat\":\"%s\",", p->name, p->cat);
	}
	return 0;
}

static void start_record(struct writer *w)
{
	size_t n = strlen(w->o.cmdline);
	uint64_t h = fnv1a(w->o.host);
	char *p = line_begin(w);

	p = put_str(p, "[\n{\"id\":");
	p = put_u64(p, w->next_id++);
	p = put_str(p, ",\"name\":\"start\",\"cat\":\"dftracer\",\"pid\":");
	p = put_u64(p, w->o.pid);
	p = put_str(p, ",\"tid\":");
	p = put_u64(p, w->o.pid);
	p = put_str(p, ",\"ts\":");
	p = put_u64(p, to_us(w, now_mono_ns()));
	p = put_str(p, ",\"dur\":0,\"ph\":\"M\",\"args\":{\"tool\":\"datacrumbs\",\"version\":\"");
	p = put_str(p, DC_VERSION);
	p = put_str(p, "\",\"config\":\"");
	p = put_str(p, w->o.man->config);
	p = put_str(p, "\",\"cmd\":\"");
	p = json_escape(p, w->o.cmdline, n < CMDLINE_MAX ? n : CMDLINE_MAX);
	line_end(w, put_str(p, "\"}}"));
	meta_string(w, "HH", w->o.pid, w->o.pid, w->o.host, strlen(w->o.host), &h);
}

int writer__open(struct writer **out, const struct writer_opts *o)
{
	struct writer *w;
	int err;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->o = *o;
	w->fd = -1;
	hmap_init(&w->files, false);
	hmap_init(&w->pids, true);
	hmap_init(&w->tids, false);
	hmap_init(&w->ranks, true);
	snprintf(w->hhash, sizeof(w->hhash), "%016" PRIx64, fnv1a(o->host));
	w->cap = o->member_bytes + LINE_MAX_BYTES;
	err = make_prefixes(w);
	if (err)
		goto fail;
	w->fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		err = dc_err(-errno, "%s: %s", o->path, strerror(errno));
		goto fail;
	}
	err = members__open(&w->m, w->fd, w->cap, o->level);
	if (err)
		goto fail;
	w->buf = members__take(w->m);
	start_record(w);
	/* A member of its own at once: from now on the file is a trace, if a short one. */
	writer__flush(w);
	*out = w;
	return 0;
fail:
	writer__destroy(w);
	return err;
}

int writer__error(const struct writer *w)
{
	return w->err;
}

int writer__close(struct writer *w, const struct dc_stats *s, struct writer_totals *t)
{
	char *p = line_begin(w);
	int err;

	p = put_str(p, "{\"id\":");
	p = put_u64(p, w->next_id++);
	p = put_str(p, ",\"name\":\"end\",\"cat\":\"dftracer\",\"pid\":");
	p = put_u64(p, w->o.pid);
	p = put_str(p, ",\"tid\":");
	p = put_u64(p, w->o.pid);
	p = put_str(p, ",\"ts\":");
	p = put_u64(p, to_us(w, now_mono_ns()));
	p = put_str(p, ",\"dur\":0,\"ph\":\"M\",\"args\":{\"num_events\":");
	p = put_u64(p, w->events);
	p = put_str(p, ",\"emitted_events\":");
	p = put_u64(p, s->calls);
	p = put_str(p, ",\"dropped_events\":");
	p = put_u64(p, s->drops);
	p = put_str(p, ",\"dropped_file_names\":");
	p = put_u64(p, s->str_drops);
	p = put_str(p, ",\"dropped_process_events\":");
	p = put_u64(p, s->proc_drops);
	p = put_str(p, ",\"unpaired_returns\":");
	p = put_u64(p, s->unpaired);
	p = put_str(p, ",\"too_deep\":");
	p = put_u64(p, s->too_deep);
	p = put_str(p, ",\"dropped_profile_calls\":");
	p = put_u64(p, s->prof_drops);
	p = put_str(p, "}}\n]");
	line_end(w, p);
	err = writer__flush(w);
	members__close(w->m);
	err = io_error(w);
	if (!err && fsync(w->fd) && errno != EINVAL)
		err = w->err = dc_err(-errno, "%s: %s", w->o.path, strerror(errno));
	if (t) {
		t->events = w->events;
		t->bytes = members__bytes(w->m, &t->raw_bytes);
	}
	return err;
}

void writer__abandon(struct writer *w)
{
	members__abandon(w->m);
}

void writer__destroy(struct writer *w)
{
	size_t i;

	if (!w)
		return;
	members__destroy(w->m);
	if (w->fd >= 0)
		close(w->fd);
	for (i = 0; w->prefix && i < w->o.man->nprobes; i++)
		free(w->prefix[i]);
	free(w->prefix);
	hmap_free(&w->files);
	hmap_free(&w->pids);
	hmap_free(&w->tids);
	hmap_free(&w->ranks);
	free(w);
}
