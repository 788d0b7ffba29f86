/* SPDX-License-Identifier: MIT */
/*
 * The library's insides: a region, its MMU (the pager's struct mmu on the
 * process's own page tables), its store, and the two trap mechanisms.
 *
 * Where a page's bytes are: while it is mapped, in the region itself (uffd)
 * or in the region's second, always-writable view of the same memory
 * (sigsegv); while it is resident but unmapped (its referenced bit cleared
 * by invalidation) or on its way in or out, in its frame, a page of the
 * region's frame memory.
 */
#ifndef PFLAB_UVM_INTERNAL_H
#define PFLAB_UVM_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdint.h>

#include "mmu.h"
#include "pager.h"
#include "store.h"
#include "store_inject.h"
#include "uvm.h"

/* Per page state, kept by the MMU. */
#define UPG_MAPPED   0x1u /* accessible: its referenced bit is set */
#define UPG_SOFT     0x2u /* resident, unmapped to sample the referenced bit */
#define UPG_WRITABLE 0x4u /* mapped writable */
#define UPG_DIRTY    0x8u /* written since the bit was last cleared */
#define UPG_POISONED 0x10u /* uffd: its read failed; accesses get SIGBUS */

struct uvm_region;
struct uvm_green;
struct green_thread;

/*
 * A fault handed from the thread that took it to a filler thread
 * (handoff.c): a sigsegv fault whose wait is bounded, or a green thread's
 * fault under either trap (green.c). Requests live in a fixed table of the
 * context; one whose waiter gave up (its bound passed) stays taken until
 * its filler is done with it.
 */
struct uvm_req {
	struct uvm_region *r;   /* held (busy) until the filler is done */
	vpn_t vpn;
	enum access_kind kind;
	bool serve;             /* a sigsegv filler runs the fault; uffd: a completion only */
	bool done;
	bool timed_out;         /* the waiter gave up at deadline */
	int rc;                 /* uvm_region_fault's */
	unsigned refs;          /* the waiter's and the filler's */
	uint64_t deadline;      /* CLOCK_MONOTONIC ns */
	struct green_thread *waiter; /* a parked green thread, or NULL */
	struct uvm_req *next;   /* the queue, or the free list */
	pthread_cond_t done_cond; /* an OS thread waiting for it (u->qlock) */
};

/* A wait that passed its bound (fill_timeout_ns): the access gets SIGBUS. */
#define UVM_EBOUND (-ETIME)

static inline pid_t uvm_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * A filler thread's timer slack: 1 us instead of Linux's default 50 us, so
 * that a modelled disk latency (uvm_config.disk_latency_ns), slept by the
 * filler that does the I/O, is the latency asked for, not up to 50 us more
 * (a 100 us disk slept 150 us). Called once by each filler at its start.
 */
#define UVM_FILLER_SLACK_NS 1000
void uvm_filler_slack(void);

#define UVM_REQS 256          /* requests in flight per context at most */
#define UVM_CARRIERS 16       /* OS threads running green threads at once */

struct uvm_trap_ops {
	const char *name;
	int (*init)(struct uvm_region *r, char *err, size_t errlen);
	void (*fini)(struct uvm_region *r);
	/* Make page vpn accessible with frame f's bytes, read-only or writable. */
	int (*install)(struct uvm_region *r, vpn_t vpn, frame_t f, bool writable);
	/* Make vpn inaccessible; keep its bytes in frame f when keep. */
	int (*remove)(struct uvm_region *r, vpn_t vpn, frame_t f, bool keep);
	/* Mapped vpn: to read-only / writable. */
	int (*protect)(struct uvm_region *r, vpn_t vpn, bool writable);
	/* Where mapped vpn's bytes can be read and written by the library. */
	uint8_t *(*bytes)(struct uvm_region *r, vpn_t vpn);
};

extern const struct uvm_trap_ops uvm_trap_uffd;
extern const struct uvm_trap_ops uvm_trap_sigsegv;

/* The store behind a region (store.c). */
struct uvm_store {
	struct backing_store bs;
	struct uvm_region *r;
	enum uvm_store_kind kind;
	int fd;                 /* swap and file */
	bool own_fd;
	off_t offset;
	uint8_t *mem;           /* memory */
	size_t mem_len;
	struct uvm_store_callbacks cb;
	uint64_t latency_ns;
	int64_t corrupt_page;   /* test knob: see uvm_config; -1 none, -2 done */
};

struct uvm_mmu {
	struct mmu mmu;
	struct uvm_region *r;
};

struct uvm_region {
	struct uvm *u;
	const struct uvm_trap_ops *trap;
	uint8_t *va;            /* the region, npages * psz bytes */
	uint8_t *alias;         /* sigsegv: the writable view */
	size_t len, psz;
	uint32_t npages;
	uint8_t *frames;        /* frame memory, nframes * psz */
	uint32_t nframes;

	pthread_mutex_t lock;   /* the pager lock: every fault path takes it */
	struct pager *pager;
	struct uvm_mmu mmu;
	struct uvm_store store;
	struct inject_store inject;
	bool inject_on;
	struct backing_store *lower; /* the store, or its injector */
	struct backing_store watch; /* what the pager calls: keeps wb_error */
	int wb_error;           /* first write-back error since the last flush */
	int busy;               /* handlers inside the region (atomic) */

	uint8_t *state;         /* per page: UPG_* */
	frame_t *frame;         /* per page: its frame while resident */
	bool keep_on_unmap;     /* a free pool reuses an unmapped page's frame */
	bool wp;                /* dirty bits by write protection (else: every map dirties) */
	int mmu_error;          /* first error of an MMU call that cannot return one */
	bool bounded;           /* sigsegv, uffd sigbus: a fault's wait is bounded (handed to a filler) */
	bool sigbus;            /* uffd: faults raise SIGBUS on the faulting thread (uvm_config) */
	int ufd;                /* uffd: the userfaultfd its ioctls go to (u->uffd or u->sigbus_uffd) */

	uint32_t read_ahead;
	uint64_t fill_timeout_ns;
	const struct uvm_replay *replay;
	uint64_t hits_from;     /* replay: references shown to the policy so far */
	void (*on_fault)(void *ctx, uint64_t page, bool write);
	void *on_fault_ctx;

	uint64_t soft_faults, wp_faults, timeouts, prefetched;
	/* Fault latency: a log2 histogram with 8 steps per octave, in ns. */
	uint32_t lat_hist[64 * 8];
	uint64_t lat_n;
	double lat_sum_ns;
	char err[256];
};

struct uvm {
	pthread_mutex_t lock;   /* the region registry */
	struct uvm_region **regions; /* sorted by va */
	size_t nregions, cap;
	unsigned nfillers;

	/* uffd: one userfaultfd for every uffd region of the context */
	int uffd;
	int stop_fd;
	uint64_t features;
	pthread_t *fillers;
	unsigned fillers_running;
	pthread_t watchdog;
	bool watchdog_running;
	/* per filler: the fault it serves (address, start ns), 0: none */
	uint64_t *inflight_addr, *inflight_start;
	int *inflight_poisoned;

	/* uffd sigbus: a second userfaultfd, UFFD_FEATURE_SIGBUS: no messages,
	 * no fillers of its own; its faults come to the SIGBUS handler */
	int sigbus_uffd;
	uint64_t sigbus_features;

	bool segv_registered;
	bool bus_registered;

	/* handoff.c: requests, the sigsegv fillers' queue, the green carriers.
	 * qlock is taken in signal handlers: never held around a call that
	 * can fault on a region. */
	pthread_mutex_t qlock;
	pthread_cond_t qwork;   /* a request queued for the sigsegv fillers */
	struct uvm_req *reqs, *free_reqs, *qhead, *qtail;
	pthread_t *segv_fillers;
	unsigned segv_fillers_running;
	bool segv_stop;
	pid_t carrier_tid[UVM_CARRIERS];       /* 0: free slot */
	struct uvm_green *carrier[UVM_CARRIERS];
};

/* region.c */
/* The region holding addr, held until uvm_release(); or NULL. */
struct uvm_region *uvm_lookup(struct uvm *u, const void *addr);
void uvm_release(struct uvm_region *r);
/* Serve a trap on page vpn. 0, or -errno when the access must get an error
 * (SIGBUS): the page could not be read, no frame. Takes r->lock. */
int uvm_region_fault(struct uvm_region *r, vpn_t vpn, enum access_kind kind);
uint64_t uvm_now_ns(void);
/* The same for a trap that needs no store I/O (a soft fault, a first write
 * to a mapped page), or UVM_NOT_QUICK without doing anything. */
#define UVM_NOT_QUICK 2
int uvm_region_fault_quick(struct uvm_region *r, vpn_t vpn, enum access_kind kind);

/* handoff.c */
void uvm_handoff_init(struct uvm *u);
void uvm_handoff_fini(struct uvm *u);
/* The request table, and (sigsegv) the filler threads. 0, or -1 with a reason. */
int uvm_handoff_start(struct uvm *u, bool segv_fillers, char *err, size_t errlen);
/* A request for vpn of r (taken: busy), or NULL when every one is in use. */
struct uvm_req *uvm_req_new(struct uvm *u, struct uvm_region *r, vpn_t vpn,
			    enum access_kind kind, bool serve);
struct uvm_req *uvm_req_new_locked(struct uvm *u, struct uvm_region *r, vpn_t vpn,
				   enum access_kind kind, bool serve);
/* To the sigsegv fillers. */
void uvm_req_submit(struct uvm *u, struct uvm_req *q);
void uvm_req_submit_locked(struct uvm *u, struct uvm_req *q);
/* The fault was served with rc: wake its waiter; drop the filler's hold. */
void uvm_req_complete(struct uvm *u, struct uvm_req *q, int rc);
/* The same under u->qlock; the caller releases the region's hold. */
void uvm_req_complete_locked(struct uvm *u, struct uvm_req *q, int rc);
/* An OS thread waits for q, until its deadline: rc, or UVM_EBOUND. */
int uvm_req_wait(struct uvm *u, struct uvm_req *q);
/* Drop a reference; the last one frees q. Called with u->qlock held. */
void uvm_req_put_locked(struct uvm *u, struct uvm_req *q);
/* Serve a sigsegv trap on the faulting thread: in the handler, handed to a
 * filler with a bounded wait, or parked (a green thread). */
int uvm_segv_fault(struct uvm *u, struct uvm_region *r, vpn_t vpn, enum access_kind kind);

/* green.c */
/* The green scheduler running on OS thread tid with a green thread
 * current, or NULL. Async-signal-safe. */
struct uvm_green *uvm_green_on(struct uvm *u, pid_t tid);
/* Park the current green thread of g until q is done or its deadline:
 * rc, or -ETIMEDOUT. Drops the waiter's reference. */
int uvm_green_park(struct uvm_green *g, struct uvm_req *q);
/* A fault of the current green thread to hand to a filler: the request
 * made, submitted and the thread parked under one hold of u->qlock. rc, or
 * UVM_EBOUND, or -EAGAIN when every request is in use. */
int uvm_green_fault_park(struct uvm_green *g, struct uvm_region *r, vpn_t vpn,
			 enum access_kind kind);
/* Under u->qlock: q's waiter is runnable again. */
void uvm_green_wake_locked(struct green_thread *t);
/* uffd: tell carrier tid that its green thread's fault q is being served. */
void uvm_green_kick(pid_t tid, struct uvm_req *q);

/* store.c */
int uvm_store_open(struct uvm_region *r, const struct uvm_config *cfg, char *err, size_t errlen);
void uvm_store_close(struct uvm_store *s);
/* Where page vpn's bytes are now: in the region if mapped, else in frame f. */
uint8_t *uvm_page_bytes(struct uvm_region *r, vpn_t vpn, frame_t f);

/* mmu.c */
void uvm_mmu_init(struct uvm_mmu *m, struct uvm_region *r);

/* trap_uffd.c: the context's userfaultfd, opened with its first uffd region */
int uvm_uffd_open(struct uvm *u, char *err, size_t errlen);
/* The features UFFDIO_API granted: 0 if the trap can fail closed (it has
 * UFFD_FEATURE_POISON), else -1 and why uvm_map refuses the uffd trap. */
int uvm_uffd_check_features(uint64_t features, char *err, size_t errlen);
void uvm_uffd_close(struct uvm *u);
/* The context's UFFD_FEATURE_SIGBUS userfaultfd, opened with its first
 * sigbus region. 0, or -1 with a reason. */
int uvm_uffd_open_sigbus(struct uvm *u, char *err, size_t errlen);
/* Poison page vpn of a sigbus region after its read failed (under r->lock):
 * its accesses get the kernel's SIGBUS (BUS_MCEERR_AR) until a prefetch. */
int uvm_uffd_poison(struct uvm_region *r, vpn_t vpn);
/* trap_sigsegv.c: the process's SIGSEGV handler, shared by every context */
int uvm_segv_register(struct uvm *u, char *err, size_t errlen);
void uvm_segv_unregister(struct uvm *u);
/* The process's SIGBUS handler, for uffd sigbus regions (and the SIGSEGV
 * one: the context is registered with it). */
int uvm_bus_register(struct uvm *u, char *err, size_t errlen);

#endif /* PFLAB_UVM_INTERNAL_H */
