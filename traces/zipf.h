/* SPDX-License-Identifier: MIT */
/*
 * Drawing ranks from a Zipf distribution: P(rank k) proportional to
 * 1 / k^alpha for k = 1 .. n. Walker's alias method (in Vose's stable
 * construction): O(n) to build, then O(1) a draw, one cache line touched.
 */
#ifndef PFLAB_ZIPF_H
#define PFLAB_ZIPF_H

#include <stdint.h>

#include "rng.h"

struct zipf_cell {
	uint32_t threshold; /* keep this column when the coin is below it */
	uint32_t alias;     /* else take this one */
};

struct zipf {
	uint32_t n;
	struct zipf_cell *cells;
};

/* n >= 1, alpha >= 0. 0, or -1 when out of memory. */
int zipf_init(struct zipf *z, uint32_t n, double alpha);
void zipf_fini(struct zipf *z);

/* A rank minus one: 0 is the most popular. */
static inline uint32_t zipf_draw(const struct zipf *z, struct rng *r)
{
	uint64_t x = rng_next(r);
	uint32_t column = (uint32_t)(((x >> 32) * z->n) >> 32), coin = (uint32_t)x;
	const struct zipf_cell *c = &z->cells[column];

	return coin < c->threshold ? column : c->alias;
}

#endif /* PFLAB_ZIPF_H */
