/* SPDX-License-Identifier: MIT */
/* Open-addressing maps from non-zero 64-bit keys to a short name. */
#ifndef DC_HMAP_H
#define DC_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dc_record.h"

struct hmap {
	uint64_t *keys; /* 0 marks a free slot */
	char (*vals)[DC_COMM_LEN];
	size_t cap, n;
	bool with_vals;
};

void hmap_init(struct hmap *m, bool with_vals);
/* Adds @key; returns 1 if new, 0 if present, -ENOMEM. @val is its slot. */
int hmap_put(struct hmap *m, uint64_t key, char **val);
/* The value slot of @key, or NULL. */
char *hmap_get(const struct hmap *m, uint64_t key);
void hmap_free(struct hmap *m);

#endif
