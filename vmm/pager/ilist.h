/* SPDX-License-Identifier: MIT */
/*
 * Doubly linked lists of small integers (frame or page numbers), with the
 * links kept in a caller-owned array of struct inode indexed by the integer.
 * The same node array can back several lists as long as each index is on at
 * most one of them at a time (ARC's T1/T2, a CLOCK ring, ...). O(1) insert,
 * unlink and move; no allocation.
 *
 * "head" is the most recently added end, "tail" the oldest.
 */
#ifndef PFLAB_ILIST_H
#define PFLAB_ILIST_H

#include <stdbool.h>
#include <stdint.h>

#define ILIST_NONE UINT32_MAX

struct inode {
	uint32_t prev, next; /* ILIST_NONE at the ends */
};

struct ilist {
	uint32_t head, tail;
	uint32_t len;
};

static inline void ilist_init(struct ilist *l)
{
	l->head = l->tail = ILIST_NONE;
	l->len = 0;
}

static inline void ilist_push_head(struct ilist *l, struct inode *n, uint32_t i)
{
	n[i].prev = ILIST_NONE;
	n[i].next = l->head;
	if (l->head != ILIST_NONE)
		n[l->head].prev = i;
	else
		l->tail = i;
	l->head = i;
	l->len++;
}

static inline void ilist_push_tail(struct ilist *l, struct inode *n, uint32_t i)
{
	n[i].next = ILIST_NONE;
	n[i].prev = l->tail;
	if (l->tail != ILIST_NONE)
		n[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
	l->len++;
}

static inline void ilist_unlink(struct ilist *l, struct inode *n, uint32_t i)
{
	uint32_t p = n[i].prev, x = n[i].next;

	if (p != ILIST_NONE)
		n[p].next = x;
	else
		l->head = x;
	if (x != ILIST_NONE)
		n[x].prev = p;
	else
		l->tail = p;
	l->len--;
}

/* Remove and return the tail (oldest), or ILIST_NONE. */
static inline uint32_t ilist_pop_tail(struct ilist *l, struct inode *n)
{
	uint32_t i = l->tail;

	if (i != ILIST_NONE)
		ilist_unlink(l, n, i);
	return i;
}

static inline void ilist_move_to_head(struct ilist *l, struct inode *n, uint32_t i)
{
	if (l->head == i)
		return;
	ilist_unlink(l, n, i);
	ilist_push_head(l, n, i);
}

#endif /* PFLAB_ILIST_H */
