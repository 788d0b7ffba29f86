// SPDX-License-Identifier: MIT
/*
 * The guest's main: ask the host which workload to run, run it, report.
 * Everything here runs in long mode on the guest's own page tables.
 */
#include "guest.h"

/* Per-page write counts, in the wired region (bss): the guest's memory of
 * what each data page must hold. */
static uint32_t versions[PFLAB_DATA_MAX_PAGES];

/* String instructions, so that the compiler cannot turn these back into
 * calls to themselves. */
void *memset(void *d, int c, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

void puts_serial(const char *s)
{
	while (*s)
		console_putc(*s++);
}

void put_u64(uint64_t v)
{
	char buf[21], *p = buf + sizeof(buf) - 1;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_serial(p);
}

/* xorshift64*: small, seedable, good enough to pick pages. */
uint64_t rand64(struct guest *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dull;
}

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
	for (uint32_t i = 0; i < WORDS_PER_PAGE; i++)
		w[i] = pattern(vpn, v, i);
}

void page_check(struct guest *g, uint32_t vpn)
{
	page_check_at(g, page_addr(vpn), vpn);
}

void page_check_at(struct guest *g, volatile uint64_t *w, uint32_t vpn)
{
	uint32_t v = g->version[vpn];

	note_ref(g, vpn);
	for (uint32_t i = 0; i < WORDS_PER_PAGE; i++) {
		uint64_t got = w[i], want = pattern(vpn, v, i);

		if (got != want) {
			report_mismatch(g, vpn, i * 8, want, got);
			return; /* one report per page is enough */
		}
	}
}

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
	g.rng = mb->seed * 0x9e3779b97f4a7c15ull + 1; /* xorshift needs nonzero */

	puts_serial("pflab guest: workload ");
	puts_serial(wl < WL_NR && names[wl] ? names[wl] : "?");
	puts_serial(", ");
	put_u64(g.npages);
	puts_serial(" pages\n");

	if (g.npages > PFLAB_DATA_MAX_PAGES)
		g.npages = 0;
	switch (wl) {
	case WL_SCAN: wl_scan(&g); break;
	case WL_RANDOM: wl_random(&g); break;
	case WL_STRIDE: wl_stride(&g); break;
	case WL_MATMUL: wl_matmul(&g); break;
	case WL_LIST: wl_list(&g); break;
	case WL_COPY: wl_copy(&g); break;
	case WL_TRACE: wl_trace(&g); break;
	case WL_TOUCH: wl_touch(&g, mb->nops); break;
	case WL_RESTART_MOVSB: case WL_RESTART_REPMOVSB: case WL_RESTART_PUSH:
	case WL_RESTART_STRADDLE: case WL_RESTART_FETCH: wl_restart(&g, wl); break;
	case WL_MAPFILE: wl_mapfile(&g); break;
	case WL_DMA: wl_dma(&g); break;
	case WL_SHARED: wl_shared(&g); break;
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
