// SPDX-License-Identifier: MIT
/*
 * WSClock (Carr and Hennessy, 1981): CLOCK's hand over the frames in
 * frame-index order, with the working-set test in place of the second
 * chance. Each frame remembers the virtual time (references so far) of its
 * last use, as seen by the hand. On a fault the hand sweeps:
 *  - referenced since last seen: clear the bit, last use = now, move on;
 *  - last used within the window tau (params.window): in the working set,
 *    move on;
 *  - older than tau and clean, or its write-back already scheduled: the
 *    victim;
 *  - older than tau and dirty: schedule its write-back, move on.
 *
 * The write-back model: the pager writes a dirty page back when it evicts
 * it, and counts it then, so "scheduling" a write only marks the frame.
 * The write is taken to complete before the hand comes round again: the
 * next sweep that finds the page still old and unreferenced evicts it (and
 * the pager writes it then). A reference in between cancels the mark, as
 * the page may have been written again.
 *
 * If the hand goes all the way round without a victim: the first frame it
 * scheduled in this sweep (its write is the first to complete), or, with no
 * write scheduled, the frame of oldest last use, the first such in sweep
 * order. Works from reference and dirty bits alone: no hit().
 * Definition and source: docs/policies.md#wsclock.
 */
#include <stdlib.h>

#include "../pager.h"

/* struct wsclock.state[f] */
#define WS_TRACKED   0x1u /* on the circle: in use and not pinned */
#define WS_LAUNDERED 0x2u /* write-back scheduled by the hand */

struct wsclock {
	struct policy base;
	uint64_t window;
	uint64_t *last_use;   /* per frame: virtual time of the last use seen */
	uint8_t *state;       /* per frame */
	uint32_t ntracked;
	frame_t hand;
};

static struct policy *wsclock_create(struct pager *p, const struct policy_params *params)
{
	struct wsclock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->window = params->window;
	s->last_use = malloc(sizeof(*s->last_use) * p->nframes);
	s->state = calloc(p->nframes, sizeof(*s->state));
	if (!s->last_use || !s->state) {
		free(s->last_use);
		free(s->state);
		free(s);
		return NULL;
	}
	return &s->base;
}

static void wsclock_destroy(struct policy *pol)
{
	struct wsclock *s = (struct wsclock *)pol;

	free(s->last_use);
	free(s->state);
	free(s);
}

static void wsclock_insert(struct policy *pol, frame_t f)
{
	struct wsclock *s = (struct wsclock *)pol;

	s->state[f] = WS_TRACKED;
	s->last_use[f] = pol->pager->now;
	s->ntracked++;
}

static void wsclock_remove(struct policy *pol, frame_t f)
{
	struct wsclock *s = (struct wsclock *)pol;

	s->state[f] = 0;
	s->ntracked--;
}

static frame_t take(struct wsclock *s, frame_t f)
{
	uint32_t n = s->base.pager->nframes;

	wsclock_remove(&s->base, f);
	s->hand = f + 1 == n ? 0 : f + 1;
	return f;
}

static frame_t wsclock_victim(struct policy *pol, vpn_t incoming)
{
	struct wsclock *s = (struct wsclock *)pol;
	struct pager *p = pol->pager;
	uint32_t n = p->nframes;
	frame_t f = s->hand, first_scheduled = NO_FRAME, oldest = NO_FRAME;

	(void)incoming;
	if (s->ntracked == 0)
		return NO_FRAME;
	for (uint32_t i = 0; i < n; i++, f = f + 1 == n ? 0 : f + 1) {
		uint8_t *st = &s->state[f];

		if (!(*st & WS_TRACKED))
			continue;
		if (pager_referenced(p, f)) {
			s->last_use[f] = p->now;
			*st &= (uint8_t)~WS_LAUNDERED;
		} else if (p->now - s->last_use[f] > s->window) {
			if ((*st & WS_LAUNDERED) || !pager_dirty(p, f))
				return take(s, f);
			*st |= WS_LAUNDERED;
			if (first_scheduled == NO_FRAME)
				first_scheduled = f;
		}
		if (oldest == NO_FRAME || s->last_use[f] < s->last_use[oldest])
			oldest = f;
	}
	return take(s, first_scheduled != NO_FRAME ? first_scheduled : oldest);
}

static const struct policy_ops wsclock_ops = {
	.name = "wsclock",
	.summary = "WSClock: a clock hand evicting clean pages older than the window tau",
	.create = wsclock_create,
	.destroy = wsclock_destroy,
	.insert = wsclock_insert,
	.victim = wsclock_victim,
	.remove = wsclock_remove,
};
POLICY_REGISTER(wsclock_ops);
