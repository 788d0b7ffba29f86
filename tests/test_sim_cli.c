// SPDX-License-Identifier: MIT
/*
 * `pflab sim` end to end: the textbook reference strings, the outside
 * numbers of ../shared/traces/EXPECTED.md, and the refusals of bad usage.
 * Counts are read back from the CSV the command prints, the way a user's
 * script would.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vmm.h"

#define BELADY "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n"
#define SILBERSCHATZ "7\n0\n1\n2\n0\n3\n0\n4\n2\n3\n0\n3\n2\n1\n2\n0\n1\n7\n0\n1\n"

/* The CSV header's first columns, fixed by the interface. */
static const char csv_head[] = "trace,policy,frames,refs,faults,miss_ratio,writebacks";

/*
 * Find the row of (policy, frames) in CSV output and return its faults
 * column, or -1. Also checks the header.
 */
static long long csv_faults(const char *csv, const char *policy, unsigned frames)
{
	const char *line = csv;

	if (strncmp(csv, csv_head, strlen(csv_head)) != 0)
		return -1;
	while ((line = strchr(line, '\n')) && *++line) {
		char pol[64];
		unsigned fr;
		unsigned long long refs, faults;
		const char *comma = strchr(line, ','); /* skip the trace column */

		if (!comma || sscanf(comma + 1, "%63[^,],%u,%llu,%llu", pol, &fr, &refs, &faults) != 4)
			return -1;
		if (strcmp(pol, policy) == 0 && fr == frames)
			return (long long)faults;
	}
	return -1;
}

/* Run one policy at several sizes and check each count. */
static void check_counts(const char *trace, const char *policy, const unsigned *frames,
			 const long long *expect, size_t n)
{
	char list[256] = "";

	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%u", i ? "," : "",
			 frames[i]);
	struct cmd_result r = run_pflab("sim '%s' --policy %s --frames %s --csv", trace, policy, list);

	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	for (size_t i = 0; i < n; i++) {
		long long got = csv_faults(r.out, policy, frames[i]);

		if (got != expect[i])
			fprintf(stderr, "\n  %s %s %u frames: %lld faults, expected %lld\n", trace,
				policy, frames[i], got, expect[i]);
		CU_ASSERT_EQUAL(got, expect[i]);
	}
	cmd_result_free(&r);
}

static void test_belady_anomaly(void)
{
	const char *t = write_file("belady.txt", BELADY);
	const unsigned fr[] = { 3, 4 };

	check_counts(t, "fifo", fr, (const long long[]){ 9, 10 }, 2);
	check_counts(t, "lru", fr, (const long long[]){ 10, 8 }, 2);
	check_counts(t, "opt", fr, (const long long[]){ 7, 6 }, 2);
}

static void test_textbook_string(void)
{
	const char *t = write_file("silberschatz.txt", SILBERSCHATZ);
	const unsigned fr[] = { 3 };

	check_counts(t, "fifo", fr, (const long long[]){ 15 }, 1);
	check_counts(t, "lru", fr, (const long long[]){ 12 }, 1);
	check_counts(t, "opt", fr, (const long long[]){ 9 }, 1);
	check_counts(t, "clock", fr, (const long long[]){ 14 }, 1);
}

/* Several policies and sizes in one run: one row each, in order. */
static void test_matrix_rows(void)
{
	const char *t = write_file("matrix.txt", BELADY);
	struct cmd_result r = run_pflab("sim %s --policy fifo,lru --frames 3,4 --csv", t);
	const char *expect[] = { "fifo,3,", "fifo,4,", "lru,3,", "lru,4," };
	const char *line = r.out;

	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	for (size_t i = 0; i < 4; i++) {
		line = strchr(line, '\n');
		CU_ASSERT_PTR_NOT_NULL_FATAL(line);
		line++;
		CU_ASSERT_PTR_NOT_NULL(strstr(line, expect[i]));
		CU_ASSERT(strstr(line, expect[i]) < strchr(line, '\n'));
	}
	/* The fourth row is the last line: no duplicate, no extra row. */
	line = strchr(line, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	CU_ASSERT_STRING_EQUAL(line, "\n");
	cmd_result_free(&r);
}

/* Writes: a dirty victim is written back, a clean one is not. */
static void test_writebacks(void)
{
	/* 3 pages cycled through 2 frames under FIFO: every reference faults;
	 * page 1 is written once, so exactly its first eviction writes back. */
	const char *t = write_file("rw.rw", "W 1\nR 2\nR 3\nR 1\nR 2\nR 3\n");
	struct cmd_result r = run_pflab("sim %s --policy fifo --frames 2 --csv", t);

	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",fifo,2,6,6,1.000000,1,"));
	cmd_result_free(&r);
}

struct refusal {
	const char *args;
	const char *reason; /* a piece of the one-line message */
};

static void test_refusals(void)
{
	const char *t = write_file("ok.txt", BELADY);
	const struct refusal cases[] = {
		{ "--policy fifo --frames 0", "--frames" },
		{ "--policy fifo --frames 12abc", "not a whole number" },
		{ "--policy fifo --frames -3", "not a whole number" },
		{ "--policy fifo --frames 3,,", "--frames: an empty item in '3,,'" },
		{ "--policy nosuch --frames 3", "unknown policy 'nosuch'" },
		{ "--policy fifo --frames 3 --bogus", "unknown option" },
		{ "--policy fifo", "--frames is required" },
		{ "--frames 3", "--policy is required" },
		{ "--policy fifo --frames 3 --format nosuch", "unknown trace format" },
		{ "--policy fifo --frames 99999999999", "out of range" },
		{ "--policy fifo --frames 3 --csv --json", "give one of --csv and --json, once" },
		{ "--policy fifo --frames 3 --json --csv", "give one of --csv and --json, once" },
		{ "--policy fifo --frames 3 --csv --csv", "give one of --csv and --json, once" },
		{ "--policy lru,fifo,lru --frames 3", "--policy: 'lru' given twice" },
		/* The shared number options' lines, exactly (cli_opt_u64). */
		{ "--policy aging --frames 3 --aging-bits 65",
		  "pflab sim: --aging-bits: '65' is out of range [1, 64]\n" },
		{ "--policy fifo --frames 3 --page-size x",
		  "pflab sim: --page-size: 'x' is not a whole number\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmd_result r = run_pflab("sim %s %s", t, cases[i].args);

		if (r.status != 2)
			fprintf(stderr, "\n  'sim %s' exited %d\n", cases[i].args, r.status);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, cases[i].reason));
		/* One line, and nothing on stdout. */
		CU_ASSERT_EQUAL(strchr(r.err, '\n') - r.err + 1, (long)strlen(r.err));
		CU_ASSERT_EQUAL(r.out[0], '\0');
		cmd_result_free(&r);
	}
}

static void test_bad_trace_line(void)
{
	const char *t = write_file("bad.txt", "1\n2\nabc\n3\n");
	struct cmd_result r = run_pflab("sim %s --policy fifo --frames 2", t);

	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "bad.txt:3:"));
	CU_ASSERT_EQUAL(r.out[0], '\0');
	cmd_result_free(&r);

	/* An empty trace is no result: no row of zeros, a reason instead. */
	r = run_pflab("sim %s --policy fifo --frames 2 --csv", write_file("empty.txt", "# nothing\n"));
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "empty.txt: no references"));
	CU_ASSERT_EQUAL(r.out[0], '\0');
	cmd_result_free(&r);

	r = run_pflab("sim %s/does-not-exist.txt --policy fifo --frames 2", scratch_dir());
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "does-not-exist.txt"));
	cmd_result_free(&r);
}

/*
 * --jobs: the rows of a matrix, streaming (machines created as the pages
 * seen reach their frames) and whole (OPT), are byte for byte those of
 * --jobs 1, with more threads than cores and than machines, and so are those
 * of --no-prefetch; bad values are refused.
 */
static void test_jobs_same_output(void)
{
	const char *dir = scratch_dir();
	struct cmd_result g, one, many;
	static const char *const lists[] = {
		"--policy lru,fifo,clock,arc,lirs,2q,random --frames 1,7,50,200,5000",
		"--policy opt,lru,sieve --frames 3,40,300",
	};

	g = run_pflab("trace gen zipf --pages 2000 --refs 60000 --alpha 0.8 --write-ratio 0.2 "
		      "--seed 5 -f rw -o %s/jobs.rw", dir);
	CU_ASSERT_EQUAL_FATAL(g.status, 0);
	cmd_result_free(&g);
	for (size_t k = 0; k < 2; k++) {
		one = run_pflab("sim %s/jobs.rw %s --csv", dir, lists[k]);
		CU_ASSERT_EQUAL(one.status, 0);
		for (unsigned j = 2; j <= 64; j *= 4) {
			many = run_pflab("sim %s/jobs.rw %s --csv --jobs %u", dir, lists[k], j);
			CU_ASSERT_EQUAL(many.status, 0);
			CU_ASSERT_STRING_EQUAL(many.out, one.out);
			cmd_result_free(&many);
		}
		/* Without prefetching: the same rows too. */
		many = run_pflab("sim %s/jobs.rw %s --csv --no-prefetch", dir, lists[k]);
		CU_ASSERT_EQUAL(many.status, 0);
		CU_ASSERT_STRING_EQUAL(many.out, one.out);
		cmd_result_free(&many);
		CU_ASSERT_TRUE(strlen(one.out) > 200);
		cmd_result_free(&one);
	}
	for (size_t i = 0; i < 3; i++) {
		static const char *const bad[][2] = {
			{ "0", "pflab sim: --jobs: '0' is out of range [1, 256]\n" },
			{ "257", "pflab sim: --jobs: '257' is out of range [1, 256]\n" },
			{ "two", "pflab sim: --jobs: 'two' is not a whole number\n" },
		};

		many = run_pflab("sim %s/jobs.rw --policy lru --frames 4 --jobs %s", dir, bad[i][0]);
		CU_ASSERT_EQUAL(many.status, 2);
		CU_ASSERT_STRING_EQUAL(many.err, bad[i][1]);
		CU_ASSERT_STRING_EQUAL(many.out, "");
		cmd_result_free(&many);
	}
}

static void test_help(void)
{
	struct cmd_result r = run_pflab("sim --help");

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "usage: pflab sim"));
	cmd_result_free(&r);
	r = run_pflab("--help");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "sim"));
	cmd_result_free(&r);
	r = run_pflab("nosuchcommand");
	CU_ASSERT_EQUAL(r.status, 2);
	cmd_result_free(&r);
}

/* Every policy the registry lists runs, and none beats OPT. */
static void test_all_policies_above_opt(void)
{
	char text[64 * 1024] = "";
	unsigned x = 12345;

	for (int i = 0; i < 5000; i++) {
		x = x * 1103515245u + 12345u;
		/* a hot set of 20 pages and a cold tail of 300 */
		unsigned page = (x >> 16) % 4 ? (x >> 8) % 20 : 20 + (x >> 4) % 300;

		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%u\n", page);
	}
	const char *t = write_file("mix.txt", text);
	struct cmd_result r = run_pflab("sim %s --policy all --frames 16,64 --csv", t);

	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	for (unsigned fr = 16; fr <= 64; fr *= 4) {
		long long opt = csv_faults(r.out, "opt", fr);
		const char *line = r.out;
		int rows = 0;

		CU_ASSERT(opt > 0);
		while ((line = strchr(line, '\n')) && *++line) {
			char pol[64];
			unsigned f;
			unsigned long long refs, faults;

			CU_ASSERT_FATAL(sscanf(strchr(line, ',') + 1, "%63[^,],%u,%llu,%llu", pol, &f,
					       &refs, &faults) == 4);
			if (f != fr)
				continue;
			rows++;
			CU_ASSERT_EQUAL(refs, 5000);
			if ((long long)faults < opt)
				fprintf(stderr, "\n  %s beats opt at %u frames: %llu < %lld\n", pol,
					fr, faults, opt);
			CU_ASSERT((long long)faults >= opt);
		}
		CU_ASSERT(rows >= 17);
	}
	cmd_result_free(&r);
}

/* ../shared/traces/EXPECTED.md, reproduced exactly. */
struct expected {
	const char *trace;   /* under ../shared/traces */
	const char *policy;
	unsigned frames[5];
	long long faults[5];
	size_t n;
};

static const struct expected outside[] = {
	{ "cloudphysics/cloudPhysicsIO.txt", "fifo", { 1000, 5000, 10000 }, { 95520, 91581, 79210 }, 3 },
	{ "cloudphysics/cloudPhysicsIO.txt", "lru", { 1000, 5000, 10000 }, { 94823, 91527, 79438 }, 3 },
	{ "cloudphysics/cloudPhysicsIO.txt", "opt", { 1000, 5000, 10000 }, { 87025, 71311, 61843 }, 3 },
	{ "cloudphysics/cloudPhysicsIO.txt", "clock", { 1000, 5000, 10000 }, { 94908, 91486, 79260 }, 3 },
	{ "arc/OLTP.lis.zst", "fifo", { 1000, 2000, 5000, 10000, 15000 },
	  { 653340, 571918, 459965, 390442, 352647 }, 5 },
	{ "arc/OLTP.lis.zst", "lru", { 1000, 2000, 5000, 10000, 15000 },
	  { 614023, 525910, 423702, 359239, 323294 }, 5 },
	{ "arc/OLTP.lis.zst", "opt", { 1000, 2000, 5000, 10000, 15000 },
	  { 424052, 361996, 290069, 246655, 227275 }, 5 },
	{ "lirs/multi1.txt", "fifo", { 128, 512 }, { 12783, 9349 }, 2 },
	{ "lirs/multi1.txt", "lru", { 128, 512 }, { 12197, 8458 }, 2 },
	{ "lirs/multi1.txt", "opt", { 128, 512 }, { 8049, 6488 }, 2 },
	{ "lirs/multi1.txt", "clock", { 128, 512 }, { 12326, 8649 }, 2 },
	{ "lirs/cpp.txt", "fifo", { 128, 512 }, { 3170, 1578 }, 2 },
	{ "lirs/cpp.txt", "lru", { 128, 512 }, { 2116, 1374 }, 2 },
	{ "lirs/cpp.txt", "opt", { 128, 512 }, { 1412, 1223 }, 2 },
	{ "lirs/cpp.txt", "clock", { 128, 512 }, { 2319, 1411 }, 2 },
};

static void test_expected_md(void)
{
	const char *dir = shared_traces();

	if (!dir) {
		test_skip("../shared/traces is absent: EXPECTED.md not checked");
		return;
	}
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", dir, outside[i].trace);
		check_counts(path, outside[i].policy, outside[i].frames, outside[i].faults,
			     outside[i].n);
	}
}

/* The ARC paper's OLTP LRU hit ratios, as EXPECTED.md quotes them. */
static void test_arc_paper_hit_ratios(void)
{
	const char *dir = shared_traces();
	const double pct[] = { 32.83, 42.47, 53.65, 60.70, 64.63 };
	const unsigned fr[] = { 1000, 2000, 5000, 10000, 15000 };
	struct cmd_result r;

	if (!dir) {
		test_skip("../shared/traces is absent: the ARC paper's numbers not checked");
		return;
	}
	r = run_pflab("sim %s/arc/OLTP.lis.zst --policy lru --frames 1000,2000,5000,10000,15000 --json",
		      dir);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	for (size_t i = 0; i < 5; i++) {
		char key[64];
		const char *row;
		double ratio;

		snprintf(key, sizeof(key), "\"frames\": %u,", fr[i]);
		row = strstr(r.out, key);
		CU_ASSERT_PTR_NOT_NULL_FATAL(row);
		CU_ASSERT_FATAL(sscanf(strstr(row, "\"miss_ratio\": "), "\"miss_ratio\": %lf",
				       &ratio) == 1);
		/* Two decimals of a percentage, as the paper prints them. */
		CU_ASSERT_DOUBLE_EQUAL(100.0 * (1.0 - ratio), pct[i], 0.005);
	}
	cmd_result_free(&r);
}

/* The CSV with its frames column (the third) cut out: the counts alone. */
static char *without_frames(const char *csv)
{
	char *out = malloc(strlen(csv) + 1), *o = out;

	while (*csv) {
		const char *nl = strchrnul(csv, '\n');
		const char *c1 = memchr(csv, ',', (size_t)(nl - csv));
		const char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(nl - c1 - 1)) : NULL;
		const char *c3 = c2 ? memchr(c2 + 1, ',', (size_t)(nl - c2 - 1)) : NULL;

		if (!c3) { /* not a row: a failure the comparison shows */
			free(out);
			return strdup(csv);
		}
		memcpy(o, csv, (size_t)(c2 - csv));
		o += c2 - csv;
		memcpy(o, c3, (size_t)(nl - c3));
		o += nl - c3;
		*o++ = '\n';
		csv = *nl ? nl + 1 : nl;
	}
	*o = '\0';
	return out;
}

/*
 * A machine is sized by the trace, not by --frames: every policy with the
 * largest frame count on 5,000 references of 800 possible pages, in 1 GiB
 * of address space, gives exactly the counts of as many frames as distinct
 * pages: each page faults once and nothing is evicted. Per-frame
 * allocation needs 8 GiB or more. Streaming (txt) and a whole trace held
 * for OPT (opt in the list) both, and a free pool.
 */
static void test_frames_beyond_pages(void)
{
	const char *dir = scratch_dir();
	const char *limit = "ulimit -v 1048576 &&";
	struct cmd_result g, big, exact;
	unsigned distinct = 0;

#ifdef __SANITIZE_ADDRESS__
	test_skip("ASan reserves terabytes of address space: no RLIMIT_AS under SAN=1");
	return;
#endif
	g = run_pflab("trace gen zipf --pages 800 --refs 5000 --write-ratio 0.3 -f rw -o %s/big.rw"
		      " && '%s' trace info %s/big.rw", dir, pflab_path(), dir);
	CU_ASSERT_EQUAL_FATAL(g.status, 0);
	CU_ASSERT_FATAL(strstr(g.out, "distinct pages: ") != NULL);
	CU_ASSERT_FATAL(sscanf(strstr(g.out, "distinct pages: "), "distinct pages: %u", &distinct) == 1);
	CU_ASSERT_FATAL(distinct > 600 && distinct < 800);
	cmd_result_free(&g);

	for (int pool = 0; pool < 2; pool++) {
		const char *pol = pool ? "lru,clock,opt,aging --pool-low 2 --pool-high 4" : "all";
		char *a, *b;
		char row[128];

		big = run_shell("%s '%s' sim %s/big.rw --policy %s --frames 2147483647 --csv", limit,
				pflab_path(), dir, pol);
		/* With a pool, high + 1 frames more keep its daemon asleep too. */
		exact = run_shell("'%s' sim %s/big.rw --policy %s --frames %u --csv", pflab_path(), dir,
				  pol, distinct + (pool ? 5 : 0));
		if (big.status != 0)
			fprintf(stderr, "\n  --frames 2147483647 in 1 GiB: exit %d: %s\n", big.status,
				big.err);
		CU_ASSERT_EQUAL(big.status, 0);
		CU_ASSERT_EQUAL_FATAL(exact.status, 0);
		a = without_frames(big.out);
		b = without_frames(exact.out);
		CU_ASSERT_STRING_EQUAL(a, b);
		/* Independently of either run: one fault per page, no eviction. */
		snprintf(row, sizeof(row), ",5000,%u,%.6f,0,%u,0,0,", distinct, distinct / 5000.0,
			 distinct);
		CU_ASSERT_PTR_NOT_NULL(strstr(big.out, row));
		CU_ASSERT_EQUAL(csv_faults(big.out, "opt", 2147483647), distinct);
		CU_ASSERT_EQUAL(csv_faults(big.out, "lru", 2147483647), distinct);
		if (!pool)
			CU_ASSERT_EQUAL(csv_faults(big.out, "ws", 2147483647), distinct);
		free(a);
		free(b);
		cmd_result_free(&big);
		cmd_result_free(&exact);
	}
}

/* --timing: the process's peak memory once, on stderr, not on every row;
 * the table names resident_mean as the CSV does. */
static void test_timing_and_names(void)
{
	const char *t = write_file("timing.txt", BELADY);
	struct cmd_result r = run_pflab("sim %s --policy fifo,lru --frames 3 --csv --timing", t);

	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(r.out, "peak_rss_kib"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",seconds,refs_per_sec\n"));
	CU_ASSERT_EQUAL(strncmp(r.err, "pflab sim: peak_rss_kib ", 24), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " (the whole process, all rows together)\n"));
	CU_ASSERT_EQUAL(strchr(r.err, '\n') - r.err + 1, (long)strlen(r.err));
	cmd_result_free(&r);
	r = run_pflab("sim %s --policy fifo,lru --frames 3 --json --timing", t);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(r.out, "peak_rss_kib"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "peak_rss_kib"));
	cmd_result_free(&r);
	r = run_pflab("sim %s --policy ws --frames 3", t);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, " resident_mean "));
	CU_ASSERT_PTR_NULL(strstr(r.out, "rss_mean"));
	cmd_result_free(&r);
}

/* A long sim shows the references read on a terminal (script(1) gives it
 * one), and nothing on a pipe. */
static void test_progress(void)
{
	const char *dir = scratch_dir();
	struct cmd_result g, r;

	g = run_pflab("trace gen seq --pages 10 --refs 2097152 -f txt -o %s/long.txt", dir);
	CU_ASSERT_EQUAL_FATAL(g.status, 0);
	cmd_result_free(&g);
	r = run_pflab("sim %s/long.txt --policy lru --frames 4", dir);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.err, "");
	cmd_result_free(&r);
	r = run_shell("command -v script >/dev/null || exit 77; "
		      "script -qec \"'%s' sim %s/long.txt --policy lru --frames 4\" /dev/null",
		      pflab_path(), dir);
	if (r.status == 77) {
		test_skip("no script(1) to give pflab a terminal");
		cmd_result_free(&r);
		return;
	}
	CU_ASSERT_EQUAL(r.status, 0);
	/* Every 16 chunks of 65536, then once more at the end, ending the line
	 * (the terminal writes \n as \r\n); the table follows. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\rsim 1048576 references read\rsim 2097152 references read"
					     "\rsim 2097152 references read\r\npolicy "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\r\nlru "));
	cmd_result_free(&r);

	/* mrc reads through the same line, and draws nothing into a pipe. */
	r = run_pflab("mrc %s/long.txt --policy lru --frames 4", dir);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.err, "");
	cmd_result_free(&r);
	r = run_shell("script -qec \"'%s' mrc %s/long.txt --policy lru --frames 4\" /dev/null",
		      pflab_path(), dir);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\rmrc 1048576 references read\rmrc 2097152 references read"
					     "\rmrc 2097152 references read\r\n"));
	cmd_result_free(&r);
}

/* pflab run refuses options that would be silently ignored (checked before
 * any VM is made, so this runs without KVM). */
/* A whole word of text: not preceded or followed by a name's characters. */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = text; (p = strstr(p, word)); p++) {
		bool start = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '-' || p[-1] == '_');
		bool end = !(isalnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '_');

		if (start && end)
			return true;
	}
	return false;
}

/*
 * run --help names every option run accepts (read from its option table in
 * tools/pflab/cmd_run.c, so that a new option without help fails here) and
 * every workload a user can pick (touch and --nops were once missing).
 */
static void test_run_help_complete(void)
{
	static const char *const knobs[] = { "--tick", "--window", "--aging-bits" };
	struct cmd_result r = run_pflab("run --help");
	FILE *f = fopen("tools/pflab/cmd_run.c", "r");
	char line[512], opt[80];
	unsigned options = 0, workloads = 0;
	bool in_table = false;

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f)) {
		char name[64];

		if (strstr(line, "struct option longopts[]"))
			in_table = true;
		else if (in_table && strstr(line, "};"))
			break;
		else if (in_table && sscanf(line, " { \"%63[a-z0-9-]\"", name) == 1) {
			snprintf(opt, sizeof(opt), "--%s", name);
			if (!has_word(r.out, opt))
				printf("\n  run --help does not name %s\n", opt);
			CU_ASSERT_TRUE(has_word(r.out, opt));
			options++;
		}
	}
	fclose(f);
	CU_ASSERT(options >= 30); /* the table was found and read */
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		CU_ASSERT_TRUE(has_word(r.out, knobs[i]));
	for (uint32_t w = 1; w < 64 && strcmp(vmm_workload_name(w), "?"); w++) {
		const char *name = vmm_workload_name(w);

		/* trace is --trace's; bad-* are the tests' broken guests */
		if (!strcmp(name, "trace") || !strncmp(name, "bad-", 4))
			continue;
		if (!has_word(r.out, name))
			printf("\n  run --help does not name workload %s\n", name);
		CU_ASSERT_TRUE(has_word(r.out, name));
		workloads++;
	}
	CU_ASSERT(workloads >= 15);
	cmd_result_free(&r);
}

static void test_run_conflicts(void)
{
	static const struct refusal cases[] = {
		{ "--workload scan --dma pin", "pflab run: --dma goes with --workload dma\n" },
		{ "--workload scan --dma fault", "pflab run: --dma goes with --workload dma\n" },
		{ "--store memory --swap /nonexistent/s",
		  "pflab run: --store memory keeps no swap file: --swap goes with --store file\n" },
		{ "--csv --json", "pflab run: give one of --csv and --json, once\n" },
		/* The range shown is the one that applies. */
		{ "--frames 30001", "pflab run: --frames: '30001' is out of range [1, 30000] with --trap kvm "
				    "(each resident page is a host mapping of its own)\n" },
		{ "--frames 99999999999 --trap uffd",
		  "pflab run: --frames: '99999999999' is out of range [1, 4294967294]\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmd_result r = run_pflab("run --frames 16 %s --policy lru", cases[i].args);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRING_EQUAL(r.err, cases[i].reason);
		CU_ASSERT_STRING_EQUAL(r.out, "");
		cmd_result_free(&r);
	}
}

static CU_TestInfo sim_cli_tests[] = {
	{ "Belady's anomaly (FIFO 9/10, LRU 10/8, OPT 7/6)", test_belady_anomaly },
	{ "textbook string: FIFO 15, LRU 12, OPT 9, CLOCK 14", test_textbook_string },
	{ "one row per (policy, frames), in order", test_matrix_rows },
	{ "dirty victims are written back", test_writebacks },
	{ "bad usage: one line, exit 2", test_refusals },
	{ "a malformed trace names file and line", test_bad_trace_line },
	{ "--help", test_help },
	{ "--jobs: same output as one thread", test_jobs_same_output },
	{ "every policy runs, none beats OPT", test_all_policies_above_opt },
	{ "EXPECTED.md counts, exactly", test_expected_md },
	{ "ARC paper's OLTP LRU hit ratios", test_arc_paper_hit_ratios },
	{ "--timing: peak memory once; resident_mean named alike", test_timing_and_names },
	{ "progress on a terminal only", test_progress },
	{ "run: conflicting options refused", test_run_conflicts },
	{ "run --help names every option and workload", test_run_help_complete },
	{ "--frames 2^31-1 on 800 pages: sized by pages, same counts", test_frames_beyond_pages },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("sim-cli", sim_cli_tests);
