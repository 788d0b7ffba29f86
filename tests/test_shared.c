// SPDX-License-Identifier: MIT
/*
 * A region shared by two guest address spaces (workload shared,
 * guest/shared.c, docs/mapped-files.md): the pager holds one copy of each
 * shared page, whichever process touches it through whichever mapping.
 *
 * The layout of 16 pages: 8 shared (A maps them at 5 GiB, B at 6 GiB), 4
 * private to A, 4 to B (both at 4 GiB): 24 mappings of 16 guest-physical
 * pages. Three rounds of a turn of A then a turn of B, each turn checking
 * and rewriting the 12 pages it maps, then a checking turn of each: 96
 * references. Every test is skipped, visibly, where /dev/kvm cannot be
 * opened.
 */
#include <stdio.h>
#include <string.h>

#include "test.h"

#define PAGES 16 /* distinct guest-physical pages the workload touches */
#define REFS  96 /* 8 turns of 12 pages */

static struct cmd_result run_shared(const char *opts)
{
	return run_pflab("run --workload shared --pages %d %s --csv --timeout 30s", PAGES, opts);
}

static void assert_verified(const struct cmd_result *r)
{
	CU_ASSERT_EQUAL(r->status, 0);
	CU_ASSERT_EQUAL(csv_value(r->out, "refs"), REFS);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "0 mismatches: data verified"));
	if (r->status != 0)
		fprintf(stderr, "%s", r->err);
}

/*
 * Frames for every guest-physical page: each of the 16 faults once, a
 * zero-fill, and nothing is evicted, with 16 frames exactly as with 32. Had
 * the pager a copy per mapping, the 24 mappings would not fit in 16.
 */
static void ample_frames(const char *trap)
{
	static const int frames[] = { PAGES, 2 * PAGES };

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		struct cmd_result r = run_pflab("run --workload shared --pages %d --frames %d "
						"--policy fifo --trap %s --csv --timeout 30s",
						PAGES, frames[i], trap);

		assert_verified(&r);
		CU_ASSERT_EQUAL(csv_value(r.out, "faults"), PAGES);
		CU_ASSERT_EQUAL(csv_value(r.out, "minor"), PAGES);
		CU_ASSERT_EQUAL(csv_value(r.out, "major"), 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "writebacks"), 0);
		cmd_result_free(&r);
	}
}

static void test_ample_frames_kvm(void)
{
	if (kvm_usable())
		ample_frames("kvm");
}

static void test_ample_frames_uffd(void)
{
	if (kvm_usable())
		ample_frames("uffd");
}

/*
 * One frame short, FIFO: the reference string over guest-physical pages is
 * (0..11, 0..7 12..15) three times, then once more unwritten; FIFO over 15
 * frames faults 64 times, 16 zero-fills and 48 page-ins, and writes 48
 * pages back (the counts of the same string run through a FIFO by hand).
 * Still 16 zero-fills: B's first touch of a shared page reads A's copy.
 */
static void test_one_frame_short_fifo(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_shared("--frames 15 --policy fifo");
	assert_verified(&r);
	CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 64);
	CU_ASSERT_EQUAL(csv_value(r.out, "minor"), PAGES);
	CU_ASSERT_EQUAL(csv_value(r.out, "major"), 48);
	CU_ASSERT_EQUAL(csv_value(r.out, "writebacks"), 48);
	cmd_result_free(&r);
}

/*
 * Four frames: every reference faults (a page comes back after at least 8
 * others), and every page written in the 6 writing turns is written back
 * before its next use: 72. Under FIFO and CLOCK alike, and with either trap;
 * the data passes from one process to the other through swap.
 */
static void test_pressure_verified(void)
{
	static const char *const opts[] = {
		"--frames 4 --policy fifo",
		"--frames 4 --policy clock",
		"--frames 4 --policy clock --trap uffd",
	};

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct cmd_result r = run_shared(opts[i]);

		assert_verified(&r);
		CU_ASSERT_EQUAL(csv_value(r.out, "faults"), REFS);
		CU_ASSERT_EQUAL(csv_value(r.out, "minor"), PAGES);
		CU_ASSERT_EQUAL(csv_value(r.out, "major"), REFS - PAGES);
		CU_ASSERT_EQUAL(csv_value(r.out, "writebacks"), 72);
		cmd_result_free(&r);
	}
}

/* Under pressure over a larger region, more rounds: data still verified. */
static void test_larger_region_verified(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload shared --pages 200 --frames 37 --policy clock --passes 5 "
		      "--csv --timeout 60s");
	CU_ASSERT_EQUAL(r.status, 0);
	/* 12 turns of 100 shared and 50 private pages */
	CU_ASSERT_EQUAL(csv_value(r.out, "refs"), 12 * 150);
	CU_ASSERT_EQUAL(csv_value(r.out, "minor"), 200);
	CU_ASSERT(csv_value(r.out, "major") > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
	cmd_result_free(&r);
}

/* A byte flipped in a shared page's swap slot: the process that reads the
 * page back, whichever it is, notices, and the run fails. */
static void test_corrupt_shared_page_fails(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_shared("--frames 4 --policy fifo --corrupt-page 2");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "guest data mismatch: page 2 offset 120"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "verification failed"));
	cmd_result_free(&r);
}

static void test_bad_sizes(void)
{
	static const int pages[] = { 3, 8193 };

	/* checked before /dev/kvm is opened: runs everywhere */
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		struct cmd_result r = run_pflab("run --workload shared --pages %d", pages[i]);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "workload shared needs 4 to 8192 pages"));
		cmd_result_free(&r);
	}
}

static CU_TestInfo shared_tests[] = {
	{ "ample frames: one fault per guest-physical page (kvm trap)", test_ample_frames_kvm },
	{ "ample frames: one fault per guest-physical page (uffd trap)", test_ample_frames_uffd },
	{ "one frame short: exact FIFO counts", test_one_frame_short_fifo },
	{ "four frames: data verified, exact counts", test_pressure_verified },
	{ "a larger region under pressure verifies", test_larger_region_verified },
	{ "a corrupted shared page fails the run", test_corrupt_shared_page_fails },
	{ "region sizes out of range exit 2", test_bad_sizes },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("shared", shared_tests);
