// SPDX-License-Identifier: MIT
/*
 * keep-write and keep-check: pages that outlive the run (pflab run
 * --pager-keep, docs/external-pager.md). keep-write writes version
 * V = 1 + seed % 1000 of every page, says so, then checks them all
 * passes - 1 times; keep-check finds each page either at version V (kept)
 * or all zeros (fresh), says how many of each, and counts anything else as
 * a mismatch.
 */
#include "guest.h"

static uint32_t keep_version(void)
{
	return 1 + (uint32_t)(MAILBOX->seed % 1000);
}

void wl_keep_write(struct guest *g)
{
	for (uint32_t pass = 0; pass < g->passes; pass++) {
		/* Each pass writes the same bytes again: pages are dirty
		 * whenever the run ends (or is killed). */
		for (uint32_t vpn = g->first; vpn < g->first + g->npages; vpn++) {
			g->version[vpn] = keep_version() - 1;
			page_write(g, vpn);
			page_check(g, vpn);
		}
		if (pass == 0) {
			puts_serial("pflab guest: keep-write: ");
			put_u64(g->npages);
			puts_serial(" pages written\n");
		}
	}
}

void wl_keep_check(struct guest *g)
{
	uint64_t kept = 0, fresh = 0;

	for (uint32_t vpn = g->first; vpn < g->first + g->npages; vpn++) {
		volatile uint64_t *w = page_addr(vpn);
		uint32_t i = 0;

		while (i < WORDS_PER_PAGE && w[i] == 0)
			i++;
		if (i == WORDS_PER_PAGE) {
			note_ref(g, vpn);
			fresh++;
			continue;
		}
		g->version[vpn] = keep_version();
		page_check(g, vpn);
		kept++;
	}
	puts_serial("pflab guest: keep-check: ");
	put_u64(kept);
	puts_serial(" kept, ");
	put_u64(fresh);
	puts_serial(" fresh\n");
}
