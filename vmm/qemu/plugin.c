// SPDX-License-Identifier: MIT
/*
 * pflab's QEMU TCG plugin (API version 1, QEMU 7.2): every guest load and
 * store (and, with kind=all or kind=fetch, every instruction fetch) becomes
 * a page reference handed to plugin_sink.c. Under qemu-user the page is the
 * virtual address's; under qemu-system the guest-physical address's (the
 * hwaddr of the access; accesses to I/O are not memory and are skipped).
 * docs/qemu.md describes its arguments.
 *
 * QEMU calls the translation callback with no user data, so the plugin's
 * one context is a file-scope variable: the only one, set at install.
 * Callbacks may come from several vCPU threads at once (a multi-threaded
 * program under qemu-user): a mutex serialises them, and the atexit
 * callback detaches the sink under it so that a late access finds none.
 *
 * Under qemu-user the program shares QEMU's file descriptors, and many
 * close their standard error as they exit (coreutils do), before the
 * atexit callback runs: the plugin says what it has to say on a copy of
 * standard error taken at install, above the descriptors a program uses.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "plugin_args.h"
#include "plugin_sink.h"
#include "qemu_plugin_api.h"

PFLAB_QEMU_EXPORT int qemu_plugin_version = PFLAB_QEMU_PLUGIN_API;

struct plugin {
	pthread_mutex_t lock;
	struct plugin_sink *sink;  /* NULL once finished */
	bool system;               /* qemu-system: physical addresses */
	unsigned kinds;
	struct plugin_args args;
	FILE *log;                 /* a copy of standard error */
};

static struct plugin the_plugin = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void plugin_access(struct plugin *p, uint64_t addr, uint32_t size, enum access_kind kind)
{
	pthread_mutex_lock(&p->lock);
	if (p->sink)
		plugin_sink_access(p->sink, addr, size, kind);
	pthread_mutex_unlock(&p->lock);
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
	struct plugin *p = udata;
	uint32_t size = 1u << qemu_plugin_mem_size_shift(info);
	enum access_kind kind = qemu_plugin_mem_is_store(info) ? ACCESS_WRITE : ACCESS_READ;
	uint64_t addr = vaddr;

	(void)vcpu;
	if (p->system) {
		struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);

		if (!hw || qemu_plugin_hwaddr_is_io(hw))
			return;
		addr = qemu_plugin_hwaddr_phys_addr(hw);
	}
	plugin_access(p, addr, size, kind);
}

/* A fetch's user data packs the instruction's address (below 2^56 under
 * qemu-user's x86-64) and its size (at most 15 bytes) above it. */
#define FETCH_SIZE_SHIFT 56

static void on_fetch(unsigned int vcpu, void *udata)
{
	uint64_t v = (uint64_t)(uintptr_t)udata;

	(void)vcpu;
	plugin_access(&the_plugin, v & ((1ull << FETCH_SIZE_SHIFT) - 1), (uint32_t)(v >> FETCH_SIZE_SHIFT),
	       ACCESS_FETCH);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct plugin *p = &the_plugin;
	size_t n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (p->kinds & PLUGIN_FETCH) {
			uint64_t va = qemu_plugin_insn_vaddr(insn), size = qemu_plugin_insn_size(insn);

			if (va >> FETCH_SIZE_SHIFT == 0 && size < 256)
				qemu_plugin_register_vcpu_insn_exec_cb(
					insn, on_fetch, QEMU_PLUGIN_CB_NO_REGS,
					(void *)(uintptr_t)(va | size << FETCH_SIZE_SHIFT));
		}
		if (p->kinds & (PLUGIN_LOAD | PLUGIN_STORE))
			/* Both kinds, filtered by the sink: registered for
			 * loads alone (QEMU_PLUGIN_MEM_R), Debian's QEMU 7.2
			 * reported none (tests/test_qemu.c, kind=load). */
			qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS,
							 QEMU_PLUGIN_MEM_RW, p);
	}
}

static void on_atexit(qemu_plugin_id_t id, void *udata)
{
	struct plugin *p = udata;
	struct plugin_sink *s;
	char err[512];

	(void)id;
	pthread_mutex_lock(&p->lock);
	s = p->sink;
	p->sink = NULL;
	pthread_mutex_unlock(&p->lock);
	if (s && plugin_sink_finish(s, p->log, err, sizeof(err)) != 0)
		fprintf(p->log, "pflab plugin: %s\n", err);
	fflush(p->log);
}

PFLAB_QEMU_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
					  char **argv)
{
	struct plugin *p = &the_plugin;
	char err[512];
	int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 512);

	p->log = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!p->log)
		p->log = stderr;
	if (plugin_args_parse(argc, argv, &p->args, err, sizeof(err)) != 0) {
		fprintf(stderr, "pflab plugin: %s\n", err);
		return -1;
	}
	p->system = info->system_emulation;
	p->kinds = p->args.kinds;
	if (p->system && (p->kinds & PLUGIN_FETCH)) {
		fprintf(stderr, "pflab plugin: kind=%s: instruction fetches are seen under qemu-user "
			"only (QEMU 7.2 gives no physical address for them)\n",
			p->kinds == PLUGIN_FETCH ? "fetch" : "all");
		return -1;
	}
	p->sink = plugin_sink_create(&p->args, err, sizeof(err));
	if (!p->sink) {
		fprintf(stderr, "pflab plugin: %s\n", err);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_atexit, p);
	return 0;
}
