// SPDX-License-Identifier: MIT
/*
 * pflab sim: replay a trace through simulated machines, one per
 * (policy, frames) pair, and print one row each.
 *
 * The trace is read once whatever the number of machines: streaming, a chunk
 * at a time handed to every machine in turn, or, when a policy needs the
 * future (OPT), loaded whole so that each reference's next use is known.
 * Page ids are renamed to dense page numbers on the way in (traces/idmap.h)
 * unless the trace's ids already are dense (pflab's binary format).
 *
 * A machine is sized by what the trace needs, not by what --frames says:
 * it is created only once the pages seen reach its frame count, or at the
 * end of the trace with one frame per page (sim_frames_needed(), which
 * gives the same counts), and then replays the references held for it
 * since the start. Until every machine exists those references are kept,
 * 4 bytes each; once they all exist nothing is kept.
 *
 * With --jobs J, the machines replay each chunk on J threads (the main one
 * and J - 1 started for the chunk), machine i always on thread i mod J: the
 * machines share nothing but the chunk they read, so the counts, and the
 * output, are those of --jobs 1. Reading, renaming and creating machines stay
 * on the main thread, between chunks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "idmap.h"
#include "lab_frames.h"
#include "lab_progress.h"
#include "sim.h"
#include "trace.h"

#define CHUNK 65536 /* references per read: amortises calls, stays in cache */
#define PROGRESS_CHUNKS 16 /* chunks between redraws of the progress line */
#define SIM_MAX_JOBS 256   /* --jobs; threads are also bounded by the machines */

enum output { OUT_TABLE, OUT_CSV, OUT_JSON };

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
	enum output output;
	struct pool_config pool;    /* --pool-low, --pool-high */
	unsigned jobs;              /* --jobs: threads replaying machines */
	bool no_prefetch;           /* --no-prefetch */
};

/* One simulated machine and the time spent in it. */
struct run {
	const struct policy_ops *policy;
	uint32_t frames;
	struct sim *sim;     /* NULL until the pages seen reach frames */
	double seconds;
	bool failed;         /* its replay failed: why is in err */
	char err[224];
};

/* Everything a replay needs, so that the helpers below take one pointer. */
struct sim_job {
	const struct sim_opts *opts;
	struct trace *trace;
	struct idmap ids;
	bool dense;          /* the trace's ids are page numbers already */
	uint32_t npages;     /* distinct pages seen so far */
	struct run *runs;
	size_t nruns;
	bool needs_future;
	size_t npending;     /* runs not created yet */
	vref_t *held;        /* the references so far, while npending */
	size_t nheld, held_cap;
	bool run_failed;     /* a machine failed, as opposed to bad input */
	struct lab_progress progress; /* references read, on a terminal */
	uint64_t chunks;
	char err[256];
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
			if (o->output != OUT_TABLE)
				return cli_usage_error("sim", "give one of --csv and --json, once");
			o->output = c == OPT_CSV ? OUT_CSV : OUT_JSON;
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
			if (cli_parse_u64(optarg, 1, VREF_VPN_MAX, &v, why, sizeof(why)))
				return cli_usage_error("sim", "--pool-%s: %s",
						       c == OPT_POOL_LOW ? "low" : "high", why);
			*(c == OPT_POOL_LOW ? &o->pool.low : &o->pool.high) = (uint32_t)v;
			break;
		case 'j':
			if (cli_parse_u64(optarg, 1, SIM_MAX_JOBS, &v, why, sizeof(why)))
				return cli_usage_error("sim", "--jobs: %s", why);
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

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct sim_config run_config(const struct sim_job *job, const struct run *r)
{
	const struct sim_opts *o = job->opts;

	return (struct sim_config){
		.policy = r->policy,
		.nframes = r->frames,
		.params = o->params,
		.future_known = r->policy->flags & POLICY_NEEDS_FUTURE,
		.first_touch_zero = o->zero_fill,
		.pool = o->pool,
		.no_prefetch = o->no_prefetch,
	};
}

/*
 * Every run starts pending (see the top of the file). Its configuration is
 * checked now, on a machine of a few frames, so that bad options fail
 * before the trace is read.
 */
static int create_runs(struct sim_job *job)
{
	const struct sim_opts *o = job->opts;

	job->nruns = o->npolicies * o->nframes;
	job->runs = calloc(job->nruns, sizeof(*job->runs));
	if (!job->runs)
		return cli_fail("sim", "out of memory");
	for (size_t i = 0; i < o->npolicies; i++) {
		job->needs_future |= o->policies[i]->flags & POLICY_NEEDS_FUTURE;
		for (size_t j = 0; j < o->nframes; j++) {
			struct run *r = &job->runs[i * o->nframes + j];
			struct sim_config cfg;
			struct sim *probe;

			r->policy = o->policies[i];
			r->frames = o->frames[j];
			cfg = run_config(job, r);
			if (pool_config_check(&cfg.pool, cfg.nframes, job->err, sizeof(job->err)) != 0)
				return cli_usage_error("sim", "%s", job->err);
			cfg.nframes = sim_frames_needed(&cfg, 1);
			probe = sim_create(&cfg, job->err, sizeof(job->err));
			if (!probe)
				return cli_usage_error("sim", "%s", job->err);
			sim_destroy(probe);
			job->npending++;
		}
	}
	return 0;
}

static void destroy_runs(struct sim_job *job)
{
	for (size_t i = 0; i < job->nruns; i++)
		sim_destroy(job->runs[i].sim);
	free(job->runs);
	free(job->held);
}

/* Rename a chunk's page ids to dense page numbers. -1 on too many pages. */
static int to_vrefs(struct sim_job *job, const struct trace_ref *in, size_t n, vref_t *out)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t vpn;

		if (job->dense) {
			vpn = in[i].page;
			if (vpn >= job->npages)
				job->npages = (uint32_t)(vpn <= VREF_VPN_MAX ? vpn + 1 : 0);
		} else {
			vpn = idmap_get(&job->ids, in[i].page);
			job->npages = job->ids.count;
		}
		if (vpn > VREF_VPN_MAX) {
			snprintf(job->err, sizeof(job->err),
				 "%s: more than %u distinct pages", job->opts->trace_path, VREF_VPN_MAX + 1);
			return -1;
		}
		out[i] = VREF((vpn_t)vpn, in[i].write);
	}
	return 0;
}

/* Make every machine's page table cover the pages seen so far. */
static int grow_runs(struct sim_job *job)
{
	for (size_t i = 0; i < job->nruns; i++) {
		if (job->runs[i].sim && pager_grow(job->runs[i].sim->pager, job->npages) != 0) {
			snprintf(job->err, sizeof(job->err), "out of memory for %u pages", job->npages);
			return -1;
		}
	}
	return 0;
}

/* Replay into one machine. Touches r alone, so that threads can share a job. */
static int replay_run(struct run *r, const vref_t *refs, const uint32_t *next, size_t n)
{
	double t0 = now_seconds();
	int rc = sim_replay(r->sim, refs, next, n);

	r->seconds += now_seconds() - t0;
	if (rc) {
		snprintf(r->err, sizeof(r->err), "%s with %u frames: %s", r->policy->name, r->frames,
			 r->sim->pager->err);
		r->failed = true;
	}
	return rc;
}

/* The first failed machine's reason, as the job's. */
static int run_failed(struct sim_job *job, const struct run *r)
{
	snprintf(job->err, sizeof(job->err), "%s", r->err);
	job->run_failed = true;
	return -1;
}

static int replay(struct sim_job *job, struct run *r, const vref_t *refs, const uint32_t *next,
		  size_t n)
{
	return replay_run(r, refs, next, n) ? run_failed(job, r) : 0;
}

/* One thread's share of a batch: machines t, t + stride, ... that exist. */
struct share {
	struct sim_job *job;
	const vref_t *refs;
	const uint32_t *next;  /* for the machines whose policy needs the future */
	size_t n;
	size_t t, stride;
	pthread_t thread;
};

static void *replay_share(void *arg)
{
	struct share *sh = arg;

	for (size_t i = sh->t; i < sh->job->nruns; i += sh->stride) {
		struct run *r = &sh->job->runs[i];
		bool future = r->policy->flags & POLICY_NEEDS_FUTURE;

		if (r->sim && !r->failed)
			replay_run(r, sh->refs, future ? sh->next : NULL, sh->n);
	}
	return NULL;
}

/*
 * Every existing machine replays refs: on the main thread and up to
 * --jobs - 1 more, never more threads than machines. A thread that cannot
 * be started leaves its share to the main thread. Then the first machine
 * (in row order) that failed, if any, fails the job.
 */
static int replay_all(struct sim_job *job, const vref_t *refs, const uint32_t *next, size_t n)
{
	size_t nthreads = job->opts->jobs < job->nruns ? job->opts->jobs : job->nruns;
	struct share sh[nthreads ? nthreads : 1];
	bool started[nthreads ? nthreads : 1];

	for (size_t t = 0; t < nthreads; t++) {
		sh[t] = (struct share){ .job = job, .refs = refs, .next = next, .n = n, .t = t,
					.stride = nthreads };
		started[t] = t > 0 && pthread_create(&sh[t].thread, NULL, replay_share, &sh[t]) == 0;
	}
	for (size_t t = 0; t < nthreads; t++)
		if (!started[t])
			replay_share(&sh[t]);
	for (size_t t = 1; t < nthreads; t++)
		if (started[t])
			pthread_join(sh[t].thread, NULL);
	for (size_t i = 0; i < job->nruns; i++)
		if (job->runs[i].failed)
			return run_failed(job, &job->runs[i]);
	return 0;
}

/* Keep a chunk for the runs not created yet. */
static int hold(struct sim_job *job, const vref_t *refs, size_t n)
{
	if (job->held_cap - job->nheld < n) {
		size_t cap = job->held_cap ? job->held_cap : CHUNK;
		vref_t *bigger;

		while (cap - job->nheld < n)
			cap *= 2;
		bigger = realloc(job->held, sizeof(*bigger) * cap);
		if (!bigger) {
			snprintf(job->err, sizeof(job->err),
				 "out of memory holding %zu references until %zu machines can be sized",
				 job->nheld + n, job->npending);
			return -1;
		}
		job->held = bigger;
		job->held_cap = cap;
	}
	memcpy(job->held + job->nheld, refs, sizeof(*refs) * n);
	job->nheld += n;
	return 0;
}

/*
 * Create the pending runs whose frames the pages seen now reach (all of them
 * at the end of the trace, with the frames they can use) and, if refs is not
 * NULL, replay the n references so far into each.
 */
static int create_pending(struct sim_job *job, bool at_end, const vref_t *refs, size_t n)
{
	for (size_t i = 0; i < job->nruns && job->npending; i++) {
		struct run *r = &job->runs[i];
		struct sim_config cfg;

		if (r->sim)
			continue;
		cfg = run_config(job, r);
		cfg.nframes = sim_frames_needed(&cfg, job->npages);
		if (cfg.nframes < r->frames && !at_end)
			continue;
		r->sim = sim_create(&cfg, job->err, sizeof(job->err));
		if (!r->sim) {
			job->run_failed = true;
			return -1;
		}
		job->npending--;
		if (pager_grow(r->sim->pager, job->npages ? job->npages : 1) != 0) {
			snprintf(job->err, sizeof(job->err), "out of memory for %u pages", job->npages);
			job->run_failed = true;
			return -1;
		}
		if (refs && replay(job, r, refs, NULL, n))
			return -1;
	}
	if (!job->npending) {
		free(job->held);
		job->held = NULL;
		job->nheld = job->held_cap = 0;
	}
	return 0;
}

/* Read the next chunk and rename it. Returns its length, 0 at the end, -1 on error. */
static ptrdiff_t read_chunk(struct sim_job *job, struct trace_ref *raw, vref_t *refs)
{
	ptrdiff_t n = trace_read(job->trace, raw, CHUNK);

	if (n < 0) {
		snprintf(job->err, sizeof(job->err), "%s", trace_error(job->trace));
		return -1;
	}
	if (n > 0 && (to_vrefs(job, raw, (size_t)n, refs) != 0 || grow_runs(job) != 0))
		return -1;
	/* Once per PROGRESS_CHUNKS chunks, off the replay loop. */
	job->progress.done += (uint64_t)n;
	if (n > 0 && ++job->chunks % PROGRESS_CHUNKS == 0)
		lab_progress_draw(&job->progress, false);
	return n;
}

/* Every machine sees each chunk before the next one is read. */
static int replay_streaming(struct sim_job *job)
{
	struct trace_ref *raw = malloc(sizeof(*raw) * CHUNK);
	vref_t *refs = malloc(sizeof(*refs) * CHUNK);
	ptrdiff_t n;
	int rc = -1;

	if (!raw || !refs) {
		snprintf(job->err, sizeof(job->err), "out of memory");
		goto out;
	}
	while ((n = read_chunk(job, raw, refs)) > 0) {
		if (replay_all(job, refs, NULL, (size_t)n) != 0)
			goto out;
		if (job->npending && (hold(job, refs, (size_t)n) != 0 ||
				      create_pending(job, false, job->held, job->nheld) != 0))
			goto out;
	}
	if (n == 0 && create_pending(job, true, job->held, job->nheld) == 0)
		rc = 0;
out:
	free(raw);
	free(refs);
	return rc;
}

/*
 * OPT needs each reference's next use, so the whole trace is loaded (4 bytes
 * a reference, 8 with the next-use times) and then replayed by every machine.
 */
static int replay_whole(struct sim_job *job)
{
	struct trace_ref *raw = malloc(sizeof(*raw) * CHUNK);
	vref_t *refs = NULL;
	uint32_t *next = NULL;
	size_t len = 0, cap = 0;
	ptrdiff_t n;
	int rc = -1;

	if (!raw)
		goto oom;
	for (;;) {
		if (cap - len < CHUNK) {
			vref_t *bigger;

			cap = cap ? cap * 2 : 4 * CHUNK;
			bigger = realloc(refs, sizeof(*refs) * cap);
			if (!bigger)
				goto oom;
			refs = bigger;
		}
		n = read_chunk(job, raw, refs + len);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len >= UINT32_MAX) {
			snprintf(job->err, sizeof(job->err),
				 "%s: more than %u references: too long to hold for opt",
				 job->opts->trace_path, UINT32_MAX - 1);
			goto out;
		}
	}
	next = malloc(sizeof(*next) * (len ? len : 1));
	if (!next || sim_next_use(refs, len, job->npages, next) != 0)
		goto oom;
	if (create_pending(job, true, NULL, 0) != 0)
		goto out;
	if (replay_all(job, refs, next, len) != 0)
		goto out;
	rc = 0;
	goto out;
oom:
	snprintf(job->err, sizeof(job->err), "out of memory holding the trace for opt");
out:
	free(raw);
	free(refs);
	free(next);
	return rc;
}

static double miss_ratio(const struct pager_stats *st)
{
	return st->refs ? (double)st->faults / (double)st->refs : 0.0;
}

static double resident_mean(const struct pager_stats *st)
{
	return st->refs ? (double)st->resident_sum / (double)st->refs : 0.0;
}

static long peak_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static void print_table(const struct sim_job *job)
{
	bool variable = false;

	for (size_t i = 0; i < job->nruns; i++)
		variable |= job->runs[i].policy->flags & POLICY_VARIABLE;
	printf("%-10s %8s %12s %12s %10s %12s", "policy", "frames", "refs", "faults",
	       "miss_ratio", "writebacks");
	if (variable)
		printf(" %13s %12s", "resident_mean", "resident_max");
	if (job->opts->timing)
		printf(" %10s %12s", "seconds", "refs/s");
	if (job->opts->pool.high)
		printf(" %10s %10s", "major", "pool_hits");
	putchar('\n');
	for (size_t i = 0; i < job->nruns; i++) {
		const struct run *r = &job->runs[i];
		const struct pager_stats *st = &r->sim->pager->stats;

		printf("%-10s %8u %12llu %12llu %10.6f %12llu", r->policy->name, r->frames,
		       (unsigned long long)st->refs, (unsigned long long)st->faults, miss_ratio(st),
		       (unsigned long long)st->writebacks);
		if (variable)
			printf(" %13.1f %12llu", resident_mean(st), (unsigned long long)st->resident_max);
		if (job->opts->timing)
			printf(" %10.3f %12.0f", r->seconds,
			       r->seconds > 0 ? (double)st->refs / r->seconds : 0.0);
		if (job->opts->pool.high)
			printf(" %10llu %10llu", (unsigned long long)st->major,
			       (unsigned long long)st->pool_reclaims);
		putchar('\n');
	}
}

static void print_csv(const struct sim_job *job)
{
	fputs("trace,policy,frames,refs,faults,miss_ratio,writebacks,major,minor,evictions,"
	      "resident_mean,resident_max", stdout);
	if (job->opts->timing)
		fputs(",seconds,refs_per_sec", stdout);
	if (job->opts->pool.high) /* last, so that other columns keep their places */
		fputs(",pool_reclaims,direct_reclaims", stdout);
	putchar('\n');
	for (size_t i = 0; i < job->nruns; i++) {
		const struct run *r = &job->runs[i];
		const struct pager_stats *st = &r->sim->pager->stats;

		csv_field(stdout, job->opts->trace_path);
		printf(",%s,%u,%llu,%llu,%.6f,%llu,%llu,%llu,%llu,%.3f,%llu", r->policy->name,
		       r->frames, (unsigned long long)st->refs, (unsigned long long)st->faults,
		       miss_ratio(st), (unsigned long long)st->writebacks,
		       (unsigned long long)st->major, (unsigned long long)st->minor,
		       (unsigned long long)st->evictions, resident_mean(st),
		       (unsigned long long)st->resident_max);
		if (job->opts->timing)
			printf(",%.6f,%.0f", r->seconds,
			       r->seconds > 0 ? (double)st->refs / r->seconds : 0.0);
		if (job->opts->pool.high)
			printf(",%llu,%llu", (unsigned long long)st->pool_reclaims,
			       (unsigned long long)st->direct_reclaims);
		putchar('\n');
	}
}

static void print_json(const struct sim_job *job)
{
	const struct trace_stats *ts = trace_stats(job->trace);

	fputs("[\n", stdout);
	for (size_t i = 0; i < job->nruns; i++) {
		const struct run *r = &job->runs[i];
		const struct pager_stats *st = &r->sim->pager->stats;

		fputs("  {\"trace\": ", stdout);
		json_string(stdout, job->opts->trace_path);
		fputs(", \"format\": ", stdout);
		json_string(stdout, trace_format_name(trace_format(job->trace)));
		fputs(", \"policy\": ", stdout);
		json_string(stdout, r->policy->name);
		printf(", \"frames\": %u, \"refs\": %llu, \"faults\": %llu, \"miss_ratio\": %.6f, "
		       "\"writebacks\": %llu, \"major\": %llu, \"minor\": %llu, \"evictions\": %llu, "
		       "\"resident_mean\": %.3f, \"resident_max\": %llu, \"distinct_pages\": %u, "
		       "\"trace_writes\": %llu",
		       r->frames, (unsigned long long)st->refs, (unsigned long long)st->faults,
		       miss_ratio(st), (unsigned long long)st->writebacks,
		       (unsigned long long)st->major, (unsigned long long)st->minor,
		       (unsigned long long)st->evictions, resident_mean(st),
		       (unsigned long long)st->resident_max, job->npages,
		       (unsigned long long)ts->writes);
		if (job->opts->timing)
			printf(", \"seconds\": %.6f", r->seconds);
		if (job->opts->pool.high)
			printf(", \"pool_reclaims\": %llu, \"direct_reclaims\": %llu",
			       (unsigned long long)st->pool_reclaims,
			       (unsigned long long)st->direct_reclaims);
		printf("}%s\n", i + 1 < job->nruns ? "," : "");
	}
	fputs("]\n", stdout);
}

static int sim_main(int argc, char **argv)
{
	struct sim_opts opts;
	struct sim_job job = { .opts = &opts };
	int rc = parse_args(argc, argv, &opts);

	if (rc)
		goto out_opts;

	job.trace = trace_open(opts.trace_path, &opts.trace, job.err, sizeof(job.err));
	if (!job.trace) {
		rc = cli_usage_error("sim", "%s", job.err);
		goto out_opts;
	}
	lab_progress_init(&job.progress, "sim", "references read", 0);
	job.dense = trace_dense(job.trace);
	if (!job.dense && idmap_init(&job.ids) != 0) {
		rc = cli_fail("sim", "out of memory");
		goto out_trace;
	}
	rc = create_runs(&job);
	if (rc)
		goto out_runs;

	rc = job.needs_future ? replay_whole(&job) : replay_streaming(&job);
	if (job.chunks >= PROGRESS_CHUNKS)
		lab_progress_draw(&job.progress, true);
	if (rc != 0) {
		/* A malformed trace is bad input; a machine that failed is a failed run. */
		rc = job.run_failed ? cli_fail("sim", "%s", job.err)
				    : cli_usage_error("sim", "%s", job.err);
		goto out_runs;
	}
	/* Nothing replayed is no result: a row of zeros would read as one. */
	if (trace_stats(job.trace)->refs == 0) {
		rc = cli_usage_error("sim", "%s: no references", opts.trace_path);
		goto out_runs;
	}

	switch (opts.output) {
	case OUT_TABLE: print_table(&job); break;
	case OUT_CSV: print_csv(&job); break;
	case OUT_JSON: print_json(&job); break;
	}
	/* The process's peak, every machine together: once, not on each row. */
	if (opts.timing)
		fprintf(stderr, "pflab sim: peak_rss_kib %ld (the whole process, all rows together)\n",
			peak_rss_kib());
	rc = EXIT_OK;
out_runs:
	destroy_runs(&job);
	if (!job.dense)
		idmap_fini(&job.ids);
out_trace:
	trace_close(job.trace);
out_opts:
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
