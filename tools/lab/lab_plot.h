/* SPDX-License-Identifier: MIT */
/*
 * Line plots through gnuplot (Debian's gnuplot-nox): a data file and a
 * script per figure, PNG (pngcairo where gnuplot has it, else libgd's png)
 * and SVG. pflab writes the script and runs gnuplot once for all figures,
 * so that the script stays beside the plots for a user to restyle.
 */
#ifndef PFLAB_LAB_PLOT_H
#define PFLAB_LAB_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct lab_series {
	const char *name;
	const double *y;  /* one per x; NAN: no point (a gap in the line) */
};

struct lab_plot {
	const char *title, *xlabel, *ylabel;
	const char *data_path;  /* the data file to write */
	const char *png_path;   /* either may be NULL */
	const char *svg_path;
	bool logx;              /* frames spanning decades read better on a log axis */
	bool points;            /* mark each x (few points) or draw lines only (a whole curve) */
	double ymin, ymax;      /* NAN: gnuplot's choice */
	size_t nx;
	const double *x;
	size_t nseries;
	const struct lab_series *series;
};

/* The figures a script draws, to be completed by lab_plot_run(). */
struct lab_plot_outputs {
	char **path;
	size_t n;
};

/* Begin a script: the terminal choice shared by every figure in it. */
void lab_plot_begin(FILE *script);
/*
 * Write p's data file and its commands to script, and add its figures to
 * outs. 0, or -1 with a reason.
 */
int lab_plot_add(FILE *script, struct lab_plot_outputs *outs, const struct lab_plot *p,
		 char *err, size_t errlen);
/*
 * Run gnuplot on script_path, its messages to log_path (named in an error
 * only where keep_log says the log outlives the call). gnuplot writes each
 * figure of outs to a temporary name beside it; a figure is renamed into
 * place only if gnuplot succeeded and the file is complete (a PNG ending in
 * its IEND chunk, an SVG in </svg>): gnuplot exits 0 on a full disk. 0, or
 * -1 with the reason in err, every temporary file removed and no figure
 * replaced.
 */
int lab_plot_run(const char *script_path, const char *log_path, bool keep_log,
		 const struct lab_plot_outputs *outs, char *err, size_t errlen);
void lab_plot_outputs_free(struct lab_plot_outputs *outs);

/* Whether x values from lo to hi want a log axis. */
bool lab_plot_wants_logx(double lo, double hi);

#endif /* PFLAB_LAB_PLOT_H */
