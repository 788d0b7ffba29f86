// SPDX-License-Identifier: MIT
/*
 * The QEMU plugin and `pflab capture` (docs/qemu.md): the plugin's argument
 * parser, summary file and sinks driven directly; then end to end under
 * qemu-x86_64, a tiny static program whose every access is known by hand
 * (the same string Valgrind's Lackey gives), live counts equal to `pflab sim`
 * on the captured trace for every policy on a real program (sort), and the
 * refusals. Tests that need qemu-x86_64 skip, saying so, where it is absent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin_args.h"
#include "plugin_results.h"
#include "plugin_sink.h"
#include "test.h"

/* ---- the parser ---- */

static int parse(struct plugin_args *a, char *err, size_t errlen, int argc, ...)
{
	char *argv[16];
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	return plugin_args_parse(argc, argv, a, err, errlen);
}

static void test_args_accepted(void)
{
	struct plugin_args a;
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(parse(&a, err, sizeof(err), 9, "out=t.pft", "format=rw", "zstd=on",
				    "kind=all", "range=0x1000-8192", "page-size=65536", "policy=lru",
				    "frames=64", "frames=0x10"), 0);
	CU_ASSERT_STRING_EQUAL(a.out, "t.pft");
	CU_ASSERT_EQUAL(a.format, TRACE_RW);
	CU_ASSERT(a.zstd);
	CU_ASSERT_EQUAL(a.kinds, PLUGIN_LOAD | PLUGIN_STORE | PLUGIN_FETCH);
	CU_ASSERT_EQUAL(a.range_lo, 0x1000);
	CU_ASSERT_EQUAL(a.range_hi, 8192);
	CU_ASSERT_EQUAL(a.page_shift, 16);
	CU_ASSERT_EQUAL(a.npolicies, 1);
	CU_ASSERT_STRING_EQUAL(a.policies[0]->name, "lru");
	/* Frames come sorted, as pflab sim's rows. */
	CU_ASSERT_EQUAL(a.nframes, 2);
	CU_ASSERT_EQUAL(a.frames[0], 16);
	CU_ASSERT_EQUAL(a.frames[1], 64);
	/* Defaults. */
	CU_ASSERT_EQUAL_FATAL(parse(&a, err, sizeof(err), 1, "out=x"), 0);
	CU_ASSERT_EQUAL(a.format, TRACE_PFT);
	CU_ASSERT(!a.zstd);
	CU_ASSERT_EQUAL(a.kinds, PLUGIN_LOAD | PLUGIN_STORE);
	CU_ASSERT_EQUAL(a.range_lo, 0);
	CU_ASSERT_EQUAL(a.range_hi, UINT64_MAX);
	CU_ASSERT_EQUAL(a.page_shift, 12);
	CU_ASSERT_EQUAL(a.npolicies, 0);
}

static void test_args_refused(void)
{
	static const struct { const char *arg, *why; } bad[] = {
		{ "nokey", "expected key=value" },
		{ "colour=red", "unknown key" },
		{ "out=", "an empty path" },
		{ "format=txt", "expected pft or rw" },
		{ "zstd=yes", "expected on or off" },
		{ "kind=loads", "expected data, all, load, store or fetch" },
		{ "range=10", "expected START-END" },
		{ "range=10-", "expected START-END" },
		{ "range=-10", "expected START-END" },
		{ "range=0x-10", "expected START-END" },
		{ "range=20-10", "START must be below END" },
		{ "range=10-10", "START must be below END" },
		{ "range=1-99999999999999999999", "expected START-END" },
		{ "page-size=3000", "power of two" },
		{ "page-size=0", "power of two" },
		{ "page-size=2147483648", "power of two" },
		{ "policy=nope", "unknown policy" },
		{ "frames=0", "from 1 to" },
		{ "frames=2147483648", "from 1 to" },
		{ "frames=+5", "from 1 to" },
		{ "frames= 5", "from 1 to" },
		{ "frames=5x", "from 1 to" },
	};
	struct plugin_args a;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[2] = { "results=r", (char *)bad[i].arg };

		err[0] = '\0';
		CU_ASSERT_EQUAL(plugin_args_parse(2, argv, &a, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].why) || !strstr(err, bad[i].arg))
			fprintf(stderr, "\n  %s: '%s'\n", bad[i].arg, err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].arg));
	}
	/* Whole-set checks. */
	CU_ASSERT_EQUAL(parse(&a, err, sizeof(err), 0), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nothing to do"));
	CU_ASSERT_EQUAL(parse(&a, err, sizeof(err), 1, "policy=lru"), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "go together"));
	CU_ASSERT_EQUAL(parse(&a, err, sizeof(err), 2, "policy=lru", "format=rw"), -1);
	CU_ASSERT_EQUAL(parse(&a, err, sizeof(err), 1, "frames=4"), -1);
	CU_ASSERT_EQUAL(parse(&a, err, sizeof(err), 2, "out=a", "out=b"), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "given twice"));
	CU_ASSERT_EQUAL(parse(&a, err, sizeof(err), 3, "policy=lru", "policy=lru", "frames=4"), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "twice"));
	CU_ASSERT_EQUAL(parse(&a, err, sizeof(err), 3, "policy=lru", "frames=4", "frames=4"), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "twice"));
	CU_ASSERT_EQUAL(parse(&a, err, sizeof(err), 3, "policy=lru", "policy=all", "frames=4"), -1);
	{
		char *argv[PLUGIN_MAX_FRAMES + 2], nums[PLUGIN_MAX_FRAMES + 1][24];

		argv[0] = "policy=lru";
		for (int i = 0; i <= PLUGIN_MAX_FRAMES; i++) {
			snprintf(nums[i], sizeof(nums[i]), "frames=%d", i + 1);
			argv[i + 1] = nums[i];
		}
		CU_ASSERT_EQUAL(plugin_args_parse(PLUGIN_MAX_FRAMES + 1, argv, &a, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(plugin_args_parse(PLUGIN_MAX_FRAMES + 2, argv, &a, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "too many frame counts"));
	}
	CU_ASSERT_EQUAL(parse(&a, err, sizeof(err), 3, "policy=all", "policy=lru", "frames=4"), -1);
}

/* ---- the summary file ---- */

static void test_results_round_trip(void)
{
	struct plugin_results *r = calloc(1, sizeof(*r)), *back = calloc(1, sizeof(*back));
	char *text = NULL, err[200];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r && back && f);
	r->refs = 1000;
	r->writes = 300;
	r->pages = 77;
	r->nruns = 2;
	r->runs[0] = (struct plugin_run){ policy_find("lru"), 8,
					  { .refs = 1000, .faults = 90, .major = 80, .minor = 10,
					    .evictions = 82, .writebacks = 20, .resident_max = 8,
					    .resident_sum = 7900 }, 0.25 };
	r->runs[1] = (struct plugin_run){ policy_find("opt"), 16, { .refs = 1000, .faults = 77,
								     .major = 77 }, 0 };
	plugin_results_write(f, r);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(plugin_results_parse(text, len, back, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(back->refs, 1000);
	CU_ASSERT_EQUAL(back->writes, 300);
	CU_ASSERT_EQUAL(back->pages, 77);
	CU_ASSERT_EQUAL_FATAL(back->nruns, 2);
	CU_ASSERT_PTR_EQUAL(back->runs[0].policy, policy_find("lru"));
	CU_ASSERT_EQUAL(back->runs[0].frames, 8);
	CU_ASSERT_EQUAL(memcmp(&back->runs[0].st, &r->runs[0].st, sizeof(r->runs[0].st)), 0);
	CU_ASSERT_DOUBLE_EQUAL(back->runs[0].seconds, 0.25, 1e-9);
	CU_ASSERT_PTR_EQUAL(back->runs[1].policy, policy_find("opt"));
	CU_ASSERT_EQUAL(back->runs[1].st.faults, 77);
	/* A line that is neither run nor end is refused. */
	{
		char *bad = strdup(text), *p = strstr(bad, "run opt");

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		memcpy(p, "rum", 3);
		CU_ASSERT_EQUAL(plugin_results_parse(bad, len, back, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 4: expected run or end"));
		free(bad);
	}
	/* A cut file (no end line) and a tampered one are refused. */
	CU_ASSERT_EQUAL(plugin_results_parse(text, len - 4, back, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cut short"));
	{
		char *bad = strdup(text), *p = strstr(bad, " 90 ");

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		memcpy(p, " 9x ", 4);
		CU_ASSERT_EQUAL(plugin_results_parse(bad, len, back, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 3"));
		free(bad);
	}
	free(text);
	free(r);
	free(back);
}

/* ---- the sinks, without QEMU ---- */

static void test_sink_pages(void)
{
	const char *dir = scratch_dir();
	char path[512], res[512], err[256], *argv[4], a0[600], a1[600];
	struct plugin_args a;
	struct plugin_sink *s;
	struct cmd_result r;

	snprintf(path, sizeof(path), "%s/sink.rw", dir);
	snprintf(res, sizeof(res), "%s/sink.res", dir);
	snprintf(a0, sizeof(a0), "out=%s", path);
	snprintf(a1, sizeof(a1), "results=%s", res);
	argv[0] = a0;
	argv[1] = "format=rw";
	argv[2] = "range=0x2000-0x9000";
	argv[3] = a1;
	CU_ASSERT_EQUAL_FATAL(plugin_args_parse(4, argv, &a, err, sizeof(err)), 0);
	s = plugin_sink_create(&a, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	plugin_sink_access(s, 0x1fff, 8, ACCESS_WRITE);  /* starts below the range: dropped */
	plugin_sink_access(s, 0x2000, 8, ACCESS_WRITE);  /* page 2 */
	plugin_sink_access(s, 0x3ffc, 8, ACCESS_READ);   /* pages 3 and 4 */
	plugin_sink_access(s, 0x8fff, 2, ACCESS_READ);   /* pages 8 and 9: starts inside */
	plugin_sink_access(s, 0x9000, 1, ACCESS_READ);   /* at the end: dropped */
	plugin_sink_access(s, 0x5000, 4, ACCESS_FETCH);  /* kind=data: dropped */
	/* Nothing is visible before the end. */
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	CU_ASSERT_EQUAL_FATAL(plugin_sink_finish(s, stderr, err, sizeof(err)), 0);
	r = run_shell("(cat '%s'; cat '%s')", path, res);
	CU_ASSERT_STRING_EQUAL(r.out, "W 2\nR 3\nR 4\nR 8\nR 9\n"
				      "pflab-qemu-results 1\nrefs 5 writes 1 pages 0\nend\n");
	cmd_result_free(&r);
}

static void test_sink_nothing_matched(void)
{
	char path[512], err[256], *argv[2], a0[600];
	struct plugin_args a;
	struct plugin_sink *s;

	snprintf(path, sizeof(path), "%s/empty.pft", scratch_dir());
	snprintf(a0, sizeof(a0), "out=%s", path);
	argv[0] = a0;
	argv[1] = "kind=store";
	CU_ASSERT_EQUAL_FATAL(plugin_args_parse(2, argv, &a, err, sizeof(err)), 0);
	s = plugin_sink_create(&a, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	plugin_sink_access(s, 0x1000, 8, ACCESS_READ);
	CU_ASSERT_EQUAL(plugin_sink_finish(s, stderr, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no references"));
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
}

/* ---- under QEMU ---- */

static bool qemu_usable(void)
{
	struct cmd_result r = run_shell("command -v qemu-x86_64");
	bool ok = r.status == 0;

	cmd_result_free(&r);
	if (!ok)
		test_skip("qemu-x86_64 is not installed (tools/install-deps installs qemu-user)");
	return ok;
}

/*
 * A static program without libc: 8 stores, one at the start of each of 8
 * pages of buf, then a load from the first, then an 8-byte store 4 bytes
 * before the end of the second page, which covers the second and the third.
 * Its data references are exactly these 11. It executes 41 instructions:
 * a jump from its first text page to the 7-byte lea that starts 4 bytes
 * before the end of the second and ends in the third, where the rest is:
 * 42 fetch references to 3 pages.
 */
static const char tiny_asm[] =
	"\t.globl _start\n"
	"\t.bss\n"
	"\t.balign 4096\n"
	"buf:\t.skip 4096 * 8\n"
	"\t.text\n"
	"_start:\n"
	"\tjmp 2f\n"
	"\t.balign 4096\n"
	"\t.skip 4092\n"
	"2:\tlea buf(%rip), %rdi\n"
	"\tmov $8, %ecx\n"
	"1:\tmovq $1, (%rdi)\n"
	"\tadd $4096, %rdi\n"
	"\tdec %ecx\n"
	"\tjnz 1b\n"
	"\tlea buf(%rip), %rdi\n"
	"\tmov (%rdi), %rax\n"
	"\tmov %rax, 8188(%rdi)\n"
	"\tmov $60, %eax\n"
	"\txor %edi, %edi\n"
	"\tsyscall\n";

/* Build the tiny program; its path, and buf's address in *buf. */
static const char *tiny_program(unsigned long long *buf)
{
	static char prog[512];
	struct cmd_result r;
	char *src = write_file("tiny.S", tiny_asm);

	snprintf(prog, sizeof(prog), "%s/tiny", scratch_dir());
	r = run_shell("(gcc -nostdlib -static -no-pie -o '%s' '%s' && nm '%s' | awk '$3 == \"buf\" { print $1 }')",
		      prog, src, prog);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	CU_ASSERT_EQUAL_FATAL(sscanf(r.out, "%llx", buf), 1);
	cmd_result_free(&r);
	return prog;
}

static void test_tiny_exact(void)
{
	unsigned long long buf, p;
	const char *prog;
	char expect[512], rw[512];
	struct cmd_result r;

	if (!qemu_usable())
		return;
	prog = tiny_program(&buf);
	p = buf / 4096;
	snprintf(rw, sizeof(rw), "%s/tiny.rw", scratch_dir());
	/* The range of buf alone: the program's references to it, in order. */
	r = run_pflab("capture --out '%s' --rw --range 0x%llx-0x%llx -- '%s'", rw, buf,
		      buf + 8 * 4096, prog);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "11 references (10 writes)"));
	cmd_result_free(&r);
	snprintf(expect, sizeof(expect),
		 "W %llu\nW %llu\nW %llu\nW %llu\nW %llu\nW %llu\nW %llu\nW %llu\nR %llu\nW %llu\nW %llu\n",
		 p, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7, p, p + 1, p + 2);
	r = run_shell("cat '%s'", rw);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	cmd_result_free(&r);

	/* A range of pages 1 and 2 only: the first store and the load of page 0 are out. */
	r = run_pflab("capture --out '%s' --rw --range 0x%llx-0x%llx -- '%s'", rw, buf + 4096,
		      buf + 3 * 4096, prog);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	snprintf(expect, sizeof(expect), "W %llu\nW %llu\nW %llu\nW %llu\n", p + 1, p + 2, p + 1, p + 2);
	r = run_shell("cat '%s'", rw);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	cmd_result_free(&r);

	/* By kind: the one load; the 10 stores; the 42 fetch references. */
	r = run_pflab("capture --out '%s' --rw --kind load -- '%s'", rw, prog);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "capture: 1 references (0 writes)"));
	cmd_result_free(&r);
	r = run_pflab("capture --out '%s' --rw --kind store -- '%s'", rw, prog);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "capture: 10 references (10 writes)"));
	cmd_result_free(&r);
	r = run_pflab("capture --out '%s' --kind fetch -- '%s'", rw, prog);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "capture: 42 references (0 writes) to 3 pages"));
	cmd_result_free(&r);
	r = run_pflab("capture --out '%s' --kind all -- '%s'", rw, prog);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "capture: 53 references (10 writes) to 11 pages"));
	cmd_result_free(&r);

	/* zstd, and a path with a comma (doubled for QEMU's option syntax). */
	r = run_shell("('%s' capture --zstd --out '%s/a,b.pft' -- '%s' && '%s' trace info '%s/a,b.pft' && "
		      "head -c 4 '%s/a,b.pft' | od -An -tx1)", pflab_path(), scratch_dir(), prog,
		      pflab_path(), scratch_dir(), scratch_dir());
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "references:     11\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "28 b5 2f fd")); /* zstd's magic */
	cmd_result_free(&r);

	/* Live, by hand: FIFO with 4 frames faults on the 8 first touches, then
	 * on page 0 (evicted) and on pages 1 and 2 (evicted by then); 8 frames
	 * keep all 8 pages. */
	r = run_pflab("capture --policy fifo,lru --frames 4,8 --csv --range 0x%llx-0x%llx -- '%s'",
		      buf, buf + 8 * 4096, prog);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",fifo,4,11,11,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",fifo,8,11,8,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",lru,4,11,11,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",lru,8,11,8,"));
	cmd_result_free(&r);
	r = run_pflab("capture --policy fifo --frames 4 --json --range 0x%llx-0x%llx -- '%s'", buf,
		      buf + 8 * 4096, prog);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"format\": \"qemu\", \"policy\": \"fifo\", \"frames\": 4, "
					     "\"refs\": 11, \"faults\": 11,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"distinct_pages\": 8, \"trace_writes\": 10"));
	cmd_result_free(&r);
}

/* Valgrind's Lackey sees the same data references of the tiny program. */
static void test_tiny_lackey(void)
{
	unsigned long long buf;
	const char *prog;
	char pft[512];
	struct cmd_result r, l;

	if (!qemu_usable())
		return;
	r = run_shell("command -v valgrind");
	if (r.status != 0) {
		cmd_result_free(&r);
		test_skip("valgrind is not installed (tools/install-deps installs it)");
		return;
	}
	cmd_result_free(&r);
	prog = tiny_program(&buf);
	snprintf(pft, sizeof(pft), "%s/tiny.pft", scratch_dir());
	r = run_pflab("capture --out '%s' -- '%s'", pft, prog);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	r = run_shell("('%s' sim '%s' --policy all --frames 1,2,4 --csv | cut -d, -f2-)",
		      pflab_path(), pft);
	/* Lackey's data lines only: I lines are its instruction fetches. */
	l = run_shell("(valgrind --tool=lackey --trace-mem=yes '%s' 2>&1 | grep -v '^I' | "
		      "'%s' sim --format lackey - --policy all --frames 1,2,4 --csv | cut -d, -f2-)",
		      prog, pflab_path());
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(l.status, 0);
	if (!strstr(r.out, "lru,1,11,"))
		fprintf(stderr, "\n  qemu: '%s' (%s)\n  lackey: '%s' (%s)\n", r.out, r.err, l.out, l.err);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "lru,1,11,"));
	CU_ASSERT_STRING_EQUAL(r.out, l.out);
	cmd_result_free(&r);
	cmd_result_free(&l);
	/* With the instruction fetches (Lackey's I lines) too. */
	r = run_shell("('%s' capture --kind all --out '%s' -- '%s' && "
		      "'%s' sim '%s' --policy all --frames 1,2,4 --csv | cut -d, -f2-)",
		      pflab_path(), pft, prog, pflab_path(), pft);
	l = run_shell("(valgrind --tool=lackey --trace-mem=yes '%s' 2>&1 | "
		      "'%s' sim --format lackey - --policy all --frames 1,2,4 --csv | cut -d, -f2-)",
		      prog, pflab_path());
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "lru,1,53,"));
	CU_ASSERT_STRING_EQUAL(r.out, l.out);
	cmd_result_free(&r);
	cmd_result_free(&l);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* CSV text without its first column (the trace's name). */
static char *drop_first_column(const char *csv)
{
	char *out = malloc(strlen(csv) + 1), *o = out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	for (const char *line = csv; *line;) {
		const char *end = strchr(line, '\n'), *comma = strchr(line, ',');

		end = end ? end + 1 : line + strlen(line);
		if (comma && comma < end)
			line = comma + 1;
		memcpy(o, line, (size_t)(end - line));
		o += end - line;
		line = end;
	}
	*o = '\0';
	return out;
}

/* Live counts equal pflab sim's on the trace captured in the same run, for
 * every policy, on a real program: sort. */
static void test_live_equals_sim(void)
{
	char pft[512], in[512];
	struct cmd_result live, sim;

	if (!qemu_usable())
		return;
	snprintf(pft, sizeof(pft), "%s/sort.pft", scratch_dir());
	snprintf(in, sizeof(in), "%s/sort.in", scratch_dir());
	live = run_shell("(seq 1 300 | awk '{ print ($1 * 7919) %% 1009 }' > '%s' && "
			 "'%s' capture --out '%s' --policy all --frames 16,48 --csv -- sort -o /dev/null '%s')",
			 in, pflab_path(), pft, in);
	CU_ASSERT_EQUAL_FATAL(live.status, 0);
	sim = run_pflab("sim '%s' --policy all --frames 16,48 --csv", pft);
	CU_ASSERT_EQUAL_FATAL(sim.status, 0);
	/* Same rows but for the trace column: 17 policies x 2 sizes and a header. */
	{
		char *a = drop_first_column(live.out), *b = drop_first_column(sim.out);

		CU_ASSERT_STRING_EQUAL(a, b);
		CU_ASSERT_EQUAL(count_lines(a), 1 + 2 * 17);
		free(a);
		free(b);
	}
	cmd_result_free(&live);
	cmd_result_free(&sim);
}

static void test_capture_refusals(void)
{
	static const struct { const char *args, *why; } bad[] = {
		{ "--out x.pft --kind bogus -- true", "plugin argument 'kind=bogus'" },
		{ "--out x.pft --range 5-3 -- true", "START must be below END" },
		{ "--out x.pft --page-size 1000 -- true", "power of two" },
		{ "--policy nope --frames 4 -- true", "unknown policy" },
		{ "--policy lru --frames 0 -- true", "--frames" },
		{ "--policy lru -- true", "go together" },
		{ "--out x.pft", "no program given" },
		{ "-- true", "nothing to do" },
		{ "--rw --policy lru --frames 4 -- true", "need --out" },
		{ "--out x.pft --csv -- true", "--policy" },
		{ "--out x.pft -- no-such-program-here", "no such program" },
		{ "--out x.pft -- /nonexistent-dir/prog", "/nonexistent-dir/prog: no such executable file" },
		{ "--out x.pft --qemu /nonexistent-qemu -- true", "cannot find /nonexistent-qemu" },
		{ "--out x.pft --plugin /nonexistent.so -- true", "cannot find the plugin" },
		{ "--out /nonexistent-dir/x.pft -- true", "nonexistent-dir" },
		{ "--bogus", "bogus" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cmd_result r = run_pflab("capture %s", bad[i].args);

		if (r.status != 2 || !strstr(r.err, bad[i].why))
			fprintf(stderr, "\n  capture %s: status %d, '%s'\n", bad[i].args, r.status, r.err);
		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, bad[i].why));
		CU_ASSERT_EQUAL(count_lines(r.err), 1);
		cmd_result_free(&r);
	}
	{
		struct cmd_result r = run_pflab("capture --help");

		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "usage: pflab capture"));
		cmd_result_free(&r);
	}
}

/* QEMU itself refuses the plugin with the parser's reason. */
static void test_plugin_refused_by_qemu(void)
{
	struct cmd_result r;

	if (!qemu_usable())
		return;
	r = run_shell("qemu-x86_64 -plugin '%s/libpflab-qemu.so,out=x.pft,frames=x' /bin/echo started",
		      build_dir());
	CU_ASSERT_NOT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(r.out, "started")); /* the program did not start */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab plugin: plugin argument 'frames=x'"));
	cmd_result_free(&r);
}

/* A failed program leaves nothing: no trace, the old file kept, no temporary. */
static void test_failed_run_leaves_nothing(void)
{
	const char *dir = scratch_dir();
	struct cmd_result r;

	if (!qemu_usable())
		return;
	r = run_shell("(mkdir -p '%s/fail' && echo keep > '%s/fail/old.pft' && "
		      "'%s' capture --out '%s/fail/new.pft' -- sh -c 'exit 3'; echo \"status $?\"; "
		      "'%s' capture --out '%s/fail/old.pft' -- false; echo \"status $?\"; "
		      "ulimit -c 0; '%s' capture --out '%s/fail/old.pft' -- sh -c 'echo x; kill -SEGV $$'; "
		      "echo \"status $?\"; ls -A '%s/fail'; cat '%s/fail/old.pft')",
		      dir, dir, pflab_path(), dir, pflab_path(), dir, pflab_path(), dir, dir, dir);
	/* A signal: QEMU dies before the plugin's end, its temporary file too is removed. */
	CU_ASSERT_STRING_EQUAL(r.out, "status 1\nstatus 1\nx\nstatus 1\nold.pft\nkeep\n");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "sh was killed by signal 11: nothing written"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "sh exited with status 3: nothing written"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "false exited with status 1: nothing written"));
	cmd_result_free(&r);
}

/* A write error in the plugin (the file size limit) fails the run and leaves nothing. */
static void test_write_error_leaves_nothing(void)
{
	const char *dir = scratch_dir();
	struct cmd_result r;

	if (!qemu_usable())
		return;
	r = run_shell("(mkdir -p '%s/big' && seq 1 300 > '%s/big.in' && trap '' XFSZ && ulimit -f 8 && "
		      "'%s' capture --out '%s/big/t.pft' -- sort -o /dev/null '%s/big.in'; "
		      "echo \"status $?\"; ls '%s/big')",
		      dir, dir, pflab_path(), dir, dir, dir);
	CU_ASSERT_STRING_EQUAL(r.out, "status 1\n");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab plugin: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "the plugin wrote no results"));
	cmd_result_free(&r);
}

/* A capture stopped by a signal (SIGTERM; Ctrl-C's SIGINT alike) leaves
 * nothing: an old file kept, no temporary file, exit 128 + the signal. */
static void test_interrupted_leaves_nothing(void)
{
	const char *dir = scratch_dir();
	struct cmd_result r;

	if (!qemu_usable())
		return;
	/* Wait until the plugin's own temporary file is there: QEMU runs. */
	r = run_shell("(mkdir -p '%s/intr' && echo keep > '%s/intr/old.pft' && "
		      "('%s' capture --out '%s/intr/old.pft' -- sleep 120 & pid=$!; "
		      "for i in $(seq 1200); do ls -A '%s/intr' | grep -q '^\\.\\.' && break; sleep 0.05; done; "
		      "kill -TERM $pid; wait $pid; echo \"status $?\"); ls -A '%s/intr'; cat '%s/intr/old.pft')",
		      dir, dir, pflab_path(), dir, dir, dir, dir);
	CU_ASSERT_STRING_EQUAL(r.out, "status 143\nold.pft\nkeep\n");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab capture: interrupted by signal 15: nothing written"));
	if (strcmp(r.out, "status 143\nold.pft\nkeep\n") != 0)
		fprintf(stderr, "\n  out: %s\n  err: %s\n", r.out, r.err);
	cmd_result_free(&r);
}

/*
 * What docs/qemu.md promises a user of pflab capture: PROGRAM keeps pflab's
 * standard input and output; the plugin is found at $PFLAB_QEMU_PLUGIN;
 * --frames takes sim's series; the results file of "The plugin on its own";
 * the plugin exports QEMU's two symbols only.
 */
static void test_capture_as_documented(void)
{
	const char *dir = scratch_dir(), *prog;
	unsigned long long buf;
	struct cmd_result r;

	if (!qemu_usable())
		return;
	r = run_shell("(echo through | '%s' capture --out '%s/cat.pft' -- cat)", pflab_path(), dir);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "through\n");
	cmd_result_free(&r);
	/* The environment's plugin is the one used: a wrong one is named. */
	r = run_shell("(PFLAB_QEMU_PLUGIN=/nonexistent/env.so '%s' capture --out '%s/t.pft' -- true)",
		      pflab_path(), dir);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "cannot find the plugin /nonexistent/env.so"));
	cmd_result_free(&r);
	r = run_shell("(PFLAB_QEMU_PLUGIN='%s/libpflab-qemu.so' '%s' capture --policy lru "
		      "--frames 4:16:x2 --csv -- true | cut -d, -f2-4)", build_dir(), pflab_path());
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "lru,4,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "lru,8,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "lru,16,"));
	CU_ASSERT_EQUAL(count_lines(r.out), 4);
	cmd_result_free(&r);
	/* The plugin on its own, and docs/qemu.md's results file, but the seconds. */
	prog = tiny_program(&buf);
	r = run_shell("(qemu-x86_64 -plugin '%s/libpflab-qemu.so,policy=fifo,frames=4,"
		      "range=0x%llx-0x%llx,results=%s/res.txt' '%s' && sed '/^run/s/ [0-9.]*$//' "
		      "'%s/res.txt')", build_dir(), buf, buf + 8 * 4096, dir, prog, dir);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "pflab-qemu-results 1\nrefs 11 writes 10 pages 8\n"
				      "run fifo 4 11 11 11 0 7 7 4 38 0 0\nend\n");
	cmd_result_free(&r);
	r = run_shell("(nm -D --defined-only '%s/libpflab-qemu.so' | awk '{ print $3 }' | sort)",
		      build_dir());
	CU_ASSERT_EQUAL(r.status, 0);
	if (strcmp(r.out, "qemu_plugin_install\nqemu_plugin_version\n") != 0)
		fprintf(stderr, "\n  exported: %s\n", r.out);
	CU_ASSERT_STRING_EQUAL(r.out, "qemu_plugin_install\nqemu_plugin_version\n");
	cmd_result_free(&r);
}

static CU_TestInfo qemu_tests[] = {
	{ "plugin arguments accepted, with their values", test_args_accepted },
	{ "bad plugin arguments refused, naming the argument", test_args_refused },
	{ "results file round trip; cut or bad files refused", test_results_round_trip },
	{ "sink: range and kind filters, page-spanning accesses", test_sink_pages },
	{ "sink: nothing matched is an error and leaves no file", test_sink_nothing_matched },
	{ "tiny static program: exact references by range, kind; live by hand", test_tiny_exact },
	{ "tiny static program: the same data references as Lackey", test_tiny_lackey },
	{ "sort: live equals pflab sim on the captured trace, every policy", test_live_equals_sim },
	{ "capture: bad usage refused with one line, status 2", test_capture_refusals },
	{ "qemu refuses the plugin with the parser's reason", test_plugin_refused_by_qemu },
	{ "a failed run leaves nothing", test_failed_run_leaves_nothing },
	{ "a write error in the plugin leaves nothing", test_write_error_leaves_nothing },
	{ "an interrupted capture leaves nothing", test_interrupted_leaves_nothing },
	{ "capture: stdin/stdout kept, $PFLAB_QEMU_PLUGIN, frame series, two symbols",
	  test_capture_as_documented },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("qemu", qemu_tests);
