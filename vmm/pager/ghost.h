/* SPDX-License-Identifier: MIT */
/*
 * A ghost directory: the numbers of pages recently evicted, on one or two
 * lists in the order they left memory, so that a fault can tell in O(1)
 * whether its page left recently and from which list (2Q's A1out, S3-FIFO's
 * G, ARC's and CAR's B1 and B2).
 *
 * Ghosts are indexed by page, not by frame: per page, its links (an ilist
 * node) and the list that holds it, one byte. Both arrays grow with the page
 * table, from the policy's grow(). The lists are numbered from 1, so that
 * the byte reads "on no list" as 0 and a policy can name its lists with an
 * enum starting at GHOST_NONE + 1. A page is on at most one list.
 *
 * LIRS and CLOCK-Pro have no such directory: their non-resident pages stay
 * in their stack or on their clock, in order with the resident ones.
 */
#ifndef PFLAB_GHOST_H
#define PFLAB_GHOST_H

#include <stdlib.h>

#include "ilist.h"

#define GHOST_NONE  0 /* ghost_which(): the page is remembered on no list */
#define GHOST_LISTS 2 /* lists 1 and 2 */

struct ghost_dir {
	struct ilist list[GHOST_LISTS]; /* list[k - 1] is list k; head is newest */
	struct inode *node;             /* per page: links in its list */
	uint8_t *which;                 /* per page: its list, or GHOST_NONE */
	uint32_t npages;                /* size of node and which */
};

/* Make room for pages [0, npages); new pages are remembered nowhere.
 * Returns -1 if out of memory, leaving the directory as it was but usable. */
static inline int ghost_dir_grow(struct ghost_dir *g, uint32_t npages)
{
	struct inode *node;
	uint8_t *which;

	if (npages <= g->npages)
		return 0;
	node = realloc(g->node, sizeof(*node) * npages);
	if (!node)
		return -1;
	g->node = node;
	which = realloc(g->which, npages);
	if (!which)
		return -1;
	g->which = which;
	for (uint32_t i = g->npages; i < npages; i++)
		which[i] = GHOST_NONE;
	g->npages = npages;
	return 0;
}

/* An empty directory for pages [0, npages). On failure (-1), ghost_dir_free()
 * still releases what was allocated. */
static inline int ghost_dir_init(struct ghost_dir *g, uint32_t npages)
{
	for (unsigned k = 0; k < GHOST_LISTS; k++)
		ilist_init(&g->list[k]);
	g->node = NULL;
	g->which = NULL;
	g->npages = 0;
	return ghost_dir_grow(g, npages);
}

static inline void ghost_dir_free(struct ghost_dir *g)
{
	free(g->node);
	free(g->which);
	g->node = NULL;
	g->which = NULL;
	g->npages = 0;
}

/* The list that remembers page vpn, or GHOST_NONE. */
static inline unsigned ghost_which(const struct ghost_dir *g, uint32_t vpn)
{
	return g->which[vpn];
}

/* How many pages list k remembers. */
static inline uint32_t ghost_len(const struct ghost_dir *g, unsigned k)
{
	return g->list[k - 1].len;
}

/* Remember page vpn, on no list now, as the newest of list k. */
static inline void ghost_push(struct ghost_dir *g, unsigned k, uint32_t vpn)
{
	ilist_push_head(&g->list[k - 1], g->node, vpn);
	g->which[vpn] = (uint8_t)k;
}

/* Forget page vpn, which a list remembers (its page came back). */
static inline void ghost_forget(struct ghost_dir *g, uint32_t vpn)
{
	ilist_unlink(&g->list[g->which[vpn] - 1], g->node, vpn);
	g->which[vpn] = GHOST_NONE;
}

/* Forget the oldest page of list k and return it; ILIST_NONE if k is empty. */
static inline uint32_t ghost_drop_oldest(struct ghost_dir *g, unsigned k)
{
	uint32_t vpn = ilist_pop_tail(&g->list[k - 1], g->node);

	if (vpn != ILIST_NONE)
		g->which[vpn] = GHOST_NONE;
	return vpn;
}

#endif /* PFLAB_GHOST_H */
