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

#include "../ghost.h"
#include "../ilist.h"
#include "../pager.h"

enum car_ghost { GHOST_B1 = GHOST_NONE + 1, GHOST_B2 };

struct car {
	struct policy base;
	uint32_t c;              /* cache size: the pager's frames */
	double p;                /* target size of T1, in [0, c] */
	struct ilist t1, t2;     /* clocks, by frame; ilist tail is the hand */
	struct ghost_dir ghosts; /* B1 and B2: ghost LRUs, by page; head is MRU */
	struct inode *fnode;     /* per frame: links in T1 or T2 */
	uint8_t *in_t2;          /* per frame */
};

static inline struct car *to_car(struct policy *pol)
{
	return (struct car *)pol;
}

static int car_grow(struct policy *pol, uint32_t npages)
{
	return ghost_dir_grow(&to_car(pol)->ghosts, npages);
}

static void car_destroy(struct policy *pol)
{
	struct car *s = to_car(pol);

	free(s->fnode);
	free(s->in_t2);
	ghost_dir_free(&s->ghosts);
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
	s->fnode = malloc(sizeof(*s->fnode) * p->nframes);
	s->in_t2 = calloc(p->nframes, 1);
	if (ghost_dir_init(&s->ghosts, p->npages) != 0 || !s->fnode || !s->in_t2) {
		car_destroy(&s->base);
		return NULL;
	}
	return &s->base;
}

static inline uint32_t b1_len(const struct car *s)
{
	return ghost_len(&s->ghosts, GHOST_B1);
}

static inline uint32_t b2_len(const struct car *s)
{
	return ghost_len(&s->ghosts, GHOST_B2);
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
				ghost_push(&s->ghosts, GHOST_B1, p->frames[f].vpn);
				return f;
			}
			s->in_t2[f] = 1;
			ilist_push_head(&s->t2, s->fnode, f);
		} else {
			frame_t f = s->t2.tail;

			if (!pager_referenced(p, f)) {
				ilist_unlink(&s->t2, s->fnode, f);
				ghost_push(&s->ghosts, GHOST_B2, p->frames[f].vpn);
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
	if (ghost_which(&s->ghosts, incoming) == GHOST_NONE) {
		uint64_t total = (uint64_t)s->t1.len + s->t2.len + b1_len(s) + b2_len(s);

		if (s->t1.len + b1_len(s) >= s->c && b1_len(s))
			ghost_drop_oldest(&s->ghosts, GHOST_B1);
		else if (total >= 2 * (uint64_t)s->c && b2_len(s))
			ghost_drop_oldest(&s->ghosts, GHOST_B2);
	}
	return f;
}

static void car_insert(struct policy *pol, frame_t f)
{
	struct car *s = to_car(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;
	double b1 = b1_len(s), b2 = b2_len(s);

	switch (ghost_which(&s->ghosts, vpn)) {
	case GHOST_NONE:
		s->in_t2[f] = 0;
		ilist_push_head(&s->t1, s->fnode, f);
		break;
	case GHOST_B1:
		s->p += b2 > b1 ? b2 / b1 : 1.0;
		if (s->p > s->c)
			s->p = s->c;
		ghost_forget(&s->ghosts, vpn);
		s->in_t2[f] = 1;
		ilist_push_head(&s->t2, s->fnode, f);
		break;
	case GHOST_B2:
		s->p -= b1 > b2 ? b1 / b2 : 1.0;
		if (s->p < 0)
			s->p = 0;
		ghost_forget(&s->ghosts, vpn);
		s->in_t2[f] = 1;
		ilist_push_head(&s->t2, s->fnode, f);
		break;
	}
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
