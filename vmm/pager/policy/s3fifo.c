// SPDX-License-Identifier: MIT
/*
 * S3-FIFO: three FIFO queues. New pages go to a small queue S (a tenth of
 * the frames); most are referenced no more and leave S for a ghost queue G
 * that keeps only their numbers. Pages referenced again while in S move on
 * to the main queue M, where a 2-bit counter gives each reference a lap of
 * reprieve (CLOCK with a counter); a fault on a page remembered in G
 * admits it to M directly. Definition and source: docs/policies.md#s3fifo.
 *
 * This is the paper's Algorithm 1 step for step, including its one
 * consequence that a fixed frame pool notices: when moving a page from S
 * to M finds M full, EVICTM frees a frame and EVICTS goes on until it has
 * evicted from S as well, so one eviction can free two frames. The second
 * is handed back to the pager (pager_reclaim) and the next fault uses it
 * without an eviction, as the paper's INSERT would.
 */
#include <stdlib.h>

#include "../ghost.h"
#include "../ilist.h"
#include "../pager.h"

#define FREQ_MAX 3               /* two bits */
#define META_FREQ 0x3u
#define META_IN_M 0x4u

#define GHOST_G (GHOST_NONE + 1) /* the one ghost list */

struct s3fifo {
	struct policy base;
	uint32_t c;              /* cache size: the pager's frames */
	uint32_t g_max;          /* ghosts kept in G */
	struct ilist small, main; /* S and M, by frame; head is newest */
	struct ghost_dir ghosts; /* G: a FIFO of ghosts, by page */
	struct inode *fnode;     /* per frame: links in S or M */
	uint8_t *meta;           /* per frame: frequency, META_IN_M */
	frame_t freed;           /* the frame this eviction returns, or NO_FRAME */
};

static inline struct s3fifo *to_s3fifo(struct policy *pol)
{
	return (struct s3fifo *)pol;
}

static int s3fifo_grow(struct policy *pol, uint32_t npages)
{
	struct s3fifo *s = to_s3fifo(pol);
	int rc = ghost_dir_grow(&s->ghosts, npages);

	/* A fault reads its page's ghost byte: the simulator prefetches it. */
	s->base.page_hint = (struct policy_hint){ s->ghosts.which, 1 };
	return rc;
}

static void s3fifo_destroy(struct policy *pol)
{
	struct s3fifo *s = to_s3fifo(pol);

	free(s->fnode);
	free(s->meta);
	ghost_dir_free(&s->ghosts);
	free(s);
}

static struct policy *s3fifo_create(struct pager *p, const struct policy_params *params)
{
	struct s3fifo *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->c = p->nframes;
	/* G holds as many numbers as M holds pages (90% of the frames);
	 * at least one, so that a one-frame memory still has a ghost. */
	s->g_max = (uint32_t)((uint64_t)p->nframes * 9 / 10);
	if (!s->g_max)
		s->g_max = 1;
	s->freed = NO_FRAME;
	ilist_init(&s->small);
	ilist_init(&s->main);
	s->fnode = malloc(sizeof(*s->fnode) * p->nframes);
	s->meta = calloc(p->nframes, 1);
	if (ghost_dir_init(&s->ghosts, p->npages) != 0 || !s->fnode || !s->meta) {
		s3fifo_destroy(&s->base);
		return NULL;
	}
	s->base.page_hint = (struct policy_hint){ s->ghosts.which, 1 };
	s->base.frame_hint = (struct policy_hint){ s->meta, sizeof(*s->meta) };
	return &s->base;
}

/* Algorithm 1 asks "is M full" right after moving a page into it: true
 * when that page took M beyond its 90% share, 10 |M| > 9 c, exactly. (At
 * its share M is full but has not overflowed: evicting then would leave a
 * frame of M's share unused.) */
static bool main_full(const struct s3fifo *s)
{
	return (uint64_t)s->main.len * 10 > (uint64_t)s->c * 9;
}

/* A page leaves memory: the first frame freed is the victim, any further
 * one goes back to the pager's free list. */
static void release(struct s3fifo *s, frame_t f)
{
	struct pager *p = s->base.pager;

	if (s->freed == NO_FRAME) {
		s->freed = f;
		return;
	}
	if (pager_reclaim(p, f) != 0) {
		/* Write-back failed: the page stays resident. Keep it, at
		 * the head of M, as if it had survived the lap. */
		s->meta[f] = META_IN_M;
		ilist_push_head(&s->main, s->fnode, f);
	}
}

static void remember(struct s3fifo *s, vpn_t vpn)
{
	ghost_push(&s->ghosts, GHOST_G, vpn);
	if (ghost_len(&s->ghosts, GHOST_G) > s->g_max)
		ghost_drop_oldest(&s->ghosts, GHOST_G);
}

/* EVICTM: the oldest page of M with a nonzero counter goes round again
 * with the counter decremented; the first with zero is evicted. */
static void evict_main(struct s3fifo *s)
{
	while (s->main.len) {
		frame_t t = s->main.tail;

		if (s->meta[t] & META_FREQ) {
			s->meta[t]--;
			ilist_move_to_head(&s->main, s->fnode, t);
		} else {
			ilist_unlink(&s->main, s->fnode, t);
			release(s, t);
			return;
		}
	}
}

/* EVICTS: the oldest page of S moves to M if it was referenced more than
 * once while in S (Algorithm 1's freq > 1), else it is evicted and its
 * number goes to G. Repeats until one page has been evicted from S. */
static void evict_small(struct s3fifo *s)
{
	while (s->small.len) {
		frame_t t = ilist_pop_tail(&s->small, s->fnode);

		if ((s->meta[t] & META_FREQ) > 1) {
			s->meta[t] |= META_IN_M;
			ilist_push_head(&s->main, s->fnode, t);
			if (main_full(s))
				evict_main(s);
		} else {
			remember(s, s->base.pager->frames[t].vpn);
			release(s, t);
			return;
		}
	}
}

static frame_t s3fifo_victim(struct policy *pol, vpn_t incoming)
{
	struct s3fifo *s = to_s3fifo(pol);
	frame_t f;

	(void)incoming;
	if (!s->small.len && !s->main.len)
		return NO_FRAME;
	/* INSERT's "while cache is full do EVICT". An EVICTS that only
	 * moved pages to M freed nothing: go round again. */
	s->freed = NO_FRAME;
	while (s->freed == NO_FRAME) {
		/* EVICT: S when it holds at least 10% of the frames. An
		 * empty queue hands over to the other one (only possible
		 * when pinning took frames away). */
		if (((uint64_t)s->small.len * 10 >= s->c && s->small.len) || !s->main.len)
			evict_small(s);
		else
			evict_main(s);
	}
	f = s->freed;
	s->freed = NO_FRAME;
	return f;
}

static void s3fifo_insert(struct policy *pol, frame_t f)
{
	struct s3fifo *s = to_s3fifo(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;

	if (ghost_which(&s->ghosts, vpn) == GHOST_G) {
		ghost_forget(&s->ghosts, vpn);
		s->meta[f] = META_IN_M;
		ilist_push_head(&s->main, s->fnode, f);
	} else {
		s->meta[f] = 0;
		ilist_push_head(&s->small, s->fnode, f);
	}
}

static void s3fifo_hit(struct policy *pol, frame_t f)
{
	struct s3fifo *s = to_s3fifo(pol);

	if ((s->meta[f] & META_FREQ) < FREQ_MAX)
		s->meta[f]++;
}

static void s3fifo_remove(struct policy *pol, frame_t f)
{
	struct s3fifo *s = to_s3fifo(pol);

	ilist_unlink(s->meta[f] & META_IN_M ? &s->main : &s->small, s->fnode, f);
}

static const struct policy_ops s3fifo_ops = {
	.name = "s3fifo",
	.summary = "S3-FIFO: small FIFO filters one-hit pages, main FIFO with 2-bit counters, ghost FIFO",
	.flags = POLICY_NEEDS_HITS | POLICY_VARIABLE, /* an eviction may free two frames */
	.create = s3fifo_create,
	.destroy = s3fifo_destroy,
	.insert = s3fifo_insert,
	.hit = s3fifo_hit,
	.victim = s3fifo_victim,
	.remove = s3fifo_remove,
	.grow = s3fifo_grow,
};
POLICY_REGISTER(s3fifo_ops);
