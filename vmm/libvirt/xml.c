// SPDX-License-Identifier: MIT
/*
 * A libvirt domain definition for a pflab guest (pvirt.h). The format is
 * libvirt's "Domain XML format" (https://libvirt.org/formatdomain.html) and
 * its QEMU namespace for command-line passthrough
 * (https://libvirt.org/kbase/qemu-passthrough-security.html): libvirt has no
 * element for a TCG plugin or for isa-debug-exit, so both go to QEMU as
 * <qemu:arg> words. For microvm, which has no PCI bus, the devices libvirt
 * would add on one (a USB controller, a memory balloon) are turned off.
 * Every text is escaped for XML; a comma in the plugin's path or in one of
 * its values is doubled, as QEMU's option syntax wants.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "pvirt.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
#define MAX_VCPUS 64u

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -1;
}

static bool name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *s))
			return false;
	return true;
}

/* Control characters cannot be written in XML 1.0 at all. */
static bool text_ok(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
	return true;
}

static int check(const struct pvirt_config *c, char *err, size_t errlen)
{
	const char *texts[] = { c->kernel, c->initrd, c->cmdline, c->machine, c->emulator,
				c->plugin, c->serial_log };

	if (!name_ok(c->name))
		return fail(err, errlen, "domain name '%s': use letters, digits, '-', '_' and '.' "
			    "(1 to 200)", c->name ? c->name : "");
	if (!c->kernel || c->kernel[0] != '/')
		return fail(err, errlen, "kernel '%s': an absolute path is needed (libvirt "
			    "resolves nothing)", c->kernel ? c->kernel : "");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!text_ok(texts[i]))
			return fail(err, errlen, "'%s': a control character cannot go into XML",
				    texts[i]);
	for (size_t i = 0; i < c->nplugin_args; i++)
		if (!text_ok(c->plugin_args[i]) || !strchr(c->plugin_args[i], '='))
			return fail(err, errlen, "plugin argument '%s': expected key=value",
				    c->plugin_args[i]);
	if (c->nplugin_args > PVIRT_MAX_PLUGIN_ARGS)
		return fail(err, errlen, "%s", "too many plugin arguments");
	if (c->nplugin_args && !c->plugin)
		return fail(err, errlen, "%s", "plugin arguments without a plugin");
	if (c->memory_kib == 0 || c->memory_kib > (1ull << 40))
		return fail(err, errlen, "%s", "memory: 1 KiB to 1 PiB");
	if (c->current_kib > c->memory_kib)
		return fail(err, errlen, "%s", "current memory above the domain's memory");
	if (c->vcpus < 1 || c->vcpus > MAX_VCPUS)
		return fail(err, errlen, "%s", "vcpus: 1 to 64");
	if (!c->machine || !*c->machine)
		return fail(err, errlen, "%s", "a machine type is needed (microvm for pflab's guest)");
	if (c->balloon && !strcmp(c->machine, "microvm"))
		return fail(err, errlen, "%s", "a virtio balloon needs a PCI bus, which microvm "
			    "has not (libvirt plugs its balloon into PCI): use q35 or pc");
	return 0;
}

/* s with &, <, >, ' and " escaped. */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* s escaped for XML with every comma doubled (QEMU's option syntax). */
static void put_opt(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == ',')
			fputc(',', f);
		put_text(f, (char[]){ *s, '\0' });
	}
}

static void element(FILE *f, const char *indent, const char *tag, const char *text)
{
	if (!text)
		return;
	fprintf(f, "%s<%s>", indent, tag);
	put_text(f, text);
	fprintf(f, "</%s>\n", tag);
}

static void qemu_arg(FILE *f, const char *text)
{
	fputs("    <qemu:arg value='", f);
	put_text(f, text);
	fputs("'/>\n", f);
}

static void devices(FILE *f, const struct pvirt_config *c)
{
	bool microvm = !strcmp(c->machine, "microvm");

	fputs("  <devices>\n", f);
	element(f, "    ", "emulator", c->emulator);
	if (c->serial_log) {
		fputs("    <serial type='file'>\n      <source path='", f);
		put_text(f, c->serial_log);
		fputs("'/>\n      <target port='0'/>\n    </serial>\n", f);
	}
	if (microvm)
		fputs("    <controller type='usb' model='none'/>\n", f);
	if (c->balloon)
		fputs("    <memballoon model='virtio'>\n      <stats period='1'/>\n"
		      "    </memballoon>\n", f);
	else
		fputs("    <memballoon model='none'/>\n", f);
	fputs("  </devices>\n", f);
}

static void commandline(FILE *f, const struct pvirt_config *c)
{
	if (!c->plugin && !c->debug_exit)
		return;
	fputs("  <qemu:commandline>\n", f);
	if (c->plugin) {
		qemu_arg(f, "-plugin");
		fputs("    <qemu:arg value='", f);
		put_opt(f, c->plugin);
		for (size_t i = 0; i < c->nplugin_args; i++) {
			fputc(',', f);
			put_opt(f, c->plugin_args[i]);
		}
		fputs("'/>\n", f);
	}
	if (c->debug_exit) {
		qemu_arg(f, "-device");
		qemu_arg(f, "isa-debug-exit,iobase=0xf4,iosize=4");
	}
	fputs("  </qemu:commandline>\n", f);
}

static void domain(FILE *f, const struct pvirt_config *c)
{
	fprintf(f, "<domain type='%s' xmlns:qemu='" QEMU_NS "'>\n",
		c->accel == PVIRT_KVM ? "kvm" : "qemu");
	element(f, "  ", "name", c->name);
	fprintf(f, "  <memory unit='KiB'>%llu</memory>\n", (unsigned long long)c->memory_kib);
	fprintf(f, "  <currentMemory unit='KiB'>%llu</currentMemory>\n",
		(unsigned long long)(c->current_kib ? c->current_kib : c->memory_kib));
	fprintf(f, "  <vcpu>%u</vcpu>\n", c->vcpus);
	fputs("  <os>\n    <type arch='x86_64' machine='", f);
	put_text(f, c->machine);
	fputs("'>hvm</type>\n", f);
	element(f, "    ", "kernel", c->kernel);
	element(f, "    ", "initrd", c->initrd);
	element(f, "    ", "cmdline", c->cmdline);
	fputs("  </os>\n", f);
	/* The guest's end (isa-debug-exit, a triple fault) is the run's end. */
	fputs("  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n"
	      "  <on_crash>destroy</on_crash>\n", f);
	devices(f, c);
	commandline(f, c);
	fputs("</domain>\n", f);
}

int pvirt_xml(const struct pvirt_config *c, char **xml, char *err, size_t errlen)
{
	size_t len = 0;
	FILE *f;

	*xml = NULL;
	if (check(c, err, errlen) != 0)
		return -1;
	f = open_memstream(xml, &len);
	if (!f)
		return fail(err, errlen, "domain XML: %s", strerror(errno));
	domain(f, c);
	if (fclose(f) != 0 || !*xml) {
		free(*xml);
		*xml = NULL;
		return fail(err, errlen, "domain XML: %s", "out of memory");
	}
	return 0;
}

int pvirt_xml_write(const struct pvirt_config *c, const char *path, char *err, size_t errlen)
{
	struct outfile of;
	char *xml;
	FILE *f;

	if (pvirt_xml(c, &xml, err, errlen) != 0)
		return -1;
	f = outfile_fopen(&of, path, err, errlen);
	if (!f) {
		free(xml);
		return -1;
	}
	fputs(xml, f);
	free(xml);
	return outfile_fclose(&of, f, err, errlen);
}
