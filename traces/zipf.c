// SPDX-License-Identifier: MIT
/*
 * Zipf draws: the alias table (Walker; Vose's construction), and
 * rejection-inversion for a discrete distribution of decreasing
 * probabilities, from W. Hörmann and G. Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", ACM TOMACS 6(3),
 * 1996, pp. 169-184, in the form Apache Commons RNG's
 * RejectionInversionZipfSampler gives it. See zipf.h for which is used.
 */
#include "zipf.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

/* A probability as a 32-bit coin threshold, rounding error clamped. */
static uint32_t to_threshold(double p)
{
	double t = p * 4294967296.0;

	if (t <= 0)
		return 0;
	return t >= 4294967295.0 ? UINT32_MAX : (uint32_t)t;
}

/* ---- rejection-inversion ------------------------------------------------ */

/* log1p(x) / x, and its series near 0 where the quotient loses digits. */
static double helper1(double x)
{
	return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

/* expm1(x) / x, likewise. */
static double helper2(double x)
{
	return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}

/* h(x) = x^-alpha, the density that dominates the probabilities. */
static double h(const struct zipf *z, double x)
{
	return exp(-z->alpha * log(x));
}

/* H(x) = (x^(1-alpha) - 1) / (1 - alpha), log x at alpha 1: h's integral. */
static double h_integral(const struct zipf *z, double x)
{
	double log_x = log(x);

	return helper2((1 - z->alpha) * log_x) * log_x;
}

/* H's inverse. */
static double h_integral_inverse(const struct zipf *z, double x)
{
	double t = x * (1 - z->alpha);

	if (t < -1)
		t = -1; /* rounding: H(x) never goes below -1 / (1 - alpha) */
	return exp(helper1(t) * x);
}

static void ri_init(struct zipf *z, uint32_t n, double alpha)
{
	z->n = n;
	z->cells = NULL;
	z->alpha = alpha;
	z->h_x1 = h_integral(z, 1.5) - 1;
	z->h_n = h_integral(z, n + 0.5);
	z->s = 2 - h_integral_inverse(z, h_integral(z, 2.5) - h(z, 2));
}

/*
 * Draw u uniformly between H(n + 1/2) and H(3/2) - 1, invert H, round to
 * the nearest rank k; accept k when it is inside the squeeze s, or when u
 * falls under k's own strip (H(k + 1/2) - h(k)). The acceptance rate is
 * high for every alpha: a draw takes about one rng value.
 */
uint32_t zipf_draw_ri(const struct zipf *z, struct rng *r)
{
	for (;;) {
		double u = z->h_n + rng_unit(r) * (z->h_x1 - z->h_n);
		double x = h_integral_inverse(z, u), k = floor(x + 0.5);

		if (k < 1)
			k = 1;
		else if (k > z->n)
			k = z->n;
		if (k - x <= z->s || u >= h_integral(z, k + 0.5) - h(z, k))
			return (uint32_t)k - 1;
	}
}

/* ---- the alias table ------------------------------------------------------ */

/* n <= ZIPF_TABLE_MAX and n <= ZIPF_TABLE_PER_DRAW * draws (without overflow). */
static bool use_table(uint32_t n, uint64_t draws)
{
	return n <= ZIPF_TABLE_MAX &&
	       draws >= ((uint64_t)n + ZIPF_TABLE_PER_DRAW - 1) / ZIPF_TABLE_PER_DRAW;
}

int zipf_init(struct zipf *z, uint32_t n, double alpha, uint64_t draws)
{
	double *p, sum = 0;
	/* Columns below 1 fill from the front, the others from the back. */
	uint32_t *work, nsmall = 0, nlarge = 0;

	if (!use_table(n, draws)) {
		ri_init(z, n, alpha);
		return 0;
	}
	p = malloc(sizeof(*p) * n);
	work = malloc(sizeof(*work) * n);
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
