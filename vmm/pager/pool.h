/* SPDX-License-Identifier: MIT */
/*
 * The free pool and the paging daemon (docs/pager-daemon.md): "instead of
 * running the replacement algorithm when a fault occurs, most systems keep
 * a pool of available frames".
 *
 * A paging daemon keeps the frames that are free or in the pool between a
 * low and a high watermark. When a fault leaves fewer than `low`, it runs
 * the replacement policy ahead of the faults until there are `high`: each
 * victim is unmapped, written back if dirty, and put in the pool with its
 * contents intact. A fault takes a free frame, else the oldest pool frame
 * (its page is then gone for good), and runs the policy itself only when
 * both are empty (a *direct reclaim*). A fault on a page still in the pool
 * gets its frame back without I/O: a minor fault, a *pool reclaim*.
 *
 * A frame whose write-back is in flight is *busy*: on no list, so nothing
 * can reuse it until the write completes; a fault on its page waits for the
 * write, then reclaims the page, instead of reading it a second time.
 *
 * Two ways to run the daemon:
 *  - threaded (the KVM host): a host thread, woken by the fault that crosses
 *    the low watermark; it drops the pager lock while a write is in flight,
 *    so the guest runs and faults meanwhile;
 *  - synchronous (the simulator, `pflab run --pool-sync`): the daemon's work
 *    runs at the start of the fault after the one that crossed the low
 *    watermark (between the two, as a thread would run, once the access
 *    that faulted has completed); writes complete at once. Deterministic,
 *    hence exact in tests, and the same under KVM as in the simulator.
 *
 * Locking: with a threaded daemon, every call into the pager (pager_fault,
 * pager_pin, ...) and every MMU state read by the caller must hold the
 * pager lock: pager_lock(), or the caller's own mutex given as
 * pool_config.lock. Without a thread, pager_lock() does nothing and the
 * pager's single-threaded paths are exactly as they were.
 */
#ifndef PFLAB_POOL_H
#define PFLAB_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

struct pager;
struct pool;

struct pool_config {
	uint32_t low, high;  /* watermarks, in frames free or in the pool; high 0: no pool */
	bool threaded;       /* a daemon thread; else the work runs at the end of faults */
	/* The pager lock, when threaded: the caller's own (the KVM host's
	 * fault lock, which already serialises its fault paths), or NULL for
	 * one of the pool's. */
	pthread_mutex_t *lock;
};

/* Check a configuration against a pager of nframes frames: 0, or -1 with a
 * reason in err. */
int pool_config_check(const struct pool_config *cfg, uint32_t nframes, char *err, size_t errlen);

/* Called by pager.c only. */
struct pool *pool_create(struct pager *p, const struct pool_config *cfg);
int pool_grow(struct pager *p, uint32_t npages);
int pool_start(struct pager *p);
void pool_destroy(struct pager *p);
/*
 * At the start of a fault on vpn: run the daemon's owed work (without a
 * thread), wake it (with one) if this fault leaves fewer than low frames
 * free or in the pool. If vpn's page is in the pool (or in transit, after
 * waiting for the write), reclaim it and return its frame (or NO_FRAME if
 * it cannot be mapped). Else make sure a frame waits on the free list if
 * the pool has one, and return POOL_GO_ON: the fault path proper goes on.
 * (A return value, not an out-parameter: the fault path's own frame
 * variable stays in a register.)
 */
#define POOL_GO_ON ((frame_t)(UINT32_MAX - 1)) /* above any frame: nframes < NO_FRAME */
frame_t pool_fault(struct pager *p, vpn_t vpn, enum access_kind why);
/* The oldest pool frame, its page dropped, or NO_FRAME. */
frame_t pool_take(struct pager *p);

/* Stop the daemon thread (idempotent): before reading statistics. */
void pool_stop(struct pager *p);

void pager_lock(struct pager *p);
void pager_unlock(struct pager *p);

/* Frames in the pool now, and with a write-back in flight. */
uint32_t pool_len(const struct pager *p);
uint32_t pool_transit(const struct pager *p);
/* The daemon's rounds so far. */
uint64_t pool_runs(const struct pager *p);
/* Whether vpn's page is in the pool or in transit (its frame in *f). */
bool pool_holds(const struct pager *p, vpn_t vpn, frame_t *f);

#endif /* PFLAB_POOL_H */
