/* SPDX-License-Identifier: MIT */
/*
 * The outputs of `pflab compare` (and of its --merge): results.csv,
 * results.json, the gnuplot figures and report.md, all written from one
 * table of rows that covers the whole matrix, failed cells included.
 */
#ifndef PFLAB_LAB_REPORT_H
#define PFLAB_LAB_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab_table.h"

/* Where OPT's rows, the baseline of the relative figure, come from. */
enum lab_opt_source {
	LAB_OPT_REQUESTED, /* opt was in --policy */
	LAB_OPT_ADDED,     /* run in addition, as the baseline */
	LAB_OPT_NONE,      /* --no-opt: no relative figure */
	LAB_OPT_MERGED,    /* --merge: whatever the partial results hold */
};

struct lab_matrix {
	char **traces;
	size_t ntraces;
	char **policies;
	size_t npolicies;
	const uint32_t *frames;   /* ascending */
	size_t nframes;
	const struct lab_table *rows; /* one per (trace, policy, frames), in any order */
	enum lab_opt_source opt;
};

/* What to write besides results.csv and results.json. */
struct lab_report_options {
	bool plots;   /* the figures, through gnuplot */
	bool report;  /* report.md */
};

/*
 * Write the outputs into dir (which exists). Returns 0, or -1 with a reason
 * in err when a file could not be written. A plotting failure (no gnuplot)
 * is not one: it is said on stderr and in report.md, and *plot_failed set.
 */
int lab_report_write(const struct lab_matrix *m, const char *dir,
		     const struct lab_report_options *opt, bool *plot_failed, char *err,
		     size_t errlen);

#endif /* PFLAB_LAB_REPORT_H */
