// SPDX-License-Identifier: MIT
/*
 * MPI-IO with known calls, as a singleton (no mpirun): open a file (the
 * handle comes back through an MPI_File *), write and read at known
 * offsets, close through MPI_File *. Prints the library it used.
 */
#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

#define WRITES 4
#define WSIZE 1000

int main(int argc, char **argv)
{
	static char buf[WSIZE];
	char path[4096];
	MPI_Status st;
	MPI_File fh;
	Dl_info info;
	int i;

	if (argc != 2 || !dladdr((void *)MPI_File_open, &info))
		return 2;
	snprintf(path, sizeof(path), "%s/data.mpi", argv[1]);
	MPI_Init(&argc, &argv);
	if (MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL,
			  &fh) != MPI_SUCCESS)
		return 1;
	for (i = 0; i < WRITES; i++)
		MPI_File_write_at(fh, (MPI_Offset)i * 4096, buf, WSIZE, MPI_CHAR, &st);
	MPI_File_read_at(fh, 4096, buf, 500, MPI_CHAR, &st);
	MPI_File_close(&fh);
	MPI_Finalize();
	printf("{\"pid\":%d,\"file\":\"%s\",\"lib\":\"%s\",\"amode\":%d}\n", getpid(), path,
	       info.dli_fname, MPI_MODE_CREATE | MPI_MODE_RDWR);
	return 0;
}
