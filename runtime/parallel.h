/* SPDX-License-Identifier: MIT */
/*
 * Attaching tracepoints and perf-event uprobes spends most of its time
 * waiting in the kernel (IPIs, grace periods, event setup), so links made
 * from several threads at once overlap their waits. uprobe_multi links do
 * not: they queue on one lock (see uattach.c).
 */
#ifndef DC_PARALLEL_H
#define DC_PARALLEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * Calls @fn(@ctx, i) for every i in [0, @n) from up to @threads threads (the
 * caller's among them), each taking the next i as it finishes one. After
 * the first error no new i is started; returns that error, or 0.
 */
int parallel__for(size_t n, unsigned int threads, int (*fn)(void *ctx, size_t i), void *ctx);

/* Milliseconds from @a to @b. */
double timespec__ms(const struct timespec *a, const struct timespec *b);

/* "attaching probes: done/total" on a terminal, for sets slow to attach. */
struct progress {
	pthread_mutex_t lock;
	size_t total, done;
	struct timespec start, shown_at;
	bool tty, shown;
};

/* Shows nothing unless stderr is a terminal and not --quiet. */
void progress__start(struct progress *p, size_t total);
/* Thread-safe; redraws at most ten times a second, from a quarter second on. */
void progress__add(struct progress *p, size_t n);
/* Erases the line if it was drawn. */
void progress__end(struct progress *p);

#endif
