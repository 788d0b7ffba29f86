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
 *
 * Layout, for speed: a hit must touch only memory proportional to the
 * frames, not to the pages. So S links frames (resident pages) and ghost
 * slots (its non-resident entries, a pool of nonres_max + 1) in one node
 * array: index f < nframes is frame f, index nframes + k is slot k. An
 * evicted page still in S hands its place in S to a slot; the per-page
 * array slot_of is read only on a fault.
 */
#include <errno.h>
#include <stdlib.h>

#include "../ilist.h"
#include "../pager.h"

/* Per-frame state: the status in the low two bits. */
#define ST_NONE   0x0u  /* not ours: free, pinned */
#define ST_LIR    0x1u
#define ST_HIR    0x2u  /* resident HIR: on Q */
#define ST_STATUS 0x3u
#define ST_IN_S   0x4u

#define NO_SLOT UINT32_MAX

/* Non-resident entries kept in S, as a multiple of the frames. The paper
 * leaves S unbounded; a page evicted further back than this many frames'
 * worth of history is forgotten first. */
#define NONRES_PER_FRAME 2

struct lirs {
	struct policy base;
	uint32_t nframes;
	uint32_t llirs;          /* frames for LIR pages */
	uint32_t nlir;           /* LIR pages now */
	uint32_t nonres_max;     /* non-resident entries kept in S */
	struct ilist stack;      /* S: frames and slots; head is the top, tail the bottom */
	struct ilist q;          /* resident HIR pages, by frame; tail is the front (next victim) */
	struct ilist nonres;     /* slots in use, by slot number, oldest at the tail */
	struct inode *snode;     /* per frame, then per slot: links in S */
	struct inode *qnode;     /* per frame: links in Q */
	struct inode *nnode;     /* per slot: links in nonres */
	uint8_t *fstate;         /* per frame: ST_* */
	vpn_t *slot_vpn;         /* per slot: the page it stands for */
	uint32_t *free_slot;     /* stack of free slots */
	uint32_t nfree_slots;
	uint32_t *slot_of;       /* per page: its slot, or NO_SLOT */
	uint32_t npages;
};

static inline struct lirs *to_lirs(struct policy *pol)
{
	return (struct lirs *)pol;
}

static int lirs_grow(struct policy *pol, uint32_t npages)
{
	struct lirs *s = to_lirs(pol);
	uint32_t *slot_of;

	if (npages <= s->npages)
		return 0;
	slot_of = realloc(s->slot_of, sizeof(*slot_of) * npages);
	if (!slot_of)
		return -1;
	for (uint32_t i = s->npages; i < npages; i++)
		slot_of[i] = NO_SLOT;
	s->slot_of = slot_of;
	s->npages = npages;
	/* A fault reads its page's slot: the simulator prefetches it. */
	s->base.page_hint = (struct policy_hint){ s->slot_of, sizeof(*s->slot_of) };
	return 0;
}

static void lirs_destroy(struct policy *pol)
{
	struct lirs *s = to_lirs(pol);

	free(s->snode);
	free(s->qnode);
	free(s->nnode);
	free(s->fstate);
	free(s->slot_vpn);
	free(s->free_slot);
	free(s->slot_of);
	free(s);
}

static struct policy *lirs_create(struct pager *p, const struct policy_params *params)
{
	struct lirs *s = calloc(1, sizeof(*s));
	uint32_t lhirs, nslots;

	(void)params;
	if (!s)
		return NULL;
	/* Frames, then slots, must number below ILIST_NONE. */
	if ((uint64_t)p->nframes * (NONRES_PER_FRAME + 1) + 1 >= ILIST_NONE) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	/* The paper's Lhirs: 1% of the frames, at least one so that there is
	 * always a frame for HIR pages to pass through. */
	lhirs = p->nframes / 100 ? p->nframes / 100 : 1;
	s->nframes = p->nframes;
	s->llirs = p->nframes - lhirs;
	s->nonres_max = p->nframes * NONRES_PER_FRAME;
	/* One more than kept: victim() makes an entry non-resident before
	 * insert() trims S back to nonres_max. */
	nslots = s->nonres_max + 1;
	ilist_init(&s->stack);
	ilist_init(&s->q);
	ilist_init(&s->nonres);
	s->snode = malloc(sizeof(*s->snode) * ((size_t)p->nframes + nslots));
	s->qnode = malloc(sizeof(*s->qnode) * p->nframes);
	s->nnode = malloc(sizeof(*s->nnode) * nslots);
	s->fstate = calloc(p->nframes, 1);
	s->slot_vpn = malloc(sizeof(*s->slot_vpn) * nslots);
	s->free_slot = malloc(sizeof(*s->free_slot) * nslots);
	if (!s->snode || !s->qnode || !s->nnode || !s->fstate || !s->slot_vpn ||
	    !s->free_slot || lirs_grow(&s->base, p->npages) != 0) {
		lirs_destroy(&s->base);
		return NULL;
	}
	for (uint32_t k = 0; k < nslots; k++)
		s->free_slot[k] = nslots - 1 - k;
	s->nfree_slots = nslots;
	s->base.frame_hint = (struct policy_hint){ s->snode, sizeof(*s->snode) };
	return &s->base;
}

static inline bool is_frame(const struct lirs *s, uint32_t i)
{
	return i < s->nframes;
}

/* A non-resident entry leaves S for good: its page is forgotten. */
static void forget_slot(struct lirs *s, uint32_t k)
{
	ilist_unlink(&s->nonres, s->nnode, k);
	s->slot_of[s->slot_vpn[k]] = NO_SLOT;
	s->free_slot[s->nfree_slots++] = k;
}

/* Stack pruning: pop HIR entries off the bottom until an LIR page is
 * there. They have a recency above every LIR page's, so a reference to
 * them could not make them LIR: S need not remember them. */
static void prune(struct lirs *s)
{
	uint32_t i;

	while ((i = s->stack.tail) != ILIST_NONE) {
		if (is_frame(s, i)) {
			if ((s->fstate[i] & ST_STATUS) == ST_LIR)
				return;
			ilist_unlink(&s->stack, s->snode, i);
			s->fstate[i] &= ~ST_IN_S;
		} else {
			ilist_unlink(&s->stack, s->snode, i);
			forget_slot(s, i - s->nframes);
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
	s->fstate[b] = ST_HIR | ST_IN_S;
	s->nlir--;
	ilist_push_head(&s->q, s->qnode, b);
	prune(s);
}

/* Frame f, at the top of S, is LIR now; if that makes one LIR page too
 * many, the bottom one steps down. */
static void now_lir(struct lirs *s, frame_t f)
{
	s->fstate[f] = ST_LIR | ST_IN_S;
	if (++s->nlir > s->llirs)
		demote_bottom(s);
}

static void lirs_hit(struct policy *pol, frame_t f)
{
	struct lirs *s = to_lirs(pol);
	unsigned st = s->fstate[f];

	if ((st & ST_STATUS) == ST_LIR) {
		bool bottom = s->stack.tail == f;

		ilist_move_to_head(&s->stack, s->snode, f);
		if (bottom)
			prune(s);
	} else if ((st & ST_STATUS) != ST_HIR) {
		return;  /* not ours (pinned) */
	} else if (st & ST_IN_S) {
		/* Its IRR is below the bottom LIR page's recency. */
		ilist_unlink(&s->q, s->qnode, f);
		ilist_move_to_head(&s->stack, s->snode, f);
		now_lir(s, f);
	} else {
		/* Its last reference is too far back to compare: it stays
		 * HIR, goes to the top of S and to the end of Q. */
		ilist_push_head(&s->stack, s->snode, f);
		s->fstate[f] |= ST_IN_S;
		ilist_move_to_head(&s->q, s->qnode, f);
	}
}

static frame_t lirs_victim(struct policy *pol, vpn_t incoming)
{
	struct lirs *s = to_lirs(pol);
	frame_t f;

	(void)incoming;
	if (!s->q.len) {
		/* Only when pinning took the HIR frames away: the LIR page
		 * of largest recency is the best candidate left. */
		if (!s->nlir)
			return NO_FRAME;
		demote_bottom(s);
	}
	f = ilist_pop_tail(&s->q, s->qnode);
	if (s->fstate[f] & ST_IN_S) {
		/* It stays in S, non-resident: a slot takes its place. */
		struct inode *n = s->snode;
		vpn_t vpn = pol->pager->frames[f].vpn;
		uint32_t k, g;

		if (!s->nfree_slots) {
			/* Two victims without an insert between (a failed
			 * write-back): make room as insert() would have. */
			k = s->nonres.tail;
			ilist_unlink(&s->stack, n, s->nframes + k);
			forget_slot(s, k);
		}
		k = s->free_slot[--s->nfree_slots];
		g = s->nframes + k;
		n[g] = n[f];
		if (n[g].prev != ILIST_NONE)
			n[n[g].prev].next = g;
		else
			s->stack.head = g;
		if (n[g].next != ILIST_NONE)
			n[n[g].next].prev = g;
		else
			s->stack.tail = g;
		s->slot_vpn[k] = vpn;
		s->slot_of[vpn] = k;
		ilist_push_head(&s->nonres, s->nnode, k);
	}
	s->fstate[f] = ST_NONE;
	return f;
}

static void lirs_insert(struct policy *pol, frame_t f)
{
	struct lirs *s = to_lirs(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;
	uint32_t k = s->slot_of[vpn];

	ilist_push_head(&s->stack, s->snode, f);
	if (k != NO_SLOT) {
		/* A non-resident page of S: its IRR beats the bottom LIR
		 * page's recency. */
		ilist_unlink(&s->stack, s->snode, s->nframes + k);
		forget_slot(s, k);
		now_lir(s, f);
	} else {
		if (s->nlir < s->llirs) {
			/* Filling up: the first Llirs pages are LIR. */
			s->fstate[f] = ST_LIR | ST_IN_S;
			s->nlir++;
		} else {
			s->fstate[f] = ST_HIR | ST_IN_S;
			ilist_push_head(&s->q, s->qnode, f);
		}
		prune(s);
	}

	/* Bound S: forget the entry that became non-resident first. It is
	 * never the bottom of S (an LIR page is), so S stays pruned. */
	while (s->nonres.len > s->nonres_max) {
		uint32_t old = s->nonres.tail;

		ilist_unlink(&s->stack, s->snode, s->nframes + old);
		forget_slot(s, old);
	}
}

static void lirs_remove(struct policy *pol, frame_t f)
{
	struct lirs *s = to_lirs(pol);

	if ((s->fstate[f] & ST_STATUS) == ST_LIR) {
		bool bottom = s->stack.tail == f;

		ilist_unlink(&s->stack, s->snode, f);
		s->nlir--;
		if (bottom)
			prune(s);
	} else {
		ilist_unlink(&s->q, s->qnode, f);
		if (s->fstate[f] & ST_IN_S)
			ilist_unlink(&s->stack, s->snode, f);
	}
	s->fstate[f] = ST_NONE;
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
