// SPDX-License-Identifier: MIT
/*
 * The blockio workload (issue 10, docs/async.md): page-level asynchronous
 * I/O on the data region, through the hypercalls read_pages(first, count),
 * write_pages(first, count) and sync_pages() (vmm/blockio.h):
 *
 *   1. write every page (a new version of its pattern);
 *   2. write_pages() the whole slice (write-behind: it returns at once),
 *      then sync_pages(), which returns the first write-behind error since
 *      the last sync, as fsync does; after an error the data is still
 *      dirty and resident: write_pages() and sync_pages() again, until a
 *      sync reports nothing (at most 8 rounds);
 *   3. drop every page (evicted now: they go to the store);
 *   4. mark 1; read_pages() the slice in batches of --read-batch pages
 *      (0: none, every page faults in on its own), then check every page
 *      in order: a page still blocked blocks us until its read is in;
 *      mark 2.
 *
 * A failed read of a read_pages request comes back asynchronously, as an
 * upcall naming the request and the page (blockio_entry.S): we print it
 * and go on; the page is not mapped, so touching it faults and reads it
 * again (or delivers a page-in error, docs/faults.md): never wrong data.
 */
#include "guest.h"

#define SYNC_ROUNDS 8

static uint64_t upcalls;

void blockio_entry(void);
void guest_blockio_upcall(void);

/* The upcall (the host entered blockio_entry): report, acknowledge. */
void guest_blockio_upcall(void)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	uint64_t n = mb->bio_upcalls;

	upcalls++;
	puts_serial("pflab guest: upcall: read_pages request ");
	put_u64(mb->bio_up_req);
	puts_serial(", page ");
	put_u64(mb->bio_up_page);
	puts_serial(" failed: errno ");
	put_u64(mb->bio_up_errno);
	puts_serial("\n");
	mb->bio_ack = n;
}

static uint32_t range_call(enum pflab_hcall nr, uint32_t first, uint32_t count)
{
	volatile struct pflab_mailbox *mb = MAILBOX;

	mb->bio_first = first;
	mb->bio_count = count;
	hcall(nr);
	return mb->bio_queued;
}

static uint32_t sync_pages(uint32_t *page)
{
	volatile struct pflab_mailbox *mb = MAILBOX;

	hcall(HC_SYNC_PAGES);
	*page = mb->bio_err_page;
	return mb->bio_errno;
}

static void mark(uint64_t which)
{
	MAILBOX->mark = which;
	hcall(HC_MARK);
}

void wl_blockio(struct guest *g)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	uint32_t n = g->npages, first = g->first, batch = mb->read_batch, page, e;

	mb->bio_handler = (uint64_t)(uintptr_t)blockio_entry;
	for (uint32_t vpn = 0; vpn < n; vpn++)
		page_write(g, first + vpn);

	for (uint32_t round = 0; round < SYNC_ROUNDS; round++) {
		range_call(HC_WRITE_PAGES, first, n);
		e = sync_pages(&page);
		if (!e)
			break;
		puts_serial("pflab guest: sync_pages: errno ");
		put_u64(e);
		puts_serial(" on page ");
		put_u64(page);
		puts_serial(", its data still dirty: writing again\n");
	}

	range_call(HC_DROP_PAGES, first, n);
	mark(1);
	if (batch)
		for (uint32_t vpn = 0; vpn < n; vpn += batch)
			range_call(HC_READ_PAGES, first + vpn, n - vpn < batch ? n - vpn : batch);
	for (uint32_t vpn = 0; vpn < n; vpn++)
		page_check(g, first + vpn);
	mark(2);
	if (upcalls) {
		puts_serial("pflab guest: ");
		put_u64(upcalls);
		puts_serial(" failed reads reported by upcall, their pages read again\n");
	}
}
