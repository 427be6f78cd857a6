// SPDX-License-Identifier: MIT
/*
 * Every uprobe registration takes dup_mmap_sem, a percpu rwsem, for writing.
 * Its writer side is fast only while writers come within an RCU grace period
 * of each other; the first after a quiet spell waits for a whole one, 13-26
 * ms here, which was a quarter of attaching 8,774 probes. While the programs
 * load, a thread registers a probe nobody maps (offset 0 of an empty memfd)
 * every few milliseconds: it pays that wait in the background and leaves the
 * fast path open for the first real link. Its links are closed at detach
 * with the others, because closing one waits for grace periods too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dc_err.h"
#include "session.h"

#define UWARM_MAX 256
#define UWARM_MIN_PERIOD_NS 1000000L

struct uwarm {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	int prog, memfd;
	char path[32];
	int fds[UWARM_MAX];
	size_t n;
};

static void *uwarm_loop(void *arg)
{
	struct uwarm *w = arg;
	long period = UWARM_MIN_PERIOD_NS;
	struct timespec t0, t1;
	uint64_t off = 0;
	int fd;

	pthread_mutex_lock(&w->lock);
	while (!w->stop && w->n < UWARM_MAX) {
		pthread_mutex_unlock(&w->lock);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		fd = umulti__attach(w->prog, w->path, &off, NULL, 1, false);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		pthread_mutex_lock(&w->lock);
		if (fd < 0)
			break;
		/* The first registration waited one grace period: come back well within one. */
		if (!w->n) {
			long quarter = timespec__ms(&t0, &t1) * 1e6 / 4;

			period = quarter > period ? quarter : period;
		}
		w->fds[w->n++] = fd;
		t1.tv_nsec += period;
		t1.tv_sec += t1.tv_nsec / 1000000000L;
		t1.tv_nsec %= 1000000000L;
		while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &t1) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int uwarm__start(struct uwarm **out)
{
	struct uwarm *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	int err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->prog = umulti__trivial_prog();
	w->memfd = memfd_create("datacrumbs-uwarm", MFD_CLOEXEC);
	if (w->prog < 0 || w->memfd < 0) {
		err = w->prog < 0 ? w->prog : -errno;
		goto fail;
	}
	snprintf(w->path, sizeof(w->path), "/proc/self/fd/%d", w->memfd);
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = -pthread_create(&w->thread, NULL, uwarm_loop, w);
	if (err) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	if (w->prog >= 0)
		close(w->prog);
	if (w->memfd >= 0)
		close(w->memfd);
	free(w);
	return err;
}

int uwarm__stop(struct uwarm *w, struct session *s)
{
	size_t i;
	int err = 0;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	dc_info("uprobe registration kept warm by %zu probes while the programs loaded", w->n);
	for (i = 0; i < w->n; i++)
		if (!err)
			err = add_link_fd(s, w->fds[i]);
		else
			close(w->fds[i]);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	close(w->prog);
	close(w->memfd);
	free(w);
	return err;
}
