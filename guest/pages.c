// SPDX-License-Identifier: MIT
/*
 * The data region's pages as the workloads use them: a write stores a new
 * version of a page's pattern (guest/abi.h), a check compares the page with
 * the version last written and reports the first mismatch to the host.
 * Declared in guest.h.
 */
#include "guest.h"
#include "workload_gen.h"

void report_mismatch(struct guest *g, uint32_t vpn, uint32_t offset, uint64_t expected,
		     uint64_t got)
{
	volatile struct pflab_mailbox *mb = MAILBOX;

	if (g->errors++ < 4) {
		mb->bad_page = vpn;
		mb->bad_offset = offset;
		mb->expected = expected;
		mb->got = got;
		hcall(HC_VERIFY_FAIL);
	}
}

void page_write(struct guest *g, uint32_t vpn)
{
	page_write_at(g, page_addr(vpn), vpn);
}

void page_write_at(struct guest *g, volatile uint64_t *w, uint32_t vpn)
{
	uint32_t v = ++g->version[vpn];

	note_ref(g, vpn);
	wlg_fill(w, WORDS_PER_PAGE, vpn, v);
}

void page_check(struct guest *g, uint32_t vpn)
{
	page_check_at(g, page_addr(vpn), vpn);
}

void page_check_at(struct guest *g, volatile uint64_t *w, uint32_t vpn)
{
	uint32_t v = g->version[vpn], i;
	uint64_t want, got;

	note_ref(g, vpn);
	i = wlg_verify(w, WORDS_PER_PAGE, vpn, v, &want, &got);
	if (i < WORDS_PER_PAGE)
		report_mismatch(g, vpn, i * 8, want, got); /* one report per page is enough */
}
