// SPDX-License-Identifier: MIT
/*
 * `--frames` lists (tools/lab/lab_frames.c): N, A:B:xK, A:B:+K, comma
 * separated. The first byte picks the upper bound (as sim, run and mrc
 * give it); the rest is the list. Properties: the counts are in [1, max],
 * strictly ascending, at most LAB_FRAMES_MAX_COUNT of them, and the list
 * joined back (lab_frames_join) parses to the same counts.
 */
#include "fuzz.h"

#include "lab_frames.h"

static const uint64_t bounds[4] = { 1, 30000, UINT32_MAX - 1, UINT64_MAX };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t *v = NULL, *w = NULL;
	size_t n = 0, m = 0;
	uint64_t max;
	char *spec, *joined, why[256] = "";

	if (size < 1)
		return 0;
	max = bounds[data[0] & 3];
	spec = fuzz_string(data + 1, size - 1);
	if (!spec)
		return 0;
	if (lab_frames_parse(spec, max, &v, &n, why, sizeof(why)) == 0) {
		FUZZ_CHECK(n >= 1 && n <= LAB_FRAMES_MAX_COUNT);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(v[i] >= 1 && v[i] <= max);
			FUZZ_CHECK(i == 0 || v[i - 1] < v[i]);
		}
		joined = lab_frames_join(v, n);
		if (joined) {
			FUZZ_CHECK(lab_frames_parse(joined, max, &w, &m, why, sizeof(why)) == 0);
			FUZZ_CHECK(m == n && memcmp(v, w, n * sizeof(*v)) == 0);
			free(w);
			free(joined);
		}
		free(v);
	} else {
		FUZZ_CHECK(why[0]);
	}
	free(spec);
	return 0;
}
