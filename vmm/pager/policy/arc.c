// SPDX-License-Identifier: MIT
/*
 * ARC, the Adaptive Replacement Cache: two LRU lists of resident pages, T1
 * (referenced once since it came in) and T2 (referenced again), each
 * shadowed by a ghost LRU list of page numbers recently evicted from it, B1
 * and B2. A fault on a page in B1 says T1 was too small, one in B2 that T2
 * was: the target size p of T1 moves toward the list that would have hit.
 * Definition and source: docs/policies.md#arc.
 *
 * The pager asks for a victim before it hands over the incoming page, so
 * the paper's one step per miss is split in two: victim() does the
 * adaptation, the directory bookkeeping and REPLACE (it is told the
 * incoming page, which REPLACE needs); insert() files the page in T1 or T2.
 */
#include <stdlib.h>

#include "../ghost.h"
#include "../ilist.h"
#include "../pager.h"

enum arc_ghost { GHOST_B1 = GHOST_NONE + 1, GHOST_B2 };
enum arc_list { ON_NONE, ON_T1, ON_T2 };

struct arc {
	struct policy base;
	uint32_t c;              /* cache size: the pager's frames */
	double p;                /* target size of T1, in [0, c] */
	struct ilist t1, t2;     /* resident, by frame; head is MRU */
	struct ghost_dir ghosts; /* B1 and B2: ghost LRUs, by page; head is MRU */
	struct inode *fnode;     /* per frame: links in T1 or T2 */
	uint8_t *on;             /* per frame: enum arc_list */
	vpn_t adapted;           /* page whose ghost hit victim() has counted */
};

#define NO_VPN ((vpn_t)UINT32_MAX)

static inline struct arc *to_arc(struct policy *pol)
{
	return (struct arc *)pol;
}

static int arc_grow(struct policy *pol, uint32_t npages)
{
	struct arc *s = to_arc(pol);
	int rc = ghost_dir_grow(&s->ghosts, npages);

	/* A fault reads its page's ghost byte: the simulator prefetches it. */
	s->base.page_hint = (struct policy_hint){ s->ghosts.which, 1 };
	return rc;
}

static void arc_destroy(struct policy *pol)
{
	struct arc *s = to_arc(pol);

	free(s->fnode);
	free(s->on);
	ghost_dir_free(&s->ghosts);
	free(s);
}

static struct policy *arc_create(struct pager *p, const struct policy_params *params)
{
	struct arc *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->c = p->nframes;
	s->adapted = NO_VPN;
	ilist_init(&s->t1);
	ilist_init(&s->t2);
	s->fnode = malloc(sizeof(*s->fnode) * p->nframes);
	s->on = calloc(p->nframes, 1);
	if (ghost_dir_init(&s->ghosts, p->npages) != 0 || !s->fnode || !s->on) {
		arc_destroy(&s->base);
		return NULL;
	}
	s->base.page_hint = (struct policy_hint){ s->ghosts.which, 1 };
	s->base.frame_hint = (struct policy_hint){ s->fnode, sizeof(*s->fnode) };
	return &s->base;
}

static inline uint32_t b1_len(const struct arc *s)
{
	return ghost_len(&s->ghosts, GHOST_B1);
}

static inline uint32_t b2_len(const struct arc *s)
{
	return ghost_len(&s->ghosts, GHOST_B2);
}

/* A fault on a page remembered in B1 (or B2): grow (or shrink) T1's target
 * by the ratio of the ghost lists, at least 1 (the paper's delta1/delta2). */
static void adapt(struct arc *s, enum arc_ghost hit)
{
	double b1 = b1_len(s), b2 = b2_len(s);

	if (hit == GHOST_B1) {
		s->p += b1 >= b2 ? 1.0 : b2 / b1;
		if (s->p > s->c)
			s->p = s->c;
	} else {
		s->p -= b2 >= b1 ? 1.0 : b1 / b2;
		if (s->p < 0)
			s->p = 0;
	}
}

/* Take the LRU frame of T1 or T2 and remember its page in B1 or B2. */
static frame_t demote_lru(struct arc *s, struct ilist *t, enum arc_ghost to)
{
	frame_t f = ilist_pop_tail(t, s->fnode);

	s->on[f] = ON_NONE;
	ghost_push(&s->ghosts, to, s->base.pager->frames[f].vpn);
	return f;
}

/* The paper's REPLACE(x, p). T2 empty is possible only when pinning took
 * frames away; then T1 gives the victim whatever p says. */
static frame_t replace(struct arc *s, bool incoming_in_b2)
{
	double t1 = s->t1.len;

	if ((s->t1.len && ((incoming_in_b2 && t1 == s->p) || t1 > s->p)) || !s->t2.len)
		return demote_lru(s, &s->t1, GHOST_B1);
	return demote_lru(s, &s->t2, GHOST_B2);
}

static frame_t arc_victim(struct policy *pol, vpn_t incoming)
{
	struct arc *s = to_arc(pol);
	unsigned g = ghost_which(&s->ghosts, incoming);
	uint64_t total;
	frame_t f;

	if (!s->t1.len && !s->t2.len)
		return NO_FRAME;
	s->adapted = incoming;

	/* Cases II and III: the incoming page is a ghost. */
	if (g != GHOST_NONE) {
		adapt(s, g);
		return replace(s, g == GHOST_B2);
	}

	/* Case IV: a page with no history. Keep |T1| + |B1| <= c ... */
	if (s->t1.len + b1_len(s) >= s->c) {
		if (s->t1.len < s->c) {
			ghost_drop_oldest(&s->ghosts, GHOST_B1);
			return replace(s, false);
		}
		/* T1 fills the cache and B1 is empty: evict T1's LRU
		 * page without a ghost. */
		f = ilist_pop_tail(&s->t1, s->fnode);
		s->on[f] = ON_NONE;
		return f;
	}
	/* ... and the whole directory within 2c. */
	total = (uint64_t)s->t1.len + s->t2.len + b1_len(s) + b2_len(s);
	if (total >= 2 * (uint64_t)s->c)
		ghost_drop_oldest(&s->ghosts, GHOST_B2);
	return replace(s, false);
}

/* A page with no history arrives while a frame was free, so victim() did
 * not run: keep the directory bounds it would have kept. Only a shrunken
 * set of evictable frames (pinning) gets here with ghosts around. */
static void trim_directory(struct arc *s)
{
	uint64_t total = (uint64_t)s->t1.len + s->t2.len + b1_len(s) + b2_len(s);

	if (s->t1.len + b1_len(s) >= s->c && b1_len(s))
		ghost_drop_oldest(&s->ghosts, GHOST_B1);
	else if (total >= 2 * (uint64_t)s->c && b2_len(s))
		ghost_drop_oldest(&s->ghosts, GHOST_B2);
}

static void arc_insert(struct policy *pol, frame_t f)
{
	struct arc *s = to_arc(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;
	unsigned g = ghost_which(&s->ghosts, vpn);

	if (g != GHOST_NONE) {
		if (s->adapted != vpn)
			adapt(s, g);
		ghost_forget(&s->ghosts, vpn);
		s->on[f] = ON_T2;
		ilist_push_head(&s->t2, s->fnode, f);
	} else {
		if (s->adapted != vpn)
			trim_directory(s);
		s->on[f] = ON_T1;
		ilist_push_head(&s->t1, s->fnode, f);
	}
	s->adapted = NO_VPN;
}

static void arc_hit(struct policy *pol, frame_t f)
{
	struct arc *s = to_arc(pol);

	if (s->on[f] == ON_T2) {
		ilist_move_to_head(&s->t2, s->fnode, f);
	} else if (s->on[f] == ON_T1) {
		ilist_unlink(&s->t1, s->fnode, f);
		ilist_push_head(&s->t2, s->fnode, f);
		s->on[f] = ON_T2;
	}
	/* else: not ours (pinned), nothing to learn */
}

static void arc_remove(struct policy *pol, frame_t f)
{
	struct arc *s = to_arc(pol);

	ilist_unlink(s->on[f] == ON_T2 ? &s->t2 : &s->t1, s->fnode, f);
	s->on[f] = ON_NONE;
}

static const struct policy_ops arc_ops = {
	.name = "arc",
	.summary = "adaptive replacement cache: recency and frequency LRUs sized by ghost hits",
	.flags = POLICY_NEEDS_HITS,
	.create = arc_create,
	.destroy = arc_destroy,
	.insert = arc_insert,
	.hit = arc_hit,
	.victim = arc_victim,
	.remove = arc_remove,
	.grow = arc_grow,
};
POLICY_REGISTER(arc_ops);
