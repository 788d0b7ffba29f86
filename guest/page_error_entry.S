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
	.text
	.global page_error_entry
	.type page_error_entry, @function
page_error_entry:
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
	andq $-16, %rsp           /* the fault may have come at any alignment */
	call guest_page_error
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
	ret                       /* to the faulting instruction: run it again */
	.size page_error_entry, . - page_error_entry

	.section .note.GNU-stack, "", @progbits
