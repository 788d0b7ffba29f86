/* SPDX-License-Identifier: MIT */
/*
 * Page-level asynchronous I/O on the guest's data region, and
 * prefetch_page() (issue 10; docs/async.md, "prefetch_page()" and "Page-level
 * asynchronous I/O"). The host side of the hypercalls HC_PREFETCH,
 * HC_READ_PAGES, HC_WRITE_PAGES, HC_SYNC_PAGES and HC_DROP_PAGES
 * (guest/abi.h):
 *
 *  - reads start with pager_read_begin() (a frame taken, the page marked
 *    PTE_IO: a fault on it waits for the read, "blocked"), go to the I/O
 *    engine as one batch, and complete one by one on its worker threads
 *    with pager_read_end(), which maps the page;
 *  - a write-behind pins a dirty resident page, unmaps it (its next access
 *    traps, so a write during the write is seen and the page stays dirty),
 *    clears its dirty bit and writes it; a failed write makes it dirty
 *    again and is kept, the first since the last sync, for sync_pages();
 *  - a failed read of a read_pages request is queued for an upcall to the
 *    guest naming the request and the page (blockio_upcall()).
 *
 * prefetch_page() follows the RFC: 0 if the page is accessible after the
 * call (resident, or made resident by a fault that needs no I/O, which the
 * caller serves), else its read is started, unless the free pool is below
 * its low watermark, and the call returns non-zero at once. A prefetched
 * page is *useful* if the guest touches it before it is evicted, *wasted*
 * if evicted untouched: the read-in page is unmapped (its referenced bit
 * cleared, kvm_mmu) so that its first touch traps (blockio_touch()), and
 * the pager's MMU is wrapped to see evictions (blockio_mmu()).
 *
 * Every call but the completions (which take it) is made with the fault
 * lock held; the pager must be created with io_lock = that lock.
 */
#ifndef PFLAB_BLOCKIO_H
#define PFLAB_BLOCKIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../guest/abi.h"
#include "kvm_vm.h"
#include "pager.h"
#include "region.h"
#include "store_inject.h"
#include "swap.h"

#define BLOCKIO_MARKS 8u

struct blockio_config {
	uint32_t npages;              /* data-region pages */
	struct kvm_mmu *mmu;          /* the pager's MMU, wrapped */
	struct swap_store *store;     /* its engine (store->io) does the I/O: required */
	struct inject_store *inject;  /* --inject, or NULL */
	pthread_mutex_t *lock;        /* the fault lock */
	uint32_t pool_low;            /* the free pool's low watermark, 0: no pool */
	bool first_touch_major;       /* as the pager's: untouched pages have a copy */
};

struct blockio_stats {
	/* prefetch_page() */
	uint64_t pf_calls;
	uint64_t pf_accessible;   /* returned 0 (resident, or served with no I/O) */
	uint64_t pf_issued;       /* reads started */
	uint64_t pf_inflight;     /* returned 1 for a page whose read was in flight */
	uint64_t pf_pressure;     /* not started: below the pool's low watermark or no frame */
	uint64_t pf_useful;       /* issued pages touched before their eviction */
	uint64_t pf_late;         /* ... of them, touched while their read was in flight */
	uint64_t pf_wasted;       /* issued pages evicted untouched */
	uint64_t pf_failed;       /* issued reads that failed (the page stays on the store) */
	uint64_t pf_unused;       /* issued pages still resident and untouched at the end */
	/* read_pages, write_pages, sync_pages */
	uint64_t read_requests;   /* read_pages calls */
	uint64_t reads;           /* page reads they started */
	uint64_t read_errors;
	uint64_t upcalls;         /* failed reads reported to the guest */
	uint64_t upcalls_acked;   /* ... that its handler acknowledged */
	uint64_t writes;          /* write-behinds started */
	uint64_t write_errors;
	uint64_t syncs;
	uint64_t sync_errors;     /* syncs that returned an error */
	uint64_t dropped;         /* pages evicted by HC_DROP_PAGES */
	/* HC_MARK: the time of each mark (ns since the first), 0: none */
	uint64_t mark_ns[BLOCKIO_MARKS];
};

struct blockio;

/* NULL with a reason in err. The pager comes after (blockio_set_pager). */
struct blockio *blockio_create(const struct blockio_config *cfg, char *err, size_t errlen);
/* The MMU to give the pager: the kvm_mmu's, passed through, evictions seen. */
struct mmu *blockio_mmu(struct blockio *b);
void blockio_set_pager(struct blockio *b, struct pager *p);
/* Wait for every read and write in flight (lock held). Before the pager
 * and the engine go. */
void blockio_drain(struct blockio *b);
/* After the engine is gone. NULL is fine. */
void blockio_destroy(struct blockio *b);
/* Counters; pf_unused is computed (lock held). */
struct blockio_stats blockio_stats(struct blockio *b);
/* The first fatal error (a page that could not be mapped), or NULL. */
const char *blockio_error(struct blockio *b);

/* HC_PREFETCH on page vpn: enum pflab_prefetch_result, or BLOCKIO_FAULT:
 * the page needs a fault with no I/O (zero-fill, from the pool), which
 * the caller serves and then answers PF_ACCESSIBLE. */
#define BLOCKIO_FAULT 3
int blockio_prefetch(struct blockio *b, vpn_t vpn);
/* The caller served the BLOCKIO_FAULT. */
void blockio_prefetch_served(struct blockio *b);
/* A guest access to vpn trapped (before it is served): a prefetched page
 * is touched. */
void blockio_touch(struct blockio *b, vpn_t vpn);

/* HC_READ_PAGES: start reading the pages of [first, first + count) that
 * have a copy and are not resident, as one batch. The request's number in
 * *req; the reads started in *queued. 0, or -1 if the range is bad. */
int blockio_read_pages(struct blockio *b, uint32_t first, uint32_t count, uint64_t *req,
		       uint32_t *queued);
/* HC_WRITE_PAGES: start writing back the dirty resident pages of the range,
 * as one batch. Writes started in *queued. 0 or -1. */
int blockio_write_pages(struct blockio *b, uint32_t first, uint32_t count, uint32_t *queued);
/* HC_SYNC_PAGES: wait for every write-behind in flight; the first
 * write-behind error since the last sync (positive errno, 0 none) and its
 * page. */
uint32_t blockio_sync_pages(struct blockio *b, uint32_t *page);
/* HC_DROP_PAGES: evict the range's resident pages now (writing back the
 * dirty ones; one whose write fails stays resident). 0 or -1. */
int blockio_drop_pages(struct blockio *b, uint32_t first, uint32_t count);
/* HC_MARK */
void blockio_mark(struct blockio *b, uint64_t which, uint64_t now_ns);

/*
 * The upcall of a failed read: if one is pending and the guest can take it
 * (a handler registered, the previous upcall acknowledged, not inside its
 * page-in error handler), enter the guest's handler on vCPU vm, stopped
 * after an exit: complete that exit (KVM_RUN with immediate_exit), push
 * RIP, set RIP to mb->bio_handler. Lock not held. 1 delivered, 0 nothing
 * to do, -1 with a reason in why.
 */
int blockio_upcall(struct blockio *b, struct kvm_vm *vm, uint8_t *wired, uint64_t wired_size,
		   volatile struct pflab_mailbox *mb, char *why, size_t whylen);

/* At the end of the run (lock held): the last acknowledgement. */
void blockio_notice_ack(struct blockio *b, volatile struct pflab_mailbox *mb);

#endif /* PFLAB_BLOCKIO_H */
