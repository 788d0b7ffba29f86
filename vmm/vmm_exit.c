// SPDX-License-Identifier: MIT
/*
 * The KVM host's exit loop: run the vCPU until the guest exits and answer
 * each exit: console bytes and hypercalls (port I/O or the doorbell page),
 * the DMA device's registers, traps on the data region (to the fault path,
 * vmm_fault.c), and whatever else a bad guest does, reported with where.
 */
#include "vmm_internal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../guest/abi.h"
#include "fault_log.h"

_Static_assert(VREF_WRITE == PFLAB_REF_WRITE, "trace buffer entries are vrefs");

/* Each vCPU assembles its own lines; with several, each line says whose. */
void console_byte(struct vcpu *c, char ch)
{
	struct vmm *v = c->v;
	char who[16] = "";

	if (ch != '\n' && c->line_len < sizeof(c->line) - 1) {
		c->line[c->line_len++] = ch;
		return;
	}
	c->line[c->line_len] = '\0';
	if (v->nvcpus > 1)
		snprintf(who, sizeof(who), "%u", c->id);
	fprintf(stderr, "guest%s| %s\n", who, c->line);
	if (v->flog)
		fault_log_line(v->flog, "guest%s| %s", who, c->line);
	c->line_len = 0;
	if (ch != '\n')
		c->line[c->line_len++] = ch;
}

/*
 * HC_EVICT: page data page vpn out now, as the pager evicts a victim
 * (written back if dirty, unmapped, its frame freed), so that the guest's
 * next access to it faults. The restart scenarios (docs/restart.md) set up
 * their faults with it, whatever the policy and the frames.
 */
static int guest_evict(struct vmm *v, uint64_t vpn)
{
	struct pager *p = v->pager;
	uint64_t writebacks = p->stats.writebacks;
	frame_t f;
	int rc = 0;

	if (vpn >= v->region.npages)
		return vmm_fail(v, "guest asked to evict page %llu outside the data region of %u pages",
			    (unsigned long long)vpn, v->region.npages);
	if (!p)
		return vmm_fail(v, "guest asked to evict page %llu: the pager server evicts, not "
			    "the host (--pager)", (unsigned long long)vpn);
	pthread_mutex_lock(&v->fault_lock);
	f = pager_lookup(p, (vpn_t)vpn);
	if (f != NO_FRAME && !pager_frame_pinned(p, f)) {
		p->policy->ops->remove(p->policy, f);
		rc = pager_reclaim(p, f);
		if (rc)
			p->policy->ops->insert(p->policy, f); /* still resident */
	}
	pthread_mutex_unlock(&v->fault_lock);
	if (rc)
		return vmm_fail(v, "evicting page %llu for the guest: %s", (unsigned long long)vpn, p->err);
	if (v->flog && f == NO_FRAME)
		fault_log_line(v->flog, "evict page %llu: not resident", (unsigned long long)vpn);
	else if (v->flog)
		fault_log_line(v->flog, "evict page %llu: %s, frame %u free", (unsigned long long)vpn,
			       p->stats.writebacks != writebacks ? "written back" : "clean", f);
	return 0;
}

/*
 * HC_ASPACE: load the guest's CR3 with the PML4 it names. Ring-3 code
 * cannot load CR3, and the shared workload's two address spaces
 * (guest/shared.c) need switching: the host does it as a kernel switches
 * processes. KVM flushes the vCPU's translations on the CR3 load.
 */
static int switch_aspace(struct vcpu *c, uint64_t cr3)
{
	struct vmm *v = c->v;
	struct kvm_sregs s;

	if (cr3 % PFLAB_PAGE_SIZE || cr3 < PFLAB_IMAGE_BASE || cr3 >= PFLAB_WIRED_SIZE)
		return vmm_fail(v, "guest asked for page tables at 0x%llx, not a page of its image",
			    (unsigned long long)cr3);
	if (ioctl(c->vm.vcpu_fd, KVM_GET_SREGS, &s))
		return vmm_fail(v, "KVM_GET_SREGS: %s", strerror(errno));
	s.cr3 = cr3;
	if (ioctl(c->vm.vcpu_fd, KVM_SET_SREGS, &s))
		return vmm_fail(v, "KVM_SET_SREGS: %s", strerror(errno));
	return 0;
}

/*
 * The policy's clock under --trace, on the trace's references as in the
 * simulator (sim_replay: a tick after reference number k * tick). Every
 * reference handed out so far has been made when the guest asks for more,
 * so a batch ends at the next tick and the tick runs when the guest asks
 * for the batch after it. Policies without a tick get whole batches.
 */
static void trace_tick(struct vmm *v, size_t *n)
{
	struct pager *p = v->pager;

	if (!p->policy->ops->tick || !p->tick)
		return;
	pthread_mutex_lock(&v->fault_lock);
	while (v->trace_sent >= p->next_tick) {
		p->now = p->next_tick;
		pager_tick(p);
		p->next_tick += p->tick;
	}
	pthread_mutex_unlock(&v->fault_lock);
	if (v->trace_sent + *n > p->next_tick)
		*n = p->next_tick - v->trace_sent;
}

static int hcall(struct vcpu *cpu, uint32_t nr)
{
	struct vmm *v = cpu->v;
	const struct vmm_config *c = v->cfg;
	volatile struct pflab_mailbox *mb = cpu->mb;

	switch (nr) {
	case HC_CONFIG: {
		/* Each vCPU works on its slice of the data region, with a
		 * seed of its own; one vCPU has the whole region. */
		uint32_t first = (uint32_t)((uint64_t)c->npages * cpu->id / v->nvcpus);
		uint32_t end = (uint32_t)((uint64_t)c->npages * (cpu->id + 1) / v->nvcpus);

		mb->workload = c->workload;
		mb->npages = end - first;
		mb->first_page = first;
		mb->vcpu = cpu->id;
		mb->nvcpus = v->nvcpus;
		mb->passes = c->passes;
		mb->nops = c->nops;
		mb->seed = c->seed + cpu->id;
		mb->map_bytes = v->mapfile.st.size_before;
		mb->threads = c->threads;       /* green threads and async PF: guest/sched.c */
		mb->apf = c->async_pf;
		mb->prefetch = c->prefetch_given ? c->prefetch | PFLAB_PREFETCH_GIVEN : 0;
		mb->read_batch = c->read_batch;
		mb->dsm_node = c->dsm_node;
		mb->dsm_nodes = c->dsm_addr ? c->dsm_nodes : 0;
		return 0;
	}
	case HC_TRACE_NEXT: {
		size_t n = c->trace_len - v->trace_sent;

		if (n > PFLAB_TRACE_BUF_REFS)
			n = PFLAB_TRACE_BUF_REFS;
		trace_tick(v, &n);
		if (n)
			memcpy(v->wired + PFLAB_TRACE_BUF, c->trace + v->trace_sent, n * sizeof(vref_t));
		mb->trace_base = v->trace_sent;
		mb->trace_count = (uint32_t)n;
		v->trace_sent += n;
		return 0;
	}
	case HC_VERIFY_FAIL:
		fprintf(stderr,
			"pflab run: guest data mismatch: page %llu offset %llu: expected 0x%016llx, got 0x%016llx\n",
			(unsigned long long)mb->bad_page, (unsigned long long)mb->bad_offset,
			(unsigned long long)mb->expected, (unsigned long long)mb->got);
		return 0;
	case HC_EXIT:
		cpu->exited = true;
		return 0;
	case HC_PAGE_ERROR:
		pthread_mutex_lock(&v->fault_lock);
		v->pgerr_reported++;
		if (cpu->pgerr_log && mb->pgerr_ack == mb->pgerr_count)
			inject_note_reported(&v->inject, cpu->pgerr_log);
		pthread_mutex_unlock(&v->fault_lock);
		return 0;
	case HC_EVICT:
		return guest_evict(v, mb->evict_page);
	case HC_MSYNC: {
		int rc;

		if (!v->mapfile_open)
			return vmm_fail(v, "guest made HC_MSYNC with no --map-file");
		pthread_mutex_lock(&v->fault_lock);
		mb->msync_written = mapfile_msync(&v->mapfile, v->pager, mb->msync_first,
						  mb->msync_count, &rc);
		pthread_mutex_unlock(&v->fault_lock);
		mb->msync_errno = (uint32_t)-rc;
		return 0;
	}
	case HC_ASPACE:
		return switch_aspace(cpu, mb->aspace_cr3);
	case HC_APF_WAIT:
		return apf_halt(cpu); /* vmm_apf.c */
	case HC_PREFETCH: case HC_READ_PAGES: case HC_WRITE_PAGES: case HC_SYNC_PAGES:
	case HC_DROP_PAGES: case HC_MARK:
		return blockio_hcall(cpu, nr);
	case HC_DSM_YIELD: /* the guest waits for another node: let it run */
		sched_yield();
		return 0;
	case HC_NOP: {
		uint64_t t = now_ns();

		if (v->nops++ == 0)
			v->nop_first_ns = t;
		v->nop_last_ns = t;
		return 0;
	}
	}
	return vmm_fail(v, "guest made unknown hypercall %u", nr);
}

static int exit_io(struct vcpu *c)
{
	struct kvm_run *run = c->vm.run;
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;

	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PFLAB_PORT_SERIAL) {
		for (uint32_t i = 0; i < run->io.count; i++)
			console_byte(c, (char)data[i * run->io.size]);
		return 0;
	}
	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PFLAB_PORT_HCALL &&
	    run->io.size == 4 && run->io.count == 1) {
		uint32_t nr;

		memcpy(&nr, data, sizeof(nr));
		return hcall(c, nr);
	}
	return -2; /* a bad guest: reported by the caller with its RIP */
}

/* KVM_EXIT_MMIO in the data region: the trap of an absent page. KVM has
 * decoded the access and waits for us to complete it: make the page
 * resident, then do the access against it (a load's bytes go back in
 * run->mmio.data; a store's bytes go into the page, which is then dirty
 * though KVM's dirty log never saw the write). */
static int exit_mmio_data(struct vcpu *c)
{
	struct vmm *v = c->v;
	struct kvm_run *run = c->vm.run;
	uint64_t off = run->mmio.phys_addr - PFLAB_DATA_BASE;
	vpn_t vpn = (vpn_t)(off / PAGE);
	uint32_t len = run->mmio.len;
	uint8_t *at;

	if (len > sizeof(run->mmio.data) || (off % PAGE) + len > PAGE)
		return vmm_fail(v, "MMIO access of %u bytes at 0x%llx crosses a page", len,
			    (unsigned long long)run->mmio.phys_addr);
	/* Locked until the access is done: the paging daemon must not take
	 * the page away between the fault and the copy. */
	pthread_mutex_lock(&v->fault_lock);
	switch (data_fault(v, c, vpn, run->mmio.is_write ? ACCESS_WRITE : ACCESS_READ)) {
	case 0:
		break;
	case 1:
		pthread_mutex_unlock(&v->fault_lock);
		/* KVM waits for the access's data: it cannot be redirected. */
		return vmm_fail(v, "pager: %s, during an emulated access that cannot be interrupted",
			    fault_why(v));
	default:
		pthread_mutex_unlock(&v->fault_lock);
		return -1;
	}
	at = v->region.va + off;
	if (run->mmio.is_write) {
		memcpy(at, run->mmio.data, len);
		kvm_mmu_mark_dirty(&v->mmu, vpn);
	} else {
		memcpy(run->mmio.data, at, len);
	}
	pthread_mutex_unlock(&v->fault_lock);
	return 0;
}

/* A store to the doorbell page: the ring-3 guest's hypercall or console
 * byte (guest/abi.h); or an access to the DMA device's registers (dma.h).
 * -2 for anything else there. */
static int exit_doorbell(struct vcpu *c)
{
	struct vmm *v = c->v;
	struct kvm_run *run = c->vm.run;
	uint64_t gpa = run->mmio.phys_addr;
	uint32_t nr;

	if (v->dma && gpa - PFLAB_DOORBELL_DMA < PAGE - (PFLAB_DOORBELL_DMA - PFLAB_DOORBELL)) {
		int rc = dma_mmio(v->dma, gpa - PFLAB_DOORBELL_DMA, run->mmio.is_write,
				  run->mmio.data, run->mmio.len);

		return rc == -1 ? vmm_fail(v, "DMA device: %s", dma_error(v->dma)) : rc;
	}
	if (!run->mmio.is_write)
		return -2;
	if (gpa == PFLAB_DOORBELL_CONS && run->mmio.len == 1) {
		console_byte(c, (char)run->mmio.data[0]);
		return 0;
	}
	if (gpa == PFLAB_DOORBELL_HCALL && run->mmio.len == 4) {
		memcpy(&nr, run->mmio.data, sizeof(nr));
		return hcall(c, nr);
	}
	return -2;
}

static bool in_data(const struct vmm *v, uint64_t gpa)
{
	return gpa >= PFLAB_DATA_BASE && gpa - PFLAB_DATA_BASE < region_bytes(&v->region);
}

/* EFAULTs in a row on data pages that no longer trap, before the vCPU is
 * judged stuck: each is a race with another vCPU's mapping, which one
 * re-entry resolves. */
#define MAX_RACED_TRAPS 1000

/* What inspect_fault() asks about the pages an instruction touches. */
struct trap_query {
	struct vmm *v;
	uint64_t data_gpa; /* the first data page it touches, or UINT64_MAX */
};

/* For inspect_fault(): would such an access to gpa trap now? Remembers
 * the first data page asked about: with several vCPUs, another one may
 * have mapped the page between this vCPU's EFAULT and its taking the
 * fault lock, and then no access traps any more. */
static int data_access_traps(void *ctx, uint64_t gpa, int write)
{
	struct trap_query *q = ctx;

	if (!in_data(q->v, gpa))
		return 0;
	if (q->data_gpa == UINT64_MAX)
		q->data_gpa = gpa;
	return kvm_mmu_traps(&q->v->mmu, (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE), write);
}

/* For inspect.c: the bytes of a data page the guest can read now, or NULL. */
const uint8_t *readable_page(void *ctx, uint64_t gpa)
{
	struct vmm *v = ctx;
	vpn_t vpn = (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE);

	if (!in_data(v, gpa) || !(v->mmu.state[vpn] & PG_MAPPED))
		return NULL;
	return kvm_mmu_page_bytes(&v->mmu, vpn, v->mmu.frame[vpn]);
}

/* A guest that did something no well-behaved guest does: say what, where. */
static int bad_guest(struct vcpu *c, const char *what)
{
	struct vmm *v = c->v;
	char where[320], who[24] = "";

	pthread_mutex_lock(&v->fault_lock); /* inspect reads data pages: see readable_page() */
	inspect_rip(&c->vm, &v->ram, where, sizeof(where));
	pthread_mutex_unlock(&v->fault_lock);
	if (v->nvcpus > 1)
		snprintf(who, sizeof(who), " (vCPU %u)", c->id);
	return vmm_fail(v, "guest failed%s: %s at %s", who, what, where);
}

/* A trap on a data page, on vCPU c: served, and its stall timed (the wait
 * for the pager lock included). 0, or -1. */
static int trapped(struct vcpu *c, uint64_t gpa, enum access_kind kind)
{
	struct vmm *v = c->v;
	uint64_t t0 = now_ns();
	int rc;

	pthread_mutex_lock(&v->fault_lock);
	rc = apf_trap(c, gpa, kind); /* --async-pf: vmm_apf.c */
	if (rc == 0)
		rc = data_fault(v, c, (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE), kind);
	else if (rc == 1)
		rc = 0;
	if (rc == 1) /* under the lock: p->err and p->fail_errno are this fault's */
		rc = deliver_page_error(c, gpa, kind == ACCESS_WRITE);
	pthread_mutex_unlock(&v->fault_lock);
	c->stall_ns += now_ns() - t0;
	return rc == 0 ? 0 : -1;
}

static int run_vcpu_loop(struct vcpu *c);

/* The vCPU's thread CPU time is measured around its loop (--async-pf
 * shows that a vCPU whose threads all wait does not spin). */
int run_vcpu(struct vcpu *c)
{
	struct timespec a, b;
	int rc;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	rc = run_vcpu_loop(c);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	c->cpu_ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000u + (uint64_t)b.tv_nsec -
		    (uint64_t)a.tv_nsec;
	return rc;
}

static int run_vcpu_loop(struct vcpu *c)
{
	struct vmm *v = c->v;
	struct kvm_run *run = c->vm.run;
	unsigned raced = 0; /* EFAULTs in a row on pages that no longer trap */
	char what[200];

	while (!c->exited) {
		int rc;

		if (v->bio && blockio_before_run(c) != 0)
			return -1;
		if (v->dsm) /* the access that faulted is complete (vmm_dsm.c) */
			dsm_node_unpin(v->dsm);
		rc = ioctl(c->vm.vcpu_fd, KVM_RUN, 0);

		if (rc < 0) {
			int e = errno;

			if (__atomic_load_n(&v->timed_out, __ATOMIC_ACQUIRE)) {
				snprintf(what, sizeof(what), "timed out after %.3f s, still running",
					 (double)v->cfg->timeout_ns / 1e9);
				return bad_guest(c, what);
			}
			if (__atomic_load_n(&v->stopping, __ATOMIC_ACQUIRE))
				return -1; /* another vCPU failed: its reason is v->err */
			if (v->region.failed)
				return vmm_fail(v, "%s", v->region.fault_err);
			if (e == EINTR || e == EAGAIN)
				continue;
			if (e == EFAULT && run->exit_reason != KVM_EXIT_MEMORY_FAULT) {
				/* No exit information: find the access ourselves. */
				uint64_t gpa, t0 = now_ns();
				enum access_kind kind;
				struct trap_query q = { v, UINT64_MAX };

				/* Locked from the look at what traps to the fault:
				 * the paging daemon and the other vCPUs change
				 * what traps. */
				pthread_mutex_lock(&v->fault_lock);
				if (inspect_fault(&c->vm, &v->ram, data_access_traps, &q, &gpa,
						  &kind) == 0) {
					raced = 0;
					rc = apf_trap(c, gpa, kind); /* --async-pf: vmm_apf.c */
					if (rc == 0)
						rc = data_fault(v, c,
								(vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE),
								kind);
					else if (rc == 1)
						rc = 0;
					if (rc == 1)
						rc = deliver_page_error(c, gpa, kind == ACCESS_WRITE);
					pthread_mutex_unlock(&v->fault_lock);
					c->stall_ns += now_ns() - t0;
					if (rc != 0)
						return -1;
					continue;
				}
				pthread_mutex_unlock(&v->fault_lock);
				/* The access is to a data page that no longer traps:
				 * mapped meanwhile by another vCPU. Run it again; a
				 * page that never stops failing is the guest's. */
				if (q.data_gpa != UINT64_MAX && ++raced < MAX_RACED_TRAPS) {
					continue;
				}
				return bad_guest(c, q.data_gpa != UINT64_MAX
					? "KVM_RUN failed with EFAULT again and again on a mapped data page"
					: "KVM_RUN failed with EFAULT on no data page");
			}
			if (e == EFAULT && run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
				uint64_t gpa = kvm_memory_fault(run)->gpa;

				if (in_data(v, gpa)) {
					/* The access is re-executed on entry, and
					 * logged by KVM if it writes. */
					if (trapped(c, gpa, ACCESS_READ) != 0)
						return -1;
					continue;
				}
				snprintf(what, sizeof(what), "KVM_EXIT_MEMORY_FAULT at gpa 0x%llx",
					 (unsigned long long)gpa);
				return bad_guest(c, what);
			}
			return vmm_fail(v, "KVM_RUN: %s (exit reason %u, gpa 0x%llx)", strerror(e), run->exit_reason, (unsigned long long)kvm_memory_fault(run)->gpa);
		}
		raced = 0;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			rc = exit_io(c);
			if (rc == -2) {
				snprintf(what, sizeof(what), "KVM_EXIT_IO: %s of port 0x%x",
					 run->io.direction == KVM_EXIT_IO_OUT ? "write" : "read",
					 run->io.port);
				return bad_guest(c, what);
			}
			break;
		case KVM_EXIT_MMIO:
			if (in_data(v, run->mmio.phys_addr)) {
				uint64_t t0 = now_ns();

				rc = exit_mmio_data(c);
				c->stall_ns += now_ns() - t0;
				break;
			}
			if (run->mmio.phys_addr - PFLAB_DOORBELL < PAGE) {
				rc = exit_doorbell(c);
				if (rc != -2)
					break;
			}
			snprintf(what, sizeof(what),
				 "KVM_EXIT_MMIO: %s of %u bytes at guest-physical 0x%llx, outside guest RAM",
				 run->mmio.is_write ? "write" : "read", run->mmio.len,
				 (unsigned long long)run->mmio.phys_addr);
			return bad_guest(c, what);
		case KVM_EXIT_INTR:
			if (__atomic_load_n(&v->timed_out, __ATOMIC_ACQUIRE)) {
				snprintf(what, sizeof(what), "timed out after %.3f s, still running",
					 (double)v->cfg->timeout_ns / 1e9);
				return bad_guest(c, what);
			}
			if (__atomic_load_n(&v->stopping, __ATOMIC_ACQUIRE))
				return -1;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(what, sizeof(what), "KVM_EXIT_FAIL_ENTRY (reason 0x%llx)",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return bad_guest(c, what);
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(what, sizeof(what), "KVM_EXIT_INTERNAL_ERROR (suberror %u)",
				 run->internal.suberror);
			return bad_guest(c, what);
		default:
			return bad_guest(c, kvm_exit_name(run->exit_reason));
		}
		if (rc)
			return -1;
	}
	return 0;
}
