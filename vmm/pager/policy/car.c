// SPDX-License-Identifier: MIT
/*
 * CAR, Clock with Adaptive Replacement: ARC's structure with its two LRU
 * lists of resident pages replaced by two clocks, so that a hit only sets
 * the MMU's referenced bit. T1 holds pages referenced once since they came
 * in, T2 pages referenced again; the ghost LRU lists B1 and B2 remember
 * what each clock evicted, and a fault on a ghost moves the target size p
 * of T1 toward the clock that would have hit. Definition and source:
 * docs/policies.md#car.
 *
 * Each clock is a FIFO whose oldest end is the clock's head, where the
 * hand is: inspecting a page and giving it another lap is moving it to the
 * newest end (the clock's tail).
 */
#include <stdlib.h>

#include "../ilist.h"
#include "../pager.h"

enum car_ghost { GHOST_NONE, GHOST_B1, GHOST_B2 };

struct car {
	struct policy base;
	uint32_t c;              /* cache size: the pager's frames */
	double p;                /* target size of T1, in [0, c] */
	struct ilist t1, t2;     /* clocks, by frame; ilist tail is the hand */
	struct ilist b1, b2;     /* ghost LRUs, by page; head is MRU */
	struct inode *fnode;     /* per frame: links in T1 or T2 */
	uint8_t *in_t2;          /* per frame */
	struct inode *gnode;     /* per page: links in B1 or B2 */
	uint8_t *ghost;          /* per page: enum car_ghost */
	uint32_t npages;
};

static inline struct car *to_car(struct policy *pol)
{
	return (struct car *)pol;
}

static int car_grow(struct policy *pol, uint32_t npages)
{
	struct car *s = to_car(pol);
	struct inode *gnode;
	uint8_t *ghost;

	if (npages <= s->npages)
		return 0;
	gnode = realloc(s->gnode, sizeof(*gnode) * npages);
	if (!gnode)
		return -1;
	s->gnode = gnode;
	ghost = realloc(s->ghost, npages);
	if (!ghost)
		return -1;
	s->ghost = ghost;
	for (uint32_t i = s->npages; i < npages; i++)
		ghost[i] = GHOST_NONE;
	s->npages = npages;
	return 0;
}

static void car_destroy(struct policy *pol)
{
	struct car *s = to_car(pol);

	free(s->fnode);
	free(s->in_t2);
	free(s->gnode);
	free(s->ghost);
	free(s);
}

static struct policy *car_create(struct pager *p, const struct policy_params *params)
{
	struct car *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->c = p->nframes;
	ilist_init(&s->t1);
	ilist_init(&s->t2);
	ilist_init(&s->b1);
	ilist_init(&s->b2);
	s->fnode = malloc(sizeof(*s->fnode) * p->nframes);
	s->in_t2 = calloc(p->nframes, 1);
	if (!s->fnode || !s->in_t2 || car_grow(&s->base, p->npages) != 0) {
		car_destroy(&s->base);
		return NULL;
	}
	return &s->base;
}

static void ghost_drop_lru(struct car *s, struct ilist *b)
{
	uint32_t vpn = ilist_pop_tail(b, s->gnode);

	if (vpn != ILIST_NONE)
		s->ghost[vpn] = GHOST_NONE;
}

/* The paper's replace(): sweep T1 while it holds at least max(1, p) pages,
 * else T2. A page found unreferenced is evicted and remembered in B1 or
 * B2; a referenced page has its bit cleared and goes to the tail of T2.
 * An empty T2 (possible only when pinning took frames away) leaves T1. */
static frame_t replace(struct car *s)
{
	struct pager *p = s->base.pager;
	double t1_min = s->p > 1.0 ? s->p : 1.0;

	for (;;) {
		if ((double)s->t1.len >= t1_min || !s->t2.len) {
			frame_t f = s->t1.tail;

			ilist_unlink(&s->t1, s->fnode, f);
			if (!pager_referenced(p, f)) {
				vpn_t vpn = p->frames[f].vpn;

				ilist_push_head(&s->b1, s->gnode, vpn);
				s->ghost[vpn] = GHOST_B1;
				return f;
			}
			s->in_t2[f] = 1;
			ilist_push_head(&s->t2, s->fnode, f);
		} else {
			frame_t f = s->t2.tail;

			if (!pager_referenced(p, f)) {
				vpn_t vpn = p->frames[f].vpn;

				ilist_unlink(&s->t2, s->fnode, f);
				ilist_push_head(&s->b2, s->gnode, vpn);
				s->ghost[vpn] = GHOST_B2;
				return f;
			}
			ilist_move_to_head(&s->t2, s->fnode, f);
		}
	}
}

static frame_t car_victim(struct policy *pol, vpn_t incoming)
{
	struct car *s = to_car(pol);
	frame_t f;

	if (!s->t1.len && !s->t2.len)
		return NO_FRAME;
	f = replace(s);

	/* Directory replacement, for a page with no history only. */
	if (s->ghost[incoming] == GHOST_NONE) {
		uint64_t total = (uint64_t)s->t1.len + s->t2.len + s->b1.len + s->b2.len;

		if (s->t1.len + s->b1.len >= s->c && s->b1.len)
			ghost_drop_lru(s, &s->b1);
		else if (total >= 2 * (uint64_t)s->c && s->b2.len)
			ghost_drop_lru(s, &s->b2);
	}
	return f;
}

static void car_insert(struct policy *pol, frame_t f)
{
	struct car *s = to_car(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;
	double b1 = s->b1.len, b2 = s->b2.len;

	switch (s->ghost[vpn]) {
	case GHOST_NONE:
		s->in_t2[f] = 0;
		ilist_push_head(&s->t1, s->fnode, f);
		break;
	case GHOST_B1:
		s->p += b2 > b1 ? b2 / b1 : 1.0;
		if (s->p > s->c)
			s->p = s->c;
		ilist_unlink(&s->b1, s->gnode, vpn);
		s->in_t2[f] = 1;
		ilist_push_head(&s->t2, s->fnode, f);
		break;
	case GHOST_B2:
		s->p -= b1 > b2 ? b1 / b2 : 1.0;
		if (s->p < 0)
			s->p = 0;
		ilist_unlink(&s->b2, s->gnode, vpn);
		s->in_t2[f] = 1;
		ilist_push_head(&s->t2, s->fnode, f);
		break;
	}
	s->ghost[vpn] = GHOST_NONE;
	/* CAR admits a page with its bit clear: the faulting access, which
	 * set it, is not a second reference. */
	pager_referenced(pol->pager, f);
}

static void car_remove(struct policy *pol, frame_t f)
{
	struct car *s = to_car(pol);

	ilist_unlink(s->in_t2[f] ? &s->t2 : &s->t1, s->fnode, f);
}

static const struct policy_ops car_ops = {
	.name = "car",
	.summary = "CAR: ARC's adaptation on two clocks, from reference bits alone",
	.create = car_create,
	.destroy = car_destroy,
	.insert = car_insert,
	.victim = car_victim,
	.remove = car_remove,
	.grow = car_grow,
};
POLICY_REGISTER(car_ops);
