// SPDX-License-Identifier: MIT
/*
 * The free pool and the paging daemon: see pool.h for the contract and
 * docs/pager-daemon.md for the picture and the numbers.
 *
 * A page is in one of four states, and the frame that holds it says which:
 *   resident   p->pt[vpn].frame = f, FRAME_USED, tracked by the policy (or pinned);
 *   in transit frame_of[vpn] = f, FRAME_BUSY: its write-back is in flight;
 *   in pool    frame_of[vpn] = f, FRAME_POOL: clean, on the pool list;
 *   gone       neither: its contents are on the store (or it was never written).
 * Pool pages are not resident (p->pt[vpn].frame is NO_FRAME), so the
 * simulator's hit test needs no change: a reference to a pool page misses
 * and pager_fault() reclaims it.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilist.h"
#include "pager.h"

struct pool {
	uint32_t low, high;
	bool threaded;
	struct ilist list;       /* the pool: head newest, tail oldest (reused first) */
	struct inode *node;      /* per frame */
	frame_t *frame_of;       /* per page: its frame while in the pool or in transit */
	uint32_t npages;         /* of frame_of */
	uint32_t transit;        /* frames busy with a write-back */
	uint64_t runs;           /* daemon rounds */

	pthread_mutex_t *lock;   /* the pager lock, when threaded: own_lock or the caller's */
	pthread_mutex_t own_lock;
	pthread_cond_t wake;     /* a fault crossed the low watermark (kick) */
	pthread_cond_t done;     /* a write-back completed */
	pthread_t thread;
	bool running, stopping, kick;
};

int pool_config_check(const struct pool_config *cfg, uint32_t nframes, char *err, size_t errlen)
{
	if (cfg->high == 0 && cfg->low == 0)
		return 0;
	if (cfg->low == 0) {
		snprintf(err, errlen, "pool: the low watermark must be at least 1");
		return -1;
	}
	if (cfg->low > cfg->high) {
		snprintf(err, errlen, "pool: the low watermark %u is above the high watermark %u",
			 cfg->low, cfg->high);
		return -1;
	}
	if (cfg->high >= nframes) {
		snprintf(err, errlen, "pool: the high watermark %u must be below the %u frames",
			 cfg->high, nframes);
		return -1;
	}
	return 0;
}

struct pool *pool_create(struct pager *p, const struct pool_config *cfg)
{
	struct pool *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	pl->low = cfg->low;
	pl->high = cfg->high;
	pl->threaded = cfg->threaded;
	ilist_init(&pl->list);
	pl->node = malloc(sizeof(*pl->node) * p->nframes);
	if (!pl->node) {
		free(pl);
		return NULL;
	}
	pthread_mutex_init(&pl->own_lock, NULL);
	pl->lock = cfg->lock ? cfg->lock : &pl->own_lock;
	pthread_cond_init(&pl->wake, NULL);
	pthread_cond_init(&pl->done, NULL);
	return pl;
}

int pool_grow(struct pager *p, uint32_t npages)
{
	struct pool *pl = p->pool;
	frame_t *fo;

	if (npages <= pl->npages)
		return 0;
	fo = realloc(pl->frame_of, sizeof(*fo) * npages);
	if (!fo)
		return -ENOMEM;
	for (uint32_t i = pl->npages; i < npages; i++)
		fo[i] = NO_FRAME;
	pl->frame_of = fo;
	pl->npages = npages;
	return 0;
}

void pager_lock(struct pager *p)
{
	if (p->pool && p->pool->threaded)
		pthread_mutex_lock(p->pool->lock);
}

void pager_unlock(struct pager *p)
{
	if (p->pool && p->pool->threaded)
		pthread_mutex_unlock(p->pool->lock);
}

static uint32_t available(const struct pager *p)
{
	return p->nfree + p->pool->list.len + p->pool->transit;
}

/* The write-back of the page in f failed: it is resident and dirty again,
 * mapped read-only (its next write traps to make it writable), newest for
 * the policy; it will be written when chosen next. */
static void back_to_resident(struct pager *p, frame_t f)
{
	struct frame *fr = &p->frames[f];

	p->pool->frame_of[fr->vpn] = NO_FRAME;
	fr->flags = FRAME_USED | FRAME_DIRTY;
	p->pt[fr->vpn].frame = f;
	p->stats.resident++;
	p->stats.writeback_errors++;
	/* If the MMU refuses, the page is resident but unmapped: its next
	 * access faults and pool_fault() maps it. */
	(void)p->mmu->ops->map(p->mmu, fr->vpn, f, ACCESS_READ);
	p->policy->ops->insert(p->policy, f);
}

/*
 * Move the victim in frame f (already detached from the policy) to the
 * pool: unmap it, write it back if dirty, keep its contents. With a daemon
 * thread the pager lock is dropped during the write: the frame is busy
 * meanwhile, on no list, and a fault on its page waits. 0 or -errno.
 */
static int to_pool(struct pager *p, frame_t f)
{
	struct pool *pl = p->pool;
	struct frame *fr = &p->frames[f];
	vpn_t vpn = fr->vpn;
	int rc = 0;

	/* Harvest, unmap, harvest again: an MMU that forgets its bits at
	 * unmap (the simulator's) reported them the first time; one whose
	 * vCPU runs on (KVM) reports the writes made up to the unmap the
	 * second time. FRAME_DIRTY keeps both. */
	pager_dirty(p, f);
	p->mmu->ops->unmap(p->mmu, vpn, f);
	pager_dirty(p, f);
	p->pt[vpn].frame = NO_FRAME;
	p->stats.resident--;
	pl->frame_of[vpn] = f;

	if (fr->flags & FRAME_DIRTY) {
		if (p->store) {
			fr->flags |= FRAME_BUSY;
			pl->transit++;
			if (pl->threaded)
				pthread_mutex_unlock(pl->lock);
			rc = p->store->ops->page_out(p->store, vpn, f);
			if (pl->threaded)
				pthread_mutex_lock(pl->lock);
			pl->transit--;
		}
		if (rc) {
			back_to_resident(p, f);
			pthread_cond_broadcast(&pl->done);
			return rc;
		}
		p->stats.writebacks++;
		p->pt[vpn].flags |= PTE_ON_STORE;
	}
	p->stats.evictions++;
	fr->flags = FRAME_POOL;
	ilist_push_head(&pl->list, pl->node, f);
	pthread_cond_broadcast(&pl->done);
	return 0;
}

/* The daemon's round: run the policy until high frames are free, in the
 * pool or on their way there. Called with the pager lock held. */
static void refill(struct pager *p)
{
	struct pool *pl = p->pool;
	/* The daemon has no incoming page. pager_grow() keeps the last page
	 * number unused, so it is a page with no history at all: a policy
	 * that looks at the incoming page (ARC, CAR, 2Q) sees one. */
	vpn_t none = p->npages - 1;
	uint32_t failed = 0;

	pl->runs++;
	while (!pl->stopping && available(p) < pl->high) {
		frame_t f = p->policy->ops->victim(p->policy, none);

		if (f == NO_FRAME)
			break;
		/* A failed page goes back as the newest: after as many
		 * failures as frames, wait for the next round. */
		if (to_pool(p, f) != 0 && ++failed >= p->nframes)
			break;
	}
}

static void *daemon_main(void *arg)
{
	struct pager *p = arg;
	struct pool *pl = p->pool;

	pthread_mutex_lock(pl->lock);
	while (!pl->stopping) {
		if (!pl->kick) {
			pthread_cond_wait(&pl->wake, pl->lock);
			continue;
		}
		pl->kick = false;
		refill(p);
	}
	pthread_mutex_unlock(pl->lock);
	return NULL;
}

int pool_start(struct pager *p)
{
	struct pool *pl = p->pool;

	if (!pl->threaded || pl->running)
		return 0;
	if (pthread_create(&pl->thread, NULL, daemon_main, p) != 0)
		return -EAGAIN;
	pl->running = true;
	return 0;
}

void pool_stop(struct pager *p)
{
	struct pool *pl = p->pool;

	if (!pl || !pl->running)
		return;
	pthread_mutex_lock(pl->lock);
	pl->stopping = true;
	pthread_cond_signal(&pl->wake);
	pthread_mutex_unlock(pl->lock);
	pthread_join(pl->thread, NULL);
	pl->running = false;
}

void pool_destroy(struct pager *p)
{
	struct pool *pl = p->pool;

	if (!pl)
		return;
	pool_stop(p);
	pthread_mutex_destroy(&pl->own_lock);
	pthread_cond_destroy(&pl->wake);
	pthread_cond_destroy(&pl->done);
	free(pl->node);
	free(pl->frame_of);
	free(pl);
	p->pool = NULL;
}

static frame_t map_failed(struct pager *p, vpn_t vpn, frame_t f, int rc)
{
	snprintf(p->err, sizeof(p->err), "mapping page %u to frame %u failed: %s", vpn, f,
		 strerror(-rc));
	p->fail = PAGER_FAIL_MAP;
	p->fail_errno = rc;
	return NO_FRAME;
}

/* A fault that needed no I/O: the page came back from the pool. */
static void count_reclaim(struct pager *p)
{
	p->stats.faults++;
	p->stats.minor++;
	p->stats.pool_reclaims++;
}

/* A fault that needs I/O: with no free frame, the oldest pool frame goes on
 * the free list, where the fault path takes it; with none in the pool
 * either, the fault runs the policy itself. */
static frame_t take_for_fault(struct pager *p)
{
	frame_t f;

	if (p->nfree)
		return POOL_GO_ON;
	f = pool_take(p);
	if (f != NO_FRAME)
		p->free_frames[p->nfree++] = f;
	else
		p->stats.direct_reclaims++;
	return POOL_GO_ON;
}

frame_t pool_fault(struct pager *p, vpn_t vpn, enum access_kind why)
{
	struct pool *pl = p->pool;
	frame_t f;
	int rc;

	/* The synchronous daemon's work, owed since the last fault: it runs
	 * between faults, as a thread would, once the access that faulted
	 * has completed. (Run at the end of that fault, it could send the
	 * page just brought in to the pool before its access, which under
	 * KVM re-executes after the fault, had happened.) */
	if (!pl->threaded && pl->kick) {
		pl->kick = false;
		refill(p);
	}
	/* This fault takes one frame from the free list or the pool (or
	 * none, when both are empty): below the low watermark after it, the
	 * daemon is due. Decided now, so that the fault path proper needs no
	 * second look at the pool. */
	if (available(p) <= pl->low) {
		pl->kick = true;
		if (pl->threaded)
			pthread_cond_signal(&pl->wake);
	}
	for (;;) {
		f = p->pt[vpn].frame;
		if (f != NO_FRAME) {
			/* Its write-back failed while we waited: it is
			 * resident again. Map it for this access. */
			rc = p->mmu->ops->map(p->mmu, vpn, f, why);
			if (rc)
				return map_failed(p, vpn, f, rc);
			count_reclaim(p);
			return f;
		}
		f = pl->frame_of[vpn];
		if (f == NO_FRAME)
			return take_for_fault(p);
		if (!(p->frames[f].flags & FRAME_BUSY))
			break;
		/* In transit: wait for the write rather than read it twice.
		 * Only a daemon thread leaves a frame busy across calls. */
		p->stats.pool_waits++;
		pthread_cond_wait(&pl->done, pl->lock);
	}

	rc = p->mmu->ops->map(p->mmu, vpn, f, why);
	if (rc)
		return map_failed(p, vpn, f, rc);
	ilist_unlink(&pl->list, pl->node, f);
	pl->frame_of[vpn] = NO_FRAME;
	p->frames[f] = (struct frame){ .vpn = vpn, .flags = FRAME_USED };
	p->pt[vpn].frame = f;
	count_reclaim(p);
	if (++p->stats.resident > p->stats.resident_max)
		p->stats.resident_max = p->stats.resident;
	p->policy->ops->insert(p->policy, f);
	return f;
}

frame_t pool_take(struct pager *p)
{
	struct pool *pl = p->pool;
	uint32_t f = ilist_pop_tail(&pl->list, pl->node);

	if (f == ILIST_NONE)
		return NO_FRAME;
	pl->frame_of[p->frames[f].vpn] = NO_FRAME;
	p->frames[f].flags = 0;
	return f;
}

uint32_t pool_len(const struct pager *p)
{
	return p->pool ? p->pool->list.len : 0;
}

uint32_t pool_transit(const struct pager *p)
{
	return p->pool ? p->pool->transit : 0;
}

uint64_t pool_runs(const struct pager *p)
{
	return p->pool ? p->pool->runs : 0;
}

bool pool_holds(const struct pager *p, vpn_t vpn, frame_t *f)
{
	if (!p->pool || vpn >= p->pool->npages || p->pool->frame_of[vpn] == NO_FRAME)
		return false;
	*f = p->pool->frame_of[vpn];
	return true;
}
