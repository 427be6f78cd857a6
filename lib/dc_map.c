// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "dc_map.h"
#include "dc_record.h"

uint64_t dc_hash(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = DC_FNV_OFFSET;

	while (n--) {
		h ^= *p++;
		h *= DC_FNV_PRIME;
	}
	/* FNV's low bits are weak for short keys; the table masks them. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

static struct dc_map_slot *find(const struct dc_map *m, uint64_t h, const void *key, size_t klen)
{
	size_t i = h & (m->cap - 1);

	while (m->slots[i].key && (m->slots[i].hash != h || m->slots[i].klen != klen ||
				   memcmp(m->slots[i].key, key, klen)))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

void *dc_map_get(const struct dc_map *m, const void *key, size_t klen)
{
	struct dc_map_slot *s;

	if (!m->cap)
		return NULL;
	s = find(m, dc_hash(key, klen), key, klen);
	return s->key ? s->val : NULL;
}

static int grow(struct dc_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64, i;
	struct dc_map n = { .cap = cap, .n = m->n };

	n.slots = calloc(cap, sizeof(*n.slots));
	if (!n.slots)
		return -1;
	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*find(&n, m->slots[i].hash, m->slots[i].key, m->slots[i].klen) =
				m->slots[i];
	free(m->slots);
	*m = n;
	return 0;
}

struct dc_map_slot *dc_map_put(struct dc_map *m, const void *key, size_t klen)
{
	uint64_t h = dc_hash(key, klen);
	struct dc_map_slot *s;

	if ((m->n + 1) * 4 > m->cap * 3 && grow(m))
		return NULL;
	s = find(m, h, key, klen);
	if (s->key)
		return s;
	s->key = malloc(klen + 1);
	if (!s->key)
		return NULL;
	memcpy(s->key, key, klen);
	s->key[klen] = '\0';
	s->klen = klen;
	s->hash = h;
	s->val = NULL;
	m->n++;
	return s;
}

void dc_map_free(struct dc_map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}
