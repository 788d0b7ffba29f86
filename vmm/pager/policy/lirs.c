// SPDX-License-Identifier: MIT
/*
 * LIRS, Low Inter-reference Recency Set: a page's inter-reference recency
 * (IRR: distinct pages referenced between its last two references)
 * predicts its next one. Pages with low IRR (LIR) keep most of memory,
 * Llirs frames; the others (HIR) share the Lhirs frames left, and only
 * they are evicted.
 *
 * The stack S holds pages in recency order, LIR and HIR, resident or not,
 * and is pruned so that its bottom is always the LIR page of largest
 * recency: an HIR page referenced while still in S has an IRR below that
 * LIR page's recency, and the two swap status. The list Q holds the
 * resident HIR pages in eviction order. Definition and source:
 * docs/policies.md#lirs.
 */
#include <stdlib.h>

#include "../ilist.h"
#include "../pager.h"

/* The status in the low two bits of the per-page state. */
#define ST_NONE   0x0u  /* no history */
#define ST_LIR    0x1u  /* resident, low IRR */
#define ST_HIR    0x2u  /* resident, high IRR: on Q */
#define ST_NONRES 0x3u  /* evicted HIR page still in S: on the nonres list */
#define ST_STATUS 0x3u
#define ST_IN_S   0x4u

/* Non-resident entries kept in S, as a multiple of the frames. The paper
 * leaves S unbounded; a page evicted further back than this many frames'
 * worth of history is forgotten first. */
#define NONRES_PER_FRAME 2

struct lirs {
	struct policy base;
	uint32_t llirs;          /* frames for LIR pages */
	uint32_t nlir;           /* LIR pages now */
	uint64_t nonres_max;     /* non-resident entries kept in S */
	struct ilist stack;      /* S, by page; head is the top, tail the bottom */
	struct ilist q;          /* resident HIR pages, by page; tail is the front (next victim) */
	struct ilist nonres;     /* non-resident entries of S, by page, oldest at the tail */
	struct inode *snode;     /* per page: links in S */
	struct inode *qnode;     /* per page: links in Q or nonres (never both) */
	uint8_t *state;          /* per page: ST_* */
	uint32_t npages;
};

static inline struct lirs *to_lirs(struct policy *pol)
{
	return (struct lirs *)pol;
}

static int lirs_grow(struct policy *pol, uint32_t npages)
{
	struct lirs *s = to_lirs(pol);
	struct inode *snode, *qnode;
	uint8_t *state;

	if (npages <= s->npages)
		return 0;
	snode = realloc(s->snode, sizeof(*snode) * npages);
	if (!snode)
		return -1;
	s->snode = snode;
	qnode = realloc(s->qnode, sizeof(*qnode) * npages);
	if (!qnode)
		return -1;
	s->qnode = qnode;
	state = realloc(s->state, npages);
	if (!state)
		return -1;
	s->state = state;
	for (uint32_t i = s->npages; i < npages; i++)
		state[i] = ST_NONE;
	s->npages = npages;
	return 0;
}

static void lirs_destroy(struct policy *pol)
{
	struct lirs *s = to_lirs(pol);

	free(s->snode);
	free(s->qnode);
	free(s->state);
	free(s);
}

static struct policy *lirs_create(struct pager *p, const struct policy_params *params)
{
	struct lirs *s = calloc(1, sizeof(*s));
	uint32_t lhirs;

	(void)params;
	if (!s)
		return NULL;
	/* The paper's Lhirs: 1% of the frames, at least one so that there is
	 * always a frame for HIR pages to pass through. */
	lhirs = p->nframes / 100 ? p->nframes / 100 : 1;
	s->llirs = p->nframes - lhirs;
	s->nonres_max = (uint64_t)p->nframes * NONRES_PER_FRAME;
	ilist_init(&s->stack);
	ilist_init(&s->q);
	ilist_init(&s->nonres);
	if (lirs_grow(&s->base, p->npages) != 0) {
		lirs_destroy(&s->base);
		return NULL;
	}
	return &s->base;
}

static inline unsigned status(const struct lirs *s, vpn_t vpn)
{
	return s->state[vpn] & ST_STATUS;
}

/* Stack pruning: pop HIR entries off the bottom until an LIR page is
 * there. They have a recency above every LIR page's, so a reference to
 * them could not make them LIR: S need not remember them. */
static void prune(struct lirs *s)
{
	uint32_t v;

	while ((v = s->stack.tail) != ILIST_NONE && status(s, v) != ST_LIR) {
		ilist_unlink(&s->stack, s->snode, v);
		if (status(s, v) == ST_NONRES) {
			ilist_unlink(&s->nonres, s->qnode, v);
			s->state[v] = ST_NONE;
		} else {
			s->state[v] &= ~ST_IN_S;
		}
	}
}

/* The LIR page at the bottom of S becomes a resident HIR page at the end
 * of Q, and leaves S with the pruning that follows. */
static void demote_bottom(struct lirs *s)
{
	uint32_t b;

	prune(s);
	b = s->stack.tail;
	s->state[b] = ST_HIR | ST_IN_S;
	s->nlir--;
	ilist_push_head(&s->q, s->qnode, b);
	prune(s);
}

/* An HIR page referenced while in S becomes LIR, at the top of S; if
 * that makes one LIR page too many, the bottom one steps down. */
static void promote(struct lirs *s, vpn_t vpn)
{
	ilist_move_to_head(&s->stack, s->snode, vpn);
	s->state[vpn] = ST_LIR | ST_IN_S;
	if (++s->nlir > s->llirs)
		demote_bottom(s);
}

static void lirs_hit(struct policy *pol, frame_t f)
{
	struct lirs *s = to_lirs(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;

	if (status(s, vpn) == ST_LIR) {
		bool bottom = s->stack.tail == vpn;

		ilist_move_to_head(&s->stack, s->snode, vpn);
		if (bottom)
			prune(s);
	} else if (s->state[vpn] & ST_IN_S) {
		ilist_unlink(&s->q, s->qnode, vpn);
		promote(s, vpn);
	} else {
		/* Its last reference is too far back to compare: it stays
		 * HIR, goes to the top of S and to the end of Q. */
		ilist_push_head(&s->stack, s->snode, vpn);
		s->state[vpn] |= ST_IN_S;
		ilist_move_to_head(&s->q, s->qnode, vpn);
	}
}

static frame_t lirs_victim(struct policy *pol, vpn_t incoming)
{
	struct lirs *s = to_lirs(pol);
	vpn_t v;

	(void)incoming;
	if (!s->q.len) {
		/* Only when pinning took the HIR frames away: the LIR page
		 * of largest recency is the best candidate left. */
		if (!s->nlir)
			return NO_FRAME;
		demote_bottom(s);
	}
	v = ilist_pop_tail(&s->q, s->qnode);
	if (s->state[v] & ST_IN_S) {
		s->state[v] = ST_NONRES | ST_IN_S;
		ilist_push_head(&s->nonres, s->qnode, v);
	} else {
		s->state[v] = ST_NONE;
	}
	return pol->pager->pt[v].frame;
}

static void lirs_insert(struct policy *pol, frame_t f)
{
	struct lirs *s = to_lirs(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;

	if (status(s, vpn) == ST_NONRES) {
		ilist_unlink(&s->nonres, s->qnode, vpn);
		promote(s, vpn);
	} else {
		ilist_push_head(&s->stack, s->snode, vpn);
		if (s->nlir < s->llirs) {
			/* Filling up: the first Llirs pages are LIR. */
			s->state[vpn] = ST_LIR | ST_IN_S;
			s->nlir++;
		} else {
			s->state[vpn] = ST_HIR | ST_IN_S;
			ilist_push_head(&s->q, s->qnode, vpn);
		}
		prune(s);
	}

	/* Bound S: forget the entry that became non-resident first. It is
	 * never the bottom of S (an LIR page is), so S stays pruned. */
	while (s->nonres.len > s->nonres_max) {
		vpn_t v = ilist_pop_tail(&s->nonres, s->qnode);

		ilist_unlink(&s->stack, s->snode, v);
		s->state[v] = ST_NONE;
	}
}

static void lirs_remove(struct policy *pol, frame_t f)
{
	struct lirs *s = to_lirs(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;

	if (status(s, vpn) == ST_LIR) {
		bool bottom = s->stack.tail == vpn;

		ilist_unlink(&s->stack, s->snode, vpn);
		s->nlir--;
		if (bottom)
			prune(s);
	} else {
		ilist_unlink(&s->q, s->qnode, vpn);
		if (s->state[vpn] & ST_IN_S)
			ilist_unlink(&s->stack, s->snode, vpn);
	}
	s->state[vpn] = ST_NONE;
}

static const struct policy_ops lirs_ops = {
	.name = "lirs",
	.summary = "LIRS: keep pages of low inter-reference recency, evict from a small HIR set",
	.flags = POLICY_NEEDS_HITS,
	.create = lirs_create,
	.destroy = lirs_destroy,
	.insert = lirs_insert,
	.hit = lirs_hit,
	.victim = lirs_victim,
	.remove = lirs_remove,
	.grow = lirs_grow,
};
POLICY_REGISTER(lirs_ops);
