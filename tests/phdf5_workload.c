// SPDX-License-Identifier: MIT
/*
 * Parallel HDF5 with known calls, for the real-stack test: every rank
 * writes its block of one dataset with a collective transfer (H5Dwrite
 * with H5FD_MPIO_COLLECTIVE, which HDF5 makes an MPI_File_write_at_all),
 * flushes the file to disk (MPI_File_sync, an fsync), and reads the block
 * back collectively. Each rank prints one JSON line of what it did and the
 * library it used.
 */
#include <dlfcn.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BLOCK 16384 /* ints per rank: 64 KiB */

int main(int argc, char **argv)
{
	static int data[BLOCK], back[BLOCK];
	hsize_t dims[1], start[1], count[1] = { BLOCK };
	hid_t fapl, dxpl, file, space, mem, set;
	int rank, size, i, ok = 1;
	char path[4096];
	Dl_info info;

	if (argc != 2 || !dladdr((void *)H5Dwrite, &info))
		return 2;
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	snprintf(path, sizeof(path), "%s/stack.h5", argv[1]);
	for (i = 0; i < BLOCK; i++)
		data[i] = rank * BLOCK + i;
	dims[0] = (hsize_t)size * BLOCK;
	start[0] = (hsize_t)rank * BLOCK;

	fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
	file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	space = H5Screate_simple(1, dims, NULL);
	set = H5Dcreate2(file, "data", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT,
			 H5P_DEFAULT);
	mem = H5Screate_simple(1, count, NULL);
	H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
	dxpl = H5Pcreate(H5P_DATASET_XFER);
	H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
	if (file < 0 || set < 0 || H5Dwrite(set, H5T_NATIVE_INT, mem, space, dxpl, data) < 0 ||
	    H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 ||
	    H5Dread(set, H5T_NATIVE_INT, mem, space, dxpl, back) < 0)
		ok = 0;
	for (i = 0; ok && i < BLOCK; i++)
		ok = back[i] == data[i];
	H5Pclose(dxpl);
	H5Sclose(mem);
	H5Sclose(space);
	H5Dclose(set);
	H5Fclose(file);
	H5Pclose(fapl);
	printf("{\"rank\":%d,\"size\":%d,\"pid\":%d,\"tid\":%ld,\"file\":\"%s\",\"block\":%zu,"
	       "\"offset\":%llu,\"lib\":\"%s\"}\n",
	       rank, size, getpid(), (long)syscall(SYS_gettid), path, sizeof(data),
	       (unsigned long long)start[0] * sizeof(int), info.dli_fname);
	fflush(stdout);
	MPI_Finalize();
	return !ok;
}
