// SPDX-License-Identifier: MIT
/*
 * Memory-mapped files (docs/mapped-files.md): `pflab run --workload mapfile
 * --map-file F`. The test writes F with a known pattern, the guest checks
 * what faults in and modifies it (guest/mapfile.c), and afterwards F must
 * hold exactly what the guest wrote: the expected bytes are computed here,
 * from the workload's definition, and compared byte for byte. Exact counts
 * of reads and of write-backs by cause (eviction, msync, exit) where the
 * run is deterministic. Skipped where /dev/kvm cannot be opened.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"

#include "../guest/abi.h"

#define PAGE 4096u
#define WORDS (PAGE / 8)

/* The guest's pattern (guest/guest.h), written out again on purpose: the
 * test does not take the guest's word for what it should have written. */
static uint64_t pattern(uint32_t vpn, uint32_t v, uint32_t i)
{
	uint64_t x;

	if (v == 0)
		return 0;
	x = ((uint64_t)vpn << 32 | v) * 0x9e3779b97f4a7c15ull + i;
	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ull;
}

static void put_word(uint8_t *at, uint64_t w)
{
	for (int b = 0; b < 8; b++)
		at[b] = (uint8_t)(w >> (8 * b)); /* little endian, as the guest */
}

/* The file the test maps: size bytes of the initial pattern. */
static uint8_t *initial_image(size_t size)
{
	size_t pages = (size + PAGE - 1) / PAGE;
	uint8_t *b = calloc(pages ? pages : 1, PAGE);

	for (size_t p = 0; p < pages; p++)
		for (uint32_t i = 0; i < WORDS; i++)
			put_word(b + p * PAGE + i * 8, pattern((uint32_t)p, PFLAB_MAPFILE_VERSION, i));
	return b;
}

/* Pages the workload dirties: phase 2 writes p % 3 != 2, phase 4 p % 5 == 0. */
static int dirtied(uint32_t p)
{
	return p % 3 != 2 || p % 5 == 0;
}

/*
 * What the file must hold after the workload on npages pages of a file of
 * size bytes: the file as it was, with each dirtied page written whole (a
 * write-back is a page), which extends the file to the end of the last one.
 */
static uint8_t *expected_image(size_t size, uint32_t npages, size_t *final)
{
	uint8_t *orig = initial_image(size), *b;
	size_t end = size;

	for (uint32_t p = 0; p < npages; p++)
		if (dirtied(p) && (size_t)(p + 1) * PAGE > end)
			end = (size_t)(p + 1) * PAGE;
	b = calloc(end + PAGE, 1);
	memcpy(b, orig, size); /* past size: zeroes, a hole or the file's end */
	free(orig);
	for (uint32_t p = 0; p < npages; p++) {
		uint8_t *pg = b + (size_t)p * PAGE;
		uint32_t v = p % 5 == 0 ? (p % 3 == 0 ? 2 : 1) : p % 3 == 0 ? 1 : 0;

		if (v) {
			for (uint32_t i = 0; i < WORDS; i++)
				put_word(pg + i * 8, pattern(p, v, i));
		} else if (p % 3 == 1) {
			/* the page as read (zeroes past the end), one word set */
			put_word(pg + (p % WORDS) * 8, PFLAB_MAPFILE_MARKER | p);
		}
	}
	*final = end;
	return b;
}

static char *scratch_path(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", scratch_dir(), name);
	return path;
}

static void write_bin(const char *path, const uint8_t *b, size_t len, mode_t mode)
{
	FILE *f;

	chmod(path, 0600);
	f = fopen(path, "wb");
	if (!f || (len && fwrite(b, 1, len, f) != len) || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	chmod(path, mode);
}

static uint8_t *read_bin(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	uint8_t *b;

	if (!f || fstat(fileno(f), &sb) != 0) {
		perror(path);
		exit(2);
	}
	b = malloc((size_t)sb.st_size + 1);
	*len = fread(b, 1, (size_t)sb.st_size, f);
	fclose(f);
	return b;
}

/* The summary line mapfile_print() writes on stderr. */
struct summary {
	unsigned long long reads, writes, evict, msync, calls, exit, before, after;
};

static int parse_summary(const char *err, struct summary *s)
{
	const char *l = strstr(err, "map file ");

	l = l ? strchr(l, ':') : NULL;
	return l && sscanf(l, ": %llu pages read in, %llu written back: %llu at eviction, %llu by "
			   "%llu msync, %llu at exit; %llu bytes, now %llu", &s->reads, &s->writes,
			   &s->evict, &s->msync, &s->calls, &s->exit, &s->before,
			   &s->after) == 8;
}

/* Write a file of size bytes, run the workload on it with args, and check
 * the file byte for byte. The run's numbers in *s. */
static void run_and_compare(size_t size, uint32_t npages, const char *args, struct summary *s)
{
	char *path = scratch_path("mapped.bin");
	uint8_t *init = initial_image(size), *want, *got;
	size_t want_len, got_len;
	struct cmd_result r;

	write_bin(path, init, size, 0600);
	free(init);
	r = run_pflab("run --workload mapfile --map-file '%s' --pages %u %s --csv --timeout 60s",
		      path, npages, args);
	CU_ASSERT_EQUAL(r.status, 0);
	if (r.status)
		fprintf(stderr, "\n[%s] %s", args, r.err);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
	memset(s, 0, sizeof(*s));
	CU_ASSERT_TRUE(parse_summary(r.err, s));
	/* Every fault of a mapped file reads it; every write-back has a cause. */
	CU_ASSERT_EQUAL(s->reads, (unsigned long long)csv_value(r.out, "major"));
	CU_ASSERT_EQUAL(s->evict, (unsigned long long)csv_value(r.out, "writebacks"));
	CU_ASSERT_EQUAL(s->writes, s->evict + s->msync + s->exit);
	CU_ASSERT_TRUE(s->calls >= 1); /* more when a write failed: the guest retries */
	CU_ASSERT_EQUAL(s->before, size);

	want = expected_image(size, npages, &want_len);
	got = read_bin(path, &got_len);
	CU_ASSERT_EQUAL(got_len, want_len);
	CU_ASSERT_EQUAL(s->after, want_len);
	if (got_len == want_len) {
		CU_ASSERT_EQUAL(memcmp(got, want, want_len), 0);
	}
	free(want);
	free(got);
	cmd_result_free(&r);
}

/* Pages of 0 .. n-1 the workload dirties: each is written exactly once
 * per dirtying (phase 2, then phase 4), whatever the evictions. */
static unsigned long long dirty_episodes(uint32_t n)
{
	unsigned long long k = 0;

	for (uint32_t p = 0; p < n; p++)
		k += (p % 3 != 2) + (p % 5 == 0);
	return k;
}

/*
 * 64 pages, 64 frames: nothing is evicted. Phase 1 reads every page in
 * (64 major faults, 64 reads); the msync writes the 43 pages phase 2
 * dirtied (22 with p % 3 == 0, 21 with p % 3 == 1); the exit writes the
 * 13 pages phase 4 dirtied again (p % 5 == 0), and only those: the msync
 * left the others clean, and KVM's dirty log saw phase 4's writes.
 */
static void test_mapfile_exact(void)
{
	struct summary s;

	if (!kvm_usable())
		return;
	run_and_compare(64 * PAGE, 64, "--frames 64 --policy fifo", &s);
	CU_ASSERT_EQUAL(s.reads, 64);
	CU_ASSERT_EQUAL(s.evict, 0);
	CU_ASSERT_EQUAL(s.msync, 43);
	CU_ASSERT_EQUAL(s.calls, 1);
	CU_ASSERT_EQUAL(s.exit, 13);
	CU_ASSERT_EQUAL(s.writes, dirty_episodes(64));
	CU_ASSERT_EQUAL(s.after, 64 * PAGE);
}

/* Few frames: dirty pages go back at eviction too, the file is exact, and
 * each dirtying is written once, under several policies and both traps. */
static void test_mapfile_eviction(void)
{
	static const char *const args[] = {
		"--frames 8 --policy fifo", "--frames 8 --policy clock", "--frames 5 --policy random",
		"--frames 3 --policy clock --trap uffd", "--frames 16 --policy fifo --trap uffd",
	};
	struct summary s;

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		run_and_compare(64 * PAGE, 64, args[i], &s);
		CU_ASSERT_TRUE(s.evict > 0);
		CU_ASSERT_EQUAL(s.writes, dirty_episodes(64));
	}
}

/* FIFO on 8 frames, exactly: 8 frames and pages visited in a cycle, so
 * each of the 184 page visits (64 + 43 + 13 + 64) faults and reads the
 * file. Of the 43 pages phase 2 dirties, the 8 still resident are written
 * by the msync and 35 at eviction; the 13 of phase 4 are all evicted by
 * phase 5's reads: 48 at eviction, none left for the exit. */
static void test_mapfile_fifo_exact(void)
{
	struct summary s;

	if (!kvm_usable())
		return;
	run_and_compare(64 * PAGE, 64, "--frames 8 --policy fifo", &s);
	CU_ASSERT_EQUAL(s.reads, 184);
	CU_ASSERT_EQUAL(s.msync, 8);
	CU_ASSERT_EQUAL(s.calls, 1);
	CU_ASSERT_EQUAL(s.evict, 48);
	CU_ASSERT_EQUAL(s.exit, 0);
}

/* With the paging daemon, on its thread and synchronous: the pool's own
 * write-backs go to the file as well. */
static void test_mapfile_pool(void)
{
	struct summary s;

	if (!kvm_usable())
		return;
	run_and_compare(64 * PAGE, 64, "--frames 16 --pool-low 2 --pool-high 6", &s);
	CU_ASSERT_EQUAL(s.writes, dirty_episodes(64));
	run_and_compare(64 * PAGE, 64, "--frames 16 --pool-low 2 --pool-high 6 --pool-sync", &s);
	CU_ASSERT_EQUAL(s.writes, dirty_episodes(64));
}

/*
 * A file shorter than the region: pages past its end read as zeroes (the
 * guest checks), and a write-back past the end extends the file to the end
 * of that page. 100000 bytes (not a page multiple) under 64 pages: page
 * 24 is cut at byte 1696, and page 63 is dirtied, so the file ends at 64
 * pages. 40960 bytes under 30 pages: the last page dirtied is 28, so the
 * file ends at 29 pages; 11 .. 28 between are holes or written pages.
 */
static void test_mapfile_short_file(void)
{
	struct summary s;

	if (!kvm_usable())
		return;
	run_and_compare(100000, 64, "--frames 8", &s);
	CU_ASSERT_EQUAL(s.after, 64 * PAGE);
	run_and_compare(10 * PAGE, 30, "--frames 64", &s);
	CU_ASSERT_EQUAL(s.after, 29 * PAGE);
	run_and_compare(0, 3, "--frames 2", &s);
	CU_ASSERT_EQUAL(s.after, 2 * PAGE);
}

/*
 * Injected I/O errors on the file (docs/faults.md): a failed read is
 * delivered to the guest, which retries; a failed write leaves the page
 * dirty, written at its next eviction, or by the guest's next msync call,
 * or at exit. The file is still exact, each page written once, nothing lost.
 */
static void test_mapfile_io_errors(void)
{
	static const char *const args[] = {
		"--frames 8 --policy fifo --inject read:eio@every=7,write:enospc@every=3",
		"--frames 64 --policy fifo --inject write:eio@every=2",
		"--frames 8 --policy clock --inject write:eio@page=3/times=10",
		"--frames 5 --policy clock --trap uffd --inject write:eio@every=4",
	};
	struct summary s;

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		run_and_compare(64 * PAGE, 64, args[i], &s);
		CU_ASSERT_EQUAL(s.writes, dirty_episodes(64));
		CU_ASSERT_TRUE(s.calls > 1 || i == 3);
	}
}

/* A device full for good: the guest gives up on its msync after 8 calls,
 * the run fails, and what could not be written is still resident, not
 * lost. */
static void test_mapfile_device_full(void)
{
	char *path = scratch_path("full.bin");
	uint8_t *init = initial_image(64 * PAGE);
	struct cmd_result r;

	if (!kvm_usable()) {
		free(init);
		return;
	}
	write_bin(path, init, 64 * PAGE, 0600);
	free(init);
	r = run_pflab("run --workload mapfile --map-file '%s' --frames 8 --policy fifo "
		      "--inject write:eio@after=40 --timeout 60s", path);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "msync failed 8 times in a row: errno 5"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 written on retry, 96 still resident at the end, 0 lost"));
	cmd_result_free(&r);
}

/*
 * Two pages that can never be written, each with its own errno, both dirty
 * and resident when the guest msyncs the whole file (page 3 stays because
 * its eviction fails, page 60 is among the last touched): msync reports the
 * first failure of its range (page 3's ENOSPC), not the last (page 60's
 * EIO), and both pages are counted as not written at exit.
 */
static void test_mapfile_first_error_reported(void)
{
	char *path = scratch_path("twoerr.bin");
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload mapfile --map-file '%s' --map-create --pages 64 --frames 8 "
		      "--policy fifo --inject write:enospc@page=3,write:eio@page=60 --timeout 60s",
		      path);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "msync failed 8 times in a row: errno 28\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "2 dirty pages could not be written at exit"));
	cmd_result_free(&r);
}

/* A file longer than the region: only the region's pages are touched. */
static void test_mapfile_long_file(void)
{
	struct summary s;

	if (!kvm_usable())
		return;
	run_and_compare(500000, 20, "--frames 8 --policy fifo", &s);
	CU_ASSERT_EQUAL(s.after, 500000);
}

/* Without --pages the region covers the file, rounded up to a page. */
static void test_mapfile_default_pages(void)
{
	char *path = scratch_path("eleven.bin");
	uint8_t *init = initial_image(10 * PAGE + 1);
	struct cmd_result r;

	if (!kvm_usable()) {
		free(init);
		return;
	}
	write_bin(path, init, 10 * PAGE + 1, 0600);
	free(init);
	r = run_pflab("run --workload mapfile --map-file '%s' --timeout 60s", path);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "workload mapfile, 11 pages"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
	cmd_result_free(&r);
}

static void expect_usage(const char *args, const char *message)
{
	struct cmd_result r = run_pflab("run %s", args);
	char line[600];

	snprintf(line, sizeof(line), "pflab run: %s\n", message);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.err, line);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	cmd_result_free(&r);
}

/* Bad input: one line, exit 2, and a read-only file left as it was. */
static void test_mapfile_bad_usage(void)
{
	char ro[512], dir[600], args[1400], msg[1400];
	uint8_t *init = initial_image(4 * PAGE), *got;
	size_t len;

	snprintf(ro, sizeof(ro), "%s", scratch_path("ro.bin"));
	write_bin(ro, init, 4 * PAGE, 0444);
	snprintf(args, sizeof(args), "--workload mapfile --map-file '%s' --pages 4", ro);
	snprintf(msg, sizeof(msg), "map file %s: read-only (mode 0444): the guest's writes go "
		 "back to it", ro);
	if (kvm_usable())
		expect_usage(args, msg); /* refused when the VM opens it */
	snprintf(args, sizeof(args), "--workload mapfile --map-file '%s'", ro);
	expect_usage(args, msg);     /* refused when sizing the region */
	got = read_bin(ro, &len);
	CU_ASSERT_EQUAL(len, 4 * PAGE);
	CU_ASSERT_EQUAL(memcmp(got, init, len), 0);
	free(got);

	snprintf(args, sizeof(args), "--workload mapfile --map-file '%s'", scratch_path("absent.bin"));
	snprintf(msg, sizeof(msg), "map file %s: No such file or directory", scratch_path("absent.bin"));
	expect_usage(args, msg);
	snprintf(dir, sizeof(dir), "%s", scratch_dir());
	snprintf(args, sizeof(args), "--workload mapfile --map-file '%s'", dir);
	snprintf(msg, sizeof(msg), "map file %s: not a regular file", dir);
	expect_usage(args, msg);
	write_bin(scratch_path("empty.bin"), init, 0, 0600);
	snprintf(args, sizeof(args), "--workload mapfile --map-file '%s'", scratch_path("empty.bin"));
	snprintf(msg, sizeof(msg), "map file %s: empty: give --pages", scratch_path("empty.bin"));
	expect_usage(args, msg);
	snprintf(args, sizeof(args), "--workload scan --map-file '%s'", ro);
	expect_usage(args, "--map-file goes with --workload mapfile");
	expect_usage("--workload mapfile", "workload mapfile needs --map-file FILE");
	chmod(ro, 0600);
	free(init);
}

/* --map-create writes the test's own idea of the initial file, byte for
 * byte; a file with other bytes is refused before the guest starts. */
static void test_mapfile_create_and_check(void)
{
	char path[512], bad[512];
	struct cmd_result r;
	uint8_t *want, *got;
	size_t len;

	snprintf(path, sizeof(path), "%s/created.bin", scratch_dir());
	snprintf(bad, sizeof(bad), "%s/foreign.bin", scratch_dir());
	/* Made by pflab, run, written back: the file the test expects. */
	if (kvm_usable()) {
		size_t final;

		r = run_pflab("run --workload mapfile --map-file '%s' --map-create --pages 5 "
			      "--frames 4 --timeout 60s", path);
		CU_ASSERT_EQUAL(r.status, 0);
		cmd_result_free(&r);
		got = read_bin(path, &len);
		want = expected_image(5 * PAGE, 5, &final);
		CU_ASSERT_EQUAL(len, final);
		CU_ASSERT(len == final && memcmp(got, want, len) == 0);
		free(got);
		free(want);
	}
	/* One byte off, on page 3: refused with the offset, exit 2. */
	want = initial_image(5 * PAGE);
	want[3 * PAGE + 17] ^= 0x40;
	write_bin(bad, want, 5 * PAGE, 0600);
	r = run_pflab("run --workload mapfile --map-file '%s' --frames 4", bad);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "byte 12305 is not the mapfile workload's pattern"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--map-create"));
	cmd_result_free(&r);
	r = run_pflab("run --workload scan --map-create");
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--map-create needs --map-file"));
	cmd_result_free(&r);
	free(want);
}

static CU_TestInfo mapfile_tests[] = {
	{ "64 frames: msync and exit write exactly the dirty pages", test_mapfile_exact },
	{ "FIFO on 8 frames: reads and write-backs exact", test_mapfile_fifo_exact },
	{ "evictions under pressure keep the file exact", test_mapfile_eviction },
	{ "the paging daemon writes to the file too", test_mapfile_pool },
	{ "a short file: zeroes past its end, extended on write-back", test_mapfile_short_file },
	{ "a long file: only the region is touched", test_mapfile_long_file },
	{ "injected I/O errors: the file still exact", test_mapfile_io_errors },
	{ "a device full for good: nothing lost", test_mapfile_device_full },
	{ "msync reports its range's first write error", test_mapfile_first_error_reported },
	{ "without --pages the region covers the file", test_mapfile_default_pages },
	{ "bad usage exits 2 with one line; read-only refused", test_mapfile_bad_usage },
	{ "--map-create writes the pattern; another file is refused", test_mapfile_create_and_check },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("mapfile", mapfile_tests);
