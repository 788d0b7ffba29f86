/* SPDX-License-Identifier: MIT */
/*
 * The contract between pflab's KVM host (vmm/) and its tiny guest (guest/):
 * the guest-physical memory map, the I/O ports and the hypercall mailbox.
 * Both sides include this file; it must stay freestanding (stdint only).
 * docs/vmm.md describes it in prose.
 *
 * Memory map (guest-physical = guest-virtual: the guest identity-maps 4 GiB):
 *
 *   0x0000_1000  host boot page tables and GDT (used only until the guest
 *                loads its own)
 *   0x0000_7000  hypercall mailboxes, one page per vCPU (PFLAB_MAILBOX_OF)
 *   0x0010_0000  guest image: code, data, stack, page tables, bss
 *   0x0080_0000  trace buffer (4 MiB: 1 Mi references)
 *   0x00f0_0000  scratch pages of the restart scenarios (guest only: copied
 *                code, its stack, a page to copy from; guest/restart.c)
 *   0x0100_0000  end of the wired region: one memslot, fully backed, never paged
 *   0x4000_0000  data region: up to 2 GiB, one memslot, paged by the host pager
 *   0xc000_0000  the doorbell page: no memory, every access exits (MMIO)
 *   0xd000_0000  nothing: the bad-oob workload touches it
 *
 * The guest runs its workloads in ring 3: nested KVM (kvm_pvm) runs guest
 * user code natively but emulates guest kernel code one instruction at a
 * time, and it does not let ring 3 do port I/O. So the ring-3 guest talks
 * to the host through the doorbell page (an MMIO exit each), and only the
 * ring-0 boot code uses the serial port.
 */
#ifndef PFLAB_GUEST_ABI_H
#define PFLAB_GUEST_ABI_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define PFLAB_PAGE_SIZE       4096u
#define PFLAB_BOOT_PML4       0x1000u
#define PFLAB_BOOT_PDPT       0x2000u
#define PFLAB_BOOT_PD         0x3000u
#define PFLAB_BOOT_GDT        0x4000u
#define PFLAB_MAILBOX         0x7000u
#define PFLAB_MAX_VCPUS       8u           /* --vcpus: mailboxes 0x7000..0xefff */
#define PFLAB_MAILBOX_OF(id)  (PFLAB_MAILBOX + (id) * 0x1000u)
#define PFLAB_VCPU_STACK      0x10000u     /* each vCPU's boot stack (entry.S) */
#define PFLAB_IMAGE_BASE      0x100000u
#define PFLAB_TRACE_BUF       0x800000u
#define PFLAB_TRACE_BUF_REFS  (0x400000u / 4u)
#define PFLAB_SCRATCH         0xf00000u    /* 3 pages, guest/restart.c */
#define PFLAB_WIRED_SIZE      0x1000000u
#define PFLAB_DATA_BASE       0x40000000u
#define PFLAB_DATA_MAX_PAGES  (1u << 19)   /* 2 GiB */
#define PFLAB_DOORBELL        0xc0000000u
#define PFLAB_DOORBELL_HCALL  (PFLAB_DOORBELL + 0x0)  /* 32-bit store: a hypercall */
#define PFLAB_DOORBELL_CONS   (PFLAB_DOORBELL + 0x8)  /* 8-bit store: a console byte */
#define PFLAB_DOORBELL_DMA    (PFLAB_DOORBELL + 0x100) /* the DMA device's registers: guest/dma_abi.h */
#define PFLAB_OOB_ADDR        0xd0000000u
#define PFLAB_MAX_THREADS     16u          /* --threads: green threads per vCPU (guest/sched.c) */
#define PFLAB_APF_RING        32u          /* page-ready ring entries, > PFLAB_MAX_THREADS */

/* I/O ports, for ring-0 code (the boot path; a guest kept in ring 0). */
#define PFLAB_PORT_SERIAL     0x3f8  /* COM1 data register: one byte per OUT */
#define PFLAB_PORT_HCALL      0x500  /* OUT of a 32-bit hypercall number */

#ifndef __ASSEMBLER__
/* Hypercall numbers: a 32-bit store of one of these to
 * PFLAB_DOORBELL_HCALL (or `outl` to PFLAB_PORT_HCALL from ring 0);
 * arguments and results travel in the mailbox. */
enum pflab_hcall {
	HC_CONFIG = 1,      /* host fills mb->workload .. mb->seed */
	HC_TRACE_NEXT = 2,  /* host fills the trace buffer: mb->trace_base, mb->trace_count (0: end) */
	HC_VERIFY_FAIL = 3, /* guest found bad data: mb->bad_page, bad_offset, expected, got */
	HC_EXIT = 4,        /* guest is done: mb->status, mb->refs, mb->errors */
	HC_NOP = 5,         /* nothing: the bare exit round trip, for benchmarks */
	HC_PAGE_ERROR = 16, /* guest's handler saw delivered page-in error mb->pgerr_ack */
	HC_EVICT = 24,      /* page data page mb->evict_page out now (the restart scenarios) */
	HC_MSYNC = 40,      /* write the map file's dirty pages back: mb->msync_* (docs/mapped-files.md) */
	HC_ASPACE = 48,     /* load CR3 = mb->aspace_cr3: switch address spaces (guest/shared.c) */
	/* Async page faults (--async-pf, docs/async.md#the-async-pf-protocol): every
	 * green thread waits for a page and no page-ready notification is in
	 * the ring: the host blocks the vCPU until one is (the guest's halt). */
	HC_APF_WAIT = 56,
	/* prefetch_page() and page-level asynchronous I/O (docs/async.md,
	 * vmm/blockio.h, guest/gather.c, guest/blockio.c) */
	HC_PREFETCH = 64,    /* prefetch data page mb->pf_page: mb->pf_result */
	HC_READ_PAGES = 65,  /* start reading mb->bio_first.. +bio_count: mb->bio_req, bio_queued */
	HC_WRITE_PAGES = 66, /* start writing back the dirty ones of mb->bio_first.. +bio_count */
	HC_SYNC_PAGES = 67,  /* wait for write-behind: mb->bio_errno, bio_err_page since last sync */
	HC_DROP_PAGES = 68,  /* evict mb->bio_first.. +bio_count now (set-up of the blockio workload) */
	HC_MARK = 69,        /* the host notes the time: mb->mark (phases of a benchmark) */
	HC_DSM_YIELD = 80,  /* a DSM workload spins: let the host run another node (guest/dsm.c) */
};

/* mb->prefetch: the option was given (list then runs guest/gather.c's
 * chase, whatever D, so that D = 0 is the same code without prefetches). */
#define PFLAB_PREFETCH_GIVEN 0x80000000u

/* mb->pf_result of HC_PREFETCH (the RFC's prefetch_page(): 0 accessible). */
enum pflab_prefetch_result {
	PF_ACCESSIBLE = 0,   /* resident, or made resident with no I/O */
	PF_STARTED = 1,      /* its read is in flight (started now or before) */
	PF_PRESSURE = 2,     /* not started: the free pool is below its low watermark */
};

/* Workloads, selected by the host in mb->workload. */
enum pflab_workload {
	WL_SCAN = 1,    /* sequential: one write pass, then verify passes */
	WL_RANDOM,      /* uniform random pages, 1 in 4 a write */
	WL_STRIDE,      /* pages in strided order, write pass then verify pass */
	WL_MATMUL,      /* C = A x B over 64-bit integers, ikj loop order */
	WL_LIST,        /* chase a linked list laid through the pages in random order */
	WL_COPY,        /* rep movsb between the two halves, back and forth */
	WL_TRACE,       /* replay the host's trace: one access per reference */
	WL_TOUCH,       /* benchmark: touch every page once, then NOP hypercalls */
	WL_BAD_OOB,     /* read a guest-physical address with no memory */
	WL_BAD_UD,      /* execute an undefined opcode (no IDT: triple fault) */
	WL_BAD_LOOP,    /* spin forever */
	WL_RESTART_MOVSB,    /* the restart scenarios, guest/restart.c, docs/restart.md */
	WL_RESTART_REPMOVSB,
	WL_RESTART_PUSH,
	WL_RESTART_STRADDLE,
	WL_RESTART_FETCH,
	WL_MAPFILE,     /* read a host file mapped on the data region, modify, msync: guest/mapfile.c */
	WL_DMA,         /* move half the region through the DMA device and back: guest/dma.c */
	WL_SHARED,      /* two address spaces map one region, the host switches: guest/shared.c */
	WL_GATHER,      /* indexed reads through an index array, --prefetch D: guest/gather.c */
	WL_BLOCKIO,     /* read_pages, write_pages, sync_pages: guest/blockio.c */
	WL_PREFETCH_SCRIPT, /* prefetch_page()'s counters on a scripted case: guest/gather.c */
	WL_DSM_SC,      /* DSM (pflab run --dsm): own words written, the others' read in order: guest/dsm.c */
	WL_DSM_COUNTER, /* DSM: a shared counter under a spinlock (Lamport's bakery) */
	WL_DSM_FALSE,   /* DSM: each node writes its own word of one page (false sharing) */
	WL_DSM_APART,   /* DSM: the same, each node's word on a page of its own */
	WL_KEEP_WRITE,  /* write every page (version 1 + seed % 1000), then check: guest/workloads.c */
	WL_KEEP_CHECK,  /* every page that version (kept) or zeros (fresh): how many of each */
	WL_NR
};

/* The workloads' names, shared by the guest's banner and the host's
 * --workload parser: an initializer for a const char *[WL_NR]. */
#define PFLAB_WORKLOAD_NAMES {                                                        \
	[WL_SCAN] = "scan", [WL_RANDOM] = "random", [WL_STRIDE] = "stride",             \
	[WL_MATMUL] = "matmul", [WL_LIST] = "list", [WL_COPY] = "copy",                 \
	[WL_TRACE] = "trace", [WL_TOUCH] = "touch", [WL_BAD_OOB] = "bad-oob",           \
	[WL_BAD_UD] = "bad-ud", [WL_BAD_LOOP] = "bad-loop",                             \
	[WL_RESTART_MOVSB] = "restart-movsb", [WL_RESTART_REPMOVSB] = "restart-repmovsb", \
	[WL_RESTART_PUSH] = "restart-push", [WL_RESTART_STRADDLE] = "restart-straddle", \
	[WL_RESTART_FETCH] = "restart-fetch",                                           \
	[WL_MAPFILE] = "mapfile",                                                       \
	[WL_DMA] = "dma",                                                               \
	[WL_SHARED] = "shared",                                                         \
	[WL_GATHER] = "gather", [WL_BLOCKIO] = "blockio",                               \
	[WL_PREFETCH_SCRIPT] = "prefetch-script",                                       \
	[WL_DSM_SC] = "dsm-sc", [WL_DSM_COUNTER] = "dsm-counter",                       \
	[WL_DSM_FALSE] = "dsm-false", [WL_DSM_APART] = "dsm-apart",                     \
	[WL_KEEP_WRITE] = "keep-write", [WL_KEEP_CHECK] = "keep-check",                 \
}

/* A trace buffer entry: a data-region page number, the write bit on top. */
#define PFLAB_REF_WRITE 0x80000000u

/* The mapfile workload's file (guest/mapfile.c, docs/mapped-files.md): word
 * i of page p of the file the tests map holds pattern(p, PFLAB_MAPFILE_VERSION,
 * i) (guest.h); the word the guest sets in page p is PFLAB_MAPFILE_MARKER | p. */
#define PFLAB_MAPFILE_VERSION 0xf11eu

/* The content of word i of page vpn at version v: every word differs, so a
 * misplaced or stale page or a flipped byte is caught. Version 0 is zeroes.
 * The guest writes and checks pages with it; the host writes the initial
 * file of the mapfile workload with it (pflab run --map-create). */
static inline uint64_t pflab_pattern(uint32_t vpn, uint32_t v, uint32_t i)
{
	uint64_t x;

	if (v == 0)
		return 0;
	x = ((uint64_t)vpn << 32 | v) * 0x9e3779b97f4a7c15ull + i;
	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ull;
}
#define PFLAB_MAPFILE_MARKER  0x6d61726b00000000ull

/* The shared workload's largest data region: its page tables come from a
 * fixed pool of wired pages (guest/shared.c). */
#define PFLAB_SHARED_MAX_PAGES 8192u

/* The DSM workloads' layout of the shared data region (guest/dsm.c): the
 * pages they use; the region needs PFLAB_DSM_MIN_PAGES + nodes pages. */
#define PFLAB_DSM_BARRIER   0u  /* word i: the barriers node i has reached */
#define PFLAB_DSM_SC_DATA   1u  /* dsm-sc: word i, node i's data */
#define PFLAB_DSM_SC_FLAG   2u  /* dsm-sc: word i, node i's flag, written after its data */
#define PFLAB_DSM_CHOOSING  3u  /* dsm-counter: the bakery's choosing[i] */
#define PFLAB_DSM_NUMBER    4u  /* dsm-counter: the bakery's number[i] */
#define PFLAB_DSM_COUNTER   5u  /* dsm-counter: word 0 the counter, word 1 the holder */
#define PFLAB_DSM_FALSE     6u  /* dsm-false: word 8i (its own cache line), node i's */
#define PFLAB_DSM_APART     7u  /* dsm-apart: page 7 + i, word 0, node i's */
#define PFLAB_DSM_MIN_PAGES 7u
#define PFLAB_DSM_MAX_NODES 32u /* as the manager's (vmm/server/proto.h) */

/*
 * The mailbox at PFLAB_MAILBOX. The guest writes ref_index before each
 * replayed access with a plain store (no exit): when that access faults, the
 * host, whose vCPU is stopped, reads which reference of the trace faulted.
 */
struct pflab_mailbox {
	/* host -> guest, HC_CONFIG */
	uint32_t workload;
	uint32_t npages;      /* data-region pages */
	uint32_t passes;      /* repetitions, workload-defined */
	uint32_t nops;        /* WL_TOUCH: NOP hypercalls to make */
	uint64_t seed;
	/* host -> guest, HC_TRACE_NEXT */
	uint64_t trace_base;  /* index of the buffer's first reference in the trace */
	uint32_t trace_count;
	uint32_t pad0;
	/* guest -> host */
	uint64_t ref_index;   /* the trace reference being replayed */
	uint64_t refs;        /* page references made (HC_EXIT) */
	uint64_t errors;      /* verification mismatches (HC_EXIT) */
	uint32_t status;      /* 0 ok, 1 verification failed, 2 gave up on a page
				 that cannot be read in (HC_EXIT) */
	uint32_t pad1;
	uint64_t bad_page, bad_offset, expected, got; /* HC_VERIFY_FAIL */
	/*
	 * Page-in errors (docs/faults.md). When the host cannot read a data
	 * page in, it does not map it: it pushes the faulting RIP on the
	 * guest's stack, fills these fields and resumes the guest at
	 * pgerr_handler, which reports (HC_PAGE_ERROR) and returns to the
	 * faulting instruction to retry it, or gives up (HC_EXIT, status 2).
	 */
	uint64_t pgerr_handler; /* guest -> host: ring-3 entry of the handler, 0: none */
	uint64_t pgerr_addr;    /* host -> guest: guest-physical address of the access */
	uint64_t pgerr_rip;     /* host -> guest: the faulting instruction */
	uint32_t pgerr_errno;   /* host -> guest: positive errno */
	uint32_t pgerr_write;   /* host -> guest: 1 if the access was a write */
	uint64_t pgerr_count;   /* host -> guest: page-in errors delivered so far */
	uint64_t pgerr_ack;     /* guest -> host, HC_PAGE_ERROR: the pgerr_count it saw */
	uint64_t evict_page;    /* guest -> host, HC_EVICT: the data page to page out */
	/* A host file mapped on the data region (--map-file, docs/mapped-files.md). */
	uint64_t map_bytes;     /* host -> guest, HC_CONFIG: the file's size when mapped */
	uint32_t msync_first;   /* guest -> host, HC_MSYNC: first data page to write back */
	uint32_t msync_count;   /* guest -> host: how many pages, 0: to the region's end */
	uint32_t msync_written; /* host -> guest: dirty pages written to the file */
	uint32_t msync_errno;   /* host -> guest: 0, or the first failed write's errno */
	/* guest -> host, HC_ASPACE: the PML4 to load, a wired page (guest/shared.c) */
	uint64_t aspace_cr3;
	/* host -> guest, HC_CONFIG: this vCPU's slice of the data region
	 * (--vcpus, docs/async.md): pages [first_page, first_page + npages).
	 * Each vCPU has a mailbox of its own (PFLAB_MAILBOX_OF(vcpu)). */
	uint32_t first_page;
	uint32_t vcpu, nvcpus;
	uint32_t pad2;
	/*
	 * Green threads and async page faults (--threads, --async-pf;
	 * guest/sched.c, docs/async.md#the-async-pf-protocol).
	 */
	uint32_t threads;       /* host -> guest, HC_CONFIG: green threads on this vCPU, 0: one */
	uint32_t apf;           /* host -> guest, HC_CONFIG: 1 if the host offers async PF */
	uint64_t apf_handler;   /* guest -> host: ring-3 entry of the not-present upcall;
				   0: every fault synchronous (the guest cannot switch) */
	uint64_t apf_token;     /* host -> guest: the not-present upcall's token */
	uint64_t apf_addr;      /* host -> guest: its guest-physical address */
	uint64_t apf_resumed;   /* guest -> host: token of the thread being resumed, or 0 */
	uint32_t apf_ready_head; /* host -> guest: page-ready tokens published (a count) */
	uint32_t apf_ready_tail; /* guest -> host: page-ready tokens consumed */
	uint64_t apf_ready[PFLAB_APF_RING]; /* token of entry k at [k % PFLAB_APF_RING] */
	/* prefetch_page() and page-level asynchronous I/O (docs/async.md) */
	uint32_t prefetch;      /* host -> guest, HC_CONFIG: --prefetch D | PFLAB_PREFETCH_GIVEN,
				   0: no --prefetch */
	uint32_t read_batch;    /* host -> guest, HC_CONFIG: blockio's pages per read_pages, 0: none */
	uint64_t pf_page;       /* guest -> host, HC_PREFETCH: the data page */
	uint32_t pf_result;     /* host -> guest: enum pflab_prefetch_result */
	uint32_t bio_first;     /* guest -> host: HC_READ_PAGES, HC_WRITE_PAGES, HC_DROP_PAGES */
	uint32_t bio_count;
	uint32_t bio_queued;    /* host -> guest: reads (writes) started */
	uint64_t bio_req;       /* host -> guest, HC_READ_PAGES: the request's number, from 1 */
	uint32_t bio_errno;     /* host -> guest, HC_SYNC_PAGES: the first write-behind error since
				   the last sync (positive errno), 0: none */
	uint32_t bio_err_page;  /* host -> guest: its page */
	uint64_t mark;          /* guest -> host, HC_MARK: which mark */
	/*
	 * A failed asynchronous read, reported by an upcall (docs/async.md):
	 * between two instructions of the guest, the host pushes its RIP and
	 * enters bio_handler, as it enters pgerr_handler, with these fields
	 * set; the handler stores bio_ack = bio_upcalls and returns.
	 */
	uint64_t bio_handler;   /* guest -> host: ring-3 entry, 0: none (no upcalls) */
	uint64_t bio_up_req;    /* host -> guest: the read_pages request */
	uint32_t bio_up_page;   /* host -> guest: the page whose read failed */
	uint32_t bio_up_errno;  /* host -> guest: positive errno */
	uint64_t bio_upcalls;   /* host -> guest: upcalls made so far */
	uint64_t bio_ack;       /* guest -> host: the bio_upcalls its handler saw */
	/* host -> guest, HC_CONFIG, under --dsm (guest/dsm.c): this node and
	 * how many share the data region */
	uint32_t dsm_node, dsm_nodes;
};
#endif /* !__ASSEMBLER__ */

#endif /* PFLAB_GUEST_ABI_H */
