// SPDX-License-Identifier: MIT
/*
 * pflab qemu: pflab's own guest, or a Linux kernel, under
 * qemu-system-x86_64 -M microvm (docs/qemu.md#pflab-qemu). Under TCG the
 * plugin (vmm/qemu/) sees every load and store in system mode: on the
 * guest's data region for pflab's guest, on all of RAM for Linux; it
 * captures the guest-physical page-reference string (--out) and/or runs
 * the pager live (--policy, --frames) and prints pflab sim's table.
 *
 * A thin layer: the options become a qemu_sys_config (vmm/qemu/qemu_cmd.h)
 * and the plugin's arguments (qemu_cli.h); the guest's side of the
 * protocol is vmm/qemu/qemu_guest.h, the run vmm/qemu/qemu_run.h, the
 * Linux initramfs vmm/qemu/qemu_initramfs.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../guest/abi.h"
#include "cli.h"
#include "guest_image.h"
#include "lab_proc.h"
#include "loadtrace.h"
#include "outfile.h"
#include "plugin_results.h"
#include "pvirt.h"
#include "qemu_cli.h"
#include "qemu_cmd.h"
#include "qemu_guest.h"
#include "qemu_initramfs.h"
#include "qemu_run.h"
#include "vmm.h"

#define DEFAULT_PAGES 256
#define LINUX_MEMORY_MIB 256
#define DEFAULT_BUSYBOX "/bin/busybox"

struct qemu_opts {
	enum qemu_accel accel;
	const char *workload, *trace_path;
	struct trace_options trace;
	uint32_t pages, passes, nops;
	uint64_t seed;
	bool pages_given;
	const char *kernel, *initrd, *busybox, *script, *append;
	uint32_t memory_mib;
	uint64_t timeout_ns;
	const char *out, *kind, *range;
	bool rw, zstd, csv, json, quiet, dry_run;
	const char *policy, *frames;
	const char *plugin, *qemu;
	const char *libvirt_xml;
};

static const char qemu_help[] =
	"usage: pflab qemu [options]\n"
	"\n"
	"Run pflab's guest (a workload or a trace) standalone under qemu-system-x86_64\n"
	"-M microvm, or a Linux kernel (--kernel) with an initramfs pflab builds. Under\n"
	"TCG (the default) pflab's plugin sees every load and store: it writes the\n"
	"guest-physical page-reference string (--out) and/or pages it live (--policy,\n"
	"--frames). The guest's console goes to standard error as 'guest| ...'.\n"
	"\n"
	"  -a, --accel A        tcg (default: every access seen) or kvm (no plugin)\n"
	"  -w, --workload W     pflab's guest: scan (default), random, stride, matmul,\n"
	"                       list, copy or touch\n"
	"      --pages N        its data pages (default 256)\n"
	"      --passes N       its repetitions (default per workload, as pflab run)\n"
	"      --seed N         its seed (default 1)\n"
	"  -t, --trace FILE     replay a trace in pflab's guest (as pflab run --trace)\n"
	"  -f, --format F       the trace's format (default: detected)\n"
	"      --kernel IMAGE   a Linux kernel (bzImage) instead of pflab's guest\n"
	"      --initrd FILE    its initramfs as given; else pflab builds one from\n"
	"      --busybox BIN    a static busybox (default /bin/busybox) and\n"
	"      --script FILE    the workload script /init runs (required)\n"
	"      --append LINE    more kernel command line\n"
	"      --memory MIB     guest RAM (default: what pflab's guest needs; 256 for Linux)\n"
	"  -o, --out FILE       write the page-reference string (pft unless --rw)\n"
	"      --rw, --zstd     rw text; zstd-compressed\n"
	"      --kind K         data (default), load or store\n"
	"      --range A-B      guest-physical bytes [A, B) (default: pflab's guest's data\n"
	"                       region; all of RAM for Linux)\n"
	"  -p, --policy LIST    run pflab's pager live with these policies...\n"
	"  -n, --frames LIST    ...and frame counts; prints pflab sim's table\n"
	"      --csv, --json    that table as CSV or JSON\n"
	"      --timeout D      kill QEMU if the guest still runs after D (e.g. 30s)\n"
	"      --quiet          do not echo the guest's console\n"
	"      --dry-run        print QEMU's command line, one word a line, and stop\n"
	"      --libvirt-xml FILE  write the libvirt domain of this machine (the same\n"
	"                       kernel, command line, memory and plugin arguments) to\n"
	"                       FILE instead of running QEMU; not with --trace or --script\n"
	"      --plugin SO      the plugin (default: libpflab-qemu.so beside pflab)\n"
	"      --qemu BIN       the emulator (default qemu-system-x86_64)\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status 0 when the guest ran to its end and said so (status 0 through\n"
	"isa-debug-exit); 1 when it failed, crashed or QEMU did; 2 for bad usage.\n"
	"See docs/qemu.md.\n";

/* The workloads that need nothing of pflab's VMM beyond guest/standalone.c. */
static bool standalone_workload(const char *name)
{
	static const char *const ok[] = { "scan", "random", "stride", "matmul", "list", "copy",
					  "touch", "bad-ud", "bad-loop" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(name, ok[i]) == 0)
			return true;
	return false;
}

static int check_args(struct qemu_opts *o)
{
	if (o->trace_path && (o->workload || o->pages_given))
		return cli_usage_error("qemu", "--trace replays its own pages: no --workload or --pages");
	if (o->kernel && (o->workload || o->trace_path || o->pages_given))
		return cli_usage_error("qemu", "--kernel runs Linux: --workload, --trace and --pages "
				       "are for pflab's guest");
	if (!o->kernel && (o->initrd || o->busybox || o->script || o->append))
		return cli_usage_error("qemu", "--initrd, --busybox, --script and --append need --kernel");
	if (o->kernel && !o->initrd && !o->script)
		return cli_usage_error("qemu", "--kernel needs --script FILE (the workload) or --initrd");
	if (o->initrd && (o->busybox || o->script))
		return cli_usage_error("qemu", "--initrd is used as given: no --busybox or --script");
	if (o->workload && !standalone_workload(o->workload))
		return cli_usage_error("qemu", "workload '%s' is not one pflab's guest runs standalone "
				       "(scan, random, stride, matmul, list, copy, touch)", o->workload);
	if (!o->policy != !o->frames)
		return cli_usage_error("qemu", "--policy and --frames go together");
	if (o->csv && o->json)
		return cli_usage_error("qemu", "give one of --csv and --json");
	if ((o->csv || o->json) && !o->policy)
		return cli_usage_error("qemu", "--csv and --json print the live table: give --policy");
	if ((o->rw || o->zstd) && !o->out)
		return cli_usage_error("qemu", "--rw and --zstd need --out");
	if (o->accel == QEMU_ACCEL_KVM && (o->out || o->policy || o->kind || o->range))
		return cli_usage_error("qemu", "--out, --policy, --kind and --range need --accel tcg "
				       "(under KVM no access is seen)");
	if (o->libvirt_xml && (o->dry_run || o->timeout_ns || o->quiet || o->csv || o->json))
		return cli_usage_error("qemu", "--libvirt-xml writes a definition and runs nothing: "
				       "no --dry-run, --timeout, --quiet, --csv or --json");
	if (o->libvirt_xml && o->trace_path)
		return cli_usage_error("qemu", "--libvirt-xml with --trace: the trace module would be "
				       "a temporary file, gone when the domain starts");
	if (o->libvirt_xml && o->script)
		return cli_usage_error("qemu", "--libvirt-xml with --script: the initramfs would be "
				       "a temporary file; build it once and give --initrd");
	if (o->kind && strcmp(o->kind, "data") && strcmp(o->kind, "load") && strcmp(o->kind, "store"))
		return cli_usage_error("qemu", "--kind: '%s' is not data, load or store (QEMU 7.2 "
				       "gives no physical address for an instruction fetch)", o->kind);
	return 0;
}

static int parse_args(int argc, char **argv, struct qemu_opts *o)
{
	enum { OPT_PAGES = 256, OPT_PASSES, OPT_SEED, OPT_KERNEL, OPT_INITRD, OPT_BUSYBOX,
	       OPT_SCRIPT, OPT_APPEND, OPT_MEMORY, OPT_RW, OPT_ZSTD, OPT_KIND, OPT_RANGE, OPT_CSV,
	       OPT_JSON, OPT_QUIET, OPT_DRY_RUN, OPT_PLUGIN, OPT_QEMU, OPT_NOPS, OPT_TIMEOUT,
	       OPT_LIBVIRT_XML };
	static const struct option longopts[] = {
		{ "accel", required_argument, NULL, 'a' },
		{ "workload", required_argument, NULL, 'w' },
		{ "pages", required_argument, NULL, OPT_PAGES },
		{ "passes", required_argument, NULL, OPT_PASSES },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "nops", required_argument, NULL, OPT_NOPS },
		{ "trace", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "busybox", required_argument, NULL, OPT_BUSYBOX },
		{ "script", required_argument, NULL, OPT_SCRIPT },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "out", required_argument, NULL, 'o' },
		{ "rw", no_argument, NULL, OPT_RW },
		{ "zstd", no_argument, NULL, OPT_ZSTD },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "range", required_argument, NULL, OPT_RANGE },
		{ "policy", required_argument, NULL, 'p' },
		{ "frames", required_argument, NULL, 'n' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "libvirt-xml", required_argument, NULL, OPT_LIBVIRT_XML },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "qemu", required_argument, NULL, OPT_QEMU },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, rc = 0;

	while ((c = cli_getopt("qemu", argc, argv, "a:w:t:f:o:p:n:h", longopts)) != -1 && !rc) {
		switch (c) {
		case 'a':
			if (strcmp(optarg, "tcg") == 0)
				o->accel = QEMU_ACCEL_TCG;
			else if (strcmp(optarg, "kvm") == 0)
				o->accel = QEMU_ACCEL_KVM;
			else
				return cli_usage_error("qemu", "--accel: '%s' is not tcg or kvm", optarg);
			break;
		case 'w': o->workload = optarg; break;
		case OPT_PAGES:
			rc = cli_opt_u32("qemu", "--pages", optarg, 1, PFLAB_DATA_MAX_PAGES, &o->pages);
			o->pages_given = true;
			break;
		case OPT_PASSES:
			rc = cli_opt_u32("qemu", "--passes", optarg, 1, 1000000, &o->passes);
			break;
		case OPT_NOPS:
			rc = cli_opt_u32("qemu", "--nops", optarg, 0, UINT32_MAX, &o->nops);
			break;
		case OPT_SEED:
			/* The guest's parser takes 18 digits: below UINT64_MAX / 10. */
			rc = cli_opt_u64("qemu", "--seed", optarg, 0, UINT64_MAX / 10, &o->seed);
			break;
		case 't': o->trace_path = optarg; break;
		case 'f':
			if (trace_format_parse(optarg, &o->trace.format) != 0)
				return cli_usage_error("qemu", "unknown trace format '%s'", optarg);
			break;
		case OPT_KERNEL: o->kernel = optarg; break;
		case OPT_INITRD: o->initrd = optarg; break;
		case OPT_BUSYBOX: o->busybox = optarg; break;
		case OPT_SCRIPT: o->script = optarg; break;
		case OPT_APPEND: o->append = optarg; break;
		case OPT_MEMORY:
			rc = cli_opt_u32("qemu", "--memory", optarg, 16, QEMU_SYS_MAX_MIB, &o->memory_mib);
			break;
		case 'o': o->out = optarg; break;
		case OPT_RW: o->rw = true; break;
		case OPT_ZSTD: o->zstd = true; break;
		case OPT_KIND: o->kind = optarg; break;
		case OPT_RANGE: o->range = optarg; break;
		case 'p': o->policy = optarg; break;
		case 'n': o->frames = optarg; break;
		case OPT_CSV: o->csv = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_QUIET: o->quiet = true; break;
		case OPT_TIMEOUT: {
			char why[200];

			if (cli_parse_duration_ns(optarg, &o->timeout_ns, why, sizeof(why)))
				return cli_usage_error("qemu", "--timeout: %s", why);
			if (o->timeout_ns < 1000000)
				return cli_usage_error("qemu", "--timeout: must be at least 1 ms");
			break;
		}
		case OPT_DRY_RUN: o->dry_run = true; break;
		case OPT_LIBVIRT_XML: o->libvirt_xml = optarg; break;
		case OPT_PLUGIN: o->plugin = optarg; break;
		case OPT_QEMU: o->qemu = optarg; break;
		case 'h': fputs(qemu_help, stdout); return -1;
		default: return EXIT_USAGE;
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return cli_usage_error("qemu", "unexpected argument '%s'", argv[optind]);
	return check_args(o);
}

struct qemu_job {
	struct qemu_opts o;
	struct loaded_trace lt;
	struct plugin_argv pargs;
	struct outfile out;
	bool out_open;
	char *tmpdir, *results, *plugin, *plugin_opt, *kernel, *initrd, *out_abs;
	char cmdline[512], range[64];
	struct qemu_sys_config sys;
	char **argv;
	struct plugin_results *res;
};

static void job_free(struct qemu_job *j)
{
	if (j->out_open) {
		plugin_remove_temporaries(j->out.tmp);
		outfile_abort(&j->out);
	}
	plugin_argv_free(&j->pargs);
	loaded_trace_free(&j->lt);
	if (j->tmpdir)
		lab_rmtree(j->tmpdir);
	free(j->tmpdir);
	free(j->results);
	free(j->plugin);
	free(j->plugin_opt);
	free(j->kernel);
	free(j->initrd);
	free(j->out_abs);
	qemu_argv_free(j->argv);
	free(j->res);
}

static char *tmp_path(struct qemu_job *j, const char *name)
{
	char *p;

	return asprintf(&p, "%s/%s", j->tmpdir, name) < 0 ? NULL : p;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* path made absolute (libvirt resolves nothing), malloc'ed: as it is if it is,
 * else after the working directory. NULL with errno. */
static char *absolute_path(const char *path)
{
	char *cwd, *out;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd || asprintf(&out, "%s/%s", cwd, path) < 0)
		out = NULL;
	free(cwd);
	return out;
}

/*
 * For a libvirt domain the guest's ELF must stay where the definition names
 * it: the build's guest/pflab-guest.elf beside pflab, if it holds the very
 * image pflab carries (a stale or missing one is refused).
 */
static int stable_guest_image(struct qemu_job *j, const uint8_t *img, size_t len)
{
	char self[4096], *slash, *path, *text;
	size_t n = 0;
	bool same, readable;

	if (lab_self_path(self, sizeof(self)) != 0 || !(slash = strrchr(self, '/')))
		return cli_fail("qemu", "cannot find pflab's own path");
	*slash = '\0';
	if (asprintf(&path, "%s/guest/pflab-guest.elf", self) < 0)
		return cli_fail("qemu", "out of memory");
	text = lab_read_file(path, &n);
	same = text && n == len && memcmp(text, img, len) == 0;
	readable = text != NULL;
	free(text);
	if (!same) {
		if (!readable)
			cli_usage_error("qemu", "--libvirt-xml: %s: missing or unreadable (make builds "
					"pflab's guest image)", path);
		else
			cli_usage_error("qemu", "--libvirt-xml: %s is not pflab's guest image (make "
					"builds it)", path);
		free(path);
		return EXIT_USAGE;
	}
	j->kernel = path;
	return 0;
}

/* The guest's ELF into the temporary directory, for a run. */
static int temp_guest_image(struct qemu_job *j, const uint8_t *img, size_t len)
{
	int fd;

	j->kernel = tmp_path(j, "pflab-guest.elf");
	fd = j->kernel ? open(j->kernel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
	if (fd < 0 || write_all(fd, img, len) != 0) {
		if (fd >= 0)
			close(fd);
		return cli_fail("qemu", "cannot write the guest image: %s", strerror(errno));
	}
	close(fd);
	return 0;
}

/* pflab's guest: its ELF (temporary, or the build's for a domain), the trace as the module. */
static int prepare_pflab_guest(struct qemu_job *j, uint64_t *module_bytes)
{
	struct qemu_opts *o = &j->o;
	size_t len;
	const uint8_t *img = guest_image(&len);
	struct qemu_guest_params gp = { .workload = o->workload ? o->workload : "scan",
					.pages = o->pages, .passes = o->passes, .nops = o->nops,
					.seed = o->seed };
	int fd;

	*module_bytes = 0;
	fd = o->libvirt_xml ? stable_guest_image(j, img, len) : temp_guest_image(j, img, len);
	if (fd)
		return fd;
	if (o->trace_path) {
		char why[80];
		int rc;

		snprintf(why, sizeof(why), "the guest's data region");
		rc = lab_load_trace("qemu", o->trace_path, &o->trace, PFLAB_DATA_MAX_PAGES, why, &j->lt);
		if (rc)
			return rc;
		gp.workload = "trace";
		gp.pages = j->lt.npages;
		o->pages = j->lt.npages;
		j->initrd = tmp_path(j, "trace.mod");
		fd = j->initrd ? open(j->initrd, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
		if (fd < 0 || qemu_guest_module_write(fd, j->lt.refs, j->lt.n) != 0) {
			if (fd >= 0)
				close(fd);
			return cli_fail("qemu", "cannot write the trace module: %s", strerror(errno));
		}
		close(fd);
		*module_bytes = (uint64_t)j->lt.n * sizeof(uint32_t);
	}
	if (!gp.passes)
		gp.passes = vmm_workload_passes(vmm_workload_find(gp.workload));
	if (qemu_guest_cmdline(&gp, j->cmdline, sizeof(j->cmdline)) != 0 ||
	    qemu_guest_data_range(gp.pages, j->range, sizeof(j->range)) != 0)
		return cli_fail("qemu", "the boot command line does not fit");
	return 0;
}

/* Linux: the initramfs (unless given) and the kernel command line. */
static int prepare_linux(struct qemu_job *j)
{
	struct qemu_opts *o = &j->o;
	char err[600], *dir;
	int n;

	if (access(o->kernel, R_OK) != 0)
		return cli_usage_error("qemu", "--kernel %s: %s", o->kernel, strerror(errno));
	j->kernel = o->libvirt_xml ? absolute_path(o->kernel) : strdup(o->kernel);
	n = snprintf(j->cmdline, sizeof(j->cmdline), "%s%s%s", QEMU_LINUX_CMDLINE,
		     o->append ? " " : "", o->append ? o->append : "");
	if (!j->kernel || n < 0 || (size_t)n >= sizeof(j->cmdline))
		return cli_usage_error("qemu", "--append: the command line is too long");
	if (o->initrd) {
		if (access(o->initrd, R_OK) != 0)
			return cli_usage_error("qemu", "--initrd %s: %s", o->initrd, strerror(errno));
		j->initrd = o->libvirt_xml ? absolute_path(o->initrd) : strdup(o->initrd);
		return j->initrd ? 0 : cli_fail("qemu", "out of memory");
	}
	if (access(o->script, R_OK) != 0)
		return cli_usage_error("qemu", "--script %s: %s", o->script, strerror(errno));
	if (access(o->busybox ? o->busybox : DEFAULT_BUSYBOX, R_OK) != 0)
		return cli_usage_error("qemu", "--busybox %s: %s (tools/install-deps installs "
				       "busybox-static)", o->busybox ? o->busybox : DEFAULT_BUSYBOX,
				       strerror(errno));
	dir = tmp_path(j, "root");
	j->initrd = tmp_path(j, "initramfs.cpio");
	if (!dir || !j->initrd || mkdir(dir, 0700) != 0) {
		free(dir);
		return cli_fail("qemu", "cannot make the initramfs directory: %s", strerror(errno));
	}
	n = qemu_initramfs_build(o->busybox ? o->busybox : DEFAULT_BUSYBOX, o->script, dir, NULL,
				 j->initrd, err, sizeof(err));
	lab_rmtree(dir);
	free(dir);
	return n ? cli_fail("qemu", "initramfs: %s", err) : 0;
}

static int prepare(struct qemu_job *j)
{
	struct qemu_opts *o = &j->o;
	bool plugin = o->out || o->policy;
	uint64_t module_bytes = 0;
	char err[600];
	int rc;

	if (o->libvirt_xml && outfile_check(o->libvirt_xml, err, sizeof(err)) != 0)
		return cli_usage_error("qemu", "--libvirt-xml %s", err);
	if (o->out && outfile_check(o->out, err, sizeof(err)) != 0)
		return cli_usage_error("qemu", "%s", err);
	if (plugin) {
		j->plugin = o->plugin ? strdup(o->plugin) : plugin_default_path();
		if (!j->plugin || access(j->plugin, R_OK) != 0)
			return cli_usage_error("qemu", "cannot find the plugin %s (build it with make; "
					       "or give --plugin)", j->plugin ? j->plugin : "libpflab-qemu.so");
		if (o->libvirt_xml) {
			char *abs = absolute_path(j->plugin);

			free(j->plugin);
			j->plugin = abs;
			if (!abs)
				return cli_fail("qemu", "the plugin's path: %s", strerror(errno));
		}
	}
	j->tmpdir = lab_tempdir("pflab-qemu");
	if (!j->tmpdir || !(j->results = tmp_path(j, "results")))
		return cli_fail("qemu", "cannot make a temporary directory: %s", strerror(errno));
	rc = o->kernel ? prepare_linux(j) : prepare_pflab_guest(j, &module_bytes);
	if (rc)
		return rc;
	if (plugin) {
		if (o->out && o->libvirt_xml) {
			/* The domain's QEMU writes the trace itself, later. */
			if (!(j->out_abs = absolute_path(o->out)))
				return cli_usage_error("qemu", "--out %s: %s", o->out, strerror(errno));
		} else if (o->out) {
			if (outfile_open(&j->out, o->out, err, sizeof(err)) != 0)
				return cli_usage_error("qemu", "%s", err);
			j->out_open = true;
			close(j->out.fd);
			j->out.fd = -1;
		}
		rc = plugin_argv_build("qemu", &(struct plugin_opts){
			.out = j->out_abs ? j->out_abs : o->out ? j->out.tmp : NULL, .rw = o->rw,
			.zstd = o->zstd, .kind = o->kind,
			.range = o->range ? o->range : o->kernel ? NULL : j->range,
			.results = o->libvirt_xml ? NULL : j->results, .policy = o->policy, .frames = o->frames }, &j->pargs);
		if (rc)
			return rc;
		j->plugin_opt = qemu_plugin_option(j->plugin, j->pargs.v, j->pargs.n);
		if (!j->plugin_opt)
			return cli_fail("qemu", "out of memory");
	}
	j->sys = (struct qemu_sys_config){
		.qemu = o->qemu, .accel = o->accel, .kernel = j->kernel, .initrd = j->initrd,
		.append = j->cmdline,
		.memory_mib = o->memory_mib ? o->memory_mib
			    : o->kernel ? LINUX_MEMORY_MIB : qemu_guest_memory_mib(o->pages, module_bytes),
		.plugin = j->plugin_opt };
	j->argv = qemu_sys_argv(&j->sys, err, sizeof(err));
	if (!j->argv)
		return cli_usage_error("qemu", "%s", err);
	j->res = calloc(1, sizeof(*j->res));
	return j->res ? 0 : cli_fail("qemu", "out of memory");
}

/* SIGINT, SIGTERM, SIGHUP: passed on to QEMU, then what this run made is removed. */
static volatile sig_atomic_t interrupted;

static void note_signal(int sig)
{
	interrupted = sig;
}

static int run(struct qemu_job *j)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction old[3];
	struct qemu_run_result r;
	char why[300];
	int rc;

	for (size_t i = 0; i < 3; i++)
		sigaction(sigs[i], &(struct sigaction){ .sa_handler = note_signal }, &old[i]);
	rc = qemu_run(j->argv, j->o.quiet ? NULL : stderr, "guest| ", &interrupted,
		      j->o.timeout_ns / 1000000, &r);
	for (size_t i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (interrupted) {
		fprintf(stderr, "pflab qemu: interrupted by signal %d: nothing written\n",
			(int)interrupted);
		return 128 + interrupted;
	}
	if (rc != 0)
		return cli_fail("qemu", "cannot run %s: %s", j->argv[0], strerror(errno));
	if (qemu_run_verdict(&r, why, sizeof(why)) != 0)
		return cli_fail("qemu", "%s%s", why, j->o.out ? ": nothing written" : "");
	if (!j->o.kernel)
		fprintf(stderr, "pflab qemu: guest made %llu page references, %llu mismatches\n",
			(unsigned long long)r.exit.refs, (unsigned long long)r.exit.errors);
	return 0;
}

/* --libvirt-xml: the domain of the machine prepare() made (pvirt_from_qemu). */
static int write_domain(struct qemu_job *j)
{
	struct pvirt_config c;
	char err[800];

	if (pvirt_from_qemu(&j->sys, "pflab-qemu", j->plugin, j->pargs.v, (size_t)j->pargs.n, &c,
			    err, sizeof(err)) != 0)
		return cli_usage_error("qemu", "--libvirt-xml: %s", err);
	if (pvirt_xml_write(&c, j->o.libvirt_xml, err, sizeof(err)) != 0)
		return cli_fail("qemu", "--libvirt-xml %s", err);
	fprintf(stderr, "pflab qemu: domain pflab-qemu written to %s\n", j->o.libvirt_xml);
	return 0;
}

static int qemu_main(int argc, char **argv)
{
	struct qemu_job j = { .o = { .accel = QEMU_ACCEL_TCG, .pages = DEFAULT_PAGES, .seed = 1 } };
	char err[600];
	int rc = parse_args(argc, argv, &j.o);

	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	rc = prepare(&j);
	if (rc)
		goto out;
	if (j.o.libvirt_xml) {
		rc = write_domain(&j);
		goto out;
	}
	if (j.o.dry_run) {
		for (char **a = j.argv; *a; a++)
			printf("%s\n", *a);
		goto out;
	}
	rc = run(&j);
	if (rc || !j.plugin_opt)
		goto out;
	rc = plugin_results_read("qemu", j.results, j.res);
	if (rc)
		goto out;
	if (j.o.out) {
		j.out_open = false;
		if (outfile_commit(&j.out, err, sizeof(err)) != 0) {
			rc = cli_fail("qemu", "%s", err);
			goto out;
		}
	}
	fprintf(stderr, "pflab qemu: %llu references (%llu writes)", (unsigned long long)j.res->refs,
		(unsigned long long)j.res->writes);
	if (j.res->pages)
		fprintf(stderr, " to %u pages", j.res->pages);
	fprintf(stderr, "%s%s\n", j.o.out ? " written to " : "", j.o.out ? j.o.out : "");
	if (j.o.policy)
		rc = plugin_results_print("qemu", j.o.kernel ? j.o.kernel : j.o.trace_path ? j.o.trace_path
					  : j.o.workload ? j.o.workload : "scan", j.res, j.o.csv, j.o.json);
out:
	job_free(&j);
	return rc;
}

static const struct command qemu_cmd = {
	.name = "qemu",
	.summary = "run pflab's guest or a Linux kernel under qemu-system, every access seen",
	.main = qemu_main,
};
COMMAND_REGISTER(qemu_cmd);
