// SPDX-License-Identifier: MIT
/*
 * FIFO: evict the page that has been resident longest, whatever its use.
 * Definition and source: docs/policies.md#fifo.
 */
#include <stdlib.h>

#include "../ilist.h"
#include "../pager.h"

struct fifo {
	struct policy base;
	struct ilist queue;   /* head: newest arrival, tail: oldest */
	struct inode *node;   /* per frame */
};

static struct policy *fifo_create(struct pager *p, const struct policy_params *params)
{
	struct fifo *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->node = malloc(sizeof(*s->node) * p->nframes);
	if (!s->node) {
		free(s);
		return NULL;
	}
	ilist_init(&s->queue);
	s->base.frame_hint = (struct policy_hint){ s->node, sizeof(*s->node) };
	s->base.victim_hint = &s->queue.tail;
	return &s->base;
}

static void fifo_destroy(struct policy *pol)
{
	struct fifo *s = (struct fifo *)pol;

	free(s->node);
	free(s);
}

static void fifo_insert(struct policy *pol, frame_t f)
{
	struct fifo *s = (struct fifo *)pol;

	ilist_push_head(&s->queue, s->node, f);
}

static frame_t fifo_victim(struct policy *pol, vpn_t incoming)
{
	struct fifo *s = (struct fifo *)pol;
	uint32_t f = ilist_pop_tail(&s->queue, s->node);

	(void)incoming;
	return f == ILIST_NONE ? NO_FRAME : f;
}

static void fifo_remove(struct policy *pol, frame_t f)
{
	struct fifo *s = (struct fifo *)pol;

	ilist_unlink(&s->queue, s->node, f);
}

static const struct policy_ops fifo_ops = {
	.name = "fifo",
	.summary = "first in, first out: evict the page resident longest",
	.create = fifo_create,
	.destroy = fifo_destroy,
	.insert = fifo_insert,
	.victim = fifo_victim,
	.remove = fifo_remove,
};
POLICY_REGISTER(fifo_ops);
