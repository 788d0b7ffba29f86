/* SPDX-License-Identifier: MIT */
/*
 * The guest image (guest/, built by guest/guest.mk) travels inside the pflab
 * binary, so that a run never depends on where pflab was started from.
 */
#ifndef PFLAB_GUEST_IMAGE_H
#define PFLAB_GUEST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Load an ELF64 x86-64 executable into guest memory: mem is the host mapping
 * of guest-physical [0, mem_size). Every PT_LOAD segment is copied to its
 * physical address, the rest of its memory size zeroed. Returns 0 and the
 * entry point, or -1 with a reason in err.
 */
int elf_load(const uint8_t *img, size_t len, uint8_t *mem, uint64_t mem_size, uint64_t *entry,
	     char *err, size_t errlen);

/* The bundled guest. */
const uint8_t *guest_image(size_t *len);

#endif /* PFLAB_GUEST_IMAGE_H */
