/* SPDX-License-Identifier: MIT */
/*
 * pflab's user-level paging library (docs/uvm.md): a region of the calling
 * process whose pages pflab's pager keeps in a fixed number of frames,
 * bringing them in on faults from a store and writing dirty ones back, with
 * any of pflab's replacement policies. Faults reach the pager through
 * userfaultfd (a handler thread) or through SIGSEGV (the faulting thread).
 *
 * The library is one more client of the pager, beside the KVM host
 * (docs/architecture.md). This header is its whole interface: it needs no
 * other pflab header.
 *
 * Errors: calls that create return NULL and write a one-line reason into
 * err; the others return 0 or -errno. A page that cannot be read from its
 * store is never shown as zeros: the access gets SIGBUS with si_addr the
 * address, as the kernel does for a mapped file it cannot read.
 */
#ifndef PFLAB_UVM_H
#define PFLAB_UVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uvm;        /* a process's paging context: regions, trap handlers */
struct uvm_region; /* one paged region */

enum uvm_trap {
	UVM_TRAP_UFFD,    /* userfaultfd: MISSING faults, WP for dirty bits */
	UVM_TRAP_SIGSEGV, /* PROT_NONE + SIGSEGV handler + mprotect */
};

enum uvm_store_kind {
	UVM_STORE_SWAP,      /* an anonymous temporary file, never linked (the default) */
	UVM_STORE_MEMORY,    /* memory outside the budget: measures the fault path alone */
	UVM_STORE_FILE,      /* an existing file at an offset: a shared file mapping */
	UVM_STORE_CALLBACKS, /* the program's own read and write functions */
};

/* A store given by the program. page is the region's page number; len its
 * page size. Each returns 0 or -errno. */
struct uvm_store_callbacks {
	int (*read)(void *ctx, uint64_t page, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t page, const void *buf, size_t len);
	void *ctx;
	bool zero_first; /* a page never written back reads as zeros, without read() */
};

/*
 * Exact replay (pflab proc --trace): the program tells the pager which
 * reference of a known string it is making, so that virtual time, OPT's
 * future and the access kind are the reference's. refs[i] is a page number
 * with bit 31 set for a write; next_use[i] the 1-based time of the next
 * reference to the same page, 0 for none (NULL unless the policy reads the
 * future). Before each access, the program stores i in *index.
 */
struct uvm_replay {
	const uint32_t *refs;
	const uint32_t *next_use;
	size_t len;
	const volatile uint64_t *index;
};

#define UVM_TICK_NONE UINT64_MAX
/* fill_timeout_ns: no bound (sigsegv: the handler serves the fault itself,
 * the classic technique; a store that hangs then hangs the access). */
#define UVM_TIMEOUT_NONE UINT64_MAX

struct uvm_config {
	size_t pages;           /* the region's size, in pages */
	size_t page_size;       /* a multiple of 4096; 0: 4096 */
	uint32_t frames;        /* pages resident at most */
	const char *policy;     /* any of `pflab policies`; NULL: "clock" */
	/* Policy knobs as `pflab sim` takes them; 0: the default; tick
	 * UVM_TICK_NONE: no clock tick. */
	uint64_t seed, tick, window;
	unsigned aging_bits;
	enum uvm_trap trap;
	/* uffd only: the region gets the context's second userfaultfd, opened
	 * with UFFD_FEATURE_SIGBUS: a fault raises SIGBUS on the faulting
	 * thread at once, whose handler serves it as the sigsegv trap's does
	 * (a green thread parks and its carrier switches without waiting for
	 * a filler). A system call that touches an absent page of the region
	 * then fails with EFAULT instead of waiting. For regions that green
	 * threads use (docs/uvm.md, "Green threads"). */
	bool sigbus;
	enum uvm_store_kind store;
	const char *file;       /* UVM_STORE_FILE: an existing regular file */
	off_t file_offset;      /* where the region's page 0 starts in it (page-aligned) */
	struct uvm_store_callbacks callbacks; /* UVM_STORE_CALLBACKS */
	uint64_t disk_latency_ns; /* a modelled device latency added to each store I/O */
	uint32_t read_ahead;    /* pages after a major fault's page read with it */
	uint32_t pool_low, pool_high; /* the free pool's watermarks (pflab's pool); 0: none */
	/* A fault unanswered this long gets SIGBUS (uffd; sigsegv with a store
	 * that can block, or from a green thread); 0: 10 s. UVM_TIMEOUT_NONE:
	 * none. */
	uint64_t fill_timeout_ns;
	const char *inject;     /* test: fail chosen store I/Os (pflab run --inject's SPEC) */
	bool corrupt;           /* test: flip byte 123 of page corrupt_page's stored copy */
	uint64_t corrupt_page;  /*   after its first write-back (the program must notice) */
	const struct uvm_replay *replay; /* exact replay, or NULL */
	/* Called for each fault the pager serves (not soft ones), with the
	 * region's lock held, on the thread that serves it; or NULL. */
	void (*on_fault)(void *ctx, uint64_t page, bool write);
	void *on_fault_ctx;
};

/* Per-process options. */
struct uvm_options {
	/* Filler threads, each serving one fault at a time: uffd handler
	 * threads, and (sigsegv) the threads a bounded or a green thread's
	 * fault is handed to; 0: 1. */
	unsigned fillers;
};

struct uvm_stats {
	uint64_t faults;        /* faults the pager served: major + minor */
	uint64_t major;         /* read from the store */
	uint64_t minor;         /* zero-filled, or reclaimed from the free pool */
	uint64_t soft_faults;   /* traps that only set a referenced bit (no I/O) */
	uint64_t wp_faults;     /* first writes to a page mapped read-only: its dirty bit */
	uint64_t evictions;
	uint64_t writebacks;
	uint64_t pagein_errors; /* store reads that failed: SIGBUS to the access */
	uint64_t writeback_errors; /* store writes that failed: the page stayed dirty */
	uint64_t timeouts;      /* faults not answered within fill_timeout_ns */
	uint64_t prefetched;    /* pages brought in by uvm_prefetch and read-ahead */
	uint64_t resident;      /* pages resident now */
	double lat_mean_us, lat_p50_us, lat_p99_us; /* per pager fault, in the handler */
	/* Several threads: a fault on a page whose read (or write-back) is in
	 * flight waits for it (inflight_waits, counted as it starts waiting);
	 * shared_reads counts those the other's read served, without a second
	 * read (not counted in faults). */
	uint64_t inflight_waits;
	uint64_t shared_reads;
};

/* NULL with a reason in err. opt may be NULL. */
struct uvm *uvm_open(const struct uvm_options *opt, char *err, size_t errlen);
/* Unmap every region left (writing dirty pages back) and release all. */
void uvm_close(struct uvm *u);

/* Map a new region: all its pages absent. NULL with a reason in err. */
struct uvm_region *uvm_map(struct uvm *u, const struct uvm_config *cfg, char *err,
			   size_t errlen);
void *uvm_addr(const struct uvm_region *r);
size_t uvm_length(const struct uvm_region *r);
size_t uvm_page_size(const struct uvm_region *r);

/*
 * Write every dirty page back, then release the region. If a write-back
 * fails, the region stays mapped and intact (nothing lost) and the error is
 * returned; with discard, dirty pages are dropped instead.
 */
int uvm_unmap(struct uvm_region *r, bool discard);

/* Bring the pages of [addr, addr + len) in now, as faults would. */
int uvm_prefetch(struct uvm_region *r, const void *addr, size_t len);
/* Lock the pages of the range in their frames (faulting them in) / unlock. */
int uvm_pin(struct uvm_region *r, const void *addr, size_t len);
int uvm_unpin(struct uvm_region *r, const void *addr, size_t len);
/*
 * msync: write the range's dirty pages back (addr NULL: the whole region).
 * Returns the first error: of this flush's writes, or of a write-back that
 * failed since the last flush (an eviction's); the error is then cleared.
 */
int uvm_flush(struct uvm_region *r, const void *addr, size_t len);

/*
 * Exact replay of a policy with a clock tick (NRU, Aging): the program has
 * made references [0, done) and none after; run the ticks due by then, as
 * the simulator does after its tick-th reference. Call it whenever done is
 * a multiple of the tick (the tick knob; POLICY_PARAMS' 1000 by default).
 */
void uvm_replay_tick(struct uvm_region *r, uint64_t done);

void uvm_stats(struct uvm_region *r, struct uvm_stats *out);

/*
 * Green threads (docs/uvm.md): user-level threads that the calling OS
 * thread runs in turn. A green thread that faults on a page of one of u's
 * regions is parked while one of u's filler threads serves the fault, and
 * another runnable green thread runs; the fault's completion makes it
 * runnable again and the access restarts. Both traps. A fault that fails,
 * or is not served within the region's fill_timeout_ns, reaches the green
 * thread as SIGBUS at the address. While uvm_green_run runs, SIGURG is the
 * library's (uffd: a filler's word to the scheduler) and the thread has no
 * alternate signal stack.
 */
struct uvm_green;
struct uvm_green_stats {
	uint64_t threads;       /* spawned */
	uint64_t switches;      /* times the scheduler ran a green thread */
	uint64_t parks;         /* faults a green thread was parked for */
	uint64_t timeouts;      /* parked past the region's bound: SIGBUS */
};
/* A scheduler for at most max_threads green threads of stack_size bytes
 * each (0: 256 KiB). NULL with a reason in err. */
struct uvm_green *uvm_green_create(struct uvm *u, unsigned max_threads, size_t stack_size,
				   char *err, size_t errlen);
/* A new green thread running fn(arg), runnable. 0 or -errno (-ENOSPC: max). */
int uvm_green_spawn(struct uvm_green *g, void (*fn)(void *arg), void *arg);
/* Run the green threads on the calling thread until every one has returned.
 * 0, or -errno (-EBUSY: more than 16 OS threads run green threads of u). */
int uvm_green_run(struct uvm_green *g);
/* From a green thread: let the others run first. */
void uvm_green_yield(struct uvm_green *g);
void uvm_green_stats(const struct uvm_green *g, struct uvm_green_stats *out);
/* After uvm_green_run has returned. */
void uvm_green_destroy(struct uvm_green *g);
/* Why the region's last failed call failed, or "". */
const char *uvm_strerror(struct uvm_region *r);

#ifdef __cplusplus
}
#endif
#endif /* PFLAB_UVM_H */
