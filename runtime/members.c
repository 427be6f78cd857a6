// SPDX-License-Identifier: MIT
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "dc_file.h"
#include "members.h"

/*
 * One buffer being filled, one being compressed, two waiting: the drain goes
 * on through a disk stall as long as writing two members takes.
 */
#define NBUF 4

struct queued {
	char *buf;
	size_t len;
};

struct members {
	int fd;
	size_t cap;
	int level;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* the queues and closing */
	pthread_cond_t work, room;
	char *free[NBUF];
	size_t nfree;
	struct queued full[NBUF]; /* a FIFO: members reach the file in the order they were put */
	size_t head, nfull;
	bool closing;
	/* Held while a member is written, so abandon never leaves half of one. */
	pthread_mutex_t io;
	atomic_bool abandoned;
	atomic_int err;
	_Atomic uint64_t good, raw;
	/* The thread's own: */
	unsigned char *zbuf, *level_buf;
	size_t zcap, level_bytes;
	char *bufs[NBUF];
};

static int compress(struct members *m, const char *buf, size_t len, size_t *out)
{
	struct isal_zstream s;

	isal_deflate_stateless_init(&s);
	s.next_in = (uint8_t *)buf;
	s.avail_in = len;
	s.next_out = m->zbuf;
	s.avail_out = m->zcap;
	s.level = m->level;
	s.level_buf = m->level_buf;
	s.level_buf_size = m->level_bytes;
	/* Each member a gzip file of its own, so a reader can start at any of them. */
	s.gzip_flag = IGZIP_GZIP;
	s.end_of_stream = 1;
	s.flush = NO_FLUSH;
	if (isal_deflate_stateless(&s) != COMP_OK)
		return -EIO;
	*out = s.total_out;
	return 0;
}

static void write_member(struct members *m, const char *buf, size_t len)
{
	size_t n;
	int err;

	if (atomic_load(&m->err))
		return;
	err = compress(m, buf, len, &n);
	pthread_mutex_lock(&m->io);
	if (!err && !m->abandoned)
		err = dc_write_all(m->fd, m->zbuf, n);
	if (err) {
		/* Cut back to the last whole member: the file stays readable. */
		if (ftruncate(m->fd, m->good) == 0)
			lseek(m->fd, m->good, SEEK_SET);
		atomic_store(&m->err, err);
	} else if (!m->abandoned) {
		atomic_fetch_add(&m->good, n);
		atomic_fetch_add(&m->raw, len);
	}
	pthread_mutex_unlock(&m->io);
}

static void *writer_thread(void *arg)
{
	struct members *m = arg;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		struct queued q;

		while (!m->nfull && !m->closing)
			pthread_cond_wait(&m->work, &m->lock);
		if (!m->nfull)
			break;
		q = m->full[m->head];
		m->head = (m->head + 1) % NBUF;
		m->nfull--;
		pthread_mutex_unlock(&m->lock);
		write_member(m, q.buf, q.len);
		pthread_mutex_lock(&m->lock);
		m->free[m->nfree++] = q.buf;
		pthread_cond_signal(&m->room);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static size_t level_bytes(int level)
{
	switch (level) {
	case 0:
		return ISAL_DEF_LVL0_DEFAULT;
	case 1:
		return ISAL_DEF_LVL1_DEFAULT;
	case 2:
		return ISAL_DEF_LVL2_DEFAULT;
	default:
		return ISAL_DEF_LVL3_DEFAULT;
	}
}

int members__open(struct members **out, int fd, size_t cap, int level)
{
	struct members *m;
	off_t at;
	int i;

	*out = NULL;
	if (level < 0 || level > 3)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fd = fd;
	m->cap = cap;
	m->level = level;
	at = lseek(fd, 0, SEEK_CUR);
	m->good = at > 0 ? at : 0;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->io, NULL);
	pthread_cond_init(&m->work, NULL);
	pthread_cond_init(&m->room, NULL);
	/* Lines are ASCII JSON: deflate never grows them by more than an eighth. */
	m->zcap = cap + cap / 8 + ISAL_DEF_MAX_HDR_SIZE + 4096;
	m->zbuf = malloc(m->zcap);
	m->level_bytes = level_bytes(level);
	m->level_buf = m->level_bytes ? malloc(m->level_bytes) : NULL;
	for (i = 0; i < NBUF && (m->bufs[i] = malloc(cap)); i++)
		m->free[m->nfree++] = m->bufs[i];
	if (i < NBUF || !m->zbuf || (m->level_bytes && !m->level_buf) ||
	    pthread_create(&m->thread, NULL, writer_thread, m)) {
		members__destroy(m);
		return -ENOMEM;
	}
	m->started = true;
	*out = m;
	return 0;
}

char *members__take(struct members *m)
{
	char *buf;

	pthread_mutex_lock(&m->lock);
	while (!m->nfree)
		pthread_cond_wait(&m->room, &m->lock);
	buf = m->free[--m->nfree];
	pthread_mutex_unlock(&m->lock);
	return buf;
}

void members__put(struct members *m, char *buf, size_t len)
{
	pthread_mutex_lock(&m->lock);
	m->full[(m->head + m->nfull) % NBUF] = (struct queued){ buf, len };
	m->nfull++;
	pthread_cond_signal(&m->work);
	pthread_mutex_unlock(&m->lock);
}

int members__error(const struct members *m)
{
	return atomic_load(&((struct members *)m)->err);
}

uint64_t members__bytes(const struct members *m, uint64_t *raw)
{
	struct members *mm = (struct members *)m;

	if (raw)
		*raw = atomic_load(&mm->raw);
	return atomic_load(&mm->good);
}

int members__close(struct members *m)
{
	pthread_mutex_lock(&m->lock);
	m->closing = true;
	pthread_cond_signal(&m->work);
	pthread_mutex_unlock(&m->lock);
	if (m->started)
		pthread_join(m->thread, NULL);
	m->started = false;
	return members__error(m);
}

void members__abandon(struct members *m)
{
	struct timespec until;
	bool locked;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	locked = pthread_mutex_timedlock(&m->io, &until) == 0;
	/* Set even on a timeout: a write stuck that long ends the file as it may. */
	atomic_store(&m->abandoned, true);
	if (locked)
		pthread_mutex_unlock(&m->io);
}

void members__destroy(struct members *m)
{
	int i;

	if (!m)
		return;
	if (m->started)
		members__close(m);
	for (i = 0; i < NBUF; i++)
		free(m->bufs[i]);
	free(m->zbuf);
	free(m->level_buf);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->io);
	pthread_cond_destroy(&m->work);
	pthread_cond_destroy(&m->room);
	free(m);
}
