// SPDX-License-Identifier: MIT
/*
 * prefetch_page() and page-level asynchronous I/O (vmm/blockio.c,
 * docs/async.md): the pager's split read (pager_read_begin/end) on its
 * own; prefetch_page()'s answers and counters exactly on a scripted case;
 * gather and list with prefetching, every byte verified and the counters
 * adding up; sync_pages() reporting an injected write-behind error exactly
 * once with the data kept; a failed read_pages read reported by an upcall
 * naming the request and the page; bad usage. No timing is asserted.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "mmu_sim.h"
#include "pager.h"
#include "test.h"

/* ---- the pager's split read, on the simulated MMU -------------------------- */

struct plain_store {
	struct backing_store bs;
	unsigned page_in, page_out;
};

static int ps_page_in(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)vpn, (void)f;
	((struct plain_store *)bs)->page_in++;
	return 0;
}

static int ps_zero_fill(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)bs, (void)vpn, (void)f;
	return 0;
}

static int ps_page_out(struct backing_store *bs, vpn_t vpn, frame_t f)
{
	(void)vpn, (void)f;
	((struct plain_store *)bs)->page_out++;
	return 0;
}

static const struct store_ops plain_ops = {
	.page_in = ps_page_in, .zero_fill = ps_zero_fill, .page_out = ps_page_out,
};

static void test_pager_read_split(void)
{
	struct sim_mmu mmu;
	struct plain_store st = { .bs.ops = &plain_ops };
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct pager *p;
	char err[160];
	frame_t f = NO_FRAME, g = NO_FRAME;

	CU_ASSERT_FATAL(sim_mmu_init(&mmu, 2) == 0);
	p = pager_create(&(struct pager_config){
		.nframes = 2, .npages = 8, .policy = policy_find("fifo"),
		.params = POLICY_PARAMS_DEFAULT, .mmu = &mmu.mmu, .store = &st.bs,
		.first_touch_major = true, .io_lock = &lock,
	}, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	pthread_mutex_lock(&lock);

	/* Begin: a frame taken, the page blocked; nothing counted yet. */
	CU_ASSERT_EQUAL(pager_read_begin(p, 3, &f), 0);
	CU_ASSERT_NOT_EQUAL(f, NO_FRAME);
	CU_ASSERT(p->pt[3].flags & PTE_IO);
	CU_ASSERT_EQUAL(pager_lookup(p, 3), NO_FRAME);
	CU_ASSERT_EQUAL(pager_read_begin(p, 3, &g), 1); /* being read: nothing to do */
	CU_ASSERT_EQUAL(p->nfree, 1);
	/* End: mapped, resident, given to the policy; no fault counted. */
	CU_ASSERT_EQUAL(pager_read_end(p, 3, f, 0), 0);
	CU_ASSERT_FALSE(p->pt[3].flags & PTE_IO);
	CU_ASSERT_EQUAL(pager_lookup(p, 3), f);
	CU_ASSERT_EQUAL(p->stats.resident, 1);
	CU_ASSERT_EQUAL(p->stats.faults, 0);
	CU_ASSERT_EQUAL(pager_read_begin(p, 3, &g), 1); /* resident */

	/* A failed read: the frame back on the free list, the page absent. */
	CU_ASSERT_EQUAL(pager_read_begin(p, 5, &g), 0);
	CU_ASSERT_EQUAL(pager_read_end(p, 5, g, -EIO), -1);
	CU_ASSERT_EQUAL(p->fail, PAGER_FAIL_PAGE_IN);
	CU_ASSERT_EQUAL(p->stats.pagein_errors, 1);
	CU_ASSERT_EQUAL(pager_lookup(p, 5), NO_FRAME);
	CU_ASSERT_FALSE(p->pt[5].flags & PTE_IO);
	CU_ASSERT_EQUAL(p->nfree, 1);

	/* With the frames full, begin evicts a victim as a fault does. */
	CU_ASSERT_EQUAL(pager_read_begin(p, 6, &g), 0);
	CU_ASSERT_EQUAL(pager_read_end(p, 6, g, 0), 0);
	CU_ASSERT_EQUAL(pager_read_begin(p, 7, &g), 0);
	CU_ASSERT_EQUAL(p->stats.evictions, 1);
	CU_ASSERT_EQUAL(pager_lookup(p, 3), NO_FRAME); /* fifo: the oldest */
	CU_ASSERT_EQUAL(pager_read_end(p, 7, g, 0), 0);
	CU_ASSERT_EQUAL(st.page_in, 0); /* the caller did every read */

	pthread_mutex_unlock(&lock);
	pager_destroy(p);
	sim_mmu_fini(&mmu);
}

/* ---- prefetch_page() under KVM ------------------------------------------------ */

static const char *const script_runs[] = {
	"--disk-depth 4 --disk-latency 1ms",
	"--disk-depth 1 --disk-sched elevator",
	"--disk-depth 32 --disk-latency 100us --policy lru",
};

/* guest/gather.c's wl_prefetch_script: the answers are checked by the guest
 * (a wrong one is a mismatch), the counters here. */
static void test_script_exact(void)
{
	static const struct {
		const char *col;
		long long want;
	} exact[] = {
		{ "pf_calls", 10 }, { "pf_accessible", 2 }, { "pf_issued", 8 },
		{ "pf_inflight", 0 }, { "pf_pressure", 0 }, { "pf_useful", 4 },
		{ "pf_wasted", 2 }, { "pf_failed", 0 }, { "pf_unused", 2 },
		{ "faults", 19 }, { "major", 2 }, { "minor", 17 }, { "writebacks", 16 },
	};

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(script_runs) / sizeof(script_runs[0]); i++) {
		struct cmd_result r = run_pflab("run --workload prefetch-script --pages 32 "
						"--frames 64 --store memory %s --csv --timeout 60s",
						script_runs[i]);

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
		for (size_t c = 0; c < sizeof(exact) / sizeof(exact[0]); c++)
			CU_ASSERT_EQUAL(csv_value(r.out, exact[c].col), exact[c].want);
		CU_ASSERT(csv_value(r.out, "pf_late") <= 4);
		if (r.status)
			fprintf(stderr, "%s:\n%s", script_runs[i], r.err);
		cmd_result_free(&r);
	}
}

/* Every call is answered one way; every read started ends one way. */
static void check_sums(const char *out)
{
	CU_ASSERT_EQUAL(csv_value(out, "pf_calls"),
			csv_value(out, "pf_accessible") + csv_value(out, "pf_issued") +
			csv_value(out, "pf_inflight") + csv_value(out, "pf_pressure"));
	CU_ASSERT_EQUAL(csv_value(out, "pf_issued"),
			csv_value(out, "pf_useful") + csv_value(out, "pf_wasted") +
			csv_value(out, "pf_failed") + csv_value(out, "pf_unused"));
	CU_ASSERT(csv_value(out, "pf_late") <= csv_value(out, "pf_useful"));
}

static void test_gather_list_verified(void)
{
	static const struct {
		const char *args;
		long long calls; /* per run: gather nelem; list dist + pages */
	} runs[] = {
		{ "--workload gather --pages 256 --frames 48 --prefetch 0", 0 },
		{ "--workload gather --pages 256 --frames 48 --prefetch 1", 255 },
		{ "--workload gather --pages 256 --frames 48 --prefetch 16 --disk-sched elevator", 255 },
		{ "--workload gather --pages 256 --frames 48 --prefetch 64 --policy lru", 255 },
		{ "--workload list --pages 200 --frames 40 --prefetch 0 --passes 1", 0 },
		{ "--workload list --pages 200 --frames 40 --prefetch 4 --passes 1", 204 },
		{ "--workload list --pages 200 --frames 40 --prefetch 16 --passes 2", 432 },
		{ "--workload list --pages 256 --frames 40 --prefetch 8 --vcpus 2 --passes 1",
		  2 * (8 + 128) },
		{ "--workload gather --pages 256 --frames 48 --prefetch 8 "
		  "--inject read:eio@every=7", 255 },
	};

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct cmd_result r = run_pflab("run %s --disk-depth 8 --disk-latency 100us "
						"--store memory --csv --timeout 60s", runs[i].args);

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
		CU_ASSERT_EQUAL(csv_value(r.out, "pf_calls"), runs[i].calls);
		check_sums(r.out);
		if (runs[i].calls && !strstr(runs[i].args, "inject"))
			CU_ASSERT(csv_value(r.out, "pf_issued") > 0);
		/* Distance 16 in 48 frames under clock: a prefetched page is
		 * referenced once for the policy, so few are evicted before
		 * their touch (without that, clock takes them first). */
		if (strstr(runs[i].args, "--prefetch 16 --disk-sched"))
			CU_ASSERT(csv_value(r.out, "pf_wasted") * 10 <= csv_value(r.out, "pf_issued"));
		if (strstr(runs[i].args, "inject")) {
			CU_ASSERT(csv_value(r.out, "pf_failed") > 0);
			CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 lost; "));
		}
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",pf_unused,phase_s"));
		if (r.status)
			fprintf(stderr, "%s:\n%s", runs[i].args, r.err);
		cmd_result_free(&r);
	}
}

/* Below the free pool's low watermark no read is started: the call says so
 * (2) and the guest goes on. */
static void test_pressure(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload gather --pages 512 --frames 64 --pool-low 20 "
		      "--pool-high 24 --pool-sync --prefetch 16 --disk-depth 8 --store memory "
		      "--csv --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
	CU_ASSERT(csv_value(r.out, "pf_pressure") > 0);
	CU_ASSERT(csv_value(r.out, "pf_issued") > 0);
	check_sums(r.out);
	cmd_result_free(&r);
}

/* ---- read_pages, write_pages, sync_pages ------------------------------------------ */

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *s = hay; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* A write-behind fails once: the next sync_pages() says so (EIO, the page),
 * the one after it says nothing; the page stayed dirty and resident, was
 * written on the retry, and reads back intact after being dropped. */
static void test_sync_reports_once(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload blockio --pages 64 --frames 128 --disk-depth 8 "
		      "--store memory --inject write:eio@page=3/times=1 --csv --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
	CU_ASSERT_EQUAL(count_of(r.err, "sync_pages: errno 5 on page 3,"), 1);
	CU_ASSERT_EQUAL(count_of(r.err, "sync_pages: errno"), 1);
	CU_ASSERT_EQUAL(csv_value(r.out, "bio_syncs"), 2);
	CU_ASSERT_EQUAL(csv_value(r.out, "bio_sync_errors"), 1);
	CU_ASSERT_EQUAL(csv_value(r.out, "bio_write_errors"), 1);
	CU_ASSERT_EQUAL(csv_value(r.out, "writeback_errors"), 1);
	CU_ASSERT_EQUAL(csv_value(r.out, "bio_writes"), 65); /* 64, then page 3 again */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "page 3       EIO       kept resident and dirty; "
				       "written back by write #"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 lost; "));
	if (r.status)
		fprintf(stderr, "%s", r.err);
	cmd_result_free(&r);
}

/* A read of a read_pages request fails: the guest hears of it by an upcall
 * naming the request and the page, and the page, read again by its fault,
 * verifies. Three requests of 16 pages: page 40 is in the third. */
static void test_read_error_upcall(void)
{
	static const struct {
		const char *args, *line;
	} runs[] = {
		{ "--read-batch 64 --inject read:eio@page=5/times=1",
		  "upcall: read_pages request 1, page 5 failed: errno 5\n" },
		{ "--read-batch 16 --inject read:eio@page=40/times=1 --disk-sched elevator",
		  "upcall: read_pages request 3, page 40 failed: errno 5\n" },
	};

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct cmd_result r = run_pflab("run --workload blockio --pages 64 --frames 128 "
						"--disk-depth 8 --disk-latency 100us --store memory "
						"%s --csv --timeout 60s", runs[i].args);

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
		CU_ASSERT_EQUAL(count_of(r.err, runs[i].line), 1);
		CU_ASSERT_EQUAL(count_of(r.err, "upcall: "), 1);
		CU_ASSERT_EQUAL(csv_value(r.out, "bio_read_errors"), 1);
		CU_ASSERT_EQUAL(csv_value(r.out, "bio_upcalls"), 1);
		CU_ASSERT_EQUAL(csv_value(r.out, "bio_upcalls_acked"), 1);
		CU_ASSERT_EQUAL(csv_value(r.out, "bio_reads"), 64);
		CU_ASSERT_EQUAL(csv_value(r.out, "major"), 1); /* the failed page, by its fault */
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "reported by its handler; read in by read #"));
		if (r.status)
			fprintf(stderr, "%s:\n%s", runs[i].args, r.err);
		cmd_result_free(&r);
	}
}

/* A page that can never be read: the upcall, then its fault's page-in
 * error, retried until the guest gives up. Never wrong data. */
static void test_read_error_persistent(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload blockio --pages 32 --frames 64 --disk-depth 4 "
		      "--store memory --inject read:eio@page=7 --csv --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_EQUAL(count_of(r.err, "upcall: read_pages request 1, page 7 failed"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "page-in of page 7 failed 8 times in a row: giving up"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "guest data mismatch"));
	cmd_result_free(&r);
}

/* One read_pages of every page against each page faulting in: the same
 * data verified; the batch's reads are not faults. */
static void test_batch_vs_faults(void)
{
	static const char *const sched[] = { "fifo", "elevator" };

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < 2; i++) {
		struct cmd_result a = run_pflab("run --workload blockio --pages 128 --frames 256 "
						"--disk-depth 32 --disk-sched %s --store memory "
						"--csv --timeout 60s", sched[i]);
		struct cmd_result b = run_pflab("run --workload blockio --pages 128 --frames 256 "
						"--disk-depth 32 --disk-sched %s --store memory "
						"--read-batch 0 --csv --timeout 60s", sched[i]);

		CU_ASSERT_EQUAL(a.status, 0);
		CU_ASSERT_EQUAL(b.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(a.err, " 0 mismatches: data verified"));
		CU_ASSERT_PTR_NOT_NULL(strstr(b.err, " 0 mismatches: data verified"));
		CU_ASSERT_EQUAL(csv_value(a.out, "bio_reads"), 128);
		CU_ASSERT_EQUAL(csv_value(a.out, "bio_requests"), 1);
		CU_ASSERT_EQUAL(csv_value(a.out, "major"), 0);
		CU_ASSERT_EQUAL(csv_value(b.out, "bio_reads"), 0);
		CU_ASSERT_EQUAL(csv_value(b.out, "major"), 128);
		/* write-behind 128 + reads 128, the reads in one batch */
		CU_ASSERT_EQUAL(csv_value(a.out, "disk_requests"), 256);
		CU_ASSERT_EQUAL(csv_value(a.out, "disk_batches"), 2);
		CU_ASSERT_EQUAL(csv_value(b.out, "disk_batches"), 1 + 128);
		cmd_result_free(&a);
		cmd_result_free(&b);
	}
}

static void test_bad_usage(void)
{
	static const struct refused cases[] = {
		{ "run --workload gather --prefetch 4",
		  "pflab run: --prefetch starts reads on the I/O engine: give --disk-depth Q\n" },
		{ "run --workload blockio",
		  "pflab run: workload blockio starts reads on the I/O engine: give --disk-depth Q\n" },
		{ "run --workload scan --prefetch 4 --disk-depth 4",
		  "pflab run: --prefetch goes with --workload gather or list\n" },
		{ "run --workload gather --read-batch 4 --disk-depth 4",
		  "pflab run: --read-batch goes with --workload blockio\n" },
		{ "run --workload gather --prefetch 4 --disk-depth 4 --trap uffd",
		  "pflab run: --prefetch needs --trap kvm\n" },
		{ "run --workload gather --prefetch x --disk-depth 4",
		  "pflab run: --prefetch: 'x' is not a whole number\n" },
		{ "run --workload list --prefetch 4 --disk-depth 4 --threads 2",
		  "pflab run: --prefetch runs on one thread per vCPU: not with --threads or --async-pf\n" },
		{ "run --workload list --prefetch 4 --disk-depth 4 --async-pf",
		  "pflab run: --prefetch runs on one thread per vCPU: not with --threads or --async-pf\n" },
		{ "run --workload gather --prefetch 4 --disk-depth 4 --pager unix:/nonexistent",
		  "pflab run: --pager: --disk-depth needs the in-process pager\n" },
	};

	check_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static CU_TestInfo prefetch_tests[] = {
	{ "pager: read begun, ended, failed; no fault counted", test_pager_read_split },
	{ "kvm: prefetch_page() answers and counters, scripted, exact", test_script_exact },
	{ "kvm: gather and list --prefetch D: verified, counters add up", test_gather_list_verified },
	{ "kvm: no read started below the pool's low watermark", test_pressure },
	{ "kvm: sync_pages reports a write-behind error once, data kept", test_sync_reports_once },
	{ "kvm: a failed read_pages read: upcall names request and page", test_read_error_upcall },
	{ "kvm: a page never readable: upcall, then the guest gives up", test_read_error_persistent },
	{ "kvm: read_pages batch against faults, fifo and elevator", test_batch_vs_faults },
	{ "run: bad --prefetch, --read-batch, blockio", test_bad_usage },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("prefetch", prefetch_tests);
