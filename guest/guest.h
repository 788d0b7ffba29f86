/* SPDX-License-Identifier: MIT */
/* The guest's internal interface: port I/O, the console, the data region
 * and its verification, shared by main.c (the entry and the dispatcher) and
 * the workload files. The helpers are defined in lib.c (memset, memcpy,
 * console output, the PRNG) and pages.c (data pages written and checked). */
#ifndef PFLAB_GUEST_H
#define PFLAB_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

/* This vCPU's mailbox: entry.S points FS at a word that holds its address. */
static inline volatile struct pflab_mailbox *guest_mailbox(void)
{
	uint64_t m;

	__asm__("movq %%fs:0, %0" : "=r"(m));
	return (volatile struct pflab_mailbox *)(uintptr_t)m;
}
#define MAILBOX guest_mailbox()
#define WORDS_PER_PAGE (PFLAB_PAGE_SIZE / 8)

/* The standalone guest under QEMU (guest/standalone.c): pvh_start_info is
 * the PVH loader's hvm_start_info, set by start32 (entry.S); 0 under
 * pflab's VMM, which enters at start64. Standalone, the console is COM1
 * and the hypercalls are served by the guest itself. */
extern uint64_t pvh_start_info;
void standalone_out(uint16_t port, uint32_t value, uint32_t width);
void standalone_hcall(enum pflab_hcall nr);

/* One byte to the console: a store to the doorbell page, which exits. */
static inline void console_putc(char c)
{
	if (pvh_start_info) {
		standalone_out(PFLAB_PORT_SERIAL, (uint8_t)c, 1);
		return;
	}
	__asm__ volatile("movb %0, (%1)" : : "q"(c), "r"((uintptr_t)PFLAB_DOORBELL_CONS)
			 : "memory");
}

/* A hypercall: arguments are already in the mailbox. The memory clobber
 * keeps the compiler from moving mailbox stores across the exit. */
static inline void hcall(enum pflab_hcall nr)
{
	if (pvh_start_info) {
		standalone_hcall(nr);
		return;
	}
	__asm__ volatile("movl %0, (%1)" : : "r"((uint32_t)nr), "r"((uintptr_t)PFLAB_DOORBELL_HCALL)
			 : "memory");
}

static inline volatile uint64_t *page_addr(uint32_t vpn)
{
	return (volatile uint64_t *)(uintptr_t)(PFLAB_DATA_BASE + (uint64_t)vpn * PFLAB_PAGE_SIZE);
}

/* The run's state: what the workloads count and check. */
struct guest {
	uint32_t first;    /* this vCPU's slice: pages [first, first + npages) */
	uint32_t npages;
	uint32_t passes;
	uint64_t rng;
	uint64_t refs;     /* page references, immediate repeats merged */
	uint32_t last_vpn; /* for that merging */
	uint64_t errors;
	uint32_t *version; /* per page: writes so far; 0 means never written (zeroes) */
	uint32_t yield;    /* a green thread (guest/sched.c): let the next run before each reference */
};

void sched_yield_thread(void);

/* Count a reference to page vpn unless it repeats the previous one. */
static inline void note_ref(struct guest *g, uint32_t vpn)
{
	if (g->yield)
		sched_yield_thread();
	if (vpn != g->last_vpn) {
		g->refs++;
		g->last_vpn = vpn;
	}
}

/* The PRNG: lib.c. */
uint64_t rand64(struct guest *g);
static inline uint32_t rand_below(struct guest *g, uint32_t n)
{
	return (uint32_t)(rand64(g) % n);
}

/* The content of word i of page vpn at version v (guest/abi.h). */
static inline uint64_t pattern(uint32_t vpn, uint32_t v, uint32_t i)
{
	return pflab_pattern(vpn, v, i);
}

/* Whole-page write (a new version) and check: pages.c. */
void page_write(struct guest *g, uint32_t vpn);
void page_check(struct guest *g, uint32_t vpn);
/* The same through another mapping w of data page vpn (guest/shared.c). */
void page_write_at(struct guest *g, volatile uint64_t *w, uint32_t vpn);
void page_check_at(struct guest *g, volatile uint64_t *w, uint32_t vpn);
/* Report one mismatch to the host (the first few only) and count it. */
void report_mismatch(struct guest *g, uint32_t vpn, uint32_t offset, uint64_t expected,
		     uint64_t got);

/* Console output: lib.c. */
void puts_serial(const char *s);
void put_u64(uint64_t v);

/* Workloads: workloads.c; the trace replayer: replay.c. */
/* scan, random, stride, matmul, list, copy: workload_gen.h's generators on
 * g's pages. */
void wl_generated(struct guest *g, uint32_t wl);
void wl_touch(struct guest *g, uint32_t nops);
void wl_trace(struct guest *g);
void wl_keep_write(struct guest *g);
void wl_keep_check(struct guest *g);
/* The DSM workloads: dsm.c. */
void wl_dsm(struct guest *g, uint32_t wl);
void wl_bad(uint32_t which);
/* The restart scenarios: restart.c. */
void wl_restart(struct guest *g, uint32_t wl);
/* A host file mapped on the data region: mapfile.c. */
void wl_mapfile(struct guest *g);
/* The DMA device's workload: dma.c. */
void wl_dma(struct guest *g);
/* prefetch_page()'s users: gather.c; page-level asynchronous I/O: blockio.c. */
void wl_gather(struct guest *g, uint32_t dist);
void wl_list_prefetch(struct guest *g, uint32_t dist);
void wl_blockio(struct guest *g);
void wl_prefetch_script(struct guest *g);

/* Address spaces of the guest's own, switched by the host (aspace.c): page
 * tables built in ring 3 from a pool of wired pages, which the boot tables
 * map user-writable with guest-virtual = guest-physical. */
struct pt_pool {
	uint64_t (*page)[512];  /* page-aligned tables */
	uint32_t used, npages;
};
struct aspace {
	struct pt_pool *pool;
	uint64_t *pml4;
};
int aspace_init(struct aspace *as, struct pt_pool *pool);
int aspace_map(struct aspace *as, uint64_t va, uint64_t pa, uint64_t bytes);
void aspace_enter(const struct aspace *as);
/* Two address spaces over one shared region: shared.c. */
void wl_shared(struct guest *g);

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* Green threads and async page faults (--threads, --async-pf): sched.c.
 * Runs workload wl on mb->threads threads, each on its part of g's slice,
 * and adds their references and mismatches into g. */
void sched_run(struct guest *g, uint32_t wl);

/* Page-in errors the host delivers (page_error.c, docs/faults.md). */
void page_error_entry(void);
void page_error_register(void);
uint64_t page_errors_handled(void);

#endif /* PFLAB_GUEST_H */
