/* SPDX-License-Identifier: MIT */
/*
 * An indexed binary heap of frames, for the policies that evict by a key
 * (OPT: next use; aging: the counter). The root is the frame that comes out
 * first; a per-frame position finds any frame's entry, so that a policy can
 * re-key it (OPT, on every hit) or take it out (pinning) in O(log n).
 *
 * The entries are the policy's own type, holding its keys and the frame f,
 * so that comparing two reads nothing outside the heap array and an entry
 * is no larger than the policy needs (OPT's hit path moves 16-byte entries;
 * a shared 24-byte type cost it a few percent). The including file names
 * the type before it includes this header:
 *
 *	struct opt_entry { uint64_t next_use; frame_t f; };
 *	#define FRAME_HEAP_ENTRY struct opt_entry
 *	#include "../frame_heap.h"
 *
 * The order is the policy's before(a, b): true when a comes out before b.
 * The functions are static inline and take it as a parameter; a policy
 * passes the same function everywhere, so the compiler inlines it and the
 * hot path makes no call through a pointer.
 */
#ifndef PFLAB_FRAME_HEAP_H
#define PFLAB_FRAME_HEAP_H

#include <stdbool.h>
#include <stdlib.h>

#include "types.h"

#ifndef FRAME_HEAP_ENTRY
#error "define FRAME_HEAP_ENTRY, the entry type (with a member frame_t f), before including frame_heap.h"
#endif

#define FRAME_HEAP_NONE UINT32_MAX /* the position of a frame not in the heap */

typedef bool frame_heap_before_fn(const FRAME_HEAP_ENTRY *a, const FRAME_HEAP_ENTRY *b);

struct frame_heap {
	FRAME_HEAP_ENTRY *e; /* [0] is the root; children of i: 2i+1, 2i+2 */
	uint32_t *pos;       /* per frame: its index in e, or FRAME_HEAP_NONE */
	uint32_t len;
};

static inline void frame_heap_free(struct frame_heap *h)
{
	free(h->e);
	free(h->pos);
	h->e = NULL;
	h->pos = NULL;
	h->len = 0;
}

/* An empty heap for frames [0, nframes). Returns -1 if out of memory. */
static inline int frame_heap_init(struct frame_heap *h, uint32_t nframes)
{
	h->e = malloc(sizeof(*h->e) * nframes);
	h->pos = malloc(sizeof(*h->pos) * nframes);
	h->len = 0;
	if (!h->e || !h->pos) {
		frame_heap_free(h);
		return -1;
	}
	for (uint32_t f = 0; f < nframes; f++)
		h->pos[f] = FRAME_HEAP_NONE;
	return 0;
}

static inline void frame_heap_place(struct frame_heap *h, uint32_t i, const FRAME_HEAP_ENTRY *e)
{
	h->e[i] = *e;
	h->pos[e->f] = i;
}

/* Move the entry at i towards the root while it comes before its parent. */
static inline void frame_heap_sift_up(struct frame_heap *h, uint32_t i,
				      frame_heap_before_fn *before)
{
	FRAME_HEAP_ENTRY e = h->e[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!before(&e, &h->e[parent]))
			break;
		frame_heap_place(h, i, &h->e[parent]);
		i = parent;
	}
	frame_heap_place(h, i, &e);
}

/* Move the entry at i towards the leaves while a child comes before it. */
static inline void frame_heap_sift_down(struct frame_heap *h, uint32_t i,
					frame_heap_before_fn *before)
{
	FRAME_HEAP_ENTRY e = h->e[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->len)
			break;
		if (c + 1 < h->len && before(&h->e[c + 1], &h->e[c]))
			c++;
		if (!before(&h->e[c], &e))
			break;
		frame_heap_place(h, i, &h->e[c]);
		i = c;
	}
	frame_heap_place(h, i, &e);
}

/* Add an entry; its frame must not be in the heap. */
static inline void frame_heap_push(struct frame_heap *h, const FRAME_HEAP_ENTRY *e,
				   frame_heap_before_fn *before)
{
	h->e[h->len] = *e;
	frame_heap_sift_up(h, h->len++, before);
}

/* Take the entry at i out: the last entry fills the hole and finds its place. */
static inline void frame_heap_delete(struct frame_heap *h, uint32_t i,
				     frame_heap_before_fn *before)
{
	h->pos[h->e[i].f] = FRAME_HEAP_NONE;
	if (i == --h->len)
		return;
	frame_heap_place(h, i, &h->e[h->len]);
	if (i > 0 && before(&h->e[i], &h->e[(i - 1) / 2]))
		frame_heap_sift_up(h, i, before);
	else
		frame_heap_sift_down(h, i, before);
}

/* Take frame f, which is in the heap, out. */
static inline void frame_heap_remove(struct frame_heap *h, frame_t f,
				     frame_heap_before_fn *before)
{
	frame_heap_delete(h, h->pos[f], before);
}

/* Take the root out and return its frame; NO_FRAME if the heap is empty. */
static inline frame_t frame_heap_pop(struct frame_heap *h, frame_heap_before_fn *before)
{
	frame_t f;

	if (h->len == 0)
		return NO_FRAME;
	f = h->e[0].f;
	frame_heap_delete(h, 0, before);
	return f;
}

/* After keys changed anywhere: rebuild bottom-up (Floyd), O(n). */
static inline void frame_heap_heapify(struct frame_heap *h, frame_heap_before_fn *before)
{
	for (uint32_t i = h->len / 2; i-- > 0;)
		frame_heap_sift_down(h, i, before);
}

#endif /* PFLAB_FRAME_HEAP_H */
