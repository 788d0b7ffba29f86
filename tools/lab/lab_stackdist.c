// SPDX-License-Identifier: MIT
/* LRU and OPT stack distances: see lab_stackdist.h. */
#include "lab_stackdist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

void lab_mrc_fini(struct lab_mrc *m)
{
	free(m->hist);
	*m = (struct lab_mrc){ 0 };
}

void lab_mrc_faults(const struct lab_mrc *m, uint64_t *faults)
{
	uint64_t deeper = 0; /* re-references at depth > c */

	for (uint32_t c = m->distinct; c >= 1; c--) {
		faults[c - 1] = m->cold + deeper;
		deeper += m->hist[c];
	}
}

/* Make hist hold depths up to want - 1. */
static int hist_reserve(struct lab_mrc *m, uint32_t want)
{
	uint64_t *bigger;

	if (want <= m->hist_len)
		return 0;
	bigger = realloc(m->hist, sizeof(*bigger) * want);
	if (!bigger)
		return -1;
	memset(bigger + m->hist_len, 0, sizeof(*bigger) * (want - m->hist_len));
	m->hist = bigger;
	m->hist_len = want;
	return 0;
}

/* ------------------------------------------------------------------ LRU */

/*
 * Reference times are positions 0, 1, 2, ...; a page's last reference is a
 * set bit at its position. When positions run out, the marks are renumbered
 * 0 .. live-1 in order (compaction): ranks are all that distances depend on.
 * Capacity stays at least twice the marks, so compaction is amortised O(1).
 */
#define BLOCK_BITS 64
#define MIN_BLOCKS 1024

struct lab_lru_stack {
	struct lab_mrc mrc;
	uint32_t *last;      /* per page: position of its last reference, or NONE */
	uint32_t npages;     /* entries of last[] */
	uint32_t seen;       /* 1 + the largest page number fed */
	uint64_t *bits;      /* per position: a page's last reference */
	uint32_t *tree;      /* Fenwick tree of marks per block, 1-based */
	uint32_t *rank;      /* per block, during compaction: marks before it */
	uint32_t nblocks;
	uint32_t now;        /* the next reference's position */
	uint32_t live;       /* marks set = pages seen */
};

/* The build targets baseline x86-64, where popcount64 is a libgcc
 * call: this branch-free count is several times faster than the call. */
static inline uint32_t popcount64(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
}

static inline void fenwick_add(uint32_t *tree, uint32_t n, uint32_t block, uint32_t delta)
{
	for (uint32_t i = block + 1; i <= n; i += i & -i)
		tree[i] += delta; /* -1 is UINT32_MAX: sums stay right modulo 2^32 */
}

/* Marks in blocks [0, block). */
static inline uint32_t fenwick_prefix(const uint32_t *tree, uint32_t block)
{
	uint32_t sum = 0;

	for (uint32_t i = block; i > 0; i -= i & -i)
		sum += tree[i];
	return sum;
}

/* tree[] for blocks that are full (64 marks) up to `marks`, empty after. */
static void fenwick_build(uint32_t *tree, uint32_t n, uint32_t marks)
{
	for (uint32_t b = 0; b < n; b++) {
		uint32_t from = b * BLOCK_BITS;

		tree[b + 1] = marks > from ? (marks - from < BLOCK_BITS ? marks - from : BLOCK_BITS) : 0;
	}
	for (uint32_t i = 1; i <= n; i++) {
		uint32_t j = i + (i & -i);

		if (j <= n)
			tree[j] += tree[i];
	}
}

static int resize_blocks(struct lab_lru_stack *s, uint32_t nblocks)
{
	uint64_t *bits = realloc(s->bits, sizeof(*bits) * nblocks);
	uint32_t *tree, *rank;

	if (!bits)
		return -1;
	s->bits = bits;
	tree = realloc(s->tree, sizeof(*tree) * (nblocks + 1));
	if (!tree)
		return -1;
	s->tree = tree;
	rank = realloc(s->rank, sizeof(*rank) * nblocks);
	if (!rank)
		return -1;
	s->rank = rank;
	s->nblocks = nblocks;
	return 0;
}

struct lab_lru_stack *lab_lru_stack_create(void)
{
	struct lab_lru_stack *s = calloc(1, sizeof(*s));

	if (!s || resize_blocks(s, MIN_BLOCKS) != 0 || hist_reserve(&s->mrc, 2) != 0) {
		lab_lru_stack_destroy(s);
		return NULL;
	}
	memset(s->bits, 0, sizeof(*s->bits) * s->nblocks);
	memset(s->tree, 0, sizeof(*s->tree) * (s->nblocks + 1));
	return s;
}

void lab_lru_stack_destroy(struct lab_lru_stack *s)
{
	if (!s)
		return;
	lab_mrc_fini(&s->mrc);
	free(s->last);
	free(s->bits);
	free(s->tree);
	free(s->rank);
	free(s);
}

const struct lab_mrc *lab_lru_stack_mrc(const struct lab_lru_stack *s)
{
	return &s->mrc;
}

static int grow_pages(struct lab_lru_stack *s, uint32_t page)
{
	uint64_t want = (uint64_t)s->npages * 2;
	uint32_t *bigger;

	if (want < (uint64_t)page + 1)
		want = (uint64_t)page + 1;
	if (want < 1024)
		want = 1024;
	if (want >= NONE)
		want = NONE - 1;
	if (page >= want)
		return -1;
	bigger = realloc(s->last, sizeof(*bigger) * want);
	if (!bigger)
		return -1;
	for (uint32_t p = s->npages; p < want; p++)
		bigger[p] = NONE;
	s->last = bigger;
	if (hist_reserve(&s->mrc, (uint32_t)want + 1) != 0)
		return -1;
	s->npages = (uint32_t)want;
	return 0;
}

/* Renumber the marks 0 .. live-1, keeping their order; leave room for as many again. */
static int compact(struct lab_lru_stack *s)
{
	uint64_t want = ((uint64_t)s->live * 2 + BLOCK_BITS - 1) / BLOCK_BITS;
	uint32_t marks = 0;

	if (want < MIN_BLOCKS)
		want = MIN_BLOCKS;
	if (want * BLOCK_BITS >= NONE) {
		errno = ENOMEM; /* 2^31 distinct pages: beyond what dense ids allow */
		return -1;
	}
	for (uint32_t b = 0; b < s->nblocks; b++) {
		s->rank[b] = marks;
		marks += (uint32_t)popcount64(s->bits[b]);
	}
	for (uint32_t p = 0; p < s->seen; p++) {
		uint32_t l = s->last[p];

		if (l != NONE)
			s->last[p] = s->rank[l / BLOCK_BITS] +
				     (uint32_t)popcount64(s->bits[l / BLOCK_BITS] &
								    ((1ULL << (l % BLOCK_BITS)) - 1));
	}
	if (want > s->nblocks && resize_blocks(s, (uint32_t)want) != 0)
		return -1;
	memset(s->bits, 0, sizeof(*s->bits) * s->nblocks);
	for (uint32_t b = 0; b < s->live / BLOCK_BITS; b++)
		s->bits[b] = ~0ULL;
	if (s->live % BLOCK_BITS)
		s->bits[s->live / BLOCK_BITS] = (1ULL << (s->live % BLOCK_BITS)) - 1;
	/* the block holding position live is the current one: not in the tree yet */
	fenwick_build(s->tree, s->nblocks, s->live / BLOCK_BITS * BLOCK_BITS);
	s->now = s->live;
	return 0;
}

/*
 * The loop is bound by memory latency, not arithmetic: last[] is indexed by
 * page and hist[] by distance, both larger than the caches. So last[] is
 * prefetched a few references ahead, and each hist[] increment is issued a
 * few references after its distance is known, its line prefetched meanwhile.
 */
#define PREFETCH_AHEAD 16
#define HIST_LAG 8 /* a power of two */

int lab_lru_stack_feed(struct lab_lru_stack *s, const uint32_t *pages, size_t n)
{
	struct lab_mrc *m = &s->mrc;
	uint32_t pending[HIST_LAG];
	size_t npending = 0, k = 0; /* re-references so far in this call */
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t page = pages[i], l, t = s->now, cur = t / BLOCK_BITS;

		if (__builtin_expect(page >= s->npages, 0) && grow_pages(s, page) != 0) {
			rc = -1;
			break;
		}
		if (i + PREFETCH_AHEAD < n && pages[i + PREFETCH_AHEAD] < s->npages)
			__builtin_prefetch(&s->last[pages[i + PREFETCH_AHEAD]], 1);
		if (page >= s->seen)
			s->seen = page + 1;
		if (__builtin_expect(t % BLOCK_BITS == 0, 0)) {
			if (t == s->nblocks * BLOCK_BITS) {
				if (compact(s) != 0) {
					rc = -1;
					break;
				}
				t = s->now;
				cur = t / BLOCK_BITS;
			} else if (t) {
				/* The block just filled joins the tree. */
				fenwick_add(s->tree, s->nblocks, cur - 1, popcount64(s->bits[cur - 1]));
			}
		}
		l = s->last[page];
		if (l == NONE) {
			m->cold++;
			s->live++;
		} else {
			uint32_t b = l / BLOCK_BITS, bit = l % BLOCK_BITS;
			/* Marks at or before l: in the tree's blocks before l's,
			 * then in l's block. The current block is never among the
			 * former, so it needs no tree entry until it is full. */
			uint32_t upto = fenwick_prefix(s->tree, b) +
					popcount64(s->bits[b] & (~0ULL >> (63 - bit)));
			uint32_t d = s->live - upto + 1;

			__builtin_prefetch(&m->hist[d], 1);
			/* the slot of the distance HIST_LAG re-references ago */
			if (npending == HIST_LAG)
				m->hist[pending[k % HIST_LAG]]++;
			else
				npending++;
			pending[k++ % HIST_LAG] = d;
			s->bits[b] &= ~(1ULL << bit);
			if (b != cur)
				fenwick_add(s->tree, s->nblocks, b, UINT32_MAX);
		}
		s->bits[cur] |= 1ULL << (t % BLOCK_BITS);
		s->last[page] = t;
		s->now = t + 1;
		m->refs++;
	}
	/* The distances still pending fill slots 0 .. npending-1. */
	for (size_t j = 0; j < npending; j++)
		m->hist[pending[j]]++;
	m->distinct = s->live;
	return rc;
}

/* ------------------------------------------------------------------ OPT */

/*
 * The scan of Mattson's update exchanges the carry only with pages used
 * later than the carry; most positions hold pages used sooner. The stack is
 * cut into blocks of OPT_BLOCK positions, each with an upper bound on the
 * priorities in it, so that a block whose bound is not above the carry's
 * priority is passed whole. A bound is raised when a write could raise the
 * block's maximum (the hole's) and is left alone when an
 * exchange lowers a priority, so it is always an upper bound; a block the
 * scan reads from end to end gets its exact maximum again. The exchanges,
 * and so the distances, are exactly those of the plain scan.
 */
#define OPT_BLOCK 64

static inline void bound_raise(uint32_t *bound, uint32_t pos, uint32_t prio)
{
	if (prio > bound[pos / OPT_BLOCK])
		bound[pos / OPT_BLOCK] = prio;
}

int lab_opt_stack(const uint32_t *pages, const uint32_t *next, size_t n, uint32_t npages,
		  struct lab_mrc *m)
{
	/* The stack as two parallel arrays, so that the scan reads priorities
	 * sequentially; depth[] finds a page's position. */
	uint32_t *stack = malloc(sizeof(*stack) * (npages ? npages : 1));
	uint32_t *prio = malloc(sizeof(*prio) * (npages ? npages : 1));
	uint32_t *depth = malloc(sizeof(*depth) * (npages ? npages : 1));
	uint32_t *bound = calloc(npages / OPT_BLOCK + 1, sizeof(*bound));
	uint32_t len = 0;
	int rc = -1;

	*m = (struct lab_mrc){ 0 };
	if (!stack || !prio || !depth || !bound || hist_reserve(m, npages + 1) != 0)
		goto out;
	for (uint32_t p = 0; p < npages; p++)
		depth[p] = NONE;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = pages[i], hole;

		if (x >= npages) {
			errno = EINVAL;
			goto out;
		}
		if (depth[x] == NONE) {
			m->cold++;
			hole = len++;
		} else {
			hole = depth[x];
			m->hist[hole + 1]++;
		}
		if (hole > 0) {
			/* Carry the old top down to the hole; at each position the
			 * page used sooner stays and the later one is carried on. A
			 * carried page never used again (NONE) stays the carry. */
			uint32_t carry = stack[0], carry_prio = prio[0], j = 1;

			while (j < hole && carry_prio != NONE) {
				uint32_t end = j + OPT_BLOCK, max = 0;
				bool whole = j % OPT_BLOCK == 0 && end <= hole;

				if (whole && bound[j / OPT_BLOCK] <= carry_prio) {
					j = end;
					continue;
				}
				if (!whole)
					end = j + 1;
				for (; j < end; j++) {
					uint32_t pj = prio[j];

					if (pj > carry_prio) {
						uint32_t y = stack[j];

						stack[j] = carry;
						prio[j] = carry_prio;
						depth[carry] = j;
						carry = y;
						/* pj becomes what position j now holds */
						y = carry_prio;
						carry_prio = pj;
						pj = y;
					}
					if (pj > max)
						max = pj;
				}
				if (whole)
					bound[(j - 1) / OPT_BLOCK] = max;
			}
			stack[hole] = carry;
			prio[hole] = carry_prio;
			depth[carry] = hole;
			bound_raise(bound, hole, carry_prio);
		}
		stack[0] = x;
		prio[0] = next[i] ? next[i] : NONE;
		depth[x] = 0; /* block 0, the top's, is never passed whole: no bound */
	}
	m->refs = n;
	m->distinct = len;
	rc = 0;
out:
	if (rc)
		lab_mrc_fini(m);
	free(stack);
	free(prio);
	free(depth);
	free(bound);
	return rc;
}
