// SPDX-License-Identifier: MIT
/*
 * The process MMU: the pager's struct mmu (mmu.h) on the calling process's
 * own page tables, through a trap mechanism. Like the KVM MMU (mmu_kvm.c),
 * it sees only faults, so the two bits a policy reads are emulated:
 *
 *  - referenced, by invalidation (4BSD on the VAX): a mapped page counts as
 *    referenced, as an access mapped it; clearing the bit unmaps the page
 *    but keeps its bytes in its frame (UPG_SOFT), and the next access traps
 *    and is served without I/O, setting the bit again (a soft fault);
 *  - dirty, by write protection: a page brought in by a read is mapped
 *    read-only and its first write traps (uffd: a WP fault; sigsegv: a
 *    SIGSEGV on a read-only page) to set the bit and make it writable.
 *    Clearing the bit write-protects the page again, so that a write
 *    between the pager's test and its write-back is never lost.
 */
#include "uvm_internal.h"

static inline struct uvm_region *region_of(struct mmu *mmu)
{
	return ((struct uvm_mmu *)mmu)->r;
}

static void note_error(struct uvm_region *r, int rc)
{
	if (rc && !r->mmu_error)
		r->mmu_error = rc;
}

static int ummu_map(struct mmu *mmu, vpn_t vpn, frame_t f, enum access_kind why)
{
	struct uvm_region *r = region_of(mmu);
	bool write = why == ACCESS_WRITE || !r->wp;
	int rc = r->trap->install(r, vpn, f, write);

	if (rc == 0) {
		r->state[vpn] = UPG_MAPPED | (write ? UPG_WRITABLE | UPG_DIRTY : 0);
		r->frame[vpn] = f;
	}
	return rc;
}

static void ummu_unmap(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct uvm_region *r = region_of(mmu);

	/* A free pool reuses the frame's bytes; a dirty page is unmapped
	 * before its write-back (other threads run on), which writes the
	 * frame: both need the bytes kept. */
	if (r->state[vpn] & UPG_MAPPED)
		note_error(r, r->trap->remove(r, vpn, f,
					      r->keep_on_unmap ||
					      (r->pager->frames[f].flags & FRAME_DIRTY)));
	r->state[vpn] = 0;
	r->frame[vpn] = NO_FRAME;
}

static bool ummu_referenced(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct uvm_region *r = region_of(mmu);

	if (!(r->state[vpn] & UPG_MAPPED))
		return false;
	note_error(r, r->trap->remove(r, vpn, f, true));
	r->state[vpn] = UPG_SOFT | (r->state[vpn] & UPG_DIRTY);
	return true;
}

static bool ummu_dirty(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct uvm_region *r = region_of(mmu);
	uint8_t s = r->state[vpn];

	(void)f;
	if (!(s & UPG_DIRTY))
		return false;
	if (!r->wp)
		return true; /* no way to see the next write: always dirty */
	if ((s & (UPG_MAPPED | UPG_WRITABLE)) == (UPG_MAPPED | UPG_WRITABLE))
		note_error(r, r->trap->protect(r, vpn, false));
	r->state[vpn] = s & (uint8_t)~(UPG_DIRTY | UPG_WRITABLE);
	return true;
}

static const struct mmu_ops uvm_mmu_ops = {
	.map = ummu_map,
	.unmap = ummu_unmap,
	.test_and_clear_referenced = ummu_referenced,
	.test_and_clear_dirty = ummu_dirty,
	/* pin/unpin: a pinned page is never offered to the policy, so it is
	 * never invalidated; nothing more to lock. */
};

void uvm_mmu_init(struct uvm_mmu *m, struct uvm_region *r)
{
	m->mmu.ops = &uvm_mmu_ops;
	m->r = r;
}
