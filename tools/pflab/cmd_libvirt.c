// SPDX-License-Identifier: MIT
/*
 * pflab libvirt: pflab's guest as a libvirt domain (vmm/libvirt/pvirt.h,
 * docs/libvirt.md).
 *
 *   pflab libvirt xml      write the domain definition
 *   pflab libvirt run      start it on a libvirt URI, wait for its end, show its console
 *   pflab libvirt balloon  shrink a domain's memory step by step, its kernel's counters at each
 *
 * A thin layer: options become a struct pvirt_config; the plugin's
 * arguments are checked by the plugin's own parser before libvirt sees them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lab_proc.h"
#include "outfile.h"
#include "plugin_args.h"
#include "pvirt.h"

#define DEFAULT_MEMORY_MIB 1152 /* the wired 16 MiB below 1 GiB, a 128 MiB data region above */

static const char xml_options_help[] =
	"      --name NAME        the domain's name (default pflab-guest)\n"
	"      --kernel IMAGE     the image QEMU boots (default: pflab's guest image,\n"
	"                         guest/pflab-guest.elf beside pflab)\n"
	"      --initrd FILE      the PVH module or initramfs QEMU loads with it\n"
	"      --cmdline TEXT     the kernel command line (pflab's guest: workload=NAME\n"
	"                         pages=N ..., docs/qemu.md)\n"
	"      --memory MIB       the domain's memory (default 1152)\n"
	"      --vcpus N          virtual CPUs (default 1)\n"
	"      --accel tcg|kvm    TCG, where the plugin sees every access (default), or KVM\n"
	"      --machine TYPE     QEMU's machine (default microvm)\n"
	"      --emulator PATH    the qemu-system-x86_64 (default: libvirt's)\n"
	"      --plugin SO        pflab's TCG plugin (default: libpflab-qemu.so beside pflab,\n"
	"                         or $PFLAB_QEMU_PLUGIN)\n"
	"      --plugin-arg K=V   one of the plugin's arguments (repeat; docs/qemu.md):\n"
	"                         the plugin is loaded when one is given\n"
	"      --serial FILE      the guest's serial console into FILE\n"
	"      --no-debug-exit    no isa-debug-exit device\n"
	"      --balloon          a virtio balloon (needs --machine q35 or pc)\n";

static const char libvirt_help[] =
	"usage: pflab libvirt xml [--out FILE] [DOMAIN OPTIONS]\n"
	"       pflab libvirt run --connect URI [--wait SECONDS] [DOMAIN OPTIONS]\n"
	"       pflab libvirt balloon --connect URI --domain NAME --from KIB --to KIB\n"
	"                             --steps N [--settle SECONDS] [--csv|--json]\n"
	"\n"
	"pflab's guest as a libvirt domain, through libvirt's C API:\n"
	"  xml      write the domain definition: the guest under qemu-system-x86_64\n"
	"           -M microvm, its serial console into a file, isa-debug-exit and\n"
	"           pflab's TCG plugin through <qemu:commandline>\n"
	"  run      start it as a transient domain on URI (test:///default,\n"
	"           qemu:///system, qemu+ssh://HOST/system), wait for its end, print\n"
	"           its console as 'guest| LINE' lines\n"
	"  balloon  set a running domain's memory to each size of a sweep\n"
	"           (virDomainSetMemory) and print the guest kernel's counters at each\n"
	"           (virDomainMemoryStats): major and minor faults, swap in and out\n"
	"\n"
	"  -o, --out FILE         (xml) where the definition goes (default: standard output)\n"
	"  -c, --connect URI      (run, balloon) the libvirt URI\n"
	"      --wait SECONDS     (run) how long the guest may run (default 60); then it\n"
	"                         is destroyed and run fails\n"
	"      --domain NAME      (balloon) the running domain\n"
	"      --from, --to KIB   (balloon) the first and last size\n"
	"      --steps N          (balloon) how many sizes, both ends included (2 to 1000)\n"
	"      --settle SECONDS   (balloon) wait after each step before reading (default 0)\n"
	"      --csv, --json      (balloon) machine-readable output\n"
	"  -h, --help             this text\n"
	"\n"
	"domain options (xml, run):\n";

enum {
	OPT_NAME = 0x100, OPT_KERNEL, OPT_INITRD, OPT_CMDLINE, OPT_MEMORY, OPT_VCPUS, OPT_ACCEL,
	OPT_MACHINE, OPT_EMULATOR, OPT_PLUGIN, OPT_PLUGIN_ARG, OPT_SERIAL,
	OPT_NO_DEBUG_EXIT, OPT_BALLOON, OPT_WAIT, OPT_DOMAIN, OPT_FROM, OPT_TO, OPT_STEPS,
	OPT_SETTLE, OPT_CSV, OPT_JSON,
};

struct libvirt_opts {
	const char *sub, *out, *uri, *domain, *plugin;
	uint64_t memory_mib, wait_s, from, to, steps, settle_s;
	bool csv, json, have_from, have_to, have_steps;
	struct pvirt_config cfg;
	char kernel[PATH_MAX], initrd[PATH_MAX], plugin_path[PATH_MAX];
};

/* The file name beside the pflab binary, made absolute. */
static int beside_pflab(const char *name, char *out, size_t len)
{
	char self[PATH_MAX], *slash;

	if (lab_self_path(self, sizeof(self)) != 0 || !(slash = strrchr(self, '/')))
		return -1;
	*slash = '\0';
	return snprintf(out, len, "%s/%s", self, name) < (int)len ? 0 : -1;
}

/* An absolute path for a file given on the command line: libvirt resolves nothing. */
static int absolute(const char *opt, const char *path, char *out, size_t len)
{
	if (!realpath(path, out))
		return cli_usage_error("libvirt", "%s %s: %s", opt, path, strerror(errno));
	(void)len;
	return 0;
}

static int parse_domain_opt(struct libvirt_opts *o, int c, const char *arg)
{
	struct pvirt_config *cfg = &o->cfg;
	uint64_t v;

	switch (c) {
	case OPT_NAME: cfg->name = arg; return 0;
	case OPT_KERNEL: return absolute("--kernel", arg, o->kernel, sizeof(o->kernel));
	case OPT_INITRD:
		cfg->initrd = o->initrd;
		return absolute("--initrd", arg, o->initrd, sizeof(o->initrd));
	case OPT_CMDLINE: cfg->cmdline = arg; return 0;
	case OPT_MEMORY: return cli_opt_u64("libvirt", "--memory", arg, 1, 1u << 20, &o->memory_mib);
	case OPT_VCPUS:
		if (cli_opt_u64("libvirt", "--vcpus", arg, 1, 64, &v))
			return EXIT_USAGE;
		cfg->vcpus = (unsigned)v;
		return 0;
	case OPT_ACCEL:
		if (strcmp(arg, "tcg") && strcmp(arg, "kvm"))
			return cli_usage_error("libvirt", "--accel %s: expected tcg or kvm", arg);
		cfg->accel = strcmp(arg, "kvm") ? PVIRT_TCG : PVIRT_KVM;
		return 0;
	case OPT_MACHINE: cfg->machine = arg; return 0;
	case OPT_EMULATOR: cfg->emulator = arg; return 0;
	case OPT_PLUGIN: o->plugin = arg; return 0;
	case OPT_PLUGIN_ARG:
		if (cfg->nplugin_args == PVIRT_MAX_PLUGIN_ARGS)
			return cli_usage_error("libvirt", "--plugin-arg: at most %d",
					       PVIRT_MAX_PLUGIN_ARGS);
		cfg->plugin_args[cfg->nplugin_args++] = arg;
		return 0;
	case OPT_SERIAL: cfg->serial_log = arg; return 0;
	case OPT_NO_DEBUG_EXIT: cfg->debug_exit = false; return 0;
	case OPT_BALLOON: cfg->balloon = true; return 0;
	default: return cli_usage_error("libvirt", "internal: option %d", c);
	}
}

/* Defaults, the plugin found and its arguments checked by its own parser. */
static int finish_config(struct libvirt_opts *o)
{
	struct pvirt_config *cfg = &o->cfg;
	struct plugin_args pa;
	char err[600];

	if (!o->kernel[0] && beside_pflab("guest/pflab-guest.elf", o->kernel, sizeof(o->kernel)))
		return cli_fail("libvirt", "cannot find pflab's guest image: give --kernel");
	cfg->kernel = o->kernel;
	if (access(cfg->kernel, R_OK) != 0)
		return cli_usage_error("libvirt", "--kernel %s: %s", cfg->kernel, strerror(errno));
	cfg->memory_kib = o->memory_mib * 1024;
	if (o->plugin && !cfg->nplugin_args)
		return cli_usage_error("libvirt", "--plugin without --plugin-arg: the plugin needs "
				       "out=FILE, or policy= and frames=");
	if (cfg->nplugin_args) {
		const char *env = getenv("PFLAB_QEMU_PLUGIN");

		if (o->plugin || (env && *env)) {
			if (absolute("--plugin", o->plugin ? o->plugin : env, o->plugin_path,
				     sizeof(o->plugin_path)))
				return EXIT_USAGE;
		} else if (beside_pflab("libpflab-qemu.so", o->plugin_path, sizeof(o->plugin_path))) {
			return cli_fail("libvirt", "cannot find the plugin: give --plugin");
		}
		cfg->plugin = o->plugin_path;
		if (plugin_args_parse((int)cfg->nplugin_args, (char **)cfg->plugin_args, &pa, err,
				      sizeof(err)) != 0)
			return cli_usage_error("libvirt", "--plugin-arg: %s", err);
	}
	if (cfg->serial_log && cfg->serial_log[0] != '/')
		return cli_usage_error("libvirt", "--serial %s: an absolute path is needed",
				       cfg->serial_log);
	return 0;
}

static int parse(struct libvirt_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "connect", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "vcpus", required_argument, NULL, OPT_VCPUS },
		{ "accel", required_argument, NULL, OPT_ACCEL },
		{ "machine", required_argument, NULL, OPT_MACHINE },
		{ "emulator", required_argument, NULL, OPT_EMULATOR },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "plugin-arg", required_argument, NULL, OPT_PLUGIN_ARG },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "no-debug-exit", no_argument, NULL, OPT_NO_DEBUG_EXIT },
		{ "balloon", no_argument, NULL, OPT_BALLOON },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "domain", required_argument, NULL, OPT_DOMAIN },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "settle", required_argument, NULL, OPT_SETTLE },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool is_xml, is_run, is_balloon;
	int c, rc;

	o->sub = argc > 1 ? argv[1] : NULL;
	if (o->sub && (!strcmp(o->sub, "--help") || !strcmp(o->sub, "-h"))) {
		printf("%s%s", libvirt_help, xml_options_help);
		return -1;
	}
	if (!o->sub)
		return cli_usage_error("libvirt", "give xml, run or balloon (see --help)");
	is_xml = !strcmp(o->sub, "xml");
	is_run = !strcmp(o->sub, "run");
	is_balloon = !strcmp(o->sub, "balloon");
	if (!is_xml && !is_run && !is_balloon)
		return cli_usage_error("libvirt", "unknown subcommand '%s': xml, run or balloon",
				       o->sub);
	argc--;
	argv++;
	while ((c = cli_getopt("libvirt", argc, argv, "o:c:h", longopts)) != -1) {
		rc = 0;
		if (c >= OPT_NAME && c <= OPT_BALLOON && is_balloon) {
			const struct option *lo = longopts;

			while (lo->val != c)
				lo++;
			return cli_usage_error("libvirt", "--%s: not an option of balloon", lo->name);
		}
		switch (c) {
		case 'o': o->out = optarg; break;
		case 'c': o->uri = optarg; break;
		case OPT_WAIT: rc = cli_opt_u64("libvirt", "--wait", optarg, 0, 86400, &o->wait_s); break;
		case OPT_DOMAIN: o->domain = optarg; break;
		case OPT_FROM: rc = cli_opt_u64("libvirt", "--from", optarg, 1, 1ull << 40, &o->from); o->have_from = true; break;
		case OPT_TO: rc = cli_opt_u64("libvirt", "--to", optarg, 1, 1ull << 40, &o->to); o->have_to = true; break;
		case OPT_STEPS: rc = cli_opt_u64("libvirt", "--steps", optarg, 2, 1000, &o->steps); o->have_steps = true; break;
		case OPT_SETTLE: rc = cli_opt_u64("libvirt", "--settle", optarg, 0, 3600, &o->settle_s); break;
		case OPT_CSV: o->csv = true; break;
		case OPT_JSON: o->json = true; break;
		case 'h': printf("%s%s", libvirt_help, xml_options_help); return -1;
		case '?': return EXIT_USAGE;
		default: rc = parse_domain_opt(o, c, optarg); break;
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("libvirt", "unexpected argument '%s'", argv[optind]);
	if (is_xml && o->uri)
		return cli_usage_error("libvirt", "xml writes a definition: --connect is for run "
				       "and balloon");
	if (!is_xml && !o->uri)
		return cli_usage_error("libvirt", "%s needs --connect URI", o->sub);
	if (!is_xml && o->out)
		return cli_usage_error("libvirt", "--out is for xml");
	if (is_balloon) {
		if (!o->domain || !o->have_from || !o->have_to || !o->have_steps)
			return cli_usage_error("libvirt", "balloon needs --domain, --from, --to and "
					       "--steps");
		if (o->csv && o->json)
			return cli_usage_error("libvirt", "give one of --csv and --json");
		return 0;
	}
	if (o->domain || o->have_from || o->have_to || o->have_steps || o->csv || o->json)
		return cli_usage_error("libvirt", "--domain, --from, --to, --steps, --csv and "
				       "--json are balloon's");
	return finish_config(o);
}

/* ------------------------------------------------------------ run */

/* The guest's console, each line as "guest| LINE" on standard error. */
static void show_console(const char *path)
{
	char *text = path ? lab_read_file(path, NULL) : NULL;

	for (char *rest = text, *line; rest && *rest;) {
		line = strsep(&rest, "\n");
		fprintf(stderr, "guest| %s\n", line);
	}
	free(text);
}

static int run(struct libvirt_opts *o)
{
	struct pvirt *v;
	struct pvirt_dom *d;
	const char *state;
	char err[800], *xml;
	int ended, rc = EXIT_OK;

	if (pvirt_xml(&o->cfg, &xml, err, sizeof(err)) != 0)
		return cli_usage_error("libvirt", "%s", err);
	v = pvirt_open(o->uri, err, sizeof(err));
	if (!v) {
		free(xml);
		return cli_fail("libvirt", "%s", err);
	}
	d = pvirt_start(v, xml, err, sizeof(err));
	free(xml);
	if (!d) {
		pvirt_close(v);
		return cli_fail("libvirt", "%s", err);
	}
	state = pvirt_state(d, NULL, NULL, err, sizeof(err));
	printf("domain %s: started on %s (%s driver), %s\n", pvirt_dom_name(d), o->uri,
	       pvirt_driver(v), state ? state : err);
	if (pvirt_runs_nothing(v)) {
		printf("domain %s: the %s driver runs no guest: destroyed, nothing to wait for\n",
		       pvirt_dom_name(d), pvirt_driver(v));
		if (pvirt_destroy(d, err, sizeof(err)) != 0)
			rc = cli_fail("libvirt", "%s", err);
		goto out;
	}
	ended = pvirt_wait_end(d, o->wait_s * 1000000000ull, err, sizeof(err));
	if (ended < 0) {
		rc = cli_fail("libvirt", "%s", err);
	} else if (ended == 0) {
		pvirt_destroy(d, err, sizeof(err));
		rc = cli_fail("libvirt", "domain %s still running after %llu s: destroyed",
			      pvirt_dom_name(d), (unsigned long long)o->wait_s);
	} else {
		printf("domain %s: ended\n", pvirt_dom_name(d));
	}
	show_console(o->cfg.serial_log);
out:
	pvirt_dom_free(d);
	pvirt_close(v);
	return rc;
}

/* ------------------------------------------------------------ balloon */

static void print_row(const struct libvirt_opts *o, size_t step, uint64_t kib,
		      const struct pvirt_memstats *m)
{
	if (o->json)
		printf("%s\n    {\"step\": %zu, \"memory_kib\": %llu", step ? "," : "", step,
		       (unsigned long long)kib);
	else
		printf(o->csv ? "%zu,%llu" : "%4zu %12llu", step, (unsigned long long)kib);
	for (int s = 0; s < PVIRT_NSTATS; s++) {
		bool have = m->have & (1u << s);
		unsigned long long val = (unsigned long long)m->v[s];

		if (o->json) {
			printf(", \"%s\": ", pvirt_stat_name(s));
			have ? printf("%llu", val) : printf("null");
		} else if (o->csv) {
			have ? printf(",%llu", val) : printf(",");
		} else {
			have ? printf(" %13llu", val) : printf(" %13s", "-");
		}
	}
	fputs(o->json ? "}" : "\n", stdout);
}

static void print_header(const struct libvirt_opts *o)
{
	if (o->json) {
		printf("{\"domain\": ");
		json_string(stdout, o->domain);
		printf(", \"steps\": [");
		return;
	}
	printf(o->csv ? "step,memory_kib" : "step   memory_kib");
	for (int s = 0; s < PVIRT_NSTATS; s++)
		printf(o->csv ? ",%s" : " %13s", pvirt_stat_name(s));
	putchar('\n');
}

static int balloon(struct libvirt_opts *o)
{
	uint64_t sizes[1000];
	struct pvirt *v;
	struct pvirt_dom *d;
	struct pvirt_memstats m;
	char err[800];
	int rc = EXIT_OK;

	if (pvirt_sweep_sizes(o->from, o->to, (size_t)o->steps, sizes, err, sizeof(err)) != 0)
		return cli_usage_error("libvirt", "%s", err);
	v = pvirt_open(o->uri, err, sizeof(err));
	if (!v)
		return cli_fail("libvirt", "%s", err);
	d = pvirt_lookup(v, o->domain, err, sizeof(err));
	if (!d) {
		pvirt_close(v);
		return cli_usage_error("libvirt", "%s", err);
	}
	print_header(o);
	for (size_t i = 0; i < o->steps; i++) {
		if (pvirt_balloon_step(d, sizes[i], o->settle_s * 1000000000ull, &m, err,
				       sizeof(err)) != 0) {
			fflush(stdout);
			rc = cli_fail("libvirt", "step %zu: %s", i, err);
			break;
		}
		print_row(o, i, sizes[i], &m);
	}
	if (o->json)
		printf("\n  ]}\n");
	pvirt_dom_free(d);
	pvirt_close(v);
	return rc;
}

/* ------------------------------------------------------------ the command */

static int libvirt_main(int argc, char **argv)
{
	struct libvirt_opts o = {
		.memory_mib = DEFAULT_MEMORY_MIB, .wait_s = 60,
		.cfg = { .name = "pflab-guest", .vcpus = 1, .accel = PVIRT_TCG,
			 .machine = "microvm", .debug_exit = true },
	};
	char err[800];
	int rc = parse(&o, argc, argv);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (!strcmp(o.sub, "xml")) {
		char *xml;

		/* A bad config or output path is bad usage; a failed write is a failure. */
		if (pvirt_xml(&o.cfg, &xml, err, sizeof(err)) != 0)
			return cli_usage_error("libvirt", "%s", err);
		free(xml);
		if (o.out && outfile_check(o.out, err, sizeof(err)) != 0)
			return cli_usage_error("libvirt", "--out %s", err);
		if (pvirt_xml_write(&o.cfg, o.out ? o.out : "-", err, sizeof(err)) != 0)
			return cli_fail("libvirt", "--out %s", err);
		return EXIT_OK;
	}
	if (!strcmp(o.sub, "run"))
		return run(&o);
	return balloon(&o);
}

static const struct command libvirt_cmd = {
	.name = "libvirt",
	.summary = "pflab's guest as a libvirt domain: its XML, a run, a balloon sweep",
	.main = libvirt_main,
};
COMMAND_REGISTER(libvirt_cmd);
