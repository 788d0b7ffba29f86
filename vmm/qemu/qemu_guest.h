/* SPDX-License-Identifier: MIT */
/*
 * pflab's guest on its own under qemu-system-x86_64 (guest/standalone.c,
 * docs/qemu.md#pflab-qemu): the host side of its small protocol.
 *   - the boot command line: "workload=NAME pages=N passes=N seed=N nops=N";
 *   - the trace, as the PVH module (-initrd): 32-bit references, the page
 *     number below PFLAB_REF_WRITE, the write bit on top;
 *   - the guest's last console line: "pflab-exit status=S refs=R errors=E",
 *     and S written to isa-debug-exit, so that QEMU exits with 2S+1;
 *   - the guest RAM it needs: the data region lies at 1 GiB.
 */
#ifndef PFLAB_QEMU_GUEST_H
#define PFLAB_QEMU_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qemu_guest_params {
	const char *workload;   /* a name of guest/abi.h's PFLAB_WORKLOAD_NAMES */
	uint32_t pages, passes, nops;
	uint64_t seed;
};

/* The guest's own status when it could not run what it was given. */
#define QEMU_GUEST_STATUS_BAD 3

struct qemu_guest_exit {
	uint32_t status;        /* 0 ok, 1 data mismatch, 2 page-in gave up, 3 bad set-up */
	uint64_t refs, errors;
};

/* The boot command line into buf: 0, or -1 if it does not fit. */
int qemu_guest_cmdline(const struct qemu_guest_params *p, char *buf, size_t len);

/* "0x40000000-END": the data region's bytes, for the plugin's range=. */
int qemu_guest_data_range(uint32_t pages, char *buf, size_t len);

/* Guest RAM in MiB for pages data pages and a module of module_bytes. */
uint32_t qemu_guest_memory_mib(uint32_t pages, uint64_t module_bytes);

/* True if line is a whole "pflab-exit ..." line; then *e holds it. */
bool qemu_guest_exit_parse(const char *line, struct qemu_guest_exit *e);

/*
 * Write n references (vref_t: page | VREF_WRITE, sim.h) to fd as the trace
 * module, little-endian. 0, or -1 with errno.
 */
int qemu_guest_module_write(int fd, const uint32_t *refs, size_t n);

#endif /* PFLAB_QEMU_GUEST_H */
