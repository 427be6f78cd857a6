// SPDX-License-Identifier: MIT
/*
 * STDIO with known calls, for the handle tests: a stream from fopen, one
 * from fdopen of a descriptor (derived handles carry their file too), and
 * a descriptor from fileno. Prints what it did as one JSON line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WRITES 20
#define WSIZE 100
#define READS 7
#define RSIZE 30

int main(int argc, char **argv)
{
	char a[4096], b[4096], buf[WSIZE];
	FILE *f, *g;
	int i, fd;

	if (argc != 2)
		return 2;
	snprintf(a, sizeof(a), "%s/stream.dat", argv[1]);
	snprintf(b, sizeof(b), "%s/fdopen.dat", argv[1]);
	memset(buf, 'x', sizeof(buf));
	f = fopen(a, "w+");
	if (!f)
		return 1;
	for (i = 0; i < WRITES; i++)
		fwrite(buf, 1, WSIZE, f);
	fflush(f);
	for (i = 0; i < READS; i++) {
		fseek(f, 11 * i + 5, SEEK_SET);
		fread(buf, 1, RSIZE, f);
	}
	fd = fileno(f);
	fsync(fd);
	fclose(f);
	fd = open(b, O_CREAT | O_TRUNC | O_RDWR, 0644);
	g = fdopen(fd, "w");
	if (!g)
		return 1;
	fwrite(buf, 2, 10, g);
	fclose(g);
	printf("{\"pid\":%d,\"tid\":%ld,\"stream\":\"%s\",\"fdopen\":\"%s\"}\n", getpid(),
	       (long)syscall(SYS_gettid), a, b);
	return 0;
}
