// SPDX-License-Identifier: MIT
/*
 * pflab mrc: the miss-ratio curve of a trace, every frame count at once.
 *
 * For a stack algorithm (LRU, OPT) one pass computes each reference's stack
 * distance and the fault count of every memory size follows from their
 * histogram (lab_stackdist.h, lab_optstack.h). For any other policy there is no such
 * shortcut: the command says so and runs `pflab sim` at a series of sizes.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "idmap.h"
#include "lab_frames.h"
#include "lab_plot.h"
#include "lab_progress.h"
#include "lab_proc.h"
#include "lab_sample.h"
#include "lab_optstack.h"
#include "lab_stackdist.h"
#include "lab_table.h"
#include "outfile.h"
#include "policy.h"
#include "sim.h"
#include "trace.h"

#define CHUNK 65536
/* Frame counts per `pflab sim` run in the fallback: each is a machine with
 * its own page table, so a bounded number keeps memory bounded. */
#define SIM_BATCH 16
/* The table shows every size up to this many, else a geometric selection. */
#define TABLE_ALL_MAX 64
/* Points in a plotted curve: enough to look continuous on a log axis. */
#define PLOT_POINTS 2000
/* Points of a sampled curve without --frames: geometric, as in the papers. */
#define SAMPLE_POINTS 50
/* The smallest miniature memory of a default sampled curve: with a handful
 * of sampled frames a policy's behaviour on the sample departs from the
 * trace's (on the ARC paper's OLTP trace at R = 0.05, ARC's error passed
 * 0.01 under about 30 sampled frames when this was chosen), so the default
 * curve starts at this many / R. */
#define SAMPLE_MIN_FRAMES 32

struct mrc_opts {
	const char *trace_path;
	struct trace_options trace;
	const struct policy_ops *policy;
	uint32_t *frames;      /* --frames, or NULL: every size */
	size_t nframes;
	bool csv;
	const char *out_path;
	const char *plot_path;
	const char *pflab;     /* for the fallback; NULL: this binary */
	double rate;           /* --sample R, 0: none */
	uint32_t threshold;    /* T of the hashed sample (lab_sample.h) */
	bool exact;            /* --exact: the exact curve too, and the error */
	bool quiet;            /* no note on standard error for the fallback */
};

/* The curve: faults at each listed frame count. */
struct curve {
	uint64_t refs;
	uint32_t distinct;
	uint32_t *frames;
	uint64_t *faults;
	size_t n;
	/* Sampled (--sample): faults[] are estimates, miss[] the sample's miss
	 * ratios they come from; the sample's size. */
	double *miss;
	uint64_t sample_refs;
	uint32_t sample_pages;
	/* --exact: the exact curve at the same frame counts, and the times. */
	uint64_t *exact_faults;
	double seconds, exact_seconds;   /* wall */
	double cpu, exact_cpu;           /* user + system, children included */
};

static const char mrc_help[] =
	"usage: pflab mrc TRACE --policy P [--sample R [--exact]] [options]\n"
	"\n"
	"The miss-ratio curve of TRACE: the fault count at every number of frames\n"
	"from 1 to the number of distinct pages. LRU and OPT are stack algorithms\n"
	"(Mattson et al. 1970): one pass over the trace gives the whole curve,\n"
	"identical to `pflab sim` at each size. Another policy is run with\n"
	"`pflab sim` once per size instead (it says so), or estimated from a sample\n"
	"with --sample.\n"
	"\n"
	"  -p, --policy P       any one policy of pflab policies: lru and opt in one\n"
	"                       pass, any other by a pflab sim run per size\n"
	"  -n, --frames LIST    only these frame counts: N,N,... or A:B:xK or A:B:+K\n"
	"                       (see docs/lab.md#frames)\n"
	"  -f, --format F       trace format (default: detected from the content)\n"
	"      --page-size N    bytes per page for address traces (default 4096)\n"
	"      --csv            CSV: frames,faults,miss_ratio, one row per frame count\n"
	"  -o, --out FILE       write the CSV to FILE\n"
	"      --plot FILE      draw the curve with gnuplot: FILE.png or FILE.svg\n"
	"      --pflab PATH     the pflab that runs the per-size fallback (default: this one)\n"
	"      --sample R       any policy: estimate the curve from the pages whose hash\n"
	"                       falls in a fraction R (0 < R <= 1) of the hash space\n"
	"                       (SHARDS), each size c run with c*R frames on them\n"
	"                       (miniature simulation); without --frames, 50 sizes from\n"
	"                       32/R to the distinct pages. R = 1 is the exact curve\n"
	"      --exact          with --sample: compute the exact curve too (one pass\n"
	"                       for lru and opt, else pflab sim per size) and print\n"
	"                       it beside the estimate with the error and both times\n"
	"  -h, --help           this text\n"
	"\n"
	"CSV of a sampled curve: frames,faults,miss_ratio (estimates), with --exact\n"
	"then exact_faults,exact_miss_ratio,error (estimate - exact); the error\n"
	"summary and the times go to standard error.\n"
	"Without --csv or --out the curve is printed as a table (every size up to 64\n"
	"pages, else powers of two). Faults count every miss, cold ones included.\n"
	"Cost: LRU and OPT O(log n) per reference, the trace streamed (OPT by the\n"
	"Critical Stack Algorithm, Bilardi et al. 2017); --sample R: one pass over\n"
	"the trace, then R of the references per size. See docs/lab.md#miss-ratio-curves.\n";

static int parse_args(int argc, char **argv, struct mrc_opts *o)
{
	enum { OPT_PAGE_SIZE = 256, OPT_CSV, OPT_PLOT, OPT_PFLAB, OPT_SAMPLE, OPT_EXACT };
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "out", required_argument, NULL, 'o' },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "pflab", required_argument, NULL, OPT_PFLAB },
		{ "sample", required_argument, NULL, OPT_SAMPLE },
		{ "exact", no_argument, NULL, OPT_EXACT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char why[200];
	int c;

	*o = (struct mrc_opts){ .trace.page_size = 4096 };
	while ((c = cli_getopt("mrc", argc, argv, "p:n:f:o:h", longopts)) != -1) {
		switch (c) {
		case 'p':
			o->policy = policy_find(optarg);
			if (!o->policy)
				return cli_usage_error("mrc", "unknown policy '%s' (see pflab policies)",
						       optarg);
			break;
		case 'n':
			free(o->frames);
			o->frames = NULL;
			if (lab_frames_parse(optarg, VREF_VPN_MAX, &o->frames, &o->nframes, why,
					     sizeof(why)) != 0)
				return cli_usage_error("mrc", "--frames: %s", why);
			break;
		case 'f':
			if (trace_format_parse(optarg, &o->trace.format) != 0)
				return cli_usage_error("mrc", "unknown trace format '%s'", optarg);
			break;
		case OPT_PAGE_SIZE:
			if (cli_parse_page_size("mrc", optarg, &o->trace.page_size))
				return EXIT_USAGE;
			break;
		case OPT_CSV: o->csv = true; break;
		case 'o': o->out_path = optarg; break;
		case OPT_PLOT: {
			const char *dot = strrchr(optarg, '.');

			if (!dot || (strcmp(dot, ".png") && strcmp(dot, ".svg")))
				return cli_usage_error("mrc", "--plot: '%s' must end in .png or .svg",
						       optarg);
			o->plot_path = optarg;
			break;
		}
		case OPT_PFLAB: o->pflab = optarg; break;
		case OPT_SAMPLE:
			/* The smallest rate keeps one hash value in 2^24. */
			if (cli_parse_double(optarg, LAB_SAMPLE_RATE_MIN, 1.0, &o->rate, why,
					     sizeof(why)) != 0)
				return cli_usage_error("mrc", "--sample: %s (a rate in (0, 1])", why);
			o->threshold = lab_sample_threshold(o->rate);
			break;
		case OPT_EXACT: o->exact = true; break;
		case 'h': fputs(mrc_help, stdout); return -1;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("mrc", "no trace given (see --help)");
	if (optind + 1 < argc)
		return cli_usage_error("mrc", "unexpected argument '%s'", argv[optind + 1]);
	o->trace_path = argv[optind];
	for (int i = 0; i < 2; i++) {
		const char *path = i ? o->plot_path : o->out_path;
		char why[600];

		if (path && outfile_check(path, why, sizeof(why)) != 0)
			return cli_usage_error("mrc", "%s %s", i ? "--plot" : "--out", why);
	}
	if (!o->policy)
		return cli_usage_error("mrc", "--policy is required (any one of pflab policies)");
	if (o->exact && !o->rate)
		return cli_usage_error("mrc", "--exact compares a sampled curve with the exact one: "
				       "give --sample too");
	return 0;
}

/* The trace as dense page numbers, a chunk at a time. */
struct reader {
	struct trace *trace;
	struct idmap ids;
	bool dense;
	struct trace_ref *raw;
	uint32_t *pages;
	uint32_t npages;  /* 1 + the largest page number handed out */
	struct lab_progress progress; /* references read, on a terminal */
	uint64_t chunks;
	char err[600];
};

/* Chunks between redraws of the progress line, as in pflab sim. */
#define PROGRESS_CHUNKS 16

static int reader_open(struct reader *r, const struct mrc_opts *o)
{
	*r = (struct reader){ 0 };
	r->trace = trace_open(o->trace_path, &o->trace, r->err, sizeof(r->err));
	if (!r->trace)
		return -1;
	r->dense = trace_dense(r->trace);
	lab_progress_init(&r->progress, "mrc", "references read", 0);
	r->raw = malloc(sizeof(*r->raw) * CHUNK);
	r->pages = malloc(sizeof(*r->pages) * CHUNK);
	if (!r->raw || !r->pages || (!r->dense && idmap_init(&r->ids) != 0)) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return -1;
	}
	return 0;
}

static void reader_close(struct reader *r)
{
	if (r->trace)
		trace_close(r->trace);
	if (!r->dense && r->ids.keys)
		idmap_fini(&r->ids);
	free(r->raw);
	free(r->pages);
}

/* The next chunk in r->pages: its length, 0 at the end, -1 with r->err. */
static ptrdiff_t reader_next(struct reader *r, const char *path)
{
	ptrdiff_t n = trace_read(r->trace, r->raw, CHUNK);

	if (n < 0) {
		snprintf(r->err, sizeof(r->err), "%s", trace_error(r->trace));
		return -1;
	}
	r->progress.done += (uint64_t)n;
	if (n > 0 && ++r->chunks % PROGRESS_CHUNKS == 0)
		lab_progress_draw(&r->progress, false);
	else if (n == 0 && r->chunks >= PROGRESS_CHUNKS)
		lab_progress_draw(&r->progress, true);
	for (ptrdiff_t i = 0; i < n; i++) {
		uint64_t page = r->dense ? r->raw[i].page : idmap_get(&r->ids, r->raw[i].page);

		if (page > VREF_VPN_MAX) {
			snprintf(r->err, sizeof(r->err), "%s: more than %u distinct pages", path,
				 VREF_VPN_MAX + 1);
			return -1;
		}
		r->pages[i] = (uint32_t)page;
		if (page >= r->npages)
			r->npages = (uint32_t)page + 1;
	}
	return n;
}

/* LRU and OPT both in one pass over the trace, nothing of it held: OPT's
 * distances need only the references before each (lab_optstack.h). */
static int stream_histogram(const struct mrc_opts *o, bool opt, struct lab_mrc *out, int *rc)
{
	struct lab_lru_stack *lru = opt ? NULL : lab_lru_stack_create();
	struct lab_opt_online *on = opt ? lab_opt_online_create() : NULL;
	const struct lab_mrc *m;
	struct reader r;
	ptrdiff_t n;
	int ret = -1;

	if (!lru && !on) {
		*rc = cli_fail("mrc", "out of memory");
		return -1;
	}
	if (reader_open(&r, o) != 0) {
		*rc = cli_usage_error("mrc", "%s", r.err);
		goto out;
	}
	while ((n = reader_next(&r, o->trace_path)) > 0) {
		if ((opt ? lab_opt_online_feed(on, r.pages, (size_t)n)
			 : lab_lru_stack_feed(lru, r.pages, (size_t)n)) != 0) {
			*rc = cli_fail("mrc", "%s", strerror(errno));
			goto out;
		}
	}
	if (n < 0) {
		*rc = cli_usage_error("mrc", "%s", r.err);
		goto out;
	}
	/* Hand the histogram over: copy, since the stack owns its own. */
	m = opt ? lab_opt_online_mrc(on) : lab_lru_stack_mrc(lru);
	*out = *m;
	out->hist = malloc(sizeof(*out->hist) * (out->distinct + 1));
	if (!out->hist) {
		*rc = cli_fail("mrc", "out of memory");
		goto out;
	}
	memcpy(out->hist, m->hist, sizeof(*out->hist) * (out->distinct + 1));
	out->hist_len = out->distinct + 1;
	ret = 0;
out:
	reader_close(&r);
	lab_lru_stack_destroy(lru);
	lab_opt_online_destroy(on);
	return ret;
}

/* The frame counts to report: --frames, else every size. */
static int choose_rows(const struct mrc_opts *o, uint32_t distinct, struct curve *c)
{
	if (o->frames) {
		c->frames = malloc(sizeof(*c->frames) * (o->nframes ? o->nframes : 1));
		if (!c->frames)
			return -1;
		memcpy(c->frames, o->frames, sizeof(*c->frames) * o->nframes);
		c->n = o->nframes;
	} else {
		c->frames = malloc(sizeof(*c->frames) * (distinct ? distinct : 1));
		if (!c->frames)
			return -1;
		for (uint32_t f = 1; f <= distinct; f++)
			c->frames[f - 1] = f;
		c->n = distinct;
	}
	c->faults = malloc(sizeof(*c->faults) * (c->n ? c->n : 1));
	return c->faults ? 0 : -1;
}

static int stack_curve(const struct mrc_opts *o, struct curve *c)
{
	struct lab_mrc m = { 0 };
	uint64_t *all;
	int rc = EXIT_OK;

	if (stream_histogram(o, strcmp(o->policy->name, "opt") == 0, &m, &rc) != 0)
		return rc;
	c->refs = m.refs;
	c->distinct = m.distinct;
	all = malloc(sizeof(*all) * (m.distinct ? m.distinct : 1));
	if (!all || choose_rows(o, m.distinct, c) != 0) {
		free(all);
		lab_mrc_fini(&m);
		return cli_fail("mrc", "out of memory");
	}
	lab_mrc_faults(&m, all);
	for (size_t i = 0; i < c->n; i++)
		c->faults[i] = c->frames[i] <= m.distinct ? all[c->frames[i] - 1] : m.cold;
	free(all);
	lab_mrc_fini(&m);
	return EXIT_OK;
}

/* Distinct pages, for a fallback without --frames: one pass, nothing kept. */
static int count_distinct(const struct mrc_opts *o, uint32_t *distinct, int *rc)
{
	struct reader r;
	ptrdiff_t n;
	int ret = -1;

	if (reader_open(&r, o) != 0) {
		*rc = cli_usage_error("mrc", "%s", r.err);
		goto out;
	}
	while ((n = reader_next(&r, o->trace_path)) > 0)
		;
	if (n < 0) {
		*rc = cli_usage_error("mrc", "%s", r.err);
		goto out;
	}
	*distinct = r.dense ? r.npages : r.ids.count;
	ret = 0;
out:
	reader_close(&r);
	return ret;
}

/* Run `pflab sim` on a batch of sizes; fill their faults. */
static int sim_batch(const struct mrc_opts *o, const char *pflab, const char *tmp,
		     const uint32_t *frames, size_t n, struct curve *c, size_t first)
{
	char out_path[4200], err_path[4200], why[600], page_size[16];
	char *list = lab_frames_join(frames, n);
	char *argv[16];
	int argc = 0, st;
	struct lab_table t;
	bool timed_out;

	if (!list)
		return cli_fail("mrc", "out of memory");
	snprintf(out_path, sizeof(out_path), "%s/sim.csv", tmp);
	snprintf(err_path, sizeof(err_path), "%s/sim.err", tmp);
	snprintf(page_size, sizeof(page_size), "%u", o->trace.page_size);
	argv[argc++] = (char *)pflab;
	argv[argc++] = "sim";
	argv[argc++] = (char *)o->trace_path;
	argv[argc++] = "--policy";
	argv[argc++] = (char *)o->policy->name;
	argv[argc++] = "--frames";
	argv[argc++] = list;
	argv[argc++] = "--csv";
	argv[argc++] = "--page-size";
	argv[argc++] = page_size;
	if (o->trace.format != TRACE_AUTO) {
		argv[argc++] = "--format";
		argv[argc++] = (char *)trace_format_name(o->trace.format);
	}
	argv[argc] = NULL;
	/* The previous batch's files (ours): lab_run makes its files new. */
	unlink(out_path);
	unlink(err_path);
	st = lab_run(argv, out_path, err_path, 0, &timed_out);
	free(list);
	if (st != 0) {
		char *err = lab_read_file(err_path, NULL);

		lab_last_line(err ? err : "", why, sizeof(why));
		free(err);
		return st == 1 ? cli_fail("mrc", "pflab sim failed: %s", why)
			       : cli_usage_error("mrc", "pflab sim failed: %s", why);
	}
	lab_table_init(&t);
	if (lab_table_read_csv(&t, out_path, why, sizeof(why)) != 0) {
		lab_table_fini(&t);
		return cli_fail("mrc", "%s", why);
	}
	for (size_t i = 0; i < n; i++) {
		const struct lab_row *r = NULL;

		for (size_t j = 0; j < t.n && !r; j++)
			if (t.row[j].frames == frames[i])
				r = &t.row[j];
		if (!r || r->error) {
			lab_table_fini(&t);
			return cli_fail("mrc", "pflab sim gave no row for %u frames", frames[i]);
		}
		c->faults[first + i] = r->faults;
		c->refs = r->refs;
	}
	lab_table_fini(&t);
	return EXIT_OK;
}

static int sim_curve(const struct mrc_opts *o, struct curve *c)
{
	char self[4096], why[200], spec[64];
	const char *pflab = o->pflab;
	char *tmp;
	int rc = EXIT_OK;

	if (!o->quiet)
		fprintf(stderr, "pflab mrc: %s is not a stack algorithm, so no one-pass curve: "
			"running pflab sim at each frame count instead (or estimate it: --sample)\n",
			o->policy->name);
	if (!pflab) {
		if (lab_self_path(self, sizeof(self)) != 0)
			return cli_fail("mrc", "cannot find the pflab binary: give --pflab");
		pflab = self;
	}
	if (count_distinct(o, &c->distinct, &rc) != 0)
		return rc;
	if (o->frames) {
		if (choose_rows(o, c->distinct, c) != 0)
			return cli_fail("mrc", "out of memory");
	} else {
		/* Every size up to 200, else a geometric series of about 1.25
		 * per step: a curve's shape at a bounded cost. */
		if (c->distinct <= 200)
			snprintf(spec, sizeof(spec), "1:%u:+1", c->distinct ? c->distinct : 1);
		else
			snprintf(spec, sizeof(spec), "1:%u:x1.25,%u", c->distinct, c->distinct);
		if (lab_frames_parse(spec, VREF_VPN_MAX, &c->frames, &c->n, why, sizeof(why)) != 0)
			return cli_fail("mrc", "%s", why);
		if (!c->distinct)
			c->n = 0;
		c->faults = malloc(sizeof(*c->faults) * (c->n ? c->n : 1));
		if (!c->faults)
			return cli_fail("mrc", "out of memory");
	}
	tmp = lab_tempdir("pflab-mrc");
	if (!tmp)
		return cli_fail("mrc", "cannot make a temporary directory: %s", strerror(errno));
	for (size_t i = 0; i < c->n && rc == EXIT_OK; i += SIM_BATCH)
		rc = sim_batch(o, pflab, tmp, c->frames + i, c->n - i < SIM_BATCH ? c->n - i : SIM_BATCH,
			       c, i);
	lab_rmtree(tmp);
	free(tmp);
	return rc;
}

/* CPU seconds of this process and of its children that have ended. */
static double cpu_seconds(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
			kids.ru_stime.tv_sec) +
	       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
			kids.ru_stime.tv_usec) * 1e-6;
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The hashed sample of the trace, as dense page numbers of its own. */
struct sample {
	vref_t *refs;
	size_t n, cap;
	uint32_t *rename;   /* per page of the trace: its number in the sample + 1, 0: none yet */
	uint32_t rename_len;
	uint32_t npages;
};

static int sample_add(struct sample *s, uint32_t page, bool write, bool identity)
{
	uint32_t id;

	if (identity) {
		/* R = 1: the trace's own numbers, as pflab sim sees them. */
		id = page;
		if (page >= s->npages)
			s->npages = page + 1;
	} else {
		if (page >= s->rename_len) {
			uint64_t want = (uint64_t)s->rename_len * 2;
			uint32_t *bigger;

			if (want <= page)
				want = (uint64_t)page + 1;
			if (want < 1024)
				want = 1024;
			bigger = realloc(s->rename, sizeof(*bigger) * want);
			if (!bigger)
				return -1;
			memset(bigger + s->rename_len, 0, sizeof(*bigger) * (want - s->rename_len));
			s->rename = bigger;
			s->rename_len = (uint32_t)want;
		}
		if (!s->rename[page])
			s->rename[page] = ++s->npages;
		id = s->rename[page] - 1;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : CHUNK;
		vref_t *bigger = realloc(s->refs, sizeof(*bigger) * cap);

		if (!bigger)
			return -1;
		s->refs = bigger;
		s->cap = cap;
	}
	s->refs[s->n++] = VREF(id, write);
	return 0;
}

/* SAMPLE_POINTS sizes, geometric from the one of SAMPLE_MIN_FRAMES sampled frames. */
static int sample_sizes(const struct mrc_opts *o, uint32_t distinct, struct curve *c)
{
	uint64_t lo64 = ((uint64_t)SAMPLE_MIN_FRAMES * LAB_SAMPLE_MODULUS + o->threshold - 1) /
			o->threshold;
	uint32_t lo = lo64 < UINT32_MAX ? (uint32_t)lo64 : UINT32_MAX;

	if (o->frames)
		return choose_rows(o, distinct, c);
	if (lo > distinct)
		lo = distinct ? distinct : 1;
	c->frames = malloc(sizeof(*c->frames) * SAMPLE_POINTS);
	c->faults = malloc(sizeof(*c->faults) * SAMPLE_POINTS);
	if (!c->frames || !c->faults)
		return -1;
	c->n = 0;
	for (int i = 0; i < SAMPLE_POINTS && distinct; i++) {
		double f = lo * pow((double)distinct / lo, (double)i / (SAMPLE_POINTS - 1));
		uint32_t v = i == SAMPLE_POINTS - 1 ? distinct : (uint32_t)nearbyint(f);

		if (!c->n || v > c->frames[c->n - 1])
			c->frames[c->n++] = v;
	}
	return 0;
}

/*
 * The curve estimated from the hashed sample (lab_sample.h): one pass to
 * draw the sample, then one miniature simulation per size on it.
 */
static int sampled_curve(const struct mrc_opts *o, struct curve *c)
{
	bool identity = o->threshold == LAB_SAMPLE_MODULUS;
	struct sample smp = { 0 };
	uint64_t *faults = NULL;
	uint32_t *scaled = NULL;
	struct reader r;
	char why[300];
	ptrdiff_t n;
	int rc = EXIT_OK;
	double t0 = seconds_now(), c0 = cpu_seconds(), expected;

	if (reader_open(&r, o) != 0) {
		rc = cli_usage_error("mrc", "%s", r.err);
		goto out;
	}
	while ((n = reader_next(&r, o->trace_path)) > 0) {
		for (ptrdiff_t i = 0; i < n; i++) {
			/* The hash is of the trace's own page id, not of its renaming. */
			if (lab_sample_keep(r.raw[i].page, o->threshold) &&
			    sample_add(&smp, r.pages[i], r.raw[i].write, identity) != 0) {
				rc = cli_fail("mrc", "out of memory holding the sample");
				goto out;
			}
		}
		c->refs += (uint64_t)n;
	}
	if (n < 0) {
		rc = cli_usage_error("mrc", "%s", r.err);
		goto out;
	}
	c->distinct = r.dense ? r.npages : r.ids.count;
	c->sample_refs = smp.n;
	c->sample_pages = smp.npages;
	if (!c->refs) {
		rc = cli_usage_error("mrc", "%s has no references", o->trace_path);
		goto out;
	}
	if (!smp.n) {
		rc = cli_usage_error("mrc", "%s: no page of the trace's %u falls in a sample at rate %g: "
				     "raise --sample", o->trace_path, c->distinct, o->rate);
		goto out;
	}
	if (sample_sizes(o, c->distinct, c) != 0) {
		rc = cli_fail("mrc", "out of memory");
		goto out;
	}
	scaled = malloc(sizeof(*scaled) * (c->n ? c->n : 1));
	faults = malloc(sizeof(*faults) * (c->n ? c->n : 1));
	c->miss = malloc(sizeof(*c->miss) * (c->n ? c->n : 1));
	if (!scaled || !faults || !c->miss) {
		rc = cli_fail("mrc", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->n; i++)
		scaled[i] = lab_sample_frames(c->frames[i], o->threshold);
	if (lab_sample_simulate(o->policy, smp.refs, smp.n, smp.npages, scaled, c->n, faults, why,
				sizeof(why)) != 0) {
		rc = cli_fail("mrc", "%s", why);
		goto out;
	}
	/* Misses over the references a sample at this rate should have had,
	 * R * refs, not over those it has: where a hot page falls in or out of
	 * the sample, its references would otherwise weigh in at 1/R each (the
	 * correction of SHARDS_adj: the difference counted as hits). */
	expected = (double)c->refs * o->threshold / LAB_SAMPLE_MODULUS;
	for (size_t i = 0; i < c->n; i++) {
		c->miss[i] = identity ? (double)faults[i] / (double)smp.n
				      : fmin(1.0, (double)faults[i] / expected);
		/* At R = 1 the sample is the trace: the counts are the exact ones. */
		c->faults[i] = identity ? faults[i] : (uint64_t)llround(c->miss[i] * (double)c->refs);
	}
	c->seconds = seconds_now() - t0;
	c->cpu = cpu_seconds() - c0;
out:
	reader_close(&r);
	free(smp.refs);
	free(smp.rename);
	free(scaled);
	free(faults);
	return rc;
}

/* --exact: the exact curve at the sampled curve's frame counts. */
static int exact_companion(const struct mrc_opts *o, struct curve *c)
{
	struct mrc_opts eo = *o;
	struct curve e = { 0 };
	double t0 = seconds_now(), c0 = cpu_seconds();
	bool stack = !strcmp(o->policy->name, "lru") || !strcmp(o->policy->name, "opt");
	int rc;

	eo.frames = c->frames;
	eo.nframes = c->n;
	eo.quiet = true;
	rc = stack ? stack_curve(&eo, &e) : sim_curve(&eo, &e);
	if (rc == EXIT_OK) {
		c->exact_faults = e.faults;
		e.faults = NULL;
		c->exact_seconds = seconds_now() - t0;
		c->exact_cpu = cpu_seconds() - c0;
	}
	free(e.frames);
	free(e.faults);
	return rc;
}

static double ratio(uint64_t faults, uint64_t refs)
{
	return refs ? (double)faults / (double)refs : 0.0;
}

static char *put_u64(char *p, uint64_t v)
{
	char digits[20];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = digits[--n];
	return p;
}

/*
 * faults / refs with six decimals, exactly as printf("%.6f") prints the
 * double quotient (pflab sim's column), without printf's cost: a curve has
 * a row per page. The quotient is rounded in integers. For refs below 2^32,
 * the exact quotient is further from any rounding tie than the double's
 * error unless it is the tie itself; there the double decides, lying above,
 * below or on it (then printf rounds half to even), and the sign of one
 * fused multiply-add tells which, exactly.
 */
static char *put_ratio(char *p, uint64_t faults, uint64_t refs)
{
	uint64_t q, r;

	if (!refs || refs >= (1ULL << 32) || faults > refs)
		return p + sprintf(p, "%.6f", ratio(faults, refs));
	q = faults * 1000000 / refs;
	r = faults * 1000000 % refs;
	if (2 * r == refs) {
		double side = fma((double)faults / (double)refs, 2e6, -(double)(2 * q + 1));

		q += side > 0 || (side == 0 && (q & 1));
	} else {
		q += 2 * r > refs;
	}
	p = put_u64(p, q / 1000000);
	*p++ = '.';
	for (uint64_t frac = q % 1000000, div = 100000; div; div /= 10)
		*p++ = (char)('0' + frac / div % 10);
	return p;
}

/* The miss ratio shown for row i: the sample's where the curve is sampled. */
static double row_ratio(const struct curve *c, size_t i)
{
	return c->miss ? c->miss[i] : ratio(c->faults[i], c->refs);
}

static double row_error(const struct curve *c, size_t i)
{
	return row_ratio(c, i) - ratio(c->exact_faults[i], c->refs);
}

static void write_csv(const struct curve *c, FILE *out)
{
	char line[200];

	fputs(c->exact_faults ? "frames,faults,miss_ratio,exact_faults,exact_miss_ratio,error\n"
			      : "frames,faults,miss_ratio\n", out);
	for (size_t i = 0; i < c->n; i++) {
		char *p = put_u64(line, c->frames[i]);

		*p++ = ',';
		p = put_u64(p, c->faults[i]);
		*p++ = ',';
		if (c->miss)
			p += sprintf(p, "%.6f", c->miss[i]);
		else
			p = put_ratio(p, c->faults[i], c->refs);
		if (c->exact_faults) {
			*p++ = ',';
			p = put_u64(p, c->exact_faults[i]);
			*p++ = ',';
			p = put_ratio(p, c->exact_faults[i], c->refs);
			p += sprintf(p, ",%.6f", row_error(c, i));
		}
		*p++ = '\n';
		fwrite(line, 1, (size_t)(p - line), out);
	}
}

/* --exact: the error over the curve and the two times, one line each. */
static void write_summary(const struct mrc_opts *o, const struct curve *c, FILE *out)
{
	double sum = 0, max = 0;

	for (size_t i = 0; i < c->n; i++) {
		double e = fabs(row_error(c, i));

		sum += e;
		if (e > max)
			max = e;
	}
	fprintf(out, "error of the sampled miss ratio over %zu size%s: mean absolute %.6f, max %.6f\n",
		c->n, c->n == 1 ? "" : "s", c->n ? sum / (double)c->n : 0.0, max);
	fprintf(out, "time: sampled %.3f s wall, %.3f s cpu; exact (%s) %.3f s wall, %.3f s cpu: "
		"%.1fx faster (wall), %.1fx (cpu)\n", c->seconds, c->cpu,
		!strcmp(o->policy->name, "lru") || !strcmp(o->policy->name, "opt")
			? "one pass" : "pflab sim per size",
		c->exact_seconds, c->exact_cpu,
		c->seconds > 0 ? c->exact_seconds / c->seconds : 0.0,
		c->cpu > 0 ? c->exact_cpu / c->cpu : 0.0);
}

static void write_table(const struct mrc_opts *o, const struct curve *c, bool stack, FILE *out)
{
	bool all = o->frames || c->n <= TABLE_ALL_MAX;

	fprintf(out, "%s: %llu references, %u distinct pages; %s curve ", o->trace_path,
		(unsigned long long)c->refs, c->distinct, o->policy->name);
	if (c->miss)
		fprintf(out, "estimated from a hashed sample at rate %g (%llu references, %u pages), "
			"each size run with size * %g frames\n", o->rate,
			(unsigned long long)c->sample_refs, c->sample_pages, o->rate);
	else
		fprintf(out, "%s\n", stack ? "from stack distances (one pass)" : "from per-size pflab sim runs");
	fprintf(out, "%10s %14s %10s", "frames", "faults", "miss_ratio");
	if (c->exact_faults)
		fprintf(out, " %14s %10s %10s", "exact_faults", "exact", "error");
	fputc('\n', out);
	for (size_t i = 0; i < c->n; i++) {
		uint32_t f = c->frames[i];

		/* Powers of two and the last size, unless every row was asked for. */
		if (!all && (f & (f - 1)) && i + 1 < c->n)
			continue;
		fprintf(out, "%10u %14llu %10.6f", f, (unsigned long long)c->faults[i], row_ratio(c, i));
		if (c->exact_faults)
			fprintf(out, " %14llu %10.6f %+10.6f", (unsigned long long)c->exact_faults[i],
				ratio(c->exact_faults[i], c->refs), row_error(c, i));
		fputc('\n', out);
	}
	if (!all)
		fprintf(out, "(%zu frame counts in all: --csv prints every one)\n", c->n);
	if (c->exact_faults)
		write_summary(o, c, out);
}

static int draw(const struct mrc_opts *o, const struct curve *c)
{
	char script[4200], data[4200], log_path[4200], why[600], title[600];
	size_t step = c->n > PLOT_POINTS ? 0 : 1, n = 0;
	double *x = malloc(sizeof(*x) * (c->n ? c->n : 1));
	double *y = malloc(sizeof(*y) * (c->n ? c->n : 1));
	double *ye = malloc(sizeof(*ye) * (c->n ? c->n : 1));
	char sampled_name[64];
	struct lab_series series[2];
	const char *ext = strrchr(o->plot_path, '.');
	struct lab_plot_outputs outs = { 0 };
	char *tmp = NULL;
	FILE *f = NULL;
	int rc = EXIT_FAIL;

	if (!x || !y || !ye)
		goto out;
	/* A long curve is thinned to points spaced evenly on the log axis. */
	for (size_t i = 0; i < c->n; i++) {
		bool keep = step || i + 1 == c->n || n == 0 ||
			    log((double)c->frames[i]) - log(x[n - 1]) >=
				    log((double)c->frames[c->n - 1]) / PLOT_POINTS;

		if (keep) {
			x[n] = c->frames[i];
			ye[n] = c->exact_faults ? ratio(c->exact_faults[i], c->refs) : NAN;
			y[n++] = row_ratio(c, i);
		}
	}
	tmp = lab_tempdir("pflab-plot");
	if (!tmp) {
		rc = cli_fail("mrc", "cannot make a temporary directory: %s", strerror(errno));
		goto out;
	}
	snprintf(script, sizeof(script), "%s/mrc.gp", tmp);
	snprintf(data, sizeof(data), "%s/mrc.dat", tmp);
	snprintf(log_path, sizeof(log_path), "%s/gnuplot.log", tmp);
	snprintf(title, sizeof(title), "%s miss-ratio curve: %s (%llu refs, %u pages)",
		 o->policy->name, o->trace_path, (unsigned long long)c->refs, c->distinct);
	for (char *q = title; *q && *q != ' '; q++) /* "LRU miss-ratio curve" */
		*q = (char)toupper((unsigned char)*q);
	snprintf(sampled_name, sizeof(sampled_name), "%s, sampled at %g", o->policy->name, o->rate);
	series[0] = (struct lab_series){ .name = c->miss ? sampled_name : o->policy->name, .y = y };
	series[1] = (struct lab_series){ .name = "exact (per-size runs)", .y = ye };
	f = fopen(script, "w");
	if (!f) {
		rc = cli_fail("mrc", "%s: %s", script, strerror(errno));
		goto out;
	}
	lab_plot_begin(f);
	if (lab_plot_add(f, &outs, &(struct lab_plot){
		    .title = title,
		    .xlabel = "frames",
		    .ylabel = "miss ratio (faults / references)",
		    .data_path = data,
		    .png_path = strcmp(ext, ".png") == 0 ? o->plot_path : NULL,
		    .svg_path = strcmp(ext, ".svg") == 0 ? o->plot_path : NULL,
		    .logx = n > 1 && lab_plot_wants_logx(x[0], x[n - 1]),
		    .points = n <= 64,
		    .ymin = 0,
		    .ymax = NAN,
		    .nx = n,
		    .x = x,
		    .nseries = c->exact_faults ? 2 : 1,
		    .series = series,
	    }, why, sizeof(why)) != 0) {
		rc = cli_fail("mrc", "%s", why);
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = cli_fail("mrc", "%s: %s", script, strerror(errno));
		goto out;
	}
	f = NULL;
	if (lab_plot_run(script, log_path, false, &outs, why, sizeof(why)) != 0) {
		rc = cli_fail("mrc", "%s", why);
		goto out;
	}
	rc = EXIT_OK;
out:
	lab_plot_outputs_free(&outs);
	if (f)
		fclose(f);
	if (tmp) {
		lab_rmtree(tmp);
		free(tmp);
	}
	free(x);
	free(y);
	free(ye);
	if (rc == EXIT_FAIL && (!x || !y || !ye))
		cli_fail("mrc", "out of memory");
	return rc;
}

static int mrc_main(int argc, char **argv)
{
	struct mrc_opts opts;
	struct curve c = { 0 };
	bool stack;
	int rc = parse_args(argc, argv, &opts);

	if (rc)
		goto out;
	stack = !strcmp(opts.policy->name, "lru") || !strcmp(opts.policy->name, "opt");
	if (opts.rate) {
		rc = sampled_curve(&opts, &c);
		if (!rc && opts.exact)
			rc = exact_companion(&opts, &c);
	} else {
		rc = stack ? stack_curve(&opts, &c) : sim_curve(&opts, &c);
	}
	if (rc)
		goto out;

	if (opts.out_path) {
		struct outfile of;
		char why[600];
		FILE *f = outfile_fopen(&of, opts.out_path, why, sizeof(why));

		if (!f) {
			rc = cli_fail("mrc", "%s", why);
			goto out;
		}
		write_csv(&c, f);
		if (outfile_fclose(&of, f, why, sizeof(why)) != 0) {
			rc = cli_fail("mrc", "%s", why);
			goto out;
		}
	} else if (opts.csv) {
		write_csv(&c, stdout);
	} else {
		write_table(&opts, &c, stack, stdout);
	}
	if ((opts.out_path || opts.csv) && c.exact_faults)
		write_summary(&opts, &c, stderr);
	if (opts.plot_path) {
		if (c.n == 0)
			rc = cli_fail("mrc", "%s has no references: nothing to plot", opts.trace_path);
		else
			rc = draw(&opts, &c);
	}
out:
	free(c.frames);
	free(c.faults);
	free(c.miss);
	free(c.exact_faults);
	free(opts.frames);
	return rc < 0 ? EXIT_OK : rc;
}

static const struct command mrc_cmd = {
	.name = "mrc",
	.summary = "the miss-ratio curve of a trace: one pass (lru, opt), per size, or sampled (--sample)",
	.main = mrc_main,
};
COMMAND_REGISTER(mrc_cmd);
