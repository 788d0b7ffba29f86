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
	.text
	.global blockio_entry
	.type blockio_entry, @function
blockio_entry:
	pushfq
	cld
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
	andq $-16, %rsp
	call guest_blockio_upcall
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
	.size blockio_entry, . - blockio_entry

	.section .note.GNU-stack, "", @progbits
