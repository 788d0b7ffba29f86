// SPDX-License-Identifier: MIT
/*
 * pflab sim: replay a trace through simulated machines, one per
 * (policy, frames) pair, and print one row each.
 *
 * The trace is read once whatever the number of machines, a chunk at a time
 * handed to the set of machines (vmm/pager/simset.h), which sizes each by
 * what the trace needs and holds the whole trace only when a policy needs
 * the future (OPT). Page ids are renamed to dense page numbers on the way in
 * unless the trace's ids already are dense (pflab's binary format). With
 * --jobs N the set replays each chunk on N threads (simset.h), the same
 * output as one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "lab_frames.h"
#include "lab_progress.h"
#include "lab_simtable.h"
#include "simset.h"
#include "trace.h"

#define CHUNK 65536 /* references per read: amortises calls, stays in cache */
#define PROGRESS_CHUNKS 16 /* chunks between redraws of the progress line */
#define SIM_MAX_JOBS 256   /* --jobs; threads are also bounded by the machines */

struct sim_opts {
	const char *trace_path;
	struct trace_options trace;
	const struct policy_ops **policies; /* malloc'ed */
	size_t npolicies;
	uint32_t *frames;    /* ascending, no repeats */
	size_t nframes;
	struct policy_params params;
	bool zero_fill;
	bool timing;
	enum sim_output output;
	struct pool_config pool;    /* --pool-low, --pool-high */
	unsigned jobs;              /* --jobs: threads replaying machines */
	bool no_prefetch;           /* --no-prefetch */
};

static const char sim_help[] =
	"usage: pflab sim TRACE --policy P[,P...] --frames N[,N...] [options]\n"
	"\n"
	"Replay TRACE through every (policy, frames) pair and print one row each.\n"
	"The trace is read once for all pairs.\n"
	"\n"
	"  -p, --policy LIST    policies, comma-separated, or 'all' (pflab policies)\n"
	"  -n, --frames LIST    frame counts, comma-separated, each >= 1; an item may be\n"
	"                       a series A:B:xK (geometric) or A:B:+K (arithmetic);\n"
	"                       rows come in ascending order of frames\n"
	"  -f, --format F       trace format: txt rw lackey arc oracleGeneral pft be32\n"
	"                       (default: detected from the content)\n"
	"      --page-size N    bytes per page for address traces (default 4096)\n"
	"      --csv            CSV with a header; first columns:\n"
	"                       trace,policy,frames,refs,faults,miss_ratio,writebacks\n"
	"      --json           a JSON array of rows\n"
	"      --seed N         seed of the random policy (default 1)\n"
	"      --tick N         references between clock ticks: nru, aging (default 1000;\n"
	"                       0: no tick)\n"
	"      --window N       working-set window tau in references: ws, wsclock\n"
	"                       (default 10000)\n"
	"      --aging-bits N   counter width of aging, 1..64 (default 8)\n"
	"      --zero-fill      treat pages as anonymous memory: a first touch is a\n"
	"                       minor (zero-fill) fault, not a major one\n"
	"      --timing         add seconds and refs_per_sec to each row, and print the\n"
	"                       process's peak memory once on stderr (peak_rss_kib)\n"
	"  -j, --jobs N         replay the (policy, frames) pairs on N threads (default 1);\n"
	"                       the output is the same whatever N\n"
	"      --no-prefetch    replay without prefetching ahead: the same output, to\n"
	"                       measure what prefetching saves (docs/performance.md)\n"
	"      --pool-low L, --pool-high H\n"
	"                       a paging daemon keeps L to H frames free or in a free\n"
	"                       pool; faults on pool pages are minor (pool_reclaims\n"
	"                       column; docs/pager-daemon.md)\n"
	"  -h, --help           this text\n"
	"\n"
	"On a terminal, standard error shows the references read so far.\n"
	"Faults count every miss, cold ones included; major faults read the backing\n"
	"store, minor ones zero-fill. See docs/policies.md and docs/formats.md.\n";

static int parse_policies(char *list, struct sim_opts *o)
{
	char **names;
	size_t n;

	free(o->policies);
	o->policies = NULL;
	if (strcmp(list, "all") == 0) {
		o->policies = malloc(sizeof(*o->policies) * 64);
		if (!o->policies)
			return cli_usage_error("sim", "out of memory");
		o->npolicies = policy_list(o->policies, 64);
		return 0;
	}
	n = cli_split(list, &names);
	o->policies = malloc(sizeof(*o->policies) * n);
	if (!o->policies) {
		free(names);
		return cli_usage_error("sim", "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		o->policies[i] = policy_find(names[i]);
		for (size_t k = 0; k < i && o->policies[i]; k++) {
			if (o->policies[k] == o->policies[i]) {
				int rc = cli_usage_error("sim", "--policy: '%s' given twice", names[i]);

				free(names);
				return rc;
			}
		}
		if (!o->policies[i]) {
			int rc = *names[i] ? cli_usage_error("sim", "unknown policy '%s' (see pflab policies)",
							     names[i])
					   : cli_usage_error("sim", "--policy: an empty name in the list");
			free(names);
			return rc;
		}
	}
	o->npolicies = n;
	free(names);
	return 0;
}

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	enum { OPT_PAGE_SIZE = 256, OPT_CSV, OPT_JSON, OPT_ZERO_FILL, OPT_TIMING, OPT_POOL_LOW,
	       OPT_POOL_HIGH, OPT_NO_PREFETCH };
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "seed", required_argument, NULL, CLI_OPT_SEED },
		CLI_POLICY_KNOBS,
		{ "zero-fill", no_argument, NULL, OPT_ZERO_FILL },
		{ "timing", no_argument, NULL, OPT_TIMING },
		{ "pool-low", required_argument, NULL, OPT_POOL_LOW },
		{ "pool-high", required_argument, NULL, OPT_POOL_HIGH },
		{ "jobs", required_argument, NULL, 'j' },
		{ "no-prefetch", no_argument, NULL, OPT_NO_PREFETCH },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char why[160];
	uint64_t v;
	int c, rc;

	*o = (struct sim_opts){ .params = POLICY_PARAMS_DEFAULT, .trace.page_size = 4096, .jobs = 1 };
	while ((c = cli_getopt("sim", argc, argv, "p:n:f:j:h", longopts)) != -1) {
		switch (c) {
		case 'p':
			rc = parse_policies(optarg, o);
			if (rc)
				return rc;
			break;
		case 'n':
			free(o->frames);
			o->frames = NULL;
			if (lab_frames_parse(optarg, VREF_VPN_MAX, &o->frames, &o->nframes, why,
					     sizeof(why)) != 0)
				return cli_usage_error("sim", "--frames: %s", why);
			break;
		case 'f':
			if (trace_format_parse(optarg, &o->trace.format) != 0)
				return cli_usage_error("sim", "unknown trace format '%s'", optarg);
			break;
		case OPT_PAGE_SIZE:
			if (cli_parse_page_size("sim", optarg, &o->trace.page_size))
				return EXIT_USAGE;
			break;
		case OPT_CSV:
		case OPT_JSON:
			if (o->output != SIM_OUT_TABLE)
				return cli_usage_error("sim", "give one of --csv and --json, once");
			o->output = c == OPT_CSV ? SIM_OUT_CSV : SIM_OUT_JSON;
			break;
		case CLI_OPT_SEED:
		case CLI_OPT_TICK:
		case CLI_OPT_WINDOW:
		case CLI_OPT_AGING_BITS:
			if (cli_policy_knob("sim", c, optarg, &o->params))
				return EXIT_USAGE;
			break;
		case OPT_ZERO_FILL: o->zero_fill = true; break;
		case OPT_TIMING: o->timing = true; break;
		case OPT_NO_PREFETCH: o->no_prefetch = true; break;
		case OPT_POOL_LOW:
		case OPT_POOL_HIGH:
			if (cli_opt_u32("sim", c == OPT_POOL_LOW ? "--pool-low" : "--pool-high", optarg,
					1, VREF_VPN_MAX, c == OPT_POOL_LOW ? &o->pool.low : &o->pool.high))
				return EXIT_USAGE;
			break;
		case 'j':
			if (cli_opt_u64("sim", "--jobs", optarg, 1, SIM_MAX_JOBS, &v))
				return EXIT_USAGE;
			o->jobs = (unsigned)v;
			break;
		case 'h': fputs(sim_help, stdout); return -1;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("sim", "no trace given (see --help)");
	if (optind + 1 < argc)
		return cli_usage_error("sim", "unexpected argument '%s'", argv[optind + 1]);
	o->trace_path = argv[optind];
	if (!o->npolicies)
		return cli_usage_error("sim", "--policy is required (see pflab policies)");
	if (!o->nframes)
		return cli_usage_error("sim", "--frames is required");
	if (!o->pool.low != !o->pool.high)
		return cli_usage_error("sim", "--pool-low and --pool-high go together");
	return 0;
}

static long peak_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

/* Read the trace a chunk at a time into the machines. 0, or -1 with the
 * reason in err; *bad_input tells a malformed trace from a failed machine. */
static int replay(struct trace *trace, struct sim_set *set, char *err, size_t errlen,
		  bool *bad_input)
{
	struct trace_ref *raw = malloc(sizeof(*raw) * CHUNK);
	struct lab_progress progress;
	uint64_t chunks = 0;
	ptrdiff_t n;
	int rc = -1;

	*bad_input = true;
	if (!raw) {
		snprintf(err, errlen, "out of memory");
		*bad_input = false;
		return -1;
	}
	lab_progress_init(&progress, "sim", "references read", 0);
	while ((n = trace_read(trace, raw, CHUNK)) > 0) {
		if (sim_set_put(set, raw, (size_t)n) != 0)
			break;
		/* Once per PROGRESS_CHUNKS chunks, off the replay loop. */
		progress.done += (uint64_t)n;
		if (++chunks % PROGRESS_CHUNKS == 0)
			lab_progress_draw(&progress, false);
	}
	if (chunks >= PROGRESS_CHUNKS)
		lab_progress_draw(&progress, true);
	if (n < 0)
		snprintf(err, errlen, "%s", trace_error(trace));
	else if (n > 0 || sim_set_finish(set) != 0)
		snprintf(err, errlen, "%s", sim_set_error(set)), *bad_input = !sim_set_machine_failed(set);
	else
		rc = 0;
	free(raw);
	return rc;
}

static int print_results(const struct sim_opts *o, struct trace *trace, const struct sim_set *set)
{
	size_t n = sim_set_count(set);
	struct sim_row *rows = calloc(n, sizeof(*rows));
	struct sim_table t = {
		.trace = o->trace_path,
		.format = trace_format_name(trace_format(trace)),
		.pages = sim_set_pages(set),
		.trace_writes = trace_stats(trace)->writes,
		.timing = o->timing,
		.pool = o->pool.high != 0,
		.rows = rows,
		.nrows = n,
	};

	if (!rows)
		return cli_fail("sim", "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct sim_run *r = sim_set_run(set, i);

		rows[i] = (struct sim_row){ r->policy, r->frames, r->sim->pager->stats, r->seconds };
	}
	sim_table_print(stdout, &t, o->output);
	free(rows);
	return 0;
}

static int sim_main(int argc, char **argv)
{
	struct sim_opts opts;
	struct sim_set *set = NULL;
	struct trace *trace = NULL;
	char err[256];
	bool bad_input;
	int rc = parse_args(argc, argv, &opts);

	if (rc)
		goto out;
	trace = trace_open(opts.trace_path, &opts.trace, err, sizeof(err));
	if (!trace) {
		rc = cli_usage_error("sim", "%s", err);
		goto out;
	}
	set = sim_set_create(&(struct sim_set_config){
		.name = opts.trace_path,
		.policies = opts.policies,
		.npolicies = opts.npolicies,
		.frames = opts.frames,
		.nframes = opts.nframes,
		.params = opts.params,
		.zero_fill = opts.zero_fill,
		.pool = opts.pool,
		.dense = trace_dense(trace),
		.jobs = opts.jobs,
		.no_prefetch = opts.no_prefetch,
	}, err, sizeof(err));
	if (!set) {
		rc = cli_usage_error("sim", "%s", err);
		goto out;
	}
	if (replay(trace, set, err, sizeof(err), &bad_input) != 0) {
		/* A malformed trace is bad input; a machine that failed is a failed run. */
		rc = bad_input ? cli_usage_error("sim", "%s", err) : cli_fail("sim", "%s", err);
		goto out;
	}
	/* Nothing replayed is no result: a row of zeros would read as one. */
	if (trace_stats(trace)->refs == 0) {
		rc = cli_usage_error("sim", "%s: no references", opts.trace_path);
		goto out;
	}
	rc = print_results(&opts, trace, set);
	if (rc)
		goto out;
	/* The process's peak, every machine together: once, not on each row. */
	if (opts.timing)
		fprintf(stderr, "pflab sim: peak_rss_kib %ld (the whole process, all rows together)\n",
			peak_rss_kib());
	rc = EXIT_OK;
out:
	sim_set_destroy(set);
	if (trace)
		trace_close(trace);
	free(opts.policies);
	free(opts.frames);
	return rc < 0 ? EXIT_OK : rc;
}

static const struct command sim_cmd = {
	.name = "sim",
	.summary = "replay a trace through replacement policies and count faults",
	.main = sim_main,
};
COMMAND_REGISTER(sim_cmd);
