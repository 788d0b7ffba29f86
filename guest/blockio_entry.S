/* SPDX-License-Identifier: MIT */
/*
 * The entry of the guest's upcall for a failed asynchronous read
 * (guest/blockio.c, docs/async.md). The host enters it between two
 * instructions, as it enters page_error_entry: it has pushed the RIP where
 * we were on our stack and set RIP here, in ring 3, every other register
 * as it was. We save what the C ABI lets a call clobber, call
 * guest_blockio_upcall() on an aligned stack, restore, and return to where
 * we were. The guest is built with -mno-red-zone: the push overwrote
 * nothing live.
 */
#include "upcall_entry.h"

UPCALL_ENTRY blockio_entry, guest_blockio_upcall

	.section .note.GNU-stack, "", @progbits
