// SPDX-License-Identifier: MIT
/*
 * The trace writer alone: synthetic dc_call records, shaped like a traced
 * program's POSIX calls and their system calls on a few threads, go through
 * the writer's API exactly as datacrumbs-run hands them over from the ring
 * buffer. Prints events per second (wall and CPU, all threads), the JSON
 * bytes per event and the compressed bytes per event, for each member size
 * and level asked for, measured side by side in one run; with --codecs, the
 * same lines through zlib and igzip at each level, CPU time only.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "dc_err.h"
#include "dc_manifest.h"
#include "dc_pfw.h"
#include "members.h"
#include "writer.h"

#define NFILES 8
#define NTHREADS 4
/* Distinct records cycled through, so making them costs nothing measured. */
#define POOL 4096

struct probe_def {
	const char *name, *cat;
	const char *fields[3];
	int level;
};

static const struct probe_def defs[] = {
	{ "write", "POSIX", { "fd", "size" }, 0 },
	{ "write", "SYSCALL", { "fd", "size" }, 1 },
	{ "pread", "POSIX", { "fd", "size", "offset" }, 0 },
	{ "pread64", "SYSCALL", { "fd", "size", "offset" }, 1 },
};

static int make_manifest(struct dc_manifest *m)
{
	size_t i, f;
	int err = 0;

	m->config = strdup("bench");
	if (!m->config)
		return -ENOMEM;
	for (i = 0; i < sizeof(defs) / sizeof(defs[0]) && !err; i++) {
		struct dc_mprobe p = { .kind = 's',
				       .module = "bench",
				       .cat = (char *)defs[i].cat,
				       .name = (char *)defs[i].name,
				       .sys = (char *)defs[i].name };

		for (f = 0; f < 3 && defs[i].fields[f]; f++)
			snprintf(p.field[p.nfields++], DC_FIELD_MAX, "%s", defs[i].fields[f]);
		err = dc_manifest__add_probe(m, &p);
	}
	return err;
}

static uint64_t rng_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* A POSIX call and the system call inside it, as the kernel emits them: inner first. */
static void make_pool(struct dc_call *pool, uint64_t t0)
{
	uint64_t s = 42, t = t0;
	size_t i;

	for (i = 0; i + 1 < POOL; i += 2) {
		int pr = rng_next(&s) % 4 < 3 ? 0 : 2, file = rng_next(&s) % NFILES;
		uint32_t tid = 5000 + rng_next(&s) % NTHREADS;
		uint64_t size = 1ULL << (6 + rng_next(&s) % 8), dur = 300 + rng_next(&s) % 3000;
		struct dc_call outer = {
			.type = DC_REC_CALL,
			.probe = pr,
			.pid = 5000,
			.tid = tid,
			.start = t,
			.end = t + dur + 400,
			.ret = size,
			.fhash = 0x9e3779b97f4a7c15ULL * (file + 1),
			.args = { 3 + file, size, pr == 2 ? size * i : 0 },
		};
		struct dc_call inner = outer;

		inner.probe = pr + 1;
		inner.start = t + 200;
		inner.end = t + 200 + dur;
		inner.level = 1;
		pool[i] = inner;
		pool[i + 1] = outer;
		t += dur + 600 + rng_next(&s) % 2000;
	}
}

static double seconds(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

struct result {
	double wall, cpu;
	struct writer_totals t;
};

static int one_run(const struct dc_manifest *man, const struct dc_call *pool, const char *path,
		   size_t member, int level, uint64_t events, struct result *res)
{
	struct writer_opts o = { .man = man,
				 .host = "benchhost",
				 .cmdline = "dc-bench-writer",
				 .pid = 5000,
				 .member_bytes = member,
				 .level = level };
	struct dc_stats st = { .calls = events };
	char name[DC_PATH_MAX];
	struct writer *w;
	double w0, c0;
	uint64_t i, span = pool[POOL - 1].end - pool[0].start + 1000;
	int err, f;

	unlink(path);
	o.path = path;
	w0 = seconds(CLOCK_MONOTONIC);
	c0 = cpu_seconds();
	err = writer__open(&w, &o);
	for (f = 0; f < NFILES && !err; f++) {
		struct dc_str s = { .type = DC_REC_STR, .hash = 0x9e3779b97f4a7c15ULL * (f + 1) };

		s.len = snprintf(name, sizeof(name), "/scratch/bench/data.%d", f);
		memcpy(s.s, name, s.len + 1);
		err = writer__record(w, &s, sizeof(s));
	}
	for (i = 0; i < events && !err; i++) {
		struct dc_call r = pool[i % POOL];
		uint64_t shift = i / POOL * span;

		r.start += shift;
		r.end += shift;
		err = writer__record(w, &r, sizeof(r));
	}
	if (!err)
		err = writer__close(w, &st, &res->t);
	res->wall = seconds(CLOCK_MONOTONIC) - w0;
	res->cpu = cpu_seconds() - c0;
	writer__destroy(w);
	return err;
}

/* Up to @max bytes of the JSON lines in the trace at @path, whole lines only. */
static int read_json(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = malloc(max), *nl;
	gzFile f = gzopen(path, "rb");
	int n = 0;

	*len = 0;
	*out = NULL;
	if (!buf || !f) {
		free(buf);
		if (f)
			gzclose(f);
		return -ENOMEM;
	}
	while (*len < max && (n = gzread(f, buf + *len, max - *len)) > 0)
		*len += n;
	gzclose(f);
	nl = memrchr(buf, '\n', *len);
	*len = nl ? (size_t)(nl - buf) + 1 : 0;
	*out = buf;
	return n < 0 ? -EIO : 0;
}

/* The end of the member that starts at @p: @member bytes or so, ending a line. */
static const char *member_end(const char *p, const char *end, size_t member)
{
	const char *nl;

	if ((size_t)(end - p) <= member)
		return end;
	nl = memchr(p + member, '\n', end - p - member);
	return nl ? nl + 1 : end;
}

/*
 * Compresses @json in members of @member bytes with zlib at @level (through
 * lib's pfw_writer, as datacrumbs-merge does) or igzip (through the
 * runtime's members), into /dev/null. Returns CPU seconds, and the bytes.
 */
static int codec_run(const char *json, size_t len, size_t member, bool igzip, int level,
		     double *cpu, uint64_t *bytes)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC), err;
	const char *p = json, *end = json + len, *q;
	struct pfw_writer *pw = NULL;
	struct members *m = NULL;
	double c0 = cpu_seconds();
	char *dst;

	if (fd < 0)
		return -errno;
	err = igzip ? members__open(&m, fd, member + (1u << 20), level) :
		      pfw_writer__open(&pw, fd, "/dev/null", member, level);
	for (; !err && p < end; p = q) {
		q = member_end(p, end, member);
		if (igzip) {
			dst = members__take(m);
			memcpy(dst, p, q - p);
			members__put(m, dst, q - p);
		} else if ((dst = pfw_writer__room(pw, q - p))) {
			memcpy(dst, p, q - p);
			err = pfw_writer__commit(pw, q - p);
		} else {
			err = -ENOMEM;
		}
	}
	if (igzip) {
		err = err ? err : members__close(m);
		*bytes = m ? members__bytes(m, NULL) : 0;
		members__destroy(m);
	} else {
		*bytes = pw ? pfw_writer__offset(pw) : 0;
		err = err ? err : pfw_writer__close(pw);
	}
	*cpu = cpu_seconds() - c0;
	close(fd);
	return err;
}

/* The writer's own lines through each codec and level, side by side. */
static int codec_table(const char *path, const long *members, int nm, int repeat)
{
	static const struct {
		const char *name;
		bool igzip;
		int level;
	} codecs[] = { { "zlib", false, 1 }, { "zlib", false, 2 }, { "zlib", false, 3 },
		       { "igzip", true, 0 }, { "igzip", true, 1 }, { "igzip", true, 2 },
		       { "igzip", true, 3 } };
	size_t len, lines = 0, c;
	char *json = NULL;
	const char *p;
	int mi, k, err;

	err = read_json(path, 64u << 20, &json, &len);
	for (p = json; !err && (p = memchr(p, '\n', json + len - p)); p++)
		lines++;
	if (!err)
		printf("\n%zu MiB of the writer's JSON, %zu lines, %.1f bytes a line\n"
		       "%-10s %-6s %5s %14s %16s %10s %8s\n",
		       len >> 20, lines, (double)len / lines, "member", "codec", "level",
		       "MB per CPU-s", "lines per CPU-s", "gz B/line", "ratio");
	for (mi = 0; mi < nm && !err; mi++) {
		for (c = 0; c < sizeof(codecs) / sizeof(codecs[0]) && !err; c++) {
			double cpu = 0, best = 0;
			uint64_t bytes = 0;

			for (k = 0; k < repeat && !err; k++) {
				err = codec_run(json, len, members[mi] << 10, codecs[c].igzip,
						codecs[c].level, &cpu, &bytes);
				if (!k || cpu < best)
					best = cpu;
			}
			if (!err)
				printf("%-6ld KiB %-6s %5d %14.0f %16.0f %10.2f %8.1f\n",
				       members[mi], codecs[c].name, codecs[c].level,
				       len / best / 1e6, lines / best, (double)bytes / lines,
				       (double)len / bytes);
		}
	}
	free(json);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dc-bench-writer [OPTION]...\n"
		"Writes synthetic call records through datacrumbs-run's trace writer and\n"
		"prints events/s, JSON bytes and compressed bytes per event.\n"
		"\n"
		"  -n, --events=N      events per run (default: 5000000)\n"
		"  -m, --member=LIST   member sizes in KiB, comma-separated (default: 4096)\n"
		"  -l, --level=LIST    compression levels, comma-separated (default: 1)\n"
		"  -r, --repeat=N      runs of each setting; the best is shown (default: 3)\n"
		"  -d, --dir=DIR       where the trace is written, then removed (default: /tmp)\n"
		"  -h, --help          show this help and exit\n");
}

static int parse_list(const char *s, long *out, int max)
{
	int n = 0;
	char *end;

	while (*s && n < max) {
		out[n++] = strtol(s, &end, 10);
		if (end == s || out[n - 1] < 0 || (*end && *end != ','))
			return -1;
		s = *end ? end + 1 : end;
	}
	return n;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = { { "events", required_argument, NULL, 'n' },
					       { "member", required_argument, NULL, 'm' },
					       { "level", required_argument, NULL, 'l' },
					       { "repeat", required_argument, NULL, 'r' },
					       { "dir", required_argument, NULL, 'd' },
					       { "help", no_argument, NULL, 'h' },
					       {} };
	long members[8] = { 4096 }, levels[8] = { 1 };
	int nm = 1, nl = 1, repeat = 3, c, mi, li, k, err = 0;
	bool codecs = false;
	char path[4096];
	struct dc_manifest man = { 0 };
	uint64_t events = 5000000;
	const char *dir = "/tmp";
	struct dc_call *pool;

	dc_prog = "dc-bench-writer";
	while ((c = getopt_long(argc, argv, "n:m:l:r:d:ch", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			events = strtoull(optarg, NULL, 10);
			break;
		case 'm':
			nm = parse_list(optarg, members, 8);
			break;
		case 'l':
			nl = parse_list(optarg, levels, 8);
			break;
		case 'r':
			repeat = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'c':
			codecs = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (nm < 1 || nl < 1 || repeat < 1 || !events) {
		usage(stderr);
		return 2;
	}
	pool = calloc(POOL, sizeof(*pool));
	err = pool ? make_manifest(&man) : -ENOMEM;
	if (err) {
		dc_report(err);
		return 1;
	}
	make_pool(pool, 1000000000ULL);
	snprintf(path, sizeof(path), "%s/dc-bench-writer-%d.pfw.gz", dir, getpid());
	printf("%-10s %5s %12s %12s %10s %10s %8s\n", "member", "level", "events/s", "per CPU-s",
	       "JSON B/ev", "gz B/ev", "ratio");
	for (mi = 0; mi < nm && !err; mi++) {
		for (li = 0; li < nl && !err; li++) {
			struct result best = { 0 }, r;

			for (k = 0; k < repeat && !err; k++) {
				err = one_run(&man, pool, path, members[mi] << 10, levels[li],
					      events, &r);
				if (!err && (!k || r.wall < best.wall))
					best = r;
			}
			if (err)
				break;
			printf("%-6ld KiB %5ld %12.0f %12.0f %10.1f %10.2f %8.1f\n", members[mi],
			       levels[li], events / best.wall, events / best.cpu,
			       (double)best.t.raw_bytes / events, (double)best.t.bytes / events,
			       (double)best.t.raw_bytes / best.t.bytes);
			fflush(stdout);
		}
	}
	if (!err && codecs)
		err = codec_table(path, members, nm, repeat);
	unlink(path);
	if (err)
		dc_report(err);
	dc_manifest__clear(&man);
	free(pool);
	return err ? 1 : 0;
}
