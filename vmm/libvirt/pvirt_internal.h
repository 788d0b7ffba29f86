/* SPDX-License-Identifier: MIT */
/* Inside vmm/libvirt only: the libvirt handle behind a pvirt_dom. */
#ifndef PFLAB_PVIRT_INTERNAL_H
#define PFLAB_PVIRT_INTERNAL_H

#include <libvirt/libvirt.h>

#include "pvirt.h"

virDomainPtr pvirt_dom_raw(struct pvirt_dom *d);

#endif /* PFLAB_PVIRT_INTERNAL_H */
