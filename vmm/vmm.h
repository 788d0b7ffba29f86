/* SPDX-License-Identifier: MIT */
/*
 * The KVM host: boot the bundled guest with a data region larger than its
 * frames, serve its faults with the host pager, and report. One call, one
 * run: vmm_run(). The pieces it joins:
 *
 *   kvm_vm.c      the VM and vCPU on /dev/kvm
 *   guest_image.c the guest ELF and its loader
 *   region.h      the data region and the trap mechanisms (trap_kvm.c, trap_uffd.c)
 *   mmu_kvm.c     the pager's MMU on KVM: residency, referenced and dirty bits
 *   swap.c        the backing store
 *   inspect.c     what the vCPU was doing, for fault logs and failure reports
 *
 * docs/vmm.md walks through the fault path.
 */
#ifndef PFLAB_VMM_H
#define PFLAB_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "blockio.h"
#include "dma.h"
#include "dsm_node.h"
#include "io.h"
#include "mapfile.h"
#include "pager.h"
#include "region.h"

/* The most frames under --trap kvm: each resident page is a host mapping
 * of its own; stay well below vm.max_map_count (65530 by default). */
#define VMM_KVM_MAX_FRAMES 30000u
/* --vcpus: at most (guest/abi.h, PFLAB_MAX_VCPUS) */
#define VMM_MAX_VCPUS 8u
#include "sim.h"
#include "store_inject.h"
#include "swap_layout.h"

struct vmm_config {
	uint32_t workload;            /* enum pflab_workload (guest/abi.h) */
	uint32_t npages;              /* data-region pages */
	uint32_t nframes;
	uint32_t passes;              /* workload repetitions */
	uint32_t nops;                /* WL_TOUCH: bare exits to time */
	uint64_t seed;                /* guest PRNG */
	const struct policy_ops *policy;
	struct policy_params params;
	const struct trap_ops *trap;
	const char *swap_path;        /* NULL: an anonymous temporary file */
	bool swap_reuse;              /* swap_path exists: use it, never remove it */
	bool store_in_memory;
	uint64_t disk_latency_ns;
	uint64_t timeout_ns;          /* 0: none */
	bool verbose;                 /* a line per fault on stderr */
	FILE *record;                 /* the faults as an rw trace, or NULL */
	FILE *fault_log;              /* each trap in detail (fault_log.h), or NULL */
	int64_t corrupt_page;         /* test knob (swap.h), -1: off */
	/* --inject: fail chosen swap I/Os (store_inject.h, docs/faults.md).
	 * Copied; the caller keeps its own. */
	const struct inject_rule *inject;
	size_t ninject;
	/* --pool-low, --pool-high: a free pool and its paging daemon
	 * (pool.h, docs/pager-daemon.md); --pool-sync: the daemon's work at
	 * the end of faults instead of on a thread. 0, 0: none. */
	uint32_t pool_low, pool_high;
	bool pool_sync;
	/* --swap-layout, --swap-slots, --disk-seek (swap_layout.h, docs/swap.md) */
	enum swap_layout_kind swap_layout;
	uint32_t swap_slots;          /* 0: the layout's default */
	uint64_t disk_seek_ns;
	/* --disk-depth, --disk-sched: swap I/O through the I/O engine and its
	 * modelled disk (vmm/io/io.h, docs/async.md). 0: no engine, each I/O
	 * on the faulting thread. */
	uint32_t disk_depth;
	enum io_sched disk_sched;
	/* --vcpus: vCPUs, each on a host thread of its own, each running the
	 * workload on its slice of the data region (docs/vmm.md). 0 or 1: one. */
	uint32_t vcpus;
	/* --threads: green threads per vCPU, each on its part of the vCPU's
	 * slice (guest/sched.c); 0 or 1: one. --async-pf: a fault that needs
	 * I/O parks the faulting thread instead of holding the vCPU
	 * (vmm/async_pf.h, docs/async.md). */
	uint32_t threads;
	bool async_pf;
	/* --map-file: a host file backs the data region instead of the swap
	 * file (mapfile.h, docs/mapped-files.md). NULL: none. */
	const char *map_path;
	/* --dma, --dma-latency: the DMA device and how its transfers meet
	 * absent pages (dma.h, docs/dma.md). DMA_OFF: no device. */
	enum dma_mode dma;
	uint64_t dma_page_ns;
	/* --prefetch D: the gather and list workloads prefetch D elements
	 * ahead with prefetch_page(); --read-batch N: the blockio workload's
	 * pages per read_pages(), 0: none, its pages fault in (blockio.h,
	 * docs/async.md). Either, or --workload blockio, needs --disk-depth. */
	bool prefetch_given;
	uint32_t prefetch;
	uint32_t read_batch;

	/* --pager ADDR: the paging server resolves the faults (vmm_remote.c,
	 * docs/external-pager.md); NULL: the in-process pager. Every wait for
	 * it is bounded by pager_timeout_ms (0: 5000). */
	const char *pager_addr;
	int pager_timeout_ms;
	/* --pager-forward: under --trap uffd, forward each fault over the
	 * socket rather than hand the uffd over to the server. */
	bool pager_forward;
	/* --pager-keep KEY / --pager-take KEY: the region starts with the
	 * pages the server keeps under KEY (docs/external-pager.md, "Keeping
	 * a client's pages"); with pager_keep they are kept again at the end. */
	const char *pager_key;
	bool pager_keep;

	/* --dsm ADDR --node I --nodes N: the data region is shared with the
	 * other nodes through the DSM manager at ADDR (vmm_dsm.c,
	 * docs/external-pager.md): faults go to it, not to the pager; needs
	 * the kvm trap, one vCPU and nframes == npages. NULL: no DSM. */
	const char *dsm_addr;
	uint32_t dsm_node, dsm_nodes;
	int dsm_timeout_ms;           /* bound on each wait for the manager */

	/* Trace replay (workload WL_TRACE): references as data-region pages. */
	const vref_t *trace;
	size_t trace_len;
	const uint32_t *next_use;     /* sim_next_use() of trace, for OPT; else NULL */
	const uint64_t *page_ids;     /* vpn -> the trace's own page id, for --record */
};

struct vmm_result {
	struct pager_stats stats;     /* stats.refs: the guest's references */
	uint64_t soft_faults;         /* referenced-bit traps (no I/O) */
	uint64_t dirty_faults;        /* first writes to pages mapped read-only (no I/O) */
	uint64_t guest_errors;        /* data verification mismatches */
	uint64_t swap_reads, swap_writes;
	struct swap_layout_stats swap_layout; /* slot writes, runs, moves */
	uint64_t swap_seeks;          /* swap I/Os not next to the previous one */
	struct io_stats disk;         /* --disk-depth: the engine's counters */
	uint32_t nvcpus;
	struct {
		uint64_t refs;        /* the guest's references on this vCPU */
		uint64_t faults;      /* pager faults served on its thread (sum: stats.faults) */
		uint64_t major;
		double stall_s;       /* its traps to its resumes, lock waits included */
		double cpu_s;         /* its host thread's CPU time */
	} vcpu[VMM_MAX_VCPUS];
	/* --async-pf (summed over the vCPUs; async_pf.h's struct apf_stats) */
	uint64_t async_faults;        /* "page not present" notifications */
	uint64_t apf_ready;           /* "page ready" notifications */
	uint64_t apf_failed;          /* async reads that failed */
	uint64_t apf_halts;           /* HC_APF_WAIT: every thread waited */
	uint64_t apf_sync_major;      /* major faults served on a vCPU's own thread anyway */
	double apf_idle_s;            /* time halted there */
	double apf_idle_cpu_s;        /* host CPU time used while halted */
	/* I/O errors (docs/faults.md). io_errors is the injected ones, each
	 * with its fate, malloc'ed: the caller frees it. */
	struct inject_error *io_errors;
	size_t n_io_errors;
	uint64_t pgerr_delivered;     /* page-in errors delivered to the guest */
	uint64_t pgerr_reported;      /* ... that its handler reported back */
	bool guest_gave_up;           /* the guest exited on a page it could not read */
	double lat_mean_us, lat_p50_us, lat_p99_us; /* pager faults, trap to resume */
	double wall_s;                /* first KVM_RUN to the guest's exit */
	double exit_rtt_us;           /* WL_TOUCH: mean bare exit round trip */
	struct mapfile_stats mapfile; /* --map-file: reads, write-backs by cause, sizes */
	struct dma_stats dma;         /* --dma: transfers, device faults, stalls */
	/* --pager: write-back failures the server reported, returned by the
	 * end-of-run sync (each once) */
	bool remote;
	uint64_t remote_writeback_errors;
	bool bio_on;                  /* --prefetch or blockio: bio is filled */
	struct blockio_stats bio;     /* prefetches, read_pages, write-behind (blockio.h) */
	struct dsm_node_stats dsm;    /* --dsm: this node's requests, pages, invalidations */
	double dsm_lat_p50_us, dsm_lat_p99_us; /* --dsm: REQUEST to GRANT */
	uint64_t guest_checks;        /* what the guest counted in mb->refs */
};

/* What vmm_run() returns. The values are those of pflab's exit statuses
 * (0, 1, 2) so that a caller may pass them on, but the host does not depend
 * on the command line for them. */
enum vmm_status {
	VMM_OK = 0,
	VMM_FAILED = 1,      /* the guest ran and failed */
	VMM_NOT_STARTED = 2, /* the run could not start */
};

/*
 * Run the guest. Returns VMM_OK; VMM_FAILED when the guest failed (its data
 * did not verify, it crashed, it timed out: the reason in err);
 * VMM_NOT_STARTED when the run could not start (no usable /dev/kvm, bad
 * sizes: reason in err).
 */
int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, char *err, size_t errlen);

/* Workloads by name (hidden ones included), or 0. */
uint32_t vmm_workload_find(const char *name);
const char *vmm_workload_name(uint32_t workload);
/* The default repetitions of a workload. */
uint32_t vmm_workload_passes(uint32_t workload);

#endif /* PFLAB_VMM_H */
