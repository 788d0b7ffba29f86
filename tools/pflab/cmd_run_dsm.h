/* SPDX-License-Identifier: MIT */
/* pflab run's DSM options (--dsm, --node, --nodes, --dsm-timeout) and its
 * DSM result row: cmd_run_dsm.c, docs/external-pager.md. */
#ifndef PFLAB_CMD_RUN_DSM_H
#define PFLAB_CMD_RUN_DSM_H

#include <stdbool.h>

#include "vmm.h"

enum run_dsm_opt { RUN_DSM_ADDR, RUN_DSM_NODE, RUN_DSM_NODES, RUN_DSM_TIMEOUT };

#define RUN_DSM_HELP                                                                       \
	"      --dsm ADDR         share the data region with other pflab runs through the\n" \
	"                         DSM manager of `pflab pager --listen ADDR` (Ivy's\n"        \
	"                         write-invalidate protocol); with a dsm-* workload:\n"       \
	"                         dsm-sc dsm-counter dsm-false dsm-apart\n"                   \
	"                         (docs/external-pager.md#distributed-shared-memory)\n"      \
	"      --node I           this run's node number, 0..N-1 (default 0)\n"               \
	"      --nodes N          how many nodes share the region (default 2, at most 32)\n"  \
	"      --dsm-timeout D    give up on the manager after D without an answer\n"         \
	"                         (default 5s): the access fails, never reads zeros\n"

/* One option's argument into vm. 0, or EXIT_USAGE after the message. */
int run_dsm_option(enum run_dsm_opt opt, const char *arg, struct vmm_config *vm);
/* After every option: the DSM's rules. pages_given and frames_given: the
 * user's --pages and --frames. 0, or EXIT_USAGE after the message. */
int run_dsm_check(struct vmm_config *vm, bool pages_given, bool frames_given);
/* The DSM row: as_csv, as_json, or text. */
void run_dsm_print(int output, const struct vmm_config *vm, const struct vmm_result *r);

#endif /* PFLAB_CMD_RUN_DSM_H */
