// SPDX-License-Identifier: MIT
/* Driving a simulated machine from a test: see sim_rig.h. */
#include <stdio.h>
#include <stdlib.h>

#include "sim_rig.h"
#include "test.h"

struct sim *rig_sim(const char *policy, uint32_t frames, struct policy_params params,
		    bool future_known, uint32_t npages)
{
	const struct policy_ops *ops = policy_find(policy);
	char err[200];
	struct sim *s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	s = sim_create(&(struct sim_config){
		.policy = ops,
		.nframes = frames,
		.params = params,
		.future_known = future_known,
	}, err, sizeof(err));
	if (!s)
		printf("\n  sim_create(%s, %u frames): %s\n", policy, frames, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(pager_grow(s->pager, npages), 0);
	return s;
}

size_t rig_parse_refs(const char *str, vref_t *out, size_t max, uint32_t *npages)
{
	uint32_t top = 0;
	size_t n = 0;
	char *end;

	for (unsigned long v; n < max && (v = strtoul(str, &end, 10), end != str); str = end) {
		out[n++] = VREF((vpn_t)v, 0);
		if (v + 1 > top)
			top = (uint32_t)v + 1;
	}
	if (npages)
		*npages = top;
	return n;
}
