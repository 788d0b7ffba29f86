/* SPDX-License-Identifier: MIT */
/*
 * A set of simulated machines, one per (policy, frames) pair, fed one
 * reference string a chunk at a time: the engine of `pflab sim`, and of the
 * QEMU plugin's live mode (vmm/qemu/), which feeds it as the program runs.
 *
 * Page ids are renamed to dense page numbers in order of first appearance
 * (traces/idmap.h) unless the caller says they already are dense. A machine
 * is sized by what the references need, not by what its frame count says:
 * it is created once the pages seen reach its frames, or at the end with
 * sim_frames_needed() frames (the same counts), and then replays the
 * references held for it since the start; once every machine exists
 * nothing is held. When a policy needs the future (OPT) every reference is
 * held, 4 bytes each, and the machines replay at sim_set_finish().
 *
 * With jobs J > 1 the machines replay each chunk on J threads (the calling
 * one and J - 1 started for the chunk, never more than the machines),
 * machine i always on thread i mod J: machines share nothing but the chunk
 * they read, so the counts are those of one thread. Reading, renaming and
 * creating machines stay on the calling thread, between chunks.
 */
#ifndef PFLAB_SIMSET_H
#define PFLAB_SIMSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "trace.h"

struct sim_set_config {
	const char *name;                   /* the trace's name, for messages */
	const struct policy_ops *const *policies;
	size_t npolicies;
	const uint32_t *frames;             /* ascending */
	size_t nframes;
	struct policy_params params;
	bool zero_fill;                     /* first touches are minor faults */
	struct pool_config pool;
	bool dense;                         /* the ids are dense page numbers already */
	unsigned jobs;                      /* threads replaying the machines; 0 or 1:
					       the calling thread alone */
	bool no_prefetch;                   /* replay without prefetching (sim.h): the
					       same counts */
};

/* One machine; rows come policy by policy, frames ascending within each. */
struct sim_run {
	const struct policy_ops *policy;
	uint32_t frames;
	struct sim *sim;     /* NULL until created */
	double seconds;      /* time spent replaying */
};

struct sim_set;

/*
 * Check every configuration (on a machine of a few frames, so that bad
 * options fail before any reference) and create the set. NULL with the
 * reason in err: a bad configuration, or out of memory.
 */
struct sim_set *sim_set_create(const struct sim_set_config *cfg, char *err, size_t errlen);
void sim_set_destroy(struct sim_set *s);

/* Feed n references. 0, or -1 with the reason in sim_set_error(). */
int sim_set_put(struct sim_set *s, const struct trace_ref *refs, size_t n);
/* The end of the references: create what is left, replay for OPT. 0 or -1. */
int sim_set_finish(struct sim_set *s);

/* Why the last call failed, and whether a machine failed (as opposed to
 * bad input: too many pages). */
const char *sim_set_error(const struct sim_set *s);
bool sim_set_machine_failed(const struct sim_set *s);

size_t sim_set_count(const struct sim_set *s);
const struct sim_run *sim_set_run(const struct sim_set *s, size_t i);
/* Distinct pages seen. */
uint32_t sim_set_pages(const struct sim_set *s);

#endif /* PFLAB_SIMSET_H */
