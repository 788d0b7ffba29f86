// SPDX-License-Identifier: MIT
/*
 * WS: Denning's working set, exact. After the reference at time t the
 * resident set is W(t, tau), the pages referenced at times t - tau + 1 .. t
 * (tau = params.window), so a reference faults exactly when its page was
 * not referenced in the tau references before it. The resident set grows
 * and shrinks on its own: pages leaving the window are freed through
 * pager_reclaim().
 *
 * Should the working set outgrow the p->nframes frames, the fault that finds
 * no free frame evicts the least recently used page (the one closest to
 * leaving the window anyway).
 *
 * The frames are kept in order of last reference, so the pages leaving the
 * window are at the tail: O(1) amortized per reference. Exact only where
 * every reference is seen (hit()). Definition and source: docs/policies.md#ws.
 */
#include <errno.h>
#include <stdlib.h>

#include "../ilist.h"
#include "../pager.h"

/* node[f].prev of a frame that is not on the list (free or pinned). */
#define OFF_LIST (ILIST_NONE - 1)

struct ws {
	struct policy base;
	uint64_t window;
	struct ilist order;   /* head: most recently referenced */
	struct inode *node;   /* per frame */
	uint64_t *last_use;   /* per frame: time of the last reference */
};

static struct policy *ws_create(struct pager *p, const struct policy_params *params)
{
	struct ws *s;

	/* tau = 0 would free each page as soon as it is brought in. */
	if (params->window == 0) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->window = params->window;
	s->node = malloc(sizeof(*s->node) * p->nframes);
	s->last_use = malloc(sizeof(*s->last_use) * p->nframes);
	if (!s->node || !s->last_use) {
		free(s->node);
		free(s->last_use);
		free(s);
		return NULL;
	}
	for (uint32_t f = 0; f < p->nframes; f++)
		s->node[f].prev = OFF_LIST;
	ilist_init(&s->order);
	return &s->base;
}

static void ws_destroy(struct policy *pol)
{
	struct ws *s = (struct ws *)pol;

	free(s->node);
	free(s->last_use);
	free(s);
}

static void detach(struct ws *s, frame_t f)
{
	ilist_unlink(&s->order, s->node, f);
	s->node[f].prev = OFF_LIST;
}

/* Free the pages whose last reference fell out of the window with this one:
 * those last referenced at now - tau or before. */
static void trim(struct ws *s)
{
	struct pager *p = s->base.pager;
	uint32_t f;

	if (p->now < s->window)
		return;
	while ((f = s->order.tail) != ILIST_NONE && s->last_use[f] <= p->now - s->window) {
		detach(s, f);
		if (pager_reclaim(p, f) != 0) {
			/* The write-back failed and the page stays: keep it,
			 * and try again after the next reference. */
			ilist_push_tail(&s->order, s->node, f);
			break;
		}
	}
}

static void ws_insert(struct policy *pol, frame_t f)
{
	struct ws *s = (struct ws *)pol;

	s->last_use[f] = pol->pager->now;
	ilist_push_head(&s->order, s->node, f);
	trim(s);
}

static void ws_hit(struct policy *pol, frame_t f)
{
	struct ws *s = (struct ws *)pol;

	/* A pinned page's references are reported too; it is off the list. */
	if (likely(s->node[f].prev != OFF_LIST)) {
		s->last_use[f] = pol->pager->now;
		ilist_move_to_head(&s->order, s->node, f);
	}
	trim(s);
}

static frame_t ws_victim(struct policy *pol, vpn_t incoming)
{
	struct ws *s = (struct ws *)pol;
	uint32_t f = s->order.tail;

	(void)incoming;
	if (f == ILIST_NONE)
		return NO_FRAME;
	detach(s, f);
	return f;
}

static void ws_remove(struct policy *pol, frame_t f)
{
	detach((struct ws *)pol, f);
}

static const struct policy_ops ws_ops = {
	.name = "ws",
	.summary = "Denning's working set: keep the pages referenced in the last tau references",
	.flags = POLICY_VARIABLE | POLICY_NEEDS_HITS,
	.create = ws_create,
	.destroy = ws_destroy,
	.insert = ws_insert,
	.hit = ws_hit,
	.victim = ws_victim,
	.remove = ws_remove,
};
POLICY_REGISTER(ws_ops);
