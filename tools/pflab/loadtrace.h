/* SPDX-License-Identifier: MIT */
/*
 * A trace loaded whole, its pages renamed densely in order of first
 * appearance: what a replay needs that runs real accesses (pflab run's
 * guest, pflab proc's process) and what OPT reads its future from.
 */
#ifndef PFLAB_LOADTRACE_H
#define PFLAB_LOADTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "trace.h"

struct loaded_trace {
	vref_t *refs;
	size_t n;
	uint64_t *ids;      /* vpn -> the trace's page id */
	uint32_t npages;
	uint32_t *next_use;
};

void loaded_trace_free(struct loaded_trace *lt);

/*
 * Load the trace at path (at most max_pages distinct pages; max_why says
 * what holds them, for the error). 0, or EXIT_USAGE after printing a
 * one-line reason as "pflab <cmd>: ...".
 */
int lab_load_trace(const char *cmd, const char *path, const struct trace_options *opt,
		   uint32_t max_pages, const char *max_why, struct loaded_trace *lt);

/* Fill lt->next_use (for OPT). 0, or EXIT_USAGE after saying why. */
int lab_trace_next_use(const char *cmd, struct loaded_trace *lt);

#endif /* PFLAB_LOADTRACE_H */
