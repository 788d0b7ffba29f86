/* SPDX-License-Identifier: MIT */
/* Inside vmm/libvirt (and its tests): the libvirt handle behind a pvirt_dom. */
#ifndef PFLAB_PVIRT_INTERNAL_H
#define PFLAB_PVIRT_INTERNAL_H

#include <libvirt/libvirt.h>

#include "pvirt.h"

virDomainPtr pvirt_dom_raw(struct pvirt_dom *d);
/* virDomainMemoryStats' n tagged values into out (balloon.c; tests feed it). */
void pvirt_memstats_decode(const virDomainMemoryStatStruct *raw, int n,
			   struct pvirt_memstats *out);

#endif /* PFLAB_PVIRT_INTERNAL_H */
