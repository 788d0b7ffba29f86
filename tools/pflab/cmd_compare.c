// SPDX-License-Identifier: MIT
/*
 * pflab compare: replacement policies side by side on several traces.
 *
 * The matrix is traces x policies x frame counts. A cell is one (trace,
 * policy) pair with all its frame counts: one `pflab sim` process, which
 * reads the trace once for every size. Cells are independent, so they run
 * on N worker processes, and a trace that cannot be read fails its own
 * cells only. The results are gathered into one table and written as CSV,
 * JSON, gnuplot figures and a report (lab_report.c).
 *
 * The same matrix can be written out as a job list instead (--emit-jobs),
 * one shell command per cell, each writing a partial result directory, for
 * GNU parallel or a Slurm array to run elsewhere; --merge joins the partial
 * results into the same outputs. docs/lab.md#scale-out has a worked example.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "lab_frames.h"
#include "lab_proc.h"
#include "lab_progress.h"
#include "lab_report.h"
#include "lab_table.h"
#include "outfile.h"
#include "policy.h"
#include "sim.h"
#include "trace.h"

#define MAX_SIM_ARGS 16
#define MAX_POLICIES 64

struct compare_opts {
	char **traces;             /* as given: they name the rows */
	size_t ntraces;
	char *policies[MAX_POLICIES + 1];
	size_t npolicies;
	enum lab_opt_source opt;
	uint32_t *frames;
	size_t nframes;
	unsigned jobs;
	const char *out_dir;
	char *sim_args[MAX_SIM_ARGS]; /* passed to every pflab sim as they are */
	int nsim_args;
	bool no_opt, no_plots, part;
	const char *pflab;
	const char *emit_jobs;
	bool merge;
	char **merge_dirs;
	size_t nmerge;
};

/* One (trace, policy) pair: a pflab sim process. */
struct cell {
	size_t trace, policy;
	pid_t pid;
	int status;
	char error[1024];         /* why it failed, or "" */
	struct lab_table rows;
};

static const char compare_help[] =
	"usage: pflab compare --trace T [--trace T ...] --policy P,... --frames LIST [options]\n"
	"       pflab compare ... --emit-jobs FILE [--out DIR]\n"
	"       pflab compare --merge DIR... [--out DIR]\n"
	"\n"
	"Replay every trace through every policy at every frame count, on parallel\n"
	"worker processes, and write to DIR: results.csv (pflab sim's columns and\n"
	"`error`), results.json, per trace a figure of miss ratio against frames and\n"
	"one of faults relative to OPT (PNG and SVG, through gnuplot), and report.md\n"
	"naming the best policy per trace and size with the figures embedded.\n"
	"\n"
	"  -t, --trace T        a trace (repeat for more; formats may differ)\n"
	"  -p, --policy LIST    policies, comma-separated, or 'all'\n"
	"  -n, --frames LIST    frame counts: N,N,..., A:B:xK (A, A*K, ... up to B) or\n"
	"                       A:B:+K (A, A+K, ... up to B), items mixed freely\n"
	"  -j, --jobs N         worker processes (default: the number of cores)\n"
	"  -o, --out DIR        output directory (default: compare-out)\n"
	"      --no-opt         do not add OPT when it is not in the list (no relative figure)\n"
	"      --no-plots       no figures\n"
	"      --emit-jobs FILE write the matrix as a job list, one shell command per cell\n"
	"                       (each writes DIR/parts/NNNN), and a Slurm array script\n"
	"                       beside it (FILE with .slurm); run nothing\n"
	"      --merge          the arguments are partial result directories: join them\n"
	"                       into one set of outputs in --out\n"
	"      --part           write one partial result (results.csv, results.json) and\n"
	"                       nothing else: what the job list's commands use\n"
	"      --pflab PATH     the pflab that runs the cells (default: this one)\n"
	"\n"
	"Passed to every pflab sim: -f/--format F, --page-size N, --zero-fill, --seed N,\n"
	"--tick N, --window N, --aging-bits N (see pflab sim --help).\n"
	"\n"
	"OPT is the baseline of the relative figure: when it is not in --policy it is\n"
	"run in addition and its rows are included, unless --no-opt. A trace that\n"
	"cannot be read fails its own cells, with the reason in every output; the\n"
	"others finish. Exit status: 0 every cell ran, 1 some failed, 2 bad usage.\n"
	"A progress bar is drawn on standard error when it is a terminal.\n"
	"See docs/lab.md.\n";

static int add_policy(struct compare_opts *o, const char *name)
{
	if (!policy_find(name))
		return *name ? cli_usage_error("compare", "unknown policy '%s' (see pflab policies)", name)
			     : cli_usage_error("compare", "--policy: an empty name in the list");
	for (size_t i = 0; i < o->npolicies; i++)
		if (!strcmp(o->policies[i], name))
			return cli_usage_error("compare", "--policy: '%s' is listed twice", name);
	if (o->npolicies == MAX_POLICIES)
		return cli_usage_error("compare", "--policy: more than %d policies", MAX_POLICIES);
	o->policies[o->npolicies++] = (char *)policy_find(name)->name;
	return 0;
}

static int parse_policies(char *list, struct compare_opts *o)
{
	char **names;
	size_t n;
	int rc = 0;

	if (!strcmp(list, "all")) {
		const struct policy_ops *ops[MAX_POLICIES];

		n = policy_list(ops, MAX_POLICIES);
		for (size_t i = 0; i < n && !rc; i++)
			rc = add_policy(o, ops[i]->name);
		return rc;
	}
	n = cli_split(list, &names);
	if (!names)
		return cli_usage_error("compare", "out of memory");
	for (size_t i = 0; i < n && !rc; i++)
		rc = add_policy(o, names[i]);
	free(names);
	return rc;
}

static int add_sim_arg(struct compare_opts *o, const char *opt, const char *value)
{
	if (o->nsim_args + 2 > MAX_SIM_ARGS)
		return cli_usage_error("compare", "too many options for pflab sim");
	o->sim_args[o->nsim_args++] = (char *)opt;
	if (value)
		o->sim_args[o->nsim_args++] = (char *)value;
	return 0;
}

/* A number option passed on to pflab sim, checked here so that a typo is
 * one usage error and not a failure of every cell. */
static int add_sim_number(struct compare_opts *o, const char *opt, const char *value,
			  uint64_t min, uint64_t max)
{
	uint64_t v;

	if (cli_opt_u64("compare", opt, value, min, max, &v))
		return EXIT_USAGE;
	return add_sim_arg(o, opt, value);
}

static int parse_args(int argc, char **argv, struct compare_opts *o)
{
	enum { OPT_NO_OPT = 256, OPT_NO_PLOTS, OPT_EMIT_JOBS, OPT_MERGE, OPT_PART, OPT_PFLAB,
	       OPT_PAGE_SIZE, OPT_ZERO_FILL, OPT_SEED, OPT_TICK, OPT_WINDOW, OPT_AGING_BITS };
	static const struct option longopts[] = {
		{ "trace", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "no-opt", no_argument, NULL, OPT_NO_OPT },
		{ "no-plots", no_argument, NULL, OPT_NO_PLOTS },
		{ "emit-jobs", required_argument, NULL, OPT_EMIT_JOBS },
		{ "merge", no_argument, NULL, OPT_MERGE },
		{ "part", no_argument, NULL, OPT_PART },
		{ "pflab", required_argument, NULL, OPT_PFLAB },
		{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
		{ "zero-fill", no_argument, NULL, OPT_ZERO_FILL },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "tick", required_argument, NULL, OPT_TICK },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "aging-bits", required_argument, NULL, OPT_AGING_BITS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char why[200];
	uint64_t v;
	enum trace_format fmt;
	int c, rc;

	*o = (struct compare_opts){ .out_dir = "compare-out" };
	o->traces = calloc((size_t)argc + 1, sizeof(*o->traces));
	if (!o->traces)
		return cli_usage_error("compare", "out of memory");
	while ((c = cli_getopt("compare", argc, argv, "t:p:n:j:o:f:h", longopts)) != -1) {
		switch (c) {
		case 't':
			if (!strcmp(optarg, "-"))
				return cli_usage_error("compare", "--trace -: standard input cannot be read "
						       "by several cells; give a file");
			for (size_t i = 0; i < o->ntraces; i++)
				if (!strcmp(o->traces[i], optarg))
					return cli_usage_error("compare", "--trace '%s' is given twice",
							       optarg);
			o->traces[o->ntraces++] = optarg;
			break;
		case 'p':
			o->npolicies = 0;
			rc = parse_policies(optarg, o);
			if (rc)
				return rc;
			break;
		case 'n':
			free(o->frames);
			o->frames = NULL;
			if (lab_frames_parse(optarg, VREF_VPN_MAX, &o->frames, &o->nframes, why,
					     sizeof(why)) != 0)
				return cli_usage_error("compare", "--frames: %s", why);
			break;
		case 'j':
			if (cli_opt_u64("compare", "--jobs", optarg, 1, 4096, &v))
				return EXIT_USAGE;
			o->jobs = (unsigned)v;
			break;
		case 'o': o->out_dir = optarg; break;
		case 'f':
			if (trace_format_parse(optarg, &fmt) != 0)
				return cli_usage_error("compare", "unknown trace format '%s'", optarg);
			if ((rc = add_sim_arg(o, "--format", optarg)))
				return rc;
			break;
		case OPT_NO_OPT: o->no_opt = true; break;
		case OPT_NO_PLOTS: o->no_plots = true; break;
		case OPT_EMIT_JOBS: o->emit_jobs = optarg; break;
		case OPT_MERGE: o->merge = true; break;
		case OPT_PART: o->part = true; break;
		case OPT_PFLAB: o->pflab = optarg; break;
		case OPT_PAGE_SIZE:
			if ((rc = add_sim_number(o, "--page-size", optarg, 1, UINT32_MAX)))
				return rc;
			break;
		case OPT_ZERO_FILL:
			if ((rc = add_sim_arg(o, "--zero-fill", NULL)))
				return rc;
			break;
		case OPT_SEED:
			if ((rc = add_sim_number(o, "--seed", optarg, 0, UINT64_MAX)))
				return rc;
			break;
		case OPT_TICK:
			if ((rc = add_sim_number(o, "--tick", optarg, 0, UINT64_MAX / 2)))
				return rc;
			break;
		case OPT_WINDOW:
			if ((rc = add_sim_number(o, "--window", optarg, 1, UINT64_MAX / 2)))
				return rc;
			break;
		case OPT_AGING_BITS:
			if ((rc = add_sim_number(o, "--aging-bits", optarg, 1, 64)))
				return rc;
			break;
		case 'h': fputs(compare_help, stdout); return -1;
		default: return EXIT_USAGE;
		}
	}
	if (o->merge) {
		if (o->ntraces || o->npolicies || o->nframes || o->emit_jobs || o->part)
			return cli_usage_error("compare", "--merge takes directories only (and --out, "
					       "--no-plots)");
		if (optind >= argc)
			return cli_usage_error("compare", "--merge: no directory given");
		o->merge_dirs = argv + optind;
		o->nmerge = (size_t)(argc - optind);
		return 0;
	}
	if (optind < argc)
		return cli_usage_error("compare", "unexpected argument '%s'", argv[optind]);
	if (!o->ntraces)
		return cli_usage_error("compare", "--trace is required (see --help)");
	if (!o->npolicies)
		return cli_usage_error("compare", "--policy is required (see pflab policies)");
	if (!o->nframes)
		return cli_usage_error("compare", "--frames is required");
	if (o->part && o->emit_jobs)
		return cli_usage_error("compare", "--part and --emit-jobs do not go together");

	/* Where OPT's rows come from; a partial result adds nothing. */
	o->opt = LAB_OPT_NONE;
	for (size_t i = 0; i < o->npolicies; i++)
		if (!strcmp(o->policies[i], "opt"))
			o->opt = LAB_OPT_REQUESTED;
	if (o->opt == LAB_OPT_NONE && !o->no_opt && !o->part) {
		o->policies[o->npolicies++] = "opt";
		o->opt = LAB_OPT_ADDED;
	}
	if (!o->jobs) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		o->jobs = cores > 0 ? (unsigned)cores : 1;
	}
	return 0;
}

/* ------------------------------------------------------------ running */

struct runner {
	const struct compare_opts *o;
	const char *pflab;
	char *frames;             /* the --frames list for pflab sim */
	char cells_dir[PATH_MAX];
	struct cell *cell;
	size_t ncells;
	size_t done, failed;
	bool tty;
};

static void cell_path(const struct runner *r, size_t i, const char *ext, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%04zu.%s", r->cells_dir, i + 1, ext);
}

static pid_t start_cell(struct runner *r, size_t i)
{
	const struct compare_opts *o = r->o;
	struct cell *c = &r->cell[i];
	char out[PATH_MAX + 64], err[PATH_MAX + 64];
	char *argv[16 + MAX_SIM_ARGS];
	int argc = 0;

	cell_path(r, i, "csv", out, sizeof(out));
	cell_path(r, i, "err", err, sizeof(err));
	argv[argc++] = (char *)r->pflab;
	argv[argc++] = "sim";
	argv[argc++] = o->traces[c->trace];
	argv[argc++] = "--policy";
	argv[argc++] = o->policies[c->policy];
	argv[argc++] = "--frames";
	argv[argc++] = r->frames;
	argv[argc++] = "--csv";
	for (int k = 0; k < o->nsim_args; k++)
		argv[argc++] = o->sim_args[k];
	argv[argc] = NULL;
	return lab_spawn(argv, out, err);
}

/* A finished cell: its rows, or the reason it failed. */
static void finish_cell(struct runner *r, size_t i, int status)
{
	const struct compare_opts *o = r->o;
	struct cell *c = &r->cell[i];
	char path[PATH_MAX + 64], why[600];

	c->status = status;
	if (status != 0) {
		char *text;

		cell_path(r, i, "err", path, sizeof(path));
		text = lab_read_file(path, NULL);
		lab_last_line(text ? text : "", why, sizeof(why));
		free(text);
		if (status > 128 && !*why)
			snprintf(c->error, sizeof(c->error), "pflab sim was killed by signal %d",
				 status - 128);
		else if (!*why)
			snprintf(c->error, sizeof(c->error), "pflab sim exited with status %d", status);
		else
			snprintf(c->error, sizeof(c->error), "%s", why);
		return;
	}
	cell_path(r, i, "csv", path, sizeof(path));
	if (lab_table_read_csv(&c->rows, path, why, sizeof(why)) != 0) {
		snprintf(c->error, sizeof(c->error), "unreadable pflab sim output: %s", why);
		return;
	}
	for (size_t f = 0; f < o->nframes; f++) {
		bool found = false;

		for (size_t k = 0; k < c->rows.n && !found; k++)
			found = c->rows.row[k].frames == o->frames[f] && !c->rows.row[k].error;
		if (!found) {
			snprintf(c->error, sizeof(c->error), "pflab sim printed no row for %u frames",
				 o->frames[f]);
			return;
		}
	}
}

static void progress(const struct runner *r, bool last)
{
	struct lab_progress p = { .cmd = "compare", .unit = "cells", .done = r->done,
				  .total = r->ncells ? r->ncells : 1, .failed = r->failed,
				  .tty = r->tty };

	if (!r->ncells)
		p.done = 1;
	lab_progress_draw(&p, last);
}

/*
 * Run every cell, at most o->jobs at a time. OPT's cells go first: they
 * load their trace whole and are the slowest, so starting them early
 * shortens the run.
 */
static int run_cells(struct runner *r)
{
	size_t *order = malloc(sizeof(*order) * r->ncells), next = 0, running = 0, n = 0;

	if (!order)
		return cli_fail("compare", "out of memory");
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < r->ncells; i++)
			if ((pass == 0) == !strcmp(r->o->policies[r->cell[i].policy], "opt"))
				order[n++] = i;
	progress(r, false);
	while (r->done < r->ncells) {
		int st;
		pid_t pid;

		while (running < r->o->jobs && next < r->ncells) {
			struct cell *c = &r->cell[order[next]];

			c->pid = start_cell(r, order[next]);
			if (c->pid < 0) {
				snprintf(c->error, sizeof(c->error), "cannot start pflab sim: %s",
					 strerror(errno));
				c->status = -1;
				r->done++;
				r->failed++;
			} else {
				running++;
			}
			next++;
		}
		if (!running)
			continue;
		pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			free(order);
			return cli_fail("compare", "waitpid: %s", strerror(errno));
		}
		for (size_t i = 0; i < r->ncells; i++) {
			if (r->cell[i].pid != pid)
				continue;
			r->cell[i].pid = 0;
			finish_cell(r, i, lab_exit_status(st));
			running--;
			r->done++;
			r->failed += r->cell[i].error[0] != '\0';
			progress(r, false);
			break;
		}
	}
	progress(r, true);
	free(order);
	return EXIT_OK;
}

/* Gather every cell's rows, or one failed row per frame count. */
static int gather(const struct runner *r, struct lab_table *all)
{
	const struct compare_opts *o = r->o;

	for (size_t i = 0; i < r->ncells; i++) {
		const struct cell *c = &r->cell[i];

		for (size_t f = 0; f < o->nframes; f++) {
			struct lab_row row;
			const struct lab_row *got = NULL;

			for (size_t k = 0; k < c->rows.n && !got && !c->error[0]; k++)
				if (c->rows.row[k].frames == o->frames[f])
					got = &c->rows.row[k];
			if (!got) {
				if (lab_table_add_failure(all, o->traces[c->trace], o->policies[c->policy],
							  o->frames[f], c->error) != 0)
					return -1;
				continue;
			}
			/* The row as pflab sim printed it, named as the user named the trace. */
			row = *got;
			row.trace = o->traces[c->trace];
			row.policy = o->policies[c->policy];
			if (lab_table_add(all, &row) != 0)
				return -1;
		}
	}
	return 0;
}

static int write_outputs(const struct compare_opts *o, char **traces, size_t ntraces,
			  char **policies, size_t npolicies, const uint32_t *frames, size_t nframes,
			  const struct lab_table *rows, enum lab_opt_source opt)
{
	struct lab_matrix m = {
		.traces = traces, .ntraces = ntraces,
		.policies = policies, .npolicies = npolicies,
		.frames = frames, .nframes = nframes,
		.rows = rows, .opt = opt,
	};
	struct lab_report_options ro = { .plots = !o->no_plots && !o->part, .report = !o->part };
	char why[700];
	bool plot_failed;

	if (lab_report_write(&m, o->out_dir, &ro, &plot_failed, why, sizeof(why)) != 0)
		return cli_fail("compare", "%s", why);
	return EXIT_OK;
}

static void print_summary(const struct compare_opts *o, size_t ncells, size_t failed,
			  const struct lab_table *rows)
{
	if (o->part)
		return;
	printf("compare: %zu cells, %zu failed; wrote %s/results.csv, results.json%s, report.md\n",
	       ncells, failed, o->out_dir, o->no_plots ? "" : ", figures");
	/* Rows come a cell at a time: say each failed cell once. */
	for (size_t i = 0; i < rows->n && failed; i++) {
		const struct lab_row *r = &rows->row[i], *prev = i ? r - 1 : NULL;

		if (r->error && (!prev || strcmp(r->trace, prev->trace) ||
				 strcmp(r->policy, prev->policy)))
			printf("  failed: %s / %s: %s\n", r->trace, r->policy, r->error);
	}
}

/* The output directory, or its last component only: a mistyped path is
 * refused rather than created from the root down. */
static int prepare_out_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return cli_usage_error("compare", "--out %s: %s%s", dir, strerror(errno),
				       errno == ENOENT ? " (its parent directory must exist)" : "");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_usage_error("compare", "--out %s: not a directory", dir);
	return 0;
}

/*
 * The cells run in a fresh directory pflab makes beside DIR/cells, so that
 * no file there is opened for writing: when every cell is done, each file is
 * renamed into DIR/cells (replacing a former run's file of that name whole,
 * as outfile.h does), or, if the run itself failed, removed. Either way the
 * temporary directory goes.
 */
static int make_cells_dir(struct runner *r, char *final, size_t len)
{
	char *tmp;

	snprintf(final, len, "%s/cells", r->o->out_dir);
	if (lab_mkdirs(final) != 0)
		return cli_fail("compare", "%s: %s", final, strerror(errno));
	/* Registered, so that a signal removes it too (lab_proc.h). */
	tmp = lab_tempdir_in(r->o->out_dir, ".cells.pflab");
	if (!tmp || strlen(tmp) >= sizeof(r->cells_dir)) {
		if (tmp)
			lab_rmtree(tmp);
		free(tmp);
		return cli_fail("compare", "%s/cells: %s", r->o->out_dir,
				tmp ? "path too long" : strerror(errno));
	}
	snprintf(r->cells_dir, sizeof(r->cells_dir), "%s", tmp);
	free(tmp);
	return 0;
}

static int publish_cells(struct runner *r, const char *final, bool keep)
{
	static const char *const ext[] = { "csv", "err" };
	char src[PATH_MAX + 64], dst[PATH_MAX + 64];
	int rc = EXIT_OK;

	for (size_t i = 0; i < r->ncells; i++)
		for (size_t e = 0; e < 2; e++) {
			cell_path(r, i, ext[e], src, sizeof(src));
			snprintf(dst, sizeof(dst), "%s/%04zu.%s", final, i + 1, ext[e]);
			if (keep && rc == EXIT_OK && rename(src, dst) != 0 && errno != ENOENT)
				rc = cli_fail("compare", "%s: %s", dst, strerror(errno));
			unlink(src); /* what was not renamed */
		}
	lab_rmtree(r->cells_dir);
	return rc;
}

static int run_matrix(const struct compare_opts *o, const char *pflab)
{
	struct runner r = { .o = o, .pflab = pflab, .tty = isatty(STDERR_FILENO) };
	struct lab_table all;
	char cells[PATH_MAX + 16];
	int rc;

	if ((rc = prepare_out_dir(o->out_dir)))
		return rc;
	if ((rc = make_cells_dir(&r, cells, sizeof(cells))))
		return rc;
	r.frames = lab_frames_join(o->frames, o->nframes);
	r.ncells = o->ntraces * o->npolicies;
	r.cell = calloc(r.ncells, sizeof(*r.cell));
	lab_table_init(&all);
	if (!r.frames || !r.cell) {
		lab_rmtree(r.cells_dir);
		rc = cli_fail("compare", "out of memory");
		goto out;
	}
	for (size_t t = 0; t < o->ntraces; t++)
		for (size_t p = 0; p < o->npolicies; p++) {
			struct cell *c = &r.cell[t * o->npolicies + p];

			c->trace = t;
			c->policy = p;
			lab_table_init(&c->rows);
		}
	rc = run_cells(&r);
	{
		int pub = publish_cells(&r, cells, rc == EXIT_OK);

		rc = rc ? rc : pub;
	}
	if (rc)
		goto out;
	if (gather(&r, &all) != 0) {
		rc = cli_fail("compare", "out of memory");
		goto out;
	}
	rc = write_outputs(o, o->traces, o->ntraces, (char **)o->policies, o->npolicies, o->frames,
			   o->nframes, &all, o->opt);
	if (rc)
		goto out;
	print_summary(o, r.ncells, r.failed, &all);
	rc = r.failed ? EXIT_FAIL : EXIT_OK;
out:
	for (size_t i = 0; r.cell && i < r.ncells; i++)
		lab_table_fini(&r.cell[i].rows);
	free(r.cell);
	free(r.frames);
	lab_table_fini(&all);
	return rc;
}

/* ------------------------------------------------------------ job lists */

/* path made absolute (without resolving links), so that a job runs from anywhere. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	size_t len;
	char *abs;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	len = strlen(cwd) + strlen(path) + 2;
	abs = malloc(len);
	if (abs)
		snprintf(abs, len, "%s/%s", cwd, path);
	return abs;
}

static void write_job(FILE *f, const struct compare_opts *o, const char *pflab, const char *trace,
		      const char *policy, const char *frames, const char *part_dir)
{
	lab_shell_quote(f, pflab);
	fputs(" compare --part --trace ", f);
	lab_shell_quote(f, trace);
	fputs(" --policy ", f);
	lab_shell_quote(f, policy);
	fputs(" --frames ", f);
	lab_shell_quote(f, frames);
	fputs(" --out ", f);
	lab_shell_quote(f, part_dir);
	for (int k = 0; k < o->nsim_args; k++) {
		fputc(' ', f);
		lab_shell_quote(f, o->sim_args[k]);
	}
	fputc('\n', f);
}

static int emit_jobs(const struct compare_opts *o, const char *pflab)
{
	char *out = absolute(o->out_dir), *jobs = absolute(o->emit_jobs), *frames = NULL;
	char *slurm = NULL, part[PATH_MAX + 32], err[PATH_MAX + 200];
	struct outfile jobs_of, slurm_of;
	size_t n = 0;
	FILE *f = NULL, *sf = NULL;
	int rc = EXIT_OK;

	frames = lab_frames_join(o->frames, o->nframes);
	if (!out || !jobs || !frames || !(slurm = malloc(strlen(jobs) + 8))) {
		rc = cli_fail("compare", "out of memory");
		goto out;
	}
	/* jobs.txt -> jobs.slurm; a name without an extension gets one added. */
	strcpy(slurm, jobs);
	{
		char *dot = strrchr(slurm, '.'), *slash = strrchr(slurm, '/');

		if (dot && (!slash || dot > slash))
			*dot = '\0';
		strcat(slurm, ".slurm");
	}
	if (!strcmp(slurm, jobs)) {
		rc = cli_usage_error("compare", "--emit-jobs: %s would be overwritten by the Slurm "
				     "script; name the job list differently", jobs);
		goto out;
	}
	/* Both files are written beside their targets and renamed when
	 * complete: a bad path is refused before anything is made. */
	if (outfile_check(jobs, err, sizeof(err)) != 0 ||
	    outfile_check(slurm, err, sizeof(err)) != 0) {
		rc = cli_usage_error("compare", "--emit-jobs %s", err);
		goto out;
	}
	/* Slurm opens its log files before a task runs: the directory must exist;
	 * each task then makes its own DIR/parts/NNNN. */
	if ((rc = prepare_out_dir(out)))
		goto out;
	{
		char parts[4200];

		snprintf(parts, sizeof(parts), "%s/parts", out);
		if ((rc = prepare_out_dir(parts)))
			goto out;
	}
	f = outfile_fopen(&jobs_of, jobs, err, sizeof(err));
	if (!f) {
		rc = cli_usage_error("compare", "--emit-jobs %s", err);
		goto out;
	}
	for (size_t t = 0; t < o->ntraces; t++) {
		char *trace = absolute(o->traces[t]);

		if (!trace) {
			rc = cli_fail("compare", "out of memory");
			goto out;
		}
		for (size_t p = 0; p < o->npolicies; p++) {
			snprintf(part, sizeof(part), "%s/parts/%04zu", out, ++n);
			write_job(f, o, pflab, trace, o->policies[p], frames, part);
		}
		free(trace);
	}
	sf = outfile_fopen(&slurm_of, slurm, err, sizeof(err));
	if (!sf) {
		rc = cli_usage_error("compare", "--emit-jobs %s", err);
		goto out;
	}
	fprintf(sf, "#!/bin/sh\n"
		"# Written by pflab compare --emit-jobs: one array task per line of the job list.\n"
		"# Submit with `sbatch %s`; when every task is done, join the parts with\n"
		"#   pflab compare --merge %s/parts/* --out %s\n"
		"#SBATCH --job-name=pflab-compare\n"
		"#SBATCH --array=1-%zu\n"
		"#SBATCH --ntasks=1\n"
		"#SBATCH --cpus-per-task=1\n"
		"#SBATCH --output=%s/slurm-%%A_%%a.log\n"
		"sed -n \"${SLURM_ARRAY_TASK_ID}p\" ",
		slurm, out, out, n, out);
	lab_shell_quote(sf, jobs);
	fputs(" | sh\n", sf);
	fchmod(fileno(sf), 0755);
	/* The job list first, then its script: a failure of either removes
	 * what is not yet renamed. */
	{
		FILE *jf = f, *js = sf;

		f = sf = NULL;
		if (outfile_fclose(&jobs_of, jf, err, sizeof(err)) != 0) {
			outfile_abort(&slurm_of);
			fclose(js);
			rc = cli_fail("compare", "--emit-jobs %s", err);
			goto out;
		}
		if (outfile_fclose(&slurm_of, js, err, sizeof(err)) != 0) {
			rc = cli_fail("compare", "--emit-jobs %s", err);
			goto out;
		}
	}
	printf("compare: wrote %zu jobs to %s and a Slurm array script to %s\n"
	       "run them with GNU parallel (--sshlogin for other hosts), Slurm, or sh:\n"
	       "  parallel < %s\n"
	       "  sbatch %s\n"
	       "  sh %s\n"
	       "then join the parts:\n"
	       "  pflab compare --merge %s/parts/* --out %s\n",
	       n, jobs, slurm, jobs, slurm, jobs, out, out);
out:
	if (f) {
		outfile_abort(&jobs_of);
		fclose(f);
	}
	if (sf) {
		outfile_abort(&slurm_of);
		fclose(sf);
	}
	free(out);
	free(jobs);
	free(frames);
	free(slurm);
	return rc;
}

/* ------------------------------------------------------------ merging */

static int by_frames(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Add s to a list of distinct strings (not copied: they live in the table). */
static int note(char ***list, size_t *n, char *s)
{
	char **bigger;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i], s))
			return 0;
	bigger = realloc(*list, sizeof(**list) * (*n + 1));
	if (!bigger)
		return -1;
	*list = bigger;
	(*list)[(*n)++] = s;
	return 0;
}

static int merge(const struct compare_opts *o)
{
	struct lab_table parts, all;
	char **traces = NULL, **policies = NULL, why[700];
	uint32_t *frames = NULL;
	size_t ntraces = 0, npolicies = 0, nframes = 0, failed = 0, dups = 0;
	int rc;

	lab_table_init(&parts);
	lab_table_init(&all);
	for (size_t d = 0; d < o->nmerge; d++) {
		char path[PATH_MAX + 16];
		struct stat st;

		snprintf(path, sizeof(path), "%s/results.csv", o->merge_dirs[d]);
		if (stat(path, &st) != 0) {
			rc = cli_usage_error("compare", "--merge %s: no results.csv in it (a job that "
					     "did not run?)", o->merge_dirs[d]);
			goto out;
		}
		if (lab_table_read_csv(&parts, path, why, sizeof(why)) != 0) {
			rc = cli_usage_error("compare", "--merge: %s", why);
			goto out;
		}
	}
	frames = malloc(sizeof(*frames) * (parts.n ? parts.n : 1));
	if (!frames) {
		rc = cli_fail("compare", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < parts.n; i++) {
		struct lab_row *r = &parts.row[i];

		if (note(&traces, &ntraces, r->trace) != 0 || note(&policies, &npolicies, r->policy) != 0) {
			rc = cli_fail("compare", "out of memory");
			goto out;
		}
		frames[nframes++] = r->frames;
	}
	if (!parts.n) {
		rc = cli_usage_error("compare", "--merge: the partial results hold no rows");
		goto out;
	}
	qsort(frames, nframes, sizeof(*frames), by_frames);
	{
		size_t kept = 0;

		for (size_t i = 0; i < nframes; i++)
			if (!kept || frames[i] != frames[kept - 1])
				frames[kept++] = frames[i];
		nframes = kept;
	}
	/* The union of the parts, each cell once; what no part has is missing. */
	for (size_t t = 0; t < ntraces; t++)
		for (size_t p = 0; p < npolicies; p++)
			for (size_t f = 0; f < nframes; f++) {
				const struct lab_row *r = lab_table_find(&parts, traces[t], policies[p],
									 frames[f]);
				int added = r ? lab_table_add(&all, r)
					      : lab_table_add_failure(&all, traces[t], policies[p],
								      frames[f],
								      "no result: its partial result "
								      "is missing");

				if (added != 0) {
					rc = cli_fail("compare", "out of memory");
					goto out;
				}
			}
	dups = parts.n > all.n ? parts.n - all.n : 0;
	for (size_t i = 0; i < all.n; i++)
		failed += all.row[i].error != NULL;
	if (dups)
		fprintf(stderr, "pflab compare: --merge: %zu rows appear more than once; the first "
			"of each was kept\n", dups);
	if ((rc = prepare_out_dir(o->out_dir)))
		goto out;
	rc = write_outputs(o, traces, ntraces, policies, npolicies, frames, nframes, &all,
			   LAB_OPT_MERGED);
	if (rc)
		goto out;
	printf("compare: merged %zu partial results: %zu traces, %zu policies, %zu frame counts, "
	       "%zu failed rows; wrote %s/results.csv, results.json%s, report.md\n",
	       o->nmerge, ntraces, npolicies, nframes, failed, o->out_dir,
	       o->no_plots ? "" : ", figures");
	rc = failed ? EXIT_FAIL : EXIT_OK;
out:
	free(traces);
	free(policies);
	free(frames);
	lab_table_fini(&all);
	lab_table_fini(&parts);
	return rc;
}

static int compare_main(int argc, char **argv)
{
	struct compare_opts opts;
	char self[PATH_MAX];
	const char *pflab;
	int rc = parse_args(argc, argv, &opts);

	if (rc)
		goto out;
	if (opts.merge) {
		rc = merge(&opts);
		goto out;
	}
	pflab = opts.pflab;
	if (!pflab) {
		if (lab_self_path(self, sizeof(self)) != 0) {
			rc = cli_fail("compare", "cannot find the pflab binary: give --pflab");
			goto out;
		}
		pflab = self;
	}
	rc = opts.emit_jobs ? emit_jobs(&opts, pflab) : run_matrix(&opts, pflab);
out:
	free(opts.traces);
	free(opts.frames);
	return rc < 0 ? EXIT_OK : rc;
}

static const struct command compare_cmd = {
	.name = "compare",
	.summary = "compare policies on traces in parallel: CSV, JSON, plots, report",
	.main = compare_main,
};
COMMAND_REGISTER(compare_cmd);
