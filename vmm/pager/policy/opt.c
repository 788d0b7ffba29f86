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

#define NOT_IN_HEAP UINT32_MAX

struct heap_entry {
	uint64_t next_use;  /* NEVER if the page is not used again */
	frame_t f;
};

struct opt {
	struct policy base;
	struct heap_entry *heap; /* [0] is the victim; children of i: 2i+1, 2i+2 */
	uint32_t *pos;           /* per frame: its index in heap, or NOT_IN_HEAP */
	uint32_t len;
};

/*
 * Whether a should be evicted before b. Only NEVER can be shared (two pages
 * are never next used at the same instant); among those the lowest frame
 * goes first, so that a run does not depend on the heap's history.
 */
static inline bool before(const struct heap_entry *a, const struct heap_entry *b)
{
	return a->next_use > b->next_use || (a->next_use == b->next_use && a->f < b->f);
}

static inline void place(struct opt *s, uint32_t i, struct heap_entry e)
{
	s->heap[i] = e;
	s->pos[e.f] = i;
}

/* Move the entry at i towards the root while it beats its parent. */
static void sift_up(struct opt *s, uint32_t i)
{
	struct heap_entry e = s->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!before(&e, &s->heap[parent]))
			break;
		place(s, i, s->heap[parent]);
		i = parent;
	}
	place(s, i, e);
}

/* Move the entry at i towards the leaves while a child beats it. */
static void sift_down(struct opt *s, uint32_t i)
{
	struct heap_entry e = s->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= s->len)
			break;
		if (c + 1 < s->len && before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!before(&s->heap[c], &e))
			break;
		place(s, i, s->heap[c]);
		i = c;
	}
	place(s, i, e);
}

static struct policy *opt_create(struct pager *p, const struct policy_params *params)
{
	struct opt *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->heap = malloc(sizeof(*s->heap) * p->nframes);
	s->pos = malloc(sizeof(*s->pos) * p->nframes);
	if (!s->heap || !s->pos) {
		free(s->heap);
		free(s->pos);
		free(s);
		return NULL;
	}
	for (uint32_t f = 0; f < p->nframes; f++)
		s->pos[f] = NOT_IN_HEAP;
	return &s->base;
}

static void opt_destroy(struct policy *pol)
{
	struct opt *s = (struct opt *)pol;

	free(s->heap);
	free(s->pos);
	free(s);
}

static void opt_insert(struct policy *pol, frame_t f)
{
	struct opt *s = (struct opt *)pol;

	s->heap[s->len] = (struct heap_entry){ .next_use = pol->pager->next_use, .f = f };
	sift_up(s, s->len++);
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
	uint32_t i = s->pos[f];
	uint64_t old;

	if (unlikely(i == NOT_IN_HEAP)) /* pinned: the replayer reports it too */
		return;
	old = s->heap[i].next_use;
	s->heap[i].next_use = pol->pager->next_use;
	if (likely(s->heap[i].next_use >= old))
		sift_up(s, i);
	else
		sift_down(s, i);
}

/* Take the entry at i out: the last entry fills the hole and finds its place. */
static void heap_delete(struct opt *s, uint32_t i)
{
	frame_t f = s->heap[i].f;

	s->pos[f] = NOT_IN_HEAP;
	if (i == --s->len)
		return;
	place(s, i, s->heap[s->len]);
	if (i > 0 && before(&s->heap[i], &s->heap[(i - 1) / 2]))
		sift_up(s, i);
	else
		sift_down(s, i);
}

static frame_t opt_victim(struct policy *pol, vpn_t incoming)
{
	struct opt *s = (struct opt *)pol;
	frame_t f;

	(void)incoming;
	if (s->len == 0)
		return NO_FRAME;
	f = s->heap[0].f;
	heap_delete(s, 0);
	return f;
}

static void opt_remove(struct policy *pol, frame_t f)
{
	struct opt *s = (struct opt *)pol;

	heap_delete(s, s->pos[f]);
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
