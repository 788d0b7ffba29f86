/* SPDX-License-Identifier: MIT */
/*
 * pflab's test harness on CUnit. A test file defines its tests and registers
 * a suite with TEST_SUITE(); runner.c finds every suite through the linker,
 * so adding a test file needs no list to be edited.
 */
#ifndef PFLAB_TEST_H
#define PFLAB_TEST_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct test_suite {
	const char *name;
	CU_TestInfo *tests; /* ending with CU_TEST_INFO_NULL */
};

#define TEST_SUITE(name_, tests_)                                          \
	static const struct test_suite suite_##tests_ = { name_, tests_ }; \
	static const struct test_suite *const suite_ptr_##tests_           \
		__attribute__((used, section("pflab_suites"), aligned(8))) = &suite_##tests_

/* Report a test as skipped (it passes in CUnit's count): say why, visibly. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What running a command gave. */
struct cmd_result {
	int status;  /* exit status, or 128 + signal */
	char *out;   /* stdout, NUL-terminated */
	char *err;   /* stderr */
};

/* Run `$PFLAB <args>` through /bin/sh (args are shell words) and capture it. */
struct cmd_result run_pflab(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run any shell command and capture it. */
struct cmd_result run_shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cmd_result_free(struct cmd_result *r);

/* The pflab binary under test ($PFLAB, default build/pflab). */
const char *pflab_path(void);
/* The build directory ($BUILD, default build). */
const char *build_dir(void);
/* ../shared/traces (or $PFLAB_SHARED_TRACES) if it exists, else NULL. */
const char *shared_traces(void);
/* A fresh scratch directory under the build directory, removed at exit. */
const char *scratch_dir(void);

/* The tests' random numbers: splitmix64, so that a seed gives the same
 * trace on every machine and libc (tests must not depend on rand()). */
struct test_rng {
	uint64_t x;
};
uint64_t test_rng_next(struct test_rng *r);
/* Uniform-ish in [0, n): the modulo bias is irrelevant at these sizes. */
uint32_t test_rng_below(struct test_rng *r, uint32_t n);

/* Whether /dev/kvm can be opened read-write; if not, test_skip() says so. */
bool kvm_usable(void);

/* The value of a named column in the first data row of CSV text (a header
 * line, then rows). A missing header, column or value, or one that is not a
 * number, fails the calling test (and returns -1): two runs that both lose a
 * column must not compare equal. */
long long csv_value(const char *csv, const char *column);

/* Commands that must be refused: each `pflab ARGS` exits 2 with exactly
 * ERR on stderr (one line). A case that is not fails the calling test,
 * printing the command and what it said. */
struct refused {
	const char *args, *err;
};
void check_refused(const struct refused *cases, size_t n);

/* Write a text file; returns its path (static buffer reused per call). */
char *write_file(const char *name, const char *text);

/*
 * `pflab pager --listen unix:DIR/p.sock --frames FRAMES [EXTRA]` (EXTRA: up
 * to three options separated by spaces, or NULL) on a fresh
 * directory under /tmp, its output discarded, killed if the tests die;
 * true once it accepts connections (waited for, bounded). pager_srv_stop:
 * SIGTERM and wait; true if it exited 0 and removed its socket.
 */
struct pager_srv {
	pid_t pid;
	char dir[64], path[128], addr[140];
};
bool pager_srv_start(struct pager_srv *s, unsigned frames, const char *extra);
bool pager_srv_stop(struct pager_srv *s);

#endif /* PFLAB_TEST_H */
