// SPDX-License-Identifier: MIT
/*
 * The KVM MMU: the pager's struct mmu on a real guest. KVM shows us only
 * faults, so the two bits a replacement policy reads are emulated:
 *
 *  - referenced, by invalidation (as 4BSD did on the VAX, which had no
 *    reference bit): a mapped page counts as referenced, because it was
 *    mapped by an access; clearing the bit unmaps the page but keeps its
 *    frame (PG_SOFT), so the next access traps and kvm_mmu_soft_fault()
 *    maps the same frame again without I/O, setting the bit;
 *  - dirty, from KVM's dirty log on the data memslot: KVM_GET_DIRTY_LOG
 *    returns (and clears) the pages KVM mapped writable since the last
 *    call; we OR it into our own bitmap, which also takes the writes the
 *    host completed itself (emulated MMIO stores), and
 *    test_and_clear_dirty() tests and clears a page's bit there.
 *    KVM logs a page when it *maps it writable*, not when the guest writes
 *    (shadow paging makes a writable mapping on a read when the guest's own
 *    PTE is writable and dirty): so a page faulted in by a read is mapped
 *    read-only on the host, and its first write traps once more
 *    (kvm_mmu_soft_fault) to become writable, which KVM then logs. The
 *    write-protect trick of systems whose hardware had no dirty bit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "region.h"

static inline struct kvm_mmu *to_kvm_mmu(struct mmu *mmu)
{
	return (struct kvm_mmu *)mmu;
}

static void note_error(struct kvm_mmu *m, int rc)
{
	if (rc && !m->error)
		m->error = rc;
}

static int kmmu_map(struct mmu *mmu, vpn_t vpn, frame_t f, enum access_kind why)
{
	struct kvm_mmu *m = to_kvm_mmu(mmu);
	bool write = why == ACCESS_WRITE;
	int rc = m->region->trap->map(m->region, vpn, f, write);

	/* A write's dirty bit comes from the dirty log when the guest
	 * re-executes it, or from kvm_mmu_mark_dirty() when the host
	 * completes it. */
	if (rc == 0) {
		m->state[vpn] = PG_MAPPED | (write ? PG_WRITABLE : 0);
		m->frame[vpn] = f;
	}
	return rc;
}

static void kmmu_unmap(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct kvm_mmu *m = to_kvm_mmu(mmu);

	if (m->state[vpn] & PG_MAPPED)
		note_error(m, m->region->trap->unmap(m->region, vpn, f));
	m->state[vpn] = 0;
	m->frame[vpn] = NO_FRAME;
	m->last_unmapped = vpn;
}

static bool kmmu_referenced(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct kvm_mmu *m = to_kvm_mmu(mmu);

	if (!(m->state[vpn] & PG_MAPPED))
		return false;
	note_error(m, m->region->trap->unmap(m->region, vpn, f));
	m->state[vpn] = PG_SOFT;
	return true;
}

static bool kmmu_dirty(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct kvm_mmu *m = to_kvm_mmu(mmu);
	uint64_t bit = 1ull << (vpn % 64);
	bool was;
	int rc;

	(void)f;
	rc = kvm_vm_get_dirty_log(m->vm, m->slot, m->log);
	note_error(m, rc);
	if (rc == 0)
		for (size_t i = 0; i < m->words; i++)
			m->dirty[i] |= m->log[i];
	was = m->dirty[vpn / 64] & bit;
	m->dirty[vpn / 64] &= ~bit;
	return was;
}

static const struct mmu_ops kvm_mmu_ops = {
	.map = kmmu_map,
	.unmap = kmmu_unmap,
	.test_and_clear_referenced = kmmu_referenced,
	.test_and_clear_dirty = kmmu_dirty,
	/* pin/unpin: nothing pins data pages (no device does DMA here). */
};

int kvm_mmu_init(struct kvm_mmu *m, struct region *r, struct kvm_vm *vm, uint32_t slot)
{
	*m = (struct kvm_mmu){ .mmu.ops = &kvm_mmu_ops, .region = r, .vm = vm, .slot = slot };
	m->words = (r->npages + 63) / 64;
	m->state = calloc(r->npages, sizeof(*m->state));
	m->frame = malloc(sizeof(*m->frame) * r->npages);
	m->dirty = calloc(m->words, sizeof(*m->dirty));
	m->log = calloc(m->words, sizeof(*m->log));
	if (!m->state || !m->frame || !m->dirty || !m->log) {
		kvm_mmu_fini(m);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < r->npages; i++)
		m->frame[i] = NO_FRAME;
	return 0;
}

void kvm_mmu_fini(struct kvm_mmu *m)
{
	free(m->state);
	free(m->frame);
	free(m->dirty);
	free(m->log);
	m->state = NULL;
	m->frame = NULL;
	m->dirty = m->log = NULL;
}

int kvm_mmu_soft_fault(struct kvm_mmu *m, vpn_t vpn, enum access_kind kind)
{
	bool write = kind == ACCESS_WRITE;
	int rc;

	if (m->state[vpn] == PG_SOFT) {
		rc = m->region->trap->map(m->region, vpn, m->frame[vpn], write);
		if (rc)
			return rc;
		m->state[vpn] = PG_MAPPED | (write ? PG_WRITABLE : 0);
		m->soft_faults++;
		return 1;
	}
	if (m->state[vpn] == PG_MAPPED && write) {
		rc = m->region->trap->make_writable(m->region, vpn);
		if (rc)
			return rc;
		m->state[vpn] |= PG_WRITABLE;
		m->dirty_faults++;
		return 1;
	}
	return 0;
}

uint8_t *kvm_mmu_page_bytes(void *ctx, vpn_t vpn, frame_t f)
{
	struct kvm_mmu *m = ctx;

	return m->region->trap->page_bytes(m->region, vpn, f, m->state[vpn] & PG_MAPPED);
}
