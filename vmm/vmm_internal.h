/* SPDX-License-Identifier: MIT */
/*
 * Inside the KVM host's run (vmm.h is its interface): struct vmm, the state
 * of one run, and what its three files share.
 *
 *   vmm.c        set-up, tear-down, results, vmm_run(), the timeout, the workload names
 *   vmm_exit.c   the vCPU's exit loop, its exit handlers and the hypercalls
 *   vmm_fault.c  the data-fault path: a trapped access to a data page, through the pager
 *
 * docs/vmm.md walks through the fault path.
 */
#ifndef PFLAB_VMM_INTERNAL_H
#define PFLAB_VMM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "client.h"
#include "inspect.h"
#include "kvm_vm.h"
#include "swap.h"
#include "vmm.h"
#include "../guest/abi.h"

#define PAGE 4096u

struct vmm;

/* One vCPU and its host thread (--vcpus; docs/vmm.md#several-vcpus). */
struct vcpu {
	struct vmm *v;
	uint32_t id;
	struct kvm_vm vm;           /* its view of the VM: its own vcpu_fd and run */
	volatile struct pflab_mailbox *mb; /* its own mailbox */
	pthread_t thread;
	bool thread_started;
	bool exited;                /* it made HC_EXIT */
	int rc;                     /* run_vcpu()'s */
	char line[200];             /* its console line being assembled */
	size_t line_len;
	/* pager faults served on its thread, of them major; time from its
	 * traps to its resumes (the pager lock's wait included) */
	uint64_t faults, major, stall_ns;
	size_t pgerr_log;           /* 1 + the inject log entry delivered last to it, or 0 */
	uint64_t cpu_ns;            /* its thread's CPU time in run_vcpu() */
	uint64_t sync_major;        /* --async-pf: major faults served on its own thread */
};

struct vmm {
	const struct vmm_config *cfg;
	struct kvm_vm vm;
	uint8_t *wired;
	volatile struct pflab_mailbox *mb;
	struct region region;
	struct kvm_mmu mmu;
	struct swap_store store;
	bool store_open;
	struct inject_store inject; /* --inject: wraps store (docs/faults.md) */
	struct mapfile_store mapfile; /* --map-file: the store instead (mapfile.h) */
	bool mapfile_open;
	bool inject_open;
	uint64_t pgerr_delivered, pgerr_reported; /* under fault_lock */
	struct pager *pager;
	struct dma_dev *dma;        /* --dma: the DMA device (dma.h), or NULL */
	struct blockio *bio;        /* --prefetch, blockio: page-level I/O (blockio.h), or NULL */
	struct guest_ram ram;        /* what inspect.c reads instructions from */
	struct fault_log *flog;     /* --fault-log, or NULL */
	struct apf *apf;            /* --async-pf (async_pf.h, vmm_apf.c), or NULL */
	struct dsm_node *dsm;       /* --dsm: this node (vmm_dsm.c), or NULL */

	size_t trace_sent;          /* references handed to the guest so far */
	uint64_t hits_from;         /* OPT: first reference not yet shown to it */
	pthread_mutex_t fault_lock; /* data_fault() is not reentrant; also the pager
				       lock of the paging daemon (pool.h) */

	uint32_t *lat_ns;           /* per pager fault */
	size_t nlat, lat_cap;
	uint64_t nops, nop_first_ns, nop_last_ns;
	uint64_t start_ns;

	struct vcpu vcpus[PFLAB_MAX_VCPUS];
	uint32_t nvcpus;
	int stopping;               /* a vCPU failed: the others stop (atomic) */

	/* --timeout: a timer thread kicks the vCPUs out of KVM_RUN. */
	pthread_t timer;
	bool timer_running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int timed_out;

	/* --pager ADDR: the paging server's client (vmm_remote.c); then
	 * pager is NULL and store closed. */
	struct pclient *pc;
	struct pclient_pages rpages;
	struct pclient_region rreg;
	bool rreg_open;
	int remote_errno;           /* a page-in error's, for deliver_page_error() */
	char remote_why[256];
	uint64_t rfaults, rmajor;   /* misses served by the server, of them major */
	uint64_t rsynced_errors;    /* write-back failures the final sync returned */
	struct proto_stats rstats;  /* the region's counters at the end */
	bool handover;              /* --trap uffd: the uffd is the server's (vmm_remote.c) */
	int mon_stop;               /* eventfd: stops the monitor thread */
	pthread_t mon;
	bool mon_running;

	char err[640];
};

/* The monotonic clock, in ns: latencies, the timeout, wall time. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Why the last data_fault() could not read its page in: errno and text. */
static inline int fault_errno(const struct vmm *v)
{
	return v->pc ? v->remote_errno : -v->pager->fail_errno;
}

static inline const char *fault_why(const struct vmm *v)
{
	return v->pc ? v->remote_why : v->pager->err;
}

/* vmm_remote.c: --pager (see there) */
int vmm_remote_open(struct vmm *v);
int vmm_remote_start(struct vmm *v);
int vmm_remote_fault(struct vmm *v, vpn_t vpn, enum access_kind kind, bool *major);
int vmm_remote_touch(struct vmm *v, vpn_t vpn, enum access_kind kind);
int vmm_remote_finish(struct vmm *v);
void vmm_remote_close(struct vmm *v);

/* vmm.c */
int vmm_fail(struct vmm *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stop every vCPU: each leaves KVM_RUN at once (vmm.c). */
void kick_vcpus(struct vmm *v);

/* vmm_dsm.c: the data region as a node of a DSM (--dsm) */
int vmm_dsm_open(struct vmm *v);
int vmm_dsm_fault(struct vmm *v, vpn_t vpn, enum access_kind kind);
/* The run is over: give the pages back (when ok), count, close. false if
 * the pages could not be given back (the reason in v->err). */
bool vmm_dsm_close(struct vmm *v, struct vmm_result *res, bool ok);

/* vmm_exit.c */
int run_vcpu(struct vcpu *c);
void console_byte(struct vcpu *c, char ch);
const uint8_t *readable_page(void *ctx, uint64_t gpa);

/* vmm_apf.c: async page faults on the KVM host (docs/async.md). With the
 * fault lock held, on vCPU c's thread: 1 if the fault at gpa was taken
 * asynchronously (the guest told "not present") or a failed async read was
 * delivered to its waiter; 0 to serve it synchronously; -1 on failure. */
int apf_trap(struct vcpu *c, uint64_t gpa, enum access_kind kind);
/* HC_APF_WAIT on vCPU c: 0, or -1. */
int apf_halt(struct vcpu *c);
int apf_setup(struct vmm *v);

/* vmm_fault.c: c is the vCPU that trapped, NULL under uffd (no vCPU known) */
int data_fault(struct vmm *v, struct vcpu *c, vpn_t vpn, enum access_kind kind);
int data_fault_async(struct vmm *v, struct vcpu *c, vpn_t vpn, enum access_kind kind);
int deliver_page_error(struct vcpu *c, uint64_t gpa, bool write);
int on_uffd_fault(void *ctx, vpn_t vpn, enum access_kind kind);

/* vmm_blockio.c: the hypercalls of blockio.h; and, before each KVM_RUN,
 * the upcall of a failed asynchronous read. 0 or -1. */
int blockio_hcall(struct vcpu *c, uint32_t nr);
int blockio_before_run(struct vcpu *c);

#endif /* PFLAB_VMM_INTERNAL_H */
