// SPDX-License-Identifier: MIT
/*
 * 2Q, the full version: a new page goes to A1in, a FIFO of at most Kin
 * pages; a page pushed out of A1in leaves its number in A1out, a FIFO of
 * Kout ghosts; a fault on a page remembered in A1out proves a second
 * reference far enough from the first, and the page goes to Am, an LRU.
 * Hits in A1in change nothing: correlated references right after the first
 * do not make a page hot. Definition and source: docs/policies.md#2q.
 */
#include <stdlib.h>

#include "../ghost.h"
#include "../ilist.h"
#include "../pager.h"

enum twoq_list { ON_NONE, ON_A1IN, ON_AM };

#define GHOST_A1OUT (GHOST_NONE + 1) /* the one ghost list */

struct twoq {
	struct policy base;
	uint32_t kin;            /* A1in may hold more than this before it gives a victim */
	uint32_t kout;           /* ghosts kept in A1out */
	struct ilist a1in;       /* FIFO, by frame; head is newest */
	struct ilist am;         /* LRU, by frame; head is MRU */
	struct ghost_dir ghosts; /* A1out: a FIFO of ghosts, by page */
	struct inode *fnode;     /* per frame: links in A1in or Am */
	uint8_t *on;             /* per frame: enum twoq_list */
	vpn_t promote;           /* incoming page victim() found in A1out */
};

#define NO_VPN ((vpn_t)UINT32_MAX)

static inline struct twoq *to_twoq(struct policy *pol)
{
	return (struct twoq *)pol;
}

static int twoq_grow(struct policy *pol, uint32_t npages)
{
	struct twoq *s = to_twoq(pol);
	int rc = ghost_dir_grow(&s->ghosts, npages);

	/* A fault reads its page's ghost byte: the simulator prefetches it. */
	s->base.page_hint = (struct policy_hint){ s->ghosts.which, 1 };
	return rc;
}

static void twoq_destroy(struct policy *pol)
{
	struct twoq *s = to_twoq(pol);

	free(s->fnode);
	free(s->on);
	ghost_dir_free(&s->ghosts);
	free(s);
}

static struct policy *twoq_create(struct pager *p, const struct policy_params *params)
{
	struct twoq *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	/* The paper's recommended sizes: Kin 25% of the buffer, Kout as
	 * many ghosts as half the buffer has frames; both at least 1 so
	 * that tiny memories still have both queues. */
	s->kin = p->nframes / 4 ? p->nframes / 4 : 1;
	s->kout = p->nframes / 2 ? p->nframes / 2 : 1;
	s->promote = NO_VPN;
	ilist_init(&s->a1in);
	ilist_init(&s->am);
	s->fnode = malloc(sizeof(*s->fnode) * p->nframes);
	s->on = calloc(p->nframes, 1);
	if (ghost_dir_init(&s->ghosts, p->npages) != 0 || !s->fnode || !s->on) {
		twoq_destroy(&s->base);
		return NULL;
	}
	s->base.page_hint = (struct policy_hint){ s->ghosts.which, 1 };
	s->base.frame_hint = (struct policy_hint){ s->fnode, sizeof(*s->fnode) };
	return &s->base;
}

/* The paper's reclaimfor(): A1in gives the victim when it holds more than
 * Kin pages (or Am has none), and its page is remembered in A1out; else
 * the LRU page of Am goes, unremembered: it has been idle a long time. */
static frame_t twoq_victim(struct policy *pol, vpn_t incoming)
{
	struct twoq *s = to_twoq(pol);
	frame_t f;

	if (!s->a1in.len && !s->am.len)
		return NO_FRAME;
	/* The paper decides where the page goes before reclaiming, and
	 * reclaiming may push it out of A1out: note it now. */
	s->promote = ghost_which(&s->ghosts, incoming) == GHOST_A1OUT ? incoming : NO_VPN;

	if (s->a1in.len > s->kin || !s->am.len) {
		vpn_t vpn;

		f = ilist_pop_tail(&s->a1in, s->fnode);
		s->on[f] = ON_NONE;
		vpn = pol->pager->frames[f].vpn;
		ghost_push(&s->ghosts, GHOST_A1OUT, vpn);
		if (ghost_len(&s->ghosts, GHOST_A1OUT) > s->kout)
			ghost_drop_oldest(&s->ghosts, GHOST_A1OUT);
		return f;
	}
	f = ilist_pop_tail(&s->am, s->fnode);
	s->on[f] = ON_NONE;
	return f;
}

static void twoq_insert(struct policy *pol, frame_t f)
{
	struct twoq *s = to_twoq(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;
	bool in_a1out = ghost_which(&s->ghosts, vpn) == GHOST_A1OUT;

	if (in_a1out || s->promote == vpn) {
		if (in_a1out)
			ghost_forget(&s->ghosts, vpn);
		s->on[f] = ON_AM;
		ilist_push_head(&s->am, s->fnode, f);
	} else {
		s->on[f] = ON_A1IN;
		ilist_push_head(&s->a1in, s->fnode, f);
	}
	s->promote = NO_VPN;
}

static void twoq_hit(struct policy *pol, frame_t f)
{
	struct twoq *s = to_twoq(pol);

	/* A hit in A1in changes nothing; neither does one on a frame that
	 * is not ours (pinned). */
	if (s->on[f] == ON_AM)
		ilist_move_to_head(&s->am, s->fnode, f);
}

static void twoq_remove(struct policy *pol, frame_t f)
{
	struct twoq *s = to_twoq(pol);

	ilist_unlink(s->on[f] == ON_AM ? &s->am : &s->a1in, s->fnode, f);
	s->on[f] = ON_NONE;
}

static const struct policy_ops twoq_ops = {
	.name = "2q",
	.summary = "2Q: FIFO probation (A1in), ghost FIFO (A1out), LRU for pages referenced again (Am)",
	.flags = POLICY_NEEDS_HITS,
	.create = twoq_create,
	.destroy = twoq_destroy,
	.insert = twoq_insert,
	.hit = twoq_hit,
	.victim = twoq_victim,
	.remove = twoq_remove,
	.grow = twoq_grow,
};
POLICY_REGISTER(twoq_ops);
