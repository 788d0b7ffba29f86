/* SPDX-License-Identifier: MIT */
/*
 * Frame-count lists for sim, compare and mrc: a comma-separated
 * list whose items are a number N, a geometric series A:B:xK or an
 * arithmetic one A:B:+K. docs/lab.md#frames describes the syntax.
 */
#ifndef PFLAB_LAB_FRAMES_H
#define PFLAB_LAB_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/* More frame counts than this in one list is a mistake, not a plan. */
#define LAB_FRAMES_MAX_COUNT 100000

/*
 * Parse spec into frame counts in [1, max], sorted ascending, duplicates
 * dropped; *out is malloc'ed. Returns 0, or -1 with a reason in why.
 *
 *   A:B:xK   A, A*K, A*K^2, ... while <= B (K > 1, may be fractional:
 *            each value is rounded, repeats dropped)
 *   A:B:+K   A, A+K, A+2K, ... while <= B (K >= 1, whole)
 *
 * B itself is included only when the series reaches it exactly.
 */
int lab_frames_parse(const char *spec, uint64_t max, uint32_t **out, size_t *n, char *why,
		     size_t whylen);

/* "1,2,4": the list as pflab sim's --frames takes it, malloc'ed (NULL: out of memory). */
char *lab_frames_join(const uint32_t *v, size_t n);

#endif /* PFLAB_LAB_FRAMES_H */
