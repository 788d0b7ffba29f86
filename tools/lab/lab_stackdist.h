/* SPDX-License-Identifier: MIT */
/*
 * Stack distances (Mattson, Gecsei, Slutz, Traiger, "Evaluation techniques
 * for storage hierarchies", IBM Systems Journal 9(2), 1970): for a stack
 * algorithm, the memory of c frames always holds the c pages at the top of
 * one priority stack, so a reference hits with c frames exactly when its
 * page is at depth <= c. One pass that records each reference's depth gives
 * the fault count of every memory size at once:
 *
 *     faults(c) = cold misses + #{re-references at depth > c}
 *
 * LRU's stack is ordered by recency: the depth of a re-reference is one
 * plus the number of distinct pages referenced since the page's previous
 * reference. lab_lru_stack counts them in O(log n): every page's last
 * reference time is a mark, and the marks after a time are counted with a
 * Fenwick tree over 64-time blocks plus a bitmap within a block.
 *
 * OPT's stack is ordered by priority = the time of next use (Mattson's OPT
 * stack). lab_opt_stack updates it as the paper does: the page referenced
 * goes to the top, and the page carried down from the top is exchanged,
 * position by position down to the page's old depth, with any page whose
 * next use is later. That is O(depth) per reference, O(n * D) for a trace
 * of n references of mean depth D (worst case O(n * distinct)); the carry
 * stops as soon as it holds a page never used again, which no page can
 * displace, and blocks of 64 positions whose priorities are all below the
 * carry's are passed whole (an upper bound per block), the same exchanges
 * found 2-3x sooner. pflab mrc computes OPT's distances on line in
 * O(log n) instead (lab_optstack.h); this update is kept as the
 * independent model the tests check that one against.
 */
#ifndef PFLAB_LAB_STACKDIST_H
#define PFLAB_LAB_STACKDIST_H

#include <stddef.h>
#include <stdint.h>

/* A histogram of stack distances: what a miss-ratio curve is made from. */
struct lab_mrc {
	uint64_t refs;
	uint64_t cold;       /* first references: misses at every size */
	uint32_t distinct;   /* pages seen */
	uint64_t *hist;      /* hist[d], 1 <= d <= distinct: re-references at depth d */
	uint32_t hist_len;   /* entries allocated (> distinct) */
};

void lab_mrc_fini(struct lab_mrc *m);

/*
 * faults[c - 1] = the fault count with c frames, for c = 1 .. m->distinct
 * (beyond that, every count is m->cold). faults has m->distinct entries.
 */
void lab_mrc_faults(const struct lab_mrc *m, uint64_t *faults);

/* LRU, streaming: feed dense page numbers in reference order. */
struct lab_lru_stack;

struct lab_lru_stack *lab_lru_stack_create(void);
void lab_lru_stack_destroy(struct lab_lru_stack *s);
/* 0, or -1 out of memory (the state is then unchanged past the failing reference). */
int lab_lru_stack_feed(struct lab_lru_stack *s, const uint32_t *pages, size_t n);
const struct lab_mrc *lab_lru_stack_mrc(const struct lab_lru_stack *s);

/*
 * OPT, on a whole trace: pages[i] < npages are dense page numbers, next[i]
 * the 1-based time of the next reference to the same page, 0 for none (as
 * sim_next_use() fills it). Fills *m (lab_mrc_fini() it). 0 or -1 (ENOMEM).
 */
int lab_opt_stack(const uint32_t *pages, const uint32_t *next, size_t n, uint32_t npages,
		  struct lab_mrc *m);

#endif /* PFLAB_LAB_STACKDIST_H */
