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

#define NOT_IN_HEAP UINT32_MAX

/* The keys live in the heap itself: a tick walks and rebuilds it in place. */
struct heap_entry {
	uint64_t counter;
	uint64_t arrival;   /* order brought in, for ties */
	frame_t f;
	bool fresh;         /* brought in since the last tick */
};

struct aging {
	struct policy base;
	uint64_t top;             /* 1 << (aging_bits - 1) */
	uint64_t arrivals;
	struct heap_entry *heap;  /* [0] is the victim; children of i: 2i+1, 2i+2 */
	uint32_t *pos;            /* per frame: its index in heap, or NOT_IN_HEAP */
	uint32_t len;
};

static inline bool before(const struct heap_entry *a, const struct heap_entry *b)
{
	return a->counter < b->counter || (a->counter == b->counter && a->arrival < b->arrival);
}

static inline void place(struct aging *s, uint32_t i, const struct heap_entry *e)
{
	s->heap[i] = *e;
	s->pos[e->f] = i;
}

static void sift_up(struct aging *s, uint32_t i)
{
	struct heap_entry e = s->heap[i];

	while (i > 0 && before(&e, &s->heap[(i - 1) / 2])) {
		place(s, i, &s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(s, i, &e);
}

static void sift_down(struct aging *s, uint32_t i)
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
		place(s, i, &s->heap[c]);
		i = c;
	}
	place(s, i, &e);
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

static void aging_destroy(struct policy *pol)
{
	struct aging *s = (struct aging *)pol;

	free(s->heap);
	free(s->pos);
	free(s);
}

static void aging_insert(struct policy *pol, frame_t f)
{
	struct aging *s = (struct aging *)pol;

	s->heap[s->len] = (struct heap_entry){
		.counter = s->top, .arrival = s->arrivals++, .f = f, .fresh = true,
	};
	sift_up(s, s->len++);
}

static void heap_delete(struct aging *s, uint32_t i)
{
	s->pos[s->heap[i].f] = NOT_IN_HEAP;
	if (i == --s->len)
		return;
	place(s, i, &s->heap[s->len]);
	if (i > 0 && before(&s->heap[i], &s->heap[(i - 1) / 2]))
		sift_up(s, i);
	else
		sift_down(s, i);
}

static frame_t aging_victim(struct policy *pol, vpn_t incoming)
{
	struct aging *s = (struct aging *)pol;
	frame_t f;

	(void)incoming;
	if (s->len == 0)
		return NO_FRAME;
	f = s->heap[0].f;
	heap_delete(s, 0);
	return f;
}

static void aging_remove(struct policy *pol, frame_t f)
{
	struct aging *s = (struct aging *)pol;

	heap_delete(s, s->pos[f]);
}

static void aging_tick(struct policy *pol)
{
	struct aging *s = (struct aging *)pol;
	struct pager *p = pol->pager;

	for (uint32_t i = 0; i < s->len; i++) {
		struct heap_entry *e = &s->heap[i];
		bool referenced = pager_referenced(p, e->f);

		if (e->fresh)
			e->fresh = false; /* its reference is counted already */
		else
			e->counter = (e->counter >> 1) | (referenced ? s->top : 0);
	}
	/* Every key moved: rebuild bottom-up (Floyd), O(n). */
	for (uint32_t i = s->len / 2; i-- > 0;)
		sift_down(s, i);
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
