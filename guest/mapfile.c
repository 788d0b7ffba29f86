// SPDX-License-Identifier: MIT
/*
 * The mapfile workload: the data region is a host file mapped by the host
 * (pflab run --map-file, docs/mapped-files.md). The guest checks that every
 * page faults in with the file's bytes, modifies pages whole and in part,
 * asks the host to write them back (HC_MSYNC), modifies more, checks
 * everything it now holds, and exits; the host writes the rest back at
 * exit. What the file must then hold is a function of its initial size
 * alone, which the tests compute on their side and compare byte for byte:
 *
 *   the file as written by the test: word i of page p is
 *     pattern(p, PFLAB_MAPFILE_VERSION, i), cut at the file's end
 *     (zeroes past it);
 *   phase 1  read every page, check it against that;
 *   phase 2  pages p % 3 == 0: a whole new version (pattern(p, 1, i));
 *            pages p % 3 == 1: one word, i = p % 512, set to the marker
 *            (the rest of the page must stay the file's);
 *   phase 3  HC_MSYNC of the whole region, again while a write fails;
 *   phase 4  pages p % 5 == 0: a whole new version (1 or 2);
 *   phase 5  check every page.
 */
#include "guest.h"

/* The word at byte offset off of the file the tests write, size bytes long. */
static uint64_t file_word(uint64_t size, uint32_t vpn, uint32_t i)
{
	uint64_t off = (uint64_t)vpn * PFLAB_PAGE_SIZE + (uint64_t)i * 8;
	uint64_t w = pattern(vpn, PFLAB_MAPFILE_VERSION, i);

	if (off >= size)
		return 0;
	if (size - off < 8) /* little endian: the bytes before the end */
		return w & ((1ull << ((size - off) * 8)) - 1);
	return w;
}

#define MSYNC_TRIES 8

static uint64_t marker(uint32_t vpn)
{
	return PFLAB_MAPFILE_MARKER | vpn;
}

/* What word i of page vpn holds now: the guest's last whole-page version,
 * else the file's bytes with phase 2's marker once it is written. */
static uint64_t expected(const struct guest *g, uint64_t size, uint32_t vpn, uint32_t i,
			 int marked)
{
	if (g->version[vpn])
		return pattern(vpn, g->version[vpn], i);
	if (marked && vpn % 3 == 1 && i == vpn % WORDS_PER_PAGE)
		return marker(vpn);
	return file_word(size, vpn, i);
}

static void check_all(struct guest *g, uint64_t size, int marked)
{
	for (uint32_t vpn = 0; vpn < g->npages; vpn++) {
		volatile uint64_t *w = page_addr(vpn);

		note_ref(g, vpn);
		for (uint32_t i = 0; i < WORDS_PER_PAGE; i++) {
			uint64_t want = expected(g, size, vpn, i, marked), got = w[i];

			if (got != want) {
				report_mismatch(g, vpn, i * 8, want, got);
				break;
			}
		}
	}
}

/* HC_MSYNC of the whole region. A write that fails leaves its page dirty
 * (docs/mapped-files.md): call again, as a program retries msync() after
 * EIO, until a call writes everything, or give up after 8 calls in a row
 * that failed. */
static void msync_all(struct guest *g)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	uint64_t written = 0, failed = 0;

	for (;;) {
		mb->msync_first = 0;
		mb->msync_count = 0;
		hcall(HC_MSYNC);
		written += mb->msync_written;
		if (!mb->msync_errno)
			break;
		if (++failed == MSYNC_TRIES) {
			puts_serial("pflab guest: msync failed 8 times in a row: errno ");
			put_u64(mb->msync_errno);
			puts_serial("\n");
			g->errors++;
			break;
		}
	}
	puts_serial("pflab guest: msync wrote ");
	put_u64(written);
	puts_serial(" pages back to the file");
	if (failed) {
		puts_serial(", after ");
		put_u64(failed);
		puts_serial(" calls with a write error");
	}
	puts_serial("\n");
}

void wl_mapfile(struct guest *g)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	uint64_t size = mb->map_bytes;

	check_all(g, size, 0);
	for (uint32_t vpn = 0; vpn < g->npages; vpn++) {
		if (vpn % 3 == 0) {
			page_write(g, vpn);
		} else if (vpn % 3 == 1) {
			note_ref(g, vpn);
			page_addr(vpn)[vpn % WORDS_PER_PAGE] = marker(vpn);
		}
	}

	msync_all(g);
	for (uint32_t vpn = 0; vpn < g->npages; vpn += 5)
		page_write(g, vpn);
	check_all(g, size, 1);
}
