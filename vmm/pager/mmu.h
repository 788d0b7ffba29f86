/* SPDX-License-Identifier: MIT */
/*
 * The MMU interface: what the pager may ask of the address-translation
 * hardware it manages. The pager never touches page tables itself.
 *
 * Two implementations exist:
 *  - the simulated MMU (mmu_sim.c): the trace replayer plays the hardware,
 *    every reference is seen and sets the referenced/dirty bits;
 *  - the KVM MMU (vmm/): only faults are seen; a referenced bit is emulated
 *    by invalidation (clearing it unmaps the page, so its next access takes
 *    a soft fault that sets it again) and dirty bits come from KVM's dirty log.
 *
 * Every operation names both the page and the frame: an implementation that
 * keys its state by guest page (KVM) and one that keys it by frame (the
 * simulator) can each use the one it needs.
 */
#ifndef PFLAB_MMU_H
#define PFLAB_MMU_H

#include <stdbool.h>

#include "types.h"

struct mmu;

struct mmu_ops {
	/* Make vpn accessible through frame f. Called with the page's data
	 * already in the frame. The faulting access that follows sets the
	 * referenced bit (and the dirty bit if it is a write), as hardware
	 * would. Returns 0 or -errno. */
	int (*map)(struct mmu *mmu, vpn_t vpn, frame_t f, enum access_kind why);
	/* Remove the translation of vpn; later accesses fault. */
	void (*unmap)(struct mmu *mmu, vpn_t vpn, frame_t f);
	/* Return whether vpn was accessed since the last call, and clear it. */
	bool (*test_and_clear_referenced)(struct mmu *mmu, vpn_t vpn, frame_t f);
	/* Return whether vpn was written since the last call, and clear it. */
	bool (*test_and_clear_dirty)(struct mmu *mmu, vpn_t vpn, frame_t f);
	/* Lock / unlock the translation for DMA: an implementation that
	 * invalidates translations to sample reference bits must not do so
	 * on a pinned page. May be NULL where nothing is needed. */
	void (*pin)(struct mmu *mmu, vpn_t vpn, frame_t f);
	void (*unpin)(struct mmu *mmu, vpn_t vpn, frame_t f);
};

/* Embedded as the first member of each implementation's own struct. */
struct mmu {
	const struct mmu_ops *ops;
};

#endif /* PFLAB_MMU_H */
