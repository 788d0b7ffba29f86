// SPDX-License-Identifier: MIT
/*
 * Swap layouts (docs/swap.md): the static layout's fixed slots; the
 * dynamic layout's directory and next-fit allocation, exact on small cases;
 * a property on random write sequences (the directory is a bijection, a
 * read always finds the last copy written, a failed write keeps the old
 * one, no wrap means one run of slots); and under KVM, both layouts keeping
 * the guest's data through thousands of faults with the paging daemon and
 * injected errors, reading from the right slot (a corrupted slot is
 * noticed), and giving the pager the same faults.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swap_layout.h"
#include "test.h"

static void layout_init(struct swap_layout *l, enum swap_layout_kind kind, uint32_t pages,
			uint32_t slots)
{
	char err[200];

	CU_ASSERT_EQUAL_FATAL(swap_layout_init(l, kind, pages, slots, err, sizeof(err)), 0);
}

static int64_t write_page(struct swap_layout *l, vpn_t vpn, bool ok)
{
	int64_t slot = swap_layout_write_begin(l, vpn);

	if (slot >= 0)
		swap_layout_write_end(l, vpn, slot, ok);
	return slot;
}

static void test_static(void)
{
	struct swap_layout l;
	static const vpn_t order[] = { 0, 1, 2, 5, 6, 9 };

	layout_init(&l, SWAP_STATIC, 16, 16);
	CU_ASSERT_EQUAL(swap_layout_lookup(&l, 7), 7); /* written or not */
	for (size_t i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(write_page(&l, order[i], true), order[i]);
	CU_ASSERT_EQUAL(swap_layout_stats(&l).writes, 6);
	CU_ASSERT_EQUAL(swap_layout_stats(&l).runs, 3); /* 0-2, 5-6, 9 */
	swap_layout_fini(&l);
}

/*
 * 8 pages, 10 slots. Pages written in the order 5 2 7 take slots 0 1 2;
 * rewriting 2 moves it to slot 3 and frees slot 1; a failed write of 7
 * (to slot 4) frees slot 4 again and leaves 7 in slot 2; the next write
 * takes slot 4, no hole left; the next ones 5 to 9; then the scan wraps to
 * the first free slot. Writes to consecutive slots make one run.
 */
static void test_dynamic_exact(void)
{
	struct swap_layout l;
	struct swap_layout_stats st;

	layout_init(&l, SWAP_DYNAMIC, 8, 10);
	CU_ASSERT_EQUAL(swap_layout_lookup(&l, 5), -1); /* never written: no slot */
	CU_ASSERT_EQUAL(write_page(&l, 5, true), 0);
	CU_ASSERT_EQUAL(write_page(&l, 2, true), 1);
	CU_ASSERT_EQUAL(write_page(&l, 7, true), 2);
	CU_ASSERT_EQUAL(write_page(&l, 2, true), 3);
	CU_ASSERT_EQUAL(swap_layout_lookup(&l, 2), 3);
	CU_ASSERT_EQUAL(l.owner[1], 0); /* freed */
	CU_ASSERT_EQUAL(write_page(&l, 7, false), 4);
	CU_ASSERT_EQUAL(swap_layout_lookup(&l, 7), 2); /* the old copy stays */
	CU_ASSERT_EQUAL(l.owner[4], 0);
	CU_ASSERT_EQUAL(write_page(&l, 0, true), 4);
	for (vpn_t v = 1; v <= 4; v++) /* pages 1, 6, 3, 4 take 5 6 7 8 */
		write_page(&l, v == 2 ? 6 : v, true);
	CU_ASSERT_EQUAL(swap_layout_lookup(&l, 6), 6);
	CU_ASSERT_EQUAL(write_page(&l, 5, true), 9); /* 5 moves from slot 0 */
	CU_ASSERT_EQUAL(l.owner[0], 0);
	CU_ASSERT_EQUAL(write_page(&l, 2, true), 0); /* wrapped: the first free slot */
	CU_ASSERT_EQUAL(l.owner[3], 0);
	st = swap_layout_stats(&l);
	CU_ASSERT_EQUAL(st.writes, 11);
	CU_ASSERT_EQUAL(st.moves, 3);
	CU_ASSERT_EQUAL(st.runs, 2); /* 0-9, then 0 */
	swap_layout_fini(&l);
}

/* An area with no free slot rewrites in place; one too small is refused. */
static void test_dynamic_full(void)
{
	struct swap_layout l;
	char err[200];

	layout_init(&l, SWAP_DYNAMIC, 4, 4);
	for (vpn_t v = 0; v < 4; v++)
		CU_ASSERT_EQUAL(write_page(&l, v, true), v);
	CU_ASSERT_EQUAL(l.nfree, 0);
	CU_ASSERT_EQUAL(write_page(&l, 1, true), 1);
	CU_ASSERT_EQUAL(swap_layout_stats(&l).in_place, 1);
	CU_ASSERT_EQUAL(swap_layout_lookup(&l, 1), 1);
	swap_layout_fini(&l);
	CU_ASSERT_EQUAL(swap_layout_init(&l, SWAP_DYNAMIC, 10, 9, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "a swap area of 9 slots cannot hold the 10 pages");
	swap_layout_fini(&l);
}

/*
 * Random write sequences, one write in five failing, on areas from full
 * to twice the pages. A model of the disk (which page and version each
 * slot holds) checks every step: a page's slot holds its last version
 * written successfully; the directory and the owners agree both ways; the
 * free count is right. Without a wrap, every write went to the next slot:
 * one run.
 */
static void test_dynamic_property(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (unsigned round = 0; round < 12; round++) {
		uint32_t pages = 20 + round * 7, slots = pages + (round % 4) * pages / 3;
		uint64_t *disk_page = calloc(slots, sizeof(uint64_t));   /* 1 + page */
		uint64_t *disk_version = calloc(slots, sizeof(uint64_t));
		uint64_t *version = calloc(pages, sizeof(uint64_t));     /* last written ok */
		struct swap_layout l;
		bool ok = true, wrapped = false, failed_any = false;

		CU_ASSERT_FATAL(disk_page && disk_version && version);
		layout_init(&l, SWAP_DYNAMIC, pages, slots);
		for (unsigned k = 0; k < 3000 && ok; k++) {
			vpn_t vpn;
			bool success;
			int64_t slot;
			uint32_t used = 0, written = 0;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			vpn = (vpn_t)(x % pages);
			success = (x >> 32) % 5 != 0;
			slot = swap_layout_write_begin(&l, vpn);
			ok &= slot >= 0 && slot < slots;
			if (!ok)
				break;
			if (success && l.cursor <= slot)
				wrapped = true; /* the next write starts over at slot 0 */
			if (success) {
				disk_page[slot] = vpn + 1;
				disk_version[slot] = ++version[vpn];
			} else {
				failed_any = true;
			}
			swap_layout_write_end(&l, vpn, slot, success);

			for (vpn_t v = 0; v < pages; v++) {
				int64_t s = swap_layout_lookup(&l, v);

				if (version[v] == 0) {
					ok &= s == -1;
					continue;
				}
				written++;
				ok &= s >= 0 && disk_page[s] == v + 1 && disk_version[s] == version[v];
				ok &= l.owner[s] == v + 1;
			}
			for (uint32_t s = 0; s < slots; s++)
				used += l.owner[s] != 0;
			ok &= used == written && l.nfree == slots - used;
		}
		CU_ASSERT_TRUE(ok);
		CU_ASSERT_TRUE(failed_any);
		CU_ASSERT_TRUE(wrapped); /* 3000 writes: the allocator went round */
		swap_layout_fini(&l);
		free(disk_page);
		free(disk_version);
		free(version);
	}
}

/*
 * Clustering: pages written in random order, one write in five failing,
 * fewer successful writes than slots: the dynamic layout puts them all in
 * one run of consecutive slots (a failed write's slot is taken by the
 * next); the static layout, on the same sequence, scatters them.
 */
static void test_dynamic_clusters(void)
{
	uint64_t x = 12345;

	for (unsigned round = 0; round < 8; round++) {
		uint32_t pages = 50 + round * 30, slots = pages * 3;
		struct swap_layout d, s;
		unsigned writes = 0;

		layout_init(&d, SWAP_DYNAMIC, pages, slots);
		layout_init(&s, SWAP_STATIC, pages, pages);
		while (writes < slots - 1) {
			vpn_t vpn;
			bool success;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			vpn = (vpn_t)(x % pages);
			success = (x >> 32) % 5 != 0;
			write_page(&d, vpn, success);
			write_page(&s, vpn, success);
			writes += success;
		}
		CU_ASSERT_EQUAL(swap_layout_stats(&d).writes, writes);
		CU_ASSERT_EQUAL(swap_layout_stats(&d).runs, 1);
		CU_ASSERT(swap_layout_stats(&s).runs > writes / 2);
		swap_layout_fini(&d);
		swap_layout_fini(&s);
	}
}

/* ---- under KVM ---------------------------------------------------------------- */

/* Both layouts keep the guest's data through thousands of faults, with the
 * paging daemon and read and write errors; the dynamic one in a single run
 * of slots while it has not wrapped. */
static void test_kvm_layouts_keep_data(void)
{
	static const char *const workloads[] = { "copy", "random", "list" };
	static const char *const layouts[] = { "static", "dynamic" };

	if (!kvm_usable())
		return;
	for (size_t w = 0; w < sizeof(workloads) / sizeof(workloads[0]); w++) {
		for (size_t k = 0; k < 2; k++) {
			struct cmd_result r = run_pflab(
				"run --workload %s --pages 256 --frames 64 --passes 6 --policy clock "
				"--swap-layout %s --pool-low 8 --pool-high 24 --inject "
				"write:eio@every=97,read:eio@every=89 --csv --timeout 120s",
				workloads[w], layouts[k]);
			long long writes = csv_value(r.out, "slot_writes");

			CU_ASSERT_EQUAL(r.status, 0);
			CU_ASSERT(writes > 0);
			CU_ASSERT(csv_value(r.out, "faults") > 1000);
			CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 lost; "));
			CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
			if (r.status != 0)
				fprintf(stderr, "%s %s: %s", workloads[w], layouts[k], r.err);
			cmd_result_free(&r);
		}
		/* One run of slots needs the writes in slot order: the daemon
		 * between faults (--pool-sync). On its thread, a write that
		 * fails while the fault path writes the next slot leaves the
		 * failed slot to be filled out of order: not one run. */
		{
			struct cmd_result r = run_pflab(
				"run --workload %s --pages 256 --frames 64 --passes 6 --policy clock "
				"--swap-layout dynamic --pool-low 8 --pool-high 24 --pool-sync --inject "
				"write:eio@every=97,read:eio@every=89 --csv --timeout 120s",
				workloads[w]);

			CU_ASSERT_EQUAL(r.status, 0);
			if (csv_value(r.out, "slot_writes") <= 256 + 256 / 4 + 64)
				CU_ASSERT_EQUAL(csv_value(r.out, "write_runs"), 1);
			cmd_result_free(&r);
		}
	}
}

/* The layout is the store's business: the pager's faults and write-backs
 * are the same either way; only where the writes land differs. */
static void test_kvm_layouts_same_faults(void)
{
	static const char *const cols[] = { "faults", "major", "minor", "writebacks" };
	struct cmd_result s, d;

	if (!kvm_usable())
		return;
	s = run_pflab("run --workload random --pages 256 --frames 64 --policy fifo "
		      "--swap-layout static --csv --timeout 60s");
	d = run_pflab("run --workload random --pages 256 --frames 64 --policy fifo "
		      "--swap-layout dynamic --csv --timeout 60s");
	CU_ASSERT_EQUAL(s.status, 0);
	CU_ASSERT_EQUAL(d.status, 0);
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		CU_ASSERT_EQUAL(csv_value(s.out, cols[c]), csv_value(d.out, cols[c]));
	CU_ASSERT_EQUAL(csv_value(s.out, "slot_writes"), csv_value(s.out, "writebacks"));
	CU_ASSERT_EQUAL(csv_value(d.out, "write_runs"), 1);
	CU_ASSERT(csv_value(s.out, "write_runs") > 10 * csv_value(d.out, "write_runs"));
	CU_ASSERT(csv_value(d.out, "swap_seeks") < csv_value(s.out, "swap_seeks"));
	cmd_result_free(&s);
	cmd_result_free(&d);
}

/* Reads come from the page's slot, wherever the directory put it: a byte
 * flipped there is what the guest reads back. */
static void test_kvm_dynamic_corrupt_slot(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 32 --frames 8 --policy fifo --swap-layout dynamic "
		      "--corrupt-page 3 --csv --timeout 30s");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "guest data mismatch: page 3 offset 120"));
	cmd_result_free(&r);
}

static void test_bad_usage(void)
{
	static const struct {
		const char *args, *err;
	} cases[] = {
		{ "run --swap-layout linear",
		  "pflab run: --swap-layout: 'linear' is not static or dynamic\n" },
		{ "run --swap-slots 0", "pflab run: --swap-slots: '0' is out of range [1, 4294967294]\n" },
		{ "run --disk-seek 5", NULL }, /* the duration parser's own reason */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmd_result r = run_pflab("%s", cases[i].args);

		CU_ASSERT_EQUAL(r.status, 2);
		if (cases[i].err)
			CU_ASSERT_STRING_EQUAL(r.err, cases[i].err);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab run: "));
		cmd_result_free(&r);
	}
}

/* An area too small for the pages: refused before the guest starts. */
static void test_kvm_area_too_small(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 64 --frames 16 --swap-layout dynamic "
		      "--swap-slots 40 --timeout 30s");
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.err, "pflab run: a swap area of 40 slots cannot hold the 64 pages\n");
	cmd_result_free(&r);
}

static CU_TestInfo swap_tests[] = {
	{ "static layout: slot = page", test_static },
	{ "dynamic layout: directory and next fit, exact", test_dynamic_exact },
	{ "dynamic layout: full area, too small an area", test_dynamic_full },
	{ "dynamic layout: property on random writes", test_dynamic_property },
	{ "dynamic layout: write-backs clustered", test_dynamic_clusters },
	{ "kvm: both layouts keep the data", test_kvm_layouts_keep_data },
	{ "kvm: same faults, different places", test_kvm_layouts_same_faults },
	{ "kvm: dynamic reads the page's slot", test_kvm_dynamic_corrupt_slot },
	{ "kvm: an area too small is refused", test_kvm_area_too_small },
	{ "bad usage exits 2 with one line", test_bad_usage },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("swap", swap_tests);
