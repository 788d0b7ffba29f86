// SPDX-License-Identifier: MIT
/*
 * RANDOM: evict a frame chosen uniformly among the evictable ones, from a
 * seeded generator, so that a run is reproducible. The baseline any policy
 * with a model of locality should beat. Needs no reference information.
 * Definition and source: docs/policies.md#random.
 */
#include <stdlib.h>

#include "../pager.h"

/*
 * xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number
 * generators", 2018), its state filled from the seed by splitmix64 as its
 * authors recommend, so that nearby seeds give unrelated streams.
 */
struct xoshiro {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static void xoshiro_seed(struct xoshiro *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t xoshiro_next(struct xoshiro *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/*
 * The generator's outputs, one drawn ahead: the stream is the same, and the
 * next output is known before the fault that uses it, so that the frame it
 * will pick can be named in advance (victim_hint).
 */
struct draws {
	struct xoshiro rng;
	uint64_t ahead;   /* the next output */
};

static uint64_t draw(struct draws *d)
{
	uint64_t out = d->ahead;

	d->ahead = xoshiro_next(&d->rng);
	return out;
}

/* Uniform in [0, n), n > 0: multiply-and-shift with rejection of the few
 * values that would make small results likelier (Lemire 2019). */
static uint32_t draw_below(struct draws *d, uint32_t n)
{
	uint64_t m = (draw(d) >> 32) * n;

	if ((uint32_t)m < n) {
		uint32_t floor = (uint32_t)-n % n;

		while ((uint32_t)m < floor)
			m = (draw(d) >> 32) * n;
	}
	return (uint32_t)(m >> 32);
}

#define NOT_HELD UINT32_MAX

struct random_policy {
	struct policy base;
	struct draws rng;
	frame_t *held;    /* the evictable frames, in no order, [0, nheld) */
	uint32_t *slot;   /* per frame: its index in held, or NOT_HELD */
	uint32_t nheld;
	frame_t next;     /* the frame the next output picks among held (the
			     rare rejected output aside): victim_hint */
};

/* Name the frame the next victim() will likely pick, now that held is what
 * it will be then (hits do not change it). */
static void foresee(struct random_policy *s)
{
	s->next = s->nheld ? s->held[((s->rng.ahead >> 32) * s->nheld) >> 32] : NO_FRAME;
}

static struct policy *random_create(struct pager *p, const struct policy_params *params)
{
	struct random_policy *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->held = malloc(sizeof(*s->held) * p->nframes);
	s->slot = malloc(sizeof(*s->slot) * p->nframes);
	if (!s->held || !s->slot) {
		free(s->held);
		free(s->slot);
		free(s);
		return NULL;
	}
	for (uint32_t f = 0; f < p->nframes; f++)
		s->slot[f] = NOT_HELD;
	xoshiro_seed(&s->rng.rng, params->seed);
	s->rng.ahead = xoshiro_next(&s->rng.rng);
	s->next = NO_FRAME;
	s->base.victim_hint = &s->next;
	return &s->base;
}

static void random_destroy(struct policy *pol)
{
	struct random_policy *s = (struct random_policy *)pol;

	free(s->held);
	free(s->slot);
	free(s);
}

static void random_insert(struct policy *pol, frame_t f)
{
	struct random_policy *s = (struct random_policy *)pol;

	s->slot[f] = s->nheld;
	s->held[s->nheld++] = f;
	foresee(s);
}

/* Take f out in O(1): the last held frame moves into its slot. */
static void random_remove(struct policy *pol, frame_t f)
{
	struct random_policy *s = (struct random_policy *)pol;
	uint32_t i = s->slot[f];
	frame_t last = s->held[--s->nheld];

	s->held[i] = last;
	s->slot[last] = i;
	s->slot[f] = NOT_HELD;
}

static frame_t random_victim(struct policy *pol, vpn_t incoming)
{
	struct random_policy *s = (struct random_policy *)pol;
	frame_t f;

	(void)incoming;
	if (s->nheld == 0)
		return NO_FRAME;
	f = s->held[draw_below(&s->rng, s->nheld)];
	random_remove(pol, f);
	return f;
}

static const struct policy_ops random_ops = {
	.name = "random",
	.summary = "evict a uniformly random evictable page (seeded, reproducible)",
	.create = random_create,
	.destroy = random_destroy,
	.insert = random_insert,
	.victim = random_victim,
	.remove = random_remove,
};
POLICY_REGISTER(random_ops);
