/* SPDX-License-Identifier: MIT */
/*
 * Miss-ratio curves of any policy by sampling: spatially hashed sampling
 * (SHARDS: C. A. Waldspurger, N. Park, A. Garthwaite, I. Ahmad, "Efficient
 * MRC construction with SHARDS", FAST 2015) feeding miniature simulations
 * (C. A. Waldspurger, T. Saemundsson, I. Ahmad, N. Park, "Cache modeling and
 * optimization using miniature simulations", USENIX ATC 2017).
 *
 * A page is in the sample when hash(page) mod P < T, with P = 2^24 and
 * T = round(R * P) for the sampling rate R: every reference to a sampled
 * page is kept, every reference to another page dropped, so the sample is
 * the trace of a fraction R of the pages with their reuse patterns whole.
 * A memory of c frames is then emulated by the same policy with c * R
 * frames (at least 1) on the sample, and the sample's miss ratio is the
 * estimate of the trace's. With R = 1 every page is kept and the
 * simulation is the exact one. See docs/lab.md#sampled-curves.
 */
#ifndef PFLAB_LAB_SAMPLE_H
#define PFLAB_LAB_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "sim.h"

#define LAB_SAMPLE_BITS 24
#define LAB_SAMPLE_MODULUS (1u << LAB_SAMPLE_BITS)
/* The smallest rate that keeps anything: T = 1. */
#define LAB_SAMPLE_RATE_MIN (1.0 / LAB_SAMPLE_MODULUS)

/* hash(page) mod P: splitmix64's finaliser, so that neighbouring pages
 * (a stride, a sequential scan) land far apart. */
static inline uint32_t lab_sample_hash(uint64_t page)
{
	page += 0x9e3779b97f4a7c15ULL;
	page = (page ^ (page >> 30)) * 0xbf58476d1ce4e5b9ULL;
	page = (page ^ (page >> 27)) * 0x94d049bb133111ebULL;
	page ^= page >> 31;
	return (uint32_t)(page & (LAB_SAMPLE_MODULUS - 1));
}

/* T for rate R in [LAB_SAMPLE_RATE_MIN, 1]: round(R * P), at least 1. */
uint32_t lab_sample_threshold(double rate);

static inline bool lab_sample_keep(uint64_t page, uint32_t threshold)
{
	return lab_sample_hash(page) < threshold;
}

/* The frames that emulate `frames` at the rate T / P: round(frames * T / P), at least 1. */
uint32_t lab_sample_frames(uint32_t frames, uint32_t threshold);

/*
 * Replay refs (dense page numbers below npages, write bits as sim_replay
 * takes them) through a fresh machine of `policy` with default parameters
 * for each frames[i], and store its fault count in faults[i]. OPT's future
 * is computed here. 0, or -1 with a reason in err.
 */
int lab_sample_simulate(const struct policy_ops *policy, const vref_t *refs, size_t n,
			uint32_t npages, const uint32_t *frames, size_t nframes, uint64_t *faults,
			char *err, size_t errlen);

#endif /* PFLAB_LAB_SAMPLE_H */
