// SPDX-License-Identifier: MIT
/*
 * A fault handed from the thread that took it to a filler thread, and a
 * bounded wait for it (docs/uvm.md, "Failing closed" and "Green threads").
 *
 * Under sigsegv the faulting thread is the natural filler: the handler runs
 * the pager and the store's read on it. A store that never answers would
 * then hang it, and a green thread's read would stop every green thread of
 * its OS thread. So a sigsegv fault whose store can block is handed to one
 * of the context's filler threads: the faulting thread waits at most the
 * region's fill_timeout_ns (then the access gets SIGBUS at its address,
 * never zeros: the fault is counted in timeouts and the filler installs the
 * page's own bytes when the store answers), and a green thread parks
 * instead of waiting, so another one runs (green.c).
 *
 * Requests come from a fixed table of the context (UVM_REQS), allocated
 * with the fillers: the signal handler allocates nothing. A request whose
 * waiter gave up stays taken until its filler is done with it; with every
 * request taken, a fault fails closed (-EAGAIN: SIGBUS) instead of waiting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "uvm_internal.h"

static void cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

void uvm_handoff_init(struct uvm *u)
{
	pthread_mutex_init(&u->qlock, NULL);
	cond_init_monotonic(&u->qwork);
}

void uvm_filler_slack(void)
{
	prctl(PR_SET_TIMERSLACK, UVM_FILLER_SLACK_NS, 0, 0, 0);
}

static void *segv_filler_main(void *arg)
{
	struct uvm *u = arg;

	uvm_filler_slack();

	pthread_mutex_lock(&u->qlock);
	for (;;) {
		struct uvm_req *q;
		int rc;

		while (!u->qhead && !u->segv_stop)
			pthread_cond_wait(&u->qwork, &u->qlock);
		if (!u->qhead)
			break;
		q = u->qhead;
		u->qhead = q->next;
		if (!u->qhead)
			u->qtail = NULL;
		pthread_mutex_unlock(&u->qlock);
		rc = uvm_region_fault(q->r, q->vpn, q->kind);
		uvm_release(q->r);
		/* Completed under the hold that looks for the next request. */
		pthread_mutex_lock(&u->qlock);
		uvm_req_complete_locked(u, q, rc);
	}
	pthread_mutex_unlock(&u->qlock);
	return NULL;
}

int uvm_handoff_start(struct uvm *u, bool segv_fillers, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&u->qlock);
	if (!u->reqs) {
		u->reqs = calloc(UVM_REQS, sizeof(*u->reqs));
		if (!u->reqs) {
			pthread_mutex_unlock(&u->qlock);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (unsigned i = 0; i < UVM_REQS; i++) {
			u->reqs[i].next = i + 1 < UVM_REQS ? &u->reqs[i + 1] : NULL;
			cond_init_monotonic(&u->reqs[i].done_cond);
		}
		u->free_reqs = &u->reqs[0];
	}
	pthread_mutex_unlock(&u->qlock);
	if (!segv_fillers || u->segv_fillers)
		return 0;
	u->segv_fillers = calloc(u->nfillers, sizeof(*u->segv_fillers));
	if (!u->segv_fillers) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < u->nfillers; i++) {
		rc = pthread_create(&u->segv_fillers[i], NULL, segv_filler_main, u);
		if (rc) {
			snprintf(err, errlen, "filler thread: %s", strerror(rc));
			return -1; /* the ones started are joined by uvm_handoff_fini */
		}
		u->segv_fillers_running++;
	}
	return 0;
}

void uvm_handoff_fini(struct uvm *u)
{
	pthread_mutex_lock(&u->qlock);
	u->segv_stop = true;
	pthread_cond_broadcast(&u->qwork);
	pthread_mutex_unlock(&u->qlock);
	for (unsigned i = 0; i < u->segv_fillers_running; i++)
		pthread_join(u->segv_fillers[i], NULL);
	free(u->segv_fillers);
	for (unsigned i = 0; u->reqs && i < UVM_REQS; i++)
		pthread_cond_destroy(&u->reqs[i].done_cond);
	free(u->reqs);
	pthread_cond_destroy(&u->qwork);
	pthread_mutex_destroy(&u->qlock);
}

struct uvm_req *uvm_req_new(struct uvm *u, struct uvm_region *r, vpn_t vpn,
			    enum access_kind kind, bool serve)
{
	struct uvm_req *q;

	pthread_mutex_lock(&u->qlock);
	q = uvm_req_new_locked(u, r, vpn, kind, serve);
	pthread_mutex_unlock(&u->qlock);
	return q;
}

struct uvm_req *uvm_req_new_locked(struct uvm *u, struct uvm_region *r, vpn_t vpn,
				   enum access_kind kind, bool serve)
{
	struct uvm_req *q = u->free_reqs;

	if (q) {
		u->free_reqs = q->next;
		q->r = r;
		q->vpn = vpn;
		q->kind = kind;
		q->serve = serve;
		q->done = q->timed_out = false;
		q->rc = 0;
		q->refs = 2;
		q->deadline = uvm_now_ns() + r->fill_timeout_ns;
		q->waiter = NULL;
		q->next = NULL;
		__atomic_add_fetch(&r->busy, 1, __ATOMIC_ACQUIRE);
	}
	return q;
}

void uvm_req_put_locked(struct uvm *u, struct uvm_req *q)
{
	if (--q->refs == 0) {
		q->next = u->free_reqs;
		u->free_reqs = q;
	}
}

void uvm_req_submit_locked(struct uvm *u, struct uvm_req *q)
{
	q->next = NULL;
	if (u->qtail)
		u->qtail->next = q;
	else
		u->qhead = q;
	u->qtail = q;
	pthread_cond_signal(&u->qwork);
}

void uvm_req_submit(struct uvm *u, struct uvm_req *q)
{
	pthread_mutex_lock(&u->qlock);
	uvm_req_submit_locked(u, q);
	pthread_mutex_unlock(&u->qlock);
}

void uvm_req_complete(struct uvm *u, struct uvm_req *q, int rc)
{
	struct uvm_region *r = q->r;

	pthread_mutex_lock(&u->qlock);
	uvm_req_complete_locked(u, q, rc);
	pthread_mutex_unlock(&u->qlock);
	uvm_release(r);
}

void uvm_req_complete_locked(struct uvm *u, struct uvm_req *q, int rc)
{
	q->rc = rc;
	q->done = true;
	if (q->waiter) {
		uvm_green_wake_locked(q->waiter);
		q->waiter = NULL;
	}
	pthread_cond_signal(&q->done_cond);
	uvm_req_put_locked(u, q);
}

int uvm_req_wait(struct uvm *u, struct uvm_req *q)
{
	struct timespec ts = { (time_t)(q->deadline / 1000000000u),
			       (long)(q->deadline % 1000000000u) };
	int rc;

	pthread_mutex_lock(&u->qlock);
	while (!q->done)
		if (pthread_cond_timedwait(&q->done_cond, &u->qlock, &ts) == ETIMEDOUT && !q->done)
			break;
	rc = q->done ? q->rc : UVM_EBOUND;
	if (!q->done)
		q->timed_out = true;
	uvm_req_put_locked(u, q);
	pthread_mutex_unlock(&u->qlock);
	return rc;
}

int uvm_segv_fault(struct uvm *u, struct uvm_region *r, vpn_t vpn, enum access_kind kind)
{
	struct uvm_green *g = uvm_green_on(u, uvm_gettid());
	struct uvm_req *q;
	int rc;

	if (!g && !r->bounded)
		return uvm_region_fault(r, vpn, kind);
	/* A soft fault or a first write needs no I/O: served here, at once.
	 * A page neither mapped nor soft is not looked at under the pager's
	 * lock, which the fillers hold while they install pages: the fault
	 * goes to a filler, which looks again. */
	if (__atomic_load_n(&r->state[vpn], __ATOMIC_RELAXED) & (UPG_MAPPED | UPG_SOFT)) {
		rc = uvm_region_fault_quick(r, vpn, kind);
		if (rc != UVM_NOT_QUICK)
			return rc;
	}
	if (g) {
		/* One hold of u->qlock: the request, to the fillers, parked. */
		rc = uvm_green_fault_park(g, r, vpn, kind);
	} else {
		q = uvm_req_new(u, r, vpn, kind, true);
		if (!q)
			return -EAGAIN; /* every request in flight: fail closed, do not wait */
		uvm_req_submit(u, q);
		rc = uvm_req_wait(u, q);
	}
	if (rc == UVM_EBOUND)
		__atomic_add_fetch(&r->timeouts, 1, __ATOMIC_RELAXED);
	return rc;
}
