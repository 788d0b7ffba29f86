/* SPDX-License-Identifier: MIT */
/*
 * The simulated MMU: one referenced and one dirty bit per frame, set by
 * sim_mmu_touch() on every reference, as the hardware's page walker would.
 */
#ifndef PFLAB_MMU_SIM_H
#define PFLAB_MMU_SIM_H

#include <stdint.h>

#include "mmu.h"

#define SIM_REFERENCED 0x1u
#define SIM_DIRTY      0x2u

struct sim_mmu {
	struct mmu mmu;
	uint8_t *bits; /* per frame */
	uint32_t nframes;
};

int sim_mmu_init(struct sim_mmu *m, uint32_t nframes);
void sim_mmu_fini(struct sim_mmu *m);

/* The hardware's side of a reference to a mapped page. */
static inline void sim_mmu_touch(struct sim_mmu *m, frame_t f, int write)
{
	m->bits[f] |= SIM_REFERENCED | (write ? SIM_DIRTY : 0);
}

#endif /* PFLAB_MMU_SIM_H */
