// SPDX-License-Identifier: MIT
/*
 * Aging: each frame has an n-bit counter (params.aging_bits). At every clock
 * tick the counter shifts right and the referenced bit, read and cleared,
 * enters at the top, so the counter is the page's reference history over
 * the last n ticks, most recent first, read as a number. A fault evicts the
 * lowest counter; among equal counters, the page brought in earliest.
 *
 * A page brought in starts at 100...0: the reference that faulted it in
 * counts at once, as though the tick closing this interval had already
 * happened, and that tick then only clears the bit. (A counter of zero, as
 * for NFU's counters, would make the newest page the next victim before a
 * tick could record the reference that brought it in.)
 *
 * Counters change only at ticks, so the frames sit in a min-heap rebuilt at
 * each tick: O(log n) per fault, O(n) per tick. Works from reference bits
 * alone: no hit(). Definition and source: docs/policies.md#aging.
 */
#include <errno.h>
#include <stdlib.h>

#include "../pager.h"

/* The keys live in the heap itself: a tick walks and rebuilds it in place. */
struct aging_entry {
	uint64_t counter;
	uint64_t arrival;   /* order brought in, for ties */
	frame_t f;
};

#define FRAME_HEAP_ENTRY struct aging_entry
#include "../frame_heap.h"

struct aging {
	struct policy base;
	uint64_t top;            /* 1 << (aging_bits - 1) */
	uint64_t arrivals;       /* pages brought in so far */
	uint64_t tick_arrivals;  /* arrivals at the last tick: those after it are fresh */
	struct frame_heap heap;  /* the root is the victim */
};

static inline bool before(const struct aging_entry *a, const struct aging_entry *b)
{
	return a->counter < b->counter || (a->counter == b->counter && a->arrival < b->arrival);
}

static struct policy *aging_create(struct pager *p, const struct policy_params *params)
{
	struct aging *s;

	if (params->aging_bits < 1 || params->aging_bits > 64) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->top = (uint64_t)1 << (params->aging_bits - 1);
	if (frame_heap_init(&s->heap, p->nframes) != 0) {
		free(s);
		return NULL;
	}
	return &s->base;
}

static void aging_destroy(struct policy *pol)
{
	struct aging *s = (struct aging *)pol;

	frame_heap_free(&s->heap);
	free(s);
}

static void aging_insert(struct policy *pol, frame_t f)
{
	struct aging *s = (struct aging *)pol;
	struct aging_entry e = { .counter = s->top, .arrival = s->arrivals++, .f = f };

	frame_heap_push(&s->heap, &e, before);
}

static frame_t aging_victim(struct policy *pol, vpn_t incoming)
{
	(void)incoming;
	return frame_heap_pop(&((struct aging *)pol)->heap, before);
}

static void aging_remove(struct policy *pol, frame_t f)
{
	frame_heap_remove(&((struct aging *)pol)->heap, f, before);
}

static void aging_tick(struct policy *pol)
{
	struct aging *s = (struct aging *)pol;
	struct pager *p = pol->pager;

	for (uint32_t i = 0; i < s->heap.len; i++) {
		struct aging_entry *e = &s->heap.e[i];
		bool referenced = pager_referenced(p, e->f);

		/* A page brought in since the last tick has its reference
		 * counted already. */
		if (e->arrival < s->tick_arrivals)
			e->counter = (e->counter >> 1) | (referenced ? s->top : 0);
	}
	s->tick_arrivals = s->arrivals;
	/* Every key moved: rebuild, O(n). */
	frame_heap_heapify(&s->heap, before);
}

static const struct policy_ops aging_ops = {
	.name = "aging",
	.summary = "aging: per-page shift register of reference bits, evict the lowest",
	.create = aging_create,
	.destroy = aging_destroy,
	.insert = aging_insert,
	.victim = aging_victim,
	.remove = aging_remove,
	.tick = aging_tick,
};
POLICY_REGISTER(aging_ops);
