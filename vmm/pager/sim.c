// SPDX-License-Identifier: MIT
/* The trace-driven machine: see sim.h. */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

uint32_t sim_frames_needed(const struct sim_config *cfg, uint32_t npages)
{
	uint64_t need = (uint64_t)(npages ? npages : 1) + (cfg->pool.high ? cfg->pool.high + 1ull : 0);

	return need < cfg->nframes ? (uint32_t)need : cfg->nframes;
}

struct sim *sim_create(const struct sim_config *cfg, char *err, size_t errlen)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s || sim_mmu_init(&s->mmu, cfg->nframes ? cfg->nframes : 1) != 0) {
		snprintf(err, errlen, "out of memory for %u frames", cfg->nframes);
		free(s);
		return NULL;
	}
	s->pager = pager_create(&(struct pager_config){
		.nframes = cfg->nframes,
		.policy = cfg->policy,
		.params = cfg->params,
		.future_known = cfg->future_known,
		/* A trace's pages are blocks of files or of a program that
		 * exists: every miss reads the store unless asked otherwise. */
		.first_touch_major = !cfg->first_touch_zero,
		.mmu = &s->mmu.mmu,
		/* No thread: the simulator's daemon runs at the end of the
		 * fault that needs it, which makes its counts exact. */
		.pool = { .low = cfg->pool.low, .high = cfg->pool.high },
	}, err, errlen);
	if (!s->pager) {
		sim_destroy(s);
		return NULL;
	}
	s->prefetch = !cfg->no_prefetch;
	return s;
}

void sim_destroy(struct sim *s)
{
	if (!s)
		return;
	pager_destroy(s->pager);
	sim_mmu_fini(&s->mmu);
	free(s);
}

/*
 * How far ahead the replay prefetches (references). The page-table entry of
 * the reference PREFETCH_PTE ahead, and the policy's per-page state, are
 * requested first; PREFETCH_FRAME references ahead, that entry has arrived
 * and names the frame, whose MMU bits and policy state are requested in
 * turn. Each reference's loads then find their lines in the cache instead of
 * waiting for DRAM one after the other (docs/performance.md).
 */
#define PREFETCH_PTE   16
#define PREFETCH_FRAME 8

static inline void prefetch_elem(const struct policy_hint *h, uint32_t i)
{
	if (h->base)
		__builtin_prefetch((const char *)h->base + (size_t)i * h->size, 1, 3);
}

static inline void prefetch_ahead(const struct sim *s, const vref_t *refs, size_t i, size_t n)
{
	const struct pager *p = s->pager;
	const struct policy *pol = p->policy;

	if (i + PREFETCH_PTE < n) {
		vpn_t vpn = VREF_VPN(refs[i + PREFETCH_PTE]);

		__builtin_prefetch(&p->pt[vpn], 1, 3);
		prefetch_elem(&pol->page_hint, vpn);
	}
	if (pol->frame_hint.base && i + PREFETCH_FRAME < n) {
		frame_t f = p->pt[VREF_VPN(refs[i + PREFETCH_FRAME])].frame;

		/* No branch on a load that may still be on its way. */
		prefetch_elem(&pol->frame_hint, f != NO_FRAME ? f : 0);
	}
	/* The next victim: its frame, and the entry the fault will clear (a
	 * store that misses holds up every store after it). */
	if (pol->victim_hint && !p->nfree) {
		frame_t v = *pol->victim_hint;

		if (v < p->nframes) {
			prefetch_elem(&pol->frame_hint, v);
			__builtin_prefetch(&p->pt[p->frames[v].vpn], 1, 3);
		}
	}
}

/* The loop, specialised by the compiler for prefetch on and off. */
static inline __attribute__((always_inline)) int replay(struct sim *s, const vref_t *refs,
							const uint32_t *next_use, size_t n,
							const bool prefetch)
{
	struct pager *p = s->pager;
	struct pager_stats *st = &p->stats;
	void (*hit)(struct policy *, frame_t) = p->policy->ops->hit;

	for (size_t i = 0; i < n; i++) {
		vpn_t vpn = VREF_VPN(refs[i]);
		int write = (refs[i] & VREF_WRITE) != 0;
		frame_t f;

		if (prefetch)
			prefetch_ahead(s, refs, i, n);
		p->now++;
		if (next_use)
			p->next_use = next_use[i] ? next_use[i] : NEVER;

		f = p->pt[vpn].frame;
		if (likely(f != NO_FRAME)) {
			sim_mmu_touch(&s->mmu, f, write);
			if (hit && !pager_frame_pinned(p, f))
				hit(p->policy, f);
		} else {
			/* The MMU's map() sets the bits of this access, before
			 * the policy's insert(): a policy may clear them there to
			 * count only later references (SIEVE, CAR, CLOCK-Pro). */
			if (pager_fault(p, vpn, write ? ACCESS_WRITE : ACCESS_READ) == NO_FRAME)
				return -1;
		}
		st->refs++;
		st->resident_sum += st->resident;
		if (unlikely(p->now >= p->next_tick)) {
			pager_tick(p);
			p->next_tick += p->tick;
		}
	}
	return 0;
}

int sim_replay(struct sim *s, const vref_t *refs, const uint32_t *next_use, size_t n)
{
	return s->prefetch ? replay(s, refs, next_use, n, true) : replay(s, refs, next_use, n, false);
}

int sim_next_use(const vref_t *refs, size_t n, uint32_t npages, uint32_t *next_use)
{
	uint32_t *last = calloc(npages ? npages : 1, sizeof(*last)); /* 0: not seen yet */

	if (!last)
		return -ENOMEM;
	for (size_t i = n; i-- > 0;) {
		vpn_t vpn = VREF_VPN(refs[i]);

		next_use[i] = last[vpn];
		last[vpn] = (uint32_t)(i + 1);
	}
	free(last);
	return 0;
}
