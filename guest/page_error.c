// SPDX-License-Identifier: MIT
/*
 * The guest's page-in error handler (docs/faults.md): what a program does
 * with the SIGBUS a kernel sends when it cannot read a page back from swap.
 * The host delivers the error instead of mapping the page, and enters
 * page_error_entry (page_error_entry.S), which calls guest_page_error().
 *
 * It reports the error to the host (HC_PAGE_ERROR) and returns, so the
 * faulting instruction runs again and the host tries the page-in again: a
 * transient error costs one retry and no data. An error that persists on
 * the same page GIVE_UP_AFTER times in a row is not transient: the guest
 * says so and exits with status 2, having read no wrong data.
 */
#include "guest.h"

#define GIVE_UP_AFTER 8

static uint64_t handled;
static uint64_t last_page = UINT64_MAX;
static uint32_t repeats;

void guest_page_error(void);

void guest_page_error(void)
{
	volatile struct pflab_mailbox *mb = MAILBOX;
	uint64_t page = mb->pgerr_addr & ~(uint64_t)(PFLAB_PAGE_SIZE - 1);

	handled++;
	repeats = page == last_page ? repeats + 1 : 1;
	last_page = page;
	mb->pgerr_ack = mb->pgerr_count;
	hcall(HC_PAGE_ERROR);
	if (repeats < GIVE_UP_AFTER)
		return; /* to the faulting instruction: retry */

	puts_serial("pflab guest: page-in of page ");
	put_u64((page - PFLAB_DATA_BASE) / PFLAB_PAGE_SIZE);
	puts_serial(" failed ");
	put_u64(repeats);
	puts_serial(" times in a row: giving up\n");
	mb->status = 2;
	hcall(HC_EXIT);
	for (;;)
		__asm__ volatile("" : : : "memory"); /* the host stops us at HC_EXIT */
}

void page_error_register(void)
{
	MAILBOX->pgerr_handler = (uint64_t)(uintptr_t)page_error_entry;
}

uint64_t page_errors_handled(void)
{
	return handled;
}
