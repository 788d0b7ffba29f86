// SPDX-License-Identifier: MIT
/*
 * SIEVE: one FIFO queue and a hand. New pages enter at the head; the hand
 * walks from the tail toward the head, clearing the visited bit of each
 * page it passes and stopping at the first page not visited, which it
 * evicts. Unlike CLOCK the hand never moves a survivor to the head, so
 * pages that proved themselves stay behind the hand, old ones ahead of it,
 * and new ones are sifted out quickly. Definition and source:
 * docs/policies.md#sieve.
 *
 * The visited bit is the MMU's referenced bit, read and cleared through
 * pager_referenced(): SIEVE needs no hit() and works under KVM too.
 */
#include <stdlib.h>

#include "../ilist.h"
#include "../pager.h"

struct sieve {
	struct policy base;
	struct ilist queue;      /* by frame; head is newest, tail oldest */
	struct inode *node;      /* per frame */
	uint32_t hand;           /* next frame to examine; ILIST_NONE: the tail */
};

static inline struct sieve *to_sieve(struct policy *pol)
{
	return (struct sieve *)pol;
}

static struct policy *sieve_create(struct pager *p, const struct policy_params *params)
{
	struct sieve *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->node = malloc(sizeof(*s->node) * p->nframes);
	if (!s->node) {
		free(s);
		return NULL;
	}
	ilist_init(&s->queue);
	s->hand = ILIST_NONE;
	s->base.victim_hint = &s->hand;
	return &s->base;
}

static void sieve_destroy(struct policy *pol)
{
	struct sieve *s = to_sieve(pol);

	free(s->node);
	free(s);
}

static void sieve_insert(struct policy *pol, frame_t f)
{
	struct sieve *s = to_sieve(pol);

	ilist_push_head(&s->queue, s->node, f);
	/* SIEVE admits a page unvisited: forget the faulting access, which
	 * set the bit, so that only a later reference counts. */
	pager_referenced(pol->pager, f);
}

/* One step of the hand toward the head, wrapping to the tail. */
static uint32_t toward_head(const struct sieve *s, uint32_t f)
{
	uint32_t next = s->node[f].prev;

	return next != ILIST_NONE ? next : s->queue.tail;
}

static frame_t sieve_victim(struct policy *pol, vpn_t incoming)
{
	struct sieve *s = to_sieve(pol);
	uint32_t f;

	(void)incoming;
	if (!s->queue.len)
		return NO_FRAME;
	f = s->hand != ILIST_NONE ? s->hand : s->queue.tail;
	/* Each pass clears the bits it passes, so this ends within two
	 * laps: nothing sets a bit while the pager looks for a frame. */
	while (pager_referenced(pol->pager, f))
		f = toward_head(s, f);
	s->hand = s->node[f].prev;
	ilist_unlink(&s->queue, s->node, f);
	return f;
}

static void sieve_remove(struct policy *pol, frame_t f)
{
	struct sieve *s = to_sieve(pol);

	if (s->hand == f)
		s->hand = s->node[f].prev;
	ilist_unlink(&s->queue, s->node, f);
}

static const struct policy_ops sieve_ops = {
	.name = "sieve",
	.summary = "SIEVE: FIFO queue with a visited bit and a hand that never moves survivors",
	.create = sieve_create,
	.destroy = sieve_destroy,
	.insert = sieve_insert,
	.victim = sieve_victim,
	.remove = sieve_remove,
};
POLICY_REGISTER(sieve_ops);
