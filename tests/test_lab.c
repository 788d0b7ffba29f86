// SPDX-License-Identifier: MIT
/*
 * The lab harness: pflab mrc, compare (and its job lists), regress.
 *
 *  - mrc's one-pass curves equal per-size `pflab sim` runs at every frame
 *    count, on random traces and on the LIRS paper's cpp trace; the stack
 *    distance engine equals a naive LRU and OPT on random traces, in-process;
 *  - compare writes every output, with exact row counts, and a bad trace
 *    fails only its own cells; a job list run with sh and merged gives the
 *    very results.csv of a direct run;
 *  - regress passes the project's scenarios, fails a broken expectation with
 *    a readable diff, skips KVM scenarios visibly where pflab run is missing,
 *    refuses a malformed file with file:line, and writes well-formed JUnit;
 *  - the text helpers the lab and the commands share (lab_text.c) quote CSV
 *    and JSON fields exactly, split lists with their empty items, and take
 *    strict numbers and durations;
 *  - lab_tempdir() registers what it makes, for a signal handler's
 *    lab_tempdir_remove_all(): every directory and what it holds goes,
 *    links are not followed, a forked child removes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab_diff.h"
#include "lab_frames.h"
#include "lab_optstack.h"
#include "lab_proc.h"
#include "lab_stackdist.h"
#include "lab_table.h"
#include "lab_text.h"
#include "test.h"

/*
 * A random reference string of n references over `pages` ids, of a given
 * shape: 0 uniform, 1 a loop with noise, 2 skewed (hot pages), 3 phases.
 * Page ids are scattered (x 7919) so that renaming is exercised.
 */
static uint32_t *random_trace(uint64_t seed, int shape, size_t n, uint32_t pages)
{
	uint32_t *v = malloc(sizeof(*v) * n);
	struct test_rng s = { seed };

	for (size_t i = 0; v && i < n; i++) {
		uint64_t r = test_rng_next(&s);
		uint32_t p;

		switch (shape) {
		case 0: p = (uint32_t)(r % pages); break;
		case 1: p = r % 8 ? (uint32_t)(i % pages) : (uint32_t)(r % pages); break;
		case 2: p = (uint32_t)((r % pages) * (test_rng_next(&s) % pages) / pages); break;
		default: p = (uint32_t)((i / 97) % 3 * pages / 3 + r % (pages / 3 + 1)); break;
		}
		v[i] = p * 7919 + 11;
	}
	return v;
}

static char *write_trace(const char *name, const uint32_t *v, size_t n)
{
	size_t cap = n * 12 + 1, len = 0;
	char *text = malloc(cap), *path;

	for (size_t i = 0; text && i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "%u\n", v[i]);
	path = write_file(name, text ? text : "");
	free(text);
	return strdup(path);
}

/* faults[f - 1] from `frames,faults,...` CSV text (mrc's). Returns the row count. */
static size_t mrc_rows(const char *csv, uint64_t *faults, size_t max)
{
	const char *line = strchr(csv, '\n');
	size_t n = 0;

	while (line && *++line) {
		unsigned frames;
		unsigned long long f;

		if (sscanf(line, "%u,%llu,", &frames, &f) != 2 || frames == 0 || frames > max)
			return 0;
		faults[frames - 1] = f;
		n++;
		line = strchr(line, '\n');
	}
	return n;
}

/* The faults column of pflab sim's CSV for one policy, by frame count. */
static size_t sim_rows(const char *csv, const char *policy, uint64_t *faults, size_t max)
{
	const char *p = csv;
	char *f[16];
	size_t n = 0;
	int nf = lab_csv_record(&p, f, 16);

	lab_csv_free(f, nf);
	while ((nf = lab_csv_record(&p, f, 16)) > 0) {
		unsigned long frames = nf >= 5 ? strtoul(f[2], NULL, 10) : 0;

		if (frames >= 1 && frames <= max && !strcmp(f[1], policy)) {
			faults[frames - 1] = strtoull(f[4], NULL, 10);
			n++;
		}
		lab_csv_free(f, nf);
	}
	return n;
}

/* mrc's curve against pflab sim at every size 1 .. distinct, for LRU and OPT. */
static void check_mrc_equals_sim(const char *trace, size_t distinct)
{
	uint32_t *all = malloc(sizeof(*all) * distinct);
	uint64_t *a = calloc(distinct, sizeof(*a)), *b = calloc(distinct, sizeof(*b));
	char *list;

	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	for (size_t i = 0; i < distinct; i++)
		all[i] = (uint32_t)i + 1;
	list = lab_frames_join(all, distinct);
	for (int k = 0; k < 2; k++) {
		const char *policy = k ? "opt" : "lru";
		struct cmd_result m = run_pflab("mrc '%s' --policy %s --csv", trace, policy);
		struct cmd_result s = run_pflab("sim '%s' --policy %s --frames %s --csv", trace, policy,
						list);

		CU_ASSERT_EQUAL(m.status, 0);
		CU_ASSERT_EQUAL(s.status, 0);
		CU_ASSERT_EQUAL(mrc_rows(m.out, a, distinct), distinct);
		CU_ASSERT_EQUAL(sim_rows(s.out, policy, b, distinct), distinct);
		for (size_t i = 0; i < distinct; i++) {
			if (a[i] != b[i]) {
				fprintf(stderr, "\n  %s %s, %zu frames: mrc %llu, sim %llu\n", trace, policy,
					i + 1, (unsigned long long)a[i], (unsigned long long)b[i]);
				CU_FAIL("mrc differs from pflab sim");
				break;
			}
		}
		cmd_result_free(&m);
		cmd_result_free(&s);
	}
	free(list);
	free(all);
	free(a);
	free(b);
}

static size_t count_distinct(const uint32_t *v, size_t n)
{
	size_t d = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < i && v[j] != v[i])
			j++;
		d += j == i;
	}
	return d;
}

static void test_mrc_equals_sim_random(void)
{
	for (int t = 0; t < 6; t++) {
		size_t n = 400 + (size_t)t * 300;
		uint32_t pages = 12 + (uint32_t)t * 17;
		uint32_t *v = random_trace(100 + (uint64_t)t, t % 4, n, pages);
		char name[32], *path;

		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		snprintf(name, sizeof(name), "mrc-random-%d.txt", t);
		path = write_trace(name, v, n);
		check_mrc_equals_sim(path, count_distinct(v, n));
		free(path);
		free(v);
	}
}

static void test_mrc_equals_sim_cpp(void)
{
	const char *dir = shared_traces();
	char path[512];

	if (!dir) {
		test_skip("../shared/traces is absent: cpp.txt not checked");
		return;
	}
	snprintf(path, sizeof(path), "%s/lirs/cpp.txt", dir);
	check_mrc_equals_sim(path, 1223); /* cpp.txt's distinct blocks */
}

/* Naive LRU and OPT: a list of resident pages, searched and shifted. */
static uint64_t naive(const uint32_t *p, size_t n, uint32_t frames, bool opt)
{
	uint32_t *mem = malloc(sizeof(*mem) * frames), len = 0;
	uint64_t faults = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t j = 0, victim = 0;
		size_t furthest = 0;

		while (j < len && mem[j] != p[i])
			j++;
		if (j < len) {
			if (!opt) { /* most recent first */
				memmove(mem + 1, mem, sizeof(*mem) * j);
				mem[0] = p[i];
			}
			continue;
		}
		faults++;
		if (len < frames) {
			memmove(mem + 1, mem, sizeof(*mem) * len++);
			mem[0] = p[i];
			continue;
		}
		if (!opt) {
			memmove(mem + 1, mem, sizeof(*mem) * (len - 1));
			mem[0] = p[i];
			continue;
		}
		for (j = 0; j < len; j++) {
			size_t k = i + 1;

			while (k < n && p[k] != mem[j])
				k++;
			if (k > furthest) {
				furthest = k;
				victim = j;
			}
		}
		mem[victim] = p[i];
	}
	free(mem);
	return faults;
}

/* The engine in-process, fed in uneven chunks, against the naive versions. */
static void test_stack_distances_naive(void)
{
	for (int t = 0; t < 40; t++) {
		size_t n = 50 + (size_t)t * 37;
		uint32_t pages = 3 + (uint32_t)t * 3, distinct = 0;
		uint32_t *v = random_trace(7 + (uint64_t)t, t % 4, n, pages);
		uint32_t *dense = malloc(sizeof(*dense) * n), *next = malloc(sizeof(*next) * n);
		uint32_t *map = malloc(sizeof(*map) * n), *last;
		struct lab_lru_stack *s = lab_lru_stack_create();
		struct lab_opt_online *on = lab_opt_online_create();
		struct lab_mrc opt;
		uint64_t *lf, *of, *nf;

		CU_ASSERT_FATAL(v && dense && next && map && s && on);
		for (size_t i = 0; i < n; i++) { /* rename in order of first use */
			uint32_t j = 0;

			while (j < distinct && map[j] != v[i])
				j++;
			if (j == distinct)
				map[distinct++] = v[i];
			dense[i] = j;
		}
		last = calloc(distinct, sizeof(*last));
		for (size_t i = n; i-- > 0;) {
			next[i] = last[dense[i]];
			last[dense[i]] = (uint32_t)i + 1;
		}
		for (size_t i = 0; i < n; i += 1 + (size_t)t % 23)
			CU_ASSERT_EQUAL(lab_lru_stack_feed(s, dense + i, n - i < 1 + (size_t)t % 23 ?
							   n - i : 1 + (size_t)t % 23), 0);
		CU_ASSERT_EQUAL_FATAL(lab_opt_stack(dense, next, n, distinct, &opt), 0);
		for (size_t i = 0; i < n; i += 1 + (size_t)t % 19)
			CU_ASSERT_EQUAL(lab_opt_online_feed(on, dense + i, n - i < 1 + (size_t)t % 19 ?
							    n - i : 1 + (size_t)t % 19), 0);
		CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->distinct, distinct);
		CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->refs, n);
		CU_ASSERT_EQUAL(lab_lru_stack_mrc(s)->distinct, distinct);
		CU_ASSERT_EQUAL(lab_lru_stack_mrc(s)->refs, n);
		CU_ASSERT_EQUAL(opt.distinct, distinct);
		lf = malloc(sizeof(*lf) * distinct);
		of = malloc(sizeof(*of) * distinct);
		lab_mrc_faults(lab_lru_stack_mrc(s), lf);
		lab_mrc_faults(&opt, of);
		nf = malloc(sizeof(*nf) * distinct);
		lab_mrc_faults(lab_opt_online_mrc(on), nf);
		for (uint32_t c = 1; c <= distinct; c++) {
			uint64_t belady = naive(dense, n, c, true);

			CU_ASSERT_EQUAL(lf[c - 1], naive(dense, n, c, false));
			CU_ASSERT_EQUAL(of[c - 1], belady);
			CU_ASSERT_EQUAL(nf[c - 1], belady);
		}
		free(lf);
		free(of);
		free(nf);
		lab_opt_online_destroy(on);
		lab_mrc_fini(&opt);
		lab_lru_stack_destroy(s);
		free(last);
		free(map);
		free(next);
		free(dense);
		free(v);
	}
}

/* Enough references to make the LRU engine renumber its marks many times. */
static void test_stack_distances_compaction(void)
{
	const size_t n = 400000;
	uint32_t *v = malloc(sizeof(*v) * n);
	struct lab_lru_stack *s = lab_lru_stack_create();
	struct test_rng rng = { 5 };
	uint64_t *lf;

	CU_ASSERT_FATAL(v && s);
	for (size_t i = 0; i < n; i++) /* pages 0..4999 first, then mostly a hot set */
		v[i] = i < 5000 ? (uint32_t)i : (uint32_t)(test_rng_next(&rng) % (i % 5 ? 40 : 5000));
	CU_ASSERT_EQUAL(lab_lru_stack_feed(s, v, n), 0);
	lf = malloc(sizeof(*lf) * 5000);
	lab_mrc_faults(lab_lru_stack_mrc(s), lf);
	for (uint32_t c = 1; c <= 64; c += 9)
		CU_ASSERT_EQUAL(lf[c - 1], naive(v, n, c, false));
	CU_ASSERT_EQUAL(lf[4999], 5000); /* all resident: cold misses only */
	free(lf);
	free(v);
	lab_lru_stack_destroy(s);
}

/*
 * The on-line OPT distances against Mattson's update (lab_opt_stack, an
 * independent algorithm), histogram entry by entry, on traces long enough
 * for the slots to be renumbered many times: a cold sweep, then a hot set
 * with cold references among it, and each of random_trace's shapes.
 */
static void test_opt_online_mattson(void)
{
	const size_t n = 200000;
	uint32_t *v = malloc(sizeof(*v) * n), *next = malloc(sizeof(*next) * n);
	uint32_t *last = malloc(sizeof(*last) * 5000);
	struct test_rng rng = { 9 };

	CU_ASSERT_FATAL(v && next && last);
	for (int shape = 0; shape < 5; shape++) {
		struct lab_opt_online *on = lab_opt_online_create();
		struct lab_mrc ref;
		uint32_t *w = shape < 4 ? random_trace(40 + (uint64_t)shape, shape, n, 5000) : NULL;
		uint32_t distinct = 0;

		CU_ASSERT_FATAL(on != NULL);
		for (uint32_t p = 0; p < 5000; p++)
			last[p] = UINT32_MAX;
		for (size_t i = 0; i < n; i++) { /* dense numbers in order of first use */
			uint32_t p = w ? (w[i] - 11) / 7919
				       : i < 5000 ? (uint32_t)i
				       : (uint32_t)(test_rng_next(&rng) % (i % 5 ? 40 : 5000));

			if (last[p] == UINT32_MAX)
				last[p] = distinct++;
			v[i] = last[p];
		}
		for (uint32_t p = 0; p < distinct; p++)
			last[p] = 0;
		for (size_t i = n; i-- > 0;) {
			next[i] = last[v[i]];
			last[v[i]] = (uint32_t)i + 1;
		}
		CU_ASSERT_EQUAL_FATAL(lab_opt_stack(v, next, n, distinct, &ref), 0);
		for (size_t i = 0; i < n; i += 4096)
			CU_ASSERT_EQUAL_FATAL(lab_opt_online_feed(on, v + i, n - i < 4096 ? n - i : 4096), 0);
		CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->refs, n);
		CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->cold, distinct);
		CU_ASSERT_EQUAL_FATAL(lab_opt_online_mrc(on)->distinct, distinct);
		for (uint32_t d = 1; d <= distinct; d++) {
			if (lab_opt_online_mrc(on)->hist[d] != ref.hist[d]) {
				fprintf(stderr, "\n  shape %d, depth %u: on line %llu, Mattson %llu\n", shape,
					d, (unsigned long long)lab_opt_online_mrc(on)->hist[d],
					(unsigned long long)ref.hist[d]);
				CU_FAIL("on-line OPT distances differ from Mattson's");
				break;
			}
		}
		lab_mrc_fini(&ref);
		lab_opt_online_destroy(on);
		free(w);
	}
	free(last);
	free(next);
	free(v);
}

/* Golden: the OPT distances of Belady's string, from Belady's MIN at 1..5
 * frames (worked by hand), fed in pieces, one of them empty. */
static void test_opt_online_golden(void)
{
	/* 1 2 3 4 1 2 5 1 2 3 4 5: Belady's MIN faults 12 9 7 6 5 at 1..5 frames */
	const uint32_t refs[] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };
	const uint64_t faults[] = { 12, 9, 7, 6, 5 };
	struct lab_opt_online *on = lab_opt_online_create();
	uint64_t f[5];

	CU_ASSERT_FATAL(on != NULL);
	CU_ASSERT_EQUAL(lab_opt_online_feed(on, refs, 5), 0);
	CU_ASSERT_EQUAL(lab_opt_online_feed(on, refs + 5, 0), 0);
	CU_ASSERT_EQUAL(lab_opt_online_feed(on, refs + 5, 7), 0);
	CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->refs, 12);
	CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->cold, 5);
	CU_ASSERT_EQUAL_FATAL(lab_opt_online_mrc(on)->distinct, 5);
	/* the 7 re-references: 3 hit from 2 frames, 2 from 3, 1 from 4, 1 from 5 */
	CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->hist[1], 0);
	CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->hist[2], 3);
	CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->hist[3], 2);
	CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->hist[4], 1);
	CU_ASSERT_EQUAL(lab_opt_online_mrc(on)->hist[5], 1);
	lab_mrc_faults(lab_opt_online_mrc(on), f);
	for (int c = 0; c < 5; c++)
		CU_ASSERT_EQUAL(f[c], faults[c]);
	lab_opt_online_destroy(on);
}

/* A non-stack policy: said in one line, then per-size pflab sim runs. */
static void test_mrc_fallback(void)
{
	const char *t = write_file("mrc-belady.txt", "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n");
	struct cmd_result r = run_pflab("mrc '%s' --policy fifo --csv", t);

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "fifo is not a stack algorithm"));
	CU_ASSERT_STRING_EQUAL(r.out, "frames,faults,miss_ratio\n"
				      "1,12,1.000000\n2,12,1.000000\n3,9,0.750000\n"
				      "4,10,0.833333\n5,5,0.416667\n");
	cmd_result_free(&r);
	r = run_pflab("mrc '%s' --policy lru --frames 3:4:+1,5", t);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "         3             10   0.833333\n"
					     "         4              8   0.666667\n"
					     "         5              5   0.416667\n"));
	cmd_result_free(&r);
	r = run_pflab("mrc '%s' --policy nosuch", t);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "unknown policy 'nosuch'"));
	cmd_result_free(&r);
	/* More sizes than one pflab sim batch (16): a second run in the same
	 * temporary directory, whose files are made new each time. */
	r = run_pflab("mrc '%s' --policy fifo --frames 1:20:+1 --csv", t);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\n16,5,0.416667\n17,5,0.416667\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\n20,5,0.416667\n"));
	cmd_result_free(&r);
}

static void check_frames(const char *spec, const uint32_t *want, size_t n)
{
	uint32_t *v = NULL;
	size_t got = 0;
	char why[200] = "";

	CU_ASSERT_EQUAL_FATAL(lab_frames_parse(spec, 1u << 31, &v, &got, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(got, n);
	for (size_t i = 0; i < n && i < got; i++)
		CU_ASSERT_EQUAL(v[i], want[i]);
	free(v);
}

static void test_frames_syntax(void)
{
	const char *bad[] = { "", "0", "8:4:x2", "4:64:x1", "4:64:y2", "4:64", "1,,2", "4:64:+0",
			      "1:2000000:+1", "a:8:x2" };
	uint32_t *v = NULL;
	size_t n;
	char why[200];

	check_frames("4:64:x2", (const uint32_t[]){ 4, 8, 16, 32, 64 }, 5);
	check_frames("4:60:x2", (const uint32_t[]){ 4, 8, 16, 32 }, 4);
	check_frames("10:50:+20", (const uint32_t[]){ 10, 30, 50 }, 3);
	check_frames("3,1,2:8:x2,3", (const uint32_t[]){ 1, 2, 3, 4, 8 }, 5);
	check_frames("1:10:x1.5", (const uint32_t[]){ 1, 2, 3, 5, 8 }, 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = lab_frames_parse(bad[i], 1u << 31, &v, &n, why, sizeof(why));

		if (rc == 0)
			fprintf(stderr, "\n  '%s' was accepted\n", bad[i]);
		CU_ASSERT_EQUAL(rc, -1);
	}
	/* LAB_FRAMES_MAX_COUNT exactly, then one more: refused, whatever the
	 * growth of the list (100,001 once passed when the bound was checked
	 * only on growing; found by tests/fuzz/fuzz_frames.c). */
	CU_ASSERT_EQUAL(lab_frames_parse("1:100000:+1", 1u << 31, &v, &n, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(n, LAB_FRAMES_MAX_COUNT);
	free(v);
	v = NULL;
	CU_ASSERT_EQUAL(lab_frames_parse("1:100000:+1,200000", 1u << 31, &v, &n, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "more than 100000 frame counts");
	CU_ASSERT_EQUAL(lab_frames_parse("5:832104:+7,4", 1u << 31, &v, &n, why, sizeof(why)), -1);
}

/* ------------------------------------------------------------ compare */

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static size_t count_of(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static char *read_out(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lab_read_file(path, NULL);
}

/* A PNG file: present, non-empty, with the PNG signature. */
static bool is_png(const char *dir, const char *name)
{
	size_t len = 0;
	char *data = NULL, path[1024];
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	data = lab_read_file(path, &len);
	ok = data && len > 1000 && !memcmp(data, "\x89PNG\r\n\x1a\n", 8);
	free(data);
	return ok;
}

/* Brackets and braces balance outside strings: JSON's shape, roughly. */
static bool json_balanced(const char *s)
{
	int depth = 0;
	bool in_string = false;

	for (; *s; s++) {
		if (in_string) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_string = false;
			continue;
		}
		if (*s == '"')
			in_string = true;
		else if (*s == '{' || *s == '[')
			depth++;
		else if ((*s == '}' || *s == ']') && --depth < 0)
			return false;
	}
	return depth == 0 && !in_string;
}

/* Three generated traces in three formats, named by absolute path. */
static void gen_traces(char **t)
{
	char path[3][600];
	struct cmd_result r;

	snprintf(path[0], sizeof(path[0]), "%s/cmp-zipf.pft", scratch_dir());
	snprintf(path[1], sizeof(path[1]), "%s/cmp-phases.txt", scratch_dir());
	snprintf(path[2], sizeof(path[2]), "%s/cmp-uniform.rw", scratch_dir());
	r = run_pflab("trace gen zipf --pages 400 --refs 6000 --alpha 0.9 --seed 3 -o '%s'", path[0]);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	r = run_pflab("trace gen phases --phases 'loop:90:2000,zipf:1.0:300:3000' --seed 4 "
		      "--format txt -o '%s'", path[1]);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	r = run_pflab("trace gen uniform --pages 200 --refs 4000 --write-ratio 0.3 --seed 5 "
		      "--format rw -o '%s'", path[2]);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	for (int i = 0; i < 3; i++) {
		t[i] = realpath(path[i], NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(t[i]);
	}
}

#define CMP_POLICIES "fifo,lru,clock,arc,lirs,opt"
#define CMP_FRAMES "8:64:x2" /* 8, 16, 32, 64 */

static void test_compare_outputs(void)
{
	char *t[3], out[600], *csv, *json, *report;
	struct lab_table rows;
	char path[700], err[800];
	struct cmd_result r;
	const char *const figures[] = {
		"miss-1-cmp-zipf_pft.png", "vs-opt-1-cmp-zipf_pft.png",
		"miss-2-cmp-phases_txt.png", "vs-opt-2-cmp-phases_txt.png",
		"miss-3-cmp-uniform_rw.png", "vs-opt-3-cmp-uniform_rw.png",
	};

	gen_traces(t);
	snprintf(out, sizeof(out), "%s/cmp-out", scratch_dir());
	r = run_pflab("compare --trace '%s' --trace '%s' --trace '%s' --policy " CMP_POLICIES
		      " --frames " CMP_FRAMES " --jobs 2 --out '%s'", t[0], t[1], t[2], out);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "compare: 18 cells, 0 failed"));
	CU_ASSERT_STRING_EQUAL(r.err, ""); /* not a terminal: no progress bar */
	cmd_result_free(&r);

	csv = read_out(out, "results.csv");
	json = read_out(out, "results.json");
	report = read_out(out, "report.md");
	CU_ASSERT_FATAL(csv && json && report);
	CU_ASSERT_EQUAL(count_lines(csv), 1 + 3 * 6 * 4);
	CU_ASSERT_EQUAL(strncmp(csv, "trace,policy,frames,refs,faults,miss_ratio,writebacks,", 54), 0);
	CU_ASSERT(json_balanced(json));
	CU_ASSERT_EQUAL(count_of(json, "\"policy\": "), 3 * 6 * 4);
	CU_ASSERT_EQUAL(count_of(json, "\"error\": null"), 3 * 6 * 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"opt\": \"requested\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"failed_cells\": 0,"));
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		char svg[128];

		CU_ASSERT(is_png(out, figures[i]));
		CU_ASSERT_PTR_NOT_NULL(strstr(report, figures[i]));
		snprintf(svg, sizeof(svg), "%.*s.svg", (int)strlen(figures[i]) - 4, figures[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(report, svg));
	}

	/* The report names, per trace and size, the policy with the fewest
	 * faults (OPT aside): check every row against the CSV. */
	lab_table_init(&rows);
	snprintf(path, sizeof(path), "%s/results.csv", out);
	CU_ASSERT_EQUAL_FATAL(lab_table_read_csv(&rows, path, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++)
		for (unsigned f = 8; f <= 64; f *= 2) {
			const char *best = NULL;
			uint64_t min = UINT64_MAX;
			char want[128], section[700];
			const char *at;

			for (size_t k = 0; k < rows.n; k++) {
				const struct lab_row *row = &rows.row[k];

				if (!strcmp(row->trace, t[i]) && row->frames == f &&
				    strcmp(row->policy, "opt") && row->faults < min) {
					min = row->faults;
					best = row->policy;
				}
			}
			CU_ASSERT_PTR_NOT_NULL_FATAL(best);
			snprintf(section, sizeof(section), "## Trace %d: `%s`", i + 1, t[i]);
			at = strstr(report, section);
			CU_ASSERT_PTR_NOT_NULL_FATAL(at);
			snprintf(want, sizeof(want), "\n| %u | %s", f, best);
			CU_ASSERT_PTR_NOT_NULL(strstr(at, want));
			CU_ASSERT_PTR_NULL(strstr(at, "| all (tie) |")); /* no size holds them all */
		}
	lab_table_fini(&rows);
	free(csv);
	free(json);
	free(report);
	for (int i = 0; i < 3; i++)
		free(t[i]);
}

/*
 * The figures' data, exactly: Belady's string at 2 and 3 frames, where FIFO
 * faults 12 and 9 times, LRU 12 and 10, OPT 9 and 7. The vs-OPT figure
 * plots faults / OPT's faults, OPT itself at 1.
 */
static void test_compare_figure_data(void)
{
	const char *trace = write_file("cmp-belady.txt", "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n");
	char path[600], out[600], *miss, *rel;
	struct cmd_result r;

	snprintf(path, sizeof(path), "%s", trace);
	snprintf(out, sizeof(out), "%s/cmp-belady", scratch_dir());
	r = run_pflab("compare --trace '%s' --policy fifo,lru,opt --frames 2,3 --out '%s'", path, out);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	miss = read_out(out, "data/miss-1-cmp-belady_txt.dat");
	rel = read_out(out, "data/vs-opt-1-cmp-belady_txt.dat");
	CU_ASSERT_PTR_NOT_NULL_FATAL(miss);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rel);
	CU_ASSERT_STRING_EQUAL(miss, "# x\tfifo\tlru\topt\n"
				     "2\t1\t1\t0.75\n"
				     "3\t0.75\t0.833333\t0.583333\n");
	CU_ASSERT_STRING_EQUAL(rel, "# x\tfifo\tlru\topt\n"
				    "2\t1.333333333\t1.333333333\t1\n"
				    "3\t1.285714286\t1.428571429\t1\n");
	free(miss);
	free(rel);
}

/* A bad trace fails its own cells, with the reason everywhere; the rest finish. */
static void test_compare_bad_trace(void)
{
	const char *good = write_file("cmp-good.txt", "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n");
	char good_path[600], bad_path[600], missing[600], out[600], *csv, *json, *report;
	struct cmd_result r;

	snprintf(good_path, sizeof(good_path), "%s", good);
	snprintf(bad_path, sizeof(bad_path), "%s", write_file("cmp-bad.txt", "1\n2\nxyz\n"));
	snprintf(missing, sizeof(missing), "%s/no-such-trace.txt", scratch_dir());
	snprintf(out, sizeof(out), "%s/cmp-bad-out", scratch_dir());
	r = run_pflab("compare --trace '%s' --trace '%s' --trace '%s' --policy fifo,lru "
		      "--frames 3,4 --out '%s' --no-plots", good_path, bad_path, missing, out);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "compare: 9 cells, 6 failed")); /* opt added */
	cmd_result_free(&r);
	csv = read_out(out, "results.csv");
	json = read_out(out, "results.json");
	report = read_out(out, "report.md");
	CU_ASSERT_FATAL(csv && json && report);
	CU_ASSERT_EQUAL(count_lines(csv), 1 + 3 * 3 * 2);
	/* The good trace's rows are whole: FIFO 9 and 10 (Belady), LRU 10 and 8. */
	CU_ASSERT_PTR_NOT_NULL(strstr(csv, ",fifo,3,12,9,0.750000,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(csv, ",fifo,4,12,10,0.833333,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(csv, ",lru,4,12,8,0.666667,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(csv, ",opt,3,12,7,0.583333,"));
	CU_ASSERT_EQUAL(count_of(csv, "cmp-bad.txt:3: 'xyz' is not a page number"), 3 * 2);
	CU_ASSERT_EQUAL(count_of(csv, "no-such-trace.txt"), 3 * 2 * 2); /* trace and reason */
	CU_ASSERT(json_balanced(json));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"failed_cells\": 6,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"opt\": \"added\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(report, "## Failed cells"));
	CU_ASSERT_PTR_NOT_NULL(strstr(report, "| lru | pflab sim: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(report, "6 of 9 cells failed"));
	free(csv);
	free(json);
	free(report);
}

/* The job list run with sh, then merged: the same results.csv as a direct run. */
static void test_compare_jobs_merge(void)
{
	char *t[3], out[600], direct[600], *a, *b, *jobs, *slurm;
	struct cmd_result r;

	gen_traces(t);
	snprintf(out, sizeof(out), "%s/scale", scratch_dir());
	snprintf(direct, sizeof(direct), "%s/scale-direct", scratch_dir());
	r = run_pflab("compare --trace '%s' --trace '%s' --trace '%s' --policy fifo,clock,lirs "
		      "--frames 10:40:+10 --out '%s' --emit-jobs '%s/jobs.txt'", t[0], t[1], t[2], out,
		      scratch_dir());
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	jobs = read_out(scratch_dir(), "jobs.txt");
	slurm = read_out(scratch_dir(), "jobs.slurm");
	CU_ASSERT_FATAL(jobs && slurm);
	CU_ASSERT_EQUAL(count_lines(jobs), 3 * 4); /* opt added per trace */
	CU_ASSERT_EQUAL(count_of(jobs, " compare --part --trace "), 3 * 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(slurm, "#SBATCH --array=1-12\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(slurm, "sed -n \"${SLURM_ARRAY_TASK_ID}p\" "));
	r = run_shell("sh '%s/jobs.txt'", scratch_dir());
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	r = run_pflab("compare --merge '%s'/parts/* --out '%s' --no-plots", out, out);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "merged 12 partial results: 3 traces, 4 policies, "
					     "4 frame counts, 0 failed rows"));
	cmd_result_free(&r);
	/* The parts name traces by absolute path, as gen_traces() does. */
	r = run_pflab("compare --trace '%s' --trace '%s' --trace '%s' --policy fifo,clock,lirs "
		      "--frames 10:40:+10 --out '%s' --no-plots", t[0], t[1], t[2], direct);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	a = read_out(out, "results.csv");
	b = read_out(direct, "results.csv");
	CU_ASSERT_FATAL(a && b);
	CU_ASSERT_EQUAL(count_lines(a), 1 + 3 * 4 * 4);
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
	free(jobs);
	free(slurm);
	for (int i = 0; i < 3; i++)
		free(t[i]);
}

/* ------------------------------------------------------------ regress */

static void test_regress_project_scenarios(void)
{
	struct stat st;
	struct cmd_result r;

	if (stat("tests/scenarios", &st) != 0) {
		test_skip("tests/scenarios not found: run from the checkout's top directory");
		return;
	}
	r = run_pflab("regress tests/scenarios");
	if (r.status != 0)
		fprintf(stderr, "\n%s%s", r.out, r.err);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "PASS  textbook/fifo"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "PASS  belady/fifo-4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "PASS  writeback/fifo-zero-fill"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, " 0 failed, "));
	cmd_result_free(&r);
}

#define BROKEN_SCENARIO                                                   \
	"# LRU takes 12 faults here, not 11: this must fail.\n"           \
	"refs: 7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1\n"                 \
	"frames: 3\n"                                                     \
	"\n"                                                              \
	"scenario lru-wrong\n"                                            \
	"policy: lru\n"                                                   \
	"expect faults: 11\n"                                             \
	"expect fault-seq: 7 0 1 2 3 4 2 3 0 1 7 0\n"                     \
	"\n"                                                              \
	"scenario fifo-right\n"                                           \
	"policy: fifo\n"                                                  \
	"expect faults: 15\n"                                             \
	"\n"                                                              \
	"scenario needs-kvm\n"                                            \
	"command: run\n"                                                  \
	"policy: fifo\n"                                                  \
	"expect faults: 15\n"

static void test_regress_broken_expectation(void)
{
	const char *path = write_file("broken.scenario", BROKEN_SCENARIO);
	char scenario[600];
	struct cmd_result r;

	snprintf(scenario, sizeof(scenario), "%s", path);
	r = run_pflab("regress '%s'", scenario);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "FAIL  broken/lru-wrong ("));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "): faults: expected 11, got 12\n"));
	/* The diff: expected against actual, unified style. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "    --- expected CSV columns (" ));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "broken.scenario:7)\n    +++ actual (pflab sim --csv)\n"
					     "    @@ -1,1 +1,1 @@\n    -faults: 11\n    +faults: 12\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "broken.scenario:8)\n"
					     "    +++ actual (pflab regress --fault-sequence)\n"
					     "    @@ -8,5 +8,5 @@\n     3\n     0\n     1\n    -7\n"
					     "     0\n    +7\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "PASS  broken/fifo-right"));
	{
		/* A pass says its seconds, two decimals: "PASS  G/N (S.SS s)\n". */
		const char *p = strstr(r.out, "PASS  broken/fifo-right (");
		size_t digits;

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		p += strlen("PASS  broken/fifo-right (");
		digits = strspn(p, "0123456789");
		CU_ASSERT(digits >= 1);
		CU_ASSERT(p[digits] == '.' && strspn(p + digits + 1, "0123456789") == 2);
		CU_ASSERT_EQUAL(strncmp(p + digits + 3, " s)\n", 4), 0);
	}
	/* needs-kvm passes where KVM works and is skipped elsewhere */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, " passed, 1 failed, "));
	cmd_result_free(&r);
}

/* Minimal well-formedness: every tag closed in order, attributes quoted. */
static bool xml_well_formed(const char *s)
{
	const char *stack[32];
	size_t len[32];
	int depth = 0;

	if (strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39))
		return false;
	for (s += 39; (s = strchr(s, '<'));) {
		bool closing = s[1] == '/';
		const char *name = s + 1 + closing, *end = strchr(s, '>');
		size_t n = strcspn(name, " />");

		if (!end)
			return false;
		for (const char *q = s; q < end; q++) /* no bare < or & inside a tag */
			if ((q > s && *q == '<') || (*q == '&' && strncmp(q, "&amp;", 5) &&
						     strncmp(q, "&lt;", 4) && strncmp(q, "&gt;", 4) &&
						     strncmp(q, "&quot;", 6) && strncmp(q, "&apos;", 6) &&
						     strncmp(q, "&#", 2)))
				return false;
		if (closing) {
			if (!depth || len[depth - 1] != n || strncmp(stack[depth - 1], name, n))
				return false;
			depth--;
		} else if (end[-1] != '/') {
			if (depth == 32)
				return false;
			stack[depth] = name;
			len[depth++] = n;
		}
		s = end + 1;
	}
	return depth == 0;
}

static void test_regress_junit(void)
{
	char scenario[600], fake[600], junit[600], *xml;
	struct cmd_result r;

	snprintf(scenario, sizeof(scenario), "%s", write_file("junit.scenario", BROKEN_SCENARIO));
	/* A pflab without `run`: the KVM scenario must be skipped, visibly. */
	snprintf(fake, sizeof(fake), "%s",
		 write_file("pflab-no-run", "#!/bin/sh\n[ \"$1\" = run ] && exit 2\nexec \"$REAL\" \"$@\"\n"));
	chmod(fake, 0755);
	snprintf(junit, sizeof(junit), "%s/out.xml", scratch_dir());
	r = run_shell("REAL='%s' '%s' regress '%s' --pflab '%s' --junit '%s'", pflab_path(),
		      pflab_path(), scenario, fake, junit);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "SKIP  junit/needs-kvm: "));
	CU_ASSERT(strstr(r.out, "pflab run is not available") || strstr(r.out, "no usable /dev/kvm"));
	cmd_result_free(&r);
	xml = read_out(scratch_dir(), "out.xml");
	CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
	CU_ASSERT(xml_well_formed(xml));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<testsuites name=\"pflab regress\" tests=\"3\" "
					   "failures=\"1\" errors=\"0\" skipped=\"1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<testsuite name=\"junit\" tests=\"3\" failures=\"1\" "
					   "errors=\"0\" skipped=\"1\""));
	CU_ASSERT_EQUAL(count_of(xml, "<testcase "), 3);
	CU_ASSERT_EQUAL(count_of(xml, "<failure "), 1);
	CU_ASSERT_EQUAL(count_of(xml, "<skipped "), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "message=\"faults: expected 11, got 12\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "    -faults: 11\n    +faults: 12\n"));
	{
		/* Each case names its group, scenario and file. */
		char want[800];

		snprintf(want, sizeof(want),
			 "<testcase classname=\"junit\" name=\"lru-wrong\" file=\"%s\" time=\"",
			 scenario);
		CU_ASSERT_PTR_NOT_NULL(strstr(xml, want));
	}
	free(xml);
}

/* A bad number option is one exact line and status 2. */
static void test_compare_regress_bad_numbers(void)
{
	static const char *const bad[][2] = {
		{ "compare --trace x --jobs 0", "pflab compare: --jobs: '0' is out of range [1, 4096]\n" },
		{ "compare --trace x --aging-bits 65",
		  "pflab compare: --aging-bits: '65' is out of range [1, 64]\n" },
		{ "regress --fault-sequence --frames x",
		  "pflab regress: --frames: 'x' is not a whole number\n" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cmd_result r = run_pflab("%s", bad[i][0]);

		CU_ASSERT_EQUAL(r.status, 2);
		CU_ASSERT_STRING_EQUAL(r.err, bad[i][1]);
		cmd_result_free(&r);
	}
}

static void test_regress_malformed(void)
{
	char path[600];
	struct cmd_result r;

	snprintf(path, sizeof(path), "%s",
		 write_file("bad.scenario", "refs: 1 2 3\nframes: 0\n\nscenario a\npolcy: lru\n"
					    "expect faults: 3\n\nscenario b\npolicy: lru\n"
					    "expect faults: 3\n"));
	r = run_pflab("regress '%s'", path);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, ""); /* nothing was run */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "bad.scenario:2: frames: '0' is out of range"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "bad.scenario:5: unknown key 'polcy'"));
	CU_ASSERT_EQUAL(count_of(r.err, "bad.scenario:2:"), 1); /* said once, not per scenario */
	cmd_result_free(&r);
	snprintf(path, sizeof(path), "%s",
		 write_file("empty.scenario", "refs: 1 2 3\nframes: 2\n\nscenario c\npolicy: lru\n"));
	r = run_pflab("regress '%s'", path);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "empty.scenario:4: scenario c expects nothing"));
	cmd_result_free(&r);
	/* The file's raw bytes are escaped, never sent to the terminal as they are. */
	snprintf(path, sizeof(path), "%s",
		 write_file("esc.scenario", "refs: 1 2\nframes: 2\n\nscenario e\npol\033[2Jcy\xff: lru\n"
					    "expect faults: 2\n"));
	r = run_pflab("regress '%s'", path);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "esc.scenario:5: unknown key 'pol\\x1b[2Jcy\\xff'"));
	CU_ASSERT_PTR_NULL(strchr(r.err, '\033'));
	CU_ASSERT_PTR_NULL(strchr(r.err, '\xff'));
	cmd_result_free(&r);
}

/* ------------------------------------------------------------ diff */

static void test_unified_diff(void)
{
	const char *exp[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" };
	const char *act[] = { "a", "b", "c", "d", "X", "f", "g", "h", "i", "j", "k" };
	char *text = NULL;
	size_t len = 0, changes;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	changes = lab_diff(f, "", exp, 10, act, 11, lab_line_equal, 1);
	fclose(f);
	CU_ASSERT_EQUAL(changes, 3);
	CU_ASSERT_STRING_EQUAL(text, "@@ -4,3 +4,3 @@\n d\n-e\n+X\n f\n@@ -10,1 +10,2 @@\n j\n+k\n");
	free(text);
	/* An empty side is numbered by the line before it, 0 here, as diff -u
	 * does: nothing expected, one line printed. */
	text = NULL;
	f = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	changes = lab_diff(f, "", exp, 0, act, 1, lab_line_equal, 1);
	fclose(f);
	CU_ASSERT_EQUAL(changes, 1);
	CU_ASSERT_STRING_EQUAL(text, "@@ -0,0 +1,1 @@\n+a\n");
	free(text);
	CU_ASSERT(lab_line_glob("pflab run: *0xd0000000*", "pflab run: read at 0xd0000000, rip 1"));
	CU_ASSERT(!lab_line_glob("a*c", "abd"));
	CU_ASSERT(lab_line_glob("*", ""));
}

/* mrc says what --policy takes: any policy, not only lru or opt. */
static void test_mrc_policy_words(void)
{
	struct cmd_result r = run_pflab("mrc --help");

	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NULL(strstr(r.out, "lru or opt"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "any one policy of pflab policies"));
	cmd_result_free(&r);
	r = run_pflab("mrc %s", write_file("mrc-nopol.txt", "1\n2\n"));
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.err, "pflab mrc: --policy is required (any one of pflab policies)\n");
	cmd_result_free(&r);
	r = run_pflab("mrc %s --policy fifo --frames 1,2 --csv", write_file("mrc-fifo.txt", "1\n2\n1\n"));
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "1,3,"));
	cmd_result_free(&r);
}

/* One field through csv_field or json_string, as a string. */
static char *field(void (*put)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	put(f, s);
	fclose(f);
	return buf;
}

static void expect_field(void (*put)(FILE *, const char *), const char *in, const char *want)
{
	char *got = field(put, in);

	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n  [%s] gave [%s], want [%s]\n", in, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void test_text_helpers(void)
{
	char why[160], list[] = "lru,,clock,", **items = NULL;
	uint64_t v = 0, ns = 0;
	double d = 0;
	size_t n;

	expect_field(csv_field, "plain.txt", "plain.txt");
	expect_field(csv_field, "a,b", "\"a,b\"");
	expect_field(csv_field, "say \"hi\"", "\"say \"\"hi\"\"\"");
	expect_field(csv_field, "two\nlines", "\"two\nlines\"");
	expect_field(json_string, "plain", "\"plain\"");
	expect_field(json_string, "q\"b\\", "\"q\\\"b\\\\\"");
	expect_field(json_string, "t\tn\n", "\"t\\u0009n\\u000a\"");

	n = cli_split(list, &items);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_STRING_EQUAL(items[0], "lru");
	CU_ASSERT_STRING_EQUAL(items[1], "");
	CU_ASSERT_STRING_EQUAL(items[2], "clock");
	CU_ASSERT_STRING_EQUAL(items[3], "");
	free(items);

	CU_ASSERT_EQUAL(cli_parse_u64("18446744073709551615", 0, UINT64_MAX, &v, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_EQUAL(cli_parse_u64("18446744073709551616", 0, UINT64_MAX, &v, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "'18446744073709551616' is too large");
	CU_ASSERT_EQUAL(cli_parse_u64("7", 8, 9, &v, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "'7' is out of range [8, 9]");
	CU_ASSERT_EQUAL(cli_parse_u64("+1", 0, 9, &v, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(cli_parse_u64("", 0, 9, &v, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(cli_parse_double("0.25", 0, 1, &d, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(d, 0.25);
	CU_ASSERT_EQUAL(cli_parse_double("-0.5", 0, 1, &d, why, sizeof(why)), -1);
	CU_ASSERT_EQUAL(cli_parse_duration_ns("50us", &ns, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(ns, 50000);
	CU_ASSERT_EQUAL(cli_parse_duration_ns("2m", &ns, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(ns, 120000000000ull);
	CU_ASSERT_EQUAL(cli_parse_duration_ns("5", &ns, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(why, "'5' needs a unit: ns, us, ms, s or m");
}

/*
 * regress DIR (scn_collect()): the directory's *.scenario files in the order
 * of their names; hidden ones and other names are not read; an empty
 * directory or a missing path is one exact line and exit 2.
 */
static void test_regress_collects_a_directory(void)
{
	char dir[600], empty[600];
	struct cmd_result r;

	snprintf(dir, sizeof(dir), "%s/collect", scratch_dir());
	snprintf(empty, sizeof(empty), "%s/collect-empty", scratch_dir());
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(mkdir(empty, 0755), 0);
	write_file("collect/b.scenario", "refs: 1 2 1\nframes: 1\nscenario one\npolicy: fifo\n"
					 "expect faults: 3\n");
	write_file("collect/a.scenario", "refs: 1 2 1\nframes: 2\nscenario two\npolicy: fifo\n"
					 "expect faults: 2\n");
	write_file("collect/.c.scenario", "not a scenario\n");
	write_file("collect/d.scenarios", "not a scenario\n");
	write_file("collect/scenario", "not a scenario\n");
	r = run_pflab("regress '%s'", dir);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(strncmp(r.out, "PASS  a/two (", 13), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nPASS  b/one ("));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nregress: 2 passed, 0 failed, 0 skipped (2 scenarios"));
	CU_ASSERT_EQUAL(count_of(r.out, "\n"), 3);
	CU_ASSERT_STRING_EQUAL(r.err, "");
	cmd_result_free(&r);
	r = run_pflab("regress '%s'", empty);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "collect-empty: no *.scenario files in it\n"));
	CU_ASSERT_EQUAL(count_of(r.err, "\n"), 1);
	cmd_result_free(&r);
	r = run_pflab("regress '%s/none'", empty);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "collect-empty/none: No such file or directory\n"));
	cmd_result_free(&r);
}

/* A path below dir (a static buffer reused per call). */
static const char *below(const char *dir, const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/*
 * lab_tempdir() registers each directory it makes and refuses one past
 * LAB_TEMPDIR_SLOTS (making nothing); lab_rmtree() forgets one, freeing its
 * slot; lab_tempdir_remove_all() (main.c's signal handler calls it) removes
 * every registered directory with what it holds, two levels of
 * subdirectories down, removing symbolic links without following them; in
 * a forked child it removes nothing (the directories are the parent's).
 */
static void test_tempdir_registry(void)
{
	char *was = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	char tmp[600], keep[600], *d[LAB_TEMPDIR_SLOTS];
	struct cmd_result r;
	struct stat st;
	pid_t pid;
	int ws = -1;

	snprintf(tmp, sizeof(tmp), "%s/tempdir-registry", scratch_dir());
	snprintf(keep, sizeof(keep), "%s/tempdir-keep", scratch_dir());
	CU_ASSERT_EQUAL_FATAL(mkdir(tmp, 0755), 0);
	CU_ASSERT_EQUAL_FATAL(mkdir(keep, 0755), 0);
	write_file("tempdir-keep/mine.txt", "the user's\n");
	setenv("TMPDIR", tmp, 1);
	for (size_t i = 0; i < LAB_TEMPDIR_SLOTS; i++) {
		d[i] = lab_tempdir("pflab-t");
		CU_ASSERT_PTR_NOT_NULL_FATAL(d[i]);
	}
	errno = 0;
	CU_ASSERT_PTR_NULL(lab_tempdir("pflab-t"));
	CU_ASSERT_EQUAL(errno, EMFILE);
	lab_rmtree(d[1]);
	CU_ASSERT_NOT_EQUAL(stat(d[1], &st), 0);
	free(d[1]);
	d[1] = lab_tempdir("pflab-t");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d[1]);

	/* In d[0]: files, root/bin/busybox (qemu's tree), links out. */
	CU_ASSERT_EQUAL(mkdir(below(d[0], "root"), 0700), 0);
	CU_ASSERT_EQUAL(mkdir(below(d[0], "root/bin"), 0700), 0);
	for (int i = 0; i < 300; i++) {
		char name[32];
		FILE *f;

		snprintf(name, sizeof(name), i % 3 ? "f%03d.out" : "root/bin/f%03d", i);
		f = fopen(below(d[0], name), "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fclose(f);
	}
	CU_ASSERT_EQUAL(symlink(keep, below(d[0], "dirlink")), 0);
	{
		char mine[700];

		snprintf(mine, sizeof(mine), "%s/mine.txt", keep);
		CU_ASSERT_EQUAL(symlink(mine, below(d[0], "root/filelink")), 0);
	}
	CU_ASSERT_EQUAL(mkdir(below(d[LAB_TEMPDIR_SLOTS - 1], "sub"), 0700), 0);

	pid = fork();
	if (pid == 0) {
		lab_tempdir_remove_all();
		_exit(0);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &ws, 0), pid);
	CU_ASSERT_EQUAL(ws, 0);
	r = run_shell("(cd '%s' && find . | sort | wc -l)", tmp);
	CU_ASSERT_STRING_EQUAL(r.out, "310\n"); /* ., 4 dirs, 300 files, 2 links, 3 dirs */
	cmd_result_free(&r);

	errno = EINTR;
	lab_tempdir_remove_all();
	CU_ASSERT_EQUAL(errno, EINTR);
	r = run_shell("(ls -A '%s'; echo -; ls -A '%s')", tmp, keep);
	CU_ASSERT_STRING_EQUAL(r.out, "-\nmine.txt\n");
	cmd_result_free(&r);
	for (size_t i = 0; i < LAB_TEMPDIR_SLOTS; i++) {
		lab_rmtree(d[i]); /* gone already: only forgotten */
		free(d[i]);
	}
	if (was)
		setenv("TMPDIR", was, 1);
	else
		unsetenv("TMPDIR");
	free(was);
}

static CU_TestInfo lab_tests[] = {
	{ "mrc --help: what --policy takes", test_mrc_policy_words },
	{ "frames syntax: lists, A:B:xK, A:B:+K, refusals", test_frames_syntax },
	{ "stack distances = naive LRU and OPT at every size", test_stack_distances_naive },
	{ "LRU stack distances across compactions", test_stack_distances_compaction },
	{ "OPT on line = Mattson's OPT stack across compactions", test_opt_online_mattson },
	{ "OPT on line: Belady's string, distance by distance", test_opt_online_golden },
	{ "mrc = pflab sim at every size, random traces", test_mrc_equals_sim_random },
	{ "mrc = pflab sim at every size, cpp.txt", test_mrc_equals_sim_cpp },
	{ "mrc of a non-stack policy: said, then per-size runs", test_mrc_fallback },
	{ "compare: 3 traces x 6 policies, every output", test_compare_outputs },
	{ "compare: a bad trace fails its cells only", test_compare_bad_trace },
	{ "compare: the figures' data, exactly (Belady's string)", test_compare_figure_data },
	{ "compare: job list run by sh, merged = direct run", test_compare_jobs_merge },
	{ "unified diff and line patterns", test_unified_diff },
	{ "regress: the project's scenarios pass", test_regress_project_scenarios },
	{ "regress: a broken expectation fails with a diff", test_regress_broken_expectation },
	{ "compare and regress: a bad number is one exact line", test_compare_regress_bad_numbers },
	{ "regress: JUnit XML well-formed, counts right, skip shown", test_regress_junit },
	{ "regress: a malformed scenario is refused, file:line", test_regress_malformed },
	{ "text helpers: CSV and JSON fields, lists, numbers", test_text_helpers },
	{ "temporary directories: registered, all removed on a signal", test_tempdir_registry },
	{ "regress DIR: its *.scenario files, by name", test_regress_collects_a_directory },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("lab", lab_tests);
