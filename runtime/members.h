/* SPDX-License-Identifier: MIT */
/*
 * Turns buffers of whole lines into gzip members and appends them to a file,
 * in order, on a thread of its own: whoever fills the buffers (the thread
 * draining the ring buffer) never waits for compression or the disk unless
 * every buffer is in flight. The file only ever grows by whole members; the
 * first write error cuts it back to its last whole member and makes every
 * later member a no-op.
 */
#ifndef DC_MEMBERS_H
#define DC_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

struct members;

/*
 * @fd is written from its current offset and not closed; @cap is the size of
 * each buffer, @level the igzip level (0 to 3).
 */
int members__open(struct members **out, int fd, size_t cap, int level);
/* An empty buffer of the capacity given at open, waiting for one if need be. */
char *members__take(struct members *m);
/* Queues @len bytes of @buf (from members__take) as the next member. */
void members__put(struct members *m, char *buf, size_t len);
/* The first error of the writing thread, as a negative errno, or 0. */
int members__error(const struct members *m);
/* Bytes in whole members on disk, and the uncompressed bytes they hold. */
uint64_t members__bytes(const struct members *m, uint64_t *raw);
/* Waits for every queued member to be written, stops the thread; the first error. */
int members__close(struct members *m);
/*
 * For a process about to exit at once: waits for the member being written
 * (up to about a second), then lets nothing more reach the file, so the file
 * ends on a whole member.
 */
void members__abandon(struct members *m);
void members__destroy(struct members *m);

#endif
