/* SPDX-License-Identifier: MIT */
/*
 * A pager whose pages carry data, for tests of what must never happen to
 * data: each page's contents is one number, the version the test last
 * wrote; frames and store slots hold versions, page_in/page_out copy them.
 * A stale slot read back, a dirty page dropped, a page mapped after a
 * failed read, a frame reused while its write is in flight: each shows up
 * as a version that is not the last one written.
 *
 * Optional: an --inject store around it (store_inject.h), a free pool
 * (pool.h), and a gate that holds one page's write-back until the test
 * opens it (to catch a paging daemon in the middle of a write).
 */
#ifndef PFLAB_TEST_DATA_RIG_H
#define PFLAB_TEST_DATA_RIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmu_sim.h"
#include "pager.h"
#include "store_inject.h"

struct data_store {
	struct backing_store bs;
	uint64_t *frame;        /* per frame */
	uint64_t *slot;         /* per page */
	uint64_t *reads;        /* per page: page_in calls */
	uint64_t *writes;       /* per page: page_out calls */
	/* The gate: page_out of gate_vpn blocks while gate_closed. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t gate_vpn;       /* -1: none */
	bool gate_closed;
	bool gate_entered;      /* page_out of gate_vpn has started */
};

struct data_rig {
	struct sim_mmu mmu;
	struct data_store data;
	struct inject_store inject;
	bool injecting;
	struct pager *p;
	uint64_t *want;         /* per page: the version last written */
	uint32_t npages;
};

struct data_rig_config {
	const char *policy;
	uint32_t frames, pages;
	const char *inject;     /* an --inject SPEC, or NULL */
	struct pool_config pool;
};

/* CUnit-fatal on failure. */
void data_rig_init(struct data_rig *r, const struct data_rig_config *cfg);
void data_rig_fini(struct data_rig *r);

/*
 * One access, as the guest makes it (under the pager lock): a page-in error
 * delivered is retried (up to 16 times, counted in *retries if not NULL).
 * A read checks the version; a write stores a new one. Returns the frame,
 * or NO_FRAME if the fault failed for good.
 */
frame_t data_rig_access(struct data_rig *r, vpn_t vpn, bool write, unsigned *retries);

/* Nothing lost: every page holds its last version, in its frame, in the
 * pool, or on the store (or it was never written). Under the pager lock. */
void data_rig_check(struct data_rig *r);

/* The gate on page vpn's write-back: close, wait until a write of it has
 * started, open. */
void data_rig_gate_close(struct data_rig *r, vpn_t vpn);
void data_rig_gate_wait_entered(struct data_rig *r);
void data_rig_gate_open(struct data_rig *r);

#endif /* PFLAB_TEST_DATA_RIG_H */
