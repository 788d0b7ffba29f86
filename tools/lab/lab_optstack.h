/* SPDX-License-Identifier: MIT */
/*
 * OPT stack distances on line, in O(log V) per reference: the Critical
 * Stack Algorithm of Bilardi, Ekanadham and Pattnaik ("Optimal on-line
 * computation of stack distances for MIN and OPT", CF 2017).
 *
 * The OPT (Belady MIN) stack distance of a reference, the smallest memory
 * that hits it, depends only on the references before it, so it can be
 * computed in one pass, without next-use times and without holding the
 * trace. The state is the LRU order of the pages seen, and one "critical
 * marker" for every memory size c >= 2, attached to a page; a reference
 * to the page at LRU depth D > 1 (D - 1 pages used since) finds
 *
 *     z  = the largest i < D - 1 with beta(i) = 0, where
 *          beta(i) = #{markers on the i most recent pages} - i (never < 0)
 *     c* = the smallest size whose marker lies below the z most recent pages
 *
 * and c* is its OPT stack distance. Then the markers on the page move to the
 * page just above it, which takes its place in the LRU order, the page
 * goes to the top, and c*'s marker to it. A page seen for the first time
 * is a cold miss and brings the marker of the new largest size.
 *
 * Pages are kept in time slots (their last reference), as lab_lru_stack
 * does; one segment tree over blocks of 16 slots holds, per subtree, the
 * sum of (markers - 1) over its pages, its smallest suffix sum, and the
 * smallest size among its markers; each slot's markers are a leftist heap
 * of sizes. Both queries and the four slots an update touches cost
 * O(log slots).
 * See docs/lab.md#miss-ratio-curves; checked against per-size OPT runs.
 */
#ifndef PFLAB_LAB_OPTSTACK_H
#define PFLAB_LAB_OPTSTACK_H

#include <stddef.h>
#include <stdint.h>

#include "lab_stackdist.h"

struct lab_opt_online;

struct lab_opt_online *lab_opt_online_create(void);
void lab_opt_online_destroy(struct lab_opt_online *s);
/* Feed dense page numbers in reference order. 0, or -1 with errno ENOMEM
 * (out of memory) or EPROTO (an invariant of the algorithm failed: a bug);
 * the references before the failing one are counted, the state is as it
 * was before it. */
int lab_opt_online_feed(struct lab_opt_online *s, const uint32_t *pages, size_t n);
const struct lab_mrc *lab_opt_online_mrc(const struct lab_opt_online *s);

#endif /* PFLAB_LAB_OPTSTACK_H */
