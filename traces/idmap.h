/* SPDX-License-Identifier: MIT */
/*
 * Renames 64-bit page ids to dense numbers 0, 1, 2, ... in order of first
 * appearance: an open-addressing hash table with linear probing. Memory is
 * proportional to the number of distinct pages.
 */
#ifndef PFLAB_IDMAP_H
#define PFLAB_IDMAP_H

#include <stdint.h>

struct idmap {
	uint64_t *keys;   /* key + 1; 0 marks an empty slot */
	uint32_t *ids;
	uint64_t mask;    /* slots - 1 */
	uint32_t count;   /* distinct ids handed out */
	int has_max;      /* UINT64_MAX, which key + 1 cannot hold, was seen */
	uint32_t max_id;
};

int idmap_init(struct idmap *m);
void idmap_fini(struct idmap *m);

/* The dense id of page, assigning the next one to a new page.
 * Returns UINT32_MAX when out of memory or out of ids. */
uint32_t idmap_get(struct idmap *m, uint64_t page);

#endif /* PFLAB_IDMAP_H */
