// SPDX-License-Identifier: MIT
/*
 * The typical call of each bundled config in a tight loop, for
 * bench/config_cost.py: "callcost MODE N DIR" makes N calls (or pairs of
 * calls) and prints the mean ns per iteration of the loop alone, so the
 * runtime's start and stop are not in it: wall time, and the thread's CPU
 * time (user and system, where a probe's trap and program run), which
 * other work on a loaded machine moves much less. Built with -DDC_HDF5 it has the
 * hdf5 mode, with -DDC_MPI the mpiio mode.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef DC_HDF5
#include <hdf5.h>
#endif
#ifdef DC_MPI
#include <mpi.h>
#endif

#define SMALL 64

static char path[4096];
static char buf[4096];

static double now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Opens DIR/NAME for reading and writing, with SMALL bytes in it. */
static int small_file(const char *dir, const char *name)
{
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0 || write(fd, buf, SMALL) != SMALL)
		exit(1);
	return fd;
}

static void *(*volatile do_malloc)(size_t) = malloc;

#ifdef DC_HDF5
static hid_t h5_set;

static void h5_setup(const char *dir)
{
	hsize_t dims[1] = { SMALL };
	hid_t f, s;

	snprintf(path, sizeof(path), "%s/cost.h5", dir);
	f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	s = H5Screate_simple(1, dims, NULL);
	h5_set = H5Dcreate2(f, "d", H5T_NATIVE_CHAR, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (h5_set < 0 || H5Dwrite(h5_set, H5T_NATIVE_CHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
		exit(1);
}
#endif

#ifdef DC_MPI
static MPI_File mpi_fh;

static void mpi_setup(int *argc, char ***argv, const char *dir)
{
	MPI_Init(argc, argv);
	snprintf(path, sizeof(path), "%s/cost.mpi", dir);
	if (MPI_File_open(MPI_COMM_SELF, path, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL,
			  &mpi_fh) != MPI_SUCCESS ||
	    MPI_File_write_at(mpi_fh, 0, buf, SMALL, MPI_CHAR, MPI_STATUS_IGNORE) != MPI_SUCCESS)
		exit(1);
}
#endif

static int fd = -1, sp[2];
static FILE *stream;

static int c_pread(long i)
{
	(void)i;
	return pread(fd, buf, SMALL, 0) == SMALL;
}

static int c_fwrite(long i)
{
	(void)i;
	return fwrite(buf, 1, SMALL, stream) == SMALL;
}

/* A new page each call: the page cache, writeback and ext4 see it. */
static int c_append(long i)
{
	return pwrite(fd, buf, sizeof(buf), (off_t)i * sizeof(buf)) == sizeof(buf);
}

static int c_sendrecv(long i)
{
	(void)i;
	return send(sp[0], buf, SMALL, 0) == SMALL && recv(sp[1], buf, SMALL, 0) == SMALL;
}

static int c_mmap(long i)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)i;
	return m != MAP_FAILED && !munmap(m, 4096);
}

static int c_malloc(long i)
{
	(void)i;
	free(do_malloc(SMALL));
	return 1;
}

static int c_fork(long i)
{
	pid_t pid = fork();
	int status;

	(void)i;
	if (pid == 0)
		_exit(0);
	return pid > 0 && waitpid(pid, &status, 0) == pid;
}

#ifdef DC_HDF5
static int c_h5dread(long i)
{
	(void)i;
	return H5Dread(h5_set, H5T_NATIVE_CHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
}
#endif

#ifdef DC_MPI
static int c_mpiread(long i)
{
	(void)i;
	return MPI_File_read_at(mpi_fh, 0, buf, SMALL, MPI_CHAR, MPI_STATUS_IGNORE) == MPI_SUCCESS;
}
#endif

static const struct {
	const char *name;
	int (*call)(long i);
} modes[] = {
	{ "pread", c_pread },	    { "fwrite", c_fwrite }, { "append", c_append },
	{ "sendrecv", c_sendrecv }, { "mmap", c_mmap },	    { "malloc", c_malloc },
	{ "fork", c_fork },
#ifdef DC_HDF5
	{ "h5dread", c_h5dread },
#endif
#ifdef DC_MPI
	{ "mpiread", c_mpiread },
#endif
};

int main(int argc, char **argv)
{
	int (*call)(long) = NULL;
	const char *mode;
	double t0, c0, t, c;
	size_t m;
	long i, n;

	if (argc != 4)
		return 2;
	mode = argv[1];
	n = atol(argv[2]);
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		if (!strcmp(mode, modes[m].name))
			call = modes[m].call;
	if (!call || n <= 0)
		return 2;
	if (call == c_pread || call == c_append)
		fd = small_file(argv[3], "cost.dat");
	if (call == c_fwrite) {
		snprintf(path, sizeof(path), "%s/cost.txt", argv[3]);
		stream = fopen(path, "w");
		if (!stream)
			return 1;
	}
	if (call == c_sendrecv && socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		return 1;
#ifdef DC_HDF5
	if (call == c_h5dread)
		h5_setup(argv[3]);
#endif
#ifdef DC_MPI
	if (call == c_mpiread)
		mpi_setup(&argc, &argv, argv[3]);
#endif
	t0 = now_ns(CLOCK_MONOTONIC);
	c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < n; i++)
		if (!call(i))
			return 1;
	c = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	t = now_ns(CLOCK_MONOTONIC) - t0;
	printf("%.1f %.1f\n", t / n, c / n);
	fflush(stdout);
#ifdef DC_MPI
	if (call == c_mpiread) {
		MPI_File_close(&mpi_fh);
		MPI_Finalize();
	}
#endif
	return 0;
}
