/* SPDX-License-Identifier: MIT */
/*
 * The plugin's summary, a small text file that `pflab capture` reads
 * (docs/qemu.md#the-results-file):
 *
 *   pflab-qemu-results 1
 *   refs R writes W pages P
 *   run POLICY FRAMES refs faults major minor evictions writebacks
 *       resident_max resident_sum pool_reclaims direct_reclaims seconds
 *   ...
 *   end
 *
 * (each run on one line). Written only when everything before it went
 * well; "end" tells a complete file from a cut one.
 */
#ifndef PFLAB_PLUGIN_RESULTS_H
#define PFLAB_PLUGIN_RESULTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pager.h"
#include "plugin_args.h"

#define PLUGIN_RESULTS_VERSION 1
#define PLUGIN_MAX_RUNS (PLUGIN_MAX_POLICIES * PLUGIN_MAX_FRAMES)

struct plugin_run {
	const struct policy_ops *policy;
	uint32_t frames;
	struct pager_stats st;
	double seconds;
};

struct plugin_results {
	uint64_t refs, writes;
	uint32_t pages;        /* distinct pages; 0 when not counted (rw, no live) */
	size_t nruns;
	struct plugin_run runs[PLUGIN_MAX_RUNS];
};

void plugin_results_write(FILE *out, const struct plugin_results *r);
/* Parse len bytes of text. 0, or -1 with "line N: reason" in err. */
int plugin_results_parse(const char *text, size_t len, struct plugin_results *r, char *err,
			 size_t errlen);

#endif /* PFLAB_PLUGIN_RESULTS_H */
