/* SPDX-License-Identifier: MIT */
/*
 * What the vCPU was doing: its RIP, the bytes there and their decoding
 * (isa/), for the --verbose fault log and for reports on failed guests.
 */
#ifndef PFLAB_INSPECT_H
#define PFLAB_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "kvm_vm.h"

/*
 * "rip 0x100234 [48 89 07] mov qword ptr [rdi], rax" into buf. Reads the
 * instruction through the vCPU's page tables from wired memory (the guest's
 * code lives there and nowhere else). Call on the vCPU thread only.
 */
void inspect_rip(struct kvm_vm *vm, const uint8_t *wired, uint64_t wired_size, char *buf,
		 size_t len);

/*
 * KVM_RUN failed with EFAULT and no exit information (kvm_pvm running the
 * guest natively does that when a memslot page cannot be mapped): find the
 * access of the instruction at RIP that needs an absent page. Decodes the
 * instruction (isa/), translates each data access's address through the
 * vCPU's page tables and asks traps(ctx, gpa, write) about each page it
 * touches, in architectural order. Returns 0 with *gpa and *write, or -1.
 */
int inspect_fault(struct kvm_vm *vm, const uint8_t *wired, uint64_t wired_size,
		  int (*traps)(void *ctx, uint64_t gpa, int write), void *ctx, uint64_t *gpa,
		  int *write);

#endif /* PFLAB_INSPECT_H */
