// SPDX-License-Identifier: MIT
/*
 * LRU: evict the page whose last reference is the oldest. Exact, so it
 * needs to see every reference (hit()); under KVM it degrades to FIFO.
 * Definition and source: docs/policies.md#lru.
 */
#include <stdlib.h>

#include "../ilist.h"
#include "../pager.h"

/* node[f].prev of a frame that is not on the list (free or pinned). */
#define OFF_LIST (ILIST_NONE - 1)

struct lru {
	struct policy base;
	struct ilist order;   /* head: most recently used, tail: least */
	struct inode *node;   /* per frame */
};

static struct policy *lru_create(struct pager *p, const struct policy_params *params)
{
	struct lru *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->node = malloc(sizeof(*s->node) * p->nframes);
	if (!s->node) {
		free(s);
		return NULL;
	}
	for (uint32_t f = 0; f < p->nframes; f++)
		s->node[f].prev = OFF_LIST;
	ilist_init(&s->order);
	s->base.frame_hint = (struct policy_hint){ s->node, sizeof(*s->node) };
	s->base.victim_hint = &s->order.tail;
	return &s->base;
}

static void lru_destroy(struct policy *pol)
{
	struct lru *s = (struct lru *)pol;

	free(s->node);
	free(s);
}

static void lru_insert(struct policy *pol, frame_t f)
{
	struct lru *s = (struct lru *)pol;

	ilist_push_head(&s->order, s->node, f);
}

static void lru_hit(struct policy *pol, frame_t f)
{
	struct lru *s = (struct lru *)pol;

	/* The replayer reports references to pinned pages too; they are off
	 * the list until unpinned, and come back as new. */
	if (unlikely(s->node[f].prev == OFF_LIST))
		return;
	ilist_move_to_head(&s->order, s->node, f);
}

static void detach(struct lru *s, frame_t f)
{
	ilist_unlink(&s->order, s->node, f);
	s->node[f].prev = OFF_LIST;
}

static frame_t lru_victim(struct policy *pol, vpn_t incoming)
{
	struct lru *s = (struct lru *)pol;
	uint32_t f = s->order.tail;

	(void)incoming;
	if (f == ILIST_NONE)
		return NO_FRAME;
	detach(s, f);
	return f;
}

static void lru_remove(struct policy *pol, frame_t f)
{
	detach((struct lru *)pol, f);
}

static const struct policy_ops lru_ops = {
	.name = "lru",
	.summary = "least recently used: evict the page unreferenced the longest",
	.flags = POLICY_NEEDS_HITS,
	.create = lru_create,
	.destroy = lru_destroy,
	.insert = lru_insert,
	.hit = lru_hit,
	.victim = lru_victim,
	.remove = lru_remove,
};
POLICY_REGISTER(lru_ops);
