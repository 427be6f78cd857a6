// SPDX-License-Identifier: MIT
/*
 * HDF5 with known calls: create a file and a dataset, write it WRITES
 * times, close, reopen and read it. Ids derived from the file id (the
 * dataset's) must carry the file's fhash. Prints the library it used, so
 * the test probes the very file the dynamic linker chose.
 */
#include <dlfcn.h>
#include <hdf5.h>
#include <stdio.h>
#include <unistd.h>

#define N 1024
#define WRITES 3

int main(int argc, char **argv)
{
	hsize_t dims[1] = { N };
	static int data[N];
	char path[4096];
	Dl_info info;
	hid_t f, s, d;
	int i;

	if (argc != 2 || !dladdr((void *)H5Fcreate, &info))
		return 2;
	snprintf(path, sizeof(path), "%s/data.h5", argv[1]);
	f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	s = H5Screate_simple(1, dims, NULL);
	d = H5Dcreate2(f, "data", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	for (i = 0; i < WRITES; i++)
		H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
	H5Dclose(d);
	H5Sclose(s);
	H5Fclose(f);
	f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	d = H5Dopen2(f, "data", H5P_DEFAULT);
	if (f < 0 || d < 0 || H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
		return 1;
	H5Dclose(d);
	H5Fclose(f);
	printf("{\"pid\":%d,\"file\":\"%s\",\"lib\":\"%s\"}\n", getpid(), path, info.dli_fname);
	return 0;
}
