// SPDX-License-Identifier: MIT
/* Dense renaming of page ids: see idmap.h. */
#include "idmap.h"

#include <stdlib.h>

#define IDMAP_INITIAL_SLOTS 1024

/* The finalizer of splitmix64: a cheap hash that spreads sequential ids. */
static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static int alloc_slots(struct idmap *m, uint64_t slots)
{
	m->keys = calloc(slots, sizeof(*m->keys));
	m->ids = malloc(slots * sizeof(*m->ids));
	m->mask = slots - 1;
	return m->keys && m->ids ? 0 : -1;
}

int idmap_init(struct idmap *m)
{
	*m = (struct idmap){ 0 };
	return alloc_slots(m, IDMAP_INITIAL_SLOTS);
}

void idmap_fini(struct idmap *m)
{
	free(m->keys);
	free(m->ids);
	*m = (struct idmap){ 0 };
}

static int grow(struct idmap *m)
{
	uint64_t *keys = m->keys, old_slots = m->mask + 1;
	uint32_t *ids = m->ids;

	if (alloc_slots(m, old_slots * 2) != 0) {
		free(m->keys);
		free(m->ids);
		m->keys = keys;
		m->ids = ids;
		m->mask = old_slots - 1;
		return -1;
	}
	for (uint64_t i = 0; i < old_slots; i++) {
		uint64_t j;

		if (!keys[i])
			continue;
		for (j = mix(keys[i]) & m->mask; m->keys[j]; j = (j + 1) & m->mask)
			;
		m->keys[j] = keys[i];
		m->ids[j] = ids[i];
	}
	free(keys);
	free(ids);
	return 0;
}

uint32_t idmap_get(struct idmap *m, uint64_t page)
{
	uint64_t key = page + 1, i;

	if (page == UINT64_MAX) {
		if (!m->has_max) {
			if (m->count == UINT32_MAX - 1)
				return UINT32_MAX;
			m->has_max = 1;
			m->max_id = m->count++;
		}
		return m->max_id;
	}
	for (i = mix(key) & m->mask; m->keys[i]; i = (i + 1) & m->mask)
		if (m->keys[i] == key)
			return m->ids[i];

	if (m->count == UINT32_MAX - 1)
		return UINT32_MAX;
	/* Keep the load under one half so probes stay short. */
	if ((uint64_t)(m->count + 1) * 2 > m->mask + 1) {
		if (grow(m) != 0)
			return UINT32_MAX;
		for (i = mix(key) & m->mask; m->keys[i]; i = (i + 1) & m->mask)
			;
	}
	m->keys[i] = key;
	m->ids[i] = m->count;
	return m->count++;
}
