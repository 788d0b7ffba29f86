// SPDX-License-Identifier: MIT
/* Sampled miss-ratio curves: see lab_sample.h. */
#include "lab_sample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

uint32_t lab_sample_threshold(double rate)
{
	double t = nearbyint(rate * LAB_SAMPLE_MODULUS);

	if (!(t >= 1))
		return 1;
	return t >= LAB_SAMPLE_MODULUS ? LAB_SAMPLE_MODULUS : (uint32_t)t;
}

uint32_t lab_sample_frames(uint32_t frames, uint32_t threshold)
{
	/* round(frames * T / P) in integers: exact, and frames itself at T = P. */
	uint64_t scaled = ((uint64_t)frames * threshold + LAB_SAMPLE_MODULUS / 2) >> LAB_SAMPLE_BITS;

	return scaled ? (uint32_t)scaled : 1;
}

static int simulate_one(const struct policy_ops *policy, const vref_t *refs, const uint32_t *next,
			size_t n, uint32_t npages, uint32_t frames, uint64_t *faults, char *err,
			size_t errlen)
{
	struct sim_config cfg = {
		.policy = policy,
		.nframes = frames,
		.params = POLICY_PARAMS_DEFAULT,
		.future_known = next != NULL,
	};
	struct sim *s;
	int rc = -1;

	cfg.nframes = sim_frames_needed(&cfg, npages ? npages : 1);
	s = sim_create(&cfg, err, errlen);
	if (!s)
		return -1;
	if (pager_grow(s->pager, npages ? npages : 1) != 0) {
		snprintf(err, errlen, "out of memory for %u pages", npages);
		goto out;
	}
	if (sim_replay(s, refs, next, n) != 0) {
		snprintf(err, errlen, "%s with %u frames: %s", policy->name, frames, s->pager->err);
		goto out;
	}
	*faults = s->pager->stats.faults;
	rc = 0;
out:
	sim_destroy(s);
	return rc;
}

int lab_sample_simulate(const struct policy_ops *policy, const vref_t *refs, size_t n,
			uint32_t npages, const uint32_t *frames, size_t nframes, uint64_t *faults,
			char *err, size_t errlen)
{
	uint32_t *next = NULL;
	int rc = 0;

	if (policy->flags & POLICY_NEEDS_FUTURE) {
		next = malloc(sizeof(*next) * (n ? n : 1));
		if (!next || sim_next_use(refs, n, npages, next) != 0) {
			free(next);
			snprintf(err, errlen, "out of memory for the next uses of %zu references", n);
			return -1;
		}
	}
	for (size_t i = 0; i < nframes && rc == 0; i++)
		rc = simulate_one(policy, refs, next, n, npages, frames[i], &faults[i], err, errlen);
	free(next);
	return rc;
}
