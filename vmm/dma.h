/* SPDX-License-Identifier: MIT */
/*
 * A virtual DMA device (docs/dma.md). The guest programs a descriptor
 * (guest-physical address, length, buffer offset, direction) in registers
 * on the doorbell page (guest/dma_abi.h); a host thread copies between the
 * guest's data pages and a host-side buffer, and the guest waits for the
 * completion. Two ways to meet pages that are not resident:
 *
 *   pin    every page of a transfer is faulted in and pinned first
 *          (pager_pin: off the policy's lists), then copied, then unpinned;
 *   fault  nothing is pinned: the device checks each page as it reaches it
 *          and, if absent, takes a fault the pager serves as it serves the
 *          vCPU's (an IOMMU page request), and the transfer resumes.
 *
 * The device touches the pager only under the fault lock, which the vCPU's
 * fault path and the paging daemon share.
 */
#ifndef PFLAB_DMA_H
#define PFLAB_DMA_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pager.h"
#include "region.h"

enum dma_mode { DMA_OFF, DMA_PIN, DMA_FAULT };

struct dma_stats {
	uint64_t transfers;
	uint64_t bytes;
	uint64_t device_faults;  /* pages the device had to fault in (pin: while pinning) */
	uint64_t stall_ns;       /* time transfers spent in those faults */
	uint64_t busy_ns;        /* time from START to completion, summed */
	uint64_t pinned_moved;   /* pinned pages found in another frame: must stay 0 */
	uint64_t buffer_errors;  /* words of DMA_FROM_MEMORY data that did not match */
};

struct dma_config {
	enum dma_mode mode;
	struct pager *pager;
	struct kvm_mmu *mmu;       /* the data region's pages */
	pthread_mutex_t *fault_lock;
	uint64_t data_base;        /* guest-physical address of data page 0 */
	uint64_t page_ns;          /* bus time per page copied (--dma-latency), 0: none */
};

struct dma_dev;

/* Start the device's thread. NULL and a reason in err on failure. */
struct dma_dev *dma_create(const struct dma_config *cfg, char *err, size_t errlen);
/* Wait for a transfer in flight and stop the thread. Idempotent; NULL ok. */
void dma_stop(struct dma_dev *d);
void dma_destroy(struct dma_dev *d);

/*
 * A guest access of len bytes at offset off of the device's registers;
 * data holds a store's bytes or receives a load's. 0; -1 when the guest
 * programmed a bad transfer or a transfer failed (why in dma_error()); -2
 * for an access that is no register's.
 */
int dma_mmio(struct dma_dev *d, uint64_t off, bool write, uint8_t *data, uint32_t len);
const char *dma_error(const struct dma_dev *d);

struct dma_stats dma_stats(struct dma_dev *d);

/* The run's summary line: transfers, device and CPU faults (cpu: the
 * pager's faults less the device's), stalls, throughput. */
void dma_print(FILE *out, enum dma_mode mode, const struct dma_stats *s,
	       const struct pager_stats *pager);

/* The device's buffer for a data region of data_bytes: as large, at most
 * 64 MiB (BUF_SIZE). */
size_t dma_buf_bytes(size_t data_bytes);
/* START's checks of a descriptor (all but "one is in flight"): direction,
 * length 1 .. DMA_MAX_BYTES, inside the data region (data_bytes from
 * guest-physical data_base) and inside the buffer of buf_size bytes.
 * 0, or -1 with the reason dma_error() would give in err. */
int dma_desc_check(uint64_t addr, uint64_t len, uint64_t buf, uint64_t dir,
		   uint64_t data_base, uint64_t data_bytes, size_t buf_size, char *err,
		   size_t errlen);

/* "pin", "fault" -> the mode; false for anything else. */
bool dma_mode_parse(const char *name, enum dma_mode *mode);
const char *dma_mode_name(enum dma_mode mode);

#endif /* PFLAB_DMA_H */
