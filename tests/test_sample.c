// SPDX-License-Identifier: MIT
/*
 * Miss-ratio curves: OPT's curve and the sampled curves of any policy
 * (pflab mrc --sample), each against per-size `pflab sim` runs:
 *
 *  - the OPT curve of Belady's string is the textbook's at every size, and
 *    equal to pflab sim's; on random traces of 3000 pages (stacks thousands
 *    deep) it equals pflab sim's at 76 sizes;
 *  - at rate 1 the sample is the trace: every policy's curve equals pflab
 *    sim's fault counts exactly, at every size, on random traces;
 *  - sampled, the mean absolute miss-ratio error against pflab sim is at
 *    most 0.01 for a 50-point curve: at rate 0.1 on a generated trace of
 *    three phases (Zipf, loop, uniform; always) and at rate 0.2 on ../shared's
 *    cloudPhysics trace (skipped, saying so, without it);
 *  - bad --sample values and --exact without --sample are refused with one
 *    line and exit 2; --exact prints the exact curve and the error beside
 *    the estimate, and --plot draws both.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_frames.h"
#include "lab_proc.h"
#include "lab_sample.h"
#include "lab_table.h"
#include "test.h"

/* Column `col` of every data row of a CSV, in order; the row count. */
static size_t csv_column(const char *csv, int col, double *out, size_t max)
{
	const char *p = csv;
	char *f[16];
	size_t n = 0;
	int nf = lab_csv_record(&p, f, 16);

	lab_csv_free(f, nf);
	while ((nf = lab_csv_record(&p, f, 16)) > 0) {
		if (nf > col && n < max)
			out[n++] = strtod(f[col], NULL);
		lab_csv_free(f, nf);
	}
	return n;
}

static void test_opt_golden(void)
{
	const char *t = write_file("opt-belady.txt", "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n");
	struct cmd_result m = run_pflab("mrc '%s' --policy opt --csv", t);
	struct cmd_result s = run_pflab("sim '%s' --policy opt --frames 1:5:+1 --csv", t);
	double faults[5];

	CU_ASSERT_EQUAL(m.status, 0);
	/* Belady's string: OPT faults 7 times with 3 frames (the textbook's). */
	CU_ASSERT_STRING_EQUAL(m.out, "frames,faults,miss_ratio\n"
				      "1,12,1.000000\n2,9,0.750000\n3,7,0.583333\n"
				      "4,6,0.500000\n5,5,0.416667\n");
	CU_ASSERT_EQUAL(s.status, 0);
	CU_ASSERT_EQUAL_FATAL(csv_column(s.out, 4, faults, 5), 5);
	CU_ASSERT_EQUAL(faults[0], 12);
	CU_ASSERT_EQUAL(faults[1], 9);
	CU_ASSERT_EQUAL(faults[2], 7);
	CU_ASSERT_EQUAL(faults[3], 6);
	CU_ASSERT_EQUAL(faults[4], 5);
	cmd_result_free(&m);
	cmd_result_free(&s);
}

/* A random trace of `shape` (0 uniform, 1 loop with noise, 2 hot pages), ids scattered. */
static char *random_trace(const char *name, uint64_t seed, int shape, size_t n, uint32_t pages)
{
	struct test_rng r = { seed };
	char *text = malloc(n * 12 + 1), *path;
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (size_t i = 0; i < n; i++) {
		uint32_t p = shape == 0   ? test_rng_below(&r, pages)
			     : shape == 1 ? (test_rng_below(&r, 8) ? (uint32_t)(i % pages)
								    : test_rng_below(&r, pages))
					  : test_rng_below(&r, pages) * test_rng_below(&r, pages) / pages;

		len += (size_t)sprintf(text + len, "%u\n", p * 7919 + 3);
	}
	text[len] = '\0';
	path = strdup(write_file(name, text));
	free(text);
	return path;
}

/* Every policy that is not a stack algorithm, and the two that are. */
static const char *const policies[] = { "clock", "arc", "lirs", "2q", "s3fifo", "sieve",
					"clockpro", "fifo", "car", "lfu", "random", "lru", "opt" };

static void test_rate_one_is_exact(void)
{
	for (int t = 0; t < 3; t++) {
		char name[32], *path;

		snprintf(name, sizeof(name), "sample-exact-%d.txt", t);
		path = random_trace(name, 40 + (uint64_t)t, t, 3000, 60 + 40 * (uint32_t)t);
		for (size_t k = 0; k < sizeof(policies) / sizeof(policies[0]); k++) {
			struct cmd_result m = run_pflab("mrc '%s' --policy %s --sample 1 --frames 1:200:x1.3 --csv",
							path, policies[k]);
			struct cmd_result s = run_pflab("sim '%s' --policy %s --frames 1:200:x1.3 --csv", path,
							policies[k]);
			double a[64], b[64];
			size_t na = csv_column(m.out, 1, a, 64), nb = csv_column(s.out, 4, b, 64);

			CU_ASSERT_EQUAL(m.status, 0);
			CU_ASSERT_EQUAL(s.status, 0);
			CU_ASSERT(na > 10);
			CU_ASSERT_EQUAL(na, nb);
			for (size_t i = 0; i < na && i < nb; i++) {
				if (a[i] != b[i]) {
					fprintf(stderr, "\n  %s %s row %zu: sampled at 1: %.0f, sim %.0f\n", path,
						policies[k], i, a[i], b[i]);
					CU_FAIL("--sample 1 differs from pflab sim");
					break;
				}
			}
			cmd_result_free(&m);
			cmd_result_free(&s);
		}
		free(path);
	}
}

/*
 * The sampled curve of `policy` at `rate` (its default 50 sizes) against
 * pflab sim at the same sizes: the mean absolute miss-ratio error.
 */
static double sampled_error(const char *trace, const char *policy, const char *rate)
{
	struct cmd_result m = run_pflab("mrc '%s' --policy %s --sample %s --csv", trace, policy, rate);
	double frames[64], est[64], sim[64], sum = 0;
	size_t n = csv_column(m.out, 0, frames, 64);
	uint32_t list[64];
	char *joined;
	struct cmd_result s;

	CU_ASSERT_EQUAL(m.status, 0);
	CU_ASSERT_EQUAL(n, 50);
	CU_ASSERT_EQUAL(csv_column(m.out, 2, est, 64), n);
	for (size_t i = 0; i < n; i++)
		list[i] = (uint32_t)frames[i];
	joined = lab_frames_join(list, n);
	s = run_pflab("sim '%s' --policy %s --frames %s --csv", trace, policy, joined);
	CU_ASSERT_EQUAL(s.status, 0);
	CU_ASSERT_EQUAL(csv_column(s.out, 5, sim, 64), n);
	for (size_t i = 0; i < n; i++)
		sum += fabs(est[i] - sim[i]);
	free(joined);
	cmd_result_free(&m);
	cmd_result_free(&s);
	return n ? sum / (double)n : 1.0;
}

static void test_error_bound_generated(void)
{
	const char *dir = scratch_dir();
	char path[512];
	struct cmd_result g;

	snprintf(path, sizeof(path), "%s/sample-phases.pft", dir);
	g = run_pflab("trace gen phases --phases 'zipf:0.8:100000:200000,loop:8000:100000,"
		      "uniform:30000:100000' --seed 3 -o '%s'", path);
	CU_ASSERT_EQUAL_FATAL(g.status, 0);
	cmd_result_free(&g);
	for (int k = 0; k < 3; k++) {
		const char *policy = (const char *[]){ "arc", "clock", "lirs" }[k];
		double e = sampled_error(path, policy, "0.1");

		if (e > 0.01)
			fprintf(stderr, "\n  phases %s: mean absolute error %.4f\n", policy, e);
		CU_ASSERT(e <= 0.01);
	}
}

static void test_error_bound_shared(void)
{
	const char *dir = shared_traces();
	char path[512];

	if (!dir) {
		test_skip("../shared/traces is absent: the sampled curve's error on cloudPhysics not checked");
		return;
	}
	snprintf(path, sizeof(path), "%s/cloudphysics/cloudPhysicsIO.txt", dir);
	for (int k = 0; k < 2; k++) {
		const char *policy = (const char *[]){ "arc", "s3fifo" }[k];
		double e = sampled_error(path, policy, "0.2");

		if (e > 0.01)
			fprintf(stderr, "\n  cloudPhysics %s: mean absolute error %.4f\n", policy, e);
		CU_ASSERT(e <= 0.01);
	}
}

static void test_bad_rates(void)
{
	const char *t = write_file("sample-bad.txt", "1\n2\n1\n");
	const char *bad[] = { "0", "-0.5", "1.01", "abc", "''", "nan", "1e-9", "0.5x" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cmd_result r = run_pflab("mrc '%s' --policy clock --sample %s", t, bad[i]);
		const char *nl = strchr(r.err, '\n');

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRING_EQUAL(r.out, "");
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab mrc: --sample: "));
		CU_ASSERT(nl && nl[1] == '\0'); /* one line */
		cmd_result_free(&r);
	}
	{
		struct cmd_result r = run_pflab("mrc '%s' --policy clock --exact", t);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRING_EQUAL(r.err, "pflab mrc: --exact compares a sampled curve with the exact "
					      "one: give --sample too\n");
		cmd_result_free(&r);
	}
}

/* --exact: the exact columns equal pflab sim's, the error is their difference. */
static void test_exact_columns(void)
{
	char *path = random_trace("sample-cols.txt", 9, 2, 4000, 300);
	struct cmd_result m = run_pflab("mrc '%s' --policy arc --sample 0.5 --frames 20,40,80 --exact --csv",
					path);
	struct cmd_result s = run_pflab("sim '%s' --policy arc --frames 20,40,80 --csv", path);
	double est[4], exact[4], err[4], sim[4];

	CU_ASSERT_EQUAL(m.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(m.out, "frames,faults,miss_ratio,exact_faults,exact_miss_ratio,error\n"));
	CU_ASSERT_EQUAL_FATAL(csv_column(m.out, 2, est, 4), 3);
	CU_ASSERT_EQUAL_FATAL(csv_column(m.out, 3, exact, 4), 3);
	CU_ASSERT_EQUAL_FATAL(csv_column(m.out, 5, err, 4), 3);
	CU_ASSERT_EQUAL_FATAL(csv_column(s.out, 4, sim, 4), 3);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(exact[i], sim[i]);
		CU_ASSERT(fabs(err[i] - (est[i] - sim[i] / 4000)) < 2e-6);
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(m.err, "error of the sampled miss ratio over 3 sizes: mean absolute "));
	CU_ASSERT_PTR_NOT_NULL(strstr(m.err, "faster (wall)"));
	cmd_result_free(&m);
	cmd_result_free(&s);
	free(path);
}

/* --plot with --exact: one figure, both curves in it. */
static void test_plot_both(void)
{
	char *path = random_trace("sample-plot.txt", 11, 2, 3000, 200);
	char svg[512];
	struct cmd_result m;
	char *text;

	snprintf(svg, sizeof(svg), "%s/sampled.svg", scratch_dir());
	m = run_pflab("mrc '%s' --policy clock --sample 0.5 --frames 10,20,40,80 --exact --plot '%s'",
		      path, svg);
	CU_ASSERT_EQUAL(m.status, 0);
	text = lab_read_file(svg, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "clock, sampled at 0.5"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "exact (per-size runs)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "</svg>"));
	free(text);
	cmd_result_free(&m);
	free(path);
}

/*
 * OPT's curve on traces whose stacks are thousands deep, so that the scan
 * passes whole blocks (lab_stackdist.c), against pflab sim at 76 sizes.
 */
static void test_opt_deep(void)
{
	for (int t = 0; t < 3; t++) {
		char name[32], *path;
		struct cmd_result m, s;
		double a[128], b[128];
		size_t na, nb;

		snprintf(name, sizeof(name), "opt-deep-%d.txt", t);
		path = random_trace(name, 70 + (uint64_t)t, t, 40000, 3000);
		m = run_pflab("mrc '%s' --policy opt --frames 1:3000:x1.09,3000 --csv", path);
		s = run_pflab("sim '%s' --policy opt --frames 1:3000:x1.09,3000 --csv", path);
		na = csv_column(m.out, 1, a, 128);
		nb = csv_column(s.out, 4, b, 128);
		CU_ASSERT_EQUAL(m.status, 0);
		CU_ASSERT_EQUAL(s.status, 0);
		CU_ASSERT_EQUAL(na, 76);
		CU_ASSERT_EQUAL(na, nb);
		for (size_t i = 0; i < na && i < nb; i++) {
			if (a[i] != b[i]) {
				fprintf(stderr, "\n  %s row %zu: mrc %.0f, sim %.0f\n", path, i, a[i], b[i]);
				CU_FAIL("OPT curve differs from pflab sim");
				break;
			}
		}
		cmd_result_free(&m);
		cmd_result_free(&s);
		free(path);
	}
}

/* The sample's arithmetic: T = round(R * 2^24), frames rounded, a hashed sample's size. */
static void test_sample_arithmetic(void)
{
	uint32_t tenth = lab_sample_threshold(0.1), kept = 0;

	CU_ASSERT_EQUAL(tenth, 1677722); /* 0.1 * 2^24 = 1677721.6 */
	CU_ASSERT_EQUAL(lab_sample_threshold(1.0), LAB_SAMPLE_MODULUS);
	CU_ASSERT_EQUAL(lab_sample_threshold(LAB_SAMPLE_RATE_MIN), 1);
	CU_ASSERT_EQUAL(lab_sample_frames(1000, tenth), 100);
	CU_ASSERT_EQUAL(lab_sample_frames(15, tenth), 2);  /* 1.5 rounds up */
	CU_ASSERT_EQUAL(lab_sample_frames(14, tenth), 1);  /* 1.4 rounds down */
	CU_ASSERT_EQUAL(lab_sample_frames(3, tenth), 1);   /* never 0 */
	CU_ASSERT_EQUAL(lab_sample_frames(123457, LAB_SAMPLE_MODULUS), 123457);
	/* Consecutive page numbers: about a tenth kept (binomial sd ~ 95). */
	for (uint64_t p = 0; p < 100000; p++)
		kept += lab_sample_keep(p, tenth);
	CU_ASSERT(kept > 9700 && kept < 10300);
}

/*
 * Without --frames: 50 sizes, geometric from 32/R frames to the distinct
 * pages (docs/lab.md); a trace with fewer pages than 32/R gets one size;
 * an estimate is at most 1.
 */
static void test_default_sizes(void)
{
	char *text = malloc(2000 * 6 + 1), *o = text;
	const char *path;
	struct cmd_result m;
	double frames[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (int i = 0; i < 2000; i++)
		o += sprintf(o, "%d\n", i % 1000);
	path = write_file("sample-sizes.txt", text);
	free(text);
	m = run_pflab("mrc '%s' --policy clock --sample 0.1 --csv", path);
	CU_ASSERT_EQUAL(m.status, 0);
	CU_ASSERT_EQUAL_FATAL(csv_column(m.out, 0, frames, 64), 50);
	CU_ASSERT_EQUAL(frames[0], 320);
	CU_ASSERT_EQUAL(frames[49], 1000);
	for (int i = 1; i < 50; i++)
		CU_ASSERT(frames[i] > frames[i - 1]);
	cmd_result_free(&m);
	/* 19 pages sampled, a loop through 10 frames: 38 misses over the 20
	 * references a 1% sample should hold, 1.9, shown as at most 1. */
	m = run_pflab("mrc '%s' --policy clock --sample 0.01 --csv", path);
	CU_ASSERT_EQUAL(m.status, 0);
	CU_ASSERT_STRING_EQUAL(m.out, "frames,faults,miss_ratio\n1000,2000,1.000000\n");
	cmd_result_free(&m);
}

static CU_TestInfo sample_tests[] = {
	{ "OPT curve of Belady's string: textbook, = pflab sim", test_opt_golden },
	{ "OPT curve = pflab sim, stacks thousands deep", test_opt_deep },
	{ "--sample 1 = pflab sim at every size, every policy", test_rate_one_is_exact },
	{ "--sample 0.1: mean error <= 0.01, generated phases", test_error_bound_generated },
	{ "--sample 0.2: mean error <= 0.01 on cloudPhysics", test_error_bound_shared },
	{ "--sample: bad rates refused, one line, exit 2", test_bad_rates },
	{ "sample threshold, scaled frames, hashed fraction", test_sample_arithmetic },
	{ "--exact: exact columns = pflab sim, error beside", test_exact_columns },
	{ "--exact --plot: both curves in the figure", test_plot_both },
	{ "default sizes: 50, from 32/R to the distinct pages", test_default_sizes },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("sample", sample_tests);
