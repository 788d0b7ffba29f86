/* SPDX-License-Identifier: MIT */
/*
 * The guest's workloads (guest/workloads.c, guest/replay.c) as a host
 * process runs them on a region: the same reference strings and the same
 * data checks, from the same code: the generators of
 * guest/workload_gen.h, header-only and freestanding, which the guest
 * includes too (the trace's replay alone is written twice: the guest's
 * fetches the trace from the host in batches).
 * `pflab proc` runs them; they touch memory only, so any region works.
 */
#ifndef PFLAB_UVM_WORKLOAD_H
#define PFLAB_UVM_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uvm;

enum uvm_workload_kind {
	UWL_SCAN = 1, UWL_RANDOM, UWL_STRIDE, UWL_MATMUL, UWL_LIST, UWL_COPY, UWL_TRACE,
};

struct uvm_workload {
	enum uvm_workload_kind kind;
	uint8_t *base;          /* the region */
	uint32_t npages;
	size_t page_size;
	uint32_t passes;        /* 0: the guest's default for the workload */
	uint64_t seed;
	unsigned threads;       /* each runs the workload on its own slice of pages */
	struct uvm *green;      /* non-NULL: the threads are green threads of this
				   context, run by the calling thread (uvm.h) */
	uint64_t green_parks;   /* result: faults a green thread was parked for */
	/* trace replay: refs[i] a page, bit 31 a write; the index is stored in
	 * *index before each access (struct uvm_replay) */
	const uint32_t *refs;
	size_t nrefs;
	volatile uint64_t *index;
	/* called with i before reference i when i is a multiple of tick
	 * (uvm_replay_tick), if set */
	void (*on_tick)(void *ctx, uint64_t i);
	void *tick_ctx;
	uint64_t tick;

	/* results */
	uint64_t refs_made;     /* page references (immediate repeats merged, as the guest counts) */
	uint64_t mismatches;    /* words that were not what was written */
	char first_mismatch[160];
};

/* The workload named name (the guest's names; "strided" is stride), or 0. */
enum uvm_workload_kind uvm_workload_find(const char *name);
const char *uvm_workload_name(enum uvm_workload_kind kind);
/* Its passes by default, as the guest's (vmm_workload_passes). */
uint32_t uvm_workload_passes(enum uvm_workload_kind kind);

/* Run it. 0, or -errno if its threads could not be started. */
int uvm_workload_run(struct uvm_workload *w);

#endif /* PFLAB_UVM_WORKLOAD_H */
