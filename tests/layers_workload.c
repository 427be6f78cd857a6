// SPDX-License-Identifier: MIT
/*
 * Known calls for each bundled config (tests/test_layers.py). The first
 * argument picks the layer, the second is a directory to work in:
 *   posix DIR  files, metadata, directories and a mapped file
 *   net DIR    a TCP connection over loopback and a socket pair
 *   mem DIR    mappings, the heap's break and the malloc family
 *   proc DIR   a child that works, grows and exits 7, one that execs true
 *   kio DIR    a buffered write made durable by fsync, and an O_DIRECT one
 * Each prints one JSON line of what the test must find in the trace.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WSIZE 3000
#define WRITES 5
#define PREADS 4
#define NET_SENDS 6
#define NET_SIZE 700
#define KIO_SIZE (256 * 1024)
#define GROW_MB 48
#define EXIT_CODE 7

static char path_buf[4096];

static const char *at(const char *dir, const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
	return path_buf;
}

static int posix(const char *dir)
{
	static char buf[WSIZE];
	char file[4096], moved[4096], sub[4096], dupped[4096], log[4096];
	struct iovec iov[2] = { { buf, 100 }, { buf + 100, 200 } };
	struct stat st;
	struct dirent *de;
	int fd, dfd, lfd, saved, p[2], i, entries = 0;
	DIR *d;
	char *m;

	snprintf(file, sizeof(file), "%s", at(dir, "posix.dat"));
	snprintf(moved, sizeof(moved), "%s", at(dir, "moved.dat"));
	snprintf(sub, sizeof(sub), "%s", at(dir, "sub"));
	snprintf(dupped, sizeof(dupped), "%s", at(dir, "dup.dat"));
	snprintf(log, sizeof(log), "%s", at(dir, "log.dat"));
	memset(buf, 'p', sizeof(buf));
	fd = open(file, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0)
		return 1;
	for (i = 0; i < WRITES; i++)
		if (write(fd, buf, WSIZE) != WSIZE)
			return 1;
	for (i = 0; i < PREADS; i++)
		if (pread(fd, buf, 1000, 1000 * i + 10) != 1000)
			return 1;
	if (pwrite(fd, buf, 500, 20000) != 500 || writev(fd, iov, 2) != 300 ||
	    lseek(fd, 123, SEEK_SET) != 123 || readv(fd, iov, 2) != 300 || fsync(fd) ||
	    fdatasync(fd) || ftruncate(fd, 8192) || fstat(fd, &st) || st.st_size != 8192)
		return 1;
	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 1;
	m[0] = 'q';
	if (msync(m, 8192, MS_SYNC) || munmap(m, 8192) || close(fd))
		return 1;
	if (stat(file, &st) || lstat(file, &st) || mkdir(sub, 0755) || rename(file, moved))
		return 1;
	d = opendir(dir);
	if (!d)
		return 1;
	while ((de = readdir(d)))
		entries++;
	if (closedir(d) || unlink(moved) || rmdir(sub))
		return 1;
	/* dup2 onto the file's descriptor: what follows goes to the pipe, not the file. */
	dfd = open(dupped, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (dfd < 0 || pipe(p) || write(dfd, buf, 7) != 7 || dup2(p[1], dfd) != dfd ||
	    write(dfd, buf, 9) != 9 || close(dfd) || close(p[0]) || close(p[1]))
		return 1;
	/*
	 * Standard output sent to a file, as a shell's > does: fileno on the
	 * stdout stream, which was never opened, must not take the file away.
	 */
	saved = dup(1);
	lfd = open(log, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (saved < 0 || lfd < 0 || dup2(lfd, 1) != 1 || fileno(stdout) != 1 ||
	    write(1, buf, 11) != 11 || dup2(saved, 1) != 1 || close(saved) || close(lfd))
		return 1;
	printf("{\"pid\":%d,\"tid\":%ld,\"file\":\"%s\",\"moved\":\"%s\",\"sub\":\"%s\","
	       "\"dir\":\"%s\",\"fd\":%d,\"entries\":%d,\"dup\":\"%s\",\"dfd\":%d,\"log\":\"%s\"}\n",
	       getpid(), (long)syscall(SYS_gettid), file, moved, sub, dir, fd, entries + 1, dupped,
	       dfd, log);
	return 0;
}

static int net(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static char buf[NET_SIZE * NET_SENDS];
	socklen_t len = sizeof(a);
	int l, c, s, sp[2], i;
	size_t got = 0;

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return 1;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	s = accept(l, NULL, NULL);
	if (s < 0)
		return 1;
	for (i = 0; i < NET_SENDS; i++)
		if (send(c, buf, NET_SIZE, 0) != NET_SIZE)
			return 1;
	if (shutdown(c, SHUT_WR))
		return 1;
	while (got < sizeof(buf)) {
		ssize_t n = recv(s, buf + got, sizeof(buf) - got, MSG_WAITALL);

		if (n <= 0)
			return 1;
		got += n;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		return 1;
	{
		struct iovec iov = { buf, 321 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (sendmsg(sp[0], &mh, 0) != 321 || recvmsg(sp[1], &mh, 0) != 321)
			return 1;
	}
	close(sp[0]);
	close(sp[1]);
	close(s);
	close(c);
	close(l);
	printf("{\"pid\":%d,\"listen\":%d,\"client\":%d,\"server\":%d,\"sends\":%d,\"size\":%d,"
	       "\"port\":%d}\n",
	       getpid(), l, c, s, NET_SENDS, NET_SIZE, ntohs(a.sin_port));
	return 0;
}

/* Called through a volatile pointer, so the compiler cannot elide the calls. */
static void *(*volatile do_malloc)(size_t) = malloc;
static void *(*volatile do_calloc)(size_t, size_t) = calloc;
static void *(*volatile do_realloc)(void *, size_t) = realloc;
static void (*volatile do_free)(void *) = free;

static int mem(void)
{
	void *m, *r, *brk0, *p[3];
	int i;

	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || madvise(m, 1 << 20, MADV_DONTNEED))
		return 1;
	r = mremap(m, 1 << 20, 2 << 20, MREMAP_MAYMOVE);
	if (r == MAP_FAILED || munmap(r, 2 << 20))
		return 1;
	brk0 = sbrk(0);
	if (sbrk(65536) == (void *)-1 || sbrk(-65536) == (void *)-1)
		return 1;
	for (i = 0; i < 3; i++)
		p[i] = do_malloc(1000 + i);
	p[0] = do_realloc(p[0], 5000);
	p[1] = do_calloc(7, 11);
	for (i = 0; i < 3; i++)
		do_free(p[i]);
	printf("{\"pid\":%d,\"map\":%lu,\"remap\":%lu,\"brk\":%lu}\n", getpid(), (unsigned long)m,
	       (unsigned long)r, (unsigned long)brk0);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Works for @secs of CPU time, and makes @mb MiB resident. */
static void work(double secs, int mb)
{
	volatile unsigned long x = 0;
	char *p = malloc((size_t)mb << 20);
	double t0 = now();
	size_t i;

	for (i = 0; p && i < (size_t)mb << 20; i += 4096)
		p[i] = 1;
	while (now() - t0 < secs)
		x++;
	free(p);
}

static int proc(void)
{
	int status, ok;
	pid_t a, b;

	a = fork();
	if (a == 0) {
		work(0.2, GROW_MB);
		_exit(EXIT_CODE);
	}
	b = fork();
	if (b == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	ok = a > 0 && b > 0 && waitpid(a, &status, 0) == a && WEXITSTATUS(status) == EXIT_CODE &&
	     waitpid(b, &status, 0) == b && WEXITSTATUS(status) == 0;
	printf("{\"pid\":%d,\"worker\":%d,\"exec\":%d,\"code\":%d,\"grow_kb\":%d}\n", getpid(), a,
	       b, EXIT_CODE, GROW_MB * 1024);
	return !ok;
}

static int kio(const char *dir)
{
	char buffered[4096], direct[4096];
	struct stat sb, sd;
	void *buf;
	int fd;

	if (posix_memalign(&buf, 4096, KIO_SIZE))
		return 1;
	memset(buf, 'k', KIO_SIZE);
	snprintf(buffered, sizeof(buffered), "%s", at(dir, "buffered.dat"));
	snprintf(direct, sizeof(direct), "%s", at(dir, "direct.dat"));
	fd = open(buffered, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || pwrite(fd, buf, KIO_SIZE, 0) != KIO_SIZE || fsync(fd) || fstat(fd, &sb) ||
	    close(fd))
		return 1;
	fd = open(direct, O_CREAT | O_TRUNC | O_WRONLY | O_DIRECT, 0644);
	if (fd < 0 || pwrite(fd, buf, KIO_SIZE, 0) != KIO_SIZE || fstat(fd, &sd) || close(fd))
		return 1;
	free(buf);
	printf("{\"pid\":%d,\"tid\":%ld,\"buffered\":\"%s\",\"direct\":\"%s\",\"ino_buffered\":%lu,"
	       "\"ino_direct\":%lu,\"size\":%d}\n",
	       getpid(), (long)syscall(SYS_gettid), buffered, direct, (unsigned long)sb.st_ino,
	       (unsigned long)sd.st_ino, KIO_SIZE);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc != 3)
		return 2;
	if (!strcmp(argv[1], "posix"))
		rc = posix(argv[2]);
	else if (!strcmp(argv[1], "net"))
		rc = net();
	else if (!strcmp(argv[1], "mem"))
		rc = mem();
	else if (!strcmp(argv[1], "proc"))
		rc = proc();
	else if (!strcmp(argv[1], "kio"))
		rc = kio(argv[2]);
	else
		return 2;
	fflush(stdout);
	return rc;
}
