// SPDX-License-Identifier: MIT
/*
 * pflab proc: the guest's workloads, or a trace's replay, run by this very
 * process on a region of the user-level paging library (vmm/uvm/,
 * docs/uvm.md), every byte verified; one row like pflab run's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "loadtrace.h"
#include "outfile.h"
#include "policy.h"
#include "trace.h"
#include "uvm.h"
#include "workload.h"

#define PROC_MAX_PAGES (1u << 24)

static const char proc_help[] =
	"usage: pflab proc [--workload W | --trace FILE] [--policy P] [--frames N] [options]\n"
	"\n"
	"Run a workload in this process on a region paged by the host pager through\n"
	"the user-level paging library (docs/uvm.md), every byte verified. One row\n"
	"of results, like pflab run's.\n"
	"\n"
	"  -w, --workload W       scan random stride (or strided) matmul list copy\n"
	"                         (default scan; as pflab run's)\n"
	"  -t, --trace FILE       replay a trace: one pass over the page per reference;\n"
	"                         its faults are pflab sim's exactly for policies that\n"
	"                         need no hits (fifo, clock, opt, random, ...)\n"
	"  -f, --format F         the trace's format (default: detected)\n"
	"  -p, --policy P         replacement policy (default clock; pflab policies)\n"
	"  -n, --frames N         frames of the region (default 64)\n"
	"      --pages N          the region's pages for a workload (default 256)\n"
	"      --page-size B      bytes per page, a multiple of 4096 (default 4096)\n"
	"      --passes N         workload repetitions (default per workload)\n"
	"      --seed N           workload and random policy seed (default 1)\n"
	"      --trap T           uffd (userfaultfd, default) or sigsegv (mprotect + SIGSEGV)\n"
	"      --threads T        threads, each on its own slice of the pages (default 1)\n"
	"      --green            the T threads are green threads of this one thread: a\n"
	"                         faulting one is parked while a filler serves the fault\n"
	"      --sigbus           uffd with --green: the region's faults raise SIGBUS on\n"
	"                         the thread (UFFD_FEATURE_SIGBUS) instead of reaching it\n"
	"                         through the filler's signal (docs/uvm.md)\n"
	"      --fillers N        filler threads: uffd handler threads, sigsegv threads a\n"
	"                         fault is handed to (default 1; with --green, T)\n"
	"      --store S          file (an anonymous temporary swap file, default) or memory\n"
	"      --disk-latency D   add a modelled device latency to each store I/O (e.g. 100us)\n"
	"      --read-ahead N     pages read after a major fault's page (default 0)\n"
	"      --record FILE      write the faults as an rw trace, for pflab sim\n"
	"      --csv              CSV with a header; first columns as pflab run's:\n"
	"                         trace,policy,frames,refs,faults,miss_ratio,writebacks\n"
	"      --json             a JSON object\n"
	"      --tick N, --window N, --aging-bits N   policy knobs, as pflab sim's\n"
	"      --corrupt-page N   test knob: flip byte 123 of page N's stored copy after\n"
	"                         its first write-back (the workload must notice)\n"
	"  -h, --help             this text\n"
	"\n"
	"faults counts the faults the pager served: major (read from the store) plus\n"
	"minor (a workload's first touch, zero-filled; a trace's pages exist, so they\n"
	"are major). soft_faults only set a referenced bit; wp_faults a dirty bit.\n"
	"Exit status: 0 ok, 1 a check failed, 2 bad usage (or no userfaultfd).\n";

enum output { OUT_TABLE, OUT_CSV, OUT_JSON };

struct proc_opts {
	struct uvm_config region;
	struct uvm_options ctx;
	struct uvm_workload wl;
	const char *trace_path;
	struct trace_options trace;
	const char *record_path;
	enum output output;
	bool pages_given;
	bool green;             /* --green */
};

struct recorder {
	FILE *f;
	const uint64_t *ids;
};

static void record_fault(void *ctx, uint64_t page, bool write)
{
	struct recorder *rec = ctx;

	fprintf(rec->f, "%c %llu\n", write ? 'W' : 'R',
		(unsigned long long)(rec->ids ? rec->ids[page] : page));
}

static void replay_tick(void *ctx, uint64_t done)
{
	uvm_replay_tick(ctx, done);
}

static int parse_args(int argc, char **argv, struct proc_opts *o)
{
	enum { OPT_PAGES = 256, OPT_PAGE_SIZE, OPT_PASSES, OPT_SEED, OPT_TRAP, OPT_THREADS,
	       OPT_FILLERS, OPT_STORE, OPT_DISK_LATENCY, OPT_READ_AHEAD, OPT_RECORD, OPT_CSV,
	       OPT_JSON, OPT_CORRUPT, OPT_GREEN, OPT_SIGBUS };
	static const struct option longopts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "trace", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "policy", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' },
		{ "pages", required_argument, NULL, OPT_PAGES },
		{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
		{ "passes", required_argument, NULL, OPT_PASSES },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "trap", required_argument, NULL, OPT_TRAP },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "fillers", required_argument, NULL, OPT_FILLERS },
		{ "green", no_argument, NULL, OPT_GREEN },
		{ "sigbus", no_argument, NULL, OPT_SIGBUS },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "disk-latency", required_argument, NULL, OPT_DISK_LATENCY },
		{ "read-ahead", required_argument, NULL, OPT_READ_AHEAD },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		CLI_POLICY_KNOBS,
		/* Test knob, described in docs/uvm.md. */
		{ "corrupt-page", required_argument, NULL, OPT_CORRUPT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct policy_params params = POLICY_PARAMS_DEFAULT;
	const char *workload = NULL;
	char why[200];
	uint64_t v;
	int c;

	while ((c = cli_getopt("proc", argc, argv, "w:t:f:p:n:h", longopts)) != -1) {
		switch (c) {
		case 'w': workload = optarg; break;
		case 't': o->trace_path = optarg; break;
		case 'f':
			if (trace_format_parse(optarg, &o->trace.format) != 0)
				return cli_usage_error("proc", "unknown trace format '%s'", optarg);
			break;
		case 'p': o->region.policy = optarg; break;
		case 'n':
			if (cli_opt_u32("proc", "--frames", optarg, 1, PROC_MAX_PAGES,
					&o->region.frames))
				return EXIT_USAGE;
			break;
		case OPT_PAGES:
			if (cli_opt_u64("proc", "--pages", optarg, 1, PROC_MAX_PAGES, &v))
				return EXIT_USAGE;
			o->region.pages = v;
			o->pages_given = true;
			break;
		case OPT_PAGE_SIZE:
			if (cli_opt_u64("proc", "--page-size", optarg, 4096, 1u << 30, &v))
				return EXIT_USAGE;
			if (v % 4096)
				return cli_usage_error("proc", "--page-size: not a multiple of 4096");
			o->region.page_size = v;
			break;
		case OPT_PASSES:
			if (cli_opt_u32("proc", "--passes", optarg, 1, 1000000, &o->wl.passes))
				return EXIT_USAGE;
			break;
		case OPT_SEED:
			if (cli_opt_u64("proc", "--seed", optarg, 0, UINT64_MAX, &v))
				return EXIT_USAGE;
			o->wl.seed = v;
			params.seed = v;
			break;
		case OPT_TRAP:
			if (strcmp(optarg, "uffd") == 0)
				o->region.trap = UVM_TRAP_UFFD;
			else if (strcmp(optarg, "sigsegv") == 0)
				o->region.trap = UVM_TRAP_SIGSEGV;
			else
				return cli_usage_error("proc", "--trap: '%s' is not uffd or sigsegv", optarg);
			break;
		case OPT_THREADS:
			if (cli_opt_u64("proc", "--threads", optarg, 1, 256, &v))
				return EXIT_USAGE;
			o->wl.threads = (unsigned)v;
			break;
		case OPT_GREEN: o->green = true; break;
		case OPT_SIGBUS: o->region.sigbus = true; break;
		case OPT_FILLERS:
			if (cli_opt_u64("proc", "--fillers", optarg, 1, 64, &v))
				return EXIT_USAGE;
			o->ctx.fillers = (unsigned)v;
			break;
		case OPT_STORE:
			if (strcmp(optarg, "memory") == 0)
				o->region.store = UVM_STORE_MEMORY;
			else if (strcmp(optarg, "file") == 0)
				o->region.store = UVM_STORE_SWAP;
			else
				return cli_usage_error("proc", "--store: '%s' is not file or memory", optarg);
			break;
		case OPT_DISK_LATENCY:
			if (cli_parse_duration_ns(optarg, &o->region.disk_latency_ns, why, sizeof(why)))
				return cli_usage_error("proc", "--disk-latency: %s", why);
			break;
		case OPT_READ_AHEAD:
			if (cli_opt_u32("proc", "--read-ahead", optarg, 0, 1024,
					&o->region.read_ahead))
				return EXIT_USAGE;
			break;
		case OPT_RECORD: o->record_path = optarg; break;
		case OPT_CORRUPT:
			if (cli_opt_u64("proc", "--corrupt-page", optarg, 0, PROC_MAX_PAGES - 1,
					&v))
				return EXIT_USAGE;
			o->region.corrupt = true;
			o->region.corrupt_page = v;
			break;
		case OPT_CSV:
		case OPT_JSON:
			if (o->output != OUT_TABLE)
				return cli_usage_error("proc", "give one of --csv and --json, once");
			o->output = c == OPT_CSV ? OUT_CSV : OUT_JSON;
			break;
		case CLI_OPT_TICK:
		case CLI_OPT_WINDOW:
		case CLI_OPT_AGING_BITS:
			if (cli_policy_knob("proc", c, optarg, &params))
				return EXIT_USAGE;
			break;
		case 'h': fputs(proc_help, stdout); return -1;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("proc", "unexpected argument '%s'", argv[optind]);
	if (workload && o->trace_path)
		return cli_usage_error("proc", "--workload and --trace exclude each other");
	if (o->trace_path && o->pages_given)
		return cli_usage_error("proc", "--pages is for workloads: a trace has its own pages");
	o->wl.kind = o->trace_path ? UWL_TRACE : uvm_workload_find(workload ? workload : "scan");
	if (!o->wl.kind || (o->wl.kind == UWL_TRACE && !o->trace_path))
		return cli_usage_error("proc", "unknown workload '%s' (see pflab proc --help)",
				       workload);
	if (o->trace_path && o->wl.threads > 1)
		return cli_usage_error("proc", "--threads: a trace is replayed by one thread");
	if (o->region.sigbus && !(o->green && o->region.trap == UVM_TRAP_UFFD))
		return cli_usage_error("proc", "--sigbus is for --green under --trap uffd");
	if (o->green && !o->ctx.fillers)
		o->ctx.fillers = o->wl.threads > 64 ? 64 : o->wl.threads ? o->wl.threads : 1;
	if (!policy_find(o->region.policy))
		return cli_usage_error("proc", "unknown policy '%s' (see pflab policies)",
				       o->region.policy);
	if (o->wl.threads > o->region.pages)
		return cli_usage_error("proc", "--threads %u: more threads than pages", o->wl.threads);
	if (o->region.corrupt && !o->trace_path && o->region.corrupt_page >= o->region.pages)
		return cli_usage_error("proc", "--corrupt-page %llu: the region has %llu pages",
				       (unsigned long long)o->region.corrupt_page,
				       (unsigned long long)o->region.pages);
	o->region.seed = params.seed;
	o->region.tick = params.tick ? params.tick : UVM_TICK_NONE;
	o->region.window = params.window;
	o->region.aging_bits = params.aging_bits;
	return 0;
}

static void print_result(const struct proc_opts *o, const char *name, const struct uvm_stats *st,
			 double wall_s)
{
	const char *policy = o->region.policy;
	const char *trap = o->region.trap == UVM_TRAP_UFFD ? "uffd" : "sigsegv";
	unsigned threads = o->wl.threads ? o->wl.threads : 1;
	uint64_t refs = o->wl.refs_made;
	double miss = refs ? (double)st->faults / (double)refs : 0.0;

	switch (o->output) {
	case OUT_CSV:
		fputs("trace,policy,frames,refs,faults,miss_ratio,writebacks,major,minor,soft_faults,"
		      "lat_mean_us,lat_p50_us,lat_p99_us,wall_s,trap,wp_faults,threads,mismatches,"
		      "green,green_parks,shared_reads,timeouts\n",
		      stdout);
		csv_field(stdout, name);
		printf(",%s,%u,%llu,%llu,%.6f,%llu,%llu,%llu,%llu,%.2f,%.2f,%.2f,%.6f,%s,%llu,%u,%llu,"
		       "%d,%llu,%llu,%llu\n",
		       policy, o->region.frames, (unsigned long long)refs,
		       (unsigned long long)st->faults, miss, (unsigned long long)st->writebacks,
		       (unsigned long long)st->major, (unsigned long long)st->minor,
		       (unsigned long long)st->soft_faults, st->lat_mean_us, st->lat_p50_us,
		       st->lat_p99_us, wall_s, trap, (unsigned long long)st->wp_faults, threads,
		       (unsigned long long)o->wl.mismatches, o->green,
		       (unsigned long long)o->wl.green_parks, (unsigned long long)st->shared_reads,
		       (unsigned long long)st->timeouts);
		break;
	case OUT_JSON:
		fputs("{\"trace\": ", stdout);
		json_string(stdout, name);
		printf(", \"policy\": \"%s\", \"frames\": %u, \"refs\": %llu, \"faults\": %llu, "
		       "\"miss_ratio\": %.6f, \"writebacks\": %llu, \"major\": %llu, \"minor\": %llu, "
		       "\"soft_faults\": %llu, \"lat_mean_us\": %.2f, \"lat_p50_us\": %.2f, "
		       "\"lat_p99_us\": %.2f, \"wall_s\": %.6f, \"trap\": \"%s\", \"wp_faults\": %llu, "
		       "\"threads\": %u, \"mismatches\": %llu, \"green\": %s, \"green_parks\": %llu, "
		       "\"shared_reads\": %llu, \"timeouts\": %llu}\n",
		       policy, o->region.frames, (unsigned long long)refs,
		       (unsigned long long)st->faults, miss, (unsigned long long)st->writebacks,
		       (unsigned long long)st->major, (unsigned long long)st->minor,
		       (unsigned long long)st->soft_faults, st->lat_mean_us, st->lat_p50_us,
		       st->lat_p99_us, wall_s, trap, (unsigned long long)st->wp_faults, threads,
		       (unsigned long long)o->wl.mismatches, o->green ? "true" : "false",
		       (unsigned long long)o->wl.green_parks, (unsigned long long)st->shared_reads,
		       (unsigned long long)st->timeouts);
		break;
	case OUT_TABLE:
		printf("%-12s %-8s %7s %10s %9s %10s %10s %9s %9s %9s %9s %9s %9s %8s\n", "trace",
		       "policy", "frames", "refs", "faults", "miss_ratio", "writebacks", "major",
		       "minor", "soft", "lat_us", "p50_us", "p99_us", "wall_s");
		printf("%-12s %-8s %7u %10llu %9llu %10.6f %10llu %9llu %9llu %9llu %9.1f %9.1f %9.1f %8.3f\n",
		       name, policy, o->region.frames, (unsigned long long)refs,
		       (unsigned long long)st->faults, miss, (unsigned long long)st->writebacks,
		       (unsigned long long)st->major, (unsigned long long)st->minor,
		       (unsigned long long)st->soft_faults, st->lat_mean_us, st->lat_p50_us,
		       st->lat_p99_us, wall_s);
		break;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Map the region, run the workload, unmap. 0, EXIT_FAIL, or EXIT_USAGE. */
static int run(struct proc_opts *o, const struct loaded_trace *lt, struct recorder *rec)
{
	volatile uint64_t index = 0;
	struct uvm_replay replay;
	struct uvm_region *r;
	struct uvm_stats st;
	struct uvm *u;
	char err[512];
	double t0;
	int rc;

	if (lt) {
		replay = (struct uvm_replay){ .refs = lt->refs, .next_use = lt->next_use,
					      .len = lt->n, .index = &index };
		o->region.replay = &replay;
		o->region.pages = lt->npages;
		if (o->region.corrupt && o->region.corrupt_page >= o->region.pages)
			return cli_usage_error("proc", "--corrupt-page %llu: %s has %llu pages",
					       (unsigned long long)o->region.corrupt_page,
					       o->trace_path, (unsigned long long)o->region.pages);
		o->wl.refs = lt->refs;
		o->wl.nrefs = lt->n;
		o->wl.index = &index;
	}
	if (rec->f) {
		o->region.on_fault = record_fault;
		o->region.on_fault_ctx = rec;
	}
	u = uvm_open(&o->ctx, err, sizeof(err));
	if (!u)
		return cli_usage_error("proc", "%s", err);
	r = uvm_map(u, &o->region, err, sizeof(err));
	if (!r) {
		uvm_close(u);
		return cli_usage_error("proc", "%s", err);
	}
	if (lt && o->region.tick != UVM_TICK_NONE) {
		o->wl.on_tick = replay_tick;
		o->wl.tick_ctx = r;
		o->wl.tick = o->region.tick;
	}
	o->wl.green = o->green ? u : NULL;
	o->wl.base = uvm_addr(r);
	o->wl.npages = (uint32_t)o->region.pages;
	o->wl.page_size = uvm_page_size(r);
	t0 = now_s();
	rc = uvm_workload_run(&o->wl);
	if (rc) {
		uvm_unmap(r, true);
		uvm_close(u);
		return cli_fail("proc", "starting the workload: %s", strerror(-rc));
	}
	uvm_stats(r, &st);
	print_result(o, o->trace_path ? o->trace_path : uvm_workload_name(o->wl.kind), &st,
		     now_s() - t0);
	rc = uvm_unmap(r, true) == 0 ? EXIT_OK : EXIT_FAIL;
	uvm_close(u);
	if (o->wl.mismatches) {
		fprintf(stderr, "pflab proc: %llu pages did not hold what was written: first at %s\n",
			(unsigned long long)o->wl.mismatches, o->wl.first_mismatch);
		return EXIT_FAIL;
	}
	return rc;
}

static int proc_main(int argc, char **argv)
{
	struct proc_opts o = {
		.region = { .pages = 256, .frames = 64, .policy = "clock", .trap = UVM_TRAP_UFFD,
			    .store = UVM_STORE_SWAP },
		.wl = { .seed = 1 },
	};
	struct loaded_trace lt = { 0 };
	struct recorder rec = { 0 };
	struct outfile record_of;
	char err[512];
	int rc = parse_args(argc, argv, &o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (o.trace_path) {
		rc = lab_load_trace("proc", o.trace_path, &o.trace, PROC_MAX_PAGES,
				    "pflab proc's limit", &lt);
		if (rc)
			return rc;
		if (policy_find(o.region.policy)->flags & POLICY_NEEDS_FUTURE) {
			rc = lab_trace_next_use("proc", &lt);
			if (rc) {
				loaded_trace_free(&lt);
				return rc;
			}
		}
		rec.ids = lt.ids;
	}
	if (o.record_path) {
		/* On a signal, main.c's handler removes its temporary file. */
		rec.f = outfile_fopen(&record_of, o.record_path, err, sizeof(err));
		if (!rec.f) {
			loaded_trace_free(&lt);
			return cli_usage_error("proc", "--record %s", err);
		}
	}
	rc = run(&o, o.trace_path ? &lt : NULL, &rec);
	rc = cli_output_close("proc", "--record", &record_of, rec.f, rc != EXIT_USAGE, rc);
	loaded_trace_free(&lt);
	return rc;
}

static const struct command proc_cmd = {
	.name = "proc",
	.summary = "run a workload in this process on a region paged by the host pager",
	.main = proc_main,
};
COMMAND_REGISTER(proc_cmd);
