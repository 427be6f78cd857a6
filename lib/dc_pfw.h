/* SPDX-License-Identifier: MIT */
/*
 * Reading and writing the bytes of DFTracer traces (.pfw, .pfw.gz), line by
 * line, in bounded memory. A .pfw.gz is a series of gzip members that each
 * end on a line boundary; the reader takes any number of members, reads a
 * truncated last member up to its last complete line, and skips past a
 * corrupt member to the next one, warning each time.
 */
#ifndef DC_PFW_H
#define DC_PFW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lines longer than this are skipped as bad, so memory stays bounded. */
#define PFW_LINE_MAX (1u << 20)
/* Times and durations past this many us (36,000 years) are not accepted. */
#define PFW_TIME_MAX (1LL << 60)

struct pfw_reader;

/* Opens a regular file, compressed or not. */
int pfw_reader__open(struct pfw_reader **out, const char *path);
/* Reads bytes [@start, @end) of @fd (not closed by the reader); @name is for messages. */
int pfw_reader__open_fd(struct pfw_reader **out, int fd, uint64_t start, uint64_t end,
			const char *name);
/*
 * The next line, without its newline and NUL-terminated in place; it stays
 * valid until the next call. Returns 1 for a line, 2 for a line skipped as
 * longer than PFW_LINE_MAX, 0 at the end, or a negative errno.
 */
int pfw_reader__next(struct pfw_reader *r, char **line, size_t *len);
/* The number of the line last returned, from 1. */
uint64_t pfw_reader__lineno(const struct pfw_reader *r);

struct pfw_event;
/*
 * The next event: "[" and "]" lines and blank lines are passed over, and a
 * line that is not a valid event (not JSON, no letter "ph", no numeric "ts"
 * on a timed event, no numeric "dur" on an X event, ...) is skipped, counted
 * and, the first few times, warned about with its line number. @line is the
 * event's raw text. Returns 1, 0 at the end, or a negative errno; a file
 * whose first line is neither "[" nor an object is not a trace (-EINVAL).
 */
int pfw_reader__event(struct pfw_reader *r, struct pfw_event *ev, char **line, size_t *len);
/* Lines skipped as bad so far. */
uint64_t pfw_reader__bad(const struct pfw_reader *r);
/* Whether data was lost: a truncated or corrupt member, or trailing garbage. */
bool pfw_reader__damaged(const struct pfw_reader *r);
void pfw_reader__close(struct pfw_reader *r);

struct pfw_writer;

/*
 * Writes gzip members of about @member_bytes each to @fd from its current
 * offset, each ending on a line boundary. The reader of a file cut short
 * still gets every whole member. The fd is not closed by the writer.
 */
int pfw_writer__open(struct pfw_writer **out, int fd, const char *name, size_t member_bytes,
		     int level);
/* Room for @n more bytes of the current line(s); NULL when out of memory. */
char *pfw_writer__room(struct pfw_writer *w, size_t n);
/* Takes @n bytes written at pfw_writer__room(), ending with a whole line. */
int pfw_writer__commit(struct pfw_writer *w, size_t n);
int pfw_writer__puts(struct pfw_writer *w, const char *s);
/* Ends the current member. */
int pfw_writer__flush(struct pfw_writer *w);
/* The offset in the file after the last whole member. */
uint64_t pfw_writer__offset(const struct pfw_writer *w);
/* Flushes; returns the first error of the writer's life. */
int pfw_writer__close(struct pfw_writer *w);

#endif
