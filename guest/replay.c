// SPDX-License-Identifier: MIT
/*
 * The trace replayer: one pass over the page per reference, loads for a
 * read and stores for a write, first word first. Only that first access can
 * trap: the rest find the page mapped as the first left it. That is what
 * makes its faults comparable with the simulator's misses: each reference
 * can trap at most once, with the reference's own kind, and a reference to a
 * page whose referenced bit the host has cleared (by unmapping it) traps
 * exactly as the simulator's bit would be set.
 *
 * The page holds pattern(page, version, word) in every word, as the
 * workloads' pages do (page_write_at, page_check_at): a read checks every
 * word, a write stores the next version in every word. Before each access
 * the reference's index goes to the mailbox with a plain store, for the host
 * to read if the access faults. The run's reference count is the trace's
 * length, which the host knows.
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
			if (r & PFLAB_REF_WRITE)
				page_write_at(g, w, vpn);
			else
				page_check_at(g, w, vpn);
		}
	}
}
