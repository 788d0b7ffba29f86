// SPDX-License-Identifier: MIT
/*
 * The shared workload: two "processes", A and B, each an address space of
 * its own (aspace.c), map one shared part of the data region at different
 * virtual addresses, and each a private part at the same virtual address.
 * The host switches between them (HC_ASPACE loads the other CR3), as a
 * kernel switches processes. The host pager pages guest-physical pages, so
 * a shared page has one copy however many mappings it has: one frame when
 * resident, one swap slot when not (docs/mapped-files.md).
 *
 * Layout of the data region of N pages, P = N / 4, S = N - 2P:
 *
 *   data pages [0, S)        shared: A sees them at 5 GiB, B at 6 GiB
 *   data pages [S, S+P)      A's private pages, at 4 GiB in A
 *   data pages [S+P, S+2P)   B's private pages, at 4 GiB in B
 *
 * Neither process maps the data region where the boot tables do, so an
 * access through a wrong translation is a guest page fault (no IDT: the run
 * dies), never a quiet hit on the right page.
 *
 * Each turn of a process checks every page it maps against the version
 * last written, by whichever process, then writes the next version. Passes
 * rounds of A then B, then a last checking turn of each: B checks what A
 * wrote through another mapping, and A checks B's, at every turn. The
 * private pages prove that a switch took effect, TLB included: the two
 * private parts share their virtual addresses, so a stale translation
 * would have one process read the other's page, whose pattern names
 * another page. (No switch at all is a page fault: the boot tables map
 * nothing at 4 GiB.)
 */
#include "guest.h"

#define GIB (1ull << 30)
#define VA_PRIVATE  (4 * GIB)
#define VA_SHARED_A (5 * GIB)
#define VA_SHARED_B (6 * GIB)

/* Per address space, at most: PML4, PDPT, the PDs of the wired region,
 * the doorbell, the private and the shared part (6), and page tables for
 * 2048 private and 4097 shared pages (4 + 9). */
#define TABLE_PAGES 40

static uint64_t tables[TABLE_PAGES][512] __attribute__((aligned(PFLAB_PAGE_SIZE)));

struct process {
	struct aspace as;
	uint64_t shared_va;     /* where it maps data page 0 */
	uint32_t private_first; /* the data page at VA_PRIVATE */
};

static volatile uint64_t *va_page(uint64_t base, uint32_t i)
{
	return (volatile uint64_t *)(uintptr_t)(base + (uint64_t)i * PFLAB_PAGE_SIZE);
}

static uint64_t data_pa(uint32_t vpn)
{
	return PFLAB_DATA_BASE + (uint64_t)vpn * PFLAB_PAGE_SIZE;
}

static int process_init(struct process *p, struct pt_pool *pool, uint64_t shared_va,
			uint32_t nshared, uint32_t private_first, uint32_t nprivate)
{
	p->shared_va = shared_va;
	p->private_first = private_first;
	if (aspace_init(&p->as, pool))
		return -1;
	if (aspace_map(&p->as, shared_va, data_pa(0), (uint64_t)nshared * PFLAB_PAGE_SIZE))
		return -1;
	return aspace_map(&p->as, VA_PRIVATE, data_pa(private_first),
			  (uint64_t)nprivate * PFLAB_PAGE_SIZE);
}

/* Data page vpn, mapped at w: check its last version, then write the next
 * if asked. Versions are kept per guest-physical page, so either process
 * checks what the other wrote. */
static void visit(struct guest *g, volatile uint64_t *w, uint32_t vpn, int write)
{
	page_check_at(g, w, vpn);
	if (write)
		page_write_at(g, w, vpn);
}

/* One turn of process p: switch to it, visit its shared pages through its
 * mapping of them, then its private pages. */
static void turn(struct guest *g, const struct process *p, uint32_t nshared, uint32_t nprivate,
		 int write)
{
	aspace_enter(&p->as);
	for (uint32_t s = 0; s < nshared; s++)
		visit(g, va_page(p->shared_va, s), s, write);
	for (uint32_t k = 0; k < nprivate; k++)
		visit(g, va_page(VA_PRIVATE, k), p->private_first + k, write);
}

void wl_shared(struct guest *g)
{
	struct pt_pool pool = { .page = tables, .npages = TABLE_PAGES };
	uint32_t nprivate = g->npages / 4, nshared = g->npages - 2 * nprivate;
	struct process a, b;

	if (g->npages < 4 || g->npages > PFLAB_SHARED_MAX_PAGES ||
	    process_init(&a, &pool, VA_SHARED_A, nshared, nshared, nprivate) ||
	    process_init(&b, &pool, VA_SHARED_B, nshared, nshared + nprivate, nprivate)) {
		puts_serial("pflab guest: shared: cannot lay out the address spaces\n");
		g->errors++;
		return;
	}
	puts_serial("pflab guest: shared: ");
	put_u64(nshared);
	puts_serial(" pages shared (A at 5 GiB, B at 6 GiB), ");
	put_u64(nprivate);
	puts_serial(" private each (at 4 GiB)\n");

	for (uint32_t round = 0; round < g->passes; round++) {
		turn(g, &a, nshared, nprivate, 1);
		turn(g, &b, nshared, nprivate, 1);
	}
	turn(g, &a, nshared, nprivate, 0);
	turn(g, &b, nshared, nprivate, 0);

	puts_serial("pflab guest: shared: ");
	put_u64(2 * (uint64_t)g->passes + 2);
	puts_serial(" turns, each a switch of address space by the host\n");
}
