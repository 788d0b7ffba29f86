// SPDX-License-Identifier: MIT
/*
 * Several vCPUs (--vcpus, docs/vmm.md#several-vcpus). In the pager, with
 * the caller's lock given as io_lock and a store that holds one page's
 * read (or write-back) until the test lets it go: a fault whose read or
 * victim's write is in flight does not hold another thread's fault on
 * another page; a second fault on the same page waits for that one read
 * (collided) and gets the same frame, or for the write and reads the copy;
 * a failed read is retried by the waiter, never mapped; a victim is never
 * written back while still mapped. Under KVM: each
 * workload that splits its pages verifies every byte on 2 to 8 vCPUs,
 * with pages evicted from under the other vCPUs; per-vCPU faults, majors
 * and references add up to the run's exactly; in the scan every reference
 * faults whatever the interleaving; bad combinations are refused.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmu_sim.h"
#include "pager.h"
#include "test.h"

/* ---- the pager's io_lock ------------------------------------------------- */

struct gated_store {
	struct backing_store bs;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	vpn_t gate_vpn;
	bool closed, entered;
	int fail_first;            /* the gated page's first read fails with this */
	uint32_t reads[32];
	bool gate_writes;          /* the gate holds gate_vpn's write-back, not its read */
	uint32_t writes[32];
	const uint8_t *mapped;     /* if set: per page, mapped now (track_mmu) */
	uint32_t written_mapped;   /* write-backs of a page still mapped */
};

static int gated_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct gated_store *s = (struct gated_store *)bs;
	int rc = 0;

	(void)f;
	pthread_mutex_lock(&s->lock);
	s->reads[vpn]++;
	if (vpn == s->gate_vpn && !s->gate_writes) {
		s->entered = true;
		pthread_cond_broadcast(&s->cond);
		while (s->closed)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->fail_first && s->reads[vpn] == 1)
			rc = s->fail_first;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int gated_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)bs;
	(void)vpn;
	(void)f;
	return 0;
}

static int gated_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	struct gated_store *s = (struct gated_store *)bs;

	(void)f;
	if (s->mapped && s->mapped[vpn])
		s->written_mapped++;
	pthread_mutex_lock(&s->lock);
	s->writes[vpn]++;
	if (vpn == s->gate_vpn && s->gate_writes) {
		s->entered = true;
		pthread_cond_broadcast(&s->cond);
		while (s->closed)
			pthread_cond_wait(&s->cond, &s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The simulated MMU, plus whether each page is mapped now: what another
 * vCPU could still write through while its copy is taken. */
struct track_mmu {
	struct mmu mmu;
	struct sim_mmu *inner;
	uint8_t mapped[32];
};

static int track_map(struct mmu *mmu, vpn_t vpn, frame_t f, enum access_kind why)
{
	struct track_mmu *t = (struct track_mmu *)mmu;

	t->mapped[vpn] = 1;
	return t->inner->mmu.ops->map(&t->inner->mmu, vpn, f, why);
}

static void track_unmap(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct track_mmu *t = (struct track_mmu *)mmu;

	t->mapped[vpn] = 0;
	t->inner->mmu.ops->unmap(&t->inner->mmu, vpn, f);
}

static bool track_referenced(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct track_mmu *t = (struct track_mmu *)mmu;

	return t->inner->mmu.ops->test_and_clear_referenced(&t->inner->mmu, vpn, f);
}

static bool track_dirty(struct mmu *mmu, vpn_t vpn, frame_t f)
{
	struct track_mmu *t = (struct track_mmu *)mmu;

	return t->inner->mmu.ops->test_and_clear_dirty(&t->inner->mmu, vpn, f);
}

static const struct mmu_ops track_ops = { .map = track_map, .unmap = track_unmap,
					  .test_and_clear_referenced = track_referenced,
					  .test_and_clear_dirty = track_dirty };

static const struct store_ops gated_ops = { gated_page_in, gated_zero_fill, gated_page_out };

struct rig {
	pthread_mutex_t lock;      /* the caller's pager lock */
	struct sim_mmu mmu;
	struct gated_store store;
	struct pager *p;
};

struct faulter {
	struct rig *r;
	vpn_t vpn;
	frame_t got;
	int locked;                /* holds the lock, about to fault (atomic) */
	pthread_t t;
};

static void *fault_thread(void *arg)
{
	struct faulter *f = arg;

	pthread_mutex_lock(&f->r->lock);
	__atomic_store_n(&f->locked, 1, __ATOMIC_RELEASE);
	f->got = pager_fault(f->r->p, f->vpn, ACCESS_READ);
	pthread_mutex_unlock(&f->r->lock);
	return NULL;
}

/* The pager lock, which a fault in I/O must have dropped: a pager that
 * kept it fails the test (after 10 s) instead of hanging it. */
static void lock_dropped(struct rig *r)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	CU_ASSERT_EQUAL_FATAL(pthread_mutex_timedlock(&r->lock, &until), 0);
}

static void rig_init(struct rig *r, vpn_t gate, int fail_first)
{
	char err[200];

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	CU_ASSERT_EQUAL_FATAL(sim_mmu_init(&r->mmu, 4), 0);
	r->store = (struct gated_store){ .bs.ops = &gated_ops, .gate_vpn = gate, .closed = true,
					 .fail_first = fail_first };
	pthread_mutex_init(&r->store.lock, NULL);
	pthread_cond_init(&r->store.cond, NULL);
	r->p = pager_create(&(struct pager_config){
		.nframes = 4, .npages = 16, .policy = policy_find("fifo"),
		.params = POLICY_PARAMS_DEFAULT, .first_touch_major = true,
		.mmu = &r->mmu.mmu, .store = &r->store.bs, .io_lock = &r->lock }, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->p);
}

static void rig_fini(struct rig *r)
{
	pager_destroy(r->p);
	sim_mmu_fini(&r->mmu);
	pthread_cond_destroy(&r->store.cond);
	pthread_mutex_destroy(&r->store.lock);
	pthread_mutex_destroy(&r->lock);
}

static void gate_wait_entered(struct gated_store *s)
{
	pthread_mutex_lock(&s->lock);
	while (!s->entered)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

static void gate_open(struct gated_store *s)
{
	pthread_mutex_lock(&s->lock);
	s->closed = false;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* A waits in page 5's read, the lock dropped. B then waits for A's read
 * of page 5 (it holds the lock until it waits, so the test knows it
 * waits once it can take the lock itself). */
static void start_a_and_b(struct rig *r, struct faulter *a, struct faulter *b)
{
	*a = (struct faulter){ .r = r, .vpn = 5 };
	*b = (struct faulter){ .r = r, .vpn = 5 };
	CU_ASSERT_EQUAL_FATAL(pthread_create(&a->t, NULL, fault_thread, a), 0);
	gate_wait_entered(&r->store);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&b->t, NULL, fault_thread, b), 0);
	while (!__atomic_load_n(&b->locked, __ATOMIC_ACQUIRE))
		sched_yield();
}

/*
 * Page 5's read is held. Meanwhile this thread faults pages 7 and 8 in
 * (the lock is free: A dropped it), and B waits on page 5. When the read
 * ends, A and B both have page 5 in the same frame: one read, one fault,
 * one collided.
 */
static void test_collided_one_read(void)
{
	struct rig r;
	struct faulter a, b;

	rig_init(&r, 5, 0);
	start_a_and_b(&r, &a, &b);
	lock_dropped(&r); /* B is waiting now */
	CU_ASSERT_NOT_EQUAL(pager_fault(r.p, 7, ACCESS_READ), NO_FRAME);
	CU_ASSERT_NOT_EQUAL(pager_fault(r.p, 8, ACCESS_WRITE), NO_FRAME);
	CU_ASSERT_EQUAL(r.p->stats.faults, 2); /* 7 and 8 done, 5 still in flight */
	CU_ASSERT_EQUAL(pager_lookup(r.p, 5), NO_FRAME);
	CU_ASSERT_TRUE(r.p->pt[5].flags & PTE_IO);
	pthread_mutex_unlock(&r.lock);
	gate_open(&r.store);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	CU_ASSERT_NOT_EQUAL(a.got, NO_FRAME);
	CU_ASSERT_EQUAL(a.got, b.got);
	CU_ASSERT_EQUAL(r.store.reads[5], 1);
	CU_ASSERT_EQUAL(r.p->stats.faults, 3);
	CU_ASSERT_EQUAL(r.p->stats.major, 3);
	CU_ASSERT_EQUAL(r.p->stats.collided, 1);
	CU_ASSERT_EQUAL(r.p->stats.resident, 3);
	CU_ASSERT_FALSE(r.p->pt[5].flags & PTE_IO);
	rig_fini(&r);
}

/* Page 5's first read fails: A's fault fails (the page is not mapped), B,
 * which waited for it, reads the page again itself and gets it. */
static void test_collided_read_fails(void)
{
	struct rig r;
	struct faulter a, b;

	rig_init(&r, 5, -EIO);
	start_a_and_b(&r, &a, &b);
	lock_dropped(&r);
	pthread_mutex_unlock(&r.lock);
	gate_open(&r.store);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	CU_ASSERT_EQUAL(a.got, NO_FRAME);
	CU_ASSERT_NOT_EQUAL(b.got, NO_FRAME);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 5), b.got);
	CU_ASSERT_EQUAL(r.store.reads[5], 2);
	CU_ASSERT_EQUAL(r.p->stats.pagein_errors, 1);
	CU_ASSERT_EQUAL(r.p->stats.faults, 1);
	CU_ASSERT_EQUAL(r.p->stats.collided, 0);
	rig_fini(&r);
}

/*
 * With io_lock (other vCPUs run on), a victim is never written back while
 * it is still mapped: a write through that mapping would miss the copy.
 * Without io_lock (the faulting vCPU is the only one, and it is stopped)
 * the pager writes first and unmaps after, as it always has: the control
 * shows the check can see it.
 */
static void written_while_mapped(bool io_lock, uint32_t *written_mapped, uint64_t *writebacks)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct sim_mmu sim;
	struct track_mmu t = { .mmu.ops = &track_ops, .inner = &sim };
	struct gated_store st = { .bs.ops = &gated_ops, .gate_vpn = UINT32_MAX, .mapped = t.mapped };
	char err[200];
	struct pager *p;

	pthread_mutex_init(&st.lock, NULL);
	pthread_cond_init(&st.cond, NULL);
	CU_ASSERT_EQUAL_FATAL(sim_mmu_init(&sim, 4), 0);
	p = pager_create(&(struct pager_config){
		.nframes = 4, .npages = 16, .policy = policy_find("clock"),
		.params = POLICY_PARAMS_DEFAULT, .mmu = &t.mmu, .store = &st.bs,
		.io_lock = io_lock ? &lock : NULL }, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pthread_mutex_lock(&lock);
	for (uint32_t k = 0; k < 200; k++) {
		vpn_t vpn = (k * 7) % 12;
		frame_t f = pager_lookup(p, vpn);

		if (f == NO_FRAME)
			f = pager_fault(p, vpn, ACCESS_WRITE);
		CU_ASSERT_NOT_EQUAL_FATAL(f, NO_FRAME);
		sim_mmu_touch(&sim, f, 1);
	}
	pthread_mutex_unlock(&lock);
	*written_mapped = st.written_mapped;
	*writebacks = p->stats.writebacks;
	pager_destroy(p);
	sim_mmu_fini(&sim);
	pthread_cond_destroy(&st.cond);
	pthread_mutex_destroy(&st.lock);
}

static void test_victim_unmapped_before_write(void)
{
	uint32_t mapped;
	uint64_t writebacks;

	written_while_mapped(true, &mapped, &writebacks);
	CU_ASSERT(writebacks > 100);
	CU_ASSERT_EQUAL(mapped, 0);
	written_while_mapped(false, &mapped, &writebacks);
	CU_ASSERT(writebacks > 100);
	CU_ASSERT_EQUAL(mapped, writebacks); /* the control: seen every time */
}

/*
 * Pages 0-3 dirty in the 4 frames (fifo); page 0's write-back is held.
 * A faults page 4 and waits in that write, the lock dropped. Meanwhile
 * this thread faults page 5 (its victim, page 1, is written at once) and
 * B faults page 0 itself, which waits for the write. When the write ends,
 * A has page 4, and B reads page 0 back from the copy just written.
 */
static void test_writeback_unlocked(void)
{
	struct rig r;
	struct faulter a = { .vpn = 4 }, b = { .vpn = 0 };

	rig_init(&r, 0, 0);
	r.p->first_touch_major = false;
	r.store.gate_writes = true;
	pthread_mutex_lock(&r.lock);
	for (vpn_t v = 0; v < 4; v++)
		CU_ASSERT_NOT_EQUAL(pager_fault(r.p, v, ACCESS_WRITE), NO_FRAME);
	pthread_mutex_unlock(&r.lock);
	a.r = b.r = &r;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&a.t, NULL, fault_thread, &a), 0);
	gate_wait_entered(&r.store);
	lock_dropped(&r);
	CU_ASSERT_NOT_EQUAL(pager_fault(r.p, 5, ACCESS_READ), NO_FRAME);
	CU_ASSERT_EQUAL(r.store.writes[1], 1);
	CU_ASSERT_TRUE(r.p->pt[0].flags & PTE_IO);
	pthread_mutex_unlock(&r.lock);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&b.t, NULL, fault_thread, &b), 0);
	while (!__atomic_load_n(&b.locked, __ATOMIC_ACQUIRE))
		sched_yield();
	pthread_mutex_lock(&r.lock); /* B waits for the write now */
	pthread_mutex_unlock(&r.lock);
	gate_open(&r.store);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	CU_ASSERT_NOT_EQUAL(a.got, NO_FRAME);
	CU_ASSERT_NOT_EQUAL(b.got, NO_FRAME);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 4), a.got);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 0), b.got);
	CU_ASSERT_EQUAL(r.store.writes[0], 1);
	CU_ASSERT_EQUAL(r.store.reads[0], 1);   /* read back from its copy */
	CU_ASSERT_EQUAL(r.p->stats.writebacks, 3); /* 0, 1, and B's victim */
	CU_ASSERT_EQUAL(r.p->stats.faults, 7);
	CU_ASSERT_EQUAL(r.p->stats.major, 1);
	CU_ASSERT_EQUAL(r.p->stats.collided, 0);
	rig_fini(&r);
}

/* ---- under KVM ----------------------------------------------------------- */

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static long long vcpu_sum(const char *csv, unsigned n, const char *what)
{
	long long sum = 0;
	char col[40];

	for (unsigned i = 0; i < n; i++) {
		snprintf(col, sizeof(col), "vcpu%u_%s", i, what);
		sum += csv_value(csv, col);
	}
	return sum;
}

/* Every byte verified on each vCPU, pages evicted from under the others
 * (few frames, so a vCPU's fault often takes a frame another vCPU's page
 * was in: a stale translation left on that vCPU would show as bad data);
 * per-vCPU counts add up exactly. */
static void test_kvm_workloads_verified(void)
{
	static const char *const wls[] = { "scan", "random", "stride", "list" };
	static const unsigned ns[] = { 2, 3, 8 };

	if (!kvm_usable())
		return;
	for (size_t w = 0; w < sizeof(wls) / sizeof(wls[0]); w++)
		for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
			struct cmd_result r = run_pflab("run --workload %s --pages 256 --frames 24 "
							"--vcpus %u --disk-depth 4 --csv --timeout 60s",
							wls[w], ns[k]);

			CU_ASSERT_EQUAL(r.status, 0);
			CU_ASSERT_EQUAL(count(r.err, " 0 mismatches: data verified"), ns[k]);
			CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "guest1| pflab guest: workload "));
			CU_ASSERT_EQUAL(count(r.err, "MISMATCH"), 0);
			CU_ASSERT_EQUAL(csv_value(r.out, "vcpus"), ns[k]);
			CU_ASSERT_EQUAL(vcpu_sum(r.out, ns[k], "faults"), csv_value(r.out, "faults"));
			CU_ASSERT_EQUAL(vcpu_sum(r.out, ns[k], "major"), csv_value(r.out, "major"));
			CU_ASSERT_EQUAL(vcpu_sum(r.out, ns[k], "refs"), csv_value(r.out, "refs"));
			CU_ASSERT(csv_value(r.out, "faults") > 256);
			for (unsigned i = 0; i < ns[k]; i++) {
				char col[32];

				snprintf(col, sizeof(col), "vcpu%u_faults", i);
				CU_ASSERT(csv_value(r.out, col) > 0);
			}
			if (r.status)
				fprintf(stderr, "%s x%u: %s", wls[w], ns[k], r.err);
			cmd_result_free(&r);
		}
}

/* scan on 2 vCPUs, 256 pages, 16 frames: each vCPU writes its 128 pages,
 * then checks them; by the time it checks a page it has touched 127 others,
 * so every reference faults whatever the other vCPU does: at least 512
 * faults, 256 of them major, 256 write-backs; each vCPU makes exactly 256
 * references and takes at least 256 faults, 128 major. "At least": a page
 * can be evicted by the other vCPU's faults between its fault and the
 * retry of the access, and fault again (docs/vmm.md#several-vcpus). The
 * per-vCPU counts sum to the totals exactly. */
static void test_kvm_scan_counts(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 256 --frames 16 --vcpus 2 --csv --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(csv_value(r.out, "refs"), 512);
	CU_ASSERT(csv_value(r.out, "faults") >= 512);
	CU_ASSERT(csv_value(r.out, "major") >= 256);
	CU_ASSERT(csv_value(r.out, "writebacks") >= 256);
	CU_ASSERT_EQUAL(vcpu_sum(r.out, 2, "faults"), csv_value(r.out, "faults"));
	CU_ASSERT_EQUAL(vcpu_sum(r.out, 2, "major"), csv_value(r.out, "major"));
	for (unsigned i = 0; i < 2; i++) {
		char col[32];

		snprintf(col, sizeof(col), "vcpu%u_faults", i);
		CU_ASSERT(csv_value(r.out, col) >= 256);
		snprintf(col, sizeof(col), "vcpu%u_major", i);
		CU_ASSERT(csv_value(r.out, col) >= 128);
		snprintf(col, sizeof(col), "vcpu%u_refs", i);
		CU_ASSERT_EQUAL(csv_value(r.out, col), 256);
	}
	cmd_result_free(&r);
}

/* One vCPU asked for explicitly is the run without --vcpus, count for
 * count, plus its own columns equal to the totals. */
static void test_kvm_one_vcpu_same(void)
{
	static const char *const cols[] = { "refs", "faults", "major", "minor", "writebacks",
					    "soft_faults" };
	struct cmd_result a, b;

	if (!kvm_usable())
		return;
	a = run_pflab("run --workload random --pages 256 --frames 32 --csv --timeout 60s");
	b = run_pflab("run --workload random --pages 256 --frames 32 --vcpus 1 --csv --timeout 60s");
	CU_ASSERT_EQUAL(a.status, 0);
	CU_ASSERT_EQUAL(b.status, 0);
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		CU_ASSERT_EQUAL(csv_value(a.out, cols[c]), csv_value(b.out, cols[c]));
	CU_ASSERT_EQUAL(csv_value(b.out, "vcpu0_faults"), csv_value(b.out, "faults"));
	CU_ASSERT_EQUAL(csv_value(b.out, "collided"), 0);
	cmd_result_free(&a);
	cmd_result_free(&b);
}

/* Injected read and write errors on several vCPUs: each delivered to the
 * vCPU that faulted, retried, the data verified, nothing lost. */
static void test_kvm_errors(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload random --pages 256 --frames 24 --vcpus 2 "
		      "--inject read:eio@every=23,write:eio@every=19 --csv --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(count(r.err, " 0 mismatches: data verified"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 lost; "));
	CU_ASSERT(csv_value(r.out, "pgerr_delivered") > 0);
	CU_ASSERT_EQUAL(csv_value(r.out, "pgerr_delivered"), csv_value(r.out, "pgerr_reported"));
	if (r.status)
		fprintf(stderr, "%s", r.err);
	cmd_result_free(&r);
}

/* --json carries the same: the disk's counters and one object per vCPU,
 * and it parses. */
static void test_kvm_json(void)
{
	struct cmd_result r, j;
	char path[4200];
	FILE *f;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload stride --pages 64 --frames 16 --vcpus 2 --disk-depth 2 "
		      "--json --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"disk_requests\": "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"vcpus\": 2, \"collided\": "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"vcpu\": [{\"refs\": 64, "));
	snprintf(path, sizeof(path), "%s/vcpus.json", scratch_dir());
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(r.out, f);
	fclose(f);
	j = run_shell("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		      "print(sum(c[\"faults\"] for c in d[\"vcpu\"]) == d[\"faults\"])' %s", path);
	CU_ASSERT_EQUAL(j.status, 0);
	CU_ASSERT_STRING_EQUAL(j.out, "True\n");
	cmd_result_free(&j);
	cmd_result_free(&r);
}

/* --timeout stops every vCPU, whichever is in the guest, in the pager or
 * waiting for the disk: the run ends, status 1, saying which vCPU it
 * found still running. */
static void test_kvm_timeout(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload random --pages 256 --frames 16 --vcpus 3 --disk-latency 20ms "
		      "--disk-depth 2 --timeout 1s");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab run: guest failed (vCPU "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "): timed out after 1.000 s, still running at rip 0x"));
	cmd_result_free(&r);
}

static void test_bad_usage(void)
{
	static const struct refused cases[] = {
		{ "run --vcpus 0", "pflab run: --vcpus: '0' is out of range [1, 8]\n" },
		{ "run --vcpus 9", "pflab run: --vcpus: '9' is out of range [1, 8]\n" },
		{ "run --workload matmul --vcpus 2",
		  "pflab run: --vcpus 2: workload matmul does not split its pages among vCPUs "
		  "(scan, random, stride and list do)\n" },
		{ "run --workload scan --pages 2 --vcpus 3",
		  "pflab run: --vcpus 3: fewer data pages (2) than vCPUs\n" },
		{ "run --workload scan --trap uffd --vcpus 2", "pflab run: --vcpus needs --trap kvm\n" },
		{ "run --workload scan --vcpus 2 --record build/never-written.rw",
		  "pflab run: --vcpus 2: --record and --fault-log follow one vCPU\n" },
	};

	if (!kvm_usable())
		return;
	check_refused(cases, sizeof(cases) / sizeof(cases[0]));
	/* the refused run left no record behind */
	CU_ASSERT_EQUAL(access("build/never-written.rw", F_OK), -1);
}

static CU_TestInfo vcpus_tests[] = {
	{ "pager: a read in flight holds no other page's fault; collided, one read",
	  test_collided_one_read },
	{ "pager: the waiter reads again after a failed read", test_collided_read_fails },
	{ "pager: a write-back in flight holds no other page's fault", test_writeback_unlocked },
	{ "pager: with io_lock a victim is unmapped before its write-back",
	  test_victim_unmapped_before_write },
	{ "kvm: scan random stride list on 2, 3, 8 vCPUs verified, sums exact",
	  test_kvm_workloads_verified },
	{ "kvm: scan on 2 vCPUs: every reference faults, sums exact", test_kvm_scan_counts },
	{ "kvm: --vcpus 1 is the run without it", test_kvm_one_vcpu_same },
	{ "kvm: injected errors on 2 vCPUs", test_kvm_errors },
	{ "kvm: --json with the disk's and the vCPUs' fields", test_kvm_json },
	{ "kvm: --timeout stops every vCPU", test_kvm_timeout },
	{ "run: bad --vcpus combinations", test_bad_usage },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("vcpus", vcpus_tests);
