// SPDX-License-Identifier: MIT
/*
 * The synthetic workloads. Each counts its page references (immediate
 * repeats merged, see note_ref) and checks every byte it reads against what
 * it wrote: pattern(page, version, word) for whole pages, a closed form for
 * the matrix product, a stamp per node for the list.
 */
#include "guest.h"

/* scan, random, stride and list work on the vCPU's slice of the data
 * region, pages [g->first, g->first + g->npages) (--vcpus). */
void wl_scan(struct guest *g)
{
	for (uint32_t vpn = 0; vpn < g->npages; vpn++)
		page_write(g, g->first + vpn);
	for (uint32_t pass = 1; pass < g->passes; pass++)
		for (uint32_t vpn = 0; vpn < g->npages; vpn++)
			page_check(g, g->first + vpn);
}

void wl_random(struct guest *g)
{
	uint64_t n = (uint64_t)g->passes * g->npages;

	for (uint64_t k = 0; k < n; k++) {
		uint64_t r = rand64(g);
		uint32_t vpn = g->first + (uint32_t)((r >> 8) % g->npages);

		if ((r & 3) == 0)
			page_write(g, vpn);
		else
			page_check(g, vpn);
	}
}

/*
 * keep-write and keep-check: pages that outlive the run (pflab run
 * --pager-keep, docs/external-pager.md). keep-write writes version
 * V = 1 + seed % 1000 of every page, says so, then checks them all
 * passes - 1 times; keep-check finds each page either at version V (kept)
 * or all zeros (fresh), says how many of each, and counts anything else as
 * a mismatch.
 */
static uint32_t keep_version(void)
{
	return 1 + (uint32_t)(MAILBOX->seed % 1000);
}

void wl_keep_write(struct guest *g)
{
	for (uint32_t pass = 0; pass < g->passes; pass++) {
		/* Each pass writes the same bytes again: pages are dirty
		 * whenever the run ends (or is killed). */
		for (uint32_t vpn = g->first; vpn < g->first + g->npages; vpn++) {
			g->version[vpn] = keep_version() - 1;
			page_write(g, vpn);
			page_check(g, vpn);
		}
		if (pass == 0) {
			puts_serial("pflab guest: keep-write: ");
			put_u64(g->npages);
			puts_serial(" pages written\n");
		}
	}
}

void wl_keep_check(struct guest *g)
{
	uint64_t kept = 0, fresh = 0;

	for (uint32_t vpn = g->first; vpn < g->first + g->npages; vpn++) {
		volatile uint64_t *w = page_addr(vpn);
		uint32_t i = 0;

		while (i < WORDS_PER_PAGE && w[i] == 0)
			i++;
		if (i == WORDS_PER_PAGE) {
			note_ref(g, vpn);
			fresh++;
			continue;
		}
		g->version[vpn] = keep_version();
		page_check(g, vpn);
		kept++;
	}
	puts_serial("pflab guest: keep-check: ");
	put_u64(kept);
	puts_serial(" kept, ");
	put_u64(fresh);
	puts_serial(" fresh\n");
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

/* Visit the pages in the order 0, s, 2s, ... mod P with s coprime to P:
 * every page once per pass, never two neighbours in a row. */
void wl_stride(struct guest *g)
{
	uint32_t s = 17;

	if (g->npages == 0)
		return;
	while (gcd(s, g->npages) != 1)
		s++;
	for (uint32_t pass = 0; pass < g->passes; pass++) {
		uint32_t vpn = 0;

		for (uint32_t k = 0; k < g->npages; k++) {
			if (pass == 0)
				page_write(g, g->first + vpn);
			else
				page_check(g, g->first + vpn);
			vpn = (uint32_t)(((uint64_t)vpn + s) % g->npages);
		}
	}
}

static uint32_t isqrt(uint64_t x)
{
	uint64_t r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return (uint32_t)r;
}

/* Element (i, j) of an n x n matrix at byte offset base of the data region,
 * counting the page reference. */
static inline volatile uint64_t *elem(struct guest *g, uint64_t base, uint32_t n, uint32_t i,
				     uint32_t j)
{
	uint64_t off = base + ((uint64_t)i * n + j) * 8;

	note_ref(g, (uint32_t)(off / PFLAB_PAGE_SIZE));
	return (volatile uint64_t *)(uintptr_t)(PFLAB_DATA_BASE + off);
}

/* C = A x B with B = 3I, in ikj order (the row-wise order a C programmer
 * writes): every row of A walks all of B. C must come out as 3A. */
void wl_matmul(struct guest *g)
{
	uint32_t n = isqrt((uint64_t)g->npages * PFLAB_PAGE_SIZE / 24);
	uint64_t a = 0, b = (uint64_t)n * n * 8, c = 2 * b;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			*elem(g, a, n, i, j) = (uint64_t)i * 131 + j + 1;
			*elem(g, b, n, i, j) = i == j ? 3 : 0;
			*elem(g, c, n, i, j) = 0;
		}
	for (uint32_t pass = 0; pass < g->passes; pass++)
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t k = 0; k < n; k++) {
				uint64_t aik = *elem(g, a, n, i, k);

				for (uint32_t j = 0; j < n; j++)
					*elem(g, c, n, i, j) += aik * *elem(g, b, n, k, j);
			}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			uint64_t want = 3ull * g->passes * ((uint64_t)i * 131 + j + 1);
			uint64_t got = *elem(g, c, n, i, j);

			if (got != want) {
				uint64_t off = c + ((uint64_t)i * n + j) * 8;

				report_mismatch(g, (uint32_t)(off / PFLAB_PAGE_SIZE),
						(uint32_t)(off % PFLAB_PAGE_SIZE), want, got);
			}
		}
}

struct node {
	uint64_t next;
	uint64_t stamp;
};

static uint32_t order_all[PFLAB_DATA_MAX_PAGES];

static volatile struct node *node_of(uint32_t vpn)
{
	/* Spread the nodes over the page offsets too. */
	return (volatile struct node *)(page_addr(vpn) + (vpn % 256) * 2);
}

static uint64_t node_stamp(uint32_t vpn)
{
	return (uint64_t)(vpn + 1) << 32 | 0x5157;
}

/* One node per page, linked in a random cyclic order (Sattolo's shuffle
 * gives a single cycle through every page); then chase it. */
void wl_list(struct guest *g)
{
	uint32_t n = g->npages, cur = 0, base = g->first;
	uint32_t *order = order_all + base; /* this vCPU's part */

	if (n == 0)
		return;
	for (uint32_t k = 0; k < n; k++)
		order[k] = k;
	for (uint32_t k = n - 1; k > 0; k--) {
		uint32_t j = rand_below(g, k), t = order[k];

		order[k] = order[j];
		order[j] = t;
	}
	/* order[] is now a single cycle: vpn -> order[vpn]. */
	for (uint32_t vpn = 0; vpn < n; vpn++) {
		volatile struct node *nd = node_of(base + vpn);

		note_ref(g, base + vpn);
		nd->next = order[vpn];
		nd->stamp = node_stamp(base + vpn);
	}
	for (uint32_t pass = 0; pass < g->passes; pass++) {
		for (uint32_t k = 0; k < n; k++) {
			volatile struct node *nd = node_of(base + cur);
			uint64_t stamp = nd->stamp, next = nd->next;

			note_ref(g, base + cur);
			if (stamp != node_stamp(base + cur) || next >= n) {
				report_mismatch(g, base + cur,
						(uint32_t)((uintptr_t)nd % PFLAB_PAGE_SIZE),
						node_stamp(base + cur), stamp);
				return;
			}
			cur = (uint32_t)next;
		}
		if (cur != 0) {
			report_mismatch(g, base + cur, 0, 0, cur);
			return;
		}
	}
}

static void copy_rep_movsb(void *dst, const void *src, uint64_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* Fill the low half, copy it onto the high half with one `rep movsb` that
 * crosses every page (faulting, and restarting, in the middle of the
 * instruction), check both halves; again with a new version each pass. */
void wl_copy(struct guest *g)
{
	uint32_t half = g->npages / 2;
	uint64_t bytes = (uint64_t)half * PFLAB_PAGE_SIZE;

	for (uint32_t pass = 0; pass < g->passes; pass++) {
		for (uint32_t vpn = 0; vpn < half; vpn++)
			page_write(g, vpn);
		copy_rep_movsb((void *)(uintptr_t)page_addr(half),
			       (const void *)(uintptr_t)page_addr(0), bytes);
		for (uint32_t vpn = 0; vpn < half; vpn++) {
			note_ref(g, vpn);
			note_ref(g, half + vpn);
		}
		for (uint32_t vpn = 0; vpn < half; vpn++) {
			volatile uint64_t *w = page_addr(half + vpn);

			note_ref(g, half + vpn);
			for (uint32_t i = 0; i < WORDS_PER_PAGE; i++) {
				uint64_t want = pattern(vpn, g->version[vpn], i);

				if (w[i] != want) {
					report_mismatch(g, half + vpn, i * 8, want, w[i]);
					break;
				}
			}
			page_check(g, vpn);
		}
	}
}

/* Benchmark: first-touch every page (one write), then make bare exits. */
void wl_touch(struct guest *g, uint32_t nops)
{
	for (uint32_t vpn = 0; vpn < g->npages; vpn++) {
		note_ref(g, vpn);
		*page_addr(vpn) = 0;
	}
	for (uint32_t k = 0; k < nops; k++)
		hcall(HC_NOP);
}

void wl_bad(uint32_t which)
{
	switch (which) {
	case WL_BAD_OOB:
		puts_serial("pflab guest: reading unbacked memory\n");
		(void)*(volatile uint64_t *)(uintptr_t)PFLAB_OOB_ADDR;
		break;
	case WL_BAD_UD:
		puts_serial("pflab guest: executing an undefined opcode\n");
		__asm__ volatile("ud2");
		break;
	case WL_BAD_LOOP:
		puts_serial("pflab guest: spinning forever\n");
		for (;;)
			__asm__ volatile("" : : : "memory");
	default:
		puts_serial("pflab guest: unknown workload\n");
		break;
	}
}
