// SPDX-License-Identifier: MIT
/*
 * The modelled disk's scheduler: which queued request goes next.
 *   fifo      arrival order.
 *   elevator  LOOK (Denning 1967's SCAN, turning at the last request rather
 *             than at the disk's edge): the head keeps its direction and
 *             takes the nearest block at or beyond it; when none is left
 *             that way it turns. Ties go to the earlier arrival.
 * docs/async.md#the-io-engine.
 */
#include <string.h>

#include "io.h"

int io_sched_parse(const char *s, enum io_sched *out)
{
	if (strcmp(s, "fifo") == 0)
		*out = IO_FIFO;
	else if (strcmp(s, "elevator") == 0)
		*out = IO_ELEVATOR;
	else
		return -1;
	return 0;
}

const char *io_sched_name(enum io_sched s)
{
	return s == IO_ELEVATOR ? "elevator" : "fifo";
}

/* The nearest request at or beyond head in direction dir, or NULL. The
 * queue is in arrival order, so the first of equals is the earliest. */
static struct io_req **nearest(struct io_req **queue, int64_t head, int dir)
{
	struct io_req **best = NULL;

	for (struct io_req **pp = queue; *pp; pp = &(*pp)->next) {
		int64_t b = (*pp)->block;

		if (dir > 0 ? b < head : b > head)
			continue;
		if (!best || (dir > 0 ? b < (*best)->block : b > (*best)->block))
			best = pp;
	}
	return best;
}

struct io_req *io_sched_pick(enum io_sched s, struct io_req **queue, int64_t head_block, int *dir)
{
	struct io_req **pp = queue, *r;

	if (!*queue)
		return NULL;
	if (s == IO_ELEVATOR) {
		pp = nearest(queue, head_block, *dir);
		if (!pp) {
			*dir = -*dir;
			pp = nearest(queue, head_block, *dir);
		}
	}
	r = *pp;
	*pp = r->next;
	r->next = NULL;
	return r;
}
