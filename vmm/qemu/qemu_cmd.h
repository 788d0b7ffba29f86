/* SPDX-License-Identifier: MIT */
/*
 * The qemu-system-x86_64 command line of `pflab qemu` (docs/qemu.md): a
 * configuration in, an argv out, so that every way of starting the guest
 * (pflab qemu itself, a libvirt domain's <qemu:commandline>) starts the
 * same machine. No I/O: the caller runs it.
 *
 *   qemu-system-x86_64 -M microvm -accel tcg|kvm [-cpu host,-arch-capabilities]
 *       -m MIB -smp 1 -nodefaults -no-user-config -display none -no-reboot
 *       -serial SERIAL -device isa-debug-exit,iobase=0xf4,iosize=4
 *       -kernel IMAGE [-initrd FILE] [-append LINE] [-plugin SO,key=value,...]
 */
#ifndef PFLAB_QEMU_CMD_H
#define PFLAB_QEMU_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum qemu_accel {
	QEMU_ACCEL_TCG,   /* every access seen by a plugin */
	QEMU_ACCEL_KVM,   /* no plugin: QEMU's plugins are TCG's */
};

/* isa-debug-exit's port: a guest's write of S there ends QEMU with status 2S+1. */
#define QEMU_DEBUG_EXIT_PORT 0xf4

struct qemu_sys_config {
	const char *qemu;      /* the binary; NULL: qemu-system-x86_64 */
	enum qemu_accel accel;
	const char *kernel;    /* pflab's guest ELF (PVH) or a Linux bzImage */
	const char *initrd;    /* NULL: none (pflab's guest: the trace module) */
	const char *append;    /* the boot command line; NULL: none */
	uint32_t memory_mib;   /* guest RAM, 1 to QEMU_SYS_MAX_MIB */
	const char *plugin;    /* "SO,key=value,..." (qemu_plugin_option()); NULL: none */
	const char *serial;    /* -serial's character device; NULL: stdio */
};

#define QEMU_SYS_MAX_MIB (3u * 1024)   /* microvm's RAM below 4 GiB */

/*
 * A NULL-terminated argv for c, every string malloc'ed (free it with
 * qemu_argv_free()). NULL with the reason in err: no kernel, a memory size
 * out of range, a plugin under KVM, or out of memory.
 */
char **qemu_sys_argv(const struct qemu_sys_config *c, char *err, size_t errlen);
void qemu_argv_free(char **argv);

/*
 * "SO,k=v,k=v" for -plugin from n "key=value" strings, a comma inside a
 * value doubled (QEMU's option syntax). malloc'ed; NULL if out of memory.
 */
char *qemu_plugin_option(const char *so, char *const *kv, int n);

#endif /* PFLAB_QEMU_CMD_H */
