// SPDX-License-Identifier: MIT
/*
 * The guest's main: ask the host which workload to run, run it, report.
 * Everything here runs in long mode on the guest's own page tables. The
 * helpers the workloads share are in lib.c (memory, console, PRNG) and
 * pages.c (writing and checking data pages).
 */
#include "guest.h"
#include "workload_gen.h"

/* Per-page write counts, in the wired region (bss): the guest's memory of
 * what each data page must hold. */
static uint32_t versions[PFLAB_DATA_MAX_PAGES];

static const char *const names[WL_NR] = PFLAB_WORKLOAD_NAMES;

void guest_main(void);

void guest_main(void)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	struct guest g = { .version = versions, .last_vpn = UINT32_MAX };
	uint32_t wl;

	page_error_register();
	hcall(HC_CONFIG);
	wl = mb->workload;
	g.npages = mb->npages;
	g.first = mb->first_page;
	g.passes = mb->passes ? mb->passes : 1;
	g.rng = wlg_seed(mb->seed); /* xorshift needs nonzero */

	puts_serial("pflab guest: workload ");
	puts_serial(wl < WL_NR && names[wl] ? names[wl] : "?");
	puts_serial(", ");
	put_u64(g.npages);
	puts_serial(" pages\n");

	if (g.npages > PFLAB_DATA_MAX_PAGES)
		g.npages = 0;
	if (mb->threads > 1 || mb->apf)
		sched_run(&g, wl); /* green threads: guest/sched.c */
	else switch (wl) {
	case WL_SCAN: case WL_RANDOM: case WL_STRIDE: case WL_MATMUL: case WL_COPY:
		wl_generated(&g, wl); break;
	case WL_LIST: if (mb->prefetch) wl_list_prefetch(&g, mb->prefetch & ~PFLAB_PREFETCH_GIVEN); else wl_generated(&g, wl); break;
	case WL_TRACE: wl_trace(&g); break;
	case WL_TOUCH: wl_touch(&g, mb->nops); break;
	case WL_KEEP_WRITE: wl_keep_write(&g); break;
	case WL_KEEP_CHECK: wl_keep_check(&g); break;
	case WL_RESTART_MOVSB: case WL_RESTART_REPMOVSB: case WL_RESTART_PUSH:
	case WL_RESTART_STRADDLE: case WL_RESTART_FETCH: wl_restart(&g, wl); break;
	case WL_MAPFILE: wl_mapfile(&g); break;
	case WL_DMA: wl_dma(&g); break;
	case WL_SHARED: wl_shared(&g); break;
	case WL_GATHER: wl_gather(&g, mb->prefetch & ~PFLAB_PREFETCH_GIVEN); break;
	case WL_BLOCKIO: wl_blockio(&g); break;
	case WL_PREFETCH_SCRIPT: wl_prefetch_script(&g); break;
	case WL_DSM_SC: case WL_DSM_COUNTER: case WL_DSM_FALSE: case WL_DSM_APART: wl_dsm(&g, wl); break;
	default: wl_bad(wl); break;
	}

	if (page_errors_handled()) {
		puts_serial("pflab guest: ");
		put_u64(page_errors_handled());
		puts_serial(" page-in errors delivered, each reported and retried\n");
	}
	puts_serial("pflab guest: ");
	put_u64(g.refs);
	puts_serial(" references, ");
	put_u64(g.errors);
	puts_serial(g.errors ? " MISMATCHES: data verification FAILED\n"
			     : " mismatches: data verified\n");
	mb->refs = g.refs;
	mb->errors = g.errors;
	mb->status = g.errors ? 1 : 0;
	hcall(HC_EXIT);
	for (;;)
		__asm__ volatile("hlt");
}
