/* SPDX-License-Identifier: MIT */
/*
 * UPCALL_ENTRY name, handler: the entry of an upcall from the host, for
 * the assembly files (page_error_entry.S, blockio_entry.S, sched_entry.S).
 * The host enters it like a signal handler: it has pushed the RIP where
 * the guest was (the faulting instruction, or between two instructions) on
 * the guest's stack and set RIP here, in ring 3, with every other register
 * as it was. The entry saves what the C ABI lets a call clobber, calls
 * handler() on an aligned stack with DF clear, restores, and returns to
 * that RIP (a faulting instruction then runs again: the retry). The guest
 * is built with -mno-red-zone, so the host's push below RSP overwrites
 * nothing live.
 */
#ifndef PFLAB_GUEST_UPCALL_ENTRY_H
#define PFLAB_GUEST_UPCALL_ENTRY_H

.macro UPCALL_ENTRY name, handler
	.text
	.global \name
	.type \name, @function
\name:
	pushfq
	cld                       /* the C ABI wants DF clear; popfq restores it */
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %rbp
	movq %rsp, %rbp
	andq $-16, %rsp           /* the upcall may have come at any alignment */
	call \handler
	movq %rbp, %rsp
	popq %rbp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	popfq
	ret
	.size \name, . - \name
.endm

#endif /* PFLAB_GUEST_UPCALL_ENTRY_H */
