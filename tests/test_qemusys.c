// SPDX-License-Identifier: MIT
/*
 * `pflab qemu` (docs/qemu.md#pflab-qemu): the QEMU command line built as a
 * library (vmm/qemu/qemu_cmd.h), the standalone guest's protocol
 * (qemu_guest.h), the run's verdict (qemu_run.h), the Linux initramfs
 * (qemu_initramfs.h); then end to end under qemu-system-x86_64: a scan
 * counted by hand, the three-engine cross-validation (pflab run under KVM,
 * pflab qemu under TCG, pflab sim on the capture) with the numbers
 * docs/qemu.md shows, a crashing guest that leaves nothing, KVM, refusals.
 * Tests that need qemu-system-x86_64 (or KVM, or busybox and cpio) skip,
 * saying so, where it is absent. The Linux boot itself takes minutes here:
 * it runs only with PFLAB_LINUX_TEST=1 (docs/testing.md) and in make bench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qemu_cmd.h"
#include "qemu_guest.h"
#include "qemu_initramfs.h"
#include "qemu_run.h"
#include "test.h"

static bool system_usable(void)
{
	struct cmd_result r = run_shell("command -v qemu-system-x86_64");
	bool ok = r.status == 0;

	cmd_result_free(&r);
	if (!ok)
		test_skip("qemu-system-x86_64 is not installed (tools/install-deps installs "
			  "qemu-system-x86)");
	return ok;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- the command line ---- */

static void test_argv_exact(void)
{
	static const char *const want_tcg[] = {
		"qemu-system-x86_64", "-M", "microvm", "-accel", "tcg", "-m", "1041M", "-smp", "1",
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-serial",
		"stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", "g.elf",
		"-initrd", "t.mod", "-append", "workload=trace", "-plugin", "p.so,out=x", NULL,
	};
	static const char *const want_kvm[] = {
		"/q", "-M", "microvm", "-accel", "kvm", "-cpu", "host,-arch-capabilities", "-m",
		"256M", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
		"-no-reboot", "-serial", "file:s.txt", "-device",
		"isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", "bzImage", NULL,
	};
	char err[200] = "";
	char **a = qemu_sys_argv(&(struct qemu_sys_config){
		.accel = QEMU_ACCEL_TCG, .kernel = "g.elf", .initrd = "t.mod",
		.append = "workload=trace", .memory_mib = 1041, .plugin = "p.so,out=x" }, err,
		sizeof(err));
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	for (i = 0; want_tcg[i] && a[i]; i++)
		CU_ASSERT_STRING_EQUAL(a[i], want_tcg[i]);
	CU_ASSERT_PTR_NULL(a[i]);
	CU_ASSERT_PTR_NULL(want_tcg[i]);
	qemu_argv_free(a);
	a = qemu_sys_argv(&(struct qemu_sys_config){ .qemu = "/q", .accel = QEMU_ACCEL_KVM,
						     .kernel = "bzImage", .memory_mib = 256,
						     .serial = "file:s.txt" }, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	for (i = 0; want_kvm[i] && a[i]; i++)
		CU_ASSERT_STRING_EQUAL(a[i], want_kvm[i]);
	CU_ASSERT_PTR_NULL(a[i]);
	CU_ASSERT_PTR_NULL(want_kvm[i]);
	qemu_argv_free(a);
}

static void test_argv_refused(void)
{
	char err[200];

	CU_ASSERT_PTR_NULL(qemu_sys_argv(&(struct qemu_sys_config){ .memory_mib = 64 }, err,
					 sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no kernel"));
	CU_ASSERT_PTR_NULL(qemu_sys_argv(&(struct qemu_sys_config){ .kernel = "k" }, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "0 MiB"));
	CU_ASSERT_PTR_NULL(qemu_sys_argv(&(struct qemu_sys_config){
		.kernel = "k", .memory_mib = QEMU_SYS_MAX_MIB + 1 }, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "MiB"));
	CU_ASSERT_PTR_NULL(qemu_sys_argv(&(struct qemu_sys_config){
		.kernel = "k", .memory_mib = 64, .accel = QEMU_ACCEL_KVM, .plugin = "p.so" }, err,
		sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--accel tcg"));
}

static void test_plugin_option(void)
{
	char *kv[] = { "out=a,b.pft", "policy=lru" };
	char *s = qemu_plugin_option("/x/p.so", kv, 2);

	CU_ASSERT_STRING_EQUAL(s, "/x/p.so,out=a,,b.pft,policy=lru");
	free(s);
	s = qemu_plugin_option("p.so", kv, 0);
	CU_ASSERT_STRING_EQUAL(s, "p.so");
	free(s);
}

/* ---- the guest's protocol ---- */

static void test_guest_protocol(void)
{
	struct qemu_guest_exit e;
	char buf[200];

	CU_ASSERT_EQUAL(qemu_guest_cmdline(&(struct qemu_guest_params){
		.workload = "scan", .pages = 64, .passes = 2, .seed = 1, .nops = 0 }, buf,
		sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "workload=scan pages=64 passes=2 seed=1 nops=0");
	CU_ASSERT_EQUAL(qemu_guest_cmdline(&(struct qemu_guest_params){ .workload = "scan" }, buf,
					   10), -1);
	CU_ASSERT_EQUAL(qemu_guest_data_range(64, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "0x40000000-0x40040000");
	/* 1 GiB below the data, the data rounded up to MiB, the module, 16 MiB. */
	CU_ASSERT_EQUAL(qemu_guest_memory_mib(64, 0), 1024 + 1 + 16);
	CU_ASSERT_EQUAL(qemu_guest_memory_mib(256, 1), 1024 + 1 + 1 + 16);
	CU_ASSERT_EQUAL(qemu_guest_memory_mib(257, 0), 1024 + 2 + 16);
	CU_ASSERT(qemu_guest_exit_parse("pflab-exit status=1 refs=128 errors=3", &e));
	CU_ASSERT_EQUAL(e.status, 1);
	CU_ASSERT_EQUAL(e.refs, 128);
	CU_ASSERT_EQUAL(e.errors, 3);
	CU_ASSERT(!qemu_guest_exit_parse("pflab-exit status=1 refs=128 errors=3 x", &e));
	CU_ASSERT(!qemu_guest_exit_parse("pflab-exit status=1 refs=128", &e));
	CU_ASSERT(!qemu_guest_exit_parse("guest| pflab-exit status=0 refs=1 errors=0", &e));
	/* Strict: no missing space, sign, space before a number or empty number (the fuzzer's). */
	CU_ASSERT(!qemu_guest_exit_parse("pflab-exitstatus=1 refs=99 errors=3", &e));
	CU_ASSERT(!qemu_guest_exit_parse("pflab-exit status=+1 refs=99 errors=3", &e));
	CU_ASSERT(!qemu_guest_exit_parse("pflab-exit status= 1 refs=99 errors=3", &e));
	CU_ASSERT(!qemu_guest_exit_parse("pflab-exit status=1 refs= errors=3", &e));
	CU_ASSERT(!qemu_guest_exit_parse("pflab-exit status=4294967296 refs=1 errors=3", &e));
}

static void test_verdict(void)
{
	struct qemu_run_result r = { .status = 1, .exit_seen = true };
	char why[300];

	CU_ASSERT_EQUAL(qemu_run_verdict(&r, why, sizeof(why)), 0);
	r.status = 0;      /* -no-reboot after a triple fault */
	CU_ASSERT_EQUAL(qemu_run_verdict(&r, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "did not exit through isa-debug-exit"));
	r.status = 1;
	r.exit_seen = false; /* the exit code alone: a guest that did not say so */
	CU_ASSERT_EQUAL(qemu_run_verdict(&r, why, sizeof(why)), -1);
	r = (struct qemu_run_result){ .status = 3, .exit_seen = true, .exit = { .status = 1 } };
	CU_ASSERT_EQUAL(qemu_run_verdict(&r, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "status 1 (data mismatch)"));
	r.exit.status = 2; /* says 2, QEMU says 1 */
	CU_ASSERT_EQUAL(qemu_run_verdict(&r, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "said status 2"));
	r = (struct qemu_run_result){ .status = 128 + 9, .exit_seen = true };
	CU_ASSERT_EQUAL(qemu_run_verdict(&r, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "signal 9"));
	r = (struct qemu_run_result){ .status = QEMU_RUN_NOEXEC };
	CU_ASSERT_EQUAL(qemu_run_verdict(&r, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "could not be started"));
}

/* The console is read line by line, echoed with the prefix, the exit line picked out. */
static void test_run_console(void)
{
	char out[600];
	char *argv[] = { "sh", "-c",
			 "printf 'one\\r\\npflab-exit status=0 refs=7 errors=0\\nlast'; exit 1", NULL };
	struct qemu_run_result r;
	FILE *echo;
	char *text;
	size_t len;

	snprintf(out, sizeof(out), "%s/console.txt", scratch_dir());
	echo = fopen(out, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(echo);
	CU_ASSERT_EQUAL(qemu_run(argv, echo, "g| ", NULL, 0, &r), 0);
	fclose(echo);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(r.exit_seen);
	CU_ASSERT_EQUAL(r.exit.refs, 7);
	CU_ASSERT_EQUAL(r.lines, 3);
	text = NULL;
	{
		FILE *f = fopen(out, "r");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		text = calloc(1, 600);
		len = fread(text, 1, 599, f);
		fclose(f);
		(void)len;
	}
	CU_ASSERT_STRING_EQUAL(text, "g| one\ng| pflab-exit status=0 refs=7 errors=0\ng| last\n");
	free(text);
}

/* A child still running at the deadline is killed, and the verdict says so. */
static void test_run_timeout(void)
{
	char *argv[] = { "sh", "-c", "echo started; exec sleep 60", NULL };
	struct qemu_run_result r;
	char why[200];

	CU_ASSERT_EQUAL(qemu_run(argv, NULL, NULL, NULL, 200, &r), 0);
	CU_ASSERT(r.timed_out);
	CU_ASSERT_EQUAL(r.status, 128 + 9);
	/* Whether "started" came within 200 ms depends on the machine's load: not asserted. */
	CU_ASSERT_EQUAL(qemu_run_verdict(&r, why, sizeof(why)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "timed out"));
}

/* ---- the Linux initramfs ---- */

/* Whether cpio and /bin/busybox are here; if not, test_skip() says so. */
static bool initramfs_tools(void)
{
	struct cmd_result r = run_shell("(command -v cpio && test -x /bin/busybox)");
	bool ok = r.status == 0;

	cmd_result_free(&r);
	if (!ok)
		test_skip("cpio or /bin/busybox is absent (tools/install-deps installs busybox-static)");
	return ok;
}

static void test_initramfs(void)
{
	const char *dir = scratch_dir();
	char root[600], out[600], err[600];
	struct cmd_result r;

	if (!initramfs_tools())
		return;
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(out, sizeof(out), "%s/initramfs.cpio", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(root, 0700), 0);
	CU_ASSERT_EQUAL_FATAL(qemu_initramfs_build("/bin/busybox", write_file("w.sh", "echo hello\n"),
						   root, NULL, out, err, sizeof(err)), 0);
	r = run_shell("(cpio -t < '%s')", out);
	CU_ASSERT_EQUAL(r.status, 0);
	if (r.status)
		printf("\n  cpio -it: %s%s\n", r.out, r.err);
	CU_ASSERT_STRING_EQUAL(r.out, "init\nworkload\nbin\nbin/busybox\nbin/sh\ndev\nproc\nsys\ntmp\n");
	cmd_result_free(&r);
	/* /init as an archive member: runs /workload, reports, writes the status to 0xf4. */
	r = run_shell("(mkdir '%s/x' && cpio -i --quiet -D '%s/x' init workload < '%s' && "
		      "cat '%s/x/workload' && grep -c 'seek=244' '%s/x/init' && "
		      "grep -Fc 'pflab-exit status=$s' '%s/x/init' && "
		      "sed -n 3p '%s/x/init')", dir, dir, out, dir, dir, dir, dir);
	CU_ASSERT_EQUAL(r.status, 0);
	/* Its first command installs busybox's applets: nothing else would be found. */
	CU_ASSERT_STRING_EQUAL(r.out, "echo hello\n1\n1\n/bin/busybox --install -s /bin\n");
	cmd_result_free(&r);
	/* A missing busybox is refused, and the archive is not left behind. */
	unlink(out);
	snprintf(root, sizeof(root), "%s/root2", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(root, 0700), 0);
	CU_ASSERT_EQUAL(qemu_initramfs_build("/nonexistent/busybox", write_file("w.sh", "true\n"),
					     root, NULL, out, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/busybox"));
	CU_ASSERT_NOT_EQUAL(access(out, F_OK), 0);
	/* cpio that cannot run: refused, and the half-made archive removed. */
	snprintf(root, sizeof(root), "%s/root3", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(root, 0700), 0);
	CU_ASSERT_EQUAL(qemu_initramfs_build("/bin/busybox", write_file("w.sh", "true\n"), root,
					     "/nonexistent/cpio", out, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/cpio -o -H newc failed to start"));
	CU_ASSERT_NOT_EQUAL(access(out, F_OK), 0);
}

/*
 * pflab qemu --kernel --script builds its initramfs from a tree two levels
 * deep in its temporary directory (root/bin/busybox): a run, even one whose
 * QEMU fails at once, leaves nothing of it in $TMPDIR.
 */
static void test_qemu_initramfs_tree_removed(void)
{
	char tmp[600];
	struct cmd_result r;

	if (!initramfs_tools())
		return;
	snprintf(tmp, sizeof(tmp), "%s/qemu-tree-tmp", scratch_dir());
	CU_ASSERT_EQUAL_FATAL(mkdir(tmp, 0755), 0);
	r = run_shell("(TMPDIR='%s' '%s' qemu --kernel '%s' --script '%s' --qemu /bin/false "
		      ">/dev/null 2>&1; echo \"status $?\"; ls -A '%s')",
		      tmp, pflab_path(), write_file("qemu-tree-kernel", "not a kernel\n"),
		      write_file("qemu-tree.sh", "echo hi\n"), tmp);
	CU_ASSERT_STRING_EQUAL(r.out, "status 1\n");
	cmd_result_free(&r);
}

/* ---- end to end ---- */

/* A scan of 64 pages, twice: 128 whole-page passes of 512 words each. */
static void test_scan_by_hand(void)
{
	char pft[600];
	struct cmd_result r;

	if (!system_usable())
		return;
	snprintf(pft, sizeof(pft), "%s/scan.pft", scratch_dir());
	r = run_pflab("qemu --workload scan --pages 64 --policy fifo,lru --frames 16,64 --csv --out '%s'",
		      pft);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "guest| pflab guest: workload scan, 64 pages\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab qemu: guest made 128 page references, 0 mismatches\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab qemu: 65536 references (32768 writes) to 64 pages"));
	/* FIFO and LRU at 16 frames: every page pass misses; half are dirty victims. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "scan,fifo,16,65536,128,0.001953,64,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "scan,lru,16,65536,128,0.001953,64,"));
	/* 64 frames hold everything: 64 first touches, no write-back. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "scan,fifo,64,65536,64,0.000977,0,"));
	CU_ASSERT_EQUAL(count_lines(r.out), 5);
	cmd_result_free(&r);
	r = run_pflab("trace info '%s'", pft);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "65536"));
	cmd_result_free(&r);
}

/* Faults and write-backs of the CSV row whose policy column (the second) is policy. */
static bool row(const char *csv, const char *policy, long *faults, long *writebacks)
{
	for (const char *line = csv; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char name[32];
		long frames, refs;
		double ratio;

		if (sscanf(line, "%*[^,],%31[^,],%ld,%ld,%ld,%lf,%ld", name, &frames, &refs, faults,
			   &ratio, writebacks) == 6 && strcmp(name, policy) == 0)
			return true;
	}
	return false;
}

/*
 * The three engines on one trace (600 references to 50 pages, Zipf 0.8,
 * 30 % writes): FIFO, CLOCK, OPT and Random agree exactly; LRU, ARC and
 * LIRS agree between pflab qemu and pflab sim on the capture, and the
 * numbers are docs/qemu.md's table.
 */
static void test_three_engines(void)
{
	static const struct {
		const char *policy;
		long kvm_f, kvm_w, qemu_f, qemu_w, trace_f, trace_w;
	} want[] = {
		{ "fifo", 348, 143, 348, 143, 348, 143 },
		{ "clock", 335, 137, 335, 137, 335, 137 },
		{ "opt", 183, 76, 183, 76, 183, 76 },
		{ "random", 351, 139, 351, 139, 351, 139 },
		{ "lru", 348, 143, 323, 131, 323, 131 },
		{ "arc", 348, 143, 323, 131, 298, 111 },
		{ "lirs", 319, 118, 323, 131, 274, 95 },
	};
	const char *pols = "fifo,clock,opt,random,lru,arc,lirs";
	char trace[600], pft[600];
	struct cmd_result gen, q, simcap, simtrace;
	bool kvm;

	if (!system_usable())
		return;
	snprintf(trace, sizeof(trace), "%s/three.rw", scratch_dir());
	snprintf(pft, sizeof(pft), "%s/three.pft", scratch_dir());
	gen = run_pflab("trace gen zipf --pages 50 --refs 600 --alpha 0.8 --write-ratio 0.3 --seed 7 "
			"-o '%s' --format rw", trace);
	CU_ASSERT_EQUAL_FATAL(gen.status, 0);
	q = run_pflab("qemu --trace '%s' --policy %s --frames 12 --csv --quiet --out '%s'", trace,
		      pols, pft);
	CU_ASSERT_EQUAL_FATAL(q.status, 0);
	simcap = run_pflab("sim '%s' --policy %s --frames 12 --csv", pft, pols);
	simtrace = run_pflab("sim '%s' --policy %s --frames 12 --csv", trace, pols);
	CU_ASSERT_EQUAL_FATAL(simcap.status, 0);
	CU_ASSERT_EQUAL_FATAL(simtrace.status, 0);
	kvm = kvm_usable();
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		long qf = -1, qw = -1, sf = -2, sw = -2, tf = -3, tw = -3, kf = -4, kw = -4;

		CU_ASSERT(row(q.out, want[i].policy, &qf, &qw));
		CU_ASSERT(row(simcap.out, want[i].policy, &sf, &sw));
		CU_ASSERT(row(simtrace.out, want[i].policy, &tf, &tw));
		/* pflab qemu == pflab sim on the capture, every policy. */
		CU_ASSERT_EQUAL(qf, sf);
		CU_ASSERT_EQUAL(qw, sw);
		CU_ASSERT_EQUAL(qf, want[i].qemu_f);
		CU_ASSERT_EQUAL(qw, want[i].qemu_w);
		CU_ASSERT_EQUAL(tf, want[i].trace_f);
		CU_ASSERT_EQUAL(tw, want[i].trace_w);
		if (kvm) {
			struct cmd_result k = run_pflab("run --trace '%s' --policy %s --frames 12 --csv",
							trace, want[i].policy);

			CU_ASSERT_EQUAL(k.status, 0);
			CU_ASSERT(row(k.out, want[i].policy, &kf, &kw));
			CU_ASSERT_EQUAL(kf, want[i].kvm_f);
			CU_ASSERT_EQUAL(kw, want[i].kvm_w);
			/* The faults-only policies: the three engines agree. */
			if (i < 4) {
				CU_ASSERT_EQUAL(kf, qf);
				CU_ASSERT_EQUAL(kw, qw);
			}
			cmd_result_free(&k);
		}
		if (qf != want[i].qemu_f || tf != want[i].trace_f || (kvm && kf != want[i].kvm_f))
			printf("\n  %s: kvm %ld/%ld qemu %ld/%ld sim-capture %ld/%ld sim-trace %ld/%ld\n",
			       want[i].policy, kf, kw, qf, qw, sf, sw, tf, tw);
	}
	/* 600 references of 512 accesses each, 49 distinct pages (Zipf missed one). */
	CU_ASSERT_PTR_NOT_NULL(strstr(q.err, "pflab qemu: 307200 references"));
	CU_ASSERT_PTR_NOT_NULL(strstr(q.err, "to 49 pages"));
	cmd_result_free(&gen);
	cmd_result_free(&q);
	cmd_result_free(&simcap);
	cmd_result_free(&simtrace);
}

/* docs/qemu.md's Belady string under TCG: 9 faults at 3 frames, 10 at 4, as pflab sim. */
static void test_belady(void)
{
	struct cmd_result r;

	if (!system_usable())
		return;
	r = run_pflab("qemu --trace '%s' --policy fifo --frames 3,4 --csv --quiet",
		      write_file("belady.txt", "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n"));
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",fifo,3,6144,9,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",fifo,4,6144,10,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab qemu: 6144 references (0 writes) to 5 pages\n"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "guest|")); /* --quiet */
	cmd_result_free(&r);
}

/* The same guest under KVM: no plugin, the guest's own count. */
static void test_kvm_accel(void)
{
	struct cmd_result r;

	if (!system_usable() || !kvm_usable())
		return;
	r = run_pflab("qemu --accel kvm --workload stride --pages 40");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab qemu: guest made 80 page references, 0 mismatches"));
	cmd_result_free(&r);
}

/* A guest that crashes (ud2, no IDT: a triple fault) fails the run; --out is not written. */
static void test_crash_leaves_nothing(void)
{
	char out[600];
	struct cmd_result r;
	struct stat st;

	if (!system_usable())
		return;
	snprintf(out, sizeof(out), "%s/crash.pft", scratch_dir());
	r = run_pflab("qemu --workload bad-ud --out '%s'", out);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "did not exit through isa-debug-exit"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "nothing written"));
	CU_ASSERT_NOT_EQUAL(stat(out, &st), 0);
	cmd_result_free(&r);
	r = run_shell("(ls -A '%s' | grep -c crash)", scratch_dir());
	CU_ASSERT_STRING_EQUAL(r.out, "0\n");
	cmd_result_free(&r);
}

/* A guest that spins forever is killed at --timeout; exit 1, nothing written. */
static void test_timeout(void)
{
	char out[600];
	struct cmd_result r;

	if (!system_usable())
		return;
	snprintf(out, sizeof(out), "%s/spin.pft", scratch_dir());
	r = run_pflab("qemu --workload bad-loop --timeout 1s --out '%s'", out);
	CU_ASSERT_EQUAL(r.status, 1);
	/* Not asserted: how far the guest got in 1 s (a loaded machine may not
	 * even have booted it); only that it never ends on its own. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab qemu: timed out"));
	CU_ASSERT_NOT_EQUAL(access(out, F_OK), 0);
	cmd_result_free(&r);
}

static void test_refusals(void)
{
	static const struct { const char *args, *why; } bad[] = {
		{ "--accel xen", "not tcg or kvm" },
		{ "--accel kvm --out x.pft", "need --accel tcg" },
		{ "--workload restart-push", "not one pflab's guest runs standalone" },
		{ "--workload nope", "not one pflab's guest runs standalone" },
		{ "--trace t.rw --workload scan", "no --workload" },
		{ "--kernel k --workload scan", "--kernel runs Linux" },
		{ "--kernel k", "--script" },
		{ "--script s", "need --kernel" },
		{ "--kernel /nonexistent/k --script s", "/nonexistent/k" },
		{ "--kind all --out x.pft", "no physical address" },
		{ "--policy lru", "go together" },
		{ "--out x.pft --csv", "--policy" },
		{ "--rw", "need --out" },
		{ "--pages 0", "pflab qemu: --pages: '0' is out of range [1, 524288]\n" },
		{ "--memory 4", "--memory" },
		{ "--timeout 0", "--timeout" },
		{ "--policy lru --frames 4 --plugin /nonexistent.so", "cannot find the plugin" },
		{ "--policy nope --frames 4", "unknown policy" },
		{ "--out /nonexistent-dir/x.pft", "nonexistent-dir" },
		{ "stray", "unexpected argument" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cmd_result r = run_pflab("qemu %s", bad[i].args);

		if (r.status != 2 || !strstr(r.err, bad[i].why))
			fprintf(stderr, "\n  qemu %s: status %d, '%s'\n", bad[i].args, r.status, r.err);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, bad[i].why));
		CU_ASSERT_EQUAL(count_lines(r.err), 1);
		cmd_result_free(&r);
	}
	{
		/* A bad trace: its file and line, once (it was freed twice). */
		char *bad_trace = write_file("qemu-bad-trace.txt", "1\nzz\n");
		struct cmd_result r = run_pflab("qemu --trace %s --policy lru --frames 10", bad_trace);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "qemu-bad-trace.txt:2: 'zz' is not a page number"));
		CU_ASSERT_EQUAL(count_lines(r.err), 1);
		cmd_result_free(&r);
	}
	{
		struct cmd_result r = run_pflab("qemu --help");

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "usage: pflab qemu"));
		cmd_result_free(&r);
	}
}

/* The Linux guest's command line without booting it: initramfs built, kernel line, no range. */
static void test_linux_dry_run(void)
{
	struct cmd_result r;

	r = run_shell("(command -v cpio && test -x /bin/busybox)");
	if (r.status != 0) {
		cmd_result_free(&r);
		test_skip("cpio or /bin/busybox is absent (tools/install-deps installs busybox-static)");
		return;
	}
	cmd_result_free(&r);
	r = run_pflab("qemu --kernel /bin/sh --script tools/qemu-linux-workload --append 'x=1' "
		      "--policy lru --frames 64 --dry-run");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "-kernel\n/bin/sh\n-initrd\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "initramfs.cpio\n-append\n" QEMU_LINUX_CMDLINE " x=1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\n256M\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "libpflab-qemu.so,results="));
	CU_ASSERT_PTR_NULL(strstr(r.out, "range="));
	cmd_result_free(&r);
	/* pflab's guest: the data region is the range. */
	r = run_pflab("qemu --pages 64 --out x.pft --dry-run");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",range=0x40000000-0x40040000,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nworkload=scan pages=64 passes=2 seed=1 nops=0\n"));
	cmd_result_free(&r);
}

/* Opt-in (PFLAB_LINUX_TEST=1; minutes here): Debian's kernel boots, runs the workload, exits 0. */
static void test_linux_boot(void)
{
	char pft[600];
	struct cmd_result r;

	if (!getenv("PFLAB_LINUX_TEST")) {
		test_skip("the Linux boot takes minutes under TCG: PFLAB_LINUX_TEST=1 runs it");
		return;
	}
	if (!system_usable())
		return;
	snprintf(pft, sizeof(pft), "%s/linux.pft", scratch_dir());
	r = run_pflab("qemu --kernel \"$(ls /boot/vmlinuz-* | tail -1)\" --script tools/qemu-linux-workload "
		      "--out '%s' --zstd --policy lru --frames 1024 --csv", pft);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "guest| pflab-exit status=0"));
	cmd_result_free(&r);
	r = run_pflab("trace info '%s'", pft);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
}

static CU_TestInfo qemusys_tests[] = {
	{ "qemu argv: exact for TCG with a plugin and for KVM", test_argv_exact },
	{ "qemu argv: no kernel, bad memory, a plugin under KVM refused", test_argv_refused },
	{ "plugin option string: commas doubled", test_plugin_option },
	{ "standalone guest: command line, range, memory, exit line", test_guest_protocol },
	{ "run verdict: exit status and the guest's line must agree", test_verdict },
	{ "run: console lines echoed with the prefix, exit line found", test_run_console },
	{ "run: killed at the deadline, the verdict says so", test_run_timeout },
	{ "initramfs: busybox, /init, the script, packed by cpio", test_initramfs },
	{ "qemu --script leaves no initramfs tree behind", test_qemu_initramfs_tree_removed },
	{ "pflab qemu: a scan counted by hand, live and captured", test_scan_by_hand },
	{ "three engines: KVM, TCG and sim agree (FIFO, CLOCK, OPT, Random)", test_three_engines },
	{ "Belady's anomaly under TCG: 9 faults at 3 frames, 10 at 4", test_belady },
	{ "pflab qemu --accel kvm: the guest's own count", test_kvm_accel },
	{ "a crashing guest fails the run and writes nothing", test_crash_leaves_nothing },
	{ "a spinning guest is killed at --timeout, nothing written", test_timeout },
	{ "pflab qemu: bad usage refused with one line, status 2", test_refusals },
	{ "Linux guest: the command line and initramfs (no boot)", test_linux_dry_run },
	{ "Linux guest: boot and capture (PFLAB_LINUX_TEST=1)", test_linux_boot },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("qemusys", qemusys_tests);
