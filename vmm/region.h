/* SPDX-License-Identifier: MIT */
/*
 * The guest's data region on the host side: a range of host virtual memory
 * behind one memslot, the frame memory that holds resident pages, and the
 * *trap mechanism* that makes a page present or absent and reports the
 * guest's accesses to absent pages:
 *
 *   kvm   absent pages are PROT_NONE in the host mapping; a guest access
 *         leaves KVM_RUN (KVM_EXIT_MMIO under nested kvm_pvm, or EFAULT with
 *         KVM_EXIT_MEMORY_FAULT with hardware EPT/NPT) on the vCPU thread.
 *         A frame is a page of a memfd; map() mmaps it at the page's place.
 *   uffd  absent pages are missing pages of anonymous memory registered with
 *         userfaultfd; the vCPU sleeps in the kernel while a handler thread
 *         resolves the fault with UFFDIO_COPY from the frame.
 *
 * On top of it, the KVM MMU (struct kvm_mmu) implements the pager's struct
 * mmu: residency, referenced bits by invalidation, dirty bits from KVM's
 * dirty log.
 */
#ifndef PFLAB_REGION_H
#define PFLAB_REGION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm_vm.h"
#include "mmu.h"

struct region;

struct trap_ops {
	const char *name;
	/* Reserve the data region (all pages absent) and the frame memory. */
	int (*init)(struct region *r, char *err, size_t errlen);
	void (*fini)(struct region *r);
	/* Start reporting faults through r->on_fault (uffd's thread); may be NULL. */
	int (*start)(struct region *r, char *err, size_t errlen);
	/* Make vpn present with frame f's contents, read-only or writable /
	 * absent, keeping them in f. */
	int (*map)(struct region *r, vpn_t vpn, frame_t f, bool writable);
	int (*unmap)(struct region *r, vpn_t vpn, frame_t f);
	/* Let the guest write a page mapped read-only. */
	int (*make_writable)(struct region *r, vpn_t vpn);
	/* Where vpn's bytes are now: in its frame, or (uffd, mapped) in the region. */
	uint8_t *(*page_bytes)(struct region *r, vpn_t vpn, frame_t f, bool mapped);
};

extern const struct trap_ops trap_kvm_ops;
extern const struct trap_ops trap_uffd_ops;

struct region;
/* The uffd trap gives up: the region becomes inaccessible, then is
 * unregistered, so that a vCPU asleep in a fault wakes to an error (EFAULT
 * out of KVM_RUN), never to a zero page. */
void uffd_trap_fail_closed(struct region *r);

struct region {
	const struct trap_ops *trap;
	uint8_t *va;              /* the data region, npages pages */
	uint32_t npages;
	uint8_t *frames;          /* frame memory, nframes pages */
	uint32_t nframes;
	int memfd;                /* kvm: the frames' memfd */

	/* uffd */
	bool shared;              /* the data region is a memfd mapped shared (data_memfd),
				     to be handed over with the uffd (--pager) */
	int data_memfd;
	int uffd;
	int stop_fd;              /* eventfd: tells the handler thread to stop */
	pthread_t thread;
	bool thread_running;

	/* Called by an asynchronous trap (uffd) for each fault: 0 or -1. */
	int (*on_fault)(void *ctx, vpn_t vpn, enum access_kind kind);
	void *fault_ctx;
	volatile int failed;      /* the handler thread gave up: see fault_err */
	char fault_err[256];
};

static inline size_t region_bytes(const struct region *r)
{
	return (size_t)r->npages * 4096u;
}

/* Page state kept by the KVM MMU, per data-region page. */
#define PG_MAPPED   0x1u /* present in the guest: its referenced bit is set */
#define PG_SOFT     0x2u /* resident but unmapped to sample the referenced bit */
#define PG_WRITABLE 0x4u /* mapped writable: written since mapped, or about to be */

struct kvm_mmu {
	struct mmu mmu;
	struct region *region;
	struct kvm_vm *vm;
	uint32_t slot;            /* the data region's memslot, dirty-logged */
	uint8_t *state;           /* per page: PG_* */
	frame_t *frame;           /* per page: its frame while resident */
	uint64_t *dirty;          /* per page: dirty bits harvested, not yet tested */
	uint64_t *log;            /* KVM_GET_DIRTY_LOG's buffer */
	size_t words;             /* of each bitmap */
	uint64_t soft_faults;     /* traps that only set a referenced bit */
	uint64_t dirty_faults;    /* traps that only set a dirty bit (first write) */
	vpn_t last_unmapped;      /* the last page evicted: for the fault log */
	int error;                /* first error of an operation that cannot return one */
};

int kvm_mmu_init(struct kvm_mmu *m, struct region *r, struct kvm_vm *vm, uint32_t slot);
void kvm_mmu_fini(struct kvm_mmu *m);

/*
 * A trap on page vpn that needs no I/O: the page is resident but was
 * unmapped to sample its referenced bit (re-map its frame: a soft fault, as
 * the VAX's reference-bit emulation took), or mapped read-only and written
 * (make it writable: the first write sets the dirty bit). Returns 1 if it
 * was such a trap, 0 if the pager must handle the fault, or -errno.
 */
int kvm_mmu_soft_fault(struct kvm_mmu *m, vpn_t vpn, enum access_kind kind);
/* Whether an access of that kind to vpn traps now. */
static inline bool kvm_mmu_traps(const struct kvm_mmu *m, vpn_t vpn, bool write)
{
	return !(m->state[vpn] & PG_MAPPED) || (write && !(m->state[vpn] & PG_WRITABLE));
}
/* The host itself completed a guest write to vpn (an emulated MMIO store). */
static inline void kvm_mmu_mark_dirty(struct kvm_mmu *m, vpn_t vpn)
{
	m->dirty[vpn / 64] |= 1ull << (vpn % 64);
}
/* For the store: where page vpn's bytes are now. ctx is the struct kvm_mmu. */
uint8_t *kvm_mmu_page_bytes(void *ctx, vpn_t vpn, frame_t f);

#endif /* PFLAB_REGION_H */
