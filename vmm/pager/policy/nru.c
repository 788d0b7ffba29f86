// SPDX-License-Identifier: MIT
/*
 * NRU (not recently used): a clock interrupt every params.tick references
 * clears every referenced bit, and a fault evicts a page from the lowest
 * non-empty class of
 *	0: not referenced, clean      1: not referenced, modified
 *	2: referenced, clean          3: referenced, modified
 * where "referenced" means since the last tick and "modified" since the
 * page was brought in (the pager's sticky dirty bit: a write-back is the
 * only thing that cleans a page, and it comes with eviction).
 *
 * Within the class, the first frame found by a scan that starts just past
 * the previous victim, in frame-index order: deterministic, and the scan
 * stops at the first class-0 frame instead of visiting them all.
 * Works from reference and dirty bits alone: no hit().
 * Definition and source: docs/policies.md#nru.
 */
#include <stdlib.h>

#include "../pager.h"

/* struct nru.state[f] */
#define NRU_TRACKED    0x1u /* on our books: in use and not pinned */
#define NRU_REFERENCED 0x2u /* the MMU's bit, harvested since the last tick */

struct nru {
	struct policy base;
	uint8_t *state;   /* per frame */
	uint32_t ntracked;
	frame_t hand;     /* where the next scan starts */
};

static struct policy *nru_create(struct pager *p, const struct policy_params *params)
{
	struct nru *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->state = calloc(p->nframes, sizeof(*s->state));
	if (!s->state) {
		free(s);
		return NULL;
	}
	return &s->base;
}

static void nru_destroy(struct policy *pol)
{
	struct nru *s = (struct nru *)pol;

	free(s->state);
	free(s);
}

/* The MMU's referenced bit is set by the faulting access itself; the
 * harvested copy starts clear. */
static void nru_insert(struct policy *pol, frame_t f)
{
	struct nru *s = (struct nru *)pol;

	s->state[f] = NRU_TRACKED;
	s->ntracked++;
}

static void nru_remove(struct policy *pol, frame_t f)
{
	struct nru *s = (struct nru *)pol;

	s->state[f] = 0;
	s->ntracked--;
}

/*
 * The MMU's referenced bit can only be read by clearing it, and a victim
 * scan must not forget what it read: the bit is kept in state[] until the
 * next tick.
 */
static unsigned nru_class(struct nru *s, struct pager *p, frame_t f)
{
	if (!(s->state[f] & NRU_REFERENCED) && pager_referenced(p, f))
		s->state[f] |= NRU_REFERENCED;
	return (s->state[f] & NRU_REFERENCED ? 2u : 0u) + (pager_dirty(p, f) ? 1u : 0u);
}

static frame_t nru_victim(struct policy *pol, vpn_t incoming)
{
	struct nru *s = (struct nru *)pol;
	struct pager *p = pol->pager;
	uint32_t n = p->nframes;
	frame_t best = NO_FRAME, f = s->hand;
	unsigned best_class = 4;

	(void)incoming;
	if (s->ntracked == 0)
		return NO_FRAME;
	for (uint32_t i = 0; i < n && best_class > 0; i++) {
		if (s->state[f] & NRU_TRACKED) {
			unsigned c = nru_class(s, p, f);

			if (c < best_class) {
				best_class = c;
				best = f;
			}
		}
		f = f + 1 == n ? 0 : f + 1;
	}
	nru_remove(pol, best);
	s->hand = best + 1 == n ? 0 : best + 1;
	return best;
}

/* The clock interrupt: every page becomes "not referenced". */
static void nru_tick(struct policy *pol)
{
	struct nru *s = (struct nru *)pol;
	struct pager *p = pol->pager;

	for (frame_t f = 0; f < p->nframes; f++) {
		if (s->state[f] & NRU_TRACKED) {
			pager_referenced(p, f);
			s->state[f] &= (uint8_t)~NRU_REFERENCED;
		}
	}
}

static const struct policy_ops nru_ops = {
	.name = "nru",
	.summary = "not recently used: evict from the lowest (referenced, modified) class",
	.create = nru_create,
	.destroy = nru_destroy,
	.insert = nru_insert,
	.victim = nru_victim,
	.remove = nru_remove,
	.tick = nru_tick,
};
POLICY_REGISTER(nru_ops);
