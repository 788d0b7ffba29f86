/* SPDX-License-Identifier: MIT */
/*
 * The entry of the guest's page-in error handler (docs/faults.md). The host
 * enters it like a signal handler: it has pushed the RIP of the faulting
 * instruction on our stack and set RIP here, in ring 3, with every other
 * register as the instruction found them. We save what the C ABI lets a
 * call clobber, call guest_page_error() on an aligned stack, restore, and
 * return to the faulting instruction, which then runs again: the retry.
 * The guest is built with -mno-red-zone, so the host's push below RSP
 * overwrites nothing live.
 */
#include "upcall_entry.h"

UPCALL_ENTRY page_error_entry, guest_page_error

	.section .note.GNU-stack, "", @progbits
