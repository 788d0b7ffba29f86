// SPDX-License-Identifier: MIT
/*
 * The dma workload (docs/dma.md): move the first half of the data region
 * through the host's DMA device and back, in transfers of DMA_CHUNK_PAGES
 * pages, while the CPU works on the second half, and check every word both
 * ways. Per transfer chunk and pass:
 *
 *   1. device -> memory: the chunk must then hold the device's data
 *      (pass 0: dma_word(i, DMA_TAG_DEVICE)), or what the guest gave the
 *      device in the pass before (dma_word(i, DMA_TAG_GUEST));
 *   2. the guest writes dma_word(i, DMA_TAG_GUEST) over the chunk, and
 *      memory -> device: the host checks what its buffer received;
 *   3. the guest zeroes the chunk, so that the next pass's step 1 shows
 *      whether the device really brought the data back.
 *
 * While each transfer is in flight, the CPU rewrites as many pages of its
 * half as the transfer has (checking each first): its faults compete with
 * the device's for frames.
 */
#include "dma_abi.h"
#include "guest.h"

static inline void dma_store(uint32_t reg, uint64_t val)
{
	__asm__ volatile("movq %0, (%1)" : : "r"(val), "r"((uintptr_t)PFLAB_DOORBELL_DMA + reg)
			 : "memory");
}

static inline uint64_t dma_load(uint32_t reg)
{
	uint64_t val;

	__asm__ volatile("movq (%1), %0" : "=r"(val) : "r"((uintptr_t)PFLAB_DOORBELL_DMA + reg)
			 : "memory");
	return val;
}

struct cpu_work {
	uint32_t first, npages; /* the CPU's half of the data region */
	uint32_t next;          /* its next page, round robin */
};

static void cpu_step(struct guest *g, struct cpu_work *w)
{
	uint32_t vpn = w->first + w->next;

	if (g->version[vpn])
		page_check(g, vpn);
	page_write(g, vpn);
	w->next = (w->next + 1) % w->npages;
}

/* One transfer of pages [vpn, vpn + n) to or from the same offset of the
 * device's buffer; the CPU works until it is programmed to wait. */
static void transfer(struct guest *g, struct cpu_work *w, uint32_t vpn, uint32_t n, uint32_t dir)
{
	dma_store(DMA_REG_ADDR, PFLAB_DATA_BASE + (uint64_t)vpn * PFLAB_PAGE_SIZE);
	dma_store(DMA_REG_LEN, (uint64_t)n * PFLAB_PAGE_SIZE);
	dma_store(DMA_REG_BUF, (uint64_t)vpn * PFLAB_PAGE_SIZE);
	dma_store(DMA_REG_START, dir);
	for (uint32_t k = 0; k < n; k++)
		cpu_step(g, w);
	dma_store(DMA_REG_WAIT, 1);
	if (dma_load(DMA_REG_STATUS) != DMA_DONE)
		report_mismatch(g, vpn, 0, DMA_DONE, dma_load(DMA_REG_STATUS));
}

static void chunk_check(struct guest *g, uint32_t vpn, uint32_t n, uint64_t tag)
{
	for (uint32_t p = vpn; p < vpn + n; p++) {
		volatile uint64_t *w = page_addr(p);

		note_ref(g, p);
		for (uint32_t i = 0; i < WORDS_PER_PAGE; i++) {
			uint64_t want = dma_word((uint64_t)p * WORDS_PER_PAGE + i, tag);

			if (w[i] != want) {
				report_mismatch(g, p, i * 8, want, w[i]);
				break;
			}
		}
	}
}

static void chunk_fill(struct guest *g, uint32_t vpn, uint32_t n, int zero)
{
	for (uint32_t p = vpn; p < vpn + n; p++) {
		volatile uint64_t *w = page_addr(p);

		note_ref(g, p);
		for (uint32_t i = 0; i < WORDS_PER_PAGE; i++)
			w[i] = zero ? 0 : dma_word((uint64_t)p * WORDS_PER_PAGE + i, DMA_TAG_GUEST);
	}
}

void wl_dma(struct guest *g)
{
	uint64_t buf_pages = dma_load(DMA_REG_BUF_SIZE) / PFLAB_PAGE_SIZE;
	uint32_t half = g->npages / 2;
	struct cpu_work w = { .first = half, .npages = g->npages - half };

	if (half > buf_pages)
		half = (uint32_t)buf_pages;
	if (half == 0) {
		puts_serial("pflab guest: dma needs at least 2 pages and a device (--dma)\n");
		g->errors++;
		return;
	}
	for (uint32_t pass = 0; pass < g->passes; pass++) {
		for (uint32_t vpn = 0; vpn < half; vpn += DMA_CHUNK_PAGES) {
			uint32_t n = half - vpn < DMA_CHUNK_PAGES ? half - vpn : DMA_CHUNK_PAGES;

			transfer(g, &w, vpn, n, DMA_TO_MEMORY);
			chunk_check(g, vpn, n, pass ? DMA_TAG_GUEST : DMA_TAG_DEVICE);
			chunk_fill(g, vpn, n, 0);
			transfer(g, &w, vpn, n, DMA_FROM_MEMORY);
			chunk_fill(g, vpn, n, 1);
		}
	}
}
