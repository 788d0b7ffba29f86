// SPDX-License-Identifier: MIT
/*
 * OPT (Belady's MIN): evict the page whose next reference lies furthest in
 * the future, which gives the fewest faults of any demand-paging policy. It
 * reads the future (p->next_use), so it runs only on a recorded trace: the
 * yardstick the other policies are measured against.
 *
 * The resident pages sit in a binary max-heap keyed by next use, indexed by
 * frame so that a hit can find its entry: O(log n) per reference.
 * Definition and source: docs/policies.md#opt.
 */
#include <stdlib.h>

#include "../pager.h"

struct opt_entry {
	uint64_t next_use;  /* NEVER if the page is not used again */
	frame_t f;
};

#define FRAME_HEAP_ENTRY struct opt_entry
#include "../frame_heap.h"

struct opt {
	struct policy base;
	struct frame_heap heap;  /* the root is the victim */
};

/*
 * Whether a should be evicted before b. Only NEVER can be shared (two pages
 * are never next used at the same instant); among those the lowest frame
 * goes first, so that a run does not depend on the heap's history.
 */
static inline bool before(const struct opt_entry *a, const struct opt_entry *b)
{
	return a->next_use > b->next_use || (a->next_use == b->next_use && a->f < b->f);
}

static struct policy *opt_create(struct pager *p, const struct policy_params *params)
{
	struct opt *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	if (frame_heap_init(&s->heap, p->nframes) != 0) {
		free(s);
		return NULL;
	}
	s->base.frame_hint = (struct policy_hint){ s->heap.pos, sizeof(*s->heap.pos) };
	return &s->base;
}

static void opt_destroy(struct policy *pol)
{
	struct opt *s = (struct opt *)pol;

	frame_heap_free(&s->heap);
	free(s);
}

static void opt_insert(struct policy *pol, frame_t f)
{
	struct opt *s = (struct opt *)pol;
	struct opt_entry e = { .next_use = pol->pager->next_use, .f = f };

	frame_heap_push(&s->heap, &e, before);
}

/*
 * The page was referenced: its next use moves from now to the reference
 * after this one, which is later, so the entry can only rise. (Should a
 * caller's times ever go backwards, it sinks instead: the heap stays a heap
 * whatever it is told.)
 */
static void opt_hit(struct policy *pol, frame_t f)
{
	struct opt *s = (struct opt *)pol;
	uint32_t i = s->heap.pos[f];
	struct opt_entry *e;
	uint64_t old;

	if (unlikely(i == FRAME_HEAP_NONE)) /* pinned: the replayer reports it too */
		return;
	e = &s->heap.e[i];
	old = e->next_use;
	e->next_use = pol->pager->next_use;
	if (likely(e->next_use >= old))
		frame_heap_sift_up(&s->heap, i, before);
	else
		frame_heap_sift_down(&s->heap, i, before);
}

static frame_t opt_victim(struct policy *pol, vpn_t incoming)
{
	(void)incoming;
	return frame_heap_pop(&((struct opt *)pol)->heap, before);
}

static void opt_remove(struct policy *pol, frame_t f)
{
	frame_heap_remove(&((struct opt *)pol)->heap, f, before);
}

static const struct policy_ops opt_ops = {
	.name = "opt",
	.summary = "Belady's MIN: evict the page next used furthest in the future (needs the trace)",
	.flags = POLICY_NEEDS_FUTURE | POLICY_NEEDS_HITS,
	.create = opt_create,
	.destroy = opt_destroy,
	.insert = opt_insert,
	.hit = opt_hit,
	.victim = opt_victim,
	.remove = opt_remove,
};
POLICY_REGISTER(opt_ops);
