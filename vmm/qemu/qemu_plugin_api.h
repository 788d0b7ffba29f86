/* SPDX-License-Identifier: MIT */
/*
 * The part of QEMU's TCG plugin API (version 1, QEMU 7.2) that pflab's
 * plugin uses, declared here because Debian 12 ships QEMU without its
 * qemu-plugin.h. Written from the API as QEMU documents it
 * (docs/devel/tcg-plugins.rst and the comments of include/qemu/
 * qemu-plugin.h in QEMU 7.2): only the declarations pflab calls, in pflab's
 * own words. The types and the order of their members are the ABI and
 * follow QEMU's; the functions are resolved against the QEMU binary that
 * loads the plugin.
 */
#ifndef PFLAB_QEMU_PLUGIN_API_H
#define PFLAB_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The API level pflab was written against; QEMU 7.2 accepts 0 to 1. */
#define PFLAB_QEMU_PLUGIN_API 1

/* What QEMU tells a plugin when it loads it (valid during install only). */
typedef struct qemu_info_t {
	const char *target_name;   /* "x86_64", ... */
	struct {
		int min;           /* oldest API level this QEMU accepts */
		int cur;           /* its own level */
	} version;
	bool system_emulation;     /* false under qemu-user */
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

typedef uint64_t qemu_plugin_id_t;
/* Opaque description of one memory access, valid during its callback. */
typedef uint32_t qemu_plugin_meminfo_t;

struct qemu_plugin_tb;     /* a translation block being translated */
struct qemu_plugin_insn;   /* one of its instructions */
struct qemu_plugin_hwaddr; /* the physical side of an access (system mode) */

enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS, /* the callback reads no guest register */
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_mem_rw {
	QEMU_PLUGIN_MEM_R = 1,
	QEMU_PLUGIN_MEM_W,
	QEMU_PLUGIN_MEM_RW,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
					  uint64_t vaddr, void *userdata);

/* Called once per translated block: the place to instrument its instructions. */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
/* Called when QEMU exits normally (not on a fatal signal). */
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);

/* Called before each execution of the instruction. */
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags, void *userdata);
/* Called after each load and/or store the instruction makes. */
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
				      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw,
				      void *userdata);

/* log2 of the access's size in bytes. */
unsigned int qemu_plugin_mem_size_shift(qemu_plugin_meminfo_t info);
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);
/* System mode: the physical side of the access; NULL under qemu-user. */
struct qemu_plugin_hwaddr *qemu_plugin_get_hwaddr(qemu_plugin_meminfo_t info, uint64_t vaddr);
bool qemu_plugin_hwaddr_is_io(const struct qemu_plugin_hwaddr *haddr);
uint64_t qemu_plugin_hwaddr_phys_addr(const struct qemu_plugin_hwaddr *haddr);

#define PFLAB_QEMU_EXPORT __attribute__((visibility("default")))

#endif /* PFLAB_QEMU_PLUGIN_API_H */
