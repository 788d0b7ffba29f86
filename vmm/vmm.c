// SPDX-License-Identifier: MIT
/*
 * The KVM host's run: set the machine up, run the vCPU (its exits:
 * vmm_exit.c; its faults: vmm_fault.c), report, tear everything down. See
 * vmm.h, and docs/vmm.md for the fault path step by step.
 */
#include "vmm_internal.h"
#include "async_pf.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../guest/abi.h"
#include "../guest/workload_gen.h"
#include "guest_image.h"
#include "fault_log.h"
#include "kvm_vm.h"
#include "swap.h"

#define SLOT_WIRED 0
#define SLOT_DATA 1
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
	return pflab_workload_passes(workload);
}

/* Record the first reason the run failed; later ones are consequences. */
int vmm_fail(struct vmm *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->err[0]) {
		va_start(ap, fmt);
		vsnprintf(v->err, sizeof(v->err), fmt, ap);
		va_end(ap);
	}
	return -1;
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
			kick_vcpus(v);
			deadline = now_ns() + 50000000u;
		}
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

/* The kick: SIGUSR1 interrupts KVM_RUN (the handler does nothing). */
static int kick_install(struct vmm *v)
{
	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		return vmm_fail(v, "sigaction: %s", strerror(errno));
	return 0;
}

void kick_vcpus(struct vmm *v)
{
	for (uint32_t i = 0; i < v->nvcpus; i++) {
		struct vcpu *c = &v->vcpus[i];

		if (c->vm.run)
			c->vm.run->immediate_exit = 1;
		if (__atomic_load_n(&c->thread_started, __ATOMIC_ACQUIRE))
			pthread_kill(c->thread, SIGUSR1);
	}
}

static int timer_start(struct vmm *v)
{
	if (kick_install(v) != 0)
		return -1;
	if (pthread_create(&v->timer, NULL, timer_main, v) != 0)
		return vmm_fail(v, "cannot start the timeout thread");
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

/* The in-process pager and its store (without --pager). 0 or -1. */
static int open_pager(struct vmm *v)
{
	const struct vmm_config *c = v->cfg;
	char why[300];

	if (swap_open(&v->store, &(struct swap_config){
		    .npages = c->npages,
		    .path = c->swap_path,
		    .reuse = c->swap_reuse,
		    .in_memory = c->store_in_memory,
		    .latency_ns = c->disk_latency_ns,
		    .corrupt_vpn = c->corrupt_page,
		    .layout = c->swap_layout,
		    .nslots = c->swap_slots,
		    .seek_ns = c->disk_seek_ns,
		    .disk_depth = c->disk_depth,
		    .disk_sched = c->disk_sched,
		    .page_bytes = kvm_mmu_page_bytes,
		    .ctx = &v->mmu,
	    }, why, sizeof(why)) != 0)
		return vmm_fail(v, "%s", why);
	v->store_open = true;
	if (c->map_path) {
		if (mapfile_open(&v->mapfile, c->map_path, c->npages, kvm_mmu_page_bytes, &v->mmu,
				 why, sizeof(why)) != 0)
			return vmm_fail(v, "%s", why);
		v->mapfile_open = true;
	}
	if (c->ninject) {
		struct inject_rule *rules = malloc(sizeof(*rules) * c->ninject);

		if (!rules)
			return vmm_fail(v, "out of memory for --inject");
		memcpy(rules, c->inject, sizeof(*rules) * c->ninject);
		if (inject_init(&v->inject, v->mapfile_open ? &v->mapfile.bs : &v->store.bs,
				rules, c->ninject) != 0)
			return vmm_fail(v, "out of memory for --inject");
		v->inject_open = true;
	}

	if (c->prefetch_given || c->workload == WL_BLOCKIO) {
		v->bio = blockio_create(&(struct blockio_config){
			.npages = c->npages, .mmu = &v->mmu, .store = &v->store,
			.inject = v->inject_open ? &v->inject : NULL, .lock = &v->fault_lock,
			.pool_low = c->pool_high ? c->pool_low : 0,
			.first_touch_major = c->trace != NULL,
		}, why, sizeof(why));
		if (!v->bio)
			return vmm_fail(v, "%s", why);
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
		.mmu = v->bio ? blockio_mmu(v->bio) : &v->mmu.mmu,
		.store = v->inject_open ? &v->inject.bs
			 : v->mapfile_open ? &v->mapfile.bs : &v->store.bs,
		/* The paging daemon takes the fault lock, which every path
		 * into the pager here already holds (docs/pager-daemon.md). */
		.pool = { .low = c->pool_low, .high = c->pool_high, .threaded = !c->pool_sync,
			  .lock = &v->fault_lock },
		/* Several vCPUs, or async-PF workers: a page-in drops the
		 * lock (pager.h). So do reads started by prefetch_page() and
		 * read_pages (blockio.h). */
		.io_lock = v->nvcpus > 1 || c->async_pf || v->bio ? &v->fault_lock : NULL,
	}, why, sizeof(why));
	if (!v->pager)
		return vmm_fail(v, "%s", why);
	if (v->bio)
		blockio_set_pager(v->bio, v->pager);
	if (c->dma) {
		v->dma = dma_create(&(struct dma_config){
			.mode = c->dma, .pager = v->pager, .mmu = &v->mmu,
			.fault_lock = &v->fault_lock, .data_base = PFLAB_DATA_BASE,
			.page_ns = c->dma_page_ns }, why, sizeof(why));
		if (!v->dma)
			return vmm_fail(v, "%s", why);
	}
	return 0;
}

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
		return vmm_fail(v, "%s", why);
	}
	v->wired = mmap(NULL, PFLAB_WIRED_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->wired == MAP_FAILED) {
		v->wired = NULL;
		return vmm_fail(v, "wired memory: %s", strerror(errno));
	}
	v->mb = (volatile struct pflab_mailbox *)(v->wired + PFLAB_MAILBOX);
	for (uint32_t i = 0; i < v->nvcpus; i++)
		v->vcpus[i] = (struct vcpu){
			.v = v, .id = i,
			.vm = i == 0 ? v->vm : (struct kvm_vm){ .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1 },
			.mb = (volatile struct pflab_mailbox *)(v->wired + PFLAB_MAILBOX_OF(i)),
		};
	if (elf_load(img, img_len, v->wired, PFLAB_TRACE_BUF, &entry, why, sizeof(why)) != 0)
		return vmm_fail(v, "%s", why);
	rc = kvm_vm_set_memslot(&v->vm, SLOT_WIRED, 0, PFLAB_WIRED_SIZE, v->wired, 0);
	if (rc)
		return vmm_fail(v, "wired memslot: %s", strerror(-rc));

	v->region = (struct region){
		.trap = c->trap, .npages = c->npages, .nframes = c->nframes,
		.memfd = -1, .uffd = -1, .stop_fd = -1, .data_memfd = -1,
		.shared = v->handover,
		.on_fault = on_uffd_fault, .fault_ctx = v,
	};
	if (c->trap->init(&v->region, why, sizeof(why)) != 0)
		return vmm_fail(v, "%s trap: %s", c->trap->name, why);
	rc = kvm_vm_set_memslot(&v->vm, SLOT_DATA, PFLAB_DATA_BASE, region_bytes(&v->region),
				v->region.va, KVM_MEM_LOG_DIRTY_PAGES);
	if (rc)
		return vmm_fail(v, "data memslot: %s", strerror(-rc));
	rc = kvm_mmu_init(&v->mmu, &v->region, &v->vm, SLOT_DATA);
	if (rc)
		return vmm_fail(v, "KVM MMU: %s", strerror(-rc));
	v->ram = (struct guest_ram){ v->wired, PFLAB_WIRED_SIZE, readable_page, v };
	if (c->fault_log) {
		v->flog = fault_log_new(c->fault_log);
		if (!v->flog)
			return vmm_fail(v, "out of memory for the fault log");
		fault_log_line(v->flog, "# pflab fault log: workload %s, policy %s, %u frames, %u pages, trap %s",
			       vmm_workload_name(c->workload), c->policy->name, c->nframes,
			       c->npages, c->trap->name);
	}

	if (c->pager_addr ? vmm_remote_open(v) != 0 : open_pager(v) != 0)
		return -1;

	/* Every vCPU starts at the entry in long mode, its id in RSI
	 * (guest/entry.S gives each its stack and mailbox). */
	for (uint32_t i = 0; i < v->nvcpus; i++) {
		struct vcpu *cpu = &v->vcpus[i];

		if (i > 0 && kvm_vm_add_vcpu(&v->vm, i, &cpu->vm, why, sizeof(why)) != 0)
			return vmm_fail(v, "%s", why);
		rc = kvm_vm_start_long_mode(&cpu->vm, v->wired, PFLAB_BOOT_PML4, PFLAB_BOOT_PDPT,
					    PFLAB_BOOT_PD, PFLAB_BOOT_GDT, entry);
		if (!rc)
			rc = kvm_vm_set_rsi(&cpu->vm, i);
		if (rc)
			return vmm_fail(v, "setting up vCPU %u: %s", i, strerror(-rc));
	}
	if (c->async_pf && apf_setup(v) != 0) /* vmm_apf.c */
		return -1;
	if (v->handover ? vmm_remote_start(v) != 0
			: c->trap->start && c->trap->start(&v->region, why, sizeof(why)) != 0)
		return v->handover ? -1 : vmm_fail(v, "%s", why);
	/* --dsm: a failing node kicks the vCPU out of KVM_RUN. */
	if (c->dsm_addr && (kick_install(v) != 0 || vmm_dsm_open(v) != 0))
		return -1;
	if (c->timeout_ns && timer_start(v) != 0)
		return -1;
	return 0;
}

static void teardown(struct vmm *v)
{
	vmm_dsm_close(v, NULL, false); /* a run that failed gives no page back */
	timer_stop(v);
	vmm_remote_close(v); /* its monitor first: it may fail the region closed */
	/* The uffd thread first: it may be inside the pager. */
	if (v->region.trap)
		v->region.trap->fini(&v->region);
	dma_destroy(v->dma); /* before the pager its thread calls into */
	if (v->bio && v->pager) {
		/* Reads and writes in flight complete into the pager. */
		pthread_mutex_lock(&v->fault_lock);
		blockio_drain(v->bio);
		pthread_mutex_unlock(&v->fault_lock);
	}
	apf_destroy(v->apf); /* and the async-PF workers */
	pager_destroy(v->pager);
	fault_log_free(v->flog);
	if (v->inject_open)
		inject_fini(&v->inject);
	if (v->store_open)
		swap_close(&v->store);
	if (v->mapfile_open)
		mapfile_close(&v->mapfile);
	blockio_destroy(v->bio); /* after the engine, whose requests are its */
	kvm_mmu_fini(&v->mmu);
	for (uint32_t i = 1; i < v->nvcpus; i++)
		kvm_vm_vcpu_close(&v->vcpus[i].vm);
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

/* What the vCPUs' guests reported at HC_EXIT: mismatches, summed; the
 * worst status (2 gave up, 1 failed, 0 ok). */
static uint64_t guest_errors(const struct vmm *v)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < v->nvcpus; i++)
		n += v->vcpus[i].mb->errors;
	return n;
}

static uint32_t guest_status(const struct vmm *v)
{
	uint32_t st = 0;

	for (uint32_t i = 0; i < v->nvcpus; i++) {
		uint32_t s = v->vcpus[i].mb->status;

		if (s == 2 || (s && st != 2))
			st = s;
	}
	return st;
}

static void *vcpu_main(void *arg)
{
	struct vcpu *c = arg;

	c->rc = run_vcpu(c);
	if (c->rc) {
		/* The others stop too: the run has failed. */
		__atomic_store_n(&c->v->stopping, 1, __ATOMIC_RELEASE);
		kick_vcpus(c->v);
	}
	return NULL;
}

/* One vCPU runs on the calling thread, as it always has; several get a
 * host thread each. 0, or -1 when one failed (the first reason in v->err). */
static int run_vcpus(struct vmm *v)
{
	int rc = 0;

	/* The async-PF workers stop a failed run with the kick too. */
	if (v->apf && !v->timer_running && kick_install(v) != 0)
		return -1;
	if (v->nvcpus == 1) {
		v->vcpus[0].thread = pthread_self();
		__atomic_store_n(&v->vcpus[0].thread_started, true, __ATOMIC_RELEASE);
		return run_vcpu(&v->vcpus[0]);
	}
	if (!v->timer_running && kick_install(v) != 0)
		return -1;
	for (uint32_t i = 0; i < v->nvcpus; i++) {
		struct vcpu *c = &v->vcpus[i];

		if (pthread_create(&c->thread, NULL, vcpu_main, c) != 0) {
			vmm_fail(v, "cannot start the thread of vCPU %u", i);
			__atomic_store_n(&v->stopping, 1, __ATOMIC_RELEASE);
			kick_vcpus(v);
			break;
		}
		__atomic_store_n(&c->thread_started, true, __ATOMIC_RELEASE);
	}
	for (uint32_t i = 0; i < v->nvcpus; i++) {
		struct vcpu *c = &v->vcpus[i];

		if (!c->thread_started) {
			rc = -1;
			continue;
		}
		pthread_join(c->thread, NULL);
		__atomic_store_n(&c->thread_started, false, __ATOMIC_RELEASE);
		if (c->rc)
			rc = -1;
	}
	return rc;
}

static void results(struct vmm *v, struct vmm_result *res)
{
	const struct vmm_config *c = v->cfg;
	double sum = 0;

	if (v->pc) {
		res->remote = true;
		res->stats = (struct pager_stats){
			.faults = v->rstats.faults, .major = v->rstats.major, .minor = v->rstats.minor,
			.evictions = v->rstats.evictions, .writebacks = v->rstats.writebacks,
			.resident = v->rstats.resident, .pagein_errors = v->rstats.pagein_errors,
			.writeback_errors = v->rstats.writeback_errors,
		};
		res->remote_writeback_errors = v->rsynced_errors;
	} else {
		res->stats = v->pager->stats;
	}
	res->stats.refs = c->trace ? c->trace_len : 0;
	res->nvcpus = v->nvcpus;
	for (uint32_t i = 0; i < v->nvcpus; i++) {
		const struct vcpu *cpu = &v->vcpus[i];

		res->vcpu[i].refs = cpu->mb->refs;
		res->vcpu[i].faults = cpu->faults;
		res->vcpu[i].major = cpu->major;
		res->vcpu[i].stall_s = (double)cpu->stall_ns / 1e9;
		res->vcpu[i].cpu_s = (double)cpu->cpu_ns / 1e9;
		if (v->apf) {
			struct apf_stats a = apf_stats(v->apf, i);

			res->async_faults += a.not_present;
			res->apf_ready += a.ready;
			res->apf_failed += a.failed;
			res->apf_halts += a.halts;
			res->apf_sync_major += cpu->sync_major;
			res->apf_idle_s += (double)a.idle_ns / 1e9;
			res->apf_idle_cpu_s += (double)a.idle_cpu_ns / 1e9;
		}
		res->guest_checks += cpu->mb->refs;
		if (!c->trace)
			res->stats.refs += cpu->mb->refs;
	}
	res->soft_faults = v->mmu.soft_faults;
	res->dirty_faults = v->mmu.dirty_faults;
	res->guest_errors = guest_errors(v);
	res->swap_reads = v->store.reads;
	res->swap_writes = v->store.writes;
	res->swap_layout = swap_layout_stats(&v->store.layout);
	res->swap_seeks = v->store.seeks;
	if (v->store.io) {
		res->disk = io_stats(v->store.io);
		res->swap_seeks = res->disk.seeks;
	}
	if (v->bio) {
		res->bio_on = true;
		res->bio = blockio_stats(v->bio);
	}
	res->pgerr_delivered = v->pgerr_delivered;
	res->pgerr_reported = v->pgerr_reported;
	res->guest_gave_up = guest_status(v) == 2;
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

/* Several vCPUs: the workloads that split their pages among them, under
 * the kvm trap, with the swap store. */
static bool vcpus_supported(const struct vmm_config *cfg, char *err, size_t errlen)
{
	uint32_t w = cfg->workload;

	if (cfg->trap != &trap_kvm_ops) {
		snprintf(err, errlen, "--vcpus needs --trap kvm");
		return false;
	}
	if (w != WL_SCAN && w != WL_RANDOM && w != WL_STRIDE && w != WL_LIST) {
		snprintf(err, errlen, "--vcpus %u: workload %s does not split its pages among vCPUs "
			 "(scan, random, stride and list do)", cfg->vcpus, vmm_workload_name(w));
		return false;
	}
	if (cfg->npages < cfg->vcpus) {
		snprintf(err, errlen, "--vcpus %u: fewer data pages (%u) than vCPUs", cfg->vcpus,
			 cfg->npages);
		return false;
	}
	if (cfg->record || cfg->fault_log) {
		snprintf(err, errlen, "--vcpus %u: --record and --fault-log follow one vCPU",
			 cfg->vcpus);
		return false;
	}
	return true;
}

/* Green threads and async PF: the workloads that split their pages, one
 * page per thread at least; async PF under the kvm trap (the vCPU must be
 * stopped at the faulting instruction to be redirected), the trace's
 * replay with one thread. */
static bool threads_supported(const struct vmm_config *cfg, char *err, size_t errlen)
{
	uint32_t w = cfg->workload, t = cfg->threads ? cfg->threads : 1;
	uint32_t n = cfg->vcpus ? cfg->vcpus : 1;

	if (t > PFLAB_MAX_THREADS) {
		snprintf(err, errlen, "at most %u threads per vCPU", PFLAB_MAX_THREADS);
		return false;
	}
	if (cfg->async_pf && cfg->trap != &trap_kvm_ops) {
		snprintf(err, errlen, "--async-pf needs --trap kvm");
		return false;
	}
	if (w == WL_TRACE && t == 1)
		return true;
	if (w != WL_SCAN && w != WL_RANDOM && w != WL_STRIDE && w != WL_LIST) {
		snprintf(err, errlen, "%s: workload %s does not split its pages among threads "
			 "(scan, random, stride and list do; trace with one thread)",
			 cfg->threads > 1 ? "--threads" : "--async-pf", vmm_workload_name(w));
		return false;
	}
	if (cfg->npages / n < t) {
		snprintf(err, errlen, "--threads %u: fewer data pages per vCPU (%u) than threads", t,
			 cfg->npages / n);
		return false;
	}
	return true;
}

/* --pager: the server holds the pager and the store; what needs them here
 * is refused before the run starts. */
static bool remote_supported(const struct vmm_config *cfg, char *err, size_t errlen)
{
	const char *what = cfg->trace ? "--trace (pflab remote replays traces)"
			   : cfg->map_path ? "--map-file"
			   : cfg->ninject ? "--inject (give it to pflab pager)"
			   : cfg->pool_high ? "--pool-low/--pool-high"
			   : cfg->vcpus > 1 ? "--vcpus"
			   : cfg->async_pf ? "--async-pf"
			   : cfg->dma ? "--dma"
			   : cfg->disk_depth ? "--disk-depth"
			   : cfg->record ? "--record"
			   : cfg->fault_log ? "--fault-log"
			   : cfg->workload == WL_SHARED ? "workload shared"
			   : cfg->corrupt_page >= 0 ? "--corrupt-page"
			   : NULL;

	if (what)
		snprintf(err, errlen, "--pager: %s needs the in-process pager", what);
	return !what;
}

int vmm_run(const struct vmm_config *cfg, struct vmm_result *res, char *err, size_t errlen)
{
	struct vmm *v = calloc(1, sizeof(*v));
	bool no_kvm = false;
	int status = VMM_OK;

	memset(res, 0, sizeof(*res));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return VMM_FAILED;
	}
	v->cfg = cfg;
	v->nvcpus = cfg->vcpus ? cfg->vcpus : 1;
	v->handover = cfg->pager_addr && cfg->trap == &trap_uffd_ops && !cfg->pager_forward;
	v->mon_stop = -1;
	for (uint32_t i = 0; i < VMM_MAX_VCPUS; i++)
		v->vcpus[i].vm = (struct kvm_vm){ .kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1 };
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
		status = VMM_NOT_STARTED;
	} else if (cfg->workload == WL_SHARED &&
		   (cfg->npages < 4 || cfg->npages > PFLAB_SHARED_MAX_PAGES)) {
		snprintf(err, errlen, "workload shared needs 4 to %u pages", PFLAB_SHARED_MAX_PAGES);
		status = VMM_NOT_STARTED;
	} else if (v->nvcpus > VMM_MAX_VCPUS) {
		snprintf(err, errlen, "at most %u vCPUs", VMM_MAX_VCPUS);
		status = VMM_NOT_STARTED;
	} else if (v->nvcpus > 1 && !vcpus_supported(cfg, err, errlen)) {
		status = VMM_NOT_STARTED;
	} else if ((cfg->threads > 1 || cfg->async_pf) && !threads_supported(cfg, err, errlen)) {
		status = VMM_NOT_STARTED;
	} else if (cfg->trap == &trap_kvm_ops && cfg->nframes > VMM_KVM_MAX_FRAMES) {
		snprintf(err, errlen,
			 "at most %u frames with --trap kvm (each resident page is a host mapping of its own)",
			 VMM_KVM_MAX_FRAMES);
		status = VMM_NOT_STARTED;
	} else if (cfg->pager_addr && !remote_supported(cfg, err, errlen)) {
		status = VMM_NOT_STARTED;
	} else if (setup(v, &no_kvm) != 0) {
		if (no_kvm)
			snprintf(err, errlen, "no usable KVM: %s", v->err);
		else
			snprintf(err, errlen, "%s", v->err);
		status = VMM_NOT_STARTED;
	} else {
		v->start_ns = now_ns();
		if (run_vcpus(v) != 0) {
			snprintf(err, errlen, "%s", v->err);
			status = VMM_FAILED;
		} else if (guest_status(v) == 2) {
			snprintf(err, errlen,
				 "the guest gave up on a page it could not read in, after %llu page-in errors delivered",
				 (unsigned long long)v->pgerr_delivered);
			status = VMM_FAILED;
		} else if (guest_status(v) != 0 || guest_errors(v)) {
			snprintf(err, errlen, "guest data verification failed: %llu mismatches",
				 (unsigned long long)guest_errors(v));
			status = VMM_FAILED;
		}
		/* The end of the run writes the mapped file's dirty pages back,
		 * while the uffd trap still has the pages it maps. */
		if (v->mapfile_open) {
			int rc;

			pthread_mutex_lock(&v->fault_lock);
			rc = mapfile_sync_at_exit(&v->mapfile, v->pager);
			pthread_mutex_unlock(&v->fault_lock);
			if (rc && status == VMM_OK) {
				snprintf(err, errlen, "map file %s: %llu dirty pages not written back "
					 "at exit: %s", cfg->map_path,
					 (unsigned long long)v->mapfile.st.exit_errors, strerror(-rc));
				status = VMM_FAILED;
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
		if (v->bio) {
			pthread_mutex_lock(&v->fault_lock);
			blockio_drain(v->bio);
			blockio_notice_ack(v->bio, v->vcpus[0].mb);
			pthread_mutex_unlock(&v->fault_lock);
		}
		if (v->pager)
			pool_stop(v->pager);
		/* --pager: the server's counters, and the write-back failures
		 * it reported, at a final sync. */
		if (v->pc && vmm_remote_finish(v) != 0 && status == VMM_OK) {
			snprintf(err, errlen, "%s", v->err);
			status = VMM_FAILED;
		}
		for (uint32_t i = 0; i < v->nvcpus; i++)
			if (v->vcpus[i].line_len)
				console_byte(&v->vcpus[i], '\n');
		results(v, res);
		/* --dsm: the pages this node holds go back to the manager
		 * before it leaves, unless the run failed. */
		if (!vmm_dsm_close(v, res, status == VMM_OK) && status == VMM_OK) {
			snprintf(err, errlen, "%s", v->err);
			status = VMM_FAILED;
		}
	}
	teardown(v);
	free(v);
	return status;
}
