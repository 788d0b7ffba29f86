/* SPDX-License-Identifier: MIT */
/*
 * Running qemu-system-x86_64 (an argv from qemu_cmd.h) with its serial
 * console on its standard output: read line by line, each line echoed with
 * a prefix, the guest's "pflab-exit" line (qemu_guest.h) picked out. QEMU's
 * standard input is /dev/null (a terminal is never put in raw mode); its
 * standard error is the caller's.
 */
#ifndef PFLAB_QEMU_RUN_H
#define PFLAB_QEMU_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "qemu_guest.h"

#define QEMU_RUN_NOEXEC 127      /* the status when QEMU could not be executed */
#define QEMU_RUN_MAX_LINE 4096   /* a longer console line is echoed in pieces */

struct qemu_run_result {
	int status;              /* 0-255, or 128 + N when killed by signal N */
	bool exit_seen;          /* the guest's "pflab-exit" line was seen... */
	struct qemu_guest_exit exit; /* ...and said this */
	unsigned long lines;     /* console lines read */
	bool timed_out;          /* killed (SIGKILL) at the deadline */
};

/*
 * Run argv to its end. echo (NULL: nowhere) gets every console line after
 * prefix. If *interrupted becomes nonzero (the caller's signal handler
 * sets it to a signal number), that signal is sent to QEMU, once, and the
 * run waits for QEMU to end. QEMU still running timeout_ms after its start
 * (0: no limit) is killed (SIGKILL). 0, or -1 with errno if QEMU could not
 * be started at all.
 */
int qemu_run(char *const *argv, FILE *echo, const char *prefix,
	     const volatile sig_atomic_t *interrupted, uint64_t timeout_ms,
	     struct qemu_run_result *r);

/*
 * What became of the guest, from r: 0 if it exited through isa-debug-exit
 * with status 0, saying so; else a reason in why (its status, a crash, a
 * reboot, QEMU's failure) and -1.
 */
int qemu_run_verdict(const struct qemu_run_result *r, char *why, size_t len);

#endif /* PFLAB_QEMU_RUN_H */
