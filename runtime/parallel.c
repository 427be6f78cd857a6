// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <unistd.h>

#include "dc_err.h"
#include "parallel.h"

#define MAX_THREADS 16

struct pfor {
	size_t n, next;
	int err;
	int (*fn)(void *ctx, size_t i);
	void *ctx;
};

static void *worker(void *arg)
{
	struct pfor *p = arg;
	size_t i;

	while (!__atomic_load_n(&p->err, __ATOMIC_RELAXED) &&
	       (i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->n) {
		int err = p->fn(p->ctx, i);
		int none = 0;

		if (err)
			__atomic_compare_exchange_n(&p->err, &none, err, false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED);
	}
	return NULL;
}

int parallel__for(size_t n, unsigned int threads, int (*fn)(void *ctx, size_t i), void *ctx)
{
	struct pfor p = { .n = n, .fn = fn, .ctx = ctx };
	pthread_t t[MAX_THREADS];
	unsigned int i, started = 0;

	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	/* A thread that cannot start leaves its share to the others. */
	for (i = 1; i < threads && i < n; i++)
		if (!pthread_create(&t[started], NULL, worker, &p))
			started++;
	worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	return p.err;
}

double timespec__ms(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

void progress__start(struct progress *p, size_t total)
{
	pthread_mutex_init(&p->lock, NULL);
	p->total = total;
	p->done = 0;
	p->shown = false;
	p->tty = dc_verbosity >= 0 && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->shown_at = p->start;
}

void progress__add(struct progress *p, size_t n)
{
	struct timespec now;

	pthread_mutex_lock(&p->lock);
	p->done += n;
	if (p->tty) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timespec__ms(&p->start, &now) >= 250 &&
		    timespec__ms(&p->shown_at, &now) >= 100) {
			fprintf(stderr, "\r%s: attaching probes: %zu/%zu", dc_prog, p->done,
				p->total);
			fflush(stderr);
			p->shown = true;
			p->shown_at = now;
		}
	}
	pthread_mutex_unlock(&p->lock);
}

void progress__end(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
	pthread_mutex_destroy(&p->lock);
}
