// SPDX-License-Identifier: MIT
/*
 * Address spaces of the guest's own: x86-64 4-level page tables built at
 * run time, so that two "processes" can map one guest-physical range at
 * different virtual addresses (the shared workload, guest/shared.c).
 *
 * Every address space maps the wired region (code, stack, mailbox, these
 * very tables) and the doorbell page exactly as entry.S's boot tables do,
 * identity and with 2 MiB pages, so the guest keeps running at the same RIP
 * on the same stack across a switch, and the host's view of the mailbox
 * does not change. Everything else is up to the caller, 4 KiB at a time.
 *
 * Why ring 3 may build page tables: the boot tables map the wired region
 * user-writable (this guest has nothing to protect from itself), and there
 * guest-virtual equals guest-physical, so a table's address is what goes in
 * an entry and in CR3. What ring 3 may not do is load CR3: aspace_enter()
 * asks the host to (HC_ASPACE), as a process switch is the kernel's job.
 */
#include "guest.h"

#define PTE_P    0x001ull
#define PTE_W    0x002ull
#define PTE_U    0x004ull
#define PTE_A    0x020ull
#define PTE_D    0x040ull
#define PTE_PS   0x080ull
#define PTE_ADDR 0x000ffffffffff000ull

/* Accessed and dirty preset: the CPU then never writes to the tables. */
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U | PTE_A)
#define LEAF_FLAGS  (PTE_P | PTE_W | PTE_U | PTE_A | PTE_D)

#define LARGE_PAGE (2ull << 20)
#define DEPTH_PD   2 /* the entry that maps 2 MiB */
#define DEPTH_PT   3 /* the entry that maps 4 KiB */

static uint64_t *table_alloc(struct pt_pool *pool)
{
	uint64_t *t;

	if (pool->used == pool->npages)
		return NULL;
	t = pool->page[pool->used++];
	memset(t, 0, PFLAB_PAGE_SIZE);
	return t;
}

/* The entry for va at depth (0: the PML4's, 3: the PTE), allocating the
 * tables missing on the way; NULL when the pool is exhausted. */
static uint64_t *entry_for(struct aspace *as, uint64_t va, int depth)
{
	uint64_t *table = as->pml4;

	for (int level = 0;; level++) {
		uint64_t *e = &table[(va >> (39 - 9 * level)) & 511];

		if (level == depth)
			return e;
		if (!(*e & PTE_P)) {
			uint64_t *next = table_alloc(as->pool);

			if (!next)
				return NULL;
			*e = (uint64_t)(uintptr_t)next | TABLE_FLAGS;
		}
		table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
	}
}

static int map_pages(struct aspace *as, uint64_t va, uint64_t pa, uint64_t bytes, int depth)
{
	uint64_t size = depth == DEPTH_PD ? LARGE_PAGE : PFLAB_PAGE_SIZE;
	uint64_t large = depth == DEPTH_PD ? PTE_PS : 0;

	for (uint64_t off = 0; off < bytes; off += size) {
		uint64_t *e = entry_for(as, va + off, depth);

		if (!e)
			return -1;
		*e = (pa + off) | LEAF_FLAGS | large;
	}
	return 0;
}

int aspace_init(struct aspace *as, struct pt_pool *pool)
{
	as->pool = pool;
	as->pml4 = table_alloc(pool);
	if (!as->pml4)
		return -1;
	if (map_pages(as, 0, 0, PFLAB_WIRED_SIZE, DEPTH_PD))
		return -1;
	return map_pages(as, PFLAB_DOORBELL, PFLAB_DOORBELL, LARGE_PAGE, DEPTH_PD);
}

int aspace_map(struct aspace *as, uint64_t va, uint64_t pa, uint64_t bytes)
{
	return map_pages(as, va, pa, bytes, DEPTH_PT);
}

void aspace_enter(const struct aspace *as)
{
	MAILBOX->aspace_cr3 = (uint64_t)(uintptr_t)as->pml4;
	hcall(HC_ASPACE);
}
