/* SPDX-License-Identifier: MIT */
/*
 * The green threads' two pieces of assembly (guest/sched.c):
 *
 *   sched_switch(save, rsp)  save the callee-saved registers on the current
 *            stack and the stack pointer in *save, load rsp, restore the
 *            registers saved there and return on that stack: a cooperative
 *            switch, the System V ABI's caller-saved registers being dead
 *            at a call anyway.
 *   apf_entry  the async-PF "page not present" upcall (docs/async.md). The
 *            host enters it as it enters page_error_entry: the faulting RIP
 *            pushed on the thread's stack, RIP here, every other register as
 *            the instruction found them. We save what a call may clobber,
 *            call guest_apf_not_present(), which parks this thread and runs
 *            the others, and when the thread is resumed (its page ready),
 *            restore and return to the faulting instruction, which runs
 *            again. -mno-red-zone: the host's push overwrites nothing live.
 */
#include "upcall_entry.h"

	.text
	.global sched_switch
	.type sched_switch, @function
sched_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size sched_switch, . - sched_switch

UPCALL_ENTRY apf_entry, guest_apf_not_present

	.section .note.GNU-stack, "", @progbits
