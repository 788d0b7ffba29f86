/* SPDX-License-Identifier: MIT */
/*
 * The synthetic workloads' generators (scan, random, stride, matmul, list,
 * copy: docs/vmm.md), written once for the two programs that run them: the
 * freestanding guest (guest/workloads.c) and a host process
 * (vmm/uvm/workload.c, `pflab proc`). Both include this header, so their
 * reference strings, their random numbers and the data they write and check
 * are the same by construction, which is what lets the tests hold a KVM
 * run, a `pflab proc` run and `pflab sim` to the same counts.
 *
 * Header-only and freestanding: static inline functions, no libc, no
 * allocation (the list's scratch order comes from the caller). A generator
 * works on a slice of pages numbered 0 .. npages - 1 at base; the client
 * supplies what differs between a guest and a process through struct
 * wlg_ops (how a page is written, checked and counted, how a mismatch is
 * reported, how memory is copied).
 *
 * Each workload counts its page references (immediate repeats merged, the
 * client's ref hook) and checks every word it reads against what it wrote:
 * pflab_pattern(page, version, word) (guest/abi.h) for whole pages, a
 * closed form for the matrix product, a stamp per node for the list. Pages
 * are named in the pattern and the stamps by their number in the whole
 * region, first + vpn, so slices of one region never hold the same words.
 */
#ifndef PFLAB_WORKLOAD_GEN_H
#define PFLAB_WORKLOAD_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

/* The client's half. vpn is a page of the slice, 0 .. npages - 1. */
struct wlg_ops {
	/* Write a new version of page vpn (pflab_pattern in every word,
	 * wlg_fill) and count the reference. */
	void (*write)(void *ctx, uint32_t vpn);
	/* Check page vpn against its version (wlg_verify), count the
	 * reference, report a mismatch. */
	void (*check)(void *ctx, uint32_t vpn);
	/* Count a reference to page vpn (immediate repeats merged). */
	void (*ref)(void *ctx, uint32_t vpn);
	/* A mismatch on page vpn at byte offset off of the page. */
	void (*mismatch)(void *ctx, uint32_t vpn, uint32_t off, uint64_t want, uint64_t got);
	/* Copy bytes from src to dst (the guest's is one `rep movsb`). */
	void (*copy)(volatile void *dst, const volatile void *src, uint64_t bytes);
};

/* One run of a generator on one slice. */
struct wlg {
	const struct wlg_ops *ops;
	void *ctx;                /* the ops' first argument */
	volatile uint8_t *base;   /* page 0 of the slice */
	uint32_t first;           /* the slice's first page in the region */
	uint32_t npages;
	uint32_t page_size;
	uint32_t passes;
	uint64_t *rng;            /* wlg_rand64's state */
	const uint32_t *version;  /* per page of the slice: writes so far (the copy's check) */
};

/* The passes of a workload when none are asked for. */
static inline uint32_t pflab_workload_passes(uint32_t workload)
{
	switch (workload) {
	case WL_SCAN: return 2;   /* write pass + verify pass */
	case WL_RANDOM: return 4; /* 4 x pages references */
	case WL_STRIDE: return 2;
	case WL_LIST: return 2;
	case WL_COPY: return 2;
	case WL_DMA: return 2;    /* device -> memory -> device -> memory */
	case WL_SHARED: return 3; /* rounds of A then B */
	case WL_GATHER: return 1; /* one pass of reads after the set-up */
	case WL_DSM_SC: case WL_DSM_COUNTER: case WL_DSM_FALSE: case WL_DSM_APART:
		return 200; /* iterations of each node */
	default: return 1;
	}
}

/* xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
 * generators, scrambled", 2016): small, seedable, good enough to pick
 * pages. The state must not be 0: wlg_seed gives a nonzero one. */
static inline uint64_t wlg_rand64(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

static inline uint64_t wlg_seed(uint64_t seed)
{
	return seed * 0x9e3779b97f4a7c15ull + 1;
}

/* A page's words: version v of page in every word i. */
static inline void wlg_fill(volatile uint64_t *w, uint32_t words, uint32_t page, uint32_t v)
{
	for (uint32_t i = 0; i < words; i++)
		w[i] = pflab_pattern(page, v, i);
}

/* The first word of w that is not version v of page: its index, with what
 * it should hold and what it holds; words if there is none. */
static inline uint32_t wlg_verify(const volatile uint64_t *w, uint32_t words, uint32_t page,
				  uint32_t v, uint64_t *want, uint64_t *got)
{
	for (uint32_t i = 0; i < words; i++) {
		uint64_t g = w[i], x = pflab_pattern(page, v, i);

		if (g != x) {
			*want = x;
			*got = g;
			return i;
		}
	}
	return words;
}

static inline volatile uint64_t *wlg_page(const struct wlg *x, uint32_t vpn)
{
	return (volatile uint64_t *)(x->base + (uint64_t)vpn * x->page_size);
}

/* scan: one write pass in page order, then passes - 1 verify passes. */
static inline void wlg_scan(const struct wlg *x)
{
	for (uint32_t vpn = 0; vpn < x->npages; vpn++)
		x->ops->write(x->ctx, vpn);
	for (uint32_t pass = 1; pass < x->passes; pass++)
		for (uint32_t vpn = 0; vpn < x->npages; vpn++)
			x->ops->check(x->ctx, vpn);
}

/* random: passes x npages uniformly random pages, one in four a write. */
static inline void wlg_random(const struct wlg *x)
{
	uint64_t n = (uint64_t)x->passes * x->npages;

	for (uint64_t k = 0; k < n; k++) {
		uint64_t r = wlg_rand64(x->rng);
		uint32_t vpn = (uint32_t)((r >> 8) % x->npages);

		if ((r & 3) == 0)
			x->ops->write(x->ctx, vpn);
		else
			x->ops->check(x->ctx, vpn);
	}
}

static inline uint32_t wlg_gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* stride: the pages in the order 0, s, 2s, ... mod P with s the first
 * number from 17 up coprime to P: every page once per pass, never two
 * neighbours in a row; the first pass writes, the others check. */
static inline void wlg_stride(const struct wlg *x)
{
	uint32_t s = 17;

	if (x->npages == 0)
		return;
	while (wlg_gcd(s, x->npages) != 1)
		s++;
	for (uint32_t pass = 0; pass < x->passes; pass++) {
		uint32_t vpn = 0;

		for (uint32_t k = 0; k < x->npages; k++) {
			if (pass == 0)
				x->ops->write(x->ctx, vpn);
			else
				x->ops->check(x->ctx, vpn);
			vpn = (uint32_t)(((uint64_t)vpn + s) % x->npages);
		}
	}
}

static inline uint32_t wlg_isqrt(uint64_t x)
{
	uint64_t r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return (uint32_t)r;
}

/* Element (i, j) of an n x n matrix of 64-bit words at byte offset at of
 * the slice, counting the page reference. */
static inline volatile uint64_t *wlg_elem(const struct wlg *x, uint64_t at, uint32_t n,
					  uint32_t i, uint32_t j)
{
	uint64_t off = at + ((uint64_t)i * n + j) * 8;

	x->ops->ref(x->ctx, (uint32_t)(off / x->page_size));
	return (volatile uint64_t *)(x->base + off);
}

/* matmul: C = A x B with B = 3I, in ikj order (the row-wise order a C
 * programmer writes): every row of A walks all of B. The three n x n
 * matrices fill the slice; after passes products added into C, C must be
 * 3 x passes x A. */
static inline void wlg_matmul(const struct wlg *x)
{
	uint32_t n = wlg_isqrt((uint64_t)x->npages * x->page_size / 24);
	uint64_t a = 0, b = (uint64_t)n * n * 8, c = 2 * b;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			*wlg_elem(x, a, n, i, j) = (uint64_t)i * 131 + j + 1;
			*wlg_elem(x, b, n, i, j) = i == j ? 3 : 0;
			*wlg_elem(x, c, n, i, j) = 0;
		}
	for (uint32_t pass = 0; pass < x->passes; pass++)
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t k = 0; k < n; k++) {
				uint64_t aik = *wlg_elem(x, a, n, i, k);

				for (uint32_t j = 0; j < n; j++)
					*wlg_elem(x, c, n, i, j) += aik * *wlg_elem(x, b, n, k, j);
			}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			uint64_t want = 3ull * x->passes * ((uint64_t)i * 131 + j + 1);
			uint64_t got = *wlg_elem(x, c, n, i, j);

			if (got != want) {
				uint64_t off = c + ((uint64_t)i * n + j) * 8;

				x->ops->mismatch(x->ctx, (uint32_t)(off / x->page_size),
						 (uint32_t)(off % x->page_size), want, got);
			}
		}
}

/* The list's node on page vpn of the slice: spread over the page offsets
 * too, by the page's number in the region. */
struct wlg_node {
	uint64_t next;
	uint64_t stamp;
};

static inline uint32_t wlg_node_off(const struct wlg *x, uint32_t vpn)
{
	return (x->first + vpn) % 256 * (uint32_t)sizeof(struct wlg_node);
}

static inline volatile struct wlg_node *wlg_node(const struct wlg *x, uint32_t vpn)
{
	return (volatile struct wlg_node *)((volatile uint8_t *)wlg_page(x, vpn) +
					    wlg_node_off(x, vpn));
}

static inline uint64_t wlg_node_stamp(const struct wlg *x, uint32_t vpn)
{
	return (uint64_t)(x->first + vpn + 1) << 32 | 0x5157;
}

/* list: one node per page, linked in a random cyclic order (Sattolo's
 * shuffle gives a single cycle through every page: S. Sattolo, "An
 * algorithm to generate a random cyclic permutation", Information
 * Processing Letters 22(6), 1986), then chased passes times from page 0,
 * checking each node's stamp and that every pass comes back to page 0.
 * order: npages words of the caller's. */
static inline void wlg_list(const struct wlg *x, uint32_t *order)
{
	uint32_t n = x->npages, cur = 0;

	if (n == 0)
		return;
	for (uint32_t k = 0; k < n; k++)
		order[k] = k;
	for (uint32_t k = n - 1; k > 0; k--) {
		uint32_t j = (uint32_t)(wlg_rand64(x->rng) % k), t = order[k];

		order[k] = order[j];
		order[j] = t;
	}
	/* order[] is now a single cycle: vpn -> order[vpn]. */
	for (uint32_t vpn = 0; vpn < n; vpn++) {
		volatile struct wlg_node *nd = wlg_node(x, vpn);

		x->ops->ref(x->ctx, vpn);
		nd->next = order[vpn];
		nd->stamp = wlg_node_stamp(x, vpn);
	}
	for (uint32_t pass = 0; pass < x->passes; pass++) {
		for (uint32_t k = 0; k < n; k++) {
			volatile struct wlg_node *nd = wlg_node(x, cur);
			uint64_t stamp = nd->stamp, next = nd->next;

			x->ops->ref(x->ctx, cur);
			if (stamp != wlg_node_stamp(x, cur) || next >= n) {
				x->ops->mismatch(x->ctx, cur, wlg_node_off(x, cur),
						 wlg_node_stamp(x, cur), stamp);
				return;
			}
			cur = (uint32_t)next;
		}
		if (cur != 0) {
			x->ops->mismatch(x->ctx, cur, 0, 0, cur);
			return;
		}
	}
}

/* copy: fill the low half, copy it onto the high half with one copy that
 * crosses every page (the guest's `rep movsb` faults, and restarts, in the
 * middle of the instruction), count both halves' references, check both
 * halves; again with a new version each pass. */
static inline void wlg_copy(const struct wlg *x)
{
	uint32_t half = x->npages / 2, words = x->page_size / 8;

	for (uint32_t pass = 0; pass < x->passes; pass++) {
		for (uint32_t vpn = 0; vpn < half; vpn++)
			x->ops->write(x->ctx, vpn);
		x->ops->copy(wlg_page(x, half), wlg_page(x, 0), (uint64_t)half * x->page_size);
		for (uint32_t vpn = 0; vpn < half; vpn++) {
			x->ops->ref(x->ctx, vpn);
			x->ops->ref(x->ctx, half + vpn);
		}
		for (uint32_t vpn = 0; vpn < half; vpn++) {
			uint64_t want, got;
			uint32_t i;

			x->ops->ref(x->ctx, half + vpn);
			i = wlg_verify(wlg_page(x, half + vpn), words, x->first + vpn,
				       x->version[vpn], &want, &got);
			if (i < words)
				x->ops->mismatch(x->ctx, half + vpn, i * 8, want, got);
			x->ops->check(x->ctx, vpn);
		}
	}
}

#endif /* PFLAB_WORKLOAD_GEN_H */
