/* SPDX-License-Identifier: MIT */
/*
 * The DMA device's contract (vmm/dma.c, guest/dma.c, docs/dma.md): its
 * registers on the doorbell page and the data its buffer holds. Shared by
 * host and guest like abi.h, so freestanding (stdint only).
 *
 * Registers, at PFLAB_DOORBELL_DMA + offset; every access is 8 bytes and
 * exits to the host (the ring-3 guest has no port I/O, guest/abi.h):
 *
 *   ADDR     store: guest-physical address of the transfer (in the data region)
 *   LEN      store: its length in bytes, 1 .. DMA_MAX_BYTES
 *   BUF      store: the offset in the device's buffer
 *   START    store DMA_TO_MEMORY or DMA_FROM_MEMORY: the device thread takes
 *            the descriptor and the vCPU runs on meanwhile
 *   WAIT     store (any value): the vCPU blocks until the transfer completes
 *   STATUS   load: DMA_IDLE, DMA_BUSY, DMA_DONE or DMA_ERROR
 *   BUF_SIZE load: the buffer's size in bytes
 */
#ifndef PFLAB_GUEST_DMA_ABI_H
#define PFLAB_GUEST_DMA_ABI_H

#include <stdint.h>

#define DMA_REG_ADDR     0x00u
#define DMA_REG_LEN      0x08u
#define DMA_REG_BUF      0x10u
#define DMA_REG_START    0x18u
#define DMA_REG_WAIT     0x20u
#define DMA_REG_STATUS   0x28u
#define DMA_REG_BUF_SIZE 0x30u
#define DMA_REGS_SIZE    0x38u

/* START values: the direction of the copy. */
#define DMA_TO_MEMORY    1u /* device buffer -> guest pages (a device write) */
#define DMA_FROM_MEMORY  2u /* guest pages -> device buffer (a device read) */

/* STATUS values. */
#define DMA_IDLE  0u
#define DMA_BUSY  1u
#define DMA_DONE  2u
#define DMA_ERROR 3u

#define DMA_MAX_BYTES (256u * 4096u) /* one transfer: at most 256 pages */

/* Word index i of the device's data, in two flavours: DMA_TAG_DEVICE is
 * what the buffer holds when the device starts; DMA_TAG_GUEST is what the
 * dma workload writes to its pages before a DMA_FROM_MEMORY transfer, and
 * what the device checks the buffer holds after one. Every word differs, so
 * a misplaced page or a stale copy is caught. */
#define DMA_TAG_DEVICE 0xd3c0000000000000ull
#define DMA_TAG_GUEST  0x6e57000000000000ull

static inline uint64_t dma_word(uint64_t i, uint64_t tag)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ tag;

	x ^= x >> 31;
	return x * 0xd6e8feb86659fd93ull;
}

/* The dma workload moves data in transfers of this many pages. */
#define DMA_CHUNK_PAGES 8u

#endif /* PFLAB_GUEST_DMA_ABI_H */
