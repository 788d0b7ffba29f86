/* SPDX-License-Identifier: MIT */
/*
 * An initramfs for a Linux guest of `pflab qemu --kernel` (docs/qemu.md#a-linux-guest):
 * a static busybox, pflab's /init and the user's workload script, packed
 * by cpio (newc, the format the kernel unpacks; Debian's cpio package
 * writes it). /init mounts /proc, /sys and /dev, runs the script with its
 * output on the console, prints "pflab-exit status=S refs=0 errors=0"
 * (qemu_guest.h) with the script's status and writes S to isa-debug-exit
 * through /dev/port, so that QEMU exits with 2S+1.
 */
#ifndef PFLAB_QEMU_INITRAMFS_H
#define PFLAB_QEMU_INITRAMFS_H

#include <stddef.h>

/*
 * The kernel command line (before the user's --append): the console on
 * COM1, pflab's /init, a panic ends the run (a triple-fault reboot, and
 * QEMU runs with -no-reboot). microvm has no HPET or PM timer to calibrate
 * the TSC against; under a loaded TCG the PIT calibration failed and the
 * boot hung, so the TSC's rate and the delay loop are given (their values
 * matter to no count pflab takes).
 */
#define QEMU_LINUX_CMDLINE \
	"console=ttyS0 rdinit=/init panic=-1 reboot=t quiet tsc_early_khz=2000000 " \
	"lpj=4000000 no_timer_check"

/*
 * Build the initramfs at out (a new file) from the busybox binary and the
 * script, working in dir (an empty private directory the caller removes
 * afterwards); cpio is looked up in PATH unless cpio names it. 0, or -1
 * with the reason in err.
 */
int qemu_initramfs_build(const char *busybox, const char *script, const char *dir,
			 const char *cpio, const char *out, char *err, size_t errlen);

#endif /* PFLAB_QEMU_INITRAMFS_H */
