// SPDX-License-Identifier: MIT
/*
 * Async page faults on the KVM host (--async-pf, docs/async.md#the-async-pf-protocol):
 * the glue between the vCPU's exit loop (vmm_exit.c), the pager and the
 * protocol's host half (async_pf.c).
 *
 * On a data fault trapped on the vCPU's thread, with the fault lock held:
 *   - the guest has registered no upcall (mb->apf_handler 0: it cannot
 *     switch threads now): synchronous, as without --async-pf;
 *   - the thread the guest resumes (mb->apf_resumed) waited for this page
 *     and its read failed: the error goes to it through the page-error
 *     upcall (page_error.h), as a synchronous read's would;
 *   - the fault needs no I/O (a soft fault, a resident page, a zero-fill
 *     into a free frame or from the free pool): synchronous;
 *   - otherwise (a read from the store, a read in flight to share, or a
 *     victim to evict first, which may need a write-back): a token, the
 *     "page not present" upcall (the faulting RIP pushed on the thread's
 *     stack, RIP = mb->apf_handler, the token in mb->apf_token) and the
 *     fault handed to a worker, which runs it through the pager
 *     (data_fault_async) while the vCPU runs another thread.
 */
#include "vmm_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "async_pf.h"
#include "page_error.h"
#include "pager.h"

/* Whether serving the fault on vpn may wait for I/O. Fault lock held. */
static bool needs_io(const struct vmm *v, vpn_t vpn)
{
	const struct pager *p = v->pager;
	const struct pte *pte;

	if (vpn >= v->region.npages || vpn >= p->npages ||
	    (v->mmu.state[vpn] & (PG_MAPPED | PG_SOFT)))
		return false;
	pte = &p->pt[vpn];
	if (pte->flags & PTE_IO)
		return true; /* its read, or its write-back as a victim (its frame still
				set meanwhile), is in flight: wait without the vCPU */
	if (pte->frame != NO_FRAME)
		return false;
	if ((pte->flags & PTE_ON_STORE) || p->first_touch_major)
		return true;
	return p->nfree == 0 && !p->pool;
}

/* The "page not present" upcall: push the faulting RIP on the guest's
 * stack, enter its handler. 0, or -1 with the reason in v->err. */
static int upcall(struct vcpu *c, uint64_t token, uint64_t gpa)
{
	struct vmm *v = c->v;
	uint64_t handler = c->mb->apf_handler;
	struct kvm_regs regs;
	char why[120];

	if (handler >= PFLAB_WIRED_SIZE)
		return vmm_fail(v, "guest's async-PF handler 0x%llx is outside its image",
				(unsigned long long)handler);
	if (ioctl(c->vm.vcpu_fd, KVM_GET_REGS, &regs) != 0)
		return vmm_fail(v, "KVM_GET_REGS: %s", strerror(errno));
	/* The green threads' stacks are in the guest's image, mapped at
	 * guest-virtual = guest-physical: no KVM_TRANSLATE on this path, one
	 * ioctl less per fault. */
	if (upcall_push_identity(v->wired, PFLAB_WIRED_SIZE, &regs, handler, why, sizeof(why)) != 0)
		return vmm_fail(v, "async PF: %s", why);
	c->mb->apf_token = token;
	c->mb->apf_addr = gpa;
	if (ioctl(c->vm.vcpu_fd, KVM_SET_REGS, &regs) != 0)
		return vmm_fail(v, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

int apf_trap(struct vcpu *c, uint64_t gpa, enum access_kind kind)
{
	struct vmm *v = c->v;
	vpn_t vpn = (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE);
	uint64_t token;
	int err;

	if (!v->apf || !c->mb->apf_handler)
		return 0;
	if (apf_take_failure(v->apf, c->id, c->mb->apf_resumed, vpn, &err)) {
		struct pager *p = v->pager;

		snprintf(p->err, sizeof(p->err), "page-in of page %u failed: %s (an async read)",
			 vpn, strerror(err));
		p->fail_errno = -err;
		return deliver_page_error(c, gpa, kind == ACCESS_WRITE) == 0 ? 1 : -1;
	}
	if (!needs_io(v, vpn) || apf_reserve(v->apf, c->id, vpn, kind, &token) != 0)
		return 0;
	if (upcall(c, token, gpa) != 0) {
		apf_cancel(v->apf, c->id, token);
		return -1;
	}
	apf_commit(v->apf, c->id, token);
	return 1;
}

/* A worker serves vCPU id's fault. */
static int serve(void *ctx, uint32_t id, vpn_t vpn, enum access_kind kind)
{
	struct vmm *v = ctx;
	int rc, f;

	pthread_mutex_lock(&v->fault_lock);
	f = data_fault_async(v, &v->vcpus[id], vpn, kind);
	rc = f != 1 ? 0 : v->pager->fail_errno < 0 ? v->pager->fail_errno : -EIO;
	pthread_mutex_unlock(&v->fault_lock);
	if (f < 0) {
		/* The run has failed (v->err): stop every vCPU. */
		__atomic_store_n(&v->stopping, 1, __ATOMIC_RELEASE);
		kick_vcpus(v);
		return APF_FATAL;
	}
	return rc;
}

int apf_halt(struct vcpu *c)
{
	struct vmm *v = c->v;

	if (!v->apf)
		return vmm_fail(v, "guest made HC_APF_WAIT without --async-pf");
	if (apf_wait(v->apf, c->id, &v->stopping, &v->timed_out) != 0) {
		if (__atomic_load_n(&v->timed_out, __ATOMIC_ACQUIRE))
			return vmm_fail(v, "timed out after %.3f s, vCPU %u halted: its threads "
					"wait for pages", (double)v->cfg->timeout_ns / 1e9, c->id);
		return -1;
	}
	return 0;
}

int apf_setup(struct vmm *v)
{
	struct apf_config ac = {
		.nvcpus = v->nvcpus,
		.nworkers = v->nvcpus * (v->cfg->threads ? v->cfg->threads : 1),
		.serve = serve,
		.ctx = v,
		.log = v->cfg->verbose ? stderr : NULL,
	};
	char why[200];

	for (uint32_t i = 0; i < v->nvcpus; i++)
		ac.mb[i] = v->vcpus[i].mb;
	v->apf = apf_create(&ac, why, sizeof(why));
	return v->apf ? 0 : vmm_fail(v, "%s", why);
}
