// SPDX-License-Identifier: MIT
/* gnuplot scripts for the lab's figures: see lab_plot.h. */
#include "lab_plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab_proc.h"
#include "outfile.h"

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
	      "palette = '#0072B2 #D55E00 #009E73 #CC79A7 #E69F00 #56B4E9 #000000 #999999'\n"
	      "# pflab draws to temporary names (gnuplot -e \"pflab_suffix='...'\") and\n"
	      "# renames each figure once it is complete.\n"
	      "if (!exists(\"pflab_suffix\")) pflab_suffix = ''\n",
	      script);
}

static int write_data(const struct lab_plot *p, char *err, size_t errlen)
{
	struct outfile of;
	FILE *f = outfile_fopen(&of, p->data_path, err, errlen);

	if (!f)
		return -1;
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
	return outfile_fclose(&of, f, err, errlen);
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

static int add_output(struct lab_plot_outputs *outs, const char *path, char *err, size_t errlen)
{
	char **v = realloc(outs->path, sizeof(*v) * (outs->n + 1));

	if (!v || !(v[outs->n] = strdup(path))) {
		if (v)
			outs->path = v;
		snprintf(err, errlen, "%.400s: out of memory", path);
		return -1;
	}
	outs->path = v;
	outs->n++;
	return 0;
}

static void set_output(FILE *script, const char *path)
{
	fputs("set output ", script);
	gp_string(script, path);
	fputs(".pflab_suffix\n", script);
}

int lab_plot_add(FILE *script, struct lab_plot_outputs *outs, const struct lab_plot *p,
		 char *err, size_t errlen)
{
	if (write_data(p, err, errlen) != 0)
		return -1;
	if ((p->png_path && add_output(outs, p->png_path, err, errlen) != 0) ||
	    (p->svg_path && add_output(outs, p->svg_path, err, errlen) != 0))
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
		fputs("eval(png_terminal)\n", script);
		set_output(script, p->png_path);
		plot_command(script, p);
	}
	if (p->svg_path) {
		fputs("eval(svg_terminal)\n", script);
		set_output(script, p->svg_path);
		plot_command(script, p);
	}
	fputs("set output\n", script);
	return 0;
}

void lab_plot_outputs_free(struct lab_plot_outputs *outs)
{
	for (size_t i = 0; i < outs->n; i++)
		free(outs->path[i]);
	free(outs->path);
	*outs = (struct lab_plot_outputs){ 0 };
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/*
 * Whether gnuplot finished the figure at path: a PNG's last chunk is IEND
 * (zero length, the type, its CRC: 12 bytes), an SVG ends with </svg> and
 * white space. Any other kind is taken as complete when not empty.
 */
static bool figure_complete(const char *path, const char *name)
{
	static const unsigned char iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D',
						0xae, 0x42, 0x60, 0x82 };
	unsigned char tail[64];
	size_t n = 0;
	long size;
	FILE *f = fopen(path, "rb");

	if (!f)
		return false;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
		long from = size > (long)sizeof(tail) ? size - (long)sizeof(tail) : 0;

		if (fseek(f, from, SEEK_SET) == 0)
			n = fread(tail, 1, sizeof(tail), f);
	}
	fclose(f);
	if (ends_with(name, ".png"))
		return n >= sizeof(iend) && memcmp(tail + n - sizeof(iend), iend, sizeof(iend)) == 0;
	if (ends_with(name, ".svg")) {
		while (n && (tail[n - 1] == '\n' || tail[n - 1] == ' ' || tail[n - 1] == '\r'))
			n--;
		return n >= 6 && memcmp(tail + n - 6, "</svg>", 6) == 0;
	}
	return n > 0;
}

static void temp_name(char *buf, size_t len, const char *path, const char *suffix)
{
	snprintf(buf, len, "%s%s", path, suffix);
}

/* Rename every figure into place if all are complete; else remove them all. */
static int finish_outputs(const struct lab_plot_outputs *outs, const char *suffix, bool ok,
			  char *err, size_t errlen)
{
	char tmp[4200];

	for (size_t i = 0; ok && i < outs->n; i++) {
		temp_name(tmp, sizeof(tmp), outs->path[i], suffix);
		if (!figure_complete(tmp, outs->path[i])) {
			snprintf(err, errlen, "%.400s: gnuplot left the figure incomplete "
				 "(a full disk, or an unwritable directory?)", outs->path[i]);
			ok = false;
		}
	}
	for (size_t i = 0; i < outs->n; i++) {
		temp_name(tmp, sizeof(tmp), outs->path[i], suffix);
		if (ok && rename(tmp, outs->path[i]) != 0) {
			snprintf(err, errlen, "%.400s: %s", outs->path[i], strerror(errno));
			ok = false;
		}
		if (!ok)
			unlink(tmp);
	}
	return ok ? 0 : -1;
}

int lab_plot_run(const char *script_path, const char *log_path, bool keep_log,
		 const struct lab_plot_outputs *outs, char *err, size_t errlen)
{
	char suffix[64], setting[128];
	char *argv[] = { "gnuplot", "-e", setting, (char *)script_path, NULL };
	bool timed_out;
	int st;

	snprintf(suffix, sizeof(suffix), ".pflab-%ld.tmp", (long)getpid());
	snprintf(setting, sizeof(setting), "pflab_suffix='%s'", suffix);
	st = lab_run(argv, log_path, log_path, 600ull * 1000000000, &timed_out);
	if (st == 0)
		return finish_outputs(outs, suffix, true, err, errlen);
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
		if (keep_log)
			snprintf(err, errlen, "gnuplot failed (exit status %d): %s (see %s)", st, line,
				 log_path);
		else
			snprintf(err, errlen, "gnuplot failed (exit status %d): %s", st, line);
	}
	finish_outputs(outs, suffix, false, err, errlen);
	return -1;
}
