// SPDX-License-Identifier: MIT
/*
 * A program linked with libdatacrumbs-client, for the server-mode test. The
 * library's constructor opts it in before main; it then opts out and back
 * in. In phase P (1 to 3) it opens DIR/linkedP.dat, writes WRITES x WSIZE
 * bytes and closes it, so phase 2 must be missing from the trace. It
 * reports itself on stdout as one JSON line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "datacrumbs_client.h"

#define WRITES 3
#define WSIZE 1000

static int phase(const char *dir, int p)
{
	char path[4096], buf[WSIZE];
	int fd, i;

	snprintf(path, sizeof(path), "%s/linked%d.dat", dir, p);
	memset(buf, '0' + p, sizeof(buf));
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		return -errno;
	for (i = 0; i < WRITES; i++)
		if (write(fd, buf, WSIZE) != WSIZE)
			return -EIO;
	return close(fd) ? -errno : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	if (phase(argv[1], 1) || datacrumbs_client_stop() || phase(argv[1], 2) ||
	    datacrumbs_client_start() || phase(argv[1], 3))
		return 1;
	printf("{\"pid\":%d,\"tid\":%ld,\"dir\":\"%s\"}\n", getpid(), (long)syscall(SYS_gettid),
	       argv[1]);
	return 0;
}
