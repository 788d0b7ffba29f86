/* SPDX-License-Identifier: MIT */
/*
 * A one-vCPU KVM virtual machine on the raw /dev/kvm API: open, memory
 * slots, a vCPU started directly in 64-bit long mode, the dirty log. No
 * policy and no device here: vmm.c and vmm_exit.c run the loop and decide.
 */
#ifndef PFLAB_KVM_VM_H
#define PFLAB_KVM_VM_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

/*
 * KVM_EXIT_MEMORY_FAULT (Linux 6.8): KVM_RUN fails with EFAULT and this exit
 * reason when a guest access to a memslot page cannot be resolved (its host
 * mapping is PROT_NONE, say), on hosts with hardware EPT/NPT. Debian 12's
 * headers predate it: the layout below is the kernel's, at the start of the
 * kvm_run exit union.
 */
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif
struct kvm_exit_memory_fault {
	uint64_t flags;
	uint64_t gpa;
	uint64_t size;
};

static inline const struct kvm_exit_memory_fault *kvm_memory_fault(const struct kvm_run *run)
{
	return (const struct kvm_exit_memory_fault *)(const void *)&run->hw;
}

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
};

/*
 * Open /dev/kvm and make a VM with one vCPU. Returns 0, or -errno with a
 * one-line reason in err; -ENOENT/-EACCES/-EPERM mean "no usable KVM here".
 */
int kvm_vm_create(struct kvm_vm *vm, char *err, size_t errlen);
void kvm_vm_destroy(struct kvm_vm *vm);

/*
 * A further vCPU, number id > 0 (--vcpus): *view becomes a copy of vm whose
 * vcpu_fd and run are the new vCPU's, so that every function here that
 * works on "the vCPU" works on it through the view. 0, or -errno with a
 * reason in err. Close it with kvm_vm_vcpu_close() before kvm_vm_destroy().
 */
int kvm_vm_add_vcpu(struct kvm_vm *vm, uint32_t id, struct kvm_vm *view, char *err, size_t errlen);
void kvm_vm_vcpu_close(struct kvm_vm *view);
/* Set the vCPU's RSI (the guest's entry takes its vCPU id there). 0 or -errno. */
int kvm_vm_set_rsi(struct kvm_vm *vm, uint64_t rsi);

/* Map host memory [hva, hva + size) at guest-physical gpa. 0 or -errno. */
int kvm_vm_set_memslot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		       void *hva, uint32_t flags);

/*
 * Start the vCPU in 64-bit mode at rip: build identity page tables for the
 * first 1 GiB and a flat GDT at the given guest-physical addresses inside
 * `wired` (the host mapping of guest-physical 0), and load CR0/CR3/CR4/EFER
 * and the segments as a 32-bit loader's switch to long mode would leave them.
 */
int kvm_vm_start_long_mode(struct kvm_vm *vm, uint8_t *wired, uint64_t pml4, uint64_t pdpt,
			   uint64_t pd, uint64_t gdt, uint64_t rip);

/* Fetch and clear the slot's dirty bitmap (one bit per page). 0 or -errno. */
int kvm_vm_get_dirty_log(struct kvm_vm *vm, uint32_t slot, uint64_t *bitmap);

/* Guest-virtual to guest-physical through the vCPU's page tables. 0 or -1. */
int kvm_vm_translate(struct kvm_vm *vm, uint64_t gva, uint64_t *gpa);

/* "KVM_EXIT_SHUTDOWN (triple fault)" and the like. */
const char *kvm_exit_name(uint32_t reason);

#endif /* PFLAB_KVM_VM_H */
