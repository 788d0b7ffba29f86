/* SPDX-License-Identifier: MIT */
/*
 * The results of simulated machines as `pflab sim` prints them: a table,
 * CSV or JSON, one row per (policy, frames). Shared by `pflab sim` and
 * `pflab capture`'s live mode, whose rows come from the QEMU plugin.
 */
#ifndef PFLAB_LAB_SIMTABLE_H
#define PFLAB_LAB_SIMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pager.h"

struct sim_row {
	const struct policy_ops *policy;
	uint32_t frames;
	struct pager_stats st;
	double seconds;         /* replay time, with timing */
};

enum sim_output { SIM_OUT_TABLE, SIM_OUT_CSV, SIM_OUT_JSON };

struct sim_table {
	const char *trace;      /* the trace's name (CSV and JSON) */
	const char *format;     /* its format's name (JSON) */
	uint32_t pages;         /* distinct pages (JSON) */
	uint64_t trace_writes;  /* write references (JSON) */
	bool timing;            /* seconds and refs/s columns */
	bool pool;              /* the free pool's columns */
	const struct sim_row *rows;
	size_t nrows;
};

void sim_table_print(FILE *out, const struct sim_table *t, enum sim_output how);

#endif /* PFLAB_LAB_SIMTABLE_H */
