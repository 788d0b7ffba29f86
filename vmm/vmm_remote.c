// SPDX-License-Identifier: MIT
/*
 * The KVM host as a client of the paging server (`pflab run --pager ADDR`,
 * docs/external-pager.md): the pager, its policy and the backing store are
 * the server's; the host keeps the mechanism. Its data region is one region
 * at the server, with the server's memory store (the page bytes travel in
 * RESOLVED and DATA_RETURN) and sampled referenced bits:
 *
 *   a miss           FAULT; the server's EVICTs (unmap, give the bytes back
 *                    if dirty) and SAMPLEs (unmap, keep the frame) come
 *                    first, then RESOLVED with the frame and, for a major
 *                    fault, the page: the host fills its frame and maps it;
 *   a soft fault     (a sampled page accessed again, a read-only page
 *                    written) a TOUCH, batched until the next request: the
 *                    referenced and dirty bits the in-process KVM MMU would
 *                    have shown the pager (vmm/mmu_kvm.c);
 *   a page-in error  the server's ERROR: the guest's page-error upcall;
 *   the server gone  every wait is bounded (pclient): the run fails with
 *                    the client's one-line reason, never maps a page it
 *                    did not get.
 *
 * Under --trap uffd (unless --pager-forward) the host keeps none of this:
 * its data region is a memfd mapped shared, and the uffd and the memfd are
 * handed over to the server (PROTO_UFFD, SCM_RIGHTS), which resolves the
 * faults itself, as Firecracker's page-fault handler does. The host then
 * only watches the connection (the monitor thread, with a keep-alive): a
 * write-back failure is counted for the final sync; a page-in the server
 * could not do, the server gone, or silent past the timeout, fails the
 * region closed (uffd_trap_fail_closed: the vCPU
 * wakes to EFAULT, never to a zero page; the host keeps its own copy of
 * the uffd so that the kernel never resolves a fault by itself).
 *
 * The host's frame numbers are the server's: the region is granted its
 * frames as a fixed partition, and frame f of the server is frame f here.
 * Every call is made under the fault lock (one request at a time).
 */
#include "vmm_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

/* EVICT: unmap the page; its bytes (dirty) are in its frame once unmapped
 * (the uffd trap copies them there). */
static int remote_evict(void *ctx, uint32_t page, uint32_t frame, bool dirty, const uint8_t **data)
{
	struct vmm *v = ctx;
	struct kvm_mmu *m = &v->mmu;

	if (frame >= v->region.nframes || m->frame[page] != frame)
		return -EPROTO;
	/* Mapped writable here: written since the server's look, maybe (an
	 * eviction of global replacement that came while the guest ran). */
	dirty |= (m->state[page] & PG_WRITABLE) != 0;
	m->mmu.ops->unmap(&m->mmu, page, frame);
	if (m->error)
		return m->error;
	*data = dirty ? v->region.frames + (size_t)frame * PAGE : NULL;
	return 0;
}

/* SAMPLE: the server cleared the page's referenced bit: unmap it, keeping
 * its frame, so that its next access traps (kvm_mmu_soft_fault). */
static int remote_sample(void *ctx, uint32_t page, uint32_t frame)
{
	struct vmm *v = ctx;
	struct kvm_mmu *m = &v->mmu;

	if (frame >= v->region.nframes || m->frame[page] != frame)
		return -EPROTO;
	/* Already unmapped (a SAMPLE that crossed the TOUCH of an earlier
	 * one, under global replacement): its next access traps anyway. */
	if (!(m->state[page] & PG_MAPPED))
		return 0;
	m->mmu.ops->test_and_clear_referenced(&m->mmu, page, frame);
	return m->error;
}

int vmm_remote_open(struct vmm *v)
{
	const struct vmm_config *c = v->cfg;
	struct proto_policy pol = { .seed = c->params.seed, .tick = c->params.tick,
				    .window = c->params.window, .aging_bits = c->params.aging_bits };
	char why[300];

	v->rpages = (struct pclient_pages){ .ctx = v, .evict = remote_evict, .sample = remote_sample };
	snprintf(pol.name, sizeof(pol.name), "%s", c->policy->name);
	v->pc = pclient_connect(c->pager_addr, c->pager_timeout_ms ? c->pager_timeout_ms : 5000,
				why, sizeof(why));
	if (!v->pc)
		return vmm_fail(v, "pager server %s", why);
	/* Anonymous memory: first touches are zero-filled, as in-process. */
	if (pclient_register_keyed(v->pc, c->npages, c->nframes,
				   PROTO_REG_ZERO_FILL |
				   (v->handover ? PROTO_REG_HANDOVER : PROTO_REG_SAMPLED) |
				   (c->pager_keep ? PROTO_REG_KEEP : 0),
				   PROTO_STORE_MEMORY, &pol, &v->rpages, c->pager_key, &v->rreg) != 0)
		return vmm_fail(v, "pager server %s: %s", c->pager_addr, v->pc->err);
	v->rreg_open = true;
	if (v->handover &&
	    pclient_handover(v->pc, &v->rreg, (uint64_t)(uintptr_t)v->region.va, v->region.uffd,
			     v->region.data_memfd) != 0)
		return vmm_fail(v, "pager server %s: handing the userfaultfd over: %s",
			    c->pager_addr, v->pc->err);
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The handover's monitor: the connection, until told to stop. The server
 * resolves the faults itself, so a server that is alive but silent (stopped,
 * stuck) would leave the vCPU asleep in the kernel's fault for ever: every
 * half timeout the monitor sends a keep-alive (a STATS of the region, which
 * the server's one loop answers between two faults) and waits for its reply
 * at most the timeout (pclient). A server gone, silent, or that failed the
 * region fails the region closed: within 1.5 timeouts of its last answer.
 */
static void *monitor(void *arg)
{
	struct vmm *v = arg;
	int every = v->pc->timeout_ms / 2 > 0 ? v->pc->timeout_ms / 2 : 1;
	int64_t next = mono_ms() + every;

	for (;;) {
		struct pollfd pfd[2] = { { .fd = v->pc->fd, .events = POLLIN },
					 { .fd = v->mon_stop, .events = POLLIN } };
		int64_t left = next - mono_ms();
		struct proto_msg st;
		int n = poll(pfd, 2, left > 0 ? (int)left : 0);

		if (n < 0)
			continue; /* EINTR */
		if (pfd[1].revents)
			return NULL;
		if (n > 0 && pclient_take_async(v->pc, &v->rreg) != 0)
			break;
		if (mono_ms() < next)
			continue;
		if (pclient_stats(v->pc, v->rreg.id, &st) != 0)
			break;
		next = mono_ms() + every;
	}
	snprintf(v->region.fault_err, sizeof(v->region.fault_err), "%.160s (server %.80s)",
		 v->pc->err, v->cfg->pager_addr);
	__atomic_store_n(&v->region.failed, 1, __ATOMIC_RELEASE);
	uffd_trap_fail_closed(&v->region);
	return NULL;
}

int vmm_remote_start(struct vmm *v)
{
	int rc;

	v->mon_stop = eventfd(0, EFD_CLOEXEC);
	if (v->mon_stop < 0)
		return vmm_fail(v, "eventfd: %s", strerror(errno));
	rc = pthread_create(&v->mon, NULL, monitor, v);
	if (rc)
		return vmm_fail(v, "the pager connection's monitor thread: %s", strerror(rc));
	v->mon_running = true;
	return 0;
}

static void monitor_stop(struct vmm *v)
{
	uint64_t one = 1;

	if (v->mon_running) {
		if (write(v->mon_stop, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(v->mon);
		pthread_join(v->mon, NULL);
		v->mon_running = false;
	}
	if (v->mon_stop >= 0)
		close(v->mon_stop);
	v->mon_stop = -1;
}

/* A miss on vpn: 0 mapped (*major: read from the server's store), 1 the
 * server could not read it in (v->remote_errno, v->remote_why), -1 failed. */
int vmm_remote_fault(struct vmm *v, vpn_t vpn, enum access_kind kind, bool *major)
{
	struct kvm_mmu *m = &v->mmu;
	struct pclient_resolved got;
	uint8_t *at;
	int rc = pclient_fault_page(v->pc, &v->rreg, vpn, kind == ACCESS_WRITE, &got);

	if (rc == 1) {
		v->remote_errno = v->pc->last_errno;
		snprintf(v->remote_why, sizeof(v->remote_why), "%s", v->pc->err);
		return 1;
	}
	if (rc)
		return vmm_fail(v, "%s", v->pc->err);
	if (got.frame >= v->region.nframes)
		return vmm_fail(v, "the pager server gave page %u frame %u of %u", vpn, got.frame,
			    v->region.nframes);
	at = v->region.frames + (size_t)got.frame * PAGE;
	if (got.data_len)
		memcpy(at, got.data, PAGE);
	else
		memset(at, 0, PAGE);
	rc = m->mmu.ops->map(&m->mmu, vpn, got.frame, kind);
	if (rc)
		return vmm_fail(v, "mapping page %u: %s", vpn, strerror(-rc));
	if (got.sampled && remote_sample(v, vpn, got.frame) != 0)
		return vmm_fail(v, "sampling page %u: %s", vpn, strerror(-m->error));
	*major = got.data_len != 0;
	v->rfaults++;
	v->rmajor += *major;
	return 0;
}

/* A soft fault on vpn (kvm_mmu_soft_fault did it): the server's bits. */
int vmm_remote_touch(struct vmm *v, vpn_t vpn, enum access_kind kind)
{
	if (pclient_touch(v->pc, &v->rreg, vpn, kind == ACCESS_WRITE) != 0)
		return vmm_fail(v, "%s", v->pc->err);
	return 0;
}

/* The end of the run: sync (the write-back failures the server reported,
 * each once), then the region's counters. 0 or -1. */
int vmm_remote_finish(struct vmm *v)
{
	struct proto_msg st;
	long n;

	monitor_stop(v);
	if (v->region.failed)
		return vmm_fail(v, "%s", v->region.fault_err);
	n = pclient_sync(v->pc, &v->rreg);
	if (n < 0 || pclient_stats(v->pc, v->rreg.id, &st) != 0)
		return vmm_fail(v, "%s", v->pc->err);
	v->rsynced_errors += (uint64_t)n;
	v->rstats = st.u.stats_reply.st;
	return 0;
}

void vmm_remote_close(struct vmm *v)
{
	monitor_stop(v);
	if (v->rreg_open)
		pclient_region_fini(&v->rreg);
	pclient_close(v->pc);
	v->pc = NULL;
	v->rreg_open = false;
}
