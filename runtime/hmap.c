// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

static size_t slot(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return key & (cap - 1);
}

void hmap_init(struct hmap *m, bool with_vals)
{
	memset(m, 0, sizeof(*m));
	m->with_vals = with_vals;
}

static size_t find(const struct hmap *m, uint64_t key)
{
	size_t i = slot(key, m->cap);

	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int rehash(struct hmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024, i;
	struct hmap n = { .cap = cap, .with_vals = m->with_vals };

	n.keys = calloc(cap, sizeof(*n.keys));
	n.vals = m->with_vals ? calloc(cap, sizeof(*n.vals)) : NULL;
	if (!n.keys || (m->with_vals && !n.vals)) {
		free(n.keys);
		free(n.vals);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->keys[i])
			continue;
		j = find(&n, m->keys[i]);
		n.keys[j] = m->keys[i];
		if (n.vals)
			memcpy(n.vals[j], m->vals[i], sizeof(n.vals[j]));
	}
	n.n = m->n;
	hmap_free(m);
	*m = n;
	return 0;
}

int hmap_put(struct hmap *m, uint64_t key, char **val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap && rehash(m))
		return -ENOMEM;
	i = find(m, key);
	if (val)
		*val = m->vals ? m->vals[i] : NULL;
	if (m->keys[i])
		return 0;
	m->keys[i] = key;
	m->n++;
	return 1;
}

char *hmap_get(const struct hmap *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = find(m, key);
	if (!m->keys[i])
		return NULL;
	return m->vals ? m->vals[i] : (char *)"";
}

void hmap_free(struct hmap *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->n = 0;
}
