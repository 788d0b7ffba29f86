// SPDX-License-Identifier: MIT
/*
 * The KVM host's data-fault path: a guest access to a data page trapped (in
 * the exit loop, vmm_exit.c, or on the uffd handler thread). A soft fault,
 * or a real one for the pager; a page that cannot be read in goes to the
 * guest's handler. docs/vmm.md, "The fault path, step by step".
 */
#include "vmm_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../guest/abi.h"
#include "fault_log.h"
#include "page_error.h"

/* OPT keeps each resident page's next use, which moves on every hit; KVM
 * shows no hits, but the host has the trace: tell the policy about the hits
 * between the last fault and this one, as the simulator does. */
static void show_hits(struct vmm *v, uint64_t upto)
{
	const struct vmm_config *c = v->cfg;
	struct pager *p = v->pager;

	for (uint64_t j = v->hits_from; j < upto; j++) {
		frame_t f = pager_lookup(p, VREF_VPN(c->trace[j]));

		if (f == NO_FRAME)
			continue;
		p->now = j + 1;
		p->next_use = c->next_use[j] ? c->next_use[j] : NEVER;
		pager_hit(p, f);
	}
}

static void log_fault(struct vmm *v, struct kvm_vm *vm, vpn_t vpn, enum access_kind kind,
		      frame_t f, const struct pager_stats *before, vpn_t victim, bool on_vcpu)
{
	const struct pager_stats *st = &v->pager->stats;
	char where[320] = "rip ? (the vCPU sleeps in the kernel under uffd)";

	if (!on_vcpu)
		snprintf(where, sizeof(where), "(async: the vCPU runs another thread)");
	else if (v->cfg->trap == &trap_kvm_ops)
		inspect_rip(vm, &v->ram, where, sizeof(where));
	fprintf(stderr, "fault: gpa 0x%llx page %u %s %s -> frame %u",
		(unsigned long long)(PFLAB_DATA_BASE + (uint64_t)vpn * PAGE), vpn,
		kind == ACCESS_WRITE ? "write" : kind == ACCESS_FETCH ? "fetch" : "read", where, f);
	if (v->cfg->trace)
		fprintf(stderr, ", trace reference %llu", (unsigned long long)v->mb->ref_index);
	if (st->evictions != before->evictions)
		fprintf(stderr, ", evicted page %u%s", victim,
			st->writebacks != before->writebacks ? " (written back)" : " (clean)");
	fprintf(stderr, ", %s\n", st->major != before->major ? "major" : "minor (zero-filled)");
}

static int note_latency(struct vmm *v, uint64_t t0)
{
	uint64_t dt = now_ns() - t0;

	if (v->nlat == v->lat_cap) {
		size_t cap = v->lat_cap ? v->lat_cap * 2 : 4096;
		uint32_t *l = realloc(v->lat_ns, cap * sizeof(*l));

		if (!l)
			return vmm_fail(v, "out of memory for fault latencies");
		v->lat_ns = l;
		v->lat_cap = cap;
	}
	v->lat_ns[v->nlat++] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
	return 0;
}

/* --pager: the miss goes to the paging server (vmm_remote.c). */
static int remote_fault(struct vmm *v, struct vcpu *cpu, struct kvm_vm *vm, vpn_t vpn,
			enum access_kind kind, uint64_t t0)
{
	bool major = false;
	int rc = vmm_remote_fault(v, vpn, kind, &major);

	if (rc)
		return rc;
	if (cpu) {
		cpu->faults++;
		cpu->major += major;
	}
	if (note_latency(v, t0) != 0)
		return -1;
	if (v->cfg->verbose) {
		char where[320] = "rip ? (the vCPU sleeps in the kernel under uffd)";

		if (v->cfg->trap == &trap_kvm_ops)
			inspect_rip(vm, &v->ram, where, sizeof(where));
		fprintf(stderr, "fault: gpa 0x%llx page %u %s %s, %s, from the pager server\n",
			(unsigned long long)(PFLAB_DATA_BASE + (uint64_t)vpn * PAGE), vpn,
			kind == ACCESS_WRITE ? "write" : kind == ACCESS_FETCH ? "fetch" : "read", where,
			major ? "major" : "minor (zero-filled)");
	}
	return 0;
}

/*
 * A guest access to data page vpn trapped (either mechanism). Soft fault,
 * spurious trap, or a real one for the pager. 0; 1 when the page could not
 * be read in, for the caller to deliver to the guest (deliver_page_error);
 * or -1 (reason in v->err).
 */
static int fault_path(struct vmm *v, struct vcpu *cpu, vpn_t vpn, enum access_kind kind,
		      bool on_vcpu)
{
	const struct vmm_config *c = v->cfg;
	struct kvm_vm *vm = cpu ? &cpu->vm : &v->vm;
	struct pager *p = v->pager;
	struct pager_stats before;
	uint64_t t0 = now_ns();
	vpn_t victim = 0;
	frame_t f;
	int rc;

	if (vpn >= v->region.npages)
		return vmm_fail(v, "fault on page %u outside the data region of %u pages", vpn,
			    v->region.npages);
	if (v->bio)
		blockio_touch(v->bio, vpn);
	if (v->dsm) /* a shared page: the DSM manager's, not the pager's */
		return vmm_dsm_fault(v, vpn, kind);
	rc = kvm_mmu_soft_fault(&v->mmu, vpn, kind);
	if (rc < 0)
		return vmm_fail(v, "re-mapping page %u: %s", vpn, strerror(-rc));
	if (rc > 0 && v->flog)
		fault_log_fault(v->flog, vm, &v->ram, &(struct fault_event){
			.vpn = vpn, .kind = kind, .soft = true,
			.inspect = on_vcpu && c->trap == &trap_kvm_ops });
	if (rc > 0 && v->pc && vmm_remote_touch(v, vpn, kind) != 0)
		return -1;
	if (rc > 0 || (v->mmu.state[vpn] & PG_MAPPED))
		return 0; /* a soft fault, or a trap that raced with the mapping */
	if (v->pc)
		return remote_fault(v, cpu, vm, vpn, kind, t0);

	if (c->trace) {
		uint64_t idx = v->mb->ref_index;

		if (idx >= c->trace_len || VREF_VPN(c->trace[idx]) != vpn)
			return vmm_fail(v, "fault on page %u does not match trace reference %llu", vpn,
				    (unsigned long long)idx);
		/* The trace knows the access kind even where the trap does not. */
		kind = (c->trace[idx] & VREF_WRITE) ? ACCESS_WRITE : ACCESS_READ;
		if (c->next_use) {
			show_hits(v, idx);
			v->hits_from = idx + 1;
			p->next_use = c->next_use[idx] ? c->next_use[idx] : NEVER;
		}
		p->now = idx + 1;
	} else {
		p->now++;
	}

	before = p->stats;
	f = pager_fault(p, vpn, kind);
	if (f == NO_FRAME && p->fail == PAGER_FAIL_PAGE_IN)
		return 1;
	if (f == NO_FRAME)
		return vmm_fail(v, "pager: %s", p->err);
	if (v->mmu.error)
		return vmm_fail(v, "KVM MMU: %s", strerror(-v->mmu.error));
	if (cpu && p->last_fault) {
		cpu->faults++;
		cpu->major += p->last_fault == 2;
		/* --async-pf: a read on the vCPU's own thread holds all its
		 * green threads; only a worker should make one (vmm_apf.c) */
		cpu->sync_major += v->apf && on_vcpu && p->last_fault == 2;
	}
	if (p->stats.evictions != before.evictions)
		victim = v->mmu.last_unmapped;
	/* Without a trace the references are not seen: the policy's clock
	 * counts faults (p->now). With one it runs on the trace's references
	 * (trace_tick, vmm_exit.c). Soft faults are not counted. */
	if (!c->trace && p->now >= p->next_tick) {
		pager_tick(p);
		p->next_tick += p->tick;
	}

	if (note_latency(v, t0) != 0)
		return -1;

	if (c->record)
		fprintf(c->record, "%c %llu\n", kind == ACCESS_WRITE ? 'W' : 'R',
			(unsigned long long)(c->page_ids ? c->page_ids[vpn] : vpn));
	if (c->verbose)
		log_fault(v, vm, vpn, kind, f, &before, victim, on_vcpu);
	if (v->flog)
		fault_log_fault(v->flog, vm, &v->ram, &(struct fault_event){
			.vpn = vpn, .kind = kind, .major = p->stats.major != before.major, .frame = f,
			.evicted = p->stats.evictions != before.evictions, .victim = victim,
			.written_back = p->stats.writebacks != before.writebacks,
			.inspect = on_vcpu && c->trap == &trap_kvm_ops });
	return 0;
}

int data_fault(struct vmm *v, struct vcpu *cpu, vpn_t vpn, enum access_kind kind)
{
	return fault_path(v, cpu, vpn, kind, true);
}

/* An async-PF worker serves cpu's fault (vmm_apf.c): the vCPU runs on
 * meanwhile, so its registers say nothing of this fault. */
int data_fault_async(struct vmm *v, struct vcpu *cpu, vpn_t vpn, enum access_kind kind)
{
	return fault_path(v, cpu, vpn, kind, false);
}

/*
 * data_fault() could not read the page at gpa in: hand the error to the
 * guest's handler instead of mapping wrong data (page_error.h), and note
 * where in the --inject log. On the vCPU thread, the vCPU stopped at the
 * faulting instruction, the fault lock held. 0 or -1.
 */
int deliver_page_error(struct vcpu *c, uint64_t gpa, bool write)
{
	struct vmm *v = c->v;
	vpn_t vpn = (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE);
	char why[200];
	uint64_t rip;

	if (page_error_deliver(&c->vm, v->wired, PFLAB_WIRED_SIZE, c->mb, gpa, write,
			       fault_errno(v), &rip, why, sizeof(why)) != 0)
		return vmm_fail(v, "pager: %s, and %s", fault_why(v), why);
	v->pgerr_delivered++;
	c->pgerr_log = v->inject_open ? inject_note_delivery(&v->inject, vpn, rip) : 0;
	if (v->cfg->verbose)
		fprintf(stderr, "fault: gpa 0x%llx page %u: %s: delivered to the guest's handler, "
			"faulting rip 0x%llx\n", (unsigned long long)gpa, vpn, fault_why(v),
			(unsigned long long)rip);
	return 0;
}

/* The uffd handler thread's entry into data_fault(). The lock is there for
 * an EFAULT that would still reach the vCPU thread meanwhile. */
int on_uffd_fault(void *ctx, vpn_t vpn, enum access_kind kind)
{
	struct vmm *v = ctx;
	int rc;

	pthread_mutex_lock(&v->fault_lock);
	rc = data_fault(v, NULL, vpn, kind);
	pthread_mutex_unlock(&v->fault_lock);
	if (rc == 1)
		/* The vCPU sleeps inside the kernel's fault: its registers
		 * cannot be changed until the fault is resolved. */
		vmm_fail(v, "pager: %s; the uffd trap cannot deliver a page-in error to the "
		     "guest (--trap kvm can)", fault_why(v));
	if (rc == 0)
		return 0;
	snprintf(v->region.fault_err, sizeof(v->region.fault_err), "%.250s", v->err);
	return -1;
}
