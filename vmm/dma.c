// SPDX-License-Identifier: MIT
/*
 * The virtual DMA device: its registers, its thread, and the two ways its
 * transfers meet pages that are not resident (dma.h, docs/dma.md).
 */
#include "dma.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../guest/dma_abi.h"

#define PAGE 4096u
#define DMA_BUF_MAX (64u << 20) /* the buffer: the data region's size, at most this */

struct dma_desc {
	uint64_t addr, len, buf;
	uint32_t dir;
};

struct dma_dev {
	struct dma_config cfg;
	uint8_t *buf;
	size_t buf_size;

	/* The registers the guest writes, and the transfer the thread runs. */
	struct dma_desc regs;
	struct dma_desc cur;

	pthread_t thread;
	bool thread_running;
	pthread_mutex_t mu;        /* everything below; never held with fault_lock */
	pthread_cond_t cond;       /* a transfer started, finished, or stop */
	bool stop;
	uint32_t status;           /* DMA_IDLE .. DMA_ERROR */
	struct dma_stats stats;
	char err[200];

	frame_t pinned[DMA_MAX_BYTES / PAGE + 1]; /* pin mode: the current transfer's frames */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

bool dma_mode_parse(const char *name, enum dma_mode *mode)
{
	if (strcmp(name, "pin") == 0)
		*mode = DMA_PIN;
	else if (strcmp(name, "fault") == 0)
		*mode = DMA_FAULT;
	else
		return false;
	return true;
}

const char *dma_mode_name(enum dma_mode mode)
{
	return mode == DMA_PIN ? "pin" : mode == DMA_FAULT ? "fault" : "off";
}

void dma_print(FILE *out, enum dma_mode mode, const struct dma_stats *s,
	       const struct pager_stats *pager)
{
	double busy_s = (double)s->busy_ns / 1e9;

	fprintf(out, "dma: %s mode, %llu transfers of %llu bytes in all; %llu device faults "
		"(stalled %.3f ms), %llu CPU faults; %.1f us per transfer, %.1f MB/s while busy; "
		"%llu pinned pages moved, %llu buffer mismatches\n", dma_mode_name(mode),
		(unsigned long long)s->transfers, (unsigned long long)s->bytes,
		(unsigned long long)s->device_faults, (double)s->stall_ns / 1e6,
		(unsigned long long)(pager->faults - s->device_faults),
		s->transfers ? (double)s->busy_ns / 1e3 / (double)s->transfers : 0.0,
		busy_s > 0 ? (double)s->bytes / 1e6 / busy_s : 0.0,
		(unsigned long long)s->pinned_moved, (unsigned long long)s->buffer_errors);
}

/* ---- one transfer, on the device's thread -------------------------------- */

struct xfer {
	struct dma_dev *d;
	vpn_t first;
	uint32_t npages;
	/* counted here, added to the stats when the transfer ends */
	uint64_t faults, stall_ns, moved;
	char err[200];
};

/* Fault vpn in for the device, as the vCPU's fault path does (the fault
 * lock held): the pager maps it for the guest too, and time passes for the
 * policy. The wait is the transfer's stall. */
static frame_t device_fault(struct xfer *x, vpn_t vpn, enum access_kind kind, bool pin)
{
	struct pager *p = x->d->cfg.pager;
	uint64_t t0 = now_ns();
	frame_t f;

	p->now++;
	f = pin ? pager_pin(p, vpn) : pager_fault(p, vpn, kind);
	x->stall_ns += now_ns() - t0;
	x->faults++;
	if (f == NO_FRAME)
		snprintf(x->err, sizeof(x->err), "device fault on page %u: %s", vpn, p->err);
	return f;
}

/* pin mode: pin every page of the transfer, faulting in the absent ones.
 * On failure, unpin what was pinned. 0 or -1. */
static int pin_all(struct xfer *x)
{
	struct dma_dev *d = x->d;
	struct pager *p = d->cfg.pager;
	uint32_t i;

	pthread_mutex_lock(d->cfg.fault_lock);
	for (i = 0; i < x->npages; i++) {
		vpn_t vpn = x->first + i;
		frame_t f = pager_lookup(p, vpn);

		/* pager_pin faults an absent page in itself: through
		 * device_fault, to count it as the device's. */
		f = f == NO_FRAME ? device_fault(x, vpn, ACCESS_READ, true) : pager_pin(p, vpn);
		if (f == NO_FRAME) {
			if (!x->err[0])
				snprintf(x->err, sizeof(x->err), "pinning page %u: %s", vpn, p->err);
			break;
		}
		d->pinned[i] = f;
	}
	if (i < x->npages)
		for (uint32_t j = 0; j < i; j++)
			pager_unpin(p, x->first + j);
	pthread_mutex_unlock(d->cfg.fault_lock);
	return i < x->npages ? -1 : 0;
}

static void unpin_all(struct xfer *x)
{
	pthread_mutex_lock(x->d->cfg.fault_lock);
	for (uint32_t i = 0; i < x->npages; i++)
		pager_unpin(x->d->cfg.pager, x->first + i);
	pthread_mutex_unlock(x->d->cfg.fault_lock);
}

/* Copy the part of the transfer in page i (of the transfer). Under the
 * fault lock: neither the vCPU's faults nor the paging daemon can take the
 * page away mid-copy, and the MMU's dirty bitmap is shared with them. */
static int copy_page(struct xfer *x, uint32_t i, const struct dma_desc *t)
{
	struct dma_dev *d = x->d;
	struct pager *p = d->cfg.pager;
	bool to_memory = t->dir == DMA_TO_MEMORY;
	vpn_t vpn = x->first + i;
	uint64_t page_gpa = d->cfg.data_base + (uint64_t)vpn * PAGE;
	uint64_t from = t->addr > page_gpa ? t->addr : page_gpa;
	uint64_t to = t->addr + t->len < page_gpa + PAGE ? t->addr + t->len : page_gpa + PAGE;
	uint8_t *host = d->buf + t->buf + (from - t->addr);
	uint8_t *guest;
	frame_t f;
	int rc = 0;

	pthread_mutex_lock(d->cfg.fault_lock);
	f = pager_lookup(p, vpn);
	if (d->cfg.mode == DMA_PIN && f != d->pinned[i]) {
		/* The pin failed to hold the page: count it, never copy
		 * into a frame that may hold another page now. */
		x->moved++;
		if (f == NO_FRAME)
			f = device_fault(x, vpn, to_memory ? ACCESS_WRITE : ACCESS_READ, false);
	} else if (f == NO_FRAME) {
		f = device_fault(x, vpn, to_memory ? ACCESS_WRITE : ACCESS_READ, false);
	}
	if (f == NO_FRAME) {
		rc = -1;
		goto out;
	}
	guest = kvm_mmu_page_bytes(d->cfg.mmu, vpn, f) + (from - page_gpa);
	if (to_memory) {
		memcpy(guest, host, to - from);
		/* The guest's page changed behind KVM's dirty log: tell the
		 * pager, or an eviction would drop the data as clean. */
		kvm_mmu_mark_dirty(d->cfg.mmu, vpn);
	} else {
		memcpy(host, guest, to - from);
	}
	if (d->cfg.mmu->error) {
		snprintf(x->err, sizeof(x->err), "KVM MMU: %s", strerror(-d->cfg.mmu->error));
		rc = -1;
	}
out:
	pthread_mutex_unlock(d->cfg.fault_lock);
	return rc;
}

/* The device checks what it read: the dma workload's pages hold
 * dma_word(buffer word, DMA_TAG_GUEST) (guest/dma_abi.h). */
static uint64_t check_from_memory(const struct dma_dev *d, const struct dma_desc *t)
{
	uint64_t bad = 0;

	/* The whole words the transfer wrote. */
	for (uint64_t off = (t->buf + 7) & ~7ull; off + 8 <= t->buf + t->len; off += 8) {
		uint64_t w;

		memcpy(&w, d->buf + off, sizeof(w));
		bad += w != dma_word(off / 8, DMA_TAG_GUEST);
	}
	return bad;
}

static int transfer(struct xfer *x, const struct dma_desc *t)
{
	struct dma_dev *d = x->d;
	int rc = 0;

	if (d->cfg.mode == DMA_PIN && pin_all(x) != 0)
		return -1;
	for (uint32_t i = 0; i < x->npages && rc == 0; i++) {
		if (d->cfg.page_ns) {
			/* The bus time of a page: outside the lock, so that
			 * the vCPU runs and faults meanwhile. */
			struct timespec ts = { .tv_sec = (time_t)(d->cfg.page_ns / 1000000000u),
					       .tv_nsec = (long)(d->cfg.page_ns % 1000000000u) };

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
		rc = copy_page(x, i, t);
	}
	if (d->cfg.mode == DMA_PIN)
		unpin_all(x);
	return rc;
}

static void *device_main(void *arg)
{
	struct dma_dev *d = arg;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		while (!d->stop && d->status != DMA_BUSY)
			pthread_cond_wait(&d->cond, &d->mu);
		if (d->status != DMA_BUSY)
			break; /* stop, and nothing in flight */
		{
			struct dma_desc t = d->cur;
			uint64_t first = (t.addr - d->cfg.data_base) / PAGE;
			uint64_t last = (t.addr + t.len - 1 - d->cfg.data_base) / PAGE;
			struct xfer x = { .d = d, .first = (vpn_t)first,
					  .npages = (uint32_t)(last - first + 1) };
			uint64_t t0 = now_ns(), bad = 0;
			int rc;

			pthread_mutex_unlock(&d->mu);
			rc = transfer(&x, &t);
			if (rc == 0 && t.dir == DMA_FROM_MEMORY)
				bad = check_from_memory(d, &t);
			pthread_mutex_lock(&d->mu);
			d->stats.transfers++;
			d->stats.bytes += rc == 0 ? t.len : 0;
			d->stats.device_faults += x.faults;
			d->stats.stall_ns += x.stall_ns;
			d->stats.busy_ns += now_ns() - t0;
			d->stats.pinned_moved += x.moved;
			d->stats.buffer_errors += bad;
			if (rc != 0 && !d->err[0])
				snprintf(d->err, sizeof(d->err), "%s", x.err);
			else if (x.moved && !d->err[0])
				snprintf(d->err, sizeof(d->err),
					 "%llu pinned pages left their frames during a transfer",
					 (unsigned long long)x.moved);
			d->status = rc == 0 && !x.moved ? DMA_DONE : DMA_ERROR;
			pthread_cond_broadcast(&d->cond);
		}
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* ---- the registers, on the vCPU thread ----------------------------------- */

size_t dma_buf_bytes(size_t data_bytes)
{
	return data_bytes < DMA_BUF_MAX ? data_bytes : DMA_BUF_MAX;
}

int dma_desc_check(uint64_t addr, uint64_t len, uint64_t buf, uint64_t dir,
		   uint64_t data_base, uint64_t data_bytes, size_t buf_size, char *err,
		   size_t errlen)
{
	if (dir != DMA_TO_MEMORY && dir != DMA_FROM_MEMORY)
		set_err(err, errlen, "bad direction %llu", (unsigned long long)dir);
	else if (len == 0 || len > DMA_MAX_BYTES)
		set_err(err, errlen, "transfer of %llu bytes (1 to %u)", (unsigned long long)len,
			DMA_MAX_BYTES);
	else if (addr < data_base || addr - data_base > data_bytes ||
		 data_bytes - (addr - data_base) < len)
		set_err(err, errlen,
			"transfer at guest-physical 0x%llx, %llu bytes: outside the data region",
			(unsigned long long)addr, (unsigned long long)len);
	else if (buf > buf_size || buf_size - buf < len)
		set_err(err, errlen,
			"buffer offset %llu, %llu bytes: outside the device's %zu-byte buffer",
			(unsigned long long)buf, (unsigned long long)len, buf_size);
	else
		return 0;
	return -1;
}

/* START: check the descriptor and hand it to the thread. d->mu held. */
static int start(struct dma_dev *d, uint64_t dir)
{
	const struct dma_desc *r = &d->regs;

	if (d->status == DMA_BUSY) {
		set_err(d->err, sizeof(d->err), "transfer started while one is in flight");
	} else if (dma_desc_check(r->addr, r->len, r->buf, dir, d->cfg.data_base,
				  region_bytes(d->cfg.mmu->region), d->buf_size, d->err,
				  sizeof(d->err)) == 0) {
		d->cur = *r;
		d->cur.dir = (uint32_t)dir;
		d->status = DMA_BUSY;
		pthread_cond_broadcast(&d->cond);
		return 0;
	}
	d->status = DMA_ERROR;
	return -1;
}

int dma_mmio(struct dma_dev *d, uint64_t off, bool write, uint8_t *data, uint32_t len)
{
	uint64_t val = 0;
	int rc = 0;

	if (len != 8 || off % 8 || off >= DMA_REGS_SIZE)
		return -2;
	if (write)
		memcpy(&val, data, sizeof(val));
	pthread_mutex_lock(&d->mu);
	switch (off) {
	case DMA_REG_ADDR: if (!write) goto bad; d->regs.addr = val; break;
	case DMA_REG_LEN: if (!write) goto bad; d->regs.len = val; break;
	case DMA_REG_BUF: if (!write) goto bad; d->regs.buf = val; break;
	case DMA_REG_START: if (!write) goto bad; rc = start(d, val); break;
	case DMA_REG_WAIT:
		if (!write)
			goto bad;
		while (d->status == DMA_BUSY)
			pthread_cond_wait(&d->cond, &d->mu);
		rc = d->status == DMA_ERROR ? -1 : 0;
		break;
	case DMA_REG_STATUS: if (write) goto bad; val = d->status; break;
	case DMA_REG_BUF_SIZE: if (write) goto bad; val = d->buf_size; break;
	default: goto bad;
	}
	pthread_mutex_unlock(&d->mu);
	if (!write)
		memcpy(data, &val, sizeof(val));
	return rc;
bad:
	pthread_mutex_unlock(&d->mu);
	return -2;
}

const char *dma_error(const struct dma_dev *d)
{
	return d->err;
}

struct dma_stats dma_stats(struct dma_dev *d)
{
	struct dma_stats s;

	pthread_mutex_lock(&d->mu);
	s = d->stats;
	pthread_mutex_unlock(&d->mu);
	return s;
}

/* ---- life cycle ---------------------------------------------------------- */

struct dma_dev *dma_create(const struct dma_config *cfg, char *err, size_t errlen)
{
	struct dma_dev *d = calloc(1, sizeof(*d));
	size_t bytes = region_bytes(cfg->mmu->region);

	if (!d) {
		set_err(err, errlen, "out of memory for the DMA device");
		return NULL;
	}
	d->cfg = *cfg;
	d->buf_size = dma_buf_bytes(bytes);
	d->buf = mmap(NULL, d->buf_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (d->buf == MAP_FAILED) {
		set_err(err, errlen, "DMA buffer of %zu bytes: %s", d->buf_size, strerror(errno));
		free(d);
		return NULL;
	}
	/* What the device has to give before the guest gave it anything. */
	for (size_t i = 0; i < d->buf_size / 8; i++) {
		uint64_t w = dma_word(i, DMA_TAG_DEVICE);

		memcpy(d->buf + i * 8, &w, sizeof(w));
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cond, NULL);
	if (pthread_create(&d->thread, NULL, device_main, d) != 0) {
		set_err(err, errlen, "cannot start the DMA device's thread");
		dma_destroy(d);
		return NULL;
	}
	d->thread_running = true;
	return d;
}

void dma_stop(struct dma_dev *d)
{
	if (!d || !d->thread_running)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	d->thread_running = false;
}

void dma_destroy(struct dma_dev *d)
{
	if (!d)
		return;
	dma_stop(d);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cond);
	munmap(d->buf, d->buf_size);
	free(d);
}
