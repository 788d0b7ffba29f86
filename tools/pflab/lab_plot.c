// SPDX-License-Identifier: MIT
/* gnuplot scripts for the lab's figures: see lab_plot.h. */
#include "lab_plot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab_proc.h"

/* A gnuplot single-quoted string: nothing is special in it but the quote,
 * which is doubled. */
static void gp_string(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', out);
		if (*s != '\n')
			fputc(*s, out);
	}
	fputc('\'', out);
}

bool lab_plot_wants_logx(double lo, double hi)
{
	return lo > 0 && hi / lo >= 16;
}

void lab_plot_begin(FILE *script)
{
	fputs("# Written by pflab: the figures of this directory. Run `gnuplot plots.gp`\n"
	      "# here to redraw them after editing.\n"
	      "# pngcairo draws antialiased lines; libgd's png is the fallback.\n"
	      "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
	      "\tpng_terminal = \"set terminal pngcairo size 1000,620 font 'Sans,11' noenhanced\"\n"
	      "} else {\n"
	      "\tpng_terminal = \"set terminal png size 1000,620 noenhanced\"\n"
	      "}\n"
	      "svg_terminal = \"set terminal svg size 1000,620 dynamic font 'Sans,11' noenhanced\"\n"
	      "# Okabe and Ito's colour-blind-safe palette; past eight lines, dashes differ too.\n"
	      "palette = '#0072B2 #D55E00 #009E73 #CC79A7 #E69F00 #56B4E9 #000000 #999999'\n",
	      script);
}

static int write_data(const struct lab_plot *p, char *err, size_t errlen)
{
	FILE *f = fopen(p->data_path, "w");

	if (!f) {
		snprintf(err, errlen, "%s: %s", p->data_path, strerror(errno));
		return -1;
	}
	fputs("# x", f);
	for (size_t s = 0; s < p->nseries; s++)
		fprintf(f, "\t%s", p->series[s].name);
	fputc('\n', f);
	for (size_t i = 0; i < p->nx; i++) {
		fprintf(f, "%.10g", p->x[i]);
		for (size_t s = 0; s < p->nseries; s++) {
			double y = p->series[s].y[i];

			if (isnan(y))
				fputs("\t?", f);
			else
				fprintf(f, "\t%.10g", y);
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", p->data_path, strerror(errno));
		return -1;
	}
	return 0;
}

static void plot_command(FILE *script, const struct lab_plot *p)
{
	fputs("plot ", script);
	for (size_t s = 0; s < p->nseries; s++) {
		if (s)
			fputs(", \\\n     ", script);
		if (s == 0)
			gp_string(script, p->data_path);
		else
			fputs("''", script);
		fprintf(script, " using 1:%zu title ", s + 2);
		gp_string(script, p->series[s].name);
		fprintf(script, " with %s lw 2 lc rgb word(palette, %zu) dt %zu", p->points ? "linespoints" : "lines",
			s % 8 + 1, s / 8 % 5 + 1);
		if (p->points)
			fprintf(script, " pt %zu ps 1.1", s % 13 + 1);
	}
	fputc('\n', script);
}

int lab_plot_add(FILE *script, const struct lab_plot *p, char *err, size_t errlen)
{
	if (write_data(p, err, errlen) != 0)
		return -1;
	fputs("\nreset\nset datafile missing '?'\nset title ", script);
	gp_string(script, p->title);
	fputs("\nset xlabel ", script);
	gp_string(script, p->xlabel);
	fputs("\nset ylabel ", script);
	gp_string(script, p->ylabel);
	fputs("\nset grid\nset key outside right top Left reverse box opaque width 1\n", script);
	/* A few measured sizes are labelled as they are; a long curve gets gnuplot's tics. */
	if (p->nx > 0 && p->nx <= 16) {
		fputs("set xtics (", script);
		for (size_t i = 0; i < p->nx; i++)
			fprintf(script, "%s%.10g", i ? ", " : "", p->x[i]);
		fputs(")\n", script);
	}
	if (p->logx) {
		double lo = INFINITY, hi = 0;

		for (size_t i = 0; i < p->nx; i++) {
			lo = fmin(lo, p->x[i]);
			hi = fmax(hi, p->x[i]);
		}
		/* Base 2 labels frame counts as they are usually chosen;
		 * over more than ten doublings base 10 keeps them legible. */
		fprintf(script, "set logscale x %d\n", hi / lo > 1024 ? 10 : 2);
		fprintf(script, "set xrange [%.10g:%.10g]\n", lo / 1.1, hi * 1.1);
	} else if (p->nx > 1) {
		double lo = p->x[0], hi = p->x[p->nx - 1], pad = (hi - lo) * 0.03;

		fprintf(script, "set xrange [%.10g:%.10g]\n", lo - pad, hi + pad);
	}
	/* A bound only where one was asked for; '*' lets gnuplot choose. */
	fputs("set yrange [", script);
	if (!isnan(p->ymin))
		fprintf(script, "%.10g", p->ymin);
	else
		fputc('*', script);
	fputc(':', script);
	if (!isnan(p->ymax))
		fprintf(script, "%.10g", p->ymax);
	else
		fputc('*', script);
	fputs("]\n", script);
	if (p->png_path) {
		fputs("eval(png_terminal)\nset output ", script);
		gp_string(script, p->png_path);
		fputc('\n', script);
		plot_command(script, p);
	}
	if (p->svg_path) {
		fputs("eval(svg_terminal)\nset output ", script);
		gp_string(script, p->svg_path);
		fputc('\n', script);
		plot_command(script, p);
	}
	fputs("set output\n", script);
	return 0;
}

int lab_plot_run(const char *script_path, const char *log_path, char *err, size_t errlen)
{
	char *argv[] = { "gnuplot", (char *)script_path, NULL };
	bool timed_out;
	int st = lab_run(argv, log_path, log_path, 600ull * 1000000000, &timed_out);

	if (st == 0)
		return 0;
	if (st == LAB_STATUS_NOEXEC || st < 0) {
		snprintf(err, errlen, "gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	} else if (timed_out) {
		snprintf(err, errlen, "gnuplot took more than 10 minutes");
	} else {
		char *log = lab_read_file(log_path, NULL);
		char line[200] = "";

		if (log)
			lab_last_line(log, line, sizeof(line));
		free(log);
		snprintf(err, errlen, "gnuplot failed (exit status %d): %s (see %s)", st, line, log_path);
	}
	return -1;
}
