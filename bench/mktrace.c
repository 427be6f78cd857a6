// SPDX-License-Identifier: MIT
/*
 * Writes a synthetic DFTracer trace of a given compressed size, shaped like
 * what datacrumbs-run writes for an MPI + HDF5 job traced on one node: many
 * ranks, each calling H5Dwrite -> MPI_File_write_at -> pwrite -> pwrite64
 * and POSIX reads with their system calls, in the order calls end, in gzip
 * members of 4 MiB at level 1. For benchmarks of the report and merge tools.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dc_err.h"
#include "dc_pfw.h"

#define FILES_PER_RANK 16

struct gen {
	struct pfw_writer *w;
	uint64_t id, rng, events;
	int64_t now;
	int ranks;
};

static uint64_t next_rand(struct gen *g)
{
	g->rng = g->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return g->rng >> 33;
}

/* Mostly short, sometimes long: a duration in us. */
static int64_t duration(struct gen *g, int64_t base)
{
	uint64_t r = next_rand(g);

	return base + (int64_t)(r % (uint64_t)base) + ((r & 1023) == 0 ? (int64_t)(r % 20000) : 0);
}

static uint64_t fhash(int rank, int file)
{
	return 0x9e3779b97f4a7c15ULL * (uint64_t)(rank * FILES_PER_RANK + file + 1);
}

static int line(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int line(struct gen *g, const char *fmt, ...)
{
	char *p = pfw_writer__room(g->w, 1024);
	va_list ap;
	int n;

	if (!p)
		return -ENOMEM;
	va_start(ap, fmt);
	n = vsnprintf(p, 1024, fmt, ap);
	va_end(ap);
	return pfw_writer__commit(g->w, n);
}

static int call(struct gen *g, int rank, const char *name, const char *cat, int64_t ts, int64_t dur,
		int file, int64_t size, int64_t off, int level)
{
	g->events++;
	return line(g,
		    "{\"id\":%" PRIu64
		    ",\"name\":\"%s\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":%" PRId64
		    ",\"dur\":%" PRId64
		    ",\"ph\":\"X\",\"args\":{\"hhash\":\"08cf3707b570dbec\",\"fhash\":"
		    "\"%016" PRIx64 "\",\"fd\":%d,\"size\":%" PRId64 ",\"offset\":%" PRId64
		    ",\"ret\":%" PRId64 ",\"level\":%d}}\n",
		    g->id++, name, cat, 1000 + rank, 1000 + rank, ts, dur, fhash(rank, file),
		    3 + file, size, off, size, level);
}

/* One collective write down the whole stack, innermost call first. */
static int stack_write(struct gen *g, int rank, int file, int64_t off)
{
	int64_t t0 = g->now, d3 = duration(g, 20), d2 = d3 + 3 + duration(g, 3),
		d1 = d2 + 2 + duration(g, 8), d0 = d1 + 5 + duration(g, 15);
	int err;

	err = call(g, rank, "pwrite64", "SYSCALL", t0 + 10, d3, file, 65536, off, 3);
	err = err ? err : call(g, rank, "pwrite", "POSIX", t0 + 7, d2, file, 65536, off, 2);
	err = err ? err :
		    call(g, rank, "MPI_File_write_at", "MPIIO", t0 + 5, d1, file, 65536, off, 1);
	err = err ? err : call(g, rank, "H5Dwrite", "HDF5", t0, d0, file, 65536, off, 0);
	g->now += d0 + 20;
	return err;
}

static int posix_read(struct gen *g, int rank, int file, int64_t off)
{
	int64_t t0 = g->now, d1 = duration(g, 4), d0 = d1 + 2 + duration(g, 2);
	int err;

	err = call(g, rank, "read", "SYSCALL", t0 + 2, d1, file, 4096, off, 1);
	err = err ? err : call(g, rank, "read", "POSIX", t0, d0, file, 4096, off, 0);
	g->now += d0 + 3;
	return err;
}

static int metadata(struct gen *g)
{
	int r, f,
		err = line(g,
			   "[\n{\"id\":%" PRIu64
			   ",\"name\":\"start\",\"cat\":\"dftracer\",\"pid\":1000,"
			   "\"tid\":1000,\"ts\":%" PRId64
			   ",\"dur\":0,\"ph\":\"M\",\"args\":{\"tool\":"
			   "\"mktrace\"}}\n"
			   "{\"id\":%" PRIu64 ",\"name\":\"HH\",\"cat\":\"dftracer\",\"pid\":1000,"
			   "\"tid\":1000,\"ph\":\"M\",\"args\":{\"name\":\"node1\",\"value\":"
			   "\"08cf3707b570dbec\"}}\n",
			   g->id, g->now, g->id + 1);

	g->id += 2;
	for (r = 0; r < g->ranks && !err; r++) {
		err = line(g,
			   "{\"id\":%" PRIu64
			   ",\"name\":\"process_name\",\"cat\":\"dftracer\",\"pid\":%d,"
			   "\"tid\":%d,\"ph\":\"M\",\"args\":{\"name\":\"ior\"}}\n"
			   "{\"id\":%" PRIu64 ",\"name\":\"PR\",\"cat\":\"dftracer\",\"pid\":%d,"
			   "\"tid\":%d,\"ph\":\"M\",\"args\":{\"name\":\"rank\",\"value\":%d}}\n",
			   g->id, 1000 + r, 1000 + r, g->id + 1, 1000 + r, 1000 + r, r);
		g->id += 2;
		for (f = 0; f < FILES_PER_RANK && !err; f++)
			err = line(
				g,
				"{\"id\":%" PRIu64
				",\"name\":\"FH\",\"cat\":\"dftracer\",\"pid\":1000,"
				"\"tid\":1000,\"ph\":\"M\",\"args\":{\"name\":\"/scratch/job/rank%d/"
				"data%d.h5\",\"value\":\"%016" PRIx64 "\"}}\n",
				g->id++, r, f, fhash(r, f));
	}
	return err;
}

int main(int argc, char **argv)
{
	struct gen g = { .rng = 42, .now = 1795325277000000LL, .ranks = 64 };
	const char *out = NULL;
	uint64_t target = 1ULL << 30, step;
	int fd, err, c;

	dc_prog = "mktrace";
	while ((c = getopt(argc, argv, "o:s:r:")) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 's')
			target = strtoull(optarg, NULL, 10) << 20;
		else if (c == 'r')
			g.ranks = atoi(optarg);
		else
			return 2;
	}
	if (!out || g.ranks < 1) {
		fprintf(stderr, "usage: mktrace -o FILE [-s MIB] [-r RANKS]\n");
		return 2;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(out);
		return 1;
	}
	err = pfw_writer__open(&g.w, fd, out, 4u << 20, 1);
	if (!err)
		err = metadata(&g);
	for (step = 0; !err; step++) {
		int rank = step % g.ranks, file = (step / g.ranks) % FILES_PER_RANK;
		int64_t off = (int64_t)(step / g.ranks) * 65536;

		err = step % 3 ? stack_write(&g, rank, file, off) : posix_read(&g, rank, file, off);
		if (!(step & 0xffff) && pfw_writer__offset(g.w) >= target)
			break;
	}
	if (!err)
		err = line(&g,
			   "{\"id\":%" PRIu64
			   ",\"name\":\"end\",\"cat\":\"dftracer\",\"pid\":1000,\"tid\":1000,"
			   "\"ts\":%" PRId64
			   ",\"dur\":0,\"ph\":\"M\",\"args\":{\"num_events\":%" PRIu64
			   ",\"dropped_events\":0}}\n]\n",
			   g.id, g.now, g.events);
	c = pfw_writer__close(g.w);
	err = err ? err : c;
	close(fd);
	if (err) {
		dc_report(err);
		return 1;
	}
	printf("%" PRIu64 " events\n", g.events);
	return 0;
}
