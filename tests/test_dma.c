// SPDX-License-Identifier: MIT
/*
 * The DMA device (vmm/dma.c, docs/dma.md): both modes move the right bytes
 * (the guest checks what the device wrote, the device checks what it read),
 * pinned pages stay in their frames under a frame budget that evicts
 * around them, device faults are counted exactly, and bad options and
 * impossible pins are reported.
 */
#include <stdio.h>
#include <string.h>

#include "test.h"

struct dma_line {
	unsigned long long transfers, bytes, device_faults, cpu_faults, moved, buf_errors;
	char mode[8];
};

/* Parse the run's "dma: ..." summary line from its stderr; false if absent. */
static bool parse_dma_line(const char *err, struct dma_line *d)
{
	const char *at = strstr(err, "dma: ");
	double stall_ms, per_us, mbs;

	return at && sscanf(at, "dma: %7s mode, %llu transfers of %llu bytes in all; %llu device "
			    "faults (stalled %lf ms), %llu CPU faults; %lf us per transfer, %lf "
			    "MB/s while busy; %llu pinned pages moved, %llu buffer mismatches",
			    d->mode, &d->transfers, &d->bytes, &d->device_faults, &stall_ms,
			    &d->cpu_faults, &per_us, &mbs, &d->moved, &d->buf_errors) == 10;
}

/*
 * 64 pages, 64 frames: nothing is evicted. Pass 0 brings the 32 pages of
 * the first half in by device writes (the device's faults, in either mode:
 * pin faults them in to pin them), the CPU faults in its 32 pages of the
 * second half; pass 1 faults nothing. 2 passes x 4 chunks x 2 directions
 * = 16 transfers of 8 pages.
 */
static void test_exact_counts(void)
{
	static const char *const modes[] = { "pin", "fault" };

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < 2; i++) {
		struct cmd_result r = run_pflab("run --workload dma --dma %s --pages 64 --frames 64 "
						"--passes 2 --csv --timeout 60s", modes[i]);
		struct dma_line d;

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
		CU_ASSERT_FATAL(parse_dma_line(r.err, &d));
		CU_ASSERT_STRING_EQUAL(d.mode, modes[i]);
		CU_ASSERT_EQUAL(d.transfers, 16);
		CU_ASSERT_EQUAL(d.bytes, 16ull * 8 * 4096);
		CU_ASSERT_EQUAL(d.device_faults, 32);
		CU_ASSERT_EQUAL(d.cpu_faults, 32);
		CU_ASSERT_EQUAL(d.moved, 0);
		CU_ASSERT_EQUAL(d.buf_errors, 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 64);
		CU_ASSERT_EQUAL(csv_value(r.out, "writebacks"), 0);
		if (r.status != 0)
			fprintf(stderr, "--dma %s: %s", modes[i], r.err);
		cmd_result_free(&r);
	}
}

/*
 * 12 frames under FIFO, 8 of them pinned by each transfer, a slow device
 * (100us a page) and a CPU that faults a page of its own for each page of
 * the transfer: without the pins FIFO would take the transfer's pages,
 * the oldest, while it runs. With them, no pinned page leaves its frame
 * (the device checks each before copying and fails the transfer if one
 * did), the data verifies both ways, and the budget did evict: write-backs.
 * Fault mode on the same run moves the same bytes, faulting as it goes.
 */
static void test_small_budget(void)
{
	static const char *const modes[] = { "pin", "fault" };

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < 2; i++) {
		struct cmd_result r = run_pflab("run --workload dma --dma %s --pages 128 --frames 12 "
						"--policy fifo --passes 3 --dma-latency 100us --csv "
						"--timeout 60s", modes[i]);
		struct dma_line d;

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 mismatches: data verified"));
		CU_ASSERT_FATAL(parse_dma_line(r.err, &d));
		CU_ASSERT_EQUAL(d.transfers, 3ull * 8 * 2);
		CU_ASSERT_EQUAL(d.bytes, 3ull * 8 * 2 * 8 * 4096);
		CU_ASSERT_EQUAL(d.moved, 0);
		CU_ASSERT_EQUAL(d.buf_errors, 0);
		/* Every pass's device -> memory transfers meet pages the
		 * CPU's faults evicted since: at least 64 device faults each. */
		CU_ASSERT(d.device_faults >= 3 * 64);
		CU_ASSERT(csv_value(r.out, "writebacks") > 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "faults"), (long long)(d.device_faults + d.cpu_faults));
		if (r.status != 0)
			fprintf(stderr, "--dma %s: %s", modes[i], r.err);
		cmd_result_free(&r);
	}
}

/* A transfer of 8 pages cannot be pinned in 4 frames: the device fails it
 * with the pager's reason and the run stops, naming it. */
static void test_pin_impossible(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload dma --dma pin --pages 64 --frames 4 --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab run: DMA device: device fault on page 4: "
					 "no frame for page 4: all 4 frames are pinned\n"));
	cmd_result_free(&r);
}

static void test_bad_usage(void)
{
	static const struct refused cases[] = {
		{ "run --workload dma --dma bogus", "pflab run: --dma: 'bogus' is not pin or fault\n" },
		{ "run --workload dma", "pflab run: workload dma needs --dma pin or --dma fault\n" },
		{ "run --dma-latency 5us", "pflab run: --dma-latency needs --dma\n" },
		{ "run --workload dma --dma pin --trap uffd",
		  "pflab run: --dma needs --trap kvm: under uffd, a device write to a "
		  "write-protected page would wait on the fault handler\n" },
	};

	check_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static CU_TestInfo dma_tests[] = {
	{ "both modes: exact transfers and device faults, data verified", test_exact_counts },
	{ "small frame budget: pinned pages stay, data verified", test_small_budget },
	{ "pin: more pages than frames fails the transfer", test_pin_impossible },
	{ "run: bad dma options", test_bad_usage },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("dma", dma_tests);
