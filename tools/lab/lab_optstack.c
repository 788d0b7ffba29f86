// SPDX-License-Identifier: MIT
/* OPT stack distances on line (Critical Stack Algorithm): see lab_optstack.h. */
#include "lab_optstack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define MIN_SLOTS 1024u

/*
 * The tree's leaves are blocks of BLOCK slots, each summed by a scan of its
 * slots when one changes, so that the tree is small enough to stay in the
 * caches. A node covers a run of slots: the sum of h over them, where h is
 * (markers - 1) for a slot holding a page and 0 for one that holds none,
 * the smallest sum over a non-empty suffix of the run, and the smallest
 * size whose marker it holds (NONE: no marker).
 */
#define BLOCK 16u
struct node {
	int32_t sum;
	int32_t msuf;
	uint32_t mlev;
};

struct lab_opt_online {
	struct lab_mrc mrc;
	uint32_t *last;     /* per page: the slot of its last reference, or NONE */
	uint32_t npages;    /* entries of last[]; the size arrays hold npages + 1 */
	uint32_t seen;      /* 1 + the largest page number fed */
	/* per size c >= 2: its marker as a node of a leftist heap, 0 = none */
	uint32_t *hl, *hr;
	uint8_t *hrank;
	/* per slot (time of a last reference, oldest first) */
	uint32_t cap;       /* slots, a power of two */
	uint32_t now;       /* the next free slot */
	uint32_t live;      /* slots holding a page = pages seen */
	uint32_t *heap;     /* per slot: its markers (a heap root), 0 = none */
	int32_t *h;         /* per slot: markers - 1 if it holds a page, else 0 */
	uint64_t *bits;     /* per slot: holds a page */
	uint64_t *summary;  /* per word of bits: not zero */
	uint32_t nblocks;   /* cap / BLOCK */
	struct node *tree;  /* 2 * nblocks nodes: node 1 the root, block b at nblocks + b */
};

/* ---------------------------------------------------------------- heaps */

static uint32_t heap_merge(struct lab_opt_online *s, uint32_t a, uint32_t b)
{
	uint32_t t;

	if (!a)
		return b;
	if (!b)
		return a;
	if (b < a) {
		t = a;
		a = b;
		b = t;
	}
	s->hr[a] = heap_merge(s, s->hr[a], b);
	if (s->hrank[s->hl[a]] < s->hrank[s->hr[a]]) {
		t = s->hl[a];
		s->hl[a] = s->hr[a];
		s->hr[a] = t;
	}
	s->hrank[a] = (uint8_t)(s->hrank[s->hr[a]] + 1);
	return a;
}

static void heap_single(struct lab_opt_online *s, uint32_t c)
{
	s->hl[c] = s->hr[c] = 0;
	s->hrank[c] = 1;
}

/* ----------------------------------------------------------------- tree */

/* Block b's node, from its slots. */
static void block_set(struct lab_opt_online *s, uint32_t b)
{
	const int32_t *h = s->h + b * BLOCK;
	const uint32_t *heap = s->heap + b * BLOCK;
	int32_t sum = 0, msuf = INT32_MAX;
	uint32_t low = UINT32_MAX; /* the smallest size - 1: 0 (no marker) wraps */

	for (uint32_t j = BLOCK; j-- > 0;) {
		sum += h[j];
		msuf = sum < msuf ? sum : msuf;
	}
	for (uint32_t j = 0; j < BLOCK; j++)
		low = heap[j] - 1 < low ? heap[j] - 1 : low;
	s->tree[s->nblocks + b] = (struct node){ sum, msuf, low == UINT32_MAX ? NONE : low + 1 };
}

/* Node i from its children; false if it did not change. */
static inline bool pull(struct node *t, uint32_t i)
{
	const struct node *l = &t[2 * i], *r = &t[2 * i + 1];
	int32_t m = l->msuf + r->sum;
	struct node n = {
		.sum = l->sum + r->sum,
		.msuf = r->msuf < m ? r->msuf : m,
		.mlev = l->mlev < r->mlev ? l->mlev : r->mlev,
	};
	bool changed = n.sum != t[i].sum || n.msuf != t[i].msuf || n.mlev != t[i].mlev;

	t[i] = n;
	return changed;
}

/*
 * Recompute the blocks of up to four changed slots, then their ancestors
 * level by level, each node once, and only those with a child that changed.
 */
static void update(struct lab_opt_online *s, const uint32_t *slots, int n)
{
	uint32_t idx[4];
	bool changed[4];
	int k = 0;

	for (int i = 0; i < n; i++) { /* insertion sort of the leaves, no duplicates */
		uint32_t v = slots[i] / BLOCK + s->nblocks;
		struct node old;
		int j = k;

		while (j > 0 && idx[j - 1] > v)
			j--;
		if (j > 0 && idx[j - 1] == v)
			continue;
		memmove(idx + j + 1, idx + j, sizeof(*idx) * (size_t)(k - j));
		memmove(changed + j + 1, changed + j, sizeof(*changed) * (size_t)(k - j));
		old = s->tree[v];
		block_set(s, v - s->nblocks);
		idx[j] = v;
		changed[j] = old.sum != s->tree[v].sum || old.msuf != s->tree[v].msuf ||
			     old.mlev != s->tree[v].mlev;
		k++;
	}
	while (k > 0 && idx[0] > 1) {
		int m = 0;

		for (int i = 0; i < k; i++) {
			uint32_t p = idx[i] >> 1;

			if (m > 0 && idx[m - 1] == p) {
				changed[m - 1] |= changed[i];
				continue;
			}
			idx[m] = p;
			changed[m++] = changed[i];
		}
		k = 0;
		for (int i = 0; i < m; i++) {
			if (changed[i]) {
				idx[k] = idx[i];
				changed[k++] = pull(s->tree, idx[i]);
			}
		}
	}
}

/* The leftmost slot of block b at or after `from` whose suffix sum, plus
 * acc for the slots after the block, is 0; NONE if none. */
static uint32_t block_zero(const struct lab_opt_online *s, uint32_t b, uint32_t from, int32_t acc)
{
	uint32_t found = NONE;

	for (uint32_t j = (b + 1) * BLOCK; j-- > from;) {
		acc += s->h[j];
		if (acc == 0)
			found = j;
	}
	return found;
}

/* The leftmost slot p >= lo whose suffix sum (p to the last slot) is 0. The
 * sums are never negative (beta >= 0), and every slot from now on is free,
 * so one exists at or before now (NONE if not: a broken invariant). */
static uint32_t find_zero(const struct lab_opt_online *s, uint32_t lo)
{
	const struct node *t = s->tree;
	uint32_t nodes[40], b0 = lo / BLOCK, p;
	int32_t acc[40];
	int k = 0;

	for (uint32_t l = b0 + 1 + s->nblocks, r = 2 * s->nblocks; l < r; l >>= 1, r >>= 1)
		if (l & 1)
			nodes[k++] = l++;
	/* acc[j]: the sum of the nodes after node j; acc[k] that of them all */
	acc[k] = 0;
	for (int j = k; j > 0; j--)
		acc[j - 1] = acc[j] + t[nodes[j - 1]].sum;
	/* acc[0] is the sum after block b0 */
	if ((p = block_zero(s, b0, lo, acc[0])) != NONE)
		return p;
	for (int j = 0; j < k; j++) {
		uint32_t i = nodes[j];
		int32_t a = acc[j + 1];

		if (t[i].msuf + a != 0)
			continue;
		while (i < s->nblocks) {
			if (t[2 * i].msuf + t[2 * i + 1].sum + a == 0) {
				a += t[2 * i + 1].sum;
				i = 2 * i;
			} else {
				i = 2 * i + 1;
			}
		}
		i -= s->nblocks;
		return block_zero(s, i, i * BLOCK, a);
	}
	return s->now;
}

/* The smallest size with a marker in slots [0, p), and its slot. */
static uint32_t min_marker(const struct lab_opt_online *s, uint32_t p, uint32_t *slot)
{
	const struct node *t = s->tree;
	uint32_t best = NONE, at = 0, b;

	for (uint32_t j = p / BLOCK * BLOCK; j < p; j++) { /* p's block, up to p */
		if (s->heap[j] && s->heap[j] < best) {
			best = s->heap[j];
			*slot = j;
		}
	}
	for (uint32_t l = s->nblocks, r = p / BLOCK + s->nblocks; l < r; l >>= 1, r >>= 1) {
		if (l & 1) {
			if (t[l].mlev < best) {
				best = t[l].mlev;
				at = l;
			}
			l++;
		}
		if (r & 1) {
			r--;
			if (t[r].mlev < best) {
				best = t[r].mlev;
				at = r;
			}
		}
	}
	if (best == NONE || !at)
		return best;
	while (at < s->nblocks)
		at = t[2 * at].mlev == best ? 2 * at : 2 * at + 1;
	b = at - s->nblocks;
	for (uint32_t j = b * BLOCK; j < (b + 1) * BLOCK; j++)
		if (s->heap[j] == best)
			*slot = j;
	return best;
}

/* ---------------------------------------------------------------- slots */

static void bit_set(struct lab_opt_online *s, uint32_t slot)
{
	s->bits[slot / 64] |= 1ULL << (slot % 64);
	s->summary[slot / 4096] |= 1ULL << (slot / 64 % 64);
}

static void bit_clear(struct lab_opt_online *s, uint32_t slot)
{
	s->bits[slot / 64] &= ~(1ULL << (slot % 64));
	if (!s->bits[slot / 64])
		s->summary[slot / 4096] &= ~(1ULL << (slot / 64 % 64));
}

/* The first slot after `slot` that holds a page, or NONE. */
static uint32_t next_live(const struct lab_opt_online *s, uint32_t slot)
{
	uint32_t w = slot / 64, b = slot % 64, nwords = s->cap / 64;
	uint64_t m = b == 63 ? 0 : s->bits[w] & (~0ULL << (b + 1));

	if (m)
		return w * 64 + (uint32_t)__builtin_ctzll(m);
	for (w++; w < nwords;) {
		uint64_t sm = s->summary[w / 64] & (~0ULL << (w % 64));

		if (sm) {
			w = w / 64 * 64 + (uint32_t)__builtin_ctzll(sm);
			return w * 64 + (uint32_t)__builtin_ctzll(s->bits[w]);
		}
		w = (w / 64 + 1) * 64;
	}
	return NONE;
}

/* Allocate the slot arrays for `cap` slots, all free. */
static int slots_alloc(struct lab_opt_online *s, uint32_t cap)
{
	s->cap = cap;
	s->nblocks = cap / BLOCK;
	s->heap = calloc(cap, sizeof(*s->heap));
	s->h = calloc(cap, sizeof(*s->h));
	s->bits = calloc(cap / 64, sizeof(*s->bits));
	s->summary = calloc(cap / 4096 + 1, sizeof(*s->summary));
	s->tree = malloc(sizeof(*s->tree) * 2 * s->nblocks);
	if (!s->heap || !s->h || !s->bits || !s->summary || !s->tree)
		return -1;
	for (uint32_t i = 0; i < 2 * s->nblocks; i++)
		s->tree[i] = (struct node){ 0, 0, NONE };
	return 0;
}

static void slots_free(struct lab_opt_online *s)
{
	free(s->heap);
	free(s->h);
	free(s->bits);
	free(s->summary);
	free(s->tree);
}

/* Renumber the pages' slots 0 .. live-1 in order, with at least as many free. */
static int compact(struct lab_opt_online *s)
{
	struct lab_opt_online old = *s;
	uint64_t want = MIN_SLOTS;
	uint32_t *rank = malloc(sizeof(*rank) * (old.cap / 64));
	uint32_t k = 0;

	while (want < 2 * (uint64_t)s->live)
		want *= 2;
	if (!rank || want > (1ULL << 31) || slots_alloc(s, (uint32_t)want) != 0) {
		slots_free(s);
		*s = old; /* unchanged */
		free(rank);
		errno = ENOMEM;
		return -1;
	}
	for (uint32_t w = 0; w < old.cap / 64; w++) {
		rank[w] = k;
		for (uint64_t m = old.bits[w]; m; m &= m - 1) {
			uint32_t from = w * 64 + (uint32_t)__builtin_ctzll(m);

			s->heap[k] = old.heap[from];
			s->h[k] = old.h[from];
			bit_set(s, k);
			k++;
		}
	}
	for (uint32_t p = 0; p < s->seen; p++) {
		uint32_t l = s->last[p];

		if (l != NONE)
			s->last[p] = rank[l / 64] +
				     (uint32_t)__builtin_popcountll(old.bits[l / 64] &
								    ((1ULL << (l % 64)) - 1));
	}
	for (uint32_t b = 0; b < s->nblocks; b++)
		block_set(s, b);
	for (uint32_t i = s->nblocks - 1; i >= 1; i--)
		(void)pull(s->tree, i);
	s->now = k;
	free(rank);
	slots_free(&old);
	return 0;
}

/* ---------------------------------------------------------------- pages */

static int grow_pages(struct lab_opt_online *s, uint32_t page)
{
	uint64_t want = (uint64_t)s->npages * 2;
	uint32_t *last, *hl, *hr;
	uint64_t *hist;
	uint8_t *hrank;

	if (want < (uint64_t)page + 1)
		want = (uint64_t)page + 1;
	if (want < 1024)
		want = 1024;
	if (want >= NONE - 1)
		want = NONE - 2;
	if (page >= want)
		goto fail;
	if (!(last = realloc(s->last, sizeof(*last) * want)))
		goto fail;
	s->last = last;
	for (uint32_t p = s->npages; p < want; p++)
		last[p] = NONE;
	if (!(hl = realloc(s->hl, sizeof(*hl) * (want + 1))))
		goto fail;
	s->hl = hl;
	if (!(hr = realloc(s->hr, sizeof(*hr) * (want + 1))))
		goto fail;
	s->hr = hr;
	if (!(hrank = realloc(s->hrank, want + 1)))
		goto fail;
	s->hrank = hrank;
	hrank[0] = 0; /* the empty heap */
	if (!(hist = realloc(s->mrc.hist, sizeof(*hist) * (want + 1))))
		goto fail;
	memset(hist + s->mrc.hist_len, 0, sizeof(*hist) * (want + 1 - s->mrc.hist_len));
	s->mrc.hist = hist;
	s->mrc.hist_len = (uint32_t)want + 1;
	s->npages = (uint32_t)want;
	return 0;
fail:
	errno = ENOMEM;
	return -1;
}

struct lab_opt_online *lab_opt_online_create(void)
{
	struct lab_opt_online *s = calloc(1, sizeof(*s));

	if (!s || slots_alloc(s, MIN_SLOTS) != 0) {
		lab_opt_online_destroy(s);
		return NULL;
	}
	return s;
}

void lab_opt_online_destroy(struct lab_opt_online *s)
{
	if (!s)
		return;
	lab_mrc_fini(&s->mrc);
	free(s->last);
	free(s->hl);
	free(s->hr);
	free(s->hrank);
	slots_free(s);
	free(s);
}

const struct lab_mrc *lab_opt_online_mrc(const struct lab_opt_online *s)
{
	return &s->mrc;
}

/* A page seen for the first time: the top, with the new largest size's marker. */
static void first_reference(struct lab_opt_online *s, uint32_t page)
{
	uint32_t t = s->now++, c = ++s->mrc.distinct;

	s->mrc.cold++;
	s->live++;
	bit_set(s, t);
	s->h[t] = -1; /* no marker yet */
	if (c >= 2) {
		heap_single(s, c);
		s->heap[t] = c;
		s->h[t] = 0;
	}
	update(s, &t, 1);
	s->last[page] = t;
}

/* A page seen before, at slot l below the top: its distance, then the move. */
static int re_reference(struct lab_opt_online *s, uint32_t page, uint32_t l)
{
	uint32_t y = next_live(s, l); /* the page just above it */
	uint32_t star = 0, c, p, t, touched[3];

	if (y == NONE)
		goto broken;
	p = find_zero(s, y + 1);
	if (p > s->now) /* NONE too */
		goto broken;
	c = min_marker(s, p, &star);
	if (c == NONE)
		goto broken;
	{ /* c's marker must top its slot's heap (l's and y's merged): checked
	   * before anything changes */
		uint32_t a = s->heap[l], b = s->heap[y];
		uint32_t top = star != l && star != y ? s->heap[star]
			       : !a ? b : !b ? a : a < b ? a : b;

		if (top != c)
			goto broken;
	}
	s->mrc.hist[c]++;
	/* y takes the page's place, with its markers */
	s->heap[y] = heap_merge(s, s->heap[y], s->heap[l]);
	s->h[y] += s->h[l] + 1;
	s->heap[l] = 0;
	s->h[l] = 0;
	bit_clear(s, l);
	if (star == l)
		star = y;
	s->heap[star] = heap_merge(s, s->hl[c], s->hr[c]);
	s->h[star]--;
	/* the page on top, holding c's marker */
	t = s->now++;
	heap_single(s, c);
	s->heap[t] = c;
	s->h[t] = 0;
	bit_set(s, t);
	s->last[page] = t;
	touched[0] = l;
	touched[1] = y;
	touched[2] = star;
	update(s, touched, 3);
	/* t was a free slot: its h is 0 before and after, so only the smallest
	 * sizes on its way to the root can change, to c */
	for (uint32_t i = t / BLOCK + s->nblocks; i >= 1 && s->tree[i].mlev > c; i >>= 1)
		s->tree[i].mlev = c;
	return 0;
broken: /* an invariant of the algorithm does not hold: a bug, not an input */
	errno = EPROTO;
	return -1;
}

int lab_opt_online_feed(struct lab_opt_online *s, const uint32_t *pages, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t page = pages[i], l;

		if (__builtin_expect(page >= s->npages, 0) && grow_pages(s, page) != 0)
			return -1;
		/* Bound by memory latency: a page's slot is old and random. So
		 * last[] is prefetched 16 references ahead, and the slot it names
		 * 8 ahead (a hint only: the page may move before its turn). */
		if (i + 16 < n && pages[i + 16] < s->npages)
			__builtin_prefetch(&s->last[pages[i + 16]]);
		if (i + 8 < n && pages[i + 8] < s->npages) {
			uint32_t ahead = s->last[pages[i + 8]];

			if (ahead < s->cap) {
				__builtin_prefetch(&s->heap[ahead]);
				__builtin_prefetch(&s->h[ahead]);
				__builtin_prefetch(&s->bits[ahead / 64]);
			}
		}
		if (page >= s->seen)
			s->seen = page + 1;
		if (__builtin_expect(s->now == s->cap, 0) && compact(s) != 0)
			return -1;
		l = s->last[page];
		if (l == NONE)
			first_reference(s, page);
		else if (l == s->now - 1)
			s->mrc.hist[1]++; /* already on top: nothing moves */
		else if (re_reference(s, page, l) != 0)
			return -1;
		s->mrc.refs++;
	}
	return 0;
}
