/* SPDX-License-Identifier: MIT */
/*
 * Replacement policies: one file each under policy/, one ops table each,
 * registered with POLICY_REGISTER() so that adding a policy is adding a file.
 *
 * The contract between the pager and a policy:
 *
 *  - The policy tracks the *evictable* resident pages: every frame the pager
 *    has handed to insert() and not yet taken back through victim() or
 *    remove(). Pinned frames are taken off its lists by remove() when they
 *    are pinned and handed back by insert() when unpinned (Linux's
 *    unevictable list does the same), so a policy never sees a pinned frame
 *    and cannot choose one.
 *  - victim() chooses a frame, takes it off the policy's lists (recording
 *    any history it keeps, e.g. a ghost entry) and returns it; the pager then
 *    writes it back if dirty and unmaps it. It returns NO_FRAME only when the
 *    policy tracks no frame at all.
 *  - hit() is called for references to resident pages only where every
 *    reference is seen (the simulator). A policy that works from reference
 *    bits alone (CLOCK and its family) leaves it NULL and asks the MMU,
 *    through pager_referenced(), which works under KVM too.
 *  - A policy reads what it needs from the pager: p->frames[f].vpn, p->now
 *    (virtual time: references so far), p->next_use (when the future is
 *    known), p->nframes.
 */
#ifndef PFLAB_POLICY_H
#define PFLAB_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "types.h"

struct pager;

/* Knobs, each used by the policies that name it; see docs/policies.md. */
struct policy_params {
	uint64_t seed;        /* random: PRNG seed */
	uint64_t tick;        /* nru, aging: references between clock ticks */
	uint64_t window;      /* ws, wsclock: working-set window tau, in references */
	unsigned aging_bits;  /* aging: counter width, 1..64 */
};

#define POLICY_PARAMS_DEFAULT \
	((struct policy_params){ .seed = 1, .tick = 1000, .window = 10000, .aging_bits = 8 })

/* Flags of struct policy_ops. */
#define POLICY_NEEDS_FUTURE 0x1u /* reads p->next_use: only with a whole trace */
#define POLICY_VARIABLE     0x2u /* frees frames on its own (resident set varies) */
#define POLICY_NEEDS_HITS   0x4u /* exact only where every reference is seen */

/*
 * Where a policy keeps state that a reference reads, so that the simulator,
 * which knows the references ahead, can prefetch it (sim.c): element i at
 * base + i * size, indexed by page (page_hint) or by frame (frame_hint).
 * Set by create() and by grow(), which may move it; base NULL: nothing.
 * Hints only: no count depends on them.
 */
struct policy_hint {
	const void *base;
	uint32_t size;
};

struct policy {
	const struct policy_ops *ops;
	struct pager *pager;
	struct policy_hint page_hint, frame_hint;
	/* Where the policy keeps the frame victim() would choose now (a list's
	 * tail, a clock's hand), ILIST_NONE or out of range when empty; NULL:
	 * not known without work. The simulator prefetches that frame and its
	 * page's entry before the fault that evicts it. */
	const uint32_t *victim_hint;
};

struct policy_ops {
	const char *name;    /* as given to --policy */
	const char *summary; /* one line, for `pflab policies` */
	unsigned flags;

	/* Allocate state for p->nframes frames and p->npages pages.
	 * Returns NULL with errno set on failure. Fill in ->base yourself
	 * or let policy_create() do it. */
	struct policy *(*create)(struct pager *p, const struct policy_params *params);
	void (*destroy)(struct policy *pol);

	/* The page now in frame f was just brought in (or unpinned). */
	void (*insert)(struct policy *pol, frame_t f);
	/* A resident, evictable page in frame f was referenced. May be NULL. */
	void (*hit)(struct policy *pol, frame_t f);
	/* Choose, detach and return the frame to reuse for page `incoming`. */
	frame_t (*victim)(struct policy *pol, vpn_t incoming);
	/* Detach frame f without a replacement decision (pinning, unmapping). */
	void (*remove)(struct policy *pol, frame_t f);
	/* Periodic clock interrupt, every params.tick references. May be NULL. */
	void (*tick)(struct policy *pol);
	/* The page table grew to p->npages: grow per-page history. May be NULL. */
	int (*grow)(struct policy *pol, uint32_t npages);
};

/*
 * Registration: the linker gathers one pointer per policy in a section
 * (as Linux gathers initcalls), so no central list needs editing.
 */
#define POLICY_REGISTER(ops_)                                             \
	static const struct policy_ops *const policy_ptr_##ops_           \
		__attribute__((used, section("pflab_policies"), aligned(8))) = &(ops_)

const struct policy_ops *policy_find(const char *name);
/* All registered policies sorted by name; returns their number. */
size_t policy_list(const struct policy_ops **out, size_t max);

#endif /* PFLAB_POLICY_H */
