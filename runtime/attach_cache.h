/* SPDX-License-Identifier: MIT */
/*
 * What attaching learned about a binary: the offsets that cannot be probed
 * and why. Kept per build-id and kernel release (the kernel decides what it
 * refuses) in the user's cache directory, so the next run attaches every
 * offset that can be probed in one try, without searching again.
 */
#ifndef DC_ATTACH_CACHE_H
#define DC_ATTACH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "insn_check.h"

struct attach_bad {
	uint64_t offset;
	int err; /* negative errno the kernel gave, or would give */
	enum insn_verdict why;
};

struct attach_cache {
	char build_id[41];
	struct attach_bad *bad; /* sorted by offset */
	size_t nbad, cap;
	size_t nloaded; /* entries that came from the file */
	bool dirty;
	char path[4096]; /* empty: not cacheable */
};

/*
 * Reads the entries for @build_id (hex) from the cache directory. A missing,
 * foreign, unsafe or malformed file is ignored whole (the last two said with
 * --verbose): the cache only ever saves work. Fails only for lack of memory.
 */
int attach_cache__open(struct attach_cache *c, const char *build_id);
/* The entry for @offset, or NULL. */
const struct attach_bad *attach_cache__find(const struct attach_cache *c, uint64_t offset);
int attach_cache__add(struct attach_cache *c, uint64_t offset, int code, enum insn_verdict why);
/* Writes the entries back if they changed, atomically; failures are only said with --verbose. */
void attach_cache__save(struct attach_cache *c);
void attach_cache__close(struct attach_cache *c);

#endif
