// SPDX-License-Identifier: MIT
/*
 * The test runner: registers every TEST_SUITE, runs them with CUnit's basic
 * interface, and ends with CUnit's run summary and the line
 * "N passed, N failed, N skipped". CUnit 2.1-3 sets no exit status: this
 * runner exits 1 when any test or suite failed.
 *
 *   pflab-tests [SUBSTRING...]   run only the suites whose name contains one
 */
#include <CUnit/Basic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

extern const struct test_suite *const __start_pflab_suites[];
extern const struct test_suite *const __stop_pflab_suites[];

static unsigned skipped;

void test_skip(const char *fmt, ...)
{
	va_list ap;

	fputs("SKIP: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs(" ... ", stdout);
	fflush(stdout);
	skipped++;
}

static int by_name(const void *a, const void *b)
{
	const struct test_suite *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static bool wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	size_t n = (size_t)(__stop_pflab_suites - __start_pflab_suites);
	const struct test_suite **suites = malloc(sizeof(*suites) * (n ? n : 1));
	unsigned run, failed, suites_failed;

	if (!suites || CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "pflab-tests: cannot set up CUnit\n");
		return 2;
	}
	memcpy(suites, __start_pflab_suites, sizeof(*suites) * n);
	qsort(suites, n, sizeof(*suites), by_name);

	for (size_t i = 0; i < n; i++) {
		CU_pSuite s;

		if (!wanted(suites[i]->name, argc, argv))
			continue;
		s = CU_add_suite(suites[i]->name, NULL, NULL);
		for (CU_TestInfo *t = suites[i]->tests; s && t->pName; t++)
			CU_add_test(s, t->pName, t->pTestFunc);
	}
	free(suites);

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	suites_failed = CU_get_number_of_suites_failed();
	CU_cleanup_registry();

	printf("\n%u passed, %u failed, %u skipped\n", run - failed - skipped, failed, skipped);
	return failed || suites_failed || run == 0 ? 1 : 0;
}
