// SPDX-License-Identifier: MIT
/*
 * The library's regions: creating one (its trap, MMU, store and pager), the
 * fault path both traps enter, and the calls of uvm.h. docs/uvm.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "uvm_internal.h"

#define UVM_MIN_PAGE 4096u
#define REPLAY_WRITE 0x80000000u

uint64_t uvm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int region_err(struct uvm_region *r, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int region_err(struct uvm_region *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- the context and its registry of regions ------------------------------ */

struct uvm *uvm_open(const struct uvm_options *opt, char *err, size_t errlen)
{
	struct uvm *u = calloc(1, sizeof(*u));

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	uvm_handoff_init(u);
	u->nfillers = opt && opt->fillers ? opt->fillers : 1;
	if (u->nfillers > 64) {
		snprintf(err, errlen, "%u filler threads: at most 64", u->nfillers);
		uvm_handoff_fini(u);
		free(u);
		return NULL;
	}
	u->uffd = u->stop_fd = u->sigbus_uffd = -1;
	return u;
}

void uvm_close(struct uvm *u)
{
	if (!u)
		return;
	while (u->nregions) {
		struct uvm_region *r = u->regions[u->nregions - 1];

		if (uvm_unmap(r, false) != 0)
			uvm_unmap(r, true);
	}
	uvm_uffd_close(u);
	uvm_segv_unregister(u);
	uvm_handoff_fini(u);
	pthread_mutex_destroy(&u->lock);
	free(u->regions);
	free(u);
}

/* The region holding addr, or NULL; the caller holds u->lock. */
static struct uvm_region *lookup_locked(struct uvm *u, uintptr_t a)
{
	size_t lo = 0, hi = u->nregions;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct uvm_region *r = u->regions[mid];

		if (a < (uintptr_t)r->va)
			hi = mid;
		else if (a >= (uintptr_t)r->va + r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

struct uvm_region *uvm_lookup(struct uvm *u, const void *addr)
{
	struct uvm_region *r;

	pthread_mutex_lock(&u->lock);
	r = lookup_locked(u, (uintptr_t)addr);
	if (r)
		__atomic_add_fetch(&r->busy, 1, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&u->lock);
	return r;
}

void uvm_release(struct uvm_region *r)
{
	__atomic_sub_fetch(&r->busy, 1, __ATOMIC_RELEASE);
}

static int registry_add(struct uvm *u, struct uvm_region *r)
{
	size_t i;

	pthread_mutex_lock(&u->lock);
	if (u->nregions == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct uvm_region **a = realloc(u->regions, cap * sizeof(*a));

		if (!a) {
			pthread_mutex_unlock(&u->lock);
			return -ENOMEM;
		}
		u->regions = a;
		u->cap = cap;
	}
	for (i = u->nregions; i > 0 && u->regions[i - 1]->va > r->va; i--)
		u->regions[i] = u->regions[i - 1];
	u->regions[i] = r;
	u->nregions++;
	pthread_mutex_unlock(&u->lock);
	return 0;
}

/* Take r out of the registry, then wait until no handler is inside it. */
static void registry_remove(struct uvm *u, struct uvm_region *r)
{
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < u->nregions; i++)
		if (u->regions[i] == r) {
			memmove(&u->regions[i], &u->regions[i + 1],
				(u->nregions - i - 1) * sizeof(*u->regions));
			u->nregions--;
			break;
		}
	pthread_mutex_unlock(&u->lock);
	while (__atomic_load_n(&r->busy, __ATOMIC_ACQUIRE))
		sched_yield();
}

/* ---- the store the pager calls: the region's, behind an injector and a
 * watch that keeps the first write-back error for the next flush --------- */

static struct uvm_region *watched(struct backing_store *bs)
{
	return (struct uvm_region *)((char *)bs - offsetof(struct uvm_region, watch));
}

static int watch_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct uvm_region *r = watched(bs);

	return r->lower->ops->page_in(r->lower, vpn, f);
}

static int watch_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct uvm_region *r = watched(bs);

	return r->lower->ops->zero_fill(r->lower, vpn, f);
}

static int watch_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct uvm_region *r = watched(bs);
	int rc = r->lower->ops->page_out(r->lower, vpn, f);

	if (rc && !r->wb_error)
		r->wb_error = rc;
	return rc;
}

static const struct store_ops watch_ops = {
	.page_in = watch_page_in,
	.zero_fill = watch_zero_fill,
	.page_out = watch_page_out,
};

uint8_t *uvm_page_bytes(struct uvm_region *r, vpn_t vpn, frame_t f)
{
	if (r->state[vpn] & UPG_MAPPED)
		return r->trap->bytes(r, vpn);
	return r->frames + (size_t)f * r->psz;
}

/* ---- creating a region ------------------------------------------------------ */

static int check_config(const struct uvm_config *cfg, size_t psz, char *err, size_t errlen)
{
	if (psz % UVM_MIN_PAGE || psz == 0) {
		snprintf(err, errlen, "page size %zu is not a multiple of %u", psz, UVM_MIN_PAGE);
		return -1;
	}
	if (cfg->pages == 0 || cfg->pages >= UINT32_MAX / 2) {
		snprintf(err, errlen, "a region needs 1 to %u pages, not %zu", UINT32_MAX / 2 - 1,
			 cfg->pages);
		return -1;
	}
	if (cfg->pages > SIZE_MAX / psz) {
		snprintf(err, errlen, "%zu pages of %zu bytes do not fit the address space",
			 cfg->pages, psz);
		return -1;
	}
	if (cfg->frames == 0) {
		snprintf(err, errlen, "a region needs at least 1 frame");
		return -1;
	}
	if (cfg->trap != UVM_TRAP_UFFD && cfg->trap != UVM_TRAP_SIGSEGV) {
		snprintf(err, errlen, "unknown trap mechanism %d", (int)cfg->trap);
		return -1;
	}
	if (cfg->replay && cfg->replay->len && !cfg->replay->index) {
		snprintf(err, errlen, "a replay needs its index");
		return -1;
	}
	return 0;
}

static int make_pager(struct uvm_region *r, const struct uvm_config *cfg, char *err,
		      size_t errlen)
{
	const struct policy_ops *pol = policy_find(cfg->policy ? cfg->policy : "clock");
	struct policy_params params = POLICY_PARAMS_DEFAULT;

	if (!pol) {
		snprintf(err, errlen, "unknown policy '%s' (see pflab policies)", cfg->policy);
		return -1;
	}
	if (cfg->seed)
		params.seed = cfg->seed;
	if (cfg->tick)
		params.tick = cfg->tick == UVM_TICK_NONE ? 0 : cfg->tick;
	if (cfg->window)
		params.window = cfg->window;
	if (cfg->aging_bits)
		params.aging_bits = cfg->aging_bits;
	if ((pol->flags & POLICY_NEEDS_FUTURE) && !(cfg->replay && cfg->replay->next_use)) {
		snprintf(err, errlen, "policy %s needs the future: give a replay with next_use",
			 pol->name);
		return -1;
	}
	r->pager = pager_create(&(struct pager_config){
		.nframes = r->nframes,
		.npages = r->npages,
		.policy = pol,
		.params = params,
		.future_known = cfg->replay && cfg->replay->next_use,
		.first_touch_major = cfg->store == UVM_STORE_FILE ||
				     (cfg->store == UVM_STORE_CALLBACKS &&
				      !cfg->callbacks.zero_first) ||
				     (cfg->replay != NULL),
		.mmu = &r->mmu.mmu,
		.store = &r->watch,
		/* Several threads fault at once: the lock is dropped while a
		 * page is read and while a victim is written back. */
		.io_lock = &r->lock,
		/* A free pool is refilled by the pager's daemon thread. */
		.pool = { .low = cfg->pool_low, .high = cfg->pool_high,
			  .threaded = cfg->pool_high != 0, .lock = &r->lock },
	}, err, errlen);
	return r->pager ? 0 : -1;
}

static void region_free(struct uvm_region *r)
{
	if (!r)
		return;
	pager_destroy(r->pager);
	if (r->trap)
		r->trap->fini(r);
	if (r->inject_on)
		inject_fini(&r->inject);
	uvm_store_close(&r->store);
	pthread_mutex_destroy(&r->lock);
	free(r->state);
	free(r->frame);
	free(r);
}

struct uvm_region *uvm_map(struct uvm *u, const struct uvm_config *cfg, char *err,
			   size_t errlen)
{
	size_t psz = cfg->page_size ? cfg->page_size : UVM_MIN_PAGE;
	struct uvm_region *r;

	if (check_config(cfg, psz, err, errlen) != 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->u = u;
	r->psz = psz;
	r->npages = (uint32_t)cfg->pages;
	r->len = cfg->pages * psz;
	/* More frames than pages would never be used: allocate by the region. */
	r->nframes = cfg->frames < r->npages ? cfg->frames : r->npages;
	r->read_ahead = cfg->read_ahead;
	/* No bound: far enough that no deadline overflows. */
	r->fill_timeout_ns = cfg->fill_timeout_ns == UVM_TIMEOUT_NONE ? 1ull << 62
			     : cfg->fill_timeout_ns ? cfg->fill_timeout_ns : 10000000000ull;
	/* sigsegv: the faulting thread is the filler, unless its store can
	 * block (a store other than memory, or a modelled latency): then the
	 * fault is handed to a filler thread and its wait bounded. */
	r->sigbus = cfg->trap == UVM_TRAP_UFFD && cfg->sigbus;
	r->bounded = (cfg->trap == UVM_TRAP_SIGSEGV || r->sigbus) &&
		     cfg->fill_timeout_ns != UVM_TIMEOUT_NONE &&
		     (cfg->store != UVM_STORE_MEMORY || cfg->disk_latency_ns);
	r->replay = cfg->replay;
	r->on_fault = cfg->on_fault;
	r->on_fault_ctx = cfg->on_fault_ctx;
	r->keep_on_unmap = cfg->pool_high != 0;
	r->store.fd = -1;
	uvm_mmu_init(&r->mmu, r);
	if (uvm_store_open(r, cfg, err, errlen) != 0)
		goto fail;
	r->lower = &r->store.bs;
	if (cfg->inject) {
		struct inject_rule *rules;
		size_t n;
		char why[200];

		if (inject_parse(cfg->inject, &rules, &n, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "inject: %s", why);
			goto fail;
		}
		if (inject_init(&r->inject, &r->store.bs, rules, n) != 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		r->inject_on = true;
		r->lower = &r->inject.bs;
	}
	r->watch.ops = &watch_ops;

	if (r->sigbus) {
		/* Its faults are served as sigsegv's are: by the SIGBUS
		 * handler, handed to the context's fillers when they can block. */
		if (uvm_uffd_open_sigbus(u, err, errlen) != 0 ||
		    uvm_bus_register(u, err, errlen) != 0 ||
		    (r->bounded && uvm_handoff_start(u, true, err, errlen) != 0))
			goto fail;
		r->trap = &uvm_trap_uffd;
	} else if (cfg->trap == UVM_TRAP_UFFD) {
		if (uvm_uffd_open(u, err, errlen) != 0)
			goto fail;
		r->trap = &uvm_trap_uffd;
	} else {
		if (uvm_segv_register(u, err, errlen) != 0)
			goto fail;
		if (r->bounded && uvm_handoff_start(u, true, err, errlen) != 0)
			goto fail;
		r->trap = &uvm_trap_sigsegv;
	}
	/* The address space first: a region too large for it is refused
	 * before anything per page is allocated. */
	if (r->trap->init(r, err, errlen) != 0)
		goto fail;
	r->state = calloc(r->npages, 1);
	r->frame = malloc(sizeof(*r->frame) * r->npages);
	if (!r->state || !r->frame) {
		snprintf(err, errlen, "out of memory for %u pages", r->npages);
		goto fail;
	}
	for (uint32_t i = 0; i < r->npages; i++)
		r->frame[i] = NO_FRAME;
	if (make_pager(r, cfg, err, errlen) != 0)
		goto fail;
	if (registry_add(u, r) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return r;
fail:
	region_free(r);
	return NULL;
}

void *uvm_addr(const struct uvm_region *r)
{
	return r->va;
}

size_t uvm_length(const struct uvm_region *r)
{
	return r->len;
}

size_t uvm_page_size(const struct uvm_region *r)
{
	return r->psz;
}

const char *uvm_strerror(struct uvm_region *r)
{
	return r->err;
}

/* ---- the fault path ------------------------------------------------------- */

static void record_latency(struct uvm_region *r, uint64_t ns)
{
	unsigned idx;

	if (ns < 8) {
		idx = (unsigned)ns;
	} else {
		unsigned e = 63u - (unsigned)__builtin_clzll(ns);

		idx = (e - 2) * 8 + (unsigned)((ns >> (e - 3)) & 7);
	}
	r->lat_hist[idx]++;
	r->lat_n++;
	r->lat_sum_ns += (double)ns;
}

static double bucket_ns(unsigned idx)
{
	unsigned e, sub;

	if (idx < 8)
		return idx;
	e = idx / 8 + 2;
	sub = idx % 8;
	/* The middle of the bucket. */
	return (double)((8ull + sub) << (e - 3)) + (double)(1ull << (e - 3)) / 2;
}

static double lat_quantile_us(const struct uvm_region *r, double q)
{
	uint64_t want = (uint64_t)(q * (double)r->lat_n), seen = 0;

	if (!r->lat_n)
		return 0;
	if (want >= r->lat_n)
		want = r->lat_n - 1;
	for (unsigned i = 0; i < sizeof(r->lat_hist) / sizeof(r->lat_hist[0]); i++) {
		seen += r->lat_hist[i];
		if (seen > want)
			return bucket_ns(i) / 1e3;
	}
	return 0;
}

/* The references [hits_from, upto) made no fault: tell the policy about
 * those to resident pages, as the simulator's hits. */
static void show_hits(struct uvm_region *r, uint64_t upto)
{
	const struct uvm_replay *rp = r->replay;
	struct pager *p = r->pager;

	for (uint64_t j = r->hits_from; j < upto; j++) {
		frame_t f = pager_lookup(p, rp->refs[j] & ~REPLAY_WRITE);

		if (f == NO_FRAME || f >= p->nframes)
			continue;
		p->now = j + 1;
		p->next_use = rp->next_use && rp->next_use[j] ? rp->next_use[j] : NEVER;
		pager_hit(p, f);
	}
	if (upto > r->hits_from)
		r->hits_from = upto;
}

/* Exact replay: the pager's clock is the reference being made, OPT's future
 * its next use, and the references since the last fault are shown to the
 * policy as the hits the simulator would have seen. */
static int replay_clock(struct uvm_region *r, vpn_t vpn, enum access_kind *kind)
{
	const struct uvm_replay *rp = r->replay;
	struct pager *p = r->pager;
	uint64_t idx = *rp->index;

	if (idx >= rp->len || (rp->refs[idx] & ~REPLAY_WRITE) != vpn)
		return region_err(r, -EINVAL, "fault on page %u is not reference %llu's page", vpn,
				  (unsigned long long)idx);
	*kind = (rp->refs[idx] & REPLAY_WRITE) ? ACCESS_WRITE : ACCESS_READ;
	show_hits(r, idx);
	r->hits_from = idx + 1;
	p->now = idx + 1;
	p->next_use = rp->next_use && rp->next_use[idx] ? rp->next_use[idx] : NEVER;
	return 0;
}

static void run_ticks(struct uvm_region *r)
{
	struct pager *p = r->pager;

	/* Under a replay, uvm_replay_tick() runs them at the reference. */
	while (!r->replay && p->tick && p->now >= p->next_tick) {
		pager_tick(p);
		p->next_tick += p->tick;
	}
}

/* A fault the pager serves: a page not resident. */
static int pager_path(struct uvm_region *r, vpn_t vpn, enum access_kind kind)
{
	struct pager *p = r->pager;
	uint64_t t0 = uvm_now_ns();
	frame_t f;
	int rc;

	if (r->replay) {
		rc = replay_clock(r, vpn, &kind);
		if (rc)
			return rc;
	} else {
		p->now++;
	}
	f = pager_fault(p, vpn, kind);
	if (f == NO_FRAME)
		return region_err(r, p->fail_errno ? p->fail_errno : -ENOSPC, "%s", p->err);
	if (p->last_fault == 0)
		return 0; /* another thread's read brought it in: not a fault of ours */
	run_ticks(r);
	record_latency(r, uvm_now_ns() - t0);
	if (r->on_fault)
		r->on_fault(r->on_fault_ctx, vpn, kind == ACCESS_WRITE);
	return 0;
}

/* Read-ahead: the next pages, while they are neither resident nor mapped. */
static void read_ahead(struct uvm_region *r, vpn_t vpn)
{
	struct pager *p = r->pager;

	for (uint32_t k = 1; k <= r->read_ahead && vpn + k < r->npages; k++) {
		vpn_t v = vpn + k;

		if (r->state[v] || pager_lookup(p, v) != NO_FRAME)
			break;
		p->now++;
		if (pager_fault(p, v, ACCESS_READ) == NO_FRAME)
			break;
		r->prefetched++;
	}
}

/* Returns 0 served, 1 nothing to do (the page is already as asked), or -errno. */
static int fault_locked(struct uvm_region *r, vpn_t vpn, enum access_kind kind)
{
	uint8_t s = r->state[vpn];
	bool write = kind == ACCESS_WRITE;
	uint64_t major;
	int rc;

	if (s & UPG_POISONED)
		return region_err(r, -EIO, "page %u: its read failed", vpn);
	if (s & UPG_MAPPED) {
		if (!write || (s & UPG_WRITABLE))
			return 1;
		rc = r->trap->protect(r, vpn, true);
		if (rc)
			return region_err(r, rc, "making page %u writable: %s", vpn, strerror(-rc));
		r->state[vpn] = s | UPG_WRITABLE | UPG_DIRTY;
		r->wp_faults++;
		return 0;
	}
	if (s & UPG_SOFT) {
		bool w = write || !r->wp;

		rc = r->trap->install(r, vpn, r->frame[vpn], w);
		if (rc)
			return region_err(r, rc, "re-mapping page %u: %s", vpn, strerror(-rc));
		r->state[vpn] = UPG_MAPPED | (s & UPG_DIRTY) | (w ? UPG_WRITABLE | UPG_DIRTY : 0);
		r->soft_faults++;
		return 0;
	}
	major = r->pager->stats.major;
	rc = pager_path(r, vpn, kind);
	if (rc == 0 && r->read_ahead && r->pager->stats.major != major)
		read_ahead(r, vpn);
	return rc;
}

int uvm_region_fault_quick(struct uvm_region *r, vpn_t vpn, enum access_kind kind)
{
	int rc = UVM_NOT_QUICK;

	pthread_mutex_lock(&r->lock);
	if (r->state[vpn] & (UPG_MAPPED | UPG_SOFT))
		rc = fault_locked(r, vpn, kind);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int uvm_region_fault(struct uvm_region *r, vpn_t vpn, enum access_kind kind)
{
	int rc;

	pthread_mutex_lock(&r->lock);
	rc = fault_locked(r, vpn, kind);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* ---- prefetch, pin, flush, unmap, statistics ------------------------------- */

/* The pages [*first, *last] of a range, or -EINVAL. */
static int range_pages(struct uvm_region *r, const void *addr, size_t len, vpn_t *first,
		       vpn_t *last)
{
	uintptr_t a = (uintptr_t)addr, base = (uintptr_t)r->va;

	if (!addr) {
		*first = 0;
		*last = r->npages - 1;
		return 0;
	}
	if (len == 0 || a < base || a - base >= r->len || len > r->len - (a - base))
		return region_err(r, -EINVAL, "range %p+%zu is not inside the region %p+%zu", addr,
				  len, (void *)r->va, r->len);
	*first = (vpn_t)((a - base) / r->psz);
	*last = (vpn_t)((a - base + len - 1) / r->psz);
	return 0;
}

/* A poisoned page (uffd) is cleared so that it can be read again. */
static void unpoison(struct uvm_region *r, vpn_t v)
{
	if (r->state[v] & UPG_POISONED) {
		madvise(r->va + (size_t)v * r->psz, r->psz, MADV_DONTNEED);
		r->state[v] &= (uint8_t)~UPG_POISONED;
	}
}

int uvm_prefetch(struct uvm_region *r, const void *addr, size_t len)
{
	vpn_t first, last;
	int rc = range_pages(r, addr, len, &first, &last);

	for (vpn_t v = first; rc == 0 && v <= last; v++) {
		pthread_mutex_lock(&r->lock);
		unpoison(r, v);
		if (pager_lookup(r->pager, v) == NO_FRAME || (r->state[v] & UPG_SOFT)) {
			rc = fault_locked(r, v, ACCESS_READ);
			if (rc == 0)
				r->prefetched++;
			rc = rc > 0 ? 0 : rc;
		}
		pthread_mutex_unlock(&r->lock);
	}
	return rc;
}

int uvm_pin(struct uvm_region *r, const void *addr, size_t len)
{
	vpn_t first, last;
	int rc = range_pages(r, addr, len, &first, &last);

	for (vpn_t v = first; rc == 0 && v <= last; v++) {
		pthread_mutex_lock(&r->lock);
		unpoison(r, v);
		if (!r->replay)
			r->pager->now++;
		if (pager_pin(r->pager, v) == NO_FRAME)
			rc = region_err(r, r->pager->fail_errno ? r->pager->fail_errno : -ENOSPC,
					"pinning page %u: %s", v, r->pager->err);
		pthread_mutex_unlock(&r->lock);
	}
	return rc;
}

int uvm_unpin(struct uvm_region *r, const void *addr, size_t len)
{
	vpn_t first, last;
	int rc = range_pages(r, addr, len, &first, &last);

	for (vpn_t v = first; rc == 0 && v <= last; v++) {
		pthread_mutex_lock(&r->lock);
		pager_unpin(r->pager, v);
		pthread_mutex_unlock(&r->lock);
	}
	return rc;
}

int uvm_flush(struct uvm_region *r, const void *addr, size_t len)
{
	vpn_t first, last;
	int rc = range_pages(r, addr, len, &first, &last), first_err = 0;

	if (rc)
		return rc;
	for (vpn_t v = first; v <= last; v++) {
		pthread_mutex_lock(&r->lock);
		rc = pager_clean(r->pager, v);
		if (rc < 0 && !first_err)
			first_err = region_err(r, rc, "write-back of page %u: %s", v, strerror(-rc));
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_lock(&r->lock);
	if (!first_err && r->wb_error)
		first_err = region_err(r, r->wb_error, "an earlier write-back failed: %s",
				       strerror(-r->wb_error));
	r->wb_error = 0;
	pthread_mutex_unlock(&r->lock);
	return first_err;
}

int uvm_unmap(struct uvm_region *r, bool discard)
{
	struct uvm *u = r->u;

	pool_stop(r->pager);
	for (vpn_t v = 0; !discard && v < r->npages; v++) {
		int rc;

		pthread_mutex_lock(&r->lock);
		rc = pager_clean(r->pager, v);
		pthread_mutex_unlock(&r->lock);
		if (rc < 0)
			return region_err(r, rc, "unmap: write-back of page %u failed (%s): the region "
					  "stays mapped", v, strerror(-rc));
	}
	registry_remove(u, r);
	region_free(r);
	return 0;
}

void uvm_replay_tick(struct uvm_region *r, uint64_t done)
{
	struct pager *p = r->pager;

	pthread_mutex_lock(&r->lock);
	if (r->replay && p->tick && p->policy->ops->tick) {
		show_hits(r, done < r->replay->len ? done : r->replay->len);
		while (done >= p->next_tick) {
			p->now = p->next_tick;
			pager_tick(p);
			p->next_tick += p->tick;
		}
	}
	pthread_mutex_unlock(&r->lock);
}

void uvm_stats(struct uvm_region *r, struct uvm_stats *out)
{
	const struct pager_stats *st = &r->pager->stats;

	pthread_mutex_lock(&r->lock);
	*out = (struct uvm_stats){
		.faults = st->faults,
		.major = st->major,
		.minor = st->minor,
		.soft_faults = r->soft_faults,
		.wp_faults = r->wp_faults,
		.evictions = st->evictions,
		.writebacks = st->writebacks,
		.pagein_errors = st->pagein_errors,
		.writeback_errors = st->writeback_errors,
		.timeouts = __atomic_load_n(&r->timeouts, __ATOMIC_RELAXED),
		.prefetched = r->prefetched,
		.resident = st->resident,
		.shared_reads = st->collided,
		.inflight_waits = st->io_waits,
		.lat_mean_us = r->lat_n ? r->lat_sum_ns / (double)r->lat_n / 1e3 : 0,
		.lat_p50_us = lat_quantile_us(r, 0.5),
		.lat_p99_us = lat_quantile_us(r, 0.99),
	};
	pthread_mutex_unlock(&r->lock);
}
