// SPDX-License-Identifier: MIT
/*
 * pflab fleet: the guest scenarios of `pflab regress` (lab_scenario.h,
 * docs/lab.md#scenarios) run as libvirt domains on the host a libvirt URI
 * names (docs/libvirt.md#fleet): each `command: run` scenario becomes one
 * transient domain of pflab's guest under QEMU's TCG with the plugin, its
 * parameters on the kernel command line, its reference string as the PVH
 * module; the plugin's results and the guest's console are then checked
 * against the scenario's expectations. libvirt does the dispatching: a
 * local qemu:///system, or a remote qemu+ssh://HOST/system.
 *
 * A thin layer over vmm/libvirt (the domains) and tools/lab (the scenarios).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../guest/abi.h"
#include "cli.h"
#include "lab_diff.h"
#include "lab_junit.h"
#include "lab_outcome.h"
#include "lab_proc.h"
#include "lab_scenario.h"
#include "outfile.h"
#include "plugin_args.h"
#include "plugin_results.h"
#include "pvirt.h"

#define MODULE_ROOM_MIB 64ull /* above the data region: the trace module, at the top of memory */

static const char fleet_help[] =
	"usage: pflab fleet --connect URI --scenarios DIR|FILE [--timeout SECONDS]\n"
	"                   [--keep DIR] [--junit FILE]\n"
	"\n"
	"Run the guest scenarios (command: run) of DIR's *.scenario files, in name\n"
	"order, as libvirt domains on the host URI names: each one is pflab's guest\n"
	"under QEMU's TCG with the plugin (policy and frames from the scenario), the\n"
	"parameters on the kernel command line, the reference string as the PVH\n"
	"module. Its plugin results are checked against `expect COLUMN:` (refs,\n"
	"faults, major, minor, evictions, writebacks) and its console against\n"
	"`expect guest:`. Reported as PASS, FAIL with the reason, or SKIP with the\n"
	"reason (a sim scenario; a driver that runs no guest, as test:///default).\n"
	"\n"
	"  -c, --connect URI     the libvirt URI (qemu:///system, qemu+ssh://HOST/system,\n"
	"                        test:///default)\n"
	"  -s, --scenarios PATH  a directory of *.scenario files, or one file\n"
	"      --timeout SECONDS each domain's limit (default: the scenario's, 60)\n"
	"      --keep DIR        write each domain's files there and keep them: its\n"
	"                        definition (NAME.xml), trace module, console, results\n"
	"                        (default: a temporary directory, removed)\n"
	"      --guest IMAGE     the guest image (default: guest/pflab-guest.elf beside pflab)\n"
	"      --plugin SO       the plugin (default: libpflab-qemu.so beside pflab)\n"
	"  -j, --junit FILE      also write the results as JUnit XML\n"
	"  -h, --help            this text\n"
	"\n"
	"The files are read and written at the same paths on this host and the URI's:\n"
	"for a remote URI, give --keep a directory both see. Exit status: 0 every\n"
	"scenario passed or was skipped, 1 some failed, 2 bad usage or a malformed\n"
	"scenario file.\n";

struct fleet {
	const char *uri, *dir, *guest, *plugin, *junit;
	uint64_t timeout_ns;          /* 0: each scenario's own */
	struct pvirt *v;
};

struct outcome {
	enum lab_outcome kind;
	char message[600];
	char *detail;                 /* what was compared, for a failure */
};

static void set(struct outcome *o, enum lab_outcome kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set(struct outcome *o, enum lab_outcome kind, const char *fmt, ...)
{
	va_list ap;

	if (o->kind == LAB_FAIL)
		return; /* the first failure names it */
	o->kind = kind;
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ one domain */

/* The domain's name: pflab-fleet-GROUP-NAME, other characters as '-'. */
static void domain_name(const struct scenario *s, char *out, size_t len)
{
	snprintf(out, len, "pflab-fleet-%s-%s", s->group, s->name);
	for (char *p = out; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *p))
			*p = '-';
}

/*
 * The scenario's reference string as the guest's PVH module: one 32-bit
 * word per reference, the page number, PFLAB_REF_WRITE for a write
 * (guest/abi.h). The highest page + 1 into *pages. 0, or -1 (why).
 */
static int write_module(const char *path, const char *refs, uint32_t *pages, char *why,
			size_t whylen)
{
	char *copy = strdup(refs), *save = NULL;
	struct outfile of;
	FILE *f;
	int rc = 0;

	*pages = 0;
	f = copy ? outfile_fopen(&of, path, why, whylen) : NULL;
	if (!f) {
		free(copy);
		return -1;
	}
	for (char *tok = strtok_r(copy, " \t,", &save); tok && !rc;
	     tok = strtok_r(NULL, " \t,", &save)) {
		size_t len = strlen(tok);
		bool w = len > 1 && (tok[len - 1] == 'w' || tok[len - 1] == 'W');
		uint64_t page;
		uint32_t word;
		char e[100];

		if (w)
			tok[len - 1] = '\0';
		if (cli_parse_u64(tok, 0, PFLAB_DATA_MAX_PAGES - 1, &page, e, sizeof(e)) != 0) {
			snprintf(why, whylen, "refs: '%s': %s", tok, e);
			rc = -1;
			break;
		}
		word = (uint32_t)page | (w ? PFLAB_REF_WRITE : 0);
		fwrite(&word, sizeof(word), 1, f); /* little-endian, as the guest reads it */
		if (page + 1 > *pages)
			*pages = (uint32_t)page + 1;
	}
	free(copy);
	if (rc) {
		outfile_abort(&of);
		fclose(f);
		return -1;
	}
	return outfile_fclose(&of, f, why, whylen);
}

/* Everything one scenario's domain needs, as strings that outlive its config. */
struct plan {
	char name[256], module[PATH_MAX], console[PATH_MAX], results[PATH_MAX], xml_path[PATH_MAX];
	char cmdline[300], policy_arg[80], frames_arg[40], range_arg[80], results_arg[PATH_MAX + 16];
	struct pvirt_config cfg;
};

/* DIR/NAME.EXT into out (PATH_MAX bytes). 0, or -1 when it does not fit. */
static int file_in(char *out, const char *dir, const char *name, const char *ext)
{
	int n = snprintf(out, PATH_MAX, "%s/%s.%s", dir, name, ext);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

static int plan(const struct fleet *g, const struct scenario *s, struct plan *p, char *why,
		size_t whylen)
{
	uint32_t pages = 0;
	struct plugin_args pa;
	uint64_t data_end;

	domain_name(s, p->name, sizeof(p->name));
	if (file_in(p->console, g->dir, p->name, "console") ||
	    file_in(p->results, g->dir, p->name, "results") ||
	    file_in(p->xml_path, g->dir, p->name, "xml") ||
	    file_in(p->module, g->dir, p->name, "module")) {
		snprintf(why, whylen, "--keep: the directory's path is too long");
		return -1;
	}
	p->cfg = (struct pvirt_config){
		.name = p->name, .kernel = g->guest, .vcpus = 1, .accel = PVIRT_TCG,
		.machine = "microvm", .debug_exit = true, .serial_log = p->console,
		.plugin = g->plugin,
	};
	if (s->refs) {
		if (write_module(p->module, s->refs, &pages, why, whylen) != 0)
			return -1;
		p->cfg.initrd = p->module;
		snprintf(p->cmdline, sizeof(p->cmdline), "workload=trace pages=%u", pages);
	} else if (s->workload) {
		snprintf(p->cmdline, sizeof(p->cmdline), "workload=%s", s->workload);
	} else {
		snprintf(why, whylen, "a trace file: only refs: and workload: go to a domain");
		return -1;
	}
	p->cfg.cmdline = p->cmdline;
	/* The data region, and the trace module's room above it (QEMU puts the
	 * module at the top of memory). */
	data_end = PFLAB_DATA_BASE + (uint64_t)(pages ? pages : 32768) * PFLAB_PAGE_SIZE;
	p->cfg.memory_kib = ((data_end >> 20) + MODULE_ROOM_MIB) * 1024;
	if (s->policy && s->frames) {
		snprintf(p->policy_arg, sizeof(p->policy_arg), "policy=%s", s->policy);
		snprintf(p->frames_arg, sizeof(p->frames_arg), "frames=%u", s->frames);
		snprintf(p->range_arg, sizeof(p->range_arg), "range=0x%x-0x%llx", PFLAB_DATA_BASE,
			 (unsigned long long)data_end);
		snprintf(p->results_arg, sizeof(p->results_arg), "results=%s", p->results);
		p->cfg.plugin_args[0] = p->policy_arg;
		p->cfg.plugin_args[1] = p->frames_arg;
		p->cfg.plugin_args[2] = p->range_arg;
		p->cfg.plugin_args[3] = p->results_arg;
		p->cfg.nplugin_args = 4;
		if (plugin_args_parse(4, (char **)p->cfg.plugin_args, &pa, why, whylen) != 0)
			return -1;
	} else {
		p->cfg.plugin = NULL;
	}
	return pvirt_xml_write(&p->cfg, p->xml_path, why, whylen);
}

/* The plugin's run's value for a column of pflab run's CSV, or -1. */
static long long column(const struct plugin_results *r, const char *name)
{
	const struct pager_stats *st = &r->runs[0].st;

	if (!strcmp(name, "refs")) return (long long)st->refs;
	if (!strcmp(name, "faults")) return (long long)st->faults;
	if (!strcmp(name, "major")) return (long long)st->major;
	if (!strcmp(name, "minor")) return (long long)st->minor;
	if (!strcmp(name, "evictions")) return (long long)st->evictions;
	if (!strcmp(name, "writebacks")) return (long long)st->writebacks;
	return -1;
}

static void check_results(const struct plan *p, const struct scenario *s, struct outcome *o,
			  FILE *detail)
{
	struct plugin_results r;
	char why[300];
	size_t len = 0;
	char *text;

	if (!s->ncolumns)
		return;
	text = lab_read_file(p->results, &len);
	if (!text || plugin_results_parse(text, len, &r, why, sizeof(why)) != 0 || r.nruns != 1) {
		set(o, LAB_FAIL, "no complete plugin results in %s%s%s", p->results,
		    text ? ": " : "", text ? why : "");
		free(text);
		return;
	}
	free(text);
	for (size_t i = 0; i < s->ncolumns; i++) {
		const struct scn_column *c = &s->columns[i];
		long long got = column(&r, c->name);
		char gots[32];

		snprintf(gots, sizeof(gots), "%lld", got);
		fprintf(detail, "    %s: expected %s, got %s (%s:%u)\n", c->name, c->value,
			got < 0 ? "(not a column of the plugin's results)" : gots, s->file, c->line);
		if (got < 0 || strcmp(gots, c->value))
			set(o, LAB_FAIL, "%s: expected %s, got %s", c->name, c->value,
			    got < 0 ? "nothing" : gots);
	}
}

/* `expect guest:` lines in order among the console's. */
static void check_console(const struct plan *p, const struct scenario *s, struct outcome *o,
			  FILE *detail)
{
	char *text = lab_read_file(p->console, NULL), *rest = text, *line;
	size_t k = 0;

	while (rest && k < s->nguest) {
		line = strsep(&rest, "\n");
		k += lab_line_glob(s->guest_lines[k].text, line);
	}
	if (k < s->nguest) {
		set(o, LAB_FAIL, "the guest's console lacks the line '%s'", s->guest_lines[k].text);
		fprintf(detail, "    console (%s):\n%s\n", p->console, text ? text : "(none)");
	}
	free(text);
}

/* A passing scenario names the expectations of pflab run a domain cannot check. */
static void not_checked(const struct scenario *s, struct outcome *o)
{
	const char *what[4] = { s->status_line ? "status" : NULL, s->seq_line ? "fault-seq" : NULL,
				s->nout ? "stdout" : NULL, s->nerr ? "stderr" : NULL };
	size_t len = 0;

	for (size_t i = 0; i < 4; i++) {
		if (!what[i])
			continue;
		len += (size_t)snprintf(o->message + len, sizeof(o->message) - len, "%s%s",
					len ? ", " : "not checked on a domain: ", what[i]);
	}
}

static void run_scenario(struct fleet *g, const struct scenario *s, struct outcome *o)
{
	struct plan *p = calloc(1, sizeof(*p));
	struct pvirt_dom *d = NULL;
	char why[800], *xml = NULL, *detail = NULL;
	size_t detail_len = 0;
	FILE *df = open_memstream(&detail, &detail_len);
	int ended;

	*o = (struct outcome){ .kind = LAB_PASS };
	if (!p || !df) {
		set(o, LAB_FAIL, "out of memory");
		goto out;
	}
	if (s->command != SCN_RUN) {
		set(o, LAB_SKIP, "a sim scenario: no guest to run (pflab regress runs it)");
		goto out;
	}
	if (plan(g, s, p, why, sizeof(why)) != 0 || pvirt_xml(&p->cfg, &xml, why, sizeof(why))) {
		set(o, LAB_FAIL, "no domain: %s", why);
		goto out;
	}
	d = pvirt_start(g->v, xml, why, sizeof(why));
	if (!d) {
		set(o, LAB_FAIL, "%s", why);
		goto out;
	}
	if (pvirt_runs_nothing(g->v)) {
		const char *state = pvirt_state(d, NULL, NULL, why, sizeof(why));

		set(o, LAB_SKIP, "started as domain %s (%s); the %s driver runs no guest: "
		    "nothing to check", p->name, state ? state : why, pvirt_driver(g->v));
		pvirt_destroy(d, why, sizeof(why));
		goto out;
	}
	ended = pvirt_wait_end(d, g->timeout_ns ? g->timeout_ns : s->timeout_ns, why, sizeof(why));
	if (ended != 1) {
		pvirt_destroy(d, why, sizeof(why));
		set(o, LAB_FAIL, ended ? "%s" : "domain %s still running at its time limit: destroyed",
		    ended ? why : p->name);
		goto out;
	}
	check_results(p, s, o, df);
	check_console(p, s, o, df);
	if (o->kind == LAB_PASS)
		not_checked(s, o);
out:
	if (df)
		fclose(df);
	o->detail = o->kind == LAB_FAIL && detail && *detail ? detail : NULL;
	if (!o->detail)
		free(detail);
	pvirt_dom_free(d);
	free(xml);
	free(p);
}

/* ------------------------------------------------------------ the command */

static int beside_pflab(const char *name, char *out, size_t len)
{
	char self[PATH_MAX], *slash;

	if (lab_self_path(self, sizeof(self)) != 0 || !(slash = strrchr(self, '/')))
		return -1;
	*slash = '\0';
	return snprintf(out, len, "%s/%s", self, name) < (int)len ? 0 : -1;
}

static int absolute(const char *opt, const char *path, char *out)
{
	if (!realpath(path, out))
		return cli_usage_error("fleet", "%s %s: %s", opt, path, strerror(errno));
	return 0;
}

static int fleet_main(int argc, char **argv)
{
	enum { OPT_TIMEOUT = 0x100, OPT_KEEP, OPT_GUEST, OPT_PLUGIN };
	static const struct option longopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "scenarios", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "guest", required_argument, NULL, OPT_GUEST },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "junit", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct fleet g = { 0 };
	struct scn_set set = { 0 };
	struct outcome *res = NULL;
	struct lab_junit_case *cases = NULL;
	const char *scenarios = NULL, *keep = NULL, *guest = NULL, *plugin = NULL;
	char guest_path[PATH_MAX], plugin_path[PATH_MAX], keep_path[PATH_MAX], why[800];
	char *tmp = NULL;
	struct lab_tally tally = { 0 };
	bool malformed = false;
	uint64_t t;
	int c, rc = EXIT_OK;

	while ((c = cli_getopt("fleet", argc, argv, "c:s:j:h", longopts)) != -1) {
		switch (c) {
		case 'c': g.uri = optarg; break;
		case 's': scenarios = optarg; break;
		case 'j': g.junit = optarg; break;
		case OPT_KEEP: keep = optarg; break;
		case OPT_GUEST: guest = optarg; break;
		case OPT_PLUGIN: plugin = optarg; break;
		case OPT_TIMEOUT:
			if (cli_opt_u64("fleet", "--timeout", optarg, 1, 86400, &t))
				return EXIT_USAGE;
			g.timeout_ns = t * 1000000000ull;
			break;
		case 'h': fputs(fleet_help, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error("fleet", "unexpected argument '%s'", argv[optind]);
	if (!g.uri || !scenarios)
		return cli_usage_error("fleet", "give --connect URI and --scenarios DIR (see --help)");
	if (g.junit && outfile_check(g.junit, why, sizeof(why)) != 0)
		return cli_usage_error("fleet", "--junit %s", why);
	if (guest ? absolute("--guest", guest, guest_path) :
		    beside_pflab("guest/pflab-guest.elf", guest_path, sizeof(guest_path)))
		return guest ? EXIT_USAGE : cli_fail("fleet", "cannot find the guest: give --guest");
	if (plugin ? absolute("--plugin", plugin, plugin_path) :
		     beside_pflab("libpflab-qemu.so", plugin_path, sizeof(plugin_path)))
		return plugin ? EXIT_USAGE : cli_fail("fleet", "cannot find the plugin: give --plugin");
	if (keep && absolute("--keep", keep, keep_path))
		return EXIT_USAGE;
	g.guest = guest_path;
	g.plugin = plugin_path;
	if (scn_collect(&set, scenarios, &malformed, why, sizeof(why)) != 0) {
		rc = cli_usage_error("fleet", "%s", why);
		goto out;
	}
	if (malformed) {
		rc = cli_usage_error("fleet", "malformed scenarios (above): nothing was run");
		goto out;
	}
	if (!keep) {
		/* QEMU runs as libvirt's qemu user: it writes the results here. */
		tmp = lab_tempdir("pflab-fleet");
		if (!tmp || chmod(tmp, 0777) != 0) {
			rc = cli_fail("fleet", "cannot make a temporary directory: %s", strerror(errno));
			goto out;
		}
	}
	g.dir = keep ? keep_path : tmp;
	g.v = pvirt_open(g.uri, why, sizeof(why));
	res = calloc(set.n ? set.n : 1, sizeof(*res));
	cases = calloc(set.n ? set.n : 1, sizeof(*cases));
	if (!g.v || !res || !cases) {
		rc = cli_fail("fleet", "%s", g.v ? strerror(ENOMEM) : why);
		goto out;
	}
	for (size_t i = 0; i < set.n; i++) {
		const struct scenario *s = &set.s[i];
		struct outcome *o = &res[i];
		double t0 = lab_now();

		run_scenario(&g, s, o);
		cases[i] = (struct lab_junit_case){
			.seconds = lab_now() - t0, .outcome = o->kind, .message = o->message,
			.detail = o->detail,
		};
		lab_outcome_report(stdout, s, &cases[i], false, &tally);
	}
	printf("fleet: %zu passed, %zu failed, %zu skipped (%zu scenarios on %s)\n", tally.pass,
	       tally.fail, tally.skip, set.n, g.uri);
	if (g.junit && lab_junit_write(g.junit, "pflab fleet", cases, set.n, why, sizeof(why))) {
		rc = cli_fail("fleet", "--junit %s", why);
		goto out;
	}
	rc = tally.fail ? EXIT_FAIL : EXIT_OK;
out:
	for (size_t i = 0; res && i < set.n; i++)
		free(res[i].detail);
	free(res);
	free(cases);
	pvirt_close(g.v);
	if (tmp) {
		lab_rmtree(tmp);
		free(tmp);
	}
	scn_set_free(&set);
	return rc;
}

static const struct command fleet_cmd = {
	.name = "fleet",
	.summary = "run guest scenarios as libvirt domains on a libvirt URI's host",
	.main = fleet_main,
};
COMMAND_REGISTER(fleet_cmd);
