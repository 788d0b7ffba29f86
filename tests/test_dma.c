// SPDX-License-Identifier: MIT
/*
 * The DMA device (vmm/dma.c, docs/dma.md): both modes move the right bytes
 * (the guest checks what the device wrote, the device checks what it read),
 * pinned pages stay in their frames under a frame budget that evicts
 * around them, device faults are counted exactly, bad options and
 * impossible pins are reported, and LEN and BUF_SIZE hold their bounds.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../guest/dma_abi.h"
#include "dma.h"
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

/*
 * LEN: 1 byte to 1 MiB (DMA_MAX_BYTES); a descriptor is accepted at each
 * bound and refused one past it, with the reason the run would print after
 * "pflab run: DMA device: " (status 1: a bad guest, not bad command-line
 * input). The buffer's bound is held the same way at its last byte.
 * START's own checks, called directly: a transfer that passes them would
 * need a VM to run.
 */
static void test_len_bounds(void)
{
	const uint64_t base = 0x40000000, data = 512ull << 20, buf = 64u << 20;
	char err[200];

	CU_ASSERT_EQUAL(DMA_MAX_BYTES, 1u << 20);
	CU_ASSERT_EQUAL(dma_desc_check(base, 1, 0, DMA_TO_MEMORY, base, data, buf, err,
				       sizeof(err)), 0);
	CU_ASSERT_EQUAL(dma_desc_check(base, DMA_MAX_BYTES, 0, DMA_FROM_MEMORY, base, data, buf,
				       err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(dma_desc_check(base, 0, 0, DMA_TO_MEMORY, base, data, buf, err,
				       sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "transfer of 0 bytes (1 to 1048576)");
	CU_ASSERT_EQUAL(dma_desc_check(base, DMA_MAX_BYTES + 1, 0, DMA_TO_MEMORY, base, data, buf,
				       err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "transfer of 1048577 bytes (1 to 1048576)");
	/* The buffer's last MiB, then one byte further. */
	CU_ASSERT_EQUAL(dma_desc_check(base, DMA_MAX_BYTES, buf - DMA_MAX_BYTES, DMA_TO_MEMORY,
				       base, data, buf, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(dma_desc_check(base, DMA_MAX_BYTES, buf - DMA_MAX_BYTES + 1, DMA_TO_MEMORY,
				       base, data, buf, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "buffer offset 66060289, 1048576 bytes: outside the "
				    "device's 67108864-byte buffer");
}

static uint64_t reg_load(struct dma_dev *d, uint64_t off)
{
	uint64_t v = ~0ull;

	CU_ASSERT_EQUAL(dma_mmio(d, off, false, (uint8_t *)&v, sizeof(v)), 0);
	return v;
}

static int reg_store(struct dma_dev *d, uint64_t off, uint64_t v)
{
	return dma_mmio(d, off, true, (uint8_t *)&v, sizeof(v));
}

/*
 * BUF_SIZE: the data region's size, at most 64 MiB. A device on a region of
 * 64 MiB and one page reads 64 MiB; a buffer sized for 64 MiB less a page is
 * that size. Then, through the registers, a LEN one past 1 MiB is refused:
 * START fails, STATUS is error, the reason is exact. No transfer runs, so
 * the device needs no VM.
 */
static void test_buf_size_bound(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct region reg = { .npages = (64u << 20) / 4096 + 1 };
	struct kvm_mmu mmu = { .region = &reg };
	struct dma_config cfg = { .mode = DMA_FAULT, .mmu = &mmu, .fault_lock = &lock,
				  .data_base = 0x40000000 };
	struct dma_dev *d;
	char err[200];

	CU_ASSERT_EQUAL(dma_buf_bytes(64u << 20), 64u << 20);
	CU_ASSERT_EQUAL(dma_buf_bytes((64u << 20) + 1), 64u << 20);
	CU_ASSERT_EQUAL(dma_buf_bytes((64u << 20) - 4096), (64u << 20) - 4096);
	d = dma_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(reg_load(d, DMA_REG_BUF_SIZE), 64u << 20);
	CU_ASSERT_EQUAL(reg_store(d, DMA_REG_ADDR, cfg.data_base), 0);
	CU_ASSERT_EQUAL(reg_store(d, DMA_REG_LEN, DMA_MAX_BYTES + 1), 0);
	CU_ASSERT_EQUAL(reg_store(d, DMA_REG_BUF, 0), 0);
	CU_ASSERT_EQUAL(reg_store(d, DMA_REG_START, DMA_TO_MEMORY), -1);
	CU_ASSERT_EQUAL(reg_load(d, DMA_REG_STATUS), DMA_ERROR);
	CU_ASSERT_STRING_EQUAL(dma_error(d), "transfer of 1048577 bytes (1 to 1048576)");
	dma_destroy(d);
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
	{ "LEN: accepted at 1 byte and 1 MiB, refused past them", test_len_bounds },
	{ "BUF_SIZE: at most 64 MiB; a LEN past 1 MiB refused at START", test_buf_size_bound },
	{ "run: bad dma options", test_bad_usage },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("dma", dma_tests);
