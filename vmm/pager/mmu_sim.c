// SPDX-License-Identifier: MIT
/* The simulated MMU: see mmu_sim.h. */
#include "mmu_sim.h"

#include <errno.h>
#include <stdlib.h>

static int sim_map(struct mmu *mmu, vpn_t vpn, frame_t f, enum access_kind why)
{
	struct sim_mmu *m = (struct sim_mmu *)mmu;

	(void)vpn;
	/* The access that faulted completes after the fault and sets the
	 * bits; a fresh mapping starts from them and nothing older. */
	m->bits[f] = SIM_REFERENCED | (why == ACCESS_WRITE ? SIM_DIRTY : 0);
	return 0;
}

static void sim_unmap(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	(void)vpn;
	((struct sim_mmu *)mmu)->bits[f] = 0;
}

static bool sim_test_and_clear(struct sim_mmu *m, frame_t f, uint8_t bit)
{
	bool was = m->bits[f] & bit;

	m->bits[f] &= (uint8_t)~bit;
	return was;
}

static bool sim_referenced(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	(void)vpn;
	return sim_test_and_clear((struct sim_mmu *)mmu, f, SIM_REFERENCED);
}

static bool sim_dirty(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	(void)vpn;
	return sim_test_and_clear((struct sim_mmu *)mmu, f, SIM_DIRTY);
}

static const struct mmu_ops sim_mmu_ops = {
	.map = sim_map,
	.unmap = sim_unmap,
	.test_and_clear_referenced = sim_referenced,
	.test_and_clear_dirty = sim_dirty,
	/* Nothing to lock: the simulator never invalidates behind the pager. */
};

int sim_mmu_init(struct sim_mmu *m, uint32_t nframes)
{
	m->mmu.ops = &sim_mmu_ops;
	m->nframes = nframes;
	m->bits = calloc(nframes, 1);
	return m->bits ? 0 : -ENOMEM;
}

void sim_mmu_fini(struct sim_mmu *m)
{
	free(m->bits);
	m->bits = NULL;
}
