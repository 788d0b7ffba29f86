// SPDX-License-Identifier: MIT
/*
 * Nothing lost: every output pflab writes is complete or absent, a file
 * pflab did not create is never truncated, replaced or removed, and a bad
 * output path is refused before any work. Each test keeps a file that must
 * survive byte for byte, or a target that must not be left half-written.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "outfile.h"
#include "test.h"

static const char keep_text[] = "the user's own bytes\n0123456789\n";

/* A file with keep_text under the scratch dir; returns its path. */
static char *keep_file(const char *name)
{
	return write_file(name, keep_text);
}

static bool survived(const char *path)
{
	char buf[sizeof(keep_text) + 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return n == sizeof(keep_text) - 1 && memcmp(buf, keep_text, n) == 0;
}

/* Entries of dir other than the ones listed (NULL-terminated): leftovers. */
static int leftovers(const char *dir, const char *const *expected)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		bool known = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");

		for (size_t i = 0; expected[i] && !known; i++)
			known = !strcmp(e->d_name, expected[i]);
		if (!known) {
			printf("\n    leftover %s/%s", dir, e->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* A whole small file as a string (NULL if unreadable); free it. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 65537);
	size_t n = f && buf ? fread(buf, 1, 65536, f) : 0;

	if (f)
		fclose(f);
	if (!f || !buf || !n) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A fresh subdirectory of the scratch dir. */
static const char *subdir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", scratch_dir(), name);
	mkdir(path, 0777);
	return path;
}

/* A 6,000-line trace that turns out bad at line 5001. */
static const char *bad_at_5001(void)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bad5001.txt", scratch_dir());
	f = fopen(path, "w");
	for (int i = 1; i <= 5000; i++)
		fprintf(f, "%d\n", i % 97);
	fputs("not-a-page\n", f);
	for (int i = 0; i < 999; i++)
		fprintf(f, "%d\n", i);
	fclose(f);
	return path;
}

static void test_convert_bad_input_keeps_target(void)
{
	const char *dir = subdir("conv");
	char out[600];
	struct cmd_result r;
	const char *const only[] = { "old.pft", NULL };

	snprintf(out, sizeof(out), "%s/old.pft", dir);
	write_file("conv/old.pft", keep_text);
	r = run_pflab("trace convert %s %s", bad_at_5001(), out);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "bad5001.txt:5001:"));
	CU_ASSERT_TRUE(survived(out));
	CU_ASSERT_EQUAL(leftovers(dir, only), 0);
	cmd_result_free(&r);

	/* A good input replaces it, whole. */
	r = run_pflab("trace gen seq --pages 10 --refs 100 -o %s", out);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_FALSE(survived(out));
	CU_ASSERT_EQUAL(leftovers(dir, only), 0);
	cmd_result_free(&r);
	r = run_pflab("trace info %s", out);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "100"));
	cmd_result_free(&r);
}

/*
 * A command stopped by SIGTERM or SIGHUP (or SIGINT) while it writes an
 * output leaves no temporary file and the old output as it was, and dies
 * of the signal (main.c's handler, outfile_remove_all()). A signal ignored
 * when pflab started (nohup's SIGHUP) stays ignored.
 */
static void test_interrupted_leaves_nothing(void)
{
	static const struct { const char *sig; const char *status; } sigs[] = {
		{ "TERM", "status 143\n" }, { "HUP", "status 129\n" },
	};
	const char *dir = subdir("signalled");
	struct sigaction dfl = { .sa_handler = SIG_DFL }, was_hup, was_term;
	char old[600];
	struct cmd_result r;

	/* The children must start with both signals at their default: this
	 * test may itself run under nohup (SIGHUP ignored, and so inherited). */
	sigaction(SIGHUP, &dfl, &was_hup);
	sigaction(SIGTERM, &dfl, &was_term);

	snprintf(old, sizeof(old), "%s/old.txt", dir);
	write_file("signalled/old.txt", keep_text);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		char want[200];

		/* Wait until the temporary file is there, so that the signal
		 * comes while the output is being written. (SIGINT takes the
		 * same handler, but a shell's background job ignores it.) */
		r = run_shell("(('%s' trace gen uniform --pages 100000 --refs 300000000 "
			      "--format txt -o '%s' & pid=$!; "
			      "for i in $(seq 600); do ls -A '%s' | grep -q '^\\.old' && break; sleep 0.05; done; "
			      "kill -%s $pid; wait $pid; echo \"status $?\"); ls -A '%s')",
			      pflab_path(), old, dir, sigs[i].sig, dir);
		snprintf(want, sizeof(want), "%sold.txt\n", sigs[i].status);
		CU_ASSERT_STRING_EQUAL(r.out, want);
		CU_ASSERT_TRUE(survived(old));
		cmd_result_free(&r);
	}
	/* Under nohup, SIGHUP does nothing; SIGTERM still cleans up. */
	r = run_shell("((nohup '%s' trace gen uniform --pages 100000 --refs 300000000 "
		      "--format txt -o '%s' 2>/dev/null & pid=$!; "
		      "for i in $(seq 600); do ls -A '%s' | grep -q '^\\.old' && break; sleep 0.05; done; "
		      "kill -HUP $pid; sleep 0.5; kill -0 $pid && echo alive; "
		      "kill -TERM $pid; wait $pid; echo \"status $?\"); ls -A '%s')",
		      pflab_path(), old, dir, dir);
	CU_ASSERT_STRING_EQUAL(r.out, "alive\nstatus 143\nold.txt\n");
	CU_ASSERT_TRUE(survived(old));
	cmd_result_free(&r);
	sigaction(SIGHUP, &was_hup, NULL);
	sigaction(SIGTERM, &was_term, NULL);
}

/*
 * Run `ENV TMPDIR=T pflab ARGS` (T: a fresh subdirectory of its own per
 * signal, named after name), wait until a file whose name starts with
 * first is in its T/PREFIX-XXXXXX directory, then stop pflab with SIGTERM
 * (then, another run, SIGHUP): pflab must end with 128 + the signal and
 * leave T empty, even before its children, which a signal sent to pflab
 * alone does not reach, are stopped (by the shell, after).
 */
static void signalled_leaves_tmpdir_empty(const char *name, const char *env, const char *args,
					  const char *prefix, const char *first)
{
	static const struct { const char *sig; const char *status; } sigs[] = {
		{ "TERM", "status 143\n" }, { "HUP", "status 129\n" },
	};
	struct sigaction dfl = { .sa_handler = SIG_DFL }, was_hup, was_term;
	struct cmd_result r;

	/* As above: the children start with both signals at their default. */
	sigaction(SIGHUP, &dfl, &was_hup);
	sigaction(SIGTERM, &dfl, &was_term);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		char tmp[600], sub[100];

		snprintf(sub, sizeof(sub), "%s-tmp-%s", name, sigs[i].sig);
		snprintf(tmp, sizeof(tmp), "%s", subdir(sub));
		r = run_shell("((%s TMPDIR='%s' '%s' %s >/dev/null 2>&1 & pid=$!; "
			      "for i in $(seq 600); do ls -A '%s'/%s-* 2>/dev/null | grep -q '^%s' "
			      "&& break; kill -0 $pid || break; sleep 0.05; done; kids=$(pgrep -P $pid); "
			      "kill -%s $pid; wait $pid; echo \"status $?\"; ls -A '%s'; "
			      "[ -z \"$kids\" ] || kill $kids 2>/dev/null))",
			      env, tmp, pflab_path(), args, tmp, prefix, first, sigs[i].sig, tmp);
		if (strcmp(r.out, sigs[i].status) != 0)
			fprintf(stderr, "\n  %s, SIG%s: '%s'\n", name, sigs[i].sig, r.out);
		CU_ASSERT_STRING_EQUAL(r.out, sigs[i].status);
		cmd_result_free(&r);
	}
	sigaction(SIGHUP, &was_hup, NULL);
	sigaction(SIGTERM, &was_term, NULL);
}

/*
 * pflab mrc of a policy that is not a stack algorithm runs pflab sim per
 * size with its files in a temporary directory (pflab-mrc-XXXXXX): stopped
 * there by SIGTERM or SIGHUP, it leaves neither the directory nor the files
 * in it (main.c's handler, lab_tempdir_remove_all()), and dies of the signal.
 */
static void test_interrupted_mrc_leaves_no_tempdir(void)
{
	char trace[600], args[700];
	struct cmd_result r;

	snprintf(trace, sizeof(trace), "%s/u.pft", subdir("mrc-signalled"));
	r = run_pflab("trace gen uniform --pages 20000 --refs 1000000 -o '%s'", trace);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	snprintf(args, sizeof(args), "mrc '%s' --policy fifo", trace);
	signalled_leaves_tmpdir_empty("mrc-signalled", "", args, "pflab-mrc", "sim");
}

/*
 * pflab regress runs each scenario's command with its files in a temporary
 * directory (pflab-regress-XXXXXX). Stopped there by SIGTERM, it finishes
 * the scenario under way and removes the directory itself (exit 143); by
 * SIGHUP, main.c's handler removes the directory with what it holds and
 * pflab dies of the signal (129), while the command it was running still
 * runs: that one writes only to files already removed, and makes no new ones.
 */
static void test_interrupted_regress_leaves_no_tempdir(void)
{
	char trace[600], scn[600], args[700], text[60 * 80];
	size_t len = 0;
	struct cmd_result r;

	snprintf(trace, sizeof(trace), "%s/u.pft", subdir("regress-signalled"));
	r = run_pflab("trace gen uniform --pages 20000 --refs 300000 -o '%s'", trace);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	/* Scenarios enough that the run is still going when the signal comes. */
	for (int i = 0; i < 60; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"scenario s%d\ntrace: u.pft\npolicy: fifo\nframes: %d\n"
					"expect status: 0\n\n", i, 1000 + i);
	snprintf(scn, sizeof(scn), "%s", write_file("regress-signalled/many.scenario", text));
	snprintf(args, sizeof(args), "regress '%s'", scn);
	signalled_leaves_tmpdir_empty("regress-signalled", "", args, "pflab-regress", "0");
}

/*
 * pflab mrc --plot draws through gnuplot from a temporary directory
 * (pflab-plot-XXXXXX: the script, the data, gnuplot's log). Stopped while
 * gnuplot runs (here a stand-in that only waits) by SIGTERM or SIGHUP, it
 * leaves neither that directory nor a temporary figure beside --plot.
 */
static void test_interrupted_plot_leaves_no_tempdir(void)
{
	char bin[600], out[600], trace[600], env[700], args[1400];
	const char *const none[] = { NULL };
	struct cmd_result r;

	snprintf(bin, sizeof(bin), "%s", subdir("plot-signalled-bin"));
	snprintf(out, sizeof(out), "%s", subdir("plot-signalled-out"));
	snprintf(trace, sizeof(trace), "%s/z.pft", subdir("plot-signalled"));
	CU_ASSERT_EQUAL_FATAL(chmod(write_file("plot-signalled-bin/gnuplot",
					       "#!/bin/sh\nexec sleep 30\n"), 0755), 0);
	r = run_pflab("trace gen zipf --pages 500 --refs 20000 -o '%s'", trace);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	snprintf(env, sizeof(env), "PATH='%s':\"$PATH\"", bin);
	snprintf(args, sizeof(args), "mrc '%s' --policy lru --plot '%s/lru.png'", trace, out);
	signalled_leaves_tmpdir_empty("plot-signalled", env, args, "pflab-plot", "gnuplot.log");
	CU_ASSERT_EQUAL(leftovers(out, none), 0);
}

static void test_device_and_symlink_refused(void)
{
	const char *dir = subdir("dev");
	char dev[600], link[600], target[600];
	struct stat st;
	struct cmd_result r;

	snprintf(dev, sizeof(dev), "%s/full", dir);
	if (mknod(dev, S_IFCHR | 0666, makedev(1, 7)) != 0) {
		test_skip("mknod %s: %s (needs root)", dev, strerror(errno));
	} else {
		for (int i = 0; i < 2; i++) {
			r = i ? run_pflab("trace gen seq --pages 4 --refs 9 -o %s", dev)
			      : run_pflab("trace convert %s %s", write_file("three.txt", "1\n2\n3\n"), dev);
			CU_ASSERT_EQUAL(r.status, 2);
			CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "not a regular file"));
			CU_ASSERT_EQUAL(lstat(dev, &st), 0);
			CU_ASSERT_TRUE(S_ISCHR(st.st_mode));
			cmd_result_free(&r);
		}
	}
	snprintf(target, sizeof(target), "%s", keep_file("dev/target.txt"));
	snprintf(link, sizeof(link), "%s/link.pft", dir);
	CU_ASSERT_EQUAL(symlink(target, link), 0);
	r = run_pflab("trace convert %s %s", bad_at_5001(), link);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "symbolic link"));
	CU_ASSERT_TRUE(survived(target));
	CU_ASSERT_EQUAL(lstat(link, &st), 0);
	CU_ASSERT_TRUE(S_ISLNK(st.st_mode));
	cmd_result_free(&r);
}

static void test_output_paths_checked_up_front(void)
{
	struct cmd_result r;
	char scn[600];

	r = run_pflab("trace convert %s /nonexist/d/o.pft", write_file("t3.txt", "1\n2\n3\n"));
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "/nonexist/d/o.pft: No such file or directory"));
	cmd_result_free(&r);

	r = run_pflab("trace gen seq --pages 4 --refs 9 -o /nonexist/d/o.pft");
	CU_ASSERT_EQUAL(r.status, 2);
	cmd_result_free(&r);

	r = run_pflab("mrc %s --policy lru --out /nonexist/m.csv", write_file("t4.txt", "1\n2\n"));
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "/nonexist/m.csv"));
	cmd_result_free(&r);

	/* regress: refused before any scenario runs (nothing on stdout). */
	snprintf(scn, sizeof(scn), "%s", write_file("one.scenario",
		"refs: 1 2 3 1\nframes: 2\n\nscenario one\npolicy: fifo\nexpect faults: 4\n"));
	r = run_pflab("regress %s --junit /nonexist/r.xml", scn);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--junit /nonexist/r.xml"));
	CU_ASSERT_STRING_EQUAL(r.out, "");
	cmd_result_free(&r);
	r = run_pflab("regress %s --pflab /nonexist", scn);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--pflab /nonexist"));
	CU_ASSERT_STRING_EQUAL(r.out, "");
	cmd_result_free(&r);

	/* compare makes at most the last component of --out. */
	r = run_pflab("compare --trace %s --policy fifo --frames 2 --out %s/no/such/dir",
		      write_file("t5.txt", "1\n2\n3\n"), scratch_dir());
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "parent directory must exist"));
	cmd_result_free(&r);
	{
		char p[600];
		struct stat st;

		snprintf(p, sizeof(p), "%s/no", scratch_dir());
		CU_ASSERT_NOT_EQUAL(stat(p, &st), 0);
	}
}

static void test_swap_existing_refused(void)
{
	char *path = keep_file("swapfile");
	struct cmd_result r;

	r = run_pflab("run --workload scan --frames 16 --swap %s", path);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "exists"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--swap-reuse"));
	CU_ASSERT_TRUE(survived(path));
	cmd_result_free(&r);

	r = run_pflab("run --workload scan --swap-reuse");
	CU_ASSERT_EQUAL(r.status, 2);
	cmd_result_free(&r);

	/* With --swap-reuse the file is the user's: used, never removed. */
	if (!kvm_usable())
		return;
	r = run_pflab("run --workload scan --frames 16 --swap %s --swap-reuse", path);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(access(path, F_OK), 0);
	cmd_result_free(&r);
}

/*
 * A small tmpfs, for writes that fail midway with ENOSPC. NULL (and a
 * visible skip) where this machine won't mount one.
 */
static const char *small_fs(const char *name, const char *size)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s", subdir(name));
	if (mount("tmpfs", path, "tmpfs", 0, size) != 0) {
		test_skip("cannot mount a small tmpfs (%s): the full-disk cases not run",
			  strerror(errno));
		return NULL;
	}
	return path;
}

static void fill(const char *dir)
{
	struct cmd_result r = run_shell("dd if=/dev/zero of=%s/.fill bs=4k 2>/dev/null; true", dir);

	cmd_result_free(&r);
}

static void test_full_disk_leaves_nothing(void)
{
	const char *fs = small_fs("full", "size=64k");
	struct cmd_result r;
	char zipf[600], keep[600];
	const char *const only_keep[] = { "keep.csv", ".fill", NULL };
	const char *const only_fill[] = { ".fill", NULL };

	if (!fs)
		return;
	snprintf(zipf, sizeof(zipf), "%s/z.pft", scratch_dir());
	r = run_pflab("trace gen zipf --pages 2000 --refs 20000 --alpha 0.9 -o %s", zipf);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);

	/* gen: ENOSPC, named, nothing left. */
	r = run_pflab("trace gen seq --pages 100000 --refs 1000000 -o %s/s.txt", fs);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "s.txt: No space left on device"));
	cmd_result_free(&r);

	/* An existing output survives a failed rewrite. */
	snprintf(keep, sizeof(keep), "%s/keep.csv", fs);
	{
		FILE *f = fopen(keep, "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs(keep_text, f);
		fclose(f);
	}
	fill(fs);
	r = run_pflab("mrc %s --policy lru --out %s", zipf, keep);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "No space left on device"));
	CU_ASSERT_TRUE(survived(keep));
	cmd_result_free(&r);

	/* gnuplot exits 0 on a full disk: the cut figure is caught. */
	r = run_pflab("mrc %s --policy lru --plot %s/m.png", zipf, fs);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "m.png"));
	CU_ASSERT_PTR_NULL(strstr(r.err, "gnuplot.log")); /* not a log already deleted */
	cmd_result_free(&r);
	CU_ASSERT_EQUAL(leftovers(fs, only_keep), 0);

	/* Room for a part of the figure: a PNG cut short, not an empty one. */
	{
		char fill_path[700];
		struct stat st;

		snprintf(fill_path, sizeof(fill_path), "%s/.fill", fs);
		CU_ASSERT_FATAL(stat(fill_path, &st) == 0 && st.st_size > 8192);
		CU_ASSERT_EQUAL_FATAL(truncate(fill_path, st.st_size - 8192), 0);
		r = run_pflab("mrc %s --policy lru --plot %s/m.png", zipf, fs);
		CU_ASSERT_EQUAL(r.status, 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "m.png: gnuplot left the figure incomplete"));
		cmd_result_free(&r);
		CU_ASSERT_EQUAL(leftovers(fs, only_keep), 0);
		fill(fs);
	}

	r = run_pflab("regress %s --junit %s/r.xml",
		      write_file("two.scenario", "refs: 1 2 3 1\nframes: 2\n\n"
						 "scenario two\npolicy: fifo\nexpect faults: 4\n"),
		      fs);
	CU_ASSERT_NOT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "r.xml: No space left on device"));
	cmd_result_free(&r);
	unlink(keep);
	CU_ASSERT_EQUAL(leftovers(fs, only_fill), 0);

	r = run_pflab("compare --trace %s --policy lru,fifo --frames 10,100 --out %s/cmp", zipf, fs);
	CU_ASSERT_NOT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	{
		char cmp[600];
		const char *const none[] = { "cells", "data", NULL };

		snprintf(cmp, sizeof(cmp), "%s/cmp", fs);
		/* Directories may stay; no file in it looks like a result. */
		CU_ASSERT_EQUAL(leftovers(cmp, none), 0);
	}
	umount2(fs, MNT_DETACH);
}

/*
 * A write error that only the stream remembers: blocks larger than stdio's
 * buffer go straight to the file, so the buffer is empty at the end and
 * fflush() and fclose() succeed; ferror() alone knows. The output must not
 * be committed.
 */
static void test_outfile_stream_error(void)
{
	const char *fs = small_fs("ferr", "size=64k");
	const char *const none[] = { NULL };
	static char block[20000];
	char target[600], err[600] = "";
	struct outfile of;
	FILE *fp;

	if (!fs)
		return;
	snprintf(target, sizeof(target), "%s/big.out", fs);
	memset(block, 'x', sizeof(block));
	fp = outfile_fopen(&of, target, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	for (int i = 0; i < 8; i++)
		fwrite(block, 1, sizeof(block), fp);
	CU_ASSERT_TRUE(ferror(fp));
	CU_ASSERT_EQUAL(outfile_fclose(&of, fp, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "big.out: "));
	CU_ASSERT_EQUAL(leftovers(fs, none), 0);
	umount2(fs, MNT_DETACH);
}

static void test_plot_replaced_only_when_complete(void)
{
	char zipf[600], png[600];
	struct cmd_result r;
	const char *dir = subdir("plots");
	const char *const only[] = { "m.png", NULL };
	unsigned char tail[12];
	FILE *f;

	snprintf(zipf, sizeof(zipf), "%s/z2.pft", scratch_dir());
	r = run_pflab("trace gen zipf --pages 500 --refs 5000 --alpha 0.9 -o %s", zipf);
	cmd_result_free(&r);
	snprintf(png, sizeof(png), "%s/m.png", dir);
	r = run_pflab("mrc %s --policy lru --plot %s", zipf, png);
	if (r.status != 0 && strstr(r.err, "gnuplot is not installed")) {
		test_skip("gnuplot is not installed");
		cmd_result_free(&r);
		return;
	}
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	f = fopen(png, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, -12, SEEK_END);
	CU_ASSERT_EQUAL(fread(tail, 1, 12, f), 12);
	fclose(f);
	CU_ASSERT_EQUAL(memcmp(tail + 4, "IEND", 4), 0);
	CU_ASSERT_EQUAL(leftovers(dir, only), 0);
}

/* A run that never started (no KVM here, or a bad trace) leaves no record. */
static void test_run_record_not_left_by_a_failed_start(void)
{
	const char *dir = subdir("rec");
	const char *const none[] = { NULL };
	struct cmd_result r;

	r = run_pflab("run --trace %s --record %s/f.rw --fault-log %s/f.log", bad_at_5001(), dir, dir);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_EQUAL(leftovers(dir, none), 0);
	cmd_result_free(&r);
	r = run_pflab("run --workload scan --record %s/f.rw --record-not-an-option", dir);
	CU_ASSERT_EQUAL(r.status, 2);
	cmd_result_free(&r);
	/* Refused by the run itself, after both files were opened (with or
	 * without KVM here): a swap area smaller than the pages. */
	r = run_pflab("run --workload scan --pages 64 --swap-layout dynamic --swap-slots 10 "
		      "--record %s/f.rw --fault-log %s/f.log", dir, dir);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_EQUAL(leftovers(dir, none), 0);
	cmd_result_free(&r);
	if (!kvm_usable()) {
		r = run_pflab("run --workload scan --record %s/f.rw --fault-log %s/f.log", dir, dir);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_EQUAL(leftovers(dir, none), 0);
		cmd_result_free(&r);
	}
}


static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/*
 * run --map-create: every usage check comes first, a user's file is never
 * made a map file, and a creation that fails (a full disk) leaves nothing.
 */
static void test_map_create_keeps_user_file(void)
{
	const char *dir = subdir("mapcreate");
	const char *const only_user[] = { "precious.db", NULL };
	char user[600], made[600];
	struct cmd_result r;

	snprintf(user, sizeof(user), "%s/precious.db", dir);
	snprintf(made, sizeof(made), "%s/made.bin", dir);
	write_file("mapcreate/precious.db", keep_text);
	/* Refused for another reason, found after --map-create was read. */
	r = run_pflab("run --workload mapfile --map-file %s --map-create --pages 1 --dma pin", user);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.err, "pflab run: --dma goes with --workload dma\n");
	CU_ASSERT_TRUE(survived(user));
	cmd_result_free(&r);
	r = run_pflab("run --workload mapfile --map-file %s --map-create --pages 1 "
		      "--record /nonexist/r.rw", made);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--record /nonexist/r.rw"));
	cmd_result_free(&r);
	CU_ASSERT_EQUAL(leftovers(dir, only_user), 0);
	/* A valid request on the user's file: refused with one line, kept. */
	r = run_pflab("run --workload mapfile --map-file %s --map-create --pages 1", user);
	CU_ASSERT_EQUAL(r.status, 2);
	{
		char want[900];

		snprintf(want, sizeof(want), "pflab run: map file %s: exists and is not a file "
			 "--map-create made (a run's writes included): pflab replaces only its "
			 "own; remove it or name a new file\n", user);
		CU_ASSERT_STRING_EQUAL(r.err, want);
	}
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_TRUE(survived(user));
	CU_ASSERT_EQUAL(leftovers(dir, only_user), 0);
	cmd_result_free(&r);
	/* An empty file may be made one (whether or not the run then starts). */
	write_file("mapcreate/made.bin", "");
	r = run_pflab("run --workload mapfile --map-file %s --map-create --pages 2 --frames 2", made);
	CU_ASSERT_EQUAL(file_size(made), 2 * 4096);
	cmd_result_free(&r);
	/* A file a run wrote to is no longer the pattern: refused, kept. */
	if (kvm_usable()) {
		char before[8192], after[8192];
		FILE *f = fopen(made, "rb");

		CU_ASSERT_EQUAL(fread(before, 1, sizeof(before), f), sizeof(before));
		fclose(f);
		r = run_pflab("run --workload mapfile --map-file %s --map-create --pages 4", made);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "exists and is not a file --map-create made"));
		cmd_result_free(&r);
		f = fopen(made, "rb");
		CU_ASSERT_EQUAL(fread(after, 1, sizeof(after), f), sizeof(after));
		fclose(f);
		CU_ASSERT_EQUAL(memcmp(before, after, sizeof(after)), 0);
		CU_ASSERT_EQUAL(file_size(made), 2 * 4096);
	}
	unlink(made);

	/* A full disk: the creation fails, named, and leaves no file. */
	{
		const char *fs = small_fs("mapfull", "size=64k");
		const char *const none[] = { NULL };

		if (!fs)
			return;
		r = run_pflab("run --workload mapfile --map-file %s/m.bin --map-create --pages 64", fs);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "m.bin: writing page"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "No space left on device"));
		CU_ASSERT_EQUAL(leftovers(fs, none), 0);
		cmd_result_free(&r);
		umount2(fs, MNT_DETACH);
	}
}


/*
 * compare --emit-jobs: a bad script path (here a directory) is refused
 * before the job list or --out is touched; a good run replaces both files
 * whole, the script executable, and leaves no temporary file.
 */
static void test_emit_jobs_refused_keeps_list(void)
{
	const char *dir = subdir("emitjobs");
	const char *const before[] = { "jobs.txt", "jobs.slurm", NULL };
	const char *const after[] = { "jobs.txt", "jobs.slurm", "out", NULL };
	char jobs[600], slurm[600], trace[600];
	struct cmd_result r;
	struct stat st;

	snprintf(jobs, sizeof(jobs), "%s/jobs.txt", dir);
	snprintf(slurm, sizeof(slurm), "%s/jobs.slurm", dir);
	snprintf(trace, sizeof(trace), "%s", write_file("emitjobs-t.txt", "1\n2\n3\n1\n"));
	write_file("emitjobs/jobs.txt", keep_text);
	mkdir(slurm, 0777);
	r = run_pflab("compare --trace %s --policy fifo --frames 2 --out %s/out --emit-jobs %s",
		      trace, dir, jobs);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "jobs.slurm: not a regular file"));
	CU_ASSERT_TRUE(survived(jobs));
	CU_ASSERT_EQUAL(leftovers(dir, before), 0); /* no out/, no temporary */
	cmd_result_free(&r);
	rmdir(slurm);

	r = run_pflab("compare --trace %s --policy fifo --frames 2 --out %s/out --emit-jobs %s",
		      trace, dir, jobs);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_FALSE(survived(jobs));
	CU_ASSERT_EQUAL(leftovers(dir, after), 0);
	CU_ASSERT(stat(slurm, &st) == 0 && (st.st_mode & 0777) == 0755);
	cmd_result_free(&r);
}


/*
 * compare --out DIR: a cell's files are never opened over what DIR/cells
 * already holds. Here 0001.csv is a hard link to a user's file and
 * 0001.err a symbolic link to another: both user files keep their bytes,
 * the cells are the run's, and no temporary directory is left.
 */
static void test_compare_cells_not_truncated(void)
{
	const char *dir = subdir("cmpcells");
	const char *const top[] = { "hard.txt", "soft.txt", "out", NULL };
	const char *const outs[] = { "cells", "results.csv", "results.json", "report.md", NULL };
	const char *const cells[] = { "0001.csv", "0001.err", "0002.csv", "0002.err", NULL };
	char hard[600], soft[600], out[600], p[700];
	struct cmd_result r;
	char *csv;

	snprintf(hard, sizeof(hard), "%s/hard.txt", dir);
	snprintf(soft, sizeof(soft), "%s/soft.txt", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	write_file("cmpcells/hard.txt", keep_text);
	write_file("cmpcells/soft.txt", keep_text);
	mkdir(out, 0777);
	snprintf(p, sizeof(p), "%s/cells", out);
	mkdir(p, 0777);
	snprintf(p, sizeof(p), "%s/cells/0001.csv", out);
	CU_ASSERT_EQUAL(link(hard, p), 0);
	snprintf(p, sizeof(p), "%s/cells/0001.err", out);
	CU_ASSERT_EQUAL(symlink(soft, p), 0);
	r = run_pflab("compare --trace %s --policy fifo --frames 2 --out %s --no-plots",
		      write_file("cmpcells-t.txt", "1\n2\n3\n1\n"), out);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	CU_ASSERT_TRUE(survived(hard));
	CU_ASSERT_TRUE(survived(soft));
	CU_ASSERT_EQUAL(leftovers(dir, top), 0);
	CU_ASSERT_EQUAL(leftovers(out, outs), 0);
	snprintf(p, sizeof(p), "%s/cells", out);
	CU_ASSERT_EQUAL(leftovers(p, cells), 0);
	snprintf(p, sizeof(p), "%s/cells/0001.csv", out);
	csv = read_text(p);
	CU_ASSERT_PTR_NOT_NULL(csv && strstr(csv, "frames"));
	free(csv);
}


/* compare's report: gnuplot's log is pflab's own, not DIR/gnuplot.log,
 * which a user's file of that name keeps, byte for byte. */
static void test_report_keeps_users_gnuplot_log(void)
{
	const char *dir = subdir("gplog");
	char log[600];
	struct cmd_result r;

	r = run_shell("command -v gnuplot");
	if (r.status != 0) {
		test_skip("gnuplot is not installed");
		cmd_result_free(&r);
		return;
	}
	cmd_result_free(&r);
	snprintf(log, sizeof(log), "%s/gnuplot.log", dir);
	write_file("gplog/gnuplot.log", keep_text);
	r = run_pflab("compare --trace %s --policy fifo --frames 2,3 --out %s",
		      write_file("gplog-t.txt", "1\n2\n3\n1\n4\n"), dir);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(r.err, "no figures"));
	CU_ASSERT_TRUE(survived(log));
	cmd_result_free(&r);
	r = run_shell("ls %s/miss-1-*.png", dir); /* gnuplot ran */
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
}


/*
 * pager --port-file: an existing file is refused and kept; the port is
 * written whole (a write that fails on a full disk leaves no file); the
 * file goes when the server ends on SIGTERM, but not a file someone put in
 * its place meanwhile.
 */
static void test_pager_port_file(void)
{
	const char *dir = subdir("portfile");
	const char *const none[] = { NULL };
	char port[600];
	struct cmd_result r;

	snprintf(port, sizeof(port), "%s/port", dir);
	write_file("portfile/port", keep_text);
	r = run_pflab("pager --listen tcp::0 --frames 8 --port-file %s", port);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "port: the file exists"));
	CU_ASSERT_TRUE(survived(port));
	cmd_result_free(&r);
	unlink(port);

	/* Written whole, removed at the end (SIGTERM, or SIGINT, which sh
	 * ignores in a background job: perl restores it); nothing else left. */
	for (int sig = 0; sig < 2; sig++) {
		r = run_shell("(d=%s; perl -e '$SIG{INT} = \"DEFAULT\"; exec @ARGV' '%s' pager "
			      "--listen tcp::0 --frames 8 --port-file $d/port & pid=$!;"
			      " i=0; while [ ! -s $d/port ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done;"
			      " grep -qx '[1-9][0-9]*' $d/port && echo whole; kill -%s $pid; wait $pid;"
			      " echo status $?)", dir, pflab_path(), sig ? "INT" : "TERM");
		CU_ASSERT_STRING_EQUAL(r.out, "whole\nstatus 0\n");
		CU_ASSERT_EQUAL(leftovers(dir, none), 0);
		cmd_result_free(&r);
	}

	/* Replaced meanwhile by another file, even with the same bytes (and
	 * likely the same inode number): that one stays. */
	r = run_shell("(d=%s; '%s' pager --listen tcp::0 --frames 8 --port-file $d/port & pid=$!;"
		      " i=0; while [ ! -s $d/port ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done;"
		      " p=$(cat $d/port); rm $d/port; sleep 0.01; echo $p > $d/port; kill -TERM $pid;"
		      " wait $pid; [ \"$(cat $d/port)\" = \"$p\" ] && echo kept)", dir, pflab_path());
	CU_ASSERT_STRING_EQUAL(r.out, "kept\n");
	cmd_result_free(&r);
	unlink(port);

	/* A full disk: refused, named, no empty or partial port file. */
	{
		const char *fs = small_fs("portfull", "size=64k");
		const char *const only_fill[] = { ".fill", NULL };

		if (!fs)
			return;
		fill(fs);
		r = run_pflab("pager --listen tcp::0 --frames 8 --port-file %s/port", fs);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "No space left on device"));
		CU_ASSERT_EQUAL(leftovers(fs, only_fill), 0);
		cmd_result_free(&r);
		umount2(fs, MNT_DETACH);
	}
}

static CU_TestInfo tests[] = {
	{ "outfile: an error only ferror() saw is not committed", test_outfile_stream_error },
	{ "run: a run that never started leaves no record", test_run_record_not_left_by_a_failed_start },
	{ "convert: bad input at line 5001 keeps the old output", test_convert_bad_input_keeps_target },
	{ "a device or a symlink as output is refused, kept", test_device_and_symlink_refused },
	{ "a command killed by a signal leaves no temporary file", test_interrupted_leaves_nothing },
	{ "mrc killed by a signal leaves no temporary directory",
	  test_interrupted_mrc_leaves_no_tempdir },
	{ "regress killed by a signal leaves no temporary directory",
	  test_interrupted_regress_leaves_no_tempdir },
	{ "mrc --plot killed by a signal leaves no temporary directory",
	  test_interrupted_plot_leaves_no_tempdir },
	{ "output paths checked before any work", test_output_paths_checked_up_front },
	{ "run --swap: an existing file is refused and kept", test_swap_existing_refused },
	{ "full disk: named, non-zero, nothing valid-looking left", test_full_disk_leaves_nothing },
	{ "plot: complete PNG, no temporary left", test_plot_replaced_only_when_complete },
	{ "run --map-create: a user's file is refused and kept", test_map_create_keeps_user_file },
	{ "compare --emit-jobs: a bad path keeps the job list", test_emit_jobs_refused_keeps_list },
	{ "compare --out: links in DIR/cells keep their files", test_compare_cells_not_truncated },
	{ "compare's report: a user's DIR/gnuplot.log is kept", test_report_keeps_users_gnuplot_log },
	{ "pager --port-file: whole, kept if not ours, gone at exit", test_pager_port_file },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("outputs", tests);
