/* SPDX-License-Identifier: MIT */
/*
 * The vCPU's page walk done by the host, over the guest's page tables in
 * memory the host reads directly: what KVM_TRANSLATE does, without its
 * ioctl (9 us each here under nested kvm_pvm, two per kvm-trap fault whose
 * access must be found by decoding; docs/performance.md, "The KVM fault
 * path"). Only the 4-level long mode the guest runs in (CR0.PG, CR4.PAE,
 * EFER.LMA, no LA57), 4 KiB, 2 MiB and 1 GiB pages, present bits only (as
 * KVM_TRANSLATE); anything else, or a table outside wired memory, is left
 * to KVM_TRANSLATE.
 */
#ifndef PFLAB_PAGEWALK_H
#define PFLAB_PAGEWALK_H

#include <linux/kvm.h>
#include <stdint.h>

#include "inspect.h"

/* la's guest-physical address into *gpa: 0; -1 if the walk cannot say
 * (then ask KVM_TRANSLATE, which also answers "not mapped"). */
int pagewalk(const struct guest_ram *ram, const struct kvm_sregs *s, uint64_t la, uint64_t *gpa);

#endif /* PFLAB_PAGEWALK_H */
