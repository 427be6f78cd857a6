/* SPDX-License-Identifier: MIT */
/*
 * Writes DFTracer traces: a "[" line, one JSON object per line, and "]".
 * The gzip stream is a series of members that each end on a line boundary,
 * so a file cut short by a crash or a full disk reads up to its last member.
 * Lines are formatted on the caller's thread; members are compressed and
 * written in order on a thread of the writer's own (members.h).
 */
#ifndef DC_WRITER_H
#define DC_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dc_manifest.h"
#include "dc_record.h"

struct writer_opts {
	const char *path;
	const struct dc_manifest *man;
	const char *host;
	const char *cmdline; /* for the start record */
	int pid; /* the process the file is named after */
	int64_t real_minus_mono_ns; /* added to kernel timestamps */
	size_t member_bytes; /* uncompressed bytes per gzip member */
	int level; /* igzip level, 0 to 3 */
};

struct writer_totals {
	uint64_t events; /* call, point and counter events written */
	uint64_t bytes; /* compressed bytes on disk */
	uint64_t raw_bytes; /* the JSON lines before compression */
};

struct writer;

/* Creates the file (mode 0600, never over an existing one). */
int writer__open(struct writer **out, const struct writer_opts *o);
/* Handles one ring-buffer record of any type. */
int writer__record(struct writer *w, const void *data, size_t size);
/*
 * Writes profile sums @v of @k as a counter event ("ph":"C") at @ts_mono_ns,
 * the start of the interval.
 */
int writer__counter(struct writer *w, const struct dc_prof_key *k, const struct dc_prof_val *v,
		    uint64_t ts_mono_ns);
/*
 * Hands what is buffered to the writing thread as a whole member. Returns
 * the first write error, which from then on every call returns.
 */
int writer__flush(struct writer *w);
/* Writes the end record with @s, closes the file. */
int writer__close(struct writer *w, const struct dc_stats *s, struct writer_totals *t);
/* The first write error seen so far, kept until close. */
int writer__error(const struct writer *w);
/*
 * For a process about to exit at once: nothing more reaches the file once
 * the member being written is whole, so the file ends on a whole member.
 */
void writer__abandon(struct writer *w);
void writer__destroy(struct writer *w);

#endif
