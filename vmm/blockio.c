// SPDX-License-Identifier: MIT
/*
 * prefetch_page() and page-level asynchronous I/O: see blockio.h. The
 * RFC's definition of prefetch_page() ("return zero if the page is
 * accessible following the call; start I/O operations to retrieve the page
 * if such operations are required and there is no high memory pressure")
 * and issue 10's read_pages / write_pages / sync_pages are quoted in
 * docs/async.md. One io_req per data page, allocated at create: a page has
 * at most one read or one write in flight.
 */
#include "blockio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "io.h"
#include "page_error.h"
#include "swap_layout.h"

enum page_state { PS_IDLE, PS_READING, PS_WRITING };

struct bio_page {
	struct io_req req;
	struct blockio *b;
	frame_t f;
	int64_t slot;          /* a write's slot (swap_layout_write_begin) */
	uint64_t reqno;        /* the read_pages request, 0: a prefetch */
	uint8_t state;         /* enum page_state */
	uint8_t prefetched;    /* issued by prefetch_page(), not yet touched */
	uint8_t grace;         /* read in by a prefetch: referenced once for the policy */
	uint8_t up_pending;    /* a failed read waits for its upcall */
	int up_errno;
	uint64_t up_req;       /* ... of this request */
};

struct blockio {
	struct mmu mmu;              /* first: the pager's MMU */
	struct blockio_config cfg;
	struct pager *p;
	struct bio_page *pages;
	struct io_req **batch;       /* one batch being built */
	uint32_t *upq;               /* pages with a pending upcall, a ring */
	uint32_t up_head, up_len;
	uint64_t next_req;
	uint64_t reads_inflight, writes_inflight;
	pthread_cond_t idle;         /* a read or a write ended */
	uint32_t sync_err, sync_err_page;
	uint64_t first_mark_ns;
	size_t up_log;               /* 1 + the --inject log entry of the last upcall, or 0 */
	struct blockio_stats st;
	char err[200];
};

static struct blockio *of_mmu(struct mmu *m)
{
	return (struct blockio *)m;
}

static struct mmu *inner(struct blockio *b)
{
	return &b->cfg.mmu->mmu;
}

/* ---- the wrapped MMU: every call passed through, evictions noted ---------- */

/* A page a prefetch read in, still untouched, is made resident with its
 * referenced bit clear: the state the kvm_mmu gives a page it unmapped to
 * sample that bit (PG_SOFT), without mapping it first. Its first touch
 * traps (blockio_touch, then a soft fault maps it). */
static int w_map(struct mmu *m, vpn_t vpn, frame_t f, enum access_kind why)
{
	struct blockio *b = of_mmu(m);
	struct kvm_mmu *k = b->cfg.mmu;

	if (vpn < b->cfg.npages && b->pages[vpn].state == PS_READING &&
	    b->pages[vpn].prefetched) {
		k->state[vpn] = PG_SOFT;
		k->frame[vpn] = f;
		return 0;
	}
	return inner(b)->ops->map(inner(b), vpn, f, why);
}

/* The pager unmaps a page only to evict it (to the store, the pool or
 * nowhere): a prefetched page still untouched then was wasted. */
static void w_unmap(struct mmu *m, vpn_t vpn, frame_t f)
{
	struct blockio *b = of_mmu(m);

	if (vpn < b->cfg.npages && b->pages[vpn].prefetched) {
		b->pages[vpn].prefetched = 0;
		b->st.pf_wasted++;
	}
	if (vpn < b->cfg.npages)
		b->pages[vpn].grace = 0;
	inner(b)->ops->unmap(inner(b), vpn, f);
}

/* A page a prefetch read in is unmapped, so that its first touch traps:
 * to the policy it is referenced once all the same, as a page a fault
 * mapped is (else a clock would take every prefetched page first). */
static bool w_referenced(struct mmu *m, vpn_t vpn, frame_t f)
{
	struct blockio *b = of_mmu(m);
	bool r = inner(b)->ops->test_and_clear_referenced(inner(b), vpn, f);

	if (vpn < b->cfg.npages && b->pages[vpn].grace) {
		b->pages[vpn].grace = 0;
		r = true;
	}
	return r;
}

static bool w_dirty(struct mmu *m, vpn_t vpn, frame_t f)
{
	struct blockio *b = of_mmu(m);

	return inner(b)->ops->test_and_clear_dirty(inner(b), vpn, f);
}

static const struct mmu_ops wrapped_ops = {
	.map = w_map,
	.unmap = w_unmap,
	.test_and_clear_referenced = w_referenced,
	.test_and_clear_dirty = w_dirty,
};

/* ---- create, drain, destroy ---------------------------------------------- */

struct blockio *blockio_create(const struct blockio_config *cfg, char *err, size_t errlen)
{
	struct blockio *b;

	if (!cfg->store || !cfg->store->io) {
		snprintf(err, errlen, "prefetch and page-level I/O need the I/O engine (--disk-depth Q)");
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		goto oom;
	b->mmu.ops = &wrapped_ops;
	b->cfg = *cfg;
	b->pages = calloc(cfg->npages, sizeof(*b->pages));
	b->batch = malloc(sizeof(*b->batch) * cfg->npages);
	b->upq = malloc(sizeof(*b->upq) * cfg->npages);
	if (!b->pages || !b->batch || !b->upq)
		goto oom;
	pthread_cond_init(&b->idle, NULL);
	return b;
oom:
	snprintf(err, errlen, "out of memory for page-level I/O on %u pages", cfg->npages);
	if (b) {
		free(b->pages);
		free(b->batch);
		free(b->upq);
		free(b);
	}
	return NULL;
}

struct mmu *blockio_mmu(struct blockio *b)
{
	return &b->mmu;
}

void blockio_set_pager(struct blockio *b, struct pager *p)
{
	b->p = p;
}

void blockio_drain(struct blockio *b)
{
	while (b->reads_inflight || b->writes_inflight)
		pthread_cond_wait(&b->idle, b->cfg.lock);
}

void blockio_destroy(struct blockio *b)
{
	if (!b)
		return;
	pthread_cond_destroy(&b->idle);
	free(b->pages);
	free(b->batch);
	free(b->upq);
	free(b);
}

struct blockio_stats blockio_stats(struct blockio *b)
{
	struct blockio_stats st = b->st;

	st.pf_unused = 0;
	for (uint32_t i = 0; i < b->cfg.npages; i++)
		st.pf_unused += b->pages[i].prefetched;
	return st;
}

const char *blockio_error(struct blockio *b)
{
	return b->err[0] ? b->err : NULL;
}

/* ---- reads ---------------------------------------------------------------- */

/* A failed read of a read_pages request: queue its upcall (one pending per
 * page; a newer failure of the same page replaces the older's request). */
static void queue_upcall(struct blockio *b, vpn_t vpn, int err)
{
	struct bio_page *bp = &b->pages[vpn];

	bp->up_errno = err;
	bp->up_req = bp->reqno;
	if (bp->up_pending)
		return;
	bp->up_pending = 1;
	b->upq[(b->up_head + b->up_len++) % b->cfg.npages] = vpn;
}

/* A read ended (lock held): map the page, or leave it on the store. */
static void read_finished(struct blockio *b, vpn_t vpn, int rc)
{
	struct bio_page *bp = &b->pages[vpn];
	int end = pager_read_end(b->p, vpn, bp->f, rc); /* maps it: see w_map() */

	bp->state = PS_IDLE;
	b->reads_inflight--;
	if (end != 0) {
		if (b->p->fail == PAGER_FAIL_MAP && !b->err[0])
			snprintf(b->err, sizeof(b->err), "%s", b->p->err);
		if (bp->prefetched) {
			bp->prefetched = 0;
			b->st.pf_failed++;
		}
		if (bp->reqno) {
			b->st.read_errors++;
			queue_upcall(b, vpn, rc ? -rc : EIO);
		}
	} else if (bp->prefetched) {
		bp->grace = 1; /* resident, referenced bit clear: see w_map() */
	}
	pthread_cond_broadcast(&b->idle);
}

static void read_done(struct io_req *r, int rc, void *ctx)
{
	struct bio_page *bp = ctx;
	struct blockio *b = bp->b;

	(void)r;
	pthread_mutex_lock(b->cfg.lock);
	read_finished(b, (vpn_t)(bp - b->pages), rc);
	pthread_mutex_unlock(b->cfg.lock);
}

/* Whether reading vpn in would need I/O: it has a copy on the store and is
 * neither resident nor in the free pool. */
static bool needs_io(struct blockio *b, vpn_t vpn)
{
	const struct pte *pte = &b->p->pt[vpn];
	frame_t f;

	if (pte->frame != NO_FRAME)
		return false;
	if (!(pte->flags & PTE_ON_STORE) && !b->cfg.first_touch_major)
		return false;
	return !pool_holds(b->p, vpn, &f);
}

/* Begin the read of vpn, adding it to the batch: 0 added, 1 nothing to
 * read, -1 no frame. An injected error ends the read at once. */
static int add_read(struct blockio *b, vpn_t vpn, uint64_t reqno, size_t *n)
{
	struct bio_page *bp = &b->pages[vpn];
	int rc = pager_read_begin(b->p, vpn, &bp->f);

	if (rc)
		return rc;
	bp->state = PS_READING;
	bp->reqno = reqno;
	b->reads_inflight++;
	__atomic_fetch_add(&b->cfg.store->reads, 1, __ATOMIC_RELAXED);
	if (b->cfg.inject) {
		int e = inject_judge(b->cfg.inject, INJECT_READ, vpn);

		if (e) {
			read_finished(b, vpn, e);
			return 0;
		}
	}
	bp->b = b;
	bp->req = (struct io_req){
		.op = IO_READ,
		.block = swap_layout_lookup(&b->cfg.store->layout, vpn),
		.buf = kvm_mmu_page_bytes(b->cfg.mmu, vpn, bp->f),
		.done = read_done,
		.ctx = bp,
	};
	b->batch[(*n)++] = &bp->req;
	return 0;
}

static bool below_low_watermark(struct blockio *b)
{
	return b->cfg.pool_low && b->p->nfree + pool_len(b->p) < b->cfg.pool_low;
}

int blockio_prefetch(struct blockio *b, vpn_t vpn)
{
	struct bio_page *bp;
	size_t n = 0;
	int rc;

	b->st.pf_calls++;
	if (vpn >= b->cfg.npages)
		return -1;
	bp = &b->pages[vpn];
	if (b->p->pt[vpn].frame != NO_FRAME) {
		b->st.pf_accessible++;
		return PF_ACCESSIBLE;
	}
	if (bp->state == PS_READING || (b->p->pt[vpn].flags & PTE_IO)) {
		b->st.pf_inflight++;
		return PF_STARTED;
	}
	if (!needs_io(b, vpn))
		return BLOCKIO_FAULT;
	if (below_low_watermark(b)) {
		b->st.pf_pressure++;
		return PF_PRESSURE;
	}
	bp->prefetched = 1;
	rc = add_read(b, vpn, 0, &n);
	if (rc) {
		bp->prefetched = 0;
		b->st.pf_pressure += rc < 0;
		b->st.pf_accessible += rc > 0;
		return rc < 0 ? PF_PRESSURE : PF_ACCESSIBLE;
	}
	b->st.pf_issued++;
	io_submit(b->cfg.store->io, b->batch, n);
	return PF_STARTED;
}

void blockio_prefetch_served(struct blockio *b)
{
	b->st.pf_accessible++;
}

void blockio_touch(struct blockio *b, vpn_t vpn)
{
	if (vpn < b->cfg.npages && b->pages[vpn].prefetched) {
		b->pages[vpn].prefetched = 0;
		b->pages[vpn].grace = 0; /* the touch sets the bit itself */
		b->st.pf_useful++;
		b->st.pf_late += b->pages[vpn].state == PS_READING;
	}
}

static bool bad_range(const struct blockio *b, uint32_t first, uint32_t count)
{
	return first > b->cfg.npages || count > b->cfg.npages - first;
}

int blockio_read_pages(struct blockio *b, uint32_t first, uint32_t count, uint64_t *req,
		       uint32_t *queued)
{
	size_t n = 0;
	uint32_t started = 0;

	if (bad_range(b, first, count))
		return -1;
	*req = ++b->next_req;
	b->st.read_requests++;
	for (uint32_t vpn = first; vpn < first + count; vpn++) {
		int rc;

		if (b->pages[vpn].state != PS_IDLE || !needs_io(b, vpn))
			continue;
		rc = add_read(b, vpn, *req, &n);
		if (rc < 0)
			break; /* no frame left: the rest fault in when touched */
		started += rc == 0;
	}
	b->st.reads += started;
	*queued = started;
	io_submit(b->cfg.store->io, b->batch, n);
	return 0;
}

/* ---- write-behind ----------------------------------------------------------- */

static void write_done(struct io_req *r, int rc, void *ctx)
{
	struct bio_page *bp = ctx;
	struct blockio *b = bp->b;
	vpn_t vpn = (vpn_t)(bp - b->pages);

	(void)r;
	pthread_mutex_lock(b->cfg.lock);
	swap_layout_write_end(&b->cfg.store->layout, vpn, bp->slot, rc == 0);
	if (rc == 0) {
		b->p->pt[vpn].flags |= PTE_ON_STORE;
	} else {
		/* Nothing lost: dirty again, written when next evicted or
		 * written behind; the error waits for sync_pages(). */
		b->p->frames[bp->f].flags |= FRAME_DIRTY;
		b->p->stats.writeback_errors++;
		b->st.write_errors++;
		if (!b->sync_err) {
			b->sync_err = (uint32_t)-rc;
			b->sync_err_page = vpn;
		}
	}
	bp->state = PS_IDLE;
	pager_unpin(b->p, vpn);
	b->writes_inflight--;
	pthread_cond_broadcast(&b->idle);
	pthread_mutex_unlock(b->cfg.lock);
}

/* Begin the write-behind of vpn if it is resident and dirty: 1 added to
 * the batch, 0 nothing to write. */
static int add_write(struct blockio *b, vpn_t vpn, size_t *n)
{
	struct pager *p = b->p;
	struct bio_page *bp = &b->pages[vpn];
	frame_t f = p->pt[vpn].frame;
	int rc;

	if (f == NO_FRAME || bp->state != PS_IDLE || pager_frame_pinned(p, f))
		return 0;
	/* Harvest, unmap (a write from now on traps and dirties the page
	 * again), harvest what came before the unmap. */
	pager_dirty(p, f);
	(void)inner(b)->ops->test_and_clear_referenced(inner(b), vpn, f);
	if (!pager_dirty(p, f))
		return 0;
	if (pager_pin(p, vpn) == NO_FRAME)
		return 0;
	p->frames[f].flags &= ~FRAME_DIRTY;
	bp->b = b;
	bp->f = f;
	bp->state = PS_WRITING;
	b->writes_inflight++;
	__atomic_fetch_add(&b->cfg.store->writes, 1, __ATOMIC_RELAXED);
	bp->slot = swap_layout_write_begin(&b->cfg.store->layout, vpn);
	rc = bp->slot < 0 ? (int)bp->slot : 0;
	if (!rc && b->cfg.inject)
		rc = inject_judge(b->cfg.inject, INJECT_WRITE, vpn);
	bp->req = (struct io_req){
		.op = IO_WRITE, .block = bp->slot, .buf = kvm_mmu_page_bytes(b->cfg.mmu, vpn, f),
		.done = write_done, .ctx = bp,
	};
	if (rc) {
		/* Failed before the disk: completed now, as the engine would. */
		pthread_mutex_unlock(b->cfg.lock);
		write_done(&bp->req, rc, bp);
		pthread_mutex_lock(b->cfg.lock);
		return 1;
	}
	b->batch[(*n)++] = &bp->req;
	return 1;
}

int blockio_write_pages(struct blockio *b, uint32_t first, uint32_t count, uint32_t *queued)
{
	size_t n = 0;
	uint32_t started = 0;

	if (bad_range(b, first, count))
		return -1;
	for (uint32_t vpn = first; vpn < first + count; vpn++)
		started += (uint32_t)add_write(b, vpn, &n);
	b->st.writes += started;
	*queued = started;
	io_submit(b->cfg.store->io, b->batch, n);
	return 0;
}

uint32_t blockio_sync_pages(struct blockio *b, uint32_t *page)
{
	uint32_t e;

	while (b->writes_inflight)
		pthread_cond_wait(&b->idle, b->cfg.lock);
	e = b->sync_err;
	*page = b->sync_err_page;
	b->sync_err = 0;
	b->sync_err_page = 0;
	b->st.syncs++;
	b->st.sync_errors += e != 0;
	return e;
}

int blockio_drop_pages(struct blockio *b, uint32_t first, uint32_t count)
{
	struct pager *p = b->p;

	if (bad_range(b, first, count))
		return -1;
	for (uint32_t vpn = first; vpn < first + count; vpn++) {
		frame_t f;

		while (b->pages[vpn].state != PS_IDLE)
			pthread_cond_wait(&b->idle, b->cfg.lock);
		f = p->pt[vpn].frame;
		if (f == NO_FRAME || pager_frame_pinned(p, f))
			continue;
		p->policy->ops->remove(p->policy, f);
		if (pager_reclaim(p, f) != 0)
			p->policy->ops->insert(p->policy, f); /* its write failed: still resident */
		else
			b->st.dropped++;
	}
	return 0;
}

void blockio_mark(struct blockio *b, uint64_t which, uint64_t now_ns)
{
	if (!b->first_mark_ns)
		b->first_mark_ns = now_ns - 1;
	if (which < BLOCKIO_MARKS)
		b->st.mark_ns[which] = now_ns - b->first_mark_ns;
}

/* ---- the upcall --------------------------------------------------------------- */

/* Let KVM finish the instruction of the last exit without running another
 * (docs: KVM_RUN with immediate_exit completes pending MMIO and port I/O). */
static int complete_exit(struct kvm_vm *vm, char *why, size_t whylen)
{
	int rc;

	vm->run->immediate_exit = 1;
	rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
	vm->run->immediate_exit = 0;
	if (rc == 0 || errno == EINTR)
		return 0;
	snprintf(why, whylen, "KVM_RUN to complete an exit: %s", strerror(errno));
	return -1;
}

/* The guest's handler stores bio_ack = bio_upcalls before it returns. */
static void notice_ack(struct blockio *b, volatile struct pflab_mailbox *mb)
{
	uint64_t ack = mb->bio_ack;

	b->st.upcalls_acked = ack < b->st.upcalls ? ack : b->st.upcalls;
	if (b->up_log && b->st.upcalls && ack == b->st.upcalls) {
		inject_note_reported(b->cfg.inject, b->up_log);
		b->up_log = 0;
	}
}

void blockio_notice_ack(struct blockio *b, volatile struct pflab_mailbox *mb)
{
	notice_ack(b, mb);
}

int blockio_upcall(struct blockio *b, struct kvm_vm *vm, uint8_t *wired, uint64_t wired_size,
		   volatile struct pflab_mailbox *mb, char *why, size_t whylen)
{
	struct kvm_regs regs;
	uint64_t rip, handler = mb->bio_handler;
	struct bio_page *bp;
	vpn_t vpn;

	pthread_mutex_lock(b->cfg.lock);
	notice_ack(b, mb);
	if (!b->up_len || !handler || mb->bio_ack != mb->bio_upcalls ||
	    mb->pgerr_ack != mb->pgerr_count) {
		pthread_mutex_unlock(b->cfg.lock);
		return 0;
	}
	vpn = b->upq[b->up_head];
	bp = &b->pages[vpn];
	pthread_mutex_unlock(b->cfg.lock);

	if (handler >= wired_size) {
		snprintf(why, whylen, "the guest's read-error handler 0x%llx is outside its image",
			 (unsigned long long)handler);
		return -1;
	}
	if (complete_exit(vm, why, whylen) != 0)
		return -1;
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) != 0) {
		snprintf(why, whylen, "KVM_GET_REGS: %s", strerror(errno));
		return -1;
	}
	rip = regs.rip;
	if (upcall_push(vm, wired, wired_size, &regs, handler, why, whylen) != 0)
		return -1;

	pthread_mutex_lock(b->cfg.lock);
	mb->bio_up_req = bp->up_req;
	mb->bio_up_page = vpn;
	mb->bio_up_errno = (uint32_t)bp->up_errno;
	mb->bio_upcalls = ++b->st.upcalls;
	bp->up_pending = 0;
	b->up_head = (b->up_head + 1) % b->cfg.npages;
	b->up_len--;
	if (b->cfg.inject)
		b->up_log = inject_note_delivery(b->cfg.inject, vpn, rip);
	pthread_mutex_unlock(b->cfg.lock);

	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) != 0) {
		snprintf(why, whylen, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 1;
}
