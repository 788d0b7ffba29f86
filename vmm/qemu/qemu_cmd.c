// SPDX-License-Identifier: MIT
/*
 * The qemu-system-x86_64 command line of `pflab qemu`: qemu_cmd.h says
 * which. One machine for pflab's guest and for a Linux kernel: QEMU's
 * microvm (docs/system/i386/microvm.rst in QEMU): no PCI, no firmware
 * tables to speak of, an ISA serial port, boots a PVH ELF or a bzImage
 * from -kernel. Under KVM on this host `-cpu host` alone is refused
 * (the nested CPU reports an arch-capabilities MSR KVM cannot set), hence
 * host,-arch-capabilities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_cmd.h"

#define MAX_ARGV 40

struct argv_builder {
	char **v;
	int n;
	bool failed;
};

static void push(struct argv_builder *b, const char *s)
{
	char *copy;

	if (b->failed)
		return;
	copy = strdup(s);
	if (!copy || b->n >= MAX_ARGV - 1) {
		free(copy);
		b->failed = true;
		return;
	}
	b->v[b->n++] = copy;
}

void qemu_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

char **qemu_sys_argv(const struct qemu_sys_config *c, char *err, size_t errlen)
{
	struct argv_builder b = { .v = calloc(MAX_ARGV, sizeof(char *)) };
	char num[64];

	if (!c->kernel || !*c->kernel) {
		snprintf(err, errlen, "no kernel image given");
		goto fail;
	}
	if (c->memory_mib == 0 || c->memory_mib > QEMU_SYS_MAX_MIB) {
		snprintf(err, errlen, "guest memory of %u MiB: give 1 to %u", c->memory_mib,
			 QEMU_SYS_MAX_MIB);
		goto fail;
	}
	if (c->plugin && c->accel != QEMU_ACCEL_TCG) {
		snprintf(err, errlen, "a TCG plugin needs --accel tcg (KVM runs the guest natively, "
			 "no access is seen)");
		goto fail;
	}
	if (!b.v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	push(&b, c->qemu ? c->qemu : "qemu-system-x86_64");
	push(&b, "-M");
	push(&b, "microvm");
	push(&b, "-accel");
	push(&b, c->accel == QEMU_ACCEL_KVM ? "kvm" : "tcg");
	if (c->accel == QEMU_ACCEL_KVM) {
		push(&b, "-cpu");
		push(&b, "host,-arch-capabilities");
	}
	snprintf(num, sizeof(num), "%uM", c->memory_mib);
	push(&b, "-m");
	push(&b, num);
	push(&b, "-smp");
	push(&b, "1");
	push(&b, "-nodefaults");
	push(&b, "-no-user-config");
	push(&b, "-display");
	push(&b, "none");
	push(&b, "-no-reboot");
	push(&b, "-serial");
	push(&b, c->serial ? c->serial : "stdio");
	push(&b, "-device");
	snprintf(num, sizeof(num), "isa-debug-exit,iobase=%#x,iosize=4", QEMU_DEBUG_EXIT_PORT);
	push(&b, num);
	push(&b, "-kernel");
	push(&b, c->kernel);
	if (c->initrd) {
		push(&b, "-initrd");
		push(&b, c->initrd);
	}
	if (c->append) {
		push(&b, "-append");
		push(&b, c->append);
	}
	if (c->plugin) {
		push(&b, "-plugin");
		push(&b, c->plugin);
	}
	if (!b.failed)
		return b.v;
	snprintf(err, errlen, "out of memory");
fail:
	qemu_argv_free(b.v);
	return NULL;
}

char *qemu_plugin_option(const char *so, char *const *kv, int n)
{
	size_t len = strlen(so) + 1;
	char *s, *p;

	for (int i = 0; i < n; i++)
		len += 2 * strlen(kv[i]) + 1;
	s = p = malloc(len);
	if (!s)
		return NULL;
	p = stpcpy(p, so);
	for (int i = 0; i < n; i++) {
		*p++ = ',';
		for (const char *q = kv[i]; *q; q++) {
			*p++ = *q;
			if (*q == ',')
				*p++ = ',';
		}
	}
	*p = '\0';
	return s;
}
