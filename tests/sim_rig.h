/* SPDX-License-Identifier: MIT */
/* Driving a simulated machine from a test: shared by the policy suites. */
#ifndef PFLAB_SIM_RIG_H
#define PFLAB_SIM_RIG_H

#include "sim.h"

/*
 * A machine running `policy` on `frames` frames, its page table grown to
 * npages; future_known for policies that read next-use times. Fails the
 * test (fatally) if the policy is unknown or the machine can't be made.
 */
struct sim *rig_sim(const char *policy, uint32_t frames, struct policy_params params,
		    bool future_known, uint32_t npages);

/* Parse "7 0 1 2 ..." into read references; *npages (if not NULL) gets
 * one more than the largest page. Returns the count. */
size_t rig_parse_refs(const char *str, vref_t *out, size_t max, uint32_t *npages);

#endif /* PFLAB_SIM_RIG_H */
