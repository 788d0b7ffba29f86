// SPDX-License-Identifier: MIT
/*
 * LFU: evict the page referenced the fewest times since it was brought in,
 * the least recently used among those with that count. Counting needs every
 * reference (hit()).
 *
 * O(1) per operation, after Shah, Mitra and Matani, "An O(1) algorithm for
 * implementing the LFU cache eviction scheme" (2010): frames with the same
 * count share a bucket, a list ordered by recency, and the buckets form a
 * chain in increasing count. A reference moves its frame from bucket c to
 * bucket c + 1, which is the next in the chain or is created there.
 * Definition and source: docs/policies.md#lfu.
 */
#include <stdlib.h>

#include "../ilist.h"
#include "../pager.h"

#define NONE UINT32_MAX

struct bucket {
	uint64_t count;       /* references of each frame on it */
	struct ilist frames;  /* head: most recently referenced */
	uint32_t lower, higher; /* neighbours in the chain, NONE at its ends */
};

struct lfu {
	struct policy base;
	/*
	 * At most one bucket per evictable frame, so nframes buckets do: a
	 * new one is needed only for a frame just brought in or leaving a
	 * bucket it shares.
	 */
	struct bucket *bucket;
	uint32_t *free_buckets;  /* stack of unused bucket indices */
	uint32_t nfree;
	uint32_t lowest;         /* the bucket of the smallest count, or NONE */
	struct inode *node;      /* per frame, links in its bucket */
	uint32_t *bucket_of;     /* per frame, or NONE when not tracked */
};

static struct policy *lfu_create(struct pager *p, const struct policy_params *params)
{
	struct lfu *s = calloc(1, sizeof(*s));
	uint32_t n = p->nframes;

	(void)params;
	if (!s)
		return NULL;
	s->bucket = malloc(sizeof(*s->bucket) * n);
	s->free_buckets = malloc(sizeof(*s->free_buckets) * n);
	s->node = malloc(sizeof(*s->node) * n);
	s->bucket_of = malloc(sizeof(*s->bucket_of) * n);
	if (!s->bucket || !s->free_buckets || !s->node || !s->bucket_of) {
		free(s->bucket);
		free(s->free_buckets);
		free(s->node);
		free(s->bucket_of);
		free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		s->free_buckets[i] = n - 1 - i;
		s->bucket_of[i] = NONE;
	}
	s->nfree = n;
	s->lowest = NONE;
	s->base.frame_hint = (struct policy_hint){ s->bucket_of, sizeof(*s->bucket_of) };
	return &s->base;
}

static void lfu_destroy(struct policy *pol)
{
	struct lfu *s = (struct lfu *)pol;

	free(s->bucket);
	free(s->free_buckets);
	free(s->node);
	free(s->bucket_of);
	free(s);
}

/* A new empty bucket for count, linked into the chain just above `lower`
 * (NONE: at the bottom). */
static uint32_t bucket_new(struct lfu *s, uint64_t count, uint32_t lower)
{
	uint32_t b = s->free_buckets[--s->nfree];
	uint32_t higher = lower == NONE ? s->lowest : s->bucket[lower].higher;

	s->bucket[b].count = count;
	ilist_init(&s->bucket[b].frames);
	s->bucket[b].lower = lower;
	s->bucket[b].higher = higher;
	if (lower == NONE)
		s->lowest = b;
	else
		s->bucket[lower].higher = b;
	if (higher != NONE)
		s->bucket[higher].lower = b;
	return b;
}

static void bucket_free(struct lfu *s, uint32_t b)
{
	uint32_t lower = s->bucket[b].lower, higher = s->bucket[b].higher;

	if (lower == NONE)
		s->lowest = higher;
	else
		s->bucket[lower].higher = higher;
	if (higher != NONE)
		s->bucket[higher].lower = lower;
	s->free_buckets[s->nfree++] = b;
}

/* Take f off its bucket, dropping the bucket if it empties. */
static void detach(struct lfu *s, frame_t f)
{
	uint32_t b = s->bucket_of[f];

	ilist_unlink(&s->bucket[b].frames, s->node, f);
	if (s->bucket[b].frames.len == 0)
		bucket_free(s, b);
	s->bucket_of[f] = NONE;
}

/* The faulting reference is the page's first: count 1, the lowest there is. */
static void lfu_insert(struct policy *pol, frame_t f)
{
	struct lfu *s = (struct lfu *)pol;
	uint32_t b = s->lowest;

	if (b == NONE || s->bucket[b].count != 1)
		b = bucket_new(s, 1, NONE);
	ilist_push_head(&s->bucket[b].frames, s->node, f);
	s->bucket_of[f] = b;
}

static void lfu_hit(struct policy *pol, frame_t f)
{
	struct lfu *s = (struct lfu *)pol;
	uint32_t b = s->bucket_of[f], up;
	uint64_t count;

	if (unlikely(b == NONE)) /* pinned: the replayer reports it too */
		return;
	count = s->bucket[b].count + 1;
	up = s->bucket[b].higher;
	if (up == NONE || s->bucket[up].count != count) {
		/* Alone in its bucket: the bucket itself can take the new count
		 * without disturbing the chain's order. */
		if (s->bucket[b].frames.len == 1) {
			s->bucket[b].count = count;
			return;
		}
		up = bucket_new(s, count, b);
	}
	detach(s, f);
	ilist_push_head(&s->bucket[up].frames, s->node, f);
	s->bucket_of[f] = up;
}

static frame_t lfu_victim(struct policy *pol, vpn_t incoming)
{
	struct lfu *s = (struct lfu *)pol;
	frame_t f;

	(void)incoming;
	if (s->lowest == NONE)
		return NO_FRAME;
	f = s->bucket[s->lowest].frames.tail;
	detach(s, f);
	return f;
}

static void lfu_remove(struct policy *pol, frame_t f)
{
	detach((struct lfu *)pol, f);
}

static const struct policy_ops lfu_ops = {
	.name = "lfu",
	.summary = "least frequently used while resident, ties to the least recently used",
	.flags = POLICY_NEEDS_HITS,
	.create = lfu_create,
	.destroy = lfu_destroy,
	.insert = lfu_insert,
	.hit = lfu_hit,
	.victim = lfu_victim,
	.remove = lfu_remove,
};
POLICY_REGISTER(lfu_ops);
