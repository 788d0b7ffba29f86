// SPDX-License-Identifier: MIT
/*
 * CLOCK (second chance): the frames stand in a circle in frame-index order
 * and a hand sweeps it. A referenced frame under the hand loses its bit and
 * is passed over; the first unreferenced one is the victim, and the hand
 * stops just past it, so the page brought into that frame is the last the
 * hand will see again. Works from reference bits alone: no hit().
 * Definition and source: docs/policies.md#clock.
 */
#include <stdlib.h>

#include "../pager.h"

struct clock {
	struct policy base;
	uint8_t *tracked;   /* per frame: on the circle (in use, not pinned) */
	uint32_t ntracked;
	frame_t hand;       /* the next frame to examine */
};

static struct policy *clock_create(struct pager *p, const struct policy_params *params)
{
	struct clock *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->tracked = calloc(p->nframes, sizeof(*s->tracked));
	if (!s->tracked) {
		free(s);
		return NULL;
	}
	s->base.victim_hint = &s->hand;
	return &s->base;
}

static void clock_destroy(struct policy *pol)
{
	struct clock *s = (struct clock *)pol;

	free(s->tracked);
	free(s);
}

/*
 * The page in f starts with its reference bit set: the simulated MMU's map()
 * sets it for the faulting access, as hardware does, and KVM's first access
 * after the mapping sets it too. The hand is not moved here (victim() has
 * already put it past the frame being refilled), so a page coming back from
 * being pinned does not make the hand skip the frames before it.
 */
static void clock_insert(struct policy *pol, frame_t f)
{
	struct clock *s = (struct clock *)pol;

	s->tracked[f] = 1;
	s->ntracked++;
}

static frame_t clock_victim(struct policy *pol, vpn_t incoming)
{
	struct clock *s = (struct clock *)pol;
	struct pager *p = pol->pager;
	uint32_t n = p->nframes;
	frame_t f = s->hand;

	(void)incoming;
	if (s->ntracked == 0)
		return NO_FRAME;
	/*
	 * One sweep clears every bit it passes, so the second sweep stops at
	 * the latest. The bound only matters if bits are set behind the hand
	 * while it turns (another vCPU running): then take the frame anyway
	 * rather than spin.
	 */
	for (uint64_t steps = 0;; steps++) {
		if (s->tracked[f] && (steps > 2 * (uint64_t)n || !pager_referenced(p, f)))
			break;
		f = f + 1 == n ? 0 : f + 1;
	}
	s->tracked[f] = 0;
	s->ntracked--;
	s->hand = f + 1 == n ? 0 : f + 1;
	return f;
}

static void clock_remove(struct policy *pol, frame_t f)
{
	struct clock *s = (struct clock *)pol;

	s->tracked[f] = 0;
	s->ntracked--;
}

static const struct policy_ops clock_ops = {
	.name = "clock",
	.summary = "second chance: a hand passes over referenced frames, clearing their bits",
	.create = clock_create,
	.destroy = clock_destroy,
	.insert = clock_insert,
	.victim = clock_victim,
	.remove = clock_remove,
};
POLICY_REGISTER(clock_ops);
