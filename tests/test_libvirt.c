// SPDX-License-Identifier: MIT
/*
 * pflab's guest as a libvirt domain (vmm/libvirt/pvirt.h, docs/libvirt.md):
 * the domain XML, golden and refused; validated by libvirt's own schema
 * (virt-xml-validate); started in libvirt's test driver (test:///default,
 * no daemon, its state lives in the connection) and read back; the balloon
 * sweep against the test driver's canned memory stats; `pflab libvirt` and
 * `pflab fleet` end to end on the test driver. Where a real libvirtd can be
 * started, the guest is booted through qemu:///system and its console and
 * plugin results read; elsewhere that test skips, saying why.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plugin_results.h"
#include "pvirt_internal.h"
#include "test.h"

/* An absolute path under the scratch directory (libvirt resolves nothing). */
static const char *abs_scratch(const char *name)
{
	static char buf[PATH_MAX + 64];
	char dir[PATH_MAX];

	if (!realpath(scratch_dir(), dir))
		return NULL;
	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static const char golden_xml[] =
	"<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
	"  <name>pflab-t1</name>\n"
	"  <memory unit='KiB'>1179648</memory>\n"
	"  <currentMemory unit='KiB'>1179648</currentMemory>\n"
	"  <vcpu>1</vcpu>\n"
	"  <os>\n"
	"    <type arch='x86_64' machine='microvm'>hvm</type>\n"
	"    <kernel>/opt/lab/guest &amp; co.elf</kernel>\n"
	"    <initrd>/opt/lab/trace.bin</initrd>\n"
	"    <cmdline>workload=trace pages=8 note=&lt;&apos;&quot;&gt;</cmdline>\n"
	"  </os>\n"
	"  <on_poweroff>destroy</on_poweroff>\n"
	"  <on_reboot>destroy</on_reboot>\n"
	"  <on_crash>destroy</on_crash>\n"
	"  <devices>\n"
	"    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
	"    <serial type='file'>\n"
	"      <source path='/tmp/console.log'/>\n"
	"      <target port='0'/>\n"
	"    </serial>\n"
	"    <controller type='usb' model='none'/>\n"
	"    <memballoon model='none'/>\n"
	"  </devices>\n"
	"  <qemu:commandline>\n"
	"    <qemu:arg value='-plugin'/>\n"
	"    <qemu:arg value='/opt/lab/libpflab,,qemu.so,policy=fifo,frames=4,results=/tmp/r,,1'/>\n"
	"    <qemu:arg value='-device'/>\n"
	"    <qemu:arg value='isa-debug-exit,iobase=0xf4,iosize=4'/>\n"
	"  </qemu:commandline>\n"
	"</domain>\n";

static struct pvirt_config golden_config(void)
{
	return (struct pvirt_config){
		.name = "pflab-t1", .kernel = "/opt/lab/guest & co.elf",
		.initrd = "/opt/lab/trace.bin", .cmdline = "workload=trace pages=8 note=<'\">",
		.memory_kib = 1179648, .vcpus = 1, .accel = PVIRT_TCG, .machine = "microvm",
		.emulator = "/usr/bin/qemu-system-x86_64", .plugin = "/opt/lab/libpflab,qemu.so",
		.plugin_args = { "policy=fifo", "frames=4", "results=/tmp/r,1" }, .nplugin_args = 3,
		.serial_log = "/tmp/console.log", .debug_exit = true,
	};
}

static void test_xml_golden(void)
{
	struct pvirt_config c = golden_config();
	char err[300] = "", *xml;

	CU_ASSERT_EQUAL_FATAL(pvirt_xml(&c, &xml, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(xml, golden_xml);
	if (strcmp(xml, golden_xml))
		printf("\n--- got:\n%s", xml);
	free(xml);
}

/* KVM, a Linux guest on q35 with a balloon, no plugin and no debug exit. */
static void test_xml_balloon_kvm(void)
{
	struct pvirt_config c = {
		.name = "linux", .kernel = "/boot/vmlinuz", .memory_kib = 524288,
		.current_kib = 262144, .vcpus = 2, .accel = PVIRT_KVM, .machine = "q35",
		.balloon = true,
	};
	char err[300] = "", *xml;

	CU_ASSERT_EQUAL_FATAL(pvirt_xml(&c, &xml, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<domain type='kvm' "));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<currentMemory unit='KiB'>262144</currentMemory>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<vcpu>2</vcpu>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "machine='q35'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<memballoon model='virtio'>\n      <stats period='1'/>"));
	CU_ASSERT_PTR_NULL(strstr(xml, "qemu:commandline"));
	CU_ASSERT_PTR_NULL(strstr(xml, "controller type='usb'"));
	CU_ASSERT_PTR_NULL(strstr(xml, "<serial"));
	free(xml);
}

static void test_xml_refused(void)
{
	static const struct { int field; const char *why; } bad[] = {
		{ 0, "domain name 'bad name'" },
		{ 1, "kernel 'rel/guest.elf': an absolute path is needed" },
		{ 2, "memory: 1 KiB to 1 PiB" },
		{ 3, "current memory above the domain's memory" },
		{ 4, "vcpus: 1 to 64" },
		{ 5, "a virtio balloon needs a PCI bus" },
		{ 6, "plugin argument 'policy': expected key=value" },
		{ 7, "plugin arguments without a plugin" },
		{ 8, "a control character cannot go into XML" },
		{ 9, "a machine type is needed" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pvirt_config c = golden_config();
		char err[300] = "", *xml = (char *)"untouched";

		switch (bad[i].field) {
		case 0: c.name = "bad name"; break;
		case 1: c.kernel = "rel/guest.elf"; break;
		case 2: c.memory_kib = 0; break;
		case 3: c.current_kib = c.memory_kib + 1; break;
		case 4: c.vcpus = 65; break;
		case 5: c.balloon = true; break;
		case 6: c.plugin_args[0] = "policy"; break;
		case 7: c.plugin = NULL; break;
		case 8: c.cmdline = "a\nb"; break;
		case 9: c.machine = ""; break;
		}
		CU_ASSERT_EQUAL(pvirt_xml(&c, &xml, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NULL(xml);
		if (!strstr(err, bad[i].why)) {
			printf("\ncase %zu: '%s' lacks '%s'\n", i, err, bad[i].why);
			CU_FAIL("wrong reason");
		}
	}
}

static bool have_validator(void)
{
	struct cmd_result r = run_shell("command -v virt-xml-validate");
	bool ok = r.status == 0;

	cmd_result_free(&r);
	if (!ok)
		test_skip("virt-xml-validate not installed (libvirt-clients)");
	return ok;
}

/* libvirt's own schema accepts the definition, and refuses a broken one. */
static void test_xml_validates(void)
{
	struct pvirt_config c = golden_config();
	char err[600] = "", path[PATH_MAX + 64];
	struct cmd_result r;

	if (!have_validator())
		return;
	snprintf(path, sizeof(path), "%s", abs_scratch("golden.xml"));
	CU_ASSERT_EQUAL_FATAL(pvirt_xml_write(&c, path, err, sizeof(err)), 0);
	r = run_shell("virt-xml-validate '%s' domain", path);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "validates"));
	cmd_result_free(&r);
	/* The same with the balloon on q35: validates too. */
	c.machine = "q35";
	c.balloon = true;
	c.accel = PVIRT_KVM;
	CU_ASSERT_EQUAL_FATAL(pvirt_xml_write(&c, path, err, sizeof(err)), 0);
	r = run_shell("virt-xml-validate '%s' domain", path);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	/* The validator can fail: an action libvirt does not know does not validate. */
	r = run_shell("sed -i 's/<on_crash>destroy/<on_crash>explode/' '%s' && "
		      "virt-xml-validate '%s' domain", path, path);
	CU_ASSERT_NOT_EQUAL(r.status, 0);
	cmd_result_free(&r);
}

/* ------------------------------------------------------------ test driver */

static void test_test_driver_start(void)
{
	struct pvirt_config c = golden_config();
	struct pvirt *v;
	struct pvirt_dom *d;
	char err[600] = "", *xml, *back;
	const char *state;
	int st = -1, reason;

	c.name = "pflab-started";
	c.memory_kib = 262144;
	CU_ASSERT_EQUAL_FATAL(pvirt_xml(&c, &xml, err, sizeof(err)), 0);
	v = pvirt_open("test:///default", err, sizeof(err));
	if (!v)
		printf("\n%s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(pvirt_driver(v), "TEST");
	CU_ASSERT(pvirt_runs_nothing(v));
	d = pvirt_start(v, xml, err, sizeof(err));
	free(xml);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_STRING_EQUAL(pvirt_dom_name(d), "pflab-started");
	state = pvirt_state(d, &st, &reason, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(state);
	CU_ASSERT_STRING_EQUAL(state, "running");
	CU_ASSERT(!pvirt_state_ended(st));
	/* What libvirt holds is what was defined (the test driver keeps no
	 * <qemu:commandline>: it is the QEMU driver's namespace). */
	back = pvirt_dom_xml(d, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_PTR_NOT_NULL(strstr(back, "<kernel>/opt/lab/guest &amp; co.elf</kernel>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(back, "<initrd>/opt/lab/trace.bin</initrd>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(back, "machine='microvm'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(back, "<memory unit='KiB'>262144</memory>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(back, "<source path='/tmp/console.log'/>"));
	free(back);
	/* The same name again is refused while it runs, with libvirt's reason. */
	CU_ASSERT_EQUAL(pvirt_wait_end(d, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(pvirt_destroy(d, err, sizeof(err)), 0);
	/* A transient domain, destroyed, is gone: that is an end. */
	CU_ASSERT_EQUAL(pvirt_wait_end(d, 0, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(pvirt_destroy(d, err, sizeof(err)), 0);
	pvirt_dom_free(d);
	d = pvirt_lookup(v, "pflab-started", err, sizeof(err));
	CU_ASSERT_PTR_NULL(d);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "domain 'pflab-started'"));
	pvirt_dom_free(d);
	/* A definition libvirt refuses comes back with its reason. */
	CU_ASSERT_PTR_NULL(pvirt_start(v, "<domain type='qemu'><name>x</name></domain>", err,
				       sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot start the domain: "));
	pvirt_close(v);
	CU_ASSERT_PTR_NULL(pvirt_open("nosuchdriver:///x", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot connect to nosuchdriver:///x: "));
}

/* ------------------------------------------------------------ balloon */

static void test_sweep_sizes(void)
{
	uint64_t s[5];
	char err[200];

	CU_ASSERT_EQUAL_FATAL(pvirt_sweep_sizes(2000, 1000, 5, s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(s[0], 2000);
	CU_ASSERT_EQUAL(s[1], 1750);
	CU_ASSERT_EQUAL(s[2], 1500);
	CU_ASSERT_EQUAL(s[3], 1250);
	CU_ASSERT_EQUAL(s[4], 1000);
	/* Uneven: rounded toward the first size; both ends exact. */
	CU_ASSERT_EQUAL_FATAL(pvirt_sweep_sizes(10, 1, 4, s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(s[0], 10);
	CU_ASSERT_EQUAL(s[1], 7);
	CU_ASSERT_EQUAL(s[2], 4);
	CU_ASSERT_EQUAL(s[3], 1);
	/* Upward. */
	CU_ASSERT_EQUAL_FATAL(pvirt_sweep_sizes(1, 10, 4, s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(s[1], 4);
	CU_ASSERT_EQUAL(s[3], 10);
	/* Near the top of the range, no overflow. */
	CU_ASSERT_EQUAL_FATAL(pvirt_sweep_sizes(UINT64_MAX, 1, 3, s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(s[1], UINT64_MAX - (UINT64_MAX - 1) / 2);
	CU_ASSERT_EQUAL(s[2], 1);
	CU_ASSERT_EQUAL(pvirt_sweep_sizes(10, 1, 1, s, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(pvirt_sweep_sizes(0, 1, 2, s, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(pvirt_sweep_sizes(1, 0, 2, s, err, sizeof(err)), -1);
}

/*
 * The test driver's domain "test" (8 GiB at most, 2 GiB now) answers
 * virDomainMemoryStats with canned counters: the balloon at the size last
 * set, half of it unused, no fault and no swap. Every step reads them back.
 */
static void test_balloon_test_driver(void)
{
	uint64_t sizes[5];
	struct pvirt_memstats m;
	struct pvirt *v;
	struct pvirt_dom *d;
	char err[600] = "";

	v = pvirt_open("test:///default", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	d = pvirt_lookup(v, "test", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL_FATAL(pvirt_sweep_sizes(2097152, 1048576, 5, sizes, err, sizeof(err)), 0);
	for (size_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL_FATAL(pvirt_balloon_step(d, sizes[i], 0, &m, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(m.have, (1u << PVIRT_NSTATS) - 1);
		CU_ASSERT_EQUAL(m.v[PVIRT_ACTUAL], sizes[i]);
		CU_ASSERT_EQUAL(m.v[PVIRT_UNUSED], sizes[i] / 2);
		CU_ASSERT_EQUAL(m.v[PVIRT_AVAILABLE], sizes[i]);
		CU_ASSERT_EQUAL(m.v[PVIRT_MAJOR_FAULT], 0);
		CU_ASSERT_EQUAL(m.v[PVIRT_MINOR_FAULT], 0);
		CU_ASSERT_EQUAL(m.v[PVIRT_SWAP_IN], 0);
		CU_ASSERT_EQUAL(m.v[PVIRT_SWAP_OUT], 0);
	}
	/* Above the domain's maximum: refused, with libvirt's reason. */
	CU_ASSERT_EQUAL(pvirt_balloon_step(d, 9000000, 0, &m, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "set memory to 9000000 KiB: "));
	CU_ASSERT_STRING_EQUAL(pvirt_stat_name(PVIRT_MAJOR_FAULT), "major_fault");
	CU_ASSERT_STRING_EQUAL(pvirt_stat_name(PVIRT_SWAP_OUT), "swap_out_kib");
	pvirt_dom_free(d);
	pvirt_close(v);
}

/* Each of libvirt's tags lands in its own column; tags pflab does not show are
 * left out; a stat the guest does not report is marked absent. */
static void test_memstats_decode(void)
{
	virDomainMemoryStatStruct raw[] = {
		{ VIR_DOMAIN_MEMORY_STAT_SWAP_OUT, 7 }, { VIR_DOMAIN_MEMORY_STAT_SWAP_IN, 6 },
		{ VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT, 5 }, { VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT, 4 },
		{ VIR_DOMAIN_MEMORY_STAT_RSS, 99 }, { VIR_DOMAIN_MEMORY_STAT_AVAILABLE, 3 },
		{ VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, 1 },
	};
	struct pvirt_memstats m;

	pvirt_memstats_decode(raw, 7, &m);
	CU_ASSERT_EQUAL(m.have, (1u << PVIRT_NSTATS) - 1 - (1u << PVIRT_UNUSED));
	CU_ASSERT_EQUAL(m.v[PVIRT_ACTUAL], 1);
	CU_ASSERT_EQUAL(m.v[PVIRT_UNUSED], 0);
	CU_ASSERT_EQUAL(m.v[PVIRT_AVAILABLE], 3);
	CU_ASSERT_EQUAL(m.v[PVIRT_MAJOR_FAULT], 4);
	CU_ASSERT_EQUAL(m.v[PVIRT_MINOR_FAULT], 5);
	CU_ASSERT_EQUAL(m.v[PVIRT_SWAP_IN], 6);
	CU_ASSERT_EQUAL(m.v[PVIRT_SWAP_OUT], 7);
	pvirt_memstats_decode(raw, 0, &m);
	CU_ASSERT_EQUAL(m.have, 0);
	/* Ended: shut off or crashed; not running, paused or shutting down. */
	CU_ASSERT(pvirt_state_ended(VIR_DOMAIN_SHUTOFF));
	CU_ASSERT(pvirt_state_ended(VIR_DOMAIN_CRASHED));
	CU_ASSERT(!pvirt_state_ended(VIR_DOMAIN_RUNNING));
	CU_ASSERT(!pvirt_state_ended(VIR_DOMAIN_PAUSED));
	CU_ASSERT(!pvirt_state_ended(VIR_DOMAIN_SHUTDOWN));
}

/* ------------------------------------------------------------ the command */

static void test_cli_xml(void)
{
	char guest[PATH_MAX], plugin[PATH_MAX], out[PATH_MAX + 64], want[3 * PATH_MAX];
	struct cmd_result r;
	char *text;

	snprintf(out, sizeof(out), "%s", abs_scratch("cli.xml"));
	snprintf(want, sizeof(want), "%s/guest/pflab-guest.elf", build_dir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(want, guest));
	snprintf(want, sizeof(want), "%s/libpflab-qemu.so", build_dir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(want, plugin));
	r = run_pflab("libvirt xml --out '%s' --name g1 --cmdline 'workload=scan pages=64' "
		      "--serial /tmp/s.log --plugin-arg policy=lru --plugin-arg frames=8", out);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	cmd_result_free(&r);
	snprintf(want, sizeof(want),
		 "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
		 "  <name>g1</name>\n"
		 "  <memory unit='KiB'>1179648</memory>\n"
		 "  <currentMemory unit='KiB'>1179648</currentMemory>\n"
		 "  <vcpu>1</vcpu>\n"
		 "  <os>\n"
		 "    <type arch='x86_64' machine='microvm'>hvm</type>\n"
		 "    <kernel>%s</kernel>\n"
		 "    <cmdline>workload=scan pages=64</cmdline>\n"
		 "  </os>\n"
		 "  <on_poweroff>destroy</on_poweroff>\n"
		 "  <on_reboot>destroy</on_reboot>\n"
		 "  <on_crash>destroy</on_crash>\n"
		 "  <devices>\n"
		 "    <serial type='file'>\n"
		 "      <source path='/tmp/s.log'/>\n"
		 "      <target port='0'/>\n"
		 "    </serial>\n"
		 "    <controller type='usb' model='none'/>\n"
		 "    <memballoon model='none'/>\n"
		 "  </devices>\n"
		 "  <qemu:commandline>\n"
		 "    <qemu:arg value='-plugin'/>\n"
		 "    <qemu:arg value='%s,policy=lru,frames=8'/>\n"
		 "    <qemu:arg value='-device'/>\n"
		 "    <qemu:arg value='isa-debug-exit,iobase=0xf4,iosize=4'/>\n"
		 "  </qemu:commandline>\n"
		 "</domain>\n",
		 guest, plugin);
	text = NULL;
	{
		FILE *f = fopen(out, "r");
		static char buf[8192];
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = '\0';
		text = buf;
	}
	CU_ASSERT_STRING_EQUAL(text, want);
	/* Refused before anything is written: the old file stays, no temporary file. */
	r = run_pflab("libvirt xml --out '%s' --plugin-arg policy=nosuch --plugin-arg frames=8", out);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab libvirt: --plugin-arg: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "nosuch"));
	cmd_result_free(&r);
	r = run_pflab("libvirt xml --out '%s' --memory 0", out);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.err, "pflab libvirt: --memory: '0' is out of range [1, 1048576]\n");
	cmd_result_free(&r);
	{
		FILE *f = fopen(out, "r");
		static char again[8192];
		size_t n = f ? fread(again, 1, sizeof(again) - 1, f) : 0;

		if (f)
			fclose(f);
		again[n] = '\0';
		CU_ASSERT_STRING_EQUAL(again, want);
	}
	r = run_shell("(ls -A '%s' | grep -c 'cli[.]xml')", abs_scratch(""));
	CU_ASSERT_STRING_EQUAL(r.out, "1\n");
	if (strcmp(r.out, "1\n"))
		printf("\n[%s] [%s]\n", r.out, r.err);
	cmd_result_free(&r);
	{
		static const char *const bad[][2] = {
			{ "libvirt", "give xml, run or balloon" },
			{ "libvirt frob", "unknown subcommand 'frob'" },
			{ "libvirt xml --accel hvf", "--accel hvf: expected tcg or kvm" },
			{ "libvirt xml --kernel /nonexistent/k", "--kernel /nonexistent/k: " },
			{ "libvirt xml --plugin /x.so", "--plugin without --plugin-arg" },
			{ "libvirt xml --balloon", "a virtio balloon needs a PCI bus" },
			{ "libvirt xml --serial rel.log", "--serial rel.log: an absolute path" },
			{ "libvirt xml --connect test:///default", "--connect is for run and balloon" },
			{ "libvirt xml --vcpus 0", "--vcpus: " },
			{ "libvirt xml --out /nonexistent/d.xml", "--out /nonexistent/d.xml: " },
			{ "libvirt run", "run needs --connect URI" },
			{ "libvirt balloon --connect test:///default --domain test --from 2",
			  "balloon needs --domain, --from, --to and --steps" },
			{ "libvirt balloon --connect test:///default --domain test --from 2 --to 1 "
			  "--steps 1", "--steps: " },
			{ "libvirt balloon --connect test:///default --domain test --from 2 --to 1 "
			  "--steps 2 --kernel /k", "--kernel: not an option of balloon" },
			{ "libvirt balloon --connect test:///default --domain nosuch --from 2 --to 1 "
			  "--steps 2", "domain 'nosuch': " },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = run_pflab("%s", bad[i][0]);
			if (r.status != 2 || !strstr(r.err, bad[i][1]) ||
			    strncmp(r.err, "pflab libvirt: ", 15) || strchr(r.err, '\n') !=
			    r.err + strlen(r.err) - 1) {
				printf("\n'%s': status %d, stderr '%s'\n", bad[i][0], r.status, r.err);
				CU_FAIL("not refused with one line");
			}
			cmd_result_free(&r);
		}
	}
	r = run_pflab("libvirt --help");
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "usage: pflab libvirt xml"));
	cmd_result_free(&r);
}

/* pflab libvirt run and balloon on the test driver: the exact output of a
 * run and of a sweep in CSV and JSON; a size libvirt refuses fails the
 * sweep at that step, with its reason. */
static void test_cli_run_and_balloon(void)
{
	static const struct {
		const char *args;
		int status;
		const char *out, *err; /* out: exactly; err: a part of stderr */
	} cases[] = {
		{ "libvirt run --connect test:///default --name t-run", 0,
		  "domain t-run: started on test:///default (TEST driver), running\n"
		  "domain t-run: the TEST driver runs no guest: destroyed, nothing "
		  "to wait for\n", NULL },
		{ "libvirt balloon --connect test:///default --domain test --from 2097152 "
		  "--to 1048576 --steps 3 --csv", 0,
		  "step,memory_kib,actual_kib,unused_kib,available_kib,major_fault,"
		  "minor_fault,swap_in_kib,swap_out_kib\n"
		  "0,2097152,2097152,1048576,2097152,0,0,0,0\n"
		  "1,1572864,1572864,786432,1572864,0,0,0,0\n"
		  "2,1048576,1048576,524288,1048576,0,0,0,0\n", NULL },
		{ "libvirt balloon --connect test:///default --domain test --from 2097152 "
		  "--to 1048576 --steps 2 --json", 0,
		  "{\"domain\": \"test\", \"steps\": [\n"
		  "    {\"step\": 0, \"memory_kib\": 2097152, \"actual_kib\": 2097152, "
		  "\"unused_kib\": 1048576, \"available_kib\": 2097152, "
		  "\"major_fault\": 0, \"minor_fault\": 0, \"swap_in_kib\": 0, "
		  "\"swap_out_kib\": 0},\n"
		  "    {\"step\": 1, \"memory_kib\": 1048576, \"actual_kib\": 1048576, "
		  "\"unused_kib\": 524288, \"available_kib\": 1048576, "
		  "\"major_fault\": 0, \"minor_fault\": 0, \"swap_in_kib\": 0, "
		  "\"swap_out_kib\": 0}\n"
		  "  ]}\n", NULL },
		{ "libvirt balloon --connect test:///default --domain test --from 2097152 "
		  "--to 9000000 --steps 2 --csv", 1, NULL,
		  "pflab libvirt: step 1: domain 'test': set memory to 9000000 KiB: " },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmd_result r = run_pflab("%s", cases[i].args);

		CU_ASSERT_EQUAL(r.status, cases[i].status);
		if (cases[i].out)
			CU_ASSERT_STRING_EQUAL(r.out, cases[i].out);
		if (cases[i].err)
			CU_ASSERT_PTR_NOT_NULL(strstr(r.err, cases[i].err));
		cmd_result_free(&r);
	}
}

/* ------------------------------------------------------------ fleet */

/*
 * pflab fleet on the test driver: every guest scenario of kvm.scenario
 * becomes a domain, started and read back as running, then skipped, saying
 * so; the sim scenarios are skipped as such. The definitions and trace
 * modules it kept are checked byte for byte where they matter.
 */
static void test_fleet_test_driver(void)
{
	const char *keep = abs_scratch("fleet");
	char path[PATH_MAX + 128];
	struct cmd_result r;
	unsigned char mod[64];
	FILE *f;
	size_t n;
	static const uint32_t want[12] = { 1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5 };

	CU_ASSERT_EQUAL_FATAL(mkdir(keep, 0777), 0);
	r = run_pflab("fleet --connect test:///default --scenarios tests/scenarios/kvm.scenario "
		      "--keep '%s'", keep);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out,
		"SKIP  kvm/belady-fifo-3: started as domain pflab-fleet-kvm-belady-fifo-3 (running); "
		"the TEST driver runs no guest: nothing to check\n"
		"SKIP  kvm/belady-fifo-4-uffd: started as domain pflab-fleet-kvm-belady-fifo-4-uffd "
		"(running); the TEST driver runs no guest: nothing to check\n"
		"SKIP  kvm/textbook-clock: started as domain pflab-fleet-kvm-textbook-clock (running); "
		"the TEST driver runs no guest: nothing to check\n"
		"SKIP  kvm/bad-guest-out-of-bounds: started as domain "
		"pflab-fleet-kvm-bad-guest-out-of-bounds (running); the TEST driver runs no guest: "
		"nothing to check\n"
		"SKIP  kvm/bad-guest-undefined-opcode: started as domain "
		"pflab-fleet-kvm-bad-guest-undefined-opcode (running); the TEST driver runs no guest: "
		"nothing to check\n"
		"SKIP  kvm/bad-guest-loops-forever: started as domain "
		"pflab-fleet-kvm-bad-guest-loops-forever (running); the TEST driver runs no guest: "
		"nothing to check\n"
		"fleet: 0 passed, 0 failed, 6 skipped (6 scenarios on test:///default)\n");
	cmd_result_free(&r);
	/* The trace module: the scenario's 12 references, one 32-bit word each. */
	snprintf(path, sizeof(path), "%s/pflab-fleet-kvm-belady-fifo-3.module", keep);
	f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(mod, 1, sizeof(mod), f);
	fclose(f);
	CU_ASSERT_EQUAL(n, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(mod, want, sizeof(want)), 0);
	/* The definition: the command line, the module, the plugin on the data region. */
	snprintf(path, sizeof(path), "%s/pflab-fleet-kvm-belady-fifo-3.xml", keep);
	{
		const char *xml = NULL;
		char *text;
		size_t len;

		f = fopen(path, "r");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		text = calloc(1, 8192);
		len = fread(text, 1, 8191, f);
		fclose(f);
		xml = text;
		CU_ASSERT(len > 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<cmdline>workload=trace pages=6</cmdline>"));
		CU_ASSERT_PTR_NOT_NULL(strstr(xml, "/pflab-fleet-kvm-belady-fifo-3.module</initrd>"));
		CU_ASSERT_PTR_NOT_NULL(strstr(xml, ",policy=fifo,frames=3,range=0x40000000-0x40006000,"
					      "results="));
		CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<memory unit='KiB'>1114112</memory>"));
		free(text);
	}
	if (have_validator()) {
		r = run_shell("for f in '%s'/*.xml; do virt-xml-validate \"$f\" domain || exit 1; done",
			      keep);
		CU_ASSERT_EQUAL(r.status, 0);
		cmd_result_free(&r);
	}
	/* JUnit XML: the same six, skipped, with their reasons. */
	snprintf(path, sizeof(path), "%s/fleet.junit.xml", keep);
	r = run_pflab("fleet --connect test:///default --scenarios tests/scenarios/kvm.scenario "
		      "--junit '%s'", path);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	r = run_shell("(grep -c '<skipped message=\"started as domain pflab-fleet-kvm-' '%s')", path);
	CU_ASSERT_STRING_EQUAL(r.out, "6\n");
	cmd_result_free(&r);
	/* The workload scenarios go by name, without a module; the plugin on the
	 * guest's default data region (32768 pages). */
	snprintf(path, sizeof(path), "%s/pflab-fleet-kvm-bad-guest-undefined-opcode.xml", keep);
	r = run_shell("(grep -c 'workload=bad-ud</cmdline>' '%s'; "
		      "grep -c 'policy=fifo,frames=3,range=0x40000000-0x48000000,' '%s'; "
		      "ls '%s' | grep -c module)", path, path, keep);
	CU_ASSERT_STRING_EQUAL(r.out, "1\n1\n3\n");
	cmd_result_free(&r);
}

static void test_fleet_refusals(void)
{
	struct cmd_result r;
	const char *dir = abs_scratch("fleet-bad");
	char path[PATH_MAX + 128];

	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0777), 0);
	/* A sim scenario is skipped; a guest scenario pflab cannot define fails, with the reason. */
	snprintf(path, sizeof(path), "%s/t.txt", dir);
	{
		FILE *f = fopen(path, "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("1\n2\n3\n", f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/a.scenario", dir);

	{
		FILE *f = fopen(path, "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("refs: 1 2 3 1\nframes: 2\n\nscenario sim-one\npolicy: lru\nexpect faults: 4\n\n"
		      "scenario a-trace-file\ncommand: run\ntrace: t.txt\nformat: txt\n"
		      "policy: fifo\nexpect faults: 3\n\n"
		      "scenario huge-page\ncommand: run\npolicy: fifo\nrefs: 1 9999999\n"
		      "expect faults: 2\n", f);
		fclose(f);
	}
	r = run_pflab("fleet --connect test:///default --scenarios '%s'", dir);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "SKIP  a/sim-one: a sim scenario: no guest to run"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "FAIL  a/a-trace-file ("));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "): no domain: a trace file: only refs: and workload: "
					     "go to a domain\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "FAIL  a/huge-page ("));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "): no domain: refs: '9999999': "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "fleet: 0 passed, 2 failed, 1 skipped (3 scenarios "
					     "on test:///default)\n"));
	cmd_result_free(&r);
	{
		static const char *const bad[][2] = {
			{ "fleet", "give --connect URI and --scenarios DIR" },
			{ "fleet --connect test:///default", "give --connect URI and --scenarios DIR" },
			{ "fleet --connect test:///default --scenarios /nonexistent",
			  "/nonexistent: No such file" },
			{ "fleet --connect test:///default --scenarios tests --timeout 0",
			  "pflab fleet: --timeout: '0' is out of range [1, 86400]\n" },
			{ "fleet --connect test:///default --scenarios tests", "tests: no *.scenario" },
			{ "fleet --connect test:///default --scenarios tests/scenarios --keep /nonexistent",
			  "--keep /nonexistent: " },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = run_pflab("%s", bad[i][0]);
			if (r.status != 2 || !strstr(r.err, bad[i][1])) {
				printf("\n'%s': status %d, stderr '%s'\n", bad[i][0], r.status, r.err);
				CU_FAIL("not refused");
			}
			cmd_result_free(&r);
		}
	}
	/* Writes go into the module with bit 31 set; the file's order is kept. */
	{
		FILE *f = fopen(path, "w");
		char kd[PATH_MAX + 200], mp[PATH_MAX + 300];
		uint32_t words[5] = { 0 };
		static const uint32_t want[4] = { 7, 0x80000002u, 0, 8 };
		size_t n;

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("scenario w\ncommand: run\npolicy: lru\nframes: 2\nrefs: 7 2w 0 8\n"
		      "expect faults: 3\n", f);
		fclose(f);
		snprintf(kd, sizeof(kd), "%s/keep", dir);
		CU_ASSERT_EQUAL_FATAL(mkdir(kd, 0777), 0);
		r = run_pflab("fleet --connect test:///default --scenarios '%s' --keep '%s'", path,
			      kd);
		CU_ASSERT_EQUAL(r.status, 0);
		cmd_result_free(&r);
		snprintf(mp, sizeof(mp), "%s/pflab-fleet-a-w.module", kd);
		f = fopen(mp, "rb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		n = fread(words, sizeof(words[0]), 5, f);
		fclose(f);
		CU_ASSERT_EQUAL(n, 4);
		CU_ASSERT_EQUAL(memcmp(words, want, sizeof(want)), 0);
		snprintf(mp, sizeof(mp), "%s/pflab-fleet-a-w.xml", kd);
		r = run_shell("grep -c 'workload=trace pages=9</cmdline>' '%s'", mp);
		CU_ASSERT_STRING_EQUAL(r.out, "1\n");
		cmd_result_free(&r);
	}
	/* A malformed scenario file: nothing runs, status 2, file:line. */

	{
		FILE *f = fopen(path, "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("scenario x\nframes: many\n", f);
		fclose(f);
	}
	r = run_pflab("fleet --connect test:///default --scenarios '%s'", dir);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "a.scenario:2: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab fleet: malformed scenarios (above): nothing "
					     "was run"));
	CU_ASSERT_STRING_EQUAL(r.out, "");
	cmd_result_free(&r);
	/* A URI libvirt cannot reach: a failure, with libvirt's reason. */
	r = run_pflab("fleet --connect nosuchdriver:///x --scenarios tests/scenarios/kvm.scenario");
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab fleet: cannot connect to nosuchdriver:///x: "));
	cmd_result_free(&r);
}

/* ------------------------------------------------------------ a real libvirtd */

/*
 * qemu:///system: a libvirtd already running is used and left alone; else,
 * as root with libvirt-daemon-system and qemu-system-x86 installed, the
 * test starts virtlogd and libvirtd itself (each with an idle timeout, in
 * case the test dies), and stops them by their pid files at the end.
 * Anything missing: skipped, saying what. PFLAB_NO_LIBVIRTD=1 skips it too.
 */
struct daemons {
	char dir[64];            /* the pid files */
	bool started;
};

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

static void stop_daemon(const struct daemons *dm, const char *name)
{
	char path[128];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s.pid", dm->dir, name);
	pid = read_pid(path);
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	/* A bound, not a timing assertion: then it is killed. */
	for (int i = 0; i < 200 && kill(pid, 0) == 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	if (kill(pid, 0) == 0)
		kill(pid, SIGKILL);
}

static void stop_daemons(struct daemons *dm)
{
	if (!dm->started)
		return;
	stop_daemon(dm, "libvirtd");
	stop_daemon(dm, "virtlogd");
	dm->started = false;
}

static struct pvirt *system_libvirt(struct daemons *dm)
{
	struct pvirt *v;
	struct cmd_result r;
	char err[600];

	if (getenv("PFLAB_NO_LIBVIRTD") && *getenv("PFLAB_NO_LIBVIRTD")) {
		test_skip("PFLAB_NO_LIBVIRTD is set: no boot through qemu:///system");
		return NULL;
	}
	r = run_shell("command -v qemu-system-x86_64");
	if (r.status != 0) {
		cmd_result_free(&r);
		test_skip("qemu-system-x86_64 not installed (qemu-system-x86)");
		return NULL;
	}
	cmd_result_free(&r);
	v = pvirt_open("qemu:///system", err, sizeof(err));
	if (v)
		return v; /* someone's libvirtd: used, not stopped */
	if (geteuid() != 0) {
		test_skip("no libvirtd running, and not root to start one");
		return NULL;
	}
	if (access("/usr/sbin/libvirtd", X_OK) != 0 || access("/usr/sbin/virtlogd", X_OK) != 0) {
		test_skip("no libvirtd running and none installed (libvirt-daemon-system, "
			  "libvirt-daemon-driver-qemu)");
		return NULL;
	}
	snprintf(dm->dir, sizeof(dm->dir), "/tmp/pflab-libvirtd-XXXXXX");
	if (!mkdtemp(dm->dir)) {
		test_skip("mkdtemp: %s", strerror(errno));
		return NULL;
	}
	dm->started = true;
	r = run_shell("/usr/sbin/virtlogd -d -t 120 -p '%s/virtlogd.pid' && "
		      "/usr/sbin/libvirtd -d -t 120 -p '%s/libvirtd.pid'", dm->dir, dm->dir);
	cmd_result_free(&r);
	/* libvirtd answers once it has probed QEMU: wait for it, bounded. */
	for (int i = 0; i < 600 && !v; i++) {
		v = pvirt_open("qemu:///system", err, sizeof(err));
		if (!v)
			nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	}
	if (!v) {
		stop_daemons(dm);
		test_skip("libvirtd did not start: %s", err);
	}
	return v;
}

/* The whole file into a string ("" if it cannot be read). */
static char *slurp_file(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Whether the guest image serves its hypercalls itself (guest/standalone.c). */
static bool guest_standalone(const char *path)
{
	struct cmd_result r = run_shell("grep -c -a 'pflab-exit status=' '%s'", path);
	bool yes = r.status == 0;

	cmd_result_free(&r);
	return yes;
}

/*
 * pflab's guest booted through a real libvirtd, under TCG with the plugin
 * in system mode: the domain ends by itself, its console's first line is
 * the guest's boot line, and the plugin's results file is complete, with
 * FIFO's faults at least the distinct pages and at most the references.
 */
static void test_system_boot(void)
{
	struct daemons dm = { .started = false };
	struct pvirt_config c = {
		.name = "pflab-test-boot", .memory_kib = 1179648, .vcpus = 1,
		.accel = PVIRT_TCG, .machine = "microvm", .debug_exit = true,
		.plugin_args = { "policy=fifo", "frames=4", NULL }, .nplugin_args = 3,
	};
	char dir[64] = "/tmp/pflab-libvirt-XXXXXX", guest[PATH_MAX], plugin[PATH_MAX];
	char path[PATH_MAX], console[128], results[160], rarg[200], err[600] = "", *xml;
	struct plugin_results res;
	struct pvirt *v;
	struct pvirt_dom *d;
	int ended, lock;

	/* Two test runs at once (make check beside make check SAN=1) take turns:
	 * one must not stop the daemon the other is using. */
	lock = open("/tmp/pflab-libvirtd.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (lock >= 0)
		flock(lock, LOCK_EX);
	v = system_libvirt(&dm);
	if (!v) {
		if (lock >= 0)
			close(lock);
		return;
	}
	snprintf(path, sizeof(path), "%s/guest/pflab-guest.elf", build_dir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(path, guest));
	snprintf(path, sizeof(path), "%s/libpflab-qemu.so", build_dir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(path, plugin));
	/* QEMU runs as libvirt's qemu user: it writes into a directory open to it. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	chmod(dir, 0777);
	snprintf(console, sizeof(console), "%s/console.log", dir);
	snprintf(results, sizeof(results), "%s/results", dir);
	snprintf(rarg, sizeof(rarg), "results=%s", results);
	c.kernel = guest;
	c.plugin = plugin;
	c.plugin_args[2] = rarg;
	c.serial_log = console;
	CU_ASSERT_EQUAL_FATAL(pvirt_xml(&c, &xml, err, sizeof(err)), 0);
	d = pvirt_start(v, xml, err, sizeof(err));
	free(xml);
	if (!d)
		printf("\n%s\n", err);
	CU_ASSERT_PTR_NOT_NULL(d);
	if (d) {
		CU_ASSERT_STRING_EQUAL(pvirt_driver(v), "QEMU");
		CU_ASSERT(!pvirt_runs_nothing(v));
		ended = pvirt_wait_end(d, 120ull * 1000000000, err, sizeof(err));
		CU_ASSERT_EQUAL(ended, 1);
		if (ended != 1)
			pvirt_destroy(d, err, sizeof(err));
		pvirt_dom_free(d);
		CU_ASSERT_EQUAL(strncmp(slurp_file(console), "pflab guest: long mode, entering ring 3\n",
					40), 0);
		xml = slurp_file(results);
		if (plugin_results_parse(xml, strlen(xml), &res, err, sizeof(err)) != 0) {
			printf("\nresults: %s\n", err);
			CU_FAIL("no complete results file");
		} else {
			CU_ASSERT(res.refs > 0);
			CU_ASSERT_EQUAL_FATAL(res.nruns, 1);
			CU_ASSERT_STRING_EQUAL(res.runs[0].policy->name, "fifo");
			CU_ASSERT_EQUAL(res.runs[0].frames, 4);
			CU_ASSERT(res.runs[0].st.faults >= res.pages);
			CU_ASSERT(res.runs[0].st.faults <= res.refs);
		}
	}
	/* pflab libvirt run through the same libvirtd: the domain ends, its
	 * console comes back as "guest| " lines. */
	{
		struct cmd_result r;
		char c2[128];

		snprintf(c2, sizeof(c2), "%s/run.console", dir);
		r = run_pflab("libvirt run --connect qemu:///system --name pflab-test-run "
			      "--kernel '%s' --serial '%s' --wait 120", guest, c2);
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "domain pflab-test-run: started on "
					      "qemu:///system (QEMU driver), "));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\ndomain pflab-test-run: ended\n"));
		CU_ASSERT_EQUAL(strncmp(r.err, "guest| pflab guest: long mode, entering ring 3\n",
					47), 0);
		cmd_result_free(&r);
		/* A guest that never ends is destroyed at --wait, and run fails. */
		if (guest_standalone(guest)) {
			r = run_pflab("libvirt run --connect qemu:///system --name pflab-test-loop "
				      "--kernel '%s' --cmdline workload=bad-loop --wait 2", guest);
			CU_ASSERT_EQUAL(r.status, 1);
			CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab libvirt: domain pflab-test-loop "
						      "still running after 2 s: destroyed\n"));
			cmd_result_free(&r);
		}
	}
	/* pflab fleet through the same libvirtd: a guest scenario whose console
	 * is checked (the boot line; the guest then ends by itself). */
	{
		char scn[128], lacks[128];
		FILE *f;
		struct cmd_result r;

		snprintf(scn, sizeof(scn), "%s/boot.scenario", dir);
		f = fopen(scn, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("command: run\nworkload: scan\n"
		      "expect guest: pflab guest: long mode, entering ring 3\n", f);
		fclose(f);
		r = run_pflab("fleet --connect qemu:///system --scenarios '%s' --timeout 120", scn);
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_STRING_EQUAL(r.out, "PASS  boot/boot\n"
				       "fleet: 1 passed, 0 failed, 0 skipped (1 scenarios on "
				       "qemu:///system)\n");
		cmd_result_free(&r);
		/* ... and one whose console cannot match fails, showing the console.
		 * Another scenario name, so another domain name: libvirtd may still
		 * be tearing the last transient domain down when the next fleet
		 * defines one (a CI run once failed here with the same name). */
		snprintf(lacks, sizeof(lacks), "%s/lacks.scenario", dir);
		f = fopen(lacks, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("command: run\nworkload: scan\nexpect guest: no such line\n", f);
		fclose(f);
		r = run_pflab("fleet --connect qemu:///system --scenarios '%s' --timeout 120", lacks);
		CU_ASSERT_EQUAL(r.status, 1);
		if (!strstr(r.out, "the guest's console lacks the line 'no such line'\n"))
			printf("\n  fleet, a line the console lacks: status %d\n%s%s\n", r.status,
			       r.out, r.err);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "the guest's console lacks the line 'no such "
					      "line'\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "pflab guest: long mode, entering ring 3\n"));
		cmd_result_free(&r);
		/* A guest image with the standalone mode (`pflab qemu`'s) replays a
		 * reference string from its module: the plugin's FIFO faults must be
		 * Belady's. Skipped, saying so, with a guest that has none. */
		if (!guest_standalone(guest)) {
			test_skip("the guest image has no standalone mode: no replay in a domain");
		} else {
			f = fopen(scn, "w");
			CU_ASSERT_PTR_NOT_NULL_FATAL(f);
			fputs("command: run\nrefs: 1 2 3 4 1 2 5 1 2 3 4 5\npolicy: fifo\n\n"
			      "scenario fifo-3\nframes: 3\nexpect faults: 9\n"
			      "expect fault-seq: 1 2 3 4 1 2 5 3 4\nexpect status: 0\n"
			      "expect guest: pflab guest: 12 references, 0 mismatches: data verified\n\n"
			      "scenario fifo-4\nframes: 4\nexpect faults: 10\n", f);
			fclose(f);
			r = run_pflab("fleet --connect qemu:///system --scenarios '%s' --guest '%s' "
				      "--timeout 120", scn, guest);
			CU_ASSERT_EQUAL(r.status, 0);
			CU_ASSERT_STRING_EQUAL(r.out, "PASS  boot/fifo-3: not checked on a domain: "
					       "status, fault-seq\nPASS  boot/fifo-4\n"
					       "fleet: 2 passed, 0 failed, 0 skipped (2 scenarios on "
					       "qemu:///system)\n");
			cmd_result_free(&r);
			/* A guest that never ends fails at --timeout, destroyed. */
			f = fopen(scn, "w");
			CU_ASSERT_PTR_NOT_NULL_FATAL(f);
			fputs("command: run\nworkload: bad-loop\nexpect guest: never\n", f);
			fclose(f);
			r = run_pflab("fleet --connect qemu:///system --scenarios '%s' --guest '%s' "
				      "--timeout 2", scn, guest);
			CU_ASSERT_EQUAL(r.status, 1);
			CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "): domain pflab-fleet-boot-boot still running "
						      "at its time limit: destroyed\n"));
			cmd_result_free(&r);
		}
	}
	pvirt_close(v);
	stop_daemons(&dm);
	{
		struct cmd_result r = run_shell("rm -rf '%s' '%s'", dir, dm.dir[0] ? dm.dir : dir);

		cmd_result_free(&r);
	}
	if (lock >= 0)
		close(lock);
}

/* ------------------------------------------------------------ pflab qemu --libvirt-xml */

/* The word after `flag` in --dry-run's output (one word a line), malloc'ed; NULL if absent. */
static char *dry_word(const char *out, const char *flag)
{
	char key[64], *end;
	const char *p;

	snprintf(key, sizeof(key), "\n%s\n", flag);
	p = strstr(out, key);
	if (!p)
		return NULL;
	p += strlen(key);
	end = strchr(p, '\n');
	return end ? strndup(p, (size_t)(end - p)) : NULL;
}

/* The text between `open` and `close` in xml, malloc'ed; NULL if absent. */
static char *xml_between(const char *xml, const char *open, const char *close)
{
	const char *p = strstr(xml, open), *e;

	if (!p)
		return NULL;
	p += strlen(open);
	e = strstr(p, close);
	return e ? strndup(p, (size_t)(e - p)) : NULL;
}

/* A -plugin option with its out= and results= words dropped (their paths differ by design). */
static char *without_paths(const char *opt, char **out_val)
{
	char *copy = strdup(opt), *rest = copy, *w, *res = calloc(1, strlen(opt) + 1);

	*out_val = NULL;
	while ((w = strsep(&rest, ","))) {
		if (!strncmp(w, "out=", 4)) {
			*out_val = strdup(w + 4);
			continue;
		}
		if (!strncmp(w, "results=", 8))
			continue;
		if (*res)
			strcat(res, ",");
		strcat(res, w);
	}
	free(copy);
	return res;
}

/*
 * One set of `pflab qemu` options, --dry-run against --libvirt-xml: the
 * kernel command line, the memory, the initrd and the plugin's option
 * (less the trace's and results' paths) are the same strings; the domain
 * validates and starts in the test driver.
 */
static void qemu_xml_matches(const char *opts, const char *want_kernel, const char *want_initrd)
{
	char xmlpath[PATH_MAX + 64], cap[PATH_MAX + 64], want[2 * PATH_MAX];
	struct cmd_result dry, r;
	char *xml, *a, *b, *pa, *pb, *oa = NULL, *ob = NULL, err[600] = "";
	unsigned long long mib = 0;
	struct pvirt *v;
	struct pvirt_dom *d;

	snprintf(xmlpath, sizeof(xmlpath), "%s", abs_scratch("qemu-domain.xml"));
	snprintf(cap, sizeof(cap), "%s", abs_scratch("qemu-cap.pft"));
	unlink(xmlpath);
	dry = run_pflab("qemu %s --out '%s' --dry-run", opts, cap);
	CU_ASSERT_EQUAL_FATAL(dry.status, 0);
	r = run_pflab("qemu %s --out '%s' --libvirt-xml '%s'", opts, cap, xmlpath);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	if (r.status)
		printf("\n%s\n", r.err);
	cmd_result_free(&r);
	xml = strdup(slurp_file(xmlpath));
	/* The capture is the domain's QEMU's to write: nothing of it yet. */
	CU_ASSERT_NOT_EQUAL(access(cap, F_OK), 0);
	/* The kernel command line, exactly. */
	a = dry_word(dry.out, "-append");
	b = xml_between(xml, "<cmdline>", "</cmdline>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
	/* The memory: -m NM is N * 1024 KiB. */
	a = dry_word(dry.out, "-m");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(sscanf(a, "%lluM", &mib), 1);
	snprintf(want, sizeof(want), "<memory unit='KiB'>%llu</memory>", mib * 1024);
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, want));
	free(a);
	/* The kernel: one that stays; the initrd, absolute. */
	snprintf(want, sizeof(want), "<kernel>%s</kernel>", want_kernel);
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, want));
	a = dry_word(dry.out, "-initrd");
	b = xml_between(xml, "<initrd>", "</initrd>");
	CU_ASSERT_EQUAL(!a, !want_initrd);
	CU_ASSERT_EQUAL(!b, !want_initrd);
	if (a && b && want_initrd) {
		CU_ASSERT_STRING_EQUAL(a, want_initrd);
		CU_ASSERT_STRING_EQUAL(b, want_initrd);
	}
	free(a);
	free(b);
	/* The plugin's option: equal but for the paths of the trace and the results. */
	a = dry_word(dry.out, "-plugin");
	b = xml_between(xml, "<qemu:arg value='-plugin'/>\n    <qemu:arg value='", "'/>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pa = without_paths(a, &oa);
	pb = without_paths(b, &ob);
	CU_ASSERT_STRING_EQUAL(pa, pb);
	CU_ASSERT_PTR_NOT_NULL(strstr(a, ",results="));
	CU_ASSERT_PTR_NULL(strstr(b, ",results="));
	CU_ASSERT_PTR_NOT_NULL(oa);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ob);
	CU_ASSERT_STRING_EQUAL(ob, cap);
	free(a), free(b), free(pa), free(pb), free(oa), free(ob);
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<domain type='qemu' "));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<qemu:arg value='isa-debug-exit,iobase=0xf4,iosize=4'/>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "machine='microvm'"));
	CU_ASSERT_PTR_NULL(strstr(xml, "<serial"));
	cmd_result_free(&dry);
	/* libvirt's schema accepts it... */
	if (have_validator()) {
		r = run_shell("virt-xml-validate '%s' domain", xmlpath);
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "validates"));
		cmd_result_free(&r);
	}
	/* ...and the test driver defines and starts it. */
	v = pvirt_open("test:///default", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	d = pvirt_start(v, xml, err, sizeof(err));
	if (!d)
		printf("\n%s\n", err);
	CU_ASSERT_PTR_NOT_NULL(d);
	if (d) {
		CU_ASSERT_STRING_EQUAL(pvirt_dom_name(d), "pflab-qemu");
		CU_ASSERT_STRING_EQUAL(pvirt_state(d, NULL, NULL, err, sizeof(err)), "running");
		CU_ASSERT_EQUAL(pvirt_destroy(d, err, sizeof(err)), 0);
		pvirt_dom_free(d);
	}
	pvirt_close(v);
	free(xml);
}

static void test_qemu_libvirt_xml(void)
{
	char guest[PATH_MAX], initrd[PATH_MAX], path[PATH_MAX + 64], opts[PATH_MAX + 200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/guest/pflab-guest.elf", build_dir());
	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(path, guest));
	qemu_xml_matches("--workload random --pages 64 --seed 5 --passes 3 --policy fifo,lru "
			 "--frames 4,8 --rw --kind store", guest, NULL);
	/* A Linux kernel with an initramfs as given. */
	snprintf(path, sizeof(path), "%s", abs_scratch("initrd.cpio"));
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("not really an archive\n", f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(path, initrd));
	snprintf(opts, sizeof(opts), "--kernel /bin/sh --initrd '%s' --append 'x=1 y=2' "
		 "--policy lru --frames 64 --memory 128", initrd);
	qemu_xml_matches(opts, "/bin/sh", initrd);
}

/* Under KVM: type='kvm', no plugin; a relative --qemu refused (libvirt resolves nothing). */
static void test_qemu_libvirt_xml_kvm(void)
{
	char xmlpath[PATH_MAX + 64];
	struct cmd_result r;
	const char *xml;

	snprintf(xmlpath, sizeof(xmlpath), "%s", abs_scratch("qemu-kvm.xml"));
	r = run_pflab("qemu --accel kvm --pages 16 --libvirt-xml '%s'", xmlpath);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	xml = slurp_file(xmlpath);
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<domain type='kvm' "));
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<cmdline>workload=scan pages=16 passes=2 seed=1 nops=0</cmdline>"));
	CU_ASSERT_PTR_NULL(strstr(xml, "-plugin"));
	CU_ASSERT_PTR_NULL(strstr(xml, "<cpu"));
	r = run_pflab("qemu --qemu /usr/bin/qemu-system-x86_64 --pages 16 --libvirt-xml '%s'", xmlpath);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	CU_ASSERT_PTR_NOT_NULL(strstr(slurp_file(xmlpath),
				      "<emulator>/usr/bin/qemu-system-x86_64</emulator>"));
}

/* The guest image the domain names must be pflab's own: missing or stale is refused. */
static void test_qemu_libvirt_xml_image(void)
{
	char dir[PATH_MAX + 64];
	struct cmd_result r;

	snprintf(dir, sizeof(dir), "%s", abs_scratch("copy"));
	r = run_shell("mkdir -p '%s/guest' && cp '%s' '%s/pflab'", dir, pflab_path(), dir);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	cmd_result_free(&r);
	r = run_shell("'%s/pflab' qemu --accel kvm --libvirt-xml '%s/d.xml'", dir, dir);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "/guest/pflab-guest.elf: missing or unreadable"));
	cmd_result_free(&r);
	r = run_shell("cp '%s/guest/pflab-guest.elf' '%s/guest/' && echo x >> '%s/guest/pflab-guest.elf' "
		      "&& '%s/pflab' qemu --accel kvm --libvirt-xml '%s/d.xml'", build_dir(), dir, dir,
		      dir, dir);
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "/guest/pflab-guest.elf is not pflab's guest image"));
	cmd_result_free(&r);
	r = run_shell("cp '%s/guest/pflab-guest.elf' '%s/guest/' && '%s/pflab' qemu --accel kvm "
		      "--libvirt-xml '%s/d.xml'", build_dir(), dir, dir, dir);
	CU_ASSERT_EQUAL(r.status, 0);
	cmd_result_free(&r);
	CU_ASSERT_EQUAL(access(strcat(dir, "/d.xml"), R_OK), 0);
}

/* Bad combinations: one line, status 2, an existing FILE left as it was. */
static void test_qemu_libvirt_xml_refused(void)
{
	char xmlpath[PATH_MAX + 64];
	static const char *const bad[][2] = {
		{ "--dry-run", "runs nothing" },
		{ "--timeout 5s", "runs nothing" },
		{ "--quiet", "runs nothing" },
		{ "--policy lru --frames 4 --csv", "runs nothing" },
		{ "--trace tests/data/belady.txt", "--libvirt-xml with --trace" },
		{ "--kernel /bin/sh --script tools/qemu-linux-workload", "--libvirt-xml with --script" },
		{ "--qemu qemu-system-x86_64", "absolute path" },
		{ "--policy nope --frames 4", "unknown policy" },
		{ "--accel kvm --out x.pft", "need --accel tcg" },
	};
	struct cmd_result r;

	snprintf(xmlpath, sizeof(xmlpath), "%s", abs_scratch("qemu-keep.xml"));
	{
		FILE *f = fopen(xmlpath, "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("<old/>\n", f);
		fclose(f);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = run_pflab("qemu %s --libvirt-xml '%s'", bad[i][0], xmlpath);
		if (r.status != 2 || !strstr(r.err, bad[i][1]) || strncmp(r.err, "pflab qemu: ", 12) ||
		    strchr(r.err, '\n') != r.err + strlen(r.err) - 1) {
			printf("\n'%s': status %d, stderr '%s'\n", bad[i][0], r.status, r.err);
			CU_FAIL("not refused with one line");
		}
		cmd_result_free(&r);
	}
	CU_ASSERT_STRING_EQUAL(slurp_file(xmlpath), "<old/>\n");
	/* Not a regular file: a directory, a device. */
	r = run_pflab("qemu --libvirt-xml '%s'", abs_scratch(""));
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "not a regular file"));
	cmd_result_free(&r);
	r = run_pflab("qemu --libvirt-xml /dev/null");
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "pflab qemu: --libvirt-xml /dev/null: not a regular file"));
	cmd_result_free(&r);
	/* No temporary file left beside it. */
	r = run_shell("(ls -A '%s' | grep -c 'qemu-keep')", abs_scratch(""));
	CU_ASSERT_STRING_EQUAL(r.out, "1\n");
	if (strcmp(r.out, "1\n"))
		printf("\n[%s] [%s]\n", r.out, r.err);
	cmd_result_free(&r);
}

static CU_TestInfo libvirt_tests[] = {
	{ "the domain XML, golden", test_xml_golden },
	{ "the domain XML: KVM, q35, a balloon", test_xml_balloon_kvm },
	{ "the domain XML: bad configs refused", test_xml_refused },
	{ "virt-xml-validate accepts it", test_xml_validates },
	{ "started in the test driver, read back", test_test_driver_start },
	{ "balloon sweep sizes", test_sweep_sizes },
	{ "balloon against the test driver's stats", test_balloon_test_driver },
	{ "memory stats decoded by tag; which states are an end", test_memstats_decode },
	{ "pflab libvirt xml, refusals", test_cli_xml },
	{ "pflab libvirt run and balloon on the test driver", test_cli_run_and_balloon },
	{ "pflab fleet on the test driver: a domain per guest scenario", test_fleet_test_driver },
	{ "pflab qemu --libvirt-xml: the --dry-run machine, validated, started", test_qemu_libvirt_xml },
	{ "pflab qemu --libvirt-xml under KVM, with --qemu", test_qemu_libvirt_xml_kvm },
	{ "pflab qemu --libvirt-xml: bad combinations refused", test_qemu_libvirt_xml_refused },
	{ "pflab qemu --libvirt-xml: a missing or stale guest image refused", test_qemu_libvirt_xml_image },
	{ "pflab fleet: refusals and failures", test_fleet_refusals },
	{ "the guest booted through qemu:///system, its console and plugin results read",
	  test_system_boot },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("libvirt", libvirt_tests);
