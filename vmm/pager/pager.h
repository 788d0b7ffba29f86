/* SPDX-License-Identifier: MIT */
/*
 * The host pager: a page table, a frame table, a replacement policy, an MMU
 * to program and a backing store to read from and write to. It does not know
 * where its faults come from: the trace simulator and the KVM host both call
 * pager_fault() and the pager answers the same way.
 *
 * The fault path (pager_fault):
 *   1. take a free frame, or ask the policy for a victim;
 *   2. evict the victim: harvest its dirty bit, write it back if dirty,
 *      unmap it;
 *   3. read the page in (major fault) or zero-fill it (minor fault);
 *   4. map it and hand the frame to the policy.
 * The caller then restarts the access. With a free pool (pool.h), a page
 * still in the pool comes back first, without I/O, and a paging daemon
 * does steps 1 and 2 ahead of the faults.
 */
#ifndef PFLAB_PAGER_H
#define PFLAB_PAGER_H

#include <stdbool.h>
#include <pthread.h>
#include <stddef.h>

#include "mmu.h"
#include "policy.h"
#include "pool.h"
#include "store.h"
#include "types.h"

/* struct frame.flags */
#define FRAME_USED   0x1u /* holds a page */
#define FRAME_PINNED 0x2u /* locked (DMA): off the policy's lists */
#define FRAME_DIRTY  0x4u /* software dirty bit: harvested from the MMU, cleared by write-back */
#define FRAME_POOL   0x8u /* in the free pool: holds page vpn, clean, not resident (pool.h) */
#define FRAME_BUSY   0x10u /* write-back in flight: on no list, never reused until done */

struct frame {
	vpn_t vpn;          /* the page held, when FRAME_USED */
	uint16_t flags;
	uint16_t pin_count;
};

/* struct pte.flags */
#define PTE_ON_STORE 0x1u /* the store has a copy: the next fault reads it (major) */
#define PTE_IO       0x2u /* io_lock: being brought in (a frame chosen, its victim
			     evicted, the page read and mapped), or written back
			     as a victim, the lock dropped meanwhile */

struct pte {
	frame_t frame;  /* NO_FRAME when not resident */
	uint32_t flags;
};

struct pager_stats {
	uint64_t refs;          /* references seen (the simulator sees them all) */
	uint64_t faults;        /* major + minor */
	uint64_t major;         /* read from the backing store */
	uint64_t minor;         /* zero-filled (or, with a free pool, reclaimed) */
	uint64_t evictions;
	uint64_t writebacks;    /* dirty victims written back */
	uint64_t resident;      /* frames in use now */
	uint64_t resident_max;
	uint64_t resident_sum;  /* resident summed over references: mean = sum / refs */
	uint64_t pagein_errors;    /* store reads that failed: the fault failed, see p->fail */
	uint64_t writeback_errors; /* store writes that failed: the page stayed resident and dirty */
	uint64_t pool_reclaims;    /* minor faults on pages still in the free pool (pool.h) */
	uint64_t pool_waits;       /* faults that waited for their page's write-back */
	uint64_t direct_reclaims;  /* faults that found no free or pool frame and ran the policy */
	uint64_t collided;         /* io_lock: faults that waited for another's read of
				      their page instead of reading it again */
	uint64_t io_waits;         /* io_lock: faults that found their page's read or
				      write-back in flight and waited (counted as
				      they start waiting; collided counts the shared) */
};

/* Why the last pager_fault() returned NO_FRAME (the text is in p->err). */
enum pager_failure {
	PAGER_FAIL_NONE,
	PAGER_FAIL_NO_FRAME, /* every frame pinned, or every victim's write-back failed */
	PAGER_FAIL_PAGE_IN,  /* the store could not read the page (p->fail_errno): nothing
				changed for it, its copy is still on the store */
	PAGER_FAIL_MAP,      /* the MMU refused the mapping (p->fail_errno) */
};

struct pager_config {
	uint32_t nframes;
	uint32_t npages;            /* initial page-table size; pager_grow() extends it */
	const struct policy_ops *policy;
	struct policy_params params;
	bool future_known;          /* the caller sets p->next_use before each reference */
	bool first_touch_major;     /* untouched pages are read from the store (a file),
	                               not zero-filled (anonymous memory) */
	struct mmu *mmu;            /* required */
	struct backing_store *store; /* NULL: count only, move no data */
	struct pool_config pool;    /* the free pool and paging daemon; high 0: none */
	/* Several faulting threads (--vcpus): the caller's lock, held around
	 * every call into the pager. pager_fault() drops it while the page is
	 * read in and while a victim is written back, so that other threads'
	 * faults go on meanwhile; a fault on a page being read waits for that
	 * read (collided), one on a victim being written waits for the write;
	 * a victim is unmapped before its write-back, since other threads
	 * keep running.
	 * NULL: one thread at a time, the lock never dropped. */
	pthread_mutex_t *io_lock;
};

struct pager {
	struct pte *pt;
	uint32_t npages;
	struct frame *frames;
	uint32_t nframes;
	frame_t *free_frames;       /* stack of unused frames */
	uint32_t nfree;
	uint32_t npinned;           /* frames pinned now */

	struct mmu *mmu;
	struct backing_store *store;
	struct policy *policy;
	struct pool *pool;          /* NULL: none, and the fault path is as without */
	bool first_touch_major;

	uint64_t now;               /* virtual time: references so far */
	uint64_t next_use;          /* the current reference's next use, or NEVER */
	uint64_t tick;              /* references between policy ticks, 0: none */
	uint64_t next_tick;

	struct pager_stats stats;
	char err[160];              /* why the last call failed */
	enum pager_failure fail;    /* and what failed, for a caller that can recover */
	int fail_errno;             /* -errno from the store or the MMU, or 0 */
	pthread_mutex_t *io_lock;   /* pager_config.io_lock */
	pthread_cond_t io_done;     /* a PTE_IO page's I/O ended */
	uint8_t last_fault;         /* what the last pager_fault() did: 0 nothing new
				       (collided, or failed), 1 minor, 2 major */
};

/* Returns NULL and a reason in err (of errlen bytes) on failure. */
struct pager *pager_create(const struct pager_config *cfg, char *err, size_t errlen);
void pager_destroy(struct pager *p);

/* Extend the page table to at least npages pages. 0 or -ENOMEM. */
int pager_grow(struct pager *p, uint32_t npages);

/*
 * Make vpn resident after an access of the given kind missed. Returns the
 * frame, or NO_FRAME with the reason in p->err and p->fail (every frame
 * pinned, an I/O error from the store, ...).
 *
 * I/O errors (docs/faults.md): a victim whose write-back fails stays
 * resident and dirty, goes back to the policy, and another victim is tried,
 * up to as many as the policy tracks; the failed page is written again when
 * it is next chosen. A page-in that fails leaves the page non-resident with
 * its copy on the store, frees the frame and fails the fault with
 * PAGER_FAIL_PAGE_IN: the caller delivers the error to whoever accessed it.
 */
frame_t pager_fault(struct pager *p, vpn_t vpn, enum access_kind why);

/*
 * Asynchronous page-in, for a caller that reads the page itself with the
 * lock dropped and completes it later, from another thread (prefetch and
 * read_pages: vmm/blockio.c, docs/async.md). Needs io_lock.
 *
 * pager_read_begin: the page is not resident and has a copy to read. Take
 * a frame for it (evicting a victim as a fault does) and mark the page
 * PTE_IO: a fault on it now waits for the read (collided). 0 with the
 * frame in *f, for the caller to fill and pass to pager_read_end(); 1 if
 * there is nothing to read (resident, being read, or in the free pool: a
 * fault gets it without I/O); -1 with p->err, p->fail if no frame.
 *
 * pager_read_end: the read into f ended with rc (0 or -errno). The page
 * is mapped and given to the policy, or on an error left on the store
 * with the frame freed (pagein_errors counts it); the waiters are woken.
 * Neither call counts a fault: nothing faulted. 0, or -1 with p->err.
 */
int pager_read_begin(struct pager *p, vpn_t vpn, frame_t *f);
int pager_read_end(struct pager *p, vpn_t vpn, frame_t f, int rc);

/* Evict the page in frame f, already detached from the policy: write it back
 * if dirty, unmap it, return the frame to the free list. For variable-size
 * policies that shrink the resident set on their own. 0 or -errno. */
int pager_reclaim(struct pager *p, frame_t f);

/* msync: write page vpn back if it is resident and dirty, leaving it
 * resident and clean. 1 if written, 0 if there was nothing to write, -errno
 * if the write failed (the page stays dirty; writeback_errors counts it). */
int pager_clean(struct pager *p, vpn_t vpn);

/* Lock vpn in memory (faulting it in if needed) / unlock it. A pinned page
 * is never chosen as a victim. pager_pin returns the frame or NO_FRAME. */
frame_t pager_pin(struct pager *p, vpn_t vpn);
void pager_unpin(struct pager *p, vpn_t vpn);

/* The policy's view of the MMU bits. pager_dirty() is sticky: it harvests
 * the MMU's bit into FRAME_DIRTY, which only a write-back clears. */
bool pager_referenced(struct pager *p, frame_t f);
bool pager_dirty(struct pager *p, frame_t f);

/* Run the policy's clock interrupt. */
void pager_tick(struct pager *p);

static inline frame_t pager_lookup(const struct pager *p, vpn_t vpn)
{
	return p->pt[vpn].frame;
}

/* Whether f is pinned, and so off the policy's lists. Reads the frame table
 * only when something is pinned: the simulator's hot path pins nothing. */
static inline bool pager_frame_pinned(const struct pager *p, frame_t f)
{
	return unlikely(p->npinned) && (p->frames[f].flags & FRAME_PINNED);
}

/*
 * A reference to a resident page, where every reference is seen: advance
 * virtual time and tell the policy. The caller (the hardware's stand-in)
 * has already set the MMU's bits.
 */
static inline void pager_hit(struct pager *p, frame_t f)
{
	if (p->policy->ops->hit && !pager_frame_pinned(p, f))
		p->policy->ops->hit(p->policy, f);
}

#endif /* PFLAB_PAGER_H */
