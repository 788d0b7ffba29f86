/* SPDX-License-Identifier: MIT */
/*
 * A simulated machine: a pager on the simulated MMU, fed a reference string.
 * The replay loop plays the hardware: it sets the MMU's bits on every
 * reference and raises a fault on every miss.
 */
#ifndef PFLAB_SIM_H
#define PFLAB_SIM_H

#include <stddef.h>

#include "mmu_sim.h"
#include "pager.h"

/* A reference as the replayer takes it: a page number with the write bit on top. */
typedef uint32_t vref_t;
#define VREF_WRITE 0x80000000u
#define VREF_VPN_MAX 0x7fffffffu
#define VREF(vpn, write) ((vref_t)(vpn) | ((write) ? VREF_WRITE : 0))
#define VREF_VPN(r) ((vpn_t)((r) & ~VREF_WRITE))

struct sim {
	struct sim_mmu mmu;
	struct pager *pager;
	bool prefetch;          /* sim_replay prefetches ahead (sim.c) */
};

struct sim_config {
	const struct policy_ops *policy;
	uint32_t nframes;
	struct policy_params params;
	bool future_known;      /* next-use times will be passed to sim_replay */
	bool first_touch_zero;  /* anonymous memory: first touches are minor faults */
	struct pool_config pool; /* a free pool, its daemon run at the end of faults
				    (pool.h); high 0: none */
	bool no_prefetch;       /* replay without prefetching: the same counts,
				   to measure what prefetching saves */
};

/*
 * The frames a machine of cfg can use on a reference string of npages
 * distinct pages: min(cfg->nframes, npages), as the pages of a fault and of
 * every resident page are distinct, so that with npages frames a free frame
 * is always left and nothing is ever evicted. With a free pool, high + 1
 * frames more, so that the daemon, which wakes when low or fewer are free,
 * never runs either. A machine created with this many frames gives exactly
 * the counts of one with cfg->nframes, and allocates by what the trace
 * needs, not by what --frames says.
 */
uint32_t sim_frames_needed(const struct sim_config *cfg, uint32_t npages);

/* Returns NULL with a reason in err. */
struct sim *sim_create(const struct sim_config *cfg, char *err, size_t errlen);
void sim_destroy(struct sim *s);

/*
 * Replay n references. next_use, if not NULL, gives for each reference the
 * 1-based time of the next reference to the same page, 0 for never; times
 * count from 1 across calls. Every vpn must be below the pager's npages
 * (see pager_grow). Returns 0, or -1 with the reason in s->pager->err.
 */
int sim_replay(struct sim *s, const vref_t *refs, const uint32_t *next_use, size_t n);

/*
 * Fill next_use[i] with the 1-based time of the next reference to the page
 * of refs[i] (reference i is at time i + 1), or 0 if there is none: the
 * future that OPT reads. One backward pass; npages bounds the vpns.
 * Returns 0 or -ENOMEM.
 */
int sim_next_use(const vref_t *refs, size_t n, uint32_t npages, uint32_t *next_use);
#endif /* PFLAB_SIM_H */
