// SPDX-License-Identifier: MIT
/* The alias table of a Zipf distribution: see zipf.h. */
#include "zipf.h"

#include <math.h>
#include <stdlib.h>

/* A probability as a 32-bit coin threshold, rounding error clamped. */
static uint32_t to_threshold(double p)
{
	double t = p * 4294967296.0;

	if (t <= 0)
		return 0;
	return t >= 4294967295.0 ? UINT32_MAX : (uint32_t)t;
}

int zipf_init(struct zipf *z, uint32_t n, double alpha)
{
	double *p = malloc(sizeof(*p) * n), sum = 0;
	/* Columns below 1 fill from the front, the others from the back. */
	uint32_t *work = malloc(sizeof(*work) * n), nsmall = 0, nlarge = 0;

	z->n = n;
	z->cells = malloc(sizeof(*z->cells) * n);
	if (!p || !work || !z->cells) {
		free(p);
		free(work);
		zipf_fini(z);
		return -1;
	}
	/* Sum the smallest terms first, for accuracy. */
	for (uint32_t k = n; k >= 1; k--) {
		p[k - 1] = pow((double)k, -alpha);
		sum += p[k - 1];
	}
	for (uint32_t i = 0; i < n; i++) {
		p[i] = p[i] * n / sum;
		if (p[i] < 1.0)
			work[nsmall++] = i;
		else
			work[n - 1 - nlarge++] = i;
	}
	while (nsmall && nlarge) {
		uint32_t s = work[--nsmall], l = work[n - nlarge];

		z->cells[s].threshold = to_threshold(p[s]);
		z->cells[s].alias = l;
		p[l] -= 1.0 - p[s];
		if (p[l] < 1.0) {
			/* l moves from the large list to the small one. */
			nlarge--;
			work[nsmall++] = l;
		}
	}
	/*
	 * What is left has probability 1 up to rounding: such a column
	 * aliases itself, so the coin does not matter.
	 */
	while (nsmall) {
		uint32_t s = work[--nsmall];

		z->cells[s] = (struct zipf_cell){ UINT32_MAX, s };
	}
	while (nlarge) {
		uint32_t l = work[n - nlarge--];

		z->cells[l] = (struct zipf_cell){ UINT32_MAX, l };
	}
	free(p);
	free(work);
	return 0;
}

void zipf_fini(struct zipf *z)
{
	free(z->cells);
	z->cells = NULL;
	z->n = 0;
}
