/* SPDX-License-Identifier: MIT */
/*
 * Drawing ranks from a Zipf distribution: P(rank k) proportional to
 * 1 / k^alpha for k = 1 .. n. Two samplers, chosen by zipf_init from n and
 * the number of draws the caller will make:
 *
 *   table  Walker's alias method (in Vose's stable construction): O(n)
 *          memory and time to build, then O(1) a draw, one cache line
 *          touched. Used while the table is small beside the draws (n at
 *          most ZIPF_TABLE_PER_DRAW per draw, and at most ZIPF_TABLE_MAX):
 *          every trace pflab generated before the second sampler existed
 *          is drawn this way, so their sequences are unchanged.
 *   rejection-inversion  (Hörmann and Derflinger 1996): O(1) memory, a few
 *          logarithms a draw. Used above those bounds, so that a flag
 *          (--pages) never sizes an allocation the draws do not need.
 */
#ifndef PFLAB_ZIPF_H
#define PFLAB_ZIPF_H

#include <stdint.h>

#include "rng.h"

#define ZIPF_TABLE_PER_DRAW 16u        /* table entries allowed per draw */
#define ZIPF_TABLE_MAX (1u << 22)      /* and at most this many (80 MiB to build) */

struct zipf_cell {
	uint32_t threshold; /* keep this column when the coin is below it */
	uint32_t alias;     /* else take this one */
};

struct zipf {
	uint32_t n;              /* 0: not initialised */
	struct zipf_cell *cells; /* the alias table, or NULL: rejection-inversion */
	/* rejection-inversion: the exponent, H(1.5) - 1, H(n + 0.5) and s */
	double alpha, h_x1, h_n, s;
};

/*
 * n >= 1, alpha >= 0; draws: how many the caller will make (it chooses the
 * sampler, never the distribution). 0, or -1 when out of memory.
 */
int zipf_init(struct zipf *z, uint32_t n, double alpha, uint64_t draws);
void zipf_fini(struct zipf *z);

/* Rejection-inversion's draw (zipf.c). */
uint32_t zipf_draw_ri(const struct zipf *z, struct rng *r);

/* A rank minus one: 0 is the most popular. */
static inline uint32_t zipf_draw(const struct zipf *z, struct rng *r)
{
	uint64_t x;
	uint32_t column, coin;
	const struct zipf_cell *c;

	if (!z->cells)
		return zipf_draw_ri(z, r);
	x = rng_next(r);
	column = (uint32_t)(((x >> 32) * z->n) >> 32);
	coin = (uint32_t)x;
	c = &z->cells[column];
	return coin < c->threshold ? column : c->alias;
}

#endif /* PFLAB_ZIPF_H */
