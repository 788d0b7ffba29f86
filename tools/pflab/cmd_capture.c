// SPDX-License-Identifier: MIT
/*
 * pflab capture: run a Linux program under qemu-x86_64 with pflab's TCG
 * plugin (vmm/qemu/, docs/qemu.md) and keep its page-reference string
 * (--out), or run pflab's pager on it as it executes (--policy, --frames)
 * and print `pflab sim`'s table, or both.
 *
 * A thin layer: the options become the plugin's key=value arguments,
 * checked here by the plugin's own parser before QEMU starts; the trace is
 * the plugin's to write, into a temporary file beside the target that is
 * renamed over it only when the program and the plugin both finished well;
 * the plugin's summary comes back in a results file (plugin_results.h).
 */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "lab_frames.h"
#include "lab_proc.h"
#include "lab_simtable.h"
#include "outfile.h"
#include "plugin_args.h"
#include "plugin_results.h"
#include "qemu_cli.h"
#include "qemu_cmd.h"
#include "sim.h"


struct capture_opts {
	const char *out;
	bool zstd, rw, csv, json;
	const char *kind, *range, *page_size;
	char *policy;          /* as given: a list, or all */
	char *frames;
	const char *plugin, *qemu;
	char **program;        /* PROGRAM ARGS..., NULL-terminated */
};

static const char capture_help[] =
	"usage: pflab capture [options] -- PROGRAM [ARGS...]\n"
	"\n"
	"Run PROGRAM under qemu-x86_64 with pflab's TCG plugin: every load and store\n"
	"it makes becomes a reference to its page. Give --out, --policy and --frames,\n"
	"or both.\n"
	"\n"
	"  -o, --out FILE       write the reference string to FILE (pft unless --rw),\n"
	"                       replaced only once the run finished well\n"
	"      --rw             write pflab's rw text format (R/W and a page number)\n"
	"      --zstd           compress FILE with zstd\n"
	"      --kind K         data (loads and stores, default), all (and instruction\n"
	"                       fetches), load, store or fetch\n"
	"      --range A-B      only accesses whose first byte is in [A, B) (byte\n"
	"                       addresses, decimal or 0x hex)\n"
	"      --page-size N    bytes per page, a power of two (default 4096)\n"
	"  -p, --policy LIST    run pflab's pager live with these policies, comma-\n"
	"                       separated, or all (pflab policies)...\n"
	"  -n, --frames LIST    ...and these frame counts (as pflab sim takes them);\n"
	"                       prints pflab sim's table at the end\n"
	"      --csv, --json    that table as CSV or JSON (pflab sim's columns)\n"
	"      --plugin SO      the plugin (default: libpflab-qemu.so beside pflab)\n"
	"      --qemu BIN       the QEMU user-mode emulator (default qemu-x86_64)\n"
	"  -h, --help           this text\n"
	"\n"
	"PROGRAM is looked up in PATH; it keeps pflab's standard input, output and\n"
	"error. A summary line goes to standard error. If PROGRAM fails (a non-zero\n"
	"status or a signal), nothing is written and the status is 1.\n"
	"See docs/qemu.md.\n";

static int parse_args(int argc, char **argv, struct capture_opts *o)
{
	enum { OPT_RW = 256, OPT_ZSTD, OPT_KIND, OPT_RANGE, OPT_PAGE_SIZE, OPT_CSV, OPT_JSON,
	       OPT_PLUGIN, OPT_QEMU };
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "rw", no_argument, NULL, OPT_RW },
		{ "zstd", no_argument, NULL, OPT_ZSTD },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "range", required_argument, NULL, OPT_RANGE },
		{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
		{ "policy", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "qemu", required_argument, NULL, OPT_QEMU },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct capture_opts){ .qemu = "qemu-x86_64" };
	/* "+": options end at PROGRAM, whose own options are its own. */
	while ((c = cli_getopt("capture", argc, argv, "+o:p:n:h", longopts)) != -1) {
		switch (c) {
		case 'o': o->out = optarg; break;
		case OPT_RW: o->rw = true; break;
		case OPT_ZSTD: o->zstd = true; break;
		case OPT_KIND: o->kind = optarg; break;
		case OPT_RANGE: o->range = optarg; break;
		case OPT_PAGE_SIZE: o->page_size = optarg; break;
		case 'p': o->policy = optarg; break;
		case 'n': o->frames = optarg; break;
		case OPT_CSV: o->csv = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_PLUGIN: o->plugin = optarg; break;
		case OPT_QEMU: o->qemu = optarg; break;
		case 'h': fputs(capture_help, stdout); return -1;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("capture", "no program given: pflab capture [options] -- PROGRAM");
	o->program = &argv[optind];
	if (!o->out && !o->policy && !o->frames)
		return cli_usage_error("capture", "nothing to do: give --out FILE, or --policy and --frames");
	if (!o->policy != !o->frames)
		return cli_usage_error("capture", "--policy and --frames go together");
	if (o->csv && o->json)
		return cli_usage_error("capture", "give one of --csv and --json");
	if ((o->csv || o->json) && !o->policy)
		return cli_usage_error("capture", "--csv and --json print the live table: give --policy");
	if ((o->rw || o->zstd) && !o->out)
		return cli_usage_error("capture", "--rw and --zstd need --out");
	return 0;
}

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* PROGRAM as qemu-user needs it: a path (it does not search PATH); NULL if
 * there is no such executable file, so that a wrong name fails before QEMU. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	char *dirs, *save = NULL;

	if (strchr(name, '/'))
		return is_executable(name) ? strdup(name) : NULL;
	dirs = strdup(path && *path ? path : "/usr/bin:/bin");
	for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		char *full;

		if (asprintf(&full, "%s/%s", *d ? d : ".", name) < 0)
			break;
		if (is_executable(full)) {
			free(dirs);
			return full;
		}
		free(full);
	}
	free(dirs);
	return NULL;
}

/*
 * SIGINT, SIGTERM or SIGHUP while QEMU runs: pass it on to QEMU (a terminal
 * sends it to both), wait for QEMU to end, then remove what this run
 * created and exit 128 + signal. A signal handler can only leave a note.
 */
static volatile sig_atomic_t interrupted;

static void note_signal(int sig)
{
	interrupted = sig;
}

/* Run QEMU with the plugin; its status as lab_exit_status(), -1 if it could not start. */
static int run_qemu(const char *qemu, const char *plugin_opt, const char *program,
		    char *const *args)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction old[3];
	bool passed_on = false;
	size_t n = 0;
	char **argv;
	pid_t pid;
	int ws;

	while (args[n])
		n++;
	argv = calloc(n + 5, sizeof(*argv));
	if (!argv)
		return -1;
	argv[0] = (char *)qemu;
	argv[1] = "-plugin";
	argv[2] = (char *)plugin_opt;
	argv[3] = (char *)program;
	for (size_t i = 1; i < n; i++)
		argv[3 + i] = args[i];
	fflush(NULL);
	for (size_t i = 0; i < 3; i++)
		sigaction(sigs[i], &(struct sigaction){ .sa_handler = note_signal }, &old[i]);
	pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < 3; i++)
			sigaction(sigs[i], &old[i], NULL);
		execvp(qemu, argv);
		fprintf(stderr, "pflab capture: %s: %s\n", qemu, strerror(errno));
		_exit(LAB_STATUS_NOEXEC);
	}
	free(argv);
	ws = -1;
	while (pid > 0 && waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			ws = -1;
			break;
		}
		if (interrupted && !passed_on) {
			kill(pid, interrupted);
			passed_on = true;
		}
	}
	for (size_t i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (pid < 0 || ws == -1)
		return -1;
	return lab_exit_status(ws);
}

struct capture_job {
	struct capture_opts opts;
	struct plugin_argv pargs;
	struct outfile out;
	bool out_open;
	char *tmpdir, *results, *plugin, *program, *qemu, *plugin_opt;
	struct plugin_results *res;
};

static void job_free(struct capture_job *j)
{
	if (j->out_open) {
		plugin_remove_temporaries(j->out.tmp);
		outfile_abort(&j->out);
	}
	plugin_argv_free(&j->pargs);
	if (j->tmpdir)
		lab_rmtree(j->tmpdir);
	free(j->tmpdir);
	free(j->results);
	free(j->plugin);
	free(j->program);
	free(j->qemu);
	free(j->plugin_opt);
	free(j->res);
}

/* Check everything that can be checked before QEMU starts. */
static int prepare(struct capture_job *j)
{
	const struct capture_opts *o = &j->opts;
	char err[600];
	int rc;

	if (o->out && outfile_check(o->out, err, sizeof(err)) != 0)
		return cli_usage_error("capture", "%s", err);
	j->plugin = o->plugin ? strdup(o->plugin) : plugin_default_path();
	if (!j->plugin || access(j->plugin, R_OK) != 0)
		return cli_usage_error("capture", "cannot find the plugin %s (build it with make; "
				       "or give --plugin)", j->plugin ? j->plugin : "libpflab-qemu.so");
	j->program = find_program(o->program[0]);
	if (!j->program)
		return cli_usage_error("capture", strchr(o->program[0], '/')
				       ? "%s: no such executable file" : "%s: no such program in PATH",
				       o->program[0]);
	j->tmpdir = lab_tempdir("pflab-capture");
	if (!j->tmpdir || asprintf(&j->results, "%s/results", j->tmpdir) < 0)
		return cli_fail("capture", "cannot make a temporary directory: %s", strerror(errno));
	if (o->out) {
		if (outfile_open(&j->out, o->out, err, sizeof(err)) != 0)
			return cli_usage_error("capture", "%s", err);
		j->out_open = true;
		close(j->out.fd);
		j->out.fd = -1;
	}
	rc = plugin_argv_build("capture", &(struct plugin_opts){
		.out = o->out ? j->out.tmp : NULL, .rw = o->rw, .zstd = o->zstd, .kind = o->kind,
		.range = o->range, .page_size = o->page_size, .results = j->results,
		.policy = o->policy, .frames = o->frames }, &j->pargs);
	if (rc)
		return rc;
	/* Last, so that every other refusal is the same where QEMU is absent. */
	j->qemu = find_program(o->qemu);
	if (!j->qemu)
		return cli_usage_error("capture", "cannot find %s (tools/install-deps installs "
				       "qemu-user; or give --qemu)", o->qemu);
	j->plugin_opt = qemu_plugin_option(j->plugin, j->pargs.v, j->pargs.n);
	j->res = malloc(sizeof(*j->res));
	if (!j->plugin_opt || !j->res)
		return cli_fail("capture", "out of memory");
	return 0;
}

static int capture_main(int argc, char **argv)
{
	struct capture_job j = { 0 };
	char err[600];
	int rc = parse_args(argc, argv, &j.opts), status;

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	rc = prepare(&j);
	if (rc)
		goto out;
	status = run_qemu(j.qemu, j.plugin_opt, j.program, j.opts.program);
	if (interrupted) {
		fprintf(stderr, "pflab capture: interrupted by signal %d: nothing written\n",
			(int)interrupted);
		rc = 128 + interrupted;
		goto out;
	}
	if (status != 0) {
		rc = status < 0 ? cli_fail("capture", "cannot run %s: %s", j.opts.qemu, strerror(errno))
		   : status == LAB_STATUS_NOEXEC ? cli_fail("capture", "cannot run %s", j.opts.qemu)
		   : status > 128 ? cli_fail("capture", "%s was killed by signal %d: nothing written",
					     j.opts.program[0], status - 128)
				  : cli_fail("capture", "%s exited with status %d: nothing written",
					     j.opts.program[0], status);
		goto out;
	}
	rc = plugin_results_read("capture", j.results, j.res);
	if (rc)
		goto out;
	if (j.opts.out) {
		j.out_open = false;
		if (outfile_commit(&j.out, err, sizeof(err)) != 0) {
			rc = cli_fail("capture", "%s", err);
			goto out;
		}
	}
	/* The pages are counted by the pft writer and by the live pager, not for rw. */
	fprintf(stderr, "pflab capture: %llu references (%llu writes)", (unsigned long long)j.res->refs,
		(unsigned long long)j.res->writes);
	if (j.res->pages)
		fprintf(stderr, " to %u pages", j.res->pages);
	fprintf(stderr, "%s%s\n", j.opts.out ? " written to " : "", j.opts.out ? j.opts.out : "");
	rc = j.opts.policy ? plugin_results_print("capture", j.opts.program[0], j.res, j.opts.csv,
							 j.opts.json) : EXIT_OK;
out:
	job_free(&j);
	return rc;
}

static const struct command capture_cmd = {
	.name = "capture",
	.summary = "run a program under QEMU and capture its page references, or page it live",
	.main = capture_main,
};
COMMAND_REGISTER(capture_cmd);
