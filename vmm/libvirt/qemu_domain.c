// SPDX-License-Identifier: MIT
/*
 * The libvirt domain of `pflab qemu`'s machine (pvirt.h, docs/qemu.md):
 * a qemu_sys_config (vmm/qemu/qemu_cmd.h, the machine `pflab qemu` runs)
 * mapped field by field onto a pvirt_config, so that the domain boots the
 * same kernel with the same command line, module, memory, accelerator and
 * plugin arguments. What QEMU's argv has that a domain says otherwise:
 * -M microvm is <type machine='microvm'>, -smp 1 is <vcpu>1, -m is
 * <memory>, -device isa-debug-exit and -plugin go through
 * <qemu:commandline>; -serial stdio has no domain equivalent (the console
 * is not kept); -nodefaults, -no-user-config, -display none are libvirt's
 * own; -no-reboot is <on_reboot>destroy.
 */
#include <stdio.h>
#include <string.h>

#include "pvirt.h"
#include "qemu_cmd.h"

static bool absolute(const char *p)
{
	return p && p[0] == '/';
}

int pvirt_from_qemu(const struct qemu_sys_config *q, const char *name, const char *plugin_so,
		    char *const *plugin_kv, size_t nkv, struct pvirt_config *c, char *err,
		    size_t errlen)
{
	const char *bad = !absolute(q->kernel) ? q->kernel
			: q->initrd && !absolute(q->initrd) ? q->initrd
			: q->qemu && !absolute(q->qemu) ? q->qemu
			: plugin_so && !absolute(plugin_so) ? plugin_so : NULL;

	if (bad || !q->kernel) {
		snprintf(err, errlen, "'%s': the domain needs an absolute path (libvirt resolves "
			 "nothing)", q->kernel ? bad : "");
		return -1;
	}
	if (nkv > PVIRT_MAX_PLUGIN_ARGS || (nkv && !plugin_so)) {
		snprintf(err, errlen, "plugin arguments: at most %d, and with a plugin",
			 PVIRT_MAX_PLUGIN_ARGS);
		return -1;
	}
	if (plugin_so && q->accel != QEMU_ACCEL_TCG) {
		snprintf(err, errlen, "a TCG plugin needs --accel tcg");
		return -1;
	}
	*c = (struct pvirt_config){
		.name = name,
		.kernel = q->kernel,
		.initrd = q->initrd,
		.cmdline = q->append,
		.memory_kib = (uint64_t)q->memory_mib * 1024,
		.vcpus = 1,
		.accel = q->accel == QEMU_ACCEL_KVM ? PVIRT_KVM : PVIRT_TCG,
		.machine = "microvm",
		.emulator = q->qemu,
		.plugin = plugin_so,
		.nplugin_args = nkv,
		.debug_exit = true,
	};
	for (size_t i = 0; i < nkv; i++)
		c->plugin_args[i] = plugin_kv[i];
	return 0;
}
