// SPDX-License-Identifier: MIT
/*
 * The trace replayer: exactly one memory access per reference, a load for a
 * read and a store for a write, to the first word of the page. That is what
 * makes its faults comparable with the simulator's misses: each reference
 * can trap at most once, and a reference to a page whose referenced bit the
 * host has cleared (by unmapping it) traps exactly as the simulator's bit
 * would be set.
 *
 * The word holds pattern(page, version, 0): a read checks it, a write
 * stores the next version. Before each access the reference's index goes to
 * the mailbox with a plain store, for the host to read if the access faults.
 */
#include "guest.h"

void wl_trace(struct guest *g)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	const volatile uint32_t *buf = (const volatile uint32_t *)(uintptr_t)PFLAB_TRACE_BUF;

	for (;;) {
		uint64_t base;
		uint32_t n;

		hcall(HC_TRACE_NEXT);
		n = mb->trace_count;
		base = mb->trace_base;
		if (n == 0 || n > PFLAB_TRACE_BUF_REFS)
			break;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t r = buf[i], vpn = r & ~PFLAB_REF_WRITE;
			volatile uint64_t *w = page_addr(vpn);

			if (vpn >= g->npages) {
				report_mismatch(g, vpn, 0, g->npages, vpn);
				return;
			}
			mb->ref_index = base + i;
			if (r & PFLAB_REF_WRITE) {
				*w = pattern(vpn, ++g->version[vpn], 0);
			} else {
				uint64_t got = *w, want = pattern(vpn, g->version[vpn], 0);

				if (got != want)
					report_mismatch(g, vpn, 0, want, got);
			}
			g->refs++;
		}
	}
}
