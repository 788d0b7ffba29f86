// SPDX-License-Identifier: MIT
/*
 * Restart semantics on the real CPU, under KVM (docs/restart.md): each
 * restart-* guest workload runs one instruction against data pages the
 * host has just paged out, and the host's fault log (--fault-log) must be
 * exactly its golden file, tests/golden/restart/NAME.txt: the decoded
 * instruction, which access faulted (and which page part), the registers
 * at each fault, the page-ins, and the guest's own verdict on the
 * registers and bytes the instruction left. Every test is skipped, visibly,
 * where /dev/kvm cannot be opened.
 *
 * To regenerate a golden after a deliberate change, run the command that
 * check_scenario() prints on a mismatch and review the diff.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

#define GOLDEN_DIR "tests/golden/restart"
/* More pages than frames, yet no policy eviction: the scenarios use at
 * most four pages and page them out themselves (HC_EVICT). */
#define RUN_ARGS "--pages 16 --frames 4 --policy fifo --trap kvm --timeout 30s"

static bool goldens_here(void)
{
	struct stat st;

	if (stat(GOLDEN_DIR, &st) != 0) {
		test_skip(GOLDEN_DIR " not found: run from the checkout's top directory");
		return false;
	}
	return true;
}

/* A whole file, NUL-terminated, or NULL. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4097) {
			char *b = realloc(buf, cap = cap * 2 + 8192);

			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* Run scenario name with extra arguments; its fault log goes to log. */
static struct cmd_result run_scenario(const char *name, const char *extra, const char *log)
{
	return run_pflab("run --workload restart-%s " RUN_ARGS " %s --fault-log '%s'", name, extra,
			 log);
}

/* Whether the log equals the golden; if not, the diff on stderr. */
static bool matches_golden(const char *name, const char *log)
{
	char golden[300];
	char *want, *got;
	bool same;

	snprintf(golden, sizeof(golden), GOLDEN_DIR "/%s.txt", name);
	want = read_text(golden);
	got = read_text(log);
	CU_ASSERT_PTR_NOT_NULL(want);
	CU_ASSERT_PTR_NOT_NULL(got);
	same = want && got && strcmp(want, got) == 0;
	free(want);
	free(got);
	return same;
}

static void show_diff(const char *name, const char *log)
{
	struct cmd_result d = run_shell("diff -u '" GOLDEN_DIR "/%s.txt' '%s'", name, log);

	fprintf(stderr, "\nrestart-%s: the fault log differs from its golden:\n%s%s"
		"(to regenerate it, after review: %s run --workload restart-%s " RUN_ARGS
		" --fault-log " GOLDEN_DIR "/%s.txt)\n",
		name, d.out, d.err, pflab_path(), name, name);
	cmd_result_free(&d);
}

static void check_scenario(const char *name)
{
	char log[600];
	struct cmd_result r;

	if (!kvm_usable() || !goldens_here())
		return;
	snprintf(log, sizeof(log), "%s/restart-%s.log", scratch_dir(), name);
	r = run_scenario(name, "", log);
	CU_ASSERT_EQUAL(r.status, 0);
	if (r.status != 0)
		fprintf(stderr, "\nrestart-%s: exit %d\n%s", name, r.status, r.err);
	if (!matches_golden(name, log)) {
		CU_FAIL("the fault log differs from its golden");
		show_diff(name, log);
	}
	cmd_result_free(&r);
}

static void test_movsb(void)
{
	check_scenario("movsb");
}

static void test_repmovsb(void)
{
	check_scenario("repmovsb");
}

static void test_push(void)
{
	check_scenario("push");
}

static void test_straddle(void)
{
	check_scenario("straddle");
}

static void test_fetch(void)
{
	check_scenario("fetch");
}

/*
 * The goldens catch a broken fault path: a byte of page 1's swap slot
 * flipped after its write-back (--corrupt-page) makes movsb's page-in
 * bring back wrong data. The guest finds it, the run fails, and the log
 * no longer matches.
 */
static void test_broken_page_in_fails(void)
{
	char log[600];
	struct cmd_result r;

	if (!kvm_usable() || !goldens_here())
		return;
	snprintf(log, sizeof(log), "%s/restart-movsb-corrupt.log", scratch_dir());
	r = run_scenario("movsb", "--corrupt-page 1", log);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "guest data mismatch: page 1 offset 123"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "restart-movsb: FAILED"));
	CU_ASSERT_FALSE(matches_golden("movsb", log));
	cmd_result_free(&r);
}

/*
 * An instruction restarts from its beginning, so every page it touches
 * must be resident at once. movsb needs two; with one frame each fault
 * evicts the other page and the instruction never completes: the run
 * times out, its log the same two faults over and over.
 */
static void test_one_frame_livelocks(void)
{
	char log[600];
	struct cmd_result r;
	char *text, *p;
	unsigned faults = 0, last = 0;

	if (!kvm_usable())
		return;
	snprintf(log, sizeof(log), "%s/restart-movsb-1frame.log", scratch_dir());
	r = run_pflab("run --workload restart-movsb --pages 16 --frames 1 --policy fifo --trap kvm "
		      "--timeout 1s --fault-log '%s'", log);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "timed out after 1.000 s, still running at rip 0xf00100 "
					     "[a4] movsb"));
	text = read_text(log);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	/* After the set-up, the faults alternate: page 1 read, page 2 write,
	 * page 1 read..., each evicting the other page (but the first). */
	p = strstr(text, "both paged out\n");
	CU_ASSERT_PTR_NOT_NULL(p);
	while (p && (p = strstr(p, "\nfault ")) != NULL) {
		unsigned n, page, frame, victim;
		char kind[8];
		int got = sscanf(p, "\nfault %u: page %u %7s -> frame %u, evicted page %u", &n, &page,
				 kind, &frame, &victim);

		p++;
		CU_ASSERT(got >= 4);
		CU_ASSERT(page == 1 || page == 2);
		CU_ASSERT(page != last);
		CU_ASSERT_STRING_EQUAL(kind, page == 1 ? "read" : "write");
		if (faults > 0)
			CU_ASSERT(got == 5 && victim == 3 - page);
		if (got < 4 || page == last)
			break;
		last = page;
		faults++;
	}
	CU_ASSERT(faults >= 10);
	free(text);
	cmd_result_free(&r);
}

/*
 * isa/ against the CPU: from rep movsb's registers before it ran (the
 * guest prints them: rcx 0x1000, rsi 0x40001800, rdi 0x40003c00) and a
 * fault address, `pflab decode --fault-addr` predicts the iteration and
 * the RCX, RSI and RDI the fault leaves; they must be what the CPU
 * reported at each of the scenario's two faults.
 */
static void test_decoder_predicts_cpu(void)
{
	char log[600];
	struct cmd_result r;
	char *text, *p;
	unsigned checked = 0;

	if (!kvm_usable())
		return;
	snprintf(log, sizeof(log), "%s/restart-repmovsb-decode.log", scratch_dir());
	r = run_scenario("repmovsb", "", log);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	text = read_text(log);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (p = text; (p = strstr(p, "  insn   rip 0xf00100 ")) != NULL; p++) {
		const char *at = strstr(p, " at "), *regs = strstr(p, "\n  regs   ");
		char addr[32], rcx[32], rsi[32], rdi[32], want[120];
		struct cmd_result d;

		CU_ASSERT_FATAL(at && regs);
		CU_ASSERT_FATAL(sscanf(at, " at %31[0-9a-fx]", addr) == 1);
		CU_ASSERT_FATAL(sscanf(regs, "\n  regs   rcx %31s rsi %31s rdi %31s", rcx, rsi, rdi) ==
				3);
		d = run_pflab("decode --arch x86-64 --hex f3a4 --reg rcx=0x1000 --reg rsi=0x40001800 "
			      "--reg rdi=0x40003c00 --fault-addr %s", addr);
		snprintf(want, sizeof(want), "done: rcx %s, rsi %s, rdi %s\n", rcx, rsi, rdi);
		CU_ASSERT_EQUAL(d.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.out, want));
		if (!strstr(d.out, want))
			fprintf(stderr, "\nthe CPU left %s; pflab decode says:\n%s", want, d.out);
		cmd_result_free(&d);
		checked++;
	}
	CU_ASSERT_EQUAL(checked, 2);
	free(text);
}

/* The same instructions under the uffd trap (no decoding there: the vCPU
 * sleeps in the kernel): the guest's checks pass all the same. */
static void test_uffd_trap(void)
{
	static const char *const names[] = { "movsb", "repmovsb", "push", "straddle", "fetch" };

	if (!kvm_usable())
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char ok[80];
		struct cmd_result r = run_pflab("run --workload restart-%s --pages 16 --frames 4 "
						"--trap uffd --timeout 30s", names[i]);

		snprintf(ok, sizeof(ok), "guest| restart-%s: ok: ", names[i]);
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, ok));
		if (r.status != 0)
			fprintf(stderr, "\nrestart-%s (uffd): %s", names[i], r.err);
		cmd_result_free(&r);
	}
}

static void test_bad_usage(void)
{
	struct cmd_result r;

	r = run_pflab("run --workload restart-movsb --fault-log /nonexistent/dir/log");
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab run: --fault-log /nonexistent/dir/log: "));
	cmd_result_free(&r);
	if (!kvm_usable())
		return;
	/* Fewer data pages than a scenario uses: the guest says so, the run fails. */
	r = run_pflab("run --workload restart-push --pages 4 --frames 4 --timeout 30s");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "the restart scenarios need 5 data pages"));
	cmd_result_free(&r);
}

static CU_TestInfo restart_tests[] = {
	{ "movsb: two faults, one instruction", test_movsb },
	{ "rep movsb: faults mid-copy, resumes where it stopped", test_repmovsb },
	{ "push onto a paged-out stack page", test_push },
	{ "an 8-byte load straddling into a paged-out page", test_straddle },
	{ "an instruction fetch straddling into a paged-out page", test_fetch },
	{ "a broken page-in fails the run and the golden", test_broken_page_in_fails },
	{ "one frame: movsb never completes", test_one_frame_livelocks },
	{ "pflab decode predicts the CPU's rep movsb progress", test_decoder_predicts_cpu },
	{ "the scenarios verify under the uffd trap", test_uffd_trap },
	{ "bad usage", test_bad_usage },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("restart", restart_tests);
