// SPDX-License-Identifier: MIT
/*
 * One rank of a parallel job with known I/O, for the scheduler and mpirun
 * tests. Rank R opens DIR/rank<R>.dat, writes 10 + R blocks of 1024 * (R + 1)
 * bytes, preads 5 x 512 bytes at 1000 * i + 100 * R, fsyncs and closes, so
 * every rank's calls differ and a trace that mixed ranks up shows it. Built
 * with DC_MPI the rank comes from MPI_Comm_rank, otherwise from Slurm's
 * SLURM_PROCID. It reports itself on stdout as one JSON line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef DC_MPI
#include <mpi.h>
#endif

#define READS 5
#define RSIZE 512

static int get_rank(int *argc, char ***argv)
{
#ifdef DC_MPI
	int rank;

	if (MPI_Init(argc, argv) != MPI_SUCCESS || MPI_Comm_rank(MPI_COMM_WORLD, &rank))
		return -1;
	return rank;
#else
	const char *s = getenv("SLURM_PROCID");
	char *end;
	long rank;

	(void)argc;
	(void)argv;
	if (!s)
		return -1;
	rank = strtol(s, &end, 10);
	return *end || rank < 0 || rank > 1000 ? -1 : (int)rank;
#endif
}

static int done(void)
{
#ifdef DC_MPI
	/* Every rank's I/O is finished before any rank reports. */
	if (MPI_Barrier(MPI_COMM_WORLD) || MPI_Finalize())
		return -1;
#endif
	return 0;
}

static int io(const char *path, int rank)
{
	size_t wsize = 1024 * (size_t)(rank + 1);
	int fd, i, writes = 10 + rank;
	char *buf = malloc(wsize);

	if (!buf)
		return -ENOMEM;
	memset(buf, 'a' + rank % 26, wsize);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (i = 0; i < writes; i++)
		if (write(fd, buf, wsize) != (ssize_t)wsize)
			goto fail;
	for (i = 0; i < READS; i++)
		if (pread(fd, buf, RSIZE, 1000 * i + 100 * rank) != RSIZE)
			goto fail;
	free(buf);
	if (fsync(fd) || close(fd))
		return -errno;
	return 0;
fail:
	free(buf);
	close(fd);
	return -EIO;
}

int main(int argc, char **argv)
{
	char path[4096];
	int rank, err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	rank = get_rank(&argc, &argv);
	if (rank < 0) {
		fprintf(stderr, "%s: no rank\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/rank%d.dat", argv[1], rank);
	err = io(path, rank);
	if (err) {
		fprintf(stderr, "%s: %s\n", path, strerror(-err));
		return 1;
	}
	if (done())
		return 1;
	printf("{\"rank\":%d,\"pid\":%d,\"tid\":%ld,\"file\":\"%s\"}\n", rank, getpid(),
	       (long)syscall(SYS_gettid), path);
	return 0;
}
