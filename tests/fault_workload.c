// SPDX-License-Identifier: MIT
/*
 * Workloads with known I/O that misbehave, for the fault tests
 * (test_fault_traced.py). Every unit writes COUNT x 64 B to its own file in
 * DIR and reports itself on stdout as one JSON line before it goes on, so
 * the test knows pids, tids and files even of a process that crashes.
 *
 *   segv DIR COUNT           writes, then dies of SIGSEGV (no core dump)
 *   threads DIR NTHREADS COUNT [ROUNDS]
 *                            NTHREADS threads, all alive at once, write;
 *                            with ROUNDS, each opens, writes and closes
 *                            ROUNDS files in turn (units tI.R), so
 *                            descriptor numbers pass between threads
 *   gate DIR COUNT GATE      says "ready", waits for the file GATE, writes
 *   lib DIR LIB COUNT        calls dcf_call (fault_lib.c) COUNT times from
 *                            LIB, reports, waits for a line on stdin, calls
 *                            it COUNT times more, then runs "lib-child"
 *   lib-child DIR LIB COUNT  calls dcf_call COUNT times from LIB
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WSIZE 64

static const char *dir;

static void say(const char *role, const char *file)
{
	printf("{\"role\":\"%s\",\"pid\":%d,\"tid\":%ld,\"file\":\"%s\"}\n", role, getpid(),
	       (long)syscall(SYS_gettid), file);
	fflush(stdout);
}

/* Opens DIR/ROLE.dat and writes @count blocks; the fd stays open when @keep. */
static int writes(const char *role, int count, int *keep)
{
	static const char buf[WSIZE];
	char path[4096];
	int fd, i;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, role);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		return -errno;
	say(role, path);
	for (i = 0; i < count; i++)
		if (write(fd, buf, WSIZE) != WSIZE)
			return -EIO;
	if (keep) {
		*keep = fd;
		return 0;
	}
	return close(fd) ? -errno : 0;
}

static int segv(int count)
{
	struct rlimit none = { 0, 0 };
	int fd;

	setrlimit(RLIMIT_CORE, &none);
	if (writes("segv", count, &fd))
		return 1;
	*(volatile int *)(long)(fd - fd) = 1;
	return 0;
}

static pthread_barrier_t all_up;
static int per_thread, rounds;

static void *thread_main(void *arg)
{
	char role[32];
	int r, err = 0;

	/* Every thread exists before any writes: 64 live threads, not a relay. */
	pthread_barrier_wait(&all_up);
	for (r = 0; !err && r < rounds; r++) {
		if (rounds == 1)
			snprintf(role, sizeof(role), "t%d", (int)(long)arg);
		else
			snprintf(role, sizeof(role), "t%d.%d", (int)(long)arg, r);
		err = writes(role, per_thread, NULL);
	}
	return (void *)(long)err;
}

static int threads(int n, int count, int nrounds)
{
	pthread_t *t = calloc(n, sizeof(*t));
	int i, err = 0;
	void *rc;

	if (!t)
		return 1;
	per_thread = count;
	rounds = nrounds;
	pthread_barrier_init(&all_up, NULL, n);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, thread_main, (void *)(long)i))
			return 1;
	for (i = 0; i < n; i++) {
		pthread_join(t[i], &rc);
		err |= rc != NULL;
	}
	free(t);
	return err;
}

static int gate(int count, const char *path)
{
	struct timespec ms = { 0, 1000000 };

	printf("ready\n");
	fflush(stdout);
	while (access(path, F_OK))
		nanosleep(&ms, NULL);
	return writes("gate", count, NULL) ? 1 : 0;
}

static int lib_calls(const char *lib, int count)
{
	long (*fn)(long);
	void *h = dlopen(lib, RTLD_NOW);
	int i;

	if (!h || !(*(void **)&fn = dlsym(h, "dcf_call"))) {
		fprintf(stderr, "%s\n", dlerror());
		return -1;
	}
	for (i = 0; i < count; i++)
		fn(i);
	return 0;
}

static int lib(const char *self, const char *path, int count)
{
	char line[16], n[16];
	pid_t pid;
	int st;

	snprintf(n, sizeof(n), "%d", count);
	if (lib_calls(path, count))
		return 1;
	say("lib", path);
	if (!fgets(line, sizeof(line), stdin) || lib_calls(path, count))
		return 1;
	/* A new process maps the library that is on disk now. */
	pid = fork();
	if (pid == 0) {
		execl(self, self, "lib-child", dir, path, n, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s segv|threads|gate|lib|lib-child DIR ...\n", argv[0]);
		return 2;
	}
	dir = argv[2];
	if (!strcmp(argv[1], "segv"))
		return segv(atoi(argv[3]));
	if (!strcmp(argv[1], "threads") && (argc == 5 || argc == 6))
		return threads(atoi(argv[3]), atoi(argv[4]), argc == 6 ? atoi(argv[5]) : 1);
	if (!strcmp(argv[1], "gate") && argc == 5)
		return gate(atoi(argv[3]), argv[4]);
	if (!strcmp(argv[1], "lib") && argc == 5)
		return lib(argv[0], argv[3], atoi(argv[4]));
	if (!strcmp(argv[1], "lib-child") && argc == 5) {
		if (lib_calls(argv[3], atoi(argv[4])))
			return 1;
		say("lib-child", argv[3]);
		return 0;
	}
	fprintf(stderr, "%s: bad arguments\n", argv[0]);
	return 2;
}
