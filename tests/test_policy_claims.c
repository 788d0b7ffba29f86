// SPDX-License-Identifier: MIT
/*
 * What docs/policies.md states, held: every "Checked." figure on the
 * traces of ../shared/traces (skipped, visibly, where they are absent), and
 * --tick 0 as described there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* The faults column of the (policy, frames) row of `sim --csv`, or -1. */
static long long row_faults(const char *csv, const char *policy, unsigned frames)
{
	char key[96];
	const char *row;
	unsigned long long faults;

	snprintf(key, sizeof(key), ",%s,%u,", policy, frames);
	row = strstr(csv, key);
	if (!row || sscanf(row + strlen(key), "%*u,%llu", &faults) != 1)
		return -1;
	return (long long)faults;
}

struct checked {
	const char *trace, *policy;
	unsigned frames;
	long long faults;
};

/* docs/policies.md, "Checked." of lirs and clockpro. */
static const struct checked counts[] = {
	{ "lirs/loop.txt", "lirs", 100, 456099 },
	{ "lirs/loop.txt", "lirs", 200, 406698 },
	{ "lirs/loop.txt", "lirs", 500, 258495 },
	{ "lirs/loop.txt", "clockpro", 100, 456099 },
	{ "lirs/loop.txt", "clockpro", 200, 406698 },
	{ "lirs/loop.txt", "clockpro", 500, 258495 },
	{ "lirs/loop.txt", "lru", 100, 505500 },
	{ "lirs/loop.txt", "lru", 200, 505500 },
	{ "lirs/loop.txt", "lru", 500, 505500 },
	{ "lirs/loop.txt", "opt", 100, 456000 },
	{ "lirs/loop.txt", "opt", 200, 406000 },
	{ "lirs/loop.txt", "opt", 500, 256000 },
	{ "lirs/cpp.txt", "lirs", 100, 2024 },
	{ "lirs/cpp.txt", "lirs", 200, 1427 },
	{ "lirs/cpp.txt", "lirs", 500, 1275 },
	{ "lirs/cpp.txt", "lru", 100, 2740 },
	{ "lirs/cpp.txt", "lru", 200, 1614 },
	{ "lirs/cpp.txt", "lru", 500, 1377 },
	{ "lirs/cpp.txt", "opt", 100, 1582 },
	{ "lirs/cpp.txt", "opt", 200, 1268 },
	{ "lirs/cpp.txt", "opt", 500, 1223 },
	{ "lirs/sprite.txt", "clockpro", 500, 40589 },
	{ "lirs/sprite.txt", "lru", 500, 29074 },
	{ "lirs/sprite.txt", "lirs", 500, 32038 },
};

static void test_checked_counts(void)
{
	const char *dir = shared_traces();

	if (!dir) {
		test_skip("../shared/traces is absent: docs/policies.md's LIRS/CLOCK-Pro figures "
			  "not checked");
		return;
	}
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		const struct checked *c = &counts[i];
		struct cmd_result r = run_pflab("sim '%s/%s' --policy %s --frames %u --csv", dir,
						c->trace, c->policy, c->frames);
		long long got = row_faults(r.out, c->policy, c->frames);

		CU_ASSERT_EQUAL(r.status, 0);
		if (got != c->faults)
			fprintf(stderr, "\n  %s %s %u: %lld faults, docs say %lld\n", c->trace,
				c->policy, c->frames, got, c->faults);
		CU_ASSERT_EQUAL(got, c->faults);
		cmd_result_free(&r);
	}
}

struct ratio {
	const char *policy;
	unsigned frames;
	double hit_pct; /* as the docs print it */
	double tol;     /* half a unit of the last digit printed */
};

/* docs/policies.md: ARC's table on OLTP (two decimals), CLOCK-Pro's and
 * LRU's hit ratios on OLTP quoted with one. */
static const struct ratio oltp[] = {
	{ "arc", 1000, 38.95, 0.005 },  { "arc", 2000, 46.08, 0.005 },
	{ "arc", 5000, 55.25, 0.005 },  { "arc", 10000, 61.87, 0.005 },
	{ "arc", 15000, 65.40, 0.005 }, { "clockpro", 1000, 33.3, 0.05 },
	{ "clockpro", 10000, 57.5, 0.05 }, { "lru", 1000, 32.8, 0.05 },
	{ "lru", 10000, 60.7, 0.05 },
};

static void test_checked_oltp(void)
{
	const char *dir = shared_traces();
	struct cmd_result r;

	if (!dir) {
		test_skip("../shared/traces is absent: docs/policies.md's OLTP figures not checked");
		return;
	}
	r = run_pflab("sim '%s/arc/OLTP.lis.zst' --policy arc,clockpro,lru "
		      "--frames 1000,2000,5000,10000,15000 --csv", dir);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	for (size_t i = 0; i < sizeof(oltp) / sizeof(oltp[0]); i++) {
		long long faults = row_faults(r.out, oltp[i].policy, oltp[i].frames);
		double hit = 100.0 * (1.0 - (double)faults / 914145.0);

		CU_ASSERT(faults > 0);
		if (!(faults > 0) || hit < oltp[i].hit_pct - oltp[i].tol ||
		    hit > oltp[i].hit_pct + oltp[i].tol)
			fprintf(stderr, "\n  OLTP %s %u: %.3f %% hits, docs say %.2f\n",
				oltp[i].policy, oltp[i].frames, hit, oltp[i].hit_pct);
		CU_ASSERT_DOUBLE_EQUAL(hit, oltp[i].hit_pct, oltp[i].tol);
	}
	/* The trace's length, which the ratios divide by. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",arc,1000,914145,"));
	cmd_result_free(&r);
}

/*
 * --tick 0: no tick. Aging's counters never move, every page stays at
 * 100...0 and the tie-break makes it FIFO; NRU runs on the dirty bit and the
 * bits its own scans read. Same faults and write-backs as FIFO for Aging,
 * on a trace where a tick every 5 references makes Aging differ.
 */
static void test_tick_zero(void)
{
	size_t cap = 3000 * 8, len = 0;
	char *text = malloc(cap);
	uint64_t x = 12345;
	const char *t;
	struct cmd_result a0, a5, f, n0;

	CU_ASSERT_FATAL(text != NULL);
	for (unsigned i = 0; i < 3000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		len += (size_t)snprintf(text + len, cap - len, "%c %u\n", (x >> 62) ? 'R' : 'W',
					(unsigned)(x >> 33) % ((x >> 40) % 4 ? 12 : 60));
	}
	t = write_file("tick0.rw", text);
	free(text);
	a0 = run_pflab("sim %s --policy aging --frames 10 --tick 0 --csv", t);
	a5 = run_pflab("sim %s --policy aging --frames 10 --tick 5 --csv", t);
	f = run_pflab("sim %s --policy fifo --frames 10 --csv", t);
	n0 = run_pflab("sim %s --policy nru --frames 10 --tick 0 --csv", t);
	CU_ASSERT_EQUAL(a0.status, 0);
	CU_ASSERT_EQUAL(a5.status, 0);
	CU_ASSERT_EQUAL(f.status, 0);
	CU_ASSERT_EQUAL(n0.status, 0);
	CU_ASSERT(csv_value(f.out, "faults") > 0);
	CU_ASSERT_EQUAL(csv_value(a0.out, "faults"), csv_value(f.out, "faults"));
	CU_ASSERT_EQUAL(csv_value(a0.out, "writebacks"), csv_value(f.out, "writebacks"));
	CU_ASSERT_NOT_EQUAL(csv_value(a5.out, "faults"), csv_value(f.out, "faults"));
	CU_ASSERT(csv_value(n0.out, "faults") > 0);
	cmd_result_free(&a0);
	cmd_result_free(&a5);
	cmd_result_free(&f);
	cmd_result_free(&n0);
}

static CU_TestInfo policy_claims_tests[] = {
	{ "docs/policies.md Checked: LIRS, CLOCK-Pro on loop, cpp, sprite", test_checked_counts },
	{ "docs/policies.md Checked: ARC, CLOCK-Pro, LRU on OLTP", test_checked_oltp },
	{ "--tick 0: no tick (Aging is FIFO)", test_tick_zero },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("policy-claims", policy_claims_tests);
