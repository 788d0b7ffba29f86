/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous page faults (--async-pf, docs/async.md#the-async-pf-protocol):
 * the host's half of a paravirtual protocol in the spirit of KVM's async PF
 * (Natapov, "KVM: Add asynchronous page fault for PV guest", 2010).
 *
 * A vCPU's fault that needs I/O is not served on the vCPU's thread: the
 * caller reserves a token (apf_reserve), tells the guest "page not present,
 * token T" (an upcall it delivers itself), and commits (apf_commit): a
 * worker thread of this module then serves the fault (the caller's serve
 * callback: the pager, which reads the page through the I/O engine and maps
 * it) and publishes "page ready, token T" in the vCPU's mailbox ring, waking
 * the vCPU if it halts in apf_wait(). A read that failed is remembered with
 * its token: when the thread parked on it runs its faulting instruction
 * again (the guest names the token it resumes in mb->apf_resumed),
 * apf_take_failure() hands the error over for the page-error upcall.
 *
 * This file knows nothing of KVM or the pager: a fault is a vCPU, a page
 * and an access kind, a mailbox is the ABI's struct. No allocation after
 * apf_create(): per vCPU, PFLAB_MAX_THREADS tokens in flight at most (one
 * per green thread); a fault that finds none free is served synchronously.
 */
#ifndef PFLAB_ASYNC_PF_H
#define PFLAB_ASYNC_PF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../guest/abi.h"
#include "types.h"

#define APF_SLOTS PFLAB_MAX_THREADS /* tokens in flight per vCPU */
#define APF_FATAL (-100000)         /* serve(): the run has failed; nothing to deliver */

struct apf_config {
	uint32_t nvcpus;                       /* 1..PFLAB_MAX_VCPUS */
	uint32_t nworkers;                     /* threads serving faults, 1..nvcpus * APF_SLOTS */
	volatile struct pflab_mailbox *mb[PFLAB_MAX_VCPUS]; /* each vCPU's, with the ring */
	/* Make vpn resident for vcpu's fault (on a worker thread): 0; -errno
	 * when the page could not be read in (delivered to the waiter later);
	 * APF_FATAL when the run cannot go on (the callback says why). */
	int (*serve)(void *ctx, uint32_t vcpu, vpn_t vpn, enum access_kind kind);
	void *ctx;
	FILE *log;                             /* a line per notification, or NULL */
};

struct apf_stats {
	uint64_t not_present;  /* tokens handed out: faults served asynchronously */
	uint64_t ready;        /* page-ready notifications published (failed ones included) */
	uint64_t failed;       /* of them, reads that failed */
	uint64_t failures_delivered; /* failed reads handed over by apf_take_failure() */
	uint64_t busy;         /* faults served synchronously: no token free */
	uint64_t halts;        /* apf_wait() calls */
	uint64_t idle_ns;      /* time blocked in them */
	uint64_t idle_cpu_ns;  /* CPU time the calling thread used in them */
	uint64_t overflows;    /* a ring found full: the guest does not consume it */
};

struct apf;

/* NULL with a reason in err. */
struct apf *apf_create(const struct apf_config *cfg, char *err, size_t errlen);
/* Waits for the faults being served, stops the workers. NULL is fine. */
void apf_destroy(struct apf *a);

/* Take a token for vcpu's fault on vpn: 0, or -EBUSY when all of the
 * vCPU's tokens are in flight (serve that fault synchronously). */
int apf_reserve(struct apf *a, uint32_t vcpu, vpn_t vpn, enum access_kind kind, uint64_t *token);
/* The guest has been told: serve it. */
void apf_commit(struct apf *a, uint32_t vcpu, uint64_t token);
/* The guest could not be told: give the token back. */
void apf_cancel(struct apf *a, uint32_t vcpu, uint64_t token);

/* vcpu faults on vpn while resuming the thread parked on token resumed:
 * if that token's read of vpn failed, 1 and its positive errno in *err
 * (the failure is consumed); else 0. */
int apf_take_failure(struct apf *a, uint32_t vcpu, uint64_t resumed, vpn_t vpn, int *err);

/* The guest halts (HC_APF_WAIT): block until vcpu's ring holds a token the
 * guest has not consumed, or *stop or *stop_too (read atomically) is set:
 * 0, or -1 when stopped. Never spins: a timed condition wait, the timeout
 * only to look at the flags again. */
int apf_wait(struct apf *a, uint32_t vcpu, const int *stop, const int *stop_too);

struct apf_stats apf_stats(struct apf *a, uint32_t vcpu);

#endif /* PFLAB_ASYNC_PF_H */
