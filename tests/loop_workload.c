// SPDX-License-Identifier: MIT
/*
 * A tight loop of one cheap system call on /dev/null, from THREADS threads,
 * CALLS times each (or for SECONDS at the most): a producer of events at the
 * highest rate the probes allow, with an exact count. It makes no other call of the kinds it is
 * asked for (its output and input go through write and read, never stdio,
 * which may lseek), so a trace of that one call holds exactly THREADS x
 * CALLS of them, less what was dropped.
 *
 * After the loop it prints one JSON line: its pid, the calls made, the
 * seconds the loop took and the CPU seconds the process used; with -k it
 * then dies of SIGSEGV. With -w it says "ready" and waits for a line on
 * stdin before the loop, and after that line says "done" and waits for stdin
 * to close before exiting, so a test can stop and resume the runtime around
 * it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long calls = 100000;
static double limit; /* seconds, or 0 */
static atomic_long made;
/* Volatile, so the compiler cannot see the store through it is to page 0. */
static int *volatile nowhere;
static int devnull;
static enum { LSEEK, WRITE } which = LSEEK;

/*
 * The system call instruction itself: a uprobe another tracer put on libc's
 * syscall() or its wrappers (they trap every process) cannot slow the loop.
 */
static long sys3(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr, x0 __asm__("x0") = a, x1 __asm__("x1") = b,
			 x2 __asm__("x2") = c;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
#else
	return syscall(nr, a, b, c);
#endif
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *loop(void *arg)
{
	double end = limit ? now() + limit : 0;
	char byte = 0;
	long i;

	(void)arg;
	for (i = 0; i < calls; i++) {
		if (end && !(i & 1023) && now() >= end)
			break;
		if (which == LSEEK)
			sys3(SYS_lseek, devnull, 0, SEEK_SET);
		else if (sys3(SYS_write, devnull, (long)&byte, 1) != 1)
			abort();
	}
	atomic_fetch_add(&made, i);
	return NULL;
}

static void say(const char *s)
{
	size_t n = strlen(s);

	if (write(STDOUT_FILENO, s, n) != (ssize_t)n)
		exit(1);
}

/* Reads stdin to the end of a line, or to its end with @to_eof. */
static void wait_stdin(int to_eof)
{
	char c;

	while (read(STDIN_FILENO, &c, 1) == 1)
		if (c == '\n' && !to_eof)
			return;
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	struct rusage ru;
	double t0;
	int threads = 1, wait = 0, crash = 0, c, i;
	char line[256];

	while ((c = getopt(argc, argv, "t:n:s:c:wk")) != -1) {
		if (c == 't')
			threads = atoi(optarg);
		else if (c == 'n')
			calls = atol(optarg);
		else if (c == 's')
			limit = atof(optarg);
		else if (c == 'c' && !strcmp(optarg, "write"))
			which = WRITE;
		else if (c == 'w')
			wait = 1;
		else if (c == 'k')
			crash = 1;
		else if (c != 'c' || strcmp(optarg, "lseek"))
			return 2;
	}
	if (threads < 1 || threads > 64 || calls < 0) {
		say("usage: dc-loop-workload [-t THREADS] [-n CALLS] [-s SECONDS] [-c lseek|write] "
		    "[-w] [-k]\n");
		return 2;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		return 1;
	if (wait) {
		say("ready\n");
		wait_stdin(0);
	}
	t0 = now();
	for (i = 1; i < threads; i++)
		if (pthread_create(&t[i], NULL, loop, NULL))
			return 1;
	loop(NULL);
	for (i = 1; i < threads; i++)
		pthread_join(t[i], NULL);
	getrusage(RUSAGE_SELF, &ru);
	snprintf(line, sizeof(line), "{\"pid\":%d,\"calls\":%ld,\"seconds\":%.6f,\"cpu\":%.6f}\n",
		 getpid(), atomic_load(&made), now() - t0,
		 ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6);
	say(line);
	if (crash)
		*nowhere = 0;
	if (wait) {
		say("done\n");
		wait_stdin(1);
	}
	return 0;
}
