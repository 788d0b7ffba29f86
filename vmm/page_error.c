// SPDX-License-Identifier: MIT
/* Delivering a failed page-in to the guest: see page_error.h. */
#include "page_error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

/* The push itself, once the stack slot's guest-physical address is known
 * (mapped false: it is not). */
static int push(uint8_t *wired, uint64_t wired_size, struct kvm_regs *regs, uint64_t sp,
		bool mapped, uint64_t sp_gpa, uint64_t handler, char *why, size_t whylen)
{
	/* The stack is wired memory; a push that would cross into another
	 * page or leave wired memory means the guest's stack is not where it
	 * should be. */
	if ((sp & 4095) > 4096 - 8 || !mapped || sp_gpa > wired_size - 8) {
		snprintf(why, whylen, "cannot push on the guest's stack at 0x%llx",
			 (unsigned long long)sp);
		return -1;
	}
	memcpy(wired + sp_gpa, &regs->rip, sizeof(regs->rip));
	regs->rsp = sp;
	regs->rip = handler;
	return 0;
}

int upcall_push(struct kvm_vm *vm, uint8_t *wired, uint64_t wired_size, struct kvm_regs *regs,
		uint64_t handler, char *why, size_t whylen)
{
	uint64_t sp = regs->rsp - 8, sp_gpa = 0;
	/* No translation for a push that crosses a page: it fails anyway. */
	bool mapped = (sp & 4095) <= 4096 - 8 && kvm_vm_translate(vm, sp, &sp_gpa) == 0;

	return push(wired, wired_size, regs, sp, mapped, sp_gpa, handler, why, whylen);
}

int upcall_push_identity(uint8_t *wired, uint64_t wired_size, struct kvm_regs *regs,
			 uint64_t handler, char *why, size_t whylen)
{
	uint64_t sp = regs->rsp - 8;

	return push(wired, wired_size, regs, sp, sp >= PFLAB_IMAGE_BASE, sp, handler, why, whylen);
}

int page_error_deliver(struct kvm_vm *vm, uint8_t *wired, uint64_t wired_size,
		       volatile struct pflab_mailbox *mb, uint64_t gpa, bool write, int err,
		       uint64_t *rip, char *why, size_t whylen)
{
	uint64_t handler = mb->pgerr_handler;
	struct kvm_regs regs;

	if (handler == 0 || handler >= wired_size) {
		snprintf(why, whylen, "the guest registered no page-in error handler");
		return -1;
	}
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) != 0) {
		snprintf(why, whylen, "KVM_GET_REGS: %s", strerror(errno));
		return -1;
	}
	/* The faulting RIP is the handler's return address. */
	*rip = regs.rip;
	if (upcall_push(vm, wired, wired_size, &regs, handler, why, whylen) != 0)
		return -1;

	mb->pgerr_addr = gpa;
	mb->pgerr_rip = *rip;
	mb->pgerr_errno = (uint32_t)err;
	mb->pgerr_write = write;
	mb->pgerr_count++;

	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) != 0) {
		snprintf(why, whylen, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}
