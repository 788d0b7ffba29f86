// SPDX-License-Identifier: MIT
/*
 * The KVM host end to end, through `pflab run`: exact fault counts on a
 * workload whose counts are known, the random workload's reference string
 * pinned for a seed, the guest's data verification (and a
 * corrupted swap slot making it fail), the cross-validation of replayed
 * traces against `pflab sim`, bad guests and bad usage. Every test is
 * skipped, visibly, where /dev/kvm cannot be opened.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

/*
 * Scan 64 pages twice with 16 frames under FIFO: the write pass zero-fills
 * every page (64 minor faults) and evicts 48 dirty pages; the verify pass
 * reads every page back (64 major faults), first evicting the 16 dirty
 * pages left, then 48 clean ones. 64 write-backs in all.
 */
static void scan_exact(const char *trap)
{
	struct cmd_result r;

	r = run_pflab("run --workload scan --pages 64 --frames 16 --policy fifo --trap %s --csv "
		      "--timeout 30s", trap);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(csv_value(r.out, "refs"), 128);
	CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 128);
	CU_ASSERT_EQUAL(csv_value(r.out, "major"), 64);
	CU_ASSERT_EQUAL(csv_value(r.out, "minor"), 64);
	CU_ASSERT_EQUAL(csv_value(r.out, "writebacks"), 64);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
	cmd_result_free(&r);
}

static void test_scan_exact_kvm(void)
{
	if (kvm_usable())
		scan_exact("kvm");
}

static void test_scan_exact_uffd(void)
{
	if (kvm_usable())
		scan_exact("uffd");
}

/* Every workload runs to the end with its data verified, under a policy
 * that samples referenced bits (soft faults) and with few frames. */
static void test_workloads_verify(void)
{
	static const char *const workloads[] = { "scan", "random", "stride", "matmul", "list",
						 "copy" };

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		struct cmd_result r = run_pflab("run --workload %s --pages 48 --frames 12 --policy clock "
						"--csv --timeout 30s", workloads[i]);

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT(csv_value(r.out, "major") > 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
		if (r.status != 0)
			fprintf(stderr, "workload %s: %s", workloads[i], r.err);
		cmd_result_free(&r);
	}
}

/* A byte flipped in a swap slot between write-back and read-in: the guest
 * notices when it reads the page back, and the run fails. */
static void test_corrupt_swap_fails(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 32 --frames 8 --policy fifo --corrupt-page 3 "
		      "--csv --timeout 30s");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "guest data mismatch: page 3 offset 120"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "verification failed"));
	cmd_result_free(&r);
}

/* The same through --trace: the replayer checks every word of a page it
 * reads, so a byte flipped at offset 123 of page 3's slot (past word 0)
 * fails the run. Ten pages written, then read back, through 4 frames under
 * FIFO: page 3 is written back when page 7 comes in and read in again. */
static void test_corrupt_swap_fails_trace(void)
{
	char text[200] = "";
	const char *path;
	struct cmd_result r;

	if (!kvm_usable())
		return;
	for (unsigned i = 0; i < 10; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "W %u\n", i);
	for (unsigned i = 0; i < 10; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "R %u\n", i);
	path = write_file("corrupt.rw", text);
	r = run_pflab("run --trace '%s' --frames 4 --policy fifo --corrupt-page 3 --csv "
		      "--timeout 30s", path);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "guest data mismatch: page 3 offset 120"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "verification failed"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "data verified"));
	cmd_result_free(&r);
}

/*
 * Without a trace the policy's clock counts faults. Aging reads referenced
 * bits only at ticks: with --tick 0 it never clears one (no soft fault) and
 * is FIFO (scan_exact's counts); with a tick at every fault it unmaps the
 * page just brought in before the guest resumes, so the access traps once
 * more, as a soft fault.
 */
static void test_workload_tick(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 64 --frames 16 --policy aging --tick 0 --csv "
		      "--timeout 30s");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 128);
	CU_ASSERT_EQUAL(csv_value(r.out, "writebacks"), 64);
	CU_ASSERT_EQUAL(csv_value(r.out, "soft_faults"), 0);
	cmd_result_free(&r);
	r = run_pflab("run --workload scan --pages 64 --frames 16 --policy aging --tick 1 --csv "
		      "--timeout 30s");
	CU_ASSERT_EQUAL(r.status, 0);
	/* The kvm trap handles each fault on the vCPU's thread, the guest
	 * stopped: exactly one soft fault after each of the 128 faults. */
	CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 128);
	CU_ASSERT_EQUAL(csv_value(r.out, "soft_faults"), 128);
	cmd_result_free(&r);
}

/* A reproducible reference string with locality: a hot set, a cold tail. */
static char *make_trace(unsigned seed, unsigned n, unsigned pages)
{
	size_t cap = (size_t)n * 16 + 1, len = 0;
	char *text = malloc(cap);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	CU_ASSERT_FATAL(text != NULL);
	for (unsigned i = 0; i < n; i++) {
		unsigned page, write;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		page = (x >> 8) % 4 ? (unsigned)(x >> 20) % (pages / 4) : (unsigned)(x >> 20) % pages;
		write = (x >> 40) % 3 == 0;
		len += (size_t)snprintf(text + len, cap - len, "%c %u\n", write ? 'W' : 'R', page);
	}
	return text;
}

/*
 * The heart of it: a trace replayed in the guest under KVM faults exactly
 * where the simulator misses, for the policies that need no more than the
 * faults and the MMU's bits (and, for OPT, the trace): same faults, same
 * write-backs. NRU and Aging tick every 37 references of the trace in both
 * (docs/vmm.md, "The policy's clock"), a period that cuts the guest's
 * trace batches off their natural size.
 */
static void test_cross_validation(void)
{
	static const char *const policies[] = { "fifo", "clock", "opt", "random", "nru", "aging" };
	static const unsigned frames[] = { 5, 17, 40 };

	if (!kvm_usable())
		return;
	for (unsigned t = 0; t < 3; t++) {
		char name[32], path[600], *text = make_trace(t + 1, 1500 + 700 * t, 60 + 30 * t);

		snprintf(name, sizeof(name), "xval%u.rw", t);
		snprintf(path, sizeof(path), "%s", write_file(name, text));
		free(text);
		for (size_t p = 0; p < sizeof(policies) / sizeof(policies[0]); p++) {
			for (size_t f = 0; f < sizeof(frames) / sizeof(frames[0]); f++) {
				struct cmd_result kvm, sim;

				/* Both trap mechanisms, alternately. */
				kvm = run_pflab("run --trace '%s' --policy %s --frames %u --seed 7 "
						"--tick 37 --csv --trap %s --timeout 30s", path,
						policies[p], frames[f], (p + f) % 2 ? "uffd" : "kvm");
				sim = run_pflab("sim '%s' --policy %s --frames %u --seed 7 --tick 37 "
						"--csv", path, policies[p], frames[f]);
				CU_ASSERT_EQUAL(kvm.status, 0);
				CU_ASSERT_EQUAL(sim.status, 0);
				CU_ASSERT(csv_value(kvm.out, "faults") > 0);
				CU_ASSERT_EQUAL(csv_value(kvm.out, "faults"), csv_value(sim.out, "faults"));
				CU_ASSERT_EQUAL(csv_value(kvm.out, "writebacks"),
						csv_value(sim.out, "writebacks"));
				CU_ASSERT_EQUAL(csv_value(kvm.out, "refs"), csv_value(sim.out, "refs"));
				if (csv_value(kvm.out, "faults") != csv_value(sim.out, "faults"))
					fprintf(stderr, "%s %s %u: kvm %s sim %s", name, policies[p],
						frames[f], kvm.out, sim.out);
				cmd_result_free(&kvm);
				cmd_result_free(&sim);
			}
		}
	}
}

/* The faults recorded from a FIFO run, replayed by the simulator under
 * FIFO with the same frames, all fault again: the record is the run's own
 * miss sequence. */
static void test_record_replays(void)
{
	char rec[600];
	struct cmd_result r, s;
	long long faults;

	if (!kvm_usable())
		return;
	snprintf(rec, sizeof(rec), "%s/faults.rw", scratch_dir());
	r = run_pflab("run --workload random --pages 40 --frames 10 --policy fifo --record '%s' --csv "
		      "--timeout 30s", rec);
	CU_ASSERT_EQUAL(r.status, 0);
	faults = csv_value(r.out, "faults");
	CU_ASSERT(faults > 10);
	s = run_pflab("sim '%s' --policy fifo --frames 10 --csv", rec);
	CU_ASSERT_EQUAL(s.status, 0);
	CU_ASSERT_EQUAL(csv_value(s.out, "refs"), faults);
	CU_ASSERT_EQUAL(csv_value(s.out, "faults"), faults);
	cmd_result_free(&r);
	cmd_result_free(&s);
}

/* The guest's random workload is a fixed reference string for a seed
 * (guest/lib.c's xorshift64*): its count of references and FIFO's faults
 * on it are pinned, so that a change to the PRNG or to the workload shows. */
static void test_random_pinned(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload random --pages 64 --frames 16 --policy fifo --seed 7 --csv "
		      "--timeout 30s");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(csv_value(r.out, "refs"), 254);
	CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 196);
	CU_ASSERT_EQUAL(csv_value(r.out, "writebacks"), 62);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab guest: 254 references, 0 mismatches"));
	cmd_result_free(&r);
}

static void expect_bad_guest(const char *workload, const char *timeout, const char *reason)
{
	char swap[600];
	struct stat st;
	struct cmd_result r;

	snprintf(swap, sizeof(swap), "%s/swap-%s", scratch_dir(), workload);
	r = run_pflab("run --workload %s --pages 8 --frames 4 --swap '%s' --timeout %s", workload,
		      swap, timeout);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab run: guest failed: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, reason));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " at rip 0x"));
	CU_ASSERT_EQUAL(stat(swap, &st), -1); /* the swap file is gone */
	if (!strstr(r.err, reason))
		fprintf(stderr, "%s: %s", workload, r.err);
	cmd_result_free(&r);
}

static void test_bad_guests(void)
{
	if (!kvm_usable())
		return;
	expect_bad_guest("bad-oob", "30s", "outside guest RAM");
	expect_bad_guest("bad-ud", "30s", "KVM_EXIT_SHUTDOWN (triple fault)");
	expect_bad_guest("bad-loop", "300ms", "timed out after 0.300 s");
}

static void test_bad_usage(void)
{
	static const char *const cases[] = {
		"run --workload nosuch",
		"run --trap nosuch",
		"run --frames 0",
		"run --workload scan --policy opt",   /* OPT needs a trace */
		"run --workload scan --trace x",
		"run --timeout 5",
		"run --trace /nonexistent/trace.rw",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmd_result r = run_pflab("%s", cases[i]);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab run: "));
		cmd_result_free(&r);
	}
}

static CU_TestInfo kvm_tests[] = {
	{ "scan: exact faults and write-backs (kvm trap)", test_scan_exact_kvm },
	{ "scan: exact faults and write-backs (uffd trap)", test_scan_exact_uffd },
	{ "every workload verifies its data", test_workloads_verify },
	{ "a corrupted swap slot fails the run", test_corrupt_swap_fails },
	{ "a corrupted swap slot fails a --trace run", test_corrupt_swap_fails_trace },
	{ "replayed traces fault exactly as pflab sim", test_cross_validation },
	{ "--record gives the run's miss sequence", test_record_replays },
	{ "random: references and faults pinned for a seed", test_random_pinned },
	{ "without a trace the tick counts faults", test_workload_tick },
	{ "bad guests are reported, swap file removed", test_bad_guests },
	{ "bad usage exits 2", test_bad_usage },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("kvm", kvm_tests);
