// SPDX-License-Identifier: MIT
/*
 * I/O errors (docs/faults.md): the --inject rules and their parser, the
 * pager's contract when its store fails (a failed write-back keeps the page
 * resident and dirty and another victim is tried; a failed page-in changes
 * nothing and says so), a property on random runs that no data is ever
 * lost or stale, whatever fails, under every policy; and end to end under
 * KVM, the errors delivered to the guest, retried, reported, and its data
 * verified.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_rig.h"
#include "pager.h"
#include "store_inject.h"
#include "test.h"

/* ---- the parser ---------------------------------------------------------- */

static void test_parse_rules(void)
{
	struct inject_rule *r;
	size_t n;
	char why[200];

	CU_ASSERT_EQUAL_FATAL(inject_parse("read:eio@every=1000,write:enospc@after=50/times=7,"
					   "write:enxio@at=3,read:etimedout@page=0",
					   &r, &n, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(r[0].op, INJECT_READ);
	CU_ASSERT_EQUAL(r[0].err, EIO);
	CU_ASSERT_EQUAL(r[0].trigger, INJECT_EVERY);
	CU_ASSERT_EQUAL(r[0].n, 1000);
	CU_ASSERT_EQUAL(r[0].times, UINT64_MAX);
	CU_ASSERT_EQUAL(r[1].op, INJECT_WRITE);
	CU_ASSERT_EQUAL(r[1].err, ENOSPC);
	CU_ASSERT_EQUAL(r[1].trigger, INJECT_AFTER);
	CU_ASSERT_EQUAL(r[1].n, 50);
	CU_ASSERT_EQUAL(r[1].times, 7);
	CU_ASSERT_EQUAL(r[2].err, ENXIO);
	CU_ASSERT_EQUAL(r[2].trigger, INJECT_AT);
	CU_ASSERT_EQUAL(r[2].times, 1); /* at=N fires once */
	CU_ASSERT_EQUAL(r[3].err, ETIMEDOUT);
	CU_ASSERT_EQUAL(r[3].trigger, INJECT_PAGE);
	CU_ASSERT_EQUAL(r[3].n, 0);
	free(r);
}

/* Bad rules: one line naming the rule and the reason (golden). */
static void test_parse_errors(void)
{
	static const struct {
		const char *spec, *why;
	} cases[] = {
		{ "", "rule 1 '': expected OP:ERRNO@TRIGGER, e.g. read:eio@every=1000" },
		{ "reed:eio@every=1", "rule 1 'reed:eio@every=1': unknown operation 'reed' (read, write)" },
		{ "read:eoi@every=1",
		  "rule 1 'read:eoi@every=1': unknown errno 'eoi' (eio, enospc, enxio, etimedout)" },
		{ "read:eio", "rule 1 'read:eio': missing '@TRIGGER' after the errno" },
		{ "read:eio@evry=1",
		  "rule 1 'read:eio@evry=1': unknown trigger 'evry' (every, after, at, page)" },
		{ "read:eio@every",
		  "rule 1 'read:eio@every': trigger 'every' wants =N (every=N, after=N, at=N, page=V)" },
		{ "read:eio@every=0",
		  "rule 1 'read:eio@every=0': every wants a whole number of at least 1, not '0'" },
		{ "read:eio@at=-1",
		  "rule 1 'read:eio@at=-1': at wants a whole number of at least 1, not '-1'" },
		{ "read:eio@every=18446744073709551616",
		  "rule 1 'read:eio@every=18446744073709551616': every wants a whole number of at "
		  "least 1, not '18446744073709551616'" },
		{ "write:eio@page=4294967295",
		  "rule 1 'write:eio@page=4294967295': page wants a page number below 4294967295, "
		  "not '4294967295'" },
		{ "read:eio@after=1/time=2",
		  "rule 1 'read:eio@after=1/time=2': unknown modifier '/time=2' (only /times=K)" },
		{ "read:eio@after=1/times=0",
		  "rule 1 'read:eio@after=1/times=0': /times wants a whole number of at least 1, not '0'" },
		{ "read:eio@at=1,", "rule 2 '': expected OP:ERRNO@TRIGGER, e.g. read:eio@every=1000" },
		{ "read:eio@at=1,write:eio@after=x",
		  "rule 2 'write:eio@after=x': after wants a whole number, not 'x'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inject_rule *r = NULL;
		size_t n = 0;
		char why[200] = "";

		CU_ASSERT_EQUAL(inject_parse(cases[i].spec, &r, &n, why, sizeof(why)), -1);
		CU_ASSERT_STRING_EQUAL(why, cases[i].why);
		CU_ASSERT_PTR_NULL(r);
	}
}

/* ---- a pager whose pages carry data (data_rig.h) ----------------------- */

#define rig data_rig

static void rig_init(struct rig *r, const char *policy, uint32_t frames, uint32_t pages,
		     const char *spec)
{
	data_rig_init(r, &(struct data_rig_config){
		.policy = policy, .frames = frames, .pages = pages, .inject = spec,
	});
}

#define rig_fini data_rig_fini
#define access_page data_rig_access
#define check_nothing_lost data_rig_check

/* ---- the pager's contract ------------------------------------------------- */

/*
 * FIFO, 3 frames, pages 0 1 2 written. The first write-back (page 0's)
 * fails: page 0 stays resident and dirty, goes back to the queue as its
 * newest, and page 1 is evicted instead. Page 0 is written when its turn
 * comes again, and nothing was lost.
 */
static void test_writeback_error_tries_next_victim(void)
{
	struct rig r;

	rig_init(&r, "fifo", 3, 8, "write:enospc@at=1");
	for (vpn_t v = 0; v < 3; v++)
		CU_ASSERT_NOT_EQUAL(access_page(&r, v, true, NULL), NO_FRAME);
	CU_ASSERT_NOT_EQUAL(access_page(&r, 3, false, NULL), NO_FRAME);
	CU_ASSERT_EQUAL(r.p->stats.writeback_errors, 1);
	CU_ASSERT_EQUAL(r.p->stats.writebacks, 1);
	CU_ASSERT_EQUAL(r.p->stats.evictions, 1);
	CU_ASSERT_NOT_EQUAL_FATAL(pager_lookup(r.p, 0), NO_FRAME);
	CU_ASSERT_TRUE(pager_dirty(r.p, pager_lookup(r.p, 0)));
	CU_ASSERT_EQUAL(pager_lookup(r.p, 1), NO_FRAME);
	CU_ASSERT_EQUAL(r.data.slot[1], 1);
	/* Queue now 2, 0, 3: page 2 goes next, then page 0, written at last. */
	access_page(&r, 4, false, NULL);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 2), NO_FRAME);
	access_page(&r, 5, false, NULL);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 0), NO_FRAME);
	CU_ASSERT_EQUAL(r.data.slot[0], 1);
	CU_ASSERT_EQUAL(r.inject.nlog, 1);
	CU_ASSERT_EQUAL(r.inject.log[0].vpn, 0);
	CU_ASSERT_EQUAL(r.inject.log[0].seq, 1);
	CU_ASSERT_EQUAL(r.inject.log[0].retry_seq, 4); /* writes: 0 failed, 1, 2, 0 */
	check_nothing_lost(&r);
	rig_fini(&r);
}

/* Every write-back fails: the fault fails once every victim was tried,
 * with a reason; every dirty page is still resident with its data. */
static void test_every_writeback_fails(void)
{
	struct rig r;

	rig_init(&r, "clock", 4, 8, "write:eio@after=0");
	for (vpn_t v = 0; v < 4; v++)
		access_page(&r, v, true, NULL);
	CU_ASSERT_EQUAL(access_page(&r, 4, false, NULL), NO_FRAME);
	CU_ASSERT_EQUAL(r.p->fail, PAGER_FAIL_NO_FRAME);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.p->err, "no frame for page 4: write-back of page"));
	CU_ASSERT_EQUAL(r.p->stats.writeback_errors, 4);
	CU_ASSERT_EQUAL(r.p->stats.resident, 4);
	CU_ASSERT_EQUAL(r.p->nfree, 0);
	for (vpn_t v = 0; v < 4; v++)
		CU_ASSERT_NOT_EQUAL(pager_lookup(r.p, v), NO_FRAME);
	check_nothing_lost(&r);
	rig_fini(&r);
}

/* A failed page-in: nothing changes for the page, its frame is free again,
 * the caller learns it was the page-in and which errno, and a retry reads
 * the right data. */
static void test_pagein_error_changes_nothing(void)
{
	struct rig r;
	frame_t f;

	rig_init(&r, "fifo", 2, 8, "read:eio@at=1");
	access_page(&r, 0, true, NULL);
	access_page(&r, 1, true, NULL);
	access_page(&r, 2, true, NULL); /* evicts 0, written back */
	CU_ASSERT_TRUE(r.p->pt[0].flags & PTE_ON_STORE);
	r.p->now++;
	CU_ASSERT_EQUAL(pager_fault(r.p, 0, ACCESS_READ), NO_FRAME);
	CU_ASSERT_EQUAL(r.p->fail, PAGER_FAIL_PAGE_IN);
	CU_ASSERT_EQUAL(r.p->fail_errno, -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.p->err, "page-in of page 0"));
	CU_ASSERT_EQUAL(r.p->stats.pagein_errors, 1);
	CU_ASSERT_EQUAL(r.p->stats.major, 0);
	CU_ASSERT_EQUAL(pager_lookup(r.p, 0), NO_FRAME);
	CU_ASSERT_TRUE(r.p->pt[0].flags & PTE_ON_STORE);
	CU_ASSERT_EQUAL(r.p->nfree, 1); /* page 1 was evicted for it; its frame is free */
	f = access_page(&r, 0, false, NULL);
	CU_ASSERT_NOT_EQUAL(f, NO_FRAME);
	CU_ASSERT_EQUAL(r.data.frame[f], 1);
	CU_ASSERT_EQUAL(r.p->stats.major, 1);
	CU_ASSERT_EQUAL(r.inject.log[0].retry_seq, 2);
	check_nothing_lost(&r);
	rig_fini(&r);
}

/* The triggers fire exactly where they say. */
static void test_trigger_counts(void)
{
	static const struct {
		const char *spec;
		uint64_t reads, injected;
	} cases[] = {
		{ "read:eio@every=7", 100, 100 / 7 },
		{ "read:eio@every=7/times=5", 100, 5 },
		{ "read:eio@after=90", 100, 10 },
		{ "read:eio@at=50", 100, 1 },
		{ "read:eio@page=3", 100, 10 },          /* pages cycle 0..9 */
		{ "read:eio@at=5,read:eio@every=10", 100, 11 },
		{ "write:eio@every=1", 100, 0 },         /* reads only here */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rig r;
		struct inject_store *s = &r.inject;

		rig_init(&r, "fifo", 1, 10, cases[i].spec);
		for (uint64_t k = 0; k < cases[i].reads; k++)
			s->bs.ops->page_in(&s->bs, (vpn_t)(k % 10), 0);
		CU_ASSERT_EQUAL(s->ops[INJECT_READ], cases[i].reads);
		CU_ASSERT_EQUAL(s->injected[INJECT_READ], cases[i].injected);
		CU_ASSERT_EQUAL(s->nlog, cases[i].injected);
		if (s->injected[INJECT_READ] != cases[i].injected)
			fprintf(stderr, "%s: %llu injected\n", cases[i].spec,
				(unsigned long long)s->injected[INJECT_READ]);
		rig_fini(&r);
	}
}

/*
 * The property: random accesses, random error rules, every policy that
 * runs without the future. Every read sees the last version written, at
 * the end nothing is lost, every injected write error was either written
 * on retry or its page is still resident, every page-in error was resolved
 * by the retry that followed.
 */
static void test_property_no_data_lost(void)
{
	const struct policy_ops *pols[64];
	size_t npol = policy_list(pols, 64);
	uint64_t x = 0x2545f4914f6cdd1dull;

	for (size_t pi = 0; pi < npol; pi++) {
		if (pols[pi]->flags & POLICY_NEEDS_FUTURE)
			continue;
		for (unsigned round = 0; round < 4; round++) {
			char spec[120];
			struct rig r;
			uint32_t frames = 3 + round * 5, pages = 40 + round * 20;
			unsigned retries = 0;
			bool ok = true;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* Writes every >= 3 and one bad page: at most two write-backs
			 * fail in a row, fewer than the frames, so a fault always
			 * finds a victim it can clean (the case where none can is
			 * test_every_writeback_fails). */
			snprintf(spec, sizeof(spec), "read:eio@every=%u,write:enospc@every=%u,"
				 "write:eio@page=%u/times=3", 2 + (unsigned)(x % 9),
				 3 + (unsigned)((x >> 8) % 7), (unsigned)((x >> 16) % pages));
			rig_init(&r, pols[pi]->name, frames, pages, spec);
			for (unsigned k = 0; k < 3000 && ok; k++) {
				vpn_t vpn;

				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				/* A hot quarter and a cold rest, a third writes. */
				vpn = (vpn_t)((x >> 8) % 4 ? (x >> 20) % (pages / 4) : (x >> 20) % pages);
				ok = access_page(&r, vpn, (x >> 40) % 3 == 0, &retries) != NO_FRAME;
			}
			CU_ASSERT_TRUE(ok);
			if (!ok)
				fprintf(stderr, "%s %s: %s\n", pols[pi]->name, spec, r.p->err);
			check_nothing_lost(&r);
			CU_ASSERT(r.inject.injected[INJECT_READ] > 0);
			CU_ASSERT(r.inject.injected[INJECT_WRITE] > 0);
			CU_ASSERT_EQUAL(retries, r.inject.injected[INJECT_READ]);
			CU_ASSERT_EQUAL(r.p->stats.pagein_errors, r.inject.injected[INJECT_READ]);
			CU_ASSERT_EQUAL(r.p->stats.writeback_errors, r.inject.injected[INJECT_WRITE]);
			for (size_t i = 0; i < r.inject.nlog; i++) {
				const struct inject_error *e = &r.inject.log[i];

				if (e->op == INJECT_READ) {
					CU_ASSERT(e->retry_seq == e->seq + 1);
				} else {
					CU_ASSERT(e->retry_seq > e->seq ||
						  pager_lookup(r.p, e->vpn) != NO_FRAME);
				}
			}
			rig_fini(&r);
		}
	}
}

/* ---- end to end under KVM -------------------------------------------------- */

static size_t count_lines(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * Scan 64 pages twice with 16 frames under FIFO (64 zero-fills, 64
 * write-backs, 64 page-ins without errors). Reads 10, 20, ... 70 fail:
 * 71 reads for 64 page-ins, 7 errors, each delivered to the guest's
 * handler, reported, retried. Writes 7, 14, ... 70 fail: 74 writes for 64
 * write-backs, 10 errors, each written on retry. The counts of the
 * error-free run are unchanged and the guest's data verifies.
 */
static void test_kvm_scan_exact(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 64 --frames 16 --policy fifo --csv --timeout 30s "
		      "--inject read:eio@every=10,write:enospc@every=7");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(csv_value(r.out, "faults"), 128);
	CU_ASSERT_EQUAL(csv_value(r.out, "major"), 64);
	CU_ASSERT_EQUAL(csv_value(r.out, "writebacks"), 64);
	CU_ASSERT_EQUAL(csv_value(r.out, "pagein_errors"), 7);
	CU_ASSERT_EQUAL(csv_value(r.out, "writeback_errors"), 10);
	CU_ASSERT_EQUAL(csv_value(r.out, "pgerr_delivered"), 7);
	CU_ASSERT_EQUAL(csv_value(r.out, "pgerr_reported"), 7);
	CU_ASSERT_EQUAL(count_lines(r.err, "kept resident and dirty; written back by write #"), 10);
	CU_ASSERT_EQUAL(count_lines(r.err, "EIO       delivered to the guest (rip 0x"), 7);
	CU_ASSERT_EQUAL(count_lines(r.err, "reported by its handler; read in by read #"), 7);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "  read  #10       page 9       EIO"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "  write #7        page 6       ENOSPC    kept resident "
					     "and dirty; written back by write #23"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err,
		"I/O errors injected: 10 write-backs failed: 10 written on retry, 0 still resident at "
		"the end, 0 lost; 7 page-ins failed: 7 delivered to the guest, 7 reported by its "
		"handler, 7 read in on retry"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "7 page-in errors delivered, each reported and retried"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
	cmd_result_free(&r);
}

/* Every workload, with reads and writes failing often, verifies its data;
 * copy takes its errors in the middle of one `rep movsb`. */
static void test_kvm_workloads_verify(void)
{
	static const char *const workloads[] = { "random", "stride", "matmul", "list", "copy" };

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		struct cmd_result r = run_pflab("run --workload %s --pages 48 --frames 12 --policy clock "
						"--csv --timeout 60s --inject read:eio@every=5,"
						"write:eio@every=4", workloads[i]);

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT(csv_value(r.out, "pagein_errors") > 0);
		CU_ASSERT(csv_value(r.out, "writeback_errors") > 0);
		CU_ASSERT_EQUAL(csv_value(r.out, "pgerr_delivered"), csv_value(r.out, "pagein_errors"));
		CU_ASSERT_EQUAL(csv_value(r.out, "pgerr_reported"), csv_value(r.out, "pagein_errors"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 lost; "));
		CU_ASSERT_PTR_NULL(strstr(r.err, "never read in"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
		if (r.status != 0)
			fprintf(stderr, "workload %s: %s", workloads[i], r.err);
		cmd_result_free(&r);
	}
}

/* A page that can never be read: the guest gets the error 8 times, gives
 * up and says so; it never sees wrong data; the run fails. */
static void test_kvm_unreadable_page(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 64 --frames 16 --policy fifo --csv --timeout 30s "
		      "--inject read:eio@page=5");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_EQUAL(csv_value(r.out, "pgerr_delivered"), 8);
	CU_ASSERT_EQUAL(count_lines(r.err, "page 5       EIO       delivered to the guest"), 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "page-in of page 5 failed 8 times in a row: giving up"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab run: the guest gave up on a page it could not "
					     "read in, after 8 page-in errors delivered"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "mismatch: "));
	cmd_result_free(&r);
}

/* A swap device that is full for good: once every frame is dirty and none
 * can be written, the fault fails and the run stops, every page whose
 * write failed still resident: none lost. */
static void test_kvm_device_full(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --pages 64 --frames 16 --policy fifo --timeout 30s "
		      "--inject write:enospc@after=20");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_EQUAL(count_lines(r.err, "kept resident and dirty; still resident when the run "
					   "ended"), 16);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "16 write-backs failed: 0 written on retry, 16 still "
					     "resident at the end, 0 lost"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab run: pager: no frame for page 36: write-back of "
					     "page 35"));
	cmd_result_free(&r);
}

/* Write errors under the uffd trap work as under kvm. */
static void test_kvm_uffd_write_errors(void)
{
	struct cmd_result r;

	if (!kvm_usable())
		return;
	r = run_pflab("run --workload random --pages 48 --frames 12 --policy fifo --trap uffd --csv "
		      "--timeout 30s --inject write:eio@every=3");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT(csv_value(r.out, "writeback_errors") > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " 0 lost; "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "0 mismatches: data verified"));
	cmd_result_free(&r);
}

static void test_bad_usage(void)
{
	static const struct refused cases[] = {
		{ "run --inject read:eio@every=0",
		  "pflab run: --inject: rule 1 'read:eio@every=0': every wants a whole number of at "
		  "least 1, not '0'\n" },
		{ "run --inject write:eio",
		  "pflab run: --inject: rule 1 'write:eio': missing '@TRIGGER' after the errno\n" },
		{ "run --trap uffd --inject read:eio@at=1",
		  "pflab run: --inject: read errors need --trap kvm: under uffd the vCPU sleeps in the "
		  "kernel and cannot be sent to its error handler\n" },
	};

	check_refused(cases, sizeof(cases) / sizeof(cases[0]));
}

static CU_TestInfo inject_tests[] = {
	{ "--inject rules parse", test_parse_rules },
	{ "bad rules: one line, rule and reason", test_parse_errors },
	{ "triggers fire exactly where they say", test_trigger_counts },
	{ "failed write-back: page kept, next victim taken", test_writeback_error_tries_next_victim },
	{ "every write-back fails: fault fails, nothing lost", test_every_writeback_fails },
	{ "failed page-in changes nothing", test_pagein_error_changes_nothing },
	{ "property: no data lost under any policy", test_property_no_data_lost },
	{ "kvm: scan with errors, exact counts and summary", test_kvm_scan_exact },
	{ "kvm: every workload verifies with errors", test_kvm_workloads_verify },
	{ "kvm: an unreadable page, the guest gives up", test_kvm_unreadable_page },
	{ "kvm: a full device stops the run, nothing lost", test_kvm_device_full },
	{ "kvm: write errors under uffd", test_kvm_uffd_write_errors },
	{ "bad usage exits 2 with one line", test_bad_usage },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("inject", inject_tests);
