// SPDX-License-Identifier: MIT
/*
 * The host pager: the fault path and the frame bookkeeping around it.
 * See pager.h for the contract and docs/architecture.md for the picture.
 */
#include "pager.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(struct pager *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct pager *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

struct pager *pager_create(const struct pager_config *cfg, char *err, size_t errlen)
{
	struct pager *p;

	if (cfg->nframes == 0 || cfg->nframes == NO_FRAME) {
		snprintf(err, errlen, "frame count must be between 1 and %u", NO_FRAME - 1);
		return NULL;
	}
	if (!cfg->policy || !cfg->mmu) {
		snprintf(err, errlen, "a pager needs a policy and an MMU");
		return NULL;
	}
	if ((cfg->policy->flags & POLICY_NEEDS_FUTURE) && !cfg->future_known) {
		snprintf(err, errlen,
			 "policy %s needs the whole future reference string, which only a recorded trace gives",
			 cfg->policy->name);
		return NULL;
	}
	if (pool_config_check(&cfg->pool, cfg->nframes, err, errlen) != 0)
		return NULL;
	if (cfg->pool.high && (cfg->policy->flags & POLICY_VARIABLE)) {
		snprintf(err, errlen, "policy %s frees frames on its own: it takes no free pool",
			 cfg->policy->name);
		return NULL;
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		goto oom;
	p->nframes = cfg->nframes;
	p->frames = calloc(cfg->nframes, sizeof(*p->frames));
	p->free_frames = malloc(sizeof(*p->free_frames) * cfg->nframes);
	if (!p->frames || !p->free_frames)
		goto oom;
	/* A stack popped from the top: frames are handed out 0, 1, 2, ... */
	for (uint32_t i = 0; i < cfg->nframes; i++)
		p->free_frames[i] = cfg->nframes - 1 - i;
	p->nfree = cfg->nframes;

	p->mmu = cfg->mmu;
	p->store = cfg->store;
	p->first_touch_major = cfg->first_touch_major;
	p->next_use = NEVER;
	p->tick = cfg->params.tick;
	p->next_tick = p->tick ? p->tick : NEVER;
	if (cfg->pool.high && !(p->pool = pool_create(p, &cfg->pool)))
		goto oom;

	if (pager_grow(p, cfg->npages ? cfg->npages : 64) != 0)
		goto oom;

	p->policy = cfg->policy->create(p, &cfg->params);
	if (!p->policy) {
		snprintf(err, errlen, "policy %s: %s", cfg->policy->name,
			 errno == EINVAL ? "invalid parameters" : strerror(errno));
		pager_destroy(p);
		return NULL;
	}
	p->policy->ops = cfg->policy;
	p->policy->pager = p;
	p->io_lock = cfg->io_lock;
	if (p->io_lock)
		pthread_cond_init(&p->io_done, NULL);
	if (p->pool && pool_start(p) != 0) {
		snprintf(err, errlen, "cannot start the paging daemon thread");
		pager_destroy(p);
		return NULL;
	}
	return p;

oom:
	snprintf(err, errlen, "out of memory for %u frames", cfg->nframes);
	pager_destroy(p);
	return NULL;
}

void pager_destroy(struct pager *p)
{
	if (!p)
		return;
	pool_destroy(p); /* first: its thread uses the policy */
	if (p->io_lock)
		pthread_cond_destroy(&p->io_done);
	if (p->policy)
		p->policy->ops->destroy(p->policy);
	free(p->pt);
	free(p->frames);
	free(p->free_frames);
	free(p);
}

int pager_grow(struct pager *p, uint32_t npages)
{
	uint32_t n = p->npages ? p->npages : 1;
	struct pte *pt;

	/* With a pool, one page more than asked, never used: the paging
	 * daemon's "no incoming page" (pool.c). */
	if (p->pool && npages < UINT32_MAX)
		npages++;
	if (npages <= p->npages)
		return 0;
	while (n < npages)
		n = n > UINT32_MAX / 2 ? UINT32_MAX : n * 2;
	pt = realloc(p->pt, sizeof(*pt) * n);
	if (!pt)
		return -ENOMEM;
	for (uint32_t i = p->npages; i < n; i++)
		pt[i] = (struct pte){ .frame = NO_FRAME };
	p->pt = pt;
	p->npages = n;
	if (p->pool && pool_grow(p, n) != 0)
		return -ENOMEM;
	if (p->policy && p->policy->ops->grow && p->policy->ops->grow(p->policy, n) != 0)
		return -ENOMEM;
	return 0;
}

bool pager_referenced(struct pager *p, frame_t f)
{
	return p->mmu->ops->test_and_clear_referenced(p->mmu, p->frames[f].vpn, f);
}

bool pager_dirty(struct pager *p, frame_t f)
{
	struct frame *fr = &p->frames[f];

	if (p->mmu->ops->test_and_clear_dirty(p->mmu, fr->vpn, f))
		fr->flags |= FRAME_DIRTY;
	return fr->flags & FRAME_DIRTY;
}

void pager_tick(struct pager *p)
{
	if (p->policy->ops->tick)
		p->policy->ops->tick(p->policy);
}

/* Take the page out of frame f: write back, unmap, forget. The frame stays
 * allocated to the caller. */
/* io_lock: other threads run on while a victim is evicted, so it is
 * unmapped first (harvest, unmap, harvest again, as the pool does): a
 * write made after the write-back would be lost. The write-back runs with
 * the lock dropped. A failed one maps the page again read-only (its next
 * write traps) and leaves it resident. */
static int evict_unmapped_first(struct pager *p, frame_t f)
{
	struct frame *fr = &p->frames[f];
	vpn_t vpn = fr->vpn;

	pager_dirty(p, f);
	p->mmu->ops->unmap(p->mmu, vpn, f);
	if (pager_dirty(p, f)) {
		if (p->store) {
			int rc;

			/* The write with the lock dropped: the frame is the
			 * caller's (on no list), a fault on the page waits. */
			p->pt[vpn].flags |= PTE_IO;
			pthread_mutex_unlock(p->io_lock);
			rc = p->store->ops->page_out(p->store, vpn, f);
			pthread_mutex_lock(p->io_lock);
			p->pt[vpn].flags &= ~PTE_IO;
			pthread_cond_broadcast(&p->io_done);
			if (rc) {
				set_err(p, "write-back of page %u from frame %u failed: %s",
					vpn, f, strerror(-rc));
				p->stats.writeback_errors++;
				(void)p->mmu->ops->map(p->mmu, vpn, f, ACCESS_READ);
				return rc;
			}
		}
		p->stats.writebacks++;
		p->pt[vpn].flags |= PTE_ON_STORE;
	}
	p->pt[vpn].frame = NO_FRAME;
	fr->flags = 0;
	p->stats.evictions++;
	p->stats.resident--;
	return 0;
}

static int evict(struct pager *p, frame_t f)
{
	struct frame *fr = &p->frames[f];
	vpn_t vpn = fr->vpn;

	if (p->io_lock)
		return evict_unmapped_first(p, f);
	if (pager_dirty(p, f)) {
		if (p->store) {
			int rc = p->store->ops->page_out(p->store, vpn, f);

			if (rc) {
				set_err(p, "write-back of page %u from frame %u failed: %s",
					vpn, f, strerror(-rc));
				p->stats.writeback_errors++;
				return rc;
			}
		}
		p->stats.writebacks++;
		p->pt[vpn].flags |= PTE_ON_STORE;
	}
	p->mmu->ops->unmap(p->mmu, vpn, f);
	p->pt[vpn].frame = NO_FRAME;
	fr->flags = 0;
	p->stats.evictions++;
	p->stats.resident--;
	return 0;
}

int pager_reclaim(struct pager *p, frame_t f)
{
	int rc = evict(p, f);

	if (rc == 0)
		p->free_frames[p->nfree++] = f;
	return rc;
}

int pager_clean(struct pager *p, vpn_t vpn)
{
	frame_t f = vpn < p->npages ? p->pt[vpn].frame : NO_FRAME;
	int rc;

	/* A page in the free pool or in transit is not resident: the pool
	 * wrote it back (or is writing it) as it left. */
	if (f == NO_FRAME || !pager_dirty(p, f))
		return 0;
	if (p->store) {
		rc = p->store->ops->page_out(p->store, vpn, f);
		if (rc) {
			p->stats.writeback_errors++;
			return rc;
		}
	}
	p->frames[f].flags &= ~FRAME_DIRTY;
	p->pt[vpn].flags |= PTE_ON_STORE;
	return 1;
}

/*
 * A victim's write-back failed: it stays resident and dirty. Try the
 * policy's next choices, so that one bad write does not fail the fault:
 * each failed victim is held aside until a frame is found (a policy given it
 * back at once might choose it again), so every page the policy tracks is
 * tried once. Then the held pages go back to the policy, to be written when
 * next chosen. Off the hot path: the array is allocated here.
 */
static __attribute__((noinline, cold)) frame_t get_frame_after_write_error(struct pager *p,
									  vpn_t vpn,
									  frame_t failed)
{
	uint32_t tracked = (uint32_t)(p->stats.resident - p->npinned), nheld = 0;
	frame_t *held = malloc(sizeof(*held) * tracked), f = NO_FRAME;
	char why[sizeof(p->err)];

	if (!held) {
		p->policy->ops->insert(p->policy, failed);
		p->fail = PAGER_FAIL_NO_FRAME;
		p->fail_errno = -ENOMEM;
		return NO_FRAME;
	}
	held[nheld++] = failed;
	while (nheld < tracked) {
		f = p->policy->ops->victim(p->policy, vpn);
		if (f == NO_FRAME || evict(p, f) == 0)
			break;
		held[nheld++] = f;
		f = NO_FRAME;
	}
	for (uint32_t i = 0; i < nheld; i++)
		p->policy->ops->insert(p->policy, held[i]);
	free(held);
	if (f != NO_FRAME)
		return f;
	/* p->err says which write-back failed last. */
	snprintf(why, sizeof(why), "%s", p->err);
	set_err(p, "no frame for page %u: %.100s", vpn, why);
	p->fail = PAGER_FAIL_NO_FRAME;
	p->fail_errno = -ENOSPC;
	return NO_FRAME;
}

static frame_t get_frame(struct pager *p, vpn_t vpn)
{
	frame_t f;

	if (p->nfree)
		return p->free_frames[--p->nfree];

	f = p->policy->ops->victim(p->policy, vpn);
	if (f == NO_FRAME) {
		set_err(p, "no frame for page %u: all %u frames are pinned", vpn, p->nframes);
		p->fail = PAGER_FAIL_NO_FRAME;
		p->fail_errno = 0;
		return NO_FRAME;
	}
	if (unlikely(evict(p, f) != 0))
		return get_frame_after_write_error(p, vpn, f);
	return f;
}

/* The page could not be read in, or mapped: its frame goes back to the free
 * list, the page stays where it was (on the store). */
static __attribute__((noinline, cold)) frame_t fault_failed(struct pager *p, vpn_t vpn, frame_t f,
							     enum pager_failure why, int rc)
{
	if (why == PAGER_FAIL_PAGE_IN) {
		set_err(p, "page-in of page %u into frame %u failed: %s", vpn, f, strerror(-rc));
		p->stats.pagein_errors++;
	} else {
		set_err(p, "mapping page %u to frame %u failed: %s", vpn, f, strerror(-rc));
	}
	p->fail = why;
	p->fail_errno = rc;
	p->free_frames[p->nfree++] = f;
	return NO_FRAME;
}

/* io_lock: read vpn into f with the lock dropped. The page is marked
 * PTE_IO by the caller meanwhile; its frame is on no list, so no other
 * fault can take it. */
static int read_unlocked(struct pager *p, vpn_t vpn, frame_t f, bool from_store)
{
	int rc;

	pthread_mutex_unlock(p->io_lock);
	rc = from_store ? p->store->ops->page_in(p->store, vpn, f)
			: p->store->ops->zero_fill(p->store, vpn, f);
	pthread_mutex_lock(p->io_lock);
	return rc;
}

/* Steps 1 to 4 of pager.h for a page not resident. */
static frame_t fault_in(struct pager *p, vpn_t vpn, enum access_kind why)
{
	struct pte *pte = &p->pt[vpn];
	bool from_store;
	frame_t f;
	int rc = 0;

	f = get_frame(p, vpn);
	if (f == NO_FRAME)
		return NO_FRAME;
	/* Where the page is, decided now, not when the fault began: the
	 * fault may have waited meanwhile (for the daemon's write-back of
	 * this very page, whose frame another fault then took from the pool)
	 * and the page is on the store since. */
	from_store = (pte->flags & PTE_ON_STORE) || p->first_touch_major;

	if (p->store && p->io_lock) {
		rc = read_unlocked(p, vpn, f, from_store);
		if (unlikely(rc))
			return fault_failed(p, vpn, f, PAGER_FAIL_PAGE_IN, rc);
	} else if (p->store) {
		rc = from_store ? p->store->ops->page_in(p->store, vpn, f)
				: p->store->ops->zero_fill(p->store, vpn, f);
		if (unlikely(rc))
			return fault_failed(p, vpn, f, PAGER_FAIL_PAGE_IN, rc);
	}
	rc = p->mmu->ops->map(p->mmu, vpn, f, why);
	if (unlikely(rc))
		return fault_failed(p, vpn, f, PAGER_FAIL_MAP, rc);

	if (from_store)
		p->stats.major++;
	else
		p->stats.minor++;
	p->stats.faults++;
	p->last_fault = from_store ? 2 : 1;

	pte->frame = f;
	p->frames[f] = (struct frame){ .vpn = vpn, .flags = FRAME_USED };
	p->stats.resident++;
	p->policy->ops->insert(p->policy, f);
	/* After insert(): a variable-size policy has freed what it drops with
	 * this reference, so the peak is a resident set, not a transient. */
	if (p->stats.resident > p->stats.resident_max)
		p->stats.resident_max = p->stats.resident;
	return f;
}

/* With a free pool: the page may come back from it without I/O, and
 * otherwise its oldest frame waits on the free list (pool.h). */
static frame_t pool_or_fault_in(struct pager *p, vpn_t vpn, enum access_kind why)
{
	if (unlikely(p->pool)) {
		uint64_t faults = p->stats.faults;
		frame_t f = pool_fault(p, vpn, why);

		if (f != POOL_GO_ON) {
			p->last_fault = p->stats.faults != faults ? 1 : 0;
			return f;
		}
	}
	return fault_in(p, vpn, why);
}

frame_t pager_fault(struct pager *p, vpn_t vpn, enum access_kind why)
{
	struct pte *pte = &p->pt[vpn];
	frame_t f;

	p->last_fault = 0;
	if (unlikely(pte->flags & PTE_IO)) {
		/* Another thread is bringing this page in: wait for its read
		 * rather than read it twice (if that read failed, read it
		 * here). Or it is writing it back as a victim: wait for the
		 * write, then read the copy it made. */
		p->stats.io_waits++;
		while (pte->flags & PTE_IO)
			pthread_cond_wait(&p->io_done, p->io_lock);
		if (pte->frame != NO_FRAME) {
			p->stats.collided++;
			p->last_fault = 0; /* the other's fault set it meanwhile */
			return pte->frame;
		}
	}
	if (!p->io_lock)
		return pool_or_fault_in(p, vpn, why);
	/* The whole fault is in flight for vpn, from the pool or the choice of
	 * a frame (whose victim's write-back drops the lock) to the mapping: a
	 * second fault on vpn meanwhile waits above instead of bringing it in
	 * twice. */
	pte->flags |= PTE_IO;
	f = pool_or_fault_in(p, vpn, why);
	pte->flags &= ~PTE_IO;
	pthread_cond_broadcast(&p->io_done);
	return f;
}

frame_t pager_pin(struct pager *p, vpn_t vpn)
{
	frame_t f = p->pt[vpn].frame;

	if (f == NO_FRAME) {
		f = pager_fault(p, vpn, ACCESS_READ);
		if (f == NO_FRAME)
			return NO_FRAME;
	}
	if (p->frames[f].pin_count == UINT16_MAX) {
		set_err(p, "page %u pinned too many times", vpn);
		return NO_FRAME;
	}
	if (p->frames[f].pin_count++ == 0) {
		p->frames[f].flags |= FRAME_PINNED;
		p->npinned++;
		p->policy->ops->remove(p->policy, f);
		if (p->mmu->ops->pin)
			p->mmu->ops->pin(p->mmu, vpn, f);
	}
	return f;
}

void pager_unpin(struct pager *p, vpn_t vpn)
{
	frame_t f = p->pt[vpn].frame;

	if (f == NO_FRAME || p->frames[f].pin_count == 0)
		return;
	if (--p->frames[f].pin_count == 0) {
		p->frames[f].flags &= ~FRAME_PINNED;
		p->npinned--;
		if (p->mmu->ops->unpin)
			p->mmu->ops->unpin(p->mmu, vpn, f);
		/* Back on the lists as if just brought in: its history was
		 * dropped when it was pinned. */
		p->next_use = NEVER;
		p->policy->ops->insert(p->policy, f);
	}
}

/*
 * Asynchronous page-in (pager.h): the fault path cut in two around the
 * read, for a caller that starts many reads and completes each later
 * (vmm/blockio.c). Under io_lock, which get_frame() may drop to write a
 * victim back: the page is looked at again after it.
 */
int pager_read_begin(struct pager *p, vpn_t vpn, frame_t *out)
{
	struct pte *pte = &p->pt[vpn];
	frame_t f;

	p->last_fault = 0;
	if (pte->frame != NO_FRAME || (pte->flags & PTE_IO))
		return 1;
	if (unlikely(p->pool)) {
		frame_t held;

		if (pool_holds(p, vpn, &held))
			return 1; /* back from the pool without I/O: a fault's job */
		f = pool_fault(p, vpn, ACCESS_READ);
		if (f != POOL_GO_ON)
			return f == NO_FRAME ? -1 : 1;
	}
	f = get_frame(p, vpn);
	if (f == NO_FRAME)
		return -1;
	if (pte->frame != NO_FRAME || (pte->flags & PTE_IO)) {
		/* Read in by another thread while a victim was written back. */
		p->free_frames[p->nfree++] = f;
		return 1;
	}
	pte->flags |= PTE_IO;
	*out = f;
	return 0;
}

int pager_read_end(struct pager *p, vpn_t vpn, frame_t f, int rc)
{
	struct pte *pte = &p->pt[vpn];

	pte->flags &= ~PTE_IO;
	if (p->io_lock)
		pthread_cond_broadcast(&p->io_done);
	if (rc) {
		(void)fault_failed(p, vpn, f, PAGER_FAIL_PAGE_IN, rc);
		return -1;
	}
	rc = p->mmu->ops->map(p->mmu, vpn, f, ACCESS_READ);
	if (rc) {
		(void)fault_failed(p, vpn, f, PAGER_FAIL_MAP, rc);
		return -1;
	}
	pte->frame = f;
	p->frames[f] = (struct frame){ .vpn = vpn, .flags = FRAME_USED };
	p->stats.resident++;
	p->policy->ops->insert(p->policy, f);
	if (p->stats.resident > p->stats.resident_max)
		p->stats.resident_max = p->stats.resident;
	return 0;
}
