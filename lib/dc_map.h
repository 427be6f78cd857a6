/* SPDX-License-Identifier: MIT */
/* A hash map from byte-string keys (copied in) to one pointer each. */
#ifndef DC_MAP_H
#define DC_MAP_H

#include <stddef.h>
#include <stdint.h>

struct dc_map_slot {
	uint64_t hash;
	char *key; /* NULL marks a free slot; NUL-terminated after klen bytes */
	size_t klen;
	void *val;
};

struct dc_map {
	struct dc_map_slot *slots;
	size_t cap, n;
};

uint64_t dc_hash(const void *data, size_t n);
/* The value of @key, or NULL. */
void *dc_map_get(const struct dc_map *m, const void *key, size_t klen);
/* The slot of @key, added (with val NULL) if new; NULL when out of memory. */
struct dc_map_slot *dc_map_put(struct dc_map *m, const void *key, size_t klen);
/* Frees the keys and slots; values are the caller's. */
void dc_map_free(struct dc_map *m);

#define dc_map_each(m, s)                                                        \
	for ((s) = (m)->slots; (m)->slots && (s) < (m)->slots + (m)->cap; (s)++) \
		if ((s)->key)

#endif
