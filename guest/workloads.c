// SPDX-License-Identifier: MIT
/*
 * The synthetic workloads: the generators of workload_gen.h (shared with
 * the host's `pflab proc`, vmm/uvm/workload.c) on the guest's data region,
 * and the guest's own benchmark and bad workloads.
 */
#include "guest.h"
#include "workload_gen.h"

/* The generators' guest half: a slice's page vpn is the data region's
 * page g->first + vpn. scan, random, stride and list work on the vCPU's
 * (or the green thread's) slice, pages [g->first, g->first + g->npages)
 * (--vcpus, --threads); matmul and copy on the whole region (g->first 0). */
static void gen_write(void *ctx, uint32_t vpn)
{
	struct guest *g = ctx;

	page_write(g, g->first + vpn);
}

static void gen_check(void *ctx, uint32_t vpn)
{
	struct guest *g = ctx;

	page_check(g, g->first + vpn);
}

static void gen_ref(void *ctx, uint32_t vpn)
{
	struct guest *g = ctx;

	note_ref(g, g->first + vpn);
}

static void gen_mismatch(void *ctx, uint32_t vpn, uint32_t off, uint64_t want, uint64_t got)
{
	struct guest *g = ctx;

	report_mismatch(g, g->first + vpn, off, want, got);
}

/* One instruction that crosses every page, faulting and restarting in the
 * middle (docs/restart.md). */
static void copy_rep_movsb(volatile void *dst, const volatile void *src, uint64_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static const struct wlg_ops guest_ops = {
	.write = gen_write, .check = gen_check, .ref = gen_ref, .mismatch = gen_mismatch,
	.copy = copy_rep_movsb,
};

static struct wlg gen(struct guest *g)
{
	return (struct wlg){
		.ops = &guest_ops, .ctx = g, .first = g->first, .npages = g->npages,
		.base = (volatile uint8_t *)page_addr(g->first), .page_size = PFLAB_PAGE_SIZE,
		.passes = g->passes, .rng = &g->rng, .version = g->version + g->first,
	};
}

/* The list's order, in the wired region (bss): each slice uses its part. */
static uint32_t order_all[PFLAB_DATA_MAX_PAGES];

void wl_generated(struct guest *g, uint32_t wl)
{
	struct wlg x = gen(g);

	switch (wl) {
	case WL_SCAN: wlg_scan(&x); break;
	case WL_RANDOM: wlg_random(&x); break;
	case WL_STRIDE: wlg_stride(&x); break;
	case WL_MATMUL: wlg_matmul(&x); break;
	case WL_LIST: wlg_list(&x, order_all + g->first); break;
	case WL_COPY: wlg_copy(&x); break;
	default: wl_bad(wl); break;
	}
}

/* Benchmark: first-touch every page (one write), then make bare exits. */
void wl_touch(struct guest *g, uint32_t nops)
{
	for (uint32_t vpn = 0; vpn < g->npages; vpn++) {
		note_ref(g, vpn);
		*page_addr(vpn) = 0;
	}
	for (uint32_t k = 0; k < nops; k++)
		hcall(HC_NOP);
}

void wl_bad(uint32_t which)
{
	switch (which) {
	case WL_BAD_OOB:
		puts_serial("pflab guest: reading unbacked memory\n");
		(void)*(volatile uint64_t *)(uintptr_t)PFLAB_OOB_ADDR;
		break;
	case WL_BAD_UD:
		puts_serial("pflab guest: executing an undefined opcode\n");
		__asm__ volatile("ud2");
		break;
	case WL_BAD_LOOP:
		puts_serial("pflab guest: spinning forever\n");
		for (;;)
			__asm__ volatile("" : : : "memory");
	default:
		puts_serial("pflab guest: unknown workload\n");
		break;
	}
}
