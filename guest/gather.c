// SPDX-License-Identifier: MIT
/*
 * prefetch_page() and its two users (issue 10, docs/async.md):
 *
 *  - gather: indexed reads through an index array, as a hash join's probe
 *    or a sparse matrix-vector product does: idx[k] names the element to
 *    read at step k, one element per page in random order; with --prefetch
 *    D, step k first prefetches the page of element idx[k + D];
 *  - list with --prefetch D: the pointer chase of workloads.c, each node
 *    also holding a jump pointer to the node D ahead (Luk and Mowry's jump
 *    pointers), which the chase prefetches.
 *
 * Every element, index entry, next and jump pointer read is checked
 * against its closed form. Both run on the vCPU's slice of the region.
 */
#include "guest.h"

/* The RFC's call: 0 if the page is accessible now, else its read has been
 * started (or not, under memory pressure) and we go on. */
/* The host notes the time (HC_MARK): mark 1 after the set-up, mark 2 after
 * the reads, for the phase_s column. */
static void mark(uint64_t which)
{
	MAILBOX->mark = which;
	hcall(HC_MARK);
}

static inline uint32_t prefetch_page(uint32_t vpn)
{
	volatile struct pflab_mailbox *mb = MAILBOX;

	mb->pf_page = vpn;
	hcall(HC_PREFETCH);
	return mb->pf_result;
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* A multiplier for k -> (a k + c) mod n that is a permutation (a coprime
 * to n), far from 1 so that neighbours scatter. */
static uint32_t coprime_near(uint32_t n, uint64_t r)
{
	uint32_t a = n > 2 ? (uint32_t)(n / 2 + r % (n / 2)) : 1;

	while (gcd(a, n) != 1)
		a++;
	return a;
}

/* ---- gather ---------------------------------------------------------------- */

#define ELEM_WORDS 8   /* a 64-byte element */

struct gather {
	uint32_t first, nidx, nelem; /* index pages, then one element per page */
	uint32_t a, c;               /* idx[k] = (a k + c) mod nelem */
};

static uint32_t idx_of(const struct gather *s, uint32_t k)
{
	return (uint32_t)(((uint64_t)s->a * k + s->c) % s->nelem);
}

static volatile uint32_t *idx_slot(const struct gather *s, uint32_t k)
{
	return (volatile uint32_t *)(uintptr_t)page_addr(s->first) + k;
}

static uint32_t elem_page(const struct gather *s, uint32_t e)
{
	return s->first + s->nidx + e;
}

/* Element e: 8 words at a per-element offset in its page. */
static volatile uint64_t *elem_at(const struct gather *s, uint32_t e)
{
	return page_addr(elem_page(s, e)) + (e % (WORDS_PER_PAGE / ELEM_WORDS)) * ELEM_WORDS;
}

static uint64_t elem_word(const struct gather *s, uint32_t e, uint32_t i)
{
	return pattern(elem_page(s, e), 1, (e % (WORDS_PER_PAGE / ELEM_WORDS)) * ELEM_WORDS + i);
}

/* Read element idx[k] and check it and its index entry; its page. */
static void gather_one(struct guest *g, const struct gather *s, uint32_t k)
{
	uint32_t want = idx_of(s, k), e = *idx_slot(s, k);
	volatile uint64_t *w;

	note_ref(g, s->first + (uint32_t)((uint64_t)k * 4 / PFLAB_PAGE_SIZE));
	if (e != want) {
		report_mismatch(g, s->first + (uint32_t)((uint64_t)k * 4 / PFLAB_PAGE_SIZE),
				(uint32_t)((uint64_t)k * 4 % PFLAB_PAGE_SIZE), want, e);
		e = want; /* go on with the right element */
	}
	w = elem_at(s, e);
	note_ref(g, elem_page(s, e));
	for (uint32_t i = 0; i < ELEM_WORDS; i++) {
		uint64_t got = w[i], ok = elem_word(s, e, i);

		if (got != ok) {
			report_mismatch(g, elem_page(s, e),
					(uint32_t)((uintptr_t)(w + i) % PFLAB_PAGE_SIZE), ok, got);
			break;
		}
	}
}

void wl_gather(struct guest *g, uint32_t dist)
{
	struct gather s = { .first = g->first };

	if (g->npages < 2)
		return;
	s.nidx = (g->npages + 1024) / 1025; /* nelem <= 1024 nidx: the index fits */
	s.nelem = g->npages - s.nidx;
	s.a = coprime_near(s.nelem, rand64(g));
	s.c = (uint32_t)(rand64(g) % s.nelem);

	for (uint32_t k = 0; k < s.nelem; k++) {
		if (k % (PFLAB_PAGE_SIZE / 4) == 0)
			note_ref(g, s.first + k / (PFLAB_PAGE_SIZE / 4));
		*idx_slot(&s, k) = idx_of(&s, k);
	}
	for (uint32_t e = 0; e < s.nelem; e++) {
		volatile uint64_t *w = elem_at(&s, e);

		note_ref(g, elem_page(&s, e));
		for (uint32_t i = 0; i < ELEM_WORDS; i++)
			w[i] = elem_word(&s, e, i);
	}
	mark(1);
	for (uint32_t pass = 0; pass < g->passes; pass++) {
		for (uint32_t k = 0; k < dist && k < s.nelem; k++)
			(void)prefetch_page(elem_page(&s, *idx_slot(&s, k) % s.nelem));
		for (uint32_t k = 0; k < s.nelem; k++) {
			if (dist && k + dist < s.nelem)
				(void)prefetch_page(elem_page(&s, *idx_slot(&s, k + dist) % s.nelem));
			gather_one(g, &s, k);
		}
	}
	mark(2);
}

/* ---- list with jump pointers ------------------------------------------------- */

struct jnode {
	uint64_t next, stamp, jump;
};

/* The chase order is k -> (a k + c) mod n, one cycle through every page
 * (Hull and Dobell: c coprime to n, a - 1 divisible by every prime factor
 * of n, and by 4 if 4 divides n). */
static uint32_t full_period_a(uint32_t n, uint64_t r)
{
	uint64_t rad = 1, m = n, step;

	for (uint64_t p = 2; p * p <= m; p++)
		if (m % p == 0) {
			rad *= p;
			while (m % p == 0)
				m /= p;
		}
	if (m > 1)
		rad *= m;
	step = n % 4 == 0 && rad % 4 ? rad * 2 : rad;
	return (uint32_t)((1 + step * (1 + r % 64)) % n);
}

static volatile struct jnode *jnode_of(uint32_t vpn)
{
	return (volatile struct jnode *)(page_addr(vpn) + (vpn % 128) * 4);
}

static uint64_t jstamp(uint32_t vpn)
{
	return (uint64_t)(vpn + 1) << 32 | 0x4a4d;
}

void wl_list_prefetch(struct guest *g, uint32_t dist)
{
	uint32_t n = g->npages, base = g->first, a, c, cur, ahead;

	if (n == 0)
		return;
	a = n > 1 ? full_period_a(n, rand64(g)) : 1;
	c = n > 1 ? coprime_near(n, rand64(g)) : 0;
	/* Link: next of k is (a k + c) mod n; jump is dist steps ahead. */
	ahead = 0;
	for (uint32_t k = 0; k < dist; k++)
		ahead = (uint32_t)(((uint64_t)a * ahead + c) % n);
	cur = 0;
	for (uint32_t k = 0; k < n; k++) {
		volatile struct jnode *nd = jnode_of(base + cur);

		note_ref(g, base + cur);
		nd->next = ((uint64_t)a * cur + c) % n;
		nd->stamp = jstamp(base + cur);
		nd->jump = ahead;
		cur = (uint32_t)nd->next;
		ahead = (uint32_t)(((uint64_t)a * ahead + c) % n);
	}
	mark(1);
	for (uint32_t pass = 0; pass < g->passes; pass++) {
		ahead = 0;
		for (uint32_t k = 0; k < dist; k++)
			ahead = (uint32_t)(((uint64_t)a * ahead + c) % n);
		cur = 0;
		if (dist)
			for (uint32_t k = 0, p = 0; k < dist && k < n; k++) {
				(void)prefetch_page(base + p);
				p = (uint32_t)(((uint64_t)a * p + c) % n);
			}
		for (uint32_t k = 0; k < n; k++) {
			volatile struct jnode *nd = jnode_of(base + cur);
			uint64_t jump = dist ? nd->jump : 0, stamp = nd->stamp, next = nd->next;

			note_ref(g, base + cur);
			if (stamp != jstamp(base + cur) || next != ((uint64_t)a * cur + c) % n ||
			    (dist && jump != ahead)) {
				report_mismatch(g, base + cur,
						(uint32_t)((uintptr_t)nd % PFLAB_PAGE_SIZE),
						jstamp(base + cur), stamp);
				return;
			}
			if (dist)
				(void)prefetch_page(base + (uint32_t)jump);
			cur = (uint32_t)next;
			ahead = (uint32_t)(((uint64_t)a * ahead + c) % n);
		}
		if (cur != 0) {
			report_mismatch(g, base + cur, 0, 0, cur);
			return;
		}
	}
	mark(2);
}

/* ---- the scripted case of the tests ------------------------------------------ */

static void drop(uint32_t first, uint32_t count)
{
	volatile struct pflab_mailbox *mb = MAILBOX;

	mb->bio_first = first;
	mb->bio_count = count;
	hcall(HC_DROP_PAGES);
}

static void expect_prefetch(struct guest *g, uint32_t vpn, uint32_t want)
{
	uint32_t got = prefetch_page(vpn);

	if (got != want)
		report_mismatch(g, vpn, 0, want, got);
}

/*
 * prefetch_page()'s answers and counters, exactly (tests/test_prefetch.c,
 * docs/async.md): on 32 pages or more with a frame for each, so that
 * nothing is evicted but what the script drops.
 *   pages 0-15 written, then dropped (written back: each has a copy);
 *   prefetch 20 (never written: zero-filled with no I/O)   -> 0
 *   check 1 (a fault reads it), prefetch 1 (resident)      -> 0
 *   prefetch 2-9 (copies, not resident: 8 reads started)   -> 1 each
 *   check 2-5: 4 useful; drop 6 and 7 (waits for their reads): 2 wasted;
 *   8 and 9 stay untouched: 2 unused at the end.
 * Every page checked or written is verified.
 */
void wl_prefetch_script(struct guest *g)
{
	if (g->npages < 32)
		return;
	for (uint32_t vpn = 0; vpn < 16; vpn++)
		page_write(g, vpn);
	drop(0, 16);
	expect_prefetch(g, 20, PF_ACCESSIBLE);
	page_check(g, 1);
	expect_prefetch(g, 1, PF_ACCESSIBLE);
	for (uint32_t vpn = 2; vpn < 10; vpn++)
		expect_prefetch(g, vpn, PF_STARTED);
	for (uint32_t vpn = 2; vpn < 6; vpn++)
		page_check(g, vpn);
	drop(6, 2);
	page_check(g, 0); /* read back by a fault, not prefetched */
}
