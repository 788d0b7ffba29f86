// SPDX-License-Identifier: MIT
/*
 * The KVM host's run: set the machine up, run the vCPU, answer its exits,
 * serve its faults through the pager, tear everything down. See vmm.h, and
 * docs/vmm.md for the fault path step by step.
 */
#include "vmm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "../guest/abi.h"
#include "cli.h"
#include "guest_image.h"
#include "fault_log.h"
#include "inspect.h"
#include "kvm_vm.h"
#include "page_error.h"
#include "swap.h"

#define PAGE 4096u
#define SLOT_WIRED 0
#define SLOT_DATA 1
/* kvm trap: each resident page is a host mapping of its own; stay well
 * below vm.max_map_count (65530 by default). */
#define KVM_TRAP_MAX_FRAMES 30000u

_Static_assert(VREF_WRITE == PFLAB_REF_WRITE, "trace buffer entries are vrefs");

static const char *const workload_names[WL_NR] = PFLAB_WORKLOAD_NAMES;

uint32_t vmm_workload_find(const char *name)
{
	for (uint32_t w = 1; w < WL_NR; w++)
		if (strcmp(workload_names[w], name) == 0)
			return w;
	return 0;
}

const char *vmm_workload_name(uint32_t workload)
{
	return workload < WL_NR && workload_names[workload] ? workload_names[workload] : "?";
}

uint32_t vmm_workload_passes(uint32_t workload)
{
	switch (workload) {
	case WL_SCAN: return 2;   /* write pass + verify pass */
	case WL_RANDOM: return 4; /* 4 x pages references */
	case WL_STRIDE: return 2;
	case WL_LIST: return 2;
	case WL_COPY: return 2;
	case WL_DMA: return 2;    /* device -> memory -> device -> memory */
	case WL_SHARED: return 3; /* rounds of A then B */
	default: return 1;
	}
}

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
	uint64_t pgerr_delivered, pgerr_reported;
	size_t pgerr_log;           /* 1 + the inject log entry delivered last, or 0 */
	struct pager *pager;
	struct dma_dev *dma;        /* --dma: the DMA device (dma.h), or NULL */
	struct guest_ram ram;        /* what inspect.c reads instructions from */
	struct fault_log *flog;     /* --fault-log, or NULL */

	size_t trace_sent;          /* references handed to the guest so far */
	uint64_t hits_from;         /* OPT: first reference not yet shown to it */
	bool guest_exited;
	pthread_mutex_t fault_lock; /* data_fault() is not reentrant; also the pager
				       lock of the paging daemon (pool.h) */

	uint32_t *lat_ns;           /* per pager fault */
	size_t nlat, lat_cap;
	uint64_t nops, nop_first_ns, nop_last_ns;
	uint64_t start_ns;

	char line[200];             /* the guest's console line being assembled */
	size_t line_len;

	/* --timeout: a timer thread kicks the vCPU out of KVM_RUN. */
	pthread_t vcpu_thread, timer;
	bool timer_running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int timed_out;

	char err[640];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fail(struct vmm *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record the first reason the run failed; later ones are consequences. */
static int fail(struct vmm *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->err[0]) {
		va_start(ap, fmt);
		vsnprintf(v->err, sizeof(v->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- the fault path ---------------------------------------------------- */

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

static void log_fault(struct vmm *v, vpn_t vpn, enum access_kind kind, frame_t f,
		      const struct pager_stats *before, vpn_t victim)
{
	const struct pager_stats *st = &v->pager->stats;
	char where[320] = "rip ? (the vCPU sleeps in the kernel under uffd)";

	if (v->cfg->trap == &trap_kvm_ops)
		inspect_rip(&v->vm, &v->ram, where, sizeof(where));
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

/*
 * A guest access to data page vpn trapped (either mechanism). Soft fault,
 * spurious trap, or a real one for the pager. 0; 1 when the page could not
 * be read in, for the caller to deliver to the guest (deliver_page_error);
 * or -1 (reason in v->err).
 */
static int data_fault(struct vmm *v, vpn_t vpn, enum access_kind kind)
{
	const struct vmm_config *c = v->cfg;
	struct pager *p = v->pager;
	struct pager_stats before;
	uint64_t t0 = now_ns();
	vpn_t victim = 0;
	frame_t f;
	int rc;

	if (vpn >= v->region.npages)
		return fail(v, "fault on page %u outside the data region of %u pages", vpn,
			    v->region.npages);
	rc = kvm_mmu_soft_fault(&v->mmu, vpn, kind);
	if (rc < 0)
		return fail(v, "re-mapping page %u: %s", vpn, strerror(-rc));
	if (rc > 0 && v->flog)
		fault_log_fault(v->flog, &v->vm, &v->ram, &(struct fault_event){
			.vpn = vpn, .kind = kind, .soft = true, .inspect = c->trap == &trap_kvm_ops });
	if (rc > 0 || (v->mmu.state[vpn] & PG_MAPPED))
		return 0; /* a soft fault, or a trap that raced with the mapping */

	if (c->trace) {
		uint64_t idx = v->mb->ref_index;

		if (idx >= c->trace_len || VREF_VPN(c->trace[idx]) != vpn)
			return fail(v, "fault on page %u does not match trace reference %llu", vpn,
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
		return fail(v, "pager: %s", p->err);
	if (v->mmu.error)
		return fail(v, "KVM MMU: %s", strerror(-v->mmu.error));
	if (p->stats.evictions != before.evictions)
		victim = v->mmu.last_unmapped;

	if (v->nlat == v->lat_cap) {
		size_t cap = v->lat_cap ? v->lat_cap * 2 : 4096;
		uint32_t *l = realloc(v->lat_ns, cap * sizeof(*l));

		if (!l)
			return fail(v, "out of memory for fault latencies");
		v->lat_ns = l;
		v->lat_cap = cap;
	}
	{
		uint64_t dt = now_ns() - t0;

		v->lat_ns[v->nlat++] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
	}

	if (c->record)
		fprintf(c->record, "%c %llu\n", kind == ACCESS_WRITE ? 'W' : 'R',
			(unsigned long long)(c->page_ids ? c->page_ids[vpn] : vpn));
	if (c->verbose)
		log_fault(v, vpn, kind, f, &before, victim);
	if (v->flog)
		fault_log_fault(v->flog, &v->vm, &v->ram, &(struct fault_event){
			.vpn = vpn, .kind = kind, .major = p->stats.major != before.major, .frame = f,
			.evicted = p->stats.evictions != before.evictions, .victim = victim,
			.written_back = p->stats.writebacks != before.writebacks,
			.inspect = c->trap == &trap_kvm_ops });
	return 0;
}

/*
 * data_fault() could not read the page at gpa in: hand the error to the
 * guest's handler instead of mapping wrong data (page_error.h), and note
 * where in the --inject log. On the vCPU thread, the vCPU stopped at the
 * faulting instruction. 0 or -1.
 */
static int deliver_page_error(struct vmm *v, uint64_t gpa, bool write)
{
	vpn_t vpn = (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE);
	char why[200];
	uint64_t rip;

	if (page_error_deliver(&v->vm, v->wired, PFLAB_WIRED_SIZE, v->mb, gpa, write,
			       -v->pager->fail_errno, &rip, why, sizeof(why)) != 0)
		return fail(v, "pager: %s, and %s", v->pager->err, why);
	v->pgerr_delivered++;
	v->pgerr_log = v->inject_open ? inject_note_delivery(&v->inject, vpn, rip) : 0;
	if (v->cfg->verbose)
		fprintf(stderr, "fault: gpa 0x%llx page %u: %s: delivered to the guest's handler, "
			"faulting rip 0x%llx\n", (unsigned long long)gpa, vpn, v->pager->err,
			(unsigned long long)rip);
	return 0;
}

/* The uffd handler thread's entry into data_fault(). The lock is there for
 * an EFAULT that would still reach the vCPU thread meanwhile. */
static int on_uffd_fault(void *ctx, vpn_t vpn, enum access_kind kind)
{
	struct vmm *v = ctx;
	int rc;

	pthread_mutex_lock(&v->fault_lock);
	rc = data_fault(v, vpn, kind);
	pthread_mutex_unlock(&v->fault_lock);
	if (rc == 1)
		/* The vCPU sleeps inside the kernel's fault: its registers
		 * cannot be changed until the fault is resolved. */
		fail(v, "pager: %s; the uffd trap cannot deliver a page-in error to the "
		     "guest (--trap kvm can)", v->pager->err);
	if (rc == 0)
		return 0;
	snprintf(v->region.fault_err, sizeof(v->region.fault_err), "%.250s", v->err);
	return -1;
}

/* ---- exits --------------------------------------------------------------- */

static void console_byte(struct vmm *v, char ch)
{
	if (ch != '\n' && v->line_len < sizeof(v->line) - 1) {
		v->line[v->line_len++] = ch;
		return;
	}
	v->line[v->line_len] = '\0';
	fprintf(stderr, "guest| %s\n", v->line);
	if (v->flog)
		fault_log_line(v->flog, "guest| %s", v->line);
	v->line_len = 0;
	if (ch != '\n')
		v->line[v->line_len++] = ch;
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
		return fail(v, "guest asked to evict page %llu outside the data region of %u pages",
			    (unsigned long long)vpn, v->region.npages);
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
		return fail(v, "evicting page %llu for the guest: %s", (unsigned long long)vpn, p->err);
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
static int switch_aspace(struct vmm *v, uint64_t cr3)
{
	struct kvm_sregs s;

	if (cr3 % PFLAB_PAGE_SIZE || cr3 < PFLAB_IMAGE_BASE || cr3 >= PFLAB_WIRED_SIZE)
		return fail(v, "guest asked for page tables at 0x%llx, not a page of its image",
			    (unsigned long long)cr3);
	if (ioctl(v->vm.vcpu_fd, KVM_GET_SREGS, &s))
		return fail(v, "KVM_GET_SREGS: %s", strerror(errno));
	s.cr3 = cr3;
	if (ioctl(v->vm.vcpu_fd, KVM_SET_SREGS, &s))
		return fail(v, "KVM_SET_SREGS: %s", strerror(errno));
	return 0;
}

static int hcall(struct vmm *v, uint32_t nr)
{
	const struct vmm_config *c = v->cfg;
	volatile struct pflab_mailbox *mb = v->mb;

	switch (nr) {
	case HC_CONFIG:
		mb->workload = c->workload;
		mb->npages = c->npages;
		mb->passes = c->passes;
		mb->nops = c->nops;
		mb->seed = c->seed;
		mb->map_bytes = v->mapfile.st.size_before;
		return 0;
	case HC_TRACE_NEXT: {
		size_t n = c->trace_len - v->trace_sent;

		if (n > PFLAB_TRACE_BUF_REFS)
			n = PFLAB_TRACE_BUF_REFS;
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
		v->guest_exited = true;
		return 0;
	case HC_PAGE_ERROR:
		v->pgerr_reported++;
		if (v->pgerr_log && mb->pgerr_ack == mb->pgerr_count)
			inject_note_reported(&v->inject, v->pgerr_log);
		return 0;
	case HC_EVICT:
		return guest_evict(v, mb->evict_page);
	case HC_MSYNC: {
		int rc;

		if (!v->mapfile_open)
			return fail(v, "guest made HC_MSYNC with no --map-file");
		pthread_mutex_lock(&v->fault_lock);
		mb->msync_written = mapfile_msync(&v->mapfile, v->pager, mb->msync_first,
						  mb->msync_count, &rc);
		pthread_mutex_unlock(&v->fault_lock);
		mb->msync_errno = (uint32_t)-rc;
		return 0;
	}
	case HC_ASPACE:
		return switch_aspace(v, mb->aspace_cr3);
	case HC_NOP: {
		uint64_t t = now_ns();

		if (v->nops++ == 0)
			v->nop_first_ns = t;
		v->nop_last_ns = t;
		return 0;
	}
	}
	return fail(v, "guest made unknown hypercall %u", nr);
}

static int exit_io(struct vmm *v)
{
	struct kvm_run *run = v->vm.run;
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;

	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PFLAB_PORT_SERIAL) {
		for (uint32_t i = 0; i < run->io.count; i++)
			console_byte(v, (char)data[i * run->io.size]);
		return 0;
	}
	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PFLAB_PORT_HCALL &&
	    run->io.size == 4 && run->io.count == 1) {
		uint32_t nr;

		memcpy(&nr, data, sizeof(nr));
		return hcall(v, nr);
	}
	return -2; /* a bad guest: reported by the caller with its RIP */
}

/* KVM_EXIT_MMIO in the data region: the trap of an absent page. KVM has
 * decoded the access and waits for us to complete it: make the page
 * resident, then do the access against it (a load's bytes go back in
 * run->mmio.data; a store's bytes go into the page, which is then dirty
 * though KVM's dirty log never saw the write). */
static int exit_mmio_data(struct vmm *v)
{
	struct kvm_run *run = v->vm.run;
	uint64_t off = run->mmio.phys_addr - PFLAB_DATA_BASE;
	vpn_t vpn = (vpn_t)(off / PAGE);
	uint32_t len = run->mmio.len;
	uint8_t *at;

	if (len > sizeof(run->mmio.data) || (off % PAGE) + len > PAGE)
		return fail(v, "MMIO access of %u bytes at 0x%llx crosses a page", len,
			    (unsigned long long)run->mmio.phys_addr);
	/* Locked until the access is done: the paging daemon must not take
	 * the page away between the fault and the copy. */
	pthread_mutex_lock(&v->fault_lock);
	switch (data_fault(v, vpn, run->mmio.is_write ? ACCESS_WRITE : ACCESS_READ)) {
	case 0:
		break;
	case 1:
		pthread_mutex_unlock(&v->fault_lock);
		/* KVM waits for the access's data: it cannot be redirected. */
		return fail(v, "pager: %s, during an emulated access that cannot be interrupted",
			    v->pager->err);
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
static int exit_doorbell(struct vmm *v)
{
	struct kvm_run *run = v->vm.run;
	uint64_t gpa = run->mmio.phys_addr;
	uint32_t nr;

	if (v->dma && gpa - PFLAB_DOORBELL_DMA < PAGE - (PFLAB_DOORBELL_DMA - PFLAB_DOORBELL)) {
		int rc = dma_mmio(v->dma, gpa - PFLAB_DOORBELL_DMA, run->mmio.is_write,
				  run->mmio.data, run->mmio.len);

		return rc == -1 ? fail(v, "DMA device: %s", dma_error(v->dma)) : rc;
	}
	if (!run->mmio.is_write)
		return -2;
	if (gpa == PFLAB_DOORBELL_CONS && run->mmio.len == 1) {
		console_byte(v, (char)run->mmio.data[0]);
		return 0;
	}
	if (gpa == PFLAB_DOORBELL_HCALL && run->mmio.len == 4) {
		memcpy(&nr, run->mmio.data, sizeof(nr));
		return hcall(v, nr);
	}
	return -2;
}

static bool in_data(const struct vmm *v, uint64_t gpa)
{
	return gpa >= PFLAB_DATA_BASE && gpa - PFLAB_DATA_BASE < region_bytes(&v->region);
}

/* For inspect_fault(): would such an access to gpa trap now? */
static int data_access_traps(void *ctx, uint64_t gpa, int write)
{
	struct vmm *v = ctx;

	return in_data(v, gpa) &&
	       kvm_mmu_traps(&v->mmu, (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE), write);
}

/* For inspect.c: the bytes of a data page the guest can read now, or NULL. */
static const uint8_t *readable_page(void *ctx, uint64_t gpa)
{
	struct vmm *v = ctx;
	vpn_t vpn = (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE);

	if (!in_data(v, gpa) || !(v->mmu.state[vpn] & PG_MAPPED))
		return NULL;
	return kvm_mmu_page_bytes(&v->mmu, vpn, v->mmu.frame[vpn]);
}

/* A guest that did something no well-behaved guest does: say what, where. */
static int bad_guest(struct vmm *v, const char *what)
{
	char where[320];

	pthread_mutex_lock(&v->fault_lock); /* inspect reads data pages: see readable_page() */
	inspect_rip(&v->vm, &v->ram, where, sizeof(where));
	pthread_mutex_unlock(&v->fault_lock);
	return fail(v, "guest failed: %s at %s", what, where);
}

static int run_vcpu(struct vmm *v)
{
	struct kvm_run *run = v->vm.run;
	char what[200];

	while (!v->guest_exited) {
		int rc = ioctl(v->vm.vcpu_fd, KVM_RUN, 0);

		if (rc < 0) {
			int e = errno;

			if (__atomic_load_n(&v->timed_out, __ATOMIC_ACQUIRE)) {
				snprintf(what, sizeof(what), "timed out after %.3f s, still running",
					 (double)v->cfg->timeout_ns / 1e9);
				return bad_guest(v, what);
			}
			if (v->region.failed)
				return fail(v, "%s", v->region.fault_err);
			if (e == EINTR || e == EAGAIN)
				continue;
			if (e == EFAULT && run->exit_reason != KVM_EXIT_MEMORY_FAULT) {
				/* No exit information: find the access ourselves. */
				uint64_t gpa;
				enum access_kind kind;

				/* Locked from the look at what traps to the fault:
				 * the paging daemon changes what traps. */
				pthread_mutex_lock(&v->fault_lock);
				if (inspect_fault(&v->vm, &v->ram, data_access_traps, v, &gpa,
						  &kind) == 0) {
					rc = data_fault(v, (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE), kind);
					pthread_mutex_unlock(&v->fault_lock);
					if (rc == 1)
						rc = deliver_page_error(v, gpa, kind == ACCESS_WRITE);
					if (rc != 0)
						return -1;
					continue;
				}
				pthread_mutex_unlock(&v->fault_lock);
				return bad_guest(v, "KVM_RUN failed with EFAULT on no data page");
			}
			if (e == EFAULT && run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
				uint64_t gpa = kvm_memory_fault(run)->gpa;

				if (in_data(v, gpa)) {
					/* The access is re-executed on entry, and
					 * logged by KVM if it writes. */
					pthread_mutex_lock(&v->fault_lock);
					rc = data_fault(v, (vpn_t)((gpa - PFLAB_DATA_BASE) / PAGE),
							ACCESS_READ);
					pthread_mutex_unlock(&v->fault_lock);
					if (rc == 1)
						rc = deliver_page_error(v, gpa, false);
					if (rc != 0)
						return -1;
					continue;
				}
				snprintf(what, sizeof(what), "KVM_EXIT_MEMORY_FAULT at gpa 0x%llx",
					 (unsigned long long)gpa);
				return bad_guest(v, what);
			}
			return fail(v, "KVM_RUN: %s (exit reason %u, gpa 0x%llx)", strerror(e), run->exit_reason, (unsigned long long)kvm_memory_fault(run)->gpa);
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			rc = exit_io(v);
			if (rc == -2) {
				snprintf(what, sizeof(what), "KVM_EXIT_IO: %s of port 0x%x",
					 run->io.direction == KVM_EXIT_IO_OUT ? "write" : "read",
					 run->io.port);
				return bad_guest(v, what);
			}
			break;
		case KVM_EXIT_MMIO:
			if (in_data(v, run->mmio.phys_addr)) {
				rc = exit_mmio_data(v);
				break;
			}
			if (run->mmio.phys_addr - PFLAB_DOORBELL < PAGE) {
				rc = exit_doorbell(v);
				if (rc != -2)
					break;
			}
			snprintf(what, sizeof(what),
				 "KVM_EXIT_MMIO: %s of %u bytes at guest-physical 0x%llx, outside guest RAM",
				 run->mmio.is_write ? "write" : "read", run->mmio.len,
				 (unsigned long long)run->mmio.phys_addr);
			return bad_guest(v, what);
		case KVM_EXIT_INTR:
			if (__atomic_load_n(&v->timed_out, __ATOMIC_ACQUIRE)) {
				snprintf(what, sizeof(what), "timed out after %.3f s, still running",
					 (double)v->cfg->timeout_ns / 1e9);
				return bad_guest(v, what);
			}
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(what, sizeof(what), "KVM_EXIT_FAIL_ENTRY (reason 0x%llx)",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return bad_guest(v, what);
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(what, sizeof(what), "KVM_EXIT_INTERNAL_ERROR (suberror %u)",
				 run->internal.suberror);
			return bad_guest(v, what);
		default:
			return bad_guest(v, kvm_exit_name(run->exit_reason));
		}
		if (rc)
			return -1;
	}
	return 0;
}

/* ---- the timeout --------------------------------------------------------- */

static void kick_handler(int sig)
{
	(void)sig; /* only here so that the signal interrupts KVM_RUN */
}

static void *timer_main(void *arg)
{
	struct vmm *v = arg;
	struct timespec at;
	uint64_t deadline = now_ns() + v->cfg->timeout_ns;

	pthread_mutex_lock(&v->lock);
	while (!v->done) {
		at.tv_sec = (time_t)(deadline / 1000000000u);
		at.tv_nsec = (long)(deadline % 1000000000u);
		if (pthread_cond_timedwait(&v->cond, &v->lock, &at) == ETIMEDOUT) {
			/* immediate_exit covers a kick that lands just before
			 * KVM_RUN; the signal covers one inside it. Repeat in
			 * case the vCPU sat in an uninterruptible wait. */
			__atomic_store_n(&v->timed_out, 1, __ATOMIC_RELEASE);
			v->vm.run->immediate_exit = 1;
			pthread_kill(v->vcpu_thread, SIGUSR1);
			deadline = now_ns() + 50000000u;
		}
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

static int timer_start(struct vmm *v)
{
	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		return fail(v, "sigaction: %s", strerror(errno));
	v->vcpu_thread = pthread_self();
	if (pthread_create(&v->timer, NULL, timer_main, v) != 0)
		return fail(v, "cannot start the timeout thread");
	v->timer_running = true;
	return 0;
}

static void timer_stop(struct vmm *v)
{
	if (!v->timer_running)
		return;
	pthread_mutex_lock(&v->lock);
	v->done = true;
	pthread_cond_signal(&v->cond);
	pthread_mutex_unlock(&v->lock);
	pthread_join(v->timer, NULL);
	v->timer_running = false;
}

/* ---- set-up and tear-down ------------------------------------------------ */

static int setup(struct vmm *v, bool *no_kvm)
{
	const struct vmm_config *c = v->cfg;
	char why[300];
	uint64_t entry;
	size_t img_len;
	const uint8_t *img = guest_image(&img_len);
	int rc;

	rc = kvm_vm_create(&v->vm, why, sizeof(why));
	if (rc) {
		*no_kvm = rc == -ENOENT || rc == -EACCES || rc == -EPERM || rc == -ENXIO ||
			  rc == -ENODEV;
		return fail(v, "%s", why);
	}
	v->wired = mmap(NULL, PFLAB_WIRED_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->wired == MAP_FAILED) {
		v->wired = NULL;
		return fail(v, "wired memory: %s", strerror(errno));
	}
	v->mb = (volatile struct pflab_mailbox *)(v->wired + PFLAB_MAILBOX);
	if (elf_load(img, img_len, v->wired, PFLAB_TRACE_BUF, &entry, why, sizeof(why)) != 0)
		return fail(v, "%s", why);
	rc = kvm_vm_set_memslot(&v->vm, SLOT_WIRED, 0, PFLAB_WIRED_SIZE, v->wired, 0);
	if (rc)
		return fail(v, "wired memslot: %s", strerror(-rc));

	v->region = (struct region){
		.trap = c->trap, .npages = c->npages, .nframes = c->nframes,
		.memfd = -1, .uffd = -1, .stop_fd = -1,
		.on_fault = on_uffd_fault, .fault_ctx = v,
	};
	if (c->trap->init(&v->region, why, sizeof(why)) != 0)
		return fail(v, "%s trap: %s", c->trap->name, why);
	rc = kvm_vm_set_memslot(&v->vm, SLOT_DATA, PFLAB_DATA_BASE, region_bytes(&v->region),
				v->region.va, KVM_MEM_LOG_DIRTY_PAGES);
	if (rc)
		return fail(v, "data memslot: %s", strerror(-rc));
	rc = kvm_mmu_init(&v->mmu, &v->region, &v->vm, SLOT_DATA);
	if (rc)
		return fail(v, "KVM MMU: %s", strerror(-rc));
	v->ram = (struct guest_ram){ v->wired, PFLAB_WIRED_SIZE, readable_page, v };
	if (c->fault_log) {
		v->flog = fault_log_new(c->fault_log);
		if (!v->flog)
			return fail(v, "out of memory for the fault log");
		fault_log_line(v->flog, "# pflab fault log: workload %s, policy %s, %u frames, %u pages, trap %s",
			       vmm_workload_name(c->workload), c->policy->name, c->nframes,
			       c->npages, c->trap->name);
	}

	if (swap_open(&v->store, &(struct swap_config){
		    .npages = c->npages,
		    .path = c->swap_path,
		    .in_memory = c->store_in_memory,
		    .latency_ns = c->disk_latency_ns,
		    .corrupt_vpn = c->corrupt_page,
		    .layout = c->swap_layout,
		    .nslots = c->swap_slots,
		    .seek_ns = c->disk_seek_ns,
		    .page_bytes = kvm_mmu_page_bytes,
		    .ctx = &v->mmu,
	    }, why, sizeof(why)) != 0)
		return fail(v, "%s", why);
	v->store_open = true;
	if (c->map_path) {
		if (mapfile_open(&v->mapfile, c->map_path, c->npages, kvm_mmu_page_bytes, &v->mmu,
				 why, sizeof(why)) != 0)
			return fail(v, "%s", why);
		v->mapfile_open = true;
	}
	if (c->ninject) {
		struct inject_rule *rules = malloc(sizeof(*rules) * c->ninject);

		if (!rules)
			return fail(v, "out of memory for --inject");
		memcpy(rules, c->inject, sizeof(*rules) * c->ninject);
		if (inject_init(&v->inject, v->mapfile_open ? &v->mapfile.bs : &v->store.bs,
				rules, c->ninject) != 0)
			return fail(v, "out of memory for --inject");
		v->inject_open = true;
	}

	v->pager = pager_create(&(struct pager_config){
		.nframes = c->nframes,
		.npages = c->npages,
		.policy = c->policy,
		.params = c->params,
		.future_known = c->next_use != NULL,
		/* A trace's pages exist before the run (blocks of files,
		 * pages of a program), as the simulator assumes: every miss
		 * reads the store. A workload's data region is anonymous
		 * memory: first touches are zero-filled. */
		.first_touch_major = c->trace != NULL || v->mapfile_open, /* a file's pages exist */
		.mmu = &v->mmu.mmu,
		.store = v->inject_open ? &v->inject.bs
			 : v->mapfile_open ? &v->mapfile.bs : &v->store.bs,
		/* The paging daemon takes the fault lock, which every path
		 * into the pager here already holds (docs/pager-daemon.md). */
		.pool = { .low = c->pool_low, .high = c->pool_high, .threaded = !c->pool_sync,
			  .lock = &v->fault_lock },
	}, why, sizeof(why));
	if (!v->pager)
		return fail(v, "%s", why);
	if (c->dma) {
		v->dma = dma_create(&(struct dma_config){
			.mode = c->dma, .pager = v->pager, .mmu = &v->mmu,
			.fault_lock = &v->fault_lock, .data_base = PFLAB_DATA_BASE,
			.page_ns = c->dma_page_ns }, why, sizeof(why));
		if (!v->dma)
			return fail(v, "%s", why);
	}

	rc = kvm_vm_start_long_mode(&v->vm, v->wired, PFLAB_BOOT_PML4, PFLAB_BOOT_PDPT,
				    PFLAB_BOOT_PD, PFLAB_BOOT_GDT, entry);
	if (rc)
		return fail(v, "setting up the vCPU: %s", strerror(-rc));
	if (c->trap->start && c->trap->start(&v->region, why, sizeof(why)) != 0)
		return fail(v, "%s", why);
	if (c->timeout_ns && timer_start(v) != 0)
		return -1;
	return 0;
}

static void teardown(struct vmm *v)
{
	timer_stop(v);
	/* The uffd thread first: it may be inside the pager. */
	if (v->region.trap)
		v->region.trap->fini(&v->region);
	dma_destroy(v->dma); /* before the pager its thread calls into */
	pager_destroy(v->pager);
	fault_log_free(v->flog);
	if (v->inject_open)
		inject_fini(&v->inject);
	if (v->store_open)
		swap_close(&v->store);
	if (v->mapfile_open)
		mapfile_close(&v->mapfile);
	kvm_mmu_fini(&v->mmu);
	kvm_vm_destroy(&v->vm);
	if (v->wired)
		munmap(v->wired, PFLAB_WIRED_SIZE);
	free(v->lat_ns);
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->fault_lock);
	pthread_cond_destroy(&v->cond);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void results(struct vmm *v, struct vmm_result *res)
{
	const struct vmm_config *c = v->cfg;
	double sum = 0;

	res->stats = v->pager->stats;
	res->stats.refs = c->trace ? c->trace_len : v->mb->refs;
	res->soft_faults = v->mmu.soft_faults;
	res->dirty_faults = v->mmu.dirty_faults;
	res->guest_errors = v->mb->errors;
	res->swap_reads = v->store.reads;
	res->swap_writes = v->store.writes;
	res->swap_layout = swap_layout_stats(&v->store.layout);
	res->swap_seeks = v->store.seeks;
	res->pgerr_delivered = v->pgerr_delivered;
	res->pgerr_reported = v->pgerr_reported;
	res->guest_gave_up = v->mb->status == 2;
	if (v->dma)
		res->dma = dma_stats(v->dma);
	if (v->mapfile_open)
		res->mapfile = mapfile_stats(&v->mapfile);
	if (v->inject_open) {
		/* A write-back that never succeeded leaves its page resident
		 * and dirty: say so for each, rather than assume it. */
		for (size_t i = 0; i < v->inject.nlog; i++) {
			struct inject_error *e = &v->inject.log[i];

			e->resident_at_end = pager_lookup(v->pager, e->vpn) != NO_FRAME;
		}
		res->io_errors = v->inject.log;
		res->n_io_errors = v->inject.nlog;
		v->inject.log = NULL;
		v->inject.nlog = v->inject.log_cap = 0;
	}
	res->wall_s = (double)(now_ns() - v->start_ns) / 1e9;
	if (v->nlat) {
		qsort(v->lat_ns, v->nlat, sizeof(*v->lat_ns), cmp_u32);
		for (size_t i = 0; i < v->nlat; i++)
			sum += v->lat_ns[i];
		res->lat_mean_us = sum / (double)v->nlat / 1e3;
		res->lat_p50_us = v->lat_ns[v->nlat / 2] / 1e3;
		res->lat_p99_us = v->lat_ns[(v->nlat * 99) / 100] / 1e3;
	}
	if (v->nops > 1)
		res->exit_rtt_us = (double)(v->nop_last_ns - v->nop_first_ns) /
				   (double)(v->nops - 1) / 1e3;
}

int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, char *err, size_t errlen)
{
	struct vmm *v = calloc(1, sizeof(*v));
	bool no_kvm = false;
	int status = EXIT_OK;

	memset(res, 0, sizeof(*res));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return EXIT_FAIL;
	}
	v->cfg = cfg;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->fault_lock, NULL);
	{
		/* The timer counts on the monotonic clock, as now_ns() does. */
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&v->cond, &ca);
		pthread_condattr_destroy(&ca);
	}

	if (cfg->npages == 0 || cfg->npages > PFLAB_DATA_MAX_PAGES) {
		snprintf(err, errlen, "the data region must have 1 to %u pages", PFLAB_DATA_MAX_PAGES);
		status = EXIT_USAGE;
	} else if (cfg->workload == WL_SHARED &&
		   (cfg->npages < 4 || cfg->npages > PFLAB_SHARED_MAX_PAGES)) {
		snprintf(err, errlen, "workload shared needs 4 to %u pages", PFLAB_SHARED_MAX_PAGES);
		status = EXIT_USAGE;
	} else if (cfg->trap == &trap_kvm_ops && cfg->nframes > KVM_TRAP_MAX_FRAMES) {
		snprintf(err, errlen,
			 "at most %u frames with --trap kvm (each resident page is a host mapping of its own)",
			 KVM_TRAP_MAX_FRAMES);
		status = EXIT_USAGE;
	} else if (setup(v, &no_kvm) != 0) {
		if (no_kvm)
			snprintf(err, errlen, "no usable KVM: %s", v->err);
		else
			snprintf(err, errlen, "%s", v->err);
		status = EXIT_USAGE;
	} else {
		v->start_ns = now_ns();
		if (run_vcpu(v) != 0) {
			snprintf(err, errlen, "%s", v->err);
			status = EXIT_FAIL;
		} else if (v->mb->status == 2) {
			snprintf(err, errlen,
				 "the guest gave up on a page it could not read in, after %llu page-in errors delivered",
				 (unsigned long long)v->pgerr_delivered);
			status = EXIT_FAIL;
		} else if (v->mb->status != 0 || v->mb->errors) {
			snprintf(err, errlen, "guest data verification failed: %llu mismatches",
				 (unsigned long long)v->mb->errors);
			status = EXIT_FAIL;
		}
		/* The end of the run writes the mapped file's dirty pages back,
		 * while the uffd trap still has the pages it maps. */
		if (v->mapfile_open) {
			int rc;

			pthread_mutex_lock(&v->fault_lock);
			rc = mapfile_sync_at_exit(&v->mapfile, v->pager);
			pthread_mutex_unlock(&v->fault_lock);
			if (rc && status == EXIT_OK) {
				snprintf(err, errlen, "map file %s: %llu dirty pages not written back "
					 "at exit: %s", cfg->map_path,
					 (unsigned long long)v->mapfile.st.exit_errors, strerror(-rc));
				status = EXIT_FAIL;
			}
		}
		timer_stop(v);
		if (v->region.trap == &trap_uffd_ops && v->region.thread_running) {
			/* Stop the handler before reading what it counts. */
			v->region.trap->fini(&v->region);
			v->region.trap = NULL;
		}
		/* And the DMA device and the paging daemon: their counts are
		 * final once they stop. */
		dma_stop(v->dma);
		pool_stop(v->pager);
		if (v->line_len)
			console_byte(v, '\n');
		results(v, res);
	}
	teardown(v);
	free(v);
	return status;
}
