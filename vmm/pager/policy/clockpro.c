// SPDX-License-Identifier: MIT
/*
 * CLOCK-Pro: LIRS on a clock. Every page with history sits on one clock in
 * order of last movement: hot pages (small reuse distance, never evicted
 * while hot), resident cold pages, and non-resident cold pages kept only
 * by number. A cold page starts a test period when it comes in (or is
 * found referenced); a reference during the test proves a reuse distance
 * smaller than the hot pages' and makes it hot, and the test ends when
 * the page grows older than the oldest hot page. Three hands sweep the
 * clock from old to new: HAND_cold evicts unreferenced resident cold
 * pages, HAND_hot turns unreferenced hot pages cold (ending the tests it
 * passes), HAND_test ends tests to bound the non-resident pages. The number
 * of resident cold pages, mc, adapts: up on a reference in a test period,
 * down on a test period that ends without one. Definition and source:
 * docs/policies.md#clockpro.
 *
 * References are seen only through the MMU's referenced bit
 * (pager_referenced), so it works under KVM as well.
 *
 * HAND_cold has nothing to do at hot and non-resident pages, and when mc
 * is small it would pass thousands of them per fault; it walks instead a
 * second list holding just the resident cold pages, in clock order. A page
 * turned cold by HAND_hot joins that list where HAND_hot is: before
 * cold_at_hot, the first cold page at or after HAND_hot, which HAND_hot
 * carries along as it sweeps. Stamps (when a page last went to the list
 * head) order any two pages on the clock.
 */
#include <stdlib.h>

#include "../ilist.h"
#include "../pager.h"

/* Per-page state: the kind in the low two bits, the test flag above. */
#define CP_NONE   0x0u  /* not on the clock */
#define CP_HOT    0x1u
#define CP_COLD   0x2u  /* resident cold */
#define CP_NONRES 0x3u  /* non-resident cold, always in its test period */
#define CP_KIND   0x3u
#define CP_TEST   0x4u

struct clockpro {
	struct policy base;
	uint32_t m;              /* memory size: the pager's frames */
	uint32_t mc;             /* target of resident cold pages; hot pages get m - mc */
	uint32_t mc_min, mc_max;
	uint32_t nhot, ncold, nnonres, ntest;
	struct ilist clock;      /* by page; head is the list head (newest), tail the oldest */
	struct inode *node;      /* per page */
	struct ilist cold;       /* the resident cold pages in clock order, by page */
	struct inode *cnode;     /* per page: links in cold */
	uint64_t *stamp;         /* per page: when it last went to the list head */
	uint64_t now;            /* the last stamp given */
	uint8_t *state;          /* per page: CP_* */
	uint8_t *ref;            /* per frame: a referenced bit taken from the MMU, kept */
	uint32_t hand_hot, hand_cold, hand_test; /* pages, or ILIST_NONE */
	uint32_t cold_at_hot;    /* first resident cold page at or after HAND_hot */
	bool filled;             /* memory has been full: a victim was needed */
	uint32_t npages;
};

static inline struct clockpro *to_clockpro(struct policy *pol)
{
	return (struct clockpro *)pol;
}

static int clockpro_grow(struct policy *pol, uint32_t npages)
{
	struct clockpro *s = to_clockpro(pol);
	struct inode *node;
	uint64_t *stamp;
	uint8_t *state;

	if (npages <= s->npages)
		return 0;
	node = realloc(s->node, sizeof(*node) * npages);
	if (!node)
		return -1;
	s->node = node;
	node = realloc(s->cnode, sizeof(*node) * npages);
	if (!node)
		return -1;
	s->cnode = node;
	stamp = realloc(s->stamp, sizeof(*stamp) * npages);
	if (!stamp)
		return -1;
	s->stamp = stamp;
	state = realloc(s->state, npages);
	if (!state)
		return -1;
	s->state = state;
	for (uint32_t i = s->npages; i < npages; i++)
		state[i] = CP_NONE;
	s->npages = npages;
	return 0;
}

static void clockpro_destroy(struct policy *pol)
{
	struct clockpro *s = to_clockpro(pol);

	free(s->node);
	free(s->cnode);
	free(s->stamp);
	free(s->state);
	free(s->ref);
	free(s);
}

static struct policy *clockpro_create(struct pager *p, const struct policy_params *params)
{
	struct clockpro *s = calloc(1, sizeof(*s));

	(void)params;
	if (!s)
		return NULL;
	s->m = p->nframes;
	/* mc stays within [1, m - 1]: at least one cold page to evict and,
	 * from two frames up, room for one hot page. It starts at 1% of
	 * memory, LIRS's Lhirs, and adapts from there. */
	s->mc_min = 1;
	s->mc_max = s->m > 1 ? s->m - 1 : 1;
	s->mc = s->m / 100 > s->mc_min ? s->m / 100 : s->mc_min;
	s->hand_hot = s->hand_cold = s->hand_test = s->cold_at_hot = ILIST_NONE;
	ilist_init(&s->clock);
	ilist_init(&s->cold);
	s->ref = calloc(p->nframes, 1);
	if (!s->ref || clockpro_grow(&s->base, p->npages) != 0) {
		clockpro_destroy(&s->base);
		return NULL;
	}
	return &s->base;
}

static inline unsigned kind(const struct clockpro *s, uint32_t v)
{
	return s->state[v] & CP_KIND;
}

static inline bool in_test(const struct clockpro *s, uint32_t v)
{
	return s->state[v] & CP_TEST;
}

/* The hands move from old to new and wrap from the list head to the
 * tail: the clock is the list closed into a ring. */
static inline uint32_t forward(const struct clockpro *s, uint32_t v)
{
	uint32_t n = s->node[v].prev;

	return n != ILIST_NONE ? n : s->clock.tail;
}

/* Whether the resident page v was referenced since its bit was last
 * cleared. keep: leave the answer for the next look (a test period's end
 * only peeks; HAND_cold and HAND_hot consume it). */
static bool referenced(struct clockpro *s, uint32_t v, bool keep)
{
	struct pager *p = s->base.pager;
	frame_t f = p->pt[v].frame;
	bool r = pager_referenced(p, f) | s->ref[f];  /* always clear the MMU's bit */

	s->ref[f] = keep && r;
	return r;
}

static void adjust_mc(struct clockpro *s, int delta)
{
	if (delta > 0 && s->mc < s->mc_max)
		s->mc++;
	else if (delta < 0 && s->mc > s->mc_min)
		s->mc--;
}

/* Page v is about to move or leave: a hand on it steps forward first. */
static void detach_hands(struct clockpro *s, uint32_t v)
{
	uint32_t n = forward(s, v);

	if (n == v)
		n = ILIST_NONE;
	if (s->hand_hot == v)
		s->hand_hot = n;
	if (s->hand_test == v)
		s->hand_test = n;
}

static void push_head(struct clockpro *s, uint32_t v)
{
	ilist_push_head(&s->clock, s->node, v);
	s->stamp[v] = ++s->now;
}

static void move_to_head(struct clockpro *s, uint32_t v)
{
	detach_hands(s, v);
	ilist_move_to_head(&s->clock, s->node, v);
	s->stamp[v] = ++s->now;
}

/* The resident cold page after v in clock order, wrapping; v if alone. */
static uint32_t cold_next(const struct clockpro *s, uint32_t v)
{
	uint32_t n = s->cnode[v].prev;

	return n != ILIST_NONE ? n : s->cold.tail;
}

/* v stops being resident cold: HAND_cold and cold_at_hot, if on it, go
 * to the next. */
static void cold_del(struct clockpro *s, uint32_t v)
{
	uint32_t n = cold_next(s, v);

	if (n == v)
		n = ILIST_NONE;
	if (s->hand_cold == v)
		s->hand_cold = n;
	if (s->cold_at_hot == v)
		s->cold_at_hot = n;
	ilist_unlink(&s->cold, s->cnode, v);
}

/* v, resident cold and off the cold list, has just gone to the list head
 * (its stamp is the newest): it joins the cold list as its newest. It is
 * the first cold page at or after HAND_hot unless another lies between
 * HAND_hot and the head. */
static void cold_now_newest(struct clockpro *s, uint32_t v)
{
	uint32_t c = s->cold_at_hot;

	ilist_push_head(&s->cold, s->cnode, v);
	if (s->hand_cold == ILIST_NONE)
		s->hand_cold = v;
	if (s->hand_hot != ILIST_NONE &&
	    (c == ILIST_NONE || s->stamp[c] < s->stamp[s->hand_hot]))
		s->cold_at_hot = v;
}

/* v, resident cold, went to the list head and stays cold. HAND_cold, if
 * on it, goes to the next cold page toward the head; with none before the
 * head, that is v itself, now there. */
static void cold_to_newest(struct clockpro *s, uint32_t v)
{
	if (s->hand_cold == v && s->cnode[v].prev != ILIST_NONE)
		s->hand_cold = s->cnode[v].prev;
	if (s->cold_at_hot == v) {
		uint32_t n = cold_next(s, v);

		s->cold_at_hot = n != v ? n : ILIST_NONE;
	}
	ilist_unlink(&s->cold, s->cnode, v);
	cold_now_newest(s, v);
}

/* HAND_hot turned the hot page d cold where it stands: it joins the cold
 * list just before cold_at_hot, or as the newest cold page when none lies
 * between d and the list head. */
static void cold_add_at_hot(struct clockpro *s, uint32_t d)
{
	uint32_t c = s->cold_at_hot;
	struct inode *n = s->cnode;

	if (c == ILIST_NONE) {
		ilist_push_head(&s->cold, n, d);
		s->cold_at_hot = d;
	} else if (s->stamp[c] < s->stamp[d]) {
		ilist_push_head(&s->cold, n, d);
	} else if (n[c].next == ILIST_NONE) {
		ilist_push_tail(&s->cold, n, d);
	} else {
		/* Link d between c and the cold page before it. */
		uint32_t older = n[c].next;

		n[d].prev = c;
		n[d].next = older;
		n[c].next = d;
		n[older].prev = d;
		s->cold.len++;
	}
	if (s->hand_cold == ILIST_NONE)
		s->hand_cold = d;
}

static void leave_clock(struct clockpro *s, uint32_t v)
{
	detach_hands(s, v);
	ilist_unlink(&s->clock, s->node, v);
	s->state[v] = CP_NONE;
}

/* A cold page's test period ends: mc goes up if it was referenced during
 * the test, down if not; a non-resident page leaves the clock, its
 * history now worthless. */
static void end_test(struct clockpro *s, uint32_t v)
{
	s->state[v] &= ~CP_TEST;
	s->ntest--;
	if (kind(s, v) == CP_NONRES) {
		s->nnonres--;
		leave_clock(s, v);
		adjust_mc(s, -1);
	} else {
		adjust_mc(s, referenced(s, v, true) ? +1 : -1);
	}
}

/* HAND_hot to the first hot page from v on, ending the test periods of
 * the cold pages it passes: they are now older than every hot page. */
static void hot_hand_from(struct clockpro *s, uint32_t v)
{
	s->hand_hot = ILIST_NONE;
	if (!s->nhot) {
		s->cold_at_hot = ILIST_NONE;
		return;
	}
	if (v == ILIST_NONE) {
		v = s->clock.tail;
		s->cold_at_hot = s->cold.tail;
	}
	while (kind(s, v) != CP_HOT) {
		uint32_t n = forward(s, v);

		if (kind(s, v) == CP_COLD)
			s->cold_at_hot = cold_next(s, v);
		if (in_test(s, v))
			end_test(s, v);
		v = n;
	}
	s->hand_hot = v;
}

/* The other hands only look for their kind of page. */
static uint32_t first_from(const struct clockpro *s, uint32_t v,
			   bool (*want)(const struct clockpro *, uint32_t))
{
	if (v == ILIST_NONE)
		v = s->clock.tail;
	while (!want(s, v))
		v = forward(s, v);
	return v;
}

/* Put each hand back on a page of its kind after the clock changed. */
static void settle(struct clockpro *s)
{
	if (s->hand_hot == ILIST_NONE || kind(s, s->hand_hot) != CP_HOT)
		hot_hand_from(s, s->hand_hot);
	if (!s->ntest)
		s->hand_test = ILIST_NONE;
	else if (s->hand_test == ILIST_NONE || !in_test(s, s->hand_test))
		s->hand_test = first_from(s, s->hand_test, in_test);
}

/* HAND_hot's turn: spare referenced hot pages (clearing their bits) and
 * turn the first unreferenced one cold; the hand stops at the next hot
 * page. Needs a hot page. */
static void run_hot(struct clockpro *s)
{
	for (;;) {
		uint32_t v = s->hand_hot;
		bool spared = referenced(s, v, false);

		if (!spared) {
			s->state[v] = CP_COLD;
			s->nhot--;
			s->ncold++;
			cold_add_at_hot(s, v);
		}
		hot_hand_from(s, forward(s, v));
		settle(s);
		if (!spared)
			return;
	}
}

/* HAND_test's turn: end the test period of the cold page it points to. */
static void run_test(struct clockpro *s)
{
	end_test(s, s->hand_test);
	settle(s);
}

/* Hot pages beyond their share m - mc turn cold. */
static void balance_hot(struct clockpro *s)
{
	while (s->nhot && s->nhot > s->m - s->mc)
		run_hot(s);
}

static frame_t clockpro_victim(struct policy *pol, vpn_t incoming)
{
	struct clockpro *s = to_clockpro(pol);

	(void)incoming;
	if (!s->nhot && !s->ncold)
		return NO_FRAME;
	s->filled = true;
	for (;;) {
		uint32_t v;
		frame_t f;

		if (!s->ncold) {
			/* Every evictable page is hot (pinning took the
			 * cold ones): make one cold. */
			run_hot(s);
			continue;
		}
		v = s->hand_cold;
		if (referenced(s, v, false)) {
			if (in_test(s, v)) {
				/* Referenced during its test period: its
				 * reuse distance beats the hot pages'. */
				s->state[v] = CP_HOT;
				s->ntest--;
				s->ncold--;
				s->nhot++;
				adjust_mc(s, +1);
				cold_del(s, v);
				move_to_head(s, v);
				settle(s);
				balance_hot(s);
			} else {
				/* Referenced after its test: a new one. */
				s->state[v] |= CP_TEST;
				s->ntest++;
				move_to_head(s, v);
				cold_to_newest(s, v);
				settle(s);
			}
			continue;
		}

		/* Unreferenced: evict. Still in its test period, it stays
		 * on the clock by number until the test ends. */
		f = pol->pager->pt[v].frame;
		s->ncold--;
		cold_del(s, v);
		if (in_test(s, v)) {
			s->state[v] = CP_NONRES | CP_TEST;
			s->nnonres++;
		} else {
			leave_clock(s, v);
		}
		settle(s);
		while (s->nnonres > s->m)
			run_test(s);
		return f;
	}
}

static void clockpro_insert(struct policy *pol, frame_t f)
{
	struct clockpro *s = to_clockpro(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;

	/* Only references after this fault count. */
	s->ref[f] = 0;
	pager_referenced(pol->pager, f);

	if (kind(s, vpn) == CP_NONRES) {
		/* A fault in its test period: hot at once. */
		s->state[vpn] = CP_HOT;
		s->nnonres--;
		s->ntest--;
		s->nhot++;
		adjust_mc(s, +1);
		move_to_head(s, vpn);
		settle(s);
		balance_hot(s);
	} else if (!s->filled && s->nhot < s->m - s->mc) {
		/* Memory is filling up for the first time, with no reuse
		 * distance to compare yet: hot, up to the hot pages' share
		 * (LIRS's rule for its first Llirs blocks). */
		s->state[vpn] = CP_HOT;
		s->nhot++;
		push_head(s, vpn);
		settle(s);
	} else {
		/* No usable history: a cold page in its test period. */
		s->state[vpn] = CP_COLD | CP_TEST;
		s->ncold++;
		s->ntest++;
		push_head(s, vpn);
		cold_now_newest(s, vpn);
		settle(s);
	}
}

static void clockpro_remove(struct policy *pol, frame_t f)
{
	struct clockpro *s = to_clockpro(pol);
	vpn_t vpn = pol->pager->frames[f].vpn;

	if (kind(s, vpn) == CP_HOT) {
		s->nhot--;
	} else {
		s->ncold--;
		if (in_test(s, vpn))
			s->ntest--;
		cold_del(s, vpn);
	}
	s->ref[f] = 0;
	leave_clock(s, vpn);
	settle(s);
}

static const struct policy_ops clockpro_ops = {
	.name = "clockpro",
	.summary = "CLOCK-Pro: hot and cold pages on one clock, test periods, adaptive cold share",
	.create = clockpro_create,
	.destroy = clockpro_destroy,
	.insert = clockpro_insert,
	.victim = clockpro_victim,
	.remove = clockpro_remove,
	.grow = clockpro_grow,
};
POLICY_REGISTER(clockpro_ops);
