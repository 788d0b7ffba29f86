/* SPDX-License-Identifier: MIT */
/*
 * Delivering a failed page-in to the guest (docs/faults.md), the way a
 * kernel delivers SIGBUS to a process whose page cannot be read back from
 * swap: the page is not mapped, and the vCPU, stopped at the faulting
 * instruction, is redirected to the handler the guest registered in the
 * mailbox, with the faulting RIP pushed on its stack as a return address
 * and the address, errno and RIP in the mailbox. The handler reports the
 * error and returns to the faulting instruction to retry it.
 *
 * The guest has no IDT and runs in ring 3, so an injected exception would
 * be a triple fault; changing RIP and RSP from the host needs nothing from
 * the guest but a handler address and a stack, and works the same with or
 * without hardware EPT.
 */
#ifndef PFLAB_PAGE_ERROR_H
#define PFLAB_PAGE_ERROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../guest/abi.h"
#include "kvm_vm.h"

/*
 * Redirect the vCPU (stopped at the faulting instruction, on the vCPU
 * thread) to the guest's handler for a failed access to gpa. wired is the
 * host mapping of guest-physical [0, wired_size), where the guest's stack
 * and code live. Returns 0 with the faulting RIP in *rip, or -1 with a
 * one-line reason in why (no handler registered, a stack outside wired
 * memory, KVM refusing the registers).
 */
int page_error_deliver(struct kvm_vm *vm, uint8_t *wired, uint64_t wired_size,
		       volatile struct pflab_mailbox *mb, uint64_t gpa, bool write, int err,
		       uint64_t *rip, char *why, size_t whylen);

/*
 * The entry of an upcall, as a signal handler is entered: push regs->rip
 * on the guest's stack (regs->rsp, translated through the vCPU's page
 * tables into wired memory) and point regs at handler. The caller loads
 * regs (KVM_SET_REGS) once the mailbox says why. 0, or -1 with why (a stack
 * outside wired memory, or a push across a page).
 */
int upcall_push(struct kvm_vm *vm, uint8_t *wired, uint64_t wired_size, struct kvm_regs *regs,
		uint64_t handler, char *why, size_t whylen);

/*
 * The same push without KVM_TRANSLATE, one ioctl less, for a stack in the
 * guest's image, which its page tables map at guest-virtual =
 * guest-physical (guest/abi.h): regs->rsp is taken as guest-physical, and
 * a stack below PFLAB_IMAGE_BASE is refused. Only for a caller that knows
 * the guest runs on its boot tables (the async-PF upcall: the workloads
 * that switch address spaces take no async PF).
 */
int upcall_push_identity(uint8_t *wired, uint64_t wired_size, struct kvm_regs *regs,
			 uint64_t handler, char *why, size_t whylen);

#endif /* PFLAB_PAGE_ERROR_H */
